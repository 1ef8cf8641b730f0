//! The directory of the embedded CRM (B1): `crm import` rules (SPEC 8
//! layout, CSV or vCard; one transaction, all or nothing, X8 counts only)
//! and what `crm list users` shows. The SQL lives in
//! [`crate::state::directory`].

use std::collections::HashSet;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::config::Config;
use crate::error::usage;
use crate::matching::Matcher;
use crate::model::{Company, Person};
use crate::parse::records::{self, Refs, RowError};
use crate::state::State;
use crate::state::directory::ImportCounts;

/// What a file to import holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    Companies,
    Persons,
}

/// What `crm import` did (or would do, X8).
#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub command: &'static str,
    pub dry_run: bool,
    pub file: String,
    pub kind: &'static str,
    pub counts: ImportCounts,
}

/// True for a vCard file: by extension, or by its first line.
pub fn is_vcard(path: &Path, data: &[u8]) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    if ext == "vcf" || ext == "vcard" {
        return true;
    }
    let head = String::from_utf8_lossy(&data[..data.len().min(64)]).to_uppercase();
    head.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with("BEGIN:VCARD")
}

fn row_errors(path: &Path, errs: &[RowError]) -> anyhow::Error {
    let shown = 50;
    let mut msg = String::new();
    for e in errs.iter().take(shown) {
        msg.push_str(&format!("{}:{}: {}\n", path.display(), e.line, e.message));
    }
    if errs.len() > shown {
        msg.push_str(&format!("... and {} more problems\n", errs.len() - shown));
    }
    msg.push_str(&format!(
        "nothing was imported from {}; fix the lines above and run the import again",
        path.display()
    ));
    anyhow::anyhow!(msg)
}

/// Imports companies or persons from `data` (read from `file`; `vcard`
/// for a vCard file of persons) in one transaction: a bad line anywhere
/// imports nothing. Persons link to companies by external id, or by a
/// unique company name (vCard ORG); reps and favorites name users. On a
/// read-only state (X8) only counts what it would do.
///
/// # Errors
/// The bad lines, all at once, with the file name; a vCard file that is
/// not UTF-8 (usage); SQLite errors.
pub fn import(
    st: &State,
    cfg: &Config,
    file: &Path,
    data: &[u8],
    holds: Holds,
    vcard: bool,
) -> Result<ImportReport> {
    let users: HashSet<String> = cfg.users.iter().map(|u| u.login().to_string()).collect();
    let exists = |ext: &str| st.company_rowid(ext).ok().flatten().is_some();
    let by_name = |name: &str| {
        let ids = st.company_ext_ids_named(name).ok()?;
        (ids.len() == 1).then(|| ids[0].clone())
    };
    let refs = Refs {
        users: &users,
        company_exists: &exists,
        company_by_name: &by_name,
    };
    let batch = st.batch()?;
    let counts = match holds {
        Holds::Companies => {
            let rows = records::companies_csv(data, &refs).map_err(|e| row_errors(file, &e))?;
            let items: Vec<Company> = rows.into_iter().map(|(_, c)| c).collect();
            st.upsert_companies(&items, st.writable())?
        }
        Holds::Persons => {
            let rows = if vcard {
                let text = std::str::from_utf8(data).map_err(|_| {
                    usage(format!(
                        "{} is not UTF-8; convert it first (e.g. iconv -t UTF-8)",
                        file.display()
                    ))
                })?;
                records::persons_vcard(text, &refs)
            } else {
                records::persons_csv(data, &refs)
            }
            .map_err(|e| row_errors(file, &e))?;
            let items: Vec<Person> = rows.into_iter().map(|(_, p)| p).collect();
            st.upsert_persons(&items, st.writable())?
        }
    };
    if st.writable() {
        batch.commit()?;
    }
    Ok(ImportReport {
        command: "crm import",
        dry_run: !st.writable(),
        file: file.display().to_string(),
        kind: match holds {
            Holds::Companies => "companies",
            Holds::Persons => "persons",
        },
        counts,
    })
}

/// A user as `crm list users` shows it.
#[derive(Debug, Serialize)]
pub struct UserRow {
    pub login: String,
    pub name: Option<String>,
    pub emails: Vec<String>,
    pub sales_groups: Vec<String>,
    /// The user's own person record (SPEC 8); None is the M9 configuration error.
    pub person_id: Option<String>,
}

/// The configured users with their person records (SPEC 8, M9).
///
/// # Errors
/// SQLite errors.
pub fn users(st: &State, cfg: &Config) -> Result<Vec<UserRow>> {
    let m = Matcher::new(st, cfg)?;
    let mut users = Vec::new();
    for u in &cfg.users {
        let pid = match m.user_person(cfg, u.login())? {
            Some(id) => st.person_by_rowid(id)?.map(|p| p.id),
            None => None,
        };
        users.push(UserRow {
            login: u.login().to_string(),
            name: u.name.clone(),
            emails: u.emails.clone(),
            sales_groups: u.sales_groups.clone(),
            person_id: pid,
        });
    }
    Ok(users)
}
