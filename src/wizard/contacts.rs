//! The contacts engine's question asked at a terminal: P9, push a
//! selection larger than `warn_above`? (default no).

use anyhow::Result;
use dialoguer::Confirm;

use crate::sync::contacts::{Answer, Chooser};

/// Asks the person at the terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ask;

impl Chooser for Ask {
    fn push_large_selection(&mut self, question: &str) -> Result<Answer> {
        let _stop = crate::ui::on_interrupt(crate::ui::Stopped::AddressBookUntouched);
        let go = Confirm::with_theme(super::theme())
            .with_prompt(question)
            .default(false)
            .interact()?;
        Ok(if go { Answer::Yes } else { Answer::No })
    }
}
