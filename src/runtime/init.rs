//! The container's process between `create` and the exec of the user
//! program (what runc calls its init). It is cloned by `create` into the
//! new namespaces and outlives it: no parent-death signal, no monitor.
//!
//! Conversation with `create` over the sync socket (SOCK_SEQPACKET):
//!
//! 1. `Go` from create: the id maps are written.
//! 2. Joins the namespaces given by path, sets the host name, mounts
//!    everything into the root (not yet pivoted), sends `Go`: "the runtime
//!    environment exists" and waits.
//! 3. create runs the prestart and createRuntime hooks, sends `Go`.
//! 4. Runs the createContainer hooks (container namespaces, before
//!    pivot_root, so their path resolves in the runtime's file system),
//!    pivots, sets sysctls, the domain name, masked and read-only paths,
//!    the terminal (master to create, for the console socket), the working
//!    directory, rlimits (oom_score_adj is written by create before step 1,
//!    while the process is still dumpable), and sends `Go`: created. Any error
//!    before this point is an `Error` message.
//! 5. Opens `exec.fifo` for writing, which blocks until `start` opens it
//!    for reading. Runs the startContainer hooks (after pivot_root: their
//!    path resolves in the container), writes `0`, then identity,
//!    capabilities, seccomp, exec. A failure after `0` is written to the
//!    fifo as `E` + message, which `start` reports.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use oci_spec::runtime::{LinuxNamespaceType, PosixRlimitType, Spec};

use super::config::{ns_name, Plan};
use crate::sandbox::channel::{self, Msg};
use crate::sandbox::{caps, child, mounts, SetupError};

/// What the init needs beyond the plan.
pub struct Ctx<'a> {
    pub plan: &'a Plan,
    /// The container's state directory (O_PATH), for exec.fifo and the
    /// record the hooks get.
    pub state_dir: OwnedFd,
    pub preserve_fds: u32,
    pub no_pivot: bool,
}

pub fn main(ctx: Ctx<'_>, sock: OwnedFd) -> ! {
    if let Err(e) = setup(&ctx, &sock) {
        let _ = channel::send(
            sock.as_fd(),
            &Msg::Error {
                code: e.code,
                message: e.message.clone(),
            },
            None,
        );
        crate::sys::exit_now(e.code)
    }
    drop(sock);
    let spec = &ctx.plan.spec;
    let mut fifo = match open_in_state(&ctx, super::EXEC_FIFO, OFlag::O_WRONLY) {
        Ok(f) => f,
        Err(_) => crate::sys::exit_now(crate::error::EXIT_CORACLE),
    };
    let e = match after_start(&ctx, spec, &mut fifo) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let _ = fifo.write_all(format!("E{}", e.message).as_bytes());
    crate::sys::exit_now(e.code)
}

/// Opens a file of the state directory (outside the container's root).
fn open_in_state(ctx: &Ctx<'_>, name: &str, flags: OFlag) -> std::io::Result<std::fs::File> {
    let how = nix::fcntl::OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .resolve(nix::fcntl::ResolveFlag::RESOLVE_BENEATH);
    crate::sys::openat2(ctx.state_dir.as_fd(), std::path::Path::new(name), how)
        .map(std::fs::File::from)
}

fn sys(op: &'static str) -> impl Fn(nix::Error) -> SetupError {
    move |e: nix::Error| SetupError::setup(format!("{op}: {}", e.desc().to_lowercase()))
}

/// The record rendered as the runtime-spec state, for hooks.
fn state_json(ctx: &Ctx<'_>, status: super::Status) -> Result<String, SetupError> {
    let f = open_in_state(ctx, super::STATE_FILE, OFlag::O_RDONLY)
        .map_err(|e| SetupError::setup(format!("open the container's state: {e}")))?;
    let bytes = std::io::Read::bytes(f)
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|e| SetupError::setup(format!("read the container's state: {e}")))?;
    let r: super::Record = serde_json::from_slice(&bytes)
        .map_err(|e| SetupError::setup(format!("parse the container's state: {e}")))?;
    Ok(super::oci_state(&r, status).to_string())
}

fn wait_go(sock: &OwnedFd) {
    match channel::recv(sock.as_fd()) {
        Ok(Some((Msg::Go, _))) => {}
        _ => crate::sys::exit_now(crate::error::EXIT_CORACLE),
    }
}

fn setup(ctx: &Ctx<'_>, sock: &OwnedFd) -> Result<(), SetupError> {
    let spec = &ctx.plan.spec;
    wait_go(sock);
    // Namespaces given by path (the user namespace first, which gives the
    // capabilities to join the others).
    let mut unshare_after = nix::sched::CloneFlags::empty();
    for (t, path) in &ctx.plan.join {
        let f = std::fs::File::open(path).map_err(|e| {
            SetupError::setup(format!(
                "linux.namespaces: open the {} namespace {}: {e}",
                ns_name(*t),
                path.display()
            ))
        })?;
        // With the type given, the kernel refuses a namespace of another
        // type (config-linux.md: that MUST be an error).
        nix::sched::setns(f.as_fd(), super::config::flag_of(*t)).map_err(|e| {
            SetupError::setup(format!(
                "linux.namespaces: join the {} namespace {}: {}",
                ns_name(*t),
                path.display(),
                e.desc().to_lowercase()
            ))
        })?;
        if *t == LinuxNamespaceType::User {
            // Namespaces created by clone belong to the user namespace we
            // were cloned in: made here instead, after joining.
            unshare_after = ctx.plan.new_flags;
        }
    }
    if !unshare_after.is_empty() {
        nix::sched::unshare(unshare_after).map_err(sys("create the namespaces"))?;
    }
    if let Some(offsets) = &ctx.plan.new_time {
        // The new time namespace is for our children and, from the
        // execve on, for us; its offsets are written before anyone is in it.
        nix::sched::unshare(super::config::CLONE_NEWTIME)
            .map_err(sys("linux.namespaces: create the time namespace"))?;
        if !offsets.is_empty() {
            std::fs::write("/proc/self/timens_offsets", offsets.join("\n")).map_err(|e| {
                SetupError::setup(format!("linux.timeOffsets: write the clock offsets: {e}"))
            })?;
        }
    }
    nix::sys::prctl::set_dumpable(false).map_err(sys("make the process non-dumpable"))?;
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| SetupError::setup("process: none".into()))?;
    if let Some(h) = spec.hostname().as_ref().filter(|h| !h.is_empty()) {
        nix::unistd::sethostname(h).map_err(sys("hostname: set the host name"))?;
    }
    if ctx
        .plan
        .new_flags
        .contains(nix::sched::CloneFlags::CLONE_NEWNET)
    {
        crate::sys::loopback_up()
            .map_err(|e| SetupError::setup(format!("bring up the loopback interface: {e}")))?;
    }
    let rootfd = mounts::prepare_root(spec)?;

    // The runtime environment exists: prestart and createRuntime hooks.
    channel::send(sock.as_fd(), &Msg::Go, None)
        .map_err(|e| SetupError::setup(format!("report to create: {e}")))?;
    wait_go(sock);
    if let Some(h) = spec.hooks() {
        let state = state_json(ctx, super::Status::Creating)?;
        super::hooks::run_all(
            "createContainer",
            h.create_container().as_deref().unwrap_or_default(),
            &state,
        )
        .map_err(SetupError::setup)?;
    }

    if ctx.no_pivot {
        // For roots on a ramfs, where pivot_root is refused: move the
        // root onto / and chroot into it.
        nix::unistd::fchdir(rootfd.as_raw_fd()).map_err(sys("enter the root"))?;
        nix::mount::mount(
            Some("."),
            "/",
            None::<&str>,
            nix::mount::MsFlags::MS_MOVE,
            None::<&str>,
        )
        .map_err(sys("move the root file system onto /"))?;
        nix::unistd::chroot(".").map_err(sys("chroot into the root file system"))?;
        nix::unistd::chdir("/").map_err(sys("enter /"))?;
    } else {
        crate::sys::pivot_into(rootfd.as_fd())
            .map_err(|e| SetupError::setup(format!("pivot_root into the root file system: {e}")))?;
    }
    drop(rootfd);
    if let Some(p) = spec
        .linux()
        .as_ref()
        .and_then(|l| l.rootfs_propagation().clone())
        .filter(|p| !p.is_empty())
    {
        let flags = mounts::parse_options(std::slice::from_ref(&p)).propagation;
        nix::mount::mount(None::<&str>, "/", None::<&str>, flags, None::<&str>)
            .map_err(sys("linux.rootfsPropagation: set the propagation of /"))?;
    }
    mounts::dev_links()?;
    let linux = spec.linux().as_ref();
    let mut sysctls: Vec<(String, String)> = linux
        .and_then(|l| l.sysctl().clone())
        .unwrap_or_default()
        .into_iter()
        .collect();
    sysctls.sort();
    for (k, v) in sysctls {
        let path = format!("/proc/sys/{}", k.replace('.', "/"));
        std::fs::write(&path, &v).map_err(|e| {
            SetupError::setup(format!("linux.sysctl: set {k} to {v:?} ({path}): {e}"))
        })?;
    }
    if let Some(d) = spec.domainname().as_ref().filter(|d| !d.is_empty()) {
        crate::sys::setdomainname(d)
            .map_err(|e| SetupError::setup(format!("domainname: set the domain name: {e}")))?;
    }
    if let Some(l) = linux {
        mounts::mask_paths(l.masked_paths().as_deref().unwrap_or_default())?;
        mounts::readonly_paths(l.readonly_paths().as_deref().unwrap_or_default())?;
    }
    if process.terminal().unwrap_or(false) {
        child::setup_tty(sock, true)?;
    } else {
        nix::unistd::setsid().map_err(sys("start a new session"))?;
    }
    child::enter_workdir(process, true)?;
    if spec
        .root()
        .as_ref()
        .is_some_and(|r| r.readonly().unwrap_or(false))
    {
        mounts::readonly_root()?;
    }
    for r in process.rlimits().as_deref().unwrap_or_default() {
        let res = resource_of(r.typ());
        nix::sys::resource::setrlimit(res, r.soft(), r.hard()).map_err(|e| {
            SetupError::setup(format!(
                "process.rlimits: set {:?} to {}/{}: {}",
                r.typ(),
                r.soft(),
                r.hard(),
                e.desc().to_lowercase()
            ))
        })?;
    }
    if let Some(m) = process.user().umask() {
        nix::sys::stat::umask(Mode::from_bits_truncate(m as nix::libc::mode_t));
    }
    channel::send(sock.as_fd(), &Msg::Go, None)
        .map_err(|e| SetupError::setup(format!("report to create: {e}")))?;
    Ok(())
}

fn after_start(
    ctx: &Ctx<'_>,
    spec: &Spec,
    fifo: &mut std::fs::File,
) -> Result<std::convert::Infallible, SetupError> {
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| SetupError::setup("process: none".into()))?;
    if let Some(h) = spec.hooks() {
        let list = h.start_container().as_deref().unwrap_or_default();
        if !list.is_empty() {
            let state = state_json(ctx, super::Status::Created)?;
            super::hooks::run_all("startContainer", list, &state).map_err(SetupError::setup)?;
        }
    }
    fifo.write_all(b"0")
        .map_err(|e| SetupError::setup(format!("tell start: {e}")))?;
    let profile = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref());
    let filter = child::seccomp_before_caps(profile, process, false)?;
    caps::apply(process)?;
    for fd in 3..3 + ctx.preserve_fds as i32 {
        let _ = nix::fcntl::fcntl(
            fd,
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
        );
    }
    child::exec_keeping(process, filter.as_ref(), None, ctx.preserve_fds)
}

pub(crate) fn resource_of(t: PosixRlimitType) -> nix::sys::resource::Resource {
    use nix::sys::resource::Resource as R;
    match t {
        PosixRlimitType::RlimitCpu => R::RLIMIT_CPU,
        PosixRlimitType::RlimitFsize => R::RLIMIT_FSIZE,
        PosixRlimitType::RlimitData => R::RLIMIT_DATA,
        PosixRlimitType::RlimitStack => R::RLIMIT_STACK,
        PosixRlimitType::RlimitCore => R::RLIMIT_CORE,
        PosixRlimitType::RlimitRss => R::RLIMIT_RSS,
        PosixRlimitType::RlimitNproc => R::RLIMIT_NPROC,
        PosixRlimitType::RlimitNofile => R::RLIMIT_NOFILE,
        PosixRlimitType::RlimitMemlock => R::RLIMIT_MEMLOCK,
        PosixRlimitType::RlimitAs => R::RLIMIT_AS,
        PosixRlimitType::RlimitLocks => R::RLIMIT_LOCKS,
        PosixRlimitType::RlimitSigpending => R::RLIMIT_SIGPENDING,
        PosixRlimitType::RlimitMsgqueue => R::RLIMIT_MSGQUEUE,
        PosixRlimitType::RlimitNice => R::RLIMIT_NICE,
        PosixRlimitType::RlimitRtprio => R::RLIMIT_RTPRIO,
        PosixRlimitType::RlimitRttime => R::RLIMIT_RTTIME,
    }
}
