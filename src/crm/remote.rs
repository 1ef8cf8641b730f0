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
//! - `crm pull` is [`sync`] forced, `crm push` is [`push`].
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

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::rest::{Client, Preset, RestError};
use crate::accounts::{Guard, auth_failed, guard};
use crate::address::normalize;
use crate::config::{Backend, Config};
use crate::error::Exit;
use crate::model::{CalTime, Company, Person};
use crate::secret::Secret;
use crate::state::directory::ImportCounts;
use crate::state::outbox::OutboxActivity;
use crate::state::{State, now};
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

/// B2: sends what waits, then refreshes the cache. Unless `force`, the
/// refresh is skipped (None) when the last one is younger than
/// `refresh_secs`.
///
/// # Errors
/// The CRM's errors ([`RestError`]), a blocked or refused token (X2),
/// SQLite errors.
pub fn sync(cfg: &Config, st: &State, force: bool) -> Result<Option<(PushCounts, PullCounts)>> {
    if !force
        && let Some(at) = st.rest_pulled_at()?
        && let Ok(at) = chrono::DateTime::parse_from_rfc3339(&at)
        && let Some(rest) = &cfg.crm.rest
        && (Utc::now() - at.with_timezone(&Utc)).num_seconds()
            < i64::try_from(rest.refresh_secs).unwrap_or(i64::MAX)
    {
        return Ok(None);
    }
    let (client, secret) = connect(cfg, st)?;
    let r = Remote::new(st, &client)?;
    let pushed = r.push().map_err(|e| fatal(st, &secret, e))?;
    let pulled = r.pull().map_err(|e| fatal(st, &secret, e))?;
    st.set_rest_pulled_now()?;
    Ok(Some((pushed, pulled)))
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
    match sync(cfg, st, false) {
        Ok(Some((_, pulled))) => {
            ui::debug(format!(
                "crm: directory refreshed ({} persons, {} companies changed)",
                pulled.persons.created + pulled.persons.updated,
                pulled.companies.created + pulled.companies.updated
            ));
            Ok(())
        }
        Ok(None) => Ok(()),
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

    // -- pull ---------------------------------------------------------------

    /// B2: refreshes the directory cache and takes over CRM-side edits of
    /// paired calendar activities.
    ///
    /// # Errors
    /// [`RestError`]s of the listing (the cache stays as it was), SQLite
    /// errors; a refusal to empty most of the cache at once.
    pub fn pull(&self) -> Result<PullCounts> {
        let p = &self.client.preset;
        let (companies, _) = self.client.list(
            &p.companies.list,
            &p.companies.items,
            "listing the CRM's companies",
        )?;
        let (persons, first) = self.client.list(
            &p.persons.list,
            &p.persons.items,
            "listing the CRM's persons",
        )?;
        let users = self.users(&first)?;
        let mut counts = PullCounts::default();
        let batch = self.st.batch()?;
        let cs: Vec<Company> = companies
            .iter()
            .filter_map(|v| self.company_of(v).transpose())
            .collect::<Result<_>>()?;
        let company_ids: HashSet<&str> = cs.iter().map(|c| c.id.as_str()).collect();
        let ps: Vec<Person> = persons
            .iter()
            .filter_map(|v| self.person_of(v, &company_ids, &users).transpose())
            .collect::<Result<_>>()?;
        self.guard_removals(&cs, &ps)?;
        (counts.companies, counts.persons) = self.st.cache_directory(&cs, &ps)?;
        let (companies_gone, of_companies) = remove_gone(
            self.st,
            "company",
            &cs.iter().map(|c| c.id.as_str()).collect(),
        )?;
        let (persons_gone, of_persons) = remove_gone(
            self.st,
            "person",
            &ps.iter().map(|c| c.id.as_str()).collect(),
        )?;
        counts.removed = companies_gone + persons_gone;
        counts.replanned = of_companies + of_persons;
        batch.commit()?;
        let (changed, deleted) = self.pull_calendar()?;
        counts.calendar_changed = changed;
        counts.calendar_deleted = deleted;
        Ok(counts)
    }

    /// The CRM user id -> login map (the rep, by e-mail address).
    fn users(&self, first_page: &Value) -> Result<HashMap<String, String>> {
        let p = &self.client.preset.persons;
        let mut map = HashMap::new();
        let Some(Value::Array(us)) = p.users.as_deref().and_then(|ptr| first_page.pointer(ptr))
        else {
            return Ok(map);
        };
        for u in us {
            if let (Some(id), Some(email)) = (text(u, &p.user_id), text(u, &p.user_email))
                && let Some(login) = self.st.user_login_by_email(&normalize(&email))?
            {
                map.insert(id, login);
            }
        }
        Ok(map)
    }

    fn company_of(&self, v: &Value) -> Result<Option<Company>> {
        let f = &self.client.preset.companies.fields;
        let Some(id) = text(v, &f.id) else {
            return Ok(None);
        };
        let mut domains: Vec<String> = f
            .website
            .as_deref()
            .and_then(|k| text(v, k))
            .and_then(|w| host_of(&w))
            .into_iter()
            .collect();
        // Domains added here (resolve-unknown) stay: the CRM keeps one.
        if let Some(local) = self.st.cached_company(&id)? {
            for d in local.domains {
                if !domains.contains(&d) {
                    domains.push(d);
                }
            }
        }
        Ok(Some(Company {
            name: text(v, &f.name).unwrap_or_else(|| id.clone()),
            kind: "customer".into(),
            email: f
                .email
                .as_deref()
                .and_then(|k| text(v, k))
                .map(|e| normalize(&e)),
            domains,
            rep: None,
            sales_groups: Vec::new(),
            id,
        }))
    }

    fn person_of(
        &self,
        v: &Value,
        companies: &HashSet<&str>,
        users: &HashMap<String, String>,
    ) -> Result<Option<Person>> {
        let f = &self.client.preset.persons.fields;
        let Some(id) = text(v, &f.id) else {
            return Ok(None);
        };
        let mut emails: Vec<String> = text(v, &f.email)
            .map(|e| normalize(&e))
            .into_iter()
            .collect();
        // Further addresses given in resolve-unknown stay in the cache.
        if let Some(local) = self.st.cached_person(&id)? {
            for e in local.emails.into_iter().skip(1) {
                if !emails.contains(&e) {
                    emails.push(e);
                }
            }
        }
        let rep = f.assigned_to.as_deref().and_then(|k| match v.get(k) {
            Some(Value::Array(a)) => a.iter().find_map(|u| {
                let uid = match u {
                    Value::Object(_) => text(u, "id"),
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                }?;
                users.get(&uid).cloned()
            }),
            _ => None,
        });
        Ok(Some(Person {
            first_name: text(v, &f.first_name).unwrap_or_default(),
            last_name: text(v, &f.last_name).unwrap_or_default(),
            emails,
            phones: f
                .phone
                .as_deref()
                .and_then(|k| text(v, k))
                .into_iter()
                .collect(),
            company_id: f
                .company
                .as_deref()
                .and_then(|k| text(v, k))
                .filter(|c| companies.contains(c.as_str())),
            rep,
            sales_groups: Vec::new(),
            favorite_of: Vec::new(),
            id,
        }))
    }

    /// Like C7 for the directory: a listing that would remove more than
    /// half of a cache of 20 or more records is refused (a wrong token or
    /// org looks exactly like that).
    fn guard_removals(&self, cs: &[Company], ps: &[Person]) -> Result<()> {
        let known = self.st.cached_remote_records()?;
        let seen = (cs.len() + ps.len()) as i64;
        if known >= 20 && seen * 2 < known {
            anyhow::bail!(
                "the CRM lists {seen} persons and companies, but {known} are cached: refusing to remove \
                 more than half of the directory at once; check crm.rest.base_url and the token's \
                 organisation"
            );
        }
        Ok(())
    }

    /// Calendar round trip: activities paired with a calendar item and sent
    /// to the CRM, changed or deleted there since, are changed or deleted
    /// here; sync-calendar then carries that to the calendar (C6, C7).
    fn pull_calendar(&self) -> Result<(usize, usize)> {
        let rows = self.st.sent_calendar_activities()?;
        if rows.is_empty() {
            return Ok((0, 0));
        }
        let p = &self.client.preset;
        let mut seen: HashMap<String, Value> = HashMap::new();
        let mut gone_links: HashSet<String> = HashSet::new();
        let mut links: Vec<&str> = rows
            .iter()
            .filter(|r| r.1 == "interaction")
            .filter_map(|r| r.3.as_deref())
            .collect();
        links.sort_unstable();
        links.dedup();
        for link in links {
            let Some((field, id)) = link.split_once(':') else {
                continue;
            };
            let path = p
                .activities
                .list
                .replace("{link}", field)
                .replace("{id}", id);
            let items =
                match self
                    .client
                    .list(&path, &p.activities.items, "listing activities in the CRM")
                {
                    Ok((items, _)) => items,
                    // B3: the record is gone; what hung on it was re-planned
                    // by this pull and is sent again by the next push.
                    Err(e) if e.is_not_found() => {
                        gone_links.insert(link.to_string());
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
            for v in items {
                if let Some(id) = text(&v, &p.activities.fields.id) {
                    seen.insert(format!("interaction:{id}"), v);
                }
            }
        }
        if rows.iter().any(|r| r.1 == "task") {
            let (items, _) =
                self.client
                    .list(&p.tasks.list, &p.tasks.items, "listing tasks in the CRM")?;
            for v in items {
                if let Some(id) = text(&v, &p.tasks.fields.id) {
                    seen.insert(format!("task:{id}"), v);
                }
            }
        }
        let (mut changed, mut deleted) = (0, 0);
        for (local, kind, remote, link, remote_hash) in rows {
            if kind == "interaction" && link.is_some_and(|l| gone_links.contains(&l)) {
                continue;
            }
            let Some(v) = seen.get(&format!("{kind}:{remote}")) else {
                let batch = self.st.batch()?;
                self.st.delete_pulled_activity(local)?;
                batch.commit()?;
                deleted += 1;
                continue;
            };
            let view = self.remote_view(&kind, v);
            if Some(view.hash()) == remote_hash {
                continue;
            }
            let Some(mut entry) = self.st.calendar_entry(local)? else {
                continue;
            };
            let f = &mut entry.fields;
            f.subject = view.subject.clone();
            if kind == "interaction" {
                if let Some(new) = view.when.as_deref().and_then(|w| column_instant(Some(w)))
                    && let Some(old) = f.start.as_ref().and_then(CalTime::instant)
                {
                    let d = new - old;
                    let old_len = f.end.as_ref().and_then(CalTime::instant).map(|e| e - old);
                    f.start = f.start.as_ref().map(|t| shift(t, d));
                    let len = view.duration.map(Duration::seconds).or(old_len);
                    f.end = match (&f.start, len) {
                        (Some(s), Some(l)) => Some(shift(s, l)),
                        _ => f.end.clone(),
                    };
                }
                if let Some(b) = &view.body {
                    f.text = (!b.is_empty()).then(|| b.clone());
                }
            } else if let Some(new) = view
                .when
                .as_deref()
                .and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok())
            {
                let t = f.due.clone().or_else(|| f.start.clone());
                if let Some(old) = t.as_ref().map(|t| t.local().date()) {
                    let d = Duration::days((new - old).num_days());
                    f.due = f.due.as_ref().map(|t| shift(t, d));
                    f.start = f.start.as_ref().map(|t| shift(t, d));
                    f.end = f.end.as_ref().map(|t| shift(t, d));
                }
            }
            let batch = self.st.batch()?;
            self.st.update_calendar_activity(local, &entry.fields)?;
            // What we now hold is what the CRM holds: nothing to send back.
            let a = self
                .st
                .outbox_activity(local)?
                .context("activity just written")?;
            let out = self.outgoing(&a, Some(&kind))?;
            let hash = out.as_ref().map(|o| sha(&o.body.to_string()));
            self.st
                .set_remote_hashes(local, hash.as_deref(), &view.hash())?;
            batch.commit()?;
            changed += 1;
        }
        Ok((changed, deleted))
    }

    /// What a CRM user can change of a listed activity.
    fn remote_view(&self, kind: &str, v: &Value) -> View {
        let p = &self.client.preset;
        if kind == "task" {
            let f = &p.tasks.fields;
            View {
                subject: text(v, &f.title).unwrap_or_default(),
                when: text(v, &f.due),
                duration: None,
                body: None,
            }
        } else {
            let f = &p.activities.fields;
            View {
                subject: text(v, &f.subject).unwrap_or_default(),
                when: column_instant(text(v, &f.occurred_at).as_deref()).map(rfc3339),
                duration: f
                    .duration
                    .as_deref()
                    .and_then(|k| v.get(k))
                    .and_then(Value::as_i64),
                body: Some(strip_marker(&text(v, &f.body).unwrap_or_default())),
            }
        }
    }

    // -- push ---------------------------------------------------------------

    /// B2: sends the outbox; see the module docs.
    ///
    /// # Errors
    /// [`RestError::Transport`] / [`RestError::Auth`] stop the push (what
    /// was sent is recorded); SQLite errors.
    pub fn push(&self) -> Result<PushCounts> {
        let mut counts = PushCounts::default();
        self.push_persons(&mut counts)?;
        self.recheck_doubts(&mut counts)?;
        self.push_activities(&mut counts)?;
        self.push_deletes(&mut counts)?;
        Ok(counts)
    }

    /// Persons created here (resolve-unknown --create), and creates of an
    /// interrupted run.
    fn push_persons(&self, counts: &mut PushCounts) -> Result<()> {
        let ids = self.st.persons_to_send()?;
        let p = &self.client.preset.persons;
        for (id, state) in ids {
            let Some(person) = self.st.person_record(id)? else {
                continue;
            };
            let what = format!(
                "person {} <{}>",
                person.display_name(),
                person.emails.first().map_or("", String::as_str)
            );
            let Some(email) = person.emails.first().cloned() else {
                continue;
            };
            if state.is_none() {
                self.st.person_sending(id)?;
            }
            // X5: an earlier run may have created it and died before hearing.
            let existing = self.find_person(&email, &what)?;
            let remote = match existing {
                Some(r) => {
                    counts.found_again += usize::from(state.is_some());
                    r
                }
                None => {
                    let mut body = Map::new();
                    body.insert(p.fields.first_name.clone(), json!(person.first_name));
                    body.insert(p.fields.last_name.clone(), json!(person.last_name));
                    body.insert(p.fields.email.clone(), json!(email));
                    if let (Some(k), Some(ph)) = (&p.fields.phone, person.phones.first()) {
                        body.insert(k.clone(), json!(ph));
                    }
                    if let (Some(k), Some(c)) = (&p.fields.company, &person.company_id)
                        && let Some(cid) = self.st.remote_id_of_company(c)?
                    {
                        body.insert(k.clone(), json!(cid));
                    }
                    match self.client.post(&p.create, &Value::Object(body), &what) {
                        Ok(v) => match v.pointer(&p.created_id).and_then(as_text) {
                            Some(r) => {
                                counts.persons_created += 1;
                                r
                            }
                            None => anyhow::bail!(
                                "{what}: the CRM's answer has no id at `{}`; does the preset fit this CRM?",
                                p.created_id
                            ),
                        },
                        Err(RestError::Rejected(m)) => {
                            // X5: a dead run's create of this person landed
                            // after the lookup above (BottleCRM refuses a
                            // second contact with one address): adopt it.
                            match self.find_person(&email, &what)? {
                                Some(r) => {
                                    counts.found_again += 1;
                                    r
                                }
                                None => {
                                    self.refuse(counts, "person", id, &what, &m)?;
                                    continue;
                                }
                            }
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            };
            let batch = self.st.batch()?;
            self.st.person_sent(id, &remote)?;
            batch.commit()?;
        }
        Ok(())
    }

    /// The CRM's id of the person carrying exactly this address.
    fn find_person(&self, email: &str, what: &str) -> Result<Option<String>> {
        let p = &self.client.preset.persons;
        let path = p.find.replace("{email}", &query(email));
        let (found, _) = self
            .client
            .list(&path, &p.items, &format!("looking up {what}"))?;
        Ok(found.iter().find_map(|v| {
            let e = text(v, &p.fields.email)?;
            (normalize(&e) == email)
                .then(|| text(v, &p.fields.id))
                .flatten()
        }))
    }

    fn refuse(
        &self,
        counts: &mut PushCounts,
        kind: &str,
        id: i64,
        what: &str,
        msg: &str,
    ) -> Result<()> {
        self.st.set_remote_error(kind, id, msg)?;
        counts.refused.push(Refused {
            item: what.to_string(),
            error: format!(
                "the CRM refused it{}",
                msg.strip_prefix(what).unwrap_or(msg)
            ),
            says_next: false,
        });
        Ok(())
    }

    /// One activity failed: a 404 (B3, [`Remote::gone`]) or another
    /// refusal is recorded and reported, and the run goes on; anything
    /// else (no answer, a refused token) stops it.
    fn fail_activity(
        &self,
        counts: &mut PushCounts,
        id: i64,
        what: &str,
        link: &str,
        e: RestError,
    ) -> Result<()> {
        if e.is_not_found() {
            return self.gone(counts, id, what, link);
        }
        match e {
            RestError::Rejected(m) => self.refuse(counts, "activity", id, what, &m),
            e => Err(e.into()),
        }
    }

    /// B3: the CRM record an activity hangs on is gone (404). The activity
    /// fails alone and stays in the outbox; the pull drops the record from
    /// the cache and re-plans it.
    fn gone(&self, counts: &mut PushCounts, id: i64, what: &str, link: &str) -> Result<()> {
        let msg = format!(
            "the CRM record it hangs on ({}) is gone there (HTTP 404); `crmsync crm pull` drops it from the \
             cache and re-plans the activity (B3), the next push sends it",
            link.replacen(':', " ", 1)
        );
        self.st.set_remote_error("activity", id, &msg)?;
        counts.refused.push(Refused {
            item: what.to_string(),
            error: msg,
            says_next: true,
        });
        Ok(())
    }

    /// The CRM link of an activity: its person's, else its company's id.
    fn link(&self, a: &OutboxActivity) -> Result<Option<(bool, String)>> {
        if let Some(p) = a.person_id {
            return Ok(self.st.remote_id("person", p)?.map(|r| (true, r)));
        }
        if let Some(c) = a.company_id {
            return Ok(self.st.remote_id("company", c)?.map(|r| (false, r)));
        }
        Ok(None)
    }

    /// The request body for an activity, or None while it has no CRM
    /// record to hang on. `kind` keeps the CRM resource it was sent as.
    fn outgoing(&self, a: &OutboxActivity, kind: Option<&str>) -> Result<Option<Outgoing>> {
        let Some((is_person, link_id)) = self.link(a)? else {
            return Ok(None);
        };
        let p = &self.client.preset;
        let marker = self.marker("activity", a.id);
        let entry = if crate::model::CALENDAR_TYPES.contains(&a.kind.as_str()) {
            self.st.calendar_entry(a.id)?
        } else {
            None
        };
        let start = entry
            .as_ref()
            .and_then(|e| e.fields.start.clone())
            .or_else(|| {
                a.start_at
                    .as_deref()
                    .and_then(|s| s.parse::<CalTime>().ok())
            });
        let start_instant = start
            .as_ref()
            .and_then(CalTime::instant)
            .or_else(|| column_instant(a.start_at.as_deref()));
        let end_instant = entry
            .as_ref()
            .and_then(|e| e.fields.end.as_ref().and_then(CalTime::instant))
            .or_else(|| column_instant(a.end_at.as_deref()));
        let text_body = a.body.as_deref().unwrap_or_default().trim().to_string();
        let future = start_instant
            .is_some_and(|s| s > Utc::now() + Duration::seconds(p.activities.future_secs));
        // B2: what the CRM logs as done (mail, past meetings) is an
        // interaction; what lies ahead, and tasks, are its tasks.
        let appointment = matches!(a.kind.as_str(), "appointment" | "meeting");
        let remote_kind = match kind {
            Some("task") => "task",
            Some(_) => "interaction",
            None if p.activities.kinds.contains_key(&a.kind) && !(appointment && future) => {
                "interaction"
            }
            None => "task",
        };
        let subject = if a.subject.trim().is_empty() {
            "(no subject)".to_string()
        } else {
            a.subject.clone()
        };
        if remote_kind == "interaction" {
            let f = &p.activities.fields;
            let mut body = Map::new();
            if let Some(k) = p
                .activities
                .kinds
                .get(&a.kind)
                .or_else(|| p.activities.kinds.get("meeting"))
            {
                body.extend(k.clone());
            }
            // A mail dated ahead of the clock is logged now (the CRM
            // refuses a future occurred_at).
            let occurred = start_instant
                .or_else(|| column_instant(Some(&a.created_at)))
                .map(|t| t.min(Utc::now()))
                .map(rfc3339);
            let duration = match (start_instant, end_instant) {
                (Some(s), Some(e)) if e > s => Some((e - s).num_seconds()),
                _ => None,
            };
            let subj = cut(&subject, f.subject_max);
            let text_sent = cut(&text_body, f.body_max.saturating_sub(marker.len() + 2));
            body.insert(f.occurred_at.clone(), json!(occurred));
            if let (Some(k), Some(d)) = (&f.duration, duration) {
                body.insert(k.clone(), json!(d));
            }
            body.insert(f.subject.clone(), json!(subj));
            body.insert(
                f.body.clone(),
                json!(if text_sent.is_empty() {
                    marker.clone()
                } else {
                    format!("{text_sent}\n\n{marker}")
                }),
            );
            let (on, off) = if is_person {
                (&p.activities.person_link, &p.activities.company_link)
            } else {
                (&p.activities.company_link, &p.activities.person_link)
            };
            body.insert(on.clone(), json!(link_id));
            body.insert(off.clone(), Value::Null);
            Ok(Some(Outgoing {
                remote_kind: "interaction",
                link: format!("{on}:{link_id}"),
                view: View {
                    subject: subj.clone(),
                    when: occurred,
                    duration,
                    body: Some(strip_marker(&text_sent)),
                },
                title: subj,
                body: Value::Object(body),
            }))
        } else {
            let f = &p.tasks.fields;
            let due_time = entry
                .as_ref()
                .and_then(|e| e.fields.due.clone().or_else(|| e.fields.start.clone()))
                .or_else(|| a.due_at.as_deref().and_then(|s| s.parse::<CalTime>().ok()))
                .or(start);
            let due = due_time
                .as_ref()
                .map(|t| t.local().date())
                .or_else(|| column_instant(a.due_at.as_deref()).map(|t| t.date_naive()))
                .map(|d| d.format("%Y-%m-%d").to_string());
            let title = cut(&subject, f.title_max);
            let mut desc = text_body.clone();
            if matches!(a.kind.as_str(), "appointment" | "meeting")
                && let Some(s) = &entry.as_ref().and_then(|e| e.fields.start.clone())
            {
                let end = entry.as_ref().and_then(|e| e.fields.end.clone());
                // The task keeps the appointment's time in its text.
                desc = format!(
                    "When: {s}{}\n{desc}",
                    end.map(|e| format!(" - {e}")).unwrap_or_default()
                );
            }
            let mut body = p.tasks.constants.clone();
            body.insert(f.title.clone(), json!(title));
            body.insert(f.due.clone(), json!(due));
            body.insert(
                f.description.clone(),
                json!(format!("{}\n\n{marker}", desc.trim())),
            );
            body.insert(f.status.clone(), json!(p.tasks.status.open));
            body.insert(
                f.persons.clone(),
                json!(if is_person {
                    vec![link_id.clone()]
                } else {
                    Vec::new()
                }),
            );
            if let Some(k) = &f.company {
                body.insert(
                    k.clone(),
                    if is_person {
                        Value::Null
                    } else {
                        json!(link_id)
                    },
                );
            }
            Ok(Some(Outgoing {
                remote_kind: "task",
                link: format!(
                    "{}:{link_id}",
                    if is_person { "contact" } else { "account" }
                ),
                view: View {
                    subject: title.clone(),
                    when: due,
                    duration: None,
                    body: None,
                },
                title,
                body: Value::Object(body),
            }))
        }
    }

    fn push_activities(&self, counts: &mut PushCounts) -> Result<()> {
        // New ones, creates of an interrupted run, and changed ones.
        let rows = self.st.activities_to_send()?;
        for (id, state, remote_kind, remote_id, hash, link) in rows {
            let Some(a) = self.st.outbox_activity(id)? else {
                continue;
            };
            let Some(out) = self.outgoing(&a, remote_kind.as_deref())? else {
                counts.waiting += 1;
                continue;
            };
            let what = format!("activity {id} ({})", cut(&a.subject, 60));
            let body_hash = sha(&out.body.to_string());
            match (state.as_deref(), remote_id) {
                (Some("sent"), Some(remote)) => {
                    if hash.as_deref() == Some(body_hash.as_str()) {
                        continue;
                    }
                    let p = &self.client.preset;
                    if out.remote_kind == "interaction"
                        && link.as_deref() != Some(out.link.as_str())
                    {
                        // BottleCRM: "the record an interaction is on cannot
                        // be changed" - a re-assigned activity (resolve-
                        // unknown) is deleted there and created anew. A kill
                        // in between: the old one is gone (404 counts as
                        // deleted) and the row still says so; the next run
                        // repeats the delete and creates it.
                        match self
                            .client
                            .delete(&p.activities.delete.replace("{id}", &remote), &what)
                        {
                            Ok(()) => {}
                            Err(RestError::Rejected(m)) => {
                                self.refuse(counts, "activity", id, &what, &m)?;
                                continue;
                            }
                            Err(e) => return Err(e.into()),
                        }
                        if self.create_activity(counts, &a, &out, false, &body_hash, &what)? {
                            counts.updated += 1;
                        }
                        continue;
                    }
                    let path = if out.remote_kind == "task" {
                        &p.tasks.update
                    } else {
                        &p.activities.update
                    };
                    let mut patch = out.body.clone();
                    if out.remote_kind == "interaction"
                        && let Value::Object(m) = &mut patch
                    {
                        m.remove(&p.activities.person_link);
                        m.remove(&p.activities.company_link);
                    }
                    match self
                        .client
                        .patch(&path.replace("{id}", &remote), &patch, &what)
                    {
                        Ok(()) => counts.updated += 1,
                        Err(RestError::Rejected(m)) => {
                            self.refuse(counts, "activity", id, &what, &m)?;
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    }
                    self.st.activity_updated_remotely(
                        id,
                        &body_hash,
                        &out.view.hash(),
                        &out.link,
                    )?;
                }
                (Some("sent"), None) => {}
                (st, _) => {
                    let retrying = st == Some("sending");
                    if self.create_activity(counts, &a, &out, retrying, &body_hash, &what)? {
                        counts.created += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// Creates the activity in the CRM (after looking for an earlier
    /// run's copy when `retrying`) and records it; true when it POSTed a
    /// new record, false when it found one or the CRM refused it.
    fn create_activity(
        &self,
        counts: &mut PushCounts,
        a: &OutboxActivity,
        out: &Outgoing,
        retrying: bool,
        body_hash: &str,
        what: &str,
    ) -> Result<bool> {
        let marker = self.marker("activity", a.id);
        let mut remote = None;
        let mut posted = false;
        // X5: an earlier run sent it and never heard back: its request may
        // still be stored later, after this run looked. Copies are looked
        // for again until then (recheck_doubts).
        let doubt = retrying.then(|| rfc3339(Utc::now() + Duration::seconds(DOUBT_SECS)));
        if retrying {
            let found = self
                .find_copies(out.remote_kind, &out.link, &out.title, &marker, what)
                .and_then(|copies| self.converge(counts, out.remote_kind, None, copies, what));
            match found {
                Ok(r) => remote = r,
                Err(e) => {
                    self.fail_activity(counts, a.id, what, &out.link, e)?;
                    return Ok(false);
                }
            }
            counts.found_again += usize::from(remote.is_some());
        } else {
            // Committed before the request: a kill after the CRM stored it
            // leaves this row, and the next run looks before it sends.
            self.st
                .activity_sending(a.id, out.remote_kind, &marker, body_hash, &out.link)?;
        }
        if remote.is_none() {
            let p = &self.client.preset;
            let mut body = out.body.clone();
            if let Value::Object(m) = &mut body {
                m.retain(|_, v| !v.is_null());
            }
            let path = if out.remote_kind == "task" {
                &p.tasks.create
            } else {
                &p.activities.create
            };
            match self.client.post(path, &body, what) {
                Ok(v) => {
                    remote = if out.remote_kind == "task" {
                        // BottleCRM does not say which id it gave the task.
                        let copies =
                            self.find_copies("task", &out.link, &out.title, &marker, what)?;
                        self.converge(counts, "task", None, copies, what)?
                    } else {
                        v.pointer(&p.activities.created_id).and_then(as_text)
                    };
                    if remote.is_none() {
                        anyhow::bail!(
                            "{what}: the CRM stored it but its answer names no id, and the reference {marker} \
                             was not found; does the preset fit this CRM?"
                        );
                    }
                    posted = true;
                }
                Err(e) => {
                    self.fail_activity(counts, a.id, what, &out.link, e)?;
                    return Ok(false);
                }
            }
        }
        self.st.activity_sent(
            a.id,
            out.remote_kind,
            remote.as_deref(),
            body_hash,
            &out.view.hash(),
            &out.link,
            doubt.as_deref(),
        )?;
        Ok(posted)
    }

    /// The CRM's ids of the records carrying `marker`: the interactions on
    /// `link`, or the tasks titled `title`. A 404: `link` is gone (B3).
    fn find_copies(
        &self,
        remote_kind: &str,
        link: &str,
        title: &str,
        marker: &str,
        what: &str,
    ) -> Result<Vec<String>, RestError> {
        let p = &self.client.preset;
        let what = format!("looking up {what}");
        let mut ids = Vec::new();
        if remote_kind == "task" {
            let path = p.tasks.search.replace("{title}", &query(title));
            let (items, _) = self.client.list(&path, &p.tasks.search_items, &what)?;
            for v in items {
                let Some(id) = text(&v, &p.tasks.fields.id) else {
                    continue;
                };
                let d = self
                    .client
                    .get(&p.tasks.detail.replace("{id}", &id), &what)?;
                let desc = d
                    .pointer(&p.tasks.detail_item)
                    .and_then(|t| text(t, &p.tasks.fields.description))
                    .unwrap_or_default();
                if desc.contains(marker) {
                    ids.push(id);
                }
            }
            return Ok(ids);
        }
        let Some((field, id)) = link.split_once(':') else {
            return Ok(ids);
        };
        let path = p
            .activities
            .list
            .replace("{link}", field)
            .replace("{id}", id);
        let (items, _) = self.client.list(&path, &p.activities.items, &what)?;
        Ok(items
            .iter()
            .filter_map(|v| {
                text(v, &p.activities.fields.body)
                    .filter(|b| b.contains(marker))
                    .and_then(|_| text(v, &p.activities.fields.id))
            })
            .collect())
    }

    /// X5: of the copies of one create, keeps `ours` (the one the row
    /// names) when it is among them, else the smallest id, and deletes the
    /// others; returns the one kept. Runs are serialised by the run lock
    /// (X4), so no other crmsync deletes at the same time.
    fn converge(
        &self,
        counts: &mut PushCounts,
        remote_kind: &str,
        ours: Option<&str>,
        mut copies: Vec<String>,
        what: &str,
    ) -> Result<Option<String>, RestError> {
        copies.sort_unstable();
        copies.dedup();
        let keep = ours
            .filter(|o| copies.iter().any(|c| c == o))
            .map(str::to_string)
            .or_else(|| copies.first().cloned());
        let p = &self.client.preset;
        let path = if remote_kind == "task" {
            &p.tasks.delete
        } else {
            &p.activities.delete
        };
        for extra in copies.iter().filter(|c| Some(*c) != keep.as_ref()) {
            self.client.delete(
                &path.replace("{id}", extra),
                &format!("deleting a second copy of {what} (X5)"),
            )?;
            counts.duplicates_deleted += 1;
        }
        Ok(keep)
    }

    /// X5: creates in doubt (their answer never came; see [`DOUBT_SECS`]):
    /// their marker is looked for again and extra copies the CRM stored
    /// late are deleted, keeping the one the row names (or, when a CRM user
    /// deleted that one, another: the row then names it and the next step
    /// sends the current fields). The first look after the window ends the
    /// doubt.
    fn recheck_doubts(&self, counts: &mut PushCounts) -> Result<()> {
        let rows = self.st.activities_in_doubt()?;
        for (local, kind, remote, marker, link, until) in rows {
            let Some(a) = self.st.outbox_activity(local)? else {
                continue;
            };
            let what = format!("activity {local} ({})", cut(&a.subject, 60));
            let expired = DateTime::parse_from_rfc3339(&until)
                .map_or(true, |t| t.with_timezone(&Utc) <= Utc::now());
            let title = self
                .outgoing(&a, Some(&kind))?
                .map(|o| o.title)
                .unwrap_or_default();
            let (Some(marker), Some(link)) = (marker, link) else {
                continue;
            };
            let found = self
                .find_copies(&kind, &link, &title, &marker, &what)
                .and_then(|copies| self.converge(counts, &kind, remote.as_deref(), copies, &what));
            let keep = match found {
                Ok(k) => k,
                // B3: the record it hung on is gone; the pull re-plans it.
                Err(e) if e.is_not_found() => continue,
                Err(RestError::Rejected(m)) => {
                    self.refuse(counts, "activity", local, &what, &m)?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(keep) = keep.as_deref()
                && Some(keep) != remote.as_deref()
            {
                self.st.repoint_remote_activity(local, keep)?;
            }
            if expired {
                self.st.end_doubt(local)?;
            }
        }
        Ok(())
    }

    /// Activities deleted here (sync-calendar C7, `crm activity delete`)
    /// are deleted in the CRM.
    ///
    /// X5: an activity deleted while its create was in doubt may have
    /// copies in the CRM that no row names (stored late): every copy
    /// carrying its marker on the record it hung on is deleted, and the
    /// row stays (without a CRM id) to look again until the doubt ends.
    fn push_deletes(&self, counts: &mut PushCounts) -> Result<()> {
        let gone = self.st.deleted_activities_to_send()?;
        let p = &self.client.preset;
        for (local, kind, remote, state, marker, link, doubt) in gone {
            let path = if kind == "task" {
                &p.tasks.delete
            } else {
                &p.activities.delete
            };
            let what = format!("deleting activity {local} in the CRM");
            if let Some(remote) = remote {
                match self.client.delete(&path.replace("{id}", &remote), &what) {
                    Ok(()) => counts.deleted += 1,
                    Err(RestError::Rejected(m)) => {
                        self.refuse(counts, "activity", local, &what, &m)?;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            let until = match (state.as_str(), doubt) {
                ("sending", _) => Some(Utc::now() + Duration::seconds(DOUBT_SECS)),
                (_, Some(d)) => DateTime::parse_from_rfc3339(&d)
                    .ok()
                    .map(|t| t.with_timezone(&Utc)),
                _ => None,
            };
            // Tasks are found by title, which a deleted activity no longer
            // has: only interactions can be swept (docs/CRM-REST.md).
            if let (Some(until), "interaction", Some(marker), Some(link)) =
                (until, kind.as_str(), &marker, &link)
            {
                let copies = match self.find_copies(&kind, link, "", marker, &what) {
                    Ok(c) => c,
                    Err(e) if e.is_not_found() => Vec::new(),
                    Err(RestError::Rejected(m)) => {
                        self.refuse(counts, "activity", local, &what, &m)?;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                let mut refused = false;
                for c in copies {
                    match self.client.delete(&path.replace("{id}", &c), &what) {
                        Ok(()) => counts.deleted += 1,
                        Err(RestError::Rejected(m)) => {
                            self.refuse(counts, "activity", local, &what, &m)?;
                            refused = true;
                            break;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                if refused {
                    continue;
                }
                if until > Utc::now() {
                    self.st.deleted_in_doubt(local, &rfc3339(until))?;
                    continue;
                }
            }
            self.st.forget_remote_activity(local)?;
        }
        Ok(())
    }
}

/// Removes cached records the CRM no longer lists; returns how many, and
/// how many activities that hung on removed persons were re-planned (B3).
fn remove_gone(st: &State, kind: &str, seen: &HashSet<&str>) -> Result<(usize, usize)> {
    let (mut n, mut replanned) = (0, 0);
    for (local, _) in st.cached_records_not_in(kind, seen)? {
        replanned += replan_orphans(st, kind, local)?;
        st.remove_cached(kind, local)?;
        n += 1;
    }
    Ok((n, replanned))
}

/// B3: a person or company deleted in the CRM and now dropped from the
/// cache. Each activity attached to it is re-planned as M7 places a mail
/// from an unknown sender: attached to its rep's own person record (rule
/// `B3`), flagged (`unknown_sender` for incoming mail, else
/// `unidentified_recipient`) with the person's address, which goes to the
/// unknown-address queue for resolve-unknown (U3); an activity of a
/// company keeps its flags (M10 left its sender in the queue already).
/// With no own person record for the rep (M9) it stays unattached and
/// waits in the outbox. Where a person was only a participant, the
/// activity is flagged and the address queued the same way (M8). Returns
/// how many were re-planned.
fn replan_orphans(st: &State, kind: &str, local: i64) -> Result<usize> {
    let is_person = kind == "person";
    let (name, email) = st.orphaned_record(kind, local)?;
    let attached = st.activities_attached_to(kind, local)?;
    let person = if is_person { local } else { -1 };
    let who = match &email {
        _ if !is_person => format!("company {name}"),
        Some(e) if !name.is_empty() => format!("{name} <{e}>"),
        Some(e) => e.clone(),
        None => name.clone(),
    };
    let mut n = 0;
    for (id, kind, rep, subject, explain) in attached {
        let own = st.own_person_of_rep(&rep, person)?;
        let mut explain: Vec<String> = serde_json::from_str(&explain).unwrap_or_default();
        let reason = if kind == "email_in" {
            crate::model::reason::UNKNOWN_SENDER
        } else {
            crate::model::reason::UNIDENTIFIED_RECIPIENT
        };
        match own {
            Some(own) => {
                explain.push(if is_person {
                    format!(
                        "B3: its person {who} was deleted in the CRM; attached to the rep's own person record, \
                         flagged {reason} and the address queued for resolve-unknown"
                    )
                } else {
                    format!(
                        "B3: its {who} was deleted in the CRM; attached to the rep's own person record"
                    )
                });
                st.set_placement(id, crate::model::Attach::Person(own), "B3", &explain)?;
            }
            None => {
                explain.push(format!(
                    "B3: its {}{who} was deleted in the CRM, and its rep {rep} has no person record \
                     there (M9): it waits in the outbox until one is added",
                    if is_person { "person " } else { "" }
                ));
                st.unattach_activity(id, "B3", &explain)?;
            }
        }
        if is_person {
            flag_and_queue(st, id, reason, email.as_deref(), &subject)?;
        }
        n += 1;
    }
    if let (true, Some(e)) = (is_person, &email) {
        for (id, subject) in st.activities_with_participant(local)? {
            flag_and_queue(
                st,
                id,
                crate::model::reason::UNIDENTIFIED_RECIPIENT,
                Some(e),
                &subject,
            )?;
        }
    }
    Ok(n)
}

/// B3: flags an activity for an address and queues it (M7, M8).
fn flag_and_queue(
    st: &State,
    id: i64,
    reason: &'static str,
    address: Option<&str>,
    subject: &str,
) -> Result<()> {
    st.add_flags(
        id,
        &[crate::model::Flag {
            reason,
            address: address.unwrap_or_default().to_string(),
        }],
    )?;
    if let Some(a) = address {
        st.queue_unknown(
            id,
            &[crate::model::Queued {
                address: a.to_string(),
                display_name: None,
            }],
            subject,
            &now(),
        )?;
    }
    Ok(())
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
