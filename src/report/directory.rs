//! The tables and files of `crm import|list|export` (B1).

use anyhow::Result;
use serde::Serialize;

use crate::crm::directory::{ImportReport, UserRow};
use crate::model::{Company, Person};
use crate::parse::records;
use crate::report::output::{Tabular, csv_record};

impl Tabular for ImportReport {
    fn headers(&self) -> Vec<&'static str> {
        vec!["kind", "created", "updated", "unchanged"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        vec![vec![
            self.kind.to_string(),
            self.counts.created.to_string(),
            self.counts.updated.to_string(),
            self.counts.unchanged.to_string(),
        ]]
    }
    fn footer(&self) -> Vec<String> {
        if self.dry_run {
            vec!["dry run: nothing was written".into()]
        } else {
            Vec::new()
        }
    }
}

/// `crm list persons`.
#[derive(Serialize)]
pub struct PersonList {
    pub persons: Vec<Person>,
}

impl Tabular for PersonList {
    fn list_key(&self) -> Option<&'static str> {
        Some("persons")
    }
    fn headers(&self) -> Vec<&'static str> {
        vec!["id", "name", "e-mails", "phones", "company", "rep"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.persons
            .iter()
            .map(|p| {
                vec![
                    p.id.clone(),
                    p.display_name(),
                    p.emails.join("\n"),
                    p.phones.join("\n"),
                    p.company_id.clone().unwrap_or_default(),
                    p.rep.clone().unwrap_or_default(),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        vec![format!("{} persons", self.persons.len())]
    }
}

/// `crm list companies`.
#[derive(Serialize)]
pub struct CompanyList {
    pub companies: Vec<Company>,
}

impl Tabular for CompanyList {
    fn list_key(&self) -> Option<&'static str> {
        Some("companies")
    }
    fn headers(&self) -> Vec<&'static str> {
        vec!["id", "name", "kind", "e-mail", "domains", "rep"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.companies
            .iter()
            .map(|c| {
                vec![
                    c.id.clone(),
                    c.name.clone(),
                    c.kind.clone(),
                    c.email.clone().unwrap_or_default(),
                    c.domains.join("\n"),
                    c.rep.clone().unwrap_or_default(),
                ]
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        vec![format!("{} companies", self.companies.len())]
    }
}

/// `crm list users`.
#[derive(Serialize)]
pub struct UserList {
    pub users: Vec<UserRow>,
}

impl Tabular for UserList {
    fn list_key(&self) -> Option<&'static str> {
        Some("users")
    }
    fn headers(&self) -> Vec<&'static str> {
        vec!["login", "name", "e-mails", "sales groups", "person record"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.users
            .iter()
            .map(|u| {
                vec![
                    u.login.clone(),
                    u.name.clone().unwrap_or_default(),
                    u.emails.join("\n"),
                    u.sales_groups.join(", "),
                    u.person_id.clone().unwrap_or_else(|| {
                        "MISSING: import a person with one of these addresses (M9)".into()
                    }),
                ]
            })
            .collect()
    }
}

/// Companies in the import layout as CSV (round-trips with `crm import`).
///
/// # Errors
/// CSV errors.
pub fn companies_csv(companies: Vec<Company>) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(records::company_header())?;
    for c in companies {
        csv_record(
            &mut w,
            [
                c.id,
                c.name,
                c.kind,
                c.email.unwrap_or_default(),
                c.domains.join(";"),
                c.rep.unwrap_or_default(),
                c.sales_groups.join(";"),
            ],
        )?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// Persons in the import layout as CSV (round-trips with `crm import`).
///
/// # Errors
/// CSV errors.
pub fn persons_csv(persons: Vec<Person>) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(records::person_header())?;
    for p in persons {
        csv_record(
            &mut w,
            [
                p.id,
                p.first_name,
                p.last_name,
                p.emails.join(";"),
                p.phones.join(";"),
                p.company_id.unwrap_or_default(),
                p.rep.unwrap_or_default(),
                p.sales_groups.join(";"),
                p.favorite_of.join(";"),
            ],
        )?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
