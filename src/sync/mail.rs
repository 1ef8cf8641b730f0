//! The mail engine (SPEC 2): mail accounts to CRM activities. Per account
//! and folder: source -> parse -> match -> plan -> apply, in batches of
//! [`BATCH`] messages that commit together (X5, see [`commit_batch`]); with
//! a wizard ([`Chooser::wizard`]) the mails of every folder are gathered
//! and offered (W2, W3) before anything is written. The rules live in
//! `plan::mail`; what to write in `apply::mail`.

use anyhow::{Context, Result};
use serde::Serialize;

use crate::accounts::open_mail;
use crate::apply::mail::{self as apply, Applied, Origin, ServerActions};
use crate::config::{Config, MailAccount, MailSource as SourceKind};
use crate::error::Exit;
use crate::matching::Matcher;
use crate::model::{Attach, Rule, reason};
use crate::parse::mail::{self as mailparse, ParsedMail};
use crate::plan::mail::{self as plan, MailAction, Owner, Settings};
use crate::source::mail::{FolderInfo, MailSource, MsgRef, OutlinePart, SourceError};
use crate::state::State;

/// Messages fetched and committed together (X5: one transaction each).
const BATCH: usize = 200;
/// At most about this many bytes (by RFC822.SIZE) per batch; a bigger
/// message is a batch alone. Bounds the memory of the fetched bodies
/// (docs/PERFORMANCE.md: 2,000 mails of 54 KB peaked at 68 MB with 20 MB
/// batches, at 38 MB with 8 MB).
const BATCH_BYTES: u64 = 8 << 20;

/// What one run did, per kind of outcome.
#[derive(Debug, Default, Clone, Serialize)]
pub struct MailCounts {
    pub imported: usize,
    pub updated: usize,
    pub flagged: usize,
    pub skipped: usize,
    pub failed: usize,
}

/// One mail of the run and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct MailItem {
    pub id: String,
    pub action: String,
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip)]
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_to: Option<String>,
    /// X15: the id of what it hangs on (`P6`, `C3`), as everywhere else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

/// The report of one import-mail run.
#[derive(Debug, Serialize)]
pub struct MailReport {
    pub command: &'static str,
    pub dry_run: bool,
    pub counts: MailCounts,
    pub items: Vec<MailItem>,
    /// Accounts that could not be read, with the reason and the next step.
    pub errors: Vec<String>,
    /// M21: what was left out without failing the account (a folder whose
    /// name cannot be sent back to the server), named as the server lists it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// W1: the appointments and tasks synced in the same run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar: Option<serde_json::Value>,
    /// Every item in the table, not only those needing attention.
    #[serde(skip)]
    pub all_items: bool,
    /// The table names each item's id and rule (`-v`); else words only.
    #[serde(skip)]
    pub ids: bool,
    /// The run's exit code (X7), as recorded in `runs`.
    #[serde(skip)]
    pub exit: Exit,
}

/// How the engine runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// List every item in the table (`--all-items`, `-v`).
    pub all_items: bool,
    /// Item and rule ids in the table (`-v`).
    pub ids: bool,
}

/// One importable mail as the wizard shows it (W2, W7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailRow {
    /// `YYYY-MM-DD HH:MM` (sorts as text), empty when the mail has no date.
    pub date: String,
    pub from: String,
    pub subject: String,
    /// The person or company it will be attached to, in words.
    pub attached_to: String,
    /// Why it will be flagged for editing, in words.
    pub flags: Vec<String>,
    /// The sender is ambiguous: asked after the selection (W8).
    pub choice_needed: bool,
}

/// A person an ambiguous sender may be (W8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub name: String,
    /// The person's company, empty when none.
    pub company: String,
}

/// An address that more than one person carries (W8), asked once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ambiguous {
    pub address: String,
    /// How many of the selected mails come from it.
    pub mails: usize,
    pub people: Vec<Candidate>,
}

/// The answer about an ambiguous sender (W8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderAnswer {
    /// The person at this index of `people`.
    Person(usize),
    /// None of them: attach to the owner, flagged.
    NoneOfThem,
    /// Back to the selection (W2).
    Back,
}

/// One mail whose attachments get a category and a keyword (W3, W9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocMail {
    pub subject: String,
    pub from: String,
    pub attachments: Vec<String>,
}

/// The category and keyword of one attachment.
pub type DocChoice = (Option<String>, Option<String>);

/// The wizard's questions (W1-W3, W7-W9). [`Unattended`] takes the
/// defaults (W6); `crate::wizard::mail` asks a person.
pub trait Chooser {
    /// True when a person chooses (W2): the new mail of every folder is
    /// gathered and offered before anything is written.
    fn wizard(&self) -> bool;

    /// W1: what to import now, as [mail, appointments, tasks]; `on` holds
    /// the defaults from `[mail] areas`.
    ///
    /// # Errors
    /// A usage error when nothing is chosen; terminal errors.
    fn areas(&mut self, on: [bool; 3]) -> Result<[bool; 3]>;

    /// W2: the new mails to import. `rows`: each importable mail (in the
    /// folders' order); `skipped`: the new mails the rules skip; `chosen`:
    /// the answers so far (all true at first, the last answers after a
    /// step back). Returns one answer per row.
    ///
    /// # Errors
    /// Terminal errors.
    fn pick_mails(
        &mut self,
        rows: &[MailRow],
        skipped: usize,
        chosen: &[bool],
    ) -> Result<Vec<bool>>;

    /// W8: which person an ambiguous sender address is, asked once per
    /// address for all its selected mails.
    ///
    /// # Errors
    /// Terminal errors.
    fn pick_sender(&mut self, sender: &Ambiguous) -> Result<SenderAnswer>;

    /// W3, W9: the category and keyword of each attachment of `mails`,
    /// from the configured lists; None goes back to the selection (W2).
    ///
    /// # Errors
    /// Terminal errors.
    fn documents(
        &mut self,
        mails: &[DocMail],
        categories: &[String],
        keywords: &[String],
    ) -> Result<Option<Vec<Vec<DocChoice>>>>;
}

/// W6: no one to ask; every default is taken and mail is written batch by
/// batch.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unattended;

impl Chooser for Unattended {
    fn wizard(&self) -> bool {
        false
    }
    fn areas(&mut self, on: [bool; 3]) -> Result<[bool; 3]> {
        Ok(on)
    }
    fn pick_mails(
        &mut self,
        rows: &[MailRow],
        _skipped: usize,
        _chosen: &[bool],
    ) -> Result<Vec<bool>> {
        Ok(vec![true; rows.len()])
    }
    fn pick_sender(&mut self, _sender: &Ambiguous) -> Result<SenderAnswer> {
        Ok(SenderAnswer::NoneOfThem)
    }
    fn documents(
        &mut self,
        mails: &[DocMail],
        _categories: &[String],
        _keywords: &[String],
    ) -> Result<Option<Vec<Vec<DocChoice>>>> {
        Ok(Some(
            mails
                .iter()
                .map(|m| vec![(None, None); m.attachments.len()])
                .collect(),
        ))
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

/// Imports the new mail of `accounts` (none: only the run is recorded).
/// An account that fails is named in the report's errors; the others go on.
///
/// # Errors
/// SQLite errors of the run record, and of writing the counts.
pub fn run(
    cfg: &Config,
    st: &State,
    accounts: &[&MailAccount],
    opts: &Options,
    chooser: &mut dyn Chooser,
) -> Result<MailReport> {
    let run = st.begin_run("import-mail")?;
    let mut report = MailReport {
        command: "import-mail",
        dry_run: !st.writable(),
        counts: MailCounts::default(),
        items: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        calendar: None,
        all_items: opts.all_items,
        ids: opts.ids,
        exit: Exit::Ok,
    };
    for a in accounts {
        if let Err(e) = import_account(cfg, st, a, chooser, &mut report) {
            report.errors.push(format!("account `{}`: {e:#}", a.name()));
        }
    }
    report.exit = if !accounts.is_empty() && report.errors.len() == accounts.len() {
        Exit::Failed
    } else if !report.errors.is_empty()
        || !report.warnings.is_empty()
        || report.counts.failed > 0
        || report
            .items
            .iter()
            .any(|i| i.reason.as_deref() == Some("too_large"))
    {
        Exit::Partial
    } else {
        Exit::Ok
    };
    st.end_run(run, report.exit, &report.counts)?;
    Ok(report)
}

/// The settings in force for one account (account value, else `[mail]`).
fn settings(cfg: &Config, a: &MailAccount, folder: &FolderInfo) -> Settings {
    apply::settings(&cfg.mail, Some(a), folder.import_folder)
}

/// One folder being imported: where its mail lies, and what the server is
/// owed for imported mail (M16).
struct Place<'a> {
    account: &'a str,
    folder: &'a str,
    key: &'a str,
    validity: &'a str,
    keyword: &'a str,
    archive: Option<&'a str>,
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

/// One account: its folders, batch by batch (or, with a wizard, all new
/// mail offered first), then the owner notices (M5).
fn import_account(
    cfg: &Config,
    st: &State,
    a: &MailAccount,
    chooser: &mut dyn Chooser,
    summary: &mut MailReport,
) -> Result<()> {
    let interactive = chooser.wizard();
    let matcher = Matcher::new(st, cfg)?;
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
    let mut source = open_mail(st, a)?;
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
        // Message-ID and hash (the old UIDs are forgotten: settle_folder).
        let cursor = st.folder_cursor(&key)?;
        let renumbered = matches!(&cursor, Some((v, _)) if *v != status.validity);
        let after = cursor.and_then(|(_, uid)| uid).filter(|_| !renumbered);
        if renumbered {
            crate::ui::info(format!(
                "{}: folder `{}` changed its UIDVALIDITY; re-scanning (M3)",
                a.name(),
                source.server_name(&folder.name)
            ));
        }
        let place = Place {
            account: a.name(),
            folder: &folder.name,
            key: &key,
            validity: &status.validity,
            keyword: &keyword,
            archive: archive.as_deref(),
        };
        if st.writable() {
            settle_folder(st, source.as_mut(), &place, renumbered)?;
        }
        let mut refs = source.list(&folder.name, after)?;
        if !renumbered {
            refs.retain(|r| !st.seen(&key, &r.id).unwrap_or(false));
        }
        let s = settings(cfg, a, folder);
        let bar = crate::ui::progress(refs.len() as u64, &format!("{}/{}", a.name(), folder.name));
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
                apply_batch(st, source.as_mut(), &place, &fetched, summary)?;
            }
        }
        crate::ui::done(&bar);
        keys.push(key);
        statuses.push(status);
    }
    if interactive {
        if items.is_empty() {
            crate::ui::info(format!("{}: no new mail", a.name()));
        } else {
            choose(st, &mut items, cfg, chooser)?;
            if st.writable() {
                // W11: from here on, a Ctrl-C keeps what was imported.
                crate::ui::interrupt_now_means(crate::ui::Stopped::ImportedKept);
            }
            for (fi, folder) in folders.iter().enumerate() {
                let chosen: Vec<Item> = items
                    .iter_mut()
                    .filter(|i| i.folder == fi)
                    .map(take_item)
                    .collect();
                let place = Place {
                    account: a.name(),
                    folder: &folder.name,
                    key: &keys[fi],
                    validity: &statuses[fi].validity,
                    keyword: &keyword,
                    archive: archive.as_deref(),
                };
                apply_batch(st, source.as_mut(), &place, &chosen, summary)?;
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
        mail.attachments = outlined_attachments(parts);
    }
    let input = apply::mail_input(matcher, &mail)?;
    // M17: the mails planned before in this run count as imported.
    let known = apply::known_in_run(st, &mail, a.name(), run)?;
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

/// M4: the attachments of an outlined message, from its BODYSTRUCTURE:
/// names made safe (or numbered when there is none), sizes as the server
/// gave them, no content (never fetched).
fn outlined_attachments(parts: Vec<OutlinePart>) -> Vec<mailparse::Attachment> {
    parts
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
        .collect()
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
            let known = apply::known_in_run(st, mail, a.name(), run)?;
            match known.thread {
                Some(t) if p.rule != Rule::M17 || p.attach != t => {
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

/// Before a folder is listed (never under `--dry-run`): after a changed
/// UIDVALIDITY (`renumbered`, M3) the UIDs remembered for the old one name
/// other messages now, so they are forgotten (with the actions owed to
/// them) first, or new mail at a reused UID would be taken as seen (lost)
/// and an owed keyword set on the wrong message; then the server actions
/// a killed run owed are carried out (X5).
fn settle_folder(
    st: &State,
    source: &mut dyn MailSource,
    place: &Place<'_>,
    renumbered: bool,
) -> Result<()> {
    if renumbered {
        let b = st.batch()?;
        st.forget_folder(place.key, place.account, place.folder, place.validity)?;
        b.commit()?;
    }
    finish_pending(st, source, place)
}

/// Writes the chosen mails of one batch, or under `--dry-run` (X8) only
/// plans and reports them: nothing is written, nothing is asked of the
/// server.
fn apply_batch(
    st: &State,
    source: &mut dyn MailSource,
    place: &Place<'_>,
    items: &[Item],
    summary: &mut MailReport,
) -> Result<()> {
    if !st.writable() {
        // X8: plan, report, return.
        for item in items.iter().filter(|i| i.selected) {
            report_item(st, item, None, summary)?;
        }
        return Ok(());
    }
    commit_batch(st, source, place, items, summary)
}

/// The report line of one mail; `activity`: the activity it was written
/// to or joined (none under `--dry-run`).
fn report_item(
    st: &State,
    item: &Item,
    activity: Option<i64>,
    summary: &mut MailReport,
) -> Result<()> {
    let subject = item
        .mail
        .as_ref()
        .map(|m| m.subject.clone())
        .unwrap_or_default();
    let mut report = MailItem {
        id: item.id.clone(),
        action: String::new(),
        rule: String::new(),
        reason: None,
        subject,
        activity_id: activity,
        attached_to: None,
        attached_id: None,
        flags: Vec::new(),
    };
    match (&item.action, &item.mail) {
        (Ok(action), Some(_)) => match action {
            MailAction::Import(p) => {
                report.action = "imported".into();
                report.rule = p.rule.to_string();
                report.attached_to = Some(apply::describe_attach(st, p.attach)?);
                report.attached_id = match p.attach {
                    Attach::Person(id) => st.person_by_rowid(id)?.map(|r| r.id),
                    Attach::Company(id) => st.company_by_rowid(id)?.map(|r| r.id),
                };
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
                report.rule = s.rule.to_string();
                report.reason = Some(s.reason.into());
                summary.counts.skipped += 1;
            }
        },
        (Err(_), _) | (Ok(_), None) => {
            report.action = "failed".into();
            report.rule = "parse".into();
            report.reason = Some(failure(item));
            summary.counts.failed += 1;
        }
    }
    summary.items.push(report);
    Ok(())
}

/// Why a mail could not be planned (it stays untouched on the server).
fn failure(item: &Item) -> String {
    match &item.action {
        Err(why) if !why.is_empty() => why.clone(),
        _ => "the message could not be read".to_string(),
    }
}

// ---------------------------------------------------------------------------
// X5: batch commit, then server actions, then their completion
// ---------------------------------------------------------------------------

/// X5 home: the order that keeps a killed run from losing or doubling
/// mail. (1) Everything one batch writes (activities, item records with
/// the server actions still owed as `pending`, the folder cursor) commits
/// in one transaction. (2) Only then are the server actions carried out
/// (M16: keyword, move to the archive folder). (3) Only then are they
/// marked done. A run killed between (1) and (3) leaves them pending, and
/// [`finish_pending`] carries them out at the start of the next run.
fn commit_batch(
    st: &State,
    source: &mut dyn MailSource,
    place: &Place<'_>,
    items: &[Item],
    summary: &mut MailReport,
) -> Result<()> {
    let server = ServerActions {
        mark: source.supports_keywords() && !place.keyword.is_empty(),
        archive: place.archive.is_some(),
    };
    let batch = st.batch()?;
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
            account: place.account,
            folder: place.folder,
            source_key: place.key,
            validity: place.validity,
            msg: &item.msg,
        };
        let mut activity = None;
        match (&item.action, &item.mail) {
            (Ok(action), Some(mail)) => {
                let applied = apply::apply(
                    st,
                    &origin,
                    mail,
                    &item.raw,
                    action,
                    &item.documents,
                    server,
                )?;
                match applied {
                    Applied::Imported(id) | Applied::OwnerAdded(id) => {
                        activity = Some(id);
                        done.push(item.msg.clone());
                    }
                    Applied::Skipped | Applied::Failed => {}
                }
            }
            (Err(_), _) | (Ok(_), None) => {
                apply::record_failure(st, &origin, &failure(item))?;
            }
        }
        report_item(st, item, activity, summary)?;
    }
    // The cursor never passes an item the person chose not to import now.
    let cursor = match (max_uid, first_deselected) {
        (Some(m), Some(d)) => Some(m.min(d.saturating_sub(1))),
        (m, _) => m,
    };
    if cursor.is_some() || items.iter().all(|i| i.msg.uid.is_none()) {
        st.set_folder_cursor(
            place.key,
            place.account,
            place.folder,
            place.validity,
            cursor,
        )?;
    }
    batch.commit()?;
    // M16 / X5: server actions only after the commit.
    server_actions(st, source, place, &done, server)
}

/// X5 steps (2) and (3) for `done`: the keyword and the move (M16), then
/// their pending marks are cleared.
fn server_actions(
    st: &State,
    source: &mut dyn MailSource,
    place: &Place<'_>,
    done: &[MsgRef],
    server: ServerActions,
) -> Result<()> {
    if done.is_empty() || (!server.mark && !server.archive) {
        return Ok(());
    }
    let (folder, keyword) = (place.folder, place.keyword);
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
    if let Some(target) = place.archive {
        source
            .move_to(folder, done, target)
            .with_context(|| format!("moving imported mail from `{shown}` to `{target}`"))?;
    }
    let ids: Vec<String> = done.iter().map(|m| m.id.clone()).collect();
    let b = st.batch()?;
    st.clear_pending(place.key, &ids)?;
    b.commit()?;
    Ok(())
}

/// X5: server actions a killed run owed, for messages still in the folder.
fn finish_pending(st: &State, source: &mut dyn MailSource, place: &Place<'_>) -> Result<()> {
    let pending = st.pending_actions(place.key)?;
    if pending.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = pending.iter().map(|(id, _)| id.as_str()).collect();
    let present: Vec<MsgRef> = source
        .list(place.folder, None)?
        .into_iter()
        .filter(|m| ids.contains(&m.id.as_str()))
        .collect();
    let server = ServerActions {
        mark: source.supports_keywords() && !place.keyword.is_empty(),
        archive: place.archive.is_some(),
    };
    server_actions(st, source, place, &present, server)?;
    // Those no longer in the folder were moved already.
    let all: Vec<String> = pending.into_iter().map(|(id, _)| id).collect();
    let b = st.batch()?;
    st.clear_pending(place.key, &all)?;
    b.commit()?;
    Ok(())
}

/// M5: sends the owner notices recorded by this and earlier runs.
fn send_notices(
    st: &State,
    source: &mut dyn MailSource,
    a: &MailAccount,
    owner: &str,
) -> Result<()> {
    for (key, subject, body) in st.pending_notices(a.name())? {
        let date = chrono::Utc::now().to_rfc2822();
        let mid = crate::compose::notice_message_id(&key);
        let raw = crate::compose::notice(owner, &subject, &date, &mid, &body);
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
        st.notice_sent(&key)?;
    }
    Ok(())
}

/// A flag reason (`model::reason`) in words, for people (W4, W7).
pub fn reason_words(reason: &str) -> &str {
    match reason {
        reason::UNKNOWN_SENDER => "unknown sender",
        reason::AMBIGUOUS_SENDER => "ambiguous sender",
        reason::UNIDENTIFIED_RECIPIENT => "unknown recipient",
        reason::ATTACHMENTS_DROPPED => "attachments left out",
        reason::UNIDENTIFIED_ATTENDEE => "unknown attendee",
        "too_large" => "too large",
        other => other,
    }
}

/// The ambiguous sender address of a placement (W8): the address of its
/// `ambiguous_sender` flag, else the mail's sender.
fn ambiguous_address(p: &plan::Placement, mail: Option<&ParsedMail>) -> String {
    p.flags
        .iter()
        .find(|f| f.reason == reason::AMBIGUOUS_SENDER && !f.address.is_empty())
        .map(|f| f.address.clone())
        .or_else(|| {
            mail.and_then(|m| m.from.as_ref())
                .map(|f| f.address.clone())
        })
        .unwrap_or_default()
}

/// W8: a candidate person in words: name and company.
fn candidate(st: &State, id: i64) -> Result<Candidate> {
    let Some(p) = st.person_by_rowid(id)? else {
        return Ok(Candidate {
            name: format!("person #{id}"),
            company: String::new(),
        });
    };
    let mut company = String::new();
    if let Some(ext) = &p.company_id
        && let Some(row) = st.company_rowid(ext)?
        && let Some(c) = st.company_by_rowid(row)?
    {
        company = c.name;
    }
    Ok(Candidate {
        name: p.display_name(),
        company,
    })
}

/// W2, W8 and W3: the chooser picks the mails to import, settles the
/// mandatory choices (an ambiguous sender, once per address) and files
/// the documents; a step back from W8 or W3 returns to the selection with
/// its answers kept. Nothing is changed until every step is answered.
fn choose(st: &State, items: &mut [Item], cfg: &Config, chooser: &mut dyn Chooser) -> Result<()> {
    let importable: Vec<usize> = (0..items.len())
        .filter(|&i| matches!(items[i].action, Ok(MailAction::Import(_))))
        .collect();
    let mut rows = Vec::new();
    for &i in &importable {
        let it = &items[i];
        let Ok(MailAction::Import(p)) = &it.action else {
            continue;
        };
        let m = it.mail.as_ref();
        rows.push(MailRow {
            date: m
                .and_then(|m| m.date)
                .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            from: m
                .and_then(|m| m.from.as_ref())
                .map(|f| f.address.clone())
                .unwrap_or_default(),
            subject: m.map(|m| m.subject.clone()).unwrap_or_default(),
            attached_to: apply::describe_attach(st, p.attach)?,
            flags: p
                .flags
                .iter()
                .map(|f| reason_words(f.reason).to_string())
                .collect(),
            choice_needed: !p.choices.is_empty(),
        });
    }
    let skipped = items.len() - importable.len();
    let mut chosen = vec![true; rows.len()];
    let m = &cfg.mail;
    let (senders, docs) = 'steps: loop {
        chosen = chooser.pick_mails(&rows, skipped, &chosen)?;
        if importable.is_empty() {
            return Ok(());
        }
        let selected: Vec<usize> = importable
            .iter()
            .enumerate()
            .filter(|(n, _)| chosen.get(*n).copied().unwrap_or(false))
            .map(|(_, &i)| i)
            .collect();
        // W8: one question per ambiguous address, for all its mails.
        let mut asked: Vec<(String, Vec<i64>, usize)> = Vec::new();
        for &i in &selected {
            let Ok(MailAction::Import(p)) = &items[i].action else {
                continue;
            };
            if p.choices.is_empty() {
                continue;
            }
            let address = ambiguous_address(p, items[i].mail.as_ref());
            match asked.iter_mut().find(|(a, ..)| *a == address) {
                Some(a) => a.2 += 1,
                None => asked.push((address, p.choices.clone(), 1)),
            }
        }
        let mut senders: Vec<(String, Option<i64>)> = Vec::new();
        for (address, choices, mails) in &asked {
            let mut people = Vec::new();
            for id in choices {
                people.push(candidate(st, *id)?);
            }
            let question = Ambiguous {
                address: address.clone(),
                mails: *mails,
                people,
            };
            match chooser.pick_sender(&question)? {
                SenderAnswer::Back => continue 'steps,
                SenderAnswer::NoneOfThem => senders.push((address.clone(), None)),
                SenderAnswer::Person(n) => senders.push((address.clone(), choices.get(n).copied())),
            }
        }
        // W3, W9: documents, one screen per mail.
        let mut with_docs = Vec::new();
        let mut doc_mails = Vec::new();
        if m.edit_documents
            && (!m.document_categories.is_empty() || !m.document_keywords.is_empty())
        {
            for &i in &selected {
                let (Some(mail), Ok(MailAction::Import(p))) = (&items[i].mail, &items[i].action)
                else {
                    continue;
                };
                if p.drop_attachments || p.headers_only || mail.attachments.is_empty() {
                    continue;
                }
                with_docs.push(i);
                doc_mails.push(DocMail {
                    subject: mail.subject.clone(),
                    from: mail
                        .from
                        .as_ref()
                        .map(|f| f.address.clone())
                        .unwrap_or_default(),
                    attachments: mail.attachments.iter().map(|a| a.name.clone()).collect(),
                });
            }
        }
        if doc_mails.is_empty() {
            break (senders, Vec::new());
        }
        match chooser.documents(&doc_mails, &m.document_categories, &m.document_keywords)? {
            None => continue 'steps,
            Some(docs) => break (senders, with_docs.into_iter().zip(docs).collect::<Vec<_>>()),
        }
    };
    for (n, &i) in importable.iter().enumerate() {
        items[i].selected = chosen.get(n).copied().unwrap_or(false);
    }
    // W2: the mandatory choices settled.
    for &i in &importable {
        if !items[i].selected {
            continue;
        }
        let address = match &items[i].action {
            Ok(MailAction::Import(p)) if !p.choices.is_empty() => {
                ambiguous_address(p, items[i].mail.as_ref())
            }
            _ => continue,
        };
        let Ok(MailAction::Import(p)) = &mut items[i].action else {
            continue;
        };
        let pick = senders
            .iter()
            .find(|(a, _)| *a == address)
            .and_then(|(_, person)| *person)
            .filter(|person| p.choices.contains(person));
        if let Some(person) = pick {
            p.attach = Attach::Person(person);
            p.rule = Rule::W2;
            p.why.push(format!(
                "the sender was ambiguous; person {person} chosen in the wizard (W2, W8)"
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
    for (i, d) in docs {
        items[i].documents = d;
    }
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

    #[test]
    fn m4_outlined_attachments_are_named_safely_and_numbered_without_a_name() {
        let part = |name: Option<&str>, size| OutlinePart {
            name: name.map(str::to_string),
            media_type: "application/pdf".into(),
            size,
        };
        let got = outlined_attachments(vec![
            part(Some("../../etc/offer.pdf"), 10),
            part(None, 20),
            part(Some("..."), 30),
        ]);
        let names: Vec<(&str, u64)> = got.iter().map(|a| (a.name.as_str(), a.size)).collect();
        assert_eq!(
            names,
            [
                ("offer.pdf", 10),
                ("attachment-2", 20),
                ("attachment-3", 30)
            ]
        );
        assert!(got.iter().all(|a| a.data.is_empty() && a.sha256.is_empty()));
    }

    /// Answers the wizard's questions from a script and notes them.
    struct Script {
        /// The answers to the sender questions, in turn (then: none of them).
        senders: Vec<SenderAnswer>,
        asked: Vec<Ambiguous>,
        selections: usize,
    }

    impl Chooser for Script {
        fn wizard(&self) -> bool {
            true
        }
        fn areas(&mut self, on: [bool; 3]) -> Result<[bool; 3]> {
            Ok(on)
        }
        fn pick_mails(
            &mut self,
            rows: &[MailRow],
            _skipped: usize,
            chosen: &[bool],
        ) -> Result<Vec<bool>> {
            assert_eq!(rows.len(), chosen.len());
            self.selections += 1;
            Ok(chosen.to_vec())
        }
        fn pick_sender(&mut self, sender: &Ambiguous) -> Result<SenderAnswer> {
            self.asked.push(sender.clone());
            Ok(if self.senders.is_empty() {
                SenderAnswer::NoneOfThem
            } else {
                self.senders.remove(0)
            })
        }
        fn documents(
            &mut self,
            mails: &[DocMail],
            categories: &[String],
            keywords: &[String],
        ) -> Result<Option<Vec<Vec<DocChoice>>>> {
            Unattended.documents(mails, categories, keywords)
        }
    }

    /// Alice's Maildir with one mail from an address two persons share.
    fn ambiguous() -> (tempfile::TempDir, Config, State) {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        std::fs::write(
            dir.path().join("new/1.M1P1.h"),
            "From: Quinn <shared@roe.example>\r\nTo: alice@us.example\r\nSubject: Offer\r\n\
             Message-ID: <offer@roe.example>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n\r\nHello\r\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("new/2.M2P1.h"),
            "From: Quinn <shared@roe.example>\r\nTo: alice@us.example\r\nSubject: Offer again\r\n\
             Message-ID: <again@roe.example>\r\nDate: Mon, 7 Dec 2026 11:00:00 +0000\r\n\r\nHello\r\n",
        )
        .unwrap();
        let cfg = Config::parse(
            &format!(
                "own_domains = [\"us.example\"]\n[[users]]\nlogin = \"alice\"\nemails = [\"alice@us.example\"]\n\
                 [[mail.accounts]]\nname = \"md\"\nuser = \"alice\"\nsource = \"maildir\"\npath = {:?}\nfolders = [\"INBOX\"]\n",
                dir.path().display().to_string()
            ),
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let st = State::open_memory().unwrap();
        st.sync_users(&cfg).unwrap();
        let person = |id: &str, first: &str, emails: &[&str]| crate::model::Person {
            id: id.into(),
            first_name: first.into(),
            last_name: "Roe".into(),
            emails: emails.iter().map(|d| d.to_string()).collect(),
            ..crate::model::Person::default()
        };
        st.upsert_persons(
            &[
                person("P3", "Alice", &["alice@us.example"]),
                person("P4", "Quinn", &["shared@roe.example"]),
                person("P5", "Other", &["shared@roe.example"]),
            ],
            true,
        )
        .unwrap();
        (dir, cfg, st)
    }

    #[test]
    fn w2_w8_the_chooser_settles_an_ambiguous_sender_once_per_address() {
        let (_dir, cfg, st) = ambiguous();
        let accounts: Vec<&MailAccount> = cfg.mail.accounts.iter().collect();
        let mut script = Script {
            senders: vec![SenderAnswer::Person(1)],
            asked: Vec::new(),
            selections: 0,
        };
        let report = run(&cfg, &st, &accounts, &Options::default(), &mut script).unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        // W8: two mails from one address, one question naming it.
        assert_eq!(script.asked.len(), 1);
        let asked = &script.asked[0];
        assert_eq!(asked.address, "shared@roe.example");
        assert_eq!(asked.mails, 2);
        let names: Vec<&str> = asked.people.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Quinn Roe", "Other Roe"]);
        assert_eq!(report.counts.imported, 2);
        for item in &report.items {
            assert_eq!(item.rule, "W2");
            assert!(
                item.attached_to
                    .as_deref()
                    .is_some_and(|a| a.starts_with("Other Roe")),
                "{item:?}"
            );
            assert!(
                !item
                    .flags
                    .iter()
                    .any(|f| f.starts_with(reason::AMBIGUOUS_SENDER)),
                "{:?}",
                item.flags
            );
            assert!(item.activity_id.is_some());
        }
        assert_eq!(report.exit, Exit::Ok);
    }

    #[test]
    fn w8_back_from_the_sender_question_returns_to_the_selection() {
        let (_dir, cfg, st) = ambiguous();
        let accounts: Vec<&MailAccount> = cfg.mail.accounts.iter().collect();
        let mut script = Script {
            senders: vec![SenderAnswer::Back, SenderAnswer::Person(0)],
            asked: Vec::new(),
            selections: 0,
        };
        let report = run(&cfg, &st, &accounts, &Options::default(), &mut script).unwrap();
        assert_eq!(script.selections, 2);
        assert_eq!(script.asked.len(), 2);
        assert_eq!(report.counts.imported, 2);
        assert!(report.items.iter().all(|i| {
            i.attached_to
                .as_deref()
                .is_some_and(|a| a.starts_with("Quinn Roe"))
        }));
    }

    #[test]
    fn w6_unattended_leaves_an_ambiguous_sender_flagged() {
        let (_dir, cfg, st) = ambiguous();
        let accounts: Vec<&MailAccount> = cfg.mail.accounts.iter().collect();
        let report = run(&cfg, &st, &accounts, &Options::default(), &mut Unattended).unwrap();
        assert_eq!(report.counts.imported, 2);
        let item = &report.items[0];
        assert_ne!(item.rule, "W2");
        assert!(
            item.flags
                .iter()
                .any(|f| f.starts_with(reason::AMBIGUOUS_SENDER)),
            "{:?}",
            item.flags
        );
    }

    /// A Maildir (no keywords: mail is moved to `Archive`) with one message
    /// per name in INBOX.
    fn maildir(names: &[&str]) -> (tempfile::TempDir, crate::source::maildir::Maildir) {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        for n in names {
            std::fs::write(
                dir.path().join("new").join(n),
                "From: a@acme.example\r\nSubject: hi\r\n\r\nbody\r\n",
            )
            .unwrap();
        }
        let md = crate::source::maildir::Maildir::open(dir.path()).unwrap();
        (dir, md)
    }

    fn place() -> Place<'static> {
        Place {
            account: "acct",
            folder: "INBOX",
            key: "k",
            validity: "maildir",
            keyword: "",
            archive: Some("Archive"),
        }
    }

    fn archived(md: &mut crate::source::maildir::Maildir) -> usize {
        md.list("Archive", None).map(|l| l.len()).unwrap_or(0)
    }

    #[test]
    fn x5_a_killed_runs_owed_move_is_carried_out_and_marked_done() {
        let (_dir, mut md) = maildir(&["1.M1P1.h", "2.M1P1.h"]);
        let st = State::open_memory().unwrap();
        // Committed by a run killed before its server actions: message 1
        // is still in INBOX, "3" was moved already (the kill came after
        // the move, before the pending mark was cleared).
        st.record_item("k", "1.M1P1.h", "activity", Some(1), "h1", Some("move"))
            .unwrap();
        st.record_item("k", "3.M1P1.h", "activity", Some(2), "h3", Some("move"))
            .unwrap();
        finish_pending(&st, &mut md, &place()).unwrap();
        assert_eq!(archived(&mut md), 1);
        let left: Vec<String> = md
            .list("INBOX", None)
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(left, ["2.M1P1.h"]);
        assert!(st.pending_actions("k").unwrap().is_empty());
        // Nothing is owed any more: a second run does nothing.
        finish_pending(&st, &mut md, &place()).unwrap();
        assert_eq!(archived(&mut md), 1);
    }

    #[test]
    fn x5_server_actions_clear_only_what_they_carried_out() {
        let (_dir, mut md) = maildir(&["1.M1P1.h", "2.M1P1.h"]);
        let st = State::open_memory().unwrap();
        for id in ["1.M1P1.h", "2.M1P1.h"] {
            st.record_item("k", id, "activity", Some(1), "h", Some("move"))
                .unwrap();
        }
        let done: Vec<MsgRef> = md
            .list("INBOX", None)
            .unwrap()
            .into_iter()
            .filter(|m| m.id == "1.M1P1.h")
            .collect();
        let server = ServerActions {
            mark: false,
            archive: true,
        };
        server_actions(&st, &mut md, &place(), &done, server).unwrap();
        assert_eq!(archived(&mut md), 1);
        let owed: Vec<String> = st
            .pending_actions("k")
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(owed, ["2.M1P1.h"]);
    }
}
