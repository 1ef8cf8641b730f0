//! Issue 15, mail half: `crmsync import-mail` against Dovecot with mail
//! nobody here wrote the rules for: threads whose mails arrive in one run
//! (M17), and the public interop corpus of tests/data/interop/mail.

use serde_json::Value;

use crate::cli::Env;
use crate::harness::{self, Dovecot};

/// alice's mailbox with one import folder (M13: everything imports) and
/// the CRM directory of `Env::load_directory`.
struct Filed {
    env: Env,
    login: String,
    pw: String,
}

const FOLDER: &str = "CRM Filed";

fn filed(d: &Dovecot) -> Filed {
    let (login, pw) = d.add_user("interop");
    d.create_folder(&login, FOLDER);
    let env = Env::new(&format!(
        "[[mail.accounts]]\nname = \"alice-mail\"\nuser = \"alice\"\nsource = \"imap\"\n\
         host = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nlogin = \"{login}\"\n\
         password_env = \"IMAP_PW\"\nfolders = [\"{FOLDER}\"]\nimport_parent = \"\"\n",
        d.port
    ));
    env.load_directory();
    Filed { env, login, pw }
}

impl Filed {
    /// `import-mail --json` and its summary.
    fn import(&self, args: &[&str]) -> Value {
        let out = self
            .env
            .cmd()
            .env("IMAP_PW", &self.pw)
            .args(["--json", "import-mail"])
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
    }

    fn activities(&self) -> Vec<Value> {
        self.env.json(&["report"])["activities"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn mail(from: &str, subject: &str, id: &str, thread: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: alice@us.example\r\nSubject: {subject}\r\n\
         Date: Fri, 20 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{id}>\r\n{thread}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{subject}\r\n"
    )
    .into_bytes()
}

#[test]
fn m17_a_thread_whose_mails_arrive_in_one_run_stays_together() {
    let Some(d) = harness::dovecot() else { return };
    let f = filed(d);
    let original = harness::unique_name("orig") + "@acme.example";
    let reply = harness::unique_name("re") + "@other.example";
    let again = harness::unique_name("rere") + "@third.example";
    // A first import: the whole thread is new, and (as after a move between
    // folders) the answer to the answer has the lowest UID.
    d.append(
        &f.login,
        FOLDER,
        &mail(
            "z@third.example",
            "M17 re re offer",
            &again,
            &format!("In-Reply-To: <{reply}>\r\nReferences: <{original}> <{reply}>\r\n"),
        ),
    );
    d.append(
        &f.login,
        FOLDER,
        &mail("Jane Doe <jane@acme.example>", "M17 offer", &original, ""),
    );
    d.append(
        &f.login,
        FOLDER,
        &mail(
            "y@other.example",
            "M17 re offer",
            &reply,
            &format!("In-Reply-To: <{original}>\r\nReferences: <{original}>\r\n"),
        ),
    );
    // The plan of a dry run already threads them (nothing is committed).
    let dry = f.import(&["--dry-run"]);
    let rules: Vec<&str> = dry["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["rule"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(rules, ["M17", "M6", "M17"], "{dry:#}");

    let v = f.import(&[]);
    assert_eq!(v["counts"]["imported"], 3, "{v:#}");
    let all = f.activities();
    for subject in ["M17 offer", "M17 re offer", "M17 re re offer"] {
        let a = all
            .iter()
            .find(|a| a["subject"] == subject)
            .unwrap_or_else(|| panic!("no activity `{subject}` in {all:#?}"));
        assert_eq!(a["attached_to"]["id"], "P1", "{subject}: {a:#}");
    }
    // The unknown senders are still flagged (M17 keeps the M7 flags).
    let re = all.iter().find(|a| a["subject"] == "M17 re offer").unwrap();
    assert_eq!(re["flags"], serde_json::json!(["unknown_sender"]));
    // A second run writes nothing.
    let v = f.import(&[]);
    assert_eq!(v["counts"]["imported"], 0, "{v:#}");
    assert_eq!(f.activities().len(), 3);
}
