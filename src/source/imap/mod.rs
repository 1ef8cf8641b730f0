//! IMAP: connections (the `imap` crate over our own rustls stream:
//! implicit TLS, STARTTLS or plain, certificate checks per X11, errors typed
//! so that callers can tell a wrong password, X2, from a server that is
//! down) and [`ImapSource`], the [`MailSource`] over one session.
//!
//! Terms: a *wire name* is a mailbox name as the server spells it (modified
//! UTF-7, the server's hierarchy delimiter); a *display name* is what users
//! configure and see (decoded, `/` between levels, `INBOX` in capitals).
//! The `imap` crate does not encode names, does not escape them in every
//! command and does not check capabilities, so this module builds the
//! commands that carry names itself and parses LIST, SELECT and CAPABILITY
//! responses itself (the crate's SELECT parser panics on an untagged NO);
//! the bodies and headers of FETCH are read by [`FetchReader`] by literal
//! length (the crate re-parses a response after every line), other FETCH
//! responses go through the crate.
//!
//! The layers, one file each: `conn` (TCP, TLS, STARTTLS, LOGIN, the X13
//! clock), `wire` (the shared [`Stream`] and its X12 bounds, invalid
//! answers quoted), `fetch` (FETCH read by literal length, X12 literal
//! bounds, UID sets and batches), `outline` (BODYSTRUCTURE outlines, M4),
//! `names` (wire and display names, LIST and NAMESPACE: M20, M21) and
//! `answers` (SELECT, CAPABILITY and the byte-level response readers).
//! This file holds [`ImapSource`]: the session state, folder opening and
//! creation, marking and moving (M16), errors naming folder and command
//! (X2 for a refused login, X12/X13 for a bound), and M1/M2 folder choice
//! over one LIST.

mod answers;
mod conn;
mod fetch;
mod names;
mod outline;
mod wire;

use std::collections::HashMap;
use std::fmt;
use std::io;

pub use conn::{ImapError, Session, connect};
pub use fetch::{fuzz_fetch_answer, literal_allowed};
pub use wire::{ANSWER_MAX, Bound, LINE_MAX, Stream};

use crate::config::MailAccount;
use crate::secret::Secret;
use crate::source::mail::{
    FolderInfo, FolderStatus, MailSource, MsgRef, Naming, Outline, OutlinePart, SourceError,
};
use answers::{parse_capabilities, parse_select};
use conn::connect_with_handle;
use fetch::{FetchReader, Literals, Part, Raw, short, sorted_uids, uid_set, with_uids};
use names::{Listed, display_name, normalize, parse_list, parse_namespace, quote, to_wire};
use outline::{OutlineTree, outline_leaves};
use wire::invalid_answer;

// ---------------------------------------------------------------------------
// ImapSource: the MailSource over one IMAP session
// ---------------------------------------------------------------------------

const LIST_ALL: &str = "LIST \"\" \"*\"";

/// At most this many messages per `UID FETCH ... (BODY.PEEK[])`.
pub const FETCH_BATCH_MESSAGES: usize = 200;
/// At most about this many bytes (by RFC822.SIZE) per body batch; a bigger
/// message is fetched alone. Bounds memory: one batch's response is held at
/// a time.
pub const FETCH_BATCH_BYTES: u64 = 20 << 20;
/// At most this many UIDs per `UID FETCH ... (UID RFC822.SIZE)` in a listing.
pub const LIST_BATCH: usize = 2000;
/// At most this many messages per `UID FETCH ... (BODY.PEEK[HEADER])`.
pub const HEADER_BATCH_MESSAGES: usize = 500;
/// At most this many UIDs per `UID STORE`, `UID MOVE`, `UID COPY` and
/// `UID EXPUNGE`: even uncompressible, the command line stays under ~6 KB
/// (servers limit lines to 8 KB and more).
pub const UID_BATCH: usize = 500;

/// The folder open on the session.
#[derive(Debug, Clone)]
struct Open {
    folder: String,
    /// SELECT (true) or EXAMINE (false).
    read_write: bool,
    exists: u32,
    /// PERMANENTFLAGS contains `\*`: new keywords are kept.
    keywords: bool,
    /// PERMANENTFLAGS, lower-cased.
    permanent: Vec<String>,
}

/// A [`MailSource`] over one IMAP session, used as a fast client would:
/// one `LIST` for all folders, `EXAMINE` to read (never sets `\Seen`),
/// `SELECT` only to mark or move, bodies by `UID FETCH ... (BODY.PEEK[])`
/// in batches of compressed UID sets, flags by `UID STORE +FLAGS.SILENT`.
///
/// Mailbox names are decoded from and encoded to modified UTF-7
/// ([`super::utf7`]) and sent as escaped quoted strings, so no folder name
/// can inject a command. After a connection error (timeout, hang-up, a
/// response the parser does not understand) the session refuses further
/// commands: reconnect.
pub struct ImapSource {
    session: Session,
    /// The session's stream, for [`FetchReader`].
    raw: Stream,
    /// `host:port`, for messages.
    addr: String,
    /// Seconds of the read timeout, for messages.
    timeout: u64,
    /// The last `LIST "" "*"`, plus folders created since.
    listed: Option<Vec<Listed>>,
    /// The server's hierarchy delimiter (None: flat, or not listed yet).
    delimiter: Option<String>,
    /// The personal namespace (RFC 2342) and delimiter, from NAMESPACE
    /// (asked once, with the first LIST) and LIST (M20).
    naming: Naming,
    namespace_known: bool,
    /// M21: folders skipped because their names cannot be sent back.
    warnings: Vec<String>,
    open: Option<Open>,
    /// UIDVALIDITY seen by [`MailSource::select`] per folder: a later SELECT
    /// for mark/move must see the same, or the caller's UIDs mean other
    /// messages.
    validity: HashMap<String, u32>,
    /// Upper-cased CAPABILITY atoms, asked for once when first needed.
    capabilities: Option<Vec<String>>,
    /// What the last read-write SELECT said about keywords.
    keywords: Option<bool>,
    /// Set when the connection is unusable: the reason.
    broken: Option<String>,
}

impl fmt::Debug for ImapSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapSource")
            .field("addr", &self.addr)
            .field("open", &self.open)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl ImapSource {
    /// Connects and logs in (see [`connect`]).
    ///
    /// # Errors
    /// [`SourceError::Auth`] when the server refuses the credentials (the
    /// caller blocks the account, X2); [`SourceError::Other`] for
    /// connection, TLS and protocol failures.
    pub fn connect(account: &MailAccount, password: &Secret) -> Result<ImapSource, SourceError> {
        let (session, raw) = connect_with_handle(account, password).map_err(|e| match e {
            ImapError::Auth(detail) => SourceError::Auth(detail),
            other => SourceError::Other(format!("mail account `{}`: {other}", account.name())),
        })?;
        Ok(ImapSource {
            session,
            raw,
            addr: format!(
                "{}:{}",
                account.host.as_deref().unwrap_or(""),
                account.port()
            ),
            timeout: account.timeout.max(1),
            listed: None,
            delimiter: None,
            naming: Naming::default(),
            namespace_known: false,
            warnings: Vec::new(),
            open: None,
            validity: HashMap::new(),
            capabilities: None,
            keywords: None,
            broken: None,
        })
    }

    /// M20 for `crmsync check` and `init`: the configured folders that exist
    /// in none of their forms (as written), and every folder as the server
    /// lists it.
    ///
    /// # Errors
    /// Connection and protocol errors of NAMESPACE and LIST.
    pub fn missing_folders(
        &mut self,
        configured: &[String],
    ) -> Result<(Vec<String>, Vec<String>), SourceError> {
        self.listed = None;
        self.ensure_listed()?;
        let listed = self.listed.as_deref().unwrap_or_default();
        let exists = |c: &String| {
            listed
                .iter()
                .any(|l| l.display == *c || crate::source::mail::is_below(&l.display, c))
        };
        let missing = configured
            .iter()
            .filter(|c| !self.naming.candidates(c).iter().any(exists))
            .cloned()
            .collect();
        Ok((missing, listed.iter().map(Listed::shown).collect()))
    }

    /// True when the server announced this capability (e.g. `MOVE`).
    ///
    /// # Errors
    /// Connection errors while asking (once per session).
    pub fn has_capability(&mut self, name: &str) -> Result<bool, SourceError> {
        if self.capabilities.is_none() {
            self.usable("", "CAPABILITY")?;
            let data = self
                .session
                .run_command_and_read_response("CAPABILITY")
                .map_err(|e| self.fail("", "CAPABILITY", e))?;
            self.capabilities = Some(parse_capabilities(&data));
        }
        Ok(self
            .capabilities
            .as_ref()
            .is_some_and(|c| c.iter().any(|x| x.eq_ignore_ascii_case(name))))
    }

    /// Refuses commands on a broken connection.
    fn usable(&self, folder: &str, cmd: &str) -> Result<(), SourceError> {
        match &self.broken {
            None => Ok(()),
            Some(why) => Err(SourceError::Other(format!(
                "{}{cmd} not sent: the connection to {} broke earlier ({why}); reconnect",
                in_folder(folder),
                self.addr
            ))),
        }
    }

    /// Turns an `imap` error into a [`SourceError`] naming folder and command.
    /// A NO or BAD is about the folder; anything else leaves the connection
    /// in an unknown state, so it is marked broken.
    fn fail(&mut self, folder: &str, cmd: &str, e: imap::Error) -> SourceError {
        let why = match &e {
            // X12, X13: a bound of ours; what is left of the answer is
            // neither wanted nor waited for.
            imap::Error::Io(io) if Bound::of(io).is_some() => {
                self.raw.shutdown();
                format!(
                    "{}; the connection was closed",
                    Bound::of(io).map(Bound::to_string).unwrap_or_default()
                )
            }
            imap::Error::Io(io)
                if matches!(
                    io.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                format!(
                    "no answer within {} s (timeout); if the server is just slow, raise `timeout` for this account",
                    self.timeout
                )
            }
            imap::Error::ConnectionLost => "the server closed the connection".to_string(),
            imap::Error::No(no) => format!("the server said NO: {}", no.information),
            imap::Error::Bad(bad) => format!("the server said BAD: {}", bad.information),
            other => invalid_answer(other, &self.raw).unwrap_or_else(|| match other {
                imap::Error::Bye(bye) => format!("the server said BYE: {}", bye.information),
                other => other.to_string(),
            }),
        };
        let detail = format!("{cmd} on {}: {why}", self.addr);
        let folder = &self.shown(folder);
        match e {
            imap::Error::No(_) | imap::Error::Bad(_) if !folder.is_empty() => SourceError::Folder {
                folder: folder.clone(),
                detail,
            },
            imap::Error::No(_) | imap::Error::Bad(_) => SourceError::Other(detail),
            _ => {
                self.broken = Some(detail.clone());
                self.open = None;
                SourceError::Other(format!("{}{detail}", in_folder(folder)))
            }
        }
    }

    /// Sends a command whose answer the `imap` crate might not parse and
    /// reads the untagged responses itself ([`FetchReader::read_untagged`]):
    /// the crate fails the whole command on one LIST line with 8-bit bytes
    /// in a name, which would fail the whole account (M21).
    fn raw_command(&mut self, cmd: &str) -> Result<Vec<u8>, SourceError> {
        self.usable("", cmd)?;
        if let Err(e) = self.session.run_command(cmd) {
            return Err(self.fail("", cmd, e));
        }
        let limits = Literals::any(ANSWER_MAX);
        let mut reader = FetchReader::new(&self.raw, &limits);
        let result = reader.read_untagged();
        reader.finish();
        result.map_err(|e| match e {
            Raw::No(info) => SourceError::Other(format!(
                "{cmd} on {}: the server said NO: {info}",
                self.addr
            )),
            Raw::Bad(info) => SourceError::Other(format!(
                "{cmd} on {}: the server said BAD: {info}",
                self.addr
            )),
            Raw::Io(e) => self.fail("", cmd, e),
            // X12: a literal in the answer over what any answer may take.
            Raw::Refused(why) => {
                self.raw.shutdown();
                let detail = format!("{cmd} on {}: {why}; the connection was closed", self.addr);
                self.broken = Some(detail.clone());
                self.open = None;
                SourceError::Other(detail)
            }
        })
    }

    /// The one `LIST "" "*"` (cached until [`MailSource::folders`] asks
    /// again); the first also asks for the NAMESPACE (RFC 2342, M20). A
    /// name that cannot be sent back is left out and warned about (M21).
    fn ensure_listed(&mut self) -> Result<(), SourceError> {
        if self.listed.is_some() {
            return Ok(());
        }
        if !self.namespace_known {
            if self.has_capability("NAMESPACE")? {
                match self.raw_command("NAMESPACE") {
                    Ok(data) => self.naming.personal = parse_namespace(&data).unwrap_or_default(),
                    // Refused (NO/BAD): names are taken as listed.
                    Err(_) if self.broken.is_none() => {}
                    Err(e) => return Err(e),
                }
            }
            self.namespace_known = true;
        }
        let data = self.raw_command(LIST_ALL)?;
        let (listed, unsendable): (Vec<Listed>, Vec<Listed>) =
            parse_list(&data).into_iter().partition(|l| l.sendable);
        for l in unsendable {
            let w = format!(
                "folder `{}` (as the server lists it) is skipped: its name is not modified UTF-7 \
                 (RFC 3501 5.1.3; raw 8-bit or control bytes), so it cannot be named back to {} (M21); \
                 rename it in a mail client to import it",
                l.shown(),
                self.addr
            );
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
        self.delimiter = listed.iter().find_map(|l| l.delimiter.clone());
        self.naming.delimiter = self.delimiter.as_deref().and_then(|d| d.chars().next());
        self.listed = Some(listed);
        Ok(())
    }

    /// A listed folder by any name users may give it (M20).
    fn find_listed(&self, folder: &str) -> Option<&Listed> {
        let listed = self.listed.as_ref()?;
        self.naming
            .candidates(folder)
            .into_iter()
            .find_map(|c| listed.iter().find(|l| l.display == c))
    }

    /// A folder as the server lists it, for messages (M20): `INBOX.CRM
    /// Import` on a server with `.` as delimiter, where crmsync's display
    /// name is `INBOX/CRM Import`.
    fn shown(&self, folder: &str) -> String {
        self.find_listed(folder)
            .map_or_else(|| folder.to_string(), Listed::shown)
    }

    /// The server's spelling of a display name: as listed, else encoded with
    /// the server's delimiter, in the personal namespace (a folder crmsync
    /// creates goes where the user's folders are: `INBOX.CRM Archive` on
    /// Cyrus classic, where a top-level name is a shared folder; M20).
    fn wire_name(&mut self, folder: &str) -> Result<String, SourceError> {
        let folder = normalize(folder);
        if folder == "INBOX" {
            return Ok(folder);
        }
        if self.listed.is_none() {
            self.ensure_listed()?; // learn the delimiter and namespace
        }
        if let Some(l) = self.find_listed(&folder) {
            return Ok(l.wire.clone());
        }
        let mut name = folder.clone();
        // Written as the server lists names (`INBOX.CRM Archive`).
        if let Some(d) = self.naming.delimiter.filter(|d| *d != '/') {
            let server_prefix = self.naming.personal.replace('/', &d.to_string());
            if !server_prefix.is_empty() && name.starts_with(&server_prefix) {
                name = normalize(&name.replace(d, "/"));
            }
        }
        if !self.naming.personal.is_empty() && !name.starts_with(&self.naming.personal) {
            name = format!("{}{name}", self.naming.personal);
        }
        to_wire(&name, self.delimiter.as_deref()).map_err(|detail| SourceError::Folder {
            folder: folder.clone(),
            detail,
        })
    }

    /// Opens `folder`: EXAMINE to read, SELECT to change flags. Nothing is
    /// sent when it is open in a sufficient mode already.
    fn ensure_open(&mut self, folder: &str, write: bool) -> Result<(), SourceError> {
        let folder = normalize(folder);
        if let Some(o) = &self.open
            && o.folder == folder
            && (o.read_write || !write)
        {
            return Ok(());
        }
        self.open_folder(&folder, write).map(|_| ())
    }

    fn open_folder(&mut self, folder: &str, write: bool) -> Result<FolderStatus, SourceError> {
        let verb = if write { "SELECT" } else { "EXAMINE" };
        self.usable(folder, verb)?;
        let wire = self.wire_name(folder)?;
        let quoted = quote(&wire).map_err(|detail| SourceError::Folder {
            folder: folder.to_string(),
            detail,
        })?;
        // A failed SELECT/EXAMINE leaves no folder open (RFC 3501 6.3.1).
        self.open = None;
        let (data, tagged) = self
            .session
            .run(format!("{verb} {quoted}"))
            .map_err(|e| self.fail(folder, verb, e))?;
        let sel = parse_select(&data, tagged);
        let folder_err = |detail: String| SourceError::Folder {
            folder: folder.to_string(),
            detail,
        };
        let Some(validity) = sel.uid_validity else {
            return Err(folder_err(format!(
                "{verb} on {}: the server sent no UIDVALIDITY, so imported mail cannot be remembered",
                self.addr
            )));
        };
        if write {
            if sel.read_only {
                return Err(folder_err(format!(
                    "SELECT on {}: the folder is read-only for this login; crmsync cannot mark or move its messages",
                    self.addr
                )));
            }
            if let Some(&seen) = self.validity.get(folder)
                && seen != validity
            {
                return Err(folder_err(format!(
                    "SELECT on {}: UIDVALIDITY changed from {seen} to {validity} since the folder was read, \
                     so the UIDs now mean other messages; nothing was changed, and the next run reads the folder again",
                    self.addr
                )));
            }
            self.keywords = Some(sel.keywords);
        }
        self.open = Some(Open {
            folder: folder.to_string(),
            read_write: write,
            exists: sel.exists,
            keywords: sel.keywords,
            permanent: sel.permanent,
        });
        Ok(FolderStatus {
            validity: validity.to_string(),
            uid_next: sel.uid_next,
            exists: sel.exists,
        })
    }
}

impl ImapSource {
    /// Creates (and subscribes) `folder` unless LIST shows it already.
    fn ensure_folder(&mut self, folder: &str) -> Result<(), SourceError> {
        let folder = normalize(folder);
        if folder == "INBOX" {
            return Ok(());
        }
        self.ensure_listed()?;
        if self.find_listed(&folder).is_some_and(|l| l.selectable) {
            return Ok(());
        }
        let wire = self.wire_name(&folder)?;
        let quoted = quote(&wire).map_err(|detail| SourceError::Folder {
            folder: folder.clone(),
            detail,
        })?;
        self.usable(&folder, "CREATE")?;
        match self
            .session
            .run_command_and_check_ok(format!("CREATE {quoted}"))
        {
            Ok(()) => {}
            // Created meanwhile by someone else? Then all is well.
            Err(imap::Error::No(no)) => {
                let data = self
                    .session
                    .run_command_and_read_response(format!("LIST \"\" {quoted}"))
                    .map_err(|e| self.fail(&folder, "LIST", e))?;
                if !parse_list(&data)
                    .iter()
                    .any(|l| l.wire == wire && l.selectable)
                {
                    return Err(SourceError::Folder {
                        folder,
                        detail: format!(
                            "CREATE on {}: the server said NO: {}; create the folder by hand or choose another",
                            self.addr, no.information
                        ),
                    });
                }
            }
            Err(e) => return Err(self.fail(&folder, "CREATE", e)),
        }
        // Without a subscription many clients hide the folder; a refusal
        // does not matter for crmsync.
        match self
            .session
            .run_command_and_check_ok(format!("SUBSCRIBE {quoted}"))
        {
            Ok(()) | Err(imap::Error::No(_) | imap::Error::Bad(_)) => {}
            Err(e) => return Err(self.fail(&folder, "SUBSCRIBE", e)),
        }
        let delimiter = self.delimiter.clone();
        if let Some(listed) = &mut self.listed {
            let display = display_name(&wire, delimiter.as_deref());
            listed.retain(|l| l.display != display);
            listed.push(Listed {
                wire,
                display,
                selectable: true,
                delimiter,
                sendable: true,
            });
        }
        Ok(())
    }

    /// Runs a tagged command that answers only OK, naming it in errors.
    fn simple(&mut self, folder: &str, cmd: &str, shown: &str) -> Result<(), SourceError> {
        self.usable(folder, shown)?;
        self.session
            .run_command_and_check_ok(cmd)
            .map_err(|e| self.fail(folder, shown, e))
    }
}

impl MailSource for ImapSource {
    fn folders(
        &mut self,
        configured: &[String],
        include_subfolders: bool,
        prefix: &str,
        parent: Option<&str>,
    ) -> Result<Vec<FolderInfo>, SourceError> {
        self.listed = None; // always fresh: folders appear and go
        self.ensure_listed()?;
        let listed = self.listed.as_deref().unwrap_or_default();
        select_folders(
            listed,
            configured,
            include_subfolders,
            prefix,
            parent,
            &self.naming,
            &self.addr,
        )
    }

    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn server_name(&self, folder: &str) -> String {
        self.shown(folder)
    }

    fn select(&mut self, folder: &str) -> Result<FolderStatus, SourceError> {
        let folder = normalize(folder);
        let status = self.open_folder(&folder, false)?;
        if let Ok(v) = status.validity.parse() {
            self.validity.insert(folder, v);
        }
        Ok(status)
    }

    fn list(&mut self, folder: &str, after: Option<u32>) -> Result<Vec<MsgRef>, SourceError> {
        self.ensure_open(folder, false)?;
        if self.open.as_ref().is_some_and(|o| o.exists == 0) {
            return Ok(Vec::new());
        }
        let first = match after {
            None => 1,
            Some(u32::MAX) => return Ok(Vec::new()),
            Some(n) => n + 1,
        };
        // The UIDs first, then their sizes in batches: one FETCH of `n:*`
        // made the crate hold about 2.4 KB per message at once, and the
        // allocator kept that peak for the whole run (docs/PERFORMANCE.md:
        // 241 MB at 100,000 mails).
        let cmd = format!("UID SEARCH UID {first}:*");
        self.usable(folder, &cmd)?;
        let found = self
            .session
            .uid_search(format!("UID {first}:*"))
            .map_err(|e| self.fail(folder, &cmd, e))?;
        drop(self.session.take_all_unsolicited());
        // `n:*` always includes the highest UID, even below n.
        let mut uids: Vec<u32> = found.into_iter().filter(|&u| u >= first).collect();
        uids.sort_unstable();
        let query = "(UID RFC822.SIZE)";
        let mut out: Vec<MsgRef> = Vec::with_capacity(uids.len());
        for chunk in uids.chunks(LIST_BATCH) {
            let set = uid_set(chunk);
            let cmd = format!("UID FETCH {} {query}", short(&set));
            self.usable(folder, &cmd)?;
            let fetches = self
                .session
                .uid_fetch(&set, query)
                .map_err(|e| self.fail(folder, &cmd, e))?;
            // A message expunged since the SEARCH is simply not listed.
            out.extend(fetches.iter().filter_map(|f| match (f.uid, f.size) {
                (Some(uid), Some(size)) if uid >= first => Some(MsgRef {
                    id: uid.to_string(),
                    uid: Some(uid),
                    size: u64::from(size),
                }),
                _ => None,
            }));
            drop(fetches);
            drop(self.session.take_all_unsolicited());
        }
        out.sort_by_key(|m| m.uid);
        out.dedup_by_key(|m| m.uid);
        Ok(out)
    }

    fn fetch(
        &mut self,
        folder: &str,
        ids: &[MsgRef],
        sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
    ) -> Result<(), SourceError> {
        self.fetch_batched(folder, ids, Part::Body, sink)
    }

    fn fetch_headers(
        &mut self,
        folder: &str,
        ids: &[MsgRef],
        sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
    ) -> Result<(), SourceError> {
        self.fetch_batched(folder, ids, Part::Header, sink)
    }

    /// From the PERMANENTFLAGS of the folder open read-write (`\*` allows
    /// new keywords), else of the last read-write SELECT. Before any SELECT
    /// (EXAMINE shows no PERMANENTFLAGS) it answers true, and
    /// [`MailSource::mark`] checks after its SELECT.
    fn supports_keywords(&self) -> bool {
        match &self.open {
            Some(o) if o.read_write => o.keywords,
            _ => self.keywords.unwrap_or(true),
        }
    }

    fn mark(&mut self, folder: &str, ids: &[MsgRef], keyword: &str) -> Result<(), SourceError> {
        check_keyword(keyword)?;
        let uids = sorted_uids(folder, ids)?;
        if uids.is_empty() {
            return Ok(());
        }
        self.ensure_open(folder, true)?;
        if let Some(o) = &self.open
            && !o.keywords
            && !o.permanent.iter().any(|f| f.eq_ignore_ascii_case(keyword))
        {
            return Err(SourceError::Other(format!(
                "folder `{folder}`: the server at {} does not keep new keywords here \
                 (PERMANENTFLAGS has no \\*), so `{keyword}` cannot be set; set `keyword = \"\"` \
                 for this account to stop marking (imported mail is remembered in the state file either way)",
                self.addr
            )));
        }
        for chunk in uids.chunks(UID_BATCH) {
            let set = uid_set(chunk);
            let cmd = format!("UID STORE {set} +FLAGS.SILENT ({keyword})");
            let shown = format!("UID STORE {} +FLAGS.SILENT ({keyword})", short(&set));
            self.simple(folder, &cmd, &shown)?;
        }
        Ok(())
    }

    fn move_to(&mut self, folder: &str, ids: &[MsgRef], target: &str) -> Result<(), SourceError> {
        let uids = sorted_uids(folder, ids)?;
        if uids.is_empty() || normalize(folder) == normalize(target) {
            return Ok(());
        }
        let has_move = self.has_capability("MOVE")?;
        if !has_move && !self.has_capability("UIDPLUS")? {
            return Err(SourceError::Other(format!(
                "folder `{folder}`: the server at {} has neither MOVE nor UIDPLUS, so crmsync cannot \
                 remove exactly the imported messages (a plain EXPUNGE would also delete others marked \
                 \\Deleted); nothing was moved; remove `archive_folder` from this account",
                self.addr
            )));
        }
        self.ensure_folder(target)?;
        let target_wire = self.wire_name(target)?;
        let quoted = quote(&target_wire).map_err(|detail| SourceError::Folder {
            folder: target.to_string(),
            detail,
        })?;
        self.ensure_open(folder, true)?;
        for chunk in uids.chunks(UID_BATCH) {
            let set = uid_set(chunk);
            let s = short(&set);
            if has_move {
                self.simple(
                    folder,
                    &format!("UID MOVE {set} {quoted}"),
                    &format!("UID MOVE {s} {quoted}"),
                )?;
            } else {
                // Copy first: nothing is flagged \Deleted without a copy.
                self.simple(
                    folder,
                    &format!("UID COPY {set} {quoted}"),
                    &format!("UID COPY {s} {quoted}"),
                )?;
                self.simple(
                    folder,
                    &format!("UID STORE {set} +FLAGS.SILENT (\\Deleted)"),
                    &format!("UID STORE {s} +FLAGS.SILENT (\\Deleted)"),
                )?;
                self.simple(
                    folder,
                    &format!("UID EXPUNGE {set}"),
                    &format!("UID EXPUNGE {s}"),
                )?;
            }
        }
        Ok(())
    }

    fn append(&mut self, folder: &str, raw: &[u8]) -> Result<(), SourceError> {
        let folder = normalize(folder);
        self.ensure_folder(&folder)?;
        let wire = self.wire_name(&folder)?;
        let quoted = quote(&wire).map_err(|detail| SourceError::Folder {
            folder: folder.clone(),
            detail,
        })?;
        self.usable(&folder, "APPEND")?;
        // The crate writes `APPEND "<name>" () {n}` without escaping the
        // name: hand it the escaped inside of our quoted string.
        let inner = &quoted[1..quoted.len() - 1];
        match self.session.append(inner, raw).finish() {
            Ok(_) => {
                // Its EXISTS count is stale now: the next list() re-opens it.
                if self.open.as_ref().is_some_and(|o| o.folder == folder) {
                    self.open = None;
                }
                Ok(())
            }
            // The server answered something other than `+` to the literal:
            // what was read is unknown, so the connection is not trusted.
            Err(imap::Error::Append) => {
                let detail = format!(
                    "APPEND on {}: the server refused the message before it was sent",
                    self.addr
                );
                self.broken = Some(detail.clone());
                self.open = None;
                Err(SourceError::Folder { folder, detail })
            }
            Err(e) => Err(self.fail(&folder, "APPEND", e)),
        }
    }

    fn can_outline(&self) -> bool {
        true
    }

    fn fetch_outline(
        &mut self,
        folder: &str,
        msg: &MsgRef,
        max_text: u64,
    ) -> Result<Option<Outline>, SourceError> {
        let Some((uid, _)) = with_uids(folder, std::slice::from_ref(msg))?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        self.ensure_open(folder, false)?;
        // 1. The header and the part tree (sizes, types, file names).
        let query = "(UID BODYSTRUCTURE BODY.PEEK[HEADER])";
        let cmd = format!("UID FETCH {uid} {query}");
        self.usable(folder, &cmd)?;
        let first = self
            .session
            .uid_fetch(uid.to_string(), query)
            .map_err(|e| self.fail(folder, &cmd, e))?;
        let Some(f) = first.iter().find(|f| f.uid == Some(uid)) else {
            return Ok(None); // vanished meanwhile
        };
        let (Some(header), Some(bs)) = (f.header(), f.bodystructure()) else {
            return Err(SourceError::Other(format!(
                "{}UID {uid}: the server sent no BODYSTRUCTURE or header for a message over max_size",
                in_folder(folder)
            )));
        };
        let header = header.to_vec();
        let mut leaves = Vec::new();
        outline_leaves(bs, &mut Vec::new(), &mut leaves);
        let tree = OutlineTree::of(bs);
        drop(first);
        let text_octets: u64 = leaves.iter().filter(|l| l.text).map(|l| l.octets).sum();
        let text_size = header.len() as u64 + text_octets;
        let attachments = leaves
            .iter()
            .filter(|l| !l.text)
            .map(|l| OutlinePart {
                name: l.name.clone(),
                media_type: l.media_type.clone(),
                size: if l.base64 { l.octets / 4 * 3 } else { l.octets },
            })
            .collect();
        if text_size > max_text {
            // Too large even without attachments (M4): the header suffices.
            return Ok(Some(Outline {
                raw: header,
                text_size,
                attachments,
            }));
        }
        // 2. The MIME headers of every part and the bytes of the text parts.
        let mut items = Vec::new();
        tree.sections(&mut Vec::new(), &mut items);
        let query = format!("(UID {})", items.join(" "));
        let cmd = format!("UID FETCH {uid} (... {} sections)", items.len());
        self.usable(folder, &cmd)?;
        // X12: the text parts (at most max_text) and the part headers.
        self.raw.allow_next(text_size.saturating_add(ANSWER_MAX));
        let second = self
            .session
            .uid_fetch(uid.to_string(), &query)
            .map_err(|e| self.fail(folder, &cmd, e))?;
        let Some(f) = second.iter().find(|f| f.uid == Some(uid)) else {
            return Ok(None);
        };
        let mut raw = Vec::with_capacity(text_size as usize + 1024);
        tree.build(&header, f, &mut Vec::new(), &mut raw);
        drop(second);
        drop(self.session.take_all_unsolicited());
        Ok(Some(Outline {
            raw,
            text_size,
            attachments,
        }))
    }

    fn has_message_id(&mut self, folder: &str, message_id: &str) -> Result<bool, SourceError> {
        let folder = normalize(folder);
        let quoted = quote(message_id).map_err(|detail| {
            SourceError::Other(format!(
                "Message-ID {message_id:?} cannot be searched for: {detail}"
            ))
        })?;
        self.ensure_open(&folder, false)?;
        let query = format!("HEADER Message-ID {quoted}");
        let cmd = format!("UID SEARCH {query}");
        self.usable(&folder, &cmd)?;
        match self.session.uid_search(&query) {
            Ok(found) => Ok(!found.is_empty()),
            Err(e) => Err(self.fail(&folder, &cmd, e)),
        }
    }

    fn connection_lost(&self) -> bool {
        self.broken.is_some()
    }

    fn close(&mut self) {
        if self.broken.is_none() {
            let _ = self.session.logout();
        }
        self.broken = Some("the session was closed".into());
        self.open = None;
    }
}

/// `folder `X`: ` for messages, or nothing for account-wide commands.
fn in_folder(folder: &str) -> String {
    if folder.is_empty() {
        String::new()
    } else {
        format!("folder `{folder}`: ")
    }
}

/// A keyword is an IMAP atom not starting with `\` (RFC 3501 flag-keyword).
fn check_keyword(keyword: &str) -> Result<(), SourceError> {
    let bad = keyword.is_empty()
        || keyword.starts_with('\\')
        || keyword
            .chars()
            .any(|c| !c.is_ascii_graphic() || "(){%*\"\\]".contains(c));
    if bad {
        return Err(SourceError::Other(format!(
            "`{}` is not a valid IMAP keyword: use letters, digits and `$_-.`, e.g. \"$CRMImported\" (config: mail.keyword)",
            keyword.escape_debug()
        )));
    }
    Ok(())
}

/// M1 and M2 over one LIST (see [`MailSource::folders`]), by the rules
/// every source shares ([`crate::source::mail::choose_folders`]).
fn select_folders(
    listed: &[Listed],
    configured: &[String],
    include_subfolders: bool,
    prefix: &str,
    parent: Option<&str>,
    naming: &Naming,
    addr: &str,
) -> Result<Vec<FolderInfo>, SourceError> {
    let names: Vec<crate::source::mail::Listed> = listed
        .iter()
        .map(|l| crate::source::mail::Listed {
            name: l.display.clone(),
            selectable: l.selectable,
        })
        .collect();
    crate::source::mail::choose_folders_in(
        &names,
        configured,
        include_subfolders,
        prefix,
        parent,
        naming,
    )
    .map_err(|m| {
        // M20: as the server lists them.
        let mut have: Vec<String> = listed
            .iter()
            .filter(|l| l.selectable)
            .map(Listed::shown)
            .collect();
        have.sort_unstable();
        let more = have.len().saturating_sub(20);
        have.truncate(20);
        SourceError::Folder {
            folder: m.folder,
            detail: format!(
                "{} does not exist on {addr}; the server has: {}{}",
                m.what,
                have.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use super::answers::literal_len;
    use super::*;
    use crate::config::Config;

    fn listed(wire: &str, delimiter: Option<&str>, selectable: bool) -> Listed {
        Listed {
            wire: wire.to_string(),
            display: display_name(wire, delimiter),
            selectable,
            delimiter: delimiter.map(str::to_string),
            sendable: true,
        }
    }

    fn names(v: &[FolderInfo]) -> Vec<(&str, Option<&str>, bool)> {
        v.iter()
            .map(|f| (f.name.as_str(), f.status.as_deref(), f.import_folder))
            .collect()
    }

    #[test]
    fn keywords_must_be_atoms() {
        assert!(check_keyword("$CRMImported").is_ok());
        assert!(check_keyword("crm-imported_1.0").is_ok());
        for bad in ["", "\\Seen", "a b", "a)", "x\r\n", "ü", "a*", "a]"] {
            assert!(check_keyword(bad).is_err(), "{bad:?}");
        }
    }

    fn server() -> Vec<Listed> {
        vec![
            listed("INBOX", Some("/"), true),
            listed("INBOX/Sub", Some("/"), true),
            listed("CRM Import", Some("/"), true),
            listed("CRM Import/Customers", Some("/"), true),
            listed("CRM Import/Customers/2024", Some("/"), true),
            listed("CRM", Some("/"), false),
            listed("CRM/CRM Done [E]", Some("/"), true),
            listed("CRM/CRM Done [E]/Old", Some("/"), true),
            listed("CRM/CRM Offers sent [OS]", Some("/"), false),
            listed("CRM/CRM Offers sent [OS]/Q1", Some("/"), true),
            listed("CRM/Notes", Some("/"), true),
            listed("Other/CRM Lost [L]", Some("/"), true),
            listed("Entw&APw-rfe", Some("/"), true),
        ]
    }

    #[test]
    fn m1_configured_folders_with_subfolders_in_configured_order() {
        let l = server();
        let cfg = vec!["CRM Import".to_string(), "inbox".to_string()];
        let got = select_folders(
            &l,
            &cfg,
            true,
            "CRM",
            Some("Nowhere-but-ok"),
            &Naming::default(),
            "h:1",
        );
        assert!(
            matches!(got, Err(SourceError::Folder { ref folder, .. }) if folder == "Nowhere-but-ok")
        );
        let got = select_folders(
            &l,
            &cfg,
            true,
            "CRM",
            Some("CRM"),
            &Naming::default(),
            "h:1",
        )
        .unwrap();
        assert_eq!(
            names(&got),
            vec![
                ("CRM Import", None, true),
                ("CRM Import/Customers", None, true),
                ("CRM Import/Customers/2024", None, true),
                ("INBOX", None, false),
                ("INBOX/Sub", None, false),
                ("CRM/CRM Done [E]", Some("E"), true),
                ("CRM/CRM Done [E]/Old", Some("E"), true),
                ("CRM/CRM Offers sent [OS]/Q1", Some("OS"), true),
            ]
        );
        let got = select_folders(
            &l,
            &cfg,
            false,
            "CRM",
            Some("CRM"),
            &Naming::default(),
            "h:1",
        )
        .unwrap();
        assert_eq!(got.len(), 5);
        assert_eq!(got[1].name, "INBOX");
    }

    #[test]
    fn m2_without_parent_searches_the_whole_tree() {
        let l = server();
        let got = select_folders(
            &l,
            &["Entwürfe".to_string()],
            true,
            "CRM",
            None,
            &Naming::default(),
            "h:1",
        )
        .unwrap();
        let n: Vec<&str> = got.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            n,
            vec![
                "Entwürfe",
                "CRM/CRM Done [E]",
                "CRM/CRM Done [E]/Old",
                "CRM/CRM Offers sent [OS]/Q1",
                "Other/CRM Lost [L]"
            ]
        );
    }

    #[test]
    fn m1_missing_folder_is_a_folder_error_naming_it() {
        let l = server();
        let e = select_folders(
            &l,
            &["Nope".to_string()],
            true,
            "CRM",
            None,
            &Naming::default(),
            "h:1",
        )
        .unwrap_err();
        match e {
            SourceError::Folder { folder, detail } => {
                assert_eq!(folder, "Nope");
                assert!(detail.contains("does not exist on h:1"), "{detail}");
                assert!(detail.contains("Entwürfe"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        // A \Noselect parent exists: no error, but it is not imported.
        let got = select_folders(
            &l,
            &["CRM".to_string()],
            false,
            "X",
            None,
            &Naming::default(),
            "h:1",
        )
        .unwrap();
        assert!(got.is_empty());
    }

    // -- A scripted IMAP server on loopback, for faults Dovecot cannot show --

    enum Reply {
        /// Send this text (complete lines, `{tag}` replaced).
        Send(String),
        /// Send this text, then hang up.
        Close(String),
        /// Send this text, then go silent.
        Stall(String),
        /// Send this text a byte every 100 ms (for at most 60 s).
        Trickle(String),
    }

    type Log = Arc<Mutex<Vec<String>>>;

    /// Logs in anyone whose password is `pw`; answers other commands with
    /// `reply(command)`. Returns the port and the log of commands.
    fn fake_server(reply: impl Fn(&str) -> Reply + Send + 'static) -> (u16, Log) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log: Log = Arc::default();
        let log2 = log.clone();
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            stream.write_all(b"* OK fake ready\r\n").unwrap();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                // A literal: say go on, read it, and the rest of the line.
                while let Some(n) = literal_len(line.trim_end().as_bytes()) {
                    stream.write_all(b"+ go on\r\n").unwrap();
                    let mut buf = vec![0; n];
                    reader.read_exact(&mut buf).unwrap();
                    line = format!("{}<{n} bytes>", line.trim_end());
                    let mut more = String::new();
                    reader.read_line(&mut more).unwrap();
                    line.push_str(&more);
                }
                let line = line.trim_end().to_string();
                let (tag, cmd) = line.split_once(' ').unwrap_or((&line, ""));
                log2.lock().unwrap().push(cmd.to_string());
                let out = if cmd.starts_with("LOGIN") {
                    if cmd.ends_with("\"pw\"") || cmd.ends_with(" pw") {
                        Reply::Send("{tag} OK logged in\r\n".into())
                    } else {
                        Reply::Send(
                            "{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n".into(),
                        )
                    }
                } else if cmd == "LOGOUT" {
                    Reply::Close("* BYE\r\n{tag} OK bye\r\n".into())
                } else {
                    reply(cmd)
                };
                let text = |t: &str| t.replace("{tag}", tag);
                match out {
                    Reply::Send(t) => stream.write_all(text(&t).as_bytes()).unwrap(),
                    Reply::Close(t) => {
                        let _ = stream.write_all(text(&t).as_bytes());
                        return;
                    }
                    Reply::Stall(t) => {
                        let _ = stream.write_all(text(&t).as_bytes());
                        std::thread::sleep(Duration::from_secs(30));
                        return;
                    }
                    Reply::Trickle(t) => {
                        for b in text(&t).bytes().take(600) {
                            if stream.write_all(&[b]).is_err() {
                                return;
                            }
                            std::thread::sleep(Duration::from_millis(100));
                        }
                        return;
                    }
                }
            }
        });
        (port, log)
    }

    fn account(port: u16, password: &str) -> (MailAccount, Secret) {
        let text = format!(
            "[[users]]\nlogin = \"alice\"\nemails = [\"alice@us.example\"]\n\n\
             [[mail.accounts]]\nname = \"t\"\nuser = \"alice\"\nsource = \"imap\"\n\
             host = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\npassword = \"{password}\"\ntimeout = 1\n"
        );
        let mut cfg = Config::parse(&text, std::path::Path::new("test.toml")).unwrap();
        (cfg.mail.accounts.remove(0), Secret::new(password))
    }

    const EXAMINE_OK: &str = "* 3 EXISTS\r\n* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 4] ok\r\n\
         * OK [PERMANENTFLAGS ()] ro\r\n{tag} OK [READ-ONLY] done\r\n";
    const SELECT_OK: &str = "* 3 EXISTS\r\n* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 4] ok\r\n\
         * OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] rw\r\n{tag} OK [READ-WRITE] done\r\n";

    fn refs(uids: &[u32]) -> Vec<MsgRef> {
        uids.iter()
            .map(|&u| MsgRef {
                id: u.to_string(),
                uid: Some(u),
                size: 10,
            })
            .collect()
    }

    /// A Courier/Cyrus-classic-like server: every folder below `INBOX.`.
    fn classic_server(namespace: &'static str) -> (u16, Log) {
        fake_server(move |cmd| {
            if cmd == "CAPABILITY" {
                Reply::Send("* CAPABILITY IMAP4rev1 NAMESPACE UIDPLUS MOVE\r\n{tag} OK\r\n".into())
            } else if cmd == "NAMESPACE" {
                Reply::Send(namespace.into())
            } else if cmd.starts_with("LIST") {
                Reply::Send(
                    "* LIST (\\HasChildren) \".\" INBOX\r\n\
                     * LIST () \".\" \"INBOX.CRM Import\"\r\n\
                     * LIST () \".\" \"INBOX.Junk\"\r\n{tag} OK\r\n"
                        .into(),
                )
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        })
    }

    #[test]
    fn m20_m13_classic_namespace_names_and_creates_in_the_personal_namespace() {
        let (port, log) =
            classic_server("* NAMESPACE ((\"INBOX.\" \".\")) NIL NIL\r\n{tag} OK\r\n");
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        let got = src
            .folders(
                &["INBOX".into(), "CRM Import".into()],
                true,
                "CRM",
                Some(""),
            )
            .unwrap();
        assert_eq!(
            names(&got),
            [("INBOX", None, false), ("INBOX/CRM Import", None, true)]
        );
        assert_eq!(src.server_name("INBOX/CRM Import"), "INBOX.CRM Import");
        // A folder crmsync makes goes where the user's folders are.
        src.append("CRM Archive", b"x").unwrap();
        src.close();
        let log = log.lock().unwrap();
        assert!(
            log.iter().any(|c| c == "CREATE \"INBOX.CRM Archive\""),
            "{log:?}"
        );
    }

    #[test]
    fn m20_a_refused_namespace_leaves_names_as_listed() {
        let (port, _) = classic_server("{tag} BAD unknown command\r\n");
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        let got = src
            .folders(&["INBOX.CRM Import".into()], true, "CRM", None)
            .unwrap();
        // Found as listed; without a namespace INBOX.x counts as INBOX's
        // sub-folder (the rule of servers with an empty personal prefix).
        assert_eq!(names(&got), [("INBOX/CRM Import", None, false)]);
        src.close();
    }

    #[test]
    fn x2_wrong_password_is_source_error_auth() {
        let (port, _) = fake_server(|_| Reply::Send("{tag} OK\r\n".into()));
        let (a, _) = account(port, "pw");
        let e = ImapSource::connect(&a, &Secret::new("wrong")).unwrap_err();
        assert!(
            matches!(e, SourceError::Auth(ref d) if d.contains("Authentication failed")),
            "{e:?}"
        );
    }

    #[test]
    fn a_server_hanging_up_mid_fetch_is_an_error_naming_folder_and_command() {
        let (port, _) = fake_server(|cmd| {
            if cmd.starts_with("EXAMINE") {
                Reply::Send(EXAMINE_OK.into())
            } else if cmd.starts_with("UID FETCH") {
                Reply::Close("* 1 FETCH (UID 1 BODY[] {5000}\r\nFrom: a@b\r\n\r\nhalf".into())
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        let status = src.select("Archive").unwrap();
        assert_eq!(status.validity, "42");
        assert_eq!(status.uid_next, Some(4));
        let mut got = 0;
        let e = src
            .fetch("Archive", &refs(&[1, 2, 3]), &mut |_, _| {
                got += 1;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(got, 0);
        let text = e.to_string();
        assert!(matches!(e, SourceError::Other(_)), "{e:?}");
        assert!(text.contains("folder `Archive`"), "{text}");
        assert!(text.contains("UID FETCH 1:3 (UID BODY.PEEK[])"), "{text}");
        assert!(text.contains("closed the connection"), "{text}");
        // The session refuses further commands instead of misreading.
        let e = src.list("Archive", None).unwrap_err();
        assert!(e.to_string().contains("broke earlier"), "{e}");
    }

    /// Issue 16 item 10: garbage UIDs are not "the server said BYE".
    #[test]
    fn garbage_uids_are_named_as_an_invalid_answer_not_a_bye() {
        for (command, answer, quoted) in [
            (
                "UID SEARCH",
                "* SEARCH 1 2 x7\r\n{tag} OK done\r\n",
                "`* SEARCH 1 2 x7`",
            ),
            (
                "UID FETCH",
                "* 1 FETCH (UID abc RFC822.SIZE 10)\r\n{tag} OK done\r\n",
                "`* 1 FETCH (UID abc RFC822.SIZE 10)`",
            ),
        ] {
            let (port, _) = fake_server(move |cmd| {
                if cmd.starts_with("EXAMINE") {
                    Reply::Send(EXAMINE_OK.into())
                } else if cmd.starts_with("UID SEARCH") && command == "UID FETCH" {
                    Reply::Send("* SEARCH 1\r\n{tag} OK done\r\n".into())
                } else if cmd.starts_with(command) {
                    Reply::Send(answer.into())
                } else {
                    Reply::Send("{tag} OK\r\n".into())
                }
            });
            let (a, pw) = account(port, "pw");
            let mut src = ImapSource::connect(&a, &pw).unwrap();
            src.select("INBOX").unwrap();
            let e = src.list("INBOX", None).unwrap_err().to_string();
            assert!(!e.contains("BYE"), "{command}: {e}");
            assert!(
                e.contains("not valid IMAP") && e.contains(quoted),
                "{command}: {e}"
            );
            assert!(e.contains(command) && e.contains("INBOX"), "{e}");
        }
    }

    /// Issue 16 item 10, at login: an answer that is not IMAP.
    #[test]
    fn an_answer_to_login_that_is_not_imap_is_quoted_not_called_a_bye() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let _ = s.write_all(b"* OK ready\r\n");
                let mut line = String::new();
                let _ = BufReader::new(s.try_clone().unwrap()).read_line(&mut line);
                let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n");
                std::thread::sleep(Duration::from_secs(5));
            }
        });
        let (a, pw) = account(port, "pw");
        let Err(e) = ImapSource::connect(&a, &pw) else {
            panic!("an answer that is not IMAP was accepted");
        };
        let e = e.to_string();
        assert!(!e.contains("BYE") && !e.contains("Bye"), "{e}");
        assert!(
            e.contains("not valid IMAP") && e.contains("`SSH-2.0-OpenSSH_9.6`"),
            "{e}"
        );
    }

    #[test]
    fn a_server_going_silent_mid_fetch_times_out() {
        let (port, _) = fake_server(|cmd| {
            if cmd.starts_with("EXAMINE") {
                Reply::Send(EXAMINE_OK.into())
            } else if cmd.starts_with("UID FETCH") {
                Reply::Stall("* 1 FETCH (UID 1 BODY[] {5000}\r\nFrom: a@b\r\n".into())
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        let t0 = Instant::now();
        let e = src
            .fetch("INBOX", &refs(&[1]), &mut |_, _| Ok(()))
            .unwrap_err();
        assert!(t0.elapsed() < Duration::from_secs(10));
        assert!(e.to_string().contains("timeout"), "{e}");
        assert!(e.to_string().contains("folder `INBOX`"), "{e}");
    }

    /// [`account`] with `deadline = 1`.
    fn account_with_deadline(port: u16) -> (MailAccount, Secret) {
        let (mut a, pw) = account(port, "pw");
        a.deadline = 1;
        (a, pw)
    }

    #[test]
    fn x13_a_server_trickling_mid_fetch_ends_at_the_deadline() {
        let (port, _) = fake_server(|cmd| {
            if cmd.starts_with("EXAMINE") {
                Reply::Send(EXAMINE_OK.into())
            } else if cmd.starts_with("UID FETCH") {
                // A byte every 100 ms: never silent for the 1 s timeout.
                Reply::Trickle(format!(
                    "* 1 FETCH (UID 1 BODY[] {{5000}}\r\n{}",
                    "x".repeat(5000)
                ))
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        });
        let (a, pw) = account_with_deadline(port);
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        src.select("INBOX").unwrap();
        let t0 = Instant::now();
        let e = src
            .fetch("INBOX", &refs(&[1]), &mut |_, _| Ok(()))
            .unwrap_err();
        // 1 s deadline; the trickle would take 60 s.
        assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
        let text = e.to_string();
        assert!(text.contains("deadline of 1 s"), "{text}");
        assert!(text.contains("raise `deadline`"), "{text}");
        assert!(text.contains("folder `INBOX`"), "{text}");
        assert!(src.connection_lost());
    }

    #[test]
    fn x13_a_server_trickling_its_greeting_ends_at_the_deadline() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let Ok((mut s, _)) = l.accept() else { return };
            for b in b"* OK trickling greeting".iter().cycle().take(600) {
                if s.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let (a, pw) = account_with_deadline(port);
        let t0 = Instant::now();
        let e = ImapSource::connect(&a, &pw).unwrap_err();
        assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
        assert!(e.to_string().contains("deadline of 1 s"), "{e}");
    }

    #[test]
    fn x12_a_literal_larger_than_announced_is_refused_before_it_is_read() {
        let (port, _) = fake_server(|cmd| {
            if cmd.starts_with("EXAMINE") {
                Reply::Send(EXAMINE_OK.into())
            } else if cmd.starts_with("UID FETCH") {
                // Announced at 10 bytes (refs()), sent as 1.5 GB.
                Reply::Stall("* 1 FETCH (UID 1 BODY[] {1500000000}\r\nFrom: a@b\r\n".into())
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        src.select("Archive").unwrap();
        let mut got = 0;
        let e = src
            .fetch("Archive", &refs(&[1, 2]), &mut |_, _| {
                got += 1;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(got, 0);
        // Refused at its announcement (the server then goes silent: a
        // read would have ended in the timeout instead).
        let text = e.to_string();
        assert!(!text.contains("timeout"), "{text}");
        for want in [
            "folder `Archive`",
            "UID 1: the server announced 10 bytes",
            "literal of 1500000000 bytes",
            "X12",
            "connection was closed",
            "next run",
        ] {
            assert!(text.contains(want), "{want}: {text}");
        }
        assert!(src.connection_lost());
    }

    #[test]
    fn x12_an_answer_through_the_crate_is_bounded_too() {
        let (port, _) = fake_server(|cmd| {
            if cmd.starts_with("EXAMINE") {
                Reply::Send(EXAMINE_OK.into())
            } else if cmd.starts_with("UID SEARCH") {
                // 17 MB of UIDs on one line, and no end.
                let mut t = String::from("* SEARCH");
                while t.len() < (17 << 20) {
                    t.push_str(" 1234567");
                }
                Reply::Stall(t)
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        let e = src.list("INBOX", None).unwrap_err().to_string();
        assert!(e.contains("larger than 16777216 bytes"), "{e}");
        assert!(e.contains("UID SEARCH"), "{e}");
        assert!(e.contains("connection was closed"), "{e}");
        assert!(src.connection_lost());
    }

    #[test]
    fn an_untagged_no_during_examine_does_not_panic() {
        let (port, _) = fake_server(|cmd| {
            if cmd.starts_with("EXAMINE") {
                Reply::Send(format!("* NO [ALERT] quota nearly full\r\n{EXAMINE_OK}"))
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        assert_eq!(src.select("INBOX").unwrap().exists, 3);
    }

    #[test]
    fn folder_names_reach_the_server_encoded_and_escaped() {
        let (port, log) = fake_server(|cmd| {
            if cmd.starts_with("EXAMINE") {
                Reply::Send(EXAMINE_OK.into())
            } else {
                Reply::Send("{tag} OK\r\n".into())
            }
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        src.select("Entwürfe").unwrap();
        src.select("Quote\"d \\ back").unwrap();
        src.select("x\r\nA1 DELETE INBOX").unwrap();
        src.close();
        let log = log.lock().unwrap();
        // One LIST first (M20: the namespace and delimiter decide the spelling).
        assert_eq!(log.iter().filter(|c| c.starts_with("LIST")).count(), 1);
        let examined: Vec<&String> = log.iter().filter(|c| c.starts_with("EXAMINE")).collect();
        assert_eq!(
            examined,
            [
                "EXAMINE \"Entw&APw-rfe\"",
                "EXAMINE \"Quote\\\"d \\\\ back\"",
                "EXAMINE \"x&AA0ACg-A1 DELETE INBOX\"",
            ]
        );
        assert!(!log.iter().any(|c| c.starts_with("DELETE")), "{log:?}");
    }

    #[test]
    fn m16_move_without_move_or_uidplus_is_refused_before_any_change() {
        let (port, log) = fake_server(|cmd| match cmd {
            "CAPABILITY" => Reply::Send("* CAPABILITY IMAP4rev1\r\n{tag} OK\r\n".into()),
            _ if cmd.starts_with("EXAMINE") => Reply::Send(EXAMINE_OK.into()),
            _ => Reply::Send("{tag} OK\r\n".into()),
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        src.select("INBOX").unwrap();
        let e = src.move_to("INBOX", &refs(&[1, 2]), "Archive").unwrap_err();
        assert!(e.to_string().contains("neither MOVE nor UIDPLUS"), "{e}");
        src.close();
        let log = log.lock().unwrap();
        assert!(
            !log.iter()
                .any(|c| c.starts_with("UID") || c.starts_with("SELECT")),
            "{log:?}"
        );
    }

    #[test]
    fn m16_move_with_uidplus_copies_then_expunges_exactly_those_uids() {
        let (port, log) = fake_server(|cmd| match cmd {
            "CAPABILITY" => Reply::Send("* CAPABILITY IMAP4rev1 UIDPLUS\r\n{tag} OK\r\n".into()),
            _ if cmd.starts_with("LIST") => Reply::Send(
                "* LIST () \"/\" INBOX\r\n* LIST () \"/\" \"Archive\"\r\n{tag} OK\r\n".into(),
            ),
            _ if cmd.starts_with("EXAMINE") => Reply::Send(EXAMINE_OK.into()),
            _ if cmd.starts_with("SELECT") => Reply::Send(SELECT_OK.into()),
            _ => Reply::Send("{tag} OK\r\n".into()),
        });
        let (a, pw) = account(port, "pw");
        let mut src = ImapSource::connect(&a, &pw).unwrap();
        src.select("INBOX").unwrap();
        assert!(src.supports_keywords());
        src.mark("INBOX", &refs(&[3, 1, 2, 3]), "$CRMImported")
            .unwrap();
        src.move_to("INBOX", &refs(&[1, 3]), "Archive/Entwürfe")
            .unwrap();
        src.append("Archive/Entwürfe", b"Subject: hi\r\n\r\nbody\r\n")
            .unwrap();
        src.close();
        let log = log.lock().unwrap();
        assert_eq!(
            &log[1..],
            &[
                "EXAMINE \"INBOX\"",
                "SELECT \"INBOX\"",
                "UID STORE 1:3 +FLAGS.SILENT ($CRMImported)",
                "CAPABILITY", // once per session
                "LIST \"\" \"*\"",
                "CREATE \"Archive/Entw&APw-rfe\"",
                "SUBSCRIBE \"Archive/Entw&APw-rfe\"",
                "UID COPY 1,3 \"Archive/Entw&APw-rfe\"",
                "UID STORE 1,3 +FLAGS.SILENT (\\Deleted)",
                "UID EXPUNGE 1,3",
                "APPEND \"Archive/Entw&APw-rfe\" () {21}<21 bytes>",
                "LOGOUT",
            ]
        );
    }
}
