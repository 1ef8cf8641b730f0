//! `crmsync crm activity add|edit|show|delete`: the embedded CRM's own
//! editing of appointments, meetings, follow-ups and tasks (B1), what a
//! sales rep does in the CRM and sync-calendar carries to the calendar
//! (C3, C7). `show --from --to` lists a series' occurrences (C4).

use anyhow::Result;
use chrono::{NaiveDate, Utc};
use serde::Serialize;

use super::Ctx;
use crate::address::normalize;
use crate::cli::{ActivityCommand, ActivityFields, ActivityType};
use crate::crm::calendar::{self as crm, NewCalendarActivity};
use crate::crm::directory;
use crate::error::{Exit, usage};
use crate::matching::Matcher;
use crate::model::{Attach, CrmEntry, CrmFields, Participant};
use crate::parse::ical::{self, CalTime, Occurrence};
use crate::plan::calendar as plan;
use crate::plan::mail::Owner;
use crate::report::output::Tabular;
use crate::state::Access;

pub fn run(ctx: &Ctx, cmd: ActivityCommand) -> Result<Exit> {
    match cmd {
        ActivityCommand::Add(a) => {
            let st = ctx.state(Access::Write, "crm activity add")?;
            let user = ctx.cfg.user(&a.rep).ok_or_else(|| {
                usage(format!(
                    "--rep {}: no such user in {}; users are the [[users]] of the config",
                    a.rep,
                    ctx.cfg.describe_path()
                ))
            })?;
            let matcher = Matcher::new(&st.conn, &ctx.cfg)?;
            let attach = match &a.person {
                Some(ext) => Attach::Person(directory::person_rowid(&st.conn, ext)?.ok_or_else(
                    || usage(format!("--person {ext}: no person with this id (crm list)")),
                )?),
                None => Attach::Person(matcher.user_person(&ctx.cfg, user.login.get_ref())?.ok_or_else(
                    || usage(format!(
                        "user `{}` has no person record of their own; add one (crm import) or give --person",
                        user.login.get_ref()
                    )),
                )?),
            };
            let mut fields = CrmFields::default();
            apply_fields(&matcher, &mut fields, &a.fields)?;
            if fields.subject.trim().is_empty() {
                return Err(usage("--subject is required"));
            }
            let activity_type = match a.activity_type {
                ActivityType::Appointment => "appointment",
                ActivityType::Meeting => "meeting",
                ActivityType::FollowUp => "follow_up",
                ActivityType::Task => "task",
            };
            if st.writable() {
                let id = crm::create(
                    &st.conn,
                    &NewCalendarActivity {
                        activity_type,
                        fields: &fields,
                        attach,
                        rep: user.login.get_ref(),
                        rule: "B1",
                        explain: &["B1: added with crm activity add".to_string()],
                        uid: None,
                    },
                )?;
                show(ctx, &st.conn, id, None)
            } else {
                crate::ui::info("dry run: nothing added");
                Ok(Exit::Ok)
            }
        }
        ActivityCommand::Edit(a) => {
            let st = ctx.state(Access::Write, "crm activity edit")?;
            let e = crm::entry(&st.conn, a.id)?
                .ok_or_else(|| usage(format!("there is no activity {}", a.id)))?;
            let matcher = Matcher::new(&st.conn, &ctx.cfg)?;
            let mut fields = e.fields.clone();
            apply_fields(&matcher, &mut fields, &a.fields)?;
            if st.writable() {
                crm::update(&st.conn, a.id, &fields)?;
                show(ctx, &st.conn, a.id, None)
            } else {
                crate::ui::info("dry run: nothing changed");
                Ok(Exit::Ok)
            }
        }
        ActivityCommand::Show(a) => {
            let st = ctx.state(Access::Read, "crm activity show")?;
            let window = match (&a.from, &a.to) {
                (Some(f), Some(t)) => Some((day(f, "--from")?, day(t, "--to")?)),
                _ => None,
            };
            show(ctx, &st.conn, a.id, window)
        }
        ActivityCommand::Delete(a) => {
            let st = ctx.state(Access::Write, "crm activity delete")?;
            if crm::entry(&st.conn, a.id)?.is_none() {
                return Err(usage(format!("there is no activity {}", a.id)));
            }
            if st.writable() {
                crm::delete(&st.conn, a.id)?;
            }
            ctx.printer.print(&Deleted {
                deleted: a.id,
                dry_run: !st.writable(),
            })?;
            Ok(Exit::Ok)
        }
    }
}

fn day(s: &str, flag: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| usage(format!("{flag} {s}: expected a date YYYY-MM-DD")))
}

fn time(s: &str, flag: &str) -> Result<CalTime> {
    s.parse::<CalTime>().map_err(|e| {
        usage(format!(
            "{flag}: {e}; use 2026-03-05, 2026-03-05T10:00:00, 2026-03-05T09:00:00Z or 2026-03-05T10:00:00[Europe/Berlin]"
        ))
    })
}

/// The given flags onto `f`; what is not given stays. An empty value
/// clears an optional field.
fn apply_fields(matcher: &Matcher<'_>, f: &mut CrmFields, a: &ActivityFields) -> Result<()> {
    let opt_time = |v: &str, flag: &str| -> Result<Option<CalTime>> {
        if v.is_empty() {
            Ok(None)
        } else {
            time(v, flag).map(Some)
        }
    };
    if let Some(s) = &a.subject {
        f.subject = s.clone();
    }
    if let Some(t) = &a.text {
        f.text = (!t.is_empty()).then(|| t.clone());
    }
    if let Some(v) = &a.start {
        f.start = opt_time(v, "--start")?;
    }
    if let Some(v) = &a.end {
        f.end = opt_time(v, "--end")?;
    }
    if let Some(v) = &a.due {
        f.due = opt_time(v, "--due")?;
    }
    if let Some(r) = &a.rrule {
        f.rrule = (!r.is_empty()).then(|| r.clone());
    }
    if !a.exdate.is_empty() {
        f.exdate = a
            .exdate
            .iter()
            .filter(|v| !v.is_empty())
            .map(|v| time(v, "--exdate").map(|t| ical::date_line("EXDATE", &t)))
            .collect::<Result<_>>()?;
    }
    if !a.participant.is_empty() {
        let mut ps = Vec::new();
        for p in a.participant.iter().filter(|p| !p.is_empty()) {
            let addr = normalize(p);
            if !crate::address::looks_like_address(&addr) {
                return Err(usage(format!("--participant {p}: not an e-mail address")));
            }
            let person_id = matcher.lookup(&addr)?.person_id();
            ps.push(Participant {
                address: addr,
                person_id,
            });
        }
        f.participants = ps;
    }
    if let (Some(s), Some(e)) = (&f.start, &f.end)
        && let (Some(si), Some(ei)) = (s.instant(), e.instant())
        && ei < si
    {
        return Err(usage(format!("--end {e} is before --start {s}")));
    }
    Ok(())
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

fn show(
    ctx: &Ctx,
    conn: &rusqlite::Connection,
    id: i64,
    window: Option<(NaiveDate, NaiveDate)>,
) -> Result<Exit> {
    let entry = crm::entry(conn, id)?.ok_or_else(|| usage(format!("there is no activity {id}")))?;
    let rep = crate::crm::activities::view(conn, id)?
        .map(|v| v.rep)
        .unwrap_or_default();
    let occurrences =
        match window {
            Some((from, to)) => {
                // C4: the series as the calendar would hold it, expanded.
                let kind = plan::kind_of(&entry.activity_type).unwrap_or(ical::Kind::Event);
                let owner = Owner {
                    login: rep.clone(),
                    person_id: 0,
                    addresses: Vec::new(),
                };
                let item = plan::crm_item(&entry, kind, &owner, Utc::now());
                let at = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
                Some(ical::occurrences(&item, at(from), at(to)).map_err(|e| {
                    usage(format!("activity {id}: its series cannot be expanded: {e}"))
                })?)
            }
            None => None,
        };
    ctx.printer.print(&Shown {
        entry,
        rep,
        occurrences,
    })?;
    Ok(Exit::Ok)
}
