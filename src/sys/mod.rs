//! The only module with `unsafe`: small safe wrappers over raw syscalls that
//! neither `std` nor `nix` offers. Each block carries a `// SAFETY:` comment.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::unistd::Pid;

pub mod mountapi;
pub mod net;

fn cvt(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// The result of [`clone3`].
pub enum Forked {
    /// In the parent: the child's pid and a pidfd for it.
    Parent { pid: Pid, pidfd: OwnedFd },
    /// In the child.
    Child,
}

/// Number of threads of this process.
pub fn thread_count() -> io::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/task")?.count())
}

/// `clone3(2)` like fork(2) (child continues on a copy of the stack), with
/// `flags` (`CLONE_NEW*`) and always `CLONE_PIDFD`; the child's exit signal is
/// SIGCHLD.
///
/// Refuses to run in a multi-threaded process: the child of a threaded
/// process may only call async-signal-safe functions, and the sandbox child
/// does much more than that.
pub fn clone3(flags: u64) -> io::Result<Forked> {
    let threads = thread_count()?;
    if threads != 1 {
        return Err(io::Error::other(format!(
            "clone3 refused: the process has {threads} threads, it must have one"
        )));
    }
    clone3_single(flags)
}

/// [`clone3`] with `CLONE_INTO_CGROUP`: the child starts life in the cgroup
/// v2 directory `cgroup` (an fd of it, `O_PATH` is enough), so it never runs
/// a single instruction in the caller's cgroup, and with `CLONE_NEWCGROUP`
/// in `flags` that cgroup is the root of its cgroup namespace. The kernel
/// checks that the caller may move a process there (write access to the
/// `cgroup.procs` of the destination and of the common ancestor, as for a
/// write to `cgroup.procs`); Linux 5.7 or later.
pub fn clone3_into_cgroup(flags: u64, cgroup: BorrowedFd<'_>) -> io::Result<Forked> {
    let threads = thread_count()?;
    if threads != 1 {
        return Err(io::Error::other(format!(
            "clone3 refused: the process has {threads} threads, it must have one"
        )));
    }
    raw_clone3(flags, Some(cgroup))
}

/// `CLONE_INTO_CGROUP` (linux/sched.h).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// [`clone3`] for a process that cannot count its threads (its /proc is
/// another pid namespace's) but is single-threaded by construction: the
/// child of a single-threaded clone that started none.
pub fn clone3_single(flags: u64) -> io::Result<Forked> {
    raw_clone3(flags, None)
}

/// The one `clone3` call; the callers check that the process is
/// single-threaded.
fn raw_clone3(flags: u64, cgroup: Option<BorrowedFd<'_>>) -> io::Result<Forked> {
    #[repr(C)]
    #[derive(Default)]
    struct CloneArgs {
        flags: u64,
        pidfd: u64,
        child_tid: u64,
        parent_tid: u64,
        exit_signal: u64,
        stack: u64,
        stack_size: u64,
        tls: u64,
        set_tid: u64,
        set_tid_size: u64,
        cgroup: u64,
    }
    let mut pidfd: libc::c_int = -1;
    let into_cgroup = if cgroup.is_some() {
        CLONE_INTO_CGROUP
    } else {
        0
    };
    let mut args = CloneArgs {
        flags: flags | libc::CLONE_PIDFD as u64 | into_cgroup,
        // A borrowed fd stays open for the whole call.
        cgroup: cgroup.map_or(0, |fd| fd.as_raw_fd() as u64),
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        // With CLONE_PARENT the kernel takes the caller's own exit signal
        // (and refuses any other).
        exit_signal: if flags & libc::CLONE_PARENT as u64 != 0 {
            0
        } else {
            libc::SIGCHLD as u64
        },
        ..Default::default()
    };
    // SAFETY: `args` is a valid clone_args of the size passed; stack is 0, so
    // the child runs on a copy-on-write copy of this stack exactly like
    // fork(2). The process is single-threaded (checked by the caller), so no lock can
    // be held by a thread that does not exist in the child. The cgroup fd, if
    // any, is borrowed for the duration of the call; the kernel only reads it.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match cvt(ret)? {
        0 => Ok(Forked::Child),
        pid => {
            // SAFETY: the kernel stored a fresh pidfd that nothing else owns.
            let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
            Ok(Forked::Parent {
                pid: Pid::from_raw(pid as i32),
                pidfd,
            })
        }
    }
}

/// `pidfd_send_signal(2)`: signal a process by pidfd, immune to pid reuse.
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: i32) -> io::Result<()> {
    // SAFETY: plain syscall with an fd we borrow and a null siginfo.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    cvt(ret).map(drop)
}

/// `pidfd_open(2)`: a pidfd for an existing process (not a child).
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall; on success the kernel returns a new fd we own.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = cvt(ret)?;
    // SAFETY: the fd was just created and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Lets go of this process's resident pages of its own executable's code
/// and read-only data (`madvise(MADV_DONTNEED)`): a long-lived process
/// that ran most of the binary once (the monitor, after starting its
/// container) keeps only what it touches again, which faults back in from
/// the page cache. Only mappings without a single private (written) page
/// are dropped, so relocated data can never be lost: they are read-only,
/// so none can become written in between. Returns the bytes released.
pub fn release_code_pages() -> io::Result<u64> {
    let exe = std::fs::read_link("/proc/self/exe")?;
    let smaps = std::fs::read_to_string("/proc/self/smaps")?;
    let mut released = 0;
    let mut current: Option<(usize, usize, bool)> = None;
    let mut candidates = Vec::new();
    for line in smaps.lines() {
        let mut f = line.split_whitespace();
        let first = f.next().unwrap_or("");
        if let Some((a, b)) = first.split_once('-').filter(|_| !first.ends_with(':')) {
            if let Some(c) = current.take() {
                candidates.push(c);
            }
            let perms = f.next().unwrap_or("");
            let path = line.split_whitespace().nth(5);
            let ours = path.is_some_and(|p| Path::new(p) == exe);
            let readonly = perms == "r-xp" || perms == "r--p";
            if let (true, true, Ok(a), Ok(b)) = (
                ours,
                readonly,
                usize::from_str_radix(a, 16),
                usize::from_str_radix(b, 16),
            ) {
                current = Some((a, b, true));
            }
        } else if let Some(c) = current.as_mut() {
            let kb = f.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(1);
            if matches!(first, "Private_Dirty:" | "Anonymous:" | "Swap:") && kb != 0 {
                c.2 = false;
            }
        }
    }
    candidates.extend(current);
    for (a, b, clean) in candidates {
        if !clean {
            continue;
        }
        // SAFETY: [a, b) is a whole mapping of our executable that is
        // read-only and has no private page: dropping its page-table
        // entries loses nothing, the next access reads the file again.
        let r = unsafe { libc::madvise(a as *mut libc::c_void, b - a, libc::MADV_DONTNEED) };
        if r == 0 {
            released += (b - a) as u64;
        }
    }
    Ok(released)
}

/// Marks every fd from `first` up close-on-exec (`close_range(2)` with
/// `CLOSE_RANGE_CLOEXEC`), so that exec leaves only what is below `first`.
pub fn cloexec_from(first: u32) -> io::Result<()> {
    // SAFETY: close_range only changes fd flags; no memory is involved.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    cvt(ret).map(drop)
}

/// `openat2(2)` returning an owned fd.
pub fn openat2(dir: BorrowedFd<'_>, path: &Path, how: nix::fcntl::OpenHow) -> io::Result<OwnedFd> {
    let fd = nix::fcntl::openat2(dir.as_raw_fd(), path, how)
        .map_err(|e| io::Error::from_raw_os_error(e as i32))?;
    // SAFETY: openat2 just returned this fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether `path` carries file capabilities (`security.capability`).
pub fn has_file_caps(path: &Path) -> bool {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: both strings are NUL-terminated; a null buffer of size 0 asks
    // only for the attribute's size.
    let ret = unsafe {
        libc::getxattr(
            c.as_ptr(),
            c"security.capability".as_ptr(),
            std::ptr::null_mut(),
            0,
        )
    };
    ret > 0
}

/// setdomainname(2) (the uts namespace's NIS domain name; /proc/sys/kernel/
/// domainname belongs to the initial user namespace's root).
pub fn setdomainname(name: &str) -> io::Result<()> {
    // SAFETY: the pointer and length describe `name`'s bytes, which the
    // kernel only reads.
    let ret = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    cvt(ret as libc::c_long).map(drop)
}

/// Brings the loopback interface up in the current network namespace.
pub fn loopback_up() -> io::Result<()> {
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").or_else(|_| {
        // An empty network namespace still lets us create the socket; bind
        // fails only when lo is down, which is fine: use an unbound one.
        std::net::UdpSocket::bind("127.0.0.1:0")
    });
    let fd: OwnedFd = match sock {
        Ok(s) => s.into(),
        Err(_) => {
            // SAFETY: socket(2) with constant arguments.
            let fd =
                unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: a fresh fd that nothing else owns.
            unsafe { OwnedFd::from_raw_fd(fd) }
        }
    };
    // SAFETY: ifreq is plain old data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS reads into the ifreq we own.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the union member ifru_flags is the one SIOCGIFFLAGS filled.
    unsafe {
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    }
    // SAFETY: SIOCSIFFLAGS reads the ifreq we own.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCSIFFLAGS, &req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Makes the terminal `fd` the controlling terminal of this (session leader) process.
pub fn set_controlling_tty(fd: RawFd) -> io::Result<()> {
    // SAFETY: TIOCSCTTY takes an int argument, no memory.
    if unsafe { libc::ioctl(fd, libc::TIOCSCTTY, 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Window size of a terminal: (rows, cols, xpixel, ypixel).
pub fn get_winsize(fd: RawFd) -> io::Result<libc::winsize> {
    // SAFETY: winsize is plain old data; TIOCGWINSZ fills it.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(ws)
}

/// Sets the window size of a terminal.
pub fn set_winsize(fd: RawFd, ws: &libc::winsize) -> io::Result<()> {
    // SAFETY: TIOCSWINSZ reads the winsize we borrow.
    if unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, ws) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `pivot_root(".", ".")` in the directory `newroot`, then detaches the old
/// root stacked under it: the fd-based pattern of runc and crun, which needs
/// no temporary directory inside the rootfs.
pub fn pivot_into(newroot: BorrowedFd<'_>) -> io::Result<()> {
    use nix::mount::{mount, umount2, MntFlags, MsFlags};
    let oldroot = std::fs::File::open("/")?;
    nix::unistd::fchdir(newroot.as_raw_fd())?;
    nix::unistd::pivot_root(".", ".")?;
    nix::unistd::fchdir(oldroot.as_raw_fd())?;
    // The old root must not propagate the unmount back to the host.
    mount(
        None::<&str>,
        ".",
        None::<&str>,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None::<&str>,
    )?;
    umount2(".", MntFlags::MNT_DETACH)?;
    nix::unistd::chdir("/")?;
    Ok(())
}

/// Forks a child that only tries `unshare(CLONE_NEWUSER)` and reports the result.
pub fn probe_userns() -> io::Result<()> {
    match clone3(0)? {
        Forked::Child => {
            let ok = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER).is_ok();
            // SAFETY: _exit is async-signal-safe and ends the child at once.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) }
        }
        Forked::Parent { pid, .. } => match nix::sys::wait::waitpid(pid, None)? {
            nix::sys::wait::WaitStatus::Exited(_, 0) => Ok(()),
            _ => Err(io::Error::from_raw_os_error(libc::EPERM)),
        },
    }
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, 0, prog)`: stacks a classic BPF filter
/// on the calling thread (inherited by its children and kept across
/// execve). The kernel wants no_new_privs set or CAP_SYS_ADMIN in the
/// current user namespace; this sets neither.
pub fn seccomp_set_filter(prog: &[libc::sock_filter]) -> io::Result<()> {
    let len = u16::try_from(prog.len())
        .ok()
        .filter(|l| *l > 0)
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
    let fprog = libc::sock_fprog {
        len,
        filter: prog.as_ptr().cast_mut(),
    };
    // SAFETY: the kernel copies the program from `fprog`, which points into
    // `prog` and outlives the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &fprog as *const libc::sock_fprog,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Ends the process at once without running destructors or atexit handlers
/// (the sandbox child must never return into the parent's code).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// Makes the process that `cmd` spawns start a session of its own before
/// it execs, so that no signal aimed at the caller's process group or
/// terminal (Ctrl-C, a hang-up) reaches it, not even while it starts.
pub fn spawn_in_new_session(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the forked child before exec and only
    // calls setsid(2), which is async-signal-safe and allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Restores the default disposition of a signal.
pub fn reset_signal(sig: nix::sys::signal::Signal) -> io::Result<()> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet};
    let dfl = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: installing SIG_DFL runs no code of ours in signal context.
    unsafe { sigaction(sig, &dfl) }
        .map(drop)
        .map_err(|e| io::Error::from_raw_os_error(e as i32))
}

/// Sends one datagram, optionally carrying an fd (SCM_RIGHTS).
pub fn send_with_fd(
    sock: BorrowedFd<'_>,
    data: &[u8],
    fd: Option<BorrowedFd<'_>>,
) -> io::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let iov = [io::IoSlice::new(data)];
    let fds = fd.map(|f| [f.as_raw_fd()]);
    let cmsgs: Vec<ControlMessage<'_>> = fds
        .as_ref()
        .map(|f| ControlMessage::ScmRights(f))
        .into_iter()
        .collect();
    sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsgs, MsgFlags::MSG_NOSIGNAL, None)
        .map(drop)
        .map_err(|e| io::Error::from_raw_os_error(e as i32))
}

/// Receives one datagram into `buf` and the fd it carries, if any.
/// Returns 0 bytes at end of stream.
pub fn recv_with_fd(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, Option<OwnedFd>)> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut cmsg = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [io::IoSliceMut::new(buf)];
    let msg = loop {
        match recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(nix::Error::EINTR) => continue,
            r => break r.map_err(|e| io::Error::from_raw_os_error(e as i32))?,
        }
    };
    let mut fd = None;
    for c in msg
        .cmsgs()
        .map_err(|e| io::Error::from_raw_os_error(e as i32))?
    {
        if let ControlMessageOwned::ScmRights(fds) = c {
            for raw in fds {
                // SAFETY: the kernel installed these fds for us just now.
                let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                if fd.is_none() {
                    fd = Some(owned);
                }
            }
        }
    }
    Ok((msg.bytes, fd))
}

/// The landlock ABI version of the running kernel: 0 when landlock is not
/// built in or not enabled at boot.
pub fn landlock_abi() -> i32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute pointer, size 0 and the VERSION flag the
    // kernel only returns the ABI version; no memory is read or written.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    i32::try_from(v).unwrap_or(0).max(0)
}
