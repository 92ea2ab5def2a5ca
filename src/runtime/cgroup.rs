//! The runtime's own cgroup v2 per container, where the creator's cgroup is
//! delegated to the user (the same test as `coracle run`'s,
//! `container::cgroup::delegated_parent`): `coracle-runtime-ID` beside the
//! creator, entered by the init at its clone (CLONE_INTO_CGROUP, so it is
//! also the root of a new cgroup namespace). It gives `pause`/`resume` (the
//! cgroup v2 freezer) and `cgroup.kill` for `delete --force`. Only a
//! directory of that name on a cgroup2 file system is ever written to or
//! removed. Resource limits are not applied (see `config::plan`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The cgroup directory name of container `id`.
pub fn dir_name(id: &str) -> String {
    format!("coracle-runtime-{id}")
}

fn is_cgroup2(p: &Path) -> bool {
    nix::sys::statfs::statfs(p)
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
}

/// Whether `p` is a cgroup this runtime made (its name and file system).
pub fn is_ours(p: &Path, id: &str) -> bool {
    p.is_absolute()
        && p.file_name().and_then(|n| n.to_str()) == Some(dir_name(id).as_str())
        && is_cgroup2(p)
}

/// Makes the cgroup of container `id`, or `None` (with the reason) when
/// the caller's cgroup is not delegated or the kernel lacks the freezer.
pub fn create(id: &str) -> Result<PathBuf, String> {
    let parent = crate::container::cgroup::delegated_parent()?;
    let path = parent.join(dir_name(id));
    match std::fs::create_dir(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && is_cgroup2(&path) => {
            // Left by an earlier container of this id that was not deleted.
            destroy(&path).map_err(|e| format!("remove the old {}: {e}", path.display()))?;
            std::fs::create_dir(&path).map_err(|e| format!("create {}: {e}", path.display()))?;
        }
        Err(e) => return Err(format!("create {}: {e}", path.display())),
    }
    if !path.join("cgroup.freeze").exists() || !path.join("cgroup.kill").exists() {
        let _ = std::fs::remove_dir(&path);
        return Err("the kernel has no cgroup v2 freezer or cgroup.kill (Linux 5.14+)".into());
    }
    Ok(path)
}

fn event(p: &Path, key: &str) -> Option<String> {
    let s = std::fs::read_to_string(p.join("cgroup.events")).ok()?;
    s.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().to_string())
    })
}

/// Whether the cgroup is asked to be frozen.
pub fn is_frozen(p: &Path) -> bool {
    std::fs::read_to_string(p.join("cgroup.freeze")).is_ok_and(|s| s.trim() == "1")
}

/// Freezes or thaws, waiting for the kernel to say it is done.
pub fn set_frozen(p: &Path, frozen: bool) -> anyhow::Result<()> {
    crate::container::cgroup::set_frozen(p, frozen).map_err(|e| {
        anyhow::anyhow!(
            "{} {}: {e}",
            if frozen { "freeze" } else { "thaw" },
            p.display()
        )
    })
}

/// The host pids in the cgroup (and below).
pub fn pids(p: &Path) -> Vec<i32> {
    let mut v = Vec::new();
    let mut dirs = vec![p.to_path_buf()];
    while let Some(d) = dirs.pop() {
        if let Ok(s) = std::fs::read_to_string(d.join("cgroup.procs")) {
            v.extend(s.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
        }
        if let Ok(rd) = std::fs::read_dir(&d) {
            dirs.extend(
                rd.flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path()),
            );
        }
    }
    v.sort();
    v
}

/// Kills everything in the cgroup and removes it (deepest first).
pub fn destroy(p: &Path) -> std::io::Result<()> {
    match std::fs::write(p.join("cgroup.kill"), "1") {
        Ok(()) => {}
        Err(e) if !p.exists() => {
            let _ = e;
            return Ok(());
        }
        Err(e) => return Err(e),
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while event(p, "populated").is_some_and(|v| v != "0") {
        if Instant::now() > deadline {
            return Err(std::io::Error::other(format!(
                "{} still has processes after cgroup.kill",
                p.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    remove_tree(p)
}

fn remove_tree(p: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(p)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            remove_tree(&e.path())?;
        }
    }
    match std::fs::remove_dir(p) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}
