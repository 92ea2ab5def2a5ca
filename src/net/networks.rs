//! Named networks (`network create` ...): their definitions on disk.
//!
//! `$XDG_DATA_HOME/coracle/networks/NAME.json` holds one network (name,
//! id, creation time, subnet, gateway, internal, MTU, labels), written
//! atomically under `networks.lock`, which also serialises the subnet
//! allocation (the first free 10.89.N.0/24, as podman does, unless
//! `--subnet` names one; subnets never overlap each other nor the private
//! network's 10.0.2.0/24). Which containers use a network is read from
//! their records, never stored with the network, so it cannot drift.
//! The running side (one switch process per network) is [`super::switch`].

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::error::ExitError;

/// One network's definition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Network {
    pub name: String,
    /// 64 hex digits, like Docker's.
    pub id: String,
    pub created: String,
    pub subnet: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    #[serde(default)]
    pub internal: bool,
    pub mtu: u32,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl Network {
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.subnet, self.prefix)
    }

    /// Whether `a` is in the network's subnet.
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        within(self.subnet, self.prefix, a)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

fn within(net: Ipv4Addr, prefix: u8, a: Ipv4Addr) -> bool {
    u32::from(a) & mask(prefix) == u32::from(net) & mask(prefix)
}

fn overlaps(a: Ipv4Addr, ap: u8, b: Ipv4Addr, bp: u8) -> bool {
    let p = ap.min(bp);
    within(a, p, b)
}

/// The network names coracle keeps for itself (`--network` modes).
const RESERVED: &[&str] = &["private", "bridge", "default", "none", "host"];

/// Docker's rule for network names.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 128
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if !ok {
        bail!("invalid network name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (at most 128)");
    }
    if RESERVED.contains(&name) {
        bail!(
            "network name {name} is reserved for the --network mode of that name: choose another"
        );
    }
    Ok(())
}

/// `$XDG_DATA_HOME/coracle/networks` (0700).
pub fn networks_dir() -> anyhow::Result<PathBuf> {
    crate::container::private_dirs(crate::container::data_dir()?.join("networks"))
}

/// The lock of network creation, removal and subnet allocation.
pub fn lock() -> anyhow::Result<crate::container::DataLock> {
    crate::container::lock_data("networks.lock")
}

fn path_of(name: &str) -> anyhow::Result<PathBuf> {
    Ok(networks_dir()?.join(format!("{name}.json")))
}

pub fn not_found(name: &str) -> anyhow::Error {
    ExitError::new(1, format!("network {name} not found")).into()
}

/// Reads network `name` (or a unique prefix of an id); `None` when none.
pub fn get(name: &str) -> anyhow::Result<Option<Network>> {
    if check_name(name).is_ok() {
        let p = path_of(name)?;
        match std::fs::read(&p) {
            Ok(b) => {
                return serde_json::from_slice(&b)
                    .map(Some)
                    .with_context(|| format!("{} is damaged; remove it", p.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("read {}", p.display())),
        }
    }
    if name.len() >= 3 && name.bytes().all(|c| c.is_ascii_hexdigit()) {
        let m: Vec<Network> = list()?
            .into_iter()
            .filter(|n| n.id.starts_with(name))
            .collect();
        if m.len() == 1 {
            return Ok(m.into_iter().next());
        }
    }
    Ok(None)
}

pub fn find(name: &str) -> anyhow::Result<Network> {
    get(name)?.ok_or_else(|| not_found(name))
}

/// Every network, by name.
pub fn list() -> anyhow::Result<Vec<Network>> {
    let dir = networks_dir()?;
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).with_context(|| format!("read {}", dir.display()))? {
        let e = e?;
        let n = e.file_name().to_string_lossy().into_owned();
        let Some(name) = n.strip_suffix(".json") else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        if let Ok(b) = std::fs::read(e.path()) {
            if let Ok(net) = serde_json::from_slice::<Network>(&b) {
                out.push(net);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// What `network create` asks for.
#[derive(Debug, Default, Clone)]
pub struct Request {
    pub name: String,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub internal: bool,
    pub mtu: Option<u32>,
    pub labels: BTreeMap<String, String>,
}

fn parse_cidr(s: &str) -> anyhow::Result<(Ipv4Addr, u8)> {
    let bad = || anyhow::anyhow!("invalid subnet {s:?}: give an IPv4 CIDR such as 10.90.0.0/24");
    let (a, p) = s.split_once('/').ok_or_else(bad)?;
    let a: Ipv4Addr = a.parse().map_err(|_| bad())?;
    let p: u8 = p.parse().map_err(|_| bad())?;
    if !(8..=30).contains(&p) {
        bail!("invalid subnet {s}: the prefix length must be from 8 to 30");
    }
    Ok((Ipv4Addr::from(u32::from(a) & mask(p)), p))
}

/// The private network's subnet, which a named one must not overlap.
const PRIVATE: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 0, 2, 0), 24);

/// Creates a network (Docker's errors for a taken name or subnet).
pub fn create(req: &Request) -> anyhow::Result<Network> {
    check_name(&req.name)?;
    let _lock = lock()?;
    if path_of(&req.name)?.exists() {
        return Err(
            ExitError::new(1, format!("network with name {} already exists", req.name)).into(),
        );
    }
    let existing = list()?;
    let (subnet, prefix) = match &req.subnet {
        Some(s) => {
            let (a, p) = parse_cidr(s)?;
            if overlaps(a, p, PRIVATE.0, PRIVATE.1) {
                bail!("subnet {a}/{p} overlaps the private network's 10.0.2.0/24: choose another");
            }
            if let Some(o) = existing.iter().find(|n| overlaps(a, p, n.subnet, n.prefix)) {
                return Err(ExitError::new(
                    1,
                    format!(
                        "invalid pool request: Pool overlaps with other one on this address space (network {} has {})",
                        o.name,
                        o.cidr()
                    ),
                )
                .into());
            }
            (a, p)
        }
        None => {
            if req.gateway.is_some() {
                bail!("--gateway needs --subnet");
            }
            (0..=255u8)
                .map(|n| Ipv4Addr::new(10, 89, n, 0))
                .find(|a| {
                    !existing
                        .iter()
                        .any(|o| overlaps(*a, 24, o.subnet, o.prefix))
                })
                .map(|a| (a, 24))
                .context("every subnet 10.89.N.0/24 is taken: give one with --subnet")?
        }
    };
    let first = Ipv4Addr::from(u32::from(subnet) + 1);
    let gateway = match &req.gateway {
        Some(g) => {
            let g: Ipv4Addr = g
                .parse()
                .map_err(|_| anyhow::anyhow!("invalid gateway {g:?}: give an IPv4 address"))?;
            let host = u32::from(g) & !mask(prefix);
            if !within(subnet, prefix, g) || host == 0 || host == !mask(prefix) {
                bail!("gateway {g} is not a host address of subnet {subnet}/{prefix}");
            }
            g
        }
        None => first,
    };
    let mtu = req.mtu.unwrap_or(super::DEFAULT_MTU);
    if !(576..=65520).contains(&mtu) {
        bail!("invalid mtu {mtu}: give a number from 576 to 65520");
    }
    let net = Network {
        name: req.name.clone(),
        id: crate::spec::new_id()?,
        created: crate::container::now(),
        subnet,
        prefix,
        gateway,
        internal: req.internal,
        mtu,
        labels: req.labels.clone(),
    };
    crate::runtime::write_atomic(&path_of(&net.name)?, &serde_json::to_vec_pretty(&net)?)?;
    Ok(net)
}

/// A container using a network: id, name, whether it runs.
pub type User = (String, String, bool);

/// Network name -> the containers whose records use it.
pub fn users_of_all() -> anyhow::Result<BTreeMap<String, Vec<User>>> {
    let mut m: BTreeMap<String, Vec<User>> = BTreeMap::new();
    for c in crate::container::list()? {
        if let Some(n) = c.record.net.as_ref().and_then(|n| n.named.as_ref()) {
            m.entry(n.name.clone()).or_default().push((
                c.record.id.clone(),
                c.record.name.clone(),
                c.alive,
            ));
        }
    }
    Ok(m)
}

/// Removes network `name` unless a container uses it (Docker's "has
/// active endpoints", naming them).
pub fn remove(name: &str) -> anyhow::Result<()> {
    let _lock = lock()?;
    let net = find(name)?;
    let users = users_of_all()?.remove(&net.name).unwrap_or_default();
    if !users.is_empty() {
        let names: Vec<&str> = users.iter().map(|(_, n, _)| n.as_str()).collect();
        return Err(ExitError::new(
            1,
            format!(
                "error while removing network: network {} id {} has active endpoints (containers: {}); remove them first",
                net.name,
                &net.id[..12],
                names.join(", ")
            ),
        )
        .into());
    }
    let p = path_of(&net.name)?;
    std::fs::remove_file(&p).with_context(|| format!("remove {}", p.display()))
}

/// Adds named network `name` (`run --network NAME`) to the plan of the
/// container's network; `--network-alias` needs one.
pub fn plan(
    cfg: &mut super::NetConfig,
    name: Option<&str>,
    aliases: &[String],
) -> anyhow::Result<()> {
    let Some(name) = name else {
        if !aliases.is_empty() {
            bail!("--network-alias needs a named network (--network NAME)");
        }
        return Ok(());
    };
    let net = find(name)?;
    for a in aliases {
        let ok = !a.is_empty()
            && a.len() <= 253
            && a.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            });
        if !ok {
            bail!(
                "invalid --network-alias {a:?}: give a DNS name (letters, digits, '-', '_', dots)"
            );
        }
    }
    if net.internal {
        if !cfg.ports.is_empty() {
            bail!("network {} is internal (no way in or out): published ports (-p, -P) cannot work on it", net.name);
        }
        if !cfg.egress.is_empty() {
            bail!(
                "network {} is internal (no way out): egress rules have nothing to allow",
                net.name
            );
        }
    }
    cfg.named = Some(super::switch::NamedNet::of(&net, aliases.to_vec()));
    Ok(())
}

/// `network connect NET CONTAINER`: for a container that does not run
/// (created or stopped; its monitor's lock is taken meanwhile). A
/// container is on at most one named network besides its private one.
pub fn connect(net_name: &str, what: &str, aliases: &[String]) -> anyhow::Result<()> {
    let net = find(net_name)?;
    change_stopped(what, |record| {
        let Some(cfg) = record.net.as_mut() else {
            bail!(
                "container {} has --network {}: only a container on the private network can join a named network",
                record.name,
                record.network_mode
            );
        };
        if let Some(n) = &cfg.named {
            if n.name == net.name {
                return Err(ExitError::new(
                    1,
                    format!(
                        "endpoint with name {} already exists in network {}",
                        record.name, net.name
                    ),
                )
                .into());
            }
            bail!(
                "container {} is on network {} already: coracle puts a container on one named network; disconnect it first",
                record.name,
                n.name
            );
        }
        let mut c = cfg.clone();
        plan(&mut c, Some(&net.name), aliases)?;
        *cfg = c;
        record.network_mode = net.name.clone();
        Ok(())
    })
}

/// `network disconnect NET CONTAINER` (not running, as [`connect`]): back
/// to the private network alone.
pub fn disconnect(net_name: &str, what: &str) -> anyhow::Result<()> {
    let net = find(net_name)?;
    change_stopped(what, |record| match record.net.as_mut() {
        Some(cfg) if cfg.named.as_ref().is_some_and(|n| n.name == net.name) => {
            cfg.named = None;
            record.network_mode = "private".into();
            Ok(())
        }
        _ => Err(ExitError::new(
            1,
            format!(
                "container {} is not connected to network {}",
                record.name, net.name
            ),
        )
        .into()),
    })
}

/// Changes the record of container `what` under its monitor's lock (so it
/// cannot start meanwhile) and rewrites its resolv.conf and hosts.
fn change_stopped(
    what: &str,
    f: impl FnOnce(&mut crate::container::Record) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let c = crate::container::resolve(what)?;
    let id = c.record.id.clone();
    let Some(_lock) = crate::container::try_lock_monitor(&id)? else {
        bail!(
            "container {} is running: coracle connects and disconnects networks of created or stopped containers only; stop it first",
            c.record.name
        );
    };
    let mut record = crate::container::Record::read(&c.dir)?;
    let old = record.net.as_ref().and_then(|n| n.named.clone());
    f(&mut record)?;
    let new = record.net.as_ref().and_then(|n| n.named.clone());
    // The generated files follow: the resolver is the network's gateway
    // or the private network's forwarder.
    let resolv_path = c.dir.join(crate::spec::RESOLV_FILE);
    if let Ok(r) = std::fs::read_to_string(&resolv_path) {
        let mut r: String = r
            .lines()
            .filter(|l| l.split_whitespace().next() != Some("nameserver"))
            .map(|l| format!("{l}\n"))
            .collect();
        let ns = new.as_ref().map_or(super::DNS, |n| n.gateway);
        r.push_str(&format!("nameserver {ns}\n"));
        crate::runtime::write_atomic(&resolv_path, r.as_bytes())?;
    }
    let hosts_path = c.dir.join(crate::spec::HOSTS_FILE);
    if let Ok(h) = std::fs::read_to_string(&hosts_path) {
        let internal = |n: &Option<super::switch::NamedNet>| n.as_ref().is_some_and(|n| n.internal);
        let h = match (internal(&old), internal(&new)) {
            (false, true) => h.replace(&format!("{}\t", super::GUEST), "127.0.1.1\t"),
            (true, false) => h.replace("127.0.1.1\t", &format!("{}\t", super::GUEST)),
            _ => h,
        };
        crate::runtime::write_atomic(&hosts_path, h.as_bytes())?;
    }
    record.write(&c.dir)?;
    let _ = std::fs::remove_file(c.dir.join(super::switch::IP_FILE));
    Ok(())
}

/// The generated /etc/hosts and resolv.conf on a named network: the
/// resolver is the network's gateway (which knows the containers' names);
/// on an internal network the host name is not the private address.
pub fn adjust_files(n: &super::switch::NamedNet, hosts: &mut String, resolv: &mut String) {
    let mut r: String = resolv
        .lines()
        .filter(|l| l.split_whitespace().next() != Some("nameserver"))
        .map(|l| format!("{l}\n"))
        .collect();
    r.push_str(&format!("nameserver {}\n", n.gateway));
    *resolv = r;
    if n.internal {
        let guest = format!("{}\t", super::GUEST);
        *hosts = hosts
            .lines()
            .map(|l| match l.strip_prefix(&guest) {
                Some(rest) => format!("127.0.1.1\t{rest}\n"),
                None => format!("{l}\n"),
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        assert_eq!(
            parse_cidr("10.90.1.7/24").unwrap(),
            (Ipv4Addr::new(10, 90, 1, 0), 24)
        );
        assert!(parse_cidr("10.90.1.0").is_err());
        assert!(parse_cidr("10.90.1.0/31").is_err());
        assert!(overlaps(
            Ipv4Addr::new(10, 0, 0, 0),
            16,
            Ipv4Addr::new(10, 0, 2, 0),
            24
        ));
        assert!(!overlaps(
            Ipv4Addr::new(10, 89, 0, 0),
            24,
            Ipv4Addr::new(10, 89, 1, 0),
            24
        ));
        assert!(check_name("host").is_err());
        assert!(check_name("-x").is_err());
        assert!(check_name("net_1.a").is_ok());
    }
}
