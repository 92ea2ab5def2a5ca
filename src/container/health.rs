//! Health checks, as Docker runs them: a command run in the container by
//! `exec` on a schedule; its exit status makes the container `starting`,
//! `healthy` or `unhealthy`.
//!
//! The monitor runs the checks from one thread of its own: each check is a
//! `coracle exec` child process (a fresh, single-threaded exec, as joining
//! namespaces requires), whose output (stdout and stderr, at most 4 KiB) and
//! status go to `health.json` in the container's directory. Only that
//! thread writes the file; `ps` and `inspect` read it.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::bail;
use serde::{Deserialize, Serialize};

pub const HEALTH_FILE: &str = "health.json";

/// Docker's defaults for a zero field.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
pub const DEFAULT_RETRIES: i64 = 3;
/// Docker keeps this many results and this much output of each.
const KEEP_RESULTS: usize = 5;
const MAX_OUTPUT: usize = 4096;

/// Docker's `Healthcheck` (image config and `Config.Healthcheck`); times in
/// nanoseconds, zero for the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthConfig {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

fn or_default(ns: i64, d: Duration) -> Duration {
    if ns > 0 {
        Duration::from_nanos(ns as u64)
    } else {
        d
    }
}

impl HealthConfig {
    /// Whether checks run at all (`NONE`, as `--no-healthcheck` records it,
    /// or no test).
    pub fn active(&self) -> bool {
        matches!(
            self.test.first().map(String::as_str),
            Some("CMD") | Some("CMD-SHELL")
        ) && self.test.len() > 1
    }

    /// The command line the check runs in the container.
    pub fn command(&self) -> Vec<String> {
        match self.test.first().map(String::as_str) {
            Some("CMD-SHELL") => vec!["/bin/sh".into(), "-c".into(), self.test[1..].join(" ")],
            _ => self.test.iter().skip(1).cloned().collect(),
        }
    }

    pub fn interval(&self) -> Duration {
        or_default(self.interval, DEFAULT_INTERVAL)
    }
    pub fn timeout(&self) -> Duration {
        or_default(self.timeout, DEFAULT_TIMEOUT)
    }
    pub fn start_period(&self) -> Duration {
        or_default(self.start_period, Duration::ZERO)
    }
    pub fn start_interval(&self) -> Duration {
        or_default(self.start_interval, DEFAULT_START_INTERVAL)
    }
    pub fn retries(&self) -> i64 {
        if self.retries > 0 {
            self.retries
        } else {
            DEFAULT_RETRIES
        }
    }
}

/// The `--health-*` flags of `run`.
#[derive(Debug, Clone, Default)]
pub struct HealthFlags {
    pub cmd: Option<String>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub start_period: Option<String>,
    pub start_interval: Option<String>,
    pub retries: Option<i64>,
    pub none: bool,
}

fn duration_flag(flag: &str, v: &Option<String>) -> anyhow::Result<Option<i64>> {
    let Some(s) = v else { return Ok(None) };
    let Some(ns) = crate::container::logs::parse_duration(s) else {
        bail!("invalid value \"{s}\" for --{flag}: give a duration such as 30s, 1m30s or 500ms");
    };
    if ns != 0 && ns < 1_000_000 {
        bail!("--{flag} must be at least 1ms (or 0 for the default), not {s}");
    }
    Ok(Some(ns.min(i64::MAX as i128) as i64))
}

/// The container's check: the image's, changed by the flags, as Docker
/// merges them. `None` when neither says anything.
pub fn merge(
    image: Option<HealthConfig>,
    flags: &HealthFlags,
) -> anyhow::Result<Option<HealthConfig>> {
    let any_flag = flags.cmd.is_some()
        || flags.interval.is_some()
        || flags.timeout.is_some()
        || flags.start_period.is_some()
        || flags.start_interval.is_some()
        || flags.retries.is_some();
    if flags.none {
        if any_flag {
            bail!("--no-healthcheck conflicts with --health-* options: give one or the other");
        }
        return Ok(Some(HealthConfig {
            test: vec!["NONE".into()],
            ..Default::default()
        }));
    }
    if !any_flag {
        return Ok(image);
    }
    let mut h = image.unwrap_or_default();
    if let Some(c) = &flags.cmd {
        if c.trim().is_empty() {
            bail!("--health-cmd is empty: give the command that checks the container");
        }
        h.test = vec!["CMD-SHELL".into(), c.clone()];
    }
    if let Some(v) = duration_flag("health-interval", &flags.interval)? {
        h.interval = v;
    }
    if let Some(v) = duration_flag("health-timeout", &flags.timeout)? {
        h.timeout = v;
    }
    if let Some(v) = duration_flag("health-start-period", &flags.start_period)? {
        h.start_period = v;
    }
    if let Some(v) = duration_flag("health-start-interval", &flags.start_interval)? {
        h.start_interval = v;
    }
    if let Some(r) = flags.retries {
        if r < 0 {
            bail!("--health-retries cannot be negative");
        }
        h.retries = r;
    }
    Ok(Some(h))
}

/// The image config's `Healthcheck` (a Docker extension the OCI types do
/// not carry), from the raw config JSON.
pub fn from_image_config(config: &[u8]) -> Option<HealthConfig> {
    let v: serde_json::Value = serde_json::from_slice(config).ok()?;
    let h = v.get("config")?.get("Healthcheck")?;
    serde_json::from_value(h.clone()).ok()
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CheckResult {
    pub start: String,
    pub end: String,
    pub exit_code: i32,
    pub output: String,
}

/// `State.Health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    pub status: String,
    pub failing_streak: u32,
    #[serde(default)]
    pub log: Vec<CheckResult>,
}

pub const STARTING: &str = "starting";
pub const HEALTHY: &str = "healthy";
pub const UNHEALTHY: &str = "unhealthy";

impl Health {
    /// Applies one result; `in_start_period`: failures before the first
    /// success inside the start period do not count (Docker's rule).
    pub fn record(&mut self, r: CheckResult, retries: i64, in_start_period: bool) {
        if r.exit_code == 0 {
            self.failing_streak = 0;
            self.status = HEALTHY.into();
        } else if !(in_start_period && self.status == STARTING) {
            self.failing_streak += 1;
            if i64::from(self.failing_streak) >= retries {
                self.status = UNHEALTHY.into();
            }
        }
        self.log.push(r);
        if self.log.len() > KEEP_RESULTS {
            let extra = self.log.len() - KEEP_RESULTS;
            self.log.drain(..extra);
        }
    }
}

/// The container's health as last written, if it has a check.
pub fn read(dir: &Path) -> Option<Health> {
    serde_json::from_slice(&std::fs::read(dir.join(HEALTH_FILE)).ok()?).ok()
}

fn write(dir: &Path, h: &Health) {
    if let Ok(json) = serde_json::to_vec_pretty(h) {
        let _ = super::write_atomic(&dir.join(HEALTH_FILE), &json);
    }
}

/// The running checks of one container; stopped by [`Checker::stop`] (or
/// when the container is gone).
pub struct Checker {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Checker {
    /// Starts the checks of container `id` (its directory `dir`), which has
    /// just started; `None` when it has no active check.
    pub fn start(id: &str, dir: &Path, cfg: Option<&HealthConfig>) -> Option<Self> {
        let cfg = cfg.filter(|c| c.active())?.clone();
        let health = reset(dir);
        let (stop, rx) = std::sync::mpsc::channel();
        let (id, dir) = (id.to_string(), dir.to_path_buf());
        let thread = std::thread::Builder::new()
            .name("health".into())
            .stack_size(128 * 1024)
            .spawn(move || checks(&id, &dir, &cfg, health, rx))
            .ok()?;
        Some(Self { stop, thread })
    }

    /// Stops the checks and waits for a running one to end.
    pub fn stop(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

/// A container (re)starts: its health is `starting` again, the results of
/// earlier runs kept.
pub fn reset(dir: &Path) -> Health {
    let mut health = read(dir).unwrap_or(Health {
        status: STARTING.into(),
        failing_streak: 0,
        log: Vec::new(),
    });
    health.status = STARTING.into();
    health.failing_streak = 0;
    write(dir, &health);
    health
}

/// Exit codes of `coracle container-health ID` (the hidden subcommand the
/// shim runs on the check's schedule): recorded and no longer starting
/// (0), recorded and still starting (1), the container is not running
/// (2: no more checks), no check configured or no record (3).
pub const CHECK_DONE: i32 = 0;
pub const CHECK_STARTING: i32 = 1;
pub const CHECK_GONE: i32 = 2;
pub const CHECK_NONE: i32 = 3;

/// The hidden subcommand `container-health ID [--in-start-period]`: runs
/// the container's check once and records the result in `health.json`,
/// as the monitor's `health` thread does (the shim runs one at a time).
pub fn check_main(id: &str, in_start_period: bool) -> i32 {
    let Ok(dir) = super::ContainerDir::path_of(id) else {
        return CHECK_NONE;
    };
    let Some(cfg) = super::Record::read(&dir)
        .ok()
        .and_then(|r| r.healthcheck)
        .filter(|c| c.active())
    else {
        return CHECK_NONE;
    };
    let Some(result) = check_once(id, &cfg) else {
        return CHECK_GONE;
    };
    let mut health = read(&dir).unwrap_or(Health {
        status: STARTING.into(),
        failing_streak: 0,
        log: Vec::new(),
    });
    health.record(result, cfg.retries(), in_start_period);
    write(&dir, &health);
    if health.status == STARTING {
        CHECK_STARTING
    } else {
        CHECK_DONE
    }
}

fn checks(id: &str, dir: &Path, cfg: &HealthConfig, mut health: Health, stop: Receiver<()>) {
    let started = Instant::now();
    loop {
        let in_start = started.elapsed() < cfg.start_period();
        let wait = if in_start && health.status == STARTING {
            cfg.start_interval()
        } else {
            cfg.interval()
        };
        match stop.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        let in_start = started.elapsed() < cfg.start_period();
        let Some(result) = check_once(id, cfg) else {
            return;
        };
        health.record(result, cfg.retries(), in_start);
        write(dir, &health);
    }
}

/// Runs the check once through `coracle exec`; `None` when the check could
/// not be run because the container is not running any more.
fn check_once(id: &str, cfg: &HealthConfig) -> Option<CheckResult> {
    let start = super::now();
    let began = Instant::now();
    let timeout = cfg.timeout();
    let failed = |what: String| CheckResult {
        start: start.clone(),
        end: super::now(),
        exit_code: -1,
        output: what,
    };
    // A failure to run the check is a failed check, not the end of them.
    let spawned = std::io::pipe().and_then(|(reader, writer)| {
        let child = Command::new("/proc/self/exe")
            .arg("exec")
            .arg(format!("--kill-after={}ms", timeout.as_millis()))
            .arg(id)
            .args(cfg.command())
            .stdin(Stdio::null())
            .stdout(writer.try_clone()?)
            .stderr(writer)
            .spawn()?;
        Ok((reader, child))
    });
    let (mut reader, mut child) = match spawned {
        Ok(x) => x,
        Err(e) => return Some(failed(format!("cannot run the health check: {e}"))),
    };
    // The command cannot outlive its timeout (exec kills it); the exec
    // process gets a little more before it is killed itself. Its output is
    // read to the end (a check must never die of a closed pipe) and the
    // first 4 KiB kept.
    let mut output = Vec::new();
    let reader_thread = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut kept = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                match reader.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        let room = MAX_OUTPUT.saturating_sub(kept.len());
                        kept.extend_from_slice(&chunk[..n.min(room)]);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            kept
        });
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if began.elapsed() > timeout + Duration::from_secs(5) => {
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    if let Ok(t) = reader_thread {
        // Something the check started in the background may keep the pipe
        // open; its output is then given up on.
        let deadline = Instant::now() + Duration::from_millis(500);
        while !t.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if t.is_finished() {
            output = t.join().unwrap_or_default();
        }
    }
    let code = status.and_then(|s| s.code()).unwrap_or(-1);
    let text = String::from_utf8_lossy(&output[..output.len().min(MAX_OUTPUT)]).into_owned();
    let (exit_code, output) = if began.elapsed() >= timeout {
        (
            -1,
            format!("Health check exceeded timeout ({})", go_duration(timeout)),
        )
    } else if code == 1 && text.contains("is not running") && !super::is_alive(id) {
        return None;
    } else {
        (code, text)
    };
    Some(CheckResult {
        start,
        end: super::now(),
        exit_code,
        output,
    })
}

/// A duration as Go prints the common cases (`30s`, `1m30s`, `500ms`).
fn go_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(code: i32) -> CheckResult {
        CheckResult {
            start: String::new(),
            end: String::new(),
            exit_code: code,
            output: String::new(),
        }
    }

    fn starting() -> Health {
        Health {
            status: STARTING.into(),
            failing_streak: 0,
            log: Vec::new(),
        }
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
    }

    #[test]
    fn transitions_follow_docker() {
        let mut h = starting();
        h.record(result(1), 2, false);
        assert_eq!((h.status.as_str(), h.failing_streak), (STARTING, 1));
        h.record(result(1), 2, false);
        assert_eq!((h.status.as_str(), h.failing_streak), (UNHEALTHY, 2));
        h.record(result(0), 2, false);
        assert_eq!((h.status.as_str(), h.failing_streak), (HEALTHY, 0));
        h.record(result(1), 2, false);
        assert_eq!(h.status, HEALTHY);
        for _ in 0..10 {
            h.record(result(1), 2, false);
        }
        assert_eq!(h.status, UNHEALTHY);
        assert_eq!(h.log.len(), KEEP_RESULTS);
    }

    #[test]
    fn start_period_failures_do_not_count_until_healthy() {
        let mut h = starting();
        for _ in 0..5 {
            h.record(result(1), 1, true);
        }
        assert_eq!((h.status.as_str(), h.failing_streak), (STARTING, 0));
        h.record(result(0), 1, true);
        h.record(result(1), 1, true);
        assert_eq!(h.status, UNHEALTHY);
    }

    #[test]
    fn flags_merge_over_the_image() {
        let image = HealthConfig {
            test: vec!["CMD".into(), "check".into()],
            interval: 5_000_000_000,
            retries: 7,
            ..Default::default()
        };
        let f = HealthFlags {
            interval: Some("1s".into()),
            ..Default::default()
        };
        let h = merge(Some(image.clone()), &f).unwrap().unwrap();
        assert_eq!(h.test, image.test);
        assert_eq!((h.interval, h.retries), (1_000_000_000, 7));
        let f = HealthFlags {
            cmd: Some("true".into()),
            ..Default::default()
        };
        let h = merge(None, &f).unwrap().unwrap();
        assert_eq!(h.command(), ["/bin/sh", "-c", "true"]);
        assert!(h.active());
        let none = HealthFlags {
            none: true,
            ..Default::default()
        };
        assert!(!merge(Some(image.clone()), &none).unwrap().unwrap().active());
        assert_eq!(
            merge(Some(image.clone()), &HealthFlags::default()).unwrap(),
            Some(image)
        );
        let bad = HealthFlags {
            none: true,
            cmd: Some("x".into()),
            ..Default::default()
        };
        assert!(merge(None, &bad).is_err());
        let bad = HealthFlags {
            interval: Some("10us".into()),
            ..Default::default()
        };
        assert!(merge(None, &bad).is_err());
        let bad = HealthFlags {
            retries: Some(-1),
            ..Default::default()
        };
        assert!(merge(None, &bad).is_err());
    }

    #[test]
    fn image_healthcheck_is_read_from_raw_config() {
        let cfg = br#"{"config":{"Healthcheck":{"Test":["CMD-SHELL","curl -f x"],"Interval":30000000000,"Retries":3}}}"#;
        let h = from_image_config(cfg).unwrap();
        assert_eq!(h.test, ["CMD-SHELL", "curl -f x"]);
        assert_eq!(h.interval(), Duration::from_secs(30));
        assert!(from_image_config(b"{}").is_none());
    }
}
