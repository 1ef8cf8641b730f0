//! Carrying out a sync-calendar plan (C1-C12) on the calendar and the CRM,
//! and reading what the calendar holds (C5).
//!
//! What the server holds: one listing per collection, cheapest first (C5):
//! a ctag that did not move means nothing changed (the pairs' ETags from
//! the state stand for the listing); else the changes since the stored
//! sync-token (RFC 6578) applied to the state's listing; else every member
//! with its ETag. Only the hrefs [`to_fetch`] names are fetched, in
//! multiget batches. The cursor moves forward only after a run that
//! finished every item of the collection, and only past changes that are
//! all crmsync's own writes, so an edit made meanwhile, a failed write or
//! a held-back deletion is seen again next run.
//!
//! Order of writes (X5):
//! - CRM writes and the pair's state commit together (C2, C7 in the CRM);
//! - a new calendar item (C3, C9): its UID is recorded on the activity
//!   first, then it is created with `If-None-Match: *`, then the pair is
//!   recorded. A run killed after the PUT finds the item by its UID next
//!   time and links it (planner), so nothing is created twice;
//! - updates and deletes on the server (If-Match) are recorded after the
//!   server confirmed them; the planner takes a repeated one as agreement.
//!
//! [`to_fetch`]: crate::plan::calendar::to_fetch

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::apply::Failure;
use crate::model::{CrmEntry, Synced};
use crate::parse::ical::{self, Kind};
use crate::plan::calendar::{self as plan, Action, Body, Record, Remote};
use crate::source::dav::{Member, Precondition};
use crate::source::store::{Listing, Store, StoreError};
use crate::state::calendar::{NewCalendarActivity, Pair};
use crate::state::{Cursor, State};

/// The state key of a collection's cursor.
pub fn cursor_key(account: &str, collection: &str) -> String {
    crate::model::source_key(&["calendar", account, collection])
}

// ---------------------------------------------------------------------------
// What the server holds
// ---------------------------------------------------------------------------

/// The calendar side of one account now.
#[derive(Debug, Default)]
pub struct View {
    /// Every resource with its ETag and, where fetched, its items.
    pub remote: Vec<Remote>,
    /// The collection of each listed href.
    pub collection_of: HashMap<String, String>,
    /// Per collection: the ctag seen before listing and the token the
    /// listing is based on (None: the store has none).
    pub basis: BTreeMap<String, Cursor>,
    /// How each collection was listed, for `-v`.
    pub listings: Vec<(String, &'static str)>,
    /// Hrefs fetched.
    pub fetched: usize,
}

/// Lists each collection (C5), fetches what the plan needs (multiget) and
/// parses it (C12: a body that does not parse is kept as broken).
/// `ctags`: the collections' ctags from discovery.
///
/// # Errors
/// Fatal [`StoreError`]s; SQLite errors as [`StoreError::Protocol`].
pub fn view(
    store: &Store,
    st: &State,
    account: &str,
    collections: &[(String, Option<String>)],
    pairs: &[Pair],
    crm: &[CrmEntry],
) -> Result<View, StoreError> {
    let sql = |e: anyhow::Error| StoreError::Protocol(format!("state file: {e:#}"));
    let mut v = View::default();
    let mut listing: Vec<(String, String)> = Vec::new();
    let mut bodies: HashMap<String, (Option<String>, Body)> = HashMap::new();
    for (c, ctag) in collections {
        let stored = st.stored_cursor(&cursor_key(account, c)).map_err(sql)?;
        let known: BTreeMap<&str, &str> = pairs
            .iter()
            .filter(|p| &p.collection == c)
            .map(|p| {
                (
                    p.synced.href.as_str(),
                    p.synced.etag.as_deref().unwrap_or(""),
                )
            })
            .collect();
        if stored == Cursor::default() && known.is_empty() {
            // C5, first sync of this collection: every item is needed, so
            // one query REPORT with the data beats a listing plus multigets.
            let (all, token) = match store.read_all(c) {
                Err(StoreError::NotFound(_)) => (Vec::new(), None),
                r => r?,
            };
            v.listings
                .push((c.clone(), "first sync: every item in one query"));
            v.basis.insert(
                c.clone(),
                Cursor {
                    ctag: ctag.clone(),
                    token,
                },
            );
            v.fetched += all.len();
            for f in all {
                if f.href.ends_with('/') {
                    continue;
                }
                let etag = f.etag.clone().unwrap_or_default();
                v.collection_of.insert(f.href.clone(), c.clone());
                listing.push((f.href.clone(), etag.clone()));
                bodies.insert(f.href.clone(), (Some(etag), parse_body(f.data.as_deref())));
            }
            continue;
        }
        let l = store.listing(c, &stored, ctag.as_deref())?;
        v.listings.push((c.clone(), l.describe()));
        v.basis.insert(
            c.clone(),
            Cursor {
                ctag: ctag.clone(),
                token: l.token().map(str::to_string),
            },
        );
        let members: Vec<(String, String)> = match l {
            Listing::Unchanged { .. } => known
                .iter()
                .map(|(h, e)| ((*h).to_string(), (*e).to_string()))
                .collect(),
            Listing::Delta(d) => {
                let mut all: BTreeMap<String, String> = known
                    .iter()
                    .map(|(h, e)| ((*h).to_string(), (*e).to_string()))
                    .collect();
                for r in &d.removed {
                    all.remove(r);
                }
                for Member { href, etag } in d.changed {
                    all.insert(href, etag);
                }
                all.into_iter().collect()
            }
            Listing::Full { members, .. } => {
                members.into_iter().map(|m| (m.href, m.etag)).collect()
            }
            Listing::Missing => Vec::new(),
        };
        for (h, e) in members {
            // vdir hrefs and server paths: only calendar resources count.
            if h.ends_with('/') {
                continue;
            }
            v.collection_of.insert(h.clone(), c.clone());
            listing.push((h, e));
        }
    }
    let state: Vec<Synced> = pairs.iter().map(|p| p.synced.clone()).collect();
    let want: BTreeSet<String> = plan::to_fetch(&listing, &state, crm)
        .into_iter()
        .filter(|h| !bodies.contains_key(h))
        .collect();
    let mut by_coll: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for h in &want {
        if let Some(c) = v.collection_of.get(h) {
            by_coll.entry(c.as_str()).or_default().push(h.clone());
        }
    }
    for (c, hrefs) in by_coll {
        v.fetched += hrefs.len();
        for f in store.fetch(c, &hrefs)? {
            let body = parse_body(f.data.as_deref());
            bodies.insert(f.href.clone(), (f.etag.clone(), body));
        }
    }
    for (href, etag) in listing {
        let (etag, body) = match bodies.remove(&href) {
            // The fetched version's ETag is the one its body belongs to.
            Some((Some(e), b)) => (e, b),
            Some((None, b)) => (etag, b),
            None => (etag, Body::NotFetched),
        };
        v.remote.push(Remote { href, etag, body });
    }
    Ok(v)
}

/// A fetched body, parsed (C12: one that does not parse is kept as broken).
fn parse_body(data: Option<&str>) -> Body {
    match data {
        Some(text) => match ical::parse(text) {
            Ok(items) => Body::Parsed(items),
            Err(e) => Body::Broken(e.to_string()),
        },
        None => Body::Broken("listed, but the server sent no data for it".into()),
    }
}

// ---------------------------------------------------------------------------
// Execution
// ---------------------------------------------------------------------------

/// Where new items go and who owns them.
pub struct Target<'a> {
    pub account: &'a str,
    pub events: &'a str,
    pub tasks: &'a str,
    /// `[crm] link` (C8).
    pub crm_link: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// What became of one writing action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done; the activity it concerns (new id for a C2 create).
    Done(i64),
    /// Not done; why, with the next step. The run goes on (C12).
    Failed(String),
}

/// Carries out the plan in order; reports each writing action through
/// `done(index, outcome)`. A rejected item is reported and the run goes
/// on (C12); a fatal error (401, server gone) stops and is returned.
///
/// # Errors
/// The fatal [`StoreError`]; SQLite errors as [`StoreError::Protocol`].
pub fn execute(
    store: &Store,
    st: &State,
    t: &Target<'_>,
    actions: &[Action],
    collection_of: &HashMap<String, String>,
    done: &mut dyn FnMut(usize, Outcome),
) -> Result<(), StoreError> {
    let sql = |e: anyhow::Error| StoreError::Protocol(format!("state file: {e:#}"));
    let coll = |href: &str| {
        collection_of
            .get(href)
            .cloned()
            .unwrap_or_else(|| parent(href))
    };
    let mut batch = Batch {
        st,
        open: None,
        items: 0,
    };
    for (i, a) in actions.iter().enumerate() {
        let r = apply_one(store, st, &mut batch, t, a, &coll);
        let r = r.and_then(|id| batch.tick().map(|()| id));
        match r {
            Ok(Some(id)) => done(i, Outcome::Done(id)),
            Ok(None) => {}
            Err(Failure::Item(why)) => done(i, Outcome::Failed(why)),
            Err(Failure::Fatal(e)) => {
                batch.commit().map_err(sql)?;
                return Err(e);
            }
            Err(Failure::State(e)) => return Err(sql(e)),
        }
    }
    batch.commit().map_err(sql)?;
    Ok(())
}

/// CRM and state writes of consecutive items in one transaction, committed
/// every [`BATCH`] items and before any server write that must follow them
/// (X5): each item's rows are complete within a transaction, so a run
/// killed mid-batch loses whole items only, which the next run plans again.
struct Batch<'s> {
    st: &'s State,
    open: Option<crate::state::Batch<'s>>,
    items: usize,
}

/// Items per transaction.
const BATCH: usize = 200;

impl Batch<'_> {
    fn begin(&mut self) -> Result<()> {
        if self.open.is_none() {
            self.open = Some(self.st.batch()?);
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if let Some(b) = self.open.take() {
            b.commit()?;
            self.items = 0;
        }
        Ok(())
    }

    fn tick(&mut self) -> Result<(), Failure> {
        self.items += 1;
        if self.items >= BATCH {
            self.commit()?;
        }
        Ok(())
    }
}

/// The collection an href lies in (up to and with the last '/').
fn parent(href: &str) -> String {
    match href.rfind('/') {
        Some(i) => href[..=i].to_string(),
        None => String::new(),
    }
}

fn item(e: StoreError) -> Failure {
    match e {
        e if e.is_fatal() => Failure::Fatal(e),
        StoreError::Precondition(why) => Failure::Item(format!(
            "{why}; it changed on the server meanwhile, the next run plans it again"
        )),
        e => Failure::Item(e.to_string()),
    }
}

fn pair(
    href: &str,
    collection: String,
    uid: String,
    activity: i64,
    etag: Option<String>,
    rec: &Record,
) -> Pair {
    Pair {
        synced: Synced {
            href: href.to_string(),
            etag,
            gw_hash: rec.gw_hash.clone(),
            crm_hash: rec.crm_hash.clone(),
            activity,
            link_pending: rec.link_pending,
        },
        collection,
        uid,
    }
}

fn apply_one(
    store: &Store,
    st: &State,
    batch: &mut Batch<'_>,
    t: &Target<'_>,
    a: &Action,
    coll: &dyn Fn(&str) -> String,
) -> Result<Option<i64>, Failure> {
    let account = t.account;
    batch.begin()?;
    match a {
        Action::Report { .. } | Action::MassDeleteStop { .. } => Ok(None),
        Action::Conflict {
            href,
            losers,
            activity,
            ..
        } => {
            // C6: the losers are logged before the winner is written.
            for l in losers {
                st.log_conflict(account, href, l.side.as_str(), &l.data)?;
            }
            Ok(Some(*activity))
        }
        Action::CreateInCrm {
            rule,
            href,
            etag,
            uid,
            activity_type,
            fields,
            attach,
            rep,
            flags,
            queue,
            link,
            item,
            record: rec,
            ..
        } => {
            let explain = vec![format!(
                "{rule}: {} {uid} in calendar account `{account}` ({href}); attached to the owner's own person record, rep {rep}",
                item.kind.component()
            )];
            let id = st.create_calendar_activity(&NewCalendarActivity {
                activity_type,
                fields,
                attach: *attach,
                rep,
                rule: rule.as_str(),
                explain: &explain,
                uid: Some(uid),
            })?;
            st.set_attendee_flags(id, flags, queue, &fields.subject)?;
            let p = pair(href, coll(href), uid.clone(), id, Some(etag.clone()), rec);
            st.record_calendar_pair(account, &p, false)?;
            // C8: the link into the item, after the commit.
            if *link && let Some(tpl) = t.crm_link {
                batch.commit()?;
                let url = plan::link_url(tpl, id);
                if let Some(linked) = plan::link_item(item, &url, t.now) {
                    let ics = ical::write(&linked);
                    match store.put(href, &ics, Precondition::IfMatch(etag)) {
                        Ok(new_etag) => {
                            let mut p = p;
                            p.synced.etag = new_etag;
                            p.synced.gw_hash = ical::content_hash(&linked);
                            p.synced.link_pending = false;
                            st.record_calendar_pair(account, &p, false)?;
                        }
                        // The link stays owed; the next run writes it.
                        Err(e) if e.is_fatal() => return Err(Failure::Fatal(e)),
                        Err(e) => crate::ui::debug(format!("{href}: C8 link not written: {e}")),
                    }
                }
            }
            Ok(Some(id))
        }
        Action::UpdateCrm {
            activity,
            href,
            etag,
            fields,
            flags,
            queue,
            record: rec,
            ..
        } => {
            st.update_calendar_activity(*activity, fields)?;
            st.set_attendee_flags(*activity, flags, queue, &fields.subject)?;
            let uid = st.calendar_pair_uid(account, href)?;
            let p = pair(href, coll(href), uid, *activity, Some(etag.clone()), rec);
            st.record_calendar_pair(account, &p, false)?;
            Ok(Some(*activity))
        }
        Action::DeleteInCrm { activity, href, .. } => {
            st.delete_activity(*activity)?;
            st.forget_calendar_pair(account, href)?;
            Ok(Some(*activity))
        }
        Action::CreateOnServer {
            activity,
            kind,
            uid,
            name,
            ics,
            record: rec,
            ..
        } => {
            let collection = match kind {
                Kind::Event => t.events,
                Kind::Todo => t.tasks,
            };
            let href = format!("{collection}{name}");
            // X5: the UID first (committed), so a PUT whose answer is lost
            // is found.
            st.set_calendar_uid(*activity, uid)?;
            batch.commit()?;
            let etag = store
                .put(&href, ics, Precondition::Create)
                .map_err(|e| match e {
                    StoreError::Precondition(why) => Failure::Item(format!(
                        "{why}; an item crmsync did not make is at {href} and was left alone"
                    )),
                    e => item(e),
                })?;
            let p = pair(
                &href,
                collection.to_string(),
                uid.clone(),
                *activity,
                etag,
                rec,
            );
            st.record_calendar_pair(account, &p, true)?;
            Ok(Some(*activity))
        }
        Action::UpdateServer {
            activity,
            href,
            if_match,
            ics,
            record: rec,
            ..
        } => {
            let etag = store
                .put(href, ics, Precondition::IfMatch(if_match))
                .map_err(item)?;
            let uid = st.calendar_pair_uid(account, href)?;
            let p = pair(href, coll(href), uid, *activity, etag, rec);
            st.record_calendar_pair(account, &p, false)?;
            Ok(Some(*activity))
        }
        Action::DeleteOnServer {
            activity,
            href,
            if_match,
            ..
        } => {
            match store.delete(href, if_match) {
                Ok(()) | Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(item(e)),
            }
            st.forget_calendar_pair(account, href)?;
            Ok(Some(*activity))
        }
        Action::Remember {
            activity,
            href,
            etag,
            record: rec,
            ..
        } => {
            let mut uid = st.calendar_pair_uid(account, href)?;
            if uid.is_empty() {
                // X5: a pair found again by its UID (planner, C5).
                uid = st
                    .calendar_entry(*activity)?
                    .and_then(|e| e.uid)
                    .unwrap_or_default();
            }
            let p = pair(href, coll(href), uid, *activity, Some(etag.clone()), rec);
            st.record_calendar_pair(account, &p, false)?;
            Ok(None)
        }
        Action::Forget { href, .. } => {
            st.forget_calendar_pair(account, href)?;
            Ok(None)
        }
    }
}

/// After the writes: stores each collection's cursor for the next run
/// (see the module docs). `clean`: the collections whose every item was
/// planned and carried out (no report, failure or held-back deletion).
/// Fills in ETags a server did not send with a PUT.
///
/// # Errors
/// SQLite errors; server errors are not fatal here (the old cursor stays,
/// without its ctag, so the next run asks again).
pub fn advance(
    store: &Store,
    st: &State,
    account: &str,
    v: &View,
    clean: &BTreeSet<String>,
    wrote: &BTreeSet<String>,
) -> Result<()> {
    let rows = st.calendar_pairs(account)?;
    for (c, seen) in &v.basis {
        let key = cursor_key(account, c);
        let keep_old = || -> Result<()> {
            let old = st.stored_cursor(&key)?;
            st.store_cursor(
                &key,
                account,
                c,
                &Cursor {
                    ctag: None,
                    token: old.token,
                },
            )
        };
        if !clean.contains(c) {
            keep_old()?;
            continue;
        }
        if !wrote.contains(c) {
            st.store_cursor(&key, account, c, seen)?;
            continue;
        }
        let mine: HashMap<&str, Option<&str>> = rows
            .iter()
            .filter(|p| &p.collection == c)
            .map(|p| (p.synced.href.as_str(), p.synced.etag.as_deref()))
            .collect();
        // The ctag first, then what changed up to at least that point.
        let ctag = store.ctag(c);
        let since = Cursor {
            ctag: None,
            token: seen.token.clone(),
        };
        let (changed, removed, token, complete) = match store.listing(c, &since, None) {
            Ok(Listing::Delta(d)) => (d.changed, d.removed, Some(d.token), false),
            Ok(Listing::Full { members, token }) => (members, Vec::new(), token, true),
            _ => {
                keep_old()?;
                continue;
            }
        };
        let mut ours = true;
        let listed: BTreeSet<&str> = changed.iter().map(|m| m.href.as_str()).collect();
        for m in &changed {
            match mine.get(m.href.as_str()) {
                Some(None) => {
                    st.set_calendar_pair_etag(account, &m.href, &m.etag)?;
                }
                Some(Some(e)) if *e == m.etag => {}
                // Someone else's change, or a new item: see it next run.
                _ => ours = false,
            }
        }
        if removed.iter().any(|h| mine.contains_key(h.as_str()))
            || (complete && mine.keys().any(|h| !listed.contains(h)))
        {
            ours = false;
        }
        if ours {
            st.store_cursor(
                &key,
                account,
                c,
                &Cursor {
                    ctag,
                    token: token.or_else(|| seen.token.clone()),
                },
            )?;
        } else {
            keep_old()?;
        }
    }
    Ok(())
}
