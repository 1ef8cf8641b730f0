//! `crmsync import-mail` (SPEC 2): mail accounts to CRM activities, through
//! the wizard (W1-W5) or unattended (W6). Picks the accounts, runs the mail
//! engine ([`crate::sync::mail`]) and, for W1, sync-calendar after it, then
//! prints the reports.

use std::collections::BTreeSet;

use anyhow::Result;

use super::Ctx;
use crate::cli::ImportMailArgs;
use crate::config::MailAccount;
use crate::error::Exit;
use crate::state::Access;
use crate::sync::mail::{self as engine, Chooser, Unattended};
use crate::wizard::mail::Wizard;

pub fn run(ctx: &Ctx, args: &ImportMailArgs) -> Result<Exit> {
    let cfg = &ctx.cfg;
    let accounts: Vec<&MailAccount> = super::pick_accounts(
        ctx,
        &cfg.mail.accounts,
        MailAccount::name,
        &args.accounts,
        "mail.accounts",
        &format!("{} or run `crmsync init`", super::ADD_ONE),
    )?;
    let interactive = ctx.interactive() && !ctx.global.json;
    let mut chooser: Box<dyn Chooser> = if interactive {
        Box::new(Wizard)
    } else {
        Box::new(Unattended)
    };
    // W11: a Ctrl-C in the wizard restores the terminal and says what is kept.
    let _stop = interactive.then(|| crate::ui::on_interrupt(crate::ui::Stopped::NothingImported));
    // W1: what to import now; the default comes from `[mail] areas`.
    let areas = choose_areas(ctx, chooser.as_mut())?;
    let st = ctx.state(Access::Write, "import-mail")?;
    crate::crm::remote::pull(&ctx.cfg, &st)?; // B2: the directory cache first
    let opts = engine::Options {
        all_items: args.all_items || ctx.global.verbose > 0,
        ids: ctx.global.verbose > 0,
    };
    let now: &[&MailAccount] = if areas.mail { &accounts } else { &[] };
    let mut summary = engine::run(cfg, &st, now, &opts, chooser.as_mut())?;
    let exit = summary.exit;
    // W1: appointments and tasks of the same users, through sync-calendar
    // (both ways), after the mail; its summary comes with the mail's.
    let mut st = Some(st);
    let calendar = if areas.kinds.events || areas.kinds.tasks {
        // The calendar run takes the state file's lock itself.
        st = None;
        let users: BTreeSet<&str> = accounts.iter().map(|a| a.user()).collect();
        let calendars: Vec<&crate::config::DavAccount> = ctx
            .cfg
            .calendar
            .accounts
            .iter()
            .filter(|c| users.contains(c.user()))
            .collect();
        if calendars.is_empty() {
            summary.errors.push(format!(
                "appointments and tasks: no [[calendar.accounts]] for {}; {}",
                users.iter().copied().collect::<Vec<_>>().join(", "),
                super::ADD_ONE
            ));
            None
        } else {
            let cal_st = ctx.state(Access::Write, "sync-calendar")?;
            crate::crm::remote::pull(&ctx.cfg, &cal_st)?; // B2: as sync-calendar does
            let opts = crate::sync::calendar::Options {
                kinds: areas.kinds,
                all_items: ctx.global.verbose > 0,
                ..Default::default()
            };
            let mut asks = crate::wizard::calendar::chooser(ctx.interactive() && !ctx.global.json);
            let report =
                crate::sync::calendar::run(&ctx.cfg, &cal_st, &calendars, &opts, asks.as_mut())?;
            let exit = report.exit();
            Some((report, exit))
        }
    } else {
        None
    };
    let exit = match &calendar {
        Some((_, e)) if worse(*e, exit) => *e,
        None if !summary.errors.is_empty() && exit == Exit::Ok => Exit::Partial,
        _ => exit,
    };
    // X15: `ok` in the JSON speaks for the whole run, calendar included.
    summary.exit = exit;
    if let Some((c, _)) = &calendar
        && ctx.global.json
    {
        summary.calendar = Some(serde_json::to_value(c)?);
    }
    if areas.mail || ctx.global.json {
        ctx.printer.print(&summary)?;
    }
    if let Some((c, _)) = &calendar
        && !ctx.global.json
    {
        ctx.printer.print(c)?;
    }
    // W5: with the wizard, every mail was written at its end: this run's
    // activities are those of the report.
    let shown: Vec<i64> = if interactive {
        summary.items.iter().filter_map(|i| i.activity_id).collect()
    } else {
        Vec::new()
    };
    if !shown.is_empty() {
        let st = match st {
            Some(st) => st,
            None => {
                let st = ctx.state(Access::Read, "import-mail")?;
                crate::crm::remote::pull(&ctx.cfg, &st)?; // B2: the directory cache first
                st
            }
        };
        crate::wizard::mail::show(&st, &shown)?;
    }
    Ok(exit)
}

/// True when `a` is a worse outcome than `b` (failed > partial > ok).
fn worse(a: Exit, b: Exit) -> bool {
    let rank = |e: Exit| match e {
        Exit::Ok => 0,
        Exit::Partial => 1,
        _ => 2,
    };
    rank(a) > rank(b)
}

/// What one run imports (W1).
struct Areas {
    mail: bool,
    kinds: crate::sync::calendar::Kinds,
}

/// W1: the areas from `[mail] areas`, offered for change on a terminal.
fn choose_areas(ctx: &Ctx, chooser: &mut dyn Chooser) -> Result<Areas> {
    let on = ["mail", "appointments", "tasks"].map(|a| ctx.cfg.mail.areas.iter().any(|x| x == a));
    let [mail, events, tasks] = chooser.areas(on)?;
    Ok(Areas {
        mail,
        kinds: crate::sync::calendar::Kinds { events, tasks },
    })
}
