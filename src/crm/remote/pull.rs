//! The pull step's work (B2): the directory cache refreshed from the
//! CRM's listings in one transaction, CRM-side edits of paired calendar
//! activities taken over, and what hung on a record the CRM deleted
//! re-planned (B3).

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result};
use chrono::{Duration, NaiveDate};
use serde_json::Value;

use super::{PullCounts, Remote, column_instant, host_of, sha, shift, text};
use crate::address::normalize;
use crate::model::CalTime;
use crate::model::{Company, Person};
use crate::state::{State, now};

impl Remote<'_> {
    /// B2: refreshes the directory cache and takes over CRM-side edits of
    /// paired calendar activities.
    ///
    /// # Errors
    /// [`RestError`]s of the listing (the cache stays as it was), SQLite
    /// errors; a refusal to empty most of the cache at once.
    pub fn pull(&self) -> Result<PullCounts> {
        let p = &self.client.preset;
        let (companies, _) = self.client.list(
            &p.companies.list,
            &p.companies.items,
            "listing the CRM's companies",
        )?;
        let (persons, first) = self.client.list(
            &p.persons.list,
            &p.persons.items,
            "listing the CRM's persons",
        )?;
        let users = self.users(&first)?;
        let mut counts = PullCounts::default();
        let batch = self.st.batch()?;
        let cs: Vec<Company> = companies
            .iter()
            .filter_map(|v| self.company_of(v).transpose())
            .collect::<Result<_>>()?;
        let company_ids: HashSet<&str> = cs.iter().map(|c| c.id.as_str()).collect();
        let ps: Vec<Person> = persons
            .iter()
            .filter_map(|v| self.person_of(v, &company_ids, &users).transpose())
            .collect::<Result<_>>()?;
        self.guard_removals(&cs, &ps)?;
        (counts.companies, counts.persons) = self.st.cache_directory(&cs, &ps)?;
        let (companies_gone, of_companies) = remove_gone(
            self.st,
            "company",
            &cs.iter().map(|c| c.id.as_str()).collect(),
        )?;
        let (persons_gone, of_persons) = remove_gone(
            self.st,
            "person",
            &ps.iter().map(|c| c.id.as_str()).collect(),
        )?;
        counts.removed = companies_gone + persons_gone;
        counts.replanned = of_companies + of_persons;
        batch.commit()?;
        let (changed, deleted) = self.pull_calendar()?;
        counts.calendar_changed = changed;
        counts.calendar_deleted = deleted;
        Ok(counts)
    }

    /// The CRM user id -> login map (the rep, by e-mail address).
    fn users(&self, first_page: &Value) -> Result<HashMap<String, String>> {
        let p = &self.client.preset.persons;
        let mut map = HashMap::new();
        let Some(Value::Array(us)) = p.users.as_deref().and_then(|ptr| first_page.pointer(ptr))
        else {
            return Ok(map);
        };
        for u in us {
            if let (Some(id), Some(email)) = (text(u, &p.user_id), text(u, &p.user_email))
                && let Some(login) = self.st.user_login_by_email(&normalize(&email))?
            {
                map.insert(id, login);
            }
        }
        Ok(map)
    }

    fn company_of(&self, v: &Value) -> Result<Option<Company>> {
        let f = &self.client.preset.companies.fields;
        let Some(id) = text(v, &f.id) else {
            return Ok(None);
        };
        let mut domains: Vec<String> = f
            .website
            .as_deref()
            .and_then(|k| text(v, k))
            .and_then(|w| host_of(&w))
            .into_iter()
            .collect();
        // Domains added here (resolve-unknown) stay: the CRM keeps one.
        if let Some(row) = self.st.company_rowid(&id)?
            && let Some(local) = self.st.company_by_rowid(row)?
        {
            for d in local.domains {
                if !domains.contains(&d) {
                    domains.push(d);
                }
            }
        }
        Ok(Some(Company {
            name: text(v, &f.name).unwrap_or_else(|| id.clone()),
            kind: "customer".into(),
            email: f
                .email
                .as_deref()
                .and_then(|k| text(v, k))
                .map(|e| normalize(&e)),
            domains,
            rep: None,
            sales_groups: Vec::new(),
            id,
        }))
    }

    fn person_of(
        &self,
        v: &Value,
        companies: &HashSet<&str>,
        users: &HashMap<String, String>,
    ) -> Result<Option<Person>> {
        let f = &self.client.preset.persons.fields;
        let Some(id) = text(v, &f.id) else {
            return Ok(None);
        };
        let mut emails: Vec<String> = text(v, &f.email)
            .map(|e| normalize(&e))
            .into_iter()
            .collect();
        // Further addresses given in resolve-unknown stay in the cache.
        if let Some(row) = self.st.person_rowid(&id)?
            && let Some(local) = self.st.person_by_rowid(row)?
        {
            for e in local.emails.into_iter().skip(1) {
                if !emails.contains(&e) {
                    emails.push(e);
                }
            }
        }
        let rep = f.assigned_to.as_deref().and_then(|k| match v.get(k) {
            Some(Value::Array(a)) => a.iter().find_map(|u| {
                let uid = match u {
                    Value::Object(_) => text(u, "id"),
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                }?;
                users.get(&uid).cloned()
            }),
            _ => None,
        });
        Ok(Some(Person {
            first_name: text(v, &f.first_name).unwrap_or_default(),
            last_name: text(v, &f.last_name).unwrap_or_default(),
            emails,
            phones: f
                .phone
                .as_deref()
                .and_then(|k| text(v, k))
                .into_iter()
                .collect(),
            company_id: f
                .company
                .as_deref()
                .and_then(|k| text(v, k))
                .filter(|c| companies.contains(c.as_str())),
            rep,
            sales_groups: Vec::new(),
            favorite_of: Vec::new(),
            id,
        }))
    }

    /// Like C7 for the directory: a listing that would remove more than
    /// half of a cache of 20 or more records is refused (a wrong token or
    /// org looks exactly like that).
    fn guard_removals(&self, cs: &[Company], ps: &[Person]) -> Result<()> {
        let known = self.st.cached_remote_records()?;
        let seen = (cs.len() + ps.len()) as i64;
        if known >= 20 && seen * 2 < known {
            anyhow::bail!(
                "the CRM lists {seen} persons and companies, but {known} are cached: refusing to remove \
                 more than half of the directory at once; check crm.rest.base_url and the token's \
                 organisation"
            );
        }
        Ok(())
    }

    /// Calendar round trip: activities paired with a calendar item and sent
    /// to the CRM, changed or deleted there since, are changed or deleted
    /// here; sync-calendar then carries that to the calendar (C6, C7).
    fn pull_calendar(&self) -> Result<(usize, usize)> {
        let rows = self.st.sent_calendar_activities()?;
        if rows.is_empty() {
            return Ok((0, 0));
        }
        let p = &self.client.preset;
        let mut seen: HashMap<String, Value> = HashMap::new();
        let mut gone_links: HashSet<String> = HashSet::new();
        let mut links: Vec<&str> = rows
            .iter()
            .filter(|r| r.1 == "interaction")
            .filter_map(|r| r.3.as_deref())
            .collect();
        links.sort_unstable();
        links.dedup();
        for link in links {
            let Some((field, id)) = link.split_once(':') else {
                continue;
            };
            let path = p
                .activities
                .list
                .replace("{link}", field)
                .replace("{id}", id);
            let items =
                match self
                    .client
                    .list(&path, &p.activities.items, "listing activities in the CRM")
                {
                    Ok((items, _)) => items,
                    // B3: the record is gone; what hung on it was re-planned
                    // by this pull and is sent again by the next push.
                    Err(e) if e.is_not_found() => {
                        gone_links.insert(link.to_string());
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
            for v in items {
                if let Some(id) = text(&v, &p.activities.fields.id) {
                    seen.insert(format!("interaction:{id}"), v);
                }
            }
        }
        if rows.iter().any(|r| r.1 == "task") {
            let (items, _) =
                self.client
                    .list(&p.tasks.list, &p.tasks.items, "listing tasks in the CRM")?;
            for v in items {
                if let Some(id) = text(&v, &p.tasks.fields.id) {
                    seen.insert(format!("task:{id}"), v);
                }
            }
        }
        let (mut changed, mut deleted) = (0, 0);
        for (local, kind, remote, link, remote_hash) in rows {
            if kind == "interaction" && link.is_some_and(|l| gone_links.contains(&l)) {
                continue;
            }
            let Some(v) = seen.get(&format!("{kind}:{remote}")) else {
                let batch = self.st.batch()?;
                self.st.delete_pulled_activity(local)?;
                batch.commit()?;
                deleted += 1;
                continue;
            };
            let view = self.remote_view(&kind, v);
            if Some(view.hash()) == remote_hash {
                continue;
            }
            let Some(mut entry) = self.st.calendar_entry(local)? else {
                continue;
            };
            let f = &mut entry.fields;
            f.subject = view.subject.clone();
            if kind == "interaction" {
                if let Some(new) = view.when.as_deref().and_then(|w| column_instant(Some(w)))
                    && let Some(old) = f.start.as_ref().and_then(CalTime::instant)
                {
                    let d = new - old;
                    let old_len = f.end.as_ref().and_then(CalTime::instant).map(|e| e - old);
                    f.start = f.start.as_ref().map(|t| shift(t, d));
                    let len = view.duration.map(Duration::seconds).or(old_len);
                    f.end = match (&f.start, len) {
                        (Some(s), Some(l)) => Some(shift(s, l)),
                        _ => f.end.clone(),
                    };
                }
                if let Some(b) = &view.body {
                    f.text = (!b.is_empty()).then(|| b.clone());
                }
            } else if let Some(new) = view
                .when
                .as_deref()
                .and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok())
            {
                let t = f.due.clone().or_else(|| f.start.clone());
                if let Some(old) = t.as_ref().map(|t| t.local().date()) {
                    let d = Duration::days((new - old).num_days());
                    f.due = f.due.as_ref().map(|t| shift(t, d));
                    f.start = f.start.as_ref().map(|t| shift(t, d));
                    f.end = f.end.as_ref().map(|t| shift(t, d));
                }
            }
            let batch = self.st.batch()?;
            self.st.update_calendar_activity(local, &entry.fields)?;
            // What we now hold is what the CRM holds: nothing to send back.
            let a = self
                .st
                .outbox_activity(local)?
                .context("activity just written")?;
            let out = self.outgoing(&a, Some(&kind))?;
            let hash = out.as_ref().map(|o| sha(&o.body.to_string()));
            self.st
                .set_remote_hashes(local, hash.as_deref(), &view.hash())?;
            batch.commit()?;
            changed += 1;
        }
        Ok((changed, deleted))
    }
}

/// Removes cached records the CRM no longer lists; returns how many, and
/// how many activities that hung on removed persons were re-planned (B3).
fn remove_gone(st: &State, kind: &str, seen: &HashSet<&str>) -> Result<(usize, usize)> {
    let (mut n, mut replanned) = (0, 0);
    for (local, _) in st.cached_records_not_in(kind, seen)? {
        replanned += replan_orphans(st, kind, local)?;
        st.remove_cached(kind, local)?;
        n += 1;
    }
    Ok((n, replanned))
}

/// B3: a person or company deleted in the CRM and now dropped from the
/// cache. Each activity attached to it is re-planned as M7 places a mail
/// from an unknown sender: attached to its rep's own person record (rule
/// `B3`), flagged (`unknown_sender` for incoming mail, else
/// `unidentified_recipient`) with the person's address, which goes to the
/// unknown-address queue for resolve-unknown (U3); an activity of a
/// company keeps its flags (M10 left its sender in the queue already).
/// With no own person record for the rep (M9) it stays unattached and
/// waits in the outbox. Where a person was only a participant, the
/// activity is flagged and the address queued the same way (M8). Returns
/// how many were re-planned.
fn replan_orphans(st: &State, kind: &str, local: i64) -> Result<usize> {
    let is_person = kind == "person";
    let (name, email) = st.orphaned_record(kind, local)?;
    let attached = st.activities_attached_to(kind, local)?;
    let person = if is_person { local } else { -1 };
    let who = match &email {
        _ if !is_person => format!("company {name}"),
        Some(e) if !name.is_empty() => format!("{name} <{e}>"),
        Some(e) => e.clone(),
        None => name.clone(),
    };
    let mut n = 0;
    for (id, kind, rep, subject, explain) in attached {
        let own = st.own_person_of_rep(&rep, person)?;
        let mut explain: Vec<String> = serde_json::from_str(&explain).unwrap_or_default();
        let reason = if kind == "email_in" {
            crate::model::reason::UNKNOWN_SENDER
        } else {
            crate::model::reason::UNIDENTIFIED_RECIPIENT
        };
        match own {
            Some(own) => {
                explain.push(if is_person {
                    format!(
                        "B3: its person {who} was deleted in the CRM; attached to the rep's own person record, \
                         flagged {reason} and the address queued for resolve-unknown"
                    )
                } else {
                    format!(
                        "B3: its {who} was deleted in the CRM; attached to the rep's own person record"
                    )
                });
                st.set_placement(id, crate::model::Attach::Person(own), "B3", &explain)?;
            }
            None => {
                explain.push(format!(
                    "B3: its {}{who} was deleted in the CRM, and its rep {rep} has no person record \
                     there (M9): it waits in the outbox until one is added",
                    if is_person { "person " } else { "" }
                ));
                st.unattach_activity(id, "B3", &explain)?;
            }
        }
        if is_person {
            flag_and_queue(st, id, reason, email.as_deref(), &subject)?;
        }
        n += 1;
    }
    if let (true, Some(e)) = (is_person, &email) {
        for (id, subject) in st.activities_with_participant(local)? {
            flag_and_queue(
                st,
                id,
                crate::model::reason::UNIDENTIFIED_RECIPIENT,
                Some(e),
                &subject,
            )?;
        }
    }
    Ok(n)
}

/// B3: flags an activity for an address and queues it (M7, M8).
fn flag_and_queue(
    st: &State,
    id: i64,
    reason: &'static str,
    address: Option<&str>,
    subject: &str,
) -> Result<()> {
    st.add_flags(
        id,
        &[crate::model::Flag {
            reason,
            address: address.unwrap_or_default().to_string(),
        }],
    )?;
    if let Some(a) = address {
        st.queue_unknown(
            id,
            &[crate::model::Queued {
                address: a.to_string(),
                display_name: None,
            }],
            subject,
            &now(),
        )?;
    }
    Ok(())
}
