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

use crate::cli::{Cli, Command, GlobalArgs};
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
    // The config is loaded only by commands that need it: init must work
    // without (or with a broken) config.
    let ctx = || -> Result<Ctx> {
        Ok(Ctx {
            printer: Printer { json: global.json },
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
