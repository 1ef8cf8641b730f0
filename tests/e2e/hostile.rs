//! Hostile input (issue 9, item 5), each against the real binary: a 200 MB
//! mail (M4 holds, memory bounded), 10,000 recipients, IMAP folder names
//! with quotes, backslashes and non-ASCII (modified UTF-7), and a WebDAV
//! server answering with XML entity expansion ("billion laughs").
//! Unit tests cover the rest: CRLF in vCard names (`parse::vcard`), path
//! traversal in attachment names (`parse::mail`) and vdir hrefs
//! (`source::vdir`), literals in LIST (`source::imap`), a DTD in a
//! multistatus (`source::dav`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::Env;
use crate::harness;
use crate::import_mail::{doveadm, mail, setup};

/// Runs import-mail under `/usr/bin/time`: (exit code, JSON, stderr, peak RSS in MB).
fn import_measured(s: &crate::import_mail::Setup) -> Option<(i32, Value, String, u64)> {
    if !std::path::Path::new("/usr/bin/time").exists() {
        eprintln!("SKIPPED: /usr/bin/time is needed to measure the peak RSS");
        return None;
    }
    let out = Command::new("/usr/bin/time")
        .args(["-f", "maxrss_kb=%M"])
        .arg(assert_cmd::cargo::cargo_bin("crmsync"))
        .arg("--config")
        .arg(&s.env.config)
        .args(["--json", "import-mail"])
        .env("IMAP_PW", &s.pw)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let kb: u64 = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("maxrss_kb="))
        .next_back()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss in {stderr}"));
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    Some((out.status.code().unwrap_or(-1), v, stderr, kb / 1024))
}

#[test]
fn m4_a_200_mb_mail_is_outlined_and_memory_stays_bounded() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "max_size = \"5MB\"\n");
    // 200 MB: a short text and a 200 MB attachment.
    let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\r\n";
    let mut big = format!(
        "From: jane@acme.example\r\nTo: alice@us.example\r\nSubject: huge attachment\r\nMessage-ID: <{}@t>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b 1\"\r\n\r\n--b 1\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nthe offer is attached\r\n--b 1\r\n\
         Content-Type: application/octet-stream; name=\"../../etc/huge.bin\"\r\n\
         Content-Disposition: attachment; filename=\"../../etc/huge.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        harness::unique_name("huge")
    )
    .into_bytes();
    let target = 200 << 20;
    big.reserve(target);
    while big.len() < target {
        big.extend_from_slice(line.as_bytes());
    }
    big.extend_from_slice(b"--b 1--\r\n");
    d.append(&s.login, "CRM Import", &big);
    drop(big);
    // 20 MB of text alone: too large even without attachments (M4 skip).
    let text = "all text, no attachment. ".repeat(20 << 20 >> 5);
    d.append(
        &s.login,
        "CRM Import",
        &mail(
            "jane@acme.example",
            "alice@us.example",
            "huge text",
            "",
            &text,
        ),
    );
    drop(text);
    let t0 = Instant::now();
    let Some((code, v, err, rss_mb)) = import_measured(&s) else {
        return;
    };
    let elapsed = t0.elapsed();
    eprintln!("200 MB + 20 MB mails: peak RSS {rss_mb} MB, {elapsed:?}");
    assert_eq!(code, 3, "a size skip is reported with exit 3: {v:#} {err}");
    assert!(
        rss_mb < 100,
        "memory must stay bounded by max_size, not the mail: peak RSS {rss_mb} MB"
    );
    let a = s.by_subject("huge attachment");
    assert_eq!(a["attachments"], serde_json::json!([]));
    assert_eq!(a["dropped_attachments"][0]["name"], "huge.bin", "{a:#}");
    let size = a["dropped_attachments"][0]["size"].as_u64().unwrap();
    assert!(size > 140 << 20, "decoded size estimated: {size}");
    let items = v["items"].as_array().unwrap();
    let skipped = items
        .iter()
        .find(|i| i["reason"] == "too_large")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(skipped["rule"], "M4");
    assert!(s.report().iter().all(|a| a["subject"] != "huge text"));
    // The owner is told about both (M5), once.
    let notices = doveadm(
        d,
        &s.login,
        &[
            "search", "mailbox", "INBOX", "header", "Subject", "crmsync:",
        ],
    );
    assert_eq!(notices.lines().count(), 2, "{notices}");
}

#[test]
fn ten_thousand_recipients_import_in_bounded_time() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "");
    let mut to: Vec<String> = (0..10_000)
        .map(|i| format!("\"R{i}, \\\"x\\\"\" <r{i}@example.org>"))
        .collect();
    to.push("alice@us.example".into());
    d.append(
        &s.login,
        "CRM Import",
        &mail(
            "jane@acme.example",
            &to.join(",\r\n "),
            "many recipients",
            "",
            ".",
        ),
    );
    let t0 = Instant::now();
    let (code, v, err) = s.import(&[]);
    let elapsed = t0.elapsed();
    assert!(code == 0 || code == 3, "{v:#} {err}");
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    let a = s.by_subject("many recipients");
    assert_eq!(a["attached_to"]["id"], "P1", "{a}");
    // A second run: nothing new, as fast.
    let (code, v, _) = s.import(&[]);
    assert_eq!(code, 0);
    assert_eq!(v["counts"]["imported"], 0);
}

#[test]
fn m1_folder_names_with_quotes_backslashes_and_non_ascii_import() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "");
    let names = [
        "CRM Import/Kunde \"Müller & Söhne\"",
        "CRM Import/back\\slash",
        "CRM Import/日本語 {literal} %*",
    ];
    for (i, n) in names.iter().enumerate() {
        d.append(
            &s.login,
            n,
            &mail(
                "jane@acme.example",
                "alice@us.example",
                &format!("odd folder {i}"),
                "",
                ".",
            ),
        );
    }
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{v:#} {err}");
    for i in 0..names.len() {
        s.by_subject(&format!("odd folder {i}"));
    }
    // Keywords reached exactly those messages in those folders.
    for n in names {
        let flags = doveadm(d, &s.login, &["fetch", "flags", "mailbox", n]);
        assert_eq!(flags.matches("$CRMImported").count(), 1, "{n}: {flags}");
    }
}

/// A one-connection-at-a-time HTTP server answering every request with
/// `status` and `body`; returns its port.
fn canned_server(status: &'static str, body: String) -> u16 {
    let l = TcpListener::bind((harness::HOST, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming().flatten() {
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let mut len = 0usize;
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut b = vec![0; len];
            let _ = r.read_exact(&mut b);
            let mut w = conn;
            let _ = write!(
                w,
                "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

#[test]
fn dav_xml_entity_expansion_is_refused_clearly() {
    let mut xml = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE d [\n<!ENTITY l0 \"lol\">\n");
    for i in 1..10 {
        xml.push_str(&format!(
            "<!ENTITY l{i} \"{}\">\n",
            format!("&l{};", i - 1).repeat(10)
        ));
    }
    xml.push_str(
        "]>\n<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>/&l9;/</d:href><d:propstat><d:prop>\
         <d:current-user-principal><d:href>/&l9;/</d:href></d:current-user-principal><d:displayname>&l9;</d:displayname>\
         </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>",
    );
    let port = canned_server("207 Multi-Status", xml);
    let env = Env::new(&format!(
        "[[contacts.accounts]]\nname = \"book\"\nuser = \"alice\"\nsource = \"carddav\"\n\
         url = \"http://127.0.0.1:{port}/\"\nlogin = \"alice\"\npassword_env = \"DAV_PW\"\n"
    ));
    env.load_directory();
    for args in [&["--json", "check"][..], &["--json", "push-contacts"]] {
        let t0 = Instant::now();
        let out = env.cmd().env("DAV_PW", "pw").args(args).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_ne!(out.status.code(), Some(0), "{args:?}: {text}");
        assert!(
            text.contains("DTD") && text.contains("refused"),
            "{args:?} must say why: {text}"
        );
        assert!(!text.contains("lollol"), "{args:?} expanded: {text}");
        assert!(t0.elapsed() < Duration::from_secs(20), "{args:?}");
    }
}
