//! The binary without servers: config errors, the embedded CRM (B1),
//! output shapes (X6), exit codes (X7), the run lock (X4), dry runs (X8).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Env {
    /// A config with two users and an embedded CRM, state in the temp dir.
    pub fn new(extra: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "state = \"state.sqlite\"\nown_domains = [\"us.example\"]\n\n\
                 [[users]]\nlogin = \"alice\"\nemails = [\"alice@us.example\"]\n\n\
                 [[users]]\nlogin = \"bob\"\nemails = [\"bob@us.example\"]\n\n{extra}"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
        Env { dir, config }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("crmsync").unwrap();
        c.arg("--config")
            .arg(&self.config)
            .env_remove("CRMSYNC_CONFIG")
            .stdin(Stdio::null());
        c
    }

    /// Runs with args; returns (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cmd().args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let (code, out, err) = self.run(&a);
        assert_eq!(code, 0, "crmsync {args:?} failed: {err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// Loads the example companies and persons.
    pub fn load_directory(&self) {
        let c = self.write("companies.csv", COMPANIES);
        let p = self.write("persons.csv", PERSONS);
        let (code, _, err) =
            self.run(&["crm", "import", c.to_str().unwrap(), "--kind", "companies"]);
        assert_eq!(code, 0, "{err}");
        let (code, _, err) = self.run(&["crm", "import", p.to_str().unwrap(), "--kind", "persons"]);
        assert_eq!(code, 0, "{err}");
    }
}

pub const COMPANIES: &str = "id,name,kind,email,domains,rep,sales_groups\n\
C1,Acme GmbH,customer,info@acme.example,acme.example;acme.de,alice,north\n\
C2,Globex,lead,,globex.example,bob,\n";

pub const PERSONS: &str = "id,first_name,last_name,emails,phones,company_id,rep,sales_groups,favorite_of\n\
P1,Jane,Doe,jane@acme.example;j.doe@acme.example,+49 30 1234,C1,alice,north,alice\n\
P2,John,Roe,john@globex.example,,C2,bob,,\n\
P3,Alice,Smith,alice@us.example,,,,,\n\
P4,\"Quote, Comma\",Person,shared@roe.example,,,,,\n\
P5,Other,Person,shared@roe.example,,,,,\n";

#[test]
fn b1_import_list_export_round_trip() {
    let env = Env::new("");
    env.load_directory();
    let persons = env.json(&["crm", "list", "--kind", "persons"]);
    let list = persons["persons"].as_array().unwrap();
    assert_eq!(list.len(), 5);
    let jane = list.iter().find(|p| p["id"] == "P1").unwrap();
    assert_eq!(
        jane["emails"],
        serde_json::json!(["jane@acme.example", "j.doe@acme.example"])
    );
    assert_eq!(jane["company_id"], "C1");
    assert_eq!(jane["favorite_of"], serde_json::json!(["alice"]));
    let companies = env.json(&["crm", "list", "--kind", "companies"]);
    assert_eq!(
        companies["companies"][0]["domains"],
        serde_json::json!(["acme.de", "acme.example"])
    );

    // Export in the import layout and import it again: nothing changes.
    let out = env.path("export.csv");
    let (code, _, err) = env.run(&[
        "crm",
        "export",
        "--kind",
        "persons",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let again = env.json(&["crm", "import", out.to_str().unwrap(), "--kind", "persons"]);
    assert_eq!(
        again["counts"],
        serde_json::json!({"created": 0, "updated": 0, "unchanged": 5})
    );
}

#[test]
fn b1_import_is_idempotent_and_updates_by_id() {
    let env = Env::new("");
    env.load_directory();
    let changed = env.write(
        "changed.csv",
        "id,first_name,last_name,emails\nP2,Johnny,Roe,john@globex.example\nP9,New,Person,new@x.example\n",
    );
    let r = env.json(&[
        "crm",
        "import",
        changed.to_str().unwrap(),
        "--kind",
        "persons",
    ]);
    assert_eq!(
        r["counts"],
        serde_json::json!({"created": 1, "updated": 1, "unchanged": 0})
    );
    let list = env.json(&["crm", "list", "--kind", "persons", "--search", "johnny"]);
    assert_eq!(list["persons"].as_array().unwrap().len(), 1);
}

#[test]
fn b1_bad_rows_name_file_and_line_and_import_nothing() {
    let env = Env::new("");
    let bad = env.write(
        "bad.csv",
        "id,first_name,last_name,emails,company_id,rep\nP1,Ok,Row,ok@x.example,,\nP2,Bad,Mail,not-an-address,,\nP3,Bad,Rep,r@x.example,,carol\n",
    );
    let (code, out, err) = env.run(&["crm", "import", bad.to_str().unwrap(), "--kind", "persons"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty());
    let f = bad.display().to_string();
    assert!(
        err.contains(&format!(
            "{f}:3: e-mail `not-an-address` is not an e-mail address"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{f}:4: rep `carol` is not a configured user")),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
    // The good row was not imported either: one transaction, all or nothing.
    let (code, out, _) = env.run(&["--json", "crm", "list"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["persons"].as_array().unwrap().len(), 0);
}

#[test]
fn b1_vcard_import() {
    let env = Env::new("");
    env.load_directory();
    let vcf = env.write(
        "people.vcf",
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:vc-1\r\nN:Muster;Max;;;\r\nFN:Max Muster\r\nEMAIL:max@acme.example\r\nORG:Acme GmbH\r\nEND:VCARD\r\n",
    );
    let r = env.json(&["crm", "import", vcf.to_str().unwrap()]);
    assert_eq!(r["kind"], "persons");
    assert_eq!(r["counts"]["created"], 1);
    let list = env.json(&["crm", "list", "--search", "max@"]);
    assert_eq!(list["persons"][0]["company_id"], "C1");
}

#[test]
fn x8_dry_run_import_writes_nothing() {
    let env = Env::new("");
    let p = env.write("persons.csv", "id,emails\nP1,a@b.example\n");
    let r = env.json(&[
        "--dry-run",
        "crm",
        "import",
        p.to_str().unwrap(),
        "--kind",
        "persons",
    ]);
    assert_eq!(r["dry_run"], true);
    assert_eq!(r["counts"]["created"], 1);
    assert!(
        !env.path("state.sqlite").exists(),
        "a dry run must not create the state file"
    );
}

#[test]
fn x4_second_run_exits_75_and_names_the_holder() {
    let env = Env::new("");
    let state = env.path("state.sqlite");
    let _held =
        crmsync::state::State::open(&state, crmsync::state::Access::Write, "import-mail").unwrap();
    let p = env.write("persons.csv", "id,emails\nP1,a@b.example\n");
    let (code, _, err) = env.run(&["crm", "import", p.to_str().unwrap(), "--kind", "persons"]);
    assert_eq!(code, 75, "{err}");
    assert!(
        err.contains(&format!("process {}", std::process::id())),
        "{err}"
    );
    assert!(err.contains("import-mail"), "{err}");
}

#[test]
fn x7_config_error_exits_2_with_file_and_line() {
    let env = Env::new("[mail]\nmax_size = \"ten\"\n");
    let (code, _, err) = env.run(&["check", "--offline"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("{}:13:", env.config.display())),
        "{err}"
    );
    assert!(err.contains("ten"), "{err}");
}

#[test]
fn x7_missing_explicit_config_is_a_usage_error() {
    let out = Command::cargo_bin("crmsync")
        .unwrap()
        .args(["--config", "/nonexistent/crmsync.toml", "check"])
        .output()
        .unwrap();
    let (code, err) = (out.status.code(), String::from_utf8_lossy(&out.stderr));
    assert_eq!(code, Some(2));
    assert!(err.contains("/nonexistent/crmsync.toml"), "{err}");
    assert!(err.contains("crmsync init"), "{err}");
}

#[test]
fn x7_broken_pipe_exits_0() {
    let env = Env::new("");
    let mut csv = String::from("id,emails\n");
    for i in 0..3000 {
        csv.push_str(&format!("P{i},p{i}@x.example\n"));
    }
    let p = env.write("many.csv", &csv);
    assert_eq!(
        env.run(&["crm", "import", p.to_str().unwrap(), "--kind", "persons"])
            .0,
        0
    );
    let mut child = env
        .cmd()
        .args(["crm", "export", "--kind", "persons"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away at once, like `| head -0`
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn x1_check_offline_reports_m9_users_without_person() {
    let env = Env::new("");
    env.load_directory();
    let v = env.json(&["check", "--offline"]);
    let rows = v["checks"].as_array().unwrap();
    let dir = rows.iter().find(|r| r["check"] == "crm directory").unwrap();
    // alice has a person record (P3), bob has none: M9 warning names bob only.
    assert_eq!(dir["status"], "warn");
    let detail = dir["detail"].as_str().unwrap();
    assert!(
        detail.contains("bob") && !detail.contains("alice"),
        "{detail}"
    );
    let users = env.json(&["crm", "list", "--kind", "users"]);
    assert_eq!(users["users"][0]["person_id"], "P3");
    assert_eq!(users["users"][1]["person_id"], Value::Null);
}

#[test]
fn x3_plain_password_in_readable_config_warns_and_never_leaks() {
    let env = Env::new(
        "[[mail.accounts]]\nname = \"m\"\nuser = \"alice\"\nsource = \"imap\"\nhost = \"127.0.0.1\"\nport = 1\ntls = \"none\"\nlogin = \"alice\"\npassword = \"s3cr3t-plain\"\n",
    );
    std::fs::set_permissions(&env.config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, out, err) = env.run(&["--json", "check", "m"]);
    assert!(
        err.contains("plain password") && err.contains("chmod 600"),
        "{err}"
    );
    assert!(!out.contains("s3cr3t-plain") && !err.contains("s3cr3t-plain"));
    // Port 1 refuses: a connection failure, reported per account (exit 1).
    let v: Value = serde_json::from_str(&out).unwrap();
    let row = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == "mail")
        .unwrap()
        .clone();
    assert_eq!(row["status"], "fail");
    assert!(
        row["detail"].as_str().unwrap().contains("cannot connect"),
        "{row}"
    );
}

#[test]
fn x1_init_refuses_without_terminal_and_names_the_unattended_way() {
    let env = Env::new("");
    let target = env.path("new.toml");
    let (code, _, err) = env.run(&["init", "--output", target.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("init --sample"), "{err}");
    assert!(!target.exists());
    let (code, _, err) = env.run(&["init", "--sample", "--output", target.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    crmsync::config::Config::parse(
        &std::fs::read_to_string(&target).unwrap(),
        Path::new("new.toml"),
    )
    .unwrap();
    // A second --sample does not overwrite without --force.
    assert_eq!(
        env.run(&["init", "--sample", "--output", target.to_str().unwrap()])
            .0,
        2
    );
}

#[test]
fn x2_unblock_of_unknown_account_is_a_usage_error() {
    let env = Env::new("");
    let (code, _, err) = env.run(&["unblock", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("no account named `nope`"), "{err}");
}
