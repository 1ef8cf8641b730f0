//! The resolve-unknown menu (SPEC 3): the interactive [`Chooser`] of the
//! resolve engine. The U1 table, then per open address a menu of the U2
//! actions with their follow-up questions (search a person, confirm names,
//! pick a company), each choice told back with its effect (U3).

use anyhow::Result;
use dialoguer::theme::Theme;
use dialoguer::{Confirm, Input, Select};

use crate::address::domain_of;
use crate::apply::resolve::{Action, Outcome};
use crate::plan::resolve::names_for;
use crate::report::output::render_table;
use crate::report::resolve::{LIST_HEADERS, changes_table, list_rows};
use crate::state::State;
use crate::state::directory;
use crate::sync::resolve::{Choice, Chooser, UnknownEntry};

/// The menu on a terminal. Every choice is applied at once, so a Ctrl-C
/// keeps those before it (W11).
pub struct Menu {
    theme: &'static dyn Theme,
    stop: Option<crate::ui::StopGuard>,
    dry_run: bool,
}

impl Default for Menu {
    fn default() -> Menu {
        Menu {
            theme: super::theme(),
            stop: None,
            dry_run: false,
        }
    }
}

impl Chooser for Menu {
    fn start(&mut self, entries: &[UnknownEntry], dry_run: bool) -> Result<()> {
        self.stop = Some(crate::ui::on_interrupt(crate::ui::Stopped::NothingChanged));
        self.dry_run = dry_run;
        if entries.is_empty() {
            crate::ui::info("The unknown-address queue is empty: nothing to resolve.");
            return Ok(());
        }
        eprintln!(
            "{}",
            render_table(
                LIST_HEADERS,
                &list_rows(entries, false, crate::ui::level() > 0)
            )
        );
        if dry_run {
            crate::ui::info("Dry run: each choice shows its effect; nothing is written.");
        }
        Ok(())
    }

    fn choose(&mut self, st: &State, entry: &UnknownEntry, i: usize, n: usize) -> Result<Choice> {
        choose(self.theme, st, entry, i, n)
    }

    fn invalid(&mut self, msg: &str) {
        crate::ui::warn(msg);
    }

    fn applied(&mut self, outcome: &Outcome) {
        if !outcome.resolved.is_empty() && !self.dry_run {
            crate::ui::interrupt_now_means(crate::ui::Stopped::ResolvedKept);
        }
        tell(outcome);
    }
}

/// One line per resolution in words (W12; the action and its target id
/// with -v) and the changed activities, on stderr.
fn tell(o: &Outcome) {
    for r in &o.resolved {
        crate::ui::debug(format!(
            "{}: {}{} -> {}",
            r.address,
            r.action,
            r.target
                .as_deref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default(),
            r.state,
        ));
        let n = r.activities.len();
        crate::ui::info(format!(
            "{}: {}, {n} {} re-evaluated",
            r.address,
            done(r.action),
            if n == 1 { "activity" } else { "activities" }
        ));
    }
    if !o.changes.is_empty() && crate::ui::level() >= 0 {
        eprint!("{}", changes_table(&o.changes, crate::ui::level() > 0));
    }
}

/// What a resolution did, in words (W12).
fn done(action: &str) -> &'static str {
    match action {
        "assign" => "assigned to the chosen person",
        "create" => "person created",
        "link-domain" => "its domain linked to the chosen company",
        "auto-domain" => "attached to the company of its domain",
        "ignore" => "ignored from now on",
        "ignore-domain" => "its whole domain ignored from now on",
        "skip" => "left open",
        _ => "done",
    }
}

fn choose(theme: &dyn Theme, st: &State, e: &UnknownEntry, i: usize, n: usize) -> Result<Choice> {
    let domain = domain_of(&e.address).unwrap_or("").to_string();
    let (first, last) = names_for(&e.display_names, &e.address);
    let company = match (&e.suggested_company_name, &e.suggested_company) {
        (Some(name), Some(_)) => format!(", company {name}"),
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
        let pick = select(
            theme,
            &format!("[{i}/{n}] {}{about}: what now?", e.address),
            &items,
        )?;
        let action = match pick {
            0 => pick_person(theme, st, e)?.map(|person| Action::Assign {
                address: e.address.clone(),
                person,
            }),
            1 => create_person(theme, e, &first, &last)?,
            2 => pick_company(theme, st, e, &domain)?.map(|company| Action::LinkDomain {
                domain: domain.clone(),
                company,
            }),
            3 => Some(Action::Ignore {
                pattern: e.address.clone(),
            }),
            4 => Confirm::with_theme(theme)
                .with_prompt(format!("Ignore every address at @{domain} from now on?"))
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
fn pick_person(theme: &dyn Theme, st: &State, e: &UnknownEntry) -> Result<Option<String>> {
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
                        "{}{} (suggested)",
                        p.name,
                        p.email
                            .as_deref()
                            .map(|m| format!(" <{m}>"))
                            .unwrap_or_default()
                    ),
                )
            })
            .collect();
        if !search.trim().is_empty() {
            let found = st.list_persons(&directory::Filter {
                search: Some(search.trim().to_string()),
                limit: 20,
            })?;
            ids.retain(|(_, label)| label.to_lowercase().contains(&search.trim().to_lowercase()));
            for p in found {
                if !ids.iter().any(|(id, _)| *id == p.id) {
                    let label = format!(
                        "{}{}",
                        p.display_name(),
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
        let pick = select(theme, &format!("Assign {} to", e.address), &labels)?;
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
    theme: &dyn Theme,
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
        (Some(name), Some(_)) => {
            let yes = Confirm::with_theme(theme)
                .with_prompt(crate::ui::printable(&format!(
                    "Company {name}, found by the mail domain?"
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
    theme: &dyn Theme,
    st: &State,
    e: &UnknownEntry,
    domain: &str,
) -> Result<Option<String>> {
    let mut search = domain.to_string();
    loop {
        let mut found = st.list_companies(&directory::Filter {
            search: Some(search.clone()),
            limit: 20,
        })?;
        if let Some(id) = &e.suggested_company
            && !found.iter().any(|c| &c.id == id)
            && let Some(rowid) = st.company_rowid(id)?
            && let Some(c) = st.company_by_rowid(rowid)?
        {
            found.insert(0, c);
        }
        let mut labels: Vec<String> = found
            .iter()
            .map(|c| {
                if c.domains.is_empty() {
                    c.name.clone()
                } else {
                    format!("{} ({})", c.name, c.domains.join(", "))
                }
            })
            .collect();
        labels.push("search companies by name".into());
        labels.push("back".into());
        let pick = select(theme, &format!("Link {domain} to"), &labels)?;
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

/// One pick from a list, the first preselected; prompt and items shown
/// with control characters escaped (X6a).
fn select(theme: &dyn Theme, prompt: &str, items: &[String]) -> Result<usize> {
    Ok(Select::with_theme(theme)
        .with_prompt(crate::ui::printable(prompt))
        .items(
            items
                .iter()
                .map(|s| crate::ui::printable(s))
                .collect::<Vec<_>>(),
        )
        .default(0)
        .interact()?)
}
