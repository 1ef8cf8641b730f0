//! The import wizard (W1-W5) through a real pseudo-terminal, against Dovecot:
//! selection with a deselected mail, the mandatory choice for an ambiguous
//! sender, documents, summary and show.

use serde_json::Value;

use crate::harness;
use crate::import_mail::{mail, setup};
use crate::pty::Pty;

#[test]
fn w1_to_w5_wizard_selects_settles_choices_and_files_documents() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(
        d,
        "document_categories = [\"Offer\", \"Contract\"]\ndocument_keywords = [\"important\"]\n",
    );
    let l = &s.login;
    let offer = format!(
        "From: Jane Doe <jane@acme.example>\r\nTo: alice@us.example\r\nSubject: wizard offer\r\nMessage-ID: <{}@t>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n\
         --b\r\nContent-Type: application/pdf; name=offer.pdf\r\nContent-Disposition: attachment; filename=offer.pdf\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n",
        harness::unique_name("wiz")
    );
    d.append(l, "INBOX", offer.as_bytes());
    d.append(
        l,
        "INBOX",
        &mail(
            "shared@roe.example",
            "alice@us.example",
            "wizard ambiguous",
            "",
            ".",
        ),
    );
    d.append(
        l,
        "INBOX",
        &mail(
            "john@globex.example",
            "alice@us.example",
            "wizard later",
            "",
            ".",
        ),
    );

    let bin = assert_cmd::cargo::cargo_bin("crmsync");
    let config = s.env.config.display().to_string();
    let mut p = Pty::spawn(
        &bin,
        &["--config", &config, "import-mail"],
        &[("IMAP_PW", &s.pw)],
    );
    // W1: the areas, mail only by default: accepted.
    p.expect("What to import now");
    p.send("\r");
    p.expect("wizard later");
    p.expect("Import these mails?");
    // W2: deselect the third mail (down, down, space), confirm.
    p.send("\x1b[B\x1b[B \r");
    // W2: the ambiguous sender must be settled: pick the second person.
    p.pick("the sender is ambiguous. Attach to", 1);
    // W3: documents.
    p.pick("Category of offer.pdf", 1);
    p.pick("Keyword of offer.pdf", 1);
    // W4: the summary; W5: show this run's activities.
    p.expect("2 imported");
    p.expect("Show the 2 imported activities?");
    p.send("y");
    p.expect("wizard offer");
    let (code, screen) = p.wait();
    assert_eq!(code, 0, "{screen}");

    let offer = s.by_subject("wizard offer");
    assert_eq!(offer["attachments"][0]["name"], "offer.pdf");
    assert_eq!(offer["attachments"][0]["category"], "Offer");
    assert_eq!(offer["attachments"][0]["keyword"], "important");
    let amb = s.by_subject("wizard ambiguous");
    assert_eq!(amb["attached_to"]["id"], "P5", "{amb}");
    assert_eq!(amb["flags"], serde_json::json!([]));
    assert!(
        s.report().iter().all(|a| a["subject"] != "wizard later"),
        "deselected mail was imported"
    );
    assert!(!s.queue().contains(&"shared@roe.example".to_string()));

    // W6: the deselected mail is still new for the next, unattended run.
    let (code, v, err): (i32, Value, String) = s.import(&["--yes"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["counts"]["imported"], 1, "{v:#}");
    assert_eq!(s.by_subject("wizard later")["attached_to"]["id"], "P2");
}
