//! Container records on disk. Each container has a directory under the data
//! directory (`$XDG_DATA_HOME/coracle/containers/ID`, kept across reboots)
//! holding its OCI config, its record (what `run` was asked), its state, its
//! log and the files coracle generates for it, and a directory under the
//! runtime directory (`$XDG_RUNTIME_DIR/coracle/containers/ID`) holding the
//! lock its monitor holds for its lifetime. Every write is atomic (temp
//! file + rename).

pub mod attach;
pub mod cgroup;
pub mod changes;
pub mod cp;
pub mod health;
pub mod logs;
pub mod monitor;
pub mod names;
pub mod procs;
pub mod record;
pub mod restart;
pub mod volumes;

pub use record::*;

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

/// `$XDG_RUNTIME_DIR/coracle`, or a private `/tmp/coracle-UID` (0700, ours).
pub fn runtime_dir() -> anyhow::Result<PathBuf> {
    let uid = nix::unistd::getuid().as_raw();
    if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR").filter(|x| !x.is_empty()) {
        let base = PathBuf::from(x);
        if base.is_dir() {
            let d = base.join("coracle");
            ensure_private_dir(&d, uid)?;
            return Ok(d);
        }
    }
    let d = PathBuf::from(format!("/tmp/coracle-{uid}"));
    ensure_private_dir(&d, uid)?;
    Ok(d)
}

/// `$XDG_DATA_HOME/coracle`, default `~/.local/share/coracle`.
pub fn data_dir() -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => {
            let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).context(
                "neither XDG_DATA_HOME nor HOME is set: set one of them to say where coracle keeps its data",
            )?;
            PathBuf::from(home).join(".local/share")
        }
    };
    let d = base.join("coracle");
    std::fs::create_dir_all(&d).with_context(|| format!("create {}", d.display()))?;
    Ok(d)
}

/// Creates `d` mode 0700 if missing, and refuses one that someone else owns
/// or others can reach (a shared /tmp is hostile ground).
fn ensure_private_dir(d: &Path, uid: u32) -> anyhow::Result<()> {
    match std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(false)
        .create(d)
    {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("create {}", d.display())),
    }
    let md = std::fs::symlink_metadata(d).with_context(|| format!("stat {}", d.display()))?;
    if !md.is_dir() || md.uid() != uid || md.mode() & 0o077 != 0 {
        bail!(
            "{} must be a directory owned by you with mode 0700; remove it or set XDG_RUNTIME_DIR",
            d.display()
        );
    }
    Ok(())
}

/// Writes `data` to `path` atomically (no fsync: runtime state lives on tmpfs
/// and readers only need all-or-nothing).
pub fn write_atomic(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    write_via_rename(path, data, false)
}

/// Writes `data` to `path` atomically and durably: the file and the rename
/// reach the disk before this returns (for the image store, which must
/// survive a crash of the machine, not only of coracle).
pub fn write_atomic_durable(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    write_via_rename(path, data, true)
}

fn write_via_rename(path: &Path, data: &[u8], durable: bool) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).with_context(|| format!("create {}", tmp.display()))?;
    f.write_all(data)
        .with_context(|| format!("write {}", tmp.display()))?;
    if durable {
        f.sync_all()
            .with_context(|| format!("sync {}", tmp.display()))?;
    }
    std::fs::rename(&tmp, path)
        .with_context(|| format!("rename {} to {}", tmp.display(), path.display()))?;
    if durable {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// RFC 3339 UTC time of a Unix timestamp, as Docker prints times.
pub fn rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

pub fn now() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(t.as_secs() as i64, t.subsec_nanos())
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    /// Between two runs under a restart policy (its monitor waits).
    Restarting,
    Exited,
    /// Recorded as running, but the process that ran it (its monitor, or
    /// the foreground `run`) is gone: never written, only seen.
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Restarting => "restarting",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }
}

/// `state.json` of a container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub id: String,
    pub status: Status,
    /// Host pid of the container's first process while it runs.
    pub pid: Option<i32>,
    pub exit_code: Option<i32>,
    pub created: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Why the container could not start (or what went wrong).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Host pid of the process that runs it (monitor or foreground `run`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_pid: Option<i32>,
    /// How often its restart policy ran it again since its last `start`.
    #[serde(default)]
    pub restart_count: u32,
}

/// The directory of one container.
pub struct ContainerDir {
    pub path: PathBuf,
    pub state: State,
}

impl ContainerDir {
    /// Where the directory of container `id` is (nothing is created).
    pub fn path_of(id: &str) -> anyhow::Result<PathBuf> {
        Ok(containers_dir()?.join(id))
    }

    /// Creates the directory of container `id` (it may exist already when
    /// the container's root was built there) with a fresh state.
    pub fn create(id: &str) -> anyhow::Result<Self> {
        let path = Self::path_of(id)?;
        match std::fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("create {}", path.display())),
        }
        let state = State {
            id: id.to_string(),
            status: Status::Created,
            pid: None,
            exit_code: None,
            created: now(),
            started_at: None,
            finished_at: None,
            error: None,
            monitor_pid: None,
            restart_count: 0,
        };
        let dir = Self { path, state };
        dir.save_state()?;
        Ok(dir)
    }

    /// The directory of an existing container, with its state.
    pub fn open(id: &str) -> anyhow::Result<Self> {
        let path = Self::path_of(id)?;
        let state = read_state(&path)?;
        Ok(Self { path, state })
    }

    /// Writes a generated file readable inside the container.
    pub fn write_file(&self, name: &str, data: &str) -> anyhow::Result<PathBuf> {
        let p = self.path.join(name);
        write_atomic(&p, data.as_bytes())?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("chmod {}", p.display()))?;
        Ok(p)
    }

    pub fn save_state(&self) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(&self.state)?;
        write_atomic(&self.path.join("state.json"), &json)
    }

    /// Removes every trace of the container: its records, its root, its
    /// log and its runtime directory.
    pub fn remove(self) -> anyhow::Result<()> {
        remove_container_files(&self.state.id)
    }
}

/// `$XDG_DATA_HOME/coracle/containers` (0700).
pub fn containers_dir() -> anyhow::Result<PathBuf> {
    private_dirs(data_dir()?.join("containers"))
}

/// An exclusive lock on `$XDG_DATA_HOME/coracle/NAME`, held while alive.
pub struct DataLock {
    _file: std::fs::File,
}

/// Takes the lock file `name` in the data directory (waits for it).
pub fn lock_data(name: &str) -> anyhow::Result<DataLock> {
    let p = data_dir()?.join(name);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p)
        .with_context(|| format!("open {}", p.display()))?;
    f.lock().with_context(|| format!("lock {}", p.display()))?;
    Ok(DataLock { _file: f })
}

/// Creates `d` and its missing parents, mode 0700; returns it.
pub(crate) fn private_dirs(d: PathBuf) -> anyhow::Result<PathBuf> {
    std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(&d)
        .with_context(|| format!("create {}", d.display()))?;
    Ok(d)
}

/// `$XDG_RUNTIME_DIR/coracle/containers/ID` (created, 0700).
pub fn runtime_path_of(id: &str) -> anyhow::Result<PathBuf> {
    private_dirs(runtime_dir()?.join("containers").join(id))
}

pub fn read_state(dir: &Path) -> anyhow::Result<State> {
    let p = dir.join("state.json");
    let b = std::fs::read(&p).with_context(|| format!("read {}", p.display()))?;
    serde_json::from_slice(&b).with_context(|| {
        format!(
            "{} is damaged; remove the container with `coracle rm -f`",
            p.display()
        )
    })
}

/// Removes the data directory of a container, its record first: a listing
/// that runs meanwhile sees a directory that is no container any more,
/// not a damaged one.
pub fn remove_data_dir(data: &Path) -> anyhow::Result<()> {
    if !data.exists() {
        return Ok(());
    }
    let record = data.join(RECORD_FILE);
    match std::fs::remove_file(&record) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("remove {}", record.display())),
    }
    // Read first: the removal may take config.json before it fails.
    let maps = crate::storage::view::container_maps(data);
    match crate::image::store::remove(data) {
        Ok(()) => Ok(()),
        // What the container's users made (owned by subordinate ids) goes
        // as the container's root, in a user namespace with its id maps.
        Err(e) => match maps {
            Ok(m) if m.0.len() > 1 || m.0.first().is_some_and(|e| e.size > 1) => {
                crate::storage::view::remove_tree(data, &m).map_err(|e2| e.context(e2))
            }
            _ => Err(e),
        },
    }
}

/// Removes the data and runtime directories of container `id`, and the
/// cgroup its runner left (the caller holds its monitor lock).
pub fn remove_container_files(id: &str) -> anyhow::Result<()> {
    // A cgroup its runner could not remove (killed with -9).
    cgroup::remove_recorded(id);
    remove_data_dir(&ContainerDir::path_of(id)?)?;
    let run = runtime_dir()?.join("containers").join(id);
    match std::fs::remove_dir_all(&run) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("remove {}", run.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(951782400, 5), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(rfc3339(1795392000, 0), "2026-11-23T00:00:00.000000000Z");
    }

    #[test]
    fn atomic_write_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn private_dir_refuses_open_modes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x");
        let uid = nix::unistd::getuid().as_raw();
        ensure_private_dir(&p, uid).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(ensure_private_dir(&p, uid).is_err());
    }
}
