//! A named network's switch: one process per network
//! (`coracle network-switch CONFIG`, hidden), started by the first
//! container that joins and gone when the last one leaves.
//!
//! Each container has a tap on the network (`eth1`, or `eth0` on an
//! `--internal` network, which has no other) with its own address and MAC
//! (02:42 and the address, as Docker makes them). Its runner connects to
//! the switch's socket `networks/NAME.sock` (SOCK_SEQPACKET, mode 0600 in
//! the user's 0700 data directory): `H{names}` asks for an address (the
//! switch answers `A IP MAC` with the lowest free one), then `T` carries
//! the tap (SCM_RIGHTS). The connection stays open while the container
//! runs; its end (the runner exited, killed or not) removes the member.
//!
//! Frames are switched by destination MAC (broadcasts flooded), after a
//! check that the source MAC and IPv4/ARP sender are the member's own (no
//! spoofing another container). Frames to the gateway's MAC are ARP for
//! the gateway and DNS to gateway:53: container names, short ids and
//! aliases of the members answer with A records; anything else is relayed
//! to the host's resolvers (not on an internal network). Everything
//! beyond the subnet leaves through the container's private interface
//! (`eth0`, coracle's NAT stack), which also carries published ports.
//!
//! Start and end are serialised by `networks/NAME.lock`: a runner holds it
//! while it finds (or starts) the switch, connects and asks; a switch with
//! no members takes it, and exits only if no connection is waiting, after
//! removing its socket (a runner reset before the answer tries once more,
//! see `join`). So a runner does not hang on a dying switch and
//! two never start two switches. A crashed switch leaves a socket nobody
//! answers: the next runner removes it and starts a new one.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{self as sock, AddressFamily, SockFlag, SockType, UnixAddr};
use serde::{Deserialize, Serialize};
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, IpAddress, IpProtocol, Ipv4Packet, Ipv4Repr, UdpPacket, UdpRepr,
};

use super::stack::VNET_HDR;

/// The file in a running container's directory naming its network and
/// address there (`NAME IP`), for `network inspect`.
pub const IP_FILE: &str = "network-ip";
/// The hidden subcommand that runs a switch.
pub const SWITCH_COMMAND: &str = "network-switch";
const MAX_MEMBERS: usize = 1024;
const MAX_QUERIES: usize = 256;
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// A container's attachment to a named network: the network's definition
/// (copied at create) and what the container is called there. `ip`, `mac`
/// and `link` are filled when the container starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedNet {
    pub name: String,
    pub id: String,
    pub subnet: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    #[serde(default)]
    pub internal: bool,
    pub mtu: u32,
    /// `--network-alias`.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Names answered by the network's DNS: the container's name, its
    /// short id and the aliases (filled when it starts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<[u8; 6]>,
}

impl NamedNet {
    pub fn of(n: &super::networks::Network, aliases: Vec<String>) -> Self {
        Self {
            name: n.name.clone(),
            id: n.id.clone(),
            subnet: n.subnet,
            prefix: n.prefix,
            gateway: n.gateway,
            internal: n.internal,
            mtu: n.mtu,
            aliases,
            names: Vec::new(),
            ip: None,
            mac: None,
        }
    }

    /// The interface's name in the container.
    pub fn interface(&self) -> &'static str {
        if self.internal {
            "eth0"
        } else {
            "eth1"
        }
    }
}

/// Docker's MAC for an address.
pub fn mac_of(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

/// What the switch is started with.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SwitchConfig {
    name: String,
    subnet: Ipv4Addr,
    prefix: u8,
    gateway: Ipv4Addr,
    internal: bool,
    mtu: u32,
    dns: Vec<SocketAddr>,
    socket: PathBuf,
    lock: PathBuf,
}

/// The runner's open connection to its network's switch; closing it
/// leaves the network.
struct Link {
    sock: OwnedFd,
}

fn socket_path(name: &str) -> anyhow::Result<PathBuf> {
    Ok(super::networks::networks_dir()?.join(format!("{name}.sock")))
}

fn seqpacket() -> anyhow::Result<OwnedFd> {
    sock::socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .context("create a unix socket")
}

fn connect(path: &Path) -> anyhow::Result<OwnedFd> {
    let s = seqpacket()?;
    let addr =
        UnixAddr::new(path).with_context(|| format!("the socket path {}", path.display()))?;
    sock::connect(s.as_raw_fd(), &addr)?;
    Ok(s)
}

/// Joins the container to its named network (starting the network's
/// switch if it runs nowhere): fills in `net.ip` and `net.mac`. The
/// connection is kept for the life of this process (the container's
/// monitor); the tap follows with [`send_tap`] once the container made it.
pub fn join(net: &mut NamedNet, dns: &[SocketAddr]) -> anyhow::Result<()> {
    // A switch that ends (its last member left, or it was killed) between
    // our connect and its answer resets the connection: the second try
    // finds no switch and starts one.
    match join_once(net, dns) {
        Err(e) if is_reset(&e) => join_once(net, dns),
        r => r,
    }
}

/// Whether `e` is a connection the switch reset or closed without an
/// answer.
fn is_reset(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof
            )
        }) || c
            .downcast_ref::<nix::Error>()
            .is_some_and(|n| *n == nix::Error::ECONNRESET)
    })
}

fn join_once(net: &mut NamedNet, dns: &[SocketAddr]) -> anyhow::Result<()> {
    let path = socket_path(&net.name)?;
    let link = {
        let _lock = crate::container::lock_data(&format!("networks/{}.lock", net.name))?;
        let s = match connect(&path) {
            Ok(s) => s,
            Err(_) => {
                let _ = std::fs::remove_file(&path);
                spawn(net, dns, &path)?;
                connect(&path).with_context(|| {
                    format!("connect to the switch of network {} just started", net.name)
                })?
            }
        };
        let hello = serde_json::to_string(&net.names)?;
        crate::sys::send_with_fd(s.as_fd(), format!("H{hello}").as_bytes(), None)
            .with_context(|| format!("talk to the switch of network {}", net.name))?;
        Link { sock: s }
    };
    let tv = nix::sys::time::TimeVal::new(20, 0);
    let _ = sock::setsockopt(&link.sock, sock::sockopt::ReceiveTimeout, &tv);
    let mut buf = [0u8; 512];
    let (n, _) = crate::sys::recv_with_fd(link.sock.as_fd(), &mut buf)
        .with_context(|| format!("the switch of network {} did not answer", net.name))?;
    if n == 0 {
        return Err(anyhow::Error::new(std::io::Error::from(
            std::io::ErrorKind::UnexpectedEof,
        )))
        .with_context(|| format!("the switch of network {} ended without an answer", net.name));
    }
    let reply = String::from_utf8_lossy(&buf[..n]).into_owned();
    if let Some(m) = reply.strip_prefix('E') {
        bail!("network {}: {m}", net.name);
    }
    let Some(ip) = reply
        .strip_prefix('A')
        .and_then(|a| a.trim().parse::<Ipv4Addr>().ok())
    else {
        bail!(
            "the switch of network {} ended or answered nonsense ({reply:?}): it may have crashed; try again",
            net.name
        );
    };
    let _ = sock::setsockopt(
        &link.sock,
        sock::sockopt::ReceiveTimeout,
        &nix::sys::time::TimeVal::new(0, 0),
    );
    net.ip = Some(ip);
    net.mac = Some(mac_of(ip));
    *LINK.lock().unwrap_or_else(|e| e.into_inner()) = Some(link.sock);
    Ok(())
}

/// This process's link to its network's switch (see [`join`]).
static LINK: std::sync::Mutex<Option<OwnedFd>> = std::sync::Mutex::new(None);

/// A duplicate of this process's link to its network's switch, if any
/// (for the shim to hold).
pub fn kept_link() -> Option<OwnedFd> {
    let guard = LINK.lock().unwrap_or_else(|e| e.into_inner());
    guard.as_ref().and_then(|s| s.try_clone().ok())
}

/// Joins a container about to start to its named network, if it has one:
/// the names its network's DNS answers are its name, short id and aliases;
/// its address there is recorded in its directory ([`IP_FILE`]).
pub fn join_container(
    cfg: &mut super::NetConfig,
    name: &str,
    id: &str,
    dir: &Path,
) -> anyhow::Result<()> {
    let Some(n) = cfg.named.as_mut() else {
        return Ok(());
    };
    n.names = [name.to_string(), id[..id.len().min(12)].to_string()]
        .into_iter()
        .chain(n.aliases.iter().cloned())
        .collect();
    join(n, &cfg.dns)?;
    if let Some(ip) = n.ip {
        let _ = crate::runtime::write_atomic(
            &dir.join(IP_FILE),
            format!("{} {ip}\n", n.name).as_bytes(),
        );
    }
    Ok(())
}

/// Hands the container's tap on the network to the switch.
pub fn send_tap(net: &NamedNet, tap: BorrowedFd<'_>) -> anyhow::Result<()> {
    let guard = LINK.lock().unwrap_or_else(|e| e.into_inner());
    let s = guard
        .as_ref()
        .context("the container is not connected to its network's switch")?;
    crate::sys::send_with_fd(s.as_fd(), b"T", Some(tap)).with_context(|| {
        format!(
            "hand the tap to the switch of network {} (has it crashed?)",
            net.name
        )
    })
}

/// Starts the switch (the caller holds the network's lock) and waits for
/// it to listen.
fn spawn(net: &NamedNet, dns: &[SocketAddr], path: &Path) -> anyhow::Result<()> {
    let cfg = SwitchConfig {
        name: net.name.clone(),
        subnet: net.subnet,
        prefix: net.prefix,
        gateway: net.gateway,
        internal: net.internal,
        mtu: net.mtu,
        dns: dns.to_vec(),
        socket: path.to_path_buf(),
        lock: super::networks::networks_dir()?.join(format!("{}.lock", net.name)),
    };
    let mut cmd = Command::new("/proc/self/exe");
    cmd.arg(SWITCH_COMMAND)
        .arg(serde_json::to_string(&cfg)?)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(if std::env::var_os("CORACLE_NET_DEBUG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        });
    cmd.current_dir("/");
    let mut child = cmd.spawn().context("start the network's switch")?;
    let out = child.stdout.take().context("the switch's report pipe")?;
    let mut line = String::new();
    let _ = BufReader::new(out).read_line(&mut line);
    // The first process only forks the switch off and exits.
    let _ = child.wait();
    match line.trim_end().strip_prefix("error ") {
        _ if line.trim_end() == "ok" => Ok(()),
        Some(m) => bail!("the switch of network {}: {m}", net.name),
        None => bail!("the switch of network {} ended without a report", net.name),
    }
}

// --- the switch process ----------------------------------------------------

struct Member {
    conn: OwnedFd,
    ip: Option<Ipv4Addr>,
    names: Vec<String>,
    tap: Option<OwnedFd>,
}

struct Query {
    sock: UdpSocket,
    client: (Ipv4Addr, u16),
    started: Instant,
}

struct Switch {
    cfg: SwitchConfig,
    /// `networks/NAME.lock`, opened before the switch confines itself.
    lock: Option<std::fs::File>,
    gw_mac: [u8; 6],
    listener: OwnedFd,
    members: Vec<Member>,
    queries: Vec<Query>,
    buf: Vec<u8>,
}

/// Entry point of `coracle network-switch CONFIG`.
pub fn switch_main(args: &[String]) -> i32 {
    let mut report = std::io::stdout();
    let cfg: SwitchConfig = match args.first().map(|a| serde_json::from_str(a)) {
        Some(Ok(c)) => c,
        _ => {
            let _ = writeln!(report, "error the switch got no valid configuration");
            return 1;
        }
    };
    // Detached from the runner that started it: its own session, reparented.
    let _ = nix::unistd::setsid();
    match crate::sys::clone3(0) {
        Ok(crate::sys::Forked::Parent { .. }) => return 0,
        Ok(crate::sys::Forked::Child) => {}
        Err(e) => {
            let _ = writeln!(report, "error fork the switch: {e}");
            return 1;
        }
    }
    // (SIGPIPE is ignored, as in every Rust program; sends use MSG_NOSIGNAL.)
    let listener = match listen(&cfg.socket) {
        Ok(l) => l,
        Err(e) => {
            let _ = writeln!(report, "error {e:#}");
            return 1;
        }
    };
    let _ = writeln!(report, "ok");
    let _ = report.flush();
    if let Ok(null) = std::fs::File::options().write(true).open("/dev/null") {
        let _ = nix::unistd::dup2(null.as_raw_fd(), 1);
    }
    let mtu = cfg.mtu as usize;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&cfg.lock)
        .ok();
    if let Err(e) = confine() {
        eprintln!("coracle network switch: confine: {e:#}");
        return 1;
    }
    let mut s = Switch {
        lock,
        gw_mac: mac_of(cfg.gateway),
        cfg,
        listener,
        members: Vec::new(),
        queries: Vec::new(),
        buf: vec![0; VNET_HDR + mtu + 14 + 64],
    };
    match s.run() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("coracle network switch: {e:#}");
            1
        }
    }
}

fn listen(path: &Path) -> anyhow::Result<OwnedFd> {
    let s = seqpacket()?;
    let addr =
        UnixAddr::new(path).with_context(|| format!("the socket path {}", path.display()))?;
    let _ = std::fs::remove_file(path);
    sock::bind(s.as_raw_fd(), &addr).with_context(|| format!("bind {}", path.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    sock::listen(&s, sock::Backlog::new(128)?).context("listen")?;
    Ok(s)
}

#[derive(Clone, Copy)]
enum Slot {
    Listener,
    Conn(usize),
    Tap(usize),
    Query(usize),
}

impl Switch {
    fn run(&mut self) -> anyhow::Result<()> {
        loop {
            let mut slots = vec![Slot::Listener];
            let mut fds = vec![PollFd::new(self.listener.as_fd(), PollFlags::POLLIN)];
            for (i, m) in self.members.iter().enumerate() {
                slots.push(Slot::Conn(i));
                fds.push(PollFd::new(m.conn.as_fd(), PollFlags::POLLIN));
                if let Some(t) = &m.tap {
                    slots.push(Slot::Tap(i));
                    fds.push(PollFd::new(t.as_fd(), PollFlags::POLLIN));
                }
            }
            for (i, q) in self.queries.iter().enumerate() {
                slots.push(Slot::Query(i));
                fds.push(PollFd::new(q.sock.as_fd(), PollFlags::POLLIN));
            }
            let timeout = if self.queries.is_empty() { 5000 } else { 500 };
            match nix::poll::poll(&mut fds, PollTimeout::from(timeout as u16)) {
                Ok(_) | Err(nix::Error::EINTR) => {}
                Err(e) => bail!("poll: {e}"),
            }
            let ready: Vec<(Slot, PollFlags)> = slots
                .into_iter()
                .zip(
                    fds.iter()
                        .map(|f| f.revents().unwrap_or(PollFlags::empty())),
                )
                .filter(|(_, r)| !r.is_empty())
                .collect();
            drop(fds);
            let mut gone = Vec::new();
            let mut answered = Vec::new();
            for (slot, _) in ready {
                match slot {
                    Slot::Listener => self.accept(),
                    Slot::Conn(i) => {
                        if !self.message(i) {
                            gone.push(i);
                        }
                    }
                    Slot::Tap(i) => {
                        if !self.read_tap(i) {
                            self.members[i].tap = None;
                        }
                    }
                    Slot::Query(i) => {
                        self.answer_upstream(i);
                        answered.push(i);
                    }
                }
            }
            gone.sort_unstable();
            gone.dedup();
            for i in gone.into_iter().rev() {
                self.members.remove(i);
            }
            answered.sort_unstable();
            for i in answered.into_iter().rev() {
                self.queries.remove(i);
            }
            self.queries.retain(|q| q.started.elapsed() < QUERY_TIMEOUT);
            if self.members.is_empty() && self.may_exit() {
                return Ok(());
            }
        }
    }

    /// With no members: under the network's lock, exit unless a runner is
    /// already waiting to connect.
    fn may_exit(&mut self) -> bool {
        let Some(f) = &self.lock else {
            return false;
        };
        if f.lock().is_err() {
            return false;
        }
        let mut fds = [PollFd::new(self.listener.as_fd(), PollFlags::POLLIN)];
        let waiting = matches!(nix::poll::poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0);
        if waiting {
            // Live on, and let the next runners in: the lock is only held
            // to decide the end.
            let _ = f.unlock();
            self.accept();
            return false;
        }
        let _ = std::fs::remove_file(&self.cfg.socket);
        true
    }

    fn accept(&mut self) {
        if let Ok(c) = sock::accept4(self.listener.as_raw_fd(), SockFlag::SOCK_CLOEXEC) {
            let Ok(conn) = crate::sys::net::take_inherited_fd(c) else {
                return;
            };
            if self.members.len() < MAX_MEMBERS {
                self.members.push(Member {
                    conn,
                    ip: None,
                    names: Vec::new(),
                    tap: None,
                });
            }
        }
    }

    /// Handles a message from member `i`'s runner; false at its end.
    fn message(&mut self, i: usize) -> bool {
        let mut buf = vec![0u8; 8192];
        let (n, fd) = match crate::sys::recv_with_fd(self.members[i].conn.as_fd(), &mut buf) {
            Ok((0, _)) | Err(_) => return false,
            Ok(r) => r,
        };
        match buf[0] {
            b'H' => {
                let names: Vec<String> = serde_json::from_slice(&buf[1..n]).unwrap_or_default();
                let reply = match self.allocate() {
                    Some(ip) => {
                        let m = &mut self.members[i];
                        m.ip = Some(ip);
                        m.names = names.into_iter().map(|n| n.to_ascii_lowercase()).collect();
                        format!("A{ip}")
                    }
                    None => format!(
                        "Esubnet {}/{} has no free address left",
                        self.cfg.subnet, self.cfg.prefix
                    ),
                };
                let _ =
                    crate::sys::send_with_fd(self.members[i].conn.as_fd(), reply.as_bytes(), None);
                true
            }
            b'T' => {
                if let Some(t) = fd {
                    if self.members[i].ip.is_some() && set_nonblocking(&t) {
                        self.members[i].tap = Some(t);
                    }
                }
                true
            }
            _ => false,
        }
    }

    /// The lowest free host address (not the network, broadcast, gateway).
    fn allocate(&self) -> Option<Ipv4Addr> {
        let base = u32::from(self.cfg.subnet);
        let size = 1u32 << (32 - u32::from(self.cfg.prefix));
        (1..size - 1)
            .map(|h| Ipv4Addr::from(base + h))
            .find(|a| *a != self.cfg.gateway && !self.members.iter().any(|m| m.ip == Some(*a)))
    }

    /// Reads frames from member `i`'s tap and switches them; false when
    /// the tap is gone.
    fn read_tap(&mut self, i: usize) -> bool {
        for _ in 0..64 {
            let Some(tap) = &self.members[i].tap else {
                return false;
            };
            let n = match nix::unistd::read(tap.as_raw_fd(), &mut self.buf) {
                Ok(0) => return false,
                Ok(n) => n,
                Err(nix::Error::EAGAIN) => return true,
                Err(nix::Error::EINTR) => continue,
                Err(_) => return false,
            };
            if n > VNET_HDR + 14 {
                let packet = self.buf[..n].to_vec();
                self.switch(i, &packet);
            }
        }
        true
    }

    fn switch(&mut self, from: usize, packet: &[u8]) {
        let frame = &packet[VNET_HDR..];
        let Some(ip) = self.members[from].ip else {
            return;
        };
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            return;
        };
        // No spoofing: the member's own MAC, and its own address.
        if eth.src_addr() != EthernetAddress(mac_of(ip)) {
            return;
        }
        match eth.ethertype() {
            EthernetProtocol::Ipv4 => {
                let Ok(p) = Ipv4Packet::new_checked(eth.payload()) else {
                    return;
                };
                if p.src_addr() != ip {
                    return;
                }
            }
            EthernetProtocol::Arp => {
                let Some(ArpRepr::EthernetIpv4 {
                    operation,
                    source_protocol_addr,
                    target_protocol_addr,
                    ..
                }) = ArpPacket::new_checked(eth.payload())
                    .ok()
                    .and_then(|a| ArpRepr::parse(&a).ok())
                else {
                    return;
                };
                if source_protocol_addr != ip {
                    return;
                }
                if operation == ArpOperation::Request && target_protocol_addr == self.cfg.gateway {
                    self.arp_reply(from, ip);
                    return;
                }
            }
            _ => return,
        }
        let dst = eth.dst_addr();
        if dst == EthernetAddress(self.gw_mac) {
            self.for_gateway(from, frame);
        } else if dst.is_broadcast() || dst.is_multicast() {
            for (j, m) in self.members.iter().enumerate() {
                if j != from {
                    if let Some(t) = &m.tap {
                        let _ = nix::unistd::write(t, packet);
                    }
                }
            }
        } else if let Some(t) = self
            .members
            .iter()
            .find(|m| m.ip.is_some_and(|a| EthernetAddress(mac_of(a)) == dst))
            .and_then(|m| m.tap.as_ref())
        {
            let _ = nix::unistd::write(t, packet);
        }
    }

    fn send_to(&self, to: usize, frame: &[u8]) {
        if let Some(t) = &self.members[to].tap {
            let h = [0u8; VNET_HDR];
            let _ = nix::sys::uio::writev(
                t,
                &[std::io::IoSlice::new(&h), std::io::IoSlice::new(frame)],
            );
        }
    }

    fn arp_reply(&self, to: usize, ip: Ipv4Addr) {
        let arp = ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Reply,
            source_hardware_addr: EthernetAddress(self.gw_mac),
            source_protocol_addr: self.cfg.gateway,
            target_hardware_addr: EthernetAddress(mac_of(ip)),
            target_protocol_addr: ip,
        };
        let eth = EthernetRepr {
            src_addr: EthernetAddress(self.gw_mac),
            dst_addr: EthernetAddress(mac_of(ip)),
            ethertype: EthernetProtocol::Arp,
        };
        let mut buf = vec![0u8; eth.buffer_len() + arp.buffer_len()];
        let mut f = EthernetFrame::new_unchecked(&mut buf[..]);
        eth.emit(&mut f);
        arp.emit(&mut ArpPacket::new_unchecked(f.payload_mut()));
        self.send_to(to, &buf);
    }

    /// A frame to the gateway: only DNS is served there.
    fn for_gateway(&mut self, from: usize, frame: &[u8]) {
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            return;
        };
        let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
            return;
        };
        if ip.dst_addr() != self.cfg.gateway
            || ip.next_header() != IpProtocol::Udp
            || ip.more_frags()
            || ip.frag_offset() != 0
        {
            return;
        }
        let Ok(udp) = UdpPacket::new_checked(ip.payload()) else {
            return;
        };
        if udp.dst_port() != 53 || udp.src_port() == 0 {
            return;
        }
        let client = (ip.src_addr(), udp.src_port());
        let query = udp.payload();
        match self.resolve(query) {
            Some(reply) => self.dns_reply(from, client, &reply),
            None if !self.cfg.internal && self.queries.len() < MAX_QUERIES => {
                if let Some(up) = self.cfg.dns.first() {
                    if let Ok(s) = UdpSocket::bind("0.0.0.0:0") {
                        if s.set_nonblocking(true).is_ok()
                            && s.connect(up).is_ok()
                            && s.send(query).is_ok()
                        {
                            self.queries.push(Query {
                                sock: s,
                                client,
                                started: Instant::now(),
                            });
                        }
                    }
                }
            }
            None => {
                if let Some(r) = dns_response(query, &[], 5) {
                    self.dns_reply(from, client, &r);
                }
            }
        }
    }

    /// The answer for a member's name, or None to relay the query.
    fn resolve(&self, query: &[u8]) -> Option<Vec<u8>> {
        let (name, qtype) = dns_question(query)?;
        let m = self
            .members
            .iter()
            .find(|m| m.ip.is_some() && m.names.contains(&name))?;
        // A for IPv4; other types (AAAA) of a known name: no data.
        let answers: Vec<Ipv4Addr> = if qtype == 1 {
            m.ip.into_iter().collect()
        } else {
            Vec::new()
        };
        dns_response(query, &answers, 0)
    }

    fn answer_upstream(&mut self, i: usize) {
        let mut buf = [0u8; 4096];
        let Ok(n) = self.queries[i].sock.recv(&mut buf) else {
            return;
        };
        let client = self.queries[i].client;
        if let Some(to) = self.members.iter().position(|m| m.ip == Some(client.0)) {
            self.dns_reply(to, client, &buf[..n]);
        }
    }

    fn dns_reply(&self, to: usize, client: (Ipv4Addr, u16), payload: &[u8]) {
        let udp = UdpRepr {
            src_port: 53,
            dst_port: client.1,
        };
        let ip = Ipv4Repr {
            src_addr: self.cfg.gateway,
            dst_addr: client.0,
            next_header: IpProtocol::Udp,
            payload_len: udp.header_len() + payload.len(),
            hop_limit: 64,
        };
        let eth = EthernetRepr {
            src_addr: EthernetAddress(self.gw_mac),
            dst_addr: EthernetAddress(mac_of(client.0)),
            ethertype: EthernetProtocol::Ipv4,
        };
        let caps = smoltcp::phy::ChecksumCapabilities::default();
        let mut buf = vec![0u8; eth.buffer_len() + ip.buffer_len() + ip.payload_len];
        let mut f = EthernetFrame::new_unchecked(&mut buf[..]);
        eth.emit(&mut f);
        let mut p = Ipv4Packet::new_unchecked(f.payload_mut());
        ip.emit(&mut p, &caps);
        let mut u = UdpPacket::new_unchecked(p.payload_mut());
        udp.emit(
            &mut u,
            &IpAddress::Ipv4(self.cfg.gateway),
            &IpAddress::Ipv4(client.0),
            payload.len(),
            |b| b.copy_from_slice(payload),
            &caps,
        );
        self.send_to(to, &buf);
    }
}

/// Confines the switch once it listens: no new privileges and a seccomp
/// allow-list of what its loop needs (unix messages with descriptors,
/// taps, AF_INET UDP sockets for the DNS relay, flock and unlink of its
/// own lock and socket at the end; no open, no exec); anything else kills
/// it.
fn confine() -> anyhow::Result<()> {
    super::seccomp_confine(&[
        libc::SYS_flock,
        libc::SYS_unlinkat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_unlink,
    ])
}

fn set_nonblocking(fd: &OwnedFd) -> bool {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let Ok(fl) = fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL) else {
        return false;
    };
    let fl = OFlag::from_bits_truncate(fl) | OFlag::O_NONBLOCK;
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(fl)).is_ok()
}

// --- DNS --------------------------------------------------------------------

/// The single question of a standard query: its name (lower case, no
/// trailing dot) and type. None for anything else.
pub fn dns_question(q: &[u8]) -> Option<(String, u16)> {
    if q.len() < 12 || q[2] & 0xf8 != 0 || u16::from_be_bytes([q[4], q[5]]) != 1 {
        return None;
    }
    let (name, end) = qname(q)?;
    let t = q.get(end..end + 4)?;
    (u16::from_be_bytes([t[2], t[3]]) == 1).then_some(())?;
    Some((name, u16::from_be_bytes([t[0], t[1]])))
}

fn qname(q: &[u8]) -> Option<(String, usize)> {
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let l = usize::from(*q.get(i)?);
        if l == 0 {
            i += 1;
            break;
        }
        if l > 63 {
            return None;
        }
        let b = q.get(i + 1..i + 1 + l)?;
        labels.push(String::from_utf8_lossy(b).to_ascii_lowercase());
        i += 1 + l;
        if i > 255 + 12 {
            return None;
        }
    }
    Some((labels.join("."), i))
}

/// A response to `q` with A records `answers` (none: rcode `rcode`, or no
/// data when 0).
pub fn dns_response(q: &[u8], answers: &[Ipv4Addr], rcode: u8) -> Option<Vec<u8>> {
    if q.len() < 12 {
        return None;
    }
    let (_, end) = qname(q)?;
    let end = end + 4;
    if end > q.len() {
        return None;
    }
    let mut r = q[..end].to_vec();
    // QR, the opcode and RD as asked, AA, RA.
    r[2] = 0x80 | (q[2] & 0x79) | 0x04;
    r[3] = 0x80 | (rcode & 0x0f);
    r[4..6].copy_from_slice(&1u16.to_be_bytes());
    r[6..8].copy_from_slice(&(answers.len() as u16).to_be_bytes());
    r[8..12].fill(0);
    for a in answers {
        r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
        r.extend_from_slice(&5u32.to_be_bytes());
        r.extend_from_slice(&4u16.to_be_bytes());
        r.extend_from_slice(&a.octets());
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name.split('.') {
            q.push(l.len() as u8);
            q.extend_from_slice(l.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&1u16.to_be_bytes());
        q
    }

    /// Arbitrary frames from a member (garbage, truncations, bit flips of
    /// a DNS query to the gateway) never panic the switch.
    #[test]
    fn garbage_frames_are_survived() {
        let (a, _b) = nix::sys::socket::socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .unwrap();
        let (l, _m) = nix::sys::socket::socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .unwrap();
        let gw = Ipv4Addr::new(10, 89, 0, 1);
        let me = Ipv4Addr::new(10, 89, 0, 2);
        let mut s = Switch {
            cfg: SwitchConfig {
                name: "t".into(),
                subnet: Ipv4Addr::new(10, 89, 0, 0),
                prefix: 24,
                gateway: gw,
                internal: true,
                mtu: 1500,
                dns: Vec::new(),
                socket: "/nonexistent".into(),
                lock: "/nonexistent".into(),
            },
            gw_mac: mac_of(gw),
            lock: None,
            listener: l,
            members: vec![Member {
                conn: a,
                ip: Some(me),
                names: vec!["x".into()],
                tap: None,
            }],
            queries: Vec::new(),
            buf: Vec::new(),
        };
        // A DNS query from the member to the gateway, as a frame.
        let q = query("x", 1);
        let udp = UdpRepr {
            src_port: 4000,
            dst_port: 53,
        };
        let ip = Ipv4Repr {
            src_addr: me,
            dst_addr: gw,
            next_header: IpProtocol::Udp,
            payload_len: 8 + q.len(),
            hop_limit: 64,
        };
        let eth = EthernetRepr {
            src_addr: EthernetAddress(mac_of(me)),
            dst_addr: EthernetAddress(mac_of(gw)),
            ethertype: EthernetProtocol::Ipv4,
        };
        let caps = smoltcp::phy::ChecksumCapabilities::default();
        let mut f = vec![0u8; VNET_HDR + 14 + 20 + 8 + q.len()];
        {
            let mut e = EthernetFrame::new_unchecked(&mut f[VNET_HDR..]);
            eth.emit(&mut e);
            let mut p = Ipv4Packet::new_unchecked(e.payload_mut());
            ip.emit(&mut p, &caps);
            let mut u = UdpPacket::new_unchecked(p.payload_mut());
            udp.emit(
                &mut u,
                &IpAddress::Ipv4(me),
                &IpAddress::Ipv4(gw),
                q.len(),
                |b| b.copy_from_slice(&q),
                &caps,
            );
        }
        s.switch(0, &f);
        let mut seed = 0x1234_5678u32;
        for n in 0..4000usize {
            let mut g = f.clone();
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let i = VNET_HDR + (seed as usize >> 8) % (g.len() - VNET_HDR);
            g[i] ^= (seed >> 3) as u8 | 1;
            g.truncate(VNET_HDR + 1 + n % (g.len() - VNET_HDR));
            s.switch(0, &g);
        }
        s.switch(0, &[0xff; 200]);
        assert!(s.queries.is_empty(), "an internal network relays nothing");
    }

    #[test]
    fn questions_and_answers() {
        let q = query("Web.Local", 1);
        assert_eq!(dns_question(&q), Some(("web.local".into(), 1)));
        let r = dns_response(&q, &[Ipv4Addr::new(10, 89, 0, 2)], 0).unwrap();
        assert_eq!(&r[..2], &[0x12, 0x34]);
        assert_eq!(r[2] & 0x80, 0x80);
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), 1);
        assert_eq!(&r[r.len() - 4..], &[10, 89, 0, 2]);
        let nx = dns_response(&q, &[], 3).unwrap();
        assert_eq!(nx[3] & 0x0f, 3);
        assert_eq!(dns_question(&q[..14]), None);
        assert_eq!(dns_question(&[0xff; 40]), None);
        assert_eq!(mac_of(Ipv4Addr::new(10, 89, 0, 2)), [2, 0x42, 10, 89, 0, 2]);
    }
}
