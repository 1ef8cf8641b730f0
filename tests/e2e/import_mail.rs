//! `crmsync import-mail` end to end (SPEC 2): what a user sees afterwards:
//! the activities in `report --json`, their flags, the unknown queue, the
//! keyword and archive folder on the server, the notice in the owner's
//! INBOX; plus X2, X4, X5 and X8.
//!
//! The server matrix (issue 15): every scenario that talks to an IMAP
//! server is written once against [`ImapServer`] and runs as
//! `<scenario>::dovecot`, `<scenario>::cyrus_classic` and
//! `<scenario>::cyrus_alt` (see the `servers!` macro). Folder names in a
//! scenario are the server's own ([`ImapServer::folder`]): `CRM Import` on
//! Dovecot and Cyrus alt, `INBOX.CRM Import` on Cyrus classic, configured
//! as the server lists them. Expected differences between the servers: see
//! the table of docs/SERVERS.md (none of these scenarios needs one).

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::cli::Env;
use crate::faultproxy::{Dir, Fault, FaultProxy};
use crate::harness::{self, ImapServer};

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
    /// The import folder as the server names it (`CRM Import`, or
    /// `INBOX.CRM Import` on Cyrus classic).
    pub import: String,
}

/// alice's mailbox with an account `alice-mail` importing INBOX and `CRM
/// Import` (spelt as the server lists it).
pub fn setup(srv: &dyn ImapServer, extra_mail: &str) -> Setup {
    setup_at(srv, extra_mail, srv.port())
}

/// [`setup`] with the account pointed at `port` (a fault proxy in front of
/// the server).
pub fn setup_at(srv: &dyn ImapServer, extra_mail: &str, port: u16) -> Setup {
    let (login, pw) = srv.add_user("imp");
    let import = srv.folder("CRM Import");
    srv.create_folder(&login, &import);
    let env = Env::new(&format!(
        "[mail]\nkeyword = \"$CRMImported\"\n{extra_mail}\n\
         [[mail.accounts]]\nname = \"alice-mail\"\nuser = \"alice\"\nsource = \"imap\"\nhost = \"127.0.0.1\"\nport = {port}\n\
         tls = \"none\"\nlogin = \"{login}\"\npassword_env = \"IMAP_PW\"\nfolders = [\"INBOX\", \"{import}\"]\nimport_parent = \"\"\n"
    ));
    env.load_directory();
    Setup {
        env,
        login,
        pw,
        import,
    }
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
pub fn doveadm(d: &harness::Dovecot, login: &str, args: &[&str]) -> String {
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

/// Each scenario as `<scenario>::dovecot`, `::cyrus_classic` and
/// `::cyrus_alt` (issue 15). A server that cannot start skips its variant
/// (fails with `CI=true`; see the harness). A failing Cyrus variant shows
/// the tail of Cyrus's log.
macro_rules! servers {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn dovecot() {
                if let Some(srv) = crate::harness::dovecot() {
                    super::$name(srv);
                }
            }
            #[test]
            fn cyrus_classic() {
                if let Some(srv) = crate::harness::cyrus_classic() {
                    let _log = srv.log_on_panic();
                    super::$name(srv);
                }
            }
            #[test]
            fn cyrus_alt() {
                if let Some(srv) = crate::harness::cyrus_alt() {
                    let _log = srv.log_on_panic();
                    super::$name(srv);
                }
            }
        }
    )*};
}

servers!(
    m6_to_m18_a_mailbox_lands_where_the_rules_say,
    m2_status_folder_and_m16_archive_move,
    m4_m5_oversized_mail_drops_attachments_or_is_skipped_and_owner_told_once,
    x8_dry_run_writes_nothing_anywhere,
    x2_wrong_password_blocks_the_mail_account,
    m9_owner_without_person_record_imports_nothing,
    x5_killed_mid_run_then_rerun_loses_nothing_duplicates_nothing,
    m3_same_mail_in_two_mailboxes_is_one_activity_with_both_owners,
    m3_uidvalidity_change_rescans_without_duplicates_or_losses,
    m19_privacy_headers_imports_no_body_and_no_attachments,
    x9_explain_names_the_rule_and_the_matches,
);

/// Subjects of the messages in a folder that carry `flag`.
fn flagged(srv: &dyn ImapServer, login: &str, folder: &str, flag: &str) -> Vec<String> {
    srv.messages(login, folder)
        .into_iter()
        .filter(|m| m.flags.iter().any(|f| f == flag))
        .map(|m| m.subject)
        .collect()
}

fn m6_to_m18_a_mailbox_lands_where_the_rules_say(d: &dyn ImapServer) {
    let s = setup(d, "");
    let l = &s.login;
    let imp = s.import.as_str();
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
        imp,
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
        imp,
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
        imp,
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
    let inbox = d.messages(l, "INBOX");
    assert_eq!(inbox.len(), 6);
    for m in &inbox {
        let imported = !(m.subject.contains("M13 stranger") || m.subject.contains("M12 internal"));
        assert_eq!(
            m.flags.iter().any(|f| f == "$CRMImported"),
            imported,
            "{m:?}"
        );
        assert!(
            !m.flags.iter().any(|f| f == "\\Seen"),
            "import must not set \\Seen: {m:?}"
        );
    }

    // X4/M3: a second run imports nothing and changes nothing.
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["counts"]["imported"], 0, "{v:#}");
    assert_eq!(s.report().len(), 7);
}

fn m2_status_folder_and_m16_archive_move(d: &dyn ImapServer) {
    let s = setup(d, "archive_folder = \"CRM Archive\"\n");
    let l = &s.login;
    let done = d.folder("CRM Done [E]");
    d.create_folder(l, &done);
    d.append(
        l,
        &done,
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
    // The archive is made in the personal namespace (`INBOX.CRM Archive`
    // on Cyrus classic, where a top-level name is a shared folder).
    let archived: Vec<String> = d
        .messages(l, &d.folder("CRM Archive"))
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert!(
        archived.iter().any(|x| x == "done deal") && archived.iter().any(|x| x == "to archive"),
        "{archived:?}"
    );
    let inbox = d.messages(l, "INBOX");
    assert!(inbox.iter().all(|m| m.subject != "to archive"), "{inbox:?}");
}

fn m4_m5_oversized_mail_drops_attachments_or_is_skipped_and_owner_told_once(d: &dyn ImapServer) {
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
    let notices = |d: &dyn ImapServer| {
        d.messages(l, "INBOX")
            .into_iter()
            .filter(|m| m.subject.starts_with("crmsync:"))
            .count()
    };
    assert_eq!(notices(d), 2);
    s.import(&[]);
    assert_eq!(notices(d), 2, "never twice for the same mail");
}

fn x8_dry_run_writes_nothing_anywhere(d: &dyn ImapServer) {
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
    let marked = flagged(d, &s.login, "INBOX", "$CRMImported");
    assert!(marked.is_empty(), "{marked:?}");
    assert_eq!(s.report().len(), 0);
}

fn x2_wrong_password_blocks_the_mail_account(d: &dyn ImapServer) {
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

fn m9_owner_without_person_record_imports_nothing(d: &dyn ImapServer) {
    let (login, pw) = d.add_user("m9");
    d.append(
        &login,
        "INBOX",
        &mail("jane@acme.example", "bob@us.example", "for bob", "", "."),
    );
    let env = Env::new(&format!(
        "[[mail.accounts]]\nname = \"bob-mail\"\nuser = \"bob\"\nsource = \"imap\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nlogin = \"{login}\"\npassword_env = \"IMAP_PW\"\n",
        d.port()
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
fn dump(d: &dyn ImapServer, s: &Setup, folders: &[&str]) -> String {
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
        for m in d.messages(&s.login, f) {
            let mut flags = m.flags.clone();
            flags.sort();
            out.push_str(&format!("{} {}\n", m.uid, flags.join(" ")));
        }
    }
    out
}

/// X5, the CI variant of `scripts/soak`: SIGKILLs at seeded random moments,
/// then a clean run; the result equals one uninterrupted run over a twin of
/// the same mailbox (the same mails appended in the same order: same UIDs),
/// in full.
fn x5_killed_mid_run_then_rerun_loses_nothing_duplicates_nothing(d: &dyn ImapServer) {
    let s = setup(d, "");
    // The reference: a twin mailbox imported without interruption.
    let reference = setup(d, "");
    let n = 400;
    for i in 0..n {
        let m = mail(
            "jane@acme.example",
            "alice@us.example",
            &format!("kill {i}"),
            "",
            "body",
        );
        d.append(&s.login, &s.import, &m);
        d.append(&reference.login, &reference.import, &m);
    }
    let (code, v, err) = reference.import(&[]);
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(reference.report().len(), n);
    let want = dump(d, &reference, &["INBOX", &reference.import]);
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
    assert_eq!(flagged(d, &s.login, &s.import, "$CRMImported").len(), n);
    // And in full: as if never interrupted.
    let got = dump(d, &s, &["INBOX", &s.import]);
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

fn m3_same_mail_in_two_mailboxes_is_one_activity_with_both_owners(d: &dyn ImapServer) {
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
            d.port()
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

fn m3_uidvalidity_change_rescans_without_duplicates_or_losses(d: &dyn ImapServer) {
    let s = setup(d, "");
    let imp = s.import.as_str();
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
        d.append(&s.login, imp, m);
    }
    assert_eq!(s.import(&[]).1["counts"]["imported"], 5);
    // Recreate the folder with the same mails plus one: a new UIDVALIDITY.
    let before = d.uid_validity(&s.login, imp);
    d.delete_folder(&s.login, imp);
    d.create_folder(&s.login, imp);
    // The new mail first: it gets UID 1, a UID the old validity had
    // imported; it must not be taken as seen (it would be lost).
    d.append(
        &s.login,
        imp,
        &mail("jane@acme.example", "alice@us.example", "uv new", "", "."),
    );
    for m in &mails {
        d.append(&s.login, imp, m);
    }
    assert_ne!(d.uid_validity(&s.login, imp), before);
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{err}");
    // Named as the server lists it (M20).
    assert!(
        err.contains(&format!("folder `{imp}` changed its UIDVALIDITY")),
        "{err}"
    );
    assert_eq!(v["counts"]["imported"], 1, "{v:#}");
    assert_eq!(v["counts"]["skipped"], 5, "{v:#}");
    assert_eq!(s.report().len(), 6);
}

fn m19_privacy_headers_imports_no_body_and_no_attachments(d: &dyn ImapServer) {
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

fn x9_explain_names_the_rule_and_the_matches(d: &dyn ImapServer) {
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

// -- Folder names and namespaces (issue 15) ---------------------------------

servers!(
    m20_config_folder_names_as_the_server_lists_them_or_with_slashes,
    m13_import_folders_below_inbox_import_everything_and_inbox_stays_alone,
    m21_a_folder_name_that_is_not_modified_utf7_is_skipped_with_a_warning,
);

/// `setup` with `folders` replaced (names as written in the config).
fn with_folders(s: &Setup, folders: &[&str]) {
    let cfg = std::fs::read_to_string(&s.env.config).unwrap();
    let list: Vec<String> = folders.iter().map(|f| format!("{f:?}")).collect();
    let old = format!("folders = [\"INBOX\", {:?}]", s.import);
    assert!(cfg.contains(&old), "{cfg}");
    let cfg = cfg.replace(&old, &format!("folders = [{}]", list.join(", ")));
    std::fs::write(&s.env.config, cfg).unwrap();
}

/// M20 (RFC 2342): a configured folder is found whether written as the
/// server lists it (`INBOX.CRM Import` on Cyrus classic), with `/` between
/// levels (`INBOX/CRM Import`) or below the personal namespace as mail
/// clients show it (`CRM Import`); a missing one is named, and the folders
/// the server has are shown as the server lists them.
fn m20_config_folder_names_as_the_server_lists_them_or_with_slashes(d: &dyn ImapServer) {
    let listed = d.folder("CRM Import/Kunden");
    let slashed = format!("{}/Kunden", d.folder("CRM Import").replace('.', "/"));
    for (n, form) in [listed.as_str(), slashed.as_str(), "CRM Import/Kunden"]
        .into_iter()
        .enumerate()
    {
        let s = setup(d, "");
        d.append(
            &s.login,
            &listed,
            &mail(
                "x@nowhere.example",
                "alice@us.example",
                &format!("filed {n}"),
                "",
                ".",
            ),
        );
        with_folders(&s, &[form]);
        let (code, v, err) = s.import(&[]);
        assert_eq!(code, 0, "folders = [{form:?}]: {v} {err}");
        assert_eq!(v["counts"]["imported"], 1, "folders = [{form:?}]: {v:#}");
    }
    // A folder that does not exist: named as configured, and the server's
    // folders as it lists them (`INBOX.CRM Import`, not `INBOX/CRM Import`).
    let s = setup(d, "");
    let nope = d.folder("Nope");
    with_folders(&s, &[&nope]);
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 1, "{v} {err}");
    let e = v["errors"][0].as_str().unwrap();
    assert!(e.contains(&format!("folder `{nope}`")), "{e}");
    assert!(e.contains("does not exist"), "{e}");
    assert!(e.contains(&s.import), "the server's spelling: {e}");
    if s.import.contains('.') {
        assert!(!e.contains("INBOX/"), "{e}");
    }
}

/// M13 with the namespace: an import folder is one users fill on purpose,
/// wherever the server keeps it. On Cyrus classic every folder is below
/// INBOX (`INBOX.CRM Import`); those are the user's folders, not INBOX's
/// sub-folders: a configured one imports everything, and configuring INBOX
/// does not pull them in (M1).
fn m13_import_folders_below_inbox_import_everything_and_inbox_stays_alone(d: &dyn ImapServer) {
    let s = setup(d, "");
    // A stranger filed on purpose: imported (M7, flagged), not M13-skipped.
    d.append(
        &s.login,
        &s.import,
        &mail("x@nowhere.example", "alice@us.example", "filed", "", "."),
    );
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(v["counts"]["imported"], 1, "{v:#}");
    assert_eq!(
        s.by_subject("filed")["flags"],
        serde_json::json!(["unknown_sender"])
    );
    // Only INBOX configured: its mail, nothing from the user's other folders.
    let s = setup(d, "");
    with_folders(&s, &["INBOX"]);
    let junk = d.folder("Junk");
    d.append(
        &s.login,
        &junk,
        &mail("jane@acme.example", "alice@us.example", "in junk", "", "."),
    );
    d.append(
        &s.login,
        "INBOX",
        &mail("jane@acme.example", "alice@us.example", "in inbox", "", "."),
    );
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{v} {err}");
    let subjects: Vec<Value> = s.report().iter().map(|a| a["subject"].clone()).collect();
    assert_eq!(subjects, vec![Value::from("in inbox")], "{v:#}");
}

/// M21: a LIST entry whose name is not modified UTF-7 (here: raw Latin-1
/// bytes, as legacy servers and migrated mailboxes send them; the real
/// server's LIST line is rewritten by the fault proxy, since Dovecot and
/// Cyrus refuse to create such names) is named in a warning and skipped;
/// INBOX and the other folders are imported, and the run says it is partial.
fn m21_a_folder_name_that_is_not_modified_utf7_is_skipped_with_a_warning(d: &dyn ImapServer) {
    let proxy = FaultProxy::start(d.port());
    let s = setup_at(d, "", proxy.port);
    let legacy = d.folder("CRM Import/Legacy Cafe");
    for (folder, subject) in [
        ("INBOX", "in inbox"),
        (s.import.as_str(), "filed"),
        (legacy.as_str(), "in legacy"),
    ] {
        d.append(
            &s.login,
            folder,
            &mail("jane@acme.example", "alice@us.example", subject, "", "."),
        );
    }
    proxy.set(Fault::rewrite(Dir::Down, b"Legacy Cafe", b"Legacy Caf\xe9"));
    let (code, v, err) = s.import(&[]);
    assert!(proxy.injected() > 0, "the proxy never saw the LIST line");
    assert_eq!(code, 3, "partial: one folder skipped: {v} {err}");
    let mut subjects: Vec<String> = s
        .report()
        .iter()
        .map(|a| a["subject"].as_str().unwrap().to_string())
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["filed", "in inbox"], "{v:#}");
    let bad = legacy.replace("Cafe", "Caf\\xE9");
    let warning = v["warnings"][0].as_str().unwrap_or_default();
    assert!(warning.contains(&format!("`{bad}`")), "{v:#}");
    assert!(warning.contains("M21"), "{warning}");
    assert!(err.contains(&bad), "{err}");
}
