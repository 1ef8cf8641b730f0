//! Issue 15, mail half: `crmsync import-mail` against Dovecot with mail
//! nobody here wrote the rules for: threads whose mails arrive in one run
//! (M17), and the public interop corpus of tests/data/interop/mail.

use crmsync::address::is_automated_local;
use crmsync::matching::{AddressMatch, PersonMatch};
use crmsync::model::Rule;
use crmsync::parse::mail as mailparse;
use crmsync::plan::mail as plan;
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
    /// `import-mail --json` and its summary; the run must exit 0.
    fn import(&self, args: &[&str]) -> Value {
        self.import_exit(args, 0)
    }

    /// `import-mail --json` and its summary; the run must exit `code`.
    fn import_exit(&self, args: &[&str], code: i32) -> Value {
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
            Some(code),
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

/// The corpus: public mails of other mail libraries' test suites
/// (tests/data/interop/README.md).
fn corpus_mails() -> Vec<(String, Vec<u8>)> {
    crate::interop_calendar::corpus("mail", "eml")
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

const OWNER: &str = "alice@us.example";

/// A MIME entity without any header field of a message (RFC 5322 3.6:
/// From and Date are required): a body part, not a mail. crmsync refuses
/// it by name; checked here on the bytes, independently of the parser.
fn is_no_mail(raw: &[u8]) -> bool {
    const FIELDS: &[&str] = &[
        "from:",
        "sender:",
        "to:",
        "cc:",
        "bcc:",
        "date:",
        "subject:",
        "message-id:",
        "in-reply-to:",
        "references:",
        "reply-to:",
        "mime-version:",
    ];
    String::from_utf8_lossy(raw)
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .all(|l| {
            let l = l.to_ascii_lowercase();
            !FIELDS.iter().any(|f| l.starts_with(f))
        })
}

/// Every address a stranger (as in a fresh CRM), the owner an internal user.
fn stranger(a: &mailparse::Address) -> plan::Party {
    plan::Party {
        display_name: a.name.clone(),
        m: AddressMatch {
            address: a.address.clone(),
            person: PersonMatch::Unknown,
            company: None,
            ignored: false,
            user: (a.address == OWNER).then(|| "alice".to_string()),
            own_domain: a.address.ends_with("@us.example"),
            free_mail: false,
            automated: is_automated_local(&a.address),
        },
    }
}

#[test]
fn m12_m13_corpus_mail_parses_and_plans_with_true_reasons() {
    let owner = plan::Owner {
        login: "alice".into(),
        person_id: 1,
        addresses: vec![OWNER.into()],
    };
    let settings = plan::Settings {
        max_size: u64::MAX,
        warn_owner: false,
        scan_all: false,
        import_internal: false,
        headers_only: false,
    };
    let mut wrong = Vec::new();
    for (name, raw) in corpus_mails() {
        // Never a panic; a file that is no mail is named with the reason.
        let mail = match mailparse::parse(&raw) {
            Ok(m) => m,
            Err(e) => {
                if !is_no_mail(&raw) {
                    wrong.push(format!("{name}: not parsed: {e}"));
                }
                continue;
            }
        };
        assert!(
            !mail.subject.contains('\u{fffd}'),
            "{name}: subject not decoded: {:?}",
            mail.subject
        );
        let input = plan::MailInput {
            from: mail.from.as_ref().map(stranger),
            to: mail.to.iter().map(stranger).collect(),
            cc: mail.cc.iter().map(stranger).collect(),
            automated: mail.automated,
            raw_size: mail.raw_size,
            text_size: mail.text_size,
            attachment_count: mail.attachments.len(),
        };
        let parties: Vec<&plan::Party> = input
            .from
            .iter()
            .chain(&input.to)
            .chain(&input.cc)
            .collect();
        let internal_only = !parties.is_empty() && parties.iter().all(|p| p.m.address == OWNER);
        for import_folder in [true, false] {
            let folder = plan::Folder {
                status: None,
                import_folder,
            };
            let action = plan::plan(&input, &owner, &folder, &settings, &plan::Known::default());
            // The reason each outcome needs, checked against the mail itself.
            let truth = match &action {
                plan::MailAction::Skip(s) => match (s.rule, s.reason) {
                    (Rule::M12, "internal") => internal_only,
                    (Rule::M13, "no_address") => parties.is_empty() && !import_folder,
                    (Rule::M13, "no_known_party") => {
                        !parties.is_empty() && !import_folder && !internal_only
                    }
                    _ => false,
                },
                plan::MailAction::Import(p) => {
                    import_folder
                        && !internal_only
                        && match p.rule {
                            Rule::M7 => input.from.as_ref().is_none_or(|f| f.m.address != OWNER),
                            Rule::M11 => input.from.as_ref().is_some_and(|f| f.m.address == OWNER),
                            _ => false,
                        }
                }
                plan::MailAction::AddOwner { .. } => false,
            };
            if !truth {
                wrong.push(format!(
                    "{name} (import folder: {import_folder}): {action:?} for parties {:?}",
                    parties.iter().map(|p| &p.m.address).collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn m13_corpus_mail_imports_into_dovecot_and_a_second_run_writes_nothing() {
    let Some(d) = harness::dovecot() else { return };
    let f = filed(d);
    let mails = corpus_mails();
    for (_, raw) in &mails {
        d.append(&f.login, FOLDER, raw);
    }
    // X7: items that could not be imported make the run exit 3.
    let failed = mails.iter().filter(|(_, raw)| is_no_mail(raw)).count();
    let code = if failed > 0 { 3 } else { 0 };
    let v = f.import_exit(&[], code);
    let mut items: Vec<&Value> = v["items"].as_array().unwrap().iter().collect();
    let uid = |i: &Value| -> u64 {
        i["id"]
            .as_str()
            .and_then(|id| id.rsplit('/').next())
            .and_then(|u| u.parse().ok())
            .unwrap_or(0)
    };
    items.sort_by_key(|i| uid(i));
    assert_eq!(items.len(), mails.len(), "{v:#}");
    // An import folder imports every mail (M13); a body part without any
    // message header is refused by name, and stays in the mailbox.
    for ((name, raw), item) in mails.iter().zip(&items) {
        let want = if is_no_mail(raw) {
            "failed"
        } else {
            "imported"
        };
        assert_eq!(item["action"], want, "{name}: {item:#}");
        if want == "failed" {
            let reason = item["reason"].as_str().unwrap_or_default();
            assert!(reason.contains("not a mail"), "{name}: {reason}");
        }
    }
    let imported = f.activities().len();
    assert_eq!(v["counts"]["imported"], imported, "{v:#}");
    // A second run writes nothing (the refused ones were recorded as such).
    let v = f.import(&[]);
    assert_eq!(v["items"], serde_json::json!([]), "{v:#}");
    assert_eq!(f.activities().len(), imported);
}
