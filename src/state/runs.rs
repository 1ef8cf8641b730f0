//! State: the runs tables (issue 14): the run log, the per-file salt and
//! the X2 lockout blocks. Every SQL statement lives in state/.

use anyhow::{Context, Result};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{State, now, os_user};
use crate::error::Exit;

impl State {
    /// A random per-file salt (for X2 fingerprints), made on first use.
    pub fn salt(&self) -> Result<String> {
        if let Some(s) = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'salt'", [], |r| {
                r.get(0)
            })
            .optional()?
        {
            return Ok(s);
        }
        let mut buf = [0u8; 16];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
            .context("reading /dev/urandom for the state salt")?;
        let salt = hex::encode(buf);
        self.conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?1)",
            [&salt],
        )?;
        Ok(salt)
    }

    /// X2: the block on an account, if any.
    pub fn blocked(&self, account: &str) -> Result<Option<Blocked>> {
        Ok(self
            .conn
            .query_row(
                "SELECT reason, fingerprint, blocked_at FROM blocked_accounts WHERE account = ?1",
                [account],
                |r| {
                    Ok(Blocked {
                        reason: r.get(0)?,
                        fingerprint: r.get(1)?,
                        blocked_at: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// X2: marks an account blocked after an authentication failure.
    pub fn block(&self, account: &str, reason: &str, fingerprint: Option<&str>) -> Result<()> {
        self.conn.execute(
            "INSERT INTO blocked_accounts (account, reason, fingerprint, blocked_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(account) DO UPDATE SET reason = excluded.reason,
               fingerprint = excluded.fingerprint, blocked_at = excluded.blocked_at",
            params![account, reason, fingerprint, now()],
        )?;
        Ok(())
    }

    /// X2: lifts a block; returns whether there was one.
    pub fn unblock(&self, account: &str) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM blocked_accounts WHERE account = ?1", [account])?
            > 0)
    }

    pub fn blocked_accounts(&self) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare("SELECT account FROM blocked_accounts ORDER BY account")?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records the start of a run of `command` in the `runs` table (what
    /// `crmsync report` and `explain` read); a dry run or a read-only open
    /// records nothing (X8).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn begin_run(&self, command: &str) -> Result<Run> {
        if !self.writable() {
            return Ok(Run(None));
        }
        self.conn.execute(
            "INSERT INTO runs (command, pid, by, dry_run, started_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![command, std::process::id(), os_user(), false, now()],
        )?;
        Ok(Run(Some(self.conn.last_insert_rowid())))
    }

    /// Records the end of `run` with its exit code and counts (as JSON).
    ///
    /// # Errors
    /// SQLite errors; a `counts` that cannot be serialised.
    pub fn end_run(&self, run: Run, exit: Exit, counts: &impl Serialize) -> Result<()> {
        let Run(Some(id)) = run else { return Ok(()) };
        self.conn.execute(
            "UPDATE runs SET finished_at = ?2, exit_code = ?3, counts = ?4 WHERE id = ?1",
            params![id, now(), exit.code(), serde_json::to_string(counts)?],
        )?;
        Ok(())
    }
}

/// A run as the `runs` table records it, from [`State::begin_run`] to
/// [`State::end_run`]; nothing for a dry run.
#[derive(Debug)]
#[must_use = "a begun run is ended with State::end_run"]
pub struct Run(Option<i64>);

/// X2: why and when an account was blocked.
#[derive(Debug, Clone)]
pub struct Blocked {
    pub reason: String,
    pub fingerprint: Option<String>,
    pub blocked_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x2_block_and_unblock() {
        let st = State::open_memory().unwrap();
        assert!(st.blocked("a").unwrap().is_none());
        st.block("a", "authentication failed", Some("fp")).unwrap();
        assert_eq!(
            st.blocked("a").unwrap().unwrap().fingerprint.as_deref(),
            Some("fp")
        );
        assert!(st.unblock("a").unwrap());
        assert!(!st.unblock("a").unwrap());
    }
}
