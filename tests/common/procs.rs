//! What a container leaves on the host, seen from /proc: its processes,
//! its namespaces (pinned by a process or an open fd), its monitor, and
//! who holds its lock. For the crash and concurrency tests.
//!
//! Processes are found by what identifies them without doubt even while
//! other test suites run containers as the same user: a marker variable
//! in their environment (every process of the container inherits it), the
//! namespaces of the container (the test holds an fd of each, so the
//! kernel cannot give their inode numbers to a new namespace), and the
//! monitor's command line with the container's id.

#![allow(dead_code)]

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::common::*;

/// Every pid in /proc.
pub fn all_pids() -> Vec<i32> {
    fs::read_dir("/proc")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_string_lossy().parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The `KEY=VALUE` marker a test puts in its containers' environment.
pub fn marker(env: &Env) -> String {
    format!(
        "CORACLE_TEST_MARK={}",
        env.dir.file_name().unwrap().to_string_lossy()
    )
}

/// Processes whose environment holds `mark` (exactly, as one entry).
pub fn pids_with_env(mark: &str) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|p| {
            fs::read(format!("/proc/{p}/environ"))
                .map(|e| e.split(|&b| b == 0).any(|v| v == mark.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

/// The monitor processes of container `id` (`… container-monitor ID`).
pub fn monitor_pids(id: &str) -> Vec<i32> {
    let needle = format!("container-monitor\0{id}");
    all_pids()
        .into_iter()
        .filter(|p| {
            fs::read(format!("/proc/{p}/cmdline"))
                .map(|c| c.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

/// The parent pid from /proc/PID/stat (after the command's closing paren).
pub fn ppid_of(pid: i32) -> Option<i32> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Whether `pid` has exited and waits to be reaped: it holds nothing but
/// its pid (reaping an orphan is the host init's job, not coracle's).
pub fn is_zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rfind(')')
            .and_then(|i| s[i + 1..].split_whitespace().next())
            .is_some_and(|st| st == "Z" || st == "X")
    })
}

/// Children of `parent` whose command line contains `needle`.
pub fn children_with_cmdline(parent: i32, needle: &str) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|&p| ppid_of(p) == Some(parent))
        .filter(|p| {
            fs::read(format!("/proc/{p}/cmdline"))
                .map(|c| {
                    String::from_utf8_lossy(&c)
                        .replace('\0', " ")
                        .contains(needle)
                })
                .unwrap_or(false)
        })
        .collect()
}

/// The namespaces of a running container, held open by the test so that
/// their inode numbers stay theirs.
pub struct HeldNs {
    /// `("mnt", "mnt:[4026532…]")`, …
    links: Vec<(String, String)>,
    _files: Vec<File>,
}

impl HeldNs {
    /// Opens the mount, pid and user namespaces of `pid`.
    pub fn of(pid: i32) -> HeldNs {
        let mut links = Vec::new();
        let mut files = Vec::new();
        for ns in ["mnt", "pid", "user"] {
            let p = format!("/proc/{pid}/ns/{ns}");
            let f = File::open(&p).unwrap_or_else(|e| panic!("open {p}: {e}"));
            let link = fs::read_link(format!("/proc/self/fd/{}", {
                use std::os::fd::AsRawFd;
                f.as_raw_fd()
            }))
            .unwrap()
            .to_string_lossy()
            .into_owned();
            links.push((ns.to_string(), link));
            files.push(f);
        }
        HeldNs {
            links,
            _files: files,
        }
    }

    /// Other processes that are in one of these namespaces or hold an fd
    /// of one (pinning it), with what pins it.
    pub fn pinned_by(&self) -> Vec<String> {
        let me = std::process::id() as i32;
        let mut found = Vec::new();
        for p in all_pids().into_iter().filter(|&p| p != me && !is_zombie(p)) {
            for (ns, link) in &self.links {
                if fs::read_link(format!("/proc/{p}/ns/{ns}"))
                    .is_ok_and(|l| l.to_string_lossy() == *link)
                {
                    found.push(format!("pid {p} is in {link}"));
                }
            }
            for fd in fs::read_dir(format!("/proc/{p}/fd")).into_iter().flatten() {
                let Ok(fd) = fd else { continue };
                if let Ok(l) = fs::read_link(fd.path()) {
                    let l = l.to_string_lossy();
                    if self.links.iter().any(|(_, x)| *x == l) {
                        found.push(format!("pid {p} holds {l} open"));
                    }
                }
            }
        }
        found
    }
}

/// Processes (other than this one) with `path` open.
pub fn holders_of(path: &Path) -> Vec<i32> {
    let me = std::process::id() as i32;
    all_pids()
        .into_iter()
        .filter(|&p| p != me)
        .filter(|p| {
            fs::read_dir(format!("/proc/{p}/fd"))
                .into_iter()
                .flatten()
                .flatten()
                .any(|fd| fs::read_link(fd.path()).is_ok_and(|l| l == path))
        })
        .collect()
}

/// The monitor lock of container `id`.
pub fn lock_path(env: &Env, id: &str) -> PathBuf {
    env.runtime
        .join("coracle/containers")
        .join(id)
        .join("monitor.lock")
}

/// Whether the lock of `id` can be taken now (a missing file is free).
pub fn lock_is_free(env: &Env, id: &str) -> bool {
    let Ok(f) = File::options().write(true).open(lock_path(env, id)) else {
        return true;
    };
    f.try_lock().is_ok()
}

/// Host mounts whose mount point or source is in the test's directory.
pub fn host_mounts_in(dir: &Path) -> Vec<String> {
    let d = dir.display().to_string();
    parse_mountinfo(&fs::read_to_string("/proc/self/mountinfo").unwrap())
        .into_iter()
        .filter(|m| m.point.starts_with(&d) || m.source.starts_with(&d) || m.root.starts_with(&d))
        .map(|m| format!("{} on {} ({})", m.source, m.point, m.fstype))
        .collect()
}

/// Names in the runtime directory's `containers/`.
pub fn runtime_dirs(env: &Env) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(env.runtime.join("coracle/containers"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Asserts that nothing of the test's containers is left: no process with
/// the marker, nothing in or pinning the held namespaces, no monitor of
/// any of `ids`, no lock held, no directory in the data or runtime dir,
/// no host mount in the test's directory.
#[track_caller]
pub fn assert_nothing_left(env: &Env, ids: &[String], held: &[HeldNs]) {
    let mark = marker(env);
    assert!(
        wait_until(|| pids_with_env(&mark).is_empty()),
        "container processes are left: {:?}",
        pids_with_env(&mark)
    );
    for h in held {
        let pins = h.pinned_by();
        assert!(
            pins.is_empty(),
            "a namespace of a container is left: {pins:?}"
        );
    }
    for id in ids {
        assert_eq!(
            monitor_pids(id),
            Vec::<i32>::new(),
            "a monitor of {id} is left"
        );
        let lock = lock_path(env, id);
        assert!(lock_is_free(env, id), "the lock of {id} is still held");
        assert_eq!(
            holders_of(&lock),
            Vec::<i32>::new(),
            "{} is open",
            lock.display()
        );
    }
    assert_eq!(
        env.state_dirs(),
        Vec::<String>::new(),
        "data directories are left"
    );
    assert_eq!(
        runtime_dirs(env),
        Vec::<String>::new(),
        "runtime directories are left"
    );
    assert_eq!(
        host_mounts_in(&env.dir),
        Vec::<String>::new(),
        "host mounts are left"
    );
}
