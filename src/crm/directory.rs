//! SQL for the directory tables: users from the config, companies and
//! persons from `crm import` (or a REST CRM's cache). Writes are idempotent
//! by external id and skip records that did not change, so `updated_at`
//! only moves on a real change (push-contacts relies on that, P7).

use std::collections::HashMap;

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Company, Person};
use crate::config::Config;
use crate::matching::{domain_of, normalize};
use crate::state::now;

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Row counts for `check` and `crm list`.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Counts {
    pub users: i64,
    pub companies: i64,
    pub persons: i64,
    pub activities: i64,
    pub open_unknown: i64,
}

/// Refreshes the users table from `[[users]]` (SPEC 1: every user is also a
/// CRM person and a possible rep).
///
/// # Errors
/// SQLite errors.
pub fn sync_users(conn: &Connection, cfg: &Config) -> Result<()> {
    let tx = conn.unchecked_transaction()?;
    tx.execute("DELETE FROM users", [])?;
    for u in &cfg.users {
        tx.execute(
            "INSERT INTO users (login, display_name) VALUES (?1, ?2)",
            params![u.login(), u.name],
        )?;
        for (i, e) in u.emails.iter().enumerate() {
            tx.execute(
                "INSERT OR IGNORE INTO user_emails (email, login, position) VALUES (?1, ?2, ?3)",
                params![normalize(e), u.login(), i as i64],
            )?;
        }
        for g in &u.sales_groups {
            tx.execute(
                "INSERT OR IGNORE INTO user_groups (login, group_name) VALUES (?1, ?2)",
                params![u.login(), g],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Row counts of the directory and activity tables.
///
/// # Errors
/// SQLite errors.
pub fn counts(conn: &Connection) -> Result<Counts> {
    let one = |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
    Ok(Counts {
        users: one("SELECT count(*) FROM users")?,
        companies: one("SELECT count(*) FROM companies")?,
        persons: one("SELECT count(*) FROM persons")?,
        activities: one("SELECT count(*) FROM activities")?,
        open_unknown: one("SELECT count(*) FROM unknown_addresses WHERE state = 'open'")?,
    })
}

/// Internal id of a company by external id.
///
/// # Errors
/// SQLite errors.
pub fn company_rowid(conn: &Connection, ext_id: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM companies WHERE ext_id = ?1")?
        .query_row([ext_id], |r| r.get(0))
        .optional()?)
}

/// Internal id of a person by external id.
///
/// # Errors
/// SQLite errors.
pub fn person_rowid(conn: &Connection, ext_id: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM persons WHERE ext_id = ?1")?
        .query_row([ext_id], |r| r.get(0))
        .optional()?)
}

fn strings(conn: &Connection, sql: &str, id: i64) -> Result<Vec<String>> {
    let mut st = conn.prepare_cached(sql)?;
    let v = st
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(v)
}

/// Reads one company by internal id.
///
/// # Errors
/// SQLite errors.
pub fn company_by_rowid(conn: &Connection, id: i64) -> Result<Option<Company>> {
    let row = conn
        .prepare_cached(
            "SELECT coalesce(ext_id, id), name, kind, email, rep FROM companies WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(Company {
                id: r.get::<_, rusqlite::types::Value>(0).map(value_text)?,
                name: r.get(1)?,
                kind: r.get(2)?,
                email: r.get(3)?,
                rep: r.get(4)?,
                ..Company::default()
            })
        })
        .optional()?;
    let Some(mut c) = row else { return Ok(None) };
    c.domains = strings(
        conn,
        "SELECT domain FROM company_domains WHERE company_id = ?1 ORDER BY domain",
        id,
    )?;
    c.sales_groups = strings(
        conn,
        "SELECT group_name FROM company_groups WHERE company_id = ?1 ORDER BY group_name",
        id,
    )?;
    Ok(Some(c))
}

/// Reads one person by internal id.
///
/// # Errors
/// SQLite errors.
pub fn person_by_rowid(conn: &Connection, id: i64) -> Result<Option<Person>> {
    let row = conn
        .prepare_cached(
            "SELECT coalesce(p.ext_id, p.id), p.first_name, p.last_name, c.ext_id, p.rep
             FROM persons p LEFT JOIN companies c ON c.id = p.company_id WHERE p.id = ?1",
        )?
        .query_row([id], |r| {
            Ok(Person {
                id: r.get::<_, rusqlite::types::Value>(0).map(value_text)?,
                first_name: r.get(1)?,
                last_name: r.get(2)?,
                company_id: r.get(3)?,
                rep: r.get(4)?,
                ..Person::default()
            })
        })
        .optional()?;
    let Some(mut p) = row else { return Ok(None) };
    p.emails = strings(
        conn,
        "SELECT email FROM person_emails WHERE person_id = ?1 ORDER BY position",
        id,
    )?;
    p.phones = strings(
        conn,
        "SELECT phone FROM person_phones WHERE person_id = ?1 ORDER BY position",
        id,
    )?;
    p.sales_groups = strings(
        conn,
        "SELECT group_name FROM person_groups WHERE person_id = ?1 ORDER BY group_name",
        id,
    )?;
    p.favorite_of = strings(
        conn,
        "SELECT login FROM favorites WHERE person_id = ?1 ORDER BY login",
        id,
    )?;
    Ok(Some(p))
}

fn value_text(v: rusqlite::types::Value) -> String {
    match v {
        rusqlite::types::Value::Text(s) => s,
        rusqlite::types::Value::Integer(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

/// Inserts or updates companies by external id in the caller's transaction;
/// with `apply = false` only counts what it would do (X8).
///
/// # Errors
/// SQLite errors.
pub fn upsert_companies(
    tx: &Connection,
    companies: &[Company],
    apply: bool,
) -> Result<ImportCounts> {
    let mut counts = ImportCounts::default();
    let ts = now();
    for c in companies {
        let existing = company_rowid(tx, &c.id)?;
        if let Some(id) = existing
            && company_by_rowid(tx, id)?.as_ref() == Some(c)
        {
            counts.unchanged += 1;
            continue;
        }
        if !apply {
            if existing.is_some() {
                counts.updated += 1;
            } else {
                counts.created += 1;
            }
            continue;
        }
        let email = c.email.as_deref().map(normalize);
        let email_domain = email.as_deref().and_then(domain_of).map(str::to_string);
        let id = match existing {
            Some(id) => {
                tx.prepare_cached(
                    "UPDATE companies SET name = ?2, kind = ?3, email = ?4, email_domain = ?5, rep = ?6, updated_at = ?7 WHERE id = ?1",
                )?
                .execute(params![id, c.name, c.kind, email, email_domain, c.rep, ts])?;
                tx.prepare_cached("DELETE FROM company_domains WHERE company_id = ?1")?
                    .execute([id])?;
                tx.prepare_cached("DELETE FROM company_groups WHERE company_id = ?1")?
                    .execute([id])?;
                counts.updated += 1;
                id
            }
            None => {
                tx.prepare_cached(
                    "INSERT INTO companies (ext_id, name, kind, email, email_domain, rep, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                )?
                .execute(params![c.id, c.name, c.kind, email, email_domain, c.rep, ts])?;
                counts.created += 1;
                tx.last_insert_rowid()
            }
        };
        let mut dom = tx.prepare_cached(
            "INSERT OR IGNORE INTO company_domains (domain, company_id) VALUES (?1, ?2)",
        )?;
        for d in &c.domains {
            dom.execute(params![d.to_lowercase(), id])?;
        }
        let mut grp = tx.prepare_cached(
            "INSERT OR IGNORE INTO company_groups (company_id, group_name) VALUES (?1, ?2)",
        )?;
        for g in &c.sales_groups {
            grp.execute(params![id, g])?;
        }
    }
    Ok(counts)
}

/// Inserts or updates persons by external id in the caller's transaction;
/// with `apply = false` only counts what it would do (X8).
/// `company_id` must name an existing company (checked by the caller, which
/// knows the line to blame).
///
/// # Errors
/// SQLite errors; an unknown company id.
pub fn upsert_persons(tx: &Connection, persons: &[Person], apply: bool) -> Result<ImportCounts> {
    let mut counts = ImportCounts::default();
    let ts = now();
    let mut company_cache: HashMap<String, i64> = HashMap::new();
    for p in persons {
        let company = match &p.company_id {
            Some(ext) => Some(match company_cache.get(ext) {
                Some(id) => *id,
                None => {
                    let id = company_rowid(tx, ext)?.with_context(|| {
                        format!("company `{ext}` of person `{}` does not exist", p.id)
                    })?;
                    company_cache.insert(ext.clone(), id);
                    id
                }
            }),
            None => None,
        };
        let existing = person_rowid(tx, &p.id)?;
        if let Some(id) = existing
            && person_by_rowid(tx, id)?.as_ref() == Some(p)
        {
            counts.unchanged += 1;
            continue;
        }
        if !apply {
            if existing.is_some() {
                counts.updated += 1;
            } else {
                counts.created += 1;
            }
            continue;
        }
        let id = match existing {
            Some(id) => {
                tx.prepare_cached(
                    "UPDATE persons SET first_name = ?2, last_name = ?3, company_id = ?4, rep = ?5, updated_at = ?6 WHERE id = ?1",
                )?
                .execute(params![id, p.first_name, p.last_name, company, p.rep, ts])?;
                for table in [
                    "person_emails",
                    "person_phones",
                    "person_groups",
                    "favorites",
                ] {
                    tx.prepare_cached(&format!("DELETE FROM {table} WHERE person_id = ?1"))?
                        .execute([id])?;
                }
                counts.updated += 1;
                id
            }
            None => {
                tx.prepare_cached(
                    "INSERT INTO persons (ext_id, first_name, last_name, company_id, rep, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                )?
                .execute(params![p.id, p.first_name, p.last_name, company, p.rep, ts])?;
                counts.created += 1;
                tx.last_insert_rowid()
            }
        };
        let mut em = tx.prepare_cached(
            "INSERT OR IGNORE INTO person_emails (email, person_id, position) VALUES (?1, ?2, ?3)",
        )?;
        for (i, e) in p.emails.iter().enumerate() {
            em.execute(params![normalize(e), id, i as i64])?;
        }
        let mut ph = tx.prepare_cached(
            "INSERT INTO person_phones (person_id, position, phone) VALUES (?1, ?2, ?3)",
        )?;
        for (i, t) in p.phones.iter().enumerate() {
            ph.execute(params![id, i as i64, t])?;
        }
        let mut gr = tx.prepare_cached(
            "INSERT OR IGNORE INTO person_groups (person_id, group_name) VALUES (?1, ?2)",
        )?;
        for g in &p.sales_groups {
            gr.execute(params![id, g])?;
        }
        let mut fav = tx
            .prepare_cached("INSERT OR IGNORE INTO favorites (login, person_id) VALUES (?1, ?2)")?;
        for l in &p.favorite_of {
            fav.execute(params![l, id])?;
        }
    }
    Ok(counts)
}

/// A filter for listing: text in name or e-mail, and a row limit (0 = all).
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub search: Option<String>,
    pub limit: usize,
}

impl Filter {
    fn like(&self) -> Option<String> {
        self.search
            .as_ref()
            .map(|s| format!("%{}%", s.to_lowercase().replace(['%', '_'], "")))
    }
    fn limit(&self) -> i64 {
        if self.limit == 0 {
            -1
        } else {
            self.limit as i64
        }
    }
}

/// Companies ordered by name.
///
/// # Errors
/// SQLite errors.
pub fn list_companies(conn: &Connection, filter: &Filter) -> Result<Vec<Company>> {
    let mut st = conn.prepare(
        "SELECT id FROM companies c WHERE ?1 IS NULL OR lower(name) LIKE ?1 OR email LIKE ?1
           OR EXISTS (SELECT 1 FROM company_domains d WHERE d.company_id = c.id AND d.domain LIKE ?1)
         ORDER BY name COLLATE NOCASE, id LIMIT ?2",
    )?;
    let ids = st
        .query_map(params![filter.like(), filter.limit()], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    ids.into_iter()
        .filter_map(|id| company_by_rowid(conn, id).transpose())
        .collect()
}

/// Persons ordered by last and first name.
///
/// # Errors
/// SQLite errors.
pub fn list_persons(conn: &Connection, filter: &Filter) -> Result<Vec<Person>> {
    let mut st = conn.prepare(
        "SELECT id FROM persons p WHERE ?1 IS NULL
           OR lower(first_name || ' ' || last_name) LIKE ?1
           OR EXISTS (SELECT 1 FROM person_emails e WHERE e.person_id = p.id AND e.email LIKE ?1)
         ORDER BY last_name COLLATE NOCASE, first_name COLLATE NOCASE, id LIMIT ?2",
    )?;
    let ids = st
        .query_map(params![filter.like(), filter.limit()], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    ids.into_iter()
        .filter_map(|id| person_by_rowid(conn, id).transpose())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::State;

    fn acme() -> Company {
        Company {
            id: "C1".into(),
            name: "Acme".into(),
            kind: "customer".into(),
            email: Some("info@acme.example".into()),
            domains: vec!["acme.example".into()],
            rep: None,
            sales_groups: vec!["north".into()],
        }
    }

    fn jane() -> Person {
        Person {
            id: "P1".into(),
            first_name: "Jane".into(),
            last_name: "Doe".into(),
            emails: vec!["jane@acme.example".into(), "jd@acme.example".into()],
            phones: vec!["+49 30 1234".into()],
            company_id: Some("C1".into()),
            ..Person::default()
        }
    }

    #[test]
    fn b1_upsert_is_idempotent_by_external_id() {
        let st = State::open_memory().unwrap();
        let tx = st.conn.unchecked_transaction().unwrap();
        assert_eq!(upsert_companies(&tx, &[acme()], true).unwrap().created, 1);
        assert_eq!(upsert_persons(&tx, &[jane()], true).unwrap().created, 1);
        assert_eq!(upsert_persons(&tx, &[jane()], true).unwrap().unchanged, 1);
        let mut j2 = jane();
        j2.emails = vec!["jane@acme.example".into()];
        assert_eq!(upsert_persons(&tx, &[j2.clone()], true).unwrap().updated, 1);
        tx.commit().unwrap();
        let all = list_persons(&st.conn, &Filter::default()).unwrap();
        assert_eq!(all, vec![j2]);
        let cs = list_companies(
            &st.conn,
            &Filter {
                search: Some("ACME".into()),
                limit: 0,
            },
        )
        .unwrap();
        assert_eq!(cs, vec![acme()]);
    }
}
