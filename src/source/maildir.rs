//! Maildir: a mail store in plain directories, read and written without a
//! server. A *Maildir folder* is a directory with `cur/`, `new/` and `tmp/`;
//! each message is one file whose *unique name* (the file name before the
//! `:2,` flags) never changes while mail clients move it from `new/` to
//! `cur/` and rename it to change flags. That unique name is the message id.
//!
//! Two folder layouts exist and are detected on open:
//! - *Maildir++* (Courier, Dovecot's default): the root is INBOX and every
//!   other folder is a sibling directory `.Name`, the hierarchy spelt with
//!   dots: `.CRM Import.Customers` is `CRM Import/Customers`.
//! - *nested* (Dovecot `LAYOUT=fs`): `root/CRM Import/Customers`, each level
//!   a directory and each folder a Maildir.
//!
//! Directory names are modified UTF-7 as in IMAP (`Entw&APw-rfe` is
//! `Entwürfe`); names that are not valid modified UTF-7 are taken as they
//! are. Maildir has no keywords (M16 marks nothing; `archive_folder` moves),
//! no UIDs (every listing is complete; the state file de-duplicates by id,
//! M3), and nothing here ever deletes a message.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::source::mail::{
    FolderInfo, FolderStatus, Listed, MailSource, MsgRef, SourceError, choose_folders,
};
use crate::source::utf7;

/// The one validity a Maildir folder has: unique names never change, so the
/// ids of the state file stay valid as long as the folder exists.
const VALIDITY: &str = "maildir";

/// How sub-folders are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `root/.A.B` (root is INBOX).
    MaildirPlusPlus,
    /// `root/A/B`.
    Nested,
}

/// A Maildir tree opened for import.
#[derive(Debug)]
pub struct Maildir {
    root: PathBuf,
    layout: Layout,
    /// Makes names from [`MailSource::append`] unique within this process.
    deliveries: u64,
}

impl Maildir {
    /// Opens the Maildir at `root` and detects its layout. A root without
    /// sub-folders counts as Maildir++, the common default.
    ///
    /// # Errors
    /// [`SourceError::Folder`] when `root` does not exist or has no `cur/`
    /// and `new/` directories.
    pub fn open(root: &Path) -> Result<Maildir, SourceError> {
        let folder_err = |detail: String| SourceError::Folder {
            folder: root.display().to_string(),
            detail,
        };
        if !root.is_dir() {
            return Err(folder_err(
                "no such directory; set `path` of the maildir account to the Maildir root \
                 (the directory that holds cur/, new/ and tmp/)"
                    .into(),
            ));
        }
        if !is_maildir(root) {
            return Err(folder_err(
                "not a Maildir: it has no cur/ and new/ directories; set `path` to the \
                 Maildir root (often ~/Maildir)"
                    .into(),
            ));
        }
        let layout = detect_layout(root).map_err(|e| io_err(root, &e))?;
        Ok(Maildir {
            root: root.to_path_buf(),
            layout,
            deliveries: 0,
        })
    }

    /// The root directory (INBOX).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The detected layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Every folder: INBOX first, then the others by name, as
    /// (name, directory) with `/` as hierarchy separator.
    ///
    /// # Errors
    /// [`SourceError::Other`] when a directory cannot be read.
    pub fn all_folders(&self) -> Result<Vec<(String, PathBuf)>, SourceError> {
        let mut found = Vec::new();
        match self.layout {
            Layout::MaildirPlusPlus => {
                for entry in read_dir(&self.root)? {
                    let Some(file_name) = entry.file_name().to_str().map(str::to_string) else {
                        continue;
                    };
                    let Some(dotted) = file_name.strip_prefix('.') else {
                        continue;
                    };
                    let parts: Vec<&str> = dotted.split('.').collect();
                    if parts.iter().any(|p| p.is_empty()) {
                        continue; // `.` and `..`, or a broken name
                    }
                    let path = entry.path();
                    if is_maildir(&path) {
                        let name: Vec<String> = parts.iter().map(|p| decode_level(p)).collect();
                        found.push((name.join("/"), path));
                    }
                }
            }
            Layout::Nested => walk_nested(&self.root, "", 0, &mut found)?,
        }
        found.sort();
        found.insert(0, ("INBOX".to_string(), self.root.clone()));
        Ok(found)
    }

    /// The directory of an existing folder.
    fn resolve(&self, folder: &str) -> Result<PathBuf, SourceError> {
        if folder.eq_ignore_ascii_case("INBOX") {
            return Ok(self.root.clone());
        }
        if let Ok(path) = self.path_for(folder)
            && is_maildir(&path)
        {
            return Ok(path);
        }
        let all = self.all_folders()?;
        if let Some((_, path)) = all.iter().find(|(name, _)| name == folder) {
            return Ok(path.clone());
        }
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).take(12).collect();
        Err(SourceError::Folder {
            folder: folder.to_string(),
            detail: format!(
                "no such folder in the Maildir {} (folders there: {}{})",
                self.root.display(),
                names.join(", "),
                if all.len() > names.len() { ", ..." } else { "" }
            ),
        })
    }

    /// Where `folder` lives (or would live) in this layout.
    fn path_for(&self, folder: &str) -> Result<PathBuf, SourceError> {
        let parts: Vec<&str> = folder.split('/').collect();
        let bad = |why: &str| SourceError::Folder {
            folder: folder.to_string(),
            detail: format!("not a valid Maildir folder name: {why}"),
        };
        if parts.iter().any(|p| p.is_empty()) {
            return Err(bad("empty hierarchy level"));
        }
        if folder.chars().any(char::is_control) {
            return Err(bad("control characters"));
        }
        match self.layout {
            Layout::MaildirPlusPlus => {
                if parts.iter().any(|p| p.contains('.')) {
                    return Err(bad(
                        "Maildir++ spells the hierarchy with dots, so a name cannot contain `.`",
                    ));
                }
                let encoded: Vec<String> = parts.iter().map(|p| utf7::encode(p)).collect();
                Ok(self.root.join(format!(".{}", encoded.join("."))))
            }
            Layout::Nested => {
                let mut path = self.root.clone();
                for p in parts {
                    if matches!(p, "cur" | "new" | "tmp" | "." | "..") || p.starts_with('.') {
                        return Err(bad("a level is `cur`, `new`, `tmp` or starts with `.`"));
                    }
                    path.push(utf7::encode(p));
                }
                Ok(path)
            }
        }
    }

    /// The directory of `folder`, created (with cur/, new/, tmp/) if missing.
    fn ensure_folder(&self, folder: &str) -> Result<PathBuf, SourceError> {
        if let Ok(path) = self.resolve(folder) {
            return Ok(path);
        }
        let path = self.path_for(folder)?;
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(path.join(sub)).map_err(|e| io_err(&path, &e))?;
        }
        if self.layout == Layout::MaildirPlusPlus {
            // Courier's marker for a Maildir++ sub-folder.
            let marker = path.join("maildirfolder");
            if !marker.exists() {
                fs::File::create(&marker).map_err(|e| io_err(&marker, &e))?;
            }
        }
        Ok(path)
    }

    /// Unique name -> file of every message in `dir` (new/ and cur/).
    fn index(dir: &Path) -> Result<HashMap<String, PathBuf>, SourceError> {
        let mut index = HashMap::new();
        for sub in ["new", "cur"] {
            let sub_dir = dir.join(sub);
            let entries = match fs::read_dir(&sub_dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err(&sub_dir, &e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| io_err(&sub_dir, &e))?;
                let file_name = entry.file_name().to_string_lossy().into_owned();
                if file_name.starts_with('.') {
                    continue;
                }
                let path = entry.path();
                if !path.is_file() {
                    continue;
                }
                index
                    .entry(unique_name(&file_name).to_string())
                    .or_insert(path);
            }
        }
        Ok(index)
    }

    /// Calls `read` on the file of each id; a message that vanished (also
    /// after looking again, in case a mail client renamed it) is skipped.
    fn for_each_file(
        &self,
        folder: &str,
        ids: &[MsgRef],
        sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
        read: fn(&Path) -> io::Result<Vec<u8>>,
    ) -> Result<(), SourceError> {
        let dir = self.resolve(folder)?;
        let mut index = Self::index(&dir)?;
        // Read the directory again at most once per run of misses.
        let mut rescanned = false;
        for msg in ids {
            let mut bytes = None;
            for attempt in 0..2 {
                if attempt == 1 {
                    if rescanned {
                        break;
                    }
                    index = Self::index(&dir)?;
                    rescanned = true;
                }
                let Some(path) = index.get(&msg.id) else {
                    continue;
                };
                match read(path) {
                    Ok(b) => {
                        bytes = Some(b);
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_err(path, &e)),
                }
            }
            if let Some(bytes) = bytes {
                rescanned = false;
                sink(msg, bytes).map_err(|e| SourceError::Other(format!("{e:#}")))?;
            }
        }
        Ok(())
    }

    /// A new unique name: `seconds.MmicrosPpidQn.host` (the Maildir
    /// convention; `Q` counts deliveries of this process).
    fn new_unique_name(&mut self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.deliveries += 1;
        format!(
            "{}.M{}P{}Q{}.{}",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            self.deliveries,
            hostname()
        )
    }
}

impl MailSource for Maildir {
    fn folders(
        &mut self,
        configured: &[String],
        include_subfolders: bool,
        prefix: &str,
        parent: Option<&str>,
    ) -> Result<Vec<FolderInfo>, SourceError> {
        let all = self.all_folders()?;
        let listed: Vec<Listed> = all
            .iter()
            .map(|(n, _)| Listed {
                name: n.clone(),
                selectable: true,
            })
            .collect();
        // Maildir++ keeps every folder beside INBOX: INBOX as parent is the whole tree.
        let parent = parent.filter(|p| !p.trim().eq_ignore_ascii_case("INBOX"));
        choose_folders(&listed, configured, include_subfolders, prefix, parent).map_err(|m| {
            let have: Vec<&str> = listed.iter().map(|l| l.name.as_str()).collect();
            SourceError::Folder {
                folder: m.folder,
                detail: format!(
                    "{} does not exist in the Maildir {}; it has: {}",
                    m.what,
                    self.root.display(),
                    have.join(", ")
                ),
            }
        })
    }

    fn select(&mut self, folder: &str) -> Result<FolderStatus, SourceError> {
        let dir = self.resolve(folder)?;
        let exists = Self::index(&dir)?.len();
        Ok(FolderStatus {
            validity: VALIDITY.to_string(),
            uid_next: None,
            exists: u32::try_from(exists).unwrap_or(u32::MAX),
        })
    }

    fn list(&mut self, folder: &str, _after: Option<u32>) -> Result<Vec<MsgRef>, SourceError> {
        let dir = self.resolve(folder)?;
        let mut refs = Vec::new();
        for (id, path) in Self::index(&dir)? {
            // A file that vanished since the directory was read is skipped.
            let Ok(meta) = fs::metadata(&path) else {
                continue;
            };
            refs.push(MsgRef {
                id,
                uid: None,
                size: meta.len(),
            });
        }
        refs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(refs)
    }

    fn fetch(
        &mut self,
        folder: &str,
        ids: &[MsgRef],
        sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
    ) -> Result<(), SourceError> {
        self.for_each_file(folder, ids, sink, |path| fs::read(path))
    }

    fn fetch_headers(
        &mut self,
        folder: &str,
        ids: &[MsgRef],
        sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
    ) -> Result<(), SourceError> {
        self.for_each_file(folder, ids, sink, read_header)
    }

    fn supports_keywords(&self) -> bool {
        false
    }

    fn mark(&mut self, folder: &str, _ids: &[MsgRef], keyword: &str) -> Result<(), SourceError> {
        Err(SourceError::Other(format!(
            "cannot set `{keyword}` on mail in the Maildir folder `{folder}`: Maildir has no \
             keywords, only the standard flags; set `archive_folder` to move imported mail instead"
        )))
    }

    fn move_to(&mut self, folder: &str, ids: &[MsgRef], target: &str) -> Result<(), SourceError> {
        let from = self.resolve(folder)?;
        let to = self.ensure_folder(target)?;
        if fs::canonicalize(&from).ok() == fs::canonicalize(&to).ok() {
            return Ok(());
        }
        let index = Self::index(&from)?;
        for msg in ids {
            let Some(src) = index.get(&msg.id) else {
                continue; // vanished
            };
            let file_name = src
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| msg.id.clone());
            // A message in cur/ carries an info part; one from new/ gets an
            // empty one (no flags: it stays unread).
            let file_name = if file_name.contains(':') {
                file_name
            } else {
                format!("{file_name}:2,")
            };
            let dest = to.join("cur").join(&file_name);
            if dest.exists() {
                return Err(SourceError::Other(format!(
                    "cannot move {} to folder `{target}`: {} already exists there and is \
                     not overwritten",
                    src.display(),
                    file_name
                )));
            }
            match fs::rename(src, &dest) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) if e.kind() == io::ErrorKind::CrossesDevices => {
                    // Another file system: copy safely, then remove the
                    // original (a move, never a loss).
                    let tmp = to.join("tmp").join(&file_name);
                    fs::create_dir_all(to.join("tmp")).map_err(|e| io_err(&to, &e))?;
                    fs::copy(src, &tmp).map_err(|e| io_err(&tmp, &e))?;
                    fs::File::open(&tmp)
                        .and_then(|f| f.sync_all())
                        .map_err(|e| io_err(&tmp, &e))?;
                    fs::rename(&tmp, &dest).map_err(|e| io_err(&dest, &e))?;
                    fs::remove_file(src).map_err(|e| io_err(src, &e))?;
                }
                Err(e) => return Err(io_err(src, &e)),
            }
        }
        Ok(())
    }

    fn append(&mut self, folder: &str, raw: &[u8]) -> Result<(), SourceError> {
        let dir = self.resolve(folder)?;
        let tmp_dir = dir.join("tmp");
        fs::create_dir_all(&tmp_dir).map_err(|e| io_err(&tmp_dir, &e))?;
        // The Maildir delivery: write into tmp/, flush to disk, then rename
        // into new/ where readers see it complete.
        for _ in 0..100 {
            let name = self.new_unique_name();
            let tmp = tmp_dir.join(&name);
            let dest = dir.join("new").join(&name);
            if dest.exists() {
                continue;
            }
            let mut file = match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
            {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err(&tmp, &e)),
            };
            file.write_all(raw)
                .and_then(|()| file.sync_all())
                .map_err(|e| io_err(&tmp, &e))?;
            drop(file);
            fs::rename(&tmp, &dest).map_err(|e| io_err(&dest, &e))?;
            return Ok(());
        }
        Err(SourceError::Other(format!(
            "cannot find a free file name in {}",
            tmp_dir.display()
        )))
    }
}

/// A directory with `cur/` and `new/`.
fn is_maildir(path: &Path) -> bool {
    path.join("cur").is_dir() && path.join("new").is_dir()
}

fn detect_layout(root: &Path) -> io::Result<Layout> {
    let mut nested = false;
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        if !path.is_dir() || matches!(name.as_ref(), "cur" | "new" | "tmp" | "." | "..") {
            continue;
        }
        if name.starts_with('.') {
            if is_maildir(&path) {
                return Ok(Layout::MaildirPlusPlus);
            }
        } else if is_maildir(&path) {
            nested = true;
        }
    }
    // A nested tree whose top levels are plain directories is found by the
    // walk; one level of Maildirs decides here.
    if !nested {
        let mut found = Vec::new();
        if walk_nested(root, "", 0, &mut found).is_ok() && !found.is_empty() {
            nested = true;
        }
    }
    Ok(if nested {
        Layout::Nested
    } else {
        Layout::MaildirPlusPlus
    })
}

/// Folders of the nested layout below `dir` (named `prefix/...`).
fn walk_nested(
    dir: &Path,
    prefix: &str,
    depth: usize,
    found: &mut Vec<(String, PathBuf)>,
) -> Result<(), SourceError> {
    // Deep enough for any real hierarchy, and a stop for symlink loops.
    if depth > 24 {
        return Ok(());
    }
    for entry in read_dir(dir)? {
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if name.starts_with('.') || matches!(name.as_str(), "cur" | "new" | "tmp") {
            continue;
        }
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let folder = if prefix.is_empty() {
            decode_level(&name)
        } else {
            format!("{prefix}/{}", decode_level(&name))
        };
        if is_maildir(&path) {
            found.push((folder.clone(), path.clone()));
        }
        walk_nested(&path, &folder, depth + 1, found)?;
    }
    Ok(())
}

fn read_dir(dir: &Path) -> Result<Vec<fs::DirEntry>, SourceError> {
    fs::read_dir(dir)
        .and_then(Iterator::collect)
        .map_err(|e| io_err(dir, &e))
}

/// The file name without the `:2,flags` info part.
fn unique_name(file_name: &str) -> &str {
    file_name.split_once(':').map_or(file_name, |(u, _)| u)
}

/// The header block of a message file: up to and including the first
/// empty line, without reading the body.
fn read_header(path: &Path) -> io::Result<Vec<u8>> {
    let mut reader = BufReader::new(fs::File::open(path)?);
    let mut header = Vec::new();
    loop {
        let start = header.len();
        if reader.read_until(b'\n', &mut header)? == 0 {
            break;
        }
        let line = &header[start..];
        if line == b"\n" || line == b"\r\n" {
            break;
        }
    }
    Ok(header)
}

fn io_err(path: &Path, e: &io::Error) -> SourceError {
    SourceError::Other(format!("{}: {e}", path.display()))
}

/// The host name for unique names, with `/` and `:` escaped as the Maildir
/// convention asks.
fn hostname() -> String {
    let raw = fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let name: String = raw
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .map(|c| match c {
            '/' => "\\057".to_string(),
            ':' => "\\072".to_string(),
            c => c.to_string(),
        })
        .collect();
    if name.is_empty() {
        "localhost".into()
    } else {
        name
    }
}

/// A directory name level to a folder name level: modified UTF-7 decoded
/// when it is valid modified UTF-7, else as it is (a tree made by hand).
fn decode_level(level: &str) -> String {
    utf7::decode(level).unwrap_or_else(|_| level.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkdir_maildir(path: &Path) {
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(path.join(sub)).unwrap();
        }
    }

    fn put(folder: &Path, sub: &str, file_name: &str, content: &str) {
        fs::write(folder.join(sub).join(file_name), content).unwrap();
    }

    /// A tree with the given folders in the given layout; returns its root.
    fn tree(layout: Layout, folders: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        mkdir_maildir(dir.path());
        for f in folders {
            let path = match layout {
                Layout::MaildirPlusPlus => dir.path().join(format!(
                    ".{}",
                    f.split('/').map(utf7::encode).collect::<Vec<_>>().join(".")
                )),
                Layout::Nested => f
                    .split('/')
                    .fold(dir.path().to_path_buf(), |p, c| p.join(utf7::encode(c))),
            };
            mkdir_maildir(&path);
        }
        dir
    }

    const LAYOUTS: [Layout; 2] = [Layout::MaildirPlusPlus, Layout::Nested];

    fn names(folders: &[FolderInfo]) -> Vec<(&str, Option<&str>, bool)> {
        folders
            .iter()
            .map(|f| (f.name.as_str(), f.status.as_deref(), f.import_folder))
            .collect()
    }

    #[test]
    fn open_rejects_what_is_not_a_maildir() {
        let dir = tempfile::tempdir().unwrap();
        let err = Maildir::open(&dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no such directory"), "{err}");
        let err = Maildir::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("not a Maildir: it has no cur/ and new/"),
            "{err}"
        );
        assert!(matches!(
            Maildir::open(dir.path()),
            Err(SourceError::Folder { .. })
        ));
        fs::create_dir(dir.path().join("cur")).unwrap();
        assert!(
            Maildir::open(dir.path()).is_err(),
            "cur/ alone is not enough"
        );
        fs::create_dir(dir.path().join("new")).unwrap();
        assert!(
            Maildir::open(dir.path()).is_ok(),
            "tmp/ is created when needed"
        );
    }

    #[test]
    fn layout_is_detected() {
        let cases: &[(&[&str], Layout)] = &[
            (&[], Layout::MaildirPlusPlus),
            (&["Sent"], Layout::MaildirPlusPlus),
            (&["CRM Import/Customers"], Layout::MaildirPlusPlus),
        ];
        for (folders, want) in cases {
            let dir = tree(Layout::MaildirPlusPlus, folders);
            assert_eq!(
                Maildir::open(dir.path()).unwrap().layout(),
                *want,
                "{folders:?}"
            );
        }
        let dir = tree(Layout::Nested, &["Sent"]);
        assert_eq!(Maildir::open(dir.path()).unwrap().layout(), Layout::Nested);
        // Nested, where the upper level is only a directory.
        let dir = tempfile::tempdir().unwrap();
        mkdir_maildir(dir.path());
        mkdir_maildir(&dir.path().join("CRM Import").join("Customers"));
        let md = Maildir::open(dir.path()).unwrap();
        assert_eq!(md.layout(), Layout::Nested);
        let all: Vec<String> = md
            .all_folders()
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(all, ["INBOX", "CRM Import/Customers"]);
    }

    #[test]
    fn m1_configured_folders_with_subfolders_in_both_layouts() {
        for layout in LAYOUTS {
            let dir = tree(
                layout,
                &[
                    "CRM Import",
                    "CRM Import/Customers",
                    "CRM Import/Customers/Key",
                    "CRM Importer",
                    "Sent",
                ],
            );
            let mut md = Maildir::open(dir.path()).unwrap();
            let got = md
                .folders(&["CRM Import".into(), "inbox".into()], true, "CRM", None)
                .unwrap();
            assert_eq!(
                names(&got),
                [
                    ("CRM Import", None, true),
                    ("CRM Import/Customers", None, true),
                    ("CRM Import/Customers/Key", None, true),
                    ("INBOX", None, false),
                ],
                "{layout:?}: INBOX is no import folder; `CRM Importer` is no sub-folder"
            );
            let got = md
                .folders(&["CRM Import".into()], false, "CRM", None)
                .unwrap();
            assert_eq!(names(&got), [("CRM Import", None, true)], "{layout:?}");
        }
    }

    #[test]
    fn m1_missing_configured_folder_is_a_folder_error() {
        for layout in LAYOUTS {
            let dir = tree(layout, &["Sent"]);
            let mut md = Maildir::open(dir.path()).unwrap();
            let err = md
                .folders(&["INBOX".into(), "CRM Import".into()], true, "CRM", None)
                .unwrap_err();
            let SourceError::Folder { folder, detail } = &err else {
                panic!("{err:?}");
            };
            assert_eq!(folder, "CRM Import");
            assert!(
                detail.contains("does not exist") && detail.contains("INBOX, Sent"),
                "{detail}"
            );
            assert!(matches!(
                md.select("CRM Import"),
                Err(SourceError::Folder { .. })
            ));
        }
    }

    #[test]
    fn m2_status_folders_are_discovered_below_the_parent() {
        for layout in LAYOUTS {
            let dir = tree(
                layout,
                &[
                    "CRM Done [E]",
                    "CRM Done [E]/2026",
                    "Projects",
                    "Projects/CRM Offers sent [OS]",
                    "Projects/CRM Offers sent [OS]/Acme",
                    "Projects/CRM no status",
                    "Other/CRM Lost [L]",
                ],
            );
            let mut md = Maildir::open(dir.path()).unwrap();
            let got = md
                .folders(&["INBOX".into()], true, "CRM", Some("Projects"))
                .unwrap();
            assert_eq!(
                names(&got),
                [
                    ("INBOX", None, false),
                    ("Projects/CRM Offers sent [OS]", Some("OS"), true),
                    ("Projects/CRM Offers sent [OS]/Acme", Some("OS"), true),
                ],
                "{layout:?}: only below the parent; sub-folders inherit the status"
            );
            let got = md.folders(&["INBOX".into()], true, "CRM", None).unwrap();
            assert_eq!(
                names(&got),
                [
                    ("INBOX", None, false),
                    ("CRM Done [E]", Some("E"), true),
                    ("CRM Done [E]/2026", Some("E"), true),
                    ("Other/CRM Lost [L]", Some("L"), true),
                    ("Projects/CRM Offers sent [OS]", Some("OS"), true),
                    ("Projects/CRM Offers sent [OS]/Acme", Some("OS"), true),
                ],
                "{layout:?}: without a parent the whole tree"
            );
            let err = md
                .folders(&["INBOX".into()], true, "CRM", Some("Nowhere"))
                .unwrap_err();
            assert!(err.to_string().contains("import_parent"), "{err}");
        }
    }

    #[test]
    fn m1_m2_no_duplicates_configured_order_first() {
        let dir = tree(
            Layout::MaildirPlusPlus,
            &["CRM Done [E]", "CRM Done [E]/2026", "Archive"],
        );
        let mut md = Maildir::open(dir.path()).unwrap();
        let got = md
            .folders(
                &[
                    "Archive".into(),
                    "CRM Done [E]/2026".into(),
                    "INBOX".into(),
                    "Archive".into(),
                ],
                true,
                "CRM",
                None,
            )
            .unwrap();
        assert_eq!(
            names(&got),
            [
                ("Archive", None, true),
                ("CRM Done [E]/2026", Some("E"), true),
                ("INBOX", None, false),
                ("CRM Done [E]", Some("E"), true),
            ]
        );
    }

    #[test]
    fn folder_names_are_modified_utf7_decoded_in_both_layouts() {
        for layout in LAYOUTS {
            let dir = tree(layout, &["Entwürfe", "R&D/Q1"]);
            let level = match layout {
                Layout::MaildirPlusPlus => ".Entw&APw-rfe",
                Layout::Nested => "Entw&APw-rfe",
            };
            assert!(dir.path().join(level).is_dir(), "{layout:?}");
            // A folder made by hand with a name that is no modified UTF-7.
            let by_hand = match layout {
                Layout::MaildirPlusPlus => dir.path().join(".A&B"),
                Layout::Nested => dir.path().join("A&B"),
            };
            mkdir_maildir(&by_hand);
            let md = Maildir::open(dir.path()).unwrap();
            let all: Vec<String> = md
                .all_folders()
                .unwrap()
                .into_iter()
                .map(|(n, _)| n)
                .collect();
            assert_eq!(all, ["INBOX", "A&B", "Entwürfe", "R&D/Q1"], "{layout:?}");
            let mut md = md;
            for name in ["Entwürfe", "R&D/Q1", "A&B"] {
                assert!(md.select(name).is_ok(), "{layout:?} {name}");
            }
        }
    }

    #[test]
    fn select_and_list_read_new_and_cur_sorted_by_unique_name() {
        let dir = tree(Layout::MaildirPlusPlus, &[]);
        let root = dir.path();
        put(root, "cur", "1732000002.M2P1.example:2,S", "b");
        put(root, "new", "1732000001.M1P1.example", "aaaa");
        put(root, "cur", "1732000003.M3P1.example,S=3:2,RS", "ccc");
        put(root, "cur", ".hidden", "x");
        put(root, "tmp", "1732000009.M9P1.example", "being delivered");
        let mut md = Maildir::open(root).unwrap();
        let status = md.select("INBOX").unwrap();
        assert_eq!(
            status,
            FolderStatus {
                validity: "maildir".into(),
                uid_next: None,
                exists: 3
            }
        );
        let list = md.list("INBOX", Some(2)).unwrap();
        let got: Vec<(&str, Option<u32>, u64)> = list
            .iter()
            .map(|m| (m.id.as_str(), m.uid, m.size))
            .collect();
        assert_eq!(
            got,
            [
                ("1732000001.M1P1.example", None, 4),
                ("1732000002.M2P1.example", None, 1),
                ("1732000003.M3P1.example,S=3", None, 3),
            ]
        );
    }

    #[test]
    fn fetch_and_fetch_headers_skip_vanished_and_follow_renames() {
        let dir = tree(Layout::MaildirPlusPlus, &[]);
        let root = dir.path();
        let mail = "From: a@acme.example\r\nSubject: hi\r\n\r\nbody\r\n\r\nmore\r\n";
        put(root, "new", "1.M1P1.h", mail);
        put(root, "new", "2.M1P1.h", "From: b@acme.example\n\nb");
        put(root, "cur", "3.M1P1.h:2,", "From: c@acme.example");
        let mut md = Maildir::open(root).unwrap();
        let list = md.list("INBOX", None).unwrap();
        // A mail client reads message 1 (new/ -> cur/ with flags), and
        // message 2 is deleted by the user, after the listing.
        fs::rename(root.join("new/1.M1P1.h"), root.join("cur/1.M1P1.h:2,S")).unwrap();
        fs::remove_file(root.join("new/2.M1P1.h")).unwrap();
        let mut got: Vec<(String, Vec<u8>)> = Vec::new();
        md.fetch("INBOX", &list, &mut |m, raw| {
            got.push((m.id.clone(), raw));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            got,
            [
                ("1.M1P1.h".to_string(), mail.as_bytes().to_vec()),
                ("3.M1P1.h".to_string(), b"From: c@acme.example".to_vec()),
            ]
        );
        got.clear();
        md.fetch_headers("INBOX", &list, &mut |m, raw| {
            got.push((m.id.clone(), raw));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            got,
            [
                (
                    "1.M1P1.h".to_string(),
                    b"From: a@acme.example\r\nSubject: hi\r\n\r\n".to_vec()
                ),
                ("3.M1P1.h".to_string(), b"From: c@acme.example".to_vec()),
            ]
        );
    }

    #[test]
    fn sink_error_aborts_fetch() {
        let dir = tree(Layout::MaildirPlusPlus, &[]);
        put(dir.path(), "new", "1.M1P1.h", "From: a@acme.example\n\nx");
        put(dir.path(), "new", "2.M1P1.h", "From: a@acme.example\n\ny");
        let mut md = Maildir::open(dir.path()).unwrap();
        let list = md.list("INBOX", None).unwrap();
        let mut calls = 0;
        let err = md
            .fetch("INBOX", &list, &mut |_, _| {
                calls += 1;
                anyhow::bail!("state file is locked")
            })
            .unwrap_err();
        assert_eq!(calls, 1);
        assert!(matches!(&err, SourceError::Other(m) if m.contains("state file is locked")));
    }

    #[test]
    fn m16_maildir_has_no_keywords() {
        let dir = tree(Layout::MaildirPlusPlus, &[]);
        let mut md = Maildir::open(dir.path()).unwrap();
        assert!(!md.supports_keywords());
        let err = md.mark("INBOX", &[], "$CRMImported").unwrap_err();
        assert!(
            matches!(&err, SourceError::Other(m) if m.contains("no keywords") && m.contains("archive_folder")),
            "{err}"
        );
    }

    #[test]
    fn m16_move_to_creates_the_target_in_the_same_layout() {
        for layout in LAYOUTS {
            let dir = tree(layout, &["CRM Import"]);
            let root = dir.path();
            let src = match layout {
                Layout::MaildirPlusPlus => root.join(".CRM Import"),
                Layout::Nested => root.join("CRM Import"),
            };
            put(&src, "new", "1.M1P1.h", "one");
            put(&src, "cur", "2.M1P1.h:2,S", "two");
            put(&src, "cur", "3.M1P1.h:2,", "three");
            let mut md = Maildir::open(root).unwrap();
            let list = md.list("CRM Import", None).unwrap();
            let moved: Vec<MsgRef> = list.iter().take(2).cloned().collect();
            md.move_to("CRM Import", &moved, "Archive/2026").unwrap();
            let target = match layout {
                Layout::MaildirPlusPlus => root.join(".Archive.2026"),
                Layout::Nested => root.join("Archive").join("2026"),
            };
            assert!(
                target.join("cur/1.M1P1.h:2,").is_file(),
                "{layout:?}: new/ gets an info part"
            );
            assert!(
                target.join("cur/2.M1P1.h:2,S").is_file(),
                "{layout:?}: flags kept"
            );
            assert!(target.join("tmp").is_dir() && target.join("new").is_dir());
            assert_eq!(
                fs::read_to_string(target.join("cur/2.M1P1.h:2,S")).unwrap(),
                "two"
            );
            let left: Vec<String> = md
                .list("CRM Import", None)
                .unwrap()
                .into_iter()
                .map(|m| m.id)
                .collect();
            assert_eq!(left, ["3.M1P1.h"], "{layout:?}: the rest stays");
            let arrived: Vec<String> = md
                .list("Archive/2026", None)
                .unwrap()
                .into_iter()
                .map(|m| m.id)
                .collect();
            assert_eq!(
                arrived,
                ["1.M1P1.h", "2.M1P1.h"],
                "{layout:?}: ids survive the move"
            );
            // Moving again (ids gone) and moving into the same folder: nothing happens.
            md.move_to("CRM Import", &moved, "Archive/2026").unwrap();
            md.move_to("CRM Import", &list, "CRM Import").unwrap();
            assert_eq!(md.list("CRM Import", None).unwrap().len(), 1);
            // The new folder is found, also below a parent that is no folder.
            let got = md.folders(&["Archive".into()], true, "CRM", None).unwrap();
            let names: Vec<String> = got.into_iter().map(|f| f.name).collect();
            assert_eq!(names, ["Archive/2026"], "{layout:?}");
        }
    }

    #[test]
    fn m16_move_never_overwrites() {
        let dir = tree(Layout::MaildirPlusPlus, &["Archive"]);
        let root = dir.path();
        put(root, "cur", "1.M1P1.h:2,S", "new copy");
        put(&root.join(".Archive"), "cur", "1.M1P1.h:2,S", "old copy");
        let mut md = Maildir::open(root).unwrap();
        let list = md.list("INBOX", None).unwrap();
        let err = md.move_to("INBOX", &list, "Archive").unwrap_err();
        assert!(err.to_string().contains("not overwritten"), "{err}");
        assert_eq!(
            fs::read_to_string(root.join("cur/1.M1P1.h:2,S")).unwrap(),
            "new copy"
        );
        assert_eq!(
            fs::read_to_string(root.join(".Archive/cur/1.M1P1.h:2,S")).unwrap(),
            "old copy"
        );
    }

    #[test]
    fn folder_names_a_layout_cannot_hold_are_errors() {
        let dir = tree(Layout::MaildirPlusPlus, &[]);
        let mut md = Maildir::open(dir.path()).unwrap();
        for bad in ["v1.2", "a//b", "/x"] {
            let err = md.move_to("INBOX", &[], bad).unwrap_err();
            assert!(matches!(err, SourceError::Folder { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn m5_append_delivers_into_new_via_tmp() {
        let dir = tree(Layout::MaildirPlusPlus, &[]);
        let root = dir.path();
        fs::remove_dir(root.join("tmp")).unwrap();
        let mut md = Maildir::open(root).unwrap();
        md.append("INBOX", b"From: crmsync\r\n\r\nnotice 1")
            .unwrap();
        md.append("inbox", b"From: crmsync\r\n\r\nnotice 2")
            .unwrap();
        let mut files: Vec<PathBuf> = fs::read_dir(root.join("new"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert_eq!(files.len(), 2);
        assert_eq!(
            fs::read_dir(root.join("tmp")).unwrap().count(),
            0,
            "tmp/ is left empty"
        );
        let contents: Vec<String> = files
            .iter()
            .map(|p| fs::read_to_string(p).unwrap())
            .collect();
        assert!(contents.contains(&"From: crmsync\r\n\r\nnotice 1".to_string()));
        for f in &files {
            let name = f.file_name().unwrap().to_str().unwrap();
            let parts: Vec<&str> = name.splitn(3, '.').collect();
            assert!(parts[0].parse::<u64>().is_ok(), "{name}: seconds first");
            assert!(
                parts[1].starts_with('M') && parts[1].contains('P'),
                "{name}"
            );
            assert!(!name.contains(':') && !name.contains('/'), "{name}");
        }
        assert_eq!(md.list("INBOX", None).unwrap().len(), 2);
        assert!(matches!(
            md.append("Missing", b"x"),
            Err(SourceError::Folder { .. })
        ));
    }

    /// The quickstart mailbox in `examples/maildir` stays what the README
    /// promises: 12 mails in INBOX (one of them malformed) and 3 in the M2
    /// status folder `CRM Done [E]`.
    #[test]
    fn example_mailbox_matches_the_readme() {
        use crate::parse::mail::parse;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/maildir");
        let mut md = Maildir::open(&root).unwrap();
        assert_eq!(md.layout(), Layout::MaildirPlusPlus);
        let folders = md.folders(&["INBOX".into()], true, "CRM", None).unwrap();
        assert_eq!(
            names(&folders),
            [("INBOX", None, false), ("CRM Done [E]", Some("E"), true)]
        );
        let mut subjects = Vec::new();
        let mut errors = Vec::new();
        for (folder, count) in [("INBOX", 12), ("CRM Done [E]", 3)] {
            assert_eq!(md.select(folder).unwrap().exists, count);
            let list = md.list(folder, None).unwrap();
            assert!(list.iter().all(|m| m.size < 4096), "{folder}: small files");
            md.fetch(folder, &list, &mut |m, raw| {
                match parse(&raw) {
                    Ok(mail) => {
                        let date = mail.date.unwrap().to_rfc3339();
                        assert!(date.starts_with("2026-11-"), "{}: {date}", m.id);
                        subjects.push((mail.subject.clone(), mail.automated));
                        if mail.subject.starts_with("Offer 4711") {
                            assert_eq!(mail.attachments.len(), 1);
                            assert_eq!(mail.attachments[0].name, "Offer-4711.pdf");
                            assert!(mail.attachments[0].data.starts_with(b"%PDF-"));
                        }
                        if mail.subject == "Re: Offer 4711 for the Munich office" {
                            assert_eq!(mail.in_reply_to.len(), 1);
                        }
                    }
                    Err(e) => errors.push((m.id.clone(), e.to_string())),
                }
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].1.starts_with("not a mail"), "{errors:?}");
        assert_eq!(subjects.len(), 14);
        let automated: Vec<&str> = subjects
            .iter()
            .filter(|(_, a)| *a)
            .map(|(s, _)| s.as_str())
            .collect();
        assert_eq!(
            automated,
            [
                "SaaS Weekly #212: pricing pages that convert",
                "Your invoice INV-2026-1187 is ready"
            ]
        );
        assert!(
            subjects
                .iter()
                .any(|(s, _)| s == "Rückfrage zum Angebot für München")
        );
    }
}
