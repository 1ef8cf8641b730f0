//! The calendar engine's report as a table (`sync-calendar`, and the
//! calendar part of `import-mail`, W1).

use crate::report::output::Tabular;
use crate::sync::calendar::{CalendarReport, CalendarStatus};

impl Tabular for CalendarReport {
    fn headers(&self) -> Vec<&'static str> {
        vec!["account", "action", "rule", "activity", "item", "reason"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.items
            .iter()
            .filter(|i| {
                self.all_rows
                    || matches!(
                        i.action.as_str(),
                        "failed" | "reported" | "held back" | "not done"
                    )
            })
            .map(|i| {
                vec![
                    i.account.clone(),
                    i.action.clone(),
                    i.rule.to_string(),
                    i.activity.map(|a| a.to_string()).unwrap_or_default(),
                    i.subject
                        .clone()
                        .or_else(|| i.href.clone())
                        .unwrap_or_default(),
                    i.reason.clone().unwrap_or_default(),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        let c = &self.counts;
        let mut out = vec![format!(
            "{}CRM: {} created, {} updated, {} deleted; calendar: {} created, {} updated, {} deleted; {} conflicts, {} reported, {} failed",
            crate::report::dry_run_lead(self.dry_run, ". Planned: "),
            c.created_in_crm,
            c.updated_in_crm,
            c.deleted_in_crm,
            c.created_in_calendar,
            c.updated_in_calendar,
            c.deleted_in_calendar,
            c.conflicts,
            c.reported,
            c.failed
        )];
        for a in &self.accounts {
            out.push(format!(
                "{}: {} (calendar {}, tasks {}; {} items listed, {} fetched)",
                a.name,
                status_text(&a.status),
                a.calendar.as_deref().unwrap_or("-"),
                a.tasks.as_deref().unwrap_or("-"),
                a.listed,
                a.fetched
            ));
        }
        out
    }
    fn is_run(&self) -> bool {
        true
    }
    fn detail(&self) -> bool {
        self.all_rows || self.dry_run
    }
    fn problems(&self, table_shown: bool) -> Vec<String> {
        super::problems(&[], &self.errors, &self.items, table_shown)
    }
    fn ok(&self) -> bool {
        self.exit() == crate::error::Exit::Ok
    }
}

fn status_text(s: &CalendarStatus) -> &'static str {
    match s {
        CalendarStatus::Synced => "synced",
        CalendarStatus::Planned => "planned (dry run)",
        CalendarStatus::Blocked => "blocked",
        CalendarStatus::Failed => "failed",
    }
}
