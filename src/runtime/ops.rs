//! The runtime operations (runtime-spec runtime.md "Operations") and the
//! commands engines use beside them (run, exec, list, ps).

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use nix::sys::signal::Signal;
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use oci_spec::runtime::{LinuxNamespaceType, Spec};

use super::cgroup;
use super::config::{self, Plan};
use super::{
    hooks, lock_dir, oci_state, status_of, warn, Container, Record, Root, Status, CONFIG_FILE,
    EXEC_FIFO,
};
use crate::sandbox::channel::{self, Msg};

/// `create`'s options.
#[derive(Debug, Clone, Default)]
pub struct CreateOpts {
    pub bundle: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub preserve_fds: u32,
    pub no_pivot: bool,
}

/// A container that `create` just made, for `run` to go on with.
pub struct Created {
    pub pid: Pid,
    pub pidfd: OwnedFd,
    /// The pty master when the process has a terminal and no console
    /// socket was given (only `run` allows that).
    pub master: Option<OwnedFd>,
}

/// Removes a half-made container directory unless disarmed.
struct Cleanup {
    dir: Option<PathBuf>,
    cgroup: Option<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(d) = self.dir.take() {
            let _ = std::fs::remove_dir_all(d);
        }
        if let Some(c) = self.cgroup.take() {
            let _ = cgroup::destroy(&c);
        }
    }
}

fn kill_and_reap(pid: Pid, pidfd: &OwnedFd) {
    let _ = crate::sys::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
    let _ = waitpid(pid, None);
}

fn hooks_of(spec: &Spec) -> oci_spec::runtime::Hooks {
    spec.hooks().clone().unwrap_or_default()
}

/// `create`: the container's process set up and waiting before the user
/// program. `foreground` (for `run`) allows a terminal without a console
/// socket: the master comes back in [`Created`].
pub fn create(root: &Root, id: &str, o: &CreateOpts, foreground: bool) -> anyhow::Result<Created> {
    super::validate_id(id)?;
    let bundle = std::fs::canonicalize(&o.bundle)
        .with_context(|| format!("bundle {}", o.bundle.display()))?;
    let (spec, _) = config::load(&bundle)?;
    let plan = config::plan(spec, &bundle)?;
    let spec = &plan.spec;
    let terminal = spec
        .process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false);
    if terminal && o.console_socket.is_none() && !foreground {
        bail!("process.terminal is true: pass --console-socket to receive the terminal (or set terminal to false)");
    }
    if !terminal && o.console_socket.is_some() {
        bail!("--console-socket given but process.terminal is false: there is no terminal to send");
    }
    root.ensure()?;
    let dir = root.container_dir(id);
    match std::fs::create_dir(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("container with id {id} already exists")
        }
        Err(e) => return Err(e).context(format!("create {}", dir.display())),
    }
    let mut cleanup = Cleanup {
        dir: Some(dir.clone()),
        cgroup: None,
    };
    let _lock = lock_dir(&dir, true)?;
    super::write_atomic(&dir.join(CONFIG_FILE), &serde_json::to_vec(spec)?)?;
    let mut record = Record {
        id: id.to_string(),
        pid: None,
        starttime: None,
        bundle: bundle.clone(),
        annotations: spec.annotations().clone().unwrap_or_default(),
        created: super::now_rfc3339(),
        owner: nix::unistd::geteuid().as_raw(),
        cgroup: None,
    };
    super::write_record(&dir, &record)?;
    nix::unistd::mkfifo(
        &dir.join(EXEC_FIFO),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .with_context(|| format!("create {}", dir.join(EXEC_FIFO).display()))?;
    let state_dir: OwnedFd = std::fs::File::open(&dir)
        .with_context(|| format!("open {}", dir.display()))?
        .into();

    // A pid namespace given by path is joined here: it applies to the
    // children we create, and the init must be born in it.
    for (t, path) in &plan.join {
        if *t == LinuxNamespaceType::Pid {
            let f = std::fs::File::open(path)
                .with_context(|| format!("linux.namespaces: open {}", path.display()))?;
            nix::sched::setns(f.as_fd(), nix::sched::CloneFlags::CLONE_NEWPID).with_context(
                || {
                    format!(
                        "linux.namespaces: join the pid namespace {}",
                        path.display()
                    )
                },
            )?;
        }
    }
    let plan_for_child = Plan {
        join: plan
            .join
            .iter()
            .filter(|(t, _)| *t != LinuxNamespaceType::Pid)
            .cloned()
            .collect(),
        ..plan.clone()
    };

    let (psock, csock) = nix::sys::socket::socketpair(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::SeqPacket,
        None,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
    )
    .context("create the sync socket")?;
    let clone_flags = if plan
        .join
        .iter()
        .any(|(t, _)| *t == LinuxNamespaceType::User)
    {
        // Made by the init after it joined the user namespace.
        nix::sched::CloneFlags::empty()
    } else {
        plan.new_flags
    };
    // Its own cgroup where ours is delegated; without, it stays in ours.
    let cg = cgroup::create(id).ok();
    cleanup.cgroup.clone_from(&cg);
    let in_cgroup = cg.as_ref().and_then(|p| {
        let dir = std::fs::File::open(p).ok()?;
        match crate::sys::clone3_into_cgroup(clone_flags.bits() as u64, dir.as_fd()) {
            // Not allowed from here: nothing was created, clone without it.
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(
                        libc::EACCES | libc::EPERM | libc::EBUSY | libc::EOPNOTSUPP | libc::EINVAL
                    )
                ) =>
            {
                None
            }
            r => Some(r),
        }
    });
    if in_cgroup.is_none() {
        if let Some(c) = cleanup.cgroup.take() {
            let _ = cgroup::destroy(&c);
        }
    }
    record.cgroup.clone_from(&cleanup.cgroup);
    let forked = in_cgroup
        .unwrap_or_else(|| crate::sys::clone3(clone_flags.bits() as u64))
        .map_err(|e| {
            anyhow::anyhow!("create the container's namespaces: {e}; run `coracle check` for what the host allows")
        })?;
    let (pid, pidfd) = match forked {
        crate::sys::Forked::Child => {
            drop(psock);
            super::init::main(
                super::init::Ctx {
                    plan: &plan_for_child,
                    state_dir,
                    preserve_fds: o.preserve_fds,
                    no_pivot: o.no_pivot,
                },
                csock,
            )
        }
        crate::sys::Forked::Parent { pid, pidfd } => (pid, pidfd),
    };
    drop(csock);
    drop(state_dir);
    let fail = |e: anyhow::Error| -> anyhow::Error {
        kill_and_reap(pid, &pidfd);
        e
    };

    if clone_flags.contains(nix::sched::CloneFlags::CLONE_NEWUSER) {
        write_maps(pid, spec).map_err(fail)?;
    }
    // Here, while the process is still dumpable (its /proc files are ours).
    if let Some(adj) = spec.process().as_ref().and_then(|p| p.oom_score_adj()) {
        std::fs::write(format!("/proc/{pid}/oom_score_adj"), adj.to_string())
            .map_err(|e| fail(anyhow::anyhow!("process.oomScoreAdj: set {adj}: {e}")))?;
    }
    channel::send(psock.as_fd(), &Msg::Go, None).map_err(|e| fail(e.into()))?;
    // The runtime environment exists.
    expect_go(&psock).map_err(fail)?;
    record.pid = Some(pid.as_raw());
    record.starttime = super::proc_stat(pid.as_raw()).map(|(_, t)| t);
    super::write_record(&dir, &record).map_err(fail)?;
    let h = hooks_of(spec);
    let state = oci_state(&record, Status::Creating).to_string();
    for (kind, list) in [
        ("prestart", h.prestart()),
        ("createRuntime", h.create_runtime()),
    ] {
        if let Err(e) = hooks::run_all(kind, list.as_deref().unwrap_or_default(), &state) {
            let e = fail(anyhow::anyhow!(e));
            run_poststop(spec, &record);
            return Err(e);
        }
    }
    channel::send(psock.as_fd(), &Msg::Go, None).map_err(|e| fail(e.into()))?;
    let mut master = None;
    loop {
        match channel::recv(psock.as_fd()) {
            Ok(Some((Msg::Pty, fd))) => master = fd,
            Ok(Some((Msg::Go, _))) => break,
            Ok(Some((Msg::Error { message, .. }, _))) => {
                let e = fail(anyhow::anyhow!(message));
                if message_is_hook(&e) {
                    run_poststop(spec, &record);
                }
                return Err(e);
            }
            Ok(Some(_)) | Ok(None) => {
                return Err(fail(anyhow::anyhow!(
                    "the container's process ended during its setup"
                )))
            }
            Err(e) => {
                return Err(fail(anyhow::anyhow!(
                    "read from the container's process: {e}"
                )))
            }
        }
    }
    drop(psock);
    if let (Some(sock), Some(m)) = (&o.console_socket, master.as_ref()) {
        super::send_console(sock, m.as_fd()).map_err(fail)?;
        master = None;
    }
    if let Some(p) = &o.pid_file {
        super::write_pid_file(p, pid.as_raw()).map_err(fail)?;
    }
    cleanup.dir = None;
    cleanup.cgroup = None;
    Ok(Created { pid, pidfd, master })
}

fn message_is_hook(e: &anyhow::Error) -> bool {
    e.to_string().starts_with("createContainer hook")
}

fn expect_go(sock: &OwnedFd) -> anyhow::Result<()> {
    match channel::recv(sock.as_fd()) {
        Ok(Some((Msg::Go, _))) => Ok(()),
        Ok(Some((Msg::Error { message, .. }, _))) => Err(anyhow::anyhow!(message)),
        Ok(_) => Err(anyhow::anyhow!(
            "the container's process ended during its setup"
        )),
        Err(e) => Err(anyhow::anyhow!("read from the container's process: {e}")),
    }
}

/// Writes the id maps of a new user namespace: directly when we hold
/// CAP_SETUID (root, e.g. inside an engine's own user namespace) or map
/// only our own id, else through newuidmap/newgidmap.
fn write_maps(pid: Pid, spec: &Spec) -> anyhow::Result<()> {
    let (uid_map, gid_map) = crate::spec::id_maps(spec);
    if nix::unistd::geteuid().is_root() {
        let w = |file: &str, data: String| -> anyhow::Result<()> {
            std::fs::write(format!("/proc/{pid}/{file}"), data)
                .with_context(|| format!("linux.uidMappings: write /proc/{pid}/{file}"))
        };
        w("uid_map", crate::sandbox::idmap::render_map(&uid_map))?;
        w("gid_map", crate::sandbox::idmap::render_map(&gid_map))?;
        return Ok(());
    }
    crate::sandbox::write_id_maps(pid, &uid_map, &gid_map)
        .map_err(|e| anyhow::anyhow!("linux.uidMappings: {e}"))
}

fn run_poststop(spec: &Spec, record: &Record) {
    let state = oci_state(record, Status::Stopped).to_string();
    if let Err(e) = hooks::run_all(
        "poststop",
        hooks_of(spec).poststop().as_deref().unwrap_or_default(),
        &state,
    ) {
        warn(&e);
    }
}

/// `start`: releases the created container's process to exec the user
/// program, then runs the poststart hooks.
pub fn start(root: &Root, id: &str) -> anyhow::Result<()> {
    let c = Container::open(root, id, Some(true))?;
    match c.status() {
        Status::Created => {}
        Status::Stopped => bail!("cannot start a container that has stopped"),
        Status::Running => bail!("cannot start an already running container"),
        Status::Paused => bail!("cannot start a paused container"),
        Status::Creating => bail!("cannot start a container that is still being created"),
    }
    let fifo_path = c.dir.join(EXEC_FIFO);
    let fifo = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(&fifo_path)
        .with_context(|| format!("open {}", fifo_path.display()))?;
    let mut got = Vec::new();
    let mut f = fifo;
    loop {
        let mut fds = [nix::poll::PollFd::new(
            f.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        match nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16)) {
            Ok(0) => {
                if !super::process_alive(&c.record) {
                    break;
                }
                continue;
            }
            Err(nix::Error::EINTR) => continue,
            Err(e) => bail!("wait for the container's process: {e}"),
            Ok(_) => {}
        }
        let mut buf = [0u8; 4096];
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => bail!("read from the container's process: {e}"),
        }
    }
    // Only now: the process opens the fifo by name whenever it gets there
    // (before or after this command opened it); its "0" says it has.
    let _ = std::fs::remove_file(&fifo_path);
    let text = String::from_utf8_lossy(&got);
    let rest = text.strip_prefix('0').unwrap_or(&text);
    if let Some(msg) = rest.strip_prefix('E') {
        bail!("{msg}");
    }
    if !text.starts_with('0') {
        bail!("the container's process ended before it could start");
    }
    let spec = c.config()?;
    let state = oci_state(&c.record, Status::Running).to_string();
    if let Err(e) = hooks::run_all(
        "poststart",
        hooks_of(&spec).poststart().as_deref().unwrap_or_default(),
        &state,
    ) {
        warn(&e);
    }
    Ok(())
}

use std::os::unix::fs::OpenOptionsExt;

/// `state`: the runtime-spec state JSON.
pub fn state(root: &Root, id: &str) -> anyhow::Result<serde_json::Value> {
    let c = Container::open(root, id, None)?;
    Ok(oci_state(&c.record, c.status()))
}

/// Parses a signal as runc does: `TERM`, `SIGTERM`, `15`.
pub fn parse_signal(s: &str) -> anyhow::Result<Signal> {
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| anyhow::anyhow!("invalid signal {s:?}"));
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    name.parse::<Signal>()
        .map_err(|_| anyhow::anyhow!("unknown signal {s:?}"))
}

/// Host pids of the container's processes: those in its pid namespace
/// (or, sharing ours, the init and its descendants).
pub fn container_pids(init: i32) -> Vec<i32> {
    let ns = |p: i32| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    let Some(target) = ns(init) else {
        // Not readable (a created init is not dumpable) or gone.
        return if std::path::Path::new(&format!("/proc/{init}")).exists() {
            vec![init]
        } else {
            Vec::new()
        };
    };
    let all: Vec<i32> = std::fs::read_dir("/proc")
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    if ns(std::process::id() as i32).as_ref() != Some(&target) {
        let mut v: Vec<i32> = all
            .into_iter()
            .filter(|p| ns(*p).as_ref() == Some(&target))
            .collect();
        v.sort();
        return v;
    }
    let ppid = |p: i32| -> Option<i32> {
        let s = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
        s[s.rfind(')')? + 2..]
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let table: Vec<(i32, i32)> = all.iter().filter_map(|p| Some((*p, ppid(*p)?))).collect();
    let mut v = vec![init];
    let mut i = 0;
    while i < v.len() {
        let parent = v[i];
        v.extend(
            table
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    v.sort();
    v
}

/// The container's processes: its cgroup's when it has one.
pub fn record_pids(r: &Record) -> Vec<i32> {
    match r.cgroup.as_deref().filter(|p| cgroup::is_ours(p, &r.id)) {
        Some(cg) => cgroup::pids(cg),
        None => r.pid.map(container_pids).unwrap_or_default(),
    }
}

/// Signals `pid` through a pidfd checked against the record's start time.
fn signal_record(r: &Record, pid: i32, sig: Signal) -> anyhow::Result<()> {
    let fd = crate::sys::pidfd_open(pid).map_err(|_| anyhow::anyhow!("container not running"))?;
    if pid == r.pid.unwrap_or(0) && !super::process_alive(r) {
        bail!("container not running");
    }
    crate::sys::pidfd_send_signal(fd.as_fd(), sig as i32)
        .with_context(|| format!("send {sig} to process {pid}"))
}

/// `kill`: only a created or running container may be signalled.
pub fn kill(root: &Root, id: &str, sig: Signal, all: bool) -> anyhow::Result<()> {
    let c = Container::open(root, id, None)?;
    match c.status() {
        Status::Created | Status::Running | Status::Paused => {}
        _ => bail!("container not running"),
    }
    let pid = c.record.pid.unwrap_or(0);
    if all {
        for p in record_pids(&c.record) {
            if p != pid {
                let _ = nix::sys::signal::kill(Pid::from_raw(p), sig);
            }
        }
    }
    signal_record(&c.record, pid, sig)
}

/// Waits until the record's process is gone (or a zombie).
fn wait_gone(r: &Record, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if !super::process_alive(r) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    !super::process_alive(r)
}

/// `delete`: destroys a stopped container (any, with `force`, after
/// SIGKILL) and runs its poststop hooks.
pub fn delete(root: &Root, id: &str, force: bool) -> anyhow::Result<()> {
    let c = match Container::open(root, id, Some(true)) {
        Ok(c) => c,
        Err(e) if force && e.to_string().contains("does not exist") => return Ok(()),
        Err(e) if force && root.container_dir(id).is_dir() => {
            // A damaged record: remove what is there.
            warn(&format!("{e:#}"));
            let _ = std::fs::remove_dir_all(root.container_dir(id));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let status = c.status();
    if status != Status::Stopped {
        if !force {
            bail!(
                "cannot delete container {id} that is not stopped: {}",
                status.as_str()
            );
        }
        if let Some(cg) = c
            .record
            .cgroup
            .as_deref()
            .filter(|p| cgroup::is_ours(p, id))
        {
            let _ = std::fs::write(cg.join("cgroup.kill"), "1");
        }
        if let Some(pid) = c.record.pid {
            // The init first (before exec it is not dumpable: its
            // namespaces cannot be read to find the others, and it has
            // none yet); the kernel then ends its pid namespace.
            let _ = signal_record(&c.record, pid, Signal::SIGKILL);
            for p in container_pids(pid) {
                let _ = nix::sys::signal::kill(Pid::from_raw(p), Signal::SIGKILL);
            }
            if !wait_gone(&c.record, Duration::from_secs(10)) {
                bail!("container {id} did not end after SIGKILL");
            }
        }
    }
    let spec = c.config().ok();
    if let Some(cg) = c
        .record
        .cgroup
        .as_deref()
        .filter(|p| cgroup::is_ours(p, id))
    {
        cgroup::destroy(cg).with_context(|| format!("remove the cgroup {}", cg.display()))?;
    }
    std::fs::remove_dir_all(&c.dir).with_context(|| format!("remove {}", c.dir.display()))?;
    if let Some(spec) = spec {
        run_poststop(&spec, &c.record);
    }
    Ok(())
}

/// `run`: create + start; in the foreground, waits and returns the exit
/// status, then deletes the container.
pub fn run(root: &Root, id: &str, o: &CreateOpts, detach: bool) -> anyhow::Result<i32> {
    let terminal = config::load(&o.bundle.canonicalize().unwrap_or_else(|_| o.bundle.clone()))
        .ok()
        .and_then(|(s, _)| s.process().as_ref().and_then(|p| p.terminal()))
        .unwrap_or(false);
    if detach && terminal && o.console_socket.is_none() {
        bail!("process.terminal is true: `run --detach` needs --console-socket");
    }
    let (mask, restore) = crate::sandbox::block_signals()?;
    let created = create(root, id, o, !detach)?;
    if let Err(e) = start(root, id) {
        kill_and_reap(created.pid, &created.pidfd);
        let _ = delete(root, id, true);
        return Err(e);
    }
    if detach {
        drop(restore);
        return Ok(0);
    }
    let code = crate::sandbox::supervise(
        created.pid,
        &created.pidfd,
        created.master,
        true,
        &mask,
        None,
        None,
    )?;
    drop(restore);
    delete(root, id, true)?;
    Ok(code)
}

/// `list`.
pub fn list(root: &Root) -> Vec<(Record, Status)> {
    root.ids()
        .into_iter()
        .filter_map(|id| Container::open(root, &id, None).ok())
        .map(|c| {
            let s = status_of(&c.dir, &c.record);
            (c.record, s)
        })
        .collect()
}

/// `pause` / `resume` (with `pause: false`): the cgroup v2 freezer.
pub fn pause(root: &Root, id: &str, pause: bool) -> anyhow::Result<()> {
    let c = Container::open(root, id, Some(true))?;
    let status = c.status();
    match (pause, status) {
        (true, Status::Running) | (false, Status::Paused) => {}
        (true, _) => bail!("container not running"),
        (false, _) => bail!("container not paused"),
    }
    let cg = c
        .record
        .cgroup
        .as_deref()
        .filter(|p| cgroup::is_ours(p, id))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "container {id} has no cgroup of its own to freeze: its creator's cgroup v2 was not delegated to you ({})",
                crate::container::cgroup::delegated_parent()
                    .err()
                    .unwrap_or_else(|| "it is now".into())
            )
        })?;
    cgroup::set_frozen(cg, pause)
}

/// `exec`'s request.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    pub process: Option<oci_spec::runtime::Process>,
    pub detach: bool,
    pub console_socket: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
}

/// The namespaces of `pid` that differ from ours (those to join).
fn differing_namespaces(pid: i32) -> nix::sched::CloneFlags {
    use nix::sched::CloneFlags as F;
    let mut f = F::empty();
    for (name, flag) in [
        ("user", F::CLONE_NEWUSER),
        ("mnt", F::CLONE_NEWNS),
        ("pid", F::CLONE_NEWPID),
        ("uts", F::CLONE_NEWUTS),
        ("ipc", F::CLONE_NEWIPC),
        ("cgroup", F::CLONE_NEWCGROUP),
        ("net", F::CLONE_NEWNET),
    ] {
        let a = std::fs::read_link(format!("/proc/self/ns/{name}")).ok();
        let b = std::fs::read_link(format!("/proc/{pid}/ns/{name}")).ok();
        if b.is_some() && a != b {
            f |= flag;
        }
    }
    f
}

/// `exec`: a new process in a running container, confined as its init.
pub fn exec(root: &Root, id: &str, req: ExecRequest) -> anyhow::Result<i32> {
    let c = Container::open(root, id, None)?;
    match c.status() {
        Status::Created | Status::Running => {}
        Status::Paused => bail!("cannot exec in a paused container"),
        Status::Stopped => bail!("cannot exec in a stopped container"),
        Status::Creating => bail!("cannot exec in a container that is being created"),
    }
    let spec = c.config()?;
    let process = req
        .process
        .ok_or_else(|| anyhow::anyhow!("no process given"))?;
    if process.args().as_ref().is_none_or(|a| a.is_empty()) {
        bail!("process.args: no command given");
    }
    if process
        .apparmor_profile()
        .as_ref()
        .is_some_and(|s| !s.is_empty())
    {
        bail!("process.apparmorProfile: AppArmor profiles are not supported by coracle-runtime");
    }
    if process
        .selinux_label()
        .as_ref()
        .is_some_and(|s| !s.is_empty())
    {
        bail!("process.selinuxLabel: SELinux labels are not supported by coracle-runtime");
    }
    // The limits are set on this process: the process that joins the
    // container is cloned from it and inherits them.
    for r in process.rlimits().as_deref().unwrap_or_default() {
        nix::sys::resource::setrlimit(super::init::resource_of(r.typ()), r.soft(), r.hard())
            .with_context(|| {
                format!(
                    "process.rlimits: set {:?} to {}/{}",
                    r.typ(),
                    r.soft(),
                    r.hard()
                )
            })?;
    }
    let terminal = process.terminal().unwrap_or(false);
    if terminal && req.console_socket.is_none() && req.detach {
        bail!("a terminal with --detach needs --console-socket");
    }
    let pid = c.record.pid.unwrap_or(0);
    let target =
        crate::sys::pidfd_open(pid).map_err(|_| anyhow::anyhow!("container not running"))?;
    if !super::process_alive(&c.record) {
        bail!("container not running");
    }
    let opts = crate::sandbox::exec::ExecOptions {
        stdin: true,
        detach: req.detach,
        home_given: true,
        seccomp: spec.linux().as_ref().and_then(|l| l.seccomp().clone()),
        inherit_stdio: true,
        cgroup: c.record.cgroup.clone(),
        console_socket: req.console_socket,
        pid_file: req.pid_file,
        ..Default::default()
    };
    let ns = differing_namespaces(pid);
    drop(c);
    // A detached terminal always goes to the console socket (checked
    // above), so nothing here holds one.
    crate::sandbox::exec::exec(&target, ns, &process, &opts, &|_| {
        bail!("a terminal with --detach needs --console-socket")
    })
}

/// The container's processes (for `ps`).
pub fn pids_of(root: &Root, id: &str) -> anyhow::Result<Vec<i32>> {
    Ok(record_pids(&Container::open(root, id, None)?.record))
}

/// The container's configuration, for `exec`'s flag form.
pub fn config_of(root: &Root, id: &str) -> anyhow::Result<Spec> {
    Container::open(root, id, None)?.config()
}
