//! The transport under an IMAP session: TCP with timeouts, implicit TLS
//! or STARTTLS (certificate checks per X11, failures in words per X11a),
//! the per-connection [`Clock`] that gives every command and its answer a
//! deadline (X13) and the socket that obeys it ([`Timed`]), and
//! [`connect`]: greeting and exactly one LOGIN (X2), with errors typed
//! ([`ImapError`]) so that callers can tell a wrong password from a server
//! that is down.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use rustls::ClientConnection;
use rustls::StreamOwned;
use rustls::pki_types::ServerName;

use super::wire::{Bound, LINE_MAX, Stream, Wire, invalid_answer};
use crate::config::{MailAccount, TlsMode};
use crate::net::tls::{Advice, TlsSettings, client_config, explain, rustls_error};
use crate::secret::Secret;

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

/// X13: the clock of one connection. An operation is a command (what
/// crmsync writes) and its answer (what it reads until it writes again);
/// each may take `deadline` in all, and no single read or write waits
/// longer than `timeout`. Shared by [`Stream`] and the socket under it
/// ([`Timed`]), so that bytes trickling into a TLS record count as well.
#[derive(Debug)]
pub(super) struct Clock {
    timeout: Duration,
    deadline: Duration,
    ends: std::sync::Mutex<std::time::Instant>,
}

impl Clock {
    /// A clock whose first operation (greeting, STARTTLS, TLS) starts now.
    pub(super) fn new(timeout: Duration, deadline: Duration) -> std::sync::Arc<Clock> {
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
    pub(super) fn restart(&self) {
        *self.ends() = std::time::Instant::now() + self.deadline;
    }

    pub(super) fn passed(&self) -> bool {
        std::time::Instant::now() >= *self.ends()
    }

    pub(super) fn exceeded(&self) -> io::Error {
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
pub(super) struct Timed {
    pub(super) tcp: TcpStream,
    clock: std::sync::Arc<Clock>,
    /// The read and write timeouts set on the socket last.
    read_set: Option<Duration>,
    write_set: Option<Duration>,
}

impl Timed {
    pub(super) fn new(tcp: TcpStream, clock: std::sync::Arc<Clock>) -> Timed {
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

pub type Session = imap::Session<Stream>;

/// Opens a TCP connection with timeouts.
pub(super) fn tcp(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, ImapError> {
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
pub(super) fn tls_wrap(
    mut tcp: Timed,
    host: &str,
    settings: &TlsSettings,
    account: &str,
) -> Result<Stream, ImapError> {
    let peer = tcp.tcp.peer_addr().ok();
    let addr = peer
        .map(|a| a.to_string())
        .unwrap_or_else(|| host.to_string());
    let advice = Advice::imap(account).on_port(peer.map(|a| a.port()));
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
                Some(t) => explain(t, advice),
                None if e.kind() == io::ErrorKind::UnexpectedEof
                    || e.kind() == io::ErrorKind::ConnectionReset =>
                {
                    format!(
                        "the server closed the connection during the TLS handshake ({e}); {}",
                        advice.on_port(None).not_tls()
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
pub(super) fn starttls(mut tcp: Timed, addr: &str) -> Result<Timed, ImapError> {
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
pub(super) fn read_line_bounded(r: &mut impl BufRead, line: &mut String) -> io::Result<usize> {
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
pub(super) fn connect_with_handle(
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
