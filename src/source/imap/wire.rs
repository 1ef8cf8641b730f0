//! The byte stream under an IMAP session ([`Stream`]): one shared handle
//! used by the `imap` crate and by crmsync's own readers alike, over plain
//! TCP, TLS or (for the fuzz target) memory. Every operation on it is
//! bounded in time (X13, by the connection's clock) and in bytes (X12:
//! [`ANSWER_MAX`] per answer, [`LINE_MAX`] per line, carried as a
//! [`Bound`] inside the I/O error). It keeps the latest bytes read, so that
//! an answer that is not valid IMAP is quoted in words
//! ([`invalid_answer`]).

use std::fmt;
use std::io::{self, Read, Write};

use rustls::{ClientConnection, StreamOwned};

use super::conn::{Clock, Timed};

/// Why crmsync gave up a connection by one of its own bounds (X12, X13):
/// carried inside the `io::Error` of the read that hit it, so that every
/// reader (the `imap` crate, [`FetchReader`], STARTTLS) reports it alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// X13: the command and its answer took longer than `deadline` seconds.
    Deadline(u64),
    /// X12: the answer grew beyond this many bytes.
    Answer(u64),
    /// X12: a line of the answer is longer than this many bytes.
    Line(usize),
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Deadline(secs) => write!(
                f,
                "the command and its answer took longer than the deadline of {secs} s \
                 (the server trickles or is overloaded; X13); if it is just slow, raise \
                 `deadline` for this account"
            ),
            Bound::Answer(n) => write!(
                f,
                "the answer is larger than {n} bytes, more than crmsync takes for this \
                 command (a broken or hostile server; X12); refused"
            ),
            Bound::Line(n) => write!(
                f,
                "a line of the answer is longer than {n} bytes (a broken or hostile server; \
                 X12); refused"
            ),
        }
    }
}

impl std::error::Error for Bound {}

impl Bound {
    pub(super) fn error(self) -> io::Error {
        let kind = match self {
            Bound::Deadline(_) => io::ErrorKind::TimedOut,
            Bound::Answer(_) | Bound::Line(_) => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self)
    }

    /// The bound inside an I/O error, if it was one of ours.
    pub fn of(e: &io::Error) -> Option<&Bound> {
        e.get_ref()?.downcast_ref::<Bound>()
    }
}

/// The most an answer read through the `imap` crate may take (LIST,
/// SEARCH, RFC822.SIZE listings, BODYSTRUCTURE, greeting, LOGIN): 16 MiB
/// (a SEARCH naming 1,000,000 UIDs is about 8 MB). X12.
pub const ANSWER_MAX: u64 = 16 << 20;

/// The longest line crmsync reads outside a literal (STARTTLS, FETCH
/// answers read by [`FetchReader`]): 1 MiB. X12.
pub const LINE_MAX: usize = 1 << 20;

/// The connection under an IMAP session.
#[derive(Debug)]
pub(super) enum Wire {
    Plain(Timed),
    Tls(Box<StreamOwned<ClientConnection, Timed>>),
    /// Bytes in memory, written ones dropped: the fuzz target.
    Memory(io::Cursor<Vec<u8>>),
}

#[derive(Debug)]
pub(super) struct Inner {
    wire: Wire,
    clock: std::sync::Arc<Clock>,
    /// Bytes a reader of our own took from the wire past the end of its
    /// response: the next read gets them first.
    pushback: Vec<u8>,
    /// The last bytes read from the wire (at most [`RECENT`]), to quote
    /// the line of an answer that is not valid IMAP.
    recent: Vec<u8>,
    /// True from the first write of a command to the first read of its
    /// answer: a write after a read begins a new operation.
    writing: bool,
    /// Bytes the answer in progress may still take from the wire (X12).
    left: u64,
    /// What it could take in all, for the message.
    limit: u64,
    /// What the next operation may take instead of [`ANSWER_MAX`].
    next: Option<u64>,
}

/// How much of the latest wire bytes [`Inner::recent`] keeps.
pub(super) const RECENT: usize = 4096;

/// The byte stream under an IMAP session: a shared handle, so that
/// [`ImapSource`] can read FETCH answers itself (by literal length) on the
/// session's own connection; see [`FetchReader`]. Every operation on it is
/// bounded in time (X13) and in bytes (X12).
#[derive(Debug, Clone)]
pub struct Stream(std::sync::Arc<std::sync::Mutex<Inner>>);

impl Stream {
    pub(super) fn new(wire: Wire, clock: std::sync::Arc<Clock>) -> Stream {
        Stream(std::sync::Arc::new(std::sync::Mutex::new(Inner {
            wire,
            clock,
            pushback: Vec::new(),
            recent: Vec::new(),
            writing: false,
            left: ANSWER_MAX,
            limit: ANSWER_MAX,
            next: None,
        })))
    }

    /// The last bytes read from the wire.
    fn recent(&self) -> Vec<u8> {
        self.inner().recent.clone()
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding it cannot leave the bytes inconsistent.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Gives bytes back: the next read returns them first.
    pub(super) fn unread(&self, bytes: &[u8]) {
        if !bytes.is_empty() {
            let mut i = self.inner();
            let mut b = bytes.to_vec();
            b.extend_from_slice(&i.pushback);
            i.pushback = b;
        }
    }

    /// The answer to the next command may take `bytes` from the wire
    /// instead of [`ANSWER_MAX`] (X12).
    pub(super) fn allow_next(&self, bytes: u64) {
        self.inner().next = Some(bytes);
    }

    /// The answer in progress may take `bytes` from now on (X12).
    pub(super) fn allow_now(&self, bytes: u64) {
        let mut i = self.inner();
        i.left = bytes;
        i.limit = bytes;
    }

    /// Closes the connection at once: after a bound was hit the rest of
    /// the answer is neither wanted nor waited for.
    pub(super) fn shutdown(&self) {
        let i = self.inner();
        let _ = match &i.wire {
            Wire::Plain(t) => t.tcp.shutdown(std::net::Shutdown::Both),
            Wire::Tls(s) => s.sock.tcp.shutdown(std::net::Shutdown::Both),
            Wire::Memory(_) => Ok(()),
        };
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut i = self.inner();
        i.writing = false;
        // Also bounds the time spent between reads (the crate parses an
        // answer again after every line).
        if i.clock.passed() {
            return Err(i.clock.exceeded());
        }
        if !i.pushback.is_empty() {
            let n = buf.len().min(i.pushback.len());
            buf[..n].copy_from_slice(&i.pushback[..n]);
            i.pushback.drain(..n);
            return Ok(n);
        }
        if i.left == 0 && !buf.is_empty() {
            return Err(Bound::Answer(i.limit).error());
        }
        let room = buf.len().min(usize::try_from(i.left).unwrap_or(usize::MAX));
        let n = match &mut i.wire {
            Wire::Plain(s) => s.read(&mut buf[..room]),
            Wire::Tls(s) => s.read(&mut buf[..room]),
            Wire::Memory(c) => c.read(&mut buf[..room]),
        }?;
        i.left -= n as u64;
        let got = &buf[..n.min(RECENT)];
        let keep = RECENT.saturating_sub(got.len()).min(i.recent.len());
        let drop = i.recent.len() - keep;
        i.recent.drain(..drop);
        i.recent.extend_from_slice(got);
        Ok(n)
    }
}

/// An answer the imap crate could not read, in words with the line that
/// was wrong (issue 16: it reports one as a BYE without a code or text,
/// which crmsync used to print as "the server said BYE").
pub(super) fn invalid_answer(e: &imap::Error, raw: &Stream) -> Option<String> {
    match e {
        imap::Error::Bye(bye)
            if bye.code.is_none() && bye.information == "no explanation given" =>
        {
            Some(match invalid_line(&raw.recent()) {
                Some(line) => format!(
                    "the server's answer is not valid IMAP: `{line}`; a fault of the server (tell its admin)"
                ),
                None => {
                    "the server's answer is not valid IMAP; a fault of the server (tell its admin)"
                        .to_string()
                }
            })
        }
        imap::Error::Parse(p) => Some(format!("the server's answer is not valid IMAP ({p})")),
        _ => None,
    }
}

/// The last line in `recent` (bytes lately read) that is not valid IMAP,
/// shortened for a message: what made the imap crate give up (it stops at
/// the first bad line; earlier bytes may be a mail's text from a FETCH).
pub(super) fn invalid_line(recent: &[u8]) -> Option<String> {
    // The first piece may be the tail of a longer line.
    let whole = if recent.len() >= RECENT {
        recent
            .iter()
            .position(|&b| b == b'\n')
            .map_or(&[][..], |i| &recent[i + 1..])
    } else {
        recent
    };
    whole
        .split_inclusive(|&b| b == b'\n')
        .filter(|l| l.ends_with(b"\r\n") && l.len() > 2)
        .rfind(|l| matches!(imap_proto::parser::parse_response(l), Err(e) if !e.is_incomplete()))
        .map(|l| {
            let text = String::from_utf8_lossy(&l[..l.len() - 2]);
            let mut short: String = text.chars().take(120).collect();
            if short.len() < text.len() {
                short.push_str("...");
            }
            short
        })
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut i = self.inner();
        if !i.writing {
            i.writing = true;
            i.clock.restart();
            let limit = i.next.take().unwrap_or(ANSWER_MAX);
            i.left = limit;
            i.limit = limit;
        }
        match &mut i.wire {
            Wire::Plain(s) => s.write(buf),
            Wire::Tls(s) => s.write(buf),
            Wire::Memory(_) => Ok(buf.len()),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner().wire {
            Wire::Plain(s) => s.flush(),
            Wire::Tls(s) => s.flush(),
            Wire::Memory(_) => Ok(()),
        }
    }
}
