//! Messages for people on stderr (STYLE 10): stdout carries only data.
//!
//! The verbosity is process-wide, set once from `-q`/`-v`. Nothing here
//! ever receives a secret: callers pass account names, never credentials.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicI8, Ordering};

static LEVEL: AtomicI8 = AtomicI8::new(0);

/// -1 quiet, 0 normal, 1.. verbose.
pub fn set_level(level: i8) {
    LEVEL.store(level, Ordering::Relaxed);
}

pub fn level() -> i8 {
    LEVEL.load(Ordering::Relaxed)
}

/// A line of progress or result for the person running the command.
pub fn info(msg: impl AsRef<str>) {
    if level() >= 0 {
        eprintln!("{}", msg.as_ref());
    }
}

/// Something the person should act on; shown even with `-q`.
pub fn warn(msg: impl AsRef<str>) {
    eprintln!("warning: {}", msg.as_ref());
}

/// Detail shown with `-v`.
pub fn debug(msg: impl AsRef<str>) {
    if level() >= 1 {
        eprintln!("{}", msg.as_ref());
    }
}

/// True when progress bars may be drawn: stderr is a terminal and not `-q` (X6).
pub fn progress_allowed() -> bool {
    level() >= 0 && std::io::stderr().is_terminal()
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    if !progress_allowed() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:12} {wide_bar} {pos}/{len} {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(what.to_string());
    bar
}
