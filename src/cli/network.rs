//! `coracle network create|ls|inspect|rm|prune` (named networks, see
//! `crate::net::networks` and `crate::net::switch`).

use std::io::Write;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::error::{ExitError, EXIT_CORACLE};
use crate::net::networks::{self, Network};

#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Create a network
    Create(CreateArgs),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more networks
    Inspect(InspectArgs),
    /// Remove one or more networks
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Remove all networks no container uses
    Prune(PruneArgs),
    /// Connect a created or stopped container to a network
    Connect(ConnectArgs),
    /// Disconnect a created or stopped container from a network
    Disconnect(DisconnectArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Add a name for the container on the network
    #[arg(long = "alias", value_name = "ALIAS")]
    pub alias: Vec<String>,
    #[arg(value_name = "NETWORK")]
    pub network: String,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

#[derive(Debug, Clone, Args)]
pub struct DisconnectArgs {
    /// Accepted for Docker compatibility (the container does not run)
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    #[arg(value_name = "NETWORK")]
    pub network: String,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Driver (only "bridge": coracle's user-space switch)
    #[arg(short = 'd', long = "driver", default_value = "bridge")]
    pub driver: String,
    /// Subnet in CIDR form (default: the first free 10.89.N.0/24)
    #[arg(long = "subnet", value_name = "CIDR")]
    pub subnet: Option<String>,
    /// The gateway (and DNS) address in the subnet (default: its first address)
    #[arg(long = "gateway", value_name = "IP")]
    pub gateway: Option<String>,
    /// No way out: no NAT, no published ports, only the network's containers
    #[arg(long = "internal")]
    pub internal: bool,
    /// Driver options: mtu=N
    #[arg(short = 'o', long = "opt", value_name = "KEY=VALUE")]
    pub opt: Vec<String>,
    /// Set metadata on the network (KEY=VALUE)
    #[arg(long = "label", value_name = "KEY[=VALUE]")]
    pub label: Vec<String>,
    #[arg(value_name = "NETWORK")]
    pub name: String,
}

#[derive(Debug, Clone, Args)]
pub struct LsArgs {
    /// Only display network IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Filter output: name=, id=, driver=bridge
    #[arg(short = 'f', long = "filter", value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Do not truncate the output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
}

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Format the output: {{.Field}} and {{json .Field}} fields of the JSON
    #[arg(short = 'f', long = "format", value_name = "TEMPLATE")]
    pub format: Option<String>,
    #[arg(value_name = "NETWORK", required = true)]
    pub networks: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// Do not complain about networks that do not exist
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    #[arg(value_name = "NETWORK", required = true)]
    pub networks: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
}

pub fn run(cmd: NetworkCommand) -> anyhow::Result<i32> {
    match cmd {
        NetworkCommand::Create(a) => create(&a),
        NetworkCommand::Ls(a) => ls(&a),
        NetworkCommand::Inspect(a) => inspect(&a),
        NetworkCommand::Rm(a) => rm(&a),
        NetworkCommand::Prune(a) => prune(&a),
        NetworkCommand::Connect(a) => {
            networks::connect(&a.network, &a.container, &a.alias)?;
            Ok(0)
        }
        NetworkCommand::Disconnect(a) => {
            networks::disconnect(&a.network, &a.container)?;
            Ok(0)
        }
    }
}

fn create(args: &CreateArgs) -> anyhow::Result<i32> {
    if args.driver != "bridge" {
        return Err(ExitError::new(
            1,
            format!(
                "plugin \"{}\" not found: coracle's networks have the bridge driver only",
                args.driver
            ),
        )
        .into());
    }
    let mut mtu = None;
    for o in &args.opt {
        match o.split_once('=') {
            Some(("mtu" | "com.docker.network.driver.mtu", v)) => {
                mtu = Some(v.parse().map_err(|_| {
                    anyhow::anyhow!("invalid -o {o}: give mtu=N with N from 576 to 65520")
                })?)
            }
            _ => {
                return Err(ExitError::new(
                    EXIT_CORACLE,
                    format!("unknown network option {o:?}: the bridge driver takes mtu=N"),
                )
                .into())
            }
        }
    }
    let n = networks::create(&networks::Request {
        name: args.name.clone(),
        subnet: args.subnet.clone(),
        gateway: args.gateway.clone(),
        internal: args.internal,
        mtu,
        labels: super::run::parse_labels(&args.label)?,
    })?;
    println!("{}", n.id);
    Ok(0)
}

/// Docker's `network inspect` object.
pub fn inspect_value(n: &Network, users: &[networks::User]) -> Value {
    let containers: serde_json::Map<String, Value> = users
        .iter()
        .map(|(id, name, alive)| {
            (
                id.clone(),
                json!({
                    "Name": name,
                    "IPv4Address": running_ip(id, n).filter(|_| *alive).map(|a| format!("{a}/{}", n.prefix)).unwrap_or_default(),
                }),
            )
        })
        .collect();
    json!({
        "Name": n.name,
        "Id": n.id,
        "Created": n.created,
        "Scope": "local",
        "Driver": "bridge",
        "EnableIPv6": false,
        "IPAM": {
            "Driver": "default",
            "Options": {},
            "Config": [{"Subnet": n.cidr(), "Gateway": n.gateway.to_string()}],
        },
        "Internal": n.internal,
        "Attachable": false,
        "Ingress": false,
        "Containers": containers,
        "Options": {"mtu": n.mtu.to_string()},
        "Labels": n.labels,
    })
}

/// A container's `NetworkSettings.Networks` on named network `n`: its
/// address there while it runs.
pub fn endpoint(n: &crate::net::switch::NamedNet, dir: &std::path::Path, running: bool) -> Value {
    let ip = running
        .then(|| std::fs::read_to_string(dir.join(crate::net::switch::IP_FILE)).ok())
        .flatten()
        .and_then(|s| {
            let (name, ip) = s.trim().split_once(' ')?;
            (name == n.name).then_some(())?;
            ip.parse::<std::net::Ipv4Addr>().ok()
        });
    json!({
        n.name.clone(): {
            "NetworkID": n.id,
            "EndpointID": "",
            "Aliases": n.aliases,
            "Gateway": n.gateway.to_string(),
            "IPAddress": ip.map(|a| a.to_string()).unwrap_or_default(),
            "IPPrefixLen": if ip.is_some() { n.prefix } else { 0 },
            "MacAddress": ip.map(|a| crate::net::switch::mac_of(a).iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")).unwrap_or_default(),
        }
    })
}

/// The address a running container has on `n` (its runner records it).
fn running_ip(id: &str, n: &Network) -> Option<std::net::Ipv4Addr> {
    let dir = crate::container::containers_dir().ok()?.join(id);
    let s = std::fs::read_to_string(dir.join(crate::net::switch::IP_FILE)).ok()?;
    let (name, ip) = s.trim().split_once(' ')?;
    (name == n.name).then_some(())?;
    ip.parse().ok()
}

fn keeps(filters: &[(String, String)], n: &Network) -> bool {
    filters.iter().all(|(k, v)| match k.as_str() {
        "name" => n.name.contains(v.as_str()),
        "id" => n.id.starts_with(v.as_str()),
        "driver" => v == "bridge",
        _ => false,
    })
}

fn ls(args: &LsArgs) -> anyhow::Result<i32> {
    let mut filters = Vec::new();
    for f in &args.filter {
        match f.split_once('=') {
            Some((k @ ("name" | "id" | "driver"), v)) => {
                filters.push((k.to_string(), v.to_string()))
            }
            _ => {
                return Err(ExitError::new(
                    EXIT_CORACLE,
                    format!("invalid filter '{f}': use name=, id= or driver="),
                )
                .into())
            }
        }
    }
    let shown: Vec<Network> = networks::list()?
        .into_iter()
        .filter(|n| keeps(&filters, n))
        .collect();
    let id = |n: &Network| {
        if args.no_trunc {
            n.id.clone()
        } else {
            n.id[..12].to_string()
        }
    };
    let mut out = std::io::stdout().lock();
    if args.quiet {
        for n in &shown {
            writeln!(out, "{}", id(n))?;
        }
        return Ok(0);
    }
    let mut rows = vec![vec![
        "NETWORK ID".to_string(),
        "NAME".into(),
        "DRIVER".into(),
        "SCOPE".into(),
    ]];
    for n in &shown {
        rows.push(vec![id(n), n.name.clone(), "bridge".into(), "local".into()]);
    }
    super::container::write_table(&mut out, &rows)?;
    Ok(0)
}

fn inspect(args: &InspectArgs) -> anyhow::Result<i32> {
    let users = networks::users_of_all()?;
    let mut found = Vec::new();
    let mut rc = 0;
    for name in &args.networks {
        match networks::get(name)? {
            Some(n) => found.push(inspect_value(
                &n,
                users.get(&n.name).map(Vec::as_slice).unwrap_or(&[]),
            )),
            None => {
                eprintln!("coracle: network {name} not found");
                rc = 1;
            }
        }
    }
    match &args.format {
        Some(tpl) => {
            for v in &found {
                println!("{}", super::container::render_template(tpl, v)?);
            }
        }
        None => println!("{}", serde_json::to_string_pretty(&Value::Array(found))?),
    }
    Ok(rc)
}

fn rm(args: &RmArgs) -> anyhow::Result<i32> {
    let mut rc = 0;
    for n in &args.networks {
        match networks::remove(n) {
            Ok(()) => println!("{n}"),
            Err(e) if args.force && e.to_string().ends_with("not found") => {}
            Err(e) => {
                eprintln!("coracle: {e:#}");
                rc = 1;
            }
        }
    }
    Ok(rc)
}

fn prune(args: &PruneArgs) -> anyhow::Result<i32> {
    if !args.force
        && !super::image::confirm(
            "This will remove all custom networks not used by at least one container.",
        )?
    {
        return Ok(0);
    }
    let users = networks::users_of_all()?;
    let mut deleted = Vec::new();
    for n in networks::list()? {
        if users.contains_key(&n.name) {
            continue;
        }
        // Refused (in use) when a container took it meanwhile: kept.
        if networks::remove(&n.name).is_ok() {
            deleted.push(n.name);
        }
    }
    if !deleted.is_empty() {
        println!("Deleted Networks:");
        for n in &deleted {
            println!("{n}");
        }
    }
    Ok(0)
}
