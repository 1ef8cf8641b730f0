//! `crmsync completions SHELL` and `crmsync man` (X21): the files of
//! completions/ and man/, generated from cli.rs by the installed binary, so
//! an installed user needs no source tree. No config is read.

use std::io::Write as _;

use anyhow::{Context as _, Result};

use crate::cli::{self, CompletionsArgs, ManArgs};
use crate::error::Exit;

/// Prints the completion script of one shell on stdout.
///
/// # Errors
/// Writing to stdout (a closed pipe is no error: see `main`).
pub fn completions(args: &CompletionsArgs) -> Result<Exit> {
    std::io::stdout().write_all(&cli::completion(args.shell))?;
    Ok(Exit::Ok)
}

/// Prints crmsync(1) on stdout, or writes every page into `--dir`.
///
/// # Errors
/// Writing to stdout, or creating the directory or a page in it.
pub fn man(args: &ManArgs) -> Result<Exit> {
    let pages = cli::man_pages()?;
    match &args.dir {
        None => {
            if let Some((_, text)) = pages.first() {
                std::io::stdout().write_all(text)?;
            }
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            for (name, text) in &pages {
                let path = dir.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            crate::ui::info(format!(
                "wrote {} man pages into {}",
                pages.len(),
                dir.display()
            ));
        }
    }
    Ok(Exit::Ok)
}
