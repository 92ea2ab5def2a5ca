//! The default seccomp filter: each denied system call, run by container
//! root through a small static program (`tests/seccomp/probe.c`, built with
//! the host's `gcc -static` into the test's root file system), gets EPERM
//! (clone3: ENOSYS), its harmless variant works, and without the filter
//! (`--security-opt seccomp=unconfined`, `--privileged`) the kernel itself
//! answers. The probe's arguments are chosen so that the kernel's own
//! answer is not EPERM where that is possible (unknown commands, bad
//! pointers, /dev/null), so a pass cannot come from the kernel alone.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;

const EPERM: &str = "E1";
const ENOSYS: &str = "E38";

/// Denied by the default filter (EPERM).
const DENIED: &[&str] = &[
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "bpf",
    "perf_event_open",
    "kexec_load",
    "kexec_file_load",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "open_by_handle_at",
    "fsopen",
    "fsconfig",
    "fsmount",
    "move_mount",
    "open_tree",
    "fspick",
    "mount_setattr",
    "mount",
    "umount2",
    "pivot_root",
    "swapon",
    "swapoff",
    "setns",
    "kcmp",
    "clone_newuser",
    "clone_newns",
    "unshare_newuser",
    "unshare_newtime",
    "personality_bsd",
    "personality_norandom",
    "socket_alg",
    "socket_alg_high",
    "socket_vsock",
    "ioctl_tiocsti",
    "ioctl_tiocsti_high",
    "ioctl_tiocsti_high2",
    "ioctl_tioclinux",
    "ioctl_tioclinux_high",
];

/// The allowed variants, which must work under the filter.
const ALLOWED: &[&str] = &[
    "clone_plain",
    "unshare_plain",
    "personality_0",
    "personality_query",
    "socket_inet",
    "socket_unix",
    "ioctl_fioclex",
];

/// The probe, compiled once per test binary; `None` without a compiler
/// and a static C library.
fn probe_binary() -> Option<&'static Path> {
    static PROBE: OnceLock<Option<PathBuf>> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seccomp/probe.c");
            let out =
                std::env::temp_dir().join(format!("coracle-seccomp-probe-{}", std::process::id()));
            let st = Command::new("gcc")
                .args(["-static", "-O1", "-o"])
                .arg(&out)
                .arg(&src)
                .status();
            match st {
                Ok(s) if s.success() => Some(out),
                _ => None,
            }
        })
        .as_deref()
}

/// An environment whose root file system has the probe as /bin/probe.
fn probe_env() -> Option<Env> {
    let probe = probe_binary();
    if !require(
        probe.is_some(),
        "gcc with a static C library (Debian packages gcc and libc6-dev) to build tests/seccomp/probe.c",
    ) {
        return None;
    }
    let env = Env::new(Mode::Any)?;
    let dest = env.rootfs.join("bin/probe");
    std::fs::copy(probe.unwrap(), &dest).unwrap();
    env.chown(&dest);
    Some(env)
}

/// The probe's results (check -> `OK` or `E<errno>`).
#[track_caller]
fn results(out: &Out, checks: &[&str]) -> BTreeMap<String, String> {
    let text = out.ok();
    let map: BTreeMap<String, String> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for c in checks {
        assert!(map.contains_key(*c), "no result for {c}\n{out}");
    }
    map
}

#[track_caller]
fn probe(env: &Env, opts: &[&str], checks: &[&str]) -> BTreeMap<String, String> {
    let mut cmd = vec!["/bin/probe"];
    cmd.extend_from_slice(checks);
    let out = env.run(opts, &cmd).run();
    results(&out, checks)
}

#[track_caller]
fn expect(map: &BTreeMap<String, String>, check: &str, want: &str, why: &str) {
    assert_eq!(map[check], want, "{check}: {why}; all results: {map:#?}");
}

#[test]
fn denied_calls_get_eperm_and_clone3_enosys() {
    let Some(env) = probe_env() else { return };
    let mut checks = DENIED.to_vec();
    checks.push("clone3");
    let r = probe(&env, &[], &checks);
    for c in DENIED {
        expect(&r, c, EPERM, "denied by the default filter");
    }
    expect(
        &r,
        "clone3",
        ENOSYS,
        "ENOSYS, so that libc falls back to clone",
    );
}

#[test]
fn allowed_variants_work_under_the_filter() {
    let Some(env) = probe_env() else { return };
    let r = probe(&env, &[], ALLOWED);
    for c in ALLOWED {
        expect(&r, c, "OK", "allowed by the default filter");
    }
    // The filter is there (so these passed through it).
    let out = env.sh(&[], "grep '^Seccomp:' /proc/self/status");
    assert!(out.ok().contains("Seccomp:\t2"), "filter mode 2\n{out}");
}

/// Without a filter the same calls reach the kernel, which answers
/// otherwise (the probe's arguments are invalid or harmless).
fn unfiltered(opts: &[&str]) {
    let Some(env) = probe_env() else { return };
    let out = env.sh(opts, "grep '^Seccomp:' /proc/self/status");
    assert!(
        out.ok().contains("Seccomp:\t0"),
        "no filter with {opts:?}\n{out}"
    );
    let checks = [
        "keyctl",
        "add_key",
        "request_key",
        "clone3",
        "clone_newuser",
        "unshare_newuser",
        "personality_bsd",
        "socket_alg",
        "socket_vsock",
        "ioctl_tiocsti",
        "ioctl_tiocsti_high",
        "ioctl_tioclinux",
    ];
    let r = probe(&env, opts, &checks);
    // Unknown keyctl command: EOPNOTSUPP; NULL key type: EFAULT.
    expect(&r, "keyctl", "E95", "the kernel's answer without a filter");
    expect(&r, "add_key", "E14", "the kernel's answer without a filter");
    expect(
        &r,
        "request_key",
        "E14",
        "the kernel's answer without a filter",
    );
    for c in [
        "clone3",
        "clone_newuser",
        "unshare_newuser",
        "personality_bsd",
    ] {
        expect(&r, c, "OK", "allowed without a filter");
    }
    for c in ["socket_alg", "socket_vsock"] {
        assert_ne!(r[c], EPERM, "{c} reaches the kernel: {r:#?}");
    }
    // /dev/null is no terminal.
    for c in ["ioctl_tiocsti", "ioctl_tiocsti_high", "ioctl_tioclinux"] {
        expect(&r, c, "E25", "ENOTTY from the kernel");
    }
}

#[test]
fn seccomp_unconfined_installs_no_filter() {
    unfiltered(&["--security-opt", "seccomp=unconfined"]);
}

#[test]
fn privileged_installs_no_filter() {
    unfiltered(&["--privileged"]);
}

#[test]
fn cap_sys_admin_allows_namespaces_and_mounts() {
    let Some(env) = probe_env() else { return };
    let checks = [
        "clone_newuser",
        "unshare_newuser",
        "clone3",
        "mount",
        "keyctl",
        "kcmp",
    ];
    let r = probe(&env, &["--cap-add", "SYS_ADMIN"], &checks);
    for c in ["clone_newuser", "unshare_newuser", "clone3"] {
        expect(&r, c, "OK", "allowed with CAP_SYS_ADMIN");
    }
    // mount reaches the kernel: no such mount point.
    expect(&r, "mount", "E2", "allowed with CAP_SYS_ADMIN");
    expect(&r, "keyctl", EPERM, "still denied");
    expect(&r, "kcmp", EPERM, "needs CAP_SYS_PTRACE");
}

#[test]
fn cap_sys_ptrace_allows_kcmp() {
    let Some(env) = probe_env() else { return };
    let r = probe(
        &env,
        &["--cap-add", "SYS_PTRACE"],
        &["kcmp", "clone_newuser"],
    );
    expect(&r, "kcmp", "OK", "allowed with CAP_SYS_PTRACE");
    expect(&r, "clone_newuser", EPERM, "still denied");
}

#[test]
fn init_pid1_is_not_filtered_but_the_command_is() {
    let Some(env) = probe_env() else { return };
    let out = env.sh(
        &["--init"],
        "grep '^Seccomp:' /proc/1/status; grep '^Seccomp:' /proc/self/status; /bin/probe keyctl",
    );
    let lines = out.lines();
    assert_eq!(
        lines,
        ["Seccomp:\t0", "Seccomp:\t2", "keyctl=E1"],
        "init unfiltered, the command filtered\n{out}"
    );
}

#[test]
fn exec_gets_the_containers_filter() {
    let Some(env) = probe_env() else { return };
    let _c = Cleanup(&env);
    let id = env.detached(&[], "sleep 60");
    let out = env
        .coracle(["exec", &id, "/bin/probe", "keyctl", "clone3", "socket_inet"])
        .run();
    let r = results(&out, &["keyctl", "clone3", "socket_inet"]);
    expect(&r, "keyctl", EPERM, "denied in exec too");
    expect(&r, "clone3", ENOSYS, "ENOSYS in exec too");
    expect(&r, "socket_inet", "OK", "allowed in exec too");
    let out = env
        .coracle(["exec", &id, "grep", "^Seccomp:", "/proc/self/status"])
        .run();
    assert!(out.ok().contains("Seccomp:\t2"), "{out}");

    // An unconfined container's exec is unconfined too.
    let id2 = env.detached(&["--security-opt", "seccomp=unconfined"], "sleep 60");
    let out = env.coracle(["exec", &id2, "/bin/probe", "keyctl"]).run();
    let r = results(&out, &["keyctl"]);
    expect(
        &r,
        "keyctl",
        "E95",
        "no filter in the unconfined container's exec",
    );
}

#[test]
fn inspect_shows_the_security_options() {
    let Some(env) = probe_env() else { return };
    let _c = Cleanup(&env);
    let inspect = |id: &str| -> (serde_json::Value, String) {
        let out = env.coracle(["inspect", id]).run();
        let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
        let landlock = format!(
            "landlock={}",
            v[0]["CoraclePolicy"]["Landlock"]["Enforced"]
                .as_str()
                .unwrap()
        );
        (v[0]["HostConfig"]["SecurityOpt"].clone(), landlock)
    };
    // The default policy's landlock scope, as far as this kernel has it.
    let id = env.detached(&[], "sleep 60");
    let (opts, ll) = inspect(&id);
    assert_eq!(
        opts,
        serde_json::json!(["no-new-privileges", ll, "policy=default"])
    );
    let id = env.detached(&["--security-opt", "seccomp=unconfined"], "sleep 60");
    let (opts, ll) = inspect(&id);
    assert_eq!(
        opts,
        serde_json::json!([
            "seccomp=unconfined",
            "no-new-privileges",
            ll,
            "policy=default"
        ])
    );
    let id = env.detached(&["--privileged"], "sleep 60");
    assert_eq!(
        inspect(&id).0,
        serde_json::json!(["seccomp=unconfined", "policy=default"])
    );
}

#[test]
fn unsupported_security_options_are_refused() {
    let Some(env) = probe_env() else { return };
    for (opt, msg) in [
        (
            "seccomp=/nonexistent/profile.json",
            "read seccomp profile /nonexistent/profile.json",
        ),
        ("apparmor=unconfined", "supported: seccomp=unconfined"),
        ("no-new-privileges=maybe", "no-new-privileges[=true|false]"),
        ("landlock=off", "landlock=unconfined"),
    ] {
        let out = env.run(&["--security-opt", opt], &["true"]).run();
        out.expect_code(125);
        assert!(out.stderr.contains(msg), "{opt}\n{out}");
    }
    env.run(&["--security-opt", "no-new-privileges"], &["true"])
        .run()
        .expect_code(0);
}
