//! Host processes by parent: how coracle finds a container's processes
//! (the descendants of its pid 1) without a cgroup of its own.

/// The parent pid in a `/proc/PID/stat` line (the field after the command
/// name, which may itself contain spaces and parentheses).
pub fn parse_ppid(stat: &str) -> Option<i32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_ascii_whitespace().nth(1)?.parse().ok()
}

/// The parent of `pid`, if it exists.
pub fn parent_of(pid: i32) -> Option<i32> {
    parse_ppid(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Every process of the host as (pid, parent pid). `/proc/PID/stat` is
/// readable for every process, even a non-dumpable one.
pub fn parents() -> Vec<(i32, i32)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| Some((pid, parent_of(pid)?)))
        .collect()
}

/// `pid` and all its descendants, parents before children.
pub fn descendants(pid: i32) -> Vec<i32> {
    let table = parents();
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(table.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppid_after_odd_command_names() {
        assert_eq!(parse_ppid("12 (sh) S 7 12 12 0"), Some(7));
        assert_eq!(parse_ppid("12 (a) b) (c) R 99 1"), Some(99));
        assert_eq!(parse_ppid("garbage"), None);
        assert_eq!(parse_ppid("1 (x)"), None);
    }

    #[test]
    fn this_process_descends_from_its_parent() {
        let me = std::process::id() as i32;
        let parent = parent_of(me).unwrap();
        assert!(descendants(parent).contains(&me));
    }
}
