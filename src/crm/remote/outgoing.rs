//! The request body of an activity and the CRM-side view of it (B2):
//! what is sent (an interaction or a task, on its person or company),
//! and what a CRM user can change of it, built the same way from what is
//! sent and from what the CRM lists (the calendar round trip compares
//! the two by hash).

use anyhow::Result;
use chrono::{Duration, Utc};
use serde_json::{Map, Value, json};

use super::{Outgoing, Remote, View, column_instant, cut, rfc3339, strip_marker, text};
use crate::model::CalTime;
use crate::state::outbox::OutboxActivity;

impl Remote<'_> {
    /// The CRM link of an activity: its person's, else its company's id.
    fn link(&self, a: &OutboxActivity) -> Result<Option<(bool, String)>> {
        if let Some(p) = a.person_id {
            return Ok(self.st.remote_id("person", p)?.map(|r| (true, r)));
        }
        if let Some(c) = a.company_id {
            return Ok(self.st.remote_id("company", c)?.map(|r| (false, r)));
        }
        Ok(None)
    }

    /// The request body for an activity, or None while it has no CRM
    /// record to hang on. `kind` keeps the CRM resource it was sent as.
    pub(super) fn outgoing(
        &self,
        a: &OutboxActivity,
        kind: Option<&str>,
    ) -> Result<Option<Outgoing>> {
        let Some((is_person, link_id)) = self.link(a)? else {
            return Ok(None);
        };
        let p = &self.client.preset;
        let marker = self.marker("activity", a.id);
        let entry = if crate::model::CALENDAR_TYPES.contains(&a.kind.as_str()) {
            self.st.calendar_entry(a.id)?
        } else {
            None
        };
        let start = entry
            .as_ref()
            .and_then(|e| e.fields.start.clone())
            .or_else(|| {
                a.start_at
                    .as_deref()
                    .and_then(|s| s.parse::<CalTime>().ok())
            });
        let start_instant = start
            .as_ref()
            .and_then(CalTime::instant)
            .or_else(|| column_instant(a.start_at.as_deref()));
        let end_instant = entry
            .as_ref()
            .and_then(|e| e.fields.end.as_ref().and_then(CalTime::instant))
            .or_else(|| column_instant(a.end_at.as_deref()));
        let text_body = a.body.as_deref().unwrap_or_default().trim().to_string();
        let future = start_instant
            .is_some_and(|s| s > Utc::now() + Duration::seconds(p.activities.future_secs));
        // B2: what the CRM logs as done (mail, past meetings) is an
        // interaction; what lies ahead, and tasks, are its tasks.
        let appointment = matches!(a.kind.as_str(), "appointment" | "meeting");
        let remote_kind = match kind {
            Some("task") => "task",
            Some(_) => "interaction",
            None if p.activities.kinds.contains_key(&a.kind) && !(appointment && future) => {
                "interaction"
            }
            None => "task",
        };
        let subject = if a.subject.trim().is_empty() {
            "(no subject)".to_string()
        } else {
            a.subject.clone()
        };
        if remote_kind == "interaction" {
            let f = &p.activities.fields;
            let mut body = Map::new();
            if let Some(k) = p
                .activities
                .kinds
                .get(&a.kind)
                .or_else(|| p.activities.kinds.get("meeting"))
            {
                body.extend(k.clone());
            }
            // A mail dated ahead of the clock is logged now (the CRM
            // refuses a future occurred_at).
            let occurred = start_instant
                .or_else(|| column_instant(Some(&a.created_at)))
                .map(|t| t.min(Utc::now()))
                .map(rfc3339);
            let duration = match (start_instant, end_instant) {
                (Some(s), Some(e)) if e > s => Some((e - s).num_seconds()),
                _ => None,
            };
            let subj = cut(&subject, f.subject_max);
            let text_sent = cut(&text_body, f.body_max.saturating_sub(marker.len() + 2));
            body.insert(f.occurred_at.clone(), json!(occurred));
            if let (Some(k), Some(d)) = (&f.duration, duration) {
                body.insert(k.clone(), json!(d));
            }
            body.insert(f.subject.clone(), json!(subj));
            body.insert(
                f.body.clone(),
                json!(if text_sent.is_empty() {
                    marker.clone()
                } else {
                    format!("{text_sent}\n\n{marker}")
                }),
            );
            let (on, off) = if is_person {
                (&p.activities.person_link, &p.activities.company_link)
            } else {
                (&p.activities.company_link, &p.activities.person_link)
            };
            body.insert(on.clone(), json!(link_id));
            body.insert(off.clone(), Value::Null);
            Ok(Some(Outgoing {
                remote_kind: "interaction",
                link: format!("{on}:{link_id}"),
                view: View {
                    subject: subj.clone(),
                    when: occurred,
                    duration,
                    body: Some(strip_marker(&text_sent)),
                },
                title: subj,
                body: Value::Object(body),
            }))
        } else {
            let f = &p.tasks.fields;
            let due_time = entry
                .as_ref()
                .and_then(|e| e.fields.due.clone().or_else(|| e.fields.start.clone()))
                .or_else(|| a.due_at.as_deref().and_then(|s| s.parse::<CalTime>().ok()))
                .or(start);
            let due = due_time
                .as_ref()
                .map(|t| t.local().date())
                .or_else(|| column_instant(a.due_at.as_deref()).map(|t| t.date_naive()))
                .map(|d| d.format("%Y-%m-%d").to_string());
            let title = cut(&subject, f.title_max);
            let mut desc = text_body.clone();
            if matches!(a.kind.as_str(), "appointment" | "meeting")
                && let Some(s) = &entry.as_ref().and_then(|e| e.fields.start.clone())
            {
                let end = entry.as_ref().and_then(|e| e.fields.end.clone());
                // The task keeps the appointment's time in its text.
                desc = format!(
                    "When: {s}{}\n{desc}",
                    end.map(|e| format!(" - {e}")).unwrap_or_default()
                );
            }
            let mut body = p.tasks.constants.clone();
            body.insert(f.title.clone(), json!(title));
            body.insert(f.due.clone(), json!(due));
            body.insert(
                f.description.clone(),
                json!(format!("{}\n\n{marker}", desc.trim())),
            );
            body.insert(f.status.clone(), json!(p.tasks.status.open));
            body.insert(
                f.persons.clone(),
                json!(if is_person {
                    vec![link_id.clone()]
                } else {
                    Vec::new()
                }),
            );
            if let Some(k) = &f.company {
                body.insert(
                    k.clone(),
                    if is_person {
                        Value::Null
                    } else {
                        json!(link_id)
                    },
                );
            }
            Ok(Some(Outgoing {
                remote_kind: "task",
                link: format!(
                    "{}:{link_id}",
                    if is_person { "contact" } else { "account" }
                ),
                view: View {
                    subject: title.clone(),
                    when: due,
                    duration: None,
                    body: None,
                },
                title,
                body: Value::Object(body),
            }))
        }
    }

    /// What a CRM user can change of a listed activity.
    pub(super) fn remote_view(&self, kind: &str, v: &Value) -> View {
        let p = &self.client.preset;
        if kind == "task" {
            let f = &p.tasks.fields;
            View {
                subject: text(v, &f.title).unwrap_or_default(),
                when: text(v, &f.due),
                duration: None,
                body: None,
            }
        } else {
            let f = &p.activities.fields;
            View {
                subject: text(v, &f.subject).unwrap_or_default(),
                when: column_instant(text(v, &f.occurred_at).as_deref()).map(rfc3339),
                duration: f
                    .duration
                    .as_deref()
                    .and_then(|k| v.get(k))
                    .and_then(Value::as_i64),
                body: Some(strip_marker(&text(v, &f.body).unwrap_or_default())),
            }
        }
    }
}
