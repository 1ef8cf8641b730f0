//! Commands wire the stages together and drive the wizards; they hold no
//! protocol code and no SQL (STYLE: source -> parse -> match -> plan ->
//! apply -> report).

mod check;
mod crm;
mod crm_activity;
mod crm_rest;
mod docs;
mod explain;
mod import_mail;
mod init;
mod push_contacts;
mod report;
mod resolve_unknown;
mod sync_calendar;

use std::io::IsTerminal;

use anyhow::Result;

use crate::cli::{ActivityCommand, Cli, Command, CrmCommand, GlobalArgs};
use crate::config::Config;
use crate::error::Exit;
use crate::report::output::Printer;
use crate::state::{Access, State};

/// What every command gets: the global flags, the config and the printer.
pub struct Ctx {
    pub global: GlobalArgs,
    pub cfg: Config,
    pub printer: Printer,
}

impl Ctx {
    /// Opens the state file for `command`; `--dry-run` turns a writer into a reader.
    ///
    /// # Errors
    /// [`crate::error::Busy`] and the errors of [`State::open`].
    pub fn state(&self, access: Access, command: &str) -> Result<State> {
        let access = if self.global.dry_run && access == Access::Write {
            Access::DryRun
        } else {
            access
        };
        let path = self.cfg.state_path(self.global.state.as_deref());
        let st = State::open(&path, access, command)?;
        if st.writable() {
            st.sync_users(&self.cfg)?;
        }
        Ok(st)
    }

    /// True when the person can be asked: no `--yes`, stdin and stderr are
    /// terminals (W6).
    pub fn interactive(&self) -> bool {
        !self.global.yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }
}

/// The next step when the config lacks an account table (W10: points to
/// what an installed crmsync has, not to a file of the source tree).
pub const ADD_ONE: &str =
    "add one (`crmsync init --sample --output sample.toml` writes a commented example)";

/// The accounts named on the command line, or all of them when none is;
/// `table` is the config table (`mail.accounts`) and `hint` the next step
/// when the config has none.
///
/// # Errors
/// A usage error for an unknown name or an empty table.
pub fn pick_accounts<'a, T>(
    ctx: &Ctx,
    all: &'a [T],
    name: impl Fn(&T) -> &str,
    wanted: &[String],
    table: &str,
    hint: &str,
) -> Result<Vec<&'a T>> {
    let kind = table.split('.').next().unwrap_or(table);
    for w in wanted {
        if !all.iter().any(|a| name(a) == w) {
            return Err(crate::error::usage(format!(
                "no {kind} account named `{w}` in {}",
                ctx.cfg.describe_path()
            )));
        }
    }
    let picked: Vec<&T> = all
        .iter()
        .filter(|a| wanted.is_empty() || wanted.iter().any(|w| w == name(a)))
        .collect();
    if picked.is_empty() {
        return Err(crate::error::usage(format!(
            "no [[{table}]] in {}; {hint}",
            ctx.cfg.describe_path()
        )));
    }
    Ok(picked)
}

/// The command's name as the JSON documents give it (X15): `import-mail`,
/// `crm list`, `crm activity show`.
pub fn name(command: &Command) -> &'static str {
    match command {
        Command::Init(_) => "init",
        Command::Completions(_) => "completions",
        Command::Man(_) => "man",
        Command::Check(_) => "check",
        Command::Unblock(_) => "unblock",
        Command::ImportMail(_) => "import-mail",
        Command::Explain(_) => "explain",
        Command::Report(_) => "report",
        Command::ResolveUnknown(_) => "resolve-unknown",
        Command::PushContacts(_) => "push-contacts",
        Command::SyncCalendar(_) => "sync-calendar",
        Command::Crm(sub) => match sub {
            CrmCommand::Import(_) => "crm import",
            CrmCommand::List(_) => "crm list",
            CrmCommand::Export(_) => "crm export",
            CrmCommand::Pull => "crm pull",
            CrmCommand::Push => "crm push",
            CrmCommand::Activity(a) => match **a {
                ActivityCommand::Add(_) => "crm activity add",
                ActivityCommand::Edit(_) => "crm activity edit",
                ActivityCommand::Show(_) => "crm activity show",
                ActivityCommand::Delete(_) => "crm activity delete",
            },
        },
    }
}

/// Runs the parsed command line.
///
/// # Errors
/// Whatever the command fails with; `main` maps it to an exit code.
pub fn run(cli: Cli) -> Result<Exit> {
    crate::ui::set_level(if cli.global.quiet {
        -1
    } else {
        cli.global.verbose as i8
    });
    let global = cli.global;
    let command = name(&cli.command);
    // X15: a --json that would be ignored is refused instead. `crm export`
    // writes the format of --format; `report --csv` CSV (clap's
    // `conflicts_with` misses a global --json given before the subcommand).
    if global.json {
        match &cli.command {
            Command::Crm(CrmCommand::Export(_)) => {
                return Err(crate::error::usage(
                    "`crm export` writes the import layout; use --format json instead of --json",
                ));
            }
            Command::Completions(_) | Command::Man(_) => {
                return Err(crate::error::usage(format!(
                    "`{command}` prints a shell script or a man page, not JSON: drop --json"
                )));
            }
            Command::Report(a) if a.csv => {
                return Err(crate::error::usage(
                    "`report` prints CSV or JSON, not both: drop --csv or --json",
                ));
            }
            _ => {}
        }
    }
    // The config is loaded only by commands that need it: init must work
    // without (or with a broken) config.
    let ctx = || -> Result<Ctx> {
        Ok(Ctx {
            printer: Printer {
                json: global.json,
                quiet: global.quiet,
                command,
            },
            cfg: Config::load(global.config.as_deref())?,
            global: global.clone(),
        })
    };
    // B2: what import-mail, resolve-unknown, sync-calendar and `crm
    // activity add|edit|delete` wrote goes to a REST CRM after them.
    match cli.command {
        Command::Init(args) => init::run(&global, &args),
        // X21: generated from cli.rs; no config is read.
        Command::Completions(args) => docs::completions(&args),
        Command::Man(args) => docs::man(&args),
        Command::Check(args) => check::run(&ctx()?, &args),
        Command::Unblock(args) => check::unblock(&ctx()?, &args),
        Command::ImportMail(args) => {
            let ctx = ctx()?;
            import_mail::run(&ctx, &args).and_then(|exit| crm_rest::push_after(&ctx, exit))
        }
        Command::Explain(args) => explain::run(&ctx()?, &args),
        Command::Report(args) => report::run(&ctx()?, &args),
        Command::PushContacts(args) => push_contacts::run(&ctx()?, &args),
        Command::ResolveUnknown(args) => {
            let ctx = ctx()?;
            resolve_unknown::run(&ctx, &args).and_then(|exit| crm_rest::push_after(&ctx, exit))
        }
        Command::SyncCalendar(args) => {
            let ctx = ctx()?;
            sync_calendar::run(&ctx, &args).and_then(|exit| crm_rest::push_after(&ctx, exit))
        }
        Command::Crm(sub) => crm::run(&ctx()?, sub),
    }
}
