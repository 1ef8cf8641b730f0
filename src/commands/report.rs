//! `crmsync report` (X10): imported activities with their assignment and
//! flags, filterable by account, date and flag; a table, CSV or JSON (the
//! SPEC 8 shape). The tables and CSV live in [`crate::report::activities`].
//! A `--flag` or `--account` typo is an error listing the valid values
//! (X19), not an empty list.

use anyhow::Result;

use super::Ctx;
use crate::cli::ReportArgs;
use crate::error::{Exit, usage};
use crate::model::reason;
use crate::report::activities::{self as table, ActivityList, Conflicts, Resolutions};
use crate::report::output::write_stdout;
use crate::state::report::ActivityFilter;
use crate::state::{Access, State};

/// A date filter: `YYYY-MM-DD` or an RFC 3339 time, as RFC 3339 UTC text.
fn date_bound(s: &str, end: bool) -> Result<String> {
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = if end {
            d.and_hms_opt(23, 59, 59)
        } else {
            d.and_hms_opt(0, 0, 0)
        };
        return Ok(t
            .map(|t| {
                t.and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            })
            .unwrap_or_default());
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .map_err(|_| {
            usage(format!(
                "`{s}` is not a date; expected YYYY-MM-DD or 2026-11-20T10:00:00Z"
            ))
        })
}

/// X19: a `--flag` that is no flag reason is a usage error listing them.
fn check_flag(flag: Option<&str>) -> Result<()> {
    match flag {
        Some(f) if !reason::ALL.contains(&f) => Err(usage(format!(
            "--flag {f}: no such flag; the flags are: {}",
            reason::ALL.join(", ")
        ))),
        _ => Ok(()),
    }
}

/// X19: an `--account` that is neither configured nor known to the state
/// file (an account since removed) is a usage error listing the names.
fn check_account(ctx: &Ctx, st: &State, account: Option<&str>) -> Result<()> {
    let Some(name) = account else {
        return Ok(());
    };
    let mut names: Vec<String> = ctx
        .cfg
        .account_names()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for n in st.report_accounts()? {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    if names.iter().any(|n| n == name) {
        return Ok(());
    }
    Err(usage(if names.is_empty() {
        format!(
            "--account {name}: no such account; {} configures none",
            ctx.cfg.describe_path()
        )
    } else {
        format!(
            "--account {name}: no such account; the accounts are: {}",
            names.join(", ")
        )
    }))
}

fn resolutions(ctx: &Ctx, a: &ReportArgs) -> Result<Exit> {
    let st = ctx.state(Access::Read, "report")?;
    let list = st.resolutions()?;
    if a.csv {
        write_stdout(&table::resolutions_csv(&list)?)?;
    } else {
        ctx.printer.print(&Resolutions { resolutions: list })?;
    }
    Ok(Exit::Ok)
}

fn conflicts(ctx: &Ctx, a: &ReportArgs) -> Result<Exit> {
    let st = ctx.state(Access::Read, "report")?;
    check_account(ctx, &st, a.account.as_deref())?;
    let list = st.conflicts(a.account.as_deref())?;
    if a.csv {
        write_stdout(&table::conflicts_csv(&list)?)?;
    } else {
        ctx.printer.print(&Conflicts { conflicts: list })?;
    }
    Ok(Exit::Ok)
}

pub fn run(ctx: &Ctx, a: &ReportArgs) -> Result<Exit> {
    if a.resolutions {
        return resolutions(ctx, a);
    }
    if a.conflicts {
        return conflicts(ctx, a);
    }
    check_flag(a.flag.as_deref())?;
    let st = ctx.state(Access::Read, "report")?;
    check_account(ctx, &st, a.account.as_deref())?;
    let since = a
        .since
        .as_deref()
        .map(|s| date_bound(s, false))
        .transpose()?;
    let until = a
        .until
        .as_deref()
        .map(|s| date_bound(s, true))
        .transpose()?;
    let ids = st.report_activity_ids(&ActivityFilter {
        account: a.account.as_deref(),
        since: since.as_deref(),
        until: until.as_deref(),
        flagged: a.flagged,
        flag: a.flag.as_deref(),
        unknown: a.unknown,
    })?;
    let mut list = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(v) = st.activity_view(id)? {
            list.push(v);
        }
    }
    if a.csv {
        write_stdout(&table::activities_csv(&list)?)?;
    } else {
        ctx.printer.print(&ActivityList { activities: list })?;
    }
    Ok(Exit::Ok)
}
