//! A cgroup v2 of the container's own, where the user's cgroup is
//! delegated to them: what `pause`/`unpause` freeze, and how every process
//! of the container is found and killed at the end.
//!
//! The runner (the foreground `run`, or the monitor of `run -d`/`start`)
//! looks up its own cgroup v2 (`0::PATH` in /proc/self/cgroup, under the
//! cgroup2 mount of /proc/self/mountinfo). Only when that directory and its
//! `cgroup.procs` are writable by the user (delegated, as systemd's
//! `Delegate=yes` does for a user's session manager) does it create the child
//! `coracle-ID` there; the sandbox child is cloned straight into it
//! (`CLONE_INTO_CGROUP`), so that cgroup is also the root of the
//! container's cgroup namespace. The path goes to
//! `$XDG_RUNTIME_DIR/coracle/containers/ID/cgroup`; when there is no cgroup
//! the reason goes to `no-cgroup` beside it, for `pause` to explain.
//!
//! Only a directory named `coracle-ID` on a cgroup2 file system, recorded by
//! the runner, is ever written to or removed: cgroups coracle did not create
//! are never touched.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The runtime file with the cgroup's path.
const RECORD: &str = "cgroup";
/// The runtime file with why the container has no cgroup.
const NO_CGROUP: &str = "no-cgroup";

/// The cgroup directory name of container `id`.
pub fn dir_name(id: &str) -> String {
    format!("coracle-{id}")
}

/// The cgroup v2 path (`0::PATH`) in the text of /proc/PID/cgroup.
pub fn parse_v2_path(proc_cgroup: &str) -> Option<String> {
    proc_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| p.trim_end().to_string())
}

/// Undoes mountinfo's octal escapes (`\040` for a space, ...).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 4 <= b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            if let Ok(v) = u8::try_from(v) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first cgroup2 mount in the text of /proc/self/mountinfo: (the
/// cgroup path it shows, its mount point).
pub fn parse_v2_mount(mountinfo: &str) -> Option<(String, PathBuf)> {
    mountinfo.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let f: Vec<&str> = left.split_whitespace().collect();
        Some((unescape(f.get(3)?), PathBuf::from(unescape(f.get(4)?))))
    })
}

/// Where the cgroup `path` (as /proc/self/cgroup shows it) is in the file
/// system, given the cgroup2 mount (its root and mount point).
pub fn host_dir(path: &str, mount_root: &str, mount_point: &Path) -> Option<PathBuf> {
    let rel = if mount_root == "/" {
        path.strip_prefix('/')?
    } else {
        let rest = path.strip_prefix(mount_root)?;
        if !rest.is_empty() && !rest.starts_with('/') {
            return None;
        }
        rest.trim_start_matches('/')
    };
    if rel.split('/').any(|c| c == "..") {
        return None;
    }
    Some(if rel.is_empty() {
        mount_point.to_path_buf()
    } else {
        mount_point.join(rel)
    })
}

/// The caller's own cgroup v2 directory when it is delegated to the user;
/// otherwise why not (one sentence).
pub fn delegated_parent() -> Result<PathBuf, String> {
    let cg = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
    let path = parse_v2_path(&cg)
        .ok_or("the process is in no cgroup v2 hierarchy (no 0:: line in /proc/self/cgroup)")?;
    let mi = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
    let (root, point) =
        parse_v2_mount(&mi).ok_or("no cgroup v2 (cgroup2) file system is mounted")?;
    if path == "/" || path == root {
        return Err(format!(
            "coracle runs in the root cgroup of the cgroup v2 hierarchy at {}, which is never delegated",
            point.display()
        ));
    }
    let dir = host_dir(&path, &root, &point).ok_or_else(|| {
        format!(
            "the cgroup v2 {path} is outside the cgroup2 mount at {}",
            point.display()
        )
    })?;
    let writable = |p: &Path| nix::unistd::access(p, nix::unistd::AccessFlags::W_OK).is_ok();
    if !writable(&dir) || !writable(&dir.join("cgroup.procs")) {
        let owner = std::fs::metadata(&dir)
            .map(|m| format!("owned by uid {}", m.uid()))
            .unwrap_or_else(|e| format!("{e}"));
        return Err(format!(
            "your cgroup v2 {} ({owner}) is not delegated to you",
            dir.display()
        ));
    }
    Ok(dir)
}

/// The container's cgroup, removed (with whatever still runs in it) when
/// dropped.
pub struct Cgroup {
    id: String,
    path: PathBuf,
}

impl Cgroup {
    /// Creates the cgroup of container `id` (whose monitor lock the caller
    /// holds) when the caller's cgroup is delegated; `None` otherwise, with
    /// the reason recorded for `pause`. Never fails the container: without
    /// a cgroup it runs as before.
    pub fn create(id: &str) -> Option<Cgroup> {
        let rundir = super::runtime_path_of(id).ok()?;
        // What an earlier run left (e.g. its runner was killed).
        remove_recorded(id);
        let _ = std::fs::remove_file(rundir.join(NO_CGROUP));
        let made = delegated_parent().and_then(|parent| {
            let path = parent.join(dir_name(id));
            match std::fs::create_dir(&path) {
                Ok(()) => {}
                // Ours by its name (this container's id, under our lock):
                // left behind by a runner that was killed.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if !is_cgroup2(&path) {
                        return Err(format!("{} exists and is no cgroup", path.display()));
                    }
                    destroy(&path).map_err(|e| format!("remove the old {}: {e}", path.display()))?;
                    std::fs::create_dir(&path)
                        .map_err(|e| format!("create {}: {e}", path.display()))?;
                }
                Err(e) => return Err(format!("create {}: {e}", path.display())),
            }
            // The freezer (5.2) and cgroup.kill (5.14, so CLONE_INTO_CGROUP
            // too) are what the cgroup is for.
            if !path.join("cgroup.freeze").exists() || !path.join("cgroup.kill").exists() {
                let _ = std::fs::remove_dir(&path);
                return Err(
                    "the kernel has no cgroup v2 freezer or cgroup.kill (Linux 5.14 or later is needed)"
                        .into(),
                );
            }
            Ok(path)
        });
        match made {
            Ok(path) => {
                let rec = path.as_os_str().as_encoded_bytes();
                if super::write_atomic(&rundir.join(RECORD), rec).is_err() {
                    let _ = destroy(&path);
                    return None;
                }
                Some(Cgroup {
                    id: id.to_string(),
                    path,
                })
            }
            Err(why) => {
                let _ = super::write_atomic(&rundir.join(NO_CGROUP), why.as_bytes());
                None
            }
        }
    }

    /// The cgroup an earlier run of this monitor process created (the
    /// monitor exec'd the shim and the shim exec'd it back): kept for the
    /// next run, removed when the monitor ends. `None` if there is none.
    pub fn adopt(id: &str) -> Option<Cgroup> {
        recorded(id).map(|path| Cgroup {
            id: id.to_string(),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        if destroy(&self.path).is_ok() {
            if let Ok(d) = super::runtime_path_of(&self.id) {
                let _ = std::fs::remove_file(d.join(RECORD));
            }
        }
    }
}

fn is_cgroup2(p: &Path) -> bool {
    nix::sys::statfs::statfs(p)
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
}

/// The cgroup recorded for container `id`, if it still exists and is what
/// coracle made: a cgroup2 directory named `coracle-ID`.
pub fn recorded(id: &str) -> Option<PathBuf> {
    let d = super::runtime_dir().ok()?.join("containers").join(id);
    let raw = std::fs::read(d.join(RECORD)).ok()?;
    let path = PathBuf::from(String::from_utf8(raw).ok()?);
    let ok = path.is_absolute()
        && path.file_name().and_then(|n| n.to_str()) == Some(dir_name(id).as_str())
        && is_cgroup2(&path);
    ok.then_some(path)
}

/// Why container `id` has no cgroup, as its runner recorded it.
pub fn unavailable_reason(id: &str) -> Option<String> {
    let d = super::runtime_dir().ok()?.join("containers").join(id);
    std::fs::read_to_string(d.join(NO_CGROUP))
        .ok()
        .map(|s| s.trim().to_string())
}

/// Kills and removes the recorded cgroup of container `id`, if any (for
/// `rm` and `prune` after a runner that did not clean up: killed with -9).
/// The caller holds the container's monitor lock.
pub fn remove_recorded(id: &str) {
    let Ok(d) = super::runtime_dir().map(|d| d.join("containers").join(id)) else {
        return;
    };
    if let Some(p) = recorded(id) {
        if destroy(&p).is_err() {
            return;
        }
    }
    let _ = std::fs::remove_file(d.join(RECORD));
}

/// Kills everything in the cgroup `p` (and its descendants, which the
/// container may have made) and removes them all, deepest first.
fn destroy(p: &Path) -> io::Result<()> {
    match std::fs::write(p.join("cgroup.kill"), "1") {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound && !p.exists() => return Ok(()),
        Err(e) => return Err(e),
    }
    // The kernel kills asynchronously: wait for the last task to leave.
    let deadline = Instant::now() + Duration::from_secs(10);
    while populated(p) {
        if Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "{} still has processes after cgroup.kill",
                p.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    remove_tree(p)
}

fn remove_tree(p: &Path) -> io::Result<()> {
    for e in std::fs::read_dir(p)? {
        let e = e?;
        // Sub-cgroups are directories; the interface files are not.
        if e.file_type()?.is_dir() {
            remove_tree(&e.path())?;
        }
    }
    match std::fs::remove_dir(p) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

/// A `KEY VALUE` line of a cgroup's `cgroup.events`.
fn event(p: &Path, key: &str) -> Option<String> {
    let s = std::fs::read_to_string(p.join("cgroup.events")).ok()?;
    s.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().to_string())
    })
}

fn populated(p: &Path) -> bool {
    event(p, "populated").is_some_and(|v| v != "0")
}

/// Whether container `id` is paused: its cgroup is asked to be frozen.
pub fn is_paused(id: &str) -> bool {
    recorded(id).is_some_and(|p| {
        std::fs::read_to_string(p.join("cgroup.freeze")).is_ok_and(|s| s.trim() == "1")
    })
}

/// Freezes (`true`) or thaws the cgroup `p` and waits until the kernel says
/// it is done (`frozen` in `cgroup.events`).
pub fn set_frozen(p: &Path, frozen: bool) -> io::Result<()> {
    let want = if frozen { "1" } else { "0" };
    std::fs::write(p.join("cgroup.freeze"), want)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match event(p, "frozen") {
            Some(v) if v == want => return Ok(()),
            None => return Err(io::Error::from(io::ErrorKind::NotFound)),
            Some(_) => {}
        }
        if Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "{} did not become {} within 10 seconds",
                p.display(),
                if frozen { "frozen" } else { "thawed" }
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Thaws container `id` if it is paused (after a signal was sent to it,
/// as Docker does, so that the signal is delivered).
pub fn thaw(id: &str) {
    if let Some(p) = recorded(id) {
        let _ = std::fs::write(p.join("cgroup.freeze"), "0");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_path_from_proc_cgroup() {
        let hybrid = "9:name=systemd:/user.slice\n4:memory:/x\n0::/user.slice/user-1000.slice/user@1000.service/app.slice/a.scope\n";
        assert_eq!(
            parse_v2_path(hybrid).as_deref(),
            Some("/user.slice/user-1000.slice/user@1000.service/app.slice/a.scope")
        );
        assert_eq!(parse_v2_path("0::/\n").as_deref(), Some("/"));
        assert_eq!(parse_v2_path("4:memory:/x\n"), None);
    }

    #[test]
    fn v2_mount_from_mountinfo() {
        let mi = "30 1 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
                  41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(
            parse_v2_mount(mi),
            Some(("/".into(), PathBuf::from("/sys/fs/cgroup/unified")))
        );
        let odd = "41 31 0:38 /a\\040b /mnt/cg\\040x rw - cgroup2 none rw\n";
        assert_eq!(
            parse_v2_mount(odd),
            Some(("/a b".into(), PathBuf::from("/mnt/cg x")))
        );
        assert_eq!(parse_v2_mount(""), None);
    }

    #[test]
    fn host_dirs_under_the_mount() {
        let m = Path::new("/sys/fs/cgroup");
        assert_eq!(
            host_dir("/user.slice/a.scope", "/", m),
            Some(PathBuf::from("/sys/fs/cgroup/user.slice/a.scope"))
        );
        assert_eq!(host_dir("/", "/", m), Some(m.to_path_buf()));
        // A mount of a sub-tree (e.g. inside a cgroup namespace).
        assert_eq!(
            host_dir("/sub/x", "/sub", m),
            Some(PathBuf::from("/sys/fs/cgroup/x"))
        );
        assert_eq!(host_dir("/subx", "/sub", m), None);
        assert_eq!(host_dir("/a/../b", "/", m), None);
        assert_eq!(host_dir("relative", "/", m), None);
    }
}
