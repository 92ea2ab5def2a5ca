//! Storage drivers as the unprivileged user: the kernel overlay root
//! (merged layers, whiteouts of lower layers, writes in the container's
//! upper layer, the store left untouched, many layers), `--storage-driver
//! vfs`, the driver in coracle.toml, the cached probe, and removal of a
//! writable layer with files of the container's users.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use coracle::image::digest::Digest;
use serde_json::json;

use common::*;

/// A tar of `(path, content)` regular files (0644, root-owned).
fn files_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (p, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, p, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// The busybox root as a layer tar (root-owned), plus `extra` files.
fn root_tar(env: &Env, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let root = env.dir.join("image-root");
    if !root.exists() {
        env.build_rootfs(&root);
    }
    let mut paths = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                stack.push(p.clone());
            }
            paths.push(p);
        }
    }
    paths.sort();
    let mut b = tar::Builder::new(Vec::new());
    for p in paths {
        let rel = p.strip_prefix(&root).unwrap();
        let md = std::fs::symlink_metadata(&p).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_metadata(&md);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        if md.file_type().is_symlink() {
            h.set_size(0);
            b.append_link(&mut h, rel, std::fs::read_link(&p).unwrap())
                .unwrap();
        } else if md.is_dir() {
            h.set_size(0);
            b.append_data(&mut h, rel, std::io::empty()).unwrap();
        } else {
            b.append_data(&mut h, rel, &std::fs::read(&p).unwrap()[..])
                .unwrap();
        }
    }
    let mut tar = b.into_inner().unwrap();
    // The two zero blocks at the end go after the extra files.
    tar.truncate(tar.len() - 1024);
    let more = files_tar(extra);
    tar.extend_from_slice(&more);
    tar
}

/// Loads a docker-archive of the layer tars `layers` (bottom first) as `tag`.
fn load_layers(env: &Env, tag: &str, layers: &[Vec<u8>]) {
    let diff_ids: Vec<String> = layers.iter().map(|l| Digest::of(l).to_string()).collect();
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let names: Vec<String> = layers
        .iter()
        .map(|l| format!("{}/layer.tar", Digest::of(l).hex()))
        .collect();
    let cfg_name = format!("{}.json", Digest::of(&config).hex());
    let manifest = serde_json::to_vec(&json!([{
        "Config": cfg_name,
        "RepoTags": [tag],
        "Layers": names,
    }]))
    .unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |p: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, p, data).unwrap();
    };
    for (n, l) in names.iter().zip(layers) {
        add(n, l);
    }
    add(&cfg_name, &config);
    add("manifest.json", &manifest);
    let ar = b.into_inner().unwrap();
    let out = env.coracle(["load"]).stdin(ar).run();
    out.ok();
}

/// Three layers: the busybox root with /data/{a,b} and /etc/gone; then
/// /etc/gone deleted, /data made opaque with /data/n; then /l3.
fn layered_image(env: &Env) -> String {
    let l0 = root_tar(
        env,
        &[
            ("data/a", b"a"),
            ("data/b", b"b"),
            ("etc/gone", b"gone"),
            ("keep/k", b"k"),
        ],
    );
    let l1 = files_tar(&[
        ("etc/.wh.gone", b""),
        ("data/.wh..wh..opq", b""),
        ("data/n", b"n"),
    ]);
    let l2 = files_tar(&[("l3", b"three")]);
    load_layers(env, "layered:1", &[l0, l1, l2]);
    "layered:1".into()
}

fn graph_driver(env: &Env, name: &str) -> serde_json::Value {
    let out = env
        .coracle(["inspect", "-f", "{{json .GraphDriver}}", name])
        .run();
    serde_json::from_str(out.ok()).unwrap()
}

/// Every entry under `dir`: (type, mode, size, mtime, content) by path,
/// so that any change to the store shows.
fn snapshot(dir: &Path) -> Snapshot {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let md = std::fs::symlink_metadata(&p).unwrap();
            let data = if md.is_file() {
                std::fs::read(&p).unwrap()
            } else if md.file_type().is_symlink() {
                std::fs::read_link(&p)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else {
                Vec::new()
            };
            if md.is_dir() {
                stack.push(p.clone());
            }
            out.insert(p, (md.mode(), md.size(), md.mtime(), data));
        }
    }
    out
}

type Snapshot = BTreeMap<PathBuf, (u32, u64, i64, Vec<u8>)>;

/// The layer directories (the top level) of a snapshot of `layers/`.
fn lowers_of(s: &Snapshot) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = s
        .keys()
        .filter_map(|p| p.parent().map(|d| (d, p)))
        .filter(|(d, _)| d.ends_with("layers"))
        .map(|(_, p)| p.clone())
        .collect();
    v.dedup();
    v
}

fn assert_same(before: &Snapshot, after: &Snapshot) {
    let changed: Vec<&PathBuf> = before
        .iter()
        .filter(|(p, v)| after.get(*p) != Some(v))
        .map(|(p, _)| p)
        .chain(after.keys().filter(|p| !before.contains_key(*p)))
        .collect();
    assert!(
        changed.is_empty(),
        "the store's layers changed: {changed:?}"
    );
}

fn use_config(env: &Env, text: &str) {
    let dir = env.config.join("coracle");
    env.mkdir_owned(&dir, 0o755);
    env.write_owned(&dir.join("coracle.toml"), text);
}

#[test]
fn overlay_root_merges_the_layers_and_writes_to_the_upper_layer() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let image = layered_image(&env);
    let store = env.data.join("coracle/storage");
    let before = snapshot(&store.join("layers"));
    let out = env
        .coracle([
            "--storage-driver",
            "overlay",
            "run",
            "--name",
            "o",
            &image,
            "sh",
            "-c",
            "grep -E '^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / ' /proc/self/mountinfo; ls /data; cat /l3 /keep/k; echo; \
             test -e /etc/gone || echo gone-is-gone; \
             echo w > /w; rm /keep/k; rm -r /data; echo more >> /l3",
        ])
        .run();
    let text = out.ok().to_string();
    let mountinfo = text.lines().next().unwrap();
    assert!(
        mountinfo.contains(" - overlay ") && mountinfo.contains("userxattr"),
        "the root is a user-namespace overlay\n{out}"
    );
    assert!(
        text.contains("\nn\nthreek\ngone-is-gone\n"),
        "the layers merged: opaque /data, deleted /etc/gone\n{out}"
    );

    // The container's writes are in its upper layer, deletions of lower
    // files are whiteouts there; the layers in the store are untouched.
    let g = graph_driver(&env, "o");
    assert_eq!(g["Name"], "overlay", "{g}");
    let upper = PathBuf::from(g["Data"]["UpperDir"].as_str().unwrap());
    let lowers: Vec<&str> = g["Data"]["LowerDir"].as_str().unwrap().split(':').collect();
    // The layer with whiteouts sits between its two small overlay halves.
    assert_eq!(lowers.len(), 5, "{g}");
    assert!(
        lowers[1].ends_with("/above") && lowers[3].ends_with("/below"),
        "{g}"
    );
    assert!(g["Data"]["WorkDir"].as_str().unwrap().ends_with("/work"));
    assert!(g["Data"]["MergedDir"]
        .as_str()
        .unwrap()
        .ends_with("/merged"));
    assert_eq!(std::fs::read(upper.join("w")).unwrap(), b"w\n");
    assert_eq!(std::fs::read(upper.join("l3")).unwrap(), b"threemore\n");
    let wh = std::fs::symlink_metadata(upper.join("keep/k")).unwrap();
    assert!(
        wh.file_type().is_char_device() && wh.rdev() == 0,
        "a whiteout in overlay's form"
    );
    assert_eq!(snapshot(&store.join("layers")), before, "the store changed");

    let out = env.coracle(["diff", "o"]).run();
    let lines = out.lines();
    for want in ["A /w", "C /l3", "D /keep/k", "D /data"] {
        assert!(lines.contains(&want.to_string()), "{want} missing\n{out}");
    }
    // A commit holds the changes as OCI whiteouts and runs with them.
    env.coracle(["commit", "o", "o:2"]).run().ok();
    let out = env
        .coracle([
            "run",
            "--rm",
            "o:2",
            "sh",
            "-c",
            "cat /w /l3; ls /keep; test -e /data || echo no-data",
        ])
        .run();
    assert_eq!(out.ok(), "w\nthreemore\nno-data\n", "{out}");
    let saved = env.home.join("o2.tar");
    env.coracle(["save", "-o", saved.to_str().unwrap(), "o:2"])
        .run()
        .ok();
    let mut outer = tar::Archive::new(std::fs::File::open(&saved).unwrap());
    let mut names = Vec::new();
    for e in outer.entries().unwrap() {
        let mut e = e.unwrap();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        if let Ok(entries) = tar::Archive::new(&data[..]).entries() {
            for i in entries.flatten() {
                names.push(i.path().unwrap().display().to_string());
            }
        }
    }
    assert!(names.iter().any(|n| n == "keep/.wh.k"), "{names:?}");
    assert!(names.iter().any(|n| n == ".wh.data"), "{names:?}");
    // (The commit added a layer; the image's own are as they were.)
    let after = snapshot(&store.join("layers"))
        .into_iter()
        .filter(|(p, _)| lowers_of(&before).iter().any(|l| p.starts_with(l)))
        .collect();
    assert_same(&before, &after);

    // Removing the container removes its writable layer.
    let dir = upper.parent().unwrap().to_path_buf();
    env.coracle(["rm", "o"]).run().ok();
    assert!(!dir.exists(), "{} is left", dir.display());
}

#[test]
fn many_layers_mount_beyond_the_mount_option_size() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    // 70 layer paths in the store are far more than mount(2)'s one page
    // of options holds.
    let mut layers = vec![root_tar(&env, &[])];
    for i in 1..70 {
        let name = format!("f{i}");
        layers.push(files_tar(&[(&name, name.as_bytes())]));
    }
    load_layers(&env, "many:1", &layers);
    let out = env
        .coracle([
            "--storage-driver",
            "overlay",
            "run",
            "--rm",
            "many:1",
            "sh",
            "-c",
            "cat /f1 /f35 /f69",
        ])
        .run();
    assert_eq!(out.ok(), "f1f35f69", "{out}");
}

#[test]
fn vfs_is_chosen_by_flag_or_config_and_bad_names_are_refused() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let image = layered_image(&env);
    use_config(&env, "storage_driver = \"overlay\"\n");
    // The flag beats the config file.
    let out = env
        .coracle([
            "run",
            "--storage-driver",
            "vfs",
            "--name",
            "v",
            &image,
            "sh",
            "-c",
            "grep -E '^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / ' /proc/self/mountinfo; ls /data; echo x > /x",
        ])
        .run();
    let text = out.ok();
    assert!(!text.contains(" - overlay "), "{out}");
    assert!(text.ends_with("\nn\n"), "{out}");
    let g = graph_driver(&env, "v");
    assert_eq!(g["Name"], "vfs", "{g}");
    let dir = env
        .coracle(["inspect", "-f", "{{.Id}}", "v"])
        .run()
        .ok()
        .trim()
        .to_string();
    let cdir = env.data.join("coracle/containers").join(dir);
    assert_eq!(std::fs::read(cdir.join("rootfs/x")).unwrap(), b"x\n");
    assert!(!cdir.join("upper").exists());
    // The driver stays the container's for its life: a start uses it.
    env.coracle(["start", "-a", "v"]).run().ok();
    assert_eq!(graph_driver(&env, "v")["Name"], "vfs");
    let out = env.coracle(["diff", "v"]).run();
    assert!(out.lines().contains(&"A /x".to_string()), "{out}");

    // The config file alone.
    use_config(&env, "storage_driver = \"vfs\"\n");
    env.coracle(["create", "--name", "cv", &image]).run().ok();
    assert_eq!(graph_driver(&env, "cv")["Name"], "vfs");
    use_config(&env, "storage_driver = \"overlay\"\n");
    env.coracle(["create", "--name", "co", &image]).run().ok();
    assert_eq!(graph_driver(&env, "co")["Name"], "overlay");
    env.coracle(["start", "-a", "co"]).run().ok();

    use_config(&env, "storage_driver = \"zfs\"\n");
    let out = env.coracle(["run", "--rm", &image, "true"]).run();
    assert!(
        out.expect_code(125)
            .stderr
            .contains("unknown storage_driver \"zfs\""),
        "{out}"
    );
    let out = env
        .coracle(["--storage-driver", "zfs", "run", "--rm", &image, "true"])
        .run();
    assert!(out.expect_code(125).stderr.contains("zfs"), "{out}");
}

#[test]
fn the_probe_is_cached_per_kernel_release() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let image = layered_image(&env);
    env.coracle(["run", "--name", "first", &image, "true"])
        .run()
        .ok();
    let cache = env.data.join("coracle/storage/storage-probe.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(v["kernel"], release.trim(), "{v}");
    assert_eq!(
        v["overlay"], true,
        "this kernel allows overlay in a user namespace: {v}"
    );
    assert_eq!(graph_driver(&env, "first")["Name"], "overlay");

    // A cached "no" for this kernel is believed: vfs by default, and an
    // overlay asked for is refused with the probe's reason.
    let no = json!({"kernel": release.trim(), "overlay": false, "reason": "the test says no"});
    env.write_owned(&cache, serde_json::to_vec(&no).unwrap());
    env.coracle(["run", "--name", "second", &image, "true"])
        .run()
        .ok();
    assert_eq!(graph_driver(&env, "second")["Name"], "vfs");
    let out = env
        .coracle(["--storage-driver", "overlay", "run", "--rm", &image, "true"])
        .run();
    assert!(
        out.expect_code(125).stderr.contains("the test says no")
            && out.stderr.contains("--storage-driver vfs"),
        "{out}"
    );
    // A cache from another kernel is probed again.
    let old = json!({"kernel": "0.0.0-old", "overlay": false, "reason": "old kernel"});
    env.write_owned(&cache, serde_json::to_vec(&old).unwrap());
    env.coracle(["run", "--name", "third", &image, "true"])
        .run()
        .ok();
    assert_eq!(graph_driver(&env, "third")["Name"], "overlay");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    assert_eq!(v["kernel"], release.trim(), "{v}");
}

#[test]
fn rm_removes_a_writable_layer_with_files_of_the_containers_users() {
    let Some(env) = Env::new(Mode::Full) else {
        return;
    };
    let _c = Cleanup(&env);
    let image = layered_image(&env);
    for driver in ["overlay", "vfs"] {
        let name = format!("u-{driver}");
        env.coracle([
            "--storage-driver",
            driver,
            "run",
            "--name",
            &name,
            &image,
            "sh",
            "-c",
            "mkdir -p /home/u/d; echo x > /home/u/d/f; chmod 500 /home/u/d; \
             chown -R 1000:1000 /home/u; chmod 700 /home/u; mkdir /z; chmod 0 /z; \
             rm /keep/k; mknod /fifo p; chown 7 /fifo",
        ])
        .run()
        .ok();
        let id = env
            .coracle(["inspect", "-f", "{{.Id}}", &name])
            .run()
            .ok()
            .trim()
            .to_string();
        let dir = env.data.join("coracle/containers").join(&id);
        assert!(dir.exists());
        let out = env.coracle(["rm", &name]).run();
        out.ok();
        assert!(!dir.exists(), "{driver}: {} is left\n{out}", dir.display());
        // And a running one with rm -f.
        env.coracle([
            "--storage-driver",
            driver,
            "run",
            "-d",
            "--name",
            &name,
            &image,
            "sh",
            "-c",
            "mkdir -p /home/u/d; chown -R 1000 /home/u; chmod 700 /home/u; sleep 100",
        ])
        .run()
        .ok();
        let id = env
            .coracle(["inspect", "-f", "{{.Id}}", &name])
            .run()
            .ok()
            .trim()
            .to_string();
        let dir = env.data.join("coracle/containers").join(&id);
        assert!(wait_until(
            || dir.join("upper/home/u/d").exists() || dir.join("rootfs/home/u/d").exists()
        ));
        env.coracle(["rm", "-f", &name]).run().ok();
        assert!(!dir.exists(), "{driver}: {} is left", dir.display());
    }
}

/// A layer of files with several owners, as a registry image has them:
/// `/owned/a` 1000:100 0640, `/owned/www/` 33:33 0750, `/owned/www/i`
/// 33:33 0644.
fn owners_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |p: &str, kind: tar::EntryType, uid: u64, gid: u64, mode: u32, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_mode(mode);
        h.set_mtime(1_700_000_000);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, p, data).unwrap();
    };
    add("owned/", tar::EntryType::Directory, 0, 0, 0o755, b"");
    add("owned/a", tar::EntryType::Regular, 1000, 100, 0o640, b"a\n");
    add("owned/www/", tar::EntryType::Directory, 33, 33, 0o750, b"");
    add(
        "owned/www/i",
        tar::EntryType::Regular,
        33,
        33,
        0o644,
        b"i\n",
    );
    b.into_inner().unwrap()
}

fn multi_owner_image(env: &Env) -> String {
    load_layers(env, "owners:1", &[root_tar(env, &[]), owners_tar()]);
    "owners:1".into()
}

/// Processes running a FUSE overlay daemon for a directory under `dir`.
fn fuse_daemons_under(dir: &Path) -> Vec<i32> {
    let want = dir.to_string_lossy().into_owned();
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(c) = std::fs::read(e.path().join("cmdline")) {
            let c = String::from_utf8_lossy(&c).replace('\0', " ");
            if c.contains(" fuse-overlay ") && c.contains(&want) {
                pids.push(pid);
            }
        }
    }
    pids
}

fn container_path(env: &Env, name: &str) -> PathBuf {
    let id = env.inspect_field(name, "{{.Id}}");
    env.data.join("coracle/containers").join(id)
}

#[test]
fn fuse_overlay_root_merges_the_layers_in_both_id_modes_and_restarts() {
    for mode in [Mode::Full, Mode::Single] {
        let Some(env) = Env::new(mode) else {
            return;
        };
        let _c = Cleanup(&env);
        let image = layered_image(&env);
        let out = env
            .coracle([
                "--storage-driver",
                "fuse-overlay",
                "run",
                "--name",
                "f",
                &image,
                "sh",
                "-c",
                "grep -E '^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / ' /proc/self/mountinfo; ls /data; cat /l3 /keep/k; echo; \
                 test -e /etc/gone || echo gone-is-gone; \
                 echo w > /w; rm /keep/k; echo more >> /l3",
            ])
            .run();
        let text = out.ok().to_string();
        let mountinfo = text.lines().next().unwrap();
        assert!(
            mountinfo.contains(" - fuse.coracle-overlay "),
            "{mode:?}: the root is coracle's FUSE overlay\n{out}"
        );
        assert!(
            text.contains("\nn\nthreek\ngone-is-gone\n"),
            "{mode:?}: the layers merged: opaque /data, deleted /etc/gone\n{out}"
        );
        let g = graph_driver(&env, "f");
        assert_eq!(g["Name"], "fuse-overlay", "{g}");
        let upper = PathBuf::from(g["Data"]["UpperDir"].as_str().unwrap());
        assert_eq!(std::fs::read(upper.join("w")).unwrap(), b"w\n");
        assert_eq!(std::fs::read(upper.join("l3")).unwrap(), b"threemore\n");
        let wh = std::fs::symlink_metadata(upper.join("keep/k")).unwrap();
        assert!(
            wh.file_type().is_char_device() && wh.rdev() == 0,
            "a 0/0 whiteout"
        );
        let dir = container_path(&env, "f");
        assert!(
            fuse_daemons_under(&dir).is_empty(),
            "{mode:?}: the daemon ended with the container"
        );
        // A start mounts it again (a new daemon) over the same upper.
        let out = env.coracle(["start", "-a", "f"]).run();
        let text = out.ok().to_string();
        assert!(
            text.contains(" - fuse.coracle-overlay "),
            "{mode:?}: started again on the FUSE overlay\n{out}"
        );
        let out = env
            .coracle([
                "run",
                "--rm",
                "--storage-driver",
                "fuse-overlay",
                &image,
                "true",
            ])
            .run();
        out.ok();
        let out = env.coracle(["diff", "f"]).run();
        let d = out.ok().to_string();
        assert!(
            d.contains("A /w") && d.contains("D /keep/k") && d.contains("C /l3"),
            "{mode:?}: diff of the stopped container\n{out}"
        );
        assert!(fuse_daemons_under(&dir).is_empty(), "{mode:?}");
        assert!(
            wait_until(|| fuse_daemons_under(&env.data).is_empty()),
            "{mode:?}: no daemon outlives its container: {:?}",
            fuse_daemons_under(&env.data)
        );
    }
}

#[test]
fn multi_owner_images_use_the_fuse_overlay_and_keep_their_owners() {
    for mode in [Mode::Full, Mode::Single] {
        let Some(env) = Env::new(mode) else {
            return;
        };
        let _c = Cleanup(&env);
        let image = multi_owner_image(&env);
        let out = env
            .coracle([
                "run",
                "--name",
                "m",
                &image,
                "stat",
                "-c",
                "%n %u:%g %a",
                "/owned/a",
                "/owned/www",
                "/owned/www/i",
            ])
            .run();
        let text = out.ok().to_string();
        // Without subordinate ids the namespace maps root alone: other
        // owners cannot be shown (the kernel has no id for them) and show
        // as root; their modes are the image's either way.
        let (a, www) = match mode {
            Mode::Single => ("0:0", "0:0"),
            _ => ("1000:100", "33:33"),
        };
        assert_eq!(
            text,
            format!("/owned/a {a} 640\n/owned/www {www} 750\n/owned/www/i {www} 644\n"),
            "{mode:?}\n{out}"
        );
        assert_eq!(graph_driver(&env, "m")["Name"], "fuse-overlay", "{mode:?}");

        // A change of owner (a mapped one) or mode inside persists into a
        // commit and the container made from it; the recorded owners the
        // container did not touch go along.
        let script = match mode {
            Mode::Single => "chmod 604 /owned/a",
            _ => "chown 5:5 /owned/a && chmod 604 /owned/a",
        };
        let out = env
            .coracle(["run", "--name", "c", &image, "sh", "-c", script])
            .run();
        out.ok();
        env.coracle(["commit", "c", "owners:2"]).run().ok();
        let out = env
            .coracle([
                "run", "--rm", "owners:2", "stat", "-c", "%u:%g %a", "/owned/a",
            ])
            .run();
        let want = match mode {
            Mode::Single => "0:0 604\n",
            _ => "5:5 604\n",
        };
        assert_eq!(out.ok(), want, "{mode:?}\n{out}");
        // The tar of the stopped container has the recorded owners.
        let outdir = env.dir.join(format!("export-{mode:?}"));
        env.mkdir_owned(&outdir, 0o755);
        let tarfile = outdir.join("c.tar");
        let out = env
            .coracle(["export", "-o", tarfile.to_str().unwrap(), "c"])
            .run();
        out.ok();
        let mut ar = tar::Archive::new(std::fs::File::open(&tarfile).unwrap());
        let mut owners = BTreeMap::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let p = e.path().unwrap().to_string_lossy().into_owned();
            let h = e.header();
            owners.insert(
                p.trim_end_matches('/').to_string(),
                (
                    h.uid().unwrap(),
                    h.gid().unwrap(),
                    h.mode().unwrap() & 0o7777,
                ),
            );
        }
        let a_owner = match mode {
            Mode::Single => (1000, 100, 0o604),
            _ => (5, 5, 0o604),
        };
        assert_eq!(
            owners.get("owned/a"),
            Some(&a_owner),
            "{mode:?}: {owners:?}"
        );
        assert_eq!(owners.get("owned/www"), Some(&(33, 33, 0o750)), "{mode:?}");
        // A storage driver asked for still wins over the rule.
        let out = env
            .coracle([
                "--storage-driver",
                "vfs",
                "run",
                "--name",
                "v",
                &image,
                "true",
            ])
            .run();
        out.ok();
        assert_eq!(graph_driver(&env, "v")["Name"], "vfs");
    }
}

#[test]
fn a_killed_fuse_daemon_fails_the_container_and_rm_leaves_nothing() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let image = layered_image(&env);
    let out = env
        .coracle([
            "--storage-driver",
            "fuse-overlay",
            "run",
            "-d",
            "--name",
            "k",
            &image,
            "sh",
            "-c",
            "i=0; while echo $i > /new$i; do i=$((i+1)); sleep 0.1; done; exit 3",
        ])
        .run();
    out.ok();
    let dir = container_path(&env, "k");
    let daemons = fuse_daemons_under(&dir);
    assert_eq!(daemons.len(), 1, "one daemon: {daemons:?}");
    // Out of the container's pid namespace: its pid 1 is its own.
    let pid1 = env.inspect_field("k", "{{.State.Pid}}");
    assert_ne!(pid1, daemons[0].to_string());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemons[0]),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(
        wait_until(|| env.inspect_field("k", "{{.State.Status}}") == "exited"),
        "the container ends when its root goes"
    );
    // Its processes fail: ENOTCONN for what is not cached, SIGBUS for
    // pages of mapped files (the shell's own) not in memory.
    let code = env.inspect_field("k", "{{.State.ExitCode}}");
    assert!(code == "3" || code == "135", "exit code {code}");
    env.coracle(["rm", "-f", "k"]).run().ok();
    assert!(!dir.exists());

    // rm -f of a running one: no daemon is left.
    let out = env
        .coracle([
            "--storage-driver",
            "fuse-overlay",
            "run",
            "-d",
            "--name",
            "r",
            &image,
            "sleep",
            "1000",
        ])
        .run();
    out.ok();
    let dir = container_path(&env, "r");
    assert_eq!(fuse_daemons_under(&dir).len(), 1);
    // `exec` joins the container's mount namespace, where the root is.
    let out = env.coracle(["exec", "r", "cat", "/l3"]).run();
    assert_eq!(out.ok(), "three", "{out}");
    env.coracle(["rm", "-f", "r"]).run().ok();
    assert!(
        wait_until(|| fuse_daemons_under(&dir).is_empty()),
        "no daemon is left: {:?}",
        fuse_daemons_under(&dir)
    );

    // A crash of the monitor (the shim, by then) takes the container and
    // its daemon along.
    let out = env
        .coracle([
            "--storage-driver",
            "fuse-overlay",
            "run",
            "-d",
            "--name",
            "m",
            &image,
            "sleep",
            "1000",
        ])
        .run();
    out.ok();
    let dir = container_path(&env, "m");
    assert_eq!(fuse_daemons_under(&dir).len(), 1);
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("state.json")).unwrap()).unwrap();
    let monitor = state["monitor_pid"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(monitor),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(
        wait_until(|| fuse_daemons_under(&dir).is_empty()),
        "no daemon outlives a killed monitor: {:?}",
        fuse_daemons_under(&dir)
    );
    env.coracle(["rm", "-f", "m"]).run().ok();

    // Restarts get a daemon each, over the same upper layer.
    let out = env
        .coracle([
            "--storage-driver",
            "fuse-overlay",
            "run",
            "-d",
            "--restart",
            "on-failure:2",
            "--name",
            "re",
            &image,
            "sh",
            "-c",
            "echo run >> /count; exit 1",
        ])
        .run();
    out.ok();
    assert!(
        wait_until(|| env.inspect_field("re", "{{.RestartCount}}") == "2"
            && env.inspect_field("re", "{{.State.Status}}") == "exited"),
        "restarted twice"
    );
    let dir = container_path(&env, "re");
    let g = graph_driver(&env, "re");
    let upper = PathBuf::from(g["Data"]["UpperDir"].as_str().unwrap());
    assert_eq!(
        std::fs::read(upper.join("count")).unwrap(),
        b"run\nrun\nrun\n"
    );
    assert!(wait_until(|| fuse_daemons_under(&dir).is_empty()));
}
