//! `crmsync sync-calendar` (SPEC 4): picks the calendar accounts, opens the
//! state file, runs the calendar engine ([`crate::sync::calendar`]) with a
//! person to ask when there is one (C6 `ask`), prints its report and
//! returns its exit code.

use anyhow::Result;

use super::Ctx;
use crate::cli::{ConflictArg, SendAs, SyncCalendarArgs};
use crate::config::{ConflictPolicy, DavAccount};
use crate::error::Exit;
use crate::parse::ical::Kind;
use crate::state::Access;
use crate::sync::calendar::{self as engine, Options};

pub fn run(ctx: &Ctx, args: &SyncCalendarArgs) -> Result<Exit> {
    let cfg = &ctx.cfg;
    let accounts: Vec<&DavAccount> = super::pick_accounts(
        ctx,
        &cfg.calendar.accounts,
        DavAccount::name,
        &args.accounts,
        "calendar.accounts",
        super::ADD_ONE,
    )?;
    let st = ctx.state(Access::Write, "sync-calendar")?;
    crate::crm::remote::pull(&ctx.cfg, &st)?; // B2: the directory cache first
    let send_as = match args.send_as {
        Some(SendAs::Task) => Kind::Todo,
        _ => Kind::Event,
    };
    let opts = Options {
        send: args.send.iter().map(|id| (*id, send_as)).collect(),
        unlink: args.unlink.clone(),
        conflict: args.conflict.map(policy_of),
        allow_mass_delete: args.allow_mass_delete,
        all_items: args.all_items || ctx.global.verbose > 0,
        ..Options::default()
    };
    let mut chooser = crate::wizard::calendar::chooser(ctx.interactive() && !ctx.global.json);
    let report = engine::run(cfg, &st, &accounts, &opts, chooser.as_mut())?;
    ctx.printer.print(&report)?;
    Ok(report.exit())
}

fn policy_of(c: ConflictArg) -> ConflictPolicy {
    match c {
        ConflictArg::NewestWins => ConflictPolicy::NewestWins,
        ConflictArg::CrmWins => ConflictPolicy::CrmWins,
        ConflictArg::GroupwareWins => ConflictPolicy::GroupwareWins,
        ConflictArg::Ask => ConflictPolicy::Ask,
    }
}
