//! The container's mount namespace: rootfs bind, the spec's mounts (targets
//! resolved inside the root, never through a symlink out of it), pivot_root,
//! /dev links, masked and read-only paths.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::mount::{mount, MsFlags};
use nix::sys::statvfs::{statvfs, FsFlags};
use oci_spec::runtime::{Mount, Spec};

use super::SetupError;
use crate::rootpath::{self, Kind};
use crate::spec::options::mount_flag;

fn err(op: String) -> impl FnOnce(nix::Error) -> SetupError {
    move |e| {
        let hint = match e {
            nix::Error::EPERM | nix::Error::EACCES => {
                " (the kernel refused it inside the user namespace; `coracle check` reports what the host allows)"
            }
            nix::Error::ENOENT | nix::Error::ENOTDIR => " (check that the path exists on the host and in the root file system)",
            _ => "",
        };
        SetupError::setup(format!("{op}: {}{hint}", e.desc().to_lowercase()))
    }
}

fn io_err(op: String) -> impl FnOnce(std::io::Error) -> SetupError {
    move |e| SetupError::setup(format!("{op}: {e}"))
}

/// Flags and data of an OCI mount's options.
#[derive(Debug, PartialEq, Eq)]
pub struct MountOpts {
    pub flags: MsFlags,
    pub clear: MsFlags,
    pub propagation: MsFlags,
    pub data: Vec<String>,
}

pub fn parse_options(opts: &[String]) -> MountOpts {
    let mut m = MountOpts {
        flags: MsFlags::empty(),
        clear: MsFlags::empty(),
        propagation: MsFlags::empty(),
        data: Vec::new(),
    };
    let prop =
        MsFlags::MS_PRIVATE | MsFlags::MS_SLAVE | MsFlags::MS_SHARED | MsFlags::MS_UNBINDABLE;
    for o in opts {
        match mount_flag(o) {
            Some((set, _)) if set.intersects(prop) => m.propagation |= set,
            Some((set, clear)) => {
                m.flags = (m.flags | set) & !clear;
                m.clear = (m.clear | clear) & !set;
            }
            None => m.data.push(o.clone()),
        }
    }
    m
}

/// Flags of an existing mount that an unprivileged remount must keep
/// (the kernel locks them when a user namespace inherits the mount).
fn locked_flags(path: &Path) -> MsFlags {
    let Ok(st) = statvfs(path) else {
        return MsFlags::empty();
    };
    let f = st.flags();
    let mut out = MsFlags::empty();
    for (a, b) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
    ] {
        if f.contains(a) {
            out |= b;
        }
    }
    out
}

/// Remounts the bind mount at `path` with `flags` (plus the locked ones).
fn remount_bind(path: &Path, flags: MsFlags, clear: MsFlags, what: &str) -> Result<(), SetupError> {
    let keep = locked_flags(path) & !clear;
    mount(
        None::<&str>,
        path,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | flags | keep,
        None::<&str>,
    )
    .map_err(err(format!("remount {what} with {flags:?}")))
}

/// Makes the rootfs a private mount of its own and performs the spec's
/// mounts into it. Returns a directory fd of the root, for pivot_root.
pub fn prepare_root(spec: &Spec) -> Result<OwnedFd, SetupError> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_SLAVE,
        None::<&str>,
    )
    .map_err(err("make / a slave mount".into()))?;
    let root = spec
        .root()
        .as_ref()
        .map(|r| r.path().clone())
        .ok_or_else(|| SetupError::setup("the spec has no root".into()))?;
    mount(
        Some(&root),
        &root,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(err(format!(
        "bind mount the root file system {}",
        root.display()
    )))?;
    mount(
        None::<&str>,
        &root,
        None::<&str>,
        MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(err(format!("make {} private", root.display())))?;
    let rootfd: OwnedFd = std::fs::File::open(&root)
        .map_err(io_err(format!("open {}", root.display())))?
        .into();
    for m in spec.mounts().as_deref().unwrap_or_default() {
        do_mount(rootfd.as_fd(), m)?;
    }
    Ok(rootfd)
}

fn do_mount(root: std::os::fd::BorrowedFd<'_>, m: &Mount) -> Result<(), SetupError> {
    let dest = m.destination();
    let typ = m.typ().as_deref().unwrap_or("bind");
    let source = m.source().clone().unwrap_or_else(|| PathBuf::from(typ));
    let opts = parse_options(m.options().as_deref().unwrap_or_default());
    let is_bind = typ == "bind" || opts.flags.contains(MsFlags::MS_BIND);
    let kind = if is_bind && !source.is_dir() {
        Kind::File
    } else {
        Kind::Dir
    };
    let what = format!("{} on {}", source.display(), dest.display());
    let target = rootpath::ensure_in_root(root, dest, kind).map_err(io_err(format!(
        "mount {what}: resolve the target inside the root"
    )))?;
    let tpath = rootpath::fd_path(target.as_fd());
    if is_bind {
        let rec = opts.flags & MsFlags::MS_REC;
        mount(
            Some(&source),
            &tpath,
            None::<&str>,
            MsFlags::MS_BIND | rec,
            None::<&str>,
        )
        .map_err(err(format!("mount {what}")))?;
        // The fd still names the directory under the new mount; look again.
        let top = rootpath::open_in_root(root, dest, OFlag::O_PATH)
            .map_err(io_err(format!("mount {what}: reopen the target")))?;
        let top_path = rootpath::fd_path(top.as_fd());
        let extra = opts.flags & !(MsFlags::MS_BIND | MsFlags::MS_REC);
        if !extra.is_empty() {
            remount_bind(&top_path, extra, opts.clear, &dest.display().to_string())?;
        }
        if !opts.propagation.is_empty() {
            mount(
                None::<&str>,
                &top_path,
                None::<&str>,
                opts.propagation,
                None::<&str>,
            )
            .map_err(err(format!("set propagation of {}", dest.display())))?;
        }
    } else {
        let data = opts.data.join(",");
        mount(
            Some(&source),
            &tpath,
            Some(typ),
            opts.flags,
            (!data.is_empty()).then_some(data.as_str()),
        )
        .map_err(err(format!("mount {typ} on {}", dest.display())))?;
    }
    Ok(())
}

/// What /dev needs besides its device nodes: the links Docker creates.
pub fn dev_links() -> Result<(), SetupError> {
    for (target, link) in [
        ("/proc/self/fd", "/dev/fd"),
        ("/proc/self/fd/0", "/dev/stdin"),
        ("/proc/self/fd/1", "/dev/stdout"),
        ("/proc/self/fd/2", "/dev/stderr"),
        ("pts/ptmx", "/dev/ptmx"),
    ] {
        match std::os::unix::fs::symlink(target, link) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(SetupError::setup(format!(
                    "create link {link} -> {target}: {e}"
                )))
            }
        }
    }
    Ok(())
}

/// Masks paths (after pivot_root): /dev/null over files, an empty read-only
/// tmpfs over directories. Missing paths are skipped.
pub fn mask_paths(paths: &[String]) -> Result<(), SetupError> {
    for p in paths {
        let md = match std::fs::symlink_metadata(p) {
            Ok(md) => md,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(SetupError::setup(format!("mask {p}: {e}"))),
        };
        let r = if md.is_dir() {
            mount(
                Some("tmpfs"),
                p.as_str(),
                Some("tmpfs"),
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                Some("size=0,mode=0555"),
            )
        } else {
            mount(
                Some("/dev/null"),
                p.as_str(),
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
        };
        r.map_err(err(format!("mask {p}")))?;
    }
    Ok(())
}

/// Makes paths read-only (after pivot_root). Missing paths are skipped.
pub fn readonly_paths(paths: &[String]) -> Result<(), SetupError> {
    for p in paths {
        if std::fs::symlink_metadata(p).is_err() {
            continue;
        }
        mount(
            Some(p.as_str()),
            p.as_str(),
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(err(format!("bind {p} read-only")))?;
        remount_bind(Path::new(p), MsFlags::MS_RDONLY, MsFlags::empty(), p)?;
    }
    Ok(())
}

/// Remounts the container root read-only (`--read-only`).
pub fn readonly_root() -> Result<(), SetupError> {
    remount_bind(Path::new("/"), MsFlags::MS_RDONLY, MsFlags::empty(), "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn options_split_into_flags_propagation_and_data() {
        let m = parse_options(&s(&[
            "rbind", "ro", "nosuid", "rprivate", "size=1m", "mode=755",
        ]));
        assert_eq!(
            m.flags,
            MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID
        );
        assert_eq!(m.propagation, MsFlags::MS_PRIVATE | MsFlags::MS_REC);
        assert_eq!(m.data, s(&["size=1m", "mode=755"]));
    }

    #[test]
    fn later_options_override_earlier_ones() {
        let m = parse_options(&s(&["rw", "noexec", "exec", "ro"]));
        assert!(m.flags.contains(MsFlags::MS_RDONLY));
        assert!(!m.flags.contains(MsFlags::MS_NOEXEC));
        assert!(m.clear.contains(MsFlags::MS_NOEXEC));
    }
}
