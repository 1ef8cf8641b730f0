//! The `cursors` table: where each source was read up to (its one owner).
//!
//! `source_key` = SHA-256 of the source's identity. IMAP folders (M3):
//! validity = UIDVALIDITY, position = highest UID seen. DAV collections
//! (C5): validity = ctag, position = sync-token.

use anyhow::Result;
use rusqlite::{OptionalExtension, params};

use super::{State, now};

/// A DAV collection's position from the last run (C5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    pub ctag: Option<String>,
    pub token: Option<String>,
}

impl State {
    /// The folder cursor (M3): (validity, highest UID seen).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn folder_cursor(&self, source_key: &str) -> Result<Option<(String, Option<u32>)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT validity, position FROM cursors WHERE source_key = ?1")?
            .query_row([source_key], |r| {
                let v: Option<String> = r.get(0)?;
                let p: Option<String> = r.get(1)?;
                Ok((v.unwrap_or_default(), p.and_then(|p| p.parse().ok())))
            })
            .optional()?)
    }

    /// Moves the folder cursor forward (never back within one validity).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_folder_cursor(
        &self,
        source_key: &str,
        account: &str,
        folder: &str,
        validity: &str,
        last_uid: Option<u32>,
    ) -> Result<()> {
        self.conn.prepare_cached(
            "INSERT INTO cursors (source_key, account, collection, validity, position, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(source_key) DO UPDATE SET validity = excluded.validity,
               position = CASE WHEN excluded.validity = cursors.validity
                               THEN max(coalesce(CAST(cursors.position AS INTEGER), 0), coalesce(CAST(excluded.position AS INTEGER), 0))
                               ELSE excluded.position END,
               updated_at = excluded.updated_at",
        )?
        .execute(params![source_key, account, folder, validity, last_uid.map(|u| u.to_string()), now()])?;
        Ok(())
    }

    /// A collection's ctag and sync-token from the last run (C5).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn stored_cursor(&self, key: &str) -> Result<Cursor> {
        Ok(self
            .conn
            .prepare_cached("SELECT validity, position FROM cursors WHERE source_key = ?1")?
            .query_row([key], |r| {
                Ok(Cursor {
                    ctag: r.get(0)?,
                    token: r.get(1)?,
                })
            })
            .optional()?
            .unwrap_or_default())
    }

    /// Stores a collection's ctag and sync-token for the next run (C5).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn store_cursor(
        &self,
        key: &str,
        account: &str,
        collection: &str,
        c: &Cursor,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO cursors (source_key, account, collection, validity, position, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(source_key) DO UPDATE SET validity = excluded.validity,
                   position = excluded.position, updated_at = excluded.updated_at",
            )?
            .execute(params![key, account, collection, c.ctag, c.token, now()])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn m3_folder_cursor_never_moves_back_within_a_validity() {
        let st = State::open_memory().unwrap();
        assert_eq!(st.folder_cursor("k").unwrap(), None);
        st.set_folder_cursor("k", "a", "INBOX", "7", Some(10))
            .unwrap();
        st.set_folder_cursor("k", "a", "INBOX", "7", Some(4))
            .unwrap();
        assert_eq!(st.folder_cursor("k").unwrap(), Some(("7".into(), Some(10))));
        // A new UIDVALIDITY starts over.
        st.set_folder_cursor("k", "a", "INBOX", "8", Some(2))
            .unwrap();
        assert_eq!(st.folder_cursor("k").unwrap(), Some(("8".into(), Some(2))));
    }

    #[test]
    fn c5_collection_cursor_round_trips() {
        let st = State::open_memory().unwrap();
        assert_eq!(st.stored_cursor("c").unwrap(), Cursor::default());
        let c = Cursor {
            ctag: Some("ct".into()),
            token: Some("tok".into()),
        };
        st.store_cursor("c", "a", "cal/", &c).unwrap();
        assert_eq!(st.stored_cursor("c").unwrap(), c);
    }

    #[test]
    fn m3_forget_folder_drops_items_and_owed_actions() {
        let st = State::open_memory().unwrap();
        st.set_folder_cursor("k", "a", "INBOX", "7", Some(3))
            .unwrap();
        st.record_item("k", "3", "skipped:M4:too_large", None, "h", Some("mark"))
            .unwrap();
        assert!(st.seen("k", "3").unwrap());
        assert_eq!(st.pending_actions("k").unwrap().len(), 1);
        st.forget_folder("k", "a", "INBOX", "8").unwrap();
        assert!(!st.seen("k", "3").unwrap());
        assert!(st.pending_actions("k").unwrap().is_empty());
        assert_eq!(st.folder_cursor("k").unwrap(), Some(("8".into(), None)));
    }
}
