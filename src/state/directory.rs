//! State: the directory tables (issue 14). Users from the config,
//! companies and persons from `crm import` (or a REST CRM's cache), the
//! ignored addresses (M14), and the lookups the matcher does (SPEC 1, M10).
//! Writes are idempotent by external id and skip records that did not
//! change, so `updated_at` only moves on a real change (push-contacts
//! relies on that, P7).

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{State, now};
use crate::address::{domain_of, normalize};
use crate::config::Config;
use crate::model::{Company, Person};

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Row counts of the directory and activity tables (`check`, push-contacts).
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct RowCounts {
    pub users: i64,
    pub companies: i64,
    pub persons: i64,
    pub activities: i64,
    pub open_unknown: i64,
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

/// A new person's fields (U2 "create a person").
#[derive(Debug, Clone, Default)]
pub struct NewPerson<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    /// The primary address.
    pub email: &'a str,
    /// Internal id of the company.
    pub company: Option<i64>,
}

/// The filters that select one user's contacts (P2), from `[contacts]`
/// and the user's `[[users]]` entry.
#[derive(Debug, Clone, Default)]
pub struct ContactFilters<'a> {
    pub login: &'a str,
    pub by_rep: bool,
    pub by_sales_group: bool,
    pub by_favorites: bool,
    pub include_companies: bool,
    /// The user's sales groups (`[[users]] sales_groups`).
    pub sales_groups: &'a [String],
}

/// A person in a user's selection, with why it is there (P2).
#[derive(Debug, Clone)]
pub struct SelectedPerson {
    pub person: Person,
    pub company_name: Option<String>,
    /// The filters that chose it: `by_rep`, `by_sales_group`, `by_favorites`.
    pub why: Vec<&'static str>,
}

/// A company in a user's selection, with why it is there (P2).
#[derive(Debug, Clone)]
pub struct SelectedCompany {
    pub company: Company,
    /// `by_rep`, `by_sales_group`, or `company_of_person`.
    pub why: Vec<&'static str>,
}

/// One user's contacts: the union of the enabled filters (P2).
#[derive(Debug, Clone, Default)]
pub struct ContactSelection {
    pub persons: Vec<SelectedPerson>,
    pub companies: Vec<SelectedCompany>,
}

impl State {
    /// Refreshes the users table from `[[users]]` (SPEC 1: every user is also a
    /// CRM person and a possible rep).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn sync_users(&self, cfg: &Config) -> Result<()> {
        let conn = &self.conn;
        let b = self.batch()?;
        conn.execute("DELETE FROM users", [])?;
        for u in &cfg.users {
            conn.execute(
                "INSERT INTO users (login, display_name) VALUES (?1, ?2)",
                params![u.login(), u.name],
            )?;
            for (i, e) in u.emails.iter().enumerate() {
                conn.execute(
                    "INSERT OR IGNORE INTO user_emails (email, login, position) VALUES (?1, ?2, ?3)",
                    params![normalize(e), u.login(), i as i64],
                )?;
            }
            for g in &u.sales_groups {
                conn.execute(
                    "INSERT OR IGNORE INTO user_groups (login, group_name) VALUES (?1, ?2)",
                    params![u.login(), g],
                )?;
            }
        }
        b.commit()?;
        Ok(())
    }

    /// Row counts of the directory and activity tables.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn counts(&self) -> Result<RowCounts> {
        let conn = &self.conn;
        let one = |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
        Ok(RowCounts {
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
    pub fn company_rowid(&self, ext_id: &str) -> Result<Option<i64>> {
        let conn = &self.conn;
        Ok(conn
            .prepare_cached("SELECT id FROM companies WHERE ext_id = ?1")?
            .query_row([ext_id], |r| r.get(0))
            .optional()?)
    }

    /// Internal id of a person by external id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn person_rowid(&self, ext_id: &str) -> Result<Option<i64>> {
        let conn = &self.conn;
        Ok(conn
            .prepare_cached("SELECT id FROM persons WHERE ext_id = ?1")?
            .query_row([ext_id], |r| r.get(0))
            .optional()?)
    }

    /// Reads one company by internal id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn company_by_rowid(&self, id: i64) -> Result<Option<Company>> {
        let conn = &self.conn;
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
    pub fn person_by_rowid(&self, id: i64) -> Result<Option<Person>> {
        let conn = &self.conn;
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

    /// Inserts or updates companies by external id in the caller's transaction;
    /// with `apply = false` only counts what it would do (X8).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn upsert_companies(&self, companies: &[Company], apply: bool) -> Result<ImportCounts> {
        let tx = &self.conn;
        let mut counts = ImportCounts::default();
        let ts = now();
        for c in companies {
            let existing = self.company_rowid(&c.id)?;
            if let Some(id) = existing
                && self.company_by_rowid(id)?.as_ref() == Some(c)
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
    pub fn upsert_persons(&self, persons: &[Person], apply: bool) -> Result<ImportCounts> {
        let tx = &self.conn;
        let mut counts = ImportCounts::default();
        let ts = now();
        let mut company_cache: HashMap<String, i64> = HashMap::new();
        for p in persons {
            let company = match &p.company_id {
                Some(ext) => Some(match company_cache.get(ext) {
                    Some(id) => *id,
                    None => {
                        let id = self.company_rowid(ext)?.with_context(|| {
                            format!("company `{ext}` of person `{}` does not exist", p.id)
                        })?;
                        company_cache.insert(ext.clone(), id);
                        id
                    }
                }),
                None => None,
            };
            let existing = self.person_rowid(&p.id)?;
            if let Some(id) = existing
                && self.person_by_rowid(id)?.as_ref() == Some(p)
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
            let mut fav = tx.prepare_cached(
                "INSERT OR IGNORE INTO favorites (login, person_id) VALUES (?1, ?2)",
            )?;
            for l in &p.favorite_of {
                fav.execute(params![l, id])?;
            }
        }
        Ok(counts)
    }

    /// Companies ordered by name.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn list_companies(&self, filter: &Filter) -> Result<Vec<Company>> {
        let conn = &self.conn;
        let mut st = conn.prepare(
            "SELECT id FROM companies c WHERE ?1 IS NULL OR lower(name) LIKE ?1 OR email LIKE ?1
               OR EXISTS (SELECT 1 FROM company_domains d WHERE d.company_id = c.id AND d.domain LIKE ?1)
             ORDER BY name COLLATE NOCASE, id LIMIT ?2",
        )?;
        let ids = st
            .query_map(params![filter.like(), filter.limit()], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        ids.into_iter()
            .filter_map(|id| self.company_by_rowid(id).transpose())
            .collect()
    }

    /// Persons ordered by last and first name.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn list_persons(&self, filter: &Filter) -> Result<Vec<Person>> {
        let conn = &self.conn;
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
            .filter_map(|id| self.person_by_rowid(id).transpose())
            .collect()
    }

    /// U2: adds `email` as a further address of a person (after its present
    /// ones); returns false when the person carries it already.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn add_person_email(&self, person: i64, email: &str) -> Result<bool> {
        let conn = &self.conn;
        let email = normalize(email);
        let next: i64 = conn
            .prepare_cached(
                "SELECT coalesce(max(position) + 1, 0) FROM person_emails WHERE person_id = ?1",
            )?
            .query_row([person], |r| r.get(0))?;
        let added = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO person_emails (email, person_id, position) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![email, person, next])?
            > 0;
        if added {
            self.touch("persons", person)?;
        }
        Ok(added)
    }

    /// Moves `updated_at` of a changed record (push-contacts relies on it, P7).
    fn touch(&self, table: &str, id: i64) -> Result<()> {
        let conn = &self.conn;
        conn.prepare_cached(&format!("UPDATE {table} SET updated_at = ?2 WHERE id = ?1"))?
            .execute(params![id, now()])?;
        Ok(())
    }

    /// U2: creates a person with a generated external id `auto-<n>` (the
    /// first free n); returns (internal id, external id).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn create_person(&self, p: &NewPerson<'_>) -> Result<(i64, String)> {
        let conn = &self.conn;
        let mut n: i64 = conn
            .prepare_cached("SELECT count(*) + 1 FROM persons")?
            .query_row([], |r| r.get(0))?;
        let ext = loop {
            let candidate = format!("auto-{n}");
            if self.person_rowid(&candidate)?.is_none() {
                break candidate;
            }
            n += 1;
        };
        let ts = now();
        conn.prepare_cached(
            "INSERT INTO persons (ext_id, first_name, last_name, company_id, rep, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?5)",
        )?
        .execute(params![ext, p.first_name, p.last_name, p.company, ts])?;
        let id = conn.last_insert_rowid();
        conn.prepare_cached(
            "INSERT INTO person_emails (email, person_id, position) VALUES (?1, ?2, 0)",
        )?
        .execute(params![normalize(p.email), id])?;
        Ok((id, ext))
    }

    /// U2 "link the domain to a company": adds a web domain; returns false when
    /// the company has it already.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn add_company_domain(&self, company: i64, domain: &str) -> Result<bool> {
        let conn = &self.conn;
        let added = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO company_domains (domain, company_id) VALUES (?1, ?2)",
            )?
            .execute(params![domain.trim().to_lowercase(), company])?
            > 0;
        if added {
            self.touch("companies", company)?;
        }
        Ok(added)
    }

    /// U1: persons whose first and last name are `first` and `last`
    /// (case-insensitive); with no match on both, those whose last name is
    /// `last` (or, without a last name, whose first name is `first`). At most
    /// `limit`, ids ascending.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn persons_named(&self, first: &str, last: &str, limit: usize) -> Result<Vec<i64>> {
        let conn = &self.conn;
        let (first, last) = (first.trim().to_lowercase(), last.trim().to_lowercase());
        if first.is_empty() && last.is_empty() {
            return Ok(Vec::new());
        }
        let query = |sql: &str, a: &str, b: &str| -> Result<Vec<i64>> {
            let mut st = conn.prepare_cached(sql)?;
            let v = st
                .query_map(params![a, b, limit as i64], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            Ok(v)
        };
        let both = query(
            "SELECT id FROM persons WHERE lower(first_name) = ?1 AND lower(last_name) = ?2 ORDER BY id LIMIT ?3",
            &first,
            &last,
        )?;
        if !both.is_empty() {
            return Ok(both);
        }
        if last.is_empty() {
            query(
                "SELECT id FROM persons WHERE lower(first_name) = ?1 AND ?2 = '' ORDER BY id LIMIT ?3",
                &first,
                "",
            )
        } else {
            query(
                "SELECT id FROM persons WHERE lower(last_name) = ?2 AND ?1 = ?1 ORDER BY id LIMIT ?3",
                &first,
                &last,
            )
        }
    }

    /// Selects a user's contacts (P2): persons whose rep is the user
    /// (`by_rep`), persons in one of the user's sales groups
    /// (`by_sales_group`), the user's favorites (`by_favorites`); with
    /// `include_companies` also the companies chosen by the same rep and sales
    /// group filters, and the company of every selected person. A handful of
    /// set queries, not one per record: push-contacts reads the whole selection
    /// on every run.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn contact_selection(&self, f: &ContactFilters<'_>) -> Result<ContactSelection> {
        let conn = &self.conn;
        let groups = serde_json::to_string(f.sales_groups)?;
        let mut st = conn.prepare_cached(
            "SELECT * FROM (
               SELECT p.id, coalesce(p.ext_id, p.id), p.first_name, p.last_name, c.ext_id, c.name, p.rep, c.id,
                 (?2 AND p.rep IS ?1) AS r,
                 (?3 AND EXISTS (SELECT 1 FROM person_groups g WHERE g.person_id = p.id
                                   AND g.group_name IN (SELECT value FROM json_each(?4)))) AS g,
                 (?5 AND EXISTS (SELECT 1 FROM favorites v WHERE v.person_id = p.id AND v.login = ?1)) AS v
               FROM persons p LEFT JOIN companies c ON c.id = p.company_id)
             WHERE r OR g OR v ORDER BY 1",
        )?;
        let mut persons = Vec::new();
        let mut rowids = Vec::new();
        let mut company_rowids = Vec::new();
        let rows = st.query_map(
            params![f.login, f.by_rep, f.by_sales_group, groups, f.by_favorites],
            |r| {
                let mut why = Vec::new();
                for (i, name) in [(8, "by_rep"), (9, "by_sales_group"), (10, "by_favorites")] {
                    if r.get::<_, bool>(i)? {
                        why.push(name);
                    }
                }
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<i64>>(7)?,
                    SelectedPerson {
                        person: Person {
                            id: r.get::<_, rusqlite::types::Value>(1).map(value_text)?,
                            first_name: r.get(2)?,
                            last_name: r.get(3)?,
                            company_id: r.get(4)?,
                            rep: r.get(6)?,
                            ..Person::default()
                        },
                        company_name: r.get(5)?,
                        why,
                    },
                ))
            },
        )?;
        for row in rows {
            let (id, company, p) = row?;
            rowids.push(id);
            company_rowids.extend(company);
            persons.push(p);
        }
        let ids = serde_json::to_string(&rowids)?;
        let lists = |sql: &str| -> Result<HashMap<i64, Vec<String>>> {
            let mut map: HashMap<i64, Vec<String>> = HashMap::new();
            let mut st = conn.prepare_cached(sql)?;
            let rows = st.query_map([&ids], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?;
            for row in rows {
                let (id, v) = row?;
                map.entry(id).or_default().push(v);
            }
            Ok(map)
        };
        let mut emails = lists(
            "SELECT person_id, email FROM person_emails WHERE person_id IN (SELECT value FROM json_each(?1)) ORDER BY person_id, position",
        )?;
        let mut phones = lists(
            "SELECT person_id, phone FROM person_phones WHERE person_id IN (SELECT value FROM json_each(?1)) ORDER BY person_id, position",
        )?;
        let mut pgroups = lists(
            "SELECT person_id, group_name FROM person_groups WHERE person_id IN (SELECT value FROM json_each(?1)) ORDER BY person_id, group_name",
        )?;
        for (id, p) in rowids.iter().zip(persons.iter_mut()) {
            p.person.emails = emails.remove(id).unwrap_or_default();
            p.person.phones = phones.remove(id).unwrap_or_default();
            p.person.sales_groups = pgroups.remove(id).unwrap_or_default();
        }
        let mut companies = Vec::new();
        if f.include_companies {
            let of_persons = serde_json::to_string(&company_rowids)?;
            let mut st = conn.prepare_cached(
                "SELECT * FROM (
                   SELECT c.id,
                     (?2 AND c.rep IS ?1) AS r,
                     (?3 AND EXISTS (SELECT 1 FROM company_groups g WHERE g.company_id = c.id
                                       AND g.group_name IN (SELECT value FROM json_each(?4)))) AS g,
                     c.id IN (SELECT value FROM json_each(?5)) AS o
                   FROM companies c)
                 WHERE r OR g OR o ORDER BY 1",
            )?;
            let found = st
                .query_map(
                    params![f.login, f.by_rep, f.by_sales_group, groups, of_persons],
                    |r| {
                        let mut why = Vec::new();
                        for (i, name) in [
                            (1, "by_rep"),
                            (2, "by_sales_group"),
                            (3, "company_of_person"),
                        ] {
                            if r.get::<_, bool>(i)? {
                                why.push(name);
                            }
                        }
                        Ok((r.get::<_, i64>(0)?, why))
                    },
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (id, why) in found {
                if let Some(company) = self.company_by_rowid(id)? {
                    companies.push(SelectedCompany { company, why });
                }
            }
        }
        Ok(ContactSelection { persons, companies })
    }
    /// External ids of the companies named `name` (case-insensitive), at
    /// most two: `crm import` links a person by company name only when
    /// exactly one company has it.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn company_ext_ids_named(&self, name: &str) -> Result<Vec<String>> {
        let mut s = self.conn.prepare_cached(
            "SELECT ext_id FROM companies WHERE name = ?1 COLLATE NOCASE AND ext_id IS NOT NULL LIMIT 2",
        )?;
        let ids = s
            .query_map([name], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(ids)
    }

    /// SPEC 1: persons carrying `norm` (already normalised), ids ascending.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn persons_with_email(&self, norm: &str) -> Result<Vec<i64>> {
        let mut st = self.conn.prepare_cached(
            "SELECT person_id FROM person_emails WHERE email = ?1 ORDER BY person_id",
        )?;
        let ids = st
            .query_map([norm], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(ids)
    }

    /// M10: companies whose web domain or main e-mail domain is `domain`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn companies_with_domain(&self, domain: &str) -> Result<Vec<i64>> {
        let mut st = self.conn.prepare_cached(
            "SELECT company_id FROM company_domains WHERE domain = ?1
             UNION SELECT id FROM companies WHERE email_domain = ?1
             ORDER BY 1",
        )?;
        let ids = st
            .query_map([domain], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(ids)
    }

    /// M14: the ignored addresses and `@domain`s.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn ignored_patterns(&self) -> Result<HashSet<String>> {
        let mut st = self.conn.prepare("SELECT pattern FROM ignored")?;
        let set = st
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(set)
    }

    /// M14/U2: ignores an address or `@domain` from now on; false when it was
    /// ignored already.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn add_ignored(&self, pattern: &str, by: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO ignored (pattern, created_at, by) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![pattern, now(), by])?
            > 0)
    }
}

fn strings(conn: &Connection, sql: &str, id: i64) -> Result<Vec<String>> {
    let mut st = conn.prepare_cached(sql)?;
    let v = st
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(v)
}

fn value_text(v: rusqlite::types::Value) -> String {
    match v {
        rusqlite::types::Value::Text(s) => s,
        rusqlite::types::Value::Integer(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn p2_contact_selection_is_the_union_of_enabled_filters() {
        let st = State::open_memory().unwrap();
        let b = st.batch().unwrap();
        let mut globex = acme();
        globex.id = "C2".into();
        globex.name = "Globex".into();
        globex.sales_groups = vec![];
        globex.rep = Some("alice".into());
        st.upsert_companies(&[acme(), globex], true).unwrap();
        let p =
            |id: &str, rep: Option<&str>, groups: &[&str], fav: &[&str], company: Option<&str>| {
                Person {
                    id: id.into(),
                    first_name: id.into(),
                    last_name: "X".into(),
                    emails: vec![format!("{id}@x.example"), format!("{id}.2@x.example")],
                    phones: vec!["1".into(), "2".into()],
                    company_id: company.map(str::to_string),
                    rep: rep.map(str::to_string),
                    sales_groups: groups.iter().map(|g| g.to_string()).collect(),
                    favorite_of: fav.iter().map(|g| g.to_string()).collect(),
                }
            };
        st.upsert_persons(
            &[
                p("P1", Some("alice"), &[], &[], Some("C1")),
                p("P2", None, &["north"], &[], None),
                p("P3", None, &[], &["alice"], None),
                p("P4", Some("bob"), &["south"], &["bob"], None),
            ],
            true,
        )
        .unwrap();
        b.commit().unwrap();
        let groups = vec!["north".to_string()];
        let sel = |rep, grp, fav, comp| {
            let s = st
                .contact_selection(&ContactFilters {
                    login: "alice",
                    by_rep: rep,
                    by_sales_group: grp,
                    by_favorites: fav,
                    include_companies: comp,
                    sales_groups: &groups,
                })
                .unwrap();
            (
                s.persons
                    .iter()
                    .map(|p| p.person.id.clone())
                    .collect::<Vec<_>>(),
                s.companies
                    .iter()
                    .map(|c| c.company.id.clone())
                    .collect::<Vec<_>>(),
                s,
            )
        };
        assert_eq!(sel(true, false, false, false).0, vec!["P1"]);
        assert_eq!(sel(false, true, false, false).0, vec!["P2"]);
        assert_eq!(sel(false, false, true, false).0, vec!["P3"]);
        let (persons, companies, s) = sel(true, true, true, true);
        assert_eq!(persons, vec!["P1", "P2", "P3"]);
        // C1 (rep, group and P1's company), C2 (rep).
        assert_eq!(companies, vec!["C1", "C2"]);
        let p1 = &s.persons[0];
        assert_eq!(p1.company_name.as_deref(), Some("Acme"));
        assert_eq!(p1.person.emails, vec!["p1@x.example", "p1.2@x.example"]);
        assert_eq!(p1.person.phones, vec!["1", "2"]);
        assert_eq!(p1.why, vec!["by_rep"]);
        assert_eq!(
            s.companies[0].why,
            vec!["by_sales_group", "company_of_person"]
        );
        assert_eq!(sel(false, false, false, true).1, Vec::<String>::new());
    }

    #[test]
    fn b1_upsert_is_idempotent_by_external_id() {
        let st = State::open_memory().unwrap();
        let b = st.batch().unwrap();
        assert_eq!(st.upsert_companies(&[acme()], true).unwrap().created, 1);
        assert_eq!(st.upsert_persons(&[jane()], true).unwrap().created, 1);
        assert_eq!(st.upsert_persons(&[jane()], true).unwrap().unchanged, 1);
        let mut j2 = jane();
        j2.emails = vec!["jane@acme.example".into()];
        assert_eq!(st.upsert_persons(&[j2.clone()], true).unwrap().updated, 1);
        b.commit().unwrap();
        let all = st.list_persons(&Filter::default()).unwrap();
        assert_eq!(all, vec![j2]);
        let cs = st
            .list_companies(&Filter {
                search: Some("ACME".into()),
                limit: 0,
            })
            .unwrap();
        assert_eq!(cs, vec![acme()]);
    }
}
