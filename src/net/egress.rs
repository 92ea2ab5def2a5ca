//! Egress rules of the private network: which destinations the container
//! may reach, enforced in the stack for TCP, UDP and ICMP.
//!
//! `--egress allow=CIDR[:PORTS][/tcp|/udp]`, `--egress deny=…` and
//! `--egress host=NAME[:PORTS][/tcp|/udp]` (an allow rule for each IPv4
//! address NAME has on the host when the container is created: the
//! addresses are fixed then, as with Docker's `--add-host`; a name that
//! resolves to the host's loopback means the host, which the container
//! reaches at the gateway 10.0.2.2). PORTS is `80`, `8000-8100` or a
//! comma list of those (no PORTS: every port). A protocol limits the rule
//! to TCP or UDP; ICMP matches only a rule with neither ports nor a
//! protocol. Rules are checked in order and the first that matches
//! decides; when none matches, the destination is allowed unless some
//! rule is an `allow` (an allow-list).
//!
//! The resolver 10.0.2.3:53 is a destination like any other: under an
//! allow-list it must be allowed (`allow=10.0.2.3:53/udp`), since its
//! forwarder relays any query to the host's resolvers — a channel out.
//!
//! A denied TCP connection is refused with a reset, a denied UDP datagram
//! or ping answered with "communication administratively prohibited"
//! (the container's call fails at once), and counted.
//!
//! A security policy's `[egress]` section comes after the flag's rules
//! ([`with_policy`]): the flags override it.

use std::net::Ipv4Addr;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

pub use super::ports::Proto;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub action: Action,
    pub addr: Ipv4Addr,
    pub prefix: u8,
    /// Inclusive port ranges; empty: every port (and ICMP).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<(u16, u16)>,
    /// TCP or UDP only; None: both (and ICMP, without ports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<Proto>,
    /// The host name the address was resolved from (shown in `inspect`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Where the rule comes from: None the flag, else `policy NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl Rule {
    /// `traffic`: the protocol and port, None for ICMP.
    fn matches(&self, ip: Ipv4Addr, traffic: Option<(Proto, u16)>) -> bool {
        let mask = if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        };
        if u32::from(ip) & mask != u32::from(self.addr) & mask {
            return false;
        }
        let Some((proto, port)) = traffic else {
            return self.ports.is_empty() && self.proto.is_none();
        };
        if self.proto.is_some_and(|p| p != proto) {
            return false;
        }
        self.ports.is_empty() || self.ports.iter().any(|(a, b)| (*a..=*b).contains(&port))
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = match self.action {
            Action::Allow => "allow",
            Action::Deny => "deny",
        };
        write!(f, "{a}={}/{}", self.addr, self.prefix)?;
        if !self.ports.is_empty() {
            let p: Vec<String> = self
                .ports
                .iter()
                .map(|(a, b)| {
                    if a == b {
                        a.to_string()
                    } else {
                        format!("{a}-{b}")
                    }
                })
                .collect();
            write!(f, ":{}", p.join(","))?;
        }
        if let Some(p) = self.proto {
            write!(f, "/{}", p.as_str())?;
        }
        match (&self.host, &self.origin) {
            (Some(h), Some(o)) => write!(f, " (host {h}, {o})"),
            (Some(h), None) => write!(f, " (host {h})"),
            (None, Some(o)) => write!(f, " ({o})"),
            (None, None) => Ok(()),
        }
    }
}

fn port(s: &str, rule: &str) -> anyhow::Result<u16> {
    s.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .with_context(|| format!("invalid port {s:?} in egress rule {rule:?}: give 1 to 65535"))
}

fn ports(p: &str, rule: &str) -> anyhow::Result<Vec<(u16, u16)>> {
    let mut list = Vec::new();
    for part in p.split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (port(a, rule)?, port(b, rule)?),
            None => {
                let x = port(part, rule)?;
                (x, x)
            }
        };
        if b < a {
            bail!(
                "invalid port range {part:?} in egress rule {rule:?}: the end is below the start"
            );
        }
        list.push((a, b));
    }
    Ok(list)
}

/// Splits a trailing `/tcp` or `/udp` off.
fn proto_suffix(s: &str) -> (&str, Option<Proto>) {
    if let Some(r) = s.strip_suffix("/tcp") {
        (r, Some(Proto::Tcp))
    } else if let Some(r) = s.strip_suffix("/udp") {
        (r, Some(Proto::Udp))
    } else {
        (s, None)
    }
}

/// The IPv4 addresses of host `name` as the host resolves it (its
/// /etc/hosts and resolvers), loopback ones as the gateway through which
/// the container reaches the host's loopback. IPv6 addresses are left out:
/// the private network is IPv4.
pub fn resolve_host(name: &str) -> anyhow::Result<Vec<Ipv4Addr>> {
    use std::net::ToSocketAddrs;
    let addrs = (name, 0u16)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve host name {name:?} of an egress rule"))?;
    let mut out = Vec::new();
    for a in addrs {
        if let std::net::SocketAddr::V4(v4) = a {
            let ip = if v4.ip().is_loopback() {
                super::GATEWAY
            } else {
                *v4.ip()
            };
            if !out.contains(&ip) {
                out.push(ip);
            }
        }
    }
    if out.is_empty() {
        bail!("host name {name:?} of an egress rule has no IPv4 address (the private network is IPv4)");
    }
    Ok(out)
}

/// Parses one rule: `allow=CIDR[:PORTS][/PROTO]` or `deny=…` (CIDR may be
/// a bare address, a /32), or `host=NAME[:PORTS][/PROTO]`, which is
/// resolved now (one allow rule per address).
pub fn parse(rule: &str) -> anyhow::Result<Vec<Rule>> {
    let usage = "use allow=CIDR[:PORTS][/tcp|/udp], deny=CIDR[:PORTS][/tcp|/udp] or host=NAME[:PORTS][/tcp|/udp]";
    let (action, rest) = match rule.split_once('=') {
        Some(("allow", r)) => (Action::Allow, r),
        Some(("deny", r)) => (Action::Deny, r),
        Some(("host", r)) => {
            let (r, proto) = proto_suffix(r);
            let (name, p) = match r.split_once(':') {
                Some((n, p)) => (n, ports(p, rule)?),
                None => (r, Vec::new()),
            };
            if name.is_empty() {
                bail!("invalid egress rule {rule:?}: the host name is empty; {usage}");
            }
            return Ok(resolve_host(name)?
                .into_iter()
                .map(|addr| Rule {
                    action: Action::Allow,
                    addr,
                    prefix: 32,
                    ports: p.clone(),
                    proto,
                    host: Some(name.to_string()),
                    origin: None,
                })
                .collect());
        }
        _ => bail!("invalid egress rule {rule:?}: {usage}"),
    };
    let (rest, proto) = proto_suffix(rest);
    let (cidr, p) = match rest.split_once(':') {
        Some((c, p)) => (c, ports(p, rule)?),
        None => (rest, Vec::new()),
    };
    let (addr, prefix) = match cidr.split_once('/') {
        Some((a, p)) => (
            a,
            p.parse::<u8>().ok().filter(|p| *p <= 32).with_context(|| {
                format!("invalid prefix length {p:?} in egress rule {rule:?}: give 0 to 32")
            })?,
        ),
        None => (cidr, 32),
    };
    let addr: Ipv4Addr = addr.parse().with_context(|| {
        format!("invalid address {addr:?} in egress rule {rule:?}: give an IPv4 address or CIDR")
    })?;
    Ok(vec![Rule {
        action,
        addr,
        prefix,
        ports: p,
        proto,
        host: None,
        origin: None,
    }])
}

/// The rules the stack enforces: the flag's `cli` rules first (they
/// override), then the policy's allow rules, then its default — deny: a
/// final deny-all. A policy whose default is allow adds nothing (its
/// allow rules would change nothing). Host names are resolved now; IPv6
/// destinations are left out (the private network is IPv4).
pub fn with_policy(cli: Vec<Rule>, policy: &crate::policy::Policy) -> anyhow::Result<Vec<Rule>> {
    let mut out = cli;
    if !policy.egress_deny {
        return Ok(out);
    }
    let origin = Some(format!("policy {}", policy.name));
    for r in &policy.egress_allow {
        let proto = r.protocol.map(|p| match p {
            crate::policy::Protocol::Tcp => Proto::Tcp,
            crate::policy::Protocol::Udp => Proto::Udp,
        });
        let ports: Vec<(u16, u16)> = r.ports.iter().map(|p| (p.0, p.0)).collect();
        let to = r.to.0.as_str();
        let (addrs, prefix, host): (Vec<Ipv4Addr>, u8, Option<String>) =
            if let Some((a, p)) = to.split_once('/') {
                match a.parse::<std::net::IpAddr>() {
                    Ok(std::net::IpAddr::V4(a)) => (
                        vec![a],
                        p.parse().with_context(|| {
                            format!("policy {}: egress destination {to:?}", policy.name)
                        })?,
                        None,
                    ),
                    _ => continue,
                }
            } else {
                match to.parse::<std::net::IpAddr>() {
                    Ok(std::net::IpAddr::V4(a)) => (vec![a], 32, None),
                    Ok(std::net::IpAddr::V6(_)) => continue,
                    Err(_) => (
                        resolve_host(to).with_context(|| format!("policy {}", policy.name))?,
                        32,
                        Some(to.to_string()),
                    ),
                }
            };
        for addr in addrs {
            out.push(Rule {
                action: Action::Allow,
                addr,
                prefix,
                ports: ports.clone(),
                proto,
                host: host.clone(),
                origin: origin.clone(),
            });
        }
    }
    out.push(Rule {
        action: Action::Deny,
        addr: Ipv4Addr::UNSPECIFIED,
        prefix: 0,
        ports: Vec::new(),
        proto: None,
        host: None,
        origin: origin.clone(),
    });
    Ok(out)
}

/// Whether `rules` let the container reach `ip` with `traffic` (protocol
/// and port; None: ICMP).
pub fn allowed(rules: &[Rule], ip: Ipv4Addr, traffic: Option<(Proto, u16)>) -> bool {
    if let Some(r) = rules.iter().find(|r| r.matches(ip, traffic)) {
        return r.action == Action::Allow;
    }
    !rules.iter().any(|r| r.action == Action::Allow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Rule {
        let mut v = parse(s).unwrap();
        assert_eq!(v.len(), 1, "{s}");
        v.remove(0)
    }

    const TCP: Proto = Proto::Tcp;
    const UDP: Proto = Proto::Udp;

    #[test]
    fn parse_and_match() {
        let r = one("allow=192.0.2.0/24:80,8000-8100");
        assert_eq!(r.to_string(), "allow=192.0.2.0/24:80,8000-8100");
        let rules = vec![one("deny=192.0.2.9"), r];
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert!(allowed(&rules, ip("192.0.2.1"), Some((TCP, 80))));
        assert!(allowed(&rules, ip("192.0.2.1"), Some((UDP, 8050))));
        assert!(
            !allowed(&rules, ip("192.0.2.9"), Some((TCP, 80))),
            "first match"
        );
        assert!(
            !allowed(&rules, ip("192.0.2.1"), Some((TCP, 22))),
            "allow-list"
        );
        assert!(!allowed(&rules, ip("198.51.100.1"), Some((TCP, 80))));
        assert!(
            !allowed(&rules, ip("192.0.2.1"), None),
            "ICMP needs a rule without ports"
        );
        let deny_only = vec![one("deny=10.0.0.0/8")];
        assert!(allowed(&deny_only, ip("192.0.2.1"), Some((TCP, 1))));
        assert!(!allowed(&deny_only, ip("10.1.2.3"), None));
        assert!(allowed(&[], ip("10.1.2.3"), None));
        for bad in [
            "allow",
            "permit=1.2.3.4",
            "allow=1.2.3",
            "deny=1.2.3.4/33",
            "allow=1.2.3.4:0",
            "allow=1.2.3.4:9-1",
            "allow=1.2.3.4:53/icmp",
            "host=",
            "host=:80",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn protocols() {
        let udp = one("allow=10.0.2.3:53/udp");
        assert_eq!(udp.to_string(), "allow=10.0.2.3/32:53/udp");
        let net_tcp = one("allow=192.0.2.0/24/tcp");
        assert_eq!(net_tcp.proto, Some(TCP));
        assert_eq!(net_tcp.prefix, 24);
        let rules = vec![udp, net_tcp];
        let dns = super::super::DNS;
        assert!(allowed(&rules, dns, Some((UDP, 53))));
        assert!(
            !allowed(&rules, dns, Some((TCP, 53))),
            "a udp rule allows no TCP"
        );
        let x: Ipv4Addr = "192.0.2.5".parse().unwrap();
        assert!(allowed(&rules, x, Some((TCP, 443))));
        assert!(!allowed(&rules, x, Some((UDP, 443))));
        assert!(!allowed(&rules, x, None), "ICMP is neither TCP nor UDP");
        assert!(allowed(&[one("allow=192.0.2.0/24")], x, None));
    }

    #[test]
    fn host_names() {
        // localhost is the host's loopback: the gateway, from inside.
        let v = parse("host=localhost:8080/tcp").unwrap();
        assert!(!v.is_empty());
        for r in &v {
            assert_eq!(r.addr, super::super::GATEWAY);
            assert_eq!(r.action, Action::Allow);
            assert_eq!(r.ports, vec![(8080, 8080)]);
            assert_eq!(r.proto, Some(TCP));
            assert_eq!(r.to_string(), "allow=10.0.2.2/32:8080/tcp (host localhost)");
        }
        let e = parse("host=no-such-host.invalid").unwrap_err();
        assert!(format!("{e:#}").contains("no-such-host.invalid"), "{e:#}");
    }

    fn policy(text: &str) -> crate::policy::Policy {
        let dir = std::env::temp_dir().join(format!("coracle-egress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join(format!("p{}.toml", text.len()));
        std::fs::write(&f, text).unwrap();
        let p = crate::policy::load(f.to_str().unwrap()).unwrap();
        let _ = std::fs::remove_file(&f);
        p
    }

    #[test]
    fn policy_rules_come_after_the_flags() {
        let strict = crate::policy::load("strict").unwrap();
        let rules = with_policy(vec![], &strict).unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].to_string(), "deny=0.0.0.0/0 (policy strict)");
        let gw = super::super::GATEWAY;
        assert!(!allowed(&rules, gw, Some((TCP, 80))));
        assert!(
            !allowed(&rules, super::super::DNS, Some((UDP, 53))),
            "no DNS"
        );
        // The flags override.
        let rules = with_policy(one_vec("allow=10.0.2.2:80"), &strict).unwrap();
        assert!(allowed(&rules, gw, Some((TCP, 80))));
        assert!(!allowed(&rules, gw, Some((TCP, 81))));
        // A policy extending strict: its rules, protocol and host names.
        let p = policy(
            "extends = \"strict\"\n[[egress.allow]]\nto = \"10.0.2.3\"\nports = [53]\nprotocol = \"udp\"\n[[egress.allow]]\nto = \"localhost\"\nports = [8080]\n[[egress.allow]]\nto = \"192.0.2.0/24\"\n[[egress.allow]]\nto = \"2001:db8::/32\"\n",
        );
        let rules = with_policy(one_vec("deny=192.0.2.7"), &p).unwrap();
        assert!(allowed(&rules, super::super::DNS, Some((UDP, 53))));
        assert!(!allowed(&rules, super::super::DNS, Some((TCP, 53))));
        assert!(allowed(&rules, gw, Some((TCP, 8080))));
        assert!(!allowed(&rules, gw, Some((TCP, 8081))));
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert!(allowed(&rules, ip("192.0.2.1"), None));
        assert!(
            !allowed(&rules, ip("192.0.2.7"), Some((TCP, 1))),
            "the flag first"
        );
        assert!(!allowed(&rules, ip("198.51.100.1"), Some((TCP, 80))));
        // default = "allow": the policy adds nothing.
        let default = crate::policy::load("default").unwrap();
        assert!(with_policy(vec![], &default).unwrap().is_empty());
    }

    fn one_vec(s: &str) -> Vec<Rule> {
        parse(s).unwrap()
    }
}
