//! The `notices` table: owner notices (M5), recorded with the item and sent
//! after the commit, never twice for one mail.

use anyhow::Result;
use rusqlite::params;

use super::{State, now};

impl State {
    /// M5: records a notice for the owner, once per mail (`key`).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn queue_notice(&self, key: &str, account: &str, subject: &str, body: &str) -> Result<()> {
        self.conn.prepare_cached(
            "INSERT OR IGNORE INTO notices (mail_key, account, sent_at, subject, body, sent) VALUES (?1, ?2, ?3, ?4, ?5, 0)",
        )?
        .execute(params![key, account, now(), subject, body])?;
        Ok(())
    }

    /// The notices of an account still to send: (key, subject, body).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn pending_notices(&self, account: &str) -> Result<Vec<(String, String, String)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT mail_key, subject, body FROM notices WHERE account = ?1 AND sent = 0",
        )?;
        let v = st
            .query_map([account], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }

    /// Marks a notice as sent.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn notice_sent(&self, key: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE notices SET sent = 1, sent_at = ?2 WHERE mail_key = ?1",
            params![key, now()],
        )?;
        Ok(())
    }
}
