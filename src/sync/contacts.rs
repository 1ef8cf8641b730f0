//! The contacts engine (SPEC 5, `push-contacts`): CRM persons (and
//! companies) into each contacts account's address book, one way. Runs the
//! stages per account: the frequency check (P8), the selection from the
//! CRM directory (P2), the large-selection question (P9), the address book
//! side through the lockout guard (X2), placement (P6), rendering (P3),
//! what the server holds, the planner (P1, P4-P7), apply, and returns one
//! [`ContactsReport`]. The rules live in `plan::contacts`; this module
//! holds no protocol code and no SQL.
//!
//! The one question it asks is P9's (push a selection larger than
//! `warn_above`?), through a [`Chooser`]: [`Unattended`] here asks nobody,
//! `wizard::contacts` asks a person at a terminal.
//!
//! X5 home for contacts: [`crate::apply::contacts::carry_out`] (row
//! recorded first, then the PUT, then the ETag recorded). X8: a dry run
//! plans the missing address book instead of making it (see
//! `address_book`) and then plans, reports and returns in `push_account`.

use std::collections::{BTreeSet, HashMap, HashSet};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::apply::contacts::{self as apply, Store, StoreError};
use crate::config::{Config, DavAccount};
use crate::error::Exit;
use crate::model::Rule;
use crate::parse::vcard::{self, CardVersion, FieldMap, PersonExtras};
use crate::plan::contacts::{self as plan, Op, Placement, Plan, RecordKey, RecordKind, Wanted};
use crate::source::dav::{Collection, DavKind};
use crate::source::store::{self, find_collection, make_collection};
use crate::state::State;
use crate::state::directory::{ContactFilters, ContactSelection};

/// The address book made when an account has none and no target_folder.
const DEFAULT_BOOK: &str = "Contacts";

// ---------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------

/// What a push did (or, dry run, would do), summed over every account.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ContactsCounts {
    pub created: usize,
    pub updated: usize,
    pub moved: usize,
    pub deleted: usize,
    pub unchanged: usize,
    pub forgotten: usize,
    pub skipped: usize,
    pub failed: usize,
}

/// One card (or address book) and what happened to it.
#[derive(Debug, Clone, Serialize)]
pub struct ContactsItem {
    pub id: String,
    pub action: String,
    pub rule: Rule,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub account: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

/// How one account's push ended.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactsStatus {
    Pushed,
    Planned,
    NotDue,
    Declined,
    Blocked,
    Failed,
}

/// One contacts account in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ContactsAccount {
    pub name: String,
    pub status: ContactsStatus,
    /// Contacts in the selection (P2), persons plus companies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_book: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vcard: Option<CardVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_push: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ContactsAccount {
    fn new(name: &str, status: ContactsStatus) -> ContactsAccount {
        ContactsAccount {
            name: name.to_string(),
            status,
            selected: None,
            address_book: None,
            vcard: None,
            last_push: None,
            next_due: None,
            message: None,
        }
    }
}

/// The report of one `push-contacts` run.
#[derive(Debug, Serialize)]
pub struct ContactsReport {
    pub command: &'static str,
    pub dry_run: bool,
    pub counts: ContactsCounts,
    pub items: Vec<ContactsItem>,
    pub accounts: Vec<ContactsAccount>,
    /// P9 and other things worth a look that did not stop the run.
    pub warnings: Vec<String>,
    /// Accounts that could not be pushed, with the reason and the next step.
    pub errors: Vec<String>,
    /// The table lists every change, not only failures (dry run, -v, --all-items).
    #[serde(skip)]
    pub all_rows: bool,
}

impl ContactsReport {
    /// Failed when every account failed, partial when one did or an item
    /// failed or an error was reported, else ok.
    pub fn exit(&self) -> Exit {
        let failed_accounts = self
            .accounts
            .iter()
            .filter(|a| matches!(a.status, ContactsStatus::Blocked | ContactsStatus::Failed))
            .count();
        if failed_accounts == self.accounts.len() {
            Exit::Failed
        } else if failed_accounts > 0 || self.counts.failed > 0 || !self.errors.is_empty() {
            Exit::Partial
        } else {
            Exit::Ok
        }
    }
}

// ---------------------------------------------------------------------------
// Questions
// ---------------------------------------------------------------------------

/// An answer to the engine's question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// Nobody could be asked (the run is unattended); `yes`: `--yes` was given.
    NotAsked {
        yes: bool,
    },
}

/// The engine's questions to a person.
pub trait Chooser {
    /// P9: `question` (a selection above `warn_above`; push it?).
    ///
    /// # Errors
    /// The terminal's errors.
    fn push_large_selection(&mut self, question: &str) -> Result<Answer>;
}

/// Asks nobody: a large selection is pushed and reported (P9).
#[derive(Debug, Clone, Copy)]
pub struct Unattended {
    /// `--yes` was given (named in the warning).
    pub yes: bool,
}

impl Chooser for Unattended {
    fn push_large_selection(&mut self, _question: &str) -> Result<Answer> {
        Ok(Answer::NotAsked { yes: self.yes })
    }
}

// ---------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------

/// How to run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Push even when the last push is more recent than times_per_day allows (P8).
    pub force: bool,
    /// List the unchanged cards too, and every change in the table (--all-items, -v).
    pub list_unchanged: bool,
}

/// Pushes the CRM directory into every one of `accounts` (in order),
/// recording the run in the state file unless it is a dry run (X8).
///
/// # Errors
/// State file errors and the chooser's; an account's own failure is
/// reported in [`ContactsReport::errors`] and the run goes on.
pub fn run(
    cfg: &Config,
    st: &State,
    accounts: &[&DavAccount],
    map: &FieldMap,
    opts: &Options,
    chooser: &mut dyn Chooser,
) -> Result<ContactsReport> {
    let run = st.begin_run("push-contacts")?;
    let mut summary = ContactsReport {
        command: "push-contacts",
        dry_run: !st.writable(),
        counts: ContactsCounts::default(),
        items: Vec::new(),
        accounts: Vec::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
        all_rows: !st.writable() || opts.list_unchanged,
    };
    for a in accounts {
        let report = match push_account(cfg, st, a, map, opts, chooser, &mut summary) {
            Ok(r) => r,
            Err(e) => {
                let msg = format!("{e:#}");
                summary
                    .errors
                    .push(format!("account `{}`: {msg}", a.name()));
                ContactsAccount::new(
                    a.name(),
                    if msg.contains("crmsync unblock") {
                        ContactsStatus::Blocked
                    } else {
                        ContactsStatus::Failed
                    },
                )
            }
        };
        summary.accounts.push(report);
    }
    st.end_run(run, summary.exit(), &summary.counts)?;
    Ok(summary)
}

/// P8: when the next push of an account is due, given its last one.
fn next_due(last: &str, times_per_day: u32) -> Option<DateTime<Utc>> {
    let last = DateTime::parse_from_rfc3339(last).ok()?.with_timezone(&Utc);
    Some(last + chrono::Duration::seconds(86_400 / i64::from(times_per_day.max(1))))
}

fn push_account(
    cfg: &Config,
    st: &State,
    a: &DavAccount,
    map: &FieldMap,
    opts: &Options,
    chooser: &mut dyn Chooser,
    summary: &mut ContactsReport,
) -> Result<ContactsAccount> {
    let cc = &cfg.contacts;
    let name = a.name();
    let mut report = ContactsAccount::new(name, ContactsStatus::Pushed);
    report.last_push = st.last_contact_push(name)?;
    // P8: pushed recently enough already?
    if let Some(due) = report
        .last_push
        .as_deref()
        .and_then(|l| next_due(l, cc.times_per_day))
    {
        report.next_due = Some(due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        if !opts.force && Utc::now() < due {
            let msg = format!(
                "last pushed at {}; next push due at {} (times_per_day = {}); use --force to push now",
                report.last_push.as_deref().unwrap_or(""),
                report.next_due.as_deref().unwrap_or(""),
                cc.times_per_day
            );
            crate::ui::info(format!("{name}: {msg}"));
            report.status = ContactsStatus::NotDue;
            report.message = Some(msg);
            return Ok(report);
        }
    }
    // P2: the user's selection.
    let user = cfg
        .user(a.user())
        .context("the account's user is not configured")?;
    let filters = ContactFilters {
        login: a.user(),
        by_rep: cc.by_rep,
        by_sales_group: cc.by_sales_group,
        by_favorites: cc.by_favorites,
        include_companies: cc.include_companies,
        sales_groups: &user.sales_groups,
    };
    let clock = std::time::Instant::now();
    let lap = |what: &str| {
        crate::ui::debug(format!(
            "{name}: {what} at {:.3} s",
            clock.elapsed().as_secs_f64()
        ))
    };
    let sel = st.contact_selection(&filters)?;
    lap("selection read");
    let total = sel.persons.len() + sel.companies.len();
    report.selected = Some(total);
    // P9: a large selection is confirmed by a person, or reported.
    if total as u64 > cc.warn_above {
        let what = format!(
            "account `{name}`: {total} contacts selected, more than warn_above = {} (P9)",
            cc.warn_above
        );
        // W12: the person reads words; the rule id stays in the report.
        let question = format!(
            "Address book `{name}`: {total} contacts selected, more than warn_above = {}. Push them into {}'s address book?",
            cc.warn_above,
            a.user()
        );
        match chooser.push_large_selection(&question)? {
            Answer::No => {
                report.status = ContactsStatus::Declined;
                report.message = Some(format!("{total} contacts selected; not confirmed (P9)"));
                summary
                    .warnings
                    .push(format!("{what}; not confirmed, nothing pushed"));
                return Ok(report);
            }
            Answer::Yes => summary.warnings.push(format!("{what}; confirmed")),
            Answer::NotAsked { yes } => summary.warnings.push(format!(
                "{what}; pushed without asking because the run is unattended{}",
                if yes { " (--yes)" } else { "" }
            )),
        }
    }
    // The address book side (X2 for CardDAV).
    let (store, secret) = crate::accounts::open_store(st, a, DavKind::Contacts)?;
    let fail = |e: StoreError| crate::accounts::store_fatal(st, a, secret.as_ref(), e);
    let (home, mut books) = store.collections().map_err(fail)?;
    lap("address books discovered");
    // P6: where new cards go, and whether all cards belong there.
    let target = a
        .target_folder
        .as_deref()
        .or(cc.target_folder.as_deref())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let book = address_book(
        &store,
        st.writable(),
        name,
        home.as_deref(),
        &mut books,
        target.as_deref(),
        &mut summary.items,
    )
    .map_err(fail)?;
    report.address_book = Some(book.name.clone());
    let version = CardVersion::for_server(&book.vcard_versions);
    report.vcard = Some(version);
    // P3: the cards the address book should hold.
    let (wanted, mut names) = render(cfg, &sel, map, version);
    let pushed = apply::pushed(st, name)?;
    let wanted_keys: HashSet<&RecordKey> = wanted.iter().map(|w| &w.key).collect();
    let mut in_crm = HashSet::new();
    for p in pushed.iter().filter(|p| !wanted_keys.contains(&p.key)) {
        let name = match p.key.kind {
            RecordKind::Person => match st.person_rowid(&p.key.id)? {
                Some(id) => st.person_by_rowid(id)?.map(|x| x.display_name()),
                None => None,
            },
            RecordKind::Company => match st.company_rowid(&p.key.id)? {
                Some(id) => st.company_by_rowid(id)?.map(|x| x.name),
                None => None,
            },
        };
        if let Some(n) = name {
            in_crm.insert(p.key.clone());
            names.insert(p.key.clone(), n);
        }
    }
    let counts = st.counts()?;
    let crm_empty = counts.persons == 0 && counts.companies == 0;
    // What the server holds at our cards now (P4, P5).
    let login = a.login.clone().unwrap_or_else(|| a.user().to_string());
    let url = a.url.clone().unwrap_or_default();
    let token_key = |c: &str| crate::model::source_key(&["carddav", &url, &login, c]);
    lap("cards rendered");
    let view =
        apply::remote_view(&store, st, &books, &pushed, &book.href, &token_key).map_err(fail)?;
    lap("server state read");
    for (c, how) in &view.listings {
        crate::ui::debug(format!("{name}: {c}: {how}"));
    }
    let placement = Placement {
        new_in: book.href.clone(),
        move_all: target.is_some(),
        existing: books.iter().map(|b| b.href.clone()).collect(),
    };
    let the_plan = plan::plan(&plan::Input {
        wanted: &wanted,
        pushed: &pushed,
        remote: &view.remote,
        placement: &placement,
        in_crm: &in_crm,
        crm_empty,
    });
    if let Some(why) = &the_plan.refused {
        // STYLE 6: an empty CRM is not propagated; the rest goes on (exit 3).
        summary.errors.push(format!("account `{name}`: {why}"));
        summary.counts.skipped += the_plan.held;
        report.message = Some(format!("{} deletion(s) held back", the_plan.held));
    }
    // None: not tried (dry run, not a write, or after a fatal error).
    let mut outcomes: Vec<Option<apply::Outcome>> = vec![None; the_plan.actions.len()];
    if !st.writable() {
        // X8: plan, report, return; nothing is written.
        report_items(summary, name, &the_plan, &names, &outcomes, false, opts);
        report.status = ContactsStatus::Planned;
        return Ok(report);
    }
    // Apply; the order of writes is apply::contacts::carry_out's (X5 home).
    let mut written = BTreeSet::new();
    let writes = the_plan.actions.iter().filter(|x| x.op.writes()).count();
    let bar = crate::ui::progress(writes as u64, name);
    let r = apply::carry_out(&store, st, name, &the_plan, &wanted, &mut |i, out| {
        bar.inc(1);
        if let Ok(Some(href)) = &out {
            written.insert(href.clone());
        }
        outcomes[i] = Some(out);
    });
    crate::ui::done(&bar);
    lap("writes done");
    let item_failures = report_items(
        summary,
        name,
        &the_plan,
        &names,
        &outcomes,
        r.is_err(),
        opts,
    );
    r.map_err(fail)?;
    apply::advance_tokens(&store, st, name, &view, &written, &token_key)?;
    lap("sync-tokens stored");
    // P8: only a push without failures counts as the last push.
    if item_failures == 0 && the_plan.refused.is_none() {
        let at = crate::state::now();
        st.set_last_contact_push(name, &at)?;
        report.last_push = Some(at.clone());
        report.next_due = next_due(&at, cc.times_per_day)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    Ok(report)
}

/// P6: the address book new cards go to: the `target_folder` when set,
/// else the one the account's url points at, else the first one discovery
/// finds (in href order); made (and reported) when there is none.
/// X8: a dry run reports the book it would make and plans against it
/// (its href, the vCard versions of the others) without making it.
///
/// # Errors
/// The server's, when making the book.
fn address_book(
    store: &Store,
    writable: bool,
    account: &str,
    home: Option<&str>,
    books: &mut Vec<Collection>,
    target: Option<&str>,
    items: &mut Vec<ContactsItem>,
) -> Result<Collection, StoreError> {
    let configured = store.configured_path();
    let chosen = match target {
        Some(t) => find_collection(books, t).cloned(),
        None => configured
            .as_deref()
            .and_then(|p| {
                books
                    .iter()
                    .find(|b| b.href.trim_end_matches('/') == p.trim_end_matches('/'))
            })
            .or_else(|| books.first())
            .cloned(),
    };
    if let Some(b) = chosen {
        return Ok(b);
    }
    let book_name = target.unwrap_or(DEFAULT_BOOK).to_string();
    let href = format!(
        "{}{}/",
        home.map(|h| if h.ends_with('/') {
            h.to_string()
        } else {
            format!("{h}/")
        })
        .unwrap_or_default(),
        store::slug(&book_name)
    );
    let rule_reason = if target.is_some() {
        "the target address book (target_folder) did not exist"
    } else {
        "the account had no address book"
    };
    let book = if writable {
        let made = make_collection(store, &href, &book_name)?;
        crate::ui::info(format!(
            "{account}: created address book `{book_name}` ({})",
            made.href
        ));
        books.push(made.clone());
        made
    } else {
        Collection {
            href,
            name: book_name.clone(),
            vcard_versions: books
                .first()
                .map(|b| b.vcard_versions.clone())
                .unwrap_or_else(|| match store {
                    Store::Vdir(_) => vec!["4.0".into()],
                    Store::Dav(..) => Vec::new(),
                }),
            ..Collection::default()
        }
    };
    items.push(ContactsItem {
        id: format!("{account}/addressbook/{book_name}"),
        action: "created".into(),
        rule: Rule::P6,
        reason: Some(rule_reason.into()),
        account: account.to_string(),
        name: book_name,
        href: Some(book.href.clone()),
    });
    Ok(book)
}

/// P3: the cards the address book should hold (persons, then companies),
/// and the display name of each record.
fn render(
    cfg: &Config,
    sel: &ContactSelection,
    map: &FieldMap,
    version: CardVersion,
) -> (Vec<Wanted>, HashMap<RecordKey, String>) {
    let link = |id: &str| cfg.crm.link.as_ref().map(|l| l.replace("{id}", id));
    let mut wanted = Vec::with_capacity(sel.persons.len() + sel.companies.len());
    let mut names: HashMap<RecordKey, String> = HashMap::new();
    for p in &sel.persons {
        let key = RecordKey::person(&p.person.id);
        let uid = key.uid();
        let card = vcard::person_card(
            &uid,
            &p.person,
            &PersonExtras {
                company_name: p.company_name.as_deref(),
                link: link(&p.person.id),
            },
            map,
            version,
        );
        names.insert(key.clone(), p.person.display_name());
        wanted.push(Wanted {
            hash: vcard::content_hash(&card),
            key,
            uid,
            card,
            why: p.why.join(", "),
        });
    }
    for c in &sel.companies {
        let key = RecordKey::company(&c.company.id);
        let uid = key.uid();
        let card = vcard::company_card(&uid, &c.company, link(&c.company.id), map, version);
        names.insert(key.clone(), c.company.name.clone());
        wanted.push(Wanted {
            hash: vcard::content_hash(&card),
            key,
            uid,
            card,
            why: c.why.join(", "),
        });
    }
    (wanted, names)
}

/// Reports every planned action with its outcome (None: planned only, or
/// not tried after the account `stopped`) and counts it; returns how many
/// failed.
fn report_items(
    summary: &mut ContactsReport,
    account: &str,
    the_plan: &Plan,
    names: &HashMap<RecordKey, String>,
    outcomes: &[Option<apply::Outcome>],
    stopped: bool,
    opts: &Options,
) -> usize {
    let mut item_failures = 0;
    for (x, outcome) in the_plan.actions.iter().zip(outcomes) {
        let action = x.op.action();
        if action == "unchanged" {
            summary.counts.unchanged += 1;
            if !opts.list_unchanged {
                continue;
            }
        }
        let mut href = match &x.op {
            Op::Create { href, .. }
            | Op::Update { href, .. }
            | Op::Move { href, .. }
            | Op::Delete { href, .. }
            | Op::Forget { href }
            | Op::Keep { href } => href.clone(),
        };
        let (action, reason) = match outcome {
            Some(Err(why)) => {
                item_failures += 1;
                summary.counts.failed += 1;
                ("failed", format!("{}: {why}", x.reason))
            }
            None if stopped && x.op.writes() => {
                // After a fatal error (X2 lockout, server gone): not tried.
                summary.counts.skipped += 1;
                (
                    "skipped",
                    format!("{}; not tried: the account stopped", x.reason),
                )
            }
            done => {
                if let Some(Ok(Some(h))) = done {
                    href = h.clone();
                }
                match action {
                    "created" => summary.counts.created += 1,
                    "updated" => summary.counts.updated += 1,
                    "moved" => summary.counts.moved += 1,
                    "deleted" => summary.counts.deleted += 1,
                    "forgotten" => summary.counts.forgotten += 1,
                    _ => {}
                }
                (action, x.reason.clone())
            }
        };
        summary.items.push(ContactsItem {
            id: format!("{account}/{}", x.key),
            action: action.to_string(),
            rule: x.rule,
            reason: Some(reason),
            account: account.to_string(),
            name: names.get(&x.key).cloned().unwrap_or_default(),
            href: Some(href),
        });
    }
    item_failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Access;

    fn config(dir: &std::path::Path) -> Config {
        Config::parse(
            &format!(
                "[[users]]\nlogin = \"a\"\nemails = [\"a@x.example\"]\n[[contacts.accounts]]\nname = \"b\"\n\
                 user = \"a\"\nsource = \"vdir\"\npath = \"{}\"\n",
                dir.display()
            ),
            std::path::Path::new("t.toml"),
        )
        .unwrap()
    }

    fn push(cfg: &Config, st: &State, force: bool) -> ContactsReport {
        let accounts: Vec<&DavAccount> = cfg.contacts.accounts.iter().collect();
        let map = FieldMap::parse(&cfg.contacts.fields).unwrap();
        let opts = Options {
            force,
            list_unchanged: false,
        };
        run(
            cfg,
            st,
            &accounts,
            &map,
            &opts,
            &mut Unattended { yes: false },
        )
        .unwrap()
    }

    #[test]
    fn x8_dry_run_plans_the_missing_address_book_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let books = dir.path().join("books");
        std::fs::create_dir(&books).unwrap();
        let cfg = config(&books);
        let st = State::open(&dir.path().join("s.sqlite"), Access::DryRun, "t").unwrap();
        let r = push(&cfg, &st, false);
        assert!(r.dry_run && r.all_rows);
        assert!(matches!(r.accounts[0].status, ContactsStatus::Planned));
        assert_eq!(r.accounts[0].address_book.as_deref(), Some(DEFAULT_BOOK));
        let ids: Vec<(&str, &str, &str)> = r
            .items
            .iter()
            .map(|i| (i.id.as_str(), i.action.as_str(), i.rule.as_str()))
            .collect();
        assert_eq!(ids, vec![("b/addressbook/Contacts", "created", "P6")]);
        assert_eq!(r.exit(), Exit::Ok);
        assert_eq!(std::fs::read_dir(&books).unwrap().count(), 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn p6_p8_a_push_makes_the_book_and_the_next_is_not_due() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let st = State::open_memory().unwrap();
        let r = push(&cfg, &st, false);
        assert!(matches!(r.accounts[0].status, ContactsStatus::Pushed));
        assert_eq!(r.items.len(), 1);
        assert!(r.accounts[0].last_push.is_some() && r.accounts[0].next_due.is_some());
        assert_eq!(st.last_contact_push("b").unwrap(), r.accounts[0].last_push);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let r = push(&cfg, &st, false);
        assert!(matches!(r.accounts[0].status, ContactsStatus::NotDue));
        assert!(r.items.is_empty());
        assert_eq!(r.exit(), Exit::Ok);
        // --force pushes now, into the book made before.
        let r = push(&cfg, &st, true);
        assert!(matches!(r.accounts[0].status, ContactsStatus::Pushed));
        assert!(r.items.is_empty());
    }

    #[test]
    fn p8_next_due_divides_the_day() {
        let d = next_due("2026-01-01T00:00:00Z", 2).unwrap();
        assert_eq!(d.to_rfc3339(), "2026-01-01T12:00:00+00:00");
        let d = next_due("2026-01-01T00:00:00Z", 24).unwrap();
        assert_eq!(d.to_rfc3339(), "2026-01-01T01:00:00+00:00");
    }

    #[test]
    fn p6_book_names_and_slugs() {
        let b = |href: &str, name: &str| Collection {
            href: href.into(),
            name: name.into(),
            ..Collection::default()
        };
        let books = vec![b("/u/a/", "Private"), b("/u/crm-contacts/", "CRM")];
        assert_eq!(
            find_collection(&books, "CRM").unwrap().href,
            "/u/crm-contacts/"
        );
        assert_eq!(find_collection(&books, "a").unwrap().href, "/u/a/");
        assert_eq!(find_collection(&books, "private").unwrap().href, "/u/a/");
        assert!(find_collection(&books, "Customers").is_none());
        assert_eq!(store::slug("CRM Kunden 2026"), "crm-kunden-2026");
        assert_eq!(store::slug("§§"), "crm");
    }
}
