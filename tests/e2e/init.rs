//! `crmsync init` (X1): the wizard through a real pty, testing the IMAP
//! connection against Dovecot before it saves.

use std::path::PathBuf;

use crate::harness;
use crate::pty::Pty;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("crmsync")
}

/// Walks the wizard up to the mail section.
fn start(p: &mut Pty) {
    p.answer("own mail domains", "us.example");
    p.pick("CRM back end", 0);
    p.answer("User login", "alice");
    p.answer("e-mail addresses", "alice@us.example, a@us.example");
    p.answer("Display name", "Alice");
    p.expect("Add another user?");
    p.send("n");
}

/// Declines the calendar, waits for success; the config written, loaded,
/// and the screen.
fn no_calendar_then_written(
    mut p: Pty,
    out: &std::path::Path,
) -> (String, crmsync::config::Config, String) {
    p.pick("Calendar and address book", 2);
    let (code, screen) = p.wait();
    assert_eq!(code, 0, "{screen}");
    let text = std::fs::read_to_string(out).unwrap();
    let cfg = crmsync::config::Config::parse(&text, out).unwrap();
    (text, cfg, screen)
}

/// Walks the wizard to an IMAP account `alice-mail` on 127.0.0.1 without
/// TLS, up to the password question.
fn imap_account(p: &mut Pty, port: &str, login: &str) {
    start(p);
    p.pick("Mail account to import from", 0);
    p.answer("Account name", "alice-mail");
    p.answer("IMAP host", "127.0.0.1");
    p.pick("Encryption", 2);
    p.answer("Port", port);
    p.answer("Login", login);
}

#[test]
fn x1_init_wizard_tests_imap_login_then_writes_a_loading_config() {
    let Some(d) = harness::dovecot() else { return };
    let (login, pw) = d.add_user("init");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("config.toml");
    let mut p = Pty::spawn(
        &bin(),
        &["init", "--output", out.to_str().unwrap()],
        &[("INIT_PW", &pw)],
    );
    imap_account(&mut p, &d.port.to_string(), &login);
    p.pick("Where does the password", 0);
    p.answer("Variable name", "INIT_PW");
    p.answer("Folders to import", "INBOX");
    p.expect("IMAP login ok");
    let (text, cfg, _) = no_calendar_then_written(p, &out);
    let a = &cfg.mail.accounts[0];
    assert_eq!(a.password_env.as_deref(), Some("INIT_PW"));
    assert_eq!(a.port(), d.port);
    assert!(
        !text.contains(&pw),
        "the wizard must not store the password"
    );
    assert_eq!(
        cfg.users[0].emails,
        vec!["alice@us.example", "a@us.example"]
    );
}

#[test]
fn x1_init_wizard_reports_a_failed_login_and_can_abort_without_writing() {
    let Some(d) = harness::dovecot() else { return };
    let (login, _) = d.add_user("init-bad");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("config.toml");
    let mut p = Pty::spawn(
        &bin(),
        &["init", "--output", out.to_str().unwrap()],
        &[("INIT_PW", "wrong")],
    );
    imap_account(&mut p, &d.port.to_string(), &login);
    p.pick("Where does the password", 0);
    p.answer("Variable name", "INIT_PW");
    p.answer("Folders to import", "INBOX");
    p.expect("refused the login");
    p.pick("The test failed. What now?", 2);
    let (code, screen) = p.wait();
    assert_eq!(code, 2, "{screen}");
    assert!(!out.exists());
}

/// Walks the wizard to an IMAP account on a closed port (the test fails
/// at once, no server needed), with a folder name holding a space.
fn imap_on_a_closed_port(p: &mut Pty) {
    imap_account(p, "1", "alice");
    p.pick("Where does the password", 0);
    p.answer("Variable name", "INIT_PW");
    p.answer("Folders to import", "CRM Import ,INBOX");
    p.expect("The test failed. What now?");
}

#[test]
fn w10_init_splits_folders_at_commas_keeps_answers_and_names_the_config_in_next() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("config.toml");
    let mut p = Pty::spawn(
        &bin(),
        &["init", "--output", out.to_str().unwrap()],
        &[("INIT_PW", "pw")],
    );
    imap_on_a_closed_port(&mut p);
    p.send("\r"); // enter the settings again
    // Every earlier answer is the default: Enter keeps each one.
    for prompt in [
        "Account name",
        "IMAP host",
        "Encryption",
        "Port",
        "Login",
        "Where does the password",
        "Variable name",
        "Folders to import",
    ] {
        p.answer(prompt, "");
    }
    p.pick("The test failed. What now?", 1); // keep them anyway
    let (text, cfg, screen) = no_calendar_then_written(p, &out);
    let a = &cfg.mail.accounts[0];
    assert_eq!(a.folders, vec!["CRM Import", "INBOX"], "{text}");
    assert_eq!(
        (
            a.name(),
            a.host.as_deref(),
            a.port(),
            a.password_env.as_deref()
        ),
        ("alice-mail", Some("127.0.0.1"), 1, Some("INIT_PW")),
        "{text}"
    );
    assert_eq!(a.login.as_deref(), Some("alice"), "{text}");
    assert!(!text.contains("config.sample.toml"), "{text}");
    let c = format!("--config {}", out.display());
    assert!(
        screen.contains(&format!(
            "Next: `crmsync {c} crm import persons.csv --kind persons`, then `crmsync {c} check`"
        )),
        "{screen}"
    );
}

#[test]
fn w11_ctrl_c_in_init_restores_the_cursor_and_says_nothing_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("config.toml");
    let mut p = Pty::spawn(&bin(), &["init", "--output", out.to_str().unwrap()], &[]);
    p.answer("own mail domains", "us.example");
    // A list: dialoguer hides the cursor while it is shown.
    p.expect("CRM back end");
    assert!(p.raw().contains("\x1b[?25l"), "the list hid the cursor");
    let screen = crate::interrupt::interrupt(p, "stopped: nothing written");
    assert!(!screen.contains("error:"), "{screen}");
    assert!(!out.exists());
}

#[test]
fn w12_without_colour_the_active_row_carries_a_marker() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("config.toml");
    let mut p = Pty::spawn(
        &bin(),
        &["init", "--output", out.to_str().unwrap()],
        &[("NO_COLOR", "1")],
    );
    p.answer("own mail domains", "us.example");
    p.expect("> embedded (the state file is the CRM)");
    p.send("\x1b[B");
    p.expect("> REST (BottleCRM)");
    let raw = p.raw();
    assert!(!raw.contains("\x1b[3"), "no colour under NO_COLOR: {raw:?}");
    crate::interrupt::interrupt(p, "stopped: nothing written");
}

#[test]
fn w10_init_offers_the_system_keyring_for_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("config.toml");
    let mut p = Pty::spawn(&bin(), &["init", "--output", out.to_str().unwrap()], &[]);
    imap_account(&mut p, "1", "alice");
    p.pick("Where does the password", 2);
    // No entry yet: how to store one, then a password for the test only.
    p.expect("store the password of `alice-mail` in the keyring");
    p.answer("password for the test only", "");
    p.answer("Folders to import", "INBOX");
    p.expect("the IMAP login was not tested");
    let (text, cfg, _) = no_calendar_then_written(p, &out);
    let a = &cfg.mail.accounts[0];
    assert!(a.keyring && a.password_env.is_none(), "{text}");
}
