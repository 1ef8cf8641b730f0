//! The `crmsync init` wizard (X1, STYLE 11): asks at a terminal, tests
//! each connection it can, and returns the commented config text (the
//! sections are written by [`crate::config::generate`]).

use std::path::Path;

use anyhow::Result;
use dialoguer::theme::Theme;
use dialoguer::{Confirm, Input, Password, Select};

use crate::config::generate::{self, MailAt};
use crate::config::{self, Config};
use crate::error::usage;
use crate::secret::Secret;
use crate::source::dav::{Dav, DavKind};
use crate::source::imap;

fn theme() -> &'static dyn Theme {
    super::theme()
}

/// Asks whether to replace an existing config.
///
/// # Errors
/// Terminal errors.
pub fn confirm_replace(path: &Path) -> Result<bool> {
    Ok(Confirm::with_theme(theme())
        .with_prompt(format!("{} exists. Replace it?", path.display()))
        .default(false)
        .interact()?)
}

fn ask(prompt: &str, default: Option<&str>) -> Result<String> {
    let mut i = Input::<String>::with_theme(theme()).with_prompt(prompt);
    if let Some(d) = default {
        i = i.default(d.to_string());
    }
    Ok(i.interact_text()?.trim().to_string())
}

/// A comma separated answer (W10): the commas alone divide it, so a
/// folder called `CRM Import` stays one; spaces around the commas go.
fn split(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Addresses and domains, which hold no spaces: commas or spaces divide.
fn split_words(s: &str) -> Vec<String> {
    s.split([',', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// The answers about one secret, kept for "enter the settings again" (W10).
#[derive(Default)]
struct SecretAnswers {
    choice: usize,
    var: Option<String>,
    cmd: Option<String>,
}

/// Asks where a secret comes from (the X3 sources: an environment
/// variable, a command, the system keyring); returns the TOML lines and,
/// for the connection test, the secret itself (asked hidden if not at
/// hand). `accounts` are the config accounts that will use it (the keyring
/// holds one entry per account).
fn ask_secret(accounts: &[String], last: &mut SecretAnswers) -> Result<(String, Option<Secret>)> {
    let first = accounts.first().map(String::as_str).unwrap_or("");
    let choice = Select::with_theme(theme())
        .with_prompt(format!(
            "Where does the password of `{}` come from?",
            accounts.join("` and `")
        ))
        .items([
            "an environment variable",
            "a command (e.g. pass show ...)",
            "the system keyring (secret-tool; the Keychain on macOS)",
            "skip the connection test",
        ])
        .default(last.choice)
        .interact()?;
    last.choice = choice;
    match choice {
        0 => {
            let var = ask(
                "Variable name",
                Some(
                    last.var
                        .as_deref()
                        .unwrap_or(&generate::password_var(first)),
                ),
            )?;
            last.var = Some(var.clone());
            let secret = match std::env::var(&var) {
                Ok(v) if !v.is_empty() => Some(Secret::new(v)),
                _ => for_the_test(&format!("{var} is not set here")),
            };
            Ok((generate::password_env(&var), secret))
        }
        1 => {
            let cmd = ask("Command that prints the password", last.cmd.as_deref())?;
            last.cmd = Some(cmd.clone());
            let spec = crate::secret::SecretSpec::new(
                first,
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
        2 => {
            let spec = crate::secret::SecretSpec::new(first, "password", None, None, true, None);
            let secret = match spec.resolve() {
                Ok(s) => Some(s),
                Err(_) => {
                    for a in accounts {
                        crate::ui::info(format!(
                            "store the password of `{a}` in the keyring: {}",
                            crate::secret::keyring_store_command(a)
                        ));
                    }
                    for_the_test("the keyring has no entry yet")
                }
            };
            Ok((generate::password_keyring(), secret))
        }
        _ => Ok((
            generate::password_env_unset(&generate::password_var(first)),
            None,
        )),
    }
}

/// The password asked hidden, for the connection test only.
fn for_the_test(why: &str) -> Option<Secret> {
    Password::with_theme(theme())
        .with_prompt(format!(
            "{why}; password for the test only (not saved, empty: no test)"
        ))
        .allow_empty_password(true)
        .interact()
        .ok()
        .filter(|p| !p.is_empty())
        .map(Secret::new)
}

/// Asks whether to keep a section whose connection test failed.
fn after_failure(what: &str, err: &str) -> Result<bool> {
    crate::ui::warn(format!("{what}: {err}"));
    let c = Select::with_theme(theme())
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
/// validation as every run). `path` is where it will be written. After a
/// failed test, "enter the settings again" offers every earlier answer as
/// the default (W10).
///
/// # Errors
/// Terminal errors; "aborted" (a usage error) when the person aborts; a
/// generated config that does not load.
pub fn run(path: &Path) -> Result<String> {
    let state = config::default_state_path();
    let domains = split_words(&ask(
        "Your company's own mail domains (comma separated)",
        Some(""),
    )?);
    let mut out = generate::header(&state, &domains);

    let backend = Select::with_theme(theme())
        .with_prompt("CRM back end")
        .items(["embedded (the state file is the CRM)", "REST (BottleCRM)"])
        .default(0)
        .interact()?;
    if backend == 0 {
        out.push_str(generate::CRM_EMBEDDED);
    } else {
        let mut url = "http://127.0.0.1:8000".to_string();
        let mut var = "CRM_TOKEN".to_string();
        loop {
            url = ask("BottleCRM base URL", Some(&url))?;
            var = ask("Environment variable holding the API token", Some(&var))?;
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
            if keep(test.map_err(|e| ("CRM", e)))? {
                out.push_str(&section);
                break;
            }
        }
    }

    let mut first_user = String::new();
    loop {
        let login = ask("User login (a groupware user, also a CRM rep)", None)?;
        let emails = split_words(&ask(
            "Their e-mail addresses, primary first (comma separated)",
            None,
        )?);
        let name = ask("Display name", Some(""))?;
        out.push_str(&generate::user(&login, &emails, &name));
        if first_user.is_empty() {
            first_user = login;
        }
        if !Confirm::with_theme(theme())
            .with_prompt("Add another user?")
            .default(false)
            .interact()?
        {
            break;
        }
    }

    let mail = Select::with_theme(theme())
        .with_prompt("Mail account to import from")
        .items(["IMAP server", "Maildir folder", "none for now"])
        .default(0)
        .interact()?;
    if mail < 2 {
        let mut last = MailAnswers {
            name: format!("{first_user}-mail"),
            login: first_user.clone(),
            folders: "INBOX".into(),
            ..MailAnswers::default()
        };
        loop {
            let (section, secret) = ask_mail(mail == 0, &first_user, &mut last)?;
            if keep(
                test_mail(path, &out, &section, secret).map_err(|e| ("mail", format!("{e:#}"))),
            )? {
                out.push_str(&section);
                break;
            }
        }
    }

    let dav = Select::with_theme(theme())
        .with_prompt("Calendar and address book")
        .items([
            "CalDAV/CardDAV server",
            "local vdir folders",
            "none for now",
        ])
        .default(0)
        .interact()?;
    if dav < 2 {
        let mut url = String::new();
        let mut login = first_user.clone();
        let mut base = format!("{}/crmsync", std::env::var("HOME").unwrap_or_default());
        let mut secret_answers = SecretAnswers::default();
        loop {
            let mut secret = None;
            let section = if dav == 0 {
                url = ask(
                    "Server URL (principal or home, e.g. https://dav.example.com/alice/)",
                    (!url.is_empty()).then_some(url.as_str()),
                )?;
                login = ask("Login", Some(&login))?;
                let accounts = [format!("{first_user}-cal"), format!("{first_user}-book")];
                let (secret_line, s) = ask_secret(&accounts, &mut secret_answers)?;
                secret = s;
                generate::dav_accounts(&first_user, &url, &login, &secret_line)
            } else {
                base = ask("Folder for the vdirs", Some(&base))?;
                generate::vdir_accounts(&first_user, &base)
            };
            let tested = test_dav(path, &out, &section, secret)
                .map_err(|e| ("calendar/contacts", format!("{e:#}")));
            if keep(tested)? {
                out.push_str(&section);
                break;
            }
        }
    }
    // What we write must load: the same validation as every run.
    Config::parse(&out, path)
        .map_err(|e| anyhow::anyhow!("the generated config does not load: {}", e.0))?;
    Ok(out)
}

/// True when a tested section is kept: it passed, or the person keeps it
/// after a failure; false: enter it again.
fn keep(test: std::result::Result<(), (&str, String)>) -> Result<bool> {
    match test {
        Ok(()) => Ok(true),
        Err((what, e)) => after_failure(what, &e),
    }
}

/// The answers about the mail account, kept for "enter the settings
/// again" (W10).
#[derive(Default)]
struct MailAnswers {
    name: String,
    host: String,
    tls: usize,
    port: Option<String>,
    login: String,
    folders: String,
    maildir: String,
    secret: SecretAnswers,
}

/// Asks for the mail account; `last` holds the answers of the previous
/// round as defaults and receives this round's.
fn ask_mail(imap: bool, user: &str, last: &mut MailAnswers) -> Result<(String, Option<Secret>)> {
    let or_none = |s: &str| (!s.is_empty()).then_some(s.to_string());
    last.name = ask("Account name", or_none(&last.name).as_deref())?;
    if !imap {
        last.maildir = ask("Maildir path", or_none(&last.maildir).as_deref())?;
        let at = MailAt::Maildir {
            path: &last.maildir,
        };
        return Ok((generate::mail_account(&last.name, user, &at), None));
    }
    last.host = ask("IMAP host", or_none(&last.host).as_deref())?;
    let tls_before = last.tls;
    last.tls = Select::with_theme(theme())
        .with_prompt("Encryption")
        .items([
            "TLS (port 993)",
            "STARTTLS (port 143)",
            "none (local servers only)",
        ])
        .default(last.tls)
        .interact()?;
    let tls = ["tls", "starttls", "none"][last.tls.min(2)];
    let standard = if tls == "tls" { "993" } else { "143" };
    // The port given before, unless the encryption changed.
    let port_default = match &last.port {
        Some(p) if tls_before == last.tls => p.clone(),
        _ => standard.to_string(),
    };
    let port = ask("Port", Some(&port_default))?;
    last.port = Some(port.clone());
    last.login = ask("Login", or_none(&last.login).as_deref())?;
    let (secret_line, secret) = ask_secret(std::slice::from_ref(&last.name), &mut last.secret)?;
    last.folders = ask("Folders to import (comma separated)", Some(&last.folders))?;
    let folders = split(&last.folders);
    let section = generate::mail_account(
        &last.name,
        user,
        &MailAt::Imap {
            host: &last.host,
            port: &port,
            tls,
            login: &last.login,
            secret_line: &secret_line,
            folders: &folders,
        },
    );
    Ok((section, secret))
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
