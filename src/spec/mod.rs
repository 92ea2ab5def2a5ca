//! The resolved plan of one container: raw `run` flags + facts about the host
//! become an OCI runtime-spec configuration (what the sandbox executes) plus
//! the few coracle-only options the runtime spec has no field for.
//!
//! Everything is validated here, before the first syscall that changes
//! anything.

pub mod options;
pub mod userdb;

use std::collections::HashMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use oci_spec::runtime::{
    Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxIdMapping, LinuxIdMappingBuilder,
    LinuxNamespaceBuilder, LinuxNamespaceType, Mount, MountBuilder, ProcessBuilder, RootBuilder,
    Spec, SpecBuilder, UserBuilder,
};

use crate::cli::run::{NetworkArg, RunArgs, UsernsArg};
use crate::sandbox::idmap::{self, IdMapEntry, SubidRange, UsernsMode};

/// Default PATH, as Docker sets it.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What coracle needs to know about the caller and the host to plan a run.
/// Gathered once by [`HostFacts::gather`]; tests build it by hand.
#[derive(Debug, Clone)]
pub struct HostFacts {
    pub uid: u32,
    pub gid: u32,
    pub user_name: String,
    pub subuids: Vec<SubidRange>,
    pub subgids: Vec<SubidRange>,
    /// newuidmap and newgidmap are installed and privileged.
    pub have_idmap_helpers: bool,
    /// `CAP_*` names the running kernel knows, in bit order.
    pub known_caps: Vec<String>,
    pub hosts: String,
    pub resolv_conf: String,
    pub hostname: String,
    pub env: HashMap<String, String>,
}

impl HostFacts {
    pub fn gather() -> anyhow::Result<Self> {
        let uid = nix::unistd::getuid().as_raw();
        let gid = nix::unistd::getgid().as_raw();
        let user_name = nix::unistd::User::from_uid(uid.into())
            .ok()
            .flatten()
            .map(|u| u.name)
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| uid.to_string());
        let subuids = idmap::read_subid(Path::new("/etc/subuid"), &user_name, uid)
            .context("read /etc/subuid")?;
        let subgids = idmap::read_subid(Path::new("/etc/subgid"), &user_name, uid)
            .context("read /etc/subgid")?;
        let have_idmap_helpers =
            idmap::find_helper("newuidmap").is_some() && idmap::find_helper("newgidmap").is_some();
        let last: usize = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(40);
        let mut known: Vec<(u8, String)> = caps::all()
            .into_iter()
            .filter(|c| (c.index() as usize) <= last)
            .map(|c| (c.index(), c.to_string()))
            .collect();
        known.sort();
        Ok(Self {
            uid,
            gid,
            user_name,
            subuids,
            subgids,
            have_idmap_helpers,
            known_caps: known.into_iter().map(|(_, n)| n).collect(),
            hosts: std::fs::read_to_string("/etc/hosts").unwrap_or_default(),
            resolv_conf: std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
            hostname: nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
                .unwrap_or_else(|| "localhost".into()),
            env: std::env::vars().collect(),
        })
    }

    /// Whether the full subordinate range can be used.
    pub fn full_range(&self) -> bool {
        self.have_idmap_helpers && !self.subuids.is_empty() && !self.subgids.is_empty()
    }
}

/// Options of the sandbox that the runtime spec has no field for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxOptions {
    /// Run coracle's minimal init as pid 1.
    pub init: bool,
    /// Keep stdin open (`-i`); otherwise the process reads /dev/null.
    pub stdin: bool,
    /// The container's own cgroup v2 directory, which the runner created
    /// (`container::cgroup`): the child is cloned into it. `None`: it stays
    /// in the runner's cgroup.
    pub cgroup: Option<PathBuf>,
    /// The private network (`--network private`): the child makes a tap
    /// device and the runner starts the stack helper on it.
    pub net: Option<crate::net::NetConfig>,
    /// Overlay storage: the child mounts this overlay on the root before
    /// it binds and pivots into it (`storage::overlay::mount_root`).
    pub root_overlay: Option<crate::storage::overlay::Layout>,
    /// fuse-overlay storage: the runner starts the FUSE overlay daemon on
    /// this layout in the child's namespaces before releasing it
    /// (`storage::fuse::start`).
    pub root_fuse: Option<crate::storage::overlay::Layout>,
}

/// Files coracle generates for the container and bind-mounts over the
/// rootfs's own (which stay untouched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFiles {
    pub hosts: String,
    pub hostname: String,
    pub resolv_conf: String,
}

/// A fully resolved container.
#[derive(Debug, Clone)]
pub struct Plan {
    pub id: String,
    pub spec: Spec,
    pub options: SandboxOptions,
    pub files: GeneratedFiles,
    /// Single-id mode: only one id is mapped.
    pub single_id: bool,
    pub remove: bool,
    /// The volumes the container uses (created on first use by `run`).
    pub volumes: Vec<PlannedVolume>,
    /// The user's mounts (-v, --mount, --tmpfs, image volumes), as `inspect`
    /// shows them.
    pub user_mounts: Vec<UserMount>,
    /// The security policy, as `inspect` shows it.
    pub policy: crate::policy::apply::PolicyRecord,
}

/// A named or anonymous volume a container mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVolume {
    pub name: String,
    pub anonymous: bool,
    pub destination: PathBuf,
    /// Do not copy the image's content at the destination into a new,
    /// empty volume.
    pub nocopy: bool,
}

/// One of the user's mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMount {
    /// `bind`, `volume` or `tmpfs`.
    pub typ: &'static str,
    /// The volume's name (volumes only).
    pub name: Option<String>,
    pub source: PathBuf,
    pub destination: PathBuf,
    pub rw: bool,
    pub anonymous: bool,
}

/// The directory of volume `name`'s content under the volumes directory.
pub fn volume_data(volumes_dir: &Path, name: &str) -> PathBuf {
    volumes_dir.join(name).join("_data")
}

/// Names of the generated files inside the container directory.
pub const HOSTS_FILE: &str = "hosts";
pub const HOSTNAME_FILE: &str = "hostname";
pub const RESOLV_FILE: &str = "resolv.conf";

fn to_oci_map(m: &[IdMapEntry]) -> anyhow::Result<Vec<LinuxIdMapping>> {
    m.iter()
        .map(|e| {
            LinuxIdMappingBuilder::default()
                .container_id(e.container)
                .host_id(e.host)
                .size(e.size)
                .build()
                .context("build id mapping")
        })
        .collect()
}

fn from_oci_map(m: &[LinuxIdMapping]) -> Vec<IdMapEntry> {
    m.iter()
        .map(|e| IdMapEntry {
            container: e.container_id(),
            host: e.host_id(),
            size: e.size(),
        })
        .collect()
}

/// The id maps a spec asks for, as coracle's own type.
pub fn id_maps(spec: &Spec) -> (Vec<IdMapEntry>, Vec<IdMapEntry>) {
    let linux = spec.linux().as_ref();
    let get = |m: Option<&Vec<LinuxIdMapping>>| m.map(|v| from_oci_map(v)).unwrap_or_default();
    (
        get(linux.and_then(|l| l.uid_mappings().as_ref())),
        get(linux.and_then(|l| l.gid_mappings().as_ref())),
    )
}

fn mount(dest: &str, typ: &str, source: &str, opts: &[&str]) -> anyhow::Result<Mount> {
    MountBuilder::default()
        .destination(dest)
        .typ(typ)
        .source(source)
        .options(opts.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .build()
        .with_context(|| format!("build mount {dest}"))
}

fn bind(source: &Path, dest: &Path, readonly: bool) -> anyhow::Result<Mount> {
    let mut opts = vec!["rbind".to_string(), "rprivate".to_string()];
    if readonly {
        opts.push("ro".into());
    }
    MountBuilder::default()
        .destination(dest)
        .typ("bind")
        .source(source)
        .options(opts)
        .build()
        .with_context(|| format!("build bind mount {}", dest.display()))
}

/// A new random container id: 64 lowercase hex digits, like Docker's.
pub fn new_id() -> anyhow::Result<String> {
    let mut b = [0u8; 32];
    let mut f = std::fs::File::open("/dev/urandom").context("open /dev/urandom")?;
    std::io::Read::read_exact(&mut f, &mut b).context("read /dev/urandom")?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Resolves `coracle run` flags into a plan. `state_dir` is the container's
/// own directory, where the generated files will be.
/// Where the container's files come from, and what its image asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    /// The root file system directory the sandbox pivots into.
    pub rootfs: PathBuf,
    /// Where this process reads the root's content when that is not
    /// `rootfs` itself (an overlay root, mounted only in the container:
    /// `/proc/self/fd/N` of the merged root `storage::view` opened).
    pub view: Option<PathBuf>,
    /// The image's defaults, when the root comes from an image.
    pub image: Option<ImageDefaults>,
    /// The command given on the command line (after IMAGE, or all
    /// positionals with --rootfs).
    pub command: Vec<String>,
    /// Where volumes live (`$XDG_DATA_HOME/coracle/volumes`).
    pub volumes_dir: PathBuf,
}

/// What an image's config says about running it (OCI `config` object).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageDefaults {
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    /// The image's `Volumes`: paths that get an anonymous volume unless
    /// something else is mounted there.
    pub volumes: Vec<String>,
    /// The image's `ExposedPorts` (`80/tcp`), published by `-P`.
    pub exposed: Vec<String>,
}

impl Source {
    /// `--rootfs DIR [COMMAND...]`.
    pub fn from_rootfs(args: &RunArgs) -> anyhow::Result<Self> {
        let Some(rootfs) = &args.rootfs else {
            bail!("no image or root file system given: use `coracle run IMAGE [COMMAND]` or `coracle run --rootfs DIR [COMMAND]`");
        };
        Ok(Self {
            rootfs: rootfs.clone(),
            view: None,
            image: None,
            command: args.command.clone(),
            volumes_dir: PathBuf::new(),
        })
    }
}

/// The command line of the process, by Docker's rules: `--entrypoint`
/// replaces the image's entrypoint and drops its cmd; a command replaces the
/// image's cmd. Without an image, `/bin/sh` is the default.
fn command_line(args: &RunArgs, src: &Source) -> anyhow::Result<Vec<String>> {
    let mut argv: Vec<String> = Vec::new();
    match (&args.entrypoint, &src.image) {
        (Some(ep), _) if ep.is_empty() => bail!("--entrypoint is empty: give the program to run"),
        (Some(ep), _) => argv.push(ep.clone()),
        (None, Some(img)) => argv.extend(img.entrypoint.iter().cloned()),
        (None, None) => {}
    }
    if !src.command.is_empty() {
        argv.extend(src.command.iter().cloned());
    } else if let (None, Some(img)) = (&args.entrypoint, &src.image) {
        argv.extend(img.cmd.iter().cloned());
    }
    if argv.is_empty() {
        if src.image.is_some() {
            bail!("no command specified: the image has no CMD or ENTRYPOINT, so give a command after the image name");
        }
        argv.push("/bin/sh".into());
    }
    Ok(argv)
}

/// Resolves `coracle run` flags and the container's source into a plan.
/// `state_dir` is the container's own directory, where the generated files
/// will be.
pub fn resolve(
    args: &RunArgs,
    src: &Source,
    host: &HostFacts,
    id: &str,
    state_dir: &Path,
) -> anyhow::Result<Plan> {
    let rootfs = std::fs::canonicalize(&src.rootfs).with_context(|| {
        format!(
            "root file system {}: cannot open it; pass an existing directory to --rootfs",
            src.rootfs.display()
        )
    })?;
    if !rootfs.is_dir() {
        bail!("root file system {} is not a directory", rootfs.display());
    }
    let root_dir = std::fs::File::open(src.view.as_ref().unwrap_or(&rootfs))
        .with_context(|| format!("open {}", rootfs.display()))?;

    // Id maps.
    let mode = match args.userns {
        Some(UsernsArg::KeepId) => UsernsMode::KeepId,
        None => UsernsMode::Default,
    };
    let full = host.full_range();
    let (subu, subg): (&[SubidRange], &[SubidRange]) = if full {
        (&host.subuids, &host.subgids)
    } else {
        (&[], &[])
    };
    let uid_map = idmap::compute_map(mode, host.uid, subu);
    let gid_map = idmap::compute_map(mode, host.gid, subg);

    // User.
    let read_db = |p: &str| -> anyhow::Result<String> {
        let bytes = crate::rootpath::read_in_root(root_dir.as_fd(), Path::new(p), 16 << 20)
            .with_context(|| format!("read {p} in {}", rootfs.display()))?;
        Ok(bytes
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default())
    };
    let passwd = userdb::parse_passwd(&read_db("/etc/passwd")?);
    let groups = userdb::parse_group(&read_db("/etc/group")?);
    let keep_id_user = format!("{}:{}", host.uid, host.gid);
    let image_user = src
        .image
        .as_ref()
        .and_then(|i| i.user.as_deref())
        .filter(|u| !u.is_empty());
    let user_spec = match (args.user.as_deref().or(image_user), mode) {
        (Some(u), _) => Some(u),
        (None, UsernsMode::KeepId) => Some(keep_id_user.as_str()),
        (None, UsernsMode::Default) => None,
    };
    let user = userdb::resolve(user_spec, &passwd, &groups)?;
    let not_mapped = |what: &str, id: u32| {
        let why = if full {
            "it is outside the subordinate range of /etc/subuid and /etc/subgid".to_string()
        } else {
            format!(
                "only one id is mapped because {} has no usable /etc/subuid and /etc/subgid range (single-id mode); \
                 enable the full range with: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {}",
                host.user_name, host.user_name
            )
        };
        anyhow::anyhow!("{what} {id} is not mapped into the container's user namespace: {why}")
    };
    if idmap::to_host(&uid_map, user.uid).is_none() {
        return Err(not_mapped("user", user.uid));
    }
    if idmap::to_host(&gid_map, user.gid).is_none() {
        return Err(not_mapped("group", user.gid));
    }
    // Supplementary groups need setgroups(2), which only a privileged
    // newgidmap allows; unmapped ones cannot be represented anyway.
    let additional: Vec<u32> = if full {
        user.additional_gids
            .iter()
            .copied()
            .filter(|g| idmap::to_host(&gid_map, *g).is_some())
            .collect()
    } else {
        Vec::new()
    };

    // Host name and generated files.
    let hostname = match (&args.hostname, args.network.mode) {
        (Some(h), _) => options::hostname(h)?,
        (None, NetworkArg::Host) => host.hostname.clone(),
        (None, NetworkArg::None | NetworkArg::Private) => id[..12].to_string(),
    };
    let policy = crate::policy::load(&args.policy)?;
    let net = network_config(args, src, host, state_dir, &policy)?;
    let extra_hosts = extra_hosts(args)?;
    let mut files = generated_files(args.network.mode, host, &hostname, &extra_hosts);
    if let Some(n) = net.as_ref().and_then(|c| c.named.as_ref()) {
        crate::net::networks::adjust_files(n, &mut files.hosts, &mut files.resolv_conf);
    }
    if args.network.mode != NetworkArg::Private && !args.dns.is_empty() {
        // Docker's --dns: the container's resolv.conf names these servers.
        let mut r: String = files
            .resolv_conf
            .lines()
            .filter(|l| l.split_whitespace().next() != Some("nameserver"))
            .map(|l| format!("{l}\n"))
            .collect();
        for d in &args.dns {
            r.push_str(&format!("nameserver {}\n", crate::net::parse_dns(d)?.ip()));
        }
        files.resolv_conf = r;
    }

    // Environment: defaults, then env files, then -e.
    let lookup = |k: &str| host.env.get(k).cloned();
    let mut env: Vec<(String, String)> = vec![("PATH".into(), DEFAULT_PATH.into())];
    for e in src.image.iter().flat_map(|i| &i.env) {
        if let Some((k, v)) = e.split_once('=') {
            options::env_set(&mut env, k, v);
        }
    }
    options::env_set(&mut env, "HOSTNAME", &hostname);
    options::env_set(&mut env, "container", "coracle");
    if args.tty {
        env.push(("TERM".into(), "xterm".into()));
    }
    for f in &args.env_file {
        let content =
            std::fs::read_to_string(f).with_context(|| format!("read env file {}", f.display()))?;
        for (k, v) in options::env_file(&f.display().to_string(), &content, &lookup)? {
            options::env_set(&mut env, &k, &v);
        }
    }
    for e in &args.env {
        if let Some((k, v)) = options::env_entry(e, &lookup)? {
            options::env_set(&mut env, &k, &v);
        }
    }
    if !env.iter().any(|(k, _)| k == "HOME") {
        env.push(("HOME".into(), user.home.clone()));
    }

    let argv = command_line(args, src)?;

    let image_workdir = src
        .image
        .as_ref()
        .and_then(|i| i.workdir.as_ref())
        .filter(|w| !w.is_empty());
    let cwd = match args.workdir.as_ref().or(image_workdir) {
        Some(w) if !w.starts_with('/') => {
            bail!("the working directory {w:?} is invalid: it must be an absolute path")
        }
        Some(w) => crate::rootpath::clean(Path::new(w)),
        None => PathBuf::from("/"),
    };

    // Security: the policy, with the flags over it.
    let (planned_mounts, volumes) = user_mounts(args, src)?;
    let security = crate::policy::apply::resolve(
        &policy,
        &crate::policy::apply::Flags {
            privileged: args.privileged,
            cap_add: &args.cap_add,
            cap_drop: &args.cap_drop,
            security_opt: &args.security_opt,
            read_only: args.read_only,
            ulimit: &args.ulimit,
            host_network: args.network.mode == NetworkArg::Host,
            writable_mounts: planned_mounts
                .iter()
                .filter(|m| m.rw)
                .map(|m| m.destination.clone())
                .collect(),
        },
        &host.known_caps,
    )?;
    let caps = security.caps.clone();
    let caps: std::collections::HashSet<Capability> = caps
        .iter()
        .filter_map(|c| c.strip_prefix("CAP_").and_then(|n| n.parse().ok()))
        .collect();
    let capabilities = LinuxCapabilitiesBuilder::default()
        .bounding(caps.clone())
        .effective(caps.clone())
        .permitted(caps)
        .inheritable(std::collections::HashSet::new())
        .ambient(std::collections::HashSet::new())
        .build()?;

    let process = ProcessBuilder::default()
        .terminal(args.tty)
        .user(
            UserBuilder::default()
                .uid(user.uid)
                .gid(user.gid)
                .additional_gids(additional)
                .build()?,
        )
        .args(argv)
        .env(
            env.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>(),
        )
        .cwd(cwd)
        .capabilities(capabilities)
        .no_new_privileges(security.no_new_privileges)
        .rlimits(security.rlimits.clone())
        .build()?;

    // Mounts, in the order they are made.
    let gid5 = idmap::to_host(&gid_map, 5).is_some();
    let pts_opts: Vec<&str> = if gid5 {
        vec![
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ]
    } else {
        vec![
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
        ]
    };
    let mut mounts = vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"])?,
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        )?,
        mount("/dev/pts", "devpts", "devpts", &pts_opts)?,
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        )?,
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        )?,
    ];
    mounts.push(match args.network.mode {
        // sysfs can only be mounted by the owner of the network namespace.
        NetworkArg::Host => mount(
            "/sys",
            "bind",
            "/sys",
            &["rbind", "nosuid", "noexec", "nodev", "ro"],
        )?,
        NetworkArg::None | NetworkArg::Private => mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        )?,
    });
    for dev in ["null", "zero", "full", "random", "urandom", "tty"] {
        let p = format!("/dev/{dev}");
        mounts.push(mount(&p, "bind", &p, &["bind", "nosuid", "noexec"])?);
    }
    for (file, dest) in [
        (HOSTS_FILE, "/etc/hosts"),
        (HOSTNAME_FILE, "/etc/hostname"),
        (RESOLV_FILE, "/etc/resolv.conf"),
    ] {
        mounts.push(bind(&state_dir.join(file), Path::new(dest), false)?);
    }
    let user_mounts = planned_mounts;
    for m in &user_mounts {
        mounts.push(match m.typ {
            "tmpfs" => {
                let opts: Vec<&str> = m
                    .source
                    .to_str()
                    .unwrap_or_default()
                    .split(',')
                    .filter(|o| !o.is_empty())
                    .collect();
                mount(
                    &m.destination.display().to_string(),
                    "tmpfs",
                    "tmpfs",
                    &opts,
                )?
            }
            _ => bind(&m.source, &m.destination, !m.rw)?,
        });
    }
    let user_mounts: Vec<UserMount> = user_mounts
        .into_iter()
        .map(|mut m| {
            if m.typ == "tmpfs" {
                m.source = PathBuf::new();
            }
            m
        })
        .collect();

    let mut namespaces = vec![
        LinuxNamespaceType::User,
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Cgroup,
    ];
    if args.network.mode != NetworkArg::Host {
        namespaces.push(LinuxNamespaceType::Network);
    }
    let namespaces = namespaces
        .into_iter()
        .map(|t| LinuxNamespaceBuilder::default().typ(t).build())
        .collect::<Result<Vec<_>, _>>()?;

    let mut linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .uid_mappings(to_oci_map(&uid_map)?)
        .gid_mappings(to_oci_map(&gid_map)?)
        .masked_paths(security.masked_paths.clone())
        .readonly_paths(security.readonly_paths.clone())
        .build()?;
    linux.set_seccomp(security.seccomp.clone());

    let spec = SpecBuilder::default()
        .version("1.2.0")
        .root(
            RootBuilder::default()
                .path(&rootfs)
                .readonly(security.read_only_root)
                .build()?,
        )
        .hostname(hostname)
        .process(process)
        .mounts(mounts)
        .linux(linux)
        .annotations(
            security
                .landlock
                .iter()
                .map(|l| {
                    serde_json::to_string(l)
                        .map(|v| (crate::sandbox::landlock::ANNOTATION.to_string(), v))
                })
                .collect::<Result<HashMap<_, _>, _>>()?,
        )
        .build()?;

    Ok(Plan {
        id: id.to_string(),
        spec,
        options: SandboxOptions {
            init: args.init,
            stdin: args.interactive,
            cgroup: None,
            net,
            root_overlay: None,
            root_fuse: None,
        },
        files,
        single_id: !full,
        remove: args.rm,
        volumes,
        user_mounts,
        policy: security.record,
    })
}

/// The user's mounts in mount order (parents before children): `-v`,
/// `--mount`, `--tmpfs`, then an anonymous volume for each of the image's
/// `Volumes` that nothing else is mounted on. A tmpfs carries its options
/// (comma-separated) in `source` here.
fn user_mounts(
    args: &RunArgs,
    src: &Source,
) -> anyhow::Result<(Vec<UserMount>, Vec<PlannedVolume>)> {
    let mut wanted: Vec<options::VolumeMount> = Vec::new();
    for v in &args.volume {
        wanted.push(options::volume(v)?);
    }
    for m in &args.mount {
        wanted.push(options::mount_flag_value(m)?);
    }
    for t in &args.tmpfs {
        let t = options::tmpfs(t)?;
        wanted.push(options::VolumeMount {
            source: options::VolumeSource::Tmpfs(t.options),
            destination: t.destination,
            readonly: false,
            nocopy: false,
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    for w in &mut wanted {
        w.destination = options::clean_destination(&w.destination)?;
        if !seen.insert(w.destination.clone()) {
            bail!(
                "Duplicate mount point: {}: mount one thing at each path",
                w.destination.display()
            );
        }
    }
    for v in src.image.iter().flat_map(|i| &i.volumes) {
        let dest = crate::rootpath::clean(Path::new(v));
        if seen.insert(dest.clone()) {
            wanted.push(options::VolumeMount {
                source: options::VolumeSource::Anonymous,
                destination: dest,
                readonly: false,
                nocopy: false,
            });
        }
    }
    wanted.sort_by_key(|w| w.destination.components().count());
    let mut out = Vec::new();
    let mut volumes = Vec::new();
    for w in wanted {
        let (typ, name, source, anonymous) = match w.source {
            options::VolumeSource::Host(p) => {
                let source = std::fs::canonicalize(&p).with_context(|| {
                    format!(
                        "volume source {}: no such file or directory on the host; create it first",
                        p.display()
                    )
                })?;
                ("bind", None, source, false)
            }
            options::VolumeSource::Tmpfs(mut opts) => {
                if w.readonly {
                    opts.retain(|o| o != "rw");
                    opts.push("ro".into());
                }
                ("tmpfs", None, PathBuf::from(opts.join(",")), false)
            }
            v => {
                if src.volumes_dir.as_os_str().is_empty() {
                    bail!("volumes need a data directory: set XDG_DATA_HOME or HOME");
                }
                let (name, anonymous) = match v {
                    options::VolumeSource::Named(n) => (n, false),
                    _ => (new_id()?, true),
                };
                volumes.push(PlannedVolume {
                    name: name.clone(),
                    anonymous,
                    destination: w.destination.clone(),
                    nocopy: w.nocopy,
                });
                let data = volume_data(&src.volumes_dir, &name);
                ("volume", Some(name), data, anonymous)
            }
        };
        out.push(UserMount {
            typ,
            name,
            source,
            destination: w.destination,
            rw: !w.readonly,
            anonymous,
        });
    }
    Ok((out, volumes))
}

/// The private network's plan: options, published ports, resolvers, and
/// the egress rules: `--egress` first, then `policy`'s.
fn network_config(
    args: &RunArgs,
    src: &Source,
    host: &HostFacts,
    state_dir: &Path,
    policy: &crate::policy::Policy,
) -> anyhow::Result<Option<crate::net::NetConfig>> {
    use crate::net::{ports, NetConfig};
    let mut maps = Vec::new();
    for p in &args.publish {
        maps.extend(ports::parse_publish(p)?);
    }
    if args.publish_all {
        for e in src.image.iter().flat_map(|i| i.exposed.iter()) {
            maps.extend(ports::parse_exposed(e)?);
        }
    }
    let dns = args
        .dns
        .iter()
        .map(|d| crate::net::parse_dns(d))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut egress = Vec::new();
    for r in &args.egress {
        egress.extend(crate::net::egress::parse(r)?);
    }
    if args.network.mode != NetworkArg::Private {
        if !args.network_alias.is_empty() {
            bail!("--network-alias needs a named network (--network NAME)");
        }
        if !egress.is_empty() {
            bail!("egress rules (--egress) need the private network, which enforces them");
        }
        if !maps.is_empty() {
            bail!(
                "published ports (-p, -P) need the private network, not --network {}",
                if args.network.mode == NetworkArg::Host {
                    "host"
                } else {
                    "none"
                }
            );
        }
        if let Some(d) = dns.iter().find(|d| d.port() != 53) {
            bail!("--dns {d}: a port is only possible on the private network");
        }
        return Ok(None);
    }
    ports::check_privileged(&maps)?;
    let mut cfg = NetConfig::default();
    cfg.apply_options(&args.network.options)?;
    cfg.ports = maps;
    cfg.dns = if dns.is_empty() {
        crate::net::resolvers_of(&host.resolv_conf)
    } else {
        dns
    };
    if args.add_host.iter().any(|h| {
        h.split_once(':')
            .is_some_and(|(_, ip)| ip == "host-gateway")
    }) {
        cfg.allow_host_loopback = true;
    }
    cfg.ports_file = Some(state_dir.join(crate::net::PORTS_FILE));
    // The network's own checks see the flags' rules (an internal network
    // refuses them); the policy's are added after.
    cfg.egress = egress;
    crate::net::networks::plan(&mut cfg, args.network.name.as_deref(), &args.network_alias)?;
    cfg.egress = crate::net::egress::with_policy(std::mem::take(&mut cfg.egress), policy)?;
    if !cfg.egress.is_empty() {
        cfg.denied_file = Some(state_dir.join(crate::net::DENIED_FILE));
    }
    Ok(Some(cfg))
}

/// `--add-host NAME:IP` lines; host-gateway is the host as the container
/// reaches it (the private network's gateway, or 127.0.0.1 on the host's
/// own network).
fn extra_hosts(args: &RunArgs) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for h in &args.add_host {
        let Some((name, ip)) = h.split_once(':') else {
            bail!("invalid --add-host {h:?}: use NAME:IP (or NAME:host-gateway)");
        };
        if name.is_empty() || name.chars().any(|c| c.is_whitespace()) {
            bail!("invalid --add-host {h:?}: the name is empty or has blanks");
        }
        let ip = match (ip, args.network.mode) {
            ("host-gateway", NetworkArg::Private) => crate::net::GATEWAY.to_string(),
            ("host-gateway", NetworkArg::Host) => "127.0.0.1".to_string(),
            ("host-gateway", NetworkArg::None) => {
                bail!("--add-host {h}: host-gateway needs a network; --network none has only loopback")
            }
            (ip, _) => ip
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .map_err(|_| {
                    anyhow::anyhow!("invalid --add-host {h:?}: {ip:?} is not an IP address")
                })?
                .to_string(),
        };
        out.push((name.to_string(), ip));
    }
    Ok(out)
}

fn generated_files(
    network: NetworkArg,
    host: &HostFacts,
    hostname: &str,
    extra_hosts: &[(String, String)],
) -> GeneratedFiles {
    let (mut hosts, resolv_conf) = match network {
        NetworkArg::Host => {
            let mut h = host.hosts.clone();
            if !h.is_empty() && !h.ends_with('\n') {
                h.push('\n');
            }
            h.push_str(&format!("127.0.1.1\t{hostname}\n"));
            (h, host.resolv_conf.clone())
        }
        NetworkArg::None => {
            let h = format!(
                "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n"
            );
            // The host's loopback resolvers are not reachable from here.
            let r: String = host
                .resolv_conf
                .lines()
                .filter(|l| {
                    let mut w = l.split_whitespace();
                    !(w.next() == Some("nameserver")
                        && w.next()
                            .is_some_and(|a| a.starts_with("127.") || a == "::1"))
                })
                .map(|l| format!("{l}\n"))
                .collect();
            (h, r)
        }
        NetworkArg::Private => {
            let h = format!(
                "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{}\t{hostname}\n",
                crate::net::GUEST
            );
            // The resolver is the stack's forwarder; search and options stay.
            let mut r: String = host
                .resolv_conf
                .lines()
                .filter(|l| {
                    let w = l.split_whitespace().next();
                    w == Some("search") || w == Some("domain") || w == Some("options")
                })
                .map(|l| format!("{l}\n"))
                .collect();
            r.push_str(&format!("nameserver {}\n", crate::net::DNS));
            (h, r)
        }
    };
    for (name, ip) in extra_hosts {
        hosts.push_str(&format!("{ip}\t{name}\n"));
    }
    GeneratedFiles {
        hosts,
        hostname: format!("{hostname}\n"),
        resolv_conf,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        run: RunArgs,
    }

    fn facts(full: bool) -> HostFacts {
        HostFacts {
            uid: 1000,
            gid: 1000,
            user_name: "me".into(),
            subuids: if full {
                vec![SubidRange {
                    start: 100000,
                    count: 65536,
                }]
            } else {
                vec![]
            },
            subgids: if full {
                vec![SubidRange {
                    start: 100000,
                    count: 65536,
                }]
            } else {
                vec![]
            },
            have_idmap_helpers: true,
            known_caps: caps::all().iter().map(|c| c.to_string()).collect(),
            hosts: "127.0.0.1 localhost\n".into(),
            resolv_conf: "nameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch lan\n".into(),
            hostname: "hosty".into(),
            env: [("FROMHOST".to_string(), "yes".to_string())]
                .into_iter()
                .collect(),
        }
    }

    fn rootfs() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("etc")).unwrap();
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("etc/group"),
            "root:x:0:\naudio:x:29:user\nuser:x:1000:\n",
        )
        .unwrap();
        d
    }

    fn plan(args: &[&str], full: bool) -> anyhow::Result<Plan> {
        let r = rootfs();
        let mut v = vec!["t", "--rootfs", r.path().to_str().unwrap()];
        v.extend_from_slice(args);
        let t = T::try_parse_from(v).unwrap();
        let mut src = Source::from_rootfs(&t.run).unwrap();
        src.volumes_dir = PathBuf::from("/vols");
        resolve(
            &t.run,
            &src,
            &facts(full),
            &"ab".repeat(32),
            Path::new("/state"),
        )
    }

    fn image_plan(args: &[&str], image: ImageDefaults, command: &[&str]) -> anyhow::Result<Plan> {
        let r = rootfs();
        let mut v = vec!["t"];
        v.extend_from_slice(args);
        let t = T::try_parse_from(v).unwrap();
        let src = Source {
            rootfs: r.path().to_path_buf(),
            view: None,
            image: Some(image),
            command: command.iter().map(|s| s.to_string()).collect(),
            volumes_dir: PathBuf::from("/vols"),
        };
        resolve(
            &t.run,
            &src,
            &facts(true),
            &"ab".repeat(32),
            Path::new("/state"),
        )
    }

    fn args_of(p: &Plan) -> Vec<String> {
        p.spec.process().as_ref().unwrap().args().clone().unwrap()
    }

    #[test]
    fn image_defaults_follow_docker_rules() {
        let img = ImageDefaults {
            env: vec!["PATH=/opt/bin:/bin".into(), "LANG=C.UTF-8".into()],
            entrypoint: vec!["/entry".into(), "--flag".into()],
            cmd: vec!["serve".into()],
            workdir: Some("/srv".into()),
            user: Some("user".into()),
            volumes: vec![],
            exposed: vec![],
        };
        let p = image_plan(&[], img.clone(), &[]).unwrap();
        assert_eq!(args_of(&p), vec!["/entry", "--flag", "serve"]);
        let env = env_of(&p);
        assert!(env.contains(&"PATH=/opt/bin:/bin".to_string()), "{env:?}");
        assert!(env.contains(&"LANG=C.UTF-8".to_string()));
        assert_eq!(p.spec.process().as_ref().unwrap().cwd(), Path::new("/srv"));
        assert_eq!(p.spec.process().as_ref().unwrap().user().uid(), 1000);
        // A command replaces CMD only.
        assert_eq!(
            args_of(&image_plan(&[], img.clone(), &["x"]).unwrap()),
            vec!["/entry", "--flag", "x"]
        );
        // --entrypoint replaces ENTRYPOINT and drops CMD.
        assert_eq!(
            args_of(&image_plan(&["--entrypoint", "/bin/ls"], img.clone(), &[]).unwrap()),
            vec!["/bin/ls"]
        );
        // Flags win over the image.
        let p = image_plan(&["-u", "0", "-w", "/", "-e", "LANG=X"], img, &[]).unwrap();
        assert_eq!(p.spec.process().as_ref().unwrap().user().uid(), 0);
        assert!(env_of(&p).contains(&"LANG=X".to_string()));
        // No command at all is an error with images.
        let e = image_plan(&[], ImageDefaults::default(), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("no command specified"), "{e}");
    }

    fn env_of(p: &Plan) -> Vec<String> {
        p.spec.process().as_ref().unwrap().env().clone().unwrap()
    }

    #[test]
    fn defaults_follow_docker() {
        let p = plan(&[], true).unwrap();
        let proc_ = p.spec.process().as_ref().unwrap();
        assert_eq!(proc_.args().as_ref().unwrap(), &vec!["/bin/sh".to_string()]);
        assert_eq!(p.spec.hostname().as_deref(), Some("abababababab"));
        assert_eq!(proc_.user().uid(), 0);
        assert_eq!(proc_.no_new_privileges(), Some(true));
        let env = env_of(&p);
        assert!(env.contains(&format!("PATH={DEFAULT_PATH}")));
        assert!(env.contains(&"HOME=/root".to_string()));
        assert!(env.contains(&"HOSTNAME=abababababab".to_string()));
        let caps = proc_.capabilities().as_ref().unwrap();
        assert_eq!(caps.bounding().as_ref().unwrap().len(), 14);
        assert!(caps.inheritable().as_ref().unwrap().is_empty());
        let ns = p
            .spec
            .linux()
            .as_ref()
            .unwrap()
            .namespaces()
            .as_ref()
            .unwrap();
        assert_eq!(ns.len(), 7);
        assert!(!p.single_id);
        // The private network (the default): the stack's resolver inside,
        // which forwards to the host's (loopback ones too: the helper runs
        // on the host's network).
        assert!(p.files.resolv_conf.contains("nameserver 10.0.2.3"));
        let net = p.options.net.as_ref().expect("the private network");
        assert!(net.dns.contains(&"10.0.0.1:53".parse().unwrap()));
        assert!(net.dns.contains(&"127.0.0.53:53".parse().unwrap()));
        let p = plan(&["--network", "none"], true).unwrap();
        assert!(
            p.files.resolv_conf.contains("10.0.0.1") && !p.files.resolv_conf.contains("127.0.0.53")
        );
        assert!(p.options.net.is_none());
    }

    #[test]
    fn user_and_groups_resolve_in_full_mode() {
        let p = plan(&["-u", "user"], true).unwrap();
        let u = p.spec.process().as_ref().unwrap().user().clone();
        assert_eq!((u.uid(), u.gid()), (1000, 1000));
        assert_eq!(u.additional_gids().as_ref().unwrap(), &vec![29]);
        assert!(env_of(&p).contains(&"HOME=/home/user".to_string()));
    }

    #[test]
    fn single_id_refuses_unmapped_users_with_a_fix() {
        let e = plan(&["-u", "user"], false).unwrap_err().to_string();
        assert!(e.contains("user 1000 is not mapped"), "{e}");
        assert!(e.contains("usermod --add-subuids"), "{e}");
        let p = plan(&[], false).unwrap();
        assert!(p.single_id);
        let (u, _) = id_maps(&p.spec);
        assert_eq!(
            u,
            vec![IdMapEntry {
                container: 0,
                host: 1000,
                size: 1
            }]
        );
    }

    #[test]
    fn keep_id_runs_as_the_caller() {
        let p = plan(&["--userns", "keep-id"], false).unwrap();
        assert_eq!(p.spec.process().as_ref().unwrap().user().uid(), 1000);
    }

    #[test]
    fn env_order_and_sources() {
        let p = plan(
            &[
                "-e", "A=1", "-e", "FROMHOST", "-e", "PATH=/x", "-e", "MISSING", "-t",
            ],
            true,
        )
        .unwrap();
        let env = env_of(&p);
        assert!(env.contains(&"A=1".to_string()));
        assert!(env.contains(&"FROMHOST=yes".to_string()));
        assert!(env.contains(&"PATH=/x".to_string()));
        assert!(env.contains(&"TERM=xterm".to_string()));
        assert!(!env.iter().any(|e| e.starts_with("MISSING")));
    }

    #[test]
    fn entrypoint_and_command() {
        let p = plan(&["--entrypoint", "/bin/echo", "a", "-n"], true).unwrap();
        assert_eq!(
            p.spec.process().as_ref().unwrap().args().as_ref().unwrap(),
            &vec!["/bin/echo", "a", "-n"]
        );
    }

    #[test]
    fn bad_input_is_refused_with_the_reason() {
        for (args, want) in [
            (vec!["-w", "rel"], "must be an absolute path"),
            (vec!["-h", "bad_name"], "invalid hostname"),
            (vec!["-v", "/definitely/missing:/x"], "/definitely/missing"),
            (vec!["-v", "./vol:/x"], "use absolute path"),
            (
                vec!["-v", "/tmp:/x", "--tmpfs", "/x"],
                "Duplicate mount point",
            ),
            (vec!["--mount", "type=bind,src=/tmp"], "target is required"),
            (vec!["--cap-add", "FLY"], "unknown capability"),
            (vec!["-u", "ghost"], "unable to find user ghost"),
        ] {
            let e = format!("{:#}", plan(&args, true).unwrap_err());
            assert!(e.contains(want), "{args:?}: {e}");
        }
    }

    #[test]
    fn privileged_unmasks_and_grants_all() {
        let p = plan(&["--privileged"], true).unwrap();
        let l = p.spec.linux().as_ref().unwrap();
        assert!(l.masked_paths().as_ref().unwrap().is_empty());
        assert_eq!(
            p.spec.process().as_ref().unwrap().no_new_privileges(),
            Some(false)
        );
        let n = p
            .spec
            .process()
            .as_ref()
            .unwrap()
            .capabilities()
            .as_ref()
            .unwrap()
            .bounding()
            .as_ref()
            .unwrap()
            .len();
        assert!(n > 14);
    }

    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[test]
    fn seccomp_profile_unless_unconfined_or_privileged() {
        let seccomp = |args: &[&str]| {
            plan(args, true)
                .unwrap()
                .spec
                .linux()
                .as_ref()
                .unwrap()
                .seccomp()
                .is_some()
        };
        assert!(seccomp(&[]));
        assert!(seccomp(&["--security-opt", "no-new-privileges"]));
        assert!(!seccomp(&["--security-opt", "seccomp=unconfined"]));
        assert!(!seccomp(&["--security-opt", "seccomp:unconfined"]));
        assert!(!seccomp(&["--privileged"]));
        for bad in ["seccomp=/nonexistent/x.json", "label=disable", "seccomp="] {
            assert!(plan(&["--security-opt", bad], true).is_err(), "{bad}");
        }
        let nnp = |args: &[&str]| {
            plan(args, true)
                .unwrap()
                .spec
                .process()
                .as_ref()
                .unwrap()
                .no_new_privileges()
        };
        assert_eq!(
            nnp(&["--security-opt", "no-new-privileges=false"]),
            Some(false)
        );
        assert_eq!(nnp(&["--policy", "unconfined"]), Some(false));
        assert!(!seccomp(&["--policy", "unconfined"]));
    }

    #[test]
    fn spec_round_trips_through_json() {
        let p = plan(&["-v", "/tmp:/mnt:ro", "--tmpfs", "/s:size=1m"], true).unwrap();
        let json = serde_json::to_string(&p.spec).unwrap();
        let back: Spec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p.spec);
    }

    #[test]
    fn volumes_are_planned_with_image_volumes_anonymous() {
        let img = ImageDefaults {
            cmd: vec!["sh".into()],
            volumes: vec!["/data".into(), "/cache/".into()],
            exposed: vec![],
            ..Default::default()
        };
        let p = image_plan(
            &[
                "-v",
                "named:/data:ro",
                "--mount",
                "type=tmpfs,dst=/t",
                "-v",
                "/tmp:/a/b",
            ],
            img,
            &[],
        )
        .unwrap();
        assert_eq!(p.volumes.len(), 2, "{:?}", p.volumes);
        assert_eq!(p.volumes[0].name, "named");
        assert!(!p.volumes[0].anonymous);
        assert!(p.volumes[1].anonymous && p.volumes[1].name.len() == 64);
        assert_eq!(p.volumes[1].destination, Path::new("/cache"));
        let typs: Vec<(&str, &Path)> = p
            .user_mounts
            .iter()
            .map(|m| (m.typ, m.destination.as_path()))
            .collect();
        // Parents before children.
        assert_eq!(
            typs,
            vec![
                ("volume", Path::new("/data")),
                ("tmpfs", Path::new("/t")),
                ("volume", Path::new("/cache")),
                ("bind", Path::new("/a/b")),
            ]
        );
        let data = p
            .spec
            .mounts()
            .iter()
            .flatten()
            .find(|m| m.destination() == Path::new("/data"))
            .unwrap();
        assert_eq!(
            data.source().as_deref(),
            Some(Path::new("/vols/named/_data"))
        );
        assert!(data.options().iter().flatten().any(|o| o == "ro"));
    }

    #[test]
    fn host_network_shares_the_host_name() {
        let p = plan(&["--network", "host"], true).unwrap();
        assert_eq!(p.spec.hostname().as_deref(), Some("hosty"));
        let ns = p
            .spec
            .linux()
            .as_ref()
            .unwrap()
            .namespaces()
            .as_ref()
            .unwrap();
        assert!(!ns.iter().any(|n| n.typ() == LinuxNamespaceType::Network));
    }
}
