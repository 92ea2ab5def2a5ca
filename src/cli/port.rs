//! `coracle port CONTAINER [PRIVATE_PORT[/PROTO]]`: the host ports a running
//! container's ports are published on, in Docker's format.

use clap::Args;

use crate::container;
use crate::error::ExitError;
use crate::net::ports::{self, Bound};

#[derive(Debug, Clone, Args)]
pub struct PortArgs {
    /// The container (name or id)
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// Only this container port (PORT or PORT/PROTO)
    #[arg(value_name = "PRIVATE_PORT[/PROTO]")]
    pub port: Option<String>,
}

/// The published ports of a container as the helper bound them (none
/// unless it runs).
pub fn bound_ports(c: &container::Container) -> Vec<Bound> {
    if !c.running() || c.record.net.is_none() {
        return Vec::new();
    }
    ports::read_bound(&c.dir.join(crate::net::PORTS_FILE))
}

pub fn port(args: &PortArgs) -> anyhow::Result<i32> {
    let c = container::resolve(&args.container)?;
    let bound = bound_ports(&c);
    let Some(want) = &args.port else {
        for l in ports::port_lines(&bound) {
            println!("{l}");
        }
        return Ok(0);
    };
    let (p, proto) = want.split_once('/').unwrap_or((want, "tcp"));
    let p: u16 = p.parse().map_err(|_| {
        ExitError::new(
            1,
            format!("invalid port {want:?}: give PORT or PORT/PROTO (tcp or udp)"),
        )
    })?;
    let found: Vec<&Bound> = bound
        .iter()
        .filter(|b| b.container_port == p && b.proto.as_str() == proto)
        .collect();
    if found.is_empty() {
        return Err(ExitError::new(
            1,
            format!(
                "Error: No public port '{p}/{proto}' published for {}",
                args.container
            ),
        )
        .into());
    }
    for b in found {
        println!("{}:{}", b.host_ip, b.host_port);
    }
    Ok(0)
}
