//! Carrying out a push-contacts plan (P1-P8) on the address book and the
//! state file.
//!
//! [`Store`] (in `source::store`) is the address book side: a CardDAV
//! account through the shared WebDAV core, or a vdir folder. The state
//! file records every card crmsync created (`pushed_cards`) and, per
//! address book, the ctag and sync-token it was last seen at
//! (`cursors`: validity = ctag, position = sync-token). C5: a ctag that did
//! not move means nothing changed and nothing else is asked; else the
//! changes since the sync-token are listed (RFC 6578); a server without
//! either gets an ETag listing. The ctag stored is always one observed
//! before the sync-token stored with it, so a skipped report can never
//! hide a change.
//!
//! Order of writes (X5): see [`carry_out`], the X5 home for contacts.

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;

use crate::apply::Failure;
use crate::plan::contacts::{Action, Op, Plan, Pushed, RecordKey, RecordKind, Remote, Wanted};
use crate::source::dav::{Collection, Fetched, Precondition};
use crate::source::store::Listing;
pub use crate::source::store::{Store, StoreError};
use crate::state::contacts::CardIntent;
use crate::state::{Cursor, State};

// ---------------------------------------------------------------------------
// State rows
// ---------------------------------------------------------------------------

/// Every card crmsync pushed for `account` (P1).
///
/// # Errors
/// SQLite errors.
pub fn pushed(st: &State, account: &str) -> Result<Vec<Pushed>> {
    Ok(st
        .pushed_cards(account)?
        .into_iter()
        .map(|r| Pushed {
            key: RecordKey {
                kind: RecordKind::parse(&r.record_kind).unwrap_or(RecordKind::Person),
                id: r.record_id,
            },
            href: r.href,
            collection: r.collection,
            uid: r.uid,
            etag: r.etag,
            hash: r.content_hash,
        })
        .collect())
}

/// Records a card about to be written (etag unknown) for a record,
/// replacing the record's earlier row (X5).
fn record_intent(
    st: &State,
    account: &str,
    w: &Wanted,
    href: &str,
    collection: &str,
) -> Result<()> {
    st.record_card_intent(
        account,
        &CardIntent {
            record_kind: w.key.kind.as_str(),
            record_id: &w.key.id,
            href,
            collection,
            uid: &w.uid,
            content_hash: &w.hash,
        },
    )
}

// ---------------------------------------------------------------------------
// What the server holds
// ---------------------------------------------------------------------------

/// The server's side of the pushed cards, and where each listed address
/// book was read.
#[derive(Debug, Default)]
pub struct RemoteView {
    pub remote: HashMap<String, Remote>,
    /// Collection -> the ctag seen by discovery and the sync-token the view
    /// is based on (None: the server has none).
    pub basis: HashMap<String, Cursor>,
    /// Requests made, for `-v`.
    pub listings: Vec<(String, &'static str)>,
}

/// Reads what the server holds at every pushed card, plus the address
/// book new cards go to: one listing per address book (nothing at all when
/// its ctag did not move), then a multiget of the cards whose ETag
/// changed, to check they are still crmsync's (same UID).
///
/// # Errors
/// Fatal [`StoreError`]s; SQLite errors.
pub fn remote_view(
    store: &Store,
    st: &State,
    books: &[Collection],
    pushed: &[Pushed],
    new_in: &str,
    token_key: &dyn Fn(&str) -> String,
) -> Result<RemoteView, StoreError> {
    let mut view = RemoteView::default();
    let mut colls: BTreeSet<&str> = pushed.iter().map(|p| p.collection.as_str()).collect();
    colls.insert(new_in);
    let mut suspicious: HashMap<&str, Vec<&Pushed>> = HashMap::new();
    for c in colls {
        let in_c: Vec<&Pushed> = pushed.iter().filter(|p| p.collection == c).collect();
        let Some(book) = books.iter().find(|b| b.href == c) else {
            for p in &in_c {
                view.remote.insert(p.href.clone(), Remote::Gone);
            }
            continue;
        };
        let stored = st
            .stored_cursor(&token_key(c))
            .map_err(|e| StoreError::Protocol(format!("{e:#}")))?;
        let listing = store.listing(c, &stored, book.ctag.as_deref())?;
        view.listings.push((c.to_string(), listing.describe()));
        view.basis.insert(
            c.to_string(),
            Cursor {
                ctag: book.ctag.clone(),
                token: listing.token().map(str::to_string),
            },
        );
        match &listing {
            Listing::Unchanged { .. } => {}
            Listing::Delta(d) => {
                let changed: HashMap<&str, &str> = d
                    .changed
                    .iter()
                    .map(|m| (m.href.as_str(), m.etag.as_str()))
                    .collect();
                for p in &in_c {
                    if let Some(e) = changed.get(p.href.as_str()) {
                        view.remote
                            .insert(p.href.clone(), Remote::Present(e.to_string()));
                    } else if d.removed.contains(&p.href) {
                        view.remote.insert(p.href.clone(), Remote::Gone);
                    }
                }
            }
            Listing::Full { members, .. } => {
                let all: HashMap<&str, &str> = members
                    .iter()
                    .map(|m| (m.href.as_str(), m.etag.as_str()))
                    .collect();
                for p in &in_c {
                    let r = match all.get(p.href.as_str()) {
                        Some(e) => Remote::Present(e.to_string()),
                        None => Remote::Gone,
                    };
                    view.remote.insert(p.href.clone(), r);
                }
            }
            Listing::Missing => {
                for p in &in_c {
                    view.remote.insert(p.href.clone(), Remote::Gone);
                }
            }
        }
        for p in in_c {
            let check = match (view.remote.get(&p.href), &p.etag) {
                (Some(Remote::Gone), _) => false,
                (Some(Remote::Present(e)), Some(mine)) => e != mine,
                (_, None) => true,
                (None, Some(_)) | (Some(Remote::Foreign), _) => false,
            };
            if check {
                suspicious.entry(c).or_default().push(p);
            }
        }
    }
    for (c, list) in suspicious {
        let hrefs: Vec<String> = list.iter().map(|p| p.href.clone()).collect();
        let got: HashMap<String, Fetched> = store
            .fetch(c, &hrefs)?
            .into_iter()
            .map(|f| (f.href.clone(), f))
            .collect();
        for p in list {
            let r = match got.get(&p.href) {
                Some(Fetched {
                    data: Some(text),
                    etag: Some(etag),
                    ..
                }) => {
                    if crate::parse::vcard::card_uid(text).as_deref() == Some(p.uid.as_str()) {
                        Remote::Present(etag.clone())
                    } else {
                        Remote::Foreign
                    }
                }
                _ => Remote::Gone,
            };
            view.remote.insert(p.href.clone(), r);
        }
    }
    Ok(view)
}

// ---------------------------------------------------------------------------
// Execution
// ---------------------------------------------------------------------------

/// The outcome of one writing action: the href written (None for a
/// delete), or why it failed.
pub type Outcome = Result<Option<String>, String>;

/// X5 home: the order of writes for contacts. Carries out the writing
/// actions of `plan` in order; reports each through `done(index,
/// outcome)`. A new card is recorded first with no ETag (its outcome
/// unknown), then written with `If-None-Match: *` (`create`), then its
/// ETag is recorded (or, when the server sent none, by [`advance_tokens`]).
/// A run killed in between leaves a row without ETag; the next run fetches
/// what the server holds there and finishes the job, so nothing is lost and
/// nothing is created twice. Updates and deletes are recorded after the
/// server confirmed them; a repeated one is harmless. Tests:
/// `x5_a_run_killed_around_a_create_loses_nothing_and_duplicates_nothing`
/// below.
///
/// A rejected item is reported and the run goes on (C12); a fatal error
/// (401, server gone) stops and is returned.
///
/// # Errors
/// The fatal [`StoreError`]; SQLite errors (as [`StoreError::Protocol`]).
pub fn carry_out(
    store: &Store,
    st: &State,
    account: &str,
    plan: &Plan,
    wanted: &[Wanted],
    done: &mut dyn FnMut(usize, Outcome),
) -> Result<(), StoreError> {
    let sql = |e: anyhow::Error| StoreError::Protocol(format!("state file: {e:#}"));
    for (i, a) in plan.actions.iter().enumerate() {
        if !a.op.writes() {
            if let Op::Forget { href } = &a.op {
                st.forget_card(account, href).map_err(sql)?;
            }
            continue;
        }
        match apply_one(store, st, account, a, wanted) {
            Ok(href) => done(i, Ok(href)),
            Err(Failure::Item(why)) => done(i, Err(why)),
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::State(e)) => return Err(sql(e)),
        }
    }
    Ok(())
}

fn item(e: StoreError) -> Failure {
    if e.is_fatal() {
        Failure::Fatal(e)
    } else {
        Failure::Item(e.to_string())
    }
}

/// Creates `w` at `href` (If-None-Match); if a card crmsync did not make
/// sits there, once more beside it. The row is recorded first (X5).
fn create(
    store: &Store,
    st: &State,
    account: &str,
    w: &Wanted,
    collection: &str,
    href: &str,
) -> Result<Option<String>, Failure> {
    let alt = format!("{collection}{}-2.vcf", w.uid);
    let mut tries = vec![href.to_string()];
    if href != alt {
        tries.push(alt);
    }
    let mut last = String::new();
    for h in tries {
        record_intent(st, account, w, &h, collection)?;
        match store.put(&h, &w.card, Precondition::Create) {
            Ok(etag) => {
                st.record_card_written(account, &h, &w.hash, etag.as_deref())?;
                return Ok(Some(h));
            }
            Err(StoreError::Precondition(why)) => {
                // P1: someone else's card holds this href; never replace it.
                last = format!("{why}; a card crmsync did not make is there and was left alone");
                st.forget_card(account, &h)?;
            }
            Err(e) if e.is_fatal() => return Err(Failure::Fatal(e)),
            Err(e) => {
                // Nothing was created: the row goes, the next run tries again.
                st.forget_card(account, &h)?;
                return Err(Failure::Item(e.to_string()));
            }
        }
    }
    Err(Failure::Item(last))
}

fn apply_one(
    store: &Store,
    st: &State,
    account: &str,
    a: &Action,
    wanted: &[Wanted],
) -> Result<Option<String>, Failure> {
    let w = a.wanted.and_then(|i| wanted.get(i));
    match (&a.op, w) {
        (Op::Create { collection, href }, Some(w)) => {
            create(store, st, account, w, collection, href)
        }
        (Op::Update { href, if_match }, Some(w)) => {
            let etag = store
                .put(href, &w.card, Precondition::IfMatch(if_match))
                .map_err(item)?;
            st.record_card_written(account, href, &w.hash, etag.as_deref())?;
            Ok(Some(href.clone()))
        }
        (
            Op::Move {
                from,
                if_match,
                collection,
                href,
            },
            Some(w),
        ) => {
            match store.delete(from, if_match) {
                Ok(()) | Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(item(e)),
            }
            create(store, st, account, w, collection, href)
        }
        (Op::Delete { href, if_match }, _) => {
            match store.delete(href, if_match) {
                Ok(()) | Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(item(e)),
            }
            st.forget_card(account, href)?;
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// After the writes: stores each address book's cursor for the next run.
/// The sync-token moves forward only past changes that are all crmsync's
/// own (same ETag as recorded), so that an edit made meanwhile is still
/// seen next run (P4); the ctag stored with it is one read before that
/// token. Fills in ETags a server did not send with the PUT. Dry runs never
/// get here.
///
/// # Errors
/// SQLite errors; server errors are not fatal here (the old token stays,
/// without a ctag, so the next run asks again).
pub fn advance_tokens(
    store: &Store,
    st: &State,
    account: &str,
    view: &RemoteView,
    written: &BTreeSet<String>,
    token_key: &dyn Fn(&str) -> String,
) -> Result<()> {
    let rows = pushed(st, account)?;
    for (c, seen) in &view.basis {
        if !written.iter().any(|h| h.starts_with(c.as_str())) {
            st.store_cursor(&token_key(c), account, c, seen)?;
            continue;
        }
        let in_c: HashMap<&str, &Pushed> = rows
            .iter()
            .filter(|p| &p.collection == c)
            .map(|p| (p.href.as_str(), p))
            .collect();
        // The ctag first, then what changed up to at least that point.
        let ctag = store.ctag(c);
        let since = Cursor {
            ctag: None,
            token: seen.token.clone(),
        };
        let (changed, removed, token, mut ours) = match store.listing(c, &since, None) {
            Ok(Listing::Delta(d)) => (d.changed, d.removed, Some(d.token), true),
            Ok(Listing::Full { members, token }) => {
                // Every member is listed: one of ours missing was removed.
                let listed: BTreeSet<&str> = members.iter().map(|m| m.href.as_str()).collect();
                let gone = in_c
                    .keys()
                    .filter(|h| !listed.contains(**h))
                    .map(|h| h.to_string())
                    .collect();
                (members, gone, token, true)
            }
            _ => (Vec::new(), Vec::new(), None, false),
        };
        for m in &changed {
            match in_c.get(m.href.as_str()) {
                Some(p) if p.etag.is_none() && written.contains(&m.href) => {
                    st.record_card_etag(account, &m.href, &m.etag)?;
                }
                Some(p) if p.etag.as_deref() != Some(m.etag.as_str()) => ours = false,
                _ => {}
            }
        }
        if removed.iter().any(|h| in_c.contains_key(h.as_str())) {
            ours = false;
        }
        let next = if ours {
            Cursor {
                ctag,
                token: token.or_else(|| seen.token.clone()),
            }
        } else {
            since
        };
        st.store_cursor(&token_key(c), account, c, &next)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::contacts::{self as plan, Input, Placement};
    use crate::source::dav::DavKind;
    use crate::source::vdir::Vdir;
    use crate::state::State;
    use std::collections::HashSet;

    fn wanted(id: &str, text: &str) -> Wanted {
        let key = RecordKey::person(id);
        let uid = key.uid();
        let card = format!("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:{uid}\r\nFN:{text}\r\nEND:VCARD\r\n");
        Wanted {
            hash: crate::parse::vcard::content_hash(&card),
            key,
            uid,
            card,
            why: "by_rep".into(),
        }
    }

    /// Plans and applies one run; returns (action, rule) per record.
    fn run(st: &State, store: &Store, w: &[Wanted]) -> Vec<(String, &'static str, &'static str)> {
        let (_, books) = store.collections().unwrap();
        let rows = pushed(st, "a").unwrap();
        let view = remote_view(store, st, &books, &rows, "c/", &|c: &str| c.to_string()).unwrap();
        let placement = Placement {
            new_in: "c/".into(),
            move_all: false,
            existing: books.iter().map(|b| b.href.clone()).collect(),
        };
        let p = plan::plan(&Input {
            wanted: w,
            pushed: &rows,
            remote: &view.remote,
            placement: &placement,
            in_crm: &HashSet::new(),
            crm_empty: false,
        });
        let mut failed = Vec::new();
        carry_out(store, st, "a", &p, w, &mut |i, o| {
            if o.is_err() {
                failed.push(i);
            }
        })
        .unwrap();
        assert!(failed.is_empty());
        p.actions
            .iter()
            .map(|a| (a.key.id.clone(), a.op.action(), a.rule.as_str()))
            .collect()
    }

    #[test]
    fn x5_a_run_killed_around_a_create_loses_nothing_and_duplicates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let v = Vdir::open(dir.path(), DavKind::Contacts);
        v.create_collection("c/", "C").unwrap();
        let store = Store::Vdir(v.clone());
        let st = State::open_memory().unwrap();
        let w = vec![wanted("P1", "One"), wanted("P2", "Two")];
        // Killed after recording P1's intent, before its PUT; and after
        // P2's PUT, before its ETag was recorded.
        record_intent(&st, "a", &w[0], "c/crmsync-person-P1.vcf", "c/").unwrap();
        record_intent(&st, "a", &w[1], "c/crmsync-person-P2.vcf", "c/").unwrap();
        v.put("c/crmsync-person-P2.vcf", &w[1].card, Precondition::Create)
            .unwrap();
        let got = run(&st, &store, &w);
        assert_eq!(
            got,
            vec![
                ("P2".to_string(), "updated", "X5"),
                ("P1".to_string(), "created", "P4")
            ]
        );
        let files: Vec<String> = v.list("c/").unwrap().into_iter().map(|m| m.href).collect();
        assert_eq!(
            files,
            vec!["c/crmsync-person-P1.vcf", "c/crmsync-person-P2.vcf"]
        );
        assert!(pushed(&st, "a").unwrap().iter().all(|p| p.etag.is_some()));
        // And the run after is quiet (P7).
        let got = run(&st, &store, &w);
        assert!(got.iter().all(|(_, a, _)| *a == "unchanged"), "{got:?}");
    }

    #[test]
    fn p5_p7_rows_follow_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let v = Vdir::open(dir.path(), DavKind::Contacts);
        v.create_collection("c/", "C").unwrap();
        let store = Store::Vdir(v.clone());
        let st = State::open_memory().unwrap();
        run(&st, &store, &[wanted("P1", "One")]);
        let e1 = pushed(&st, "a").unwrap()[0].etag.clone();
        assert_eq!(e1, v.list("c/").unwrap().first().map(|m| m.etag.clone()));
        assert_eq!(run(&st, &store, &[wanted("P1", "Uno")])[0].1, "updated");
        assert!(
            v.get("c/crmsync-person-P1.vcf")
                .unwrap()
                .unwrap()
                .1
                .contains("FN:Uno")
        );
        assert_eq!(run(&st, &store, &[])[0].1, "deleted");
        assert!(pushed(&st, "a").unwrap().is_empty());
        assert!(v.list("c/").unwrap().is_empty());
    }
}
