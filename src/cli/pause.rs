//! `pause` and `unpause`: the cgroup v2 freezer on the container's own
//! cgroup (`container::cgroup`), which exists only where the user's cgroup
//! is delegated to them.

use clap::Args;

use crate::container::{self, cgroup, Container, Status};
use crate::error::ExitError;

#[derive(Debug, Clone, Args)]
pub struct PauseArgs {
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// Whether `c` runs and is paused.
pub(crate) fn is_paused(c: &Container) -> bool {
    c.status() == Status::Running && cgroup::is_paused(&c.record.id)
}

/// Docker's state name: `paused` for a paused running container.
pub(crate) fn state_name(c: &Container) -> &'static str {
    if is_paused(c) {
        "paused"
    } else {
        c.status().as_str()
    }
}

fn refuse(msg: String) -> anyhow::Error {
    ExitError::new(1, msg).into()
}

/// The container's cgroup, or why it cannot be frozen.
fn cgroup_of(c: &Container, verb: &str) -> anyhow::Result<std::path::PathBuf> {
    let id = &c.record.id;
    if c.restarting() {
        return Err(refuse(format!(
            "Container {id} is restarting, wait until the container is running"
        )));
    }
    if !c.running() || c.status() != Status::Running {
        return Err(refuse(format!("Container {id} is not running")));
    }
    if let Some(p) = cgroup::recorded(id) {
        return Ok(p);
    }
    let why = cgroup::unavailable_reason(id)
        .unwrap_or_else(|| "it was started without a cgroup of its own".into());
    Err(refuse(format!(
        "cannot {verb} container {id}: it has no cgroup of its own to freeze (coracle makes \
         one only inside a cgroup v2 delegated to your user, and {why}); run coracle where \
         your cgroup v2 is delegated to you, e.g. in a systemd user session on a cgroup v2 \
         host under `systemd-run --user --scope coracle restart {id}`"
    )))
}

pub fn pause(args: &PauseArgs) -> anyhow::Result<i32> {
    super::container::each(&args.containers, |n| {
        let c = container::resolve(n)?;
        let p = cgroup_of(&c, "pause")?;
        if cgroup::is_paused(&c.record.id) {
            return Err(refuse(format!(
                "Container {} is already paused",
                c.record.id
            )));
        }
        if let Err(e) = cgroup::set_frozen(&p, true) {
            // Not left half-frozen.
            let _ = std::fs::write(p.join("cgroup.freeze"), "0");
            return Err(gone_or(&c, e, "pause"));
        }
        println!("{n}");
        Ok(())
    })
}

pub fn unpause(args: &PauseArgs) -> anyhow::Result<i32> {
    super::container::each(&args.containers, |n| {
        let c = container::resolve(n)?;
        let p = cgroup_of(&c, "unpause")?;
        if !cgroup::is_paused(&c.record.id) {
            return Err(refuse(format!("Container {} is not paused", c.record.id)));
        }
        cgroup::set_frozen(&p, false).map_err(|e| gone_or(&c, e, "unpause"))?;
        println!("{n}");
        Ok(())
    })
}

/// A freezer error, or "not running" when the container ended meanwhile
/// (its runner removed the cgroup).
fn gone_or(c: &Container, e: std::io::Error, verb: &str) -> anyhow::Error {
    let id = &c.record.id;
    if cgroup::recorded(id).is_none() || !container::is_alive(id) {
        return refuse(format!("Container {id} is not running"));
    }
    anyhow::anyhow!("{verb} container {id}: {e}")
}
