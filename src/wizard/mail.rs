//! The mail wizard (W1-W5): the mail engine's [`Chooser`] answered by a
//! person at a terminal, and the look at this run's activities (W5).

use std::collections::BTreeMap;

use anyhow::Result;
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, MultiSelect, Select};

use crate::report::output::render_table;
use crate::state::State;
use crate::sync::mail::Chooser;

/// Asks on the terminal (dialoguer).
#[derive(Debug, Clone, Copy, Default)]
pub struct Wizard;

impl Chooser for Wizard {
    fn wizard(&self) -> bool {
        true
    }

    /// W1: the areas from `[mail] areas`, offered for change.
    fn areas(&mut self, on: [bool; 3]) -> Result<[bool; 3]> {
        let picked = MultiSelect::with_theme(&ColorfulTheme::default())
            .with_prompt("What to import now (space toggles, enter goes on)")
            .items([
                "mail",
                "appointments (sync-calendar)",
                "tasks (sync-calendar)",
            ])
            .defaults(&on)
            .interact()?;
        let on = [0, 1, 2].map(|i| picked.contains(&i));
        if !on.iter().any(|x| *x) {
            return Err(crate::error::usage("nothing chosen to import (W1)"));
        }
        Ok(on)
    }

    /// W2: the selection table, then the mails to import.
    fn pick_mails(&mut self, rows: &[Vec<String>], skipped: usize) -> Result<Vec<bool>> {
        eprintln!(
            "{}",
            render_table(
                &["#", "date", "from", "subject", "attached to", "flags"],
                rows
            )
        );
        if skipped > 0 {
            eprintln!(
                "{skipped} more new mail(s) will be skipped or recorded by the rules (see the summary)."
            );
        }
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let labels: Vec<String> = rows
            .iter()
            .map(|r| {
                crate::ui::printable(&format!("{} {} | {} | {}", r[1], r[2], r[3], r[4]))
                    .into_owned()
            })
            .collect();
        let chosen = MultiSelect::with_theme(&ColorfulTheme::default())
            .with_prompt("Import these mails? (space toggles, enter confirms)")
            .items(&labels)
            .defaults(&vec![true; labels.len()])
            .interact()?;
        Ok((0..rows.len()).map(|n| chosen.contains(&n)).collect())
    }

    /// W2: an ambiguous sender must be settled.
    fn pick_sender(&mut self, subject: &str, people: &[String]) -> Result<Option<usize>> {
        let mut labels = people.to_vec();
        labels.push("none of them: keep it on me, flagged".into());
        let pick = Select::with_theme(&ColorfulTheme::default())
            .with_prompt(format!("\"{subject}\": the sender is ambiguous. Attach to"))
            .items(&labels)
            .default(0)
            .interact()?;
        Ok((pick < people.len()).then_some(pick))
    }

    /// W3: category and keyword of a document.
    fn document(
        &mut self,
        name: &str,
        categories: &[String],
        keywords: &[String],
    ) -> Result<(Option<String>, Option<String>)> {
        let theme = ColorfulTheme::default();
        let category = pick_optional(&theme, &format!("Category of {name}"), categories)?;
        let keyword = pick_optional(&theme, &format!("Keyword of {name}"), keywords)?;
        Ok((category, keyword))
    }
}

fn pick_optional(theme: &ColorfulTheme, prompt: &str, list: &[String]) -> Result<Option<String>> {
    if list.is_empty() {
        return Ok(None);
    }
    let mut labels = vec!["(none)".to_string()];
    labels.extend(list.iter().cloned());
    let i = Select::with_theme(theme)
        .with_prompt(prompt)
        .items(&labels)
        .default(0)
        .interact()?;
    Ok(if i == 0 {
        None
    } else {
        Some(list[i - 1].clone())
    })
}

/// W5: this run's activities.
///
/// # Errors
/// Terminal and SQLite errors.
pub fn show(st: &State, ids: &[i64]) -> Result<()> {
    let ok = Confirm::with_theme(&ColorfulTheme::default())
        .with_prompt(format!("Show the {} imported activities?", ids.len()))
        .default(true)
        .interact()?;
    if !ok {
        return Ok(());
    }
    let mut rows = Vec::new();
    let mut by_id = BTreeMap::new();
    for id in ids {
        if let Some(v) = st.activity_view(*id)? {
            by_id.insert(*id, v);
        }
    }
    for (id, v) in by_id {
        rows.push(vec![
            id.to_string(),
            v.kind,
            v.start_at.unwrap_or_default(),
            v.subject.chars().take(40).collect(),
            format!("{} {}", v.attached_to.kind, v.attached_to.name),
            v.flags.join("\n"),
        ]);
    }
    eprintln!(
        "{}",
        render_table(
            &["id", "type", "date", "subject", "attached to", "flags"],
            &rows
        )
    );
    Ok(())
}
