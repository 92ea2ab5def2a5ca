//! `coracle run` options: environment, working directory, user, entrypoint,
//! capabilities, privileged mode, network modes.

mod common;

use common::*;

// --- environment ---------------------------------------------------------------

fn env_lines(out: &Out) -> Vec<String> {
    out.ok();
    out.stdout.lines().map(String::from).collect()
}

#[test]
fn default_environment() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env
        .run(&["-h", "envhost"], &["env"])
        .env("LEAKME", "from-caller")
        .run();
    let vars = env_lines(&out);
    let get = |k: &str| vars.iter().find_map(|l| l.strip_prefix(&format!("{k}=")));
    let path = get("PATH").unwrap_or_else(|| panic!("PATH is set by default\n{out}"));
    assert!(
        path.split(':').any(|d| d == "/bin"),
        "PATH contains /bin\n{out}"
    );
    assert_eq!(get("HOSTNAME"), Some("envhost"), "HOSTNAME\n{out}");
    assert_eq!(get("HOME"), Some("/root"), "HOME of root\n{out}");
    assert_eq!(
        get("LEAKME"),
        None,
        "the caller's environment must not leak in\n{out}"
    );
    assert_eq!(
        get("XDG_RUNTIME_DIR"),
        None,
        "the caller's environment must not leak in\n{out}"
    );
}

#[test]
fn env_options() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let file = env.dir.join("env.list");
    env.write_owned(
        &file,
        "# a comment\n\nFROM_FILE=file value\nOVERRIDDEN=from-file\n  \nEQUALS=a=b=c\n",
    );
    let out = env
        .run(
            &[
                "-e",
                "PLAIN=plain value",
                "-e",
                "COPIED",
                "-e",
                "NOT_IN_CALLER",
                "-e",
                "EMPTY=",
                "--env-file",
                file.to_str().unwrap(),
                "-e",
                "OVERRIDDEN=from-flag",
            ],
            &["env"],
        )
        .env("COPIED", "copied from caller")
        .run();
    let vars = env_lines(&out);
    let get = |k: &str| vars.iter().find_map(|l| l.strip_prefix(&format!("{k}=")));
    assert_eq!(get("PLAIN"), Some("plain value"), "-e K=V\n{out}");
    assert_eq!(
        get("COPIED"),
        Some("copied from caller"),
        "-e K copies the caller's value\n{out}"
    );
    assert_eq!(
        get("NOT_IN_CALLER"),
        None,
        "-e K with K unset in the caller sets nothing\n{out}"
    );
    assert_eq!(get("EMPTY"), Some(""), "-e K= sets an empty value\n{out}");
    assert_eq!(get("FROM_FILE"), Some("file value"), "--env-file\n{out}");
    assert_eq!(
        get("EQUALS"),
        Some("a=b=c"),
        "--env-file value with '='\n{out}"
    );
    assert_eq!(
        get("OVERRIDDEN"),
        Some("from-flag"),
        "-e wins over --env-file\n{out}"
    );
    assert!(
        !vars.iter().any(|l| l.contains("a comment")),
        "comments are not variables\n{out}"
    );
}

#[test]
fn env_file_missing_is_an_error() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let missing = env.dir.join("no-such-env-file");
    let out = env
        .run(&["--env-file", missing.to_str().unwrap()], &["true"])
        .run();
    out.expect_code(125);
    assert!(
        out.stderr.contains(missing.to_str().unwrap()),
        "stderr names the file\n{out}"
    );
}

// --- working directory -------------------------------------------------------------

#[test]
fn workdir_is_created_and_used() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.sh(&["-w", "/srv/deep/work"], "pwd; touch here");
    assert_eq!(out.ok().trim(), "/srv/deep/work", "{out}");
    assert!(
        env.rootfs.join("srv/deep/work/here").exists(),
        "cwd is the rootfs's /srv/deep/work"
    );
    let out = env.sh(&["-w", "/etc"], "pwd");
    assert_eq!(out.ok().trim(), "/etc", "{out}");
    // Default: /
    let out = env.sh(&[], "pwd");
    assert_eq!(out.ok().trim(), "/", "{out}");
}

#[test]
fn workdir_relative_is_rejected_or_rooted() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    // Docker requires an absolute path; a relative one must never resolve
    // against the host's current directory.
    let out = env.sh(&["-w", "relative/dir"], "pwd");
    if out.status.success() {
        assert_eq!(out.stdout.trim(), "/relative/dir", "{out}");
    } else {
        out.expect_code(125);
    }
    assert!(
        !env.home.join("relative").exists(),
        "created in the caller's cwd"
    );
}

// --- user ------------------------------------------------------------------------

#[test]
fn user_by_name() {
    let Some(env) = Env::new(Mode::Full) else {
        return;
    };
    let out = env.sh(&["-u", "user"], "id; echo $HOME; pwd");
    let lines = out.lines();
    out.ok();
    let id = &lines[0];
    assert!(
        id.contains("uid=1000(user)") && id.contains("gid=1000(user)"),
        "{out}"
    );
    assert!(
        id.contains("29(audio)") && id.contains("50(staff)"),
        "supplementary groups from /etc/group\n{out}"
    );
    assert!(!id.contains("0(root)"), "no root group left over\n{out}");
    assert_eq!(lines[1], "/home/user", "HOME from /etc/passwd\n{out}");
}

#[test]
fn user_by_uid_and_group() {
    let Some(env) = Env::new(Mode::Full) else {
        return;
    };
    let out = env.run(&["-u", "1000"], &["id"]).run();
    let s = out.ok();
    assert!(
        s.contains("uid=1000(user)") && s.contains("gid=1000(user)"),
        "-u 1000\n{out}"
    );
    let out = env.run(&["-u", "1000:100"], &["id"]).run();
    let s = out.ok();
    assert!(
        s.contains("uid=1000(user)") && s.contains("gid=100(users)"),
        "-u 1000:100\n{out}"
    );
    let out = env.run(&["-u", "user:staff"], &["id"]).run();
    let s = out.ok();
    assert!(
        s.contains("uid=1000(user)") && s.contains("gid=50(staff)"),
        "-u user:staff\n{out}"
    );
    // An id with no passwd entry works, with gid 0 as Docker does.
    let out = env.run(&["-u", "4242"], &["id", "-u"]).run();
    assert_eq!(out.ok().trim(), "4242", "{out}");
    let out = env.run(&["-u", "daemon"], &["id", "-u"]).run();
    assert_eq!(out.ok().trim(), "1", "{out}");
}

#[test]
fn user_files_are_owned_by_the_mapped_id() {
    let Some(env) = Env::new(Mode::Full) else {
        return;
    };
    let out = env.sh(
        &["-u", "user"],
        "touch /home/user/mine && stat -c '%u:%g' /home/user/mine",
    );
    assert_eq!(out.ok().trim(), "1000:1000", "{out}");
    if is_root() {
        use std::os::unix::fs::MetadataExt;
        let md = std::fs::metadata(env.rootfs.join("home/user/mine")).unwrap();
        assert_eq!(
            (md.uid(), md.gid()),
            (
                env.host_uid_of(1000).unwrap(),
                env.host_gid_of(1000).unwrap()
            ),
            "container uid 1000 is host uid sub_start+999"
        );
    }
}

#[test]
fn unknown_user_is_an_error() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.run(&["-u", "nosuchuser"], &["true"]).run();
    out.expect_code(125);
    assert!(
        out.stderr.contains("nosuchuser"),
        "stderr names the user\n{out}"
    );
    let out = env.run(&["-u", "user:nosuchgroup"], &["true"]).run();
    out.expect_code(125);
    assert!(
        out.stderr.contains("nosuchgroup"),
        "stderr names the group\n{out}"
    );
}

#[test]
fn unmapped_user_in_single_id_mode_is_an_error() {
    let Some(env) = Env::new(Mode::Single) else {
        return;
    };
    let out = env.run(&["-u", "1000"], &["true"]).run();
    out.expect_code(125);
    assert!(out.stderr.contains("1000"), "stderr names the id\n{out}");
    assert!(
        out.stderr.to_lowercase().contains("map"),
        "stderr says the id is not mapped\n{out}"
    );
    // Root is mapped, so -u 0 works.
    env.run(&["-u", "0"], &["true"]).run().ok();
}

#[test]
fn non_root_user_has_no_effective_caps() {
    let Some(env) = Env::new(Mode::Full) else {
        return;
    };
    let out = env
        .run(&["-u", "user"], &["cat", "/proc/self/status"])
        .run();
    let st = out.ok();
    assert_eq!(cap_field(st, "CapBnd"), DEFAULT_CAPS, "CapBnd\n{out}");
    assert_eq!(cap_field(st, "CapEff"), 0, "CapEff\n{out}");
    assert_eq!(cap_field(st, "CapPrm"), 0, "CapPrm\n{out}");
    assert_eq!(cap_field(st, "CapInh"), 0, "CapInh\n{out}");
    assert_eq!(cap_field(st, "CapAmb"), 0, "CapAmb\n{out}");
    assert_eq!(status_field(st, "NoNewPrivs"), Some("1"), "{out}");
}

// --- entrypoint ---------------------------------------------------------------------

#[test]
fn entrypoint_override() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env
        .run(&["--entrypoint", "/bin/echo"], &["hello", "world"])
        .run();
    assert_eq!(out.ok(), "hello world\n", "{out}");
    let out = env.run(&["--entrypoint", "/bin/echo"], &[]).run();
    assert_eq!(out.ok(), "\n", "{out}");
}

// --- capabilities -------------------------------------------------------------------

fn caps(env: &Env, opts: &[&str]) -> (u64, u64, String) {
    let out = env.run(opts, &["cat", "/proc/self/status"]).run();
    let st = out.ok().to_string();
    (cap_field(&st, "CapEff"), cap_field(&st, "CapBnd"), st)
}

#[test]
fn cap_drop_and_add() {
    let Some(env) = Env::new(Mode::Full) else {
        return;
    };
    let (eff, bnd, st) = caps(&env, &["--cap-drop", "CHOWN"]);
    assert_eq!(
        eff,
        DEFAULT_CAPS & !1,
        "--cap-drop CHOWN clears bit 0\n{st}"
    );
    assert_eq!(
        bnd,
        DEFAULT_CAPS & !1,
        "dropped from the bounding set too\n{st}"
    );
    let out = env.sh(&["--cap-drop", "CHOWN"], "touch /f && chown 1:1 /f");
    assert_ne!(out.code(), 0, "chown works without CAP_CHOWN\n{out}");

    let (eff, _, st) = caps(&env, &["--cap-add", "NET_ADMIN"]);
    assert_eq!(
        eff,
        DEFAULT_CAPS | 1 << 12,
        "--cap-add NET_ADMIN sets bit 12\n{st}"
    );
    let (eff, _, st) = caps(&env, &["--cap-add", "CAP_NET_ADMIN"]);
    assert_eq!(
        eff,
        DEFAULT_CAPS | 1 << 12,
        "the CAP_ prefix is accepted\n{st}"
    );
    let (eff, bnd, st) = caps(&env, &["--cap-drop", "ALL"]);
    assert_eq!((eff, bnd), (0, 0), "--cap-drop ALL\n{st}");
    let (eff, _, st) = caps(&env, &["--cap-drop", "ALL", "--cap-add", "KILL"]);
    assert_eq!(eff, 1 << 5, "--cap-drop ALL --cap-add KILL\n{st}");
    let (eff, bnd, st) = caps(&env, &["--cap-add", "ALL"]);
    assert_eq!((eff, bnd), (all_caps(), all_caps()), "--cap-add ALL\n{st}");
}

#[test]
fn cap_unknown_is_an_error() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.run(&["--cap-add", "NOT_A_CAP"], &["true"]).run();
    out.expect_code(125);
    assert!(
        out.stderr.contains("NOT_A_CAP"),
        "stderr names the capability\n{out}"
    );
}

fn all_caps() -> u64 {
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    if last >= 63 {
        u64::MAX
    } else {
        (1u64 << (last + 1)) - 1
    }
}

#[test]
fn privileged_has_every_capability() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let (eff, bnd, st) = caps(&env, &["--privileged"]);
    assert_eq!(
        bnd,
        all_caps(),
        "--privileged: CapBnd has every capability the kernel knows\n{st}"
    );
    assert_eq!(eff, all_caps(), "--privileged: CapEff\n{st}");
    assert_eq!(
        status_field(&st, "NoNewPrivs"),
        Some("0"),
        "no NoNewPrivs with --privileged\n{st}"
    );
}

// --- network ----------------------------------------------------------------------

fn loopback_only(opts: &[&str]) {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.sh(
        opts,
        "ls /sys/class/net; echo ---; tail -n +3 /proc/net/dev | cut -d: -f1; echo ---; ip link show lo",
    );
    let s = out.ok();
    let parts: Vec<&str> = s.split("---").collect();
    let sys: Vec<&str> = parts[0].split_whitespace().collect();
    let dev: Vec<&str> = parts[1].split_whitespace().collect();
    assert_eq!(sys, vec!["lo"], "only lo in /sys/class/net\n{out}");
    assert_eq!(dev, vec!["lo"], "only lo in /proc/net/dev\n{out}");
    let flags = parts[2]
        .split('<')
        .nth(1)
        .and_then(|f| f.split('>').next())
        .unwrap_or("");
    assert!(flags.split(',').any(|f| f == "UP"), "lo is up\n{out}");
    // And it carries traffic.
    let out = env.sh(
        opts,
        // The listener's stdin must not end first: busybox nc stops at
        // end of stdin and could drop what arrives after it.
        "nc -l -p 4567 </dev/zero >/tmp/got & \
         for i in $(seq 1 200); do echo over-loopback | nc 127.0.0.1 4567 >/dev/null 2>&1 && break; sleep 0.05; done; \
         wait; cat /tmp/got",
    );
    assert!(
        out.ok().contains("over-loopback"),
        "TCP over 127.0.0.1\n{out}"
    );
}

// The default, the private network: tests/network.rs.

#[test]
fn network_none_is_loopback_only() {
    loopback_only(&["--network", "none"]);
}

#[test]
fn network_host_shows_host_interfaces() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let host_dev = std::fs::read_to_string("/proc/net/dev").unwrap();
    let mut want: Vec<String> = host_dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|s| s.trim().to_string())
        .collect();
    want.sort();
    let out = env.sh(
        &["--network", "host"],
        "tail -n +3 /proc/net/dev | cut -d: -f1",
    );
    let mut got = out.lines();
    out.ok();
    got.sort();
    assert_eq!(
        got, want,
        "--network host sees the host's interfaces\n{out}"
    );
}
