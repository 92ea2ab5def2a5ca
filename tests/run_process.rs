//! The container's process: signals, `--init`, inherited file descriptors.

mod common;

use std::path::PathBuf;

use common::*;
use nix::sys::signal::Signal;

/// A host directory shared with the container at /shared, for readiness files.
fn shared(env: &Env) -> (PathBuf, String) {
    let dir = env.dir.join("shared");
    env.mkdir_owned(&dir, 0o755);
    let spec = format!("{}:/shared", dir.display());
    (dir, spec)
}

fn wait_ready(dir: &std::path::Path, r: &mut Running) {
    let ready = dir.join("ready");
    let ok = wait_until(|| ready.exists() || r.has_exited());
    assert!(ok && ready.exists(), "the container never became ready");
}

// --- signals ---------------------------------------------------------------------

fn trapped_signal(sig: Signal, name: &str) {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let (dir, spec) = shared(&env);
    let script = format!("trap 'exit 7' {name}; touch /shared/ready; while :; do sleep 0.1; done");
    let mut r = env.run(&["-v", &spec], &["sh", "-c", &script]).spawn();
    wait_ready(&dir, &mut r);
    r.signal(sig);
    let out = r.wait();
    out.expect_code(7);
}

#[test]
fn sigterm_reaches_the_container() {
    trapped_signal(Signal::SIGTERM, "TERM");
}

#[test]
fn sighup_reaches_the_container() {
    trapped_signal(Signal::SIGHUP, "HUP");
}

#[test]
fn sigint_reaches_the_container() {
    trapped_signal(Signal::SIGINT, "INT");
}

#[test]
fn killing_coracle_kills_the_container() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let (dir, spec) = shared(&env);
    let marker = format!("sleep {}", 7_000_000 + std::process::id());
    let script = format!("touch /shared/ready; exec {marker}");
    let mut r = env.run(&["-v", &spec], &["sh", "-c", &script]).spawn();
    wait_ready(&dir, &mut r);
    assert!(
        !host_pids_with_cmdline(&marker).is_empty(),
        "the container command is running"
    );
    r.signal(Signal::SIGKILL);
    let gone = wait_until(|| host_pids_with_cmdline(&marker).is_empty());
    assert!(
        gone,
        "the container's process outlived coracle after SIGKILL"
    );
    let out = r.wait();
    assert_eq!(out.status.code(), None, "{out}");
}

#[test]
fn exit_128_plus_signal_when_the_command_is_killed() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let (dir, spec) = shared(&env);
    // Pid 1 of a pid namespace ignores signals from inside it without a
    // handler, so the command is killed from the host.
    let marker = format!("sleep {}", 6_000_000 + std::process::id());
    let script = format!("touch /shared/ready; exec {marker}");
    let mut r = env.run(&["-v", &spec], &["sh", "-c", &script]).spawn();
    wait_ready(&dir, &mut r);
    let pids = host_pids_with_cmdline(&marker);
    assert_eq!(pids.len(), 1, "the container command on the host: {pids:?}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pids[0]), Signal::SIGKILL).unwrap();
    r.wait().expect_code(137);
}

// --- --init ----------------------------------------------------------------------

#[test]
fn init_is_pid_1() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.sh(
        &["--init"],
        "echo $$; tr '\\0' ' ' < /proc/1/cmdline; echo; echo $PPID",
    );
    let l = out.lines();
    out.ok();
    assert_ne!(l[0], "1", "with --init the command is not pid 1\n{out}");
    assert!(
        !l[1].starts_with("sh -c"),
        "with --init pid 1 is coracle's init\n{out}"
    );
    assert_eq!(l[2], "1", "the command is a child of init\n{out}");
}

#[test]
fn init_passes_exit_status() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    env.sh(&["--init"], "exit 5").expect_code(5);
    env.sh(&["--init"], "kill -9 $$").expect_code(137);
    env.run(&["--init"], &["/no/such/command"])
        .run()
        .expect_code(127);
}

#[test]
fn init_reaps_zombies() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    // `sleep 0` becomes a zombie child of `sleep 1` (which never waits);
    // when `sleep 1` exits it is reparented to pid 1, which must reap it.
    let script = r#"
sh -c 'sleep 0 & exec sleep 1'
for i in $(seq 1 200); do
  z=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null)
  [ -z "$z" ] && { echo no-zombies; exit 0; }
  sleep 0.05
done
echo "zombies left: $z"; for f in $z; do cat $f; done
"#;
    let out = env.sh(&["--init"], script);
    assert_eq!(out.ok().trim(), "no-zombies", "{out}");
}

#[test]
fn init_forwards_sigterm() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let (dir, spec) = shared(&env);
    // No trap: sleep, not being pid 1, dies of the forwarded SIGTERM.
    let mut r = env
        .run(
            &["--init", "-v", &spec],
            &["sh", "-c", "touch /shared/ready; exec sleep 1000"],
        )
        .spawn();
    wait_ready(&dir, &mut r);
    r.signal(Signal::SIGTERM);
    r.wait().expect_code(143);
}

// --- file descriptors ---------------------------------------------------------------

fn only_std_fds(mode: Mode, opts: &[&str]) {
    let Some(env) = Env::new(mode) else { return };
    // coracle itself gets extra inherited fds (7, 8, 9); none may reach the container.
    let out = env
        .run(opts, &["ls", "/proc/self/fd"])
        .shell_prefix("exec 7</etc/hostname 8<\"$HOME\" 9<>/dev/null")
        .run();
    let mut fds = out.lines();
    out.ok();
    fds.sort();
    assert_eq!(
        fds,
        ["0", "1", "2", "3"].map(String::from),
        "only 0 1 2 and ls's own fd\n{out}"
    );
    let out = env.sh(
        opts,
        "for f in /proc/self/fd/*; do echo \"$f -> $(readlink $f)\"; done",
    );
    out.ok();
    for l in out.lines() {
        assert!(
            !l.contains("/tmp/coracle-it") && !l.contains(&*env.dir.to_string_lossy()),
            "an fd points to a host path: {l}\n{out}"
        );
    }
}

#[test]
fn no_leaked_fds_full() {
    only_std_fds(Mode::Full, &[]);
}

#[test]
fn no_leaked_fds_single() {
    only_std_fds(Mode::Single, &[]);
}

#[test]
fn no_leaked_fds_with_init() {
    only_std_fds(Mode::Any, &["--init"]);
}

#[test]
fn no_leaked_fds_with_stdin() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env
        .run(&["-i"], &["ls", "/proc/self/fd"])
        .stdin("x")
        .shell_prefix("exec 7</etc/hostname")
        .run();
    let mut fds = out.lines();
    out.ok();
    fds.sort();
    assert_eq!(fds, ["0", "1", "2", "3"].map(String::from), "{out}");
}
