//! coracle: rootless, daemonless OCI containers.
//!
//! `unsafe` lives only in [`sys`]; everything else is safe Rust.
#![deny(unsafe_code)]

pub mod cli;
pub mod container;
pub mod error;
pub mod fuseovl;
pub mod image;
pub mod rootpath;
pub mod sandbox;
pub mod spec;
pub mod sys;

/// Parses the command line, runs it, and returns the process exit status.
pub fn run_cli() -> i32 {
    // The monitor of a detached container: an internal entry point, kept
    // out of the command line's help, man pages and completions.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args
        .get(1)
        .is_some_and(|a| a == container::monitor::SUBCOMMAND)
    {
        use container::monitor::Mode;
        let mode = match args.get(3) {
            None => Some(Mode::Start),
            Some(a) if a == container::monitor::RESUME && args.len() == 4 => Some(Mode::Resume),
            Some(a) if a == container::monitor::ATTACH_FIRST && args.len() == 4 => {
                Some(Mode::AttachFirst)
            }
            Some(_) => None,
        };
        if let (3..=4, Some(mode)) = (args.len(), mode) {
            return container::monitor::main(&args[2].to_string_lossy(), mode);
        }
    }
    if args.get(1).is_some_and(|a| a == fuseovl::SUBCOMMAND) {
        return fuseovl::main(&args[2..]);
    }
    let cli = cli::parse();
    let result = match cli.command {
        cli::Command::Run(args) | cli::Command::Container(cli::ContainerCommand::Run(args)) => {
            cli::run::run(*args)
        }
        cli::Command::Check(args) => cli::check::run(&args),
        cli::Command::Exec(args) | cli::Command::Container(cli::ContainerCommand::Exec(args)) => {
            cli::exec::exec(&args)
        }
        cli::Command::Attach(args)
        | cli::Command::Container(cli::ContainerCommand::Attach(args)) => {
            cli::attach::attach(&args)
        }
        cli::Command::Ps(args) | cli::Command::Container(cli::ContainerCommand::Ls(args)) => {
            cli::container::ps(&args)
        }
        cli::Command::Logs(args) | cli::Command::Container(cli::ContainerCommand::Logs(args)) => {
            cli::container::logs_cmd(&args)
        }
        cli::Command::Stop(args) | cli::Command::Container(cli::ContainerCommand::Stop(args)) => {
            cli::container::stop(&args)
        }
        cli::Command::Kill(args) | cli::Command::Container(cli::ContainerCommand::Kill(args)) => {
            cli::container::kill(&args)
        }
        cli::Command::Wait(args) | cli::Command::Container(cli::ContainerCommand::Wait(args)) => {
            cli::container::wait(&args)
        }
        cli::Command::Rm(args) | cli::Command::Container(cli::ContainerCommand::Rm(args)) => {
            cli::container::rm(&args)
        }
        cli::Command::Inspect(args)
        | cli::Command::Container(cli::ContainerCommand::Inspect(args)) => {
            cli::container::inspect(&args)
        }
        cli::Command::Container(cli::ContainerCommand::Prune(args)) => cli::container::prune(&args),
        cli::Command::Top(args) | cli::Command::Container(cli::ContainerCommand::Top(args)) => {
            cli::top::top(&args)
        }
        cli::Command::Volume(cmd) => cli::volume::run(cmd),
        cli::Command::Start(args) | cli::Command::Container(cli::ContainerCommand::Start(args)) => {
            cli::container::start(&args)
        }
        cli::Command::Create(args)
        | cli::Command::Container(cli::ContainerCommand::Create(args)) => cli::run::create(*args),
        cli::Command::Restart(args)
        | cli::Command::Container(cli::ContainerCommand::Restart(args)) => {
            cli::restart::restart(&args)
        }
        cli::Command::Rename(args)
        | cli::Command::Container(cli::ContainerCommand::Rename(args)) => {
            cli::restart::rename(&args)
        }
        cli::Command::Pause(args) | cli::Command::Container(cli::ContainerCommand::Pause(args)) => {
            cli::pause::pause(&args)
        }
        cli::Command::Unpause(args)
        | cli::Command::Container(cli::ContainerCommand::Unpause(args)) => {
            cli::pause::unpause(&args)
        }
        cli::Command::Pull(args) | cli::Command::Image(cli::ImageCommand::Pull(args)) => {
            cli::image::pull(&args)
        }
        cli::Command::Images(args) | cli::Command::Image(cli::ImageCommand::Ls(args)) => {
            cli::image::images(&args)
        }
        cli::Command::Tag(args) | cli::Command::Image(cli::ImageCommand::Tag(args)) => {
            cli::image::tag(&args)
        }
        cli::Command::Rmi(args) | cli::Command::Image(cli::ImageCommand::Rm(args)) => {
            cli::image::rmi(&args)
        }
        cli::Command::History(args) | cli::Command::Image(cli::ImageCommand::History(args)) => {
            cli::image::history(&args)
        }
        cli::Command::Image(cli::ImageCommand::Inspect(args)) => cli::image::inspect(&args),
        cli::Command::Image(cli::ImageCommand::Prune(args)) => cli::image::prune(&args),
        cli::Command::Push(args) | cli::Command::Image(cli::ImageCommand::Push(args)) => {
            cli::image::push(&args)
        }
        cli::Command::Save(args) | cli::Command::Image(cli::ImageCommand::Save(args)) => {
            cli::archive::save(&args)
        }
        cli::Command::Load(args) | cli::Command::Image(cli::ImageCommand::Load(args)) => {
            cli::archive::load(&args)
        }
        cli::Command::Import(args) | cli::Command::Image(cli::ImageCommand::Import(args)) => {
            cli::archive::import(&args)
        }
        cli::Command::Diff(args) | cli::Command::Container(cli::ContainerCommand::Diff(args)) => {
            cli::changes::diff(&args)
        }
        cli::Command::Commit(args)
        | cli::Command::Container(cli::ContainerCommand::Commit(args)) => {
            cli::changes::commit(&args)
        }
        cli::Command::Export(args)
        | cli::Command::Container(cli::ContainerCommand::Export(args)) => {
            cli::changes::export(&args)
        }
        cli::Command::Cp(args) | cli::Command::Container(cli::ContainerCommand::Cp(args)) => {
            cli::changes::cp(&args)
        }
        cli::Command::Login(args) => cli::image::login(&args),
        cli::Command::Logout(args) => cli::image::logout(&args),
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
