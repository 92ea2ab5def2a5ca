//! `coracle exec`: a new process inside a running container, with the
//! container's confinement.
//!
//! Process model. A process cannot change its own pid namespace, so joining
//! takes two steps:
//!
//! 1. coracle (P, on the host, single-threaded) clones an intermediate (I).
//! 2. I makes itself non-dumpable (inherited by everything it forks, so no
//!    process of the container can ever ptrace or open /proc/PID of what
//!    comes next: its mm belongs to the host's user namespace), then joins
//!    every namespace of the target process at once: `setns(pidfd, flags)`,
//!    the user namespace first, which gives I the capabilities to join the
//!    others; the mount namespace puts I's root and cwd at the container's
//!    root.
//! 3. I clones the exec process (C) with `CLONE_PARENT`, so C is P's child
//!    (P waits for it and forwards signals with its pidfd) and, being cloned
//!    after the setns, lives in the container's pid namespace. I sends C's
//!    pid and pidfd to P over the sync socket and exits.
//! 4. C sets up stdio (a pty on the container's own devpts with `-t`, its
//!    master sent to P), resolves `-u` in the container's /etc/passwd,
//!    enters the working directory (never created, as Docker), applies the
//!    container's bounding set, user, groups, capability sets and
//!    no_new_privs, closes every fd >= 3 on exec, installs the container's
//!    seccomp filter (config.json's `linux.seccomp`), and execs.
//!
//! The target is normally the container's pid 1. Under `--init` pid 1 is
//! coracle's own non-dumpable init, which nobody may join (that is the
//! point of making it non-dumpable); the caller then passes a descendant.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::sched::CloneFlags;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::sys::wait::waitpid;
use oci_spec::runtime::{LinuxNamespaceType, Process, Spec, UserBuilder};

use super::channel::{self, Msg};
use super::idmap::IdMapEntry;
use super::{child, SetupError};
use crate::error::{ExitError, EXIT_CANNOT_EXEC, EXIT_CORACLE};

/// What `exec` was asked beyond the process itself.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// Keep stdin open (`-i`).
    pub stdin: bool,
    /// Do not wait (`-d`): stdio on /dev/null, coracle returns at once.
    pub detach: bool,
    /// `-u`: resolved in the container's /etc/passwd and /etc/group.
    pub user: Option<String>,
    /// Whether the caller gave HOME (`-e HOME=...`): otherwise `-u` sets it
    /// to the user's home, as runc does.
    pub home_given: bool,
    /// Kill the command after this long (health checks' timeout).
    pub kill_after: Option<std::time::Duration>,
    /// The container's id maps (`spec::id_maps`), to check `-u` against.
    pub uid_map: Vec<IdMapEntry>,
    pub gid_map: Vec<IdMapEntry>,
    /// The container's own cgroup, if it has one: the intermediate is
    /// cloned into it when the caller may move a process there (its cgroup
    /// and the container's share a delegated ancestor), so the command is
    /// frozen and killed with the container; otherwise it stays in the
    /// caller's cgroup.
    pub cgroup: Option<std::path::PathBuf>,
    /// The container's seccomp profile (`linux.seccomp` of its config.json).
    pub seccomp: Option<oci_spec::runtime::LinuxSeccomp>,
    /// The container's landlock rules (its config.json's annotation).
    pub landlock: Option<super::landlock::LandlockPlan>,
    /// The command gets our own stdio as its own, also with `detach` (the
    /// OCI runtime's exec: the engine passes the pipes it reads).
    pub inherit_stdio: bool,
    /// Under a terminal, send the pty master to this socket (SCM_RIGHTS,
    /// as runc's `--console-socket`) instead of relaying it.
    pub console_socket: Option<std::path::PathBuf>,
    /// Write the command's host pid here once it exists.
    pub pid_file: Option<std::path::PathBuf>,
}

/// The namespaces `exec` joins: those the container was created with.
pub fn namespaces_of(spec: &Spec) -> CloneFlags {
    let ns = spec.linux().as_ref().and_then(|l| l.namespaces().as_ref());
    let mut f = CloneFlags::empty();
    for n in ns.into_iter().flatten().filter(|n| n.path().is_none()) {
        f |= match n.typ() {
            LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
            LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
            LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
            LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
            LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
            LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
            LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
            LinuxNamespaceType::Time => CloneFlags::empty(),
        };
    }
    f
}

/// Runs `process` in the namespaces of the process behind `target`; its
/// exit status (the code, or 128+N), or 0 at once under `detach`.
/// `hold_tty`: under `detach` with a terminal, gives its master to
/// whoever keeps it open for the command's life (the container's monitor);
/// if that fails the command is killed and the error returned.
pub fn exec(
    target: &OwnedFd,
    namespaces: CloneFlags,
    process: &Process,
    opts: &ExecOptions,
    hold_tty: &dyn Fn(&OwnedFd) -> anyhow::Result<()>,
) -> anyhow::Result<i32> {
    let (psock, csock) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| anyhow::anyhow!("create the sync socket: {e}"))?;
    // Without a terminal the command's stdio are pipes that we copy, as
    // Docker's are: our own stdio (often the user's terminal) never
    // reaches the container, where any process could keep it.
    let pipes = if opts.detach || opts.inherit_stdio || process.terminal().unwrap_or(false) {
        None
    } else {
        Some(StdioPipes::new(opts.stdin)?)
    };
    let (mask, restore) = super::block_signals()?;

    let in_cgroup = opts
        .cgroup
        .as_deref()
        .and_then(|p| std::fs::File::open(p).ok())
        .and_then(|dir| match crate::sys::clone3_into_cgroup(0, dir.as_fd()) {
            // Not allowed from the caller's cgroup (or not supported):
            // nothing was created, clone without it.
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(
                        libc::EACCES
                            | libc::EPERM
                            | libc::ENOENT
                            | libc::EBUSY
                            | libc::EOPNOTSUPP
                            | libc::EINVAL
                    )
                ) =>
            {
                None
            }
            r => Some(r),
        });
    let forked = in_cgroup
        .unwrap_or_else(|| crate::sys::clone3(0))
        .map_err(|e| anyhow::anyhow!("start a process to join the container: {e}"))?;
    let ipid = match forked {
        crate::sys::Forked::Child => {
            drop(psock);
            intermediate(target, namespaces, process, opts, pipes.as_ref(), csock)
        }
        crate::sys::Forked::Parent { pid, .. } => pid,
    };
    drop(csock);
    // Our copies of the command's ends close now, so its output ends with it.
    let copiers = pipes.map(StdioPipes::into_parent);

    let mut child: Option<(nix::unistd::Pid, OwnedFd)> = None;
    let mut master: Option<OwnedFd> = None;
    let mut failure: Option<(i32, String)> = None;
    // The setup is bounded: by --kill-after (health checks), and by the
    // user's Ctrl-C or a SIGTERM (blocked here, so read from a signalfd).
    let setup_deadline = opts.kill_after.map(|d| std::time::Instant::now() + d);
    let sfd = nix::sys::signalfd::SignalFd::with_flags(
        &mask,
        nix::sys::signalfd::SfdFlags::SFD_CLOEXEC | nix::sys::signalfd::SfdFlags::SFD_NONBLOCK,
    )?;
    loop {
        if let Some(why) = setup_interrupted(&psock, &sfd, setup_deadline) {
            failure = Some(why);
            if let Some((_, fd)) = &child {
                let _ = crate::sys::pidfd_send_signal(fd.as_fd(), libc::SIGKILL);
            }
            let _ = nix::sys::signal::kill(ipid, nix::sys::signal::Signal::SIGKILL);
            // C may still be on its way: its pidfd comes in a moment.
            if child.is_none() {
                if let Ok(Some((Msg::Child { pid }, Some(fd)))) = channel::recv(psock.as_fd()) {
                    let _ = crate::sys::pidfd_send_signal(fd.as_fd(), libc::SIGKILL);
                    child = Some((nix::unistd::Pid::from_raw(pid), fd));
                }
            }
            break;
        }
        match channel::recv(psock.as_fd()) {
            Ok(None) => break,
            Ok(Some((Msg::Child { pid }, Some(fd)))) => {
                child = Some((nix::unistd::Pid::from_raw(pid), fd))
            }
            Ok(Some((Msg::Pty, fd))) => master = fd,
            Ok(Some((Msg::Error { code, message }, _))) => failure = Some((code, message)),
            Ok(Some(_)) => {}
            Err(e) => {
                failure.get_or_insert((EXIT_CORACLE, format!("read from the exec process: {e}")));
                break;
            }
        }
    }
    drop(psock);
    let _ = waitpid(ipid, None);
    if let Some((code, message)) = failure {
        if let Some((pid, fd)) = &child {
            let _ = crate::sys::pidfd_send_signal(fd.as_fd(), libc::SIGKILL);
            let _ = waitpid(*pid, None);
        }
        return Err(ExitError::new(code, message).into());
    }
    let Some((pid, pidfd)) = child else {
        return Err(ExitError::new(
            EXIT_CORACLE,
            "the process joining the container ended without a word",
        )
        .into());
    };
    // Only with a console socket is the master handed on (and ours
    // dropped); otherwise it stays for the relay below.
    if let (Some(sock), Some(m)) = (&opts.console_socket, master.as_ref()) {
        if let Err(e) = crate::sandbox::tty::send_to_console_socket(sock, m.as_fd()) {
            let _ = crate::sys::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
            let _ = waitpid(pid, None);
            return Err(e);
        }
        master = None;
    }
    if let Some(p) = &opts.pid_file {
        if let Err(e) = crate::sandbox::tty::write_pid_file(p, pid.as_raw()) {
            let _ = crate::sys::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
            let _ = waitpid(pid, None);
            return Err(e);
        }
    }
    if opts.detach {
        if let Some(m) = &master {
            // `exec -d -t`: the terminal outlives us in the monitor.
            if let Err(e) = hold_tty(m) {
                let _ = crate::sys::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
                let _ = waitpid(pid, None);
                return Err(e);
            }
        }
        // The process runs on; when coracle exits it is reparented (and
        // reaped) by the host's init or subreaper.
        return Ok(0);
    }
    drop(sfd);
    let code = super::supervise(pid, &pidfd, master, opts.stdin, &mask, setup_deadline, None)?;
    drop(restore);
    if let Some(c) = copiers {
        c.finish();
    }
    Ok(code)
}

/// Whether the setup must stop: a signal (Ctrl-C: 130, SIGTERM: 143, ...)
/// or the deadline. Waits until the socket has something to read.
fn setup_interrupted(
    sock: &OwnedFd,
    sfd: &nix::sys::signalfd::SignalFd,
    deadline: Option<std::time::Instant>,
) -> Option<(i32, String)> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    loop {
        let timeout = match deadline {
            None => PollTimeout::NONE,
            Some(t) => {
                let ms = t
                    .saturating_duration_since(std::time::Instant::now())
                    .as_millis();
                if ms == 0 {
                    return Some((137, "the command did not start in time".into()));
                }
                PollTimeout::try_from(ms.min(60_000) as i32).unwrap_or(PollTimeout::ZERO)
            }
        };
        let mut fds = [
            PollFd::new(sock.as_fd(), PollFlags::POLLIN),
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, timeout) {
            Err(nix::Error::EINTR) | Ok(0) => continue,
            Err(_) => return None,
            Ok(_) => {}
        }
        let ready = |i: usize| fds[i].revents().is_some_and(|r| !r.is_empty());
        if ready(1) {
            while let Ok(Some(info)) = sfd.read_signal() {
                let sig = info.ssi_signo as i32;
                if sig != libc::SIGCHLD && sig != libc::SIGWINCH {
                    return Some((128 + sig, "interrupted while joining the container".into()));
                }
            }
        }
        if ready(0) {
            return None;
        }
    }
}

/// The command's stdio without a terminal: pipes whose far ends C puts on
/// its fds 0-2, and whose near ends we copy from and to our own.
struct StdioPipes {
    stdin: Option<(OwnedFd, OwnedFd)>,
    out: (OwnedFd, OwnedFd),
    err: (OwnedFd, OwnedFd),
}

/// Our ends, being copied by threads.
struct Copiers {
    out: std::thread::JoinHandle<()>,
    err: std::thread::JoinHandle<()>,
    /// One message from each copier when it ends.
    ended: std::sync::mpsc::Receiver<()>,
}

impl StdioPipes {
    fn new(stdin: bool) -> anyhow::Result<Self> {
        let p = || nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC);
        Ok(Self {
            stdin: if stdin { Some(p()?) } else { None },
            out: p()?,
            err: p()?,
        })
    }

    /// In C: the pipes on fds 0 (with -i), 1 and 2.
    fn install(&self) -> Result<(), SetupError> {
        use std::os::fd::AsRawFd;
        let e = |err: nix::Error| SetupError::setup(format!("set up stdio: {err}"));
        if let Some((r, _)) = &self.stdin {
            nix::unistd::dup2(r.as_raw_fd(), 0).map_err(e)?;
        }
        nix::unistd::dup2(self.out.1.as_raw_fd(), 1).map_err(e)?;
        nix::unistd::dup2(self.err.1.as_raw_fd(), 2).map_err(e)?;
        Ok(())
    }

    /// In P, once C exists: our stdin is copied into the command's (which
    /// closes at our end of input), its output to our stdout and stderr.
    fn into_parent(self) -> Copiers {
        use std::io::{Read, Write};
        fn copy(mut from: std::fs::File, mut to: impl Write) {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match from.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if to.write_all(&buf[..n]).and_then(|_| to.flush()).is_err() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
        let spawn = |f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(f)
                .expect("spawn a stdio copier")
        };
        if let Some((r, w)) = self.stdin {
            drop(r);
            // Not joined: it may sit in a read of our stdin forever.
            let w = std::fs::File::from(w);
            let _ = std::thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    copy(
                        std::fs::File::from(
                            std::io::stdin()
                                .as_fd()
                                .try_clone_to_owned()
                                .expect("dup stdin"),
                        ),
                        w,
                    )
                });
        }
        let (out_r, out_w) = self.out;
        let (err_r, err_w) = self.err;
        drop((out_w, err_w));
        let (done, ended) = std::sync::mpsc::channel();
        let done2 = done.clone();
        let out = spawn(Box::new(move || {
            copy(std::fs::File::from(out_r), std::io::stdout());
            let _ = done.send(());
        }));
        let err = spawn(Box::new(move || {
            copy(std::fs::File::from(err_r), std::io::stderr());
            let _ = done2.send(());
        }));
        Copiers { out, err, ended }
    }
}

impl Copiers {
    /// Waits for the command's output to end; a process it left in the
    /// background that keeps the pipes open is not waited for long.
    fn finish(self) {
        // Woken by each copier as it ends (no polling interval).
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
        for _ in 0..2 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if self.ended.recv_timeout(left).is_err() {
                break;
            }
        }
        if self.out.is_finished() {
            let _ = self.out.join();
        }
        if self.err.is_finished() {
            let _ = self.err.join();
        }
    }
}

/// I: joins the namespaces, clones C as a sibling, reports it, exits.
fn intermediate(
    target: &OwnedFd,
    namespaces: CloneFlags,
    process: &Process,
    opts: &ExecOptions,
    pipes: Option<&StdioPipes>,
    sock: OwnedFd,
) -> ! {
    let fail = |e: SetupError| -> ! {
        let _ = channel::send(
            sock.as_fd(),
            &Msg::Error {
                code: e.code,
                message: e.message,
            },
            None,
        );
        crate::sys::exit_now(e.code)
    };
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        fail(SetupError::setup(format!(
            "make the process non-dumpable: {e}"
        )));
    }
    if let Err(e) = nix::sched::setns(target, namespaces) {
        fail(SetupError::setup(format!(
            "join the container's namespaces: {}",
            e.desc().to_lowercase()
        )));
    }
    // I was cloned from single-threaded coracle and starts no thread.
    match crate::sys::clone3_single(libc::CLONE_PARENT as u64) {
        Err(e) => fail(SetupError::setup(format!(
            "start the process in the container: {e}"
        ))),
        Ok(crate::sys::Forked::Parent { pid, pidfd }) => {
            let msg = Msg::Child { pid: pid.as_raw() };
            let code = match channel::send(sock.as_fd(), &msg, Some(pidfd.as_fd())) {
                Ok(()) => 0,
                Err(_) => {
                    // Without its pidfd nobody would wait for C.
                    let _ = crate::sys::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
                    EXIT_CORACLE
                }
            };
            crate::sys::exit_now(code)
        }
        Ok(crate::sys::Forked::Child) => {
            let e = match in_container(process, opts, pipes, &sock) {
                Ok(never) => match never {},
                Err(e) => e,
            };
            fail(e)
        }
    }
}

/// C: inside the container; sets up and execs (or returns the error).
fn in_container(
    process: &Process,
    opts: &ExecOptions,
    pipes: Option<&StdioPipes>,
    sock: &OwnedFd,
) -> Result<std::convert::Infallible, SetupError> {
    let sys = |op: &'static str| {
        move |e: nix::Error| SetupError::setup(format!("{op}: {}", e.desc().to_lowercase()))
    };
    let mut process = process.clone();
    if let Some(spec) = &opts.user {
        let (user, home) = resolve_user(spec, opts)?;
        process.set_user(user);
        if !opts.home_given {
            let mut env: Vec<String> = process
                .env()
                .clone()
                .unwrap_or_default()
                .into_iter()
                .filter(|e| !e.starts_with("HOME="))
                .collect();
            env.push(format!("HOME={home}"));
            process.set_env(Some(env));
        }
    }

    if process.terminal().unwrap_or(false) {
        // Under `-d` too: the master goes to P, which hands it on.
        child::setup_tty(sock, false)?;
    } else if opts.detach && !opts.inherit_stdio {
        nix::unistd::setsid().map_err(sys("start a new session"))?;
        let null = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .map_err(|e| SetupError::setup(format!("open /dev/null: {e}")))?;
        for fd in 0..3 {
            nix::unistd::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), fd)
                .map_err(sys("redirect stdio"))?;
        }
    } else {
        nix::unistd::setsid().map_err(sys("start a new session"))?;
        if let Some(p) = pipes {
            p.install()?;
        }
        if !opts.stdin {
            let null = std::fs::File::open("/dev/null")
                .map_err(|e| SetupError::setup(format!("open /dev/null: {e}")))?;
            nix::unistd::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), 0)
                .map_err(sys("redirect stdin"))?;
        }
    }
    child::enter_workdir(&process, false)?;
    // The container's own filter, installed as `run` does.
    super::landlock::apply_rlimits(&process)?;
    let ruleset = super::landlock::before_caps(opts.landlock.as_ref(), &process, true)?;
    let filter = child::seccomp_before_caps(opts.seccomp.as_ref(), &process, false)?;
    super::caps::apply(&process)?;
    child::exec(&process, filter.as_ref(), ruleset)
}

/// `-u USER[:GROUP]` against the container's databases and id map: the
/// identity and the user's home directory.
fn resolve_user(
    spec: &str,
    opts: &ExecOptions,
) -> Result<(oci_spec::runtime::User, String), SetupError> {
    use crate::spec::userdb;
    let root: OwnedFd = std::fs::File::open("/")
        .map_err(|e| SetupError::setup(format!("open /: {e}")))?
        .into();
    let read = |p: &str| -> Result<String, SetupError> {
        crate::rootpath::read_in_root(root.as_fd(), Path::new(p), 16 << 20)
            .map(|b| {
                b.map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default()
            })
            .map_err(|e| SetupError::setup(format!("read {p} in the container: {e}")))
    };
    let passwd = userdb::parse_passwd(&read("/etc/passwd")?);
    let groups = userdb::parse_group(&read("/etc/group")?);
    let u = userdb::resolve(Some(spec), &passwd, &groups).map_err(|e| SetupError {
        code: EXIT_CANNOT_EXEC,
        message: e.to_string(),
    })?;
    for (what, map, id) in [
        ("user", &opts.uid_map, u.uid),
        ("group", &opts.gid_map, u.gid),
    ] {
        if super::idmap::to_host(map, id).is_none() {
            return Err(SetupError {
                code: EXIT_CANNOT_EXEC,
                message: format!(
                    "{what} {id} is not mapped into the container's user namespace; \
                     `coracle check` shows the id range you have"
                ),
            });
        }
    }
    // Supplementary groups need setgroups(2) (denied in single-id mode) and
    // a mapping, as for `run`.
    let additional: Vec<u32> = if super::caps::setgroups_allowed() {
        u.additional_gids
            .iter()
            .copied()
            .filter(|g| super::idmap::to_host(&opts.gid_map, *g).is_some())
            .collect()
    } else {
        Vec::new()
    };
    let user = UserBuilder::default()
        .uid(u.uid)
        .gid(u.gid)
        .additional_gids(additional)
        .build()
        .map_err(|e| SetupError::setup(format!("build the user: {e}")))?;
    Ok((user, u.home))
}
