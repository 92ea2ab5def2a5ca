//! Volumes: directories that outlive containers.
//!
//! `$XDG_DATA_HOME/coracle/volumes/NAME/` holds `_data` (what containers
//! mount) and `volume.json` (name, creation time, labels, whether it is
//! anonymous). A volume is made in a temporary directory and renamed into
//! place under `volumes.lock`, so it exists whole or not at all and two
//! concurrent creations of one name make one volume. Which containers use
//! a volume is read from their records (`container.json` mounts), never
//! stored with the volume, so it cannot drift.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::error::ExitError;

/// The label Docker (23+) puts on anonymous volumes.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";
const META_FILE: &str = "volume.json";

/// `volume.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Meta {
    pub name: String,
    pub created_at: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub anonymous: bool,
}

/// One volume on disk.
#[derive(Debug, Clone)]
pub struct Volume {
    pub meta: Meta,
    /// `volumes/NAME`.
    pub dir: PathBuf,
}

impl Volume {
    /// `volumes/NAME/_data`, what containers mount.
    pub fn mountpoint(&self) -> PathBuf {
        self.dir.join("_data")
    }
}

/// `$XDG_DATA_HOME/coracle/volumes` (0700).
pub fn volumes_dir() -> anyhow::Result<PathBuf> {
    super::private_dirs(super::data_dir()?.join("volumes"))
}

/// The lock of volume creation, removal and first-use copying.
pub type VolumesLock = super::DataLock;

pub fn lock() -> anyhow::Result<VolumesLock> {
    super::lock_data("volumes.lock")
}

/// Docker's message for a bad volume name.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    if !crate::spec::options::is_volume_name(name) {
        bail!(
            "create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        );
    }
    Ok(())
}

fn not_found(name: &str) -> anyhow::Error {
    ExitError::new(1, format!("No such volume: {name}")).into()
}

/// Reads volume `name`; `None` when there is none.
pub fn get(name: &str) -> anyhow::Result<Option<Volume>> {
    if !crate::spec::options::is_volume_name(name) {
        return Ok(None);
    }
    let dir = volumes_dir()?.join(name);
    let p = dir.join(META_FILE);
    let b = match std::fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("read {}", p.display())),
    };
    let meta: Meta = serde_json::from_slice(&b).with_context(|| {
        format!(
            "{} is damaged; remove the volume's directory {} by hand",
            p.display(),
            dir.display()
        )
    })?;
    Ok(Some(Volume { meta, dir }))
}

/// Volume `name`, or Docker's "No such volume" (exit 1).
pub fn find(name: &str) -> anyhow::Result<Volume> {
    get(name)?.ok_or_else(|| not_found(name))
}

/// Every volume, by name.
pub fn list() -> anyhow::Result<Vec<Volume>> {
    let base = volumes_dir()?;
    let mut out = Vec::new();
    for e in std::fs::read_dir(&base).with_context(|| format!("read {}", base.display()))? {
        let e = e.with_context(|| format!("read {}", base.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        match get(&name) {
            Ok(Some(v)) => out.push(v),
            Ok(None) => {}
            Err(err) => eprintln!("coracle: warning: volume {name}: {err:#}"),
        }
    }
    out.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    Ok(out)
}

/// Creates volume `name` unless it exists (the lock must be held); the
/// volume and whether it was made now.
pub fn create_locked(
    _lock: &VolumesLock,
    name: &str,
    labels: BTreeMap<String, String>,
    anonymous: bool,
) -> anyhow::Result<(Volume, bool)> {
    check_name(name)?;
    if let Some(v) = get(name)? {
        return Ok((v, false));
    }
    let base = volumes_dir()?;
    let tmp = base.join(format!(".tmp-{name}-{}", std::process::id()));
    let _ = crate::image::store::remove(&tmp);
    let made = (|| -> anyhow::Result<()> {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&tmp)
            .with_context(|| format!("create {}", tmp.display()))?;
        let data = tmp.join("_data");
        std::fs::DirBuilder::new()
            .mode(0o755)
            .create(&data)
            .with_context(|| format!("create {}", data.display()))?;
        let mut labels = labels;
        if anonymous {
            labels.insert(ANONYMOUS_LABEL.into(), String::new());
        }
        let meta = Meta {
            name: name.to_string(),
            created_at: super::now(),
            labels,
            anonymous,
        };
        super::write_atomic(&tmp.join(META_FILE), &serde_json::to_vec_pretty(&meta)?)?;
        let dest = base.join(name);
        std::fs::rename(&tmp, &dest)
            .with_context(|| format!("rename {} to {}", tmp.display(), dest.display()))
    })();
    if let Err(e) = made {
        let _ = crate::image::store::remove(&tmp);
        return Err(e);
    }
    Ok((find(name)?, true))
}

/// `volume create`: creates `name` (or returns the existing one).
pub fn create(name: &str, labels: BTreeMap<String, String>) -> anyhow::Result<Volume> {
    let l = lock()?;
    Ok(create_locked(&l, name, labels, false)?.0)
}

/// The containers (full ids) whose records mount volume `name`.
pub fn users(name: &str) -> anyhow::Result<Vec<String>> {
    Ok(users_of_all()?.remove(name).unwrap_or_default())
}

/// Volume name -> the containers that mount it.
pub fn users_of_all() -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in super::list()? {
        for mnt in &c.record.mounts {
            if let Some(n) = mnt.name.as_ref().filter(|_| mnt.typ == "volume") {
                m.entry(n.clone()).or_default().push(c.record.id.clone());
            }
        }
    }
    Ok(m)
}

/// Removes volume `name` (the lock must be held) unless a container uses
/// it: Docker's "volume is in use - [ID]".
pub fn remove_locked(_lock: &VolumesLock, name: &str) -> anyhow::Result<u64> {
    let v = find(name)?;
    let users = users(name)?;
    if !users.is_empty() {
        return Err(ExitError::new(
            1,
            format!("remove {name}: volume is in use - [{}]", users.join(", ")),
        )
        .into());
    }
    let size = crate::image::store::dir_size(&v.dir);
    // Renamed away first, so the name is free at once and a half-removed
    // volume is never listed.
    let gone = volumes_dir()?.join(format!(".rm-{name}-{}", std::process::id()));
    std::fs::rename(&v.dir, &gone)
        .with_context(|| format!("rename {} to {}", v.dir.display(), gone.display()))?;
    crate::image::store::remove(&gone)?;
    Ok(size)
}

/// Removes the anonymous volumes among `mounts` that no container uses
/// any more (`rm -v`, `run --rm`).
pub fn remove_anonymous(mounts: &[super::MountRecord]) -> anyhow::Result<()> {
    let anon: Vec<&String> = mounts
        .iter()
        .filter(|m| m.typ == "volume" && m.anonymous)
        .filter_map(|m| m.name.as_ref())
        .collect();
    if anon.is_empty() {
        return Ok(());
    }
    let l = lock()?;
    for n in anon {
        match remove_locked(&l, n) {
            Ok(_) => {}
            // Gone already, or another container mounts it too: it stays.
            Err(e)
                if e.to_string().starts_with("No such volume")
                    || e.to_string().contains("volume is in use") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Whether a directory is empty.
fn is_empty_dir(p: &Path) -> anyhow::Result<bool> {
    Ok(std::fs::read_dir(p)
        .with_context(|| format!("read {}", p.display()))?
        .next()
        .is_none())
}

/// Makes the volumes of a planned container: creates the missing ones and,
/// for an empty volume whose target has content in the container's root,
/// copies that content into it first (Docker's copy-up). The target is
/// resolved inside `rootfs` (`openat2` RESOLVE_IN_ROOT) and the copy never
/// follows a symlink. Returns the names of the volumes created now and the
/// volumes lock (held when there are volumes), for the caller to keep until
/// the container's record names them.
pub fn prepare(
    planned: &[crate::spec::PlannedVolume],
    rootfs: &Path,
) -> anyhow::Result<(Vec<String>, Option<VolumesLock>)> {
    if planned.is_empty() {
        return Ok((Vec::new(), None));
    }
    let l = lock()?;
    let mut created = Vec::new();
    let result = (|| -> anyhow::Result<()> {
        for p in planned {
            let (v, new) = create_locked(&l, &p.name, BTreeMap::new(), p.anonymous)?;
            if new {
                created.push(p.name.clone());
            }
            if !p.nocopy {
                copy_up(&v, rootfs, &p.destination)?;
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        for n in &created {
            let _ = remove_locked(&l, n);
        }
        return Err(e);
    }
    Ok((created, Some(l)))
}

fn copy_up(v: &Volume, rootfs: &Path, dest: &Path) -> anyhow::Result<()> {
    use nix::fcntl::OFlag;
    let data = v.mountpoint();
    if !is_empty_dir(&data)? {
        return Ok(());
    }
    let root = File::open(rootfs).with_context(|| format!("open {}", rootfs.display()))?;
    let src = match crate::rootpath::open_in_root(
        root.as_fd(),
        dest,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY,
    ) {
        Ok(fd) => File::from(fd),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => return Ok(()),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("open {} in {}", dest.display(), rootfs.display()))
        }
    };
    let empty = nix::dir::Dir::openat(
        Some(src.as_raw_fd()),
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY,
        nix::sys::stat::Mode::empty(),
    )
    .map(|mut d| {
        d.iter()
            .flatten()
            .all(|e| matches!(e.file_name().to_bytes(), b"." | b".."))
    })
    .unwrap_or(true);
    if empty {
        return Ok(());
    }
    // The fd was opened inside the root; its /proc link names exactly it.
    let src_path = PathBuf::from(format!("/proc/self/fd/{}", src.as_raw_fd()));
    crate::image::unpack::apply_layer(&src_path, &data).with_context(|| {
        format!(
            "copy {} of the container's root into volume {}",
            dest.display(),
            v.meta.name
        )
    })?;
    // The volume's root takes the mode of the directory it covers.
    let st = nix::sys::stat::fstat(src.as_raw_fd())
        .with_context(|| format!("stat {}", dest.display()))?;
    std::fs::set_permissions(
        &data,
        std::os::unix::fs::PermissionsExt::from_mode(st.st_mode & 0o7777),
    )
    .with_context(|| format!("chmod {}", data.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trips() {
        let m = Meta {
            name: "x1".into(),
            created_at: "2026-01-01T00:00:00.000000000Z".into(),
            labels: [("a".to_string(), "b".to_string())].into_iter().collect(),
            anonymous: false,
        };
        let back: Meta = serde_json::from_slice(&serde_json::to_vec(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert!(check_name("ok-1").is_ok());
        assert!(check_name("x").is_err());
        assert!(check_name("../x").is_err());
    }
}
