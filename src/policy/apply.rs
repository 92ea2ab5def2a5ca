//! A policy and the container's flags become the security part of its
//! plan. The flags override the policy: `--privileged`, `--cap-add` and
//! `--cap-drop` (applied to the policy's set), `--security-opt`,
//! `--read-only` and `--ulimit`.

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{bail, Context};
use oci_spec::runtime::{
    LinuxSeccomp, LinuxSeccompAction, LinuxSeccompOperator, LinuxSyscall, PosixRlimit,
    PosixRlimitBuilder, PosixRlimitType,
};
use serde::{Deserialize, Serialize};

use super::{ArgOp, Policy, Rlimit, SeccompBase};
use crate::sandbox::landlock::{self, FsRight, LandlockPlan, PathRule};
use crate::spec::options::{self, SeccompOpt};

/// The flags that touch security.
pub struct Flags<'a> {
    pub privileged: bool,
    pub cap_add: &'a [String],
    pub cap_drop: &'a [String],
    pub security_opt: &'a [String],
    pub read_only: bool,
    pub ulimit: &'a [String],
    pub host_network: bool,
    /// Destinations of the container's volumes, read-write binds and
    /// tmpfs mounts.
    pub writable_mounts: Vec<PathBuf>,
}

/// The security part of a container's plan.
#[derive(Debug, Clone)]
pub struct Security {
    /// `CAP_*` names, in bit order.
    pub caps: Vec<String>,
    pub no_new_privileges: bool,
    pub masked_paths: Vec<String>,
    pub readonly_paths: Vec<String>,
    pub seccomp: Option<LinuxSeccomp>,
    pub read_only_root: bool,
    pub rlimits: Vec<PosixRlimit>,
    pub landlock: Option<LandlockPlan>,
    pub record: PolicyRecord,
}

/// What `inspect` shows of a container's policy (`container.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyRecord {
    pub name: String,
    pub source: String,
    /// The policy is an opt-out, or the flags turned every confinement
    /// off: shown loudly.
    #[serde(default)]
    pub unconfined: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// `default`, `default+deny`, `FILE` (`--security-opt seccomp=FILE`)
    /// or `unconfined`.
    pub seccomp: String,
    pub landlock: landlock::Report,
    #[serde(default)]
    pub landlock_rules: LandlockPlan,
    /// `allow` or `deny`: what leaves the container besides the rules.
    pub egress_default: String,
    #[serde(default)]
    pub egress_allow: Vec<super::EgressRule>,
    /// `--ulimit` style, `name=soft:hard`.
    #[serde(default)]
    pub ulimits: Vec<String>,
}

const UNCONFINED_WARNING: &str = "UNCONFINED: no seccomp filter, no landlock, no no_new_privs: the container is confined by its user namespace alone";

/// `--ulimit NAME=SOFT[:HARD]`, Docker's names.
pub fn ulimit(s: &str) -> anyhow::Result<(String, Rlimit)> {
    let (name, v) = s.split_once('=').with_context(|| {
        format!("invalid --ulimit {s:?}: expected NAME=SOFT[:HARD], e.g. nofile=1024:2048")
    })?;
    if rlimit_type(name).is_none() {
        bail!(
            "invalid --ulimit {s:?}: unknown limit {name:?} (core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)"
        );
    }
    let r = Rlimit::parse(v).map_err(|e| anyhow::anyhow!("invalid --ulimit {s:?}: {e}"))?;
    Ok((name.to_string(), r))
}

fn rlimit_type(name: &str) -> Option<PosixRlimitType> {
    use PosixRlimitType::*;
    Some(match name {
        "core" => RlimitCore,
        "cpu" => RlimitCpu,
        "data" => RlimitData,
        "fsize" => RlimitFsize,
        "locks" => RlimitLocks,
        "memlock" => RlimitMemlock,
        "msgqueue" => RlimitMsgqueue,
        "nice" => RlimitNice,
        "nofile" => RlimitNofile,
        "nproc" => RlimitNproc,
        "rss" => RlimitRss,
        "rtprio" => RlimitRtprio,
        "rttime" => RlimitRttime,
        "sigpending" => RlimitSigpending,
        "stack" => RlimitStack,
        _ => return None,
    })
}

/// Takes `deny` out of a profile's allow entries and adds `allow`.
fn tighten(mut profile: LinuxSeccomp, policy: &Policy) -> anyhow::Result<LinuxSeccomp> {
    use oci_spec::runtime::{LinuxSeccompArgBuilder, LinuxSyscallBuilder};
    let deny: HashSet<&str> = policy.seccomp_deny.iter().map(String::as_str).collect();
    let mut syscalls: Vec<LinuxSyscall> = Vec::new();
    for mut sc in profile.syscalls().clone().unwrap_or_default() {
        if sc.action() == LinuxSeccompAction::ScmpActAllow {
            let names: Vec<String> = sc
                .names()
                .iter()
                .filter(|n| !deny.contains(n.as_str()))
                .cloned()
                .collect();
            if names.is_empty() {
                continue;
            }
            sc.set_names(names);
        }
        syscalls.push(sc);
    }
    for a in &policy.seccomp_allow {
        let args = a
            .args
            .iter()
            .map(|x| {
                LinuxSeccompArgBuilder::default()
                    .index(x.index.0 as usize)
                    .op(match x.op {
                        ArgOp::Eq => LinuxSeccompOperator::ScmpCmpEq,
                        ArgOp::Ne => LinuxSeccompOperator::ScmpCmpNe,
                        ArgOp::Lt => LinuxSeccompOperator::ScmpCmpLt,
                        ArgOp::Le => LinuxSeccompOperator::ScmpCmpLe,
                        ArgOp::Gt => LinuxSeccompOperator::ScmpCmpGt,
                        ArgOp::Ge => LinuxSeccompOperator::ScmpCmpGe,
                        ArgOp::MaskedEq => LinuxSeccompOperator::ScmpCmpMaskedEq,
                    })
                    .value(x.value)
                    .value_two(x.value_two)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        syscalls.push(
            LinuxSyscallBuilder::default()
                .names(a.names.iter().map(|n| n.0.clone()).collect::<Vec<_>>())
                .action(LinuxSeccompAction::ScmpActAllow)
                .args(args)
                .build()?,
        );
    }
    profile.set_syscalls(Some(syscalls));
    Ok(profile)
}

/// The security part of the plan: `policy` with `flags` over it.
pub fn resolve(policy: &Policy, flags: &Flags, known_caps: &[String]) -> anyhow::Result<Security> {
    let sec = options::security_opts(flags.security_opt)?;

    // Capabilities: the policy's set from Docker's defaults, then the flags.
    let base = options::capabilities(false, &policy.cap_add, &policy.cap_drop, known_caps)?;
    let caps = if flags.privileged {
        options::capabilities(true, flags.cap_add, flags.cap_drop, known_caps)?
    } else {
        options::capabilities_from(base, flags.cap_add, flags.cap_drop, known_caps)?
    };
    let cap_set: HashSet<String> = caps.iter().cloned().collect();

    let no_new_privileges = match sec.no_new_privileges {
        Some(v) => v,
        None => policy.no_new_privileges && !flags.privileged,
    };

    let (masked_paths, readonly_paths) = if flags.privileged {
        (Vec::new(), Vec::new())
    } else {
        (policy.masked_paths.clone(), policy.readonly_paths.clone())
    };

    // Seccomp.
    let (seccomp, seccomp_name) = match (&sec.seccomp, flags.privileged) {
        (SeccompOpt::Unconfined, _) => (None, "unconfined".to_string()),
        (SeccompOpt::File(p), _) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("read seccomp profile {}", p.display()))?;
            let prof = super::docker_json::parse(&text, &cap_set)
                .with_context(|| format!("seccomp profile {}", p.display()))?;
            (Some(prof), p.display().to_string())
        }
        (SeccompOpt::Policy, true) => (None, "unconfined".to_string()),
        (SeccompOpt::Policy, false) => match policy.seccomp {
            SeccompBase::Unconfined => (None, "unconfined".to_string()),
            SeccompBase::Default => match crate::sandbox::seccomp::default_profile(&cap_set)? {
                Some(p) if policy.seccomp_deny.is_empty() && policy.seccomp_allow.is_empty() => {
                    (Some(p), "default".to_string())
                }
                Some(p) => (
                    Some(tighten(p, policy)?),
                    format!("default, tightened by policy {}", policy.name),
                ),
                None => {
                    eprintln!(
                        "coracle: no seccomp filter: coracle has none for this architecture ({})",
                        std::env::consts::ARCH
                    );
                    (None, "unconfined".to_string())
                }
            },
        },
    };
    // A profile from a file, or with the policy's own allow entries, is
    // compiled once here so that a bad one fails before anything is made
    // (the sandbox compiles it again in the child). coracle's default,
    // with names taken out, always compiles: no need to pay twice.
    let user_rules = matches!(sec.seccomp, SeccompOpt::File(_)) || !policy.seccomp_allow.is_empty();
    if let (Some(p), true) = (&seccomp, user_rules) {
        crate::sandbox::seccomp::compile(p).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    }

    // Landlock.
    let landlock = if sec.landlock_unconfined || flags.privileged {
        None
    } else {
        let mut paths: Vec<PathRule> = policy
            .landlock_paths
            .iter()
            .map(|(p, a)| PathRule {
                path: p.clone(),
                access: a.clone(),
            })
            .collect();
        if !paths.is_empty() && policy.writable_mounts {
            for m in &flags.writable_mounts {
                paths.push(PathRule {
                    path: m.display().to_string(),
                    access: vec![FsRight::Read, FsRight::Write, FsRight::Execute],
                });
            }
        }
        let plan = LandlockPlan {
            paths,
            bind_tcp: policy.bind_tcp.clone(),
            connect_tcp: policy.connect_tcp.clone(),
            scopes: policy.scopes.clone(),
        };
        (!plan.is_empty()).then_some(plan)
    };

    // Resource limits: the policy's, then --ulimit by name.
    let mut limits: Vec<(String, Rlimit)> = policy.rlimits.clone();
    for u in flags.ulimit {
        let (n, r) = ulimit(u)?;
        limits.retain(|(k, _)| *k != n);
        limits.push((n, r));
    }
    let rlimits = limits
        .iter()
        .map(|(n, r)| {
            PosixRlimitBuilder::default()
                .typ(rlimit_type(n).expect("checked names"))
                .soft(r.soft)
                .hard(r.hard)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;

    // Egress is enforced by the container's network stack: on the host's
    // network there is none.
    if flags.host_network && (policy.egress_deny || !policy.egress_allow.is_empty()) {
        bail!(
            "policy {} has egress rules, which cannot be enforced on the host network (--network host): use another network mode, or a policy without egress rules",
            policy.name
        );
    }

    let abi = crate::sys::landlock_abi();
    let report = landlock::report(landlock.as_ref().unwrap_or(&LandlockPlan::default()), abi);
    let unconfined =
        policy.unconfined || (seccomp.is_none() && landlock.is_none() && !no_new_privileges);
    let record = PolicyRecord {
        name: policy.name.clone(),
        source: policy.source.clone(),
        unconfined,
        warning: if policy.unconfined {
            Some(format!("policy {}: {UNCONFINED_WARNING}", policy.name))
        } else if unconfined {
            Some(format!(
                "--privileged or --security-opt turned policy {}'s confinement off: {UNCONFINED_WARNING}",
                policy.name
            ))
        } else {
            None
        },
        seccomp: seccomp_name,
        landlock: report,
        landlock_rules: landlock.clone().unwrap_or_default(),
        egress_default: if policy.egress_deny { "deny" } else { "allow" }.into(),
        egress_allow: policy.egress_allow.clone(),
        ulimits: limits
            .iter()
            .map(|(n, r)| format!("{n}={}", String::from(*r)))
            .collect(),
    };
    Ok(Security {
        caps,
        no_new_privileges,
        masked_paths,
        readonly_paths,
        seccomp,
        read_only_root: flags.read_only || policy.read_only_root,
        rlimits,
        landlock,
        record,
    })
}

/// The warning `run` and `create` print for an unconfined container.
pub fn warning(record: &PolicyRecord) -> Option<String> {
    record
        .warning
        .as_ref()
        .map(|w| format!("coracle: WARNING: {w}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        let mut k: Vec<(u8, String)> = caps::all()
            .into_iter()
            .map(|c| (c.index(), c.to_string()))
            .collect();
        k.sort();
        k.into_iter().map(|(_, n)| n).collect()
    }

    fn flags<'a>(opts: &'a [String], add: &'a [String], drop: &'a [String]) -> Flags<'a> {
        Flags {
            privileged: false,
            cap_add: add,
            cap_drop: drop,
            security_opt: opts,
            read_only: false,
            ulimit: &[],
            host_network: false,
            writable_mounts: vec![PathBuf::from("/data")],
        }
    }

    #[test]
    fn flags_override_the_policy() {
        let strict = super::super::load("strict").unwrap();
        let s = resolve(&strict, &flags(&[], &[], &[]), &known()).unwrap();
        assert!(s.read_only_root && s.no_new_privileges);
        assert!(!s.caps.contains(&"CAP_NET_RAW".to_string()));
        let ll = s.landlock.as_ref().unwrap();
        assert!(ll.paths.iter().any(|p| p.path == "/data"));
        let names: Vec<String> = s
            .seccomp
            .as_ref()
            .unwrap()
            .syscalls()
            .as_ref()
            .unwrap()
            .iter()
            .flat_map(|c| c.names().clone())
            .collect();
        assert!(!names.contains(&"ptrace".to_string()));
        assert!(names.contains(&"read".to_string()));
        // --cap-add wins over the policy's drop.
        let add = vec!["NET_RAW".to_string()];
        let s = resolve(&strict, &flags(&[], &add, &[]), &known()).unwrap();
        assert!(s.caps.contains(&"CAP_NET_RAW".to_string()));
        // seccomp=unconfined and landlock=unconfined.
        let o = vec![
            "seccomp=unconfined".to_string(),
            "landlock=unconfined".to_string(),
        ];
        let s = resolve(&strict, &flags(&o, &[], &[]), &known()).unwrap();
        assert!(s.seccomp.is_none() && s.landlock.is_none());
        // Egress rules cannot be kept on the host network.
        let mut f = flags(&[], &[], &[]);
        f.host_network = true;
        let e = resolve(&strict, &f, &known()).unwrap_err().to_string();
        assert!(e.contains("cannot be enforced on the host network"), "{e}");
    }

    #[test]
    fn unconfined_is_loud() {
        let u = super::super::load("unconfined").unwrap();
        let s = resolve(&u, &flags(&[], &[], &[]), &known()).unwrap();
        assert!(s.record.unconfined && s.seccomp.is_none() && !s.no_new_privileges);
        assert!(warning(&s.record).unwrap().contains("UNCONFINED"));
        let d = super::super::load("default").unwrap();
        let s = resolve(&d, &flags(&[], &[], &[]), &known()).unwrap();
        assert!(!s.record.unconfined && warning(&s.record).is_none());
    }

    #[test]
    fn ulimit_flags() {
        assert_eq!(
            ulimit("nofile=1024:2048").unwrap().1,
            Rlimit {
                soft: 1024,
                hard: 2048
            }
        );
        assert!(ulimit("nofile").is_err());
        assert!(ulimit("bogus=1")
            .unwrap_err()
            .to_string()
            .contains("unknown limit"));
        let d = super::super::load("strict").unwrap();
        let u = vec!["nofile=100:200".to_string()];
        let mut f = flags(&[], &[], &[]);
        f.ulimit = &u;
        let s = resolve(&d, &f, &known()).unwrap();
        let nofile: Vec<_> = s
            .rlimits
            .iter()
            .filter(|r| r.typ() == PosixRlimitType::RlimitNofile)
            .collect();
        assert_eq!(nofile.len(), 1);
        assert_eq!((nofile[0].soft(), nofile[0].hard()), (100, 200));
    }
}
