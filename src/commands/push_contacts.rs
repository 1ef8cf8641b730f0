//! `crmsync push-contacts` (SPEC 5): CRM persons (and companies) into each
//! contacts account's address book, one way. Wires the stages: the
//! frequency check (P8), the selection from the CRM directory (P2), the
//! large-selection question (P9), the address book side through the
//! lockout guard (X2), placement (P6), rendering (P3), what the server
//! holds, the planner (P1, P4-P7), apply, report. The rules live in
//! `plan::contacts`; this module holds no protocol code and no SQL.

use std::collections::{BTreeSet, HashMap, HashSet};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use dialoguer::Confirm;
use dialoguer::theme::ColorfulTheme;
use serde::Serialize;

use super::Ctx;
use crate::apply::contacts::{self as apply, Store, StoreError};
use crate::cli::PushContactsArgs;
use crate::config::DavAccount;
use crate::crm::directory::{self, ContactFilters};
use crate::error::{Exit, usage};
use crate::parse::vcard::{self, CardVersion, FieldMap, PersonExtras};
use crate::plan::contacts::{self as plan, Op, Placement, RecordKey, RecordKind, Wanted};
use crate::report::output::Tabular;
use crate::source::dav::{Collection, DavKind};
use crate::source::store::{self, find_collection, make_collection};
use crate::state::{Access, State};

/// The address book made when an account has none and no target_folder.
const DEFAULT_BOOK: &str = "Contacts";

#[derive(Debug, Default, Clone, Serialize)]
struct Counts {
    created: usize,
    updated: usize,
    moved: usize,
    deleted: usize,
    unchanged: usize,
    forgotten: usize,
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
    account: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    href: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Pushed,
    Planned,
    NotDue,
    Declined,
    Blocked,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
struct AccountReport {
    name: String,
    status: Status,
    /// Contacts in the selection (P2), persons plus companies.
    #[serde(skip_serializing_if = "Option::is_none")]
    selected: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address_book: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vcard: Option<CardVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_push: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

#[derive(Debug, Serialize)]
struct Summary {
    command: &'static str,
    dry_run: bool,
    counts: Counts,
    items: Vec<ItemReport>,
    accounts: Vec<AccountReport>,
    /// P9 and other things worth a look that did not stop the run.
    warnings: Vec<String>,
    /// Accounts that could not be pushed, with the reason and the next step.
    errors: Vec<String>,
    /// The table lists every change, not only failures (dry run, -v, --all-items).
    #[serde(skip)]
    all_rows: bool,
}

impl Tabular for Summary {
    fn headers(&self) -> Vec<&'static str> {
        vec!["contact", "action", "rule", "name", "reason"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.items
            .iter()
            .filter(|i| self.all_rows || matches!(i.action.as_str(), "failed" | "skipped"))
            .map(|i| {
                vec![
                    i.id.clone(),
                    i.action.clone(),
                    i.rule.clone(),
                    i.name.clone(),
                    i.reason.clone().unwrap_or_default(),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        let c = &self.counts;
        let mut v = vec![format!(
            "{}{} created, {} updated, {} moved, {} deleted, {} unchanged, {} failed",
            crate::report::dry_run_lead(self.dry_run, ": would have "),
            c.created,
            c.updated,
            c.moved,
            c.deleted,
            c.unchanged,
            c.failed
        )];
        for a in &self.accounts {
            let mut line = format!("{}: {}", a.name, status_word(&a.status));
            if let Some(n) = a.selected {
                line.push_str(&format!(", {n} selected"));
            }
            if let Some(b) = &a.address_book {
                line.push_str(&format!(", address book `{b}`"));
            }
            if let Some(v) = a.vcard {
                line.push_str(&format!(", vCard {}", v.as_str()));
            }
            if let Some(m) = &a.message {
                line.push_str(&format!(" ({m})"));
            }
            v.push(line);
        }
        v.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        v.extend(self.errors.iter().map(|e| format!("error: {e}")));
        v
    }
}

fn status_word(s: &Status) -> &'static str {
    match s {
        Status::Pushed => "pushed",
        Status::Planned => "planned",
        Status::NotDue => "not due",
        Status::Declined => "declined",
        Status::Blocked => "blocked",
        Status::Failed => "failed",
    }
}

pub fn run(ctx: &Ctx, args: &PushContactsArgs) -> Result<Exit> {
    let cfg = &ctx.cfg;
    let accounts: Vec<&DavAccount> = super::pick_accounts(
        ctx,
        &cfg.contacts.accounts,
        DavAccount::name,
        &args.accounts,
        "contacts.accounts",
        "add one (see config.sample.toml)",
    )?;
    let map = FieldMap::parse(&cfg.contacts.fields).map_err(|m| {
        usage(format!(
            "{}: {m}",
            cfg.path
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "config".into())
        ))
    })?;
    let st = ctx.state(Access::Write, "push-contacts")?;
    let run_id = if st.writable() {
        Some(st.start_run("push-contacts", false)?)
    } else {
        None
    };
    let mut summary = Summary {
        command: "push-contacts",
        dry_run: !st.writable(),
        counts: Counts::default(),
        items: Vec::new(),
        accounts: Vec::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
        all_rows: !st.writable() || args.all_items || ctx.global.verbose > 0,
    };
    let mut failed_accounts = 0;
    for a in &accounts {
        let report = match push_account(ctx, &st, a, &map, args, &mut summary) {
            Ok(r) => r,
            Err(e) => {
                let msg = format!("{e:#}");
                summary
                    .errors
                    .push(format!("account `{}`: {msg}", a.name()));
                AccountReport {
                    name: a.name().to_string(),
                    status: if msg.contains("crmsync unblock") {
                        Status::Blocked
                    } else {
                        Status::Failed
                    },
                    selected: None,
                    address_book: None,
                    vcard: None,
                    last_push: None,
                    next_due: None,
                    message: None,
                }
            }
        };
        if matches!(report.status, Status::Blocked | Status::Failed) {
            failed_accounts += 1;
        }
        summary.accounts.push(report);
    }
    let exit = if failed_accounts == accounts.len() {
        Exit::Failed
    } else if failed_accounts > 0 || summary.counts.failed > 0 || !summary.errors.is_empty() {
        Exit::Partial
    } else {
        Exit::Ok
    };
    if let Some(id) = run_id {
        st.finish_run(id, exit.code(), &serde_json::to_string(&summary.counts)?)?;
    }
    ctx.printer.print(&summary)?;
    Ok(exit)
}

/// P8: when the next push of an account is due, given its last one.
fn next_due(last: &str, times_per_day: u32) -> Option<DateTime<Utc>> {
    let last = DateTime::parse_from_rfc3339(last).ok()?.with_timezone(&Utc);
    Some(last + chrono::Duration::seconds(86_400 / i64::from(times_per_day.max(1))))
}

fn push_account(
    ctx: &Ctx,
    st: &State,
    a: &DavAccount,
    map: &FieldMap,
    args: &PushContactsArgs,
    summary: &mut Summary,
) -> Result<AccountReport> {
    let cfg = &ctx.cfg;
    let cc = &cfg.contacts;
    let name = a.name();
    let mut report = AccountReport {
        name: name.to_string(),
        status: if st.writable() {
            Status::Pushed
        } else {
            Status::Planned
        },
        selected: None,
        address_book: None,
        vcard: None,
        last_push: apply::last_push(&st.conn, name)?,
        next_due: None,
        message: None,
    };
    // P8: pushed recently enough already?
    if let Some(due) = report
        .last_push
        .as_deref()
        .and_then(|l| next_due(l, cc.times_per_day))
    {
        report.next_due = Some(due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        if !args.force && Utc::now() < due {
            let msg = format!(
                "last pushed at {}; next push due at {} (times_per_day = {}); use --force to push now",
                report.last_push.as_deref().unwrap_or(""),
                report.next_due.as_deref().unwrap_or(""),
                cc.times_per_day
            );
            crate::ui::info(format!("{name}: {msg}"));
            report.status = Status::NotDue;
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
    let sel = directory::contact_selection(&st.conn, &filters)?;
    lap("selection read");
    let total = sel.persons.len() + sel.companies.len();
    report.selected = Some(total);
    // P9: a large selection is confirmed by a person, or reported.
    if total as u64 > cc.warn_above {
        let what = format!(
            "account `{name}`: {total} contacts selected, more than warn_above = {} (P9)",
            cc.warn_above
        );
        if ctx.interactive() && !ctx.global.json {
            let go = Confirm::with_theme(&ColorfulTheme::default())
                .with_prompt(format!(
                    "{what}. Push them into {}'s address book?",
                    a.user()
                ))
                .default(false)
                .interact()?;
            if !go {
                report.status = Status::Declined;
                report.message = Some(format!("{total} contacts selected; not confirmed (P9)"));
                summary
                    .warnings
                    .push(format!("{what}; not confirmed, nothing pushed"));
                return Ok(report);
            }
            summary.warnings.push(format!("{what}; confirmed"));
        } else {
            summary.warnings.push(format!(
                "{what}; pushed without asking because the run is unattended{}",
                if ctx.global.yes { " (--yes)" } else { "" }
            ));
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
    let configured = store.configured_path();
    let chosen = match &target {
        Some(t) => find_collection(&books, t).cloned(),
        // Unset: the address book the account's url points at, else the
        // first one discovery finds (in href order).
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
    let book_name = target.clone().unwrap_or_else(|| DEFAULT_BOOK.to_string());
    let book = match chosen {
        Some(b) => b,
        None => {
            let href = format!(
                "{}{}/",
                home.as_deref()
                    .map(|h| if h.ends_with('/') {
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
            if st.writable() {
                let made = make_collection(&store, &href, &book_name).map_err(fail)?;
                crate::ui::info(format!(
                    "{name}: created address book `{book_name}` ({})",
                    made.href
                ));
                summary.items.push(ItemReport {
                    id: format!("{name}/addressbook/{book_name}"),
                    action: "created".into(),
                    rule: "P6".into(),
                    reason: Some(rule_reason.into()),
                    account: name.to_string(),
                    name: book_name.clone(),
                    href: Some(made.href.clone()),
                });
                books.push(made.clone());
                made
            } else {
                summary.items.push(ItemReport {
                    id: format!("{name}/addressbook/{book_name}"),
                    action: "created".into(),
                    rule: "P6".into(),
                    reason: Some(rule_reason.into()),
                    account: name.to_string(),
                    name: book_name.clone(),
                    href: Some(href.clone()),
                });
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
            }
        }
    };
    report.address_book = Some(book.name.clone());
    let version = CardVersion::for_server(&book.vcard_versions);
    report.vcard = Some(version);
    // P3: the cards the address book should hold.
    let link = |id: &str| cfg.crm.link.as_ref().map(|l| l.replace("{id}", id));
    let mut wanted = Vec::with_capacity(total);
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
    let pushed = apply::pushed(&st.conn, name)?;
    let wanted_keys: HashSet<&RecordKey> = wanted.iter().map(|w| &w.key).collect();
    let mut in_crm = HashSet::new();
    for p in pushed.iter().filter(|p| !wanted_keys.contains(&p.key)) {
        let name = match p.key.kind {
            RecordKind::Person => match directory::person_rowid(&st.conn, &p.key.id)? {
                Some(id) => directory::person_by_rowid(&st.conn, id)?.map(|x| x.display_name()),
                None => None,
            },
            RecordKind::Company => match directory::company_rowid(&st.conn, &p.key.id)? {
                Some(id) => directory::company_by_rowid(&st.conn, id)?.map(|x| x.name),
                None => None,
            },
        };
        if let Some(n) = name {
            in_crm.insert(p.key.clone());
            names.insert(p.key.clone(), n);
        }
    }
    let counts = directory::counts(&st.conn)?;
    let crm_empty = counts.persons == 0 && counts.companies == 0;
    // What the server holds at our cards now (P4, P5).
    let login = a.login.clone().unwrap_or_else(|| a.user().to_string());
    let url = a.url.clone().unwrap_or_default();
    let token_key = |c: &str| crate::model::source_key(&["carddav", &url, &login, c]);
    lap("cards rendered");
    let view = apply::remote_view(&store, &st.conn, &books, &pushed, &book.href, &token_key)
        .map_err(fail)?;
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
    // Apply (or only report, X8).
    // None: not tried (dry run, not a write, or after a fatal error).
    let mut outcomes: Vec<Option<apply::Outcome>> = vec![None; the_plan.actions.len()];
    let mut written = BTreeSet::new();
    let mut fatal_err = None;
    if st.writable() {
        let writes = the_plan.actions.iter().filter(|x| x.op.writes()).count();
        let bar = crate::ui::progress(writes as u64, name);
        let r = apply::execute(&store, &st.conn, name, &the_plan, &wanted, &mut |i, out| {
            bar.inc(1);
            if let Ok(Some(href)) = &out {
                written.insert(href.clone());
            }
            outcomes[i] = Some(out);
        });
        bar.finish_and_clear();
        lap("writes done");
        if let Err(e) = r {
            fatal_err = Some(e);
        }
    }
    let mut item_failures = 0;
    for (i, x) in the_plan.actions.iter().enumerate() {
        let action = x.op.action();
        if action == "unchanged" {
            summary.counts.unchanged += 1;
            if !(args.all_items || ctx.global.verbose > 0) {
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
        let (action, reason) = match &outcomes[i] {
            Some(Err(why)) => {
                item_failures += 1;
                summary.counts.failed += 1;
                ("failed", format!("{}: {why}", x.reason))
            }
            None if fatal_err.is_some() && x.op.writes() => {
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
        summary.items.push(ItemReport {
            id: format!("{name}/{}", x.key),
            action: action.to_string(),
            rule: x.rule.to_string(),
            reason: Some(reason),
            account: name.to_string(),
            name: names.get(&x.key).cloned().unwrap_or_default(),
            href: Some(href),
        });
    }
    if let Some(e) = fatal_err {
        return Err(fail(e));
    }
    if st.writable() {
        apply::advance_tokens(&store, &st.conn, name, &view, &written, &token_key)?;
        lap("sync-tokens stored");
        // P8: only a push without failures counts as the last push.
        if item_failures == 0 && the_plan.refused.is_none() {
            let at = crate::state::now();
            apply::set_last_push(&st.conn, name, &at)?;
            report.last_push = Some(at.clone());
            report.next_due = next_due(&at, cc.times_per_day)
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

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
