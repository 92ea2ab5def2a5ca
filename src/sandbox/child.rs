//! The sandbox child: runs inside the new namespaces, sets the container up
//! and execs the command. It never returns: on error it sends the error to
//! the parent over the sync socket and exits.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use oci_spec::runtime::{LinuxNamespaceType, Process, Spec};

use super::channel::{self, Msg};
use super::{caps, init, landlock, mounts, seccomp, SetupError};
use crate::error::{EXIT_CANNOT_EXEC, EXIT_NOT_FOUND};
use crate::spec::SandboxOptions;

/// Entry point of the cloned child.
pub fn main(spec: &Spec, opts: &SandboxOptions, sock: OwnedFd) -> ! {
    let mut sock = Some(sock);
    let e = match setup_and_exec(spec, opts, &mut sock) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    if let Some(sock) = &sock {
        let msg = Msg::Error {
            code: e.code,
            message: e.message.clone(),
        };
        let _ = channel::send(sock.as_fd(), &msg, None);
    }
    crate::sys::exit_now(e.code)
}

fn has_ns(spec: &Spec, t: LinuxNamespaceType) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|ns| ns.iter().any(|n| n.typ() == t && n.path().is_none()))
}

fn setup_and_exec(
    spec: &Spec,
    opts: &SandboxOptions,
    sock_slot: &mut Option<OwnedFd>,
) -> Result<std::convert::Infallible, SetupError> {
    let sock = sock_slot
        .as_ref()
        .ok_or_else(|| SetupError::setup("no sync socket".into()))?;
    let sys = |op: &'static str| {
        move |e: nix::Error| SetupError::setup(format!("{op}: {}", e.desc().to_lowercase()))
    };
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(sys("set the parent-death signal"))?;

    // Wait until the parent has written the id maps (which needs this
    // process dumpable: /proc/PID of a non-dumpable one belongs to root).
    match channel::recv(sock.as_fd()) {
        Ok(Some((Msg::Go, _))) => {}
        _ => crate::sys::exit_now(crate::error::EXIT_CORACLE),
    }
    // From here on nothing in the container may reach this process (or
    // coracle's init) through /proc/PID (CVE-2019-5736 class): its mm
    // belongs to the host's user namespace, where the container has no
    // CAP_SYS_PTRACE.
    nix::sys::prctl::set_dumpable(false).map_err(sys("make the process non-dumpable"))?;
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| SetupError::setup("the spec has no process".into()))?;

    if has_ns(spec, LinuxNamespaceType::Uts) {
        if let Some(h) = spec.hostname() {
            nix::unistd::sethostname(h).map_err(sys("set the host name"))?;
        }
    }
    if has_ns(spec, LinuxNamespaceType::Network) {
        crate::sys::loopback_up()
            .map_err(|e| SetupError::setup(format!("bring up the loopback interface: {e}")))?;
        if let Some(net) = &opts.net {
            if !net.named.as_ref().is_some_and(|n| n.internal) {
                private_network(sock, net)?;
            }
            if let Some(n) = &net.named {
                named_network(sock, n)?;
            }
        }
    }

    // Overlay storage: the root is assembled here, in the container's
    // user and mount namespaces.
    if let Some(l) = &opts.root_overlay {
        crate::storage::overlay::mount_root(l).map_err(SetupError::setup)?;
    }
    let rootfd = mounts::prepare_root(spec)?;
    crate::sys::pivot_into(rootfd.as_fd())
        .map_err(|e| SetupError::setup(format!("pivot_root into the root file system: {e}")))?;
    drop(rootfd);
    mounts::dev_links()?;
    if let Some(l) = spec.linux() {
        mounts::mask_paths(l.masked_paths().as_deref().unwrap_or_default())?;
        mounts::readonly_paths(l.readonly_paths().as_deref().unwrap_or_default())?;
    }

    if process.terminal().unwrap_or(false) {
        setup_tty(sock, true)?;
    } else {
        nix::unistd::setsid().map_err(sys("start a new session"))?;
        if !opts.stdin {
            let null = std::fs::File::open("/dev/null")
                .map_err(|e| SetupError::setup(format!("open /dev/null: {e}")))?;
            nix::unistd::dup2(null.as_raw_fd(), 0).map_err(sys("redirect stdin"))?;
        }
    }

    enter_workdir(process, true)?;
    if spec
        .root()
        .as_ref()
        .is_some_and(|r| r.readonly().unwrap_or(false))
    {
        mounts::readonly_root()?;
    }

    // The policy's rlimits and landlock ruleset (its paths opened now,
    // inside the root, with the setup's privileges), then the filter.
    landlock::apply_rlimits(process)?;
    let ruleset = landlock::before_caps(
        landlock::LandlockPlan::of_spec(spec)?.as_ref(),
        process,
        false,
    )?;
    let profile = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref());
    let filter = seccomp_before_caps(profile, process, opts.init)?;
    caps::apply(process)?;
    rearm_pdeathsig(sock)?;

    if opts.init {
        match crate::sys::clone3(0)
            .map_err(|e| SetupError::setup(format!("fork the command under init: {e}")))?
        {
            crate::sys::Forked::Parent { pid, .. } => {
                // Only the command reports its exec to coracle: init lets go
                // of the sync socket so that the command's exec ends it.
                drop(sock_slot.take());
                // Init holds no capabilities and nothing of the setup.
                let _ = caps::clear_all();
                init::run(pid)
            }
            crate::sys::Forked::Child => {
                nix::unistd::setpgid(nix::unistd::Pid::from_raw(0), nix::unistd::Pid::from_raw(0))
                    .map_err(sys("create a process group"))?;
                if process.terminal().unwrap_or(false) {
                    // From a background group tcsetpgrp raises SIGTTOU,
                    // which would stop us; exec unblocks it again.
                    let mut ttou = SigSet::empty();
                    ttou.add(Signal::SIGTTOU);
                    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&ttou), None)
                        .map_err(sys("block SIGTTOU"))?;
                    nix::unistd::tcsetpgrp(std::io::stdin(), nix::unistd::getpid())
                        .map_err(sys("make the command the terminal's foreground"))?;
                }
            }
        }
    }
    exec(process, filter.as_ref(), ruleset)
}

/// The private network: a tap device `eth0` in this (new) network
/// namespace, configured as slirp4netns does, handed to the parent, which
/// starts the stack helper on it (`crate::net`).
fn private_network(sock: &OwnedFd, net: &crate::net::NetConfig) -> Result<(), SetupError> {
    use crate::net::{GATEWAY, GUEST, GUEST_MAC, INTERFACE, PREFIX};
    let tap = crate::sys::net::create_tap(INTERFACE).map_err(|e| {
        let hint = match e.raw_os_error() {
            Some(libc::EACCES | libc::EPERM) => {
                ": /dev/net/tun must be usable by every user (mode 0666, as Debian and Fedora ship it); or use --network none"
            }
            Some(libc::ENOENT | libc::ENODEV) => ": the tun module is missing; or use --network none",
            _ => "",
        };
        SetupError::setup(format!("create the tap device of the private network: {e}{hint}"))
    })?;
    crate::sys::net::configure_interface(INTERFACE, GUEST_MAC, GUEST, PREFIX, net.mtu)
        .map_err(|e| SetupError::setup(format!("configure {INTERFACE}: {e}")))?;
    crate::sys::net::add_default_route(GATEWAY)
        .map_err(|e| SetupError::setup(format!("add the default route: {e}")))?;
    channel::send(sock.as_fd(), &Msg::Tap, Some(tap.as_fd()))
        .map_err(|e| SetupError::setup(format!("hand the tap device to coracle: {e}")))?;
    Ok(())
}

/// A named network's interface (`crate::net::switch`): a tap with the
/// address the switch gave, handed to the parent, which passes it on to
/// the switch. No default route: that is the private interface's (an
/// internal network has none).
fn named_network(sock: &OwnedFd, n: &crate::net::switch::NamedNet) -> Result<(), SetupError> {
    let name = n.interface();
    let (Some(ip), Some(mac)) = (n.ip, n.mac) else {
        return Err(SetupError::setup(format!(
            "network {} gave the container no address",
            n.name
        )));
    };
    let tap = crate::sys::net::create_tap(name).map_err(|e| {
        SetupError::setup(format!("create the tap device of network {}: {e}", n.name))
    })?;
    crate::sys::net::configure_interface(name, mac, ip, n.prefix, n.mtu)
        .map_err(|e| SetupError::setup(format!("configure {name}: {e}")))?;
    channel::send(sock.as_fd(), &Msg::NetTap, Some(tap.as_fd()))
        .map_err(|e| SetupError::setup(format!("hand the tap device to coracle: {e}")))?;
    Ok(())
}

/// Compiles the spec's seccomp profile. With no_new_privs (always, unless
/// `--privileged`, which has no filter) it is returned for [`exec`] to
/// install as the very last step, so that nothing of the setup is filtered
/// and coracle's `--init` pid 1 (which forks the command before that) runs
/// unfiltered. Without no_new_privs the kernel only lets a process with
/// CAP_SYS_ADMIN in its user namespace install a filter, which the
/// container's process may no longer have after `caps::apply`: then it is
/// installed here, before the identity change (every call that change and
/// exec make is in the default profile's allow-list). `--init` forks with
/// clone3 after the identity change, which the filter may deny, so that
/// combination is refused.
pub(crate) fn seccomp_before_caps(
    profile: Option<&oci_spec::runtime::LinuxSeccomp>,
    process: &Process,
    init: bool,
) -> Result<Option<seccomp::Programs>, SetupError> {
    let Some(profile) = profile else {
        return Ok(None);
    };
    let programs = seccomp::compile(profile)?;
    if process.no_new_privileges().unwrap_or(false) {
        return Ok(Some(programs));
    }
    if init {
        return Err(SetupError::setup(
            "a seccomp filter without no_new_privileges cannot be combined with --init".into(),
        ));
    }
    seccomp::install(&programs)?;
    Ok(None)
}

/// The kernel clears the parent-death signal when the effective uid or gid
/// changes (`-u 1000` maps to another host id), which would leave the
/// container running after a `kill -9` of its monitor: set it again after
/// the identity change. Had the parent died in between, no signal would
/// come; its end of the sync socket is closed by then (a process's files
/// are closed before its children are signalled), so a hang-up means it
/// is gone.
fn rearm_pdeathsig(sock: &OwnedFd) -> Result<(), SetupError> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(|e| {
        SetupError::setup(format!(
            "set the parent-death signal: {}",
            e.desc().to_lowercase()
        ))
    })?;
    let mut fds = [PollFd::new(sock.as_fd(), PollFlags::empty())];
    let hung_up = match poll(&mut fds, PollTimeout::ZERO) {
        Ok(_) => fds[0]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLHUP)),
        Err(_) => false,
    };
    if hung_up {
        crate::sys::exit_now(crate::error::EXIT_CORACLE);
    }
    Ok(())
}

/// Opens a terminal on the container's own devpts, hands the master to the
/// parent and makes the slave this session's controlling terminal and stdio
/// (and, with `console`, the container's /dev/console).
pub(crate) fn setup_tty(sock: &OwnedFd, console: bool) -> Result<(), SetupError> {
    use nix::fcntl::OFlag;
    let e = |op: &'static str| {
        move |e: nix::Error| SetupError::setup(format!("{op}: {}", e.desc().to_lowercase()))
    };
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(e("open /dev/ptmx"))?;
    nix::pty::grantpt(&master).map_err(e("grantpt"))?;
    nix::pty::unlockpt(&master).map_err(e("unlockpt"))?;
    let name = nix::pty::ptsname_r(&master).map_err(e("ptsname"))?;
    let slave: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(&name)
        .map_err(|err| SetupError::setup(format!("open {name}: {err}")))?
        .into();
    // /dev/console is the terminal, as in every container runtime.
    if console
        && crate::rootpath::ensure_in_root(
            std::fs::File::open("/")
                .map_err(|err| SetupError::setup(format!("open /: {err}")))?
                .as_fd(),
            Path::new("/dev/console"),
            crate::rootpath::Kind::File,
        )
        .is_ok()
    {
        nix::mount::mount(
            Some(name.as_str()),
            "/dev/console",
            None::<&str>,
            nix::mount::MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(e("bind the terminal to /dev/console"))?;
    }
    channel::send(sock.as_fd(), &Msg::Pty, Some(master.as_fd()))
        .map_err(|err| SetupError::setup(format!("send the terminal to coracle: {err}")))?;
    drop(master);
    nix::unistd::setsid().map_err(e("start a new session"))?;
    crate::sys::set_controlling_tty(slave.as_raw_fd())
        .map_err(|err| SetupError::setup(format!("set the controlling terminal: {err}")))?;
    for fd in 0..3 {
        nix::unistd::dup2(slave.as_raw_fd(), fd).map_err(e("attach the terminal to stdio"))?;
    }
    Ok(())
}

use std::os::unix::fs::OpenOptionsExt;

/// Enters the working directory (created first when `create`, as `run`
/// does; `exec` does not), then checks that the process really is inside
/// the container root (CVE-2024-21626 class: a cwd through a leaked host fd).
pub(crate) fn enter_workdir(process: &Process, create: bool) -> Result<(), SetupError> {
    let cwd = process.cwd();
    if !cwd.is_absolute() {
        return Err(SetupError::setup(format!(
            "working directory {} is not absolute",
            cwd.display()
        )));
    }
    let root: OwnedFd = std::fs::File::open("/")
        .map_err(|e| SetupError::setup(format!("open /: {e}")))?
        .into();
    let dir = if create {
        crate::rootpath::ensure_in_root(root.as_fd(), cwd, crate::rootpath::Kind::Dir).map_err(
            |e| SetupError::setup(format!("create working directory {}: {e}", cwd.display())),
        )?
    } else {
        crate::rootpath::open_in_root(
            root.as_fd(),
            cwd,
            nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY,
        )
        .map_err(|e| SetupError {
            code: EXIT_CANNOT_EXEC,
            message: format!("working directory {}: {e}", cwd.display()),
        })?
    };
    if !crate::rootpath::is_dir(dir.as_fd()).unwrap_or(false) {
        return Err(SetupError::setup(format!(
            "working directory {} is not a directory",
            cwd.display()
        )));
    }
    nix::unistd::fchdir(dir.as_raw_fd()).map_err(|e| {
        SetupError::setup(format!("enter working directory {}: {e}", cwd.display()))
    })?;
    match std::env::current_dir() {
        Ok(p) if p.is_absolute() => Ok(()),
        _ => Err(SetupError::setup(format!(
            "working directory {} is outside the container",
            cwd.display()
        ))),
    }
}

/// Finds the program as execvp(3) would, in the container's PATH.
fn find_program(arg0: &str, env: &[String]) -> Result<PathBuf, SetupError> {
    if arg0.contains('/') {
        return Ok(PathBuf::from(arg0));
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(crate::spec::DEFAULT_PATH);
    let mut denied = None;
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let cand = Path::new(dir).join(arg0);
        if let Ok(md) = std::fs::metadata(&cand) {
            if md.is_file() {
                if nix::unistd::access(&cand, nix::unistd::AccessFlags::X_OK).is_ok() {
                    return Ok(cand);
                }
                denied.get_or_insert(cand);
            }
        }
    }
    match denied {
        Some(p) => Ok(p),
        None => Err(SetupError {
            code: EXIT_NOT_FOUND,
            message: format!("exec {arg0:?}: executable file not found in $PATH"),
        }),
    }
}

/// Execs the process; the landlock `ruleset` restricts it and `filter` (see
/// [`seccomp_before_caps`]) is installed right before the execve, the last
/// steps of the setup.
pub(crate) fn exec(
    process: &Process,
    filter: Option<&seccomp::Programs>,
    ruleset: Option<::landlock::RulesetCreated>,
) -> Result<std::convert::Infallible, SetupError> {
    exec_keeping(process, filter, ruleset, 0)
}

/// [`exec`], keeping fds 3 .. 3+`keep` open across it (the OCI runtime's
/// `--preserve-fds`).
pub(crate) fn exec_keeping(
    process: &Process,
    filter: Option<&seccomp::Programs>,
    ruleset: Option<::landlock::RulesetCreated>,
    keep: u32,
) -> Result<std::convert::Infallible, SetupError> {
    let args = process.args().as_deref().unwrap_or_default();
    let arg0 = args
        .first()
        .ok_or_else(|| SetupError::setup("no command given".into()))?;
    let env = process.env().as_deref().unwrap_or_default();
    let prog = find_program(arg0, env)?;
    let cstr = |s: &[u8]| {
        CString::new(s)
            .map_err(|_| SetupError::setup("a command argument contains a NUL byte".into()))
    };
    let cprog = cstr(prog.as_os_str().as_bytes())?;
    let cargs = args
        .iter()
        .map(|a| cstr(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let cenv = env
        .iter()
        .map(|a| cstr(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;

    // Only stdio survives exec; signals start from their defaults.
    crate::sys::cloexec_from(3 + keep)
        .map_err(|e| SetupError::setup(format!("close inherited descriptors: {e}")))?;
    for sig in Signal::iterator() {
        if sig != Signal::SIGKILL && sig != Signal::SIGSTOP {
            let _ = crate::sys::reset_signal(sig);
        }
    }
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
        .map_err(|e| SetupError::setup(format!("unblock signals: {e}")))?;

    // Landlock, then seccomp (whose allow-list has the landlock calls):
    // the last steps before execve.
    if let Some(r) = ruleset {
        landlock::restrict(r)?;
    }
    if let Some(f) = filter {
        seccomp::install(f)?;
    }
    let e = nix::unistd::execve(&cprog, &cargs, &cenv).unwrap_err();
    let code = match e {
        nix::Error::ENOENT | nix::Error::ENOTDIR => EXIT_NOT_FOUND,
        _ => EXIT_CANNOT_EXEC,
    };
    Err(SetupError {
        code,
        message: format!("exec {}: {}", prog.display(), e.desc().to_lowercase()),
    })
}
