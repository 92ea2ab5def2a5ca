//! `coracle attach`, and `start -a`: the caller's terminal or stdio on a
//! container that runs under its monitor.

use std::time::Duration;

use clap::Args;

use crate::container::attach::{self as att, Ended};
use crate::container::{self, Container};
use crate::error::ExitError;

#[derive(Debug, Clone, Args)]
pub struct AttachArgs {
    /// Do not attach standard input
    #[arg(long = "no-stdin")]
    pub no_stdin: bool,

    /// Proxy received signals to the container (without a terminal)
    #[arg(long = "sig-proxy", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub sig_proxy: bool,

    /// Key sequence for detaching (default ctrl-p,ctrl-q)
    #[arg(long = "detach-keys", value_name = "KEYS")]
    pub detach_keys: Option<String>,

    /// The container (name or id)
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

pub fn attach(args: &AttachArgs) -> anyhow::Result<i32> {
    let keys = att::parse_detach_keys(
        args.detach_keys
            .as_deref()
            .unwrap_or(att::DEFAULT_DETACH_KEYS),
    )?;
    let c = container::resolve(&args.container)?;
    if !c.running() {
        return Err(ExitError::new(
            1,
            "You cannot attach to a stopped container, start it first".to_string(),
        )
        .into());
    }
    let sock = att::connect(&c.record.id).map_err(|e| {
        ExitError::new(
            1,
            format!(
                "cannot attach to container {}: its monitor does not answer ({e}); \
                 see `coracle ps -a` and `coracle logs`",
                args.container
            ),
        )
    })?;
    let stdin = c.record.open_stdin && !args.no_stdin;
    session(&c, sock, stdin, &keys, args.sig_proxy)
}

/// Relays until the container stops (its exit code) or the user detaches
/// (0, as Docker prints "read escape sequence").
pub fn session(
    c: &Container,
    sock: std::os::unix::net::UnixStream,
    stdin: bool,
    keys: &[u8],
    sig_proxy: bool,
) -> anyhow::Result<i32> {
    // Signals go by pidfd, opened while pid 1 is checked to be the
    // monitor's child: never to a process that reused the pid later.
    let proxy = (sig_proxy && !c.record.tty)
        .then_some(c.state.pid)
        .flatten()
        .and_then(|pid| {
            let fd = crate::sys::pidfd_open(pid).ok()?;
            let parent = container::procs::parent_of(pid);
            (c.state.monitor_pid.is_none() || parent == c.state.monitor_pid).then_some(fd)
        });
    match att::client(sock, c.record.tty, stdin, keys, proxy)? {
        Ended::Detached => {
            eprintln!("read escape sequence");
            Ok(0)
        }
        Ended::Stopped => Ok(exit_code_after(&c.record.id)),
        Ended::Dropped => Err(ExitError::new(
            1,
            "attach ended: this terminal fell more than 1 MiB behind the container's output \
             (the container runs on; `coracle logs` has all of it)"
                .to_string(),
        )
        .into()),
    }
}

/// The exit code of a container whose output just ended: its monitor
/// records it as it exits (or restarts it: then the last run's code).
fn exit_code_after(id: &str) -> i32 {
    container::wait_not_alive_for(id, Some(Duration::from_secs(5)));
    match Container::load(id) {
        Ok(c) => match c.status() {
            container::Status::Dead => 137,
            _ => c.state.exit_code.unwrap_or(0),
        },
        Err(_) => container::removed_exit_code(id).unwrap_or(0),
    }
}
