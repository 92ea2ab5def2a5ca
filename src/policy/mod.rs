//! Security policies: TOML files (`policies/*.toml`) that say how a
//! container is confined: seccomp, landlock, capabilities, no_new_privs,
//! masked and read-only paths, a read-only root, rlimits and egress rules.
//!
//! A policy is found by name in `$XDG_CONFIG_HOME/coracle/policies`, then
//! in the install directory (`BIN/../share/coracle/policies`), then among
//! the copies compiled into the binary (`default`, `strict`,
//! `unconfined`); or given as a file (a path with a `/`, or ending in
//! `.toml`). `extends = "NAME"` starts from another policy: tables are
//! merged key by key, anything else is replaced.
//!
//! Every value is checked while the TOML is read (the types below check
//! themselves in `Deserialize`), so an error carries the line and column
//! of the value that is wrong.

pub mod apply;
pub mod docker_json;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::sandbox::landlock::{FsRight, ScopeName};

/// The policies compiled into the binary, so that a fresh build works.
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../policies/default.toml")),
    ("strict", include_str!("../../policies/strict.toml")),
    ("unconfined", include_str!("../../policies/unconfined.toml")),
];

/// The policy a container gets when none is named.
pub const DEFAULT: &str = "default";

/// A policy file as written (every field optional: `extends` and the
/// built-in defaults fill the rest).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    pub extends: Option<String>,
    pub description: Option<String>,
    /// Marks the policy as an opt-out (shown loudly).
    pub unconfined: Option<bool>,
    pub no_new_privileges: Option<bool>,
    pub read_only_root: Option<bool>,
    pub masked_paths: Option<Vec<AbsPath>>,
    pub readonly_paths: Option<Vec<AbsPath>>,
    pub seccomp: Option<SeccompSection>,
    pub capabilities: Option<CapsSection>,
    pub landlock: Option<LandlockSection>,
    pub rlimits: Option<RlimitsSection>,
    pub egress: Option<EgressSection>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeccompSection {
    pub profile: Option<SeccompBase>,
    /// Taken out of the allow-list.
    pub deny: Option<Vec<SyscallName>>,
    /// Added to the allow-list, with argument conditions.
    pub allow: Option<Vec<SeccompAllow>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeccompBase {
    Default,
    Unconfined,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeccompAllow {
    pub names: Vec<SyscallName>,
    #[serde(default)]
    pub args: Vec<SeccompArg>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeccompArg {
    pub index: ArgIndex,
    pub op: ArgOp,
    pub value: u64,
    #[serde(default)]
    pub value_two: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArgOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    MaskedEq,
}

/// A system call argument index, 0 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct ArgIndex(pub u32);

impl TryFrom<i64> for ArgIndex {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        if (0..=5).contains(&v) {
            Ok(Self(v as u32))
        } else {
            Err(format!(
                "argument index {v} is out of range: system calls have arguments 0 to 5"
            ))
        }
    }
}

impl From<ArgIndex> for u32 {
    fn from(v: ArgIndex) -> u32 {
        v.0
    }
}

/// A system call name (lower-case letters, digits and `_`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct SyscallName(pub String);

impl TryFrom<String> for SyscallName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            Ok(Self(s))
        } else {
            Err(format!(
                "{s:?} is not a system call name (lower-case letters, digits and _, e.g. \"ptrace\")"
            ))
        }
    }
}

impl From<SyscallName> for String {
    fn from(v: SyscallName) -> String {
        v.0
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CapsSection {
    pub add: Option<Vec<CapName>>,
    pub drop: Option<Vec<CapName>>,
}

/// A capability name this build knows (`CAP_` optional), or `ALL`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct CapName(pub String);

impl TryFrom<String> for CapName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("all") {
            return Ok(Self("ALL".into()));
        }
        let up = s.to_ascii_uppercase();
        let full = if up.starts_with("CAP_") {
            up
        } else {
            format!("CAP_{up}")
        };
        if full.parse::<caps::Capability>().is_ok() {
            Ok(Self(full))
        } else {
            Err(format!(
                "unknown capability {s:?} (names as in capabilities(7), e.g. \"NET_RAW\", or \"ALL\")"
            ))
        }
    }
}

impl From<CapName> for String {
    fn from(v: CapName) -> String {
        v.0
    }
}

/// An absolute path inside the container.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct AbsPath(pub String);

impl TryFrom<String> for AbsPath {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.starts_with('/') && !s.contains('\0') {
            Ok(Self(s))
        } else {
            Err(format!(
                "{s:?} is not an absolute path inside the container"
            ))
        }
    }
}

impl From<AbsPath> for String {
    fn from(v: AbsPath) -> String {
        v.0
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LandlockSection {
    /// Filesystem rules: with any, only what they grant is allowed.
    pub path: Option<Vec<LandlockPath>>,
    /// With filesystem rules: the container's volumes, read-write binds
    /// and tmpfs mounts get read, write and execute.
    pub writable_mounts: Option<bool>,
    pub bind_tcp: Option<Vec<u16>>,
    pub connect_tcp: Option<Vec<u16>>,
    pub scope: Option<Vec<ScopeName>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LandlockPath {
    pub path: AbsPath,
    pub access: Vec<FsRight>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RlimitsSection {
    pub nofile: Option<Rlimit>,
    pub nproc: Option<Rlimit>,
    pub core: Option<Rlimit>,
}

/// A resource limit: `N` (soft = hard), `"SOFT:HARD"`, or `"unlimited"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RlimitValue", into = "String")]
pub struct Rlimit {
    pub soft: u64,
    pub hard: u64,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RlimitValue {
    N(i64),
    S(String),
}

impl TryFrom<RlimitValue> for Rlimit {
    type Error = String;
    fn try_from(v: RlimitValue) -> Result<Self, String> {
        match v {
            RlimitValue::N(n) if n >= 0 => Ok(Self {
                soft: n as u64,
                hard: n as u64,
            }),
            RlimitValue::N(n) => Err(format!("a limit cannot be negative ({n})")),
            RlimitValue::S(s) => Rlimit::parse(&s),
        }
    }
}

impl From<Rlimit> for String {
    fn from(r: Rlimit) -> String {
        let one = |v: u64| {
            if v == u64::MAX {
                "unlimited".to_string()
            } else {
                v.to_string()
            }
        };
        format!("{}:{}", one(r.soft), one(r.hard))
    }
}

impl Rlimit {
    /// `SOFT[:HARD]`, each a number or `unlimited` (Docker's `--ulimit`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let one = |v: &str| -> Result<u64, String> {
            match v {
                "unlimited" | "-1" => Ok(u64::MAX),
                _ => v
                    .parse::<u64>()
                    .map_err(|_| format!("invalid limit {v:?}: a number, or \"unlimited\"")),
            }
        };
        let (soft, hard) = match s.split_once(':') {
            Some((a, b)) => (one(a)?, one(b)?),
            None => {
                let v = one(s)?;
                (v, v)
            }
        };
        if soft > hard {
            return Err(format!(
                "soft limit {soft} is above the hard limit {hard} in {s:?}"
            ));
        }
        Ok(Self { soft, hard })
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EgressSection {
    pub default: Option<EgressDefault>,
    pub allow: Option<Vec<EgressRule>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EgressDefault {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EgressRule {
    /// An address, a network (`ADDR/PREFIX`) or a host name.
    pub to: Destination,
    /// Destination ports (none: every port).
    #[serde(default)]
    pub ports: Vec<Port>,
    /// `tcp` or `udp` (none: both).
    pub protocol: Option<Protocol>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

/// A port, 1 to 65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "i64", into = "u16")]
pub struct Port(pub u16);

impl TryFrom<i64> for Port {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        match u16::try_from(v) {
            Ok(p) if p > 0 => Ok(Self(p)),
            _ => Err(format!("port {v} is out of range (1 to 65535)")),
        }
    }
}

impl From<Port> for u16 {
    fn from(p: Port) -> u16 {
        p.0
    }
}

/// Where egress may go: an IP address, a network or a host name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Destination(pub String);

impl TryFrom<String> for Destination {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let bad =
            || format!("{s:?} is not an address, a network (e.g. \"10.0.0.0/8\") or a host name");
        if let Some((addr, prefix)) = s.split_once('/') {
            let ip: std::net::IpAddr = addr.parse().map_err(|_| bad())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            match prefix.parse::<u8>() {
                Ok(p) if p <= max => return Ok(Self(s)),
                _ => return Err(format!("{s:?}: the prefix length must be 0 to {max}")),
            }
        }
        if s.parse::<std::net::IpAddr>().is_ok() {
            return Ok(Self(s));
        }
        let host_ok = !s.is_empty()
            && s.len() <= 253
            && s.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if host_ok {
            Ok(Self(s))
        } else {
            Err(bad())
        }
    }
}

impl From<Destination> for String {
    fn from(d: Destination) -> String {
        d.0
    }
}

/// A policy with every default filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub name: String,
    /// The file it was read from, or `built-in`.
    pub source: String,
    pub description: String,
    pub unconfined: bool,
    pub no_new_privileges: bool,
    pub read_only_root: bool,
    pub masked_paths: Vec<String>,
    pub readonly_paths: Vec<String>,
    pub seccomp: SeccompBase,
    pub seccomp_deny: Vec<String>,
    pub seccomp_allow: Vec<SeccompAllow>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub landlock_paths: Vec<(String, Vec<FsRight>)>,
    pub writable_mounts: bool,
    pub bind_tcp: Option<Vec<u16>>,
    pub connect_tcp: Option<Vec<u16>>,
    pub scopes: Vec<ScopeName>,
    /// `(name, limit)`, names as `--ulimit` spells them.
    pub rlimits: Vec<(String, Rlimit)>,
    pub egress_deny: bool,
    pub egress_allow: Vec<EgressRule>,
}

fn is_file_ref(s: &str) -> bool {
    s.contains('/') || s.ends_with(".toml")
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !s.starts_with('.')
}

/// `$XDG_CONFIG_HOME/coracle/policies` (default `~/.config/...`).
pub fn user_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("coracle").join("policies"))
}

/// `BIN/../share/coracle/policies`, where install.sh puts them.
pub fn install_dir() -> Option<PathBuf> {
    let exe = std::fs::read_link("/proc/self/exe").ok()?;
    Some(
        exe.parent()?
            .parent()?
            .join("share")
            .join("coracle")
            .join("policies"),
    )
}

/// Where a named policy's text comes from: (source, text).
fn find(name: &str) -> anyhow::Result<(String, String)> {
    if !valid_name(name) {
        bail!(
            "invalid policy name {name:?}: give a name (letters, digits, '-', '_') or a file (a path with a '/', or ending in .toml)"
        );
    }
    for dir in [user_dir(), install_dir()].into_iter().flatten() {
        let p = dir.join(format!("{name}.toml"));
        match std::fs::read_to_string(&p) {
            Ok(t) => return Ok((p.display().to_string(), t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("read policy {}", p.display())),
        }
    }
    if let Some((_, t)) = BUILTIN.iter().find(|(n, _)| *n == name) {
        return Ok(("built-in".into(), t.to_string()));
    }
    bail!(
        "no policy named {name:?}: see `coracle policy ls` (policies are read from {}, {} and the built-in ones)",
        user_dir().map_or("$XDG_CONFIG_HOME/coracle/policies".into(), |d| d.display().to_string()),
        install_dir().map_or("the install directory".into(), |d| d.display().to_string()),
    )
}

/// Parses one policy file's text (checking every value; errors name the
/// line and column).
pub fn parse(origin: &str, text: &str) -> anyhow::Result<PolicyFile> {
    toml::from_str::<PolicyFile>(text).map_err(|e| anyhow::anyhow!("policy {origin}: {e}"))
}

/// Merges `over` into `base`: tables key by key, anything else replaced.
fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Reads a policy by name or file, following `extends`.
pub fn load(what: &str) -> anyhow::Result<Policy> {
    let (name, source, text, dir) = if is_file_ref(what) {
        let p = Path::new(what);
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("read policy file {}", p.display()))?;
        let name = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| what.to_string());
        (
            name,
            p.display().to_string(),
            text,
            p.parent().map(Path::to_path_buf),
        )
    } else {
        let (source, text) = find(what)?;
        (what.to_string(), source, text, None)
    };
    let merged = load_chain(&source, &text, dir.as_deref(), 0)?;
    let file: PolicyFile = merged
        .try_into()
        .map_err(|e| anyhow::anyhow!("policy {source}: {e}"))?;
    Ok(resolve(name, source, file))
}

/// The policy's TOML with its `extends` chain merged in (base first).
fn load_chain(
    origin: &str,
    text: &str,
    dir: Option<&Path>,
    depth: usize,
) -> anyhow::Result<toml::Value> {
    if depth > 8 {
        bail!("policy {origin}: `extends` goes more than 8 policies deep (a cycle?)");
    }
    let file = parse(origin, text)?;
    let mut value: toml::Value =
        toml::from_str(text).map_err(|e| anyhow::anyhow!("policy {origin}: {e}"))?;
    let Some(base) = file.extends else {
        return Ok(value);
    };
    if let toml::Value::Table(t) = &mut value {
        t.remove("extends");
    }
    let (borigin, btext, bdir) = if is_file_ref(&base) {
        let p = match dir {
            Some(d) if !Path::new(&base).is_absolute() => d.join(&base),
            _ => PathBuf::from(&base),
        };
        let t = std::fs::read_to_string(&p).with_context(|| {
            format!(
                "policy {origin}: read the policy it extends, {}",
                p.display()
            )
        })?;
        (
            p.display().to_string(),
            t,
            p.parent().map(Path::to_path_buf),
        )
    } else {
        let (s, t) = find(&base).with_context(|| format!("policy {origin}: extends"))?;
        (s, t, None)
    };
    let mut merged = load_chain(&borigin, &btext, bdir.as_deref(), depth + 1)?;
    if let toml::Value::Table(t) = &mut merged {
        // What the base says about itself is not inherited.
        t.remove("description");
        t.remove("unconfined");
    }
    merge(&mut merged, value);
    Ok(merged)
}

/// Fills in the defaults (Docker's).
fn resolve(name: String, source: String, f: PolicyFile) -> Policy {
    let seccomp = f.seccomp.unwrap_or_default();
    let caps = f.capabilities.unwrap_or_default();
    let ll = f.landlock.unwrap_or_default();
    let rl = f.rlimits.unwrap_or_default();
    let eg = f.egress.unwrap_or_default();
    let strs = |v: Option<Vec<AbsPath>>, d: &[&str]| -> Vec<String> {
        v.map(|v| v.into_iter().map(|p| p.0).collect())
            .unwrap_or_else(|| d.iter().map(|s| s.to_string()).collect())
    };
    let mut rlimits = Vec::new();
    for (n, v) in [
        ("nofile", rl.nofile),
        ("nproc", rl.nproc),
        ("core", rl.core),
    ] {
        if let Some(v) = v {
            rlimits.push((n.to_string(), v));
        }
    }
    Policy {
        name,
        source,
        description: f.description.unwrap_or_default(),
        unconfined: f.unconfined.unwrap_or(false),
        no_new_privileges: f.no_new_privileges.unwrap_or(true),
        read_only_root: f.read_only_root.unwrap_or(false),
        masked_paths: strs(f.masked_paths, crate::spec::options::MASKED_PATHS),
        readonly_paths: strs(f.readonly_paths, crate::spec::options::READONLY_PATHS),
        seccomp: seccomp.profile.unwrap_or(SeccompBase::Default),
        seccomp_deny: seccomp
            .deny
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.0)
            .collect(),
        seccomp_allow: seccomp.allow.unwrap_or_default(),
        cap_add: caps
            .add
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.0)
            .collect(),
        cap_drop: caps
            .drop
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.0)
            .collect(),
        landlock_paths: ll
            .path
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.path.0, p.access))
            .collect(),
        writable_mounts: ll.writable_mounts.unwrap_or(false),
        bind_tcp: ll.bind_tcp,
        connect_tcp: ll.connect_tcp,
        scopes: ll.scope.unwrap_or_default(),
        rlimits,
        egress_deny: eg.default == Some(EgressDefault::Deny),
        egress_allow: eg.allow.unwrap_or_default(),
    }
}

/// Every policy that can be named: (name, source, description), the first
/// found of each name (user directory, install directory, built-in).
pub fn list() -> Vec<(String, String, String)> {
    let mut seen: BTreeMap<String, (String, String)> = BTreeMap::new();
    for dir in [user_dir(), install_dir()].into_iter().flatten() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        names.sort();
        for p in names {
            let Some(stem) = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".toml"))
            else {
                continue;
            };
            if !valid_name(stem) || seen.contains_key(stem) {
                continue;
            }
            let desc = match load(&p.display().to_string()) {
                Ok(pol) => pol.description,
                Err(_) => "(invalid: see `coracle policy check`)".into(),
            };
            seen.insert(stem.to_string(), (p.display().to_string(), desc));
        }
    }
    for (n, _) in BUILTIN {
        if !seen.contains_key(*n) {
            let desc = load(n).map(|p| p.description).unwrap_or_default();
            seen.insert(n.to_string(), ("built-in".into(), desc));
        }
    }
    seen.into_iter().map(|(n, (s, d))| (n, s, d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for (n, t) in BUILTIN {
            let f = parse(n, t).unwrap();
            assert!(f.description.is_some(), "{n}");
        }
        let d = load("default").unwrap();
        assert!(d.no_new_privileges && !d.read_only_root && !d.unconfined);
        assert_eq!(d.seccomp, SeccompBase::Default);
        assert_eq!(
            d.masked_paths.len(),
            crate::spec::options::MASKED_PATHS.len()
        );
        let s = load("strict").unwrap();
        assert!(s.read_only_root && s.egress_deny && s.writable_mounts);
        assert!(s.seccomp_deny.contains(&"ptrace".to_string()));
        assert_eq!(s.bind_tcp, Some(vec![]));
        let u = load("unconfined").unwrap();
        assert!(u.unconfined && !u.no_new_privileges);
        assert_eq!(u.seccomp, SeccompBase::Unconfined);
    }

    #[test]
    fn errors_have_line_numbers() {
        let text = "description = \"x\"\n\n[capabilities]\ndrop = [\"NET_RAW\", \"NOPE\"]\n";
        let e = parse("t.toml", text).unwrap_err().to_string();
        assert!(e.contains("line 4"), "{e}");
        assert!(e.contains("unknown capability \"NOPE\""), "{e}");
        let e = parse("t.toml", "[seccomp]\nprofil = \"default\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("profil"), "{e}");
        let e = parse("t.toml", "[rlimits]\nnofile = \"10:5\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("above the hard"), "{e}");
        let e = parse("t.toml", "[[egress.allow]]\nto = \"10.0.0.0/33\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("prefix"), "{e}");
        let e = parse(
            "t.toml",
            "[[seccomp.allow]]\nnames = [\"x\"]\nargs = [{ index = 6, op = \"eq\", value = 1 }]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3") && e.contains("index 6"), "{e}");
        let e = parse(
            "t.toml",
            "[[landlock.path]]\npath = \"/\"\naccess = [\"fly\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3") && e.contains("fly"), "{e}");
    }

    #[test]
    fn extends_merges_tables() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mine.toml");
        std::fs::write(
            &p,
            "extends = \"strict\"\ndescription = \"mine\"\n[landlock]\nbind_tcp = [8080]\n",
        )
        .unwrap();
        let pol = load(p.to_str().unwrap()).unwrap();
        assert_eq!(pol.name, "mine");
        assert_eq!(pol.description, "mine");
        assert_eq!(pol.bind_tcp, Some(vec![8080]));
        // The rest of strict's [landlock] is kept.
        assert!(pol.writable_mounts && !pol.landlock_paths.is_empty());
        assert!(pol.read_only_root);
        let q = dir.path().join("loop.toml");
        std::fs::write(&q, "extends = \"./loop.toml\"\n").unwrap();
        let e = load(q.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.contains("more than 8"), "{e}");
    }

    #[test]
    fn rlimit_syntax() {
        assert_eq!(
            Rlimit::parse("1024:2048").unwrap(),
            Rlimit {
                soft: 1024,
                hard: 2048
            }
        );
        assert_eq!(Rlimit::parse("5").unwrap(), Rlimit { soft: 5, hard: 5 });
        assert_eq!(Rlimit::parse("unlimited").unwrap().hard, u64::MAX);
        assert!(Rlimit::parse("x").is_err());
    }
}
