//! `crmsync push-contacts` (SPEC 5): picks the contacts accounts, reads the
//! field map, opens the state file, runs the contacts engine
//! ([`crate::sync::contacts`]) with a person to ask when there is one (P9),
//! prints its report and returns its exit code.

use anyhow::Result;

use super::Ctx;
use crate::cli::PushContactsArgs;
use crate::config::DavAccount;
use crate::error::{Exit, usage};
use crate::parse::vcard::FieldMap;
use crate::state::Access;
use crate::sync::contacts::{self as engine, Chooser, Options, Unattended};

pub fn run(ctx: &Ctx, args: &PushContactsArgs) -> Result<Exit> {
    let cfg = &ctx.cfg;
    let accounts: Vec<&DavAccount> = super::pick_accounts(
        ctx,
        &cfg.contacts.accounts,
        DavAccount::name,
        &args.accounts,
        "contacts.accounts",
        super::ADD_ONE,
    )?;
    let map = FieldMap::parse(&cfg.contacts.fields).map_err(|m| {
        usage(format!(
            "{}: {m}",
            cfg.path
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "config".into())
        ))
    })?;
    let st = ctx.state(Access::Write, "push-contacts")?;
    crate::crm::remote::pull(&ctx.cfg, &st)?; // B2: the directory cache first
    let mut ask = crate::wizard::contacts::Ask;
    let mut unattended = Unattended {
        yes: ctx.global.yes,
    };
    let chooser: &mut dyn Chooser = if ctx.interactive() && !ctx.global.json {
        &mut ask
    } else {
        &mut unattended
    };
    let opts = Options {
        force: args.force,
        list_unchanged: args.all_items || ctx.global.verbose > 0,
    };
    let report = engine::run(cfg, &st, &accounts, &map, &opts, chooser)?;
    ctx.printer.print(&report)?;
    Ok(report.exit())
}
