//! The import wizard (W1-W5) through a real pseudo-terminal, against Dovecot:
//! selection with a deselected mail, the mandatory choice for an ambiguous
//! sender, documents, summary and show.

use serde_json::Value;

use crate::harness;
use crate::import_mail::{Setup, mail, setup};
use crate::pty::Pty;

/// `crmsync import-mail` on the setup's Dovecot account in a pty, past W1
/// (the areas, mail only by default: accepted).
pub fn start(s: &Setup) -> Pty {
    let bin = assert_cmd::cargo::cargo_bin("crmsync");
    let config = s.env.config.display().to_string();
    let mut p = Pty::spawn(
        &bin,
        &["--config", &config, "import-mail"],
        &[("IMAP_PW", &s.pw)],
    );
    p.expect("What to import now");
    p.send("\r");
    p
}

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

    let mut p = start(&s);
    // W2, W7: filter down to the third mail, deselect it, go on.
    p.wait_frame("the selection", |f| {
        f.iter().any(|l| l.contains("wizard later"))
    });
    p.send("/later\r");
    p.wait_frame("the filter", |f| {
        f.first().is_some_and(|t| t.contains("rows 1-1 of 1"))
    });
    p.send(" ");
    p.wait_frame("one left out", |f| {
        f.first().is_some_and(|t| t.contains("2 of 3 chosen"))
    });
    p.send("\r");
    // W2, W8: the ambiguous sender must be settled: pick the second person.
    p.expect("shared@roe.example sent 1 of the chosen mail(s)");
    p.send("\x1b[B\r");
    // W3, W9: documents: category Offer, keyword important.
    p.expect("Documents of mail 1 of 1: wizard offer");
    p.send("c");
    p.wait_frame("the category", |f| f.iter().any(|l| l.contains("Offer")));
    p.send("k");
    p.wait_frame("the keyword", |f| f.iter().any(|l| l.contains("important")));
    p.send("\r");
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

/// A Maildir of `n` mails for alice: known senders, unknown colleagues of a
/// known company (flagged), outgoing mail, two from an address two persons
/// share (W8) and one with two attachments (W9); dates spread over a month.
fn big_maildir(dir: &std::path::Path, n: usize) {
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for i in 0..n {
        let (from, to) = match i % 5 {
            0 => (
                format!("new.colleague{i}@acme.example"),
                "alice@us.example".to_string(),
            ),
            1 => (
                "alice@us.example".to_string(),
                "john@globex.example".to_string(),
            ),
            _ => (
                "jane@acme.example".to_string(),
                "alice@us.example".to_string(),
            ),
        };
        let (from, subject) = match i {
            3 | 7 => (
                "shared@roe.example".to_string(),
                format!("shared sender mail {i}"),
            ),
            _ => (
                from,
                format!(
                    "Quarterly offer number {i} for the new warehouse roof and the parking lot"
                ),
            ),
        };
        let day = 1 + (i * 7) % 28;
        let hour = i % 24;
        let body = if i == 2 {
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee files\r\n\
             --b\r\nContent-Type: application/pdf; name=offer.pdf\r\nContent-Disposition: attachment; filename=offer.pdf\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n\
             --b\r\nContent-Type: application/pdf; name=terms.pdf\r\nContent-Disposition: attachment; filename=terms.pdf\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
                .to_string()
        } else {
            "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello\r\n".to_string()
        };
        let msg = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n\
             Date: {day} Nov 2026 {hour:02}:{:02}:00 +0000\r\nMessage-ID: <w7-{i}@t.example>\r\n{body}",
            i % 60
        );
        std::fs::write(dir.join(format!("new/{i}.M{i}P1.host")), msg).unwrap();
    }
}

/// The list rows of a selection frame (they start with the cursor column
/// and a check box).
fn rows(frame: &[String]) -> Vec<&String> {
    frame
        .iter()
        .filter(|l| l.starts_with("> [") || l.starts_with("  ["))
        .collect()
}

fn chosen(frame: &[String], k: usize, n: usize) -> bool {
    frame
        .first()
        .is_some_and(|t| t.starts_with(&format!("Mail to import: {k} of {n} chosen")))
}

/// Waits for a frame with a line containing `text`.
fn on(p: &Pty, text: &str) -> Vec<String> {
    p.wait_frame(text, |f| f.iter().any(|l| l.contains(text)))
}

/// Fails unless a line of `frame` contains `text`.
fn shows(frame: &[String], text: &str) {
    assert!(
        frame.iter().any(|l| l.contains(text)),
        "`{text}` not shown:\n{}",
        frame.join("\n")
    );
}

/// W7-W9 through a pty at `cols` x `lines` with `n` mails in a Maildir.
fn w7_w8_w9_screen(n: usize, cols: u16, lines: u16) {
    let env = crate::cli::Env::new("");
    let md = env.path("maildir");
    big_maildir(&md, n);
    std::fs::write(
        &env.config,
        std::fs::read_to_string(&env.config).unwrap()
            + &format!(
                "[mail]\ndocument_categories = [\"Offer\", \"Contract\"]\ndocument_keywords = [\"important\"]\n\n\
                 [[mail.accounts]]\nname = \"local\"\nuser = \"alice\"\nsource = \"maildir\"\npath = \"{}\"\nfolders = [\"INBOX\"]\n",
                md.display()
            ),
    )
    .unwrap();
    // P4 works at Acme, P5 has no company: W8 names both.
    let c = env.write("companies.csv", crate::cli::COMPANIES);
    let p = env.write(
        "persons.csv",
        &crate::cli::PERSONS.replace(
            "P4,\"Quote, Comma\",Person,shared@roe.example,,,",
            "P4,Quinn,Roe,shared@roe.example,,C1,",
        ),
    );
    for (f, kind) in [(&c, "companies"), (&p, "persons")] {
        let (code, _, err) = env.run(&["crm", "import", f.to_str().unwrap(), "--kind", kind]);
        assert_eq!(code, 0, "{err}");
    }
    let bin = assert_cmd::cargo::cargo_bin("crmsync");
    let config = env.config.display().to_string();
    let mut p = Pty::spawn_sized(
        &bin,
        &["--config", &config, "import-mail"],
        &[],
        cols,
        lines,
    );
    p.expect("What to import now");
    p.send("\r");

    // W7: one screen, every line within the width, the page within the height.
    let fits = |f: &[String]| {
        assert!(
            f.len() < lines as usize,
            "{} lines:\n{}",
            f.len(),
            f.join("\n")
        );
        for l in f {
            assert!(
                l.chars().count() < cols as usize,
                "too wide at {cols}: `{l}`"
            );
        }
    };
    let first = p.wait_frame("the selection", |f| chosen(f, n, n) && f.len() > 4);
    fits(&first);
    let list = rows(&first);
    assert!(list.len() >= 8, "{first:#?}");
    assert!(list[0].starts_with("> [x]"), "{first:#?}");
    assert!(
        list.iter().any(|r| r.contains(" ! ")),
        "flags shown: {first:#?}"
    );
    assert!(
        list.iter().any(|r| r.contains('…')),
        "cut, not wrapped: {first:#?}"
    );
    assert!(
        first.iter().any(|l| l.contains("space toggle")),
        "{first:#?}"
    );
    assert!(first.iter().any(|l| l.contains("esc")), "{first:#?}");
    // Outgoing mail is among the rest, by date (newest first).
    let dates: Vec<String> = list
        .iter()
        .map(|r| r.chars().skip(8).take(16).collect())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:#?}");

    // A toggle changes exactly one row.
    p.send("\x1b[B");
    let moved = p.wait_frame("the cursor on row 2", |f| {
        rows(f).get(1).is_some_and(|r| r.starts_with("> "))
    });
    p.send(" ");
    let toggled = p.wait_frame("one mail left out", |f| chosen(f, n - 1, n));
    fits(&toggled);
    let (a, b) = (rows(&moved), rows(&toggled));
    assert_eq!(a.len(), b.len());
    let changed: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    assert_eq!(changed, [1], "{moved:#?}\n{toggled:#?}");
    assert!(b[1].starts_with("> [ ]"), "{toggled:#?}");

    // Pages: the last row is reachable and the frame still fits.
    p.send("\x1b[F");
    let end = p.wait_frame("the last page", |f| {
        f.first().is_some_and(|t| t.contains(&format!("of {n} |")))
            && rows(f).last().is_some_and(|r| r.starts_with("> "))
    });
    fits(&end);
    p.send("\x1b[H");
    p.wait_frame("the first page", |f| {
        rows(f).first().is_some_and(|r| r.starts_with("> "))
    });

    // W8: asked once for the address, with companies and the mail count.
    p.send("\r");
    let who = on(&p, "shared@roe.example sent 2");
    fits(&who);
    shows(&who, "Quinn Roe, Acme GmbH");
    shows(&who, "Other Person (no company)");
    // Back (`key`): the selection again, with the answers kept; then on
    // through W8 (the first person) once more.
    let back_and_on = |p: &mut Pty, key: &str| {
        p.send(key);
        p.wait_frame("back to the selection", |f| chosen(f, n - 1, n));
        p.send("\r");
        on(p, "shared@roe.example sent 2");
        p.send("\r");
    };
    back_and_on(&mut p, "\x1b");

    // W9: one screen for the mail with two attachments, back works.
    let docs = on(&p, "Documents of mail 1 of 1");
    fits(&docs);
    shows(&docs, "from jane@acme.example");
    shows(&docs, "terms.pdf");
    shows(&docs, "(none)");
    back_and_on(&mut p, "\x7f");
    on(&p, "Documents of mail 1 of 1");
    p.send("c");
    p.wait_frame("a category", |f| {
        f.iter()
            .any(|l| l.starts_with("> offer.pdf") && l.contains("Offer"))
    });
    p.send("\r");

    // One summary line each, then W4 and W5.
    p.expect(&format!("{} of {n} mails chosen; 1 stay new", n - 1));
    p.expect("documents: 1 of 2 attachments filed");
    p.expect(&format!("{} imported", n - 1));
    p.expect("Show the");
    p.send("n");
    let (code, screen) = p.wait();
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("CRM Import/"), "no internal ids in W4");
}

#[test]
fn w7_w8_w9_wizard_screen_30_mails_at_80x24() {
    w7_w8_w9_screen(30, 80, 24);
}

#[test]
fn w7_w8_w9_wizard_screen_30_mails_at_60x20() {
    w7_w8_w9_screen(30, 60, 20);
}

#[test]
fn w7_w8_w9_wizard_screen_300_mails_at_80x24() {
    w7_w8_w9_screen(300, 80, 24);
}

#[test]
fn w7_w8_w9_wizard_screen_300_mails_at_60x20() {
    w7_w8_w9_screen(300, 60, 20);
}
