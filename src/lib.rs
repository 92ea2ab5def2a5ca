//! coracle: rootless, daemonless OCI containers.
//!
//! `unsafe` lives only in [`sys`]; everything else is safe Rust.
#![deny(unsafe_code)]

pub mod cli;
pub mod container;
pub mod error;
pub mod fuseovl;
pub mod image;
pub mod net;
pub mod policy;
pub mod rootpath;
pub mod runtime;
pub mod sandbox;
pub mod spec;
pub mod storage;
pub mod sys;

/// Parses the command line, runs it, and returns the process exit status.
pub fn run_cli() -> i32 {
    // The monitor of a detached container: an internal entry point, kept
    // out of the command line's help, man pages and completions.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Invoked as `coracle-runtime` (a link): the OCI runtime command line.
    if args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .is_some_and(|n| n == runtime::RUNTIME_NAME)
    {
        use clap::Parser;
        let cli = cli::runtime::RuntimeCli::parse();
        return cli::runtime::main(cli.args);
    }
    // The private network's stack helper (spawned by the container's runner).
    if args.get(1).is_some_and(|a| a == net::HELPER_COMMAND) {
        let rest: Vec<String> = args[2..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return net::helper_main(&rest);
    }
    // A named network's switch (started by the first container joining).
    if args
        .get(1)
        .is_some_and(|a| a == net::switch::SWITCH_COMMAND)
    {
        let rest: Vec<String> = args[2..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return net::switch::switch_main(&rest);
    }
    // The storage driver's helper (a fresh single-threaded process that
    // enters a user namespace): internal as well.
    if args.len() == 2 && args[1] == storage::view::SUBCOMMAND {
        return storage::view::helper_main();
    }
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
            Some(a) if a == container::monitor::EXITED && args.len() == 7 => {
                let num = |i: usize| args[i].to_str().and_then(|s| s.parse::<u64>().ok());
                match (
                    args[4].to_str().and_then(|s| s.parse().ok()),
                    num(5),
                    num(6),
                ) {
                    (Some(code), Some(ran_ms), Some(backoff_ms)) => Some(Mode::Exited {
                        code,
                        ran_ms,
                        backoff_ms,
                    }),
                    _ => None,
                }
            }
            Some(_) => None,
        };
        if let (3..=4 | 7, Some(mode)) = (args.len(), mode) {
            return container::monitor::main(&args[2].to_string_lossy(), mode);
        }
    }
    // One health check of a detached container, run by its shim.
    if args.get(1).is_some_and(|a| a == "container-health") {
        let in_start = args.get(3).is_some_and(|a| a == "--in-start-period");
        if let (3..=4, Some(id)) = (args.len(), args.get(2).and_then(|a| a.to_str())) {
            return container::health::check_main(id, in_start);
        }
    }
    if args.get(1).is_some_and(|a| a == fuseovl::SUBCOMMAND) {
        return fuseovl::main(&args[2..]);
    }
    let cli = cli::parse();
    storage::set_flag(cli.storage_driver);
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
        cli::Command::Port(args) | cli::Command::Container(cli::ContainerCommand::Port(args)) => {
            cli::port::port(&args)
        }
        cli::Command::Top(args) | cli::Command::Container(cli::ContainerCommand::Top(args)) => {
            cli::top::top(&args)
        }
        cli::Command::Volume(cmd) => cli::volume::run(cmd),
        cli::Command::Network(cmd) => cli::network::run(cmd),
        cli::Command::Policy(cmd) => cli::policy::run(cmd),
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
        cli::Command::Runtime(args) => return cli::runtime::main(*args),
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
