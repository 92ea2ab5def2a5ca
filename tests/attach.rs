//! Attaching to detached containers: `run -d -i/-t`, `attach` (with the
//! detach keys), `start -a [-i]`, through the monitor's attach socket.

mod common;

use common::*;

fn status(env: &Env, name: &str) -> String {
    env.coracle(["inspect", "-f", "{{.State.Status}}", name])
        .run()
        .ok()
        .trim()
        .to_string()
}

#[test]
fn attach_gives_stdin_and_separate_stdout_and_stderr_then_the_exit_code() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    env.run(
        &["-d", "-i", "--name", "reader"],
        &[
            "sh",
            "-c",
            "read first; echo out:$first; echo err:$first >&2; read second; echo out:$second; exit 7",
        ],
    )
    .run()
    .ok();
    // The container waits for its input: nothing arrives until we attach.
    assert_eq!(status(&env, "reader"), "running");
    let out = env.coracle(["attach", "reader"]).stdin("one\ntwo\n").run();
    out.expect_code(7);
    assert_eq!(out.stdout, "out:one\nout:two\n", "{out}");
    assert_eq!(out.stderr, "err:one\n", "{out}");
    // The log has what the container wrote, by stream.
    let logs = env.coracle(["logs", "reader"]).run();
    assert_eq!(logs.stdout, "out:one\nout:two\n", "{logs}");
    assert_eq!(logs.stderr, "err:one\n", "{logs}");
    let out = env.coracle(["attach", "reader"]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("start it first"), "{out}");
}

#[test]
fn attach_without_stdin_sees_the_output_that_follows() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    env.run(
        &["-d", "--name", "talker"],
        &[
            "sh",
            "-c",
            "i=0; while [ ! -e /tmp/stop ]; do i=$((i+1)); echo line-$i; sleep 0.1; done; exit 4",
        ],
    )
    .run()
    .ok();
    let attached = env.coracle(["attach", "--no-stdin", "talker"]).spawn();
    let lines = |env: &Env| env.coracle(["logs", "talker"]).run().lines();
    // Two seconds of output after attach started: it is connected by then.
    let seen = lines(&env).len();
    assert!(wait_until(|| lines(&env).len() >= seen + 20));
    env.coracle(["exec", "talker", "touch", "/tmp/stop"])
        .run()
        .ok();
    let out = attached.wait();
    out.expect_code(4);
    // What attach got is the end of the log: every line from its
    // connection on, in order, none lost.
    let all = lines(&env);
    let got = out.lines();
    assert!(got.len() >= 10, "{out}");
    assert_eq!(got[..], all[all.len() - got.len()..], "{out}");
}

#[test]
fn start_attached_shows_all_output_and_the_exit_code() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env
        .coracle([
            "create",
            "--name",
            "once",
            "--rootfs",
            &env.rootfs.display().to_string(),
            "sh",
            "-c",
            "echo out; echo err >&2; exit 3",
        ])
        .run();
    let id = id.ok().trim().to_string();
    assert_eq!(id.len(), 64);
    for _ in 0..2 {
        let out = env.coracle(["start", "-a", "once"]).run();
        out.expect_code(3);
        assert_eq!(out.stdout, "out\n", "{out}");
        assert_eq!(out.stderr, "err\n", "{out}");
    }
    // -i gives the container our input.
    env.coracle([
        "create",
        "-i",
        "--name",
        "echoer",
        "--rootfs",
        &env.rootfs.display().to_string(),
        "sh",
        "-c",
        "read l; echo got:$l",
    ])
    .run()
    .ok();
    let out = env
        .coracle(["start", "-a", "-i", "echoer"])
        .stdin("typed\n")
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "got:typed\n", "{out}");
    let out = env.coracle(["start", "-a", "once", "echoer"]).run();
    out.expect_code(125);
    assert!(out.stderr.contains("multiple containers"), "{out}");
}

#[test]
fn a_terminal_container_attaches_resizes_and_detaches_with_the_keys() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    env.run(&["-d", "-it", "--name", "term"], &["/bin/sh"])
        .run()
        .ok();
    let Some(t) = Tmux::start(&env, 100, 30) else {
        return;
    };
    t.wait_for("host$");
    t.type_line(&format!("{} attach term", env.bin.display()));
    t.until_shell_answers("READY");
    t.type_line("tty; stty size; echo T-$((1+2))");
    let screen = t.wait_for("\nT-3");
    let (rows, cols) = t.pane_size();
    let lines: Vec<&str> = screen.lines().map(str::trim_end).collect();
    let i = lines.iter().rposition(|l| *l == "T-3").unwrap();
    assert!(lines[i - 2].starts_with("/dev/pts/"), "{screen}");
    assert_eq!(lines[i - 1], format!("{rows} {cols}"), "{screen}");

    // ctrl-p ctrl-q: back at the host prompt, the container runs on.
    t.keys(&["C-p", "C-q"]);
    t.wait_for("read escape sequence");
    t.type_line("echo host-got-$?");
    t.wait_for("host-got-0");
    assert_eq!(status(&env, "term"), "running");

    // Again, with other keys; then the shell's exit ends attach with its code.
    t.type_line(&format!(
        "{} attach --detach-keys ctrl-a term",
        env.bin.display()
    ));
    t.until_shell_answers("AGAIN");
    t.type_line("exit 5");
    t.type_line("echo host-after-$?");
    t.wait_for("host-after-5");
    assert!(wait_until(|| status(&env, "term") == "exited"));
    let logs = env.coracle(["logs", "term"]).run();
    assert!(
        logs.ok().contains("AGAIN-42"),
        "the terminal's output is logged\n{logs}"
    );

    let out = env
        .coracle(["attach", "--detach-keys", "ctrl-1", "term"])
        .run();
    assert_ne!(out.code(), 0);
}

#[test]
fn a_foreground_run_logs_and_attaches_the_streams_asked_for() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let script = "echo out; echo err >&2; exit 2";
    let out = env.run(&["--name", "all"], &["sh", "-c", script]).run();
    out.expect_code(2);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("out\n", "err\n"),
        "{out}"
    );
    let logs = env.coracle(["logs", "all"]).run();
    assert_eq!(
        (logs.stdout.as_str(), logs.stderr.as_str()),
        ("out\n", "err\n"),
        "{logs}"
    );

    let out = env
        .run(
            &["--name", "only-out", "-a", "STDOUT"],
            &["sh", "-c", script],
        )
        .run();
    out.expect_code(2);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("out\n", ""),
        "{out}"
    );
    // What was not attached is still in the log.
    let logs = env.coracle(["logs", "only-out"]).run();
    assert_eq!(logs.stderr, "err\n", "{logs}");

    let out = env.run(&["-a", "stderr"], &["sh", "-c", script]).run();
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", "err\n"),
        "{out}"
    );

    // -i without -a stdin: the container's stdin is not ours.
    let out = env
        .run(&["-i", "-a", "stdout"], &["cat"])
        .stdin("not attached\n")
        .run();
    assert_eq!(out.ok(), "", "{out}");
    let out = env.run(&["-i"], &["cat"]).stdin("attached\n").run();
    assert_eq!(out.ok(), "attached\n", "{out}");

    let out = env.run(&["-a", "stdbogus"], &["true"]).run();
    out.expect_code(125);
    assert!(out.stderr.contains("valid streams"), "{out}");
    let out = env.run(&["-d", "-a", "stdout"], &["true"]).run();
    out.expect_code(125);
    assert!(out.stderr.contains("Conflicting options"), "{out}");
}

#[test]
fn attach_to_a_foreground_container() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let fg = env
        .run(
            &["--name", "fg"],
            &[
                "sh",
                "-c",
                "i=0; while [ ! -e /tmp/stop ]; do i=$((i+1)); echo line-$i; sleep 0.1; done; exit 6",
            ],
        )
        .spawn();
    assert!(wait_until(|| env
        .coracle(["logs", "fg"])
        .run()
        .lines()
        .len()
        >= 3));
    let attached = env.coracle(["attach", "--no-stdin", "fg"]).spawn();
    let lines = |env: &Env| env.coracle(["logs", "fg"]).run().lines();
    let seen = lines(&env).len();
    assert!(wait_until(|| lines(&env).len() >= seen + 20));
    env.coracle(["exec", "fg", "touch", "/tmp/stop"]).run().ok();
    let got = attached.wait();
    got.expect_code(6);
    let all = lines(&env);
    let got_lines = got.lines();
    assert!(got_lines.len() >= 10, "{got}");
    assert_eq!(got_lines[..], all[all.len() - got_lines.len()..], "{got}");
    let fg = fg.wait();
    fg.expect_code(6);
    assert_eq!(fg.lines(), all, "the foreground run showed every line");
}

#[test]
fn attach_from_a_second_terminal_to_a_foreground_run_with_a_terminal() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let Some(t) = Tmux::start(&env, 100, 30) else {
        return;
    };
    // The first terminal runs the container in the foreground.
    t.wait_for("host$");
    t.type_line(&format!(
        "{} run -it --name fgt --rootfs {} /bin/sh",
        env.bin.display(),
        env.rootfs.display()
    ));
    t.until_shell_answers("FIRST");
    // A second terminal (a tmux window of its own) attaches to it.
    t.tmux(&["new-window", "-d", "-t", "main", "-n", "second", "/bin/sh"])
        .ok();
    let second_type = |text: &str| {
        t.tmux(&["send-keys", "-t", "main:second", "-l", text]).ok();
        t.tmux(&["send-keys", "-t", "main:second", "Enter"]).ok();
    };
    let second_screen = || {
        t.tmux(&[
            "capture-pane",
            "-p",
            "-J",
            "-t",
            "main:second",
            "-S",
            "-5000",
        ])
        .ok()
        .to_string()
    };
    let second_wait = |needle: &str| {
        let mut screen = String::new();
        let seen = wait_until(|| {
            screen = second_screen();
            screen.contains(needle)
        });
        assert!(
            seen,
            "the second terminal never showed {needle:?}:\n{screen}"
        );
        screen
    };
    second_wait("$");
    second_type(&format!("{} attach fgt", env.bin.display()));
    // Input from the second terminal reaches the shell; both see the answer.
    let mut screen = String::new();
    let answered = wait_until(|| {
        second_type("echo SECOND-$((40+2))");
        std::thread::sleep(std::time::Duration::from_millis(500));
        screen = second_screen();
        screen.contains("\nSECOND-42")
    });
    assert!(answered, "the attached terminal got no answer:\n{screen}");
    t.wait_for("\nSECOND-42");
    // Input from the first terminal: the second sees the output too.
    t.type_line("echo FROM-FIRST-$((1+2))");
    t.wait_for("\nFROM-FIRST-3");
    second_wait("\nFROM-FIRST-3");
    // The second detaches with the keys; the container runs on, the
    // first terminal still has it.
    t.tmux(&["send-keys", "-t", "main:second", "C-p", "C-q"])
        .ok();
    second_wait("read escape sequence");
    assert_eq!(status(&env, "fgt"), "running");
    t.type_line("echo STILL-$((2+2))");
    t.wait_for("\nSTILL-4");
    // `exec -d -t` into it: this foreground run holds the command's
    // terminal (else the hangup would end it before it wrote the file).
    env.coracle([
        "exec",
        "-d",
        "-t",
        "fgt",
        "sh",
        "-c",
        "sleep 1; echo held > /tmp/held",
    ])
    .run()
    .ok();
    assert!(wait_until(|| env
        .coracle(["exec", "fgt", "cat", "/tmp/held"])
        .run()
        .stdout
        == "held\n"));
    // Attached again, the shell's exit ends both with its code.
    second_type(&format!(
        "{} attach fgt; echo second-got-$?",
        env.bin.display()
    ));
    let attached = wait_until(|| {
        second_type("echo AGAIN-$((3+4))");
        std::thread::sleep(std::time::Duration::from_millis(500));
        second_screen().contains("\nAGAIN-7")
    });
    assert!(attached, "attach again:\n{}", second_screen());
    t.type_line("exit 4");
    // What is typed before `run` has exited may still go to it.
    t.wait_for("exit 4\nhost$");
    t.type_line("echo first-got-$?");
    t.wait_for("first-got-4");
    second_wait("second-got-4");
    let logs = env.coracle(["logs", "fgt"]).run();
    assert!(
        logs.ok().contains("SECOND-42") && logs.stdout.contains("FROM-FIRST-3"),
        "the terminal's output is logged\n{logs}"
    );
}
