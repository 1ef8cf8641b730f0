//! The one integration-test target (STYLE 12): the real `crmsync` binary
//! in temp dirs, against real Dovecot, Radicale and BottleCRM on loopback,
//! each started at most once per run by `harness`.

mod check;
mod cli;
mod docs;
mod faultproxy;
mod harness;
mod hostile;
mod imap_source;
mod import_mail;
mod import_wizard;
mod init;
mod interop_calendar;
mod interop_mail;
mod interrupt;
mod json_shape;
mod newcomer;
mod pty;
mod push_contacts;
mod reliability;
mod reliability_calendar;
mod report;
mod resolve_unknown;
mod rest_crm;
mod security;
mod smoke;
mod sync_calendar;
mod systemd;
