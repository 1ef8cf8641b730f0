//! Messages for people on stderr (STYLE 10): stdout carries only data.
//!
//! The verbosity is process-wide, set once from `-q`/`-v`. Nothing here
//! ever receives a secret: callers pass account names, never credentials.
//! Whatever they print passes [`printable`] (X6a).

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
        eprintln!("{}", printable(msg.as_ref()));
    }
}

/// Something the person should act on; shown even with `-q`.
pub fn warn(msg: impl AsRef<str>) {
    eprintln!("warning: {}", printable(msg.as_ref()));
}

/// A line that needs attention, already labelled (`error: ...`,
/// `warning: ...`, `failed: ...`); on stderr even with `-q` (X14).
pub fn problem(line: &str) {
    eprintln!("{}", printable(line));
}

/// Detail shown with `-v`.
pub fn debug(msg: impl AsRef<str>) {
    if level() >= 1 {
        eprintln!("{}", printable(msg.as_ref()));
    }
}

/// True when progress bars may be drawn: stderr is a terminal and not `-q` (X6).
pub fn progress_allowed() -> bool {
    level() >= 0 && std::io::stderr().is_terminal()
}

/// A progress bar on stderr, hidden when stderr is not a terminal (X16):
/// `what` names the account and, for mail, the folder (`sales/INBOX`); the
/// bar shows the count, the rate and the time left. End it with [`done`].
pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    if !progress_allowed() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:20} {wide_bar} {pos}/{len} {per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    // A folder's or account's name: from a server, perhaps.
    bar.set_message(printable(what).into_owned());
    bar
}

/// X16: clears a bar from [`progress`] and leaves its summary line
/// (`sales/INBOX: 300 of 300 in 12s`); nothing when it was hidden.
pub fn done(bar: &indicatif::ProgressBar) {
    if bar.is_hidden() {
        return;
    }
    let line = done_line(
        &bar.message(),
        bar.position(),
        bar.length().unwrap_or(0),
        bar.elapsed(),
    );
    bar.finish_and_clear();
    eprintln!("{line}");
}

fn done_line(what: &str, pos: u64, len: u64, took: std::time::Duration) -> String {
    format!("{what}: {pos} of {len} in {}s", took.as_secs())
}

/// X6a: text from outside (mail subjects and addresses, names from a CSV,
/// folder names, a server's messages) made harmless for a terminal before
/// it is shown: C0 controls other than newline and tab (ESC above all), DEL,
/// C1 controls, the bidirectional controls (U+061C, U+200E, U+200F,
/// U+202A–U+202E, U+2066–U+2069) and the line and paragraph separators
/// (U+2028, U+2029) are written as `\u{..}` escapes instead of acting. The
/// table printer, these messages, errors and prompts all go through here;
/// JSON and CSV keep the exact text (it is data).
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(
                c,
                '\u{061c}'
                    | '\u{200e}'
                    | '\u{200f}'
                    | '\u{202a}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{2028}'
                    | '\u{2029}'
            )
    }
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// W11: what a Ctrl-C in a wizard leaves behind, told in one line on
/// stderr after the terminal is restored. The messages are fixed so the
/// signal handler only reads an index (async-signal-safe).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Stopped {
    /// No line: the terminal is restored and the run stops as it always did.
    Quietly = 0,
    NothingImported,
    ImportedKept,
    NothingWritten,
    NothingChanged,
    ResolvedKept,
    CalendarAccountUntouched,
    AddressBookUntouched,
}

const STOPPED_LINES: [&str; 8] = [
    "",
    "stopped: nothing imported",
    "stopped: the mail imported so far is kept; nothing else imported",
    "stopped: nothing written",
    "stopped: nothing changed",
    "stopped: the addresses resolved so far stay resolved; nothing else changed",
    "stopped: this calendar account was not synced; accounts synced before it are kept",
    "stopped: this address book was not pushed; address books pushed before it are kept",
];

static STOPPED: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
static ON_SIGINT: std::sync::Once = std::sync::Once::new();
/// The terminal modes from before the first question (stdin), put back on Ctrl-C.
static TERMIOS: std::sync::OnceLock<libc::termios> = std::sync::OnceLock::new();

/// W11: from now on a Ctrl-C restores the terminal (cursor shown, the
/// modes from before the first question) and tells `what` in one line on
/// stderr, then the run ends by SIGINT as before (exit status 130 in a
/// shell). Only at a terminal; the guard puts the previous line back.
pub fn on_interrupt(what: Stopped) -> StopGuard {
    let before = STOPPED.swap(what as u8, Ordering::SeqCst);
    if std::io::stderr().is_terminal() {
        ON_SIGINT.call_once(install_sigint);
    }
    StopGuard(before)
}

/// W11: changes the line of the guard in force (the engine knows when the
/// first mail was written).
pub fn interrupt_now_means(what: Stopped) {
    STOPPED.store(what as u8, Ordering::SeqCst);
}

/// Puts the previous Ctrl-C line back when dropped.
#[must_use = "the line holds only while the guard lives"]
pub struct StopGuard(u8);

impl Drop for StopGuard {
    fn drop(&mut self) {
        STOPPED.store(self.0, Ordering::SeqCst);
    }
}

fn install_sigint() {
    // SAFETY: plain libc calls with valid pointers; the handler below does
    // only async-signal-safe work (tcsetattr, write, raise).
    unsafe {
        let mut t = std::mem::MaybeUninit::<libc::termios>::uninit();
        if libc::isatty(0) == 1 && libc::tcgetattr(0, t.as_mut_ptr()) == 0 {
            let _ = TERMIOS.set(t.assume_init());
        }
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // Once: the second SIGINT (raised below) takes the default action.
        act.sa_flags = libc::SA_RESETHAND;
        libc::sigemptyset(&mut act.sa_mask);
        libc::sigaction(libc::SIGINT, &act, std::ptr::null_mut());
    }
}

extern "C" fn on_sigint(_: libc::c_int) {
    fn put(bytes: &[u8]) {
        // SAFETY: write(2) on stderr with a valid buffer.
        unsafe {
            libc::write(2, bytes.as_ptr().cast(), bytes.len());
        }
    }
    if let Some(t) = TERMIOS.get() {
        // SAFETY: tcsetattr is async-signal-safe; `t` came from tcgetattr.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, t);
        }
    }
    // dialoguer hides the cursor while a list is shown.
    put(b"\x1b[?25h");
    let line = STOPPED_LINES
        .get(STOPPED.load(Ordering::SeqCst) as usize)
        .copied()
        .unwrap_or("");
    if !line.is_empty() {
        put(b"\n");
        put(line.as_bytes());
        put(b"\n");
    }
    // SAFETY: raise is async-signal-safe; SIGINT is blocked in here and
    // reset to its default, so the run ends by it once this returns.
    unsafe {
        libc::raise(libc::SIGINT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// X16: the line a finished progress bar leaves.
    #[test]
    fn x16_progress_ends_with_a_summary_line() {
        assert_eq!(
            done_line(
                "sales/INBOX",
                300,
                300,
                std::time::Duration::from_millis(12_400)
            ),
            "sales/INBOX: 300 of 300 in 12s"
        );
    }

    /// Issue 16 item 9: controls and bidi overrides are shown, not obeyed.
    #[test]
    fn x6a_escapes_bidi_and_control_characters_and_keeps_the_rest() {
        assert_eq!(printable("Jane Doe, Müller 日本"), "Jane Doe, Müller 日本");
        assert_eq!(printable("two\nlines\tand tab"), "two\nlines\tand tab");
        assert_eq!(
            printable("invoice\u{202e}fdp.exe"),
            "invoice\\u{202e}fdp.exe"
        );
        assert_eq!(
            printable("\u{1b}[2J\u{1b}]0;x\u{7}"),
            "\\u{1b}[2J\\u{1b}]0;x\\u{7}"
        );
        assert_eq!(printable("a\rb\u{7f}\u{9b}c"), "a\\u{d}b\\u{7f}\\u{9b}c");
        for c in [
            '\u{061c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{2066}', '\u{2069}', '\u{2028}',
        ] {
            assert!(!printable(&format!("x{c}y")).contains(c), "{:x}", c as u32);
        }
    }
}
