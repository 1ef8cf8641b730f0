//! crmsync: connects a company's groupware (IMAP mail, CalDAV calendars and
//! task lists, CardDAV address books) with its CRM.
//!
//! Data flows one way through the modules (STYLE.md):
//!
//! - [`source`]: reads and writes the groupware (IMAP, DAV, folders);
//! - [`parse`]: bytes to typed items;
//! - [`matching`]: addresses to persons and companies;
//! - plan and apply: the SPEC rules as pure functions, then one
//!   transaction per item (they arrive with the sync commands);
//! - [`report`]: tables, JSON and exit codes.
//!
//! Around them: [`config`], [`secret`] (X3), [`state`] (the SQLite state
//! file and embedded CRM), [`crm`] (the directory and back ends),
//! [`accounts`] (the lockout guard, X2), [`net`] (TLS and HTTP), and
//! [`commands`], which only wire the stages together.

pub mod accounts;
pub mod address;
pub mod apply;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod config;
pub mod crm;
pub mod error;
pub mod matching;
pub mod model;
pub mod net;
pub mod parse;
pub mod plan;
pub mod report;
pub mod secret;
pub mod source;
pub mod state;
pub mod sync;
pub mod ui;
pub mod wizard;
