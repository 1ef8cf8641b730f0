//! The CRM's own editing of appointments, meetings, follow-ups and tasks
//! (`crm activity add|edit|show|delete`, B1): what a sales rep does in the
//! CRM and sync-calendar carries to the calendar (C3, C7). The rules: how
//! the given fields change an activity, where a new one is attached, and
//! a series' occurrences for `show --from --to` (C4).

use anyhow::Result;
use chrono::{NaiveDate, Utc};

use crate::address::{looks_like_address, normalize};
use crate::config::Config;
use crate::error::usage;
use crate::matching::Matcher;
use crate::model::{Attach, CalTime, CrmEntry, CrmFields, Participant};
use crate::parse::ical::{self, Occurrence};
use crate::plan::calendar as plan;
use crate::plan::mail::Owner;

/// The fields given on the command line; what is None (or empty, for the
/// lists) stays as it is. An empty value clears an optional field.
#[derive(Debug, Clone, Copy, Default)]
pub struct Edits<'a> {
    pub subject: Option<&'a str>,
    pub text: Option<&'a str>,
    pub start: Option<&'a str>,
    pub end: Option<&'a str>,
    pub due: Option<&'a str>,
    pub rrule: Option<&'a str>,
    /// Replaces the list when given.
    pub exdate: &'a [String],
    /// Replaces the list when given.
    pub participant: &'a [String],
}

/// A time given as `flag`.
fn time(s: &str, flag: &str) -> Result<CalTime> {
    s.parse::<CalTime>().map_err(|e| {
        usage(format!(
            "{flag}: {e}; use 2026-03-05, 2026-03-05T10:00:00, 2026-03-05T09:00:00Z or 2026-03-05T10:00:00[Europe/Berlin]"
        ))
    })
}

/// A day given as `flag` (YYYY-MM-DD).
///
/// # Errors
/// A usage error for anything else.
pub fn day(s: &str, flag: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| usage(format!("{flag} {s}: expected a date YYYY-MM-DD")))
}

/// The fields of a new activity; a subject is required.
///
/// # Errors
/// A usage error for a bad field or no subject.
pub fn new_fields(matcher: &Matcher<'_>, e: &Edits<'_>) -> Result<CrmFields> {
    let mut fields = CrmFields::default();
    apply(matcher, &mut fields, e)?;
    if fields.subject.trim().is_empty() {
        return Err(usage("--subject is required"));
    }
    Ok(fields)
}

/// The edits onto `f`; what is not given stays. Participants are looked
/// up in the directory; an end before the start is refused.
///
/// # Errors
/// A usage error for a bad time, address or order; SQLite errors.
pub fn apply(matcher: &Matcher<'_>, f: &mut CrmFields, a: &Edits<'_>) -> Result<()> {
    let opt_time = |v: &str, flag: &str| -> Result<Option<CalTime>> {
        if v.is_empty() {
            Ok(None)
        } else {
            time(v, flag).map(Some)
        }
    };
    if let Some(s) = a.subject {
        f.subject = s.to_string();
    }
    if let Some(t) = a.text {
        f.text = (!t.is_empty()).then(|| t.to_string());
    }
    if let Some(v) = a.start {
        f.start = opt_time(v, "--start")?;
    }
    if let Some(v) = a.end {
        f.end = opt_time(v, "--end")?;
    }
    if let Some(v) = a.due {
        f.due = opt_time(v, "--due")?;
    }
    if let Some(r) = a.rrule {
        f.rrule = (!r.is_empty()).then(|| r.to_string());
    }
    if !a.exdate.is_empty() {
        f.exdate = a
            .exdate
            .iter()
            .filter(|v| !v.is_empty())
            .map(|v| time(v, "--exdate").map(|t| ical::date_line("EXDATE", &t)))
            .collect::<Result<_>>()?;
    }
    if !a.participant.is_empty() {
        let mut ps = Vec::new();
        for p in a.participant.iter().filter(|p| !p.is_empty()) {
            let addr = normalize(p);
            if !looks_like_address(&addr) {
                return Err(usage(format!("--participant {p}: not an e-mail address")));
            }
            let person_id = matcher.lookup(&addr)?.person_id();
            ps.push(Participant {
                address: addr,
                person_id,
            });
        }
        f.participants = ps;
    }
    if let (Some(s), Some(e)) = (&f.start, &f.end)
        && let (Some(si), Some(ei)) = (s.instant(), e.instant())
        && ei < si
    {
        return Err(usage(format!("--end {e} is before --start {s}")));
    }
    Ok(())
}

/// Where a new activity of `login`'s goes: the person `person` (its local
/// id, when given) or else the rep's own person record.
///
/// # Errors
/// A usage error when the rep has none; SQLite errors.
pub fn attach(
    matcher: &Matcher<'_>,
    cfg: &Config,
    person: Option<i64>,
    login: &str,
) -> Result<Attach> {
    Ok(Attach::Person(match person {
        Some(p) => p,
        None => matcher.user_person(cfg, login)?.ok_or_else(|| {
            usage(format!(
                "user `{login}` has no person record of their own; add one (crm import) or give --person"
            ))
        })?,
    }))
}

/// C4: the occurrences of an activity's series between two days, as the
/// calendar would hold it, expanded.
///
/// # Errors
/// A usage error when the series cannot be expanded.
pub fn occurrences(
    entry: &CrmEntry,
    rep: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Occurrence>> {
    let kind = plan::kind_of(&entry.activity_type).unwrap_or(ical::Kind::Event);
    let owner = Owner {
        login: rep.to_string(),
        person_id: 0,
        addresses: Vec::new(),
    };
    let item = plan::crm_item(entry, kind, &owner, Utc::now());
    let at = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
    ical::occurrences(&item, at(from), at(to)).map_err(|e| {
        usage(format!(
            "activity {}: its series cannot be expanded: {e}",
            entry.id
        ))
    })
}
