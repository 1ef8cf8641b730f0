//! The check engine (X1): tests the config, the state file, the CRM and
//! every configured account (login, folders, calendar and address book
//! discovery), one row per check. Accounts go through the lockout guard
//! (X2): a blocked one is not tried, a refused login blocks it.
//!
//! X17: without a config file the check says so and fails, opening (and
//! creating) no state file; a state file it cannot open is a failing row
//! with the fix, and the rows that need no state file still run.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::accounts::{Guard, auth_failed, guard};
use crate::config::{Backend, Config, DavAccount, DavSource, MailAccount, MailSource};
use crate::crm::rest;
use crate::matching::Matcher;
use crate::source::dav::{Dav, DavError, DavKind};
use crate::source::imap;
use crate::source::mail::{MailSource as _, SourceError};
use crate::state::State;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Warn,
    Fail,
    Blocked,
    Skipped,
}

/// One row of `crmsync check`.
#[derive(Debug, Serialize)]
pub struct CheckRow {
    pub check: String,
    pub target: String,
    pub status: CheckStatus,
    pub detail: String,
}

/// What `crmsync check` found (X1): one row per check.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub command: &'static str,
    pub checks: Vec<CheckRow>,
}

impl CheckReport {
    /// A check failed or found an account blocked (exit 1).
    pub fn failed(&self) -> bool {
        self.checks
            .iter()
            .any(|r| matches!(r.status, CheckStatus::Fail | CheckStatus::Blocked))
    }
}

/// The state file as `check` found it (X17).
pub enum StateCheck<'a> {
    /// Open: the rows that need it (CRM directory, the X2 guard) run.
    Open(&'a State),
    /// There is no config file: the state file at this path is not
    /// opened, so not created either.
    NoConfig(PathBuf),
    /// It could not be opened: the path and why (the error as a chain).
    Failed(PathBuf, String),
}

/// X17: why the state file at `path` could not be opened (`err`, the
/// error chain in words), with the fix: the directory to make writable,
/// or another place for the state file.
pub fn state_problem(cfg: &Config, path: &Path, err: &anyhow::Error) -> String {
    let io = err
        .chain()
        .find_map(|c| c.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    // The directory the state file goes in, or its nearest existing parent.
    let mut dir = path.parent().unwrap_or(Path::new("."));
    while !dir.as_os_str().is_empty() && std::fs::symlink_metadata(dir).is_err() {
        match dir.parent() {
            Some(d) => dir = d,
            None => break,
        }
    }
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let elsewhere = format!(
        "or set state = \"/path/to/state.sqlite\" in {} (or pass --state PATH)",
        cfg.describe_path()
    );
    let fix = if path.is_dir() {
        format!(
            "{} is a directory: name a file in it, e.g. state = \"{}\" in {} (or pass --state PATH)",
            path.display(),
            path.join("state.sqlite").display(),
            cfg.describe_path()
        )
    } else if dir.exists() && !dir.is_dir() {
        format!(
            "{} is a file, not a directory: move it away, {elsewhere}",
            dir.display()
        )
    } else if io == Some(std::io::ErrorKind::PermissionDenied)
        || (io.is_none() && path.exists())
        || dir.metadata().is_ok_and(|m| m.permissions().readonly())
    {
        format!(
            "make the directory writable for this user (chmod 700 {}, if it is crmsync's own), {elsewhere}",
            dir.display()
        )
    } else {
        elsewhere
    };
    format!("cannot open it: {err:#}; {fix}")
}

/// X1: checks the config, the state file, the CRM and the accounts named
/// in `accounts` (all when empty; `crm` names the CRM); with `offline` no
/// server is asked. Logins go through the lockout guard (X2); without an
/// open state file (X17) they are not tried.
///
/// # Errors
/// SQLite errors, and the errors of building a DAV client.
pub fn run(
    cfg: &Config,
    state: StateCheck<'_>,
    accounts: &[String],
    offline: bool,
) -> Result<CheckReport> {
    let wanted = |name: &str| accounts.is_empty() || accounts.iter().any(|a| a == name);
    let st = match &state {
        StateCheck::NoConfig(path) => {
            // X17: nothing to check without a config, and nothing created.
            let at = crate::config::default_path();
            return Ok(CheckReport {
                command: "check",
                checks: vec![
                    row(
                        "config",
                        at.display().to_string(),
                        CheckStatus::Fail,
                        "no config file here: create one with `crmsync init`, or pass --config PATH \
                         (or set CRMSYNC_CONFIG)",
                    ),
                    row(
                        "state",
                        path.display().to_string(),
                        CheckStatus::Skipped,
                        "not opened without a config (a check creates nothing)",
                    ),
                ],
            });
        }
        StateCheck::Open(st) => Some(*st),
        StateCheck::Failed(..) => None,
    };
    let mut rows = vec![row(
        "config",
        cfg.describe_path(),
        CheckStatus::Ok,
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
    match (&state, st) {
        (StateCheck::Failed(path, why), _) => {
            rows.push(row(
                "state",
                path.display().to_string(),
                CheckStatus::Fail,
                why.clone(),
            ));
        }
        (_, Some(st)) => rows.push(row(
            "state",
            st.path().display().to_string(),
            CheckStatus::Ok,
            format!(
                "schema {}, {}",
                st.schema_version()?,
                if st.writable() {
                    "writable, lock held"
                } else {
                    "read only (dry run)"
                }
            ),
        )),
        _ => {}
    }
    rows.extend(check_crm(cfg, st, wanted("crm") && !offline)?);
    for a in &cfg.mail.accounts {
        if wanted(a.name()) {
            rows.push(check_mail(st, a, offline)?);
        }
    }
    for (list, kind) in [
        (&cfg.calendar.accounts, DavKind::Calendar),
        (&cfg.contacts.accounts, DavKind::Contacts),
    ] {
        for a in list {
            if wanted(a.name()) {
                rows.push(check_dav(st, a, kind, offline)?);
            }
        }
    }
    Ok(CheckReport {
        command: "check",
        checks: rows,
    })
}

/// X17: why a login is not tried without the state file.
const NO_STATE: &str = "not tried: the lockout guard (X2) keeps its blocks in the state file; \
                        fix the state row first";

fn row(
    check: &str,
    target: impl Into<String>,
    status: CheckStatus,
    detail: impl Into<String>,
) -> CheckRow {
    CheckRow {
        check: check.into(),
        target: target.into(),
        status,
        detail: detail.into(),
    }
}

/// The REST CRM's base URL, the target of the `crm rest` row.
fn rest_target(cfg: &Config) -> String {
    cfg.crm
        .rest
        .as_ref()
        .map(|r| r.base_url.get_ref().clone())
        .unwrap_or_default()
}

fn check_crm(cfg: &Config, st: Option<&State>, online: bool) -> Result<Vec<CheckRow>> {
    let mut rows = Vec::new();
    let Some(st) = st else {
        rows.push(row(
            "crm directory",
            "state file",
            CheckStatus::Skipped,
            "needs the state file (see the state row)",
        ));
        if cfg.crm.backend == Backend::Rest {
            let why = if online { NO_STATE } else { "--offline" };
            rows.push(row("crm rest", rest_target(cfg), CheckStatus::Skipped, why));
        }
        return Ok(rows);
    };
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
        rows.push(row("crm directory", "state file", CheckStatus::Ok, detail));
    } else {
        rows.push(row(
            "crm directory",
            "state file",
            CheckStatus::Warn,
            format!(
                "{detail}; users without a person record (M9: their mail cannot be imported): {}; \
                 import a person carrying one of their addresses",
                missing.join(", ")
            ),
        ));
    }
    if cfg.crm.backend == Backend::Rest {
        let target = rest_target(cfg);
        if !online {
            rows.push(row("crm rest", target, CheckStatus::Skipped, "--offline"));
            return Ok(rows);
        }
        let secret = match guard(st, "crm", &cfg.rest_secret()) {
            Ok(Guard::Go(s)) => s,
            Ok(Guard::Blocked(msg)) => {
                rows.push(row("crm rest", target, CheckStatus::Blocked, msg));
                return Ok(rows);
            }
            Err(e) => {
                rows.push(row("crm rest", target, CheckStatus::Fail, format!("{e:#}")));
                return Ok(rows);
            }
        };
        rows.push(match rest::ping(cfg, &secret) {
            Ok(d) => row("crm rest", target, CheckStatus::Ok, d),
            Err(rest::RestError::Auth(code)) => row(
                "crm rest",
                target,
                CheckStatus::Blocked,
                auth_failed(st, "crm", &secret, &format!("HTTP {code}"))?,
            ),
            Err(e) => row("crm rest", target, CheckStatus::Fail, e.to_string()),
        });
    }
    Ok(rows)
}

fn check_mail(st: Option<&State>, a: &MailAccount, offline: bool) -> Result<CheckRow> {
    let name = a.name();
    match a.source {
        MailSource::Maildir => {
            let path = a.path.as_deref().unwrap_or(std::path::Path::new(""));
            let ok = path.join("cur").is_dir() || path.join("new").is_dir();
            Ok(if ok {
                row(
                    "mail",
                    name,
                    CheckStatus::Ok,
                    format!("Maildir {}", path.display()),
                )
            } else {
                row(
                    "mail",
                    name,
                    CheckStatus::Fail,
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
                return Ok(row("mail", target, CheckStatus::Skipped, "--offline"));
            }
            let Some(st) = st else {
                return Ok(row("mail", target, CheckStatus::Skipped, NO_STATE));
            };
            let secret = match guard(st, name, &a.secret()) {
                Ok(Guard::Go(s)) => s,
                Ok(Guard::Blocked(msg)) => {
                    return Ok(row("mail", target, CheckStatus::Blocked, msg));
                }
                Err(e) => return Ok(row("mail", target, CheckStatus::Fail, format!("{e:#}"))),
            };
            // M20: the folders as the import finds them (NAMESPACE, the
            // server's delimiter), named as the server lists them.
            let mut source = match imap::ImapSource::connect(a, &secret) {
                Ok(s) => s,
                Err(SourceError::Auth(detail)) => {
                    return Ok(row(
                        "mail",
                        target,
                        CheckStatus::Blocked,
                        auth_failed(st, name, &secret, &detail)?,
                    ));
                }
                Err(e) => {
                    return Ok(row("mail", target, CheckStatus::Fail, e.to_string()));
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
                        CheckStatus::Fail,
                        format!("listing folders: {e}"),
                    ));
                }
            };
            Ok(if missing.is_empty() {
                row(
                    "mail",
                    target,
                    CheckStatus::Ok,
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
                    CheckStatus::Fail,
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

fn check_dav(st: Option<&State>, a: &DavAccount, kind: DavKind, offline: bool) -> Result<CheckRow> {
    let name = a.name();
    let check = match kind {
        DavKind::Calendar => "calendar",
        DavKind::Contacts => "contacts",
    };
    if a.source == DavSource::Vdir {
        let path = a.path.as_deref().unwrap_or(std::path::Path::new(""));
        return Ok(if path.is_dir() {
            row(
                check,
                name,
                CheckStatus::Ok,
                format!("vdir {}", path.display()),
            )
        } else {
            row(
                check,
                name,
                CheckStatus::Warn,
                format!(
                    "vdir {} does not exist yet; it is created on the first sync",
                    path.display()
                ),
            )
        });
    }
    let target = format!("{name} ({})", a.url.as_deref().unwrap_or(""));
    if offline {
        return Ok(row(check, target, CheckStatus::Skipped, "--offline"));
    }
    let Some(st) = st else {
        return Ok(row(check, target, CheckStatus::Skipped, NO_STATE));
    };
    let secret = match guard(st, name, &a.secret()) {
        Ok(Guard::Go(s)) => s,
        Ok(Guard::Blocked(msg)) => return Ok(row(check, target, CheckStatus::Blocked, msg)),
        Err(e) => return Ok(row(check, target, CheckStatus::Fail, format!("{e:#}"))),
    };
    let dav = Dav::new(a, secret.clone())?;
    Ok(match dav.discover(kind) {
        Ok(cols) if cols.is_empty() => row(
            check,
            target,
            CheckStatus::Warn,
            format!(
                "login ok, but no {} collection found; one is created on the first sync",
                kind.protocol()
            ),
        ),
        Ok(cols) => row(
            check,
            target,
            CheckStatus::Ok,
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
            CheckStatus::Blocked,
            auth_failed(st, name, &secret, &format!("HTTP {code}"))?,
        ),
        Err(e) => row(
            check,
            target,
            CheckStatus::Fail,
            format!("account `{name}`: {e}"),
        ),
    })
}
