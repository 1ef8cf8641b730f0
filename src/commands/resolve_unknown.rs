//! `crmsync resolve-unknown` (SPEC 3): the administrator's tool for the
//! unknown-address queue. Without actions, on a terminal, the menu
//! ([`crate::wizard::resolve`]); with actions (flags, CSV files), those;
//! otherwise, and with `--list`, the list (U1). The engine is
//! [`crate::sync::resolve`]; this module parses the arguments and prints.

use std::collections::HashMap;

use anyhow::Result;
use clap::CommandFactory;

use super::Ctx;
use crate::cli::ResolveUnknownArgs;
use crate::error::Exit;
use crate::state::{Access, os_user};
use crate::sync::resolve::{self as engine, Given, Work};
use crate::wizard::resolve::Menu;

pub fn run(ctx: &Ctx, args: &ResolveUnknownArgs) -> Result<Exit> {
    let given = Given {
        assign: &args.assign,
        create: &args.create,
        link_domain: &args.link_domain,
        ignore: &args.ignore,
        apply: &args.apply,
        auto_domain: args.auto_domain,
    };
    let requests = engine::requests(&given, &positions())?;
    let interactive = ctx.interactive() && !ctx.global.json;
    if args.list || (requests.is_empty() && !interactive) {
        let st = ctx.state(Access::Read, "resolve-unknown")?;
        ctx.printer.print(&engine::list(&ctx.cfg, &st, args.all)?)?;
        return Ok(Exit::Ok);
    }
    let st = ctx.state(Access::Write, "resolve-unknown")?;
    let by = args.by.clone().unwrap_or_else(os_user);
    let mut menu = Menu::default();
    let work = if requests.is_empty() {
        Work::Menu(&mut menu)
    } else {
        Work::Requests(&requests)
    };
    let report = engine::run(&ctx.cfg, &st, work, &by)?;
    ctx.printer.print(&report)?;
    Ok(report.exit())
}

/// Where each action flag stands on the command line. The derive API
/// keeps one list per flag; the order across flags comes from clap's
/// indices, by parsing the same arguments once more.
fn positions() -> HashMap<String, Vec<usize>> {
    let mut map = HashMap::new();
    let Ok(m) = crate::cli::Cli::command().try_get_matches_from(std::env::args_os()) else {
        return map;
    };
    let Some(sub) = m.subcommand_matches("resolve-unknown") else {
        return map;
    };
    for id in [
        "assign",
        "create",
        "link_domain",
        "ignore",
        "apply",
        "auto_domain",
    ] {
        if let Some(ix) = sub.indices_of(id) {
            map.insert(id.to_string(), ix.collect());
        }
    }
    map
}
