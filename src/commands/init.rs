//! `crmsync init` (X1, STYLE 11): a wizard that asks, tests each connection
//! it can, and writes a commented config. It only generates: it refuses to
//! run without a terminal and says what does the same unattended
//! (`init --sample`, then edit and `crmsync check`). The questions live in
//! [`crate::wizard::init`], the writing in [`crate::config`].

use std::io::IsTerminal;

use anyhow::Result;

use crate::cli::{GlobalArgs, InitArgs};
use crate::config::{self, SAMPLE};
use crate::error::{Exit, usage};

pub fn run(global: &GlobalArgs, args: &InitArgs) -> Result<Exit> {
    let path = args
        .output
        .clone()
        .or_else(|| global.config.clone())
        .unwrap_or_else(config::default_path);
    if args.sample {
        if global.dry_run {
            crate::ui::info(format!(
                "dry run: would write the sample config to {}",
                path.display()
            ));
            return Ok(Exit::Ok);
        }
        config::write_private(&path, SAMPLE, args.force)?;
        crate::ui::info(format!(
            "wrote the commented sample config to {}; edit it, then run `crmsync check`",
            path.display()
        ));
        return Ok(Exit::Ok);
    }
    if global.yes || !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(usage(format!(
            "`crmsync init` is an interactive wizard and needs a terminal. Unattended, run \
             `crmsync init --sample --output {}` to write the commented sample config, edit it \
             (see config.sample.toml in the README), then `crmsync check` to test every connection",
            path.display()
        )));
    }
    if path.exists() && !args.force && !crate::wizard::init::confirm_replace(&path)? {
        return Err(usage(format!("kept {}; nothing written", path.display())));
    }
    let text = crate::wizard::init::run(&path)?;
    if global.dry_run {
        crate::ui::info("dry run: the config below was not written");
        crate::report::output::write_stdout(&text)?;
        return Ok(Exit::Ok);
    }
    config::write_private(&path, &text, true)?;
    crate::ui::info(format!(
        "wrote {} (mode 600). Next: `crmsync crm import persons.csv --kind persons`, then `crmsync check`",
        path.display()
    ));
    Ok(Exit::Ok)
}
