//! A vdir (the layout of vdirsyncer and khard): a root folder whose
//! sub-folders are collections (address books or calendars), each holding
//! one item per file named `<UID>.vcf` (or `.ics`), and an optional
//! `displayname` file with the collection's name.
//!
//! It offers what the WebDAV core offers, on files: hrefs are paths
//! relative to the root (`contacts/` for a collection, `contacts/<UID>.vcf`
//! for an item); an item's ETag is its inode, modification time (ns) and
//! size, so any rewrite changes it; writes are atomic (a temp file in the
//! same folder, synced, then renamed or hard-linked into place) and
//! conditional like DAV's: create fails when the file exists, replace and
//! delete fail when the ETag differs.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::dav::{Collection, DavKind, Member, Precondition};

/// Why a vdir operation failed.
#[derive(Debug, thiserror::Error)]
pub enum VdirError {
    /// The file is not the version expected (changed, or exists already).
    #[error("{0}: the file is not the version expected (changed or created by someone else)")]
    Precondition(PathBuf),
    #[error("{0} does not exist")]
    NotFound(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> VdirError + '_ {
    move |source| VdirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One vdir root.
#[derive(Debug, Clone)]
pub struct Vdir {
    root: PathBuf,
    kind: DavKind,
}

impl Vdir {
    /// A vdir at `root`; nothing is created until the first write.
    pub fn open(root: &Path, kind: DavKind) -> Vdir {
        Vdir {
            root: root.to_path_buf(),
            kind,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file extension of items: `vcf` or `ics`.
    pub fn extension(&self) -> &'static str {
        match self.kind {
            DavKind::Calendar => "ics",
            DavKind::Contacts => "vcf",
        }
    }

    /// The file of an href below the root. Issue 9: an href (from a
    /// server listing, the state file or the config's target folder) that
    /// would leave the root (`..`, an absolute path, a NUL) is refused.
    fn path(&self, href: &str) -> Result<PathBuf, VdirError> {
        let rel = href.trim_start_matches('/');
        let escapes = rel.contains('\0')
            || Path::new(rel)
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)));
        if escapes {
            return Err(VdirError::Io {
                path: self.root.clone(),
                source: io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "href `{href}` would leave the vdir folder (`..` or an absolute path); refused"
                    ),
                ),
            });
        }
        Ok(self.root.join(rel))
    }

    /// The collections: every sub-folder not starting with '.', by name.
    ///
    /// # Errors
    /// An unreadable root (a missing one is an empty vdir).
    pub fn collections(&self) -> Result<Vec<Collection>, VdirError> {
        let rd = match fs::read_dir(&self.root) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&self.root)(e)),
        };
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(io_err(&self.root))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            out.push(self.describe(&name));
        }
        out.sort_by(|a, b| a.href.cmp(&b.href));
        Ok(out)
    }

    fn describe(&self, dir: &str) -> Collection {
        let display = fs::read_to_string(self.root.join(dir).join("displayname"))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        Collection {
            href: format!("{dir}/"),
            name: display.unwrap_or_else(|| dir.to_string()),
            components: Vec::new(),
            vcard_versions: vec!["3.0".into(), "4.0".into()],
            sync_token: None,
            ctag: None,
        }
    }

    /// Makes the collection folder `href` (`name/`) with a `displayname`.
    ///
    /// # Errors
    /// [`VdirError::Precondition`] when it exists; I/O errors.
    pub fn create_collection(
        &self,
        href: &str,
        displayname: &str,
    ) -> Result<Collection, VdirError> {
        let dir = href.trim_matches('/');
        let path = self.path(dir)?;
        if path.exists() {
            return Err(VdirError::Precondition(path));
        }
        fs::create_dir_all(&path).map_err(io_err(&path))?;
        let meta = path.join("displayname");
        fs::write(&meta, format!("{displayname}\n")).map_err(io_err(&meta))?;
        Ok(self.describe(dir))
    }

    /// Every item of a collection with its ETag.
    ///
    /// # Errors
    /// [`VdirError::NotFound`] for a missing collection; I/O errors.
    pub fn list(&self, collection: &str) -> Result<Vec<Member>, VdirError> {
        let dir = self.path(collection)?;
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(VdirError::NotFound(dir)),
            Err(e) => return Err(io_err(&dir)(e)),
        };
        let prefix = format!("{}/", collection.trim_matches('/'));
        let ext = format!(".{}", self.extension());
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(io_err(&dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !name.ends_with(&ext) {
                continue;
            }
            match entry.metadata() {
                Ok(m) if m.is_file() => out.push(Member {
                    href: format!("{prefix}{name}"),
                    etag: etag(&m),
                }),
                Ok(_) => {}
                // Deleted between read_dir and stat: not a member any more.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&entry.path())(e)),
            }
        }
        out.sort_by(|a, b| a.href.cmp(&b.href));
        Ok(out)
    }

    /// One item's ETag and text; None when it does not exist.
    ///
    /// # Errors
    /// I/O errors.
    pub fn get(&self, href: &str) -> Result<Option<(String, String)>, VdirError> {
        let path = self.path(href)?;
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let m = fs::metadata(&path).map_err(io_err(&path))?;
        Ok(Some((etag(&m), text)))
    }

    fn current_etag(&self, path: &Path) -> Result<Option<String>, VdirError> {
        match fs::metadata(path) {
            Ok(m) => Ok(Some(etag(&m))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(path)(e)),
        }
    }

    /// Writes one item atomically, with DAV's preconditions; returns the
    /// new ETag.
    ///
    /// # Errors
    /// [`VdirError::Precondition`]: the file exists (create) or is not the
    /// version `IfMatch` names; I/O errors (e.g. a full disk).
    pub fn put(&self, href: &str, data: &str, pre: Precondition<'_>) -> Result<String, VdirError> {
        let path = self.path(href)?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.root.clone());
        if !dir.is_dir() {
            return Err(VdirError::NotFound(dir));
        }
        if let Precondition::IfMatch(expected) = pre
            && self.current_etag(&path)?.as_deref() != Some(expected)
        {
            return Err(VdirError::Precondition(path));
        }
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let tmp = dir.join(format!(
            ".crmsync-{}-{}.tmp",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(data.as_bytes())?;
            f.sync_all()
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(io_err(&tmp)(e));
        }
        let placed = match pre {
            // Create only: a hard link never replaces an existing file.
            Precondition::Create => match fs::hard_link(&tmp, &path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    Err(VdirError::Precondition(path.clone()))
                }
                // A file system without hard links: check, then rename.
                Err(_) if path.exists() => Err(VdirError::Precondition(path.clone())),
                Err(_) => fs::rename(&tmp, &path).map_err(io_err(&path)),
            },
            Precondition::IfMatch(_) => fs::rename(&tmp, &path).map_err(io_err(&path)),
        };
        let _ = fs::remove_file(&tmp);
        placed?;
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        self.current_etag(&path)?
            .ok_or_else(|| VdirError::NotFound(path.clone()))
    }

    /// Deletes one item, only if it is still the version `if_match`.
    ///
    /// # Errors
    /// [`VdirError::NotFound`] when it is gone already,
    /// [`VdirError::Precondition`] when it changed; I/O errors.
    pub fn delete(&self, href: &str, if_match: Option<&str>) -> Result<(), VdirError> {
        let path = self.path(href)?;
        match (self.current_etag(&path)?, if_match) {
            (None, _) => Err(VdirError::NotFound(path)),
            (Some(cur), Some(want)) if cur != want => Err(VdirError::Precondition(path)),
            _ => fs::remove_file(&path).map_err(io_err(&path)),
        }
    }
}

/// The ETag of a file: inode, mtime (ns) and size; a rename or any write
/// changes it.
fn etag(m: &fs::Metadata) -> String {
    format!(
        "\"{:x}-{:x}.{:x}-{:x}\"",
        m.ino(),
        m.mtime(),
        m.mtime_nsec(),
        m.size()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_leaving_the_root_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("books");
        fs::create_dir_all(root.join("crm")).unwrap();
        let v = Vdir::open(&root, DavKind::Contacts);
        for bad in [
            "crm/../../evil.vcf",
            "../evil.vcf",
            "/crm/../../../evil.vcf",
            "crm/a\0b.vcf",
        ] {
            let e = v.put(bad, "BEGIN:VCARD\r\nEND:VCARD\r\n", Precondition::Create);
            assert!(
                e.as_ref()
                    .is_err_and(|e| e.to_string().contains("would leave")),
                "{bad}: {e:?}"
            );
            assert!(v.get(bad).is_err(), "{bad}");
            assert!(v.delete(bad, None).is_err(), "{bad}");
        }
        assert!(v.create_collection("../outside/", "x").is_err());
        assert!(!dir.path().join("evil.vcf").exists());
        assert!(!dir.path().join("outside").exists());
        // A normal href still works.
        v.put(
            "/crm/ok.vcf",
            "BEGIN:VCARD\r\nEND:VCARD\r\n",
            Precondition::Create,
        )
        .unwrap();
        assert!(v.get("crm/ok.vcf").unwrap().is_some());
    }

    #[test]
    fn conditional_writes_and_listing() {
        let dir = tempfile::tempdir().unwrap();
        let v = Vdir::open(&dir.path().join("books"), DavKind::Contacts);
        assert!(v.collections().unwrap().is_empty());
        let c = v.create_collection("crm/", "CRM").unwrap();
        assert_eq!((c.href.as_str(), c.name.as_str()), ("crm/", "CRM"));
        assert!(matches!(
            v.create_collection("crm/", "CRM"),
            Err(VdirError::Precondition(_))
        ));
        let e1 = v.put("crm/a.vcf", "one", Precondition::Create).unwrap();
        assert!(matches!(
            v.put("crm/a.vcf", "two", Precondition::Create),
            Err(VdirError::Precondition(_))
        ));
        assert_eq!(v.get("crm/a.vcf").unwrap().unwrap().1, "one");
        let e2 = v
            .put("crm/a.vcf", "two!", Precondition::IfMatch(&e1))
            .unwrap();
        assert_ne!(e1, e2);
        assert!(matches!(
            v.put("crm/a.vcf", "three", Precondition::IfMatch(&e1)),
            Err(VdirError::Precondition(_))
        ));
        assert_eq!(
            v.list("crm/").unwrap(),
            vec![Member {
                href: "crm/a.vcf".into(),
                etag: e2.clone()
            }]
        );
        assert!(matches!(
            v.delete("crm/a.vcf", Some(&e1)),
            Err(VdirError::Precondition(_))
        ));
        v.delete("crm/a.vcf", Some(&e2)).unwrap();
        assert!(matches!(
            v.delete("crm/a.vcf", None),
            Err(VdirError::NotFound(_))
        ));
        assert!(v.list("crm/").unwrap().is_empty());
        // No temp files are left behind.
        assert_eq!(
            fs::read_dir(dir.path().join("books/crm")).unwrap().count(),
            1
        );
        assert!(matches!(v.list("gone/"), Err(VdirError::NotFound(_))));
    }
}
