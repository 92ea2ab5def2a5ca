//! `coracle check` / `coracle info`: the host report.
//!
//! Each item is OK, WARN or FAIL, and every problem comes with the exact
//! command that fixes it. The probes (opening devices, forking a child that
//! tries a user namespace) run in [`collect`]; everything that decides what a
//! probe result means and what to tell the user lives in plain functions that
//! take the host's files as parameters, so that they are testable without
//! privileges.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use crate::sandbox::idmap::{self, SubidRange};

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs the checks, prints the report, and returns 1 if anything failed.
pub fn run(args: &CheckArgs) -> anyhow::Result<i32> {
    let items = collect(&HostPaths::default(), &Env::from_process());
    let out = if args.json {
        let mut s = serde_json::to_string_pretty(&items).context("serialize the report")?;
        s.push('\n');
        s
    } else {
        render_text(&items)
    };
    // `coracle check | head` must not panic on the closed pipe.
    match io::Write::write_all(&mut io::stdout().lock(), out.as_bytes()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        r => r.context("write the report to stdout")?,
    }
    Ok(exit_code(&items))
}

// ---------------------------------------------------------------------------
// Report items

/// How bad one finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub name: String,
    pub status: Status,
    pub detail: String,
    /// The command(s) that fix the problem; alternatives on separate lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Item {
    fn new(name: &str, status: Status, detail: impl Into<String>) -> Self {
        Item {
            name: name.to_string(),
            status,
            detail: detail.into(),
            fix: None,
        }
    }
    fn ok(name: &str, detail: impl Into<String>) -> Self {
        Self::new(name, Status::Ok, detail)
    }
    fn warn(name: &str, detail: impl Into<String>) -> Self {
        Self::new(name, Status::Warn, detail)
    }
    fn fail(name: &str, detail: impl Into<String>) -> Self {
        Self::new(name, Status::Fail, detail)
    }
    fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// 1 if any item failed, else 0.
pub fn exit_code(items: &[Item]) -> i32 {
    i32::from(items.iter().any(|i| i.status == Status::Fail))
}

/// The aligned text report:
///
/// ```text
/// OK    user namespaces      unprivileged user namespaces work
/// WARN  subordinate ids      no entries for alice in /etc/subuid ...
///                            fix: sudo usermod --add-subuids ...
/// ```
pub fn render_text(items: &[Item]) -> String {
    let width = items
        .iter()
        .map(|i| i.name.len() + 2)
        .max()
        .unwrap_or(0)
        .max(21);
    let indent = " ".repeat(6 + width);
    let mut out = String::new();
    for item in items {
        let _ = writeln!(
            out,
            "{:<6}{:<width$}{}",
            item.status.label(),
            item.name,
            item.detail
        );
        if let Some(fix) = &item.fix {
            for (n, line) in fix.lines().enumerate() {
                let tag = if n == 0 { "fix:" } else { "or: " };
                let _ = writeln!(out, "{indent}{tag} {line}");
            }
        }
    }
    let count = |s: Status| items.iter().filter(|i| i.status == s).count();
    let (warn, fail) = (count(Status::Warn), count(Status::Fail));
    let _ = writeln!(
        out,
        "\n{} ok, {warn} warning{}, {fail} failure{}",
        count(Status::Ok),
        if warn == 1 { "" } else { "s" },
        if fail == 1 { "" } else { "s" },
    );
    out
}

// ---------------------------------------------------------------------------
// The host: injectable paths and the caller's identity

/// Where the checks look; tests point these into a temporary directory.
#[derive(Debug, Clone)]
pub struct HostPaths {
    /// procfs root (`/proc`).
    pub proc: PathBuf,
    /// os-release candidates, first existing wins (`/etc/os-release`, `/usr/lib/os-release`).
    pub os_release: Vec<PathBuf>,
    pub passwd: PathBuf,
    pub subuid: PathBuf,
    pub subgid: PathBuf,
    pub dev_fuse: PathBuf,
    pub dev_tun: PathBuf,
    /// Where login sessions get their runtime dir (`/run/user`).
    pub run_user: PathBuf,
    /// Where the runtime-state fallback lives (`/tmp`).
    pub tmp: PathBuf,
}

impl Default for HostPaths {
    fn default() -> Self {
        HostPaths {
            proc: "/proc".into(),
            os_release: vec!["/etc/os-release".into(), "/usr/lib/os-release".into()],
            passwd: "/etc/passwd".into(),
            subuid: "/etc/subuid".into(),
            subgid: "/etc/subgid".into(),
            dev_fuse: "/dev/fuse".into(),
            dev_tun: "/dev/net/tun".into(),
            run_user: "/run/user".into(),
            tmp: "/tmp".into(),
        }
    }
}

/// Who is asking, and the environment variables the checks read.
#[derive(Debug, Clone)]
pub struct Env {
    pub uid: u32,
    pub gid: u32,
    pub euid: u32,
    pub user: String,
    pub home: Option<PathBuf>,
    pub xdg_runtime_dir: Option<PathBuf>,
    pub xdg_data_home: Option<PathBuf>,
    pub sudo_user: Option<String>,
    pub exe: Option<PathBuf>,
}

impl Env {
    pub fn from_process() -> Self {
        let uid = nix::unistd::getuid();
        let pw = nix::unistd::User::from_uid(uid).ok().flatten();
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let user = pw
            .as_ref()
            .map(|u| u.name.clone())
            .or_else(|| var("USER").map(|v| v.to_string_lossy().into_owned()))
            .unwrap_or_else(|| uid.to_string());
        Env {
            uid: uid.as_raw(),
            gid: nix::unistd::getgid().as_raw(),
            euid: nix::unistd::geteuid().as_raw(),
            user,
            home: var("HOME").map(PathBuf::from).or_else(|| pw.map(|u| u.dir)),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR").map(PathBuf::from),
            xdg_data_home: var("XDG_DATA_HOME").map(PathBuf::from),
            sudo_user: var("SUDO_USER").map(|v| v.to_string_lossy().into_owned()),
            exe: std::env::current_exe().ok(),
        }
    }

    /// The home directory from the password database, for a fix that sets HOME.
    fn home_guess(&self) -> String {
        nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(self.uid))
            .ok()
            .flatten()
            .map(|u| u.dir.display().to_string())
            .unwrap_or_else(|| format!("/home/{}", self.user))
    }

    fn is_root(&self) -> bool {
        self.euid == 0
    }

    /// `"sudo "`, or nothing when already root.
    fn sudo(&self) -> &'static str {
        if self.is_root() {
            ""
        } else {
            "sudo "
        }
    }
}

/// Runs every probe and returns the report items in display order.
pub fn collect(paths: &HostPaths, env: &Env) -> Vec<Item> {
    let distro = read_os_release(&paths.os_release)
        .map(|o| Distro::detect(&o))
        .unwrap_or_default();
    let sudo = env.sudo();
    let nested = read_nested_uid_map(&paths.proc);
    let mut items = vec![user_item(env)];

    items.push(match read_kernel_release(&paths.proc) {
        Ok(release) => kernel_item(&release),
        Err(e) => Item::warn("kernel", format!("{e:#}")),
    });

    // Probe even when the sysctls are unreadable: the probe is what counts.
    let (sysctls, sysctl_err) = match read_userns_sysctls(&paths.proc) {
        Ok(s) => (s, None),
        Err(e) => (UsernsSysctls::default(), Some(e)),
    };
    let label = read_apparmor_label(&paths.proc);
    let probe = crate::sys::probe_userns();
    let mut userns = userns_item(&probe, &sysctls, label.as_deref(), nested.as_deref(), env);
    if let (Some(e), Status::Fail) = (sysctl_err, userns.status) {
        let _ = write!(userns.detail, " (and {e:#})");
    }
    items.push(userns);

    items.push(subid_check(paths, env));
    items.push(helpers_item(
        idmap::find_helper("newuidmap"),
        idmap::find_helper("newgidmap"),
        find_in_path("newuidmap")
            .into_iter()
            .chain(find_in_path("newgidmap"))
            .collect(),
        nested.is_some(),
        distro,
        sudo,
    ));

    let purpose = "needed for the FUSE overlay (images whose files belong to several users)";
    items.push(device_item(
        "/dev/fuse",
        &paths.dev_fuse,
        open_rw(&paths.dev_fuse),
        "fuse",
        purpose,
        sudo,
    ));
    items.push(match find_in_path("fusermount3") {
        Some(p) => Item::ok("fusermount3", p.display().to_string()),
        None => Item::warn("fusermount3", "not found: needed to unmount FUSE overlays")
            .with_fix(distro.install_command(Package::Fuse3, sudo)),
    });
    let purpose = "needed for container networking";
    items.push(device_item(
        "/dev/net/tun",
        &paths.dev_tun,
        open_rw(&paths.dev_tun),
        "tun",
        purpose,
        sudo,
    ));

    items.push(runtime_dir_check(paths, env));
    items.push(data_dir_check(env));
    items.push(pause_item(crate::container::cgroup::delegated_parent()));
    items.push(shim_item(crate::container::monitor::shim_path()));
    items
}

/// Whether `coracle-shim`, the idle monitor of detached containers, is
/// next to coracle.
pub fn shim_item(found: anyhow::Result<PathBuf>) -> Item {
    match found {
        Ok(p) => Item::ok(
            "shim",
            format!("{}: the monitor of detached containers", p.display()),
        ),
        Err(e) => Item::fail("shim", format!("{e:#}; `run -d` and `start` cannot work"))
            .with_fix("./install.sh (or copy target/release/coracle-shim next to coracle)"),
    }
}

/// Whether `pause` can work: the caller's cgroup v2 is delegated (the
/// containers it runs get a cgroup of their own there).
pub fn pause_item(delegated: Result<PathBuf, String>) -> Item {
    let fix = "systemd-run --user --scope coracle run -d ...";
    match delegated {
        Ok(dir) if dir.join("cgroup.freeze").exists() && dir.join("cgroup.kill").exists() => {
            Item::ok(
                "pause",
                format!(
                    "your cgroup v2 {} is delegated to you: containers get a cgroup of their own there",
                    dir.display()
                ),
            )
        }
        Ok(_) => Item::warn(
            "pause",
            "pause/unpause are unavailable: the kernel has no cgroup v2 freezer or cgroup.kill (Linux 5.14 or later)",
        ),
        Err(why) => Item::warn(
            "pause",
            format!(
                "pause/unpause are unavailable here: {why}; they need a cgroup v2 delegated \
                 to you (a systemd user session on a cgroup v2 host)"
            ),
        )
        .with_fix(fix),
    }
}

/// Who the report is for.
pub fn user_item(env: &Env) -> Item {
    let who = format!("{} (uid {}, gid {})", env.user, env.uid, env.gid);
    match (env.is_root(), &env.sudo_user) {
        (true, Some(by)) => Item::ok(
            "user",
            format!(
                "{who} via sudo: the checks below are root's; run `coracle check` as {by} \
                 for theirs"
            ),
        ),
        (true, None) => Item::ok(
            "user",
            format!(
                "{who}: the checks below are root's; run `coracle check` as the user who \
                 runs containers"
            ),
        ),
        _ => Item::ok("user", who),
    }
}

/// Quotes `s` for a POSIX shell when it holds anything but safe characters.
pub fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+:,=@%".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// A path, quoted for a shell command line.
fn q(p: &Path) -> String {
    shell_quote(&p.display().to_string())
}

/// An io error as a lowercase message without the `(os error N)` suffix.
pub fn short_err(e: &io::Error) -> String {
    let s = e.to_string();
    let s = s.split(" (os error").next().unwrap_or(&s).to_string();
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => s,
    }
}

// ---------------------------------------------------------------------------
// Kernel

/// The kernel release from `PROC/sys/kernel/osrelease`.
pub fn read_kernel_release(proc: &Path) -> anyhow::Result<String> {
    let path = proc.join("sys/kernel/osrelease");
    let s = std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    Ok(s.trim().to_string())
}

/// `"6.1.0-13-amd64"` -> `(6, 1)`.
pub fn parse_kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut it = release.split(|c: char| !c.is_ascii_digit());
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    Some((major, minor))
}

pub fn kernel_item(release: &str) -> Item {
    const NAME: &str = "kernel";
    match parse_kernel_version(release) {
        None => Item::warn(NAME, format!("Linux {release}: cannot parse the version")),
        Some(v) if v < (5, 3) => Item::fail(
            NAME,
            format!("Linux {release}: coracle needs 5.3 or newer (clone3, pidfds)"),
        )
        .with_fix("upgrade the kernel to 5.11 or newer"),
        Some(v) if v < (5, 11) => Item::warn(
            NAME,
            format!(
                "Linux {release}: overlayfs in user namespaces needs 5.11; coracle falls back \
                 to its slower FUSE overlay"
            ),
        )
        .with_fix("upgrade the kernel to 5.11 or newer"),
        Some(_) => Item::ok(NAME, format!("Linux {release}")),
    }
}

// ---------------------------------------------------------------------------
// User namespaces

/// Parses a sysctl file's content as an integer (`"1\n"` -> 1).
pub fn parse_sysctl_int(content: &str) -> Option<i64> {
    content.trim().parse().ok()
}

/// Reads `PROC/sys/<name with dots as slashes>`; `None` when the sysctl does
/// not exist on this kernel.
pub fn read_sysctl(proc: &Path, name: &str) -> anyhow::Result<Option<i64>> {
    let path = proc.join("sys").join(name.replace('.', "/"));
    match std::fs::read_to_string(&path) {
        Ok(s) => parse_sysctl_int(&s)
            .map(Some)
            .with_context(|| format!("{}: not an integer: {:?}", path.display(), s.trim())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("read {}", path.display())),
    }
}

/// The sysctls that can switch unprivileged user namespaces off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsernsSysctls {
    /// `user.max_user_namespaces` (0 disables them for everyone).
    pub max_user_namespaces: Option<i64>,
    /// `kernel.unprivileged_userns_clone` (Debian <= 10 and some other patched kernels).
    pub unprivileged_userns_clone: Option<i64>,
    /// `kernel.apparmor_restrict_unprivileged_userns` (Ubuntu >= 23.10).
    pub apparmor_restrict: Option<i64>,
}

pub fn read_userns_sysctls(proc: &Path) -> anyhow::Result<UsernsSysctls> {
    Ok(UsernsSysctls {
        max_user_namespaces: read_sysctl(proc, "user.max_user_namespaces")?,
        unprivileged_userns_clone: read_sysctl(proc, "kernel.unprivileged_userns_clone")?,
        apparmor_restrict: read_sysctl(proc, "kernel.apparmor_restrict_unprivileged_userns")?,
    })
}

/// Whether a `/proc/self/uid_map` is the initial namespace's identity map
/// (`0 0 4294967295`); anything else means we already run inside a user
/// namespace (a container, bwrap, `unshare -U`).
pub fn is_initial_uid_map(content: &str) -> bool {
    let lines: Vec<Vec<&str>> = content
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    lines.len() == 1 && lines[0] == ["0", "0", "4294967295"]
}

/// Reads `PROC/self/uid_map`: `Some(content)` when inside a nested user namespace.
pub fn read_nested_uid_map(proc: &Path) -> Option<String> {
    let content = std::fs::read_to_string(proc.join("self/uid_map")).ok()?;
    (!is_initial_uid_map(&content))
        .then(|| content.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Our AppArmor label (`unconfined`, `coracle (unconfined)`, ...), if AppArmor is active.
pub fn read_apparmor_label(proc: &Path) -> Option<String> {
    ["self/attr/apparmor/current", "self/attr/current"]
        .iter()
        .find_map(|p| std::fs::read_to_string(proc.join(p)).ok())
        .map(|s| s.trim_end_matches(['\n', '\0']).to_string())
}

/// The command that sets a sysctl now and on every boot.
pub fn sysctl_fix(name: &str, value: i64, sudo: &str) -> String {
    format!(
        "{sudo}sysctl -w {name}={value} && echo {name}={value} \
         | {sudo}tee /etc/sysctl.d/90-coracle-{}.conf",
        name.rsplit('.').next().unwrap_or(name).replace('_', "-")
    )
}

/// A sysctl that blocks unprivileged user namespaces, and how to lift it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub cause: String,
    pub fix: String,
}

/// The sysctls that currently block unprivileged user namespaces.
pub fn userns_blockers(s: &UsernsSysctls, sudo: &str) -> Vec<Blocker> {
    let mut out = Vec::new();
    if s.max_user_namespaces == Some(0) {
        out.push(Blocker {
            cause: "user.max_user_namespaces is 0".into(),
            fix: sysctl_fix("user.max_user_namespaces", 28633, sudo),
        });
    }
    if s.unprivileged_userns_clone == Some(0) {
        out.push(Blocker {
            cause: "kernel.unprivileged_userns_clone is 0".into(),
            fix: sysctl_fix("kernel.unprivileged_userns_clone", 1, sudo),
        });
    }
    if s.apparmor_restrict == Some(1) {
        out.push(Blocker {
            cause: "kernel.apparmor_restrict_unprivileged_userns is 1 (AppArmor denies \
                    capabilities inside unprivileged user namespaces)"
                .into(),
            fix: sysctl_fix("kernel.apparmor_restrict_unprivileged_userns", 0, sudo),
        });
    }
    out
}

/// Whether an AppArmor label means "no profile" (so the Ubuntu restriction applies).
pub fn apparmor_unconfined(label: Option<&str>) -> bool {
    match label {
        None => true,
        Some(l) => l.is_empty() || l == "unconfined",
    }
}

/// The command that installs an AppArmor profile allowing user namespaces for
/// the coracle binary only (the alternative to lifting the restriction).
pub fn apparmor_profile_fix(exe: &Path, sudo: &str) -> String {
    format!(
        "printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile coracle %s \
         flags=(unconfined) {{\\n  userns,\\n}}\\n' {} | {sudo}tee /etc/apparmor.d/coracle \
         && {sudo}apparmor_parser -r /etc/apparmor.d/coracle",
        q(exe)
    )
}

/// Interprets the user-namespace probe in the light of the sysctls.
/// `nested`: our own uid_map when we already run inside a user namespace.
pub fn userns_item(
    probe: &io::Result<()>,
    sysctls: &UsernsSysctls,
    apparmor_label: Option<&str>,
    nested: Option<&str>,
    env: &Env,
) -> Item {
    const NAME: &str = "user namespaces";
    let sudo = env.sudo();
    let blockers = userns_blockers(sysctls, sudo);
    let causes = |b: &[Blocker]| {
        b.iter()
            .map(|b| b.cause.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let fixes = |b: &[Blocker]| {
        b.iter()
            .map(|b| b.fix.as_str())
            .collect::<Vec<_>>()
            .join(" && ")
    };
    let apparmor_alt = |b: &[Blocker]| {
        let exe = env
            .exe
            .clone()
            .unwrap_or_else(|| PathBuf::from("/usr/local/bin/coracle"));
        if b.iter().any(|b| b.cause.starts_with("kernel.apparmor")) {
            format!("\n{}", apparmor_profile_fix(&exe, sudo))
        } else {
            String::new()
        }
    };
    match probe {
        Err(e) => {
            let detail = if let (true, Some(map)) = (blockers.is_empty(), nested) {
                format!(
                    "cannot create a user namespace: {}; coracle already runs inside one (uid_map \
                     {map}) whose creator forbids nesting (a container's seccomp profile, \
                     bwrap --disable-userns, a nesting limit): run coracle outside it",
                    short_err(e)
                )
            } else if blockers.is_empty() {
                let limit = match sysctls.max_user_namespaces {
                    Some(n) => format!(" (user.max_user_namespaces is {n})"),
                    None => String::new(),
                };
                format!(
                    "cannot create a user namespace: {}{limit}; no sysctl explains it: inside a \
                     container, its seccomp profile or missing privileges may forbid them",
                    short_err(e)
                )
            } else {
                format!("cannot create a user namespace: {}", causes(&blockers))
            };
            let item = Item::fail(NAME, detail);
            if blockers.is_empty() {
                item
            } else {
                item.with_fix(format!("{}{}", fixes(&blockers), apparmor_alt(&blockers)))
            }
        }
        Ok(()) if env.is_root() && !blockers.is_empty() => Item::warn(
            NAME,
            format!(
                "work for root, but not for unprivileged users: {}",
                causes(&blockers)
            ),
        )
        .with_fix(format!("{}{}", fixes(&blockers), apparmor_alt(&blockers))),
        Ok(()) if !blockers.is_empty() => {
            // Only the AppArmor restriction lets unshare succeed while blocking:
            // the namespace is created but its process holds no capabilities.
            if apparmor_unconfined(apparmor_label) {
                Item::fail(
                    NAME,
                    format!(
                        "created, but without capabilities inside: {}",
                        causes(&blockers)
                    ),
                )
                .with_fix(format!(
                    "{}{}",
                    fixes(&blockers),
                    apparmor_alt(&blockers)
                ))
            } else {
                Item::ok(
                    NAME,
                    format!(
                        "unprivileged user namespaces work (allowed by the AppArmor profile {})",
                        apparmor_label.unwrap_or_default()
                    ),
                )
            }
        }
        Ok(()) => Item::ok(NAME, "unprivileged user namespaces work"),
    }
}

// ---------------------------------------------------------------------------
// Subordinate ids

/// Every range in a subuid/subgid file, whoever owns it, as `[start, end)`.
pub fn all_subid_ranges(content: &str) -> Vec<(u64, u64)> {
    content
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let mut parts = line.split(':');
            let _owner = parts.next()?;
            let start: u64 = parts.next()?.trim().parse().ok()?;
            let count: u64 = parts.next()?.trim().parse().ok()?;
            (count > 0).then_some((start, start + count))
        })
        .collect()
}

/// The lowest start >= 100000 where `count` ids overlap no existing range
/// (shadow-utils' own `SUB_UID_MIN`).
pub fn free_subid_start(taken: &[(u64, u64)], count: u32) -> Option<u32> {
    const MIN: u64 = 100_000;
    let mut ranges = taken.to_vec();
    ranges.sort_unstable();
    let mut start = MIN;
    for &(s, e) in &ranges {
        if e <= start {
            continue;
        }
        if s >= start + count as u64 {
            break;
        }
        start = e;
    }
    (start + count as u64 - 1 <= u32::MAX as u64).then_some(start as u32)
}

/// Whether `user` has a line in a passwd file (usermod only edits local users).
pub fn passwd_has_user(passwd: &str, user: &str) -> bool {
    passwd.lines().any(|l| l.split(':').next() == Some(user))
}

/// The command that gives `user` `count` ids from `start` in the files that lack them.
pub fn subid_fix(
    user: &str,
    start: u32,
    count: u32,
    uids: bool,
    gids: bool,
    local: bool,
    sudo: &str,
) -> String {
    let end = start as u64 + count as u64 - 1;
    if local {
        let mut cmd = format!("{sudo}usermod");
        if uids {
            let _ = write!(cmd, " --add-subuids {start}-{end}");
        }
        if gids {
            let _ = write!(cmd, " --add-subgids {start}-{end}");
        }
        let _ = write!(cmd, " {user}");
        cmd
    } else {
        let files: Vec<&str> = [(uids, "/etc/subuid"), (gids, "/etc/subgid")]
            .iter()
            .filter(|(want, _)| *want)
            .map(|(_, f)| *f)
            .collect();
        format!(
            "echo {user}:{start}:{count} | {sudo}tee -a {}",
            files.join(" ")
        )
    }
}

/// What the subuid/subgid entries of the caller mean for containers.
pub struct SubidFacts<'a> {
    pub user: &'a str,
    pub uids: &'a [SubidRange],
    pub gids: &'a [SubidRange],
    /// All ranges in both files, for picking a free start.
    pub taken: &'a [(u64, u64)],
    /// Whether the user is in /etc/passwd (usermod works).
    pub local: bool,
}

/// Container ids up to 65535 should be mapped (nobody is 65534).
pub const WANTED_SUBIDS: u32 = 65536;

pub fn subid_item(f: &SubidFacts<'_>, sudo: &str) -> Item {
    const NAME: &str = "subordinate ids";
    let total = |r: &[SubidRange]| r.iter().map(|r| r.count as u64).sum::<u64>();
    let (nu, ng) = (total(f.uids), total(f.gids));
    let start = free_subid_start(f.taken, WANTED_SUBIDS).unwrap_or(100_000);
    let fix =
        |uids: bool, gids: bool| subid_fix(f.user, start, WANTED_SUBIDS, uids, gids, f.local, sudo);
    let describe = |r: &[SubidRange]| {
        r.iter()
            .map(|r| format!("{}+{}", r.start, r.count))
            .collect::<Vec<_>>()
            .join(",")
    };
    if nu == 0 || ng == 0 {
        let missing = match (nu == 0, ng == 0) {
            (true, true) => "/etc/subuid and /etc/subgid",
            (true, false) => "/etc/subuid",
            _ => "/etc/subgid",
        };
        return Item::warn(
            NAME,
            format!(
                "no entries for {} in {missing}: coracle falls back to a single-id mapping (only \
                 container root is mapped), so images with files owned by other users and -u with \
                 other ids do not work",
                f.user
            ),
        )
        .with_fix(fix(nu == 0, ng == 0));
    }
    let short_u = nu < WANTED_SUBIDS as u64;
    let short_g = ng < WANTED_SUBIDS as u64;
    if short_u || short_g {
        return Item::warn(
            NAME,
            format!(
                "{} has only {nu} subordinate uids and {ng} gids: container ids above that are \
                 unmapped (nobody is 65534)",
                f.user
            ),
        )
        .with_fix(fix(short_u, short_g));
    }
    Item::ok(
        NAME,
        format!(
            "{}: uids {}, gids {}",
            f.user,
            describe(f.uids),
            describe(f.gids)
        ),
    )
}

/// The caller's ranges in one subid file, and every range in it.
struct SubidFile {
    mine: Vec<SubidRange>,
    all: Vec<(u64, u64)>,
}

fn read_subid_file(path: &Path, env: &Env) -> anyhow::Result<SubidFile> {
    let mine = idmap::read_subid(path, &env.user, env.uid)
        .with_context(|| format!("read {}", path.display()))?;
    let all = std::fs::read_to_string(path)
        .map(|s| all_subid_ranges(&s))
        .unwrap_or_default();
    Ok(SubidFile { mine, all })
}

fn subid_check(paths: &HostPaths, env: &Env) -> Item {
    let (uids, gids) = match (
        read_subid_file(&paths.subuid, env),
        read_subid_file(&paths.subgid, env),
    ) {
        (Ok(u), Ok(g)) => (u, g),
        (Err(e), _) | (_, Err(e)) => return Item::warn("subordinate ids", format!("{e:#}")),
    };
    let taken: Vec<(u64, u64)> = uids.all.iter().chain(&gids.all).copied().collect();
    let local = std::fs::read_to_string(&paths.passwd)
        .map(|p| passwd_has_user(&p, &env.user))
        .unwrap_or(true);
    let facts = SubidFacts {
        user: &env.user,
        uids: &uids.mine,
        gids: &gids.mine,
        taken: &taken,
        local,
    };
    subid_item(&facts, env.sudo())
}

// ---------------------------------------------------------------------------
// Distribution and packages

/// The parts of os-release(5) that name the distribution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsRelease {
    pub id: String,
    pub id_like: Vec<String>,
}

/// Parses os-release content (`KEY=value`, values optionally quoted).
pub fn parse_os_release(content: &str) -> OsRelease {
    let mut out = OsRelease::default();
    for line in content.lines() {
        let Some((key, value)) = line.trim().split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        match key.trim() {
            "ID" => out.id = value.to_ascii_lowercase(),
            "ID_LIKE" => {
                out.id_like = value
                    .split_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect()
            }
            _ => {}
        }
    }
    out
}

/// Reads the first existing os-release file.
pub fn read_os_release(candidates: &[PathBuf]) -> anyhow::Result<OsRelease> {
    for path in candidates {
        match std::fs::read_to_string(path) {
            Ok(s) => return Ok(parse_os_release(&s)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("read {}", path.display())),
        }
    }
    anyhow::bail!("no os-release file found")
}

/// Distribution families, by package manager.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Distro {
    Debian,
    Fedora,
    Arch,
    Suse,
    Alpine,
    #[default]
    Unknown,
}

/// Packages the report may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Package {
    /// newuidmap / newgidmap.
    Uidmap,
    /// fusermount3.
    Fuse3,
}

impl Distro {
    /// The family from ID, else from the first known ID_LIKE entry.
    pub fn detect(os: &OsRelease) -> Distro {
        std::iter::once(&os.id)
            .chain(&os.id_like)
            .map(|id| match id.as_str() {
                "debian" | "ubuntu" | "raspbian" => Distro::Debian,
                "fedora" | "rhel" | "centos" | "rocky" | "almalinux" | "amzn" => Distro::Fedora,
                "arch" | "archlinux" | "manjaro" | "endeavouros" => Distro::Arch,
                "suse" | "opensuse" | "sles" | "opensuse-leap" | "opensuse-tumbleweed" => {
                    Distro::Suse
                }
                "alpine" => Distro::Alpine,
                _ => Distro::Unknown,
            })
            .find(|d| *d != Distro::Unknown)
            .unwrap_or(Distro::Unknown)
    }

    /// The package that provides `pkg` on this distribution.
    pub fn package_name(self, pkg: Package) -> Option<&'static str> {
        Some(match (self, pkg) {
            (Distro::Debian, Package::Uidmap) => "uidmap",
            (Distro::Fedora, Package::Uidmap) => "shadow-utils",
            (Distro::Arch | Distro::Suse, Package::Uidmap) => "shadow",
            (Distro::Alpine, Package::Uidmap) => "shadow-uidmap",
            (Distro::Unknown, _) => return None,
            (_, Package::Fuse3) => "fuse3",
        })
    }

    /// The command that installs `pkg`.
    pub fn install_command(self, pkg: Package, sudo: &str) -> String {
        let Some(name) = self.package_name(pkg) else {
            return match pkg {
                Package::Uidmap => {
                    "install newuidmap and newgidmap (package uidmap on Debian/Ubuntu, \
                                    shadow-utils on Fedora, shadow on Arch)"
                        .into()
                }
                Package::Fuse3 => "install fusermount3 (package fuse3)".into(),
            };
        };
        match self {
            Distro::Debian => format!("{sudo}apt-get install {name}"),
            Distro::Fedora => format!("{sudo}dnf install {name}"),
            Distro::Arch => format!("{sudo}pacman -S {name}"),
            Distro::Suse => format!("{sudo}zypper install {name}"),
            Distro::Alpine => format!("{sudo}apk add {name}"),
            Distro::Unknown => unreachable!("handled above"),
        }
    }
}

// ---------------------------------------------------------------------------
// newuidmap / newgidmap

/// An executable named `name` in PATH or the usual system directories,
/// privileged or not.
fn find_in_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/bin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// `found_*`: the privileged helpers; `present`: helpers found at all
/// (installed but neither setuid nor with file capabilities); `nested`: we
/// run inside a user namespace, where setuid root means nothing.
pub fn helpers_item(
    found_uid: Option<PathBuf>,
    found_gid: Option<PathBuf>,
    present: Vec<PathBuf>,
    nested: bool,
    distro: Distro,
    sudo: &str,
) -> Item {
    const NAME: &str = "newuidmap/newgidmap";
    if let (Some(u), Some(g)) = (&found_uid, &found_gid) {
        return Item::ok(NAME, format!("{} and {}", u.display(), g.display()));
    }
    let consequence = "coracle cannot map subordinate ids and falls back to a single-id mapping";
    let unprivileged: Vec<&PathBuf> = present
        .iter()
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            (name == "newuidmap" && found_uid.is_none())
                || (name == "newgidmap" && found_gid.is_none())
        })
        .collect();
    if !unprivileged.is_empty() {
        let list: Vec<String> = unprivileged
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        if nested {
            return Item::warn(
                NAME,
                format!(
                    "{} cannot work inside a user namespace (host root is not mapped here): \
                     {consequence}",
                    list.join(" and ")
                ),
            );
        }
        return Item::warn(
            NAME,
            format!(
                "{} neither setuid root nor with file capabilities: {consequence}",
                list.join(" and ")
            ),
        )
        .with_fix(format!(
            "{sudo}chmod 4755 {}",
            list.iter()
                .map(|p| shell_quote(p))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    Item::warn(NAME, format!("not installed: {consequence}"))
        .with_fix(distro.install_command(Package::Uidmap, sudo))
}

// ---------------------------------------------------------------------------
// Devices

fn open_rw(path: &Path) -> io::Result<()> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map(drop)
}

/// Interprets opening a character device read-write.
pub fn device_item(
    name: &str,
    path: &Path,
    opened: io::Result<()>,
    module: &str,
    purpose: &str,
    sudo: &str,
) -> Item {
    match opened {
        Ok(()) => Item::ok(name, format!("{} can be opened read-write", path.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Item::warn(
            name,
            format!("{} does not exist: {purpose}", path.display()),
        )
        .with_fix(format!("{sudo}modprobe {module}")),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Item::warn(
            name,
            format!(
                "{} is not accessible to you ({}): {purpose}",
                path.display(),
                short_err(&e)
            ),
        )
        .with_fix(format!("{sudo}chmod 0666 {}", q(path))),
        Err(e) => Item::warn(
            name,
            format!("open {}: {}: {purpose}", path.display(), short_err(&e)),
        ),
    }
}

// ---------------------------------------------------------------------------
// State directories

/// What is at a path that should be a private directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirState {
    Missing,
    /// A symlink or something other than a directory.
    NotDir,
    Dir {
        uid: u32,
        mode: u32,
    },
    Unreadable,
}

pub fn probe_dir(path: &Path) -> DirState {
    use std::os::unix::fs::MetadataExt;
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => DirState::Dir {
            uid: m.uid(),
            mode: m.mode() & 0o7777,
        },
        Ok(_) => DirState::NotDir,
        Err(e) if e.kind() == io::ErrorKind::NotFound => DirState::Missing,
        Err(_) => DirState::Unreadable,
    }
}

/// The runtime-state fallback when XDG_RUNTIME_DIR is unusable.
pub fn runtime_fallback(tmp: &Path, uid: u32) -> PathBuf {
    tmp.join(format!("coracle-{uid}"))
}

pub struct RuntimeFacts<'a> {
    pub uid: u32,
    pub xdg: Option<(&'a Path, DirState)>,
    /// `/run/user/UID` and what is there.
    pub session_dir: (&'a Path, DirState),
    pub fallback: (&'a Path, DirState),
}

pub fn runtime_dir_item(f: &RuntimeFacts<'_>, sudo: &str) -> Item {
    const NAME: &str = "runtime directory";
    let ours = |s: DirState| matches!(s, DirState::Dir { uid, .. } if uid == f.uid);
    if let Some((xdg, state)) = f.xdg {
        if xdg.is_absolute() && ours(state) {
            return Item::ok(NAME, format!("{}", xdg.join("coracle").display()));
        }
    }
    let (fb, fb_state) = f.fallback;
    let fallback_note = format!("coracle falls back to {} (mode 0700)", fb.display());
    // The fallback itself must be ours and private, or absent (coracle creates it).
    let fallback_problem = match fb_state {
        DirState::Missing => None,
        DirState::Dir { uid, mode } if uid == f.uid => (mode & 0o077 != 0).then(|| {
            Item::warn(
                NAME,
                format!(
                    "{} is accessible to other users (mode {mode:04o})",
                    fb.display()
                ),
            )
            .with_fix(format!("chmod 0700 {}", q(fb)))
        }),
        _ => Some(
            Item::fail(
                NAME,
                format!(
                    "{} exists but is not a directory owned by you: coracle cannot keep its \
                     runtime state there (its fallback when XDG_RUNTIME_DIR is unusable)",
                    fb.display()
                ),
            )
            .with_fix(format!("{sudo}rm -rf {}", q(fb))),
        ),
    };
    match f.xdg {
        Some((xdg, state)) => {
            let why = if !xdg.is_absolute() {
                "is not an absolute path"
            } else {
                match state {
                    DirState::Missing => "does not exist",
                    DirState::Dir { .. } => "is not owned by you",
                    _ => "is not a directory",
                }
            };
            fallback_problem.unwrap_or_else(|| {
                Item::warn(
                    NAME,
                    format!("XDG_RUNTIME_DIR={} {why}: {fallback_note}", xdg.display()),
                )
                .with_fix("unset XDG_RUNTIME_DIR")
            })
        }
        None => {
            let (session, s_state) = f.session_dir;
            if ours(s_state) {
                return Item::warn(
                    NAME,
                    format!(
                        "XDG_RUNTIME_DIR is not set but {} exists: {fallback_note}",
                        session.display()
                    ),
                )
                .with_fix(format!("export XDG_RUNTIME_DIR={}", q(session)));
            }
            fallback_problem.unwrap_or_else(|| {
                Item::ok(NAME, format!("XDG_RUNTIME_DIR is not set: {fallback_note}"))
            })
        }
    }
}

fn runtime_dir_check(paths: &HostPaths, env: &Env) -> Item {
    let session = paths.run_user.join(env.uid.to_string());
    let fallback = runtime_fallback(&paths.tmp, env.uid);
    let facts = RuntimeFacts {
        uid: env.uid,
        xdg: env.xdg_runtime_dir.as_deref().map(|p| (p, probe_dir(p))),
        session_dir: (&session, probe_dir(&session)),
        fallback: (&fallback, probe_dir(&fallback)),
    };
    runtime_dir_item(&facts, env.sudo())
}

/// Where images and layers go: `$XDG_DATA_HOME/coracle`, else `~/.local/share/coracle`.
pub fn data_dir(xdg_data_home: Option<&Path>, home: Option<&Path>) -> Option<PathBuf> {
    match xdg_data_home.filter(|p| p.is_absolute()) {
        Some(d) => Some(d.join("coracle")),
        None => home.map(|h| h.join(".local/share/coracle")),
    }
}

/// Interprets whether the data directory (or, while it does not exist yet,
/// its nearest existing ancestor `existing`) is writable for `uid`/`gid`.
pub fn data_dir_item(
    dir: &Path,
    existing: &Path,
    writable: Result<(), String>,
    home: Option<&Path>,
    (uid, gid): (u32, u32),
    sudo: &str,
) -> Item {
    const NAME: &str = "data directory";
    let Err(e) = writable else {
        return Item::ok(NAME, dir.display().to_string());
    };
    let item = Item::fail(
        NAME,
        format!(
            "{} cannot be created: {} is not writable for you ({e})",
            dir.display(),
            existing.display()
        ),
    );
    // Taking over a directory is right only inside the user's own home.
    match home {
        Some(h) if existing.starts_with(h) && existing != Path::new("/") => {
            item.with_fix(format!("{sudo}chown {uid}:{gid} {}", q(existing)))
        }
        _ => item.with_fix("export XDG_DATA_HOME=$HOME/.local/share"),
    }
}

fn data_dir_check(env: &Env) -> Item {
    let Some(dir) = data_dir(env.xdg_data_home.as_deref(), env.home.as_deref()) else {
        return Item::fail(
            "data directory",
            "neither XDG_DATA_HOME nor HOME is set: nowhere to keep images",
        )
        .with_fix(format!("export HOME={}", env.home_guess()));
    };
    let existing = dir
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let writable = nix::unistd::access(
        existing,
        nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK,
    )
    .map_err(|e| e.desc().to_lowercase());
    data_dir_item(
        &dir,
        existing,
        writable,
        env.home.as_deref(),
        (env.uid, env.gid),
        env.sudo(),
    )
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_missing_shim_fails_the_check_with_the_fix() {
        let ok = shim_item(Ok(PathBuf::from("/x/coracle-shim")));
        assert_eq!(ok.status, Status::Ok);
        let missing = shim_item(Err(anyhow::anyhow!("coracle-shim is missing")));
        assert_eq!(missing.status, Status::Fail);
        assert!(missing.detail.contains("run -d"), "{}", missing.detail);
        assert!(missing
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("install.sh")));
    }

    #[test]
    fn pause_item_says_where_pause_works() {
        let d = tempfile::tempdir().unwrap();
        let ok = pause_item(Ok(d.path().to_path_buf()));
        // No freezer files in a plain directory: a kernel without them.
        assert_eq!(ok.status, Status::Warn);
        assert!(ok.detail.contains("5.14"), "{}", ok.detail);
        std::fs::write(d.path().join("cgroup.freeze"), "0").unwrap();
        std::fs::write(d.path().join("cgroup.kill"), "").unwrap();
        let ok = pause_item(Ok(d.path().to_path_buf()));
        assert_eq!(ok.status, Status::Ok);
        let no = pause_item(Err(
            "your cgroup v2 /x (owned by uid 0) is not delegated to you".into(),
        ));
        assert_eq!(no.status, Status::Warn);
        assert!(no.detail.contains("not delegated"), "{}", no.detail);
        assert!(no.fix.unwrap().contains("systemd-run --user --scope"));
    }

    use super::*;

    fn env(uid: u32) -> Env {
        Env {
            uid,
            gid: uid,
            euid: uid,
            user: "alice".into(),
            home: Some("/home/alice".into()),
            xdg_runtime_dir: None,
            xdg_data_home: None,
            sudo_user: None,
            exe: Some("/home/alice/.local/bin/coracle".into()),
        }
    }

    fn eperm() -> io::Result<()> {
        Err(io::Error::from_raw_os_error(libc::EPERM))
    }

    #[test]
    fn sysctl_values_parse() {
        assert_eq!(parse_sysctl_int("0\n"), Some(0));
        assert_eq!(parse_sysctl_int(" 28633 "), Some(28633));
        assert_eq!(parse_sysctl_int("x"), None);
        assert_eq!(parse_sysctl_int(""), None);
    }

    #[test]
    fn sysctls_read_from_an_injected_proc() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sys/user")).unwrap();
        std::fs::create_dir_all(dir.path().join("sys/kernel")).unwrap();
        std::fs::write(dir.path().join("sys/user/max_user_namespaces"), "0\n").unwrap();
        std::fs::write(dir.path().join("sys/kernel/osrelease"), "6.1.0-13-amd64\n").unwrap();
        let s = read_userns_sysctls(dir.path()).unwrap();
        assert_eq!(
            s,
            UsernsSysctls {
                max_user_namespaces: Some(0),
                unprivileged_userns_clone: None,
                apparmor_restrict: None
            }
        );
        assert_eq!(read_kernel_release(dir.path()).unwrap(), "6.1.0-13-amd64");

        std::fs::write(
            dir.path().join("sys/kernel/unprivileged_userns_clone"),
            "garbage",
        )
        .unwrap();
        let err = read_userns_sysctls(dir.path()).unwrap_err();
        assert!(
            format!("{err:#}").contains("unprivileged_userns_clone"),
            "{err:#}"
        );
        let err = read_kernel_release(Path::new("/nonexistent")).unwrap_err();
        assert!(
            format!("{err:#}").contains("/nonexistent/sys/kernel/osrelease"),
            "{err:#}"
        );
    }

    #[test]
    fn kernel_versions() {
        assert_eq!(parse_kernel_version("6.18.44-fc-v782"), Some((6, 18)));
        assert_eq!(parse_kernel_version("5.4.0"), Some((5, 4)));
        assert_eq!(parse_kernel_version("4.19-rc1"), Some((4, 19)));
        assert_eq!(parse_kernel_version("weird"), None);
        assert_eq!(kernel_item("6.1.0-13-amd64").status, Status::Ok);
        assert_eq!(kernel_item("5.10.0-28-amd64").status, Status::Warn);
        assert_eq!(kernel_item("4.19.0").status, Status::Fail);
        assert_eq!(kernel_item("x").status, Status::Warn);
    }

    #[test]
    fn userns_ok_without_blockers() {
        let item = userns_item(&Ok(()), &UsernsSysctls::default(), None, None, &env(1000));
        assert_eq!(
            item,
            Item::ok("user namespaces", "unprivileged user namespaces work")
        );
    }

    #[test]
    fn userns_max_zero_explains_failure() {
        let s = UsernsSysctls {
            max_user_namespaces: Some(0),
            ..Default::default()
        };
        let item = userns_item(&eperm(), &s, None, None, &env(1000));
        assert_eq!(item.status, Status::Fail);
        assert!(item.detail.contains("user.max_user_namespaces is 0"));
        assert_eq!(
            item.fix.as_deref(),
            Some(
                "sudo sysctl -w user.max_user_namespaces=28633 && echo \
                 user.max_user_namespaces=28633 | sudo tee \
                 /etc/sysctl.d/90-coracle-max-user-namespaces.conf"
            )
        );
    }

    #[test]
    fn userns_debian_clone_sysctl() {
        let s = UsernsSysctls {
            max_user_namespaces: Some(15000),
            unprivileged_userns_clone: Some(0),
            apparmor_restrict: None,
        };
        let item = userns_item(&eperm(), &s, None, None, &env(1000));
        assert_eq!(item.status, Status::Fail);
        let fix = item.fix.unwrap();
        assert!(
            fix.starts_with("sudo sysctl -w kernel.unprivileged_userns_clone=1 && "),
            "{fix}"
        );
        assert!(!fix.contains('\n'));
        // As root, unshare works anyway: warn for the unprivileged users.
        let mut root = env(0);
        root.user = "root".into();
        let item = userns_item(&Ok(()), &s, None, None, &root);
        assert_eq!(item.status, Status::Warn);
        assert!(item
            .fix
            .unwrap()
            .starts_with("sysctl -w kernel.unprivileged_userns_clone=1 && "));
    }

    #[test]
    fn userns_ubuntu_apparmor_restriction() {
        let s = UsernsSysctls {
            apparmor_restrict: Some(1),
            ..Default::default()
        };
        // unshare succeeds, but the namespace is useless while unconfined.
        let item = userns_item(&Ok(()), &s, Some("unconfined"), None, &env(1000));
        assert_eq!(item.status, Status::Fail);
        let fix = item.fix.unwrap();
        let mut lines = fix.lines();
        assert!(lines
            .next()
            .unwrap()
            .starts_with("sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"));
        let alt = lines.next().unwrap();
        assert!(
            alt.ends_with("sudo apparmor_parser -r /etc/apparmor.d/coracle"),
            "{alt}"
        );
        // The printf renders the profile (run it, without the tee).
        let printf = alt.split(" | ").next().unwrap();
        let out = std::process::Command::new("sh")
            .args(["-c", printf])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "abi <abi/4.0>,\ninclude <tunables/global>\nprofile coracle \
             /home/alice/.local/bin/coracle flags=(unconfined) {\n  userns,\n}\n"
        );
        // Under a profile of its own, it works.
        let item = userns_item(&Ok(()), &s, Some("coracle (unconfined)"), None, &env(1000));
        assert_eq!(item.status, Status::Ok);
        assert!(item.detail.contains("coracle (unconfined)"));
    }

    #[test]
    fn userns_unexplained_failure() {
        let item = userns_item(&eperm(), &UsernsSysctls::default(), None, None, &env(1000));
        assert_eq!(item.status, Status::Fail);
        assert!(item.fix.is_none());
        assert!(item.detail.contains("no sysctl explains it"));
        let item = userns_item(
            &eperm(),
            &UsernsSysctls::default(),
            None,
            Some("0 1000 1"),
            &env(0),
        );
        assert_eq!(item.status, Status::Fail);
        assert!(
            item.detail
                .contains("already runs inside one (uid_map 0 1000 1)"),
            "{}",
            item.detail
        );
    }

    #[test]
    fn nested_userns_detection() {
        assert!(is_initial_uid_map("         0          0 4294967295\n"));
        assert!(!is_initial_uid_map("         0       1000          1\n"));
        assert!(!is_initial_uid_map("0 0 4294967295\n1 1 1\n"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("self")).unwrap();
        std::fs::write(
            dir.path().join("self/uid_map"),
            "         0       1000          1\n",
        )
        .unwrap();
        assert_eq!(read_nested_uid_map(dir.path()).as_deref(), Some("0 1000 1"));
        std::fs::write(dir.path().join("self/uid_map"), "0 0 4294967295\n").unwrap();
        assert_eq!(read_nested_uid_map(dir.path()), None);
    }

    #[test]
    fn apparmor_label_read_from_injected_proc() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_apparmor_label(dir.path()), None);
        std::fs::create_dir_all(dir.path().join("self/attr")).unwrap();
        std::fs::write(dir.path().join("self/attr/current"), "unconfined\n").unwrap();
        assert_eq!(
            read_apparmor_label(dir.path()).as_deref(),
            Some("unconfined")
        );
        assert!(apparmor_unconfined(Some("unconfined")));
        assert!(!apparmor_unconfined(Some("coracle (unconfined)")));
    }

    #[test]
    fn free_subid_start_skips_taken_ranges() {
        assert_eq!(free_subid_start(&[], 65536), Some(100_000));
        let content = "alice:100000:65536\nbob:165536:65536\n# c\nbad\nzero:1:0\n";
        let taken = all_subid_ranges(content);
        assert_eq!(taken, vec![(100000, 165536), (165536, 231072)]);
        assert_eq!(free_subid_start(&taken, 65536), Some(231072));
        // A gap big enough is used; one too small is skipped.
        assert_eq!(free_subid_start(&[(300000, 400000)], 65536), Some(100_000));
        assert_eq!(free_subid_start(&[(150000, 400000)], 65536), Some(400_000));
        assert_eq!(
            free_subid_start(&[(10, 20), (500000, 600000), (120000, 130000)], 65536),
            Some(130_000)
        );
        // Unsorted input, ranges below the minimum ignored.
        assert_eq!(
            free_subid_start(&[(165536, 200000), (0, 100001)], 65536),
            Some(200_000)
        );
        assert_eq!(free_subid_start(&[(100_000, u32::MAX as u64)], 65536), None);
    }

    #[test]
    fn subid_missing_both() {
        let taken = all_subid_ranges("bob:100000:65536\n");
        let f = SubidFacts {
            user: "alice",
            uids: &[],
            gids: &[],
            taken: &taken,
            local: true,
        };
        let item = subid_item(&f, "sudo ");
        assert_eq!(item.status, Status::Warn);
        assert!(item.detail.contains("single-id mapping"));
        assert_eq!(
            item.fix.as_deref(),
            Some("sudo usermod --add-subuids 165536-231071 --add-subgids 165536-231071 alice")
        );
    }

    #[test]
    fn subid_missing_gids_only_and_non_local_user() {
        let r = [SubidRange {
            start: 100000,
            count: 65536,
        }];
        let taken = [(100000, 165536)];
        let f = SubidFacts {
            user: "alice",
            uids: &r,
            gids: &[],
            taken: &taken,
            local: true,
        };
        assert_eq!(
            subid_item(&f, "").fix.as_deref(),
            Some("usermod --add-subgids 165536-231071 alice")
        );
        let f = SubidFacts { local: false, ..f };
        assert_eq!(
            subid_item(&f, "sudo ").fix.as_deref(),
            Some("echo alice:165536:65536 | sudo tee -a /etc/subgid")
        );
        let f = SubidFacts { uids: &[], ..f };
        assert_eq!(
            subid_item(&f, "sudo ").fix.as_deref(),
            Some("echo alice:165536:65536 | sudo tee -a /etc/subuid /etc/subgid")
        );
    }

    #[test]
    fn subid_ok_and_short() {
        let r = [SubidRange {
            start: 100000,
            count: 65536,
        }];
        let f = SubidFacts {
            user: "alice",
            uids: &r,
            gids: &r,
            taken: &[(100000, 165536)],
            local: true,
        };
        let item = subid_item(&f, "sudo ");
        assert_eq!(item.status, Status::Ok);
        assert_eq!(item.detail, "alice: uids 100000+65536, gids 100000+65536");
        let small = [SubidRange {
            start: 100000,
            count: 1000,
        }];
        let f = SubidFacts {
            uids: &small,
            taken: &[(100000, 101000)],
            ..f
        };
        let item = subid_item(&f, "sudo ");
        assert_eq!(item.status, Status::Warn);
        assert_eq!(
            item.fix.as_deref(),
            Some("sudo usermod --add-subuids 101000-166535 alice")
        );
    }

    #[test]
    fn passwd_lookup() {
        let p = "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        assert!(passwd_has_user(p, "alice"));
        assert!(!passwd_has_user(p, "ali"));
    }

    #[test]
    fn os_release_and_distro() {
        let deb = parse_os_release("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n");
        assert_eq!(
            deb,
            OsRelease {
                id: "debian".into(),
                id_like: vec![]
            }
        );
        assert_eq!(Distro::detect(&deb), Distro::Debian);
        let mint = parse_os_release("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n");
        assert_eq!(mint.id_like, vec!["ubuntu", "debian"]);
        assert_eq!(Distro::detect(&mint), Distro::Debian);
        let rocky = parse_os_release("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n");
        assert_eq!(Distro::detect(&rocky), Distro::Fedora);
        assert_eq!(
            Distro::detect(&parse_os_release("ID=manjaro\nID_LIKE=arch\n")),
            Distro::Arch
        );
        assert_eq!(
            Distro::detect(&parse_os_release("ID=nixos\n")),
            Distro::Unknown
        );
        assert_eq!(Distro::detect(&parse_os_release("")), Distro::Unknown);

        assert_eq!(
            Distro::Debian.install_command(Package::Uidmap, "sudo "),
            "sudo apt-get install uidmap"
        );
        assert_eq!(
            Distro::Fedora.install_command(Package::Uidmap, "sudo "),
            "sudo dnf install shadow-utils"
        );
        assert_eq!(
            Distro::Arch.install_command(Package::Uidmap, ""),
            "pacman -S shadow"
        );
        assert_eq!(
            Distro::Fedora.install_command(Package::Fuse3, "sudo "),
            "sudo dnf install fuse3"
        );
        assert!(Distro::Unknown
            .install_command(Package::Uidmap, "sudo ")
            .contains("shadow-utils on Fedora"));
    }

    #[test]
    fn os_release_read_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        let usr = dir.path().join("usr-lib-os-release");
        std::fs::write(&usr, "ID=fedora\n").unwrap();
        let os = read_os_release(&[dir.path().join("missing"), usr]).unwrap();
        assert_eq!(Distro::detect(&os), Distro::Fedora);
        assert!(read_os_release(&[dir.path().join("missing")]).is_err());
    }

    #[test]
    fn helpers() {
        let u = PathBuf::from("/usr/bin/newuidmap");
        let g = PathBuf::from("/usr/bin/newgidmap");
        let item = helpers_item(
            Some(u.clone()),
            Some(g.clone()),
            vec![],
            false,
            Distro::Debian,
            "sudo ",
        );
        assert_eq!(item.status, Status::Ok);
        let item = helpers_item(None, None, vec![], false, Distro::Debian, "sudo ");
        assert_eq!(item.status, Status::Warn);
        assert_eq!(item.fix.as_deref(), Some("sudo apt-get install uidmap"));
        let item = helpers_item(
            Some(u.clone()),
            None,
            vec![u.clone(), g.clone()],
            false,
            Distro::Fedora,
            "sudo ",
        );
        assert_eq!(
            item.fix.as_deref(),
            Some("sudo chmod 4755 /usr/bin/newgidmap")
        );
        let item = helpers_item(None, None, vec![u, g], true, Distro::Debian, "sudo ");
        assert_eq!((item.status, item.fix), (Status::Warn, None));
        assert!(item.detail.contains("inside a user namespace"));
    }

    #[test]
    fn devices() {
        let p = Path::new("/dev/fuse");
        let ok = device_item("/dev/fuse", p, Ok(()), "fuse", "x", "sudo ");
        assert_eq!(ok.status, Status::Ok);
        let denied = device_item(
            "/dev/fuse",
            p,
            Err(io::Error::from_raw_os_error(libc::EACCES)),
            "fuse",
            "x",
            "sudo ",
        );
        assert_eq!(denied.status, Status::Warn);
        assert_eq!(denied.fix.as_deref(), Some("sudo chmod 0666 /dev/fuse"));
        let missing = device_item(
            "/dev/net/tun",
            Path::new("/dev/net/tun"),
            Err(io::Error::from_raw_os_error(libc::ENOENT)),
            "tun",
            "x",
            "sudo ",
        );
        assert_eq!(missing.fix.as_deref(), Some("sudo modprobe tun"));
        let other = device_item(
            "/dev/fuse",
            p,
            Err(io::Error::from_raw_os_error(libc::ENXIO)),
            "fuse",
            "x",
            "",
        );
        assert_eq!((other.status, other.fix), (Status::Warn, None));
    }

    #[test]
    fn runtime_dirs() {
        let fb = PathBuf::from("/tmp/coracle-1000");
        let session = PathBuf::from("/run/user/1000");
        let mine = DirState::Dir {
            uid: 1000,
            mode: 0o700,
        };
        let base = RuntimeFacts {
            uid: 1000,
            xdg: Some((Path::new("/run/user/1000"), mine)),
            session_dir: (&session, mine),
            fallback: (&fb, DirState::Missing),
        };
        let item = runtime_dir_item(&base, "sudo ");
        assert_eq!(
            item,
            Item::ok("runtime directory", "/run/user/1000/coracle")
        );

        // Unset, but the session dir exists: tell how to use it.
        let f = RuntimeFacts { xdg: None, ..base };
        let item = runtime_dir_item(&f, "sudo ");
        assert_eq!(item.status, Status::Warn);
        assert_eq!(
            item.fix.as_deref(),
            Some("export XDG_RUNTIME_DIR=/run/user/1000")
        );

        // Unset, no session: the fallback is fine.
        let f = RuntimeFacts {
            xdg: None,
            session_dir: (&session, DirState::Missing),
            ..base
        };
        let item = runtime_dir_item(&f, "sudo ");
        assert_eq!(item.status, Status::Ok);
        assert!(item.detail.contains("/tmp/coracle-1000 (mode 0700)"));

        // Set to someone else's directory.
        let f = RuntimeFacts {
            xdg: Some((
                Path::new("/run/user/0"),
                DirState::Dir {
                    uid: 0,
                    mode: 0o700,
                },
            )),
            ..base
        };
        let item = runtime_dir_item(&f, "sudo ");
        assert_eq!(item.status, Status::Warn);
        assert!(item.detail.contains("is not owned by you"));
        assert_eq!(item.fix.as_deref(), Some("unset XDG_RUNTIME_DIR"));

        // The fallback is squatted by another user.
        let f = RuntimeFacts {
            xdg: None,
            session_dir: (&session, DirState::Missing),
            fallback: (
                &fb,
                DirState::Dir {
                    uid: 1001,
                    mode: 0o777,
                },
            ),
            ..base
        };
        let item = runtime_dir_item(&f, "sudo ");
        assert_eq!(item.status, Status::Fail);
        assert_eq!(item.fix.as_deref(), Some("sudo rm -rf /tmp/coracle-1000"));

        // The fallback is ours but open to others.
        let f = RuntimeFacts {
            fallback: (
                &fb,
                DirState::Dir {
                    uid: 1000,
                    mode: 0o755,
                },
            ),
            ..f
        };
        let item = runtime_dir_item(&f, "sudo ");
        assert_eq!(item.fix.as_deref(), Some("chmod 0700 /tmp/coracle-1000"));
    }

    #[test]
    fn dir_probe() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(probe_dir(dir.path()), DirState::Dir { .. }));
        assert_eq!(probe_dir(&dir.path().join("x")), DirState::Missing);
        std::os::unix::fs::symlink(dir.path(), dir.path().join("l")).unwrap();
        assert_eq!(probe_dir(&dir.path().join("l")), DirState::NotDir);
    }

    #[test]
    fn data_dirs() {
        let home = Path::new("/home/a");
        assert_eq!(
            data_dir(None, Some(home)),
            Some("/home/a/.local/share/coracle".into())
        );
        assert_eq!(
            data_dir(Some(Path::new("/d")), Some(home)),
            Some("/d/coracle".into())
        );
        assert_eq!(
            data_dir(Some(Path::new("rel")), Some(home)),
            Some("/home/a/.local/share/coracle".into())
        );
        assert_eq!(data_dir(None, None), None);
    }

    #[test]
    fn data_dir_not_writable() {
        let home = Path::new("/home/a");
        let dir = Path::new("/home/a/.local/share/coracle");
        let ok = data_dir_item(dir, home, Ok(()), Some(home), (1000, 1000), "sudo ");
        assert_eq!(
            ok,
            Item::ok("data directory", "/home/a/.local/share/coracle")
        );
        let bad = data_dir_item(
            dir,
            Path::new("/home/a/.local"),
            Err("permission denied".into()),
            Some(home),
            (1000, 1000),
            "sudo ",
        );
        assert_eq!(bad.status, Status::Fail);
        assert_eq!(
            bad.fix.as_deref(),
            Some("sudo chown 1000:1000 /home/a/.local")
        );
        // Never suggest taking over a directory outside the home.
        let dir = Path::new("/srv/x/coracle");
        let bad = data_dir_item(
            dir,
            Path::new("/srv"),
            Err("x".into()),
            Some(home),
            (1000, 1000),
            "",
        );
        assert_eq!(
            bad.fix.as_deref(),
            Some("export XDG_DATA_HOME=$HOME/.local/share")
        );
        let bad = data_dir_item(
            dir,
            Path::new("/"),
            Err("x".into()),
            Some(Path::new("/")),
            (1, 1),
            "",
        );
        assert_eq!(
            bad.fix.as_deref(),
            Some("export XDG_DATA_HOME=$HOME/.local/share")
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(
            shell_quote("/usr/local/bin/coracle"),
            "/usr/local/bin/coracle"
        );
        assert_eq!(shell_quote("/home/a b/it's"), "'/home/a b/it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn short_errors() {
        assert_eq!(
            short_err(&io::Error::from_raw_os_error(libc::EACCES)),
            "permission denied"
        );
        assert_eq!(short_err(&io::Error::other("Plain")), "plain");
    }

    #[test]
    fn text_and_json_rendering() {
        let items = vec![
            Item::ok("user namespaces", "unprivileged user namespaces work"),
            Item::warn("subordinate ids", "none").with_fix("sudo usermod x\nalternative"),
            Item::fail("kernel", "old"),
        ];
        let text = render_text(&items);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "OK    user namespaces      unprivileged user namespaces work"
        );
        assert_eq!(lines[1], "WARN  subordinate ids      none");
        assert_eq!(lines[2], "                           fix: sudo usermod x");
        assert_eq!(lines[3], "                           or:  alternative");
        assert_eq!(lines[4], "FAIL  kernel               old");
        assert_eq!(lines[6], "1 ok, 1 warning, 1 failure");
        assert_eq!(exit_code(&items), 1);
        assert_eq!(exit_code(&items[..2]), 0);

        let json: serde_json::Value = serde_json::to_value(&items).unwrap();
        assert_eq!(
            json[0],
            serde_json::json!({
                "name": "user namespaces",
                "status": "ok",
                "detail": "unprivileged user namespaces work",
            })
        );
        assert_eq!(json[1]["status"], "warn");
        assert_eq!(json[1]["fix"], "sudo usermod x\nalternative");
        assert_eq!(json[2]["status"], "fail");
    }
}
