//! Volumes, as the unprivileged user: `volume create/ls/inspect/rm/prune`,
//! `run -v NAME:/path` (created on first use, filled from the root when new
//! and empty), `--mount`, anonymous volumes for an image's `VOLUME`s.

mod common;

use std::fs;

use common::*;

fn volume_names(env: &Env) -> Vec<String> {
    let out = env.coracle(["volume", "ls", "-q"]).run();
    out.ok();
    out.lines()
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn named_volume_data_survives_rm_and_is_seen_by_a_second_container() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let out = env.sh(
        &["--name", "writer", "-v", "data:/data"],
        "echo kept > /data/f",
    );
    out.ok();
    assert_eq!(volume_names(&env), vec!["data"], "created on first use");
    // The record lists the mount.
    let m = env
        .coracle(["inspect", "-f", "{{json .Mounts}}", "writer"])
        .run();
    let mounts: serde_json::Value = serde_json::from_str(m.ok().trim()).unwrap();
    assert_eq!(mounts[0]["Type"], "volume", "{m}");
    assert_eq!(mounts[0]["Name"], "data", "{m}");
    assert_eq!(mounts[0]["Destination"], "/data", "{m}");
    assert_eq!(mounts[0]["RW"], true, "{m}");
    let src = mounts[0]["Source"].as_str().unwrap().to_string();
    assert!(src.ends_with("/coracle/volumes/data/_data"), "{m}");
    env.coracle(["rm", "writer"]).run().ok();

    let out = env.sh(&["--rm", "-v", "data:/data"], "cat /data/f");
    assert_eq!(out.ok(), "kept\n", "{out}");
    // :ro is read-only.
    let out = env.sh(
        &["--rm", "-v", "data:/data:ro"],
        "echo x > /data/g && echo wrote",
    );
    assert_ne!(out.code(), 0, "{out}");
    assert!(!out.stdout.contains("wrote"), "{out}");
    assert!(!std::path::Path::new(&src).join("g").exists());
    // --rm keeps named volumes.
    assert_eq!(volume_names(&env), vec!["data"]);
}

#[test]
fn volume_rm_is_refused_while_a_container_uses_it() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    env.sh(&["--name", "user", "-v", "busy:/b"], "true").ok();
    let id = env
        .coracle(["inspect", "-f", "{{.Id}}", "user"])
        .run()
        .ok()
        .trim()
        .to_string();
    let out = env.coracle(["volume", "rm", "busy"]).run();
    out.expect_code(1);
    assert!(
        out.stderr
            .contains(&format!("remove busy: volume is in use - [{id}]")),
        "{out}"
    );
    // Not even with -f; prune -a spares it too.
    env.coracle(["volume", "rm", "-f", "busy"])
        .run()
        .expect_code(1);
    env.coracle(["volume", "prune", "-a", "-f"]).run().ok();
    assert_eq!(volume_names(&env), vec!["busy"]);
    env.coracle(["rm", "user"]).run().ok();
    let out = env.coracle(["volume", "rm", "busy"]).run();
    assert_eq!(out.ok(), "busy\n", "{out}");
    assert!(volume_names(&env).is_empty());
    let out = env.coracle(["volume", "rm", "busy"]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("No such volume: busy"), "{out}");
    env.coracle(["volume", "rm", "-f", "busy"]).run().ok();
}

#[test]
fn a_new_volume_gets_the_roots_content_without_leaving_the_root() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let seed = env.rootfs.join("srv/seed");
    env.mkdir_owned(&env.rootfs.join("srv"), 0o755);
    env.mkdir_owned(&seed, 0o750);
    env.mkdir_owned(&seed.join("sub"), 0o755);
    env.write_owned(&seed.join("sub/file"), "from the root\n");
    std::os::unix::fs::symlink("/etc/passwd", seed.join("abs-link")).unwrap();
    env.chown(&seed.join("abs-link"));
    // A symlink that points out of the root: resolved inside it.
    std::os::unix::fs::symlink("../../../../../../etc", env.rootfs.join("escape")).unwrap();
    env.chown(&env.rootfs.join("escape"));

    let out = env.sh(
        &["--rm", "-v", "seed:/srv/seed"],
        "cat /srv/seed/sub/file; readlink /srv/seed/abs-link",
    );
    assert_eq!(out.ok(), "from the root\n/etc/passwd\n", "{out}");
    let data = env.data.join("coracle/volumes/seed/_data");
    assert_eq!(
        fs::read_to_string(data.join("sub/file")).unwrap(),
        "from the root\n"
    );
    assert!(fs::symlink_metadata(data.join("abs-link"))
        .unwrap()
        .file_type()
        .is_symlink());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&data).unwrap().permissions().mode() & 0o7777,
        0o750
    );
    // Not copied again once it has content: the container's change stays.
    env.sh(&["--rm", "-v", "seed:/srv/seed"], "rm /srv/seed/sub/file")
        .ok();
    let out = env.sh(
        &["--rm", "-v", "seed:/srv/seed"],
        "ls /srv/seed/sub | wc -l",
    );
    assert_eq!(out.ok().trim(), "0", "{out}");
    // nocopy: nothing copied.
    let out = env.sh(
        &["--rm", "-v", "bare:/srv/seed:nocopy"],
        "ls -A /srv/seed | wc -l",
    );
    assert_eq!(out.ok().trim(), "0", "{out}");

    env.sh(&["--rm", "-v", "esc:/escape"], "true").ok();
    let passwd = fs::read_to_string(env.data.join("coracle/volumes/esc/_data/passwd")).unwrap();
    assert!(
        passwd.contains("user:x:1000") && !passwd.contains(FULL_USER),
        "the copy came from the container's /etc, not the host's: {passwd}"
    );
}

#[test]
fn volume_commands_and_formats() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env
        .coracle(["volume", "create", "--label", "team=db", "vol1"])
        .run();
    assert_eq!(out.ok(), "vol1\n", "{out}");
    // Creating an existing volume is not an error (Docker).
    env.coracle(["volume", "create", "vol1"]).run().ok();
    let anon = env.coracle(["volume", "create"]).run();
    let generated = anon.ok().trim().to_string();
    assert!(is_hex64(&generated), "{anon}");
    let out = env.coracle(["volume", "create", "bad/name"]).run();
    assert_ne!(out.code(), 0);
    assert!(out.stderr.contains("[a-zA-Z0-9][a-zA-Z0-9_.-]"), "{out}");

    let out = env.coracle(["volume", "ls"]).run();
    let lines = out.lines();
    assert_eq!(lines[0], "DRIVER    VOLUME NAME", "{out}");
    assert!(lines.iter().any(|l| l == "local     vol1"), "{out}");
    assert_eq!(lines.len(), 3, "{out}");
    let out = env.coracle(["volume", "ls", "--format", "json"]).run();
    let rows: Vec<serde_json::Value> = out
        .ok()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let v1 = rows.iter().find(|r| r["Name"] == "vol1").unwrap();
    assert_eq!(v1["Driver"], "local");
    assert_eq!(v1["Labels"], "team=db");
    assert_eq!(v1["Scope"], "local");
    let out = env
        .coracle(["volume", "ls", "-q", "--filter", "label=team"])
        .run();
    assert_eq!(out.ok(), "vol1\n", "{out}");
    let out = env
        .coracle(["volume", "ls", "-q", "--filter", "name=vol"])
        .run();
    assert_eq!(out.ok(), "vol1\n", "{out}");
    let out = env
        .coracle(["volume", "ls", "-q", "--filter", "dangling=true"])
        .run();
    assert_eq!(out.lines().len(), 2, "{out}");
    env.coracle(["volume", "ls", "--filter", "dangling=maybe"])
        .run()
        .expect_code(125);

    let out = env.coracle(["volume", "inspect", "vol1"]).run();
    let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
    let v = &v[0];
    assert_eq!(v["Name"], "vol1");
    assert_eq!(v["Driver"], "local");
    assert_eq!(v["Scope"], "local");
    assert_eq!(v["Labels"]["team"], "db");
    assert!(v["Options"].is_null());
    assert!(v["CreatedAt"].as_str().unwrap().ends_with('Z'));
    let mp = v["Mountpoint"].as_str().unwrap();
    assert_eq!(
        mp,
        env.data
            .join("coracle/volumes/vol1/_data")
            .to_str()
            .unwrap()
    );
    assert!(std::path::Path::new(mp).is_dir());
    assert!(env.data.join("coracle/volumes/vol1/volume.json").is_file());
    let out = env
        .coracle(["volume", "inspect", "-f", "{{.Name}} {{.Driver}}", "vol1"])
        .run();
    assert_eq!(out.ok(), "vol1 local\n");
    env.coracle(["volume", "inspect", "nope"])
        .run()
        .expect_code(1);

    // An anonymous volume (from -v /path) is what prune removes by default.
    env.sh(&["--rm", "-v", "/anon"], "true").ok();
    env.sh(&["--name", "keep", "-v", "/anon2"], "true").ok();
    assert_eq!(
        volume_names(&env).len(),
        3,
        "--rm removed its anonymous volume"
    );
    let out = env.coracle(["volume", "prune", "-f"]).run();
    assert!(!out.ok().contains("vol1"), "{out}");
    assert!(out.stdout.contains("Total reclaimed space"), "{out}");
    assert_eq!(
        volume_names(&env).len(),
        3,
        "the used anonymous volume stays"
    );
    env.coracle(["rm", "keep"]).run().ok();
    let out = env.coracle(["volume", "prune", "-f"]).run();
    assert!(out.ok().starts_with("Deleted Volumes:\n"), "{out}");
    assert_eq!(volume_names(&env).len(), 2);
    let out = env.coracle(["volume", "prune", "-a", "-f"]).run();
    assert!(
        out.ok().contains("vol1") && out.stdout.contains(&generated),
        "{out}"
    );
    assert!(volume_names(&env).is_empty());
}

#[test]
fn concurrent_creates_of_one_name_make_one_volume() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let runs: Vec<Running> = (0..4)
        .map(|_| env.coracle(["volume", "create", "same"]).spawn())
        .collect();
    for r in runs {
        assert_eq!(r.wait().ok(), "same\n");
    }
    assert_eq!(volume_names(&env), vec!["same"]);
    let leftovers: Vec<_> = fs::read_dir(env.data.join("coracle/volumes"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn mount_flag_forms_and_errors() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let host = env.dir.join("hostdir");
    env.mkdir_owned(&host, 0o755);
    env.write_owned(&host.join("h"), "host file\n");
    let bind = format!("type=bind,source={},target=/b,readonly", host.display());
    let out = env.sh(
        &[
            "--rm",
            "--mount",
            &bind,
            "--mount",
            "type=volume,src=mv,dst=/m",
            "--mount",
            "type=tmpfs,destination=/t,tmpfs-size=1m",
        ],
        "cat /b/h; echo x > /b/new || echo ro; echo v > /m/v && cat /m/v; grep ' /t ' /proc/self/mountinfo | grep -c tmpfs",
    );
    assert_eq!(out.ok(), "host file\nro\nv\n1\n", "{out}");
    assert!(!host.join("new").exists());
    assert_eq!(volume_names(&env), vec!["mv"]);
    for (m, want) in [
        ("type=volume,src=x", "target is required"),
        ("type=bind,target=/x", "field Source must not be empty"),
        (
            "type=volume,target=/x,colour=red",
            "unexpected key 'colour'",
        ),
        ("type=tmpfs,src=x,target=/x", "must not be specified"),
    ] {
        let out = env.run(&["--rm", "--mount", m], &["true"]).run();
        out.expect_code(125);
        assert!(out.stderr.contains(want), "{m}: {out}");
    }
    let out = env.run(&["--rm", "-v", "./rel:/x"], &["true"]).run();
    out.expect_code(125);
    assert!(out.stderr.contains("use absolute path"), "{out}");
    assert!(env.state_dirs().is_empty(), "bad input leaves no container");
}

#[test]
fn image_volume_gets_an_anonymous_volume_that_rm_v_removes() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    // An image with VOLUME /data and content there.
    env.mkdir_owned(&env.rootfs.join("data"), 0o755);
    env.write_owned(&env.rootfs.join("data/seed"), "seeded\n");
    let tarball = env.dir.join("root.tar");
    let out = std::process::Command::new("tar")
        .arg("-C")
        .arg(&env.rootfs)
        .arg("-cf")
        .arg(&tarball)
        .arg(".")
        .output()
        .unwrap();
    assert!(out.status.success());
    env.chown(&tarball);
    env.coracle([
        "import",
        "-c",
        "VOLUME /data",
        "-c",
        "CMD [\"sh\"]",
        tarball.to_str().unwrap(),
        "local/withvol:1",
    ])
    .run()
    .ok();

    let out = env
        .coracle([
            "run",
            "--name",
            "c1",
            "local/withvol:1",
            "sh",
            "-c",
            "cat /data/seed; echo mine > /data/new",
        ])
        .run();
    assert_eq!(out.ok(), "seeded\n", "{out}");
    let vols = volume_names(&env);
    assert_eq!(vols.len(), 1, "{vols:?}");
    assert!(is_hex64(&vols[0]));
    let m = env
        .coracle(["inspect", "-f", "{{json .Mounts}}", "c1"])
        .run();
    let mounts: serde_json::Value = serde_json::from_str(m.ok().trim()).unwrap();
    assert_eq!(mounts[0]["Type"], "volume", "{m}");
    assert_eq!(mounts[0]["Name"], vols[0].as_str(), "{m}");
    assert_eq!(mounts[0]["Destination"], "/data", "{m}");
    let out = env
        .coracle(["volume", "inspect", "-f", "{{json .Labels}}", &vols[0]])
        .run();
    assert!(out.ok().contains("com.docker.volume.anonymous"), "{out}");

    // A path given on the command line replaces the image's volume.
    env.coracle([
        "run",
        "--rm",
        "-v",
        "named:/data",
        "local/withvol:1",
        "true",
    ])
    .run()
    .ok();
    assert_eq!(volume_names(&env).len(), 2);

    // rm without -v keeps it; rm -v removes it (named volumes stay).
    env.sh(&["--name", "c2", "-v", "/x"], "true").ok();
    env.coracle(["rm", "c2"]).run().ok();
    assert_eq!(volume_names(&env).len(), 3);
    env.coracle(["rm", "-v", "c1"]).run().ok();
    let left = volume_names(&env);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(!left.contains(&vols[0]) && left.contains(&"named".to_string()));
    // run --rm removes the anonymous volume of the image too.
    env.coracle(["run", "--rm", "local/withvol:1", "true"])
        .run()
        .ok();
    assert_eq!(volume_names(&env).len(), 2);
}

#[test]
fn detached_rm_container_takes_its_anonymous_volume_along() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let out = env
        .run(
            &["-d", "--rm", "-v", "/anon", "-v", "kept:/kept"],
            &["sh", "-c", "echo x > /anon/f"],
        )
        .run();
    let id = out.ok().trim().to_string();
    assert!(is_hex64(&id), "{out}");
    // The monitor removes the container, then its anonymous volume.
    assert!(wait_until(|| volume_names(&env) == vec!["kept"]));
}

#[test]
fn named_volumes_work_in_single_id_mode() {
    let Some(env) = Env::new(Mode::Single) else {
        return;
    };
    env.sh(&["--rm", "-v", "solo:/s"], "echo one > /s/f").ok();
    let out = env.sh(&["--rm", "-v", "solo:/s:ro"], "cat /s/f");
    assert_eq!(out.ok(), "one\n", "{out}");
    env.coracle(["volume", "rm", "solo"]).run().ok();
    assert!(volume_names(&env).is_empty());
}
