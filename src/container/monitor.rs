//! The monitor of a detached container (`coracle run -d`, `coracle start`).
//!
//! `run -d` starts `coracle container-monitor ID` (a hidden subcommand,
//! dispatched before the command line is parsed, so it is in no help, man
//! page or completion) with stdin and stderr on /dev/null and stdout on a
//! pipe back to `run`: the *report pipe*. The monitor, a fresh
//! single-threaded process:
//!
//! 1. leaves the caller's session (`setsid`), so no terminal signal reaches it;
//! 2. takes the container's monitor lock (held until it exits: this is how
//!    everyone else knows the container is run by someone);
//! 3. puts two pipes on its fds 1 and 2, which the sandbox child inherits as
//!    the container's stdout and stderr, and runs `sandbox::run`;
//! 4. once the command has been exec'd: records the state `running`, closes
//!    its own copies of the pipes' write ends, reports `ok` on the report
//!    pipe and starts ONE small thread that polls both pipes and appends
//!    Docker json-file entries to the log (the clone is done by then, so a
//!    second thread is allowed);
//! 5. when the container exits: drains the pipes and joins the logger (one
//!    thread again), records the exit code and time;
//! 6. under a restart policy (`--restart`), unless the user stopped the
//!    container (`stop`, `kill`, `restart` and `rm -f` leave a `stopping`
//!    marker in the runtime directory before they signal it), records
//!    `restarting`, waits Docker's backoff (100 ms, doubled each time, reset
//!    after 10 s of running) and goes back to 3; otherwise removes the
//!    container under `--rm`, and exits.
//!
//! A setup error (e.g. the command does not exist) is reported as
//! `error CODE` and the message, so `run -d` ends with Docker's 125/126/127.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::{restart, ContainerDir, Record, Status};
use crate::error::{ExitError, EXIT_CORACLE};

/// The hidden subcommand's name (`lib::run_cli` dispatches it).
pub const SUBCOMMAND: &str = "container-monitor";

/// The flag of a monitor that takes over from a foreground `run` whose
/// container is to be restarted: the monitor lock comes on its stdin.
pub const RESUME: &str = "--resume";

/// Runs the monitor of container `id`; the process exit status.
pub fn main(id: &str, mode: Mode) -> i32 {
    // `run -d` starts it in a session of its own already (then this fails).
    let _ = nix::unistd::setsid();
    let report = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .map(File::from);
    let mut report = Report(report);
    match run(id, mode, &mut report) {
        Ok(()) => 0,
        Err(e) => {
            let code = e
                .downcast_ref::<ExitError>()
                .map_or(EXIT_CORACLE, |x| x.code);
            report.send(&format!("error {code}\n{e:#}"));
            1
        }
    }
}

/// The report pipe to `run -d`; written once.
struct Report(Option<File>);

impl Report {
    fn send(&mut self, msg: &str) {
        if let Some(mut f) = self.0.take() {
            let _ = f.write_all(msg.as_bytes());
        }
    }
}

fn run(id: &str, mode: Mode, report: &mut Report) -> anyhow::Result<()> {
    let resume = mode == Mode::Resume;
    let exited = match mode {
        Mode::Exited {
            code,
            ran_ms,
            backoff_ms,
        } => Some((code, ran_ms, backoff_ms)),
        _ => None,
    };
    let new_start = matches!(mode, Mode::Start | Mode::AttachFirst);
    if id.len() != 64 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        bail!("container-monitor takes a full container id (64 hex digits), not {id:?}");
    }
    // The shim the monitor becomes while the container runs. A new start
    // without it fails here with the fix; a monitor already running keeps
    // its container going in-process instead.
    let shim = match shim_path() {
        Ok(p) => Some(p),
        Err(e) if new_start => return Err(e),
        Err(_) => None,
    };
    let lock = if !new_start {
        // The foreground `run` (or the shim, after the container's exit)
        // handed its lock over on stdin: there is no moment at which
        // nobody holds it.
        let f = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .context("take the lock handed over on stdin")?;
        let lock = super::MonitorLock::adopt(id, File::from(f))?;
        let devnull = File::open("/dev/null").context("open /dev/null")?;
        nix::unistd::dup2(devnull.as_raw_fd(), 0).context("dup2 /dev/null")?;
        lock
    } else {
        match super::try_lock_monitor(id)? {
            Some(l) => l,
            None => bail!("container {id} is already running"),
        }
    };
    if !super::exists(id) {
        // Removed before we got the lock: leave nothing behind.
        let _ = super::remove_container_files(id);
        return Err(ExitError::new(1, format!("No such container: {id}")).into());
    }
    let mut dir = ContainerDir::open(id)?;
    let record = Record::read(&dir.path)?;
    let spec: oci_spec::runtime::Spec = {
        let p = dir.path.join("config.json");
        let b = std::fs::read(&p).with_context(|| format!("read {}", p.display()))?;
        serde_json::from_slice(&b).with_context(|| format!("{} is damaged", p.display()))?
    };
    // Its own cgroup where the user's is delegated (for pause); removed,
    // with anything left in it, when the monitor ends.
    let cgroup = if exited.is_some() {
        super::cgroup::Cgroup::adopt(id)
    } else {
        super::cgroup::Cgroup::create(id)
    };
    // A named network: join its switch (started if need be) for an
    // address; the connection lives as long as this process (and the
    // shim it becomes).
    let mut net = record.net.clone();
    if let Some(cfg) = net.as_mut() {
        crate::net::switch::join_container(cfg, &record.name, &record.id, &dir.path)?;
    }
    let opts = crate::spec::SandboxOptions {
        init: record.init,
        stdin: record.open_stdin && !record.tty,
        cgroup: cgroup.as_ref().map(|c| c.path().to_path_buf()),
        net,
        root_overlay: crate::storage::overlay_of(&dir.path)?,
        root_fuse: crate::storage::fuse_of(&dir.path)?,
    };
    // Clients attach through a socket in the runtime directory; `start -a`
    // connects before the container starts so it sees all of its output.
    let mut attach = Attach {
        devnull: File::options()
            .read(true)
            .write(true)
            .open("/dev/null")
            .context("open /dev/null")?,
        listener: super::attach::listen(id).ok(),
        first: None,
    };
    if mode == Mode::AttachFirst {
        if let Some(l) = &attach.listener {
            attach.first = super::attach::accept_first(l, Duration::from_secs(30));
        }
    }
    if new_start {
        // A new start: an earlier `stop` no longer holds, and the restart
        // count begins again (as Docker's `start` resets it).
        restart::clear_stopping(id);
        dir.state.status = Status::Created;
        dir.state.pid = None;
        dir.state.error = None;
        dir.state.restart_count = 0;
    }
    dir.state.monitor_pid = Some(std::process::id() as i32);
    dir.save_state()?;

    let mut log = None;
    let mut backoff = restart::Backoff::default();
    // Resumed: the foreground `run` ran it once and recorded `restarting`;
    // exited: the shim ran it and waited for it.
    let mut ever_started = !new_start;
    let mut delay = resume.then(|| backoff.next(Duration::ZERO));
    let mut pending = exited.map(|(code, ran_ms, backoff_ms)| {
        backoff = restart::Backoff::resume(Duration::from_millis(backoff_ms));
        let ran = Duration::from_millis(ran_ms);
        Run {
            result: Ok(crate::sandbox::Exit {
                code,
                pid: dir.state.pid.unwrap_or(0),
            }),
            started: Some(Instant::now().checked_sub(ran).unwrap_or_else(Instant::now)),
            log: None,
        }
    });
    let result = loop {
        if let Some(d) = delay.take() {
            if !wait_to_restart(id, d) {
                dir.state.status = Status::Exited;
                break Ok(());
            }
        }
        let one = match pending.take() {
            Some(one) => one,
            None => {
                let log_now = match log.take() {
                    Some(l) => l,
                    None => open_log(&dir, &record)?,
                };
                let handoff = shim.as_ref().map(|shim| Handoff {
                    shim,
                    lock: &lock,
                    backoff_ms: backoff.current().as_millis() as u64,
                });
                run_once(
                    &dir,
                    &record,
                    &spec,
                    &opts,
                    report,
                    log_now,
                    &mut attach,
                    handoff,
                )?
            }
        };
        log = one.log;
        ever_started |= one.started.is_some();
        let mut state = super::read_state(&dir.path).unwrap_or_else(|_| dir.state.clone());
        state.pid = None;
        match &one.result {
            Ok(exit) => {
                state.status = Status::Exited;
                state.exit_code = Some(exit.code);
                state.finished_at = Some(super::now());
            }
            Err(e) => {
                let code = e
                    .downcast_ref::<ExitError>()
                    .map_or(EXIT_CORACLE, |x| x.code);
                state.status = if ever_started {
                    Status::Exited
                } else {
                    Status::Created
                };
                state.exit_code = Some(code);
                state.error = Some(format!("{e:#}"));
                state.finished_at = ever_started.then(super::now);
            }
        }
        // Only a command that ran and ended is run again; a stop, kill,
        // restart or rm -f by the user marked the container first.
        let again = match (&one.result, one.started) {
            (Ok(exit), Some(_)) => record.restart.should_restart(
                exit.code,
                state.restart_count,
                restart::is_stopping(id),
            ),
            _ => false,
        };
        if !again {
            dir.state = state;
            break one.result.map(|_| ());
        }
        state.status = Status::Restarting;
        state.restart_count += 1;
        dir.state = state;
        dir.save_state()?;
        let ran = one.started.map(|t| t.elapsed()).unwrap_or_default();
        delay = Some(backoff.next(ran));
    };
    drop(cgroup);
    if record.auto_remove && !restart::is_restart_by_user(id) {
        // `wait` on a removed container still gets its exit code: it is
        // left in the runtime directory, which `list` clears later.
        match dir.state.exit_code.filter(|_| ever_started) {
            Some(code) => {
                let _ = super::write_atomic(
                    &super::runtime_path_of(id)?.join(super::EXIT_CODE_FILE),
                    code.to_string().as_bytes(),
                );
                super::remove_data_dir(&dir.path)?;
            }
            None => super::remove_container_files(id)?,
        }
        // Docker removes a --rm container's anonymous volumes with it.
        let _ = super::volumes::remove_anonymous(&record.mounts);
    } else {
        dir.save_state()?;
    }
    restart::clear_stopping(id);
    drop(lock);
    result
}

fn open_log(dir: &ContainerDir, record: &Record) -> anyhow::Result<super::logs::RotatingLog> {
    super::logs::RotatingLog::open(
        &dir.path.join(super::LOG_FILE),
        super::logs::LogOpts {
            max_size: record.log_max_size,
            max_file: record.log_max_file,
        },
    )
}

/// The container's stdio ends that outlive one run: /dev/null (for the
/// monitor's own fds), the attach socket and the client that asked to
/// see everything.
struct Attach {
    devnull: File,
    listener: Option<std::os::unix::net::UnixListener>,
    first: Option<std::os::unix::net::UnixStream>,
}

/// How the monitor was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `run -d`, `start`.
    Start,
    /// Taking over from a foreground `run --restart` (its lock on stdin).
    Resume,
    /// `start -a`: the first client connects before the container starts.
    AttachFirst,
    /// Exec'd by the shim after the container's pid 1 exited with `code`
    /// (its lock on stdin): `container-monitor ID --exited CODE RAN_MS
    /// BACKOFF_MS`, the run's length and the restart backoff so far.
    Exited {
        code: i32,
        ran_ms: u64,
        backoff_ms: u64,
    },
}

/// The third argument of the hidden subcommand for [`Mode::AttachFirst`].
pub const ATTACH_FIRST: &str = "--attach";

/// The third argument of the hidden subcommand for [`Mode::Exited`].
pub const EXITED: &str = "--exited";

/// The shim's file name; it is installed next to `coracle`.
pub const SHIM: &str = "coracle-shim";

/// `coracle-shim` next to the running `coracle` (`/proc/self/exe`): the
/// idle monitor of a detached container.
pub fn shim_path() -> anyhow::Result<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let exe = std::fs::read_link("/proc/self/exe").context("read /proc/self/exe")?;
    let dir = exe.parent().unwrap_or(std::path::Path::new("/"));
    let shim = dir.join(SHIM);
    match std::fs::metadata(&shim) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(shim),
        Ok(_) => bail!(
            "{} is not an executable file: reinstall coracle (install.sh installs {SHIM} next to coracle)",
            shim.display()
        ),
        Err(e) => bail!(
            "{SHIM} is missing ({}: {e}): detached containers need it next to {}; reinstall coracle (install.sh installs both)",
            shim.display(),
            exe.display()
        ),
    }
}

/// What the monitor needs to become the shim once its container runs.
struct Handoff<'a> {
    shim: &'a std::path::Path,
    lock: &'a super::MonitorLock,
    backoff_ms: u64,
}

/// One run of the container's command.
struct Run {
    result: anyhow::Result<crate::sandbox::Exit>,
    /// When the command was exec'd (`None`: it never was).
    started: Option<Instant>,
    /// The log, back from the logger thread (`None` if that thread died).
    log: Option<super::logs::RotatingLog>,
}

/// Runs the command once with its output into the log. The monitor is
/// single-threaded again when this returns (the logger is joined), so the
/// next run may `clone3`. With a `handoff` it does not return once the
/// command runs: the monitor execs the shim (see `Observer::started`).
#[allow(clippy::too_many_arguments)]
fn run_once(
    dir: &ContainerDir,
    record: &Record,
    spec: &oci_spec::runtime::Spec,
    opts: &crate::spec::SandboxOptions,
    report: &mut Report,
    log: super::logs::RotatingLog,
    attach: &mut Attach,
    handoff: Option<Handoff<'_>>,
) -> anyhow::Result<Run> {
    // Under -t the child puts the pty on its stdio; otherwise it inherits
    // fds 0-2 from here: pipes read by the I/O thread.
    let pipes = if record.tty {
        None
    } else {
        let (out_r, out_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        let (err_r, err_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        nix::unistd::dup2(out_w.as_raw_fd(), 1).context("dup2 the stdout pipe")?;
        nix::unistd::dup2(err_w.as_raw_fd(), 2).context("dup2 the stderr pipe")?;
        Some((out_r, err_r))
    };
    let stdin = if record.open_stdin && !record.tty {
        let (in_r, in_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        nix::unistd::dup2(in_r.as_raw_fd(), 0).context("dup2 the stdin pipe")?;
        Some(in_w)
    } else {
        None
    };

    let mut obs = Observer {
        dir,
        report,
        devnull: &attach.devnull,
        pipes: Some((pipes, stdin, log)),
        listener: attach.listener.as_ref().and_then(|l| l.try_clone().ok()),
        first_client: attach.first.take(),
        thread: None,
        started: None,
        health: record.healthcheck.as_ref(),
        checker: None,
        record,
        handoff,
    };
    let result = crate::sandbox::run(spec, opts, &mut obs);
    // Before anything else: a restart clones again, which needs this
    // process single-threaded.
    if let Some(c) = obs.checker.take() {
        c.stop();
    }
    // The pipes' write ends must be closed here too, or the logger never
    // sees the end of them.
    obs.release_stdio();
    let log = match (obs.thread.take(), obs.pipes.take()) {
        (Some(t), _) => t.join().ok(),
        (None, Some((_, _, log))) => Some(log),
        (None, None) => None,
    };
    // A client that came before a failed start is still waiting.
    if attach.first.is_none() {
        attach.first = obs.first_client.take();
    }
    Ok(Run {
        result,
        started: obs.started,
        log,
    })
}

/// Waits `delay` before a restart; false if the user stopped the
/// container meanwhile.
fn wait_to_restart(id: &str, delay: Duration) -> bool {
    let until = Instant::now() + delay;
    loop {
        if restart::is_stopping(id) {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// The container's stdout/stderr pipes (none under `-t`: the pty master
/// comes with `started`), its stdin pipe's write end (`-i` without `-t`)
/// and the log.
type RunStdio = (
    Option<(OwnedFd, OwnedFd)>,
    Option<OwnedFd>,
    super::logs::RotatingLog,
);

struct Observer<'a> {
    dir: &'a ContainerDir,
    report: &'a mut Report,
    devnull: &'a File,
    /// Handed to the I/O thread when the container starts.
    pipes: Option<RunStdio>,
    listener: Option<std::os::unix::net::UnixListener>,
    first_client: Option<std::os::unix::net::UnixStream>,
    thread: Option<std::thread::JoinHandle<super::logs::RotatingLog>>,
    started: Option<Instant>,
    health: Option<&'a super::health::HealthConfig>,
    checker: Option<super::health::Checker>,
    record: &'a Record,
    handoff: Option<Handoff<'a>>,
}

impl Observer<'_> {
    /// Execs the shim with the container's stdio, the attach socket and
    /// the lock (descriptors kept open across the exec, named on its
    /// command line). The process stays the container's parent: the clone
    /// was made by this, its only thread, so the container's parent-death
    /// signal still points at it; the forwarded signals stay blocked (and
    /// pending ones pending) across the exec. Returns only on failure,
    /// with every descriptor close-on-exec again.
    fn exec_shim(
        &self,
        h: &Handoff<'_>,
        pid: i32,
        master: Option<&OwnedFd>,
        health: Option<&super::health::HealthConfig>,
    ) -> anyhow::Error {
        use nix::fcntl::{fcntl, FcntlArg, FdFlag};
        use std::os::fd::{BorrowedFd, RawFd};
        let mut args: Vec<String> = vec![SHIM.into(), SUBCOMMAND.into()];
        args.push(
            self.dir
                .path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string(),
        );
        let coracle = match std::fs::read_link("/proc/self/exe") {
            Ok(p) => p,
            Err(e) => return anyhow::anyhow!("read /proc/self/exe: {e}"),
        };
        let mut kept: Vec<RawFd> = Vec::new();
        let mut opt = |args: &mut Vec<String>, name: &str, fd: BorrowedFd<'_>| {
            args.push(name.into());
            args.push(fd.as_raw_fd().to_string());
            kept.push(fd.as_raw_fd());
        };
        opt(&mut args, "--lock", h.lock.as_fd());
        if let Some(m) = master {
            opt(&mut args, "--pty", m.as_fd());
        }
        if let Some((pipes, stdin, _)) = &self.pipes {
            if let Some((out, err)) = pipes {
                opt(&mut args, "--out", out.as_fd());
                opt(&mut args, "--err", err.as_fd());
            }
            if let Some(i) = stdin {
                opt(&mut args, "--stdin", i.as_fd());
            }
        }
        if let Some(l) = &self.listener {
            opt(&mut args, "--listen", l.as_fd());
        }
        if let Some(c) = &self.first_client {
            opt(&mut args, "--client", c.as_fd());
        }
        // The named network's link to its switch: held by the shim while
        // the container runs, so the container stays on the network.
        let link = crate::net::switch::kept_link();
        if let Some(l) = &link {
            opt(&mut args, "--keep", l.as_fd());
        }
        args.push("--coracle".into());
        // Replaced on disk meanwhile (an upgrade): the shim execs what is
        // at the path now.
        let coracle = coracle.to_string_lossy();
        args.push(
            coracle
                .strip_suffix(" (deleted)")
                .unwrap_or(&coracle)
                .to_string(),
        );
        args.push("--pid".into());
        args.push(pid.to_string());
        args.push("--log".into());
        args.push(
            self.dir
                .path
                .join(super::LOG_FILE)
                .to_string_lossy()
                .into_owned(),
        );
        if let Some(n) = self.record.log_max_size {
            args.push("--log-max-size".into());
            args.push(n.to_string());
        }
        if let Some(n) = self.record.log_max_file {
            args.push("--log-max-file".into());
            args.push(n.to_string());
        }
        if let Some(c) = health {
            args.push("--health".into());
            args.push(format!(
                "{},{},{}",
                c.interval().as_millis(),
                c.start_period().as_millis(),
                c.start_interval().as_millis()
            ));
        }
        args.push("--backoff-ms".into());
        args.push(h.backoff_ms.to_string());
        let e = (|| -> anyhow::Result<std::convert::Infallible> {
            for fd in &kept {
                fcntl(*fd, FcntlArg::F_SETFD(FdFlag::empty()))?;
            }
            let path = std::ffi::CString::new(h.shim.as_os_str().as_encoded_bytes())?;
            let argv = args
                .iter()
                .map(|a| std::ffi::CString::new(a.as_bytes()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(nix::unistd::execv(&path, &argv)?)
        })()
        .unwrap_err();
        for fd in &kept {
            let _ = fcntl(*fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
        }
        e.context(format!("exec {}", h.shim.display()))
    }

    /// Points fds 0, 1 and 2 back at /dev/null: the container holds the
    /// only ends of its stdio pipes now.
    fn release_stdio(&self) {
        let _ = nix::unistd::dup2(self.devnull.as_raw_fd(), 0);
        let _ = nix::unistd::dup2(self.devnull.as_raw_fd(), 1);
        let _ = nix::unistd::dup2(self.devnull.as_raw_fd(), 2);
    }
}

impl crate::sandbox::Observer for Observer<'_> {
    fn started(&mut self, pid: i32, master: &mut Option<OwnedFd>) {
        self.started = Some(Instant::now());
        self.release_stdio();
        let mut st = self.dir.state.clone();
        st.status = Status::Running;
        st.pid = Some(pid);
        st.started_at = Some(super::now());
        st.finished_at = None;
        st.exit_code = None;
        st.error = None;
        if let Ok(json) = serde_json::to_vec_pretty(&st) {
            let _ = super::write_atomic(&self.dir.path.join("state.json"), &json);
        }
        if let Some(h) = self.handoff.take() {
            let active = self.health.filter(|c| c.active());
            if active.is_some() {
                super::health::reset(&self.dir.path);
            }
            self.report.send("ok\n");
            // Returns only if the exec failed: the container is then
            // served in-process below, as without a shim (the error has
            // nowhere to go: `run -d` has its `ok` and stderr is /dev/null).
            let _failed = self.exec_shim(&h, pid, master.as_ref(), active);
        }
        if let Some((pipes, stdin, log)) = self.pipes.take() {
            let output = match (master.take(), pipes) {
                (Some(m), _) => Some(super::attach::Output::Pty(m)),
                (None, Some((out, err))) => Some(super::attach::Output::Pipes(out, err)),
                (None, None) => None,
            };
            let listener = self.listener.as_ref().and_then(|l| l.try_clone().ok());
            let first = self.first_client.take();
            // Without a thread the pipes' read ends close with the closure
            // and the container's writes fail (EPIPE) instead of blocking.
            self.thread = output.and_then(|output| {
                std::thread::Builder::new()
                    .name("io".into())
                    .stack_size(128 * 1024)
                    .spawn(move || {
                        super::attach::relay(
                            output,
                            stdin,
                            listener,
                            first,
                            log,
                            super::attach::Local::default(),
                        )
                    })
                    .ok()
            });
        }
        let id = self
            .dir
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        self.checker = super::health::Checker::start(id, &self.dir.path, self.health);
        self.report.send("ok\n");
        // From here on the monitor only waits and copies output: most of
        // the binary it ran to get here is not needed in its memory.
        let _ = crate::sys::release_code_pages();
    }
}
