//! The tables and CSV files of `crmsync report` (X10): activities, the
//! resolutions of the unknown-address queue (U5), the conflict log (C6);
//! and the table of `crmsync explain` (X9).

use anyhow::Result;
use serde::Serialize;

use crate::report::output::{Tabular, csv_record};
use crate::state::ResolutionRow;
use crate::state::activities::ActivityView;
use crate::state::calendar::ConflictRow;
use crate::state::report::SourceRow;

/// X10: the activities `report` selected (the SPEC 8 shape).
#[derive(Serialize)]
pub struct ActivityList {
    pub activities: Vec<ActivityView>,
}

impl Tabular for ActivityList {
    fn list_key(&self) -> Option<&'static str> {
        Some("activities")
    }
    fn headers(&self) -> Vec<&'static str> {
        vec![
            "id",
            "type",
            "date",
            "subject",
            "attached to",
            "rep",
            "flags",
        ]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.activities
            .iter()
            .map(|a| {
                vec![
                    a.id.to_string(),
                    a.kind.clone(),
                    a.start_at.clone().unwrap_or_default(),
                    a.subject.chars().take(50).collect(),
                    attached_to(a),
                    a.rep.clone(),
                    a.flag_details
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n"),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        vec![format!("{} activities", self.activities.len())]
    }
}

/// "kind name (id)" of what an activity hangs on.
fn attached_to(a: &ActivityView) -> String {
    format!(
        "{} {} ({})",
        a.attached_to.kind, a.attached_to.name, a.attached_to.id
    )
}

/// X10: the activities as CSV.
///
/// # Errors
/// CSV errors.
pub fn activities_csv(list: &[ActivityView]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "id",
        "type",
        "status",
        "date",
        "subject",
        "attached_kind",
        "attached_id",
        "attached_email",
        "rep",
        "participants",
        "flags",
        "message_id",
    ])?;
    for v in list {
        csv_record(
            &mut w,
            [
                v.id.to_string(),
                v.kind.clone(),
                v.status.clone(),
                v.start_at.clone().unwrap_or_default(),
                v.subject.clone(),
                v.attached_to.kind.to_string(),
                v.attached_to.id.clone(),
                v.attached_to.email.clone().unwrap_or_default(),
                v.rep.clone(),
                v.participants.join(";"),
                v.flags.join(";"),
                v.message_id.clone().unwrap_or_default(),
            ],
        )?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// U5: the resolutions of the unknown-address queue.
#[derive(Serialize)]
pub struct Resolutions {
    pub resolutions: Vec<ResolutionRow>,
}

impl Tabular for Resolutions {
    fn list_key(&self) -> Option<&'static str> {
        Some("resolutions")
    }
    fn headers(&self) -> Vec<&'static str> {
        vec!["#", "at", "by", "address", "action", "target"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.resolutions
            .iter()
            .map(|r| resolution_cells(r).to_vec())
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        vec![format!("{} resolutions", self.resolutions.len())]
    }
}

/// One resolution as table cells and CSV fields.
fn resolution_cells(r: &ResolutionRow) -> [String; 6] {
    [
        r.id.to_string(),
        r.at.clone(),
        r.by.clone(),
        r.address.clone(),
        r.action.clone(),
        r.target.clone().unwrap_or_default(),
    ]
}

/// U5: the resolutions as CSV.
///
/// # Errors
/// CSV errors.
pub fn resolutions_csv(list: &[ResolutionRow]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["id", "at", "by", "address", "action", "target"])?;
    for r in list {
        csv_record(&mut w, resolution_cells(r))?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// C6: the conflict log.
#[derive(Serialize)]
pub struct Conflicts {
    pub conflicts: Vec<ConflictRow>,
}

impl Tabular for Conflicts {
    fn list_key(&self) -> Option<&'static str> {
        Some("conflicts")
    }
    fn headers(&self) -> Vec<&'static str> {
        vec!["#", "at", "account", "item", "loser", "version kept"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.conflicts
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    r.at.clone(),
                    r.account.clone(),
                    r.item.clone(),
                    r.loser.clone(),
                    r.data
                        .chars()
                        .take(60)
                        .collect::<String>()
                        .replace(['\r', '\n'], " "),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        vec![format!(
            "{} losing versions kept; --json shows them whole",
            self.conflicts.len()
        )]
    }
}

/// C6: the conflict log as CSV (the losing versions whole).
///
/// # Errors
/// CSV errors.
pub fn conflicts_csv(list: &[ConflictRow]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["id", "at", "account", "item", "loser", "data"])?;
    for r in list {
        csv_record(
            &mut w,
            [
                r.id.to_string(),
                r.at.clone(),
                r.account.clone(),
                r.item.clone(),
                r.loser.clone(),
                r.data.clone(),
            ],
        )?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// X9: one activity, the rule that placed it and why, and its sources.
#[derive(Serialize)]
pub struct Explained {
    pub activity: ActivityView,
    pub rule: Option<String>,
    pub explain: Vec<String>,
    pub sources: Vec<String>,
}

impl Explained {
    /// "account / folder uid N <message-id>" ("-" for a source without a uid).
    pub fn source_line(s: &SourceRow) -> String {
        format!(
            "{} / {} uid {} <{}>",
            s.account,
            s.folder,
            s.uid.map_or_else(|| "-".to_string(), |u| u.to_string()),
            s.message_id
        )
    }
}

impl Tabular for Explained {
    fn headers(&self) -> Vec<&'static str> {
        vec!["activity", "attached to", "rule", "why"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        let a = &self.activity;
        vec![vec![
            format!("{} {} \"{}\"", a.id, a.kind, a.subject),
            attached_to(a),
            self.rule.clone().unwrap_or_default(),
            self.explain.join("\n"),
        ]]
    }
    fn footer(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .sources
            .iter()
            .map(|s| format!("source: {s}"))
            .collect();
        if !self.activity.flags.is_empty() {
            v.push(format!(
                "flagged for editing: {}",
                self.activity.flags.join(", ")
            ));
        }
        v
    }
}
