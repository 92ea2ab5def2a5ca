//! Container lifecycle commands: ps, logs, stop, kill, wait, rm, inspect,
//! start. Containers are found by full id, exact name or unique id prefix.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use serde_json::{json, Value};

use crate::container::{self, logs, Container, Status};
use crate::error::ExitError;

#[derive(Debug, Clone, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Only display container ids
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long = "latest")]
    pub latest: bool,
    /// Show the N last created containers (includes all states)
    #[arg(short = 'n', long = "last", value_name = "N")]
    pub last: Option<usize>,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Filter output: status=, name=, label=KEY[=VALUE], ancestor=, id=
    #[arg(short = 'f', long = "filter", value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Output format: table (default), json (one object per line), or a template such as '{{.ID}}\t{{.Names}}' (prefix "table " for a table)
    #[arg(long = "format", value_name = "FORMAT")]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Follow log output until the container exits
    #[arg(short = 'f', long = "follow")]
    pub follow: bool,
    /// Number of lines to show from the end of the logs, or "all"
    #[arg(
        short = 'n',
        long = "tail",
        value_name = "N|all",
        default_value = "all"
    )]
    pub tail: String,
    /// Show timestamps
    #[arg(short = 't', long = "timestamps")]
    pub timestamps: bool,
    /// Show logs since a time (RFC 3339, Unix timestamp) or a duration before now (e.g. 10m)
    #[arg(long = "since", value_name = "TIME")]
    pub since: Option<String>,
    /// Show logs before a time (RFC 3339, Unix timestamp) or a duration before now (e.g. 10m)
    #[arg(long = "until", value_name = "TIME")]
    pub until: Option<String>,
    /// The container (name or id)
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    /// Seconds to wait before killing the container (default: its --stop-timeout, else 10; -1: wait forever)
    #[arg(
        short = 't',
        long = "time",
        alias = "timeout",
        value_name = "SECONDS",
        allow_negative_numbers = true
    )]
    pub time: Option<i64>,
    /// Signal to send first (default: the container's --stop-signal, else the image's StopSignal, else SIGTERM)
    #[arg(short = 's', long = "signal", value_name = "SIGNAL")]
    pub signal: Option<String>,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(
        short = 's',
        long = "signal",
        value_name = "SIGNAL",
        default_value = "KILL"
    )]
    pub signal: String,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (kills it)
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Remove the anonymous volumes of the container
    #[arg(short = 'v', long = "volumes")]
    pub volumes: bool,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Format the output: {{.Field.Sub}} and {{json .Field}} fields of the JSON
    #[arg(short = 'f', long = "format", value_name = "TEMPLATE")]
    pub format: Option<String>,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    /// Attach stdout/stderr (and the terminal) and wait for the container
    #[arg(short = 'a', long = "attach")]
    pub attach: bool,

    /// Attach stdin (with -a)
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,

    /// Key sequence for detaching (default ctrl-p,ctrl-q)
    #[arg(long = "detach-keys", value_name = "KEYS")]
    pub detach_keys: Option<String>,

    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

// --- time formatting ----------------------------------------------------------

/// Docker's (go-units) `HumanDuration`.
pub fn human_duration(nanos: i128) -> String {
    let secs = nanos / 1_000_000_000;
    if secs < 1 {
        return "Less than a second".into();
    }
    if secs == 1 {
        return "1 second".into();
    }
    if secs < 60 {
        return format!("{secs} seconds");
    }
    let minutes = secs / 60;
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours = (secs + 1800) / 3600;
    if hours == 1 {
        return "About an hour".into();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", secs / 3600 / 24 / 365)
}

fn since(t: &str, now: i128) -> String {
    let then = logs::parse_rfc3339(t).unwrap_or(now);
    human_duration((now - then).max(0))
}

/// The STATUS column.
fn status_text(c: &Container, now: i128) -> String {
    match c.status() {
        Status::Created => "Created".into(),
        Status::Running => {
            let up = match &c.state.started_at {
                Some(t) => format!("Up {}", since(t, now)),
                None => "Up".into(),
            };
            if super::pause::is_paused(c) {
                return format!("{up} (Paused)");
            }
            match health_status(c).as_deref() {
                Some("starting") => format!("{up} (health: starting)"),
                Some(h) => format!("{up} ({h})"),
                None => up,
            }
        }
        Status::Exited => {
            let code = c.state.exit_code.unwrap_or(0);
            match &c.state.finished_at {
                Some(t) => format!("Exited ({code}) {} ago", since(t, now)),
                None => format!("Exited ({code})"),
            }
        }
        Status::Restarting => {
            let code = c.state.exit_code.unwrap_or(0);
            match &c.state.finished_at {
                Some(t) => format!("Restarting ({code}) {} ago", since(t, now)),
                None => format!("Restarting ({code})"),
            }
        }
        Status::Dead => "Dead".into(),
    }
}

/// The health status of a container with an active check (`starting`,
/// `healthy`, `unhealthy`).
fn health_status(c: &Container) -> Option<String> {
    c.record.healthcheck.as_ref().filter(|h| h.active())?;
    container::health::read(&c.dir).map(|h| h.status)
}

/// The COMMAND column: `"path args…"`, 20 characters unless --no-trunc.
fn command_text(c: &Container, no_trunc: bool) -> String {
    let mut cmd = c.record.path.clone();
    for a in &c.record.args {
        cmd.push(' ');
        cmd.push_str(a);
    }
    if !no_trunc && cmd.chars().count() > 20 {
        cmd = cmd.chars().take(19).collect::<String>() + "…";
    }
    format!("\"{}\"", cmd.replace('\\', "\\\\").replace('"', "\\\""))
}

/// What a dead container's state says (its runner died; the kernel killed
/// the container with it through the parent-death signal).
const DEAD_EXIT: i32 = 137;

fn dead_error(c: &Container) -> String {
    match c.state.monitor_pid {
        Some(p) => format!(
            "the process that ran the container (pid {p}) died; the container was killed with it"
        ),
        None => "the process that ran the container died; the container was killed with it".into(),
    }
}

// --- ps ------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Filters {
    by_key: BTreeMap<String, Vec<String>>,
}

impl Filters {
    fn parse(raw: &[String]) -> anyhow::Result<Self> {
        let mut f = Filters::default();
        for r in raw {
            let Some((k, v)) = r.split_once('=') else {
                return Err(ExitError::new(
                    crate::error::EXIT_CORACLE,
                    format!("invalid filter '{r}': use KEY=VALUE with KEY one of id, name, label, status, ancestor, health"),
                )
                .into());
            };
            match k {
                "id" | "name" | "label" | "ancestor" => {}
                "health" => {
                    if !matches!(v, "starting" | "healthy" | "unhealthy" | "none") {
                        return Err(ExitError::new(
                            crate::error::EXIT_CORACLE,
                            format!("invalid filter 'health={v}': the health is one of starting, healthy, unhealthy, none"),
                        )
                        .into());
                    }
                }
                "status" => {
                    if !matches!(
                        v,
                        "created"
                            | "restarting"
                            | "running"
                            | "removing"
                            | "paused"
                            | "exited"
                            | "dead"
                    ) {
                        return Err(ExitError::new(
                            crate::error::EXIT_CORACLE,
                            format!("invalid filter 'status={v}': the status is one of created, restarting, running, removing, paused, exited, dead"),
                        )
                        .into());
                    }
                }
                _ => {
                    return Err(ExitError::new(
                        crate::error::EXIT_CORACLE,
                        format!(
                            "invalid filter '{k}': filter by id, name, label, status, ancestor or health"
                        ),
                    )
                    .into())
                }
            }
            f.by_key
                .entry(k.to_string())
                .or_default()
                .push(v.to_string());
        }
        Ok(f)
    }

    /// Values of one key are alternatives; keys must all match.
    fn keeps(&self, c: &Container) -> bool {
        self.by_key.iter().all(|(k, vals)| {
            vals.iter().any(|v| match k.as_str() {
                "id" => c.record.id.starts_with(v.as_str()),
                "name" => c.record.name.contains(v.trim_start_matches('/')),
                "status" => super::pause::state_name(c) == v,
                "health" => {
                    let h = if c.status() == Status::Running {
                        health_status(c)
                    } else {
                        None
                    };
                    h.as_deref().unwrap_or("none") == v
                }
                "label" => match v.split_once('=') {
                    Some((lk, lv)) => c.record.labels.get(lk).is_some_and(|x| x == lv),
                    None => c.record.labels.contains_key(v.as_str()),
                },
                "ancestor" => {
                    let img = &c.record.image;
                    let id = c.record.image_id.as_deref().unwrap_or("");
                    let hex = id.strip_prefix("sha256:").unwrap_or(id);
                    let v_hex = v.strip_prefix("sha256:").unwrap_or(v);
                    img == v
                        || img.strip_suffix(":latest") == Some(v.as_str())
                        || v.strip_suffix(":latest") == Some(img.as_str())
                        || (!hex.is_empty() && v_hex.len() >= 4 && hex.starts_with(v_hex))
                }
                _ => false,
            })
        })
    }
}

pub fn ps(args: &PsArgs) -> anyhow::Result<i32> {
    let filters = Filters::parse(&args.filter)?;
    let format = PsFormat::parse(args.format.as_deref())?;
    let mut all = container::list()?;
    // Newest first, as Docker lists them.
    all.reverse();
    let last = if args.latest { Some(1) } else { args.last };
    let show_all = args.all || last.is_some() || filters.by_key.contains_key("status");
    let mut shown: Vec<&Container> = all
        .iter()
        .filter(|c| show_all || matches!(c.status(), Status::Running | Status::Restarting))
        .filter(|c| filters.keeps(c))
        .collect();
    if let Some(n) = last {
        shown.truncate(n);
    }
    let now = logs::now_nanos();
    let mut out = std::io::stdout().lock();
    if args.quiet {
        for c in shown {
            let id = if args.no_trunc {
                &c.record.id
            } else {
                c.short_id()
            };
            writeln!(out, "{id}")?;
        }
        return Ok(0);
    }
    match &format {
        PsFormat::Table => {}
        PsFormat::Json => {
            for c in shown {
                writeln!(out, "{}", ps_value(c, args.no_trunc, now))?;
            }
            return Ok(0);
        }
        PsFormat::Template { table, template } => {
            let mut rows: Vec<Vec<String>> = Vec::new();
            if *table {
                rows.push(
                    template_header(template)
                        .split('\t')
                        .map(str::to_string)
                        .collect(),
                );
            }
            for c in shown {
                let line = render_template(template, &ps_value(c, args.no_trunc, now))?;
                if *table {
                    rows.push(line.split('\t').map(str::to_string).collect());
                } else {
                    writeln!(out, "{line}")?;
                }
            }
            if *table {
                write_table(&mut out, &rows)?;
            }
            return Ok(0);
        }
    }
    let mut rows: Vec<Vec<String>> = vec![vec![
        "CONTAINER ID".into(),
        "IMAGE".into(),
        "COMMAND".into(),
        "CREATED".into(),
        "STATUS".into(),
        "PORTS".into(),
        "NAMES".into(),
    ]];
    for c in shown {
        rows.push(vec![
            if args.no_trunc {
                c.record.id.clone()
            } else {
                c.short_id().to_string()
            },
            c.record.image.clone(),
            command_text(c, args.no_trunc),
            format!("{} ago", since(&c.record.created, now)),
            status_text(c, now),
            String::new(),
            c.record.name.clone(),
        ]);
    }
    write_table(&mut out, &rows)?;
    Ok(0)
}

/// Columns as Docker's tabwriter sets them (minimum width 10, padding 3).
pub(crate) fn write_table(out: &mut dyn Write, rows: &[Vec<String>]) -> std::io::Result<()> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for r in rows {
        for (i, cell) in r.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < r.len() {
                let width = (widths[i] + 3).max(10);
                line.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// `ps --format`: the table, JSON lines, or a template of the JSON fields.
enum PsFormat {
    Table,
    Json,
    Template { table: bool, template: String },
}

impl PsFormat {
    fn parse(f: Option<&str>) -> anyhow::Result<Self> {
        let Some(f) = f else {
            return Ok(Self::Table);
        };
        if f == "table" {
            return Ok(Self::Table);
        }
        if f == "json" || f == "{{json .}}" {
            return Ok(Self::Json);
        }
        let (table, body) = match f.strip_prefix("table ") {
            Some(b) => (true, b),
            None => (false, f),
        };
        let template = body.trim().replace("\\t", "\t").replace("\\n", "\n");
        if !template.contains("{{") {
            return Err(ExitError::new(
                crate::error::EXIT_CORACLE,
                format!("unsupported --format \"{f}\": use table, json or a template such as '{{{{.ID}}}}\\t{{{{.Names}}}}'"),
            )
            .into());
        }
        // Checked once against an example, so a bad field is one clear error.
        let example = json!({
            "Command": "", "CreatedAt": "", "ID": "", "Image": "", "Labels": "", "Mounts": "",
            "Names": "", "Ports": "", "RunningFor": "", "State": "", "Status": "",
        });
        render_template(&template, &example)
            .map_err(|e| ExitError::new(crate::error::EXIT_CORACLE, format!("--format: {e:#}")))?;
        Ok(Self::Template { table, template })
    }
}

/// The header row of a `table` template: Docker's column names.
fn template_header(template: &str) -> String {
    let mut out = template.to_string();
    for (field, head) in [
        ("ID", "CONTAINER ID"),
        ("Image", "IMAGE"),
        ("Command", "COMMAND"),
        ("CreatedAt", "CREATED AT"),
        ("RunningFor", "CREATED"),
        ("Ports", "PORTS"),
        ("State", "STATE"),
        ("Status", "STATUS"),
        ("Names", "NAMES"),
        ("Labels", "LABELS"),
        ("Mounts", "MOUNTS"),
    ] {
        out = out
            .replace(&format!("{{{{.{field}}}}}"), head)
            .replace(&format!("{{{{json .{field}}}}}"), head);
    }
    out
}

/// One container as `ps --format json` prints it (Docker's field names).
fn ps_value(c: &Container, no_trunc: bool, now: i128) -> Value {
    let labels: Vec<String> = c
        .record
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mounts: Vec<&str> = c.record.mounts.iter().map(|m| m.source.as_str()).collect();
    let created = &c.record.created;
    let created_at = if created.len() >= 19 {
        format!("{} {} +0000 UTC", &created[..10], &created[11..19])
    } else {
        created.clone()
    };
    json!({
        "Command": command_text(c, no_trunc),
        "CreatedAt": created_at,
        "ID": if no_trunc { c.record.id.as_str() } else { c.short_id() },
        "Image": c.record.image,
        "Labels": labels.join(","),
        "Mounts": mounts.join(","),
        "Names": c.record.name,
        "Ports": crate::net::ports::ps_column(&super::port::bound_ports(c)),
        "RunningFor": format!("{} ago", since(created, now)),
        "State": super::pause::state_name(c),
        "Status": status_text(c, now),
    })
}

// --- logs ----------------------------------------------------------------------

pub fn logs_cmd(args: &LogsArgs) -> anyhow::Result<i32> {
    let tail: Option<usize> = match args.tail.as_str() {
        "all" => None,
        n => Some(n.parse().map_err(|_| {
            ExitError::new(
                crate::error::EXIT_CORACLE,
                format!("invalid value for --tail \"{n}\": give a number of lines or all"),
            )
        })?),
    };
    let now = logs::now_nanos();
    let filter = logs::Filter {
        since: args
            .since
            .as_deref()
            .map(|s| logs::parse_time_arg("--since", s, now))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|s| logs::parse_time_arg("--until", s, now))
            .transpose()?,
        timestamps: args.timestamps,
    };
    let c = container::resolve(&args.container)?;
    let id = c.record.id.clone();
    let path = c.dir.join(container::LOG_FILE);
    match print_logs(&id, &path, tail, args.follow, &filter) {
        Err(e) if is_broken_pipe(&e) => Ok(0),
        Err(e) => Err(e),
        Ok(()) => Ok(0),
    }
}

/// Prints the log (rotated files first), then follows it while the
/// container runs.
fn print_logs(
    id: &str,
    path: &std::path::Path,
    tail: Option<usize>,
    follow: bool,
    filter: &logs::Filter,
) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let print = |line: &[u8], out: &mut dyn Write, err: &mut dyn Write| -> std::io::Result<()> {
        match logs::parse_line(line) {
            Some(e) => logs::print_entry(&e, filter, out, err),
            None => Ok(()),
        }
    };
    let files = logs::log_files(path);
    let mut last: std::collections::VecDeque<Vec<u8>> = std::collections::VecDeque::new();
    let mut current: Option<(std::fs::File, u64)> = None;
    for (i, p) in files.iter().enumerate() {
        let Ok(mut f) = std::fs::File::open(p) else {
            continue;
        };
        let pos = logs::read_lines(&mut f, 0, |l| match tail {
            Some(n) => {
                if n > 0 {
                    if last.len() == n {
                        last.pop_front();
                    }
                    last.push_back(l.to_vec());
                }
                Ok(())
            }
            None => print(l, &mut out, &mut err),
        })?;
        if i + 1 == files.len() {
            current = Some((f, pos));
        }
    }
    for l in &last {
        print(l, &mut out, &mut err)?;
    }
    drop(last);
    if !follow {
        return Ok(());
    }
    loop {
        // Liveness first, then read: whatever was written before the
        // container ended is read after it is seen to have ended.
        let alive = container::is_alive(id);
        loop {
            if current.is_none() {
                current = std::fs::File::open(path).ok().map(|f| (f, 0));
            }
            let Some((f, pos)) = current.as_mut() else {
                break;
            };
            // Truncated in place (max-file=1): start again from the top.
            if f.metadata().map(|m| m.len()).unwrap_or(0) < *pos {
                *pos = 0;
            }
            *pos = logs::read_lines(f, *pos, |l| print(l, &mut out, &mut err))?;
            // Rotated (renamed away): the rest of the old file has just
            // been read; go on with the new one.
            let rotated = match (std::fs::metadata(path), f.metadata()) {
                (Ok(now), Ok(open)) => now.ino() != open.ino(),
                _ => false,
            };
            if !rotated {
                break;
            }
            // Read the files rotated since (newer than the open one) before
            // the new current file, so that nothing is skipped.
            let open_ino = f.metadata().map(|m| m.ino()).ok();
            let chain: Vec<std::path::PathBuf> = (1..=100)
                .map(|n| logs::rotated(path, n))
                .take_while(|p| p.exists())
                .collect();
            let k = chain
                .iter()
                .position(|p| std::fs::metadata(p).ok().map(|m| m.ino()) == open_ino);
            let newer = &chain[..k.unwrap_or(chain.len())];
            for p in newer.iter().rev() {
                if let Ok(mut g) = std::fs::File::open(p) {
                    logs::read_lines(&mut g, 0, |l| print(l, &mut out, &mut err))?;
                }
            }
            current = None;
        }
        if !alive {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

// --- signals, stop, kill, wait ---------------------------------------------------

/// `KILL`, `SIGKILL`, `kill` or `9`.
pub fn parse_signal(s: &str) -> anyhow::Result<nix::sys::signal::Signal> {
    use nix::sys::signal::Signal;
    use std::str::FromStr;
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| {
            anyhow::anyhow!(
                "invalid signal: {s}: give a signal name (TERM, KILL, HUP...) or number"
            )
        });
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    Signal::from_str(&name).map_err(|_| {
        anyhow::anyhow!("invalid signal: {s}: give a signal name (TERM, KILL, HUP...) or number")
    })
}

fn signal_container(c: &Container, sig: nix::sys::signal::Signal) -> anyhow::Result<()> {
    let Some(pid) = c.state.pid.filter(|_| c.running()) else {
        return Err(ExitError::new(1, format!("container {} is not running", c.record.id)).into());
    };
    // The monitor is the container's parent and reaps it only after this
    // lock check could see it alive, so the pid is still the container's.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig)
        .with_context(|| format!("send {sig} to container {} (pid {pid})", c.record.id))?;
    // A paused container is thawed after the signal, as Docker does, so
    // that the signal is delivered.
    container::cgroup::thaw(&c.record.id);
    Ok(())
}

/// Runs `f` on each named container; errors are printed and the status is 1
/// if any failed, as Docker does.
pub(crate) fn each(
    names: &[String],
    mut f: impl FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<i32> {
    let mut rc = 0;
    for n in names {
        if let Err(e) = f(n) {
            eprintln!("coracle: {e:#}");
            rc = 1;
        }
    }
    Ok(rc)
}

pub fn stop(args: &StopArgs) -> anyhow::Result<i32> {
    let first = args.signal.as_deref().map(parse_signal).transpose()?;
    each(&args.containers, |n| {
        let c = container::resolve(n)?;
        stop_one(&c, n, args.time, first, false)?;
        println!("{n}");
        Ok(())
    })
}

/// Stops `c` as `stop` does: marks it stopped by the user (so that its
/// restart policy does not run it again), sends `first` (else its stop
/// signal, else SIGTERM), waits `time` seconds (else its --stop-timeout,
/// else 10; negative: forever), then SIGKILLs it.
pub(crate) fn stop_one(
    c: &Container,
    n: &str,
    time: Option<i64>,
    first: Option<nix::sys::signal::Signal>,
    then_start: bool,
) -> anyhow::Result<()> {
    use nix::sys::signal::Signal;
    if !c.alive {
        return Ok(());
    }
    let id = &c.record.id;
    if then_start {
        container::restart::mark_restarting(id)?;
    } else {
        container::restart::mark_stopping(id)?;
    }
    let Some(c) = running_or_gone(id)? else {
        return Ok(());
    };
    let sig = match (first, &c.record.stop_signal) {
        (Some(s), _) => s,
        (None, Some(s)) => parse_signal(s).unwrap_or(Signal::SIGTERM),
        (None, None) => Signal::SIGTERM,
    };
    let _ = signal_container(&c, sig);
    let secs = time.or(c.record.stop_timeout).unwrap_or(10);
    let grace = (secs >= 0).then(|| Duration::from_secs(secs as u64));
    if !container::wait_not_alive_for(id, grace) {
        let _ = signal_container(&c, Signal::SIGKILL);
        if !container::wait_not_alive_for(id, Some(Duration::from_secs(30))) {
            bail!("container {n} did not stop after SIGKILL; `coracle rm -f {n}` removes it");
        }
    }
    Ok(())
}

/// After a stop mark: the container once it runs (its monitor may be
/// starting it), or `None` once nobody runs it (a restarting container's
/// monitor sees the mark during its backoff and ends).
fn running_or_gone(id: &str) -> anyhow::Result<Option<Container>> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if !container::is_alive(id) {
            return Ok(None);
        }
        match Container::load(id) {
            Ok(c) if c.running() => return Ok(Some(c)),
            Ok(_) => {}
            Err(_) => return Ok(None),
        }
        if std::time::Instant::now() > deadline {
            bail!("container {id} neither started nor ended within 30 seconds; `coracle rm -f {id}` removes it");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn kill(args: &KillArgs) -> anyhow::Result<i32> {
    use nix::sys::signal::Signal;
    let sig = parse_signal(&args.signal)?;
    each(&args.containers, |n| {
        let c = container::resolve(n)?;
        // Docker's rule: SIGKILL, the container's stop signal, or any
        // signal when it has none, ends it for good (no restart).
        let ends = match c.record.stop_signal.as_deref().map(parse_signal) {
            Some(Ok(stop)) => sig == Signal::SIGKILL || sig == stop,
            _ => true,
        };
        if c.restarting() {
            // Nothing to signal: its monitor sees the mark and ends.
            if ends {
                container::restart::mark_stopping(&c.record.id)?;
            }
            println!("{n}");
            return Ok(());
        }
        if ends && c.running() {
            container::restart::mark_stopping(&c.record.id)?;
        }
        signal_container(&c, sig)?;
        println!("{n}");
        Ok(())
    })
}

/// The exit code recorded for a container that is not running.
fn exit_code_of(c: &Container) -> i32 {
    match c.status() {
        Status::Dead => DEAD_EXIT,
        _ => container::read_state(&c.dir)
            .ok()
            .and_then(|s| s.exit_code)
            .unwrap_or(0),
    }
}

pub fn wait(args: &WaitArgs) -> anyhow::Result<i32> {
    each(&args.containers, |n| {
        let c = container::resolve(n)?;
        container::wait_not_alive(&c.record.id)?;
        match Container::load(&c.record.id) {
            Ok(c) => println!("{}", exit_code_of(&c)),
            // Removed when it exited (`run -d --rm`): its monitor left the
            // exit code.
            Err(_) => match container::removed_exit_code(&c.record.id) {
                Some(code) => println!("{code}"),
                None => return Err(ExitError::new(1, format!("No such container: {n}")).into()),
            },
        }
        Ok(())
    })
}

// --- rm --------------------------------------------------------------------------

pub fn rm(args: &RmArgs) -> anyhow::Result<i32> {
    each(&args.containers, |n| {
        let c = match container::resolve(n) {
            Ok(c) => c,
            Err(e)
                if args.force
                    && e.downcast_ref::<ExitError>().is_some_and(|x| x.code == 1)
                    && e.to_string().starts_with("No such container") =>
            {
                // A damaged record, or what a crashed `run` or `rm` left
                // (no record), named by its full id, is removed whole when
                // nobody runs it.
                if container::is_damaged(n) || container::has_remains(n) {
                    let _names = container::lock_names()?;
                    let Some(_lock) = container::try_lock_monitor(n)? else {
                        bail!("container {n} is still run by a process; kill that process first");
                    };
                    container::remove_container_files(n)?;
                    println!("{n}");
                }
                // Docker's `rm -f` is quiet about containers that are gone.
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let id = c.record.id.clone();
        if c.alive {
            if !args.force {
                let (what, first) = if c.restarting() {
                    ("restarting", "")
                } else if super::pause::is_paused(&c) {
                    ("paused", "unpause and then ")
                } else {
                    ("running", "")
                };
                return Err(ExitError::new(
                    1,
                    format!(
                        "cannot remove container \"/{}\": container is {what}: {first}stop the container before removing or force remove",
                        c.record.name
                    ),
                )
                .into());
            }
            force_end(&c)?;
        }
        // A monitor may take the lock after the check above (`run -d` or
        // `start` starting it right now): with -f it is ended too.
        let mut attempts = 0;
        loop {
            let _names = container::lock_names()?;
            if let Some(_lock) = container::try_lock_monitor(&id)? {
                container::remove_container_files(&id)?;
                break;
            }
            attempts += 1;
            if !args.force || attempts == 3 {
                bail!("container {n} was started again while being removed; try again");
            }
            drop(_names);
            if let Ok(c) = Container::load(&id) {
                force_end(&c)?;
            }
        }
        // After the names lock is released: `run` takes the volumes lock
        // first, then the names lock.
        if args.volumes {
            container::volumes::remove_anonymous(&c.record.mounts)?;
        }
        println!("{n}");
        Ok(())
    })
}

/// Kills a running container and waits for its runner to end (killing the
/// runner too if it hangs).
fn force_end(c: &Container) -> anyhow::Result<()> {
    use nix::sys::signal::{kill, Signal};
    let id = &c.record.id;
    // Its restart policy must not run it again.
    container::restart::mark_stopping(id)?;
    // The state is read again while waiting: a container that its monitor
    // is still starting has no pid yet, and is killed once it has one.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut killed = None;
    // Wakes the loop as soon as the runner is gone (rather than at the
    // next 20 ms tick: `rm -f` of a running container is that much faster).
    let gone = container::watch_not_alive(id);
    loop {
        if !container::is_alive(id) {
            return Ok(());
        }
        if let Ok(s) = container::read_state(&c.dir) {
            if let (Status::Running, Some(pid)) = (s.status, s.pid) {
                if killed != Some(pid) {
                    let _ = kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
                    container::cgroup::thaw(id);
                    killed = Some(pid);
                }
            }
        }
        if std::time::Instant::now() >= deadline {
            break;
        }
        let _ = gone.recv_timeout(Duration::from_millis(20));
    }
    // The runner does not end (e.g. still starting the container): end it;
    // the container dies with it (parent-death signal).
    if let Some(m) = container::read_state(&c.dir)
        .ok()
        .and_then(|s| s.monitor_pid)
    {
        let _ = kill(nix::unistd::Pid::from_raw(m), Signal::SIGKILL);
    }
    if container::wait_not_alive_for(id, Some(Duration::from_secs(10))) {
        return Ok(());
    }
    bail!("container {id} could not be stopped; its processes may need `kill -9`")
}

// --- inspect -----------------------------------------------------------------------

const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Docker's HostConfig.SecurityOpt, from what config.json records: no
/// `linux.seccomp` is `seccomp=unconfined` (the default filter is not
/// named, as in Docker), and no_new_privs is `no-new-privileges`.
fn security_opt(c: &Container) -> Value {
    let Ok(spec) = oci_spec::runtime::Spec::load(c.dir.join("config.json")) else {
        return Value::Null;
    };
    let mut opts = Vec::new();
    if spec
        .linux()
        .as_ref()
        .and_then(|l| l.seccomp().as_ref())
        .is_none()
    {
        opts.push("seccomp=unconfined");
    }
    if spec
        .process()
        .as_ref()
        .and_then(|p| p.no_new_privileges())
        .unwrap_or(false)
    {
        opts.push("no-new-privileges");
    }
    let mut opts: Vec<String> = opts.into_iter().map(str::to_string).collect();
    if let Ok(Some(_)) = crate::sandbox::landlock::LandlockPlan::of_spec(&spec) {
        let enforced = c
            .record
            .policy
            .as_ref()
            .map_or("requested", |p| p.landlock.enforced.as_str());
        opts.push(format!("landlock={enforced}"));
    }
    if let Some(p) = &c.record.policy {
        opts.push(format!("policy={}", p.name));
    }
    if opts.is_empty() {
        Value::Null
    } else {
        json!(opts)
    }
}

/// Docker's HostConfig.Ulimits, from config.json's rlimits.
fn ulimits(c: &Container) -> Value {
    let Ok(spec) = oci_spec::runtime::Spec::load(c.dir.join("config.json")) else {
        return Value::Null;
    };
    let list: Vec<Value> = spec
        .process()
        .as_ref()
        .and_then(|p| p.rlimits().clone())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let name = format!("{:?}", r.typ())
                .trim_start_matches("Rlimit")
                .to_ascii_lowercase();
            let v = |x: u64| if x == u64::MAX { json!(-1) } else { json!(x) };
            json!({"Name": name, "Soft": v(r.soft()), "Hard": v(r.hard())})
        })
        .collect();
    if list.is_empty() {
        Value::Null
    } else {
        json!(list)
    }
}

/// The container's hardware address on the private network.
fn mac_text() -> String {
    crate::net::GUEST_MAC
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub fn inspect_value(c: &Container) -> Value {
    let r = &c.record;
    let status = c.status();
    let running = status == Status::Running;
    let restarting = status == Status::Restarting;
    let (exit_code, error) = match status {
        Status::Dead => (DEAD_EXIT, dead_error(c)),
        _ => (
            c.state.exit_code.unwrap_or(0),
            c.state.error.clone().unwrap_or_default(),
        ),
    };
    let nullable = |v: &Vec<String>| {
        if v.is_empty() {
            Value::Null
        } else {
            json!(v)
        }
    };
    let mut v = json!({
        "GraphDriver": crate::storage::graph_driver(&c.dir),
        "Id": r.id,
        "Created": r.created,
        "Path": r.path,
        "Args": r.args,
        "State": {
            "Status": super::pause::state_name(c),
            // Docker counts a restarting container as running.
            "Running": running || restarting,
            "Paused": super::pause::is_paused(c),
            "Restarting": restarting,
            "OOMKilled": false,
            "Dead": status == Status::Dead,
            "Pid": if running { c.state.pid.unwrap_or(0) } else { 0 },
            "ExitCode": exit_code,
            "Error": error,
            "StartedAt": c.state.started_at.as_deref().unwrap_or(ZERO_TIME),
            "FinishedAt": c.state.finished_at.as_deref().unwrap_or(ZERO_TIME),
            "Health": r.healthcheck.as_ref().filter(|h| h.active())
                .and_then(|_| container::health::read(&c.dir))
                .map_or(Value::Null, |h| json!(h)),
        },
        "Image": r.image_id.as_deref().unwrap_or(""),
        "LogPath": c.dir.join(container::LOG_FILE),
        "Name": format!("/{}", r.name),
        "RestartCount": c.state.restart_count,
        // coracle's own: the security policy and what the kernel enforces
        // of its landlock rules (an unconfined one carries a warning).
        "CoraclePolicy": r.policy.as_ref().map_or(Value::Null, |p| json!(p)),
        "HostConfig": {
            "AutoRemove": r.auto_remove,
            "Init": r.init,
            "NetworkMode": r.network_mode,
            "Egress": r.net.as_ref().map(|n| n.egress.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap_or_default(),
            "PortBindings": crate::net::ports::inspect_bindings(
                r.net.as_ref().map(|n| n.ports.as_slice()).unwrap_or_default()
            ),
            "SecurityOpt": security_opt(c),
            "Ulimits": ulimits(c),
            "RestartPolicy": {
                "Name": r.restart.name.as_str(),
                "MaximumRetryCount": r.restart.max_retries,
            },
        },
        // No published ports and no addresses: `none` is loopback only,
        // `host` the caller's own network.
        "NetworkSettings": {
            "Bridge": "",
            "SandboxID": "",
            "SandboxKey": if running && r.network_mode != "host" {
                format!("/proc/{}/ns/net", c.state.pid.unwrap_or(0))
            } else {
                String::new()
            },
            "Ports": crate::net::ports::inspect_ports(&super::port::bound_ports(c)),
            "EgressDenied": r.net.as_ref().and_then(|n| n.denied_file.as_ref()).map_or(0, |p| crate::net::read_denied(p)),
            "Gateway": if r.net.is_some() { crate::net::GATEWAY.to_string() } else { String::new() },
            "IPAddress": if r.net.is_some() { crate::net::GUEST.to_string() } else { String::new() },
            "IPPrefixLen": if r.net.is_some() { crate::net::PREFIX } else { 0 },
            "MacAddress": if r.net.is_some() { mac_text() } else { String::new() },
            "Networks": if let Some(n) = r.net.as_ref().and_then(|n| n.named.as_ref()) {
                super::network::endpoint(n, &c.dir, running)
            } else { json!({
                r.network_mode.clone(): {
                    "NetworkID": "",
                    "EndpointID": "",
                    "Gateway": if r.net.is_some() { crate::net::GATEWAY.to_string() } else { String::new() },
                    "IPAddress": if r.net.is_some() { crate::net::GUEST.to_string() } else { String::new() },
                    "IPPrefixLen": if r.net.is_some() { crate::net::PREFIX } else { 0 },
                    "MacAddress": if r.net.is_some() { mac_text() } else { String::new() },
                },
            }) },
        },
        "Mounts": r.mounts.iter().map(|m| match m.typ.as_str() {
            "volume" => json!({
                "Type": "volume",
                "Name": m.name,
                "Source": m.source,
                "Destination": m.destination,
                "Driver": "local",
                "Mode": "z",
                "RW": m.rw,
                "Propagation": "",
            }),
            typ => json!({
                "Type": typ,
                "Source": m.source,
                "Destination": m.destination,
                "Mode": "",
                "RW": m.rw,
                "Propagation": if typ == "bind" { "rprivate" } else { "" },
            }),
        }).collect::<Vec<_>>(),
        "Config": {
            "Hostname": r.hostname,
            "User": r.user,
            "Tty": r.tty,
            "OpenStdin": r.open_stdin,
            "Env": r.env,
            "Cmd": nullable(&r.cmd),
            "Image": r.image,
            "WorkingDir": r.working_dir,
            "Entrypoint": nullable(&r.entrypoint),
            "Labels": r.labels,
            "Healthcheck": r.healthcheck,
        },
    });
    // Docker leaves out what was not set.
    let config = &mut v["Config"];
    if let Some(sig) = &r.stop_signal {
        config["StopSignal"] = json!(sig);
    }
    if let Some(t) = r.stop_timeout {
        config["StopTimeout"] = json!(t);
    }
    v
}

/// A small subset of Go templates: `{{.A.B}}` and `{{json .A.B}}` (`{{json .}}`).
pub fn render_template(tpl: &str, v: &Value) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rest = tpl;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| anyhow::anyhow!("template: unclosed {{{{ in \"{tpl}\""))?;
        let action = after[..end].trim();
        let (as_json, path) = match action.strip_prefix("json ") {
            Some(p) => (true, p.trim()),
            None => (false, action),
        };
        if !path.starts_with('.') {
            bail!("template: unsupported action \"{action}\": only {{{{.Field}}}} and {{{{json .Field}}}} are supported");
        }
        let mut cur = v;
        for part in path[1..].split('.').filter(|p| !p.is_empty()) {
            cur = cur
                .get(part)
                .ok_or_else(|| anyhow::anyhow!("template: no field \"{part}\" in \"{path}\""))?;
        }
        match (as_json, cur) {
            (false, Value::String(s)) => out.push_str(s),
            (false, Value::Null) => out.push_str("<no value>"),
            _ => out.push_str(&cur.to_string()),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

pub fn inspect(args: &InspectArgs) -> anyhow::Result<i32> {
    let all = container::list()?;
    let mut found = Vec::new();
    let mut rc = 0;
    for n in &args.containers {
        match container::find(&all, n) {
            Ok(c) => found.push(inspect_value(c)),
            Err(e) => {
                eprintln!("coracle: {e:#}");
                rc = 1;
            }
        }
    }
    match &args.format {
        Some(tpl) => {
            for v in &found {
                println!("{}", render_template(tpl, v)?);
            }
        }
        None => println!("{}", serde_json::to_string_pretty(&Value::Array(found))?),
    }
    Ok(rc)
}

// --- prune -------------------------------------------------------------------------

/// Removes every container that is not running, and what crashed `run`s
/// left before a record was written.
pub fn prune(args: &PruneArgs) -> anyhow::Result<i32> {
    if !args.force && !super::image::confirm("This will remove all stopped containers.")? {
        return Ok(0);
    }
    let base = container::containers_dir()?;
    let _names = container::lock_names()?;
    let mut deleted = Vec::new();
    let mut reclaimed = 0u64;
    for e in std::fs::read_dir(&base).with_context(|| format!("read {}", base.display()))? {
        let e = e.with_context(|| format!("read {}", base.display()))?;
        let id = e.file_name().to_string_lossy().into_owned();
        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        // Whoever runs or creates it holds this lock; taking it keeps
        // `start` away while the container is removed.
        let Some(_lock) = container::try_lock_monitor(&id)? else {
            continue;
        };
        let size = crate::image::store::dir_size(&e.path());
        container::remove_container_files(&id)?;
        reclaimed += size;
        deleted.push(id);
    }
    // A `run` killed after it took the new container's lock but before it
    // made the data directory leaves only the runtime directory.
    let runtime = container::runtime_dir()?.join("containers");
    for e in std::fs::read_dir(&runtime).into_iter().flatten().flatten() {
        let id = e.file_name().to_string_lossy().into_owned();
        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) || base.join(&id).exists() {
            continue;
        }
        let Some(_lock) = container::try_lock_monitor(&id)? else {
            continue;
        };
        // What a removed `--rm` container left for `wait` is not a container.
        if e.path().join(container::EXIT_CODE_FILE).exists() {
            continue;
        }
        container::remove_container_files(&id)?;
        deleted.push(id);
    }
    if !deleted.is_empty() {
        println!("Deleted Containers:");
        for id in &deleted {
            println!("{id}");
        }
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        super::image::human_size(reclaimed)
    );
    Ok(0)
}

// --- start -------------------------------------------------------------------------

pub fn start(args: &StartArgs) -> anyhow::Result<i32> {
    if args.attach || args.interactive {
        return start_attached(args);
    }
    each(&args.containers, |n| {
        let c = container::resolve(n)?;
        start_one(&c, n)?;
        println!("{n}");
        Ok(())
    })
}

/// `start -a [-i]`: one container, attached before it starts.
fn start_attached(args: &StartArgs) -> anyhow::Result<i32> {
    use crate::container::attach as att;
    if args.containers.len() > 1 {
        bail!("you cannot start and attach multiple containers at once");
    }
    let keys = att::parse_detach_keys(
        args.detach_keys
            .as_deref()
            .unwrap_or(att::DEFAULT_DETACH_KEYS),
    )?;
    let n = &args.containers[0];
    let c = container::resolve(n)?;
    let sock = if c.alive {
        if !c.running() {
            bail!("container {n} is being started by another process");
        }
        att::connect(&c.record.id).map_err(|e| anyhow::anyhow!("attach to container {n}: {e}"))?
    } else {
        super::run::start_monitor_attached(&c.record.id)?
    };
    let c = Container::load(&c.record.id)?;
    let stdin = args.interactive && c.record.open_stdin;
    super::attach::session(&c, sock, stdin, &keys, true)
}

/// Starts `c` under a new monitor, unless it runs already.
pub(crate) fn start_one(c: &Container, n: &str) -> anyhow::Result<()> {
    if c.alive {
        if super::pause::is_paused(c) {
            return Err(ExitError::new(
                1,
                "cannot start a paused container, try unpause instead".to_string(),
            )
            .into());
        }
        if c.running() || c.restarting() {
            return Ok(());
        }
        bail!("container {n} is being started by another process");
    }
    super::run::start_monitor(&c.record.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_match_go_units() {
        let s = 1_000_000_000i128;
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(s), "1 second");
        assert_eq!(human_duration(5 * s), "5 seconds");
        assert_eq!(human_duration(60 * s), "About a minute");
        assert_eq!(human_duration(120 * s), "2 minutes");
        assert_eq!(human_duration(3600 * s), "About an hour");
        assert_eq!(human_duration(3 * 3600 * s), "3 hours");
        assert_eq!(human_duration(3 * 86400 * s), "3 days");
        assert_eq!(human_duration(21 * 86400 * s), "3 weeks");
        assert_eq!(human_duration(90 * 86400 * s), "3 months");
        assert_eq!(human_duration(3 * 365 * 86400 * s), "3 years");
    }

    #[test]
    fn signals_by_name_and_number() {
        use nix::sys::signal::Signal;
        assert_eq!(parse_signal("KILL").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("sigterm").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("99").is_err());
    }

    #[test]
    fn templates_pick_fields() {
        let v =
            json!({"State": {"Status": "running", "Pid": 3}, "Name": "/x", "Labels": {"a": "b"}});
        assert_eq!(render_template("{{.State.Status}}", &v).unwrap(), "running");
        assert_eq!(
            render_template("{{.Name}} {{.State.Pid}}", &v).unwrap(),
            "/x 3"
        );
        assert_eq!(
            render_template("{{json .Labels}}", &v).unwrap(),
            "{\"a\":\"b\"}"
        );
        assert!(render_template("{{range .}}", &v).is_err());
        assert!(render_template("{{.Nope}}", &v).is_err());
    }

    #[test]
    fn tables_pad_like_dockers_tabwriter() {
        let rows = vec![
            vec![
                "IMAGE".to_string(),
                "COMMAND".to_string(),
                "NAMES".to_string(),
            ],
            vec![
                "a-long-image-name".to_string(),
                "\"sh\"".to_string(),
                "x".to_string(),
            ],
        ];
        let mut out = Vec::new();
        write_table(&mut out, &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                "IMAGE{}COMMAND   NAMES\na-long-image-name   \"sh\"      x\n",
                " ".repeat(15)
            )
        );
    }

    #[test]
    fn ps_templates() {
        assert!(matches!(PsFormat::parse(None).unwrap(), PsFormat::Table));
        assert!(matches!(
            PsFormat::parse(Some("json")).unwrap(),
            PsFormat::Json
        ));
        match PsFormat::parse(Some("table {{.ID}}\\t{{.Names}}")).unwrap() {
            PsFormat::Template {
                table: true,
                template,
            } => {
                assert_eq!(template, "{{.ID}}\t{{.Names}}");
                assert_eq!(template_header(&template), "CONTAINER ID\tNAMES");
            }
            _ => panic!("a table template"),
        }
        assert!(PsFormat::parse(Some("{{.Nope}}")).is_err());
        assert!(PsFormat::parse(Some("plain")).is_err());
    }

    #[test]
    fn filters_are_checked() {
        assert!(Filters::parse(&["status=running".into()]).is_ok());
        assert!(Filters::parse(&["status=sleeping".into()]).is_err());
        assert!(Filters::parse(&["colour=red".into()]).is_err());
        assert!(Filters::parse(&["name".into()]).is_err());
    }
}
