//! `crmsync report` (X10): imported activities with their assignment and
//! flags, filterable by account, date and flag; a table, CSV or JSON (the
//! SPEC 8 shape).

use anyhow::Result;
use serde::Serialize;

use crate::state::calendar::ConflictRow;

use super::Ctx;
use crate::cli::ReportArgs;
use crate::error::{Exit, usage};
use crate::report::output::{Tabular, csv_record, write_stdout};
use crate::state::activities::ActivityView;
use crate::state::report::ActivityFilter;
use crate::state::{Access, ResolutionRow};

#[derive(Serialize)]
struct Report {
    activities: Vec<ActivityView>,
}

impl Tabular for Report {
    fn headers(&self) -> Vec<&'static str> {
        vec![
            "id",
            "type",
            "date",
            "subject",
            "attached to",
            "rep",
            "flags",
        ]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.activities
            .iter()
            .map(|a| {
                vec![
                    a.id.to_string(),
                    a.kind.clone(),
                    a.start_at.clone().unwrap_or_default(),
                    a.subject.chars().take(50).collect(),
                    format!(
                        "{} {} ({})",
                        a.attached_to.kind, a.attached_to.name, a.attached_to.id
                    ),
                    a.rep.clone(),
                    a.flag_details
                        .iter()
                        .map(|f| {
                            if f.address.is_empty() {
                                f.reason.clone()
                            } else {
                                format!("{} {}", f.reason, f.address)
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        vec![format!("{} activities", self.activities.len())]
    }
}

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

/// U5: the resolutions of the unknown-address queue.
#[derive(Serialize)]
struct Resolutions {
    resolutions: Vec<ResolutionRow>,
}

impl Tabular for Resolutions {
    fn headers(&self) -> Vec<&'static str> {
        vec!["#", "at", "by", "address", "action", "target"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.resolutions
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    r.at.clone(),
                    r.by.clone(),
                    r.address.clone(),
                    r.action.clone(),
                    r.target.clone().unwrap_or_default(),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        vec![format!("{} resolutions", self.resolutions.len())]
    }
}

fn resolutions(ctx: &Ctx, a: &ReportArgs) -> Result<Exit> {
    let st = ctx.state(Access::Read, "report")?;
    let list = st.resolutions()?;
    if a.csv {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["id", "at", "by", "address", "action", "target"])?;
        for r in &list {
            csv_record(
                &mut w,
                [
                    r.id.to_string(),
                    r.at.clone(),
                    r.by.clone(),
                    r.address.clone(),
                    r.action.clone(),
                    r.target.clone().unwrap_or_default(),
                ],
            )?;
        }
        write_stdout(&String::from_utf8(w.into_inner()?)?)?;
    } else {
        ctx.printer.print(&Resolutions { resolutions: list })?;
    }
    Ok(Exit::Ok)
}

/// C6: the conflict log.
#[derive(Serialize)]
struct Conflicts {
    conflicts: Vec<ConflictRow>,
}

impl Tabular for Conflicts {
    fn headers(&self) -> Vec<&'static str> {
        vec!["#", "at", "account", "item", "loser", "version kept"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.conflicts
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    r.at.clone(),
                    r.account.clone(),
                    r.item.clone(),
                    r.loser.clone(),
                    r.data
                        .chars()
                        .take(60)
                        .collect::<String>()
                        .replace(['\r', '\n'], " "),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        vec![format!(
            "{} losing versions kept; --json shows them whole",
            self.conflicts.len()
        )]
    }
}

fn conflicts(ctx: &Ctx, a: &ReportArgs) -> Result<Exit> {
    let st = ctx.state(Access::Read, "report")?;
    let list = st.conflicts(a.account.as_deref())?;
    if a.csv {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["id", "at", "account", "item", "loser", "data"])?;
        for r in &list {
            csv_record(
                &mut w,
                [
                    r.id.to_string(),
                    r.at.clone(),
                    r.account.clone(),
                    r.item.clone(),
                    r.loser.clone(),
                    r.data.clone(),
                ],
            )?;
        }
        write_stdout(&String::from_utf8(w.into_inner()?)?)?;
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
    let st = ctx.state(Access::Read, "report")?;
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
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "id",
            "type",
            "status",
            "date",
            "subject",
            "attached_kind",
            "attached_id",
            "attached_email",
            "rep",
            "participants",
            "flags",
            "message_id",
        ])?;
        for v in &list {
            csv_record(
                &mut w,
                [
                    v.id.to_string(),
                    v.kind.clone(),
                    v.status.clone(),
                    v.start_at.clone().unwrap_or_default(),
                    v.subject.clone(),
                    v.attached_to.kind.to_string(),
                    v.attached_to.id.clone(),
                    v.attached_to.email.clone().unwrap_or_default(),
                    v.rep.clone(),
                    v.participants.join(";"),
                    v.flags.join(";"),
                    v.message_id.clone().unwrap_or_default(),
                ],
            )?;
        }
        write_stdout(&String::from_utf8(w.into_inner()?)?)?;
    } else {
        ctx.printer.print(&Report { activities: list })?;
    }
    Ok(Exit::Ok)
}
