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
use rusqlite::{Connection, OptionalExtension, params};

use crate::apply::Failure;
use crate::crm::calendar::{self as crm, NewCalendarActivity};
use crate::model::CrmEntry;
use crate::parse::ical::{self, Kind};
use crate::plan::calendar::{self as plan, Action, Body, Record, Remote, Synced};
use crate::source::dav::{Member, Precondition};
use crate::source::store::{Cursor, Listing, Store, StoreError, store_cursor, stored_cursor};
use crate::state::now;

/// A linked pair as the state file holds it.
#[derive(Debug, Clone)]
pub struct Pair {
    pub synced: Synced,
    pub collection: String,
    pub uid: String,
}

/// The state key of a collection's cursor.
pub fn cursor_key(account: &str, collection: &str) -> String {
    crate::model::source_key(&["calendar", account, collection])
}

/// The pairs of an account (C5, C11).
///
/// # Errors
/// SQLite errors.
pub fn pairs(conn: &Connection, account: &str) -> Result<Vec<Pair>> {
    let mut st = conn.prepare_cached(
        "SELECT href, etag, gw_hash, crm_hash, activity_id, link_pending, collection, uid
         FROM calendar_items WHERE account = ?1 ORDER BY href",
    )?;
    let rows = st
        .query_map([account], |r| {
            Ok(Pair {
                synced: Synced {
                    href: r.get(0)?,
                    etag: r.get(1)?,
                    gw_hash: r.get(2)?,
                    crm_hash: r.get(3)?,
                    activity: r.get(4)?,
                    link_pending: r.get(5)?,
                },
                collection: r.get(6)?,
                uid: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Records (or replaces) a pair, and the activity's calendar source.
fn record(conn: &Connection, account: &str, p: &Pair, uid_of_activity: bool) -> Result<()> {
    let s = &p.synced;
    conn.prepare_cached(
        "INSERT INTO calendar_items (account, href, collection, uid, activity_id, etag, gw_hash, crm_hash,
                                     link_pending, synced_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(account, href) DO UPDATE SET collection = excluded.collection, uid = excluded.uid,
           activity_id = excluded.activity_id, etag = excluded.etag, gw_hash = excluded.gw_hash,
           crm_hash = excluded.crm_hash, link_pending = excluded.link_pending, synced_at = excluded.synced_at",
    )?
    .execute(params![
        account,
        s.href,
        p.collection,
        p.uid,
        s.activity,
        s.etag,
        s.gw_hash,
        s.crm_hash,
        s.link_pending,
        now()
    ])?;
    // SPEC 1: an activity's source is its calendar URL, UID and ETag.
    let n = conn
        .prepare_cached(
            "UPDATE activity_sources SET account = ?2, url = ?3, item_uid = ?4, etag = ?5
             WHERE activity_id = ?1 AND kind = 'calendar'",
        )?
        .execute(params![s.activity, account, s.href, p.uid, s.etag])?;
    if n == 0 {
        conn.prepare_cached(
            "INSERT INTO activity_sources (activity_id, kind, account, url, item_uid, etag)
             VALUES (?1, 'calendar', ?2, ?3, ?4, ?5)",
        )?
        .execute(params![s.activity, account, s.href, p.uid, s.etag])?;
    }
    if uid_of_activity {
        crm::set_uid(conn, s.activity, &p.uid)?;
    }
    Ok(())
}

/// Forgets a pair (the calendar source of the activity goes with it).
fn forget(conn: &Connection, account: &str, href: &str) -> Result<()> {
    let activity: Option<i64> = conn
        .prepare_cached("SELECT activity_id FROM calendar_items WHERE account = ?1 AND href = ?2")?
        .query_row(params![account, href], |r| r.get(0))
        .optional()?;
    conn.prepare_cached("DELETE FROM calendar_items WHERE account = ?1 AND href = ?2")?
        .execute(params![account, href])?;
    if let Some(id) = activity {
        conn.prepare_cached(
            "DELETE FROM activity_sources WHERE activity_id = ?1 AND kind = 'calendar' AND account = ?2",
        )?
        .execute(params![id, account])?;
    }
    Ok(())
}

/// C6: a losing version goes to the conflict log.
fn log_conflict(conn: &Connection, account: &str, href: &str, loser: &plan::Loser) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO conflicts (account, item, loser, data, at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        account,
        href,
        loser.side.as_str(),
        loser.data,
        now()
    ])?;
    Ok(())
}

/// One row of the conflict log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConflictRow {
    pub id: i64,
    pub account: String,
    pub item: String,
    pub loser: String,
    pub data: String,
    pub at: String,
}

/// The conflict log (C6), oldest first.
///
/// # Errors
/// SQLite errors.
pub fn conflicts(conn: &Connection, account: Option<&str>) -> Result<Vec<ConflictRow>> {
    let mut st = conn.prepare_cached(
        "SELECT id, account, item, loser, data, at FROM conflicts
         WHERE ?1 IS NULL OR account = ?1 ORDER BY id",
    )?;
    let rows = st
        .query_map([account], |r| {
            Ok(ConflictRow {
                id: r.get(0)?,
                account: r.get(1)?,
                item: r.get(2)?,
                loser: r.get(3)?,
                data: r.get(4)?,
                at: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
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
    conn: &Connection,
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
        let stored = stored_cursor(conn, &cursor_key(account, c)).map_err(sql)?;
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
    conn: &Connection,
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
        conn,
        open: false,
        items: 0,
    };
    for (i, a) in actions.iter().enumerate() {
        let r = apply_one(store, conn, &mut batch, t, a, &coll);
        let r = r.and_then(|id| batch.tick().map(|()| id));
        match r {
            Ok(Some(id)) => done(i, Outcome::Done(id)),
            Ok(None) => {}
            Err(Failure::Item(why)) => done(i, Outcome::Failed(why)),
            Err(Failure::Fatal(e)) => {
                batch.commit().map_err(|e| sql(e.into()))?;
                return Err(e);
            }
            Err(Failure::State(e)) => return Err(sql(e)),
        }
    }
    batch.commit().map_err(|e| sql(e.into()))?;
    Ok(())
}

/// CRM and state writes of consecutive items in one transaction, committed
/// every [`BATCH`] items and before any server write that must follow them
/// (X5): each item's rows are complete within a transaction, so a run
/// killed mid-batch loses whole items only, which the next run plans again.
struct Batch<'c> {
    conn: &'c Connection,
    open: bool,
    items: usize,
}

/// Items per transaction.
const BATCH: usize = 200;

impl Batch<'_> {
    fn begin(&mut self) -> rusqlite::Result<()> {
        if !self.open {
            self.conn.execute_batch("BEGIN")?;
            self.open = true;
        }
        Ok(())
    }

    fn commit(&mut self) -> rusqlite::Result<()> {
        if self.open {
            self.conn.execute_batch("COMMIT")?;
            self.open = false;
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

/// The UID of a pair the state holds.
fn pair_uid(conn: &Connection, account: &str, href: &str) -> Result<String> {
    Ok(conn
        .prepare_cached("SELECT uid FROM calendar_items WHERE account = ?1 AND href = ?2")?
        .query_row(params![account, href], |r| r.get(0))
        .optional()?
        .unwrap_or_default())
}

fn apply_one(
    store: &Store,
    conn: &Connection,
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
                log_conflict(conn, account, href, l)?;
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
            let id = crm::create(
                conn,
                &NewCalendarActivity {
                    activity_type,
                    fields,
                    attach: *attach,
                    rep,
                    rule,
                    explain: &explain,
                    uid: Some(uid),
                },
            )?;
            crm::set_attendee_flags(conn, id, flags, queue, &fields.subject)?;
            let p = pair(href, coll(href), uid.clone(), id, Some(etag.clone()), rec);
            record(conn, account, &p, false)?;
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
                            record(conn, account, &p, false)?;
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
            crm::update(conn, *activity, fields)?;
            crm::set_attendee_flags(conn, *activity, flags, queue, &fields.subject)?;
            let uid = pair_uid(conn, account, href)?;
            let p = pair(href, coll(href), uid, *activity, Some(etag.clone()), rec);
            record(conn, account, &p, false)?;
            Ok(Some(*activity))
        }
        Action::DeleteInCrm { activity, href, .. } => {
            crm::delete(conn, *activity)?;
            forget(conn, account, href)?;
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
            crm::set_uid(conn, *activity, uid)?;
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
            record(conn, account, &p, true)?;
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
            let uid = pair_uid(conn, account, href)?;
            let p = pair(href, coll(href), uid, *activity, etag, rec);
            record(conn, account, &p, false)?;
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
            forget(conn, account, href)?;
            Ok(Some(*activity))
        }
        Action::Remember {
            activity,
            href,
            etag,
            record: rec,
            ..
        } => {
            let mut uid = pair_uid(conn, account, href)?;
            if uid.is_empty() {
                // X5: a pair found again by its UID (planner, C5).
                uid = crm::entry(conn, *activity)?
                    .and_then(|e| e.uid)
                    .unwrap_or_default();
            }
            let p = pair(href, coll(href), uid, *activity, Some(etag.clone()), rec);
            record(conn, account, &p, false)?;
            Ok(None)
        }
        Action::Forget { href, .. } => {
            forget(conn, account, href)?;
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
    conn: &Connection,
    account: &str,
    v: &View,
    clean: &BTreeSet<String>,
    wrote: &BTreeSet<String>,
) -> Result<()> {
    let rows = pairs(conn, account)?;
    for (c, seen) in &v.basis {
        let key = cursor_key(account, c);
        let keep_old = || -> Result<()> {
            let old = stored_cursor(conn, &key)?;
            store_cursor(
                conn,
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
            store_cursor(conn, &key, account, c, seen)?;
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
                    conn.prepare_cached(
                        "UPDATE calendar_items SET etag = ?3 WHERE account = ?1 AND href = ?2",
                    )?
                    .execute(params![account, m.href, m.etag])?;
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
            store_cursor(
                conn,
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
