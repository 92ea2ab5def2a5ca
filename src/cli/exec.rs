//! `coracle exec`: run a command in a running container.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::container::{self, Container};
use crate::error::{ExitError, EXIT_CORACLE};
use crate::sandbox::exec::{self as sexec, ExecOptions};
use crate::spec::options;

#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Run the command in the background (nothing is attached)
    #[arg(short = 'd', long = "detach")]
    pub detach: bool,

    /// Keep standard input open
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,

    /// Allocate a pseudo-terminal
    #[arg(short = 't', long = "tty")]
    pub tty: bool,

    /// Set environment variables (KEY=VALUE, or KEY to copy it from the caller)
    #[arg(short = 'e', long = "env", value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,

    /// Read environment variables from a file (one KEY=VALUE per line)
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<PathBuf>,

    /// Working directory inside the container (default: the container's)
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    pub workdir: Option<String>,

    /// User to run as: name|uid[:group|gid] (default: the container's)
    #[arg(short = 'u', long = "user", value_name = "USER[:GROUP]")]
    pub user: Option<String>,

    /// Kill the command after this long (used by health checks)
    #[arg(long = "kill-after", value_name = "DURATION", hide = true)]
    pub kill_after: Option<String>,

    /// The container (name or id)
    #[arg(value_name = "CONTAINER")]
    pub container: String,

    /// The command and its arguments
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

fn not_running(what: &str) -> anyhow::Error {
    ExitError::new(
        1,
        format!("container {what} is not running: start it with `coracle start {what}`"),
    )
    .into()
}

pub fn exec(args: &ExecArgs) -> anyhow::Result<i32> {
    let c = container::resolve(&args.container)?;
    let name = &args.container;
    if !c.running() {
        return Err(not_running(name));
    }
    if super::pause::is_paused(&c) {
        // Docker's message: a process started now would not run.
        return Err(ExitError::new(
            1,
            format!(
                "Container {} is paused, unpause the container before exec",
                c.record.id
            ),
        )
        .into());
    }
    let spec: oci_spec::runtime::Spec = {
        let p = c.dir.join("config.json");
        let b = std::fs::read(&p).with_context(|| format!("read {}", p.display()))?;
        serde_json::from_slice(&b).with_context(|| format!("{} is damaged", p.display()))?
    };
    let mut process = spec
        .process()
        .clone()
        .with_context(|| format!("the spec of container {name} has no process"))?;

    // Environment: the container's, then env files, then -e.
    let lookup = |k: &str| std::env::var(k).ok();
    let mut env: Vec<(String, String)> = process
        .env()
        .iter()
        .flatten()
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut given = Vec::new();
    for f in &args.env_file {
        let content =
            std::fs::read_to_string(f).with_context(|| format!("read env file {}", f.display()))?;
        given.extend(options::env_file(
            &f.display().to_string(),
            &content,
            &lookup,
        )?);
    }
    for e in &args.env {
        given.extend(options::env_entry(e, &lookup)?);
    }
    let home_given = given.iter().any(|(k, _)| k == "HOME");
    if args.tty && !env.iter().chain(&given).any(|(k, _)| k == "TERM") {
        given.push(("TERM".into(), "xterm".into()));
    }
    for (k, v) in &given {
        options::env_set(&mut env, k, v);
    }
    process.set_env(Some(
        env.into_iter().map(|(k, v)| format!("{k}={v}")).collect(),
    ));
    process.set_args(Some(args.command.clone()));
    process.set_terminal(Some(args.tty));
    if let Some(w) = &args.workdir {
        if !w.starts_with('/') {
            return Err(ExitError::new(
                EXIT_CORACLE,
                format!("the working directory {w:?} is invalid: it must be an absolute path"),
            )
            .into());
        }
        process.set_cwd(crate::rootpath::clean(Path::new(w)));
    }

    let target = container::procs::join_target(&c, not_running).map_err(|e| {
        match e.downcast::<ExitError>() {
            Ok(x) => x.into(),
            Err(e) => e.context(format!("find the processes of container {name}")),
        }
    })?;
    // The pid was read before the pidfd was opened: make sure it is still
    // this run's process (the container did not exit or restart meanwhile).
    let now = Container::load(&c.record.id)?;
    if !now.running() || now.state.pid != c.state.pid || now.state.started_at != c.state.started_at
    {
        return Err(not_running(name));
    }

    let kill_after = match &args.kill_after {
        None => None,
        Some(d) => Some(
            crate::container::logs::parse_duration(d)
                .filter(|n| *n > 0)
                .map(|n| std::time::Duration::from_nanos(n.min(u64::MAX as i128) as u64))
                .ok_or_else(|| {
                    anyhow::anyhow!("invalid --kill-after {d:?}: give a duration such as 30s")
                })?,
        ),
    };
    let (uid_map, gid_map) = crate::spec::id_maps(&spec);
    let opts = ExecOptions {
        stdin: args.interactive && !args.detach,
        detach: args.detach,
        user: args.user.clone(),
        home_given,
        kill_after,
        uid_map,
        gid_map,
        cgroup: crate::container::cgroup::recorded(&c.record.id),
        seccomp: spec.linux().as_ref().and_then(|l| l.seccomp().clone()),
        landlock: crate::sandbox::landlock::LandlockPlan::of_spec(&spec)
            .map_err(|e| anyhow::anyhow!("{}", e.message))?,
        ..Default::default()
    };
    // `-d -t`: the container's monitor holds the command's terminal.
    let id = c.record.id.clone();
    let hold = move |master: &OwnedFd| {
        crate::container::attach::hand_over_tty(&id, master).map_err(|e| {
            ExitError::new(
                EXIT_CORACLE,
                format!("exec -d -t: the monitor of container {name} cannot hold the command's terminal, so it was ended: {e:#}"),
            )
            .into()
        })
    };
    sexec::exec(&target, sexec::namespaces_of(&spec), &process, &opts, &hold)
}
