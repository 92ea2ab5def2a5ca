//! Integration-test harness: runs the real `coracle` binary as an
//! unprivileged user, in a fresh per-test environment, on a root file system
//! built from Debian's `busybox-static`.
//!
//! When the suite runs as root (CI does), the harness creates two users once:
//! `coracle-test` with the subordinate range 200000:65536 (full id-map mode)
//! and `coracle-single` with none (single-id mode), and runs coracle as one of
//! them. As an ordinary user it runs coracle as that user, and the tests that
//! need an id-map mode the user cannot provide are skipped.
//!
//! A missing prerequisite is a SKIP on stderr, and a failure under `CI=true`.

#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::{Pid, Uid, User};

/// The user with a subordinate id range (full id-map mode).
pub const FULL_USER: &str = "coracle-test";
/// The user without subordinate ids (single-id mode).
pub const SINGLE_USER: &str = "coracle-single";
/// The subordinate range given to [`FULL_USER`] (uids and gids).
pub const SUB_START: u32 = 200_000;
pub const SUB_COUNT: u32 = 65_536;
/// How long one coracle invocation may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// Docker's default capability set (14 capabilities).
pub const DEFAULT_CAPS: u64 = 0x0000_0000_a804_25fb;
/// PATH given to coracle (and to every host helper the tests run).
pub const HOST_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Test prerequisites, installed by scripts/test.sh (Debian packages).
pub const BUSYBOX: &str = "/bin/busybox";

/// `CI=true`: missing prerequisites are failures.
pub fn ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

/// The running test's name (libtest names the thread after the test).
pub fn test_name() -> String {
    thread::current()
        .name()
        .unwrap_or("unknown-test")
        .to_string()
}

/// Returns `cond`; when false, prints `SKIP <test>: <what>` (or panics under
/// `CI=true`, naming the prerequisite). Use as `if !require(..) { return; }`.
pub fn require(cond: bool, what: &str) -> bool {
    if cond {
        return true;
    }
    if ci() {
        panic!("missing test prerequisite (a failure because CI=true): {what}");
    }
    // Straight to fd 2, past libtest's output capture, so that skips show.
    let _ = writeln!(std::io::stderr(), "SKIP {}: {}", test_name(), what);
    false
}

pub fn is_root() -> bool {
    Uid::effective().is_root()
}

/// The id-map mode a test runs coracle in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The user has a subordinate uid/gid range and newuidmap/newgidmap work.
    Full,
    /// The user has no subordinate ids: only its own id is mapped.
    Single,
    /// Whichever the user provides (full when the suite runs as root): for
    /// the tests that do not depend on the id-map mode.
    Any,
}

// ---------------------------------------------------------------------------
// One-time host setup (as root)
// ---------------------------------------------------------------------------

fn base_dir() -> PathBuf {
    if is_root() {
        PathBuf::from("/tmp/coracle-it")
    } else {
        PathBuf::from(format!("/tmp/coracle-it-{}", Uid::effective()))
    }
}

fn mkdir_mode(p: &Path, mode: u32) -> Result<(), String> {
    match fs::create_dir(p) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("mkdir {}: {e}", p.display())),
    }
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", p.display()))
}

fn run_host(cmd: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(cmd)
        .args(args)
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd} {}: {}\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn ensure_user(name: &str) -> Result<(), String> {
    if User::from_name(name)
        .map_err(|e| format!("getpwnam {name}: {e}"))?
        .is_some()
    {
        return Ok(());
    }
    run_host(
        "useradd",
        &[
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ],
    )
}

/// Rewrites a subid file: no entries for either test user, except the one
/// range of [`FULL_USER`]. Written atomically, and only when it changes.
fn fix_subid_file(path: &Path, full_id: u32, single_id: u32) -> Result<(), String> {
    let old = match fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("read {}: {e}", path.display())),
    };
    let owners = [
        FULL_USER.to_string(),
        SINGLE_USER.to_string(),
        full_id.to_string(),
        single_id.to_string(),
    ];
    let mut new = String::new();
    for line in old.lines() {
        let owner = line.split(':').next().unwrap_or("").trim();
        if owners.iter().any(|o| o == owner) {
            continue;
        }
        new.push_str(line);
        new.push('\n');
    }
    new.push_str(&format!("{FULL_USER}:{SUB_START}:{SUB_COUNT}\n"));
    if new == old {
        return Ok(());
    }
    let tmp = path.with_extension(format!("coracle-it.{}", std::process::id()));
    fs::write(&tmp, &new).map_err(|e| format!("write {}: {e}", tmp.display()))?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644))
        .map_err(|e| format!("chmod {}: {e}", tmp.display()))?;
    fs::rename(&tmp, path).map_err(|e| format!("rename {}: {e}", path.display()))
}

/// Copies `src` to `dst` (atomically, via rename) unless it is already identical.
fn install_copy(src: &Path, dst: &Path, mode: u32) -> Result<(), String> {
    let want = fs::read(src).map_err(|e| format!("read {}: {e}", src.display()))?;
    if let Ok(have) = fs::read(dst) {
        let md = fs::metadata(dst).map_err(|e| e.to_string())?;
        if have == want && md.mode() & 0o7777 == mode && md.uid() == Uid::effective().as_raw() {
            return Ok(());
        }
    }
    let tmp = dst.with_file_name(format!(
        ".{}.tmp.{}",
        dst.file_name().unwrap().to_string_lossy(),
        std::process::id()
    ));
    fs::write(&tmp, &want).map_err(|e| format!("write {}: {e}", tmp.display()))?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", tmp.display()))?;
    fs::rename(&tmp, dst).map_err(|e| format!("rename {}: {e}", dst.display()))
}

/// The one-time setup; idempotent, serialized across test processes with a
/// file lock, run at most once per process.
fn host_setup() -> &'static Result<(), String> {
    static SETUP: OnceLock<Result<(), String>> = OnceLock::new();
    SETUP.get_or_init(|| {
        let base = base_dir();
        mkdir_mode(&base, 0o755)?;
        if is_root() {
            // Whoever made it, it must be root's and not writable by others.
            std::os::unix::fs::chown(&base, Some(0), Some(0)).map_err(|e| e.to_string())?;
        }
        mkdir_mode(&base.join("work"), 0o755)?;
        mkdir_mode(&base.join("bin"), 0o755)?;
        mkdir_mode(coracle_copy().parent().unwrap(), 0o755)?;
        let lock_path = base.join("setup.lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("open {}: {e}", lock_path.display()))?;
        let _lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| format!("flock {}: {e}", lock_path.display()))?;

        if is_root() {
            ensure_user(FULL_USER)?;
            ensure_user(SINGLE_USER)?;
            let full = User::from_name(FULL_USER)
                .ok()
                .flatten()
                .ok_or("no coracle-test user")?;
            let single = User::from_name(SINGLE_USER)
                .ok()
                .flatten()
                .ok_or("no coracle-single user")?;
            fix_subid_file(
                Path::new("/etc/subuid"),
                full.uid.as_raw(),
                single.uid.as_raw(),
            )?;
            fix_subid_file(
                Path::new("/etc/subgid"),
                full.uid.as_raw(),
                single.uid.as_raw(),
            )?;
            // As stock distributions ship them.
            for dev in ["/dev/fuse", "/dev/net/tun"] {
                if Path::new(dev).exists() {
                    fs::set_permissions(dev, fs::Permissions::from_mode(0o666))
                        .map_err(|e| format!("chmod {dev}: {e}"))?;
                }
            }
            install_copy(
                Path::new(env!("CARGO_BIN_EXE_coracle")),
                &coracle_copy(),
                0o755,
            )?;
            // The shim detached containers' monitors become: next to it.
            install_copy(
                Path::new(env!("CARGO_BIN_EXE_coracle-shim")),
                &coracle_copy().with_file_name("coracle-shim"),
                0o755,
            )?;
        }
        Ok(())
    })
}

/// Where the test users execute coracle from when the suite runs as root:
/// one directory per build (its binary's path), so that suites of several
/// target directories run at once never use each other's binary.
fn coracle_copy() -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_BIN_EXE_coracle").hash(&mut h);
    base_dir().join(format!("bin/{:016x}/coracle", h.finish()))
}

/// Whether `/bin/busybox` is there and statically linked (no PT_INTERP).
pub fn busybox_is_static() -> bool {
    let Ok(elf) = fs::read(BUSYBOX) else {
        return false;
    };
    if elf.len() < 64 || &elf[..4] != b"\x7fELF" || elf[4] != 2 || elf[5] != 1 {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    for i in 0..phnum {
        let o = phoff + i * phentsize;
        if o + 4 > elf.len() {
            return false;
        }
        if u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) == 3 {
            return false; // PT_INTERP: dynamically linked
        }
    }
    true
}

/// Whether `name` is installed setuid root (or with file capabilities, which
/// we do not check for: Debian's uidmap is setuid).
pub fn setuid_helper(name: &str) -> bool {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"].iter().any(|d| {
        fs::metadata(Path::new(d).join(name))
            .map(|m| m.is_file() && m.mode() & 0o4000 != 0 && m.uid() == 0)
            .unwrap_or(false)
    })
}

/// The ranges of `user`/`id` in a subid file.
pub fn subids(path: &str, user: &str, id: u32) -> Vec<(u32, u32)> {
    let content = fs::read_to_string(path).unwrap_or_default();
    content
        .lines()
        .filter_map(|l| {
            let mut p = l.trim().split(':');
            let owner = p.next()?;
            let start = p.next()?.parse().ok()?;
            let count = p.next()?.parse().ok()?;
            (owner == user || owner == id.to_string()).then_some((start, count))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Per-test environment
// ---------------------------------------------------------------------------

/// A fresh per-test environment: a user to run as, its HOME and XDG
/// directories, and a busybox root file system at [`Env::rootfs`].
pub struct Env {
    pub mode: Mode,
    /// Host uid/gid coracle runs as.
    pub uid: u32,
    pub gid: u32,
    pub user: String,
    /// Subordinate ranges (start, count), when in full mode.
    pub sub_uid: Option<(u32, u32)>,
    pub sub_gid: Option<(u32, u32)>,
    /// Whether the harness switches to another user to run coracle.
    switch_user: bool,
    /// The coracle binary the user runs.
    pub bin: PathBuf,
    tmp: tempfile::TempDir,
    /// The per-test directory (root-owned 0755 when running as root).
    pub dir: PathBuf,
    pub home: PathBuf,
    pub runtime: PathBuf,
    pub data: PathBuf,
    pub config: PathBuf,
    /// The container root file system (owned by the user).
    pub rootfs: PathBuf,
}

impl Env {
    /// Sets up a test in `mode`; `None` when it is skipped (a prerequisite
    /// is missing; under `CI=true` this panics instead).
    pub fn new(mode: Mode) -> Option<Env> {
        if !require(
            busybox_is_static(),
            "busybox-static (a static /bin/busybox)",
        ) {
            return None;
        }
        if let Err(e) = host_setup() {
            panic!("test host setup failed: {e}");
        }
        let (user, uid, gid, switch_user) = if is_root() {
            let name = match mode {
                Mode::Full | Mode::Any => FULL_USER,
                Mode::Single => SINGLE_USER,
            };
            let u = User::from_name(name)
                .unwrap()
                .expect("test user exists after setup");
            (name.to_string(), u.uid.as_raw(), u.gid.as_raw(), true)
        } else {
            let uid = Uid::effective();
            let name = User::from_uid(uid)
                .ok()
                .flatten()
                .map(|u| u.name)
                .unwrap_or_else(|| uid.to_string());
            (
                name,
                uid.as_raw(),
                nix::unistd::Gid::effective().as_raw(),
                false,
            )
        };
        let su = subids("/etc/subuid", &user, uid);
        let sg = subids("/etc/subgid", &user, uid);
        let mode = match mode {
            Mode::Any if is_root() || !su.is_empty() || !sg.is_empty() => Mode::Full,
            Mode::Any => Mode::Single,
            m => m,
        };
        let (sub_uid, sub_gid) = match mode {
            Mode::Full => {
                if !require(
                    setuid_helper("newuidmap") && setuid_helper("newgidmap"),
                    "setuid newuidmap and newgidmap (Debian package uidmap)",
                ) {
                    return None;
                }
                if !require(
                    su.len() == 1 && sg.len() == 1 && su[0].1 >= 65536 && sg[0].1 >= 65536,
                    &format!("one subordinate uid and gid range of 65536 ids for {user} (full id-map mode; run the suite as root to get one)"),
                ) {
                    return None;
                }
                (Some(su[0]), Some(sg[0]))
            }
            Mode::Single => {
                if !require(
                    su.is_empty() && sg.is_empty(),
                    &format!("a user without subordinate ids (single-id mode), but {user} has some (run the suite as root)"),
                ) {
                    return None;
                }
                (None, None)
            }
            Mode::Any => unreachable!(),
        };
        let bin = if switch_user {
            coracle_copy()
        } else {
            PathBuf::from(env!("CARGO_BIN_EXE_coracle"))
        };
        let mut prefix: String = test_name()
            .rsplit("::")
            .next()
            .unwrap_or("t")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(32)
            .collect();
        prefix.push('-');
        let tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir_in(base_dir().join("work"))
            .expect("create per-test directory");
        let dir = tmp.path().to_path_buf();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let env = Env {
            mode,
            uid,
            gid,
            user,
            sub_uid,
            sub_gid,
            switch_user,
            bin,
            home: dir.join("home"),
            runtime: dir.join("run"),
            data: dir.join("data"),
            config: dir.join("config"),
            rootfs: dir.join("rootfs"),
            dir,
            tmp,
        };
        for (d, m) in [
            (&env.home, 0o755),
            (&env.runtime, 0o700),
            (&env.data, 0o755),
            (&env.config, 0o755),
        ] {
            env.mkdir_owned(d, m);
        }
        env.build_rootfs(&env.rootfs);
        Some(env)
    }

    /// Creates a directory owned by the test user.
    pub fn mkdir_owned(&self, p: &Path, mode: u32) {
        fs::create_dir_all(p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
        fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
        self.chown(p);
    }

    /// Writes a file owned by the test user.
    pub fn write_owned(&self, p: &Path, content: impl AsRef<[u8]>) {
        fs::write(p, content).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        self.chown(p);
    }

    /// Gives `p` (not following symlinks) to the test user.
    pub fn chown(&self, p: &Path) {
        if self.switch_user {
            std::os::unix::fs::lchown(p, Some(self.uid), Some(self.gid))
                .unwrap_or_else(|e| panic!("chown {}: {e}", p.display()));
        }
    }

    /// Gives the whole tree at `p` to the test user.
    pub fn chown_tree(&self, p: &Path) {
        if !self.switch_user {
            return;
        }
        self.chown(p);
        let md = fs::symlink_metadata(p).unwrap();
        if md.is_dir() {
            for e in fs::read_dir(p).unwrap() {
                self.chown_tree(&e.unwrap().path());
            }
        }
    }

    /// The host uid that container uid `id` maps to (default userns mode).
    pub fn host_uid_of(&self, id: u32) -> Option<u32> {
        if id == 0 {
            return Some(self.uid);
        }
        let (start, count) = self.sub_uid?;
        (id - 1 < count).then(|| start + id - 1)
    }

    pub fn host_gid_of(&self, id: u32) -> Option<u32> {
        if id == 0 {
            return Some(self.gid);
        }
        let (start, count) = self.sub_gid?;
        (id - 1 < count).then(|| start + id - 1)
    }

    /// Builds a busybox root file system at `root`, owned by the user
    /// (container root), with `/home/user` owned by container uid 1000 when
    /// that id is mapped.
    pub fn build_rootfs(&self, root: &Path) {
        let mk = |rel: &str, mode: u32| {
            let p = root.join(rel);
            fs::create_dir_all(&p).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        };
        mk("", 0o755);
        for d in [
            "bin",
            "etc",
            "proc",
            "sys",
            "dev",
            "home",
            "home/user",
            "mnt",
            "var",
            "usr",
        ] {
            mk(d, 0o755);
        }
        mk("tmp", 0o1777);
        mk("root", 0o700);
        fs::copy(BUSYBOX, root.join("bin/busybox")).unwrap();
        fs::set_permissions(root.join("bin/busybox"), fs::Permissions::from_mode(0o755)).unwrap();
        for applet in busybox_applets() {
            if applet == "busybox" {
                continue;
            }
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
        }
        fs::write(
            root.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\n\
             daemon:x:1:1:daemon:/usr/sbin:/bin/false\n\
             user:x:1000:1000:user:/home/user:/bin/sh\n\
             nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        )
        .unwrap();
        fs::write(
            root.join("etc/group"),
            "root:x:0:\n\
             daemon:x:1:\n\
             audio:x:29:user\n\
             staff:x:50:user\n\
             users:x:100:\n\
             user:x:1000:\n\
             nogroup:x:65534:\n",
        )
        .unwrap();
        self.chown_tree(root);
        if self.switch_user {
            if let (Some(u), Some(g)) = (self.host_uid_of(1000), self.host_gid_of(1000)) {
                std::os::unix::fs::chown(root.join("home/user"), Some(u), Some(g)).unwrap();
            }
        }
    }

    /// A private copy of the coracle binary, owned by the user and writable
    /// by it (so that only coracle itself protects it), for the attack tests.
    pub fn private_coracle(&self) -> PathBuf {
        let dir = self.dir.join("private-bin");
        self.mkdir_owned(&dir, 0o755);
        let p = dir.join("coracle");
        fs::copy(env!("CARGO_BIN_EXE_coracle"), &p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        self.chown(&p);
        // Detached containers' monitors become the shim found next to it.
        let shim = dir.join("coracle-shim");
        fs::copy(env!("CARGO_BIN_EXE_coracle-shim"), &shim).unwrap();
        fs::set_permissions(&shim, fs::Permissions::from_mode(0o755)).unwrap();
        self.chown(&shim);
        p
    }

    /// `coracle ARGS` as the test user.
    pub fn coracle<I, S>(&self, args: I) -> Run<'_>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.host(&self.bin, args)
    }

    /// Any host program as the test user, in the test's clean environment.
    pub fn host<I, S>(&self, program: impl AsRef<Path>, args: I) -> Run<'_>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Run {
            env: self,
            program: program.as_ref().to_path_buf(),
            args: args
                .into_iter()
                .map(|a| a.as_ref().to_os_string())
                .collect(),
            stdin: None,
            extra_env: Vec::new(),
            timeout: TIMEOUT,
            shell_prefix: None,
            cgroup: None,
        }
    }

    /// `coracle run OPTS --rootfs ROOTFS COMMAND...`
    pub fn run(&self, opts: &[&str], command: &[&str]) -> Run<'_> {
        let mut args: Vec<OsString> = vec!["run".into()];
        args.extend(opts.iter().map(OsString::from));
        args.push("--rootfs".into());
        args.push(self.rootfs.clone().into());
        args.extend(command.iter().map(OsString::from));
        self.coracle(args)
    }

    /// `run -d OPTS --rootfs ROOTFS sh -c SCRIPT`; the printed id.
    #[track_caller]
    pub fn detached(&self, opts: &[&str], script: &str) -> String {
        let mut o = vec!["-d"];
        o.extend_from_slice(opts);
        let out = self.run(&o, &["sh", "-c", script]).run();
        let id = out.ok().trim().to_string();
        assert!(
            id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "run -d prints the full id\n{out}"
        );
        id
    }

    /// `inspect -f TEMPLATE WHAT`, trimmed.
    #[track_caller]
    pub fn inspect_field(&self, what: &str, template: &str) -> String {
        self.coracle(["inspect", "-f", template, what])
            .run()
            .ok()
            .trim()
            .to_string()
    }

    /// `coracle run OPTS --rootfs ROOTFS sh -c SCRIPT`, run to completion.
    pub fn sh(&self, opts: &[&str], script: &str) -> Out {
        self.run(opts, &["sh", "-c", script]).run()
    }

    /// [`Env::sh`], started in the background.
    pub fn sh_spawn(&self, opts: &[&str], script: &str) -> Running {
        self.run(opts, &["sh", "-c", script]).spawn()
    }

    /// The clean environment coracle gets.
    fn base_env(&self) -> Vec<(String, OsString)> {
        vec![
            ("HOME".into(), self.home.clone().into()),
            ("XDG_RUNTIME_DIR".into(), self.runtime.clone().into()),
            ("XDG_DATA_HOME".into(), self.data.clone().into()),
            ("XDG_CONFIG_HOME".into(), self.config.clone().into()),
            ("PATH".into(), HOST_PATH.into()),
            ("USER".into(), self.user.clone().into()),
            ("LOGNAME".into(), self.user.clone().into()),
        ]
    }

    /// The container record directories under $XDG_DATA_HOME/coracle/containers.
    pub fn state_dirs(&self) -> Vec<String> {
        let dir = self.data.join("coracle/containers");
        let mut v: Vec<String> = match fs::read_dir(&dir) {
            Ok(rd) => rd
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        };
        v.sort();
        v
    }
}

// ---------------------------------------------------------------------------
// Running processes with a timeout
// ---------------------------------------------------------------------------

/// A command about to run as the test user.
pub struct Run<'a> {
    env: &'a Env,
    program: PathBuf,
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
    extra_env: Vec<(String, OsString)>,
    timeout: Duration,
    shell_prefix: Option<String>,
    cgroup: Option<PathBuf>,
}

impl Run<'_> {
    /// Feeds these bytes on stdin (else stdin is /dev/null).
    pub fn stdin(mut self, data: impl AsRef<[u8]>) -> Self {
        self.stdin = Some(data.as_ref().to_vec());
        self
    }

    /// Adds a variable to the caller's environment.
    pub fn env(mut self, k: &str, v: impl AsRef<OsStr>) -> Self {
        self.extra_env
            .push((k.to_string(), v.as_ref().to_os_string()));
        self
    }

    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Runs the program through `/bin/sh -c 'SCRIPT; exec "$0" "$@"'`, e.g.
    /// to hand it extra inherited file descriptors (`exec 7</etc/hostname`).
    pub fn shell_prefix(mut self, script: &str) -> Self {
        self.shell_prefix = Some(script.to_string());
        self
    }

    /// Starts the program in the cgroup v2 directory `dir` (the harness
    /// moves the child there before it becomes the test user: moving a
    /// process between cgroups needs write access to their common ancestor).
    pub fn in_cgroup(mut self, dir: &Path) -> Self {
        self.cgroup = Some(dir.to_path_buf());
        self
    }

    fn describe(&self) -> String {
        let mut s = self.program.display().to_string();
        for a in &self.args {
            s.push(' ');
            let a = a.to_string_lossy();
            if a.contains(|c: char| c.is_whitespace() || c == '\'') || a.is_empty() {
                s.push_str(&format!("{a:?}"));
            } else {
                s.push_str(&a);
            }
        }
        s
    }

    fn command(&self) -> Command {
        let mut cmd = match &self.shell_prefix {
            None => {
                let mut c = Command::new(&self.program);
                c.args(&self.args);
                c
            }
            Some(script) => {
                let mut c = Command::new("/bin/sh");
                c.arg("-c")
                    .arg(format!("{script}\nexec \"$0\" \"$@\""))
                    .arg(&self.program);
                c.args(&self.args);
                c
            }
        };
        cmd.env_clear();
        for (k, v) in self
            .env
            .base_env()
            .into_iter()
            .chain(self.extra_env.iter().cloned())
        {
            cmd.env(k, v);
        }
        cmd.current_dir(&self.env.home);
        if let Some(dir) = &self.cgroup {
            // std runs pre_exec after its own uid/gid change, so the
            // switch to the user is done here, after the move.
            let procs =
                std::ffi::CString::new(dir.join("cgroup.procs").into_os_string().into_vec())
                    .expect("cgroup path without NUL");
            let switch = self.env.switch_user.then_some((self.env.uid, self.env.gid));
            // SAFETY: the closure only makes raw syscalls (open, write,
            // close, setgroups, setgid, setuid) with data prepared before
            // the fork; nothing allocates or takes a lock.
            unsafe {
                cmd.pre_exec(move || {
                    let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                    if fd < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    // "0": the writing process itself.
                    let n = libc::write(fd, b"0".as_ptr().cast(), 1);
                    let err = std::io::Error::last_os_error();
                    libc::close(fd);
                    if n != 1 {
                        return Err(err);
                    }
                    if let Some((uid, gid)) = switch {
                        if libc::setgroups(0, std::ptr::null()) != 0
                            || libc::setgid(gid) != 0
                            || libc::setuid(uid) != 0
                        {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                    Ok(())
                });
            }
        } else if self.env.switch_user {
            cmd.uid(self.env.uid).gid(self.env.gid);
        }
        cmd.process_group(0);
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd
    }

    /// Starts it; see [`Running`].
    pub fn spawn(self) -> Running {
        let desc = self.describe();
        let mut child = self
            .command()
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
        if let Some(data) = self.stdin.clone() {
            let mut w = child.stdin.take().unwrap();
            thread::spawn(move || {
                let _ = w.write_all(&data);
            });
        }
        let out_rx = reader(child.stdout.take().unwrap());
        let err_rx = reader(child.stderr.take().unwrap());
        Running {
            child: Some(child),
            desc,
            timeout: self.timeout,
            out_rx,
            err_rx,
        }
    }

    /// Runs it to completion (failing the test after the timeout).
    pub fn run(self) -> Out {
        self.spawn().wait()
    }
}

fn reader<R: Read + Send + 'static>(mut r: R) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

/// A running process (in its own process group).
pub struct Running {
    child: Option<Child>,
    desc: String,
    timeout: Duration,
    out_rx: mpsc::Receiver<Vec<u8>>,
    err_rx: mpsc::Receiver<Vec<u8>>,
}

impl Running {
    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    /// Sends a signal to the process (not its group).
    pub fn signal(&self, sig: Signal) {
        nix::sys::signal::kill(Pid::from_raw(self.pid()), sig)
            .unwrap_or_else(|e| panic!("kill -{sig} {}: {e}", self.pid()));
    }

    /// Whether it has exited (without reaping it).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.as_mut().unwrap().try_wait(), Ok(Some(_)))
    }

    /// Waits for it to exit; after the timeout it is killed (with its
    /// process group) and the test fails.
    pub fn wait(mut self) -> Out {
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            if let Some(st) = child.try_wait().expect("wait") {
                break st;
            }
            if Instant::now() > deadline {
                let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
                let _ = child.wait();
                let stdout = self
                    .out_rx
                    .recv_timeout(Duration::from_secs(5))
                    .unwrap_or_default();
                let stderr = self
                    .err_rx
                    .recv_timeout(Duration::from_secs(5))
                    .unwrap_or_default();
                panic!(
                    "timed out after {:?}, killed: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    self.timeout,
                    self.desc,
                    String::from_utf8_lossy(&stdout),
                    String::from_utf8_lossy(&stderr)
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        // Output pipes must close once the process has exited: a process
        // still holding them outlived coracle.
        let grace = Duration::from_secs(10);
        let stdout = self.out_rx.recv_timeout(grace);
        let stderr = self.err_rx.recv_timeout(grace);
        let (Ok(stdout), Ok(stderr)) = (stdout, stderr) else {
            let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
            panic!(
                "{} exited ({status}) but its stdout/stderr stayed open: a process outlived it",
                self.desc
            );
        };
        Out {
            status,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            desc: self.desc.clone(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            if let Ok(None) = child.try_wait() {
                let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
                let _ = child.wait();
            }
        }
    }
}

/// Removes every container of the test when dropped (`rm -f` of all
/// that `ps -a` lists), so that no monitor or container outlives a failed
/// assertion.
pub struct Cleanup<'a>(pub &'a Env);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let ids = self.0.coracle(["ps", "-aq", "--no-trunc"]).run().lines();
        if !ids.is_empty() {
            let mut args = vec!["rm".to_string(), "-f".to_string()];
            args.extend(ids);
            let _ = self.0.coracle(args).run();
        }
    }
}

/// What a finished process left.
pub struct Out {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub desc: String,
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "command: {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.desc, self.status, self.stdout, self.stderr
        )
    }
}

impl Out {
    /// The exit code; fails the test when the process died of a signal.
    pub fn code(&self) -> i32 {
        match self.status.code() {
            Some(c) => c,
            None => panic!(
                "killed by signal {:?} instead of exiting\n{self}",
                self.status.signal()
            ),
        }
    }

    /// Asserts exit status 0; returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert!(self.status.success(), "expected success\n{self}");
        &self.stdout
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.status.code(),
            Some(code),
            "expected exit code {code}\n{self}"
        );
        self
    }

    /// stdout lines, trimmed, without empty ones.
    pub fn lines(&self) -> Vec<String> {
        self.stdout
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Parsing what the container printed
// ---------------------------------------------------------------------------

/// One line of /proc/PID/mountinfo.
#[derive(Debug, Clone)]
pub struct MountInfo {
    pub root: String,
    pub point: String,
    pub opts: Vec<String>,
    pub fstype: String,
    pub source: String,
    pub super_opts: Vec<String>,
}

impl MountInfo {
    pub fn read_only(&self) -> bool {
        self.opts.iter().any(|o| o == "ro")
    }
}

fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    text.lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let pre: Vec<&str> = pre.split(' ').collect();
            let post: Vec<&str> = post.split(' ').collect();
            if pre.len() < 6 || post.len() < 3 {
                return None;
            }
            Some(MountInfo {
                root: unescape_octal(pre[3]),
                point: unescape_octal(pre[4]),
                opts: pre[5].split(',').map(String::from).collect(),
                fstype: post[0].to_string(),
                source: unescape_octal(post[1]),
                super_opts: post[2].split(',').map(String::from).collect(),
            })
        })
        .collect()
}

/// The topmost mount at `point`, if any.
pub fn mount_at<'a>(mounts: &'a [MountInfo], point: &str) -> Option<&'a MountInfo> {
    mounts.iter().rev().find(|m| m.point == point)
}

/// A `Key:\tvalue` field of /proc/PID/status.
pub fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k == key).then(|| v.trim())
    })
}

/// A capability mask field of /proc/PID/status.
pub fn cap_field(status: &str, key: &str) -> u64 {
    let v = status_field(status, key).unwrap_or_else(|| panic!("no {key} in status:\n{status}"));
    u64::from_str_radix(v, 16).unwrap_or_else(|e| panic!("{key}: {v}: {e}"))
}

/// The whitespace-separated number fields of a uid_map/gid_map.
pub fn parse_id_map(text: &str) -> Vec<Vec<u64>> {
    text.lines()
        .map(|l| {
            l.split_whitespace()
                .map(|f| f.parse().expect("id map field"))
                .collect::<Vec<u64>>()
        })
        .filter(|v| !v.is_empty())
        .collect()
}

/// Host processes whose command line is exactly `cmdline` (words joined by spaces).
pub fn host_pids_with_cmdline(cmdline: &str) -> Vec<i32> {
    let mut pids = Vec::new();
    if let Ok(rd) = fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            if let Ok(c) = fs::read(e.path().join("cmdline")) {
                let c: Vec<u8> = c.iter().map(|&b| if b == 0 { b' ' } else { b }).collect();
                if String::from_utf8_lossy(&c).trim_end() == cmdline {
                    pids.push(pid);
                }
            }
        }
    }
    pids
}

/// Polls `f` until it returns true, for at most `TIMEOUT`; false if it never did.
pub fn wait_until(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// The applets of /bin/busybox.
pub fn busybox_applets() -> Vec<String> {
    static APPLETS: OnceLock<Vec<String>> = OnceLock::new();
    APPLETS
        .get_or_init(|| {
            let out = Command::new(BUSYBOX)
                .arg("--list")
                .output()
                .expect("busybox --list");
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty() && !l.contains('/'))
                .collect()
        })
        .clone()
}

// ---------------------------------------------------------------------------
// tmux, to drive `coracle run -t`
// ---------------------------------------------------------------------------

pub const TMUX: &str = "/usr/bin/tmux";

/// A tmux server of its own (socket in the test's HOME), run as the test user,
/// with one session `main` whose pane runs a host `/bin/sh`.
pub struct Tmux<'a> {
    env: &'a Env,
    sock: PathBuf,
}

impl<'a> Tmux<'a> {
    /// `None` when tmux is missing (skip).
    pub fn start(env: &'a Env, width: u32, height: u32) -> Option<Tmux<'a>> {
        if !require(Path::new(TMUX).exists(), "tmux (Debian package tmux)") {
            return None;
        }
        let t = Tmux {
            env,
            sock: env.home.join("tmux.sock"),
        };
        let w = width.to_string();
        let h = height.to_string();
        t.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            &w,
            "-y",
            &h,
            "/bin/sh",
        ])
        .ok();
        t.tmux(&["set-option", "-g", "status", "off"]).ok();
        t.tmux(&["set-option", "-g", "history-limit", "5000"]).ok();
        Some(t)
    }

    pub fn tmux(&self, args: &[&str]) -> Out {
        let mut all: Vec<OsString> = vec!["-S".into(), self.sock.clone().into()];
        all.extend(args.iter().map(OsString::from));
        self.env
            .host(TMUX, all)
            .env("SHELL", "/bin/sh")
            .env("TERM", "xterm-256color")
            .env("PS1", "host$ ")
            .env("ENV", "")
            .run()
    }

    /// Types `text` literally, then Enter.
    /// Types `echo TAG-$((20+22))` until a shell answers `TAG-42`: typed
    /// input may be dropped while coracle switches the terminal to raw mode.
    #[track_caller]
    pub fn until_shell_answers(&self, tag: &str) {
        let mut screen = String::new();
        let ready = wait_until(|| {
            self.type_line(&format!("echo {tag}-$((20+22))"));
            std::thread::sleep(Duration::from_millis(500));
            screen = self.capture();
            screen.contains(&format!("\n{tag}-42"))
        });
        assert!(ready, "the shell never answered:\n{screen}");
    }

    pub fn type_line(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "main", "-l", text]).ok();
        self.tmux(&["send-keys", "-t", "main", "Enter"]).ok();
    }

    /// Sends tmux key names (e.g. "C-c").
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        self.tmux(&args).ok();
    }

    /// The pane's text, with its history.
    pub fn capture(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-t", "main", "-S", "-5000"])
            .ok()
            .to_string()
    }

    /// Waits until the pane shows `needle`; fails the test after the timeout.
    pub fn wait_for(&self, needle: &str) -> String {
        let mut screen = String::new();
        if wait_until(|| {
            screen = self.capture();
            screen.contains(needle)
        }) {
            return screen;
        }
        panic!("the terminal never showed {needle:?}; it shows:\n{screen}");
    }

    /// (rows, columns) of the pane, as tmux sees it.
    pub fn pane_size(&self) -> (u32, u32) {
        let out = self.tmux(&[
            "display-message",
            "-p",
            "-t",
            "main",
            "#{pane_height} #{pane_width}",
        ]);
        let v: Vec<u32> = out
            .ok()
            .split_whitespace()
            .map(|f| f.parse().unwrap())
            .collect();
        (v[0], v[1])
    }

    pub fn resize(&self, width: u32, height: u32) {
        let (w, h) = (width.to_string(), height.to_string());
        self.tmux(&["resize-window", "-t", "main", "-x", &w, "-y", &h])
            .ok();
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        let mut all: Vec<OsString> = vec!["-S".into(), self.sock.clone().into()];
        all.push("kill-server".into());
        let mut r = self.env.host(TMUX, all).spawn();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !r.has_exited() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        // Dropping `r` kills it if it is still running.
    }
}

// ---------------------------------------------------------------------------
// Library tests, run as the unprivileged test user
// ---------------------------------------------------------------------------

/// Set (to `1`) in the environment of a test executable that
/// [`unprivileged`] re-runs as [`FULL_USER`].
pub const RERUN_VAR: &str = "CORACLE_IT_INNER";
/// How long one re-run test may take before it is killed and fails.
pub const RERUN_TIMEOUT: Duration = Duration::from_secs(600);

/// Whether this process is a test re-run as [`FULL_USER`] by [`unprivileged`].
pub fn in_unprivileged_rerun() -> bool {
    std::env::var_os(RERUN_VAR).is_some_and(|v| v == "1")
}

/// For the tests that call the coracle library in the test process (rather
/// than run the `coracle` binary): makes the test body run as the
/// unprivileged [`FULL_USER`] when the suite runs as root. Use as the first
/// line of the test: `if unprivileged(|| {}) { return; }`.
///
/// As root, it does the one-time host setup and then `root_setup` (what the
/// test needs that only root can do, such as installing packages), and runs
/// this test again, alone (`--exact NAME`), in a copy of the test executable
/// the user can run, as [`FULL_USER`] (uid, gid, no supplementary groups),
/// with a fresh HOME, XDG_RUNTIME_DIR, XDG_DATA_HOME, XDG_CONFIG_HOME and
/// TMPDIR of its own (removed afterwards), and with `CI` passed on. The test
/// fails unless that run exits 0 and libtest reports exactly this one test
/// passed. Returns true: the test has run, the caller returns.
///
/// In the re-run it checks that it really runs as [`FULL_USER`] and returns
/// false, and so it does for a developer's own (not root) user: the body
/// runs in this process.
pub fn unprivileged(root_setup: impl FnOnce()) -> bool {
    if in_unprivileged_rerun() {
        let user = User::from_name(FULL_USER)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("{RERUN_VAR}=1 but there is no user {FULL_USER}"));
        let groups = nix::unistd::getgroups().unwrap_or_default();
        assert!(
            Uid::current() == user.uid
                && Uid::effective() == user.uid
                && nix::unistd::Gid::current() == user.gid
                && nix::unistd::Gid::effective() == user.gid
                && groups.iter().all(|g| *g == user.gid),
            "{RERUN_VAR}=1, but this process is not {FULL_USER} alone: uid {}/{}, gid {}/{}, groups {groups:?}",
            Uid::current(),
            Uid::effective(),
            nix::unistd::Gid::current(),
            nix::unistd::Gid::effective()
        );
        return false;
    }
    if !is_root() {
        return false;
    }
    if let Err(e) = host_setup() {
        panic!("test host setup failed: {e}");
    }
    root_setup();
    let name = test_name();
    let exe = match test_exe_copy() {
        Ok(p) => p,
        Err(e) => panic!("copy the test executable for {FULL_USER}: {e}"),
    };
    let user = User::from_name(FULL_USER)
        .unwrap()
        .expect("test user exists after setup");
    let (uid, gid) = (user.uid.as_raw(), user.gid.as_raw());

    // Short (TMPDIR/podman-run-root stays under podman's 50 characters),
    // owned by the user; root removes it, whatever the test left there.
    let work = tempfile::Builder::new()
        .prefix("u-")
        .tempdir_in(base_dir().join("work"))
        .expect("create the re-run's directory");
    let give = |p: &Path, mode: u32| {
        if p != work.path() {
            fs::create_dir(p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
        }
        fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
        std::os::unix::fs::chown(p, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("chown {}: {e}", p.display()));
    };
    let dir = work.path();
    give(dir, 0o700);
    let (home, runtime, data, config) = (
        dir.join("home"),
        dir.join("run"),
        dir.join("data"),
        dir.join("config"),
    );
    give(&home, 0o755);
    give(&runtime, 0o700);
    give(&data, 0o755);
    give(&config, 0o755);

    let mut cmd = Command::new(exe);
    cmd.args(["--exact", &name, "--nocapture", "--test-threads=1"])
        .env_clear()
        .env("HOME", &home)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("XDG_DATA_HOME", &data)
        .env("XDG_CONFIG_HOME", &config)
        .env("TMPDIR", dir)
        .env("PATH", HOST_PATH)
        .env("USER", FULL_USER)
        .env("LOGNAME", FULL_USER)
        .env(RERUN_VAR, "1");
    for k in ["CI", "RUST_BACKTRACE", "RUST_LIB_BACKTRACE"] {
        if let Some(v) = std::env::var_os(k) {
            cmd.env(k, v);
        }
    }
    cmd.current_dir(&home)
        .uid(uid)
        .gid(gid)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let desc = format!("{} --exact {name} (as {FULL_USER})", exe.display());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
    let out_rx = reader(child.stdout.take().unwrap());
    let err_rx = reader(child.stderr.take().unwrap());
    let deadline = Instant::now() + RERUN_TIMEOUT;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break Some(st);
        }
        if Instant::now() > deadline {
            let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    // The output pipes close once the run has exited, unless a process it
    // started outlived it.
    let grace = Duration::from_secs(10);
    let (stdout, stderr) = (out_rx.recv_timeout(grace), err_rx.recv_timeout(grace));
    let outlived = stdout.is_err() || stderr.is_err();
    if outlived {
        let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
    }
    let stdout = String::from_utf8_lossy(&stdout.unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&stderr.unwrap_or_default()).into_owned();
    let report =
        |what: &str| format!("{what}: {desc}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
    let Some(status) = status else {
        panic!(
            "{}",
            report(&format!("timed out after {RERUN_TIMEOUT:?}, killed"))
        );
    };
    assert!(
        status.success(),
        "{}",
        report(&format!("failed ({status})"))
    );
    assert!(
        !outlived,
        "{}",
        report("exited, but its stdout/stderr stayed open: a process it started outlived it")
    );
    // A filter that matched nothing also exits 0.
    assert!(
        stdout.contains("test result: ok. 1 passed;"),
        "{}",
        report("libtest did not report this one test passed")
    );
    // Skips straight to fd 2, as `require` does; the rest to libtest's capture.
    for line in stderr.lines() {
        if line.starts_with("SKIP ") {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    }
    print!("{stdout}");
    eprint!("{stderr}");
    true
}

/// A copy of the running test executable that [`FULL_USER`] can run: one
/// directory per executable path, as for [`coracle_copy`].
fn test_exe_copy() -> &'static Result<PathBuf, String> {
    static COPY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    COPY.get_or_init(|| {
        use std::hash::{Hash, Hasher};
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        exe.hash(&mut h);
        let dir = base_dir().join(format!("bin/{:016x}", h.finish()));
        mkdir_mode(&dir, 0o755)?;
        let dst = dir.join(exe.file_name().ok_or("current_exe has no file name")?);
        install_copy(&exe, &dst, 0o755)?;
        Ok(dst)
    })
}

/// A DNS server on the host's 127.0.0.1 that answers every A query with
/// 192.0.2.77 (and other types with no records); its port.
pub fn test_resolver() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, from)) = s.recv_from(&mut buf) else {
                continue;
            };
            let q = &buf[..n];
            if n < 12 {
                continue;
            }
            // The question: labels up to the zero byte, then type and class.
            let mut i = 12;
            while i < n && q[i] != 0 {
                i += 1 + q[i] as usize;
            }
            if i + 5 > n {
                continue;
            }
            let qend = i + 5;
            let qtype = u16::from_be_bytes([q[i + 1], q[i + 2]]);
            let mut r = Vec::new();
            r.extend_from_slice(&q[..2]);
            r.extend_from_slice(&[0x81, 0x80, 0, 1, 0, u8::from(qtype == 1), 0, 0, 0, 0]);
            r.extend_from_slice(&q[12..qend]);
            if qtype == 1 {
                r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 77]);
            }
            let _ = s.send_to(&r, from);
        }
    });
    port
}
