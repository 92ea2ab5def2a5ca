//! `coracle run`: raw flags, as Docker spells them.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Args)]
#[command(
    disable_help_flag = true,
    about = "Create and run a new container",
    after_help = "Images arrive in a later release: for now give the root file system with --rootfs DIR."
)]
pub struct RunArgs {
    /// Root file system directory of the container (instead of an image)
    #[arg(long, value_name = "DIR")]
    pub rootfs: Option<PathBuf>,

    /// Set environment variables (KEY=VALUE, or KEY to copy it from the caller)
    #[arg(short = 'e', long = "env", value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,

    /// Read environment variables from a file (one KEY=VALUE per line)
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<PathBuf>,

    /// Working directory inside the container (created if missing)
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    pub workdir: Option<String>,

    /// User to run as: name|uid[:group|gid]
    #[arg(short = 'u', long = "user", value_name = "USER[:GROUP]")]
    pub user: Option<String>,

    /// Container host name
    #[arg(short = 'h', long = "hostname", value_name = "NAME")]
    pub hostname: Option<String>,

    /// Bind mount a host path or mount a volume: /HOST:CONTAINER[:ro|rw], NAME:CONTAINER[:ro|rw|nocopy] (a named volume, created on first use), or CONTAINER alone (an anonymous volume)
    #[arg(short = 'v', long = "volume", value_name = "[SOURCE:]CONTAINER[:OPTS]")]
    pub volume: Vec<String>,

    /// Attach a mount: type=bind|volume|tmpfs,source=,target=[,readonly][,volume-nocopy][,tmpfs-size=][,tmpfs-mode=]
    #[arg(long = "mount", value_name = "KEY=VALUE,...")]
    pub mount: Vec<String>,

    /// Mount a tmpfs: PATH[:OPTIONS] (options as for mount, e.g. size=64m,mode=1777)
    #[arg(long = "tmpfs", value_name = "PATH[:OPTS]")]
    pub tmpfs: Vec<String>,

    /// Mount the container's root file system read-only
    #[arg(long = "read-only")]
    pub read_only: bool,

    /// Remove the container's state when it exits
    #[arg(long = "rm")]
    pub rm: bool,

    /// Run the container in the background under a monitor and print its id
    #[arg(short = 'd', long = "detach")]
    pub detach: bool,

    /// Assign a name to the container ([a-zA-Z0-9][a-zA-Z0-9_.-]*)
    #[arg(long = "name", value_name = "NAME")]
    pub name: Option<String>,

    /// Set metadata on the container (KEY=VALUE, or KEY for an empty value)
    #[arg(short = 'l', long = "label", value_name = "KEY[=VALUE]")]
    pub label: Vec<String>,

    /// Restart policy when the container exits: no, on-failure[:N], always, unless-stopped
    #[arg(long = "restart", value_name = "POLICY", default_value = "no")]
    pub restart: String,

    /// Signal that stops the container (default: the image's StopSignal, or SIGTERM)
    #[arg(long = "stop-signal", value_name = "SIGNAL")]
    pub stop_signal: Option<String>,

    /// Seconds `stop` waits for the container before it kills it (-1: forever; default 10)
    #[arg(
        long = "stop-timeout",
        value_name = "SECONDS",
        allow_negative_numbers = true
    )]
    pub stop_timeout: Option<i64>,

    /// Log options of a detached container: max-size=SIZE (e.g. 10m), max-file=N
    #[arg(long = "log-opt", value_name = "KEY=VALUE")]
    pub log_opt: Vec<String>,

    /// Command to run to check health (run by `sh -c` in the container)
    #[arg(long = "health-cmd", value_name = "COMMAND")]
    pub health_cmd: Option<String>,

    /// Time between running the check (e.g. 30s, 1m30s)
    #[arg(long = "health-interval", value_name = "DURATION")]
    pub health_interval: Option<String>,

    /// Maximum time to allow one check to run
    #[arg(long = "health-timeout", value_name = "DURATION")]
    pub health_timeout: Option<String>,

    /// Consecutive failures needed to report unhealthy
    #[arg(
        long = "health-retries",
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub health_retries: Option<i64>,

    /// Start period for the container to initialize before failures count
    #[arg(long = "health-start-period", value_name = "DURATION")]
    pub health_start_period: Option<String>,

    /// Time between running the check during the start period
    #[arg(long = "health-start-interval", value_name = "DURATION")]
    pub health_start_interval: Option<String>,

    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,

    /// Keep standard input open
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,

    /// Attach to STDIN, STDOUT or STDERR (default: stdout and stderr, and stdin with -i)
    #[arg(short = 'a', long = "attach", value_name = "STREAM")]
    pub attach: Vec<String>,

    /// Allocate a pseudo-terminal
    #[arg(short = 't', long = "tty")]
    pub tty: bool,

    /// Run coracle's minimal init as pid 1: it reaps zombies and forwards signals
    #[arg(long = "init")]
    pub init: bool,

    /// Override the entrypoint (the command's first word)
    #[arg(long = "entrypoint", value_name = "CMD")]
    pub entrypoint: Option<String>,

    /// Add a capability (e.g. NET_ADMIN, or ALL)
    #[arg(long = "cap-add", value_name = "CAP")]
    pub cap_add: Vec<String>,

    /// Drop a capability (e.g. CHOWN, or ALL)
    #[arg(long = "cap-drop", value_name = "CAP")]
    pub cap_drop: Vec<String>,

    /// Give the container every capability of its user namespace and no masked paths
    #[arg(long = "privileged")]
    pub privileged: bool,

    /// Security options: seccomp=unconfined|FILE (no filter, or a Docker/OCI JSON profile), no-new-privileges[=BOOL], landlock=unconfined
    #[arg(long = "security-opt", value_name = "OPT")]
    pub security_opt: Vec<String>,

    /// Security policy: a name (see `coracle policy ls`) or a TOML file
    #[arg(long = "policy", value_name = "NAME|FILE", default_value = crate::policy::DEFAULT)]
    pub policy: String,

    /// Resource limit: NAME=SOFT[:HARD] (e.g. nofile=1024:2048; overrides the policy's)
    #[arg(long = "ulimit", value_name = "NAME=SOFT[:HARD]")]
    pub ulimit: Vec<String>,

    /// Network: private (default, alias bridge: NATed by coracle's own user-space stack; options as private:mtu=1500,allow_host_loopback=true), none (loopback only), host, or the NAME of a network made by `network create`
    #[arg(long = "network", alias = "net", value_name = "MODE[:OPTS]|NAME", default_value = "private", value_parser = parse_network)]
    pub network: NetworkSpec,

    /// Add a name for the container on its named network (resolved by the network's DNS)
    #[arg(long = "network-alias", alias = "net-alias", value_name = "ALIAS")]
    pub network_alias: Vec<String>,

    /// Publish a container port on the host: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], ranges as 8000-8002:80-82
    #[arg(
        short = 'p',
        long = "publish",
        value_name = "[IP:][HOSTPORT:]PORT[/PROTO]"
    )]
    pub publish: Vec<String>,

    /// Publish every port the image exposes on a random host port
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,

    /// DNS server (IPv4, optionally :PORT): the private network's resolver 10.0.2.3 forwards to it (default: the host's resolvers)
    #[arg(long = "dns", value_name = "IP[:PORT]")]
    pub dns: Vec<String>,

    /// Egress rule of the private network, in order, first match wins, before the policy's: allow=CIDR[:PORTS][/tcp|/udp], deny=CIDR[:PORTS][/tcp|/udp] or host=NAME[:PORTS][/tcp|/udp] (allow NAME's IPv4 addresses, resolved on the host when the container is created; a loopback result is the host, 10.0.2.2) (PORTS: 80, 8000-8100, comma lists); with any allow rule the rest is denied, the resolver 10.0.2.3 too unless allowed (allow=10.0.2.3:53/udp)
    #[arg(
        long = "egress",
        value_name = "allow|deny=CIDR[:PORTS][/PROTO]|host=NAME"
    )]
    pub egress: Vec<String>,

    /// Add a line to /etc/hosts: NAME:IP; NAME:host-gateway is the host (on the private network it also opens the host's loopback to the container)
    #[arg(long = "add-host", value_name = "NAME:IP")]
    pub add_host: Vec<String>,

    /// User namespace mode: keep-id maps your own uid/gid to the same ids inside
    #[arg(long = "userns", value_enum)]
    pub userns: Option<UsernsArg>,

    /// Pull the image: always, missing (when not in the store), or never
    #[arg(long = "pull", value_enum, default_value_t = PullPolicy::Missing)]
    pub pull: PullPolicy,

    /// Platform of the image to pull: os/arch[/variant] (default: this host's)
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,

    /// Print help
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub help: Option<bool>,

    /// The image, then the command and its arguments (with --rootfs: only the command)
    #[arg(trailing_var_arg = true, value_name = "IMAGE] [COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NetworkArg {
    /// A network namespace of its own with a tap device NATed by coracle's stack
    #[value(alias = "bridge")]
    Private,
    /// A network namespace of its own with only the loopback interface
    None,
    /// Share the caller's network namespace
    Host,
}

/// `--network MODE[:OPTS]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec {
    pub mode: NetworkArg,
    /// `OPT=V,...` after the colon (only the private network takes any).
    pub options: String,
    /// A named network (`network create`): private mode plus its interface.
    pub name: Option<String>,
}

fn parse_network(s: &str) -> Result<NetworkSpec, String> {
    let (mode, options) = s.split_once(':').unwrap_or((s, ""));
    let mode = match mode {
        "private" | "bridge" | "default" => NetworkArg::Private,
        "none" => NetworkArg::None,
        "host" => NetworkArg::Host,
        _ if options.is_empty() && crate::net::networks::check_name(s).is_ok() => {
            return Ok(NetworkSpec {
                mode: NetworkArg::Private,
                options: String::new(),
                name: Some(s.to_string()),
            })
        }
        _ => {
            return Err(format!(
                "unknown network {mode:?}: use private (alias bridge), none, host or the name of a network (`network create`)"
            ))
        }
    };
    if !options.is_empty() && mode != NetworkArg::Private {
        return Err(format!("the {s:?} network takes no options"));
    }
    Ok(NetworkSpec {
        mode,
        options: options.to_string(),
        name: None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PullPolicy {
    Always,
    Missing,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UsernsArg {
    /// Map the caller's uid and gid to the same ids inside the container
    KeepId,
}

/// `coracle run`: plan, record, execute (here, or under a monitor with
/// `-d`), record the exit.
pub fn run(args: RunArgs) -> anyhow::Result<i32> {
    run_or_create(args, false)
}

/// `coracle create`: plans and records the container exactly as `run`,
/// prints its id and leaves it `created` for `start`.
pub fn create(args: RunArgs) -> anyhow::Result<i32> {
    if args.detach {
        anyhow::bail!("create does not take -d: a created container runs detached when `coracle start` starts it");
    }
    run_or_create(args, true)
}

fn run_or_create(args: RunArgs, create: bool) -> anyhow::Result<i32> {
    let id = crate::spec::new_id()?;
    let result = run_as(args, &id, create);
    // Bad input leaves nothing behind, not even the runtime directory.
    if result.is_err() && !crate::container::exists(&id) {
        let _ = crate::container::remove_container_files(&id);
    }
    result
}

fn run_as(args: RunArgs, id: &str, create: bool) -> anyhow::Result<i32> {
    use crate::container::{self, names, ContainerDir, Status};
    use crate::spec;

    let streams = Streams::parse(&args.attach)?;
    if args.detach && !args.attach.is_empty() {
        anyhow::bail!("Conflicting options: -a and -d");
    }
    if args.detach {
        // Its monitor becomes the shim once the container runs: say it is
        // missing before anything is made.
        crate::container::monitor::shim_path()?;
    }
    let restart = container::restart::RestartPolicy::parse(&args.restart)
        .map_err(|e| crate::error::ExitError::new(crate::error::EXIT_CORACLE, format!("{e:#}")))?;
    if args.rm && !restart.is_none() {
        anyhow::bail!("Conflicting options: --restart and --rm");
    }
    if let Some(s) = &args.stop_signal {
        super::container::parse_signal(s)?;
    }
    let labels = parse_labels(&args.label)?;
    // Checked before anything is made; merged with the image's check later.
    crate::container::health::merge(None, &health_flags(&args))?;
    let log_opts = crate::container::logs::LogOpts::parse(&args.log_opt)?;
    let name = match &args.name {
        Some(n) => {
            let n = names::validate(n)?;
            // Checked early so a clash fails before an image is pulled;
            // checked again under the lock when the record is written.
            container::ensure_name_free(&n)?;
            Some(n)
        }
        None => None,
    };
    let host = spec::HostFacts::gather()?;
    let id = id.to_string();
    // Held while the container is made (its root may take a while to
    // build before its record exists), so that `container prune` tells a
    // container being created from the remains of a crashed `run`; the
    // foreground `run` keeps it as the lock of a live runner.
    let lock = container::try_lock_monitor(&id)?
        .ok_or_else(|| anyhow::anyhow!("container {id} is already being created"))?;
    // With an image, the container gets a root of its own (removed with the
    // container); bad input removes it again.
    let (mut src, image_root, image_info, root_view) = match &args.rootfs {
        Some(_) => (spec::Source::from_rootfs(&args)?, None, None, None),
        None => {
            let (src, root, info, view) = image_source(&args, &id)?;
            (src, Some(root), Some(info), view)
        }
    };
    let cleanup_root = |root: &Option<std::path::PathBuf>| {
        if let Some(r) = root.as_ref().and_then(|r| r.parent()) {
            let _ = crate::image::store::remove(r);
        }
    };
    src.volumes_dir = match container::volumes::volumes_dir() {
        Ok(d) => d,
        Err(e) => {
            cleanup_root(&image_root);
            return Err(e);
        }
    };
    // Bad input leaves nothing behind: plan first, then create the directory.
    let plan = match spec::resolve(&args, &src, &host, &id, &ContainerDir::path_of(&id)?) {
        Ok(p) => p,
        Err(e) => {
            cleanup_root(&image_root);
            return Err(e);
        }
    };
    // Volumes are made (and filled from the root on first use) before the
    // record that names them exists; the volumes lock is held until the
    // record is written, so `volume rm` cannot remove one in between, and
    // a failure removes the new ones again.
    let read_root = src.view.clone().unwrap_or_else(|| src.rootfs.clone());
    let prepared = container::volumes::prepare(&plan.volumes, &read_root);
    // The overlay mounted for reading goes before the container mounts its own.
    drop(root_view);
    let (new_volumes, volumes_lock) = match prepared {
        Ok(v) => v,
        Err(e) => {
            cleanup_root(&image_root);
            return Err(e);
        }
    };
    let drop_new_volumes = || {
        if let Some(l) = &volumes_lock {
            for n in &new_volumes {
                let _ = container::volumes::remove_locked(l, n);
            }
        }
    };
    let created = (|| -> anyhow::Result<ContainerDir> {
        let _names = container::lock_names()?;
        let name = match name {
            Some(n) => {
                container::ensure_name_free(&n)?;
                n
            }
            None => {
                let taken: std::collections::BTreeSet<String> = container::list()?
                    .into_iter()
                    .map(|c| c.record.name)
                    .collect();
                names::generate(&id, |n| taken.contains(n))
            }
        };
        let dir = ContainerDir::create(&id)?;
        let written = (|| -> anyhow::Result<()> {
            dir.write_file(spec::HOSTS_FILE, &plan.files.hosts)?;
            dir.write_file(spec::HOSTNAME_FILE, &plan.files.hostname)?;
            dir.write_file(spec::RESOLV_FILE, &plan.files.resolv_conf)?;
            container::write_atomic(
                &dir.path.join("config.json"),
                &serde_json::to_vec_pretty(&plan.spec)?,
            )?;
            let mut rec = make_record(&args, &src, &plan, &dir, name, labels, image_info)?;
            rec.log_max_size = log_opts.max_size;
            rec.log_max_file = log_opts.max_file;
            rec.restart = restart;
            // Written last: a directory without it is not a container yet.
            rec.write(&dir.path)
        })();
        if let Err(e) = written {
            let _ = container::remove_container_files(&id);
            return Err(e);
        }
        Ok(dir)
    })();
    let dir = match created {
        Ok(d) => d,
        Err(e) => {
            cleanup_root(&image_root);
            drop_new_volumes();
            return Err(e);
        }
    };
    drop(volumes_lock);
    if let Some(w) = crate::policy::apply::warning(&plan.policy) {
        eprintln!("{w}");
    }
    if plan.single_id {
        single_id_notice(&host);
    }
    if create {
        drop(lock);
        println!("{id}");
        return Ok(0);
    }
    if args.detach {
        drop(lock);
        start_monitor(&id)?;
        println!("{id}");
        return Ok(0);
    }
    // The foreground `run` is the container's monitor: it holds the lock
    // that tells `ps` the container is run by a live process.
    let mut dir = dir;
    dir.state.monitor_pid = Some(std::process::id() as i32);
    dir.save_state()?;
    // Its own cgroup where the user's is delegated (for pause).
    let cgroup = container::cgroup::Cgroup::create(&id);
    let mut opts = plan.options.clone();
    opts.cgroup = cgroup.as_ref().map(|c| c.path().to_path_buf());
    opts.root_overlay = crate::storage::overlay_of(&dir.path)?;
    opts.root_fuse = crate::storage::fuse_of(&dir.path)?;
    opts.stdin = opts.stdin && streams.stdin;
    let result = (|| -> anyhow::Result<i32> {
        let record = crate::container::Record::read(&dir.path)?;
        // A named network: join its switch for the life of this run.
        let mut opts = opts.clone();
        if let Some(cfg) = opts.net.as_mut() {
            crate::net::switch::join_container(cfg, &record.name, &record.id, &dir.path)?;
        }
        // Without a terminal the output goes through pipes: to our stdout
        // and stderr (as far as -a attaches them), to the log (`logs`
        // works for a foreground container too) and to `attach` clients.
        // With one, the terminal's output is copied to an I/O thread that
        // logs it as stdout entries (as Docker logs a `-t` container) and
        // serves `attach` clients, whose input goes to the terminal.
        let (io, tty_log) = if args.tty {
            let log = crate::container::logs::RotatingLog::open(
                &dir.path.join(crate::container::LOG_FILE),
                crate::container::logs::LogOpts {
                    max_size: record.log_max_size,
                    max_file: record.log_max_file,
                },
            )?;
            (None, Some(log))
        } else {
            (
                Some(ForegroundIo::prepare(&dir.path, &record, &streams)?),
                None,
            )
        };
        let mut rec = Recorder {
            dir: &dir,
            health: record.healthcheck.as_ref(),
            checker: None,
            io,
            io_thread: None,
            tty_log,
            tty_tee: None,
        };
        let exit = crate::sandbox::run(&plan.spec, &opts, &mut rec);
        if let Some(c) = rec.checker.take() {
            c.stop();
        }
        // Not started: our own stdout and stderr come back all the same.
        if let Some(io) = rec.io.take() {
            io.restore();
        }
        if let Some(t) = rec.io_thread.take() {
            let _ = t.join();
        }
        let exit = exit?;
        Ok(exit.code)
    })();
    drop(cgroup);
    if args.rm {
        let mounts = crate::container::Record::read(&dir.path)
            .map(|r| r.mounts)
            .unwrap_or_default();
        // The record first (with the root inside the directory).
        dir.remove()?;
        // Docker removes a --rm container's anonymous volumes with it.
        if let Err(e) = container::volumes::remove_anonymous(&mounts) {
            eprintln!("coracle: warning: {e:#}");
        }
    } else {
        if let Ok(st) = container::read_state(&dir.path) {
            dir.state = st;
        }
        dir.state.status = Status::Exited;
        dir.state.pid = None;
        dir.state.exit_code = Some(*result.as_ref().unwrap_or(&crate::error::EXIT_CORACLE));
        dir.state.finished_at = Some(crate::container::now());
        if let Err(e) = &result {
            dir.state.error = Some(format!("{e:#}"));
        }
        // Under a restart policy the container runs on after this `run`
        // returns (as Docker's does): a monitor takes the lock over and
        // restarts it after the backoff.
        let again = result.as_ref().is_ok_and(|&code| {
            restart.should_restart(code, 0, container::restart::is_stopping(&id))
        });
        if again {
            dir.state.status = Status::Restarting;
            dir.state.restart_count = 1;
        }
        dir.save_state()?;
        if again {
            if let Err(e) = hand_over(&id, &lock) {
                dir.state.status = Status::Exited;
                dir.state.restart_count = 0;
                dir.save_state()?;
                eprintln!("coracle: warning: container {id} is not restarted: {e:#}");
            }
        }
    }
    drop(lock);
    result
}

/// Starts a monitor that restarts container `id` after its foreground run,
/// handing it the monitor lock (on its stdin) so that the container is
/// never seen without a runner.
fn hand_over(id: &str, lock: &crate::container::MonitorLock) -> anyhow::Result<()> {
    use std::process::{Command, Stdio};
    let shared = lock.share().context("share the monitor lock")?;
    Command::new("/proc/self/exe")
        .arg(crate::container::monitor::SUBCOMMAND)
        .arg(id)
        .arg(crate::container::monitor::RESUME)
        .current_dir("/")
        .stdin(Stdio::from(shared))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("start the monitor of container {id}"))?;
    Ok(())
}

/// Starts the monitor of container `id` (already recorded) and waits until
/// it reports that the command runs, or why it could not start.
pub fn start_monitor(id: &str) -> anyhow::Result<()> {
    spawn_monitor(id, false).map(drop)
}

/// Starts the monitor of `id` for `start -a`: connected to its attach
/// socket before the container starts, so nothing of its output is missed.
pub fn start_monitor_attached(id: &str) -> anyhow::Result<std::os::unix::net::UnixStream> {
    spawn_monitor(id, true)?.ok_or_else(|| {
        anyhow::anyhow!("the monitor of container {id} started it, but could not be attached to")
    })
}

fn spawn_monitor(id: &str, attach: bool) -> anyhow::Result<Option<std::os::unix::net::UnixStream>> {
    use std::io::Read;
    use std::os::fd::AsFd;
    use std::process::{Command, Stdio};
    let mut cmd = Command::new("/proc/self/exe");
    cmd.arg(crate::container::monitor::SUBCOMMAND).arg(id);
    if attach {
        cmd.arg(crate::container::monitor::ATTACH_FIRST);
    }
    cmd.current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // In a session of its own from the start: a Ctrl-C (or a kill of the
    // process group) that ends `run -d` while the monitor starts must not
    // end the monitor too.
    crate::sys::spawn_in_new_session(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| anyhow::anyhow!("start the monitor of container {id}: {e}"))?;
    let mut out = child.stdout.take();
    // `start -a`: the monitor waits for us before it starts the container;
    // it says something on the report pipe only if it fails first.
    let mut sock = None;
    if let (true, Some(o)) = (attach, &out) {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Ok(s) = crate::container::attach::connect(id) {
                sock = Some(s);
                break;
            }
            let mut fds = [PollFd::new(o.as_fd(), PollFlags::POLLIN)];
            if poll(&mut fds, PollTimeout::from(10u8)).unwrap_or(0) > 0 {
                break;
            }
        }
    }
    // Read up to `ok\n` only: with --init, the container's pid 1 (a clone
    // of the monitor that never execs) holds a copy of the pipe until the
    // container ends, so no end of file would come.
    let mut report = Vec::new();
    if let Some(out) = out.as_mut() {
        let mut buf = [0u8; 4096];
        loop {
            match out.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => report.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
            if report == b"ok\n" || report.len() > 1 << 20 {
                break;
            }
        }
    }
    let report = String::from_utf8_lossy(&report);
    // The monitor runs on (it outlives us); it is not waited for.
    drop(child);
    parse_report(id, &report)?;
    Ok(sock)
}

fn parse_report(id: &str, report: &str) -> anyhow::Result<()> {
    if report == "ok\n" {
        return Ok(());
    }
    if let Some(rest) = report.strip_prefix("error ") {
        let (code, msg) = rest.split_once('\n').unwrap_or((rest, ""));
        let code = code.parse::<i32>().unwrap_or(crate::error::EXIT_CORACLE);
        return Err(crate::error::ExitError::new(code, msg.to_string()).into());
    }
    Err(crate::error::ExitError::new(
        crate::error::EXIT_CORACLE,
        format!(
            "the monitor of container {id} ended before the container started; \
             `coracle inspect {id}` shows what is known"
        ),
    )
    .into())
}

/// `--label KEY=VALUE` (a bare KEY gets an empty value, as with Docker).
pub fn parse_labels(raw: &[String]) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut m = std::collections::BTreeMap::new();
    for l in raw {
        let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
        if k.is_empty() {
            anyhow::bail!("invalid label \"{l}\": the key is empty; use --label KEY=VALUE");
        }
        m.insert(k.to_string(), v.to_string());
    }
    Ok(m)
}

/// What the image said, kept in the container's record.
pub struct ImageInfo {
    pub id: String,
    pub stop_signal: Option<String>,
    pub healthcheck: Option<crate::container::health::HealthConfig>,
}

fn health_flags(args: &RunArgs) -> crate::container::health::HealthFlags {
    crate::container::health::HealthFlags {
        cmd: args.health_cmd.clone(),
        interval: args.health_interval.clone(),
        timeout: args.health_timeout.clone(),
        start_period: args.health_start_period.clone(),
        start_interval: args.health_start_interval.clone(),
        retries: args.health_retries,
        none: args.no_healthcheck,
    }
}

/// The record of a container from its plan.
fn make_record(
    args: &RunArgs,
    src: &crate::spec::Source,
    plan: &crate::spec::Plan,
    dir: &crate::container::ContainerDir,
    name: String,
    labels: std::collections::BTreeMap<String, String>,
    image_info: Option<ImageInfo>,
) -> anyhow::Result<crate::container::Record> {
    use crate::container::{MountRecord, Record};
    let process = plan.spec.process().clone().unwrap_or_default();
    let argv = process.args().clone().unwrap_or_default();
    let (entrypoint, cmd) = match (&args.entrypoint, &src.image) {
        (Some(ep), _) => (vec![ep.clone()], src.command.clone()),
        (None, Some(img)) => (
            img.entrypoint.clone(),
            if src.command.is_empty() {
                img.cmd.clone()
            } else {
                src.command.clone()
            },
        ),
        (None, None) => (Vec::new(), argv.clone()),
    };
    let user = args
        .user
        .clone()
        .or_else(|| src.image.as_ref().and_then(|i| i.user.clone()))
        .unwrap_or_default();
    let mounts = plan
        .user_mounts
        .iter()
        .map(|m| MountRecord {
            typ: m.typ.to_string(),
            name: m.name.clone(),
            source: m.source.display().to_string(),
            destination: m.destination.display().to_string(),
            rw: m.rw,
            anonymous: m.anonymous,
        })
        .collect();
    let healthcheck = crate::container::health::merge(
        image_info.as_ref().and_then(|i| i.healthcheck.clone()),
        &health_flags(args),
    )?;
    let image = match &args.rootfs {
        Some(r) => r.display().to_string(),
        None => args.command.first().cloned().unwrap_or_default(),
    };
    Ok(Record {
        id: plan.id.clone(),
        name,
        created: dir.state.created.clone(),
        image,
        image_id: image_info.as_ref().map(|i| i.id.clone()),
        path: argv.first().cloned().unwrap_or_default(),
        args: argv.iter().skip(1).cloned().collect(),
        entrypoint,
        cmd,
        env: process.env().clone().unwrap_or_default(),
        working_dir: process.cwd().display().to_string(),
        user,
        hostname: plan.spec.hostname().clone().unwrap_or_default(),
        labels,
        mounts,
        tty: args.tty,
        open_stdin: args.interactive,
        auto_remove: args.rm,
        init: args.init,
        stop_signal: args
            .stop_signal
            .clone()
            .or_else(|| image_info.and_then(|i| i.stop_signal)),
        stop_timeout: args.stop_timeout,
        restart: Default::default(),
        healthcheck,
        network_mode: match (&args.network.name, args.network.mode) {
            (Some(n), _) => n.as_str(),
            (None, NetworkArg::Private) => "private",
            (None, NetworkArg::None) => "none",
            (None, NetworkArg::Host) => "host",
        }
        .into(),
        net: plan.options.net.clone(),
        detached: args.detach,
        policy: Some(plan.policy.clone()),
        log_max_size: None,
        log_max_file: None,
    })
}

/// Finds (or pulls, by `--pull`) the image named first in the positionals
/// and builds the container's root from it. Returns the source and the root.
/// The last value keeps the merged root of an overlay open while `run`
/// reads it (the source's `view` path names it).
#[allow(clippy::type_complexity)]
fn image_source(
    args: &RunArgs,
    id: &str,
) -> anyhow::Result<(
    crate::spec::Source,
    std::path::PathBuf,
    ImageInfo,
    Option<crate::storage::view::View>,
)> {
    use crate::image::store::Store;
    let Some((image, command)) = args.command.split_first() else {
        anyhow::bail!("no image given: use `coracle run IMAGE [COMMAND]` or `coracle run --rootfs DIR [COMMAND]`");
    };
    let store = Store::open_default()?;
    let found = {
        let _lock = store.lock_index(false)?;
        store.read_index()?.find(image).cloned()
    };
    let record = match (args.pull, found) {
        (PullPolicy::Always, _) | (PullPolicy::Missing, None) => {
            let platform = super::image::platform(args.platform.as_deref())?;
            super::image::pull_image(&store, image, platform, false, true)?
        }
        (_, Some(r)) => r,
        (PullPolicy::Never, None) => anyhow::bail!(
            "image {image} is not in the store and --pull=never was given: pull it first with `coracle pull {image}`"
        ),
    };
    let raw_config = store.read_blob(&record.id, crate::image::pull::MAX_CONFIG_BYTES)?;
    let config: oci_spec::image::ImageConfiguration = serde_json::from_slice(&raw_config)
        .map_err(|e| anyhow::anyhow!("the config of image {image} is not valid: {e}"))?;
    let c = config.config().clone().unwrap_or_default();
    let defaults = crate::spec::ImageDefaults {
        env: c.env().clone().unwrap_or_default(),
        entrypoint: c.entrypoint().clone().unwrap_or_default(),
        cmd: c.cmd().clone().unwrap_or_default(),
        workdir: c.working_dir().clone(),
        user: c.user().clone(),
        volumes: c.volumes().clone().unwrap_or_default(),
        exposed: c.exposed_ports().clone().unwrap_or_default(),
    };
    let info = ImageInfo {
        id: record.id.to_string(),
        stop_signal: c.stop_signal().clone(),
        healthcheck: crate::container::health::from_image_config(&raw_config),
    };
    let base = crate::container::containers_dir()?.join(id);
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&base)
            .map_err(|e| anyhow::anyhow!("create {}: {e}", base.display()))?;
    }
    // `rmi` and `image prune` spare images that a container was made from.
    let made = crate::storage::choose(&store, &record).and_then(|driver| {
        crate::container::write_atomic(&base.join("image"), record.id.to_string().as_bytes())?;
        crate::storage::create(&store, &record, &base, driver)
    });
    let new_root = match made {
        Ok(r) => r,
        Err(e) => {
            let _ = crate::image::store::remove(&base);
            return Err(e);
        }
    };
    let root = new_root.path.clone();
    Ok((
        crate::spec::Source {
            rootfs: root.clone(),
            view: new_root.view.is_some().then(|| new_root.read_path()),
            image: Some(defaults),
            command: command.to_vec(),
            volumes_dir: std::path::PathBuf::new(),
        },
        root,
        info,
        new_root.view,
    ))
}

struct Recorder<'a> {
    dir: &'a crate::container::ContainerDir,
    health: Option<&'a crate::container::health::HealthConfig>,
    checker: Option<crate::container::health::Checker>,
    io: Option<ForegroundIo>,
    io_thread: Option<std::thread::JoinHandle<crate::container::logs::RotatingLog>>,
    /// The log a `-t` container's terminal output is copied into.
    tty_log: Option<crate::container::logs::RotatingLog>,
    /// Under `-t`: the write end of the copy of the terminal's output
    /// that the I/O thread reads (it logs it and serves attach clients).
    tty_tee: Option<std::fs::File>,
}

/// `-a`: which of the container's streams a foreground `run` attaches.
struct Streams {
    stdin: bool,
    stdout: bool,
    stderr: bool,
}

impl Streams {
    fn parse(raw: &[String]) -> anyhow::Result<Self> {
        if raw.is_empty() {
            return Ok(Self {
                stdin: true,
                stdout: true,
                stderr: true,
            });
        }
        let mut s = Self {
            stdin: false,
            stdout: false,
            stderr: false,
        };
        for r in raw {
            match r.to_ascii_lowercase().as_str() {
                "stdin" => s.stdin = true,
                "stdout" => s.stdout = true,
                "stderr" => s.stderr = true,
                _ => anyhow::bail!(
                    "invalid argument \"{r}\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR"
                ),
            }
        }
        Ok(s)
    }
}

/// A foreground `run`'s output without a terminal: the container writes to
/// pipes (on fds 1 and 2 while the sandbox child is cloned, so that it
/// inherits them); our own stdout and stderr are kept aside meanwhile.
struct ForegroundIo {
    out_r: std::os::fd::OwnedFd,
    err_r: std::os::fd::OwnedFd,
    saved_out: std::os::fd::OwnedFd,
    saved_err: std::os::fd::OwnedFd,
    log: crate::container::logs::RotatingLog,
    listener: Option<std::os::unix::net::UnixListener>,
    stdout: bool,
    stderr: bool,
}

impl ForegroundIo {
    fn prepare(
        dir: &std::path::Path,
        record: &crate::container::Record,
        streams: &Streams,
    ) -> anyhow::Result<Self> {
        use anyhow::Context;
        use std::os::fd::{AsFd, AsRawFd};
        let log = crate::container::logs::RotatingLog::open(
            &dir.join(crate::container::LOG_FILE),
            crate::container::logs::LogOpts {
                max_size: record.log_max_size,
                max_file: record.log_max_file,
            },
        )?;
        let saved_out = std::io::stdout().as_fd().try_clone_to_owned()?;
        let saved_err = std::io::stderr().as_fd().try_clone_to_owned()?;
        let (out_r, out_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        let (err_r, err_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        nix::unistd::dup2(out_w.as_raw_fd(), 1).context("dup2 the stdout pipe")?;
        nix::unistd::dup2(err_w.as_raw_fd(), 2).context("dup2 the stderr pipe")?;
        Ok(Self {
            out_r,
            err_r,
            saved_out,
            saved_err,
            log,
            listener: crate::container::attach::listen(&record.id).ok(),
            stdout: streams.stdout,
            stderr: streams.stderr,
        })
    }

    /// Our own stdout and stderr back on fds 1 and 2.
    fn restore(&self) {
        use std::os::fd::AsRawFd;
        let _ = nix::unistd::dup2(self.saved_out.as_raw_fd(), 1);
        let _ = nix::unistd::dup2(self.saved_err.as_raw_fd(), 2);
    }

    /// Restores our stdio and starts copying the container's output.
    fn start(self) -> Option<std::thread::JoinHandle<crate::container::logs::RotatingLog>> {
        use crate::container::attach;
        self.restore();
        let local = attach::Local {
            out: self.stdout.then(|| std::fs::File::from(self.saved_out)),
            err: self.stderr.then(|| std::fs::File::from(self.saved_err)),
        };
        let output = attach::Output::Pipes(self.out_r, self.err_r);
        let (log, listener) = (self.log, self.listener);
        std::thread::Builder::new()
            .name("io".into())
            .stack_size(256 * 1024)
            .spawn(move || attach::relay(output, None, listener, None, log, local))
            .ok()
    }
}

impl crate::sandbox::Observer for Recorder<'_> {
    fn started(&mut self, pid: i32, master: &mut Option<std::os::fd::OwnedFd>) {
        let mut st = self.dir.state.clone();
        st.status = crate::container::Status::Running;
        st.monitor_pid = Some(std::process::id() as i32);
        st.pid = Some(pid);
        st.started_at = Some(crate::container::now());
        if let Ok(json) = serde_json::to_vec_pretty(&st) {
            let _ = crate::container::write_atomic(&self.dir.path.join("state.json"), &json);
        }
        let id = self
            .dir
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        self.checker = crate::container::health::Checker::start(id, &self.dir.path, self.health);
        if let Some(io) = self.io.take() {
            self.io_thread = io.start();
        }
        if let (Some(m), Some(log)) = (master.as_ref(), self.tty_log.take()) {
            match tty_attach_server(id, m, log) {
                Ok((w, thread)) => {
                    self.tty_tee = Some(w);
                    self.io_thread = Some(thread);
                }
                // Logged at least, as before: no attach then.
                Err(log) => self.tty_log = Some(log),
            }
        }
    }

    fn tty_copy(&mut self) -> Option<Box<dyn std::io::Write + Send>> {
        if let Some(w) = self.tty_tee.take() {
            return Some(Box::new(w));
        }
        let log = self.tty_log.take()?;
        Some(Box::new(crate::container::logs::StreamLog::new(
            "stdout", log,
        )))
    }
}

/// A foreground `run -t`'s I/O thread: `sandbox::supervise` relays the
/// terminal to our own and writes a copy of its output into the pipe
/// returned; the thread (`attach::relay`) logs it and relays it to the
/// attach clients, whose input and window sizes go to the terminal. It
/// ends when the copy does (the terminal's last slave closed). Gives the
/// log back when the thread cannot be set up.
#[allow(clippy::type_complexity)]
fn tty_attach_server(
    id: &str,
    master: &std::os::fd::OwnedFd,
    log: crate::container::logs::RotatingLog,
) -> Result<
    (
        std::fs::File,
        std::thread::JoinHandle<crate::container::logs::RotatingLog>,
    ),
    crate::container::logs::RotatingLog,
> {
    use crate::container::attach;
    let Ok(listener) = attach::listen(id) else {
        return Err(log);
    };
    let (Ok(m), Ok((r, w))) = (
        master.try_clone(),
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC),
    ) else {
        return Err(log);
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("io".into())
        .stack_size(256 * 1024)
        .spawn(move || {
            // Sent right after the spawn (so a failed spawn keeps it).
            let log = rx.recv().expect("the log follows the spawn");
            let output = attach::Output::Tee { out: r, master: m };
            attach::relay(
                output,
                None,
                Some(listener),
                None,
                log,
                attach::Local::default(),
            )
        });
    match spawned {
        Ok(t) => {
            let _ = tx.send(log);
            Ok((std::fs::File::from(w), t))
        }
        Err(_) => Err(log),
    }
}

/// Says once per user what single-id mode limits and how to leave it.
fn single_id_notice(host: &crate::spec::HostFacts) {
    let Ok(data) = crate::container::data_dir() else {
        return;
    };
    let marker = data.join("single-id-notice-shown");
    if marker.exists() {
        return;
    }
    eprintln!(
        "coracle: note: single-id mode: only your own id is mapped (container root = you), so files owned by \
         other users and `-u` with other ids will not work. For the full range: \
         sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {} (and install uidmap). \
         This note is shown once.",
        host.user_name
    );
    let _ = std::fs::write(marker, b"");
}
