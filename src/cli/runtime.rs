//! `coracle-runtime` / `coracle runtime`: the OCI runtime command line, as
//! runc and crun implement it, for engines (Podman through conmon,
//! containerd, CRI-O).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};

use crate::runtime::{self, ops, Root};

/// The OCI runtime command line (runc-compatible).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = false)]
pub struct RuntimeArgs {
    /// Directory for the containers' state
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Write errors and warnings to this file (besides stderr)
    #[arg(long, global = true, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Format of the --log file
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Accepted for compatibility; systemd is not asked for a cgroup (a warning says so)
    #[arg(long, global = true)]
    pub systemd_cgroup: bool,
    /// Accepted for compatibility (more output on stderr is not implemented)
    #[arg(long, global = true, hide = true)]
    pub debug: bool,
    #[command(subcommand)]
    pub command: RuntimeCommand,
}

/// `coracle-runtime` invoked by that name.
#[derive(Debug, Parser)]
#[command(
    name = "coracle-runtime",
    version,
    about = "coracle's OCI runtime (runc-compatible command line)"
)]
pub struct RuntimeCli {
    #[command(flatten)]
    pub args: RuntimeArgs,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The bundle directory (holding config.json)
    #[arg(short, long, default_value = ".", value_name = "DIR")]
    pub bundle: PathBuf,
    /// Write the container process's pid to this file
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Unix socket that receives the terminal's master (SCM_RIGHTS)
    #[arg(long, value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    /// Pass N extra fds (3 .. 3+N) on to the container's process
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub preserve_fds: u32,
    /// Do not use pivot_root (move the root onto / and chroot instead)
    #[arg(long)]
    pub no_pivot: bool,
    /// Accepted for compatibility (no session keyring is created)
    #[arg(long)]
    pub no_new_keyring: bool,
    /// The container id
    pub id: String,
}

#[derive(Debug, Subcommand)]
pub enum RuntimeCommand {
    /// Create a container: set up, waiting before the user program
    Create(CreateArgs),
    /// Run the user program of a created container
    Start { id: String },
    /// Print the state of a container (runtime-spec JSON)
    State { id: String },
    /// Send a signal to a container's process (default SIGTERM)
    Kill {
        /// Signal every process of the container
        #[arg(short, long)]
        all: bool,
        id: String,
        #[arg(default_value = "SIGTERM")]
        signal: String,
    },
    /// Delete a stopped container (any container with --force)
    Delete {
        /// Kill the container first if it is not stopped
        #[arg(short, long)]
        force: bool,
        id: String,
    },
    /// Create and start a container; wait for it unless --detach
    Run {
        #[command(flatten)]
        create: CreateArgs,
        /// Return once started
        #[arg(short, long)]
        detach: bool,
    },
    /// Run a process in a running container
    Exec(ExecArgs),
    /// Freeze every process of a container (needs its own cgroup v2)
    Pause { id: String },
    /// Thaw a paused container
    Resume { id: String },
    /// List containers
    List {
        /// table or json
        #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        /// Print only ids
        #[arg(short, long)]
        quiet: bool,
    },
    /// Show a container's processes
    Ps {
        /// table or json
        #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        id: String,
        /// Options for ps(1) (default -ef)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_args: Vec<String>,
    },
    /// Print the features this runtime implements (runtime-spec JSON)
    Features,
    /// Write an example config.json
    Spec {
        /// For an unprivileged user: a user namespace mapping your own id
        #[arg(long)]
        rootless: bool,
        /// Directory to write config.json into
        #[arg(short, long, default_value = ".", value_name = "DIR")]
        bundle: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// A runtime-spec process JSON file (instead of the flags)
    #[arg(short, long, value_name = "FILE")]
    pub process: Option<PathBuf>,
    /// Set an environment variable (KEY=VALUE)
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Working directory in the container
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Allocate a terminal
    #[arg(short, long)]
    pub tty: bool,
    /// Do not wait for the process
    #[arg(short, long)]
    pub detach: bool,
    /// Unix socket that receives the terminal's master
    #[arg(long, value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    /// Write the process's pid to this file
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// UID[:GID] to run as
    #[arg(short, long)]
    pub user: Option<String>,
    /// Additional group ids
    #[arg(short = 'g', long = "additional-gids")]
    pub additional_gids: Vec<u32>,
    /// Add a capability (to every set)
    #[arg(short, long = "cap")]
    pub cap: Vec<String>,
    /// Set no_new_privileges
    #[arg(long)]
    pub no_new_privs: bool,
    /// The container id
    pub id: String,
    /// The command and its arguments (without --process)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Runs the runtime command line; the process exit status (1 on an error,
/// as runc).
pub fn main(args: RuntimeArgs) -> i32 {
    runtime::set_log(runtime::LogTarget {
        path: args.log.clone(),
        json: args.log_format == "json",
    });
    match dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            let code = e
                .downcast_ref::<crate::error::ExitError>()
                .map_or(1, |x| x.code);
            runtime::log("error", &format!("{e:#}"));
            code
        }
    }
}

fn print_json(v: &serde_json::Value) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(v)?;
    text.push('\n');
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        // A reader that stopped early (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(Into::into),
    }
}

fn dispatch(args: RuntimeArgs) -> anyhow::Result<i32> {
    if args.systemd_cgroup {
        runtime::warn("--systemd-cgroup: coracle-runtime does not ask systemd for a cgroup; a container gets its own cgroup only where the caller's cgroup v2 is delegated");
    }
    let root = Root::new(args.root.clone())?;
    let create_opts = |c: &CreateArgs| ops::CreateOpts {
        bundle: c.bundle.clone(),
        pid_file: c.pid_file.clone(),
        console_socket: c.console_socket.clone(),
        preserve_fds: c.preserve_fds,
        no_pivot: c.no_pivot,
    };
    match args.command {
        RuntimeCommand::Create(c) => {
            ops::create(&root, &c.id, &create_opts(&c), false)?;
            Ok(0)
        }
        RuntimeCommand::Start { id } => ops::start(&root, &id).map(|_| 0),
        RuntimeCommand::State { id } => {
            print_json(&ops::state(&root, &id)?)?;
            Ok(0)
        }
        RuntimeCommand::Kill { all, id, signal } => {
            ops::kill(&root, &id, ops::parse_signal(&signal)?, all).map(|_| 0)
        }
        RuntimeCommand::Delete { force, id } => ops::delete(&root, &id, force).map(|_| 0),
        RuntimeCommand::Run { create, detach } => {
            ops::run(&root, &create.id, &create_opts(&create), detach)
        }
        RuntimeCommand::Exec(e) => exec(&root, e),
        RuntimeCommand::Pause { id } => ops::pause(&root, &id, true).map(|_| 0),
        RuntimeCommand::Resume { id } => ops::pause(&root, &id, false).map(|_| 0),
        RuntimeCommand::List { format, quiet } => list(&root, &format, quiet),
        RuntimeCommand::Ps {
            format,
            id,
            ps_args,
        } => ps(&root, &id, &format, ps_args),
        RuntimeCommand::Features => {
            print_json(&runtime::config::features())?;
            Ok(0)
        }
        RuntimeCommand::Spec { rootless, bundle } => {
            let p = bundle.join("config.json");
            if p.exists() {
                bail!("File {} exists. Remove it first", p.display());
            }
            let v = runtime::config::example(rootless);
            let mut s = serde_json::to_string_pretty(&v)?;
            s.push('\n');
            std::fs::write(&p, s).with_context(|| format!("write {}", p.display()))?;
            Ok(0)
        }
    }
}

fn list(root: &Root, format: &str, quiet: bool) -> anyhow::Result<i32> {
    let all = ops::list(root);
    if quiet {
        for (r, _) in &all {
            println!("{}", r.id);
        }
        return Ok(0);
    }
    if format == "json" {
        let v: Vec<serde_json::Value> =
            all.iter().map(|(r, s)| runtime::oci_state(r, *s)).collect();
        println!("{}", serde_json::Value::Array(v));
        return Ok(0);
    }
    let rows: Vec<[String; 6]> = all
        .iter()
        .map(|(r, s)| {
            let pid = match s {
                runtime::Status::Stopped => 0,
                _ => r.pid.unwrap_or(0),
            };
            let owner = nix::unistd::User::from_uid(r.owner.into())
                .ok()
                .flatten()
                .map(|u| u.name)
                .unwrap_or_else(|| r.owner.to_string());
            [
                r.id.clone(),
                pid.to_string(),
                s.as_str().to_string(),
                r.bundle.display().to_string(),
                r.created.clone(),
                owner,
            ]
        })
        .collect();
    let head = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"];
    let mut w = [0usize; 6];
    for (i, h) in head.iter().enumerate() {
        w[i] = rows
            .iter()
            .map(|r| r[i].len())
            .max()
            .unwrap_or(0)
            .max(h.len());
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 5 {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<width$}   ", width = w[i]));
            }
        }
        s
    };
    println!("{}", line(head));
    for r in &rows {
        println!("{}", line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]));
    }
    Ok(0)
}

fn ps(root: &Root, id: &str, format: &str, ps_args: Vec<String>) -> anyhow::Result<i32> {
    let st = ops::state(root, id)?;
    let pid = st["pid"].as_i64().unwrap_or(0) as i32;
    let pids = if pid > 0 {
        ops::pids_of(root, id)?
    } else {
        Vec::new()
    };
    if format == "json" {
        println!("{}", serde_json::to_string(&pids)?);
        return Ok(0);
    }
    let args = if ps_args.is_empty() {
        vec!["-ef".to_string()]
    } else {
        ps_args
    };
    let out = std::process::Command::new("ps")
        .args(&args)
        .output()
        .context("run ps (install procps)")?;
    if !out.status.success() {
        bail!(
            "ps {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| anyhow::anyhow!("ps {} prints no PID column", args.join(" ")))?;
    println!("{header}");
    for l in lines {
        if l.split_whitespace()
            .nth(col)
            .and_then(|p| p.parse::<i32>().ok())
            .is_some_and(|p| pids.contains(&p))
        {
            println!("{l}");
        }
    }
    Ok(0)
}

fn exec(root: &Root, e: ExecArgs) -> anyhow::Result<i32> {
    let process = match &e.process {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("read {}", p.display()))?;
            let mut proc_: oci_spec::runtime::Process = serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a runtime-spec process", p.display()))?;
            if e.tty {
                proc_.set_terminal(Some(true));
            }
            proc_
        }
        None => {
            if e.args.is_empty() {
                bail!("exec needs a command (or --process FILE)");
            }
            let spec = ops::config_of(root, &e.id)?;
            let mut p = spec
                .process()
                .clone()
                .ok_or_else(|| anyhow::anyhow!("the container's config has no process"))?;
            p.set_args(Some(e.args.clone()));
            p.set_terminal(Some(e.tty));
            let mut env = p.env().clone().unwrap_or_default();
            for kv in &e.env {
                let key = kv.split('=').next().unwrap_or_default();
                env.retain(|x| x.split('=').next() != Some(key));
                env.push(kv.clone());
            }
            p.set_env(Some(env));
            if let Some(c) = &e.cwd {
                p.set_cwd(c.clone());
            }
            if let Some(u) = &e.user {
                let (uid, gid) = match u.split_once(':') {
                    Some((a, b)) => (a.parse::<u32>(), b.parse::<u32>()),
                    None => (u.parse::<u32>(), Ok(0)),
                };
                let (Ok(uid), Ok(gid)) = (uid, gid) else {
                    bail!("--user {u:?}: give numeric UID[:GID]");
                };
                let mut user = p.user().clone();
                user.set_uid(uid);
                user.set_gid(gid);
                p.set_user(user);
            }
            if !e.additional_gids.is_empty() {
                let mut user = p.user().clone();
                user.set_additional_gids(Some(e.additional_gids.clone()));
                p.set_user(user);
            }
            if !e.cap.is_empty() {
                let mut caps = p.capabilities().clone().unwrap_or_default();
                let add: Vec<oci_spec::runtime::Capability> = e
                    .cap
                    .iter()
                    .map(|c| {
                        let name = c.to_ascii_uppercase();
                        let name = name.strip_prefix("CAP_").unwrap_or(&name).to_string();
                        serde_json::from_value(serde_json::Value::String(format!("CAP_{name}")))
                            .map_err(|_| anyhow::anyhow!("--cap {c:?}: unknown capability"))
                    })
                    .collect::<anyhow::Result<_>>()?;
                let extend = |s: &Option<oci_spec::runtime::Capabilities>| {
                    let mut s = s.clone().unwrap_or_default();
                    s.extend(add.iter().copied());
                    Some(s)
                };
                caps.set_bounding(extend(caps.bounding()));
                caps.set_effective(extend(caps.effective()));
                caps.set_permitted(extend(caps.permitted()));
                caps.set_inheritable(extend(caps.inheritable()));
                caps.set_ambient(extend(caps.ambient()));
                p.set_capabilities(Some(caps));
            }
            if e.no_new_privs {
                p.set_no_new_privileges(Some(true));
            }
            p
        }
    };
    ops::exec(
        root,
        &e.id,
        ops::ExecRequest {
            process: Some(process),
            detach: e.detach,
            console_socket: e.console_socket,
            pid_file: e.pid_file,
        },
    )
}
