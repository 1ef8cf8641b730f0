//! The last stage: what a run tells people (tables) and scripts (JSON), and
//! the exit code it ends with.

pub mod activities;
pub mod calendar;
pub mod check;
pub mod contacts;
pub mod directory;
pub mod mail;
pub mod output;
pub mod resolve;
pub mod rest;

/// How a footer begins: under `--dry-run` (X8) it says that nothing was
/// written, then `then` ("would have ", "Planned: "); otherwise nothing.
pub fn dry_run_lead(dry_run: bool, then: &str) -> String {
    if dry_run {
        format!("dry run, nothing written{then}")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn x8_dry_run_lead_names_nothing_written() {
        assert_eq!(
            super::dry_run_lead(true, ": would have "),
            "dry run, nothing written: would have "
        );
        assert_eq!(super::dry_run_lead(false, ": would have "), "");
    }
}
