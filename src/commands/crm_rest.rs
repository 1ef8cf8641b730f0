//! `crm pull` and `crm push` (B2), and the push after a command whose
//! writes go to a REST CRM. The steps themselves, and when they run, are
//! `crm::remote`'s (directory cache + outbox, pull then push); the
//! commands name them where they run.

use anyhow::Result;

use super::Ctx;
use crate::config::Backend;
use crate::crm::remote;
use crate::error::{Exit, usage};
use crate::report::rest::SyncSummary;
use crate::state::Access;

/// B2, the push step after a command that wrote activities: in a run of
/// its own (under the run lock); returns the exit code to use
/// ([`remote::exit_after_push`]).
///
/// # Errors
/// SQLite errors; the state file busy.
pub fn push_after(ctx: &Ctx, exit: Exit) -> Result<Exit> {
    if !remote::pushes(&ctx.cfg, ctx.global.dry_run, exit) {
        return Ok(exit);
    }
    let st = ctx.state(Access::Write, "crm push")?;
    match remote::push(&ctx.cfg, &st) {
        Ok(c) => {
            crate::report::rest::tell_pushed(&c);
            Ok(remote::exit_after_push(exit, Some(&c)))
        }
        Err(e) => {
            eprintln!(
                "error: {}",
                crate::ui::printable(&format!(
                    "sending to the CRM: {e:#}; nothing is lost: the writes wait in the state file, \
                     the next run (or `crmsync crm push`) sends them"
                ))
            );
            Ok(remote::exit_after_push(exit, None))
        }
    }
}

/// `crmsync crm pull` (B2): sends what waits, then refreshes the cache now.
///
/// # Errors
/// A usage error with the embedded back end; the CRM's errors.
pub fn pull(ctx: &Ctx) -> Result<Exit> {
    require_rest(ctx, "pull")?;
    let st = ctx.state(Access::Write, "crm pull")?;
    let (pushed, pulled) = remote::sync(&ctx.cfg, &st)?;
    let partial = !pushed.refused.is_empty();
    ctx.printer.print(&SyncSummary {
        command: "crm pull",
        pushed,
        pulled: Some(pulled),
    })?;
    Ok(if partial { Exit::Partial } else { Exit::Ok })
}

/// `crmsync crm push` (B2): sends the outbox now.
///
/// # Errors
/// A usage error with the embedded back end; the CRM's errors.
pub fn push(ctx: &Ctx) -> Result<Exit> {
    require_rest(ctx, "push")?;
    let st = ctx.state(Access::Write, "crm push")?;
    let pushed = remote::push(&ctx.cfg, &st)?;
    let partial = !pushed.refused.is_empty();
    ctx.printer.print(&SyncSummary {
        command: "crm push",
        pushed,
        pulled: None,
    })?;
    Ok(if partial { Exit::Partial } else { Exit::Ok })
}

fn require_rest(ctx: &Ctx, what: &str) -> Result<()> {
    if ctx.cfg.crm.backend != Backend::Rest || ctx.global.dry_run {
        return Err(usage(if ctx.global.dry_run {
            format!("`crm {what}` talks to the CRM; it has no --dry-run")
        } else {
            format!(
                "`crm {what}` is for crm.backend = \"rest\"; {} uses the embedded CRM (the state file is the CRM)",
                ctx.cfg.describe_path()
            )
        }));
    }
    Ok(())
}
