//! `coracle exec`: a new process in a running container joins every
//! namespace of the container and gets the container's confinement.

mod common;

use common::*;

/// `run -d --name NAME OPTS --rootfs ROOTFS sh -c SCRIPT`.
fn detached(env: &Env, name: &str, opts: &[&str], script: &str) {
    let mut o = vec!["-d", "--name", name];
    o.extend_from_slice(opts);
    env.run(&o, &["sh", "-c", script]).run().ok();
}

fn exec(env: &Env, args: &[&str]) -> Out {
    let mut a = vec!["exec"];
    a.extend_from_slice(args);
    env.coracle(a).run()
}

/// Host pids of the processes whose command line is exactly `args`.
fn processes_with_args(args: &[&str]) -> Vec<u32> {
    let want: Vec<u8> = args
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want))
        .collect()
}

const SLEEPER: &str = "echo ready > /tmp/ready; exec sleep 600";

fn wait_ready(env: &Env, name: &str) {
    assert!(
        wait_until(|| exec(env, &[name, "test", "-f", "/tmp/ready"]).code() == 0),
        "container {name} never became ready"
    );
}

/// The namespace links and confinement lines of a process inside.
fn identity_of(env: &Env, name: &str, pid: &str) -> String {
    let script = format!(
        "for n in user mnt pid uts ipc net cgroup; do readlink /proc/{pid}/ns/$n; done; \
         grep -E '^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/{pid}/status"
    );
    exec(env, &[name, "sh", "-c", &script]).ok().to_string()
}

#[test]
fn exec_joins_every_namespace_with_the_containers_confinement() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    detached(&env, "ns", &["--hostname", "inside"], SLEEPER);
    wait_ready(&env, "ns");
    // pid 1 is the container's command; `self` is the exec'd shell.
    let of_pid1 = identity_of(&env, "ns", "1");
    let of_exec = identity_of(&env, "ns", "self");
    assert_eq!(of_exec, of_pid1, "exec'd process and pid 1 differ");
    assert!(of_exec.contains("NoNewPrivs:\t1"), "{of_exec}");
    assert!(
        !of_exec.contains("CapEff:\t000001ffffffffff"),
        "exec must not have every capability\n{of_exec}"
    );
    // Host name (uts) and pid namespace as seen from inside.
    assert_eq!(exec(&env, &["ns", "hostname"]).ok().trim(), "inside");
    let ps = exec(&env, &["ns", "ps", "-o", "pid,comm"]).ok().to_string();
    assert!(
        ps.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["1", "sleep"]),
        "the container's pid 1 is visible from exec\n{ps}"
    );
    // The host's processes are not.
    assert!(
        ps.lines().count() <= 4,
        "only the container's processes\n{ps}"
    );
}

#[test]
fn exec_reaches_a_detached_web_server_over_the_containers_loopback() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    detached(
        &env,
        "web",
        &[],
        "mkdir -p /tmp/www && echo hello-from-httpd > /tmp/www/index.html && \
         echo ready > /tmp/ready && exec httpd -f -p 18931 -h /tmp/www",
    );
    wait_ready(&env, "web");
    let mut got = String::new();
    let ok = wait_until(|| {
        let out = exec(&env, &["web", "wget", "-qO-", "http://127.0.0.1:18931/"]);
        got = out.to_string();
        out.code() == 0
    });
    assert!(ok, "wget through exec failed\n{got}");
    assert!(got.contains("hello-from-httpd"), "{got}");
    // The host's loopback does not have the server: the network namespace
    // is the container's.
    assert!(
        std::net::TcpStream::connect("127.0.0.1:18931").is_err(),
        "the container's server must not be on the host's loopback"
    );
}

#[test]
fn exec_environment_workdir_user_and_stdin() {
    // -u 1000 needs the subordinate range.
    let Some(env) = Env::new(Mode::Full) else {
        return;
    };
    let _c = Cleanup(&env);
    detached(&env, "opts", &["-e", "FROM_RUN=1", "-w", "/home"], SLEEPER);
    wait_ready(&env, "opts");

    let out = exec(
        &env,
        &[
            "opts",
            "sh",
            "-c",
            "echo $FROM_RUN-$ADDED; pwd; id -u; echo $HOME",
        ],
    );
    assert_eq!(out.lines(), ["1-", "/home", "0", "/root"], "{out}");

    let out = exec(
        &env,
        &[
            "-e",
            "ADDED=2",
            "-e",
            "FROM_RUN=over",
            "-w",
            "/tmp",
            "-u",
            "user",
            "opts",
            "sh",
            "-c",
            "echo $FROM_RUN-$ADDED; pwd; id -u; id -g; echo $HOME",
        ],
    );
    assert_eq!(
        out.lines(),
        ["over-2", "/tmp", "1000", "1000", "/home/user"],
        "{out}"
    );

    let out = exec(
        &env,
        &["-u", "daemon:user", "opts", "sh", "-c", "id -u; id -g"],
    );
    assert_eq!(out.lines(), ["1", "1000"], "{out}");

    // Without -i the command reads /dev/null; with -i it reads our stdin.
    let out = env
        .coracle(["exec", "opts", "cat"])
        .stdin("not for you\n")
        .run();
    assert_eq!(out.ok(), "", "{out}");
    let out = env
        .coracle(["exec", "-i", "opts", "cat"])
        .stdin("piped in\n")
        .run();
    assert_eq!(out.ok(), "piped in\n", "{out}");
}

#[test]
fn exec_exit_codes_and_errors_match_docker() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    detached(&env, "codes", &[], SLEEPER);
    wait_ready(&env, "codes");

    exec(&env, &["codes", "sh", "-c", "exit 7"]).expect_code(7);
    exec(&env, &["codes", "sh", "-c", "kill -KILL $$"]).expect_code(137);
    let out = exec(&env, &["codes", "no-such-command"]);
    out.expect_code(127);
    assert!(out.stderr.contains("no-such-command"), "{out}");
    exec(&env, &["codes", "/etc/passwd"]).expect_code(126);
    let out = exec(&env, &["-w", "/does/not/exist", "codes", "true"]);
    out.expect_code(126);
    assert!(out.stderr.contains("/does/not/exist"), "{out}");
    // exec never creates the working directory (run -w does).
    exec(&env, &["codes", "test", "-e", "/does"]).expect_code(1);
    let out = exec(&env, &["-u", "nosuchuser", "codes", "true"]);
    out.expect_code(126);
    assert!(out.stderr.contains("nosuchuser"), "{out}");
    let out = exec(&env, &["-w", "relative", "codes", "true"]);
    out.expect_code(125);
    assert!(out.stderr.contains("absolute"), "{out}");

    let out = exec(&env, &["nosuch", "true"]);
    out.expect_code(1);
    assert!(out.stderr.contains("No such container"), "{out}");

    env.coracle(["stop", "-t", "0", "codes"]).run().ok();
    let out = exec(&env, &["codes", "true"]);
    out.expect_code(1);
    assert!(out.stderr.contains("is not running"), "{out}");
}

#[test]
fn exec_detached_keeps_running_and_dies_with_the_container() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    detached(&env, "bg", &[], SLEEPER);
    wait_ready(&env, "bg");
    let out = exec(
        &env,
        &[
            "-d",
            "bg",
            "sh",
            "-c",
            "echo started > /tmp/bg; exec sleep 555",
        ],
    );
    assert_eq!(out.ok(), "", "exec -d prints nothing\n{out}");
    assert!(wait_until(
        || exec(&env, &["bg", "cat", "/tmp/bg"]).stdout == "started\n"
    ));
    let ps = exec(&env, &["bg", "ps", "-o", "args"]).ok().to_string();
    assert!(ps.contains("sleep 555"), "{ps}");

    // Its host pid, to see that it ends with the container.
    let host_pids = processes_with_args(&["sleep", "555"]);
    assert_eq!(host_pids.len(), 1, "{host_pids:?}");
    env.coracle(["stop", "-t", "0", "bg"]).run().ok();
    assert!(
        wait_until(|| !std::path::Path::new(&format!("/proc/{}", host_pids[0])).exists()),
        "the exec'd process outlived its container"
    );
}

#[test]
fn exec_into_a_container_under_init() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    detached(&env, "init", &["--init"], SLEEPER);
    wait_ready(&env, "init");
    let out = exec(
        &env,
        &["init", "sh", "-c", "echo $$; readlink /proc/self/ns/pid"],
    );
    let lines = out.lines();
    assert_eq!(lines.len(), 2, "{out}");
    let pid: u32 = lines[0].parse().unwrap();
    assert!(pid > 2, "exec'd process is inside the pid namespace\n{out}");
    // The command (pid 2 under init) is in the same pid namespace.
    let cmd_ns = exec(&env, &["init", "readlink", "/proc/2/ns/pid"]);
    assert_eq!(cmd_ns.ok().trim(), lines[1], "{cmd_ns}");
}

#[test]
fn exec_with_a_terminal() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    detached(&env, "tty", &[], SLEEPER);
    wait_ready(&env, "tty");
    let Some(t) = Tmux::start(&env, 90, 30) else {
        return;
    };
    t.wait_for("host$");
    t.type_line(&format!("{} exec -it tty /bin/sh", env.bin.display()));
    t.until_shell_answers("READY");
    t.type_line("tty; stty size; echo $TERM; echo T-$((1+2))");
    let screen = t.wait_for("\nT-3");
    let (rows, cols) = t.pane_size();
    let lines: Vec<&str> = screen.lines().map(str::trim_end).collect();
    let i = lines.iter().rposition(|l| *l == "T-3").unwrap();
    assert!(lines[i - 3].starts_with("/dev/pts/"), "{screen}");
    assert_eq!(lines[i - 2], format!("{rows} {cols}"), "{screen}");
    assert_eq!(lines[i - 1], "xterm", "{screen}");
    t.type_line("exit 3");
    t.type_line("echo host-got-$?");
    t.wait_for("host-got-3");
}

#[test]
fn exec_in_single_id_mode() {
    let Some(env) = Env::new(Mode::Single) else {
        return;
    };
    let _c = Cleanup(&env);
    detached(&env, "single", &[], SLEEPER);
    wait_ready(&env, "single");
    assert_eq!(
        identity_of(&env, "single", "self"),
        identity_of(&env, "single", "1")
    );
    let out = exec(&env, &["-u", "user", "single", "true"]);
    out.expect_code(126);
    assert!(out.stderr.contains("not mapped"), "{out}");
}

#[test]
fn top_lists_what_exec_started() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    for (name, opts) in [("topped", &[][..]), ("topped-init", &["--init"][..])] {
        detached(&env, name, opts, SLEEPER);
        wait_ready(&env, name);
        exec(&env, &["-d", name, "sleep", "444"]).ok();
        let mut top = String::new();
        let listed = wait_until(|| {
            top = env.coracle(["top", name]).run().ok().to_string();
            top.contains("sleep 444")
        });
        assert!(listed, "top of {name} lists the exec'd process\n{top}");
        assert!(top.contains("sleep 600"), "{top}");
    }
}

#[test]
fn exec_stdio_are_pipes_never_the_callers_own() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    detached(&env, "pipes", &[], SLEEPER);
    wait_ready(&env, "pipes");
    let out = exec(
        &env,
        &[
            "-i",
            "pipes",
            "sh",
            "-c",
            "for f in 0 1 2; do readlink /proc/self/fd/$f; done",
        ],
    );
    let lines = out.lines();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines.iter().all(|l| l.starts_with("pipe:")), "{out}");
    // stderr comes back as stderr.
    let out = exec(&env, &["pipes", "sh", "-c", "echo to-out; echo to-err >&2"]);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("to-out\n", "to-err\n")
    );
    // A process left in the background does not keep exec waiting.
    exec(&env, &["pipes", "sh", "-c", "sleep 300 & echo left"]).ok();
}

/// The descriptors a process has open.
fn open_fds(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn exec_detached_with_a_terminal_keeps_it_held_by_the_monitor() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    detached(&env, "dt", &[], SLEEPER);
    wait_ready(&env, "dt");
    let pid1: i32 = env.inspect_field("dt", "{{.State.Pid}}").parse().unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid1}/stat")).unwrap();
    let monitor: i32 = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let fds_before = open_fds(monitor);
    // The command outlives this exec: if nothing held its terminal's
    // master, the hangup would end it before it wrote /tmp/x.
    let out = exec(
        &env,
        &[
            "-d",
            "-t",
            "dt",
            "sh",
            "-c",
            "tty > /tmp/tty; [ -t 0 ] && echo in > /tmp/in; echo EXEC-OUT-MARK; sleep 2; echo done > /tmp/x",
        ],
    );
    assert_eq!(out.ok(), "", "exec -d -t prints nothing\n{out}");
    assert!(
        wait_until(|| exec(&env, &["dt", "cat", "/tmp/x"]).stdout == "done\n"),
        "the detached command with a terminal did not live to finish"
    );
    let tty = exec(&env, &["dt", "cat", "/tmp/tty"]);
    assert!(tty.ok().starts_with("/dev/pts/"), "{tty}");
    assert_eq!(exec(&env, &["dt", "cat", "/tmp/in"]).ok(), "in\n");
    // Its output is drained, not logged (as Docker's exec output).
    let logs = env.coracle(["logs", "dt"]).run();
    assert!(!logs.ok().contains("EXEC-OUT-MARK"), "{logs}");
    // Once the command ended the monitor let go of its terminal.
    assert!(
        wait_until(|| open_fds(monitor) == fds_before),
        "the monitor still holds the terminal: {} fds, {fds_before} before",
        open_fds(monitor)
    );
    // The container itself is unharmed.
    assert_eq!(env.inspect_field("dt", "{{.State.Status}}"), "running");
}
