//! The push step's work (B2): the outbox sent, persons first, then the
//! creates in doubt looked at again, the new and changed activities, the
//! deletes; X5 (see [`Remote::push`]).

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::{
    DOUBT_SECS, Outgoing, PushCounts, Refused, Remote, as_text, cut, query, rfc3339, sha, text,
};
use crate::address::normalize;
use crate::crm::rest::RestError;
use crate::state::outbox::OutboxActivity;

impl Remote<'_> {
    /// X5 home (the REST outbox): sends the outbox (B2) in the order that
    /// survives a kill at any point: each create is first recorded
    /// `sending` with its marker and committed, then sent, then recorded
    /// `sent` with the CRM's id (`create_activity`; persons likewise in
    /// `push_persons`); a `sending` row is looked for by its marker before
    /// it is sent again, and a create in doubt ([`DOUBT_SECS`]) has its
    /// late copies deleted (`recheck_doubts`, `push_deletes`). Persons go
    /// first (activities hang on them), then the doubts, the creates and
    /// changes, the deletes.
    ///
    /// # Errors
    /// [`RestError::Transport`] / [`RestError::Auth`] stop the push (what
    /// was sent is recorded); SQLite errors.
    pub fn push(&self) -> Result<PushCounts> {
        let mut counts = PushCounts::default();
        self.push_persons(&mut counts)?;
        self.recheck_doubts(&mut counts)?;
        self.push_activities(&mut counts)?;
        self.push_deletes(&mut counts)?;
        Ok(counts)
    }

    /// Persons created here (resolve-unknown --create), and creates of an
    /// interrupted run.
    fn push_persons(&self, counts: &mut PushCounts) -> Result<()> {
        let ids = self.st.persons_to_send()?;
        let p = &self.client.preset.persons;
        for (id, state) in ids {
            let Some(person) = self.st.person_by_rowid(id)? else {
                continue;
            };
            let what = format!(
                "person {} <{}>",
                person.display_name(),
                person.emails.first().map_or("", String::as_str)
            );
            let Some(email) = person.emails.first().cloned() else {
                continue;
            };
            if state.is_none() {
                self.st.person_sending(id)?;
            }
            // X5: an earlier run may have created it and died before hearing.
            let existing = self.find_person(&email, &what)?;
            let remote = match existing {
                Some(r) => {
                    counts.found_again += usize::from(state.is_some());
                    r
                }
                None => {
                    let mut body = Map::new();
                    body.insert(p.fields.first_name.clone(), json!(person.first_name));
                    body.insert(p.fields.last_name.clone(), json!(person.last_name));
                    body.insert(p.fields.email.clone(), json!(email));
                    if let (Some(k), Some(ph)) = (&p.fields.phone, person.phones.first()) {
                        body.insert(k.clone(), json!(ph));
                    }
                    if let (Some(k), Some(c)) = (&p.fields.company, &person.company_id)
                        && let Some(cid) = self.st.remote_id_of_company(c)?
                    {
                        body.insert(k.clone(), json!(cid));
                    }
                    match self.client.post(&p.create, &Value::Object(body), &what) {
                        Ok(v) => match v.pointer(&p.created_id).and_then(as_text) {
                            Some(r) => {
                                counts.persons_created += 1;
                                r
                            }
                            None => anyhow::bail!(
                                "{what}: the CRM's answer has no id at `{}`; does the preset fit this CRM?",
                                p.created_id
                            ),
                        },
                        Err(RestError::Rejected(m)) => {
                            // X5: a dead run's create of this person landed
                            // after the lookup above (BottleCRM refuses a
                            // second contact with one address): adopt it.
                            match self.find_person(&email, &what)? {
                                Some(r) => {
                                    counts.found_again += 1;
                                    r
                                }
                                None => {
                                    self.refuse(counts, "person", id, &what, &m)?;
                                    continue;
                                }
                            }
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            };
            let batch = self.st.batch()?;
            self.st.person_sent(id, &remote)?;
            batch.commit()?;
        }
        Ok(())
    }

    /// The CRM's id of the person carrying exactly this address.
    fn find_person(&self, email: &str, what: &str) -> Result<Option<String>> {
        let p = &self.client.preset.persons;
        let path = p.find.replace("{email}", &query(email));
        let (found, _) = self
            .client
            .list(&path, &p.items, &format!("looking up {what}"))?;
        Ok(found.iter().find_map(|v| {
            let e = text(v, &p.fields.email)?;
            (normalize(&e) == email)
                .then(|| text(v, &p.fields.id))
                .flatten()
        }))
    }

    fn refuse(
        &self,
        counts: &mut PushCounts,
        kind: &str,
        id: i64,
        what: &str,
        msg: &str,
    ) -> Result<()> {
        self.st.set_remote_error(kind, id, msg)?;
        counts.refused.push(Refused {
            item: what.to_string(),
            error: format!(
                "the CRM refused it{}",
                msg.strip_prefix(what).unwrap_or(msg)
            ),
            says_next: false,
        });
        Ok(())
    }

    /// One activity failed: a 404 (B3, [`Remote::gone`]) or another
    /// refusal is recorded and reported, and the run goes on; anything
    /// else (no answer, a refused token) stops it.
    fn fail_activity(
        &self,
        counts: &mut PushCounts,
        id: i64,
        what: &str,
        link: &str,
        e: RestError,
    ) -> Result<()> {
        if e.is_not_found() {
            return self.gone(counts, id, what, link);
        }
        match e {
            RestError::Rejected(m) => self.refuse(counts, "activity", id, what, &m),
            e => Err(e.into()),
        }
    }

    /// B3: the CRM record an activity hangs on is gone (404). The activity
    /// fails alone and stays in the outbox; the pull drops the record from
    /// the cache and re-plans it.
    fn gone(&self, counts: &mut PushCounts, id: i64, what: &str, link: &str) -> Result<()> {
        let msg = format!(
            "the CRM record it hangs on ({}) is gone there (HTTP 404); `crmsync crm pull` drops it from the \
             cache and re-plans the activity (B3), the next push sends it",
            link.replacen(':', " ", 1)
        );
        self.st.set_remote_error("activity", id, &msg)?;
        counts.refused.push(Refused {
            item: what.to_string(),
            error: msg,
            says_next: true,
        });
        Ok(())
    }

    fn push_activities(&self, counts: &mut PushCounts) -> Result<()> {
        // New ones, creates of an interrupted run, and changed ones.
        let rows = self.st.activities_to_send()?;
        for (id, state, remote_kind, remote_id, hash, link) in rows {
            let Some(a) = self.st.outbox_activity(id)? else {
                continue;
            };
            let Some(out) = self.outgoing(&a, remote_kind.as_deref())? else {
                counts.waiting += 1;
                continue;
            };
            let what = format!("activity {id} ({})", cut(&a.subject, 60));
            let body_hash = sha(&out.body.to_string());
            match (state.as_deref(), remote_id) {
                (Some("sent"), Some(remote)) => {
                    if hash.as_deref() == Some(body_hash.as_str()) {
                        continue;
                    }
                    let p = &self.client.preset;
                    if out.remote_kind == "interaction"
                        && link.as_deref() != Some(out.link.as_str())
                    {
                        // BottleCRM: "the record an interaction is on cannot
                        // be changed" - a re-assigned activity (resolve-
                        // unknown) is deleted there and created anew. A kill
                        // in between: the old one is gone (404 counts as
                        // deleted) and the row still says so; the next run
                        // repeats the delete and creates it.
                        match self
                            .client
                            .delete(&p.activities.delete.replace("{id}", &remote), &what)
                        {
                            Ok(()) => {}
                            Err(RestError::Rejected(m)) => {
                                self.refuse(counts, "activity", id, &what, &m)?;
                                continue;
                            }
                            Err(e) => return Err(e.into()),
                        }
                        if self.create_activity(counts, &a, &out, false, &body_hash, &what)? {
                            counts.updated += 1;
                        }
                        continue;
                    }
                    let path = if out.remote_kind == "task" {
                        &p.tasks.update
                    } else {
                        &p.activities.update
                    };
                    let mut patch = out.body.clone();
                    if out.remote_kind == "interaction"
                        && let Value::Object(m) = &mut patch
                    {
                        m.remove(&p.activities.person_link);
                        m.remove(&p.activities.company_link);
                    }
                    match self
                        .client
                        .patch(&path.replace("{id}", &remote), &patch, &what)
                    {
                        Ok(()) => counts.updated += 1,
                        Err(RestError::Rejected(m)) => {
                            self.refuse(counts, "activity", id, &what, &m)?;
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    }
                    self.st.activity_updated_remotely(
                        id,
                        &body_hash,
                        &out.view.hash(),
                        &out.link,
                    )?;
                }
                (Some("sent"), None) => {}
                (st, _) => {
                    let retrying = st == Some("sending");
                    if self.create_activity(counts, &a, &out, retrying, &body_hash, &what)? {
                        counts.created += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// Creates the activity in the CRM (after looking for an earlier
    /// run's copy when `retrying`) and records it; true when it POSTed a
    /// new record, false when it found one or the CRM refused it.
    fn create_activity(
        &self,
        counts: &mut PushCounts,
        a: &OutboxActivity,
        out: &Outgoing,
        retrying: bool,
        body_hash: &str,
        what: &str,
    ) -> Result<bool> {
        let marker = self.marker("activity", a.id);
        let mut remote = None;
        let mut posted = false;
        // X5: an earlier run sent it and never heard back: its request may
        // still be stored later, after this run looked. Copies are looked
        // for again until then (recheck_doubts).
        let doubt = retrying.then(|| rfc3339(Utc::now() + Duration::seconds(DOUBT_SECS)));
        if retrying {
            let found = self
                .find_copies(out.remote_kind, &out.link, &out.title, &marker, what)
                .and_then(|copies| self.converge(counts, out.remote_kind, None, copies, what));
            match found {
                Ok(r) => remote = r,
                Err(e) => {
                    self.fail_activity(counts, a.id, what, &out.link, e)?;
                    return Ok(false);
                }
            }
            counts.found_again += usize::from(remote.is_some());
        } else {
            // Committed before the request: a kill after the CRM stored it
            // leaves this row, and the next run looks before it sends.
            self.st
                .activity_sending(a.id, out.remote_kind, &marker, body_hash, &out.link)?;
        }
        if remote.is_none() {
            let p = &self.client.preset;
            let mut body = out.body.clone();
            if let Value::Object(m) = &mut body {
                m.retain(|_, v| !v.is_null());
            }
            let path = if out.remote_kind == "task" {
                &p.tasks.create
            } else {
                &p.activities.create
            };
            match self.client.post(path, &body, what) {
                Ok(v) => {
                    remote = if out.remote_kind == "task" {
                        // BottleCRM does not say which id it gave the task.
                        let copies =
                            self.find_copies("task", &out.link, &out.title, &marker, what)?;
                        self.converge(counts, "task", None, copies, what)?
                    } else {
                        v.pointer(&p.activities.created_id).and_then(as_text)
                    };
                    if remote.is_none() {
                        anyhow::bail!(
                            "{what}: the CRM stored it but its answer names no id, and the reference {marker} \
                             was not found; does the preset fit this CRM?"
                        );
                    }
                    posted = true;
                }
                Err(e) => {
                    self.fail_activity(counts, a.id, what, &out.link, e)?;
                    return Ok(false);
                }
            }
        }
        self.st.activity_sent(
            a.id,
            out.remote_kind,
            remote.as_deref(),
            body_hash,
            &out.view.hash(),
            &out.link,
            doubt.as_deref(),
        )?;
        Ok(posted)
    }

    /// The CRM's ids of the records carrying `marker`: the interactions on
    /// `link`, or the tasks titled `title`. A 404: `link` is gone (B3).
    fn find_copies(
        &self,
        remote_kind: &str,
        link: &str,
        title: &str,
        marker: &str,
        what: &str,
    ) -> Result<Vec<String>, RestError> {
        let p = &self.client.preset;
        let what = format!("looking up {what}");
        let mut ids = Vec::new();
        if remote_kind == "task" {
            let path = p.tasks.search.replace("{title}", &query(title));
            let (items, _) = self.client.list(&path, &p.tasks.search_items, &what)?;
            for v in items {
                let Some(id) = text(&v, &p.tasks.fields.id) else {
                    continue;
                };
                let d = self
                    .client
                    .get(&p.tasks.detail.replace("{id}", &id), &what)?;
                let desc = d
                    .pointer(&p.tasks.detail_item)
                    .and_then(|t| text(t, &p.tasks.fields.description))
                    .unwrap_or_default();
                if desc.contains(marker) {
                    ids.push(id);
                }
            }
            return Ok(ids);
        }
        let Some((field, id)) = link.split_once(':') else {
            return Ok(ids);
        };
        let path = p
            .activities
            .list
            .replace("{link}", field)
            .replace("{id}", id);
        let (items, _) = self.client.list(&path, &p.activities.items, &what)?;
        Ok(items
            .iter()
            .filter_map(|v| {
                text(v, &p.activities.fields.body)
                    .filter(|b| b.contains(marker))
                    .and_then(|_| text(v, &p.activities.fields.id))
            })
            .collect())
    }

    /// X5: of the copies of one create, keeps `ours` (the one the row
    /// names) when it is among them, else the smallest id, and deletes the
    /// others; returns the one kept. Runs are serialised by the run lock
    /// (X4), so no other crmsync deletes at the same time.
    fn converge(
        &self,
        counts: &mut PushCounts,
        remote_kind: &str,
        ours: Option<&str>,
        mut copies: Vec<String>,
        what: &str,
    ) -> Result<Option<String>, RestError> {
        copies.sort_unstable();
        copies.dedup();
        let keep = ours
            .filter(|o| copies.iter().any(|c| c == o))
            .map(str::to_string)
            .or_else(|| copies.first().cloned());
        let p = &self.client.preset;
        let path = if remote_kind == "task" {
            &p.tasks.delete
        } else {
            &p.activities.delete
        };
        for extra in copies.iter().filter(|c| Some(*c) != keep.as_ref()) {
            self.client.delete(
                &path.replace("{id}", extra),
                &format!("deleting a second copy of {what} (X5)"),
            )?;
            counts.duplicates_deleted += 1;
        }
        Ok(keep)
    }

    /// X5: creates in doubt (their answer never came; see [`DOUBT_SECS`]):
    /// their marker is looked for again and extra copies the CRM stored
    /// late are deleted, keeping the one the row names (or, when a CRM user
    /// deleted that one, another: the row then names it and the next step
    /// sends the current fields). The first look after the window ends the
    /// doubt.
    fn recheck_doubts(&self, counts: &mut PushCounts) -> Result<()> {
        let rows = self.st.activities_in_doubt()?;
        for (local, kind, remote, marker, link, until) in rows {
            let Some(a) = self.st.outbox_activity(local)? else {
                continue;
            };
            let what = format!("activity {local} ({})", cut(&a.subject, 60));
            let expired = DateTime::parse_from_rfc3339(&until)
                .map_or(true, |t| t.with_timezone(&Utc) <= Utc::now());
            let title = self
                .outgoing(&a, Some(&kind))?
                .map(|o| o.title)
                .unwrap_or_default();
            let (Some(marker), Some(link)) = (marker, link) else {
                continue;
            };
            let found = self
                .find_copies(&kind, &link, &title, &marker, &what)
                .and_then(|copies| self.converge(counts, &kind, remote.as_deref(), copies, &what));
            let keep = match found {
                Ok(k) => k,
                // B3: the record it hung on is gone; the pull re-plans it.
                Err(e) if e.is_not_found() => continue,
                Err(RestError::Rejected(m)) => {
                    self.refuse(counts, "activity", local, &what, &m)?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(keep) = keep.as_deref()
                && Some(keep) != remote.as_deref()
            {
                self.st.repoint_remote_activity(local, keep)?;
            }
            if expired {
                self.st.end_doubt(local)?;
            }
        }
        Ok(())
    }

    /// Activities deleted here (sync-calendar C7, `crm activity delete`)
    /// are deleted in the CRM.
    ///
    /// X5: an activity deleted while its create was in doubt may have
    /// copies in the CRM that no row names (stored late): every copy
    /// carrying its marker on the record it hung on is deleted, and the
    /// row stays (without a CRM id) to look again until the doubt ends.
    fn push_deletes(&self, counts: &mut PushCounts) -> Result<()> {
        let gone = self.st.deleted_activities_to_send()?;
        let p = &self.client.preset;
        for (local, kind, remote, state, marker, link, doubt) in gone {
            let path = if kind == "task" {
                &p.tasks.delete
            } else {
                &p.activities.delete
            };
            let what = format!("deleting activity {local} in the CRM");
            if let Some(remote) = remote {
                match self.client.delete(&path.replace("{id}", &remote), &what) {
                    Ok(()) => counts.deleted += 1,
                    Err(RestError::Rejected(m)) => {
                        self.refuse(counts, "activity", local, &what, &m)?;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            let until = match (state.as_str(), doubt) {
                ("sending", _) => Some(Utc::now() + Duration::seconds(DOUBT_SECS)),
                (_, Some(d)) => DateTime::parse_from_rfc3339(&d)
                    .ok()
                    .map(|t| t.with_timezone(&Utc)),
                _ => None,
            };
            // Tasks are found by title, which a deleted activity no longer
            // has: only interactions can be swept (docs/CRM-REST.md).
            if let (Some(until), "interaction", Some(marker), Some(link)) =
                (until, kind.as_str(), &marker, &link)
            {
                let copies = match self.find_copies(&kind, link, "", marker, &what) {
                    Ok(c) => c,
                    Err(e) if e.is_not_found() => Vec::new(),
                    Err(RestError::Rejected(m)) => {
                        self.refuse(counts, "activity", local, &what, &m)?;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                let mut refused = false;
                for c in copies {
                    match self.client.delete(&path.replace("{id}", &c), &what) {
                        Ok(()) => counts.deleted += 1,
                        Err(RestError::Rejected(m)) => {
                            self.refuse(counts, "activity", local, &what, &m)?;
                            refused = true;
                            break;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                if refused {
                    continue;
                }
                if until > Utc::now() {
                    self.st.deleted_in_doubt(local, &rfc3339(until))?;
                    continue;
                }
            }
            self.st.forget_remote_activity(local)?;
        }
        Ok(())
    }
}
