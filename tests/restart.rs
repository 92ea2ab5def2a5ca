//! Restart policies (`--restart`), `--stop-signal`/`--stop-timeout`, and
//! the `restart`, `rename` and `create` commands, run unprivileged through
//! the harness.

mod common;

use common::*;

fn restart_count(env: &Env, what: &str) -> u32 {
    env.inspect_field(what, "{{.RestartCount}}")
        .parse()
        .unwrap()
}

fn log_lines(env: &Env, what: &str, needle: &str) -> usize {
    env.coracle(["logs", what])
        .run()
        .ok()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

/// The host pid of the container's first process (0 when not running).
fn pid_of(env: &Env, what: &str) -> i32 {
    env.inspect_field(what, "{{.State.Pid}}").parse().unwrap()
}

fn status_of(env: &Env, what: &str) -> String {
    env.inspect_field(what, "{{.State.Status}}")
}

#[test]
fn on_failure_counts_restarts_and_gives_up_after_n() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(
        &["--name", "flaky", "--restart", "on-failure:2"],
        "echo run; exit 3",
    );
    // `wait` returns when the monitor gives up, with the last exit code.
    assert_eq!(env.coracle(["wait", "flaky"]).run().ok().trim(), "3");
    assert_eq!(
        log_lines(&env, &id, "run"),
        3,
        "the first run and 2 restarts"
    );
    assert_eq!(restart_count(&env, "flaky"), 2);
    assert_eq!(
        env.inspect_field(
            "flaky",
            "{{.State.Status}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}"
        ),
        "exited 3 on-failure 2"
    );
    // Success is not a failure: no restart.
    let ok = env.detached(&["--restart", "on-failure"], "echo fine; exit 0");
    assert_eq!(env.coracle(["wait", &ok]).run().ok().trim(), "0");
    assert_eq!(restart_count(&env, &ok), 0);
    assert_eq!(log_lines(&env, &ok, "fine"), 1);
    // The default policy is shown as Docker shows it.
    let plain = env.detached(&[], "exit 0");
    assert_eq!(
        env.inspect_field(&plain, "{{json .HostConfig.RestartPolicy}}"),
        "{\"MaximumRetryCount\":0,\"Name\":\"no\"}"
    );
}

#[test]
fn always_restarts_after_pid_1_is_killed_from_the_host() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let script = "echo up; while :; do sleep 0.2; done";
    let id = env.detached(&["--name", "phoenix", "--restart", "always"], script);
    assert!(wait_until(|| log_lines(&env, "phoenix", "up") == 1));
    let monitor = std::fs::read_to_string(
        env.data
            .join("coracle/containers")
            .join(&id)
            .join("state.json"),
    )
    .unwrap();
    let first = pid_of(&env, "phoenix");
    assert!(first > 0);
    // The container's process, not its monitor.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(
        wait_until(|| log_lines(&env, "phoenix", "up") == 2),
        "it runs again"
    );
    assert!(wait_until(|| status_of(&env, "phoenix") == "running"));
    assert_eq!(restart_count(&env, "phoenix"), 1);
    let second = pid_of(&env, "phoenix");
    assert!(second > 0 && second != first, "{first} {second}");
    let after = std::fs::read_to_string(
        env.data
            .join("coracle/containers")
            .join(&id)
            .join("state.json"),
    )
    .unwrap();
    let monitor_pid =
        |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap()["monitor_pid"].clone();
    assert_eq!(
        monitor_pid(&monitor),
        monitor_pid(&after),
        "the same monitor restarted it"
    );
    assert_eq!(env.coracle(["ps", "-q"]).run().ok().trim(), &id[..12]);
    // rm -f ends it for good and leaves nothing.
    env.coracle(["rm", "-f", "phoenix"]).run().ok();
    assert!(host_pids_with_cmdline(&format!("sh -c {script}")).is_empty());
    assert_eq!(env.state_dirs(), Vec::<String>::new());
}

#[test]
fn a_restarting_container_is_shown_and_stop_ends_it_for_good() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(&["--name", "crashy", "--restart", "always"], "exit 1");
    // Between runs (the backoff doubles, so this state lasts longer each time).
    assert!(
        wait_until(|| {
            let out = env.coracle(["ps", "--filter", "status=restarting"]).run();
            out.ok().contains("Restarting (1) ")
        }),
        "ps shows Restarting (CODE) ... ago"
    );
    assert!(wait_until(|| env.inspect_field(
        "crashy",
        "{{.State.Status}} {{.State.Running}} {{.State.Restarting}}"
    ) == "restarting true true"));
    assert!(restart_count(&env, "crashy") >= 1);
    assert_eq!(
        env.coracle(["ps", "-q"]).run().ok().trim(),
        &id[..12],
        "ps without -a lists a restarting container, as Docker's does"
    );
    // (It runs for a moment between restarts: asked until it is caught
    // restarting; `rm` without -f never removes it.)
    assert!(wait_until(|| {
        let out = env.coracle(["rm", "crashy"]).run();
        out.code() == 1
            && out
                .stderr
                .contains("container is restarting: stop the container")
    }));
    assert_eq!(env.coracle(["stop", "crashy"]).run().ok().trim(), "crashy");
    // Its monitor has ended: nobody is left to restart it.
    assert_eq!(env.coracle(["wait", "crashy"]).run().ok().trim(), "1");
    assert_eq!(status_of(&env, "crashy"), "exited");
    assert_eq!(env.coracle(["ps", "-q"]).run().ok(), "");
}

#[test]
fn stop_of_an_always_container_keeps_it_stopped_and_start_resets_the_count() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let script = "echo up; trap 'exit 0' TERM; while :; do sleep 0.1; done";
    env.detached(&["--name", "steady", "--restart", "always"], script);
    assert!(wait_until(|| log_lines(&env, "steady", "up") == 1));
    let first = pid_of(&env, "steady");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(wait_until(|| log_lines(&env, "steady", "up") == 2));
    assert!(wait_until(|| status_of(&env, "steady") == "running"));
    assert_eq!(restart_count(&env, "steady"), 1);
    assert_eq!(
        env.coracle(["stop", "-t", "5", "steady"]).run().ok().trim(),
        "steady"
    );
    // The monitor is gone (wait returns), so nothing restarts it.
    assert_eq!(env.coracle(["wait", "steady"]).run().ok().trim(), "0");
    assert_eq!(status_of(&env, "steady"), "exited");
    assert_eq!(log_lines(&env, "steady", "up"), 2);
    assert_eq!(
        restart_count(&env, "steady"),
        1,
        "a stop is not counted as a restart"
    );
    assert!(host_pids_with_cmdline(&format!("sh -c {script}")).is_empty());
    // An explicit start runs it again with a fresh count, as Docker's does.
    assert_eq!(env.coracle(["start", "steady"]).run().ok().trim(), "steady");
    assert!(wait_until(|| log_lines(&env, "steady", "up") == 3));
    assert_eq!(status_of(&env, "steady"), "running");
    assert_eq!(restart_count(&env, "steady"), 0);
}

#[test]
fn unless_stopped_restarts_on_success_until_killed() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    env.detached(
        &["--name", "loop", "--restart", "unless-stopped"],
        "echo pass; sleep 0.3; exit 0",
    );
    assert!(
        wait_until(|| restart_count(&env, "loop") >= 2),
        "a successful exit restarts too"
    );
    assert!(log_lines(&env, "loop", "pass") >= 2);
    // kill (SIGKILL) by the user ends it for good, running or restarting.
    let out = env.coracle(["kill", "loop"]).run();
    assert_eq!(out.ok().trim(), "loop");
    let code = env.coracle(["wait", "loop"]).run().ok().trim().to_string();
    assert!(code == "137" || code == "0", "{code}");
    assert_eq!(status_of(&env, "loop"), "exited");
    assert_eq!(
        env.inspect_field("loop", "{{.HostConfig.RestartPolicy.Name}}"),
        "unless-stopped"
    );
}

#[test]
fn kill_ends_a_policy_only_with_kill_or_the_stop_signal() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    // Docker's rule: with a StopSignal set, another signal is just
    // delivered, and the policy restarts what it ends.
    env.detached(
        &[
            "--name",
            "usr",
            "--restart",
            "always",
            "--stop-signal",
            "USR1",
        ],
        "echo up; trap 'exit 9' USR2; trap 'exit 8' USR1; while :; do sleep 0.1; done",
    );
    assert!(wait_until(|| log_lines(&env, "usr", "up") == 1));
    env.coracle(["kill", "-s", "USR2", "usr"]).run().ok();
    assert!(wait_until(|| log_lines(&env, "usr", "up") == 2));
    assert!(wait_until(|| status_of(&env, "usr") == "running"));
    assert_eq!(restart_count(&env, "usr"), 1);
    // The stop signal ends it for good.
    env.coracle(["kill", "-s", "USR1", "usr"]).run().ok();
    assert_eq!(env.coracle(["wait", "usr"]).run().ok().trim(), "8");
    assert_eq!(status_of(&env, "usr"), "exited");
    assert_eq!(log_lines(&env, "usr", "up"), 2);
    assert_eq!(restart_count(&env, "usr"), 1);
}

#[test]
fn stop_signal_and_stop_timeout_are_honoured() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let polite = env.detached(
        &["--stop-signal", "USR1"],
        "trap 'echo got-usr1; exit 4' USR1; echo ready; while :; do sleep 0.1; done",
    );
    assert!(wait_until(|| log_lines(&env, &polite, "ready") == 1));
    assert_eq!(env.inspect_field(&polite, "{{.Config.StopSignal}}"), "USR1");
    env.coracle(["stop", &polite]).run().ok();
    assert_eq!(env.coracle(["wait", &polite]).run().ok().trim(), "4");
    assert_eq!(log_lines(&env, &polite, "got-usr1"), 1);
    // TERM takes 5 seconds to handle: a stop timeout of 1 kills it first
    // (137), the default of 10 lets it exit by itself (5).
    let slow = "trap 'sleep 5; exit 5' TERM; echo ready; while :; do sleep 0.1; done";
    let short = env.detached(&["--stop-timeout", "1"], slow);
    let default = env.detached(&[], slow);
    let long = env.detached(&["--stop-timeout", "30"], slow);
    for id in [&short, &default, &long] {
        assert!(wait_until(|| log_lines(&env, id, "ready") == 1));
    }
    assert_eq!(env.inspect_field(&short, "{{.Config.StopTimeout}}"), "1");
    let config: serde_json::Value =
        serde_json::from_str(&env.inspect_field(&default, "{{json .Config}}")).unwrap();
    assert!(
        config.get("StopTimeout").is_none() && config.get("StopSignal").is_none(),
        "not set, not shown: {config}"
    );
    env.coracle(["stop", &short, &default]).run().ok();
    // `-t` wins over the container's own timeout.
    env.coracle(["stop", "-t", "1", &long]).run().ok();
    let out = env.coracle(["wait", &short, &default, &long]).run();
    assert_eq!(out.ok().lines().collect::<Vec<_>>(), ["137", "5", "137"]);
    let out = env.run(&["-d", "--stop-signal", "NOPE"], &["true"]).run();
    out.expect_code(125);
    assert!(out.stderr.contains("invalid signal: NOPE"), "{out}");
}

#[test]
fn restart_stops_and_starts_again() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let script = "echo start; trap 'exit 0' TERM; while :; do sleep 0.1; done";
    env.detached(&["--name", "again"], script);
    assert!(wait_until(|| log_lines(&env, "again", "start") == 1));
    let first = pid_of(&env, "again");
    let out = env.coracle(["restart", "-t", "5", "again"]).run();
    assert_eq!(out.ok().trim(), "again");
    assert_eq!(status_of(&env, "again"), "running");
    assert!(wait_until(|| log_lines(&env, "again", "start") == 2));
    assert_ne!(pid_of(&env, "again"), first);
    // A stopped container is simply started.
    env.coracle(["stop", "-t", "5", "again"]).run().ok();
    assert_eq!(status_of(&env, "again"), "exited");
    env.coracle(["restart", "again"]).run().ok();
    assert!(wait_until(|| log_lines(&env, "again", "start") == 3));
    assert_eq!(status_of(&env, "again"), "running");
    // A --rm container survives its restart, as under Docker.
    let gone = env.detached(&["--rm"], script);
    assert!(wait_until(|| log_lines(&env, &gone, "start") == 1));
    env.coracle(["restart", "-t", "5", &gone]).run().ok();
    assert!(wait_until(|| log_lines(&env, &gone, "start") == 2));
    assert_eq!(status_of(&env, &gone), "running");
    let out = env.coracle(["restart", "nope"]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("No such container: nope"), "{out}");
}

#[test]
fn rename_checks_names_and_keeps_the_container() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(&["--name", "old"], "while :; do sleep 0.2; done");
    let other = env.detached(&["--name", "taken"], "exit 0");
    let out = env.coracle(["rename", "old", "new"]).run();
    assert_eq!(out.ok(), "", "rename prints nothing\n{out}");
    assert_eq!(env.inspect_field(&id, "{{.Name}}"), "/new");
    assert_eq!(env.inspect_field("new", "{{.Id}}"), id);
    env.coracle(["inspect", "old"]).run().expect_code(1);
    assert_eq!(status_of(&env, "new"), "running", "a running one too");
    // The old name is free again.
    env.detached(&["--name", "old"], "exit 0");
    let out = env.coracle(["rename", "new", "taken"]).run();
    out.expect_code(1);
    assert!(
        out.stderr.contains(&format!(
            "Conflict. The container name \"/taken\" is already in use by container \"{other}\"."
        )),
        "{out}"
    );
    assert_eq!(out.stderr.lines().count(), 1, "one clear line\n{out}");
    let out = env.coracle(["rename", "nope", "x"]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("No such container: nope"), "{out}");
    let out = env.coracle(["rename", "new", "new"]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("same name"), "{out}");
    let out = env.coracle(["rename", "new", "a/b"]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("invalid container name"), "{out}");
    assert_eq!(
        env.coracle(["stop", "-t", "1", "new"]).run().ok().trim(),
        "new"
    );
}

#[test]
fn create_records_a_container_that_start_runs() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let out = env
        .coracle([
            "create",
            "--name",
            "later",
            "--restart",
            "on-failure:1",
            "--label",
            "k=v",
            "--rootfs",
            env.rootfs.to_str().unwrap(),
            "sh",
            "-c",
            "echo hi; exit 2",
        ])
        .run();
    let id = out.ok().trim().to_string();
    assert_eq!(id.len(), 64, "create prints the full id\n{out}");
    let ps = env.coracle(["ps", "-a"]).run();
    assert!(
        ps.ok()
            .lines()
            .any(|l| l.starts_with(&id[..12]) && l.contains("Created")),
        "{ps}"
    );
    assert_eq!(
        env.inspect_field("later", "{{.State.Status}} {{.Config.Labels.k}}"),
        "created v"
    );
    assert_eq!(log_lines(&env, "later", "hi"), 0, "not started");
    assert_eq!(env.coracle(["start", "later"]).run().ok().trim(), "later");
    assert_eq!(env.coracle(["wait", "later"]).run().ok().trim(), "2");
    assert_eq!(
        log_lines(&env, "later", "hi"),
        2,
        "on-failure:1 ran it twice"
    );
    assert_eq!(restart_count(&env, "later"), 1);
    // A name clash, as for run.
    let out = env
        .coracle([
            "create",
            "--name",
            "later",
            "--rootfs",
            env.rootfs.to_str().unwrap(),
            "true",
        ])
        .run();
    out.expect_code(125);
    assert!(out.stderr.contains("Conflict."), "{out}");
    let out = env
        .coracle([
            "create",
            "-d",
            "--rootfs",
            env.rootfs.to_str().unwrap(),
            "true",
        ])
        .run();
    out.expect_code(125);
    assert_eq!(env.state_dirs(), vec![id]);
}

#[test]
fn rm_with_a_restart_policy_and_bad_policies_are_refused() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    for opts in [
        &["-d", "--rm", "--restart", "always"][..],
        &["-d", "--rm", "--restart=on-failure:3"],
    ] {
        let out = env.run(opts, &["true"]).run();
        out.expect_code(125);
        assert_eq!(
            out.stderr.trim(),
            "coracle: Conflicting options: --restart and --rm",
            "{out}"
        );
    }
    let out = env
        .coracle([
            "create",
            "--rm",
            "--restart",
            "unless-stopped",
            "--rootfs",
            env.rootfs.to_str().unwrap(),
            "true",
        ])
        .run();
    out.expect_code(125);
    assert!(out.stderr.contains("Conflicting options"), "{out}");
    for (policy, says) in [
        ("sometimes", "unknown policy 'sometimes'"),
        (
            "always:3",
            "maximum retry count can only be used with 'on-failure'",
        ),
        ("on-failure:x", "maximum retry count must be an integer"),
        ("on-failure:-1", "cannot be negative"),
    ] {
        let out = env.run(&["-d", "--restart", policy], &["true"]).run();
        out.expect_code(125);
        assert!(out.stderr.contains(says), "{policy}: {out}");
        assert_eq!(out.stderr.lines().count(), 1, "one clear line\n{out}");
    }
    assert_eq!(env.state_dirs(), Vec::<String>::new(), "nothing was made");
}

#[test]
fn a_foreground_run_hands_its_restarts_to_a_monitor() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    // `run` ends with the first exit, as Docker's does; the container runs
    // on under a monitor that takes over.
    let out = env
        .run(
            &["--name", "fg", "--restart", "on-failure:2"],
            &["sh", "-c", "echo run; exit 3"],
        )
        .run();
    out.expect_code(3);
    assert_eq!(out.stdout, "run\n", "{out}");
    assert_eq!(env.coracle(["wait", "fg"]).run().ok().trim(), "3");
    assert_eq!(restart_count(&env, "fg"), 2);
    assert_eq!(
        log_lines(&env, "fg", "run"),
        3,
        "the foreground run and the monitor's two restarts all log"
    );
    assert_eq!(status_of(&env, "fg"), "exited");
    // Without a failure nothing is handed over.
    env.run(&["--name", "fine", "--restart", "on-failure"], &["true"])
        .run()
        .ok();
    assert_eq!(env.coracle(["wait", "fine"]).run().ok().trim(), "0");
    assert_eq!(restart_count(&env, "fine"), 0);
    // A terminal container gets a new terminal on each run.
    env.run(
        &["-d", "-t", "--name", "tty", "--restart", "on-failure:2"],
        &["sh", "-c", "tty; exit 3"],
    )
    .run()
    .ok();
    assert_eq!(env.coracle(["wait", "tty"]).run().ok().trim(), "3");
    assert_eq!(restart_count(&env, "tty"), 2);
    assert_eq!(log_lines(&env, "tty", "/dev/pts/"), 3);
}

#[test]
fn a_killed_monitor_of_a_restarting_container_leaves_it_dead_not_restarting() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(&["--name", "ghost", "--restart", "always"], "exit 1");
    assert!(wait_until(|| status_of(&env, "ghost") == "restarting"));
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            env.data
                .join("coracle/containers")
                .join(&id)
                .join("state.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let monitor = state["monitor_pid"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(monitor),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    // Its lock is free at once: whatever state.json says, it is dead.
    assert!(wait_until(|| status_of(&env, "ghost") == "dead"));
    assert_eq!(env.coracle(["ps", "-q"]).run().ok(), "");
    assert_eq!(
        env.inspect_field("ghost", "{{.State.Running}} {{.State.Restarting}}"),
        "false false"
    );
    env.coracle(["rm", "-f", "ghost"]).run().ok();
    assert_eq!(env.state_dirs(), Vec::<String>::new());
    assert!(!env.runtime.join("coracle/containers").join(&id).exists());
}
