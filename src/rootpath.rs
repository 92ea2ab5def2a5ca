//! Resolving paths inside a container root without ever leaving it.
//!
//! Everything goes through `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`
//! relative to an fd of the root: `..` and absolute symlinks stay clamped at
//! the root, and `/proc/self/fd/N`-style magic links are refused (the
//! CVE-2021-30465 class of mount-target escapes).

use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{Mode, SFlag};

/// What to create when a path is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
}

fn how(flags: OFlag) -> OpenHow {
    OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS)
}

fn to_io(e: nix::Error) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// Opens `path` (absolute or relative, interpreted inside `root`).
pub fn open_in_root(root: BorrowedFd<'_>, path: &Path, flags: OFlag) -> io::Result<OwnedFd> {
    let rel = relative(path);
    let p: &Path = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &rel
    };
    crate::sys::openat2(root, p, how(flags))
}

/// Reads a (small) file inside the root; `None` when it does not exist.
pub fn read_in_root(root: BorrowedFd<'_>, path: &Path, limit: u64) -> io::Result<Option<Vec<u8>>> {
    // O_NONBLOCK: a FIFO planted in the image must not hang the reader.
    match open_in_root(
        root,
        path,
        OFlag::O_RDONLY | OFlag::O_NOCTTY | OFlag::O_NONBLOCK,
    ) {
        Ok(fd) => {
            let st = nix::sys::stat::fstat(fd.as_raw_fd()).map_err(to_io)?;
            if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
                return Err(io::Error::other(format!(
                    "{} is not a regular file",
                    path.display()
                )));
            }
            let mut f = std::fs::File::from(fd);
            let mut buf = Vec::new();
            (&mut f).take(limit + 1).read_to_end(&mut buf)?;
            if buf.len() as u64 > limit {
                return Err(io::Error::other(format!(
                    "{} is larger than {limit} bytes",
                    path.display()
                )));
            }
            Ok(Some(buf))
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The path with its root and `.` components removed (lexically).
fn relative(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| matches!(c, Component::Normal(_) | Component::ParentDir))
        .collect()
}

/// Lexically normalises an absolute path inside the root: `..` never climbs
/// above `/`.
pub fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// Opens `path` inside `root` as an `O_PATH` fd, creating it (and its
/// missing parents, as directories) when absent. A dangling symlink on the
/// way is followed inside the root and its target created, as runc does.
pub fn ensure_in_root(root: BorrowedFd<'_>, path: &Path, kind: Kind) -> io::Result<OwnedFd> {
    ensure_depth(root, &clean(path), kind, 0)
}

fn ensure_depth(root: BorrowedFd<'_>, path: &Path, kind: Kind, depth: u32) -> io::Result<OwnedFd> {
    if depth > 40 {
        return Err(io::Error::from_raw_os_error(libc::ELOOP));
    }
    match open_in_root(root, path, OFlag::O_PATH) {
        Ok(fd) => return Ok(fd),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
        Err(e) => return Err(e),
    }
    let parent = path.parent().unwrap_or(Path::new("/"));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
    let pfd = ensure_depth(root, parent, Kind::Dir, depth)?;
    let pfd = reopen_dir(pfd.as_fd())?;
    // A dangling symlink: follow it inside the root.
    if let Ok(st) = nix::sys::stat::fstatat(
        Some(pfd.as_raw_fd()),
        name,
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    ) {
        if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK {
            let target = nix::fcntl::readlinkat(Some(pfd.as_raw_fd()), name).map_err(to_io)?;
            let next = if Path::new(&target).is_absolute() {
                clean(Path::new(&target))
            } else {
                clean(&parent.join(&target))
            };
            return ensure_depth(root, &next, kind, depth + 1);
        }
    }
    let made = match kind {
        Kind::Dir => {
            nix::sys::stat::mkdirat(Some(pfd.as_raw_fd()), name, Mode::from_bits_truncate(0o755))
        }
        Kind::File => crate::sys::openat2(
            pfd.as_fd(),
            Path::new(name),
            OpenHow::new()
                .flags(
                    OFlag::O_CREAT
                        | OFlag::O_EXCL
                        | OFlag::O_WRONLY
                        | OFlag::O_CLOEXEC
                        | OFlag::O_NOFOLLOW,
                )
                .mode(Mode::from_bits_truncate(0o644)),
        )
        .map(drop)
        .map_err(|e| nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO))),
    };
    match made {
        Ok(()) | Err(nix::Error::EEXIST) => {}
        Err(e) => return Err(to_io(e)),
    }
    open_in_root(root, path, OFlag::O_PATH)
}

/// Turns an `O_PATH` directory fd into one usable as `*at` base.
fn reopen_dir(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    crate::sys::openat2(
        fd,
        Path::new("."),
        OpenHow::new().flags(OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC),
    )
}

/// `/proc/self/fd/N` for an fd: the way to hand a resolved object to mount(2).
pub fn fd_path(fd: BorrowedFd<'_>) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// Whether an O_PATH fd is a directory.
pub fn is_dir(fd: BorrowedFd<'_>) -> io::Result<bool> {
    let st = nix::sys::stat::fstat(fd.as_raw_fd()).map_err(to_io)?;
    Ok(SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn root() -> (tempfile::TempDir, OwnedFd) {
        let d = tempfile::tempdir().unwrap();
        let fd = std::fs::File::open(d.path()).unwrap().into();
        (d, fd)
    }

    #[test]
    fn clean_clamps_at_root() {
        assert_eq!(clean(Path::new("/a/../../../b")), PathBuf::from("/b"));
        assert_eq!(clean(Path::new("a/./b/..")), PathBuf::from("/a"));
        assert_eq!(clean(Path::new("/")), PathBuf::from("/"));
    }

    #[test]
    fn absolute_symlink_stays_inside() {
        let (d, fd) = root();
        let outside = tempfile::tempdir().unwrap();
        symlink(outside.path(), d.path().join("evil")).unwrap();
        let made = ensure_in_root(fd.as_fd(), Path::new("/evil/x"), Kind::Dir).unwrap();
        assert!(is_dir(made.as_fd()).unwrap());
        // Created under the root, at the link target's path, not outside.
        let inside = d
            .path()
            .join(outside.path().strip_prefix("/").unwrap())
            .join("x");
        assert!(inside.is_dir(), "{} missing", inside.display());
        assert!(!outside.path().join("x").exists());
    }

    #[test]
    fn relative_symlink_escape_is_clamped() {
        let (d, fd) = root();
        std::fs::create_dir(d.path().join("etc")).unwrap();
        symlink(
            "../../../../../../tmp/victim-file",
            d.path().join("etc/hosts"),
        )
        .unwrap();
        ensure_in_root(fd.as_fd(), Path::new("/etc/hosts"), Kind::File).unwrap();
        assert!(d.path().join("tmp/victim-file").is_file());
    }

    #[test]
    fn magic_links_are_refused() {
        // With the host root as the root, /proc/self/fd/N is a real magic link.
        let fd: OwnedFd = std::fs::File::open("/").unwrap().into();
        let err =
            open_in_root(fd.as_fd(), Path::new("/proc/self/fd/0"), OFlag::O_PATH).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ELOOP));
        let err = open_in_root(fd.as_fd(), Path::new("/proc/self/exe"), OFlag::O_PATH).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ELOOP));
    }

    #[test]
    fn read_in_root_limits_size_and_reports_missing() {
        let (d, fd) = root();
        std::fs::write(d.path().join("f"), b"0123456789").unwrap();
        assert_eq!(
            read_in_root(fd.as_fd(), Path::new("/f"), 10)
                .unwrap()
                .unwrap(),
            b"0123456789"
        );
        assert!(read_in_root(fd.as_fd(), Path::new("/f"), 9).is_err());
        assert!(read_in_root(fd.as_fd(), Path::new("/nope"), 9)
            .unwrap()
            .is_none());
    }
}
