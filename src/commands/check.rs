//! `crmsync check` (X1) and `crmsync unblock` (X2).
//!
//! check tests the config, the state file, the CRM and every configured
//! account (login, folders, calendar and address book discovery) and prints
//! one row per check. Accounts go through the lockout guard: a blocked one
//! is not tried, a refused login blocks it.

use anyhow::Result;
use serde::Serialize;

use super::Ctx;
use crate::accounts::{Guard, auth_failed, guard};
use crate::cli::{CheckArgs, UnblockArgs};
use crate::config::{Backend, DavAccount, DavSource, MailAccount, MailSource};
use crate::crm::rest;
use crate::error::{Exit, usage};
use crate::matching::Matcher;
use crate::report::output::Tabular;
use crate::source::dav::{Dav, DavError, DavKind};
use crate::source::imap;
use crate::source::mail::{MailSource as _, SourceError};
use crate::state::{Access, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Warn,
    Fail,
    Blocked,
    Skipped,
}

#[derive(Debug, Serialize)]
struct Row {
    check: String,
    target: String,
    status: Status,
    detail: String,
}

#[derive(Debug, Serialize)]
struct Report {
    command: &'static str,
    checks: Vec<Row>,
}

impl Tabular for Report {
    fn headers(&self) -> Vec<&'static str> {
        vec!["check", "target", "status", "detail"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.checks
            .iter()
            .map(|r| {
                vec![
                    r.check.clone(),
                    r.target.clone(),
                    format!("{:?}", r.status).to_lowercase(),
                    r.detail.clone(),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        let bad = self
            .checks
            .iter()
            .filter(|r| matches!(r.status, Status::Fail | Status::Blocked))
            .count();
        vec![if bad == 0 {
            "all checks passed".into()
        } else {
            format!("{bad} check(s) failed")
        }]
    }
}

fn row(check: &str, target: impl Into<String>, status: Status, detail: impl Into<String>) -> Row {
    Row {
        check: check.into(),
        target: target.into(),
        status,
        detail: detail.into(),
    }
}

pub fn run(ctx: &Ctx, args: &CheckArgs) -> Result<Exit> {
    let cfg = &ctx.cfg;
    for name in &args.accounts {
        if !cfg.account_names().iter().any(|(n, _)| n == name) && name != "crm" {
            return Err(usage(format!(
                "no account named `{name}` in {}; `crmsync check` without names checks all",
                cfg.describe_path()
            )));
        }
    }
    let wanted = |name: &str| args.accounts.is_empty() || args.accounts.iter().any(|a| a == name);
    let mut rows = vec![row(
        "config",
        cfg.describe_path(),
        Status::Ok,
        format!(
            "{} users, {} mail, {} calendar, {} contacts accounts; CRM {}",
            cfg.users.len(),
            cfg.mail.accounts.len(),
            cfg.calendar.accounts.len(),
            cfg.contacts.accounts.len(),
            match cfg.crm.backend {
                Backend::Embedded => "embedded",
                Backend::Rest => "rest",
            }
        ),
    )];
    let st = ctx.state(Access::Write, "check")?;
    rows.push(row(
        "state",
        st.path().display().to_string(),
        Status::Ok,
        format!(
            "schema {}, {}",
            st.schema_version()?,
            if st.writable() {
                "writable, lock held"
            } else {
                "read only (dry run)"
            }
        ),
    ));
    rows.extend(check_crm(ctx, &st, wanted("crm") && !args.offline)?);
    for a in &cfg.mail.accounts {
        if wanted(a.name()) {
            rows.push(check_mail(&st, a, args.offline)?);
        }
    }
    for (list, kind) in [
        (&cfg.calendar.accounts, DavKind::Calendar),
        (&cfg.contacts.accounts, DavKind::Contacts),
    ] {
        for a in list {
            if wanted(a.name()) {
                rows.push(check_dav(&st, a, kind, args.offline)?);
            }
        }
    }
    let failed = rows
        .iter()
        .any(|r| matches!(r.status, Status::Fail | Status::Blocked));
    ctx.printer.print(&Report {
        command: "check",
        checks: rows,
    })?;
    Ok(if failed { Exit::Failed } else { Exit::Ok })
}

fn check_crm(ctx: &Ctx, st: &State, online: bool) -> Result<Vec<Row>> {
    let cfg = &ctx.cfg;
    let mut rows = Vec::new();
    let c = st.counts()?;
    let m = Matcher::new(st, cfg)?;
    let mut missing = Vec::new();
    for u in &cfg.users {
        if m.user_person(cfg, u.login())?.is_none() {
            missing.push(u.login().to_string());
        }
    }
    let detail = format!(
        "{} companies, {} persons, {} activities, {} open unknown addresses",
        c.companies, c.persons, c.activities, c.open_unknown
    );
    if missing.is_empty() {
        rows.push(row("crm directory", "state file", Status::Ok, detail));
    } else {
        rows.push(row(
            "crm directory",
            "state file",
            Status::Warn,
            format!(
                "{detail}; users without a person record (M9: their mail cannot be imported): {}; \
                 import a person carrying one of their addresses",
                missing.join(", ")
            ),
        ));
    }
    if cfg.crm.backend == Backend::Rest {
        let target = cfg
            .crm
            .rest
            .as_ref()
            .map(|r| r.base_url.get_ref().clone())
            .unwrap_or_default();
        if !online {
            rows.push(row("crm rest", target, Status::Skipped, "--offline"));
            return Ok(rows);
        }
        let secret = match guard(st, "crm", &cfg.rest_secret()) {
            Ok(Guard::Go(s)) => s,
            Ok(Guard::Blocked(msg)) => {
                rows.push(row("crm rest", target, Status::Blocked, msg));
                return Ok(rows);
            }
            Err(e) => {
                rows.push(row("crm rest", target, Status::Fail, format!("{e:#}")));
                return Ok(rows);
            }
        };
        rows.push(match rest::ping(cfg, &secret) {
            Ok(d) => row("crm rest", target, Status::Ok, d),
            Err(rest::RestError::Auth(code)) => row(
                "crm rest",
                target,
                Status::Blocked,
                auth_failed(st, "crm", &secret, &format!("HTTP {code}"))?,
            ),
            Err(e) => row("crm rest", target, Status::Fail, e.to_string()),
        });
    }
    Ok(rows)
}

fn check_mail(st: &State, a: &MailAccount, offline: bool) -> Result<Row> {
    let name = a.name();
    match a.source {
        MailSource::Maildir => {
            let path = a.path.as_deref().unwrap_or(std::path::Path::new(""));
            let ok = path.join("cur").is_dir() || path.join("new").is_dir();
            Ok(if ok {
                row(
                    "mail",
                    name,
                    Status::Ok,
                    format!("Maildir {}", path.display()),
                )
            } else {
                row(
                    "mail",
                    name,
                    Status::Fail,
                    format!(
                        "{} is not a Maildir (no cur/ or new/ inside); check `path`",
                        path.display()
                    ),
                )
            })
        }
        MailSource::Imap => {
            let target = format!(
                "{name} (imap {}:{})",
                a.host.as_deref().unwrap_or(""),
                a.port()
            );
            if offline {
                return Ok(row("mail", target, Status::Skipped, "--offline"));
            }
            let secret = match guard(st, name, &a.secret()) {
                Ok(Guard::Go(s)) => s,
                Ok(Guard::Blocked(msg)) => return Ok(row("mail", target, Status::Blocked, msg)),
                Err(e) => return Ok(row("mail", target, Status::Fail, format!("{e:#}"))),
            };
            // M20: the folders as the import finds them (NAMESPACE, the
            // server's delimiter), named as the server lists them.
            let mut source = match imap::ImapSource::connect(a, &secret) {
                Ok(s) => s,
                Err(SourceError::Auth(detail)) => {
                    return Ok(row(
                        "mail",
                        target,
                        Status::Blocked,
                        auth_failed(st, name, &secret, &detail)?,
                    ));
                }
                Err(e) => {
                    return Ok(row("mail", target, Status::Fail, e.to_string()));
                }
            };
            let listing = source.missing_folders(&a.folders);
            source.close();
            let (missing, folders) = match listing {
                Ok(f) => f,
                Err(e) => {
                    return Ok(row(
                        "mail",
                        target,
                        Status::Fail,
                        format!("listing folders: {e}"),
                    ));
                }
            };
            Ok(if missing.is_empty() {
                row(
                    "mail",
                    target,
                    Status::Ok,
                    format!(
                        "login ok, {} folders on the server; configured: {}",
                        folders.len(),
                        a.folders.join(", ")
                    ),
                )
            } else {
                row(
                    "mail",
                    target,
                    Status::Fail,
                    format!(
                        "login ok, but folder(s) {} do not exist on the server; fix `folders` (the server has: {})",
                        missing
                            .iter()
                            .map(|f| format!("`{f}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        folders.join(", ")
                    ),
                )
            })
        }
    }
}

fn check_dav(st: &State, a: &DavAccount, kind: DavKind, offline: bool) -> Result<Row> {
    let name = a.name();
    let check = match kind {
        DavKind::Calendar => "calendar",
        DavKind::Contacts => "contacts",
    };
    if a.source == DavSource::Vdir {
        let path = a.path.as_deref().unwrap_or(std::path::Path::new(""));
        return Ok(if path.is_dir() {
            row(check, name, Status::Ok, format!("vdir {}", path.display()))
        } else {
            row(
                check,
                name,
                Status::Warn,
                format!(
                    "vdir {} does not exist yet; it is created on the first sync",
                    path.display()
                ),
            )
        });
    }
    let target = format!("{name} ({})", a.url.as_deref().unwrap_or(""));
    if offline {
        return Ok(row(check, target, Status::Skipped, "--offline"));
    }
    let secret = match guard(st, name, &a.secret()) {
        Ok(Guard::Go(s)) => s,
        Ok(Guard::Blocked(msg)) => return Ok(row(check, target, Status::Blocked, msg)),
        Err(e) => return Ok(row(check, target, Status::Fail, format!("{e:#}"))),
    };
    let dav = Dav::new(a, secret.clone())?;
    Ok(match dav.discover(kind) {
        Ok(cols) if cols.is_empty() => row(
            check,
            target,
            Status::Warn,
            format!(
                "login ok, but no {} collection found; one is created on the first sync",
                kind.protocol()
            ),
        ),
        Ok(cols) => row(
            check,
            target,
            Status::Ok,
            format!(
                "login ok; {}",
                cols.iter()
                    .map(|c| if c.components.is_empty() {
                        c.name.clone()
                    } else {
                        format!("{} ({})", c.name, c.components.join(", "))
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
        Err(DavError::Auth(code)) => row(
            check,
            target,
            Status::Blocked,
            auth_failed(st, name, &secret, &format!("HTTP {code}"))?,
        ),
        Err(e) => row(
            check,
            target,
            Status::Fail,
            format!("account `{name}`: {e}"),
        ),
    })
}

#[derive(Serialize)]
struct Unblocked {
    command: &'static str,
    unblocked: Vec<String>,
}

impl Tabular for Unblocked {
    fn headers(&self) -> Vec<&'static str> {
        vec!["unblocked account"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.unblocked.iter().map(|a| vec![a.clone()]).collect()
    }
}

/// X2: lifts the block of one or every account.
pub fn unblock(ctx: &Ctx, args: &UnblockArgs) -> Result<Exit> {
    let st = ctx.state(Access::Write, "unblock")?;
    let names = if args.all {
        st.blocked_accounts()?
    } else {
        let name = args.account.clone().unwrap_or_default();
        if st.blocked(&name)?.is_none() {
            let known = ctx.cfg.account_names().iter().any(|(n, _)| *n == name) || name == "crm";
            return Err(usage(if known {
                format!("account `{name}` is not blocked")
            } else {
                format!("no account named `{name}`; see `crmsync check` for the account names")
            }));
        }
        vec![name]
    };
    if st.writable() {
        for n in &names {
            st.unblock(n)?;
        }
    }
    ctx.printer.print(&Unblocked {
        command: "unblock",
        unblocked: names,
    })?;
    Ok(Exit::Ok)
}
