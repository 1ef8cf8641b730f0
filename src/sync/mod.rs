//! Engines: one per capability. Each takes the config, the state file, the
//! sources and a small `Chooser` (the wizard's questions; the unattended
//! chooser takes the defaults), runs source -> parse -> match -> plan ->
//! apply, and returns one typed report. Commands only build an engine and
//! print its report; a dry run (X8) is "plan, report, return" in the engine.

pub mod calendar;
pub mod check;
pub mod contacts;
pub mod mail;
pub mod resolve;
