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
//! - fuse-overlay container, stopped or running: its FUSE mount answers
//!   EACCES to every process outside its user namespace (the kernel's
//!   `allow_other` rule), so the helper mounts a kernel overlay of the
//!   same layers (`StorageRecord::view_lower`) and upper directory, with a
//!   work directory of its own, as for a stopped overlay container. The
//!   daemon writes the upper in this overlay's form and keeps emulated
//!   owners and modes in `user.containers.override_stat`, which the kernel
//!   overlay passes through: `diff`, `commit`, `export` and `cp` read
//!   them. Writes (`cp` into a running container) land in the upper
//!   directory; the container's daemon sees a new name at once but may
//!   serve its cached attributes of a changed file until it looks it up
//!   again.
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

/// A root directory seen from outside the container. For an overlay, the
/// helper process that made the mount holds it too, until the view is
/// dropped: then it lets go in its own time, so that the unmount (tens of
/// milliseconds of RCU grace periods) is not paid by the caller.
pub struct View {
    root: Option<File>,
    /// Our end of the helper's socket; closing it ends the helper.
    helper: Option<OwnedFd>,
    /// Scratch directories of this view, removed with it.
    scratch: Vec<PathBuf>,
}

impl View {
    /// A plain directory.
    pub fn plain(root: File) -> Self {
        Self {
            root: Some(root),
            helper: None,
            scratch: Vec::new(),
        }
    }
}

impl Drop for View {
    fn drop(&mut self) {
        // Ours first, then the helper's (the last: it unmounts).
        drop(self.root.take());
        drop(self.helper.take());
        for d in &self.scratch {
            let _ = crate::image::store::remove(d);
        }
    }
}

impl std::ops::Deref for View {
    type Target = File;
    fn deref(&self) -> &File {
        self.root
            .as_ref()
            .expect("a view's root lives as long as the view")
    }
}

impl AsFd for View {
    fn as_fd(&self) -> BorrowedFd<'_> {
        std::ops::Deref::deref(self).as_fd()
    }
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
pub fn mount(l: &Layout, maps: &Maps) -> anyhow::Result<View> {
    let req = MountRequest {
        lower: l.lower.clone(),
        upper: l.upper.clone(),
        work: l.work.clone(),
        merged: l.merged.clone(),
    };
    let mut msg = b"M".to_vec();
    msg.extend_from_slice(&serde_json::to_vec(&req)?);
    ask(&msg, None, Some(maps))
        .and_then(open_view)
        .with_context(|| format!("mount the overlay of {}", l.upper.display()))
}

/// The image's layers merged, for reading a new container's root before
/// it exists: over a scratch upper layer in `dir` (removed with the view),
/// so that the container's own mount never shares its upper directory
/// with this one, which the helper may still hold for a moment.
pub fn mount_layers(lower: &[PathBuf], dir: &std::path::Path) -> anyhow::Result<View> {
    let scratch = dir.join(".view");
    let l = Layout::new(&scratch, lower.to_vec());
    std::fs::create_dir(&scratch).with_context(|| format!("create {}", scratch.display()))?;
    let made = l.create_dirs().and_then(|()| mount(&l, &own_ids()));
    match made {
        Ok(mut v) => {
            v.scratch.push(scratch);
            Ok(v)
        }
        Err(e) => {
            let _ = crate::image::store::remove(&scratch);
            Err(e)
        }
    }
}

/// The root of the fuse-overlay container in `dir` (`rec` its record),
/// stopped or running, through a kernel overlay (see the module's notes).
pub fn mount_fuse_container(
    rec: &super::StorageRecord,
    dir: &std::path::Path,
    maps: &Maps,
) -> anyhow::Result<View> {
    use std::os::unix::fs::DirBuilderExt;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let work = dir.join(format!(".view-work-{}-{nanos}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&work)
        .with_context(|| format!("create {}", work.display()))?;
    let made = rec
        .view_layout(dir, &work)
        .ok_or_else(|| anyhow::anyhow!("{} has no layers", dir.display()))
        .and_then(|l| mount(&l, maps));
    match made {
        Ok(mut v) => {
            v.scratch.push(work);
            Ok(v)
        }
        Err(e) => {
            let _ = crate::image::store::remove(&work);
            Err(e)
        }
    }
}

/// The root mount of the running container whose process `pidfd` is (a
/// process the caller may join: not coracle's init).
pub fn join(pidfd: BorrowedFd<'_>) -> anyhow::Result<View> {
    ask(b"J", Some(pidfd), None)
        .and_then(open_view)
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

/// Asks a helper; returns the fd it sent and our end of its socket (the
/// helper lives until that is closed).
fn ask(
    req: &[u8],
    fd: Option<BorrowedFd<'_>>,
    maps: Option<&Maps>,
) -> anyhow::Result<(Option<OwnedFd>, OwnedFd)> {
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
        if let (Some(b'U'), Some((uids, gids)), 5) = (buf[..n].first(), maps, n) {
            // It has its user namespace: give it the ids.
            let pid = i32::from_le_bytes([buf[1], buf[2], buf[3], buf[4]]);
            let pid = nix::unistd::Pid::from_raw(pid);
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
    // The process we started only forked the helper proper (which the
    // host's init reaps): this returns at once.
    let _ = child.wait();
    result.map(|fd| (fd, ours))
}

fn open_view((mfd, helper): (Option<OwnedFd>, OwnedFd)) -> anyhow::Result<View> {
    let root = open_dir(mfd)?;
    Ok(View {
        root: Some(root),
        helper: Some(helper),
        scratch: Vec::new(),
    })
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
    // Fork the helper proper and exit: our caller waits for this process
    // only; the helper, re-parented to the host's init, may outlive the
    // caller's use of the mount and unmount it in its own time.
    match crate::sys::clone3(0) {
        Ok(crate::sys::Forked::Child) => {}
        Ok(crate::sys::Forked::Parent { .. }) => return 0,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "coracle storage-helper: fork: {e}");
            return 125;
        }
    }
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
    // `answer` (the mount) stays ours until we exit.
    let sent = match &answer {
        Ok(m) => crate::sys::send_with_fd(sock, b"O", m.as_ref().map(|m| m.as_fd())),
        Err(msg) => crate::sys::send_with_fd(sock, format!("E{msg}").as_bytes(), None),
    };
    if sent.is_err() {
        return 125;
    }
    // Hold the mount until the caller is done with it (its end closes).
    let mut rest = [0u8; 8];
    while let Ok((n, _)) = crate::sys::recv_with_fd(sock, &mut rest) {
        if n == 0 {
            break;
        }
    }
    drop(answer);
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
    let mut hello = b"U".to_vec();
    hello.extend_from_slice(&(std::process::id() as i32).to_le_bytes());
    crate::sys::send_with_fd(sock.as_fd(), &hello, None).map_err(|e| e.to_string())?;
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
