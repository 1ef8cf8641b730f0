//! `crmsync explain ITEM` (X9): which rule placed an activity where, and
//! what every address of it matched.

use anyhow::Result;

use super::Ctx;
use crate::cli::ExplainArgs;
use crate::error::{Exit, usage};
use crate::report::activities::Explained;
use crate::state::Access;

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
        .iter()
        .map(Explained::source_line)
        .collect();
    ctx.printer.print(&Explained {
        rule: view.rule.clone(),
        explain: view.explain.clone(),
        activity: view,
        sources,
    })?;
    Ok(Exit::Ok)
}
