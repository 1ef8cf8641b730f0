//! The blocking HTTP client for DAV and REST: one connection pool per
//! server, bounded timeouts, our TLS settings (X11).

use std::time::Duration;

use anyhow::{Context, Result};

use super::tls::{TlsSettings, client_config};

/// A reqwest client for one server.
///
/// # Errors
/// TLS setup errors.
pub fn client(tls: &TlsSettings, timeout_secs: u64) -> Result<reqwest::blocking::Client> {
    let config = client_config(tls)?;
    reqwest::blocking::Client::builder()
        .tls_backend_preconfigured((*config).clone())
        .timeout(Duration::from_secs(timeout_secs.max(1)))
        .connect_timeout(Duration::from_secs(timeout_secs.clamp(1, 15)))
        .user_agent(concat!("crmsync/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("setting up the HTTP client")
}

/// True when a reqwest error (anywhere in the chain) is a certificate problem.
pub fn is_certificate_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<rustls::Error>()
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
