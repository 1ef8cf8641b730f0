//! TLS for IMAP and HTTP (X11): certificates are verified against the
//! system's roots by default; an account may add its own CA file, and only
//! an explicit `insecure_skip_verify = true` turns verification off.

use std::path::Path;
use std::sync::{Arc, Once};

use anyhow::{Context, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

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
    pub ca_file: Option<std::path::PathBuf>,
    pub insecure_skip_verify: bool,
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
/// An unreadable CA file or a platform verifier that cannot start.
pub fn client_config(settings: &TlsSettings) -> Result<Arc<ClientConfig>> {
    install_provider();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("setting up TLS")?;
    let config = if settings.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth()
    } else {
        let extra = match &settings.ca_file {
            Some(p) => load_pem(p)?,
            None => Vec::new(),
        };
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider)
            .context("loading the system's trusted certificates")?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// Accepts any certificate: only behind `insecure_skip_verify = true`.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
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
            &self.0.signature_verification_algorithms,
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
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Says what to do about a certificate failure, for error messages.
pub fn certificate_hint(account: &str) -> String {
    format!(
        "the server's certificate was not accepted; if it is signed by your own CA, set ca_file = \"/path/ca.pem\" \
         for account `{account}` (or, for a test server only, insecure_skip_verify = true)"
    )
}
