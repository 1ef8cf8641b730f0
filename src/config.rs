//! The TOML configuration of SPEC 8: where it is found, what it holds, and
//! the checks that turn a typo into an error naming file, line and key.
//!
//! Keys that scripts rely on are SPEC 8's; keys added here are documented in
//! `config.sample.toml`, which a test loads so it can never drift.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};
use toml::Spanned;

use crate::error::ConfigError;
use crate::secret::SecretSpec;

/// The whole configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// State file (SQLite); default under `$XDG_DATA_HOME/crmsync/`.
    pub state: Option<PathBuf>,
    /// The company's own mail domains (M18): never queued, never create anything.
    #[serde(default)]
    pub own_domains: Vec<String>,
    /// Replaces the built-in list of free-mail domains (M10).
    pub free_mail_domains: Option<Vec<String>>,
    #[serde(default)]
    pub crm: CrmConfig,
    #[serde(default)]
    pub users: Vec<UserConfig>,
    #[serde(default)]
    pub mail: MailConfig,
    #[serde(default)]
    pub calendar: CalendarConfig,
    #[serde(default)]
    pub contacts: ContactsConfig,
    /// Where this config was read from (None: built-in defaults).
    #[serde(skip)]
    pub path: Option<PathBuf>,
    #[serde(skip)]
    text: String,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    Embedded,
    Rest,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrmConfig {
    #[serde(default)]
    pub backend: Backend,
    /// URL template with `{id}` linking to a CRM record (C8).
    pub link: Option<String>,
    pub rest: Option<RestConfig>,
}

/// A CRM reached over HTTP/JSON (B2).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestConfig {
    /// A built-in description of a known CRM's API, e.g. `bottlecrm`.
    pub preset: Option<String>,
    pub base_url: Spanned<String>,
    pub token_cmd: Option<String>,
    pub token_env: Option<String>,
    #[serde(default)]
    pub token_keyring: bool,
    pub token: Option<String>,
    /// Extra CA certificate (PEM) to trust for this server, or the
    /// server's own certificate (X11, X11a).
    pub ca_file: Option<PathBuf>,
    /// SHA-256 fingerprint of the server's certificate, pinned (X11a).
    pub tls_fingerprint: Option<String>,
    /// Turns certificate verification off for this server only (X11).
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// Seconds before a request is given up.
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// A preset of our own: a TOML file describing another CRM's API in
    /// the shape of `presets/bottlecrm.toml` (B2); overrides `preset`.
    pub preset_file: Option<PathBuf>,
    /// The automatic directory refresh before a command is skipped when
    /// the last one is more recent than this many seconds (`crm pull`
    /// always refreshes).
    #[serde(default = "default_refresh")]
    pub refresh_secs: u64,
    /// Attempts per request on 429/5xx and lost connections.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// Seconds an answer's body may take to arrive once its head came
    /// (X13): a CRM trickling its answer ends there.
    #[serde(default = "default_deadline")]
    pub deadline: u64,
    /// The largest answer taken from the CRM (X12); larger ones are refused.
    #[serde(default = "default_max_response")]
    pub max_response: ByteSize,
}

fn default_timeout() -> u64 {
    30
}

/// X13: seconds one IMAP command or one HTTP request (with its whole
/// answer) may take in all, however the server trickles.
pub const DEFAULT_DEADLINE: u64 = 300;

fn default_deadline() -> u64 {
    DEFAULT_DEADLINE
}

/// X12: the largest WebDAV answer (a 207 body) taken by default.
pub const DEFAULT_MAX_RESPONSE: u64 = 16 << 20;

fn default_max_response() -> ByteSize {
    ByteSize(DEFAULT_MAX_RESPONSE)
}

fn default_refresh() -> u64 {
    300
}

fn default_attempts() -> u32 {
    4
}

/// A groupware user: also a CRM person and a possible rep.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub login: Spanned<String>,
    /// E-mail addresses, the first is primary; the others are aliases.
    pub emails: Vec<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub sales_groups: Vec<String>,
}

impl UserConfig {
    pub fn login(&self) -> &str {
        self.login.get_ref()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Privacy {
    #[default]
    Full,
    Headers,
}

/// A size such as `10MB`, `512 KB` or a plain number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(ByteSize(n)),
            Raw::S(s) => parse_size(&s)
                .map(ByteSize)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// Parses `10MB`, `1.5 GB`, `300k`, `42` (bytes). Units are powers of 1024.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size; expected e.g. \"10MB\""))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit `{other}` in `{s}`; use B, KB, MB or GB"
            ));
        }
    };
    Ok((n * mult as f64) as u64)
}

/// Defaults for every mail account (SPEC 8 `[mail]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    pub max_size: ByteSize,
    pub warn_owner: bool,
    pub keyword: String,
    pub archive_folder: Option<String>,
    pub folder_prefix: String,
    pub scan_all: Option<bool>,
    pub import_internal: bool,
    pub privacy: Privacy,
    pub edit_documents: bool,
    pub document_categories: Vec<String>,
    pub document_keywords: Vec<String>,
    /// What the import wizard offers first (W1): any of mail, appointments, tasks.
    pub areas: Vec<String>,
    pub accounts: Vec<MailAccount>,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            max_size: ByteSize(10 << 20),
            warn_owner: true,
            keyword: "$CRMImported".into(),
            archive_folder: None,
            folder_prefix: "CRM".into(),
            scan_all: None,
            import_internal: false,
            privacy: Privacy::Full,
            edit_documents: true,
            document_categories: Vec::new(),
            document_keywords: Vec::new(),
            areas: vec!["mail".into()],
            accounts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailSource {
    Imap,
    Maildir,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Implicit TLS (IMAPS, port 993).
    #[default]
    Tls,
    Starttls,
    /// Plain text: only for servers on the same host.
    None,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailAccount {
    pub name: Spanned<String>,
    /// The owner: login of the user whose mailbox is read.
    pub user: Spanned<String>,
    pub source: MailSource,
    /// Maildir root (source = "maildir").
    pub path: Option<PathBuf>,
    pub host: Option<String>,
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: TlsMode,
    /// CA certificates to trust, or the server's own certificate (X11, X11a).
    pub ca_file: Option<PathBuf>,
    /// SHA-256 fingerprint of the server's certificate, pinned (X11a).
    pub tls_fingerprint: Option<String>,
    #[serde(default)]
    pub insecure_skip_verify: bool,
    pub login: Option<String>,
    pub password_cmd: Option<String>,
    pub password_env: Option<String>,
    #[serde(default)]
    pub keyring: bool,
    pub password: Option<String>,
    #[serde(default = "default_folders")]
    pub folders: Vec<String>,
    #[serde(default = "yes")]
    pub include_subfolders: bool,
    /// Parent below which `CRM <description> [<status>]` folders are found
    /// (M2); None: the whole mailbox.
    pub import_parent: Option<String>,
    pub max_size: Option<ByteSize>,
    pub warn_owner: Option<bool>,
    pub keyword: Option<String>,
    pub archive_folder: Option<String>,
    pub scan_all: Option<bool>,
    pub import_internal: Option<bool>,
    pub privacy: Option<Privacy>,
    /// Seconds before a silent server is given up.
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// Seconds one IMAP command may take in all, answer included (X13).
    #[serde(default = "default_deadline")]
    pub deadline: u64,
}

fn default_folders() -> Vec<String> {
    vec!["INBOX".into()]
}

fn yes() -> bool {
    true
}

impl MailAccount {
    pub fn name(&self) -> &str {
        self.name.get_ref()
    }
    pub fn user(&self) -> &str {
        self.user.get_ref()
    }
    pub fn secret(&self) -> SecretSpec {
        SecretSpec::new(
            self.name(),
            "password",
            self.password_cmd.clone(),
            self.password_env.clone(),
            self.keyring,
            self.password.clone(),
        )
    }
    /// The port to use: the configured one, else the protocol default.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            TlsMode::Tls => 993,
            TlsMode::Starttls | TlsMode::None => 143,
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictPolicy {
    #[default]
    NewestWins,
    CrmWins,
    GroupwareWins,
    Ask,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    pub conflict: ConflictPolicy,
    pub max_delete_percent: u8,
    pub accounts: Vec<DavAccount>,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        CalendarConfig {
            conflict: ConflictPolicy::NewestWins,
            max_delete_percent: 20,
            accounts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DavSource {
    Caldav,
    Carddav,
    Vdir,
}

/// A CalDAV or CardDAV account, or a local vdir folder.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DavAccount {
    pub name: Spanned<String>,
    pub user: Spanned<String>,
    pub source: DavSource,
    /// Principal or home URL; discovery finds the collections (caldav/carddav).
    pub url: Option<String>,
    /// vdir folder (source = "vdir").
    pub path: Option<PathBuf>,
    /// CA certificates to trust, or the server's own certificate (X11, X11a).
    pub ca_file: Option<PathBuf>,
    /// SHA-256 fingerprint of the server's certificate, pinned (X11a).
    pub tls_fingerprint: Option<String>,
    #[serde(default)]
    pub insecure_skip_verify: bool,
    pub login: Option<String>,
    pub password_cmd: Option<String>,
    pub password_env: Option<String>,
    #[serde(default)]
    pub keyring: bool,
    pub password: Option<String>,
    /// Address book for pushed contacts, overriding `[contacts] target_folder` (P6).
    pub target_folder: Option<String>,
    /// sync-calendar: the calendar synced (display or folder name)
    /// [default: the first that takes events; one is made when none exists].
    pub calendar: Option<String>,
    /// sync-calendar: the task list [default: the calendar, when it takes
    /// tasks, else the first that does].
    pub tasks: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// Seconds one HTTP request may take in all, answer included (X13).
    #[serde(default = "default_deadline")]
    pub deadline: u64,
    /// The largest WebDAV answer taken (X12); larger ones are refused.
    #[serde(default = "default_max_response")]
    pub max_response: ByteSize,
}

impl DavAccount {
    pub fn name(&self) -> &str {
        self.name.get_ref()
    }
    pub fn user(&self) -> &str {
        self.user.get_ref()
    }
    pub fn secret(&self) -> SecretSpec {
        SecretSpec::new(
            self.name(),
            "password",
            self.password_cmd.clone(),
            self.password_env.clone(),
            self.keyring,
            self.password.clone(),
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContactsConfig {
    pub by_rep: bool,
    pub by_sales_group: bool,
    pub by_favorites: bool,
    pub include_companies: bool,
    pub target_folder: Option<String>,
    pub times_per_day: u32,
    pub warn_above: u64,
    /// Further CRM fields mapped to vCard properties (P3), e.g. `title = "TITLE"`.
    pub fields: std::collections::BTreeMap<String, String>,
    pub accounts: Vec<DavAccount>,
}

impl Default for ContactsConfig {
    fn default() -> Self {
        ContactsConfig {
            by_rep: true,
            by_sales_group: false,
            by_favorites: false,
            include_companies: false,
            target_folder: None,
            times_per_day: 2,
            warn_above: 5000,
            fields: Default::default(),
            accounts: Vec::new(),
        }
    }
}

/// Which account kind a name belongs to, for `check` and `unblock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Mail,
    Calendar,
    Contacts,
}

/// The built-in free-mail list (M10): these domains never match a company.
pub const FREE_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.de",
    "ymail.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "gmx.de",
    "gmx.net",
    "gmx.at",
    "gmx.ch",
    "gmx.com",
    "web.de",
    "t-online.de",
    "freenet.de",
    "posteo.de",
    "mailbox.org",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "tutanota.com",
    "tuta.io",
    "zoho.com",
    "yandex.ru",
    "yandex.com",
    "mail.ru",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "libero.it",
    "qq.com",
    "163.com",
    "126.com",
    "fastmail.com",
    "hey.com",
];

/// The default config path: `$XDG_CONFIG_HOME/crmsync/config.toml`.
pub fn default_path() -> PathBuf {
    xdg_dir("XDG_CONFIG_HOME", ".config").join("crmsync/config.toml")
}

/// The default state path: `$XDG_DATA_HOME/crmsync/state.sqlite`.
pub fn default_state_path() -> PathBuf {
    xdg_dir("XDG_DATA_HOME", ".local/share").join("crmsync/state.sqlite")
}

fn xdg_dir(var: &str, fallback: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
            .join(fallback),
    }
}

impl Config {
    /// Loads the config from `explicit` (from `--config` or `$CRMSYNC_CONFIG`),
    /// else the XDG path. A missing file at the XDG path yields the built-in
    /// defaults (embedded CRM, no accounts); a missing explicit file is an error.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the file, line and key for unreadable files,
    /// TOML syntax, unknown keys, wrong types and inconsistent values.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, must_exist) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => (default_path(), false),
        };
        if path.is_dir() {
            // X18: a directory in words, with the file it likely meant.
            return Err(ConfigError(format!(
                "config {} is a directory; pass the config file, e.g. --config {}",
                path.display(),
                path.join("config.toml").display()
            )));
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let cfg = Config::parse(&text, &path)?;
                if cfg.holds_plain_secret() {
                    crate::secret::warn_if_exposed(&path);
                }
                Ok(cfg)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                Ok(Config::default())
            }
            Err(e) => Err(ConfigError(format!(
                "cannot read config file {}: {e}; create it with `crmsync init` or pass --config PATH",
                path.display()
            ))),
        }
    }

    /// Parses and validates config text; `path` is only used in messages.
    ///
    /// # Errors
    /// See [`Config::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim().to_string();
            match e.span() {
                Some(span) => ConfigError(format!(
                    "{}:{}: {}",
                    path.display(),
                    line_of(text, span.start),
                    in_words(&msg, key_before(text, span.start).as_deref())
                )),
                None => ConfigError(format!("{}: {msg}", path.display())),
            }
        })?;
        cfg.path = Some(path.to_path_buf());
        cfg.text = text.to_string();
        cfg.validate()?;
        cfg.anchor_paths();
        Ok(cfg)
    }

    /// Relative `path` and `ca_file` values are relative to the config file.
    fn anchor_paths(&mut self) {
        let Some(dir) = self
            .path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
        else {
            return;
        };
        let fix = |p: &mut Option<PathBuf>| {
            if let Some(v) = p.as_mut()
                && v.is_relative()
            {
                *v = dir.join(&*v);
            }
        };
        for a in &mut self.mail.accounts {
            fix(&mut a.path);
            fix(&mut a.ca_file);
        }
        for a in self
            .calendar
            .accounts
            .iter_mut()
            .chain(self.contacts.accounts.iter_mut())
        {
            fix(&mut a.path);
            fix(&mut a.ca_file);
        }
        if let Some(r) = self.crm.rest.as_mut() {
            fix(&mut r.ca_file);
            fix(&mut r.preset_file);
        }
    }

    /// An error at the line of `span` in this config.
    fn err_at(&self, span: std::ops::Range<usize>, msg: impl fmt::Display) -> ConfigError {
        let file = self
            .path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "config".into());
        ConfigError(format!("{file}:{}: {msg}", line_of(&self.text, span.start)))
    }

    fn err(&self, msg: impl fmt::Display) -> ConfigError {
        let file = self
            .path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "config".into());
        ConfigError(format!("{file}: {msg}"))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let mut logins = HashSet::new();
        let mut emails = HashSet::new();
        for u in &self.users {
            let login = u.login();
            if login.trim().is_empty() {
                return Err(self.err_at(
                    u.login.span(),
                    "users.login is empty; expected the user's login name",
                ));
            }
            if !logins.insert(login.to_string()) {
                return Err(self.err_at(
                    u.login.span(),
                    format!("users.login `{login}` appears twice; each user once"),
                ));
            }
            if u.emails.is_empty() {
                return Err(self.err_at(u.login.span(), format!("user `{login}`: users.emails is empty; expected at least the primary address")));
            }
            for e in &u.emails {
                let norm = crate::address::normalize(e);
                if !crate::address::looks_like_address(&norm) {
                    return Err(self.err_at(
                        u.login.span(),
                        format!(
                            "user `{login}`: users.emails entry `{e}` is not an e-mail address"
                        ),
                    ));
                }
                if !emails.insert(norm) {
                    return Err(self.err_at(
                        u.login.span(),
                        format!("user `{login}`: address `{e}` belongs to two users"),
                    ));
                }
            }
        }
        let mut names: HashSet<String> = HashSet::new();
        let mut check_account = |name: &Spanned<String>, user: &Spanned<String>, what: &str| {
            let n = name.get_ref();
            if n.trim().is_empty() {
                return Err(self.err_at(name.span(), format!("{what}.name is empty")));
            }
            if n == "crm" {
                return Err(self.err_at(
                    name.span(),
                    format!("{what}.name `crm` is reserved for the REST CRM; choose another name"),
                ));
            }
            if !names.insert(n.to_string()) {
                return Err(self.err_at(
                    name.span(),
                    format!("account name `{n}` is used twice; account names must be unique"),
                ));
            }
            if !logins.contains(user.get_ref()) {
                return Err(self.err_at(user.span(), format!(
                    "{what} `{n}`: user `{}` is not defined; add a [[users]] entry with login = \"{}\"",
                    user.get_ref(), user.get_ref())));
            }
            Ok(())
        };
        for a in &self.mail.accounts {
            check_account(&a.name, &a.user, "mail.accounts")?;
            match a.source {
                MailSource::Imap => {
                    if a.host.as_deref().unwrap_or("").is_empty() {
                        return Err(self.err_at(a.name.span(), format!("mail account `{}`: `host` is missing; expected the IMAP server name", a.name())));
                    }
                    a.secret()
                        .check()
                        .map_err(|m| self.err_at(a.name.span(), m))?;
                }
                MailSource::Maildir => {
                    if a.path.is_none() {
                        return Err(self.err_at(
                            a.name.span(),
                            format!(
                                "mail account `{}`: `path` is missing; expected the Maildir folder",
                                a.name()
                            ),
                        ));
                    }
                }
            }
            if a.folders.is_empty() {
                return Err(self.err_at(
                    a.name.span(),
                    format!(
                        "mail account `{}`: `folders` is empty; expected e.g. [\"INBOX\"]",
                        a.name()
                    ),
                ));
            }
        }
        for (list, what, remote) in [
            (
                &self.calendar.accounts,
                "calendar.accounts",
                DavSource::Caldav,
            ),
            (
                &self.contacts.accounts,
                "contacts.accounts",
                DavSource::Carddav,
            ),
        ] {
            for a in list {
                check_account(&a.name, &a.user, what)?;
                match a.source {
                    DavSource::Vdir => {
                        if a.path.is_none() {
                            return Err(self.err_at(
                                a.name.span(),
                                format!(
                                    "{what} `{}`: `path` is missing; expected the vdir folder",
                                    a.name()
                                ),
                            ));
                        }
                    }
                    s if s == remote => {
                        let url = a.url.as_deref().unwrap_or("");
                        if !(url.starts_with("http://") || url.starts_with("https://")) {
                            return Err(self.err_at(a.name.span(), format!("{what} `{}`: `url` must be an http:// or https:// URL of the principal or home collection", a.name())));
                        }
                        a.secret()
                            .check()
                            .map_err(|m| self.err_at(a.name.span(), m))?;
                    }
                    s => {
                        let want = if remote == DavSource::Caldav {
                            "caldav"
                        } else {
                            "carddav"
                        };
                        return Err(self.err_at(a.name.span(), format!(
                            "{what} `{}`: source = \"{}\" is not possible here; expected \"{want}\" or \"vdir\"",
                            a.name(), format!("{s:?}").to_lowercase())));
                    }
                }
            }
        }
        // X11a: a pinned fingerprint that cannot be one is a typo, said now.
        let fingerprints = self
            .mail
            .accounts
            .iter()
            .map(|a| (a.name(), &a.tls_fingerprint, a.name.span()))
            .chain(
                self.calendar
                    .accounts
                    .iter()
                    .chain(&self.contacts.accounts)
                    .map(|a| (a.name(), &a.tls_fingerprint, a.name.span())),
            );
        for (name, fp, span) in fingerprints {
            if let Some(fp) = fp
                && let Err(e) = crate::net::tls::parse_fingerprint(fp)
            {
                return Err(self.err_at(span, format!("account `{name}`: {e}")));
            }
        }
        if let Some(fp) = self
            .crm
            .rest
            .as_ref()
            .and_then(|r| r.tls_fingerprint.as_ref())
            && let Err(e) = crate::net::tls::parse_fingerprint(fp)
        {
            return Err(self.err(format!("crm.rest.{e}")));
        }
        if self.calendar.max_delete_percent > 100 {
            return Err(self.err("calendar.max_delete_percent must be between 0 and 100"));
        }
        if self.contacts.times_per_day == 0 {
            return Err(self.err("contacts.times_per_day must be at least 1"));
        }
        if let Some(link) = &self.crm.link
            && !link.contains("{id}")
        {
            return Err(self.err(format!("crm.link `{link}` has no `{{id}}`; expected e.g. \"https://crm.example.com/a/{{id}}\"")));
        }
        match (self.crm.backend, &self.crm.rest) {
            (Backend::Rest, None) => {
                return Err(self.err("crm.backend = \"rest\" needs a [crm.rest] table with base_url and a token source"));
            }
            (_, Some(rest)) => {
                let url = rest.base_url.get_ref();
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(self.err_at(
                        rest.base_url.span(),
                        "crm.rest.base_url must be an http:// or https:// URL",
                    ));
                }
                self.rest_secret()
                    .check()
                    .map_err(|m| self.err_at(rest.base_url.span(), m))?;
            }
            _ => {}
        }
        for area in &self.mail.areas {
            if !matches!(area.as_str(), "mail" | "appointments" | "tasks") {
                return Err(self.err(format!("mail.areas: `{area}` is unknown; expected \"mail\", \"appointments\" or \"tasks\"")));
            }
        }
        Ok(())
    }

    /// True when an account's password or the REST token is written in
    /// the file itself (X3: then the file must not be readable by others).
    pub fn holds_plain_secret(&self) -> bool {
        self.mail.accounts.iter().any(|a| a.secret().is_plain())
            || self.calendar.accounts.iter().any(|a| a.secret().is_plain())
            || self.contacts.accounts.iter().any(|a| a.secret().is_plain())
            || self.rest_secret().is_plain()
    }

    /// The secret source of the REST CRM token.
    pub fn rest_secret(&self) -> SecretSpec {
        let rest = self.crm.rest.as_ref();
        SecretSpec::new(
            "crm",
            "token",
            rest.and_then(|r| r.token_cmd.clone()),
            rest.and_then(|r| r.token_env.clone()),
            rest.is_some_and(|r| r.token_keyring),
            rest.and_then(|r| r.token.clone()),
        )
    }

    /// The state file: `--state`, else `state` in the config, else the XDG path.
    pub fn state_path(&self, explicit: Option<&Path>) -> PathBuf {
        if let Some(p) = explicit {
            return p.to_path_buf();
        }
        match (&self.state, &self.path) {
            (Some(s), Some(cfg)) if s.is_relative() => {
                cfg.parent().map(|d| d.join(s)).unwrap_or_else(|| s.clone())
            }
            (Some(s), _) => s.clone(),
            (None, _) => default_state_path(),
        }
    }

    pub fn user(&self, login: &str) -> Option<&UserConfig> {
        self.users.iter().find(|u| u.login() == login)
    }

    /// Free-mail domains in force (M10).
    pub fn free_mail_domains(&self) -> Vec<String> {
        match &self.free_mail_domains {
            Some(list) => list.iter().map(|d| d.trim().to_lowercase()).collect(),
            None => FREE_MAIL_DOMAINS.iter().map(|d| d.to_string()).collect(),
        }
    }

    /// Every account name with its kind, in config order.
    pub fn account_names(&self) -> Vec<(String, AccountKind)> {
        let mut out: Vec<(String, AccountKind)> = self
            .mail
            .accounts
            .iter()
            .map(|a| (a.name().to_string(), AccountKind::Mail))
            .collect();
        out.extend(
            self.calendar
                .accounts
                .iter()
                .map(|a| (a.name().to_string(), AccountKind::Calendar)),
        );
        out.extend(
            self.contacts
                .accounts
                .iter()
                .map(|a| (a.name().to_string(), AccountKind::Contacts)),
        );
        out
    }

    /// True when config text is a relative path's anchor (for messages).
    pub fn describe_path(&self) -> String {
        self.path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| {
                format!(
                    "(none; built-in defaults, expected at {})",
                    default_path().display()
                )
            })
    }
}

/// The key of the `key = value` whose value starts at byte `offset`
/// (also inside an inline table), if it is one.
fn key_before(text: &str, offset: usize) -> Option<String> {
    let head = text.get(..offset)?;
    let line = &head[head.rfind('\n').map_or(0, |i| i + 1)..];
    let before = line.trim_end().strip_suffix('=')?.trim_end();
    let key = before
        .rsplit(['{', ',', ' ', '\t'])
        .next()?
        .trim_matches(['"', '\'']);
    (!key.is_empty() && !key.contains(['[', ']'])).then(|| key.to_string())
}

/// The range of an integer type serde names (`u16`), for messages.
fn int_range(ty: &str) -> Option<(i128, i128)> {
    Some(match ty {
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" | "usize" => (0, u64::MAX.into()),
        "i64" | "an integer" => (i64::MIN.into(), i64::MAX.into()),
        _ => return None,
    })
}

/// X18: a TOML type error (`invalid type: string "143", expected u16`) in
/// words, with the fix for `key`: `port must be a number without quotes:
/// port = 143`. Any other message is kept as it is.
fn in_words(msg: &str, key: Option<&str>) -> String {
    let Some(key) = key else {
        return msg.to_string();
    };
    if let Some(rest) = msg.strip_prefix("invalid type: string \"")
        && let Some((value, want)) = rest.rsplit_once("\", expected ")
    {
        if int_range(want).is_some() {
            let v = value.trim();
            return if v.parse::<i128>().is_ok() {
                format!("{key} must be a number without quotes: {key} = {v}")
            } else {
                format!("{key} must be a number without quotes, not \"{value}\"")
            };
        }
        if want == "a boolean" {
            return match value.trim() {
                v @ ("true" | "false") => {
                    format!("{key} must be true or false without quotes: {key} = {v}")
                }
                _ => format!("{key} must be true or false (without quotes), not \"{value}\""),
            };
        }
    }
    if let Some(rest) = msg.strip_prefix("invalid value: integer `")
        && let Some((value, want)) = rest.split_once("`, expected ")
        && let Some((lo, hi)) = int_range(want)
    {
        return format!(
            "{key} = {value} is out of range: expected a whole number from {lo} to {hi}"
        );
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ")
        && let Some((found, want)) = rest.split_once(", expected ")
    {
        if int_range(want).is_some() {
            return format!("{key} must be a whole number, not {found}");
        }
        if want == "a boolean" {
            return format!("{key} must be true or false, not {found}");
        }
        if want == "a string"
            && let Some(v) = found.split('`').nth(1)
        {
            return format!("{key} must be text in quotes: {key} = \"{v}\"");
        }
    }
    if msg == "wanted string or table" && key == "tls" {
        return "tls takes \"tls\" (TLS from the start, port 993), \"starttls\" (port 143) or \"none\" \
                (plain text, only for a server on this host), in quotes: e.g. tls = \"tls\""
            .into();
    }
    if msg == "wanted string or table" {
        return format!("{key} must be text in quotes");
    }
    msg.to_string()
}

/// 1-based line number of a byte offset.
/// The fully commented sample, also written by `init --sample`.
pub const SAMPLE: &str = include_str!("../config.sample.toml");

/// Writes a config privately (0600): it may name password commands.
/// Refuses to replace an existing file without `force`.
///
/// # Errors
/// A usage error when the file exists; I/O errors with the path.
pub fn write_private(path: &Path, text: &str, force: bool) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    if path.exists() && !force {
        return Err(crate::error::usage(format!(
            "{} exists; pass --force to replace it",
            path.display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// The sections `crmsync init` writes (X1), as commented TOML text; the
/// wizard asks, these say how the answers are written down.
pub mod generate {
    use std::path::Path;

    /// A TOML string literal.
    pub fn q(s: &str) -> String {
        toml::Value::String(s.to_string()).to_string()
    }

    /// A TOML array of string literals.
    pub fn list(items: &[String]) -> String {
        format!(
            "[{}]",
            items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
        )
    }

    /// The head: where it came from, the state file, the own domains (M18).
    pub fn header(state: &Path, own_domains: &[String]) -> String {
        let mut out = String::from(
            "# crmsync configuration, written by `crmsync init`.\n\
             # Every key is explained in the commented sample, which\n\
             # `crmsync init --sample --output sample.toml` writes.\n\n",
        );
        out.push_str(&format!(
            "# The state file: the embedded CRM and what was synced (SQLite).\nstate = {}\n",
            q(&state.display().to_string())
        ));
        out.push_str(&format!("# Mail from and to these domains never enters the unknown-address queue (M18).\nown_domains = {}\n\n", list(own_domains)));
        out
    }

    /// `[crm]` for the embedded back end (B1).
    pub const CRM_EMBEDDED: &str =
        "[crm]\nbackend = \"embedded\"   # load persons with `crmsync crm import`\n\n";

    /// `[crm]` and `[crm.rest]` for BottleCRM (B2).
    pub fn crm_rest(base_url: &str, token_env: &str) -> String {
        format!(
            "[crm]\nbackend = \"rest\"\n\n[crm.rest]\npreset = \"bottlecrm\"\nbase_url = {}\ntoken_env = {}\n\n",
            q(base_url),
            q(token_env)
        )
    }

    /// One `[[users]]` entry; `name` only when given.
    pub fn user(login: &str, emails: &[String], name: &str) -> String {
        let mut out = format!(
            "[[users]]\nlogin = {}\nemails = {}\n",
            q(login),
            list(emails)
        );
        if !name.is_empty() {
            out.push_str(&format!("name = {}\n", q(name)));
        }
        out.push('\n');
        out
    }

    /// A password from an environment variable.
    pub fn password_env(var: &str) -> String {
        format!("password_env = {}\n", q(var))
    }

    /// A password printed by a command.
    pub fn password_cmd(cmd: &str) -> String {
        format!("password_cmd = {}\n", q(cmd))
    }

    /// A password from the system keyring (X3): service `crmsync`, the
    /// account's name.
    pub fn password_keyring() -> String {
        "keyring = true   # in the system keyring: service `crmsync`, account = this account's name\n"
            .to_string()
    }

    /// A password variable still to be set.
    pub fn password_env_unset(var: &str) -> String {
        format!(
            "password_env = {}   # set this variable before running crmsync\n",
            q(var)
        )
    }

    /// The default password variable of an account.
    pub fn password_var(account: &str) -> String {
        format!("{}_PASSWORD", account.to_uppercase().replace('-', "_"))
    }

    /// How a mail account is reached.
    pub enum MailAt<'a> {
        Imap {
            host: &'a str,
            port: &'a str,
            tls: &'a str,
            login: &'a str,
            secret_line: &'a str,
            folders: &'a [String],
        },
        Maildir {
            path: &'a str,
        },
    }

    /// One `[[mail.accounts]]` entry.
    pub fn mail_account(name: &str, user: &str, at: &MailAt<'_>) -> String {
        let mut section = format!(
            "[[mail.accounts]]\nname = {}\nuser = {}   # the mailbox owner\n",
            q(name),
            q(user)
        );
        match at {
            MailAt::Imap {
                host,
                port,
                tls,
                login,
                secret_line,
                folders,
            } => section.push_str(&format!(
                "source = \"imap\"\nhost = {}\nport = {port}\ntls = {}\nlogin = {}\n{secret_line}folders = {}\n",
                q(host),
                q(tls),
                q(login),
                list(folders)
            )),
            MailAt::Maildir { path } => section.push_str(&format!(
                "source = \"maildir\"\npath = {}\nfolders = [\"INBOX\"]\n",
                q(path)
            )),
        }
        section.push('\n');
        section
    }

    /// A calendar and an address book account of `user` on one CalDAV/CardDAV server.
    pub fn dav_accounts(user: &str, url: &str, login: &str, secret_line: &str) -> String {
        let mut section = String::new();
        for (table, name, src) in [
            ("calendar", "cal", "caldav"),
            ("contacts", "book", "carddav"),
        ] {
            section.push_str(&format!(
                "[[{table}.accounts]]\nname = {}\nuser = {}\nsource = \"{src}\"\nurl = {}\nlogin = {}\n{secret_line}\n",
                q(&format!("{user}-{name}")),
                q(user),
                q(url),
                q(login)
            ));
        }
        section
    }

    /// A calendar and an address book account of `user` as vdirs under `base`.
    pub fn vdir_accounts(user: &str, base: &str) -> String {
        let mut section = String::new();
        for (table, name) in [("calendar", "cal"), ("contacts", "book")] {
            let p = Path::new(base).join(format!("{user}-{name}"));
            section.push_str(&format!(
                "[[{table}.accounts]]\nname = {}\nuser = {}\nsource = \"vdir\"\npath = {}\n\n",
                q(&format!("{user}-{name}")),
                q(user),
                q(&p.display().to_string())
            ));
        }
        section
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("c.toml")).map_err(|e| e.0)
    }

    #[test]
    fn sample_config_parses() {
        let cfg = parse(include_str!("../config.sample.toml")).expect("sample parses");
        assert_eq!(cfg.users.len(), 2);
        assert_eq!(cfg.mail.max_size, ByteSize(10 << 20));
        assert!(!cfg.mail.accounts.is_empty());
    }

    #[test]
    fn empty_config_gives_spec_defaults() {
        let cfg = parse("").unwrap();
        assert_eq!(cfg.crm.backend, Backend::Embedded);
        assert_eq!(cfg.mail.keyword, "$CRMImported");
        assert_eq!(cfg.mail.folder_prefix, "CRM");
        assert_eq!(cfg.calendar.max_delete_percent, 20);
        assert_eq!(cfg.contacts.warn_above, 5000);
        assert_eq!(cfg.contacts.times_per_day, 2);
        assert!(cfg.contacts.by_rep);
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let err = parse("own_domains = []\n\n[mail]\nmax_sise = \"1MB\"\n").unwrap_err();
        assert!(err.starts_with("c.toml:4:"), "{err}");
        assert!(err.contains("max_sise"), "{err}");
    }

    /// X18: type errors in words, with the fix.
    #[test]
    fn x18_type_errors_in_words_with_the_fix() {
        let account = "[[users]]\nlogin = \"a\"\nemails = [\"a@x.y\"]\n[[mail.accounts]]\nname = \"m\"\nuser = \"a\"\n\
                       source = \"imap\"\nhost = \"h\"\npassword_env = \"X\"\n";
        for (line, want) in [
            (
                "port = \"143\"",
                "c.toml:10: port must be a number without quotes: port = 143",
            ),
            (
                "port=\"abc\"",
                "c.toml:10: port must be a number without quotes, not \"abc\"",
            ),
            (
                "port = 70000",
                "c.toml:10: port = 70000 is out of range: expected a whole number from 0 to 65535",
            ),
            (
                "port = 1.5",
                "c.toml:10: port must be a whole number, not floating point `1.5`",
            ),
            (
                "tls = true",
                "c.toml:10: tls takes \"tls\" (TLS from the start, port 993), \"starttls\" (port 143)",
            ),
            (
                "include_subfolders = \"true\"",
                "c.toml:10: include_subfolders must be true or false without quotes: include_subfolders = true",
            ),
            (
                "include_subfolders = 1",
                "c.toml:10: include_subfolders must be true or false, not integer `1`",
            ),
            (
                "login = 5",
                "c.toml:10: login must be text in quotes: login = \"5\"",
            ),
        ] {
            let err = parse(&format!("{account}{line}\n")).unwrap_err();
            assert!(err.starts_with(want), "{line}: {err}");
            assert!(!err.contains("expected u16"), "{err}");
        }
        let err = parse("[calendar]\nmax_delete_percent = \"20\"\n").unwrap_err();
        assert_eq!(
            err,
            "c.toml:2: max_delete_percent must be a number without quotes: max_delete_percent = 20"
        );
        // Inside an inline table, and the unknown-variant words kept.
        let err = parse("[crm]\nrest = { attempts = \"3\" }\n").unwrap_err();
        assert!(
            err.contains("attempts must be a number without quotes"),
            "{err}"
        );
        let err = parse(&format!("{account}tls = \"ssl\"\n")).unwrap_err();
        assert!(err.contains("unknown variant `ssl`"), "{err}");
    }

    #[test]
    fn wrong_type_names_line() {
        let err = parse("[calendar]\nmax_delete_percent = \"many\"\n").unwrap_err();
        assert!(err.starts_with("c.toml:2:"), "{err}");
    }

    #[test]
    fn account_with_undefined_user_names_user_line() {
        let text = "[[users]]\nlogin = \"alice\"\nemails = [\"a@x.com\"]\n\n[[mail.accounts]]\nname = \"m\"\nuser = \"bob\"\nsource = \"maildir\"\npath = \"/tmp\"\n";
        let err = parse(text).unwrap_err();
        assert!(err.starts_with("c.toml:7:"), "{err}");
        assert!(err.contains("user `bob` is not defined"), "{err}");
    }

    #[test]
    fn imap_account_without_secret_is_rejected() {
        let text = "[[users]]\nlogin = \"alice\"\nemails = [\"a@x.com\"]\n[[mail.accounts]]\nname = \"m\"\nuser = \"alice\"\nsource = \"imap\"\nhost = \"h\"\nlogin = \"alice\"\n";
        let err = parse(text).unwrap_err();
        assert!(err.contains("no password source"), "{err}");
    }

    #[test]
    fn duplicate_account_names_rejected() {
        let text = "[[users]]\nlogin = \"a\"\nemails = [\"a@x.com\"]\n[[mail.accounts]]\nname = \"n\"\nuser = \"a\"\nsource = \"maildir\"\npath = \"/m\"\n[[calendar.accounts]]\nname = \"n\"\nuser = \"a\"\nsource = \"vdir\"\npath = \"/c\"\n";
        let err = parse(text).unwrap_err();
        assert!(err.contains("used twice"), "{err}");
        assert!(err.starts_with("c.toml:10:"), "{err}");
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("10MB").unwrap(), 10 << 20);
        assert_eq!(parse_size("512 kb").unwrap(), 512 << 10);
        assert_eq!(parse_size("42").unwrap(), 42);
        assert!(parse_size("ten").is_err());
        assert!(parse_size("3 parsecs").is_err());
    }

    #[test]
    fn relative_state_is_relative_to_config() {
        let cfg = Config::parse("state = \"s.sqlite\"", Path::new("/etc/crmsync/c.toml")).unwrap();
        assert_eq!(cfg.state_path(None), PathBuf::from("/etc/crmsync/s.sqlite"));
        assert_eq!(cfg.state_path(Some(Path::new("/x"))), PathBuf::from("/x"));
    }

    #[test]
    fn link_without_id_rejected() {
        assert!(
            parse("[crm]\nlink = \"https://x\"\n")
                .unwrap_err()
                .contains("{id}")
        );
    }

    #[test]
    fn x1_init_sections_make_a_config_that_loads() {
        use super::generate::{self, MailAt};
        let mut text = generate::header(Path::new("/tmp/s.sqlite"), &["us.example".into()]);
        text.push_str(generate::CRM_EMBEDDED);
        text.push_str(&generate::user(
            "alice",
            &["alice@us.example".into()],
            "Alice",
        ));
        text.push_str(&generate::mail_account(
            "alice-mail",
            "alice",
            &MailAt::Imap {
                host: "imap.us.example",
                port: "993",
                tls: "tls",
                login: "alice",
                secret_line: &generate::password_env(&generate::password_var("alice-mail")),
                folders: &["INBOX".into(), "Sent".into()],
            },
        ));
        text.push_str(&generate::vdir_accounts("alice", "/tmp/v"));
        let cfg = Config::parse(&text, Path::new("t.toml")).unwrap();
        assert_eq!(cfg.own_domains, vec!["us.example"]);
        assert_eq!(cfg.mail.accounts[0].folders, vec!["INBOX", "Sent"]);
        assert_eq!(cfg.calendar.accounts[0].name(), "alice-cal");
        assert_eq!(cfg.contacts.accounts[0].name(), "alice-book");
        assert!(text.contains("password_env = \"ALICE_MAIL_PASSWORD\"\n"));
    }
}
