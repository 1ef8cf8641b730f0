//! The blocking HTTP client for DAV and REST: one connection pool per
//! server, bounded timeouts, our TLS settings (X11).

use std::time::Duration;

use anyhow::{Context, Result};

use super::tls::{TlsSettings, client_config};

/// X3a: a redirect to another origin (scheme, host or port) than the
/// request's, refused: the credentials were meant for the configured server.
#[derive(Debug, thiserror::Error)]
#[error(
    "the server redirected to {to}, another origin than {from} (scheme, host or port differ); \
     crmsync sends credentials only to the configured server. If you trust {to}, configure that URL directly"
)]
pub struct CrossOrigin {
    pub from: String,
    pub to: String,
}

/// True when both URLs have the same scheme, host and port (RFC 6454).
pub fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.origin() == b.origin()
}

/// The origin of a URL as people write it: `https://host:port`.
pub fn origin_text(u: &reqwest::Url) -> String {
    u.origin().ascii_serialization()
}

/// Follows a redirect only within the origin of the first request, at
/// most 10 times (X3a). reqwest alone would follow to anywhere, only
/// dropping the Authorization header: the other host would then answer
/// 401 and the account be blocked for a password that is right.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.follow();
        };
        if !same_origin(first, attempt.url()) {
            let e = CrossOrigin {
                from: origin_text(first),
                to: attempt.url().to_string(),
            };
            attempt.error(e)
        } else if attempt.previous().len() > 10 {
            attempt.error("more than 10 redirects")
        } else {
            attempt.follow()
        }
    })
}

/// The [`CrossOrigin`] refusal in an error's chain, if that is what it is.
pub fn cross_origin<'e>(err: &'e (dyn std::error::Error + 'static)) -> Option<&'e CrossOrigin> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(c) = e.downcast_ref::<CrossOrigin>() {
            return Some(c);
        }
        cur = e.source();
    }
    None
}

/// A reqwest client for one server.
///
/// # Errors
/// TLS setup errors.
pub fn client(tls: &TlsSettings, timeout_secs: u64) -> Result<reqwest::blocking::Client> {
    let config = client_config(tls)?;
    reqwest::blocking::Client::builder()
        .tls_backend_preconfigured((*config).clone())
        .redirect(redirect_policy())
        .timeout(Duration::from_secs(timeout_secs.max(1)))
        .connect_timeout(Duration::from_secs(timeout_secs.clamp(1, 15)))
        .user_agent(concat!("crmsync/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("setting up the HTTP client")
}

/// X12, X13: what one HTTP answer may take. The answer's head comes within
/// the client's `timeout`; its body is read while these hold.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// The body, in bytes.
    pub max_body: u64,
    /// The request with its whole answer, from the moment it was sent.
    pub deadline: Duration,
}

/// Why a body was not read whole.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// X12: it is (or says it is) longer than this many bytes.
    #[error("the answer is larger than {0} bytes")]
    TooLarge(u64),
    /// X13: it was still coming when the deadline (seconds) passed.
    #[error("no complete answer within the deadline of {0} s")]
    Deadline(u64),
    #[error(transparent)]
    Read(std::io::Error),
}

/// Reads a response's body within `bounds` (X12, X13), counting from
/// `started` (when the request was sent): a `Content-Length` over the
/// bound is refused before anything is read, a body growing past it when
/// it gets there, and a body still trickling in at the deadline then.
/// Each single read waits at most the client's `timeout`.
///
/// # Errors
/// [`BodyError`].
pub fn read_body(
    mut resp: reqwest::blocking::Response,
    started: std::time::Instant,
    bounds: &Bounds,
) -> Result<Vec<u8>, BodyError> {
    use std::io::Read;
    if let Some(len) = resp.content_length()
        && len > bounds.max_body
    {
        return Err(BodyError::TooLarge(bounds.max_body));
    }
    let expected = resp.content_length().unwrap_or(0).min(bounds.max_body);
    let mut out = Vec::with_capacity(usize::try_from(expected.min(1 << 20)).unwrap_or(0));
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if started.elapsed() >= bounds.deadline {
            return Err(BodyError::Deadline(bounds.deadline.as_secs()));
        }
        let n = match resp.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(BodyError::Read(e)),
        };
        if out.len() as u64 + n as u64 > bounds.max_body {
            return Err(BodyError::TooLarge(bounds.max_body));
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// True when a reqwest error (anywhere in the chain) is a certificate problem.
pub fn is_certificate_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = super::tls::rustls_error(e)
            && matches!(r, rustls::Error::InvalidCertificate(_))
        {
            return true;
        }
        let s = e.to_string();
        if s.contains("invalid peer certificate") || s.contains("UnknownIssuer") {
            return true;
        }
        cur = e.source();
    }
    false
}

/// How often and how patiently a request is retried (B2).
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts in all, at least 1.
    pub attempts: u32,
    /// The first wait; each further wait doubles it.
    pub base: Duration,
    /// No single wait is longer, whatever Retry-After asks for.
    pub max_wait: Duration,
}

impl Retry {
    /// `attempts` tries, waiting 0.5 s, 1 s, 2 s ... at most 30 s.
    pub fn new(attempts: u32) -> Retry {
        Retry {
            attempts: attempts.max(1),
            base: Duration::from_millis(500),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// True for the statuses worth another try: 429 and 5xx (B2).
pub fn retryable(status: reqwest::StatusCode) -> bool {
    status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The wait a `Retry-After` header asks for: seconds, or an HTTP date.
pub fn retry_after(
    headers: &reqwest::header::HeaderMap,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// Sends the request `make` builds (once per attempt), retrying on 429 and
/// 5xx with exponential backoff, honouring `Retry-After` (B2). Lost
/// connections and timeouts are retried only when `idempotent`: a POST
/// whose answer was lost may have been stored, and only the caller's own
/// state can tell (X5). Returns the last response, whatever its status.
///
/// # Errors
/// The transport error of the last attempt.
pub fn send(
    make: impl Fn() -> reqwest::blocking::RequestBuilder,
    retry: &Retry,
    idempotent: bool,
) -> Result<reqwest::blocking::Response, reqwest::Error> {
    let mut wait = retry.base;
    let mut attempt = 1;
    loop {
        let last = attempt >= retry.attempts;
        match make().send() {
            Ok(resp) if !last && retryable(resp.status()) => {
                let asked = retry_after(resp.headers(), chrono::Utc::now());
                std::thread::sleep(asked.unwrap_or(wait).min(retry.max_wait));
            }
            Err(e) if !last && idempotent && !is_certificate_error(&e) => {
                std::thread::sleep(wait.min(retry.max_wait));
            }
            other => return other,
        }
        wait = wait.saturating_mul(2);
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use super::*;

    /// A one-connection-per-answer HTTP server that plays `answers` in
    /// order and counts the requests it saw.
    fn scripted(answers: Vec<&'static str>) -> (String, std::thread::JoinHandle<usize>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/x", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            let mut n = 0;
            for a in answers {
                let (s, _) = l.accept().unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                while r.read_line(&mut line).unwrap() > 2 {
                    line.clear();
                }
                n += 1;
                (&s).write_all(a.as_bytes()).unwrap();
            }
            n
        });
        (url, h)
    }

    /// Issue 16 item 1: a server redirecting to another origin (here a
    /// second port) must not get the request, with or without credentials.
    #[test]
    fn x3a_a_redirect_to_another_origin_is_refused_and_never_reaches_it() {
        let other = TcpListener::bind("127.0.0.1:0").unwrap();
        let other_url = format!("http://{}/steal", other.local_addr().unwrap());
        other.set_nonblocking(true).unwrap();
        let moved: &'static str = Box::leak(
            format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {other_url}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .into_boxed_str(),
        );
        let (url, server) = scripted(vec![moved]);
        let client = client(&TlsSettings::default(), 5).unwrap();
        let err = client
            .get(&url)
            .basic_auth("alice", Some("secret"))
            .send()
            .expect_err("the redirect must be refused");
        assert_eq!(server.join().unwrap(), 1);
        let refusal = cross_origin(&err).unwrap_or_else(|| panic!("{err:?}"));
        assert!(refusal.to_string().contains(&other_url), "{refusal}");
        assert!(
            refusal.to_string().contains("configure that URL directly"),
            "{refusal}"
        );
        // Nothing ever connected to the other origin.
        assert!(matches!(
            other.accept(),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
        ));
        // A redirect within the origin is still followed.
        let base = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = base.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            for answer in [
                "HTTP/1.1 301 Moved\r\nLocation: /there\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
            ] {
                let (s, _) = base.accept().unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                while r.read_line(&mut line).unwrap() > 2 {
                    line.clear();
                }
                (&s).write_all(answer.as_bytes()).unwrap();
            }
        });
        let resp = client.get(format!("http://{addr}/here")).send().unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.url().path().ends_with("/there"));
        h.join().unwrap();
    }

    #[test]
    fn x12_x13_bodies_are_bounded_in_size_and_time() {
        let client = client(&TlsSettings::default(), 5).unwrap();
        let bounds = Bounds {
            max_body: 10,
            deadline: Duration::from_secs(60),
        };
        let read = |answer: &'static str, bounds: &Bounds| {
            let (url, _) = scripted(vec![answer]);
            let started = std::time::Instant::now();
            read_body(client.get(&url).send().unwrap(), started, bounds)
        };
        let ok = "HTTP/1.1 207 Multi-Status\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789";
        assert_eq!(read(ok, &bounds).unwrap(), b"0123456789");
        // Announced too long: refused before reading.
        let long = "HTTP/1.1 207 Multi-Status\r\nContent-Length: 11\r\nConnection: close\r\n\r\n0123456789x";
        assert!(matches!(read(long, &bounds), Err(BodyError::TooLarge(10))));
        // Growing too long without a length: refused when it gets there.
        let chunked = "HTTP/1.1 207 Multi-Status\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                       6\r\n012345\r\n6\r\n6789ab\r\n0\r\n\r\n";
        assert!(matches!(
            read(chunked, &bounds),
            Err(BodyError::TooLarge(10))
        ));
        // Past the deadline: refused (here at once).
        let none = Bounds {
            max_body: 10,
            deadline: Duration::ZERO,
        };
        assert!(matches!(read(ok, &none), Err(BodyError::Deadline(0))));
    }

    #[test]
    fn b2_retry_after_seconds_and_http_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        h.insert(
            "retry-after",
            "Mon, 07 Dec 2026 10:00:03 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(3)));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn b2_429_and_503_are_retried_honouring_retry_after_then_the_answer_is_returned() {
        let busy = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let down =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        let (url, server) = scripted(vec![busy, down, ok]);
        let client = client(&TlsSettings::default(), 5).unwrap();
        let retry = Retry {
            attempts: 4,
            base: Duration::from_millis(10),
            max_wait: Duration::from_secs(5),
        };
        let t0 = std::time::Instant::now();
        let resp = send(|| client.get(&url), &retry, true).unwrap();
        assert_eq!(resp.status(), 200);
        assert!(
            t0.elapsed() >= Duration::from_secs(1),
            "Retry-After: 1 was not honoured"
        );
        assert_eq!(server.join().unwrap(), 3);
    }

    #[test]
    fn b2_attempts_are_bounded_and_a_4xx_is_not_retried() {
        let down = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let (url, server) = scripted(vec![down, down]);
        let client = client(&TlsSettings::default(), 5).unwrap();
        let retry = Retry {
            attempts: 2,
            base: Duration::from_millis(10),
            max_wait: Duration::from_millis(10),
        };
        let resp = send(|| client.get(&url), &retry, true).unwrap();
        assert_eq!(resp.status(), 502);
        assert_eq!(server.join().unwrap(), 2);
        let bad = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let (url, server) = scripted(vec![bad]);
        let resp = send(|| client.post(&url), &retry, false).unwrap();
        assert_eq!(resp.status(), 400);
        assert_eq!(server.join().unwrap(), 1);
    }
}
