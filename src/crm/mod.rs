//! The CRM side. Its directory (users, companies, persons) lives in the
//! state file: for the embedded back end (B1) those tables are the CRM; a
//! REST back end (B2) refreshes them as its cache, so matching and listing
//! read the same tables for both.

pub mod activity;
pub mod directory;
pub mod remote;
pub mod rest;
