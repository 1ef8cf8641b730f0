//! Reliability of sync-calendar (issue 9; X5, C3, C11, C12): the project's
//! TCP fault proxy (`faultproxy`) between crmsync and Radicale cuts a
//! multiget answer, a PUT halfway through its request and a `201 Created`
//! halfway through (the event was stored, crmsync never heard), and stalls
//! the server; after each fault the next clean run ends with every item
//! exactly once on each side, fetched back from Radicale and read from the
//! CRM: 0 lost, 0 duplicated. And a CRM subject holding CR/LF reaches
//! Radicale as one escaped SUMMARY: no property can be injected. (SIGKILL:
//! `sync_calendar::x5_killed_mid_sync...` and `scripts/soak calendar`.)

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crmsync::parse::ical;
use serde_json::Value;

use crate::faultproxy::{Dir, Fault, FaultProxy};
use crate::push_contacts::prop;
use crate::sync_calendar::{CALENDAR_ACCOUNT, Cal, W, actions, count, event};

/// A Radicale world whose account goes through a fault proxy; `account`
/// is appended to the account's table (e.g. `timeout = 3`). None when
/// Radicale is not available and not required.
fn proxied(prefix: &str, account: &str) -> Option<(W, FaultProxy)> {
    let mut w = W::new(true, prefix)?;
    let Cal::Radicale { r, .. } = &w.cal else {
        unreachable!("a Radicale world")
    };
    let proxy = FaultProxy::start(r.port);
    w.url = Some(format!("http://127.0.0.1:{}/", proxy.port));
    w.configure("");
    // The account's table is the last one of the config.
    let mut cfg = std::fs::read_to_string(&w.env.config).unwrap();
    cfg.push_str(account);
    std::fs::write(&w.env.config, cfg).unwrap();
    Some((w, proxy))
}

/// `n` events put on the server by a calendar client and `n` appointments
/// made in the CRM.
fn fill(w: &W, n: usize) {
    for i in 0..n {
        w.put(
            &format!("s{i}.ics"),
            &event(&format!("s{i}@client"), &format!("Server {i}")),
        );
        w.add(&[
            "--type",
            "appointment",
            "--subject",
            &format!("CRM {i}"),
            "--start",
            &format!("2026-12-1{i}T09:00:00Z"),
        ]);
    }
}

fn expected(n: usize) -> Vec<String> {
    let mut v: Vec<String> = (0..n)
        .flat_map(|i| [format!("Server {i}"), format!("CRM {i}")])
        .collect();
    v.sort();
    v
}

/// The CRM's calendar activities' subjects, duplicates kept.
fn crm_subjects(w: &W) -> Vec<String> {
    let mut v: Vec<String> = w.crm(&["report"])["activities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] != "email_in" && a["type"] != "email_out")
        .map(|a| a["subject"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// The SUMMARY of every item Radicale holds, duplicates kept.
fn server_summaries(w: &W) -> Vec<String> {
    let mut v: Vec<String> = w
        .items()
        .values()
        .map(|(_, t)| prop(t, "SUMMARY").unwrap())
        .collect();
    v.sort();
    v
}

/// Every item exactly once on each side, one UID each, and a further run
/// writes nothing (C11).
fn assert_complete(w: &W, n: usize) {
    assert_eq!(crm_subjects(w), expected(n), "CRM: 0 lost, 0 duplicated");
    assert_eq!(
        server_summaries(w),
        expected(n),
        "Radicale: 0 lost, 0 duplicated"
    );
    let uids: BTreeSet<String> = w
        .items()
        .values()
        .map(|(_, t)| prop(t, "UID").unwrap())
        .collect();
    assert_eq!(uids.len(), 2 * n, "one UID per item: {uids:?}");
    let v = w.sync_ok(&[]);
    assert!(
        actions(&v).is_empty(),
        "a further run writes nothing: {v:#}"
    );
}

/// The writes a summary says were not done (the account stopped).
fn not_done(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["action"] == "not done")
        .map(|i| i["subject"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A broken connection stops the account (the server is taken for gone,
/// X5): the run exits 1 naming the account and what failed, its summary
/// counts only what was done and lists the writes not reached; the next
/// clean run does them.
#[test]
fn x5_sync_calendar_cut_mid_multiget_mid_put_and_mid_response_resumes_without_duplicates() {
    let Some((w, proxy)) = proxied("x5calcut", "") else {
        return;
    };
    let n = 4;
    fill(&w, n);
    // mid-multiget: the answer cut 30 bytes into the second item's data;
    // nothing is written on either side.
    proxy.set(Fault::cut(Dir::Down, "BEGIN:VCALENDAR", 2, 30));
    let (code, v) = w.sync(&[]);
    assert_eq!(proxy.injected(), 1, "{v:#}");
    assert_eq!(code, 1, "{v:#}");
    let e = v["errors"].to_string();
    assert!(
        e.contains(&format!("account `{CALENDAR_ACCOUNT}`")) && e.contains("reading"),
        "names the account and the read: {e}"
    );
    assert_eq!(crm_subjects(&w).len(), n, "{v:#}");
    assert_eq!(w.items().len(), n, "{v:#}");
    // mid-PUT: the second CRM appointment's request cut 40 bytes in. The
    // server events reach the CRM, the first appointment the server.
    proxy.set(Fault::cut(Dir::Up, "PUT ", 2, 40));
    let (code, v) = w.sync(&[]);
    assert_eq!(proxy.injected(), 2, "{v:#}");
    assert_eq!(code, 1, "{v:#}");
    assert!(v["errors"].to_string().contains("PUT"), "{v:#}");
    assert_eq!(count(&v, "created_in_crm"), n as i64, "{v:#}");
    assert_eq!(count(&v, "created_in_calendar"), 1, "{v:#}");
    assert_eq!(not_done(&v), ["CRM 1", "CRM 2", "CRM 3"], "{v:#}");
    // mid-response: CRM 1 is stored, its `201 Created` cut: crmsync never
    // heard. Regression (issue 9): a run stopped at its first write
    // counted every planned write as done ("3 created in calendar").
    proxy.set(Fault::cut(Dir::Down, " 201 Created", 1, 5));
    let (code, v) = w.sync(&[]);
    assert_eq!(proxy.injected(), 3, "{v:#}");
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(count(&v, "created_in_calendar"), 0, "{v:#}");
    assert_eq!(not_done(&v), ["CRM 1", "CRM 2", "CRM 3"], "{v:#}");
    let mut on_server: Vec<String> = ["CRM 0", "CRM 1"]
        .into_iter()
        .map(String::from)
        .chain((0..n).map(|i| format!("Server {i}")))
        .collect();
    on_server.sort();
    assert_eq!(server_summaries(&w), on_server, "CRM 1 was stored");
    // The clean run: CRM 1 is found by its UID and linked, not sent again.
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "failed"), 0, "{v:#}");
    assert_eq!(
        count(&v, "created_in_calendar"),
        2,
        "CRM 2 and 3 only: {v:#}"
    );
    assert_eq!(count(&v, "created_in_crm"), 0, "no second copy: {v:#}");
    assert_complete(&w, n);
}

#[test]
fn x5_a_stalled_radicale_ends_sync_calendar_within_the_timeout() {
    let Some((w, proxy)) = proxied("x5calstall", "timeout = 3\n") else {
        return;
    };
    let n = 3;
    fill(&w, n);
    let bound = Duration::from_secs(15);
    let silent = |v: &Value| {
        let e = v["errors"].to_string().to_lowercase();
        assert!(
            e.contains(&format!("account `{CALENDAR_ACCOUNT}`")),
            "names the account: {e}"
        );
        assert!(
            e.contains("timed out") || e.contains("timeout"),
            "says the server went silent: {e}"
        );
    };
    // Silent after the head of its first multistatus answer (discovery):
    // the account fails, named, within the timeout; nothing is written.
    proxy.set(Fault::stall(Dir::Down, " 207 ", 1, 20));
    let t0 = Instant::now();
    let (code, v) = w.sync(&[]);
    let elapsed = t0.elapsed();
    assert_eq!(proxy.injected(), 1, "{v:#}");
    assert_eq!(code, 1, "{v:#}");
    assert!(elapsed < bound, "bounded by timeout = 3: {elapsed:?}");
    silent(&v);
    assert_eq!(crm_subjects(&w).len(), n, "nothing written to the CRM");
    assert_eq!(w.items().len(), n, "nothing written to the calendar");
    // Silent halfway through receiving the second PUT: the account stops
    // there within the timeout, what was done before it stays done.
    proxy.set(Fault::stall(Dir::Up, "PUT ", 2, 40));
    let t0 = Instant::now();
    let (code, v) = w.sync(&[]);
    let elapsed = t0.elapsed();
    assert_eq!(proxy.injected(), 2, "{v:#}");
    assert_eq!(code, 1, "{v:#}");
    assert!(elapsed < bound, "bounded by timeout = 3: {elapsed:?}");
    silent(&v);
    assert_eq!(count(&v, "created_in_crm"), n as i64, "{v:#}");
    assert_eq!(count(&v, "created_in_calendar"), 1, "{v:#}");
    assert_eq!(not_done(&v), ["CRM 1", "CRM 2"], "{v:#}");
    // A slow (not dead) server: every chunk delayed, the run completes.
    proxy.set(Fault::Delay(Duration::from_millis(15)));
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "created_in_calendar"), 2, "{v:#}");
    assert_eq!(count(&v, "created_in_crm"), 0, "{v:#}");
    proxy.set(Fault::None);
    assert_complete(&w, n);
}

/// The property names of an iCalendar text's lines, unfolded.
fn names(text: &str) -> Vec<String> {
    let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "");
    unfolded
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split([':', ';'])
                .next()
                .unwrap()
                .to_ascii_uppercase()
                .to_string()
        })
        .collect()
}

#[test]
fn c3_crlf_in_a_crm_subject_reaches_radicale_as_one_escaped_summary() {
    // Issue 9: header injection. A subject or text with CR/LF must not
    // start a property of its own on the server (here: an ATTENDEE, an
    // END:VEVENT, an alarm).
    let Some(w) = W::new(true, "crlfsum") else {
        return;
    };
    let subject = "Lunch\r\nATTENDEE:mailto:evil@x.example\r\nEND:VEVENT";
    let text = "Agenda\rX-INJECTED:1\nBEGIN:VALARM";
    let id = w.add(&[
        "--type",
        "appointment",
        "--subject",
        subject,
        "--text",
        text,
        "--start",
        "2026-12-07T12:00:00Z",
    ]);
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "created_in_calendar"), 1, "{v:#}");
    let ics = w.by_uid(&format!("crmsync-alice-{id}@crmsync"));
    assert!(
        !ics.replace("\r\n", "").contains(['\r', '\n']),
        "only CRLF line ends: {ics:?}"
    );
    let names = names(&ics);
    let n = |p: &str| names.iter().filter(|x| *x == p).count();
    assert_eq!(n("SUMMARY"), 1, "{ics}");
    assert_eq!(n("DESCRIPTION"), 1, "{ics}");
    assert_eq!(n("ATTENDEE"), 0, "no injected attendee: {ics}");
    assert_eq!(n("X-INJECTED"), 0, "{ics}");
    assert_eq!(n("BEGIN"), 2, "VCALENDAR and VEVENT only: {ics}");
    assert_eq!(n("END"), 2, "{ics}");
    // On the wire: escaped line breaks inside the one SUMMARY.
    assert_eq!(
        prop(&ics, "SUMMARY").as_deref(),
        Some(r"Lunch\nATTENDEE:mailto:evil@x.example\nEND:VEVENT")
    );
    // Read back: one event, no attendee, the text with its line breaks.
    let items = ical::parse(&ics).unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0].props.attendees.is_empty(), "{ics}");
    assert_eq!(
        items[0].props.summary.as_deref(),
        Some("Lunch\nATTENDEE:mailto:evil@x.example\nEND:VEVENT")
    );
    // No churn either way (C11), and the CRM keeps its subject.
    let v = w.sync_ok(&[]);
    assert!(actions(&v).is_empty(), "{v:#}");
    assert_eq!(w.show(id)["fields"]["subject"], subject);
}
