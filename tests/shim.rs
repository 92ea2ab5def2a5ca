//! The idle monitor of a detached container is `coracle-shim`: the monitor
//! execs it once the container runs (same pid, still the container's
//! parent) and it execs `coracle` back for the bookkeeping when the
//! container exits.

mod common;

use std::path::PathBuf;

use common::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

fn state_json(env: &Env, id: &str) -> serde_json::Value {
    let p = env
        .data
        .join("coracle/containers")
        .join(id)
        .join("state.json");
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

fn exe_of(pid: i32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

fn is_shim(pid: i32) -> bool {
    exe_of(pid).is_some_and(|p| p.file_name().is_some_and(|n| n == "coracle-shim"))
}

/// The parent pid from /proc/PID/stat.
fn ppid_of(pid: i32) -> Option<i32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn running_pids(env: &Env, id: &str) -> Option<(i32, i32)> {
    let s = state_json(env, id);
    if s["status"] != "running" {
        return None;
    }
    Some((s["monitor_pid"].as_i64()? as i32, s["pid"].as_i64()? as i32))
}

#[test]
fn the_idle_monitor_is_the_shim_and_the_containers_parent() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(&[], "echo hello; echo oops >&2; while :; do sleep 1; done");
    let (monitor, pid1) = running_pids(&env, &id).expect("running after run -d");
    assert!(
        wait_until(|| is_shim(monitor)),
        "the monitor {monitor} execs coracle-shim: {:?}",
        exe_of(monitor)
    );
    assert_eq!(ppid_of(pid1), Some(monitor), "the shim is pid 1's parent");
    assert!(wait_until(
        || env.coracle(["logs", &id]).run().stdout == "hello\n"
    ));
    let out = env.coracle(["logs", &id]).run();
    assert_eq!(out.stderr, "oops\n", "{out}");
    let out = env.coracle(["exec", &id, "echo", "in"]).run();
    assert_eq!(out.ok(), "in\n");
    // A stop reaches pid 1 (which ignores SIGTERM: SIGKILL after 1 s), the
    // shim execs coracle back, which records the exit and ends.
    env.coracle(["stop", "-t", "1", &id]).run().ok();
    let s = state_json(&env, &id);
    assert_eq!(s["status"], "exited", "{s}");
    assert_eq!(s["exit_code"], 137, "{s}");
    assert!(
        wait_until(
            || std::fs::metadata(format!("/proc/{monitor}")).is_err() || procs_is_zombie(monitor)
        ),
        "the monitor ends after the bookkeeping"
    );
}

fn procs_is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rfind(')')
            .and_then(|i| s[i + 1..].split_whitespace().next())
            .is_some_and(|st| st == "Z" || st == "X")
    })
}

#[test]
fn signals_to_the_shim_reach_the_container() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(
        &[],
        "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.1; done",
    );
    let (monitor, _) = running_pids(&env, &id).unwrap();
    assert!(wait_until(|| is_shim(monitor)));
    assert!(wait_until(|| env
        .coracle(["logs", &id])
        .run()
        .stdout
        .contains("ready")));
    kill(Pid::from_raw(monitor), Signal::SIGTERM).unwrap();
    let out = env.coracle(["wait", &id]).run();
    assert_eq!(out.ok().trim(), "7", "{out}");
    let out = env.coracle(["logs", &id]).run();
    assert_eq!(out.ok(), "ready\ngot-term\n", "{out}");
}

#[test]
fn a_restart_goes_back_through_coracle_and_into_a_new_shim() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(&["--restart", "always"], "echo run; sleep 0.5; exit 3");
    let (monitor, first) = running_pids(&env, &id).unwrap();
    assert!(
        wait_until(|| state_json(&env, &id)["restart_count"].as_u64() >= Some(2)),
        "restarted twice"
    );
    // Running again, with the same monitor process as its parent, which
    // is the shim once more.
    assert!(wait_until(|| running_pids(&env, &id).is_some_and(
        |(m, p)| m == monitor && p != first && is_shim(m) && ppid_of(p) == Some(m)
    )));
    let runs = || {
        env.coracle(["logs", &id])
            .run()
            .ok()
            .lines()
            .filter(|l| *l == "run")
            .count()
    };
    assert!(
        wait_until(|| runs() >= 3),
        "every run is logged: {}",
        runs()
    );
    env.coracle(["rm", "-f", &id]).run().ok();
    assert!(wait_until(|| std::fs::metadata(format!("/proc/{monitor}"))
        .is_err()
        || procs_is_zombie(monitor)));
}

#[test]
fn a_killed_shim_leaves_a_dead_container_that_rm_cleans() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let script = "while :; do echo shim-alive; sleep 0.2; done";
    let id = env.detached(&[], script);
    let (monitor, _) = running_pids(&env, &id).unwrap();
    assert!(wait_until(|| is_shim(monitor)));
    kill(Pid::from_raw(monitor), Signal::SIGKILL).unwrap();
    assert!(
        wait_until(|| host_pids_with_cmdline(&format!("sh -c {script}")).is_empty()),
        "the container dies with its shim (parent-death signal)"
    );
    let out = env
        .coracle(["ps", "-a", "--filter", "status=dead", "-q", "--no-trunc"])
        .run();
    assert_eq!(out.ok().trim(), id, "{out}");
    let out = env.coracle(["rm", "-f", &id]).run();
    assert_eq!(out.ok().trim(), id);
    assert!(env.state_dirs().is_empty(), "{:?}", env.state_dirs());
}

#[test]
fn a_missing_shim_is_one_clear_error() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let bin = env.private_coracle();
    std::fs::remove_file(bin.with_file_name("coracle-shim")).unwrap();
    let mut args = vec!["run".to_string(), "-d".into(), "--rootfs".into()];
    args.push(env.rootfs.to_string_lossy().into_owned());
    args.extend(["sleep".into(), "100".into()]);
    let out = env.host(&bin, &args).run();
    out.expect_code(125);
    assert!(
        out.stderr.contains("coracle-shim") && out.stderr.contains("reinstall"),
        "{out}"
    );
    assert_eq!(out.stderr.lines().count(), 1, "one line\n{out}");
    // Nothing was made.
    let out = env.coracle(["ps", "-aq"]).run();
    assert_eq!(out.ok(), "", "{out}");
    // `check` names it.
    let out = env.host(&bin, ["check"]).run();
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("FAIL") && l.contains("shim") && l.contains("coracle-shim")),
        "{out}"
    );
}
