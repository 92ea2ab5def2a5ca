//! The new mount API (Linux 5.2+): `fsopen`, `fsconfig`, `fsmount`,
//! `move_mount` and `open_tree`, as raw syscalls (neither std nor nix has
//! them). Used by `storage` to mount overlayfs with any number of lower
//! layers (`lowerdir+`, one call per layer, no page-size limit on the
//! option string) and to hand a mount to another process as an fd.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::cvt;

const FSOPEN_CLOEXEC: libc::c_uint = 1;
const FSCONFIG_SET_FLAG: libc::c_uint = 0;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;
const OPEN_TREE_CLONE: libc::c_uint = 1;

fn cstr(s: &[u8]) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `fsopen(fstype, FSOPEN_CLOEXEC)`: a file system context.
pub fn fsopen(fstype: &str) -> io::Result<OwnedFd> {
    let t = cstr(fstype.as_bytes())?;
    // SAFETY: a valid C string; the returned fd is new and ours.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_fsopen, t.as_ptr(), FSOPEN_CLOEXEC) })?;
    // SAFETY: the kernel just returned this fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// `fsconfig(FSCONFIG_SET_STRING, key, value)`.
pub fn fsconfig_string(fs: BorrowedFd<'_>, key: &str, value: &[u8]) -> io::Result<()> {
    let k = cstr(key.as_bytes())?;
    let v = cstr(value)?;
    // SAFETY: valid fd and C strings for the duration of the call.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_SET_STRING,
            k.as_ptr(),
            v.as_ptr(),
            0,
        )
    })
    .map(drop)
}

/// `fsconfig(FSCONFIG_SET_FLAG, key)`.
pub fn fsconfig_flag(fs: BorrowedFd<'_>, key: &str) -> io::Result<()> {
    let k = cstr(key.as_bytes())?;
    // SAFETY: valid fd and C string; value must be NULL for a flag.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_SET_FLAG,
            k.as_ptr(),
            std::ptr::null::<libc::c_char>(),
            0,
        )
    })
    .map(drop)
}

/// `fsconfig(FSCONFIG_CMD_CREATE)`: makes the superblock.
pub fn fsconfig_create(fs: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: valid fd; key and value must be NULL for this command.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_char>(),
            0,
        )
    })
    .map(drop)
}

/// The messages the kernel left in a file system context's log (one per
/// read, `e ...` for errors), joined; empty when there are none.
pub fn fs_log(fs: BorrowedFd<'_>) -> String {
    let mut out = Vec::new();
    for _ in 0..16 {
        let mut buf = [0u8; 512];
        match nix::unistd::read(fs.as_raw_fd(), &mut buf) {
            Ok(n) if n > 0 => {
                let line = String::from_utf8_lossy(&buf[..n]);
                let line = line.trim_end();
                out.push(line.get(2..).unwrap_or(line).to_string());
            }
            _ => break,
        }
    }
    out.join("; ")
}

/// `fsmount(fs, FSMOUNT_CLOEXEC, 0)`: a detached mount of the context's
/// superblock, as an fd.
pub fn fsmount(fs: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    // SAFETY: valid fd; the returned fd is new and ours.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, 0) })?;
    // SAFETY: the kernel just returned this fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// `move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH)`:
/// attaches a detached mount at `target`.
pub fn move_mount_to(mnt: BorrowedFd<'_>, target: &Path) -> io::Result<()> {
    let empty = cstr(b"")?;
    let t = cstr(target.as_os_str().as_bytes())?;
    // SAFETY: valid fds and C strings for the duration of the call.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt.as_raw_fd(),
            empty.as_ptr(),
            libc::AT_FDCWD,
            t.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    })
    .map(drop)
}

/// `open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)`: a
/// detached copy of the one mount at `path` (without the mounts below it).
pub fn open_tree_clone(path: &Path) -> io::Result<OwnedFd> {
    let p = cstr(path.as_os_str().as_bytes())?;
    // SAFETY: a valid C string; the returned fd is new and ours.
    let fd = cvt(unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            p.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint,
        )
    })?;
    // SAFETY: the kernel just returned this fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}
