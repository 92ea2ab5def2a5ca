//! `coracle restart` (stop, then start) and `coracle rename`.

use clap::Args;

use crate::container::{self, names, Container};
use crate::error::ExitError;

/// `restart` takes `stop`'s flags.
pub type RestartArgs = super::container::StopArgs;

#[derive(Debug, Clone, Args)]
pub struct RenameArgs {
    /// The container (name or id)
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// Its new name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)
    #[arg(value_name = "NEW_NAME")]
    pub new_name: String,
}

/// Stops each container (as `stop`; one that is not running is only
/// started) and starts it again under a new monitor.
pub fn restart(args: &RestartArgs) -> anyhow::Result<i32> {
    let first = args
        .signal
        .as_deref()
        .map(super::container::parse_signal)
        .transpose()?;
    super::container::each(&args.containers, |n| {
        let c = container::resolve(n)?;
        super::container::stop_one(&c, n, args.time, first, true)?;
        let c = Container::load(&c.record.id)?;
        super::container::start_one(&c, n)?;
        println!("{n}");
        Ok(())
    })
}

/// Gives a container a new name, unique under the names lock.
pub fn rename(args: &RenameArgs) -> anyhow::Result<i32> {
    let new = names::validate(&args.new_name).map_err(|e| ExitError::new(1, format!("{e:#}")))?;
    let _names = container::lock_names()?;
    let all = container::list()?;
    let c = container::find(&all, &args.container)?;
    if c.record.name == new {
        return Err(ExitError::new(
            1,
            format!("Renaming a container with the same name as its current name: \"{new}\" is already its name"),
        )
        .into());
    }
    if let Some(other) = all.iter().find(|o| o.record.name == new) {
        let conflict = container::name_conflict(&new, &other.record.id);
        return Err(ExitError::new(1, conflict.to_string()).into());
    }
    let mut rec = container::Record::read(&c.dir)?;
    rec.name = new;
    rec.write(&c.dir)?;
    Ok(0)
}
