//! Issue 15, calendar half: the public interop corpus of
//! tests/data/interop/calendars through crmsync's iCalendar parser and
//! expansion (C4: occurrences equal an independent RFC 5545
//! implementation's, stored beside each file by scripts/interop-expected),
//! and through `sync-calendar` against Radicale (C11: a second run writes
//! nothing).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use crmsync::model::CalTime;
use crmsync::parse::ical;
use serde_json::Value;

use crate::cli::Env;
use crate::harness;

pub fn corpus(kind: &str, ext: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/interop")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.{ext} in {}", dir.display());
    files
}

/// The window and the cut of scripts/interop.d/occurrences.py.
const LIMIT: usize = 200;

fn window() -> (DateTime<Utc>, DateTime<Utc>) {
    let at = |y| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .unwrap()
    };
    (at(1970), at(2040))
}

/// A date stays a date; a date-time is its UTC instant.
fn text(t: &CalTime, instant: DateTime<Utc>) -> String {
    match t {
        CalTime::Date(d) => d.format("%Y-%m-%d").to_string(),
        _ => instant.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }
}

/// The sort key of occurrences.py: dates at their midnight.
fn key(line: &str) -> (String, String, String, String) {
    let mut f = line.split('\t').map(str::to_string);
    let (uid, start, end) = (
        f.next().unwrap_or_default(),
        f.next().unwrap_or_default(),
        f.next().unwrap_or_default(),
    );
    let day = start.get(..10).unwrap_or_default().to_string();
    let time = match start.get(10..) {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => "T00:00:00Z".to_string(),
    };
    (day, time, uid, end)
}

/// crmsync's occurrences of every VEVENT of a file, as occurrences.py
/// writes them; Err with the parser's or the expansion's message.
fn ours(text_of_file: &str) -> Result<Vec<String>, String> {
    let (from, to) = window();
    let mut lines = Vec::new();
    for item in ical::parse(text_of_file).map_err(|e| e.to_string())? {
        if item.kind != ical::Kind::Event {
            continue;
        }
        for t in ical::timed_occurrences(&item, from, to).map_err(|e| e.to_string())? {
            let o = &t.occurrence;
            let start = text(&o.start, t.start);
            // No end: a day for a date, else the start (RFC 5545 3.6.1).
            let end = match (&o.end, t.end) {
                (Some(e), Some(i)) => text(e, i),
                _ => match &o.start {
                    CalTime::Date(d) => (*d + TimeDelta::days(1)).format("%Y-%m-%d").to_string(),
                    _ => start.clone(),
                },
            };
            lines.push(format!("{}\t{start}\t{end}", item.uid));
        }
    }
    lines.sort_by_key(|l| key(l));
    if lines.len() > LIMIT {
        let last = key(&lines[LIMIT - 1]);
        let mut i = 0;
        lines.retain(|l| {
            i += 1;
            i <= LIMIT || (key(l).0, key(l).1) == (last.0.clone(), last.1.clone())
        });
    }
    Ok(lines)
}

/// Files where crmsync and the library differ, each with the RFC clause
/// that decides it (tests/data/interop/README.md). The test fails when the
/// difference goes away, so the table cannot go stale.
const DIFFERENCES: &[(&str, &str)] = &[
    (
        "icalendar-issue_165_missing_event.ics",
        "refused: VEVENT without UID (RFC 5545 3.6.1: UID is required), reported (C12); \
         the library fails on its RRULE",
    ),
    (
        "rie-duration.ics",
        "refused: VEVENT without UID (RFC 5545 3.6.1: UID is required), reported (C12)",
    ),
    (
        "rie-rdate.ics",
        "refused: VEVENT without UID (RFC 5545 3.6.1: UID is required), reported (C12)",
    ),
    (
        "rie-rdate_hackerpublicradio.ics",
        "refused: VEVENT without UID (RFC 5545 3.6.1: UID is required), reported (C12)",
    ),
    (
        "rie-issue_148_exdate_and_rdate_updated.ics",
        "refused: two series masters under one UID (RFC 5545 3.8.4.7; RFC 4791 4.1: one \
         recurrence set per resource), reported (C12)",
    ),
];

/// Files Radicale refuses to store (PUT answers 400 or 409), with the reason.
const RADICALE_REFUSES: &[(&str, &str)] = &[
    (
        "rie-recurring_events_moved.ics",
        "409 no-uid-conflict (RFC 4791 5.3.2.1): the same UIDs as \
         rie-recurring_events_changed_duration.ics, a later export of that calendar",
    ),
    (
        "rie-Germany_Holidays.ics",
        "empty `RRULE:` lines (RFC 5545 3.3.10: FREQ is required)",
    ),
    (
        "icalendar-rfc_7529.ics",
        "RRULE with RSCALE (RFC 7529, non-Gregorian): Radicale cannot expand it",
    ),
    (
        "icalendar-issue_1633_rdate_with_dates.ics",
        "RDATE;VALUE=PERIOD of two DATEs (RFC 5545 3.3.9: a period is of DATE-TIMEs)",
    ),
    (
        "icalendar-issue_1633_rdate_with_dates_and_tzid.ics",
        "RDATE;VALUE=PERIOD of two DATEs (RFC 5545 3.3.9: a period is of DATE-TIMEs)",
    ),
];

#[test]
fn c4_corpus_occurrences_equal_an_independent_rfc5545_implementation() {
    let mut mismatches = Vec::new();
    for path in corpus("calendars", "ics") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let ics = std::fs::read_to_string(&path).unwrap();
        let expected_path = path.with_extension("occurrences");
        let expected: Vec<String> = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e}; run scripts/interop-expected",
                    expected_path.display()
                )
            })
            .lines()
            .map(str::to_string)
            .collect();
        // Never a panic, whatever the file holds.
        let got = ours(&ics);
        if expected.first().is_some_and(|l| l.starts_with("error\t")) {
            // The library cannot read it: only "no panic" is compared.
            continue;
        }
        let same = got.as_ref().is_ok_and(|g| *g == expected);
        let documented = DIFFERENCES.iter().any(|(f, _)| *f == name);
        match (same, documented) {
            (true, true) => mismatches.push(format!(
                "{name}: equal now; remove it from DIFFERENCES and the README"
            )),
            (false, false) => mismatches.push(format!(
                "{name}:\n  library: {expected:?}\n  crmsync: {got:?}"
            )),
            _ => {}
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// A file as CalDAV resources (RFC 4791 4.1: one UID each): the file's
/// top-level lines and VTIMEZONEs, with the components of one UID.
fn resources(ics: &str) -> Vec<String> {
    let mut head: Vec<&str> = Vec::new();
    let mut zones: Vec<&str> = Vec::new();
    let mut by_uid: Vec<(String, Vec<&str>)> = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    let mut depth = 0;
    for line in ics.lines() {
        if line.starts_with("BEGIN:") {
            depth += 1;
        }
        match depth {
            0 | 1 if !line.starts_with("END:VCALENDAR") && !line.starts_with("BEGIN:VCALENDAR") => {
                head.push(line)
            }
            0 | 1 => {}
            _ => block.push(line),
        }
        if line.starts_with("END:") {
            depth -= 1;
            if depth == 1 {
                let lines = std::mem::take(&mut block);
                if lines[0].starts_with("BEGIN:VTIMEZONE") {
                    zones.extend(lines);
                } else {
                    let uid = lines
                        .iter()
                        .find_map(|l| l.strip_prefix("UID:"))
                        .unwrap_or_default()
                        .to_string();
                    match by_uid.iter_mut().find(|(u, _)| *u == uid) {
                        Some((_, v)) => v.extend(lines),
                        None => by_uid.push((uid, lines)),
                    }
                }
            }
        }
    }
    by_uid
        .into_iter()
        .map(|(_, comps)| {
            let mut out = vec!["BEGIN:VCALENDAR"];
            out.extend(&head);
            out.extend(&zones);
            out.extend(comps);
            out.push("END:VCALENDAR");
            out.join("\r\n") + "\r\n"
        })
        .collect()
}

/// alice's Radicale calendar holding the corpus; the config of
/// `Env::load_directory` with a calendar account.
#[test]
fn c11_corpus_calendars_sync_from_radicale_and_a_second_run_writes_nothing() {
    let Some(r) = harness::radicale() else { return };
    let (login, pw) = r.add_user("interop");
    let url = r.create_calendar(&login, "calendar");
    let env = Env::new(&format!(
        "[[calendar.accounts]]\nname = \"alice-cal\"\nuser = \"alice\"\nsource = \"caldav\"\n\
         url = \"{}\"\nlogin = \"{login}\"\npassword_env = \"DAV_PW\"\n",
        r.url
    ));
    env.load_directory();
    let auth = harness::basic_auth(&login, &pw);
    let mut uids = 0;
    for path in corpus("calendars", "ics") {
        let ics = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let refused = DIFFERENCES
            .iter()
            .any(|(f, why)| *f == name && why.starts_with("refused"));
        let items = match ical::parse(&ics) {
            Ok(items) => {
                assert!(!refused, "{name} parses now: update DIFFERENCES");
                items
            }
            // Reported by sync-calendar too (C12); not stored, not synced.
            Err(e) => {
                assert!(refused, "{name}: {e}");
                continue;
            }
        };
        for (n, text) in resources(&ics).iter().enumerate() {
            let resp = harness::http(
                "PUT",
                &format!("{url}{name}-{n}.ics"),
                &[
                    ("Authorization", auth.as_str()),
                    ("Content-Type", "text/calendar"),
                ],
                text.as_bytes(),
            )
            .unwrap();
            if RADICALE_REFUSES.iter().any(|(f, _)| *f == name) {
                assert!(
                    matches!(resp.status, 400 | 409),
                    "{name}: Radicale takes it now ({})",
                    resp.status
                );
                continue;
            }
            assert!(
                resp.status < 300,
                "PUT {name} ({n}): {} {}",
                resp.status,
                resp.text()
            );
            uids += 1;
        }
        assert_eq!(resources(&ics).len(), items.len(), "{name}");
    }
    let sync = |args: &[&str]| -> Value {
        let out = env
            .cmd()
            .args(["--json", "sync-calendar"])
            .args(args)
            .env("DAV_PW", &pw)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert_eq!(out.status.code(), Some(0), "{v:#}");
        v
    };
    let first = sync(&[]);
    assert_eq!(
        first["counts"]["created_in_crm"], uids,
        "every item of the corpus reaches the CRM: {first:#}"
    );
    let second = sync(&[]);
    let counts = second["counts"].as_object().unwrap();
    for (k, n) in counts {
        assert!(
            n.as_u64() == Some(0) || !n.is_u64(),
            "second run wrote `{k}` = {n}: {second:#}"
        );
    }
}
