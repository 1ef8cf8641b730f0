//! State: the unknown-address queue (SPEC 1, M7, M8), the ignore list
//! (M14), the resolutions (U5) and the participant identification of U3;
//! and the in-memory scratch copy a dry run of resolve-unknown works on (X8).

use anyhow::{Context, Result};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::State;

/// One entry of the unknown-address queue (SPEC 1, U1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownRow {
    pub address: String,
    pub display_names: Vec<String>,
    pub sample_subject: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    /// `open`, `resolved` or `ignored`.
    pub state: String,
    /// Affected activities still linked to the address.
    pub count: i64,
}

const UNKNOWN_SELECT: &str =
    "SELECT address, display_names, sample_subject, first_seen, last_seen, state,
        (SELECT count(*) FROM unknown_activities ua WHERE ua.address = u.address)
     FROM unknown_addresses u";

fn unknown_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UnknownRow> {
    let names: String = r.get(1)?;
    Ok(UnknownRow {
        address: r.get(0)?,
        display_names: serde_json::from_str(&names).unwrap_or_default(),
        sample_subject: r.get(2)?,
        first_seen: r.get(3)?,
        last_seen: r.get(4)?,
        state: r.get(5)?,
        count: r.get(6)?,
    })
}

/// One recorded resolution (U5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolutionRow {
    pub id: i64,
    pub address: String,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub by: String,
    pub at: String,
}

impl State {
    /// U3: a participant known only by its address is now this person.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn identify_participant(&self, id: i64, address: &str, person: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE activity_participants SET person_id = ?3 WHERE activity_id = ?1 AND address = ?2",
            )?
            .execute(params![id, address, person])?;
        Ok(())
    }

    /// U1: the queue ordered by address; only open entries unless `all`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn unknown_addresses(&self, all: bool) -> Result<Vec<UnknownRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "{UNKNOWN_SELECT} WHERE ?1 OR state = 'open' ORDER BY address"
        ))?;
        let v = st
            .query_map([all], unknown_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }

    /// One queue entry by (normalised) address.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn unknown_address(&self, address: &str) -> Result<Option<UnknownRow>> {
        Ok(self
            .conn
            .prepare_cached(&format!("{UNKNOWN_SELECT} WHERE address = ?1"))?
            .query_row([address], unknown_row)
            .optional()?)
    }

    /// Queue entries at a domain (`example.com`, without `@`) in one of these
    /// states, by address.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn unknown_at(&self, domain: &str, states: &[&str]) -> Result<Vec<String>> {
        let mut st = self.conn.prepare_cached(
            "SELECT address, state FROM unknown_addresses WHERE address LIKE '%@' || ?1 ESCAPE '\\'
         ORDER BY address",
        )?;
        let escaped = domain
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let v = st
            .query_map([escaped], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        // LIKE is case-insensitive for ASCII only; the queue holds normalised addresses.
        Ok(v.into_iter()
            .filter(|(a, s)| {
                states.contains(&s.as_str()) && a.rsplit_once('@').is_some_and(|(_, d)| d == domain)
            })
            .map(|(a, _)| a)
            .collect())
    }

    /// Activities flagged about an address (a resolved address can still flag,
    /// M10), ids ascending.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn flagged_activity_ids(&self, address: &str) -> Result<Vec<i64>> {
        let mut st = self.conn.prepare_cached(
            "SELECT DISTINCT activity_id FROM activity_flags WHERE address = ?1 ORDER BY activity_id",
        )?;
        let v = st
            .query_map([address], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(v)
    }

    /// The activities linked to an address in the queue, ids ascending.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn unknown_activity_ids(&self, address: &str) -> Result<Vec<i64>> {
        let mut st = self.conn.prepare_cached(
            "SELECT activity_id FROM unknown_activities WHERE address = ?1 ORDER BY activity_id",
        )?;
        let v = st
            .query_map([address], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(v)
    }

    /// U3: the queue entry's new state (`resolved` or `ignored`).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_unknown_state(&self, address: &str, state: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE unknown_addresses SET state = ?2 WHERE address = ?1")?
            .execute(params![address, state])?;
        Ok(())
    }

    /// U3: the activity no longer waits for this address.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn unlink_unknown(&self, address: &str, activity: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "DELETE FROM unknown_activities WHERE address = ?1 AND activity_id = ?2",
            )?
            .execute(params![address, activity])?;
        Ok(())
    }

    /// U5: every resolution, oldest first.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn resolutions(&self) -> Result<Vec<ResolutionRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, address, action, target, by, at FROM resolutions ORDER BY id",
        )?;
        let v = st
            .query_map([], |r| {
                Ok(ResolutionRow {
                    id: r.get(0)?,
                    address: r.get(1)?,
                    action: r.get(2)?,
                    target: r.get(3)?,
                    by: r.get(4)?,
                    at: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }

    /// X8: an in-memory copy of the state file for `--dry-run`: actions run on
    /// the copy, which is dropped, so nothing is written anywhere. Without a
    /// state file, an empty state.
    ///
    /// # Errors
    /// SQLite errors reading the file.
    pub fn scratch_copy(path: &std::path::Path) -> Result<State> {
        let st = State::open_memory()?;
        if !path.exists() {
            return Ok(st);
        }
        let uri = format!(
            "file:{}?mode=ro",
            path.display()
                .to_string()
                .replace('%', "%25")
                .replace('?', "%3f")
                .replace('#', "%23")
        );
        st.conn.pragma_update(None, "foreign_keys", false)?;
        st.conn
            .execute("ATTACH DATABASE ?1 AS src", [&uri])
            .with_context(|| format!("reading {} for the dry run", path.display()))?;
        let tables: Vec<String> = {
            let mut q = st.conn.prepare(
                "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )?;
            q.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        for t in tables {
            st.conn
                .execute(
                    &format!("INSERT INTO main.\"{t}\" SELECT * FROM src.\"{t}\""),
                    [],
                )
                .with_context(|| format!("copying table {t} for the dry run"))?;
        }
        st.conn.execute("DETACH DATABASE src", [])?;
        st.conn.pragma_update(None, "foreign_keys", true)?;
        Ok(st)
    }
}

/// Tests only: shapes of the state file no command makes (a mail imported
/// before the header block was kept, a wizard's choice, a company edited by
/// hand), and a look at one participant.
#[cfg(test)]
impl State {
    pub(crate) fn tamper(&self, sql: &str, p: impl rusqlite::Params) -> Result<usize> {
        Ok(self.conn.execute(sql, p)?)
    }

    pub(crate) fn participant_person(&self, activity: i64, address: &str) -> Result<Option<i64>> {
        Ok(self.conn.query_row(
            "SELECT person_id FROM activity_participants WHERE activity_id = ?1 AND address = ?2",
            params![activity, address],
            |r| r.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x8_scratch_copy_holds_the_data_and_leaves_the_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.sqlite");
        {
            let st = State::open(&p, crate::state::Access::Write, "t").unwrap();
            st.conn
                .execute("INSERT INTO ignored VALUES ('@x.example', 'now', 'me')", [])
                .unwrap();
        }
        let before = std::fs::read(&p).unwrap();
        let copy = State::scratch_copy(&p).unwrap();
        copy.conn
            .execute("INSERT INTO ignored VALUES ('@y.example', 'now', 'me')", [])
            .unwrap();
        let n: i64 = copy
            .conn
            .query_row("SELECT count(*) FROM ignored", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(std::fs::read(&p).unwrap(), before);
    }
}
