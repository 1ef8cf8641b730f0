//! State: the read-only queries of `report` (X10) and `explain` over the
//! activity tables (issue 14). Every SQL statement lives in state/.

use anyhow::Result;
use rusqlite::{OptionalExtension, params};

use super::State;

/// Which activities `report` lists (X10); `None`/`false` filters nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct ActivityFilter<'a> {
    /// Only activities with a source in this account.
    pub account: Option<&'a str>,
    /// RFC 3339 bounds on the start, inclusive.
    pub since: Option<&'a str>,
    pub until: Option<&'a str>,
    /// Only flagged activities.
    pub flagged: bool,
    /// Only activities with this flag reason.
    pub flag: Option<&'a str>,
    /// Only activities waiting on an open unknown address.
    pub unknown: bool,
}

/// Where an imported activity came from (`explain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    pub account: String,
    /// Empty when the source has no folder.
    pub folder: String,
    /// The IMAP uid; None for a source without one.
    pub uid: Option<i64>,
    /// Empty when the source has no Message-ID.
    pub message_id: String,
}

impl State {
    /// X10: ids of the activities `f` selects, by start time.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn report_activity_ids(&self, f: &ActivityFilter<'_>) -> Result<Vec<i64>> {
        let mut q = self.conn.prepare(
            "SELECT a.id FROM activities a
             WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM activity_sources s WHERE s.activity_id = a.id AND s.account = ?1))
               AND (?2 IS NULL OR a.start_at >= ?2)
               AND (?3 IS NULL OR a.start_at <= ?3)
               AND (?4 = 0 OR EXISTS (SELECT 1 FROM activity_flags f WHERE f.activity_id = a.id))
               AND (?5 IS NULL OR EXISTS (SELECT 1 FROM activity_flags f WHERE f.activity_id = a.id AND f.reason = ?5))
               AND (?6 = 0 OR EXISTS (SELECT 1 FROM unknown_activities u JOIN unknown_addresses x ON x.address = u.address
                                      WHERE u.activity_id = a.id AND x.state = 'open'))
             ORDER BY a.start_at, a.id",
        )?;
        let ids = q
            .query_map(
                params![f.account, f.since, f.until, f.flagged, f.flag, f.unknown],
                |r| r.get::<_, i64>(0),
            )?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(ids)
    }

    /// X19: the account names this state file knows activities or
    /// calendar conflicts from (accounts since removed from the config
    /// included), sorted.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn report_accounts(&self) -> Result<Vec<String>> {
        let mut q = self.conn.prepare(
            "SELECT account FROM activity_sources UNION SELECT account FROM conflicts ORDER BY 1",
        )?;
        let names = q
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(names)
    }

    /// The activity imported from the mail with this Message-ID (no angle
    /// brackets), the first one when several were.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn activity_for_message_id(&self, message_id: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT activity_id FROM activity_sources WHERE message_id = ?1 ORDER BY id LIMIT 1",
                [message_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The sources of an activity, in the order they were recorded.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn explain_sources(&self, activity: i64) -> Result<Vec<SourceRow>> {
        let mut q = self.conn.prepare(
            "SELECT account, coalesce(folder, ''), coalesce(uid, ''), coalesce(message_id, '') FROM activity_sources WHERE activity_id = ?1 ORDER BY id",
        )?;
        let rows = q.query_map([activity], |r| {
            Ok(SourceRow {
                account: r.get(0)?,
                folder: r.get(1)?,
                uid: match r.get::<_, rusqlite::types::Value>(2)? {
                    rusqlite::types::Value::Integer(i) => Some(i),
                    _ => None,
                },
                message_id: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
