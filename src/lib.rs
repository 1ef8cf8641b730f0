//! crmsync: connects a company's groupware (IMAP mail, CalDAV calendars and
//! task lists, CardDAV address books) with its CRM.
//!
//! Data flows one way through the stages (docs/ARCHITECTURE.md):
//! [`source`] (groupware I/O) -> [`parse`] (bytes to typed items) ->
//! [`matching`] (addresses to persons and companies) -> [`plan`] (the SPEC
//! rules as pure functions) -> [`apply`] (one batch of writes, X5) ->
//! [`state`] (the SQLite state file and embedded CRM, the only place with
//! SQL). An engine in [`sync`] wires the stages for one capability and
//! returns a typed report; [`report`] prints it; [`wizard`] answers an
//! engine's questions at a terminal; [`commands`] and [`cli`] parse the
//! arguments and run an engine.
//!
//! Around them: [`model`] (the shared types and rule ids), [`address`],
//! [`error`] (exit codes, X7), [`ui`], [`config`], [`secret`] (X3), [`net`]
//! (TLS and HTTP), [`compose`] (typed items to bytes), [`accounts`] (the
//! lockout guard, X2), [`crm`] (the back ends, B1-B3) and [`fuzz`] (the
//! fuzzing entry points).
//!
//! Layers, lowest first; a module imports only its own layer or lower
//! (enforced by `tests/architecture.rs`): 0 `model`, `address`, `error`,
//! `ui`; 1 `config`, `secret`, `net`; 2 `parse`, `compose`; 3 `state`;
//! 4 `source`; 5 `matching`, `accounts`; 6 `plan`, `crm`; 7 `apply`;
//! 8 `sync`; 9 `report`; 10 `wizard`; 11 `commands`, `cli`, `fuzz`.

pub mod accounts;
pub mod address;
pub mod apply;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod config;
pub mod crm;
pub mod error;
pub mod fuzz;
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
