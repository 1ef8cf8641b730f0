//! The calendar engine's question asked at a terminal: C6 `ask`, which
//! version of a conflicting activity wins (default: decide later).

use anyhow::Result;
use dialoguer::Select;

use crate::plan::calendar::Side;
use crate::sync::calendar::{Chooser, Conflict, Unattended};

/// Asks the person at the terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ask;

impl Chooser for Ask {
    fn conflict_winner(&mut self, c: &Conflict<'_>) -> Result<Option<Side>> {
        // W12: words for the person; the rule and the ids with -v.
        crate::ui::debug(format!(
            "conflict (C6): activity {}, calendar item {}",
            c.activity, c.href
        ));
        eprintln!(
            "{}",
            crate::ui::printable(&format!(
                "\n`{}` was changed in the CRM and in the calendar since the last sync.\n--- CRM version ---\n{}\n--- calendar version ---\n{}",
                c.subject, c.crm, c.calendar
            ))
        );
        let _stop = crate::ui::on_interrupt(crate::ui::Stopped::CalendarAccountUntouched);
        let pick = Select::with_theme(super::theme())
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
