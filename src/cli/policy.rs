//! `coracle policy ls|show|check`: the security policies.

use clap::{Args, Subcommand};

use crate::policy::{self, apply};
use crate::sandbox::landlock;

/// The man page's description of policies.
pub const LONG_ABOUT: &str = "Manage security policies.

A policy says how a container is confined; `run` and `create` take one with --policy NAME|FILE (default: default). Three ship with coracle:

default: Docker-equivalent hardening: the seccomp allow-list with the effect of Docker's default profile, Docker's 14 capabilities, no_new_privs, Docker's masked and read-only /proc paths, and landlock's abstract-unix-socket scope.

strict: for security-restricted CI: a read-only root, no_new_privs, a tighter seccomp filter (no ptrace, process_vm_*, kcmp, mknod, fanotify...), five fewer capabilities, landlock allowing writes only to /dev and the container's volumes, read-write binds and tmpfs mounts, no TCP bind, scoped signals and abstract sockets, nofile 1024:4096 and no core dumps, and egress denied unless allowed.

unconfined: the explicit opt-out: no seccomp filter, no landlock, no no_new_privs. run warns and inspect shows CoraclePolicy.Warning.

A policy is a TOML file; names are looked up in $XDG_CONFIG_HOME/coracle/policies/NAME.toml, then PREFIX/share/coracle/policies, then the built-in copies. Keys: extends (a policy to start from), description, unconfined, no_new_privileges, read_only_root, masked_paths, readonly_paths; [seccomp] profile (default|unconfined), deny (system calls), [[seccomp.allow]] names and args ({index, op = eq|ne|lt|le|gt|ge|masked_eq, value, value_two}); [capabilities] add, drop; [landlock] [[landlock.path]] path and access (read, write, execute, ioctl), writable_mounts, bind_tcp, connect_tcp (port lists), scope (abstract-unix-socket, signal); [rlimits] nofile, nproc, core (N, \"SOFT:HARD\" or \"unlimited\"); [egress] default (allow|deny) and [[egress.allow]] to (address, network or host name), ports, protocol (tcp|udp).

Flags override the policy: --cap-add/--cap-drop apply to its capabilities, --security-opt seccomp=unconfined|FILE, no-new-privileges[=BOOL] and landlock=unconfined replace its settings, --read-only and --ulimit too; --privileged turns seccomp, landlock, masks and no_new_privs off. Egress rules are enforced by coracle's network stack: --network host is refused with a policy that has any.

Landlock is applied best effort: `coracle policy show NAME` prints what this kernel enforces (its landlock ABI and the rules it drops); inspect records it per container.";

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// List the policies --policy can name
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Show a policy and what the running kernel enforces of it
    Show(ShowArgs),
    /// Check a policy file and explain its errors (with line numbers)
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only print the names
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A policy name or a TOML file
    #[arg(value_name = "NAME|FILE")]
    pub policy: String,
    /// Print JSON
    #[arg(long = "json")]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Policy files (or names)
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<String>,
}

pub fn run(cmd: PolicyCommand) -> anyhow::Result<i32> {
    match cmd {
        PolicyCommand::Ls(a) => ls(&a),
        PolicyCommand::Show(a) => show(&a),
        PolicyCommand::Check(a) => check(&a),
    }
}

fn ls(a: &LsArgs) -> anyhow::Result<i32> {
    let list = policy::list();
    if a.quiet {
        for (n, _, _) in list {
            println!("{n}");
        }
        return Ok(0);
    }
    let w = list
        .iter()
        .map(|(n, _, _)| n.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let ws = list
        .iter()
        .map(|(_, s, _)| s.len())
        .max()
        .unwrap_or(6)
        .max(6);
    println!("{:<w$}  {:<ws$}  DESCRIPTION", "NAME", "SOURCE");
    for (n, s, d) in list {
        println!("{n:<w$}  {s:<ws$}  {d}");
    }
    Ok(0)
}

fn known_caps() -> Vec<String> {
    let last: usize = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40);
    let mut k: Vec<(u8, String)> = caps::all()
        .into_iter()
        .filter(|c| (c.index() as usize) <= last)
        .map(|c| (c.index(), c.to_string()))
        .collect();
    k.sort();
    k.into_iter().map(|(_, n)| n).collect()
}

fn show(a: &ShowArgs) -> anyhow::Result<i32> {
    let p = policy::load(&a.policy)?;
    // As a container with no other flags would get it (its writable
    // mounts stand for the volumes and tmpfs mounts it would have).
    let sec = apply::resolve(
        &p,
        &apply::Flags {
            privileged: false,
            cap_add: &[],
            cap_drop: &[],
            security_opt: &[],
            read_only: false,
            ulimit: &[],
            host_network: false,
            writable_mounts: Vec::new(),
        },
        &known_caps(),
    )?;
    let abi = crate::sys::landlock_abi();
    let ll = sec.landlock.clone().unwrap_or_default();
    let report = landlock::report(&ll, abi);
    if a.json {
        let v = serde_json::json!({
            "Policy": p,
            "Capabilities": sec.caps,
            "Seccomp": sec.record.seccomp,
            "LandlockABI": abi,
            "Landlock": report,
            "LandlockRules": ll,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    println!("Name:              {}", p.name);
    println!("Source:            {}", p.source);
    println!("Description:       {}", p.description);
    if let Some(w) = &sec.record.warning {
        println!("WARNING:           {w}");
    }
    println!("Seccomp:           {}", sec.record.seccomp);
    if !p.seccomp_deny.is_empty() {
        println!("  denied:          {}", p.seccomp_deny.join(", "));
    }
    for al in &p.seccomp_allow {
        let names: Vec<&str> = al.names.iter().map(|n| n.0.as_str()).collect();
        println!(
            "  allowed:         {} ({} argument conditions)",
            names.join(", "),
            al.args.len()
        );
    }
    println!(
        "no_new_privs:      {}",
        if sec.no_new_privileges { "yes" } else { "no" }
    );
    println!(
        "Read-only root:    {}",
        if sec.read_only_root { "yes" } else { "no" }
    );
    let short: Vec<&str> = sec
        .caps
        .iter()
        .map(|c| c.trim_start_matches("CAP_"))
        .collect();
    println!("Capabilities:      {}", short.join(", "));
    println!("Masked paths:      {}", sec.masked_paths.join(", "));
    println!("Read-only paths:   {}", sec.readonly_paths.join(", "));
    if sec.record.ulimits.is_empty() {
        println!("Rlimits:           (coracle's own)");
    } else {
        println!("Rlimits:           {}", sec.record.ulimits.join(", "));
    }
    println!(
        "Landlock:          kernel ABI {abi}{}",
        if abi == 0 {
            " (no landlock on this kernel)"
        } else {
            ""
        }
    );
    for r in &ll.paths {
        let rights: Vec<String> = r
            .access
            .iter()
            .map(|x| format!("{x:?}").to_lowercase())
            .collect();
        println!("  path {:<12} {}", r.path, rights.join(", "));
    }
    if p.writable_mounts && !ll.paths.is_empty() {
        println!("  volumes, read-write binds and tmpfs mounts: read, write, execute");
    }
    let ports = |v: &Option<Vec<u16>>| match v {
        None => "not restricted".to_string(),
        Some(v) if v.is_empty() => "denied".to_string(),
        Some(v) => format!(
            "only {}",
            v.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
        ),
    };
    println!("  TCP bind:        {}", ports(&ll.bind_tcp));
    println!("  TCP connect:     {}", ports(&ll.connect_tcp));
    let scopes: Vec<String> = ll
        .scopes
        .iter()
        .map(|s| {
            serde_json::to_value(s)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect();
    println!(
        "  scopes:          {}",
        if scopes.is_empty() {
            "none".into()
        } else {
            scopes.join(", ")
        }
    );
    println!("  enforced:        {}", report.enforced);
    for d in &report.dropped {
        println!("  dropped:         {d}");
    }
    println!(
        "Egress:            {} by default{}",
        if p.egress_deny { "denied" } else { "allowed" },
        if p.egress_allow.is_empty() {
            ""
        } else {
            ", except:"
        }
    );
    for r in &p.egress_allow {
        let ports: Vec<String> = r.ports.iter().map(|p| p.0.to_string()).collect();
        println!(
            "  allow {}{}{}",
            r.to.0,
            if ports.is_empty() {
                String::new()
            } else {
                format!(" ports {}", ports.join(","))
            },
            r.protocol.map_or(String::new(), |p| format!(
                " {}",
                format!("{p:?}").to_lowercase()
            ))
        );
    }
    Ok(0)
}

fn check(a: &CheckArgs) -> anyhow::Result<i32> {
    let mut bad = 0;
    for f in &a.files {
        match policy::load(f).and_then(|p| {
            apply::resolve(
                &p,
                &apply::Flags {
                    privileged: false,
                    cap_add: &[],
                    cap_drop: &[],
                    security_opt: &[],
                    read_only: false,
                    ulimit: &[],
                    host_network: false,
                    writable_mounts: Vec::new(),
                },
                &known_caps(),
            )
            .map(|_| p)
        }) {
            Ok(p) => {
                for w in warnings(&p) {
                    eprintln!("{f}: warning: {w}");
                }
                println!("{f}: ok");
            }
            Err(e) => {
                bad += 1;
                eprintln!("{f}: {e:#}");
            }
        }
    }
    Ok(if bad == 0 { 0 } else { 1 })
}

/// What is legal but probably not meant.
fn warnings(p: &policy::Policy) -> Vec<String> {
    let mut w = Vec::new();
    for n in p.seccomp_deny.iter().chain(
        p.seccomp_allow
            .iter()
            .flat_map(|a| a.names.iter().map(|n| &n.0)),
    ) {
        if crate::sandbox::seccomp::number(n).is_none() {
            w.push(format!(
                "seccomp: {n:?} is not a system call on this machine ({}); it is ignored here",
                std::env::consts::ARCH
            ));
        }
    }
    if !p.egress_deny && !p.egress_allow.is_empty() {
        w.push("egress: allow rules with default = \"allow\" change nothing".into());
    }
    if p.writable_mounts && p.landlock_paths.is_empty() {
        w.push(
            "landlock: writable_mounts without [[landlock.path]] rules restricts nothing".into(),
        );
    }
    if p.unconfined {
        w.push("the policy is marked unconfined".into());
    }
    w
}
