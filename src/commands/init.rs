//! `crmsync init` (X1, STYLE 11): a wizard that asks, tests each connection
//! it can, and writes a commented config. It only generates: it refuses to
//! run without a terminal and says what does the same unattended
//! (`init --sample`, then edit and `crmsync check`). The questions live in
//! [`crate::wizard::init`], the writing in [`crate::config`].

use std::io::IsTerminal;
use std::path::Path;

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
             (every key is explained in it), then `crmsync check` to test every connection",
            path.display()
        )));
    }
    // W11: a Ctrl-C restores the terminal and says nothing was written.
    let _stop = crate::ui::on_interrupt(crate::ui::Stopped::NothingWritten);
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
        "wrote {} (mode 600). Next: {}",
        path.display(),
        next_steps(&path, &text)
    ));
    Ok(Exit::Ok)
}

/// W10: the commands to run next, with `--config PATH` when the config is
/// not where crmsync looks by default.
fn next_steps(path: &Path, text: &str) -> String {
    let with = if path == config::default_path() {
        String::new()
    } else {
        format!(" --config {}", shell_word(&path.display().to_string()))
    };
    let rest =
        config::Config::parse(text, path).is_ok_and(|c| c.crm.backend == config::Backend::Rest);
    if rest {
        format!("`crmsync{with} check`")
    } else {
        format!("`crmsync{with} crm import persons.csv --kind persons`, then `crmsync{with} check`")
    }
}

/// A word a shell reads back as it is.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
