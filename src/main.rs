//! The `crmsync` binary: parse arguments, run, print the error with its
//! causes, exit with the code of SPEC X7.

use std::process::ExitCode;

use clap::Parser;
use crmsync::error::{Exit, exit_for, is_broken_pipe};
use crmsync::report::output::Printer;

fn main() -> ExitCode {
    let cli = crmsync::cli::Cli::parse();
    let json = cli.global.json;
    let command = crmsync::commands::name(&cli.command);
    match crmsync::commands::run(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(Exit::Ok.code()),
        Err(err) => {
            // X6a: an error may quote a server or a file.
            eprintln!("error: {}", crmsync::ui::printable(&format!("{err:#}")));
            // X15: a script reading --json gets the error as JSON too,
            // with the same exit code (X7).
            if json {
                let _ = Printer::print_error(command, &format!("{err:#}"));
            }
            ExitCode::from(exit_for(&err).code())
        }
    }
}
