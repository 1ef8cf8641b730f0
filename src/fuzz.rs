//! Fuzzing entry points (issue 9): one function per input format, shared by
//! the cargo-fuzz targets in `fuzz/` (libFuzzer, nightly, `scripts/fuzz`)
//! and by the `fuzz_corpora` unit test below, which replays every file of
//! `fuzz/corpus/<target>/` on each `cargo test` (no nightly needed), so
//! every input a fuzz run kept, crashes included, stays a regression test.
//!
//! Each function takes arbitrary bytes and must return normally: an error
//! for bad input is fine, a panic (an `unwrap` on input data, an index out
//! of bounds, an overflow) is a bug. Each also checks an invariant that
//! must hold for every input it accepts.

use std::collections::HashSet;
use std::path::Path;

/// The mail parsing path of import-mail: full parse, header-only parse
/// (M4/M19) and the header-block scan; sizes must be consistent.
pub fn mail(data: &[u8]) {
    if let Ok(m) = crate::parse::mail::parse(data) {
        assert_eq!(m.raw_size, data.len() as u64);
        assert!(m.text_size <= m.raw_size, "text_size over raw_size");
        // Attachment names are safe file names (no traversal).
        for a in &m.attachments {
            let n = &a.name;
            assert!(
                !n.is_empty()
                    && !n.starts_with('.')
                    && !n.contains(['/', '\\'])
                    && !n.chars().any(char::is_control),
                "unsafe attachment file name {n:?}"
            );
        }
    }
    if let Some(n) = crate::parse::mail::header_block_len(data) {
        assert!(n <= data.len());
        let _ = crate::parse::mail::parse_headers(&data[..n]);
    }
    let _ = crate::parse::mail::parse_headers(data);
}

/// iCalendar: parse, and every parsed item writes and re-parses (C4, the
/// lossless model).
pub fn ical(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(items) = crate::parse::ical::parse(text) else {
        return;
    };
    for item in &items {
        let written = crate::parse::ical::write(item);
        let _ = crate::parse::ical::content_hash(item);
        let again = crate::parse::ical::parse(&written);
        assert!(
            again.is_ok(),
            "a parsed item does not re-parse: {:?}\n{written}",
            again.err()
        );
    }
    let _ = crate::parse::ical::unescape_text(text);
}

/// vCard as read by `crm import` (and the UID/hash helpers of push-contacts).
pub fn vcard(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let users: HashSet<String> = ["alice".to_string()].into_iter().collect();
    let refs = crate::parse::records::Refs {
        users: &users,
        company_exists: &|id: &str| id == "C1",
        company_by_name: &|name: &str| (name == "Acme").then(|| "C1".to_string()),
    };
    let _ = crate::parse::records::persons_vcard(text, &refs);
    let _ = crate::parse::vcard::card_uid(text);
    let _ = crate::parse::vcard::content_hash(text);
}

/// The config file (SPEC 8): errors carry a line, never a panic.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = crate::config::Config::parse(text, Path::new("fuzz.toml"));
    let _ = crate::config::parse_size(text);
}

/// WebDAV multistatus answers (PROPFIND, REPORT, sync-collection).
pub fn dav_xml(data: &[u8]) {
    if let Ok(responses) = crate::source::dav::parse_multistatus(data) {
        for r in &responses {
            let _ = r.prop("DAV:", "getetag");
        }
    }
}

/// An IMAP server's answer to `UID FETCH ... (UID BODY.PEEK[])`, read by
/// literal length (`source::imap::fetch::FetchReader`).
pub fn imap_fetch(data: &[u8]) {
    crate::source::imap::fuzz_fetch_answer(data);
}

/// A fuzz entry point.
pub type Target = fn(&[u8]);

/// The targets by name, as in `fuzz/fuzz_targets/<name>.rs`.
pub const TARGETS: &[(&str, Target)] = &[
    ("mail", mail),
    ("ical", ical),
    ("vcard", vcard),
    ("config", config),
    ("dav_xml", dav_xml),
    ("imap_fetch", imap_fetch),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every corpus file through its entry point: the CI variant of
    /// `scripts/fuzz`, and the home of every crash found (kept inputs).
    #[test]
    fn fuzz_corpora() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        let mut total = 0;
        for (name, run) in TARGETS {
            let dir = root.join(name);
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            assert!(!files.is_empty(), "no seed corpus in {}", dir.display());
            for f in files {
                let data = std::fs::read(&f).unwrap();
                let r = std::panic::catch_unwind(|| run(&data));
                assert!(r.is_ok(), "{name}: {} panics", f.display());
                total += 1;
            }
        }
        assert!(total >= TARGETS.len());
    }
}
