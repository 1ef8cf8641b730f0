//! The `crmsync` binary: parse arguments, run, print the error with its
//! causes, exit with the code of SPEC X7.

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use crmsync::error::{Exit, exit_for, is_broken_pipe};
use crmsync::report::output::Printer;

fn main() -> ExitCode {
    let cli = match crmsync::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return argument_error(&e),
    };
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

/// A command line clap refuses. With `--json` among the arguments the
/// error comes as the X15 document too (the subcommand named when one was
/// given), exit 2 as for every usage error (X7); help and version print as
/// clap prints them.
fn argument_error(e: &clap::Error) -> ExitCode {
    let shown = matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let args: Vec<String> = std::env::args().skip(1).collect();
    if shown || !args.iter().any(|a| a == "--json") {
        e.exit()
    }
    let _ = e.print();
    let cli = crmsync::cli::Cli::command();
    let command = args
        .iter()
        .find_map(|a| cli.get_subcommands().find(|c| c.get_name() == a.as_str()))
        .map_or("crmsync", |c| c.get_name());
    let rendered = e.render().to_string();
    let message = rendered
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("error: ")
        .to_string();
    let _ = Printer::print_error(command, &message);
    ExitCode::from(Exit::Usage.code())
}
