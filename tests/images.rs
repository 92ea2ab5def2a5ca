//! Images end to end, as the unprivileged user: `coracle pull` from a real
//! registry (Debian's docker-registry on loopback), `images`, and
//! `coracle run IMAGE` with the image's config.

mod common;
#[path = "common/images.rs"]
mod images_fixture;
#[path = "common/registry.rs"]
mod registry_fixture;

use common::*;
use images_fixture::{layer, push};
use registry_fixture::RegistryServer;

/// A registry with `busybox` (one layer from the busybox-static root, CMD
/// echo) and `layered` (busybox plus a layer that deletes /etc/group with a
/// whiteout and adds /etc/motd).
fn registry_with_images(env: &Env) -> RegistryServer {
    let reg = RegistryServer::start(None).expect("registry");
    let root = env.dir.join("image-root");
    env.build_rootfs(&root);
    let base = layer(Some(&root), &[]);
    push(
        &reg.host,
        "busybox",
        std::slice::from_ref(&base),
        &["echo", "hello from cmd"],
        &["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "IMAGE_VAR=set"],
    );
    let mid = layer(
        None,
        &[("opt/data/old", b"old\n"), ("opt/data/sub/deep", b"deep\n")],
    );
    push(
        &reg.host,
        "layered",
        &[layer(Some(&root), &[]), mid, top_layer()],
        &["sh"],
        &[],
    );
    reg
}

/// The top layer of `layered`: a whiteout of /etc/group, /etc/motd, an
/// opaque /opt/data, a hard link, a symlink, and a file owned by 1000:100.
fn top_layer() -> images_fixture::Layer {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str,
                   kind: tar::EntryType,
                   mode: u32,
                   owner: (u64, u64),
                   data: &[u8],
                   link: Option<&str>| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(owner.0);
        h.set_gid(owner.1);
        h.set_mtime(1_700_000_000);
        h.set_size(data.len() as u64);
        match link {
            Some(l) => b.append_link(&mut h, path, l).unwrap(),
            None => b.append_data(&mut h, path, data).unwrap(),
        }
    };
    let file = tar::EntryType::Regular;
    add("etc/.wh.group", file, 0o644, (0, 0), b"", None);
    add("etc/motd", file, 0o644, (0, 0), b"second layer\n", None);
    add("opt/data/.wh..wh..opq", file, 0o644, (0, 0), b"", None);
    add("opt/data/new", file, 0o644, (0, 0), b"new\n", None);
    add("opt/x", file, 0o644, (0, 0), b"linked\n", None);
    add(
        "opt/y",
        tar::EntryType::Link,
        0o644,
        (0, 0),
        b"",
        Some("opt/x"),
    );
    add(
        "opt/z",
        tar::EntryType::Symlink,
        0o777,
        (0, 0),
        b"",
        Some("x"),
    );
    add("opt/owned", file, 0o640, (1000, 100), b"mine\n", None);
    images_fixture::layer_from_tar(b.into_inner().unwrap())
}

#[test]
fn pull_images_and_run_an_image() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let reg = registry_with_images(&env);
    let name = format!("{}/busybox", reg.host);

    let out = env.coracle(["pull", name.as_str()]).run();
    let full = format!("{name}:latest");
    assert_eq!(out.expect_code(0).stdout.trim(), full, "{out}");
    assert!(out.stderr.contains("Pull complete"), "{out}");

    let out = env.coracle(["images"]).run();
    let s = out.expect_code(0).stdout.clone();
    assert!(s.lines().next().unwrap().starts_with("REPOSITORY"), "{out}");
    assert!(s.contains(&name) && s.contains("latest"), "{out}");
    let ids = env.coracle(["images", "-q"]).run();
    assert_eq!(ids.expect_code(0).stdout.lines().count(), 1, "{ids}");

    // The image's CMD and ENV.
    let out = env.coracle(["run", "--rm", name.as_str()]).run();
    assert_eq!(out.expect_code(0).stdout, "hello from cmd\n", "{out}");
    let out = env
        .coracle([
            "run",
            "--rm",
            name.as_str(),
            "sh",
            "-c",
            "echo $IMAGE_VAR; id -u",
        ])
        .run();
    assert_eq!(out.expect_code(0).stdout, "set\n0\n", "{out}");

    // A second pull finds everything in place.
    let out = env.coracle(["pull", name.as_str()]).run();
    assert!(out.expect_code(0).stderr.contains("up to date"), "{out}");
}

#[test]
fn whiteouts_of_upper_layers_apply() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let reg = registry_with_images(&env);
    let name = format!("{}/layered", reg.host);
    let out = env
        .coracle([
            "run",
            "--rm",
            name.as_str(),
            "sh",
            "-c",
            "cat /etc/motd; ls /etc",
        ])
        .run();
    let s = out.expect_code(0).stdout.clone();
    assert!(s.starts_with("second layer\n"), "{out}");
    assert!(
        s.contains("passwd") && !s.contains("group"),
        "whiteout must remove /etc/group\n{out}"
    );

    // The opaque directory hides the lower layer's content; the hard link
    // is one file; the symlink resolves.
    let out = env
        .coracle([
            "run",
            "--rm",
            name.as_str(),
            "sh",
            "-c",
            "ls -A /opt/data; stat -c '%i %h' /opt/x /opt/y; cat /opt/z",
        ])
        .run();
    let lines = out.expect_code(0).lines();
    assert_eq!(lines[0], "new", "{out}");
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(
        lines[1], lines[2],
        "a hard link must be the same file\n{out}"
    );
    assert!(lines[1].ends_with(" 2"), "{out}");
    assert_eq!(lines[3], "linked", "{out}");

    // The owner the user cannot give a file is recorded for the overlay
    // (presented by the storage drivers).
    let layers = env.data.join("coracle/storage/layers");
    let recorded: Vec<String> = std::fs::read_dir(&layers)
        .unwrap()
        .filter_map(|e| {
            xattr::get(
                e.unwrap().path().join("opt/owned"),
                "user.containers.override_stat",
            )
            .ok()
            .flatten()
        })
        .map(|v| String::from_utf8(v).unwrap())
        .collect();
    assert_eq!(recorded, ["1000:100:0640:file"]);
}

#[test]
fn run_with_pull_never_names_the_missing_image() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env
        .coracle(["run", "--rm", "--pull", "never", "127.0.0.1:9/none", "true"])
        .run();
    out.expect_code(125);
    assert!(
        out.stderr.contains("127.0.0.1:9/none") && out.stderr.contains("coracle pull"),
        "{out}"
    );
}

#[test]
fn pulling_a_missing_image_fails_clearly_and_leaves_nothing() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let reg = RegistryServer::start(None).expect("registry");
    let name = format!("{}/nothing-here", reg.host);
    let out = env.coracle(["pull", name.as_str()]).run();
    assert_ne!(out.code(), 0, "{out}");
    assert!(out.stderr.contains("nothing-here"), "{out}");
    let out = env.coracle(["images", "-q"]).run();
    assert_eq!(out.expect_code(0).stdout, "", "{out}");
}

#[test]
fn concurrent_pulls_of_one_image_both_succeed() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let reg = registry_with_images(&env);
    let name = format!("{}/layered", reg.host);
    let a = env.coracle(["pull", "-q", name.as_str()]).spawn();
    let b = env.coracle(["pull", "-q", name.as_str()]).spawn();
    let (a, b) = (a.wait(), b.wait());
    a.expect_code(0);
    b.expect_code(0);
    let out = env
        .coracle(["run", "--rm", name.as_str(), "cat", "/etc/motd"])
        .run();
    assert_eq!(out.expect_code(0).stdout, "second layer\n", "{out}");
}

/// `kill -9` of a pull at several moments (before, during and after the
/// downloads and unpacking) never leaves a store the next pull cannot use:
/// each next pull succeeds and the image runs.
#[test]
fn a_killed_pull_leaves_a_usable_store() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let reg = RegistryServer::start(None).expect("registry");
    let root = env.dir.join("image-root");
    env.build_rootfs(&root);
    // Several sizeable layers, so that the kills land in different phases.
    let mut layers = vec![layer(Some(&root), &[])];
    for i in 0..4u8 {
        let blob: Vec<u8> = (0..3_000_000u32)
            .map(|n| (n.wrapping_mul(2654435761) >> (i + 3)) as u8)
            .collect();
        let name = format!("data/blob{i}");
        layers.push(layer(None, &[(name.as_str(), &blob[..])]));
    }
    push(&reg.host, "big", &layers, &["sh"], &[]);
    let name = format!("{}/big", reg.host);
    for (i, delay_ms) in [0u64, 20, 60, 150, 300, 600].into_iter().enumerate() {
        let running = env.coracle(["pull", "-q", name.as_str()]).spawn();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        running.signal(nix::sys::signal::Signal::SIGKILL);
        let _ = running.wait();
        // Wipe the result half the time, so later kills hit a cold store too.
        if i % 2 == 0 {
            env.coracle(["image", "prune", "-a", "-f"])
                .run()
                .expect_code(0);
        }
    }
    let out = env.coracle(["pull", name.as_str()]).run();
    out.expect_code(0);
    let out = env
        .coracle([
            "run",
            "--rm",
            name.as_str(),
            "sh",
            "-c",
            "ls /data | wc -l; cat /etc/passwd | head -1",
        ])
        .run();
    assert_eq!(
        out.expect_code(0).stdout,
        "4\nroot:x:0:0:root:/root:/bin/sh\n",
        "{out}"
    );
}
