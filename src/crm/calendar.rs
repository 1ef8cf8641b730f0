//! SQL for calendar activities in the embedded CRM (C1-C4, C9): reading a
//! user's appointments and tasks as [`CrmEntry`]s, writing what the
//! planner decided, and the admin's own edits (`crm activity`).
//!
//! Storage: subject, text (`body`) and participants in their usual
//! columns; the exact times and the series (C4, C10) as JSON in
//! `activities.calendar` ([`Series`]); `start_at`/`end_at`/`due_at` hold the
//! UTC instants for sorting and `report`. Reading back gives the same
//! [`CrmFields`] that were written, so [`crm_hash`] does not move (C11).
//!
//! [`crm_hash`]: crate::plan::calendar::crm_hash

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::crm::activities;
use crate::model::{
    Attach, CALENDAR_TYPES, CrmEntry, CrmFields, Flag, Participant, Queued, reason,
};
use crate::parse::ical::{CalTime, Override};
use crate::state::now;

/// What `activities.calendar` holds (C4, C10).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Series {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<CalTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<CalTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<CalTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rrule: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rdate: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exdate: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
}

impl Series {
    fn of(f: &CrmFields) -> Series {
        Series {
            start: f.start.clone(),
            end: f.end.clone(),
            due: f.due.clone(),
            rrule: f.rrule.clone(),
            rdate: f.rdate.clone(),
            exdate: f.exdate.clone(),
            overrides: f.overrides.clone(),
        }
    }
}

/// A UTC instant as the `start_at` column spells it.
fn instant(t: Option<&CalTime>) -> Option<String> {
    t.and_then(CalTime::instant)
        .map(|i| i.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// A `start_at`-style column read as a time: the exact text of a CalTime,
/// or an RFC 3339 instant (mail dates) as UTC.
pub(crate) fn column_time(s: Option<&str>) -> Option<CalTime> {
    let s = s?;
    if let Ok(t) = s.parse::<CalTime>() {
        return Some(t);
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| CalTime::Utc(d.with_timezone(&Utc).naive_utc()))
}

/// The columns [`entry_of`] reads, from `activities a`.
const COLUMNS: &str = "a.id, a.type, a.subject, a.body, a.start_at, a.end_at, a.due_at, a.calendar, \
                       a.calendar_uid, a.updated_at";

/// One row of [`COLUMNS`] as an entry without participants, and its
/// series JSON.
fn entry_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<(CrmEntry, Option<String>)> {
    let updated: String = r.get(9)?;
    Ok((
        CrmEntry {
            id: r.get(0)?,
            activity_type: r.get(1)?,
            uid: r.get(8)?,
            fields: CrmFields {
                subject: r.get(2)?,
                text: r.get(3)?,
                start: column_time(r.get::<_, Option<String>>(4)?.as_deref()),
                end: column_time(r.get::<_, Option<String>>(5)?.as_deref()),
                due: column_time(r.get::<_, Option<String>>(6)?.as_deref()),
                ..CrmFields::default()
            },
            updated_at: DateTime::parse_from_rfc3339(&updated)
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_default(),
        },
        r.get(7)?,
    ))
}

/// The series JSON onto the entry (C4; C10: the exact times).
fn with_series(mut e: CrmEntry, cal: Option<String>) -> Result<CrmEntry> {
    if let Some(json) = cal {
        let s: Series = serde_json::from_str(&json)
            .with_context(|| format!("activity {}: its calendar data is not readable", e.id))?;
        let f = &mut e.fields;
        (f.start, f.end, f.due) = (s.start, s.end, s.due);
        (f.rrule, f.rdate, f.exdate, f.overrides) = (s.rrule, s.rdate, s.exdate, s.overrides);
    }
    Ok(e)
}

/// The activity's calendar entry, if it exists.
///
/// # Errors
/// SQLite errors; a `calendar` column that is not the JSON this module
/// writes.
pub fn entry(conn: &Connection, id: i64) -> Result<Option<CrmEntry>> {
    Ok(select(conn, "a.id = ?1", params![id])?.pop())
}

/// C1: the user's activities of the calendar types, plus `linked` (the
/// activities paired with a calendar item whatever their type, C9).
///
/// # Errors
/// SQLite errors.
pub fn entries(conn: &Connection, login: &str, linked: &[i64]) -> Result<Vec<CrmEntry>> {
    let types = CALENDAR_TYPES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(",");
    select(
        conn,
        &format!(
            "(a.rep = ?1 AND a.type IN ({types})) OR a.id IN (SELECT value FROM json_each(?2))"
        ),
        params![login, serde_json::to_string(linked)?],
    )
}

/// The entries `filter` (over `activities a`) selects, by id, with their
/// participants: two queries whatever the number (a no-op sync reads
/// every calendar activity of the user).
fn select(conn: &Connection, filter: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<CrmEntry>> {
    let mut out: Vec<CrmEntry> = Vec::new();
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM activities a WHERE {filter} ORDER BY a.id"
    ))?;
    let mut rows = st.query(args)?;
    while let Some(r) = rows.next()? {
        let (e, cal) = entry_of(r)?;
        out.push(with_series(e, cal)?);
    }
    let index: std::collections::HashMap<i64, usize> =
        out.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let mut st = conn.prepare_cached(&format!(
        "SELECT p.activity_id, p.address, p.person_id FROM activity_participants p
         JOIN activities a ON a.id = p.activity_id
         WHERE ({filter}) AND p.address <> '' ORDER BY p.activity_id, p.address"
    ))?;
    let mut rows = st.query(args)?;
    while let Some(r) = rows.next()? {
        if let Some(i) = index.get(&r.get::<_, i64>(0)?) {
            out[*i].fields.participants.push(Participant {
                address: r.get(1)?,
                person_id: r.get(2)?,
            });
        }
    }
    Ok(out)
}

/// Writes the fields of a calendar activity (everything but its type,
/// attachment and rep); participants are replaced.
fn write_fields(conn: &Connection, id: i64, f: &CrmFields, touch: bool) -> Result<()> {
    let series = serde_json::to_string(&Series::of(f))?;
    conn.prepare_cached(
        "UPDATE activities SET subject = ?2, body = ?3, start_at = ?4, end_at = ?5, due_at = ?6,
           calendar = ?7, updated_at = CASE WHEN ?8 THEN ?9 ELSE updated_at END
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        f.subject,
        f.text,
        instant(f.start.as_ref().or(f.due.as_ref())),
        instant(f.end.as_ref()),
        instant(f.due.as_ref()),
        series,
        touch,
        now()
    ])?;
    conn.prepare_cached("DELETE FROM activity_participants WHERE activity_id = ?1")?
        .execute([id])?;
    activities::add_participants(conn, id, &f.participants)?;
    Ok(())
}

/// A new calendar activity.
pub struct NewCalendarActivity<'a> {
    pub activity_type: &'a str,
    pub fields: &'a CrmFields,
    pub attach: Attach,
    pub rep: &'a str,
    /// The rule that placed it (X9), e.g. C2.
    pub rule: &'a str,
    pub explain: &'a [String],
    /// Its calendar UID, when it comes from the calendar.
    pub uid: Option<&'a str>,
}

/// Inserts a calendar activity; returns its id.
///
/// # Errors
/// SQLite errors.
pub fn create(conn: &Connection, a: &NewCalendarActivity<'_>) -> Result<i64> {
    let id = activities::insert(
        conn,
        &activities::NewActivity {
            kind: a.activity_type,
            status: "I",
            subject: &a.fields.subject,
            body: a.fields.text.as_deref(),
            start_at: None,
            attach: a.attach,
            rep: a.rep,
            rule: a.rule,
            explain: a.explain,
            raw_sha256: None,
        },
    )?;
    write_fields(conn, id, a.fields, false)?;
    if let Some(uid) = a.uid {
        set_uid(conn, id, uid)?;
    }
    Ok(id)
}

/// Changes a calendar activity's fields; `updated_at` moves (C6 reads it).
///
/// # Errors
/// SQLite errors.
pub fn update(conn: &Connection, id: i64, f: &CrmFields) -> Result<()> {
    write_fields(conn, id, f, true)
}

/// C2: the `unidentified_attendee` flags of an activity become `flags`
/// (others stay); `queue` goes to the unknown-address queue (as M8).
///
/// # Errors
/// SQLite errors.
pub fn set_attendee_flags(
    conn: &Connection,
    id: i64,
    flags: &[Flag],
    queue: &[Queued],
    subject: &str,
) -> Result<()> {
    conn.prepare_cached("DELETE FROM activity_flags WHERE activity_id = ?1 AND reason = ?2")?
        .execute(params![id, reason::UNIDENTIFIED_ATTENDEE])?;
    activities::add_flags(conn, id, flags)?;
    activities::queue_unknown(conn, id, queue, subject, &now())?;
    Ok(())
}

/// X5: records the UID the activity has (or is about to get) in the
/// calendar.
///
/// # Errors
/// SQLite errors.
pub fn set_uid(conn: &Connection, id: i64, uid: &str) -> Result<()> {
    conn.prepare_cached("UPDATE activities SET calendar_uid = ?2 WHERE id = ?1")?
        .execute(params![id, uid])?;
    Ok(())
}

/// Deletes an activity (C7: deleted in the calendar, or by the admin).
/// Returns false when there was none.
///
/// # Errors
/// SQLite errors.
pub fn delete(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM activities WHERE id = ?1")?
        .execute([id])?
        > 0)
}
