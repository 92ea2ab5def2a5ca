//! Health checks: `--health-*` flags, run by the container's monitor through
//! `exec` on schedule; status in `ps`, `inspect` and `ps --filter health=`.

mod common;

use common::*;

fn health(env: &Env, name: &str) -> serde_json::Value {
    let out = env
        .coracle(["inspect", "-f", "{{json .State.Health}}", name])
        .run();
    serde_json::from_str(out.ok().trim()).unwrap_or_else(|e| panic!("{e}\n{out}"))
}

fn status_of(env: &Env, name: &str) -> String {
    health(env, name)["Status"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn ps_status(env: &Env, name: &str) -> String {
    env.coracle([
        "ps",
        "--filter",
        &format!("name={name}"),
        "--format",
        "{{.Status}}",
    ])
    .run()
    .ok()
    .trim()
    .to_string()
}

#[test]
fn health_goes_from_starting_to_healthy_to_unhealthy() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    // Healthy while /tmp/ok exists; a long start period so the first
    // failures do not count.
    env.run(
        &[
            "-d",
            "--name",
            "hc",
            "--health-cmd",
            "cat /tmp/ok",
            "--health-interval",
            "200ms",
            "--health-retries",
            "2",
            "--health-start-period",
            "1h",
            "--health-start-interval",
            "200ms",
        ],
        &["sleep", "600"],
    )
    .run()
    .ok();
    let st = status_of(&env, "hc");
    assert_eq!(st, "starting");
    assert!(ps_status(&env, "hc").ends_with("(health: starting)"));
    // Failures inside the start period leave it starting.
    assert!(wait_until(|| health(&env, "hc")["Log"]
        .as_array()
        .is_some_and(|l| l.len() >= 3)));
    let h = health(&env, "hc");
    assert_eq!(h["Status"], "starting", "{h}");
    assert_eq!(h["FailingStreak"], 0, "{h}");

    env.coracle(["exec", "hc", "sh", "-c", "echo fine > /tmp/ok"])
        .run()
        .ok();
    assert!(wait_until(|| status_of(&env, "hc") == "healthy"));
    assert!(
        ps_status(&env, "hc").ends_with("(healthy)"),
        "{}",
        ps_status(&env, "hc")
    );
    let h = health(&env, "hc");
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ExitCode"], 0, "{h}");
    assert_eq!(last["Output"], "fine\n", "the check's output is kept\n{h}");
    let healthy = env
        .coracle(["ps", "-q", "--filter", "health=healthy"])
        .run();
    assert_eq!(healthy.lines().len(), 1, "{healthy}");

    // After the first success every failure counts: two make it unhealthy.
    env.coracle(["exec", "hc", "rm", "/tmp/ok"]).run().ok();
    assert!(wait_until(|| status_of(&env, "hc") == "unhealthy"));
    let h = health(&env, "hc");
    assert!(h["FailingStreak"].as_u64().unwrap() >= 2, "{h}");
    assert!(ps_status(&env, "hc").ends_with("(unhealthy)"));
    let cfg = env
        .coracle(["inspect", "-f", "{{json .Config.Healthcheck}}", "hc"])
        .run();
    let cfg: serde_json::Value = serde_json::from_str(cfg.ok().trim()).unwrap();
    assert_eq!(cfg["Test"], serde_json::json!(["CMD-SHELL", "cat /tmp/ok"]));
    assert_eq!(cfg["Interval"], 200_000_000);
    assert_eq!(cfg["Retries"], 2);
}

#[test]
fn a_check_that_hangs_times_out_and_is_killed() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    env.run(
        &[
            "-d",
            "--name",
            "slow",
            "--health-cmd",
            "sleep 777",
            "--health-interval",
            "100ms",
            "--health-timeout",
            "300ms",
            "--health-retries",
            "1",
        ],
        &["sleep", "600"],
    )
    .run()
    .ok();
    assert!(wait_until(|| status_of(&env, "slow") == "unhealthy"));
    let h = health(&env, "slow");
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ExitCode"], -1, "{h}");
    assert_eq!(
        last["Output"], "Health check exceeded timeout (300ms)",
        "{h}"
    );
    // Timed-out checks do not pile up in the container.
    let ps = env.coracle(["exec", "slow", "ps", "-o", "args"]).run();
    let hanging = ps.ok().lines().filter(|l| l.contains("sleep 777")).count();
    assert!(hanging <= 1, "timed-out checks are killed\n{ps}");
}

#[test]
fn a_check_with_much_output_is_healthy_and_kept_short() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    env.run(
        &[
            "-d",
            "--name",
            "chatty",
            "--health-cmd",
            "yes | head -c 100000",
            "--health-interval",
            "100ms",
        ],
        &["sleep", "600"],
    )
    .run()
    .ok();
    assert!(wait_until(|| status_of(&env, "chatty") == "healthy"));
    let h = health(&env, "chatty");
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ExitCode"], 0, "{h}");
    assert_eq!(last["Output"].as_str().unwrap().len(), 4096, "{h}");
}

#[test]
fn health_flags_are_checked_and_none_disables() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let out = env
        .run(&["--no-healthcheck", "--health-cmd", "true"], &["true"])
        .run();
    out.expect_code(125);
    assert!(out.stderr.contains("conflicts"), "{out}");
    let out = env.run(&["--health-interval", "soon"], &["true"]).run();
    out.expect_code(125);
    assert!(out.stderr.contains("--health-interval"), "{out}");
    let out = env.run(&["--health-retries", "-1"], &["true"]).run();
    out.expect_code(125);
    assert!(out.stderr.contains("negative"), "{out}");
    // No check: no health in ps or inspect.
    env.run(
        &["-d", "--name", "plain", "--no-healthcheck"],
        &["sleep", "600"],
    )
    .run()
    .ok();
    assert!(ps_status(&env, "plain").starts_with("Up"));
    assert!(!ps_status(&env, "plain").contains("health"));
    let out = env
        .coracle(["inspect", "-f", "{{json .State.Health}}", "plain"])
        .run();
    assert_eq!(out.ok().trim(), "null");
}

#[test]
fn a_foreground_container_is_checked_too() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let running = env
        .run(
            &[
                "--name",
                "fg",
                "--health-cmd",
                "true",
                "--health-interval",
                "100ms",
            ],
            &["sleep", "600"],
        )
        .spawn();
    assert!(wait_until(|| env
        .coracle(["inspect", "-f", "{{json .State.Health}}", "fg"])
        .run()
        .stdout
        .contains("\"healthy\"")));
    drop(running);
}
