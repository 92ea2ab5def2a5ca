//! `coracle run`: raw flags, as Docker spells them.

use std::path::PathBuf;

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

    /// Bind mount a host path: HOST:CONTAINER[:ro|rw]
    #[arg(short = 'v', long = "volume", value_name = "HOST:CONTAINER[:OPTS]")]
    pub volume: Vec<String>,

    /// Mount a tmpfs: PATH[:OPTIONS] (options as for mount, e.g. size=64m,mode=1777)
    #[arg(long = "tmpfs", value_name = "PATH[:OPTS]")]
    pub tmpfs: Vec<String>,

    /// Mount the container's root file system read-only
    #[arg(long = "read-only")]
    pub read_only: bool,

    /// Remove the container's state when it exits
    #[arg(long = "rm")]
    pub rm: bool,

    /// Keep standard input open
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,

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

    /// Network mode: none (loopback only) or host
    #[arg(long = "network", alias = "net", value_enum, default_value_t = NetworkArg::None)]
    pub network: NetworkArg,

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
    /// A network namespace of its own with only the loopback interface
    None,
    /// Share the caller's network namespace
    Host,
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

/// `coracle run`: plan, record, execute, record the exit.
pub fn run(args: RunArgs) -> anyhow::Result<i32> {
    use crate::container::{ContainerDir, Status};
    use crate::spec;

    let host = spec::HostFacts::gather()?;
    let id = spec::new_id()?;
    // With an image, the container gets a root of its own (removed with the
    // container); bad input removes it again.
    let (src, image_root) = match &args.rootfs {
        Some(_) => (spec::Source::from_rootfs(&args)?, None),
        None => {
            let (src, root) = image_source(&args, &id)?;
            (src, Some(root))
        }
    };
    let cleanup_root = |root: &Option<std::path::PathBuf>| {
        if let Some(r) = root.as_ref().and_then(|r| r.parent()) {
            let _ = crate::image::store::remove(r);
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
    let dir = ContainerDir::create(&id)?;
    let result = (|| -> anyhow::Result<i32> {
        dir.write_file(spec::HOSTS_FILE, &plan.files.hosts)?;
        dir.write_file(spec::HOSTNAME_FILE, &plan.files.hostname)?;
        dir.write_file(spec::RESOLV_FILE, &plan.files.resolv_conf)?;
        crate::container::write_atomic(
            &dir.path.join("config.json"),
            &serde_json::to_vec_pretty(&plan.spec)?,
        )?;
        if plan.single_id {
            single_id_notice(&host);
        }
        let mut rec = Recorder { dir: &dir };
        let exit = crate::sandbox::run(&plan.spec, &plan.options, &mut rec)?;
        Ok(exit.code)
    })();
    let mut dir = dir;
    if args.rm {
        cleanup_root(&image_root);
        dir.remove()?;
    } else {
        dir.state.status = Status::Exited;
        dir.state.pid = None;
        dir.state.exit_code = Some(*result.as_ref().unwrap_or(&crate::error::EXIT_CORACLE));
        dir.state.finished_at = Some(crate::container::now());
        dir.save_state()?;
    }
    result
}

/// Finds (or pulls, by `--pull`) the image named first in the positionals
/// and builds the container's root from it. Returns the source and the root.
fn image_source(
    args: &RunArgs,
    id: &str,
) -> anyhow::Result<(crate::spec::Source, std::path::PathBuf)> {
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
    let config = store.read_blob(&record.id, crate::image::pull::MAX_CONFIG_BYTES)?;
    let config: oci_spec::image::ImageConfiguration = serde_json::from_slice(&config)
        .map_err(|e| anyhow::anyhow!("the config of image {image} is not valid: {e}"))?;
    let c = config.config().clone().unwrap_or_default();
    let defaults = crate::spec::ImageDefaults {
        env: c.env().clone().unwrap_or_default(),
        entrypoint: c.entrypoint().clone().unwrap_or_default(),
        cmd: c.cmd().clone().unwrap_or_default(),
        workdir: c.working_dir().clone(),
        user: c.user().clone(),
    };
    let base = crate::container::data_dir()?.join("containers").join(id);
    std::fs::create_dir_all(&base)
        .map_err(|e| anyhow::anyhow!("create {}: {e}", base.display()))?;
    let root = base.join("rootfs");
    // `rmi` and `image prune` spare images that a container was made from.
    if let Err(e) =
        crate::container::write_atomic(&base.join("image"), record.id.to_string().as_bytes())
            .and_then(|()| crate::image::rootfs::build(&store, &record, &root))
    {
        let _ = crate::image::store::remove(&base);
        return Err(e);
    }
    Ok((
        crate::spec::Source {
            rootfs: root.clone(),
            image: Some(defaults),
            command: command.to_vec(),
        },
        root,
    ))
}

struct Recorder<'a> {
    dir: &'a crate::container::ContainerDir,
}

impl crate::sandbox::Observer for Recorder<'_> {
    fn started(&mut self, pid: i32) {
        let mut st = self.dir.state.clone();
        st.status = crate::container::Status::Running;
        st.pid = Some(pid);
        st.started_at = Some(crate::container::now());
        if let Ok(json) = serde_json::to_vec_pretty(&st) {
            let _ = crate::container::write_atomic(&self.dir.path.join("state.json"), &json);
        }
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
