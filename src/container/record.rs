//! What a container was asked to be (`container.json`), how to find one by
//! name or id prefix, and whether the process that runs it is alive.
//!
//! Liveness never trusts `state.json` alone: the process that runs a
//! container (its monitor, or the foreground `run`) holds an exclusive flock
//! on `$XDG_RUNTIME_DIR/coracle/containers/ID/monitor.lock` for its whole
//! life. The kernel drops the lock when that process dies, however it dies,
//! so a free lock means nobody runs the container any more.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::{read_state, runtime_dir, ContainerDir, State, Status};
use crate::error::ExitError;

/// A mount of the container (`-v`, `--mount`, `--tmpfs`, the image's
/// volumes), as `inspect` shows it; `volume rm` reads these to find the
/// users of a volume.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MountRecord {
    /// `bind`, `volume` or `tmpfs` (records from before volumes: bind).
    #[serde(default = "bind_type", rename = "type")]
    pub typ: String,
    /// The volume's name (volumes only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub source: String,
    pub destination: String,
    pub rw: bool,
    /// An anonymous volume: removed with the container by `rm -v` and `--rm`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub anonymous: bool,
}

fn bind_type() -> String {
    "bind".into()
}

/// `container.json`: what `run` was asked, written once when the container
/// is created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub name: String,
    pub created: String,
    /// The image as the user named it, or the `--rootfs` directory.
    pub image: String,
    /// The image's id (`sha256:...`) when made from an image.
    #[serde(default)]
    pub image_id: Option<String>,
    /// The process: program and arguments.
    pub path: String,
    pub args: Vec<String>,
    #[serde(default)]
    pub entrypoint: Vec<String>,
    #[serde(default)]
    pub cmd: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub working_dir: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub mounts: Vec<MountRecord>,
    #[serde(default)]
    pub tty: bool,
    #[serde(default)]
    pub open_stdin: bool,
    #[serde(default)]
    pub auto_remove: bool,
    #[serde(default)]
    pub init: bool,
    /// The signal `stop` sends first (`--stop-signal`, else the image's
    /// StopSignal), by name.
    #[serde(default)]
    pub stop_signal: Option<String>,
    /// `--stop-timeout`: seconds `stop` waits when not given `-t`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    /// `--restart`: what the monitor does when the command ends.
    #[serde(default)]
    pub restart: super::restart::RestartPolicy,
    /// Whether it runs detached under a monitor (`run -d`).
    #[serde(default)]
    pub detached: bool,
    /// `--network`: `none` (a namespace with loopback only) or `host`.
    #[serde(default = "default_network")]
    pub network_mode: String,
    /// The private network's plan: options, published ports, resolvers.
    #[serde(default = "default_net", skip_serializing_if = "Option::is_none")]
    pub net: Option<crate::net::NetConfig>,
    /// The health check (the image's, changed by `--health-*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<super::health::HealthConfig>,
    /// `--log-opt max-size`: the log is rotated beyond this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_max_size: Option<u64>,
    /// `--log-opt max-file`: how many log files are kept (with max-size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_max_file: Option<u32>,
    /// The security policy (`--policy` and the flags over it); none for
    /// containers made before policies existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<crate::policy::apply::PolicyRecord>,
}

/// The private network's plan (`--network private`), for the helper.
fn default_net() -> Option<crate::net::NetConfig> {
    None
}

fn default_network() -> String {
    "none".into()
}

pub const RECORD_FILE: &str = "container.json";
pub const LOG_FILE: &str = "container-json.log";
const MONITOR_LOCK: &str = "monitor.lock";
/// The exit code a `--rm` container's monitor leaves for `wait`.
pub const EXIT_CODE_FILE: &str = "exit-code";

/// The exit code a removed `--rm` container left for `wait`.
pub fn removed_exit_code(id: &str) -> Option<i32> {
    let p = runtime_dir()
        .ok()?
        .join("containers")
        .join(id)
        .join(EXIT_CODE_FILE);
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

/// Removes what removed `--rm` containers left for `wait`, once their
/// monitors are gone (only their directories hold an exit-code file).
fn clear_removed() {
    let Ok(base) = runtime_dir().map(|d| d.join("containers")) else {
        return;
    };
    for e in std::fs::read_dir(&base).into_iter().flatten().flatten() {
        let id = e.file_name().to_string_lossy().into_owned();
        if !is_id(&id) || !e.path().join(EXIT_CODE_FILE).is_file() || is_alive(&id) {
            continue;
        }
        if ContainerDir::path_of(&id).is_ok_and(|d| !d.exists()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

impl Record {
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let p = dir.join(RECORD_FILE);
        let b = std::fs::read(&p).with_context(|| format!("read {}", p.display()))?;
        serde_json::from_slice(&b).with_context(|| {
            format!(
                "{} is damaged; remove the container with `coracle rm -f`",
                p.display()
            )
        })
    }

    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        super::write_atomic(&dir.join(RECORD_FILE), &serde_json::to_vec_pretty(self)?)
    }
}

/// The lock the running monitor holds.
pub struct MonitorLock {
    _file: File,
}

impl MonitorLock {
    /// Another descriptor of the same open lock file: the lock stays held
    /// while any of them is open (flock belongs to the open file), so a
    /// process handed this one holds the lock with no gap.
    pub fn share(&self) -> std::io::Result<File> {
        self._file.try_clone()
    }

    /// The lock file's descriptor (to hand it to the shim across an exec).
    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self._file.as_fd()
    }

    /// Takes over a lock that [`MonitorLock::share`] handed to this
    /// process, after checking that `f` is the lock file of `id`.
    pub fn adopt(id: &str, f: File) -> anyhow::Result<Self> {
        use std::os::unix::fs::MetadataExt;
        let p = lock_path(id)?;
        let want = std::fs::metadata(&p).with_context(|| format!("stat {}", p.display()))?;
        let have = f.metadata().context("stat the handed-over lock")?;
        if (want.dev(), want.ino()) != (have.dev(), have.ino()) {
            anyhow::bail!("the lock handed over is not {}", p.display());
        }
        // Already ours (same open file): this only confirms it.
        f.try_lock()
            .map_err(|e| anyhow::anyhow!("lock {}: {e}", p.display()))?;
        Ok(Self { _file: f })
    }
}

fn lock_path(id: &str) -> anyhow::Result<PathBuf> {
    Ok(runtime_dir()?
        .join("containers")
        .join(id)
        .join(MONITOR_LOCK))
}

/// Takes the monitor lock of `id` without waiting for a runner: `None` when
/// another process runs the container (holds the lock exclusively); a
/// reader's brief shared hold is waited out.
pub fn try_lock_monitor(id: &str) -> anyhow::Result<Option<MonitorLock>> {
    use std::os::unix::fs::MetadataExt;
    let mut readers_seen = 0;
    loop {
        let dir = super::runtime_path_of(id)?;
        let p = dir.join(MONITOR_LOCK);
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .with_context(|| format!("open {}", p.display()))?;
        match f.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                // A runner holds it exclusively for its life; readers (`ps`
                // checking liveness, a `wait` that has just woken up) hold it
                // shared for a moment only: wait for those to let go.
                if readers_seen < 200 && f.try_lock_shared().is_ok() {
                    readers_seen += 1;
                    drop(f);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                }
                return Ok(None);
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("lock {}", p.display()))
            }
        }
        // `rm` or `container prune` may have removed the file between the
        // open and the lock (its holder had just gone): a lock on a removed
        // file guards nothing, so take it again on the file that is there.
        let held = f
            .metadata()
            .with_context(|| format!("stat {}", p.display()))?;
        match std::fs::metadata(&p) {
            Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => {
                return Ok(Some(MonitorLock { _file: f }))
            }
            _ => continue,
        }
    }
}

/// Whether some process runs container `id` (holds its monitor lock). Never
/// blocks and creates nothing.
pub fn is_alive(id: &str) -> bool {
    let Ok(p) = lock_path(id) else {
        return false;
    };
    let Ok(f) = File::open(&p) else {
        return false;
    };
    matches!(f.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock))
}

/// Waits in a thread until nobody runs container `id`: the receiver gets
/// `()` the moment the lock is free (no polling interval in between).
pub fn watch_not_alive(id: &str) -> std::sync::mpsc::Receiver<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    let id = id.to_string();
    let _ = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || {
            if wait_not_alive(&id).is_ok() {
                let _ = tx.send(());
            }
        });
    rx
}

/// Blocks until nobody runs container `id`.
pub fn wait_not_alive(id: &str) -> anyhow::Result<()> {
    let p = lock_path(id)?;
    let f = match File::open(&p) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("open {}", p.display())),
    };
    f.lock_shared()
        .with_context(|| format!("lock {}", p.display()))
}

/// Waits at most `timeout` (forever when `None`) until nobody runs `id`;
/// whether that happened.
pub fn wait_not_alive_for(id: &str, timeout: Option<std::time::Duration>) -> bool {
    let Some(t) = timeout else {
        return wait_not_alive(id).is_ok();
    };
    let deadline = std::time::Instant::now() + t;
    loop {
        if !is_alive(id) {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The lock of container creation and removal (names stay unique).
pub type NamesLock = super::DataLock;

pub fn lock_names() -> anyhow::Result<NamesLock> {
    super::lock_data("containers.lock")
}

/// One container as seen now: its record, its state and whether it runs.
#[derive(Debug, Clone)]
pub struct Container {
    pub dir: PathBuf,
    pub record: Record,
    pub state: State,
    pub alive: bool,
}

/// A container directory that could not be read.
pub struct LoadError {
    pub path: PathBuf,
    pub err: anyhow::Error,
}

impl Container {
    pub fn load(id: &str) -> anyhow::Result<Self> {
        Self::load_at(id).map_err(|e| e.err)
    }

    fn load_at(id: &str) -> Result<Self, LoadError> {
        let dir = ContainerDir::path_of(id).map_err(|err| LoadError {
            path: PathBuf::new(),
            err,
        })?;
        let fail = |err| LoadError {
            path: dir.clone(),
            err,
        };
        let record = Record::read(&dir).map_err(fail)?;
        let state = read_state(&dir).map_err(fail)?;
        let alive = is_alive(id);
        Ok(Self {
            dir,
            record,
            state,
            alive,
        })
    }

    /// The status, checked against the lock: a container recorded as
    /// running whose process is gone is dead.
    pub fn status(&self) -> Status {
        match self.state.status {
            Status::Running | Status::Restarting if !self.alive => {
                // The monitor may have written its last state and exited
                // between the two reads: read it again.
                match read_state(&self.dir) {
                    Ok(s) if !matches!(s.status, Status::Running | Status::Restarting) => s.status,
                    _ => Status::Dead,
                }
            }
            s => s,
        }
    }

    /// Whether its monitor waits to run it again (restart policy).
    pub fn restarting(&self) -> bool {
        self.alive && self.state.status == Status::Restarting
    }

    /// Whether it runs (its process holds the lock and it was started).
    pub fn running(&self) -> bool {
        self.alive && self.state.status == Status::Running
    }

    pub fn short_id(&self) -> &str {
        &self.record.id[..12.min(self.record.id.len())]
    }
}

/// Every container with a complete record, oldest first.
pub fn list() -> anyhow::Result<Vec<Container>> {
    let base = super::containers_dir()?;
    clear_removed();
    let mut out = Vec::new();
    for e in std::fs::read_dir(&base).with_context(|| format!("read {}", base.display()))? {
        let e = e.with_context(|| format!("read {}", base.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !is_id(&name) {
            continue;
        }
        // A container being created or removed has no complete record yet
        // (or any more): it is not listed. A damaged one is named, with
        // what to do about it.
        let loaded = match Container::load_at(&name) {
            // Its record may have been written since the first read failed
            // (it is written last, when all else is there): read again.
            Err(e) if e.path.join(RECORD_FILE).is_file() => Container::load_at(&name),
            other => other,
        };
        match loaded {
            Ok(c) => out.push(c),
            Err(e) if e.path.join(RECORD_FILE).is_file() => {
                eprintln!(
                    "coracle: warning: container {name} is damaged ({:#}); `coracle rm -f {name}` removes it",
                    e.err
                );
            }
            Err(_) => {}
        }
    }
    out.sort_by(|a, b| {
        a.record
            .created
            .cmp(&b.record.created)
            .then(a.record.id.cmp(&b.record.id))
    });
    Ok(out)
}

fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Docker's order: a full id, then an exact name, then a unique id prefix.
pub fn find<'a>(all: &'a [Container], what: &str) -> anyhow::Result<&'a Container> {
    let what_name = what.strip_prefix('/').unwrap_or(what);
    if let Some(c) = all.iter().find(|c| c.record.id == what) {
        return Ok(c);
    }
    if let Some(c) = all.iter().find(|c| c.record.name == what_name) {
        return Ok(c);
    }
    if !what.is_empty() {
        let hits: Vec<&Container> = all
            .iter()
            .filter(|c| c.record.id.starts_with(what))
            .collect();
        match hits.len() {
            1 => return Ok(hits[0]),
            0 => {}
            _ => {
                return Err(ExitError::new(
                    1,
                    format!(
                        "multiple containers found with the id prefix {what}: give more of the id"
                    ),
                )
                .into())
            }
        }
    }
    Err(ExitError::new(1, format!("No such container: {what}")).into())
}

/// Resolves a name or id (prefix) given on the command line.
pub fn resolve(what: &str) -> anyhow::Result<Container> {
    let all = list()?;
    find(&all, what).cloned()
}

/// The container that already has `name`, if any.
pub fn name_owner(name: &str) -> anyhow::Result<Option<String>> {
    Ok(list()?
        .into_iter()
        .find(|c| c.record.name == name)
        .map(|c| c.record.id))
}

/// Docker's message for a name in use, exit 125.
pub fn name_conflict(name: &str, id: &str) -> anyhow::Error {
    ExitError::new(
        crate::error::EXIT_CORACLE,
        format!(
            "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". \
             You have to remove (or rename) that container to be able to reuse that name."
        ),
    )
    .into()
}

/// Fails unless `name` is free.
pub fn ensure_name_free(name: &str) -> anyhow::Result<()> {
    if let Some(id) = name_owner(name)? {
        return Err(name_conflict(name, &id));
    }
    Ok(())
}

/// Whether `id` (a full id) has a record.
pub fn exists(id: &str) -> bool {
    ContainerDir::path_of(id)
        .map(|d| d.join(RECORD_FILE).is_file())
        .unwrap_or(false)
}

/// Whether `id` (a full id) has no record but a data or runtime directory:
/// what a `run` killed before it wrote the record, or an `rm` killed after
/// it removed it, left.
pub fn has_remains(id: &str) -> bool {
    is_id(id)
        && !exists(id)
        && (ContainerDir::path_of(id).is_ok_and(|d| d.exists())
            || runtime_dir().is_ok_and(|r| {
                let d = r.join("containers").join(id);
                // A removed `--rm` container's exit code is no remains.
                d.exists() && !d.join(EXIT_CODE_FILE).exists()
            }))
}

/// Whether `id` (a full id) names a container directory whose record
/// cannot be read.
pub fn is_damaged(id: &str) -> bool {
    is_id(id) && exists(id) && Container::load(id).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, name: &str) -> Container {
        Container {
            dir: PathBuf::new(),
            record: Record {
                id: id.into(),
                name: name.into(),
                created: String::new(),
                image: String::new(),
                image_id: None,
                path: String::new(),
                args: vec![],
                entrypoint: vec![],
                cmd: vec![],
                env: vec![],
                working_dir: String::new(),
                user: String::new(),
                hostname: String::new(),
                labels: BTreeMap::new(),
                mounts: vec![],
                tty: false,
                open_stdin: false,
                auto_remove: false,
                init: false,
                stop_signal: None,
                healthcheck: None,
                network_mode: "none".into(),
                net: None,
                stop_timeout: None,
                restart: Default::default(),
                detached: true,
                log_max_size: None,
                log_max_file: None,
                policy: None,
            },
            state: State {
                id: id.into(),
                status: Status::Created,
                pid: None,
                exit_code: None,
                created: String::new(),
                started_at: None,
                finished_at: None,
                error: None,
                monitor_pid: None,
                restart_count: 0,
            },
            alive: false,
        }
    }

    #[test]
    fn find_prefers_id_then_name_then_prefix() {
        let a = "abc".repeat(21) + "d";
        let b = "abd".repeat(21) + "e";
        let all = vec![c(&a, "web"), c(&b, "abc")];
        assert_eq!(find(&all, &a).unwrap().record.id, a);
        // An exact name wins over an id prefix.
        assert_eq!(find(&all, "abc").unwrap().record.id, b);
        assert_eq!(find(&all, "/web").unwrap().record.id, a);
        assert_eq!(find(&all, "abca").unwrap().record.id, a);
        let e = find(&all, "ab").unwrap_err();
        assert!(e.to_string().contains("multiple"), "{e}");
        let e = find(&all, "zz").unwrap_err();
        assert_eq!(e.to_string(), "No such container: zz");
        assert_eq!(e.downcast_ref::<ExitError>().unwrap().code, 1);
    }
}
