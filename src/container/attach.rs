//! Attaching to a detached container: the monitor's side (it owns the
//! container's stdio: the log pipes or the pty master, and the stdin pipe)
//! and the client's side (`attach`, `start -a`).
//!
//! The monitor listens on `attach.sock` in the container's runtime
//! directory (0700, so only the user connects). One I/O thread of the
//! monitor polls the container's output, the listener and every client:
//! output goes to the log and, framed, to each client; clients send stdin
//! and window sizes. A client that does not read is dropped once 1 MiB is
//! queued for it, so it never stalls the container.
//!
//! Frames, monitor -> client (Docker's stdcopy format): `[stream, 0, 0, 0,
//! len: u32 BE]` + data, stream 1 = stdout, 2 = stderr (a terminal's output
//! is all stdout). Client -> monitor: `[kind, len: u32 BE]` + data, kind 0 =
//! stdin bytes, 1 = window size (rows, cols: u16 BE), 2 = hold the
//! terminal sent with this frame (SCM_RIGHTS: the master of an `exec -d
//! -t` command's pty), answered with an empty frame of stream 4.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;

use anyhow::{bail, Context};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::logs::{LineSplitter, RotatingLog};

pub const SOCKET: &str = "attach.sock";
const MAX_QUEUED: usize = 1 << 20;
const MAX_PENDING_INPUT: usize = 64 * 1024;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
/// The monitor's last word to a client it drops (it fell too far behind).
const DROPPED: u8 = 3;
const KIND_STDIN: u8 = 0;
const KIND_RESIZE: u8 = 1;
const KIND_HOLD: u8 = 2;
/// The monitor's answer to `KIND_HOLD`: it holds the terminal now.
const HELD: u8 = 4;

/// Docker's default detach sequence: ctrl-p, ctrl-q.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// The socket's path through a directory fd (`/proc/self/fd/N/attach.sock`):
/// short enough for `sun_path` however long the runtime directory is.
fn via_fd(id: &str) -> anyhow::Result<(OwnedFd, PathBuf)> {
    let dir = super::runtime_path_of(id)?;
    let fd: OwnedFd = File::open(&dir)
        .with_context(|| format!("open {}", dir.display()))?
        .into();
    let p = PathBuf::from(format!("/proc/self/fd/{}/{SOCKET}", fd.as_raw_fd()));
    Ok((fd, p))
}

/// The monitor's listener (a stale socket of an earlier monitor is
/// replaced: only the lock holder binds).
pub fn listen(id: &str) -> anyhow::Result<UnixListener> {
    let (_dir, path) = via_fd(id)?;
    let _ = std::fs::remove_file(&path);
    let l = UnixListener::bind(&path).context("listen for attach clients")?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Connects to the monitor of container `id`.
pub fn connect(id: &str) -> std::io::Result<UnixStream> {
    let (_dir, path) = via_fd(id).map_err(std::io::Error::other)?;
    UnixStream::connect(path)
}

/// Waits up to `timeout` for one client (`start -a` connects before the
/// container starts, so it sees all of its output).
pub fn accept_first(l: &UnixListener, timeout: std::time::Duration) -> Option<UnixStream> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match l.accept() {
            Ok((s, _)) => return Some(s),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return None,
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return None;
        }
        let mut fds = [PollFd::new(l.as_fd(), PollFlags::POLLIN)];
        let ms = left.as_millis().min(1000) as u16;
        let _ = poll(&mut fds, PollTimeout::from(ms));
    }
}

fn frame(stream: u8, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + data.len());
    v.extend_from_slice(&[stream, 0, 0, 0]);
    v.extend_from_slice(&(data.len() as u32).to_be_bytes());
    v.extend_from_slice(data);
    v
}

fn input_frame(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(5 + data.len());
    v.push(kind);
    v.extend_from_slice(&(data.len() as u32).to_be_bytes());
    v.extend_from_slice(data);
    v
}

/// What the container writes to.
pub enum Output {
    /// stdout and stderr pipes.
    Pipes(OwnedFd, OwnedFd),
    /// The pty master (output and input).
    Pty(OwnedFd),
    /// A terminal someone else reads (a foreground `run -t` relays it to
    /// its own terminal): its output comes as a copy on `out`, clients'
    /// input and window sizes go to `master`. The master is left blocking
    /// (its open file is shared with that reader); input is written only
    /// when poll says there is room.
    Tee { out: OwnedFd, master: OwnedFd },
}

/// One output of the container: its file (until it ends), the stream it
/// is, and the log's line splitter for it.
type Source = (Option<File>, u8, LineSplitter);

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
    }
}

fn set_nonblocking(fd: &OwnedFd) {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    if let Ok(fl) = fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL) {
        let fl = OFlag::from_bits_truncate(fl) | OFlag::O_NONBLOCK;
        let _ = fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(fl));
    }
}

/// Where a foreground `run` shows the container's output (its own stdout
/// and stderr, as far as `-a` attaches them).
#[derive(Default)]
pub struct Local {
    pub out: Option<File>,
    pub err: Option<File>,
}

/// The monitor's I/O thread for one run of the container: until the
/// container's output ends, copies it into the log, to `local` (a
/// foreground `run`'s own stdio) and to the attached clients, and their
/// input to the container. Returns the log.
pub fn relay(
    output: Output,
    stdin: Option<OwnedFd>,
    mut listener: Option<UnixListener>,
    first: Option<UnixStream>,
    mut log: RotatingLog,
    mut local: Local,
) -> RotatingLog {
    // A blocking master gets small writes: one poll's room (a pty takes
    // up to 64 KiB of input before a writer blocks).
    let write_cap = if matches!(output, Output::Tee { .. }) {
        4096
    } else {
        usize::MAX
    };
    let (mut sources, input_to): (Vec<Source>, Option<File>) = match output {
        Output::Pipes(out, err) => (
            vec![
                (Some(File::from(out)), STDOUT, LineSplitter::new("stdout")),
                (Some(File::from(err)), STDERR, LineSplitter::new("stderr")),
            ],
            stdin.map(|fd| {
                set_nonblocking(&fd);
                File::from(fd)
            }),
        ),
        Output::Tee { out, master } => {
            set_nonblocking(&out);
            (
                vec![(Some(File::from(out)), STDOUT, LineSplitter::new("stdout"))],
                Some(File::from(master)),
            )
        }
        Output::Pty(master) => {
            set_nonblocking(&master);
            let input = master.try_clone().ok().map(File::from);
            (
                vec![(
                    Some(File::from(master)),
                    STDOUT,
                    LineSplitter::new("stdout"),
                )],
                input,
            )
        }
    };
    let is_pty = sources.len() == 1;
    let mut input_to = input_to;
    let mut clients: Vec<Client> = first.into_iter().map(Client::new).collect();
    let mut pending: Vec<u8> = Vec::new();
    // The terminals of `exec -d -t` commands, held open (no SIGHUP for
    // their session) and drained (output discarded, as Docker does) until
    // every slave is closed.
    let mut held: Vec<File> = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if sources.iter().all(|s| s.0.is_none()) {
            break;
        }
        clients.retain(|c| !c.dead);
        let mut fds: Vec<PollFd> = Vec::new();
        let mut what: Vec<(u8, usize)> = Vec::new(); // (kind, index)
        for (i, s) in sources.iter().enumerate() {
            if let Some(f) = &s.0 {
                fds.push(PollFd::new(f.as_fd(), PollFlags::POLLIN));
                what.push((0, i));
            }
        }
        if let (Some(t), false) = (&input_to, pending.is_empty()) {
            fds.push(PollFd::new(t.as_fd(), PollFlags::POLLOUT));
            what.push((1, 0));
        }
        if let Some(l) = &listener {
            fds.push(PollFd::new(l.as_fd(), PollFlags::POLLIN));
            what.push((2, 0));
        }
        for (i, c) in clients.iter().enumerate() {
            let mut ev = PollFlags::empty();
            if pending.len() < MAX_PENDING_INPUT {
                ev |= PollFlags::POLLIN;
            }
            if !c.queued.is_empty() {
                ev |= PollFlags::POLLOUT;
            }
            fds.push(PollFd::new(c.sock.as_fd(), ev));
            what.push((3, i));
        }
        for (i, h) in held.iter().enumerate() {
            fds.push(PollFd::new(h.as_fd(), PollFlags::POLLIN));
            what.push((4, i));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::Error::EINTR) => continue,
            Err(_) => break,
            Ok(_) => {}
        }
        let ready: Vec<(u8, usize, PollFlags)> = fds
            .iter()
            .zip(&what)
            .filter_map(|(f, (k, i))| {
                let r = f.revents().unwrap_or(PollFlags::empty());
                (!r.is_empty()).then_some((*k, *i, r))
            })
            .collect();
        drop(fds);
        let mut held_done: Vec<usize> = Vec::new();
        for (kind, i, rev) in ready {
            match kind {
                0 => {
                    let (file, stream, splitter) = &mut sources[i];
                    let Some(f) = file.as_mut() else { continue };
                    match f.read(&mut buf) {
                        Ok(0) => {
                            let _ = splitter.finish(&mut log);
                            *file = None;
                        }
                        Ok(n) => {
                            // A full disk must not stop the container.
                            let _ = splitter.feed(&buf[..n], &mut log);
                            let sink = if *stream == STDERR {
                                &mut local.err
                            } else {
                                &mut local.out
                            };
                            // A closed stdout (`| head`) only stops the
                            // copy there; the container and log go on.
                            if sink
                                .as_mut()
                                .is_some_and(|f| f.write_all(&buf[..n]).is_err())
                            {
                                *sink = None;
                            }
                            let fr = frame(*stream, &buf[..n]);
                            for c in &mut clients {
                                c.send(&fr);
                            }
                        }
                        Err(e)
                            if e.kind() == std::io::ErrorKind::WouldBlock
                                || e.kind() == std::io::ErrorKind::Interrupted => {}
                        // EIO: every slave of the pty is closed.
                        Err(_) => {
                            let _ = splitter.finish(&mut log);
                            *file = None;
                        }
                    }
                }
                1 => {
                    if let Some(t) = input_to.as_mut() {
                        match t.write(&pending[..pending.len().min(write_cap)]) {
                            Ok(n) => {
                                pending.drain(..n);
                            }
                            Err(e)
                                if e.kind() == std::io::ErrorKind::WouldBlock
                                    || e.kind() == std::io::ErrorKind::Interrupted => {}
                            // The container closed its stdin.
                            Err(_) => {
                                pending.clear();
                                if !is_pty {
                                    input_to = None;
                                }
                            }
                        }
                    }
                }
                2 => {
                    if let Some(l) = &listener {
                        loop {
                            match l.accept() {
                                Ok((s, _)) => clients.push(Client::new(s)),
                                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                                Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => {}
                                // Out of fds (EMFILE...): the listener would
                                // stay readable and spin; no new clients
                                // for this run.
                                Err(_) => {
                                    listener = None;
                                    break;
                                }
                            }
                        }
                    }
                }
                4 => {
                    match held[i].read(&mut buf) {
                        Ok(n) if n > 0 => {}
                        Err(e)
                            if e.kind() == std::io::ErrorKind::WouldBlock
                                || e.kind() == std::io::ErrorKind::Interrupted => {}
                        // EIO: the command and all that shared its
                        // terminal are gone.
                        _ => held_done.push(i),
                    }
                }
                _ => {
                    let c = &mut clients[i];
                    if rev.contains(PollFlags::POLLOUT) {
                        c.flush();
                    }
                    if rev.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR) {
                        match crate::sys::recv_with_fd(c.sock.as_fd(), &mut buf) {
                            Ok((0, _)) => c.dead = true,
                            Ok((n, fd)) => {
                                c.input.extend_from_slice(&buf[..n]);
                                c.fds.extend(fd);
                            }
                            Err(e)
                                if e.kind() == std::io::ErrorKind::WouldBlock
                                    || e.kind() == std::io::ErrorKind::Interrupted => {}
                            Err(_) => c.dead = true,
                        }
                        while let Some((k, data, used)) = parse_input(&c.input) {
                            match k {
                                KIND_STDIN if input_to.is_some() => {
                                    pending.extend_from_slice(&data)
                                }
                                KIND_RESIZE if is_pty && data.len() == 4 => {
                                    if let Some(t) = &input_to {
                                        let ws = libc::winsize {
                                            ws_row: u16::from_be_bytes([data[0], data[1]]),
                                            ws_col: u16::from_be_bytes([data[2], data[3]]),
                                            ws_xpixel: 0,
                                            ws_ypixel: 0,
                                        };
                                        let _ = crate::sys::set_winsize(t.as_raw_fd(), &ws);
                                    }
                                }
                                KIND_HOLD if !c.fds.is_empty() => {
                                    let fd = c.fds.remove(0);
                                    set_nonblocking(&fd);
                                    held.push(File::from(fd));
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
            }
        }
        for c in &mut clients {
            c.flush();
        }
        for i in held_done.into_iter().rev() {
            held.swap_remove(i);
        }
    }
    // The container is gone: what is queued goes out (within two seconds
    // for all clients together), then the clients see the end of the
    // stream.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    for c in &mut clients {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if !c.dead && !left.is_zero() {
            let _ = c.sock.set_nonblocking(false);
            let _ = c.sock.set_write_timeout(Some(left));
            let mut rest: &[u8] = &c.queued;
            while !rest.is_empty() && std::time::Instant::now() < deadline {
                match c.sock.write(rest) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => rest = &rest[n..],
                }
            }
        }
        let _ = c.sock.shutdown(std::net::Shutdown::Both);
    }
    log
}

/// `exec -d -t`: gives the master of the command's terminal to the
/// monitor of container `id` (the shim, or the foreground `run`), which
/// holds it, and drains it, until the command's terminal is closed.
pub fn hand_over_tty(id: &str, master: &OwnedFd) -> anyhow::Result<()> {
    let sock = connect(id).context("connect to the container's monitor")?;
    crate::sys::send_with_fd(
        sock.as_fd(),
        &input_frame(KIND_HOLD, b""),
        Some(master.as_fd()),
    )
    .context("send the terminal to the container's monitor")?;
    sock.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    // Output frames may come first: this is an attach client too.
    let mut r = std::io::BufReader::new(&sock);
    let mut head = [0u8; 8];
    loop {
        r.read_exact(&mut head)
            .context("the container's monitor did not take the terminal")?;
        let len = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as u64;
        if head[0] == HELD {
            return Ok(());
        }
        std::io::copy(&mut (&mut r).take(len), &mut std::io::sink())?;
    }
}

/// One complete client frame at the start of `b`: (kind, data, bytes used).
fn parse_input(b: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    if b.len() < 5 {
        return None;
    }
    let len = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize;
    if b.len() < 5 + len {
        return None;
    }
    Some((b[0], b[5..5 + len].to_vec(), 5 + len))
}

/// Parses Docker's `--detach-keys` (`ctrl-p,ctrl-q`, `ctrl-a`, `a,b`).
pub fn parse_detach_keys(s: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let b = part.as_bytes();
        if let Some(rest) = part.strip_prefix("ctrl-") {
            let c = rest.as_bytes();
            match c {
                [c @ b'a'..=b'z'] => out.push(c - b'a' + 1),
                [b'@'] => out.push(0),
                [b'['] => out.push(27),
                [b'\\'] => out.push(28),
                [b']'] => out.push(29),
                [b'^'] => out.push(30),
                [b'_'] => out.push(31),
                _ => bail!(
                    "invalid detach keys {s:?}: {part:?} is not ctrl-a..ctrl-z, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^ or ctrl-_"
                ),
            }
        } else if b.len() == 1 && b[0].is_ascii_graphic() {
            out.push(b[0]);
        } else {
            bail!("invalid detach keys {s:?}: {part:?} is not a single character or ctrl-KEY");
        }
    }
    if out.is_empty() {
        bail!("invalid detach keys {s:?}: give keys such as ctrl-p,ctrl-q");
    }
    Ok(out)
}

/// Finds the detach sequence in what the user types, holding back a
/// partial match until it completes or breaks (then it is sent on).
pub struct DetachMatcher {
    keys: Vec<u8>,
    held: usize,
}

impl DetachMatcher {
    pub fn new(keys: Vec<u8>) -> Self {
        Self { keys, held: 0 }
    }

    /// The bytes to send on, and whether the sequence was completed.
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if b == self.keys[self.held] {
                self.held += 1;
                if self.held == self.keys.len() {
                    return (out, true);
                }
            } else {
                out.extend_from_slice(&self.keys[..self.held]);
                self.held = 0;
                if b == self.keys[0] {
                    self.held = 1;
                    if self.keys.len() == 1 {
                        return (out, true);
                    }
                } else {
                    out.push(b);
                }
            }
        }
        (out, false)
    }
}

/// How an attach session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The container's output ended (it stopped).
    Stopped,
    /// The monitor dropped us: we fell more than 1 MiB behind its output.
    Dropped,
    /// The user typed the detach sequence.
    Detached,
}

/// The client: relays the caller's stdio to an attached container until
/// its output ends or the user detaches. `tty`: the container has a
/// terminal (the caller's goes raw, window sizes follow); `stdin`: the
/// caller's input goes to the container; `sig_proxy`: (without a
/// terminal) signals the caller gets go to the process behind this pidfd.
pub fn client(
    sock: UnixStream,
    tty: bool,
    stdin: bool,
    detach_keys: &[u8],
    sig_proxy: Option<OwnedFd>,
) -> anyhow::Result<Ended> {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal};
    use nix::sys::signalfd::{SfdFlags, SignalFd};

    let mut mask = SigSet::empty();
    if tty {
        mask.add(Signal::SIGWINCH);
    } else if sig_proxy.is_some() {
        for s in crate::sandbox::FORWARDED_SIGNALS {
            mask.add(*s);
        }
    }
    let mut old = SigSet::empty();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), Some(&mut old))?;
    struct Restore(SigSet);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.0), None);
        }
    }
    let _restore = Restore(old);
    let sfd = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;

    let _raw = (tty && stdin).then(crate::sandbox::tty::RawGuard::enter);
    let mut writer = sock.try_clone()?;
    let send_size = |w: &mut UnixStream| {
        for fd in [0, 1, 2] {
            if let Ok(ws) = crate::sys::get_winsize(fd) {
                let mut d = ws.ws_row.to_be_bytes().to_vec();
                d.extend_from_slice(&ws.ws_col.to_be_bytes());
                let _ = w.write_all(&input_frame(KIND_RESIZE, &d));
                return;
            }
        }
    };
    if tty {
        send_size(&mut writer);
    }
    let mut matcher = DetachMatcher::new(detach_keys.to_vec());
    let mut reader = sock;
    let mut inbuf: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut stdin_open = stdin;
    let stdin_fd = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr();
    loop {
        let mut fds = vec![
            PollFd::new(reader.as_fd(), PollFlags::POLLIN),
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
        ];
        if stdin_open {
            fds.push(PollFd::new(stdin_fd.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::Error::EINTR) => continue,
            Err(e) => bail!("wait for the container: {e}"),
            Ok(_) => {}
        }
        let ready = |i: usize| {
            fds.get(i)
                .and_then(|f| f.revents())
                .is_some_and(|r| !r.is_empty())
        };
        let (sock_ready, sig_ready, in_ready) = (ready(0), ready(1), ready(2));
        drop(fds);
        if sig_ready {
            while let Ok(Some(info)) = sfd.read_signal() {
                let Ok(sig) = Signal::try_from(info.ssi_signo as i32) else {
                    continue;
                };
                if sig == Signal::SIGWINCH {
                    send_size(&mut writer);
                } else if let Some(fd) = &sig_proxy {
                    let _ = crate::sys::pidfd_send_signal(fd.as_fd(), sig as i32);
                }
            }
        }
        if in_ready {
            let n = match nix::unistd::read(stdin_fd.as_raw_fd(), &mut buf) {
                Ok(n) => n,
                Err(nix::Error::EINTR) | Err(nix::Error::EAGAIN) => continue,
                Err(_) => 0,
            };
            if n == 0 {
                stdin_open = false;
            } else {
                let (data, detached) = matcher.feed(&buf[..n]);
                if !data.is_empty() && writer.write_all(&input_frame(KIND_STDIN, &data)).is_err() {
                    stdin_open = false;
                }
                if detached {
                    return Ok(Ended::Detached);
                }
            }
        }
        if sock_ready {
            let n = match reader.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => 0,
            };
            if n == 0 {
                return Ok(Ended::Stopped);
            }
            inbuf.extend_from_slice(&buf[..n]);
            while inbuf.len() >= 8 {
                let len = u32::from_be_bytes([inbuf[4], inbuf[5], inbuf[6], inbuf[7]]) as usize;
                if inbuf.len() < 8 + len {
                    break;
                }
                let data = &inbuf[8..8 + len];
                if inbuf[0] == DROPPED {
                    return Ok(Ended::Dropped);
                }
                let _ = if inbuf[0] == STDERR && !tty {
                    err.write_all(data).and_then(|_| err.flush())
                } else {
                    out.write_all(data).and_then(|_| out.flush())
                };
                inbuf.drain(..8 + len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_like_docker() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), [16, 17]);
        assert_eq!(parse_detach_keys("ctrl-a").unwrap(), [1]);
        assert_eq!(parse_detach_keys("a,ctrl-[").unwrap(), [b'a', 27]);
        assert!(parse_detach_keys("ctrl-").is_err());
        assert!(parse_detach_keys("ctrl-1").is_err());
        assert!(parse_detach_keys("ab").is_err());
        assert!(parse_detach_keys("").is_err());
    }

    #[test]
    fn the_matcher_holds_back_a_partial_sequence() {
        let mut m = DetachMatcher::new(vec![16, 17]);
        assert_eq!(m.feed(b"ab"), (b"ab".to_vec(), false));
        assert_eq!(m.feed(&[16]), (vec![], false));
        // Broken: the held key goes out with what broke it.
        assert_eq!(m.feed(b"x"), (vec![16, b'x'], false));
        assert_eq!(m.feed(&[16, 16]), (vec![16], false));
        assert_eq!(m.feed(&[17, b'z']), (vec![], true));
        let mut one = DetachMatcher::new(vec![1]);
        assert_eq!(one.feed(b"ab\x01c"), (b"ab".to_vec(), true));
    }

    #[test]
    fn frames_round_trip() {
        let f = input_frame(KIND_STDIN, b"hello");
        assert_eq!(parse_input(&f), Some((KIND_STDIN, b"hello".to_vec(), 10)));
        assert_eq!(parse_input(&f[..7]), None);
        let o = frame(STDERR, b"x");
        assert_eq!(o, [2, 0, 0, 0, 0, 0, 0, 1, b'x']);
    }
}
