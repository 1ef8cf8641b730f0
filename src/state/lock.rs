//! X4: one run at a time per state file, through an advisory lock on
//! `<state>.lock` that holds the PID and command of the holder.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::Busy;

/// Opens (or creates, 0600) a file of ours without following a symbolic
/// link and without truncating anything (X4a): a link planted at the path
/// is refused, and so is anything but a plain file with one name (a hard
/// link to someone's file would be overwritten otherwise).
///
/// # Errors
/// The refusal, naming the path and what to do; I/O errors.
pub(crate) fn open_private(path: &Path, what: &str) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                anyhow::anyhow!(
                    "the {what} {} is a symbolic link; crmsync does not follow links there (its target would be overwritten). \
                     Remove the link, or pass --state for a state file in a directory only you can write",
                    path.display()
                )
            } else {
                anyhow::Error::new(e).context(format!("opening the {what} {}", path.display()))
            }
        })?;
    let meta = file
        .metadata()
        .with_context(|| format!("reading the {what} {}", path.display()))?;
    if !meta.is_file() || meta.nlink() > 1 {
        anyhow::bail!(
            "the {what} {} is not a plain file of crmsync's own ({}); crmsync leaves it alone. \
             Remove it, or pass --state for a state file in a directory only you can write",
            path.display(),
            if meta.is_file() {
                "it has other names: a hard link"
            } else {
                "not a regular file"
            }
        );
    }
    Ok(file)
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
        let mut file = open_private(&path, "lock file")?;
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
