//! `crmsync explain ITEM` (X9): which rule placed an activity where, and
//! what every address of it matched.

use anyhow::Result;
use serde::Serialize;

use super::Ctx;
use crate::cli::ExplainArgs;
use crate::error::{Exit, usage};
use crate::report::output::Tabular;
use crate::state::Access;
use crate::state::activities::ActivityView;

#[derive(Serialize)]
struct Explained {
    activity: ActivityView,
    rule: Option<String>,
    explain: Vec<String>,
    sources: Vec<String>,
}

impl Tabular for Explained {
    fn headers(&self) -> Vec<&'static str> {
        vec!["activity", "attached to", "rule", "why"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        let a = &self.activity;
        vec![vec![
            format!("{} {} \"{}\"", a.id, a.kind, a.subject),
            format!(
                "{} {} ({})",
                a.attached_to.kind, a.attached_to.name, a.attached_to.id
            ),
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

pub fn run(ctx: &Ctx, args: &ExplainArgs) -> Result<Exit> {
    let st = ctx.state(Access::Read, "explain")?;
    let item = args.item.trim();
    let id: Option<i64> = match item.parse::<i64>() {
        Ok(id) => Some(id),
        Err(_) => {
            let mid = item.trim_start_matches('<').trim_end_matches('>');
            st.activity_for_message_id(mid)?
        }
    };
    let Some(view) = id.map(|id| st.activity_view(id)).transpose()?.flatten() else {
        return Err(usage(format!(
            "no activity for `{item}`; it was not imported. `crmsync import-mail --dry-run --all-items` shows where new mail would go"
        )));
    };
    let sources = st
        .explain_sources(view.id)?
        .into_iter()
        .map(|s| {
            format!(
                "{} / {} uid {} <{}>",
                s.account,
                s.folder,
                s.uid.map_or_else(|| "-".to_string(), |u| u.to_string()),
                s.message_id
            )
        })
        .collect();
    ctx.printer.print(&Explained {
        rule: view.rule.clone(),
        explain: view.explain.clone(),
        activity: view,
        sources,
    })?;
    Ok(Exit::Ok)
}
