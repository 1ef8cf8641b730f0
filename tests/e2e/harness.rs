//! Real servers for the end-to-end tests: Dovecot and Cyrus (IMAP), Radicale
//! and Xandikos (CalDAV/CardDAV) and BottleCRM (a Django REST CRM), plus a tiny std-only
//! HTTP/1.1 client for checks.
//!
//! The IMAP servers of the matrix (issue 15) share one interface,
//! [`ImapServer`]: Dovecot ([`dovecot()`], separator `/`), Cyrus IMAP 3.6 in
//! its classic namespace ([`cyrus_classic()`]: every folder below `INBOX`,
//! separator `.`) and in its alternate namespace ([`cyrus_alt()`]: folders
//! beside INBOX, separator `/`).
//!
//! [`dovecot()`], [`cyrus_classic()`], [`cyrus_alt()`], [`radicale()`] and
//! [`bottlecrm()`] start their server lazily, at most once per test process
//! ([`xandikos()`]: one instance per test), with the scripts in `scripts/testbed/`: on a
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
//! Xandikos is the exception: it has no accounts (one principal, `/user/`,
//! whatever the credentials), so [`xandikos()`] starts a private instance for
//! each test (~1 s), stopped when the returned [`Xandikos`] is dropped.
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
    /// The server `dovecot-up.sh` started, from the variables it printed.
    fn from_up(up: Up) -> Result<Dovecot, String> {
        Ok(Dovecot {
            port: up.port("TB_IMAP_PORT")?,
            imaps_port: up.port("TB_IMAPS_PORT")?,
            ca_cert: up.path("TB_IMAP_CA")?,
            conf: up.path("TB_IMAP_CONF")?,
            users_dir: up.path("TB_IMAP_USERS_DIR")?,
            dir: up.dir,
        })
    }

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
// The IMAP servers of the matrix
// ---------------------------------------------------------------------------

/// One message as a mail client sees it (for checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub uid: u32,
    /// System flags as `\Seen`, keywords as sent (`$CRMImported`); no `\Recent`.
    pub flags: Vec<String>,
    /// The Subject header's value (unfolded, undecoded).
    pub subject: String,
}

/// What the import-mail tests do to a mailbox, the same on every IMAP server
/// of the matrix (issue 15): each scenario is written once against this.
/// Folder arguments are names as the server lists them (see
/// [`ImapServer::folder`]), decoded from modified UTF-7.
pub trait ImapServer: Sync + std::fmt::Debug {
    /// `dovecot`, `cyrus_classic`, `cyrus_alt`.
    fn name(&self) -> &'static str;
    /// Plain IMAP port on [`HOST`] (LOGIN without TLS).
    fn port(&self) -> u16;
    /// A fresh account; see [`Dovecot::add_user`].
    fn add_user(&self, prefix: &str) -> (String, String);
    /// The server's name for a personal folder given by its path below the
    /// personal namespace, `/` between levels: `CRM Import/Kunden` is
    /// `INBOX.CRM Import.Kunden` on Cyrus classic, unchanged elsewhere.
    /// `INBOX` stays `INBOX`.
    fn folder(&self, path: &str) -> String;
    /// Create (and subscribe) a folder; no-op if it exists.
    fn create_folder(&self, login: &str, folder: &str);
    /// Deliver one raw message into a folder, created if missing.
    fn append(&self, login: &str, folder: &str, raw_mail: &[u8]);
    /// Delete a folder with its mail; panics if the server refuses.
    fn delete_folder(&self, login: &str, folder: &str);
    /// The folder's UIDVALIDITY.
    fn uid_validity(&self, login: &str, folder: &str) -> String;
    /// Every message of a folder, by UID.
    fn messages(&self, login: &str, folder: &str) -> Vec<Message>;
}

impl ImapServer for Dovecot {
    fn name(&self) -> &'static str {
        "dovecot"
    }
    fn port(&self) -> u16 {
        self.port
    }
    fn add_user(&self, prefix: &str) -> (String, String) {
        Dovecot::add_user(self, prefix)
    }
    fn folder(&self, path: &str) -> String {
        path.to_string()
    }
    fn create_folder(&self, login: &str, folder: &str) {
        Dovecot::create_folder(self, login, folder);
    }
    fn append(&self, login: &str, folder: &str, raw_mail: &[u8]) {
        Dovecot::append(self, login, folder, raw_mail);
    }
    fn delete_folder(&self, login: &str, folder: &str) {
        Dovecot::delete_folder(self, login, folder);
    }
    fn uid_validity(&self, login: &str, folder: &str) -> String {
        Dovecot::uid_validity(self, login, folder)
    }
    fn messages(&self, login: &str, folder: &str) -> Vec<Message> {
        let out = Command::new(sbin("doveadm"))
            .arg("-c")
            .arg(&self.conf)
            .args(["-f", "tab", "fetch", "-u", login, "uid flags hdr.subject"])
            .args(["mailbox", folder])
            .stdin(Stdio::null())
            .output()
            .expect("run doveadm");
        check_output("doveadm fetch", &out);
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .skip(1) // the header line: uid flags hdr.subject
            .filter_map(|l| {
                let mut cols = l.splitn(3, '\t');
                let uid = cols.next()?.trim().parse().ok()?;
                let flags = cols
                    .next()
                    .unwrap_or("")
                    .split_whitespace()
                    .filter(|f| *f != "\\Recent")
                    .map(str::to_string)
                    .collect();
                Some(Message {
                    uid,
                    flags,
                    subject: cols.next().unwrap_or("").trim().to_string(),
                })
            })
            .collect()
    }
}

/// A private Cyrus IMAP 3.6 (`scripts/testbed/cyrus-up.sh`), in one of its
/// two namespace layouts. Folders and mail are made over IMAP as the user
/// (one cached session per login), the way a mail client makes them.
pub struct Cyrus {
    pub port: u16,
    /// `classic` or `alt`.
    pub layout: &'static str,
    /// The instance dir: `imapd.conf`, `cyrus.conf`, `sasldb2`, `spool/`, `log/`.
    pub dir: PathBuf,
    /// Cyrus's syslog, caught into a file (`none` when it could not be).
    pub syslog: PathBuf,
    /// Hierarchy separator: `.` (classic) or `/` (alt).
    pub sep: char,
    /// Personal namespace prefix: `INBOX.` (classic) or empty (alt).
    pub personal: String,
    sasldb: PathBuf,
    realm: String,
    /// Accounts made when the server started, not handed out yet: adding
    /// one to the sasldb while the server reads it could fail a login.
    pool: Mutex<Vec<(String, String)>>,
    passwords: Mutex<HashMap<String, String>>,
    sessions: Mutex<HashMap<String, imap::Session<TcpStream>>>,
}

impl std::fmt::Debug for Cyrus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cyrus")
            .field("port", &self.port)
            .field("layout", &self.layout)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Accounts made at start per Cyrus instance (more are added on demand).
const CYRUS_POOL: usize = 32;

impl Cyrus {
    /// The last lines of Cyrus's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.syslog).unwrap_or_else(|e| {
            format!(
                "(no Cyrus log at {}: {e}; Cyrus logs only to syslog)",
                self.syslog.display()
            )
        });
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(15);
        format!(
            "--- last lines of {}:\n{}",
            self.syslog.display(),
            lines[from..].join("\n")
        )
    }

    fn password(&self, login: &str) -> String {
        let known = self.passwords.lock().unwrap_or_else(|e| e.into_inner());
        known
            .get(login)
            .cloned()
            .unwrap_or_else(|| panic!("{login} is not an account made by add_user on {self:?}"))
    }

    /// Runs `f` on the cached session of `login` (logged in on first use).
    fn with_session<T>(
        &self,
        login: &str,
        what: &str,
        f: impl FnOnce(&mut imap::Session<TcpStream>) -> imap::Result<T>,
    ) -> T {
        let password = self.password(login);
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if !sessions.contains_key(login) {
            let tcp = TcpStream::connect((HOST, self.port)).unwrap_or_else(|e| {
                panic!("connect to Cyrus {}: {e}\n{}", self.layout, self.log_tail())
            });
            let mut client = imap::Client::new(tcp);
            client
                .read_greeting()
                .unwrap_or_else(|e| panic!("Cyrus greeting: {e}\n{}", self.log_tail()));
            let session = client
                .login(login, &password)
                .unwrap_or_else(|(e, _)| panic!("Cyrus LOGIN {login}: {e}\n{}", self.log_tail()));
            sessions.insert(login.to_string(), session);
        }
        let session = sessions.get_mut(login).expect("session just made");
        match f(session) {
            Ok(v) => v,
            Err(e) => {
                sessions.remove(login);
                panic!(
                    "Cyrus {} ({login}): {what}: {e}\n{}",
                    self.layout,
                    self.log_tail()
                )
            }
        }
    }

    /// A name as sent: modified UTF-7.
    fn wire(folder: &str) -> String {
        crmsync::source::utf7::encode(folder)
    }

    /// Whether LIST shows the folder (`Session::list` sends the pattern
    /// unquoted: quoted and escaped here).
    fn exists(s: &mut imap::Session<TcpStream>, wire: &str) -> imap::Result<bool> {
        let quoted = format!("\"{}\"", wire.replace('\\', "\\\\").replace('"', "\\\""));
        Ok(!s.list(Some(""), Some(&quoted))?.is_empty())
    }

    /// An account in the sasldb (the server reads it on every login).
    fn saslpasswd(&self, login: &str, password: &str) {
        let mut child = Command::new(sbin("saslpasswd2"))
            .args(["-p", "-c", "-f"])
            .arg(&self.sasldb)
            .args(["-u", &self.realm, login])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run saslpasswd2");
        child
            .stdin
            .take()
            .expect("saslpasswd2 stdin")
            .write_all(password.as_bytes())
            .expect("write to saslpasswd2");
        check_output(
            "saslpasswd2",
            &child.wait_with_output().expect("saslpasswd2"),
        );
    }
}

/// While alive, a panicking test prints the tail of Cyrus's log to its
/// output: Cyrus logs only to syslog, and the reason for a refusal is there.
pub struct LogOnPanic(&'static Cyrus);

impl Cyrus {
    /// See [`LogOnPanic`].
    pub fn log_on_panic(&'static self) -> LogOnPanic {
        LogOnPanic(self)
    }
}

impl Drop for LogOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.0.log_tail());
        }
    }
}

impl ImapServer for Cyrus {
    fn name(&self) -> &'static str {
        if self.layout == "classic" {
            "cyrus_classic"
        } else {
            "cyrus_alt"
        }
    }
    fn port(&self) -> u16 {
        self.port
    }
    /// An account from the pool made at start (its login is `cy-<n>`, not
    /// `<prefix>-<n>`), or, once that is used up, a new one (serialized).
    fn add_user(&self, prefix: &str) -> (String, String) {
        let pooled = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let (login, password) = pooled.unwrap_or_else(|| {
            static ADDING: Mutex<()> = Mutex::new(());
            let _one = ADDING.lock().unwrap_or_else(|e| e.into_inner());
            let login = unique_name(prefix).replace('.', "_");
            let password = new_password();
            self.saslpasswd(&login, &password);
            (login, password)
        });
        self.passwords
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(login.clone(), password.clone());
        (login, password)
    }
    fn folder(&self, path: &str) -> String {
        if path.eq_ignore_ascii_case("INBOX") {
            return "INBOX".to_string();
        }
        format!(
            "{}{}",
            self.personal,
            path.replace('/', &self.sep.to_string())
        )
    }
    fn create_folder(&self, login: &str, folder: &str) {
        let wire = Self::wire(folder);
        self.with_session(login, &format!("CREATE {folder}"), |s| {
            if !Self::exists(s, &wire)? {
                s.create(&wire)?;
                s.subscribe(&wire)?;
            }
            Ok(())
        });
    }
    fn append(&self, login: &str, folder: &str, raw_mail: &[u8]) {
        let wire = Self::wire(folder);
        self.with_session(login, &format!("APPEND to {folder}"), |s| {
            if !folder.eq_ignore_ascii_case("INBOX") && !Self::exists(s, &wire)? {
                s.create(&wire)?;
                s.subscribe(&wire)?;
            }
            s.append(&wire, raw_mail).finish().map(|_| ())
        });
    }
    fn delete_folder(&self, login: &str, folder: &str) {
        let wire = Self::wire(folder);
        self.with_session(login, &format!("DELETE {folder}"), |s| {
            // Not the open one (Cyrus refuses to delete a selected mailbox).
            s.select("INBOX")?;
            s.delete(&wire)
        });
    }
    fn uid_validity(&self, login: &str, folder: &str) -> String {
        let wire = Self::wire(folder);
        self.with_session(login, &format!("STATUS {folder}"), |s| {
            s.status(&wire, "(UIDVALIDITY)")
                .map(|m| m.uid_validity.map_or_else(String::new, |v| v.to_string()))
        })
    }
    fn messages(&self, login: &str, folder: &str) -> Vec<Message> {
        let wire = Self::wire(folder);
        self.with_session(login, &format!("reading {folder}"), |s| {
            let mb = s.examine(&wire)?;
            if mb.exists == 0 {
                return Ok(Vec::new());
            }
            let fetches = s.uid_fetch("1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")?;
            let mut out: Vec<Message> = fetches
                .iter()
                .filter_map(|f| {
                    let flags = f
                        .flags()
                        .iter()
                        .filter(|fl| **fl != imap::types::Flag::Recent)
                        .map(|fl| fl.to_string())
                        .collect();
                    let head = String::from_utf8_lossy(f.header().unwrap_or_default()).into_owned();
                    let subject = head
                        .replace("\r\n ", " ")
                        .replace("\r\n\t", " ")
                        .split_once(':')
                        .map(|(_, v)| v.trim().to_string())
                        .unwrap_or_default();
                    Some(Message {
                        uid: f.uid?,
                        flags,
                        subject,
                    })
                })
                .collect();
            out.sort_by_key(|m| m.uid);
            Ok(out)
        })
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
// The server matrix
// ---------------------------------------------------------------------------

/// The server matrix of issue 15 (docs/SERVERS.md):
/// `server_matrix!(case [servers...] scenarios...)` makes each scenario a
/// module `<scenario>` with one test per server, written by the calling
/// file's own `case!(server scenario)` (which builds that server's world).
/// A scenario that cannot apply to a server is not listed for it, and the
/// expected-differences table of docs/SERVERS.md says why.
#[macro_export]
macro_rules! server_matrix {
    (@each $case:ident [$($server:ident)*] $name:ident) => {
        $($case!($server $name);)*
    };
    ($case:ident $servers:tt $($name:ident),* $(,)?) => {$(
        mod $name {
            $crate::server_matrix!(@each $case $servers $name);
        }
    )*};
}

// ---------------------------------------------------------------------------
// Xandikos
// ---------------------------------------------------------------------------

/// A private Xandikos CalDAV/CardDAV server for one test
/// (`scripts/testbed/xandikos-up.sh`, PyPI `xandikos`, pinned in
/// `install.sh`). It has no authentication: every request acts as its one
/// principal `/user/`, so tests are kept apart by giving each its own
/// instance (see [`xandikos()`]); credentials a client sends are ignored.
/// Dropping it stops the server (and deletes its dir unless
/// `CRMSYNC_KEEP_TESTBED=1`).
#[derive(Debug)]
pub struct Xandikos {
    pub port: u16,
    /// Base URL with a trailing slash: `http://127.0.0.1:<port>/`. Discovery
    /// from here finds the principal `/user/` (RFC 5397
    /// current-user-principal), as a client configured with the server's
    /// address would.
    pub url: String,
    /// The calendar home `<url>user/calendars/` (empty at start).
    pub calendars: String,
    /// The address book home `<url>user/contacts/` (empty at start).
    pub contacts: String,
    /// The instance dir: `data/` (git stores), `xandikos.log`.
    pub dir: PathBuf,
}

impl Xandikos {
    /// Any login: Xandikos ignores credentials.
    pub const LOGIN: &'static str = "user";
    /// Any password: Xandikos ignores credentials.
    pub const PASSWORD: &'static str = "unused-by-xandikos";

    /// Create an (empty) calendar `<calendars><name>/` for VEVENT and VTODO
    /// with MKCALENDAR (RFC 4791 §5.3.1); returns its URL.
    pub fn create_calendar(&self, name: &str) -> String {
        let url = format!("{}{}/", self.calendars, collection_part(name));
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>{name}</D:displayname><C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"#
        );
        self.make("MKCALENDAR", &url, &body);
        url
    }

    /// Create an (empty) address book `<contacts><name>/` with extended
    /// MKCOL (RFC 5689); returns its URL.
    pub fn create_addressbook(&self, name: &str) -> String {
        let url = format!("{}{}/", self.contacts, collection_part(name));
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype><D:displayname>{name}</D:displayname></D:prop></D:set></D:mkcol>"#
        );
        self.make("MKCOL", &url, &body);
        url
    }

    fn make(&self, method: &str, url: &str, body: &str) {
        let resp = http(
            method,
            url,
            &[("Content-Type", "application/xml; charset=utf-8")],
            body.as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        assert_eq!(resp.status, 201, "{method} {url}: {}", resp.text());
    }
}

impl Drop for Xandikos {
    fn drop(&mut self) {
        let mut cmd = Command::new("bash");
        cmd.arg(script("down.sh"));
        if !keep_dirs() {
            cmd.arg("--purge");
        }
        // Best effort: the --watch watcher stops it anyway when the test
        // process ends.
        let _ = cmd
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A collection name as one URL path segment (the tests' names are plain).
fn collection_part(name: &str) -> &str {
    assert!(
        !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c)),
        "unsupported collection name {name:?}"
    );
    name
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
        Dovecot::from_up(start("dovecot", "dovecot-up.sh", 2, |p| {
            vec![p[0].to_string(), p[1].to_string()]
        })?)
    });
    available("dovecot", started, &NOTED)
}

/// The shared Cyrus in its classic namespace (every folder below `INBOX`,
/// separator `.`), started on first use; see [`dovecot()`].
pub fn cyrus_classic() -> Option<&'static Cyrus> {
    static SERVER: OnceLock<Result<Cyrus, String>> = OnceLock::new();
    static NOTED: AtomicBool = AtomicBool::new(false);
    available(
        "cyrus_classic",
        SERVER.get_or_init(|| start_cyrus("classic")),
        &NOTED,
    )
}

/// The shared Cyrus in its alternate namespace (folders beside INBOX,
/// separator `/`), started on first use; see [`dovecot()`].
pub fn cyrus_alt() -> Option<&'static Cyrus> {
    static SERVER: OnceLock<Result<Cyrus, String>> = OnceLock::new();
    static NOTED: AtomicBool = AtomicBool::new(false);
    available(
        "cyrus_alt",
        SERVER.get_or_init(|| start_cyrus("alt")),
        &NOTED,
    )
}

fn start_cyrus(layout: &'static str) -> Result<Cyrus, String> {
    let pool: Vec<(String, String)> = (0..CYRUS_POOL)
        .map(|_| (unique_name("cy"), new_password()))
        .collect();
    let users: Vec<String> = pool.iter().map(|(l, p)| format!("{l}:{p}")).collect();
    let users = users.join(" ");
    let up = start(&format!("cyrus-{layout}"), "cyrus-up.sh", 1, |p| {
        vec![layout.to_string(), p[0].to_string(), users.clone()]
    })?;
    let sep = up.var("TB_CYRUS_SEP")?.chars().next().unwrap_or('/');
    Ok(Cyrus {
        port: up.port("TB_CYRUS_PORT")?,
        layout,
        syslog: up.path("TB_CYRUS_SYSLOG")?,
        sep,
        personal: up
            .vars
            .get("TB_CYRUS_PERSONAL")
            .cloned()
            .unwrap_or_default(),
        sasldb: up.path("TB_CYRUS_SASLDB")?,
        realm: up.var("TB_CYRUS_REALM")?,
        dir: up.dir,
        pool: Mutex::new(pool),
        passwords: Mutex::new(HashMap::new()),
        sessions: Mutex::new(HashMap::new()),
    })
}

/// A second Dovecot whose certificate is self-signed (`TB_IMAP_SELF_SIGNED=1`:
/// CA:TRUE, as `openssl req -x509` makes it); its `ca_cert` is that
/// certificate itself. Started on first use; see [`dovecot()`].
pub fn dovecot_self_signed() -> Option<&'static Dovecot> {
    static SERVER: OnceLock<Result<Dovecot, String>> = OnceLock::new();
    static NOTED: AtomicBool = AtomicBool::new(false);
    let started = SERVER.get_or_init(|| {
        Dovecot::from_up(start_with(
            "dovecot-selfsigned",
            "dovecot-up.sh",
            2,
            |p| vec![p[0].to_string(), p[1].to_string()],
            &[("TB_IMAP_SELF_SIGNED", "1")],
        )?)
    });
    available("dovecot (self-signed)", started, &NOTED)
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

/// A Xandikos of the calling test's own, started now on a free port (~1 s);
/// stopped when dropped. `None` (after a `SKIPPED:` line) if it cannot
/// start and servers are not required; see [`dovecot()`].
///
/// Why one per test, not one shared like Radicale: Xandikos has no user
/// accounts (only one principal, whatever the login), and crmsync
/// discovers every collection of the principal's home sets, so two tests
/// sharing an instance would see (and push into) each other's calendars and
/// address books.
pub fn xandikos() -> Option<Xandikos> {
    static NOTED: AtomicBool = AtomicBool::new(false);
    let started =
        start("xandikos", "xandikos-up.sh", 1, |p| vec![p[0].to_string()]).and_then(|up| {
            let url = up.var("TB_XANDIKOS_URL")?;
            let path = |key: &str| -> Result<String, String> {
                Ok(format!("{url}{}", up.var(key)?.trim_start_matches('/')))
            };
            Ok(Xandikos {
                port: up.port("TB_XANDIKOS_PORT")?,
                calendars: path("TB_XANDIKOS_CALENDARS")?,
                contacts: path("TB_XANDIKOS_CONTACTS")?,
                url,
                dir: up.dir,
            })
        });
    match started {
        Ok(server) => Some(server),
        Err(why) => {
            unavailable("xandikos", &why, &NOTED);
            None
        }
    }
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
        Err(why) => {
            unavailable(name, why, noted);
            None
        }
    }
}

/// A server that could not start: panics when servers are required, else
/// prints the `SKIPPED:` line (with the reason, once per server).
fn unavailable(name: &str, why: &str, noted: &AtomicBool) {
    if servers_required() {
        panic!(
            "{name} could not be started, and servers are required (CI=true or CRMSYNC_REQUIRE_SERVERS=1):\n{why}"
        )
    }
    // Straight to the process's stderr: libtest's capture would hide a
    // passing test's eprintln!.
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let mut msg =
        format!("SKIPPED: {name} not available (run scripts/testbed/install.sh) [test {test}]\n");
    if !noted.swap(true, Ordering::SeqCst) {
        for line in why.lines() {
            let _ = writeln!(msg, "    {line}");
        }
    }
    let _ = io::stderr().write_all(msg.as_bytes());
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
    start_with(name, script_name, nports, args, &[])
}

/// [`start`] with extra environment variables for the script.
fn start_with(
    name: &str,
    script_name: &str,
    nports: usize,
    args: impl Fn(&[u16]) -> Vec<String>,
    envs: &[(&str, &str)],
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
            .envs(envs.iter().copied())
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

/// Reads one HTTP/1.1 request from `conn` for a test proxy: its head
/// lines (CRLF kept; `Connection:` dropped, the proxy sets its own) and
/// its body (by `Content-Length`). `None` when the client closed before
/// the head was whole.
pub fn read_request(conn: &TcpStream) -> io::Result<Option<(Vec<String>, Vec<u8>)>> {
    use std::io::BufRead;
    let mut reader = io::BufReader::new(conn.try_clone()?);
    let mut head = Vec::new();
    let mut line = String::new();
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if !lower.starts_with("connection:") {
            head.push(line.clone());
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    Ok(Some((head, body)))
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
