//! The `crmsync init` wizard (X1, STYLE 11): asks at a terminal, tests
//! each connection it can, and returns the commented config text (the
//! sections are written by [`crate::config::generate`]).

use std::path::Path;

use anyhow::Result;
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Password, Select};

use crate::config::generate::{self, MailAt};
use crate::config::{self, Config};
use crate::error::usage;
use crate::secret::Secret;
use crate::source::dav::{Dav, DavKind};
use crate::source::imap;

fn theme() -> ColorfulTheme {
    ColorfulTheme::default()
}

/// Asks whether to replace an existing config.
///
/// # Errors
/// Terminal errors.
pub fn confirm_replace(path: &Path) -> Result<bool> {
    Ok(Confirm::with_theme(&theme())
        .with_prompt(format!("{} exists. Replace it?", path.display()))
        .default(false)
        .interact()?)
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
            let var = ask("Variable name", Some(&generate::password_var(account)))?;
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
            Ok((generate::password_env(&var), secret))
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
            Ok((generate::password_cmd(&cmd), secret))
        }
        _ => Ok((
            generate::password_env_unset(&generate::password_var(account)),
            None,
        )),
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

/// Asks for everything and returns the config text, which loads (the same
/// validation as every run). `path` is where it will be written.
///
/// # Errors
/// Terminal errors; "aborted" (a usage error) when the person aborts; a
/// generated config that does not load.
pub fn run(path: &Path) -> Result<String> {
    let state = config::default_state_path();
    let domains = split(&ask(
        "Your company's own mail domains (comma separated)",
        Some(""),
    )?);
    let mut out = generate::header(&state, &domains);

    let backend = Select::with_theme(&theme())
        .with_prompt("CRM back end")
        .items(["embedded (the state file is the CRM)", "REST (BottleCRM)"])
        .default(0)
        .interact()?;
    if backend == 0 {
        out.push_str(generate::CRM_EMBEDDED);
    } else {
        loop {
            let url = ask("BottleCRM base URL", Some("http://127.0.0.1:8000"))?;
            let var = ask(
                "Environment variable holding the API token",
                Some("CRM_TOKEN"),
            )?;
            let section = generate::crm_rest(&url, &var);
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
        out.push_str(&generate::user(&login, &emails, &name));
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
            let mut secret = None;
            let section = if mail == 0 {
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
                generate::mail_account(
                    &name,
                    &first_user,
                    &MailAt::Imap {
                        host: &host,
                        port: &port,
                        tls,
                        login: &login,
                        secret_line: &secret_line,
                        folders: &folders,
                    },
                )
            } else {
                let p = ask("Maildir path", None)?;
                generate::mail_account(&name, &first_user, &MailAt::Maildir { path: &p })
            };
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
            let mut secret = None;
            let section = if dav == 0 {
                let url = ask(
                    "Server URL (principal or home, e.g. https://dav.example.com/alice/)",
                    None,
                )?;
                let login = ask("Login", Some(&first_user))?;
                let (secret_line, s) = ask_secret(&format!("{first_user}-dav"))?;
                secret = s;
                generate::dav_accounts(&first_user, &url, &login, &secret_line)
            } else {
                let base = ask(
                    "Folder for the vdirs",
                    Some(&format!(
                        "{}/crmsync",
                        std::env::var("HOME").unwrap_or_default()
                    )),
                )?;
                generate::vdir_accounts(&first_user, &base)
            };
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
