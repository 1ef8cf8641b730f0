//! X4: one run at a time per state file, through an advisory lock on
//! `<state>.lock` that holds the PID and command of the holder.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Another run holds the state file (exit 75).
#[derive(Debug, thiserror::Error)]
#[error(
    "state file {} is in use by another crmsync run ({holder}); wait for it to finish, or pass --state for a separate state file",
    path.display()
)]
pub struct Busy {
    pub path: PathBuf,
    pub holder: String,
}

/// Held for the whole run; released when dropped or when the process dies.
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes the lock next to `state`, without waiting.
    ///
    /// # Errors
    /// [`Busy`] when held by another process; I/O errors otherwise.
    pub fn acquire(state: &Path, command: &str) -> Result<RunLock> {
        let mut name = state.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("opening the lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(Busy {
                    path: state.to_path_buf(),
                    holder: if holder.is_empty() {
                        "holder unknown".into()
                    } else {
                        holder.to_string()
                    },
                }
                .into());
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()));
            }
        }
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        write!(
            file,
            "process {} running `crmsync {command}` since {}",
            std::process::id(),
            super::now()
        )?;
        file.flush()?;
        Ok(RunLock { _file: file })
    }
}
