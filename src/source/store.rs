//! The item store of one DAV account: a CalDAV or CardDAV collection set
//! through the shared WebDAV core, or a vdir folder, behind the same few
//! operations (list with C5 shortcuts, fetch, put, delete, make a
//! collection). Used by push-contacts (P1-P8) and sync-calendar (C1-C12).
//!
//! C5: a ctag that did not move means nothing changed and nothing else is
//! asked; else the changes since the stored sync-token are listed (RFC
//! 6578); a server without either gets an ETag listing.

use anyhow::Result;

use crate::source::dav::{
    Collection, Dav, DavError, DavKind, Fetched, Member, Precondition, SyncDelta,
};
use crate::source::vdir::{Vdir, VdirError};
use crate::state::Cursor;

/// Multiget batch size (C5: changed items are fetched in batches).
const MULTIGET_BATCH: usize = 100;

/// Why a collection operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// 401: the account is blocked (X2); nothing more is tried.
    #[error("the server refused the login (HTTP {0})")]
    Auth(u16),
    /// The server cannot be reached or stopped answering: the account stops.
    #[error("{0}")]
    Unreachable(String),
    /// Not the version expected (412, or a file changed meanwhile).
    #[error("{0}")]
    Precondition(String),
    #[error("{0}")]
    NotFound(String),
    /// Refused for this item only (409, 507, a full disk ...).
    #[error("{0}")]
    Rejected(String),
    /// An answer that makes no sense: the account stops.
    #[error("{0}")]
    Protocol(String),
}

impl StoreError {
    /// True when the account cannot go on (X2 lockout, server gone).
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            StoreError::Auth(_) | StoreError::Unreachable(_) | StoreError::Protocol(_)
        )
    }
}

impl From<DavError> for StoreError {
    fn from(e: DavError) -> Self {
        let msg = e.to_string();
        match e {
            DavError::Auth(code) => StoreError::Auth(code),
            DavError::Http(_) => StoreError::Unreachable(msg),
            DavError::Protocol { .. } => StoreError::Protocol(msg),
            DavError::PreconditionFailed { .. } => StoreError::Precondition(msg),
            DavError::NotFound { .. } => StoreError::NotFound(msg),
            DavError::Rejected { .. } | DavError::InvalidSyncToken { .. } => {
                StoreError::Rejected(msg)
            }
        }
    }
}

impl From<VdirError> for StoreError {
    fn from(e: VdirError) -> Self {
        let msg = e.to_string();
        match e {
            VdirError::Precondition(_) => StoreError::Precondition(msg),
            VdirError::NotFound(_) => StoreError::NotFound(msg),
            VdirError::Io { .. } => StoreError::Rejected(msg),
        }
    }
}

/// The collections of one DAV account: address books or calendars.
pub enum Store {
    Dav(Dav, DavKind),
    Vdir(Vdir),
}

/// What a listing of one collection found.
#[derive(Debug, Clone)]
pub enum Listing {
    /// The ctag did not move: nothing changed (the stored token stays).
    Unchanged { token: Option<String> },
    /// Changes since the stored sync-token (RFC 6578).
    Delta(SyncDelta),
    /// Every member (initial sync, an expired token, or no sync-collection).
    Full {
        members: Vec<Member>,
        token: Option<String>,
    },
    /// The collection does not exist (any more).
    Missing,
}

impl Listing {
    /// How the collection was listed, for `-v`.
    pub fn describe(&self) -> &'static str {
        match self {
            Listing::Unchanged { .. } => "unchanged (ctag)",
            Listing::Delta(_) => "changes since the sync-token",
            Listing::Full { token: Some(_), .. } => "full (initial sync-collection)",
            Listing::Full { token: None, .. } => "full (ETag listing)",
            Listing::Missing => "missing",
        }
    }

    /// The token to start from next time, if the store has tokens.
    pub fn token(&self) -> Option<&str> {
        match self {
            Listing::Unchanged { token } => token.as_deref(),
            Listing::Delta(d) => Some(&d.token),
            Listing::Full { token, .. } => token.as_deref(),
            Listing::Missing => None,
        }
    }
}

impl Store {
    /// The collections (address books or calendars), with ctags, and
    /// the home set where new ones are made (None for a vdir: its root).
    ///
    /// # Errors
    /// [`StoreError`] of discovery.
    pub fn collections(&self) -> Result<(Option<String>, Vec<Collection>), StoreError> {
        match self {
            Store::Dav(d, kind) => {
                let found = d.discover_home(*kind, true)?;
                let colls = found
                    .collections
                    .into_iter()
                    .map(|mut c| {
                        c.href = d.path_of(&c.href);
                        c
                    })
                    .collect();
                Ok((Some(found.home.path().to_string()), colls))
            }
            Store::Vdir(v) => Ok((None, v.collections()?)),
        }
    }

    /// The path the configured URL points at (a marked default address
    /// collection when it is one); None for a vdir.
    pub fn configured_path(&self) -> Option<String> {
        match self {
            Store::Dav(d, _) => Some(d.base.path().to_string()),
            Store::Vdir(_) => None,
        }
    }

    /// Makes a collection (extended MKCOL; a folder in a vdir).
    ///
    /// # Errors
    /// [`StoreError::Rejected`] or [`StoreError::Precondition`] when
    /// something exists at `href` already.
    pub fn create_collection(&self, href: &str, name: &str) -> Result<Collection, StoreError> {
        match self {
            Store::Dav(d, kind) => {
                let mut c = d.mkcol(*kind, href, name)?;
                c.href = d.path_of(&c.href);
                Ok(c)
            }
            Store::Vdir(v) => Ok(v.create_collection(href, name)?),
        }
    }

    /// What changed in a collection since `cursor` (from the last run);
    /// `ctag` is the one discovery saw now.
    ///
    /// # Errors
    /// Fatal [`StoreError`]s; a lost token or a server without
    /// sync-collection falls back to a full listing.
    pub fn listing(
        &self,
        collection: &str,
        cursor: &Cursor,
        ctag: Option<&str>,
    ) -> Result<Listing, StoreError> {
        let d = match self {
            Store::Vdir(v) => {
                return match v.list(collection) {
                    Ok(members) => Ok(Listing::Full {
                        members,
                        token: None,
                    }),
                    Err(VdirError::NotFound(_)) => Ok(Listing::Missing),
                    Err(e) => Err(e.into()),
                };
            }
            Store::Dav(d, _) => d,
        };
        if cursor.ctag.is_some() && cursor.ctag.as_deref() == ctag {
            return Ok(Listing::Unchanged {
                token: cursor.token.clone(),
            });
        }
        let stored = cursor.token.as_deref();
        if stored.is_some() {
            match d.sync_collection(collection, stored) {
                Ok(delta) => return Ok(Listing::Delta(delta)),
                Err(DavError::NotFound { .. }) => return Ok(Listing::Missing),
                Err(DavError::InvalidSyncToken { .. }) => {
                    crate::ui::debug(format!(
                        "{collection}: sync token expired; listing everything"
                    ));
                }
                Err(e @ (DavError::Auth(_) | DavError::Http(_))) => return Err(e.into()),
                Err(_) => {}
            }
        }
        match d.sync_collection(collection, None) {
            Ok(delta) => Ok(Listing::Full {
                members: delta.changed,
                token: Some(delta.token),
            }),
            Err(DavError::NotFound { .. }) => Ok(Listing::Missing),
            Err(e @ (DavError::Auth(_) | DavError::Http(_))) => Err(e.into()),
            // No sync-collection here: an ETag listing does the same job.
            Err(_) => match d.list_members(collection) {
                Ok(members) => Ok(Listing::Full {
                    members,
                    token: None,
                }),
                Err(DavError::NotFound { .. }) => Ok(Listing::Missing),
                Err(e) => Err(e.into()),
            },
        }
    }

    /// Every item of a collection with its data, and the sync-token read
    /// just before (so a change made meanwhile is seen next time): one
    /// query REPORT on a server, every file of a vdir.
    ///
    /// # Errors
    /// Fatal [`StoreError`]s; [`StoreError::NotFound`] for a missing one.
    pub fn read_all(&self, collection: &str) -> Result<(Vec<Fetched>, Option<String>), StoreError> {
        match self {
            Store::Dav(d, kind) => {
                let token = match d.sync_token(collection) {
                    Ok(t) => t,
                    Err(e @ (DavError::Auth(_) | DavError::Http(_))) => return Err(e.into()),
                    Err(_) => None,
                };
                Ok((d.query_all(*kind, collection)?, token))
            }
            Store::Vdir(v) => {
                let hrefs: Vec<String> = v.list(collection)?.into_iter().map(|m| m.href).collect();
                Ok((self.fetch(collection, &hrefs)?, None))
            }
        }
    }

    /// The items at `hrefs` (multiget in batches; files in a vdir).
    ///
    /// # Errors
    /// Fatal [`StoreError`]s.
    pub fn fetch(&self, collection: &str, hrefs: &[String]) -> Result<Vec<Fetched>, StoreError> {
        match self {
            Store::Dav(d, kind) => Ok(d.multiget(*kind, collection, hrefs, MULTIGET_BATCH)?),
            Store::Vdir(v) => hrefs
                .iter()
                .map(|h| {
                    let got = v.get(h)?;
                    Ok(Fetched {
                        href: h.clone(),
                        etag: got.as_ref().map(|g| g.0.clone()),
                        data: got.map(|g| g.1),
                    })
                })
                .collect(),
        }
    }

    /// Writes an item; returns its new ETag if known.
    ///
    /// # Errors
    /// [`StoreError`]; see [`StoreError::is_fatal`].
    pub fn put(
        &self,
        href: &str,
        data: &str,
        pre: Precondition<'_>,
    ) -> Result<Option<String>, StoreError> {
        match self {
            Store::Dav(d, kind) => Ok(d.put(*kind, href, data, pre)?),
            Store::Vdir(v) => Ok(Some(v.put(href, data, pre)?)),
        }
    }

    /// Deletes an item if it is still the version `if_match`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it is gone already; others.
    pub fn delete(&self, href: &str, if_match: &str) -> Result<(), StoreError> {
        let m = (!if_match.is_empty()).then_some(if_match);
        match self {
            Store::Dav(d, _) => Ok(d.delete(href, m)?),
            Store::Vdir(v) => Ok(v.delete(href, m)?),
        }
    }

    /// The collection's ctag now (None: none, or a vdir).
    pub fn ctag(&self, collection: &str) -> Option<String> {
        match self {
            Store::Dav(d, _) => d.ctag(collection).ok().flatten(),
            Store::Vdir(_) => None,
        }
    }
}

/// The collection named `name`: display name first, then folder name,
/// exactly, then ignoring case.
pub fn find_collection<'a>(books: &'a [Collection], name: &str) -> Option<&'a Collection> {
    let last = |c: &Collection| {
        c.href
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string()
    };
    books
        .iter()
        .find(|c| c.name == name)
        .or_else(|| books.iter().find(|c| last(c) == name))
        .or_else(|| books.iter().find(|c| c.name.eq_ignore_ascii_case(name)))
        .or_else(|| books.iter().find(|c| last(c).eq_ignore_ascii_case(name)))
}

/// A folder name for a new collection: lower-case letters, digits, '-'.
pub fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "crm".into() } else { s }
}

/// Extended MKCOL with a free href: `crm/`, else `crm-2/` ... when
/// something else already sits there.
pub fn make_collection(store: &Store, href: &str, name: &str) -> Result<Collection, StoreError> {
    let base = href.trim_end_matches('/');
    let mut last = None;
    for n in 1..=5 {
        let h = if n == 1 {
            format!("{base}/")
        } else {
            format!("{base}-{n}/")
        };
        match store.create_collection(&h, name) {
            Ok(c) => return Ok(c),
            Err(e @ (StoreError::Rejected(_) | StoreError::Precondition(_))) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| StoreError::Rejected(format!("cannot create {href}"))))
}
