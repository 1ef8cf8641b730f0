//! Real servers for the end-to-end tests: Dovecot (IMAP), Radicale
//! (CalDAV/CardDAV) and BottleCRM (a Django REST CRM), plus a tiny std-only
//! HTTP/1.1 client for checks.
//!
//! [`dovecot()`], [`radicale()`] and [`bottlecrm()`] start their server lazily,
//! at most once per test process, with the scripts in `scripts/testbed/`: on a
//! free loopback port, in a fresh temp dir, with `--watch <this pid> --purge`, so
//! a detached watcher stops the server and deletes its dir as soon as the test
//! process is gone (normal exit, panic or SIGKILL alike). Nothing needs to be
//! stopped by hand. The servers come from `scripts/testbed/install.sh`
//! (`scripts/test` runs it).
//!
//! Isolation: all tests of the process share the servers and run in parallel,
//! so every test makes its own accounts: [`Dovecot::add_user`],
//! [`Radicale::add_user`] (unique logins, added while the server runs) and,
//! for the CRM, its own org with [`BottleCrm::add_tenant`] (or unique names).
//!
//! A server that cannot be started: the accessor prints
//! `SKIPPED: <server> not available (run scripts/testbed/install.sh)` to stderr
//! and returns `None`, and the test returns early. With `CI=true` or
//! `CRMSYNC_REQUIRE_SERVERS=1` it panics instead, with the start script's
//! stderr and log tail (`CRMSYNC_REQUIRE_SERVERS=0` forces skipping).
//! `CRMSYNC_KEEP_TESTBED=1` keeps the server dirs (configs, logs, data) after
//! the run; their paths are printed.
#![allow(dead_code)] // a toolbox: not every helper is used by every test yet

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Loopback address every test server listens on.
pub const HOST: &str = "127.0.0.1";

/// How long a start script may take (BottleCRM's first start builds its
/// database template: ~10 s; a loaded CI machine may need much more).
const START_TIMEOUT: Duration = Duration::from_secs(300);

// ---------------------------------------------------------------------------
// Dovecot
// ---------------------------------------------------------------------------

/// A private Dovecot 2.3 IMAP server (`scripts/testbed/dovecot-up.sh`).
#[derive(Debug)]
pub struct Dovecot {
    /// Plain IMAP port: `LOGIN` works without TLS; `STARTTLS` is offered.
    pub port: u16,
    /// Implicit-TLS IMAPS port.
    pub imaps_port: u16,
    /// The instance dir: `dovecot.conf`, `users.d/`, `mail/<login>/Maildir`, `log/`.
    pub dir: PathBuf,
    /// PEM of the throwaway CA that signed the server certificate (CN=localhost,
    /// SAN DNS:localhost, IP:127.0.0.1): trust it to connect with TLS.
    pub ca_cert: PathBuf,
    /// The instance's config, for `doveadm -c`.
    pub conf: PathBuf,
    users_dir: PathBuf,
}

impl Dovecot {
    /// Add an account with a unique login `<prefix>-<n>` and a fresh password;
    /// returns `(login, password)`. Usable at once; the mailbox is created on
    /// first use.
    pub fn add_user(&self, prefix: &str) -> (String, String) {
        let login = unique_name(prefix);
        let password = new_password();
        self.add_login(&login, &password);
        (login, password)
    }

    /// Add (or re-password) an account with exactly this login (e.g.
    /// `jane@example.test`): the one-line passwd-file `users.d/<login>`,
    /// written atomically, which Dovecot reads on the login's first lookup.
    /// (Lines appended to `users` are only seen from the next second on:
    /// Dovecot 2.3 checks a passwd-file at most once per second.)
    pub fn add_login(&self, login: &str, password: &str) {
        check_credential(login, password);
        assert!(
            !login.contains('/') && !login.starts_with('.'),
            "unsupported Dovecot login {login:?}"
        );
        let tmp = self.users_dir.join(format!(".new-{login}"));
        fs::write(&tmp, format!("{login}:{{PLAIN}}{password}\n"))
            .unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
        fs::rename(&tmp, self.users_dir.join(login)).expect("rename passwd file");
    }

    /// Deliver one raw RFC 5322 message into `folder` (e.g. `"INBOX"`,
    /// `"Archive"`, created and subscribed if missing) of `login`, with
    /// `doveadm save` (runs as the mail user: right file ownership).
    pub fn append(&self, login: &str, folder: &str, raw_mail: &[u8]) {
        let first = self.doveadm_save(login, folder, raw_mail);
        if first.status.code() == Some(68) {
            // EX_NOUSER here means "mailbox doesn't exist".
            self.create_folder(login, folder);
            let second = self.doveadm_save(login, folder, raw_mail);
            check_output("doveadm save", &second);
        } else {
            check_output("doveadm save", &first);
        }
    }

    /// Create (and subscribe) a mailbox; no-op if it exists.
    pub fn create_folder(&self, login: &str, folder: &str) {
        let out = Command::new(sbin("doveadm"))
            .arg("-c")
            .arg(&self.conf)
            .args(["mailbox", "create", "-s", "-u", login, folder])
            .stdin(Stdio::null())
            .output()
            .expect("run doveadm");
        // 65: "Mailbox already exists".
        if out.status.code() != Some(65) {
            check_output("doveadm mailbox create", &out);
        }
    }

    /// Delete a mailbox with its mail (`doveadm mailbox delete -r`); panics
    /// if doveadm fails (a test relying on it must not pass vacuously).
    pub fn delete_folder(&self, login: &str, folder: &str) {
        let out = Command::new(sbin("doveadm"))
            .arg("-c")
            .arg(&self.conf)
            .args(["mailbox", "delete", "-r", "-u", login, folder])
            .stdin(Stdio::null())
            .output()
            .expect("run doveadm");
        check_output("doveadm mailbox delete", &out);
    }

    /// The folder's UIDVALIDITY (`doveadm mailbox status`).
    pub fn uid_validity(&self, login: &str, folder: &str) -> String {
        let out = Command::new(sbin("doveadm"))
            .arg("-c")
            .arg(&self.conf)
            .args(["mailbox", "status", "-u", login, "uidvalidity", folder])
            .stdin(Stdio::null())
            .output()
            .expect("run doveadm");
        check_output("doveadm mailbox status", &out);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn doveadm_save(&self, login: &str, folder: &str, raw_mail: &[u8]) -> std::process::Output {
        let mut child = Command::new(sbin("doveadm"))
            .arg("-c")
            .arg(&self.conf)
            .args(["save", "-u", login, "-m", folder])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run doveadm");
        {
            let mut stdin = child.stdin.take().expect("doveadm stdin");
            stdin.write_all(raw_mail).expect("write message to doveadm");
        }
        child.wait_with_output().expect("wait for doveadm")
    }
}

// ---------------------------------------------------------------------------
// Radicale
// ---------------------------------------------------------------------------

/// A private Radicale 3 CalDAV/CardDAV server (`scripts/testbed/radicale-up.sh`).
#[derive(Debug)]
pub struct Radicale {
    pub port: u16,
    /// Base URL with a trailing slash: `http://127.0.0.1:<port>/`. A user's
    /// home (principal) collection is `<url><login>/`.
    pub url: String,
    /// The instance dir: `config`, `users`, `collections/`, `radicale.log`.
    pub dir: PathBuf,
    users_file: PathBuf,
    collections: PathBuf,
    users_lock: Mutex<()>,
}

impl Radicale {
    /// Add an account with a unique login `<prefix>-<n>` and a fresh password;
    /// returns `(login, password)`. Usable at once (plain htpasswd file,
    /// re-read on every login).
    pub fn add_user(&self, prefix: &str) -> (String, String) {
        let login = unique_name(prefix);
        let password = new_password();
        self.add_login(&login, &password);
        (login, password)
    }

    /// Add an account with exactly this login.
    pub fn add_login(&self, login: &str, password: &str) {
        check_credential(login, password);
        assert!(
            !login.contains('/'),
            "a Radicale login cannot contain '/': {login:?}"
        );
        let _guard = self.users_lock.lock().unwrap_or_else(|e| e.into_inner());
        append_line(&self.users_file, &format!("{login}:{password}"));
    }

    /// Create an (empty) calendar `<url><login>/<name>/` for VEVENT and VTODO;
    /// returns its URL. Written straight into Radicale's storage, which serves
    /// it at once.
    pub fn create_calendar(&self, login: &str, name: &str) -> String {
        self.create_collection(
            login,
            name,
            &format!(
                r#"{{"tag": "VCALENDAR", "D:displayname": {}, "C:supported-calendar-component-set": "VEVENT,VTODO"}}"#,
                json_str(name)
            ),
        )
    }

    /// Create an (empty) address book `<url><login>/<name>/`; returns its URL.
    pub fn create_addressbook(&self, login: &str, name: &str) -> String {
        self.create_collection(
            login,
            name,
            &format!(
                r#"{{"tag": "VADDRESSBOOK", "D:displayname": {}}}"#,
                json_str(name)
            ),
        )
    }

    pub fn create_collection(&self, login: &str, name: &str, props: &str) -> String {
        for part in [login, name] {
            assert!(
                !part.is_empty()
                    && !part.starts_with('.')
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c)),
                "unsupported collection path part {part:?}"
            );
        }
        let dir = self.collections.join(login).join(name);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        fs::write(dir.join(".Radicale.props"), props).expect("write .Radicale.props");
        format!("{}{login}/{name}/", self.url)
    }
}

// ---------------------------------------------------------------------------
// BottleCRM
// ---------------------------------------------------------------------------

/// A private BottleCRM (PyPI django-crm 1.35.0) with a fresh SQLite database
/// (`scripts/testbed/bottlecrm-up.sh`). REST API under `<url>/api/`, with
/// `Authorization: Bearer <token>`.
#[derive(Debug)]
pub struct BottleCrm {
    pub port: u16,
    /// Base URL without a trailing slash: `http://127.0.0.1:<port>`.
    pub url: String,
    /// Personal access token of the admin of org "TestOrg" (shared by all tests:
    /// use unique names, or [`BottleCrm::add_tenant`] for an org of your own).
    pub token: String,
    pub org_id: String,
    /// The instance dir: `crm.sqlite3`, `gunicorn.log`, `env.sh`.
    pub dir: PathBuf,
}

impl BottleCrm {
    /// Create a new org (tenant) named `<prefix>-<n>`, whose data no other
    /// org sees, and return `(token, org_id)` of its admin. Takes ~2 s.
    pub fn add_tenant(&self, prefix: &str) -> (String, String) {
        let name = unique_name(prefix);
        let out = Command::new("bash")
            .arg(script("bottlecrm-tenant.sh"))
            .arg(&self.dir)
            .arg(&name)
            .stdin(Stdio::null())
            .output()
            .expect("run bottlecrm-tenant.sh");
        check_output("bottlecrm-tenant.sh", &out);
        let vars = parse_vars(&String::from_utf8_lossy(&out.stdout));
        (vars["CRM_TOKEN"].clone(), vars["CRM_ORG_ID"].clone())
    }
}

// ---------------------------------------------------------------------------
// Accessors
// ---------------------------------------------------------------------------

/// The shared Dovecot, started on first use; `None` (after a `SKIPPED:` line)
/// if it cannot start and servers are not required.
pub fn dovecot() -> Option<&'static Dovecot> {
    static SERVER: OnceLock<Result<Dovecot, String>> = OnceLock::new();
    static NOTED: AtomicBool = AtomicBool::new(false);
    let started = SERVER.get_or_init(|| {
        let up = start("dovecot", "dovecot-up.sh", 2, |p| {
            vec![p[0].to_string(), p[1].to_string()]
        })?;
        Ok(Dovecot {
            port: up.port("TB_IMAP_PORT")?,
            imaps_port: up.port("TB_IMAPS_PORT")?,
            ca_cert: up.path("TB_IMAP_CA")?,
            conf: up.path("TB_IMAP_CONF")?,
            users_dir: up.path("TB_IMAP_USERS_DIR")?,
            dir: up.dir,
        })
    });
    available("dovecot", started, &NOTED)
}

/// The shared Radicale, started on first use; see [`dovecot()`].
pub fn radicale() -> Option<&'static Radicale> {
    static SERVER: OnceLock<Result<Radicale, String>> = OnceLock::new();
    static NOTED: AtomicBool = AtomicBool::new(false);
    let started = SERVER.get_or_init(|| {
        let up = start("radicale", "radicale-up.sh", 1, |p| vec![p[0].to_string()])?;
        Ok(Radicale {
            port: up.port("TB_DAV_PORT")?,
            url: up.var("TB_DAV_URL")?,
            users_file: up.path("TB_DAV_USERS_FILE")?,
            collections: up.path("TB_DAV_COLLECTIONS")?,
            dir: up.dir,
            users_lock: Mutex::new(()),
        })
    });
    available("radicale", started, &NOTED)
}

/// The shared BottleCRM, started on first use; see [`dovecot()`].
pub fn bottlecrm() -> Option<&'static BottleCrm> {
    static SERVER: OnceLock<Result<BottleCrm, String>> = OnceLock::new();
    static NOTED: AtomicBool = AtomicBool::new(false);
    let started = SERVER.get_or_init(|| {
        let up = start("bottlecrm", "bottlecrm-up.sh", 1, |p| {
            vec![p[0].to_string()]
        })?;
        Ok(BottleCrm {
            port: up.port("TB_CRM_PORT")?,
            url: up.var("CRM_URL")?,
            token: up.var("CRM_TOKEN")?,
            org_id: up.var("CRM_ORG_ID")?,
            dir: up.dir,
        })
    });
    available("bottlecrm", started, &NOTED)
}

/// Servers that cannot start fail the tests (`CI=true`, or
/// `CRMSYNC_REQUIRE_SERVERS=1`) rather than skipping them.
pub fn servers_required() -> bool {
    match std::env::var("CRMSYNC_REQUIRE_SERVERS").as_deref() {
        Ok("1" | "true" | "yes") => true,
        Ok("0" | "false" | "no") => false,
        _ => std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
    }
}

fn available<T>(
    name: &str,
    started: &'static Result<T, String>,
    noted: &AtomicBool,
) -> Option<&'static T> {
    match started {
        Ok(server) => Some(server),
        Err(why) if servers_required() => {
            panic!(
                "{name} could not be started, and servers are required (CI=true or CRMSYNC_REQUIRE_SERVERS=1):\n{why}"
            )
        }
        Err(why) => {
            // Straight to the process's stderr: libtest's capture would hide a
            // passing test's eprintln!.
            let test = std::thread::current().name().unwrap_or("?").to_string();
            let mut msg = format!(
                "SKIPPED: {name} not available (run scripts/testbed/install.sh) [test {test}]\n"
            );
            if !noted.swap(true, Ordering::SeqCst) {
                for line in why.lines() {
                    let _ = writeln!(msg, "    {line}");
                }
            }
            let _ = io::stderr().write_all(msg.as_bytes());
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Starting a server
// ---------------------------------------------------------------------------

struct Up {
    dir: PathBuf,
    vars: HashMap<String, String>,
}

impl Up {
    fn var(&self, key: &str) -> Result<String, String> {
        self.vars
            .get(key)
            .cloned()
            .ok_or_else(|| format!("start script printed no {key}: {:?}", self.vars))
    }
    fn port(&self, key: &str) -> Result<u16, String> {
        self.var(key)?.parse().map_err(|e| format!("{key}: {e}"))
    }
    fn path(&self, key: &str) -> Result<PathBuf, String> {
        self.var(key).map(PathBuf::from)
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts/testbed")
        .join(name)
}

fn keep_dirs() -> bool {
    std::env::var("CRMSYNC_KEEP_TESTBED").is_ok_and(|v| v == "1" || v == "true")
}

/// Run `scripts/testbed/<script> --watch <pid> [--purge] DIR <args(ports)>`
/// in a fresh temp dir on `nports` free ports; up to 3 tries (another process
/// may grab a port between our probe and the server's bind).
fn start(
    name: &str,
    script_name: &str,
    nports: usize,
    args: impl Fn(&[u16]) -> Vec<String>,
) -> Result<Up, String> {
    let mut errors = String::new();
    for attempt in 1..=3 {
        let dir = tempfile::Builder::new()
            .prefix(&format!("crmsync-e2e-{name}-"))
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?
            .keep();
        // Dovecot's unprivileged run-as user must be able to enter it.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("chmod {}: {e}", dir.display()))?;
        let ports = free_ports(nports).map_err(|e| format!("free port: {e}"))?;
        let t0 = Instant::now();
        // Output to files, not pipes: a daemon that inherited a pipe would
        // make us wait for its end forever.
        let out_path = dir.join("up.stdout");
        let err_path = dir.join("up.stderr");
        let mut cmd = Command::new("bash");
        cmd.arg(script(script_name))
            .arg("--watch")
            .arg(std::process::id().to_string());
        if !keep_dirs() {
            cmd.arg("--purge");
        }
        cmd.arg(&dir)
            .args(args(&ports))
            .stdin(Stdio::null())
            .stdout(File::create(&out_path).map_err(|e| e.to_string())?)
            .stderr(File::create(&err_path).map_err(|e| e.to_string())?);
        let code = run_with_timeout(&mut cmd, START_TIMEOUT)
            .map_err(|e| format!("run {script_name}: {e}"))?;
        let stdout = fs::read_to_string(&out_path).unwrap_or_default();
        let stderr = fs::read_to_string(&err_path).unwrap_or_default();
        if code == Some(0) {
            let vars = parse_vars(&stdout);
            let _ = writeln!(
                io::stderr(),
                "harness: {name} up on {HOST}:{ports:?} in {:.1} s{}",
                t0.elapsed().as_secs_f64(),
                if keep_dirs() {
                    format!(" (dir kept: {})", dir.display())
                } else {
                    String::new()
                }
            );
            return Ok(Up { dir, vars });
        }
        if !keep_dirs() {
            let _ = fs::remove_dir_all(&dir);
        }
        let _ = write!(
            errors,
            "{script_name} (try {attempt}, ports {ports:?}) exited with {}:\n{}",
            code.map_or("a signal or timeout".to_string(), |c| c.to_string()),
            stderr.trim_end()
        );
        if code == Some(3) {
            break; // not installed: retrying cannot help
        }
        errors.push('\n');
    }
    Err(errors)
}

fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> io::Result<Option<i32>> {
    let mut child = cmd.spawn()?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status.code());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `n` distinct free loopback ports (all probes held open together).
fn free_ports(n: usize) -> io::Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind((HOST, 0)))
        .collect::<io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr()?.port()))
        .collect()
}

/// `KEY=VALUE` lines (as printed by the up scripts).
fn parse_vars(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

/// `<prefix>-<n>`, unique within the test process (all servers are private to
/// it). The prefix is reduced to `[A-Za-z0-9._-]`.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let clean: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clean = if clean.is_empty() {
        "u".to_string()
    } else {
        clean
    };
    format!("{clean}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn new_password() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("pw{}x{nanos:08x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn check_credential(login: &str, password: &str) {
    for (what, s) in [("login", login), ("password", password)] {
        assert!(
            !s.is_empty()
                && !s
                    .chars()
                    .any(|c| c == ':' || c.is_control() || c.is_whitespace()),
            "unsupported {what} {s:?} (no ':', spaces or control characters)"
        );
    }
}

fn append_line(path: &Path, line: &str) {
    let mut f = OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    f.write_all(format!("{line}\n").as_bytes())
        .unwrap_or_else(|e| panic!("append to {}: {e}", path.display()));
}

fn check_output(what: &str, out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `doveadm` and friends live in sbin, which a non-root PATH may lack.
fn sbin(tool: &str) -> PathBuf {
    ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"]
        .iter()
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(tool))
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------
// Minimal HTTP/1.1 client (std only) for checks against the test servers
// ---------------------------------------------------------------------------

/// A response read by [`http`].
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request to an `http://host:port/path` URL on a fresh connection
/// (`Connection: close`). `headers` come on top of Host, Content-Length and
/// Connection. Handles `Content-Length`, chunked and read-to-close bodies.
pub fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<HttpResponse> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{m}: {url}"));
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| bad("only http:// URLs"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut stream = TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (k, v) in headers {
        let _ = write!(req, "{k}: {v}\r\n");
    }
    if !body.is_empty() || !matches!(method, "GET" | "HEAD" | "DELETE" | "OPTIONS") {
        let _ = write!(req, "Content-Length: {}\r\n", body.len());
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw, method == "HEAD")
}

fn parse_response(raw: &[u8], head: bool) -> io::Result<HttpResponse> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of HTTP header"))?;
    let head_text = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head_text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(&format!("bad status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    if head {
        body.clear();
    } else if chunked {
        body = dechunk(&body)?;
    } else if let Some(len) = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> io::Result<Vec<u8>> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "bad chunked body");
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n").ok_or_else(bad)?;
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| bad())?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err(bad());
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// `Basic <base64(user:password)>` for an `Authorization` header.
pub fn basic_auth(user: &str, password: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}");
    let mut out = String::from("Basic ");
    for chunk in input.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_is_rfc4648_base64() {
        assert_eq!(
            basic_auth("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic_auth("a", "b"), "Basic YTpi");
        assert_eq!(basic_auth("ab", "c"), "Basic YWI6Yw==");
    }

    #[test]
    fn unique_names_differ_and_are_clean() {
        let a = unique_name("a b");
        let b = unique_name("a b");
        assert_ne!(a, b);
        assert!(a.starts_with("a_b-"));
    }

    #[test]
    fn parses_chunked_response() {
        let raw = b"HTTP/1.1 207 Multi-Status\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let r = parse_response(raw, false).unwrap();
        assert_eq!(r.status, 207);
        assert_eq!(r.body, b"abcde");
    }
}

// ---------------------------------------------------------------------------
// Measuring a child
// ---------------------------------------------------------------------------

/// A finished child process: exit code, output, its own peak RSS, wall time.
#[derive(Debug)]
pub struct Measured {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Peak resident set size of the child itself, in MB.
    pub rss_mb: u64,
    pub elapsed: Duration,
}

/// Forks and execs its arguments, waits for the child with wait4(2) and
/// appends the child's peak RSS to its stderr. A small forking parent is
/// needed: Linux folds the memory the process had before `exec` into the
/// peak wait4 reports, and a child spawned from the test process itself
/// (vfork) would report the test process's own peak.
const MEASURE_PY: &str = "import os, sys\n\
pid = os.fork()\n\
if pid == 0:\n    os.execvp(sys.argv[1], sys.argv[1:])\n\
_, status, usage = os.wait4(pid, 0)\n\
sys.stderr.write('\\ncrmsync-test-maxrss-kb=%d\\n' % usage.ru_maxrss)\n\
sys.exit(os.waitstatus_to_exitcode(status))\n";

/// The marker [`MEASURE_PY`] writes.
const MAXRSS: &str = "crmsync-test-maxrss-kb=";

/// Runs `cmd` to its end under [`MEASURE_PY`] (python3 is part of the test
/// bed): the child's own peak RSS, exact and independent of the other
/// tests' children running in parallel.
pub fn run_measured(cmd: Command) -> Measured {
    let mut py = Command::new("python3");
    py.arg("-c")
        .arg(MEASURE_PY)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .envs(
            cmd.get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .stdin(Stdio::null());
    for (k, v) in cmd.get_envs() {
        if v.is_none() {
            py.env_remove(k);
        }
    }
    if let Some(dir) = cmd.get_current_dir() {
        py.current_dir(dir);
    }
    let t0 = Instant::now();
    let out = py
        .output()
        .expect("python3 (part of the test bed) runs the child");
    let elapsed = t0.elapsed();
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let at = stderr
        .rfind(MAXRSS)
        .unwrap_or_else(|| panic!("no peak RSS reported: {stderr}"));
    let kb: u64 = stderr[at + MAXRSS.len()..]
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("peak RSS in {stderr}: {e}"));
    stderr.truncate(at);
    Measured {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        rss_mb: kb / 1024,
        elapsed,
    }
}
