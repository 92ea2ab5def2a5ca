//! Security policies (`--policy`, `policies/*.toml`), landlock, rlimits,
//! `--security-opt seccomp=FILE` and `coracle policy ls|show|check`, as
//! the unprivileged user. Each restriction is shown to bite (a write, a
//! bind, a system call fails) next to the allowed version that works.

mod common;

use std::path::PathBuf;

use common::*;

fn inspect(env: &Env, id: &str) -> serde_json::Value {
    let out = env.coracle(["inspect", id]).run();
    let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
    v[0].clone()
}

/// The kernel's landlock ABI version.
fn landlock_abi() -> i64 {
    // landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    let v = unsafe { libc::syscall(libc::SYS_landlock_create_ruleset, 0usize, 0usize, 1u32) };
    v.max(0)
}

/// Landlock with ABI `n` or newer, or skip (a failure under CI=true).
fn require_landlock(n: i64) -> bool {
    require(
        landlock_abi() >= n,
        &format!("landlock ABI {n} (Linux with CONFIG_SECURITY_LANDLOCK and landlock in lsm=)"),
    )
}

/// A policy file readable by the test user.
fn policy_file(env: &Env, name: &str, text: &str) -> PathBuf {
    let p = env.dir.join(format!("{name}.toml"));
    env.write_owned(&p, text);
    p
}

/// strict, but with a writable root: what is left of its write
/// restriction is landlock's.
const STRICT_RW_ROOT: &str = "extends = \"strict\"\nread_only_root = false\n";

#[test]
fn default_policy_is_applied_and_recorded() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env
        .coracle([
            "create",
            "--name",
            "d",
            "--rootfs",
            env.rootfs.to_str().unwrap(),
            "true",
        ])
        .run();
    out.ok();
    assert!(!out.stderr.contains("WARNING"), "{out}");
    let v = inspect(&env, "d");
    let p = &v["CoraclePolicy"];
    assert_eq!(p["Name"], "default", "{v:#}");
    assert_eq!(p["Source"], "built-in", "{v:#}");
    assert_eq!(p["Seccomp"], "default", "{v:#}");
    assert_eq!(p["Unconfined"], false, "{v:#}");
    assert_eq!(p["EgressDefault"], "allow", "{v:#}");
    assert_eq!(p["Landlock"]["Abi"], landlock_abi(), "{v:#}");
    let opts: Vec<String> = v["HostConfig"]["SecurityOpt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert!(opts.contains(&"no-new-privileges".to_string()), "{opts:?}");
    assert!(opts.contains(&"policy=default".to_string()), "{opts:?}");
    assert!(opts.iter().any(|o| o.starts_with("landlock=")), "{opts:?}");
    // The container runs filtered, with no_new_privs.
    let out = env.sh(&[], "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status");
    assert!(out.ok().contains("Seccomp:\t2"), "{out}");
    assert!(out.ok().contains("NoNewPrivs:\t1"), "{out}");
}

#[test]
fn unconfined_policy_is_loud() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.sh(
        &["--name", "u", "--policy", "unconfined"],
        "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status",
    );
    assert!(out.ok().contains("Seccomp:\t0"), "{out}");
    assert!(out.ok().contains("NoNewPrivs:\t0"), "{out}");
    assert!(
        out.stderr
            .contains("WARNING: policy unconfined: UNCONFINED"),
        "a warning on stderr\n{out}"
    );
    let v = inspect(&env, "u");
    assert_eq!(v["CoraclePolicy"]["Unconfined"], true, "{v:#}");
    assert!(
        v["CoraclePolicy"]["Warning"]
            .as_str()
            .unwrap()
            .contains("UNCONFINED"),
        "{v:#}"
    );
    assert!(v["HostConfig"]["SecurityOpt"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("seccomp=unconfined")));
}

#[test]
fn strict_writes_only_to_volumes_and_tmpfs() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    if !require_landlock(1) {
        return;
    }
    let script = "touch /etc/x 2>&1; echo etc=$?; \
                  touch /data/x && echo data=ok; touch /tmp/y && echo tmp=ok; \
                  echo hi > /dev/null && echo null=ok; cat /etc/passwd >/dev/null && echo read=ok; \
                  grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status";
    let out = env.sh(
        &["--policy", "strict", "-v", "work:/data", "--tmpfs", "/tmp"],
        script,
    );
    let o = out.ok();
    assert!(o.contains("etc=1"), "the root is read-only\n{out}");
    for w in [
        "data=ok",
        "tmp=ok",
        "null=ok",
        "read=ok",
        "NoNewPrivs:\t1",
        "Seccomp:\t2",
    ] {
        assert!(o.contains(w), "{w}\n{out}");
    }

    // With the root writable, landlock alone still stops the write
    // (EACCES, not EROFS), and the volume stays writable.
    let p = policy_file(&env, "rwroot", STRICT_RW_ROOT);
    let out = env.sh(
        &["--policy", p.to_str().unwrap(), "-v", "work:/data"],
        "touch /etc/x; echo etc=$?; touch /data/y && echo data=ok; \
         mkdir /data/d && echo mkdir=ok; rm /data/y && echo rm=ok",
    );
    let o = out.ok();
    assert!(o.contains("etc=1"), "{out}");
    assert!(
        out.stderr.contains("Permission denied"),
        "landlock's EACCES\n{out}"
    );
    assert!(!out.stderr.contains("Read-only file system"), "{out}");
    for w in ["data=ok", "mkdir=ok", "rm=ok"] {
        assert!(o.contains(w), "{w}\n{out}");
    }
    // The same write works under the default policy.
    let out = env.sh(&[], "touch /etc/x && echo etc=ok");
    assert!(out.ok().contains("etc=ok"), "{out}");
}

#[test]
fn exec_gets_the_containers_landlock_rules() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    if !require_landlock(1) {
        return;
    }
    let _c = Cleanup(&env);
    let p = policy_file(&env, "rwroot", STRICT_RW_ROOT);
    env.detached(
        &[
            "--name",
            "s",
            "--policy",
            p.to_str().unwrap(),
            "--tmpfs",
            "/scratch",
        ],
        "sleep 60",
    );
    let out = env
        .coracle([
            "exec",
            "s",
            "sh",
            "-c",
            "touch /etc/x; echo etc=$?; touch /scratch/x && echo scratch=ok",
        ])
        .run();
    assert!(out.ok().contains("etc=1"), "{out}");
    assert!(out.ok().contains("scratch=ok"), "{out}");
    env.coracle(["rm", "-f", "s"]).run().ok();
}

#[test]
fn strict_denies_tcp_bind_unless_the_port_is_allowed() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    if !require_landlock(4) {
        return;
    }
    std::fs::write(env.rootfs.join("index.html"), "served\n").unwrap();
    env.chown(&env.rootfs.join("index.html"));
    // strict: no port may be bound.
    let out = env.sh(
        &["--policy", "strict"],
        "httpd -f -p 127.0.0.1:8080 -h /; echo httpd=$?",
    );
    assert!(out.ok().contains("httpd=1"), "{out}");
    assert!(
        out.stdout.contains("Permission denied") || out.stderr.contains("Permission denied"),
        "{out}"
    );
    // A policy that extends strict and allows 8080: the server answers
    // there, and 9090 stays denied.
    let p = policy_file(
        &env,
        "web",
        "extends = \"strict\"\n[landlock]\nbind_tcp = [8080]\n",
    );
    let out = env.sh(
        &["--policy", p.to_str().unwrap()],
        "httpd -p 127.0.0.1:8080 -h / && wget -q -O - http://127.0.0.1:8080/index.html; \
         httpd -f -p 127.0.0.1:9090 -h /; echo other=$?",
    );
    assert!(out.ok().contains("served"), "{out}");
    assert!(out.ok().contains("other=1"), "{out}");
    // The default policy does not restrict binding.
    let out = env.sh(
        &[],
        "httpd -p 127.0.0.1:9090 -h / && wget -q -O - http://127.0.0.1:9090/index.html",
    );
    assert!(out.ok().contains("served"), "{out}");
}

#[test]
fn rlimits_from_the_policy_and_ulimit() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let show = "echo $(ulimit -n) $(ulimit -Hn) $(ulimit -c)";
    let out = env.sh(&["--policy", "strict", "--tmpfs", "/tmp"], show);
    assert_eq!(out.ok().trim(), "1024 4096 0", "{out}");
    // --ulimit overrides the policy's limit by name.
    let out = env.sh(&["--policy", "strict", "--ulimit", "nofile=100:200"], show);
    assert_eq!(out.ok().trim(), "100 200 0", "{out}");
    let out = env.sh(&["--name", "ul", "--ulimit", "core=0:0"], "ulimit -c");
    assert_eq!(out.ok().trim(), "0", "{out}");
    let v = inspect(&env, "ul");
    assert_eq!(
        v["HostConfig"]["Ulimits"],
        serde_json::json!([{"Name": "core", "Soft": 0, "Hard": 0}]),
        "{v:#}"
    );
    // Bad values are refused before anything is made.
    let before = env.state_dirs().len();
    for bad in ["nofile", "nofile=2:1", "bogus=1", "nofile=x"] {
        let out = env.run(&["--ulimit", bad], &["true"]).run();
        out.expect_code(125);
        assert!(out.stderr.contains("--ulimit"), "{bad}\n{out}");
    }
    assert_eq!(
        env.state_dirs().len(),
        before,
        "nothing left by the refusals"
    );
}

#[test]
fn flags_compose_with_the_policy() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    // strict drops NET_RAW; --cap-add gives it back; --cap-drop takes more.
    let caps = "grep CapBnd /proc/self/status";
    let bnd = |opts: &[&str]| {
        let out = env.sh(opts, caps);
        let hex = out.ok().split_whitespace().nth(1).unwrap().to_string();
        u64::from_str_radix(&hex, 16).unwrap()
    };
    const NET_RAW: u64 = 1 << 13;
    const CHOWN: u64 = 1;
    assert_ne!(bnd(&[]) & NET_RAW, 0);
    assert_eq!(bnd(&["--policy", "strict"]) & NET_RAW, 0);
    assert_ne!(
        bnd(&["--policy", "strict", "--cap-add", "NET_RAW"]) & NET_RAW,
        0
    );
    assert_eq!(
        bnd(&["--policy", "strict", "--cap-drop", "CHOWN"]) & CHOWN,
        0
    );
    // --security-opt over the policy.
    let out = env.sh(
        &["--security-opt", "no-new-privileges=false"],
        "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status",
    );
    assert!(out.ok().contains("NoNewPrivs:\t0"), "{out}");
    assert!(out.ok().contains("Seccomp:\t2"), "still filtered\n{out}");
    let out = env.sh(
        &["--policy", "strict", "--security-opt", "seccomp=unconfined"],
        "grep '^Seccomp:' /proc/self/status",
    );
    assert!(out.ok().contains("Seccomp:\t0"), "{out}");
    let p = policy_file(&env, "rwroot", STRICT_RW_ROOT);
    let out = env.sh(
        &[
            "--policy",
            p.to_str().unwrap(),
            "--security-opt",
            "landlock=unconfined",
        ],
        "touch /etc/x && echo etc=ok",
    );
    assert!(out.ok().contains("etc=ok"), "{out}");
    // --read-only over the default policy.
    let out = env.sh(&["--read-only"], "touch /etc/x; echo etc=$?");
    assert!(out.ok().contains("etc=1"), "{out}");
}

#[test]
fn bad_policies_and_host_network_egress_are_refused() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.run(&["--policy", "nosuch"], &["true"]).run();
    out.expect_code(125);
    assert!(
        out.stderr.contains("no policy named \"nosuch\"") && out.stderr.contains("policy ls"),
        "{out}"
    );
    let p = policy_file(&env, "bad", "[capabilities]\ndrop = [\"NOPE\"]\n");
    let out = env.run(&["--policy", p.to_str().unwrap()], &["true"]).run();
    out.expect_code(125);
    assert!(
        out.stderr.contains("line 2") && out.stderr.contains("unknown capability"),
        "{out}"
    );
    // Egress rules need coracle's network stack.
    let out = env
        .run(&["--policy", "strict", "--network", "host"], &["true"])
        .run();
    out.expect_code(125);
    assert!(
        out.stderr
            .contains("cannot be enforced on the host network"),
        "{out}"
    );
    // network none with egress rules: nothing leaves, which is consistent.
    let out = env.sh(&["--policy", "strict", "--network", "none"], "echo ok");
    assert_eq!(out.ok().trim(), "ok");
    assert!(env.state_dirs().len() == 1, "nothing left by the refusals");
}

#[test]
fn seccomp_file_takes_a_docker_json_profile() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    // Everything allowed except mkdir/mkdirat (ENOSPC, so the answer
    // cannot come from anything else).
    let prof = env.dir.join("p.json");
    env.write_owned(
        &prof,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28}]}"#,
    );
    let opt = format!("seccomp={}", prof.display());
    let out = env.sh(
        &["--name", "j", "--security-opt", &opt],
        "mkdir /x 2>&1; touch /y && echo touch=ok",
    );
    assert!(out.ok().contains("No space left on device"), "{out}");
    assert!(out.ok().contains("touch=ok"), "{out}");
    let v = inspect(&env, "j");
    assert_eq!(
        v["CoraclePolicy"]["Seccomp"],
        prof.display().to_string(),
        "{v:#}"
    );
    // A bad profile: one error naming the field.
    let bad = env.dir.join("bad.json");
    env.write_owned(
        &bad,
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_KILL"}]}"#,
    );
    let out = env
        .run(
            &["--security-opt", &format!("seccomp={}", bad.display())],
            &["true"],
        )
        .run();
    out.expect_code(125);
    assert!(
        out.stderr.contains("syscalls[0].action") && out.stderr.contains("SCMP_ACT_KILL"),
        "{out}"
    );
}

#[test]
fn policy_ls_show_check() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.coracle(["policy", "ls"]).run();
    for n in ["default", "strict", "unconfined"] {
        assert!(out.ok().lines().any(|l| l.starts_with(n)), "{n}\n{out}");
    }
    // A policy in the user's config directory is listed and usable.
    let dir = env.config.join("coracle/policies");
    env.mkdir_owned(&env.config.join("coracle"), 0o755);
    env.mkdir_owned(&dir, 0o755);
    env.write_owned(
        &dir.join("mine.toml"),
        "extends = \"default\"\ndescription = \"my own\"\n[rlimits]\ncore = 0\n",
    );
    let out = env.coracle(["policy", "ls"]).run();
    assert!(
        out.ok()
            .lines()
            .any(|l| l.starts_with("mine") && l.contains("my own")),
        "{out}"
    );
    let out = env.sh(&["--policy", "mine"], "ulimit -c");
    assert_eq!(out.ok().trim(), "0", "{out}");

    let out = env.coracle(["policy", "show", "strict"]).run();
    let o = out.ok();
    assert!(
        o.contains(&format!("kernel ABI {}", landlock_abi())),
        "{out}"
    );
    for w in [
        "Read-only root:    yes",
        "TCP bind:        denied",
        "enforced:",
        "ptrace",
    ] {
        assert!(o.contains(w), "{w}\n{out}");
    }
    let out = env
        .coracle(["policy", "show", "--json", "unconfined"])
        .run();
    let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(v["Policy"]["unconfined"], true, "{v:#}");

    let good = policy_file(
        &env,
        "good",
        "extends = \"strict\"\n[landlock]\nbind_tcp = [8080]\n",
    );
    let out = env
        .coracle(["policy", "check", good.to_str().unwrap()])
        .run();
    assert!(out.ok().contains(": ok"), "{out}");
    let bad = policy_file(
        &env,
        "bad",
        "description = \"x\"\n\n[landlock]\nscope = [\"signal\", \"everything\"]\n",
    );
    let out = env
        .coracle(["policy", "check", bad.to_str().unwrap()])
        .run();
    out.expect_code(1);
    assert!(
        out.stderr.contains("line 4") && out.stderr.contains("everything"),
        "{out}"
    );
}

#[test]
fn policies_are_found_in_the_install_dir_after_the_users() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    // PREFIX/bin/coracle finds PREFIX/share/coracle/policies.
    let prefix = env.dir.join("prefix");
    let share = prefix.join("share/coracle/policies");
    for d in [
        prefix.clone(),
        prefix.join("bin"),
        prefix.join("share"),
        prefix.join("share/coracle"),
        share.clone(),
    ] {
        env.mkdir_owned(&d, 0o755);
    }
    let bin = prefix.join("bin/coracle");
    std::fs::copy(&env.bin, &bin).unwrap();
    env.chown(&bin);
    env.write_owned(&share.join("site.toml"), "description = \"site policy\"\n");
    env.write_owned(
        &share.join("strict.toml"),
        "description = \"site strict\"\n",
    );
    let out = env.host(&bin, ["policy", "ls"]).run();
    let line = |n: &str| {
        out.ok()
            .lines()
            .find(|l| l.split_whitespace().next() == Some(n))
            .unwrap_or_else(|| panic!("{n} listed\n{out}"))
            .to_string()
    };
    assert!(line("site").contains(&share.display().to_string()), "{out}");
    assert!(
        line("strict").contains("site strict"),
        "the install dir's copy wins over the built-in one\n{out}"
    );
    assert!(line("default").contains("built-in"), "{out}");
    // The user's directory comes first.
    env.mkdir_owned(&env.config.join("coracle"), 0o755);
    env.mkdir_owned(&env.config.join("coracle/policies"), 0o755);
    env.write_owned(
        &env.config.join("coracle/policies/site.toml"),
        "description = \"my site\"\n",
    );
    let out = env.host(&bin, ["policy", "show", "site"]).run();
    assert!(out.ok().contains("my site"), "{out}");
}

#[test]
fn strict_seccomp_takes_calls_out_of_the_allow_list() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    // mkfifo is mknodat: no capability needed, landlock grants it in a
    // tmpfs, so only strict's seccomp `deny` stops it (EPERM).
    let script =
        "mkfifo /tmp/f && echo fifo=ok; grep -c . /proc/self/status >/dev/null && echo sh=ok";
    let out = env.sh(&["--policy", "strict", "--tmpfs", "/tmp"], script);
    assert!(!out.ok().contains("fifo=ok"), "{out}");
    assert!(out.ok().contains("sh=ok"), "{out}");
    assert!(out.stderr.contains("Operation not permitted"), "{out}");
    let out = env.sh(&["--tmpfs", "/tmp"], script);
    assert!(
        out.ok().contains("fifo=ok"),
        "the default policy allows it\n{out}"
    );
    // A policy can also add calls back, with argument conditions:
    // mknodat only for FIFOs (mode & S_IFMT == S_IFIFO).
    let p = policy_file(
        &env,
        "fifo",
        "extends = \"strict\"\n[[seccomp.allow]]\nnames = [\"mknodat\", \"mknod\"]\n\
         args = [{ index = 2, op = \"masked_eq\", value = 0o170000, value_two = 0o010000 }]\n",
    );
    let out = env.sh(
        &["--policy", p.to_str().unwrap(), "--tmpfs", "/tmp"],
        script,
    );
    assert!(
        out.ok().contains("fifo=ok"),
        "allowed back for FIFOs\n{out}"
    );
    // A character device has another file type: still denied (strict
    // has no CAP_MKNOD either).
    let out = env.sh(
        &["--policy", p.to_str().unwrap(), "--tmpfs", "/tmp"],
        "mknod /tmp/c c 1 3 2>&1; echo rc=$?",
    );
    assert!(out.ok().contains("rc=1"), "{out}");
}
