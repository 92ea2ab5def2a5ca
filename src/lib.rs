//! coracle: rootless, daemonless OCI containers.
//!
//! `unsafe` lives only in [`sys`]; everything else is safe Rust.
#![deny(unsafe_code)]

pub mod cli;
pub mod container;
pub mod error;
pub mod image;
pub mod rootpath;
pub mod sandbox;
pub mod spec;
pub mod sys;

/// Parses the command line, runs it, and returns the process exit status.
pub fn run_cli() -> i32 {
    let cli = cli::parse();
    let result = match cli.command {
        cli::Command::Run(args) | cli::Command::Container(cli::ContainerCommand::Run(args)) => {
            cli::run::run(*args)
        }
        cli::Command::Check(args) => cli::check::run(&args),
        cli::Command::Pull(args) | cli::Command::Image(cli::ImageCommand::Pull(args)) => {
            cli::image::pull(&args)
        }
        cli::Command::Images(args) | cli::Command::Image(cli::ImageCommand::Ls(args)) => {
            cli::image::images(&args)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let code = e
                .downcast_ref::<error::ExitError>()
                .map_or(error::EXIT_CORACLE, |x| x.code);
            eprintln!("coracle: {e:#}");
            code
        }
    }
}
