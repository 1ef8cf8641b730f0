//! The tables of resolve-unknown (SPEC 3): the U1 list, the run's
//! resolutions and the before/after of each re-evaluated activity (U3).

use super::output::{Tabular, render_table};
use crate::apply::resolve::{Change, Place};
use crate::sync::resolve::{ResolveReport, UnknownEntry, UnknownList};

/// The columns of the U1 list.
pub const LIST_HEADERS: &[&str] = &[
    "address",
    "mails",
    "seen",
    "sample subject",
    "display names",
    "company (by domain)",
    "persons (by name)",
];

/// The rows of the U1 list; `with_state` marks entries that are not open,
/// `ids` names the persons' and companies' ids.
pub fn list_rows(entries: &[UnknownEntry], with_state: bool, ids: bool) -> Vec<Vec<String>> {
    // The ids (for `--assign ADDRESS=P6`) in the list; the wizard's menu
    // speaks in names (W12).
    let id = |id: &str| {
        if ids {
            format!(" ({id})")
        } else {
            String::new()
        }
    };
    entries
        .iter()
        .map(|e| {
            let mut address = e.address.clone();
            if with_state && e.state != "open" {
                address = format!("{address} ({})", e.state);
            }
            vec![
                address,
                e.count.to_string(),
                if day(&e.first_seen) == day(&e.last_seen) {
                    day(&e.last_seen)
                } else {
                    format!("{} to\n{}", day(&e.first_seen), day(&e.last_seen))
                },
                e.sample_subject
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .take(40)
                    .collect(),
                e.display_names.join("\n"),
                match (&e.suggested_company_name, &e.suggested_company) {
                    (Some(n), Some(c)) => format!("{n}{}", id(c)),
                    _ => String::new(),
                },
                e.suggested_persons
                    .iter()
                    .map(|p| format!("{}{}", p.name, id(&p.id)))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ]
        })
        .collect()
}

fn day(ts: &str) -> String {
    ts.get(..10).unwrap_or(ts).to_string()
}

impl Tabular for UnknownList {
    fn headers(&self) -> Vec<&'static str> {
        LIST_HEADERS.to_vec()
    }
    fn rows(&self) -> Vec<Vec<String>> {
        list_rows(&self.unknown, true, true)
    }
    fn list_key(&self) -> Option<&'static str> {
        Some("unknown")
    }
    fn footer(&self) -> Vec<String> {
        let open = self.unknown.iter().filter(|e| e.state == "open").count();
        vec![if open == 0 {
            "no open unknown addresses".to_string()
        } else {
            format!(
                "{open} open unknown address(es); resolve them with `crmsync resolve-unknown` on a terminal, \
                 or --assign, --create, --link-domain, --ignore, --apply FILE.csv, --auto-domain"
            )
        }]
    }
}

/// The before/after table of re-evaluated activities (U3); `ids` names
/// the persons' and companies' ids and the rules that placed them.
pub fn changes_table(changes: &[Change], ids: bool) -> String {
    let rows: Vec<Vec<String>> = changes
        .iter()
        .map(|c| {
            let place = |p: &Place| {
                if ids {
                    format!(
                        "{} {} ({})",
                        p.attached_to,
                        p.name,
                        p.rule.as_deref().unwrap_or("-")
                    )
                } else {
                    // W12: `person Nina Neu`, not `person P6 Nina Neu (M7)`.
                    let kind = p.attached_to.split(' ').next().unwrap_or("");
                    format!("{kind} {}", p.name)
                }
            };
            let added: Vec<&String> = c
                .after
                .participants
                .iter()
                .filter(|p| !c.before.participants.contains(p))
                .collect();
            vec![
                c.id.to_string(),
                c.subject.chars().take(40).collect(),
                if c.before.attached_to == c.after.attached_to {
                    place(&c.after)
                } else {
                    format!("{}\n-> {}", place(&c.before), place(&c.after))
                },
                if c.before.flags == c.after.flags {
                    c.after.flags.join("\n")
                } else {
                    format!(
                        "{}\n-> {}",
                        or_none(&c.before.flags),
                        or_none(&c.after.flags)
                    )
                },
                added
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ]
        })
        .collect();
    render_table(
        &[
            "activity",
            "subject",
            "attached to",
            "flags",
            "participants added",
        ],
        &rows,
    )
}

fn or_none(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(", ")
    }
}

impl Tabular for ResolveReport {
    fn headers(&self) -> Vec<&'static str> {
        vec!["address", "action", "target", "state", "activities"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.items
            .iter()
            .map(|i| {
                vec![
                    i.id.clone(),
                    i.action.clone(),
                    i.reason.clone().unwrap_or_default(),
                    i.state.clone(),
                    i.activities.len().to_string(),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        let mut v = Vec::new();
        if !self.changes.is_empty() {
            v.push("Re-evaluated activities (U3):".to_string());
            v.push(changes_table(&self.changes, true).trim_end().to_string());
        }
        let c = &self.counts;
        v.push(format!(
            "{}{} resolved, {} ignored, {} person(s) created, {} activities re-evaluated, {} skipped",
            super::dry_run_lead(self.dry_run, ": would have "),
            c.resolved,
            c.ignored,
            c.created,
            c.updated,
            c.skipped
        ));
        // X14: the summary first, the tables below it.
        v.rotate_right(1);
        v
    }
    fn is_run(&self) -> bool {
        true
    }
    fn detail(&self) -> bool {
        self.dry_run || crate::ui::level() > 0
    }
    fn ok(&self) -> bool {
        self.exit() == crate::error::Exit::Ok
    }
}
