//! Proves the test bed (tests/e2e/harness.rs) with plain std networking, no
//! crmsync code: each real server starts, accepts an account added while it
//! runs, and rejects a wrong password.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::harness::{self, HOST};

/// A line-based IMAP session, enough for LOGIN/SELECT/LOGOUT.
struct Imap {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tag: u32,
}

impl Imap {
    fn connect(port: u16) -> Imap {
        let stream = TcpStream::connect((HOST, port)).expect("connect to dovecot");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let writer = stream.try_clone().unwrap();
        let mut imap = Imap {
            reader: BufReader::new(stream),
            writer,
            tag: 0,
        };
        let greeting = imap.line();
        assert!(greeting.starts_with("* OK"), "greeting: {greeting:?}");
        imap
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read from dovecot");
        assert!(!line.is_empty(), "dovecot closed the connection");
        line
    }

    /// Send one command; return (untagged lines, tagged status line).
    fn command(&mut self, cmd: &str) -> (Vec<String>, String) {
        self.tag += 1;
        let tag = format!("a{}", self.tag);
        write!(self.writer, "{tag} {cmd}\r\n").unwrap();
        let mut untagged = Vec::new();
        loop {
            let line = self.line();
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                return (untagged, rest.trim_end().to_string());
            }
            untagged.push(line.trim_end().to_string());
        }
    }
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[test]
fn dovecot_login_and_append() {
    let Some(dovecot) = harness::dovecot() else {
        return;
    };
    let (login, password) = dovecot.add_user("smoke");
    assert!(
        dovecot.ca_cert.is_file(),
        "CA cert {}",
        dovecot.ca_cert.display()
    );
    TcpStream::connect((HOST, dovecot.imaps_port)).expect("IMAPS port listens");

    let mut imap = Imap::connect(dovecot.port);
    let (_, status) = imap.command(&format!(
        "LOGIN {} {}",
        quoted(&login),
        quoted("wrong-password")
    ));
    assert!(
        status.starts_with("NO"),
        "wrong password must fail: {status:?}"
    );
    let (_, status) = imap.command(&format!("LOGIN {} {}", quoted(&login), quoted(&password)));
    assert!(status.starts_with("OK"), "login {login}: {status:?}");

    let mail = b"From: Jane Doe <jane@example.test>\r\nTo: smoke@example.test\r\n\
                 Subject: harness smoke\r\nMessage-ID: <smoke-1@example.test>\r\n\
                 Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\nHello.\r\n";
    dovecot.append(&login, "INBOX", mail);
    dovecot.append(&login, "Archive/2026", mail);
    dovecot.append(&login, "Archive/2026", mail);
    let (untagged, status) = imap.command("SELECT INBOX");
    assert!(status.starts_with("OK"), "{status:?}");
    assert!(untagged.iter().any(|l| l == "* 1 EXISTS"), "{untagged:?}");
    let (untagged, status) = imap.command("EXAMINE \"Archive/2026\"");
    assert!(status.starts_with("OK"), "{status:?}");
    assert!(untagged.iter().any(|l| l == "* 2 EXISTS"), "{untagged:?}");
    let (_, status) = imap.command("LOGOUT");
    assert!(status.starts_with("OK"), "{status:?}");

    // Another user does not see the first one's mail.
    let (other, other_pw) = dovecot.add_user("smoke");
    assert_ne!(other, login);
    let mut imap = Imap::connect(dovecot.port);
    let (_, status) = imap.command(&format!("LOGIN {} {}", quoted(&other), quoted(&other_pw)));
    assert!(status.starts_with("OK"), "{status:?}");
    let (untagged, _) = imap.command("SELECT INBOX");
    assert!(untagged.iter().any(|l| l == "* 0 EXISTS"), "{untagged:?}");

    // Accounts are usable the moment add_user returns, however fast they come.
    for _ in 0..5 {
        let (login, password) = dovecot.add_user("burst");
        let mut imap = Imap::connect(dovecot.port);
        let (_, status) = imap.command(&format!("LOGIN {} {}", quoted(&login), quoted(&password)));
        assert!(status.starts_with("OK"), "fresh user {login}: {status:?}");
    }
}

#[test]
fn radicale_basic_auth_and_collections() {
    let Some(radicale) = harness::radicale() else {
        return;
    };
    let (login, password) = radicale.add_user("smoke");
    let home = format!("{}{login}/", radicale.url);
    let propfind = |auth: &str, depth: &str, url: &str| {
        harness::http(
            "PROPFIND",
            url,
            &[("Authorization", auth), ("Depth", depth), ("Content-Type", "application/xml")],
            b"<?xml version=\"1.0\"?><propfind xmlns=\"DAV:\"><prop><resourcetype/></prop></propfind>",
        )
        .expect("PROPFIND")
    };

    let denied = propfind(&harness::basic_auth(&login, "wrong-password"), "0", &home);
    assert_eq!(denied.status, 401, "{}", denied.text());
    let ok = propfind(&harness::basic_auth(&login, &password), "0", &home);
    assert_eq!(ok.status, 207, "{}", ok.text());

    let calendar = radicale.create_calendar(&login, "work");
    let contacts = radicale.create_addressbook(&login, "contacts");
    assert_eq!(calendar, format!("{home}work/"));
    let listing = propfind(&harness::basic_auth(&login, &password), "1", &home);
    assert_eq!(listing.status, 207);
    let text = listing.text();
    assert!(
        text.contains(&format!("/{login}/work/")) && text.contains("calendar"),
        "{text}"
    );
    assert!(
        text.contains(&format!("/{login}/contacts/")) && text.contains("addressbook"),
        "{text}"
    );

    let event = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crmsync//smoke//EN\r\nBEGIN:VEVENT\r\n\
                 UID:smoke-1@example.test\r\nDTSTAMP:20261121T100000Z\r\nDTSTART:20261122T100000Z\r\n\
                 DTEND:20261122T110000Z\r\nSUMMARY:Smoke\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let auth = harness::basic_auth(&login, &password);
    let put = harness::http(
        "PUT",
        &format!("{calendar}smoke-1.ics"),
        &[
            ("Authorization", &auth),
            ("Content-Type", "text/calendar; charset=utf-8"),
        ],
        event.as_bytes(),
    )
    .expect("PUT");
    assert_eq!(put.status, 201, "{}", put.text());
    let get = harness::http(
        "GET",
        &format!("{calendar}smoke-1.ics"),
        &[("Authorization", &auth)],
        b"",
    )
    .expect("GET");
    assert_eq!(get.status, 200);
    assert!(get.text().contains("SUMMARY:Smoke"), "{}", get.text());
    let _ = contacts;

    // owner_only: another user cannot read this one's collections.
    let (other, other_pw) = radicale.add_user("smoke");
    let foreign = propfind(&harness::basic_auth(&other, &other_pw), "0", &calendar);
    assert!(
        matches!(foreign.status, 403 | 404),
        "status {}",
        foreign.status
    );

    // Accounts are usable the moment add_user returns, however fast they come.
    for _ in 0..5 {
        let (login, password) = radicale.add_user("burst");
        let home = format!("{}{login}/", radicale.url);
        let r = propfind(&harness::basic_auth(&login, &password), "0", &home);
        assert_eq!(r.status, 207, "fresh user {login}: {}", r.text());
    }
}

#[test]
fn bottlecrm_token_auth_and_tenants() {
    let Some(crm) = harness::bottlecrm() else {
        return;
    };
    let contacts = format!("{}/api/contacts/", crm.url);
    let bearer = format!("Bearer {}", crm.token);

    let anonymous =
        harness::http("GET", &contacts, &[("Accept", "application/json")], b"").expect("GET");
    assert!(
        matches!(anonymous.status, 401 | 403),
        "no token: {} {}",
        anonymous.status,
        anonymous.text()
    );
    let ok = harness::http(
        "GET",
        &contacts,
        &[("Authorization", &bearer), ("Accept", "application/json")],
        b"",
    )
    .expect("GET");
    assert_eq!(ok.status, 200, "{}", ok.text());
    let listing: serde_json::Value = serde_json::from_slice(&ok.body).expect("JSON");
    assert!(listing.get("results").is_some(), "{listing}");

    // A contact made in a tenant of our own is seen there only.
    let (token, org_id) = crm.add_tenant("smoke");
    assert_ne!(org_id, crm.org_id);
    let mine = format!("Bearer {token}");
    let body =
        br#"{"first_name": "Jane", "last_name": "Smoke", "email": "jane.smoke@example.test"}"#;
    let created = harness::http(
        "POST",
        &contacts,
        &[
            ("Authorization", &mine),
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ],
        body,
    )
    .expect("POST");
    assert!(
        matches!(created.status, 200 | 201),
        "{} {}",
        created.status,
        created.text()
    );
    let count = |auth: &str| {
        let r = harness::http(
            "GET",
            &format!("{contacts}?email=jane.smoke@example.test"),
            &[("Authorization", auth)],
            b"",
        )
        .expect("GET");
        assert_eq!(r.status, 200, "{}", r.text());
        let v: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
        v["count"].as_u64().expect("count")
    };
    assert_eq!(count(&mine), 1);
    assert_eq!(count(&bearer), 0);
}
