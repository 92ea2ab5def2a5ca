//! The crash matrix: `kill -9` of the monitor, of the CLI (`run -d` while
//! it starts a container, a foreground `run`, a `stop`) and of the
//! container's pid 1, at the moments a test can reach (starting, running,
//! stopping). After each, `ps` and `inspect` tell the truth (no running
//! ghost, a dead or exited container with its exit code) and `rm -f` (and
//! `container prune` for a `run` killed before its record existed) leaves
//! nothing: no process, no namespace, no monitor, no lock, no directory.

mod common;
#[path = "common/procs.rs"]
mod procs;

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use common::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use procs::*;
use serde_json::Value;

/// Removes whatever the test left when dropped (also after a failure).
struct Cleanup<'a>(&'a Env);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        remove_all(self.0);
    }
}

/// `rm -f` of every listed container, then `container prune -f`.
fn remove_all(env: &Env) {
    let ids = env.coracle(["ps", "-aq", "--no-trunc"]).run().lines();
    if !ids.is_empty() {
        let mut args = vec!["rm".to_string(), "-f".to_string()];
        args.extend(ids);
        let _ = env.coracle(args).run();
    }
    let _ = env.coracle(["container", "prune", "-f"]).run();
}

fn sigkill(pid: i32) {
    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
}

/// A container that runs until it is killed, with children of its own.
const LOOP: &str = "echo up; while :; do sleep 0.2; done";

fn state_json(env: &Env, id: &str) -> Option<Value> {
    let p = env
        .data
        .join("coracle/containers")
        .join(id)
        .join("state.json");
    serde_json::from_slice(&std::fs::read(p).ok()?).ok()
}

/// `run -d` with the test's marker in the environment; the id.
fn detached(env: &Env, opts: &[&str], script: &str) -> String {
    let mark = marker(env);
    let mut o = vec!["-d", "-e", &mark];
    o.extend_from_slice(opts);
    let out = env.run(&o, &["sh", "-c", script]).run();
    let id = out.ok().trim().to_string();
    assert_eq!(id.len(), 64, "{out}");
    id
}

/// Waits until the state of `id` says running with a pid; the pid and the
/// container's namespaces, held.
fn running(env: &Env, id: &str) -> (i32, HeldNs) {
    let mut pid = 0;
    assert!(
        wait_until(|| {
            let Some(s) = state_json(env, id) else {
                return false;
            };
            pid = s["pid"].as_i64().unwrap_or(0) as i32;
            s["status"] == "running" && pid > 0
        }),
        "container {id} never ran: {:?}, monitor {:?}",
        state_json(env, id),
        monitor_pids(id)
    );
    (pid, HeldNs::of(pid))
}

fn monitor_of(env: &Env, id: &str) -> i32 {
    let m = state_json(env, id).unwrap()["monitor_pid"]
        .as_i64()
        .unwrap_or(0) as i32;
    assert!(m > 0, "the state names the monitor");
    m
}

/// The container's `State` as `inspect` shows it.
fn inspect_state(env: &Env, id: &str) -> Value {
    let out = env.coracle(["inspect", id]).run();
    let v: Value = serde_json::from_str(out.ok()).unwrap();
    v[0]["State"].clone()
}

/// The state `ps -a` shows for `id`, and whether `ps` lists it as running.
fn ps_state(env: &Env, id: &str) -> (String, bool) {
    let all = env
        .coracle(["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.State}}"])
        .run()
        .lines();
    let state = all
        .iter()
        .find_map(|l| l.strip_prefix(&format!("{id} ")))
        .unwrap_or_else(|| panic!("ps -a does not list {id}: {all:?}"))
        .to_string();
    let running = env
        .coracle(["ps", "-q", "--no-trunc"])
        .run()
        .lines()
        .contains(&id.to_string());
    (state, running)
}

/// Asserts that `ps` and `inspect` agree that `id` is `status` (not
/// running) with `code`.
#[track_caller]
fn assert_stopped(env: &Env, id: &str, status: &str, code: i64) {
    let s = inspect_state(env, id);
    assert_eq!(s["Status"], status, "{s}");
    assert_eq!(s["Running"], false, "{s}");
    assert_eq!(s["Dead"], status == "dead", "{s}");
    assert_eq!(s["Pid"], 0, "{s}");
    assert_eq!(s["ExitCode"], code, "{s}");
    assert_eq!(ps_state(env, id), (status.to_string(), false));
}

/// The id-map-dependent variants: `-u 1000` maps to another host uid only
/// with a subordinate range.
fn variants(env: &Env) -> Vec<Vec<&'static str>> {
    let mut v = vec![vec![], vec!["--init"]];
    if env.mode == Mode::Full {
        v.push(vec!["-u", "1000"]);
        v.push(vec!["--init", "-u", "1000:1000"]);
    }
    v
}

/// Regression: `-u` changes the host uid, which clears the parent-death
/// signal; the container outlived a killed monitor.
#[test]
fn killed_monitor_takes_its_running_container_along() {
    killed_monitor_matrix(Mode::Any);
}

#[test]
fn killed_monitor_takes_its_running_container_along_in_single_id_mode() {
    killed_monitor_matrix(Mode::Single);
}

fn killed_monitor_matrix(mode: Mode) {
    let Some(env) = Env::new(mode) else {
        return;
    };
    let _c = Cleanup(&env);
    let mark = marker(&env);
    let mut ids = Vec::new();
    let mut held = Vec::new();
    for opts in variants(&env) {
        let id = detached(&env, &opts, LOOP);
        let (_, ns) = running(&env, &id);
        assert!(!pids_with_env(&mark).is_empty());
        let monitor = monitor_of(&env, &id);
        // Those who wait for it learn of its end.
        let wait = env.coracle(["wait", &id]).spawn();
        let follow = env.coracle(["logs", "-f", &id]).spawn();
        assert!(wait_until(|| env
            .coracle(["logs", &id])
            .run()
            .stdout
            .contains("up")));
        sigkill(monitor);
        assert!(
            wait_until(|| pids_with_env(&mark).is_empty()),
            "with {opts:?} the container outlived its monitor: {:?}",
            pids_with_env(&mark)
        );
        assert!(wait_until(|| lock_is_free(&env, &id)));
        assert_eq!(wait.wait().ok().trim(), "137");
        assert_eq!(follow.wait().ok(), "up\n");
        assert_stopped(&env, &id, "dead", 137);
        let err = inspect_state(&env, &id)["Error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(err.contains(&format!("pid {monitor}")), "{err}");
        ids.push(id);
        held.push(ns);
    }
    let mut args = vec!["rm", "-f"];
    args.extend(ids.iter().map(String::as_str));
    let out = env.coracle(args).run();
    assert_eq!(out.lines(), ids, "{out}");
    assert_nothing_left(&env, &ids, &held);
}

/// The monitor killed at whatever point of starting the test catches it
/// (its first moments, the id maps, the setup): `run -d` says so, and the
/// record is created or dead, never running.
#[test]
fn killed_monitor_while_starting_leaves_a_truthful_record() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let mark = marker(&env);
    for round in 0..6u64 {
        let run = env.run(&["-d", "-e", &mark], &["sh", "-c", LOOP]).spawn();
        let cli = run.pid();
        let mut monitor = None;
        let mut run = run;
        while monitor.is_none() && !run.has_exited() {
            monitor = children_with_cmdline(cli, "container-monitor")
                .first()
                .copied();
        }
        // A little later each round, to reach other moments of the start.
        std::thread::sleep(Duration::from_millis(round * 4));
        let id = env
            .coracle(["ps", "-lq", "--no-trunc"])
            .run()
            .ok()
            .trim()
            .to_string();
        assert_eq!(
            id.len(),
            64,
            "the record is written before the monitor starts"
        );
        let monitor = monitor.unwrap_or_else(|| monitor_of(&env, &id));
        sigkill(monitor);
        let out = run.wait();
        let reported_ok = match out.code() {
            0 => true,
            125 => {
                assert!(
                    out.stderr.contains("ended before the container started"),
                    "{out}"
                );
                false
            }
            _ => panic!("run -d ends with 0 or 125\n{out}"),
        };
        assert!(
            wait_until(|| pids_with_env(&mark).is_empty()),
            "the container outlived its monitor: {:?}",
            pids_with_env(&mark)
        );
        assert!(wait_until(|| lock_is_free(&env, &id)));
        let (state, listed_running) = ps_state(&env, &id);
        assert!(!listed_running, "round {round}: a running ghost");
        match state.as_str() {
            "dead" => assert_stopped(&env, &id, "dead", 137),
            "created" => {
                assert!(
                    !reported_ok,
                    "round {round}: ok was reported, yet never started"
                );
                assert_stopped(&env, &id, "created", 0);
            }
            s => panic!("round {round}: state {s} after the monitor was killed"),
        }
    }
    remove_all(&env);
    assert_nothing_left(&env, &[], &[]);
}

/// `run -d` killed once its monitor exists: the monitor does not need it
/// (a broken report pipe does not stop it, nor a signal to the process
/// group of `run -d`) and the container runs; killed
/// earlier, it leaves a created record or nothing listed, and `rm -f` and
/// `container prune` clean up.
#[test]
fn killed_run_d_leaves_a_running_container_or_nothing_running() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let mark = marker(&env);
    // Once the monitor exists.
    let mut run = env.run(&["-d", "-e", &mark], &["sh", "-c", LOOP]).spawn();
    let cli = run.pid();
    let mut found = false;
    while !found && !run.has_exited() {
        found = !children_with_cmdline(cli, "container-monitor").is_empty();
    }
    // Its whole process group, as a Ctrl-C in a terminal would: the
    // monitor has a session of its own from the start.
    nix::sys::signal::killpg(Pid::from_raw(cli), Signal::SIGKILL).unwrap();
    let out = run.wait();
    assert_eq!(out.status.signal(), Some(9), "{out}");
    let id = env
        .coracle(["ps", "-alq", "--no-trunc"])
        .run()
        .ok()
        .trim()
        .to_string();
    assert_eq!(id.len(), 64);
    let (_, ns) = running(&env, &id);
    assert_eq!(ps_state(&env, &id), ("running".to_string(), true));
    assert!(!pids_with_env(&mark).is_empty());
    assert!(!lock_is_free(&env, &id), "its monitor holds the lock");
    let out = env.coracle(["rm", "-f", &id]).run();
    assert_eq!(out.ok().trim(), id);
    assert_nothing_left(&env, std::slice::from_ref(&id), &[ns]);

    // `start` of an exited container, killed with its process group once
    // the new monitor exists: the container runs all the same.
    let id = detached(&env, &[], "exit 3");
    assert_eq!(env.coracle(["wait", &id]).run().ok().trim(), "3");
    let mut start = env.coracle(["start", &id]).spawn();
    let cli = start.pid();
    let mut found = false;
    while !found && !start.has_exited() {
        found = !children_with_cmdline(cli, "container-monitor").is_empty();
    }
    nix::sys::signal::killpg(Pid::from_raw(cli), Signal::SIGKILL).unwrap();
    let _ = start.wait();
    assert!(
        wait_until(|| monitor_pids(&id).is_empty()),
        "the new monitor ends with its container"
    );
    assert_stopped(&env, &id, "exited", 3);
    env.coracle(["rm", &id]).run().ok();
    assert_nothing_left(&env, std::slice::from_ref(&id), &[]);

    // Earlier: while it holds the new container's lock (creating it).
    let base = env.runtime.join("coracle/containers");
    for round in 0..4u64 {
        let mut run = env.run(&["-d", "-e", &mark], &["sh", "-c", LOOP]).spawn();
        while !run.has_exited() && std::fs::read_dir(&base).map_or(true, |mut d| d.next().is_none())
        {
        }
        std::thread::sleep(Duration::from_millis(round * 3));
        sigkill(run.pid());
        drop(run);
        let ids = env.coracle(["ps", "-aq", "--no-trunc"]).run().lines();
        assert!(ids.len() <= 1, "{ids:?}");
        if let Some(id) = ids.first() {
            let (state, listed_running) = ps_state(&env, id);
            match state.as_str() {
                // Its monitor was started: a real, running container.
                "running" => {
                    assert!(listed_running);
                    assert!(!pids_with_env(&mark).is_empty());
                    assert!(!lock_is_free(&env, id));
                }
                "created" => {
                    assert!(!listed_running);
                    // Its monitor may still be starting it.
                    if !monitor_pids(id).is_empty() {
                        let _ = running(&env, id);
                    }
                }
                s => panic!("round {round}: state {s}"),
            }
        }
        remove_all(&env);
        assert_nothing_left(&env, &ids, &[]);
    }
}

/// The foreground `run` is its container's monitor: killed, it takes the
/// container along, and the record says dead.
#[test]
fn killed_foreground_run_takes_its_container_along() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let mark = marker(&env);
    let mut ids = Vec::new();
    let mut held = Vec::new();
    for (i, opts) in variants(&env).into_iter().enumerate() {
        let name = format!("fg{i}");
        let mut o = vec!["--name", &name, "-e", &mark];
        o.extend_from_slice(&opts);
        let run = env.run(&o, &["sh", "-c", LOOP]).spawn();
        let id = {
            let mut id = String::new();
            assert!(wait_until(|| {
                id = env
                    .coracle([
                        "ps",
                        "-q",
                        "--no-trunc",
                        "--filter",
                        &format!("name={name}"),
                    ])
                    .run()
                    .ok()
                    .trim()
                    .to_string();
                !id.is_empty()
            }));
            id
        };
        let (_, ns) = running(&env, &id);
        run.signal(Signal::SIGKILL);
        // Its output pipes close only when the container is gone too.
        let out = run.wait();
        assert_eq!(out.status.signal(), Some(9), "{out}");
        assert!(
            wait_until(|| pids_with_env(&mark).is_empty()),
            "with {opts:?} the container outlived its run"
        );
        assert_stopped(&env, &id, "dead", 137);
        ids.push(id);
        held.push(ns);
    }
    // Killed while it starts the container, at several moments.
    let base = env.runtime.join("coracle/containers");
    for round in 0..4u64 {
        let before = runtime_dirs(&env).len();
        let mut run = env.run(&["-e", &mark], &["sh", "-c", LOOP]).spawn();
        while !run.has_exited() && std::fs::read_dir(&base).map_or(0, |d| d.count()) <= before {}
        std::thread::sleep(Duration::from_millis(round * 5));
        run.signal(Signal::SIGKILL);
        let out = run.wait();
        assert_eq!(out.status.signal(), Some(9), "{out}");
        assert!(wait_until(|| pids_with_env(&mark).is_empty()));
        for id in env.coracle(["ps", "-aq", "--no-trunc"]).run().lines() {
            let (state, listed_running) = ps_state(&env, &id);
            assert!(!listed_running, "round {round}: a running ghost");
            assert!(
                state == "dead" || state == "created",
                "round {round}: {id} is {state}"
            );
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    remove_all(&env);
    assert_nothing_left(&env, &ids, &held);
}

/// The container's pid 1 killed from the host: an ordinary exit, 137.
#[test]
fn pid1_killed_from_the_host_is_an_exit_with_137() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let mark = marker(&env);
    let mut ids = Vec::new();
    let mut held = Vec::new();
    for opts in variants(&env) {
        let id = detached(&env, &opts, LOOP);
        let (pid, ns) = running(&env, &id);
        sigkill(pid);
        assert_eq!(env.coracle(["wait", &id]).run().ok().trim(), "137");
        assert!(
            wait_until(|| monitor_pids(&id).is_empty()),
            "the monitor ends"
        );
        assert!(lock_is_free(&env, &id));
        assert!(wait_until(|| pids_with_env(&mark).is_empty()));
        assert_stopped(&env, &id, "exited", 137);
        ids.push(id);
        held.push(ns);
    }
    // An exited container needs no -f.
    let mut args = vec!["rm"];
    args.extend(ids.iter().map(String::as_str));
    env.coracle(args).run().ok();
    // With --rm the monitor removes it, and `wait` still gets the code.
    let id = detached(&env, &["--rm"], LOOP);
    let (pid, ns) = running(&env, &id);
    held.push(ns);
    let wait = env.coracle(["wait", &id]).spawn();
    // `wait` blocks on the monitor's lock (it holds a shared lock then).
    assert!(wait_until(|| holders_of(&lock_path(&env, &id)).len() >= 2));
    sigkill(pid);
    assert_eq!(wait.wait().ok().trim(), "137");
    assert!(wait_until(|| env.state_dirs().is_empty()));
    ids.push(id);
    // The foreground run reports it and records it.
    let run = env
        .run(&["--name", "fg", "-e", &mark], &["sh", "-c", LOOP])
        .spawn();
    let mut pid = 0;
    assert!(wait_until(|| {
        pid = env
            .coracle(["inspect", "-f", "{{.State.Pid}}", "fg"])
            .run()
            .stdout
            .trim()
            .parse()
            .unwrap_or(0);
        pid > 0
    }));
    held.push(HeldNs::of(pid));
    sigkill(pid);
    run.wait().expect_code(137);
    let fg = env
        .coracle(["inspect", "-f", "{{.Id}}", "fg"])
        .run()
        .ok()
        .trim()
        .to_string();
    assert_stopped(&env, &fg, "exited", 137);
    env.coracle(["rm", "fg"]).run().ok();
    ids.push(fg);
    // What --rm left for `wait` goes with the next listing.
    env.coracle(["ps", "-a"]).run().ok();
    assert_nothing_left(&env, &ids, &held);
}

/// `rm -f` while the monitor still starts the container: the container is
/// ended as soon as it runs (or before), and nothing is left.
#[test]
fn rm_f_while_the_monitor_starts_the_container() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let mark = marker(&env);
    for round in 0..4u64 {
        let mut run = env.run(&["-d", "-e", &mark], &["sh", "-c", LOOP]).spawn();
        let cli = run.pid();
        let mut found = false;
        while !found && !run.has_exited() {
            found = !children_with_cmdline(cli, "container-monitor").is_empty();
        }
        std::thread::sleep(Duration::from_millis(round * 4));
        let id = env
            .coracle(["ps", "-alq", "--no-trunc"])
            .run()
            .ok()
            .trim()
            .to_string();
        assert_eq!(id.len(), 64);
        let out = env.coracle(["rm", "-f", &id]).run();
        assert_eq!(out.ok().trim(), id, "{out}");
        // `run -d` either saw its container start or learnt why not.
        let out = run.wait();
        assert!(matches!(out.code(), 0 | 1 | 125), "{out}");
        assert_nothing_left(&env, std::slice::from_ref(&id), &[]);
    }
    // The monitor holds the lock but has not started the container yet
    // (stopped there by the test): `rm -f` waits for the start, ends it.
    let mut reached = false;
    for _ in 0..20 {
        let mut run = env.run(&["-d", "-e", &mark], &["sh", "-c", LOOP]).spawn();
        let cli = run.pid();
        let mut monitor = None;
        while monitor.is_none() && !run.has_exited() {
            monitor = children_with_cmdline(cli, "container-monitor")
                .first()
                .copied();
        }
        let Some(monitor) = monitor else {
            remove_all(&env);
            continue;
        };
        let id = env
            .coracle(["ps", "-alq", "--no-trunc"])
            .run()
            .ok()
            .trim()
            .to_string();
        while state_json(&env, &id).is_some_and(|s| s["monitor_pid"].as_i64().is_none())
            && !run.has_exited()
        {}
        let _ = kill(Pid::from_raw(monitor), Signal::SIGSTOP);
        let starting = state_json(&env, &id)
            .is_some_and(|s| s["status"] == "created" && s["monitor_pid"] == monitor);
        let rm = env.coracle(["rm", "-f", &id]).spawn();
        if starting {
            // Let `rm` find it alive and not yet running.
            std::thread::sleep(Duration::from_millis(300));
        }
        let _ = kill(Pid::from_raw(monitor), Signal::SIGCONT);
        let out = rm.wait();
        assert_eq!(out.ok().trim(), id, "{out}");
        let out = run.wait();
        assert!(matches!(out.code(), 0 | 1 | 125), "{out}");
        assert_nothing_left(&env, std::slice::from_ref(&id), &[]);
        if starting {
            reached = true;
            break;
        }
    }
    assert!(
        reached,
        "in 20 tries the monitor was never stopped between its lock and the start"
    );
}

/// Fills `dir/junk` with 1000 files of the test user, so that deleting the
/// directory takes long enough for the test to interrupt it.
fn add_junk(env: &Env, dir: &std::path::Path) {
    let junk = dir.join("junk");
    env.mkdir_owned(&junk, 0o700);
    for i in 0..10 {
        let d = junk.join(i.to_string());
        std::fs::create_dir(&d).unwrap();
        for j in 0..100 {
            std::fs::write(d.join(j.to_string()), b"x").unwrap();
        }
    }
    env.chown_tree(&junk);
}

/// `rm` killed while it deletes a big container directory: the record goes
/// first, so what is left is listed nowhere (no damaged container) and
/// `rm -f FULL_ID` removes it.
#[test]
fn killed_rm_leaves_nothing_listed_and_rm_f_finishes() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    // A few tries: `rm` may finish before the test can kill it.
    let mut reached = false;
    for _ in 0..3 {
        let id = detached(&env, &["--name", "big"], "exit 0");
        env.coracle(["wait", &id]).run().ok();
        let dir = env.data.join("coracle/containers").join(&id);
        add_junk(&env, &dir);
        let rm = env.coracle(["rm", &id]).spawn();
        let record = dir.join("container.json");
        while record.exists() {}
        sigkill(rm.pid());
        let _ = rm.wait();
        if dir.exists() {
            reached = true;
            let out = env.coracle(["ps", "-a", "--no-trunc"]).run();
            assert!(!out.ok().contains(&id), "{out}");
            assert_eq!(out.stderr, "", "nothing is damaged\n{out}");
            let out = env.coracle(["rm", "-f", &id]).run();
            assert_eq!(out.ok().trim(), id, "{out}");
        }
        assert_nothing_left(&env, std::slice::from_ref(&id), &[]);
        if reached {
            break;
        }
    }
    assert!(reached, "rm always ended before the test could kill it");
}

/// The monitor of a `--rm` container killed while it removes the container
/// that has just exited: nothing is listed (the record went first) and
/// `rm -f FULL_ID` finishes the removal.
#[test]
fn killed_monitor_while_it_removes_an_exited_rm_container() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let shared = env.dir.join("shared");
    env.mkdir_owned(&shared, 0o777);
    let spec = format!("{}:/shared", shared.display());
    // A few tries: the monitor may finish before the test can kill it.
    let mut reached = false;
    for _ in 0..3 {
        let _ = std::fs::remove_file(shared.join("go"));
        let id = detached(
            &env,
            &["--rm", "-v", &spec],
            "while [ ! -e /shared/go ]; do sleep 0.05; done",
        );
        let (_, ns) = running(&env, &id);
        let monitor = monitor_of(&env, &id);
        let dir = env.data.join("coracle/containers").join(&id);
        add_junk(&env, &dir);
        std::fs::write(shared.join("go"), b"").unwrap();
        let record = dir.join("container.json");
        while record.exists() {}
        sigkill(monitor);
        assert!(wait_until(|| lock_is_free(&env, &id)));
        if dir.exists() {
            reached = true;
            let out = env.coracle(["ps", "-a", "--no-trunc"]).run();
            assert!(!out.ok().contains(&id), "{out}");
            assert_eq!(out.stderr, "", "nothing is damaged\n{out}");
            let out = env.coracle(["rm", "-f", &id]).run();
            assert_eq!(out.ok().trim(), id, "{out}");
        }
        // What it left for `wait` goes with the next listing.
        env.coracle(["ps", "-a"]).run().ok();
        assert_nothing_left(&env, std::slice::from_ref(&id), &[ns]);
        if reached {
            break;
        }
    }
    assert!(
        reached,
        "the monitor always removed the container before the test could kill it"
    );
}

/// The container's first process killed while the monitor sets it up (a
/// clone of the monitor, before its exec): `run -d` reports the failure or
/// the start, and the record says created (with the error) or exited 137.
#[test]
fn pid1_killed_while_starting() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let mark = marker(&env);
    for round in 0..6u64 {
        let mut run = env.run(&["-d", "-e", &mark], &["sh", "-c", LOOP]).spawn();
        let cli = run.pid();
        let mut monitor = None;
        while monitor.is_none() && !run.has_exited() {
            monitor = children_with_cmdline(cli, "container-monitor")
                .first()
                .copied();
        }
        // The sandbox child carries the monitor's command line until it
        // execs the container's command.
        let mut child = None;
        while let (None, Some(m)) = (child, monitor) {
            child = children_with_cmdline(m, "container-monitor")
                .first()
                .copied();
            if child.is_none() && (run.has_exited() || !is_alive(m)) {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(round));
        let id = env
            .coracle(["ps", "-alq", "--no-trunc"])
            .run()
            .ok()
            .trim()
            .to_string();
        let pid1 = child
            .or_else(|| state_json(&env, &id).and_then(|s| s["pid"].as_i64().map(|p| p as i32)));
        if let Some(p) = pid1 {
            sigkill(p);
        }
        let out = run.wait();
        assert!(matches!(out.code(), 0 | 125), "{out}");
        assert!(
            wait_until(|| monitor_pids(&id).is_empty()),
            "the monitor ends"
        );
        assert!(wait_until(|| pids_with_env(&mark).is_empty()));
        let (state, listed_running) = ps_state(&env, &id);
        assert!(!listed_running, "round {round}: a running ghost");
        match state.as_str() {
            "exited" => assert_stopped(&env, &id, "exited", 137),
            "created" => {
                assert_eq!(out.code(), 125, "{out}");
                let s = inspect_state(&env, &id);
                assert_eq!(s["ExitCode"], 125, "{s}");
                assert_ne!(s["Error"], "", "{s}");
            }
            s => panic!("round {round}: state {s}"),
        }
    }
    remove_all(&env);
    assert_nothing_left(&env, &[], &[]);
}

fn is_alive(pid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid)
}

/// Crashes while `stop` waits for a container that takes its time to end.
#[test]
fn crashes_while_a_container_is_stopping() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let mark = marker(&env);
    let script = "trap 'echo stopping; sleep 60' TERM; echo up; while :; do sleep 0.1; done";
    let mut ids = Vec::new();
    let mut held = Vec::new();
    for victim in ["monitor", "pid1", "stop"] {
        let id = detached(&env, &[], script);
        let (pid, ns) = running(&env, &id);
        assert!(wait_until(|| env
            .coracle(["logs", &id])
            .run()
            .stdout
            .contains("up")));
        let stop = env.coracle(["stop", "-t", "600", &id]).spawn();
        assert!(
            wait_until(|| env.coracle(["logs", &id]).run().stdout.contains("stopping")),
            "the container got SIGTERM"
        );
        match victim {
            "monitor" => sigkill(monitor_of(&env, &id)),
            "pid1" => sigkill(pid),
            _ => sigkill(stop.pid()),
        }
        let out = stop.wait();
        if victim == "stop" {
            assert_eq!(out.status.signal(), Some(9), "{out}");
            // Still stopping, and shown so: its trap runs.
            assert_eq!(ps_state(&env, &id), ("running".to_string(), true));
            assert!(!pids_with_env(&mark).is_empty());
            assert!(!lock_is_free(&env, &id));
        } else {
            // `stop` sees the end and says so.
            assert_eq!(out.ok().trim(), id, "{out}");
            assert!(wait_until(|| pids_with_env(&mark).is_empty()));
            let status = if victim == "monitor" {
                "dead"
            } else {
                "exited"
            };
            assert_stopped(&env, &id, status, 137);
        }
        ids.push(id);
        held.push(ns);
    }
    let mut args = vec!["rm", "-f"];
    args.extend(ids.iter().map(String::as_str));
    assert_eq!(env.coracle(args).run().lines(), ids);
    assert_nothing_left(&env, &ids, &held);
}

/// A `run` killed right after it took the new container's lock leaves
/// only a runtime directory (no record, no data directory):
/// `container prune` removes it too, and so does `rm -f FULL_ID`.
#[test]
fn prune_and_rm_f_remove_what_a_run_killed_before_its_record_left() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let up = detached(&env, &[], LOOP);
    let (_, ns) = running(&env, &up);
    let remains = "cd".repeat(32);
    let dir = env.runtime.join("coracle/containers").join(&remains);
    env.mkdir_owned(&dir, 0o700);
    env.write_owned(&dir.join("monitor.lock"), "");
    let out = env.coracle(["container", "prune", "-f"]).run();
    assert!(out.ok().contains(&remains), "{out}");
    assert!(
        !dir.exists(),
        "prune removes the remains in the runtime dir"
    );
    // `rm -f` of the full id removes such remains too (they are listed
    // nowhere else), in the data directory as in the runtime directory.
    let data = env.data.join("coracle/containers").join(&remains);
    for d in [&dir, &data] {
        env.mkdir_owned(d, 0o700);
        env.write_owned(&d.join("state.json"), "{}");
        let out = env.coracle(["rm", "-f", &remains]).run();
        assert_eq!(out.ok().trim(), remains, "{out}");
        assert!(!dir.exists() && !data.exists(), "{}", d.display());
    }
    assert_eq!(
        runtime_dirs(&env),
        vec![up.clone()],
        "a running one is kept"
    );
    assert_eq!(ps_state(&env, &up), ("running".to_string(), true));
    env.coracle(["rm", "-f", &up]).run().ok();
    assert_nothing_left(&env, &[up], &[ns]);
}
