//! `crmsync crm import|list|export` (B1): the embedded CRM's directory.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};

use super::Ctx;
use crate::cli::{
    CrmCommand, CrmExportArgs, CrmImportArgs, CrmListArgs, ExportFormat, ImportKind, RecordKind,
};
use crate::crm::directory::{self, Holds};
use crate::error::{Exit, usage};
use crate::report::directory::{self as table, CompanyList, PersonList, UserList};
use crate::report::output::write_stdout;
use crate::state::Access;
use crate::state::directory::Filter;

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

fn import(ctx: &Ctx, a: &CrmImportArgs) -> Result<Exit> {
    let data = read_input(&a.file)?;
    let vcard = directory::is_vcard(&a.file, &data);
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
    let holds = match kind {
        ImportKind::Companies => Holds::Companies,
        ImportKind::Persons => Holds::Persons,
    };
    let report = directory::import(&st, &ctx.cfg, &a.file, &data, holds, vcard)?;
    ctx.printer.print(&report)?;
    Ok(Exit::Ok)
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
        RecordKind::Users => ctx.printer.print(&UserList {
            users: directory::users(&st, &ctx.cfg)?,
        })?,
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
            table::companies_csv(st.list_companies(&all)?)?
        }
        (ImportKind::Persons, ExportFormat::Csv) => table::persons_csv(st.list_persons(&all)?)?,
    };
    match &a.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => write_stdout(&text)?,
    }
    Ok(Exit::Ok)
}
