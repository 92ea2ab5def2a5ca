//! `import`, `save`, `load` through the binary, as the unprivileged user.

mod common;

use common::*;

#[test]
fn import_save_rmi_load_and_run() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    // A rootfs tarball, as a user would make one.
    let tarball = env.dir.join("root.tar");
    let out = std::process::Command::new("tar")
        .arg("-C")
        .arg(&env.rootfs)
        .arg("-cf")
        .arg(&tarball)
        .arg(".")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.chown(&tarball);
    let t = tarball.to_str().unwrap();
    let out = env
        .coracle([
            "import",
            "-c",
            "CMD [\"echo\", \"imported\"]",
            "-c",
            "ENV FROM=import",
            t,
            "local/imported:1",
        ])
        .run();
    let id = out.expect_code(0).stdout.trim().to_string();
    assert!(id.starts_with("sha256:"), "{out}");
    let out = env.coracle(["run", "--rm", "local/imported:1"]).run();
    assert_eq!(out.expect_code(0).stdout, "imported\n", "{out}");

    for format in ["docker-archive", "oci-archive"] {
        let archive = env.home.join(format!("saved-{format}.tar"));
        let a = archive.to_str().unwrap();
        env.coracle(["save", "--format", format, "-o", a, "local/imported:1"])
            .run()
            .expect_code(0);
        env.coracle(["rmi", "local/imported:1"])
            .run()
            .expect_code(0);
        assert_eq!(
            env.coracle(["images", "-q"]).run().expect_code(0).stdout,
            ""
        );
        let out = env.coracle(["load", "-i", a]).run();
        assert!(
            out.expect_code(0)
                .stdout
                .contains("Loaded image: local/imported:1"),
            "{out}"
        );
        let out = env
            .coracle(["run", "--rm", "local/imported:1", "sh", "-c", "echo $FROM"])
            .run();
        assert_eq!(out.expect_code(0).stdout, "import\n", "{format}: {out}");
        let ids = env.coracle(["images", "-q", "--no-trunc"]).run();
        assert_eq!(
            ids.expect_code(0).stdout.trim(),
            id,
            "{format}: the id survives the round trip"
        );
    }

    // Bad input: an unknown instruction, a missing file; nothing stored.
    let out = env.coracle(["import", "-c", "FROBNICATE x", t]).run();
    assert_ne!(out.code(), 0);
    assert!(out.stderr.contains("FROBNICATE"), "{out}");
    let out = env.coracle(["load", "-i", "/nonexistent.tar"]).run();
    assert_ne!(out.code(), 0);
    assert!(out.stderr.contains("/nonexistent.tar"), "{out}");
}
