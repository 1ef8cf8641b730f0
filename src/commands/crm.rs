//! `crmsync crm import|list|export` (B1): the embedded CRM's directory.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::Ctx;
use crate::cli::{
    CrmCommand, CrmExportArgs, CrmImportArgs, CrmListArgs, ExportFormat, ImportKind, RecordKind,
};
use crate::error::{Exit, usage};
use crate::matching::Matcher;
use crate::model::{Company, Person};
use crate::parse::records::{self, Refs, RowError};
use crate::report::output::{Tabular, csv_record, write_stdout};
use crate::state::Access;
use crate::state::directory::{Filter, ImportCounts};

pub fn run(ctx: &Ctx, cmd: CrmCommand) -> Result<Exit> {
    match cmd {
        CrmCommand::Import(a) => import(ctx, &a),
        CrmCommand::List(a) => list(ctx, &a),
        CrmCommand::Export(a) => export(ctx, &a),
        CrmCommand::Activity(a) => super::crm_activity::run(ctx, *a),
        CrmCommand::Pull => super::crm_rest::pull(ctx),
        CrmCommand::Push => super::crm_rest::push(ctx),
    }
}

#[derive(Serialize)]
struct ImportSummary {
    command: &'static str,
    dry_run: bool,
    file: String,
    kind: &'static str,
    counts: ImportCounts,
}

impl Tabular for ImportSummary {
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

fn read_input(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        return Ok(buf);
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn is_vcard(path: &Path, data: &[u8]) -> bool {
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

fn import(ctx: &Ctx, a: &CrmImportArgs) -> Result<Exit> {
    let data = read_input(&a.file)?;
    let vcard = is_vcard(&a.file, &data);
    let kind = match (a.kind, vcard) {
        (Some(ImportKind::Companies), true) => {
            return Err(usage(
                "vCard files hold persons; use --kind persons or a companies CSV",
            ));
        }
        (Some(k), _) => k,
        (None, true) => ImportKind::Persons,
        (None, false) => {
            return Err(usage(
                "say what the CSV holds: --kind companies or --kind persons",
            ));
        }
    };
    if ctx.cfg.crm.backend == crate::config::Backend::Rest {
        // B2: the REST CRM owns its directory; the state file only caches it.
        return Err(usage(format!(
            "crm.backend = \"rest\" in {}: the directory comes from the CRM; add the records there \
             (or import them with the CRM's own tools), then run `crmsync crm pull`",
            ctx.cfg.describe_path()
        )));
    }
    let st = ctx.state(Access::Write, "crm import")?;
    let users: HashSet<String> = ctx
        .cfg
        .users
        .iter()
        .map(|u| u.login().to_string())
        .collect();
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
    let counts = match kind {
        ImportKind::Companies => {
            let rows = records::companies_csv(&data, &refs).map_err(|e| row_errors(&a.file, &e))?;
            let items: Vec<Company> = rows.into_iter().map(|(_, c)| c).collect();
            st.upsert_companies(&items, st.writable())?
        }
        ImportKind::Persons => {
            let rows = if vcard {
                let text = String::from_utf8(data).map_err(|_| {
                    usage(format!(
                        "{} is not UTF-8; convert it first (e.g. iconv -t UTF-8)",
                        a.file.display()
                    ))
                })?;
                records::persons_vcard(&text, &refs)
            } else {
                records::persons_csv(&data, &refs)
            }
            .map_err(|e| row_errors(&a.file, &e))?;
            let items: Vec<Person> = rows.into_iter().map(|(_, p)| p).collect();
            st.upsert_persons(&items, st.writable())?
        }
    };
    if st.writable() {
        batch.commit()?;
    }
    let summary = ImportSummary {
        command: "crm import",
        dry_run: !st.writable(),
        file: a.file.display().to_string(),
        kind: match kind {
            ImportKind::Companies => "companies",
            ImportKind::Persons => "persons",
        },
        counts,
    };
    ctx.printer.print(&summary)?;
    Ok(Exit::Ok)
}

#[derive(Serialize)]
struct PersonList {
    persons: Vec<Person>,
}

impl Tabular for PersonList {
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

#[derive(Serialize)]
struct CompanyList {
    companies: Vec<Company>,
}

impl Tabular for CompanyList {
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

#[derive(Serialize)]
struct UserRow {
    login: String,
    name: Option<String>,
    emails: Vec<String>,
    sales_groups: Vec<String>,
    /// The user's own person record (SPEC 8); None is the M9 configuration error.
    person_id: Option<String>,
}

#[derive(Serialize)]
struct UserList {
    users: Vec<UserRow>,
}

impl Tabular for UserList {
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

fn list(ctx: &Ctx, a: &CrmListArgs) -> Result<Exit> {
    let st = ctx.state(Access::Read, "crm list")?;
    let filter = Filter {
        search: a.search.clone(),
        limit: a.limit,
    };
    match a.kind {
        RecordKind::Persons => ctx.printer.print(&PersonList {
            persons: st.list_persons(&filter)?,
        })?,
        RecordKind::Companies => ctx.printer.print(&CompanyList {
            companies: st.list_companies(&filter)?,
        })?,
        RecordKind::Users => {
            let m = Matcher::new(&st, &ctx.cfg)?;
            let mut users = Vec::new();
            for u in &ctx.cfg.users {
                let pid = match m.user_person(&ctx.cfg, u.login())? {
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
            ctx.printer.print(&UserList { users })?
        }
    }
    Ok(Exit::Ok)
}

/// Writes persons or companies in the import layout (round-trips with `crm import`).
fn export(ctx: &Ctx, a: &CrmExportArgs) -> Result<Exit> {
    let st = ctx.state(Access::Read, "crm export")?;
    let all = Filter::default();
    let text = match (a.kind, a.format) {
        (ImportKind::Companies, ExportFormat::Json) => {
            serde_json::to_string_pretty(&st.list_companies(&all)?)? + "\n"
        }
        (ImportKind::Persons, ExportFormat::Json) => {
            serde_json::to_string_pretty(&st.list_persons(&all)?)? + "\n"
        }
        (ImportKind::Companies, ExportFormat::Csv) => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(records::company_header())?;
            for c in st.list_companies(&all)? {
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
            String::from_utf8(w.into_inner()?)?
        }
        (ImportKind::Persons, ExportFormat::Csv) => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(records::person_header())?;
            for p in st.list_persons(&all)? {
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
            String::from_utf8(w.into_inner()?)?
        }
    };
    match &a.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => write_stdout(&text)?,
    }
    Ok(Exit::Ok)
}
