//! The mail items of `item_map`: which message of which folder was handled,
//! how, and the server actions (M16) still owed to it (X5).

use anyhow::Result;
use rusqlite::{OptionalExtension, params};

use super::{State, now};

impl State {
    /// Has this message (by folder key and id) been handled already?
    ///
    /// # Errors
    /// SQLite errors.
    pub fn seen(&self, source_key: &str, id: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM item_map WHERE source_key = ?1 AND remote_id = ?2")?
            .query_row(params![source_key, id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Records how a message was handled: `kind` is "activity" (with
    /// `local`), "skipped:RULE:REASON" or "failed:WHY"; `pending` the
    /// server actions still owed ("mark", "move", "mark,move").
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_item(
        &self,
        source_key: &str,
        remote_id: &str,
        kind: &str,
        local: Option<i64>,
        hash: &str,
        pending: Option<&str>,
    ) -> Result<()> {
        self.conn.prepare_cached(
            "INSERT INTO item_map (source_key, remote_id, local_kind, local_id, content_hash, synced_at, pending)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(source_key, remote_id) DO UPDATE SET local_kind = excluded.local_kind,
               local_id = excluded.local_id, content_hash = excluded.content_hash, synced_at = excluded.synced_at,
               pending = excluded.pending",
        )?
        .execute(params![source_key, remote_id, kind, local, hash, now(), pending])?;
        Ok(())
    }

    /// Messages of a folder with server actions still owed: (id, actions).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn pending_actions(&self, source_key: &str) -> Result<Vec<(String, String)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT remote_id, pending FROM item_map WHERE source_key = ?1 AND pending IS NOT NULL",
        )?;
        let v = st
            .query_map([source_key], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }

    /// Clears the pending server actions of these messages.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn clear_pending(&self, source_key: &str, ids: &[String]) -> Result<()> {
        let mut st = self.conn.prepare_cached(
            "UPDATE item_map SET pending = NULL WHERE source_key = ?1 AND remote_id = ?2",
        )?;
        for id in ids {
            st.execute(params![source_key, id])?;
        }
        Ok(())
    }

    /// M3: the folder's UIDVALIDITY changed: forgets the UIDs remembered for
    /// it (with the server actions owed to them) and restarts its cursor at
    /// the new validity. Activities stay; re-scanned mail finds them by
    /// Message-ID and hash.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn forget_folder(
        &self,
        source_key: &str,
        account: &str,
        folder: &str,
        validity: &str,
    ) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM item_map WHERE source_key = ?1")?
            .execute([source_key])?;
        self.set_folder_cursor(source_key, account, folder, validity, None)
    }

    /// M3: the address an owner joining an activity as a second mailbox is
    /// recorded with: the first of their person's addresses.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn first_email(&self, person_id: i64) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT email FROM person_emails WHERE person_id = ?1 ORDER BY position LIMIT 1",
            )?
            .query_row([person_id], |r| r.get(0))
            .optional()?)
    }
}
