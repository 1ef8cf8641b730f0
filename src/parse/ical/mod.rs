//! iCalendar parsing and writing for sync-calendar (SPEC 4: C4, C10, C11).
//!
//! An *item* ([`CalItem`]) is everything one UID stands for in a calendar
//! resource: the series master (or the single event or task) and its
//! overridden instances (components with a RECURRENCE-ID). The fields the
//! CRM models ([`crate::model::Props`]: summary, description,
//! start/end/due, recurrence, organizer, attendees, status, ...) are typed;
//! everything else stays as the text it came in (C10): alarms, X-
//! properties, categories, unknown parameters, other components of the
//! file, VTIMEZONE definitions.
//!
//! Two layers do the work:
//!
//! - a *content-line layer* of our own: unfolding, the component tree,
//!   parameters with quoting, TEXT escaping. [`write`] re-emits every line
//!   the CRM did not change verbatim (re-folded at 75 octets, CRLF) and
//!   replaces only the properties whose typed value changed. calcard's
//!   writer normalises (it re-orders RRULE parts, adds VALUE=DATE, escapes
//!   CR as `\r`) and its lenient parser drops lines it cannot read, so it
//!   cannot give a lossless round trip;
//! - calcard for the semantics: the RRULE iterator across DST, resolving
//!   TZIDs (IANA, Windows names, VTIMEZONE aliases via X-LIC-LOCATION),
//!   and VTIMEZONE definitions for zones the original text did not define.
//!   [`occurrences`] composes the recurrence set itself (RFC 5545 3.8.5:
//!   RDATE, EXDATE; 3.8.4.4: RECURRENCE-ID and RANGE) and evaluates a
//!   VTIMEZONE that no known name resolves from its own observances.
//!
//! [`content_hash`] hashes the semantic content without the properties
//! that change on every save or that servers set (DTSTAMP, LAST-MODIFIED,
//! CREATED, SEQUENCE, X-RADICALE-NAME, ...), so an item the server merely
//! re-serialised is not a change (C11).
//!
//! The module is split by layer: `line` (the content-line codec), `model`
//! (the lossless model), `read` (parsing), `write` (writing), `hash` (the
//! content hash, C11) and `recur` (recurrence expansion, C4). Their public
//! items are re-exported here.

mod hash;
mod line;
mod model;
mod read;
mod recur;
mod write;

pub use hash::{VOLATILE, content_hash};
pub use line::{escape_text, unescape_text};
pub use model::{CalItem, IcalError, Kind, date_line};
pub use read::parse;
pub use recur::{Occurrence, TimedOccurrence, occurrences, timed_occurrences};
pub use write::{PRODID, write};

/// Calendar texts and helpers the layers' unit tests share.
#[cfg(test)]
mod fixtures {
    use super::line::unfold;
    use super::*;
    use chrono::{DateTime, NaiveDateTime, Utc};

    /// Joins lines with CRLF.
    pub(super) fn ics(lines: &[&str]) -> String {
        let mut s = lines.join("\r\n");
        s.push_str("\r\n");
        s
    }

    pub(super) const BERLIN: &[&str] = &[
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Berlin",
        "BEGIN:DAYLIGHT",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "TZNAME:CEST",
        "DTSTART:19700329T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "TZNAME:CET",
        "DTSTART:19701025T030000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "END:STANDARD",
        "END:VTIMEZONE",
    ];

    /// A weekly series in Europe/Berlin across the DST change of
    /// 2024-03-31: 8 Tuesdays from 2024-03-05 10:00, two EXDATEs, one
    /// instance moved with a higher SEQUENCE (as clients write it), one
    /// moved with a UTC RECURRENCE-ID (after the DST change).
    pub(super) fn weekly() -> String {
        let mut l = vec!["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Test//EN"];
        l.extend_from_slice(BERLIN);
        l.extend_from_slice(&[
            "BEGIN:VEVENT",
            "UID:weekly-1@test",
            "DTSTAMP:20240101T000000Z",
            "LAST-MODIFIED:20240102T000000Z",
            "SEQUENCE:2",
            "DTSTART;TZID=Europe/Berlin:20240305T100000",
            "DTEND;TZID=Europe/Berlin:20240305T110000",
            "RRULE:FREQ=WEEKLY;COUNT=8",
            "EXDATE;TZID=Europe/Berlin:20240319T100000,20240409T100000",
            "SUMMARY:Weekly\\, sync\\; team",
            "DESCRIPTION:A long description that certainly needs folding because it is",
            "  longer than seventy-five octets\\nand has a second line.",
            "X-FOO;X-PARAM=\"a:b\":some value",
            "CATEGORIES:Sales,Team",
            "ORGANIZER;CN=Alice:mailto:alice@us.example",
            "ATTENDEE;CN=\"Doe, Jane\";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:Jane@Acme.example",
            "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:new@nowhere.example",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "TRIGGER:-PT15M",
            "DESCRIPTION:Reminder",
            "END:VALARM",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:weekly-1@test",
            "DTSTAMP:20240101T000000Z",
            "SEQUENCE:3",
            "RECURRENCE-ID;TZID=Europe/Berlin:20240326T100000",
            "DTSTART;TZID=Europe/Berlin:20240327T140000",
            "DTEND;TZID=Europe/Berlin:20240327T150000",
            "SUMMARY:Weekly (moved to Wednesday)",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:weekly-1@test",
            "DTSTAMP:20240101T000000Z",
            "RECURRENCE-ID:20240416T080000Z",
            "DTSTART;TZID=Europe/Berlin:20240416T160000",
            "DTEND;TZID=Europe/Berlin:20240416T170000",
            "SUMMARY:Weekly (afternoon)",
            "END:VEVENT",
            "END:VCALENDAR",
        ]);
        ics(&l)
    }

    pub(super) fn one(text: &str) -> CalItem {
        let mut items = parse(text).unwrap();
        assert_eq!(items.len(), 1);
        items.remove(0)
    }

    pub(super) fn logical(text: &str) -> Vec<String> {
        unfold(text).into_iter().map(|(_, l)| l).collect()
    }

    pub(super) fn zoned(s: &str) -> crate::model::CalTime {
        crate::model::CalTime::Zoned {
            tzid: "Europe/Berlin".into(),
            local: NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap(),
        }
    }

    pub(super) fn utc(s: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
    }

    pub(super) fn one_of(text: &str, uid: &str) -> CalItem {
        parse(text)
            .unwrap()
            .into_iter()
            .find(|i| i.uid == uid)
            .unwrap()
    }
}
