//! The merged root of an overlay container, seen from outside it, as a
//! directory fd: for `diff`, `commit`, `export`, `cp`, and `run` before
//! the container exists.
//!
//! A fresh process (`coracle storage-helper`, hidden, dispatched before
//! the command line is parsed: `unshare` and `setns` into a user
//! namespace need a single-threaded process) does the privileged half and
//! hands back a detached mount by SCM_RIGHTS, then exits:
//!
//! - stopped container: it unshares a user namespace mapping only the
//!   user (to root) and a mount namespace, and makes the overlay there
//!   (`overlay::mount`, never attached anywhere);
//! - running container: it joins the container's user and mount
//!   namespaces through a pidfd and clones the container's root mount
//!   alone (`open_tree(OPEN_TREE_CLONE)`: the same overlay superblock as
//!   the container's, without its /proc, volumes or other mounts), so a
//!   write through it is seen by the container at once. A second overlay
//!   over a live upper directory would not be.
//!
//! The mount lives as long as the fd. Nothing is mounted in the host's
//! mount namespace and nothing needs unmounting.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::Context;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use serde::{Deserialize, Serialize};

use super::overlay::{self, Layout};
use crate::sandbox::idmap::IdMapEntry;

/// The hidden subcommand of the helper process.
pub const SUBCOMMAND: &str = "storage-helper";

/// How long the helper may take.
const TIMEOUT_MS: u16 = 30_000;

#[derive(Serialize, Deserialize)]
struct MountRequest {
    lower: Vec<PathBuf>,
    upper: PathBuf,
    work: PathBuf,
    merged: PathBuf,
}

/// Id maps (uid, gid) of a throw-away user namespace.
pub type Maps = (Vec<IdMapEntry>, Vec<IdMapEntry>);

/// The user's own ids as root, alone: enough while the upper layer holds
/// nothing the container made (a new container, the probe).
pub fn own_ids() -> Maps {
    let one = |host: u32| {
        vec![IdMapEntry {
            container: 0,
            host,
            size: 1,
        }]
    };
    (
        one(nix::unistd::getuid().as_raw()),
        one(nix::unistd::getgid().as_raw()),
    )
}

/// The id maps of the container in `dir` (its `config.json`), so that the
/// files its users made in the upper layer are seen with their owners
/// (overlayfs hides entries whose owner the namespace does not map).
pub fn container_maps(dir: &std::path::Path) -> anyhow::Result<Maps> {
    let p = dir.join("config.json");
    let b = std::fs::read(&p).with_context(|| format!("read {}", p.display()))?;
    let spec: oci_spec::runtime::Spec =
        serde_json::from_slice(&b).with_context(|| format!("{} is damaged", p.display()))?;
    Ok(crate::spec::id_maps(&spec))
}

/// The overlay `l` mounted in a throw-away user namespace with `maps` and
/// a mount namespace: only for a container that does not run (its upper
/// directory must not be in another live overlay).
pub fn mount(l: &Layout, maps: &Maps) -> anyhow::Result<File> {
    let req = MountRequest {
        lower: l.lower.clone(),
        upper: l.upper.clone(),
        work: l.work.clone(),
        merged: l.merged.clone(),
    };
    let mut msg = b"M".to_vec();
    msg.extend_from_slice(&serde_json::to_vec(&req)?);
    ask(&msg, None, Some(maps))
        .and_then(open_dir)
        .with_context(|| format!("mount the overlay of {}", l.upper.display()))
}

/// The root mount of the running container whose process `pidfd` is (a
/// process the caller may join: not coracle's init).
pub fn join(pidfd: BorrowedFd<'_>) -> anyhow::Result<File> {
    ask(b"J", Some(pidfd), None)
        .and_then(open_dir)
        .context("open the running container's root")
}

/// Removes the directory tree `path` as root of a throw-away user
/// namespace with `maps` (a container's): what the container's users made
/// there (owned by subordinate ids, maybe without write or search
/// permission for the owner) the user cannot remove otherwise.
pub fn remove_tree(path: &std::path::Path, maps: &Maps) -> anyhow::Result<()> {
    let mut msg = b"R".to_vec();
    msg.extend_from_slice(std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()));
    ask(&msg, None, Some(maps))
        .map(drop)
        .with_context(|| format!("remove {}", path.display()))
}

fn ask(
    req: &[u8],
    fd: Option<BorrowedFd<'_>>,
    maps: Option<&Maps>,
) -> anyhow::Result<Option<OwnedFd>> {
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .context("create a socket pair")?;
    let mut child = Command::new("/proc/self/exe")
        .arg(SUBCOMMAND)
        .stdin(Stdio::from(theirs))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start coracle's storage helper")?;
    let result = (|| -> anyhow::Result<Option<OwnedFd>> {
        crate::sys::send_with_fd(ours.as_fd(), req, fd).context("talk to the storage helper")?;
        let mut buf = vec![0u8; 8192];
        let recv = |buf: &mut [u8]| -> anyhow::Result<(usize, Option<OwnedFd>)> {
            let mut pfd = [PollFd::new(ours.as_fd(), PollFlags::POLLIN)];
            loop {
                match poll(&mut pfd, PollTimeout::from(TIMEOUT_MS)) {
                    Ok(0) => anyhow::bail!("the storage helper did not answer in 30 s"),
                    Ok(_) => break,
                    Err(nix::Error::EINTR) => continue,
                    Err(e) => return Err(e).context("wait for the storage helper"),
                }
            }
            crate::sys::recv_with_fd(ours.as_fd(), buf).context("read the storage helper")
        };
        let (mut n, mut mfd) = recv(&mut buf)?;
        if let (Some(b'U'), Some((uids, gids))) = (buf[..n].first(), maps) {
            // It has its user namespace: give it the ids.
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            crate::sandbox::write_id_maps(pid, uids, gids)?;
            crate::sys::send_with_fd(ours.as_fd(), b"G", None)
                .context("talk to the storage helper")?;
            (n, mfd) = recv(&mut buf)?;
        }
        match (buf[..n].first(), mfd) {
            (Some(b'O'), mfd) => Ok(mfd),
            (Some(b'E'), _) => anyhow::bail!("{}", String::from_utf8_lossy(&buf[1..n])),
            _ => anyhow::bail!("the storage helper ended without an answer"),
        }
    })();
    if result.is_err() {
        let _ = child.kill();
    }
    let _ = child.wait();
    result
}

/// A directory fd of a mount's root, from the mount fd.
fn open_dir(mfd: Option<OwnedFd>) -> anyhow::Result<File> {
    use nix::fcntl::{OFlag, OpenHow};
    let mfd = mfd.ok_or_else(|| anyhow::anyhow!("the storage helper sent no mount"))?;
    let how = OpenHow::new().flags(OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC);
    let fd = crate::sys::openat2(mfd.as_fd(), std::path::Path::new("."), how)
        .context("open the root of the overlay mount")?;
    Ok(File::from(fd))
}

/// The helper process: one request on stdin (a SOCK_SEQPACKET socket),
/// one answer (`O` + the mount's fd, or `E` + the error), then exit.
pub fn helper_main() -> i32 {
    let stdin = std::io::stdin();
    let sock = stdin.as_fd();
    let mut buf = vec![0u8; 1 << 20];
    let (n, fd) = match crate::sys::recv_with_fd(sock, &mut buf) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "coracle storage-helper: {e}");
            return 125;
        }
    };
    let answer = match (buf[..n].first(), fd) {
        (Some(b'M'), None) => helper_mount(&buf[1..n]).map(Some),
        (Some(b'J'), Some(pidfd)) => helper_join(pidfd).map(Some),
        (Some(b'R'), None) => helper_remove(&buf[1..n]).map(|()| None),
        _ => Err("malformed request".to_string()),
    };
    let sent = match answer {
        Ok(m) => crate::sys::send_with_fd(sock, b"O", m.as_ref().map(|m| m.as_fd())),
        Err(msg) => crate::sys::send_with_fd(sock, format!("E{msg}").as_bytes(), None),
    };
    if sent.is_err() {
        return 125;
    }
    0
}

fn helper_mount(req: &[u8]) -> Result<OwnedFd, String> {
    use nix::sched::CloneFlags;
    let req: MountRequest =
        serde_json::from_slice(req).map_err(|e| format!("malformed request: {e}"))?;
    enter_userns(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS)?;
    overlay::mount(&Layout {
        lower: req.lower,
        upper: req.upper,
        work: req.work,
        merged: req.merged,
    })
}

/// Unshares a user namespace (and `flags`' others) and waits until the
/// caller has written its id maps (newuidmap for a range).
fn enter_userns(flags: nix::sched::CloneFlags) -> Result<(), String> {
    nix::sched::unshare(flags)
        .map_err(|e| format!("create a user namespace: {}", e.desc().to_lowercase()))?;
    let sock = std::io::stdin();
    crate::sys::send_with_fd(sock.as_fd(), b"U", None).map_err(|e| e.to_string())?;
    let mut go = [0u8; 8];
    match crate::sys::recv_with_fd(sock.as_fd(), &mut go) {
        Ok((1, None)) if go[0] == b'G' => Ok(()),
        _ => Err("no id maps".into()),
    }
}

fn helper_remove(path: &[u8]) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
    enter_userns(nix::sched::CloneFlags::CLONE_NEWUSER)?;
    // Root here, with every capability over the mapped owners.
    crate::image::store::remove(path).map_err(|e| format!("{e:#}"))
}

fn helper_join(pidfd: OwnedFd) -> Result<OwnedFd, String> {
    use nix::sched::{setns, CloneFlags};
    setns(&pidfd, CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS).map_err(|e| {
        format!(
            "join the container's namespaces: {}",
            e.desc().to_lowercase()
        )
    })?;
    crate::sys::mountapi::open_tree_clone(std::path::Path::new("/"))
        .map_err(|e| format!("clone the container's root mount: {e}"))
}
