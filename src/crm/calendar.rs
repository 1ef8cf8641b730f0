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
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::crm::activities;
use crate::parse::ical::{CalTime, Override};
use crate::plan::calendar::{CALENDAR_TYPES, CrmEntry, CrmFields, reason};
use crate::plan::mail::{Attach, Flag, Participant, Queued};
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
fn column_time(s: Option<String>) -> Option<CalTime> {
    let s = s?;
    if let Ok(t) = s.parse::<CalTime>() {
        return Some(t);
    }
    DateTime::parse_from_rfc3339(&s)
        .ok()
        .map(|d| CalTime::Utc(d.with_timezone(&Utc).naive_utc()))
}

/// The activity's calendar entry, if it exists.
///
/// # Errors
/// SQLite errors; a `calendar` column that is not the JSON this module
/// writes.
pub fn entry(conn: &Connection, id: i64) -> Result<Option<CrmEntry>> {
    let row = conn
        .prepare_cached(
            "SELECT type, subject, body, start_at, end_at, due_at, calendar, calendar_uid, updated_at
             FROM activities WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, String>(8)?,
            ))
        })
        .optional()?;
    let Some((kind, subject, body, start, end, due, cal, uid, updated)) = row else {
        return Ok(None);
    };
    let series = match cal {
        Some(json) => serde_json::from_str::<Series>(&json)
            .with_context(|| format!("activity {id}: its calendar data is not readable"))?,
        None => Series {
            start: column_time(start),
            end: column_time(end),
            due: column_time(due),
            ..Series::default()
        },
    };
    let participants = conn
        .prepare_cached(
            "SELECT address, person_id FROM activity_participants
             WHERE activity_id = ?1 AND address <> '' ORDER BY address",
        )?
        .query_map([id], |r| {
            Ok(Participant {
                address: r.get(0)?,
                person_id: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let updated_at = DateTime::parse_from_rfc3339(&updated)
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_default();
    Ok(Some(CrmEntry {
        id,
        activity_type: kind,
        uid,
        fields: CrmFields {
            subject,
            text: body,
            start: series.start,
            end: series.end,
            due: series.due,
            rrule: series.rrule,
            rdate: series.rdate,
            exdate: series.exdate,
            overrides: series.overrides,
            participants,
        },
        updated_at,
    }))
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
    let mut ids: Vec<i64> = conn
        .prepare_cached(&format!(
            "SELECT id FROM activities WHERE rep = ?1 AND type IN ({types}) ORDER BY id"
        ))?
        .query_map([login], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    ids.extend_from_slice(linked);
    ids.sort_unstable();
    ids.dedup();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(e) = entry(conn, id)? {
            out.push(e);
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
