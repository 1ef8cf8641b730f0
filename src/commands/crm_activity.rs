//! `crmsync crm activity add|edit|show|delete` (B1, C3, C4, C7): parses
//! the flags, runs the rules of `crm::activity` over the state file and
//! prints the activity. With a REST CRM the directory cache is pulled
//! first and the edits are pushed after the command (B2, `crm::remote`).

use anyhow::Result;
use chrono::NaiveDate;
use serde::Serialize;

use super::{Ctx, crm_rest};
use crate::cli::{
    ActivityAddArgs, ActivityCommand, ActivityEditArgs, ActivityFields, ActivityIdArgs,
    ActivityShowArgs, ActivityType,
};
use crate::crm::activity::{self, Edits};
use crate::error::{Exit, usage};
use crate::matching::Matcher;
use crate::model::{CalTime, CrmEntry};
use crate::parse::ical::Occurrence;
use crate::report::output::Tabular;
use crate::state::calendar::NewCalendarActivity;
use crate::state::{Access, State};

/// Runs one subcommand; what add, edit and delete wrote goes to a REST
/// CRM after it (B2).
///
/// # Errors
/// Usage errors for bad flags or an unknown activity; SQLite errors.
pub fn run(ctx: &Ctx, cmd: ActivityCommand) -> Result<Exit> {
    match cmd {
        ActivityCommand::Add(a) => add(ctx, &a).and_then(|exit| crm_rest::push_after(ctx, exit)),
        ActivityCommand::Edit(a) => edit(ctx, &a).and_then(|exit| crm_rest::push_after(ctx, exit)),
        ActivityCommand::Show(a) => show_command(ctx, &a),
        ActivityCommand::Delete(a) => {
            delete(ctx, &a).and_then(|exit| crm_rest::push_after(ctx, exit))
        }
    }
}

fn edits(f: &ActivityFields) -> Edits<'_> {
    Edits {
        subject: f.subject.as_deref(),
        text: f.text.as_deref(),
        start: f.start.as_deref(),
        end: f.end.as_deref(),
        due: f.due.as_deref(),
        rrule: f.rrule.as_deref(),
        exdate: &f.exdate,
        participant: &f.participant,
    }
}

fn add(ctx: &Ctx, a: &ActivityAddArgs) -> Result<Exit> {
    let st = ctx.state(Access::Write, "crm activity add")?;
    crate::crm::remote::pull(&ctx.cfg, &st)?; // B2: the directory cache first
    let user = ctx.cfg.user(&a.rep).ok_or_else(|| {
        usage(format!(
            "--rep {}: no such user in {}; users are the [[users]] of the config",
            a.rep,
            ctx.cfg.describe_path()
        ))
    })?;
    let login = user.login.get_ref();
    let matcher = Matcher::new(&st, &ctx.cfg)?;
    let person =
        match &a.person {
            Some(ext) => Some(st.person_rowid(ext)?.ok_or_else(|| {
                usage(format!("--person {ext}: no person with this id (crm list)"))
            })?),
            None => None,
        };
    let attach = activity::attach(&matcher, &ctx.cfg, person, login)?;
    let fields = activity::new_fields(&matcher, &edits(&a.fields))?;
    let activity_type = match a.activity_type {
        ActivityType::Appointment => "appointment",
        ActivityType::Meeting => "meeting",
        ActivityType::FollowUp => "follow_up",
        ActivityType::Task => "task",
    };
    if !st.writable() {
        crate::ui::info("dry run: nothing added");
        return Ok(Exit::Ok);
    }
    let id = st.create_calendar_activity(&NewCalendarActivity {
        activity_type,
        fields: &fields,
        attach,
        rep: login,
        rule: "B1",
        explain: &["B1: added with crm activity add".to_string()],
        uid: None,
    })?;
    show(ctx, &st, id, None)
}

fn edit(ctx: &Ctx, a: &ActivityEditArgs) -> Result<Exit> {
    let st = ctx.state(Access::Write, "crm activity edit")?;
    crate::crm::remote::pull(&ctx.cfg, &st)?; // B2: the directory cache first
    let e = st
        .calendar_entry(a.id)?
        .ok_or_else(|| usage(format!("there is no activity {}", a.id)))?;
    let matcher = Matcher::new(&st, &ctx.cfg)?;
    let mut fields = e.fields.clone();
    activity::apply(&matcher, &mut fields, &edits(&a.fields))?;
    if !st.writable() {
        crate::ui::info("dry run: nothing changed");
        return Ok(Exit::Ok);
    }
    st.update_calendar_activity(a.id, &fields)?;
    show(ctx, &st, a.id, None)
}

fn show_command(ctx: &Ctx, a: &ActivityShowArgs) -> Result<Exit> {
    let st = ctx.state(Access::Read, "crm activity show")?;
    let window = match (&a.from, &a.to) {
        (Some(f), Some(t)) => Some((activity::day(f, "--from")?, activity::day(t, "--to")?)),
        _ => None,
    };
    show(ctx, &st, a.id, window)
}

fn delete(ctx: &Ctx, a: &ActivityIdArgs) -> Result<Exit> {
    let st = ctx.state(Access::Write, "crm activity delete")?;
    crate::crm::remote::pull(&ctx.cfg, &st)?; // B2: the directory cache first
    if st.calendar_entry(a.id)?.is_none() {
        return Err(usage(format!("there is no activity {}", a.id)));
    }
    if st.writable() {
        st.delete_activity(a.id)?;
    }
    ctx.printer.print(&Deleted {
        deleted: a.id,
        dry_run: !st.writable(),
    })?;
    Ok(Exit::Ok)
}

#[derive(Serialize)]
struct Deleted {
    deleted: i64,
    dry_run: bool,
}

impl Tabular for Deleted {
    fn headers(&self) -> Vec<&'static str> {
        vec!["activity", "action"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        vec![vec![
            self.deleted.to_string(),
            if self.dry_run {
                "would be deleted (dry run)".into()
            } else {
                "deleted".into()
            },
        ]]
    }
}

#[derive(Serialize)]
struct Shown {
    #[serde(flatten)]
    entry: CrmEntry,
    rep: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    occurrences: Option<Vec<Occurrence>>,
}

impl Tabular for Shown {
    fn headers(&self) -> Vec<&'static str> {
        vec!["field", "value"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        let f = &self.entry.fields;
        let t = |x: &Option<CalTime>| x.as_ref().map(ToString::to_string).unwrap_or_default();
        let mut rows = vec![
            vec!["id".into(), self.entry.id.to_string()],
            vec!["type".into(), self.entry.activity_type.clone()],
            vec!["rep".into(), self.rep.clone()],
            vec!["subject".into(), f.subject.clone()],
            vec!["text".into(), f.text.clone().unwrap_or_default()],
            vec!["start".into(), t(&f.start)],
            vec!["end".into(), t(&f.end)],
            vec!["due".into(), t(&f.due)],
            vec!["rrule".into(), f.rrule.clone().unwrap_or_default()],
            vec!["exdate".into(), f.exdate.join(" ")],
            vec!["overrides".into(), f.overrides.len().to_string()],
            vec![
                "participants".into(),
                f.participants
                    .iter()
                    .map(|p| p.address.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            ],
            vec![
                "calendar uid".into(),
                self.entry.uid.clone().unwrap_or_default(),
            ],
        ];
        for o in self.occurrences.iter().flatten() {
            rows.push(vec![
                "occurrence".into(),
                format!(
                    "{}{}",
                    o.start,
                    if o.overridden.is_some() {
                        " (moved or changed)"
                    } else {
                        ""
                    }
                ),
            ]);
        }
        rows
    }
}

fn show(ctx: &Ctx, st: &State, id: i64, window: Option<(NaiveDate, NaiveDate)>) -> Result<Exit> {
    let entry = st
        .calendar_entry(id)?
        .ok_or_else(|| usage(format!("there is no activity {id}")))?;
    let rep = st.activity_view(id)?.map(|v| v.rep).unwrap_or_default();
    let occurrences = match window {
        Some((from, to)) => Some(activity::occurrences(&entry, &rep, from, to)?),
        None => None,
    };
    ctx.printer.print(&Shown {
        entry,
        rep,
        occurrences,
    })?;
    Ok(Exit::Ok)
}
