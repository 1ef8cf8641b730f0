//! IMAP: connections (the `imap` crate over our own rustls stream:
//! implicit TLS, STARTTLS or plain, certificate checks per X11, errors typed
//! so that callers can tell a wrong password, X2, from a server that is
//! down) and [`ImapSource`], the [`MailSource`] over one session.
//!
//! Terms: a *wire name* is a mailbox name as the server spells it (modified
//! UTF-7, the server's hierarchy delimiter); a *display name* is what users
//! configure and see (decoded, `/` between levels, `INBOX` in capitals).
//! The `imap` crate does not encode names, does not escape them in every
//! command and does not check capabilities, so this module builds the
//! commands that carry names itself and parses LIST, SELECT and CAPABILITY
//! responses itself (the crate's SELECT parser panics on an untagged NO);
//! the bodies and headers of FETCH are read by [`FetchReader`] by literal
//! length (the crate re-parses a response after every line), other FETCH
//! responses go through the crate.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};

use crate::config::{MailAccount, TlsMode};
use crate::net::tls::{Advice, TlsSettings, client_config, explain, rustls_error};
use crate::secret::Secret;
use crate::source::mail::{
    FolderInfo, FolderStatus, MailSource, MsgRef, Naming, Outline, OutlinePart, SourceError,
};
use crate::source::utf7;

/// Why an IMAP connection failed.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot connect to {addr}: {source}; is the server running and the host/port right?")]
    Connect { addr: String, source: io::Error },
    #[error("TLS with {addr} failed: {detail}")]
    Tls { addr: String, detail: String },
    /// The server refused the credentials: the caller blocks the account (X2).
    #[error("the server refused the login: {0}")]
    Auth(String),
    #[error("IMAP error from {addr}: {detail}")]
    Protocol { addr: String, detail: String },
}

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
    fn error(self) -> io::Error {
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

/// X13: the clock of one connection. An operation is a command (what
/// crmsync writes) and its answer (what it reads until it writes again);
/// each may take `deadline` in all, and no single read or write waits
/// longer than `timeout`. Shared by [`Stream`] and the socket under it
/// ([`Timed`]), so that bytes trickling into a TLS record count as well.
#[derive(Debug)]
struct Clock {
    timeout: Duration,
    deadline: Duration,
    ends: std::sync::Mutex<std::time::Instant>,
}

impl Clock {
    /// A clock whose first operation (greeting, STARTTLS, TLS) starts now.
    fn new(timeout: Duration, deadline: Duration) -> std::sync::Arc<Clock> {
        std::sync::Arc::new(Clock {
            timeout,
            deadline,
            ends: std::sync::Mutex::new(std::time::Instant::now() + deadline),
        })
    }

    fn ends(&self) -> std::sync::MutexGuard<'_, std::time::Instant> {
        self.ends
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new operation begins now.
    fn restart(&self) {
        *self.ends() = std::time::Instant::now() + self.deadline;
    }

    fn passed(&self) -> bool {
        std::time::Instant::now() >= *self.ends()
    }

    fn exceeded(&self) -> io::Error {
        Bound::Deadline(self.deadline.as_secs()).error()
    }

    /// How long the next socket read or write may wait: the timeout, but
    /// not past the deadline (an error once that has passed).
    fn wait(&self) -> io::Result<Duration> {
        let left = self
            .ends()
            .saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(self.exceeded());
        }
        Ok(self.timeout.min(left).max(Duration::from_millis(1)))
    }
}

/// A TCP socket whose every read and write obeys its [`Clock`] (X13).
#[derive(Debug)]
struct Timed {
    tcp: TcpStream,
    clock: std::sync::Arc<Clock>,
    /// The read and write timeouts set on the socket last.
    read_set: Option<Duration>,
    write_set: Option<Duration>,
}

impl Timed {
    fn new(tcp: TcpStream, clock: std::sync::Arc<Clock>) -> Timed {
        Timed {
            tcp,
            clock,
            read_set: None,
            write_set: None,
        }
    }

    /// The OS's timeout error becomes [`Bound::Deadline`] when the
    /// deadline, not the plain timeout, cut the wait short.
    fn map(&self, e: io::Error) -> io::Error {
        if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) && self.clock.passed()
        {
            self.clock.exceeded()
        } else {
            e
        }
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let wait = self.clock.wait()?;
        if self.read_set != Some(wait) {
            self.tcp.set_read_timeout(Some(wait))?;
            self.read_set = Some(wait);
        }
        self.tcp.read(buf).map_err(|e| self.map(e))
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let wait = self.clock.wait()?;
        if self.write_set != Some(wait) {
            self.tcp.set_write_timeout(Some(wait))?;
            self.write_set = Some(wait);
        }
        self.tcp.write(buf).map_err(|e| self.map(e))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// The connection under an IMAP session.
#[derive(Debug)]
enum Wire {
    Plain(Timed),
    Tls(Box<StreamOwned<ClientConnection, Timed>>),
    /// Bytes in memory, written ones dropped: the fuzz target.
    Memory(io::Cursor<Vec<u8>>),
}

#[derive(Debug)]
struct Inner {
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
const RECENT: usize = 4096;

/// The byte stream under an IMAP session: a shared handle, so that
/// [`ImapSource`] can read FETCH answers itself (by literal length) on the
/// session's own connection; see [`FetchReader`]. Every operation on it is
/// bounded in time (X13) and in bytes (X12).
#[derive(Debug, Clone)]
pub struct Stream(std::sync::Arc<std::sync::Mutex<Inner>>);

impl Stream {
    fn new(wire: Wire, clock: std::sync::Arc<Clock>) -> Stream {
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
    fn unread(&self, bytes: &[u8]) {
        if !bytes.is_empty() {
            let mut i = self.inner();
            let mut b = bytes.to_vec();
            b.extend_from_slice(&i.pushback);
            i.pushback = b;
        }
    }

    /// The answer to the next command may take `bytes` from the wire
    /// instead of [`ANSWER_MAX`] (X12).
    fn allow_next(&self, bytes: u64) {
        self.inner().next = Some(bytes);
    }

    /// The answer in progress may take `bytes` from now on (X12).
    fn allow_now(&self, bytes: u64) {
        let mut i = self.inner();
        i.left = bytes;
        i.limit = bytes;
    }

    /// Closes the connection at once: after a bound was hit the rest of
    /// the answer is neither wanted nor waited for.
    fn shutdown(&self) {
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
fn invalid_answer(e: &imap::Error, raw: &Stream) -> Option<String> {
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
fn invalid_line(recent: &[u8]) -> Option<String> {
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

pub type Session = imap::Session<Stream>;

/// Opens a TCP connection with timeouts.
fn tcp(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, ImapError> {
    let addr = format!("{host}:{port}");
    let err = |source| ImapError::Connect {
        addr: addr.clone(),
        source,
    };
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host name has no address");
    for sa in (host, port).to_socket_addrs().map_err(err)? {
        match TcpStream::connect_timeout(&sa, timeout) {
            Ok(s) => {
                s.set_read_timeout(Some(timeout)).map_err(err)?;
                s.set_write_timeout(Some(timeout)).map_err(err)?;
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(err(last))
}

/// Wraps a TCP stream in TLS and completes the handshake now, so that a
/// certificate problem is reported as such and not as a read error later.
fn tls_wrap(
    mut tcp: Timed,
    host: &str,
    settings: &TlsSettings,
    account: &str,
) -> Result<Stream, ImapError> {
    let addr = tcp
        .tcp
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| host.to_string());
    let terr = |detail: String| ImapError::Tls {
        addr: addr.clone(),
        detail,
    };
    let config = client_config(settings).map_err(|e| terr(format!("{e:#}")))?;
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| terr(format!("bad server name `{host}`: {e}")))?;
    let mut conn = ClientConnection::new(config, name).map_err(|e| terr(e.to_string()))?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            // X11a: in words, with what to do; never rustls' Debug text.
            return Err(terr(match rustls_error(&e) {
                Some(t) => explain(t, Advice::imap(account)),
                None if e.kind() == io::ErrorKind::UnexpectedEof
                    || e.kind() == io::ErrorKind::ConnectionReset =>
                {
                    format!(
                        "the server closed the connection during the TLS handshake ({e}). TLS to a plain-text port? {}",
                        Advice::imap(account).plain_port
                    )
                }
                None => e.to_string(),
            }));
        }
    }
    let clock = tcp.clock.clone();
    Ok(Stream::new(
        Wire::Tls(Box::new(StreamOwned::new(conn, tcp))),
        clock,
    ))
}

/// Issues STARTTLS on a fresh plain connection before the IMAP client sees it.
fn starttls(mut tcp: Timed, addr: &str) -> Result<Timed, ImapError> {
    let perr = |detail: String| ImapError::Protocol {
        addr: addr.to_string(),
        detail,
    };
    let mut reader = BufReader::new(&mut tcp);
    let mut line = String::new();
    read_line_bounded(&mut reader, &mut line)
        .map_err(|e| perr(format!("reading the greeting: {e}")))?;
    if !line.starts_with("* OK") {
        return Err(perr(format!("unexpected greeting `{}`", line.trim_end())));
    }
    reader
        .get_mut()
        .write_all(b"s1 STARTTLS\r\n")
        .map_err(|e| perr(e.to_string()))?;
    loop {
        line.clear();
        if read_line_bounded(&mut reader, &mut line).map_err(|e| perr(e.to_string()))? == 0 {
            return Err(perr(
                "the server closed the connection after STARTTLS".into(),
            ));
        }
        if let Some(rest) = line.strip_prefix("s1 ") {
            if rest.starts_with("OK") {
                break;
            }
            return Err(perr(format!(
                "the server does not offer STARTTLS ({}); use tls = \"tls\" with port 993",
                rest.trim_end()
            )));
        }
    }
    if !reader.buffer().is_empty() {
        return Err(perr(
            "the server sent data before the TLS handshake (STARTTLS injection?)".into(),
        ));
    }
    drop(reader);
    Ok(tcp)
}

/// `read_line`, refusing a line longer than [`LINE_MAX`] (X12).
fn read_line_bounded(r: &mut impl BufRead, line: &mut String) -> io::Result<usize> {
    let n = r.take(LINE_MAX as u64).read_line(line)?;
    if n == LINE_MAX && !line.ends_with('\n') {
        return Err(Bound::Line(LINE_MAX).error());
    }
    Ok(n)
}

/// Connects and logs in: exactly one LOGIN attempt (X2).
///
/// # Errors
/// [`ImapError::Auth`] for refused credentials, other variants for
/// connection, TLS and protocol failures.
pub fn connect(account: &MailAccount, password: &Secret) -> Result<Session, ImapError> {
    connect_with_handle(account, password).map(|(s, _)| s)
}

/// [`connect`], also returning a handle on the session's stream.
fn connect_with_handle(
    account: &MailAccount,
    password: &Secret,
) -> Result<(Session, Stream), ImapError> {
    let host = account.host.as_deref().unwrap_or("");
    let port = account.port();
    let addr = format!("{host}:{port}");
    let timeout = Duration::from_secs(account.timeout.max(1));
    let settings = TlsSettings {
        ca_file: account.ca_file.clone(),
        fingerprint: account.tls_fingerprint.clone(),
        insecure_skip_verify: account.insecure_skip_verify,
    };
    // X13: connecting (greeting, STARTTLS, TLS, LOGIN) and then every
    // command take at most `deadline` each.
    let clock = Clock::new(timeout, Duration::from_secs(account.deadline.max(1)));
    let tcp = Timed::new(tcp(host, port, timeout)?, clock.clone());
    let (stream, greeting) = match account.tls {
        TlsMode::Tls => (tls_wrap(tcp, host, &settings, account.name())?, true),
        TlsMode::Starttls => (
            tls_wrap(starttls(tcp, &addr)?, host, &settings, account.name())?,
            false,
        ),
        TlsMode::None => (Stream::new(Wire::Plain(tcp), clock), true),
    };
    let handle = stream.clone();
    let mut client = imap::Client::new(stream);
    if greeting {
        client.read_greeting().map_err(|e| ImapError::Protocol {
            addr: addr.clone(),
            detail: format!(
                "reading the greeting: {}",
                invalid_answer(&e, &handle).unwrap_or_else(|| e.to_string())
            ),
        })?;
    }
    let login = account.login.as_deref().unwrap_or(account.user());
    let words = handle.clone();
    client
        .login(login, password.expose())
        .map(|s| (s, handle))
        .map_err(|(e, _)| match e {
            imap::Error::No(no) => ImapError::Auth(no.information),
            imap::Error::Bad(bad) => ImapError::Auth(bad.information),
            other => ImapError::Protocol {
                addr: addr.clone(),
                detail: format!(
                    "during LOGIN: {}",
                    invalid_answer(&other, &words).unwrap_or_else(|| other.to_string())
                ),
            },
        })
}

// ---------------------------------------------------------------------------
// ImapSource: the MailSource over one IMAP session
// ---------------------------------------------------------------------------

const LIST_ALL: &str = "LIST \"\" \"*\"";

/// At most this many messages per `UID FETCH ... (BODY.PEEK[])`.
pub const FETCH_BATCH_MESSAGES: usize = 200;
/// At most about this many bytes (by RFC822.SIZE) per body batch; a bigger
/// message is fetched alone. Bounds memory: one batch's response is held at
/// a time.
pub const FETCH_BATCH_BYTES: u64 = 20 << 20;
/// At most this many UIDs per `UID FETCH ... (UID RFC822.SIZE)` in a listing.
pub const LIST_BATCH: usize = 2000;
/// At most this many messages per `UID FETCH ... (BODY.PEEK[HEADER])`.
pub const HEADER_BATCH_MESSAGES: usize = 500;
/// At most this many UIDs per `UID STORE`, `UID MOVE`, `UID COPY` and
/// `UID EXPUNGE`: even uncompressible, the command line stays under ~6 KB
/// (servers limit lines to 8 KB and more).
pub const UID_BATCH: usize = 500;

/// One mailbox from `LIST`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    /// The name as the server spelt it (modified UTF-7, its delimiter).
    wire: String,
    /// [`FolderInfo::name`] form: decoded, `/`-separated.
    display: String,
    /// `\Noselect` / `\NonExistent` mailboxes hold no mail.
    selectable: bool,
    delimiter: Option<String>,
    /// The name is printable US-ASCII, so it can be sent back as listed.
    /// Raw 8-bit bytes (Latin-1 or UTF-8 from a legacy server) or control
    /// characters cannot be named in a command: such folders are skipped
    /// with a warning (M21).
    sendable: bool,
}

impl Listed {
    /// The name as the server lists it, for messages (M20): decoded from
    /// modified UTF-7 but with the server's delimiter (`INBOX.CRM Import`);
    /// bytes that are not printable ASCII as `\xNN`.
    fn shown(&self) -> String {
        if self.sendable {
            utf7::decode(&self.wire).unwrap_or_else(|_| self.wire.clone())
        } else {
            self.wire.clone()
        }
    }
}

/// The folder open on the session.
#[derive(Debug, Clone)]
struct Open {
    folder: String,
    /// SELECT (true) or EXAMINE (false).
    read_write: bool,
    exists: u32,
    /// PERMANENTFLAGS contains `\*`: new keywords are kept.
    keywords: bool,
    /// PERMANENTFLAGS, lower-cased.
    permanent: Vec<String>,
}

/// A [`MailSource`] over one IMAP session, used as a fast client would:
/// one `LIST` for all folders, `EXAMINE` to read (never sets `\Seen`),
/// `SELECT` only to mark or move, bodies by `UID FETCH ... (BODY.PEEK[])`
/// in batches of compressed UID sets, flags by `UID STORE +FLAGS.SILENT`.
///
/// Mailbox names are decoded from and encoded to modified UTF-7
/// ([`super::utf7`]) and sent as escaped quoted strings, so no folder name
/// can inject a command. After a connection error (timeout, hang-up, a
/// response the parser does not understand) the session refuses further
/// commands: reconnect.
pub struct ImapSource {
    session: Session,
    /// The session's stream, for [`FetchReader`].
    raw: Stream,
    /// `host:port`, for messages.
    addr: String,
    /// Seconds of the read timeout, for messages.
    timeout: u64,
    /// The last `LIST "" "*"`, plus folders created since.
    listed: Option<Vec<Listed>>,
    /// The server's hierarchy delimiter (None: flat, or not listed yet).
    delimiter: Option<String>,
    /// The personal namespace (RFC 2342) and delimiter, from NAMESPACE
    /// (asked once, with the first LIST) and LIST (M20).
    naming: Naming,
    namespace_known: bool,
    /// M21: folders skipped because their names cannot be sent back.
    warnings: Vec<String>,
    open: Option<Open>,
    /// UIDVALIDITY seen by [`MailSource::select`] per folder: a later SELECT
    /// for mark/move must see the same, or the caller's UIDs mean other
    /// messages.
    validity: HashMap<String, u32>,
    /// Upper-cased CAPABILITY atoms, asked for once when first needed.
    capabilities: Option<Vec<String>>,
    /// What the last read-write SELECT said about keywords.
    keywords: Option<bool>,
    /// Set when the connection is unusable: the reason.
    broken: Option<String>,
}

impl fmt::Debug for ImapSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapSource")
            .field("addr", &self.addr)
            .field("open", &self.open)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl ImapSource {
    /// Connects and logs in (see [`connect`]).
    ///
    /// # Errors
    /// [`SourceError::Auth`] when the server refuses the credentials (the
    /// caller blocks the account, X2); [`SourceError::Other`] for
    /// connection, TLS and protocol failures.
    pub fn connect(account: &MailAccount, password: &Secret) -> Result<ImapSource, SourceError> {
        let (session, raw) = connect_with_handle(account, password).map_err(|e| match e {
            ImapError::Auth(detail) => SourceError::Auth(detail),
            other => SourceError::Other(format!("mail account `{}`: {other}", account.name())),
        })?;
        Ok(ImapSource {
            session,
            raw,
            addr: format!(
                "{}:{}",
                account.host.as_deref().unwrap_or(""),
                account.port()
            ),
            timeout: account.timeout.max(1),
            listed: None,
            delimiter: None,
            naming: Naming::default(),
            namespace_known: false,
            warnings: Vec::new(),
            open: None,
            validity: HashMap::new(),
            capabilities: None,
            keywords: None,
            broken: None,
        })
    }

    /// M20 for `crmsync check` and `init`: the configured folders that exist
    /// in none of their forms (as written), and every folder as the server
    /// lists it.
    ///
    /// # Errors
    /// Connection and protocol errors of NAMESPACE and LIST.
    pub fn missing_folders(
        &mut self,
        configured: &[String],
    ) -> Result<(Vec<String>, Vec<String>), SourceError> {
        self.listed = None;
        self.ensure_listed()?;
        let listed = self.listed.as_deref().unwrap_or_default();
        let exists = |c: &String| {
            listed
                .iter()
                .any(|l| l.display == *c || crate::source::mail::is_below(&l.display, c))
        };
        let missing = configured
            .iter()
            .filter(|c| !self.naming.candidates(c).iter().any(exists))
            .cloned()
            .collect();
        Ok((missing, listed.iter().map(Listed::shown).collect()))
    }

    /// True when the server announced this capability (e.g. `MOVE`).
    ///
    /// # Errors
    /// Connection errors while asking (once per session).
    pub fn has_capability(&mut self, name: &str) -> Result<bool, SourceError> {
        if self.capabilities.is_none() {
            self.usable("", "CAPABILITY")?;
            let data = self
                .session
                .run_command_and_read_response("CAPABILITY")
                .map_err(|e| self.fail("", "CAPABILITY", e))?;
            self.capabilities = Some(parse_capabilities(&data));
        }
        Ok(self
            .capabilities
            .as_ref()
            .is_some_and(|c| c.iter().any(|x| x.eq_ignore_ascii_case(name))))
    }

    /// Refuses commands on a broken connection.
    fn usable(&self, folder: &str, cmd: &str) -> Result<(), SourceError> {
        match &self.broken {
            None => Ok(()),
            Some(why) => Err(SourceError::Other(format!(
                "{}{cmd} not sent: the connection to {} broke earlier ({why}); reconnect",
                in_folder(folder),
                self.addr
            ))),
        }
    }

    /// Turns an `imap` error into a [`SourceError`] naming folder and command.
    /// A NO or BAD is about the folder; anything else leaves the connection
    /// in an unknown state, so it is marked broken.
    fn fail(&mut self, folder: &str, cmd: &str, e: imap::Error) -> SourceError {
        let why = match &e {
            // X12, X13: a bound of ours; what is left of the answer is
            // neither wanted nor waited for.
            imap::Error::Io(io) if Bound::of(io).is_some() => {
                self.raw.shutdown();
                format!(
                    "{}; the connection was closed",
                    Bound::of(io).map(Bound::to_string).unwrap_or_default()
                )
            }
            imap::Error::Io(io)
                if matches!(
                    io.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                format!(
                    "no answer within {} s (timeout); if the server is just slow, raise `timeout` for this account",
                    self.timeout
                )
            }
            imap::Error::ConnectionLost => "the server closed the connection".to_string(),
            imap::Error::No(no) => format!("the server said NO: {}", no.information),
            imap::Error::Bad(bad) => format!("the server said BAD: {}", bad.information),
            other => invalid_answer(other, &self.raw).unwrap_or_else(|| match other {
                imap::Error::Bye(bye) => format!("the server said BYE: {}", bye.information),
                other => other.to_string(),
            }),
        };
        let detail = format!("{cmd} on {}: {why}", self.addr);
        let folder = &self.shown(folder);
        match e {
            imap::Error::No(_) | imap::Error::Bad(_) if !folder.is_empty() => SourceError::Folder {
                folder: folder.clone(),
                detail,
            },
            imap::Error::No(_) | imap::Error::Bad(_) => SourceError::Other(detail),
            _ => {
                self.broken = Some(detail.clone());
                self.open = None;
                SourceError::Other(format!("{}{detail}", in_folder(folder)))
            }
        }
    }

    /// Sends a command whose answer the `imap` crate might not parse and
    /// reads the untagged responses itself ([`FetchReader::read_untagged`]):
    /// the crate fails the whole command on one LIST line with 8-bit bytes
    /// in a name, which would fail the whole account (M21).
    fn raw_command(&mut self, cmd: &str) -> Result<Vec<u8>, SourceError> {
        self.usable("", cmd)?;
        if let Err(e) = self.session.run_command(cmd) {
            return Err(self.fail("", cmd, e));
        }
        let limits = Literals::any(ANSWER_MAX);
        let mut reader = FetchReader::new(&self.raw, &limits);
        let result = reader.read_untagged();
        reader.finish();
        result.map_err(|e| match e {
            Raw::No(info) => SourceError::Other(format!(
                "{cmd} on {}: the server said NO: {info}",
                self.addr
            )),
            Raw::Bad(info) => SourceError::Other(format!(
                "{cmd} on {}: the server said BAD: {info}",
                self.addr
            )),
            Raw::Io(e) => self.fail("", cmd, e),
            // X12: a literal in the answer over what any answer may take.
            Raw::Refused(why) => {
                self.raw.shutdown();
                let detail = format!("{cmd} on {}: {why}; the connection was closed", self.addr);
                self.broken = Some(detail.clone());
                self.open = None;
                SourceError::Other(detail)
            }
        })
    }

    /// The one `LIST "" "*"` (cached until [`MailSource::folders`] asks
    /// again); the first also asks for the NAMESPACE (RFC 2342, M20). A
    /// name that cannot be sent back is left out and warned about (M21).
    fn ensure_listed(&mut self) -> Result<(), SourceError> {
        if self.listed.is_some() {
            return Ok(());
        }
        if !self.namespace_known {
            if self.has_capability("NAMESPACE")? {
                match self.raw_command("NAMESPACE") {
                    Ok(data) => self.naming.personal = parse_namespace(&data).unwrap_or_default(),
                    // Refused (NO/BAD): names are taken as listed.
                    Err(_) if self.broken.is_none() => {}
                    Err(e) => return Err(e),
                }
            }
            self.namespace_known = true;
        }
        let data = self.raw_command(LIST_ALL)?;
        let (listed, unsendable): (Vec<Listed>, Vec<Listed>) =
            parse_list(&data).into_iter().partition(|l| l.sendable);
        for l in unsendable {
            let w = format!(
                "folder `{}` (as the server lists it) is skipped: its name is not modified UTF-7 \
                 (RFC 3501 5.1.3; raw 8-bit or control bytes), so it cannot be named back to {} (M21); \
                 rename it in a mail client to import it",
                l.shown(),
                self.addr
            );
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
        self.delimiter = listed.iter().find_map(|l| l.delimiter.clone());
        self.naming.delimiter = self.delimiter.as_deref().and_then(|d| d.chars().next());
        self.listed = Some(listed);
        Ok(())
    }

    /// A listed folder by any name users may give it (M20).
    fn find_listed(&self, folder: &str) -> Option<&Listed> {
        let listed = self.listed.as_ref()?;
        self.naming
            .candidates(folder)
            .into_iter()
            .find_map(|c| listed.iter().find(|l| l.display == c))
    }

    /// A folder as the server lists it, for messages (M20): `INBOX.CRM
    /// Import` on a server with `.` as delimiter, where crmsync's display
    /// name is `INBOX/CRM Import`.
    fn shown(&self, folder: &str) -> String {
        self.find_listed(folder)
            .map_or_else(|| folder.to_string(), Listed::shown)
    }

    /// The server's spelling of a display name: as listed, else encoded with
    /// the server's delimiter, in the personal namespace (a folder crmsync
    /// creates goes where the user's folders are: `INBOX.CRM Archive` on
    /// Cyrus classic, where a top-level name is a shared folder; M20).
    fn wire_name(&mut self, folder: &str) -> Result<String, SourceError> {
        let folder = normalize(folder);
        if folder == "INBOX" {
            return Ok(folder);
        }
        if self.listed.is_none() {
            self.ensure_listed()?; // learn the delimiter and namespace
        }
        if let Some(l) = self.find_listed(&folder) {
            return Ok(l.wire.clone());
        }
        let mut name = folder.clone();
        // Written as the server lists names (`INBOX.CRM Archive`).
        if let Some(d) = self.naming.delimiter.filter(|d| *d != '/') {
            let server_prefix = self.naming.personal.replace('/', &d.to_string());
            if !server_prefix.is_empty() && name.starts_with(&server_prefix) {
                name = normalize(&name.replace(d, "/"));
            }
        }
        if !self.naming.personal.is_empty() && !name.starts_with(&self.naming.personal) {
            name = format!("{}{name}", self.naming.personal);
        }
        to_wire(&name, self.delimiter.as_deref()).map_err(|detail| SourceError::Folder {
            folder: folder.clone(),
            detail,
        })
    }

    /// Opens `folder`: EXAMINE to read, SELECT to change flags. Nothing is
    /// sent when it is open in a sufficient mode already.
    fn ensure_open(&mut self, folder: &str, write: bool) -> Result<(), SourceError> {
        let folder = normalize(folder);
        if let Some(o) = &self.open
            && o.folder == folder
            && (o.read_write || !write)
        {
            return Ok(());
        }
        self.open_folder(&folder, write).map(|_| ())
    }

    fn open_folder(&mut self, folder: &str, write: bool) -> Result<FolderStatus, SourceError> {
        let verb = if write { "SELECT" } else { "EXAMINE" };
        self.usable(folder, verb)?;
        let wire = self.wire_name(folder)?;
        let quoted = quote(&wire).map_err(|detail| SourceError::Folder {
            folder: folder.to_string(),
            detail,
        })?;
        // A failed SELECT/EXAMINE leaves no folder open (RFC 3501 6.3.1).
        self.open = None;
        let (data, tagged) = self
            .session
            .run(format!("{verb} {quoted}"))
            .map_err(|e| self.fail(folder, verb, e))?;
        let sel = parse_select(&data, tagged);
        let folder_err = |detail: String| SourceError::Folder {
            folder: folder.to_string(),
            detail,
        };
        let Some(validity) = sel.uid_validity else {
            return Err(folder_err(format!(
                "{verb} on {}: the server sent no UIDVALIDITY, so imported mail cannot be remembered",
                self.addr
            )));
        };
        if write {
            if sel.read_only {
                return Err(folder_err(format!(
                    "SELECT on {}: the folder is read-only for this login; crmsync cannot mark or move its messages",
                    self.addr
                )));
            }
            if let Some(&seen) = self.validity.get(folder)
                && seen != validity
            {
                return Err(folder_err(format!(
                    "SELECT on {}: UIDVALIDITY changed from {seen} to {validity} since the folder was read, \
                     so the UIDs now mean other messages; nothing was changed, and the next run reads the folder again",
                    self.addr
                )));
            }
            self.keywords = Some(sel.keywords);
        }
        self.open = Some(Open {
            folder: folder.to_string(),
            read_write: write,
            exists: sel.exists,
            keywords: sel.keywords,
            permanent: sel.permanent,
        });
        Ok(FolderStatus {
            validity: validity.to_string(),
            uid_next: sel.uid_next,
            exists: sel.exists,
        })
    }
}

impl ImapSource {
    /// Creates (and subscribes) `folder` unless LIST shows it already.
    fn ensure_folder(&mut self, folder: &str) -> Result<(), SourceError> {
        let folder = normalize(folder);
        if folder == "INBOX" {
            return Ok(());
        }
        self.ensure_listed()?;
        if self.find_listed(&folder).is_some_and(|l| l.selectable) {
            return Ok(());
        }
        let wire = self.wire_name(&folder)?;
        let quoted = quote(&wire).map_err(|detail| SourceError::Folder {
            folder: folder.clone(),
            detail,
        })?;
        self.usable(&folder, "CREATE")?;
        match self
            .session
            .run_command_and_check_ok(format!("CREATE {quoted}"))
        {
            Ok(()) => {}
            // Created meanwhile by someone else? Then all is well.
            Err(imap::Error::No(no)) => {
                let data = self
                    .session
                    .run_command_and_read_response(format!("LIST \"\" {quoted}"))
                    .map_err(|e| self.fail(&folder, "LIST", e))?;
                if !parse_list(&data)
                    .iter()
                    .any(|l| l.wire == wire && l.selectable)
                {
                    return Err(SourceError::Folder {
                        folder,
                        detail: format!(
                            "CREATE on {}: the server said NO: {}; create the folder by hand or choose another",
                            self.addr, no.information
                        ),
                    });
                }
            }
            Err(e) => return Err(self.fail(&folder, "CREATE", e)),
        }
        // Without a subscription many clients hide the folder; a refusal
        // does not matter for crmsync.
        match self
            .session
            .run_command_and_check_ok(format!("SUBSCRIBE {quoted}"))
        {
            Ok(()) | Err(imap::Error::No(_) | imap::Error::Bad(_)) => {}
            Err(e) => return Err(self.fail(&folder, "SUBSCRIBE", e)),
        }
        let delimiter = self.delimiter.clone();
        if let Some(listed) = &mut self.listed {
            let display = display_name(&wire, delimiter.as_deref());
            listed.retain(|l| l.display != display);
            listed.push(Listed {
                wire,
                display,
                selectable: true,
                delimiter,
                sendable: true,
            });
        }
        Ok(())
    }

    /// Streams bodies or headers in batches (see [`MailSource::fetch`]).
    fn fetch_batched(
        &mut self,
        folder: &str,
        ids: &[MsgRef],
        part: Part,
        sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
    ) -> Result<(), SourceError> {
        let mut refs = with_uids(folder, ids)?;
        if refs.is_empty() {
            return Ok(());
        }
        refs.sort_by_key(|(uid, _)| *uid);
        refs.dedup_by_key(|(uid, _)| *uid);
        self.ensure_open(folder, false)?;
        let (max_messages, max_bytes) = match part {
            Part::Body => (FETCH_BATCH_MESSAGES, FETCH_BATCH_BYTES),
            Part::Header => (HEADER_BATCH_MESSAGES, u64::MAX),
        };
        for batch in batches(&refs, max_messages, max_bytes) {
            self.fetch_batch(folder, batch, part, sink)?;
        }
        Ok(())
    }

    fn fetch_batch(
        &mut self,
        folder: &str,
        batch: &[(u32, &MsgRef)],
        part: Part,
        sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
    ) -> Result<(), SourceError> {
        let uids: Vec<u32> = batch.iter().map(|(uid, _)| *uid).collect();
        let set = uid_set(&uids);
        let cmd = format!("UID FETCH {} {}", short(&set), part.query());
        self.usable(folder, &cmd)?;
        match self.raw_fetch(&set, part, &Literals::of(batch)) {
            Ok(fetched) => deliver(fetched, batch, sink),
            // X12: a literal over what the server announced; the rest of
            // the answer is not read.
            Err(Raw::Refused(why)) => {
                self.raw.shutdown();
                let detail = format!(
                    "{cmd} on {}: {why}; nothing of this batch was imported and the connection was closed",
                    self.addr
                );
                self.broken = Some(detail.clone());
                self.open = None;
                Err(SourceError::Other(format!("{}{detail}", in_folder(folder))))
            }
            // Some message of the batch vanished (Dovecot: NO [EXPUNGEISSUED]
            // after sending the others): one by one, skipping the vanished.
            Err(Raw::No(_)) if batch.len() > 1 => {
                for one in batch {
                    self.fetch_batch(folder, std::slice::from_ref(one), part, sink)?;
                }
                Ok(())
            }
            Err(Raw::No(info)) => {
                let uid = uids[0];
                // Expunged by another session, but still numbered in ours.
                let expunged = info.to_ascii_uppercase().contains("EXPUNGEISSUED");
                if !expunged && self.uid_exists(folder, uid)? {
                    Err(SourceError::Folder {
                        folder: folder.to_string(),
                        detail: format!("{cmd} on {}: the server said NO: {info}", self.addr),
                    })
                } else {
                    Ok(()) // vanished meanwhile
                }
            }
            Err(Raw::Bad(info)) => Err(SourceError::Folder {
                folder: folder.to_string(),
                detail: format!("{cmd} on {}: the server said BAD: {info}", self.addr),
            }),
            Err(Raw::Io(e)) => Err(self.fail(folder, &cmd, e)),
        }
    }

    /// `UID FETCH set (UID BODY.PEEK[])` (or the header), sent through the
    /// session but answered through [`FetchReader`]: the `imap` crate reads
    /// a response line by line and parses it again from its start after
    /// every line, some 600 times for a 45 KB message (41 % of a cold
    /// import's CPU, docs/PERFORMANCE.md); this reads each literal by its
    /// length in one go. Returns (UID, data) in the server's order.
    fn raw_fetch(
        &mut self,
        set: &str,
        part: Part,
        limits: &Literals,
    ) -> Result<Vec<(u32, Vec<u8>)>, Raw> {
        self.session
            .run_command(format!("UID FETCH {set} {}", part.query()))
            .map_err(Raw::Io)?;
        // X12: the literals are bounded one by one below; the lines
        // between them by LINE_MAX, all of it by this.
        self.raw.allow_now(limits.total.saturating_add(ANSWER_MAX));
        let mut reader = FetchReader::new(&self.raw, limits);
        let result = reader.read_fetch();
        reader.finish();
        result
    }

    /// Whether a UID is still in the open folder.
    fn uid_exists(&mut self, folder: &str, uid: u32) -> Result<bool, SourceError> {
        let cmd = format!("UID SEARCH UID {uid}");
        match self.session.uid_search(format!("UID {uid}")) {
            Ok(found) => Ok(found.contains(&uid)),
            Err(e) => Err(self.fail(folder, &cmd, e)),
        }
    }

    /// Runs a tagged command that answers only OK, naming it in errors.
    fn simple(&mut self, folder: &str, cmd: &str, shown: &str) -> Result<(), SourceError> {
        self.usable(folder, shown)?;
        self.session
            .run_command_and_check_ok(cmd)
            .map_err(|e| self.fail(folder, shown, e))
    }
}

/// What [`ImapSource::fetch_batched`] fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Body,
    Header,
}

impl Part {
    fn query(self) -> &'static str {
        match self {
            Part::Body => "(UID BODY.PEEK[])",
            Part::Header => "(UID BODY.PEEK[HEADER])",
        }
    }
}

/// Hands each fetched message of `batch` to the sink, once, in the order
/// the server sent them; unsolicited FETCH responses (flag changes of other
/// messages) and messages without data are passed over.
fn deliver(
    fetched: Vec<(u32, Vec<u8>)>,
    batch: &[(u32, &MsgRef)],
    sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
) -> Result<(), SourceError> {
    let mut done: HashSet<u32> = HashSet::new();
    for (uid, data) in fetched {
        let Ok(i) = batch.binary_search_by_key(&uid, |(u, _)| *u) else {
            continue;
        };
        if !done.insert(uid) {
            continue;
        }
        sink(batch[i].1, data).map_err(|e| SourceError::Other(format!("{e:#}")))?;
    }
    Ok(())
}

/// How a FETCH read by [`FetchReader`] ended, when not with OK.
#[derive(Debug)]
enum Raw {
    No(String),
    Bad(String),
    /// The connection failed (lost, timed out, BYE, garbage, a bound of
    /// [`Bound`]): as the crate says it, for [`ImapSource::fail`].
    Io(imap::Error),
    /// X12: a literal larger than its message was announced; why, naming
    /// the UID.
    Refused(String),
}

/// X12: the margin over a message's announced size (RFC822.SIZE) that
/// its literal may have: half as much again plus 64 KiB (for servers that
/// count line ends short, or a header added in between).
pub fn literal_allowed(announced: u64) -> u64 {
    announced
        .saturating_add(announced / 2)
        .saturating_add(64 << 10)
}

/// X12: what the literals of one FETCH answer may hold.
#[derive(Debug, Clone)]
struct Literals {
    /// The UIDs asked for with their announced sizes; None: any UID (the
    /// fuzz target).
    announced: Option<HashMap<u32, u64>>,
    /// A literal whose UID is not known yet (or was not asked for) may
    /// have this much: [`literal_allowed`] of the largest announced.
    fallback: u64,
    /// All literals of the answer together.
    total: u64,
}

impl Literals {
    fn of(batch: &[(u32, &MsgRef)]) -> Literals {
        let announced: HashMap<u32, u64> = batch.iter().map(|(u, m)| (*u, m.size)).collect();
        let largest = announced.values().copied().max().unwrap_or(0);
        Literals {
            fallback: literal_allowed(largest),
            total: announced
                .values()
                .fold(0u64, |t, &s| t.saturating_add(literal_allowed(s))),
            announced: Some(announced),
        }
    }

    fn any(limit: u64) -> Literals {
        Literals {
            announced: None,
            fallback: limit,
            total: limit,
        }
    }

    fn wanted(&self, uid: u32) -> bool {
        self.announced.as_ref().is_none_or(|a| a.contains_key(&uid))
    }
}

/// Reads one FETCH command's answer from the session's stream: lines, and
/// each literal by its announced length (docs/PERFORMANCE.md, issue 8),
/// within the bounds of X12: no line over [`LINE_MAX`], no literal over
/// what its message was announced at ([`literal_allowed`]), and only the
/// first data of each UID asked for is kept.
/// Bytes read past the tagged completion go back to the stream.
struct FetchReader<'a> {
    stream: &'a Stream,
    buf: Vec<u8>,
    pos: usize,
    limits: &'a Literals,
    /// What the literals may still take in all.
    left: u64,
}

/// Read size: large enough that a 45 KB message is a few reads.
const READ_CHUNK: usize = 256 * 1024;

/// The largest literal [`FetchReader`] takes whatever was announced (mails
/// are fetched whole only below `max_size`, M4; larger ones are outlined).
const MAX_LITERAL: usize = 1 << 31;

impl<'a> FetchReader<'a> {
    fn new(stream: &'a Stream, limits: &'a Literals) -> FetchReader<'a> {
        FetchReader {
            stream,
            buf: Vec::new(),
            pos: 0,
            limits,
            left: limits.total,
        }
    }

    /// More bytes from the wire (what was consumed is dropped first, so
    /// offsets from `pos` stay valid); ConnectionLost at its end.
    fn fill(&mut self) -> Result<(), Raw> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + READ_CHUNK, 0);
        let mut s = self.stream.clone();
        let n = loop {
            match s.read(&mut self.buf[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(start);
                    return Err(Raw::Io(imap::Error::Io(e)));
                }
            }
        };
        self.buf.truncate(start + n);
        if n == 0 {
            return Err(Raw::Io(imap::Error::ConnectionLost));
        }
        Ok(())
    }

    /// One line, with its CRLF; X12: at most [`LINE_MAX`] bytes.
    fn line(&mut self) -> Result<Vec<u8>, Raw> {
        // Bytes after `pos` already searched for the line end.
        let mut scanned = 0;
        loop {
            let from = self.pos + scanned;
            if let Some(nl) = self.buf[from..].iter().position(|&b| b == b'\n') {
                let end = from + nl + 1;
                if end - self.pos > LINE_MAX {
                    return Err(line_too_long());
                }
                let line = self.buf[self.pos..end].to_vec();
                self.pos = end;
                return Ok(line);
            }
            scanned = self.buf.len() - self.pos;
            if scanned > LINE_MAX {
                return Err(line_too_long());
            }
            self.fill()?;
        }
    }

    /// Exactly `n` bytes. The capacity grows with what arrives: a
    /// literal announced as `{999999999999}` is not an allocation.
    fn bytes(&mut self, n: usize) -> Result<Vec<u8>, Raw> {
        let mut out = Vec::with_capacity(n.min(READ_CHUNK * 64));
        loop {
            let take = (n - out.len()).min(self.buf.len() - self.pos);
            out.extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            if out.len() == n {
                return Ok(out);
            }
            self.fill()?;
        }
    }

    /// Reads past `n` bytes (a literal not kept).
    fn skip(&mut self, mut n: usize) -> Result<(), Raw> {
        loop {
            let take = n.min(self.buf.len() - self.pos);
            self.pos += take;
            n -= take;
            if n == 0 {
                return Ok(());
            }
            self.fill()?;
        }
    }

    /// X12: refuses a literal of `n` bytes announced after `text` (the
    /// response so far) when it is larger than its message was announced,
    /// before any of it is read.
    fn check_literal(&mut self, text: &[u8], n: usize) -> Result<(), Raw> {
        let n64 = n as u64;
        let uid = fetch_uid(&text.to_ascii_uppercase());
        let announced = uid.and_then(|u| self.limits.announced.as_ref()?.get(&u).copied());
        let limit = announced.map_or(self.limits.fallback, literal_allowed);
        let what = match (uid, announced) {
            (Some(u), Some(a)) => format!(
                "UID {u}: the server announced {a} bytes (RFC822.SIZE) but sends a literal of {n} bytes for it"
            ),
            (Some(u), None) => {
                format!("UID {u}, not asked for: the server sends a literal of {n} bytes")
            }
            (None, _) => format!("the server sends a literal of {n} bytes before naming its UID"),
        };
        if n > MAX_LITERAL || n64 > limit {
            return Err(Raw::Refused(format!(
                "{what}, more than the {} bytes crmsync takes (X12): a broken or hostile server; \
                 look at this message on the server (move it out of the imported folders) or ask \
                 the server's administrator; the next run tries it again",
                limit.min(MAX_LITERAL as u64)
            )));
        }
        if n64 > self.left {
            return Err(Raw::Refused(format!(
                "{what}; the answer's literals add up to more than the {} bytes crmsync takes \
                 for this batch (X12): a broken or hostile server; ask the server's administrator",
                self.limits.total
            )));
        }
        self.left -= n64;
        Ok(())
    }

    /// One whole response: its text without the literals, and its first
    /// literal (the others are read past).
    fn response(&mut self) -> Result<(Vec<u8>, Option<Vec<u8>>), Raw> {
        let mut text = Vec::new();
        let mut first = None;
        loop {
            let line = self.line()?;
            let trimmed = line.strip_suffix(b"\n").unwrap_or(&line);
            let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
            if text.len() + trimmed.len() > LINE_MAX {
                return Err(line_too_long());
            }
            match literal_len(trimmed) {
                Some(n) => {
                    let open = trimmed.iter().rposition(|&b| b == b'{').unwrap_or(0);
                    text.extend_from_slice(&trimmed[..open]);
                    text.extend_from_slice(b"{}");
                    self.check_literal(&text, n)?;
                    if first.is_none() {
                        first = Some(self.bytes(n)?);
                    } else {
                        self.skip(n)?;
                    }
                }
                None => {
                    text.extend_from_slice(trimmed);
                    return Ok((text, first));
                }
            }
        }
    }

    /// The FETCH answers up to the tagged completion: (UID, first literal)
    /// of each UID asked for, once.
    fn read_fetch(&mut self) -> Result<Vec<(u32, Vec<u8>)>, Raw> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        loop {
            let (text, literal) = self.response()?;
            if let Some(rest) = text.strip_prefix(b"* ") {
                if strip_prefix_ci(rest, b"BYE").is_some() {
                    return Err(Raw::Io(imap::Error::ConnectionLost));
                }
                let upper = rest.to_ascii_uppercase();
                let is_fetch = upper.windows(7).any(|w| w == b" FETCH ");
                if is_fetch
                    && let Some(uid) = fetch_uid(&upper)
                    && self.limits.wanted(uid)
                {
                    let data = match literal {
                        Some(l) => Some(l),
                        None if upper.windows(4).any(|w| w == b"] \"\"") => Some(Vec::new()),
                        None => None,
                    };
                    if let Some(data) = data
                        && seen.insert(uid)
                    {
                        out.push((uid, data));
                    }
                }
                continue;
            }
            if text.starts_with(b"+") {
                return Err(Raw::Io(imap::Error::ConnectionLost));
            }
            // The tagged completion: `<tag> OK|NO|BAD text`.
            let mut parts = text.splitn(3, |&b| b == b' ');
            let _tag = parts.next();
            let status = parts.next().unwrap_or_default().to_ascii_uppercase();
            let info = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
            return match status.as_slice() {
                b"OK" => Ok(out),
                b"NO" => Err(Raw::No(info)),
                b"BAD" => Err(Raw::Bad(info)),
                _ => Err(Raw::Bad(String::from_utf8_lossy(&text).into_owned())),
            };
        }
    }

    /// Every untagged response up to the tagged completion, bytes as the
    /// server sent them (literals inline), for [`ImapSource::raw_command`].
    fn read_untagged(&mut self) -> Result<Vec<u8>, Raw> {
        let mut out = Vec::new();
        loop {
            let mut resp = Vec::new();
            loop {
                let line = self.line()?;
                resp.extend_from_slice(&line);
                let trimmed = line.strip_suffix(b"\n").unwrap_or(&line);
                let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
                match literal_len(trimmed) {
                    Some(n) => resp.extend_from_slice(&self.bytes(n)?),
                    None => break,
                }
            }
            if let Some(rest) = resp.strip_prefix(b"* ") {
                if strip_prefix_ci(rest, b"BYE").is_some() {
                    return Err(Raw::Io(imap::Error::ConnectionLost));
                }
                out.extend_from_slice(&resp);
                continue;
            }
            if resp.starts_with(b"+") {
                return Err(Raw::Io(imap::Error::ConnectionLost));
            }
            let text = String::from_utf8_lossy(&resp);
            let mut parts = text.trim_end().splitn(3, ' ');
            let _tag = parts.next();
            let status = parts.next().unwrap_or_default().to_ascii_uppercase();
            let info = parts.next().unwrap_or_default().to_string();
            return match status.as_str() {
                "OK" => Ok(out),
                "NO" => Err(Raw::No(info)),
                "BAD" => Err(Raw::Bad(info)),
                _ => Err(Raw::Bad(text.trim_end().to_string())),
            };
        }
    }

    /// Gives what was read past the answer back to the stream.
    fn finish(self) {
        self.stream.unread(&self.buf[self.pos..]);
    }
}

/// X12: a line over [`LINE_MAX`], as the connection error it becomes.
fn line_too_long() -> Raw {
    Raw::Io(imap::Error::Io(Bound::Line(LINE_MAX).error()))
}

/// Fuzz entry (issue 9): a server's answer to a body FETCH, as bytes,
/// through [`FetchReader`]; an error is fine, a panic is a bug.
#[doc(hidden)]
pub fn fuzz_fetch_answer(data: &[u8]) {
    let clock = Clock::new(Duration::from_secs(60), Duration::from_secs(600));
    let stream = Stream::new(Wire::Memory(io::Cursor::new(data.to_vec())), clock);
    let limits = Literals::any(16 << 20);
    let mut r = FetchReader::new(&stream, &limits);
    let _ = r.read_fetch();
    r.finish();
}

/// The UID of an upper-cased FETCH response text (`... (UID 42 BODY[] {})`).
fn fetch_uid(upper: &[u8]) -> Option<u32> {
    let at = upper.windows(4).position(|w| w == b"UID ")?;
    // Not the tail of another atom (e.g. `XUID `).
    if at > 0 && !matches!(upper[at - 1], b'(' | b' ') {
        return None;
    }
    let digits: Vec<u8> = upper[at + 4..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

/// Splits UID-sorted refs into batches of at most `max_messages` and, past
/// the first message, `max_bytes` by RFC822.SIZE.
fn batches<'a, 'b>(
    refs: &'a [(u32, &'b MsgRef)],
    max_messages: usize,
    max_bytes: u64,
) -> Vec<&'a [(u32, &'b MsgRef)]> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < refs.len() {
        let mut end = start;
        let mut bytes = 0u64;
        while end < refs.len()
            && end - start < max_messages.max(1)
            && (end == start || bytes.saturating_add(refs[end].1.size) <= max_bytes)
        {
            bytes = bytes.saturating_add(refs[end].1.size);
            end += 1;
        }
        out.push(&refs[start..end]);
        start = end;
    }
    out
}

/// The UIDs of these refs (the UID, else the id parsed as one).
fn with_uids<'a>(folder: &str, ids: &'a [MsgRef]) -> Result<Vec<(u32, &'a MsgRef)>, SourceError> {
    ids.iter()
        .map(|r| match r.uid.or_else(|| r.id.parse().ok()) {
            Some(uid) if uid > 0 => Ok((uid, r)),
            _ => Err(SourceError::Other(format!(
                "{}message `{}` has no IMAP UID (is it from a Maildir?)",
                in_folder(folder),
                r.id
            ))),
        })
        .collect()
}

/// Sorted, de-duplicated UIDs.
fn sorted_uids(folder: &str, ids: &[MsgRef]) -> Result<Vec<u32>, SourceError> {
    let mut uids: Vec<u32> = with_uids(folder, ids)?
        .into_iter()
        .map(|(u, _)| u)
        .collect();
    uids.sort_unstable();
    uids.dedup();
    Ok(uids)
}

impl MailSource for ImapSource {
    fn folders(
        &mut self,
        configured: &[String],
        include_subfolders: bool,
        prefix: &str,
        parent: Option<&str>,
    ) -> Result<Vec<FolderInfo>, SourceError> {
        self.listed = None; // always fresh: folders appear and go
        self.ensure_listed()?;
        let listed = self.listed.as_deref().unwrap_or_default();
        select_folders(
            listed,
            configured,
            include_subfolders,
            prefix,
            parent,
            &self.naming,
            &self.addr,
        )
    }

    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn server_name(&self, folder: &str) -> String {
        self.shown(folder)
    }

    fn select(&mut self, folder: &str) -> Result<FolderStatus, SourceError> {
        let folder = normalize(folder);
        let status = self.open_folder(&folder, false)?;
        if let Ok(v) = status.validity.parse() {
            self.validity.insert(folder, v);
        }
        Ok(status)
    }

    fn list(&mut self, folder: &str, after: Option<u32>) -> Result<Vec<MsgRef>, SourceError> {
        self.ensure_open(folder, false)?;
        if self.open.as_ref().is_some_and(|o| o.exists == 0) {
            return Ok(Vec::new());
        }
        let first = match after {
            None => 1,
            Some(u32::MAX) => return Ok(Vec::new()),
            Some(n) => n + 1,
        };
        // The UIDs first, then their sizes in batches: one FETCH of `n:*`
        // made the crate hold about 2.4 KB per message at once, and the
        // allocator kept that peak for the whole run (docs/PERFORMANCE.md:
        // 241 MB at 100,000 mails).
        let cmd = format!("UID SEARCH UID {first}:*");
        self.usable(folder, &cmd)?;
        let found = self
            .session
            .uid_search(format!("UID {first}:*"))
            .map_err(|e| self.fail(folder, &cmd, e))?;
        drop(self.session.take_all_unsolicited());
        // `n:*` always includes the highest UID, even below n.
        let mut uids: Vec<u32> = found.into_iter().filter(|&u| u >= first).collect();
        uids.sort_unstable();
        let query = "(UID RFC822.SIZE)";
        let mut out: Vec<MsgRef> = Vec::with_capacity(uids.len());
        for chunk in uids.chunks(LIST_BATCH) {
            let set = uid_set(chunk);
            let cmd = format!("UID FETCH {} {query}", short(&set));
            self.usable(folder, &cmd)?;
            let fetches = self
                .session
                .uid_fetch(&set, query)
                .map_err(|e| self.fail(folder, &cmd, e))?;
            // A message expunged since the SEARCH is simply not listed.
            out.extend(fetches.iter().filter_map(|f| match (f.uid, f.size) {
                (Some(uid), Some(size)) if uid >= first => Some(MsgRef {
                    id: uid.to_string(),
                    uid: Some(uid),
                    size: u64::from(size),
                }),
                _ => None,
            }));
            drop(fetches);
            drop(self.session.take_all_unsolicited());
        }
        out.sort_by_key(|m| m.uid);
        out.dedup_by_key(|m| m.uid);
        Ok(out)
    }

    fn fetch(
        &mut self,
        folder: &str,
        ids: &[MsgRef],
        sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
    ) -> Result<(), SourceError> {
        self.fetch_batched(folder, ids, Part::Body, sink)
    }

    fn fetch_headers(
        &mut self,
        folder: &str,
        ids: &[MsgRef],
        sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
    ) -> Result<(), SourceError> {
        self.fetch_batched(folder, ids, Part::Header, sink)
    }

    /// From the PERMANENTFLAGS of the folder open read-write (`\*` allows
    /// new keywords), else of the last read-write SELECT. Before any SELECT
    /// (EXAMINE shows no PERMANENTFLAGS) it answers true, and
    /// [`MailSource::mark`] checks after its SELECT.
    fn supports_keywords(&self) -> bool {
        match &self.open {
            Some(o) if o.read_write => o.keywords,
            _ => self.keywords.unwrap_or(true),
        }
    }

    fn mark(&mut self, folder: &str, ids: &[MsgRef], keyword: &str) -> Result<(), SourceError> {
        check_keyword(keyword)?;
        let uids = sorted_uids(folder, ids)?;
        if uids.is_empty() {
            return Ok(());
        }
        self.ensure_open(folder, true)?;
        if let Some(o) = &self.open
            && !o.keywords
            && !o.permanent.iter().any(|f| f.eq_ignore_ascii_case(keyword))
        {
            return Err(SourceError::Other(format!(
                "folder `{folder}`: the server at {} does not keep new keywords here \
                 (PERMANENTFLAGS has no \\*), so `{keyword}` cannot be set; set `keyword = \"\"` \
                 for this account to stop marking (imported mail is remembered in the state file either way)",
                self.addr
            )));
        }
        for chunk in uids.chunks(UID_BATCH) {
            let set = uid_set(chunk);
            let cmd = format!("UID STORE {set} +FLAGS.SILENT ({keyword})");
            let shown = format!("UID STORE {} +FLAGS.SILENT ({keyword})", short(&set));
            self.simple(folder, &cmd, &shown)?;
        }
        Ok(())
    }

    fn move_to(&mut self, folder: &str, ids: &[MsgRef], target: &str) -> Result<(), SourceError> {
        let uids = sorted_uids(folder, ids)?;
        if uids.is_empty() || normalize(folder) == normalize(target) {
            return Ok(());
        }
        let has_move = self.has_capability("MOVE")?;
        if !has_move && !self.has_capability("UIDPLUS")? {
            return Err(SourceError::Other(format!(
                "folder `{folder}`: the server at {} has neither MOVE nor UIDPLUS, so crmsync cannot \
                 remove exactly the imported messages (a plain EXPUNGE would also delete others marked \
                 \\Deleted); nothing was moved; remove `archive_folder` from this account",
                self.addr
            )));
        }
        self.ensure_folder(target)?;
        let target_wire = self.wire_name(target)?;
        let quoted = quote(&target_wire).map_err(|detail| SourceError::Folder {
            folder: target.to_string(),
            detail,
        })?;
        self.ensure_open(folder, true)?;
        for chunk in uids.chunks(UID_BATCH) {
            let set = uid_set(chunk);
            let s = short(&set);
            if has_move {
                self.simple(
                    folder,
                    &format!("UID MOVE {set} {quoted}"),
                    &format!("UID MOVE {s} {quoted}"),
                )?;
            } else {
                // Copy first: nothing is flagged \Deleted without a copy.
                self.simple(
                    folder,
                    &format!("UID COPY {set} {quoted}"),
                    &format!("UID COPY {s} {quoted}"),
                )?;
                self.simple(
                    folder,
                    &format!("UID STORE {set} +FLAGS.SILENT (\\Deleted)"),
                    &format!("UID STORE {s} +FLAGS.SILENT (\\Deleted)"),
                )?;
                self.simple(
                    folder,
                    &format!("UID EXPUNGE {set}"),
                    &format!("UID EXPUNGE {s}"),
                )?;
            }
        }
        Ok(())
    }

    fn append(&mut self, folder: &str, raw: &[u8]) -> Result<(), SourceError> {
        let folder = normalize(folder);
        self.ensure_folder(&folder)?;
        let wire = self.wire_name(&folder)?;
        let quoted = quote(&wire).map_err(|detail| SourceError::Folder {
            folder: folder.clone(),
            detail,
        })?;
        self.usable(&folder, "APPEND")?;
        // The crate writes `APPEND "<name>" () {n}` without escaping the
        // name: hand it the escaped inside of our quoted string.
        let inner = &quoted[1..quoted.len() - 1];
        match self.session.append(inner, raw).finish() {
            Ok(_) => {
                // Its EXISTS count is stale now: the next list() re-opens it.
                if self.open.as_ref().is_some_and(|o| o.folder == folder) {
                    self.open = None;
                }
                Ok(())
            }
            // The server answered something other than `+` to the literal:
            // what was read is unknown, so the connection is not trusted.
            Err(imap::Error::Append) => {
                let detail = format!(
                    "APPEND on {}: the server refused the message before it was sent",
                    self.addr
                );
                self.broken = Some(detail.clone());
                self.open = None;
                Err(SourceError::Folder { folder, detail })
            }
            Err(e) => Err(self.fail(&folder, "APPEND", e)),
        }
    }

    fn can_outline(&self) -> bool {
        true
    }

    fn fetch_outline(
        &mut self,
        folder: &str,
        msg: &MsgRef,
        max_text: u64,
    ) -> Result<Option<Outline>, SourceError> {
        let Some((uid, _)) = with_uids(folder, std::slice::from_ref(msg))?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        self.ensure_open(folder, false)?;
        // 1. The header and the part tree (sizes, types, file names).
        let query = "(UID BODYSTRUCTURE BODY.PEEK[HEADER])";
        let cmd = format!("UID FETCH {uid} {query}");
        self.usable(folder, &cmd)?;
        let first = self
            .session
            .uid_fetch(uid.to_string(), query)
            .map_err(|e| self.fail(folder, &cmd, e))?;
        let Some(f) = first.iter().find(|f| f.uid == Some(uid)) else {
            return Ok(None); // vanished meanwhile
        };
        let (Some(header), Some(bs)) = (f.header(), f.bodystructure()) else {
            return Err(SourceError::Other(format!(
                "{}UID {uid}: the server sent no BODYSTRUCTURE or header for a message over max_size",
                in_folder(folder)
            )));
        };
        let header = header.to_vec();
        let mut leaves = Vec::new();
        outline_leaves(bs, &mut Vec::new(), &mut leaves);
        let tree = OutlineTree::of(bs);
        drop(first);
        let text_octets: u64 = leaves.iter().filter(|l| l.text).map(|l| l.octets).sum();
        let text_size = header.len() as u64 + text_octets;
        let attachments = leaves
            .iter()
            .filter(|l| !l.text)
            .map(|l| OutlinePart {
                name: l.name.clone(),
                media_type: l.media_type.clone(),
                size: if l.base64 { l.octets / 4 * 3 } else { l.octets },
            })
            .collect();
        if text_size > max_text {
            // Too large even without attachments (M4): the header suffices.
            return Ok(Some(Outline {
                raw: header,
                text_size,
                attachments,
            }));
        }
        // 2. The MIME headers of every part and the bytes of the text parts.
        let mut items = Vec::new();
        tree.sections(&mut Vec::new(), &mut items);
        let query = format!("(UID {})", items.join(" "));
        let cmd = format!("UID FETCH {uid} (... {} sections)", items.len());
        self.usable(folder, &cmd)?;
        // X12: the text parts (at most max_text) and the part headers.
        self.raw.allow_next(text_size.saturating_add(ANSWER_MAX));
        let second = self
            .session
            .uid_fetch(uid.to_string(), &query)
            .map_err(|e| self.fail(folder, &cmd, e))?;
        let Some(f) = second.iter().find(|f| f.uid == Some(uid)) else {
            return Ok(None);
        };
        let mut raw = Vec::with_capacity(text_size as usize + 1024);
        tree.build(&header, f, &mut Vec::new(), &mut raw);
        drop(second);
        drop(self.session.take_all_unsolicited());
        Ok(Some(Outline {
            raw,
            text_size,
            attachments,
        }))
    }

    fn has_message_id(&mut self, folder: &str, message_id: &str) -> Result<bool, SourceError> {
        let folder = normalize(folder);
        let quoted = quote(message_id).map_err(|detail| {
            SourceError::Other(format!(
                "Message-ID {message_id:?} cannot be searched for: {detail}"
            ))
        })?;
        self.ensure_open(&folder, false)?;
        let query = format!("HEADER Message-ID {quoted}");
        let cmd = format!("UID SEARCH {query}");
        self.usable(&folder, &cmd)?;
        match self.session.uid_search(&query) {
            Ok(found) => Ok(!found.is_empty()),
            Err(e) => Err(self.fail(&folder, &cmd, e)),
        }
    }

    fn connection_lost(&self) -> bool {
        self.broken.is_some()
    }

    fn close(&mut self) {
        if self.broken.is_none() {
            let _ = self.session.logout();
        }
        self.broken = Some("the session was closed".into());
        self.open = None;
    }
}

// ---------------------------------------------------------------------------
// M4 outlines from BODYSTRUCTURE
// ---------------------------------------------------------------------------

/// A leaf part of a BODYSTRUCTURE.
#[derive(Debug)]
struct Leaf {
    /// Body text (text/plain or text/html, not an attachment).
    text: bool,
    octets: u64,
    base64: bool,
    name: Option<String>,
    media_type: String,
}

fn param<'a>(params: &'a imap_proto::types::BodyParams<'_>, key: &str) -> Option<&'a str> {
    params
        .as_ref()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_ref())
}

/// As `parse::mail` decides: text/plain and text/html parts without a file
/// name and not `Content-Disposition: attachment` are body text; every
/// other leaf (nested mails included) is an attachment.
fn outline_leaves(
    bs: &imap_proto::types::BodyStructure<'_>,
    path: &mut Vec<u32>,
    out: &mut Vec<Leaf>,
) {
    use imap_proto::types::BodyStructure as B;
    let (common, other, text_type) = match bs {
        B::Multipart { bodies, .. } => {
            for (i, b) in bodies.iter().enumerate() {
                path.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
                outline_leaves(b, path, out);
                path.pop();
            }
            return;
        }
        B::Text { common, other, .. } => (common, other, true),
        B::Basic { common, other, .. } | B::Message { common, other, .. } => (common, other, false),
    };
    let media_type = format!("{}/{}", common.ty.ty, common.ty.subtype).to_ascii_lowercase();
    let name = common
        .disposition
        .as_ref()
        .and_then(|d| param(&d.params, "filename"))
        .or_else(|| param(&common.ty.params, "name"))
        .map(str::to_string);
    let attachment_disposition = common
        .disposition
        .as_ref()
        .is_some_and(|d| d.ty.eq_ignore_ascii_case("attachment"));
    let text = text_type
        && matches!(media_type.as_str(), "text/plain" | "text/html")
        && name.is_none()
        && !attachment_disposition;
    out.push(Leaf {
        text,
        octets: u64::from(other.octets),
        base64: matches!(
            other.transfer_encoding,
            imap_proto::types::ContentEncoding::Base64
        ),
        name,
        media_type,
    });
}

/// The MIME tree of a message, for the stand-in of an [`Outline`].
#[derive(Debug)]
enum OutlineTree {
    Multipart {
        boundary: String,
        children: Vec<OutlineTree>,
    },
    Leaf {
        text: bool,
    },
}

impl OutlineTree {
    fn of(bs: &imap_proto::types::BodyStructure<'_>) -> OutlineTree {
        use imap_proto::types::BodyStructure as B;
        match bs {
            B::Multipart { common, bodies, .. } => OutlineTree::Multipart {
                boundary: param(&common.ty.params, "boundary")
                    .unwrap_or("crmsync-outline")
                    .to_string(),
                children: bodies.iter().map(OutlineTree::of).collect(),
            },
            other => {
                let mut l = Vec::new();
                outline_leaves(other, &mut Vec::new(), &mut l);
                OutlineTree::Leaf {
                    text: l.first().is_some_and(|l| l.text),
                }
            }
        }
    }

    /// FETCH items: `BODY.PEEK[n.MIME]` for every part below the top,
    /// `BODY.PEEK[n]` for text leaves (`[1]` for a one-part message).
    fn sections(&self, path: &mut Vec<u32>, out: &mut Vec<String>) {
        let dotted = |p: &[u32]| p.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
        if !path.is_empty() {
            out.push(format!("BODY.PEEK[{}.MIME]", dotted(path)));
        }
        match self {
            OutlineTree::Multipart { children, .. } => {
                for (i, c) in children.iter().enumerate() {
                    path.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
                    c.sections(path, out);
                    path.pop();
                }
            }
            OutlineTree::Leaf { text: true } if path.is_empty() => {
                out.push("BODY.PEEK[1]".to_string());
            }
            OutlineTree::Leaf { text: true } => out.push(format!("BODY.PEEK[{}]", dotted(path))),
            OutlineTree::Leaf { text: false } => {}
        }
    }

    /// Writes the stand-in message: headers and boundaries as the server
    /// has them, text bodies fetched, attachment bodies empty.
    fn build(
        &self,
        top: &[u8],
        f: &imap::types::Fetch<'_>,
        path: &mut Vec<u32>,
        out: &mut Vec<u8>,
    ) {
        use imap_proto::types::{MessageSection, SectionPath};
        if path.is_empty() {
            out.extend_from_slice(top);
        } else if let Some(h) =
            f.section(&SectionPath::Part(path.clone(), Some(MessageSection::Mime)))
        {
            out.extend_from_slice(h);
        } else {
            out.extend_from_slice(b"\r\n");
        }
        match self {
            OutlineTree::Multipart { boundary, children } => {
                for (i, c) in children.iter().enumerate() {
                    out.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
                    path.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
                    c.build(top, f, path, out);
                    path.pop();
                }
                out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            }
            OutlineTree::Leaf { text: true } => {
                let p = if path.is_empty() {
                    vec![1]
                } else {
                    path.clone()
                };
                if let Some(body) = f.section(&SectionPath::Part(p, None)) {
                    out.extend_from_slice(body);
                }
            }
            OutlineTree::Leaf { text: false } => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Pure helpers: names, UID sets, response parsing, folder selection
// ---------------------------------------------------------------------------

/// `folder `X`: ` for messages, or nothing for account-wide commands.
fn in_folder(folder: &str) -> String {
    if folder.is_empty() {
        String::new()
    } else {
        format!("folder `{folder}`: ")
    }
}

/// A display name with `INBOX` (any case) as the first level spelt `INBOX`
/// and no trailing `/`.
fn normalize(name: &str) -> String {
    crate::source::mail::normalize_folder(name)
}

/// Display name (decoded, `/`-separated) of a wire name. A name that is not
/// valid modified UTF-7 is shown as the server sent it.
fn display_name(wire: &str, delimiter: Option<&str>) -> String {
    let decoded = utf7::decode(wire).unwrap_or_else(|_| wire.to_string());
    let slashed = match delimiter {
        Some(d) if d != "/" && !d.is_empty() => decoded.replace(d, "/"),
        _ => decoded,
    };
    normalize(&slashed)
}

/// Wire name of a display name not seen in LIST: levels joined with the
/// server's delimiter, encoded to modified UTF-7.
fn to_wire(display: &str, delimiter: Option<&str>) -> Result<String, String> {
    let display = normalize(display);
    let joined = match delimiter {
        Some(d) if d != "/" && !d.is_empty() => {
            if display.contains(d) {
                return Err(format!(
                    "the name contains `{d}`, the server's hierarchy delimiter; use `/` between levels and choose a name without `{d}`"
                ));
            }
            display.replace('/', d)
        }
        _ => display,
    };
    Ok(utf7::encode(&joined))
}

/// An IMAP quoted string: `"` and `\` escaped. Refuses control characters
/// (a CR or LF would end the command line) and 8-bit text, which a quoted
/// string cannot carry; [`utf7::encode`] output never has either.
fn quote(wire: &str) -> Result<String, String> {
    if let Some(c) = wire.chars().find(|c| c.is_control() || !c.is_ascii()) {
        return Err(format!(
            "the mailbox name `{}` holds the character {c:?}, which cannot be sent in a command",
            wire.escape_debug()
        ));
    }
    let mut out = String::with_capacity(wire.len() + 2);
    out.push('"');
    for c in wire.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// A UID set for messages: `1:50,53`.
fn short(set: &str) -> String {
    const MAX: usize = 40;
    if set.len() <= MAX {
        return set.to_string();
    }
    let cut = set[..MAX].rfind(',').unwrap_or(MAX);
    format!("{},...", &set[..cut])
}

/// Compresses sorted, de-duplicated UIDs into an IMAP set: `1:50,53`.
fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end.wrapping_add(1) {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end == start {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// A keyword is an IMAP atom not starting with `\` (RFC 3501 flag-keyword).
fn check_keyword(keyword: &str) -> Result<(), SourceError> {
    let bad = keyword.is_empty()
        || keyword.starts_with('\\')
        || keyword
            .chars()
            .any(|c| !c.is_ascii_graphic() || "(){%*\"\\]".contains(c));
    if bad {
        return Err(SourceError::Other(format!(
            "`{}` is not a valid IMAP keyword: use letters, digits and `$_-.`, e.g. \"$CRMImported\" (config: mail.keyword)",
            keyword.escape_debug()
        )));
    }
    Ok(())
}

/// Splits untagged response bytes into whole responses: a line plus the
/// literals (`{n}` at a line end) it announces.
fn split_responses(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    while pos < data.len() {
        let Some(nl) = data[pos..].iter().position(|&b| b == b'\n') else {
            out.push(&data[start..]);
            return out;
        };
        let end = pos + nl;
        let line = &data[pos..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(n) = literal_len(line) {
            pos = (end + 1).saturating_add(n).min(data.len());
            continue;
        }
        out.push(&data[start..=end]);
        pos = end + 1;
        start = pos;
    }
    if start < data.len() {
        out.push(&data[start..]);
    }
    out
}

/// `n` when a line ends with the literal announcement `{n}` or `{n+}`.
fn literal_len(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let digits = &body[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || digits.len() > 12 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn strip_prefix_ci<'a>(data: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    (data.len() >= prefix.len() && data[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &data[prefix.len()..])
}

/// A quoted string at the start of `data`, unescaped; and the rest.
fn parse_quoted(data: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut out = Vec::new();
    let mut i = 1;
    if data.first() != Some(&b'"') {
        return None;
    }
    while i < data.len() {
        match data[i] {
            b'\\' => {
                out.push(*data.get(i + 1)?);
                i += 2;
            }
            b'"' => return Some((out, &data[i + 1..])),
            b'\r' | b'\n' => return None,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

/// An astring (atom, quoted string or literal) at the start of `data`.
fn parse_astring(data: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    match data.first()? {
        b'"' => parse_quoted(data),
        b'{' => {
            let close = data.iter().position(|&b| b == b'}')?;
            let n = literal_len(&data[..=close])?;
            let rest = data[close + 1..].strip_prefix(b"\r\n")?;
            (rest.len() >= n).then(|| (rest[..n].to_vec(), &rest[n..]))
        }
        _ => {
            let end = data
                .iter()
                .position(|&b| matches!(b, b' ' | b'\r' | b'\n' | b'(' | b')'))
                .unwrap_or(data.len());
            (end > 0).then(|| (data[..end].to_vec(), &data[end..]))
        }
    }
}

/// The mailboxes in a LIST response; what does not parse is passed over.
fn parse_list(data: &[u8]) -> Vec<Listed> {
    split_responses(data)
        .into_iter()
        .filter_map(parse_list_entry)
        .collect()
}

/// `* LIST (<attributes>) <delimiter> <name>`.
fn parse_list_entry(resp: &[u8]) -> Option<Listed> {
    let rest = strip_prefix_ci(resp, b"* LIST (")?;
    let close = rest.iter().position(|&b| b == b')')?;
    let attributes = String::from_utf8_lossy(&rest[..close]).to_ascii_lowercase();
    let selectable = !attributes
        .split_whitespace()
        .any(|a| a == "\\noselect" || a == "\\nonexistent");
    let rest = rest[close + 1..].strip_prefix(b" ")?;
    let (delimiter, rest) = match strip_prefix_ci(rest, b"NIL") {
        Some(rest) => (None, rest),
        None => {
            let (d, rest) = parse_quoted(rest)?;
            (Some(String::from_utf8_lossy(&d).into_owned()), rest)
        }
    };
    let rest = rest.strip_prefix(b" ")?;
    let (name, _) = parse_astring(rest)?;
    let sendable = name.iter().all(|b| (0x20..0x7f).contains(b));
    let wire = if sendable {
        String::from_utf8_lossy(&name).into_owned()
    } else {
        name.iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("\\x{b:02X}")
                }
            })
            .collect()
    };
    Some(Listed {
        display: display_name(&wire, delimiter.as_deref()),
        wire,
        selectable,
        delimiter,
        sendable,
    })
}

/// The personal namespace's prefix from a NAMESPACE response (RFC 2342) as
/// a display name with a trailing `/` (`INBOX.` becomes `INBOX/`), or empty
/// (no personal namespace, or one without a prefix).
fn parse_namespace(data: &[u8]) -> Option<String> {
    let resp = split_responses(data)
        .into_iter()
        .find_map(|r| strip_prefix_ci(r, b"* NAMESPACE "))?;
    let rest = resp.strip_prefix(b"((")?;
    let (prefix, rest) = parse_astring(rest)?;
    let rest = rest.strip_prefix(b" ")?;
    let delimiter = match strip_prefix_ci(rest, b"NIL") {
        Some(_) => None,
        None => Some(String::from_utf8_lossy(&parse_quoted(rest)?.0).into_owned()),
    };
    let prefix = String::from_utf8_lossy(&prefix).into_owned();
    let trimmed = match delimiter.as_deref() {
        Some(d) if !d.is_empty() => prefix.strip_suffix(d).unwrap_or(&prefix),
        _ => prefix.as_str(),
    };
    let display = display_name(trimmed, delimiter.as_deref());
    Some(if display.is_empty() {
        String::new()
    } else {
        format!("{display}/")
    })
}

/// What SELECT/EXAMINE said.
#[derive(Debug, Default, PartialEq, Eq)]
struct Selected {
    exists: u32,
    uid_validity: Option<u32>,
    uid_next: Option<u32>,
    /// PERMANENTFLAGS, lower-cased.
    permanent: Vec<String>,
    /// PERMANENTFLAGS contains `\*`.
    keywords: bool,
    read_only: bool,
}

/// Parses a SELECT/EXAMINE response; `tagged` is where the tagged line starts.
fn parse_select(data: &[u8], tagged: usize) -> Selected {
    let mut sel = Selected::default();
    let tagged = tagged.min(data.len());
    for resp in split_responses(&data[..tagged]) {
        let line = String::from_utf8_lossy(resp);
        let line = line.trim_end();
        let Some(rest) = line.strip_prefix("* ") else {
            continue;
        };
        if let Some((n, what)) = rest.split_once(' ')
            && what.eq_ignore_ascii_case("EXISTS")
        {
            sel.exists = n.parse().unwrap_or(0);
            continue;
        }
        let Some(code) = strip_prefix_ci(rest.as_bytes(), b"OK [") else {
            continue;
        };
        let code = String::from_utf8_lossy(code);
        let code = code.split(']').next().unwrap_or("");
        let (name, arg) = code.split_once(' ').unwrap_or((code, ""));
        match name.to_ascii_uppercase().as_str() {
            "UIDVALIDITY" => sel.uid_validity = arg.trim().parse().ok(),
            "UIDNEXT" => sel.uid_next = arg.trim().parse().ok(),
            "PERMANENTFLAGS" => {
                sel.permanent = arg
                    .trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .split_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect();
                sel.keywords = sel.permanent.iter().any(|f| f == "\\*");
            }
            _ => {}
        }
    }
    let done = String::from_utf8_lossy(&data[tagged..]).to_ascii_uppercase();
    sel.read_only = done.contains("[READ-ONLY]");
    sel
}

/// The atoms of `* CAPABILITY ...`, upper-cased.
fn parse_capabilities(data: &[u8]) -> Vec<String> {
    split_responses(data)
        .into_iter()
        .filter_map(|r| strip_prefix_ci(r, b"* CAPABILITY "))
        .flat_map(|r| {
            String::from_utf8_lossy(r)
                .split_whitespace()
                .map(str::to_ascii_uppercase)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// M1 and M2 over one LIST (see [`MailSource::folders`]), by the rules
/// every source shares ([`crate::source::mail::choose_folders`]).
fn select_folders(
    listed: &[Listed],
    configured: &[String],
    include_subfolders: bool,
    prefix: &str,
    parent: Option<&str>,
    naming: &Naming,
    addr: &str,
) -> Result<Vec<FolderInfo>, SourceError> {
    let names: Vec<crate::source::mail::Listed> = listed
        .iter()
        .map(|l| crate::source::mail::Listed {
            name: l.display.clone(),
            selectable: l.selectable,
        })
        .collect();
    crate::source::mail::choose_folders_in(
        &names,
        configured,
        include_subfolders,
        prefix,
        parent,
        naming,
    )
    .map_err(|m| {
        // M20: as the server lists them.
        let mut have: Vec<String> = listed
            .iter()
            .filter(|l| l.selectable)
            .map(Listed::shown)
            .collect();
        have.sort_unstable();
        let more = have.len().saturating_sub(20);
        have.truncate(20);
        SourceError::Folder {
            folder: m.folder,
            detail: format!(
                "{} does not exist on {addr}; the server has: {}{}",
                m.what,
                have.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use super::*;

    /// A Stream over loopback TCP whose peer sends `answer`.
    fn answered(answer: &'static [u8]) -> Stream {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(answer).unwrap();
            std::thread::sleep(Duration::from_millis(200));
        });
        plain(TcpStream::connect(addr).unwrap())
    }

    /// A Stream over a plain socket, with `timeout = 5` and `deadline = 60`.
    fn plain(tcp: TcpStream) -> Stream {
        let clock = Clock::new(Duration::from_secs(5), Duration::from_secs(60));
        Stream::new(Wire::Plain(Timed::new(tcp, clock.clone())), clock)
    }

    /// Any UID, literals up to 1 MiB.
    fn any() -> Literals {
        Literals::any(1 << 20)
    }

    #[test]
    fn fetch_reader_reads_literals_by_length_and_gives_back_what_follows() {
        let stream = answered(
            b"* 1 FETCH (UID 7 BODY[] {12}\r\nline1\r\nline2)\r\n\
              * 2 FETCH (FLAGS (\\Seen))\r\n\
              * 3 EXPUNGE\r\n\
              * 4 FETCH (BODY[] {3}\r\n{1}  UID 9)\r\n\
              * 5 FETCH (UID 11 BODY[] \"\")\r\n\
              a5 OK Fetch completed.\r\n* 6 EXISTS\r\n",
        );
        let limits = any();
        let mut r = FetchReader::new(&stream, &limits);
        let got = r.read_fetch().unwrap();
        r.finish();
        assert_eq!(
            got,
            vec![
                (7, b"line1\r\nline2".to_vec()),
                (9, b"{1}".to_vec()),
                (11, Vec::new())
            ]
        );
        // What came after the completion is read next by the session.
        let mut rest = [0u8; 32];
        let n = stream.clone().read(&mut rest).unwrap();
        assert_eq!(&rest[..n], b"* 6 EXISTS\r\n");
    }

    /// The answer in pieces, each its own read: line ends, literals and
    /// the completion fall on read boundaries (the bench found this: 6,520
    /// of 10,000 mails, then a base64 line taken for the completion).
    #[test]
    fn fetch_reader_survives_every_read_boundary() {
        let answer: &[u8] = b"* 1 FETCH (UID 7 BODY[] {12}\r\nline1\r\nline2)\r\n* 2 FETCH (UID 8 BODY[] {3}\r\nabc)\r\na9 OK done\r\n";
        for cut in 1..answer.len() {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = l.local_addr().unwrap();
            let server = std::thread::spawn(move || {
                let (mut s, _) = l.accept().unwrap();
                s.set_nodelay(true).unwrap();
                for piece in answer.chunks(cut) {
                    s.write_all(piece).unwrap();
                    std::thread::sleep(Duration::from_millis(2));
                }
            });
            let stream = plain(TcpStream::connect(addr).unwrap());
            let got = FetchReader::new(&stream, &any()).read_fetch().unwrap();
            assert_eq!(
                got,
                vec![(7, b"line1\r\nline2".to_vec()), (8, b"abc".to_vec())],
                "pieces of {cut}"
            );
            server.join().unwrap();
        }
    }

    #[test]
    fn fetch_reader_reports_no_bad_and_a_cut_connection() {
        let read = |answer: &'static [u8]| {
            FetchReader::new(&answered(answer), &Literals::any(1 << 31)).read_fetch()
        };
        assert!(
            matches!(read(b"a1 NO [EXPUNGEISSUED] Some gone\r\n"), Err(Raw::No(m)) if m.contains("EXPUNGEISSUED"))
        );
        assert!(matches!(
            read(b"a1 BAD Error in IMAP command\r\n"),
            Err(Raw::Bad(_))
        ));
        assert!(matches!(
            read(b"* 1 FETCH (UID 7 BODY[] {100}\r\nonly a part"),
            Err(Raw::Io(imap::Error::ConnectionLost))
        ));
        assert!(matches!(read(b"* BYE shutting down\r\n"), Err(Raw::Io(_))));
        // A hostile announcement is refused, not allocated.
        assert!(matches!(
            read(b"* 1 FETCH (UID 7 BODY[] {999999999999}\r\nx"),
            Err(Raw::Refused(e)) if e.contains("999999999999")
        ));
        // A huge but acceptable one that never comes: the connection ends.
        assert!(matches!(
            read(b"* 1 FETCH (UID 7 BODY[] {2000000000}\r\nx"),
            Err(Raw::Io(imap::Error::ConnectionLost))
        ));
    }
    use crate::config::Config;

    fn listed(wire: &str, delimiter: Option<&str>, selectable: bool) -> Listed {
        Listed {
            wire: wire.to_string(),
            display: display_name(wire, delimiter),
            selectable,
            delimiter: delimiter.map(str::to_string),
            sendable: true,
        }
    }

    fn names(v: &[FolderInfo]) -> Vec<(&str, Option<&str>, bool)> {
        v.iter()
            .map(|f| (f.name.as_str(), f.status.as_deref(), f.import_folder))
            .collect()
    }

    #[test]
    fn uid_sets_are_compressed_into_ranges() {
        let mut v: Vec<u32> = (1..=50).collect();
        v.push(53);
        assert_eq!(uid_set(&v), "1:50,53");
        assert_eq!(uid_set(&[1, 3, 4, 5, 7]), "1,3:5,7");
        assert_eq!(uid_set(&[9]), "9");
        assert_eq!(uid_set(&[]), "");
        assert_eq!(uid_set(&[u32::MAX - 1, u32::MAX]), "4294967294:4294967295");
        let odd: Vec<u32> = (1..100).step_by(2).collect();
        assert_eq!(
            short(&uid_set(&odd)),
            "1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,..."
        );
        assert_eq!(short("1:50,53"), "1:50,53");
    }

    #[test]
    fn batches_respect_count_and_bytes() {
        let refs: Vec<MsgRef> = (1..=450)
            .map(|u| MsgRef {
                id: u.to_string(),
                uid: Some(u),
                size: if u == 10 { 50 << 20 } else { 1000 },
            })
            .collect();
        let pairs: Vec<(u32, &MsgRef)> = refs.iter().map(|r| (r.uid.unwrap(), r)).collect();
        let b = batches(&pairs, 200, 20 << 20);
        let lens: Vec<usize> = b.iter().map(|x| x.len()).collect();
        // The 50 MB message goes alone; the rest in batches of at most 200.
        assert_eq!(lens, vec![9, 1, 200, 200, 40]);
        assert_eq!(b[1][0].0, 10);
        let b = batches(&pairs[10..20], 200, 3500);
        assert_eq!(
            b.iter().map(|x| x.len()).collect::<Vec<_>>(),
            vec![3, 3, 3, 1]
        );
    }

    #[test]
    fn names_are_quoted_and_escaped_never_injected() {
        assert_eq!(quote("INBOX").unwrap(), "\"INBOX\"");
        assert_eq!(quote("a\"b\\c").unwrap(), "\"a\\\"b\\\\c\"");
        assert!(quote("x\r\n1 DELETE INBOX").is_err());
        assert!(quote("nul\0").is_err());
        assert!(quote("raw ü").is_err());
        // Through encoding, even a CR LF becomes harmless text.
        let wire = to_wire("x\r\n1 DELETE INBOX", Some("/")).unwrap();
        assert!(
            quote(&wire)
                .unwrap()
                .bytes()
                .all(|b| (0x20..0x7f).contains(&b))
        );
        assert_eq!(to_wire("Entwürfe", Some("/")).unwrap(), "Entw&APw-rfe");
        assert_eq!(
            to_wire("Archiv/Entwürfe", Some(".")).unwrap(),
            "Archiv.Entw&APw-rfe"
        );
        assert!(to_wire("v1.2", Some(".")).is_err());
        assert_eq!(to_wire("inbox/x", Some(".")).unwrap(), "INBOX.x");
    }

    #[test]
    fn keywords_must_be_atoms() {
        assert!(check_keyword("$CRMImported").is_ok());
        assert!(check_keyword("crm-imported_1.0").is_ok());
        for bad in ["", "\\Seen", "a b", "a)", "x\r\n", "ü", "a*", "a]"] {
            assert!(check_keyword(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn list_responses_parse_with_escapes_literals_and_delimiters() {
        let data = b"* LIST (\\HasNoChildren) \"/\" INBOX\r\n\
            * LIST (\\Noselect \\HasChildren) \"/\" \"CRM\"\r\n\
            * LIST (\\HasNoChildren) \"/\" \"CRM/CRM Done [E]\"\r\n\
            * LIST () \"/\" \"Quote\\\"d \\\\ back\"\r\n\
            * LIST () \"/\" {11}\r\nLit\"eral ok\r\n\
            * LIST (\\HasNoChildren \\Drafts) \"/\" Entw&APw-rfe\r\n\
            * LIST () NIL flat\r\n\
            * LIST (\\NonExistent) \"/\" gone\r\n\
            * 3 EXISTS\r\n\
            * LIST garbage\r\n";
        let l = parse_list(data);
        let got: Vec<(&str, &str, bool)> = l
            .iter()
            .map(|x| (x.wire.as_str(), x.display.as_str(), x.selectable))
            .collect();
        assert_eq!(
            got,
            vec![
                ("INBOX", "INBOX", true),
                ("CRM", "CRM", false),
                ("CRM/CRM Done [E]", "CRM/CRM Done [E]", true),
                ("Quote\"d \\ back", "Quote\"d \\ back", true),
                ("Lit\"eral ok", "Lit\"eral ok", true),
                ("Entw&APw-rfe", "Entwürfe", true),
                ("flat", "flat", true),
                ("gone", "gone", false),
            ]
        );
        assert_eq!(l[6].delimiter, None);
        // Courier-style: "." as delimiter, everything below INBOX.
        let l = parse_list(b"* LIST (\\HasChildren) \".\" \"inbox.Entw&APw-rfe.a/b\"\r\n");
        assert_eq!(l[0].display, "INBOX/Entwürfe/a/b");
        // Invalid modified UTF-7 is shown as sent, not dropped.
        let l = parse_list(b"* LIST () \"/\" \"bad&name\"\r\n");
        assert_eq!(l[0].display, "bad&name");
    }

    #[test]
    fn m21_list_lines_with_8bit_names_are_set_apart_and_the_rest_parses() {
        // Latin-1 `é` and a UTF-8 `ü`, raw, as legacy servers send them.
        let data = b"* LIST () \".\" \"INBOX.CRM Import.Legacy Caf\xe9\"\r\n\
            * LIST () \".\" {15}\r\nINBOX.Entw\xc3\xbcrfe\r\n\
            * LIST () \".\" \"INBOX.CRM Import\"\r\n";
        let l = parse_list(data);
        let got: Vec<(String, bool)> = l.iter().map(|x| (x.shown(), x.sendable)).collect();
        assert_eq!(
            got,
            vec![
                ("INBOX.CRM Import.Legacy Caf\\xE9".to_string(), false),
                ("INBOX.Entw\\xC3\\xBCrfe".to_string(), false),
                ("INBOX.CRM Import".to_string(), true),
            ]
        );
        assert_eq!(l[2].display, "INBOX/CRM Import");
    }

    #[test]
    fn m21_untagged_answers_are_read_raw_with_literals_and_8bit_bytes() {
        let stream = answered(
            b"* LIST () \"/\" \"Caf\xe9\"\r\n* LIST () \"/\" {3}\r\na b\r\n\
              a7 OK List completed.\r\n* 1 EXISTS\r\n",
        );
        let limits = Literals::any(ANSWER_MAX);
        let mut r = FetchReader::new(&stream, &limits);
        let got = r.read_untagged().unwrap();
        r.finish();
        assert_eq!(
            got,
            b"* LIST () \"/\" \"Caf\xe9\"\r\n* LIST () \"/\" {3}\r\na b\r\n".to_vec()
        );
        let mut rest = [0u8; 32];
        let n = stream.clone().read(&mut rest).unwrap();
        assert_eq!(&rest[..n], b"* 1 EXISTS\r\n");
        let stream = answered(b"a8 NO [CANNOT] nope\r\n");
        let limits = Literals::any(ANSWER_MAX);
        let mut r = FetchReader::new(&stream, &limits);
        assert!(matches!(r.read_untagged(), Err(Raw::No(info)) if info.contains("nope")));
        let stream = answered(b"* BYE shutting down\r\n");
        let limits = Literals::any(ANSWER_MAX);
        let mut r = FetchReader::new(&stream, &limits);
        assert!(matches!(r.read_untagged(), Err(Raw::Io(_))));
    }

    #[test]
    fn m20_namespace_answer_gives_the_personal_prefix() {
        let ns = |t: &[u8]| parse_namespace(t);
        assert_eq!(
            ns(b"* NAMESPACE ((\"INBOX.\" \".\")) ((\"user.\" \".\")) ((\"\" \".\"))\r\n"),
            Some("INBOX/".to_string())
        );
        assert_eq!(
            ns(b"* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"),
            Some(String::new())
        );
        assert_eq!(
            ns(b"* NAMESPACE ((\"inbox/\" \"/\" \"X-PARAM\" (\"a\"))) NIL NIL\r\n"),
            Some("INBOX/".to_string())
        );
        assert_eq!(ns(b"* NAMESPACE NIL NIL ((\"\" \".\"))\r\n"), None);
        assert_eq!(ns(b"* NAMESPACE garbage\r\n"), None);
    }

    #[test]
    fn select_and_examine_responses_parse() {
        let select = b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n\
            * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n\
            * 12 EXISTS\r\n* 0 RECENT\r\n\
            * NO [ALERT] quota nearly full\r\n\
            * OK [UIDVALIDITY 1700000001] UIDs valid\r\n\
            * OK [UIDNEXT 13] Predicted next UID\r\n";
        let mut data = select.to_vec();
        let tagged = data.len();
        data.extend_from_slice(b"a3 OK [READ-WRITE] Select completed.\r\n");
        let s = parse_select(&data, tagged);
        assert_eq!(s.exists, 12);
        assert_eq!(s.uid_validity, Some(1_700_000_001));
        assert_eq!(s.uid_next, Some(13));
        assert!(s.keywords);
        assert!(!s.read_only);
        let examine = b"* 0 EXISTS\r\n* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n\
            * OK [UIDVALIDITY 7] x\r\na4 OK [READ-ONLY] Examine completed.\r\n";
        let s = parse_select(examine, examine.len() - 38);
        assert_eq!((s.exists, s.uid_validity, s.uid_next), (0, Some(7), None));
        assert!(!s.keywords && s.read_only && s.permanent.is_empty());
    }

    #[test]
    fn capabilities_parse() {
        let c = parse_capabilities(b"* CAPABILITY IMAP4rev1 LITERAL+ uidplus MOVE\r\n");
        assert_eq!(c, vec!["IMAP4REV1", "LITERAL+", "UIDPLUS", "MOVE"]);
    }

    fn server() -> Vec<Listed> {
        vec![
            listed("INBOX", Some("/"), true),
            listed("INBOX/Sub", Some("/"), true),
            listed("CRM Import", Some("/"), true),
            listed("CRM Import/Customers", Some("/"), true),
            listed("CRM Import/Customers/2024", Some("/"), true),
            listed("CRM", Some("/"), false),
            listed("CRM/CRM Done [E]", Some("/"), true),
            listed("CRM/CRM Done [E]/Old", Some("/"), true),
            listed("CRM/CRM Offers sent [OS]", Some("/"), false),
            listed("CRM/CRM Offers sent [OS]/Q1", Some("/"), true),
            listed("CRM/Notes", Some("/"), true),
            listed("Other/CRM Lost [L]", Some("/"), true),
            listed("Entw&APw-rfe", Some("/"), true),
        ]
    }

    #[test]
    fn m1_configured_folders_with_subfolders_in_configured_order() {
        let l = server();
        let cfg = vec!["CRM Import".to_string(), "inbox".to_string()];
        let got = select_folders(
            &l,
            &cfg,
            true,
            "CRM",
            Some("Nowhere-but-ok"),
            &Naming::default(),
            "h:1",
        );
        assert!(
            matches!(got, Err(SourceError::Folder { ref folder, .. }) if folder == "Nowhere-but-ok")
        );
        let got = select_folders(
            &l,
            &cfg,
            true,
            "CRM",
            Some("CRM"),
            &Naming::default(),
            "h:1",
        )
        .unwrap();
        assert_eq!(
            names(&got),
            vec![
                ("CRM Import", None, true),
                ("CRM Import/Customers", None, true),
                ("CRM Import/Customers/2024", None, true),
                ("INBOX", None, false),
                ("INBOX/Sub", None, false),
                ("CRM/CRM Done [E]", Some("E"), true),
                ("CRM/CRM Done [E]/Old", Some("E"), true),
                ("CRM/CRM Offers sent [OS]/Q1", Some("OS"), true),
            ]
        );
        let got = select_folders(
            &l,
            &cfg,
            false,
            "CRM",
            Some("CRM"),
            &Naming::default(),
            "h:1",
        )
        .unwrap();
        assert_eq!(got.len(), 5);
        assert_eq!(got[1].name, "INBOX");
    }

    #[test]
    fn m2_without_parent_searches_the_whole_tree() {
        let l = server();
        let got = select_folders(
            &l,
            &["Entwürfe".to_string()],
            true,
            "CRM",
            None,
            &Naming::default(),
            "h:1",
        )
        .unwrap();
        let n: Vec<&str> = got.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            n,
            vec![
                "Entwürfe",
                "CRM/CRM Done [E]",
                "CRM/CRM Done [E]/Old",
                "CRM/CRM Offers sent [OS]/Q1",
                "Other/CRM Lost [L]"
            ]
        );
    }

    #[test]
    fn m1_missing_folder_is_a_folder_error_naming_it() {
        let l = server();
        let e = select_folders(
            &l,
            &["Nope".to_string()],
            true,
            "CRM",
            None,
            &Naming::default(),
            "h:1",
        )
        .unwrap_err();
        match e {
            SourceError::Folder { folder, detail } => {
                assert_eq!(folder, "Nope");
                assert!(detail.contains("does not exist on h:1"), "{detail}");
                assert!(detail.contains("Entwürfe"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        // A \Noselect parent exists: no error, but it is not imported.
        let got = select_folders(
            &l,
            &["CRM".to_string()],
            false,
            "X",
            None,
            &Naming::default(),
            "h:1",
        )
        .unwrap();
        assert!(got.is_empty());
    }

    // -- A scripted IMAP server on loopback, for faults Dovecot cannot show --

    enum Reply {
        /// Send this text (complete lines, `{tag}` replaced).
        Send(String),
        /// Send this text, then hang up.
        Close(String),
        /// Send this text, then go silent.
        Stall(String),
        /// Send this text a byte every 100 ms (for at most 60 s).
        Trickle(String),
    }

    type Log = Arc<Mutex<Vec<String>>>;

    /// Logs in anyone whose password is `pw`; answers other commands with
    /// `reply(command)`. Returns the port and the log of commands.
    fn fake_server(reply: impl Fn(&str) -> Reply + Send + 'static) -> (u16, Log) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log: Log = Arc::default();
        let log2 = log.clone();
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            stream.write_all(b"* OK fake ready\r\n").unwrap();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                // A literal: say go on, read it, and the rest of the line.
                while let Some(n) = literal_len(line.trim_end().as_bytes()) {
                    stream.write_all(b"+ go on\r\n").unwrap();
                    let mut buf = vec![0; n];
                    reader.read_exact(&mut buf).unwrap();
                    line = format!("{}<{n} bytes>", line.trim_end());
                    let mut more = String::new();
                    reader.read_line(&mut more).unwrap();
                    line.push_str(&more);
                }
                let line = line.trim_end().to_string();
                let (tag, cmd) = line.split_once(' ').unwrap_or((&line, ""));
                log2.lock().unwrap().push(cmd.to_string());
                let out = if cmd.starts_with("LOGIN") {
                    if cmd.ends_with("\"pw\"") || cmd.ends_with(" pw") {
                        Reply::Send("{tag} OK logged in\r\n".into())
                    } else {
                        Reply::Send(
                            "{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n".into(),
                        )
                    }
                } else if cmd == "LOGOUT" {
                    Reply::Close("* BYE\r\n{tag} OK bye\r\n".into())
                } else {
                    reply(cmd)
                };
                let text = |t: &str| t.replace("{tag}", tag);
                match out {
                    Reply::Send(t) => stream.write_all(text(&t).as_bytes()).unwrap(),
                    Reply::Close(t) => {
                        let _ = stream.write_all(text(&t).as_bytes());
                        return;
                    }
                    Reply::Stall(t) => {
                        let _ = stream.write_all(text(&t).as_bytes());
                        std::thread::sleep(Duration::from_secs(30));
                        return;
                    }
                    Reply::Trickle(t) => {
                        for b in text(&t).bytes().take(600) {
                            if stream.write_all(&[b]).is_err() {
                                return;
                            }
                            std::thread::sleep(Duration::from_millis(100));
                        }
                        return;
                    }
                }
            }
        });
        (port, log)
    }

    fn account(port: u16, password: &str) -> (MailAccount, Secret) {
        let text = format!(
            "[[users]]\nlogin = \"alice\"\nemails = [\"alice@us.example\"]\n\n\
             [[mail.accounts]]\nname = \"t\"\nuser = \"alice\"\nsource = \"imap\"\n\
             host = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\npassword = \"{password}\"\ntimeout = 1\n"
        );
        let mut cfg = Config::parse(&text, std::path::Path::new("test.toml")).unwrap();
        (cfg.mail.accounts.remove(0), Secret::new(password))
    }

    const EXAMINE_OK: &str = "* 3 EXISTS\r\n* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 4] ok\r\n\
         * OK [PERMANENTFLAGS ()] ro\r\n{tag} OK [READ-ONLY] done\r\n";
    const SELECT_OK: &str = "* 3 EXISTS\r\n* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 4] ok\r\n\
         * OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] rw\r\n{tag} OK [READ-WRITE] done\r\n";

    fn refs(uids: &[u32]) -> Vec<MsgRef> {
        uids.iter()
            .map(|&u| MsgRef {
                id: u.to_string(),
                uid: Some(u),
                size: 10,
            })
            .collect()
    }

    /// A Courier/Cyrus-classic-like server: every folder below `INBOX.`.
    fn classic_server(namespace: &'static str) -> (u16, Log) {
        fake_server(move |cmd| {
            if cmd == "CAPABILITY" {
                Reply::Send("* CAPABILITY IMAP4rev1 NAMESPACE UIDPLUS MOVE\r\n{tag} OK\r\n".into())
            } else if cmd == "NAMESPACE" {
                Reply::Send(namespace.into())
            } else if cmd.starts_with("LIST") {
                Reply::Send(
                    "* LIST (\\HasChildren) \".\" INBOX\r\n\
                     * LIST () \".\" \"INBOX.CRM Import\"\r\n\
                     * LIST () \".\" \"INBOX.Junk\"\r\n{tag} OK\r\n"
                        .into(),
                )
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        })
    }

    #[test]
    fn m20_m13_classic_namespace_names_and_creates_in_the_personal_namespace() {
        let (port, log) =
            classic_server("* NAMESPACE ((\"INBOX.\" \".\")) NIL NIL\r\n{tag} OK\r\n");
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        let got = src
            .folders(
                &["INBOX".into(), "CRM Import".into()],
                true,
                "CRM",
                Some(""),
            )
            .unwrap();
        assert_eq!(
            names(&got),
            [("INBOX", None, false), ("INBOX/CRM Import", None, true)]
        );
        assert_eq!(src.server_name("INBOX/CRM Import"), "INBOX.CRM Import");
        // A folder crmsync makes goes where the user's folders are.
        src.append("CRM Archive", b"x").unwrap();
        src.close();
        let log = log.lock().unwrap();
        assert!(
            log.iter().any(|c| c == "CREATE \"INBOX.CRM Archive\""),
            "{log:?}"
        );
    }

    #[test]
    fn m20_a_refused_namespace_leaves_names_as_listed() {
        let (port, _) = classic_server("{tag} BAD unknown command\r\n");
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        let got = src
            .folders(&["INBOX.CRM Import".into()], true, "CRM", None)
            .unwrap();
        // Found as listed; without a namespace INBOX.x counts as INBOX's
        // sub-folder (the rule of servers with an empty personal prefix).
        assert_eq!(names(&got), [("INBOX/CRM Import", None, false)]);
        src.close();
    }

    #[test]
    fn x2_wrong_password_is_source_error_auth() {
        let (port, _) = fake_server(|_| Reply::Send("{tag} OK\r\n".into()));
        let (a, _) = account(port, "pw");
        let e = ImapSource::connect(&a, &Secret::new("wrong")).unwrap_err();
        assert!(
            matches!(e, SourceError::Auth(ref d) if d.contains("Authentication failed")),
            "{e:?}"
        );
    }

    #[test]
    fn a_server_hanging_up_mid_fetch_is_an_error_naming_folder_and_command() {
        let (port, _) = fake_server(|cmd| {
            if cmd.starts_with("EXAMINE") {
                Reply::Send(EXAMINE_OK.into())
            } else if cmd.starts_with("UID FETCH") {
                Reply::Close("* 1 FETCH (UID 1 BODY[] {5000}\r\nFrom: a@b\r\n\r\nhalf".into())
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        let status = src.select("Archive").unwrap();
        assert_eq!(status.validity, "42");
        assert_eq!(status.uid_next, Some(4));
        let mut got = 0;
        let e = src
            .fetch("Archive", &refs(&[1, 2, 3]), &mut |_, _| {
                got += 1;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(got, 0);
        let text = e.to_string();
        assert!(matches!(e, SourceError::Other(_)), "{e:?}");
        assert!(text.contains("folder `Archive`"), "{text}");
        assert!(text.contains("UID FETCH 1:3 (UID BODY.PEEK[])"), "{text}");
        assert!(text.contains("closed the connection"), "{text}");
        // The session refuses further commands instead of misreading.
        let e = src.list("Archive", None).unwrap_err();
        assert!(e.to_string().contains("broke earlier"), "{e}");
    }

    /// Issue 16 item 10: garbage UIDs are not "the server said BYE".
    #[test]
    fn garbage_uids_are_named_as_an_invalid_answer_not_a_bye() {
        for (command, answer, quoted) in [
            (
                "UID SEARCH",
                "* SEARCH 1 2 x7\r\n{tag} OK done\r\n",
                "`* SEARCH 1 2 x7`",
            ),
            (
                "UID FETCH",
                "* 1 FETCH (UID abc RFC822.SIZE 10)\r\n{tag} OK done\r\n",
                "`* 1 FETCH (UID abc RFC822.SIZE 10)`",
            ),
        ] {
            let (port, _) = fake_server(move |cmd| {
                if cmd.starts_with("EXAMINE") {
                    Reply::Send(EXAMINE_OK.into())
                } else if cmd.starts_with("UID SEARCH") && command == "UID FETCH" {
                    Reply::Send("* SEARCH 1\r\n{tag} OK done\r\n".into())
                } else if cmd.starts_with(command) {
                    Reply::Send(answer.into())
                } else {
                    Reply::Send("{tag} OK\r\n".into())
                }
            });
            let (a, pw) = account(port, "pw");
            let mut src = ImapSource::connect(&a, &pw).unwrap();
            src.select("INBOX").unwrap();
            let e = src.list("INBOX", None).unwrap_err().to_string();
            assert!(!e.contains("BYE"), "{command}: {e}");
            assert!(
                e.contains("not valid IMAP") && e.contains(quoted),
                "{command}: {e}"
            );
            assert!(e.contains(command) && e.contains("INBOX"), "{e}");
        }
    }

    /// Issue 16 item 10, at login: an answer that is not IMAP.
    #[test]
    fn an_answer_to_login_that_is_not_imap_is_quoted_not_called_a_bye() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let _ = s.write_all(b"* OK ready\r\n");
                let mut line = String::new();
                let _ = BufReader::new(s.try_clone().unwrap()).read_line(&mut line);
                let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n");
                std::thread::sleep(Duration::from_secs(5));
            }
        });
        let (a, pw) = account(port, "pw");
        let Err(e) = ImapSource::connect(&a, &pw) else {
            panic!("an answer that is not IMAP was accepted");
        };
        let e = e.to_string();
        assert!(!e.contains("BYE") && !e.contains("Bye"), "{e}");
        assert!(
            e.contains("not valid IMAP") && e.contains("`SSH-2.0-OpenSSH_9.6`"),
            "{e}"
        );
    }

    #[test]
    fn a_server_going_silent_mid_fetch_times_out() {
        let (port, _) = fake_server(|cmd| {
            if cmd.starts_with("EXAMINE") {
                Reply::Send(EXAMINE_OK.into())
            } else if cmd.starts_with("UID FETCH") {
                Reply::Stall("* 1 FETCH (UID 1 BODY[] {5000}\r\nFrom: a@b\r\n".into())
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        let t0 = Instant::now();
        let e = src
            .fetch("INBOX", &refs(&[1]), &mut |_, _| Ok(()))
            .unwrap_err();
        assert!(t0.elapsed() < Duration::from_secs(10));
        assert!(e.to_string().contains("timeout"), "{e}");
        assert!(e.to_string().contains("folder `INBOX`"), "{e}");
    }

    /// [`account`] with `deadline = 1`.
    fn account_with_deadline(port: u16) -> (MailAccount, Secret) {
        let (mut a, pw) = account(port, "pw");
        a.deadline = 1;
        (a, pw)
    }

    #[test]
    fn x13_a_server_trickling_mid_fetch_ends_at_the_deadline() {
        let (port, _) = fake_server(|cmd| {
            if cmd.starts_with("EXAMINE") {
                Reply::Send(EXAMINE_OK.into())
            } else if cmd.starts_with("UID FETCH") {
                // A byte every 100 ms: never silent for the 1 s timeout.
                Reply::Trickle(format!(
                    "* 1 FETCH (UID 1 BODY[] {{5000}}\r\n{}",
                    "x".repeat(5000)
                ))
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        });
        let (a, pw) = account_with_deadline(port);
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        src.select("INBOX").unwrap();
        let t0 = Instant::now();
        let e = src
            .fetch("INBOX", &refs(&[1]), &mut |_, _| Ok(()))
            .unwrap_err();
        // 1 s deadline; the trickle would take 60 s.
        assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
        let text = e.to_string();
        assert!(text.contains("deadline of 1 s"), "{text}");
        assert!(text.contains("raise `deadline`"), "{text}");
        assert!(text.contains("folder `INBOX`"), "{text}");
        assert!(src.connection_lost());
    }

    #[test]
    fn x13_a_server_trickling_its_greeting_ends_at_the_deadline() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let Ok((mut s, _)) = l.accept() else { return };
            for b in b"* OK trickling greeting".iter().cycle().take(600) {
                if s.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let (a, pw) = account_with_deadline(port);
        let t0 = Instant::now();
        let e = ImapSource::connect(&a, &pw).unwrap_err();
        assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
        assert!(e.to_string().contains("deadline of 1 s"), "{e}");
    }

    #[test]
    fn x12_a_literal_larger_than_announced_is_refused_before_it_is_read() {
        let (port, _) = fake_server(|cmd| {
            if cmd.starts_with("EXAMINE") {
                Reply::Send(EXAMINE_OK.into())
            } else if cmd.starts_with("UID FETCH") {
                // Announced at 10 bytes (refs()), sent as 1.5 GB.
                Reply::Stall("* 1 FETCH (UID 1 BODY[] {1500000000}\r\nFrom: a@b\r\n".into())
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        src.select("Archive").unwrap();
        let mut got = 0;
        let e = src
            .fetch("Archive", &refs(&[1, 2]), &mut |_, _| {
                got += 1;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(got, 0);
        // Refused at its announcement (the server then goes silent: a
        // read would have ended in the timeout instead).
        let text = e.to_string();
        assert!(!text.contains("timeout"), "{text}");
        for want in [
            "folder `Archive`",
            "UID 1: the server announced 10 bytes",
            "literal of 1500000000 bytes",
            "X12",
            "connection was closed",
            "next run",
        ] {
            assert!(text.contains(want), "{want}: {text}");
        }
        assert!(src.connection_lost());
    }

    #[test]
    fn x12_fetch_reader_bounds_lines_literals_and_their_sum() {
        // A line without end: refused after LINE_MAX, not read whole.
        let endless = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = l.local_addr().unwrap();
            std::thread::spawn(move || {
                let (mut s, _) = l.accept().unwrap();
                let chunk = vec![b'a'; 64 << 10];
                let _ = s.write_all(b"* 1 FETCH (UID 1 BODY[] \"");
                while s.write_all(&chunk).is_ok() {}
            });
            plain(TcpStream::connect(addr).unwrap())
        };
        let limits = any();
        let e = FetchReader::new(&endless, &limits)
            .read_fetch()
            .unwrap_err();
        assert!(
            matches!(&e, Raw::Io(imap::Error::Io(io)) if Bound::of(io) == Some(&Bound::Line(LINE_MAX))),
            "{e:?}"
        );
        // Per UID: its announced size and the margin.
        let m = |uid: u32, size: u64| MsgRef {
            id: uid.to_string(),
            uid: Some(uid),
            size,
        };
        let (a, b) = (m(1, 1000), m(2, 200_000));
        let batch = [(1, &a), (2, &b)];
        let limits = Literals::of(&batch);
        assert_eq!(limits.fallback, literal_allowed(200_000));
        assert_eq!(literal_allowed(1000), 1000 + 500 + 65536);
        let over = literal_allowed(1000) + 1;
        let answer = format!("* 1 FETCH (UID 1 BODY[] {{{over}}}\r\n");
        let s = answered(Box::leak(answer.into_boxed_str()).as_bytes());
        let e = FetchReader::new(&s, &limits).read_fetch().unwrap_err();
        assert!(
            matches!(&e, Raw::Refused(t) if t.contains("UID 1: the server announced 1000 bytes")),
            "{e:?}"
        );
        // UID 2 may be larger; unasked UIDs and second copies are not kept.
        let s = answered(
            b"* 1 FETCH (UID 2 BODY[] {3}\r\nabc)\r\n* 2 FETCH (UID 2 BODY[] {3}\r\nxyz)\r\n\
              * 3 FETCH (UID 99 BODY[] {3}\r\nzzz)\r\na1 OK done\r\n",
        );
        let got = FetchReader::new(&s, &limits).read_fetch().unwrap();
        assert_eq!(got, vec![(2, b"abc".to_vec())]);
        // The sum: many literals, each within its bound, over the batch's total.
        let small = [(1, &a)];
        let limits = Literals::of(&small);
        let mut answer = String::new();
        for _ in 0..3 {
            answer.push_str(&format!(
                "* 1 FETCH (UID 1 BODY[] {{40000}}\r\n{})\r\n",
                "x".repeat(40000)
            ));
        }
        let s = answered(Box::leak(answer.into_boxed_str()).as_bytes());
        let e = FetchReader::new(&s, &limits).read_fetch().unwrap_err();
        assert!(
            matches!(&e, Raw::Refused(t) if t.contains("add up to more than")),
            "{e:?}"
        );
    }

    #[test]
    fn x12_an_answer_through_the_crate_is_bounded_too() {
        let (port, _) = fake_server(|cmd| {
            if cmd.starts_with("EXAMINE") {
                Reply::Send(EXAMINE_OK.into())
            } else if cmd.starts_with("UID SEARCH") {
                // 17 MB of UIDs on one line, and no end.
                let mut t = String::from("* SEARCH");
                while t.len() < (17 << 20) {
                    t.push_str(" 1234567");
                }
                Reply::Stall(t)
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        let e = src.list("INBOX", None).unwrap_err().to_string();
        assert!(e.contains("larger than 16777216 bytes"), "{e}");
        assert!(e.contains("UID SEARCH"), "{e}");
        assert!(e.contains("connection was closed"), "{e}");
        assert!(src.connection_lost());
    }

    #[test]
    fn an_untagged_no_during_examine_does_not_panic() {
        let (port, _) = fake_server(|cmd| {
            if cmd.starts_with("EXAMINE") {
                Reply::Send(format!("* NO [ALERT] quota nearly full\r\n{EXAMINE_OK}"))
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        assert_eq!(src.select("INBOX").unwrap().exists, 3);
    }

    #[test]
    fn folder_names_reach_the_server_encoded_and_escaped() {
        let (port, log) = fake_server(|cmd| {
            if cmd.starts_with("EXAMINE") {
                Reply::Send(EXAMINE_OK.into())
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        src.select("Entwürfe").unwrap();
        src.select("Quote\"d \\ back").unwrap();
        src.select("x\r\nA1 DELETE INBOX").unwrap();
        src.close();
        let log = log.lock().unwrap();
        // One LIST first (M20: the namespace and delimiter decide the spelling).
        assert_eq!(log.iter().filter(|c| c.starts_with("LIST")).count(), 1);
        let examined: Vec<&String> = log.iter().filter(|c| c.starts_with("EXAMINE")).collect();
        assert_eq!(
            examined,
            [
                "EXAMINE \"Entw&APw-rfe\"",
                "EXAMINE \"Quote\\\"d \\\\ back\"",
                "EXAMINE \"x&AA0ACg-A1 DELETE INBOX\"",
            ]
        );
        assert!(!log.iter().any(|c| c.starts_with("DELETE")), "{log:?}");
    }

    #[test]
    fn m16_move_without_move_or_uidplus_is_refused_before_any_change() {
        let (port, log) = fake_server(|cmd| match cmd {
            "CAPABILITY" => Reply::Send("* CAPABILITY IMAP4rev1\r\n{tag} OK\r\n".into()),
            _ if cmd.starts_with("EXAMINE") => Reply::Send(EXAMINE_OK.into()),
            _ => Reply::Send("{tag} OK\r\n".into()),
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        src.select("INBOX").unwrap();
        let e = src.move_to("INBOX", &refs(&[1, 2]), "Archive").unwrap_err();
        assert!(e.to_string().contains("neither MOVE nor UIDPLUS"), "{e}");
        src.close();
        let log = log.lock().unwrap();
        assert!(
            !log.iter()
                .any(|c| c.starts_with("UID") || c.starts_with("SELECT")),
            "{log:?}"
        );
    }

    #[test]
    fn m16_move_with_uidplus_copies_then_expunges_exactly_those_uids() {
        let (port, log) = fake_server(|cmd| match cmd {
            "CAPABILITY" => Reply::Send("* CAPABILITY IMAP4rev1 UIDPLUS\r\n{tag} OK\r\n".into()),
            _ if cmd.starts_with("LIST") => Reply::Send(
                "* LIST () \"/\" INBOX\r\n* LIST () \"/\" \"Archive\"\r\n{tag} OK\r\n".into(),
            ),
            _ if cmd.starts_with("EXAMINE") => Reply::Send(EXAMINE_OK.into()),
            _ if cmd.starts_with("SELECT") => Reply::Send(SELECT_OK.into()),
            _ => Reply::Send("{tag} OK\r\n".into()),
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        src.select("INBOX").unwrap();
        assert!(src.supports_keywords());
        src.mark("INBOX", &refs(&[3, 1, 2, 3]), "$CRMImported")
            .unwrap();
        src.move_to("INBOX", &refs(&[1, 3]), "Archive/Entwürfe")
            .unwrap();
        src.append("Archive/Entwürfe", b"Subject: hi\r\n\r\nbody\r\n")
            .unwrap();
        src.close();
        let log = log.lock().unwrap();
        assert_eq!(
            &log[1..],
            &[
                "EXAMINE \"INBOX\"",
                "SELECT \"INBOX\"",
                "UID STORE 1:3 +FLAGS.SILENT ($CRMImported)",
                "CAPABILITY", // once per session
                "LIST \"\" \"*\"",
                "CREATE \"Archive/Entw&APw-rfe\"",
                "SUBSCRIBE \"Archive/Entw&APw-rfe\"",
                "UID COPY 1,3 \"Archive/Entw&APw-rfe\"",
                "UID STORE 1,3 +FLAGS.SILENT (\\Deleted)",
                "UID EXPUNGE 1,3",
                "APPEND \"Archive/Entw&APw-rfe\" () {21}<21 bytes>",
                "LOGOUT",
            ]
        );
    }
}
