//! The `fuse-overlay` driver's daemon for a container (`crate::fuseovl`).
//!
//! The container's runner (foreground `run`, or the monitor) starts it
//! after writing the child's id maps and before releasing the child
//! ([`crate::sandbox::run`]): the daemon joins the child's user and mount
//! namespaces by pidfd (it stays in the runner's pid namespace, out of the
//! container's sight), mounts the FUSE overlay on `merged/` there, answers
//! once the mount serves, and exits when the child exits (it watches its
//! pidfd). So the mount is in place before the child's `prepare_root`
//! binds the root, and goes with the container's mount namespace.
//!
//! The daemon is started detached (`coracle fuse-overlay` without
//! `--foreground` forks the daemon proper into its own session and exits
//! once it answers): it is nobody's child in coracle, so no zombie waits
//! for the monitor across its `execve` of `coracle-shim` and back, and no
//! parent-death signal ties it to a thread. Each (re)start of the
//! container starts a new daemon. Its messages go to `fuse-overlay.log`
//! in the container's directory.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context;

use super::overlay::Layout;

/// The daemon's log in the container's directory.
pub const LOG_FILE: &str = "fuse-overlay.log";

/// Request-handling threads of a container's daemon.
const THREADS: usize = 2;

/// Whether this user can serve a FUSE file system (`/dev/fuse` opens).
pub fn usable() -> Result<(), String> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .map(drop)
        .map_err(|e| format!("cannot open /dev/fuse: {e}"))
}

fn args(l: &Layout) -> Vec<std::ffi::OsString> {
    let mut a: Vec<std::ffi::OsString> = Vec::new();
    for d in &l.lower {
        a.push("--lower".into());
        a.push(d.into());
    }
    a.push("--upper".into());
    a.push(l.upper.clone().into());
    a.push("--work".into());
    a.push(l.work.clone().into());
    a.push("--emulate-owners".into());
    a.push("--threads".into());
    a.push(THREADS.to_string().into());
    a
}

/// Starts the daemon of the container whose first process is `pid` (in
/// its own namespaces, not yet released) on `l.merged`; returns the
/// daemon's pid once the mount answers.
pub fn start(l: &Layout, pid: i32) -> anyhow::Result<i32> {
    let dir = l.merged.parent().unwrap_or(Path::new("/"));
    let log_path = dir.join(LOG_FILE);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("open {}", log_path.display()))?;
    let start = log.metadata().map(|m| m.len()).unwrap_or(0);
    let out = Command::new("/proc/self/exe")
        .arg(crate::fuseovl::SUBCOMMAND)
        .args(args(l))
        .arg("--join-pid")
        .arg(pid.to_string())
        .arg(&l.merged)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .output()
        .context("start the FUSE overlay daemon")?;
    if out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout);
        return text
            .trim()
            .parse()
            .with_context(|| format!("the FUSE overlay daemon said {text:?}"));
    }
    let mut said = String::new();
    if let Ok(mut f) = std::fs::File::open(&log_path) {
        use std::io::Seek;
        let _ = f.seek(std::io::SeekFrom::Start(start));
        let _ = f.take(4096).read_to_string(&mut said);
    }
    let said = said
        .lines()
        .filter(|l| !l.starts_with("usage:"))
        .map(|l| l.trim_start_matches("coracle fuse-overlay: "))
        .collect::<Vec<_>>()
        .join("; ");
    anyhow::bail!(
        "start the FUSE overlay on {}: {}",
        l.merged.display(),
        if said.is_empty() {
            "the daemon exited without a word"
        } else {
            &said
        }
    )
}
