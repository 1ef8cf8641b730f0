//! The REST CRM connection (B2): presets describe a known CRM's API, so a
//! new CRM is a new preset, not new code in the commands. This module holds
//! the connection and the reachability check used by `crmsync check`.

use anyhow::Result;
use reqwest::StatusCode;

use crate::config::Config;
use crate::error::usage;
use crate::net::http;
use crate::net::tls::TlsSettings;
use crate::secret::Secret;

/// What crmsync knows about one CRM's REST API.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub name: &'static str,
    /// `Authorization` scheme for the token.
    pub auth_scheme: &'static str,
    /// A cheap authenticated GET that proves the token works.
    pub ping_path: &'static str,
}

pub const PRESETS: &[Preset] = &[Preset {
    name: "bottlecrm",
    auth_scheme: "Bearer",
    ping_path: "/api/contacts/?limit=1",
}];

/// The preset a config names.
///
/// # Errors
/// A usage error listing the known presets.
pub fn preset(cfg: &Config) -> Result<Preset> {
    let name = cfg
        .crm
        .rest
        .as_ref()
        .and_then(|r| r.preset.as_deref())
        .unwrap_or("bottlecrm");
    PRESETS
        .iter()
        .copied()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            usage(format!(
                "crm.rest.preset = \"{name}\" is unknown; known presets: {}",
                PRESETS
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// Why a REST request failed; `Auth` blocks the `crm` account (X2).
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error("the CRM refused the token (HTTP {0})")]
    Auth(u16),
    #[error("{0}")]
    Other(String),
}

/// Checks that the CRM answers and accepts the token; returns a short
/// description for the `check` table.
///
/// # Errors
/// [`RestError::Auth`] for a refused token, [`RestError::Other`] otherwise.
pub fn ping(cfg: &Config, token: &Secret) -> Result<String, RestError> {
    let rest = cfg
        .crm
        .rest
        .as_ref()
        .ok_or_else(|| RestError::Other("no [crm.rest] table in the config".into()))?;
    let p = preset(cfg).map_err(|e| RestError::Other(format!("{e:#}")))?;
    let tls = TlsSettings {
        ca_file: rest.ca_file.clone(),
        insecure_skip_verify: rest.insecure_skip_verify,
    };
    let client =
        http::client(&tls, rest.timeout).map_err(|e| RestError::Other(format!("{e:#}")))?;
    let url = format!(
        "{}{}",
        rest.base_url.get_ref().trim_end_matches('/'),
        p.ping_path
    );
    let resp = client
        .get(&url)
        .header(
            "Authorization",
            format!("{} {}", p.auth_scheme, token.expose()),
        )
        .send()
        .map_err(|e| {
            if http::is_certificate_error(&e) {
                RestError::Other(format!(
                    "TLS with {url} failed: certificate not accepted; set crm.rest.ca_file"
                ))
            } else {
                RestError::Other(format!(
                    "GET {url} failed: {e}; is the CRM running and base_url right?"
                ))
            }
        })?;
    match resp.status() {
        s if s.is_success() => Ok(format!("{} answers at {}", p.name, rest.base_url.get_ref())),
        s @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => Err(RestError::Auth(s.as_u16())),
        s => Err(RestError::Other(format!("GET {url} answered HTTP {s}"))),
    }
}
