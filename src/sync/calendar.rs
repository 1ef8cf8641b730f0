//! The calendar engine (SPEC 4, `sync-calendar`; W1: the appointments and
//! tasks `import-mail` syncs in the same run): appointments and tasks both
//! ways between each calendar account and the CRM. Runs the stages per
//! account: the calendar side through the lockout guard (X2), the
//! collections (events and tasks, [`DEFAULT_CALENDAR`] made when there is
//! none), what the server holds (C5), the user's CRM activities (C1),
//! address matching (C2), the planner (C2-C12), the person's answers to
//! conflicts under `ask` (C6), apply, and returns one [`CalendarReport`].
//! The rules live in `plan::calendar`; this module holds no protocol code
//! and no SQL.
//!
//! The one question it asks is C6's (which version of a conflicting
//! activity wins, under `conflict = "ask"`), through a [`Chooser`]:
//! [`Unattended`] here decides nothing (both versions stay, reported),
//! `wizard::calendar` asks a person at a terminal.
//!
//! X5 home for the calendar: [`crate::apply::calendar::execute`] (state rows
//! committed, then the server's PUT or DELETE, then the pair recorded). X8:
//! a dry run plans the missing calendar instead of making it (see
//! `pick_collections`) and then plans, reports and returns in
//! `sync_account`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context, Result};
use chrono::Utc;
use serde::Serialize;

use crate::apply::calendar::{self as apply, Outcome, Target, View};
use crate::apply::mail::owner;
use crate::config::{Config, ConflictPolicy, DavAccount};
use crate::error::{Exit, usage};
use crate::matching::{AddressMatch, Matcher};
use crate::model::{CrmEntry, Rule, Synced};
use crate::parse::ical::Kind;
use crate::plan::calendar::{self as plan, Action, Body, Settings, Side};
use crate::plan::mail::Owner;
use crate::source::dav::{Collection, DavKind};
use crate::source::store::{self, Store, StoreError, find_collection, make_collection};
use crate::state::State;
use crate::state::calendar::Pair;

/// The calendar made when an account has none.
pub const DEFAULT_CALENDAR: &str = "Calendar";

// ---------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------

/// What a run wrote (or, dry run, would write), summed over every account.
#[derive(Debug, Default, Clone, Serialize)]
pub struct CalendarCounts {
    /// SPEC §8's keys (issue 15): writes in both directions together; the
    /// `*_in_crm` / `*_in_calendar` keys below say where.
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub created_in_crm: usize,
    pub updated_in_crm: usize,
    pub deleted_in_crm: usize,
    pub created_in_calendar: usize,
    pub updated_in_calendar: usize,
    pub deleted_in_calendar: usize,
    pub conflicts: usize,
    /// C12 and C7: items reported, not synced.
    pub reported: usize,
    /// Writes the server or the CRM refused (C12).
    pub failed: usize,
}

/// One item (or calendar) and what happened to it.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarItem {
    pub account: String,
    pub action: String,
    pub rule: Rule,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How one account's sync ended.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarStatus {
    Synced,
    Planned,
    Blocked,
    Failed,
}

/// One calendar account of the run.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarAccount {
    pub name: String,
    pub status: CalendarStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<String>,
    /// Calendar items listed / fetched (C5).
    pub listed: usize,
    pub fetched: usize,
}

/// What one run did: the report `sync-calendar` prints (and `import-mail`
/// embeds, W1).
#[derive(Debug, Serialize)]
pub struct CalendarReport {
    pub command: &'static str,
    pub dry_run: bool,
    pub counts: CalendarCounts,
    pub items: Vec<CalendarItem>,
    pub accounts: Vec<CalendarAccount>,
    pub errors: Vec<String>,
    /// Print every item, not only those that need attention.
    #[serde(skip)]
    pub all_rows: bool,
}

impl CalendarReport {
    /// The exit code: failed when every account failed, partial when one
    /// did or an item was refused or reported.
    pub fn exit(&self) -> Exit {
        let failed_accounts = self
            .accounts
            .iter()
            .filter(|a| matches!(a.status, CalendarStatus::Blocked | CalendarStatus::Failed))
            .count();
        let c = &self.counts;
        if failed_accounts == self.accounts.len() {
            Exit::Failed
        } else if failed_accounts > 0 || c.failed > 0 || c.reported > 0 || !self.errors.is_empty() {
            Exit::Partial
        } else {
            Exit::Ok
        }
    }
}

// ---------------------------------------------------------------------------
// What a run is asked to do, and whom it asks
// ---------------------------------------------------------------------------

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

/// What one run does beyond the config.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only events or only tasks (W1).
    pub kinds: Kinds,
    /// C9 `--send ID --as event|task`.
    pub send: Vec<(i64, Kind)>,
    /// C9 `--unlink ID`.
    pub unlink: Vec<i64>,
    /// `--conflict`, instead of `[calendar] conflict` (C6).
    pub conflict: Option<ConflictPolicy>,
    /// `--allow-mass-delete` (C7).
    pub allow_mass_delete: bool,
    /// Every item in the report's table, not only those needing attention.
    pub all_items: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            kinds: Kinds::ALL,
            send: Vec::new(),
            unlink: Vec::new(),
            conflict: None,
            allow_mass_delete: false,
            all_items: false,
        }
    }
}

/// C6 `ask`: a conflict for a person to decide.
pub struct Conflict<'a> {
    pub activity: i64,
    pub subject: &'a str,
    pub href: &'a str,
    /// The CRM's version and the calendar's, as the conflict log would
    /// keep them.
    pub crm: &'a str,
    pub calendar: &'a str,
}

/// The calendar engine's question.
pub trait Chooser {
    /// C6 `ask`: which side wins; None decides later (both versions stay,
    /// the conflict is reported).
    ///
    /// # Errors
    /// The terminal went away.
    fn conflict_winner(&mut self, c: &Conflict<'_>) -> Result<Option<Side>>;
}

/// Nobody to ask (no terminal, `--yes`, `--json`): every conflict waits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unattended;

impl Chooser for Unattended {
    fn conflict_winner(&mut self, _: &Conflict<'_>) -> Result<Option<Side>> {
        Ok(None)
    }
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

/// One run over `accounts` (already picked, never empty).
///
/// # Errors
/// Usage errors (an unknown activity to send or unlink, or one whose rep
/// has no account here), state file errors. An account that fails is in
/// the report, not an error.
pub fn run(
    cfg: &Config,
    st: &State,
    accounts: &[&DavAccount],
    opts: &Options,
    chooser: &mut dyn Chooser,
) -> Result<CalendarReport> {
    // C9: each activity to send or unlink belongs to the account of its rep.
    let mut send: BTreeMap<String, Vec<(CrmEntry, Kind)>> = BTreeMap::new();
    for (id, kind) in &opts.send {
        let e = st
            .calendar_entry(*id)?
            .ok_or_else(|| usage(format!("--send {id}: there is no activity {id}")))?;
        send.entry(rep_of(st, *id)?).or_default().push((e, *kind));
    }
    let mut unlink: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for id in &opts.unlink {
        if st.calendar_entry(*id)?.is_none() {
            return Err(usage(format!("--unlink {id}: there is no activity {id}")));
        }
        unlink.entry(rep_of(st, *id)?).or_default().push(*id);
    }
    for rep in send.keys().chain(unlink.keys()) {
        if !accounts.iter().any(|a| a.user() == rep) {
            return Err(usage(format!(
                "--send/--unlink: the activity's rep `{rep}` has no calendar account among those synced; add a [[calendar.accounts]] with user = \"{rep}\""
            )));
        }
    }
    let run = st.begin_run("sync-calendar")?;
    let mut report = CalendarReport {
        command: "sync-calendar",
        dry_run: !st.writable(),
        counts: CalendarCounts::default(),
        items: Vec::new(),
        accounts: Vec::new(),
        errors: Vec::new(),
        all_rows: !st.writable() || opts.all_items,
    };
    let mut sent_to: BTreeSet<String> = BTreeSet::new();
    for a in accounts {
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
        let account = match sync_account(cfg, st, a, opts, &req, chooser, &mut report) {
            Ok(r) => r,
            Err(e) => {
                let msg = format!("{e:#}");
                report.errors.push(format!("account `{}`: {msg}", a.name()));
                CalendarAccount {
                    name: a.name().to_string(),
                    status: if msg.contains("crmsync unblock") {
                        CalendarStatus::Blocked
                    } else {
                        CalendarStatus::Failed
                    },
                    calendar: None,
                    tasks: None,
                    listed: 0,
                    fetched: 0,
                }
            }
        };
        report.accounts.push(account);
    }
    st.end_run(run, report.exit(), &report.counts)?;
    Ok(report)
}

fn rep_of(st: &State, id: i64) -> Result<String> {
    st.activity_view(id)?
        .map(|v| v.rep)
        .with_context(|| format!("activity {id} disappeared"))
}

/// C9 requests for one account.
struct Requests<'a> {
    send: &'a [(CrmEntry, Kind)],
    unlink: &'a [i64],
}

/// The calendar (events) and task list of an account: configured by name,
/// else the first collection taking VEVENT (resp. VTODO), else one made
/// (X8: a dry run plans it instead).
fn pick_collections(
    st: &State,
    store: &Store,
    a: &DavAccount,
    report: &mut CalendarReport,
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
                report.items.push(CalendarItem {
                    account: a.name().to_string(),
                    action: "created calendar".into(),
                    rule: Rule::C1,
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
    cfg: &Config,
    st: &State,
    a: &DavAccount,
    opts: &Options,
    req: &Requests<'_>,
    chooser: &mut dyn Chooser,
    report: &mut CalendarReport,
) -> Result<CalendarAccount> {
    let name = a.name();
    let login = a.user();
    let matcher = Matcher::new(st, cfg)?;
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
    let (events, tasks) = pick_collections(st, &store, a, report).map_err(fail)?;
    lap("collections found");
    let mut account = CalendarAccount {
        name: name.to_string(),
        status: if st.writable() {
            CalendarStatus::Synced
        } else {
            CalendarStatus::Planned
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
    let pairs = st.calendar_pairs(name)?;
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
    let entries: Vec<CrmEntry> = st
        .calendar_entries(login, &linked)?
        .into_iter()
        .filter(|e| !away.contains(&e.id))
        .collect();
    lap("CRM side read");
    let mut view = apply::view(&store, st, name, &colls, &pairs, &entries).map_err(fail)?;
    lap("calendar side read");
    let (pairs, entries) = if opts.kinds == Kinds::ALL {
        (pairs, entries)
    } else {
        only_kinds(opts.kinds, pairs, entries, &mut view)
    };
    for (c, how) in &view.listings {
        crate::ui::debug(format!("{name}: {c}: {how}"));
    }
    account.listed = view.remote.len();
    account.fetched = view.fetched;
    let matches = match_addresses(&view, &matcher)?;
    let state: Vec<Synced> = pairs.iter().map(|p| p.synced.clone()).collect();
    let mut settings = Settings {
        conflict: opts.conflict.unwrap_or(cfg.calendar.conflict),
        max_delete_percent: cfg.calendar.max_delete_percent,
        allow_mass_delete: opts.allow_mass_delete,
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
    // C6 ask: the chooser decides; unattended, both stay.
    if settings.conflict == ConflictPolicy::Ask {
        ask_conflicts(chooser, &actions, &entries, &mut settings.decided)?;
        if !settings.decided.is_empty() {
            actions = plan::plan(&input, &owner, &settings);
        }
    }
    lap("planned");
    // Collections with something not carried out keep their old cursor
    // (all of them when a kind was left out, W1).
    let mut unclean: BTreeSet<String> = BTreeSet::new();
    if opts.kinds != Kinds::ALL {
        unclean.extend(colls.iter().map(|(c, _)| c.clone()));
    }
    let item_of = report_plan(
        name,
        &actions,
        &entries,
        &view,
        &colls,
        &mut unclean,
        report,
    );
    if !st.writable() {
        // X8: plan, report, return.
        tally(&mut report.counts, &actions, &HashMap::new(), true);
        return Ok(account);
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
    let result = apply::execute(
        &store,
        st,
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
    crate::ui::done(&bar);
    let wrote = report_outcomes(
        &actions,
        &outcomes,
        &item_of,
        &target,
        &view,
        &mut unclean,
        report,
    );
    tally(&mut report.counts, &actions, &outcomes, false);
    if let Err(e) = result {
        // The account stopped (server gone, X5): the writes not reached
        // are not done; the next run plans them again.
        for (i, act) in actions.iter().enumerate() {
            if let (true, false, Some(k)) =
                (act.writes(), outcomes.contains_key(&i), item_of.get(&i))
            {
                report.items[*k].action = "not done".into();
                report.items[*k].reason =
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
    apply::advance(&store, st, name, &view, &clean, &wrote)?;
    lap("applied");
    Ok(account)
}

/// W1: only events or only tasks. Pairs of the other kind (known from
/// their activity's type, else from the fetched item) are out of this run
/// on both sides; the cursors stay, so nothing is missed later.
fn only_kinds(
    kinds: Kinds,
    pairs: Vec<Pair>,
    entries: Vec<CrmEntry>,
    view: &mut View,
) -> (Vec<Pair>, Vec<CrmEntry>) {
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
}

/// C2: the ORGANIZER and ATTENDEE addresses, matched once each.
fn match_addresses(view: &View, matcher: &Matcher<'_>) -> Result<HashMap<String, AddressMatch>> {
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
    Ok(matches)
}

/// C6 ask: each undecided conflict goes to the chooser; its answers land
/// in `decided`.
fn ask_conflicts(
    chooser: &mut dyn Chooser,
    actions: &[Action],
    entries: &[CrmEntry],
    decided: &mut HashMap<i64, Side>,
) -> Result<()> {
    for a in actions {
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
            let c = Conflict {
                activity: *activity,
                subject: &subject,
                href,
                crm: crm_v.map(|l| l.data.as_str()).unwrap_or(""),
                calendar: gw_v.map(|l| l.data.as_str()).unwrap_or(""),
            };
            if let Some(side) = chooser.conflict_winner(&c)? {
                decided.insert(*activity, side);
            }
        }
    }
    Ok(())
}

/// The plan into the report: one row per write, report, held-back deletion
/// or conflict; what is reported marks its collection unclean (the cursor
/// stays). Returns the row of each action.
fn report_plan(
    account: &str,
    actions: &[Action],
    entries: &[CrmEntry],
    view: &View,
    colls: &[(String, Option<String>)],
    unclean: &mut BTreeSet<String>,
    report: &mut CalendarReport,
) -> HashMap<usize, usize> {
    let subject_of = |id: Option<i64>| {
        id.and_then(|id| entries.iter().find(|e| e.id == id))
            .map(|e| e.fields.subject.clone())
    };
    let coll_of = |href: &Option<String>| {
        href.as_ref()
            .and_then(|h| view.collection_of.get(h).cloned())
    };
    // Action index -> its row in the report.
    let mut item_of: HashMap<usize, usize> = HashMap::new();
    for (i, act) in actions.iter().enumerate() {
        let (action, activity, href, uid, reason, subject) = describe(act);
        let subject = subject.or_else(|| subject_of(activity));
        match act {
            Action::Report { .. } | Action::MassDeleteStop { .. } => {
                report.counts.reported += 1;
                match coll_of(&href) {
                    Some(c) => {
                        unclean.insert(c);
                    }
                    None => unclean.extend(colls.iter().map(|(c, _)| c.clone())),
                }
            }
            Action::Conflict { winner: None, .. } => {
                report.counts.reported += 1;
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
            item_of.insert(i, report.items.len());
            report.items.push(CalendarItem {
                account: account.to_string(),
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
    item_of
}

/// What became of each write, into the report's rows; a failed one marks
/// its collection unclean. Returns the collections the server wrote to
/// (their ctag and token moved).
fn report_outcomes(
    actions: &[Action],
    outcomes: &HashMap<usize, Outcome>,
    item_of: &HashMap<usize, usize>,
    target: &Target<'_>,
    view: &View,
    unclean: &mut BTreeSet<String>,
    report: &mut CalendarReport,
) -> BTreeSet<String> {
    let mut wrote: BTreeSet<String> = BTreeSet::new();
    for (i, o) in outcomes {
        let act = &actions[*i];
        let href = match act {
            Action::CreateOnServer {
                kind, name: file, ..
            } => Some(match kind {
                Kind::Event => format!("{}{file}", target.events),
                Kind::Todo => format!("{}{file}", target.tasks),
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
                    report.items[*k].activity = Some(*id);
                }
            }
            Outcome::Failed(why) => {
                unclean.extend(coll);
                if let Some(k) = item_of.get(i) {
                    report.items[*k].action = "failed".into();
                    report.items[*k].reason = Some(why.clone());
                }
            }
        }
    }
    wrote
}

/// Counts what was done (or, in a dry run, planned). Issue 9: `dry` is
/// passed, not guessed from empty outcomes: a run stopped at its first
/// write counted every planned write as done.
fn tally(
    c: &mut CalendarCounts,
    actions: &[Action],
    outcomes: &HashMap<usize, Outcome>,
    dry: bool,
) {
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

/// One action for the report: (action, activity, href, uid, reason, subject).
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
            rule: Rule::C7,
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
            rule: Rule::C7,
            activity,
            href: format!("/c/{activity}.ics"),
            if_match: "\"e\"".into(),
        };
        let actions = vec![
            Action::DeleteInCrm {
                rule: Rule::C7,
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
        let mut c = CalendarCounts::default();
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
