//! The sandbox: turns an OCI runtime spec into a running, confined process.
//!
//! Process model: the caller clones one child into new namespaces (user,
//! mount, pid, uts, ipc, cgroup, network as the spec lists). The parent
//! writes the id maps (directly for a single id, through newuidmap and
//! newgidmap for a range), then releases the child, which mounts, pivots,
//! confines itself and execs. Setup errors travel back over a sync socket.
//! The parent forwards signals and relays the terminal until the child exits.

pub mod caps;
pub mod channel;
pub mod child;
pub mod exec;
pub mod idmap;
pub mod init;
pub mod landlock;
pub mod mounts;
pub mod seccomp;
pub mod tty;

use std::os::fd::{AsFd, OwnedFd};
use std::process::Command;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use oci_spec::runtime::Spec;

use self::channel::Msg;
use self::idmap::IdMapEntry;
use crate::error::{ExitError, EXIT_CORACLE};
use crate::spec::SandboxOptions;

/// A setup error inside the child, with the exit status coracle ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError {
    pub code: i32,
    pub message: String,
}

impl SetupError {
    pub fn setup(message: String) -> Self {
        Self {
            code: EXIT_CORACLE,
            message,
        }
    }
}

/// Signals `coracle run` passes on to the container (and init to the command).
pub const FORWARDED_SIGNALS: &[Signal] = &[
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGALRM,
    Signal::SIGCONT,
    Signal::SIGWINCH,
];

/// How long a container may take to end after a hangup before it is killed
/// (Docker's default stop timeout).
pub const HANGUP_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// What happened to the container's process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    /// The status coracle ends with: the code, or 128+N for signal N.
    pub code: i32,
    pub pid: i32,
}

/// Hooks the caller gets at the moments it records state.
pub trait Observer {
    /// The command is running as `pid` (host pid). Under `-t`, `master` is
    /// the pty's master: an observer that takes it relays the terminal
    /// itself (the monitor); otherwise `run` relays it to its own stdio.
    fn started(&mut self, pid: i32, master: &mut Option<OwnedFd>);

    /// Where a terminal relayed by `run` itself is copied to as well (the
    /// foreground `run -t`'s log); asked once, after `started`.
    fn tty_copy(&mut self) -> Option<Box<dyn std::io::Write + Send>> {
        None
    }
}

/// Runs the spec's process to completion.
pub fn run(
    spec: &Spec,
    opts: &SandboxOptions,
    observer: &mut dyn Observer,
) -> anyhow::Result<Exit> {
    let (psock, csock) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| anyhow::anyhow!("create the sync socket: {e}"))?;

    // Block the forwarded signals before the clone so none is lost; the
    // child unblocks them right before exec.
    let (mask, restore) = block_signals()?;

    let forked = match &opts.cgroup {
        None => crate::sys::clone3(exec::namespaces_of(spec).bits() as u64),
        Some(dir) => {
            // The child starts in the container's own cgroup (and it is the
            // root of its cgroup namespace).
            let fd = std::fs::File::open(dir).map_err(|e| {
                anyhow::anyhow!("open the container's cgroup {}: {e}", dir.display())
            })?;
            crate::sys::clone3_into_cgroup(exec::namespaces_of(spec).bits() as u64, fd.as_fd()).map_err(
                |e| match e.raw_os_error() {
                    Some(libc::EPERM | libc::ENOSPC) => e,
                    _ => std::io::Error::other(format!(
                        "in the container's cgroup {}: {e}",
                        dir.display()
                    )),
                },
            )
        }
    }
    .map_err(|e| {
        let hint = if e.raw_os_error() == Some(libc::EPERM) || e.raw_os_error() == Some(libc::ENOSPC) {
            ": unprivileged user namespaces are disabled or exhausted; run `coracle check` for the fix"
        } else {
            ""
        };
        anyhow::anyhow!("create the container namespaces: {e}{hint}")
    })?;
    let (pid, pidfd) = match forked {
        crate::sys::Forked::Child => {
            drop(psock);
            child::main(spec, opts, csock)
        }
        crate::sys::Forked::Parent { pid, pidfd } => (pid, pidfd),
    };
    drop(csock);

    let (uid_map, gid_map) = crate::spec::id_maps(spec);
    if let Err(e) = write_id_maps(pid, &uid_map, &gid_map) {
        let _ = crate::sys::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
        let _ = waitpid(pid, None);
        return Err(e);
    }
    // fuse-overlay storage: the daemon joins the child's user and mount
    // namespaces while it waits for Go (still dumpable, so its pidfd may
    // be joined) and mounts the root it will bind; it exits with the child.
    if let Some(l) = &opts.root_fuse {
        if let Err(e) = crate::storage::fuse::start(l, pid.as_raw()) {
            let _ = crate::sys::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
            let _ = waitpid(pid, None);
            return Err(ExitError::new(EXIT_CORACLE, format!("{e:#}")).into());
        }
    }
    channel::send(psock.as_fd(), &Msg::Go, None)?;

    let mut master: Option<OwnedFd> = None;
    let mut failure: Option<(i32, String)> = None;
    // The private network's stack helper: lives as long as this run.
    let mut _net_helper: Option<crate::net::Helper> = None;
    loop {
        match channel::recv(psock.as_fd()) {
            Ok(None) => break,
            Ok(Some((Msg::Pty, fd))) => master = fd,
            Ok(Some((Msg::Tap, fd))) => match start_network(fd, opts) {
                Ok(h) => _net_helper = Some(h),
                Err(e) => {
                    failure = Some((EXIT_CORACLE, format!("{e:#}")));
                    break;
                }
            },
            Ok(Some((Msg::NetTap, fd))) => {
                let sent = match (fd, opts.net.as_ref().and_then(|n| n.named.as_ref())) {
                    (Some(tap), Some(n)) => crate::net::switch::send_tap(n, tap.as_fd()),
                    _ => Err(anyhow::anyhow!(
                        "the sandbox sent a tap device without a named network"
                    )),
                };
                if let Err(e) = sent {
                    failure = Some((EXIT_CORACLE, format!("{e:#}")));
                    break;
                }
            }
            Ok(Some((Msg::Error { code, message }, _))) => failure = Some((code, message)),
            Ok(Some((Msg::Go | Msg::Child { .. }, _))) => {}
            Err(e) => {
                failure.get_or_insert((EXIT_CORACLE, format!("read from the sandbox: {e}")));
                break;
            }
        }
    }
    drop(psock);
    if let Some((code, message)) = failure {
        let _ = crate::sys::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
        let _ = waitpid(pid, None);
        return Err(ExitError::new(code, message).into());
    }
    observer.started(pid.as_raw(), &mut master);
    let copy = master.as_ref().and_then(|_| observer.tty_copy());

    let code = supervise(pid, &pidfd, master, opts.stdin, &mask, None, copy)?;
    drop(restore);
    Ok(Exit {
        code,
        pid: pid.as_raw(),
    })
}

/// Starts the private network's stack helper on the tap the child sent.
fn start_network(
    tap: Option<OwnedFd>,
    opts: &SandboxOptions,
) -> anyhow::Result<crate::net::Helper> {
    let tap = tap.ok_or_else(|| anyhow::anyhow!("the sandbox sent no tap device"))?;
    let cfg = opts.net.as_ref().ok_or_else(|| {
        anyhow::anyhow!("the sandbox sent a tap device without a private network")
    })?;
    crate::net::spawn_helper(tap, cfg)
}

/// Blocks the forwarded signals and SIGCHLD (restored when the guard is
/// dropped), so that none is lost between a clone and the wait loop.
pub(crate) fn block_signals() -> anyhow::Result<(SigSet, RestoreMask)> {
    let mut mask = SigSet::empty();
    for s in FORWARDED_SIGNALS {
        mask.add(*s);
    }
    mask.add(Signal::SIGCHLD);
    let mut old = SigSet::empty();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), Some(&mut old))?;
    Ok((mask, RestoreMask(old)))
}

/// Relays the terminal (`master`), forwards the blocked signals to `pid`
/// and waits for it; the status coracle reports (the code, or 128+N).
/// At `deadline` the process is killed.
pub(crate) fn supervise(
    pid: Pid,
    pidfd: &OwnedFd,
    master: Option<OwnedFd>,
    stdin: bool,
    mask: &SigSet,
    deadline: Option<std::time::Instant>,
    copy: Option<Box<dyn std::io::Write + Send>>,
) -> anyhow::Result<i32> {
    let tty_state = match &master {
        Some(m) => {
            let guard = tty::RawGuard::enter();
            tty::sync_winsize(m);
            let out = tty::relay(m, stdin, copy)?;
            Some((guard, out))
        }
        None => None,
    };

    let sfd = SignalFd::with_flags(mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
    // After a hangup (the caller's terminal is gone), the container gets
    // SIGHUP and HANGUP_GRACE to end; then it is killed, so that nothing is
    // left running without its terminal (a pid 1 without a SIGHUP handler
    // would otherwise ignore it forever).
    let mut kill_at: Option<std::time::Instant> = deadline;
    let status = loop {
        let mut fds = [
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(pidfd.as_fd(), PollFlags::POLLIN),
        ];
        let timeout = match kill_at {
            None => PollTimeout::NONE,
            Some(t) => {
                let ms = t
                    .saturating_duration_since(std::time::Instant::now())
                    .as_millis();
                PollTimeout::try_from(ms.min(60_000) as i32).unwrap_or(PollTimeout::ZERO)
            }
        };
        match poll(&mut fds, timeout) {
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(anyhow::anyhow!("wait for the container: {e}")),
            Ok(_) => {}
        }
        if fds[1].any().unwrap_or(false) {
            break waitpid(pid, None)?;
        }
        if kill_at.is_some_and(|t| std::time::Instant::now() >= t) {
            let _ = crate::sys::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
            kill_at = None;
        }
        while let Ok(Some(info)) = sfd.read_signal() {
            let Ok(sig) = Signal::try_from(info.ssi_signo as i32) else {
                continue;
            };
            match sig {
                Signal::SIGCHLD => {}
                Signal::SIGWINCH => {
                    if let Some(m) = &master {
                        tty::sync_winsize(m);
                    }
                }
                _ => {
                    let _ = crate::sys::pidfd_send_signal(pidfd.as_fd(), sig as i32);
                    if sig == Signal::SIGHUP {
                        let grace = std::time::Instant::now() + HANGUP_GRACE;
                        kill_at = Some(kill_at.map_or(grace, |t| t.min(grace)));
                    }
                }
            }
        }
    };
    if let Some((guard, out)) = tty_state {
        let _ = out.join();
        drop(guard);
    }
    match status {
        WaitStatus::Exited(_, c) => Ok(c),
        WaitStatus::Signaled(_, s, _) => Ok(128 + s as i32),
        other => Err(anyhow::anyhow!("unexpected wait status {other:?}")),
    }
}

pub(crate) struct RestoreMask(SigSet);

impl Drop for RestoreMask {
    fn drop(&mut self) {
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.0), None);
    }
}

/// Whether a map is the caller's own id alone, which needs no helper.
fn is_self_only(map: &[IdMapEntry], own: u32) -> bool {
    map.len() == 1 && map[0].size == 1 && map[0].host == own
}

pub(crate) fn write_id_maps(
    pid: Pid,
    uid_map: &[IdMapEntry],
    gid_map: &[IdMapEntry],
) -> anyhow::Result<()> {
    let uid = nix::unistd::getuid().as_raw();
    let gid = nix::unistd::getgid().as_raw();
    let proc_ = format!("/proc/{pid}");
    if is_self_only(uid_map, uid) && is_self_only(gid_map, gid) {
        let w = |file: &str, data: &str| -> anyhow::Result<()> {
            std::fs::write(format!("{proc_}/{file}"), data)
                .map_err(|e| anyhow::anyhow!("write {proc_}/{file}: {e}"))
        };
        w("setgroups", "deny")?;
        w("uid_map", &idmap::render_map(uid_map))?;
        w("gid_map", &idmap::render_map(gid_map))?;
        return Ok(());
    }
    // Both helpers run at once: each is a setuid exec, the slowest part of
    // starting a container with a full range.
    let mut running = Vec::new();
    for (helper, map, file) in [
        ("newuidmap", uid_map, "/etc/subuid"),
        ("newgidmap", gid_map, "/etc/subgid"),
    ] {
        let path = idmap::find_helper(helper).ok_or_else(|| {
            anyhow::anyhow!("{helper} is not installed (or not setuid): install the uidmap package, or remove your {file} entry to use a single id")
        })?;
        let mut cmd = Command::new(&path);
        cmd.arg(pid.as_raw().to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        for e in map {
            cmd.args([
                e.container.to_string(),
                e.host.to_string(),
                e.size.to_string(),
            ]);
        }
        let child = cmd
            .spawn()
            .map_err(|e| anyhow::anyhow!("run {}: {e}", path.display()))?;
        running.push((helper, map, file, child));
    }
    for (helper, map, file, child) in running {
        let out = child
            .wait_with_output()
            .map_err(|e| anyhow::anyhow!("wait for {helper}: {e}"))?;
        if !out.status.success() {
            return Err(anyhow::anyhow!(
                "{helper} refused the map {}: {}; check your entry in {file} (`coracle check` shows it)",
                map.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_only_maps_need_no_helper() {
        let one = [IdMapEntry {
            container: 0,
            host: 1000,
            size: 1,
        }];
        assert!(is_self_only(&one, 1000));
        assert!(!is_self_only(&one, 1001));
        let two = [
            one[0],
            IdMapEntry {
                container: 1,
                host: 100000,
                size: 65536,
            },
        ];
        assert!(!is_self_only(&two, 1000));
    }
}
