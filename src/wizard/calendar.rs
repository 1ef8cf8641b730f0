//! The calendar engine's question asked at a terminal: C6 `ask`, which
//! version of a conflicting activity wins (default: decide later).

use anyhow::Result;
use dialoguer::Select;
use dialoguer::theme::ColorfulTheme;

use crate::plan::calendar::Side;
use crate::sync::calendar::{Chooser, Conflict, Unattended};

/// Asks the person at the terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ask;

impl Chooser for Ask {
    fn conflict_winner(&mut self, c: &Conflict<'_>) -> Result<Option<Side>> {
        eprintln!(
            "{}",
            crate::ui::printable(&format!(
                "\nConflict (C6) on activity {} `{}` ({}): both sides changed.\n--- CRM version ---\n{}\n--- calendar version ---\n{}",
                c.activity, c.subject, c.href, c.crm, c.calendar
            ))
        );
        let pick = Select::with_theme(&ColorfulTheme::default())
            .with_prompt("Which version wins? (the other goes to the conflict log)")
            .items(["the CRM version", "the calendar version", "decide later"])
            .default(2)
            .interact()?;
        Ok(match pick {
            0 => Some(Side::Crm),
            1 => Some(Side::Groupware),
            _ => None,
        })
    }
}

/// [`Ask`] when a person can answer (a terminal, no `--json`), else
/// [`Unattended`].
pub fn chooser(person: bool) -> Box<dyn Chooser> {
    if person {
        Box::new(Ask)
    } else {
        Box::new(Unattended)
    }
}
