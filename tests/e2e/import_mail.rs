//! `crmsync import-mail` end to end against Dovecot (SPEC 2): what a user
//! sees afterwards: the activities in `report --json`, their flags, the
//! unknown queue, the keyword and archive folder on the server, the notice
//! in the owner's INBOX; plus X2, X4, X5 and X8.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::cli::Env;
use crate::harness::{self, Dovecot};

/// A mail with the usual headers.
pub fn mail(from: &str, to: &str, subject: &str, extra: &str, body: &str) -> Vec<u8> {
    let id = harness::unique_name("m");
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <{id}@test.example>\r\n{extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn message_id(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let start = s.find("Message-ID: <").unwrap() + 13;
    s[start..start + s[start..].find('>').unwrap()].to_string()
}

pub struct Setup {
    pub env: Env,
    pub login: String,
    pub pw: String,
}

/// alice's Dovecot mailbox with an account `alice-mail` importing INBOX and `CRM Import`.
pub fn setup(d: &Dovecot, extra_mail: &str) -> Setup {
    let (login, pw) = d.add_user("imp");
    d.create_folder(&login, "CRM Import");
    let env = Env::new(&format!(
        "[mail]\nkeyword = \"$CRMImported\"\n{extra_mail}\n\
         [[mail.accounts]]\nname = \"alice-mail\"\nuser = \"alice\"\nsource = \"imap\"\nhost = \"127.0.0.1\"\nport = {}\n\
         tls = \"none\"\nlogin = \"{login}\"\npassword_env = \"IMAP_PW\"\nfolders = [\"INBOX\", \"CRM Import\"]\nimport_parent = \"\"\n",
        d.port
    ));
    env.load_directory();
    Setup { env, login, pw }
}

impl Setup {
    pub fn import(&self, args: &[&str]) -> (i32, Value, String) {
        let out = self
            .env
            .cmd()
            .env("IMAP_PW", &self.pw)
            .arg("--json")
            .arg("import-mail")
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let v = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        (
            out.status.code().unwrap_or(-1),
            v,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn report(&self) -> Vec<Value> {
        self.env.json(&["report"])["activities"]
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn by_subject(&self, subject: &str) -> Value {
        let all = self.report();
        let found: Vec<&Value> = all.iter().filter(|a| a["subject"] == subject).collect();
        assert_eq!(
            found.len(),
            1,
            "exactly one activity `{subject}` expected in {all:#?}"
        );
        found[0].clone()
    }

    pub fn queue(&self) -> Vec<String> {
        let conn = rusqlite::Connection::open(self.env.path("state.sqlite")).unwrap();
        let mut st = conn
            .prepare("SELECT address FROM unknown_addresses WHERE state = 'open' ORDER BY address")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }
}

/// `doveadm fetch` of one field for every message of a folder.
pub fn doveadm(d: &Dovecot, login: &str, args: &[&str]) -> String {
    let out = Command::new("/usr/bin/doveadm")
        .arg("-c")
        .arg(&d.conf)
        .args(args[..1].iter())
        .args(["-u", login])
        .args(&args[1..])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn m6_to_m18_a_mailbox_lands_where_the_rules_say() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "");
    let l = &s.login;
    let known = mail(
        "Jane Doe <jane@acme.example>",
        "alice@us.example",
        "M6 offer",
        "",
        "Hello Alice",
    );
    d.append(l, "INBOX", &known);
    d.append(
        l,
        "INBOX",
        &mail(
            "x@nowhere.example",
            "alice@us.example",
            "M13 stranger in inbox",
            "",
            "?",
        ),
    );
    d.append(
        l,
        "CRM Import",
        &mail(
            "Xavier New <x@nowhere.example>",
            "alice@us.example",
            "M7 stranger filed",
            "",
            "?",
        ),
    );
    d.append(
        l,
        "INBOX",
        &mail(
            "sales@globex.example",
            "alice@us.example",
            "M10 company domain",
            "",
            ".",
        ),
    );
    d.append(
        l,
        "INBOX",
        &mail(
            "shared@roe.example",
            "alice@us.example",
            "M7 ambiguous",
            "",
            ".",
        ),
    );
    d.append(
        l,
        "INBOX",
        &mail(
            "alice@us.example",
            "jane@acme.example, john@globex.example",
            "M11 outgoing",
            "Cc: newbie@acme.example\r\n",
            ".",
        ),
    );
    d.append(
        l,
        "INBOX",
        &mail(
            "bob@us.example",
            "alice@us.example",
            "M12 internal",
            "",
            ".",
        ),
    );
    d.append(
        l,
        "CRM Import",
        &mail(
            "news@shop.example",
            "alice@us.example",
            "M18 newsletter",
            "List-Id: <news.shop.example>\r\n",
            ".",
        ),
    );
    d.append(
        l,
        "CRM Import",
        &mail(
            "y@other.example",
            "alice@us.example",
            "M17 reply",
            &format!("In-Reply-To: <{}>\r\n", message_id(&known)),
            ".",
        ),
    );
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(v["counts"]["imported"], 7, "{v:#}");
    assert_eq!(v["counts"]["skipped"], 2, "{v:#}");

    let a = s.by_subject("M6 offer");
    assert_eq!(
        (
            a["type"].as_str(),
            a["attached_to"]["id"].as_str(),
            a["rep"].as_str()
        ),
        (Some("email_in"), Some("P1"), Some("alice"))
    );
    assert_eq!(a["status"], "I");
    assert_eq!(a["flags"], serde_json::json!([]));

    let a = s.by_subject("M7 stranger filed");
    assert_eq!(
        a["attached_to"]["id"], "P3",
        "the owner's own person record"
    );
    assert_eq!(a["flags"], serde_json::json!(["unknown_sender"]));

    let a = s.by_subject("M10 company domain");
    assert_eq!(
        (
            a["attached_to"]["kind"].as_str(),
            a["attached_to"]["id"].as_str()
        ),
        (Some("company"), Some("C2"))
    );

    let a = s.by_subject("M7 ambiguous");
    assert_eq!(a["attached_to"]["id"], "P3");
    assert_eq!(a["flags"], serde_json::json!(["ambiguous_sender"]));

    let a = s.by_subject("M11 outgoing");
    assert_eq!(
        (a["type"].as_str(), a["attached_to"]["id"].as_str()),
        (Some("email_out"), Some("P1"))
    );
    assert_eq!(
        a["participants"],
        serde_json::json!(["john@globex.example", "newbie@acme.example"])
    );
    assert_eq!(a["flags"], serde_json::json!(["unidentified_recipient"]));
    assert_eq!(
        a["flag_details"],
        serde_json::json!([{"reason": "unidentified_recipient", "address": "newbie@acme.example"}])
    );

    let a = s.by_subject("M18 newsletter");
    assert_eq!(a["flags"], serde_json::json!([]));

    let a = s.by_subject("M17 reply");
    assert_eq!(a["attached_to"]["id"], "P1");

    // The queue: unknown senders and recipients, never the newsletter (M18).
    assert_eq!(
        s.queue(),
        vec![
            "newbie@acme.example",
            "sales@globex.example",
            "shared@roe.example",
            "x@nowhere.example",
            "y@other.example"
        ]
    );

    // M16: imported messages carry the keyword; skipped ones do not.
    let flags = doveadm(d, l, &["fetch", "flags hdr.subject", "mailbox", "INBOX"]);
    for block in flags.split("flags:").skip(1) {
        let imported = !(block.contains("M13 stranger") || block.contains("M12 internal"));
        assert_eq!(block.contains("$CRMImported"), imported, "{block}");
        assert!(
            !block.contains("\\Seen"),
            "import must not set \\Seen: {block}"
        );
    }

    // X4/M3: a second run imports nothing and changes nothing.
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["counts"]["imported"], 0, "{v:#}");
    assert_eq!(s.report().len(), 7);
}

#[test]
fn m2_status_folder_and_m16_archive_move() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "archive_folder = \"CRM Archive\"\n");
    let l = &s.login;
    d.create_folder(l, "CRM Done [E]");
    d.append(
        l,
        "CRM Done [E]",
        &mail(
            "jane@acme.example",
            "alice@us.example",
            "done deal",
            "",
            ".",
        ),
    );
    d.append(
        l,
        "INBOX",
        &mail(
            "jane@acme.example",
            "alice@us.example",
            "to archive",
            "",
            ".",
        ),
    );
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(s.by_subject("done deal")["status"], "E");
    assert_eq!(s.by_subject("to archive")["status"], "I");
    let archived = doveadm(d, l, &["fetch", "hdr.subject", "mailbox", "CRM Archive"]);
    assert!(
        archived.contains("done deal") && archived.contains("to archive"),
        "{archived}"
    );
    let inbox = doveadm(d, l, &["fetch", "hdr.subject", "mailbox", "INBOX"]);
    assert!(!inbox.contains("to archive"), "{inbox}");
}

#[test]
fn m4_m5_oversized_mail_drops_attachments_or_is_skipped_and_owner_told_once() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "max_size = \"3KB\"\n");
    let l = &s.login;
    let big_attachment = "QUJD".repeat(1500);
    let with_att = format!(
        "From: jane@acme.example\r\nTo: alice@us.example\r\nSubject: big attachment\r\nMessage-ID: <{}@t>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n\
         --b\r\nContent-Type: application/pdf; name=offer.pdf\r\nContent-Disposition: attachment; filename=offer.pdf\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{big_attachment}\r\n--b--\r\n",
        harness::unique_name("att")
    );
    d.append(l, "INBOX", with_att.as_bytes());
    d.append(
        l,
        "INBOX",
        &mail(
            "jane@acme.example",
            "alice@us.example",
            "big text",
            "",
            &"x".repeat(8000),
        ),
    );
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 3, "a size skip is reported with exit 3: {v} {err}");
    let a = s.by_subject("big attachment");
    assert_eq!(a["attachments"], serde_json::json!([]));
    assert_eq!(a["dropped_attachments"][0]["name"], "offer.pdf");
    assert!(
        a["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "attachments_dropped")
    );
    assert!(s.report().iter().all(|a| a["subject"] != "big text"));
    let skipped = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["reason"] == "too_large")
        .unwrap()
        .clone();
    assert_eq!(skipped["rule"], "M4");
    // M5: one notice per mail in INBOX, not twice.
    std::thread::sleep(Duration::from_millis(200));
    let notices = doveadm(
        d,
        l,
        &[
            "search", "mailbox", "INBOX", "header", "Subject", "crmsync:",
        ],
    );
    assert_eq!(notices.lines().count(), 2, "{notices}");
    s.import(&[]);
    let notices = doveadm(
        d,
        l,
        &[
            "search", "mailbox", "INBOX", "header", "Subject", "crmsync:",
        ],
    );
    assert_eq!(
        notices.lines().count(),
        2,
        "never twice for the same mail: {notices}"
    );
}

#[test]
fn x8_dry_run_writes_nothing_anywhere() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "");
    d.append(
        &s.login,
        "INBOX",
        &mail("jane@acme.example", "alice@us.example", "dry", "", "."),
    );
    let state = s.env.path("state.sqlite");
    let before = std::fs::read(&state).unwrap();
    let (code, v, err) = s.import(&["--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["counts"]["imported"], 1);
    assert_eq!(v["items"][0]["rule"], "M6");
    assert_eq!(
        std::fs::read(&state).unwrap(),
        before,
        "the state file changed"
    );
    let flags = doveadm(d, &s.login, &["fetch", "flags", "mailbox", "INBOX"]);
    assert!(!flags.contains("$CRMImported"), "{flags}");
    assert_eq!(s.report().len(), 0);
}

#[test]
fn x2_wrong_password_blocks_the_mail_account() {
    let Some(d) = harness::dovecot() else { return };
    let mut s = setup(d, "");
    s.pw = "wrong".into();
    let (code, v, _) = s.import(&[]);
    assert_eq!(code, 1, "{v}");
    let err = v["errors"][0].as_str().unwrap();
    assert!(err.contains("crmsync unblock alice-mail"), "{err}");
    let (_, v, _) = s.import(&[]);
    assert!(
        v["errors"][0]
            .as_str()
            .unwrap()
            .contains("is blocked since"),
        "{v}"
    );
}

#[test]
fn m9_owner_without_person_record_imports_nothing() {
    let Some(d) = harness::dovecot() else { return };
    let (login, pw) = d.add_user("m9");
    d.append(
        &login,
        "INBOX",
        &mail("jane@acme.example", "bob@us.example", "for bob", "", "."),
    );
    let env = Env::new(&format!(
        "[[mail.accounts]]\nname = \"bob-mail\"\nuser = \"bob\"\nsource = \"imap\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nlogin = \"{login}\"\npassword_env = \"IMAP_PW\"\n",
        d.port
    ));
    env.load_directory();
    let out = env
        .cmd()
        .env("IMAP_PW", &pw)
        .args(["--json", "import-mail"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = v["errors"][0].as_str().unwrap();
    assert!(
        e.contains("bob") && e.contains("M9") && e.contains("bob@us.example"),
        "{e}"
    );
}

/// What a user and the server show after import-mail, without times: the
/// activities (`report --json`) and every message's UID and flags.
fn dump(d: &Dovecot, s: &Setup, folders: &[&str]) -> String {
    fn clean(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.retain(|k, _| !k.ends_with("_at") || k == "start_at");
                m.values_mut().for_each(clean);
            }
            Value::Array(a) => a.iter_mut().for_each(clean),
            _ => {}
        }
    }
    let mut report = s.env.json(&["report"]);
    clean(&mut report);
    let mut out = serde_json::to_string_pretty(&report).unwrap();
    for f in folders {
        out.push_str(&format!("\n== {f}\n"));
        out.push_str(&doveadm(d, &s.login, &["fetch", "uid flags", "mailbox", f]));
    }
    out
}

/// X5, the CI variant of `scripts/soak`: SIGKILLs at seeded random moments,
/// then a clean run; the result equals one uninterrupted run over a copy of
/// the same mailbox (same UIDs), in full.
#[test]
fn x5_killed_mid_run_then_rerun_loses_nothing_duplicates_nothing() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "");
    let n = 400;
    for i in 0..n {
        d.append(
            &s.login,
            "CRM Import",
            &mail(
                "jane@acme.example",
                "alice@us.example",
                &format!("kill {i}"),
                "",
                "body",
            ),
        );
    }
    // The reference: the same Maildir (UIDs, UIDVALIDITY) as another user,
    // imported without interruption.
    let reference = setup(d, "");
    let src = d.dir.join("mail").join(&s.login);
    let dst = d.dir.join("mail").join(&reference.login);
    let _ = std::fs::remove_dir_all(&dst);
    let cp = Command::new("cp")
        .arg("-a")
        .arg(&src)
        .arg(&dst)
        .status()
        .unwrap();
    assert!(cp.success());
    let (code, v, err) = reference.import(&[]);
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(reference.report().len(), n);
    let want = dump(d, &reference, &["INBOX", "CRM Import"]);
    // Kill moments from a fixed seed (xorshift), 20 to 300 ms.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..5 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = 20 + seed % 280;
        let mut child = s
            .env
            .cmd()
            .env("IMAP_PW", &s.pw)
            .args(["import-mail"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{v} {err}");
    let report = s.report();
    assert_eq!(report.len(), n, "every mail exactly once");
    let mut subjects: Vec<&str> = report
        .iter()
        .map(|a| a["subject"].as_str().unwrap())
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), n, "no duplicates");
    // Every imported message got its keyword, also those committed just before a kill.
    let flags = doveadm(d, &s.login, &["fetch", "flags", "mailbox", "CRM Import"]);
    assert_eq!(flags.matches("$CRMImported").count(), n);
    // And in full: as if never interrupted.
    let got = dump(d, &s, &["INBOX", "CRM Import"]);
    assert!(got == want, "differs from the uninterrupted run");
}

#[test]
fn w6_maildir_account_runs_unattended_without_server() {
    let env = Env::new(&format!(
        "[[mail.accounts]]\nname = \"local\"\nuser = \"alice\"\nsource = \"maildir\"\npath = \"{}\"\nfolders = [\"INBOX\"]\nscan_all = true\n",
        env!("CARGO_MANIFEST_DIR").to_string() + "/tests/e2e/data/maildir"
    ));
    env.load_directory();
    let (code, out, err) = env.run(&["--json", "import-mail"]);
    assert!(code == 0 || code == 3, "{out} {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["counts"]["imported"].as_u64().unwrap() >= 1, "{v:#}");
    // Nothing written into the Maildir, and a second run imports nothing.
    let (_, out, _) = env.run(&["--json", "import-mail"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["counts"]["imported"], 0);
}

#[test]
fn m3_same_mail_in_two_mailboxes_is_one_activity_with_both_owners() {
    let Some(d) = harness::dovecot() else { return };
    let (alice, alice_pw) = d.add_user("m3a");
    let (bob, bob_pw) = d.add_user("m3b");
    let shared = mail(
        "jane@acme.example",
        "alice@us.example, bob@us.example",
        "to both",
        "",
        ".",
    );
    d.append(&alice, "INBOX", &shared);
    d.append(&bob, "INBOX", &shared);
    let acct = |name: &str, user: &str, login: &str, var: &str| {
        format!(
            "[[mail.accounts]]\nname = \"{name}\"\nuser = \"{user}\"\nsource = \"imap\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nlogin = \"{login}\"\npassword_env = \"{var}\"\n",
            d.port
        )
    };
    let env = Env::new(&(acct("a", "alice", &alice, "PW_A") + &acct("b", "bob", &bob, "PW_B")));
    env.load_directory();
    // bob needs a person record (M9).
    let p = env.write(
        "bob.csv",
        "id,first_name,last_name,emails\nP9,Bob,Builder,bob@us.example\n",
    );
    assert_eq!(
        env.run(&["crm", "import", p.to_str().unwrap(), "--kind", "persons"])
            .0,
        0
    );
    let out = env
        .cmd()
        .env("PW_A", &alice_pw)
        .env("PW_B", &bob_pw)
        .args(["--json", "import-mail"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(
        (
            v["counts"]["imported"].as_u64(),
            v["counts"]["updated"].as_u64()
        ),
        (Some(1), Some(1)),
        "{v:#}"
    );
    let report = env.json(&["report"]);
    let acts = report["activities"].as_array().unwrap();
    assert_eq!(acts.len(), 1);
    assert_eq!(acts[0]["attached_to"]["id"], "P1");
    assert!(
        acts[0]["participants"]
            .as_array()
            .unwrap()
            .contains(&Value::from("bob@us.example")),
        "{}",
        acts[0]
    );
}

#[test]
fn m3_uidvalidity_change_rescans_without_duplicates_or_losses() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "");
    let mails: Vec<Vec<u8>> = (0..5)
        .map(|i| {
            mail(
                "jane@acme.example",
                "alice@us.example",
                &format!("uv {i}"),
                "",
                ".",
            )
        })
        .collect();
    for m in &mails {
        d.append(&s.login, "CRM Import", m);
    }
    assert_eq!(s.import(&[]).1["counts"]["imported"], 5);
    // Recreate the folder with the same mails plus one: a new UIDVALIDITY.
    let before = d.uid_validity(&s.login, "CRM Import");
    d.delete_folder(&s.login, "CRM Import");
    d.create_folder(&s.login, "CRM Import");
    // The new mail first: it gets UID 1, a UID the old validity had
    // imported; it must not be taken as seen (it would be lost).
    d.append(
        &s.login,
        "CRM Import",
        &mail("jane@acme.example", "alice@us.example", "uv new", "", "."),
    );
    for m in &mails {
        d.append(&s.login, "CRM Import", m);
    }
    assert_ne!(d.uid_validity(&s.login, "CRM Import"), before);
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("changed its UIDVALIDITY"), "{err}");
    assert_eq!(v["counts"]["imported"], 1, "{v:#}");
    assert_eq!(v["counts"]["skipped"], 5, "{v:#}");
    assert_eq!(s.report().len(), 6);
}

#[test]
fn m19_privacy_headers_imports_no_body_and_no_attachments() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "privacy = \"headers\"\n");
    d.append(
        &s.login,
        "INBOX",
        &mail(
            "jane@acme.example",
            "alice@us.example",
            "private",
            "",
            "secret body text",
        ),
    );
    assert_eq!(s.import(&[]).1["counts"]["imported"], 1);
    let conn = rusqlite::Connection::open(s.env.path("state.sqlite")).unwrap();
    let (body, raw): (Option<String>, Option<String>) = conn
        .query_row(
            "SELECT body, raw_sha256 FROM activities WHERE subject = 'private'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(body, None);
    let stored: Vec<u8> = match raw {
        Some(sha) => conn
            .query_row("SELECT data FROM blobs WHERE sha256 = ?1", [sha], |r| {
                r.get(0)
            })
            .unwrap(),
        None => Vec::new(),
    };
    assert!(
        !String::from_utf8_lossy(&stored).contains("secret body text"),
        "the body must not be stored"
    );
}

#[test]
fn x9_explain_names_the_rule_and_the_matches() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "");
    let m = mail(
        "sales@globex.example",
        "alice@us.example",
        "explain me",
        "",
        ".",
    );
    d.append(&s.login, "INBOX", &m);
    s.import(&[]);
    let v = s.env.json(&["explain", &format!("<{}>", message_id(&m))]);
    assert_eq!(v["rule"], "M10");
    let why = v["explain"].as_array().unwrap();
    assert!(
        why.iter()
            .any(|l| l.as_str().unwrap().contains("sales@globex.example")),
        "{v}"
    );
    let id = v["activity"]["id"].as_i64().unwrap();
    let (code, out, _) = s.env.run(&["explain", &id.to_string()]);
    assert_eq!(code, 0);
    assert!(out.contains("M10"), "{out}");
    let (code, _, err) = s.env.run(&["explain", "<nope@nowhere>"]);
    assert_eq!(code, 2);
    assert!(err.contains("was not imported"), "{err}");
}
