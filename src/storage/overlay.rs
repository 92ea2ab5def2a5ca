//! Kernel overlayfs over the store's layers, mounted without privilege
//! inside a user namespace (`userxattr`: overlay keeps its markers in
//! `user.overlay.*` xattrs; whiteouts are 0/0 character devices, opaque
//! directories carry `user.overlay.opaque`).
//!
//! The mount is made with the new mount API: one `fsconfig("lowerdir+")`
//! per layer (Linux 6.8+), so the number of layers is not limited by the
//! page-sized option string of mount(2); older kernels get one `lowerdir`
//! string (about 60 layers fit).

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::sys::mountapi;

/// The directories of one overlay mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Read-only layers, top first.
    pub lower: Vec<PathBuf>,
    /// The writable layer (the container's changes).
    pub upper: PathBuf,
    /// overlayfs's scratch directory (same file system as `upper`).
    pub work: PathBuf,
    /// The mount point.
    pub merged: PathBuf,
}

impl Layout {
    /// The layout of a container (or probe) directory `dir`.
    pub fn new(dir: &Path, lower: Vec<PathBuf>) -> Self {
        Self {
            lower,
            upper: dir.join("upper"),
            work: dir.join("work"),
            merged: dir.join("merged"),
        }
    }

    /// Creates `upper/`, `work/` and `merged/`. The upper directory takes
    /// the mode of the top layer's root (overlay shows the upper root's).
    pub fn create_dirs(&self) -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let mode = self
            .lower
            .first()
            .and_then(|l| std::fs::metadata(l).ok())
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o755)
            | 0o700;
        for (d, m) in [
            (&self.upper, mode),
            (&self.work, 0o700),
            (&self.merged, 0o755),
        ] {
            std::fs::DirBuilder::new()
                .mode(m)
                .create(d)
                .with_context(|| format!("create {}", d.display()))?;
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(m))
                .with_context(|| format!("chmod {}", d.display()))?;
        }
        Ok(())
    }
}

fn escape(p: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in p.as_os_str().as_bytes() {
        if matches!(b, b':' | b',' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// Makes the overlay superblock of `l` and returns a detached mount of it
/// (attach it with `move_mount`, or use it as a directory fd). Needs
/// CAP_SYS_ADMIN in the user namespace that owns the current mount
/// namespace (the container's, or a throw-away one).
pub fn mount(l: &Layout) -> Result<OwnedFd, String> {
    let fail = |fs: &OwnedFd, what: &str, e: std::io::Error| {
        let log = mountapi::fs_log(fs.as_fd());
        if log.is_empty() {
            format!("mount overlay: {what}: {e}")
        } else {
            format!("mount overlay: {what}: {e} ({log})")
        }
    };
    let open = || mountapi::fsopen("overlay").map_err(|e| format!("mount overlay: fsopen: {e}"));
    let mut fs = open()?;
    let first = l.lower.first().ok_or("mount overlay: no lower layer")?;
    match mountapi::fsconfig_string(fs.as_fd(), "lowerdir+", first.as_os_str().as_bytes()) {
        Ok(()) => {
            for p in &l.lower[1..] {
                mountapi::fsconfig_string(fs.as_fd(), "lowerdir+", p.as_os_str().as_bytes())
                    .map_err(|e| fail(&fs, &format!("lower layer {}", p.display()), e))?;
            }
        }
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            // Before 6.8: one colon-separated string.
            let log = mountapi::fs_log(fs.as_fd());
            if !log.contains("nknown parameter") {
                return Err(format!(
                    "mount overlay: lower layer {}: {e} ({log})",
                    first.display()
                ));
            }
            fs = open()?;
            let joined = l
                .lower
                .iter()
                .map(|p| escape(p))
                .collect::<Vec<_>>()
                .join(&b':');
            mountapi::fsconfig_string(fs.as_fd(), "lowerdir", &joined)
                .map_err(|e| fail(&fs, "lowerdir (too many layers for this kernel?)", e))?;
        }
        Err(e) => return Err(fail(&fs, &format!("lower layer {}", first.display()), e)),
    }
    mountapi::fsconfig_string(fs.as_fd(), "upperdir", l.upper.as_os_str().as_bytes())
        .map_err(|e| fail(&fs, &format!("upper {}", l.upper.display()), e))?;
    mountapi::fsconfig_string(fs.as_fd(), "workdir", l.work.as_os_str().as_bytes())
        .map_err(|e| fail(&fs, &format!("work {}", l.work.display()), e))?;
    mountapi::fsconfig_flag(fs.as_fd(), "userxattr").map_err(|e| fail(&fs, "userxattr", e))?;
    mountapi::fsconfig_create(fs.as_fd()).map_err(|e| fail(&fs, "create", e))?;
    mountapi::fsmount(fs.as_fd()).map_err(|e| fail(&fs, "fsmount", e))
}

/// The sandbox child's hook: mounts the container's overlay on its
/// `merged/` directory (the spec's root), before the root is bound and
/// pivoted into.
pub fn mount_root(l: &Layout) -> Result<(), String> {
    let m = mount(l)?;
    mountapi::move_mount_to(m.as_fd(), &l.merged)
        .map_err(|e| format!("mount overlay on {}: {e}", l.merged.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_separators_in_lower_paths() {
        assert_eq!(escape(Path::new("/a:b,c\\d")), b"/a\\:b\\,c\\\\d".to_vec());
        let l = Layout::new(Path::new("/c/x"), vec![]);
        assert_eq!(l.upper, Path::new("/c/x/upper"));
        assert_eq!(l.work, Path::new("/c/x/work"));
        assert_eq!(l.merged, Path::new("/c/x/merged"));
    }
}
