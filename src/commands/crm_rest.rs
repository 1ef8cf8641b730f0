//! The REST back end in the commands (B2): `crm pull` and `crm push`, the
//! refresh of the directory cache before a command and the push of its
//! writes after it. The commands themselves only ever see the state file:
//! a REST CRM changes nothing in their code paths.

use anyhow::Result;
use serde::Serialize;

use super::Ctx;
use crate::accounts::{Guard, auth_failed, guard};
use crate::config::Backend;
use crate::crm::remote::{PullCounts, PushCounts, Remote};
use crate::crm::rest::{Client, Preset, RestError};
use crate::error::{Exit, usage};
use crate::report::output::Tabular;
use crate::secret::Secret;
use crate::state::{Access, State};
use crate::ui;

/// The commands that refresh the directory before they run (B2).
pub const REFRESHED: &[&str] = &[
    "import-mail",
    "resolve-unknown",
    "sync-calendar",
    "push-contacts",
    "crm activity add",
    "crm activity edit",
    "crm activity delete",
];

/// The commands whose writes are pushed after they ran.
pub fn pushes_after(command: &crate::cli::Command) -> bool {
    use crate::cli::{ActivityCommand, Command, CrmCommand};
    match command {
        Command::ImportMail(_) | Command::ResolveUnknown(_) | Command::SyncCalendar(_) => true,
        Command::Crm(CrmCommand::Activity(a)) => !matches!(**a, ActivityCommand::Show(_)),
        _ => false,
    }
}

/// The client for the configured REST CRM, after the X2 block list.
fn connect(ctx: &Ctx, st: &State) -> Result<(Client, Secret)> {
    let preset = Preset::of(&ctx.cfg)?;
    preset.check_config(&ctx.cfg)?;
    let secret = match guard(st, "crm", &ctx.cfg.rest_secret())? {
        Guard::Go(s) => s,
        Guard::Blocked(msg) => anyhow::bail!(msg),
    };
    Ok((Client::new(&ctx.cfg, &secret)?, secret))
}

/// A refused token blocks the `crm` account (X2): one attempt, never more.
fn fatal(st: &State, secret: &Secret, e: anyhow::Error) -> anyhow::Error {
    if let Some(RestError::Auth(code)) = e.downcast_ref::<RestError>() {
        return match auth_failed(st, "crm", secret, &format!("HTTP {code}")) {
            Ok(msg) => anyhow::anyhow!(msg),
            Err(db) => db,
        };
    }
    e
}

fn remote<'a>(st: &'a State, client: &'a Client) -> Result<Remote<'a>> {
    Ok(Remote {
        st,
        client,
        salt: st.salt()?,
    })
}

/// Sends the outbox now (B2); a refused token blocks `crm` (X2).
fn push_now(ctx: &Ctx, st: &State) -> Result<PushCounts> {
    let (client, secret) = connect(ctx, st)?;
    remote(st, &client)?
        .push()
        .map_err(|e| fatal(st, &secret, e))
}

/// B2: sends what waits, then refreshes the cache. Unless `force`, the
/// refresh is skipped when the last one is younger than `refresh_secs`.
fn sync(ctx: &Ctx, st: &State, force: bool) -> Result<Option<(PushCounts, PullCounts)>> {
    if !force
        && let Some(at) = st.rest_pulled_at()?
        && let Ok(at) = chrono::DateTime::parse_from_rfc3339(&at)
        && let Some(rest) = &ctx.cfg.crm.rest
        && (chrono::Utc::now() - at.with_timezone(&chrono::Utc)).num_seconds()
            < i64::try_from(rest.refresh_secs).unwrap_or(i64::MAX)
    {
        return Ok(None);
    }
    let (client, secret) = connect(ctx, st)?;
    let r = remote(st, &client)?;
    let pushed = r.push().map_err(|e| fatal(st, &secret, e))?;
    let pulled = r.pull().map_err(|e| fatal(st, &secret, e))?;
    st.set_rest_pulled_now()?;
    Ok(Some((pushed, pulled)))
}

/// Called by [`Ctx::state`] for the [`REFRESHED`] commands: refreshes the
/// cache when it is due. A CRM that does not answer is a warning (the
/// command goes on with the cache, its writes wait in the outbox); a
/// refused token stops the command (X2).
///
/// # Errors
/// A blocked or refused token; SQLite errors.
pub fn refresh(ctx: &Ctx, st: &State) -> Result<()> {
    if ctx.cfg.crm.backend != Backend::Rest {
        return Ok(());
    }
    if !st.writable() {
        // X8: a dry run writes nothing, not even the cache.
        if st.rest_pulled_at()?.is_none() {
            ui::warn(
                "the CRM directory was never pulled into the state file, so this dry run sees no persons; \
                 run `crmsync crm pull` first",
            );
        }
        return Ok(());
    }
    match sync(ctx, st, false) {
        Ok(Some((_, pulled))) => {
            ui::debug(format!(
                "crm: directory refreshed ({} persons, {} companies changed)",
                pulled.persons.created + pulled.persons.updated,
                pulled.companies.created + pulled.companies.updated
            ));
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e)
            if e.downcast_ref::<RestError>()
                .is_some_and(|r| !matches!(r, RestError::Auth(_))) =>
        {
            ui::warn(format!(
                "the CRM directory could not be refreshed ({e:#}); going on with the cache of {}",
                st.rest_pulled_at()?.unwrap_or_else(|| "never".into())
            ));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// After a command that wrote activities: push them (B2). Returns the
/// exit code to use: a refusal makes a clean run partial (3), a CRM that
/// cannot be reached makes it fail (1): the writes wait in the outbox.
///
/// # Errors
/// SQLite errors; the state file busy.
pub fn after(ctx: &Ctx, exit: Exit) -> Result<Exit> {
    if ctx.cfg.crm.backend != Backend::Rest || ctx.global.dry_run || exit == Exit::Usage {
        return Ok(exit);
    }
    let st = ctx.state(Access::Write, "crm push")?;
    match push_now(ctx, &st) {
        Ok(c) => {
            if c.created
                + c.updated
                + c.deleted
                + c.persons_created
                + c.found_again
                + c.duplicates_deleted
                > 0
            {
                ui::info(format!(
                    "crm: {} created, {} updated, {} deleted, {} persons created in the CRM{}{}",
                    c.created,
                    c.updated,
                    c.deleted,
                    c.persons_created,
                    if c.found_again > 0 {
                        format!("; {} found there from an interrupted run", c.found_again)
                    } else {
                        String::new()
                    },
                    if c.duplicates_deleted > 0 {
                        format!(
                            "; {} second copies an interrupted run left there deleted (X5)",
                            c.duplicates_deleted
                        )
                    } else {
                        String::new()
                    }
                ));
            }
            if c.waiting > 0 {
                ui::info(format!(
                    "crm: {} activities wait for a CRM record to hang on (unknown senders): `crmsync resolve-unknown`",
                    c.waiting
                ));
            }
            for r in &c.refused {
                if r.says_next {
                    ui::warn(format!("{}: {}", r.item, r.error));
                } else {
                    ui::warn(format!(
                        "{}: {}; fix it in crmsync or the CRM, then `crmsync crm push`",
                        r.item, r.error
                    ));
                }
            }
            Ok(if c.refused.is_empty() || exit != Exit::Ok {
                exit
            } else {
                Exit::Partial
            })
        }
        Err(e) => {
            eprintln!(
                "error: {}",
                crate::ui::printable(&format!(
                    "sending to the CRM: {e:#}; nothing is lost: the writes wait in the state file, \
                     the next run (or `crmsync crm push`) sends them"
                ))
            );
            Ok(Exit::Failed)
        }
    }
}

#[derive(Serialize)]
struct SyncSummary {
    command: &'static str,
    pushed: PushCounts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pulled: Option<PullCounts>,
}

impl Tabular for SyncSummary {
    fn headers(&self) -> Vec<&'static str> {
        vec!["what", "count"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        let p = &self.pushed;
        let mut rows = vec![
            vec![
                "activities created in the CRM".into(),
                p.created.to_string(),
            ],
            vec![
                "activities updated in the CRM".into(),
                p.updated.to_string(),
            ],
            vec![
                "activities deleted in the CRM".into(),
                p.deleted.to_string(),
            ],
            vec![
                "persons created in the CRM".into(),
                p.persons_created.to_string(),
            ],
            vec![
                "found again after an interrupted run".into(),
                p.found_again.to_string(),
            ],
            vec![
                "second copies of an interrupted run deleted".into(),
                p.duplicates_deleted.to_string(),
            ],
            vec!["waiting for a CRM record".into(), p.waiting.to_string()],
            vec!["refused by the CRM".into(), p.refused.len().to_string()],
        ];
        if let Some(q) = &self.pulled {
            rows.extend([
                vec![
                    "companies new / changed in the cache".into(),
                    format!("{} / {}", q.companies.created, q.companies.updated),
                ],
                vec![
                    "persons new / changed in the cache".into(),
                    format!("{} / {}", q.persons.created, q.persons.updated),
                ],
                vec!["gone from the CRM, removed".into(), q.removed.to_string()],
                vec![
                    "activities of deleted persons re-planned (B3)".into(),
                    q.replanned.to_string(),
                ],
                vec![
                    "calendar activities changed in the CRM".into(),
                    q.calendar_changed.to_string(),
                ],
                vec![
                    "calendar activities deleted in the CRM".into(),
                    q.calendar_deleted.to_string(),
                ],
            ]);
        }
        rows
    }
    fn footer(&self) -> Vec<String> {
        self.pushed
            .refused
            .iter()
            .map(|r| format!("{}: {}", r.item, r.error))
            .collect()
    }
}

/// `crmsync crm pull` (B2): sends what waits, then refreshes the cache now.
///
/// # Errors
/// A usage error with the embedded back end; the CRM's errors.
pub fn pull(ctx: &Ctx) -> Result<Exit> {
    require_rest(ctx, "pull")?;
    let st = ctx.state(Access::Write, "crm pull")?;
    let (pushed, pulled) = sync(ctx, &st, true)?.expect("forced");
    let partial = !pushed.refused.is_empty();
    ctx.printer.print(&SyncSummary {
        command: "crm pull",
        pushed,
        pulled: Some(pulled),
    })?;
    Ok(if partial { Exit::Partial } else { Exit::Ok })
}

/// `crmsync crm push` (B2): sends the outbox now.
///
/// # Errors
/// A usage error with the embedded back end; the CRM's errors.
pub fn push(ctx: &Ctx) -> Result<Exit> {
    require_rest(ctx, "push")?;
    let st = ctx.state(Access::Write, "crm push")?;
    let pushed = push_now(ctx, &st)?;
    let partial = !pushed.refused.is_empty();
    ctx.printer.print(&SyncSummary {
        command: "crm push",
        pushed,
        pulled: None,
    })?;
    Ok(if partial { Exit::Partial } else { Exit::Ok })
}

fn require_rest(ctx: &Ctx, what: &str) -> Result<()> {
    if ctx.cfg.crm.backend != Backend::Rest || ctx.global.dry_run {
        return Err(usage(if ctx.global.dry_run {
            format!("`crm {what}` talks to the CRM; it has no --dry-run")
        } else {
            format!(
                "`crm {what}` is for crm.backend = \"rest\"; {} uses the embedded CRM (the state file is the CRM)",
                ctx.cfg.describe_path()
            )
        }));
    }
    Ok(())
}
