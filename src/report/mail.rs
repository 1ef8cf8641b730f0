//! The import-mail report as a table: by default its summary line, the
//! table with `--all-items`, `-v` or a dry run (X14).

use crate::report::output::Tabular;
use crate::sync::mail::MailReport;

impl Tabular for MailReport {
    fn headers(&self) -> Vec<&'static str> {
        vec![
            "item",
            "action",
            "rule",
            "subject",
            "attached to / reason",
            "flags",
        ]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.items
            .iter()
            .filter(|i| {
                self.all_items
                    || self.dry_run
                    || i.action == "failed"
                    || i.reason.as_deref() == Some("too_large")
                    || !i.flags.is_empty()
            })
            .map(|i| {
                vec![
                    i.id.clone(),
                    i.action.clone(),
                    i.rule.clone(),
                    i.subject.chars().take(50).collect(),
                    i.attached_to
                        .clone()
                        .or_else(|| i.reason.clone())
                        .unwrap_or_default(),
                    i.flags.join("\n"),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        let c = &self.counts;
        let v = vec![format!(
            "{}{} imported ({} flagged for editing), {} joined as second mailbox, {} skipped, {} failed",
            crate::report::dry_run_lead(self.dry_run, ": would have "),
            c.imported,
            c.flagged,
            c.updated,
            c.skipped,
            c.failed
        )];
        v
    }
    fn is_run(&self) -> bool {
        true
    }
    fn detail(&self) -> bool {
        self.all_items || self.dry_run
    }
    fn problems(&self, table_shown: bool) -> Vec<String> {
        super::problems(&self.warnings, &self.errors, &self.items, table_shown)
    }
    fn ok(&self) -> bool {
        self.exit == crate::error::Exit::Ok && self.errors.is_empty()
    }
}
