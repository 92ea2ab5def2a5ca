//! A container's file system from outside, as the unprivileged user:
//! `diff`, `commit`, `export` and `cp` (both directions, tar streams, the
//! symlink-escape attacks, volumes).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use common::*;

const MTIME: u64 = 1_700_000_000;

/// The storage drivers every test here runs with.
#[derive(Clone, Copy)]
enum Driver {
    Overlay,
    Vfs,
    FuseOverlay,
}

/// Makes `driver` the test user's default (`coracle.toml`).
fn use_driver(env: &Env, driver: Driver) {
    let dir = env.config.join("coracle");
    env.mkdir_owned(&dir, 0o755);
    let name = match driver {
        Driver::Overlay => "overlay",
        Driver::Vfs => "vfs",
        Driver::FuseOverlay => "fuse-overlay",
    };
    env.write_owned(
        &dir.join("coracle.toml"),
        format!("storage_driver = \"{name}\"\n"),
    );
}

/// A container's files as the host sees them: its `rootfs/` copy (vfs),
/// or its upper layer over its lower layers (overlay, from `inspect`'s
/// GraphDriver), for checking what a command wrote.
struct RootFiles {
    dirs: Vec<PathBuf>,
}

impl RootFiles {
    fn of(env: &Env, name: &str) -> Self {
        let out = env
            .coracle(["inspect", "-f", "{{json .GraphDriver}}", name])
            .run();
        let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
        let dirs = match v["Name"].as_str() {
            Some("overlay" | "fuse-overlay") => {
                std::iter::once(v["Data"]["UpperDir"].as_str().unwrap())
                    .chain(v["Data"]["LowerDir"].as_str().unwrap().split(':'))
                    .map(PathBuf::from)
                    .collect()
            }
            _ => vec![container_dir(env, name).join("rootfs")],
        };
        Self { dirs }
    }

    /// Where `rel` is: the first layer that has it (the upper one when none).
    fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.dirs
            .iter()
            .map(|d| d.join(rel.as_ref()))
            .find(|p| std::fs::symlink_metadata(p).is_ok())
            .unwrap_or_else(|| self.dirs[0].join(rel.as_ref()))
    }
}

macro_rules! with_both_drivers {
    ($($name:ident),* $(,)?) => {
        mod overlay {
            $(#[test] fn $name() { super::$name(super::Driver::Overlay) })*
        }
        mod vfs {
            $(#[test] fn $name() { super::$name(super::Driver::Vfs) })*
        }
        mod fuse_overlay {
            $(#[test] fn $name() { super::$name(super::Driver::FuseOverlay) })*
        }
    };
}

with_both_drivers!(
    diff_lists_added_changed_and_deleted_paths,
    commit_makes_an_image_that_runs_with_the_change,
    export_writes_the_root_with_its_owners_and_without_volumes,
    cp_copies_files_directories_and_tar_streams_both_ways,
    cp_never_follows_a_container_symlink_out_of_the_container,
    cp_into_a_volume_path_lands_in_the_volume,
    a_running_container_is_diffed_copied_and_committed,
    commit_keeps_an_owner_the_container_set_with_chown,
);

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        out.push(p.clone());
        if std::fs::symlink_metadata(&p).unwrap().is_dir() {
            walk(&p, out);
        }
    }
}

/// Imports `base:1`: the busybox root plus /data/same ("abc"), /data/ref
/// (same mtime) and /opt/owned (owned by 1000:100, mode 0640).
fn import_base(env: &Env) -> String {
    let root = env.dir.join("image-root");
    env.build_rootfs(&root);
    let mut b = tar::Builder::new(Vec::new());
    let mut paths = Vec::new();
    walk(&root, &mut paths);
    paths.sort();
    for p in paths {
        let rel = p.strip_prefix(&root).unwrap();
        let md = std::fs::symlink_metadata(&p).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_metadata(&md);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(MTIME);
        if md.file_type().is_symlink() {
            h.set_size(0);
            b.append_link(&mut h, rel, std::fs::read_link(&p).unwrap())
                .unwrap();
        } else if md.is_dir() {
            h.set_size(0);
            b.append_data(&mut h, rel, std::io::empty()).unwrap();
        } else {
            let data = std::fs::read(&p).unwrap();
            b.append_data(&mut h, rel, &data[..]).unwrap();
        }
    }
    let mut add = |path: &str, kind: tar::EntryType, mode: u32, owner: (u64, u64), data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(owner.0);
        h.set_gid(owner.1);
        h.set_mtime(MTIME);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path, data).unwrap();
    };
    let file = tar::EntryType::Regular;
    add("data/", tar::EntryType::Directory, 0o755, (0, 0), b"");
    add("data/same", file, 0o644, (0, 0), b"abc");
    add("data/ref", file, 0o644, (0, 0), b"ref");
    add("opt/", tar::EntryType::Directory, 0o755, (0, 0), b"");
    add("opt/owned", file, 0o640, (1000, 100), b"mine\n");
    let tar = b.into_inner().unwrap();
    let out = env.coracle(["import", "-", "base:1"]).stdin(tar).run();
    assert!(out.ok().trim().starts_with("sha256:"), "{out}");
    "base:1".to_string()
}

fn container_dir(env: &Env, name: &str) -> PathBuf {
    let id = env
        .coracle(["inspect", "-f", "{{.Id}}", name])
        .run()
        .ok()
        .trim()
        .to_string();
    env.data.join("coracle/containers").join(id)
}

/// Members of a tar: (path, uid, gid, content).
fn members(tar: &[u8]) -> Vec<(String, u64, u64, Vec<u8>)> {
    let mut a = tar::Archive::new(tar);
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let p = e.path().unwrap().display().to_string();
            let (u, g) = (e.header().uid().unwrap(), e.header().gid().unwrap());
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (p, u, g, data)
        })
        .collect()
}

fn find<'a>(m: &'a [(String, u64, u64, Vec<u8>)], path: &str) -> &'a (String, u64, u64, Vec<u8>) {
    m.iter()
        .find(|(p, ..)| p.trim_end_matches('/') == path)
        .unwrap_or_else(|| {
            panic!(
                "{path} is not in the tar: {:?}",
                m.iter().map(|x| &x.0).collect::<Vec<_>>()
            )
        })
}

/// Runs a shell command line as the test user with stdout into `file`.
fn to_file(env: &Env, args: &str, file: &Path) -> Out {
    env.host(
        "/bin/sh",
        [
            "-c",
            &format!("{} {args} > {}", env.bin.display(), file.display()),
        ],
    )
    .run()
}

fn diff_lists_added_changed_and_deleted_paths(driver: Driver) {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    use_driver(&env, driver);
    let _c = Cleanup(&env);
    let image = import_base(&env);
    let script = "echo new > /added; echo more >> /etc/passwd; rm /etc/group; \
                  mkdir /newdir; touch /newdir/f; rm -r /data/ref2 2>/dev/null; \
                  printf xyz > /data/same; touch -r /data/ref /data/same; \
                  echo vol > /vol/in-volume";
    let out = env
        .coracle([
            "run", "--name", "c", "-v", "dv:/vol", &image, "sh", "-c", script,
        ])
        .run();
    out.ok();
    let out = env.coracle(["diff", "c"]).run();
    let lines = out.lines();
    for want in [
        "A /added",
        "C /etc",
        "C /etc/passwd",
        "D /etc/group",
        "A /newdir",
        "A /newdir/f",
        "C /data",
        // Same size, mtime put back: found by its content.
        "C /data/same",
    ] {
        assert!(lines.contains(&want.to_string()), "{want} missing\n{out}");
    }
    // Mount targets (the volume, /proc, /etc/hosts ...) are not changes;
    // untouched files are not listed.
    for l in &lines {
        assert!(
            !l.contains("/vol")
                && !l.contains("/proc")
                && !l.ends_with("/etc/hosts")
                && !l.contains("/data/ref")
                && !l.contains("/bin/"),
            "unexpected {l}\n{out}"
        );
    }
    let mut sorted = lines.clone();
    sorted.sort_by(|a, b| a[2..].cmp(&b[2..]));
    assert_eq!(lines, sorted, "sorted by path\n{out}");

    // A fresh container of the image has no changes.
    env.coracle(["run", "--name", "fresh", &image, "true"])
        .run()
        .ok();
    let out = env.coracle(["diff", "fresh"]).run();
    assert_eq!(out.ok(), "", "{out}");
    // Committing it makes an image with an empty layer, as Docker does.
    env.coracle(["commit", "fresh", "same:1"]).run().ok();
    let out = env
        .coracle(["run", "--rm", "same:1", "cat", "/data/same"])
        .run();
    assert_eq!(out.ok(), "abc", "{out}");

    let out = env.coracle(["diff", "nope"]).run();
    assert!(out
        .expect_code(1)
        .stderr
        .contains("No such container: nope"));
}

fn commit_makes_an_image_that_runs_with_the_change(driver: Driver) {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    use_driver(&env, driver);
    let _c = Cleanup(&env);
    let image = import_base(&env);
    env.coracle([
        "run",
        "--name",
        "c",
        &image,
        "sh",
        "-c",
        "echo committed > /hello; echo again >> /opt/owned; rm /etc/group",
    ])
    .run()
    .ok();
    let out = env
        .coracle([
            "commit",
            "-m",
            "my message",
            "-a",
            "Jane <jane@example.com>",
            "-c",
            "CMD [\"cat\", \"/hello\"]",
            "-c",
            "ENV COMMITTED=yes",
            "-p",
            "c",
            "new:1",
        ])
        .run();
    let id = out.ok().trim().to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{out}");

    let out = env.coracle(["run", "--rm", "new:1"]).run();
    assert_eq!(out.ok(), "committed\n", "{out}");
    let out = env
        .coracle([
            "run",
            "--rm",
            "new:1",
            "sh",
            "-c",
            "echo $COMMITTED; cat /opt/owned; test -e /etc/group || echo no-group",
        ])
        .run();
    assert_eq!(out.ok(), "yes\nmine\nagain\nno-group\n", "{out}");

    // A container of the new image (two layers, a whiteout) starts clean.
    env.coracle(["run", "--name", "c2", "new:1", "true"])
        .run()
        .ok();
    let out = env.coracle(["diff", "c2"]).run();
    assert_eq!(out.ok(), "", "{out}");
    let out = env.coracle(["history", "--no-trunc", "new:1"]).run();
    assert!(out.ok().contains("my message"), "{out}");
    let out = env.coracle(["image", "inspect", "new:1"]).run();
    let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(v[0]["Author"], "Jane <jane@example.com>", "{out}");

    // The new layer carries the recorded owner, not the user's uid, and a
    // whiteout for the deletion.
    let saved = env.home.join("new.tar");
    env.coracle(["save", "-o", saved.to_str().unwrap(), "new:1"])
        .run()
        .ok();
    let saved = std::fs::read(&saved).unwrap();
    let outer = members(&saved);
    let manifest: serde_json::Value =
        serde_json::from_slice(&find(&outer, "manifest.json").3).unwrap();
    let layers = manifest[0]["Layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2, "{manifest}");
    let top = find(&outer, layers[1].as_str().unwrap());
    let layer = members(&top.3);
    let owned = find(&layer, "opt/owned");
    assert_eq!((owned.1, owned.2), (1000, 100), "owner kept");
    assert_eq!(owned.3, b"mine\nagain\n");
    let hello = find(&layer, "hello");
    assert_eq!((hello.1, hello.2), (0, 0));
    find(&layer, "etc/.wh.group");
    assert!(
        !layer.iter().any(|(p, ..)| p.starts_with("bin/")),
        "only the changes are in the layer"
    );

    let out = env.coracle(["commit", "-c", "BOGUS x", "c"]).run();
    assert!(
        out.expect_code(125)
            .stderr
            .contains("unknown or unsupported instruction"),
        "{out}"
    );
}

fn commit_keeps_an_owner_the_container_set_with_chown(driver: Driver) {
    let Some(env) = Env::new(Mode::Full) else {
        return;
    };
    use_driver(&env, driver);
    let _c = Cleanup(&env);
    let image = import_base(&env);
    env.coracle([
        "run",
        "--name",
        "c",
        &image,
        "sh",
        "-c",
        "echo x > /chowned; chown 1234:2345 /chowned",
    ])
    .run()
    .ok();
    let out = env.coracle(["commit", "c", "chowned:1"]).run();
    out.ok();
    let saved = env.home.join("c.tar");
    env.coracle(["save", "-o", saved.to_str().unwrap(), "chowned:1"])
        .run()
        .ok();
    let outer = members(&std::fs::read(&saved).unwrap());
    let manifest: serde_json::Value =
        serde_json::from_slice(&find(&outer, "manifest.json").3).unwrap();
    let top = manifest[0]["Layers"].as_array().unwrap()[1]
        .as_str()
        .unwrap()
        .to_string();
    let layer = members(&find(&outer, &top).3);
    let f = find(&layer, "chowned");
    assert_eq!(
        (f.1, f.2),
        (1234, 2345),
        "the container's ids, not the host's"
    );
    // What another container id keeps to itself cannot be read from
    // outside: one clear error, and no image is made.
    env.coracle([
        "run",
        "--name",
        "p",
        &image,
        "sh",
        "-c",
        "mkdir /private; echo s > /private/f; chown -R 1234 /private; chmod 700 /private",
    ])
    .run()
    .ok();
    if let Driver::FuseOverlay = driver {
        // The FUSE overlay records the owner and mode and keeps the files
        // the user's on disk: nothing is hidden from the commit.
        env.coracle(["commit", "p", "private:1"]).run().ok();
        let out = env
            .coracle([
                "run",
                "--rm",
                "private:1",
                "stat",
                "-c",
                "%u %a",
                "/private",
                "/private/f",
            ])
            .run();
        assert_eq!(out.ok(), "1234 700\n1234 644\n", "{out}");
        return;
    }
    let before = env.coracle(["images", "-q"]).run().lines();
    let out = env.coracle(["commit", "p", "private:1"]).run();
    assert!(
        out.expect_code(125)
            .stderr
            .contains("permission denied: it belongs to uid 1234"),
        "{out}"
    );
    assert_eq!(env.coracle(["images", "-q"]).run().lines(), before);
    let out = env.coracle(["diff", "p"]).run();
    assert!(
        out.expect_code(125)
            .stderr
            .contains("open /private: permission denied"),
        "{out}"
    );
}

fn export_writes_the_root_with_its_owners_and_without_volumes(driver: Driver) {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    use_driver(&env, driver);
    let _c = Cleanup(&env);
    let image = import_base(&env);
    env.coracle([
        "run",
        "--name",
        "c",
        "-v",
        "ev:/vol",
        &image,
        "sh",
        "-c",
        "echo exported > /new; echo secret > /vol/in-volume",
    ])
    .run()
    .ok();
    let file = env.home.join("export.tar");
    env.coracle(["export", "-o", file.to_str().unwrap(), "c"])
        .run()
        .ok();
    let m = members(&std::fs::read(&file).unwrap());
    assert_eq!(find(&m, "new").3, b"exported\n");
    let owned = find(&m, "opt/owned");
    assert_eq!((owned.1, owned.2), (1000, 100));
    find(&m, "bin/busybox");
    assert!(
        !m.iter().any(|(p, ..)| p.contains("in-volume")),
        "volume content is not exported"
    );

    // To standard output too, the same archive.
    let piped = env.home.join("piped.tar");
    to_file(&env, "export c", &piped).ok();
    let m2 = members(&std::fs::read(&piped).unwrap());
    assert_eq!(m.len(), m2.len());
}

fn cp_copies_files_directories_and_tar_streams_both_ways(driver: Driver) {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    use_driver(&env, driver);
    let _c = Cleanup(&env);
    let image = import_base(&env);
    env.coracle([
        "run",
        "--name",
        "c",
        &image,
        "sh",
        "-c",
        "mkdir -p /srv/tree/sub; echo leaf > /srv/tree/sub/leaf; ln -s sub/leaf /srv/tree/link",
    ])
    .run()
    .ok();
    let rootfs = RootFiles::of(&env, "c");
    let h = env.home.join("h");
    env.mkdir_owned(&h, 0o755);

    // A file out: to a new name, then into an existing directory.
    let out = env
        .coracle(["cp", "c:/etc/passwd", h.join("pw").to_str().unwrap()])
        .run();
    out.ok();
    assert_eq!(
        std::fs::read(h.join("pw")).unwrap(),
        std::fs::read(rootfs.join("etc/passwd")).unwrap()
    );
    env.coracle(["cp", "c:/etc/passwd", h.to_str().unwrap()])
        .run()
        .ok();
    assert!(h.join("passwd").is_file());
    // A directory out: as itself, then its content with /.
    env.coracle(["cp", "c:/srv/tree", h.to_str().unwrap()])
        .run()
        .ok();
    assert_eq!(std::fs::read(h.join("tree/sub/leaf")).unwrap(), b"leaf\n");
    assert_eq!(
        std::fs::read_link(h.join("tree/link")).unwrap(),
        Path::new("sub/leaf")
    );
    let flat = h.join("flat");
    env.mkdir_owned(&flat, 0o755);
    env.coracle(["cp", "c:/srv/tree/.", flat.to_str().unwrap()])
        .run()
        .ok();
    assert!(flat.join("sub/leaf").is_file() && !flat.join("tree").exists());
    // -L copies what the symlink points at, under the link's name.
    env.coracle(["cp", "-L", "c:/srv/tree/link", h.to_str().unwrap()])
        .run()
        .ok();
    assert_eq!(std::fs::read(h.join("link")).unwrap(), b"leaf\n");
    // A missing source, a file onto a missing directory.
    let out = env.coracle(["cp", "c:/nope", h.to_str().unwrap()]).run();
    assert!(
        out.expect_code(1)
            .stderr
            .contains("Could not find the file /nope"),
        "{out}"
    );
    let out = env
        .coracle([
            "cp",
            "c:/etc/passwd",
            &format!("{}/", h.join("nodir").display()),
        ])
        .run();
    assert!(
        out.expect_code(125).stderr.contains("no such directory"),
        "{out}"
    );

    // Files and directories in.
    let src = h.join("in");
    env.mkdir_owned(&src.join("d"), 0o755);
    env.write_owned(&src.join("d/one"), "one\n");
    env.write_owned(&src.join("file"), "file\n");
    env.coracle(["cp", src.join("file").to_str().unwrap(), "c:/srv/"])
        .run()
        .ok();
    assert_eq!(std::fs::read(rootfs.join("srv/file")).unwrap(), b"file\n");
    env.coracle(["cp", src.join("file").to_str().unwrap(), "c:/srv/renamed"])
        .run()
        .ok();
    assert_eq!(
        std::fs::read(rootfs.join("srv/renamed")).unwrap(),
        b"file\n"
    );
    env.coracle(["cp", src.join("d").to_str().unwrap(), "c:/srv"])
        .run()
        .ok();
    assert_eq!(std::fs::read(rootfs.join("srv/d/one")).unwrap(), b"one\n");
    env.coracle(["cp", src.join("d").to_str().unwrap(), "c:/fresh"])
        .run()
        .ok();
    assert_eq!(std::fs::read(rootfs.join("fresh/one")).unwrap(), b"one\n");
    let out = env
        .coracle(["cp", src.join("d").to_str().unwrap(), "c:/etc/passwd"])
        .run();
    assert!(
        out.expect_code(125)
            .stderr
            .contains("cannot copy a directory to a file"),
        "{out}"
    );
    let out = env
        .coracle(["cp", src.join("file").to_str().unwrap(), "c:/srv/d"])
        .run();
    // /srv/d is a directory: the file goes into it.
    out.ok();
    assert!(rootfs.join("srv/d/file").is_file());
    env.mkdir_owned(&src.join("x/file"), 0o755);
    let out = env
        .coracle(["cp", src.join("x/file").to_str().unwrap(), "c:/srv"])
        .run();
    assert!(
        out.expect_code(125)
            .stderr
            .contains("cannot overwrite non-directory"),
        "{out}"
    );
    assert!(rootfs.join("srv/file").is_file(), "left as it was");
    // What comes in belongs to the container's root (the user on disk, no
    // other owner recorded).
    use std::os::unix::fs::MetadataExt;
    let md = std::fs::metadata(rootfs.join("srv/d/one")).unwrap();
    assert_eq!(md.uid(), env.uid);
    let rec = xattr::get(rootfs.join("srv/d/one"), "user.containers.override_stat").unwrap();
    assert!(
        rec.as_ref().is_none_or(|r| r.starts_with(b"0:0:")),
        "{:?}",
        rec.map(|r| String::from_utf8_lossy(&r).into_owned())
    );
    // -a keeps the host owner (recorded: the disk owner is the user, who
    // is the container's root); without it the copy is root's.
    env.coracle([
        "cp",
        "-a",
        src.join("file").to_str().unwrap(),
        "c:/srv/kept",
    ])
    .run()
    .ok();
    let t = h.join("c.tar");
    to_file(&env, "export c", &t).ok();
    let m = members(&std::fs::read(&t).unwrap());
    let kept = find(&m, "srv/kept");
    assert_eq!((kept.1, kept.2), (env.uid.into(), env.gid.into()), "-a");
    let plain = find(&m, "srv/file");
    assert_eq!((plain.1, plain.2), (0, 0), "without -a");
    // The container sees it.
    env.coracle(["start", "c"]).run().ok();
    let out = env.coracle(["wait", "c"]).run();
    out.ok();

    // Tar streams: out of the container, and into it.
    let t = h.join("out.tar");
    to_file(&env, "cp c:/srv/tree -", &t).ok();
    let m = members(&std::fs::read(&t).unwrap());
    assert_eq!(find(&m, "tree/sub/leaf").3, b"leaf\n");
    let mut b = tar::Builder::new(Vec::new());
    let mut hd = tar::Header::new_gnu();
    hd.set_mode(0o600);
    hd.set_uid(4321);
    hd.set_size(7);
    b.append_data(&mut hd, "streamed/data", &b"stream\n"[..])
        .unwrap();
    let out = env
        .coracle(["cp", "-", "c:/srv"])
        .stdin(b.into_inner().unwrap())
        .run();
    out.ok();
    assert_eq!(
        std::fs::read(rootfs.join("srv/streamed/data")).unwrap(),
        b"stream\n"
    );
    let out = env.coracle(["cp", "-", "c:/etc/passwd"]).stdin(b"x").run();
    assert!(
        out.expect_code(125)
            .stderr
            .contains("must be an existing directory"),
        "{out}"
    );
    // Docker's refusal and exit code (cp between two containers too).
    let out = env.coracle(["cp", "/etc/hostname", "/tmp/x"]).run();
    assert!(
        out.expect_code(1).stderr.contains("at least one container"),
        "{out}"
    );
}

fn cp_never_follows_a_container_symlink_out_of_the_container(driver: Driver) {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    use_driver(&env, driver);
    let _c = Cleanup(&env);
    let image = import_base(&env);
    // A host file the container must never reach, and a host directory it
    // must never write into.
    let secret_dir = env.home.join("host-secret");
    env.mkdir_owned(&secret_dir, 0o755);
    let secret = secret_dir.join("secret");
    env.write_owned(&secret, "HOST SECRET\n");
    let sd = secret_dir.display().to_string();
    let script = format!(
        "ln -s / /rootlink; ln -s ../../../../../../.. /etc/up; ln -s {sd}/secret /evil; \
         ln -s {sd} /evildir; ln -s /tmp /tmplink"
    );
    env.coracle(["run", "--name", "c", &image, "sh", "-c", &script])
        .run()
        .ok();
    let rootfs = RootFiles::of(&env, "c");
    let h = env.home.join("h");
    env.mkdir_owned(&h, 0o755);
    let stolen = h.join("stolen");
    let stolen_s = stolen.to_str().unwrap();

    // Reading through the symlinks: resolved inside the container, where
    // the path does not exist.
    for src in [
        format!("c:/rootlink{sd}/secret"),
        format!("c:/etc/up{sd}/secret"),
        "c:/evildir/secret".to_string(),
    ] {
        let out = env.coracle(["cp", &src, stolen_s]).run();
        assert!(
            out.expect_code(1)
                .stderr
                .contains("Could not find the file"),
            "{src}\n{out}"
        );
        assert!(!stolen.exists(), "{src} read a host file");
    }
    let out = env.coracle(["cp", "-L", "c:/evil", stolen_s]).run();
    assert_ne!(out.code(), 0, "{out}");
    assert!(!stolen.exists());
    // Without -L the symlink itself is copied, pointing where it points.
    env.coracle(["cp", "c:/evil", stolen_s]).run().ok();
    assert!(std::fs::symlink_metadata(&stolen)
        .unwrap()
        .file_type()
        .is_symlink());
    std::fs::remove_file(&stolen).unwrap();
    // A tar stream of the root through the link holds the link, not the host.
    let t = h.join("root.tar");
    to_file(&env, "cp c:/rootlink -", &t).ok();
    let tar = std::fs::read(&t).unwrap();
    assert!(
        !tar.windows(11).any(|w| w == b"HOST SECRET"),
        "the host file leaked into the tar"
    );

    // Writing through the symlinks: lands inside the container, never on
    // the host.
    let payload = h.join("payload");
    env.write_owned(&payload, "PAYLOAD\n");
    let p = payload.to_str().unwrap();
    for dest in [
        format!("c:/rootlink{sd}/secret"),
        format!("c:/etc/up{sd}/secret"),
        "c:/evil".to_string(),
        "c:/evildir/secret".to_string(),
        "c:/evildir/".to_string(),
    ] {
        let _ = env.coracle(["cp", p, &dest]).run();
        assert_eq!(
            std::fs::read(&secret).unwrap(),
            b"HOST SECRET\n",
            "{dest} wrote to the host"
        );
        assert_eq!(
            std::fs::read_dir(&secret_dir).unwrap().count(),
            1,
            "{dest} created a host file"
        );
    }
    // A tar stream with a symlink then a file through it stays inside too.
    let mut b = tar::Builder::new(Vec::new());
    let mut hd = tar::Header::new_gnu();
    hd.set_entry_type(tar::EntryType::Symlink);
    hd.set_size(0);
    b.append_link(&mut hd, "esc", &sd).unwrap();
    let mut hd = tar::Header::new_gnu();
    hd.set_size(5);
    hd.set_mode(0o644);
    b.append_data(&mut hd, "esc/boom", &b"boom\n"[..]).unwrap();
    let _ = env
        .coracle(["cp", "-", "c:/tmp"])
        .stdin(b.into_inner().unwrap())
        .run();
    assert_eq!(std::fs::read_dir(&secret_dir).unwrap().count(), 1);
    // The container's own absolute symlink is followed inside it.
    env.coracle(["cp", p, "c:/tmplink/"]).run().ok();
    assert_eq!(
        std::fs::read(rootfs.join("tmp/payload")).unwrap(),
        b"PAYLOAD\n"
    );
    // The /evil write created the link's target inside the root, if at all.
    if let Ok(data) = std::fs::read(rootfs.join(format!(".{sd}/secret"))) {
        assert_eq!(data, b"PAYLOAD\n");
    }
}

fn cp_into_a_volume_path_lands_in_the_volume(driver: Driver) {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    use_driver(&env, driver);
    let _c = Cleanup(&env);
    let image = import_base(&env);
    env.coracle([
        "run",
        "--name",
        "c",
        "-v",
        "cpvol:/data",
        &image,
        "sh",
        "-c",
        "echo old > /data/old",
    ])
    .run()
    .ok();
    let h = env.home.join("h");
    env.mkdir_owned(&h, 0o755);
    env.write_owned(&h.join("f"), "to volume\n");
    env.coracle(["cp", h.join("f").to_str().unwrap(), "c:/data/"])
        .run()
        .ok();
    let vol = env.data.join("coracle/volumes/cpvol/_data");
    assert_eq!(std::fs::read(vol.join("f")).unwrap(), b"to volume\n");
    let rootfs = RootFiles::of(&env, "c");
    assert!(
        !rootfs.join("data/f").exists(),
        "not in the root underneath"
    );
    // Out of the volume, and a second container sees it.
    env.coracle(["cp", "c:/data/old", h.join("old").to_str().unwrap()])
        .run()
        .ok();
    assert_eq!(std::fs::read(h.join("old")).unwrap(), b"old\n");
    let out = env
        .coracle(["run", "--rm", "-v", "cpvol:/data", &image, "cat", "/data/f"])
        .run();
    assert_eq!(out.ok(), "to volume\n", "{out}");
}

#[test]
fn rootfs_containers_export_and_copy_but_have_no_diff() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    env.run(&["--name", "r"], &["true"]).run().ok();
    let h = env.home.join("h");
    env.mkdir_owned(&h, 0o755);
    env.write_owned(&h.join("f"), "into rootfs\n");
    env.coracle(["cp", h.join("f").to_str().unwrap(), "r:/tmp/"])
        .run()
        .ok();
    assert_eq!(
        std::fs::read(env.rootfs.join("tmp/f")).unwrap(),
        b"into rootfs\n"
    );
    let t = h.join("r.tar");
    to_file(&env, "export r", &t).ok();
    let m = members(&std::fs::read(&t).unwrap());
    assert_eq!(find(&m, "tmp/f").3, b"into rootfs\n");
    for cmd in ["diff", "commit"] {
        let out = env.coracle([cmd, "r"]).run();
        assert!(
            out.expect_code(125).stderr.contains("--rootfs directory"),
            "{out}"
        );
    }
}

fn a_running_container_is_diffed_copied_and_committed(driver: Driver) {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    use_driver(&env, driver);
    let _c = Cleanup(&env);
    let image = import_base(&env);
    let out = env
        .coracle([
            "run",
            "-d",
            "--name",
            "live",
            &image,
            "sh",
            "-c",
            "echo up > /up; while :; do if [ -e /tmp/in ]; then cp /tmp/in /seen; fi; sleep 0.1; done",
        ])
        .run();
    out.ok();
    assert!(
        wait_until(|| env
            .coracle(["diff", "live"])
            .run()
            .lines()
            .contains(&"A /up".to_string())),
        "the running container's change shows"
    );
    let h = env.home.join("h");
    env.mkdir_owned(&h, 0o755);
    env.write_owned(&h.join("in"), "copied in\n");
    if let Driver::FuseOverlay = driver {
        // Refused: the daemon's caches would not see a file written
        // beside it (see DESIGN.md, the fuse-overlay driver).
        let out = env
            .coracle(["cp", h.join("in").to_str().unwrap(), "live:/tmp/in"])
            .run();
        assert!(
            out.expect_code(125).stderr.contains("stop it first"),
            "{out}"
        );
        let out = env.coracle(["commit", "live", "live:1"]).run();
        out.ok();
        let out = env.coracle(["run", "--rm", "live:1", "cat", "/up"]).run();
        assert_eq!(out.ok(), "up\n", "{out}");
        return;
    }
    env.coracle(["cp", h.join("in").to_str().unwrap(), "live:/tmp/in"])
        .run()
        .ok();
    // The running container sees the file and acts on it.
    assert!(wait_until(|| {
        env.coracle(["cp", "live:/seen", h.join("seen").to_str().unwrap()])
            .run()
            .code()
            == 0
    }));
    assert_eq!(std::fs::read(h.join("seen")).unwrap(), b"copied in\n");
    let out = env.coracle(["commit", "live", "live:1"]).run();
    out.ok();
    let out = env
        .coracle(["run", "--rm", "live:1", "cat", "/up", "/seen"])
        .run();
    assert_eq!(out.ok(), "up\ncopied in\n", "{out}");
}

#[test]
fn cp_between_two_containers_is_refused_as_docker_does() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let image = import_base(&env);
    for name in ["c1", "c2"] {
        env.coracle(["create", "--name", name, &image, "true"])
            .run()
            .ok();
    }
    let out = env.coracle(["cp", "c1:/data/same", "c2:/tmp/same"]).run();
    out.expect_code(1);
    assert_eq!(
        out.stderr.trim(),
        "coracle: copying between containers is not supported: copy to the host first",
        "{out}"
    );
    // Nothing was copied into the second container.
    assert!(!container_dir(&env, "c2").join("rootfs/tmp/same").exists());
    // Neither side a container: the other one-line error, same code.
    let out = env.coracle(["cp", "/etc/hostname", "/tmp/x"]).run();
    out.expect_code(1);
    assert!(
        out.stderr.contains("must specify at least one container"),
        "{out}"
    );
}
