//! The `lockscope` command. Parsing is clap's; the work is in `lockscope::commands`.

use std::process::ExitCode;

use clap::Parser;
use lockscope::cli::{Cli, Command};
use lockscope::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Check(args) => commands::check(args),
        Command::Replay(args) => commands::replay(args),
        Command::Render(args) => commands::render(args),
        Command::Explore(args) => commands::explore(args),
        Command::List(args) => commands::list(args),
        Command::Merge(args) => commands::merge(args),
        Command::Bench(args) => commands::bench(args),
        Command::Course(args) => commands::course(args),
        Command::Conform(args) => lockscope::conform::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            for line in message.lines() {
                eprintln!("lockscope: {line}");
            }
            ExitCode::from(2)
        }
    }
}
