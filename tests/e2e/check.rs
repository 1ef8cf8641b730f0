//! `crmsync check` against the real servers (X1), the lockout guard (X2)
//! and certificate verification (X11).

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::Env;
use crate::harness::{self, ImapServer};

fn row<'a>(v: &'a Value, check: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == check)
        .unwrap_or_else(|| panic!("no `{check}` row in {v}"))
}

/// Every row of one check (e.g. all `mail` rows), in order.
fn rows_of<'a>(v: &'a Value, check: &str) -> Vec<&'a Value> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["check"] == check)
        .collect()
}

fn check_json(env: &Env, envs: &[(&str, &str)], args: &[&str]) -> (i32, Value, String) {
    let mut cmd = env.cmd();
    cmd.arg("--json").arg("check").args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let v: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn imap_account(name: &str, user: &str, port: u16, tls: &str, login: &str, extra: &str) -> String {
    format!(
        "[[mail.accounts]]\nname = \"{name}\"\nuser = \"{user}\"\nsource = \"imap\"\nhost = \"127.0.0.1\"\n\
         port = {port}\ntls = \"{tls}\"\nlogin = \"{login}\"\npassword_env = \"IMAP_PW\"\nfolders = [\"INBOX\", \"CRM Import\"]\n{extra}\n"
    )
}

/// Failed logins of `login` in Dovecot's log (one line per connection).
fn auth_failures(d: &harness::Dovecot, login: &str) -> usize {
    let log = std::fs::read_to_string(d.dir.join("log/dovecot.log")).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains(&format!("user=<{login}>")) && l.contains("auth failed"))
        .count()
}

#[test]
fn x1_check_logs_into_dovecot_with_tls_starttls_and_plain() {
    let Some(d) = harness::dovecot() else { return };
    let (login, pw) = d.add_user("check");
    d.create_folder(&login, "CRM Import");
    let ca = format!("ca_file = \"{}\"", d.ca_cert.display());
    let cfg = [
        imap_account("tls", "alice", d.imaps_port, "tls", &login, &ca),
        imap_account("starttls", "alice", d.port, "starttls", &login, &ca),
        imap_account("plain", "alice", d.port, "none", &login, ""),
    ]
    .concat();
    let env = Env::new(&cfg);
    let (code, v, err) = check_json(&env, &[("IMAP_PW", &pw)], &[]);
    assert_eq!(code, 0, "{v} {err}");
    let mail = rows_of(&v, "mail");
    assert_eq!(mail.len(), 3);
    for r in mail {
        assert_eq!(r["status"], "ok", "{r}");
        assert!(r["detail"].as_str().unwrap().contains("login ok"), "{r}");
    }
}

#[test]
fn x1_check_names_missing_folder() {
    let Some(d) = harness::dovecot() else { return };
    let (login, pw) = d.add_user("check-folder");
    let env = Env::new(&imap_account("m", "alice", d.port, "none", &login, ""));
    let (code, v, _) = check_json(&env, &[("IMAP_PW", &pw)], &[]);
    assert_eq!(code, 1);
    let r = row(&v, "mail");
    assert_eq!(r["status"], "fail");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("`CRM Import` do not exist"),
        "{r}"
    );
}

/// M20 in `check`: configured folders are found in every form the import
/// accepts (as the server lists them, with `/`, below the namespace), and a
/// missing one is named with the server's folders as it lists them.
fn m20_check_finds_folders_in_every_form_and_names_them_as_listed(d: &dyn ImapServer) {
    let (login, pw) = d.add_user("check-m20");
    let listed = d.folder("CRM Import");
    d.create_folder(&login, &listed);
    let forms = format!(
        "folders = [\"INBOX\", {listed:?}, {:?}, \"CRM Import\"]",
        listed.replace('.', "/")
    );
    let cfg = imap_account("m", "alice", d.port(), "none", &login, "")
        .replace("folders = [\"INBOX\", \"CRM Import\"]", &forms);
    let (code, v, err) = check_json(&Env::new(&cfg), &[("IMAP_PW", &pw)], &[]);
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(row(&v, "mail")["status"], "ok", "{v}");
    let nope = d.folder("Nope");
    let cfg = imap_account("m", "alice", d.port(), "none", &login, "").replace(
        "folders = [\"INBOX\", \"CRM Import\"]",
        &format!("folders = [{nope:?}]"),
    );
    let (code, v, _) = check_json(&Env::new(&cfg), &[("IMAP_PW", &pw)], &[]);
    assert_eq!(code, 1, "{v}");
    let detail = row(&v, "mail")["detail"].as_str().unwrap().to_string();
    assert!(
        detail.contains(&format!("`{nope}` do not exist")),
        "{detail}"
    );
    assert!(detail.contains(&listed), "{detail}");
    if listed.contains('.') {
        assert!(!detail.contains("INBOX/"), "{detail}");
    }
}

#[test]
fn m20_check_folder_forms_dovecot() {
    if let Some(d) = harness::dovecot() {
        m20_check_finds_folders_in_every_form_and_names_them_as_listed(d);
    }
}

#[test]
fn m20_check_folder_forms_cyrus_classic() {
    if let Some(d) = harness::cyrus_classic() {
        let _log = d.log_on_panic();
        m20_check_finds_folders_in_every_form_and_names_them_as_listed(d);
    }
}

#[test]
fn m20_check_folder_forms_cyrus_alt() {
    if let Some(d) = harness::cyrus_alt() {
        let _log = d.log_on_panic();
        m20_check_finds_folders_in_every_form_and_names_them_as_listed(d);
    }
}

#[test]
fn x2_wrong_imap_password_one_attempt_then_blocked_until_unblock() {
    let Some(d) = harness::dovecot() else { return };
    let (login, pw) = d.add_user("lockout");
    d.create_folder(&login, "CRM Import");
    let env = Env::new(&imap_account("sales", "alice", d.port, "none", &login, ""));

    let (code, v, _) = check_json(&env, &[("IMAP_PW", "wrong-password")], &[]);
    assert_eq!(code, 1);
    let r = row(&v, "mail");
    assert_eq!(r["status"], "blocked");
    let detail = r["detail"].as_str().unwrap();
    assert!(
        detail.contains("authentication failed for account `sales`"),
        "{detail}"
    );
    assert!(detail.contains("crmsync unblock sales"), "{detail}");
    assert!(!detail.contains("wrong-password"));
    // Exactly one LOGIN reached the server.
    let deadline = Instant::now() + Duration::from_secs(5);
    while auth_failures(d, &login) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(auth_failures(d, &login), 1);

    // Runs with the same wrong password skip the account: no new attempt.
    for _ in 0..3 {
        let (code, v, _) = check_json(&env, &[("IMAP_PW", "wrong-password")], &[]);
        assert_eq!(code, 1);
        assert_eq!(row(&v, "mail")["status"], "blocked");
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        auth_failures(d, &login),
        1,
        "a blocked account was tried again"
    );

    // `unblock` lifts it; with the right password the next check passes.
    let (code, _, err) = env.run(&["unblock", "sales"]);
    assert_eq!(code, 0, "{err}");
    let (code, v, err) = check_json(&env, &[("IMAP_PW", &pw)], &[]);
    assert_eq!(code, 0, "{v} {err}");
}

#[test]
fn x2_block_lifts_when_the_credentials_change() {
    let Some(d) = harness::dovecot() else { return };
    let (login, pw) = d.add_user("lockout-change");
    d.create_folder(&login, "CRM Import");
    let env = Env::new(&imap_account("m", "alice", d.port, "none", &login, ""));
    let (_, v, _) = check_json(&env, &[("IMAP_PW", "nope")], &[]);
    assert_eq!(row(&v, "mail")["status"], "blocked");
    let (code, v, err) = check_json(&env, &[("IMAP_PW", &pw)], &[]);
    assert_eq!(code, 0, "{v} {err}");
    assert!(err.contains("credentials changed"), "{err}");
}

#[test]
fn x11_self_signed_certificate_fails_clearly_unless_trusted() {
    let Some(d) = harness::dovecot() else { return };
    let (login, pw) = d.add_user("tls");
    d.create_folder(&login, "CRM Import");
    let env = Env::new(&imap_account("m", "alice", d.imaps_port, "tls", &login, ""));
    let (code, v, _) = check_json(&env, &[("IMAP_PW", &pw)], &[]);
    assert_eq!(code, 1);
    let r = row(&v, "mail");
    assert_eq!(r["status"], "fail");
    let detail = r["detail"].as_str().unwrap();
    assert!(
        detail.contains("certificate") && detail.contains("ca_file"),
        "{detail}"
    );
    // An explicit per-account opt-out connects (test servers only).
    let env = Env::new(&imap_account(
        "m",
        "alice",
        d.imaps_port,
        "tls",
        &login,
        "insecure_skip_verify = true",
    ));
    let (code, v, err) = check_json(&env, &[("IMAP_PW", &pw)], &[]);
    assert_eq!(code, 0, "{v} {err}");
}

fn dav_accounts(url: &str, login: &str) -> String {
    format!(
        "[[calendar.accounts]]\nname = \"cal\"\nuser = \"alice\"\nsource = \"caldav\"\nurl = \"{url}\"\nlogin = \"{login}\"\npassword_env = \"DAV_PW\"\n\n\
         [[contacts.accounts]]\nname = \"book\"\nuser = \"alice\"\nsource = \"carddav\"\nurl = \"{url}\"\nlogin = \"{login}\"\npassword_env = \"DAV_PW\"\n"
    )
}

#[test]
fn x1_check_discovers_radicale_calendars_and_address_books() {
    let Some(r) = harness::radicale() else { return };
    let (login, pw) = r.add_user("check");
    r.create_calendar(&login, "work");
    r.create_addressbook(&login, "crm");
    let env = Env::new(&dav_accounts(&r.url, &login));
    let (code, v, err) = check_json(&env, &[("DAV_PW", &pw)], &[]);
    assert_eq!(code, 0, "{v} {err}");
    let cal = row(&v, "calendar");
    assert_eq!(cal["status"], "ok", "{cal}");
    assert!(cal["detail"].as_str().unwrap().contains("VEVENT"), "{cal}");
    let book = row(&v, "contacts");
    assert_eq!(book["status"], "ok", "{book}");
}

#[test]
fn x2_wrong_dav_password_blocks_both_accounts_once() {
    let Some(r) = harness::radicale() else { return };
    let (login, _) = r.add_user("check-bad");
    let env = Env::new(&dav_accounts(&r.url, &login));
    let (code, v, _) = check_json(&env, &[("DAV_PW", "wrong")], &[]);
    assert_eq!(code, 1);
    for c in ["calendar", "contacts"] {
        let x = row(&v, c);
        assert_eq!(x["status"], "blocked", "{x}");
        assert!(
            x["detail"].as_str().unwrap().contains("crmsync unblock"),
            "{x}"
        );
    }
}

fn rest_config(url: &str) -> String {
    format!(
        "[crm]\nbackend = \"rest\"\n[crm.rest]\npreset = \"bottlecrm\"\nbase_url = \"{url}\"\ntoken_env = \"CRM_TOKEN\"\n"
    )
}

#[test]
fn x1_check_reaches_bottlecrm_and_blocks_a_refused_token() {
    let Some(b) = harness::bottlecrm() else {
        return;
    };
    let env = Env::new(&rest_config(&b.url));
    let (code, v, err) = check_json(&env, &[("CRM_TOKEN", &b.token)], &[]);
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(row(&v, "crm rest")["status"], "ok");

    let env = Env::new(&rest_config(&b.url));
    let (code, v, _) = check_json(&env, &[("CRM_TOKEN", "not-a-token")], &[]);
    assert_eq!(code, 1);
    let r = row(&v, "crm rest");
    assert_eq!(r["status"], "blocked", "{r}");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("crmsync unblock crm"),
        "{r}"
    );
}

/// stdout and stderr of a run, together (output routing may change).
fn combined(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every file under `dir`, for "nothing was created".
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn x17_check_without_config_fails_exit_2_and_creates_no_state_file() {
    use assert_cmd::cargo::CommandCargoExt;
    let home = tempfile::tempdir().unwrap();
    for json in [false, true] {
        let mut cmd = std::process::Command::cargo_bin("crmsync").unwrap();
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .arg("check")
            .env_remove("CRMSYNC_CONFIG")
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let all = combined(&out);
        // X7: a configuration error.
        assert_eq!(out.status.code(), Some(2), "{all}");
        assert!(all.contains("no config file"), "{all}");
        assert!(all.contains("crmsync init"), "{all}");
        assert!(all.contains("--config"), "{all}");
        assert!(!all.contains("all checks passed"), "{all}");
        // A check creates nothing it does not need: no state file, no lock.
        assert_eq!(files_under(home.path()), Vec::<std::path::PathBuf>::new());
    }
}

#[test]
fn x17_unopenable_state_is_a_failing_row_and_the_other_rows_run() {
    let maildir = "[[mail.accounts]]\nname = \"md\"\nuser = \"alice\"\nsource = \"maildir\"\npath = \"mail\"\n\n";
    // Nothing listens on port 1: a login would fail, not be skipped.
    let imap = imap_account("im", "alice", 1, "none", "alice", "");
    let env = Env::new(&format!("{maildir}{imap}"));
    std::fs::create_dir_all(env.path("mail/cur")).unwrap();
    // The state file's directory is a file.
    env.write("afile", "");
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("state = \"state.sqlite\"", "state = \"afile/state.sqlite\"");
    std::fs::write(&env.config, cfg).unwrap();
    let (code, v, err) = check_json(&env, &[("IMAP_PW", "x")], &[]);
    assert_eq!(code, 1, "{v} {err}");
    let state = row(&v, "state");
    assert_eq!(state["status"], "fail", "{state}");
    let detail = state["detail"].as_str().unwrap();
    assert!(
        detail.contains("afile is a file, not a directory") && detail.contains("--state PATH"),
        "{detail}"
    );
    assert_eq!(row(&v, "config")["status"], "ok", "{v}");
    assert_eq!(row(&v, "crm directory")["status"], "skipped", "{v}");
    let mail = rows_of(&v, "mail");
    assert_eq!(mail.len(), 2, "{v}");
    assert_eq!(mail[0]["status"], "ok", "the Maildir needs no state: {v}");
    assert_eq!(mail[1]["status"], "skipped", "{v}");
    assert!(
        mail[1]["detail"]
            .as_str()
            .unwrap()
            .contains("lockout guard"),
        "{v}"
    );

    // The state path is a directory.
    std::fs::create_dir(env.path("sdir")).unwrap();
    let sdir = env.path("sdir");
    let (code, all) = offline_check_at(&env, &sdir);
    assert_eq!(code, 1, "{all}");
    assert!(all.contains("is a directory: name a file in it"), "{all}");
    assert!(all.contains("state.sqlite"), "{all}");

    // A directory this user cannot write (not testable as root, who can).
    let ro = env.path("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
    if std::fs::write(ro.join("probe"), "").is_err() {
        let (code, all) = offline_check_at(&env, &ro.join("sub/state.sqlite"));
        assert_eq!(code, 1, "{all}");
        assert!(
            all.contains(&format!("chmod 700 {}", ro.display())),
            "{all}"
        );
        assert!(!ro.join("sub").exists());
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// Exit code and stdout + stderr of `crmsync --state STATE check --offline`.
fn offline_check_at(env: &Env, state: &std::path::Path) -> (i32, String) {
    let out = env
        .cmd()
        .arg("--state")
        .arg(state)
        .args(["check", "--offline"])
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), combined(&out))
}

/// Exit code and stdout + stderr of `crmsync ARGS` with `env`'s config.
fn run_all(env: &Env, args: &[&str]) -> (i32, String) {
    let (code, out, err) = env.run(args);
    (code, format!("{out}{err}"))
}

#[test]
fn x18_tls_to_dovecots_plain_port_is_named_with_the_fix() {
    let Some(d) = harness::dovecot() else { return };
    let (login, pw) = d.add_user("check-plain");
    d.create_folder(&login, "CRM Import");
    let ca = format!("ca_file = \"{}\"", d.ca_cert.display());
    let env = Env::new(&imap_account("m", "alice", d.port, "tls", &login, &ca));
    let (code, v, err) = check_json(&env, &[("IMAP_PW", &pw)], &[]);
    assert_eq!(code, 1, "{v} {err}");
    let r = row(&v, "mail");
    assert_eq!(r["status"], "fail", "{r}");
    let detail = r["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!(
            "port {} answered without TLS: it is a plain-text port; use port 993",
            d.port
        )) && detail.contains("tls = \"starttls\""),
        "{detail}"
    );
    for debug in ["InvalidContentType", "InvalidMessage", "corrupt message"] {
        assert!(!detail.contains(debug), "{debug}: {detail}");
    }
    // Not a wrong password: the account is not blocked (X2).
    assert!(!detail.contains("unblock"), "{detail}");
}

#[test]
fn x18_port_in_quotes_and_a_config_directory_are_said_in_words() {
    let env = Env::new(
        "[[mail.accounts]]\nname = \"m\"\nuser = \"alice\"\nsource = \"imap\"\nhost = \"127.0.0.1\"\n\
         port = \"143\"\npassword_env = \"IMAP_PW\"\n",
    );
    let (code, all) = run_all(&env, &["check"]);
    assert_eq!(code, 2, "{all}");
    assert!(
        all.contains("config.toml:")
            && all.contains("port must be a number without quotes: port = 143"),
        "{all}"
    );
    assert!(!all.contains("expected u16"), "{all}");
    assert!(!env.path("state.sqlite").exists());

    let dir = env.dir.path().to_str().unwrap().to_string();
    use assert_cmd::cargo::CommandCargoExt;
    let out = std::process::Command::cargo_bin("crmsync")
        .unwrap()
        .args(["--config", &dir, "check"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let all = combined(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains(&format!(
            "config {dir} is a directory; pass the config file, e.g. --config {dir}/config.toml"
        )),
        "{all}"
    );
    assert!(!all.contains("os error"), "{all}");
}

#[test]
fn x18_https_to_radicales_plain_http_port_is_named_with_the_fix() {
    let Some(r) = harness::radicale() else { return };
    let (login, pw) = r.add_user("check-plain-http");
    let https = r.url.replacen("http://", "https://", 1);
    let env = Env::new(&dav_accounts(&https, &login));
    let (code, v, err) = check_json(&env, &[("DAV_PW", &pw)], &[]);
    assert_eq!(code, 1, "{v} {err}");
    for c in ["calendar", "contacts"] {
        let x = row(&v, c);
        assert_eq!(x["status"], "fail", "{x}");
        let detail = x["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("port {} answered without TLS", r.port))
                && detail.contains("use the server's HTTPS port, or an http:// url"),
            "{detail}"
        );
        assert!(!detail.contains("unblock"), "{detail}");
    }
}
