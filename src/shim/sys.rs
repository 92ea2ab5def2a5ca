//! The shim's only `unsafe`: small wrappers over the raw syscalls it needs
//! (std + libc, no other crate, to keep the idle process small). Each block
//! carries a `// SAFETY:` comment.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

fn cvt(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Takes ownership of an inherited descriptor named on the command line,
/// after checking that it is open.
pub fn take_fd(fd: RawFd) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: F_GETFD only reads the descriptor's flags.
    cvt(unsafe { libc::fcntl(fd, libc::F_GETFD) } as libc::c_long)?;
    // SAFETY: the descriptor is open (checked above) and was handed to this
    // process to own: nothing else in the shim refers to it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sets or clears close-on-exec.
pub fn set_cloexec(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    let flag = if on { libc::FD_CLOEXEC } else { 0 };
    // SAFETY: F_SETFD on a borrowed, open descriptor.
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, flag) } as libc::c_long).map(drop)
}

/// Sets O_NONBLOCK.
pub fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL on a borrowed, open descriptor.
    let fl = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) } as libc::c_long)?;
    // SAFETY: as above.
    cvt(unsafe {
        libc::fcntl(
            fd.as_raw_fd(),
            libc::F_SETFL,
            fl as libc::c_int | libc::O_NONBLOCK,
        )
    } as libc::c_long)
    .map(drop)
}

/// `poll(2)`; EINTR is reported as 0 descriptors ready.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<usize> {
    // SAFETY: `fds` is a valid, writable array of `fds.len()` pollfds.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(e);
    }
    Ok(r as usize)
}

pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: the kernel just returned this descriptor to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: i32) -> io::Result<()> {
    // SAFETY: no siginfo (null) and no flags: the kernel fills in the rest.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    })
    .map(drop)
}

/// Waits for child `pid` (blocking); coracle's exit status of it: the code,
/// or 128+N for a signal.
pub fn wait_exit(pid: i32) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid int to write to.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    if libc::WIFEXITED(status) {
        Ok(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Ok(128 + libc::WTERMSIG(status))
    } else {
        Ok(255)
    }
}

/// Blocks `signals` (they are blocked already when the monitor execs the
/// shim: this makes sure) and returns a signalfd that reads them.
pub fn signalfd(signals: &[i32]) -> io::Result<OwnedFd> {
    // SAFETY: an all-zero sigset_t is a valid value that sigemptyset then
    // initialises; the functions only write into `set`.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t.
    unsafe { libc::sigemptyset(&mut set) };
    for s in signals {
        // SAFETY: as above.
        unsafe { libc::sigaddset(&mut set, *s) };
    }
    // SAFETY: `set` is valid; the old mask is not asked for.
    let r = unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new signalfd from a valid set.
    let fd = cvt(
        unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) } as libc::c_long,
    )?;
    // SAFETY: the kernel just returned this descriptor to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// The next pending signal's number from a signalfd (`None`: none left).
pub fn read_signal(sfd: BorrowedFd<'_>) -> Option<i32> {
    // SAFETY: signalfd_siginfo is plain data; all-zero is a valid value.
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::signalfd_siginfo>();
    // SAFETY: `info` is a writable buffer of `size` bytes.
    let n = unsafe {
        libc::read(
            sfd.as_raw_fd(),
            (&mut info as *mut libc::signalfd_siginfo).cast(),
            size,
        )
    };
    (n == size as isize).then_some(info.ssi_signo as i32)
}

/// Sets a terminal's window size.
pub fn set_winsize(fd: BorrowedFd<'_>, rows: u16, cols: u16) -> io::Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize from the valid pointer.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) } as libc::c_long).map(drop)
}

/// `dup2(2)`.
pub fn dup2(from: BorrowedFd<'_>, to: RawFd) -> io::Result<()> {
    // SAFETY: dup2 of an open descriptor onto a number this process owns.
    cvt(unsafe { libc::dup2(from.as_raw_fd(), to) } as libc::c_long).map(drop)
}

/// `execv(2)` keeping the signal mask (std's `Command::exec` would reset
/// it, and a signal in between would be lost or kill the monitor); only
/// returns on failure.
pub fn execv(path: &std::path::Path, args: &[String]) -> io::Error {
    use std::os::unix::ffi::OsStrExt;
    let Ok(p) = CString::new(path.as_os_str().as_bytes()) else {
        return io::Error::from_raw_os_error(libc::EINVAL);
    };
    let mut owned = Vec::with_capacity(args.len());
    for a in args {
        match CString::new(a.as_bytes()) {
            Ok(c) => owned.push(c),
            Err(_) => return io::Error::from_raw_os_error(libc::EINVAL),
        }
    }
    let mut argv: Vec<*const libc::c_char> = owned.iter().map(|c| c.as_ptr()).collect();
    argv.push(std::ptr::null());
    // SAFETY: `p` and every argv entry are NUL-terminated strings that live
    // until the call; argv ends with a null pointer. The environment is
    // the process's own.
    unsafe { libc::execv(p.as_ptr(), argv.as_ptr()) };
    io::Error::last_os_error()
}

/// As `coracle::sys::release_code_pages` (the same code).
/// Lets go of this process's resident pages of its own executable's code
/// and read-only data (`madvise(MADV_DONTNEED)`): a long-lived process
/// that ran most of the binary once (the shim, once it waits) keeps only what it touches again, which faults back in from
/// the page cache. Only mappings without a single private (written) page
/// are dropped, so relocated data can never be lost: they are read-only,
/// so none can become written in between. Returns the bytes released.
pub fn release_code_pages() -> io::Result<u64> {
    let exe = std::fs::read_link("/proc/self/exe")?;
    use std::io::BufRead;
    // Read a line at a time: the whole file would grow the heap for good.
    let mut smaps = io::BufReader::with_capacity(4096, std::fs::File::open("/proc/self/smaps")?);
    let mut released = 0;
    let mut current: Option<(usize, usize, bool)> = None;
    let mut candidates = Vec::new();
    let mut buf = String::new();
    loop {
        buf.clear();
        if smaps.read_line(&mut buf)? == 0 {
            break;
        }
        let line = buf.trim_end();
        let mut f = line.split_whitespace();
        let first = f.next().unwrap_or("");
        if let Some((a, b)) = first.split_once('-').filter(|_| !first.ends_with(':')) {
            if let Some(c) = current.take() {
                candidates.push(c);
            }
            let perms = f.next().unwrap_or("");
            let path = line.split_whitespace().nth(5);
            let ours = path.is_some_and(|p| std::path::Path::new(p) == exe);
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
    drop(smaps);
    // SAFETY: gives free heap memory back to the kernel; no pointer to
    // freed memory exists.
    unsafe { libc::malloc_trim(0) };
    Ok(released)
}

/// `read` of a client socket that also takes the descriptors sent with
/// the bytes (SCM_RIGHTS, close-on-exec): `exec -d -t` hands the shim the
/// terminal of its command this way.
pub fn recv_with_fds(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
    // Room for a few descriptors; more in one message are closed by the
    // kernel (MSG_CTRUNC) and never seen.
    let mut cbuf = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero msghdr is valid; the pointers set below live
    // for the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = std::mem::size_of_val(&cbuf) as _;
    // SAFETY: msg points at live buffers of the lengths it gives.
    let n = cvt(unsafe {
        libc::recvmsg(
            sock.as_raw_fd(),
            &mut msg,
            libc::MSG_CMSG_CLOEXEC | libc::MSG_DONTWAIT,
        )
    } as libc::c_long)? as usize;
    let mut fds = Vec::new();
    // SAFETY: the CMSG_* macros walk the control buffer the kernel filled,
    // within msg_controllen; each SCM_RIGHTS payload is an array of fds
    // that are now ours.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(c) as *const RawFd;
                let len = (*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                for i in 0..len / std::mem::size_of::<RawFd>() {
                    fds.push(OwnedFd::from_raw_fd(std::ptr::read_unaligned(data.add(i))));
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok((n, fds))
}
