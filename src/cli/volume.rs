//! `coracle volume create|ls|inspect|rm|prune`, as Docker's local driver.

use std::collections::BTreeMap;
use std::io::Write;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::container::volumes::{self, Volume};
use crate::error::{ExitError, EXIT_CORACLE};

#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more volumes
    Inspect(InspectArgs),
    /// Remove one or more volumes
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Remove unused volumes (anonymous ones only, unless -a)
    Prune(PruneArgs),
}

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Volume driver (only "local")
    #[arg(
        short = 'd',
        long = "driver",
        value_name = "DRIVER",
        default_value = "local"
    )]
    pub driver: String,
    /// Set metadata on the volume (KEY=VALUE)
    #[arg(long = "label", value_name = "KEY[=VALUE]")]
    pub label: Vec<String>,
    /// The volume's name (default: a random 64-hex name)
    #[arg(value_name = "VOLUME")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct LsArgs {
    /// Only display volume names
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Filter output: name=, label=KEY[=VALUE], dangling=true|false, driver=local
    #[arg(short = 'f', long = "filter", value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Output format: table (default), json (one object per line), or a template such as '{{.Name}}'
    #[arg(long = "format", value_name = "FORMAT")]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Format the output: {{.Field}} and {{json .Field}} fields of the JSON
    #[arg(short = 'f', long = "format", value_name = "TEMPLATE")]
    pub format: Option<String>,
    #[arg(value_name = "VOLUME", required = true)]
    pub volumes: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// Do not complain about volumes that do not exist
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    #[arg(value_name = "VOLUME", required = true)]
    pub volumes: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Remove all unused volumes, not only anonymous ones
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Filter: label=KEY[=VALUE]
    #[arg(long = "filter", value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
}

pub fn run(cmd: VolumeCommand) -> anyhow::Result<i32> {
    match cmd {
        VolumeCommand::Create(a) => create(&a),
        VolumeCommand::Ls(a) => ls(&a),
        VolumeCommand::Inspect(a) => inspect(&a),
        VolumeCommand::Rm(a) => rm(&a),
        VolumeCommand::Prune(a) => prune(&a),
    }
}

fn create(args: &CreateArgs) -> anyhow::Result<i32> {
    if args.driver != "local" {
        return Err(ExitError::new(
            1,
            format!(
                "error looking up volume plugin {}: plugin \"{}\" not found; only the local driver exists",
                args.driver, args.driver
            ),
        )
        .into());
    }
    let labels = super::run::parse_labels(&args.label)?;
    let name = match &args.name {
        Some(n) => n.clone(),
        None => crate::spec::new_id()?,
    };
    let v = volumes::create(&name, labels)?;
    println!("{}", v.meta.name);
    Ok(0)
}

/// Docker's `volume inspect` object.
pub fn inspect_value(v: &Volume) -> Value {
    json!({
        "CreatedAt": docker_time(&v.meta.created_at),
        "Driver": "local",
        "Labels": if v.meta.labels.is_empty() { Value::Null } else { json!(v.meta.labels) },
        "Mountpoint": v.mountpoint(),
        "Name": v.meta.name,
        "Options": Value::Null,
        "Scope": "local",
    })
}

/// Docker prints volume times to the second, with the zone.
fn docker_time(t: &str) -> String {
    match t.split_once('.') {
        Some((s, _)) => format!("{s}Z"),
        None => t.to_string(),
    }
}

fn labels_text(l: &BTreeMap<String, String>) -> String {
    l.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The object of one `ls --format` row.
fn ls_value(v: &Volume) -> Value {
    json!({
        "Availability": "N/A",
        "Driver": "local",
        "Group": "N/A",
        "Labels": labels_text(&v.meta.labels),
        "Links": "N/A",
        "Mountpoint": v.mountpoint(),
        "Name": v.meta.name,
        "Scope": "local",
        "Size": "N/A",
        "Status": "N/A",
    })
}

#[derive(Debug, Default)]
struct Filters(BTreeMap<String, Vec<String>>);

impl Filters {
    fn parse(raw: &[String], allowed: &[&str]) -> anyhow::Result<Self> {
        let mut f = Filters::default();
        for r in raw {
            let (k, v) = r.split_once('=').unwrap_or((r.as_str(), ""));
            if !allowed.contains(&k) || (k != "label" && v.is_empty()) {
                return Err(ExitError::new(
                    EXIT_CORACLE,
                    format!(
                        "invalid filter '{r}': use KEY=VALUE with KEY one of {}",
                        allowed.join(", ")
                    ),
                )
                .into());
            }
            if k == "dangling" && !matches!(v, "true" | "false" | "1" | "0") {
                return Err(ExitError::new(
                    EXIT_CORACLE,
                    format!("invalid filter 'dangling={v}': use dangling=true or dangling=false"),
                )
                .into());
            }
            f.0.entry(k.to_string()).or_default().push(v.to_string());
        }
        Ok(f)
    }

    fn keeps(&self, v: &Volume, used: bool) -> bool {
        self.0.iter().all(|(k, vals)| {
            vals.iter().any(|x| match k.as_str() {
                "name" => v.meta.name.contains(x.as_str()),
                "driver" => x == "local",
                "dangling" => matches!(x.as_str(), "true" | "1") != used,
                "label" => match x.split_once('=') {
                    Some((lk, lv)) => v.meta.labels.get(lk).is_some_and(|y| y == lv),
                    None => v.meta.labels.contains_key(x.as_str()),
                },
                _ => false,
            })
        })
    }
}

fn ls(args: &LsArgs) -> anyhow::Result<i32> {
    let filters = Filters::parse(&args.filter, &["name", "label", "dangling", "driver"])?;
    let users = volumes::users_of_all()?;
    let shown: Vec<Volume> = volumes::list()?
        .into_iter()
        .filter(|v| filters.keeps(v, users.contains_key(&v.meta.name)))
        .collect();
    let mut out = std::io::stdout().lock();
    if args.quiet {
        for v in &shown {
            writeln!(out, "{}", v.meta.name)?;
        }
        return Ok(0);
    }
    match args.format.as_deref() {
        None | Some("table") => {
            let mut rows = vec![vec!["DRIVER".to_string(), "VOLUME NAME".to_string()]];
            for v in &shown {
                rows.push(vec!["local".into(), v.meta.name.clone()]);
            }
            super::container::write_table(&mut out, &rows)?;
        }
        Some("json") | Some("{{json .}}") => {
            for v in &shown {
                writeln!(out, "{}", ls_value(v))?;
            }
        }
        Some(f) => {
            let body = f.strip_prefix("table ").unwrap_or(f);
            let tpl = body.replace("\\t", "\t").replace("\\n", "\n");
            if !tpl.contains("{{") {
                return Err(ExitError::new(
                    EXIT_CORACLE,
                    format!("unsupported --format \"{f}\": use table, json or a template such as '{{{{.Name}}}}'"),
                )
                .into());
            }
            for v in &shown {
                writeln!(
                    out,
                    "{}",
                    super::container::render_template(&tpl, &ls_value(v))?
                )?;
            }
        }
    }
    Ok(0)
}

fn inspect(args: &InspectArgs) -> anyhow::Result<i32> {
    let mut found = Vec::new();
    let mut rc = 0;
    for n in &args.volumes {
        match volumes::get(n)? {
            Some(v) => found.push(inspect_value(&v)),
            None => {
                eprintln!("coracle: No such volume: {n}");
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
    let lock = volumes::lock()?;
    let mut rc = 0;
    for n in &args.volumes {
        match volumes::remove_locked(&lock, n) {
            Ok(_) => println!("{n}"),
            Err(e) if args.force && e.to_string().starts_with("No such volume") => {}
            Err(e) => {
                eprintln!("coracle: {e:#}");
                rc = 1;
            }
        }
    }
    Ok(rc)
}

fn prune(args: &PruneArgs) -> anyhow::Result<i32> {
    let filters = Filters::parse(&args.filter, &["label"])?;
    let what = if args.all {
        "This will remove all local volumes not used by at least one container."
    } else {
        "This will remove anonymous local volumes not used by at least one container."
    };
    if !args.force && !super::image::confirm(what)? {
        return Ok(0);
    }
    let lock = volumes::lock()?;
    let users = volumes::users_of_all()?;
    let mut deleted = Vec::new();
    let mut reclaimed = 0u64;
    for v in volumes::list()? {
        if users.contains_key(&v.meta.name)
            || !(args.all || v.meta.anonymous)
            || !filters.keeps(&v, false)
        {
            continue;
        }
        reclaimed += volumes::remove_locked(&lock, &v.meta.name)?;
        deleted.push(v.meta.name);
    }
    if !deleted.is_empty() {
        println!("Deleted Volumes:");
        for n in &deleted {
            println!("{n}");
        }
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        super::image::human_size(reclaimed)
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_filters() {
        assert_eq!(
            docker_time("2026-11-23T20:00:00.123456789Z"),
            "2026-11-23T20:00:00Z"
        );
        assert!(Filters::parse(&["dangling=true".into()], &["dangling"]).is_ok());
        assert!(Filters::parse(&["dangling=maybe".into()], &["dangling"]).is_err());
        assert!(Filters::parse(&["colour=red".into()], &["name"]).is_err());
    }
}
