//! The REST CRM connection (B2). A preset describes a CRM's API as data
//! (paths, JSON pointers, field names; `presets/bottlecrm.toml`), so another
//! CRM is another preset file, not new code in the commands. [`Client`]
//! speaks HTTP with retries (429/5xx, Retry-After) and turns a refusal into
//! an error naming the record and the field; `crm::remote` does the
//! directory cache and the outbox on top of it.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use reqwest::StatusCode;
use reqwest::blocking::{RequestBuilder, Response};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::usage;
use crate::net::http::{self, Retry};
use crate::net::tls::TlsSettings;
use crate::secret::Secret;

/// The built-in presets: (name, TOML).
const BUILT_IN: &[(&str, &str)] = &[("bottlecrm", include_str!("presets/bottlecrm.toml"))];

/// What crmsync knows about one CRM's REST API (docs/CRM-REST.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub name: String,
    /// `Authorization` scheme for the token, e.g. `Bearer`.
    pub auth_scheme: String,
    /// A cheap authenticated GET that proves the token works.
    pub ping: String,
    /// Concepts the CRM lacks (`favorites`, `sales_groups`, `rep`).
    #[serde(default)]
    pub unsupported: Vec<String>,
    pub paging: Paging,
    pub companies: Companies,
    pub persons: Persons,
    pub activities: Activities,
    pub tasks: Tasks,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    pub limit: String,
    pub offset: String,
    pub size: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Companies {
    pub list: String,
    pub items: String,
    pub fields: CompanyFields,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyFields {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub website: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persons {
    pub list: String,
    pub items: String,
    pub create: String,
    pub created_id: String,
    /// `{email}`: the persons carrying an address (may be a substring match).
    pub find: String,
    /// Where a list page names the CRM's users (for the rep).
    pub users: Option<String>,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub user_email: String,
    pub fields: PersonFields,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonFields {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub assigned_to: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activities {
    pub create: String,
    pub created_id: String,
    pub update: String,
    pub delete: String,
    /// `{link}` (person_link or company_link) and `{id}`.
    pub list: String,
    pub items: String,
    pub person_link: String,
    pub company_link: String,
    /// Appointments starting later than this many seconds from now go to
    /// the tasks.
    pub future_secs: i64,
    pub fields: ActivityFields,
    /// Constant fields per crmsync activity type (`email_in`, `meeting`...).
    pub kinds: BTreeMap<String, Map<String, Value>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityFields {
    pub id: String,
    pub occurred_at: String,
    pub duration: Option<String>,
    pub subject: String,
    pub subject_max: usize,
    pub body: String,
    pub body_max: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tasks {
    pub create: String,
    /// `{title}`: the tasks with (or containing) a title.
    pub search: String,
    pub search_items: String,
    /// One task with its description.
    pub detail: String,
    pub detail_item: String,
    pub update: String,
    pub delete: String,
    pub list: String,
    pub items: String,
    pub fields: TaskFields,
    pub status: TaskStatus,
    #[serde(default)]
    pub constants: Map<String, Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFields {
    pub id: String,
    pub title: String,
    pub title_max: usize,
    /// A date (YYYY-MM-DD).
    pub due: String,
    pub description: String,
    /// An array of person ids.
    pub persons: String,
    pub company: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskStatus {
    pub open: String,
    pub done: String,
}

impl Preset {
    /// The preset a config names: `preset_file`, else the built-in
    /// `preset` (default `bottlecrm`).
    ///
    /// # Errors
    /// A usage error for an unknown name or an unreadable file.
    pub fn of(cfg: &Config) -> Result<Preset> {
        let rest = cfg.crm.rest.as_ref();
        if let Some(file) = rest.and_then(|r| r.preset_file.as_deref()) {
            return Self::from_file(file);
        }
        let name = rest
            .and_then(|r| r.preset.as_deref())
            .unwrap_or("bottlecrm");
        let (_, text) = BUILT_IN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            usage(format!(
                "crm.rest.preset = \"{name}\" is unknown; known presets: {}; or describe your CRM in a file \
                 and set crm.rest.preset_file (docs/CRM-REST.md)",
                BUILT_IN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ))
        })?;
        toml::from_str(text).with_context(|| format!("built-in preset {name}"))
    }

    fn from_file(path: &Path) -> Result<Preset> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            usage(format!(
                "crm.rest.preset_file {}: {e}; point it at a preset file (docs/CRM-REST.md)",
                path.display()
            ))
        })?;
        toml::from_str(&text).map_err(|e| {
            usage(format!(
                "crm.rest.preset_file {}: {}; compare with the BottleCRM preset in docs/CRM-REST.md",
                path.display(),
                e.message().trim()
            ))
        })
    }

    /// B2: fails clearly when the config asks for a concept this CRM lacks.
    ///
    /// # Errors
    /// A usage error naming the setting and why it cannot be honoured.
    pub fn check_config(&self, cfg: &Config) -> Result<()> {
        let lacks = |c: &str| self.unsupported.iter().any(|u| u == c);
        if cfg.contacts.by_favorites && lacks("favorites") {
            return Err(usage(format!(
                "contacts.by_favorites = true: {} has no favorites; set it to false (docs/CRM-REST.md)",
                self.name
            )));
        }
        if cfg.contacts.by_sales_group && lacks("sales_groups") {
            return Err(usage(format!(
                "contacts.by_sales_group = true: {} has no sales groups; set it to false (docs/CRM-REST.md)",
                self.name
            )));
        }
        if cfg.contacts.by_rep && lacks("rep") {
            return Err(usage(format!(
                "contacts.by_rep = true: {} does not name a rep per person; set it to false (docs/CRM-REST.md)",
                self.name
            )));
        }
        Ok(())
    }
}

/// Why a REST request failed.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// The token was refused: blocks the `crm` account (X2).
    #[error("the CRM refused the token (HTTP {0})")]
    Auth(u16),
    /// The CRM refused one record (4xx): the message names the record and
    /// the fields. Other records go on.
    #[error("the CRM refused {0}")]
    Rejected(String),
    /// No usable answer (down, timeout, cut, 5xx after the retries): the
    /// run stops; the next one resumes.
    #[error("{0}")]
    Transport(String),
}

impl RestError {
    /// The CRM answered 404: the record named in the request (or the one
    /// it hangs on) does not exist there (any more). Per record (B3).
    pub fn is_not_found(&self) -> bool {
        matches!(self, RestError::Rejected(m) if m.contains("(HTTP 404)"))
    }
}

/// A connection to the REST CRM: one HTTP client (connections reused),
/// the token, the preset.
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
    auth: String,
    retry: Retry,
    /// X12, X13: `max_response` and `deadline` of `[crm.rest]`.
    bounds: http::Bounds,
    pub preset: Preset,
}

impl Client {
    /// # Errors
    /// A usage error when `[crm.rest]` is missing or the preset unknown;
    /// TLS setup errors.
    pub fn new(cfg: &Config, token: &Secret) -> Result<Client> {
        let rest = cfg.crm.rest.as_ref().ok_or_else(|| {
            usage(
                "crm.backend = \"rest\" needs a [crm.rest] table with base_url and a token source",
            )
        })?;
        let preset = Preset::of(cfg)?;
        let tls = TlsSettings {
            ca_file: rest.ca_file.clone(),
            fingerprint: rest.tls_fingerprint.clone(),
            insecure_skip_verify: rest.insecure_skip_verify,
        };
        Ok(Client {
            http: http::client(&tls, rest.timeout)?,
            base: rest.base_url.get_ref().trim_end_matches('/').to_string(),
            auth: format!("{} {}", preset.auth_scheme, token.expose()),
            retry: Retry::new(rest.attempts),
            bounds: http::Bounds {
                max_body: rest.max_response.0,
                deadline: std::time::Duration::from_secs(rest.deadline.max(1)),
            },
            preset,
        })
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn send(
        &self,
        make: impl Fn() -> RequestBuilder,
        idempotent: bool,
        what: &str,
        url: &str,
    ) -> Result<Response, RestError> {
        let resp = http::send(
            || make().header("Authorization", &self.auth),
            &self.retry,
            idempotent,
        )
        .map_err(|e| {
            if let Some(t) = crate::net::tls::rustls_error(&e) {
                RestError::Transport(format!(
                    "TLS with {url} failed: {}",
                    crate::net::tls::explain(
                        t,
                        crate::net::tls::Advice::rest().on_port(
                            reqwest::Url::parse(url)
                                .ok()
                                .and_then(|u| u.port_or_known_default())
                        )
                    )
                ))
            } else if let Some(c) = http::cross_origin(&e) {
                // X3a: the token goes to the configured origin only.
                let origin = reqwest::Url::parse(&c.to)
                    .map(|u| http::origin_text(&u))
                    .unwrap_or_else(|_| c.to.clone());
                RestError::Transport(format!(
                    "{what}: refused: {c}: crm.rest.base_url = \"{origin}\""
                ))
            } else if e.is_timeout() {
                RestError::Transport(format!(
                    "{what}: {url} gave no answer within the timeout (crm.rest.timeout); is the CRM overloaded?"
                ))
            } else {
                RestError::Transport(format!(
                    "{what}: {url} failed: {}; is the CRM running and crm.rest.base_url right?",
                    chain(&e)
                ))
            }
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        // X12, X13: an error body is read for its message only.
        let bounds = http::Bounds {
            max_body: 64 << 10,
            ..self.bounds
        };
        let body = http::read_body(resp, std::time::Instant::now(), &bounds)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        Err(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => RestError::Auth(status.as_u16()),
            s if s.is_client_error() => {
                RestError::Rejected(format!("{what} (HTTP {}): {}", s.as_u16(), refusal(&body)))
            }
            s => RestError::Transport(format!(
                "{what}: {url} answered HTTP {} after {} attempts; try again later",
                s.as_u16(),
                self.retry.attempts
            )),
        })
    }

    /// The answer's body as JSON, read within [`Client::bounds`] (X12, X13).
    fn json(&self, resp: Response, what: &str) -> Result<Value, RestError> {
        self.read_json(resp, what).map_err(|(_, e)| e)
    }

    /// [`Client::json`], saying whether the answer may have been cut (then
    /// a GET may be asked again; an answer over a bound is not asked again).
    fn read_json(&self, resp: Response, what: &str) -> Result<Value, (bool, RestError)> {
        let url = resp.url().to_string();
        let body = http::read_body(resp, std::time::Instant::now(), &self.bounds).map_err(|e| {
            let cut = matches!(e, http::BodyError::Read(_));
            let text = match e {
                http::BodyError::TooLarge(max) => format!(
                    "{what}: X12: the answer from {url} is larger than {max} bytes; \
                     nothing of it was used (raise crm.rest.max_response if the CRM's pages are that large)"
                ),
                http::BodyError::Deadline(secs) => format!(
                    "{what}: X13: the answer from {url} did not arrive within the deadline of {secs} s \
                     (raise crm.rest.deadline if the CRM is that slow)"
                ),
                http::BodyError::Read(e) => format!("{what}: the answer was cut: {e}"),
            };
            (cut, RestError::Transport(text))
        })?;
        if body.trim_ascii().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&body).map_err(|e| {
            (
                true, // as a cut answer may read (no length, connection closed)
                RestError::Transport(format!(
                    "{what}: the answer is not JSON ({e}); is crm.rest.base_url the API's root?"
                )),
            )
        })
    }

    /// GET `path` as JSON (retried: idempotent).
    ///
    /// # Errors
    /// See [`RestError`].
    pub fn get(&self, path: &str, what: &str) -> Result<Value, RestError> {
        let url = self.url(path);
        let mut attempt = 1;
        loop {
            let resp = self.send(|| self.http.get(&url), true, what, &url)?;
            match self.read_json(resp, what) {
                // An answer cut mid-body: a GET may simply be asked again.
                Err((true, _)) if attempt < self.retry.attempts => attempt += 1,
                other => return other.map_err(|(_, e)| e),
            }
        }
    }

    /// POST `body` to `path`. Not retried after a lost connection: the
    /// caller's outbox finds out whether it was stored (X5).
    ///
    /// # Errors
    /// See [`RestError`].
    pub fn post(&self, path: &str, body: &Value, what: &str) -> Result<Value, RestError> {
        let url = self.url(path);
        let resp = self.send(|| self.http.post(&url).json(body), false, what, &url)?;
        self.json(resp, what)
    }

    /// PATCH `body` to `path` (retried: the same PATCH twice is one change).
    ///
    /// # Errors
    /// See [`RestError`].
    pub fn patch(&self, path: &str, body: &Value, what: &str) -> Result<(), RestError> {
        let url = self.url(path);
        self.send(|| self.http.patch(&url).json(body), true, what, &url)?;
        Ok(())
    }

    /// DELETE `path`; a record already gone (404) counts as deleted.
    ///
    /// # Errors
    /// See [`RestError`].
    pub fn delete(&self, path: &str, what: &str) -> Result<(), RestError> {
        let url = self.url(path);
        match self.send(|| self.http.delete(&url), true, what, &url) {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every item of a paged list: `path` page by page (the preset's
    /// limit/offset), the array at `items` of each page. Also returns the
    /// first page whole (some CRMs list their users there).
    ///
    /// # Errors
    /// See [`RestError`]; a page without the array is a transport error
    /// (the preset does not fit this server).
    pub fn list(
        &self,
        path: &str,
        items: &str,
        what: &str,
    ) -> Result<(Vec<Value>, Value), RestError> {
        let p = &self.preset.paging;
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut all = Vec::new();
        let mut first = Value::Null;
        for page in 0.. {
            let url = format!(
                "{path}{sep}{}={}&{}={}",
                p.limit,
                p.size,
                p.offset,
                page * p.size
            );
            let v = self.get(&url, what)?;
            let Some(Value::Array(got)) = v.pointer(items) else {
                return Err(RestError::Transport(format!(
                    "{what}: the answer of {} has no list at `{items}`; does the preset fit this CRM?",
                    self.url(&url)
                )));
            };
            let got = got.clone();
            let n = got.len();
            all.extend(got);
            if page == 0 {
                first = v;
            }
            if n < p.size {
                break;
            }
        }
        Ok((all, first))
    }
}

/// An error and its causes on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// B2: what a 4xx answer says, field by field: `{"errors": {"website":
/// ["Enter a valid URL."]}}` (BottleCRM) or `{"website": [...]}` (plain
/// Django REST Framework) becomes "field `website`: Enter a valid URL.".
pub fn refusal(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        let t = body.trim();
        return if t.is_empty() {
            "no reason given".into()
        } else {
            t.chars().take(300).collect()
        };
    };
    let fields = v
        .get("errors")
        .filter(|e| e.is_object())
        .or(Some(&v))
        .and_then(Value::as_object);
    let mut parts = Vec::new();
    if let Some(map) = fields {
        for (k, m) in map {
            if k == "error" {
                continue;
            }
            let msg = match m {
                Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(" "),
                Value::String(s) => s.clone(),
                Value::Bool(_) => continue,
                other => other.to_string(),
            };
            if k == "non_field_errors" || k == "detail" || k == "message" {
                parts.push(msg);
            } else {
                parts.push(format!("field `{k}`: {msg}"));
            }
        }
    }
    if parts.is_empty() {
        body.chars().take(300).collect()
    } else {
        parts.join("; ")
    }
}

/// Checks that the CRM answers and accepts the token; returns a short
/// description for the `check` table.
///
/// # Errors
/// [`RestError::Auth`] for a refused token, [`RestError::Transport`] or
/// [`RestError::Rejected`] otherwise.
pub fn ping(cfg: &Config, token: &Secret) -> Result<String, RestError> {
    let client = Client::new(cfg, token).map_err(|e| RestError::Transport(format!("{e:#}")))?;
    let what = format!("GET {}", client.url(&client.preset.ping));
    client.get(&client.preset.ping, &what)?;
    Ok(format!("{} answers at {}", client.preset.name, client.base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b2_the_built_in_preset_parses() {
        let p: Preset = toml::from_str(BUILT_IN[0].1).unwrap();
        assert_eq!(p.name, "bottlecrm");
        assert_eq!(p.activities.kinds["email_in"]["direction"], "inbound");
        assert_eq!(p.tasks.constants["priority"], "Medium");
    }

    #[test]
    fn b2_a_refusal_names_the_field() {
        assert_eq!(
            refusal(r#"{"error": true, "errors": {"website": ["Enter a valid URL."]}}"#),
            "field `website`: Enter a valid URL."
        );
        assert_eq!(
            refusal(r#"{"subject": ["Ensure this field has no more than 200 characters."]}"#),
            "field `subject`: Ensure this field has no more than 200 characters."
        );
        assert_eq!(
            refusal(r#"{"error":true,"errors":{"non_field_errors":["Name exactly one record."]}}"#),
            "Name exactly one record."
        );
        assert_eq!(refusal("<html>Bad</html>"), "<html>Bad</html>");
        assert_eq!(refusal(""), "no reason given");
    }
}
