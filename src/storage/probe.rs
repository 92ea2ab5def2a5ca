//! Whether kernel overlayfs works in a user namespace on this storage
//! location: tried once with a tiny overlay (a lower file deleted, a file
//! created) and cached in the store's `storage-probe.json` until the
//! kernel release changes.

use std::os::fd::AsFd;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::overlay::Layout;
use crate::image::store::Store;

/// The cache file in the store's directory.
pub const CACHE_FILE: &str = "storage-probe.json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Probe {
    /// `uname -r` when probed.
    pub kernel: String,
    pub overlay: bool,
    /// Why not, when it does not work.
    #[serde(default)]
    pub reason: String,
}

fn kernel_release() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The cached probe for `store`'s location, probing when there is none
/// for the running kernel.
pub fn probe(store: &Store) -> Probe {
    let cache = store.root().join(CACHE_FILE);
    let kernel = kernel_release();
    if let Some(p) = std::fs::read(&cache)
        .ok()
        .and_then(|b| serde_json::from_slice::<Probe>(&b).ok())
        .filter(|p| p.kernel == kernel)
    {
        return p;
    }
    let p = match try_overlay(store.root()) {
        Ok(()) => Probe {
            kernel,
            overlay: true,
            reason: String::new(),
        },
        Err(e) => Probe {
            kernel,
            overlay: false,
            reason: format!("{e:#}"),
        },
    };
    if let Ok(b) = serde_json::to_vec_pretty(&p) {
        let _ = crate::container::write_atomic(&cache, &b);
    }
    p
}

fn try_overlay(root: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = root.join(format!(".probe-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(dir.join("lower/d")).context("create the probe directory")?;
    let result = (|| -> anyhow::Result<()> {
        std::fs::write(dir.join("lower/f"), b"lower")?;
        let l = Layout::new(&dir, vec![dir.join("lower")]);
        l.create_dirs()?;
        let root = super::view::mount(&l, &super::view::own_ids())?;
        let fd = root.as_fd();
        nix::unistd::unlinkat(
            Some(std::os::fd::AsRawFd::as_raw_fd(&fd)),
            "f",
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        )
        .context("delete a lower file through the overlay")?;
        nix::unistd::unlinkat(
            Some(std::os::fd::AsRawFd::as_raw_fd(&fd)),
            "d",
            nix::unistd::UnlinkatFlags::RemoveDir,
        )
        .context("delete a lower directory through the overlay")?;
        drop(root);
        for name in ["f", "d"] {
            let p = l.upper.join(name);
            let md = std::fs::symlink_metadata(&p)
                .with_context(|| format!("no whiteout for a deleted lower {name}"))?;
            let whiteout = (md.file_type().is_char_device() && {
                use std::os::unix::fs::MetadataExt;
                md.rdev() == 0
            }) || xattr::get(&p, "user.overlay.whiteout")
                .ok()
                .flatten()
                .is_some();
            anyhow::ensure!(whiteout, "the overlay wrote no whiteout for {name}");
        }
        anyhow::ensure!(
            std::fs::read(dir.join("lower/f"))? == b"lower",
            "the overlay changed its lower layer"
        );
        Ok(())
    })();
    let _ = crate::image::store::remove(&dir);
    result
}
