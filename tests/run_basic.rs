//! `coracle run` basics, in both id-map modes: identity, id maps,
//! capabilities, the pid namespace, exit codes, stdin, state.

mod common;

use common::*;

// --- identity and id maps ----------------------------------------------------

fn id_is_root(mode: Mode) {
    let Some(env) = Env::new(mode) else { return };
    let out = env.run(&[], &["id"]).run();
    let s = out.ok();
    assert!(s.contains("uid=0(root)"), "id inside must be root\n{out}");
    assert!(s.contains("gid=0(root)"), "id inside must be root\n{out}");
}

#[test]
fn id_is_root_full() {
    id_is_root(Mode::Full);
}

#[test]
fn id_is_root_single() {
    id_is_root(Mode::Single);
}

#[test]
fn id_maps_full_range() {
    let Some(env) = Env::new(Mode::Full) else {
        return;
    };
    let out = env.sh(
        &[],
        "cat /proc/self/uid_map; echo ---; cat /proc/self/gid_map",
    );
    let s = out.ok();
    let (u, g) = s.split_once("---").unwrap();
    let (su, sg) = (env.sub_uid.unwrap(), env.sub_gid.unwrap());
    assert_eq!(
        parse_id_map(u),
        vec![
            vec![0, env.uid as u64, 1],
            vec![1, su.0 as u64, su.1 as u64]
        ],
        "uid_map\n{out}"
    );
    assert_eq!(
        parse_id_map(g),
        vec![
            vec![0, env.gid as u64, 1],
            vec![1, sg.0 as u64, sg.1 as u64]
        ],
        "gid_map\n{out}"
    );
}

#[test]
fn id_maps_single_id() {
    let Some(env) = Env::new(Mode::Single) else {
        return;
    };
    let out = env.sh(
        &[],
        "cat /proc/self/uid_map; echo ---; cat /proc/self/gid_map",
    );
    let s = out.ok();
    let (u, g) = s.split_once("---").unwrap();
    assert_eq!(
        parse_id_map(u),
        vec![vec![0, env.uid as u64, 1]],
        "uid_map\n{out}"
    );
    assert_eq!(
        parse_id_map(g),
        vec![vec![0, env.gid as u64, 1]],
        "gid_map\n{out}"
    );
}

fn keep_id(mode: Mode) {
    let Some(env) = Env::new(mode) else { return };
    let out = env.sh(
        &["--userns", "keep-id"],
        "id -u; id -g; cat /proc/self/uid_map",
    );
    let lines = out.lines();
    out.ok();
    assert_eq!(
        lines[0],
        env.uid.to_string(),
        "id -u with --userns keep-id\n{out}"
    );
    assert_eq!(
        lines[1],
        env.gid.to_string(),
        "id -g with --userns keep-id\n{out}"
    );
    let map = parse_id_map(&lines[2..].join("\n"));
    assert!(
        map.contains(&vec![env.uid as u64, env.uid as u64, 1]),
        "keep-id maps the caller's uid to itself\n{out}"
    );
}

#[test]
fn keep_id_full() {
    keep_id(Mode::Full);
}

#[test]
fn keep_id_single() {
    keep_id(Mode::Single);
}

// --- namespaces ----------------------------------------------------------------

const NAMESPACES: [&str; 7] = ["user", "mnt", "pid", "uts", "ipc", "cgroup", "net"];

fn namespaces(opts: &[&str], shared_with_host: &[&str]) {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let script = NAMESPACES
        .map(|n| format!("echo {n} $(readlink /proc/self/ns/{n})"))
        .join("; ");
    let out = env.sh(opts, &script);
    out.ok();
    for line in out.lines() {
        let (name, inside) = line.split_once(' ').unwrap();
        let host = std::fs::read_link(format!("/proc/self/ns/{name}")).unwrap();
        let host = host.to_string_lossy();
        assert!(inside.starts_with(&format!("{name}:[")), "{out}");
        if shared_with_host.contains(&name) {
            assert_eq!(inside, host, "{name} namespace must be the host's\n{out}");
        } else {
            assert_ne!(
                inside, host,
                "{name} namespace must be the container's own\n{out}"
            );
        }
    }
    assert_eq!(out.lines().len(), NAMESPACES.len(), "{out}");
}

#[test]
fn namespaces_are_the_containers_own() {
    namespaces(&[], &[]);
}

#[test]
fn network_host_shares_only_the_network_namespace() {
    namespaces(&["--network", "host"], &["net"]);
}

#[test]
fn concurrent_runs() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let runs: Vec<Running> = (0..4)
        .map(|i| env.sh_spawn(&[], &format!("sleep 0.2; echo run-{i}; hostname")))
        .collect();
    let mut hosts = Vec::new();
    for (i, r) in runs.into_iter().enumerate() {
        let out = r.wait();
        let l = out.lines();
        out.ok();
        assert_eq!(l[0], format!("run-{i}"), "{out}");
        hosts.push(l[1].clone());
    }
    hosts.sort();
    hosts.dedup();
    assert_eq!(hosts.len(), 4, "four containers, four ids: {hosts:?}");
    assert_eq!(env.state_dirs().len(), 4, "four kept state directories");
}

#[test]
fn stdout_and_stderr_stay_apart() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.sh(
        &[],
        "echo to-stdout; echo to-stderr >&2; head -c 300000 /dev/zero | tr '\\0' x",
    );
    out.ok();
    assert!(out.stdout.starts_with("to-stdout\n"), "{out}");
    assert_eq!(
        out.stdout.len(),
        "to-stdout\n".len() + 300000,
        "all of stdout arrives"
    );
    assert!(!out.stdout.contains("to-stderr"), "{out}");
    assert!(out.stderr.contains("to-stderr"), "{out}");
}

// --- capabilities ------------------------------------------------------------

fn default_caps(mode: Mode) {
    let Some(env) = Env::new(mode) else { return };
    let out = env.run(&[], &["cat", "/proc/self/status"]).run();
    let st = out.ok();
    for key in ["CapBnd", "CapPrm", "CapEff"] {
        assert_eq!(
            cap_field(st, key),
            DEFAULT_CAPS,
            "{key} must be Docker's default set {DEFAULT_CAPS:016x}\n{out}"
        );
    }
    assert_eq!(cap_field(st, "CapInh"), 0, "CapInh\n{out}");
    assert_eq!(cap_field(st, "CapAmb"), 0, "CapAmb\n{out}");
    assert_eq!(
        status_field(st, "NoNewPrivs"),
        Some("1"),
        "NoNewPrivs\n{out}"
    );
}

#[test]
fn default_capabilities_full() {
    default_caps(Mode::Full);
}

#[test]
fn default_capabilities_single() {
    default_caps(Mode::Single);
}

// --- pid namespace and /proc ---------------------------------------------------

fn pid_namespace(mode: Mode) {
    let Some(env) = Env::new(mode) else { return };
    let out = env.sh(
        &[],
        "echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /proc | grep '^[0-9]*$' | sort -n",
    );
    let lines = out.lines();
    out.ok();
    assert_eq!(
        lines[0], "1",
        "the command is pid 1 of its pid namespace\n{out}"
    );
    assert!(
        lines[1].starts_with("sh -c"),
        "/proc/1/cmdline is the command\n{out}"
    );
    // Only the container's processes: sh (1) and ls/grep/sort, all small pids.
    let pids: Vec<u32> = lines[2..].iter().map(|l| l.parse().unwrap()).collect();
    assert!(pids.contains(&1), "/proc shows pid 1\n{out}");
    assert!(
        pids.len() <= 5,
        "/proc must be the pid namespace's own, not the host's\n{out}"
    );
}

#[test]
fn pid_namespace_and_proc_full() {
    pid_namespace(Mode::Full);
}

#[test]
fn pid_namespace_and_proc_single() {
    pid_namespace(Mode::Single);
}

fn basic_mounts(mode: Mode) {
    let Some(env) = Env::new(mode) else { return };
    let out = env.run(&[], &["cat", "/proc/self/mountinfo"]).run();
    let ms = parse_mountinfo(out.ok());
    let root = mount_at(&ms, "/").unwrap_or_else(|| panic!("no / mount\n{out}"));
    assert!(!root.read_only(), "/ is writable by default\n{out}");
    assert_eq!(
        mount_at(&ms, "/proc").map(|m| m.fstype.as_str()),
        Some("proc"),
        "/proc\n{out}"
    );
    assert_eq!(
        mount_at(&ms, "/dev").map(|m| m.fstype.as_str()),
        Some("tmpfs"),
        "/dev\n{out}"
    );
    assert_eq!(
        mount_at(&ms, "/dev/pts").map(|m| m.fstype.as_str()),
        Some("devpts"),
        "/dev/pts\n{out}"
    );
    assert_eq!(
        mount_at(&ms, "/dev/shm").map(|m| m.fstype.as_str()),
        Some("tmpfs"),
        "/dev/shm\n{out}"
    );
    assert_eq!(
        mount_at(&ms, "/dev/mqueue").map(|m| m.fstype.as_str()),
        Some("mqueue"),
        "/dev/mqueue\n{out}"
    );
    let sys = mount_at(&ms, "/sys").unwrap_or_else(|| panic!("no /sys mount\n{out}"));
    assert!(sys.read_only(), "/sys is read-only\n{out}");
    // Nothing of the host's mount table leaks in: every mount is at / or below
    // a path of the container.
    for m in &ms {
        assert!(
            !m.point.starts_with("/tmp/coracle-it") && !m.point.starts_with("/work"),
            "host mount visible in the container: {}\n{out}",
            m.point
        );
    }
}

#[test]
fn basic_mounts_full() {
    basic_mounts(Mode::Full);
}

#[test]
fn basic_mounts_single() {
    basic_mounts(Mode::Single);
}

// --- exit status -----------------------------------------------------------------

#[test]
fn exit_status_is_the_commands() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    env.sh(&[], "exit 3").expect_code(3);
    env.sh(&[], "exit 0").expect_code(0);
    env.run(&[], &["false"]).run().expect_code(1);
}

#[test]
fn exit_127_when_command_not_found() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.run(&[], &["/no/such/command"]).run();
    out.expect_code(127);
    assert!(
        out.stderr.contains("/no/such/command"),
        "stderr names the command\n{out}"
    );
    let out = env.run(&[], &["nosuchcommand"]).run();
    out.expect_code(127);
    assert!(
        out.stderr.contains("nosuchcommand"),
        "stderr names the command\n{out}"
    );
}

#[test]
fn exit_126_when_command_cannot_be_executed() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.run(&[], &["/etc/passwd"]).run();
    out.expect_code(126);
    assert!(
        out.stderr.contains("/etc/passwd"),
        "stderr names the command\n{out}"
    );
    // A directory is not executable either.
    env.run(&[], &["/etc"]).run().expect_code(126);
}

#[test]
fn exit_125_when_rootfs_is_missing() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let missing = env.dir.join("no-such-rootfs");
    let out = env
        .coracle([
            "run".as_ref(),
            "--rootfs".as_ref(),
            missing.as_os_str(),
            "true".as_ref(),
        ])
        .run();
    out.expect_code(125);
    assert!(
        out.stderr.contains(&*missing.to_string_lossy()),
        "stderr names the path\n{out}"
    );
}

#[test]
fn single_id_mode_runs_and_notices() {
    // The single-id notice is coracle's to word; the run must still succeed.
    let Some(env) = Env::new(Mode::Single) else {
        return;
    };
    let out = env.run(&[], &["echo", "single-ok"]).run();
    assert_eq!(out.ok().trim(), "single-ok", "{out}");
}

// --- default command, stdin --------------------------------------------------------

#[test]
fn default_command_is_sh() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env
        .run(&["-i"], &[])
        .stdin("echo default-shell-$((6*7))\n")
        .run();
    assert!(
        out.ok().contains("default-shell-42"),
        "the default command is /bin/sh\n{out}"
    );
}

#[test]
fn stdin_is_passed_with_i() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let data = "line one\nline two\n".repeat(1000);
    let out = env.run(&["-i"], &["cat"]).stdin(&data).run();
    assert_eq!(
        out.ok(),
        data,
        "cat with -i echoes stdin\n(stderr: {})",
        out.stderr
    );
}

#[test]
fn stdin_is_dev_null_without_i() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    // The caller's stdin has data, but without -i the container gets /dev/null.
    let out = env.run(&[], &["cat"]).stdin("must not arrive\n").run();
    assert_eq!(out.ok(), "", "without -i stdin is /dev/null\n{out}");
    let out = env.sh(&[], "readlink /proc/self/fd/0; cat | wc -c");
    let lines = out.lines();
    out.ok();
    assert_eq!(
        lines,
        vec!["/dev/null".to_string(), "0".to_string()],
        "{out}"
    );
}

// --- state, hostname -------------------------------------------------------------

#[test]
fn rm_removes_state_and_default_keeps_it() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    env.run(&["--rm"], &["true"]).run().ok();
    assert_eq!(
        env.state_dirs(),
        Vec::<String>::new(),
        "--rm leaves no state directory"
    );
    let out = env.run(&[], &["hostname"]).run();
    let host = out.ok().trim().to_string();
    let dirs = env.state_dirs();
    assert_eq!(
        dirs.len(),
        1,
        "without --rm the state directory is kept: {dirs:?}\n{out}"
    );
    assert!(
        dirs[0].starts_with(&host),
        "the default hostname {host:?} is the start of the container id {:?}",
        dirs[0]
    );
}

#[test]
fn default_hostname_is_short_id() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let a = env.run(&["--rm"], &["hostname"]).run();
    let b = env.run(&["--rm"], &["hostname"]).run();
    let (ha, hb) = (a.ok().trim(), b.ok().trim());
    for h in [ha, hb] {
        assert!(
            h.len() == 12
                && h.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "default hostname must be 12 lowercase hex chars, got {h:?}"
        );
    }
    assert_ne!(ha, hb, "two containers get different ids");
}

#[test]
fn hostname_option() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.sh(&["-h", "boat"], "hostname; cat /etc/hostname");
    assert_eq!(
        out.lines(),
        vec!["boat".to_string(), "boat".to_string()],
        "{out}"
    );
    out.ok();
}

#[test]
fn hostname_is_not_the_hosts() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    // The uts namespace is the container's own: changing it inside does not
    // touch the host.
    let before = nix::unistd::gethostname().unwrap();
    let out = env.sh(&["--privileged"], "hostname changed-inside && hostname");
    let after = nix::unistd::gethostname().unwrap();
    assert_eq!(before, after, "the host's hostname changed\n{out}");
    if out.status.success() {
        assert_eq!(out.stdout.trim(), "changed-inside", "{out}");
    }
}
