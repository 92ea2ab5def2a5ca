//! `coracle top CONTAINER [ps OPTIONS]`: the container's processes, as the
//! host's ps shows them, in Docker's table.

mod common;

use common::*;

fn pid_of(env: &Env, name: &str) -> i32 {
    let mut pid = 0;
    assert!(
        wait_until(|| {
            pid = env
                .coracle(["inspect", "-f", "{{.State.Pid}}", name])
                .run()
                .stdout
                .trim()
                .parse()
                .unwrap_or(0);
            pid > 0
        }),
        "{name} never ran"
    );
    pid
}

/// `top` rows, split into fields, without the header; waits until there
/// are `n` (the container's children may still be starting).
fn rows(env: &Env, args: &[&str], n: usize) -> (String, Vec<Vec<String>>) {
    let mut header = String::new();
    let mut rows = Vec::new();
    let ok = wait_until(|| {
        let out = env.coracle(args).run();
        let text = out.ok();
        let mut lines = text.lines();
        header = lines.next().unwrap_or("").to_string();
        rows = lines
            .map(|l| l.split_whitespace().map(str::to_string).collect())
            .collect();
        rows.len() == n
    });
    assert!(ok, "{args:?}: {n} rows expected:\n{header}\n{rows:?}");
    (header, rows)
}

#[test]
fn top_shows_the_processes_of_a_container_as_docker_does() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let script = "sleep 1001 & sleep 1002 & wait";
    let id = env
        .run(&["-d", "--name", "web"], &["sh", "-c", script])
        .run()
        .ok()
        .trim()
        .to_string();
    let pid1 = pid_of(&env, "web");

    // Default: ps -ef, Docker's table (columns of at least 20).
    let (header, rs) = rows(&env, &["top", "web"], 3);
    assert_eq!(
        header,
        format!(
            "{:<20}{:<20}{:<20}{:<20}{:<20}{:<20}{:<20}CMD",
            "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME"
        )
    );
    let by_pid = |rs: &[Vec<String>], pid: i32| -> Vec<String> {
        rs.iter()
            .find(|r| r[1] == pid.to_string())
            .unwrap_or_else(|| panic!("no row of pid {pid}: {rs:?}"))
            .clone()
    };
    let first = by_pid(&rs, pid1);
    assert_eq!(first[7..].join(" "), format!("sh -c {script}"), "{rs:?}");
    let mut sleeps: Vec<String> = rs
        .iter()
        .filter(|r| r[1] != pid1.to_string())
        .map(|r| {
            assert_eq!(r[2], pid1.to_string(), "a child of pid 1: {r:?}");
            r[7..].join(" ")
        })
        .collect();
    sleeps.sort();
    assert_eq!(sleeps, ["sleep 1001", "sleep 1002"]);

    let pids = |rs: &[Vec<String>]| {
        let mut v: Vec<String> = rs.iter().map(|r| r[1].clone()).collect();
        v.sort();
        v
    };
    let ef_pids = pids(&rs);

    // ps options, also under `container top` and with an id prefix.
    let (header, rs) = rows(&env, &["container", "top", &id[..10], "-o", "pid,comm"], 3);
    assert_eq!(header, format!("{:<20}COMMAND", "PID"));
    let mut comms: Vec<&str> = rs.iter().map(|r| r[1].as_str()).collect();
    comms.sort();
    assert_eq!(comms, ["sh", "sleep", "sleep"]);
    // A forest cannot be combined with ps's -q: ps runs again without it.
    let (_, forest) = rows(&env, &["top", "web", "-ef", "f"], 3);
    assert_eq!(pids(&forest), ef_pids, "{forest:?}");
    assert_eq!(
        forest
            .iter()
            .filter(|r| r.join(" ").contains("\\_ sleep 100"))
            .count(),
        2,
        "{forest:?}"
    );
    // Renaming a column to PID would pick the wrong rows: refused.
    let out = env.coracle(["top", "web", "-o", "user=PID"]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("\"user=PID\" is not allowed"), "{out}");
    let out = env.coracle(["top", "web", "--no-such-ps-option"]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("ps "), "{out}");

    // Not running: Docker's message and exit code.
    env.coracle(["kill", "web"]).run().ok();
    env.coracle(["wait", "web"]).run().ok();
    let out = env.coracle(["top", "web"]).run();
    out.expect_code(1);
    assert_eq!(
        out.stderr.trim(),
        format!("coracle: container {id} is not running"),
        "{out}"
    );
    let out = env.coracle(["top", "nope"]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("No such container: nope"), "{out}");
}

/// With --init, pid 1 is coracle's init (not dumpable): its stat still
/// names its children. A foreground run is listed the same way.
#[test]
fn top_sees_through_init_and_foreground_runs() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    env.run(
        &["-d", "--init", "--name", "ini"],
        &["sh", "-c", "sleep 1003 & wait"],
    )
    .run()
    .ok();
    let pid1 = pid_of(&env, "ini");
    let (_, rs) = rows(&env, &["top", "ini", "-o", "pid,ppid,args"], 3);
    let pids: Vec<i32> = rs.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(pids.contains(&pid1), "{rs:?}");
    assert!(
        rs.iter().any(|r| r[2..].join(" ") == "sleep 1003"),
        "{rs:?}"
    );
    let fg = env
        .run(&["--name", "fg"], &["sh", "-c", "sleep 1004 & wait"])
        .spawn();
    let fg_pid = pid_of(&env, "fg");
    let (_, rs) = rows(&env, &["top", "fg", "-o", "pid,args"], 2);
    let mut cmds: Vec<(String, String)> = rs
        .iter()
        .map(|r| (r[0].clone(), r[1..].join(" ")))
        .collect();
    cmds.sort_by_key(|(p, _)| p.as_str() != fg_pid.to_string());
    assert_eq!(
        cmds[0],
        (fg_pid.to_string(), "sh -c sleep 1004 & wait".to_string())
    );
    assert_eq!(cmds[1].1, "sleep 1004", "{rs:?}");
    env.coracle(["kill", "fg"]).run().ok();
    fg.wait().expect_code(137);
}
