//! Egress rules of the private network: which destinations the container
//! may reach, enforced in the stack for TCP, UDP and ICMP.
//!
//! `--egress allow=CIDR[:PORTS]` and `--egress deny=CIDR[:PORTS]`, where
//! PORTS is `80`, `8000-8100` or a comma list of those (no PORTS: every
//! port; ICMP matches a rule only without PORTS). Rules are checked in
//! order and the first that matches decides; when none matches, the
//! destination is allowed unless some rule is an `allow` (an allow-list).
//! The resolver 10.0.2.3 is the stack's own and always reachable. A denied
//! TCP connection is refused with a reset, a denied UDP datagram or ping
//! answered with "communication administratively prohibited" (the
//! container's call fails at once), and counted.
//!
//! [`parse`] takes one rule in the flag's syntax (the policy file's
//! `[egress]` entries use it too).

use std::net::Ipv4Addr;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

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
}

impl Rule {
    fn matches(&self, ip: Ipv4Addr, port: Option<u16>) -> bool {
        let mask = if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        };
        if u32::from(ip) & mask != u32::from(self.addr) & mask {
            return false;
        }
        if self.ports.is_empty() {
            return true;
        }
        port.is_some_and(|p| self.ports.iter().any(|(a, b)| (*a..=*b).contains(&p)))
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
        Ok(())
    }
}

fn port(s: &str, rule: &str) -> anyhow::Result<u16> {
    s.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .with_context(|| format!("invalid port {s:?} in egress rule {rule:?}: give 1 to 65535"))
}

/// Parses one rule: `allow=CIDR[:PORTS]` or `deny=CIDR[:PORTS]` (CIDR may
/// be a bare address, a /32).
pub fn parse(rule: &str) -> anyhow::Result<Rule> {
    let (action, rest) = match rule.split_once('=') {
        Some(("allow", r)) => (Action::Allow, r),
        Some(("deny", r)) => (Action::Deny, r),
        _ => bail!("invalid egress rule {rule:?}: use allow=CIDR[:PORTS] or deny=CIDR[:PORTS]"),
    };
    let (cidr, ports) = match rest.split_once(':') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
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
    let mut list = Vec::new();
    if let Some(p) = ports {
        for part in p.split(',') {
            let (a, b) = match part.split_once('-') {
                Some((a, b)) => (port(a, rule)?, port(b, rule)?),
                None => {
                    let x = port(part, rule)?;
                    (x, x)
                }
            };
            if b < a {
                bail!("invalid port range {part:?} in egress rule {rule:?}: the end is below the start");
            }
            list.push((a, b));
        }
    }
    Ok(Rule {
        action,
        addr,
        prefix,
        ports: list,
    })
}

/// Whether `rules` let the container reach `ip` (at `port`; None: ICMP).
pub fn allowed(rules: &[Rule], ip: Ipv4Addr, port: Option<u16>) -> bool {
    if let Some(r) = rules.iter().find(|r| r.matches(ip, port)) {
        return r.action == Action::Allow;
    }
    !rules.iter().any(|r| r.action == Action::Allow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_match() {
        let r = parse("allow=192.0.2.0/24:80,8000-8100").unwrap();
        assert_eq!(r.to_string(), "allow=192.0.2.0/24:80,8000-8100");
        let rules = vec![parse("deny=192.0.2.9").unwrap(), r];
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert!(allowed(&rules, ip("192.0.2.1"), Some(80)));
        assert!(allowed(&rules, ip("192.0.2.1"), Some(8050)));
        assert!(!allowed(&rules, ip("192.0.2.9"), Some(80)), "first match");
        assert!(!allowed(&rules, ip("192.0.2.1"), Some(22)), "allow-list");
        assert!(!allowed(&rules, ip("198.51.100.1"), Some(80)));
        assert!(
            !allowed(&rules, ip("192.0.2.1"), None),
            "ICMP needs a rule without ports"
        );
        let deny_only = vec![parse("deny=10.0.0.0/8").unwrap()];
        assert!(allowed(&deny_only, ip("192.0.2.1"), Some(1)));
        assert!(!allowed(&deny_only, ip("10.1.2.3"), None));
        assert!(allowed(&[], ip("10.1.2.3"), None));
        for bad in [
            "allow",
            "permit=1.2.3.4",
            "allow=1.2.3",
            "deny=1.2.3.4/33",
            "allow=1.2.3.4:0",
            "allow=1.2.3.4:9-1",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
