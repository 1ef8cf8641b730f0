//! The table of `crmsync check` (X1).

use crate::report::output::Tabular;
use crate::sync::check::{CheckReport, CheckStatus};

impl Tabular for CheckReport {
    fn headers(&self) -> Vec<&'static str> {
        vec!["check", "target", "status", "detail"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.checks
            .iter()
            .map(|r| {
                vec![
                    r.check.clone(),
                    r.target.clone(),
                    format!("{:?}", r.status).to_lowercase(),
                    r.detail.clone(),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        let bad = self
            .checks
            .iter()
            .filter(|r| matches!(r.status, CheckStatus::Fail | CheckStatus::Blocked))
            .count();
        vec![if bad == 0 {
            "all checks passed".into()
        } else {
            format!("{bad} check(s) failed")
        }]
    }
    fn is_run(&self) -> bool {
        true
    }
    fn problems(&self, table_shown: bool) -> Vec<String> {
        if table_shown {
            return Vec::new();
        }
        self.checks
            .iter()
            .filter(|r| matches!(r.status, CheckStatus::Fail | CheckStatus::Blocked))
            .map(|r| format!("error: {} {}: {}", r.check, r.target, r.detail))
            .collect()
    }
    fn ok(&self) -> bool {
        !self.failed()
    }
    fn list_key(&self) -> Option<&'static str> {
        Some("checks")
    }
}
