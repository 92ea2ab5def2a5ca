//! `coracle run -t`: a pseudo-terminal, driven through tmux (run as the test
//! user, with a socket of its own).

mod common;

use common::*;

/// The line right before the output line `marker` in the screen.
fn line_before(screen: &str, marker: &str) -> String {
    let lines: Vec<&str> = screen.lines().map(str::trim_end).collect();
    let i = lines
        .iter()
        .rposition(|l| *l == marker)
        .unwrap_or_else(|| panic!("no line {marker:?} in:\n{screen}"));
    assert!(i > 0, "{screen}");
    lines[i - 1].trim().to_string()
}

/// Starts tmux with a host shell and, in it, `coracle run -it ... sh`;
/// returns once the container shell answers.
fn start<'a>(env: &'a Env, opts: &str) -> Option<Tmux<'a>> {
    let t = Tmux::start(env, 100, 40)?;
    t.wait_for("host$");
    t.type_line(&format!(
        "{} run -it {opts} --rootfs {} /bin/sh",
        env.bin.display(),
        env.rootfs.display()
    ));
    t.until_shell_answers("READY");
    Some(t)
}

/// Waits until the host shell's prompt is back (coracle has exited).
fn wait_host_prompt(t: &Tmux) {
    let mut screen = String::new();
    let back = wait_until(|| {
        screen = t.capture();
        screen
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(str::trim)
            == Some("host$")
    });
    assert!(back, "the host shell prompt did not come back:\n{screen}");
}

#[test]
fn tty_is_a_pty_with_the_window_size() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(t) = start(&env, "") else { return };
    t.type_line("tty; echo T-$((1+2))");
    let screen = t.wait_for("\nT-3");
    assert_eq!(line_before(&screen, "T-3"), "/dev/pts/0", "{screen}");
    t.type_line("stty size; echo S-$((2+2))");
    let screen = t.wait_for("\nS-4");
    let (rows, cols) = t.pane_size();
    assert_eq!(
        line_before(&screen, "S-4"),
        format!("{rows} {cols}"),
        "initial size\n{screen}"
    );
    t.type_line("test -t 0 && test -t 1 && test -t 2 && echo all-ttys; echo F-$((3+3))");
    let screen = t.wait_for("\nF-6");
    assert_eq!(
        line_before(&screen, "F-6"),
        "all-ttys",
        "stdin, stdout, stderr are the tty\n{screen}"
    );
}

#[test]
fn tty_follows_window_resize() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(t) = start(&env, "") else { return };
    t.resize(80, 30);
    let (rows, cols) = t.pane_size();
    assert_ne!((rows, cols), (40, 100), "tmux did not resize");
    // SIGWINCH reaches coracle, which resizes the container's pty.
    let want = format!("{rows} {cols}");
    let mut last = String::new();
    let mut i = 1000;
    let ok = wait_until(|| {
        i += 1;
        t.type_line(&format!("stty size; echo R-$(({i}+0))"));
        let screen = t.wait_for(&format!("\nR-{i}"));
        last = line_before(&screen, &format!("R-{i}"));
        last == want
    });
    assert!(ok, "stty size inside is {last:?}, the window is {want:?}");
}

#[test]
fn tty_ctrl_c_interrupts_the_foreground_command() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(t) = start(&env, "") else { return };
    let marker = format!("sleep {}", 8_000_000 + std::process::id());
    t.type_line(&marker);
    assert!(
        wait_until(|| !host_pids_with_cmdline(&marker).is_empty()),
        "the sleep never started:\n{}",
        t.capture()
    );
    t.keys(&["C-c"]);
    t.type_line("echo BACK-$((3+4))");
    t.wait_for("\nBACK-7");
    assert!(
        wait_until(|| host_pids_with_cmdline(&marker).is_empty()),
        "the interrupted sleep is still running"
    );
}

#[test]
fn tty_exit_status_and_terminal_restored() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(t) = start(&env, "") else { return };
    t.type_line("exit 3");
    wait_host_prompt(&t);
    t.type_line("echo rc=$?; stty -a; echo HOST-$((4+5))");
    let screen = t.wait_for("\nHOST-9");
    assert!(
        screen.contains("\nrc=3"),
        "the container's exit status\n{screen}"
    );
    let after = &screen[screen.rfind("rc=3").unwrap()..];
    let words: Vec<&str> = after.split_whitespace().collect();
    for flag in ["icanon", "echo", "isig", "icrnl", "opost"] {
        assert!(
            words.contains(&flag),
            "terminal not restored: {flag} is off\n{after}"
        );
    }
}

#[test]
fn tty_with_init() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(t) = start(&env, "--init") else {
        return;
    };
    t.type_line("tty; echo I-$((5+5))");
    let screen = t.wait_for("\nI-10");
    assert_eq!(line_before(&screen, "I-10"), "/dev/pts/0", "{screen}");
    let marker = format!("sleep {}", 9_000_000 + std::process::id());
    t.type_line(&marker);
    assert!(
        wait_until(|| !host_pids_with_cmdline(&marker).is_empty()),
        "{}",
        t.capture()
    );
    t.keys(&["C-c"]);
    t.type_line("echo BACK-$((6+6))");
    t.wait_for("\nBACK-12");
    t.type_line("exit 4");
    wait_host_prompt(&t);
    t.type_line("echo rc=$?");
    t.wait_for("\nrc=4");
}

/// Regression: when the caller's terminal went away, `coracle run -it` kept
/// a shell (pid 1, which ignores SIGHUP without a handler) and itself
/// running forever. Now the container gets SIGHUP and, after a grace
/// period, is killed.
#[test]
fn hangup_of_the_terminal_ends_the_container() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(t) = start(&env, "") else { return };
    let dirs = env.state_dirs();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let state = std::fs::read_to_string(
        env.data
            .join("coracle/containers")
            .join(&dirs[0])
            .join("state.json"),
    )
    .unwrap();
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    let pid = state["pid"]
        .as_i64()
        .expect("a running container records its pid");
    let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
    assert!(proc_dir.exists());
    drop(t); // kills the tmux server: the terminal hangs up
    let gone = wait_until(|| !proc_dir.exists());
    assert!(gone, "the container (pid {pid}) outlived its terminal");
}

#[test]
fn a_foreground_tty_container_is_logged() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let Some(t) = start(&env, "--name ttylog") else {
        return;
    };
    t.type_line("echo logged-$((6*7))");
    t.wait_for("\nlogged-42");
    // While it runs, `logs` shows what the terminal showed (the pty's
    // line endings included, as Docker's log of a `-t` container).
    assert!(
        wait_until(|| env
            .coracle(["logs", "ttylog"])
            .run()
            .stdout
            .contains("logged-42\r\n")),
        "{}",
        env.coracle(["logs", "ttylog"]).run()
    );
    t.type_line("exit 0");
    wait_host_prompt(&t);
    let out = env.coracle(["logs", "ttylog"]).run();
    assert!(out.ok().contains("READY"), "{out}");
    assert_eq!(out.stderr, "", "a terminal's output is all stdout\n{out}");
    // Every entry is a stdout entry of the json-file log.
    let dirs = env.state_dirs();
    let log = std::fs::read_to_string(
        env.data
            .join("coracle/containers")
            .join(&dirs[0])
            .join("container-json.log"),
    )
    .unwrap();
    assert!(log.lines().count() >= 2, "{log}");
    for l in log.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["stream"], "stdout", "{l}");
    }
}
