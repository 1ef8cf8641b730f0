//! TLS for IMAP and HTTP (X11): certificates are verified against the
//! system's roots by default; an account may add its own CA file, pin the
//! server's own certificate (a self-signed one, in `ca_file`) or its SHA-256
//! fingerprint (`tls_fingerprint`) (X11a), and only an explicit
//! `insecure_skip_verify = true` turns verification off. A refusal is put in
//! words with what to do about it ([`explain`]), never rustls' Debug text.

use std::path::Path;
use std::sync::{Arc, Once};

use anyhow::{Context, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, OtherError, SignatureScheme};
use sha2::{Digest, Sha256};

/// Installs the ring crypto provider once per process (reqwest's
/// `rustls-no-provider` and our IMAP stream both use it).
pub fn install_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// How to verify a server's certificate.
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    /// PEM certificates: CAs to trust, or the server's own certificate
    /// (pinned: accepted when the server presents exactly it).
    pub ca_file: Option<std::path::PathBuf>,
    /// The SHA-256 fingerprint of the server's certificate (pinned: that
    /// certificate is accepted, and no other).
    pub fingerprint: Option<String>,
    pub insecure_skip_verify: bool,
}

/// Parses a SHA-256 fingerprint: 64 hex digits, with or without colons
/// (as `openssl x509 -noout -fingerprint -sha256` prints it), optionally
/// after `sha256:` or `SHA256 Fingerprint=`.
///
/// # Errors
/// Anything else, with the expected form.
pub fn parse_fingerprint(text: &str) -> Result<[u8; 32]> {
    let t = text.trim();
    let t = t.rsplit_once('=').map_or(t, |(_, v)| v);
    let t = t
        .strip_prefix("sha256:")
        .or_else(|| t.strip_prefix("SHA256:"))
        .unwrap_or(t);
    let digits: String = t.chars().filter(|c| *c != ':' && *c != ' ').collect();
    let mut out = [0u8; 32];
    match hex::decode_to_slice(&digits, &mut out) {
        Ok(()) => Ok(out),
        Err(_) => anyhow::bail!(
            "tls_fingerprint `{text}` is not a SHA-256 fingerprint; expected 64 hex digits, colons allowed \
             (as `openssl x509 -noout -fingerprint -sha256 -in cert.pem` prints it)"
        ),
    }
}

/// The SHA-256 fingerprint of a DER certificate as `AB:CD:...`.
pub fn fingerprint_of(der: &[u8]) -> String {
    fingerprint_text(&Sha256::digest(der).into())
}

/// Reads every certificate of a PEM file.
///
/// # Errors
/// When the file cannot be read or holds no certificate.
pub fn load_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading CA file {}", path.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| {
            format!(
                "parsing CA file {} (expected PEM certificates)",
                path.display()
            )
        })?;
    if certs.is_empty() {
        anyhow::bail!("CA file {} holds no PEM certificate", path.display());
    }
    Ok(certs)
}

/// A rustls client config for these settings.
///
/// # Errors
/// An unreadable CA file, a malformed fingerprint, or a platform verifier
/// that cannot start.
pub fn client_config(settings: &TlsSettings) -> Result<Arc<ClientConfig>> {
    install_provider();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("setting up TLS")?;
    let verifier = if settings.insecure_skip_verify {
        Verifier {
            roots: None,
            pinned: Vec::new(),
            fingerprint: None,
            provider,
        }
    } else {
        let fingerprint = settings
            .fingerprint
            .as_deref()
            .map(parse_fingerprint)
            .transpose()?;
        let pinned = match &settings.ca_file {
            Some(p) => load_pem(p)?,
            None => Vec::new(),
        };
        let roots = rustls_platform_verifier::Verifier::new_with_extra_roots(
            pinned.clone(),
            provider.clone(),
        )
        .context("loading the system's trusted certificates")?;
        Verifier {
            roots: Some(roots),
            pinned,
            fingerprint,
            provider,
        }
    };
    let config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// X11/X11a: a pinned fingerprint decides alone; else a certificate equal
/// to one in `ca_file` is the server's own (mbsync's `CertificateFile`);
/// else the system's roots and the CAs of `ca_file`. A refusal carries the
/// fingerprint seen ([`Refused`]). Without roots (`insecure_skip_verify`,
/// test servers only) any certificate is accepted.
#[derive(Debug)]
struct Verifier {
    roots: Option<rustls_platform_verifier::Verifier>,
    pinned: Vec<CertificateDer<'static>>,
    fingerprint: Option<[u8; 32]>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

/// Why a server certificate was refused, with its SHA-256 fingerprint.
#[derive(Debug)]
pub struct Refused {
    pub problem: Problem,
    /// The fingerprint of the certificate the server presented, `AB:CD:..`.
    pub fingerprint: String,
}

/// What was wrong with the certificate.
#[derive(Debug)]
pub enum Problem {
    /// Not the pinned one (`tls_fingerprint`), which is given.
    NotPinned(String),
    /// What the verifier found.
    Certificate(CertificateError),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}; the server's certificate has the SHA-256 fingerprint {}",
            problem_words(&self.problem),
            self.fingerprint
        )
    }
}

impl std::error::Error for Refused {}

fn refused(problem: Problem, fingerprint: String) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(Refused {
        problem,
        fingerprint,
    }))))
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(roots) = &self.roots else {
            return Ok(ServerCertVerified::assertion());
        };
        let seen: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if let Some(want) = self.fingerprint {
            return if seen == want {
                Ok(ServerCertVerified::assertion())
            } else {
                Err(refused(
                    Problem::NotPinned(fingerprint_text(&want)),
                    fingerprint_text(&seen),
                ))
            };
        }
        if self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            return Ok(ServerCertVerified::assertion());
        }
        roots
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|e| match e {
                rustls::Error::InvalidCertificate(c) => {
                    refused(Problem::Certificate(c), fingerprint_text(&seen))
                }
                other => other,
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn fingerprint_text(d: &[u8; 32]) -> String {
    d.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Where the TLS settings of a connection live, for the advice in [`explain`].
#[derive(Debug, Clone, Copy)]
pub struct Advice<'a> {
    /// The account (or `crm` for the REST CRM).
    pub account: &'a str,
    /// Prefix of the keys: "" for an account, "crm.rest." for the CRM.
    pub keys: &'a str,
    /// What to do when the server does not speak TLS on that port.
    pub plain_port: &'a str,
    /// The port connected to, when known (X18: named in the words).
    pub port: Option<u16>,
}

impl Advice<'_> {
    /// For an IMAP account.
    pub fn imap(account: &str) -> Advice<'_> {
        Advice {
            account,
            keys: "",
            plain_port: "use port 993 (IMAP over TLS), or keep this port with tls = \"starttls\" \
                         (tls = \"none\" only for a server on this host)",
            port: None,
        }
    }
    /// For a CalDAV/CardDAV account.
    pub fn dav(account: &str) -> Advice<'_> {
        Advice {
            account,
            keys: "",
            plain_port: "use the server's HTTPS port, or an http:// url if it has no TLS",
            port: None,
        }
    }
    /// For the REST CRM.
    pub fn rest() -> Advice<'static> {
        Advice {
            account: "crm",
            keys: "crm.rest.",
            plain_port: "use the CRM's HTTPS port in crm.rest.base_url, or http:// if it has no TLS",
            port: None,
        }
    }
    /// The same advice for a connection to `port`.
    pub fn on_port(self, port: Option<u16>) -> Self {
        Advice { port, ..self }
    }
    /// X18: a server that answered the TLS handshake in plain text (TLS to
    /// a plain-text port), in words with the fix.
    pub fn not_tls(&self) -> String {
        match self.port {
            Some(p) => format!(
                "port {p} answered without TLS: it is a plain-text port; {}",
                self.plain_port
            ),
            None => format!(
                "the server did not answer in TLS: TLS to a plain-text port? {}",
                self.plain_port
            ),
        }
    }
}

/// The rustls error in an error's chain (also inside an `io::Error`,
/// whose `source()` skips it).
pub fn rustls_error<'e>(err: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        // An io::Error's source() is its inner error's source: step into
        // the inner error itself (it may be another io::Error).
        cur = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

fn problem_words(p: &Problem) -> String {
    match p {
        Problem::NotPinned(want) => {
            format!("it is not the certificate pinned by tls_fingerprint ({want})")
        }
        Problem::Certificate(c) => certificate_words(c),
    }
}

/// A certificate problem in words.
fn certificate_words(c: &CertificateError) -> String {
    let date = |t: &UnixTime| {
        chrono::DateTime::from_timestamp(t.as_secs() as i64, 0)
            .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "?".into())
    };
    match c {
        CertificateError::UnknownIssuer => {
            "it is not signed by a certificate authority this system trusts (a self-signed certificate, or a private CA)".into()
        }
        CertificateError::Expired => "it has expired".into(),
        CertificateError::ExpiredContext { not_after, .. } => {
            format!("it expired on {}", date(not_after))
        }
        CertificateError::NotValidYet => "it is not valid yet (is this computer's clock right?)".into(),
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "it is valid only from {} on (is this computer's clock right?)",
            date(not_before)
        ),
        CertificateError::NotValidForName => "it is issued for another host name".into(),
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => format!(
            "it is issued for {}, not for {}",
            if presented.is_empty() {
                "no host name".to_string()
            } else {
                presented
                    .iter()
                    .map(|p| plain_name(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            expected.to_str()
        ),
        CertificateError::Revoked => "it has been revoked by its issuer".into(),
        CertificateError::BadSignature => "its signature is not valid".into(),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "it is not a certificate for a server".into()
        }
        CertificateError::BadEncoding => "it is malformed".into(),
        CertificateError::Other(o) => {
            let text = o.to_string();
            if text.contains("CaUsedAsEndEntity") {
                "it is a CA certificate used as the server's own (a self-signed certificate)".into()
            } else if let Some(r) = (&*o.0 as &(dyn std::error::Error + 'static)).downcast_ref::<Refused>() {
                r.to_string()
            } else {
                format!("it was refused ({})", camel_words(&text))
            }
        }
        other => format!("it was refused ({})", camel_words(&other.to_string())),
    }
}

/// An identifier such as `HandshakeFailure` or `CaUsedAsEndEntity` (what
/// rustls and webpki print for many errors) as words: "handshake failure".
/// Any other text is kept as it is.
fn camel_words(name: &str) -> String {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A name as webpki lists it (`DnsName("a.example")`, `IpAddress(1.2.3.4)`)
/// as people write it.
fn plain_name(presented: &str) -> &str {
    ["DnsName(", "IpAddress(", "UniformResourceIdentifier("]
        .iter()
        .find_map(|kind| presented.strip_prefix(kind)?.strip_suffix(')'))
        .map_or(presented, |inner| inner.trim_matches('"'))
}

/// True for the problems that pinning the server's own certificate cures.
fn untrusted(p: &Problem) -> bool {
    match p {
        Problem::NotPinned(_) => false,
        Problem::Certificate(CertificateError::UnknownIssuer) => true,
        Problem::Certificate(CertificateError::Other(o)) => {
            o.to_string().contains("CaUsedAsEndEntity")
        }
        Problem::Certificate(_) => false,
    }
}

/// A TLS failure in words with what to do about it (X11, X11a): never
/// rustls' Debug text; the pinning advice only where pinning can help.
pub fn explain(err: &rustls::Error, a: Advice<'_>) -> String {
    let keys = a.keys;
    let account = a.account;
    match err {
        rustls::Error::InvalidCertificate(CertificateError::Other(o))
            if (&*o.0 as &(dyn std::error::Error + 'static))
                .downcast_ref::<Refused>()
                .is_some() =>
        {
            let Some(r) =
                (&*o.0 as &(dyn std::error::Error + 'static)).downcast_ref::<Refused>()
            else {
                return err.to_string();
            };
            let fp = &r.fingerprint;
            let todo = if untrusted(&r.problem) {
                format!(
                    "If the server's certificate is self-signed, check that fingerprint with its admin and set \
                     {keys}tls_fingerprint = \"{fp}\" for `{account}`, or {keys}ca_file = \"/path/server-cert.pem\" \
                     (the server's own certificate); if a CA of your own signed it, set {keys}ca_file to that CA's \
                     certificate (for a test server only: {keys}insecure_skip_verify = true)"
                )
            } else if matches!(r.problem, Problem::NotPinned(_)) {
                format!(
                    "If the server's certificate was renewed, check the new fingerprint with its admin and update \
                     {keys}tls_fingerprint for `{account}`; otherwise someone may be intercepting the connection"
                )
            } else if matches!(
                r.problem,
                Problem::Certificate(
                    CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
                )
            ) {
                format!(
                    "Connect to `{account}` by a name the certificate is issued for (ca_file cannot change that)"
                )
            } else {
                "The server's admin must fix its certificate (ca_file cannot cure this)".to_string()
            };
            format!("the server's certificate was not accepted: {r}. {todo}")
        }
        rustls::Error::InvalidCertificate(c) => format!(
            "the server's certificate was not accepted: {}",
            certificate_words(c)
        ),
        rustls::Error::InvalidMessage(_)
        | rustls::Error::PeerSentOversizedRecord
        | rustls::Error::InappropriateMessage { .. } => a.not_tls(),
        rustls::Error::AlertReceived(alert) => format!(
            "the server ended the TLS handshake (alert: {})",
            camel_words(&format!("{alert:?}"))
        ),
        rustls::Error::PeerIncompatible(_) => {
            "the server and crmsync have no TLS version or cipher in common (crmsync needs TLS 1.2 or newer)"
                .into()
        }
        rustls::Error::NoCertificatesPresented => "the server presented no certificate".into(),
        other => format!("TLS failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x11a_fingerprints_parse_as_openssl_and_others_print_them() {
        let want: [u8; 32] = core::array::from_fn(|i| i as u8 * 7);
        let colons = fingerprint_text(&want);
        for text in [
            colons.clone(),
            colons.to_lowercase(),
            colons.replace(':', ""),
            format!("sha256 Fingerprint={colons}"),
            format!("SHA256:{}", colons.replace(':', "")),
        ] {
            assert_eq!(parse_fingerprint(&text).unwrap(), want, "{text}");
        }
        for bad in ["", "12:34", "zz", &colons[3..]] {
            let e = parse_fingerprint(bad).unwrap_err().to_string();
            assert!(e.contains("64 hex digits"), "{e}");
        }
    }

    /// Issue 16 item 5: the advice fits the problem; no Debug text.
    #[test]
    fn x11a_refusals_in_words_with_advice_only_where_it_can_help() {
        let fp = "AB:CD".to_string();
        let words = |p: Problem| explain(&refused(p, fp.clone()), Advice::imap("m"));
        let untrusted = words(Problem::Certificate(CertificateError::UnknownIssuer));
        assert!(
            untrusted.contains("tls_fingerprint = \"AB:CD\"") && untrusted.contains("ca_file"),
            "{untrusted}"
        );
        let expired = words(Problem::Certificate(CertificateError::ExpiredContext {
            time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_800_000_000)),
            not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_700_000_000)),
        }));
        assert!(expired.contains("expired on 2023-11-14"), "{expired}");
        assert!(
            expired.contains("ca_file cannot") && !expired.contains("set ca_file"),
            "{expired}"
        );
        let wrong_host = words(Problem::Certificate(
            CertificateError::NotValidForNameContext {
                expected: ServerName::try_from("mail.example.com").unwrap().to_owned(),
                presented: vec![
                    "DnsName(\"other.example\")".into(),
                    "IpAddress(10.0.0.1)".into(),
                ],
            },
        ));
        assert!(
            wrong_host.contains("issued for other.example, 10.0.0.1, not for mail.example.com")
                && !wrong_host.contains("set ca_file"),
            "{wrong_host}"
        );
        let pinned = words(Problem::NotPinned("EF:01".into()));
        assert!(
            pinned.contains("EF:01") && pinned.contains("AB:CD") && pinned.contains("renewed"),
            "{pinned}"
        );
        let alert = explain(
            &rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
            Advice::imap("m"),
        );
        assert!(alert.contains("(alert: handshake failure)"), "{alert}");
        let plain = explain(
            &rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
            Advice::imap("m"),
        );
        assert!(
            plain.contains("plain-text port? use port 993") && plain.contains("tls = \"starttls\""),
            "{plain}"
        );
        // X18: the port named when known.
        let plain143 = explain(
            &rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
            Advice::imap("m").on_port(Some(143)),
        );
        assert!(
            plain143.starts_with(
                "port 143 answered without TLS: it is a plain-text port; use port 993"
            ),
            "{plain143}"
        );
        for text in [
            &untrusted,
            &expired,
            &wrong_host,
            &pinned,
            &plain,
            &plain143,
        ] {
            for debug in [
                "Other(",
                "Refused {",
                "Context {",
                "InvalidContentType",
                "DnsName(",
            ] {
                assert!(!text.contains(debug), "{debug} in {text}");
            }
        }
    }
}
