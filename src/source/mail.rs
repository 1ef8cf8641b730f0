//! The mail source interface (STYLE 2 and 3): IMAP and Maildir are two real
//! implementations, so a trait. Listing returns cheap references (id, UID,
//! size); bodies come in batches through a callback, so memory stays
//! bounded whatever the mailbox size. Nothing here knows CRM rules.

use std::fmt;

/// Why a mail source operation failed. `Auth` blocks the account (X2);
/// `Folder` names a folder that does not exist or cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("the server refused the login: {0}")]
    Auth(String),
    #[error("folder `{folder}`: {detail}")]
    Folder { folder: String, detail: String },
    /// Connection, TLS, protocol or file errors: try again next run.
    #[error("{0}")]
    Other(String),
}

/// A folder to import from, after M1 (sub-folders) and M2 discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderInfo {
    /// Human-readable name with `/` as hierarchy separator, decoded from
    /// modified UTF-7 (IMAP) or Maildir++ dots: `CRM Import/Customers`.
    pub name: String,
    /// M2: the status key from a `<prefix> <description> [<status>]` name.
    pub status: Option<String>,
    /// M13: true for folders users fill on purpose (every configured folder
    /// other than INBOX, their sub-folders, and M2 folders); such folders
    /// import everything. False for whole mailboxes such as INBOX.
    pub import_folder: bool,
}

/// A folder's identity for the state file (M3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderStatus {
    /// IMAP: UIDVALIDITY as decimal text. Maildir: a constant per folder.
    pub validity: String,
    /// IMAP: UIDNEXT if the server said it.
    pub uid_next: Option<u32>,
    /// Messages in the folder.
    pub exists: u32,
}

/// One message in a listing: cheap, no body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsgRef {
    /// Stable id within the folder (and validity): the IMAP UID as text,
    /// or the Maildir unique name (file name without the `:2,` info part).
    pub id: String,
    /// The IMAP UID; None for Maildir.
    pub uid: Option<u32>,
    /// Size in bytes of the raw message (RFC822.SIZE or file size).
    pub size: u64,
}

/// A message over `max_size` described without its attachments (M4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    /// A stand-in message to parse: the real header and MIME tree, the
    /// text parts' bytes when the text fits in `max_text` (else no body at
    /// all), every attachment part with its MIME header and an empty body.
    pub raw: Vec<u8>,
    /// The message's size minus its attachment parts (encoded), as
    /// `ParsedMail::text_size` counts it.
    pub text_size: u64,
    /// Every attachment part, in order.
    pub attachments: Vec<OutlinePart>,
}

/// One attachment of an [`Outline`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlinePart {
    /// The file name the mail gives (unsanitized), if any.
    pub name: Option<String>,
    /// `type/subtype`, lower case.
    pub media_type: String,
    /// Decoded size, estimated from the encoded size (base64: 3/4).
    pub size: u64,
}

/// A mail store: an IMAP account (one connection) or a Maildir tree.
pub trait MailSource {
    /// Folders to import: each configured folder (INBOX case-insensitive),
    /// with its sub-folders when `include_subfolders` (M1), plus every
    /// folder named `<prefix> <description> [<status>]` below `parent`
    /// (M2; its sub-folders too). A configured folder that does not exist is
    /// a [`SourceError::Folder`]. No duplicates; configured order first.
    ///
    /// # Errors
    /// [`SourceError`].
    fn folders(
        &mut self,
        configured: &[String],
        include_subfolders: bool,
        prefix: &str,
        parent: Option<&str>,
    ) -> Result<Vec<FolderInfo>, SourceError>;

    /// M20: a folder as the server lists it, for messages (`INBOX.CRM
    /// Import` where its [`FolderInfo::name`] is `INBOX/CRM Import`).
    fn server_name(&self, folder: &str) -> String {
        folder.to_string()
    }

    /// M21: warnings from the last [`MailSource::folders`] about folders
    /// that were left out (named as the server lists them); taken once.
    fn take_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// Opens a folder read-only (IMAP EXAMINE: never sets \Seen).
    ///
    /// # Errors
    /// [`SourceError::Folder`] if it does not exist.
    fn select(&mut self, folder: &str) -> Result<FolderStatus, SourceError>;

    /// Messages of the open folder with UID greater than `after` (IMAP:
    /// `UID SEARCH UID after+1:*` or a `UID FETCH n:* (RFC822.SIZE)`), or all
    /// messages when `after` is None or the source has no UIDs (Maildir).
    /// Sorted by UID (Maildir: by file name).
    ///
    /// # Errors
    /// [`SourceError`].
    fn list(&mut self, folder: &str, after: Option<u32>) -> Result<Vec<MsgRef>, SourceError>;

    /// Streams the raw bytes of these messages to `sink`, in large batches
    /// (IMAP `UID FETCH set (BODY.PEEK[])`: never sets \Seen). A message
    /// that vanished meanwhile is skipped. `sink` errors abort the fetch.
    ///
    /// # Errors
    /// [`SourceError`], or the sink's error as `Other`.
    fn fetch(
        &mut self,
        folder: &str,
        ids: &[MsgRef],
        sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
    ) -> Result<(), SourceError>;

    /// Only the header block of these messages (for mails over `max_size`, M4).
    ///
    /// # Errors
    /// [`SourceError`].
    fn fetch_headers(
        &mut self,
        folder: &str,
        ids: &[MsgRef],
        sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
    ) -> Result<(), SourceError>;

    /// True when [`MailSource::mark`] stores a keyword the user's mail client
    /// can show (IMAP with PERMANENTFLAGS allowing keywords). False for Maildir.
    fn supports_keywords(&self) -> bool;

    /// M16: sets `keyword` on these messages, batched by UID set. Never
    /// removes anything.
    ///
    /// # Errors
    /// [`SourceError`]; an unsupported source returns `Other` explaining why.
    fn mark(&mut self, folder: &str, ids: &[MsgRef], keyword: &str) -> Result<(), SourceError>;

    /// M16: moves these messages to `target`, created if missing (IMAP:
    /// `UID MOVE` when the server has MOVE, else `UID COPY` + `\Deleted` +
    /// `UID EXPUNGE` of exactly those UIDs; Maildir: rename into the target
    /// folder's `cur/`). Nothing is ever deleted without a copy.
    ///
    /// # Errors
    /// [`SourceError`].
    fn move_to(&mut self, folder: &str, ids: &[MsgRef], target: &str) -> Result<(), SourceError>;

    /// M5: appends a message (a notice to the owner) to `folder`.
    ///
    /// # Errors
    /// [`SourceError`].
    fn append(&mut self, folder: &str, raw: &[u8]) -> Result<(), SourceError>;

    /// M4 for a message over `max_size`: its [`Outline`] from the server's
    /// description of its parts, never holding its attachments (a 200 MB
    /// mail costs its header and, if they fit in `max_text`, its text
    /// parts). `Ok(None)`: the message vanished meanwhile. Sources that
    /// cannot do this say so with [`MailSource::can_outline`].
    ///
    /// # Errors
    /// [`SourceError`].
    fn fetch_outline(
        &mut self,
        folder: &str,
        msg: &MsgRef,
        max_text: u64,
    ) -> Result<Option<Outline>, SourceError> {
        let _ = (folder, msg, max_text);
        Err(SourceError::Other(
            "this mail source cannot outline a message".into(),
        ))
    }

    /// Whether [`MailSource::fetch_outline`] works (IMAP: BODYSTRUCTURE).
    fn can_outline(&self) -> bool {
        false
    }

    /// M5 / X5: whether `folder` holds a message with this Message-ID
    /// (`<...>`), so a notice appended by a run killed before it could
    /// record the fact is not appended twice. Sources that never append
    /// answer false.
    ///
    /// # Errors
    /// [`SourceError`].
    fn has_message_id(&mut self, folder: &str, message_id: &str) -> Result<bool, SourceError> {
        let _ = (folder, message_id);
        Ok(false)
    }

    /// Logs out / closes; errors are ignored.
    fn close(&mut self) {}

    /// True once the connection is unusable (timeout, hang-up): a failed
    /// command then says nothing about what the server supports (X5).
    fn connection_lost(&self) -> bool {
        false
    }
}

impl fmt::Display for FolderInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// M2: parses `<prefix> <description> [<status>]` (e.g. `CRM Done [E]`)
/// into (description, status). The status is one to a few letters or digits.
pub fn parse_status_folder<'a>(name: &'a str, prefix: &str) -> Option<(&'a str, String)> {
    let leaf = name.rsplit('/').next().unwrap_or(name);
    let rest = leaf.strip_prefix(prefix)?.strip_prefix(' ')?;
    let open = rest.rfind('[')?;
    let status = rest[open + 1..].strip_suffix(']')?.trim();
    let desc = rest[..open].trim();
    if status.is_empty() || status.len() > 4 || !status.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((desc, status.to_string()))
}

/// A folder as a source lists it: display name (`/`-separated) and whether
/// it can hold mail (IMAP `\Noselect` levels cannot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub selectable: bool,
}

/// A configured folder or `import_parent` that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub folder: String,
    /// "the configured folder" or "the import_parent folder".
    pub what: &'static str,
}

/// True when `name` lies below `root` (`""`: the whole tree).
pub fn is_below(name: &str, root: &str) -> bool {
    if root.is_empty() {
        return !name.is_empty();
    }
    name.strip_prefix(root)
        .is_some_and(|rest| rest.len() > 1 && rest.starts_with('/'))
}

/// M2: the status of a folder from its own name, else from its nearest
/// enclosing `<prefix> <description> [<status>]` folder.
pub fn status_of(name: &str, prefix: &str) -> Option<String> {
    let mut path = name;
    loop {
        if let Some((_, status)) = parse_status_folder(path, prefix) {
            return Some(status);
        }
        path = &path[..path.rfind('/')?];
    }
}

/// `INBOX` in capitals (also as the first level), no trailing `/`.
pub fn normalize_folder(name: &str) -> String {
    let name = name.trim().trim_end_matches('/');
    match name.split_once('/') {
        Some((first, rest)) if first.eq_ignore_ascii_case("INBOX") => format!("INBOX/{rest}"),
        None if name.eq_ignore_ascii_case("INBOX") => "INBOX".to_string(),
        _ => name.to_string(),
    }
}

/// How a source names its folders (RFC 2342 NAMESPACE and the hierarchy
/// delimiter, for IMAP), so that configured names are found in every form
/// users meet them (M20) and INBOX's sub-folders are told from the user's
/// own folders (M1, M13).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Naming {
    /// The hierarchy delimiter when it is not `/` (`.` on Cyrus in its
    /// classic namespace, Courier): a configured name may use it between
    /// levels, as the server lists names.
    pub delimiter: Option<char>,
    /// The personal namespace's prefix as a display name with a trailing
    /// `/`: `INBOX/` where the server keeps every folder of the user below
    /// INBOX (Cyrus classic, Courier); empty where they sit beside it.
    pub personal: String,
}

impl Naming {
    /// The display names a configured folder name may mean, most literal
    /// first (M20): as written (`/` between levels); with the server's
    /// delimiter read as `/` (`INBOX.CRM Import` as Cyrus lists it); below
    /// the personal namespace (`CRM Import`, as mail clients show it).
    pub fn candidates(&self, configured: &str) -> Vec<String> {
        let mut out = vec![normalize_folder(configured)];
        if let Some(d) = self.delimiter.filter(|d| *d != '/')
            && configured.contains(d)
        {
            out.push(normalize_folder(&configured.replace(d, "/")));
        }
        if !self.personal.is_empty() {
            for c in out.clone() {
                if c != "INBOX" && !c.starts_with(&self.personal) {
                    out.push(format!("{}{c}", self.personal));
                }
            }
        }
        let mut seen = Vec::new();
        out.retain(|c| {
            let new = !seen.contains(c);
            seen.push(c.clone());
            new
        });
        out
    }

    /// M1/M13: whether a display name is INBOX or one of its sub-folders,
    /// i.e. part of the whole mailbox. Where the personal namespace is
    /// `INBOX/`, the folders below INBOX are the user's own folders, not
    /// INBOX's sub-folders.
    pub fn in_inbox(&self, name: &str) -> bool {
        name == "INBOX" || (self.personal != "INBOX/" && name.starts_with("INBOX/"))
    }
}

/// M1 and M2 over a folder listing, the same for every source (see
/// [`MailSource::folders`]), for a source without namespaces; see
/// [`choose_folders_in`].
///
/// # Errors
/// [`Missing`] for a configured folder or parent that does not exist.
pub fn choose_folders(
    listed: &[Listed],
    configured: &[String],
    include_subfolders: bool,
    prefix: &str,
    parent: Option<&str>,
) -> Result<Vec<FolderInfo>, Missing> {
    choose_folders_in(
        listed,
        configured,
        include_subfolders,
        prefix,
        parent,
        &Naming::default(),
    )
}

/// M1 and M2 over a folder listing, named by `naming` (M20). A configured
/// folder exists when it, or a folder below it, is listed; INBOX and its
/// sub-folders ([`Naming::in_inbox`]) are whole mailboxes (M13), every other
/// configured folder and every M2 folder an import folder.
///
/// # Errors
/// [`Missing`] (named as configured) for a configured folder or parent that
/// does not exist in any of its forms.
pub fn choose_folders_in(
    listed: &[Listed],
    configured: &[String],
    include_subfolders: bool,
    prefix: &str,
    parent: Option<&str>,
    naming: &Naming,
) -> Result<Vec<FolderInfo>, Missing> {
    let exists = |name: &str| {
        listed
            .iter()
            .any(|l| l.name == name || is_below(&l.name, name))
    };
    let find = |configured: &str| {
        naming
            .candidates(configured)
            .into_iter()
            .find(|c| exists(c))
    };
    let below = |root: &str| {
        let mut v: Vec<&Listed> = listed
            .iter()
            .filter(|l| l.selectable && is_below(&l.name, root))
            // INBOX has no sub-folders where the namespace is `INBOX/` (M1).
            .filter(|l| root != "INBOX" || naming.in_inbox(&l.name))
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v.dedup_by(|a, b| a.name == b.name);
        v
    };
    let mut out: Vec<FolderInfo> = Vec::new();
    // A folder reached twice keeps its first place; it is an import folder
    // if any route says so.
    let mut push = |name: &str, import_folder: bool| match out.iter_mut().find(|f| f.name == name) {
        Some(f) => f.import_folder |= import_folder,
        None => out.push(FolderInfo {
            name: name.to_string(),
            status: status_of(name, prefix),
            import_folder,
        }),
    };
    for written in configured {
        let Some(c) = find(written) else {
            return Err(Missing {
                folder: normalize_folder(written),
                what: "the configured folder",
            });
        };
        // M13: decided from the namespace, not from the spelling.
        let import_folder = !naming.in_inbox(&c);
        if listed.iter().any(|l| l.name == c && l.selectable) {
            push(&c, import_folder);
        }
        if include_subfolders {
            for l in below(&c) {
                push(&l.name, import_folder);
            }
        }
    }
    let written = parent.unwrap_or("");
    let p = if normalize_folder(written).is_empty() {
        String::new()
    } else {
        find(written).ok_or_else(|| Missing {
            folder: normalize_folder(written),
            what: "the import_parent folder",
        })?
    };
    let mut m2: Vec<&str> = listed
        .iter()
        .filter(|l| is_below(&l.name, &p))
        .map(|l| l.name.as_str())
        .filter(|name| parse_status_folder(name, prefix).is_some())
        .collect();
    m2.sort_unstable();
    m2.dedup();
    for name in m2 {
        // An M2 level that holds no mail may still have sub-folders.
        if listed.iter().any(|l| l.name == name && l.selectable) {
            push(name, true);
        }
        for l in below(name) {
            push(&l.name, true);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cyrus_classic() -> (Vec<Listed>, Naming) {
        let listed = [
            "INBOX",
            "INBOX/CRM Import",
            "INBOX/CRM Import/Kunden",
            "INBOX/Junk",
            "INBOX/CRM",
            "INBOX/CRM/CRM Done [E]",
        ]
        .iter()
        .map(|n| Listed {
            name: (*n).to_string(),
            selectable: true,
        })
        .collect();
        let naming = Naming {
            delimiter: Some('.'),
            personal: "INBOX/".to_string(),
        };
        (listed, naming)
    }

    #[test]
    fn m20_configured_names_as_listed_with_slashes_or_below_the_namespace() {
        let (listed, naming) = cyrus_classic();
        for written in [
            "INBOX.CRM Import",
            "INBOX/CRM Import",
            "CRM Import",
            "inbox.CRM Import",
        ] {
            let got =
                choose_folders_in(&listed, &[written.into()], false, "ZZ", None, &naming).unwrap();
            let names: Vec<&str> = got.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(names, ["INBOX/CRM Import"], "{written}");
        }
        // The parent of M2 too.
        let got = choose_folders_in(&listed, &[], true, "CRM", Some("CRM"), &naming).unwrap();
        assert_eq!(got[0].name, "INBOX/CRM/CRM Done [E]");
        // A missing one is named as written.
        let e = choose_folders_in(&listed, &["INBOX.Nope".into()], true, "CRM", None, &naming)
            .unwrap_err();
        assert_eq!(e.folder, "INBOX.Nope");
        // Without a namespace nothing is guessed: `.` is part of a name.
        assert!(choose_folders(&listed, &["INBOX.CRM Import".into()], true, "CRM", None).is_err());
    }

    #[test]
    fn m13_m1_folders_below_inbox_are_the_users_own_where_the_namespace_is_inbox() {
        let (listed, naming) = cyrus_classic();
        let got = choose_folders_in(
            &listed,
            &["INBOX".into(), "INBOX.CRM Import".into()],
            true,
            "CRM",
            None,
            &naming,
        )
        .unwrap();
        let got: Vec<(&str, bool)> = got
            .iter()
            .map(|f| (f.name.as_str(), f.import_folder))
            .collect();
        // INBOX alone (Junk is not its sub-folder); the configured folder
        // and its sub-folder import everything (M13); M2 below the tree.
        assert_eq!(
            got,
            [
                ("INBOX", false),
                ("INBOX/CRM Import", true),
                ("INBOX/CRM Import/Kunden", true),
                ("INBOX/CRM/CRM Done [E]", true),
            ]
        );
        // Where the namespace is empty, INBOX/x is INBOX's sub-folder.
        let flat = Naming::default();
        assert!(flat.in_inbox("INBOX/Sub") && !naming.in_inbox("INBOX/Sub"));
        assert!(flat.in_inbox("INBOX") && naming.in_inbox("INBOX"));
    }

    #[test]
    fn m2_status_folder_names() {
        assert_eq!(
            parse_status_folder("CRM Done [E]", "CRM"),
            Some(("Done", "E".into()))
        );
        assert_eq!(
            parse_status_folder("Archive/CRM Offers sent [OS]", "CRM"),
            Some(("Offers sent", "OS".into()))
        );
        assert_eq!(parse_status_folder("CRM Import", "CRM"), None);
        assert_eq!(parse_status_folder("CRMX Done [E]", "CRM"), None);
        assert_eq!(parse_status_folder("CRM Done []", "CRM"), None);
        assert_eq!(
            parse_status_folder("Sales Done [E]", "Sales"),
            Some(("Done", "E".into()))
        );
    }
}
