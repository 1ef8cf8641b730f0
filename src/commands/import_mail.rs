//! `crmsync import-mail` (SPEC 2): mail accounts to CRM activities, through
//! the wizard (W1-W5) or unattended (W6). Wires source -> parse -> match ->
//! plan -> apply -> report; the rules live in `plan::mail`.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, MultiSelect, Select};
use serde::Serialize;

use super::Ctx;
use crate::accounts::{Guard, auth_failed, guard};
use crate::apply::mail::{self as apply, Applied, Origin, ServerActions};
use crate::cli::ImportMailArgs;
use crate::config::{MailAccount, MailSource as SourceKind};
use crate::error::Exit;
use crate::matching::Matcher;
use crate::model::{Attach, reason};
use crate::parse::mail::{self as mailparse, ParsedMail};
use crate::plan::mail::{self as plan, MailAction, Owner, Settings};
use crate::report::output::{Tabular, render_table};
use crate::source::mail::{FolderInfo, MailSource, MsgRef, OutlinePart, SourceError};
use crate::state::{Access, State};

/// Messages fetched and committed together (X5: one transaction each).
const BATCH: usize = 200;
/// At most about this many bytes (by RFC822.SIZE) per batch; a bigger
/// message is a batch alone. Bounds the memory of the fetched bodies
/// (docs/PERFORMANCE.md: 2,000 mails of 54 KB peaked at 68 MB with 20 MB
/// batches, at 38 MB with 8 MB).
const BATCH_BYTES: u64 = 8 << 20;

#[derive(Debug, Default, Clone, Serialize)]
struct Counts {
    imported: usize,
    updated: usize,
    flagged: usize,
    skipped: usize,
    failed: usize,
}

#[derive(Debug, Clone, Serialize)]
struct ItemReport {
    id: String,
    action: String,
    rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip)]
    subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    activity_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attached_to: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    flags: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Summary {
    command: &'static str,
    dry_run: bool,
    counts: Counts,
    items: Vec<ItemReport>,
    /// Accounts that could not be read, with the reason and the next step.
    errors: Vec<String>,
    /// M21: what was left out without failing the account (a folder whose
    /// name cannot be sent back to the server), named as the server lists it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    /// W1: the appointments and tasks synced in the same run.
    #[serde(skip_serializing_if = "Option::is_none")]
    calendar: Option<serde_json::Value>,
    #[serde(skip)]
    all_items: bool,
}

impl Tabular for Summary {
    fn headers(&self) -> Vec<&'static str> {
        vec![
            "item",
            "action",
            "rule",
            "subject",
            "attached to / reason",
            "flags",
        ]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.items
            .iter()
            .filter(|i| {
                self.all_items
                    || self.dry_run
                    || i.action == "failed"
                    || i.reason.as_deref() == Some("too_large")
                    || !i.flags.is_empty()
            })
            .map(|i| {
                vec![
                    i.id.clone(),
                    i.action.clone(),
                    i.rule.clone(),
                    i.subject.chars().take(50).collect(),
                    i.attached_to
                        .clone()
                        .or_else(|| i.reason.clone())
                        .unwrap_or_default(),
                    i.flags.join("\n"),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        let c = &self.counts;
        let mut v = vec![format!(
            "{}{} imported ({} flagged for editing), {} joined as second mailbox, {} skipped, {} failed",
            crate::report::dry_run_lead(self.dry_run, ": would have "),
            c.imported,
            c.flagged,
            c.updated,
            c.skipped,
            c.failed
        )];
        v.extend(self.errors.iter().map(|e| format!("error: {e}")));
        v
    }
}

/// One fetched and planned mail.
struct Item {
    id: String,
    folder: usize,
    msg: MsgRef,
    mail: Option<ParsedMail>,
    raw: Vec<u8>,
    action: Result<MailAction, String>,
    documents: Vec<(Option<String>, Option<String>)>,
    selected: bool,
}

pub fn run(ctx: &Ctx, args: &ImportMailArgs) -> Result<Exit> {
    let cfg = &ctx.cfg;
    let accounts: Vec<&MailAccount> = super::pick_accounts(
        ctx,
        &cfg.mail.accounts,
        MailAccount::name,
        &args.accounts,
        "mail.accounts",
        "add one (see config.sample.toml) or run `crmsync init`",
    )?;
    let interactive = ctx.interactive() && !ctx.global.json;
    // W1: what to import now; the default comes from `[mail] areas`.
    let areas = choose_areas(ctx, interactive)?;
    let st = ctx.state(Access::Write, "import-mail")?;
    let run_id = if st.writable() {
        Some(st.start_run("import-mail", false)?)
    } else {
        None
    };
    let mut summary = Summary {
        command: "import-mail",
        dry_run: !st.writable(),
        counts: Counts::default(),
        items: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        all_items: args.all_items || ctx.global.verbose > 0,
        calendar: None,
    };
    let mut shown = Vec::new();
    for a in accounts.iter().filter(|_| areas.mail) {
        if let Err(e) = import_account(ctx, &st, a, interactive, &mut summary, &mut shown) {
            summary
                .errors
                .push(format!("account `{}`: {e:#}", a.name()));
        }
    }
    let exit = if areas.mail && summary.errors.len() == accounts.len() {
        Exit::Failed
    } else if !summary.errors.is_empty()
        || !summary.warnings.is_empty()
        || summary.counts.failed > 0
        || summary
            .items
            .iter()
            .any(|i| i.reason.as_deref() == Some("too_large"))
    {
        Exit::Partial
    } else {
        Exit::Ok
    };
    if let Some(id) = run_id {
        st.finish_run(id, exit.code(), &serde_json::to_string(&summary.counts)?)?;
    }
    // W1: appointments and tasks of the same users, through sync-calendar
    // (both ways), after the mail; its summary comes with the mail's.
    let mut st = Some(st);
    let calendar = if areas.kinds.events || areas.kinds.tasks {
        // The calendar run takes the state file's lock itself.
        st = None;
        let users: BTreeSet<&str> = accounts.iter().map(|a| a.user()).collect();
        let names: Vec<String> = ctx
            .cfg
            .calendar
            .accounts
            .iter()
            .filter(|c| users.contains(c.user()))
            .map(|c| c.name().to_string())
            .collect();
        if names.is_empty() {
            summary.errors.push(format!(
                "appointments and tasks: no [[calendar.accounts]] for {}; add one (see config.sample.toml)",
                users.iter().copied().collect::<Vec<_>>().join(", ")
            ));
            None
        } else {
            let args = crate::cli::SyncCalendarArgs {
                accounts: names,
                ..Default::default()
            };
            Some(super::sync_calendar::sync(ctx, &args, areas.kinds)?)
        }
    } else {
        None
    };
    let exit = match &calendar {
        Some((_, e)) if worse(*e, exit) => *e,
        None if !summary.errors.is_empty() && exit == Exit::Ok => Exit::Partial,
        _ => exit,
    };
    if let Some((c, _)) = &calendar
        && ctx.global.json
    {
        summary.calendar = Some(serde_json::to_value(c)?);
    }
    if areas.mail || ctx.global.json {
        ctx.printer.print(&summary)?;
    }
    if let Some((c, _)) = &calendar
        && !ctx.global.json
    {
        ctx.printer.print(c)?;
    }
    if interactive && !shown.is_empty() {
        let st = match st {
            Some(st) => st,
            None => ctx.state(Access::Read, "import-mail")?,
        };
        show(&st, &shown)?;
    }
    Ok(exit)
}

/// True when `a` is a worse outcome than `b` (failed > partial > ok).
fn worse(a: Exit, b: Exit) -> bool {
    let rank = |e: Exit| match e {
        Exit::Ok => 0,
        Exit::Partial => 1,
        _ => 2,
    };
    rank(a) > rank(b)
}

/// What one run imports (W1).
struct Areas {
    mail: bool,
    kinds: super::sync_calendar::Kinds,
}

/// W1: the areas from `[mail] areas`, offered for change on a terminal.
fn choose_areas(ctx: &Ctx, interactive: bool) -> Result<Areas> {
    const ALL: [&str; 3] = ["mail", "appointments", "tasks"];
    let mut on: Vec<bool> = ALL
        .iter()
        .map(|a| ctx.cfg.mail.areas.iter().any(|x| x == a))
        .collect();
    if interactive {
        let picked =
            dialoguer::MultiSelect::with_theme(&dialoguer::theme::ColorfulTheme::default())
                .with_prompt("What to import now (space toggles, enter goes on)")
                .items([
                    "mail",
                    "appointments (sync-calendar)",
                    "tasks (sync-calendar)",
                ])
                .defaults(&on)
                .interact()?;
        on = (0..ALL.len()).map(|i| picked.contains(&i)).collect();
        if !on.iter().any(|x| *x) {
            return Err(crate::error::usage("nothing chosen to import (W1)"));
        }
    }
    Ok(Areas {
        mail: on[0],
        kinds: super::sync_calendar::Kinds {
            events: on[1],
            tasks: on[2],
        },
    })
}

/// The settings in force for one account (account value, else `[mail]`).
fn settings(ctx: &Ctx, a: &MailAccount, folder: &FolderInfo) -> Settings {
    apply::settings(&ctx.cfg.mail, Some(a), folder.import_folder)
}

fn open_source(st: &State, a: &MailAccount) -> Result<Box<dyn MailSource>> {
    match a.source {
        SourceKind::Maildir => {
            let path = a.path.as_deref().unwrap_or(std::path::Path::new(""));
            Ok(Box::new(crate::source::maildir::Maildir::open(path)?))
        }
        SourceKind::Imap => {
            let secret = match guard(st, a.name(), &a.secret())? {
                Guard::Go(s) => s,
                Guard::Blocked(msg) => anyhow::bail!(msg),
            };
            match crate::source::imap::ImapSource::connect(a, &secret) {
                Ok(s) => Ok(Box::new(s)),
                Err(SourceError::Auth(detail)) => {
                    anyhow::bail!(auth_failed(st, a.name(), &secret, &detail)?)
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

fn folder_key(a: &MailAccount, folder: &str) -> String {
    match a.source {
        SourceKind::Imap => crate::model::source_key(&[
            "imap",
            a.host.as_deref().unwrap_or(""),
            &a.port().to_string(),
            a.login.as_deref().unwrap_or(a.user()),
            folder,
        ]),
        SourceKind::Maildir => crate::model::source_key(&[
            "maildir",
            &a.path
                .as_deref()
                .unwrap_or(std::path::Path::new(""))
                .display()
                .to_string(),
            folder,
        ]),
    }
}

fn import_account(
    ctx: &Ctx,
    st: &State,
    a: &MailAccount,
    interactive: bool,
    summary: &mut Summary,
    shown: &mut Vec<i64>,
) -> Result<()> {
    let cfg = &ctx.cfg;
    let matcher = Matcher::new(&st.conn, cfg)?;
    let user = cfg
        .user(a.user())
        .context("the account's user is not configured")?;
    // M9: an owner without a person record is a configuration error.
    let Some(owner) = apply::owner(&matcher, cfg, a.user())? else {
        let how = match cfg.crm.backend {
            crate::config::Backend::Embedded => "(crmsync crm import FILE --kind persons)",
            crate::config::Backend::Rest => "in the CRM, then run `crmsync crm pull`",
        };
        anyhow::bail!(
            "user `{}` has no person record (M9), so nothing was imported from this account; \
             add a person carrying {} {how}",
            a.user(),
            user.emails.join(" or ")
        );
    };
    let mut source = open_source(st, a)?;
    let prefix = &cfg.mail.folder_prefix;
    // M1: a configured folder deleted on the server is named, and the
    // other folders are still imported (the run then fails with the name).
    let mut configured = a.folders.clone();
    let mut missing: Vec<String> = Vec::new();
    let folders = loop {
        match source.folders(
            &configured,
            a.include_subfolders,
            prefix,
            a.import_parent.as_deref(),
        ) {
            Err(SourceError::Folder { folder, detail })
                if configured.len() > 1
                    && configured
                        .iter()
                        .any(|c| crate::source::mail::normalize_folder(c) == folder) =>
            {
                configured.retain(|c| crate::source::mail::normalize_folder(c) != folder);
                missing.push(format!("folder `{folder}`: {detail}"));
            }
            other => break other?,
        }
    };
    // M21: folders left out (a name the server cannot be sent back).
    for w in source.take_warnings() {
        let w = format!("account `{}`: {w}", a.name());
        crate::ui::warn(&w);
        summary.warnings.push(w);
    }
    let keyword = a
        .keyword
        .clone()
        .unwrap_or_else(|| cfg.mail.keyword.clone());
    let archive = a
        .archive_folder
        .clone()
        .or_else(|| cfg.mail.archive_folder.clone());
    let mut items: Vec<Item> = Vec::new();
    let mut run = apply::RunThreads::default();
    let mut keys = Vec::new();
    let mut statuses = Vec::new();
    for (fi, folder) in folders.iter().enumerate() {
        let status = source.select(&folder.name)?;
        let key = folder_key(a, &folder.name);
        // M3: a changed UIDVALIDITY re-scans; duplicates are caught by
        // Message-ID and hash. The UIDs remembered for the old validity
        // name other messages now: forget them (and actions owed to them)
        // first, or new mail at a reused UID would be taken as seen (lost)
        // and an owed keyword set on the wrong message.
        let (after, renumbered) = match apply::cursor(&st.conn, &key)? {
            Some((v, uid)) if v == status.validity => (uid, false),
            Some(_) => {
                crate::ui::info(format!(
                    "{}: folder `{}` changed its UIDVALIDITY; re-scanning (M3)",
                    a.name(),
                    source.server_name(&folder.name)
                ));
                if st.writable() {
                    let tx = st.conn.unchecked_transaction()?;
                    apply::forget_folder(&tx, &key, a.name(), &folder.name, &status.validity)?;
                    tx.commit()?;
                }
                (None, true)
            }
            None => (None, false),
        };
        if st.writable() {
            finish_pending(
                st,
                source.as_mut(),
                &folder.name,
                &key,
                &keyword,
                archive.as_deref(),
            )?;
        }
        let mut refs = source.list(&folder.name, after)?;
        if !renumbered {
            refs.retain(|r| !apply::seen(&st.conn, &key, &r.id).unwrap_or(false));
        }
        let s = settings(ctx, a, folder);
        let bar = crate::ui::progress(refs.len() as u64, &folder.name);
        for chunk in batches(&refs) {
            let mut fetched: Vec<Item> = Vec::new();
            // M4: a message over max_size is outlined (header, text parts,
            // attachment sizes from BODYSTRUCTURE), never fetched whole:
            // memory stays bounded by max_size, not by the biggest mail.
            let outline = source.can_outline();
            let (big, small): (Vec<MsgRef>, Vec<MsgRef>) = chunk
                .iter()
                .cloned()
                .partition(|m| outline && m.size > s.max_size);
            source.fetch(&folder.name, &small, &mut |msg, raw| {
                bar.inc(1);
                fetched.push(plan_one(
                    st, &matcher, a, &owner, folder, fi, &s, msg, raw, None, &mut run,
                )?);
                Ok(())
            })?;
            for msg in &big {
                bar.inc(1);
                if let Some(o) = source.fetch_outline(&folder.name, msg, s.max_size)? {
                    let fix = Some((o.text_size, o.attachments));
                    fetched.push(plan_one(
                        st, &matcher, a, &owner, folder, fi, &s, msg, o.raw, fix, &mut run,
                    )?);
                }
            }
            fetched.sort_by_key(|i| i.msg.uid);
            rethread(st, &matcher, a, &owner, folder, &s, &mut run, &mut fetched)?;
            if interactive {
                items.extend(fetched);
            } else {
                apply_batch(
                    st,
                    source.as_mut(),
                    a,
                    &folder.name,
                    &key,
                    &status.validity,
                    &fetched,
                    &keyword,
                    archive.as_deref(),
                    summary,
                )?;
            }
        }
        bar.finish_and_clear();
        keys.push(key);
        statuses.push(status);
    }
    if interactive {
        if items.is_empty() {
            crate::ui::info(format!("{}: no new mail", a.name()));
        } else {
            select(st, &mut items, cfg)?;
            for (fi, folder) in folders.iter().enumerate() {
                let chosen: Vec<Item> = items
                    .iter_mut()
                    .filter(|i| i.folder == fi)
                    .map(take_item)
                    .collect();
                let before = summary.items.len();
                apply_batch(
                    st,
                    source.as_mut(),
                    a,
                    &folder.name,
                    &keys[fi],
                    &statuses[fi].validity,
                    &chosen,
                    &keyword,
                    archive.as_deref(),
                    summary,
                )?;
                shown.extend(summary.items[before..].iter().filter_map(|i| i.activity_id));
            }
        }
    }
    if st.writable() {
        send_notices(st, source.as_mut(), a, &owner.addresses[0])?;
    }
    source.close();
    if !missing.is_empty() {
        anyhow::bail!(
            "{}; the other folders were imported. Recreate the folder or remove it from `folders` of account `{}`",
            missing.join("; "),
            a.name()
        );
    }
    Ok(())
}

fn take_item(i: &mut Item) -> Item {
    Item {
        id: i.id.clone(),
        folder: i.folder,
        msg: i.msg.clone(),
        mail: i.mail.take(),
        raw: std::mem::take(&mut i.raw),
        action: i.action.clone(),
        documents: std::mem::take(&mut i.documents),
        selected: i.selected,
    }
}

#[allow(clippy::too_many_arguments)]
fn plan_one(
    st: &State,
    matcher: &Matcher<'_>,
    a: &MailAccount,
    owner: &Owner,
    folder: &FolderInfo,
    fi: usize,
    s: &Settings,
    msg: &MsgRef,
    raw: Vec<u8>,
    outline: Option<(u64, Vec<OutlinePart>)>,
    run: &mut apply::RunThreads,
) -> Result<Item> {
    let id = format!("{}/{}/{}", a.name(), folder.name, msg.id);
    let mut item = Item {
        id,
        folder: fi,
        msg: msg.clone(),
        mail: None,
        raw: Vec::new(),
        action: Err(String::new()),
        documents: Vec::new(),
        selected: true,
    };
    let mut mail = match mailparse::parse(&raw) {
        Ok(m) => m,
        Err(e) => {
            item.action = Err(format!("{e}; the message stays untouched in the mailbox"));
            return Ok(item);
        }
    };
    // An outlined message (M4): `raw` is its stand-in; the sizes and the
    // attachments are the real message's.
    if let Some((text_size, parts)) = outline {
        mail.raw_size = msg.size;
        mail.text_size = text_size;
        mail.attachments = parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let name = p
                    .name
                    .map(|n| mailparse::sanitize_file_name(&n))
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| format!("attachment-{}", i + 1));
                mailparse::Attachment {
                    name,
                    media_type: p.media_type,
                    size: p.size,
                    sha256: String::new(),
                    data: Vec::new(),
                }
            })
            .collect();
    }
    let input = apply::mail_input(matcher, &mail)?;
    // M17: the mails planned before in this run count as imported.
    let known = apply::known_in_run(&st.conn, &mail, a.name(), run)?;
    let pf = plan::Folder {
        status: folder.status.clone(),
        import_folder: folder.import_folder,
    };
    let action = plan::plan(&input, owner, &pf, s, &known);
    run.note(&mail, &action);
    item.action = Ok(action);
    item.documents = vec![(None, None); mail.attachments.len()];
    item.mail = Some(mail);
    item.raw = raw;
    Ok(item)
}

/// M17 within a batch: a reply planned before its original (fetched
/// first, or a lower UID) is planned again once the original's place is
/// known, until nothing moves (chains of replies settle one link a pass).
#[allow(clippy::too_many_arguments)]
fn rethread(
    st: &State,
    matcher: &Matcher<'_>,
    a: &MailAccount,
    owner: &Owner,
    folder: &FolderInfo,
    s: &Settings,
    run: &mut apply::RunThreads,
    items: &mut [Item],
) -> Result<()> {
    let pf = plan::Folder {
        status: folder.status.clone(),
        import_folder: folder.import_folder,
    };
    for _ in 0..items.len() {
        let mut moved = false;
        for item in items.iter_mut() {
            let (Ok(MailAction::Import(p)), Some(mail)) = (&item.action, &item.mail) else {
                continue;
            };
            // Nothing of this run named: the state file's answer, as planned.
            if !run.mentions(mail) {
                continue;
            }
            let known = apply::known_in_run(&st.conn, mail, a.name(), run)?;
            match known.thread {
                Some(t) if p.rule != "M17" || p.attach != t => {
                    let input = apply::mail_input(matcher, mail)?;
                    let action = plan::plan(&input, owner, &pf, s, &known);
                    run.note(mail, &action);
                    item.action = Ok(action);
                    moved = true;
                }
                _ => {}
            }
        }
        if !moved {
            break;
        }
    }
    Ok(())
}

/// `refs` in batches of at most [`BATCH`] messages and, past the first
/// message, [`BATCH_BYTES`].
fn batches(refs: &[MsgRef]) -> Vec<&[MsgRef]> {
    let mut out = Vec::new();
    let mut rest = refs;
    while !rest.is_empty() {
        let mut end = 1;
        let mut bytes = rest[0].size;
        while end < rest.len().min(BATCH) && bytes.saturating_add(rest[end].size) <= BATCH_BYTES {
            bytes = bytes.saturating_add(rest[end].size);
            end += 1;
        }
        let (head, tail) = rest.split_at(end);
        out.push(head);
        rest = tail;
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn apply_batch(
    st: &State,
    source: &mut dyn MailSource,
    a: &MailAccount,
    folder: &str,
    key: &str,
    validity: &str,
    items: &[Item],
    keyword: &str,
    archive: Option<&str>,
    summary: &mut Summary,
) -> Result<()> {
    let server = ServerActions {
        mark: source.supports_keywords() && !keyword.is_empty(),
        archive: archive.is_some(),
    };
    let tx = st.conn.unchecked_transaction()?;
    let mut done = Vec::new();
    let mut max_uid: Option<u32> = None;
    let mut first_deselected: Option<u32> = None;
    for item in items {
        if !item.selected {
            first_deselected = Some(
                first_deselected.map_or(item.msg.uid.unwrap_or(0), |u: u32| {
                    u.min(item.msg.uid.unwrap_or(0))
                }),
            );
            continue;
        }
        max_uid = max_uid.max(item.msg.uid);
        let origin = Origin {
            account: a.name(),
            folder,
            source_key: key,
            validity,
            msg: &item.msg,
        };
        let subject = item
            .mail
            .as_ref()
            .map(|m| m.subject.clone())
            .unwrap_or_default();
        let mut report = ItemReport {
            id: item.id.clone(),
            action: String::new(),
            rule: String::new(),
            reason: None,
            subject,
            activity_id: None,
            attached_to: None,
            flags: Vec::new(),
        };
        match (&item.action, &item.mail) {
            (Ok(action), Some(mail)) => {
                if st.writable() {
                    let applied = apply::apply(
                        &tx,
                        &origin,
                        mail,
                        &item.raw,
                        action,
                        &item.documents,
                        server,
                    )?;
                    match applied {
                        Applied::Imported(id) | Applied::OwnerAdded(id) => {
                            report.activity_id = Some(id);
                            done.push(item.msg.clone());
                        }
                        Applied::Skipped | Applied::Failed => {}
                    }
                }
                match action {
                    MailAction::Import(p) => {
                        report.action = "imported".into();
                        report.rule = p.rule.into();
                        report.attached_to = Some(apply::describe_attach(&tx, p.attach)?);
                        report.flags = p
                            .flags
                            .iter()
                            .map(|f| {
                                if f.address.is_empty() {
                                    f.reason.to_string()
                                } else {
                                    format!("{}: {}", f.reason, f.address)
                                }
                            })
                            .collect();
                        summary.counts.imported += 1;
                        if !p.flags.is_empty() {
                            summary.counts.flagged += 1;
                        }
                    }
                    MailAction::AddOwner { activity_id, .. } => {
                        report.action = "updated".into();
                        report.rule = "M3".into();
                        report.reason = Some(format!(
                            "same mail as activity {activity_id}: owner added as participant"
                        ));
                        summary.counts.updated += 1;
                    }
                    MailAction::Skip(s) => {
                        report.action = "skipped".into();
                        report.rule = s.rule.into();
                        report.reason = Some(s.reason.into());
                        summary.counts.skipped += 1;
                    }
                }
            }
            (Err(_), _) | (Ok(_), None) => {
                let why = match &item.action {
                    Err(why) if !why.is_empty() => why.clone(),
                    _ => "the message could not be read".to_string(),
                };
                if st.writable() {
                    apply::record_failure(&tx, &origin, &why)?;
                }
                report.action = "failed".into();
                report.rule = "parse".into();
                report.reason = Some(why);
                summary.counts.failed += 1;
            }
        }
        summary.items.push(report);
    }
    if st.writable() {
        // The cursor never passes an item the person chose not to import now.
        let cursor = match (max_uid, first_deselected) {
            (Some(m), Some(d)) => Some(m.min(d.saturating_sub(1))),
            (m, _) => m,
        };
        if cursor.is_some() || items.iter().all(|i| i.msg.uid.is_none()) {
            apply::set_cursor(&tx, key, a.name(), folder, validity, cursor)?;
        }
        tx.commit()?;
        // M16 / X5: server actions only after the commit.
        server_actions(st, source, folder, key, &done, keyword, archive, server)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn server_actions(
    st: &State,
    source: &mut dyn MailSource,
    folder: &str,
    key: &str,
    done: &[MsgRef],
    keyword: &str,
    archive: Option<&str>,
    server: ServerActions,
) -> Result<()> {
    if done.is_empty() || (!server.mark && !server.archive) {
        return Ok(());
    }
    // M20: named as the server lists it.
    let shown = source.server_name(folder);
    if server.mark
        && let Err(e) = source.mark(folder, done, keyword)
    {
        // X5: a connection lost mid-STORE is not a server without
        // keywords: keep the actions pending (the next run sets them) and
        // fail the run.
        if source.connection_lost() {
            return Err(anyhow::Error::new(e).context(format!(
                "setting keyword {keyword} in `{shown}`; the mail is imported, the next run sets the keyword"
            )));
        }
        // The activities are committed; a server that keeps no keywords
        // must not make every run fail (M16).
        crate::ui::warn(format!(
            "setting keyword {keyword} in `{shown}` failed: {e}; set keyword = \"\" for this account to stop trying"
        ));
    }
    if let Some(target) = archive {
        source
            .move_to(folder, done, target)
            .with_context(|| format!("moving imported mail from `{shown}` to `{target}`"))?;
    }
    let ids: Vec<String> = done.iter().map(|m| m.id.clone()).collect();
    let tx = st.conn.unchecked_transaction()?;
    apply::clear_pending(&tx, key, &ids)?;
    tx.commit()?;
    Ok(())
}

/// X5: server actions a killed run owed, for messages still in the folder.
fn finish_pending(
    st: &State,
    source: &mut dyn MailSource,
    folder: &str,
    key: &str,
    keyword: &str,
    archive: Option<&str>,
) -> Result<()> {
    let pending = apply::pending_actions(&st.conn, key)?;
    if pending.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = pending.iter().map(|(id, _)| id.as_str()).collect();
    let present: Vec<MsgRef> = source
        .list(folder, None)?
        .into_iter()
        .filter(|m| ids.contains(&m.id.as_str()))
        .collect();
    let server = ServerActions {
        mark: source.supports_keywords() && !keyword.is_empty(),
        archive: archive.is_some(),
    };
    server_actions(st, source, folder, key, &present, keyword, archive, server)?;
    // Those no longer in the folder were moved already.
    let all: Vec<String> = pending.into_iter().map(|(id, _)| id).collect();
    let tx = st.conn.unchecked_transaction()?;
    apply::clear_pending(&tx, key, &all)?;
    tx.commit()?;
    Ok(())
}

/// M5: sends the owner notices recorded by this and earlier runs.
fn send_notices(
    st: &State,
    source: &mut dyn MailSource,
    a: &MailAccount,
    owner: &str,
) -> Result<()> {
    for (key, subject, body) in apply::pending_notices(&st.conn, a.name())? {
        let date = chrono::Utc::now().to_rfc2822();
        let mid = format!(
            "<crmsync-notice-{}@crmsync.invalid>",
            &crate::model::source_key(&[&key])[..24]
        );
        let raw = format!(
            "From: crmsync <{owner}>\r\nTo: <{owner}>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: {mid}\r\n\
             Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 8bit\r\n\r\n{}",
            body.replace('\n', "\r\n")
        );
        // X5: a run killed after the APPEND but before recording it left
        // the notice in INBOX already: never twice (M5).
        let there = source
            .has_message_id("INBOX", &mid)
            .with_context(|| "looking for an earlier notice in INBOX (M5)")?;
        if !there {
            source
                .append("INBOX", raw.as_bytes())
                .with_context(|| "appending a notice to INBOX (M5)")?;
        }
        apply::notice_sent(&st.conn, &key)?;
    }
    Ok(())
}

/// W2 and W3: the selection table, mandatory choices, documents.
fn select(st: &State, items: &mut [Item], cfg: &crate::config::Config) -> Result<()> {
    let theme = ColorfulTheme::default();
    let importable: Vec<usize> = (0..items.len())
        .filter(|&i| matches!(items[i].action, Ok(MailAction::Import(_))))
        .collect();
    let mut rows = Vec::new();
    for &i in &importable {
        let it = &items[i];
        let (Some(m), Ok(MailAction::Import(p))) = (&it.mail, &it.action) else {
            continue;
        };
        rows.push(vec![
            (rows.len() + 1).to_string(),
            m.date
                .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            m.from
                .as_ref()
                .map(|f| f.address.clone())
                .unwrap_or_default(),
            m.subject.chars().take(40).collect(),
            apply::describe_attach(&st.conn, p.attach)?,
            p.flags
                .iter()
                .map(|f| f.reason)
                .collect::<Vec<_>>()
                .join(", ")
                + if p.choices.is_empty() {
                    ""
                } else {
                    " (choice needed)"
                },
        ]);
    }
    let skipped = items.len() - importable.len();
    eprintln!(
        "{}",
        render_table(
            &["#", "date", "from", "subject", "attached to", "flags"],
            &rows
        )
    );
    if skipped > 0 {
        eprintln!(
            "{skipped} more new mail(s) will be skipped or recorded by the rules (see the summary)."
        );
    }
    if importable.is_empty() {
        return Ok(());
    }
    let labels: Vec<String> = rows
        .iter()
        .map(|r| {
            crate::ui::printable(&format!("{} {} | {} | {}", r[1], r[2], r[3], r[4])).into_owned()
        })
        .collect();
    let chosen = MultiSelect::with_theme(&theme)
        .with_prompt("Import these mails? (space toggles, enter confirms)")
        .items(&labels)
        .defaults(&vec![true; labels.len()])
        .interact()?;
    for (n, &i) in importable.iter().enumerate() {
        items[i].selected = chosen.contains(&n);
    }
    // W2: mandatory choices (an ambiguous sender) must be settled.
    for &i in &importable {
        if !items[i].selected {
            continue;
        }
        let Ok(MailAction::Import(p)) = &mut items[i].action else {
            continue;
        };
        if p.choices.is_empty() {
            continue;
        }
        let subject = items[i]
            .mail
            .as_ref()
            .map(|m| m.subject.clone())
            .unwrap_or_default();
        let mut labels = Vec::new();
        for id in &p.choices {
            labels.push(apply::describe_attach(&st.conn, Attach::Person(*id))?);
        }
        labels.push("none of them: keep it on me, flagged".into());
        let pick = Select::with_theme(&theme)
            .with_prompt(format!("\"{subject}\": the sender is ambiguous. Attach to"))
            .items(&labels)
            .default(0)
            .interact()?;
        if pick < p.choices.len() {
            let person = p.choices[pick];
            p.attach = Attach::Person(person);
            p.rule = "W2";
            p.why.push(format!(
                "the sender was ambiguous; person {person} chosen in the wizard (W2)"
            ));
            let sender: Vec<String> = p
                .flags
                .iter()
                .filter(|f| f.reason == reason::AMBIGUOUS_SENDER)
                .map(|f| f.address.clone())
                .collect();
            p.flags.retain(|f| f.reason != reason::AMBIGUOUS_SENDER);
            p.queue.retain(|q| !sender.contains(&q.address));
            p.participants.retain(|x| x.person_id != Some(person));
        }
        p.choices.clear();
    }
    // W3: documents.
    let m = &cfg.mail;
    if m.edit_documents && (!m.document_categories.is_empty() || !m.document_keywords.is_empty()) {
        for &i in &importable {
            if !items[i].selected {
                continue;
            }
            let (Some(mail), Ok(MailAction::Import(p))) = (&items[i].mail, &items[i].action) else {
                continue;
            };
            if p.drop_attachments || p.headers_only || mail.attachments.is_empty() {
                continue;
            }
            let names: Vec<String> = mail.attachments.iter().map(|a| a.name.clone()).collect();
            let mut docs = Vec::new();
            for name in names {
                let category = pick_optional(
                    &theme,
                    &format!("Category of {name}"),
                    &m.document_categories,
                )?;
                let keyword =
                    pick_optional(&theme, &format!("Keyword of {name}"), &m.document_keywords)?;
                docs.push((category, keyword));
            }
            items[i].documents = docs;
        }
    }
    Ok(())
}

fn pick_optional(theme: &ColorfulTheme, prompt: &str, list: &[String]) -> Result<Option<String>> {
    if list.is_empty() {
        return Ok(None);
    }
    let mut labels = vec!["(none)".to_string()];
    labels.extend(list.iter().cloned());
    let i = Select::with_theme(theme)
        .with_prompt(prompt)
        .items(&labels)
        .default(0)
        .interact()?;
    Ok(if i == 0 {
        None
    } else {
        Some(list[i - 1].clone())
    })
}

/// W5: this run's activities.
fn show(st: &State, ids: &[i64]) -> Result<()> {
    let ok = Confirm::with_theme(&ColorfulTheme::default())
        .with_prompt(format!("Show the {} imported activities?", ids.len()))
        .default(true)
        .interact()?;
    if !ok {
        return Ok(());
    }
    let mut rows = Vec::new();
    let mut by_id = BTreeMap::new();
    for id in ids {
        if let Some(v) = crate::crm::activities::view(&st.conn, *id)? {
            by_id.insert(*id, v);
        }
    }
    for (id, v) in by_id {
        rows.push(vec![
            id.to_string(),
            v.kind,
            v.start_at.unwrap_or_default(),
            v.subject.chars().take(40).collect(),
            format!("{} {}", v.attached_to.kind, v.attached_to.name),
            v.flags.join("\n"),
        ]);
    }
    eprintln!(
        "{}",
        render_table(
            &["id", "type", "date", "subject", "attached to", "flags"],
            &rows
        )
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(sizes: &[u64]) -> Vec<MsgRef> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| MsgRef {
                id: (i + 1).to_string(),
                uid: Some(i as u32 + 1),
                size,
            })
            .collect()
    }

    #[test]
    fn x5_batches_bound_count_and_bytes_and_keep_order() {
        let big = BATCH_BYTES;
        let r = refs(&[10, big, 10, 10]);
        let b: Vec<usize> = batches(&r).iter().map(|c| c.len()).collect();
        // A message over the limit is a batch alone; none is lost or reordered.
        assert_eq!(b, vec![1, 1, 2]);
        let r = refs(&vec![1; BATCH * 2 + 3]);
        let b: Vec<usize> = batches(&r).iter().map(|c| c.len()).collect();
        assert_eq!(b, vec![BATCH, BATCH, 3]);
        let flat: Vec<&MsgRef> = batches(&r).into_iter().flatten().collect();
        assert!(flat.iter().zip(&r).all(|(a, b)| a.id == b.id));
        assert!(batches(&[]).is_empty());
    }
}
