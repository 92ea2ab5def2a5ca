//! `save`, `load` and `import` (the library side): round trips in both
//! archive formats, interoperability with podman (with storage of its own),
//! `--change` values, and hostile archives. When the suite runs as root,
//! each test runs as the unprivileged test user ([`common::unprivileged`]).

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;

use coracle::image::archive::{self, ArchiveFormat};
use coracle::image::digest::Digest;
use coracle::image::reference::Reference;
use coracle::image::store::Store;
use serde_json::{json, Value};

use common::*;

const PODMAN: &str = "/usr/bin/podman";

/// A small root file system tarball: the static busybox, `sh` and a file.
fn rootfs_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let dir = |b: &mut tar::Builder<Vec<u8>>, p: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, p, std::io::empty()).unwrap();
    };
    dir(&mut b, "bin");
    dir(&mut b, "etc");
    let busybox = fs::read(BUSYBOX).unwrap_or_else(|_| b"not busybox".to_vec());
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o755);
    h.set_size(busybox.len() as u64);
    h.set_mtime(1_700_000_000);
    b.append_data(&mut h, "bin/busybox", &busybox[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    h.set_mtime(1_700_000_000);
    b.append_link(&mut h, "bin/sh", "busybox").unwrap();
    let msg = b"made for the archive tests\n";
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o644);
    h.set_size(msg.len() as u64);
    h.set_mtime(1_700_000_000);
    b.append_data(&mut h, "etc/motd", &msg[..]).unwrap();
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn store_in(dir: &Path, name: &str) -> Store {
    Store::open(dir.join(name)).unwrap()
}

/// Everything under the store root but `locks/` and `incoming/` (empty
/// directories there are allowed), with file sizes, plus images.json.
fn snapshot(store: &Store) -> Vec<String> {
    fn walk(root: &Path, p: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(p).unwrap() {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            if rel == "locks" {
                continue;
            }
            let md = fs::symlink_metadata(e.path()).unwrap();
            out.push(format!("{rel} {}", if md.is_dir() { 0 } else { md.len() }));
            if md.is_dir() {
                walk(root, &e.path(), out);
            }
        }
    }
    let mut v = Vec::new();
    walk(store.root(), store.root(), &mut v);
    v.sort();
    v
}

fn imported(store: &Store, name: &str, changes: &[&str]) -> coracle::image::store::ImageRecord {
    let r: Reference = name.parse().unwrap();
    let changes: Vec<String> = changes.iter().map(|s| s.to_string()).collect();
    archive::import(store, &gzip(&rootfs_tar())[..], &changes, Some(&r)).unwrap()
}

#[test]
fn save_and_load_round_trip_in_both_formats() {
    if unprivileged(|| {}) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let a = store_in(tmp.path(), "a");
    let rec = imported(&a, "localhost/rt:1", &["CMD [\"sh\"]"]);
    let names = vec![
        "localhost/rt:1".to_string(),
        "docker.io/library/rt:other".to_string(),
    ];
    for (i, format) in [ArchiveFormat::DockerArchive, ArchiveFormat::OciArchive]
        .into_iter()
        .enumerate()
    {
        let mut out = Vec::new();
        archive::save(&a, &[(rec.clone(), names.clone())], format, &mut out).unwrap();
        let b = store_in(tmp.path(), &format!("b{i}"));
        let loaded = archive::load(&b, &out[..]).unwrap();
        assert_eq!(loaded.len(), 1, "{format:?}");
        let (got, mut got_names) = loaded[0].clone();
        assert_eq!(got.id, rec.id, "{format:?}");
        assert_eq!(got.manifest, rec.manifest, "{format:?}");
        assert_eq!(got.layers, rec.layers, "{format:?}");
        got_names.sort();
        let mut want = names.clone();
        want.sort();
        assert_eq!(got_names, want, "{format:?}");
        let index = b.read_index().unwrap();
        for n in &names {
            assert_eq!(index.tags.get(n), Some(&rec.id), "{format:?} {n}");
        }
        assert!(b
            .layer_path(&rec.layers[0].diff_id)
            .join("etc/motd")
            .is_file());
        // Loading again changes nothing but is fine.
        let again = archive::load(&b, &out[..]).unwrap();
        assert_eq!(again[0].0.id, rec.id);
        // The gzip'd archive loads as well.
        let c = store_in(tmp.path(), &format!("c{i}"));
        assert_eq!(
            archive::load(&c, &gzip(&out)[..]).unwrap()[0].0.manifest,
            rec.manifest
        );
    }
}

#[test]
fn import_applies_changes() {
    if unprivileged(|| {}) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let s = store_in(tmp.path(), "s");
    let rec = imported(
        &s,
        "imp:1",
        &[
            "CMD [\"a\",\"b\"]",
            "ENTRYPOINT /bin/sh -c",
            "ENV K=V",
            "WORKDIR /x",
            "USER u",
            "LABEL k=v",
            "EXPOSE 80/tcp",
        ],
    );
    let cfg: Value = serde_json::from_slice(&s.read_blob(&rec.id, 1 << 20).unwrap()).unwrap();
    assert_eq!(cfg["os"], "linux");
    assert_eq!(
        cfg["architecture"],
        coracle::image::registry::Platform::host().architecture
    );
    assert!(cfg["created"].as_str().unwrap().starts_with("20"));
    let c = &cfg["config"];
    assert_eq!(c["Cmd"], json!(["a", "b"]));
    assert_eq!(c["Entrypoint"], json!(["/bin/sh", "-c", "/bin/sh -c"]));
    assert_eq!(c["Env"], json!(["K=V"]));
    assert_eq!(c["WorkingDir"], "/x");
    assert_eq!(c["User"], "u");
    assert_eq!(c["Labels"], json!({"k": "v"}));
    assert_eq!(c["ExposedPorts"], json!({"80/tcp": {}}));
    let index = s.read_index().unwrap();
    assert_eq!(index.tags.get("docker.io/library/imp:1"), Some(&rec.id));
    assert_eq!(rec.layers[0].diff_id, Digest::of(&rootfs_tar()));
    assert!(s
        .layer_path(&rec.layers[0].diff_id)
        .join("bin/busybox")
        .is_file());

    // An unknown instruction is named, and nothing is stored.
    let before = snapshot(&s);
    let e = archive::import(&s, &rootfs_tar()[..], &["FROBNICATE x".into()], None).unwrap_err();
    assert!(format!("{e:#}").contains("FROBNICATE"), "{e:#}");
    assert_eq!(snapshot(&s), before);
}

/// A tar of (name, content) entries, names written raw (no validation).
fn raw_tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// The entries of an uncompressed archive.
fn entries(ar: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut a = tar::Archive::new(ar);
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut data).unwrap();
            (name, data)
        })
        .collect()
}

fn rebuild(list: &[(String, Vec<u8>)]) -> Vec<u8> {
    let v: Vec<(&str, &[u8])> = list.iter().map(|(n, d)| (n.as_str(), &d[..])).collect();
    raw_tar(&v)
}

#[test]
fn hostile_archives_fail_clearly_and_leave_the_store_unchanged() {
    if unprivileged(|| {}) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let a = store_in(tmp.path(), "a");
    let rec = imported(&a, "localhost/h:1", &[]);
    let mut good = Vec::new();
    archive::save(
        &a,
        &[(rec.clone(), vec!["localhost/h:1".into()])],
        ArchiveFormat::OciArchive,
        &mut good,
    )
    .unwrap();
    let list = entries(&good);
    let b = store_in(tmp.path(), "b");
    // Something already in the store must stay as it is.
    imported(&b, "localhost/other:1", &["ENV X=1"]);
    let before = snapshot(&b);
    let layer_name = format!("blobs/sha256/{}", rec.layers[0].blob.hex());

    let mut cases: Vec<(&str, Vec<u8>, Vec<&str>)> = Vec::new();
    // A blob whose content does not match its name.
    let tampered: Vec<(String, Vec<u8>)> = list
        .iter()
        .map(|(n, d)| {
            let mut d = d.clone();
            if *n == layer_name {
                let last = d.len() - 1;
                d[last] ^= 1;
            }
            (n.clone(), d)
        })
        .collect();
    cases.push((
        "digest mismatch",
        rebuild(&tampered),
        vec![&layer_name, "digest"],
    ));
    // An entry that climbs out of the archive.
    let mut climbing = list.clone();
    climbing.insert(0, ("../../evil".into(), b"x".to_vec()));
    cases.push((
        "path traversal",
        rebuild(&climbing),
        vec!["../../evil", "climbs out"],
    ));
    let mut absolute = list.clone();
    absolute.insert(0, ("/etc/evil".into(), b"x".to_vec()));
    cases.push(("absolute path", rebuild(&absolute), vec!["/etc/evil"]));
    // An oversized manifest.json.
    let mut big = list.clone();
    big.push(("manifest.json".into(), vec![b' '; (8 << 20) + 1]));
    cases.push((
        "oversized manifest.json",
        rebuild(&big),
        vec!["manifest.json", "8388608"],
    ));
    // A layer whose diff id is not what the config says: the layer is
    // unpacked, found wrong, and removed again.
    let other_layer = gzip(&raw_tar(&[("etc/other", b"other")]));
    let other_digest = Digest::of(&other_layer);
    let swapped: Vec<(String, Vec<u8>)> = list
        .iter()
        .map(|(n, d)| {
            if n.ends_with(&rec.manifest.hex().to_string()) {
                let m = String::from_utf8(d.clone())
                    .unwrap()
                    .replace(&rec.layers[0].blob.to_string(), &other_digest.to_string())
                    .replace(
                        &format!("\"size\":{}", rec.layers[0].size),
                        &format!("\"size\":{}", other_layer.len()),
                    );
                (
                    format!("blobs/sha256/{}", Digest::of(m.as_bytes()).hex()),
                    m.into_bytes(),
                )
            } else if *n == "index.json" {
                let m = String::from_utf8(d.clone()).unwrap();
                let manifest = list
                    .iter()
                    .find(|(n, _)| n.ends_with(rec.manifest.hex()))
                    .unwrap()
                    .1
                    .clone();
                let new = String::from_utf8(manifest)
                    .unwrap()
                    .replace(&rec.layers[0].blob.to_string(), &other_digest.to_string())
                    .replace(
                        &format!("\"size\":{}", rec.layers[0].size),
                        &format!("\"size\":{}", other_layer.len()),
                    );
                let m = m
                    .replace(
                        &rec.manifest.to_string(),
                        &Digest::of(new.as_bytes()).to_string(),
                    )
                    .replace(
                        &format!(
                            "\"size\":{}",
                            a.read_blob(&rec.manifest, 1 << 20).unwrap().len()
                        ),
                        &format!("\"size\":{}", new.len()),
                    );
                (n.clone(), m.into_bytes())
            } else {
                (n.clone(), d.clone())
            }
        })
        .chain([(
            format!("blobs/sha256/{}", other_digest.hex()),
            other_layer.clone(),
        )])
        .collect();
    let swapped = rebuild(&swapped);
    cases.push(("diff id mismatch", swapped.clone(), vec!["unpacks to"]));
    // Not an archive of images at all.
    cases.push(("no image", raw_tar(&[("hello", b"x")]), vec!["neither"]));

    for (what, data, needles) in cases {
        let e = archive::load(&b, &data[..]).expect_err(what);
        let msg = format!("{e:#}");
        for n in &needles {
            assert!(msg.contains(n), "{what}: {msg:?} should name {n:?}");
        }
        assert_eq!(snapshot(&b), before, "{what}: the store changed");
    }
    // The same with a layer not in the store yet: unpacked, then removed.
    let c = store_in(tmp.path(), "c");
    let before_c = snapshot(&c);
    let e = archive::load(&c, &swapped[..]).unwrap_err();
    assert!(format!("{e:#}").contains("unpacks to"), "{e:#}");
    assert_eq!(snapshot(&c), before_c);
    // The untouched archive still loads.
    assert_eq!(archive::load(&b, &good[..]).unwrap()[0].0.id, rec.id);
}

/// podman (as the test user, which the test runs as), with storage of its
/// own under `dir`.
fn podman<'a>(env: &'a Env, dir: &Path, args: &[&str]) -> Run<'a> {
    let mut all: Vec<String> = [
        "--runtime",
        "runc",
        "--cgroup-manager",
        "cgroupfs",
        "--events-backend",
        "file",
        "--storage-driver",
        "vfs",
        "--root",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    all.push(dir.join("root").display().to_string());
    all.push("--runroot".into());
    all.push(dir.join("runroot").display().to_string());
    all.extend(args.iter().map(|s| s.to_string()));
    env.host(PODMAN, all)
        .timeout(std::time::Duration::from_secs(120))
}

/// The pause process rootless podman leaves behind (to keep its user
/// namespace), found through `$XDG_RUNTIME_DIR/libpod/tmp/pause.pid`: ended
/// on drop, so that the test leaves no process running.
struct PodmanPause(std::path::PathBuf);

impl Drop for PodmanPause {
    fn drop(&mut self) {
        let pid_file = self.0.join("libpod/tmp/pause.pid");
        if let Some(pid) = fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .filter(|&p| p > 1)
        {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// The test's environment, podman's storage directory and its pause
/// process, dropped in the reverse order.
fn podman_env() -> Option<(Env, tempfile::TempDir, PodmanPause)> {
    if !require(
        Path::new(PODMAN).is_file(),
        "podman (Debian package podman)",
    ) {
        return None;
    }
    if !require(
        in_unprivileged_rerun(),
        "root, to run the test (and podman) as the test user",
    ) {
        return None;
    }
    let env = Env::new(Mode::Full)?;
    // podman wants a run root of at most 50 characters: the re-run's TMPDIR
    // is short.
    let dir = tempfile::Builder::new().prefix("cpm").tempdir().unwrap();
    let runroot = dir.path().join("runroot");
    assert!(
        runroot.as_os_str().len() <= 50,
        "podman's run root {} is longer than 50 characters",
        runroot.display()
    );
    env.mkdir_owned(dir.path(), 0o700);
    let pause = PodmanPause(env.runtime.clone());
    Some((env, dir, pause))
}

#[test]
fn podman_save_loads_into_coracle() {
    if unprivileged(|| {}) {
        return;
    }
    let Some((env, dir, _pause)) = podman_env() else {
        return;
    };
    let dir = dir.path();
    let tarball = env.dir.join("rootfs.tar");
    fs::write(&tarball, rootfs_tar()).unwrap();
    podman(
        &env,
        dir,
        &["import", tarball.to_str().unwrap(), "localhost/pm:1"],
    )
    .run()
    .expect_code(0);
    let tmp = tempfile::tempdir().unwrap();
    for (format, file) in [("docker-archive", "d.tar"), ("oci-archive", "o.tar")] {
        let out = env.home.join(file);
        podman(
            &env,
            dir,
            &[
                "save",
                "--format",
                format,
                "-o",
                out.to_str().unwrap(),
                "localhost/pm:1",
            ],
        )
        .run()
        .expect_code(0);
        let s = store_in(tmp.path(), format);
        let loaded = archive::load(&s, fs::File::open(&out).unwrap())
            .unwrap_or_else(|e| panic!("load podman's {format}: {e:#}"));
        assert_eq!(loaded.len(), 1, "{format}");
        let (rec, names) = &loaded[0];
        assert_eq!(names, &vec!["localhost/pm:1".to_string()], "{format}");
        assert_eq!(rec.layers.len(), 1, "{format}");
        assert_eq!(rec.layers[0].diff_id, Digest::of(&rootfs_tar()), "{format}");
        let layer = s.layer_path(&rec.layers[0].diff_id);
        assert_eq!(
            fs::read(layer.join("etc/motd")).unwrap(),
            b"made for the archive tests\n",
            "{format}"
        );
        assert!(layer.join("bin/busybox").is_file(), "{format}");
        assert_eq!(
            s.read_index().unwrap().tags.get("localhost/pm:1"),
            Some(&rec.id),
            "{format}"
        );
    }
}

#[test]
fn coracle_save_loads_into_podman() {
    if unprivileged(|| {}) {
        return;
    }
    let Some((env, dir, _pause)) = podman_env() else {
        return;
    };
    let dir = dir.path();
    let tmp = tempfile::tempdir().unwrap();
    let s = store_in(tmp.path(), "s");
    let rec = imported(&s, "localhost/fromcoracle:1", &["CMD [\"sh\"]"]);
    for (format, file, name) in [
        (
            ArchiveFormat::DockerArchive,
            "d.tar",
            "localhost/fromcoracle:docker",
        ),
        (
            ArchiveFormat::OciArchive,
            "o.tar",
            "localhost/fromcoracle:oci",
        ),
    ] {
        let path = env.home.join(file);
        let mut out = Vec::new();
        archive::save(
            &s,
            &[(rec.clone(), vec![name.to_string()])],
            format,
            &mut out,
        )
        .unwrap();
        env.write_owned(&path, &out);
        let o = podman(&env, dir, &["load", "-i", path.to_str().unwrap()]).run();
        o.expect_code(0);
        let o = podman(
            &env,
            dir,
            &[
                "image",
                "inspect",
                "--format",
                "{{.Id}} {{.RepoTags}}",
                name,
            ],
        )
        .run();
        let line = o.expect_code(0).stdout.clone();
        assert!(line.starts_with(rec.id.hex()), "{format:?}: {o}");
        assert!(line.contains(name), "{format:?}: {o}");
    }
}

#[test]
fn classic_docker_archives_load_plain_and_zstd() {
    if unprivileged(|| {}) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let layer = rootfs_tar();
    let diff_id = Digest::of(&layer);
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]},
    }))
    .unwrap();
    let id = Digest::of(&config);
    let v1 = "b".repeat(64);
    let manifest = serde_json::to_vec(&json!([{
        "Config": format!("{}.json", id.hex()),
        "RepoTags": ["classic:1"],
        "Layers": [format!("{v1}/layer.tar")],
    }]))
    .unwrap();
    let cfg_name = format!("./{}.json", id.hex());
    let layer_name = format!("{v1}/layer.tar");
    let ar = raw_tar(&[
        (&format!("{v1}/VERSION"), b"1.0"),
        (&layer_name, &layer),
        (&cfg_name, &config),
        ("manifest.json", &manifest),
        ("repositories", b"{}"),
    ]);
    let zst =
        ruzstd::encoding::compress_to_vec(&ar[..], ruzstd::encoding::CompressionLevel::Fastest);
    for (i, data) in [ar, zst].into_iter().enumerate() {
        let s = store_in(tmp.path(), &format!("s{i}"));
        let loaded = archive::load(&s, &data[..]).unwrap();
        let (rec, names) = &loaded[0];
        assert_eq!(rec.id, id);
        assert_eq!(names, &vec!["docker.io/library/classic:1".to_string()]);
        assert_eq!(rec.layers[0].diff_id, diff_id);
        assert!(s.layer_path(&diff_id).join("etc/motd").is_file());
        // And it saves again with the same ids.
        let mut out = Vec::new();
        archive::save(
            &s,
            &[(rec.clone(), names.clone())],
            ArchiveFormat::DockerArchive,
            &mut out,
        )
        .unwrap();
        let t = store_in(tmp.path(), &format!("t{i}"));
        let again = archive::load(&t, &out[..]).unwrap();
        assert_eq!(again[0].0.id, id);
        assert_eq!(again[0].0.manifest, rec.manifest);
    }
}
