//! The private network: a tap device in the container's network namespace
//! served by a user-space TCP/IP stack (smoltcp) in a helper process outside
//! the container, which NATs the container's connections to host sockets,
//! relays DNS and forwards published ports (slirp4netns's layout: the
//! container is 10.0.2.100/24, the gateway 10.0.2.2, the resolver 10.0.2.3).
//!
//! [`spawn_helper`] starts the helper (`/proc/self/exe container-net`,
//! hidden subcommand dispatched before clap) with the tap on fd 3; it
//! reports on a pipe once its host sockets are bound. [`helper_main`] is
//! its entry point; [`stack`] is the packet path.

pub mod egress;
pub mod networks;
pub mod ports;
pub mod stack;
pub mod switch;

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

pub use ports::{PortMapping, Proto};

/// The container's address on the private network.
pub const GUEST: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 100);
/// The gateway (the stack); with host loopback allowed, the host's 127.0.0.1.
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
/// The DNS forwarder.
pub const DNS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 3);
pub const PREFIX: u8 = 24;
/// The container's hardware address (locally administered).
pub const GUEST_MAC: [u8; 6] = [0x02, 0x42, 0x0a, 0x00, 0x02, 0x64];
/// The gateway's hardware address (slirp's).
pub const GATEWAY_MAC: [u8; 6] = [0x52, 0x55, 0x0a, 0x00, 0x02, 0x02];
/// The interface's name in the container.
pub const INTERFACE: &str = "eth0";
/// slirp4netns's default: large frames are what makes a user-space stack fast.
pub const DEFAULT_MTU: u32 = 65520;
/// The file in the container's directory where the helper records the
/// host ports it bound (`port`, `ps`, `inspect` read it).
pub const PORTS_FILE: &str = "ports.json";
/// The file in the container's directory where the helper counts the
/// connections and datagrams the egress rules denied.
pub const DENIED_FILE: &str = "egress-denied";

/// The number of denied connections recorded in `path` (0 without one).
pub fn read_denied(path: &std::path::Path) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.trim_matches(|c: char| c.is_whitespace() || c == '\0')
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// What the helper needs to know: the plan of the private network, kept in
/// the container's record so that `start` and restarts use it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetConfig {
    pub mtu: u32,
    /// The gateway address reaches the host's 127.0.0.1.
    #[serde(default)]
    pub allow_host_loopback: bool,
    /// The resolvers the forwarder at 10.0.2.3 relays to (host side).
    #[serde(default)]
    pub dns: Vec<SocketAddr>,
    /// Published ports (`-p`, `-P`).
    #[serde(default)]
    pub ports: Vec<PortMapping>,
    /// Where the helper records the ports it bound. Filled in by the runner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports_file: Option<PathBuf>,
    /// Egress rules (`--egress`), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<egress::Rule>,
    /// Where the helper counts the connections the rules denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_file: Option<PathBuf>,
    /// A named network (`--network NAME`): its interface besides the
    /// private one (`eth0`), or, on an internal network, instead of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named: Option<switch::NamedNet>,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            mtu: DEFAULT_MTU,
            allow_host_loopback: false,
            dns: Vec::new(),
            ports: Vec::new(),
            ports_file: None,
            egress: Vec::new(),
            denied_file: None,
            named: None,
        }
    }
}

impl NetConfig {
    /// Applies `--network private:OPT=V,...` options (`mtu`,
    /// `allow_host_loopback`).
    pub fn apply_options(&mut self, opts: &str) -> anyhow::Result<()> {
        for o in opts.split(',').filter(|o| !o.is_empty()) {
            let (k, v) = o.split_once('=').unwrap_or((o, "true"));
            match k {
                "mtu" => {
                    self.mtu = v
                        .parse()
                        .ok()
                        .filter(|m| (576..=65520).contains(m))
                        .with_context(|| {
                            format!("invalid network option mtu={v}: give a number from 576 to 65520")
                        })?
                }
                "allow_host_loopback" => {
                    self.allow_host_loopback = match v {
                        "true" => true,
                        "false" => false,
                        _ => bail!("invalid network option allow_host_loopback={v}: give true or false"),
                    }
                }
                _ => bail!(
                    "unknown network option {k:?}: the private network takes mtu=N and allow_host_loopback=true|false"
                ),
            }
        }
        Ok(())
    }
}

/// The resolvers named in a resolv.conf (the host's): the forwarder's
/// upstreams when `--dns` gives none.
pub fn resolvers_of(resolv_conf: &str) -> Vec<SocketAddr> {
    resolv_conf
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("nameserver")).then_some(())?;
            let a: IpAddr = w.next()?.split('%').next()?.parse().ok()?;
            a.is_ipv4().then_some(SocketAddr::new(a, 53))
        })
        .collect()
}

/// Parses a `--dns` value: an IPv4 address, optionally with a port
/// (`127.0.0.1:5353`), which only the private network's forwarder uses.
pub fn parse_dns(s: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        return Ok(SocketAddr::new(a.into(), 53));
    }
    match s.parse::<SocketAddr>() {
        Ok(a @ SocketAddr::V4(_)) => Ok(a),
        _ => bail!("invalid --dns {s:?}: give an IPv4 address, optionally with :PORT"),
    }
}

/// The running stack helper; killed and reaped when dropped.
pub struct Helper {
    child: Child,
}

impl Helper {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the stack helper on `tap` and waits until it has bound the
/// published ports (an error names what failed, e.g. a port in use).
pub fn spawn_helper(tap: OwnedFd, cfg: &NetConfig) -> anyhow::Result<Helper> {
    let json = serde_json::to_string(cfg)?;
    let mut cmd = Command::new("/proc/self/exe");
    cmd.arg(HELPER_COMMAND)
        .arg(json)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(if std::env::var_os("CORACLE_NET_DEBUG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        });
    crate::sys::net::spawn_with_fd(&mut cmd, tap.as_raw_fd(), 3);
    let mut child = cmd.spawn().context("start the network stack helper")?;
    drop(tap);
    let out = child.stdout.take().context("the helper's report pipe")?;
    let mut helper = Helper { child };
    let mut line = String::new();
    let _ = BufReader::new(out).read_line(&mut line);
    match line.trim_end().strip_prefix("error ") {
        _ if line.trim_end() == "ok" => Ok(helper),
        Some(msg) => bail!("{msg}"),
        None => {
            let status = helper.child.wait().ok();
            bail!("the network stack helper ended without a report ({status:?})")
        }
    }
}

/// The hidden subcommand that runs the helper.
pub const HELPER_COMMAND: &str = "container-net";

/// Entry point of `coracle container-net CONFIG`: never returns normally.
pub fn helper_main(args: &[String]) -> i32 {
    let mut report = std::io::stdout();
    let cfg: NetConfig = match args.first().map(|a| serde_json::from_str(a)) {
        Some(Ok(c)) => c,
        _ => {
            let _ = writeln!(
                report,
                "error the network helper got no valid configuration"
            );
            return 1;
        }
    };
    let tap = match crate::sys::net::take_inherited_fd(3) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(report, "error the network helper has no tap device: {e}");
            return 1;
        }
    };
    let mut stack = match stack::Stack::new(Some(tap), &cfg) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(report, "error {e:#}");
            return 1;
        }
    };
    if let Some(p) = &cfg.ports_file {
        if let Err(e) = ports::write_bound(p, &stack.bound_ports()) {
            let _ = writeln!(report, "error record the published ports: {e:#}");
            return 1;
        }
    }
    let _ = writeln!(report, "ok");
    let _ = report.flush();
    // The report pipe is fd 1: point it at /dev/null so the runner's read ends.
    if let Ok(null) = std::fs::File::options().write(true).open("/dev/null") {
        let _ = nix::unistd::dup2(null.as_raw_fd(), 1);
    }
    if let Err(e) = stack::confine() {
        eprintln!("coracle network helper: confine: {e:#}");
        return 1;
    }
    match stack.run() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("coracle network helper: {e:#}");
            1
        }
    }
}

/// Confines a network helper (the stack or a network's switch) once set
/// up: no_new_privs and a seccomp allow-list of what their packet loops
/// need plus `extra`: sockets of family AF_INET only, `ioctl` FIONBIO
/// only, no open, no exec; anything else kills the process.
pub(crate) fn seccomp_confine(extra: &[i64]) -> anyhow::Result<()> {
    use seccompiler::{
        SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    };
    use std::collections::BTreeMap;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    const COMMON: &[i64] = &[
        libc::SYS_read,
        libc::SYS_write,
        libc::SYS_readv,
        libc::SYS_writev,
        libc::SYS_recvfrom,
        libc::SYS_sendto,
        libc::SYS_recvmsg,
        libc::SYS_sendmsg,
        libc::SYS_ppoll,
        libc::SYS_connect,
        libc::SYS_accept4,
        libc::SYS_bind,
        libc::SYS_getsockopt,
        libc::SYS_setsockopt,
        libc::SYS_getsockname,
        libc::SYS_getpeername,
        libc::SYS_shutdown,
        libc::SYS_close,
        libc::SYS_fcntl,
        libc::SYS_clock_gettime,
        libc::SYS_clock_nanosleep,
        libc::SYS_mmap,
        libc::SYS_munmap,
        libc::SYS_mremap,
        libc::SYS_madvise,
        libc::SYS_mprotect,
        libc::SYS_brk,
        libc::SYS_futex,
        libc::SYS_exit,
        libc::SYS_exit_group,
        libc::SYS_rt_sigreturn,
        libc::SYS_rt_sigprocmask,
        libc::SYS_rt_sigaction,
        libc::SYS_sigaltstack,
        libc::SYS_getrandom,
        libc::SYS_sched_yield,
        libc::SYS_getpid,
        libc::SYS_gettid,
        libc::SYS_tgkill,
        libc::SYS_restart_syscall,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_poll,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_accept,
    ];
    for s in COMMON.iter().chain(extra) {
        rules.insert(*s, vec![]);
    }
    let cond = |arg: u8, v: u64| {
        SeccompCondition::new(arg, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, v)
            .map_err(|e| anyhow::anyhow!("seccomp condition: {e}"))
    };
    rules.insert(
        libc::SYS_socket,
        vec![SeccompRule::new(vec![cond(0, libc::AF_INET as u64)?])
            .map_err(|e| anyhow::anyhow!("seccomp rule: {e}"))?],
    );
    rules.insert(
        libc::SYS_ioctl,
        vec![SeccompRule::new(vec![cond(1, libc::FIONBIO)?])
            .map_err(|e| anyhow::anyhow!("seccomp rule: {e}"))?],
    );
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|e| anyhow::anyhow!("seccomp architecture: {e:?}"))?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::KillProcess,
        SeccompAction::Allow,
        arch,
    )
    .map_err(|e| anyhow::anyhow!("seccomp filter: {e}"))?;
    let prog: seccompiler::BpfProgram = filter
        .try_into()
        .map_err(|e| anyhow::anyhow!("compile the seccomp filter: {e:?}"))?;
    nix::sys::prctl::set_no_new_privs().context("set no_new_privs")?;
    seccompiler::apply_filter(&prog)
        .map_err(|e| anyhow::anyhow!("install the seccomp filter: {e}"))?;
    Ok(())
}
