//! The WebDAV core shared by CalDAV and CardDAV: PROPFIND/REPORT requests,
//! a namespace-aware multistatus parser (quick-xml), and discovery from a
//! principal or home URL (RFC 5397 current-user-principal, RFC 4791
//! calendar-home-set, RFC 6352 addressbook-home-set).
//!
//! Items are read and written the same way for both kinds: a listing gives
//! (href, ETag) pairs, from the collection's sync-token (RFC 6578
//! sync-collection) where the server offers one, else from a Depth 1
//! PROPFIND; bodies come in multiget batches; writes are conditional (PUT
//! with `If-None-Match: *` to create, `If-Match` to replace, DELETE with
//! `If-Match`), so an item changed by someone else since it was read is
//! never overwritten by accident (HTTP 412). New collections are made with
//! extended MKCOL (RFC 5689). Redirects (e.g. `/.well-known/carddav`) are
//! followed by the HTTP client with method and body kept (301, 302, 307,
//! 308) within the configured origin only, and hrefs are taken relative to
//! the configured URL; an href or redirect to another origin is refused
//! (X3a): the account's password goes to no other scheme, host or port.

use anyhow::{Context, Result};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use reqwest::Method;
use reqwest::blocking::Client;
use reqwest::{StatusCode, Url};

use crate::config::DavAccount;
use crate::net::http;
use crate::net::tls::TlsSettings;
use crate::secret::Secret;

pub const NS_DAV: &str = "DAV:";
pub const NS_CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
pub const NS_CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
pub const NS_CS: &str = "http://calendarserver.org/ns/";

/// Why a DAV request failed; `Auth` blocks the account (X2).
#[derive(Debug, thiserror::Error)]
pub enum DavError {
    #[error("the server refused the login (HTTP {0})")]
    Auth(u16),
    #[error("{0}")]
    Http(String),
    #[error("unexpected answer from {url}: {detail}")]
    Protocol { url: String, detail: String },
    /// 412: the item changed on the server since it was read (If-Match), or
    /// exists already (If-None-Match).
    #[error("{url}: the server's copy is not the one expected (HTTP 412 Precondition Failed)")]
    PreconditionFailed { url: String },
    /// A write or report the server refused (409, 403, 507 ...); `condition`
    /// names the DAV precondition from the error body, if any.
    #[error("{url}: the server refused the request (HTTP {status}{}){}", condition.as_deref().map(|c| format!(", {c}")).unwrap_or_default(), status_hint(*status))]
    Rejected {
        url: String,
        status: u16,
        condition: Option<String>,
    },
    /// RFC 6578: the stored sync-token is no longer valid; list everything.
    #[error("{url}: the sync token is no longer valid")]
    InvalidSyncToken { url: String },
    #[error("{url} does not exist (HTTP 404)")]
    NotFound { url: String },
}

fn status_hint(status: u16) -> &'static str {
    match status {
        507 => ": the server is out of storage or over quota",
        409 => ": it conflicts with an item on the server",
        413 => ": the item is larger than the server accepts",
        _ => "",
    }
}

/// A conditional write (RFC 7232).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition<'a> {
    /// `If-None-Match: *`: create only, never replace.
    Create,
    /// `If-Match: <etag>`: replace exactly this version.
    IfMatch(&'a str),
}

/// One member of a collection with its ETag (listings, sync reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub href: String,
    pub etag: String,
}

/// What changed in a collection since a sync-token (RFC 6578).
#[derive(Debug, Clone, Default)]
pub struct SyncDelta {
    /// The token to use next time.
    pub token: String,
    /// New or changed members with their ETag.
    pub changed: Vec<Member>,
    /// Hrefs of members removed since the old token.
    pub removed: Vec<String>,
}

/// One item of a multiget: `data` is None when the server has no such item.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub href: String,
    pub etag: Option<String>,
    pub data: Option<String>,
}

/// What discovery found: the home set and the collections in it.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub home: Url,
    pub collections: Vec<Collection>,
}

/// One property inside a `propstat`.
#[derive(Debug, Clone, Default)]
pub struct Prop {
    pub ns: String,
    pub name: String,
    /// HTTP status of its propstat (200 = found).
    pub status: u16,
    /// Text content (ETag, sync-token, calendar-data, displayname ...).
    pub text: String,
    /// `href` children (current-user-principal, home sets).
    pub hrefs: Vec<String>,
    /// Other child elements: (namespace, name, `name` attribute if any),
    /// e.g. resourcetype's `calendar`, or `comp name="VEVENT"`.
    pub children: Vec<(String, String, Option<String>)>,
    /// Every attribute of those child elements, in order, e.g.
    /// `("version", "4.0")` of supported-address-data's address-data-type.
    pub attrs: Vec<(String, String)>,
}

/// One `response` of a multistatus.
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub href: String,
    /// The response-level status, for responses without propstat.
    pub status: Option<u16>,
    pub props: Vec<Prop>,
}

impl Response {
    /// A property found (status 200) by namespace and name.
    pub fn prop(&self, ns: &str, name: &str) -> Option<&Prop> {
        self.props
            .iter()
            .find(|p| p.status == 200 && p.ns == ns && p.name == name)
    }
    pub fn has_type(&self, ns: &str, name: &str) -> bool {
        self.prop(NS_DAV, "resourcetype")
            .is_some_and(|p| p.children.iter().any(|(n, l, _)| n == ns && l == name))
    }
}

fn status_code(text: &str) -> u16 {
    // "HTTP/1.1 200 OK"
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Parses a 207 multistatus body.
///
/// # Errors
/// Malformed XML.
pub fn parse_multistatus(body: &[u8]) -> Result<Vec<Response>> {
    let mut reader = NsReader::from_reader(body);
    reader.config_mut().trim_text(false);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut path: Vec<(String, String)> = Vec::new();
    let mut cur: Option<Response> = None;
    // One propstat's properties and its status, applied together at
    // `</propstat>`: the status may come before or after the `<prop>`
    // (issue 15: Xandikos writes it first).
    let mut stat_props: Vec<Prop> = Vec::new();
    let mut stat_status: u16 = 0;
    let mut prop: Option<Prop> = None;
    let mut text = String::new();
    loop {
        let (ns_res, ev) = reader
            .read_resolved_event_into(&mut buf)
            .context("parsing the WebDAV answer")?;
        let (start, is_empty) = match &ev {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let ns = match ns_res {
                ResolveResult::Bound(n) => n.as_ref().to_string(),
                _ => String::new(),
            };
            let local = e.local_name().as_ref().to_string();
            let in_prop = path.last().is_some_and(|(n, l)| n == NS_DAV && l == "prop");
            match (ns.as_str(), local.as_str()) {
                (NS_DAV, "response") => cur = Some(Response::default()),
                (NS_DAV, "propstat") => {
                    stat_props.clear();
                    stat_status = 0;
                }
                _ if in_prop => {
                    prop = Some(Prop {
                        ns: ns.clone(),
                        name: local.clone(),
                        ..Prop::default()
                    })
                }
                _ => {
                    if let Some(p) = prop.as_mut()
                        && !(ns == NS_DAV && local == "href")
                    {
                        let name_attr = e.try_get_attribute("name").ok().flatten().and_then(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .ok()
                                .map(|v| v.into_owned())
                        });
                        p.children.push((ns.clone(), local.clone(), name_attr));
                        for a in e.attributes().flatten() {
                            if let Ok(v) = a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                                p.attrs.push((
                                    a.key.local_name().as_ref().to_string(),
                                    v.into_owned(),
                                ));
                            }
                        }
                    }
                }
            }
            text.clear();
            if !is_empty {
                path.push((ns, local));
            } else if in_prop && let Some(p) = prop.take() {
                // An empty property such as <d:getetag/>: complete already.
                stat_props.push(p);
            }
            buf.clear();
            continue;
        }
        match (ns_res, ev) {
            // Issue 9: a DTD can declare entities ("billion laughs"); no
            // WebDAV server needs one, so it is refused, never expanded.
            (_, Event::DocType(_)) => anyhow::bail!(
                "the answer declares a DTD (<!DOCTYPE ...>), which WebDAV never uses; \
                 refused without expanding its entities"
            ),
            (_, Event::Text(t)) => {
                text.push_str(&t.xml10_content());
            }
            (_, Event::CData(t)) => text.push_str(&t.xml10_content()),
            (_, Event::GeneralRef(r)) => {
                let name = r.as_ref().to_string();
                let ch = match name.as_str() {
                    "amp" => "&".to_string(),
                    "lt" => "<".into(),
                    "gt" => ">".into(),
                    "quot" => "\"".into(),
                    "apos" => "'".into(),
                    n if n.starts_with("#x") => u32::from_str_radix(&n[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                        .map(String::from)
                        .unwrap_or_default(),
                    n if n.starts_with('#') => n[1..]
                        .parse::<u32>()
                        .ok()
                        .and_then(char::from_u32)
                        .map(String::from)
                        .unwrap_or_default(),
                    // No DTD processing: unknown entities are never expanded.
                    _ => String::new(),
                };
                text.push_str(&ch);
            }
            (_, Event::End(_)) => {
                let Some((ns, local)) = path.pop() else {
                    continue;
                };
                let parent = path.last().map(|(n, l)| (n.as_str(), l.as_str()));
                match (ns.as_str(), local.as_str(), parent) {
                    (NS_DAV, "href", Some((NS_DAV, "response"))) => {
                        if let Some(r) = cur.as_mut() {
                            r.href = text.trim().to_string();
                        }
                    }
                    (NS_DAV, "href", _) => {
                        if let Some(p) = prop.as_mut() {
                            p.hrefs.push(text.trim().to_string());
                        }
                    }
                    (NS_DAV, "status", Some((NS_DAV, "propstat"))) => {
                        stat_status = status_code(&text);
                    }
                    (NS_DAV, "status", Some((NS_DAV, "response"))) => {
                        if let Some(r) = cur.as_mut() {
                            r.status = Some(status_code(&text));
                        }
                    }
                    (NS_DAV, "propstat", _) => {
                        for p in &mut stat_props {
                            p.status = stat_status;
                        }
                        if let Some(r) = cur.as_mut() {
                            r.props.append(&mut stat_props);
                        }
                    }
                    (NS_DAV, "response", _) => {
                        if let Some(r) = cur.take() {
                            out.push(r);
                        }
                    }
                    (_, _, Some((NS_DAV, "prop"))) => {
                        if let Some(mut p) = prop.take() {
                            if p.text.is_empty() {
                                p.text = text.clone();
                            }
                            stat_props.push(p);
                        }
                    }
                    _ => {}
                }
                if !(ns == NS_DAV && local == "href") {
                    text.clear();
                }
            }
            (_, Event::Eof) => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

/// A DAV server session for one account: base URL, credentials, client.
pub struct Dav {
    pub client: Client,
    pub base: Url,
    /// The account's name, for messages and advice in errors.
    account: String,
    login: String,
    password: Secret,
    /// X12, X13: `max_response` and `deadline` of the account.
    bounds: http::Bounds,
}

/// X12: a 207 may have one XML element per this many bytes of
/// `max_response` (16 MB: 104,857 elements, some 15,000 members listed
/// with their ETags); parsed, an element takes up to ~200 bytes, so the
/// parsed answer stays within a few times `max_response`.
pub const BYTES_PER_ELEMENT: u64 = 160;

/// X12: refuses a body with more XML elements than `max` (counted as `<`
/// not starting an end tag, a declaration or a processing instruction;
/// comments and CDATA sections are passed over whole) before it is parsed.
fn check_elements(body: &[u8], max: u64) -> Result<(), u64> {
    let find = |from: usize, what: &[u8]| {
        body.get(from..)
            .and_then(|b| b.windows(what.len()).position(|w| w == what))
            .map(|p| from + p + what.len())
    };
    let mut n = 0u64;
    let mut i = 0;
    while let Some(p) = body
        .get(i..)
        .and_then(|b| b.iter().position(|&c| c == b'<'))
    {
        let at = i + p + 1;
        let rest = &body[at..];
        i = if rest.starts_with(b"![CDATA[") {
            find(at, b"]]>").unwrap_or(body.len())
        } else if rest.starts_with(b"!--") {
            find(at, b"-->").unwrap_or(body.len())
        } else {
            if !matches!(rest.first(), Some(b'/' | b'?' | b'!')) {
                n += 1;
                if n > max {
                    return Err(max);
                }
            }
            at
        };
    }
    Ok(())
}

/// What discovery found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Collection {
    pub href: String,
    pub name: String,
    /// VEVENT / VTODO for calendars; empty for address books.
    pub components: Vec<String>,
    /// vCard versions an address book accepts (RFC 6352
    /// supported-address-data; empty when the server does not say).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vcard_versions: Vec<String>,
    /// The collection's current sync-token (RFC 6578), when the server sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_token: Option<String>,
    /// The collection's ctag (CalendarServer getctag), when asked for: it
    /// changes with every change of a member, and is cheaper for a server
    /// to compute than a sync-token (Radicale: half the time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctag: Option<String>,
}

impl Dav {
    /// Prepares a session (no request yet).
    ///
    /// # Errors
    /// A malformed URL or TLS setup errors.
    pub fn new(account: &DavAccount, password: Secret) -> Result<Dav> {
        let url = account.url.as_deref().unwrap_or("");
        let base = Url::parse(url)
            .with_context(|| format!("account `{}`: url `{url}` is not a URL", account.name()))?;
        let tls = TlsSettings {
            ca_file: account.ca_file.clone(),
            fingerprint: account.tls_fingerprint.clone(),
            insecure_skip_verify: account.insecure_skip_verify,
        };
        Ok(Dav {
            account: account.name().to_string(),
            client: http::client(&tls, account.timeout)?,
            base,
            login: account
                .login
                .clone()
                .unwrap_or_else(|| account.user().to_string()),
            password,
            bounds: http::Bounds {
                max_body: account.max_response.0,
                deadline: std::time::Duration::from_secs(account.deadline.max(1)),
            },
        })
    }

    /// The body of a 207 within the account's bounds (X12, X13), its XML
    /// elements counted: what [`parse_multistatus`] may be given.
    fn multistatus_body(
        &self,
        method: &str,
        url: &Url,
        resp: reqwest::blocking::Response,
        started: std::time::Instant,
    ) -> Result<Vec<u8>, DavError> {
        let account = &self.account;
        let too_large = |what: String| DavError::Protocol {
            url: url.to_string(),
            detail: format!(
                "{what} (X12: `max_response` of account `{account}`); refused to keep memory \
                 bounded; if the collection really is that large, raise `max_response` for this account"
            ),
        };
        let body = http::read_body(resp, started, &self.bounds).map_err(|e| match e {
            http::BodyError::TooLarge(n) => too_large(format!("the answer is larger than {n} bytes")),
            http::BodyError::Deadline(secs) => DavError::Http(format!(
                "{method} {url}: no complete answer within the deadline of {secs} s (X13: the server \
                 trickles or is overloaded); if it is just slow, raise `deadline` for account `{account}`"
            )),
            http::BodyError::Read(e) => {
                DavError::Http(format!("reading {url}: {}", error_chain(&e)))
            }
        })?;
        check_elements(&body, self.bounds.max_body / BYTES_PER_ELEMENT)
            .map_err(|max| too_large(format!("the answer has more than {max} XML elements")))?;
        Ok(body)
    }

    /// Resolves an href against the base URL.
    ///
    /// # Errors
    /// A malformed href, or one on another origin than the configured URL
    /// (X3a: the password goes to the configured scheme, host and port only).
    pub fn url(&self, href: &str) -> Result<Url> {
        let url = self
            .base
            .join(href)
            .with_context(|| format!("bad href `{href}` from {}", self.base))?;
        if !http::same_origin(&url, &self.base) {
            anyhow::bail!(
                "the server named {url}, on another origin than the configured {} (scheme, host or port differ); \
                 crmsync sends the account's password only to the configured server. If you trust that server, \
                 configure that URL directly: url = \"{url}\"",
                http::origin_text(&self.base)
            );
        }
        Ok(url)
    }

    /// Sends a PROPFIND or REPORT and parses the multistatus.
    ///
    /// # Errors
    /// [`DavError::Auth`] on 401/403, other variants for HTTP and XML errors.
    pub fn request(
        &self,
        method: &str,
        url: &Url,
        depth: &str,
        body: &str,
    ) -> Result<Vec<Response>, DavError> {
        let m = Method::from_bytes(method.as_bytes()).map_err(|e| DavError::Http(e.to_string()))?;
        let started = std::time::Instant::now();
        let resp = self
            .client
            .request(m, url.clone())
            .basic_auth(&self.login, Some(self.password.expose()))
            .header("Depth", depth)
            .header("Content-Type", "application/xml; charset=utf-8")
            .body(body.to_string())
            .send()
            .map_err(|e| self.transport(method, url, &e))?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(DavError::Auth(status.as_u16()));
        }
        if status != StatusCode::MULTI_STATUS {
            return Err(DavError::Protocol {
                url: url.to_string(),
                detail: format!("{method} answered HTTP {status}, expected 207 Multi-Status"),
            });
        }
        let body = self.multistatus_body(method, url, resp, started)?;
        parse_multistatus(&body).map_err(|e| DavError::Protocol {
            url: url.to_string(),
            detail: format!("{e:#}"),
        })
    }

    fn propfind(&self, url: &Url, depth: &str, props: &str) -> Result<Vec<Response>, DavError> {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:propfind xmlns:d=\"DAV:\" xmlns:c=\"{NS_CALDAV}\" xmlns:card=\"{NS_CARDDAV}\" xmlns:cs=\"{NS_CS}\"><d:prop>{props}</d:prop></d:propfind>"
        );
        self.request("PROPFIND", url, depth, &body)
    }

    /// Finds the collections of one kind: from the configured URL to the
    /// principal, its home set, and the collections in it.
    ///
    /// # Errors
    /// [`DavError`] from any step; a server without the home set.
    pub fn discover(&self, kind: DavKind) -> Result<Vec<Collection>, DavError> {
        Ok(self.discover_home(kind, false)?.collections)
    }

    /// [`Dav::discover`] that also returns the home set (where new
    /// collections are made) and, with `probe`, each collection's ctag, so
    /// that an unchanged collection needs no further request (C5).
    ///
    /// # Errors
    /// As [`Dav::discover`].
    pub fn discover_home(&self, kind: DavKind, probe: bool) -> Result<Discovery, DavError> {
        let (home_prop, home_name, coll_type, ns) = match kind {
            DavKind::Calendar => (
                "<c:calendar-home-set/>",
                "calendar-home-set",
                "calendar",
                NS_CALDAV,
            ),
            DavKind::Contacts => (
                "<card:addressbook-home-set/>",
                "addressbook-home-set",
                "addressbook",
                NS_CARDDAV,
            ),
        };
        let perr = |url: &Url, detail: String| DavError::Protocol {
            url: url.to_string(),
            detail,
        };
        let start = self.base.clone();
        let r = self.propfind(
            &start,
            "0",
            &format!("<d:current-user-principal/>{home_prop}<d:resourcetype/>"),
        )?;
        let first = r.first();
        let mut home = first
            .and_then(|r| r.prop(ns, home_name))
            .and_then(|p| p.hrefs.first().cloned());
        if home.is_none() {
            let principal = first
                .and_then(|r| r.prop(NS_DAV, "current-user-principal"))
                .and_then(|p| p.hrefs.first().cloned())
                .ok_or_else(|| {
                    perr(
                        &start,
                        "no current-user-principal; set url to the principal or home collection"
                            .into(),
                    )
                })?;
            let purl = self
                .url(&principal)
                .map_err(|e| perr(&start, format!("{e:#}")))?;
            let r = self.propfind(&purl, "0", home_prop)?;
            home = r
                .first()
                .and_then(|r| r.prop(ns, home_name))
                .and_then(|p| p.hrefs.first().cloned());
        }
        let home = home.ok_or_else(|| {
            perr(
                &start,
                format!(
                    "the principal has no {home_name}; is this a {} server?",
                    kind.protocol()
                ),
            )
        })?;
        let hurl = self
            .url(&home)
            .map_err(|e| perr(&start, format!("{e:#}")))?;
        let r = self.propfind(&hurl, "1", &collection_props(kind, probe))?;
        Ok(Discovery {
            collections: r
                .iter()
                .filter(|resp| resp.has_type(ns, coll_type))
                .map(collection_of)
                .collect(),
            home: hurl,
        })
    }
}

impl Dav {
    /// The path of an href or URL as the server spells it, for comparing
    /// hrefs from listings, reports and our own records.
    pub fn path_of(&self, href: &str) -> String {
        self.base
            .join(href)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| href.to_string())
    }

    /// One request with our credentials; transport errors and 401 mapped.
    fn send(
        &self,
        method: &str,
        url: &Url,
        headers: &[(&str, &str)],
        body: Option<(&str, String)>,
    ) -> Result<reqwest::blocking::Response, DavError> {
        let m = Method::from_bytes(method.as_bytes()).map_err(|e| DavError::Http(e.to_string()))?;
        let mut req = self
            .client
            .request(m, url.clone())
            .basic_auth(&self.login, Some(self.password.expose()));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some((content_type, body)) = body {
            req = req.header("Content-Type", content_type).body(body);
        }
        let resp = req.send().map_err(|e| self.transport(method, url, &e))?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            return Err(DavError::Auth(401));
        }
        Ok(resp)
    }

    /// A failed request in words: TLS problems with what to do (X11a),
    /// a redirect to another origin (X3a), other transport errors.
    fn transport(&self, method: &str, url: &Url, e: &reqwest::Error) -> DavError {
        if let Some(t) = crate::net::tls::rustls_error(e) {
            DavError::Http(format!(
                "TLS with {url} failed: {}",
                crate::net::tls::explain(
                    t,
                    crate::net::tls::Advice::dav(&self.account)
                        .on_port(url.port_or_known_default())
                )
            ))
        } else if let Some(c) = http::cross_origin(e) {
            DavError::Http(format!("{method} {url} refused: {c}: url = \"{}\"", c.to))
        } else {
            DavError::Http(format!("{method} {url} failed: {}", error_chain(e)))
        }
    }

    /// Maps a refusal to its error; reads the DAV precondition from the body.
    fn refused(&self, url: &Url, resp: reqwest::blocking::Response) -> DavError {
        let status = resp.status().as_u16();
        match status {
            404 => DavError::NotFound {
                url: url.to_string(),
            },
            412 => DavError::PreconditionFailed {
                url: url.to_string(),
            },
            _ => {
                // X12, X13: an error body is read for its condition only.
                let bounds = http::Bounds {
                    max_body: 64 << 10,
                    ..self.bounds
                };
                let body =
                    http::read_body(resp, std::time::Instant::now(), &bounds).unwrap_or_default();
                DavError::Rejected {
                    url: url.to_string(),
                    status,
                    condition: error_condition(&body),
                }
            }
        }
    }

    /// Writes one item with a precondition; returns the new ETag when the
    /// server sends one (RFC 4791/6352 servers may not).
    ///
    /// # Errors
    /// [`DavError::PreconditionFailed`] (changed or existing item),
    /// [`DavError::Rejected`] (409, 507, ...), [`DavError::Auth`], transport.
    pub fn put(
        &self,
        kind: DavKind,
        href: &str,
        data: &str,
        pre: Precondition<'_>,
    ) -> Result<Option<String>, DavError> {
        let url = self.item_url(href)?;
        let cond = match pre {
            Precondition::Create => ("If-None-Match", "*"),
            Precondition::IfMatch(etag) => ("If-Match", etag),
        };
        let resp = self.send(
            "PUT",
            &url,
            &[cond],
            Some((kind.content_type(), data.to_string())),
        )?;
        if !resp.status().is_success() {
            return Err(self.refused(&url, resp));
        }
        Ok(resp
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty() && !v.starts_with("W/")))
    }

    /// Deletes one item, only if it is still the version `if_match`.
    ///
    /// # Errors
    /// [`DavError::NotFound`] when it is gone already, the errors of [`Dav::put`].
    pub fn delete(&self, href: &str, if_match: Option<&str>) -> Result<(), DavError> {
        let url = self.item_url(href)?;
        let headers: Vec<(&str, &str)> = if_match.map(|e| ("If-Match", e)).into_iter().collect();
        let resp = self.send("DELETE", &url, &headers, None)?;
        if !resp.status().is_success() {
            return Err(self.refused(&url, resp));
        }
        Ok(())
    }

    /// Extended MKCOL (RFC 5689): a new calendar or address book at `href`
    /// (ending in '/') with this display name; then reads it back.
    ///
    /// # Errors
    /// [`DavError::Rejected`] with status 405 when something exists there.
    pub fn mkcol(
        &self,
        kind: DavKind,
        href: &str,
        displayname: &str,
    ) -> Result<Collection, DavError> {
        let url = self.item_url(href)?;
        let rtype = match kind {
            DavKind::Calendar => "<c:calendar/>",
            DavKind::Contacts => "<card:addressbook/>",
        };
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:mkcol xmlns:d=\"DAV:\" xmlns:c=\"{NS_CALDAV}\" xmlns:card=\"{NS_CARDDAV}\"><d:set><d:prop>\
             <d:resourcetype><d:collection/>{rtype}</d:resourcetype><d:displayname>{}</d:displayname></d:prop></d:set></d:mkcol>",
            xml_escape(displayname)
        );
        let resp = self.send(
            "MKCOL",
            &url,
            &[],
            Some(("application/xml; charset=utf-8", body)),
        )?;
        if !resp.status().is_success() {
            return Err(self.refused(&url, resp));
        }
        self.collection(kind, href)
    }

    /// One collection's properties (Depth 0), with its ctag.
    ///
    /// # Errors
    /// [`DavError`]; [`DavError::NotFound`] when there is no such collection.
    pub fn collection(&self, kind: DavKind, href: &str) -> Result<Collection, DavError> {
        let url = self.item_url(href)?;
        let r = self.propfind_report("PROPFIND", &url, "0", &{
            format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:propfind xmlns:d=\"DAV:\" xmlns:c=\"{NS_CALDAV}\" xmlns:card=\"{NS_CARDDAV}\" xmlns:cs=\"{NS_CS}\"><d:prop>{}</d:prop></d:propfind>",
                collection_props(kind, true)
            )
        })?;
        let mut c = r
            .first()
            .map(collection_of)
            .ok_or_else(|| DavError::NotFound {
                url: url.to_string(),
            })?;
        c.href = self.path_of(&c.href);
        Ok(c)
    }

    /// A collection's current ctag (None: the server has none).
    ///
    /// # Errors
    /// [`DavError`]; [`DavError::NotFound`] for a missing collection.
    pub fn ctag(&self, href: &str) -> Result<Option<String>, DavError> {
        let url = self.item_url(href)?;
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:propfind xmlns:d=\"DAV:\" xmlns:cs=\"{NS_CS}\"><d:prop><cs:getctag/></d:prop></d:propfind>"
        );
        Ok(self
            .propfind_report("PROPFIND", &url, "0", &body)?
            .first()
            .and_then(|r| r.prop(NS_CS, "getctag"))
            .map(|p| p.text.trim().to_string())
            .filter(|t| !t.is_empty()))
    }

    /// PROPFIND or REPORT without the 403-means-login mapping of
    /// [`Dav::request`]: here a 403 is a refusal of this request only.
    fn propfind_report(
        &self,
        method: &str,
        url: &Url,
        depth: &str,
        body: &str,
    ) -> Result<Vec<Response>, DavError> {
        let started = std::time::Instant::now();
        let resp = self.send(
            method,
            url,
            &[("Depth", depth)],
            Some(("application/xml; charset=utf-8", body.to_string())),
        )?;
        if resp.status() != StatusCode::MULTI_STATUS {
            return Err(self.refused(url, resp));
        }
        let body = self.multistatus_body(method, url, resp, started)?;
        parse_multistatus(&body).map_err(|e| DavError::Protocol {
            url: url.to_string(),
            detail: format!("{e:#}"),
        })
    }

    /// Every member of a collection with its ETag (Depth 1 PROPFIND): the
    /// listing for servers without sync-collection.
    ///
    /// # Errors
    /// [`DavError`]; [`DavError::NotFound`] for a missing collection.
    pub fn list_members(&self, collection: &str) -> Result<Vec<Member>, DavError> {
        let url = self.item_url(collection)?;
        let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:propfind xmlns:d=\"DAV:\"><d:prop><d:getetag/><d:resourcetype/></d:prop></d:propfind>";
        let own = self.path_of(collection);
        Ok(self
            .propfind_report("PROPFIND", &url, "1", body)?
            .into_iter()
            .filter(|r| !r.has_type(NS_DAV, "collection"))
            .filter_map(|r| {
                let href = self.path_of(&r.href);
                let etag = r.prop(NS_DAV, "getetag")?.text.trim().to_string();
                (href != own).then_some(Member { href, etag })
            })
            .collect())
    }

    /// RFC 6578 sync-collection: what changed since `token` (None: the
    /// initial sync, which lists every member).
    ///
    /// # Errors
    /// [`DavError::InvalidSyncToken`] when the server forgot the token;
    /// [`DavError::Rejected`] when it does not offer the report.
    pub fn sync_collection(
        &self,
        collection: &str,
        token: Option<&str>,
    ) -> Result<SyncDelta, DavError> {
        let url = self.item_url(collection)?;
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:sync-collection xmlns:d=\"DAV:\"><d:sync-token>{}</d:sync-token>\
             <d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>",
            xml_escape(token.unwrap_or(""))
        );
        let started = std::time::Instant::now();
        let resp = self.send(
            "REPORT",
            &url,
            &[("Depth", "0")],
            Some(("application/xml; charset=utf-8", body)),
        )?;
        if resp.status() == StatusCode::PRECONDITION_FAILED && token.is_some() {
            // RFC 6578 §3.2 names 403 or 409 for a token the server forgot;
            // Xandikos answers 412 with the same DAV:valid-sync-token (issue 15).
            let body = resp.bytes().unwrap_or_default();
            return Err(
                if error_condition(&body).as_deref() == Some("valid-sync-token") {
                    DavError::InvalidSyncToken {
                        url: url.to_string(),
                    }
                } else {
                    DavError::PreconditionFailed {
                        url: url.to_string(),
                    }
                },
            );
        }
        if resp.status() != StatusCode::MULTI_STATUS {
            let err = self.refused(&url, resp);
            return Err(match err {
                DavError::Rejected {
                    status: 403 | 409,
                    condition: Some(c),
                    ..
                } if c == "valid-sync-token" && token.is_some() => DavError::InvalidSyncToken {
                    url: url.to_string(),
                },
                e => e,
            });
        }
        let bytes = self.multistatus_body("REPORT", &url, resp, started)?;
        let perr = |detail: String| DavError::Protocol {
            url: url.to_string(),
            detail,
        };
        let responses = parse_multistatus(&bytes).map_err(|e| perr(format!("{e:#}")))?;
        let new_token = sync_token_of(&bytes)
            .ok_or_else(|| perr("the sync report has no sync-token".into()))?;
        let own = self.path_of(collection);
        let mut delta = SyncDelta {
            token: new_token,
            ..SyncDelta::default()
        };
        for r in responses {
            let href = self.path_of(&r.href);
            if href == own {
                continue;
            }
            if r.status == Some(404) {
                delta.removed.push(href);
            } else if let Some(p) = r.prop(NS_DAV, "getetag") {
                delta.changed.push(Member {
                    href,
                    etag: p.text.trim().to_string(),
                });
            }
        }
        Ok(delta)
    }

    /// Fetches items by href in batches of `batch` (calendar-multiget /
    /// addressbook-multiget); a missing item comes back with `data: None`.
    ///
    /// # Errors
    /// [`DavError`] of any batch.
    pub fn multiget(
        &self,
        kind: DavKind,
        collection: &str,
        hrefs: &[String],
        batch: usize,
    ) -> Result<Vec<Fetched>, DavError> {
        let url = self.item_url(collection)?;
        let (report, data) = match kind {
            DavKind::Calendar => ("c:calendar-multiget", "c:calendar-data"),
            DavKind::Contacts => ("card:addressbook-multiget", "card:address-data"),
        };
        let (data_ns, data_name) = match kind {
            DavKind::Calendar => (NS_CALDAV, "calendar-data"),
            DavKind::Contacts => (NS_CARDDAV, "address-data"),
        };
        let mut out = Vec::with_capacity(hrefs.len());
        for chunk in hrefs.chunks(batch.max(1)) {
            let mut body = format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<{report} xmlns:d=\"DAV:\" xmlns:c=\"{NS_CALDAV}\" xmlns:card=\"{NS_CARDDAV}\"><d:prop><d:getetag/><{data}/></d:prop>"
            );
            for h in chunk {
                body.push_str(&format!(
                    "<d:href>{}</d:href>",
                    xml_escape(&self.path_of(h))
                ));
            }
            body.push_str(&format!("</{report}>"));
            let mut seen = std::collections::HashSet::new();
            for r in self.propfind_report("REPORT", &url, "1", &body)? {
                let href = self.path_of(&r.href);
                seen.insert(href.clone());
                let found = r.status.is_none_or(|s| s == 200);
                out.push(Fetched {
                    etag: r.prop(NS_DAV, "getetag").map(|p| p.text.trim().to_string()),
                    data: r
                        .prop(data_ns, data_name)
                        .filter(|_| found)
                        .map(|p| p.text.clone()),
                    href,
                });
            }
            // RFC 6352 8.7: a missing member may also be left out entirely.
            for h in chunk {
                let p = self.path_of(h);
                if !seen.contains(&p) {
                    out.push(Fetched {
                        href: p,
                        etag: None,
                        data: None,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Every item of a collection with its ETag and data in one REPORT
    /// (calendar-query / addressbook-query without a filter): the cheapest
    /// way to read a whole collection (C5: a first sync needs every item;
    /// Radicale answers 2,000 events in less time than it takes to list
    /// their ETags with sync-collection).
    ///
    /// # Errors
    /// [`DavError`]; [`DavError::NotFound`] for a missing collection.
    pub fn query_all(&self, kind: DavKind, collection: &str) -> Result<Vec<Fetched>, DavError> {
        let url = self.item_url(collection)?;
        let body = match kind {
            DavKind::Calendar => format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<c:calendar-query xmlns:d=\"DAV:\" xmlns:c=\"{NS_CALDAV}\"><d:prop><d:getetag/><c:calendar-data/></d:prop>\
                 <c:filter><c:comp-filter name=\"VCALENDAR\"/></c:filter></c:calendar-query>"
            ),
            DavKind::Contacts => format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<card:addressbook-query xmlns:d=\"DAV:\" xmlns:card=\"{NS_CARDDAV}\"><d:prop><d:getetag/><card:address-data/></d:prop></card:addressbook-query>"
            ),
        };
        let (data_ns, data_name) = match kind {
            DavKind::Calendar => (NS_CALDAV, "calendar-data"),
            DavKind::Contacts => (NS_CARDDAV, "address-data"),
        };
        let own = self.path_of(collection);
        Ok(self
            .propfind_report("REPORT", &url, "1", &body)?
            .into_iter()
            .filter(|r| r.status.is_none_or(|s| s == 200))
            .filter_map(|r| {
                let href = self.path_of(&r.href);
                (href != own).then(|| Fetched {
                    etag: r.prop(NS_DAV, "getetag").map(|p| p.text.trim().to_string()),
                    data: r.prop(data_ns, data_name).map(|p| p.text.clone()),
                    href,
                })
            })
            .collect())
    }

    /// A collection's sync-token property (RFC 6578 section 4), None when
    /// the server has none.
    ///
    /// # Errors
    /// [`DavError`].
    pub fn sync_token(&self, collection: &str) -> Result<Option<String>, DavError> {
        let url = self.item_url(collection)?;
        let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:propfind xmlns:d=\"DAV:\"><d:prop><d:sync-token/></d:prop></d:propfind>";
        Ok(self
            .propfind_report("PROPFIND", &url, "0", body)?
            .first()
            .and_then(|r| r.prop(NS_DAV, "sync-token"))
            .filter(|p| p.status == 200 || p.status == 0)
            .map(|p| p.text.trim().to_string())
            .filter(|t| !t.is_empty()))
    }

    fn item_url(&self, href: &str) -> Result<Url, DavError> {
        self.url(href).map_err(|e| DavError::Protocol {
            url: self.base.to_string(),
            detail: format!("{e:#}"),
        })
    }
}

/// XML text escaping for request bodies.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// The first element inside a `DAV:error` body: the precondition that
/// failed, e.g. `no-uid-conflict` or `valid-sync-token`.
fn error_condition(body: &[u8]) -> Option<String> {
    let mut reader = NsReader::from_reader(body);
    let mut buf = Vec::new();
    let mut in_error = false;
    loop {
        match reader.read_resolved_event_into(&mut buf) {
            Ok((ns, Event::Start(e) | Event::Empty(e))) => {
                let local = e.local_name().as_ref().to_string();
                let is_dav = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == NS_DAV);
                if in_error {
                    return Some(local);
                }
                if is_dav && local == "error" {
                    in_error = true;
                }
            }
            Ok((_, Event::Eof)) | Err(_) => return None,
            _ => {}
        }
        buf.clear();
    }
}

/// The `DAV:sync-token` directly inside the multistatus of a sync report.
fn sync_token_of(body: &[u8]) -> Option<String> {
    let mut reader = NsReader::from_reader(body);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut capture = false;
    let mut text = String::new();
    loop {
        match reader.read_resolved_event_into(&mut buf) {
            Ok((ns, Event::Start(e))) => {
                depth += 1;
                let is_dav = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == NS_DAV);
                capture = depth == 2 && is_dav && e.local_name().as_ref() == "sync-token";
            }
            Ok((_, Event::Text(t))) if capture => text.push_str(&t.xml10_content()),
            Ok((_, Event::GeneralRef(r))) if capture => text.push_str(match r.as_ref() {
                "amp" => "&",
                "lt" => "<",
                "gt" => ">",
                "quot" => "\"",
                "apos" => "'",
                _ => "",
            }),
            Ok((_, Event::End(_))) => {
                if capture {
                    return Some(text.trim().to_string());
                }
                depth = depth.saturating_sub(1);
            }
            Ok((_, Event::Eof)) | Err(_) => return None,
            _ => {}
        }
        buf.clear();
    }
}

/// The properties that describe a collection (discovery, after MKCOL);
/// with `probe` its ctag too.
fn collection_props(kind: DavKind, probe: bool) -> String {
    let mut props = String::from("<d:resourcetype/><d:displayname/>");
    props.push_str(match kind {
        DavKind::Calendar => "<c:supported-calendar-component-set/>",
        DavKind::Contacts => "<card:supported-address-data/>",
    });
    if probe {
        props.push_str("<cs:getctag/>");
    }
    props
}

fn collection_of(resp: &Response) -> Collection {
    Collection {
        href: resp.href.clone(),
        name: resp
            .prop(NS_DAV, "displayname")
            .map(|p| p.text.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                resp.href
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_string()
            }),
        components: resp
            .prop(NS_CALDAV, "supported-calendar-component-set")
            .map(|p| {
                p.children
                    .iter()
                    .filter_map(|(_, _, n)| n.clone())
                    .collect()
            })
            .unwrap_or_default(),
        vcard_versions: resp
            .prop(NS_CARDDAV, "supported-address-data")
            .map(|p| {
                p.attrs
                    .iter()
                    .filter(|(name, _)| name == "version")
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .unwrap_or_default(),
        sync_token: resp
            .prop(NS_DAV, "sync-token")
            .map(|p| p.text.trim().to_string())
            .filter(|t| !t.is_empty()),
        ctag: resp
            .prop(NS_CS, "getctag")
            .map(|p| p.text.trim().to_string())
            .filter(|t| !t.is_empty()),
    }
}

/// Calendar (CalDAV) or address book (CardDAV).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DavKind {
    Calendar,
    Contacts,
}

impl DavKind {
    pub fn protocol(self) -> &'static str {
        match self {
            DavKind::Calendar => "CalDAV",
            DavKind::Contacts => "CardDAV",
        }
    }

    /// The media type of one item.
    pub fn content_type(self) -> &'static str {
        match self {
            DavKind::Calendar => "text/calendar; charset=utf-8",
            DavKind::Contacts => "text/vcard; charset=utf-8",
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multistatus_with_mixed_propstats() {
        let xml = br#"<?xml version="1.0"?>
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
 <response><href>/alice/cal/</href>
  <propstat><prop><resourcetype><collection/><C:calendar/></resourcetype><displayname>Work &amp; more</displayname>
   <C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/></C:supported-calendar-component-set>
   <getetag>"abc"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat>
  <propstat><prop><C:calendar-home-set/></prop><status>HTTP/1.1 404 Not Found</status></propstat>
 </response>
 <response><href>/alice/</href><propstat><prop><current-user-principal><href>/alice/</href></current-user-principal></prop>
  <status>HTTP/1.1 200 OK</status></propstat></response>
</multistatus>"#;
        let r = parse_multistatus(xml).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].href, "/alice/cal/");
        assert!(r[0].has_type(NS_CALDAV, "calendar"));
        assert_eq!(
            r[0].prop(NS_DAV, "displayname").unwrap().text,
            "Work & more"
        );
        assert_eq!(r[0].prop(NS_DAV, "getetag").unwrap().text, "\"abc\"");
        assert!(r[0].prop(NS_CALDAV, "calendar-home-set").is_none());
        let comps: Vec<_> = r[0]
            .prop(NS_CALDAV, "supported-calendar-component-set")
            .unwrap()
            .children
            .iter()
            .filter_map(|c| c.2.clone())
            .collect();
        assert_eq!(comps, vec!["VEVENT", "VTODO"]);
        assert_eq!(
            r[1].prop(NS_DAV, "current-user-principal").unwrap().hrefs,
            vec!["/alice/"]
        );
    }

    /// Issue 15 (Xandikos): a propstat's `<status>` may come before its
    /// `<prop>` (the order inside a propstat is free, RFC 4918 §14.22 is a
    /// DTD content model, not an order for receivers); the status still
    /// applies to every property of that propstat, and not to another one's.
    #[test]
    fn propstat_status_before_prop_applies_to_its_props() {
        let xml = br#"<?xml version="1.0" encoding="utf-8"?>
<ns0:multistatus xmlns:ns0="DAV:" xmlns:ns1="urn:ietf:params:xml:ns:caldav"><ns0:response><ns0:href>/</ns0:href>
<ns0:propstat><ns0:status>HTTP/1.1 200 OK</ns0:status><ns0:prop><ns0:current-user-principal><ns0:href>/user/</ns0:href></ns0:current-user-principal><ns0:resourcetype><ns0:collection/></ns0:resourcetype></ns0:prop></ns0:propstat>
<ns0:propstat><ns0:status>HTTP/1.1 404 Not Found</ns0:status><ns0:prop><ns1:calendar-home-set/></ns0:prop></ns0:propstat>
</ns0:response></ns0:multistatus>"#;
        let r = parse_multistatus(xml).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].prop(NS_DAV, "current-user-principal")
                .map(|p| p.hrefs.clone()),
            Some(vec!["/user/".to_string()])
        );
        assert!(r[0].prop(NS_DAV, "resourcetype").is_some());
        // The 404 propstat's property stays "not found", before and after.
        assert!(r[0].prop(NS_CALDAV, "calendar-home-set").is_none());
        let home = r[0]
            .props
            .iter()
            .find(|p| p.name == "calendar-home-set")
            .map(|p| p.status);
        assert_eq!(home, Some(404));
    }

    #[test]
    fn c5_sync_report_token_and_error_conditions() {
        let xml = br#"<?xml version="1.0"?>
<multistatus xmlns="DAV:"><response><href>/u/b/a.vcf</href><propstat><prop><getetag>"e1"</getetag></prop>
<status>HTTP/1.1 200 OK</status></propstat></response><response><href>/u/b/gone.vcf</href><status>HTTP/1.1 404 Not Found</status></response>
<sync-token>http://radicale.org/ns/sync/abc&amp;1</sync-token></multistatus>"#;
        assert_eq!(
            sync_token_of(xml).as_deref(),
            Some("http://radicale.org/ns/sync/abc&1")
        );
        let r = parse_multistatus(xml).unwrap();
        assert_eq!(r[1].status, Some(404));
        assert_eq!(r[0].prop(NS_DAV, "getetag").unwrap().text, "\"e1\"");
        // A sync-token inside a response's props is not the report's.
        let nested = br#"<d:multistatus xmlns:d="DAV:"><d:response><d:propstat><d:prop><d:sync-token>x</d:sync-token></d:prop></d:propstat></d:response></d:multistatus>"#;
        assert_eq!(sync_token_of(nested), None);
        let err = br#"<?xml version="1.0"?><D:error xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><CR:no-uid-conflict/></D:error>"#;
        assert_eq!(error_condition(err).as_deref(), Some("no-uid-conflict"));
        assert_eq!(error_condition(b"not xml at all"), None);
    }

    #[test]
    fn rfc6352_supported_address_data_versions() {
        let xml = br#"<multistatus xmlns="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><response><href>/u/b/</href><propstat><prop>
<resourcetype><collection/><CR:addressbook/></resourcetype><displayname>B</displayname>
<CR:supported-address-data><CR:address-data-type content-type="text/vcard" version="3.0"/><CR:address-data-type content-type="text/vcard" version="4.0"/></CR:supported-address-data>
<sync-token>t1</sync-token><CS:getctag xmlns:CS="http://calendarserver.org/ns/">c1</CS:getctag></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;
        let r = parse_multistatus(xml).unwrap();
        let c = collection_of(&r[0]);
        assert_eq!(c.vcard_versions, vec!["3.0", "4.0"]);
        assert_eq!(c.sync_token.as_deref(), Some("t1"));
        assert_eq!(c.ctag.as_deref(), Some("c1"));
        assert_eq!(c.name, "B");
    }

    /// A one-shot HTTP server answering every request with `status`.
    fn canned(status: &str, body: &'static str) -> String {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let status = status.to_string();
        std::thread::spawn(move || {
            for mut c in l.incoming().flatten() {
                let mut buf = [0u8; 65536];
                let _ = c.read(&mut buf);
                let _ = write!(
                    c,
                    "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        format!("http://127.0.0.1:{port}/")
    }

    fn dav(url: &str) -> Dav {
        let cfg = crate::config::Config::parse(
            &format!(
                "[[users]]\nlogin = \"a\"\nemails = [\"a@x.example\"]\n[[contacts.accounts]]\nname = \"b\"\nuser = \"a\"\n\
                 source = \"carddav\"\nurl = \"{url}\"\npassword = \"pw\"\ntimeout = 5\n"
            ),
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        Dav::new(&cfg.contacts.accounts[0], Secret::new("pw")).unwrap()
    }

    #[test]
    fn x12_elements_are_counted_and_too_many_refused() {
        let xml = b"<?xml version=\"1.0\"?><!-- <c> --><d:a><d:b/><![CDATA[<x>]]>t</d:a>";
        assert_eq!(check_elements(xml, 3), Ok(()));
        assert_eq!(check_elements(xml, 2), Ok(()));
        assert_eq!(check_elements(xml, 1), Err(1));
        // Through a request: 12 elements, max_response 1600 bytes allows 10.
        let body = "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>/a</d:href><d:propstat><d:prop>\
                    <d:x/><d:x/><d:x/><d:x/><d:x/><d:x/></d:prop></d:propstat></d:response></d:multistatus>";
        let url = canned("207 Multi-Status", body);
        let mut d = dav(&url);
        d.bounds.max_body = 1600;
        let e = d.discover(DavKind::Contacts).unwrap_err().to_string();
        assert!(e.contains("more than 10 XML elements"), "{e}");
        assert!(e.contains("`max_response` of account `b`"), "{e}");
        // And a body over max_response.
        d.bounds.max_body = 100;
        let e = d.discover(DavKind::Contacts).unwrap_err().to_string();
        assert!(e.contains("larger than 100 bytes"), "{e}");
    }

    #[test]
    fn c12_write_refusals_map_to_their_kind() {
        let d = dav(&canned("507 Insufficient Storage", ""));
        match d.put(
            DavKind::Contacts,
            "/b/x.vcf",
            "BEGIN:VCARD",
            Precondition::Create,
        ) {
            Err(DavError::Rejected { status: 507, .. }) => {}
            other => panic!("{other:?}"),
        }
        let d = dav(&canned("412 Precondition Failed", ""));
        assert!(matches!(
            d.delete("/b/x.vcf", Some("\"e\"")),
            Err(DavError::PreconditionFailed { .. })
        ));
        let d = dav(&canned("401 Unauthorized", ""));
        assert!(matches!(
            d.put(
                DavKind::Contacts,
                "/b/x.vcf",
                "x",
                Precondition::IfMatch("\"e\"")
            ),
            Err(DavError::Auth(401))
        ));
        let d = dav(&canned(
            "403 Forbidden",
            r#"<?xml version="1.0"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>"#,
        ));
        assert!(matches!(
            d.sync_collection("/b/", Some("old")),
            Err(DavError::InvalidSyncToken { .. })
        ));
        let msg = dav(&canned("409 Conflict", ""))
            .mkcol(DavKind::Contacts, "/b/", "B")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("HTTP 409"), "{msg}");
    }

    /// Issue 15: Xandikos answers a sync-token it does not know with 412
    /// and DAV:valid-sync-token (RFC 6578 §3.2 names 403 or 409): the token
    /// is expired, not an item changed under us.
    #[test]
    fn c5_a_forgotten_sync_token_in_a_412_is_an_invalid_token() {
        let d = dav(&canned(
            "412 Precondition Failed",
            r#"<ns0:error xmlns:ns0="DAV:"><ns0:valid-sync-token /><ns0:responsedescription>Requested sync token x is invalid</ns0:responsedescription></ns0:error>"#,
        ));
        assert!(matches!(
            d.sync_collection("/b/", Some("x")),
            Err(DavError::InvalidSyncToken { .. })
        ));
        let d = dav(&canned("412 Precondition Failed", ""));
        assert!(matches!(
            d.sync_collection("/b/", Some("x")),
            Err(DavError::PreconditionFailed { .. })
        ));
    }

    #[test]
    fn unknown_entities_are_not_expanded() {
        let xml = br#"<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:"><d:response><d:href>/a/</d:href><d:propstat><d:prop><d:displayname>&x;&amp;</d:displayname></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"#;
        let r = parse_multistatus(xml).unwrap();
        assert_eq!(r[0].prop(NS_DAV, "displayname").unwrap().text, "&");
    }

    #[test]
    fn a_dtd_billion_laughs_is_refused_not_expanded() {
        let mut xml = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE d [\n<!ENTITY l0 \"ha\">\n");
        for i in 1..10 {
            let prev = format!("&l{};", i - 1);
            xml.push_str(&format!("<!ENTITY l{i} \"{}\">\n", prev.repeat(10)));
        }
        xml.push_str("]>\n<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>/a/</d:href><d:propstat><d:prop><d:displayname>&l9;</d:displayname></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>");
        let e = parse_multistatus(xml.as_bytes()).unwrap_err();
        assert!(format!("{e:#}").contains("DTD"), "{e:#}");
    }
}
