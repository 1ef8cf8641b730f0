//! `crmsync sync-calendar` (SPEC 4): appointments and tasks both ways
//! between each calendar account and the CRM. Wires the stages: the
//! calendar side through the lockout guard (X2), the collections (events
//! and tasks), what the server holds (C5), the user's CRM activities (C1),
//! address matching (C2), the planner (C2-C12), the person's answers to
//! conflicts under `ask` (C6), apply, report. The rules live in
//! `plan::calendar`; this module holds no protocol code and no SQL.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context, Result};
use chrono::Utc;
use dialoguer::Select;
use dialoguer::theme::ColorfulTheme;
use serde::Serialize;

use super::Ctx;
use crate::apply::calendar::{self as apply, Outcome, Pair, Target};
use crate::apply::mail::owner;
use crate::cli::{ConflictArg, SendAs, SyncCalendarArgs};
use crate::config::{ConflictPolicy, DavAccount};
use crate::crm::calendar as crm;
use crate::error::{Exit, usage};
use crate::matching::Matcher;
use crate::model::CrmEntry;
use crate::parse::ical::Kind;
use crate::plan::calendar::{self as plan, Action, Body, Settings, Side};
use crate::plan::mail::Owner;
use crate::report::output::Tabular;
use crate::source::dav::{Collection, DavKind};
use crate::source::store::{self, Store, StoreError, find_collection, make_collection};
use crate::state::{Access, State};

/// The calendar made when an account has none.
const DEFAULT_CALENDAR: &str = "Calendar";

#[derive(Debug, Default, Clone, Serialize)]
struct Counts {
    /// SPEC §8's keys (issue 15): writes in both directions together; the
    /// `*_in_crm` / `*_in_calendar` keys below say where.
    created: usize,
    updated: usize,
    deleted: usize,
    created_in_crm: usize,
    updated_in_crm: usize,
    deleted_in_crm: usize,
    created_in_calendar: usize,
    updated_in_calendar: usize,
    deleted_in_calendar: usize,
    conflicts: usize,
    /// C12 and C7: items reported, not synced.
    reported: usize,
    /// Writes the server or the CRM refused (C12).
    failed: usize,
}

#[derive(Debug, Clone, Serialize)]
struct ItemReport {
    account: String,
    action: String,
    rule: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    activity: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    href: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Synced,
    Planned,
    Blocked,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
struct AccountReport {
    name: String,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    calendar: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tasks: Option<String>,
    /// Calendar items listed / fetched (C5).
    listed: usize,
    fetched: usize,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    command: &'static str,
    dry_run: bool,
    counts: Counts,
    items: Vec<ItemReport>,
    accounts: Vec<AccountReport>,
    errors: Vec<String>,
    #[serde(skip)]
    all_rows: bool,
}

impl Tabular for Summary {
    fn headers(&self) -> Vec<&'static str> {
        vec!["account", "action", "rule", "activity", "item", "reason"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.items
            .iter()
            .filter(|i| {
                self.all_rows
                    || matches!(
                        i.action.as_str(),
                        "failed" | "reported" | "held back" | "not done"
                    )
            })
            .map(|i| {
                vec![
                    i.account.clone(),
                    i.action.clone(),
                    i.rule.to_string(),
                    i.activity.map(|a| a.to_string()).unwrap_or_default(),
                    i.subject
                        .clone()
                        .or_else(|| i.href.clone())
                        .unwrap_or_default(),
                    i.reason.clone().unwrap_or_default(),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        let c = &self.counts;
        let mut out = vec![format!(
            "{}CRM: {} created, {} updated, {} deleted; calendar: {} created, {} updated, {} deleted; {} conflicts, {} reported, {} failed",
            crate::report::dry_run_lead(self.dry_run, ". Planned: "),
            c.created_in_crm,
            c.updated_in_crm,
            c.deleted_in_crm,
            c.created_in_calendar,
            c.updated_in_calendar,
            c.deleted_in_calendar,
            c.conflicts,
            c.reported,
            c.failed
        )];
        for a in &self.accounts {
            out.push(format!(
                "{}: {} (calendar {}, tasks {}; {} items listed, {} fetched)",
                a.name,
                status_text(&a.status),
                a.calendar.as_deref().unwrap_or("-"),
                a.tasks.as_deref().unwrap_or("-"),
                a.listed,
                a.fetched
            ));
        }
        out.extend(self.errors.iter().map(|e| format!("error: {e}")));
        out
    }
}

fn status_text(s: &Status) -> &'static str {
    match s {
        Status::Synced => "synced",
        Status::Planned => "planned (dry run)",
        Status::Blocked => "blocked",
        Status::Failed => "failed",
    }
}

fn policy_of(c: ConflictArg) -> ConflictPolicy {
    match c {
        ConflictArg::NewestWins => ConflictPolicy::NewestWins,
        ConflictArg::CrmWins => ConflictPolicy::CrmWins,
        ConflictArg::GroupwareWins => ConflictPolicy::GroupwareWins,
        ConflictArg::Ask => ConflictPolicy::Ask,
    }
}

/// Which components a run syncs (the import wizard's areas, W1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds {
    pub events: bool,
    pub tasks: bool,
}

impl Kinds {
    pub const ALL: Kinds = Kinds {
        events: true,
        tasks: true,
    };

    fn takes(self, k: Kind) -> bool {
        match k {
            Kind::Event => self.events,
            Kind::Todo => self.tasks,
        }
    }
}

pub fn run(ctx: &Ctx, args: &SyncCalendarArgs) -> Result<Exit> {
    let (summary, exit) = sync(ctx, args, Kinds::ALL)?;
    ctx.printer.print(&summary)?;
    Ok(exit)
}

/// One run over the accounts `args` names; `kinds` limits it to events or
/// tasks (W1). Returns the summary to print and the exit code.
///
/// # Errors
/// Usage errors (unknown account or activity), state file errors.
pub fn sync(ctx: &Ctx, args: &SyncCalendarArgs, kinds: Kinds) -> Result<(Summary, Exit)> {
    let cfg = &ctx.cfg;
    let accounts: Vec<&DavAccount> = super::pick_accounts(
        ctx,
        &cfg.calendar.accounts,
        DavAccount::name,
        &args.accounts,
        "calendar.accounts",
        "add one (see config.sample.toml)",
    )?;
    let st = ctx.state(Access::Write, "sync-calendar")?;
    // C9: each activity to send or unlink belongs to the account of its rep.
    let mut send: BTreeMap<String, Vec<(CrmEntry, Kind)>> = BTreeMap::new();
    for id in &args.send {
        let e = crm::entry(&st.conn, *id)?
            .ok_or_else(|| usage(format!("--send {id}: there is no activity {id}")))?;
        let kind = match args.send_as {
            Some(SendAs::Task) => Kind::Todo,
            _ => Kind::Event,
        };
        send.entry(rep_of(&st, *id)?).or_default().push((e, kind));
    }
    let mut unlink: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for id in &args.unlink {
        if crm::entry(&st.conn, *id)?.is_none() {
            return Err(usage(format!("--unlink {id}: there is no activity {id}")));
        }
        unlink.entry(rep_of(&st, *id)?).or_default().push(*id);
    }
    for rep in send.keys().chain(unlink.keys()) {
        if !accounts.iter().any(|a| a.user() == rep) {
            return Err(usage(format!(
                "--send/--unlink: the activity's rep `{rep}` has no calendar account among those synced; add a [[calendar.accounts]] with user = \"{rep}\""
            )));
        }
    }
    let run_id = if st.writable() {
        Some(st.start_run("sync-calendar", false)?)
    } else {
        None
    };
    let mut summary = Summary {
        command: "sync-calendar",
        dry_run: !st.writable(),
        counts: Counts::default(),
        items: Vec::new(),
        accounts: Vec::new(),
        errors: Vec::new(),
        all_rows: !st.writable() || args.all_items || ctx.global.verbose > 0,
    };
    let mut failed_accounts = 0;
    let mut sent_to: BTreeSet<String> = BTreeSet::new();
    for a in &accounts {
        // C9 requests go to the first account of the rep.
        let first = sent_to.insert(a.user().to_string());
        let no_send = Vec::new();
        let no_unlink = Vec::new();
        let req = Requests {
            send: if first {
                send.get(a.user()).unwrap_or(&no_send)
            } else {
                &no_send
            },
            unlink: if first {
                unlink.get(a.user()).unwrap_or(&no_unlink)
            } else {
                &no_unlink
            },
        };
        let report = match sync_account(ctx, &st, a, args, &req, kinds, &mut summary) {
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
                    calendar: None,
                    tasks: None,
                    listed: 0,
                    fetched: 0,
                }
            }
        };
        if matches!(report.status, Status::Blocked | Status::Failed) {
            failed_accounts += 1;
        }
        summary.accounts.push(report);
    }
    let c = &summary.counts;
    let exit = if failed_accounts == accounts.len() {
        Exit::Failed
    } else if failed_accounts > 0 || c.failed > 0 || c.reported > 0 || !summary.errors.is_empty() {
        Exit::Partial
    } else {
        Exit::Ok
    };
    if let Some(id) = run_id {
        st.finish_run(id, exit.code(), &serde_json::to_string(&summary.counts)?)?;
    }
    Ok((summary, exit))
}

fn rep_of(st: &State, id: i64) -> Result<String> {
    crate::crm::activities::view(&st.conn, id)?
        .map(|v| v.rep)
        .with_context(|| format!("activity {id} disappeared"))
}

/// C9 requests for one account.
struct Requests<'a> {
    send: &'a [(CrmEntry, Kind)],
    unlink: &'a [i64],
}

/// The calendar (events) and task list of an account: configured by name,
/// else the first collection taking VEVENT (resp. VTODO), else one made.
fn pick_collections(
    st: &State,
    store: &Store,
    a: &DavAccount,
    summary: &mut Summary,
) -> Result<(Collection, Collection), StoreError> {
    let (home, mut colls) = store.collections()?;
    let takes = |c: &Collection, comp: &str| {
        c.components.is_empty() || c.components.iter().any(|x| x == comp)
    };
    let named = |colls: &[Collection],
                 n: &Option<String>,
                 what: &str|
     -> Result<Option<Collection>, StoreError> {
        match n {
            Some(n) => find_collection(colls, n).cloned().map(Some).ok_or_else(|| {
                StoreError::NotFound(format!(
                    "account `{}`: no {what} named `{n}`; found: {}",
                    a.name(),
                    colls
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }),
            None => Ok(None),
        }
    };
    let events = match named(&colls, &a.calendar, "calendar")? {
        Some(c) => c,
        None => match colls.iter().find(|c| takes(c, "VEVENT")) {
            Some(c) => c.clone(),
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
                    store::slug(DEFAULT_CALENDAR)
                );
                let made = if st.writable() {
                    make_collection(store, &href, DEFAULT_CALENDAR)?
                } else {
                    Collection {
                        href,
                        name: DEFAULT_CALENDAR.into(),
                        ..Collection::default()
                    }
                };
                summary.items.push(ItemReport {
                    account: a.name().to_string(),
                    action: "created calendar".into(),
                    rule: "C1",
                    activity: None,
                    href: Some(made.href.clone()),
                    uid: None,
                    subject: Some(made.name.clone()),
                    reason: Some("the account had no calendar".into()),
                });
                colls.push(made.clone());
                made
            }
        },
    };
    let tasks = match named(&colls, &a.tasks, "task list")? {
        Some(c) => c,
        None if takes(&events, "VTODO") => events.clone(),
        None => colls
            .iter()
            .find(|c| takes(c, "VTODO"))
            .cloned()
            .unwrap_or_else(|| events.clone()),
    };
    Ok((events, tasks))
}

fn sync_account(
    ctx: &Ctx,
    st: &State,
    a: &DavAccount,
    args: &SyncCalendarArgs,
    req: &Requests<'_>,
    kinds: Kinds,
    summary: &mut Summary,
) -> Result<AccountReport> {
    let cfg = &ctx.cfg;
    let name = a.name();
    let login = a.user();
    let matcher = Matcher::new(&st.conn, cfg)?;
    let owner: Owner = owner(&matcher, cfg, login)?.with_context(|| {
        format!(
            "user `{login}` has no person record of their own in the CRM (C2 attaches events to it); add a person with the user's e-mail address (crmsync crm import)"
        )
    })?;
    let (store, secret) = crate::accounts::open_store(st, a, DavKind::Calendar)?;
    let fail = |e: StoreError| crate::accounts::store_fatal(st, a, secret.as_ref(), e);
    let clock = std::time::Instant::now();
    let lap = |what: &str| {
        crate::ui::debug(format!(
            "{name}: {what} at {:.3} s",
            clock.elapsed().as_secs_f64()
        ))
    };
    let (events, tasks) = pick_collections(st, &store, a, summary).map_err(fail)?;
    lap("collections found");
    let mut report = AccountReport {
        name: name.to_string(),
        status: if st.writable() {
            Status::Synced
        } else {
            Status::Planned
        },
        calendar: Some(events.name.clone()),
        tasks: Some(tasks.name.clone()),
        listed: 0,
        fetched: 0,
    };
    let mut colls: Vec<(String, Option<String>)> = vec![(events.href.clone(), events.ctag.clone())];
    if tasks.href != events.href {
        colls.push((tasks.href.clone(), tasks.ctag.clone()));
    }
    let pairs = apply::pairs(&st.conn, name)?;
    // Pairs in a collection no longer synced (the config changed): their
    // items are out of sight, not deleted.
    let (pairs, elsewhere): (Vec<Pair>, Vec<Pair>) = pairs
        .into_iter()
        .partition(|p| colls.iter().any(|(c, _)| *c == p.collection));
    for p in &elsewhere {
        crate::ui::debug(format!(
            "{name}: {} is in {}, which is not synced now; left alone",
            p.synced.href, p.collection
        ));
    }
    let linked: Vec<i64> = pairs.iter().map(|p| p.synced.activity).collect();
    let away: BTreeSet<i64> = elsewhere.iter().map(|p| p.synced.activity).collect();
    let entries: Vec<CrmEntry> = crm::entries(&st.conn, login, &linked)?
        .into_iter()
        .filter(|e| !away.contains(&e.id))
        .collect();
    lap("CRM side read");
    let mut view = apply::view(&store, &st.conn, name, &colls, &pairs, &entries).map_err(fail)?;
    lap("calendar side read");
    // W1: only events or only tasks. Pairs of the other kind (known from
    // their activity's type, else from the fetched item) are out of this
    // run on both sides; the cursors stay, so nothing is missed later.
    let (pairs, entries) = if kinds == Kinds::ALL {
        (pairs, entries)
    } else {
        let kind_of_id: HashMap<i64, Kind> = entries
            .iter()
            .filter_map(|e| plan::kind_of(&e.activity_type).map(|k| (e.id, k)))
            .collect();
        let fetched_kind = |href: &str| {
            view.remote
                .iter()
                .find(|r| r.href == href)
                .and_then(|r| match &r.body {
                    Body::Parsed(items) => items.first().map(|i| i.kind),
                    _ => None,
                })
        };
        let out: BTreeSet<String> = pairs
            .iter()
            .filter(|p| {
                kind_of_id
                    .get(&p.synced.activity)
                    .copied()
                    .or_else(|| fetched_kind(&p.synced.href))
                    .is_some_and(|k| !kinds.takes(k))
            })
            .map(|p| p.synced.href.clone())
            .collect();
        let out_ids: BTreeSet<i64> = pairs
            .iter()
            .filter(|p| out.contains(&p.synced.href))
            .map(|p| p.synced.activity)
            .collect();
        view.remote.retain(|r| {
            !out.contains(&r.href)
                && match &r.body {
                    Body::Parsed(items) => items.first().is_none_or(|i| kinds.takes(i.kind)),
                    _ => true,
                }
        });
        let pairs: Vec<Pair> = pairs
            .into_iter()
            .filter(|p| !out.contains(&p.synced.href))
            .collect();
        let entries: Vec<CrmEntry> = entries
            .into_iter()
            .filter(|e| {
                !out_ids.contains(&e.id)
                    && plan::kind_of(&e.activity_type).is_none_or(|k| kinds.takes(k))
            })
            .collect();
        (pairs, entries)
    };
    for (c, how) in &view.listings {
        crate::ui::debug(format!("{name}: {c}: {how}"));
    }
    report.listed = view.remote.len();
    report.fetched = view.fetched;
    // C2: the ORGANIZER and ATTENDEE addresses, matched once each.
    let mut matches = HashMap::new();
    for r in &view.remote {
        if let Body::Parsed(items) = &r.body {
            for it in items {
                let all = std::iter::once(&it.props).chain(it.overrides.iter().map(|o| &o.props));
                for p in all {
                    for x in p.organizer.iter().chain(p.attendees.iter()) {
                        if !x.address.is_empty() && !matches.contains_key(&x.address) {
                            matches.insert(x.address.clone(), matcher.lookup(&x.address)?);
                        }
                    }
                }
            }
        }
    }
    let state: Vec<plan::Synced> = pairs.iter().map(|p| p.synced.clone()).collect();
    let mut settings = Settings {
        conflict: args
            .conflict
            .map(policy_of)
            .unwrap_or(cfg.calendar.conflict),
        max_delete_percent: cfg.calendar.max_delete_percent,
        allow_mass_delete: args.allow_mass_delete,
        crm_link: cfg.crm.link.clone(),
        owner_name: cfg.user(login).and_then(|u| u.name.clone()),
        now: Utc::now(),
        decided: HashMap::new(),
    };
    let input = plan::Input {
        remote: &view.remote,
        crm: &entries,
        state: &state,
        matches: &matches,
        send: req.send,
        unlink: req.unlink,
    };
    let mut actions = plan::plan(&input, &owner, &settings);
    // C6 ask: a person at the terminal chooses; unattended, both stay.
    if settings.conflict == ConflictPolicy::Ask && ctx.interactive() && !ctx.global.json {
        for a in &actions {
            if let Action::Conflict {
                activity,
                href,
                winner: None,
                losers,
                ..
            } = a
            {
                let crm_v = losers.iter().find(|l| l.side == Side::Crm);
                let gw_v = losers.iter().find(|l| l.side == Side::Groupware);
                let subject = entries
                    .iter()
                    .find(|e| e.id == *activity)
                    .map(|e| e.fields.subject.clone())
                    .unwrap_or_default();
                eprintln!(
                    "{}",
                    crate::ui::printable(&format!(
                        "\nConflict (C6) on activity {activity} `{subject}` ({href}): both sides changed.\n--- CRM version ---\n{}\n--- calendar version ---\n{}",
                        crm_v.map(|l| l.data.as_str()).unwrap_or(""),
                        gw_v.map(|l| l.data.as_str()).unwrap_or("")
                    ))
                );
                let pick = Select::with_theme(&ColorfulTheme::default())
                    .with_prompt("Which version wins? (the other goes to the conflict log)")
                    .items(["the CRM version", "the calendar version", "decide later"])
                    .default(2)
                    .interact()?;
                match pick {
                    0 => {
                        settings.decided.insert(*activity, Side::Crm);
                    }
                    1 => {
                        settings.decided.insert(*activity, Side::Groupware);
                    }
                    _ => {}
                }
            }
        }
        if !settings.decided.is_empty() {
            actions = plan::plan(&input, &owner, &settings);
        }
    }
    lap("planned");
    let subject_of = |id: Option<i64>| {
        id.and_then(|id| entries.iter().find(|e| e.id == id))
            .map(|e| e.fields.subject.clone())
    };
    // Collections with something not carried out keep their old cursor
    // (all of them when a kind was left out, W1).
    let mut unclean: BTreeSet<String> = BTreeSet::new();
    if kinds != Kinds::ALL {
        unclean.extend(colls.iter().map(|(c, _)| c.clone()));
    }
    let coll_of = |href: &Option<String>| {
        href.as_ref()
            .and_then(|h| view.collection_of.get(h).cloned())
    };
    // Action index -> its row in the summary.
    let mut item_of: HashMap<usize, usize> = HashMap::new();
    for (i, act) in actions.iter().enumerate() {
        let (action, activity, href, uid, reason, subject) = describe(act);
        let subject = subject.or_else(|| subject_of(activity));
        match act {
            Action::Report { .. } | Action::MassDeleteStop { .. } => {
                summary.counts.reported += 1;
                match coll_of(&href) {
                    Some(c) => {
                        unclean.insert(c);
                    }
                    None => unclean.extend(colls.iter().map(|(c, _)| c.clone())),
                }
            }
            Action::Conflict { winner: None, .. } => {
                summary.counts.reported += 1;
                unclean.extend(coll_of(&href));
            }
            _ => {}
        }
        if act.writes()
            || matches!(
                act,
                Action::Report { .. } | Action::MassDeleteStop { .. } | Action::Conflict { .. }
            )
        {
            item_of.insert(i, summary.items.len());
            summary.items.push(ItemReport {
                account: name.to_string(),
                action: action.to_string(),
                rule: act.rule(),
                activity,
                href,
                uid,
                subject,
                reason,
            });
        }
    }
    if !st.writable() {
        // X8: the plan only.
        tally(&mut summary.counts, &actions, &HashMap::new(), true);
        return Ok(report);
    }
    let target = Target {
        account: name,
        events: &events.href,
        tasks: &tasks.href,
        crm_link: cfg.crm.link.as_deref(),
        now: settings.now,
    };
    let bar = crate::ui::progress(actions.iter().filter(|a| a.writes()).count() as u64, name);
    let mut outcomes: HashMap<usize, Outcome> = HashMap::new();
    let mut wrote: BTreeSet<String> = BTreeSet::new();
    let result = apply::execute(
        &store,
        &st.conn,
        &target,
        &actions,
        &view.collection_of,
        &mut |i, o| {
            if actions[i].writes() {
                bar.inc(1);
            }
            outcomes.insert(i, o);
        },
    );
    bar.finish_and_clear();
    for (i, o) in &outcomes {
        let act = &actions[*i];
        let href = match act {
            Action::CreateOnServer {
                kind, name: file, ..
            } => Some(match kind {
                Kind::Event => format!("{}{file}", events.href),
                Kind::Todo => format!("{}{file}", tasks.href),
            }),
            _ => describe(act).2,
        };
        let coll = href
            .as_ref()
            .and_then(|h| view.collection_of.get(h).cloned())
            .or_else(|| {
                href.as_ref()
                    .map(|h| h[..=h.rfind('/').unwrap_or(0)].to_string())
            });
        match o {
            Outcome::Done(id) => {
                // Server writes move the collection's ctag and token.
                if matches!(
                    act,
                    Action::CreateOnServer { .. }
                        | Action::UpdateServer { .. }
                        | Action::DeleteOnServer { .. }
                        | Action::CreateInCrm { link: true, .. }
                ) {
                    wrote.extend(coll);
                }
                if let (Action::CreateInCrm { .. }, Some(k)) = (act, item_of.get(i)) {
                    summary.items[*k].activity = Some(*id);
                }
            }
            Outcome::Failed(why) => {
                unclean.extend(coll);
                if let Some(k) = item_of.get(i) {
                    summary.items[*k].action = "failed".into();
                    summary.items[*k].reason = Some(why.clone());
                }
            }
        }
    }
    tally(&mut summary.counts, &actions, &outcomes, false);
    if let Err(e) = result {
        // The account stopped (server gone, X5): the writes not reached
        // are not done; the next run plans them again.
        for (i, act) in actions.iter().enumerate() {
            if let (true, false, Some(k)) =
                (act.writes(), outcomes.contains_key(&i), item_of.get(&i))
            {
                summary.items[*k].action = "not done".into();
                summary.items[*k].reason =
                    Some("the account stopped before this item; the next run does it".into());
            }
        }
        return Err(fail(e));
    }
    let clean: BTreeSet<String> = colls
        .iter()
        .map(|(c, _)| c.clone())
        .filter(|c| !unclean.contains(c))
        .collect();
    apply::advance(&store, &st.conn, name, &view, &clean, &wrote)?;
    lap("applied");
    Ok(report)
}

/// Counts what was done (or, in a dry run, planned). Issue 9: `dry` is
/// passed, not guessed from empty outcomes: a run stopped at its first
/// write counted every planned write as done.
fn tally(c: &mut Counts, actions: &[Action], outcomes: &HashMap<usize, Outcome>, dry: bool) {
    for (i, a) in actions.iter().enumerate() {
        if !a.writes() {
            if let Action::Conflict { .. } = a {
                c.conflicts += 1;
            }
            continue;
        }
        match outcomes.get(&i) {
            Some(Outcome::Failed(_)) => {
                c.failed += 1;
                continue;
            }
            None if !dry => continue,
            _ => {}
        }
        let (total, side) = match a {
            Action::CreateInCrm { .. } => (&mut c.created, &mut c.created_in_crm),
            Action::UpdateCrm { .. } => (&mut c.updated, &mut c.updated_in_crm),
            Action::DeleteInCrm { .. } => (&mut c.deleted, &mut c.deleted_in_crm),
            Action::CreateOnServer { .. } => (&mut c.created, &mut c.created_in_calendar),
            Action::UpdateServer { .. } => (&mut c.updated, &mut c.updated_in_calendar),
            Action::DeleteOnServer { .. } => (&mut c.deleted, &mut c.deleted_in_calendar),
            _ => continue,
        };
        *total += 1;
        *side += 1;
    }
}

/// One action for the summary: (action, activity, href, uid, reason, subject).
#[allow(clippy::type_complexity)]
fn describe(
    a: &Action,
) -> (
    &'static str,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
) {
    match a {
        Action::CreateInCrm {
            href, uid, fields, ..
        } => (
            "created in CRM",
            None,
            Some(href.clone()),
            Some(uid.clone()),
            None,
            Some(fields.subject.clone()),
        ),
        Action::UpdateCrm {
            activity,
            href,
            fields,
            ..
        } => (
            "updated in CRM",
            Some(*activity),
            Some(href.clone()),
            None,
            None,
            Some(fields.subject.clone()),
        ),
        Action::DeleteInCrm { activity, href, .. } => (
            "deleted in CRM",
            Some(*activity),
            Some(href.clone()),
            None,
            Some("deleted in the calendar".into()),
            None,
        ),
        Action::CreateOnServer { activity, uid, .. } => (
            "created in calendar",
            Some(*activity),
            None,
            Some(uid.clone()),
            None,
            None,
        ),
        Action::UpdateServer { activity, href, .. } => (
            "updated in calendar",
            Some(*activity),
            Some(href.clone()),
            None,
            None,
            None,
        ),
        Action::DeleteOnServer { activity, href, .. } => (
            "deleted in calendar",
            Some(*activity),
            Some(href.clone()),
            None,
            None,
            None,
        ),
        Action::Conflict {
            activity,
            href,
            why,
            winner,
            ..
        } => (
            if winner.is_some() {
                "conflict"
            } else {
                "reported"
            },
            Some(*activity),
            Some(href.clone()),
            None,
            Some(match winner {
                Some(_) => format!("{why}; the other version is in the conflict log"),
                None => format!(
                    "{why}; choose with --conflict crm-wins|groupware-wins, or run on a terminal"
                ),
            }),
            None,
        ),
        Action::Report { item, problem, .. } => (
            "reported",
            item.activity,
            item.href.clone(),
            item.uid.clone(),
            Some(problem.clone()),
            None,
        ),
        Action::MassDeleteStop {
            side, count, total, ..
        } => (
            "held back",
            None,
            None,
            None,
            Some(format!(
                "{count} of {total} synced items would be deleted in the {}; nothing was deleted. If that is intended, run again with --allow-mass-delete",
                match side {
                    Side::Crm => "CRM",
                    Side::Groupware => "calendar",
                }
            )),
            None,
        ),
        Action::Remember { activity, href, .. } | Action::Forget { activity, href, .. } => (
            "unchanged",
            Some(*activity),
            Some(href.clone()),
            None,
            None,
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c7_held_back_deletions_name_the_flag() {
        let (action, _, _, _, reason, _) = describe(&Action::MassDeleteStop {
            rule: "C7",
            side: Side::Crm,
            count: 5,
            total: 6,
        });
        assert_eq!(action, "held back");
        assert!(reason.unwrap().contains("--allow-mass-delete"));
    }

    /// Issue 15: `--json` counts carry SPEC §8's `created`/`updated`/
    /// `deleted` (both directions together) beside the detailed keys, and a
    /// failed write counts as failed only.
    #[test]
    fn spec8_json_counts_have_created_updated_deleted_beside_the_detail() {
        let on_server = |activity| Action::DeleteOnServer {
            rule: "C7",
            activity,
            href: format!("/c/{activity}.ics"),
            if_match: "\"e\"".into(),
        };
        let actions = vec![
            Action::DeleteInCrm {
                rule: "C7",
                activity: 1,
                href: "/c/1.ics".into(),
            },
            on_server(2),
            on_server(3),
        ];
        let outcomes = HashMap::from([
            (0, Outcome::Done(1)),
            (1, Outcome::Done(2)),
            (2, Outcome::Failed("HTTP 507".into())),
        ]);
        let mut c = Counts::default();
        tally(&mut c, &actions, &outcomes, false);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["deleted"], 2, "{v}");
        assert_eq!(v["deleted_in_crm"], 1, "{v}");
        assert_eq!(v["deleted_in_calendar"], 1, "{v}");
        assert_eq!(v["failed"], 1, "{v}");
        assert_eq!(
            (v["created"].as_u64(), v["updated"].as_u64()),
            (Some(0), Some(0))
        );
    }
}
