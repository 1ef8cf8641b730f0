//! Plan: the rules of SPEC.md as pure functions from what the sources hold,
//! what the state file remembers and what the CRM holds, to actions. No I/O
//! here: every input is passed in, so each rule is a table-driven test.

pub mod calendar;
pub mod contacts;
pub mod mail;
pub mod resolve;
