//! User-namespace id maps: reading /etc/subuid and /etc/subgid, and the maps
//! coracle writes for a container (pure computation, testable without
//! namespaces).

use std::fmt;
use std::path::{Path, PathBuf};

/// A subordinate id range from /etc/subuid or /etc/subgid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubidRange {
    pub start: u32,
    pub count: u32,
}

/// One line of a uid_map / gid_map: `container host size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMapEntry {
    pub container: u32,
    pub host: u32,
    pub size: u32,
}

impl fmt::Display for IdMapEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.container, self.host, self.size)
    }
}

/// How ids are mapped into the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsernsMode {
    /// Container root is the caller; 1..N come from the subordinate range.
    Default,
    /// The caller keeps its own id inside; the rest of the range fills around it.
    KeepId,
}

/// The parsed subordinate ranges of one user in a subuid/subgid file.
///
/// Lines are `name_or_id:start:count`; malformed lines and comments are
/// skipped (as shadow-utils does), ranges of count 0 ignored.
pub fn parse_subid(content: &str, user: &str, id: u32) -> Vec<SubidRange> {
    let id_str = id.to_string();
    content
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let mut parts = line.split(':');
            let owner = parts.next()?;
            let start = parts.next()?.trim().parse::<u32>().ok()?;
            let count = parts.next()?.trim().parse::<u32>().ok()?;
            if parts.next().is_some() || count == 0 {
                return None;
            }
            if owner != user && owner != id_str {
                return None;
            }
            // The kernel refuses ranges that reach 2^32.
            start.checked_add(count)?;
            Some(SubidRange { start, count })
        })
        .collect()
}

/// Reads the ranges of `user`/`id` from a subid file; a missing file means none.
pub fn read_subid(path: &Path, user: &str, id: u32) -> std::io::Result<Vec<SubidRange>> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(parse_subid(&s, user, id)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The kernel accepts at most this many lines in a uid_map (since 4.15).
pub const MAX_MAP_LINES: usize = 340;

/// Computes the map for one kind of id (uid or gid).
///
/// `own` is the caller's host id; `subs` its subordinate ranges (empty means
/// single-id mode: only one id is mapped).
pub fn compute_map(mode: UsernsMode, own: u32, subs: &[SubidRange]) -> Vec<IdMapEntry> {
    // The kernel refuses a range that reaches 2^32 on either side, so ids
    // stay below u32::MAX (itself the invalid id -1).
    const END: u64 = u32::MAX as u64;
    // Ids inside the container that the subordinate ranges fill, in order,
    // skipping the one id the caller itself takes.
    let (own_inside, mut next): (u32, u64) = match mode {
        UsernsMode::Default => (0, 1),
        UsernsMode::KeepId => (own, 0),
    };
    let mut out = vec![IdMapEntry {
        container: own_inside,
        host: own,
        size: 1,
    }];
    'ranges: for r in subs {
        let mut host = r.start as u64;
        let mut left = r.count as u64;
        while left > 0 && out.len() < MAX_MAP_LINES {
            if next == own_inside as u64 {
                next += 1;
                continue;
            }
            // A run stops before the caller's own inside id when that is ahead.
            let stop = if next < own_inside as u64 {
                own_inside as u64
            } else {
                END
            };
            let size = left
                .min(stop.saturating_sub(next))
                .min(END.saturating_sub(host));
            if size == 0 {
                break 'ranges;
            }
            out.push(IdMapEntry {
                container: next as u32,
                host: host as u32,
                size: size as u32,
            });
            next += size;
            host += size;
            left -= size;
        }
    }
    out.sort_by_key(|e| e.container);
    out
}

/// Renders a map the way /proc/PID/uid_map takes it.
pub fn render_map(map: &[IdMapEntry]) -> String {
    map.iter().map(|e| format!("{e}\n")).collect()
}

/// Translates a container id to the host id, if mapped.
pub fn to_host(map: &[IdMapEntry], container: u32) -> Option<u32> {
    map.iter().find_map(|e| {
        let off = container.checked_sub(e.container)?;
        (off < e.size).then(|| e.host + off)
    })
}

/// Where a setuid/setcap id-map helper is, if one is installed and usable.
pub fn find_helper(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    for d in ["/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
        dirs.push(PathBuf::from(d));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| helper_is_privileged(p))
}

/// A helper works only when setuid root or carrying file capabilities.
pub fn helper_is_privileged(p: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(md) = std::fs::metadata(p) else {
        return false;
    };
    if !md.is_file() || md.mode() & 0o111 == 0 {
        return false;
    }
    let setuid_root = md.mode() & 0o4000 != 0 && md.uid() == 0;
    setuid_root || crate::sys::has_file_caps(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str =
        "# comment\nalice:100000:65536\nbob:165536:65536\n1000:300000:10\nbad:line\ncarol:5:0\n";

    #[test]
    fn parses_by_name_and_by_id() {
        assert_eq!(
            parse_subid(FILE, "alice", 1000),
            vec![
                SubidRange {
                    start: 100000,
                    count: 65536
                },
                SubidRange {
                    start: 300000,
                    count: 10
                }
            ]
        );
        assert_eq!(
            parse_subid(FILE, "bob", 1001),
            vec![SubidRange {
                start: 165536,
                count: 65536
            }]
        );
        assert!(parse_subid(FILE, "carol", 1002).is_empty());
        assert!(parse_subid(FILE, "nobody", 65534).is_empty());
    }

    #[test]
    fn rejects_overflowing_ranges() {
        assert!(parse_subid("a:4294967295:2\n", "a", 1).is_empty());
        assert!(parse_subid("a:4294967295:1\n", "a", 1).is_empty());
        assert_eq!(parse_subid("a:4294967294:1\n", "a", 1).len(), 1);
    }

    #[test]
    fn default_full_range_maps_root_to_caller() {
        let m = compute_map(
            UsernsMode::Default,
            1000,
            &[SubidRange {
                start: 100000,
                count: 65536,
            }],
        );
        assert_eq!(
            m,
            vec![
                IdMapEntry {
                    container: 0,
                    host: 1000,
                    size: 1
                },
                IdMapEntry {
                    container: 1,
                    host: 100000,
                    size: 65536
                }
            ]
        );
        assert_eq!(to_host(&m, 0), Some(1000));
        assert_eq!(to_host(&m, 1), Some(100000));
        assert_eq!(to_host(&m, 65536), Some(165535));
        assert_eq!(to_host(&m, 65537), None);
    }

    #[test]
    fn single_id_maps_only_root() {
        let m = compute_map(UsernsMode::Default, 1000, &[]);
        assert_eq!(
            m,
            vec![IdMapEntry {
                container: 0,
                host: 1000,
                size: 1
            }]
        );
        assert_eq!(render_map(&m), "0 1000 1\n");
    }

    #[test]
    fn keep_id_fills_around_the_caller() {
        let m = compute_map(
            UsernsMode::KeepId,
            1000,
            &[SubidRange {
                start: 100000,
                count: 65536,
            }],
        );
        assert_eq!(
            m,
            vec![
                IdMapEntry {
                    container: 0,
                    host: 100000,
                    size: 1000
                },
                IdMapEntry {
                    container: 1000,
                    host: 1000,
                    size: 1
                },
                IdMapEntry {
                    container: 1001,
                    host: 101000,
                    size: 64536
                },
            ]
        );
        assert_eq!(to_host(&m, 0), Some(100000));
        assert_eq!(to_host(&m, 1000), Some(1000));
        assert_eq!(to_host(&m, 1001), Some(101000));
    }

    #[test]
    fn keep_id_with_small_ranges_spanning_the_caller() {
        let m = compute_map(
            UsernsMode::KeepId,
            5,
            &[
                SubidRange {
                    start: 100,
                    count: 3,
                },
                SubidRange {
                    start: 200,
                    count: 4,
                },
            ],
        );
        assert_eq!(
            m,
            vec![
                IdMapEntry {
                    container: 0,
                    host: 100,
                    size: 3
                },
                IdMapEntry {
                    container: 3,
                    host: 200,
                    size: 2
                },
                IdMapEntry {
                    container: 5,
                    host: 5,
                    size: 1
                },
                IdMapEntry {
                    container: 6,
                    host: 202,
                    size: 2
                },
            ]
        );
    }

    /// Regression (found by the idmap fuzz target): keep-id with the caller
    /// at the top of the id space overflowed while skipping its own id.
    #[test]
    fn keep_id_at_the_top_of_the_id_space_does_not_overflow() {
        let subs = [
            SubidRange {
                start: 0,
                count: 4294967294,
            },
            SubidRange { start: 0, count: 1 },
        ];
        let m = compute_map(UsernsMode::KeepId, u32::MAX, &subs);
        for w in m.windows(2) {
            assert!(w[0].container as u64 + w[0].size as u64 <= w[1].container as u64);
        }
        for e in &m[..m.len() - 1] {
            assert!(e.container as u64 + e.size as u64 <= u32::MAX as u64);
        }
        let m = compute_map(
            UsernsMode::Default,
            1000,
            &[SubidRange {
                start: 4294967000,
                count: 294,
            }],
        );
        assert_eq!(
            m[1],
            IdMapEntry {
                container: 1,
                host: 4294967000,
                size: 294
            }
        );
    }

    #[test]
    fn keep_id_single() {
        let m = compute_map(UsernsMode::KeepId, 1000, &[]);
        assert_eq!(
            m,
            vec![IdMapEntry {
                container: 1000,
                host: 1000,
                size: 1
            }]
        );
    }
}
