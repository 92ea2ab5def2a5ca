//! Parsers for the string forms of `run` flags: environment, volumes, tmpfs,
//! capabilities, host names. Pure functions; every error names the input.

use std::path::{Path, PathBuf};

use nix::mount::MsFlags;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum OptionError {
    #[error(
        "invalid environment variable {0:?}: the name must not be empty or contain whitespace"
    )]
    EnvName(String),
    #[error("{file}:{line}: invalid environment variable {name:?}: the name must not be empty or contain whitespace")]
    EnvFileName {
        file: String,
        line: usize,
        name: String,
    },
    #[error("invalid volume {0:?}: expected HOST-PATH:CONTAINER-PATH[:ro|rw]")]
    VolumeSyntax(String),
    #[error("invalid volume {0:?}: {1:?} includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path (e.g. -v \"$PWD/data:/data\")")]
    VolumeName(String, String),
    #[error("invalid volume {spec:?}: unknown option {opt:?} (supported: ro, rw, nocopy)")]
    VolumeOption { spec: String, opt: String },
    #[error("invalid argument {spec:?} for \"--mount\" flag: {why}")]
    Mount { spec: String, why: String },
    #[error("invalid mount destination {0:?}: it must be an absolute path")]
    Destination(String),
    #[error("invalid tmpfs {spec:?}: {why}")]
    Tmpfs { spec: String, why: String },
    #[error("unknown capability {0:?}: use a name from capabilities(7), e.g. NET_ADMIN, or ALL")]
    Capability(String),
    #[error("invalid hostname {0:?}: use 1-64 letters, digits, '-' and '.'")]
    Hostname(String),
    #[error("invalid --security-opt {opt:?}: {why}")]
    SecurityOpt { opt: String, why: String },
}

/// Adds one `-e` value: `KEY=VALUE`, or `KEY` to copy from `host` (skipped
/// when the caller has no such variable, as Docker does).
pub fn env_entry(
    spec: &str,
    host: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(String, String)>, OptionError> {
    let (k, v) = match spec.split_once('=') {
        Some((k, v)) => (k, Some(v.to_string())),
        None => (spec, None),
    };
    if k.is_empty() || k.contains(char::is_whitespace) {
        return Err(OptionError::EnvName(spec.to_string()));
    }
    Ok(match v {
        Some(v) => Some((k.to_string(), v)),
        None => host(k).map(|v| (k.to_string(), v)),
    })
}

/// Parses an `--env-file`: `KEY=VALUE` or `KEY` lines, `#` comments, blank
/// lines; values are taken literally (no quote processing), as Docker does.
pub fn env_file(
    file: &str,
    content: &str,
    host: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, OptionError> {
    let mut out = Vec::new();
    for (i, raw) in content.lines().enumerate() {
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line.split_once('=').map_or(line, |(k, _)| k);
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(OptionError::EnvFileName {
                file: file.to_string(),
                line: i + 1,
                name: name.to_string(),
            });
        }
        if let Some(kv) = env_entry(line, host).ok().flatten() {
            out.push(kv);
        }
    }
    Ok(out)
}

/// Sets `key` in an ordered environment, replacing an earlier value.
pub fn env_set(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    match env.iter_mut().find(|(k, _)| k == key) {
        Some(e) => e.1 = value.to_string(),
        None => env.push((key.to_string(), value.to_string())),
    }
}

/// Where the content of a `-v`/`--mount` mount comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeSource {
    /// A host path (`-v /abs:/x`, `--mount type=bind`).
    Host(PathBuf),
    /// A named volume, created on first use.
    Named(String),
    /// A new anonymous volume (`-v /x`, `--mount type=volume` without source).
    Anonymous,
    /// A tmpfs (`--mount type=tmpfs`), with its OCI options.
    Tmpfs(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeMount {
    pub source: VolumeSource,
    pub destination: PathBuf,
    pub readonly: bool,
    /// Do not copy the image's content into a new empty volume.
    pub nocopy: bool,
}

/// Docker's rule for volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn is_volume_name(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Parses `-v [SOURCE:]CONTAINER[:OPTS]`: an absolute SOURCE is a host
/// path, a name is a named volume, no SOURCE is an anonymous volume (the
/// host path is not checked here).
pub fn volume(spec: &str) -> Result<VolumeMount, OptionError> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, dst, opts) = match parts.as_slice() {
        [d] if d.starts_with('/') => ("", *d, ""),
        [s, d] => (*s, *d, ""),
        [s, d, o] => (*s, *d, *o),
        _ => return Err(OptionError::VolumeSyntax(spec.to_string())),
    };
    if dst.is_empty() || (parts.len() > 1 && src.is_empty()) {
        return Err(OptionError::VolumeSyntax(spec.to_string()));
    }
    let source = if parts.len() == 1 {
        VolumeSource::Anonymous
    } else if src.starts_with('/') {
        VolumeSource::Host(PathBuf::from(src))
    } else if is_volume_name(src) {
        VolumeSource::Named(src.to_string())
    } else {
        return Err(OptionError::VolumeName(spec.to_string(), src.to_string()));
    };
    if !dst.starts_with('/') {
        return Err(OptionError::Destination(dst.to_string()));
    }
    let mut readonly = false;
    let mut nocopy = false;
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => readonly = true,
            "rw" => readonly = false,
            "nocopy" if !matches!(source, VolumeSource::Host(_)) => nocopy = true,
            _ => {
                return Err(OptionError::VolumeOption {
                    spec: spec.to_string(),
                    opt: o.to_string(),
                })
            }
        }
    }
    Ok(VolumeMount {
        source,
        destination: PathBuf::from(dst),
        readonly,
        nocopy,
    })
}

/// Parses `--mount type=bind|volume|tmpfs,source=,target=,readonly,...`
/// with Docker's keys and errors (the type defaults to volume).
pub fn mount_flag_value(spec: &str) -> Result<VolumeMount, OptionError> {
    let err = |why: String| OptionError::Mount {
        spec: spec.to_string(),
        why,
    };
    let bool_of = |k: &str, v: &str| -> Result<bool, OptionError> {
        match v {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
            _ => Err(err(format!("invalid value for {k}: {v}"))),
        }
    };
    let mut typ = "volume".to_string();
    let mut source: Option<String> = None;
    let mut target: Option<String> = None;
    let mut readonly = false;
    let mut nocopy = None;
    let mut tmpfs_size: Option<String> = None;
    let mut tmpfs_mode: Option<String> = None;
    for field in spec.split(',') {
        let (k, v) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v)),
            None => (field.trim().to_ascii_lowercase(), None),
        };
        match (k.as_str(), v) {
            ("readonly" | "ro", None) => readonly = true,
            ("readonly" | "ro", Some(v)) => readonly = bool_of(&k, v)?,
            ("volume-nocopy", None) => nocopy = Some(true),
            ("volume-nocopy", Some(v)) => nocopy = Some(bool_of(&k, v)?),
            (_, None) => {
                return Err(err(format!(
                    "invalid field '{field}' must be a key=value pair"
                )))
            }
            ("type", Some(v)) => typ = v.to_string(),
            ("source" | "src", Some(v)) => source = Some(v.to_string()),
            ("target" | "dst" | "destination", Some(v)) => target = Some(v.to_string()),
            ("tmpfs-size", Some(v)) => tmpfs_size = Some(v.to_string()),
            ("tmpfs-mode", Some(v)) => tmpfs_mode = Some(v.to_string()),
            _ => return Err(err(format!("unexpected key '{k}' in '{field}'"))),
        }
    }
    let Some(target) = target.filter(|t| !t.is_empty()) else {
        return Err(err("target is required".into()));
    };
    if !target.starts_with('/') {
        return Err(OptionError::Destination(target));
    }
    if (tmpfs_size.is_some() || tmpfs_mode.is_some()) && typ != "tmpfs" {
        return Err(err(format!(
            "cannot mix 'tmpfs-*' options with mount type '{typ}'"
        )));
    }
    if nocopy.is_some() && typ != "volume" {
        return Err(err(format!(
            "cannot mix 'volume-*' options with mount type '{typ}'"
        )));
    }
    let source = match typ.as_str() {
        "bind" => match source.filter(|s| !s.is_empty()) {
            Some(s) if s.starts_with('/') => VolumeSource::Host(PathBuf::from(s)),
            Some(s) => {
                return Err(err(format!(
                    "invalid mount config for type \"bind\": invalid mount path: '{s}' mount path must be absolute"
                )))
            }
            None => {
                return Err(err(
                    "invalid mount config for type \"bind\": field Source must not be empty"
                        .into(),
                ))
            }
        },
        "volume" => match source.filter(|s| !s.is_empty()) {
            Some(s) if is_volume_name(&s) => VolumeSource::Named(s),
            Some(s) => {
                return Err(err(format!(
                    "invalid mount config for type \"volume\": {s:?} includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed"
                )))
            }
            None => VolumeSource::Anonymous,
        },
        "tmpfs" => {
            if source.is_some_and(|s| !s.is_empty()) {
                return Err(err(
                    "invalid mount config for type \"tmpfs\": field Source must not be specified"
                        .into(),
                ));
            }
            let mut o = Vec::new();
            if let Some(s) = tmpfs_size {
                o.push(format!("size={s}"));
            }
            if let Some(m) = tmpfs_mode {
                o.push(format!("mode={m}"));
            }
            let t = tmpfs(&format!("{target}:{}", o.join(","))).map_err(|e| err(e.to_string()))?;
            VolumeSource::Tmpfs(t.options)
        }
        other => {
            return Err(err(format!(
                "invalid mount type '{other}': use bind, volume or tmpfs"
            )))
        }
    };
    Ok(VolumeMount {
        source,
        destination: PathBuf::from(target),
        readonly,
        nocopy: nocopy.unwrap_or(false),
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmpfsMount {
    pub destination: PathBuf,
    /// Mount options in OCI form (`nosuid`, `size=64m`, ...).
    pub options: Vec<String>,
}

/// Parses `--tmpfs PATH[:OPTS]`. Defaults as Docker: `rw,noexec,nosuid,nodev`.
pub fn tmpfs(spec: &str) -> Result<TmpfsMount, OptionError> {
    let (path, opts) = spec.split_once(':').unwrap_or((spec, ""));
    if !path.starts_with('/') {
        return Err(OptionError::Destination(path.to_string()));
    }
    let err = |why: String| OptionError::Tmpfs {
        spec: spec.to_string(),
        why,
    };
    let mut options: Vec<String> = ["rw", "noexec", "nosuid", "nodev"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        let (key, val) = o.split_once('=').unwrap_or((o, ""));
        match key {
            "size" | "nr_inodes" | "nr_blocks" => {
                let digits = val.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G', '%']);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err(format!(
                        "{key} needs a number with an optional k/m/g suffix, got {val:?}"
                    )));
                }
            }
            "mode" => {
                if val.is_empty() || u32::from_str_radix(val, 8).map_or(true, |m| m > 0o7777) {
                    return Err(err(format!(
                        "mode needs an octal permission like 1777, got {val:?}"
                    )));
                }
            }
            "uid" | "gid" => {
                if val.parse::<u32>().is_err() {
                    return Err(err(format!("{key} needs a number, got {val:?}")));
                }
            }
            _ if mount_flag(o).is_some() && val.is_empty() => {}
            _ => return Err(err(format!("unknown option {o:?}"))),
        }
        // A later flag overrides its opposite.
        if let Some(opp) = opposite(o) {
            options.retain(|x| x != opp);
        }
        options.retain(|x| x != o);
        options.push(o.to_string());
    }
    Ok(TmpfsMount {
        destination: PathBuf::from(path),
        options,
    })
}

fn opposite(o: &str) -> Option<&'static str> {
    Some(match o {
        "ro" => "rw",
        "rw" => "ro",
        "exec" => "noexec",
        "noexec" => "exec",
        "suid" => "nosuid",
        "nosuid" => "suid",
        "dev" => "nodev",
        "nodev" => "dev",
        "atime" => "noatime",
        "noatime" => "atime",
        _ => return None,
    })
}

/// Mount flag options: (set, clear). `None` for data options.
pub fn mount_flag(o: &str) -> Option<(MsFlags, MsFlags)> {
    let none = MsFlags::empty();
    Some(match o {
        "ro" => (MsFlags::MS_RDONLY, none),
        "rw" => (none, MsFlags::MS_RDONLY),
        "nosuid" => (MsFlags::MS_NOSUID, none),
        "suid" => (none, MsFlags::MS_NOSUID),
        "nodev" => (MsFlags::MS_NODEV, none),
        "dev" => (none, MsFlags::MS_NODEV),
        "noexec" => (MsFlags::MS_NOEXEC, none),
        "exec" => (none, MsFlags::MS_NOEXEC),
        "noatime" => (MsFlags::MS_NOATIME, none),
        "atime" => (none, MsFlags::MS_NOATIME),
        "nodiratime" => (MsFlags::MS_NODIRATIME, none),
        "relatime" => (MsFlags::MS_RELATIME, none),
        "strictatime" => (MsFlags::MS_STRICTATIME, none),
        "sync" => (MsFlags::MS_SYNCHRONOUS, none),
        "dirsync" => (MsFlags::MS_DIRSYNC, none),
        "bind" => (MsFlags::MS_BIND, none),
        "rbind" => (MsFlags::MS_BIND | MsFlags::MS_REC, none),
        "private" => (MsFlags::MS_PRIVATE, none),
        "rprivate" => (MsFlags::MS_PRIVATE | MsFlags::MS_REC, none),
        "slave" => (MsFlags::MS_SLAVE, none),
        "rslave" => (MsFlags::MS_SLAVE | MsFlags::MS_REC, none),
        "shared" => (MsFlags::MS_SHARED, none),
        "rshared" => (MsFlags::MS_SHARED | MsFlags::MS_REC, none),
        _ => return None,
    })
}

/// Docker's default capabilities.
pub const DEFAULT_CAPS: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// Normalises a capability name (`net_admin`, `CAP_NET_ADMIN`) to `CAP_NET_ADMIN`,
/// checking it against `known` (all `CAP_*` names this kernel has).
pub fn cap_name(name: &str, known: &[String]) -> Result<String, OptionError> {
    let up = name.trim().to_ascii_uppercase();
    let full = if up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    };
    if known.contains(&full) {
        Ok(full)
    } else {
        Err(OptionError::Capability(name.to_string()))
    }
}

/// Docker's rules: start from the defaults (or everything when privileged);
/// `--cap-drop ALL` empties the set; `--cap-add` adds (ALL adds every one);
/// specific drops remove.
pub fn capabilities(
    privileged: bool,
    add: &[String],
    drop: &[String],
    known: &[String],
) -> Result<Vec<String>, OptionError> {
    let set: Vec<String> = if privileged {
        known.to_vec()
    } else {
        DEFAULT_CAPS.iter().map(|c| format!("CAP_{c}")).collect()
    };
    capabilities_from(set, add, drop, known)
}

/// [`capabilities`] from the set `set` (a policy's) instead of Docker's.
pub fn capabilities_from(
    mut set: Vec<String>,
    add: &[String],
    drop: &[String],
    known: &[String],
) -> Result<Vec<String>, OptionError> {
    let is_all = |s: &String| s.eq_ignore_ascii_case("all");
    set.retain(|c| known.contains(c));
    if drop.iter().any(is_all) {
        set.clear();
    }
    for a in add {
        if is_all(a) {
            set = known.to_vec();
        } else {
            let c = cap_name(a, known)?;
            if !set.contains(&c) {
                set.push(c);
            }
        }
    }
    for d in drop.iter().filter(|d| !is_all(d)) {
        let c = cap_name(d, known)?;
        if !add
            .iter()
            .any(|a| cap_name(a, known).ok().as_ref() == Some(&c))
        {
            set.retain(|x| *x != c);
        }
    }
    set.sort_by_key(|c| known.iter().position(|k| k == c));
    Ok(set)
}

/// Which seccomp filter `--security-opt` asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SeccompOpt {
    /// The policy's.
    #[default]
    Policy,
    /// `seccomp=unconfined`: no filter.
    Unconfined,
    /// `seccomp=FILE`: a Docker/OCI JSON profile.
    File(std::path::PathBuf),
}

/// What `--security-opt` asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityOpts {
    pub seccomp: SeccompOpt,
    /// `no-new-privileges[=true|false]`: overrides the policy.
    pub no_new_privileges: Option<bool>,
    /// `landlock=unconfined`: no landlock ruleset.
    pub landlock_unconfined: bool,
}

/// `--security-opt` values, Docker's syntax (`KEY=VALUE`, or the older
/// `KEY:VALUE`): `seccomp=unconfined|FILE`, `no-new-privileges[=BOOL]`
/// and `landlock=unconfined`. AppArmor and SELinux labels are refused
/// rather than ignored.
pub fn security_opts(opts: &[String]) -> Result<SecurityOpts, OptionError> {
    let mut out = SecurityOpts::default();
    for o in opts {
        let bad = |why: &str| OptionError::SecurityOpt {
            opt: o.clone(),
            why: why.to_string(),
        };
        let (key, value) = match o.split_once(['=', ':']) {
            Some((k, v)) => (k, Some(v)),
            None => (o.as_str(), None),
        };
        match (key, value) {
            ("seccomp", Some("unconfined")) => out.seccomp = SeccompOpt::Unconfined,
            ("seccomp", Some("")) | ("seccomp", None) => {
                return Err(bad("give seccomp=unconfined or seccomp=FILE (a JSON profile)"))
            }
            ("seccomp", Some(f)) => out.seccomp = SeccompOpt::File(f.into()),
            ("no-new-privileges", None | Some("true")) => out.no_new_privileges = Some(true),
            ("no-new-privileges", Some("false")) => out.no_new_privileges = Some(false),
            ("landlock", Some("unconfined")) => out.landlock_unconfined = true,
            _ => {
                return Err(bad(
                    "supported: seccomp=unconfined, seccomp=FILE, no-new-privileges[=true|false], landlock=unconfined",
                ))
            }
        }
    }
    Ok(out)
}

/// RFC 1123 host names, at most 64 bytes (the kernel's limit).
pub fn hostname(name: &str) -> Result<String, OptionError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(name.to_string())
    } else {
        Err(OptionError::Hostname(name.to_string()))
    }
}

/// Docker's masked paths.
pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's read-only paths.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Whether `p` is absolute and free of `..` (mount destinations).
pub fn clean_destination(p: &Path) -> Result<PathBuf, OptionError> {
    if !p.is_absolute() {
        return Err(OptionError::Destination(p.display().to_string()));
    }
    Ok(crate::rootpath::clean(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(k: &str) -> Option<String> {
        (k == "HOME").then(|| "/home/me".to_string())
    }

    fn known() -> Vec<String> {
        DEFAULT_CAPS
            .iter()
            .chain(&["NET_ADMIN", "SYS_ADMIN"])
            .map(|c| format!("CAP_{c}"))
            .collect()
    }

    #[test]
    fn env_entries() {
        assert_eq!(
            env_entry("A=1=2", &host).unwrap(),
            Some(("A".into(), "1=2".into()))
        );
        assert_eq!(
            env_entry("A=", &host).unwrap(),
            Some(("A".into(), "".into()))
        );
        assert_eq!(
            env_entry("HOME", &host).unwrap(),
            Some(("HOME".into(), "/home/me".into()))
        );
        assert_eq!(env_entry("NOPE", &host).unwrap(), None);
        assert!(env_entry("=x", &host).is_err());
        assert!(env_entry("A B=x", &host).is_err());
    }

    #[test]
    fn env_files() {
        let got = env_file(
            "f",
            "# c\n\nA=1\n  B=two words\nHOME\nNOPE\nC=\"q\"\n",
            &host,
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("HOME".into(), "/home/me".into()),
                ("C".into(), "\"q\"".into())
            ]
        );
        let e = env_file("f.env", "A=1\nBAD KEY=2\n", &host).unwrap_err();
        assert_eq!(e.to_string(), "f.env:2: invalid environment variable \"BAD KEY\": the name must not be empty or contain whitespace");
    }

    #[test]
    fn volumes() {
        assert_eq!(
            volume("/a:/b:ro").unwrap(),
            VolumeMount {
                source: VolumeSource::Host("/a".into()),
                destination: "/b".into(),
                readonly: true,
                nocopy: false,
            }
        );
        assert!(!volume("/a:/b").unwrap().readonly);
        assert!(!volume("/a:/b:ro,rw").unwrap().readonly);
        assert_eq!(
            volume("data:/b").unwrap().source,
            VolumeSource::Named("data".into())
        );
        assert!(volume("data:/b:nocopy").unwrap().nocopy);
        assert_eq!(volume("/b").unwrap().source, VolumeSource::Anonymous);
        for bad in ["./x:/b", "x/y:/b", "a:/b", "-x:/b"] {
            assert!(
                matches!(volume(bad), Err(OptionError::VolumeName(..))),
                "{bad}"
            );
        }
        assert!(volume("./x:/b")
            .unwrap_err()
            .to_string()
            .contains("use absolute path"));
        assert!(matches!(volume("/a:b"), Err(OptionError::Destination(_))));
        assert!(matches!(volume("b"), Err(OptionError::VolumeSyntax(_))));
        assert!(matches!(
            volume("/a:/b:z"),
            Err(OptionError::VolumeOption { .. })
        ));
        assert!(matches!(
            volume("/a:/b:nocopy"),
            Err(OptionError::VolumeOption { .. })
        ));
        assert!(matches!(
            volume("/a:/b:ro:x"),
            Err(OptionError::VolumeSyntax(_))
        ));
    }

    #[test]
    fn mount_flags_follow_docker() {
        let m = mount_flag_value("type=bind,source=/a,target=/b,readonly").unwrap();
        assert_eq!(m.source, VolumeSource::Host("/a".into()));
        assert!(m.readonly);
        let m = mount_flag_value("src=data,dst=/d,ro=false").unwrap();
        assert_eq!(m.source, VolumeSource::Named("data".into()));
        assert!(!m.readonly);
        let m = mount_flag_value("type=volume,destination=/d,volume-nocopy").unwrap();
        assert_eq!(m.source, VolumeSource::Anonymous);
        assert!(m.nocopy);
        let m = mount_flag_value("type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1777").unwrap();
        match m.source {
            VolumeSource::Tmpfs(o) => {
                assert!(o.contains(&"size=1m".to_string()) && o.contains(&"mode=1777".to_string()))
            }
            s => panic!("{s:?}"),
        }
        for (bad, want) in [
            ("type=bind,source=/a", "target is required"),
            ("type=bind,target=/a", "field Source must not be empty"),
            ("type=tmpfs,source=x,target=/a", "must not be specified"),
            (
                "type=volume,target=/a,colour=red",
                "unexpected key 'colour'",
            ),
            ("type=volume,target", "must be a key=value pair"),
            (
                "type=volume,target=/a,readonly=maybe",
                "invalid value for readonly",
            ),
            (
                "type=bind,source=/a,target=/b,tmpfs-size=1m",
                "cannot mix 'tmpfs-*'",
            ),
            ("type=nfs,target=/a", "invalid mount type"),
            ("type=bind,source=rel,target=/a", "must be absolute"),
        ] {
            let e = mount_flag_value(bad).unwrap_err().to_string();
            assert!(e.contains(want), "{bad}: {e}");
            assert!(e.starts_with("invalid argument"), "{bad}: {e}");
        }
    }

    #[test]
    fn tmpfs_options() {
        let t = tmpfs("/scratch").unwrap();
        assert_eq!(t.options, vec!["rw", "noexec", "nosuid", "nodev"]);
        let t = tmpfs("/s:size=1m,exec,mode=1777").unwrap();
        assert_eq!(
            t.options,
            vec!["rw", "nosuid", "nodev", "size=1m", "exec", "mode=1777"]
        );
        assert!(tmpfs("s").is_err());
        assert!(tmpfs("/s:size=lots").is_err());
        assert!(tmpfs("/s:mode=999").is_err());
        assert!(tmpfs("/s:bogus").is_err());
    }

    #[test]
    fn caps_follow_docker_rules() {
        let k = known();
        let d = capabilities(false, &[], &[], &k).unwrap();
        assert_eq!(d.len(), 14);
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let c = capabilities(false, &s(&["net_admin"]), &s(&["CAP_CHOWN"]), &k).unwrap();
        assert!(c.contains(&"CAP_NET_ADMIN".into()) && !c.contains(&"CAP_CHOWN".into()));
        assert!(capabilities(false, &[], &s(&["ALL"]), &k)
            .unwrap()
            .is_empty());
        assert_eq!(
            capabilities(false, &s(&["KILL"]), &s(&["all"]), &k).unwrap(),
            vec!["CAP_KILL"]
        );
        assert_eq!(
            capabilities(false, &s(&["ALL"]), &[], &k).unwrap().len(),
            k.len()
        );
        assert_eq!(capabilities(true, &[], &[], &k).unwrap().len(), k.len());
        assert!(matches!(
            capabilities(false, &s(&["FLY"]), &[], &k),
            Err(OptionError::Capability(_))
        ));
    }

    #[test]
    fn hostnames() {
        assert!(hostname("web-1.example").is_ok());
        for bad in ["", "-a", "a-", "a..b", "a_b", &"x".repeat(65)] {
            assert!(hostname(bad).is_err(), "{bad}");
        }
    }
}
