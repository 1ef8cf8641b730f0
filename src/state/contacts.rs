//! State: the contacts tables (issue 14). Every SQL statement lives in state/.
//!
//! `pushed_cards` records every card crmsync created in an address book
//! (P1), with the ETag of its last write (None: that write's outcome is
//! unknown, X5); `contact_pushes` the time of each account's last
//! successful push (P8). The planner's types (`plan::contacts`) are not
//! known here: rows go in and out as plain fields.

use anyhow::Result;
use rusqlite::{OptionalExtension, params};

use super::{State, now};

/// One `pushed_cards` row: a card crmsync made for a CRM record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedCard {
    /// "person" or "company".
    pub record_kind: String,
    pub record_id: String,
    pub href: String,
    /// Its address book (href ending in '/').
    pub collection: String,
    pub uid: String,
    /// ETag after crmsync's last write; None: that write's outcome is unknown (X5).
    pub etag: Option<String>,
    pub content_hash: String,
}

/// A card about to be written, for [`State::record_card_intent`].
#[derive(Debug, Clone, Copy)]
pub struct CardIntent<'a> {
    pub record_kind: &'a str,
    pub record_id: &'a str,
    pub href: &'a str,
    pub collection: &'a str,
    pub uid: &'a str,
    pub content_hash: &'a str,
}

impl State {
    /// Every card crmsync pushed for `account` (P1), by record.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn pushed_cards(&self, account: &str) -> Result<Vec<PushedCard>> {
        let mut st = self.conn.prepare_cached(
            "SELECT record_kind, record_id, href, collection, uid, etag, content_hash
             FROM pushed_cards WHERE account = ?1 ORDER BY record_kind, record_id",
        )?;
        let rows = st.query_map([account], |r| {
            Ok(PushedCard {
                record_kind: r.get(0)?,
                record_id: r.get(1)?,
                href: r.get(2)?,
                collection: r.get(3)?,
                uid: r.get(4)?,
                etag: r.get(5)?,
                content_hash: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records a card about to be written (etag unknown) for a record,
    /// replacing the record's earlier row (X5).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_card_intent(&self, account: &str, c: &CardIntent<'_>) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO pushed_cards (account, href, collection, uid, record_kind, record_id, etag, content_hash, pushed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8)
         ON CONFLICT(account, record_kind, record_id) DO UPDATE SET href = excluded.href,
           collection = excluded.collection, uid = excluded.uid, etag = NULL,
           content_hash = excluded.content_hash, pushed_at = excluded.pushed_at",
            )?
            .execute(params![
                account,
                c.href,
                c.collection,
                c.uid,
                c.record_kind,
                c.record_id,
                c.content_hash,
                now()
            ])?;
        Ok(())
    }

    /// Records a confirmed write of the card at `href` (X5: after the PUT).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_card_written(
        &self,
        account: &str,
        href: &str,
        hash: &str,
        etag: Option<&str>,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE pushed_cards SET etag = ?3, content_hash = ?4, pushed_at = ?5 WHERE account = ?1 AND href = ?2",
            )?
            .execute(params![account, href, etag, hash, now()])?;
        Ok(())
    }

    /// Fills in the ETag of a card whose PUT did not return one.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_card_etag(&self, account: &str, href: &str, etag: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE pushed_cards SET etag = ?3 WHERE account = ?1 AND href = ?2")?
            .execute(params![account, href, etag])?;
        Ok(())
    }

    /// Forgets the card at `href` (deleted, or never created).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn forget_card(&self, account: &str, href: &str) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM pushed_cards WHERE account = ?1 AND href = ?2")?
            .execute(params![account, href])?;
        Ok(())
    }

    /// P8: when the account was last pushed successfully (RFC 3339).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn last_contact_push(&self, account: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT last_push_at FROM contact_pushes WHERE account = ?1")?
            .query_row([account], |r| r.get(0))
            .optional()?)
    }

    /// P8: records a successful push.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_last_contact_push(&self, account: &str, at: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO contact_pushes (account, last_push_at) VALUES (?1, ?2)
         ON CONFLICT(account) DO UPDATE SET last_push_at = excluded.last_push_at",
            params![account, at],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent<'a>(id: &'a str, href: &'a str) -> CardIntent<'a> {
        CardIntent {
            record_kind: "person",
            record_id: id,
            href,
            collection: "c/",
            uid: "u",
            content_hash: "h1",
        }
    }

    #[test]
    fn x5_intent_then_written_then_forgotten() {
        let st = State::open_memory().unwrap();
        st.record_card_intent("a", &intent("P1", "c/1.vcf"))
            .unwrap();
        let rows = st.pushed_cards("a").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].etag, None);
        st.record_card_written("a", "c/1.vcf", "h2", Some("e1"))
            .unwrap();
        let rows = st.pushed_cards("a").unwrap();
        assert_eq!(rows[0].etag.as_deref(), Some("e1"));
        assert_eq!(rows[0].content_hash, "h2");
        // A new intent for the same record replaces the row, etag unknown.
        st.record_card_intent("a", &intent("P1", "c/2.vcf"))
            .unwrap();
        let rows = st.pushed_cards("a").unwrap();
        assert_eq!((rows.len(), rows[0].href.as_str()), (1, "c/2.vcf"));
        assert_eq!(rows[0].etag, None);
        st.record_card_etag("a", "c/2.vcf", "e2").unwrap();
        assert_eq!(st.pushed_cards("a").unwrap()[0].etag.as_deref(), Some("e2"));
        assert!(st.pushed_cards("b").unwrap().is_empty());
        st.forget_card("a", "c/2.vcf").unwrap();
        assert!(st.pushed_cards("a").unwrap().is_empty());
    }

    #[test]
    fn p8_last_push_is_per_account() {
        let st = State::open_memory().unwrap();
        assert_eq!(st.last_contact_push("a").unwrap(), None);
        st.set_last_contact_push("a", "2026-01-01T00:00:00Z")
            .unwrap();
        st.set_last_contact_push("a", "2026-01-02T00:00:00Z")
            .unwrap();
        assert_eq!(
            st.last_contact_push("a").unwrap().as_deref(),
            Some("2026-01-02T00:00:00Z")
        );
        assert_eq!(st.last_contact_push("b").unwrap(), None);
    }
}
