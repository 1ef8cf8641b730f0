//! Writing one planned mail (SPEC 2) into the embedded CRM and the state
//! file. Called inside the caller's transaction; server actions (M16
//! keyword and move) are only recorded here as pending, and carried out
//! after the commit.

use anyhow::Result;

use crate::address::normalize;
use crate::config::{Config, MailAccount, MailConfig, Privacy};
use crate::matching::Matcher;
use crate::model::{Attach, Participant};
use crate::parse::mail::ParsedMail;
use crate::plan::mail::{MailAction, MailInput, Owner, Party, Placement, Settings, Skip};
use crate::source::mail::MsgRef;
use crate::state::activities::{AttachmentRow, MailSourceRow, NewActivity};
use crate::state::{State, now};

/// The parties of a parsed mail with their matches: the planner's input
/// (M6-M14), built the same way by import-mail and by resolve-unknown (U3).
///
/// # Errors
/// SQLite errors of the look-ups.
pub fn mail_input(matcher: &Matcher<'_>, mail: &ParsedMail) -> Result<MailInput> {
    let party = |a: &crate::parse::mail::Address| -> Result<Party> {
        Ok(Party {
            display_name: a.name.clone(),
            m: matcher.lookup(&a.address)?,
        })
    };
    Ok(MailInput {
        from: mail.from.as_ref().map(party).transpose()?,
        to: mail.to.iter().map(party).collect::<Result<_>>()?,
        cc: mail.cc.iter().map(party).collect::<Result<_>>()?,
        automated: mail.automated,
        raw_size: mail.raw_size,
        text_size: mail.text_size,
        attachment_count: mail.attachments.len(),
    })
}

/// The owner of a mailbox: the user `login` with their own person record;
/// None when the user is not configured or has no person record (M9).
///
/// # Errors
/// SQLite errors.
pub fn owner(matcher: &Matcher<'_>, cfg: &Config, login: &str) -> Result<Option<Owner>> {
    let Some(user) = cfg.user(login) else {
        return Ok(None);
    };
    let Some(person_id) = matcher.user_person(cfg, login)? else {
        return Ok(None);
    };
    Ok(Some(Owner {
        login: login.to_string(),
        person_id,
        addresses: user.emails.iter().map(|e| normalize(e)).collect(),
    }))
}

/// The settings in force for an account (its value, else `[mail]`); without
/// an account (it left the config), `[mail]` alone.
pub fn settings(m: &MailConfig, a: Option<&MailAccount>, import_folder: bool) -> Settings {
    // M13: scan_all defaults to false; import folders import everything anyway.
    let scan_all = a.and_then(|a| a.scan_all).or(m.scan_all).unwrap_or(false);
    Settings {
        max_size: a.and_then(|a| a.max_size).unwrap_or(m.max_size).0,
        warn_owner: a.and_then(|a| a.warn_owner).unwrap_or(m.warn_owner),
        scan_all: scan_all || import_folder,
        import_internal: a
            .and_then(|a| a.import_internal)
            .unwrap_or(m.import_internal),
        headers_only: a.and_then(|a| a.privacy).unwrap_or(m.privacy) == Privacy::Headers,
    }
}

/// Where a mail lies: the state key of its folder and the message.
#[derive(Debug, Clone)]
pub struct Origin<'a> {
    pub account: &'a str,
    pub folder: &'a str,
    /// SHA-256 of the folder's identity (host, port, login / path, folder).
    pub source_key: &'a str,
    pub validity: &'a str,
    pub msg: &'a MsgRef,
}

/// What the caller owes the server after the commit (M16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerActions {
    pub mark: bool,
    pub archive: bool,
}

impl ServerActions {
    fn pending(self) -> Option<&'static str> {
        match (self.mark, self.archive) {
            (true, true) => Some("mark,move"),
            (true, false) => Some("mark"),
            (false, true) => Some("move"),
            (false, false) => None,
        }
    }
}

/// The outcome of applying one mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Imported(i64),
    OwnerAdded(i64),
    Skipped,
    Failed,
}

fn record_item(
    st: &State,
    o: &Origin<'_>,
    kind: &str,
    local: Option<i64>,
    hash: &str,
    pending: Option<&str>,
) -> Result<()> {
    st.record_item(o.source_key, &o.msg.id, kind, local, hash, pending)
}

fn source_row<'a>(o: &'a Origin<'a>, mail: &'a ParsedMail) -> MailSourceRow<'a> {
    MailSourceRow {
        account: o.account,
        folder: o.folder,
        uidvalidity: o.validity.parse().ok(),
        uid: o.msg.uid,
        message_id: mail.message_id.as_deref(),
        content_hash: &mail.content_hash,
    }
}

/// Applies one planned mail. `documents` holds the wizard's (category,
/// keyword) per attachment (W3), in attachment order.
///
/// # Errors
/// SQLite errors.
pub fn apply(
    st: &State,
    o: &Origin<'_>,
    mail: &ParsedMail,
    raw: &[u8],
    action: &MailAction,
    documents: &[(Option<String>, Option<String>)],
    server: ServerActions,
) -> Result<Applied> {
    match action {
        MailAction::Import(p) => {
            let id = import(st, o, mail, raw, p, documents)?;
            record_item(
                st,
                o,
                "activity",
                Some(id),
                &mail.content_hash,
                server.pending(),
            )?;
            Ok(Applied::Imported(id))
        }
        MailAction::AddOwner {
            activity_id,
            person_id,
        } => {
            // M3: the same mail in a second mailbox: one activity, the owner joins.
            let addr = st.first_email(*person_id)?;
            st.add_participants(
                *activity_id,
                &[Participant {
                    address: addr.unwrap_or_default(),
                    person_id: Some(*person_id),
                }],
            )?;
            st.add_mail_source(*activity_id, &source_row(o, mail))?;
            record_item(
                st,
                o,
                "activity",
                Some(*activity_id),
                &mail.content_hash,
                server.pending(),
            )?;
            Ok(Applied::OwnerAdded(*activity_id))
        }
        MailAction::Skip(s) => {
            record_skip(st, o, &mail.content_hash, s)?;
            if s.notify_owner {
                queue_notice(st, o, mail, &format!("was not imported: {}", s.detail))?;
            }
            Ok(Applied::Skipped)
        }
    }
}

/// Records a skipped mail so it is not considered again (M4: "recorded as such").
///
/// # Errors
/// SQLite errors.
pub fn record_skip(st: &State, o: &Origin<'_>, hash: &str, s: &Skip) -> Result<()> {
    record_item(
        st,
        o,
        &format!("skipped:{}:{}", s.rule, s.reason),
        None,
        hash,
        None,
    )
}

/// Records a mail that could not be read, with the reason (the mail stays
/// untouched on the server).
///
/// # Errors
/// SQLite errors.
pub fn record_failure(st: &State, o: &Origin<'_>, why: &str) -> Result<()> {
    let kind = format!("failed:{}", why.chars().take(200).collect::<String>());
    record_item(st, o, &kind, None, "", None)
}

fn import(
    st: &State,
    o: &Origin<'_>,
    mail: &ParsedMail,
    raw: &[u8],
    p: &Placement,
    documents: &[(Option<String>, Option<String>)],
) -> Result<i64> {
    // M15/M19: the raw message is kept, unless only headers may be.
    let raw_sha = if p.headers_only {
        None
    } else {
        st.put_blob(&mail.content_hash, raw)?;
        Some(mail.content_hash.as_str())
    };
    let body = if p.headers_only {
        None
    } else {
        Some(mail.text.as_str())
    };
    let start_at = mail
        .date
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let id = st.insert_activity(&NewActivity {
        kind: p.kind,
        status: &p.status,
        subject: &mail.subject,
        body,
        start_at: start_at.clone(),
        attach: p.attach,
        rep: &p.rep,
        rule: p.rule.as_str(),
        explain: &p.why,
        raw_sha256: raw_sha,
    })?;
    st.add_participants(id, &p.participants)?;
    st.add_flags(id, &p.flags)?;
    if p.headers_only {
        // U3: resolve-unknown re-reads the parties later; M19 allows the
        // header block, never the body.
        let head = crate::parse::mail::header_block_len(raw).unwrap_or(raw.len());
        st.set_headers_blob(id, &raw[..head])?;
    } else {
        let rows: Vec<AttachmentRow> = mail
            .attachments
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let (category, keyword) = documents.get(i).cloned().unwrap_or((None, None));
                AttachmentRow {
                    name: a.name.clone(),
                    media_type: a.media_type.clone(),
                    size: a.size,
                    sha256: a.sha256.clone(),
                    category,
                    keyword,
                }
            })
            .collect();
        st.add_attachments(id, &rows, p.drop_attachments)?;
    }
    st.queue_unknown(id, &p.queue, &mail.subject, &start_at.unwrap_or_else(now))?;
    st.add_mail_source(id, &source_row(o, mail))?;
    if p.notify_owner {
        let names: Vec<String> = mail
            .attachments
            .iter()
            .map(|a| format!("{} ({} bytes)", a.name, a.size))
            .collect();
        queue_notice(
            st,
            o,
            mail,
            &format!(
                "was imported without its attachments, which are over max_size: {}",
                names.join(", ")
            ),
        )?;
    }
    Ok(id)
}

/// M5: records a notice for the owner, once per mail; sent after the commit.
fn queue_notice(st: &State, o: &Origin<'_>, mail: &ParsedMail, what: &str) -> Result<()> {
    let key = format!(
        "{}:{}",
        o.account,
        mail.message_id.as_deref().unwrap_or(&mail.content_hash)
    );
    let subject = format!(
        "crmsync: \"{}\" {}",
        short(&mail.subject),
        if what.starts_with("was not") {
            "was not imported"
        } else {
            "was imported without attachments"
        }
    );
    let from = mail
        .from
        .as_ref()
        .map(|a| a.address.as_str())
        .unwrap_or("(unknown sender)");
    let date = mail.date.map(|d| d.to_rfc2822()).unwrap_or_default();
    let body = format!(
        "The mail\n\n  From:    {from}\n  Date:    {date}\n  Subject: {}\n  Folder:  {}\n\n{what}.\n\n\
         The message is still in your mailbox. Raise max_size in the crmsync config, or file it in the CRM by hand.\n",
        mail.subject, o.folder
    );
    st.queue_notice(&key, o.account, &subject, &body)
}

fn short(s: &str) -> String {
    let t: String = s.chars().take(60).collect();
    if t.len() < s.len() {
        format!("{t}...")
    } else {
        t
    }
}

/// The record a thread continues (M17) and the M3 duplicate, for the planner.
///
/// # Errors
/// SQLite errors.
pub fn known(st: &State, mail: &ParsedMail, account: &str) -> Result<crate::plan::mail::Known> {
    known_in_run(st, mail, account, &RunThreads::default())
}

/// M17 within one run: where each mail planned for import in this run is
/// attached, by Message-ID. The originals of a first import are not
/// committed yet when their replies are planned (same batch, or a wizard
/// run that applies at the end), so the state file alone does not know them.
#[derive(Debug, Default)]
pub struct RunThreads {
    attach: std::collections::HashMap<String, Attach>,
}

impl RunThreads {
    /// Notes where a planned mail goes (imports only: a skipped mail is
    /// no thread, an M3 duplicate is found in the state file).
    pub fn note(&mut self, mail: &ParsedMail, action: &MailAction) {
        if let (Some(id), MailAction::Import(p)) = (&mail.message_id, action) {
            self.attach.insert(id.clone(), p.attach);
        }
    }

    /// Whether `mail` names (In-Reply-To, References) a mail planned in
    /// this run: only then can [`known_in_run`] answer differently from
    /// the state file alone.
    pub fn mentions(&self, mail: &ParsedMail) -> bool {
        mail.in_reply_to
            .iter()
            .chain(&mail.references)
            .any(|id| self.attach.contains_key(id))
    }
}

/// [`known`], with the mails planned earlier in this run counting as
/// imported (M17): the thread is the first of In-Reply-To, then References
/// from the newest, that is imported or planned for import.
///
/// # Errors
/// SQLite errors.
pub fn known_in_run(
    st: &State,
    mail: &ParsedMail,
    account: &str,
    run: &RunThreads,
) -> Result<crate::plan::mail::Known> {
    let existing = st.find_mail(mail.message_id.as_deref(), &mail.content_hash, account)?;
    let mut ids: Vec<String> = mail.in_reply_to.clone();
    ids.extend(mail.references.iter().rev().cloned());
    let mut thread = None;
    for id in ids {
        // A mail never continues its own thread.
        if mail.message_id.as_deref() == Some(id.as_str()) {
            continue;
        }
        thread = match run.attach.get(&id) {
            Some(a) => Some(*a),
            None => st.thread_attach(std::slice::from_ref(&id))?,
        };
        if thread.is_some() {
            break;
        }
    }
    Ok(crate::plan::mail::Known {
        existing,
        thread: thread.filter(|_| existing.is_none()),
    })
}

/// Where an attach points, for tables: "person P3" / "company C1".
///
/// # Errors
/// SQLite errors.
pub fn describe_attach(st: &State, a: Attach) -> Result<String> {
    Ok(match a {
        Attach::Person(id) => match st.person_by_rowid(id)? {
            Some(p) => format!("{} ({})", p.display_name(), p.id),
            None => format!("person #{id}"),
        },
        Attach::Company(id) => match st.company_by_rowid(id)? {
            Some(c) => format!("{} ({})", c.name, c.id),
            None => format!("company #{id}"),
        },
    })
}
