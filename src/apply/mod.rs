//! Apply: carries out planned actions on the CRM back end and the state
//! file, one transaction per batch of items so that an item's CRM rows and
//! its sync state commit together (X5); server-side actions follow the
//! commit and are recorded as pending until done.

pub mod calendar;
pub mod contacts;
pub mod mail;
pub mod resolve;

use crate::source::store::StoreError;

/// Why one write to a calendar or an address book did not happen: the item
/// alone ([`Failure::Item`], reported, the run goes on), the server
/// ([`Failure::Fatal`], the account stops) or the state file
/// ([`Failure::State`], the run stops).
pub(crate) enum Failure {
    Item(String),
    Fatal(StoreError),
    State(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::State(e)
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::State(e.into())
    }
}
