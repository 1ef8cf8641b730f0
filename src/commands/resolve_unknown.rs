//! `crmsync resolve-unknown` (SPEC 3): the administrator's tool for the
//! unknown-address queue. The list (U1); the actions of U2 from flags or a
//! CSV file (U4), applied in the given order in one transaction, or chosen
//! in a menu per address on a terminal, each in its own transaction. Every
//! action re-evaluates the affected activities (U3) and is recorded (U5);
//! those rules live in `apply::resolve`. This module parses the input,
//! drives the menu and prints.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Select};
use serde::Serialize;

use super::Ctx;
use crate::apply::resolve::{
    self, Action, Change, Outcome, ResolveError, Resolver, UnknownEntry, split_name,
};
use crate::cli::ResolveUnknownArgs;
use crate::crm::directory;
use crate::error::{Exit, usage};
use crate::matching::{Matcher, domain_of};
use crate::report::output::{Tabular, render_table};
use crate::state::{Access, State, os_user};

/// One action with where it came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    /// `--assign x@y=P1`, or `file.csv:3`.
    origin: String,
    action: Action,
}

/// U1: the list, as a table or as the SPEC 8 JSON document.
#[derive(Serialize)]
struct List {
    unknown: Vec<UnknownEntry>,
}

const LIST_HEADERS: &[&str] = &[
    "address",
    "mails",
    "seen",
    "sample subject",
    "display names",
    "company (by domain)",
    "persons (by name)",
];

fn list_rows(entries: &[UnknownEntry], with_state: bool) -> Vec<Vec<String>> {
    entries
        .iter()
        .map(|e| {
            let mut address = e.address.clone();
            if with_state && e.state != "open" {
                address = format!("{address} ({})", e.state);
            }
            vec![
                address,
                e.count.to_string(),
                if day(&e.first_seen) == day(&e.last_seen) {
                    day(&e.last_seen)
                } else {
                    format!("{} to\n{}", day(&e.first_seen), day(&e.last_seen))
                },
                e.sample_subject
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .take(40)
                    .collect(),
                e.display_names.join("\n"),
                match (&e.suggested_company_name, &e.suggested_company) {
                    (Some(n), Some(id)) => format!("{n} ({id})"),
                    _ => String::new(),
                },
                e.suggested_persons
                    .iter()
                    .map(|p| format!("{} ({})", p.name, p.id))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ]
        })
        .collect()
}

fn day(ts: &str) -> String {
    ts.get(..10).unwrap_or(ts).to_string()
}

impl Tabular for List {
    fn headers(&self) -> Vec<&'static str> {
        LIST_HEADERS.to_vec()
    }
    fn rows(&self) -> Vec<Vec<String>> {
        list_rows(&self.unknown, true)
    }
    fn footer(&self) -> Vec<String> {
        let open = self.unknown.iter().filter(|e| e.state == "open").count();
        vec![if open == 0 {
            "no open unknown addresses".to_string()
        } else {
            format!(
                "{open} open unknown address(es); resolve them with `crmsync resolve-unknown` on a terminal, \
                 or --assign, --create, --link-domain, --ignore, --apply FILE.csv, --auto-domain"
            )
        }]
    }
}

#[derive(Debug, Default, Serialize)]
struct Counts {
    resolved: usize,
    ignored: usize,
    created: usize,
    updated: usize,
    skipped: usize,
}

#[derive(Debug, Serialize)]
struct Item {
    /// The address (or `@domain`).
    id: String,
    action: String,
    rule: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    state: String,
    activities: Vec<i64>,
}

/// The result of a run, in the shape of every sync command (SPEC 8), with
/// each re-evaluated activity before and after (U3).
#[derive(Debug, Serialize)]
struct Summary {
    command: &'static str,
    dry_run: bool,
    counts: Counts,
    items: Vec<Item>,
    changes: Vec<Change>,
}

impl Summary {
    fn new(out: Outcome, dry_run: bool) -> Summary {
        let mut counts = Counts {
            created: out.created.len(),
            updated: out.changes.len(),
            ..Counts::default()
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
                Item {
                    rule: match r.action {
                        "link-domain" | "auto-domain" => "M10",
                        "ignore" | "ignore-domain" => "M14",
                        _ => "U2",
                    },
                    id: r.address,
                    action: r.action.to_string(),
                    reason: r.target,
                    state: r.state.to_string(),
                    activities: r.activities,
                }
            })
            .collect();
        Summary {
            command: "resolve-unknown",
            dry_run,
            counts,
            items,
            changes: out.changes,
        }
    }
}

/// The before/after table of re-evaluated activities (U3).
fn changes_table(changes: &[Change]) -> String {
    let rows: Vec<Vec<String>> = changes
        .iter()
        .map(|c| {
            let place = |p: &resolve::Place| {
                format!(
                    "{} {} ({})",
                    p.attached_to,
                    p.name,
                    p.rule.as_deref().unwrap_or("-")
                )
            };
            let added: Vec<&String> = c
                .after
                .participants
                .iter()
                .filter(|p| !c.before.participants.contains(p))
                .collect();
            vec![
                c.id.to_string(),
                c.subject.chars().take(40).collect(),
                if c.before.attached_to == c.after.attached_to {
                    place(&c.after)
                } else {
                    format!("{}\n-> {}", place(&c.before), place(&c.after))
                },
                if c.before.flags == c.after.flags {
                    c.after.flags.join("\n")
                } else {
                    format!(
                        "{}\n-> {}",
                        or_none(&c.before.flags),
                        or_none(&c.after.flags)
                    )
                },
                added
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ]
        })
        .collect();
    render_table(
        &[
            "activity",
            "subject",
            "attached to",
            "flags",
            "participants added",
        ],
        &rows,
    )
}

fn or_none(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(", ")
    }
}

impl Tabular for Summary {
    fn headers(&self) -> Vec<&'static str> {
        vec!["address", "action", "target", "state", "activities"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.items
            .iter()
            .map(|i| {
                vec![
                    i.id.clone(),
                    i.action.clone(),
                    i.reason.clone().unwrap_or_default(),
                    i.state.clone(),
                    i.activities.len().to_string(),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        let mut v = Vec::new();
        if !self.changes.is_empty() {
            v.push("Re-evaluated activities (U3):".to_string());
            v.push(changes_table(&self.changes).trim_end().to_string());
        }
        let c = &self.counts;
        v.push(format!(
            "{}{} resolved, {} ignored, {} person(s) created, {} activities re-evaluated, {} skipped",
            crate::report::dry_run_lead(self.dry_run, ": would have "),
            c.resolved,
            c.ignored,
            c.created,
            c.updated,
            c.skipped
        ));
        v
    }
}

pub fn run(ctx: &Ctx, args: &ResolveUnknownArgs) -> Result<Exit> {
    let requests = requests(args)?;
    let interactive = ctx.interactive() && !ctx.global.json;
    if args.list || (requests.is_empty() && !interactive) {
        return list(ctx, args.all);
    }
    let st = ctx.state(Access::Write, "resolve-unknown")?;
    // X8: a dry run works on a copy in memory, which is dropped.
    let scratch = if st.writable() {
        None
    } else {
        let s = State::scratch_copy(st.path())?;
        directory::sync_users(&s.conn, &ctx.cfg)?;
        Some(s)
    };
    let work = scratch.as_ref().unwrap_or(&st);
    let by = args.by.clone().unwrap_or_else(os_user);
    let run_id = if st.writable() {
        Some(st.start_run("resolve-unknown", false)?)
    } else {
        None
    };
    let (exit, summary) = if requests.is_empty() {
        menu_run(ctx, work, &by)?
    } else {
        unattended(ctx, work, &requests, &by)?
    };
    let summary = Summary::new(summary, !st.writable());
    if let Some(id) = run_id {
        st.finish_run(id, exit.code(), &serde_json::to_string(&summary.counts)?)?;
    }
    ctx.printer.print(&summary)?;
    Ok(exit)
}

fn list(ctx: &Ctx, all: bool) -> Result<Exit> {
    let st = ctx.state(Access::Read, "resolve-unknown")?;
    let matcher = Matcher::new(&st.conn, &ctx.cfg)?;
    ctx.printer.print(&List {
        unknown: resolve::list(&st, &matcher, all)?,
    })?;
    Ok(Exit::Ok)
}

/// U4: every request in one transaction; bad input anywhere changes nothing.
fn unattended(ctx: &Ctx, st: &State, requests: &[Request], by: &str) -> Result<(Exit, Outcome)> {
    let batch = st.batch()?;
    let mut resolver = Resolver::new(st, &ctx.cfg, by)?;
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
    Ok((Exit::Ok, out))
}

/// The requests of the flags and CSV files, in command-line order.
fn requests(args: &ResolveUnknownArgs) -> Result<Vec<Request>> {
    let pos = positions();
    let at = |id: &str, i: usize| -> usize {
        pos.get(id)
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
    flag("assign", "assign", &args.assign, parse_assign);
    flag("create", "create", &args.create, parse_create);
    flag(
        "link_domain",
        "link-domain",
        &args.link_domain,
        parse_link_domain,
    );
    flag("ignore", "ignore", &args.ignore, parse_ignore);
    for (i, file) in args.apply.iter().enumerate() {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading {}", file.display()))
            .map_err(|e| usage(format!("{e:#}")))?;
        let (reqs, errs) = parse_csv(&text, file);
        errors.extend(errs);
        found.push((at("apply", i), reqs));
    }
    if args.auto_domain {
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

/// Where each action flag stands on the command line. The derive API
/// keeps one list per flag; the order across flags comes from clap's
/// indices, by parsing the same arguments once more.
fn positions() -> HashMap<String, Vec<usize>> {
    let mut map = HashMap::new();
    let Ok(m) = crate::cli::Cli::command().try_get_matches_from(std::env::args_os()) else {
        return map;
    };
    let Some(sub) = m.subcommand_matches("resolve-unknown") else {
        return map;
    };
    for id in [
        "assign",
        "create",
        "link_domain",
        "ignore",
        "apply",
        "auto_domain",
    ] {
        if let Some(ix) = sub.indices_of(id) {
            map.insert(id.to_string(), ix.collect());
        }
    }
    map
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
enum Choice {
    Act(Action),
    Skip,
    Quit,
}

/// Interactive: the U1 table, then a menu per open address; each choice
/// is applied at once, in its own transaction.
fn menu_run(ctx: &Ctx, st: &State, by: &str) -> Result<(Exit, Outcome)> {
    let theme = ColorfulTheme::default();
    let entries = {
        let m = Matcher::new(&st.conn, &ctx.cfg)?;
        resolve::list(st, &m, false)?
    };
    let mut total = Outcome::default();
    if entries.is_empty() {
        crate::ui::info("The unknown-address queue is empty: nothing to resolve.");
        return Ok((Exit::Ok, total));
    }
    eprintln!(
        "{}",
        render_table(LIST_HEADERS, &list_rows(&entries, false))
    );
    if ctx.global.dry_run {
        crate::ui::info("Dry run: each choice shows its effect; nothing is written.");
    }
    let n = entries.len();
    for (i, e) in entries.into_iter().enumerate() {
        // An earlier choice (a whole domain) may have settled this one.
        let Some(row) = st.unknown_address(&e.address)? else {
            continue;
        };
        if row.state != "open" {
            continue;
        }
        let entry = resolve::entry(st, &Matcher::new(&st.conn, &ctx.cfg)?, row)?;
        loop {
            let action = match choose(&theme, &st.conn, &entry, i + 1, n)? {
                Choice::Quit => return Ok((Exit::Ok, total)),
                Choice::Skip => break,
                Choice::Act(a) => a,
            };
            let batch = st.batch()?;
            let mut r = Resolver::new(st, &ctx.cfg, by)?;
            match r.apply(&action) {
                Ok(o) => {
                    drop(r);
                    batch.commit()?;
                    tell(&o);
                    total.merge(o);
                    break;
                }
                // Bad input in a menu: say so and ask again.
                Err(ResolveError::Invalid(msg)) => crate::ui::warn(msg),
                Err(ResolveError::Other(e)) => return Err(e),
            }
        }
    }
    Ok((Exit::Ok, total))
}

/// One line per resolution and the changed activities, on stderr.
fn tell(o: &Outcome) {
    for r in &o.resolved {
        crate::ui::info(format!(
            "{}: {}{} -> {}, {} activities re-evaluated",
            r.address,
            r.action,
            r.target
                .as_deref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default(),
            r.state,
            r.activities.len()
        ));
    }
    if !o.changes.is_empty() && crate::ui::level() >= 0 {
        eprint!("{}", changes_table(&o.changes));
    }
}

fn choose(
    theme: &ColorfulTheme,
    conn: &rusqlite::Connection,
    e: &UnknownEntry,
    i: usize,
    n: usize,
) -> Result<Choice> {
    let domain = domain_of(&e.address).unwrap_or("").to_string();
    let (first, last) = resolve::names_for(&e.display_names, &e.address);
    let company = match (&e.suggested_company_name, &e.suggested_company) {
        (Some(name), Some(id)) => format!(", company {name} ({id})"),
        _ => String::new(),
    };
    let new_name = format!("{first} {last}");
    let items = [
        "assign to an existing person".to_string(),
        format!(
            "create a person{}{company}",
            if new_name.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", new_name.trim())
            }
        ),
        format!("link the domain {domain} to a company"),
        "ignore this address".to_string(),
        format!("ignore the whole domain @{domain}"),
        "skip".to_string(),
        "quit".to_string(),
    ];
    let about = match (e.display_names.first(), &e.sample_subject) {
        (Some(name), Some(s)) => format!(" \"{name}\", {} mail(s), e.g. \"{s}\"", e.count),
        (None, Some(s)) => format!(" {} mail(s), e.g. \"{s}\"", e.count),
        _ => format!(" {} mail(s)", e.count),
    };
    loop {
        let pick = Select::with_theme(theme)
            .with_prompt(crate::ui::printable(&format!(
                "[{i}/{n}] {}{about}: what now?",
                e.address
            )))
            .items(
                items
                    .iter()
                    .map(|s| crate::ui::printable(s))
                    .collect::<Vec<_>>(),
            )
            .default(0)
            .interact()?;
        let action = match pick {
            0 => pick_person(theme, conn, e)?.map(|person| Action::Assign {
                address: e.address.clone(),
                person,
            }),
            1 => create_person(theme, e, &first, &last)?,
            2 => pick_company(theme, conn, e, &domain)?.map(|company| Action::LinkDomain {
                domain: domain.clone(),
                company,
            }),
            3 => Some(Action::Ignore {
                pattern: e.address.clone(),
            }),
            4 => Confirm::with_theme(theme)
                .with_prompt(format!(
                    "Ignore every address at @{domain} from now on (M14)?"
                ))
                .default(true)
                .interact()?
                .then(|| Action::Ignore {
                    pattern: format!("@{domain}"),
                }),
            5 => return Ok(Choice::Skip),
            _ => return Ok(Choice::Quit),
        };
        // None: the person went back to the menu.
        if let Some(a) = action {
            return Ok(Choice::Act(a));
        }
    }
}

/// Assign: a search text, then a list of matching persons (by name or
/// e-mail), the suggestions first. None: back to the menu.
fn pick_person(
    theme: &ColorfulTheme,
    conn: &rusqlite::Connection,
    e: &UnknownEntry,
) -> Result<Option<String>> {
    loop {
        let search: String = Input::with_theme(theme)
            .with_prompt("Search persons by name or e-mail (empty: the suggestions)")
            .allow_empty(true)
            .interact_text()?;
        let mut ids: Vec<(String, String)> = e
            .suggested_persons
            .iter()
            .map(|p| {
                (
                    p.id.clone(),
                    format!(
                        "{} ({}){} (suggested)",
                        p.name,
                        p.id,
                        p.email
                            .as_deref()
                            .map(|m| format!(" <{m}>"))
                            .unwrap_or_default()
                    ),
                )
            })
            .collect();
        if !search.trim().is_empty() {
            let found = directory::list_persons(
                conn,
                &directory::Filter {
                    search: Some(search.trim().to_string()),
                    limit: 20,
                },
            )?;
            ids.retain(|(_, label)| label.to_lowercase().contains(&search.trim().to_lowercase()));
            for p in found {
                if !ids.iter().any(|(id, _)| *id == p.id) {
                    let label = format!(
                        "{} ({}){}",
                        p.display_name(),
                        p.id,
                        p.emails
                            .first()
                            .map(|m| format!(" <{m}>"))
                            .unwrap_or_default()
                    );
                    ids.push((p.id, label));
                }
            }
        }
        if ids.is_empty() {
            crate::ui::info(format!("No person matches `{}`.", search.trim()));
        }
        let mut labels: Vec<String> = ids.iter().map(|(_, l)| l.clone()).collect();
        labels.push("search again".into());
        labels.push("back".into());
        let pick = Select::with_theme(theme)
            .with_prompt(crate::ui::printable(&format!("Assign {} to", e.address)))
            .items(
                labels
                    .iter()
                    .map(|s| crate::ui::printable(s))
                    .collect::<Vec<_>>(),
            )
            .default(0)
            .interact()?;
        if pick < ids.len() {
            return Ok(Some(ids[pick].0.clone()));
        }
        if pick == ids.len() + 1 {
            return Ok(None);
        }
    }
}

/// Create: names prefilled from the display name, the company from the
/// domain suggestion, then a confirmation. None: back to the menu.
fn create_person(
    theme: &ColorfulTheme,
    e: &UnknownEntry,
    first: &str,
    last: &str,
) -> Result<Option<Action>> {
    let first: String = Input::with_theme(theme)
        .with_prompt("First name")
        .with_initial_text(crate::ui::printable(first))
        .allow_empty(true)
        .interact_text()?;
    let last: String = Input::with_theme(theme)
        .with_prompt("Last name")
        .with_initial_text(crate::ui::printable(last))
        .allow_empty(true)
        .interact_text()?;
    let company = match (&e.suggested_company_name, &e.suggested_company) {
        (Some(name), Some(id)) => {
            let yes = Confirm::with_theme(theme)
                .with_prompt(crate::ui::printable(&format!(
                    "Company {name} ({id}), by the domain (M10)?"
                )))
                .default(true)
                .interact()?;
            if yes { None } else { Some(None) }
        }
        _ => None,
    };
    let ok = Confirm::with_theme(theme)
        .with_prompt(crate::ui::printable(&format!(
            "Create person {} {} <{}>?",
            first.trim(),
            last.trim(),
            e.address
        )))
        .default(true)
        .interact()?;
    Ok(ok.then(|| Action::Create {
        address: e.address.clone(),
        name: Some((first.trim().to_string(), last.trim().to_string())),
        company,
    }))
}

/// Link the domain: the companies matching the domain, else a search by
/// name. None: back to the menu.
fn pick_company(
    theme: &ColorfulTheme,
    conn: &rusqlite::Connection,
    e: &UnknownEntry,
    domain: &str,
) -> Result<Option<String>> {
    let mut search = domain.to_string();
    loop {
        let mut found = directory::list_companies(
            conn,
            &directory::Filter {
                search: Some(search.clone()),
                limit: 20,
            },
        )?;
        if let Some(id) = &e.suggested_company
            && !found.iter().any(|c| &c.id == id)
            && let Some(rowid) = directory::company_rowid(conn, id)?
            && let Some(c) = directory::company_by_rowid(conn, rowid)?
        {
            found.insert(0, c);
        }
        let mut labels: Vec<String> = found
            .iter()
            .map(|c| format!("{} ({}) {}", c.name, c.id, c.domains.join(", ")))
            .collect();
        labels.push("search companies by name".into());
        labels.push("back".into());
        let pick = Select::with_theme(theme)
            .with_prompt(crate::ui::printable(&format!("Link {domain} to")))
            .items(
                labels
                    .iter()
                    .map(|s| crate::ui::printable(s))
                    .collect::<Vec<_>>(),
            )
            .default(0)
            .interact()?;
        if pick < found.len() {
            return Ok(Some(found[pick].id.clone()));
        }
        if pick == found.len() + 1 {
            return Ok(None);
        }
        search = Input::with_theme(theme)
            .with_prompt("Company name contains")
            .interact_text()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
