//! `crmsync init` (X1, STYLE 11): a wizard that asks, tests each connection
//! it can, and writes a commented config. It only generates: it refuses to
//! run without a terminal and says what does the same unattended
//! (`init --sample`, then edit and `crmsync check`).

use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Password, Select};

use crate::cli::{GlobalArgs, InitArgs};
use crate::config::{self, Config};
use crate::error::{Exit, usage};
use crate::secret::Secret;
use crate::source::dav::{Dav, DavKind};
use crate::source::imap;

/// The fully commented sample, also written by `init --sample`.
pub const SAMPLE: &str = include_str!("../../config.sample.toml");

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
        write_config(&path, SAMPLE, args.force)?;
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
    if path.exists() && !args.force {
        let over = Confirm::with_theme(&theme())
            .with_prompt(format!("{} exists. Replace it?", path.display()))
            .default(false)
            .interact()?;
        if !over {
            return Err(usage(format!("kept {}; nothing written", path.display())));
        }
    }
    let text = wizard(&path)?;
    if global.dry_run {
        crate::ui::info("dry run: the config below was not written");
        crate::report::output::write_stdout(&text)?;
        return Ok(Exit::Ok);
    }
    write_config(&path, &text, true)?;
    crate::ui::info(format!(
        "wrote {} (mode 600). Next: `crmsync crm import persons.csv --kind persons`, then `crmsync check`",
        path.display()
    ));
    Ok(Exit::Ok)
}

fn theme() -> ColorfulTheme {
    ColorfulTheme::default()
}

/// Writes the config privately (0600): it may name password commands.
fn write_config(path: &Path, text: &str, force: bool) -> Result<()> {
    if path.exists() && !force {
        return Err(usage(format!(
            "{} exists; pass --force to replace it",
            path.display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// A TOML string literal.
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

fn ask(prompt: &str, default: Option<&str>) -> Result<String> {
    let t = theme();
    let mut i = Input::<String>::with_theme(&t).with_prompt(prompt);
    if let Some(d) = default {
        i = i.default(d.to_string());
    }
    Ok(i.interact_text()?.trim().to_string())
}

fn split(s: &str) -> Vec<String> {
    s.split([',', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Asks where a secret comes from; returns the TOML lines and, for the
/// connection test, the secret itself (asked hidden if not at hand).
fn ask_secret(account: &str) -> Result<(String, Option<Secret>)> {
    let choice = Select::with_theme(&theme())
        .with_prompt(format!("Where does the password of `{account}` come from?"))
        .items([
            "an environment variable",
            "a command (e.g. pass show ...)",
            "skip the connection test",
        ])
        .default(0)
        .interact()?;
    match choice {
        0 => {
            let var = ask(
                "Variable name",
                Some(&format!(
                    "{}_PASSWORD",
                    account.to_uppercase().replace('-', "_")
                )),
            )?;
            let secret = match std::env::var(&var) {
                Ok(v) if !v.is_empty() => Some(Secret::new(v)),
                _ => Password::with_theme(&theme())
                    .with_prompt(format!(
                        "{var} is not set here; password for the test only (not saved)"
                    ))
                    .allow_empty_password(true)
                    .interact()
                    .ok()
                    .filter(|p| !p.is_empty())
                    .map(Secret::new),
            };
            Ok((format!("password_env = {}\n", q(&var)), secret))
        }
        1 => {
            let cmd = ask("Command that prints the password", None)?;
            let spec = crate::secret::SecretSpec::new(
                account,
                "password",
                Some(cmd.clone()),
                None,
                false,
                None,
            );
            let secret = match spec.resolve() {
                Ok(s) => Some(s),
                Err(e) => {
                    crate::ui::warn(e.to_string());
                    None
                }
            };
            Ok((format!("password_cmd = {}\n", q(&cmd)), secret))
        }
        _ => {
            let var = format!("{}_PASSWORD", account.to_uppercase().replace('-', "_"));
            Ok((
                format!(
                    "password_env = {}   # set this variable before running crmsync\n",
                    q(&var)
                ),
                None,
            ))
        }
    }
}

/// Asks whether to keep a section whose connection test failed.
fn after_failure(what: &str, err: &str) -> Result<bool> {
    crate::ui::warn(format!("{what}: {err}"));
    let c = Select::with_theme(&theme())
        .with_prompt("The test failed. What now?")
        .items([
            "enter the settings again",
            "keep them anyway",
            "abort without writing",
        ])
        .default(0)
        .interact()?;
    match c {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(usage("aborted; nothing written")),
    }
}

fn wizard(path: &Path) -> Result<String> {
    let mut out = String::from(
        "# crmsync configuration, written by `crmsync init`.\n\
         # Every key is explained in config.sample.toml (see the README).\n\n",
    );
    let state = config::default_state_path();
    out.push_str(&format!(
        "# The state file: the embedded CRM and what was synced (SQLite).\nstate = {}\n",
        q(&state.display().to_string())
    ));
    let domains = split(&ask(
        "Your company's own mail domains (comma separated)",
        Some(""),
    )?);
    out.push_str(&format!("# Mail from and to these domains never enters the unknown-address queue (M18).\nown_domains = {}\n\n", list(&domains)));

    let backend = Select::with_theme(&theme())
        .with_prompt("CRM back end")
        .items(["embedded (the state file is the CRM)", "REST (BottleCRM)"])
        .default(0)
        .interact()?;
    if backend == 0 {
        out.push_str(
            "[crm]\nbackend = \"embedded\"   # load persons with `crmsync crm import`\n\n",
        );
    } else {
        loop {
            let url = ask("BottleCRM base URL", Some("http://127.0.0.1:8000"))?;
            let var = ask(
                "Environment variable holding the API token",
                Some("CRM_TOKEN"),
            )?;
            let section = format!(
                "[crm]\nbackend = \"rest\"\n\n[crm.rest]\npreset = \"bottlecrm\"\nbase_url = {}\ntoken_env = {}\n\n",
                q(&url),
                q(&var)
            );
            let test = match std::env::var(&var) {
                Ok(t) if !t.is_empty() => {
                    let cfg = Config::parse(&section, path).map_err(|e| anyhow::anyhow!(e.0))?;
                    crate::crm::rest::ping(&cfg, &Secret::new(t))
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
                _ => {
                    crate::ui::warn(format!(
                        "{var} is not set here; the CRM connection was not tested"
                    ));
                    Ok(())
                }
            };
            match test {
                Ok(()) => {
                    out.push_str(&section);
                    break;
                }
                Err(e) => {
                    if after_failure("CRM", &e)? {
                        out.push_str(&section);
                        break;
                    }
                }
            }
        }
    }

    let mut first_user = String::new();
    loop {
        let login = ask("User login (a groupware user, also a CRM rep)", None)?;
        let emails = split(&ask(
            "Their e-mail addresses, primary first (comma separated)",
            None,
        )?);
        let name = ask("Display name", Some(""))?;
        out.push_str(&format!(
            "[[users]]\nlogin = {}\nemails = {}\n",
            q(&login),
            list(&emails)
        ));
        if !name.is_empty() {
            out.push_str(&format!("name = {}\n", q(&name)));
        }
        out.push('\n');
        if first_user.is_empty() {
            first_user = login;
        }
        if !Confirm::with_theme(&theme())
            .with_prompt("Add another user?")
            .default(false)
            .interact()?
        {
            break;
        }
    }

    let mail = Select::with_theme(&theme())
        .with_prompt("Mail account to import from")
        .items(["IMAP server", "Maildir folder", "none for now"])
        .default(0)
        .interact()?;
    if mail < 2 {
        loop {
            let name = ask("Account name", Some(&format!("{first_user}-mail")))?;
            let mut section = format!(
                "[[mail.accounts]]\nname = {}\nuser = {}   # the mailbox owner\n",
                q(&name),
                q(&first_user)
            );
            let mut secret = None;
            if mail == 0 {
                let host = ask("IMAP host", None)?;
                let tls = ["tls", "starttls", "none"][Select::with_theme(&theme())
                    .with_prompt("Encryption")
                    .items([
                        "TLS (port 993)",
                        "STARTTLS (port 143)",
                        "none (local servers only)",
                    ])
                    .default(0)
                    .interact()?];
                let port = ask("Port", Some(if tls == "tls" { "993" } else { "143" }))?;
                let login = ask("Login", Some(&first_user))?;
                let (secret_line, s) = ask_secret(&name)?;
                secret = s;
                let folders = split(&ask("Folders to import (comma separated)", Some("INBOX"))?);
                section.push_str(&format!(
                    "source = \"imap\"\nhost = {}\nport = {port}\ntls = {}\nlogin = {}\n{secret_line}folders = {}\n",
                    q(&host),
                    q(tls),
                    q(&login),
                    list(&folders)
                ));
            } else {
                let p = ask("Maildir path", None)?;
                section.push_str(&format!(
                    "source = \"maildir\"\npath = {}\nfolders = [\"INBOX\"]\n",
                    q(&p)
                ));
            }
            section.push('\n');
            match test_mail(path, &out, &section, secret) {
                Ok(()) => {
                    out.push_str(&section);
                    break;
                }
                Err(e) => {
                    if after_failure("mail", &format!("{e:#}"))? {
                        out.push_str(&section);
                        break;
                    }
                }
            }
        }
    }

    let dav = Select::with_theme(&theme())
        .with_prompt("Calendar and address book")
        .items([
            "CalDAV/CardDAV server",
            "local vdir folders",
            "none for now",
        ])
        .default(0)
        .interact()?;
    if dav < 2 {
        loop {
            let mut section = String::new();
            let mut secret = None;
            if dav == 0 {
                let url = ask(
                    "Server URL (principal or home, e.g. https://dav.example.com/alice/)",
                    None,
                )?;
                let login = ask("Login", Some(&first_user))?;
                let (secret_line, s) = ask_secret(&format!("{first_user}-dav"))?;
                secret = s;
                for (table, name, src) in [
                    ("calendar", "cal", "caldav"),
                    ("contacts", "book", "carddav"),
                ] {
                    section.push_str(&format!(
                        "[[{table}.accounts]]\nname = {}\nuser = {}\nsource = \"{src}\"\nurl = {}\nlogin = {}\n{secret_line}\n",
                        q(&format!("{first_user}-{name}")),
                        q(&first_user),
                        q(&url),
                        q(&login)
                    ));
                }
            } else {
                let base = ask(
                    "Folder for the vdirs",
                    Some(&format!(
                        "{}/crmsync",
                        std::env::var("HOME").unwrap_or_default()
                    )),
                )?;
                for (table, name) in [("calendar", "cal"), ("contacts", "book")] {
                    let p: PathBuf = Path::new(&base).join(format!("{first_user}-{name}"));
                    section.push_str(&format!(
                        "[[{table}.accounts]]\nname = {}\nuser = {}\nsource = \"vdir\"\npath = {}\n\n",
                        q(&format!("{first_user}-{name}")),
                        q(&first_user),
                        q(&p.display().to_string())
                    ));
                }
            }
            match test_dav(path, &out, &section, secret) {
                Ok(()) => {
                    out.push_str(&section);
                    break;
                }
                Err(e) => {
                    if after_failure("calendar/contacts", &format!("{e:#}"))? {
                        out.push_str(&section);
                        break;
                    }
                }
            }
        }
    }
    // What we write must load: the same validation as every run.
    Config::parse(&out, path)
        .map_err(|e| anyhow::anyhow!("the generated config does not load: {}", e.0))?;
    Ok(out)
}

fn test_mail(path: &Path, head: &str, section: &str, secret: Option<Secret>) -> Result<()> {
    let cfg = Config::parse(&format!("{head}{section}"), path).map_err(|e| anyhow::anyhow!(e.0))?;
    let Some(a) = cfg.mail.accounts.last() else {
        return Ok(());
    };
    if a.source == config::MailSource::Maildir {
        let p = a.path.as_deref().unwrap_or(Path::new(""));
        if !(p.join("cur").is_dir() || p.join("new").is_dir()) {
            anyhow::bail!("{} is not a Maildir (no cur/ or new/)", p.display());
        }
        return Ok(());
    }
    let Some(secret) = secret else {
        crate::ui::warn("no password at hand: the IMAP login was not tested");
        return Ok(());
    };
    crate::ui::info("testing the IMAP login ...");
    // M20: found as the import finds them, named as the server lists them.
    let mut source = imap::ImapSource::connect(a, &secret)?;
    let listing = source.missing_folders(&a.folders);
    crate::source::mail::MailSource::close(&mut source);
    let (missing, folders) = listing?;
    if let Some(f) = missing.first() {
        anyhow::bail!(
            "folder `{f}` does not exist; the server has: {}",
            folders.join(", ")
        );
    }
    crate::ui::info("IMAP login ok");
    Ok(())
}

fn test_dav(path: &Path, head: &str, section: &str, secret: Option<Secret>) -> Result<()> {
    let cfg = Config::parse(&format!("{head}{section}"), path).map_err(|e| anyhow::anyhow!(e.0))?;
    let Some(secret) = secret else {
        if cfg.calendar.accounts.iter().any(|a| a.url.is_some()) {
            crate::ui::warn("no password at hand: the DAV login was not tested");
        }
        return Ok(());
    };
    for (a, kind) in cfg
        .calendar
        .accounts
        .iter()
        .map(|a| (a, DavKind::Calendar))
        .chain(cfg.contacts.accounts.iter().map(|a| (a, DavKind::Contacts)))
    {
        crate::ui::info(format!("testing {} discovery ...", kind.protocol()));
        let found = Dav::new(a, secret.clone())?.discover(kind)?;
        crate::ui::info(format!(
            "{} ok: {} collection(s)",
            kind.protocol(),
            found.len()
        ));
    }
    Ok(())
}
