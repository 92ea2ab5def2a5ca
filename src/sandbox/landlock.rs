//! The container's landlock ruleset and resource limits.
//!
//! The plan ([`LandlockPlan`]) is made by the policy at plan time and
//! recorded in `config.json` as the annotation [`ANNOTATION`] (the runtime
//! spec has no landlock field), so that `run`, `start` and `exec` apply the
//! very same rules. In the sandbox child the ruleset is built (its paths
//! opened inside the container, after pivot_root) before the identity
//! change, and restricts the process right before the seccomp filter and
//! execve (see `child::exec`). Best effort: rights, network rules and
//! scopes the running kernel does not know are dropped (the `landlock`
//! crate's default compatibility level), and [`report`] says which, from
//! the kernel's ABI version.

use std::os::fd::{AsFd, AsRawFd};

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, NetPort, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreated, RulesetCreatedAttr, Scope, ABI,
};
use oci_spec::runtime::{PosixRlimitType, Process, Spec};
use serde::{Deserialize, Serialize};

use super::SetupError;

/// The `config.json` annotation that carries the plan.
pub const ANNOTATION: &str = "org.coracle.landlock";

/// Rights on a path, as policies spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FsRight {
    /// Read files, list directories.
    Read,
    /// Write, truncate, create, remove, rename and link.
    Write,
    /// Execute files.
    Execute,
    /// ioctl on device files (landlock ABI 5).
    Ioctl,
}

/// A landlock scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeName {
    /// Abstract UNIX sockets created outside the domain cannot be reached.
    AbstractUnixSocket,
    /// Processes outside the domain cannot be signalled.
    Signal,
}

/// A path inside the container and what may be done beneath it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathRule {
    pub path: String,
    pub access: Vec<FsRight>,
}

/// What the container process is restricted to. Filesystem access is
/// restricted when `paths` is not empty (then only what they grant is
/// allowed); TCP bind or connect when the list is given (then only those
/// ports).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LandlockPlan {
    #[serde(default)]
    pub paths: Vec<PathRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_tcp: Option<Vec<u16>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_tcp: Option<Vec<u16>>,
    #[serde(default)]
    pub scopes: Vec<ScopeName>,
}

impl LandlockPlan {
    /// Whether the plan restricts anything at all.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
            && self.bind_tcp.is_none()
            && self.connect_tcp.is_none()
            && self.scopes.is_empty()
    }

    /// The plan recorded in a container's spec, if any.
    pub fn of_spec(spec: &Spec) -> Result<Option<Self>, SetupError> {
        let Some(v) = spec.annotations().as_ref().and_then(|a| a.get(ANNOTATION)) else {
            return Ok(None);
        };
        serde_json::from_str(v)
            .map(Some)
            .map_err(|e| SetupError::setup(format!("the container's landlock rules: {e}")))
    }
}

/// What the running kernel enforces of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Report {
    /// The kernel's landlock ABI version (0: no landlock).
    pub abi: i32,
    /// `full`, `partial`, `none` (nothing of it is enforced) or
    /// `not-requested`.
    pub enforced: String,
    /// What of the plan this kernel does not enforce, and why.
    pub dropped: Vec<String>,
}

/// What the kernel of ABI version `abi` enforces of `plan`.
pub fn report(plan: &LandlockPlan, abi: i32) -> Report {
    let mut dropped = Vec::new();
    let mut kept = 0;
    let mut want = |what: String, needs: i32, dropped: &mut Vec<String>| {
        if abi >= needs {
            kept += 1;
        } else {
            dropped.push(format!("{what} (needs landlock ABI {needs})"));
        }
    };
    if !plan.paths.is_empty() {
        want("filesystem rules".into(), 1, &mut dropped);
        if abi >= 1 {
            want(
                "restriction of linking and renaming across directories".into(),
                2,
                &mut dropped,
            );
            if plan
                .paths
                .iter()
                .any(|p| p.access.contains(&FsRight::Write))
            {
                want("restriction of truncate".into(), 3, &mut dropped);
            }
            want("restriction of ioctl on devices".into(), 5, &mut dropped);
        }
    }
    if plan.bind_tcp.is_some() {
        want("TCP bind rules".into(), 4, &mut dropped);
    }
    if plan.connect_tcp.is_some() {
        want("TCP connect rules".into(), 4, &mut dropped);
    }
    for s in &plan.scopes {
        let name = match s {
            ScopeName::AbstractUnixSocket => "scope abstract-unix-socket",
            ScopeName::Signal => "scope signal",
        };
        want(name.into(), 6, &mut dropped);
    }
    let enforced = if plan.is_empty() {
        "not-requested"
    } else if dropped.is_empty() {
        "full"
    } else if kept == 0 {
        "none"
    } else {
        "partial"
    };
    Report {
        abi,
        enforced: enforced.into(),
        dropped,
    }
}

/// The highest ABI this code asks for (handled rights beyond it are not
/// requested, so a newer kernel behaves as this one).
const ASKED: ABI = ABI::V6;

fn fs_access(rights: &[FsRight]) -> BitFlags<AccessFs> {
    let mut a = BitFlags::EMPTY;
    for r in rights {
        a |= match r {
            FsRight::Read => AccessFs::ReadFile | AccessFs::ReadDir,
            FsRight::Write => AccessFs::from_write(ASKED) & !BitFlags::from(AccessFs::IoctlDev),
            FsRight::Execute => AccessFs::Execute.into(),
            FsRight::Ioctl => AccessFs::IoctlDev.into(),
        };
    }
    a
}

fn ll_err(what: &str) -> impl Fn(landlock::RulesetError) -> SetupError + '_ {
    move |e| SetupError::setup(format!("landlock: {what}: {e}"))
}

/// Builds the ruleset of `plan` (its paths opened now, in the caller's
/// root; a path that does not exist grants nothing). Scopes are left out
/// for `exec`: a process `exec` starts is in a domain of its own, and a
/// scoped one could not signal or reach the container's other processes.
pub fn prepare(plan: &LandlockPlan, for_exec: bool) -> Result<Option<RulesetCreated>, SetupError> {
    let scopes: Vec<ScopeName> = if for_exec {
        Vec::new()
    } else {
        plan.scopes.clone()
    };
    if plan.paths.is_empty()
        && plan.bind_tcp.is_none()
        && plan.connect_tcp.is_none()
        && scopes.is_empty()
    {
        return Ok(None);
    }
    let mut rs = Ruleset::default();
    if !plan.paths.is_empty() {
        rs = rs
            .handle_access(AccessFs::from_all(ASKED))
            .map_err(ll_err("handle filesystem access"))?;
    }
    if plan.bind_tcp.is_some() {
        rs = rs
            .handle_access(AccessNet::BindTcp)
            .map_err(ll_err("handle TCP bind"))?;
    }
    if plan.connect_tcp.is_some() {
        rs = rs
            .handle_access(AccessNet::ConnectTcp)
            .map_err(ll_err("handle TCP connect"))?;
    }
    for s in &scopes {
        rs = rs
            .scope(match s {
                ScopeName::AbstractUnixSocket => Scope::AbstractUnixSocket,
                ScopeName::Signal => Scope::Signal,
            })
            .map_err(ll_err("scope"))?;
    }
    // no_new_privs is the policy's business (caps::apply sets it).
    let mut created = rs
        .create()
        .map_err(ll_err("create the ruleset"))?
        .no_new_privs(false);
    for p in &plan.paths {
        let fd = match PathFd::new(&p.path) {
            Ok(fd) => fd,
            Err(_) => continue,
        };
        let mut access = fs_access(&p.access);
        let is_dir = nix::sys::stat::fstat(fd.as_fd().as_raw_fd())
            .is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR);
        if !is_dir {
            access &= AccessFs::from_file(ASKED);
        }
        if access.is_empty() {
            continue;
        }
        created = created
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|e| SetupError::setup(format!("landlock: rule for {}: {e}", p.path)))?;
    }
    for port in plan.bind_tcp.iter().flatten() {
        created = created
            .add_rule(NetPort::new(*port, AccessNet::BindTcp))
            .map_err(ll_err("TCP bind rule"))?;
    }
    for port in plan.connect_tcp.iter().flatten() {
        created = created
            .add_rule(NetPort::new(*port, AccessNet::ConnectTcp))
            .map_err(ll_err("TCP connect rule"))?;
    }
    Ok(Some(created))
}

/// Restricts the calling thread (its later children inherit the domain).
pub fn restrict(ruleset: RulesetCreated) -> Result<(), SetupError> {
    ruleset
        .restrict_self()
        .map(|_| ())
        .map_err(ll_err("restrict the process"))
}

/// Builds the ruleset; without no_new_privs the kernel lets only a process
/// with CAP_SYS_ADMIN restrict itself, which the container process may no
/// longer have after `caps::apply`: then it restricts now and returns
/// `None` (as `child::seccomp_before_caps` does for the filter).
pub fn before_caps(
    plan: Option<&LandlockPlan>,
    process: &Process,
    for_exec: bool,
) -> Result<Option<RulesetCreated>, SetupError> {
    let Some(plan) = plan else {
        return Ok(None);
    };
    let Some(rs) = prepare(plan, for_exec)? else {
        return Ok(None);
    };
    if process.no_new_privileges().unwrap_or(false) {
        return Ok(Some(rs));
    }
    restrict(rs)?;
    Ok(None)
}

/// The process's resource limits (`process.rlimits`), set before the
/// identity change. A hard limit above the caller's cannot be set (that
/// needs CAP_SYS_RESOURCE in the host's user namespace).
pub fn apply_rlimits(process: &Process) -> Result<(), SetupError> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    for r in process.rlimits().as_deref().unwrap_or_default() {
        let (res, name) = match r.typ() {
            PosixRlimitType::RlimitCpu => (Resource::RLIMIT_CPU, "cpu"),
            PosixRlimitType::RlimitFsize => (Resource::RLIMIT_FSIZE, "fsize"),
            PosixRlimitType::RlimitData => (Resource::RLIMIT_DATA, "data"),
            PosixRlimitType::RlimitStack => (Resource::RLIMIT_STACK, "stack"),
            PosixRlimitType::RlimitCore => (Resource::RLIMIT_CORE, "core"),
            PosixRlimitType::RlimitRss => (Resource::RLIMIT_RSS, "rss"),
            PosixRlimitType::RlimitNproc => (Resource::RLIMIT_NPROC, "nproc"),
            PosixRlimitType::RlimitNofile => (Resource::RLIMIT_NOFILE, "nofile"),
            PosixRlimitType::RlimitMemlock => (Resource::RLIMIT_MEMLOCK, "memlock"),
            PosixRlimitType::RlimitAs => (Resource::RLIMIT_AS, "as"),
            PosixRlimitType::RlimitLocks => (Resource::RLIMIT_LOCKS, "locks"),
            PosixRlimitType::RlimitSigpending => (Resource::RLIMIT_SIGPENDING, "sigpending"),
            PosixRlimitType::RlimitMsgqueue => (Resource::RLIMIT_MSGQUEUE, "msgqueue"),
            PosixRlimitType::RlimitNice => (Resource::RLIMIT_NICE, "nice"),
            PosixRlimitType::RlimitRtprio => (Resource::RLIMIT_RTPRIO, "rtprio"),
            PosixRlimitType::RlimitRttime => (Resource::RLIMIT_RTTIME, "rttime"),
        };
        setrlimit(res, r.soft(), r.hard()).map_err(|e| {
            let cur = getrlimit(res).map(|(_, h)| h).unwrap_or(0);
            let why = if r.hard() > cur {
                format!(
                    "the hard limit cannot be raised above coracle's own ({cur}); lower it with --ulimit {name}=SOFT:HARD"
                )
            } else {
                e.desc().to_lowercase()
            };
            SetupError::setup(format!(
                "set the {name} limit to {}:{}: {why}",
                r.soft(),
                r.hard()
            ))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> LandlockPlan {
        LandlockPlan {
            paths: vec![PathRule {
                path: "/".into(),
                access: vec![FsRight::Read, FsRight::Write],
            }],
            bind_tcp: Some(vec![]),
            connect_tcp: None,
            scopes: vec![ScopeName::Signal],
        }
    }

    #[test]
    fn report_by_abi() {
        assert_eq!(report(&plan(), 7).enforced, "full");
        let r = report(&plan(), 4);
        assert_eq!(r.enforced, "partial");
        assert!(r.dropped.iter().any(|d| d.contains("ioctl")), "{r:?}");
        assert!(
            r.dropped.iter().any(|d| d.contains("scope signal")),
            "{r:?}"
        );
        assert!(!r.dropped.iter().any(|d| d.contains("TCP bind")), "{r:?}");
        assert_eq!(report(&plan(), 0).enforced, "none");
        assert_eq!(
            report(&LandlockPlan::default(), 7).enforced,
            "not-requested"
        );
    }

    #[test]
    fn write_right_has_no_ioctl() {
        let w = fs_access(&[FsRight::Write]);
        assert!(w.contains(AccessFs::WriteFile | AccessFs::Truncate));
        assert!(!w.contains(AccessFs::IoctlDev));
        assert!(!w.contains(AccessFs::Execute));
    }
}
