//! Hostile input (issue 9, item 5), each against the real binary: a 200 MB
//! mail (M4 holds, memory bounded), 10,000 recipients, IMAP folder names
//! with quotes, backslashes and non-ASCII (modified UTF-7), and a WebDAV
//! server answering with XML entity expansion ("billion laughs").
//! Hostile servers (issue 16, item 4; X12, X13): Dovecot behind the fault
//! proxy, which answers one command itself with a literal far larger than
//! announced, an endless line or a trickle; WebDAV servers sending a huge,
//! endless or trickling 207. Each run's peak RSS is the child's own
//! (wait4), its time the wall clock of the run.
//! Unit tests cover the rest: CRLF in vCard names (`parse::vcard`), path
//! traversal in attachment names (`parse::mail`) and vdir hrefs
//! (`source::vdir`), literals in LIST (`source::imap`), a DTD in a
//! multistatus (`source::dav`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::Env;
use crate::faultproxy::{Fault, FaultProxy, Hostile, send_repeated};
use crate::harness;
use crate::import_mail::{Setup, doveadm, mail, setup};
use crate::reliability::{assert_complete, fill, setup_proxied};

/// Runs import-mail, measuring the child: (exit code, JSON, stderr, peak
/// RSS in MB, wall time).
fn import_measured(s: &Setup) -> (i32, Value, String, u64, Duration) {
    let mut cmd = s.env.cmd();
    cmd.args(["--json", "import-mail"]).env("IMAP_PW", &s.pw);
    let m = harness::run_measured(cmd);
    let v = serde_json::from_str(&m.stdout).unwrap_or(Value::Null);
    (m.code, v, m.stderr, m.rss_mb, m.elapsed)
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
    let (code, v, err, rss_mb, elapsed) = import_measured(&s);
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

/// A loopback HTTP server: each connection (in its own thread) has its
/// request read (head and body), then `answer` writes the response;
/// returns the port.
fn http_server(answer: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> u16 {
    let l = TcpListener::bind((harness::HOST, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for conn in l.incoming().flatten() {
            let answer = answer.clone();
            std::thread::spawn(move || {
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
                answer(&mut w);
            });
        }
    });
    port
}

/// An HTTP server answering every request with `status` and `body`.
fn canned_server(status: &'static str, body: String) -> u16 {
    http_server(move |w| {
        let _ = write!(
            w,
            "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    })
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

/// Dovecot behind the fault proxy with 3 small mails in `CRM Import`;
/// `extra` goes into the account.
fn proxied(d: &harness::Dovecot, extra: &str) -> (Setup, FaultProxy) {
    let (s, proxy) = setup_proxied(d, extra);
    fill(d, &s, "CRM Import", 3, 10);
    (s, proxy)
}

fn errors(v: &Value) -> String {
    v["errors"].to_string()
}

/// After a hostile answer: the server sane again, one run imports the
/// three mails once (nothing was lost or half-imported), a further run
/// nothing.
fn then_all_import_once(d: &harness::Dovecot, s: &Setup, proxy: &FaultProxy) {
    proxy.set(Fault::None);
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{v:#} {err}");
    assert_eq!(v["counts"]["imported"], 3, "{v:#}");
    assert_complete(d, s, &[("CRM Import", 3)]);
}

#[test]
fn x12_an_imap_literal_far_larger_than_announced_is_refused_and_memory_stays_bounded() {
    let Some(d) = harness::dovecot() else { return };
    let (s, proxy) = proxied(d, "timeout = 10\n");
    // The body FETCH answered with a literal announced at 1.5 GB for mails
    // of ~300 bytes (RFC822.SIZE); 150 MB of it sent as fast as read.
    proxy.set(Fault::answer(
        "BODY.PEEK[]",
        Hostile::Bytes {
            prefix: "* 1 FETCH (UID {uid} BODY[] {1500000000}\r\n".into(),
            send: 150 << 20,
        },
    ));
    let (code, v, err, rss_mb, elapsed) = import_measured(&s);
    eprintln!("1.5 GB literal: peak RSS {rss_mb} MB, {elapsed:?}");
    assert_eq!(proxy.injected(), 1, "{v:#} {err}");
    assert_eq!(code, 1, "the only account failed: {v:#} {err}");
    let e = errors(&v);
    for want in [
        "account `alice-mail`",
        "folder `CRM Import`",
        "UID 1: the server announced",
        "literal of 1500000000 bytes",
        "X12",
        &format!("127.0.0.1:{}", proxy.port),
        "connection was closed",
        "look at this message on the server",
    ] {
        assert!(e.contains(want), "{want}: {e}");
    }
    assert!(rss_mb < 100, "peak RSS {rss_mb} MB");
    then_all_import_once(d, &s, &proxy);
}

#[test]
fn x12_an_endless_imap_line_is_refused_in_a_fetch_and_in_any_other_answer() {
    let Some(d) = harness::dovecot() else { return };
    let (s, proxy) = proxied(d, "timeout = 10\n");
    // 150 MB without a line end: in the body FETCH (crmsync's own reader)
    // and in the UID SEARCH answer (read by the imap crate).
    for (command, prefix, want) in [
        (
            "BODY.PEEK[]",
            "* 1 FETCH (UID {uid} BODY[] \"",
            "a line of the answer is longer than 1048576 bytes",
        ),
        (
            "UID SEARCH",
            "* SEARCH",
            "the answer is larger than 16777216 bytes",
        ),
    ] {
        proxy.set(Fault::answer(
            command,
            Hostile::Line {
                prefix: prefix.into(),
                send: 150 << 20,
            },
        ));
        let before = proxy.injected();
        let (code, v, err, rss_mb, elapsed) = import_measured(&s);
        eprintln!("endless line in {command}: peak RSS {rss_mb} MB, {elapsed:?}");
        assert_eq!(proxy.injected(), before + 1, "{command}: {v:#} {err}");
        assert_eq!(code, 1, "{command}: {v:#} {err}");
        let e = errors(&v);
        for want in [
            "account `alice-mail`",
            want,
            command,
            &format!("127.0.0.1:{}", proxy.port),
            "connection was closed",
        ] {
            assert!(e.contains(want), "{command}: {want}: {e}");
        }
        assert!(rss_mb < 100, "{command}: peak RSS {rss_mb} MB");
        proxy.set(Fault::None);
    }
    then_all_import_once(d, &s, &proxy);
}

#[test]
fn x13_an_imap_server_trickling_a_byte_at_a_time_ends_the_run_at_the_deadline() {
    let Some(d) = harness::dovecot() else { return };
    // A byte every 0.5 s: never silent for `timeout`, and never done.
    let (s, proxy) = proxied(d, "timeout = 10\ndeadline = 3\n");
    proxy.set(Fault::answer(
        "BODY.PEEK[]",
        Hostile::Trickle {
            prefix: "* 1 FETCH (UID {uid} BODY[] {5000}\r\n".into(),
            every: Duration::from_millis(500),
            for_at_most: Duration::from_secs(90),
        },
    ));
    let (code, v, err, rss_mb, elapsed) = import_measured(&s);
    eprintln!("trickle: {elapsed:?}, peak RSS {rss_mb} MB");
    assert_eq!(proxy.injected(), 1, "{v:#} {err}");
    assert_eq!(code, 1, "{v:#} {err}");
    // deadline = 3 s; the trickle would hold the run (and its lock) 90 s.
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    let e = errors(&v);
    for want in [
        "account `alice-mail`",
        &format!("127.0.0.1:{}", proxy.port),
        "deadline of 3 s",
        "raise `deadline`",
    ] {
        assert!(e.contains(want), "{want}: {e}");
    }
    then_all_import_once(d, &s, &proxy);
}

/// An address book account on a hostile WebDAV server at `port`; `extra`
/// goes into the account.
fn dav_env(port: u16, extra: &str) -> Env {
    Env::new(&format!(
        "[[contacts.accounts]]\nname = \"book\"\nuser = \"alice\"\nsource = \"carddav\"\n\
         url = \"http://127.0.0.1:{port}/\"\nlogin = \"alice\"\npassword_env = \"DAV_PW\"\n{extra}"
    ))
}

/// `check` against it, measured: (exit code, stdout and stderr, peak RSS
/// in MB, wall time).
fn check_measured(env: &Env) -> (i32, String, u64, Duration) {
    let mut cmd = env.cmd();
    cmd.env("DAV_PW", "pw").args(["--json", "check"]);
    let m = harness::run_measured(cmd);
    (
        m.code,
        format!("{}{}", m.stdout, m.stderr),
        m.rss_mb,
        m.elapsed,
    )
}

const MULTISTATUS_OPEN: &str = "<?xml version=\"1.0\"?>\n<d:multistatus xmlns:d=\"DAV:\">";
const MULTISTATUS_CLOSE: &str = "</d:multistatus>";

#[test]
fn x12_a_huge_an_endless_and_an_element_packed_207_are_refused_and_memory_stays_bounded() {
    // 10^6 hrefs with their length announced (about 50 MB).
    const HREF: &str = "<d:response><d:href>/c/0000000.vcf</d:href></d:response>";
    let huge = http_server(|w| {
        let n: u64 = 1_000_000;
        let len = (MULTISTATUS_OPEN.len() + MULTISTATUS_CLOSE.len()) as u64 + n * HREF.len() as u64;
        let _ = write!(
            w,
            "HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: {len}\r\n\r\n{MULTISTATUS_OPEN}"
        );
        if send_repeated(w, HREF.as_bytes(), n * HREF.len() as u64) {
            let _ = w.write_all(MULTISTATUS_CLOSE.as_bytes());
        }
    });
    // Without a length and without an end (given up after 400 MB).
    let endless = http_server(|w| {
        let _ = write!(
            w,
            "HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let chunk = HREF.repeat(1000);
        let mut sent = 0usize;
        while sent < 400 << 20 {
            if write!(w, "{:x}\r\n{chunk}\r\n", chunk.len()).is_err() {
                return;
            }
            sent += chunk.len();
        }
    });
    // 10 MB, within max_response, but 1.7 million empty properties.
    let packed = http_server(|w| {
        let open =
            format!("{MULTISTATUS_OPEN}<d:response><d:href>/c/</d:href><d:propstat><d:prop>");
        let close = format!(
            "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>{MULTISTATUS_CLOSE}"
        );
        let props: u64 = 10 << 20;
        let len = (open.len() + close.len()) as u64 + props;
        let _ = write!(
            w,
            "HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: {len}\r\n\r\n{open}"
        );
        if send_repeated(w, b"<d:x/>", props) {
            let _ = w.write_all(close.as_bytes());
        }
    });
    for (what, port, want) in [
        (
            "10^6 hrefs",
            huge,
            "the answer is larger than 16777216 bytes",
        ),
        (
            "endless",
            endless,
            "the answer is larger than 16777216 bytes",
        ),
        (
            "packed",
            packed,
            "the answer has more than 104857 XML elements",
        ),
    ] {
        let env = dav_env(port, "timeout = 30\n");
        let (code, text, rss_mb, elapsed) = check_measured(&env);
        eprintln!("{what} 207: peak RSS {rss_mb} MB, {elapsed:?}");
        assert_eq!(code, 1, "{what}: {text}");
        for want in [
            want,
            "X12",
            "`max_response` of account `book`",
            &format!("127.0.0.1:{port}"),
        ] {
            assert!(text.contains(want), "{what}: {want}: {text}");
        }
        assert!(rss_mb < 100, "{what}: peak RSS {rss_mb} MB");
    }
}

#[test]
fn x13_a_dav_server_trickling_its_207_ends_at_the_deadline() {
    // The head at once, then a byte every 0.5 s: never silent for the
    // 100 s timeout, and never done (the server gives up after 90 s).
    let port = http_server(|w| {
        let _ = write!(
            w,
            "HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: 100000\r\n\r\n{MULTISTATUS_OPEN}"
        );
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(90) {
            std::thread::sleep(Duration::from_millis(500));
            if w.write_all(b" ").is_err() {
                return;
            }
        }
    });
    let env = dav_env(port, "timeout = 100\ndeadline = 3\n");
    let (code, text, rss_mb, elapsed) = check_measured(&env);
    eprintln!("trickling 207: {elapsed:?}, peak RSS {rss_mb} MB");
    assert_eq!(code, 1, "{text}");
    assert!(
        elapsed < Duration::from_secs(60),
        "deadline = 3: {elapsed:?}"
    );
    for want in [
        "deadline of 3 s",
        "X13",
        "raise `deadline` for account `book`",
        &format!("127.0.0.1:{port}"),
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
}

/// `crm pull` against a "REST CRM" on `port` (X12, X13 for `[crm.rest]`),
/// measured: (exit code, stdout and stderr, peak RSS in MB, wall time).
fn crm_pull_measured(port: u16, extra: &str) -> (i32, String, u64, Duration) {
    let env = Env::new(&format!(
        "[crm]\nbackend = \"rest\"\n[crm.rest]\npreset = \"bottlecrm\"\n\
         base_url = \"http://127.0.0.1:{port}\"\ntoken_env = \"CRM_TOKEN\"\n{extra}"
    ));
    let mut cmd = env.cmd();
    cmd.env("CRM_TOKEN", "t").args(["crm", "pull"]);
    let m = harness::run_measured(cmd);
    (
        m.code,
        format!("{}{}", m.stdout, m.stderr),
        m.rss_mb,
        m.elapsed,
    )
}

#[test]
fn x12_x13_a_rest_crm_sending_an_endless_or_trickling_answer_is_refused_in_bounds() {
    // Regression (issue 16 item 4): the REST client read answers whole
    // (`resp.text()`), with no size bound and only the per-read timeout.
    const ROW: &str = "{\"id\":\"00000000-0000-0000-0000-000000000000\",\"first_name\":\"x\"},";
    let endless = http_server(|w| {
        let _ = write!(
            w,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let chunk = format!("{{\"results\":[{}", ROW.repeat(1000));
        let mut sent = 0usize;
        while sent < 400 << 20 {
            if write!(w, "{:x}\r\n{chunk}\r\n", chunk.len()).is_err() {
                return;
            }
            sent += chunk.len();
        }
    });
    let (code, text, rss_mb, elapsed) = crm_pull_measured(endless, "max_response = \"2MB\"\n");
    eprintln!("endless REST answer: peak RSS {rss_mb} MB, {elapsed:?}");
    assert_eq!(code, 1, "{text}");
    for want in ["X12", "larger than 2097152 bytes", "crm.rest.max_response"] {
        assert!(text.contains(want), "{want}: {text}");
    }
    assert!(rss_mb < 100, "peak RSS {rss_mb} MB");

    // The head at once, then a byte every 0.5 s: never silent for the
    // 100 s timeout, never done (the server gives up after 90 s).
    let trickle = http_server(|w| {
        let _ = write!(
            w,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"
        );
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(90) {
            std::thread::sleep(Duration::from_millis(500));
            if w.write_all(b" ").is_err() {
                return;
            }
        }
    });
    let (code, text, _, elapsed) =
        crm_pull_measured(trickle, "timeout = 100\ndeadline = 3\nattempts = 1\n");
    eprintln!("trickling REST answer: {elapsed:?}");
    assert_eq!(code, 1, "{text}");
    assert!(
        elapsed < Duration::from_secs(60),
        "deadline = 3: {elapsed:?}"
    );
    for want in ["X13", "deadline of 3 s", "crm.rest.deadline"] {
        assert!(text.contains(want), "{want}: {text}");
    }
}
