//! Host processes by parent: how coracle finds a container's processes
//! (the descendants of its pid 1, and what `exec` started in its pid
//! namespace) without a cgroup of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The parent pid in the text of /proc/PID/stat (the command name, in
/// parentheses, may hold spaces and parentheses itself).
pub fn parse_ppid(stat: &str) -> Option<i32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The parent of `pid`, if it exists.
pub fn parent_of(pid: i32) -> Option<i32> {
    parse_ppid(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// `(pid, parent pid)` of every process under `proc` (/proc:
/// `/proc/PID/stat` is readable for every process, even a non-dumpable one).
pub fn tree(proc: &Path) -> Vec<(i32, i32)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(proc).into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Some(ppid) = std::fs::read_to_string(e.path().join("stat"))
            .ok()
            .and_then(|s| parse_ppid(&s))
        {
            v.push((pid, ppid));
        }
    }
    v
}

/// `root` and its descendants, sorted.
pub fn descendants(root: i32, tree: &[(i32, i32)]) -> Vec<i32> {
    let mut children: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for &(pid, ppid) in tree {
        children.entry(ppid).or_default().push(pid);
    }
    let mut found = BTreeSet::from([root]);
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        for &c in children.get(&p).into_iter().flatten() {
            if found.insert(c) {
                todo.push(c);
            }
        }
    }
    found.into_iter().collect()
}

/// The processes of the container whose pid 1 is `pid1`: its descendants,
/// and the processes `exec` started in the same pid namespace (their
/// parent is on the host). The namespace is told by the `ns/pid` link of
/// a descendant we may read (coracle's own init may not be read).
pub fn members(pid1: i32, tree: &[(i32, i32)], proc: &Path) -> Vec<i32> {
    let mut found: BTreeSet<i32> = descendants(pid1, tree).into_iter().collect();
    let ns_of = |pid: i32| std::fs::read_link(proc.join(pid.to_string()).join("ns/pid")).ok();
    let Some(ns) = found.iter().find_map(|p| ns_of(*p)) else {
        return found.into_iter().collect();
    };
    let peers: Vec<i32> = tree
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| !found.contains(p) && ns_of(*p).as_ref() == Some(&ns))
        .collect();
    for p in peers {
        found.extend(descendants(p, tree));
    }
    found.into_iter().collect()
}

/// A pidfd of a process whose namespaces `exec` (and `storage::view`) may join: the container's
/// pid 1, or under `--init` (whose pid 1 is coracle's non-dumpable init,
/// joinable by nobody) its first joinable descendant.
pub fn join_target(
    c: &super::Container,
    not_running: fn(&str) -> anyhow::Error,
) -> anyhow::Result<std::os::fd::OwnedFd> {
    let pid1 = c.state.pid.ok_or_else(|| not_running(&c.record.name))?;
    let mut seen = vec![pid1];
    let mut i = 0;
    let mut table: Option<Vec<(i32, i32)>> = None;
    while i < seen.len() {
        let pid = seen[i];
        i += 1;
        let pidfd = match crate::sys::pidfd_open(pid) {
            Ok(fd) => fd,
            Err(_) if pid == pid1 => return Err(not_running(&c.record.name)),
            Err(_) => continue,
        };
        // Pinned now: pid 1 must still be the monitor's child, or the pid
        // was freed (the container ended) and taken by another process.
        if pid == pid1 && c.state.monitor_pid.is_some() && parent_of(pid) != c.state.monitor_pid {
            return Err(not_running(&c.record.name));
        }
        // The same check as the kernel's for setns (ptrace read access),
        // made after the pidfd pins the process.
        if std::fs::File::open(format!("/proc/{pid}/ns/user")).is_ok()
            && (pid == pid1 || parent_of(pid).is_some_and(|p| seen.contains(&p)))
        {
            return Ok(pidfd);
        }
        let t = table.get_or_insert_with(|| tree(Path::new("/proc")));
        seen.extend(t.iter().filter(|(_, pp)| *pp == pid).map(|(p, _)| *p));
    }
    Err(crate::error::ExitError::new(
        crate::error::EXIT_CORACLE,
        format!(
            "container {} has no process to join: its only process is coracle's init",
            c.record.name
        ),
    )
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppid_after_odd_command_names() {
        assert_eq!(parse_ppid("42 (a b) S 7 42 42 0"), Some(7));
        assert_eq!(parse_ppid("42 (x) y)) R 9 1"), Some(9));
        assert_eq!(parse_ppid("42 (x"), None);
        assert_eq!(parse_ppid("1 (x)"), None);
    }

    #[test]
    fn descendants_follow_the_tree() {
        let tree = [(10, 1), (11, 10), (12, 11), (13, 10), (20, 1)];
        assert_eq!(descendants(10, &tree), [10, 11, 12, 13]);
        assert_eq!(descendants(12, &tree), [12]);
        assert_eq!(descendants(99, &tree), [99]);
    }

    #[test]
    fn tree_reads_proc() {
        let d = tempfile::tempdir().unwrap();
        for (pid, stat) in [("5", "5 (sh) S 1 5"), ("6", "6 (my (odd) cmd) S 5 6")] {
            std::fs::create_dir(d.path().join(pid)).unwrap();
            std::fs::write(d.path().join(pid).join("stat"), stat).unwrap();
        }
        std::fs::create_dir(d.path().join("self")).unwrap();
        let mut t = tree(d.path());
        t.sort();
        assert_eq!(t, [(5, 1), (6, 5)]);
    }

    #[test]
    fn members_join_the_pid_namespace_of_the_tree() {
        let d = tempfile::tempdir().unwrap();
        let ns = |pid: &str, link: &str| {
            std::fs::create_dir_all(d.path().join(pid).join("ns")).unwrap();
            std::os::unix::fs::symlink(link, d.path().join(pid).join("ns/pid")).unwrap();
        };
        // 10 is pid 1 (unreadable), 11 its child, 30 exec'd (parent 29 on
        // the host) with a child 31, 40 another container.
        ns("11", "pid:[7]");
        ns("30", "pid:[7]");
        ns("40", "pid:[8]");
        let tree = [(10, 9), (11, 10), (29, 1), (30, 29), (31, 30), (40, 1)];
        assert_eq!(members(10, &tree, d.path()), [10, 11, 30, 31]);
        assert_eq!(members(40, &tree, d.path()), [40]);
    }

    #[test]
    fn this_process_descends_from_its_parent() {
        let me = std::process::id() as i32;
        let parent = parent_of(me).unwrap();
        assert!(descendants(parent, &tree(Path::new("/proc"))).contains(&me));
    }
}
