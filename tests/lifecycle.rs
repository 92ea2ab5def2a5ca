//! Containers without a daemon: `run -d` and its monitor, records that
//! outlive the process that ran them, and the commands that work on them
//! (ps, logs, stop, kill, wait, rm, inspect, start).

mod common;
#[path = "common/images.rs"]
mod images_fixture;
#[path = "common/registry.rs"]
mod registry_fixture;

use common::*;

fn state_json(env: &Env, id: &str) -> serde_json::Value {
    let p = env
        .data
        .join("coracle/containers")
        .join(id)
        .join("state.json");
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

fn log_lines(env: &Env, what: &str, needle: &str) -> usize {
    env.coracle(["logs", what])
        .run()
        .ok()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

#[test]
fn detached_container_logs_grow_and_follow_ends_with_it() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let script = "while :; do echo tick; sleep 0.2; done";
    let id = env.detached(&["--name", "ticker"], script);
    assert!(wait_until(|| log_lines(&env, "ticker", "tick") >= 1));
    let first = log_lines(&env, &id, "tick");
    assert!(
        wait_until(|| log_lines(&env, &id, "tick") > first),
        "the log grows while the container runs"
    );
    // Follow from the end: only new lines, and it ends with the container.
    let follow = env.coracle(["logs", "-f", "--tail", "0", "ticker"]).spawn();
    let before = log_lines(&env, &id, "tick");
    assert!(wait_until(|| log_lines(&env, &id, "tick") > before + 1));
    let out = env.coracle(["stop", "-t", "1", "ticker"]).run();
    assert_eq!(out.ok().trim(), "ticker", "stop prints the name as given");
    let out = follow.wait();
    assert!(
        out.ok().lines().any(|l| l == "tick"),
        "logs -f saw new lines\n{out}"
    );
    let pids = host_pids_with_cmdline(&format!("sh -c {script}"));
    assert!(pids.is_empty(), "no container process is left: {pids:?}");
}

#[test]
fn logs_keep_streams_apart_and_filter_by_time_and_tail() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(&[], "echo one; echo err >&2; echo two; printf partial");
    assert_eq!(env.coracle(["wait", &id]).run().ok().trim(), "0");
    let out = env.coracle(["logs", &id]).run();
    assert_eq!(out.ok(), "one\ntwo\npartial", "{out}");
    assert_eq!(out.stderr, "err\n", "{out}");
    let out = env.coracle(["logs", "--tail", "1", &id]).run();
    assert_eq!(out.ok(), "partial", "{out}");
    let out = env.coracle(["logs", "-t", "--since", "1h", &id]).run();
    let first = out.ok().lines().next().unwrap().to_string();
    let (ts, rest) = first.split_once(' ').unwrap();
    assert_eq!(rest, "one");
    assert!(ts.ends_with('Z') && ts.contains('T'), "RFC 3339 time: {ts}");
    // Until an hour ago: nothing was logged yet.
    let out = env.coracle(["logs", "--until", "1h", &id]).run();
    assert_eq!(out.ok(), "", "{out}");
    assert_eq!(out.stderr, "", "{out}");
    let out = env.coracle(["logs", "--since", ts, &id]).run();
    assert!(out.ok().starts_with("one\n"), "{out}");
    let out = env.coracle(["logs", "--since", "yesterday", &id]).run();
    out.expect_code(125);
    assert!(out.stderr.contains("--since"), "{out}");
    // Docker's json-file format on disk.
    let log = std::fs::read_to_string(
        env.data
            .join("coracle/containers")
            .join(&id)
            .join("container-json.log"),
    )
    .unwrap();
    let entry: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(entry["log"], "one\n");
    assert_eq!(entry["stream"], "stdout");
    assert!(entry["time"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn stop_kills_what_ignores_sigterm_and_wait_prints_exit_codes() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    // pid 1 without a TERM handler ignores SIGTERM: stop must kill it.
    let stubborn = env.detached(
        &["--name", "stubborn"],
        "trap '' TERM; while :; do sleep 0.1; done",
    );
    // With a handler it exits by itself.
    let polite = env.detached(&[], "trap 'exit 3' TERM; while :; do sleep 0.1; done");
    let seven = env.detached(&[], "exit 7");
    let out = env
        .coracle(["stop", "-t", "1", "stubborn", &polite[..12]])
        .run();
    assert_eq!(
        out.ok().lines().collect::<Vec<_>>(),
        ["stubborn", &polite[..12]]
    );
    let out = env.coracle(["wait", &stubborn, &polite, &seven]).run();
    assert_eq!(
        out.ok().lines().collect::<Vec<_>>(),
        ["137", "3", "7"],
        "{out}"
    );
    assert_eq!(
        env.inspect_field("stubborn", "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 137"
    );
    let out = env.coracle(["ps", "-a", "--filter", "name=stubborn"]).run();
    assert!(out.ok().contains("Exited (137) "), "{out}");
    // Stopping a stopped container is not an error.
    assert_eq!(
        env.coracle(["stop", "stubborn"]).run().ok().trim(),
        "stubborn"
    );
}

#[test]
fn kill_sends_the_signal_and_refuses_a_stopped_container() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(&[], "trap 'exit 5' USR1; while :; do sleep 0.1; done");
    let out = env.coracle(["kill", "-s", "USR1", &id[..8]]).run();
    assert_eq!(out.ok().trim(), &id[..8]);
    assert_eq!(env.coracle(["wait", &id]).run().ok().trim(), "5");
    let out = env.coracle(["kill", &id]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("is not running"), "{out}");
    let out = env.coracle(["kill", "-s", "NOPE", &id]).run();
    assert_ne!(out.code(), 0);
    assert!(out.stderr.contains("invalid signal"), "{out}");
}

#[test]
fn detached_start_errors_have_dockers_exit_codes() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let out = env.run(&["-d", "--name", "missing"], &["nosuchcmd"]).run();
    out.expect_code(127);
    assert!(out.stderr.contains("nosuchcmd"), "{out}");
    assert_eq!(out.stdout, "", "no id is printed for a failed start\n{out}");
    let out = env.run(&["-d"], &["/etc/passwd"]).run();
    out.expect_code(126);
    assert_eq!(
        env.inspect_field("missing", "{{.State.Status}} {{.State.ExitCode}}"),
        "created 127"
    );
    assert!(env
        .inspect_field("missing", "{{.State.Error}}")
        .contains("nosuchcmd"));
}

#[test]
fn names_are_unique_valid_and_resolve_with_id_prefixes() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(&["--name", "web"], "exit 0");
    let out = env.run(&["-d", "--name", "web"], &["true"]).run();
    out.expect_code(125);
    assert!(
        out.stderr.contains(&format!(
            "Conflict. The container name \"/web\" is already in use by container \"{id}\". \
             You have to remove (or rename) that container to be able to reuse that name."
        )),
        "{out}"
    );
    // The foreground run checks names too.
    env.run(&["--name", "web"], &["true"])
        .run()
        .expect_code(125);
    let out = env.run(&["-d", "--name=-bad"], &["true"]).run();
    out.expect_code(125);
    assert!(out.stderr.contains("invalid container name"), "{out}");
    assert_eq!(env.inspect_field(&id[..6], "{{.Name}}"), "/web");
    assert_eq!(env.inspect_field("web", "{{.Id}}"), id);
    let other = env.detached(&[], "exit 0");
    let name = env.inspect_field(&other, "{{.Name}}");
    let name = name.strip_prefix('/').unwrap();
    let (adj, noun) = name.split_once('_').expect("adjective_noun");
    assert!(!adj.is_empty() && !noun.is_empty(), "{name}");
    assert_eq!(env.inspect_field(name, "{{.Id}}"), other);
    for cmd in ["inspect", "logs", "wait", "stop", "kill", "rm", "start"] {
        let out = env.coracle([cmd, "nope"]).run();
        out.expect_code(1);
        assert!(
            out.stderr.contains("No such container: nope"),
            "{cmd}: {out}"
        );
    }
    // `rm -f` of a container that is not there is quiet, as Docker's.
    env.coracle(["rm", "-f", "nope"]).run().ok();
}

#[test]
fn ps_filters_and_formats() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let done = env.detached(&["--name", "done", "--label", "tier=batch"], "exit 2");
    env.coracle(["wait", "done"]).run().ok();
    let up = env.detached(
        &["--name", "up", "-l", "tier=web", "--label", "flag"],
        "while :; do sleep 0.2; done",
    );
    let ps = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["ps"];
        a.extend_from_slice(args);
        env.coracle(a)
            .run()
            .ok()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let table = ps(&[]);
    assert_eq!(table.len(), 2, "header and the running one: {table:?}");
    for col in [
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ] {
        assert!(table[0].contains(col), "{table:?}");
    }
    assert!(
        table[1].starts_with(&up[..12]) && table[1].ends_with("up"),
        "{table:?}"
    );
    assert!(
        table[1].contains(" ago ") && table[1].contains("Up "),
        "{table:?}"
    );
    assert_eq!(ps(&["-q"]), [&up[..12]]);
    assert_eq!(ps(&["-aq"]), [&up[..12], &done[..12]], "newest first");
    assert_eq!(ps(&["-q", "--no-trunc"]), [up.as_str()]);
    assert_eq!(ps(&["-lq"]), [&up[..12]]);
    assert_eq!(ps(&["-q", "-n", "2"]), [&up[..12], &done[..12]]);
    assert_eq!(ps(&["-q", "--filter", "status=exited"]), [&done[..12]]);
    assert_eq!(ps(&["-aq", "--filter", "name=do"]), [&done[..12]]);
    assert_eq!(ps(&["-aq", "--filter", "label=tier=web"]), [&up[..12]]);
    assert_eq!(ps(&["-aq", "--filter", "label=tier"]).len(), 2);
    assert_eq!(ps(&["-aq", "--filter", "label=flag"]), [&up[..12]]);
    assert_eq!(
        ps(&["-aq", "-f", &format!("id={}", &done[..5])]),
        [&done[..12]]
    );
    let rootfs = env.rootfs.display().to_string();
    assert_eq!(
        ps(&["-aq", "--filter", &format!("ancestor={rootfs}")]).len(),
        2
    );
    assert!(ps(&[
        "-aq",
        "--filter",
        "status=exited",
        "--filter",
        "label=tier=web"
    ])
    .is_empty());
    let a = ps(&["-a"]);
    assert!(a.iter().any(|l| l.contains("Exited (2) ")), "{a:?}");
    let json = ps(&["-a", "--format", "json"]);
    assert_eq!(json.len(), 2);
    let v: serde_json::Value = serde_json::from_str(&json[0]).unwrap();
    assert_eq!(v["ID"], &up[..12]);
    assert_eq!(v["Names"], "up");
    assert_eq!(v["State"], "running");
    assert_eq!(v["Labels"], "flag=,tier=web");
    assert_eq!(v["Image"], rootfs);
    assert_eq!(
        ps(&["-a", "--format", "{{.Names}} {{.State}}"]),
        ["up running", "done exited"]
    );
    let t = ps(&["--format", "table {{.ID}}\\t{{.Names}}"]);
    assert_eq!(t.len(), 2, "{t:?}");
    assert!(t[0].starts_with("CONTAINER ID   NAMES"), "{t:?}");
    assert_eq!(t[1], format!("{}   up", &up[..12]));
    for bad in [
        &["--filter", "colour=red"][..],
        &["--filter", "status=sleeping"],
        &["--format", "{{.Nope}}"],
        &["--format", "plain"],
    ] {
        let mut a = vec!["ps"];
        a.extend_from_slice(bad);
        let out = env.coracle(a).run();
        out.expect_code(125);
        assert_eq!(out.stderr.lines().count(), 1, "one clear line\n{out}");
    }
}

#[test]
fn killed_monitor_is_not_shown_running_and_rm_f_cleans_up() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let script = "while :; do echo alive; sleep 0.2; done";
    let id = env.detached(&["--name", "orphan"], script);
    let monitor = state_json(&env, &id)["monitor_pid"].as_i64().unwrap() as i32;
    assert!(wait_until(|| !host_pids_with_cmdline(&format!(
        "sh -c {script}"
    ))
    .is_empty()));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(monitor),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(
        wait_until(|| host_pids_with_cmdline(&format!("sh -c {script}")).is_empty()),
        "the container dies with its monitor"
    );
    let out = env.coracle(["ps", "-q"]).run();
    assert_eq!(
        out.ok(),
        "",
        "a container whose monitor died is not running\n{out}"
    );
    let out = env.coracle(["ps", "-a", "--filter", "status=dead"]).run();
    assert!(out.ok().contains("Dead"), "{out}");
    assert_eq!(
        env.inspect_field("orphan", "{{.State.Running}} {{.State.Dead}}"),
        "false true"
    );
    let out = env.coracle(["rm", "-f", "orphan"]).run();
    assert_eq!(out.ok().trim(), "orphan");
    assert_eq!(
        env.state_dirs(),
        Vec::<String>::new(),
        "rm leaves no record"
    );
    assert!(
        !env.runtime.join("coracle/containers").join(&id).exists(),
        "rm leaves no runtime directory"
    );
}

#[test]
fn rm_refuses_a_running_container_and_rm_f_kills_it() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let script = "while :; do sleep 0.21; done";
    let id = env.detached(&["--name", "busy"], script);
    let out = env.coracle(["rm", "busy"]).run();
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "cannot remove container \"/busy\": container is running: stop the container before removing or force remove"
        ),
        "{out}"
    );
    assert_eq!(env.coracle(["ps", "-q"]).run().ok().trim(), &id[..12]);
    let out = env.coracle(["rm", "-f", &id[..10]]).run();
    assert_eq!(out.ok().trim(), &id[..10]);
    assert!(host_pids_with_cmdline(&format!("sh -c {script}")).is_empty());
    assert_eq!(env.state_dirs(), Vec::<String>::new());
    assert_eq!(env.coracle(["ps", "-aq"]).run().ok(), "");
}

#[test]
fn foreground_runs_are_recorded_and_rm_flag_leaves_nothing() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    env.run(
        &["--name", "fg", "--label", "k=v"],
        &["sh", "-c", "echo hi; exit 4"],
    )
    .run()
    .expect_code(4);
    env.run(&["--rm", "--name", "gone"], &["true"]).run().ok();
    let out = env.coracle(["ps", "-a", "--format", "json"]).run();
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(v["Names"], "fg");
    assert_eq!(v["State"], "exited");
    assert!(
        v["Status"].as_str().unwrap().starts_with("Exited (4)"),
        "{v}"
    );
    let out = env.coracle(["inspect", "fg"]).run();
    let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
    let c = &v[0];
    assert_eq!(c["Name"], "/fg");
    assert_eq!(c["Path"], "sh");
    assert_eq!(c["Args"], serde_json::json!(["-c", "echo hi; exit 4"]));
    assert_eq!(c["State"]["Status"], "exited");
    assert_eq!(c["State"]["ExitCode"], 4);
    assert_eq!(c["State"]["Running"], false);
    assert_eq!(c["Config"]["Labels"]["k"], "v");
    assert!(
        c["State"]["StartedAt"].as_str().unwrap() <= c["State"]["FinishedAt"].as_str().unwrap()
    );
    env.coracle(["rm", "fg"]).run().ok();
    assert_eq!(env.state_dirs(), Vec::<String>::new());
}

#[test]
fn inspect_shows_config_and_bind_mounts() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let vol = env.dir.join("vol");
    env.mkdir_owned(&vol, 0o755);
    let spec = format!("{}:/data:ro", vol.display());
    let id = env.detached(
        &["-v", &spec, "-e", "A=1", "-w", "/tmp", "-h", "box"],
        "while :; do sleep 0.22; done",
    );
    let out = env.coracle(["inspect", &id]).run();
    let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
    let c = &v[0];
    assert_eq!(c["Id"], id);
    assert_eq!(c["State"]["Status"], "running");
    assert_eq!(c["State"]["Running"], true);
    assert!(c["State"]["Pid"].as_i64().unwrap() > 0);
    assert_eq!(c["Config"]["Hostname"], "box");
    assert_eq!(c["Config"]["WorkingDir"], "/tmp");
    assert!(c["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "A=1"));
    let mounts = c["Mounts"].as_array().unwrap();
    assert_eq!(mounts.len(), 1, "{mounts:?}");
    assert_eq!(mounts[0]["Destination"], "/data");
    assert_eq!(mounts[0]["RW"], false);
    assert_eq!(mounts[0]["Type"], "bind");
    // The network: the private one (the default), its namespace named by
    // the sandbox key.
    assert_eq!(c["HostConfig"]["NetworkMode"], "private");
    let ns = &c["NetworkSettings"];
    assert!(ns["Networks"]["private"].is_object(), "{ns}");
    assert_eq!(ns["IPAddress"], "10.0.2.100");
    assert_eq!(ns["Gateway"], "10.0.2.2");
    let pid = c["State"]["Pid"].as_i64().unwrap();
    assert_eq!(ns["SandboxKey"], format!("/proc/{pid}/ns/net"));
    // Missing ones are named; found ones are still printed.
    let out = env.coracle(["inspect", &id, "nope"]).run();
    out.expect_code(1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
}

#[test]
fn start_reruns_an_exited_container_and_run_d_rm_removes_it() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(&["--name", "again"], "echo hi; exit 3");
    assert_eq!(env.coracle(["wait", "again"]).run().ok().trim(), "3");
    assert_eq!(env.coracle(["start", "again"]).run().ok().trim(), "again");
    assert_eq!(env.coracle(["wait", &id]).run().ok().trim(), "3");
    assert_eq!(log_lines(&env, "again", "hi"), 2, "both runs logged");
    env.coracle(["rm", "again"]).run().ok();
    let gone = env.detached(&["--rm"], "sleep 0.3; exit 6");
    assert_eq!(
        env.coracle(["wait", &gone]).run().ok().trim(),
        "6",
        "wait gets the exit code of a container removed when it exited"
    );
    assert!(
        wait_until(|| env.state_dirs().is_empty()),
        "run -d --rm removes the container when it exits"
    );
    // What it left for `wait` is cleared by the next listing.
    env.coracle(["ps", "-a"]).run().ok();
    assert!(!env.runtime.join("coracle/containers").join(&gone).exists());
    // A --rm container that cannot start leaves nothing at all.
    env.run(&["-d", "--rm"], &["nosuchcmd"])
        .run()
        .expect_code(127);
    assert_eq!(env.state_dirs(), Vec::<String>::new());
    let runtime = std::fs::read_dir(env.runtime.join("coracle/containers"))
        .unwrap()
        .count();
    assert_eq!(runtime, 0, "no runtime directory is left");
}

#[test]
fn detached_container_from_an_image_is_recorded_and_removed_whole() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let reg = registry_fixture::RegistryServer::start(None);
    if !require(
        reg.is_some(),
        "docker-registry (Debian package) for a local registry",
    ) {
        return;
    }
    let reg = reg.unwrap();
    let root = env.dir.join("image-root");
    env.build_rootfs(&root);
    let base = images_fixture::layer(Some(&root), &[]);
    images_fixture::push(
        &reg.host,
        "ticker",
        std::slice::from_ref(&base),
        &["sh", "-c", "while :; do echo from-image; sleep 0.23; done"],
        &["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
    );
    let image = format!("{}/ticker", reg.host);
    let out = env.coracle(["run", "-d", "--name", "img", &image]).run();
    let id = out.ok().trim().to_string();
    assert_eq!(id.len(), 64, "{out}");
    assert!(wait_until(|| log_lines(&env, "img", "from-image") >= 1));
    let out = env.coracle(["inspect", "img"]).run();
    let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
    let c = &v[0];
    assert!(c["Image"].as_str().unwrap().starts_with("sha256:"), "{c}");
    assert_eq!(c["Config"]["Image"], image);
    assert_eq!(
        c["Config"]["Cmd"],
        serde_json::json!(["sh", "-c", "while :; do echo from-image; sleep 0.23; done"])
    );
    let hex = c["Image"].as_str().unwrap()["sha256:".len()..][..12].to_string();
    for ancestor in [image.as_str(), hex.as_str()] {
        let out = env
            .coracle(["ps", "-q", "--filter", &format!("ancestor={ancestor}")])
            .run();
        assert_eq!(out.ok().trim(), &id[..12], "ancestor={ancestor}\n{out}");
    }
    let dir = env.data.join("coracle/containers").join(&id);
    // The container's root: its writable layer (kernel overlay, where the
    // probe found it works) or its own copy (vfs).
    assert!(dir.join("upper").is_dir() || dir.join("rootfs").is_dir());
    env.coracle(["rm", "-f", "img"]).run().ok();
    assert!(
        !dir.exists(),
        "rm removes the container's root with its records"
    );
}

#[test]
fn concurrent_runs_with_one_name_make_one_container() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let runs: Vec<Running> = (0..4)
        .map(|_| env.run(&["-d", "--name", "only"], &["true"]).spawn())
        .collect();
    let outs: Vec<Out> = runs.into_iter().map(Running::wait).collect();
    let won = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(won, 1, "exactly one run gets the name");
    for o in outs.iter().filter(|o| !o.status.success()) {
        o.expect_code(125);
        assert!(
            o.stderr.contains("Conflict. The container name \"/only\""),
            "{o}"
        );
    }
    assert_eq!(env.state_dirs().len(), 1, "the losers leave nothing behind");
}

#[test]
fn logs_rotate_by_size_and_read_across_files() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(
        &["--log-opt", "max-size=1k", "--log-opt", "max-file=3"],
        "i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); done",
    );
    assert_eq!(env.coracle(["wait", &id]).run().ok().trim(), "0");
    let dir = env.data.join("coracle/containers").join(&id);
    for f in [
        "container-json.log",
        "container-json.log.1",
        "container-json.log.2",
    ] {
        let len = std::fs::metadata(dir.join(f)).unwrap().len();
        assert!(len > 0 && len <= 1024, "{f}: {len} bytes");
    }
    assert!(!dir.join("container-json.log.3").exists());
    let out = env.coracle(["logs", &id]).run();
    let n: Vec<u32> = out
        .ok()
        .lines()
        .map(|l| l.strip_prefix("line ").unwrap().parse().unwrap())
        .collect();
    assert_eq!(*n.last().unwrap(), 299, "{out}");
    assert!(
        n.windows(2).all(|w| w[1] == w[0] + 1),
        "in order, none lost between files: {n:?}"
    );
    let out = env.coracle(["logs", "--tail", "2", &id]).run();
    assert_eq!(out.ok(), "line 298\nline 299\n");
    let out = env
        .run(&["-d", "--log-opt", "max-size=big"], &["true"])
        .run();
    out.expect_code(125);
    assert!(out.stderr.contains("max-size"), "{out}");
}

#[test]
fn logs_follow_goes_on_across_rotations() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(
        &["--log-opt", "max-size=2k", "--log-opt", "max-file=5"],
        "i=0; while :; do echo line $i; i=$((i+1)); sleep 0.01; done",
    );
    let follow = env.coracle(["logs", "-f", &id]).spawn();
    let dir = env.data.join("coracle/containers").join(&id);
    assert!(wait_until(|| dir.join("container-json.log.2").exists()));
    env.coracle(["stop", "-t", "0", &id]).run().ok();
    let out = follow.wait();
    let n: Vec<u32> = out
        .ok()
        .lines()
        .map(|l| l.strip_prefix("line ").unwrap().parse().unwrap())
        .collect();
    assert!(n.len() > 40, "{out}");
    assert!(
        n.windows(2).all(|w| w[1] == w[0] + 1),
        "no line lost or repeated across rotations: {n:?}"
    );
}

#[test]
fn a_damaged_record_is_named_and_removable() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(&[], "exit 0");
    let good = env.detached(&["--name", "good"], "exit 0");
    env.coracle(["wait", &id, &good]).run().ok();
    let dir = env.data.join("coracle/containers").join(&id);
    env.write_owned(&dir.join("container.json"), "{\"id\": ");
    let out = env.coracle(["ps", "-aq"]).run();
    assert_eq!(
        out.ok().trim(),
        &good[..12],
        "the other container is untouched\n{out}"
    );
    assert!(
        out.stderr.contains(&id) && out.stderr.contains("rm -f"),
        "the damaged one is named with the fix\n{out}"
    );
    assert_eq!(env.coracle(["rm", "-f", &id]).run().ok().trim(), id);
    assert!(!dir.exists());
    assert_eq!(env.coracle(["ps", "-aq"]).run().ok().trim(), &good[..12]);
}

/// With --init, pid 1 is a clone of the monitor that never execs: `run -d`
/// must not wait for it to let go of the report pipe.
#[test]
fn detached_run_with_init_returns_and_stops() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(&["--init"], "echo started; while :; do sleep 0.24; done");
    assert!(wait_until(|| log_lines(&env, &id, "started") == 1));
    assert_eq!(env.inspect_field(&id, "{{.State.Status}}"), "running");
    env.coracle(["stop", "-t", "5", &id]).run().ok();
    // init forwards SIGTERM to the shell, which is not pid 1 and dies of it.
    assert_eq!(env.coracle(["wait", &id]).run().ok().trim(), "143");
}

#[test]
fn detached_container_in_single_id_mode() {
    let Some(env) = Env::new(Mode::Single) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(&["--name", "solo"], "id -u; while :; do sleep 0.25; done");
    assert!(wait_until(|| log_lines(&env, "solo", "0") == 1));
    assert_eq!(env.coracle(["ps", "-q"]).run().ok().trim(), &id[..12]);
    env.coracle(["stop", "-t", "1", "solo"]).run().ok();
    assert_eq!(env.coracle(["wait", "solo"]).run().ok().trim(), "137");
    env.coracle(["rm", "solo"]).run().ok();
    assert_eq!(env.state_dirs(), Vec::<String>::new());
}

#[test]
fn prune_removes_stopped_containers_and_crash_remains_only() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let exited = env.detached(&[], "exit 0");
    env.coracle(["wait", &exited]).run().ok();
    let up = env.detached(&[], "while :; do sleep 0.26; done");
    // What a `run` killed while building an image root leaves: no record.
    let remains = "ab".repeat(32);
    let dir = env.data.join("coracle/containers").join(&remains);
    env.mkdir_owned(&dir, 0o700);
    env.write_owned(&dir.join("image"), "sha256:00");
    // Bad input leaves no runtime directory behind.
    env.coracle(["run", "--rootfs", "/nonexistent", "true"])
        .run()
        .expect_code(125);
    let runtime: Vec<String> = std::fs::read_dir(env.runtime.join("coracle/containers"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        runtime.iter().all(|r| *r == exited || *r == up),
        "{runtime:?}"
    );
    let out = env.coracle(["container", "prune"]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("pass -f"), "{out}");
    let out = env.coracle(["container", "prune", "-f"]).run();
    let s = out.ok();
    assert!(s.starts_with("Deleted Containers:\n"), "{out}");
    assert!(s.contains(&exited) && s.contains(&remains), "{out}");
    assert!(!s.contains(&up), "a running container is kept\n{out}");
    assert!(s.contains("Total reclaimed space: "), "{out}");
    assert_eq!(env.state_dirs(), vec![up.clone()]);
    assert_eq!(env.coracle(["ps", "-q"]).run().ok().trim(), &up[..12]);
}
