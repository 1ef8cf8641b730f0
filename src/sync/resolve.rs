//! The resolve-unknown engine (SPEC 3): the administrator's work on the
//! unknown-address queue. The list (U1); the actions of U2 from flags or a
//! CSV file (U4), applied in the given order in one batch, or chosen per
//! address through a [`Chooser`] (the menu of [`crate::wizard::resolve`]),
//! each choice in its own batch. Every action re-evaluates the affected
//! activities (U3) and is recorded (U5); those rules live in
//! [`crate::apply::resolve`] and [`crate::plan::resolve`]. A dry run (X8)
//! works on an in-memory copy of the state file, which is dropped.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::address::domain_of;
use crate::apply::resolve::{Action, Change, Outcome, ResolveError, Resolver};
use crate::config::Config;
use crate::error::{Exit, usage};
use crate::matching::Matcher;
use crate::model::Rule;
use crate::plan::resolve::split_name;
use crate::state::{State, UnknownRow};

/// One action with where it came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `--assign x@y=P1`, or `file.csv:3`.
    pub origin: String,
    pub action: Action,
}

/// The actions given on the command line, each list in its flag's order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Given<'a> {
    pub assign: &'a [String],
    pub create: &'a [String],
    pub link_domain: &'a [String],
    pub ignore: &'a [String],
    /// CSV files (U4).
    pub apply: &'a [PathBuf],
    pub auto_domain: bool,
}

/// The requests of the flags and CSV files, in command-line order.
/// `positions`: where each flag's values stand on the command line (by
/// flag id: `assign`, `create`, `link_domain`, `ignore`, `apply`,
/// `auto_domain`); a flag missing there goes last.
///
/// # Errors
/// A usage error naming every value or row that does not parse, or a CSV
/// file that cannot be read; nothing is changed then.
pub fn requests(
    given: &Given<'_>,
    positions: &HashMap<String, Vec<usize>>,
) -> Result<Vec<Request>> {
    let at = |id: &str, i: usize| -> usize {
        positions
            .get(id)
            .and_then(|v| v.get(i).copied())
            .unwrap_or(usize::MAX - 1000 + i)
    };
    let mut found: Vec<(usize, Vec<Request>)> = Vec::new();
    let mut errors = Vec::new();
    let mut flag =
        |id: &str, name: &str, values: &[String], parse: fn(&str) -> Result<Action, String>| {
            for (i, v) in values.iter().enumerate() {
                let origin = format!("--{name} {v}");
                match parse(v) {
                    Ok(action) => found.push((at(id, i), vec![Request { origin, action }])),
                    Err(e) => errors.push(format!("{origin}: {e}")),
                }
            }
        };
    flag("assign", "assign", given.assign, parse_assign);
    flag("create", "create", given.create, parse_create);
    flag(
        "link_domain",
        "link-domain",
        given.link_domain,
        parse_link_domain,
    );
    flag("ignore", "ignore", given.ignore, parse_ignore);
    for (i, file) in given.apply.iter().enumerate() {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading {}", file.display()))
            .map_err(|e| usage(format!("{e:#}")))?;
        let (reqs, errs) = parse_csv(&text, file);
        errors.extend(errs);
        found.push((at("apply", i), reqs));
    }
    if given.auto_domain {
        found.push((
            at("auto_domain", 0),
            vec![Request {
                origin: "--auto-domain".into(),
                action: Action::AutoDomain,
            }],
        ));
    }
    if !errors.is_empty() {
        return Err(usage(format!("{}\nnothing was changed", errors.join("\n"))));
    }
    found.sort_by_key(|(i, _)| *i);
    Ok(found.into_iter().flat_map(|(_, r)| r).collect())
}

fn pair<'a>(s: &'a str, what: &str) -> Result<(&'a str, &'a str), String> {
    match s.split_once('=') {
        Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => Ok((a.trim(), b.trim())),
        _ => Err(format!("expected {what}")),
    }
}

fn parse_assign(s: &str) -> Result<Action, String> {
    let (address, person) = pair(s, "ADDR=PERSON_ID")?;
    Ok(Action::Assign {
        address: address.into(),
        person: person.into(),
    })
}

fn parse_create(s: &str) -> Result<Action, String> {
    let (address, name) = match s.split_once('=') {
        Some((a, n)) => (a.trim(), Some(n)),
        None => (s.trim(), None),
    };
    if address.is_empty() {
        return Err("expected ADDR or ADDR=FIRST LAST".into());
    }
    let name = match name {
        Some(n) => Some(split_name(n).ok_or("expected a name after `=`, e.g. ADDR=Jane Doe")?),
        None => None,
    };
    Ok(Action::Create {
        address: address.into(),
        name,
        company: None,
    })
}

fn parse_link_domain(s: &str) -> Result<Action, String> {
    let (domain, company) = pair(s, "DOMAIN=COMPANY_ID")?;
    Ok(Action::LinkDomain {
        domain: domain.into(),
        company: company.into(),
    })
}

fn parse_ignore(s: &str) -> Result<Action, String> {
    let p = s.trim();
    if p.is_empty() {
        return Err("expected an address or @domain".into());
    }
    Ok(Action::Ignore { pattern: p.into() })
}

/// U4 `--apply`: rows `address,action,target`, an optional header row,
/// blank lines and `#` comments. Every row that does not parse is named
/// `file:line:`. One row per line (the fields never need line breaks).
fn parse_csv(text: &str, file: &Path) -> (Vec<Request>, Vec<String>) {
    let mut reqs = Vec::new();
    let mut errors = Vec::new();
    let name = file.display();
    let mut first = true;
    for (n, line) in text.lines().enumerate() {
        let origin = format!("{name}:{}", n + 1);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(line.as_bytes());
        let rec = match rd.records().next() {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                errors.push(format!("{origin}: {e}"));
                continue;
            }
            None => continue,
        };
        let field = |i: usize| rec.get(i).unwrap_or("").trim();
        if std::mem::take(&mut first) && field(0).eq_ignore_ascii_case("address") {
            continue;
        }
        let (address, action, target) = (field(0), field(1).to_lowercase(), field(2));
        let parsed = if rec.len() > 3 {
            Err(format!(
                "{} columns; expected address,action,target",
                rec.len()
            ))
        } else if address.is_empty() {
            Err("the address is empty".to_string())
        } else {
            match action.as_str() {
                "assign" if target.is_empty() => {
                    Err("assign needs a person id as target".to_string())
                }
                "assign" => parse_assign(&format!("{address}={target}")),
                "create" if target.is_empty() => parse_create(address),
                "create" => parse_create(&format!("{address}={target}")),
                "link-domain" if target.is_empty() => {
                    Err("link-domain needs a company id as target".to_string())
                }
                "link-domain" => {
                    // The address column may hold the domain or an address at it.
                    let domain = if address.starts_with('@') {
                        address
                    } else {
                        domain_of(address).unwrap_or(address)
                    };
                    parse_link_domain(&format!("{domain}={target}"))
                }
                "ignore" if !target.is_empty() => Err(format!(
                    "ignore takes no target (got `{target}`); write @domain in the address column to ignore a domain"
                )),
                "ignore" => parse_ignore(address),
                "skip" => Ok(Action::Skip {
                    address: address.into(),
                }),
                "" => Err("the action is empty".to_string()),
                other => Err(format!(
                    "unknown action `{other}`; expected assign, create, link-domain, ignore or skip"
                )),
            }
        };
        match parsed {
            Ok(action) => reqs.push(Request { origin, action }),
            Err(e) => errors.push(format!("{origin}: {e}")),
        }
    }
    (reqs, errors)
}

/// What the person chose for one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Act(Action),
    /// Leaves the address open and goes on with the next.
    Skip,
    /// Stops; what was applied stays.
    Quit,
}

/// The menu's questions (interactive: [`crate::wizard::resolve::Menu`]).
pub trait Chooser {
    /// The open queue as the menu starts (empty: nothing to resolve).
    ///
    /// # Errors
    /// Terminal errors.
    fn start(&mut self, entries: &[UnknownEntry], dry_run: bool) -> Result<()>;

    /// What to do with the open address `entry`, the `i`th of `n`.
    ///
    /// # Errors
    /// Terminal and state errors.
    fn choose(&mut self, st: &State, entry: &UnknownEntry, i: usize, n: usize) -> Result<Choice>;

    /// The choice was bad input (an unknown id, a free-mail domain): the
    /// address is asked again.
    fn invalid(&mut self, msg: &str);

    /// One choice was applied (in its own batch).
    fn applied(&mut self, outcome: &Outcome);
}

/// The chooser without a person: every address stays open.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unattended;

impl Chooser for Unattended {
    fn start(&mut self, _: &[UnknownEntry], _: bool) -> Result<()> {
        Ok(())
    }
    fn choose(&mut self, _: &State, _: &UnknownEntry, _: usize, _: usize) -> Result<Choice> {
        Ok(Choice::Skip)
    }
    fn invalid(&mut self, _: &str) {}
    fn applied(&mut self, _: &Outcome) {}
}

/// How the actions are given.
pub enum Work<'a> {
    /// U4: every request in one batch; bad input anywhere changes nothing.
    Requests(&'a [Request]),
    /// A chooser per open address, each choice in its own batch.
    Menu(&'a mut dyn Chooser),
}

/// A person suggested for an address (U1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// One line of the U1 list (SPEC 8 `resolve-unknown --list`, plus fields).
#[derive(Debug, Clone, Serialize)]
pub struct UnknownEntry {
    pub address: String,
    pub count: i64,
    pub display_names: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    /// M10: the external id of the one company with the address's domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_company_name: Option<String>,
    /// The persons carrying the address (ambiguous), then those named like
    /// its display name.
    pub suggested_persons: Vec<Suggestion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_subject: Option<String>,
    pub state: String,
}

/// At most this many persons are suggested per address.
const SUGGESTIONS: usize = 5;

/// U1: the queue (open entries, or all) with suggestions.
///
/// # Errors
/// SQLite errors.
pub fn entries(st: &State, matcher: &Matcher<'_>, all: bool) -> Result<Vec<UnknownEntry>> {
    st.unknown_addresses(all)?
        .into_iter()
        .map(|row| entry(st, matcher, row))
        .collect()
}

/// U1: one queue entry with its suggestions.
///
/// # Errors
/// SQLite errors.
pub fn entry(st: &State, matcher: &Matcher<'_>, row: UnknownRow) -> Result<UnknownEntry> {
    let m = matcher.lookup(&row.address)?;
    let company = match m.company {
        Some(c) => st.company_by_rowid(c)?,
        None => None,
    };
    let mut ids: Vec<i64> = matcher.persons_with(&row.address)?;
    for n in &row.display_names {
        if let Some((first, last)) = split_name(n) {
            ids.extend(st.persons_named(&first, &last, SUGGESTIONS)?);
        }
    }
    let mut seen = BTreeSet::new();
    ids.retain(|id| seen.insert(*id));
    ids.truncate(SUGGESTIONS);
    let mut persons = Vec::new();
    for id in ids {
        if let Some(p) = st.person_by_rowid(id)? {
            persons.push(Suggestion {
                name: p.display_name(),
                email: p.emails.first().cloned(),
                id: p.id,
            });
        }
    }
    Ok(UnknownEntry {
        address: row.address,
        count: row.count,
        display_names: row.display_names,
        first_seen: row.first_seen,
        last_seen: row.last_seen,
        suggested_company: company.as_ref().map(|c| c.id.clone()),
        suggested_company_name: company.map(|c| c.name),
        suggested_persons: persons,
        sample_subject: row.sample_subject,
        state: row.state,
    })
}

/// U1: the queue (open entries, or all) with suggestions.
#[derive(Debug, Serialize)]
pub struct UnknownList {
    pub unknown: Vec<UnknownEntry>,
}

/// U1: the list, from a state file opened for reading.
///
/// # Errors
/// SQLite errors.
pub fn list(cfg: &Config, st: &State, all: bool) -> Result<UnknownList> {
    let matcher = Matcher::new(st, cfg)?;
    Ok(UnknownList {
        unknown: entries(st, &matcher, all)?,
    })
}

/// Runs the actions against the state file (opened for writing, or for a
/// dry run: then on a scratch copy, X8), recorded as a run; `by` is who
/// resolves (U5).
///
/// # Errors
/// A usage error for bad input (nothing changed); SQLite and terminal errors.
pub fn run(cfg: &Config, st: &State, work: Work<'_>, by: &str) -> Result<ResolveReport> {
    // X8: a dry run works on a copy in memory, which is dropped.
    let scratch = if st.writable() {
        None
    } else {
        let s = State::scratch_copy(st.path())?;
        s.sync_users(cfg)?;
        Some(s)
    };
    let target = scratch.as_ref().unwrap_or(st);
    let run = st.begin_run("resolve-unknown")?;
    let outcome = match work {
        Work::Requests(requests) => unattended(cfg, target, requests, by)?,
        Work::Menu(chooser) => menu(cfg, target, chooser, by, !st.writable())?,
    };
    let report = ResolveReport::new(outcome, !st.writable());
    st.end_run(run, report.exit(), &report.counts)?;
    Ok(report)
}

/// U4: every request in one batch; bad input anywhere changes nothing.
///
/// X5 home: resolve-unknown acts on no server, so its crash safety is the
/// batch alone: the directory changes, the re-evaluated activities, the
/// queue states and the resolutions (U5) of all requests commit together
/// or not at all. The menu's choices commit one by one the same way.
fn unattended(cfg: &Config, st: &State, requests: &[Request], by: &str) -> Result<Outcome> {
    let batch = st.batch()?;
    let mut resolver = Resolver::new(st, cfg, by)?;
    let mut out = Outcome::default();
    let mut errors = Vec::new();
    for r in requests {
        match resolver.apply(&r.action) {
            Ok(o) => out.merge(o),
            Err(ResolveError::Invalid(msg)) => errors.push(format!("{}: {msg}", r.origin)),
            Err(ResolveError::Other(e)) => return Err(e.context(format!("applying {}", r.origin))),
        }
    }
    drop(resolver);
    if !errors.is_empty() {
        // Dropping the batch rolls every action back.
        return Err(usage(format!("{}\nnothing was changed", errors.join("\n"))));
    }
    batch.commit()?;
    Ok(out)
}

/// A chooser per open address; each choice is applied at once, in its own
/// batch.
fn menu(
    cfg: &Config,
    st: &State,
    chooser: &mut dyn Chooser,
    by: &str,
    dry_run: bool,
) -> Result<Outcome> {
    let entries = {
        let m = Matcher::new(st, cfg)?;
        entries(st, &m, false)?
    };
    let mut total = Outcome::default();
    chooser.start(&entries, dry_run)?;
    let n = entries.len();
    for (i, e) in entries.into_iter().enumerate() {
        // An earlier choice (a whole domain) may have settled this one.
        let Some(row) = st.unknown_address(&e.address)? else {
            continue;
        };
        if row.state != "open" {
            continue;
        }
        let entry = entry(st, &Matcher::new(st, cfg)?, row)?;
        loop {
            let action = match chooser.choose(st, &entry, i + 1, n)? {
                Choice::Quit => return Ok(total),
                Choice::Skip => break,
                Choice::Act(a) => a,
            };
            let batch = st.batch()?;
            let mut r = Resolver::new(st, cfg, by)?;
            match r.apply(&action) {
                Ok(o) => {
                    drop(r);
                    batch.commit()?;
                    chooser.applied(&o);
                    total.merge(o);
                    break;
                }
                // Bad input in a menu: say so and ask again.
                Err(ResolveError::Invalid(msg)) => chooser.invalid(&msg),
                Err(ResolveError::Other(e)) => return Err(e),
            }
        }
    }
    Ok(total)
}

/// The counts of a run (SPEC 8).
#[derive(Debug, Default, Serialize)]
pub struct ResolveCounts {
    pub resolved: usize,
    pub ignored: usize,
    pub created: usize,
    pub updated: usize,
    pub skipped: usize,
}

/// One resolution of a run.
#[derive(Debug, Serialize)]
pub struct ResolveItem {
    /// The address (or `@domain`).
    pub id: String,
    pub action: String,
    pub rule: Rule,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub state: String,
    pub activities: Vec<i64>,
}

/// The result of a run, in the shape of every sync command (SPEC 8), with
/// each re-evaluated activity before and after (U3).
#[derive(Debug, Serialize)]
pub struct ResolveReport {
    pub command: &'static str,
    pub dry_run: bool,
    pub counts: ResolveCounts,
    pub items: Vec<ResolveItem>,
    pub changes: Vec<Change>,
}

impl ResolveReport {
    fn new(out: Outcome, dry_run: bool) -> ResolveReport {
        let mut counts = ResolveCounts {
            created: out.created.len(),
            updated: out.changes.len(),
            ..ResolveCounts::default()
        };
        let items = out
            .resolved
            .into_iter()
            .map(|r| {
                match r.state {
                    "resolved" => counts.resolved += 1,
                    "ignored" => counts.ignored += 1,
                    _ => counts.skipped += 1,
                }
                ResolveItem {
                    rule: match r.action {
                        "link-domain" | "auto-domain" => Rule::M10,
                        "ignore" | "ignore-domain" => Rule::M14,
                        _ => Rule::U2,
                    },
                    id: r.address,
                    action: r.action.to_string(),
                    reason: r.target,
                    state: r.state.to_string(),
                    activities: r.activities,
                }
            })
            .collect();
        ResolveReport {
            command: "resolve-unknown",
            dry_run,
            counts,
            items,
            changes: out.changes,
        }
    }

    /// The exit code of a run that got this far (SPEC X7).
    pub fn exit(&self) -> Exit {
        Exit::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::resolve::tests::{fill, import, mail, setup};
    use crate::state::Access;

    #[test]
    fn u4_flag_values_parse() {
        assert_eq!(
            parse_assign(" x@y.example = P1 "),
            Ok(Action::Assign {
                address: "x@y.example".into(),
                person: "P1".into()
            })
        );
        assert!(parse_assign("x@y.example").is_err());
        assert!(parse_assign("x@y.example=").is_err());
        assert_eq!(
            parse_create("x@y.example=Mary Ann Smith"),
            Ok(Action::Create {
                address: "x@y.example".into(),
                name: Some(("Mary Ann".into(), "Smith".into())),
                company: None
            })
        );
        assert_eq!(
            parse_create("x@y.example"),
            Ok(Action::Create {
                address: "x@y.example".into(),
                name: None,
                company: None
            })
        );
        assert!(parse_create("x@y.example=").is_err());
        assert!(parse_link_domain("acme.example").is_err());
        assert!(parse_ignore(" ").is_err());
    }

    #[test]
    fn u4_csv_rows_parse_and_bad_rows_name_file_and_line() {
        let text = "address,action,target\n\
                    x@y.example,assign,P1\n\
                    # a comment\n\
                    \n\
                    n@y.example,create,Nina New\n\
                    s@acme.example,link-domain,C1\n\
                    @spam.example,ignore,\n\
                    k@y.example,skip\n\
                    b@y.example,promote,P1\n\
                    c@y.example,assign\n";
        let (reqs, errs) = parse_csv(text, Path::new("r.csv"));
        let origins: Vec<&str> = reqs.iter().map(|r| r.origin.as_str()).collect();
        assert_eq!(
            origins,
            vec!["r.csv:2", "r.csv:5", "r.csv:6", "r.csv:7", "r.csv:8"]
        );
        assert_eq!(
            reqs[2].action,
            Action::LinkDomain {
                domain: "acme.example".into(),
                company: "C1".into()
            }
        );
        assert_eq!(
            reqs[3].action,
            Action::Ignore {
                pattern: "@spam.example".into()
            }
        );
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(
            errs[0].starts_with("r.csv:9: unknown action `promote`"),
            "{errs:?}"
        );
        assert!(errs[1].starts_with("r.csv:10: assign needs"), "{errs:?}");
    }

    #[test]
    fn u1_list_suggests_company_and_persons() {
        let (st, cfg) = setup();
        import(
            &st,
            &cfg,
            &mail("Jane Doe <jd@acme.example>", "alice@us.example", "l1"),
            false,
        );
        import(
            &st,
            &cfg,
            &mail("shared@roe.example", "alice@us.example", "l2"),
            false,
        );
        let m = Matcher::new(&st, &cfg).unwrap();
        let l = entries(&st, &m, false).unwrap();
        assert_eq!(l[0].address, "jd@acme.example");
        assert_eq!(l[0].suggested_company.as_deref(), Some("C1"));
        assert_eq!(l[0].suggested_persons[0].id, "P1");
        assert_eq!(l[0].count, 1);
        let ids: Vec<&str> = l[1]
            .suggested_persons
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(ids, vec!["P4", "P5"]);
    }

    fn assign(address: &str, person: &str) -> Request {
        Request {
            origin: format!("--assign {address}={person}"),
            action: Action::Assign {
                address: address.into(),
                person: person.into(),
            },
        }
    }

    fn state_of(st: &State, address: &str) -> String {
        st.unknown_address(address)
            .unwrap()
            .map(|r| r.state)
            .unwrap_or_default()
    }

    #[test]
    fn x5_one_bad_request_rolls_the_whole_batch_back() {
        let (st, cfg) = setup();
        import(
            &st,
            &cfg,
            &mail(
                "x@nowhere.example",
                "alice@us.example, y@nowhere.example",
                "b1",
            ),
            false,
        );
        let requests = [
            assign("x@nowhere.example", "P6"),
            assign("y@nowhere.example", "P99"),
        ];
        let err = unattended(&cfg, &st, &requests, "tester").unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("--assign y@nowhere.example=P99: there is no person with id `P99`"),
            "{msg}"
        );
        assert!(msg.ends_with("nothing was changed"), "{msg}");
        assert_eq!(state_of(&st, "x@nowhere.example"), "open");
        assert!(st.resolutions().unwrap().is_empty());
        let out = unattended(&cfg, &st, &requests[..1], "tester").unwrap();
        assert_eq!(out.resolved.len(), 1);
        assert_eq!(state_of(&st, "x@nowhere.example"), "resolved");
    }

    /// A chooser that answers from a script and notes what it was told.
    #[derive(Default)]
    struct Script {
        answers: Vec<Choice>,
        asked: Vec<String>,
        invalid: Vec<String>,
        applied: usize,
    }

    impl Chooser for Script {
        fn start(&mut self, _: &[UnknownEntry], _: bool) -> Result<()> {
            Ok(())
        }
        fn choose(&mut self, _: &State, e: &UnknownEntry, i: usize, n: usize) -> Result<Choice> {
            self.asked.push(format!("{i}/{n} {}", e.address));
            Ok(if self.answers.is_empty() {
                Choice::Quit
            } else {
                self.answers.remove(0)
            })
        }
        fn invalid(&mut self, msg: &str) {
            self.invalid.push(msg.to_string());
        }
        fn applied(&mut self, _: &Outcome) {
            self.applied += 1;
        }
    }

    #[test]
    fn u2_menu_asks_again_after_bad_input_and_skips_settled_addresses() {
        let (st, cfg) = setup();
        import(
            &st,
            &cfg,
            &mail(
                "a@spam.example",
                "alice@us.example, b@spam.example, x@nowhere.example",
                "m1",
            ),
            false,
        );
        let mut script = Script {
            answers: vec![
                // a@spam.example: an unknown person, then the whole domain.
                Choice::Act(assign("a@spam.example", "P99").action),
                Choice::Act(Action::Ignore {
                    pattern: "@spam.example".into(),
                }),
                // b@spam.example is settled by then; x@nowhere.example:
                Choice::Skip,
            ],
            ..Script::default()
        };
        let out = menu(&cfg, &st, &mut script, "tester", false).unwrap();
        assert_eq!(
            script.asked,
            vec![
                "1/3 a@spam.example",
                "1/3 a@spam.example",
                "3/3 x@nowhere.example"
            ]
        );
        assert_eq!(script.invalid.len(), 1, "{:?}", script.invalid);
        assert_eq!(script.applied, 1);
        assert_eq!(out.resolved.len(), 2, "both addresses at the domain");
        assert_eq!(state_of(&st, "b@spam.example"), "ignored");
        assert_eq!(state_of(&st, "x@nowhere.example"), "open");
    }

    #[test]
    fn u2_the_unattended_chooser_leaves_every_address_open() {
        let (st, cfg) = setup();
        import(
            &st,
            &cfg,
            &mail("x@nowhere.example", "alice@us.example", "u1"),
            false,
        );
        let out = menu(&cfg, &st, &mut Unattended, "tester", false).unwrap();
        assert!(out.resolved.is_empty() && out.changes.is_empty());
        assert_eq!(state_of(&st, "x@nowhere.example"), "open");
        assert!(st.resolutions().unwrap().is_empty());
    }

    #[test]
    fn x8_dry_run_reports_the_change_and_leaves_the_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.sqlite");
        let cfg = {
            let st = State::open(&p, Access::Write, "t").unwrap();
            let cfg = fill(&st);
            import(
                &st,
                &cfg,
                &mail("x@nowhere.example", "alice@us.example", "d1"),
                false,
            );
            cfg
        };
        let before = std::fs::read(&p).unwrap();
        let st = State::open(&p, Access::DryRun, "resolve-unknown").unwrap();
        let requests = [assign("x@nowhere.example", "P6")];
        let report = run(&cfg, &st, Work::Requests(&requests), "tester").unwrap();
        assert!(report.dry_run);
        assert_eq!(
            (report.counts.resolved, report.counts.updated),
            (1, 1),
            "{report:?}"
        );
        assert_eq!(report.changes[0].after.attached_to, "person P6");
        assert_eq!(state_of(&st, "x@nowhere.example"), "open");
        drop(st);
        assert_eq!(std::fs::read(&p).unwrap(), before);
    }

    #[test]
    fn u3_a_run_reports_counts_and_items_in_the_spec8_shape() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.sqlite");
        let st = State::open(&p, Access::Write, "resolve-unknown").unwrap();
        let cfg = fill(&st);
        import(
            &st,
            &cfg,
            &mail("x@nowhere.example", "alice@us.example", "r1"),
            false,
        );
        let requests = [assign("x@nowhere.example", "P6")];
        let report = run(&cfg, &st, Work::Requests(&requests), "tester").unwrap();
        assert!(!report.dry_run);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["counts"],
            serde_json::json!({"resolved": 1, "ignored": 0, "created": 0, "updated": 1, "skipped": 0})
        );
        assert_eq!(
            json["items"][0],
            serde_json::json!({"id": "x@nowhere.example", "action": "assign", "rule": "U2",
                               "reason": "P6", "state": "resolved", "activities": [1]})
        );
        assert_eq!(state_of(&st, "x@nowhere.example"), "resolved");
    }
}
