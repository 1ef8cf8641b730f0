//! What the REST back end's steps did (B2): the table of `crm pull` and
//! `crm push`, and the lines a push after a command writes to stderr.

use serde::Serialize;

use crate::crm::remote::{PullCounts, PushCounts};
use crate::report::output::Tabular;
use crate::ui;

/// What `crm pull` and `crm push` did (B2).
#[derive(Serialize)]
pub struct SyncSummary {
    pub command: &'static str,
    pub pushed: PushCounts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulled: Option<PullCounts>,
}

impl Tabular for SyncSummary {
    fn headers(&self) -> Vec<&'static str> {
        vec!["what", "count"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        let p = &self.pushed;
        let mut rows = vec![
            vec![
                "activities created in the CRM".into(),
                p.created.to_string(),
            ],
            vec![
                "activities updated in the CRM".into(),
                p.updated.to_string(),
            ],
            vec![
                "activities deleted in the CRM".into(),
                p.deleted.to_string(),
            ],
            vec![
                "persons created in the CRM".into(),
                p.persons_created.to_string(),
            ],
            vec![
                "found again after an interrupted run".into(),
                p.found_again.to_string(),
            ],
            vec![
                "second copies of an interrupted run deleted".into(),
                p.duplicates_deleted.to_string(),
            ],
            vec!["waiting for a CRM record".into(), p.waiting.to_string()],
            vec!["refused by the CRM".into(), p.refused.len().to_string()],
        ];
        if let Some(q) = &self.pulled {
            rows.extend([
                vec![
                    "companies new / changed in the cache".into(),
                    format!("{} / {}", q.companies.created, q.companies.updated),
                ],
                vec![
                    "persons new / changed in the cache".into(),
                    format!("{} / {}", q.persons.created, q.persons.updated),
                ],
                vec!["gone from the CRM, removed".into(), q.removed.to_string()],
                vec![
                    "activities of deleted persons re-planned (B3)".into(),
                    q.replanned.to_string(),
                ],
                vec![
                    "calendar activities changed in the CRM".into(),
                    q.calendar_changed.to_string(),
                ],
                vec![
                    "calendar activities deleted in the CRM".into(),
                    q.calendar_deleted.to_string(),
                ],
            ]);
        }
        rows
    }
    fn footer(&self) -> Vec<String> {
        self.pushed
            .refused
            .iter()
            .map(|r| format!("{}: {}", r.item, r.error))
            .collect()
    }
}

/// What a push after a command did, on stderr.
pub fn tell_pushed(c: &PushCounts) {
    if c.created + c.updated + c.deleted + c.persons_created + c.found_again + c.duplicates_deleted
        > 0
    {
        ui::info(format!(
            "crm: {} created, {} updated, {} deleted, {} persons created in the CRM{}{}",
            c.created,
            c.updated,
            c.deleted,
            c.persons_created,
            if c.found_again > 0 {
                format!("; {} found there from an interrupted run", c.found_again)
            } else {
                String::new()
            },
            if c.duplicates_deleted > 0 {
                format!(
                    "; {} second copies an interrupted run left there deleted (X5)",
                    c.duplicates_deleted
                )
            } else {
                String::new()
            }
        ));
    }
    if c.waiting > 0 {
        ui::info(format!(
            "crm: {} activities wait for a CRM record to hang on (unknown senders): `crmsync resolve-unknown`",
            c.waiting
        ));
    }
    for r in &c.refused {
        if r.says_next {
            ui::warn(format!("{}: {}", r.item, r.error));
        } else {
            ui::warn(format!(
                "{}: {}; fix it in crmsync or the CRM, then `crmsync crm push`",
                r.item, r.error
            ));
        }
    }
}
