//! State: the REST back end's tables (B2, issue 14): `rest_records`, the
//! outbox and the pairing of local records with the CRM's, the directory
//! cache's bookkeeping (what a pull saw, what it removes), and the X5
//! in-doubt marks of creates whose answer never came. The decisions (what
//! to send, what a gone record means) are `crm::remote`'s; every SQL
//! statement they need is here.

use std::collections::HashSet;

use anyhow::{Context, Result};
use rusqlite::{OptionalExtension, params};

use super::directory::ImportCounts;
use super::{State, now};
use crate::model::{Company, Person};

/// An activity row, as the outbox reads it.
#[derive(Debug, Clone)]
pub struct OutboxActivity {
    pub id: i64,
    pub kind: String,
    pub subject: String,
    pub body: Option<String>,
    pub start_at: Option<String>,
    pub end_at: Option<String>,
    pub due_at: Option<String>,
    pub person_id: Option<i64>,
    pub company_id: Option<i64>,
    pub created_at: String,
}

/// (local id, remote kind, remote id, link, remote hash).
pub type PairedRow = (i64, String, String, Option<String>, Option<String>);
/// (local id, state, remote kind, remote id, hash, link).
pub type OutboxRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);
/// (local id, remote kind, remote id, marker, link, doubt until).
pub type DoubtRow = (
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);
/// (local id, remote kind, remote id, state, marker, link, doubt until).
pub type GoneRow = (
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);
/// An activity hanging on a record the CRM deleted (B3): (id, type, rep,
/// subject, explain as JSON).
pub type OrphanRow = (i64, String, String, String, String);

/// A row of six columns as a tuple.
fn six_columns<A, B, C, D, E, F>(r: &rusqlite::Row<'_>) -> rusqlite::Result<(A, B, C, D, E, F)>
where
    A: rusqlite::types::FromSql,
    B: rusqlite::types::FromSql,
    C: rusqlite::types::FromSql,
    D: rusqlite::types::FromSql,
    E: rusqlite::types::FromSql,
    F: rusqlite::types::FromSql,
{
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

impl State {
    // -- the directory cache --------------------------------------------------

    /// The cached company with this CRM id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn cached_company(&self, ext: &str) -> Result<Option<Company>> {
        match self.company_rowid(ext)? {
            Some(row) => self.company_by_rowid(row),
            None => Ok(None),
        }
    }

    /// The cached person with this CRM id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn cached_person(&self, ext: &str) -> Result<Option<Person>> {
        match self.person_rowid(ext)? {
            Some(row) => self.person_by_rowid(row),
            None => Ok(None),
        }
    }

    /// A person by its local id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn person_record(&self, id: i64) -> Result<Option<Person>> {
        self.person_by_rowid(id)
    }

    /// B2: writes a listing of the CRM into the cache (only what changed)
    /// and records each record as pulled.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn cache_directory(
        &self,
        cs: &[Company],
        ps: &[Person],
    ) -> Result<(ImportCounts, ImportCounts)> {
        let companies = self.upsert_companies(cs, true)?;
        let persons = self.upsert_persons(ps, true)?;
        for c in cs {
            let id = self.company_rowid(&c.id)?.context("company just written")?;
            self.record_pulled("company", id, &c.id)?;
        }
        for person in ps {
            let id = self
                .person_rowid(&person.id)?
                .context("person just written")?;
            self.record_pulled("person", id, &person.id)?;
        }
        Ok((companies, persons))
    }

    /// The login of the user with this (normalised) address.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn user_login_by_email(&self, email: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT login FROM user_emails WHERE email = ?1")?
            .query_row([email], |r| r.get::<_, String>(0))
            .optional()?)
    }

    /// How many persons and companies the cache holds from the CRM.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn cached_remote_records(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM rest_records WHERE kind IN ('person','company') AND remote_id IS NOT NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// Records a pulled record (once).
    fn record_pulled(&self, kind: &str, local: i64, remote: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO rest_records (kind, local_id, remote_kind, remote_id, state, updated_at)
                 VALUES (?1, ?2, ?1, ?3, 'pulled', ?4)",
            )?
            .execute(params![kind, local, remote, now()])?;
        Ok(())
    }

    /// The cached records of `kind` (`person`, `company`) that came from
    /// the CRM and that `seen` (the CRM's ids of a full listing) lacks, as
    /// (local id, remote id).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn cached_records_not_in(
        &self,
        kind: &str,
        seen: &HashSet<&str>,
    ) -> Result<Vec<(i64, String)>> {
        let rows: Vec<(i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT local_id, remote_id FROM rest_records WHERE kind = ?1 AND state IN ('pulled','sent')
                   AND remote_id IS NOT NULL",
            )?
            .query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows
            .into_iter()
            .filter(|(_, remote)| !seen.contains(remote.as_str()))
            .collect())
    }

    /// Drops a person or company from the cache, with its pairing.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn remove_cached(&self, kind: &str, local: i64) -> Result<()> {
        let table = if kind == "person" {
            "persons"
        } else {
            "companies"
        };
        self.conn
            .execute(&format!("DELETE FROM {table} WHERE id = ?1"), [local])?;
        self.conn.execute(
            "DELETE FROM rest_records WHERE kind = ?1 AND local_id = ?2",
            params![kind, local],
        )?;
        Ok(())
    }

    /// B3: the name and primary address of a cached person, or the name
    /// of a cached company (no address).
    ///
    /// # Errors
    /// SQLite errors (also when there is no such record).
    pub fn orphaned_record(&self, kind: &str, local: i64) -> Result<(String, Option<String>)> {
        Ok(if kind == "person" {
            self.conn.query_row(
                "SELECT trim(first_name || ' ' || last_name),
                        (SELECT email FROM person_emails e WHERE e.person_id = p.id ORDER BY position LIMIT 1)
                   FROM persons p WHERE id = ?1",
                [local],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
        } else {
            self.conn
                .query_row("SELECT name FROM companies WHERE id = ?1", [local], |r| {
                    Ok((r.get(0)?, None))
                })?
        })
    }

    /// B3: the activities attached to a person, or to a company without a
    /// person, ids ascending.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn activities_attached_to(&self, kind: &str, local: i64) -> Result<Vec<OrphanRow>> {
        Ok(self
            .conn
            .prepare_cached(if kind == "person" {
                "SELECT id, type, rep, subject, explain FROM activities WHERE person_id = ?1 ORDER BY id"
            } else {
                "SELECT id, type, rep, subject, explain FROM activities
                  WHERE company_id = ?1 AND person_id IS NULL ORDER BY id"
            })?
            .query_map([local], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// M9/B3: the rep's own person record, other than `except`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn own_person_of_rep(&self, rep: &str, except: i64) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT pe.person_id FROM user_emails ue JOIN person_emails pe ON pe.email = ue.email
                  WHERE ue.login = ?1 AND pe.person_id != ?2 ORDER BY ue.position, pe.person_id LIMIT 1",
            )?
            .query_row(params![rep, except], |r| r.get(0))
            .optional()?)
    }

    /// B3: an activity with nothing left to hang on: unattached, with the
    /// rule and the decisions behind it.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn unattach_activity(&self, id: i64, rule: &str, explain: &[String]) -> Result<()> {
        self.conn.execute(
            "UPDATE activities SET person_id = NULL, company_id = NULL, rule = ?2, explain = ?3,
                    updated_at = ?4 WHERE id = ?1",
            params![id, rule, serde_json::to_string(explain)?, now()],
        )?;
        Ok(())
    }

    /// The activities a person takes part in, as (id, subject), ids
    /// ascending.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn activities_with_participant(&self, person: i64) -> Result<Vec<(i64, String)>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT a.id, a.subject FROM activity_participants p JOIN activities a ON a.id = p.activity_id
                  WHERE p.person_id = ?1 ORDER BY a.id",
            )?
            .query_map([person], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// When the directory cache was last pulled (RFC 3339).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn rest_pulled_at(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'rest_pulled_at'",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records that the directory cache was pulled now.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_rest_pulled_now(&self) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('rest_pulled_at', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [now()],
        )?;
        Ok(())
    }

    // -- the outbox -----------------------------------------------------------

    /// An activity as the outbox sends it.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn outbox_activity(&self, id: i64) -> Result<Option<OutboxActivity>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, type, subject, body, start_at, end_at, due_at, person_id, company_id, created_at
                   FROM activities WHERE id = ?1",
            )?
            .query_row([id], |r| {
                Ok(OutboxActivity {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    subject: r.get(2)?,
                    body: r.get(3)?,
                    start_at: r.get(4)?,
                    end_at: r.get(5)?,
                    due_at: r.get(6)?,
                    person_id: r.get(7)?,
                    company_id: r.get(8)?,
                    created_at: r.get(9)?,
                })
            })
            .optional()?)
    }

    /// The CRM's id of a local record of `kind`, once it has one.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn remote_id(&self, kind: &str, local: i64) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT remote_id FROM rest_records WHERE kind = ?1 AND local_id = ?2",
                params![kind, local],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// The CRM's id of the company with this external id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn remote_id_of_company(&self, ext: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT r.remote_id FROM companies c JOIN rest_records r ON r.kind = 'company' AND r.local_id = c.id
                  WHERE c.ext_id = ?1",
                [ext],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Activities sent to the CRM and paired with a calendar item (the
    /// calendar round trip).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn sent_calendar_activities(&self) -> Result<Vec<PairedRow>> {
        Ok(self
            .conn
            .prepare(
                "SELECT r.local_id, r.remote_kind, r.remote_id, r.link, r.remote_hash
                   FROM rest_records r
                  WHERE r.kind = 'activity' AND r.state = 'sent'
                    AND EXISTS (SELECT 1 FROM calendar_items c WHERE c.activity_id = r.local_id)",
            )?
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Deleted in the CRM: the activity goes here too, with its pairing.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn delete_pulled_activity(&self, local: i64) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM activities WHERE id = ?1")?
            .execute([local])?;
        self.forget_remote_activity(local)
    }

    /// The pairing of an activity with the CRM's record ends.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn forget_remote_activity(&self, local: i64) -> Result<()> {
        self.conn.execute(
            "DELETE FROM rest_records WHERE kind = 'activity' AND local_id = ?1",
            [local],
        )?;
        Ok(())
    }

    /// The hash of what was sent and of the CRM's view of it.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_remote_hashes(
        &self,
        local: i64,
        hash: Option<&str>,
        remote_hash: &str,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE rest_records SET hash = ?2, remote_hash = ?3, updated_at = ?4
              WHERE kind = 'activity' AND local_id = ?1",
            params![local, hash, remote_hash, now()],
        )?;
        Ok(())
    }

    /// Persons created here not yet in the CRM, and creates of an
    /// interrupted run: (id, state).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn persons_to_send(&self) -> Result<Vec<(i64, Option<String>)>> {
        Ok(self
            .conn
            .prepare(
                "SELECT p.id, r.state FROM persons p
                   LEFT JOIN rest_records r ON r.kind = 'person' AND r.local_id = p.id
                  WHERE r.state IS NULL OR r.state = 'sending' ORDER BY p.id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// X5: a person's create is about to go out.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn person_sending(&self, id: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO rest_records (kind, local_id, remote_kind, state, updated_at)
             VALUES ('person', ?1, 'person', 'sending', ?2)",
            params![id, now()],
        )?;
        Ok(())
    }

    /// The CRM holds the person as `remote`: its external id and pairing.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn person_sent(&self, id: i64, remote: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE persons SET ext_id = ?2 WHERE id = ?1",
            params![id, remote],
        )?;
        self.conn.execute(
            "UPDATE rest_records SET remote_id = ?2, state = 'sent', error = NULL, updated_at = ?3
              WHERE kind = 'person' AND local_id = ?1",
            params![id, remote, now()],
        )?;
        Ok(())
    }

    /// The CRM refused a record: why, kept with it.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_remote_error(&self, kind: &str, id: i64, msg: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE rest_records SET error = ?3, updated_at = ?4 WHERE kind = ?1 AND local_id = ?2",
            params![kind, id, msg, now()],
        )?;
        Ok(())
    }

    /// New activities, creates of an interrupted run, and changed ones.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn activities_to_send(&self) -> Result<Vec<OutboxRow>> {
        Ok(self
            .conn
            .prepare(
                "SELECT a.id, r.state, r.remote_kind, r.remote_id, r.hash, r.link FROM activities a
                   LEFT JOIN rest_records r ON r.kind = 'activity' AND r.local_id = a.id
                  WHERE r.state IS NULL OR r.state = 'sending' OR a.updated_at >= r.updated_at
                     OR r.hash IS NULL
                  ORDER BY a.id",
            )?
            .query_map([], six_columns)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// An activity's change went to the CRM.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn activity_updated_remotely(
        &self,
        id: i64,
        hash: &str,
        remote_hash: &str,
        link: &str,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE rest_records SET hash = ?2, remote_hash = ?3, link = ?4, error = NULL, updated_at = ?5
              WHERE kind = 'activity' AND local_id = ?1",
            params![id, hash, remote_hash, link, now()],
        )?;
        Ok(())
    }

    /// X5: an activity's create is about to go out, with the marker that
    /// finds it again.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn activity_sending(
        &self,
        id: i64,
        remote_kind: &str,
        marker: &str,
        hash: &str,
        link: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO rest_records (kind, local_id, remote_kind, state, marker, hash, link, updated_at)
             VALUES ('activity', ?1, ?2, 'sending', ?3, ?4, ?5, ?6)
             ON CONFLICT (kind, local_id) DO UPDATE SET remote_kind = excluded.remote_kind, remote_id = NULL,
               state = 'sending', marker = excluded.marker, hash = excluded.hash, link = excluded.link,
               doubt_until = NULL, updated_at = excluded.updated_at",
            params![id, remote_kind, marker, hash, link, now()],
        )?;
        Ok(())
    }

    /// The CRM holds the activity as `remote`; `doubt_until` while a
    /// late-stored copy may still appear (X5).
    ///
    /// # Errors
    /// SQLite errors.
    #[allow(clippy::too_many_arguments)]
    pub fn activity_sent(
        &self,
        id: i64,
        remote_kind: &str,
        remote: Option<&str>,
        hash: &str,
        remote_hash: &str,
        link: &str,
        doubt_until: Option<&str>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE rest_records SET remote_kind = ?2, remote_id = ?3, state = 'sent', hash = ?4, remote_hash = ?5,
                    link = ?6, error = NULL, doubt_until = ?8, updated_at = ?7
              WHERE kind = 'activity' AND local_id = ?1",
            params![id, remote_kind, remote, hash, remote_hash, link, now(), doubt_until],
        )?;
        Ok(())
    }

    /// X5: sent activities whose create is in doubt.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn activities_in_doubt(&self) -> Result<Vec<DoubtRow>> {
        Ok(self
            .conn
            .prepare(
                "SELECT local_id, remote_kind, remote_id, marker, link, doubt_until FROM rest_records
                  WHERE kind = 'activity' AND state = 'sent' AND doubt_until IS NOT NULL
                    AND EXISTS (SELECT 1 FROM activities a WHERE a.id = local_id)
                  ORDER BY local_id",
            )?
            .query_map([], six_columns)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// X5: the copy kept is `remote`; what it holds is sent again.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn repoint_remote_activity(&self, local: i64, remote: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE rest_records SET remote_id = ?2, hash = NULL, remote_hash = NULL, updated_at = ?3
              WHERE kind = 'activity' AND local_id = ?1",
            params![local, remote, now()],
        )?;
        Ok(())
    }

    /// X5: the doubt about an activity's create ends.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn end_doubt(&self, local: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE rest_records SET doubt_until = NULL WHERE kind = 'activity' AND local_id = ?1",
            [local],
        )?;
        Ok(())
    }

    /// Activities deleted here that the CRM still pairs.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn deleted_activities_to_send(&self) -> Result<Vec<GoneRow>> {
        Ok(self
            .conn
            .prepare(
                "SELECT r.local_id, r.remote_kind, r.remote_id, r.state, r.marker, r.link, r.doubt_until
                   FROM rest_records r
                  WHERE r.kind = 'activity' AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.id = r.local_id)",
            )?
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// X5: a deleted activity whose create was in doubt: its row stays,
    /// without a CRM id, to look for late copies until `until`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn deleted_in_doubt(&self, local: i64, until: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE rest_records SET state = 'sent', remote_id = NULL, doubt_until = ?2, updated_at = ?3
              WHERE kind = 'activity' AND local_id = ?1",
            params![local, until, now()],
        )?;
        Ok(())
    }
}
