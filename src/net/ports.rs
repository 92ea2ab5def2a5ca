//! Published ports: `-p [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]` with
//! ranges, `-P`, and the record of the host ports the helper bound, shown
//! in Docker's formats by `port`, `ps` and `inspect`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// One requested publication: host address and port (0: any free port)
/// to the container's port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMapping {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_port: u16,
    pub proto: Proto,
}

/// A host port the helper bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Bound {
    pub container_port: u16,
    pub proto: Proto,
    pub host_ip: Ipv4Addr,
    pub host_port: u16,
}

fn port(s: &str, what: &str, full: &str) -> anyhow::Result<u16> {
    s.parse::<u16>().ok().filter(|p| *p != 0).with_context(|| {
        format!("invalid {what} {s:?} in -p {full:?}: give a number from 1 to 65535")
    })
}

fn range(s: &str, what: &str, full: &str) -> anyhow::Result<(u16, u16)> {
    match s.split_once('-') {
        None => {
            let p = port(s, what, full)?;
            Ok((p, p))
        }
        Some((a, b)) => {
            let (a, b) = (port(a, what, full)?, port(b, what, full)?);
            if b < a {
                bail!("invalid {what} range {s:?} in -p {full:?}: the end is below the start");
            }
            Ok((a, b))
        }
    }
}

/// Parses one `-p` value into one mapping per container port.
pub fn parse_publish(s: &str) -> anyhow::Result<Vec<PortMapping>> {
    let (spec, proto) = match s.rsplit_once('/') {
        Some((a, "tcp")) => (a, Proto::Tcp),
        Some((a, "udp")) => (a, Proto::Udp),
        Some((_, p)) => bail!("invalid protocol {p:?} in -p {s:?}: use tcp or udp"),
        None => (s, Proto::Tcp),
    };
    if spec.starts_with('[') {
        bail!(
            "invalid -p {s:?}: IPv6 host addresses are not supported; the private network is IPv4"
        );
    }
    let parts: Vec<&str> = spec.split(':').collect();
    let (ip, host, cont) = match parts.as_slice() {
        [c] => (None, "", *c),
        [h, c] => (None, *h, *c),
        [ip, h, c] => (Some(*ip), *h, *c),
        _ => bail!("invalid -p {s:?}: use [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]"),
    };
    let host_ip = match ip {
        None | Some("") => None,
        Some(a) => Some(a.parse::<Ipv4Addr>().with_context(|| {
            format!("invalid host address {a:?} in -p {s:?}: give an IPv4 address")
        })?),
    };
    let (c0, c1) = range(cont, "container port", s)?;
    let n = usize::from(c1 - c0) + 1;
    let hosts: Vec<u16> = if host.is_empty() {
        vec![0; n]
    } else {
        let (h0, h1) = range(host, "host port", s)?;
        if usize::from(h1 - h0) + 1 != n {
            bail!("invalid -p {s:?}: the host port range and the container port range differ in length");
        }
        (h0..=h1).collect()
    };
    Ok((c0..=c1)
        .zip(hosts)
        .map(|(c, h)| PortMapping {
            host_ip,
            host_port: h,
            container_port: c,
            proto,
        })
        .collect())
}

/// Parses an image's EXPOSE entry (`80/tcp`, `53/udp`, `8000-8002`) for `-P`.
pub fn parse_exposed(s: &str) -> anyhow::Result<Vec<PortMapping>> {
    let (p, proto) = match s.split_once('/') {
        Some((p, "tcp")) => (p, Proto::Tcp),
        Some((p, "udp")) => (p, Proto::Udp),
        Some((_, other)) => bail!("the image exposes {s:?}: protocol {other:?} is not supported"),
        None => (s, Proto::Tcp),
    };
    let (a, b) = range(p, "exposed port", s)?;
    Ok((a..=b)
        .map(|c| PortMapping {
            host_ip: None,
            host_port: 0,
            container_port: c,
            proto,
        })
        .collect())
}

/// The lowest port an unprivileged user may bind.
pub fn unprivileged_port_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024)
}

/// The error for a host port below `net.ipv4.ip_unprivileged_port_start`.
pub fn privileged_port_error(port: u16, start: u16) -> anyhow::Error {
    anyhow::anyhow!(
        "host port {port} is below net.ipv4.ip_unprivileged_port_start ({start}), so an unprivileged user cannot bind it: \
         publish a port from {start} up, or as root run `sysctl -w net.ipv4.ip_unprivileged_port_start={port}`"
    )
}

/// Refuses mappings an unprivileged user cannot bind, before anything starts.
pub fn check_privileged(maps: &[PortMapping]) -> anyhow::Result<()> {
    let start = unprivileged_port_start();
    if nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    if let Some(m) = maps
        .iter()
        .find(|m| m.host_port != 0 && m.host_port < start)
    {
        return Err(privileged_port_error(m.host_port, start));
    }
    Ok(())
}

/// Records the bound ports (atomically: temp file + rename).
pub fn write_bound(path: &Path, bound: &[Bound]) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(bound)?)
        .with_context(|| format!("write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("rename {}", tmp.display()))?;
    Ok(())
}

/// Reads the recorded ports (none when the file is missing or damaged).
pub fn read_bound(path: &Path) -> Vec<Bound> {
    let mut v: Vec<Bound> = std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    v.sort();
    v
}

/// `ps`'s PORTS column: `0.0.0.0:8080->80/tcp, ...`.
pub fn ps_column(bound: &[Bound]) -> String {
    bound
        .iter()
        .map(|b| {
            format!(
                "{}:{}->{}/{}",
                b.host_ip,
                b.host_port,
                b.container_port,
                b.proto.as_str()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `port`'s lines: `80/tcp -> 0.0.0.0:8080`.
pub fn port_lines(bound: &[Bound]) -> Vec<String> {
    bound
        .iter()
        .map(|b| {
            format!(
                "{}/{} -> {}:{}",
                b.container_port,
                b.proto.as_str(),
                b.host_ip,
                b.host_port
            )
        })
        .collect()
}

/// inspect's `NetworkSettings.Ports`: `{"80/tcp": [{"HostIp", "HostPort"}]}`.
pub fn inspect_ports(bound: &[Bound]) -> serde_json::Value {
    let mut m: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for b in bound {
        m.entry(format!("{}/{}", b.container_port, b.proto.as_str()))
            .or_default()
            .push(serde_json::json!({"HostIp": b.host_ip.to_string(), "HostPort": b.host_port.to_string()}));
    }
    serde_json::json!(m)
}

/// inspect's `HostConfig.PortBindings`: the requested mappings.
pub fn inspect_bindings(maps: &[PortMapping]) -> serde_json::Value {
    let mut m: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for p in maps {
        m.entry(format!("{}/{}", p.container_port, p.proto.as_str()))
            .or_default()
            .push(serde_json::json!({
                "HostIp": p.host_ip.map(|a| a.to_string()).unwrap_or_default(),
                "HostPort": if p.host_port == 0 { String::new() } else { p.host_port.to_string() },
            }));
    }
    serde_json::json!(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_forms() {
        let p = parse_publish("80").unwrap();
        assert_eq!(
            (p[0].host_port, p[0].container_port, p[0].proto),
            (0, 80, Proto::Tcp)
        );
        let p = parse_publish("127.0.0.1:8080:80/udp").unwrap();
        assert_eq!(p[0].host_ip, Some(Ipv4Addr::LOCALHOST));
        assert_eq!((p[0].host_port, p[0].proto), (8080, Proto::Udp));
        let p = parse_publish("127.0.0.1::80").unwrap();
        assert_eq!(p[0].host_port, 0);
        let p = parse_publish("8000-8002:80-82").unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!((p[2].host_port, p[2].container_port), (8002, 82));
        assert!(parse_publish("8000-8001:80-82").is_err());
        assert!(parse_publish("0").is_err());
        assert!(parse_publish("80/sctp").is_err());
        assert!(parse_publish("x:1:2").is_err());
        assert!(parse_publish("[::1]:80:80").is_err());
        assert_eq!(parse_exposed("53/udp").unwrap()[0].proto, Proto::Udp);
    }

    #[test]
    fn docker_formats() {
        let b = [Bound {
            container_port: 80,
            proto: Proto::Tcp,
            host_ip: Ipv4Addr::UNSPECIFIED,
            host_port: 8080,
        }];
        assert_eq!(ps_column(&b), "0.0.0.0:8080->80/tcp");
        assert_eq!(port_lines(&b), vec!["80/tcp -> 0.0.0.0:8080"]);
        assert_eq!(
            inspect_ports(&b),
            serde_json::json!({"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]})
        );
    }
}
