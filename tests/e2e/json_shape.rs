//! X15: every command's `--json` document, of a success and of a failure,
//! checked against the table of docs/JSON.md (issue 19: "validated against
//! docs/JSON.md"), and X14: the cron output of a run, byte for byte.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::cli::Env;

/// The documented keys: command -> key -> (types, always).
type Shapes = BTreeMap<String, BTreeMap<String, (Vec<String>, bool)>>;

/// Reads the "Keys per command" table of docs/JSON.md.
fn shapes() -> Shapes {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/JSON.md"))
        .expect("docs/JSON.md");
    let mut out = Shapes::new();
    let mut inside = false;
    for line in doc.lines() {
        if line.starts_with("| command | key | type | presence |") {
            inside = true;
            continue;
        }
        if !inside || line.starts_with("|---") {
            continue;
        }
        if !line.starts_with('|') {
            if !out.is_empty() {
                break;
            }
            continue;
        }
        let cells: Vec<String> = line
            .trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().replace("\\|", "|"))
            .collect();
        assert_eq!(cells.len(), 4, "docs/JSON.md row: {line}");
        let types = cells[2].split('|').map(str::to_string).collect();
        out.entry(cells[0].clone())
            .or_default()
            .insert(cells[1].clone(), (types, cells[3] == "always"));
    }
    assert!(out.contains_key("*"), "docs/JSON.md has no key table");
    out
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Fails naming the command and key when `doc` differs from docs/JSON.md;
/// a failure's document has the common keys only.
fn check(shapes: &Shapes, doc: &Value, failed: bool) {
    let obj = doc
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {doc}"));
    let command = obj["command"].as_str().expect("command is a string");
    let common = &shapes["*"];
    let own = if failed {
        None
    } else {
        Some(
            shapes
                .get(command)
                .unwrap_or_else(|| panic!("docs/JSON.md has no rows for `{command}`")),
        )
    };
    for (key, value) in obj {
        let (types, _) = common
            .get(key)
            .or_else(|| own.and_then(|o| o.get(key)))
            .unwrap_or_else(|| panic!("`{command}` prints key `{key}`, not in docs/JSON.md"));
        assert!(
            types.iter().any(|t| t == type_of(value)),
            "`{command}` key `{key}` is {}, docs/JSON.md says {types:?}",
            type_of(value)
        );
    }
    for (key, (_, always)) in common.iter().chain(own.into_iter().flatten()) {
        assert!(
            !always || obj.contains_key(key),
            "`{command}` lacks `{key}` (always, docs/JSON.md)"
        );
    }
    assert_eq!(obj["ok"], Value::Bool(!failed), "{doc:#}");
    for key in ["warnings", "errors"] {
        assert!(
            obj[key].as_array().unwrap().iter().all(Value::is_string),
            "{doc:#}"
        );
    }
}

/// Runs `crmsync --json args`; returns the exit code and the document.
fn run(env: &Env, args: &[&str]) -> (i32, Value) {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let (code, out, err) = env.run(&a);
    let v = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("crmsync {args:?}: not one JSON document ({e}): {out} {err}"));
    (code, v)
}

/// Mail from a Maildir, a calendar and an address book in vdir folders:
/// every command runs without a server.
fn offline_env() -> Env {
    let env = Env::new("");
    let cal = env.path("cal");
    let books = env.path("books");
    std::fs::create_dir_all(cal.join("calendar")).unwrap();
    std::fs::create_dir_all(books.join("contacts")).unwrap();
    let mut text = std::fs::read_to_string(&env.config).unwrap();
    text.push_str(&format!(
        "\n[[mail.accounts]]\nname = \"local\"\nuser = \"alice\"\nsource = \"maildir\"\npath = \"{}\"\nfolders = [\"INBOX\"]\nscan_all = true\n\n\
         [[calendar.accounts]]\nname = \"alice-cal\"\nuser = \"alice\"\nsource = \"vdir\"\npath = \"{}\"\n\n\
         [[contacts.accounts]]\nname = \"alice-book\"\nuser = \"alice\"\nsource = \"vdir\"\npath = \"{}\"\n",
        env!("CARGO_MANIFEST_DIR").to_string() + "/tests/e2e/data/maildir",
        cal.display(),
        books.display()
    ));
    std::fs::write(&env.config, text).unwrap();
    env
}

/// X15: every command's document, success and failure, is the one
/// docs/JSON.md describes; `ok` and the exit code agree.
#[test]
fn x15_every_command_json_matches_docs_json_md() {
    let shapes = shapes();
    let env = offline_env();
    let c = env.write("companies.csv", crate::cli::COMPANIES);
    let p = env.write("persons.csv", crate::cli::PERSONS);
    let (c, p) = (c.to_str().unwrap(), p.to_str().unwrap());
    let success: Vec<Vec<&str>> = vec![
        vec!["crm", "import", c, "--kind", "companies"],
        vec!["crm", "import", p, "--kind", "persons"],
        vec!["check", "--offline"],
        vec!["crm", "list", "--kind", "persons"],
        vec!["crm", "list", "--kind", "companies"],
        vec!["crm", "list", "--kind", "users"],
        vec!["import-mail"],
        vec!["sync-calendar"],
        vec!["push-contacts"],
        vec!["resolve-unknown", "--list"],
        vec!["report"],
        vec!["report", "--resolutions"],
        vec!["report", "--conflicts"],
        vec!["unblock", "--all"],
    ];
    for args in &success {
        let (code, v) = run(&env, args);
        assert!(code == 0 || code == 3, "{args:?}: exit {code}: {v:#}");
        check(&shapes, &v, code != 0);
        // Ids in one form: what a mail hangs on is named by its CRM id.
        for item in v["items"].as_array().unwrap() {
            if item.get("attached_to").is_some_and(Value::is_string) {
                let id = item["attached_id"].as_str().unwrap_or_default();
                assert!(
                    id.len() > 1
                        && (id.starts_with('P') || id.starts_with('C'))
                        && id[1..].chars().all(|c| c.is_ascii_digit()),
                    "{item:#}"
                );
            }
        }
    }
    // The calendar activity commands, and explain on what they made.
    let (code, added) = run(
        &env,
        &[
            "crm",
            "activity",
            "add",
            "--rep",
            "alice",
            "--type",
            "task",
            "--subject",
            "call back",
        ],
    );
    assert_eq!(code, 0, "{added:#}");
    check(&shapes, &added, false);
    let id = added["id"].as_i64().unwrap().to_string();
    for args in [
        vec!["crm", "activity", "show", &id],
        vec!["crm", "activity", "edit", &id, "--subject", "call again"],
        vec!["explain", &id],
        vec!["crm", "activity", "delete", &id],
    ] {
        let (code, v) = run(&env, &args);
        assert_eq!(code, 0, "{args:?}: {v:#}");
        check(&shapes, &v, false);
    }
    // Failures: the common keys, ok false, the error, the X7 exit code.
    for (args, want) in [
        (vec!["explain", "99999"], 2),
        (vec!["unblock", "nobody"], 2),
        (vec!["import-mail", "nosuch"], 2),
        (vec!["check", "nosuch"], 2),
        (vec!["crm", "pull"], 2),
        (vec!["crm", "export", "--kind", "persons"], 2),
        (vec!["crm", "activity", "show", "99999"], 2),
    ] {
        let (code, v) = run(&env, &args);
        assert_eq!(code, want, "{args:?}: {v:#}");
        check(&shapes, &v, true);
        assert_eq!(v["errors"].as_array().unwrap().len(), 1, "{v:#}");
    }
}

/// X15: a key that docs/JSON.md does not list fails the check (so the test
/// above fails when a command's keys drift from the document).
#[test]
fn x15_the_check_fails_on_an_undocumented_key() {
    let shapes = shapes();
    let doc = serde_json::json!({
        "command": "check", "ok": true, "counts": {}, "items": [],
        "warnings": [], "errors": [], "checks": [], "surprise": 1
    });
    let r = std::panic::catch_unwind(|| check(&shapes, &doc, false));
    assert!(r.is_err());
}

/// X14: a cron run: one summary line by default, nothing at all with -q
/// when nothing is new, errors on stderr only.
#[test]
fn x14_cron_output_is_one_line_and_silent_with_q() {
    let env = offline_env();
    env.load_directory();
    let (code, out, _) = env.run(&["import-mail"]);
    assert!(code == 0 || code == 3, "{out}");
    assert_eq!(out.lines().count(), 1, "one summary line: {out}");
    assert!(out.contains(" imported ("), "{out}");
    // Nothing new: -q prints nothing at all.
    let (code, out, err) = env.run(&["-q", "import-mail"]);
    assert_eq!(code, 0, "{out} {err}");
    assert_eq!((out.as_str(), err.as_str()), ("", ""));
    let (code, out, err) = env.run(&["-q", "sync-calendar"]);
    assert_eq!(code, 0, "{out} {err}");
    assert_eq!((out.as_str(), err.as_str()), ("", ""));
    // An error: stdout stays empty, stderr says it.
    let (code, out, err) = env.run(&["-q", "import-mail", "nosuch"]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(
        err.starts_with("error: no mail account named `nosuch`"),
        "{err}"
    );
    // The table on request.
    let (_, out, _) = env.run(&["import-mail", "--all-items", "--dry-run"]);
    assert!(out.lines().count() >= 3, "{out}");
}

/// X16: on a terminal the progress bar of a mail run ends with its summary
/// line naming the account and folder; X14: the run's summary follows.
#[test]
fn x16_progress_bar_on_a_terminal_leaves_a_summary_line() {
    let env = offline_env();
    env.load_directory();
    let bin = assert_cmd::cargo::cargo_bin("crmsync");
    let config = env.config.display().to_string();
    let mut p = crate::pty::Pty::spawn(&bin, &["--config", &config, "--yes", "import-mail"], &[]);
    p.expect("local/INBOX: 1 of 1 in ");
    p.expect(" imported (");
    let (code, screen) = p.wait();
    assert!(code == 0 || code == 3, "{screen}");
}

/// X15: `--json` with `report --csv` is refused (exit 2), not ignored.
#[test]
fn x15_json_with_csv_is_a_usage_error() {
    let env = Env::new("");
    for args in [["--json", "report", "--csv"], ["report", "--csv", "--json"]] {
        let (code, out, err) = env.run(&args);
        assert_eq!(code, 2, "{out} {err}");
        assert!(err.contains("--csv"), "{err}");
    }
}

/// X15: an argument clap refuses is a JSON error document too under
/// `--json` (exit 2), naming the subcommand; the words stay on stderr.
#[test]
fn x15_an_argument_error_is_json_under_json() {
    let env = Env::new("");
    let shapes = shapes();
    let (code, doc) = run(&env, &["report", "--no-such-flag"]);
    assert_eq!(code, 2, "{doc}");
    check(&shapes, &doc, true);
    assert_eq!(doc["command"], "report", "{doc}");
    assert!(
        doc["errors"][0]
            .as_str()
            .unwrap_or("")
            .contains("--no-such-flag"),
        "{doc}"
    );
    let (code, out, err) = env.run(&["report", "--no-such-flag"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("--no-such-flag"), "{err}");
}
