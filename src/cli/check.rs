//! `coracle check` / `coracle info`: the host report (owned by the install/check work).

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(_args: &CheckArgs) -> anyhow::Result<i32> {
    anyhow::bail!("check is being written")
}
