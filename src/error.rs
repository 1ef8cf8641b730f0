//! Exit codes (SPEC X7) and the error kinds that decide them.
//!
//! Modules return typed errors where a caller decides something (retry,
//! skip, block an account); the command layer wraps them in `anyhow` with
//! context. `main` walks the error chain to find the exit code.

use std::fmt;
use std::path::PathBuf;

/// Process exit codes of SPEC X7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: all done.
    Ok = 0,
    /// 1: failed.
    Failed = 1,
    /// 2: usage or configuration error.
    Usage = 2,
    /// 3: done, but some items were skipped or failed.
    Partial = 3,
    /// 75: the state file is held by another run (X4).
    Busy = 75,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A configuration or usage mistake: the run did nothing and exits 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A configuration mistake; always names the file and, where known, the line.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

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

/// Shorthand for a usage error wrapped in `anyhow`.
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

/// Maps an error to its exit code by looking through its whole chain.
pub fn exit_for(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if cause.downcast_ref::<UsageError>().is_some()
            || cause.downcast_ref::<ConfigError>().is_some()
        {
            return Exit::Usage;
        }
        if cause.downcast_ref::<Busy>().is_some() {
            return Exit::Busy;
        }
    }
    Exit::Failed
}

/// True when the error is a closed stdout pipe (`crmsync ... | head`):
/// that is not a failure, the reader just had enough.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
