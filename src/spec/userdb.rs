//! /etc/passwd and /etc/group of a container root, and `--user` resolution
//! the way Docker does it. Pure parsing: never panics on any input.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// The identity a container process runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub name: Option<String>,
    pub home: String,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum UserError {
    #[error("unable to find user {0}: no matching entries in the container's /etc/passwd")]
    NoUser(String),
    #[error("unable to find group {0}: no matching entries in the container's /etc/group")]
    NoGroup(String),
    #[error("invalid user specification {0:?}: expected name|uid[:group|gid]")]
    Invalid(String),
}

/// The colon-separated records of a passwd-style file with at least
/// `fields` fields and a name; comments and short lines are skipped.
fn records(content: &str, fields: usize) -> impl Iterator<Item = Vec<&str>> {
    content
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(move |f| f.len() >= fields && !f[0].is_empty())
}

pub fn parse_passwd(content: &str) -> Vec<PasswdEntry> {
    records(content, 7)
        .filter_map(|f| {
            Some(PasswdEntry {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5].to_string(),
            })
        })
        .collect()
}

pub fn parse_group(content: &str) -> Vec<GroupEntry> {
    records(content, 4)
        .filter_map(|f| {
            Some(GroupEntry {
                name: f[0].to_string(),
                gid: f[2].parse().ok()?,
                members: f[3]
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
        })
        .collect()
}

fn valid_id(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Resolves `name|uid[:group|gid]` (or the default root) against the
/// container's databases, with supplementary groups from /etc/group.
pub fn resolve(
    spec: Option<&str>,
    passwd: &[PasswdEntry],
    groups: &[GroupEntry],
) -> Result<ResolvedUser, UserError> {
    let spec = spec.unwrap_or("0");
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    if user_part.is_empty() || group_part == Some("") {
        return Err(UserError::Invalid(spec.to_string()));
    }
    let entry = match valid_id(user_part) {
        Some(uid) => passwd.iter().find(|p| p.uid == uid).cloned(),
        None => {
            if user_part.contains(|c: char| c.is_whitespace() || c == '/') {
                return Err(UserError::Invalid(spec.to_string()));
            }
            Some(
                passwd
                    .iter()
                    .find(|p| p.name == user_part)
                    .cloned()
                    .ok_or_else(|| UserError::NoUser(user_part.to_string()))?,
            )
        }
    };
    let uid = valid_id(user_part).unwrap_or_else(|| entry.as_ref().map_or(0, |e| e.uid));
    let gid = match group_part {
        None => entry.as_ref().map_or(0, |e| e.gid),
        Some(g) => match valid_id(g) {
            Some(gid) => gid,
            None => groups
                .iter()
                .find(|e| e.name == g)
                .map(|e| e.gid)
                .ok_or_else(|| UserError::NoGroup(g.to_string()))?,
        },
    };
    let mut additional = Vec::new();
    if let Some(e) = &entry {
        for g in groups {
            if g.members.contains(&e.name) && g.gid != gid && !additional.contains(&g.gid) {
                additional.push(g.gid);
            }
        }
    }
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids: additional,
        name: entry.as_ref().map(|e| e.name.clone()),
        home: entry
            .map(|e| e.home)
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "/".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/usr/sbin:/bin/false\n\
        user:x:1000:1000:User:/home/user:/bin/sh\nbroken line\nx:x:notanumber:0:::\n";
    const GROUP: &str = "root:x:0:\ndaemon:x:1:\naudio:x:29:user\nstaff:x:50:user,daemon\n\
        user:x:1000:\nwheel:x:10:root\n";

    fn r(spec: Option<&str>) -> Result<ResolvedUser, UserError> {
        resolve(spec, &parse_passwd(PASSWD), &parse_group(GROUP))
    }

    #[test]
    fn default_is_root_with_its_groups() {
        let u = r(None).unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (0, 0, "/root"));
        assert_eq!(u.additional_gids, vec![10]);
    }

    #[test]
    fn name_resolves_with_supplementary_groups() {
        let u = r(Some("user")).unwrap();
        assert_eq!((u.uid, u.gid), (1000, 1000));
        assert_eq!(u.additional_gids, vec![29, 50]);
        assert_eq!(u.name.as_deref(), Some("user"));
    }

    #[test]
    fn numeric_uid_without_entry_gets_gid_0() {
        let u = r(Some("4242")).unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (4242, 0, "/"));
        assert!(u.additional_gids.is_empty());
    }

    #[test]
    fn numeric_uid_with_entry_uses_its_gid() {
        let u = r(Some("1000")).unwrap();
        assert_eq!((u.uid, u.gid), (1000, 1000));
        assert_eq!(u.additional_gids, vec![29, 50]);
    }

    #[test]
    fn explicit_groups() {
        assert_eq!(r(Some("user:staff")).unwrap().gid, 50);
        assert_eq!(r(Some("user:77")).unwrap().gid, 77);
        assert_eq!(r(Some("0:0")).unwrap().uid, 0);
        // The explicit group is not repeated as supplementary.
        assert_eq!(r(Some("user:audio")).unwrap().additional_gids, vec![50]);
    }

    #[test]
    fn errors_name_what_is_missing() {
        assert_eq!(r(Some("nosuch")), Err(UserError::NoUser("nosuch".into())));
        assert_eq!(
            r(Some("user:nosuch")),
            Err(UserError::NoGroup("nosuch".into()))
        );
        assert!(matches!(r(Some(":")), Err(UserError::Invalid(_))));
        assert!(matches!(r(Some("user:")), Err(UserError::Invalid(_))));
        assert!(matches!(r(Some("a b")), Err(UserError::Invalid(_))));
    }

    #[test]
    fn parsers_never_panic_on_garbage() {
        for s in [
            "",
            ":::::::",
            "\0\0:\n",
            "a:b:c:d:e:f:g:h",
            "::99999999999:1:::",
        ] {
            let _ = parse_passwd(s);
            let _ = parse_group(s);
        }
    }
}
