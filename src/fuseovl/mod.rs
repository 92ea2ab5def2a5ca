//! coracle's own FUSE overlay file system (the `fuse-overlay` driver).
//!
//! N read-only lower layers (topmost first) and one writable upper
//! directory, merged the overlayfs way, served over FUSE by a daemon
//! process (`coracle fuse-overlay ... --foreground`, a hidden
//! subcommand). See DESIGN.md "The FUSE overlay".
//!
//! On-disk forms: in lower layers a whiteout is either an OCI `.wh.NAME`
//! file (the store's unpacked layers) or a 0/0 character device (the
//! kernel overlay's form), an opaque directory either holds
//! `.wh..wh..opq` or has `user.overlay.opaque=y`; in the upper the daemon
//! writes what the kernel overlay writes with `userxattr` (0/0 character
//! devices, `user.overlay.opaque=y`), so the code that reads an upper for
//! `diff`/`commit` is the same for both drivers.

mod confine;
mod fs;

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use nix::mount::MsFlags;

pub use fs::Overlay;

/// The hidden subcommand that runs the daemon.
pub const SUBCOMMAND: &str = "fuse-overlay";

/// What to mount.
#[derive(Debug, Clone)]
pub struct Config {
    /// Read-only layers, topmost first.
    pub lowers: Vec<PathBuf>,
    /// The writable layer.
    pub upper: PathBuf,
    /// Scratch directory on the upper's file system (copy-up staging).
    pub work: PathBuf,
    /// Present the owner, group, mode and device type recorded in
    /// `user.containers.override_stat`, and record chown/chmod there
    /// instead of on disk (single-id user namespaces).
    pub emulate_owners: bool,
    /// Request-handling threads (at least 1).
    pub threads: usize,
}

impl Config {
    fn args(&self) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::new();
        for l in &self.lowers {
            a.push("--lower".into());
            a.push(l.into());
        }
        a.push("--upper".into());
        a.push(self.upper.clone().into());
        a.push("--work".into());
        a.push(self.work.clone().into());
        if self.emulate_owners {
            a.push("--emulate-owners".into());
        }
        a.push("--threads".into());
        a.push(self.threads.to_string().into());
        a
    }
}

/// A running daemon (its child process).
#[derive(Debug)]
pub struct Daemon {
    pub child: Child,
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the daemon (the mount then answers ENOTCONN) and reaps it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the daemon runs.
#[derive(Debug, Clone, Copy)]
pub enum Join {
    /// In the caller's user and mount namespaces (the caller is already in
    /// the container's, after unshare and before pivot_root).
    Here,
    /// In the user and mount namespaces of this process (the container's
    /// first process, from its monitor): the daemon stays in the caller's
    /// pid namespace, out of the container's sight, and exits when that
    /// process exits.
    Pid(i32),
}

/// Starts the daemon for `cfg` on `mountpoint` and returns once the mount
/// has answered a request. With `die_with_parent`, the daemon is killed
/// when the calling thread exits.
pub fn spawn(
    cfg: &Config,
    mountpoint: &Path,
    join: Join,
    die_with_parent: bool,
) -> io::Result<Daemon> {
    let mut cmd = Command::new("/proc/self/exe");
    cmd.arg(SUBCOMMAND).args(cfg.args()).arg("--foreground");
    match join {
        Join::Here => {}
        Join::Pid(p) => {
            cmd.arg("--join-pid").arg(p.to_string());
        }
    }
    if die_with_parent {
        cmd.arg("--die-with-parent");
    }
    cmd.arg(mountpoint);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut child = cmd.spawn()?;
    let out = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("no pipe"))?;
    let mut line = String::new();
    let _ = BufReader::new(out).read_line(&mut line);
    if line.trim_end() == "ok" {
        return Ok(Daemon { child });
    }
    let _ = child.kill();
    let _ = child.wait();
    let msg = line.trim_end().strip_prefix("error ").unwrap_or("");
    Err(io::Error::other(if msg.is_empty() {
        format!(
            "the FUSE overlay daemon exited before mounting {}",
            mountpoint.display()
        )
    } else {
        msg.to_string()
    }))
}

/// Opens /dev/fuse and mounts it on `mountpoint` (mount(2) in the current
/// user and mount namespace: no fusermount).
pub fn mount_fuse(mountpoint: &Path) -> io::Result<OwnedFd> {
    let fd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .map_err(|e| io::Error::other(format!("open /dev/fuse: {e}")))?;
    let st = nix::sys::stat::stat(mountpoint)
        .map_err(|e| io::Error::other(format!("stat {}: {e}", mountpoint.display())))?;
    let opts = format!(
        "fd={},rootmode={:o},user_id={},group_id={},allow_other,default_permissions,max_read={}",
        fd.as_raw_fd(),
        st.st_mode & libc::S_IFMT,
        nix::unistd::getuid(),
        nix::unistd::getgid(),
        fs::MAX_IO,
    );
    nix::mount::mount(
        Some("coracle-fuse-overlay"),
        mountpoint,
        Some("fuse.coracle-overlay"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(opts.as_str()),
    )
    .map_err(|e| {
        io::Error::other(format!(
            "mount the FUSE overlay on {}: {e} (is /dev/fuse usable, and is this a user and mount namespace of your own?)",
            mountpoint.display()
        ))
    })?;
    Ok(OwnedFd::from(fd))
}

struct Args {
    cfg: Config,
    mountpoint: PathBuf,
    foreground: bool,
    join_pid: Option<i32>,
    watch_pid: Option<i32>,
    die_with_parent: bool,
}

fn parse(args: &[OsString]) -> Result<Args, String> {
    let mut cfg = Config {
        lowers: Vec::new(),
        upper: PathBuf::new(),
        work: PathBuf::new(),
        emulate_owners: false,
        threads: 2,
    };
    let (mut foreground, mut join_pid, mut watch_pid, mut die) = (false, None, None, false);
    let mut mountpoint = None;
    let mut it = args.iter();
    let pid = |v: Option<&OsString>, what: &str| -> Result<i32, String> {
        v.and_then(|v| v.to_str())
            .and_then(|v| v.parse::<i32>().ok())
            .filter(|p| *p > 0)
            .ok_or(format!("{what} needs a process id"))
    };
    while let Some(a) = it.next() {
        match a.to_str() {
            Some("--lower") => cfg
                .lowers
                .push(it.next().ok_or("--lower needs a directory")?.into()),
            Some("--upper") => cfg.upper = it.next().ok_or("--upper needs a directory")?.into(),
            Some("--work") => cfg.work = it.next().ok_or("--work needs a directory")?.into(),
            Some("--emulate-owners") => cfg.emulate_owners = true,
            Some("--threads") => {
                cfg.threads = it
                    .next()
                    .and_then(|v| v.to_str())
                    .and_then(|v| v.parse().ok())
                    .filter(|n| (1..=64).contains(n))
                    .ok_or("--threads needs a number from 1 to 64")?
            }
            Some("--foreground" | "-f") => foreground = true,
            Some("--join-pid") => join_pid = Some(pid(it.next(), "--join-pid")?),
            Some("--watch-pid") => watch_pid = Some(pid(it.next(), "--watch-pid")?),
            Some("--die-with-parent") => die = true,
            Some(s) if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ => {
                if mountpoint.replace(PathBuf::from(a)).is_some() {
                    return Err("only one mount point may be given".into());
                }
            }
        }
    }
    if cfg.upper.as_os_str().is_empty() || cfg.work.as_os_str().is_empty() {
        return Err("--upper and --work are required".into());
    }
    let mountpoint = mountpoint.ok_or("no mount point given")?;
    Ok(Args {
        cfg,
        mountpoint,
        foreground,
        join_pid,
        watch_pid,
        die_with_parent: die,
    })
}

const USAGE: &str = "usage: coracle fuse-overlay [--lower DIR]... --upper DIR --work DIR [--emulate-owners] [--threads N] [--foreground] [--watch-pid PID] MOUNTPOINT";

/// `coracle fuse-overlay ...` (hidden): mounts and serves. Without
/// `--foreground` it starts the daemon in the background and exits 0 once
/// the mount answers.
pub fn main(args: &[OsString]) -> i32 {
    let a = match parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("coracle fuse-overlay: {e}\n{USAGE}");
            return 125;
        }
    };
    if !a.foreground {
        let mut cfg_args = a.cfg.args();
        if let Some(p) = a.watch_pid {
            cfg_args.push("--watch-pid".into());
            cfg_args.push(p.to_string().into());
        }
        if let Some(p) = a.join_pid {
            cfg_args.push("--join-pid".into());
            cfg_args.push(p.to_string().into());
        }
        let mut cmd = Command::new("/proc/self/exe");
        cmd.arg(SUBCOMMAND)
            .args(cfg_args)
            .arg("--foreground")
            .arg(&a.mountpoint)
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        crate::sys::spawn_in_new_session(&mut cmd);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("coracle fuse-overlay: start the daemon: {e}");
                return 125;
            }
        };
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        if line.trim_end() == "ok" {
            println!("{}", child.id());
            return 0;
        }
        let _ = child.wait();
        let msg = line.trim_end().strip_prefix("error ").unwrap_or("");
        eprintln!(
            "coracle fuse-overlay: {}",
            if msg.is_empty() {
                "the daemon exited before mounting"
            } else {
                msg
            }
        );
        return 125;
    }
    match serve(a) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("coracle fuse-overlay: {e}");
            125
        }
    }
}

/// The daemon: join, mount, report `ok` on stdout, serve until unmounted.
fn serve(a: Args) -> io::Result<()> {
    use std::io::Write;
    let report = std::io::stdout().as_fd().try_clone_to_owned()?;
    let mut report = Some(std::fs::File::from(report));
    let fail = |report: &mut Option<std::fs::File>, e: &io::Error| {
        if let Some(mut r) = report.take() {
            let _ = writeln!(r, "error {}", e.to_string().replace('\n', " "));
        }
    };
    let r = (|| -> io::Result<()> {
        if a.die_with_parent {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
        }
        let mut watch = Vec::new();
        if let Some(p) = a.join_pid {
            let pidfd = crate::sys::pidfd_open(p)
                .map_err(|e| io::Error::other(format!("pidfd_open {p}: {e}")))?;
            nix::sched::setns(
                pidfd.as_fd(),
                nix::sched::CloneFlags::CLONE_NEWUSER | nix::sched::CloneFlags::CLONE_NEWNS,
            )
            .map_err(|e| io::Error::other(format!("join the namespaces of {p}: {e}")))?;
            watch.push(pidfd);
        }
        if let Some(p) = a.watch_pid {
            watch.push(
                crate::sys::pidfd_open(p)
                    .map_err(|e| io::Error::other(format!("pidfd_open {p}: {e}")))?,
            );
        }
        let ovl = Overlay::open(&a.cfg)?;
        let fd = mount_fuse(&a.mountpoint)?;
        if a.join_pid.is_some() {
            // A mount namespace of our own (a copy, with the mount just
            // made): the container's `pivot_root` changes the root of every
            // process of its mount namespace whose root is the old one, and
            // ours would then be our own mount, with the container's /proc.
            // Still single-threaded here, as unshare(CLONE_NEWNS) needs.
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).map_err(|e| {
                io::Error::other(format!("leave the container's mount namespace: {e}"))
            })?;
        }
        // stdout to /dev/null from here on (the report pipe is kept aside).
        let null = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
        nix::unistd::dup2(null.as_raw_fd(), 1)?;
        let mut config = fuser::Config::default();
        config.acl = fuser::SessionACL::All;
        config.n_threads = Some(a.cfg.threads.max(1));
        config.clone_fd = true;
        let mp = a.mountpoint.clone();
        let rep = report.take();
        std::thread::Builder::new()
            .name("fuse-ready".into())
            .stack_size(64 << 10)
            .spawn(move || {
                // Answers once the session serves requests.
                let ok = nix::sys::statvfs::statvfs(&mp).is_ok();
                if let Some(mut r) = rep {
                    let _ = if ok {
                        writeln!(r, "ok")
                    } else {
                        writeln!(r, "error the FUSE overlay does not answer")
                    };
                }
            })?;
        for pidfd in watch {
            std::thread::Builder::new()
                .name("fuse-watch".into())
                .stack_size(64 << 10)
                .spawn(move || {
                    let mut fds = [nix::poll::PollFd::new(
                        pidfd.as_fd(),
                        nix::poll::PollFlags::POLLIN,
                    )];
                    while let Err(nix::errno::Errno::EINTR) =
                        nix::poll::poll(&mut fds, nix::poll::PollTimeout::NONE)
                    {
                    }
                    // At once: exit()'s handlers may wait for locks the
                    // request threads hold.
                    crate::sys::exit_now(0);
                })?;
        }
        let session = fuser::Session::from_fd(ovl, fd, fuser::SessionACL::All, config)?;
        // Mounted and initialised: from here on the daemon only serves.
        for note in confine::confine(&a.cfg)? {
            eprintln!("coracle fuse-overlay: {note}");
        }
        session.run()
    })();
    if let Err(e) = &r {
        fail(&mut report, e);
    }
    r
}
