//! `crmsync check` (X1) and `crmsync unblock` (X2).
//!
//! check runs the check engine ([`crate::sync::check`]) over the accounts
//! named (all without names) and prints one row per check.

use anyhow::Result;
use serde::Serialize;

use super::Ctx;
use crate::cli::{CheckArgs, UnblockArgs};
use crate::error::{Busy, Exit, usage};
use crate::report::output::Tabular;
use crate::state::Access;
use crate::sync::check::{self, StateCheck};

pub fn run(ctx: &Ctx, args: &CheckArgs) -> Result<Exit> {
    let cfg = &ctx.cfg;
    for name in &args.accounts {
        if !cfg.account_names().iter().any(|(n, _)| n == name) && name != "crm" {
            return Err(usage(format!(
                "no account named `{name}` in {}; `crmsync check` without names checks all",
                cfg.describe_path()
            )));
        }
    }
    let path = cfg.state_path(ctx.global.state.as_deref());
    // X17: no config, no state file (a check creates nothing it does not
    // need), and exit 2 (X7: a configuration error).
    if cfg.path.is_none() {
        let report = check::run(
            cfg,
            StateCheck::NoConfig(path),
            &args.accounts,
            args.offline,
        )?;
        ctx.printer.print(&report)?;
        return Ok(Exit::Usage);
    }
    // X17: a state file that cannot be opened is a failing row; another
    // run holding it (X4) still ends the check with exit 75.
    let opened = match ctx.state(Access::Write, "check") {
        Ok(st) => Ok(st),
        Err(e) if e.chain().any(|c| c.is::<Busy>()) => return Err(e),
        Err(e) => Err(check::state_problem(cfg, &path, &e)),
    };
    let state = match &opened {
        Ok(st) => StateCheck::Open(st),
        Err(why) => StateCheck::Failed(path, why.clone()),
    };
    let report = check::run(cfg, state, &args.accounts, args.offline)?;
    ctx.printer.print(&report)?;
    Ok(if report.failed() {
        Exit::Failed
    } else {
        Exit::Ok
    })
}

#[derive(Serialize)]
struct Unblocked {
    command: &'static str,
    unblocked: Vec<String>,
}

impl Tabular for Unblocked {
    fn list_key(&self) -> Option<&'static str> {
        Some("unblocked")
    }
    fn headers(&self) -> Vec<&'static str> {
        vec!["unblocked account"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.unblocked.iter().map(|a| vec![a.clone()]).collect()
    }
}

/// X2: lifts the block of one or every account.
pub fn unblock(ctx: &Ctx, args: &UnblockArgs) -> Result<Exit> {
    let st = ctx.state(Access::Write, "unblock")?;
    let names = if args.all {
        st.blocked_accounts()?
    } else {
        let name = args.account.clone().unwrap_or_default();
        if st.blocked(&name)?.is_none() {
            let known = ctx.cfg.account_names().iter().any(|(n, _)| *n == name) || name == "crm";
            return Err(usage(if known {
                format!("account `{name}` is not blocked")
            } else {
                format!("no account named `{name}`; see `crmsync check` for the account names")
            }));
        }
        vec![name]
    };
    if st.writable() {
        for n in &names {
            st.unblock(n)?;
        }
    }
    ctx.printer.print(&Unblocked {
        command: "unblock",
        unblocked: names,
    })?;
    Ok(Exit::Ok)
}
