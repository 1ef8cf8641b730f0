//! The WebDAV core shared by CalDAV and CardDAV: PROPFIND/REPORT requests,
//! a namespace-aware multistatus parser (quick-xml), and discovery from a
//! principal or home URL (RFC 5397 current-user-principal, RFC 4791
//! calendar-home-set, RFC 6352 addressbook-home-set).

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
    let mut stat_props: Vec<Prop> = Vec::new();
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
                (NS_DAV, "propstat") => stat_props.clear(),
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
                        let code = status_code(&text);
                        for p in &mut stat_props {
                            p.status = code;
                        }
                    }
                    (NS_DAV, "status", Some((NS_DAV, "response"))) => {
                        if let Some(r) = cur.as_mut() {
                            r.status = Some(status_code(&text));
                        }
                    }
                    (NS_DAV, "propstat", _) => {
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
    login: String,
    password: Secret,
}

/// What discovery found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Collection {
    pub href: String,
    pub name: String,
    /// VEVENT / VTODO for calendars; empty for address books.
    pub components: Vec<String>,
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
            insecure_skip_verify: account.insecure_skip_verify,
        };
        Ok(Dav {
            client: http::client(&tls, account.timeout)?,
            base,
            login: account
                .login
                .clone()
                .unwrap_or_else(|| account.user().to_string()),
            password,
        })
    }

    /// Resolves an href against the base URL.
    ///
    /// # Errors
    /// A malformed href.
    pub fn url(&self, href: &str) -> Result<Url> {
        self.base
            .join(href)
            .with_context(|| format!("bad href `{href}` from {}", self.base))
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
        let resp = self
            .client
            .request(m, url.clone())
            .basic_auth(&self.login, Some(self.password.expose()))
            .header("Depth", depth)
            .header("Content-Type", "application/xml; charset=utf-8")
            .body(body.to_string())
            .send()
            .map_err(|e| {
                if http::is_certificate_error(&e) {
                    DavError::Http(format!("TLS with {url} failed: the server's certificate was not accepted; set ca_file for this account (or insecure_skip_verify = true for a test server)"))
                } else {
                    DavError::Http(format!("{method} {url} failed: {}", error_chain(&e)))
                }
            })?;
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
        let body = resp
            .bytes()
            .map_err(|e| DavError::Http(format!("reading {url}: {e}")))?;
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
        let r = self.propfind(
            &hurl,
            "1",
            "<d:resourcetype/><d:displayname/><c:supported-calendar-component-set/>",
        )?;
        Ok(r.iter()
            .filter(|resp| resp.has_type(ns, coll_type))
            .map(|resp| Collection {
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
            })
            .collect())
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

    #[test]
    fn unknown_entities_are_not_expanded() {
        let xml = br#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "boom">]>
<d:multistatus xmlns:d="DAV:"><d:response><d:href>/a/</d:href><d:propstat><d:prop><d:displayname>&x;</d:displayname></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"#;
        let r = parse_multistatus(xml).unwrap();
        assert_eq!(r[0].prop(NS_DAV, "displayname").unwrap().text, "");
    }
}
