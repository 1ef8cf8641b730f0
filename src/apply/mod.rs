//! Apply: carries out planned actions on the CRM back end and the state
//! file, one transaction per batch of items so that an item's CRM rows and
//! its sync state commit together (X5); server-side actions follow the
//! commit and are recorded as pending until done.

pub mod calendar;
pub mod contacts;
pub mod mail;
pub mod resolve;
