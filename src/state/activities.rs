//! State: the activities tables (issue 14): insert with participants,
//! flags and attachments, blobs (M15), the look-ups the mail rules need
//! (M3 duplicates, M17 threads), display and U3 re-evaluation reads.
//! Every SQL statement lives in state/.

use anyhow::Result;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{State, now};
use crate::model::{Attach, Flag, Participant, Queued};

/// A new activity.
#[derive(Debug, Clone)]
pub struct NewActivity<'a> {
    pub kind: &'a str,
    pub status: &'a str,
    pub subject: &'a str,
    pub body: Option<&'a str>,
    pub start_at: Option<String>,
    pub attach: Attach,
    pub rep: &'a str,
    pub rule: &'a str,
    pub explain: &'a [String],
    pub raw_sha256: Option<&'a str>,
}

/// Attachment metadata (the bytes stay in the raw message blob).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentRow {
    pub name: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
}

/// Where a mail came from (M3), one row per mailbox it was found in.
#[derive(Debug, Clone)]
pub struct MailSourceRow<'a> {
    pub account: &'a str,
    pub folder: &'a str,
    pub uidvalidity: Option<i64>,
    pub uid: Option<u32>,
    pub message_id: Option<&'a str>,
    pub content_hash: &'a str,
}

/// One activity as `report` and the wizard's show step list it.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityView {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub subject: String,
    pub start_at: Option<String>,
    pub attached_to: AttachedTo,
    pub rep: String,
    pub participants: Vec<String>,
    /// Flag reasons (SPEC 8), each once.
    pub flags: Vec<String>,
    /// The address each flag is about, where it has one.
    pub flag_details: Vec<FlagView>,
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<i64>,
    pub attachments: Vec<AttachmentView>,
    pub dropped_attachments: Vec<AttachmentView>,
    #[serde(skip)]
    pub explain: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachedTo {
    pub kind: &'static str,
    /// The record's external id (as `crm list` shows it).
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlagView {
    pub reason: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub address: String,
}

/// "reason address", or the reason alone for a flag without an address.
impl std::fmt::Display for FlagView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.address.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{} {}", self.reason, self.address)
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentView {
    pub name: String,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
}

/// What U3 re-evaluates an activity from: its place, its flags and its
/// stored message (the whole mail, or only its header block, M19).
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: i64,
    pub status: String,
    pub attach: Option<Attach>,
    pub rep: String,
    pub rule: Option<String>,
    pub explain: Vec<String>,
    pub raw_sha256: Option<String>,
    pub headers_sha256: Option<String>,
    /// The account of its first mail source.
    pub account: Option<String>,
    /// (reason, address) pairs.
    pub flags: Vec<(String, String)>,
}

impl State {
    /// Stores a blob once (content-addressed, M15).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn put_blob(&self, sha256: &str, data: &[u8]) -> Result<()> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO blobs (sha256, data) VALUES (?1, ?2)")?
            .execute(params![sha256, data])?;
        Ok(())
    }

    /// Inserts an activity; returns its id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn insert_activity(&self, a: &NewActivity<'_>) -> Result<i64> {
        let (person, company) = match a.attach {
            Attach::Person(id) => (Some(id), None),
            Attach::Company(id) => (None, Some(id)),
        };
        let ts = now();
        self.conn.prepare_cached(
            "INSERT INTO activities (type, status, subject, body, start_at, person_id, company_id, rep, rule, explain,
                                     raw_sha256, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
        )?
        .execute(params![
            a.kind,
            a.status,
            a.subject,
            a.body,
            a.start_at,
            person,
            company,
            a.rep,
            a.rule,
            serde_json::to_string(a.explain)?,
            a.raw_sha256,
            ts
        ])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Adds participants (idempotent per address).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn add_participants(&self, activity: i64, ps: &[Participant]) -> Result<()> {
        let mut st = self.conn.prepare_cached(
            "INSERT INTO activity_participants (activity_id, address, person_id) VALUES (?1, ?2, ?3)
             ON CONFLICT(activity_id, address) DO UPDATE SET person_id = coalesce(excluded.person_id, person_id)",
        )?;
        for p in ps {
            st.execute(params![activity, p.address, p.person_id])?;
        }
        Ok(())
    }

    /// Adds flag reasons.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn add_flags(&self, activity: i64, flags: &[Flag]) -> Result<()> {
        let mut st = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO activity_flags (activity_id, reason, address) VALUES (?1, ?2, ?3)",
        )?;
        for f in flags {
            st.execute(params![activity, f.reason, f.address])?;
        }
        Ok(())
    }

    /// Records attachments; `dropped` for those not imported (M4).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn add_attachments(
        &self,
        activity: i64,
        atts: &[AttachmentRow],
        dropped: bool,
    ) -> Result<()> {
        let mut st = self.conn.prepare_cached(
            "INSERT INTO attachments (activity_id, name, media_type, size, sha256, category, keyword, dropped)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for a in atts {
            st.execute(params![
                activity,
                a.name,
                a.media_type,
                a.size as i64,
                a.sha256,
                a.category,
                a.keyword,
                dropped
            ])?;
        }
        Ok(())
    }

    /// M7/M8: puts addresses into the unknown queue (or refreshes them) and
    /// links the activity. Resolved or ignored entries keep their state.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn queue_unknown(
        &self,
        activity: i64,
        queued: &[Queued],
        subject: &str,
        seen_at: &str,
    ) -> Result<()> {
        for q in queued {
            let names: Option<String> = self
                .conn
                .prepare_cached("SELECT display_names FROM unknown_addresses WHERE address = ?1")?
                .query_row([&q.address], |r| r.get(0))
                .optional()?;
            match names {
                None => {
                    let list: Vec<&str> = q.display_name.as_deref().into_iter().collect();
                    self.conn.prepare_cached(
                        "INSERT INTO unknown_addresses (address, display_names, sample_subject, first_seen, last_seen)
                         VALUES (?1, ?2, ?3, ?4, ?4)",
                    )?
                    .execute(params![q.address, serde_json::to_string(&list)?, subject, seen_at])?;
                }
                Some(json) => {
                    let mut list: Vec<String> = serde_json::from_str(&json).unwrap_or_default();
                    if let Some(n) = &q.display_name
                        && !list.contains(n)
                    {
                        list.push(n.clone());
                    }
                    self.conn.prepare_cached(
                        "UPDATE unknown_addresses SET display_names = ?2,
                           first_seen = min(first_seen, ?3), last_seen = max(last_seen, ?3) WHERE address = ?1",
                    )?
                    .execute(params![q.address, serde_json::to_string(&list)?, seen_at])?;
                }
            }
            self.conn.prepare_cached(
                "INSERT OR IGNORE INTO unknown_activities (address, activity_id) VALUES (?1, ?2)",
            )?
            .execute(params![q.address, activity])?;
        }
        Ok(())
    }

    /// M3: the activity holding a mail with this Message-ID (else this content
    /// hash), and whether `account` already imported it.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn find_mail(
        &self,
        message_id: Option<&str>,
        hash: &str,
        account: &str,
    ) -> Result<Option<(i64, bool)>> {
        let id: Option<i64> = match message_id {
            Some(mid) => self.conn
                .prepare_cached("SELECT activity_id FROM activity_sources WHERE kind = 'mail' AND message_id = ?1 LIMIT 1")?
                .query_row([mid], |r| r.get(0))
                .optional()?,
            None => None,
        };
        let id = match id {
            Some(id) => Some(id),
            None => self.conn
                .prepare_cached("SELECT activity_id FROM activity_sources WHERE kind = 'mail' AND content_hash = ?1 LIMIT 1")?
                .query_row([hash], |r| r.get(0))
                .optional()?,
        };
        let Some(id) = id else { return Ok(None) };
        let mine: bool = self.conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM activity_sources WHERE activity_id = ?1 AND account = ?2)")?
            .query_row(params![id, account], |r| r.get(0))?;
        Ok(Some((id, mine)))
    }

    /// M17: where the first imported mail among these Message-IDs is attached.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn thread_attach(&self, ids: &[String]) -> Result<Option<Attach>> {
        for mid in ids {
            let row: Option<(Option<i64>, Option<i64>)> = self.conn
                .prepare_cached(
                    "SELECT a.person_id, a.company_id FROM activity_sources s JOIN activities a ON a.id = s.activity_id
                     WHERE s.kind = 'mail' AND s.message_id = ?1 LIMIT 1",
                )?
                .query_row([mid], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            match row {
                Some((Some(p), _)) => return Ok(Some(Attach::Person(p))),
                Some((None, Some(c))) => return Ok(Some(Attach::Company(c))),
                _ => {}
            }
        }
        Ok(None)
    }

    /// Records a mail source of an activity.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn add_mail_source(&self, activity: i64, s: &MailSourceRow<'_>) -> Result<()> {
        self.conn.prepare_cached(
            "INSERT OR IGNORE INTO activity_sources (activity_id, kind, account, folder, uidvalidity, uid, message_id, content_hash)
             VALUES (?1, 'mail', ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![activity, s.account, s.folder, s.uidvalidity, s.uid, s.message_id, s.content_hash])?;
        Ok(())
    }

    /// Reads one activity for display.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn activity_view(&self, id: i64) -> Result<Option<ActivityView>> {
        let row = self.conn
            .prepare_cached(
                "SELECT a.type, a.status, a.subject, a.start_at, a.person_id, a.company_id, a.rep, a.rule, a.explain,
                        (SELECT message_id FROM activity_sources s WHERE s.activity_id = a.id ORDER BY s.id LIMIT 1),
                        (SELECT uid FROM activity_sources s WHERE s.activity_id = a.id ORDER BY s.id LIMIT 1)
                 FROM activities a WHERE a.id = ?1",
            )?
            .query_row([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, Option<String>>(9)?,
                    r.get::<_, Option<i64>>(10)?,
                ))
            })
            .optional()?;
        let Some((
            kind,
            status,
            subject,
            start_at,
            person,
            company,
            rep,
            rule,
            explain,
            message_id,
            uid,
        )) = row
        else {
            return Ok(None);
        };
        let attached_to = match (person, company) {
            (Some(p), _) => {
                let rec = self.person_by_rowid(p)?;
                AttachedTo {
                    kind: "person",
                    id: rec
                        .as_ref()
                        .map(|r| r.id.clone())
                        .unwrap_or_else(|| p.to_string()),
                    email: rec.as_ref().and_then(|r| r.emails.first().cloned()),
                    name: rec.map(|r| r.display_name()).unwrap_or_default(),
                }
            }
            (None, Some(c)) => {
                let rec = self.company_by_rowid(c)?;
                AttachedTo {
                    kind: "company",
                    id: rec
                        .as_ref()
                        .map(|r| r.id.clone())
                        .unwrap_or_else(|| c.to_string()),
                    email: rec.as_ref().and_then(|r| r.email.clone()),
                    name: rec.map(|r| r.name).unwrap_or_default(),
                }
            }
            (None, None) => AttachedTo {
                kind: "none",
                id: String::new(),
                email: None,
                name: String::new(),
            },
        };
        let strings = |sql: &str| -> Result<Vec<String>> {
            let mut st = self.conn.prepare_cached(sql)?;
            let v = st
                .query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(v)
        };
        let atts = |dropped: bool| -> Result<Vec<AttachmentView>> {
            let mut st = self.conn.prepare_cached(
                "SELECT name, size, category, keyword FROM attachments WHERE activity_id = ?1 AND dropped = ?2 ORDER BY id",
            )?;
            let v = st
                .query_map(params![id, dropped], |r| {
                    Ok(AttachmentView {
                        name: r.get(0)?,
                        size: r.get::<_, i64>(1)? as u64,
                        category: r.get(2)?,
                        keyword: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(v)
        };
        let flag_details = || -> Result<Vec<FlagView>> {
            let mut st = self.conn.prepare_cached(
                "SELECT reason, address FROM activity_flags WHERE activity_id = ?1 ORDER BY reason, address",
            )?;
            let v = st
                .query_map([id], |r| {
                    Ok(FlagView {
                        reason: r.get(0)?,
                        address: r.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(v)
        };
        Ok(Some(ActivityView {
            id,
            kind,
            status,
            subject,
            start_at,
            attached_to,
            rep,
            participants: strings(
                "SELECT address FROM activity_participants WHERE activity_id = ?1 ORDER BY address",
            )?,
            flags: strings(
                "SELECT DISTINCT reason FROM activity_flags WHERE activity_id = ?1 ORDER BY reason",
            )?,
            flag_details: flag_details()?,
            rule,
            message_id,
            uid,
            attachments: atts(false)?,
            dropped_attachments: atts(true)?,
            explain: serde_json::from_str(&explain).unwrap_or_default(),
        }))
    }

    /// M19/U3: keeps the raw header block of a mail imported with `privacy =
    /// headers` (never its body), so that a resolution can re-read its parties.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_headers_blob(&self, activity: i64, header_block: &[u8]) -> Result<()> {
        use sha2::{Digest, Sha256};
        let sha = hex::encode(Sha256::digest(header_block));
        self.put_blob(&sha, header_block)?;
        self.conn
            .prepare_cached("UPDATE activities SET headers_sha256 = ?2 WHERE id = ?1")?
            .execute(params![activity, sha])?;
        Ok(())
    }

    /// The bytes of a stored blob.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT data FROM blobs WHERE sha256 = ?1")?
            .query_row([sha256], |r| r.get(0))
            .optional()?)
    }

    /// Reads an activity for re-evaluation (U3).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn stored_activity(&self, id: i64) -> Result<Option<Stored>> {
        let row = self.conn
            .prepare_cached(
                "SELECT status, person_id, company_id, rep, rule, explain, raw_sha256, headers_sha256,
                        (SELECT account FROM activity_sources s WHERE s.activity_id = a.id ORDER BY s.id LIMIT 1)
                 FROM activities a WHERE id = ?1",
            )?
            .query_row([id], |r| {
                let person: Option<i64> = r.get(1)?;
                let company: Option<i64> = r.get(2)?;
                let explain: String = r.get(5)?;
                Ok(Stored {
                    id,
                    status: r.get(0)?,
                    attach: person
                        .map(Attach::Person)
                        .or(company.map(Attach::Company)),
                    rep: r.get(3)?,
                    rule: r.get(4)?,
                    explain: serde_json::from_str(&explain).unwrap_or_default(),
                    raw_sha256: r.get(6)?,
                    headers_sha256: r.get(7)?,
                    account: r.get(8)?,
                    flags: Vec::new(),
                })
            })
            .optional()?;
        let Some(mut s) = row else { return Ok(None) };
        let mut st = self.conn.prepare_cached(
            "SELECT reason, address FROM activity_flags WHERE activity_id = ?1 ORDER BY reason, address",
        )?;
        s.flags = st
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some(s))
    }

    /// U3: moves an activity and records the rule and the decisions behind it.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_placement(
        &self,
        id: i64,
        attach: Attach,
        rule: &str,
        explain: &[String],
    ) -> Result<()> {
        let (person, company) = match attach {
            Attach::Person(p) => (Some(p), None),
            Attach::Company(c) => (None, Some(c)),
        };
        self.conn.prepare_cached(
            "UPDATE activities SET person_id = ?2, company_id = ?3, rule = ?4, explain = ?5, updated_at = ?6 WHERE id = ?1",
        )?
        .execute(params![id, person, company, rule, serde_json::to_string(explain)?, now()])?;
        Ok(())
    }

    /// U3: replaces the flag reasons of an activity with (reason, address) pairs.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn replace_flags(&self, id: i64, flags: &[(String, String)]) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM activity_flags WHERE activity_id = ?1")?
            .execute([id])?;
        let mut st = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO activity_flags (activity_id, reason, address) VALUES (?1, ?2, ?3)",
        )?;
        for (reason, address) in flags {
            st.execute(params![id, reason, address])?;
        }
        Ok(())
    }

    /// U5: records a resolution; returns its id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_resolution(
        &self,
        address: &str,
        action: &str,
        target: Option<&str>,
        by: &str,
    ) -> Result<i64> {
        self.conn.prepare_cached(
            "INSERT INTO resolutions (address, action, target, by, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![address, action, target, by, now()])?;
        Ok(self.conn.last_insert_rowid())
    }
}
