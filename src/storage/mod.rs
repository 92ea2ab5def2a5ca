//! A container's root file system from its image's layers: the storage
//! drivers.
//!
//! - `overlay`: kernel overlayfs, mounted by the sandbox child inside the
//!   container's user and mount namespaces (`userxattr`, so no privilege
//!   is needed) over the store's layer directories, with the writable
//!   layer (`upper/`, `work/`) in the container's directory and the mount
//!   point `merged/` there. Nothing is copied.
//! - `fuse-overlay`: coracle's own FUSE overlay (`crate::fuseovl`) over the
//!   store's layers as they are (OCI whiteouts), same `upper/`, `work/`,
//!   `merged/`, served by a daemon that joins the container's user and
//!   mount namespaces from outside its pid namespace ([`fuse`]). Owners
//!   are emulated from `user.containers.override_stat`.
//! - `vfs`: a full copy of the layers into `rootfs/` (`image::rootfs`).
//!
//! The driver is chosen when the container is created (`--storage-driver`,
//! else `storage_driver` in `$XDG_CONFIG_HOME/coracle/coracle.toml`, else
//! the default rule of [`choose`]) and recorded
//! in the container's `storage.json`; it is used for its whole life.
//! Readers outside the container (`diff`, `commit`, `export`, `cp`, and
//! `run` itself for `/etc/passwd` and volume copy-up) get the merged root
//! as a directory fd from [`view`].

pub mod config;
pub mod fuse;
pub mod layers;
pub mod overlay;
pub mod probe;
pub mod view;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::image::store::{ImageRecord, Store};

/// Where a container's storage is described.
pub const RECORD_FILE: &str = "storage.json";

/// The most lower layers overlayfs stacks (the kernel's `OVL_MAX_STACK`).
pub const MAX_LAYERS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    /// Kernel overlayfs in the container's user namespace
    Overlay,
    /// A full copy of the image's layers per container
    Vfs,
    /// coracle's FUSE overlay (owners as the image records them)
    #[serde(rename = "fuse-overlay")]
    FuseOverlay,
}

impl Driver {
    pub fn name(self) -> &'static str {
        match self {
            Driver::Overlay => "overlay",
            Driver::Vfs => "vfs",
            Driver::FuseOverlay => "fuse-overlay",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "overlay" | "overlay2" => Some(Driver::Overlay),
            "vfs" => Some(Driver::Vfs),
            "fuse-overlay" | "fuse-overlayfs" => Some(Driver::FuseOverlay),
            _ => None,
        }
    }
}

static FLAG: OnceLock<Driver> = OnceLock::new();

/// Records the global `--storage-driver` flag (once, before any command).
pub fn set_flag(d: Option<Driver>) {
    if let Some(d) = d {
        let _ = FLAG.set(d);
    }
}

/// The driver for a new container: the flag, else the config file, else
/// the default rule:
///
/// 1. where the (cached) probe says kernel overlay works: an image whose
///    layers record non-root owners (the store is written as one user, so
///    the kernel overlay would show every file as root's, with the modes
///    the disk could hold) gets `fuse-overlay`, which shows the recorded
///    owners and modes, where `/dev/fuse` can be used; any other image
///    gets `overlay`;
/// 2. else `vfs`.
///
/// `fuse-overlay` needs the kernel overlay too: `diff`, `commit`, `export`
/// and `cp` read a container's root from outside its user namespace, where
/// a FUSE mount answers EACCES, so they read the same layers and upper
/// through a kernel overlay ([`view`]). A driver asked for that does not
/// work here is an error.
pub fn choose(store: &Store, image: &ImageRecord) -> anyhow::Result<Driver> {
    let asked = match FLAG.get() {
        Some(d) => Some((*d, "--storage-driver".to_string())),
        None => config::Config::load()?
            .storage_driver
            .map(|d| (d, config::Config::path_shown())),
    };
    match asked {
        Some((Driver::Vfs, _)) => Ok(Driver::Vfs),
        Some((Driver::Overlay, from)) => {
            let p = probe::probe(store);
            if p.overlay {
                Ok(Driver::Overlay)
            } else {
                anyhow::bail!(
                    "the overlay storage driver ({from}) does not work here: {}; use --storage-driver vfs",
                    p.reason
                )
            }
        }
        Some((Driver::FuseOverlay, from)) => {
            if let Err(e) = fuse::usable() {
                anyhow::bail!(
                    "the fuse-overlay storage driver ({from}) does not work here: {e}; use --storage-driver overlay or vfs"
                )
            }
            let p = probe::probe(store);
            if !p.overlay {
                anyhow::bail!(
                    "the fuse-overlay storage driver ({from}) needs the kernel overlay to read containers' roots from outside (diff, commit, export, cp), which does not work here: {}; use --storage-driver vfs",
                    p.reason
                )
            }
            Ok(Driver::FuseOverlay)
        }
        None => {
            if !probe::probe(store).overlay {
                return Ok(Driver::Vfs);
            }
            if fuse::usable().is_ok() && layers::image_records_owners(store, image)? {
                return Ok(Driver::FuseOverlay);
            }
            Ok(Driver::Overlay)
        }
    }
}

/// A container's `storage.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StorageRecord {
    pub driver: Driver,
    /// Overlay: the lower layer directories, top first. fuse-overlay: the
    /// store's layer directories, top first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lower: Vec<PathBuf>,
    /// fuse-overlay: the same layers as kernel overlay lower directories
    /// (`layers::lower_dirs`), for reading the root from outside.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub view_lower: Vec<PathBuf>,
}

impl StorageRecord {
    /// The record of the container in `dir`; `None` for a container made
    /// before drivers existed or on a `--rootfs` directory (both vfs-like:
    /// the root is a plain directory).
    pub fn read(dir: &Path) -> anyhow::Result<Option<Self>> {
        let p = dir.join(RECORD_FILE);
        match std::fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .with_context(|| format!("{} is damaged; remove the container", p.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("read {}", p.display())),
        }
    }

    /// The overlay layout of the container in `dir`, if it uses overlay.
    pub fn overlay(&self, dir: &Path) -> Option<overlay::Layout> {
        (self.driver == Driver::Overlay).then(|| overlay::Layout::new(dir, self.lower.clone()))
    }

    /// The layout of the container in `dir` with its driver, if it uses
    /// overlay or fuse-overlay.
    pub fn layered(&self, dir: &Path) -> Option<(Driver, overlay::Layout)> {
        matches!(self.driver, Driver::Overlay | Driver::FuseOverlay)
            .then(|| (self.driver, overlay::Layout::new(dir, self.lower.clone())))
    }

    /// The kernel overlay that reads the root of the container in `dir`
    /// from outside it (`storage::view`), if it has layers: overlay's own
    /// layout, or fuse-overlay's layers and upper with a work directory of
    /// the view's own (`work`; the daemon may be using the container's).
    pub fn view_layout(&self, dir: &Path, work: &Path) -> Option<overlay::Layout> {
        match self.driver {
            Driver::Overlay => self.overlay(dir),
            Driver::FuseOverlay => {
                let mut l = overlay::Layout::new(dir, self.view_lower.clone());
                l.work = work.to_path_buf();
                Some(l)
            }
            Driver::Vfs => None,
        }
    }
}

/// The FUSE overlay layout of the container in `dir`, if it uses
/// fuse-overlay.
pub fn fuse_of(dir: &Path) -> anyhow::Result<Option<overlay::Layout>> {
    Ok(StorageRecord::read(dir)?
        .and_then(|r| r.layered(dir))
        .and_then(|(d, l)| (d == Driver::FuseOverlay).then_some(l)))
}

/// The overlay layout of the container in `dir`, if it uses overlay.
pub fn overlay_of(dir: &Path) -> anyhow::Result<Option<overlay::Layout>> {
    Ok(StorageRecord::read(dir)?.and_then(|r| r.overlay(dir)))
}

/// Docker's `GraphDriver` object of `inspect`.
pub fn graph_driver(dir: &Path) -> serde_json::Value {
    match StorageRecord::read(dir) {
        Ok(Some(r)) => match r.layered(dir) {
            Some((d, l)) => serde_json::json!({
                "Name": d.name(),
                "Data": {
                    "LowerDir": l.lower.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":"),
                    "UpperDir": l.upper.display().to_string(),
                    "WorkDir": l.work.display().to_string(),
                    "MergedDir": l.merged.display().to_string(),
                }
            }),
            None => serde_json::json!({ "Name": r.driver.name(), "Data": null }),
        },
        _ => serde_json::json!({ "Name": "vfs", "Data": null }),
    }
}

/// A new container's root.
pub struct NewRoot {
    /// The root directory the container's spec names (`rootfs/` or
    /// `merged/`).
    pub path: PathBuf,
    /// Overlay: the merged root, mounted out of the container for `run`
    /// to read (`/etc/passwd`, volume copy-up) before the container exists.
    pub view: Option<view::View>,
}

impl NewRoot {
    /// A path that reads the root's content from this process.
    pub fn read_path(&self) -> PathBuf {
        match &self.view {
            Some(v) => crate::rootpath::fd_path(std::os::fd::AsFd::as_fd(v)),
            None => self.path.clone(),
        }
    }
}

/// Makes the root of a new container in `base` (its directory) from the
/// image's layers with `driver`.
pub fn create(
    store: &Store,
    image: &ImageRecord,
    base: &Path,
    driver: Driver,
) -> anyhow::Result<NewRoot> {
    let driver = if image.layers.is_empty() {
        // overlayfs needs a lower layer; an empty image is an empty copy.
        Driver::Vfs
    } else {
        driver
    };
    let write_record = |r: &StorageRecord| {
        crate::container::write_atomic(&base.join(RECORD_FILE), &serde_json::to_vec_pretty(r)?)
    };
    match driver {
        Driver::Vfs => {
            let root = base.join("rootfs");
            crate::image::rootfs::build(store, image, &root)?;
            write_record(&StorageRecord {
                driver,
                lower: Vec::new(),
                view_lower: Vec::new(),
            })?;
            Ok(NewRoot {
                path: root,
                view: None,
            })
        }
        Driver::Overlay | Driver::FuseOverlay => {
            let mut lower = Vec::new();
            let mut view_lower = Vec::new();
            for layer in image.layers.iter().rev() {
                anyhow::ensure!(
                    store.layer_path(&layer.diff_id).is_dir(),
                    "layer {} of image {} is missing from the store; pull the image again",
                    layer.diff_id,
                    image.id
                );
                view_lower.extend(layers::lower_dirs(store, &layer.diff_id)?);
                // The FUSE overlay reads the OCI whiteouts itself.
                lower.push(store.layer_path(&layer.diff_id));
            }
            if driver == Driver::Overlay {
                lower = std::mem::take(&mut view_lower);
            }
            if lower.len().max(view_lower.len()) > MAX_LAYERS {
                anyhow::bail!(
                    "image {} needs {} lower directories (its layers with whiteouts take three), more than overlayfs stacks ({MAX_LAYERS}); use --storage-driver vfs",
                    image.id,
                    lower.len()
                );
            }
            let layout = overlay::Layout::new(base, lower);
            layout.create_dirs()?;
            write_record(&StorageRecord {
                driver,
                lower: layout.lower.clone(),
                view_lower: view_lower.clone(),
            })?;
            // `diff` compares the content of files whose inode changed
            // after this (copied up by the container).
            let stamp = base.join(crate::container::changes::STAMP_FILE);
            std::fs::write(&stamp, b"").with_context(|| format!("create {}", stamp.display()))?;
            let read_lower = if driver == Driver::Overlay {
                &layout.lower
            } else {
                &view_lower
            };
            let view = view::mount_layers(read_lower, base)?;
            Ok(NewRoot {
                path: layout.merged.clone(),
                view: Some(view),
            })
        }
    }
}
