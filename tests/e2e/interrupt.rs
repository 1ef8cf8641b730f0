//! W11: Ctrl-C in a wizard through a real pty: the cursor is shown again,
//! one line says what is kept, nothing is half-written, and the run ends
//! by the interrupt (exit status 130).

use crate::harness;
use crate::import_mail::{mail, setup};
use crate::pty::Pty;

/// The output after the last hidden cursor shows it again.
fn cursor_shown_again(raw: &str) -> bool {
    match (raw.rfind("\x1b[?25l"), raw.rfind("\x1b[?25h")) {
        (Some(hidden), Some(shown)) => shown > hidden,
        (None, _) => true,
        (Some(_), None) => false,
    }
}

/// Sends Ctrl-C and checks the W11 ending: `line` once on the screen, the
/// cursor shown again, exit status 130. Returns the screen.
pub fn interrupt(mut p: Pty, line: &str) -> String {
    p.send("\x03");
    p.expect(line);
    let raw = p.raw();
    assert!(cursor_shown_again(&raw), "{raw:?}");
    let (code, screen) = p.wait();
    assert_eq!(code, 130, "ended by the interrupt: {screen}");
    assert_eq!(screen.matches("stopped:").count(), 1, "{screen}");
    screen
}

#[test]
fn w11_ctrl_c_in_the_import_wizard_imports_nothing_and_says_so() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "");
    d.append(
        &s.login,
        "INBOX",
        &mail(
            "john@globex.example",
            "alice@us.example",
            "interrupt me",
            "",
            ".",
        ),
    );
    let mut p = crate::import_wizard::start(&s);
    // The selection: the mail is fetched and offered, not yet written.
    p.expect("interrupt me");
    interrupt(p, "stopped: nothing imported");
    assert!(s.report().is_empty(), "nothing imported");
    // Nothing was marked as seen either: the next run imports the mail.
    let (code, _, stderr) = s.import(&[]);
    assert_eq!(code, 0, "{stderr}");
    s.by_subject("interrupt me");
}

#[test]
fn w11_ctrl_c_in_resolve_unknown_keeps_the_choices_made_before() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "");
    for (from, subject) in [
        ("promo@spam.example", "stop spam"),
        ("Xavier New <x@nowhere.example>", "stop stranger"),
    ] {
        d.append(
            &s.login,
            "CRM Import",
            &mail(from, "alice@us.example", subject, "", "."),
        );
    }
    assert_eq!(s.import(&[]).0, 0);
    assert_eq!(s.queue(), vec!["promo@spam.example", "x@nowhere.example"]);
    let bin = assert_cmd::cargo::cargo_bin("crmsync");
    let config = s.env.config.display().to_string();
    let mut p = Pty::spawn(&bin, &["--config", &config, "resolve-unknown"], &[]);
    p.expect("[1/2] promo@spam.example");
    p.pick("what now?", 3); // ignore this address
    p.expect("promo@spam.example: ignored from now on");
    p.expect("[2/2] x@nowhere.example");
    interrupt(
        p,
        "stopped: the addresses resolved so far stay resolved; nothing else changed",
    );
    assert_eq!(s.queue(), vec!["x@nowhere.example"]);
}
