//! Command-line definition. One file per subcommand; raw flags only, no syscalls.
//!
//! The types here are *raw* input: `spec::RunSpec::resolve` turns them into a
//! validated plan before anything touches the system.

pub mod archive;
pub mod attach;
pub mod changes;
pub mod check;
pub mod container;
pub mod docs;
pub mod exec;
pub mod image;
pub mod network;
pub mod pause;
pub mod policy;
pub mod port;
pub mod restart;
pub mod run;
pub mod runtime;
pub mod top;
pub mod volume;

use clap::{CommandFactory, Parser, Subcommand};

/// Rootless, daemonless OCI containers for one unprivileged user.
#[derive(Debug, Parser)]
#[command(
    name = "coracle",
    version,
    about = "Rootless, daemonless OCI containers for one unprivileged user",
    long_about = "coracle runs OCI containers as an ordinary user: no daemon, no root, \
                  no setuid helper of its own. The command line follows Docker's."
)]
pub struct Cli {
    /// Storage driver for new containers: overlay (kernel overlayfs in the
    /// user namespace), fuse-overlay (coracle's FUSE overlay, showing the
    /// owners the image records) or vfs (a full copy). Default:
    /// storage_driver in coracle.toml, else, where the kernel allows
    /// overlay, fuse-overlay for images recording non-root owners and
    /// overlay for others, else vfs
    #[arg(long, global = true, value_enum, value_name = "DRIVER")]
    pub storage_driver: Option<crate::storage::Driver>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and run a new container
    Run(Box<run::RunArgs>),
    /// Execute a command in a running container
    Exec(exec::ExecArgs),
    /// Attach local standard input, output, and error streams to a running container
    Attach(attach::AttachArgs),
    /// List containers
    Ps(container::PsArgs),
    /// Fetch the logs of a container
    Logs(container::LogsArgs),
    /// Stop one or more running containers
    Stop(container::StopArgs),
    /// Kill one or more running containers
    Kill(container::KillArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(container::WaitArgs),
    /// Remove one or more containers
    Rm(container::RmArgs),
    /// Return low-level information on containers
    Inspect(container::InspectArgs),
    /// Start one or more stopped containers (detached)
    Start(container::StartArgs),
    /// Create a new container without starting it
    #[command(about = "Create a new container without starting it", mut_arg("detach", |a| a.hide(true)))]
    Create(Box<run::RunArgs>),
    /// Restart one or more containers
    Restart(restart::RestartArgs),
    /// Rename a container
    Rename(restart::RenameArgs),
    /// Display the running processes of a container
    Top(top::TopArgs),
    /// List port mappings or a specific mapping for the container
    Port(port::PortArgs),
    /// Pause all processes within one or more containers
    Pause(pause::PauseArgs),
    /// Unpause all processes within one or more containers
    Unpause(pause::PauseArgs),
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Download an image from a registry
    Pull(image::PullArgs),
    /// List images
    Images(image::ImagesArgs),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
    /// Manage networks
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Upload an image to a registry
    Push(image::PushArgs),
    /// Log in to a registry
    Login(image::LoginArgs),
    /// Log out from a registry
    Logout(image::LogoutArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(image::TagArgs),
    /// Remove one or more images
    Rmi(image::RmiArgs),
    /// Show the history of an image
    History(image::HistoryArgs),
    /// Save images to a tar archive (docker-archive or oci-archive)
    Save(archive::SaveArgs),
    /// Load images from a tar archive
    Load(archive::LoadArgs),
    /// Create an image from a root file system tarball
    Import(archive::ImportArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(changes::DiffArgs),
    /// Create a new image from a container's changes
    Commit(changes::CommitArgs),
    /// Export a container's filesystem as a tar archive
    Export(changes::ExportArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(changes::CpArgs),
    /// Check the host for rootless containers and print what to fix
    #[command(visible_alias = "info")]
    Check(check::CheckArgs),
    /// Manage security policies
    #[command(subcommand, long_about = policy::LONG_ABOUT)]
    Policy(policy::PolicyCommand),
    /// The OCI runtime command line (also installed as coracle-runtime)
    Runtime(Box<runtime::RuntimeArgs>),
}

#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
    /// Create and run a new container
    Run(Box<run::RunArgs>),
    /// Execute a command in a running container
    Exec(exec::ExecArgs),
    /// Attach local standard input, output, and error streams to a running container
    Attach(attach::AttachArgs),
    /// List containers
    #[command(visible_aliases = ["ps", "list"])]
    Ls(container::PsArgs),
    /// Fetch the logs of a container
    Logs(container::LogsArgs),
    /// Stop one or more running containers
    Stop(container::StopArgs),
    /// Kill one or more running containers
    Kill(container::KillArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(container::WaitArgs),
    /// Remove one or more containers
    #[command(visible_alias = "remove")]
    Rm(container::RmArgs),
    /// Display detailed information on one or more containers
    Inspect(container::InspectArgs),
    /// Start one or more stopped containers (detached)
    Start(container::StartArgs),
    /// Create a new container without starting it
    #[command(about = "Create a new container without starting it", mut_arg("detach", |a| a.hide(true)))]
    Create(Box<run::RunArgs>),
    /// Restart one or more containers
    Restart(restart::RestartArgs),
    /// Rename a container
    Rename(restart::RenameArgs),
    /// Pause all processes within one or more containers
    Pause(pause::PauseArgs),
    /// Unpause all processes within one or more containers
    Unpause(pause::PauseArgs),
    /// Remove all stopped containers
    Prune(container::PruneArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(changes::DiffArgs),
    /// Create a new image from a container's changes
    Commit(changes::CommitArgs),
    /// Export a container's filesystem as a tar archive
    Export(changes::ExportArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(changes::CpArgs),
    /// Display the running processes of a container
    Top(top::TopArgs),
    /// List port mappings or a specific mapping for the container
    Port(port::PortArgs),
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// List images
    #[command(visible_alias = "list")]
    Ls(image::ImagesArgs),
    /// Download an image from a registry
    Pull(image::PullArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(image::TagArgs),
    /// Remove one or more images
    #[command(visible_alias = "remove")]
    Rm(image::RmiArgs),
    /// Display detailed information on one or more images
    Inspect(image::InspectArgs),
    /// Show the history of an image
    History(image::HistoryArgs),
    /// Remove unused images
    Prune(image::PruneArgs),
    /// Upload an image to a registry
    Push(image::PushArgs),
    /// Save images to a tar archive (docker-archive or oci-archive)
    Save(archive::SaveArgs),
    /// Load images from a tar archive
    Load(archive::LoadArgs),
    /// Create an image from a root file system tarball
    Import(archive::ImportArgs),
}

/// How Docker groups its commands in `docker --help`; every top-level
/// subcommand must appear in exactly one group (a unit test checks).
pub const COMMAND_GROUPS: &[(&str, &[&str])] = &[
    (
        "Common Commands",
        &[
            "run", "exec", "ps", "pull", "push", "images", "login", "logout", "check",
        ],
    ),
    (
        "Management Commands",
        &[
            "container",
            "image",
            "network",
            "policy",
            "volume",
            "runtime",
        ],
    ),
    (
        "Commands",
        &[
            "attach", "commit", "cp", "create", "diff", "export", "history", "import", "inspect",
            "kill", "load", "logs", "pause", "port", "rename", "restart", "rm", "rmi", "save",
            "start", "stop", "tag", "top", "unpause", "wait",
        ],
    ),
];

/// The clap command with Docker-style grouped help.
pub fn command() -> clap::Command {
    let cmd = Cli::command();
    let mut groups = String::new();
    for (heading, names) in COMMAND_GROUPS {
        groups.push_str(&format!("{heading}:\n"));
        for name in *names {
            if let Some(sub) = cmd.get_subcommands().find(|s| s.get_name() == *name) {
                let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
                let aliases: Vec<&str> = sub.get_visible_aliases().collect();
                let label = if aliases.is_empty() {
                    name.to_string()
                } else {
                    format!("{name}, {}", aliases.join(", "))
                };
                groups.push_str(&format!("  {label:<16}{about}\n"));
            }
        }
        groups.push('\n');
    }
    let template = format!(
        "{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{groups}Options:\n{{options}}{{after-help}}"
    );
    cmd.help_template(template)
}

/// Parse the process arguments with the grouped help.
pub fn parse() -> Cli {
    use clap::FromArgMatches;
    let matches = command()
        .try_get_matches()
        .unwrap_or_else(|e| exit_usage(e));
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => exit_usage(e),
    }
}

/// Usage errors end with 125, as Docker's do; help and version with 0.
fn exit_usage(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    let _ = e.print();
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => std::process::exit(0),
        _ => std::process::exit(crate::error::EXIT_CORACLE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_is_in_one_group() {
        let cmd = Cli::command();
        for sub in cmd.get_subcommands() {
            let n = COMMAND_GROUPS
                .iter()
                .filter(|(_, names)| names.contains(&sub.get_name()))
                .count();
            assert_eq!(
                n,
                1,
                "subcommand {} must be in exactly one group",
                sub.get_name()
            );
        }
        for (_, names) in COMMAND_GROUPS {
            for name in *names {
                assert!(
                    cmd.find_subcommand(name).is_some(),
                    "group lists unknown {name}"
                );
            }
        }
    }
}
