//! Restart policies (`--restart`), as Docker's restart manager applies
//! them, and the marker that tells a monitor its container was stopped on
//! purpose (by `stop`, `kill`, `restart` or `rm -f`), so that it does not
//! start it again.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `--restart no|on-failure[:N]|always|unless-stopped`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartPolicy {
    pub name: PolicyName,
    /// on-failure only: at most this many restarts (0: no limit).
    #[serde(default)]
    pub max_retries: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyName {
    #[default]
    No,
    OnFailure,
    Always,
    UnlessStopped,
}

impl PolicyName {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyName::No => "no",
            PolicyName::OnFailure => "on-failure",
            PolicyName::Always => "always",
            PolicyName::UnlessStopped => "unless-stopped",
        }
    }
}

impl RestartPolicy {
    /// Parses Docker's spelling, with Docker's checks and messages.
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        let (name, count) = match s.split_once(':') {
            Some(("", _)) => anyhow::bail!(
                "invalid restart policy format: no policy provided before colon; use --restart no|on-failure[:N]|always|unless-stopped"
            ),
            Some((n, c)) => (n, Some(c)),
            None => (s, None),
        };
        let count: i64 = match count {
            None | Some("") => 0,
            Some(c) => c.parse().map_err(|_| {
                anyhow::anyhow!(
                    "invalid restart policy format: maximum retry count must be an integer, not \"{c}\""
                )
            })?,
        };
        let name = match name {
            "no" | "" => PolicyName::No,
            "on-failure" => PolicyName::OnFailure,
            "always" => PolicyName::Always,
            "unless-stopped" => PolicyName::UnlessStopped,
            other => anyhow::bail!(
                "invalid restart policy: unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
            ),
        };
        if name != PolicyName::OnFailure && count != 0 {
            anyhow::bail!(
                "invalid restart policy: maximum retry count can only be used with 'on-failure'"
            );
        }
        if count < 0 {
            anyhow::bail!("invalid restart policy: maximum retry count cannot be negative");
        }
        let max_retries = u32::try_from(count).map_err(|_| {
            anyhow::anyhow!("invalid restart policy: maximum retry count {count} is too large")
        })?;
        Ok(Self { name, max_retries })
    }

    pub fn is_none(&self) -> bool {
        self.name == PolicyName::No
    }

    /// Whether a container that ended with `exit_code` after `restarts`
    /// restarts (since its last explicit start) runs again. A container
    /// stopped on purpose never does (Docker's `ExitOnNext`).
    pub fn should_restart(&self, exit_code: i32, restarts: u32, stopped_by_user: bool) -> bool {
        if stopped_by_user {
            return false;
        }
        match self.name {
            PolicyName::No => false,
            PolicyName::Always | PolicyName::UnlessStopped => true,
            PolicyName::OnFailure => {
                exit_code != 0 && (self.max_retries == 0 || restarts < self.max_retries)
            }
        }
    }
}

/// Docker's restart delay: 100 ms, doubled on each restart up to a minute,
/// and back to 100 ms once the container ran for 10 seconds.
#[derive(Debug, Default)]
pub struct Backoff {
    current: Duration,
}

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(60);
const RESET_AFTER: Duration = Duration::from_secs(10);

impl Backoff {
    /// The backoff as it was after a delay of `current` (carried across
    /// the monitor's exec into the shim and back).
    pub fn resume(current: Duration) -> Self {
        Self {
            current: current.min(MAX_DELAY),
        }
    }

    /// The last delay given (zero before the first).
    pub fn current(&self) -> Duration {
        self.current
    }

    /// The delay before the next run of a container that ran for `ran`.
    pub fn next(&mut self, ran: Duration) -> Duration {
        if ran >= RESET_AFTER {
            self.current = Duration::ZERO;
        }
        self.current = if self.current.is_zero() {
            FIRST_DELAY
        } else {
            (self.current * 2).min(MAX_DELAY)
        };
        self.current
    }
}

const STOPPING_FILE: &str = "stopping";

/// Records that the user ends container `id` (before it is signalled), so
/// that its monitor does not restart it.
pub fn mark_stopping(id: &str) -> anyhow::Result<()> {
    super::write_atomic(&super::runtime_path_of(id)?.join(STOPPING_FILE), b"")
}

/// As [`mark_stopping`], for `restart`: the container is started again
/// right after, so a `--rm` container is not removed when it ends (as
/// Docker's `restart` does).
pub fn mark_restarting(id: &str) -> anyhow::Result<()> {
    super::write_atomic(
        &super::runtime_path_of(id)?.join(STOPPING_FILE),
        KEEP.as_bytes(),
    )
}

const KEEP: &str = "keep";

/// Whether the stop mark of `id` comes from `restart` (keep the container).
pub fn is_restart_by_user(id: &str) -> bool {
    super::runtime_dir()
        .ok()
        .and_then(|d| {
            std::fs::read_to_string(d.join("containers").join(id).join(STOPPING_FILE)).ok()
        })
        .is_some_and(|s| s == KEEP)
}

/// Whether the user asked container `id` to stop since its monitor began.
pub fn is_stopping(id: &str) -> bool {
    super::runtime_dir()
        .map(|d| d.join("containers").join(id).join(STOPPING_FILE).exists())
        .unwrap_or(false)
}

/// Forgets an earlier stop (a new monitor starts the container again).
pub fn clear_stopping(id: &str) {
    if let Ok(d) = super::runtime_dir() {
        let _ = std::fs::remove_file(d.join("containers").join(id).join(STOPPING_FILE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_as_dockers() {
        let p = |s| RestartPolicy::parse(s).unwrap();
        assert_eq!(p("no"), RestartPolicy::default());
        assert_eq!(p("always").name, PolicyName::Always);
        assert_eq!(p("unless-stopped").name, PolicyName::UnlessStopped);
        assert_eq!(
            p("on-failure:3"),
            RestartPolicy {
                name: PolicyName::OnFailure,
                max_retries: 3
            }
        );
        assert_eq!(p("on-failure").max_retries, 0);
        for bad in [
            ":3",
            "always:2",
            "on-failure:x",
            "on-failure:-1",
            "sometimes",
        ] {
            let e = RestartPolicy::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid restart policy"), "{bad}: {e}");
        }
    }

    #[test]
    fn on_failure_counts_and_stop_wins() {
        let p = RestartPolicy::parse("on-failure:2").unwrap();
        assert!(p.should_restart(1, 0, false));
        assert!(p.should_restart(1, 1, false));
        assert!(!p.should_restart(1, 2, false));
        assert!(!p.should_restart(0, 0, false));
        assert!(!p.should_restart(1, 0, true));
        let unlimited = RestartPolicy::parse("on-failure").unwrap();
        assert!(unlimited.should_restart(3, 1000, false));
        let always = RestartPolicy::parse("always").unwrap();
        assert!(always.should_restart(0, 7, false));
        assert!(!always.should_restart(137, 0, true));
        assert!(!RestartPolicy::default().should_restart(1, 0, false));
    }

    #[test]
    fn backoff_doubles_caps_and_resets() {
        let mut b = Backoff::default();
        let short = Duration::from_millis(5);
        assert_eq!(b.next(short), Duration::from_millis(100));
        assert_eq!(b.next(short), Duration::from_millis(200));
        assert_eq!(b.next(short), Duration::from_millis(400));
        for _ in 0..20 {
            b.next(short);
        }
        assert_eq!(b.next(short), Duration::from_secs(60));
        assert_eq!(b.next(Duration::from_secs(10)), Duration::from_millis(100));
    }
}
