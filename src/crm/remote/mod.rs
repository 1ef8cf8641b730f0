//! The REST back end (B2) is a directory cache and an outbox in the state
//! file, kept in step with the CRM by two explicit steps, pull then push.
//! The commands and engines only ever read and write the state file (the
//! same tables as the embedded CRM, B1); the steps are named where they
//! run, one line each:
//!
//! - [`pull`] before a command that matches addresses or writes
//!   activities (import-mail, resolve-unknown, sync-calendar,
//!   push-contacts, `crm activity add|edit|delete`): when the last pull is
//!   older than `crm.rest.refresh_secs`, it sends what waits in the outbox
//!   and refreshes the cache ([`sync`]). A CRM that does not answer is a
//!   warning (the command goes on with the cache, its writes wait in the
//!   outbox); a refused token stops the command and blocks the `crm`
//!   account (X2). A dry run (X8) writes nothing, not even the cache.
//! - [`push`] after a command whose writes go to the CRM (import-mail,
//!   resolve-unknown, sync-calendar, `crm activity add|edit|delete`), in a
//!   run of its own under the run lock; [`exit_after_push`] says what its
//!   outcome makes of the command's exit code.
//! - `crm pull` is [`sync`] (whether due or not), `crm push` is [`push`].
//!
//! Under the steps, over [`Client`] and the state file's `rest_records`
//! (state/outbox.rs, where every statement lives):
//!
//! - [`Remote::pull`] refreshes the directory cache: companies and persons
//!   page by page into the same tables the embedded CRM uses, so matching
//!   stays one index probe per address and never a request (B2); only what
//!   changed is written, in one transaction. It also takes over edits made
//!   in the CRM to the activities that sync-calendar pairs with the
//!   calendar (the calendar round trip). A listing that would empty most
//!   of the cache at once is refused.
//! - [`Remote::push`] sends the outbox: persons created by resolve-unknown,
//!   activities created, changed or deleted by the commands.
//!
//! X5, in doubt: each create is recorded as `sending` (with a reference
//! marker) and committed before the request goes out; a run killed before
//! the answer was recorded finds the record again by its marker
//! (BottleCRM has no client-set external id). A create whose answer never
//! came may still be stored later, after the next run looked and sent it
//! again: such a create is "in doubt" for [`DOUBT_SECS`], and every push
//! meanwhile looks for its marker again and deletes the extra copies,
//! keeping one ([`Remote::push`]'s `recheck_doubts`; an activity deleted
//! while in doubt keeps its row to sweep late copies). The argument is in
//! docs/CRM-REST.md.
//!
//! A record the CRM no longer has (404) fails that record only; the pull
//! drops a deleted person from the cache and re-plans what hung on it
//! (B3). Everything the CRM refuses (4xx) is reported by record and field
//! and stays in the outbox; a CRM that does not answer stops the run, and
//! the next one resumes (X5).

mod outgoing;
mod pull;
mod push;

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::rest::{Client, Preset, RestError};
use crate::accounts::{Guard, auth_failed, guard};
use crate::config::{Backend, Config};
use crate::error::Exit;
use crate::model::CalTime;
use crate::secret::Secret;
use crate::state::State;
use crate::state::directory::ImportCounts;
use crate::ui;

/// What [`Remote::pull`] did.
#[derive(Debug, Default, Serialize)]
pub struct PullCounts {
    pub companies: ImportCounts,
    pub persons: ImportCounts,
    /// Records gone from the CRM, removed from the cache.
    pub removed: usize,
    /// Activities attached to a person deleted in the CRM, re-planned (B3).
    pub replanned: usize,
    /// Calendar activities changed in the CRM, taken over.
    pub calendar_changed: usize,
    /// Calendar activities deleted in the CRM, deleted here.
    pub calendar_deleted: usize,
}

/// One record the CRM refused.
#[derive(Debug, Serialize)]
pub struct Refused {
    pub item: String,
    pub error: String,
    /// The error names the next step itself (B3).
    #[serde(skip)]
    pub says_next: bool,
}

/// X5: how long after a create whose answer never came its copies are
/// looked for again. A request the CRM has not stored within this time
/// after it was sent is assumed never to be stored (docs/CRM-REST.md).
pub const DOUBT_SECS: i64 = 3600;

/// What [`Remote::push`] did.
#[derive(Debug, Default, Serialize)]
pub struct PushCounts {
    pub persons_created: usize,
    pub created: usize,
    /// Creates of an earlier, interrupted run found in the CRM (X5).
    pub found_again: usize,
    /// Extra copies of a create in doubt, stored late, deleted (X5).
    pub duplicates_deleted: usize,
    pub updated: usize,
    pub deleted: usize,
    /// Activities with no CRM record to hang on yet (unknown sender).
    pub waiting: usize,
    pub refused: Vec<Refused>,
}

/// The directory cache and outbox of one state file against one CRM.
pub struct Remote<'a> {
    st: &'a State,
    client: &'a Client,
    /// The state file's salt: markers differ between state files.
    salt: String,
}

// -- the steps the commands call ----------------------------------------------

/// The client for the configured REST CRM, after the X2 block list.
fn connect(cfg: &Config, st: &State) -> Result<(Client, Secret)> {
    let preset = Preset::of(cfg)?;
    preset.check_config(cfg)?;
    let secret = match guard(st, "crm", &cfg.rest_secret())? {
        Guard::Go(s) => s,
        Guard::Blocked(msg) => anyhow::bail!(msg),
    };
    Ok((Client::new(cfg, &secret)?, secret))
}

/// A refused token blocks the `crm` account (X2): one attempt, never more.
fn fatal(st: &State, secret: &Secret, e: anyhow::Error) -> anyhow::Error {
    if let Some(RestError::Auth(code)) = e.downcast_ref::<RestError>() {
        return match auth_failed(st, "crm", secret, &format!("HTTP {code}")) {
            Ok(msg) => anyhow::anyhow!(msg),
            Err(db) => db,
        };
    }
    e
}

impl<'a> Remote<'a> {
    fn new(st: &'a State, client: &'a Client) -> Result<Remote<'a>> {
        Ok(Remote {
            st,
            client,
            salt: st.salt()?,
        })
    }
}

/// B2, the push step: sends the outbox now; a refused token blocks `crm`
/// (X2).
///
/// # Errors
/// The CRM's errors ([`RestError`]) and SQLite errors; what was sent is
/// recorded.
pub fn push(cfg: &Config, st: &State) -> Result<PushCounts> {
    let (client, secret) = connect(cfg, st)?;
    Remote::new(st, &client)?
        .push()
        .map_err(|e| fatal(st, &secret, e))
}

/// B2: whether the directory cache is due a refresh: never pulled, or the
/// last pull is at least `refresh_secs` old.
///
/// # Errors
/// SQLite errors.
fn refresh_due(cfg: &Config, st: &State) -> Result<bool> {
    let recent = if let Some(at) = st.rest_pulled_at()?
        && let Ok(at) = chrono::DateTime::parse_from_rfc3339(&at)
        && let Some(rest) = &cfg.crm.rest
    {
        (Utc::now() - at.with_timezone(&Utc)).num_seconds()
            < i64::try_from(rest.refresh_secs).unwrap_or(i64::MAX)
    } else {
        false
    };
    Ok(!recent)
}

/// B2: sends what waits, then refreshes the cache now.
///
/// # Errors
/// The CRM's errors ([`RestError`]), a blocked or refused token (X2),
/// SQLite errors.
pub fn sync(cfg: &Config, st: &State) -> Result<(PushCounts, PullCounts)> {
    let (client, secret) = connect(cfg, st)?;
    let r = Remote::new(st, &client)?;
    let pushed = r.push().map_err(|e| fatal(st, &secret, e))?;
    let pulled = r.pull().map_err(|e| fatal(st, &secret, e))?;
    st.set_rest_pulled_now()?;
    Ok((pushed, pulled))
}

/// B2, the pull step before a command: refreshes the directory cache when
/// it is due (see the module docs); nothing with the embedded CRM.
///
/// # Errors
/// A blocked or refused token (X2); SQLite errors.
pub fn pull(cfg: &Config, st: &State) -> Result<()> {
    if cfg.crm.backend != Backend::Rest {
        return Ok(());
    }
    if !st.writable() {
        // X8: a dry run writes nothing, not even the cache.
        if st.rest_pulled_at()?.is_none() {
            ui::warn(
                "the CRM directory was never pulled into the state file, so this dry run sees no persons; \
                 run `crmsync crm pull` first",
            );
        }
        return Ok(());
    }
    if !refresh_due(cfg, st)? {
        return Ok(());
    }
    match sync(cfg, st) {
        Ok((_, pulled)) => {
            ui::debug(format!(
                "crm: directory refreshed ({} persons, {} companies changed)",
                pulled.persons.created + pulled.persons.updated,
                pulled.companies.created + pulled.companies.updated
            ));
            Ok(())
        }
        Err(e)
            if e.downcast_ref::<RestError>()
                .is_some_and(|r| !matches!(r, RestError::Auth(_))) =>
        {
            ui::warn(format!(
                "the CRM directory could not be refreshed ({e:#}); going on with the cache of {}",
                st.rest_pulled_at()?.unwrap_or_else(|| "never".into())
            ));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// B2: whether a command's writes are pushed after it: only to a REST
/// CRM, never in a dry run (X8) nor after a usage error.
pub fn pushes(cfg: &Config, dry_run: bool, exit: Exit) -> bool {
    cfg.crm.backend == Backend::Rest && !dry_run && exit != Exit::Usage
}

/// B2: the exit code of a command whose writes were pushed after it
/// (`pushed`: the push's counts, or None when the CRM could not be
/// reached). A refusal makes a clean run partial (3); a CRM that cannot be
/// reached makes it fail (1): the writes wait in the outbox.
pub fn exit_after_push(exit: Exit, pushed: Option<&PushCounts>) -> Exit {
    match pushed {
        Some(c) if c.refused.is_empty() || exit != Exit::Ok => exit,
        Some(_) => Exit::Partial,
        None => Exit::Failed,
    }
}

/// A JSON value as text (numbers too: some CRMs use integer ids).
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A text field of a JSON record.
fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(as_text)
}

/// `https://www.acme.example/x` -> `acme.example`.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', ':', '?', '#']).next()?.to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    host.contains('.').then_some(host)
}

/// Percent-encodes a query value.
fn query(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sha(s: &str) -> String {
    format!("{:x}", Sha256::digest(s.as_bytes()))
}

/// At most `max` characters, an ellipsis marking a cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The body without our reference line.
fn strip_marker(body: &str) -> String {
    body.lines()
        .filter(|l| !l.trim_start().starts_with("[crmsync-ref:"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// `t` moved by `d` on its own clock (a zoned time keeps its zone).
fn shift(t: &CalTime, d: Duration) -> CalTime {
    match t {
        CalTime::Date(x) => CalTime::Date(*x + Duration::days(d.num_days())),
        CalTime::Floating(n) => CalTime::Floating(*n + d),
        CalTime::Utc(n) => CalTime::Utc(*n + d),
        CalTime::Zoned { tzid, local } => CalTime::Zoned {
            tzid: tzid.clone(),
            local: *local + d,
        },
    }
}

/// A time column (a CalTime's text, or an RFC 3339 instant) as an instant.
fn column_instant(s: Option<&str>) -> Option<DateTime<Utc>> {
    crate::state::calendar::column_time(s).and_then(|t| t.instant())
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The CRM-side view of an activity that a CRM user can change: what
/// `remote_hash` hashes, built the same way from what we send and from
/// what the CRM lists.
#[derive(Serialize)]
struct View {
    subject: String,
    when: Option<String>,
    duration: Option<i64>,
    body: Option<String>,
}

impl View {
    fn hash(&self) -> String {
        sha(&serde_json::to_string(self).unwrap_or_default())
    }
}

/// An activity as it is to be sent.
struct Outgoing {
    /// `interaction` or `task`.
    remote_kind: &'static str,
    body: Value,
    /// `contact:<id>` / `account:<id>`.
    link: String,
    view: View,
    title: String,
}

impl Remote<'_> {
    fn marker(&self, kind: &str, id: i64) -> String {
        let h = sha(&format!("{}:{kind}:{id}", self.salt));
        format!("[crmsync-ref:{}]", &h[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b2_a_refusal_makes_a_clean_run_partial_and_no_answer_makes_it_fail() {
        let clean = PushCounts::default();
        let refused = PushCounts {
            refused: vec![Refused {
                item: "activity 1".into(),
                error: "the CRM refused it".into(),
                says_next: false,
            }],
            ..PushCounts::default()
        };
        assert_eq!(exit_after_push(Exit::Ok, Some(&clean)), Exit::Ok);
        assert_eq!(exit_after_push(Exit::Ok, Some(&refused)), Exit::Partial);
        // A run that was not clean keeps its own code.
        assert_eq!(
            exit_after_push(Exit::Partial, Some(&refused)),
            Exit::Partial
        );
        assert_eq!(exit_after_push(Exit::Failed, Some(&refused)), Exit::Failed);
        assert_eq!(exit_after_push(Exit::Ok, None), Exit::Failed);
        assert_eq!(exit_after_push(Exit::Partial, None), Exit::Failed);
    }

    #[test]
    fn b2_website_host_is_the_company_domain() {
        assert_eq!(
            host_of("https://www.Acme.example/about").as_deref(),
            Some("acme.example")
        );
        assert_eq!(host_of("acme.example").as_deref(), Some("acme.example"));
        assert_eq!(host_of("http://localhost:8000"), None);
    }

    #[test]
    fn b2_the_reference_line_is_not_part_of_the_text() {
        assert_eq!(
            strip_marker("Hello\n\n[crmsync-ref:0123456789abcdef]"),
            "Hello"
        );
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(query("a b+c@x.example"), "a%20b%2Bc%40x.example");
    }

    #[test]
    fn b2_a_zoned_time_moves_on_its_own_clock() {
        let local = chrono::NaiveDate::from_ymd_opt(2027, 1, 10)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .unwrap();
        let t = CalTime::Zoned {
            tzid: "Europe/Berlin".into(),
            local,
        };
        let CalTime::Zoned { tzid, local } = shift(&t, Duration::hours(2)) else {
            panic!("the zone was lost");
        };
        assert_eq!(tzid, "Europe/Berlin");
        assert_eq!(local.format("%H:%M").to_string(), "11:00");
        assert_eq!(
            shift(&CalTime::Date(local.date()), Duration::days(1)),
            CalTime::Date(local.date() + Duration::days(1))
        );
    }
}
