//! `crmsync resolve-unknown` end to end against Dovecot (SPEC 3): a mailbox
//! with unknown and ambiguous senders and unidentified recipients is
//! imported, then every action of U2 is taken, unattended (U4) and through
//! a real pseudo-terminal; each test shows an activity before and after
//! (U3: where it is attached, its participants, its flags, the queue
//! state) and the audit trail (U5).

use serde_json::{Value, json};

use crate::harness::{self, Dovecot};
use crate::import_mail::{Setup, mail, setup};
use crate::pty::Pty;

/// Imports a mailbox with everything the queue can hold (M7, M8, M10):
///
/// | subject     | from                  | queued                                  |
/// |-------------|-----------------------|-----------------------------------------|
/// | u stranger  | Xavier New <x@nowhere>| x@nowhere.example (unknown sender)      |
/// | u ambiguous | shared@roe.example    | shared@roe.example (P4 and P5 carry it) |
/// | u outgoing  | alice, Cc Nina Neu    | nina@acme.example (recipient, C1's domain) |
/// | u hooli     | Gavin Belson          | gavin@hooli.example                     |
/// | u initech   | sales@initech.example | sales@initech.example                   |
/// | u spam 1    | promo@spam.example    | promo@spam.example                      |
/// | u spam 2    | deals@spam.example, To x@nowhere | deals@spam.example, x@nowhere.example |
fn scenario(d: &Dovecot) -> Setup {
    let s = setup(d, "");
    let l = &s.login;
    let put = |folder: &str, from: &str, to: &str, subject: &str, extra: &str| {
        d.append(l, folder, &mail(from, to, subject, extra, "."));
    };
    put(
        "CRM Import",
        "Xavier New <x@nowhere.example>",
        "alice@us.example",
        "u stranger",
        "",
    );
    put(
        "INBOX",
        "shared@roe.example",
        "alice@us.example",
        "u ambiguous",
        "",
    );
    put(
        "INBOX",
        "alice@us.example",
        "jane@acme.example",
        "u outgoing",
        "Cc: Nina Neu <nina@acme.example>\r\n",
    );
    put(
        "CRM Import",
        "Gavin Belson <gavin@hooli.example>",
        "alice@us.example",
        "u hooli",
        "",
    );
    put(
        "CRM Import",
        "sales@initech.example",
        "alice@us.example",
        "u initech",
        "",
    );
    put(
        "CRM Import",
        "promo@spam.example",
        "alice@us.example",
        "u spam 1",
        "",
    );
    put(
        "CRM Import",
        "deals@spam.example",
        "alice@us.example, x@nowhere.example",
        "u spam 2",
        "",
    );
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(v["counts"]["imported"], 7, "{v:#}");
    s
}

/// Runs `crmsync --json resolve-unknown ARGS` as OS user `olivia`.
fn resolve(s: &Setup, args: &[&str]) -> (i32, Value, String) {
    let out = s
        .env
        .cmd()
        .env("USER", "olivia")
        .args(["--json", "resolve-unknown"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_str(&stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What a user sees of an activity: where, who takes part, why flagged.
fn place(s: &Setup, subject: &str) -> Value {
    let a = s.by_subject(subject);
    json!({
        "attached_to": format!("{} {}", a["attached_to"]["kind"].as_str().unwrap(), a["attached_to"]["id"].as_str().unwrap()),
        "participants": a["participants"],
        "flags": a["flag_details"],
    })
}

/// The queue state of an address (`open`, `resolved`, `ignored`).
fn state(s: &Setup, address: &str) -> String {
    let conn = rusqlite::Connection::open(s.env.path("state.sqlite")).unwrap();
    conn.query_row(
        "SELECT state FROM unknown_addresses WHERE address = ?1",
        [address],
        |r| r.get(0),
    )
    .unwrap()
}

/// The person a participant of an activity is identified as, if any.
fn participant_person(s: &Setup, subject: &str, address: &str) -> Option<String> {
    let conn = rusqlite::Connection::open(s.env.path("state.sqlite")).unwrap();
    conn.query_row(
        "SELECT p.ext_id FROM activity_participants ap JOIN activities a ON a.id = ap.activity_id
         LEFT JOIN persons p ON p.id = ap.person_id WHERE a.subject = ?1 AND ap.address = ?2",
        [subject, address],
        |r| r.get(0),
    )
    .unwrap()
}

fn flag(reason: &str, address: &str) -> Value {
    json!({"reason": reason, "address": address})
}

fn load(s: &Setup, kind: &str, csv: &str) {
    let f = s.env.write(&format!("{kind}-more.csv"), csv);
    let (code, _, err) = s
        .env
        .run(&["crm", "import", f.to_str().unwrap(), "--kind", kind]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn u1_list_shows_counts_dates_names_and_suggestions() {
    let Some(d) = harness::dovecot() else { return };
    let s = scenario(d);
    let (code, v, err) = resolve(&s, &["--list"]);
    assert_eq!(code, 0, "{err}");
    let list = v["unknown"].as_array().unwrap();
    let addrs: Vec<&str> = list
        .iter()
        .map(|e| e["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        addrs,
        vec![
            "deals@spam.example",
            "gavin@hooli.example",
            "nina@acme.example",
            "promo@spam.example",
            "sales@initech.example",
            "shared@roe.example",
            "x@nowhere.example"
        ]
    );
    let x = &list[6];
    assert_eq!(x["count"], 2, "sender of one mail, recipient of another");
    assert_eq!(x["display_names"], json!(["Xavier New"]));
    assert_eq!(x["first_seen"], "2026-11-20T10:00:00Z");
    assert_eq!(x["last_seen"], "2026-11-20T10:00:00Z");
    assert_eq!(x["state"], "open");
    assert!(x.get("suggested_company").is_none(), "{x}");
    // M10: a company by domain; persons by display name or, when
    // ambiguous, the persons carrying the address.
    assert_eq!(list[2]["suggested_company"], "C1");
    assert_eq!(list[2]["display_names"], json!(["Nina Neu"]));
    let amb: Vec<&str> = list[5]["suggested_persons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(amb, vec!["P4", "P5"]);

    // Unattended without an action: the same list as a table (W6).
    let (code, out, err) = s.env.run(&["resolve-unknown"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("x@nowhere.example") && out.contains("Acme GmbH (C1)"),
        "{out}"
    );
    assert!(out.contains("7 open unknown address(es)"), "{out}");
}

#[test]
fn u3_assign_moves_activities_and_u5_records_who() {
    let Some(d) = harness::dovecot() else { return };
    let s = scenario(d);
    assert_eq!(
        place(&s, "u stranger"),
        json!({"attached_to": "person P3", "participants": [],
               "flags": [flag("unknown_sender", "x@nowhere.example")]})
    );
    assert_eq!(
        place(&s, "u spam 2"),
        json!({"attached_to": "person P3", "participants": ["x@nowhere.example"],
               "flags": [flag("unidentified_recipient", "x@nowhere.example"), flag("unknown_sender", "deals@spam.example")]})
    );
    assert_eq!(
        place(&s, "u ambiguous"),
        json!({"attached_to": "person P3", "participants": [],
               "flags": [flag("ambiguous_sender", "shared@roe.example")]})
    );

    let (code, v, err) = resolve(
        &s,
        &[
            "--assign",
            "X@Nowhere.example=P2",
            "--assign",
            "shared@roe.example=P5",
            "--by",
            "carol",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["command"], "resolve-unknown");
    assert_eq!(v["counts"]["resolved"], 2, "{v:#}");
    assert_eq!(v["counts"]["updated"], 3, "{v:#}");
    assert_eq!(v["items"][0]["id"], "x@nowhere.example");
    assert_eq!(v["items"][0]["activities"].as_array().unwrap().len(), 2);

    // M6: the sender is now a person; M8: the recipient is a participant.
    assert_eq!(
        place(&s, "u stranger"),
        json!({"attached_to": "person P2", "participants": [], "flags": []})
    );
    assert_eq!(
        place(&s, "u spam 2"),
        json!({"attached_to": "person P3", "participants": ["x@nowhere.example"],
               "flags": [flag("unknown_sender", "deals@spam.example")]})
    );
    assert_eq!(
        participant_person(&s, "u spam 2", "x@nowhere.example").as_deref(),
        Some("P2")
    );
    // The ambiguous sender goes to the chosen one of its two persons.
    assert_eq!(
        place(&s, "u ambiguous"),
        json!({"attached_to": "person P5", "participants": [], "flags": []})
    );
    assert_eq!(state(&s, "x@nowhere.example"), "resolved");
    assert_eq!(state(&s, "shared@roe.example"), "resolved");
    assert!(!s.queue().contains(&"x@nowhere.example".to_string()));
    // The address is a further address of John Roe now.
    let p = s
        .env
        .json(&["crm", "list", "--search", "john"])
        .get("persons")
        .unwrap()[0]
        .clone();
    assert_eq!(
        p["emails"],
        json!(["john@globex.example", "x@nowhere.example"])
    );
    // X9: explain says which resolution moved it.
    let id = s.by_subject("u stranger")["id"].as_i64().unwrap();
    let e = s.env.json(&["explain", &id.to_string()]);
    assert_eq!(e["rule"], "M6");
    assert!(
        e["explain"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("assigned to person P2")),
        "{e}"
    );

    // U5: what, by whom, when.
    let (code, _, err) = resolve(&s, &["--ignore", "promo@spam.example"]);
    assert_eq!(code, 0, "{err}");
    let r = s.env.json(&["report", "--resolutions"]);
    let rows = r["resolutions"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{r:#}");
    assert_eq!(
        (
            &rows[0]["address"],
            &rows[0]["action"],
            &rows[0]["target"],
            &rows[0]["by"]
        ),
        (
            &json!("x@nowhere.example"),
            &json!("assign"),
            &json!("P2"),
            &json!("carol")
        )
    );
    assert_eq!(rows[1]["address"], "shared@roe.example");
    assert_eq!(
        (&rows[2]["action"], &rows[2]["by"]),
        (&json!("ignore"), &json!("olivia")),
        "without --by: the OS user"
    );
    assert!(rows[0]["at"].as_str().unwrap().starts_with("20"));
    let (code, table, _) = s.env.run(&["report", "--resolutions"]);
    assert_eq!(code, 0);
    assert!(
        table.contains("carol") && table.contains("3 resolutions"),
        "{table}"
    );
}

#[test]
fn u3_create_person_names_from_display_name_company_by_domain() {
    let Some(d) = harness::dovecot() else { return };
    let s = scenario(d);
    assert_eq!(
        place(&s, "u outgoing"),
        json!({"attached_to": "person P1", "participants": ["nina@acme.example"],
               "flags": [flag("unidentified_recipient", "nina@acme.example")]})
    );
    assert_eq!(
        participant_person(&s, "u outgoing", "nina@acme.example"),
        None
    );
    let (code, v, err) = resolve(
        &s,
        &[
            "--create",
            "nina@acme.example",
            "--create",
            "gavin@hooli.example=Gavin B. Belson",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["counts"]["created"], 2, "{v:#}");
    assert_eq!(
        place(&s, "u outgoing"),
        json!({"attached_to": "person P1", "participants": ["nina@acme.example"], "flags": []})
    );
    assert_eq!(
        participant_person(&s, "u outgoing", "nina@acme.example").as_deref(),
        Some("auto-6")
    );
    assert_eq!(
        place(&s, "u hooli"),
        json!({"attached_to": "person auto-7", "participants": [], "flags": []})
    );
    let nina = s.env.json(&["crm", "list", "--search", "nina"])["persons"][0].clone();
    assert_eq!(
        (
            &nina["id"],
            &nina["first_name"],
            &nina["last_name"],
            &nina["company_id"]
        ),
        (
            &json!("auto-6"),
            &json!("Nina"),
            &json!("Neu"),
            &json!("C1")
        )
    );
    let gavin = s.env.json(&["crm", "list", "--search", "gavin"])["persons"][0].clone();
    assert_eq!(
        (&gavin["first_name"], &gavin["last_name"]),
        (&json!("Gavin B."), &json!("Belson"))
    );
    assert!(gavin.get("company_id").is_none(), "{gavin}");
    assert_eq!(state(&s, "nina@acme.example"), "resolved");
}

#[test]
fn u3_link_domain_links_activities_to_the_company_flag_stays_m10() {
    let Some(d) = harness::dovecot() else { return };
    let s = scenario(d);
    load(
        &s,
        "companies",
        "id,name,kind,email,domains\nC8,Hooli,lead,,\n",
    );
    assert_eq!(
        place(&s, "u hooli"),
        json!({"attached_to": "person P3", "participants": [],
               "flags": [flag("unknown_sender", "gavin@hooli.example")]})
    );
    let (code, v, err) = resolve(&s, &["--link-domain", "hooli.example=C8"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["items"][0]["rule"], "M10");
    // M10: the company takes the activity; the person stays unknown and
    // the flag stays for someone to create or assign them later.
    assert_eq!(
        place(&s, "u hooli"),
        json!({"attached_to": "company C8", "participants": [],
               "flags": [flag("unknown_sender", "gavin@hooli.example")]})
    );
    assert_eq!(state(&s, "gavin@hooli.example"), "resolved");
    let c = s
        .env
        .json(&["crm", "list", "--kind", "companies", "--search", "hooli"]);
    assert_eq!(c["companies"][0]["domains"], json!(["hooli.example"]));
    // The person can still be created later: the flag goes, the company stays.
    let (code, _, err) = resolve(&s, &["--create", "gavin@hooli.example"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        place(&s, "u hooli"),
        json!({"attached_to": "person auto-6", "participants": [], "flags": []})
    );
    let gavin = s.env.json(&["crm", "list", "--search", "gavin"])["persons"][0].clone();
    assert_eq!(gavin["company_id"], "C8");
    // A domain of another company is refused (exit 2), naming it.
    let (code, _, err) = resolve(&s, &["--link-domain", "acme.example=C8"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--link-domain acme.example=C8") && err.contains("Acme GmbH (C1)"),
        "{err}"
    );
}

#[test]
fn u3_ignore_address_and_domain_stop_flagging_m14() {
    let Some(d) = harness::dovecot() else { return };
    let s = scenario(d);
    assert_eq!(
        place(&s, "u spam 1"),
        json!({"attached_to": "person P3", "participants": [],
               "flags": [flag("unknown_sender", "promo@spam.example")]})
    );
    let (code, v, err) = resolve(
        &s,
        &["--ignore", "x@nowhere.example", "--ignore", "@spam.example"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["counts"]["ignored"], 3, "{v:#}");
    assert_eq!(
        place(&s, "u stranger"),
        json!({"attached_to": "person P3", "participants": [], "flags": []})
    );
    assert_eq!(
        place(&s, "u spam 1"),
        json!({"attached_to": "person P3", "participants": [], "flags": []})
    );
    // Participants are never removed; the ignored address no longer flags.
    assert_eq!(
        place(&s, "u spam 2"),
        json!({"attached_to": "person P3", "participants": ["x@nowhere.example"], "flags": []})
    );
    for a in [
        "x@nowhere.example",
        "promo@spam.example",
        "deals@spam.example",
    ] {
        assert_eq!(state(&s, a), "ignored", "{a}");
    }
    // M14 from now on: new mail from the domain is skipped, never queued.
    d.append(
        &s.login,
        "CRM Import",
        &mail("new@spam.example", "alice@us.example", "u spam 3", "", "."),
    );
    let (code, v, _) = s.import(&[]);
    assert_eq!(code, 0);
    assert_eq!(v["counts"]["skipped"], 1, "{v:#}");
    assert_eq!(v["items"][0]["rule"], "M14", "{v:#}");
    assert!(!s.queue().iter().any(|a| a.ends_with("@spam.example")));
}

#[test]
fn u4_apply_csv_bad_row_changes_nothing_and_names_file_line() {
    let Some(d) = harness::dovecot() else { return };
    let s = scenario(d);
    let before = s.report();
    let queue = s.queue();
    let bad = s.env.write(
        "resolve.csv",
        "address,action,target\n\
         x@nowhere.example,assign,P2\n\
         shared@roe.example,assign,P99\n\
         nina@acme.example,promote,\n\
         not-an-address,ignore,\n\
         @spam.example,ignore,\n",
    );
    let f = bad.display().to_string();
    let (code, v, err) = resolve(&s, &["--apply", &f]);
    assert_eq!(code, 2, "{v} {err}");
    assert!(
        err.contains(&format!("{f}:4: unknown action `promote`")),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    // The rows that parse are checked too, before anything is kept.
    let bad2 = s.env.write(
        "resolve2.csv",
        "x@nowhere.example,assign,P2\nshared@roe.example,assign,P99\nnot-an-address,ignore,\n",
    );
    let f2 = bad2.display().to_string();
    let (code, _, err) = resolve(&s, &["--apply", &f2]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("{f2}:2: there is no person with id `P99`")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{f2}:3: `not-an-address` is not an e-mail address"
        )),
        "{err}"
    );
    assert_eq!(s.report(), before, "the CRM changed");
    assert_eq!(s.queue(), queue, "the queue changed");
    assert_eq!(
        s.env.json(&["report", "--resolutions"])["resolutions"],
        json!([])
    );

    let good = s.env.write(
        "good.csv",
        "address,action,target\n\
         x@nowhere.example,assign,P2\n\
         nina@acme.example,create,\n\
         @spam.example,ignore,\n\
         sales@initech.example,skip,\n",
    );
    let (code, v, err) = resolve(&s, &["--apply", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (
            &v["counts"]["resolved"],
            &v["counts"]["ignored"],
            &v["counts"]["created"],
            &v["counts"]["skipped"]
        ),
        (&json!(2), &json!(2), &json!(1), &json!(1)),
        "{v:#}"
    );
    assert_eq!(place(&s, "u stranger")["attached_to"], "person P2");
    assert_eq!(place(&s, "u spam 1")["flags"], json!([]));
    assert_eq!(state(&s, "sales@initech.example"), "open");
    assert_eq!(
        s.queue(),
        vec![
            "gavin@hooli.example",
            "sales@initech.example",
            "shared@roe.example"
        ]
    );
}

#[test]
fn u4_flags_apply_in_the_given_order() {
    let Some(d) = harness::dovecot() else { return };
    let s = scenario(d);
    // The assign names the person the create before it makes.
    let (code, v, err) = resolve(
        &s,
        &[
            "--create",
            "gavin@hooli.example=Gavin Belson",
            "--assign",
            "sales@initech.example=auto-6",
        ],
    );
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(place(&s, "u initech")["attached_to"], "person auto-6");
    // Reversed, the assign comes first and fails: nothing is kept.
    let s = scenario(d);
    let (code, _, err) = resolve(
        &s,
        &[
            "--assign",
            "sales@initech.example=auto-6",
            "--create",
            "gavin@hooli.example=Gavin Belson",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no person with id `auto-6`"), "{err}");
    assert_eq!(state(&s, "gavin@hooli.example"), "open");
}

#[test]
fn u4_auto_domain_links_addresses_whose_domain_names_one_company() {
    let Some(d) = harness::dovecot() else { return };
    let s = scenario(d);
    // Initech becomes a customer after the import, known by its main e-mail only.
    load(
        &s,
        "companies",
        "id,name,kind,email,domains\nC9,Initech,customer,info@initech.example,\n",
    );
    assert_eq!(place(&s, "u initech")["attached_to"], "person P3");
    let (code, v, err) = resolve(&s, &["--auto-domain"]);
    assert_eq!(code, 0, "{err}");
    let items = v["items"].as_array().unwrap();
    // nina@acme.example is at C1's web domain already: nothing to add, it
    // is marked resolved too; the addresses of unknown domains stay open.
    let linked: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(linked, vec!["nina@acme.example", "sales@initech.example"]);
    assert_eq!(items[1]["action"], "auto-domain");
    assert_eq!(items[1]["reason"], "C9");
    assert_eq!(
        place(&s, "u initech"),
        json!({"attached_to": "company C9", "participants": [],
               "flags": [flag("unknown_sender", "sales@initech.example")]})
    );
    let c = s
        .env
        .json(&["crm", "list", "--kind", "companies", "--search", "initech"]);
    assert_eq!(c["companies"][0]["domains"], json!(["initech.example"]));
    assert_eq!(state(&s, "gavin@hooli.example"), "open");
}

#[test]
fn x8_dry_run_shows_the_change_and_writes_nothing() {
    let Some(d) = harness::dovecot() else { return };
    let s = scenario(d);
    let file = s.env.path("state.sqlite");
    let before = std::fs::read(&file).unwrap();
    let (code, v, err) = resolve(&s, &["--dry-run", "--assign", "x@nowhere.example=P2"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["dry_run"], true);
    let c = &v["changes"][0];
    assert_eq!(
        (
            &c["subject"],
            &c["before"]["attached_to"],
            &c["after"]["attached_to"]
        ),
        (
            &json!("u stranger"),
            &json!("person P3"),
            &json!("person P2")
        ),
        "{v:#}"
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the state file changed"
    );
    assert_eq!(place(&s, "u stranger")["attached_to"], "person P3");
}

#[test]
fn u2_interactive_create_ignore_and_assign_through_a_pty() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "");
    for (from, subject) in [
        ("Xavier New <x@nowhere.example>", "pty stranger"),
        ("promo@spam.example", "pty spam"),
        ("Nina Neu <nina@acme.example>", "pty nina"),
    ] {
        d.append(
            &s.login,
            "CRM Import",
            &mail(from, "alice@us.example", subject, "", "."),
        );
    }
    assert_eq!(s.import(&[]).0, 0);
    assert_eq!(place(&s, "pty nina")["attached_to"], "company C1");
    let bin = assert_cmd::cargo::cargo_bin("crmsync");
    let config = s.env.config.display().to_string();
    let mut p = Pty::spawn(
        &bin,
        &["--config", &config, "resolve-unknown"],
        &[("USER", "pty-admin")],
    );
    // U1: the table first, then the addresses in order.
    p.expect("Xavier New");
    p.expect("[1/3] nina@acme.example");
    // Create: names prefilled from the display name, the company by domain.
    p.pick("what now?", 1);
    p.expect("First name");
    p.send("\r");
    p.expect("Last name");
    p.send("\r");
    p.expect("Company Acme GmbH, found by the mail domain?");
    p.send("y");
    p.expect("Create person Nina Neu <nina@acme.example>?");
    p.send("y");
    p.expect("nina@acme.example: person created");
    p.expect("[2/3] promo@spam.example");
    p.pick("what now?", 3); // ignore this address
    p.expect("promo@spam.example: ignored from now on");
    p.expect("[3/3] x@nowhere.example");
    p.pick("what now?", 0); // assign to an existing person
    p.answer("Search persons", "john");
    p.pick("Assign x@nowhere.example to", 0);
    p.expect("2 resolved, 1 ignored, 1 person(s) created");
    let (code, screen) = p.wait();
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("John Roe <john@globex.example>"),
        "{screen}"
    );

    assert_eq!(
        place(&s, "pty stranger"),
        json!({"attached_to": "person P2", "participants": [], "flags": []})
    );
    assert_eq!(
        place(&s, "pty nina"),
        json!({"attached_to": "person auto-6", "participants": [], "flags": []})
    );
    let nina = s.env.json(&["crm", "list", "--search", "nina"])["persons"][0].clone();
    assert_eq!(
        (&nina["first_name"], &nina["last_name"], &nina["company_id"]),
        (&json!("Nina"), &json!("Neu"), &json!("C1"))
    );
    assert_eq!(place(&s, "pty spam")["flags"], json!([]));
    assert_eq!(state(&s, "promo@spam.example"), "ignored");
    assert_eq!(state(&s, "x@nowhere.example"), "resolved");
    let r = s.env.json(&["report", "--resolutions"]);
    let actions: Vec<(&str, &str)> = r["resolutions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["action"].as_str().unwrap(), x["by"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("create", "pty-admin"),
            ("ignore", "pty-admin"),
            ("assign", "pty-admin")
        ]
    );
}
