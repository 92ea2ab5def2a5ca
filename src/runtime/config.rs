//! A bundle's config.json checked against what coracle-runtime honours, and
//! turned into the plan the container's process executes: every field that
//! cannot be honoured fails `create` naming it (never silently dropped).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use oci_spec::runtime::{LinuxDeviceType, LinuxNamespaceType, Mount, MountBuilder, Spec};

/// The plan of one `create`.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The config with the root made absolute and the mounts the runtime
    /// adds (default devices, `linux.devices`, sysfs/cgroup fallbacks).
    pub spec: Spec,
    /// Namespaces given by path: (type, path), user first.
    pub join: Vec<(LinuxNamespaceType, PathBuf)>,
    /// Namespaces to create (CLONE_NEW* flags).
    pub new_flags: nix::sched::CloneFlags,
    /// A new time namespace, with its clock offsets (`linux.timeOffsets`
    /// as /proc/self/timens_offsets lines). The init makes it with
    /// unshare after the others; its execve enters it.
    pub new_time: Option<Vec<String>>,
}

/// CLONE_NEWTIME (linux/sched.h), which nix does not name.
pub const CLONE_NEWTIME: nix::sched::CloneFlags =
    nix::sched::CloneFlags::from_bits_retain(0x0000_0080);

/// The devices every container gets (runtime-spec config-linux.md
/// "Default Devices"), bound from the host: an unprivileged runtime cannot
/// mknod.
pub const DEFAULT_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
];

pub fn flag_of(t: LinuxNamespaceType) -> nix::sched::CloneFlags {
    use nix::sched::CloneFlags as F;
    match t {
        LinuxNamespaceType::User => F::CLONE_NEWUSER,
        LinuxNamespaceType::Mount => F::CLONE_NEWNS,
        LinuxNamespaceType::Pid => F::CLONE_NEWPID,
        LinuxNamespaceType::Uts => F::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => F::CLONE_NEWIPC,
        LinuxNamespaceType::Cgroup => F::CLONE_NEWCGROUP,
        LinuxNamespaceType::Network => F::CLONE_NEWNET,
        LinuxNamespaceType::Time => CLONE_NEWTIME,
    }
}

pub fn ns_name(t: LinuxNamespaceType) -> &'static str {
    match t {
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Mount => "mnt",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Network => "net",
        LinuxNamespaceType::Time => "time",
    }
}

/// Reads `BUNDLE/config.json`.
pub fn load(bundle: &Path) -> anyhow::Result<(Spec, Vec<u8>)> {
    let p = bundle.join("config.json");
    let bytes = std::fs::read(&p).with_context(|| format!("read {}", p.display()))?;
    let spec: Spec = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a valid runtime-spec configuration", p.display()))?;
    Ok((spec, bytes))
}

fn unsupported(field: &str, why: &str) -> anyhow::Error {
    anyhow::anyhow!("{field}: {why}; remove it from config.json")
}

fn set_nonempty<T>(v: &Option<Vec<T>>) -> bool {
    v.as_ref().is_some_and(|v| !v.is_empty())
}

/// Checks `spec` and makes the plan. `bundle` is absolute.
pub fn plan(mut spec: Spec, bundle: &Path) -> anyhow::Result<Plan> {
    let version = spec.version().clone();
    if !version.starts_with("1.") {
        bail!(
            "ociVersion {version:?} is not supported (coracle-runtime implements runtime-spec 1.x)"
        );
    }
    // root.path: relative to the bundle.
    let mut root = spec
        .root()
        .clone()
        .ok_or_else(|| anyhow::anyhow!("root: config.json has no root file system"))?;
    let rp = if root.path().is_absolute() {
        root.path().clone()
    } else {
        bundle.join(root.path())
    };
    if !rp.is_dir() {
        bail!("root.path: {} is not a directory", rp.display());
    }
    root.set_path(rp);
    spec.set_root(Some(root));

    let process = spec
        .process()
        .clone()
        .ok_or_else(|| anyhow::anyhow!("process: config.json has no process to run"))?;
    if process.args().as_ref().is_none_or(|a| a.is_empty()) {
        bail!("process.args: no command given");
    }
    if !process.cwd().is_absolute() {
        bail!("process.cwd: {} is not absolute", process.cwd().display());
    }
    if process
        .apparmor_profile()
        .as_ref()
        .is_some_and(|s| !s.is_empty())
    {
        return Err(unsupported(
            "process.apparmorProfile",
            "AppArmor profiles are not supported by coracle-runtime (an unprivileged process cannot load or change to one)",
        ));
    }
    if process
        .selinux_label()
        .as_ref()
        .is_some_and(|s| !s.is_empty())
    {
        return Err(unsupported(
            "process.selinuxLabel",
            "SELinux labels are not supported by coracle-runtime",
        ));
    }
    if process.io_priority().is_some() {
        return Err(unsupported("process.ioPriority", "not supported"));
    }
    if process.scheduler().is_some() {
        return Err(unsupported("process.scheduler", "not supported"));
    }
    if process.exec_cpu_affinity().is_some() {
        return Err(unsupported("process.execCPUAffinity", "not supported"));
    }
    let mut rl_seen = Vec::new();
    for r in process.rlimits().as_deref().unwrap_or_default() {
        if rl_seen.contains(&r.typ()) {
            bail!("process.rlimits: {:?} is listed twice", r.typ());
        }
        rl_seen.push(r.typ());
        if r.soft() > r.hard() {
            bail!(
                "process.rlimits: {:?} soft limit {} is above its hard limit {}",
                r.typ(),
                r.soft(),
                r.hard()
            );
        }
    }

    let linux = spec
        .linux()
        .clone()
        .ok_or_else(|| anyhow::anyhow!("linux: config.json has no linux section"))?;
    if linux.mount_label().as_ref().is_some_and(|s| !s.is_empty()) {
        return Err(unsupported(
            "linux.mountLabel",
            "SELinux labels are not supported",
        ));
    }
    if linux.intel_rdt().is_some() {
        return Err(unsupported("linux.intelRdt", "not supported"));
    }
    if linux.memory_policy().is_some() {
        return Err(unsupported("linux.memoryPolicy", "not supported"));
    }
    if linux.personality().is_some() {
        return Err(unsupported("linux.personality", "not supported"));
    }
    if linux.net_devices().as_ref().is_some_and(|t| !t.is_empty()) {
        return Err(unsupported("linux.netDevices", "not supported"));
    }
    if let Some(p) = linux.rootfs_propagation() {
        if !matches!(
            p.as_str(),
            "" | "private"
                | "rprivate"
                | "slave"
                | "rslave"
                | "shared"
                | "rshared"
                | "unbindable"
                | "runbindable"
        ) {
            bail!("linux.rootfsPropagation: {p:?} is not a propagation mode");
        }
    }
    if let Some(res) = linux.resources() {
        if *res != oci_spec::runtime::LinuxResources::default() {
            super::warn(
                "linux.resources: ignored; coracle-runtime does not manage cgroups (no limits are applied)",
            );
        }
    }
    if let Some(sc) = linux.seccomp() {
        if sc.listener_path().is_some() {
            return Err(unsupported(
                "linux.seccomp.listenerPath",
                "seccomp user notification is not supported",
            ));
        }
        if set_nonempty(sc.flags()) {
            return Err(unsupported(
                "linux.seccomp.flags",
                "seccomp flags are not supported",
            ));
        }
        crate::sandbox::seccomp::compile(sc)
            .map_err(|e| anyhow::anyhow!("linux.seccomp: {}", e.message))?;
    }
    for (k, _) in linux.sysctl().clone().unwrap_or_default() {
        if k.is_empty()
            || k.contains('/') && k.contains('.')
            || k.split(['.', '/']).any(|p| p.is_empty() || p == "..")
        {
            bail!("linux.sysctl: {k:?} is not a sysctl name");
        }
    }

    // Namespaces.
    let mut seen = Vec::new();
    let mut join = Vec::new();
    let mut new_flags = nix::sched::CloneFlags::empty();
    for n in linux.namespaces().as_deref().unwrap_or_default() {
        let t = n.typ();
        if seen.contains(&t) {
            bail!(
                "linux.namespaces: the {} namespace is listed twice",
                ns_name(t)
            );
        }
        seen.push(t);
        match n.path() {
            Some(p) => {
                if !p.is_absolute() {
                    bail!(
                        "linux.namespaces: path {} of the {} namespace is not absolute",
                        p.display(),
                        ns_name(t)
                    );
                }
                if std::fs::metadata(p).is_err() {
                    bail!(
                        "linux.namespaces: the {} namespace {} does not exist",
                        ns_name(t),
                        p.display()
                    );
                }
                join.push((t, p.clone()));
            }
            None if t == LinuxNamespaceType::Time => {}
            None => new_flags |= flag_of(t),
        }
    }
    let new_time = time_namespace(&linux, &seen, &join)?;
    join.sort_by_key(|(t, _)| *t != LinuxNamespaceType::User);
    let has = |t| seen.contains(&t);
    if !has(LinuxNamespaceType::Mount) {
        bail!("linux.namespaces: coracle-runtime needs a mount namespace (add {{\"type\": \"mount\"}})");
    }
    let user_new = new_flags.contains(nix::sched::CloneFlags::CLONE_NEWUSER);
    let user_join = join.iter().any(|(t, _)| *t == LinuxNamespaceType::User);
    if user_join && new_flags.contains(nix::sched::CloneFlags::CLONE_NEWPID) {
        return Err(unsupported(
            "linux.namespaces",
            "joining a user namespace by path together with a new pid namespace is not supported",
        ));
    }
    let maps = set_nonempty(linux.uid_mappings()) || set_nonempty(linux.gid_mappings());
    if maps && !user_new {
        bail!("linux.uidMappings: id mappings need a new user namespace in linux.namespaces");
    }
    if user_new && !(set_nonempty(linux.uid_mappings()) && set_nonempty(linux.gid_mappings())) {
        bail!("linux.uidMappings, linux.gidMappings: a new user namespace needs both mappings (`coracle-runtime spec --rootless` shows an example)");
    }
    if spec.hostname().as_ref().is_some_and(|h| !h.is_empty()) && !has(LinuxNamespaceType::Uts) {
        bail!("hostname: setting the host name needs a uts namespace in linux.namespaces");
    }
    if spec.domainname().as_ref().is_some_and(|h| !h.is_empty()) && !has(LinuxNamespaceType::Uts) {
        bail!("domainname: setting the domain name needs a uts namespace in linux.namespaces");
    }

    if let Some(h) = spec.hooks() {
        for (kind, list) in [
            ("prestart", h.prestart()),
            ("createRuntime", h.create_runtime()),
            ("createContainer", h.create_container()),
            ("startContainer", h.start_container()),
            ("poststart", h.poststart()),
            ("poststop", h.poststop()),
        ] {
            for hk in list.as_deref().unwrap_or_default() {
                if !hk.path().is_absolute() {
                    bail!("hooks.{kind}: path {} is not absolute", hk.path().display());
                }
                if hk.timeout().is_some_and(|t| t <= 0) {
                    bail!("hooks.{kind}: timeout must be greater than zero");
                }
            }
        }
    }

    // Mounts, plus what the runtime adds.
    let net_new = new_flags.contains(nix::sched::CloneFlags::CLONE_NEWNET);
    let cgroup_new = new_flags.contains(nix::sched::CloneFlags::CLONE_NEWCGROUP);
    let cgroup2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let mut mounts: Vec<Mount> = Vec::new();
    for m in spec.mounts().clone().unwrap_or_default() {
        let mut m = m;
        if !m.destination().is_absolute() {
            m.set_destination(Path::new("/").join(m.destination()));
        }
        let opts = m.options().clone().unwrap_or_default();
        for o in &opts {
            if matches!(o.as_str(), "idmap" | "ridmap") || o.starts_with("X-mount.idmap") {
                return Err(unsupported(
                    &format!("mounts ({}): option {o}", m.destination().display()),
                    "id-mapped mounts are not supported",
                ));
            }
        }
        if m.uid_mappings().is_some() || m.gid_mappings().is_some() {
            return Err(unsupported(
                &format!("mounts ({}): uidMappings", m.destination().display()),
                "id-mapped mounts are not supported",
            ));
        }
        let typ = m.typ().clone().unwrap_or_default();
        // Only the owner of a network namespace may mount sysfs, and a
        // cgroup file system needs its own cgroup namespace: bind the
        // host's instead, read-only (as runc does for rootless containers).
        if (typ == "sysfs" && !net_new) || (typ == "cgroup" || typ == "cgroup2") && !cgroup_new {
            let src = if typ == "sysfs" {
                "/sys"
            } else {
                "/sys/fs/cgroup"
            };
            let mut o: Vec<String> = opts
                .iter()
                .filter(|o| crate::spec::options::mount_flag(o).is_some())
                .cloned()
                .collect();
            o.push("rbind".into());
            if !o.iter().any(|x| x == "ro") {
                o.push("ro".into());
            }
            m = MountBuilder::default()
                .destination(m.destination().clone())
                .typ("bind")
                .source(src)
                .options(o)
                .build()?;
        } else if typ == "cgroup" && cgroup2 {
            m.set_typ(Some("cgroup2".into()));
        }
        if let Some(s) = m.source().clone() {
            let is_bind = typ == "bind" || opts.iter().any(|o| o == "bind" || o == "rbind");
            if is_bind && !s.is_absolute() {
                m.set_source(Some(bundle.join(s)));
            }
        }
        mounts.push(m);
    }
    let dests: Vec<PathBuf> = mounts.iter().map(|m| m.destination().clone()).collect();
    let bind_dev = |path: &Path| -> anyhow::Result<Mount> {
        Ok(MountBuilder::default()
            .destination(path)
            .typ("bind")
            .source(path)
            .options(vec![
                "bind".to_string(),
                "nosuid".to_string(),
                "noexec".to_string(),
            ])
            .build()?)
    };
    for d in DEFAULT_DEVICES {
        if !dests.iter().any(|x| x == Path::new(d)) && Path::new(d).exists() {
            mounts.push(bind_dev(Path::new(d))?);
        }
    }
    for dev in linux.devices().clone().unwrap_or_default() {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let p = dev.path();
        let field = format!("linux.devices ({})", p.display());
        let md = std::fs::metadata(p).map_err(|_| {
            unsupported(
                &field,
                "an unprivileged runtime cannot create device nodes and the host has none at that path",
            )
        })?;
        let ft = md.file_type();
        let type_ok = match dev.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => ft.is_char_device(),
            LinuxDeviceType::B => ft.is_block_device(),
            LinuxDeviceType::P => ft.is_fifo(),
            LinuxDeviceType::A => false,
        };
        let rdev = md.rdev();
        let (maj, min) = (libc::major(rdev) as i64, libc::minor(rdev) as i64);
        if !type_ok || (dev.typ() != LinuxDeviceType::P && (maj, min) != (dev.major(), dev.minor()))
        {
            return Err(unsupported(
                &field,
                &format!(
                    "the host's {} is not that device ({}:{}), and an unprivileged runtime cannot create device nodes",
                    p.display(),
                    dev.major(),
                    dev.minor()
                ),
            ));
        }
        if !dests.iter().any(|x| x == p) {
            mounts.push(bind_dev(p)?);
        }
    }
    spec.set_mounts(Some(mounts));
    Ok(Plan {
        spec,
        join,
        new_flags,
        new_time,
    })
}

/// A new time namespace's offsets (config-linux.md "Offset for Time
/// Namespace"): `linux.timeOffsets` needs a new time namespace, and only
/// the monotonic and boottime clocks can be offset.
fn time_namespace(
    linux: &oci_spec::runtime::Linux,
    seen: &[LinuxNamespaceType],
    join: &[(LinuxNamespaceType, PathBuf)],
) -> anyhow::Result<Option<Vec<String>>> {
    let joined = join.iter().any(|(t, _)| *t == LinuxNamespaceType::Time);
    let new = seen.contains(&LinuxNamespaceType::Time) && !joined;
    let offsets = linux.time_offsets().clone().unwrap_or_default();
    if !offsets.is_empty() && !new {
        bail!("linux.timeOffsets: clock offsets need a new time namespace in linux.namespaces ({{\"type\": \"time\"}} without a path)");
    }
    if !new {
        return Ok(None);
    }
    let mut lines = Vec::new();
    let mut clocks: Vec<_> = offsets.into_iter().collect();
    clocks.sort_by(|a, b| a.0.cmp(&b.0));
    for (clock, o) in clocks {
        if clock != "monotonic" && clock != "boottime" {
            bail!("linux.timeOffsets: clock {clock:?} cannot be offset: use \"monotonic\" or \"boottime\"");
        }
        let nanos = o.nanosecs().unwrap_or(0);
        if nanos >= 1_000_000_000 {
            bail!("linux.timeOffsets.{clock}.nanosecs: {nanos} is not below one second");
        }
        lines.push(format!("{clock} {} {nanos}", o.secs().unwrap_or(0)));
    }
    Ok(Some(lines))
}

/// `coracle-runtime features`: what this runtime implements (runtime-spec
/// features.md), kept in step with [`plan`] and the container's init.
pub fn features() -> serde_json::Value {
    let mut mount_options: Vec<&str> = vec![
        "ro",
        "rw",
        "nosuid",
        "suid",
        "nodev",
        "dev",
        "noexec",
        "exec",
        "noatime",
        "atime",
        "nodiratime",
        "relatime",
        "strictatime",
        "sync",
        "dirsync",
        "bind",
        "rbind",
        "private",
        "rprivate",
        "slave",
        "rslave",
        "shared",
        "rshared",
    ];
    mount_options.sort();
    let caps: Vec<String> = caps::all()
        .into_iter()
        .map(|c| c.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let archs: Vec<serde_json::Value> = crate::sandbox::seccomp::ARCH
        .iter()
        .filter_map(|a| serde_json::to_value(a).ok())
        .collect();
    serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": super::OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": mount_options,
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
            "capabilities": caps,
            "cgroup": {"v1": false, "v2": false, "systemd": false, "systemdUser": false, "rdma": false},
            "seccomp": {
                "enabled": !archs.is_empty(),
                "actions": ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO"],
                "operators": ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"],
                "archs": archs,
                "knownFlags": [],
                "supportedFlags": []
            },
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false},
            "intelRdt": {"enabled": false},
            "mountExtensions": {"idmap": {"enabled": false}}
        },
        "annotations": {
            "io.github.coracle.version": env!("CARGO_PKG_VERSION")
        }
    })
}

/// `coracle-runtime spec --rootless`: an example configuration for the
/// caller, running `sh` in `rootfs` with only its own id mapped.
pub fn example(rootless: bool) -> serde_json::Value {
    let uid = nix::unistd::geteuid().as_raw();
    let gid = nix::unistd::getegid().as_raw();
    let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
    let mut namespaces = vec![
        serde_json::json!({"type": "pid"}),
        serde_json::json!({"type": "ipc"}),
        serde_json::json!({"type": "uts"}),
        serde_json::json!({"type": "mount"}),
        serde_json::json!({"type": "cgroup"}),
    ];
    if rootless {
        namespaces.push(serde_json::json!({"type": "user"}));
    } else {
        namespaces.push(serde_json::json!({"type": "network"}));
    }
    let mut devpts = vec![
        "nosuid",
        "noexec",
        "newinstance",
        "ptmxmode=0666",
        "mode=0620",
    ];
    if !rootless {
        devpts.push("gid=5");
    }
    let sys = if rootless {
        serde_json::json!({"destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]})
    } else {
        serde_json::json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]})
    };
    let mut v = serde_json::json!({
        "ociVersion": super::OCI_VERSION,
        "process": {
            "terminal": true,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": caps, "effective": caps, "permitted": caps
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "coracle",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": devpts},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            sys
        ],
        "linux": {
            "namespaces": namespaces,
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    });
    if rootless {
        v["linux"]["uidMappings"] =
            serde_json::json!([{"containerID": 0, "hostID": uid, "size": 1}]);
        v["linux"]["gidMappings"] =
            serde_json::json!([{"containerID": 0, "hostID": gid, "size": 1}]);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_is_a_valid_spec() {
        let v = example(true);
        let s: Spec = serde_json::from_value(v).unwrap();
        assert!(s.process().as_ref().unwrap().terminal().unwrap());
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("rootfs")).unwrap();
        let p = plan(s, dir.path()).unwrap();
        assert!(p.new_flags.contains(nix::sched::CloneFlags::CLONE_NEWUSER));
        assert_eq!(
            p.spec.root().as_ref().unwrap().path(),
            &dir.path().join("rootfs")
        );
    }

    #[test]
    fn unsupported_fields_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("rootfs")).unwrap();
        let mut v = example(true);
        v["process"]["apparmorProfile"] = "x".into();
        let e = plan(serde_json::from_value(v).unwrap(), dir.path()).unwrap_err();
        assert!(e.to_string().contains("process.apparmorProfile"), "{e}");
        let mut v = example(true);
        v["linux"]["uidMappings"] = serde_json::json!([]);
        let e = plan(serde_json::from_value(v).unwrap(), dir.path()).unwrap_err();
        assert!(e.to_string().contains("linux.uidMappings"), "{e}");
    }
}
