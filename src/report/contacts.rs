//! The table of a `push-contacts` run ([`ContactsReport`]): the failed and
//! skipped cards (every change under a dry run, -v or --all-items), the
//! counts and one line per account.

use crate::report::output::Tabular;
use crate::sync::contacts::{ContactsReport, ContactsStatus};

impl Tabular for ContactsReport {
    fn headers(&self) -> Vec<&'static str> {
        vec!["contact", "action", "rule", "name", "reason"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.items
            .iter()
            .filter(|i| self.all_rows || matches!(i.action.as_str(), "failed" | "skipped"))
            .map(|i| {
                vec![
                    i.id.clone(),
                    i.action.clone(),
                    i.rule.to_string(),
                    i.name.clone(),
                    i.reason.clone().unwrap_or_default(),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        let c = &self.counts;
        let mut v = vec![format!(
            "{}{} created, {} updated, {} moved, {} deleted, {} unchanged, {} failed",
            crate::report::dry_run_lead(self.dry_run, ": would have "),
            c.created,
            c.updated,
            c.moved,
            c.deleted,
            c.unchanged,
            c.failed
        )];
        for a in &self.accounts {
            let mut line = format!("{}: {}", a.name, status_word(&a.status));
            if let Some(n) = a.selected {
                line.push_str(&format!(", {n} selected"));
            }
            if let Some(b) = &a.address_book {
                line.push_str(&format!(", address book `{b}`"));
            }
            if let Some(v) = a.vcard {
                line.push_str(&format!(", vCard {}", v.as_str()));
            }
            if let Some(m) = &a.message {
                line.push_str(&format!(" ({m})"));
            }
            v.push(line);
        }
        v
    }
    fn is_run(&self) -> bool {
        true
    }
    fn detail(&self) -> bool {
        self.all_rows || self.dry_run
    }
    fn problems(&self, table_shown: bool) -> Vec<String> {
        super::problems(&self.warnings, &self.errors, &self.items, table_shown)
    }
    fn ok(&self) -> bool {
        self.exit() == crate::error::Exit::Ok
    }
}

fn status_word(s: &ContactsStatus) -> &'static str {
    match s {
        ContactsStatus::Pushed => "pushed",
        ContactsStatus::Planned => "planned",
        ContactsStatus::NotDue => "not due",
        ContactsStatus::Declined => "declined",
        ContactsStatus::Blocked => "blocked",
        ContactsStatus::Failed => "failed",
    }
}
