//! The state file: one SQLite database that is the embedded CRM (B1), the
//! cache of a REST CRM (B2), and the record of the last agreed sync state.
//!
//! Opening it applies the numbered migrations in `migrations/`, turns on
//! WAL, a busy timeout and foreign keys, and keeps the file private (0600).
//! A writer also takes the run lock (X4): a second writer gets
//! [`crate::error::Busy`].

pub mod activities;
pub mod calendar;
pub mod contacts;
mod cursors;
pub mod directory;
mod items;
mod lock;
mod notices;
pub mod outbox;
pub mod report;
mod runs;
mod unknown;

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use rusqlite::{Connection, OpenFlags};

pub use cursors::Cursor;
pub use lock::RunLock;
pub use runs::{Blocked, Run};
pub use unknown::{ResolutionRow, UnknownRow};

/// Numbered migrations; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_mail.sql"),
    include_str!("migrations/0003_resolve.sql"),
    include_str!("migrations/0004_contacts.sql"),
    include_str!("migrations/0005_calendar.sql"),
    include_str!("migrations/0006_crm_rest.sql"),
    include_str!("migrations/0007_rest_doubt.sql"),
];

/// How a command uses the state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads and writes; takes the run lock (X4).
    Write,
    /// Reads only; no lock (WAL lets readers run beside a writer).
    Read,
    /// `--dry-run` (X8): reads, and writes nothing, not even a new file.
    DryRun,
}

/// An open state file.
pub struct State {
    conn: Connection,
    path: PathBuf,
    writable: bool,
    _lock: Option<RunLock>,
}

/// One transaction (X5: what a batch writes commits together or not at
/// all). Every statement run through the [`State`] while the batch lives is
/// part of it; dropping it without [`Batch::commit`] rolls back.
pub struct Batch<'a>(rusqlite::Transaction<'a>);

impl Batch<'_> {
    /// Commits the batch.
    ///
    /// # Errors
    /// SQLite errors (the batch is rolled back then).
    pub fn commit(self) -> Result<()> {
        self.0.commit()?;
        Ok(())
    }
}

/// Current time as RFC 3339 UTC, the format of every timestamp column.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl State {
    /// Opens (and creates, for writers) the state file at `path`.
    ///
    /// # Errors
    /// [`crate::error::Busy`] when another run holds the lock (exit 75); I/O and SQLite
    /// errors with the path in their context.
    pub fn open(path: &Path, access: Access, command: &str) -> Result<State> {
        // X4a: a link planted at the state file is refused, not followed
        // (SQLite would write through it); SQLITE_OPEN_NOFOLLOW below
        // closes the gap between this look and the open.
        let exists = match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => anyhow::bail!(
                "the state file {} is a symbolic link; crmsync does not follow links there (its target would be written). \
                 Move the real file to that path, or pass --state with the real file's path",
                path.display()
            ),
            Ok(_) => true,
            Err(_) => false,
        };
        if access == Access::DryRun && !exists {
            // Nothing to read yet: plan against an empty state, create nothing.
            let mut st = State::open_memory()?;
            st.path = path.to_path_buf();
            st.writable = false;
            return Ok(st);
        }
        if access == Access::Read && !exists {
            anyhow::bail!(crate::error::UsageError(format!(
                "state file {} does not exist yet; run `crmsync crm import` or a sync command first",
                path.display()
            )));
        }
        let lock = if access == Access::Write {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .with_context(|| format!("creating the state directory {}", dir.display()))?;
            }
            Some(RunLock::acquire(path, command)?)
        } else {
            None
        };
        if !exists {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("creating the state file {}", path.display()))?;
        } else if access == Access::Write {
            restrict_mode(path)?;
        }
        let flags = if access == Access::DryRun {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let conn = Connection::open_with_flags(path, flags)
            .with_context(|| format!("opening the state file {}", path.display()))?;
        configure(&conn, access != Access::DryRun)
            .with_context(|| format!("setting up the state file {}", path.display()))?;
        if access == Access::DryRun {
            let v = conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
            if v > MIGRATIONS.len() {
                // X8: a dry run plans against what it cannot read right.
                return Err(anyhow::Error::new(newer_schema(v))
                    .context(format!("reading the state file {}", path.display())));
            }
            if v < MIGRATIONS.len() {
                anyhow::bail!(crate::error::UsageError(format!(
                    "state file {} is from an older crmsync (schema {v}); run once without --dry-run to upgrade it",
                    path.display()
                )));
            }
        } else {
            migrate(&conn)
                .with_context(|| format!("upgrading the state file {}", path.display()))?;
        }
        Ok(State {
            conn,
            path: path.to_path_buf(),
            writable: access == Access::Write,
            _lock: lock,
        })
    }

    /// An in-memory state with the full schema, for tests and dry runs.
    ///
    /// # Errors
    /// SQLite errors only.
    pub fn open_memory() -> Result<State> {
        let conn = Connection::open_in_memory()?;
        configure(&conn, false)?;
        migrate(&conn)?;
        Ok(State {
            conn,
            path: PathBuf::from(":memory:"),
            writable: true,
            _lock: None,
        })
    }

    /// Starts a transaction; see [`Batch`].
    ///
    /// # Errors
    /// SQLite errors (a transaction already open on this state file).
    pub fn batch(&self) -> Result<Batch<'_>> {
        Ok(Batch(self.conn.unchecked_transaction()?))
    }

    /// The SQLite connection, for `benches/` only (they read query plans and
    /// connection settings). Code under `src/` keeps its SQL in `state/`
    /// (tests/architecture.rs).
    #[doc(hidden)]
    pub fn connection_for_benches(&self) -> &Connection {
        &self.conn
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// False for `--dry-run` and read-only opens: nothing may be written (X8).
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// The schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<usize> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize)
    }

    pub fn latest_schema() -> usize {
        MIGRATIONS.len()
    }
}

/// The OS user running this process (U5 default for "by whom").
pub fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

fn configure(conn: &Connection, wal: bool) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    if wal {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    conn.pragma_update(None, "foreign_keys", true)?;
    // Without this, SQLite 3.54 re-plans a cached `column = ?1` statement on
    // every new binding, which tripled the cost of a lookup (docs/PERFORMANCE.md).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

fn migrate(conn: &Connection) -> Result<()> {
    let version = conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
    if version > MIGRATIONS.len() {
        anyhow::bail!(newer_schema(version));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)
            .with_context(|| format!("applying migration {:04}", i + 1))?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// The refusal of a state file written by a newer crmsync (X8: also under
/// `--dry-run`).
fn newer_schema(version: usize) -> crate::error::UsageError {
    crate::error::UsageError(format!(
        "it has schema {version}, newer than this crmsync knows ({}); upgrade crmsync (nothing was planned or changed)",
        MIGRATIONS.len()
    ))
}

/// Keeps the state file private: it holds the CRM and the mail archive.
fn restrict_mode(path: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("making {} private (chmod 600)", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_and_are_idempotent() {
        let st = State::open_memory().unwrap();
        assert_eq!(st.schema_version().unwrap(), State::latest_schema());
        migrate(&st.conn).unwrap();
        let fk: i64 = st
            .conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
    }

    #[test]
    fn x4_second_writer_is_busy_and_names_holder() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.sqlite");
        let _first = State::open(&p, Access::Write, "import-mail").unwrap();
        let err = State::open(&p, Access::Write, "check").err().unwrap();
        let busy = err
            .downcast_ref::<crate::error::Busy>()
            .expect("Busy error");
        assert!(
            busy.to_string().contains(&std::process::id().to_string()),
            "{busy}"
        );
        assert!(busy.to_string().contains("import-mail"), "{busy}");
        // A reader is not blocked by the writer.
        State::open(&p, Access::Read, "crm list").unwrap();
    }

    #[test]
    fn state_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/s.sqlite");
        drop(State::open(&p, Access::Write, "t").unwrap());
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn x8_dry_run_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.sqlite");
        let st = State::open(&p, Access::DryRun, "t").unwrap();
        assert_eq!(st.schema_version().unwrap(), State::latest_schema());
        assert!(!p.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
