//! `ImapSource` (the IMAP `MailSource`) against the real Dovecot: folder
//! discovery (M1, M2) with non-ASCII and quoted names, listing after a UID
//! (M3), batched body fetches that never set \Seen, keywords (M16), moves
//! to an archive folder (M16), appends (M5) and a refused login (X2).
//!
//! Checks go through a second, independent session (the `imap` crate
//! directly), so a test sees what a mail client would see.

use std::collections::BTreeMap;
use std::path::Path;

use ::imap::types::Flag;
use crmsync::config::{Config, MailAccount};
use crmsync::secret::Secret;
use crmsync::source::imap::{self, ImapSource, Session};
use crmsync::source::mail::{FolderInfo, MailSource, MsgRef, SourceError};
use crmsync::source::utf7;

use crate::harness::{self, Dovecot};

/// A mail account for `login` on the harness Dovecot (plain IMAP on loopback).
fn account(d: &Dovecot, login: &str, password: &str) -> MailAccount {
    let text = format!(
        "[[users]]\nlogin = \"alice\"\nemails = [\"alice@us.example\"]\n\n\
         [[mail.accounts]]\nname = \"src\"\nuser = \"alice\"\nsource = \"imap\"\n\
         host = \"{}\"\nport = {}\ntls = \"none\"\nlogin = \"{login}\"\npassword = \"{password}\"\n\
         timeout = 30\n",
        harness::HOST,
        d.port
    );
    let mut cfg = Config::parse(&text, Path::new("imap_source.toml")).expect("test config");
    cfg.mail.accounts.remove(0)
}

/// A fresh user and a connected source for it.
fn setup(d: &Dovecot, prefix: &str) -> (String, MailAccount, Secret, ImapSource) {
    let (login, pw) = d.add_user(prefix);
    let a = account(d, &login, &pw);
    let secret = Secret::new(pw);
    let src = ImapSource::connect(&a, &secret).expect("connect");
    (login, a, secret, src)
}

/// A second session, for checks.
fn checker(a: &MailAccount, secret: &Secret) -> Session {
    imap::connect(a, secret).expect("second session")
}

/// A CRLF message whose size grows with `pad` and whose bytes are unique.
fn mail(n: usize, pad: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Sender {n} <s{n}@ext.example>\r\nTo: alice@us.example\r\n\
         Subject: test {n} =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <m{n}@test.example>\r\n\
         Date: Mon, 2 Mar 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    )
    .into_bytes();
    m.extend_from_slice("Grüße, mail number ".as_bytes());
    m.extend_from_slice(n.to_string().as_bytes());
    m.extend_from_slice(b"\r\n");
    let mut i = 0usize;
    while m.len() < pad {
        // Lines of varying length and content, including 8-bit bytes.
        let len = 1 + (n * 31 + i * 17) % 200;
        for j in 0..len {
            m.push(match (n + i + j) % 67 {
                0 => 0xc3,
                1 => 0xa4,
                k => b' ' + (k as u8 % 94),
            });
        }
        m.extend_from_slice(b"\r\n");
        i += 1;
    }
    m
}

/// Appends with the crate directly (not the code under test); returns UIDs.
fn seed(s: &mut Session, folder: &str, mails: &[Vec<u8>]) {
    let wire = utf7::encode(folder);
    for m in mails {
        s.append(&wire, m).finish().expect("seed APPEND");
    }
}

/// UID -> (flags, Message-ID) of a folder, as a client sees them.
fn state_of(s: &mut Session, folder: &str) -> BTreeMap<u32, (Vec<String>, String)> {
    s.examine(utf7::encode(folder))
        .expect("EXAMINE for the check");
    let fetches = s
        .uid_fetch("1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        .expect("UID FETCH for the check");
    let mut out = BTreeMap::new();
    for f in fetches.iter() {
        let Some(uid) = f.uid else { continue };
        let flags = f
            .flags()
            .iter()
            .map(|fl| match fl {
                Flag::Seen => "\\Seen".to_string(),
                Flag::Deleted => "\\Deleted".to_string(),
                Flag::Custom(c) => c.to_string(),
                other => format!("{other:?}"),
            })
            .collect();
        let mid = f
            .header()
            .map(|h| String::from_utf8_lossy(h).trim().to_string())
            .unwrap_or_default();
        out.insert(uid, (flags, mid));
    }
    out
}

fn mids(state: &BTreeMap<u32, (Vec<String>, String)>) -> Vec<String> {
    state.values().map(|(_, m)| m.clone()).collect()
}

fn uids(refs: &[MsgRef]) -> Vec<u32> {
    refs.iter().filter_map(|r| r.uid).collect()
}

fn folder_names(v: &[FolderInfo]) -> Vec<(String, Option<String>, bool)> {
    v.iter()
        .map(|f| (f.name.clone(), f.status.clone(), f.import_folder))
        .collect()
}

#[test]
fn m1_m2_folders_found_with_subfolders_umlauts_and_quotes() {
    let Some(d) = harness::dovecot() else { return };
    let (login, _, _, mut src) = setup(d, "imapsrc-folders");
    for f in [
        "CRM Import",
        "CRM Import/Kunden",
        "CRM Import/Kunden/2026",
        "CRM",
        "CRM/CRM Done [E]",
        "CRM/CRM Done [E]/Alt",
        "CRM/Notizen",
        "Entwürfe",
        "Say \"hi\"",
        "Other",
    ] {
        d.create_folder(&login, f);
    }
    let configured: Vec<String> = ["inbox", "CRM Import", "Entwürfe", "Say \"hi\""]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let got = src
        .folders(&configured, true, "CRM", Some("CRM"))
        .expect("folders");
    let s = |x: &str| x.to_string();
    assert_eq!(
        folder_names(&got),
        vec![
            (s("INBOX"), None, false),
            (s("CRM Import"), None, true),
            (s("CRM Import/Kunden"), None, true),
            (s("CRM Import/Kunden/2026"), None, true),
            (s("Entwürfe"), None, true),
            (s("Say \"hi\""), None, true),
            (s("CRM/CRM Done [E]"), Some(s("E")), true),
            (s("CRM/CRM Done [E]/Alt"), Some(s("E")), true),
        ]
    );
    // Without sub-folders: the configured ones, plus M2 below the parent.
    let got = src.folders(&configured, false, "CRM", Some("CRM")).unwrap();
    let names: Vec<&str> = got.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "INBOX",
            "CRM Import",
            "Entwürfe",
            "Say \"hi\"",
            "CRM/CRM Done [E]",
            "CRM/CRM Done [E]/Alt"
        ]
    );
    // Every name found can be opened as found.
    for f in &got {
        src.select(&f.name)
            .unwrap_or_else(|e| panic!("select {}: {e}", f.name));
    }
    // A configured folder that does not exist names itself.
    match src.folders(&[s("Nicht da")], true, "CRM", None) {
        Err(SourceError::Folder { folder, detail }) => {
            assert_eq!(folder, "Nicht da");
            assert!(detail.contains("does not exist"), "{detail}");
        }
        other => panic!("expected a folder error, got {other:?}"),
    }
    src.close();
}

#[test]
fn m1_umlaut_and_quote_folders_read_their_mail() {
    let Some(d) = harness::dovecot() else { return };
    let (login, _, _, mut src) = setup(d, "imapsrc-names");
    // doveadm takes UTF-8 names and stores them as modified UTF-7.
    d.append(&login, "Entwürfe", &mail(1, 500));
    d.append(&login, "Say \"hi\" \\ bye", &mail(2, 500));
    for (folder, n) in [("Entwürfe", 1), ("Say \"hi\" \\ bye", 2)] {
        let st = src.select(folder).expect(folder);
        assert_eq!(st.exists, 1, "{folder}");
        let refs = src.list(folder, None).unwrap();
        assert_eq!(refs.len(), 1);
        let mut got = Vec::new();
        src.fetch(folder, &refs, &mut |_, raw| {
            got.push(raw);
            Ok(())
        })
        .unwrap();
        assert_eq!(got, vec![mail(n, 500)], "{folder}");
    }
    src.close();
}

#[test]
fn m3_list_after_a_uid_returns_only_newer_mail_sorted() {
    let Some(d) = harness::dovecot() else { return };
    let (_, a, secret, mut src) = setup(d, "imapsrc-list");
    let mails: Vec<Vec<u8>> = (1..=5).map(|n| mail(n, 300 * n)).collect();
    let mut s = checker(&a, &secret);
    s.create("CRM Import").unwrap();
    seed(&mut s, "CRM Import", &mails);
    let st = src.select("CRM Import").unwrap();
    assert_eq!(st.exists, 5);
    assert!(st.validity.parse::<u32>().is_ok(), "{st:?}");
    assert_eq!(st.uid_next, Some(6));
    let all = src.list("CRM Import", None).unwrap();
    assert_eq!(uids(&all), vec![1, 2, 3, 4, 5]);
    let sizes: Vec<u64> = all.iter().map(|r| r.size).collect();
    let want: Vec<u64> = mails.iter().map(|m| m.len() as u64).collect();
    assert_eq!(sizes, want);
    assert_eq!(all[2].id, "3");
    assert_eq!(uids(&src.list("CRM Import", Some(3)).unwrap()), vec![4, 5]);
    // `UID FETCH 6:*` answers with UID 5 (the highest): it must not come back.
    assert!(src.list("CRM Import", Some(5)).unwrap().is_empty());
    assert!(src.list("CRM Import", Some(u32::MAX)).unwrap().is_empty());
    // An empty folder lists nothing.
    s.create("Leer").unwrap();
    src.select("Leer").unwrap();
    assert!(src.list("Leer", None).unwrap().is_empty());
    src.close();
}

#[test]
fn m4_fetch_500_mails_in_batches_every_byte_arrives_and_seen_stays_unset() {
    let Some(d) = harness::dovecot() else { return };
    let (_, a, secret, mut src) = setup(d, "imapsrc-fetch");
    // Mostly small, every 50th about 300 KB: ~5 MB in all.
    let mails: Vec<Vec<u8>> = (1..=500)
        .map(|n| mail(n, if n % 50 == 0 { 300_000 } else { 2000 + n * 7 }))
        .collect();
    let mut s = checker(&a, &secret);
    seed(&mut s, "INBOX", &mails);
    src.select("INBOX").unwrap();
    let refs = src.list("INBOX", None).unwrap();
    assert_eq!(refs.len(), 500);
    let mut got: Vec<(u32, Vec<u8>)> = Vec::new();
    src.fetch("INBOX", &refs, &mut |r, raw| {
        got.push((r.uid.unwrap(), raw));
        Ok(())
    })
    .expect("fetch");
    assert_eq!(got.len(), 500);
    for (i, (uid, raw)) in got.iter().enumerate() {
        assert_eq!(*uid as usize, i + 1);
        assert!(raw == &mails[i], "mail {uid}: bytes differ");
    }
    // Headers only: the header block, blank line included.
    let mut heads = Vec::new();
    src.fetch_headers("INBOX", &refs[..3], &mut |_, h| {
        heads.push(h);
        Ok(())
    })
    .unwrap();
    for (h, m) in heads.iter().zip(&mails) {
        let end = m.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert_eq!(h.as_slice(), &m[..end]);
    }
    // A UID that vanished is skipped; the others still arrive.
    let mut gone = refs[..2].to_vec();
    gone.push(MsgRef {
        id: "9999".into(),
        uid: Some(9999),
        size: 10,
    });
    let mut n = 0;
    src.fetch("INBOX", &gone, &mut |_, _| {
        n += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(n, 2);
    // A sink error aborts the fetch.
    let e = src
        .fetch("INBOX", &refs[..3], &mut |_, _| anyhow::bail!("disk full"))
        .unwrap_err();
    assert!(e.to_string().contains("disk full"), "{e}");
    // BODY.PEEK: no \Seen anywhere.
    let state = state_of(&mut s, "INBOX");
    assert_eq!(state.len(), 500);
    for (uid, (flags, _)) in &state {
        assert!(!flags.iter().any(|f| f == "\\Seen"), "UID {uid}: {flags:?}");
    }
    src.close();
}

#[test]
fn m16_keyword_set_on_exactly_the_imported_uids() {
    let Some(d) = harness::dovecot() else { return };
    let (_, a, secret, mut src) = setup(d, "imapsrc-mark");
    let mut s = checker(&a, &secret);
    s.create("CRM Import").unwrap();
    seed(
        &mut s,
        "CRM Import",
        &(1..=6).map(|n| mail(n, 400)).collect::<Vec<_>>(),
    );
    src.select("CRM Import").unwrap();
    let refs = src.list("CRM Import", None).unwrap();
    let imported: Vec<MsgRef> = refs
        .iter()
        .filter(|r| matches!(r.uid, Some(2 | 3 | 5)))
        .cloned()
        .collect();
    src.mark("CRM Import", &imported, "$CRMImported")
        .expect("mark");
    assert!(src.supports_keywords(), "Dovecot keeps keywords (\\*)");
    // Marking twice changes nothing and removes nothing.
    src.mark("CRM Import", &imported[..1], "$CRMImported")
        .unwrap();
    let state = state_of(&mut s, "CRM Import");
    let marked: Vec<u32> = state
        .iter()
        .filter(|(_, (f, _))| f.iter().any(|x| x == "$CRMImported"))
        .map(|(u, _)| *u)
        .collect();
    assert_eq!(marked, vec![2, 3, 5]);
    for (uid, (flags, _)) in &state {
        assert!(
            !flags.iter().any(|f| f == "\\Seen" || f == "\\Deleted"),
            "UID {uid}: {flags:?}"
        );
    }
    // A keyword that is not an IMAP atom is refused before anything is sent.
    assert!(src.mark("CRM Import", &imported, "bad keyword").is_err());
    src.close();
}

#[test]
fn m16_move_to_a_new_archive_folder_moves_exactly_those_and_leaves_the_rest() {
    let Some(d) = harness::dovecot() else { return };
    let (_, a, secret, mut src) = setup(d, "imapsrc-move");
    let mut s = checker(&a, &secret);
    s.create("CRM Import").unwrap();
    seed(
        &mut s,
        "CRM Import",
        &(1..=6).map(|n| mail(n, 400)).collect::<Vec<_>>(),
    );
    let before = state_of(&mut s, "CRM Import");
    src.select("CRM Import").unwrap();
    let refs = src.list("CRM Import", None).unwrap();
    let moved: Vec<MsgRef> = refs
        .iter()
        .filter(|r| matches!(r.uid, Some(1 | 2 | 4)))
        .cloned()
        .collect();
    let archive = "Archiv/Erledigt \"ü\"";
    src.mark("CRM Import", &moved, "$CRMImported").unwrap();
    src.move_to("CRM Import", &moved, archive).expect("move");
    let left = state_of(&mut s, "CRM Import");
    assert_eq!(left.keys().copied().collect::<Vec<_>>(), vec![3, 5, 6]);
    let target = state_of(&mut s, archive);
    let want: Vec<String> = [1, 2, 4].iter().map(|u| before[u].1.clone()).collect();
    assert_eq!(mids(&target), want);
    for (flags, _) in target.values() {
        assert!(flags.iter().any(|f| f == "$CRMImported"), "{flags:?}");
        assert!(!flags.iter().any(|f| f == "\\Deleted"), "{flags:?}");
    }
    // Created and subscribed, so mail clients show it.
    let subscribed = s.lsub(Some(""), Some("*")).unwrap();
    let wire = utf7::encode(archive);
    assert!(
        subscribed
            .iter()
            .any(|n| n.name().replace('\\', "") == wire.replace('\\', "")),
        "{wire} not in LSUB"
    );
    // Moving more into the now existing folder, after a fresh EXAMINE.
    src.select("CRM Import").unwrap();
    let rest = src.list("CRM Import", None).unwrap();
    src.move_to("CRM Import", &rest[..1], archive).unwrap();
    assert_eq!(state_of(&mut s, archive).len(), 4);
    assert_eq!(state_of(&mut s, "CRM Import").len(), 2);
    src.close();
}

#[test]
fn m5_append_lands_a_message_in_inbox_and_creates_a_missing_folder() {
    let Some(d) = harness::dovecot() else { return };
    let (_, a, secret, mut src) = setup(d, "imapsrc-append");
    let notice = mail(77, 900);
    // INBOX is open (and empty) while the notice arrives.
    assert_eq!(src.select("INBOX").unwrap().exists, 0);
    src.append("INBOX", &notice).expect("append");
    assert_eq!(uids(&src.list("INBOX", None).unwrap()), vec![1]);
    // A missing folder is created; quotes and umlauts survive APPEND.
    src.append("Hinweise/\"Neu\" ü", &mail(78, 300))
        .expect("append to a new folder");
    let mut s = checker(&a, &secret);
    s.examine("INBOX").unwrap();
    let f = s.uid_fetch("1:*", "(UID FLAGS BODY.PEEK[])").unwrap();
    assert_eq!(f.len(), 1);
    let first = f.iter().next().unwrap();
    assert_eq!(first.body(), Some(notice.as_slice()));
    assert!(
        first.flags().iter().all(|f| *f == Flag::Recent),
        "APPEND sets no flags: {:?}",
        first.flags()
    );
    assert_eq!(state_of(&mut s, "Hinweise/\"Neu\" ü").len(), 1);
    src.close();
}

#[test]
fn x2_wrong_password_is_source_error_auth() {
    let Some(d) = harness::dovecot() else { return };
    let (login, _) = d.add_user("imapsrc-auth");
    let a = account(d, &login, "wrong-password");
    match ImapSource::connect(&a, &Secret::new("wrong-password")) {
        Err(SourceError::Auth(detail)) => assert!(!detail.is_empty()),
        Err(other) => panic!("expected SourceError::Auth, got {other:?}"),
        Ok(_) => panic!("a wrong password logged in"),
    }
}
