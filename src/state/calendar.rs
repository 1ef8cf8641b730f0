//! State: the calendar tables (issue 14). Every SQL statement of
//! sync-calendar lives here: the linked pairs (`calendar_items`, with the
//! activity's calendar source, SPEC 1), the conflict log (C6), and the
//! embedded CRM's calendar activities (C1-C4, C9): reading a user's
//! appointments and tasks as [`CrmEntry`]s, writing what the planner
//! decided, and the admin's own edits (`crm activity`).
//!
//! Storage of an activity: subject, text (`body`) and participants in
//! their usual columns; the exact times and the series (C4, C10) as JSON in
//! `activities.calendar` ([`Series`]); `start_at`/`end_at`/`due_at` hold the
//! UTC instants for sorting and `report`. Reading back gives the same
//! [`CrmFields`] that were written, so [`crm_hash`] does not move (C11).
//!
//! [`crm_hash`]: crate::plan::calendar::crm_hash

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::activities::NewActivity;
use super::{State, now};
use crate::model::{
    Attach, CALENDAR_TYPES, CalTime, CrmEntry, CrmFields, Flag, Override, Participant, Queued,
    Synced, reason,
};

/// A linked pair as the state file holds it.
#[derive(Debug, Clone)]
pub struct Pair {
    pub synced: Synced,
    pub collection: String,
    pub uid: String,
}

/// One row of the conflict log.
#[derive(Debug, Clone, Serialize)]
pub struct ConflictRow {
    pub id: i64,
    pub account: String,
    pub item: String,
    pub loser: String,
    pub data: String,
    pub at: String,
}

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

/// A UTC instant as the `start_at` column spells it.
fn instant(t: Option<&CalTime>) -> Option<String> {
    t.and_then(CalTime::instant)
        .map(|i| i.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// A `start_at`-style column read as a time: the exact text of a CalTime,
/// or an RFC 3339 instant (mail dates) as UTC.
pub fn column_time(s: Option<&str>) -> Option<CalTime> {
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

impl State {
    // -----------------------------------------------------------------------
    // The linked pairs and the conflict log
    // -----------------------------------------------------------------------

    /// The pairs of an account (C5, C11).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn calendar_pairs(&self, account: &str) -> Result<Vec<Pair>> {
        let mut st = self.conn.prepare_cached(
            "SELECT href, etag, gw_hash, crm_hash, activity_id, link_pending, collection, uid
             FROM calendar_items WHERE account = ?1 ORDER BY href",
        )?;
        let rows = st
            .query_map([account], |r| {
                Ok(Pair {
                    synced: Synced {
                        href: r.get(0)?,
                        etag: r.get(1)?,
                        gw_hash: r.get(2)?,
                        crm_hash: r.get(3)?,
                        activity: r.get(4)?,
                        link_pending: r.get(5)?,
                    },
                    collection: r.get(6)?,
                    uid: r.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Records (or replaces) a pair, and the activity's calendar source;
    /// `uid_of_activity`: the pair's UID becomes the activity's too (X5).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_calendar_pair(
        &self,
        account: &str,
        p: &Pair,
        uid_of_activity: bool,
    ) -> Result<()> {
        let s = &p.synced;
        self.conn
            .prepare_cached(
                "INSERT INTO calendar_items (account, href, collection, uid, activity_id, etag, gw_hash, crm_hash,
                                     link_pending, synced_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(account, href) DO UPDATE SET collection = excluded.collection, uid = excluded.uid,
           activity_id = excluded.activity_id, etag = excluded.etag, gw_hash = excluded.gw_hash,
           crm_hash = excluded.crm_hash, link_pending = excluded.link_pending, synced_at = excluded.synced_at",
            )?
            .execute(params![
                account,
                s.href,
                p.collection,
                p.uid,
                s.activity,
                s.etag,
                s.gw_hash,
                s.crm_hash,
                s.link_pending,
                now()
            ])?;
        // SPEC 1: an activity's source is its calendar URL, UID and ETag.
        let n = self
            .conn
            .prepare_cached(
                "UPDATE activity_sources SET account = ?2, url = ?3, item_uid = ?4, etag = ?5
             WHERE activity_id = ?1 AND kind = 'calendar'",
            )?
            .execute(params![s.activity, account, s.href, p.uid, s.etag])?;
        if n == 0 {
            self.conn
                .prepare_cached(
                    "INSERT INTO activity_sources (activity_id, kind, account, url, item_uid, etag)
             VALUES (?1, 'calendar', ?2, ?3, ?4, ?5)",
                )?
                .execute(params![s.activity, account, s.href, p.uid, s.etag])?;
        }
        if uid_of_activity {
            self.set_calendar_uid(s.activity, &p.uid)?;
        }
        Ok(())
    }

    /// Forgets a pair (the calendar source of the activity goes with it).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn forget_calendar_pair(&self, account: &str, href: &str) -> Result<()> {
        let activity: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT activity_id FROM calendar_items WHERE account = ?1 AND href = ?2",
            )?
            .query_row(params![account, href], |r| r.get(0))
            .optional()?;
        self.conn
            .prepare_cached("DELETE FROM calendar_items WHERE account = ?1 AND href = ?2")?
            .execute(params![account, href])?;
        if let Some(id) = activity {
            self.conn
                .prepare_cached(
                    "DELETE FROM activity_sources WHERE activity_id = ?1 AND kind = 'calendar' AND account = ?2",
                )?
                .execute(params![id, account])?;
        }
        Ok(())
    }

    /// The UID of a pair the state holds (empty when none).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn calendar_pair_uid(&self, account: &str, href: &str) -> Result<String> {
        Ok(self
            .conn
            .prepare_cached("SELECT uid FROM calendar_items WHERE account = ?1 AND href = ?2")?
            .query_row(params![account, href], |r| r.get(0))
            .optional()?
            .unwrap_or_default())
    }

    /// Fills in the ETag of a pair whose PUT answer had none (C5).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_calendar_pair_etag(&self, account: &str, href: &str, etag: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE calendar_items SET etag = ?3 WHERE account = ?1 AND href = ?2")?
            .execute(params![account, href, etag])?;
        Ok(())
    }

    /// C6: a losing version goes to the conflict log; `loser` is the side
    /// (`crm`, `groupware`), `data` its version.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn log_conflict(&self, account: &str, href: &str, loser: &str, data: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO conflicts (account, item, loser, data, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![account, href, loser, data, now()])?;
        Ok(())
    }

    /// The conflict log (C6), oldest first.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn conflicts(&self, account: Option<&str>) -> Result<Vec<ConflictRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, account, item, loser, data, at FROM conflicts
         WHERE ?1 IS NULL OR account = ?1 ORDER BY id",
        )?;
        let rows = st
            .query_map([account], |r| {
                Ok(ConflictRow {
                    id: r.get(0)?,
                    account: r.get(1)?,
                    item: r.get(2)?,
                    loser: r.get(3)?,
                    data: r.get(4)?,
                    at: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    // -----------------------------------------------------------------------
    // The embedded CRM's calendar activities
    // -----------------------------------------------------------------------

    /// The activity's calendar entry, if it exists.
    ///
    /// # Errors
    /// SQLite errors; a `calendar` column that is not the JSON this module
    /// writes.
    pub fn calendar_entry(&self, id: i64) -> Result<Option<CrmEntry>> {
        Ok(self.select_calendar("a.id = ?1", params![id])?.pop())
    }

    /// C1: the user's activities of the calendar types, plus `linked` (the
    /// activities paired with a calendar item whatever their type, C9).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn calendar_entries(&self, login: &str, linked: &[i64]) -> Result<Vec<CrmEntry>> {
        let types = CALENDAR_TYPES
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(",");
        self.select_calendar(
            &format!(
                "(a.rep = ?1 AND a.type IN ({types})) OR a.id IN (SELECT value FROM json_each(?2))"
            ),
            params![login, serde_json::to_string(linked)?],
        )
    }

    /// The entries `filter` (over `activities a`) selects, by id, with their
    /// participants: two queries whatever the number (a no-op sync reads
    /// every calendar activity of the user).
    fn select_calendar(
        &self,
        filter: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<CrmEntry>> {
        let mut out: Vec<CrmEntry> = Vec::new();
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM activities a WHERE {filter} ORDER BY a.id"
        ))?;
        let mut rows = st.query(args)?;
        while let Some(r) = rows.next()? {
            let (e, cal) = entry_of(r)?;
            out.push(with_series(e, cal)?);
        }
        let index: std::collections::HashMap<i64, usize> =
            out.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
        let mut st = self.conn.prepare_cached(&format!(
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
    fn write_calendar_fields(&self, id: i64, f: &CrmFields, touch: bool) -> Result<()> {
        let series = serde_json::to_string(&Series::of(f))?;
        self.conn
            .prepare_cached(
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
        self.conn
            .prepare_cached("DELETE FROM activity_participants WHERE activity_id = ?1")?
            .execute([id])?;
        self.add_participants(id, &f.participants)?;
        Ok(())
    }

    /// Inserts a calendar activity; returns its id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn create_calendar_activity(&self, a: &NewCalendarActivity<'_>) -> Result<i64> {
        let id = self.insert_activity(&NewActivity {
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
        })?;
        self.write_calendar_fields(id, a.fields, false)?;
        if let Some(uid) = a.uid {
            self.set_calendar_uid(id, uid)?;
        }
        Ok(id)
    }

    /// Changes a calendar activity's fields; `updated_at` moves (C6 reads it).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn update_calendar_activity(&self, id: i64, f: &CrmFields) -> Result<()> {
        self.write_calendar_fields(id, f, true)
    }

    /// C2: the `unidentified_attendee` flags of an activity become `flags`
    /// (others stay); `queue` goes to the unknown-address queue (as M8).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_attendee_flags(
        &self,
        id: i64,
        flags: &[Flag],
        queue: &[Queued],
        subject: &str,
    ) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM activity_flags WHERE activity_id = ?1 AND reason = ?2")?
            .execute(params![id, reason::UNIDENTIFIED_ATTENDEE])?;
        self.add_flags(id, flags)?;
        self.queue_unknown(id, queue, subject, &now())?;
        Ok(())
    }

    /// X5: records the UID the activity has (or is about to get) in the
    /// calendar.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_calendar_uid(&self, id: i64, uid: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE activities SET calendar_uid = ?2 WHERE id = ?1")?
            .execute(params![id, uid])?;
        Ok(())
    }

    /// Deletes an activity (C7: deleted in the calendar, or by the admin).
    /// Returns false when there was none.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn delete_activity(&self, id: i64) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("DELETE FROM activities WHERE id = ?1")?
            .execute([id])?
            > 0)
    }
}
