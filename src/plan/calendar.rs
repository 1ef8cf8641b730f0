//! The sync-calendar planner (SPEC 4: C1-C12): a pure three-way function
//! from the groupware side now (each calendar resource: href, ETag, parsed
//! item or parse error), the CRM side now (the user's calendar activities
//! with their [`CrmFields`]) and the last agreed state (one [`Synced`] row
//! per linked pair, from `item_map`) to a sorted list of [`Action`]s.
//!
//! Terms:
//! - a *pair* is a calendar resource and the CRM activity it is linked to;
//! - a side *changed* when its content hash differs from the one agreed at
//!   the last sync: [`ical::content_hash`] for the groupware side (which
//!   ignores DTSTAMP and other volatile properties), [`crm_hash`] for the
//!   CRM side. An ETag change alone is not a change (C11);
//! - the *projection* of a calendar item ([`project`]) is what the CRM
//!   stores of it. When a change on one side leaves the projection equal
//!   to the other side, nothing is written, the new state is remembered.
//!
//! Never lose an edit (STYLE 6): a delete travels only when the other
//! side is unchanged since the last sync; an edit against a delete
//! re-creates; both changed is a conflict whose loser goes to the conflict
//! log; a side that suddenly holds nothing is not propagated.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::ConflictPolicy;
use crate::matching::AddressMatch;
use crate::model::{
    Attach, CalAddress, CalTime, CrmEntry, CrmFields, Flag, Override, Participant, Props, Queued,
    Rule, Synced, reason,
};
use crate::parse::ical::{self, CalItem, Kind};
use crate::plan::mail::Owner;

/// A side of the sync. As text: `crm`, `groupware` (the `conflicts.loser`
/// column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Crm,
    Groupware,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Crm => "crm",
            Side::Groupware => "groupware",
        }
    }
}

/// What the server holds of a resource that was listed (C5).
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Not fetched: the listing's ETag equals the state's (see [`to_fetch`]).
    NotFetched,
    /// Fetched and parsed: one item per UID.
    Parsed(Vec<CalItem>),
    /// Fetched, but it does not parse (C12); the text says why.
    Broken(String),
}

/// A calendar resource on the server now.
#[derive(Debug, Clone, PartialEq)]
pub struct Remote {
    pub href: String,
    pub etag: String,
    pub body: Body,
}

/// Settings after defaults (SPEC 8 `[calendar]`, `[crm] link`, flags).
#[derive(Debug, Clone)]
pub struct Settings {
    pub conflict: ConflictPolicy,
    pub max_delete_percent: u8,
    /// `--allow-mass-delete` (C7).
    pub allow_mass_delete: bool,
    /// `[crm] link`, a URL template with `{id}` (C8).
    pub crm_link: Option<String>,
    /// The user's display name, for ORGANIZER (C3).
    pub owner_name: Option<String>,
    /// DTSTAMP / LAST-MODIFIED of what this run writes.
    pub now: DateTime<Utc>,
    /// C6 `ask`: the side the person chose, by activity.
    pub decided: HashMap<i64, Side>,
}

/// Everything the rules look at, gathered by the command.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Every resource of the user's calendar and task list.
    pub remote: &'a [Remote],
    /// The user's activities of the C1 types, plus every activity linked
    /// in `state` whatever its type (a C9-sent one missing here would
    /// read as deleted in the CRM).
    pub crm: &'a [CrmEntry],
    pub state: &'a [Synced],
    /// Matches of ORGANIZER/ATTENDEE addresses, by normalised address;
    /// an address missing here counts as unknown.
    pub matches: &'a HashMap<String, AddressMatch>,
    /// C9 `--send ID --as event|task`.
    pub send: &'a [(CrmEntry, Kind)],
    /// C9 `--unlink ID`: the calendar entry goes, the activity stays.
    pub unlink: &'a [i64],
}

/// The state to record for a pair once its action succeeded. The ETag
/// comes from the server's answer (or the listing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub gw_hash: String,
    pub crm_hash: String,
    pub link_pending: bool,
}

/// A losing version for the conflict log (C6), as the `conflicts` row
/// wants it: `loser` and `data` (the iCalendar text or the CRM fields as
/// JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Loser {
    pub side: Side,
    pub data: String,
}

/// Which item a report is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ItemRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// One step of the plan. Every variant names its SPEC rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// C2: a new calendar item becomes an activity of the user, attached
    /// to their own person record. With `link`, the C8 link is written
    /// into the item after the commit ([`link_item`]) and stays pending
    /// in the state until then.
    CreateInCrm {
        rule: Rule,
        href: String,
        etag: String,
        uid: String,
        kind: Kind,
        activity_type: &'static str,
        fields: CrmFields,
        attach: Attach,
        rep: String,
        flags: Vec<Flag>,
        queue: Vec<Queued>,
        link: bool,
        #[serde(skip)]
        item: Box<CalItem>,
        record: Record,
    },
    /// C2: the calendar item changed: the activity follows. `flags` are the
    /// complete `unidentified_attendee` flags now (replace the old ones).
    UpdateCrm {
        rule: Rule,
        activity: i64,
        href: String,
        etag: String,
        fields: CrmFields,
        flags: Vec<Flag>,
        queue: Vec<Queued>,
        record: Record,
    },
    /// C7: deleted in the calendar, unchanged in the CRM since.
    DeleteInCrm {
        rule: Rule,
        activity: i64,
        href: String,
    },
    /// C3/C9: a CRM activity becomes a calendar item. `name` is the file
    /// name in the collection for `kind` (If-None-Match: *).
    CreateOnServer {
        rule: Rule,
        activity: i64,
        kind: Kind,
        uid: String,
        name: String,
        ics: String,
        record: Record,
    },
    /// C3/C8: the calendar item gets the CRM's changes (PUT, If-Match).
    UpdateServer {
        rule: Rule,
        activity: i64,
        href: String,
        if_match: String,
        ics: String,
        record: Record,
    },
    /// C7/C9: the calendar item goes (DELETE, If-Match); so does the pair.
    DeleteOnServer {
        rule: Rule,
        activity: i64,
        href: String,
        if_match: String,
    },
    /// C6: both sides changed. The winner's action follows in the plan;
    /// the losers go to the conflict log. `winner` None (`ask`): nothing
    /// is written, both versions are kept for the person to decide.
    Conflict {
        rule: Rule,
        activity: i64,
        href: String,
        policy: &'static str,
        winner: Option<Side>,
        why: String,
        losers: Vec<Loser>,
    },
    /// C12 (and C5, C9): an item that cannot be synced; the run goes on.
    Report {
        rule: Rule,
        item: ItemRef,
        problem: String,
    },
    /// C7 (STYLE 6): the run would delete `count` of `total` synced items
    /// on `side`; no deletes are in the plan.
    MassDeleteStop {
        rule: Rule,
        side: Side,
        count: usize,
        total: usize,
    },
    /// State only (C11): nothing to write; remember the new ETag and hashes.
    Remember {
        rule: Rule,
        activity: i64,
        href: String,
        etag: String,
        record: Record,
    },
    /// State only: the pair is gone on both sides (or its activity was a
    /// C9-sent one whose calendar entry went).
    Forget {
        rule: Rule,
        activity: i64,
        href: String,
    },
}

impl Action {
    /// The SPEC rule behind this step.
    pub fn rule(&self) -> Rule {
        match self {
            Action::CreateInCrm { rule, .. }
            | Action::UpdateCrm { rule, .. }
            | Action::DeleteInCrm { rule, .. }
            | Action::CreateOnServer { rule, .. }
            | Action::UpdateServer { rule, .. }
            | Action::DeleteOnServer { rule, .. }
            | Action::Conflict { rule, .. }
            | Action::Report { rule, .. }
            | Action::MassDeleteStop { rule, .. }
            | Action::Remember { rule, .. }
            | Action::Forget { rule, .. } => *rule,
        }
    }

    /// True for the steps that write to a server or the CRM (X8 dry-run
    /// prints these; C11 wants none on a second run).
    pub fn writes(&self) -> bool {
        matches!(
            self,
            Action::CreateInCrm { .. }
                | Action::UpdateCrm { .. }
                | Action::DeleteInCrm { .. }
                | Action::CreateOnServer { .. }
                | Action::UpdateServer { .. }
                | Action::DeleteOnServer { .. }
        )
    }

    /// Order of the plan: reports and guards first, then conflicts, then
    /// creates and updates, deletes last (a run killed half-way has lost
    /// nothing), state-only steps at the end; within a kind by item.
    fn sort_key(&self) -> (u8, String, i64) {
        match self {
            Action::Report { item, .. } => (
                0,
                item.href.clone().unwrap_or_default(),
                item.activity.unwrap_or(0),
            ),
            Action::MassDeleteStop { side, .. } => (1, side.as_str().into(), 0),
            Action::Conflict { href, activity, .. } => (2, href.clone(), *activity),
            Action::CreateInCrm { href, .. } => (3, href.clone(), 0),
            Action::UpdateCrm { href, activity, .. } => (4, href.clone(), *activity),
            Action::CreateOnServer { name, activity, .. } => (5, name.clone(), *activity),
            Action::UpdateServer { href, activity, .. } => (6, href.clone(), *activity),
            Action::DeleteInCrm { href, activity, .. } => (7, href.clone(), *activity),
            Action::DeleteOnServer { href, activity, .. } => (8, href.clone(), *activity),
            Action::Remember { href, activity, .. } => (9, href.clone(), *activity),
            Action::Forget { href, activity, .. } => (10, href.clone(), *activity),
        }
    }
}

fn policy_name(p: ConflictPolicy) -> &'static str {
    match p {
        ConflictPolicy::NewestWins => "newest-wins",
        ConflictPolicy::CrmWins => "crm-wins",
        ConflictPolicy::GroupwareWins => "groupware-wins",
        ConflictPolicy::Ask => "ask",
    }
}

/// The calendar component an activity type becomes (C1): tasks and
/// follow-ups are VTODOs, appointments and meetings VEVENTs. None for
/// other types (they reach the calendar only through C9).
pub fn kind_of(activity_type: &str) -> Option<Kind> {
    match activity_type {
        "appointment" | "meeting" => Some(Kind::Event),
        "task" | "follow_up" => Some(Kind::Todo),
        _ => None,
    }
}

/// The CRM link of an activity (C8).
pub fn link_url(template: &str, activity: i64) -> String {
    template.replace("{id}", &activity.to_string())
}

/// The description without a trailing C8 link.
fn strip_link(text: Option<&str>, url: Option<&str>) -> Option<String> {
    let t = text?;
    let t = match url {
        Some(u) if !u.is_empty() => match t.trim_end().strip_suffix(u) {
            Some(rest) => rest.trim_end(),
            None => t,
        },
        _ => t,
    };
    (!t.is_empty()).then(|| t.to_string())
}

fn has_link(text: Option<&str>, url: &str) -> bool {
    !url.is_empty() && text.is_some_and(|t| t.contains(url))
}

/// The description with the C8 link appended (after a blank line).
fn with_link(text: Option<&str>, url: &str) -> String {
    match text.map(str::trim_end).filter(|t| !t.is_empty()) {
        Some(t) => format!("{t}\n\n{url}"),
        None => url.to_string(),
    }
}

/// C8: the item with the CRM link added to its description, or None when
/// it is there already. The apply step calls it after committing a
/// [`Action::CreateInCrm`] with `link`, then writes it with If-Match.
pub fn link_item(item: &CalItem, url: &str, now: DateTime<Utc>) -> Option<CalItem> {
    if has_link(item.props.description.as_deref(), url) {
        return None;
    }
    let mut it = item.clone();
    it.props.description = Some(with_link(it.props.description.as_deref(), url));
    it.props.last_modified = Some(now);
    it.props.dtstamp = Some(now);
    Some(it)
}

/// Fields in the form they are compared and hashed in: empty text is no
/// text, participants by address (sorted, without the address-less),
/// instances sorted and without the volatile properties.
fn normalized(f: &CrmFields) -> CrmFields {
    let mut participants: Vec<Participant> = f
        .participants
        .iter()
        .filter(|p| !p.address.is_empty())
        .map(|p| Participant {
            address: p.address.clone(),
            person_id: None,
        })
        .collect();
    participants.sort_by(|a, b| a.address.cmp(&b.address));
    participants.dedup_by(|a, b| a.address == b.address);
    let mut overrides: Vec<Override> = f.overrides.iter().map(override_fields).collect();
    overrides.sort_by(|a, b| a.recurrence_id.cmp(&b.recurrence_id));
    CrmFields {
        subject: f.subject.trim().to_string(),
        text: f.text.clone().filter(|t| !t.trim().is_empty()),
        start: f.start.clone(),
        end: f.end.clone(),
        due: f.due.clone(),
        rrule: f.rrule.clone().filter(|r| !r.trim().is_empty()),
        rdate: f.rdate.clone(),
        exdate: f.exdate.clone(),
        overrides,
        participants,
    }
}

/// The part of an overridden instance the CRM holds.
fn override_fields(o: &Override) -> Override {
    Override {
        recurrence_id: o.recurrence_id.clone(),
        this_and_future: o.this_and_future,
        props: Props {
            summary: o.props.summary.clone().filter(|s| !s.is_empty()),
            description: o.props.description.clone().filter(|s| !s.is_empty()),
            start: o.props.start.clone(),
            end: o.props.effective_end(),
            due: o.props.due.clone(),
            ..Props::default()
        },
    }
}

/// SHA-256 (hex) of what the CRM stores of an activity, as compared by
/// the planner: the record to keep in the state after a CRM write.
pub fn crm_hash(fields: &CrmFields) -> String {
    let json = serde_json::to_string(&normalized(fields)).unwrap_or_default();
    hex::encode(Sha256::digest(json.as_bytes()))
}

fn same(a: &CrmFields, b: &CrmFields) -> bool {
    normalized(a) == normalized(b)
}

/// C2: the participants, flags and queue entries of a calendar item's
/// ORGANIZER and ATTENDEEs (the user excluded): uniquely identified ones
/// take part as persons; the others take part as raw addresses, flag the
/// activity and are queued, except ignored addresses (never, M14) and
/// automated, own-domain and internal ones (never queued, M18).
fn parties(
    item_props: &[&Props],
    owner: &Owner,
    matches: &HashMap<String, AddressMatch>,
) -> (Vec<Participant>, Vec<Flag>, Vec<Queued>) {
    let mut seen = HashSet::new();
    let (mut ps, mut flags, mut queue) = (Vec::new(), Vec::new(), Vec::new());
    let all = item_props
        .iter()
        .flat_map(|p| p.organizer.iter().chain(p.attendees.iter()));
    for a in all {
        let addr = a.address.clone();
        if addr.is_empty() || owner.addresses.contains(&addr) || !seen.insert(addr.clone()) {
            continue;
        }
        let m = matches.get(&addr);
        if m.is_some_and(|m| m.ignored) {
            continue;
        }
        let person_id = m.and_then(AddressMatch::person_id);
        ps.push(Participant {
            address: addr.clone(),
            person_id,
        });
        let quiet = m.is_some_and(|m| m.automated || m.own_domain || m.user.is_some());
        if person_id.is_none() && !quiet {
            flags.push(Flag {
                reason: reason::UNIDENTIFIED_ATTENDEE,
                address: addr.clone(),
            });
            queue.push(Queued {
                address: addr,
                display_name: a.cn.clone(),
            });
        }
    }
    (ps, flags, queue)
}

/// What the CRM stores of a calendar item (C2, C4), with the C2 flags and
/// queue entries. `link` is the item's C8 link, which is not CRM text.
/// An item with only overridden instances takes its texts and times
/// from the first of them.
pub fn project(
    item: &CalItem,
    owner: &Owner,
    matches: &HashMap<String, AddressMatch>,
    link: Option<&str>,
) -> (CrmFields, Vec<Flag>, Vec<Queued>) {
    let main = if item.has_master {
        &item.props
    } else {
        item.overrides
            .first()
            .map(|o| &o.props)
            .unwrap_or(&item.props)
    };
    let mut all: Vec<&Props> = vec![&item.props];
    all.extend(item.overrides.iter().map(|o| &o.props));
    let (participants, flags, queue) = parties(&all, owner, matches);
    let fields = CrmFields {
        subject: main.summary.clone().unwrap_or_default(),
        text: strip_link(main.description.as_deref(), link),
        start: main.start.clone(),
        end: main.effective_end(),
        due: main.due.clone(),
        rrule: item.props.rrule.clone(),
        rdate: item.props.rdate.clone(),
        exdate: item.props.exdate.clone(),
        overrides: item.overrides.iter().map(override_fields).collect(),
        participants,
    };
    (fields, flags, queue)
}

/// Applies an instance's CRM fields onto the server's version of it.
fn apply_override(base: &Props, crm: &Props) -> Props {
    let mut p = base.clone();
    let cur = override_fields(&Override {
        recurrence_id: CalTime::Date(chrono::NaiveDate::MIN),
        this_and_future: false,
        props: base.clone(),
    })
    .props;
    if cur.summary != crm.summary {
        p.summary = crm.summary.clone();
    }
    if cur.description != crm.description {
        p.description = crm.description.clone();
    }
    if cur.start != crm.start {
        p.start = crm.start.clone();
    }
    if cur.end != crm.end {
        p.set_end(crm.end.clone());
    }
    if cur.due != crm.due {
        p.due = crm.due.clone();
    }
    p
}

/// C3: the calendar item with the CRM's fields applied onto `base` (the
/// server's version, or a new item). Only fields that differ from the
/// projection of `base` are touched, so properties the CRM does not model
/// stay (C10). Attendees the CRM does not model (the user, ignored
/// addresses) stay; ORGANIZER becomes the user when the item has
/// attendees and no organizer. `link`: the activity's C8 URL; `add_link`
/// writes it into the description (a description that had it keeps it).
fn apply_crm(
    base: &CalItem,
    crm: &CrmFields,
    ctx: &Ctx<'_>,
    link: Option<&str>,
    add_link: bool,
) -> CalItem {
    let (owner, matches, now) = (ctx.owner, ctx.matches, ctx.now);
    let (cur, _, _) = project(base, owner, matches, link);
    let (cur, want) = (normalized(&cur), normalized(crm));
    let mut it = base.clone();
    let p = &mut it.props;
    if cur.subject != want.subject {
        p.summary = (!want.subject.is_empty()).then(|| want.subject.clone());
    }
    let link_kept = link.is_some_and(|u| has_link(p.description.as_deref(), u));
    if cur.text != want.text {
        p.description = match (link, link_kept) {
            (Some(u), true) => Some(with_link(want.text.as_deref(), u)),
            _ => want.text.clone(),
        };
    }
    if add_link
        && let Some(u) = link
        && !has_link(p.description.as_deref(), u)
    {
        p.description = Some(with_link(p.description.as_deref(), u));
    }
    if cur.start != want.start {
        p.start = want.start.clone();
    }
    if cur.end != want.end {
        p.set_end(want.end.clone());
    }
    if cur.due != want.due {
        p.due = want.due.clone();
    }
    if cur.rrule != want.rrule {
        p.rrule = want.rrule.clone();
    }
    if cur.rdate != want.rdate {
        p.rdate = want.rdate.clone();
    }
    if cur.exdate != want.exdate {
        p.exdate = want.exdate.clone();
    }
    if cur.participants != want.participants {
        let wanted: Vec<&str> = want
            .participants
            .iter()
            .map(|x| x.address.as_str())
            .collect();
        // Keep what the CRM does not model, and who is still wanted.
        p.attendees.retain(|a| {
            owner.addresses.contains(&a.address)
                || matches.get(&a.address).is_some_and(|m| m.ignored)
                || wanted.contains(&a.address.as_str())
        });
        for w in &wanted {
            let is_org = p.organizer.as_ref().is_some_and(|o| o.address == *w);
            if !is_org && !p.attendees.iter().any(|a| a.address == *w) {
                p.attendees.push(CalAddress {
                    address: (*w).to_string(),
                    cn: None,
                    partstat: Some("NEEDS-ACTION".into()),
                });
            }
        }
        if p.organizer.is_none()
            && !p.attendees.is_empty()
            && let Some(me) = owner.addresses.first()
        {
            p.organizer = Some(CalAddress {
                address: me.clone(),
                cn: ctx.owner_name.map(str::to_string),
                partstat: None,
            });
        }
    }
    if cur.overrides != want.overrides {
        let mut out = Vec::new();
        for w in &want.overrides {
            match base.override_for(&w.recurrence_id) {
                Some(b) => out.push(Override {
                    recurrence_id: b.recurrence_id.clone(),
                    this_and_future: b.this_and_future,
                    props: apply_override(&b.props, &w.props),
                }),
                None => {
                    let mut props = w.props.clone();
                    props.dtstamp = Some(now);
                    out.push(Override {
                        recurrence_id: w.recurrence_id.clone(),
                        this_and_future: w.this_and_future,
                        props,
                    });
                }
            }
        }
        it.overrides = out;
    }
    if it != *base {
        it.props.last_modified = Some(now);
        it.props.dtstamp = Some(now);
    }
    it
}

/// Who and when, for [`apply_crm`].
struct Ctx<'a> {
    owner: &'a Owner,
    owner_name: Option<&'a str>,
    matches: &'a HashMap<String, AddressMatch>,
    now: DateTime<Utc>,
}

/// The calendar item a CRM activity stands for, as C3 would create it
/// (no C8 link): for listing its occurrences (C4).
pub fn crm_item(c: &CrmEntry, kind: Kind, owner: &Owner, now: DateTime<Utc>) -> CalItem {
    let uid = c.uid.clone().unwrap_or_else(|| new_uid(owner, c.id));
    let matches = HashMap::new();
    let ctx = Ctx {
        owner,
        owner_name: None,
        matches: &matches,
        now,
    };
    apply_crm(&CalItem::new(uid, kind, now), &c.fields, &ctx, None, false)
}

/// The UID a CRM activity gets in the calendar when it has none.
fn new_uid(owner: &Owner, activity: i64) -> String {
    format!("crmsync-{}-{activity}@crmsync", owner.login)
}

/// A file name for a UID: safe characters only, `.ics`.
fn file_name(uid: &str) -> String {
    let base: String = uid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{base}.ics")
}

/// The hrefs whose bodies [`plan`] needs (C5): those the state does not
/// know, those whose ETag changed, and unchanged ones it may write to (the
/// CRM side changed, or the C8 link is owed). `listing`: (href, ETag).
pub fn to_fetch(listing: &[(String, String)], state: &[Synced], crm: &[CrmEntry]) -> Vec<String> {
    let by_href: HashMap<&str, &Synced> = state.iter().map(|s| (s.href.as_str(), s)).collect();
    let by_id: HashMap<i64, &CrmEntry> = crm.iter().map(|c| (c.id, c)).collect();
    listing
        .iter()
        .filter(|(href, etag)| match by_href.get(href.as_str()) {
            None => true,
            Some(s) => {
                s.etag.as_deref() != Some(etag.as_str())
                    || s.link_pending
                    || by_id
                        .get(&s.activity)
                        .is_some_and(|c| crm_hash(&c.fields) != s.crm_hash)
            }
        })
        .map(|(h, _)| h.clone())
        .collect()
}

/// The groupware side of a pair now.
enum GwNow<'a> {
    /// Same ETag, not fetched.
    Unchanged,
    /// Fetched; `changed` when its content differs from the agreed state.
    Fetched {
        item: &'a CalItem,
        hash: String,
        changed: bool,
    },
}

struct Planner<'a> {
    input: &'a Input<'a>,
    owner: &'a Owner,
    settings: &'a Settings,
    out: Vec<Action>,
}

impl Planner<'_> {
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            owner: self.owner,
            owner_name: self.settings.owner_name.as_deref(),
            matches: self.input.matches,
            now: self.settings.now,
        }
    }

    fn link(&self, activity: i64) -> Option<String> {
        self.settings
            .crm_link
            .as_deref()
            .map(|t| link_url(t, activity))
    }

    fn report(&mut self, rule: Rule, item: ItemRef, problem: String) {
        self.out.push(Action::Report {
            rule,
            item,
            problem,
        });
    }

    /// C3 (C7 re-create, C9 send): a CRM activity becomes a calendar item.
    fn create_on_server(&mut self, rule: Rule, c: &CrmEntry, kind: Kind) {
        let uid = c.uid.clone().unwrap_or_else(|| new_uid(self.owner, c.id));
        let base = CalItem::new(uid.clone(), kind, self.settings.now);
        let link = self.link(c.id);
        let item = apply_crm(
            &base,
            &c.fields,
            &self.ctx(),
            link.as_deref(),
            link.is_some(),
        );
        self.out.push(Action::CreateOnServer {
            rule,
            activity: c.id,
            kind,
            name: file_name(&uid),
            ics: ical::write(&item),
            record: Record {
                gw_hash: ical::content_hash(&item),
                crm_hash: crm_hash(&c.fields),
                link_pending: false,
            },
            uid,
        });
    }

    /// C2 (C7 re-create): a calendar item becomes an activity.
    fn create_in_crm(&mut self, rule: Rule, r: &Remote, item: &CalItem) {
        let (fields, flags, queue) = project(item, self.owner, self.input.matches, None);
        let activity_type = match item.kind {
            Kind::Todo => "task",
            Kind::Event if fields.participants.is_empty() => "appointment",
            Kind::Event => "meeting",
        };
        let link = self.settings.crm_link.is_some();
        self.out.push(Action::CreateInCrm {
            rule,
            href: r.href.clone(),
            etag: r.etag.clone(),
            uid: item.uid.clone(),
            kind: item.kind,
            activity_type,
            record: Record {
                gw_hash: ical::content_hash(item),
                crm_hash: crm_hash(&fields),
                link_pending: link,
            },
            fields,
            attach: Attach::Person(self.owner.person_id),
            rep: self.owner.login.clone(),
            flags,
            queue,
            link,
            item: Box::new(item.clone()),
        });
    }

    fn update_crm(&mut self, rule: Rule, s: &Synced, r: &Remote, item: &CalItem, hash: &str) {
        let link = self.link(s.activity);
        let (fields, flags, queue) = project(item, self.owner, self.input.matches, link.as_deref());
        self.out.push(Action::UpdateCrm {
            rule,
            activity: s.activity,
            href: r.href.clone(),
            etag: r.etag.clone(),
            record: Record {
                gw_hash: hash.to_string(),
                crm_hash: crm_hash(&fields),
                link_pending: s.link_pending,
            },
            fields,
            flags,
            queue,
        });
    }

    /// C3 (C8): the CRM's fields onto the server's item. Nothing is
    /// written when the result has the same content (C11).
    fn update_server(&mut self, rule: Rule, s: &Synced, r: &Remote, item: &CalItem, c: &CrmEntry) {
        if let Some(k) = kind_of(&c.activity_type)
            && k != item.kind
        {
            // C12: a component cannot change its type in place.
            self.report(
                Rule::C12,
                ItemRef {
                    href: Some(r.href.clone()),
                    activity: Some(c.id),
                    uid: Some(item.uid.clone()),
                },
                format!(
                    "the activity is now a {} but the calendar holds it as a {}; run `--unlink {}` and then `--send {} --as {}`",
                    c.activity_type,
                    item.kind.component(),
                    c.id,
                    c.id,
                    if k == Kind::Todo { "task" } else { "event" },
                ),
            );
            return;
        }
        if !item.has_master {
            self.report(
                Rule::C12,
                ItemRef {
                    href: Some(r.href.clone()),
                    activity: Some(c.id),
                    uid: Some(item.uid.clone()),
                },
                "the calendar holds only single instances of someone else's series; change it in the calendar".into(),
            );
            return;
        }
        let link = self.link(s.activity);
        let new = apply_crm(
            item,
            &c.fields,
            &self.ctx(),
            link.as_deref(),
            s.link_pending,
        );
        let gw_hash = ical::content_hash(&new);
        let record = Record {
            gw_hash: gw_hash.clone(),
            crm_hash: crm_hash(&c.fields),
            link_pending: false,
        };
        if gw_hash == ical::content_hash(item) {
            // C11: the calendar already says what the CRM says.
            self.out.push(Action::Remember {
                rule: Rule::C11,
                activity: s.activity,
                href: r.href.clone(),
                etag: r.etag.clone(),
                record,
            });
        } else {
            self.out.push(Action::UpdateServer {
                rule,
                activity: s.activity,
                href: r.href.clone(),
                if_match: r.etag.clone(),
                ics: ical::write(&new),
                record,
            });
        }
    }

    fn remember(&mut self, rule: Rule, s: &Synced, r: &Remote, gw_hash: &str, crm: &str) {
        self.out.push(Action::Remember {
            rule,
            activity: s.activity,
            href: r.href.clone(),
            etag: r.etag.clone(),
            record: Record {
                gw_hash: gw_hash.to_string(),
                crm_hash: crm.to_string(),
                link_pending: s.link_pending,
            },
        });
    }

    /// C6: both sides changed and disagree.
    fn conflict(&mut self, s: &Synced, r: &Remote, item: &CalItem, hash: &str, c: &CrmEntry) {
        let policy = self.settings.conflict;
        let gw_time = item.modified_at();
        let (winner, why) = match policy {
            // C6 crm-wins: the CRM's version goes to the calendar.
            ConflictPolicy::CrmWins => (Some(Side::Crm), "conflict = crm-wins".to_string()),
            // C6 groupware-wins: the calendar's version goes to the CRM.
            ConflictPolicy::GroupwareWins => (
                Some(Side::Groupware),
                "conflict = groupware-wins".to_string(),
            ),
            ConflictPolicy::NewestWins => match gw_time {
                // C6 newest-wins: the calendar changed later.
                Some(g) if g > c.updated_at => (
                    Some(Side::Groupware),
                    format!(
                        "newest wins: the calendar changed at {g}, the CRM at {}",
                        c.updated_at
                    ),
                ),
                // C6 newest-wins: the CRM changed later, or at the same
                // second (the CRM is the record).
                Some(g) => (
                    Some(Side::Crm),
                    format!(
                        "newest wins: the CRM changed at {}, the calendar at {g}",
                        c.updated_at
                    ),
                ),
                // No LAST-MODIFIED or DTSTAMP: the CRM is the record.
                None => (
                    Some(Side::Crm),
                    "newest wins: the calendar item has no LAST-MODIFIED; the CRM wins".to_string(),
                ),
            },
            // C6 ask: the person decides (the wizard, or the next run
            // with another policy); unattended, nothing is written.
            ConflictPolicy::Ask => match self.settings.decided.get(&c.id) {
                // C6 ask, answered: the side the person chose.
                Some(side) => (
                    Some(*side),
                    format!(
                        "conflict = ask: the person chose the {} version",
                        side.as_str()
                    ),
                ),
                None => (None, "conflict = ask: both versions kept".to_string()),
            },
        };
        let crm_data = serde_json::to_string(c).unwrap_or_default();
        let gw_data = ical::write(item);
        // C6: the losing version is logged, never just dropped.
        let losers = match winner {
            Some(Side::Crm) => vec![Loser {
                side: Side::Groupware,
                data: gw_data,
            }],
            Some(Side::Groupware) => vec![Loser {
                side: Side::Crm,
                data: crm_data,
            }],
            None => vec![
                Loser {
                    side: Side::Crm,
                    data: crm_data,
                },
                Loser {
                    side: Side::Groupware,
                    data: gw_data,
                },
            ],
        };
        self.out.push(Action::Conflict {
            rule: Rule::C6,
            activity: s.activity,
            href: r.href.clone(),
            policy: policy_name(policy),
            winner,
            why,
            losers,
        });
        match winner {
            // C6 -> C3: the winner's fields onto the calendar item.
            Some(Side::Crm) => self.update_server(Rule::C6, s, r, item, c),
            // C6 -> C2: the calendar item's fields into the activity.
            Some(Side::Groupware) => self.update_crm(Rule::C6, s, r, item, hash),
            None => {}
        }
    }

    /// The groupware side of a pair, or a report and None.
    fn gw_now<'r>(&mut self, s: &Synced, r: &'r Remote) -> Option<GwNow<'r>> {
        match &r.body {
            // C5: the ETag is the agreed one: unchanged, not fetched.
            Body::NotFetched if s.etag.as_deref() == Some(r.etag.as_str()) => {
                Some(GwNow::Unchanged)
            }
            // C5: changed but not fetched: a caller that skipped to_fetch.
            Body::NotFetched => {
                self.report(
                    Rule::C5,
                    ItemRef {
                        href: Some(r.href.clone()),
                        activity: Some(s.activity),
                        uid: None,
                    },
                    "its ETag changed but it was not fetched (see plan::calendar::to_fetch)".into(),
                );
                None
            }
            // C11: changed only when the content hash differs.
            Body::Parsed(items) => {
                let item = items.first()?;
                let hash = ical::content_hash(item);
                let changed = hash != s.gw_hash;
                Some(GwNow::Fetched {
                    item,
                    hash,
                    changed,
                })
            }
            // Reported with the other broken resources.
            Body::Broken(_) => None,
        }
    }

    /// One linked pair with both sides present.
    fn pair(&mut self, s: &Synced, r: &Remote, c: &CrmEntry) {
        let Some(gw) = self.gw_now(s, r) else { return };
        let c_hash = crm_hash(&c.fields);
        let crm_changed = c_hash != s.crm_hash;
        match gw {
            GwNow::Unchanged if !crm_changed && !s.link_pending => {
                // C11: nothing changed anywhere: nothing to do.
            }
            GwNow::Unchanged => {
                // C3 / C8 need the body to write onto it.
                self.report(
                    Rule::C5,
                    ItemRef {
                        href: Some(r.href.clone()),
                        activity: Some(s.activity),
                        uid: None,
                    },
                    "the CRM side changed but the calendar item was not fetched (see plan::calendar::to_fetch)".into(),
                );
            }
            GwNow::Fetched {
                item,
                hash,
                changed: false,
            } => {
                if crm_changed || s.link_pending {
                    // C3: the CRM changed, the calendar did not (C8: the
                    // link is written with it, or alone when owed).
                    let rule = if crm_changed { Rule::C3 } else { Rule::C8 };
                    self.update_server(rule, s, r, item, c);
                } else if s.etag.as_deref() != Some(r.etag.as_str()) {
                    // C11: a new ETag, the same content (the server
                    // re-serialised it, or only DTSTAMP moved).
                    self.remember(Rule::C11, s, r, &hash, &c_hash);
                }
            }
            GwNow::Fetched {
                item,
                hash,
                changed: true,
            } => {
                let link = self.link(s.activity);
                let (fields, _, _) = project(item, self.owner, self.input.matches, link.as_deref());
                if same(&fields, &c.fields) {
                    // C11 (C6): the change is in something the CRM does not
                    // model, or both sides made the same change.
                    let h = crm_hash(&fields);
                    self.remember(Rule::C11, s, r, &hash, &h);
                } else if !crm_changed {
                    // C2: the calendar changed, the CRM did not.
                    self.update_crm(Rule::C2, s, r, item, &hash);
                } else {
                    // C6: both changed, differently.
                    self.conflict(s, r, item, &hash, c);
                }
            }
        }
    }
}

/// Plans one sync of a user's calendar and task list. Pure: the same
/// inputs give the same plan, sorted (see [`Action`]).
pub fn plan(input: &Input<'_>, owner: &Owner, settings: &Settings) -> Vec<Action> {
    let mut p = Planner {
        input,
        owner,
        settings,
        out: Vec::new(),
    };
    let state_by_href: BTreeMap<&str, &Synced> =
        input.state.iter().map(|s| (s.href.as_str(), s)).collect();
    let state_by_activity: HashMap<i64, &Synced> =
        input.state.iter().map(|s| (s.activity, s)).collect();
    let remote_by_href: BTreeMap<&str, &Remote> =
        input.remote.iter().map(|r| (r.href.as_str(), r)).collect();
    let crm_by_id: BTreeMap<i64, &CrmEntry> = input.crm.iter().map(|c| (c.id, c)).collect();
    let mut handled: HashSet<i64> = HashSet::new();

    // C12: resources that cannot be synced are reported and left alone
    // (and count as present: nothing is deleted for them).
    let mut skip: HashSet<&str> = HashSet::new();
    let mut uids: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in input.remote {
        let at = |uid: Option<String>| ItemRef {
            href: Some(r.href.clone()),
            activity: state_by_href.get(r.href.as_str()).map(|s| s.activity),
            uid,
        };
        match &r.body {
            // C12: an item that does not parse.
            Body::Broken(e) => {
                p.report(Rule::C12, at(None), format!("does not parse: {e}"));
                skip.insert(&r.href);
            }
            // C12: a resource with no item, or with several UIDs.
            Body::Parsed(items) if items.len() != 1 => {
                let problem = if items.is_empty() {
                    "holds no VEVENT or VTODO".to_string()
                } else {
                    format!(
                        "holds {} items (UIDs {}); a calendar resource holds one",
                        items.len(),
                        items
                            .iter()
                            .map(|i| i.uid.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                p.report(Rule::C12, at(None), problem);
                skip.insert(&r.href);
            }
            // C12: collected to find one UID in two resources.
            Body::Parsed(items) => {
                if let Some(i) = items.first() {
                    uids.entry(i.uid.as_str()).or_default().push(&r.href);
                }
            }
            // C5: unchanged since the last sync; its UID is the agreed one.
            Body::NotFetched => {}
        }
    }
    for (uid, hrefs) in &uids {
        if hrefs.len() > 1 {
            for h in hrefs {
                p.report(
                    Rule::C12,
                    ItemRef {
                        href: Some((*h).to_string()),
                        activity: state_by_href.get(h).map(|s| s.activity),
                        uid: Some((*uid).to_string()),
                    },
                    format!(
                        "UID {uid} is used by {} resources: {}",
                        hrefs.len(),
                        hrefs.join(", ")
                    ),
                );
                skip.insert(h);
            }
        }
    }

    // STYLE 6 / C7: a side that suddenly holds nothing while the state
    // knows several pairs is a broken listing, not mass deletion.
    let known = input.state.len();
    let guard = !settings.allow_mass_delete && known >= 2;
    let gw_vanished = guard && input.remote.is_empty();
    let crm_vanished = guard && input.crm.is_empty();
    if gw_vanished {
        p.out.push(Action::MassDeleteStop {
            rule: Rule::C7,
            side: Side::Crm,
            count: known,
            total: known,
        });
    }
    if crm_vanished {
        p.out.push(Action::MassDeleteStop {
            rule: Rule::C7,
            side: Side::Groupware,
            count: known,
            total: known,
        });
    }

    // C9 --unlink: the calendar entry goes, the activity stays.
    let mut unlink_deletes = HashSet::new();
    for id in input.unlink {
        handled.insert(*id);
        match state_by_activity.get(id) {
            Some(s) => match remote_by_href.get(s.href.as_str()) {
                // C9: the linked entry is deleted (If-Match), the pair forgotten.
                Some(r) => {
                    unlink_deletes.insert(s.href.clone());
                    p.out.push(Action::DeleteOnServer {
                        rule: Rule::C9,
                        activity: *id,
                        href: s.href.clone(),
                        if_match: r.etag.clone(),
                    });
                }
                // STYLE 6: a server that listed nothing may be broken;
                // forgetting the pair now would duplicate it later.
                None if gw_vanished => p.report(
                    Rule::C9,
                    ItemRef {
                        href: Some(s.href.clone()),
                        activity: Some(*id),
                        uid: None,
                    },
                    "the server listed no items; nothing unlinked, try again".into(),
                ),
                // C9: the entry is gone already: only the pair goes.
                None => p.out.push(Action::Forget {
                    rule: Rule::C9,
                    activity: *id,
                    href: s.href.clone(),
                }),
            },
            // C9: nothing to unlink.
            None => p.report(
                Rule::C9,
                ItemRef {
                    activity: Some(*id),
                    ..ItemRef::default()
                },
                format!("activity {id} is not in the calendar; nothing to unlink"),
            ),
        }
    }
    // C9 --send: an activity of any type becomes an event or a task.
    for (c, kind) in input.send {
        if !handled.insert(c.id) {
            continue;
        }
        match state_by_activity.get(&c.id) {
            // C9: sent before; the pair syncs like any other.
            Some(s) => p.report(
                Rule::C9,
                ItemRef {
                    href: Some(s.href.clone()),
                    activity: Some(c.id),
                    uid: None,
                },
                format!(
                    "activity {} is in the calendar already; edit it in the CRM, or --unlink it first",
                    c.id
                ),
            ),
            // C9: a new event or task for the activity.
            None => p.create_on_server(Rule::C9, c, *kind),
        }
    }

    // Linked pairs.
    for (href, s) in &state_by_href {
        if handled.contains(&s.activity) || skip.contains(href) {
            continue;
        }
        handled.insert(s.activity);
        let r = remote_by_href.get(href).copied();
        let c = crm_by_id.get(&s.activity).copied();
        if (r.is_none() && gw_vanished) || (c.is_none() && crm_vanished) {
            continue;
        }
        match (r, c) {
            (None, None) => {
                // C7: deleted on both sides.
                p.out.push(Action::Forget {
                    rule: Rule::C7,
                    activity: s.activity,
                    href: s.href.clone(),
                });
            }
            (None, Some(c)) => match kind_of(&c.activity_type) {
                None => {
                    // C9: deleting a sent activity's entry unlinks it; the
                    // activity (a mail, say) stays and is not sent again.
                    p.out.push(Action::Forget {
                        rule: Rule::C9,
                        activity: c.id,
                        href: s.href.clone(),
                    });
                }
                Some(kind) if crm_hash(&c.fields) != s.crm_hash => {
                    // C7: an edit against a delete re-creates.
                    p.create_on_server(Rule::C7, c, kind);
                }
                Some(_) => {
                    // C7: deleted in the calendar, unchanged in the CRM.
                    p.out.push(Action::DeleteInCrm {
                        rule: Rule::C7,
                        activity: c.id,
                        href: s.href.clone(),
                    });
                }
            },
            (Some(r), None) => match p.gw_now(s, r) {
                Some(GwNow::Fetched {
                    item,
                    changed: true,
                    ..
                }) => {
                    // C7: an edit against a delete re-creates.
                    p.create_in_crm(Rule::C7, r, item);
                }
                Some(_) => {
                    // C7: deleted in the CRM, unchanged in the calendar.
                    p.out.push(Action::DeleteOnServer {
                        rule: Rule::C7,
                        activity: s.activity,
                        href: s.href.clone(),
                        if_match: r.etag.clone(),
                    });
                }
                // C5/C12: reported by gw_now; left alone.
                None => {}
            },
            // Both present: C2, C3, C6, C8, C11 (see Planner::pair).
            (Some(r), Some(c)) => p.pair(s, r, c),
        }
    }

    // New on the server.
    let crm_by_uid: HashMap<&str, &CrmEntry> = input
        .crm
        .iter()
        .filter(|c| !state_by_activity.contains_key(&c.id))
        .filter_map(|c| c.uid.as_deref().map(|u| (u, c)))
        .collect();
    for (href, r) in &remote_by_href {
        if state_by_href.contains_key(href) || skip.contains(href) {
            continue;
        }
        let item = match &r.body {
            Body::Parsed(items) => match items.first() {
                Some(i) => i,
                // C12: reported above.
                None => continue,
            },
            // C5: a resource the state does not know must be fetched.
            _ => {
                p.report(
                    Rule::C5,
                    ItemRef {
                        href: Some((*href).to_string()),
                        ..ItemRef::default()
                    },
                    "new on the server but not fetched (see plan::calendar::to_fetch)".into(),
                );
                continue;
            }
        };
        match crm_by_uid.get(item.uid.as_str()) {
            Some(c) if !handled.contains(&c.id) => {
                // X5: the pair exists on both sides but the state lost it
                // (a state file restored from a backup): link them again
                // instead of duplicating; without a base both count as
                // changed.
                handled.insert(c.id);
                let s = Synced {
                    href: r.href.clone(),
                    etag: None,
                    gw_hash: String::new(),
                    crm_hash: String::new(),
                    activity: c.id,
                    link_pending: false,
                };
                let link = p.link(c.id);
                let (fields, _, _) = project(item, owner, input.matches, link.as_deref());
                let hash = ical::content_hash(item);
                if same(&fields, &c.fields) {
                    p.remember(Rule::C5, &s, r, &hash, &crm_hash(&c.fields));
                } else {
                    p.conflict(&s, r, item, &hash, c);
                }
            }
            // C2: a new event or task of the user.
            _ => p.create_in_crm(Rule::C2, r, item),
        }
    }

    // New in the CRM (C1 types only; other types come by C9).
    for (id, c) in &crm_by_id {
        if handled.contains(id) || state_by_activity.contains_key(id) {
            continue;
        }
        if let Some(kind) = kind_of(&c.activity_type) {
            // C3: a new appointment or task of the user.
            p.create_on_server(Rule::C3, c, kind);
        }
    }

    // C7: the share of synced items a run may delete on either side.
    let mut out = p.out;
    if !settings.allow_mass_delete && known > 0 {
        let in_crm = out
            .iter()
            .filter(|a| matches!(a, Action::DeleteInCrm { .. }))
            .count();
        let on_server = out
            .iter()
            .filter(|a| matches!(a, Action::DeleteOnServer { href, .. } if !unlink_deletes.contains(href)))
            .count();
        let pct = usize::from(settings.max_delete_percent);
        // One deletion alone never trips it (a small calendar would stop
        // on every delete) unless max_delete_percent is 0.
        let trips = |n: usize| n * 100 > pct * known && (n > 1 || pct == 0);
        let mut tripped = false;
        for (side, n) in [(Side::Crm, in_crm), (Side::Groupware, on_server)] {
            if trips(n) {
                tripped = true;
                out.push(Action::MassDeleteStop {
                    rule: Rule::C7,
                    side,
                    count: n,
                    total: known,
                });
            }
        }
        if tripped {
            // No deletes at all; an explicit --unlink (C9) is no
            // propagated deletion and stays.
            out.retain(|a| match a {
                Action::DeleteInCrm { .. } => false,
                Action::DeleteOnServer { href, .. } => unlink_deletes.contains(href),
                _ => true,
            });
        }
    }
    out.sort_by_key(Action::sort_key);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::PersonMatch;
    use chrono::NaiveDateTime;

    const OWNER_PERSON: i64 = 1;

    fn t(s: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
    }

    fn owner() -> Owner {
        Owner {
            login: "alice".into(),
            person_id: OWNER_PERSON,
            addresses: vec!["alice@us.example".into(), "a@us.example".into()],
        }
    }

    fn m(addr: &str) -> AddressMatch {
        AddressMatch {
            address: addr.into(),
            person: PersonMatch::Unknown,
            company: None,
            ignored: false,
            user: None,
            own_domain: false,
            free_mail: false,
            automated: false,
        }
    }

    fn matches() -> HashMap<String, AddressMatch> {
        let mut h = HashMap::new();
        for x in [
            AddressMatch {
                person: PersonMatch::Unique(10),
                ..m("jane@acme.example")
            },
            AddressMatch {
                person: PersonMatch::Unique(11),
                ..m("max@acme.example")
            },
            m("new@nowhere.example"),
            AddressMatch {
                ignored: true,
                ..m("list@spam.example")
            },
            AddressMatch {
                person: PersonMatch::Unique(2),
                user: Some("bob".into()),
                own_domain: true,
                ..m("bob@us.example")
            },
            AddressMatch {
                automated: true,
                ..m("noreply@shop.example")
            },
        ] {
            h.insert(x.address.clone(), x);
        }
        h
    }

    fn settings() -> Settings {
        Settings {
            conflict: ConflictPolicy::NewestWins,
            max_delete_percent: 20,
            allow_mass_delete: false,
            crm_link: None,
            owner_name: Some("Alice Own".into()),
            now: t("2024-06-01 12:00"),
            decided: HashMap::new(),
        }
    }

    /// A calendar resource holding one VEVENT (or VTODO) with these lines.
    fn ics(comp: &str, uid: &str, lines: &[&str]) -> String {
        let mut s = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:{comp}\r\nUID:{uid}\r\nDTSTAMP:20240501T000000Z\r\n"
        );
        for l in lines {
            s.push_str(l);
            s.push_str("\r\n");
        }
        s.push_str(&format!("END:{comp}\r\nEND:VCALENDAR\r\n"));
        s
    }

    fn event(uid: &str, summary: &str) -> String {
        ics(
            "VEVENT",
            uid,
            &[
                "LAST-MODIFIED:20240501T000000Z",
                "DTSTART:20240610T090000Z",
                "DTEND:20240610T100000Z",
                &format!("SUMMARY:{summary}"),
                "ORGANIZER;CN=Alice:mailto:alice@us.example",
                "ATTENDEE;CN=Jane Doe;PARTSTAT=ACCEPTED:mailto:jane@acme.example",
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                "TRIGGER:-PT15M",
                "END:VALARM",
            ],
        )
    }

    fn parsed(text: &str) -> CalItem {
        ical::parse(text).unwrap().remove(0)
    }

    fn remote(href: &str, etag: &str, text: &str) -> Remote {
        Remote {
            href: href.into(),
            etag: etag.into(),
            body: Body::Parsed(ical::parse(text).unwrap()),
        }
    }

    fn not_fetched(href: &str, etag: &str) -> Remote {
        Remote {
            href: href.into(),
            etag: etag.into(),
            body: Body::NotFetched,
        }
    }

    /// The CRM entry that agrees with a calendar text.
    fn crm_of(id: i64, text: &str, updated: &str) -> CrmEntry {
        let it = parsed(text);
        let (fields, _, _) = project(&it, &owner(), &matches(), None);
        CrmEntry {
            id,
            activity_type: match it.kind {
                Kind::Event => "appointment".into(),
                Kind::Todo => "task".into(),
            },
            uid: Some(it.uid.clone()),
            fields,
            updated_at: t(updated),
        }
    }

    /// The state row of a pair agreed on `text` and `c`.
    fn synced(href: &str, etag: &str, text: &str, c: &CrmEntry) -> Synced {
        Synced {
            href: href.into(),
            etag: Some(etag.into()),
            gw_hash: ical::content_hash(&parsed(text)),
            crm_hash: crm_hash(&c.fields),
            activity: c.id,
            link_pending: false,
        }
    }

    struct World {
        remote: Vec<Remote>,
        crm: Vec<CrmEntry>,
        state: Vec<Synced>,
        send: Vec<(CrmEntry, Kind)>,
        unlink: Vec<i64>,
        settings: Settings,
    }

    impl World {
        fn new() -> World {
            World {
                remote: vec![],
                crm: vec![],
                state: vec![],
                send: vec![],
                unlink: vec![],
                settings: settings(),
            }
        }

        /// `n` pairs in agreement: /cal/eN.ics <-> activity 100+N.
        fn agreed(n: usize) -> World {
            let mut w = World::new();
            for i in 0..n {
                w.pair(i, &event(&format!("e{i}"), &format!("Meeting {i}")));
            }
            w
        }

        fn pair(&mut self, i: usize, text: &str) {
            let href = format!("/cal/e{i}.ics");
            let c = crm_of(100 + i as i64, text, "2024-05-01 00:00");
            self.state.push(synced(&href, "\"1\"", text, &c));
            self.remote.push(not_fetched(&href, "\"1\""));
            self.crm.push(c);
        }

        fn plan(&self) -> Vec<Action> {
            let matches = matches();
            plan(
                &Input {
                    remote: &self.remote,
                    crm: &self.crm,
                    state: &self.state,
                    matches: &matches,
                    send: &self.send,
                    unlink: &self.unlink,
                },
                &owner(),
                &self.settings,
            )
        }
    }

    fn kind(a: &Action) -> &'static str {
        match a {
            Action::CreateInCrm { .. } => "create_in_crm",
            Action::UpdateCrm { .. } => "update_crm",
            Action::DeleteInCrm { .. } => "delete_in_crm",
            Action::CreateOnServer { .. } => "create_on_server",
            Action::UpdateServer { .. } => "update_server",
            Action::DeleteOnServer { .. } => "delete_on_server",
            Action::Conflict { .. } => "conflict",
            Action::Report { .. } => "report",
            Action::MassDeleteStop { .. } => "mass_delete_stop",
            Action::Remember { .. } => "remember",
            Action::Forget { .. } => "forget",
        }
    }

    fn shape(plan: &[Action]) -> Vec<(&'static str, &'static str)> {
        plan.iter().map(|a| (kind(a), a.rule().as_str())).collect()
    }

    /// Edits of one pair in a World made by [`World::agreed`].
    fn gw_edit(w: &mut World, i: usize, text: &str) {
        let href = format!("/cal/e{i}.ics");
        w.remote.retain(|r| r.href != href);
        w.remote.push(remote(&href, "\"2\"", text));
    }

    fn crm_edit(w: &mut World, i: usize, f: impl FnOnce(&mut CrmEntry)) {
        let c = w.crm.iter_mut().find(|c| c.id == 100 + i as i64).unwrap();
        f(c);
    }

    fn gw_fetched(w: &mut World, i: usize) {
        let href = format!("/cal/e{i}.ics");
        let text = event(&format!("e{i}"), &format!("Meeting {i}"));
        w.remote.retain(|r| r.href != href);
        w.remote.push(remote(&href, "\"1\"", &text));
    }

    /// One row per rule: the world, then the plan's (action, rule) list.
    #[test]
    fn rules_table() {
        type Row = (
            &'static str,
            Box<dyn Fn() -> World>,
            Vec<(&'static str, &'static str)>,
        );
        let rows: Vec<Row> = vec![
            (
                "c11_nothing_changed_nothing_planned",
                Box::new(|| World::agreed(3)),
                vec![],
            ),
            (
                "c2_new_event_on_the_server_creates_an_activity",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    w.remote
                        .push(remote("/cal/new.ics", "\"9\"", &event("new", "Kick-off")));
                    w
                }),
                vec![("create_in_crm", "C2")],
            ),
            (
                "c2_edited_in_the_calendar_updates_the_activity",
                Box::new(|| {
                    let mut w = World::agreed(2);
                    gw_edit(&mut w, 1, &event("e1", "Meeting 1 (moved)"));
                    w
                }),
                vec![("update_crm", "C2")],
            ),
            (
                "c3_new_crm_appointment_creates_an_event",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    let mut c = crm_of(7, &event("x", "From the CRM"), "2024-05-02 00:00");
                    c.uid = None;
                    w.crm.push(c);
                    w
                }),
                vec![("create_on_server", "C3")],
            ),
            (
                "c3_edited_in_the_crm_updates_the_event",
                Box::new(|| {
                    let mut w = World::agreed(2);
                    crm_edit(&mut w, 0, |c| {
                        c.fields.subject = "Renamed in the CRM".into()
                    });
                    gw_fetched(&mut w, 0);
                    w
                }),
                vec![("update_server", "C3")],
            ),
            (
                "c3_other_activity_types_are_not_synced",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    let mut c = crm_of(8, &event("m", "A mail"), "2024-05-02 00:00");
                    c.activity_type = "email_in".into();
                    w.crm.push(c);
                    w
                }),
                vec![],
            ),
            (
                "c5_changed_etag_not_fetched_is_reported",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    w.remote[0].etag = "\"2\"".into();
                    w
                }),
                vec![("report", "C5")],
            ),
            (
                "c5_crm_change_without_the_body_is_reported",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    crm_edit(&mut w, 0, |c| c.fields.subject = "x".into());
                    w
                }),
                vec![("report", "C5")],
            ),
            (
                "c5_lost_state_relinks_by_uid_instead_of_duplicating",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    w.state.clear();
                    gw_fetched(&mut w, 0);
                    w
                }),
                vec![("remember", "C5")],
            ),
            (
                "c6_newest_wins_the_calendar_is_newer",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    gw_edit(
                        &mut w,
                        0,
                        &event("e0", "GW title")
                            .replace("LAST-MODIFIED:20240501", "LAST-MODIFIED:20240520"),
                    );
                    crm_edit(&mut w, 0, |c| {
                        c.fields.subject = "CRM title".into();
                        c.updated_at = t("2024-05-10 00:00");
                    });
                    w
                }),
                vec![("conflict", "C6"), ("update_crm", "C6")],
            ),
            (
                "c6_newest_wins_the_crm_is_newer",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    gw_edit(
                        &mut w,
                        0,
                        &event("e0", "GW title")
                            .replace("LAST-MODIFIED:20240501", "LAST-MODIFIED:20240505"),
                    );
                    crm_edit(&mut w, 0, |c| {
                        c.fields.subject = "CRM title".into();
                        c.updated_at = t("2024-05-10 00:00");
                    });
                    w
                }),
                vec![("conflict", "C6"), ("update_server", "C6")],
            ),
            (
                "c6_crm_wins",
                Box::new(|| {
                    let mut w = both_changed();
                    w.settings.conflict = ConflictPolicy::CrmWins;
                    w
                }),
                vec![("conflict", "C6"), ("update_server", "C6")],
            ),
            (
                "c6_groupware_wins",
                Box::new(|| {
                    let mut w = both_changed();
                    w.settings.conflict = ConflictPolicy::GroupwareWins;
                    w
                }),
                vec![("conflict", "C6"), ("update_crm", "C6")],
            ),
            (
                "c6_ask_writes_nothing_and_keeps_both",
                Box::new(|| {
                    let mut w = both_changed();
                    w.settings.conflict = ConflictPolicy::Ask;
                    w
                }),
                vec![("conflict", "C6")],
            ),
            (
                "c6_the_same_change_on_both_sides_is_no_conflict",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    gw_edit(&mut w, 0, &event("e0", "Same new title"));
                    crm_edit(&mut w, 0, |c| c.fields.subject = "Same new title".into());
                    w
                }),
                vec![("remember", "C11")],
            ),
            (
                "c7_deleted_in_the_calendar_unchanged_in_the_crm_deletes_the_activity",
                Box::new(|| {
                    let mut w = World::agreed(10);
                    w.remote.remove(3);
                    w
                }),
                vec![("delete_in_crm", "C7")],
            ),
            (
                "c7_deleted_in_the_crm_unchanged_in_the_calendar_deletes_the_event",
                Box::new(|| {
                    let mut w = World::agreed(10);
                    w.crm.remove(3);
                    w
                }),
                vec![("delete_on_server", "C7")],
            ),
            (
                "c7_edited_in_the_crm_deleted_in_the_calendar_recreates",
                Box::new(|| {
                    let mut w = World::agreed(3);
                    w.remote.remove(0);
                    crm_edit(&mut w, 0, |c| c.fields.subject = "Still wanted".into());
                    w
                }),
                vec![("create_on_server", "C7")],
            ),
            (
                "c7_edited_in_the_calendar_deleted_in_the_crm_recreates",
                Box::new(|| {
                    let mut w = World::agreed(3);
                    w.crm.remove(0);
                    gw_edit(&mut w, 0, &event("e0", "Still wanted"));
                    w
                }),
                vec![("create_in_crm", "C7")],
            ),
            (
                "c7_deleted_on_both_sides_is_forgotten",
                Box::new(|| {
                    let mut w = World::agreed(10);
                    w.remote.remove(0);
                    w.crm.remove(0);
                    w
                }),
                vec![("forget", "C7")],
            ),
            (
                "c7_more_than_max_delete_percent_stops_every_delete",
                Box::new(|| {
                    let mut w = World::agreed(10);
                    w.crm.drain(0..3);
                    w.remote.remove(9);
                    w
                }),
                vec![("mass_delete_stop", "C7")],
            ),
            (
                "c7_allow_mass_delete_lets_them_through",
                Box::new(|| {
                    let mut w = World::agreed(10);
                    w.crm.drain(0..3);
                    w.settings.allow_mass_delete = true;
                    w
                }),
                vec![
                    ("delete_on_server", "C7"),
                    ("delete_on_server", "C7"),
                    ("delete_on_server", "C7"),
                ],
            ),
            (
                "c7_one_delete_in_a_small_calendar_is_not_mass_deletion",
                Box::new(|| {
                    let mut w = World::agreed(3);
                    w.remote.remove(1);
                    w
                }),
                vec![("delete_in_crm", "C7")],
            ),
            (
                "c7_max_delete_percent_zero_stops_even_one",
                Box::new(|| {
                    let mut w = World::agreed(3);
                    w.remote.remove(1);
                    w.settings.max_delete_percent = 0;
                    w
                }),
                vec![("mass_delete_stop", "C7")],
            ),
            (
                "c7_a_server_that_suddenly_lists_nothing_is_not_propagated",
                Box::new(|| {
                    let mut w = World::agreed(4);
                    w.remote.clear();
                    // Even an edit in the CRM is not re-created into the void.
                    crm_edit(&mut w, 0, |c| c.fields.subject = "x".into());
                    w
                }),
                vec![("mass_delete_stop", "C7")],
            ),
            (
                "c7_a_crm_that_suddenly_lists_nothing_is_not_propagated",
                Box::new(|| {
                    let mut w = World::agreed(4);
                    w.crm.clear();
                    w
                }),
                vec![("mass_delete_stop", "C7")],
            ),
            (
                "c8_an_owed_link_is_written_once",
                Box::new(|| {
                    let mut w = World::agreed(2);
                    w.settings.crm_link = Some("https://crm.example/a/{id}".into());
                    w.state[0].link_pending = true;
                    gw_fetched(&mut w, 0);
                    w
                }),
                vec![("update_server", "C8")],
            ),
            (
                "c9_send_as_task_creates_a_task",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    let mut c = crm_of(55, &event("m", "Call back"), "2024-05-02 00:00");
                    c.activity_type = "email_in".into();
                    c.uid = None;
                    w.send.push((c, Kind::Todo));
                    w
                }),
                vec![("create_on_server", "C9")],
            ),
            (
                "c9_send_of_a_linked_activity_is_reported",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    let c = w.crm[0].clone();
                    w.send.push((c, Kind::Event));
                    w
                }),
                vec![("report", "C9")],
            ),
            (
                "c9_unlink_deletes_the_event_only_and_is_no_mass_delete",
                Box::new(|| {
                    let mut w = World::agreed(2);
                    w.unlink = vec![100, 101];
                    w
                }),
                vec![("delete_on_server", "C9"), ("delete_on_server", "C9")],
            ),
            (
                "c9_unlink_while_the_server_lists_nothing_forgets_nothing",
                Box::new(|| {
                    let mut w = World::agreed(3);
                    w.remote.clear();
                    w.unlink = vec![100];
                    w
                }),
                vec![("report", "C9"), ("mass_delete_stop", "C7")],
            ),
            (
                "c9_unlink_of_an_unlinked_activity_is_reported",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    w.unlink = vec![999];
                    w
                }),
                vec![("report", "C9")],
            ),
            (
                "c9_a_sent_activity_deleted_in_the_calendar_stays_in_the_crm",
                Box::new(|| {
                    let mut w = World::agreed(3);
                    w.crm[0].activity_type = "email_in".into();
                    w.crm[0].fields.subject = "edited since".into();
                    w.remote.remove(0);
                    w
                }),
                vec![("forget", "C9")],
            ),
            (
                "c11_new_etag_same_content_is_remembered_not_written",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    let text = event("e0", "Meeting 0")
                        .replace("DTSTAMP:20240501T000000Z", "DTSTAMP:20240601T000000Z")
                        .replace("END:VEVENT", "X-RADICALE-NAME:e0.ics\r\nEND:VEVENT");
                    gw_edit(&mut w, 0, &text);
                    w
                }),
                vec![("remember", "C11")],
            ),
            (
                "c11_a_change_the_crm_does_not_model_is_not_written",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    gw_edit(
                        &mut w,
                        0,
                        &event("e0", "Meeting 0").replace("-PT15M", "-PT5M"),
                    );
                    w
                }),
                vec![("remember", "C11")],
            ),
            (
                "c11_a_crm_change_the_calendar_already_has_is_not_written",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    // resolve-unknown gave an address a person (U3): the
                    // hash moved, the attendees did not.
                    crm_edit(&mut w, 0, |c| c.fields.participants[0].person_id = Some(99));
                    w.state[0].crm_hash = "old".into();
                    gw_fetched(&mut w, 0);
                    w
                }),
                vec![("remember", "C11")],
            ),
            (
                "c12_a_broken_item_is_reported_and_the_rest_goes_on",
                Box::new(|| {
                    let mut w = World::agreed(10);
                    w.remote[0].body = Body::Broken("line 3: `BROKEN` has no `:` and value".into());
                    w.remote[0].etag = "\"2\"".into();
                    w.remote
                        .push(remote("/cal/new.ics", "\"9\"", &event("new", "Kick-off")));
                    // Broken is not deleted: the activity of e0 stays.
                    w
                }),
                vec![("report", "C12"), ("create_in_crm", "C2")],
            ),
            (
                "c12_one_uid_in_two_resources_is_reported",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    w.remote
                        .push(remote("/cal/dup-a.ics", "\"1\"", &event("dup", "A")));
                    w.remote
                        .push(remote("/cal/dup-b.ics", "\"1\"", &event("dup", "B")));
                    w
                }),
                vec![("report", "C12"), ("report", "C12")],
            ),
            (
                "c12_two_uids_in_one_resource_is_reported",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    let two = event("a", "A").replace(
                        "END:VCALENDAR",
                        "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20240101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR",
                    );
                    w.remote.push(remote("/cal/two.ics", "\"1\"", &two));
                    w
                }),
                vec![("report", "C12")],
            ),
            (
                "c12_a_type_change_in_the_crm_is_reported_with_the_way_out",
                Box::new(|| {
                    let mut w = World::agreed(1);
                    crm_edit(&mut w, 0, |c| {
                        c.activity_type = "task".into();
                        c.fields.subject = "Now a task".into();
                    });
                    gw_fetched(&mut w, 0);
                    w
                }),
                vec![("report", "C12")],
            ),
        ];
        let mut failed = Vec::new();
        for (name, world, want) in rows {
            let got = shape(&world().plan());
            if got != want {
                failed.push(format!("{name}: got {got:?}, want {want:?}"));
            }
        }
        assert!(failed.is_empty(), "\n{}", failed.join("\n"));
    }

    fn both_changed() -> World {
        let mut w = World::agreed(1);
        gw_edit(&mut w, 0, &event("e0", "GW title"));
        crm_edit(&mut w, 0, |c| c.fields.subject = "CRM title".into());
        w
    }

    #[test]
    fn c2_attendees_match_flag_and_queue_as_m8() {
        let mut w = World::new();
        let text = ics(
            "VEVENT",
            "ev",
            &[
                "DTSTART;TZID=Europe/Berlin:20240610T090000",
                "SUMMARY:Review",
                "ORGANIZER;CN=Jane Doe:mailto:Jane@Acme.example",
                "ATTENDEE:mailto:alice@us.example",
                "ATTENDEE;CN=Newcomer:mailto:new@nowhere.example",
                "ATTENDEE:mailto:list@spam.example",
                "ATTENDEE:mailto:bob@us.example",
                "ATTENDEE:mailto:noreply@shop.example",
                "ATTENDEE:mailto:jane@acme.example",
            ],
        );
        w.remote.push(remote("/cal/ev.ics", "\"1\"", &text));
        let plan = w.plan();
        let Some(Action::CreateInCrm {
            activity_type,
            attach,
            rep,
            fields,
            flags,
            queue,
            link,
            ..
        }) = plan.first()
        else {
            panic!("{plan:?}")
        };
        assert_eq!(
            (*activity_type, *attach, rep.as_str(), *link),
            ("meeting", Attach::Person(OWNER_PERSON), "alice", false)
        );
        let ps: Vec<(&str, Option<i64>)> = fields
            .participants
            .iter()
            .map(|p| (p.address.as_str(), p.person_id))
            .collect();
        assert_eq!(
            ps,
            vec![
                ("jane@acme.example", Some(10)),
                ("new@nowhere.example", None),
                ("bob@us.example", Some(2)),
                ("noreply@shop.example", None),
            ]
        );
        assert_eq!(
            flags,
            &vec![Flag {
                reason: reason::UNIDENTIFIED_ATTENDEE,
                address: "new@nowhere.example".into()
            }]
        );
        assert_eq!(
            queue,
            &vec![Queued {
                address: "new@nowhere.example".into(),
                display_name: Some("Newcomer".into())
            }]
        );
        assert_eq!(
            fields.start.as_ref().map(|s| s.to_string()),
            Some("2024-06-10T09:00:00[Europe/Berlin]".into())
        );
    }

    #[test]
    fn c3_new_event_has_the_user_as_organizer_participants_as_attendees_and_the_c8_link() {
        let mut w = World::new();
        w.settings.crm_link = Some("https://crm.example/a/{id}".into());
        let mut c = crm_of(7, &event("x", "Offer talk"), "2024-05-02 00:00");
        c.uid = None;
        c.fields.text = Some("Bring the offer".into());
        c.fields.participants.push(Participant {
            address: String::new(),
            person_id: Some(12),
        });
        w.crm.push(c);
        let plan = w.plan();
        let Some(Action::CreateOnServer {
            ics,
            name,
            uid,
            kind,
            ..
        }) = plan.first()
        else {
            panic!("{plan:?}")
        };
        assert_eq!(
            (uid.as_str(), name.as_str(), *kind),
            (
                "crmsync-alice-7@crmsync",
                "crmsync-alice-7_crmsync.ics",
                Kind::Event
            )
        );
        let it = parsed(ics);
        assert_eq!(
            it.props.organizer,
            Some(CalAddress {
                address: "alice@us.example".into(),
                cn: Some("Alice Own".into()),
                partstat: None
            })
        );
        let att: Vec<&str> = it
            .props
            .attendees
            .iter()
            .map(|a| a.address.as_str())
            .collect();
        assert_eq!(att, vec!["jane@acme.example"]);
        assert_eq!(
            it.props.description.as_deref(),
            Some("Bring the offer\n\nhttps://crm.example/a/7")
        );
        assert_eq!(it.props.summary.as_deref(), Some("Offer talk"));
    }

    #[test]
    fn c3_update_keeps_what_the_crm_does_not_model() {
        let text = ics(
            "VEVENT",
            "e0",
            &[
                "DTSTART:20240610T090000Z",
                "DURATION:PT1H",
                "SUMMARY:Meeting",
                "ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@us.example",
                "ATTENDEE:mailto:list@spam.example",
                "ATTENDEE;ROLE=CHAIR:mailto:jane@acme.example",
                "X-CUSTOM:keep me",
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                "TRIGGER:-PT15M",
                "END:VALARM",
            ],
        );
        let mut w = World::new();
        w.pair(0, &text);
        gw_fetched_text(&mut w, 0, &text);
        crm_edit(&mut w, 0, |c| {
            c.fields.subject = "Meeting (agenda)".into();
            c.fields.participants.push(Participant {
                address: "max@acme.example".into(),
                person_id: Some(11),
            });
        });
        let plan = w.plan();
        let Some(Action::UpdateServer { ics, if_match, .. }) = plan.first() else {
            panic!("{plan:?}")
        };
        assert_eq!(if_match, "\"1\"");
        for keep in [
            "DURATION:PT1H",
            "ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@us.example",
            "ATTENDEE:mailto:list@spam.example",
            "ATTENDEE;ROLE=CHAIR:mailto:jane@acme.example",
            "X-CUSTOM:keep me",
            "TRIGGER:-PT15M",
            "SUMMARY:Meeting (agenda)",
            "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:max@acme.example",
            "LAST-MODIFIED:20240601T120000Z",
        ] {
            assert!(ics.contains(keep), "{keep} missing:\n{ics}");
        }
        // An update that only renames does not become a significant revision.
        assert!(!ics.contains("SEQUENCE"));
    }

    fn gw_fetched_text(w: &mut World, i: usize, text: &str) {
        let href = format!("/cal/e{i}.ics");
        w.remote.retain(|r| r.href != href);
        w.remote.push(remote(&href, "\"1\"", text));
    }

    #[test]
    fn c6_losers_are_kept_for_the_conflict_log() {
        for (policy, winner, losers) in [
            (
                ConflictPolicy::CrmWins,
                Some(Side::Crm),
                vec![Side::Groupware],
            ),
            (
                ConflictPolicy::GroupwareWins,
                Some(Side::Groupware),
                vec![Side::Crm],
            ),
            (ConflictPolicy::Ask, None, vec![Side::Crm, Side::Groupware]),
        ] {
            let mut w = both_changed();
            w.settings.conflict = policy;
            let plan = w.plan();
            let Some(Action::Conflict {
                winner: got,
                losers: l,
                policy: name,
                ..
            }) = plan.first()
            else {
                panic!("{plan:?}")
            };
            assert_eq!(*got, winner, "{name}");
            assert_eq!(
                l.iter().map(|x| x.side).collect::<Vec<_>>(),
                losers,
                "{name}"
            );
            for x in l {
                match x.side {
                    Side::Groupware => assert!(x.data.contains("SUMMARY:GW title"), "{}", x.data),
                    Side::Crm => {
                        assert!(x.data.contains("\"subject\":\"CRM title\""), "{}", x.data)
                    }
                }
            }
        }
    }

    #[test]
    fn c6_ask_answered_by_the_person_follows_the_choice() {
        for side in [Side::Crm, Side::Groupware] {
            let mut w = both_changed();
            w.settings.conflict = ConflictPolicy::Ask;
            let id = w.state[0].activity;
            w.settings.decided.insert(id, side);
            let plan = w.plan();
            let Some(Action::Conflict { winner, losers, .. }) = plan.first() else {
                panic!("{plan:?}")
            };
            assert_eq!(*winner, Some(side));
            assert_eq!(losers.len(), 1);
            assert_ne!(losers[0].side, side);
            let wrote = plan.iter().skip(1).find(|a| a.writes());
            match side {
                Side::Crm => assert!(
                    matches!(wrote, Some(Action::UpdateServer { .. })),
                    "{plan:?}"
                ),
                Side::Groupware => {
                    assert!(matches!(wrote, Some(Action::UpdateCrm { .. })), "{plan:?}")
                }
            }
        }
    }

    /// Applies a plan the way the apply step would, for the C11 test.
    fn apply(w: &mut World, plan: &[Action]) {
        let mut next_id = 500;
        for a in plan {
            match a {
                Action::CreateInCrm {
                    href,
                    etag,
                    uid,
                    activity_type,
                    fields,
                    record,
                    ..
                } => {
                    next_id += 1;
                    w.crm.push(CrmEntry {
                        id: next_id,
                        activity_type: (*activity_type).into(),
                        uid: Some(uid.clone()),
                        fields: fields.clone(),
                        updated_at: w.settings.now,
                    });
                    w.state.push(Synced {
                        href: href.clone(),
                        etag: Some(etag.clone()),
                        gw_hash: record.gw_hash.clone(),
                        crm_hash: record.crm_hash.clone(),
                        activity: next_id,
                        link_pending: false,
                    });
                }
                Action::UpdateCrm {
                    activity,
                    fields,
                    record,
                    etag,
                    ..
                } => {
                    w.crm.iter_mut().find(|c| c.id == *activity).unwrap().fields = fields.clone();
                    let s = w
                        .state
                        .iter_mut()
                        .find(|s| s.activity == *activity)
                        .unwrap();
                    s.gw_hash = record.gw_hash.clone();
                    s.crm_hash = record.crm_hash.clone();
                    s.etag = Some(etag.clone());
                }
                Action::CreateOnServer {
                    activity,
                    name,
                    ics,
                    record,
                    ..
                } => {
                    let href = format!("/cal/{name}");
                    // The server re-serialises (volatile property added).
                    let stored = ics.replace("END:VEVENT", "X-RADICALE-NAME:x\r\nEND:VEVENT");
                    w.remote.push(remote(&href, "\"s1\"", &stored));
                    w.state.push(Synced {
                        href,
                        etag: None,
                        gw_hash: record.gw_hash.clone(),
                        crm_hash: record.crm_hash.clone(),
                        activity: *activity,
                        link_pending: false,
                    });
                }
                Action::UpdateServer {
                    activity,
                    href,
                    ics,
                    record,
                    ..
                } => {
                    w.remote.retain(|r| &r.href != href);
                    w.remote.push(remote(href, "\"s2\"", ics));
                    let s = w
                        .state
                        .iter_mut()
                        .find(|s| s.activity == *activity)
                        .unwrap();
                    s.gw_hash = record.gw_hash.clone();
                    s.crm_hash = record.crm_hash.clone();
                    s.link_pending = record.link_pending;
                    s.etag = None;
                }
                _ => {}
            }
        }
    }

    #[test]
    fn c11_a_sync_right_after_a_sync_writes_nothing() {
        let mut w = World::agreed(3);
        w.settings.crm_link = Some("https://crm.example/a/{id}".into());
        w.remote.push(remote(
            "/cal/new.ics",
            "\"9\"",
            &event("new", "From the calendar"),
        ));
        let mut c = crm_of(7, &event("x", "From the CRM"), "2024-05-02 00:00");
        c.uid = None;
        w.crm.push(c);
        gw_edit(&mut w, 0, &event("e0", "Edited in the calendar"));
        crm_edit(&mut w, 1, |c| c.fields.subject = "Edited in the CRM".into());
        gw_fetched(&mut w, 1);
        let first = w.plan();
        assert_eq!(
            shape(&first),
            vec![
                ("create_in_crm", "C2"),
                ("update_crm", "C2"),
                ("create_on_server", "C3"),
                ("update_server", "C3"),
            ]
        );
        // --dry-run --json prints the plan.
        let json = serde_json::to_value(&first).unwrap();
        assert_eq!(json[0]["action"], "create_in_crm");
        assert_eq!(json[0]["rule"], "C2");
        assert!(json[0].get("item").is_none());
        apply(&mut w, &first);
        let second = w.plan();
        assert!(second.iter().all(|a| !a.writes()), "{:?}", shape(&second));
        // Only new ETags are remembered; a third run is empty.
        for a in &second {
            if let Action::Remember {
                href, etag, record, ..
            } = a
            {
                let s = w.state.iter_mut().find(|s| &s.href == href).unwrap();
                s.etag = Some(etag.clone());
                s.gw_hash = record.gw_hash.clone();
                s.crm_hash = record.crm_hash.clone();
            }
        }
        for r in &mut w.remote {
            r.body = Body::NotFetched;
        }
        assert_eq!(shape(&w.plan()), vec![]);
    }

    #[test]
    fn c4_series_with_exceptions_travels_and_keeps_every_occurrence() {
        let series = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:s\r\nDTSTAMP:20240101T000000Z\r\n\
DTSTART;TZID=Europe/Berlin:20240305T100000\r\nDTEND;TZID=Europe/Berlin:20240305T110000\r\n\
RRULE:FREQ=WEEKLY;COUNT=8\r\nEXDATE;TZID=Europe/Berlin:20240319T100000,20240409T100000\r\n\
SUMMARY:Weekly\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:s\r\nDTSTAMP:20240101T000000Z\r\nSEQUENCE:1\r\n\
RECURRENCE-ID;TZID=Europe/Berlin:20240326T100000\r\nDTSTART;TZID=Europe/Berlin:20240327T140000\r\n\
DTEND;TZID=Europe/Berlin:20240327T150000\r\nSUMMARY:Weekly (moved)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let mut w = World::new();
        w.remote.push(remote("/cal/s.ics", "\"1\"", series));
        let plan = w.plan();
        let Some(Action::CreateInCrm { fields, .. }) = plan.first() else {
            panic!("{plan:?}")
        };
        assert_eq!(fields.rrule.as_deref(), Some("FREQ=WEEKLY;COUNT=8"));
        assert_eq!(fields.exdate.len(), 1);
        assert_eq!(fields.overrides.len(), 1);
        assert_eq!(
            fields.overrides[0].props.summary.as_deref(),
            Some("Weekly (moved)")
        );

        // The CRM moves a second instance; the server copy keeps the rest.
        apply(&mut w, &plan);
        let c = w
            .crm
            .iter_mut()
            .find(|c| c.uid.as_deref() == Some("s"))
            .unwrap();
        let z = |s: &str| CalTime::Zoned {
            tzid: "Europe/Berlin".into(),
            local: NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap(),
        };
        c.fields.overrides.push(Override {
            recurrence_id: z("2024-04-16 10:00"),
            this_and_future: false,
            props: Props {
                start: Some(z("2024-04-16 16:00")),
                end: Some(z("2024-04-16 17:00")),
                summary: Some("Weekly (afternoon)".into()),
                ..Props::default()
            },
        });
        let plan = w.plan();
        let Some(Action::UpdateServer { ics, .. }) = plan.first() else {
            panic!("{plan:?}")
        };
        let it = parsed(ics);
        let occ = ical::occurrences(&it, t("2024-01-01 00:00"), t("2025-01-01 00:00")).unwrap();
        let starts: Vec<String> = occ.iter().map(|o| o.start.to_string()).collect();
        let b = |d: &str| format!("{d}[Europe/Berlin]");
        assert_eq!(
            starts,
            vec![
                b("2024-03-05T10:00:00"),
                b("2024-03-12T10:00:00"),
                b("2024-03-27T14:00:00"),
                b("2024-04-02T10:00:00"),
                b("2024-04-16T16:00:00"),
                b("2024-04-23T10:00:00"),
            ]
        );
        assert!(
            ics.contains("SEQUENCE:1\r\n"),
            "the untouched override keeps its SEQUENCE"
        );
    }

    #[test]
    fn c8_link_is_added_after_create_in_crm_and_not_crm_text() {
        let mut w = World::new();
        w.settings.crm_link = Some("https://crm.example/a/{id}".into());
        w.remote
            .push(remote("/cal/n.ics", "\"1\"", &event("n", "New")));
        let plan = w.plan();
        let Some(Action::CreateInCrm {
            link, item, record, ..
        }) = plan.first()
        else {
            panic!("{plan:?}")
        };
        assert!(*link && record.link_pending);
        let url = link_url("https://crm.example/a/{id}", 501);
        let linked = link_item(item, &url, t("2024-06-01 12:00")).unwrap();
        assert_eq!(
            linked.props.description.as_deref(),
            Some("https://crm.example/a/501")
        );
        assert!(
            link_item(&linked, &url, t("2024-06-01 12:00")).is_none(),
            "added once"
        );
        // Read back, the link is not CRM text.
        let (fields, _, _) = project(&linked, &owner(), &matches(), Some(&url));
        assert_eq!(fields.text, None);
        // A user who deletes the link does not get it back on CRM edits.
        let mut w = World::new();
        w.settings.crm_link = Some("https://crm.example/a/{id}".into());
        w.pair(0, &event("e0", "Meeting 0"));
        gw_fetched(&mut w, 0);
        crm_edit(&mut w, 0, |c| c.fields.text = Some("notes".into()));
        let plan = w.plan();
        let Some(Action::UpdateServer { ics, .. }) = plan.first() else {
            panic!("{plan:?}")
        };
        assert!(ics.contains("DESCRIPTION:notes\r\n"), "{ics}");
    }

    #[test]
    fn c9_sent_task_is_a_vtodo_with_the_activity_times() {
        let mut w = World::new();
        let mut c = crm_of(55, &event("m", "Call back"), "2024-05-02 00:00");
        c.activity_type = "email_in".into();
        c.uid = None;
        c.fields.start = None;
        c.fields.end = None;
        c.fields.due = Some(CalTime::Utc(t("2024-06-05 15:00").naive_utc()));
        w.send.push((c, Kind::Todo));
        let plan = w.plan();
        let Some(Action::CreateOnServer { ics, kind, .. }) = plan.first() else {
            panic!("{plan:?}")
        };
        assert_eq!(*kind, Kind::Todo);
        let it = parsed(ics);
        assert_eq!(it.kind, Kind::Todo);
        assert_eq!(
            it.props.due.as_ref().map(|d| d.to_string()),
            Some("2024-06-05T15:00:00Z".into())
        );
    }

    #[test]
    fn c7_guard_reports_side_count_and_total() {
        let mut w = World::agreed(10);
        w.crm.drain(0..3);
        let plan = w.plan();
        assert_eq!(
            plan,
            vec![Action::MassDeleteStop {
                rule: Rule::C7,
                side: Side::Groupware,
                count: 3,
                total: 10
            }]
        );
    }

    #[test]
    fn to_fetch_asks_only_for_what_the_plan_needs() {
        let mut w = World::agreed(4);
        w.state[1].link_pending = true;
        crm_edit(&mut w, 2, |c| c.fields.subject = "x".into());
        let listing = vec![
            ("/cal/e0.ics".to_string(), "\"1\"".to_string()),
            ("/cal/e1.ics".to_string(), "\"1\"".to_string()),
            ("/cal/e2.ics".to_string(), "\"1\"".to_string()),
            ("/cal/e3.ics".to_string(), "\"2\"".to_string()),
            ("/cal/new.ics".to_string(), "\"1\"".to_string()),
        ];
        assert_eq!(
            to_fetch(&listing, &w.state, &w.crm),
            vec!["/cal/e1.ics", "/cal/e2.ics", "/cal/e3.ics", "/cal/new.ics"]
        );
    }
}
