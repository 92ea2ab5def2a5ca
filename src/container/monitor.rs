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
//! 5. when the container exits: drains the pipes, records the exit code and
//!    time, removes the container under `--rm`, and exits.
//!
//! A setup error (e.g. the command does not exist) is reported as
//! `error CODE` and the message, so `run -d` ends with Docker's 125/126/127.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use anyhow::{bail, Context};

use super::{ContainerDir, Record, Status};
use crate::error::{ExitError, EXIT_CORACLE};

/// The hidden subcommand's name (`lib::run_cli` dispatches it).
pub const SUBCOMMAND: &str = "container-monitor";

/// Runs the monitor of container `id`; the process exit status.
pub fn main(id: &str) -> i32 {
    // `run -d` starts it in a session of its own already (then this fails).
    let _ = nix::unistd::setsid();
    let report = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .map(File::from);
    let mut report = Report(report);
    match run(id, &mut report) {
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

fn run(id: &str, report: &mut Report) -> anyhow::Result<()> {
    if id.len() != 64 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        bail!("container-monitor takes a full container id (64 hex digits), not {id:?}");
    }
    let Some(lock) = super::try_lock_monitor(id)? else {
        bail!("container {id} is already running");
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
    let opts = crate::spec::SandboxOptions {
        init: record.init,
        stdin: false,
    };
    dir.state.status = Status::Created;
    dir.state.pid = None;
    dir.state.error = None;
    dir.state.monitor_pid = Some(std::process::id() as i32);
    dir.save_state()?;

    let log = super::logs::RotatingLog::open(
        &dir.path.join(super::LOG_FILE),
        super::logs::LogOpts {
            max_size: record.log_max_size,
            max_file: record.log_max_file,
        },
    )?;
    let devnull = File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
        .context("open /dev/null")?;
    let (out_r, out_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let (err_r, err_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    nix::unistd::dup2(out_w.as_raw_fd(), 1).context("dup2 the stdout pipe")?;
    nix::unistd::dup2(err_w.as_raw_fd(), 2).context("dup2 the stderr pipe")?;
    drop((out_w, err_w));

    let mut obs = Observer {
        dir: &dir,
        report,
        devnull: &devnull,
        pipes: Some((out_r, err_r, log)),
        thread: None,
        started: false,
    };
    let result = crate::sandbox::run(&spec, &opts, &mut obs);
    // The pipes' write ends must be closed here too, or the logger never
    // sees the end of them.
    obs.release_stdio();
    let started = obs.started;
    if let Some(t) = obs.thread.take() {
        let _ = t.join();
    }
    let mut state = super::read_state(&dir.path).unwrap_or_else(|_| dir.state.clone());
    state.pid = None;
    match &result {
        Ok(exit) => {
            state.status = Status::Exited;
            state.exit_code = Some(exit.code);
            state.finished_at = Some(super::now());
        }
        Err(e) => {
            let code = e
                .downcast_ref::<ExitError>()
                .map_or(EXIT_CORACLE, |x| x.code);
            state.status = if started {
                Status::Exited
            } else {
                Status::Created
            };
            state.exit_code = Some(code);
            state.error = Some(format!("{e:#}"));
            state.finished_at = started.then(super::now);
        }
    }
    dir.state = state;
    if record.auto_remove {
        // `wait` on a removed container still gets its exit code: it is
        // left in the runtime directory, which `list` clears later.
        match dir.state.exit_code.filter(|_| started) {
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
    drop(lock);
    result.map(|_| ())
}

struct Observer<'a> {
    dir: &'a ContainerDir,
    report: &'a mut Report,
    devnull: &'a File,
    pipes: Option<(OwnedFd, OwnedFd, super::logs::RotatingLog)>,
    thread: Option<std::thread::JoinHandle<()>>,
    started: bool,
}

impl Observer<'_> {
    /// Points fds 1 and 2 back at /dev/null: the container holds the only
    /// write ends of the log pipes now.
    fn release_stdio(&self) {
        let _ = nix::unistd::dup2(self.devnull.as_raw_fd(), 1);
        let _ = nix::unistd::dup2(self.devnull.as_raw_fd(), 2);
    }
}

impl crate::sandbox::Observer for Observer<'_> {
    fn started(&mut self, pid: i32) {
        self.started = true;
        self.release_stdio();
        let mut st = self.dir.state.clone();
        st.status = Status::Running;
        st.pid = Some(pid);
        st.started_at = Some(super::now());
        st.finished_at = None;
        st.exit_code = None;
        if let Ok(json) = serde_json::to_vec_pretty(&st) {
            let _ = super::write_atomic(&self.dir.path.join("state.json"), &json);
        }
        if let Some((out, err, log)) = self.pipes.take() {
            self.thread = std::thread::Builder::new()
                .name("logger".into())
                .stack_size(128 * 1024)
                .spawn(move || copy_logs(out, err, log))
                .ok();
        }
        self.report.send("ok\n");
    }
}

/// Copies both pipes into the log until both are closed.
fn copy_logs(out: OwnedFd, err: OwnedFd, mut log: super::logs::RotatingLog) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut streams = [
        (
            Some(File::from(out)),
            super::logs::LineSplitter::new("stdout"),
        ),
        (
            Some(File::from(err)),
            super::logs::LineSplitter::new("stderr"),
        ),
    ];
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let open: Vec<usize> = (0..2).filter(|&i| streams[i].0.is_some()).collect();
        if open.is_empty() {
            break;
        }
        let ready: Vec<bool> = {
            let mut fds: Vec<PollFd> = open
                .iter()
                .map(|&i| PollFd::new(streams[i].0.as_ref().unwrap().as_fd(), PollFlags::POLLIN))
                .collect();
            match poll(&mut fds, PollTimeout::NONE) {
                Err(nix::Error::EINTR) => continue,
                Err(_) => break,
                Ok(_) => {}
            }
            fds.iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect()
        };
        for (k, &i) in open.iter().enumerate() {
            if !ready[k] {
                continue;
            }
            let (file, splitter) = &mut streams[i];
            let n = match file.as_mut().unwrap().read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => 0,
            };
            if n == 0 {
                let _ = splitter.finish(&mut log);
                *file = None;
            } else {
                // A full disk must not stop the container: the pipe is
                // drained even when the log cannot be written.
                let _ = splitter.feed(&buf[..n], &mut log);
            }
        }
    }
}
