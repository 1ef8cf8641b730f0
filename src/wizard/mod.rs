//! The interactive choosers: the engines' `Chooser` traits answered by a
//! person at a terminal (dialoguer). The unattended choosers live beside
//! their engines in [`crate::sync`].

pub mod calendar;
pub mod contacts;
pub mod init;
pub mod mail;
pub mod resolve;
pub mod screen;
