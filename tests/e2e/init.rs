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
    start(&mut p);
    p.pick("Mail account to import from", 0);
    p.answer("Account name", "alice-mail");
    p.answer("IMAP host", "127.0.0.1");
    p.pick("Encryption", 2);
    p.answer("Port", &d.port.to_string());
    p.answer("Login", &login);
    p.pick("Where does the password", 0);
    p.answer("Variable name", "INIT_PW");
    p.answer("Folders to import", "INBOX");
    p.expect("IMAP login ok");
    p.pick("Calendar and address book", 2);
    let (code, screen) = p.wait();
    assert_eq!(code, 0, "{screen}");
    let text = std::fs::read_to_string(&out).unwrap();
    let cfg = crmsync::config::Config::parse(&text, &out).unwrap();
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
    start(&mut p);
    p.pick("Mail account to import from", 0);
    p.answer("Account name", "alice-mail");
    p.answer("IMAP host", "127.0.0.1");
    p.pick("Encryption", 2);
    p.answer("Port", &d.port.to_string());
    p.answer("Login", &login);
    p.pick("Where does the password", 0);
    p.answer("Variable name", "INIT_PW");
    p.answer("Folders to import", "INBOX");
    p.expect("refused the login");
    p.pick("The test failed. What now?", 2);
    let (code, screen) = p.wait();
    assert_eq!(code, 2, "{screen}");
    assert!(!out.exists());
}
