//! `coracle-shim`: what a detached container's monitor is while the
//! container runs.
//!
//! The monitor (`coracle container-monitor ID`, the big binary) sets the
//! container up, clones it, records it `running` and then *execs* this
//! small program (std + libc only), keeping its pid: the shim is the
//! container's parent (the same thread that cloned it, so the container's
//! parent-death signal still points at it), holds the monitor lock, and
//! until the container's pid 1 exits:
//!
//! - copies the container's output (stdout/stderr pipes or the pty master)
//!   into the json-file log (exactly as `coracle::container::logs`) and to
//!   the attached clients (`coracle::container::attach`'s protocol), and
//!   their input to the container;
//! - forwards the signals it gets (SIGTERM, SIGINT, ...) to pid 1;
//! - runs the health checks on schedule, each as a child
//!   `coracle container-health ID` that runs the check and records it;
//! - waits for pid 1, drains the output, and execs `coracle
//!   container-monitor ID --exited CODE ...` with the lock on its stdin,
//!   which records the exit, applies the restart policy and, for a
//!   restart, starts the container and execs the shim again.
//!
//! Everything arrives on the command line and as inherited descriptors
//! (made close-on-exec again at once, so health checks do not inherit
//! them). The shim never parses JSON and never touches the records: the
//! big binary does all bookkeeping.
#![deny(unsafe_code)]

mod log;
mod sys;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Signals passed on to the container (as `sandbox::FORWARDED_SIGNALS`;
/// SIGWINCH is only taken, a detached container's window size comes from
/// its attach clients) and SIGCHLD (a health check ended).
const SIGNALS: [i32; 10] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGCONT,
    libc::SIGWINCH,
    libc::SIGCHLD,
];
/// After a SIGHUP the container is killed if still there (as `run`).
const HANGUP_GRACE: Duration = Duration::from_secs(10);
/// How long output may still come after pid 1 exited (the kernel kills
/// the rest of its pid namespace, so the pipes end almost at once).
const DRAIN: Duration = Duration::from_secs(10);
const MAX_QUEUED: usize = 1 << 20;
const MAX_PENDING_INPUT: usize = 64 * 1024;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const DROPPED: u8 = 3;
const KIND_STDIN: u8 = 0;
const KIND_RESIZE: u8 = 1;
/// `exec -d -t`: the frame carries (SCM_RIGHTS) the master of the
/// command's terminal, for the shim to hold; answered with `HELD`.
const KIND_HOLD: u8 = 2;
const HELD: u8 = 4;

fn main() {
    let err = match run() {
        Ok(e) | Err(e) => e,
    };
    // stderr is /dev/null under a monitor; useful when run by hand.
    eprintln!("coracle-shim: {err}");
    std::process::exit(1);
}

struct Args {
    id: String,
    coracle: PathBuf,
    pid: i32,
    /// Always set once parsed.
    lock: Option<OwnedFd>,
    log: PathBuf,
    max_size: Option<u64>,
    max_file: u32,
    out: Option<OwnedFd>,
    err: Option<OwnedFd>,
    pty: Option<OwnedFd>,
    stdin: Option<OwnedFd>,
    listen: Option<OwnedFd>,
    client: Option<OwnedFd>,
    /// interval, start period, start interval.
    health: Option<[Duration; 3]>,
    backoff_ms: u64,
    /// Descriptors only held open while the shim runs (a named network's
    /// link to its switch: the container stays on the network).
    _keep: Vec<OwnedFd>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    if it.next().as_deref() != Some("container-monitor") {
        return Err("this is coracle's monitor of a detached container; it is started by coracle, not by hand".into());
    }
    let id = it.next().ok_or("no container id")?;
    let mut a = Args {
        id,
        coracle: PathBuf::new(),
        pid: 0,
        lock: None,
        log: PathBuf::new(),
        max_size: None,
        max_file: 1,
        out: None,
        err: None,
        pty: None,
        stdin: None,
        listen: None,
        client: None,
        health: None,
        backoff_ms: 0,
        _keep: Vec::new(),
    };
    while let Some(k) = it.next() {
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{k}: bad number {v:?}"))
        };
        let fd = |v: &str| -> Result<OwnedFd, String> {
            let n = v.parse::<i32>().map_err(|_| format!("{k}: bad fd {v:?}"))?;
            let fd = sys::take_fd(n).map_err(|e| format!("{k} {n}: {e}"))?;
            // Not for the health checks' processes.
            sys::set_cloexec(fd.as_fd(), true).map_err(|e| format!("{k} {n}: {e}"))?;
            Ok(fd)
        };
        match k.as_str() {
            "--coracle" => a.coracle = PathBuf::from(v),
            "--pid" => a.pid = v.parse().map_err(|_| format!("bad pid {v:?}"))?,
            "--lock" => a.lock = Some(fd(&v)?),
            "--log" => a.log = PathBuf::from(v),
            "--log-max-size" => a.max_size = Some(num(&v)?),
            "--log-max-file" => a.max_file = num(&v)? as u32,
            "--out" => a.out = Some(fd(&v)?),
            "--err" => a.err = Some(fd(&v)?),
            "--pty" => a.pty = Some(fd(&v)?),
            "--stdin" => a.stdin = Some(fd(&v)?),
            "--listen" => a.listen = Some(fd(&v)?),
            "--client" => a.client = Some(fd(&v)?),
            "--health" => {
                let mut d = [Duration::ZERO; 3];
                let parts: Vec<&str> = v.split(',').collect();
                if parts.len() != 3 {
                    return Err(format!("--health takes 3 durations, not {v:?}"));
                }
                for (slot, p) in d.iter_mut().zip(parts) {
                    *slot = Duration::from_millis(num(p)?);
                }
                a.health = Some(d);
            }
            "--backoff-ms" => a.backoff_ms = num(&v)?,
            "--keep" => a._keep.push(fd(&v)?),
            _ => return Err(format!("unknown option {k}")),
        }
    }
    if a.lock.is_none() {
        return Err("no --lock".into());
    }
    if a.pid <= 0 || a.coracle.as_os_str().is_empty() || a.log.as_os_str().is_empty() {
        return Err("--pid, --coracle and --log are needed".into());
    }
    Ok(a)
}

/// Runs until the container's pid 1 has exited, then execs the big binary
/// for the bookkeeping; returns only with an error.
fn run() -> Result<String, String> {
    let a = parse_args()?;
    let sfd = sys::signalfd(&SIGNALS).map_err(|e| format!("signalfd: {e}"))?;
    let pidfd = sys::pidfd_open(a.pid).map_err(|e| format!("pidfd_open {}: {e}", a.pid))?;
    let started = Instant::now();
    let log = log::Log::open(a.log.clone(), a.max_size, a.max_file);
    let mut relay = Relay::new(a.out, a.err, a.pty, a.stdin, a.listen, a.client, log);
    let mut health = a.health.map(|cfg| Health::new(cfg, started));
    let mut code: Option<i32> = None;
    let mut kill_at: Option<Instant> = None;
    let mut drain_until: Option<Instant> = None;
    let mut fds: Vec<libc::pollfd> = Vec::new();
    let mut tags: Vec<Tag> = Vec::new();
    // From here on the shim mostly waits: what its start-up ran of its
    // code need not stay in its memory (it faults back in if needed).
    let _ = sys::release_code_pages();
    loop {
        let now = Instant::now();
        if code.is_some() && (relay.output_done() || drain_until.is_some_and(|t| now >= t)) {
            break;
        }
        fds.clear();
        tags.clear();
        let mut add = |fd: i32, events: i16, tag: Tag| {
            fds.push(libc::pollfd {
                fd,
                events,
                revents: 0,
            });
            tags.push(tag);
        };
        add(sfd.as_raw_fd(), libc::POLLIN, Tag::Signal);
        if code.is_none() {
            add(pidfd.as_raw_fd(), libc::POLLIN, Tag::Exit);
        }
        relay.register(&mut add);
        let mut deadline = drain_until.or(kill_at);
        if let (None, Some(h)) = (code, &health) {
            if h.child.is_none() {
                deadline = Some(deadline.map_or(h.next, |d| d.min(h.next)));
            }
        }
        let timeout = deadline.map_or(-1, |d| {
            d.saturating_duration_since(now)
                .as_millis()
                .min(i32::MAX as u128) as i32
        });
        sys::poll(&mut fds, timeout).map_err(|e| format!("poll: {e}"))?;
        let ready: Vec<(Tag, i16)> = fds
            .iter()
            .zip(&tags)
            .filter(|(f, _)| f.revents != 0)
            .map(|(f, t)| (*t, f.revents))
            .collect();
        for (tag, revents) in ready {
            match tag {
                Tag::Signal => {
                    while let Some(sig) = sys::read_signal(sfd.as_fd()) {
                        match sig {
                            libc::SIGCHLD => {
                                if let Some(h) = &mut health {
                                    h.reap(started);
                                }
                            }
                            libc::SIGWINCH => {}
                            _ if code.is_none() => {
                                let _ = sys::pidfd_send_signal(pidfd.as_fd(), sig);
                                if sig == libc::SIGHUP {
                                    let t = Instant::now() + HANGUP_GRACE;
                                    kill_at = Some(kill_at.map_or(t, |k| k.min(t)));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Tag::Exit => {
                    code = Some(sys::wait_exit(a.pid).map_err(|e| format!("wait: {e}"))?);
                    drain_until = Some(Instant::now() + DRAIN);
                    kill_at = None;
                }
                _ => relay.handle(tag, revents),
            }
        }
        relay.flush_clients();
        let now = Instant::now();
        if kill_at.is_some_and(|t| now >= t) {
            let _ = sys::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
            kill_at = None;
        }
        if let (None, Some(h)) = (code, &mut health) {
            if h.child.is_none() && now >= h.next {
                h.spawn(&a.coracle, &a.id, started);
            }
        }
    }
    let ran = started.elapsed();
    relay.finish();
    if let Some(h) = health {
        h.stop();
    }
    // Back to the big binary, the lock on its stdin (dup2 leaves the copy
    // open across exec), the signals still blocked.
    let lock = a.lock.as_ref().ok_or("no lock")?;
    sys::dup2(lock.as_fd(), 0).map_err(|e| format!("hand the lock over: {e}"))?;
    let args = [
        "coracle".to_string(),
        "container-monitor".into(),
        a.id.clone(),
        "--exited".into(),
        code.unwrap_or(255).to_string(),
        format!("{}", ran.as_millis()),
        format!("{}", a.backoff_ms),
    ];
    let e = sys::execv(&a.coracle, &args);
    Err(format!("exec {}: {e}", a.coracle.display()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Signal,
    Exit,
    Source(usize),
    Input,
    Listen,
    Client(usize),
    Held(usize),
}

/// The health checks: one `coracle container-health ID` child at a time.
struct Health {
    /// interval, start period, start interval.
    cfg: [Duration; 3],
    next: Instant,
    starting: bool,
    child: Option<Child>,
    /// The container is gone (a check said so): no more checks.
    over: bool,
}

/// `coracle container-health`'s exit codes.
const HEALTH_STARTING: i32 = 1;
const HEALTH_GONE: i32 = 2;

impl Health {
    fn new(cfg: [Duration; 3], started: Instant) -> Self {
        let mut h = Self {
            cfg,
            next: started,
            starting: true,
            child: None,
            over: false,
        };
        h.next = started + h.wait(started);
        h
    }

    /// Docker's schedule: the start interval while starting inside the
    /// start period, else the interval.
    fn wait(&self, started: Instant) -> Duration {
        let [interval, period, start_interval] = self.cfg;
        if self.starting && started.elapsed() < period {
            start_interval
        } else {
            interval
        }
    }

    fn spawn(&mut self, coracle: &std::path::Path, id: &str, started: Instant) {
        if self.over {
            self.next = Instant::now() + Duration::from_secs(86400 * 365);
            return;
        }
        let mut cmd = Command::new(coracle);
        cmd.arg0("coracle")
            .arg("container-health")
            .arg(id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if started.elapsed() < self.cfg[1] {
            cmd.arg("--in-start-period");
        }
        match cmd.spawn() {
            Ok(c) => self.child = Some(c),
            // Try again at the next tick.
            Err(_) => self.next = Instant::now() + self.wait(started),
        }
    }

    fn reap(&mut self, started: Instant) {
        let Some(c) = &mut self.child else { return };
        if let Ok(Some(status)) = c.try_wait() {
            self.child = None;
            match status.code() {
                Some(HEALTH_GONE) => self.over = true,
                Some(HEALTH_STARTING) => self.starting = true,
                _ => self.starting = false,
            }
            self.next = Instant::now() + self.wait(started);
        }
    }

    /// Waits a little for a running check (it ends quickly once the
    /// container is gone), then kills it.
    fn stop(self) {
        let Some(mut c) = self.child else { return };
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = c.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = c.kill();
        let _ = c.wait();
    }
}

struct Source {
    file: Option<File>,
    stream: u8,
    split: log::Splitter,
}

struct Client {
    sock: UnixStream,
    queued: Vec<u8>,
    input: Vec<u8>,
    /// Descriptors that came with the input, for its `KIND_HOLD` frames.
    fds: Vec<OwnedFd>,
    dead: bool,
}

impl Client {
    fn new(sock: UnixStream) -> Self {
        let _ = sock.set_nonblocking(true);
        Self {
            sock,
            queued: Vec::new(),
            input: Vec::new(),
            fds: Vec::new(),
            dead: false,
        }
    }

    fn send(&mut self, data: &[u8]) {
        if self.dead {
            return;
        }
        if self.queued.len() + data.len() > MAX_QUEUED {
            // Said without waiting: it goes out if the socket has room.
            let _ = self.sock.write(&frame(DROPPED, b""));
            self.dead = true;
        } else {
            self.queued.extend_from_slice(data);
        }
    }

    fn flush(&mut self) {
        while !self.queued.is_empty() && !self.dead {
            match self.sock.write(&self.queued) {
                Ok(0) => self.dead = true,
                Ok(n) => {
                    self.queued.drain(..n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => self.dead = true,
            }
        }
        if self.queued.is_empty() && self.queued.capacity() > 64 * 1024 {
            self.queued = Vec::new();
        }
    }
}

fn frame(stream: u8, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + data.len());
    v.extend_from_slice(&[stream, 0, 0, 0]);
    v.extend_from_slice(&(data.len() as u32).to_be_bytes());
    v.extend_from_slice(data);
    v
}

/// One complete client frame at the start of `b`: (kind, data range end).
fn parse_input(b: &[u8]) -> Option<(u8, usize)> {
    if b.len() < 5 {
        return None;
    }
    let len = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize;
    (b.len() >= 5 + len).then_some((b[0], 5 + len))
}

/// The container's stdio, the log and the attach clients: the same
/// relay as `coracle::container::attach::relay`, in the shim's own loop.
struct Relay {
    sources: Vec<Source>,
    input_to: Option<File>,
    is_pty: bool,
    pending: Vec<u8>,
    listener: Option<UnixListener>,
    clients: Vec<Client>,
    /// The terminals of `exec -d -t` commands: held open (so their
    /// session gets no SIGHUP) and drained (the output is discarded, as
    /// Docker does) until every slave is closed.
    held: Vec<Option<File>>,
    log: log::Log,
    buf: Vec<u8>,
}

impl Relay {
    fn new(
        out: Option<OwnedFd>,
        err: Option<OwnedFd>,
        pty: Option<OwnedFd>,
        stdin: Option<OwnedFd>,
        listen: Option<OwnedFd>,
        client: Option<OwnedFd>,
        log: log::Log,
    ) -> Self {
        let source = |fd: OwnedFd, stream: u8, name: &'static str| {
            let _ = sys::set_nonblocking(fd.as_fd());
            Source {
                file: Some(File::from(fd)),
                stream,
                split: log::Splitter::new(name),
            }
        };
        let mut sources = Vec::new();
        let is_pty = pty.is_some();
        let input_to = match pty {
            Some(m) => {
                let input = m.try_clone().ok().map(File::from);
                sources.push(source(m, STDOUT, "stdout"));
                input
            }
            None => {
                if let Some(o) = out {
                    sources.push(source(o, STDOUT, "stdout"));
                }
                if let Some(e) = err {
                    sources.push(source(e, STDERR, "stderr"));
                }
                stdin.map(|fd| {
                    let _ = sys::set_nonblocking(fd.as_fd());
                    File::from(fd)
                })
            }
        };
        let listener = listen.map(UnixListener::from);
        if let Some(l) = &listener {
            let _ = l.set_nonblocking(true);
        }
        Self {
            sources,
            input_to,
            is_pty,
            pending: Vec::new(),
            listener,
            clients: client
                .map(|c| Client::new(UnixStream::from(c)))
                .into_iter()
                .collect(),
            held: Vec::new(),
            log,
            buf: Vec::new(),
        }
    }

    fn output_done(&self) -> bool {
        self.sources.iter().all(|s| s.file.is_none())
    }

    fn register(&mut self, add: &mut impl FnMut(i32, i16, Tag)) {
        self.clients.retain(|c| !c.dead);
        for (i, s) in self.sources.iter().enumerate() {
            if let Some(f) = &s.file {
                add(f.as_raw_fd(), libc::POLLIN, Tag::Source(i));
            }
        }
        if let (Some(t), false) = (&self.input_to, self.pending.is_empty()) {
            add(t.as_raw_fd(), libc::POLLOUT, Tag::Input);
        }
        if let Some(l) = &self.listener {
            add(l.as_raw_fd(), libc::POLLIN, Tag::Listen);
        }
        self.held.retain(Option::is_some);
        for (i, h) in self.held.iter().enumerate() {
            if let Some(f) = h {
                add(f.as_raw_fd(), libc::POLLIN, Tag::Held(i));
            }
        }
        for (i, c) in self.clients.iter().enumerate() {
            let mut ev = 0;
            if self.pending.len() < MAX_PENDING_INPUT {
                ev |= libc::POLLIN;
            }
            if !c.queued.is_empty() {
                ev |= libc::POLLOUT;
            }
            add(c.sock.as_raw_fd(), ev, Tag::Client(i));
        }
    }

    fn handle(&mut self, tag: Tag, revents: i16) {
        if self.buf.is_empty() {
            self.buf = vec![0u8; 16 * 1024];
        }
        match tag {
            Tag::Source(i) => {
                let s = &mut self.sources[i];
                let Some(f) = s.file.as_mut() else { return };
                match f.read(&mut self.buf) {
                    Ok(0) => {
                        s.split.finish(&mut self.log);
                        s.file = None;
                    }
                    Ok(n) => {
                        s.split.feed(&self.buf[..n], &mut self.log);
                        let fr = frame(s.stream, &self.buf[..n]);
                        for c in &mut self.clients {
                            c.send(&fr);
                        }
                    }
                    Err(e)
                        if e.kind() == std::io::ErrorKind::WouldBlock
                            || e.kind() == std::io::ErrorKind::Interrupted => {}
                    // EIO: every slave of the pty is closed.
                    Err(_) => {
                        s.split.finish(&mut self.log);
                        s.file = None;
                    }
                }
            }
            Tag::Input => {
                if let Some(t) = self.input_to.as_mut() {
                    match t.write(&self.pending) {
                        Ok(n) => {
                            self.pending.drain(..n);
                        }
                        Err(e)
                            if e.kind() == std::io::ErrorKind::WouldBlock
                                || e.kind() == std::io::ErrorKind::Interrupted => {}
                        // The container closed its stdin.
                        Err(_) => {
                            self.pending.clear();
                            if !self.is_pty {
                                self.input_to = None;
                            }
                        }
                    }
                }
            }
            Tag::Listen => {
                if let Some(l) = &self.listener {
                    loop {
                        match l.accept() {
                            Ok((s, _)) => self.clients.push(Client::new(s)),
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => {}
                            // Out of fds (EMFILE...): the listener would stay
                            // readable and spin; no new clients.
                            Err(_) => {
                                self.listener = None;
                                break;
                            }
                        }
                    }
                }
            }
            Tag::Client(i) => {
                let c = &mut self.clients[i];
                if revents & libc::POLLOUT != 0 {
                    c.flush();
                }
                if revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
                    match sys::recv_with_fds(c.sock.as_fd(), &mut self.buf) {
                        Ok((0, _)) => c.dead = true,
                        Ok((n, fds)) => {
                            c.input.extend_from_slice(&self.buf[..n]);
                            c.fds.extend(fds);
                        }
                        Err(e)
                            if e.kind() == std::io::ErrorKind::WouldBlock
                                || e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => c.dead = true,
                    }
                    while let Some((kind, used)) = parse_input(&c.input) {
                        let data = &c.input[5..used];
                        match kind {
                            KIND_STDIN if self.input_to.is_some() => {
                                self.pending.extend_from_slice(data)
                            }
                            KIND_RESIZE if self.is_pty && data.len() == 4 => {
                                if let Some(t) = &self.input_to {
                                    let _ = sys::set_winsize(
                                        t.as_fd(),
                                        u16::from_be_bytes([data[0], data[1]]),
                                        u16::from_be_bytes([data[2], data[3]]),
                                    );
                                }
                            }
                            KIND_HOLD if !c.fds.is_empty() => {
                                let fd = c.fds.remove(0);
                                let _ = sys::set_nonblocking(fd.as_fd());
                                self.held.push(Some(File::from(fd)));
                                c.send(&frame(HELD, b""));
                            }
                            _ => {}
                        }
                        c.input.drain(..used);
                    }
                    if c.input.len() > MAX_PENDING_INPUT + 8 {
                        c.dead = true;
                    }
                }
            }
            Tag::Held(i) => {
                let Some(f) = self.held[i].as_mut() else {
                    return;
                };
                match f.read(&mut self.buf) {
                    Ok(n) if n > 0 => {}
                    Err(e)
                        if e.kind() == std::io::ErrorKind::WouldBlock
                            || e.kind() == std::io::ErrorKind::Interrupted => {}
                    // EIO: the command and everything that shared its
                    // terminal are gone.
                    _ => self.held[i] = None,
                }
            }
            Tag::Signal | Tag::Exit => {}
        }
    }

    fn flush_clients(&mut self) {
        for c in &mut self.clients {
            c.flush();
        }
        if self.pending.is_empty() && self.pending.capacity() > 4096 {
            self.pending = Vec::new();
        }
    }

    /// The container is gone: the rest of the output to the log, what is
    /// queued to the clients (two seconds for all together), then the
    /// clients see the end of the stream.
    fn finish(&mut self) {
        for s in &mut self.sources {
            if s.file.take().is_some() {
                s.split.finish(&mut self.log);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        for c in &mut self.clients {
            let left = deadline.saturating_duration_since(Instant::now());
            if !c.dead && !left.is_zero() {
                let _ = c.sock.set_nonblocking(false);
                let _ = c.sock.set_write_timeout(Some(left));
                let mut rest: &[u8] = &c.queued;
                while !rest.is_empty() && Instant::now() < deadline {
                    match c.sock.write(rest) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => rest = &rest[n..],
                    }
                }
            }
            let _ = c.sock.shutdown(std::net::Shutdown::Both);
        }
        self.clients.clear();
        self.held.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_match_the_attach_protocol() {
        assert_eq!(frame(STDERR, b"x"), [2, 0, 0, 0, 0, 0, 0, 1, b'x']);
        let mut f = vec![KIND_STDIN, 0, 0, 0, 5];
        f.extend_from_slice(b"hello");
        assert_eq!(parse_input(&f), Some((KIND_STDIN, 10)));
        assert_eq!(parse_input(&f[..7]), None);
    }
}
