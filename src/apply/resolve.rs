//! Resolving the unknown-address queue (SPEC 3): the directory change of
//! each U2 action, the re-evaluation of the affected activities (U3) and the
//! audit row (U5), in the caller's batch.
//!
//! Terms: an *open* address waits in the queue (M7, M8). A *resolution* is
//! one action on it: `assign` (the address becomes a further address of a
//! person), `create` (a new person carries it), `link-domain` and
//! `auto-domain` (its domain becomes a web domain of a company, M10),
//! `ignore` and `ignore-domain` (M14). *Re-evaluation* finds every activity
//! linked to or flagged about a resolved address, gathers what it has
//! stored and the directory's answers as they are after the change, asks
//! the U3 planner ([`crate::plan::resolve`]) what changes, and writes the
//! new place, the added participants (never removing one) and the new
//! flags.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::address::{domain_of, looks_like_address, normalize};
use crate::config::Config;
use crate::matching::{Matcher, PersonMatch};
use crate::parse::mail as mailparse;
use crate::plan;
use crate::plan::resolve::{Facts, Replan, Resolution, names_for, parse_domain};
use crate::state::directory::NewPerson;
use crate::state::{State, UnknownRow};

/// One U2 action, as given on the command line, in a CSV row or chosen in
/// the interactive menu. Ids are external ids, as `crm list` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The address becomes a further address of the person.
    Assign { address: String, person: String },
    /// A new person carries the address; names default to the display name.
    /// `company`: None for the domain suggestion (M10), `Some(None)` for no
    /// company, `Some(Some(id))` for that company.
    Create {
        address: String,
        name: Option<(String, String)>,
        company: Option<Option<String>>,
    },
    /// The domain becomes a web domain of the company (M10).
    LinkDomain { domain: String, company: String },
    /// An address, or `@domain` for a whole domain (M14).
    Ignore { pattern: String },
    /// Every open address whose domain names exactly one company (M10).
    AutoDomain,
    /// Leaves the address open.
    Skip { address: String },
}

/// Why an action was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Bad input (an unknown id, a malformed address, an address not in the
    /// queue): the caller names the item and changes nothing (exit 2).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

fn invalid<T>(msg: impl Into<String>) -> Result<T, ResolveError> {
    Err(ResolveError::Invalid(msg.into()))
}

/// What one resolution did to one address.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    /// The address, or `@domain` / a pattern when no queued address was affected.
    pub address: String,
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The queue state afterwards: `resolved`, `ignored` or `open` (skip).
    pub state: &'static str,
    /// Activities re-evaluated for it.
    pub activities: Vec<i64>,
}

/// Where an activity is, for before/after listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    /// `person P1`, `company C2`.
    pub attached_to: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub participants: Vec<String>,
    /// `reason` or `reason address`.
    pub flags: Vec<String>,
}

/// One re-evaluated activity.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub id: i64,
    pub subject: String,
    pub before: Place,
    pub after: Place,
}

/// What applying one action did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub resolved: Vec<Resolved>,
    pub changes: Vec<Change>,
    /// External ids of the persons created.
    pub created: Vec<String>,
}

impl Outcome {
    /// Adds a later outcome; an activity changed twice keeps its first
    /// "before" and its last "after".
    pub fn merge(&mut self, other: Outcome) {
        self.resolved.extend(other.resolved);
        self.created.extend(other.created);
        for c in other.changes {
            match self.changes.iter_mut().find(|x| x.id == c.id) {
                Some(x) => x.after = c.after,
                None => self.changes.push(c),
            }
        }
    }
}

/// Applies actions to the directory and the queue and re-evaluates the
/// affected activities, in the state's open batch (X5).
pub struct Resolver<'c> {
    st: &'c State,
    cfg: &'c Config,
    matcher: Matcher<'c>,
    by: String,
}

impl<'c> Resolver<'c> {
    /// `by` is who resolves (U5).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn new(st: &'c State, cfg: &'c Config, by: &str) -> Result<Resolver<'c>> {
        Ok(Resolver {
            st,
            cfg,
            matcher: Matcher::new(st, cfg)?,
            by: by.to_string(),
        })
    }

    pub fn matcher(&self) -> &Matcher<'c> {
        &self.matcher
    }

    /// Applies one action.
    ///
    /// # Errors
    /// [`ResolveError::Invalid`] for bad input (nothing of this action was
    /// written), other errors from SQLite.
    pub fn apply(&mut self, action: &Action) -> Result<Outcome, ResolveError> {
        match action {
            Action::Assign { address, person } => self.assign(address, person),
            Action::Create {
                address,
                name,
                company,
            } => self.create(address, name.as_ref(), company.as_ref()),
            Action::LinkDomain { domain, company } => self.link_domain(domain, company),
            Action::Ignore { pattern } => self.ignore(pattern),
            Action::AutoDomain => self.auto_domain(),
            Action::Skip { address } => {
                let e = self.queued(address)?;
                Ok(Outcome {
                    resolved: vec![Resolved {
                        address: e.address,
                        action: "skip",
                        target: None,
                        state: "open",
                        activities: Vec::new(),
                    }],
                    ..Outcome::default()
                })
            }
        }
    }

    /// A well-formed address that is in the queue (any state).
    fn queued(&self, address: &str) -> Result<UnknownRow, ResolveError> {
        let a = normalize(address);
        if !looks_like_address(&a) {
            return invalid(format!("`{address}` is not an e-mail address"));
        }
        match self.st.unknown_address(&a)? {
            Some(row) => Ok(row),
            None => invalid(format!(
                "`{a}` is not in the unknown-address queue; `crmsync resolve-unknown --list` shows it"
            )),
        }
    }

    /// A queued address that still needs a person: open, or resolved by a
    /// domain (M10: the person stays unknown) or by an assignment that left
    /// it shared by several persons.
    fn needs_person(&self, address: &str) -> Result<UnknownRow, ResolveError> {
        let row = self.queued(address)?;
        let done = match row.state.as_str() {
            "open" => false,
            "resolved" => matches!(
                self.matcher.lookup(&row.address)?.person,
                PersonMatch::Unique(_)
            ),
            _ => true,
        };
        if done {
            return invalid(format!(
                "`{}` is {} already; `crmsync report --resolutions` shows how",
                row.address, row.state
            ));
        }
        Ok(row)
    }

    fn person(&self, id: &str) -> Result<(i64, String), ResolveError> {
        let id = id.trim();
        let rowid = match self.st.person_rowid(id)? {
            Some(r) => Some(r),
            // Persons without an external id are listed by their number.
            None => match id.parse::<i64>() {
                Ok(n) => self
                    .st
                    .person_by_rowid(n)?
                    .filter(|p| p.id == id)
                    .map(|_| n),
                Err(_) => None,
            },
        };
        match rowid {
            Some(r) => Ok((r, id.to_string())),
            None => invalid(format!(
                "there is no person with id `{id}`; `crmsync crm list --search NAME` shows the ids"
            )),
        }
    }

    fn company(&self, id: &str) -> Result<(i64, String), ResolveError> {
        let id = id.trim();
        match self.st.company_rowid(id)? {
            Some(r) => Ok((r, id.to_string())),
            None => invalid(format!(
                "there is no company with id `{id}`; `crmsync crm list --kind companies` shows the ids"
            )),
        }
    }

    fn record(&self, address: &str, action: &str, target: Option<&str>) -> Result<()> {
        self.st
            .record_resolution(address, action, target, &self.by)?;
        Ok(())
    }

    fn assign(&mut self, address: &str, person: &str) -> Result<Outcome, ResolveError> {
        let e = self.needs_person(address)?;
        let (pid, ext) = self.person(person)?;
        self.st.add_person_email(pid, &e.address)?;
        self.record(&e.address, "assign", Some(&ext))?;
        let note = format!("{} assigned to person {ext} (U2)", e.address);
        self.finish(vec![(e.address, note)], "assign", Some(ext), "resolved")
    }

    fn create(
        &mut self,
        address: &str,
        name: Option<&(String, String)>,
        company: Option<&Option<String>>,
    ) -> Result<Outcome, ResolveError> {
        let e = self.needs_person(address)?;
        let company = match company {
            // U2: the domain suggestion (M10), looked up before the new
            // person carries the address.
            None => self.matcher.lookup(&e.address)?.company,
            Some(None) => None,
            Some(Some(id)) => Some(self.company(id)?.0),
        };
        let (first, last) = name
            .cloned()
            .unwrap_or_else(|| names_for(&e.display_names, &e.address));
        let (_, ext) = self.st.create_person(&NewPerson {
            first_name: &first,
            last_name: &last,
            email: &e.address,
            company,
        })?;
        self.record(&e.address, "create", Some(&ext))?;
        let note = format!("person {ext} created for {} (U2)", e.address);
        let mut out = self.finish(
            vec![(e.address, note)],
            "create",
            Some(ext.clone()),
            "resolved",
        )?;
        out.created.push(ext);
        Ok(out)
    }

    fn link_domain(&mut self, domain: &str, company: &str) -> Result<Outcome, ResolveError> {
        let Some(d) = parse_domain(domain) else {
            return invalid(format!("`{domain}` is not a domain"));
        };
        let (cid, ext) = self.company(company)?;
        if self.cfg.free_mail_domains().contains(&d) {
            return invalid(format!(
                "`{d}` is a free-mail domain, which never names a company (M10); assign or create persons for its addresses"
            ));
        }
        for other in self.matcher.companies_with_domain(&d)? {
            if other != cid {
                let name = self
                    .st
                    .company_by_rowid(other)?
                    .map(|c| format!("{} ({})", c.name, c.id))
                    .unwrap_or_default();
                return invalid(format!(
                    "domain `{d}` belongs to company {name} already; a domain of two companies links to none (M10)"
                ));
            }
        }
        self.st.add_company_domain(cid, &d)?;
        let mut items = Vec::new();
        for a in self.st.unknown_at(&d, &["open"])? {
            // Only addresses that now match the company by domain; an
            // ambiguous one still needs a person.
            if self.matcher.lookup(&a)?.company == Some(cid) {
                self.record(&a, "link-domain", Some(&ext))?;
                let note = format!("domain {d} linked to company {ext} (U2, M10)");
                items.push((a, note));
            }
        }
        if items.is_empty() {
            self.record(&format!("@{d}"), "link-domain", Some(&ext))?;
            return Ok(Outcome {
                resolved: vec![Resolved {
                    address: format!("@{d}"),
                    action: "link-domain",
                    target: Some(ext),
                    state: "resolved",
                    activities: Vec::new(),
                }],
                ..Outcome::default()
            });
        }
        self.finish(items, "link-domain", Some(ext), "resolved")
    }

    fn ignore(&mut self, pattern: &str) -> Result<Outcome, ResolveError> {
        let t = pattern.trim();
        let (pattern, action, addresses) = if t.starts_with('@') {
            let Some(d) = parse_domain(t) else {
                return invalid(format!("`{pattern}` is not a domain"));
            };
            let addrs = self.st.unknown_at(&d, &["open", "resolved"])?;
            (format!("@{d}"), "ignore-domain", addrs)
        } else {
            let a = normalize(t);
            if !looks_like_address(&a) {
                return invalid(format!(
                    "`{pattern}` is not an e-mail address (a whole domain is written `@example.com`)"
                ));
            }
            // A resolved address can still flag (M10); an ignored one is done.
            let queued = self
                .st
                .unknown_address(&a)?
                .is_some_and(|r| r.state != "ignored");
            let addrs = if queued { vec![a.clone()] } else { Vec::new() };
            (a, "ignore", addrs)
        };
        self.st.add_ignored(&pattern, &self.by)?;
        self.matcher.reload_ignored()?;
        let target = (action == "ignore-domain").then(|| pattern.clone());
        if addresses.is_empty() {
            // Ignoring ahead of time (M14): nothing queued is affected.
            self.record(&pattern, action, target.as_deref())?;
            return Ok(Outcome {
                resolved: vec![Resolved {
                    address: pattern,
                    action,
                    target,
                    state: "ignored",
                    activities: Vec::new(),
                }],
                ..Outcome::default()
            });
        }
        let mut items = Vec::new();
        for a in addresses {
            self.record(&a, action, target.as_deref())?;
            items.push((a, format!("{pattern} ignored (U2, M14)")));
        }
        self.finish(items, action, target, "ignored")
    }

    fn auto_domain(&mut self) -> Result<Outcome, ResolveError> {
        let mut items = Vec::new();
        for row in self.st.unknown_addresses(false)? {
            let m = self.matcher.lookup(&row.address)?;
            let (PersonMatch::Unknown, Some(cid), false) = (&m.person, m.company, m.ignored) else {
                continue;
            };
            let Some(d) = domain_of(&row.address) else {
                continue;
            };
            // A main e-mail domain becomes a web domain too; a web domain is there already.
            self.st.add_company_domain(cid, d)?;
            let ext = self
                .st
                .company_by_rowid(cid)?
                .map(|c| c.id)
                .unwrap_or_else(|| cid.to_string());
            self.record(&row.address, "auto-domain", Some(&ext))?;
            let note = format!("domain {d} names only company {ext}: linked (U4, M10)");
            items.push((row.address, note, ext));
        }
        let mut out = Outcome::default();
        // One re-evaluation for all: an activity with two such addresses changes once.
        let pairs: Vec<(String, String)> = items
            .iter()
            .map(|(a, n, _)| (a.clone(), n.clone()))
            .collect();
        let (changes, per_address) = self.reevaluate(&pairs)?;
        for (a, _, ext) in items {
            self.st.set_unknown_state(&a, "resolved")?;
            out.resolved.push(Resolved {
                activities: per_address.get(&a).cloned().unwrap_or_default(),
                address: a,
                action: "auto-domain",
                target: Some(ext),
                state: "resolved",
            });
        }
        out.changes = changes;
        Ok(out)
    }

    /// Re-evaluates, sets the queue state, and reports.
    fn finish(
        &mut self,
        items: Vec<(String, String)>,
        action: &'static str,
        target: Option<String>,
        state: &'static str,
    ) -> Result<Outcome, ResolveError> {
        let (changes, per_address) = self.reevaluate(&items)?;
        let mut out = Outcome {
            changes,
            ..Outcome::default()
        };
        for (a, _) in items {
            self.st.set_unknown_state(&a, state)?;
            out.resolved.push(Resolved {
                activities: per_address.get(&a).cloned().unwrap_or_default(),
                address: a,
                action,
                target: target.clone(),
                state,
            });
        }
        Ok(out)
    }

    /// U3: re-evaluates every activity linked to these (address, note)
    /// pairs, then unlinks them from the queue.
    #[allow(clippy::type_complexity)]
    fn reevaluate(
        &self,
        items: &[(String, String)],
    ) -> Result<(Vec<Change>, HashMap<String, Vec<i64>>)> {
        let resolved: BTreeSet<String> = items.iter().map(|(a, _)| a.clone()).collect();
        let mut notes: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        let mut per_address: HashMap<String, Vec<i64>> = HashMap::new();
        for (a, note) in items {
            let mut ids = self.st.unknown_activity_ids(a)?;
            ids.extend(self.st.flagged_activity_ids(a)?);
            ids.sort_unstable();
            ids.dedup();
            for id in &ids {
                notes.entry(*id).or_default().push(note.clone());
            }
            per_address.insert(a.clone(), ids);
        }
        let chosen = self.chosen()?;
        let mut changes = Vec::new();
        for (id, notes) in notes {
            let Some(before) = self.place(id)? else {
                continue;
            };
            let mut notes = notes;
            notes.dedup();
            let note = notes.join("; ");
            let r = Resolution {
                resolved: &resolved,
                note: &note,
                chosen: &chosen,
            };
            self.reevaluate_one(id, &r)
                .with_context(|| format!("re-evaluating activity {id}"))?;
            for a in &resolved {
                self.st.unlink_unknown(a, id)?;
            }
            if let Some(after) = self.place(id)? {
                changes.push(Change {
                    id,
                    subject: before.1,
                    before: before.0,
                    after: after.0,
                });
            }
        }
        Ok((changes, per_address))
    }

    /// Choices recorded by earlier (and this) resolutions: address -> person
    /// (U2 assign/create), the latest winning.
    fn chosen(&self) -> Result<HashMap<String, i64>> {
        let mut map = HashMap::new();
        for r in self.st.resolutions()? {
            if matches!(r.action.as_str(), "assign" | "create")
                && let Some(t) = &r.target
                && let Some(p) = self.st.person_rowid(t)?
            {
                map.insert(r.address, p);
            }
        }
        Ok(map)
    }

    fn place(&self, id: i64) -> Result<Option<(Place, String)>> {
        Ok(self.st.activity_view(id)?.map(|v| {
            (
                Place {
                    attached_to: format!("{} {}", v.attached_to.kind, v.attached_to.id),
                    name: v.attached_to.name,
                    rule: v.rule,
                    participants: v.participants,
                    flags: v.flag_details.iter().map(ToString::to_string).collect(),
                },
                v.subject,
            )
        }))
    }

    /// U3 for one activity: gathers what it has stored and today's
    /// directory answers, asks the planner ([`crate::plan::resolve`]) and
    /// writes its update.
    fn reevaluate_one(&self, id: i64, r: &Resolution<'_>) -> Result<()> {
        let Some(s) = self.st.stored_activity(id)? else {
            return Ok(());
        };
        let mail = match (&s.raw_sha256, &s.headers_sha256) {
            (Some(sha), _) => self.st.blob(sha)?.and_then(|b| mailparse::parse(&b).ok()),
            // M19: only the header block was kept.
            (None, Some(sha)) => self
                .st
                .blob(sha)?
                .and_then(|b| mailparse::parse_headers(&b).ok()),
            (None, None) => None,
        };
        let owner = crate::apply::mail::owner(&self.matcher, self.cfg, &s.rep)?;
        let replan = match (mail, &owner) {
            (Some(mail), Some(owner)) => {
                let account = s
                    .account
                    .as_deref()
                    .and_then(|n| self.cfg.mail.accounts.iter().find(|a| a.name() == n));
                Some(Replan {
                    input: crate::apply::mail::mail_input(&self.matcher, &mail)?,
                    owner,
                    settings: crate::apply::mail::settings(&self.cfg.mail, account, true),
                })
            }
            _ => None,
        };
        let mut directory = HashMap::new();
        for (_, a) in &s.flags {
            if r.resolved.contains(a) && !directory.contains_key(a) {
                directory.insert(a.clone(), self.matcher.lookup(a)?);
            }
        }
        let facts = Facts {
            status: &s.status,
            attach: s.attach,
            rule: s.rule.as_deref(),
            explain: &s.explain,
            flags: &s.flags,
            raw_stored: s.raw_sha256.is_some(),
            headers_stored: s.headers_sha256.is_some(),
        };
        let u = plan::resolve::reevaluate(&facts, replan, &directory, r);
        if let Some(p) = &u.placement {
            self.st.set_placement(id, p.attach, &p.rule, &p.explain)?;
        }
        self.st.add_participants(id, &u.participants)?;
        for (address, person) in &u.identified {
            self.st.identify_participant(id, address, *person)?;
        }
        self.st.replace_flags(id, &u.flags)?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::apply::mail::{self as apply_mail, Origin, ServerActions};
    use crate::model::fixtures::{company, person};
    use crate::plan::mail::Folder;
    use crate::source::mail::MsgRef;
    use serde_json::Value;
    use std::path::Path;

    /// A state in memory with [`fill`]'s directory.
    pub(crate) fn setup() -> (State, Config) {
        let st = State::open_memory().unwrap();
        let cfg = fill(&st);
        (st, cfg)
    }

    /// A directory of three companies and five persons, owner alice (shared
    /// with the resolve engine's tests).
    pub(crate) fn fill(st: &State) -> Config {
        let cfg = Config::parse(
            "own_domains = [\"us.example\"]\n[[users]]\nlogin = \"alice\"\nemails = [\"alice@us.example\"]\n",
            Path::new("t.toml"),
        )
        .unwrap();
        st.sync_users(&cfg).unwrap();
        st.upsert_companies(
            &[
                company("C1", "Acme", None, &["acme.example"]),
                company("C2", "Globex", Some("info@globex.example"), &[]),
                company("C3", "Initech", None, &[]),
            ],
            true,
        )
        .unwrap();
        st.upsert_persons(
            &[
                person("P1", "Jane", "Doe", &["jane@acme.example"]),
                person("P3", "Alice", "Smith", &["alice@us.example"]),
                person("P4", "Quinn", "Roe", &["shared@roe.example"]),
                person("P5", "Other", "Roe", &["shared@roe.example"]),
                person("P6", "Xavier", "New", &["xavier@old.example"]),
            ],
            true,
        )
        .unwrap();
        cfg
    }

    /// Imports one mail the way import-mail does; returns the activity id.
    pub(crate) fn import(st: &State, cfg: &Config, raw: &str, headers_only: bool) -> i64 {
        let raw = raw.replace('\n', "\r\n");
        let mail = mailparse::parse(raw.as_bytes()).unwrap();
        let m = Matcher::new(st, cfg).unwrap();
        let input = apply_mail::mail_input(&m, &mail).unwrap();
        let owner = apply_mail::owner(&m, cfg, "alice").unwrap().unwrap();
        let mut settings = apply_mail::settings(&cfg.mail, None, true);
        settings.headers_only = headers_only;
        let known = apply_mail::known(st, &mail, "acct").unwrap();
        let folder = Folder {
            status: None,
            import_folder: true,
        };
        let action = plan::mail::plan(&input, &owner, &folder, &settings, &known);
        let msg = MsgRef {
            id: mail.content_hash.clone(),
            uid: None,
            size: raw.len() as u64,
        };
        let o = Origin {
            account: "acct",
            folder: "INBOX",
            source_key: "k",
            validity: "1",
            msg: &msg,
        };
        let server = ServerActions {
            mark: false,
            archive: false,
        };
        match apply_mail::apply(st, &o, &mail, raw.as_bytes(), &action, &[], server).unwrap() {
            apply_mail::Applied::Imported(id) => id,
            other => panic!("not imported: {other:?} {action:?}"),
        }
    }

    pub(crate) fn mail(from: &str, to: &str, subject: &str) -> String {
        format!(
            "From: {from}\nTo: {to}\nSubject: {subject}\nMessage-ID: <{subject}@t>\nDate: Fri, 20 Nov 2026 10:00:00 +0000\n\nbody of {subject}\n"
        )
    }

    fn view(st: &State, id: i64) -> Value {
        serde_json::to_value(st.activity_view(id).unwrap().unwrap()).unwrap()
    }

    fn run(st: &State, cfg: &Config, a: Action) -> Result<Outcome, ResolveError> {
        let b = st.batch().unwrap();
        let mut r = Resolver::new(st, cfg, "tester").unwrap();
        let out = r.apply(&a);
        drop(r);
        if out.is_ok() {
            b.commit().unwrap();
        }
        out
    }

    fn state_of(st: &State, a: &str) -> String {
        st.unknown_address(a).unwrap().unwrap().state
    }

    #[test]
    fn u3_assign_moves_the_activity_to_the_person_and_clears_the_flag() {
        let (st, cfg) = setup();
        let id = import(
            &st,
            &cfg,
            &mail("Xavier New <x@nowhere.example>", "alice@us.example", "a1"),
            false,
        );
        assert_eq!(view(&st, id)["attached_to"]["id"], "P3");
        let out = run(
            &st,
            &cfg,
            Action::Assign {
                address: "X@Nowhere.example".into(),
                person: "P6".into(),
            },
        )
        .unwrap();
        let v = view(&st, id);
        assert_eq!(v["attached_to"]["id"], "P6");
        assert_eq!(v["rule"], "M6");
        assert_eq!(v["flags"], serde_json::json!([]));
        assert_eq!(out.changes.len(), 1);
        assert_eq!(out.changes[0].before.attached_to, "person P3");
        assert_eq!(state_of(&st, "x@nowhere.example"), "resolved");
        assert!(
            v["explain"].is_null(),
            "explain is not part of the report JSON"
        );
        let s = st.stored_activity(id).unwrap().unwrap();
        assert!(
            s.explain.last().unwrap().contains("assigned to person P6"),
            "{:?}",
            s.explain
        );
        // U5: recorded, by whom.
        let r = st.resolutions().unwrap();
        assert_eq!(
            (
                r[0].action.as_str(),
                r[0].target.as_deref(),
                r[0].by.as_str()
            ),
            ("assign", Some("P6"), "tester")
        );
        // Later mail from the address is identified (a further address).
        let m = Matcher::new(&st, &cfg).unwrap();
        let p6 = st.person_rowid("P6").unwrap().unwrap();
        assert_eq!(
            m.lookup("x@nowhere.example").unwrap().person,
            PersonMatch::Unique(p6)
        );
    }

    #[test]
    fn u3_ambiguous_sender_assigned_to_one_of_its_persons() {
        let (st, cfg) = setup();
        let id = import(
            &st,
            &cfg,
            &mail("shared@roe.example", "alice@us.example", "amb"),
            false,
        );
        assert_eq!(
            view(&st, id)["flags"],
            serde_json::json!(["ambiguous_sender"])
        );
        run(
            &st,
            &cfg,
            Action::Assign {
                address: "shared@roe.example".into(),
                person: "P5".into(),
            },
        )
        .unwrap();
        let v = view(&st, id);
        assert_eq!(v["attached_to"]["id"], "P5");
        assert_eq!(v["flags"], serde_json::json!([]));
    }

    #[test]
    fn u3_recipients_become_participants_and_only_resolved_flags_go() {
        let (st, cfg) = setup();
        let id = import(
            &st,
            &cfg,
            &mail(
                "jane@acme.example",
                "alice@us.example, a@new.example, b@new.example",
                "rcpt",
            ),
            false,
        );
        assert_eq!(view(&st, id)["flag_details"].as_array().unwrap().len(), 2);
        let out = run(
            &st,
            &cfg,
            Action::Create {
                address: "a@new.example".into(),
                name: None,
                company: None,
            },
        )
        .unwrap();
        assert_eq!(out.created, vec!["auto-6".to_string()]);
        let v = view(&st, id);
        assert_eq!(v["attached_to"]["id"], "P1");
        assert_eq!(
            v["flag_details"],
            serde_json::json!([{"reason": "unidentified_recipient", "address": "b@new.example"}])
        );
        let pid = st.participant_person(id, "a@new.example").unwrap();
        assert!(pid.is_some(), "the participant is now the new person");
        // The second address still waits.
        assert_eq!(state_of(&st, "b@new.example"), "open");
        assert_eq!(st.unknown_activity_ids("b@new.example").unwrap(), vec![id]);
        assert!(st.unknown_activity_ids("a@new.example").unwrap().is_empty());
    }

    #[test]
    fn u2_create_takes_names_and_company_from_the_queue() {
        let (st, cfg) = setup();
        import(
            &st,
            &cfg,
            &mail("\"Nina Neu\" <nina@acme.example>", "alice@us.example", "c1"),
            false,
        );
        run(
            &st,
            &cfg,
            Action::Create {
                address: "nina@acme.example".into(),
                name: None,
                company: None,
            },
        )
        .unwrap();
        let id = st.person_rowid("auto-6").unwrap().unwrap();
        let p = st.person_by_rowid(id).unwrap().unwrap();
        assert_eq!(
            (
                p.first_name.as_str(),
                p.last_name.as_str(),
                p.company_id.as_deref()
            ),
            ("Nina", "Neu", Some("C1"))
        );
        assert_eq!(p.emails, vec!["nina@acme.example"]);
    }

    #[test]
    fn u3_link_domain_links_the_company_and_the_flag_stays_m10() {
        let (st, cfg) = setup();
        let id = import(
            &st,
            &cfg,
            &mail("sales@initech.example", "alice@us.example", "ld"),
            false,
        );
        let bad = run(
            &st,
            &cfg,
            Action::LinkDomain {
                domain: "acme.example".into(),
                company: "C3".into(),
            },
        );
        assert!(
            matches!(bad, Err(ResolveError::Invalid(m)) if m.contains("belongs to company Acme (C1)"))
        );
        run(
            &st,
            &cfg,
            Action::LinkDomain {
                domain: "@Initech.example".into(),
                company: "C3".into(),
            },
        )
        .unwrap();
        let v = view(&st, id);
        assert_eq!(
            (
                v["attached_to"]["kind"].as_str(),
                v["attached_to"]["id"].as_str()
            ),
            (Some("company"), Some("C3"))
        );
        assert_eq!(v["rule"], "M10");
        assert_eq!(v["flags"], serde_json::json!(["unknown_sender"]));
        assert_eq!(state_of(&st, "sales@initech.example"), "resolved");
    }

    #[test]
    fn u2_after_link_domain_the_person_can_still_be_created() {
        let (st, cfg) = setup();
        let id = import(
            &st,
            &cfg,
            &mail(
                "Bill Lumbergh <bill@initech.example>",
                "alice@us.example",
                "ld2",
            ),
            false,
        );
        run(
            &st,
            &cfg,
            Action::LinkDomain {
                domain: "initech.example".into(),
                company: "C3".into(),
            },
        )
        .unwrap();
        assert_eq!(
            view(&st, id)["flags"],
            serde_json::json!(["unknown_sender"])
        );
        let out = run(
            &st,
            &cfg,
            Action::Create {
                address: "bill@initech.example".into(),
                name: None,
                company: None,
            },
        )
        .unwrap();
        assert_eq!(out.changes.len(), 1, "found by its flag");
        let v = view(&st, id);
        assert_eq!(v["attached_to"]["id"], "auto-6");
        assert_eq!(v["flags"], serde_json::json!([]));
        let rowid = st.person_rowid("auto-6").unwrap().unwrap();
        let p = st.person_by_rowid(rowid).unwrap().unwrap();
        assert_eq!(p.company_id.as_deref(), Some("C3"));
        // Once a person carries it, it is done.
        let again = run(
            &st,
            &cfg,
            Action::Assign {
                address: "bill@initech.example".into(),
                person: "P1".into(),
            },
        );
        assert!(
            matches!(again, Err(ResolveError::Invalid(m)) if m.contains("is resolved already"))
        );
    }

    #[test]
    fn u3_ignore_stops_flagging_and_m14_pattern_is_kept() {
        let (st, cfg) = setup();
        let a = import(
            &st,
            &cfg,
            &mail(
                "jane@acme.example",
                "alice@us.example, n@spam.example",
                "i1",
            ),
            false,
        );
        let b = import(
            &st,
            &cfg,
            &mail("x@spam.example", "alice@us.example", "i2"),
            false,
        );
        run(
            &st,
            &cfg,
            Action::Ignore {
                pattern: "@spam.example".into(),
            },
        )
        .unwrap();
        assert_eq!(view(&st, a)["flags"], serde_json::json!([]));
        // The only external party is ignored now (M14): the activity stays, unflagged.
        let v = view(&st, b);
        assert_eq!(
            (v["attached_to"]["id"].as_str(), v["flags"].clone()),
            (Some("P3"), serde_json::json!([]))
        );
        assert_eq!(state_of(&st, "n@spam.example"), "ignored");
        assert_eq!(state_of(&st, "x@spam.example"), "ignored");
        assert!(
            Matcher::new(&st, &cfg)
                .unwrap()
                .is_ignored("new@spam.example")
        );
    }

    #[test]
    fn u3_headers_only_mail_is_re_evaluated_from_its_header_block() {
        let (st, cfg) = setup();
        let id = import(
            &st,
            &cfg,
            &mail("x@nowhere.example", "alice@us.example", "h1"),
            true,
        );
        let s = st.stored_activity(id).unwrap().unwrap();
        assert!(s.raw_sha256.is_none());
        let head = st
            .blob(s.headers_sha256.as_deref().unwrap())
            .unwrap()
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&head).contains("body of"),
            "M19: never the body"
        );
        run(
            &st,
            &cfg,
            Action::Assign {
                address: "x@nowhere.example".into(),
                person: "P6".into(),
            },
        )
        .unwrap();
        assert_eq!(view(&st, id)["attached_to"]["id"], "P6");
    }

    #[test]
    fn u3_without_a_stored_message_the_addresses_are_rechecked() {
        let (st, cfg) = setup();
        let id = import(
            &st,
            &cfg,
            &mail("x@nowhere.example", "alice@us.example", "n1"),
            true,
        );
        st.tamper("UPDATE activities SET headers_sha256 = NULL", [])
            .unwrap();
        run(
            &st,
            &cfg,
            Action::Assign {
                address: "x@nowhere.example".into(),
                person: "P6".into(),
            },
        )
        .unwrap();
        let v = view(&st, id);
        assert_eq!(
            (v["attached_to"]["id"].as_str(), v["rule"].as_str()),
            (Some("P6"), Some("M6"))
        );
        assert_eq!(v["flags"], serde_json::json!([]));
    }

    #[test]
    fn u3_a_wizard_choice_stays() {
        let (st, cfg) = setup();
        let id = import(
            &st,
            &cfg,
            &mail(
                "shared@roe.example",
                "alice@us.example, c@new.example",
                "w2",
            ),
            false,
        );
        // As the wizard records a choice (W2).
        let p4 = st.person_rowid("P4").unwrap().unwrap();
        st.tamper(
            "UPDATE activities SET person_id = ?2, rule = 'W2' WHERE id = ?1",
            [id, p4],
        )
        .unwrap();
        st.tamper(
            "DELETE FROM activity_flags WHERE reason = 'ambiguous_sender'",
            [],
        )
        .unwrap();
        run(
            &st,
            &cfg,
            Action::Ignore {
                pattern: "c@new.example".into(),
            },
        )
        .unwrap();
        let v = view(&st, id);
        assert_eq!(
            (v["attached_to"]["id"].as_str(), v["rule"].as_str()),
            (Some("P4"), Some("W2"))
        );
        assert_eq!(v["flags"], serde_json::json!([]));
    }

    #[test]
    fn u4_bad_input_is_invalid_and_writes_nothing() {
        let (st, cfg) = setup();
        import(
            &st,
            &cfg,
            &mail("x@nowhere.example", "alice@us.example", "b1"),
            false,
        );
        let err = |a: Action| match run(&st, &cfg, a) {
            Err(ResolveError::Invalid(m)) => m,
            other => panic!("expected bad input, got {other:?}"),
        };
        assert!(
            err(Action::Assign {
                address: "x@nowhere.example".into(),
                person: "P99".into()
            })
            .contains("no person with id `P99`")
        );
        assert!(
            err(Action::Assign {
                address: "not an address".into(),
                person: "P1".into()
            })
            .contains("is not an e-mail address")
        );
        assert!(
            err(Action::Assign {
                address: "y@nowhere.example".into(),
                person: "P1".into()
            })
            .contains("not in the unknown-address queue")
        );
        assert!(
            err(Action::LinkDomain {
                domain: "gmail.com".into(),
                company: "C1".into()
            })
            .contains("free-mail")
        );
        assert!(
            err(Action::LinkDomain {
                domain: "x.example".into(),
                company: "C9".into()
            })
            .contains("no company with id `C9`")
        );
        assert!(st.resolutions().unwrap().is_empty());
        run(
            &st,
            &cfg,
            Action::Ignore {
                pattern: "x@nowhere.example".into(),
            },
        )
        .unwrap();
        assert!(
            err(Action::Assign {
                address: "x@nowhere.example".into(),
                person: "P1".into()
            })
            .contains("is ignored already")
        );
    }

    #[test]
    fn u4_auto_domain_links_main_email_domains() {
        let (st, cfg) = setup();
        // Imported before Globex's main e-mail was known: attached to the owner.
        st.tamper(
            "UPDATE companies SET email_domain = NULL WHERE ext_id = 'C2'",
            [],
        )
        .unwrap();
        let id = import(
            &st,
            &cfg,
            &mail("bob@globex.example", "alice@us.example", "ad"),
            false,
        );
        import(
            &st,
            &cfg,
            &mail("x@nowhere.example", "alice@us.example", "ad2"),
            false,
        );
        assert_eq!(view(&st, id)["attached_to"]["id"], "P3");
        st.tamper(
            "UPDATE companies SET email_domain = 'globex.example' WHERE ext_id = 'C2'",
            [],
        )
        .unwrap();
        let out = run(&st, &cfg, Action::AutoDomain).unwrap();
        assert_eq!(out.resolved.len(), 1);
        assert_eq!(out.resolved[0].address, "bob@globex.example");
        assert_eq!(view(&st, id)["attached_to"]["id"], "C2");
        let c = st
            .company_by_rowid(st.company_rowid("C2").unwrap().unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(c.domains, vec!["globex.example"]);
        assert_eq!(state_of(&st, "x@nowhere.example"), "open");
    }
}
