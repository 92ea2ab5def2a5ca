//! coracle as an OCI runtime (`coracle-runtime`, `coracle runtime`): the
//! runtime-spec lifecycle (create, start, state, kill, delete) over the
//! sandbox core, for engines such as Podman (through conmon), containerd
//! and CRI-O.
//!
//! State lives in `--root` (default `$XDG_RUNTIME_DIR/coracle-runtime`), one
//! directory per container: `state.json` (our record, written temp + rename),
//! `config.json` (the bundle's configuration as it was at create, for hooks
//! and exec) and, while the container is created but not started,
//! `exec.fifo`. Every operation that changes a container holds an exclusive
//! flock on its directory. The status is derived, never stored: a record
//! without a pid is `creating`; a pid that is gone (or a zombie, or another
//! process with the same pid: the start time is kept) is `stopped`; a live
//! process with the fifo still present is `created`; otherwise `running`.

pub mod cgroup;
pub mod config;
pub mod hooks;
pub mod init;
pub mod ops;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{bail, Context};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

/// The runtime-spec version the state and features report.
pub const OCI_VERSION: &str = "1.2.0";
/// The name the runtime is invoked as (argv[0] dispatch).
pub const RUNTIME_NAME: &str = "coracle-runtime";
/// The record of a container in its state directory.
pub const STATE_FILE: &str = "state.json";
pub const CONFIG_FILE: &str = "config.json";
pub const EXEC_FIFO: &str = "exec.fifo";

/// Where `--log` sends messages and in which format.
#[derive(Debug, Clone)]
pub struct LogTarget {
    pub path: Option<PathBuf>,
    pub json: bool,
}

static LOG: OnceLock<LogTarget> = OnceLock::new();

pub fn set_log(target: LogTarget) {
    let _ = LOG.set(target);
}

/// Logs `msg` at `level` ("warning", "error") to the `--log` file (as runc
/// does: one JSON object per line with `--log-format json`) and to stderr.
pub fn log(level: &str, msg: &str) {
    if let Some(LogTarget {
        path: Some(path),
        json,
    }) = LOG.get()
    {
        let time = now_rfc3339();
        let line = if *json {
            let mut s = serde_json::json!({"level": level, "msg": msg, "time": time}).to_string();
            s.push('\n');
            s
        } else {
            format!("time=\"{time}\" level={level} msg={msg:?}\n")
        };
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
    let _ = writeln!(std::io::stderr(), "{RUNTIME_NAME}: {level}: {msg}");
}

/// The current time as RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    crate::container::rfc3339(d.as_secs() as i64, d.subsec_nanos())
}

pub fn warn(msg: &str) {
    log("warning", msg);
}

/// What we keep about a container.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    /// Host pid of the container's process, once it exists.
    #[serde(default)]
    pub pid: Option<i32>,
    /// Its start time (field 22 of /proc/PID/stat), against pid reuse.
    #[serde(default)]
    pub starttime: Option<u64>,
    pub bundle: PathBuf,
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    pub created: String,
    /// The uid that created it (runc's `owner`).
    #[serde(default)]
    pub owner: u32,
    /// Its own cgroup v2 (`coracle-runtime-ID` in the creator's cgroup,
    /// when that is delegated to the user): for pause, resume, and to find
    /// and kill every process.
    #[serde(default)]
    pub cgroup: Option<PathBuf>,
}

/// The runtime-spec statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Creating,
    Created,
    Running,
    /// Frozen by `pause` (a runtime-defined state, as runc's).
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

/// The state directory `--root`.
#[derive(Debug, Clone)]
pub struct Root {
    pub dir: PathBuf,
}

/// Checks a container id: what runc accepts (no path separators, no `.`/`..`).
pub fn validate_id(id: &str) -> anyhow::Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+-.".contains(c));
    if !ok {
        bail!("invalid container id {id:?}: use letters, digits, '_', '+', '-' and '.' only");
    }
    Ok(())
}

impl Root {
    pub fn new(dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let dir = match dir {
            Some(d) => d,
            None => match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
                Some(x) => PathBuf::from(x).join(RUNTIME_NAME),
                None => PathBuf::from(format!(
                    "/tmp/{RUNTIME_NAME}-{}",
                    nix::unistd::geteuid().as_raw()
                )),
            },
        };
        Ok(Self { dir })
    }

    pub fn ensure(&self) -> anyhow::Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .with_context(|| format!("create the state directory {}", self.dir.display()))
    }

    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// Ids of every container directory (sorted).
    pub fn ids(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().join(STATE_FILE).exists())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

/// An opened, locked container.
pub struct Container {
    pub dir: PathBuf,
    pub record: Record,
    _lock: Option<Flock<std::fs::File>>,
}

/// Takes the container directory's flock (exclusive or shared).
pub fn lock_dir(dir: &Path, exclusive: bool) -> anyhow::Result<Flock<std::fs::File>> {
    let f = std::fs::File::open(dir).with_context(|| format!("open {}", dir.display()))?;
    let arg = if exclusive {
        FlockArg::LockExclusive
    } else {
        FlockArg::LockShared
    };
    Flock::lock(f, arg).map_err(|(_, e)| anyhow::anyhow!("lock {}: {e}", dir.display()))
}

impl Container {
    /// Opens container `id`: locked exclusively for a change
    /// (`Some(true)`), shared, or not at all (`None`: readers, which must
    /// see a container that `create` is still making).
    pub fn open(root: &Root, id: &str, lock: Option<bool>) -> anyhow::Result<Self> {
        validate_id(id)?;
        let dir = root.container_dir(id);
        if !dir.join(STATE_FILE).exists() {
            bail!("container {id} does not exist");
        }
        let lock = match lock {
            Some(exclusive) => Some(lock_dir(&dir, exclusive)?),
            None => None,
        };
        // Deleted while we waited for the lock?
        let bytes = match std::fs::read(dir.join(STATE_FILE)) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("container {id} does not exist")
            }
            Err(e) => return Err(e).context(format!("read the state of container {id}")),
        };
        let record: Record = serde_json::from_slice(&bytes).with_context(|| {
            format!("the state of container {id} is damaged; `delete --force {id}` removes it")
        })?;
        Ok(Self {
            dir,
            record,
            _lock: lock,
        })
    }

    pub fn status(&self) -> Status {
        status_of(&self.dir, &self.record)
    }

    /// The stored configuration.
    pub fn config(&self) -> anyhow::Result<oci_spec::runtime::Spec> {
        let p = self.dir.join(CONFIG_FILE);
        let bytes = std::fs::read(&p).with_context(|| format!("read {}", p.display()))?;
        serde_json::from_slice(&bytes).with_context(|| format!("parse {}", p.display()))
    }

    pub fn save(&self) -> anyhow::Result<()> {
        write_record(&self.dir, &self.record)
    }
}

pub fn write_record(dir: &Path, r: &Record) -> anyhow::Result<()> {
    write_atomic(&dir.join(STATE_FILE), &serde_json::to_vec(r)?)
}

/// temp + rename in the same directory.
pub fn write_atomic(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp.{}", std::process::id()));
    std::fs::write(&tmp, data).with_context(|| format!("write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("rename {}", path.display()))
}

/// Field 22 (start time) and field 3 (state) of /proc/PID/stat.
pub fn proc_stat(pid: i32) -> Option<(char, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain anything; fields follow the last ')'.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let state = f.first()?.chars().next()?;
    let start = f.get(19)?.parse().ok()?;
    Some((state, start))
}

/// Whether the record's process still exists (not a zombie, same start time).
pub fn process_alive(r: &Record) -> bool {
    match (r.pid, proc_stat(r.pid.unwrap_or(0))) {
        (Some(_), Some((state, start))) => {
            state != 'Z' && state != 'X' && r.starttime.is_none_or(|t| t == start)
        }
        _ => false,
    }
}

pub fn status_of(dir: &Path, r: &Record) -> Status {
    if r.pid.is_none() {
        return Status::Creating;
    }
    if !process_alive(r) {
        return Status::Stopped;
    }
    if dir.join(EXEC_FIFO).exists() {
        Status::Created
    } else if r.cgroup.as_deref().is_some_and(cgroup::is_frozen) {
        Status::Paused
    } else {
        Status::Running
    }
}

/// The runtime-spec state of a container.
pub fn oci_state(r: &Record, status: Status) -> serde_json::Value {
    let mut v = serde_json::json!({
        "ociVersion": OCI_VERSION,
        "id": r.id,
        "status": status.as_str(),
        "bundle": r.bundle,
        "annotations": r.annotations,
    });
    // REQUIRED on Linux when created or running; a stopped container's pid
    // is no longer meaningful.
    if let (Some(pid), Status::Created | Status::Running | Status::Paused | Status::Creating) =
        (r.pid, status)
    {
        v["pid"] = pid.into();
    }
    v["created"] = r.created.clone().into();
    v["owner"] = r.owner.to_string().into();
    v
}

pub use crate::sandbox::tty::{send_to_console_socket as send_console, write_pid_file};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        for good in ["a", "abc-1_2.3+x", "0123456789abcdef"] {
            validate_id(good).unwrap();
        }
        for bad in ["", ".", "..", "a/b", "a b", "x\n"] {
            assert!(validate_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn state_has_the_required_fields() {
        let r = Record {
            id: "c1".into(),
            pid: Some(42),
            starttime: Some(1),
            bundle: "/b".into(),
            annotations: HashMap::from([("k".to_string(), "v".to_string())]),
            created: "2026-01-01T00:00:00Z".into(),
            owner: 1000,
            cgroup: None,
        };
        let s = oci_state(&r, Status::Running);
        assert_eq!(s["ociVersion"], OCI_VERSION);
        assert_eq!(s["id"], "c1");
        assert_eq!(s["status"], "running");
        assert_eq!(s["pid"], 42);
        assert_eq!(s["bundle"], "/b");
        assert_eq!(s["annotations"]["k"], "v");
        assert!(oci_state(&r, Status::Stopped).get("pid").is_none());
    }

    #[test]
    fn stat_of_self_parses() {
        let (state, start) = proc_stat(std::process::id() as i32).unwrap();
        assert!(state == 'R' || state == 'S');
        assert!(start > 0);
    }
}
