//! Sources: the groupware side. Each module reads and writes one protocol
//! or folder format; nothing here knows CRM rules.

pub mod dav;
pub mod imap;
pub mod mail;
pub mod maildir;
pub mod store;
pub mod utf7;
pub mod vdir;
