//! IMAP connections (the `imap` crate over our own rustls stream): implicit
//! TLS, STARTTLS or plain, certificate checks per X11, and errors typed so
//! that callers can tell a wrong password (block the account, X2) from a
//! server that is down (try again next run).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};

use crate::config::{MailAccount, TlsMode};
use crate::net::tls::{TlsSettings, certificate_hint, client_config};
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

/// The byte stream under an IMAP session.
#[derive(Debug)]
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
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
    mut tcp: TcpStream,
    host: &str,
    settings: &TlsSettings,
    account: &str,
) -> Result<Stream, ImapError> {
    let addr = tcp
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
            let text = e.to_string();
            if text.contains("certificate")
                || text.contains("UnknownIssuer")
                || text.contains("NotValidForName")
            {
                return Err(terr(format!("{text}; {}", certificate_hint(account))));
            }
            return Err(terr(text));
        }
    }
    Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp))))
}

/// Issues STARTTLS on a fresh plain connection before the IMAP client sees it.
fn starttls(tcp: TcpStream, addr: &str) -> Result<TcpStream, ImapError> {
    let perr = |detail: String| ImapError::Protocol {
        addr: addr.to_string(),
        detail,
    };
    let mut reader = BufReader::new(tcp.try_clone().map_err(|e| perr(e.to_string()))?);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| perr(format!("reading the greeting: {e}")))?;
    if !line.starts_with("* OK") {
        return Err(perr(format!("unexpected greeting `{}`", line.trim_end())));
    }
    (&tcp)
        .write_all(b"s1 STARTTLS\r\n")
        .map_err(|e| perr(e.to_string()))?;
    loop {
        line.clear();
        if reader
            .read_line(&mut line)
            .map_err(|e| perr(e.to_string()))?
            == 0
        {
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
    Ok(tcp)
}

/// Connects and logs in: exactly one LOGIN attempt (X2).
///
/// # Errors
/// [`ImapError::Auth`] for refused credentials, other variants for
/// connection, TLS and protocol failures.
pub fn connect(account: &MailAccount, password: &Secret) -> Result<Session, ImapError> {
    let host = account.host.as_deref().unwrap_or("");
    let port = account.port();
    let addr = format!("{host}:{port}");
    let timeout = Duration::from_secs(account.timeout.max(1));
    let settings = TlsSettings {
        ca_file: account.ca_file.clone(),
        insecure_skip_verify: account.insecure_skip_verify,
    };
    let tcp = tcp(host, port, timeout)?;
    let (stream, greeting) = match account.tls {
        TlsMode::Tls => (tls_wrap(tcp, host, &settings, account.name())?, true),
        TlsMode::Starttls => (
            tls_wrap(starttls(tcp, &addr)?, host, &settings, account.name())?,
            false,
        ),
        TlsMode::None => (Stream::Plain(tcp), true),
    };
    let mut client = imap::Client::new(stream);
    if greeting {
        client.read_greeting().map_err(|e| ImapError::Protocol {
            addr: addr.clone(),
            detail: format!("reading the greeting: {e}"),
        })?;
    }
    let login = account.login.as_deref().unwrap_or(account.user());
    client
        .login(login, password.expose())
        .map_err(|(e, _)| match e {
            imap::Error::No(no) => ImapError::Auth(no.information),
            imap::Error::Bad(bad) => ImapError::Auth(bad.information),
            other => ImapError::Protocol {
                addr: addr.clone(),
                detail: format!("during LOGIN: {other}"),
            },
        })
}

/// Every mailbox name on the server (LIST "" "*").
///
/// # Errors
/// Protocol errors.
pub fn list_folders(session: &mut Session) -> Result<Vec<String>, imap::Error> {
    let names = session.list(None, Some("*"))?;
    Ok(names.iter().map(|n| n.name().to_string()).collect())
}
