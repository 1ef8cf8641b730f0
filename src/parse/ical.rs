//! iCalendar parsing and writing for sync-calendar (SPEC 4: C4, C10, C11).
//!
//! An *item* ([`CalItem`]) is everything one UID stands for in a calendar
//! resource: the series master (or the single event or task) and its
//! overridden instances (components with a RECURRENCE-ID). The fields the
//! CRM models ([`Props`]: summary, description, start/end/due, recurrence,
//! organizer, attendees, status, ...) are typed; everything else stays as
//! the text it came in (C10): alarms, X- properties, categories, unknown
//! parameters, other components of the file, VTIMEZONE definitions.
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

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use calcard::common::timezone::Tz;
use calcard::icalendar::ICalendar;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::matching::normalize;

/// PRODID of calendars crmsync creates.
pub const PRODID: &str = concat!("-//crmsync//crmsync ", env!("CARGO_PKG_VERSION"), "//EN");

/// Properties that change without a change of content: set on every save
/// by clients, or by servers (C11). Never part of [`content_hash`].
pub const VOLATILE: &[&str] = &[
    "DTSTAMP",
    "LAST-MODIFIED",
    "CREATED",
    "SEQUENCE",
    // Radicale names the item after its file.
    "X-RADICALE-NAME",
    // Thunderbird counts saves and remembers acknowledged alarms.
    "X-MOZ-GENERATION",
    "X-MOZ-LASTACK",
    // libical-based servers note their own parse warnings.
    "X-LIC-ERROR",
];

/// Why calendar text cannot be used. Each names the line or the UID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IcalError {
    #[error("not an iCalendar object: {0}")]
    NotCalendar(String),
    #[error("line {line}: {problem}")]
    Syntax { line: usize, problem: String },
    #[error("the {component} starting at line {line} has no UID")]
    MissingUid { component: String, line: usize },
    #[error("UID `{uid}` is used by both a VEVENT and a VTODO; one of them needs another UID")]
    MixedKinds { uid: String },
    #[error(
        "UID `{uid}` has two components without RECURRENCE-ID (two series masters); remove one"
    )]
    DuplicateMaster { uid: String },
    #[error("UID `{uid}` overrides the instance {recurrence_id} twice")]
    DuplicateOverride { uid: String, recurrence_id: String },
    #[error("UID `{uid}`: {property} value `{value}` is not valid: {problem}")]
    BadValue {
        uid: String,
        property: String,
        value: String,
        problem: String,
    },
    #[error("UID `{uid}`: the recurrence cannot be expanded: {problem}")]
    Expand { uid: String, problem: String },
}

/// A VEVENT (appointment) or a VTODO (task).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Event,
    Todo,
}

impl Kind {
    /// The component name: `VEVENT` or `VTODO`.
    pub fn component(self) -> &'static str {
        match self {
            Kind::Event => "VEVENT",
            Kind::Todo => "VTODO",
        }
    }
}

/// A DATE or DATE-TIME exactly as iCalendar gives it (C10): an all-day
/// date, a floating wall time, a UTC time, or a wall time in a named zone.
///
/// As text (serde, `Display`, `FromStr`): `2024-03-05`,
/// `2024-03-05T10:00:00`, `2024-03-05T10:00:00Z` and
/// `2024-03-05T10:00:00[Europe/Berlin]` (the zone suffix of RFC 9557).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CalTime {
    /// `VALUE=DATE`: a whole day.
    Date(NaiveDate),
    /// No zone: the same wall time wherever the reader is.
    Floating(NaiveDateTime),
    /// `...Z`.
    Utc(NaiveDateTime),
    /// `TZID=...`: `tzid` as the text names it (an IANA name, a Windows
    /// name, or whatever the file's VTIMEZONE calls itself).
    Zoned { tzid: String, local: NaiveDateTime },
}

impl CalTime {
    /// An all-day date.
    pub fn is_date(&self) -> bool {
        matches!(self, CalTime::Date(_))
    }

    /// The wall time (midnight for a date).
    pub fn local(&self) -> NaiveDateTime {
        match self {
            CalTime::Date(d) => d.and_time(chrono::NaiveTime::MIN),
            CalTime::Floating(t) | CalTime::Utc(t) => *t,
            CalTime::Zoned { local, .. } => *local,
        }
    }

    /// The instant, with floating times and dates read as UTC and zones
    /// resolved by name (IANA or Windows). None for a zone calcard does
    /// not know or a wall time that does not exist (DST gap).
    pub fn instant(&self) -> Option<DateTime<Utc>> {
        match self {
            CalTime::Date(_) | CalTime::Floating(_) | CalTime::Utc(_) => {
                Some(self.local().and_utc())
            }
            CalTime::Zoned { tzid, local } => {
                let tz = Tz::from_str(tzid).ok()?;
                tz.from_local_datetime(local)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
            }
        }
    }

    /// This time plus an iCalendar DURATION (`P1D`, `PT1H30M`, `-P1W`):
    /// weeks and days move the wall date (nominal), hours, minutes and
    /// seconds are exact (RFC 5545 3.3.6). None for a bad duration.
    pub fn plus_duration(&self, duration: &str) -> Option<CalTime> {
        let (days, secs) = parse_duration(duration)?;
        Some(match self {
            CalTime::Date(d) => CalTime::Date(*d + TimeDelta::days(days + secs / 86_400)),
            CalTime::Floating(t) => {
                CalTime::Floating(*t + TimeDelta::days(days) + TimeDelta::seconds(secs))
            }
            CalTime::Utc(t) => CalTime::Utc(*t + TimeDelta::days(days) + TimeDelta::seconds(secs)),
            CalTime::Zoned { tzid, local } => {
                let day_moved = *local + TimeDelta::days(days);
                let exact = Tz::from_str(tzid)
                    .ok()
                    .and_then(|tz| tz.from_local_datetime(&day_moved).earliest())
                    .map(|t| (t + TimeDelta::seconds(secs)).naive_local());
                CalTime::Zoned {
                    tzid: tzid.clone(),
                    local: exact.unwrap_or(day_moved + TimeDelta::seconds(secs)),
                }
            }
        })
    }

    fn from_ical(tzid: Option<&str>, value_date: bool, value: &str) -> Result<CalTime, String> {
        let v = value.trim();
        if value_date || (v.len() == 8 && !v.contains('T')) {
            return NaiveDate::parse_from_str(v, "%Y%m%d")
                .map(CalTime::Date)
                .map_err(|_| "expected a date YYYYMMDD".to_string());
        }
        let (body, utc) = match v.strip_suffix('Z').or_else(|| v.strip_suffix('z')) {
            Some(b) => (b, true),
            None => (v, false),
        };
        let t = NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S")
            .map_err(|_| "expected a date-time YYYYMMDDTHHMMSS[Z]".to_string())?;
        Ok(match (utc, tzid) {
            (true, _) => CalTime::Utc(t),
            (false, Some(z)) if !z.is_empty() => CalTime::Zoned {
                tzid: z.to_string(),
                local: t,
            },
            (false, _) => CalTime::Floating(t),
        })
    }

    /// The value as iCalendar writes it, without parameters.
    fn ical_value(&self) -> String {
        match self {
            CalTime::Date(d) => d.format("%Y%m%d").to_string(),
            CalTime::Floating(t) | CalTime::Zoned { local: t, .. } => {
                t.format("%Y%m%dT%H%M%S").to_string()
            }
            CalTime::Utc(t) => t.format("%Y%m%dT%H%M%SZ").to_string(),
        }
    }

    fn tzid(&self) -> Option<&str> {
        match self {
            CalTime::Zoned { tzid, .. } => Some(tzid),
            _ => None,
        }
    }

    fn year(&self) -> i32 {
        self.local().year()
    }
}

/// A whole date content line for `name` (EXDATE, RDATE) holding `t`, with
/// its TZID or VALUE=DATE parameter, as [`Props::exdate`] keeps them.
pub fn date_line(name: &str, t: &CalTime) -> String {
    match t {
        CalTime::Date(_) => format!("{name};VALUE=DATE:{}", t.ical_value()),
        CalTime::Zoned { tzid, .. } => format!("{name};TZID={tzid}:{}", t.ical_value()),
        _ => format!("{name}:{}", t.ical_value()),
    }
}

impl fmt::Display for CalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalTime::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            CalTime::Floating(t) => write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S")),
            CalTime::Utc(t) => write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%SZ")),
            CalTime::Zoned { tzid, local } => {
                write!(f, "{}[{tzid}]", local.format("%Y-%m-%dT%H:%M:%S"))
            }
        }
    }
}

impl FromStr for CalTime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a date, date-time, UTC time or zoned time");
        if let Some((t, rest)) = s.split_once('[') {
            let tzid = rest.strip_suffix(']').ok_or_else(bad)?;
            let local = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").map_err(|_| bad())?;
            return Ok(CalTime::Zoned {
                tzid: tzid.to_string(),
                local,
            });
        }
        if let Some(t) = s.strip_suffix('Z') {
            return NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S")
                .map(CalTime::Utc)
                .map_err(|_| bad());
        }
        if s.contains('T') {
            return NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
                .map(CalTime::Floating)
                .map_err(|_| bad());
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(CalTime::Date)
            .map_err(|_| bad())
    }
}

impl Serialize for CalTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CalTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An ORGANIZER or ATTENDEE.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CalAddress {
    /// [`normalize`]d: `mailto:` stripped, lower case.
    pub address: String,
    /// The CN parameter (display name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cn: Option<String>,
    /// The PARTSTAT parameter, upper case (`ACCEPTED`, `NEEDS-ACTION`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partstat: Option<String>,
}

/// The typed properties of one component (the master or an override).
/// None / empty: the property is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Props {
    pub summary: Option<String>,
    pub description: Option<String>,
    pub start: Option<CalTime>,
    /// DTEND (events).
    pub end: Option<CalTime>,
    /// DURATION as written (`PT1H`), when the end is given that way.
    pub duration: Option<String>,
    /// DUE (tasks).
    pub due: Option<CalTime>,
    /// The RRULE value, e.g. `FREQ=WEEKLY;COUNT=8`.
    pub rrule: Option<String>,
    /// Whole RDATE content lines, e.g. `RDATE;VALUE=DATE:20240105`.
    pub rdate: Vec<String>,
    /// Whole EXDATE content lines, e.g.
    /// `EXDATE;TZID=Europe/Berlin:20240319T100000,20240409T100000`.
    pub exdate: Vec<String>,
    /// STATUS, upper case.
    pub status: Option<String>,
    pub organizer: Option<CalAddress>,
    pub attendees: Vec<CalAddress>,
    pub sequence: Option<i64>,
    pub last_modified: Option<DateTime<Utc>>,
    pub dtstamp: Option<DateTime<Utc>>,
}

impl Props {
    /// The end: DTEND, else DTSTART + DURATION.
    pub fn effective_end(&self) -> Option<CalTime> {
        self.end.clone().or_else(|| {
            let d = self.duration.as_deref()?;
            self.start.as_ref()?.plus_duration(d)
        })
    }

    /// Sets DTEND and drops a DURATION, which would contradict it.
    pub fn set_end(&mut self, end: Option<CalTime>) {
        self.end = end;
        self.duration = None;
    }

    /// The EXDATE values, typed (TZID and VALUE=DATE kept).
    pub fn exdate_times(&self) -> Vec<CalTime> {
        date_list(&self.exdate)
    }

    /// The RDATE values that are dates or date-times (not periods).
    pub fn rdate_times(&self) -> Vec<CalTime> {
        date_list(&self.rdate)
    }
}

/// An overridden instance of a series (a component with RECURRENCE-ID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// The instance of the series it replaces.
    pub recurrence_id: CalTime,
    /// `RANGE=THISANDFUTURE`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub this_and_future: bool,
    pub props: Props,
}

/// Everything one UID stands for: the master (or single item) and its
/// overridden instances, with the original text kept for [`write`].
#[derive(Debug, Clone, PartialEq)]
pub struct CalItem {
    pub uid: String,
    pub kind: Kind,
    /// False when the text holds only overridden instances (an invitation
    /// to single instances of someone else's series); `props` is then empty.
    pub has_master: bool,
    /// The master's properties (or the single event's or task's).
    pub props: Props,
    pub overrides: Vec<Override>,
    src: Option<Src>,
}

/// The text an item came from, for a lossless [`write`].
#[derive(Debug, Clone, PartialEq)]
struct Src {
    /// The whole VCALENDAR as parsed, shared by the items of one text.
    cal: Arc<Comp>,
    uid: String,
    /// Body index and parsed properties of the master.
    master: Option<(usize, Props)>,
    /// Body index, RECURRENCE-ID and parsed properties of each override.
    overrides: Vec<(usize, CalTime, Props)>,
}

impl CalItem {
    /// A new item made on the CRM side (C3). `now` becomes its DTSTAMP
    /// (required by RFC 5545) and LAST-MODIFIED.
    pub fn new(uid: impl Into<String>, kind: Kind, now: DateTime<Utc>) -> CalItem {
        let now = chrono::Timelike::with_nanosecond(&now, 0).unwrap_or(now);
        CalItem {
            uid: uid.into(),
            kind,
            has_master: true,
            props: Props {
                dtstamp: Some(now),
                last_modified: Some(now),
                ..Props::default()
            },
            overrides: Vec::new(),
            src: None,
        }
    }

    /// True for an item that came from text (not made by [`CalItem::new`]).
    pub fn is_parsed(&self) -> bool {
        self.src.is_some()
    }

    /// When the groupware side last changed it: LAST-MODIFIED, else DTSTAMP
    /// (C6 newest-wins).
    pub fn modified_at(&self) -> Option<DateTime<Utc>> {
        self.props.last_modified.or(self.props.dtstamp).or_else(|| {
            self.overrides
                .iter()
                .filter_map(|o| o.props.last_modified.or(o.props.dtstamp))
                .max()
        })
    }

    /// The override of one instance.
    pub fn override_for(&self, recurrence_id: &CalTime) -> Option<&Override> {
        self.overrides
            .iter()
            .find(|o| &o.recurrence_id == recurrence_id)
    }
}

// ---------------------------------------------------------------------------
// The content-line layer.

/// One logical (unfolded) content line, verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    text: String,
    /// The property name, upper case.
    name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Line(Line),
    Comp(Comp),
}

/// A component: `BEGIN:name` ... `END:name`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Comp {
    /// Upper case.
    name: String,
    /// The physical line of its BEGIN (1-based), for messages.
    line: usize,
    body: Vec<Node>,
}

impl Comp {
    fn new(name: &str) -> Comp {
        Comp {
            name: name.to_string(),
            line: 0,
            body: Vec::new(),
        }
    }

    fn lines(&self) -> impl Iterator<Item = &Line> {
        self.body.iter().filter_map(|n| match n {
            Node::Line(l) => Some(l),
            Node::Comp(_) => None,
        })
    }

    fn first(&self, name: &str) -> Option<&Line> {
        self.lines().find(|l| l.name == name)
    }

    fn value_of(&self, name: &str) -> Option<String> {
        self.first(name)
            .and_then(|l| split_line(&l.text).ok())
            .map(|p| p.value.to_string())
    }
}

/// A content line split into name, parameters (raw, quotes kept) and value.
#[derive(Debug)]
struct Split<'a> {
    name: &'a str,
    params: Vec<(&'a str, &'a str)>,
    value: &'a str,
}

impl Split<'_> {
    /// The first value of a parameter, unquoted and RFC 6868-decoded.
    fn param(&self, name: &str) -> Option<String> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| decode_param(v))
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// Splits `NAME;P=V;Q="a:b":value`. Errors say what is wrong.
fn split_line(text: &str) -> Result<Split<'_>, String> {
    let end = text
        .find(|c: char| !is_name_char(c))
        .ok_or_else(|| format!("`{}` has no `:` and value", shorten(text)))?;
    let name = &text[..end];
    if name.is_empty() {
        return Err(format!(
            "`{}` does not start with a property name",
            shorten(text)
        ));
    }
    let mut rest = &text[end..];
    let mut params = Vec::new();
    loop {
        if let Some(v) = rest.strip_prefix(':') {
            return Ok(Split {
                name,
                params,
                value: v,
            });
        }
        let Some(p) = rest.strip_prefix(';') else {
            return Err(format!(
                "`{}`: expected `;` or `:` after the property name",
                shorten(text)
            ));
        };
        let eq = p
            .find('=')
            .ok_or_else(|| format!("`{}`: a parameter has no `=`", shorten(text)))?;
        let pname = &p[..eq];
        if pname.is_empty() || !pname.chars().all(is_name_char) {
            return Err(format!("`{}`: bad parameter name", shorten(text)));
        }
        // The value runs to the next `;` or `:` outside quotes.
        let vstart = eq + 1;
        let mut quoted = false;
        let mut vend = None;
        for (i, c) in p[vstart..].char_indices() {
            match c {
                '"' => quoted = !quoted,
                ';' | ':' if !quoted => {
                    vend = Some(vstart + i);
                    break;
                }
                _ => {}
            }
        }
        let vend = vend.ok_or_else(|| format!("`{}`: no `:` before the value", shorten(text)))?;
        params.push((pname, &p[vstart..vend]));
        rest = &p[vend..];
    }
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// Unquotes a parameter value (the first of a list) and decodes RFC 6868.
fn decode_param(raw: &str) -> String {
    let first = if let Some(q) = raw.strip_prefix('"') {
        q.split('"').next().unwrap_or("")
    } else {
        raw.split(',').next().unwrap_or("")
    };
    let mut out = String::with_capacity(first.len());
    let mut it = first.chars().peekable();
    while let Some(c) = it.next() {
        if c == '^' {
            match it.peek() {
                Some('^') => {
                    out.push('^');
                    it.next();
                }
                Some('n') | Some('N') => {
                    out.push('\n');
                    it.next();
                }
                Some('\'') => {
                    out.push('"');
                    it.next();
                }
                _ => out.push('^'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A parameter value as written: RFC 6868 encoded, control characters
/// dropped, quoted when it holds `;`, `:` or `,`.
fn encode_param(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    let mut it = value.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '^' => s.push_str("^^"),
            '"' => s.push_str("^'"),
            '\r' => {
                if it.peek() != Some(&'\n') {
                    s.push_str("^n");
                }
            }
            '\n' => s.push_str("^n"),
            c if c.is_control() && c != '\t' => {}
            c => s.push(c),
        }
    }
    if s.contains([';', ':', ',']) {
        format!("\"{s}\"")
    } else {
        s
    }
}

/// TEXT escaping (RFC 5545 3.3.11): `\`, `;`, `,` and line breaks. A CR
/// or LF never reaches the output raw, so a value cannot start a new
/// property. Other control characters are dropped.
pub fn escape_text(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 8);
    let mut it = value.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => s.push_str("\\\\"),
            ';' => s.push_str("\\;"),
            ',' => s.push_str("\\,"),
            '\r' => {
                if it.peek() == Some(&'\n') {
                    it.next();
                }
                s.push_str("\\n");
            }
            '\n' => s.push_str("\\n"),
            c if c.is_control() && c != '\t' => {}
            c => s.push(c),
        }
    }
    s
}

/// Reverses [`escape_text`]; lenient about unknown escapes (kept as is).
pub fn unescape_text(value: &str) -> String {
    let mut s = String::with_capacity(value.len());
    let mut it = value.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            s.push(c);
            continue;
        }
        match it.next() {
            Some('n') | Some('N') => s.push('\n'),
            Some(c @ ('\\' | ';' | ',' | ':' | '"')) => s.push(c),
            Some(other) => {
                s.push('\\');
                s.push(other);
            }
            None => s.push('\\'),
        }
    }
    s
}

/// Drops control characters from text that goes into a value verbatim
/// (RRULE, DURATION, RDATE/EXDATE lines coming from the CRM).
fn clean_raw(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).collect()
}

/// Appends a logical line folded at 75 octets (RFC 5545 3.1), never
/// inside a UTF-8 character, with CRLF.
fn push_folded(out: &mut String, line: &str) {
    let mut rest = line;
    let mut first = true;
    loop {
        let max = if first { 75 } else { 74 };
        if !first {
            out.push(' ');
        }
        if rest.len() <= max {
            out.push_str(rest);
            out.push_str("\r\n");
            return;
        }
        let mut cut = max;
        while cut > 0 && !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n");
        rest = &rest[cut..];
        first = false;
    }
}

/// Unfolds text into logical lines with the physical line each starts on.
fn unfold(text: &str) -> Vec<(usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let l = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(cont) = l.strip_prefix([' ', '\t'])
            && let Some(last) = out.last_mut()
        {
            last.1.push_str(cont);
            continue;
        }
        if l.trim().is_empty() {
            continue;
        }
        out.push((i + 1, l.to_string()));
    }
    out
}

/// Parses text into its VCALENDAR component tree.
fn parse_tree(text: &str) -> Result<Comp, IcalError> {
    let lines = unfold(text);
    let mut it = lines.into_iter();
    let Some((first_no, first)) = it.next() else {
        return Err(IcalError::NotCalendar("the text is empty".into()));
    };
    if !first.trim_end().eq_ignore_ascii_case("BEGIN:VCALENDAR") {
        return Err(IcalError::NotCalendar(format!(
            "line {first_no} is `{}`, expected `BEGIN:VCALENDAR`",
            shorten(&first)
        )));
    }
    let mut stack = vec![Comp {
        name: "VCALENDAR".into(),
        line: first_no,
        body: Vec::new(),
    }];
    let mut done: Option<Comp> = None;
    for (no, l) in it {
        if done.is_some() {
            return Err(IcalError::Syntax {
                line: no,
                problem: format!(
                    "`{}` after END:VCALENDAR; a resource holds one calendar",
                    shorten(&l)
                ),
            });
        }
        let sp = split_line(&l).map_err(|problem| IcalError::Syntax { line: no, problem })?;
        let name = sp.name.to_ascii_uppercase();
        match name.as_str() {
            "BEGIN" => {
                let cname = sp.value.trim().to_ascii_uppercase();
                if cname.is_empty() || !cname.chars().all(is_name_char) {
                    return Err(IcalError::Syntax {
                        line: no,
                        problem: format!("`{}` names no component", shorten(&l)),
                    });
                }
                stack.push(Comp {
                    name: cname,
                    line: no,
                    body: Vec::new(),
                });
            }
            "END" => {
                let cname = sp.value.trim().to_ascii_uppercase();
                let Some(top) = stack.pop() else {
                    return Err(IcalError::Syntax {
                        line: no,
                        problem: "END without BEGIN".into(),
                    });
                };
                if top.name != cname {
                    return Err(IcalError::Syntax {
                        line: no,
                        problem: format!(
                            "END:{cname} where END:{} (begun at line {}) was expected",
                            top.name, top.line
                        ),
                    });
                }
                match stack.last_mut() {
                    Some(parent) => parent.body.push(Node::Comp(top)),
                    None => done = Some(top),
                }
            }
            _ => {
                if let Some(top) = stack.last_mut() {
                    top.body.push(Node::Line(Line { text: l, name }));
                }
            }
        }
    }
    match (done, stack.last()) {
        (Some(c), _) => Ok(c),
        (None, Some(top)) => Err(IcalError::Syntax {
            line: top.line,
            problem: format!("BEGIN:{} is never ended (the text is cut off?)", top.name),
        }),
        (None, None) => Err(IcalError::NotCalendar("no VCALENDAR".into())),
    }
}

fn serialize_comp(out: &mut String, c: &Comp) {
    push_folded(out, &format!("BEGIN:{}", c.name));
    for n in &c.body {
        match n {
            Node::Line(l) => push_folded(out, &l.text),
            Node::Comp(sub) => serialize_comp(out, sub),
        }
    }
    push_folded(out, &format!("END:{}", c.name));
}

fn line(text: String) -> Node {
    let name = text
        .split([';', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    Node::Line(Line { text, name })
}

// ---------------------------------------------------------------------------
// Typed properties from a component.

fn bad(uid: &str, property: &str, value: &str, problem: String) -> IcalError {
    IcalError::BadValue {
        uid: uid.to_string(),
        property: property.to_string(),
        value: shorten(value),
        problem,
    }
}

fn time_of(uid: &str, l: &Line) -> Result<CalTime, IcalError> {
    let sp = split_line(&l.text).map_err(|p| bad(uid, &l.name, &l.text, p))?;
    let value_date = sp
        .param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    CalTime::from_ical(sp.param("TZID").as_deref(), value_date, sp.value)
        .map_err(|p| bad(uid, &l.name, sp.value, p))
}

fn utc_of(l: &Line) -> Option<DateTime<Utc>> {
    match time_of("", l).ok()? {
        CalTime::Utc(t) => Some(t.and_utc()),
        // Lenient: some clients write LAST-MODIFIED without Z.
        CalTime::Floating(t) => Some(t.and_utc()),
        _ => None,
    }
}

fn address_of(l: &Line) -> Option<CalAddress> {
    let sp = split_line(&l.text).ok()?;
    Some(CalAddress {
        address: normalize(sp.value),
        cn: sp.param("CN").filter(|s| !s.is_empty()),
        partstat: sp.param("PARTSTAT").map(|s| s.to_ascii_uppercase()),
    })
}

fn value_text(l: &Line) -> String {
    split_line(&l.text)
        .map(|s| unescape_text(s.value))
        .unwrap_or_default()
}

/// The typed properties of a VEVENT/VTODO and its RECURRENCE-ID.
fn props_of(uid: &str, c: &Comp) -> Result<(Props, Option<(CalTime, bool)>), IcalError> {
    let mut p = Props::default();
    let mut rid = None;
    for l in c.lines() {
        match l.name.as_str() {
            "SUMMARY" if p.summary.is_none() => p.summary = Some(value_text(l)),
            "DESCRIPTION" if p.description.is_none() => p.description = Some(value_text(l)),
            "DTSTART" if p.start.is_none() => p.start = Some(time_of(uid, l)?),
            "DTEND" if p.end.is_none() => p.end = Some(time_of(uid, l)?),
            "DUE" if p.due.is_none() => p.due = Some(time_of(uid, l)?),
            "DURATION" if p.duration.is_none() => {
                let v = split_line(&l.text).map(|s| s.value.trim().to_string());
                let v = v.map_err(|e| bad(uid, "DURATION", &l.text, e))?;
                if parse_duration(&v).is_none() {
                    return Err(bad(uid, "DURATION", &v, "expected e.g. PT1H30M".into()));
                }
                p.duration = Some(v);
            }
            "RECURRENCE-ID" if rid.is_none() => {
                let t = time_of(uid, l)?;
                let future = split_line(&l.text)
                    .ok()
                    .and_then(|s| s.param("RANGE"))
                    .is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE"));
                rid = Some((t, future));
            }
            "RRULE" if p.rrule.is_none() => {
                p.rrule = split_line(&l.text).ok().map(|s| s.value.trim().to_string());
            }
            "RDATE" => p.rdate.push(l.text.clone()),
            "EXDATE" => p.exdate.push(l.text.clone()),
            "STATUS" if p.status.is_none() => {
                p.status = Some(value_text(l).trim().to_ascii_uppercase());
            }
            "ORGANIZER" if p.organizer.is_none() => p.organizer = address_of(l),
            "ATTENDEE" => p.attendees.extend(address_of(l)),
            "SEQUENCE" if p.sequence.is_none() => {
                p.sequence = split_line(&l.text)
                    .ok()
                    .and_then(|s| s.value.trim().parse().ok());
            }
            "LAST-MODIFIED" if p.last_modified.is_none() => p.last_modified = utc_of(l),
            "DTSTAMP" if p.dtstamp.is_none() => p.dtstamp = utc_of(l),
            _ => {}
        }
    }
    Ok((p, rid))
}

/// Parses `[+-]P[nW][nD][T[nH][nM][nS]]` into (days, seconds).
fn parse_duration(s: &str) -> Option<(i64, i64)> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let s = s.strip_prefix('P').or_else(|| s.strip_prefix('p'))?;
    let (mut days, mut secs, mut num, mut in_time, mut any) =
        (0i64, 0i64, String::new(), false, false);
    for c in s.chars() {
        match c.to_ascii_uppercase() {
            '0'..='9' => num.push(c),
            'T' if !in_time && num.is_empty() => in_time = true,
            u @ ('W' | 'D' | 'H' | 'M' | 'S') => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                any = true;
                match (u, in_time) {
                    ('W', false) => days = days.checked_add(n.checked_mul(7)?)?,
                    ('D', false) => days = days.checked_add(n)?,
                    ('H', true) => secs = secs.checked_add(n.checked_mul(3600)?)?,
                    ('M', true) => secs = secs.checked_add(n.checked_mul(60)?)?,
                    ('S', true) => secs = secs.checked_add(n)?,
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
    if !any || !num.is_empty() {
        return None;
    }
    Some(if neg { (-days, -secs) } else { (days, secs) })
}

fn date_list(lines: &[String]) -> Vec<CalTime> {
    date_values(lines)
        .into_iter()
        .filter(|(_, period_end)| period_end.is_none())
        .map(|(t, _)| t)
        .collect()
}

/// The values of date lines (EXDATE, RDATE), typed with their TZID and
/// VALUE=DATE; a period (`start/end`, RDATE) with its end as written.
fn date_values(lines: &[String]) -> Vec<(CalTime, Option<String>)> {
    let mut out = Vec::new();
    for l in lines {
        let Ok(sp) = split_line(l) else { continue };
        let value_date = sp
            .param("VALUE")
            .is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
        let tzid = sp.param("TZID");
        for v in sp.value.split(',') {
            let (start, end) = match v.split_once('/') {
                Some((a, b)) => (a, Some(b.trim().to_string())),
                None => (v, None),
            };
            if let Ok(t) = CalTime::from_ical(tzid.as_deref(), value_date, start) {
                out.push((t, end));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// parse

/// Parses a calendar resource into its items, one per UID (master and
/// overrides together), in the order their UIDs first appear. Components
/// other than VEVENT and VTODO are not items, but [`write`] keeps them.
///
/// # Errors
/// Text that is not one well-formed VCALENDAR (the line and what is wrong),
/// a VEVENT or VTODO without UID, one UID used by a VEVENT and a VTODO, two
/// masters or two overrides of one instance under one UID, and dates that
/// cannot be read. The caller reports the resource and goes on (C12).
pub fn parse(ics: &str) -> Result<Vec<CalItem>, IcalError> {
    let cal = parse_tree(ics)?;
    if cal.name != "VCALENDAR" {
        return Err(IcalError::NotCalendar(format!(
            "the text is a {}, not a VCALENDAR",
            cal.name
        )));
    }
    struct Acc {
        uid: String,
        kind: Kind,
        master: Option<(usize, Props)>,
        overrides: Vec<(usize, CalTime, bool, Props)>,
    }
    let mut accs: Vec<Acc> = Vec::new();
    for (i, n) in cal.body.iter().enumerate() {
        let Node::Comp(c) = n else { continue };
        let kind = match c.name.as_str() {
            "VEVENT" => Kind::Event,
            "VTODO" => Kind::Todo,
            _ => continue,
        };
        let uid = c
            .first("UID")
            .map(value_text)
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| IcalError::MissingUid {
                component: c.name.clone(),
                line: c.line,
            })?;
        let (props, rid) = props_of(&uid, c)?;
        let pos = match accs.iter().position(|a| a.uid == uid) {
            Some(p) => p,
            None => {
                accs.push(Acc {
                    uid: uid.clone(),
                    kind,
                    master: None,
                    overrides: Vec::new(),
                });
                accs.len() - 1
            }
        };
        let acc = &mut accs[pos];
        if acc.kind != kind {
            return Err(IcalError::MixedKinds { uid });
        }
        match rid {
            None if acc.master.is_some() => return Err(IcalError::DuplicateMaster { uid }),
            None => acc.master = Some((i, props)),
            Some((rid, _)) if acc.overrides.iter().any(|o| o.1 == rid) => {
                return Err(IcalError::DuplicateOverride {
                    uid,
                    recurrence_id: rid.to_string(),
                });
            }
            Some((rid, future)) => acc.overrides.push((i, rid, future, props)),
        }
    }
    let cal = Arc::new(cal);
    Ok(accs
        .into_iter()
        .map(|a| CalItem {
            uid: a.uid.clone(),
            kind: a.kind,
            has_master: a.master.is_some(),
            props: a.master.as_ref().map(|m| m.1.clone()).unwrap_or_default(),
            overrides: a
                .overrides
                .iter()
                .map(|(_, rid, future, p)| Override {
                    recurrence_id: rid.clone(),
                    this_and_future: *future,
                    props: p.clone(),
                })
                .collect(),
            src: Some(Src {
                cal: Arc::clone(&cal),
                uid: a.uid,
                master: a.master,
                overrides: a
                    .overrides
                    .into_iter()
                    .map(|(i, rid, _, p)| (i, rid, p))
                    .collect(),
            }),
        })
        .collect())
}

// ---------------------------------------------------------------------------
// write

/// The property groups the CRM side may change, in the order new
/// components get them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Dtstamp,
    Start,
    End,
    Duration,
    Due,
    Rrule,
    Rdate,
    Exdate,
    Summary,
    Description,
    Status,
    Organizer,
    Attendee,
    Sequence,
    LastModified,
}

const GROUPS: &[Group] = &[
    Group::Dtstamp,
    Group::Start,
    Group::End,
    Group::Duration,
    Group::Due,
    Group::Rrule,
    Group::Rdate,
    Group::Exdate,
    Group::Summary,
    Group::Description,
    Group::Status,
    Group::Organizer,
    Group::Attendee,
    Group::Sequence,
    Group::LastModified,
];

impl Group {
    /// The properties a change of this group replaces. A new DESCRIPTION
    /// also drops the alternative representations of the old one, which
    /// clients would show instead of it.
    fn names(self) -> &'static [&'static str] {
        match self {
            Group::Dtstamp => &["DTSTAMP"],
            Group::Start => &["DTSTART"],
            Group::End => &["DTEND"],
            Group::Duration => &["DURATION"],
            Group::Due => &["DUE"],
            Group::Rrule => &["RRULE"],
            Group::Rdate => &["RDATE"],
            Group::Exdate => &["EXDATE"],
            Group::Summary => &["SUMMARY"],
            Group::Description => &["DESCRIPTION", "X-ALT-DESC", "STYLED-DESCRIPTION"],
            Group::Status => &["STATUS"],
            Group::Organizer => &["ORGANIZER"],
            Group::Attendee => &["ATTENDEE"],
            Group::Sequence => &["SEQUENCE"],
            Group::LastModified => &["LAST-MODIFIED"],
        }
    }

    fn changed(self, a: &Props, b: &Props) -> bool {
        match self {
            Group::Dtstamp => a.dtstamp != b.dtstamp,
            Group::Start => a.start != b.start,
            Group::End => a.end != b.end,
            Group::Duration => a.duration != b.duration,
            Group::Due => a.due != b.due,
            Group::Rrule => a.rrule != b.rrule,
            Group::Rdate => a.rdate != b.rdate,
            Group::Exdate => a.exdate != b.exdate,
            Group::Summary => a.summary != b.summary,
            Group::Description => a.description != b.description,
            Group::Status => a.status != b.status,
            Group::Organizer => a.organizer != b.organizer,
            Group::Attendee => a.attendees != b.attendees,
            Group::Sequence => a.sequence != b.sequence,
            Group::LastModified => a.last_modified != b.last_modified,
        }
    }

    /// Changes that are a "significant revision" (RFC 5545 3.8.7.4).
    fn significant(self) -> bool {
        matches!(
            self,
            Group::Start
                | Group::End
                | Group::Duration
                | Group::Due
                | Group::Rrule
                | Group::Rdate
                | Group::Exdate
        )
    }
}

fn utc_text(t: &DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Rebuilds a content line from an old one: its parameters are kept in
/// order except those in `set` (replaced in place, or removed for None)
/// and `drop`; new ones are appended.
fn rebuild(
    name: &str,
    old: Option<&Line>,
    set: &[(&str, Option<String>)],
    drop: &[&str],
    value: &str,
) -> String {
    let mut params: Vec<(String, String)> = old
        .and_then(|l| split_line(&l.text).ok())
        .map(|s| {
            s.params
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    params.retain(|(n, _)| !drop.iter().any(|d| n.eq_ignore_ascii_case(d)));
    for (n, v) in set {
        let pos = params.iter().position(|(pn, _)| pn.eq_ignore_ascii_case(n));
        match (pos, v) {
            (Some(i), Some(v)) => params[i].1 = encode_param(v),
            (Some(i), None) => {
                params.remove(i);
            }
            (None, Some(v)) => params.push((n.to_string(), encode_param(v))),
            (None, None) => {}
        }
    }
    let mut s = name.to_string();
    for (n, v) in params {
        s.push(';');
        s.push_str(&n);
        s.push('=');
        s.push_str(&v);
    }
    s.push(':');
    s.push_str(value);
    s
}

fn time_line(name: &str, old: Option<&Line>, t: &CalTime) -> String {
    let set = [
        ("VALUE", t.is_date().then(|| "DATE".to_string())),
        ("TZID", t.tzid().map(str::to_string)),
    ];
    rebuild(name, old, &set, &[], &t.ical_value())
}

fn address_line(name: &str, old: Option<&Line>, a: &CalAddress) -> String {
    // Keep the old value's spelling when it is the same address.
    let value = old
        .and_then(|l| split_line(&l.text).ok())
        .map(|s| s.value.to_string())
        .filter(|v| normalize(v) == a.address)
        .unwrap_or_else(|| format!("mailto:{}", clean_raw(&a.address)));
    let set = [("CN", a.cn.clone()), ("PARTSTAT", a.partstat.clone())];
    rebuild(name, old, &set, &[], &value)
}

/// An RDATE or EXDATE line from the CRM side: exactly one such property
/// whose values are dates, date-times or (RDATE) periods; anything else
/// is dropped rather than written.
fn checked_raw(name: &str, text: &str) -> Option<String> {
    let t = clean_raw(text);
    let sp = split_line(&t).ok()?;
    if !sp.name.eq_ignore_ascii_case(name) {
        return None;
    }
    let value_date = sp
        .param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    let tzid = sp.param("TZID");
    let ok = sp.value.split(',').all(|v| {
        let (start, rest) = v.split_once('/').unwrap_or((v, ""));
        CalTime::from_ical(tzid.as_deref(), value_date, start).is_ok()
            && (rest.is_empty()
                || (name == "RDATE"
                    && (CalTime::from_ical(tzid.as_deref(), false, rest).is_ok()
                        || parse_duration(rest).is_some())))
    });
    ok.then_some(t)
}

/// The lines of one group for `new`, reusing `old_lines` where possible.
fn render(g: Group, new: &Props, old_lines: &[&Line]) -> Vec<String> {
    let first = |n: &str| old_lines.iter().copied().find(|l| l.name == n);
    match g {
        Group::Dtstamp => new
            .dtstamp
            .iter()
            .map(|t| format!("DTSTAMP:{}", utc_text(t)))
            .collect(),
        Group::LastModified => new
            .last_modified
            .iter()
            .map(|t| format!("LAST-MODIFIED:{}", utc_text(t)))
            .collect(),
        Group::Sequence => new
            .sequence
            .iter()
            .map(|n| format!("SEQUENCE:{n}"))
            .collect(),
        Group::Start => new
            .start
            .iter()
            .map(|t| time_line("DTSTART", first("DTSTART"), t))
            .collect(),
        Group::End => new
            .end
            .iter()
            .map(|t| time_line("DTEND", first("DTEND"), t))
            .collect(),
        Group::Due => new
            .due
            .iter()
            .map(|t| time_line("DUE", first("DUE"), t))
            .collect(),
        Group::Duration => new
            .duration
            .iter()
            .map(|d| format!("DURATION:{}", clean_raw(d).trim()))
            .collect(),
        Group::Rrule => new
            .rrule
            .iter()
            .map(|r| rebuild("RRULE", first("RRULE"), &[], &[], clean_raw(r).trim()))
            .collect(),
        Group::Rdate => new
            .rdate
            .iter()
            .filter_map(|l| checked_raw("RDATE", l))
            .collect(),
        Group::Exdate => new
            .exdate
            .iter()
            .filter_map(|l| checked_raw("EXDATE", l))
            .collect(),
        Group::Summary => new
            .summary
            .iter()
            .map(|s| {
                rebuild(
                    "SUMMARY",
                    first("SUMMARY"),
                    &[],
                    &["ALTREP"],
                    &escape_text(s),
                )
            })
            .collect(),
        Group::Description => new
            .description
            .iter()
            .map(|s| {
                rebuild(
                    "DESCRIPTION",
                    first("DESCRIPTION"),
                    &[],
                    &["ALTREP"],
                    &escape_text(s),
                )
            })
            .collect(),
        Group::Status => new
            .status
            .iter()
            .map(|s| {
                let v: String = s
                    .chars()
                    .filter(|c| is_name_char(*c))
                    .collect::<String>()
                    .to_ascii_uppercase();
                format!("STATUS:{v}")
            })
            .collect(),
        Group::Organizer => new
            .organizer
            .iter()
            .map(|a| address_line("ORGANIZER", first("ORGANIZER"), a))
            .collect(),
        Group::Attendee => {
            // Unchanged attendees keep their line verbatim (ROLE, RSVP, X-
            // parameters); changed ones keep their other parameters.
            let mut used = vec![false; old_lines.len()];
            let mut out = Vec::new();
            for a in &new.attendees {
                let found = old_lines.iter().enumerate().find(|(i, l)| {
                    !used[*i]
                        && l.name == "ATTENDEE"
                        && address_of(l).is_some_and(|o| o.address == a.address)
                });
                match found {
                    Some((i, l)) => {
                        used[i] = true;
                        if address_of(l).as_ref() == Some(a) {
                            out.push(l.text.clone());
                        } else {
                            out.push(address_line("ATTENDEE", Some(l), a));
                        }
                    }
                    None => out.push(address_line("ATTENDEE", None, a)),
                }
            }
            out
        }
    }
}

/// Applies the changes from `old` to `new` onto a component's body.
fn rewrite(comp: &mut Comp, old: &Props, new: &Props, existing: bool) {
    let mut new = new.clone();
    // A significant revision counts up SEQUENCE unless the caller set it.
    if existing
        && new.sequence == old.sequence
        && GROUPS
            .iter()
            .any(|g| g.significant() && g.changed(old, &new))
    {
        new.sequence = Some(old.sequence.unwrap_or(0).saturating_add(1));
    }
    for g in GROUPS {
        if !g.changed(old, &new) {
            continue;
        }
        let names = g.names();
        let old_lines: Vec<&Line> = comp
            .lines()
            .filter(|l| names.contains(&l.name.as_str()))
            .collect();
        let rendered: Vec<Node> = render(*g, &new, &old_lines).into_iter().map(line).collect();
        let at = comp
            .body
            .iter()
            .position(|n| matches!(n, Node::Line(l) if names.contains(&l.name.as_str())))
            .or_else(|| comp.body.iter().position(|n| matches!(n, Node::Comp(_))))
            .unwrap_or(comp.body.len());
        comp.body
            .retain(|n| !matches!(n, Node::Line(l) if names.contains(&l.name.as_str())));
        let at = at.min(comp.body.len());
        comp.body.splice(at..at, rendered);
    }
}

fn set_uid(comp: &mut Comp, uid: &str) {
    let text = format!("UID:{}", escape_text(uid));
    match comp.body.iter_mut().find_map(|n| match n {
        Node::Line(l) if l.name == "UID" => Some(l),
        _ => None,
    }) {
        Some(l) => l.text = text,
        None => comp.body.insert(0, line(text)),
    }
}

fn new_comp(kind: Kind, uid: &str, rid: Option<(&CalTime, bool)>) -> Comp {
    let mut c = Comp::new(kind.component());
    c.body.push(line(format!("UID:{}", escape_text(uid))));
    if let Some((t, future)) = rid {
        let mut l = time_line("RECURRENCE-ID", None, t);
        if future {
            l = l.replacen("RECURRENCE-ID", "RECURRENCE-ID;RANGE=THISANDFUTURE", 1);
        }
        c.body.push(line(l));
    }
    c
}

/// The VCALENDAR to write and the body indices of the item's components.
/// `timezones`: add the VTIMEZONEs the text lacks (for writing; hashing
/// and expansion resolve zones by name and need none).
fn build(item: &CalItem, timezones: bool) -> (Comp, Vec<usize>) {
    let empty = Props::default();
    let (mut cal, master_src, override_src, old_uid) = match &item.src {
        Some(s) => (
            Comp::clone(&s.cal),
            s.master.clone(),
            s.overrides.clone(),
            s.uid.clone(),
        ),
        None => {
            let mut c = Comp::new("VCALENDAR");
            c.body.push(line("VERSION:2.0".into()));
            c.body.push(line(format!("PRODID:{PRODID}")));
            (c, None, Vec::new(), item.uid.clone())
        }
    };
    let uid_changed = old_uid != item.uid;
    // Decide what becomes of each body component: kept, rewritten, dropped.
    let mut replaced: Vec<Option<Option<Comp>>> = vec![None; cal.body.len()];
    let mut fresh: Vec<Comp> = Vec::new();
    if let Some((i, old)) = &master_src {
        if item.has_master {
            if let Some(Node::Comp(c)) = cal.body.get(*i) {
                let mut c = c.clone();
                rewrite(&mut c, old, &item.props, true);
                if uid_changed {
                    set_uid(&mut c, &item.uid);
                }
                replaced[*i] = Some(Some(c));
            }
        } else {
            replaced[*i] = Some(None);
        }
    } else if item.has_master {
        let mut c = new_comp(item.kind, &item.uid, None);
        rewrite(&mut c, &empty, &item.props, false);
        fresh.push(c);
    }
    for (i, rid, old) in &override_src {
        match item.overrides.iter().find(|o| &o.recurrence_id == rid) {
            Some(o) => {
                if let Some(Node::Comp(c)) = cal.body.get(*i) {
                    let mut c = c.clone();
                    rewrite(&mut c, old, &o.props, true);
                    if uid_changed {
                        set_uid(&mut c, &item.uid);
                    }
                    replaced[*i] = Some(Some(c));
                }
            }
            None => replaced[*i] = Some(None),
        }
    }
    for o in &item.overrides {
        if override_src
            .iter()
            .any(|(_, rid, _)| rid == &o.recurrence_id)
        {
            continue;
        }
        let mut c = new_comp(
            item.kind,
            &item.uid,
            Some((&o.recurrence_id, o.this_and_future)),
        );
        rewrite(&mut c, &empty, &o.props, false);
        fresh.push(c);
    }

    let mut body = Vec::with_capacity(cal.body.len() + fresh.len());
    let mut ours = Vec::new();
    let last_own = replaced.iter().rposition(|r| r.is_some());
    let mut fresh_opt = Some(fresh);
    for (i, n) in std::mem::take(&mut cal.body).into_iter().enumerate() {
        match replaced[i].take() {
            Some(Some(c)) => {
                ours.push(body.len());
                body.push(Node::Comp(c));
            }
            Some(None) => {}
            None => body.push(n),
        }
        if Some(i) == last_own {
            for c in fresh_opt.take().unwrap_or_default() {
                ours.push(body.len());
                body.push(Node::Comp(c));
            }
        }
    }
    for c in fresh_opt.take().unwrap_or_default() {
        ours.push(body.len());
        body.push(Node::Comp(c));
    }
    cal.body = body;
    if timezones {
        add_timezones(&mut cal, &mut ours);
    }
    (cal, ours)
}

fn collect_tzids(c: &Comp, out: &mut Vec<String>) {
    for n in &c.body {
        match n {
            Node::Line(l) => {
                if let Some(z) = split_line(&l.text).ok().and_then(|s| s.param("TZID"))
                    && !out.contains(&z)
                {
                    out.push(z);
                }
            }
            Node::Comp(sub) => collect_tzids(sub, out),
        }
    }
}

fn collect_years(c: &Comp, years: &mut Vec<i32>) {
    for l in c.lines() {
        if matches!(
            l.name.as_str(),
            "DTSTART" | "DTEND" | "DUE" | "RECURRENCE-ID" | "RDATE" | "EXDATE"
        ) && let Ok(sp) = split_line(&l.text)
        {
            for v in sp.value.split(',') {
                let v = v.split('/').next().unwrap_or(v);
                if let Ok(t) = CalTime::from_ical(Some("x"), false, v) {
                    years.push(t.year());
                }
            }
        }
        if l.name == "RRULE"
            && let Ok(sp) = split_line(&l.text)
        {
            for part in sp.value.split(';') {
                if let Some(u) = part.strip_prefix("UNTIL=")
                    && let Ok(t) = CalTime::from_ical(None, false, u)
                {
                    years.push(t.year());
                }
            }
        }
    }
}

/// Adds a VTIMEZONE for every TZID the item uses that the text does not
/// define, built by calcard from the IANA database for the years the
/// item spans (deterministic: no clock involved).
fn add_timezones(cal: &mut Comp, ours: &mut [usize]) {
    let mut used = Vec::new();
    let mut years = Vec::new();
    for &i in ours.iter() {
        if let Some(Node::Comp(c)) = cal.body.get(i) {
            collect_tzids(c, &mut used);
            collect_years(c, &mut years);
        }
    }
    let defined: Vec<String> = cal
        .body
        .iter()
        .filter_map(|n| match n {
            Node::Comp(c) if c.name == "VTIMEZONE" => c.value_of("TZID"),
            _ => None,
        })
        .map(|z| z.trim().to_string())
        .collect();
    let missing: Vec<String> = used.into_iter().filter(|z| !defined.contains(z)).collect();
    if missing.is_empty() {
        return;
    }
    let (Some(lo), Some(hi)) = (years.iter().min(), years.iter().max()) else {
        return;
    };
    let from_year = lo.saturating_sub(1).max(1900);
    let to_year = hi.saturating_add(2).max(from_year + 1);
    let ts = |y: i32| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp())
            .unwrap_or(0)
    };
    let mut generated = Vec::new();
    for z in missing {
        if let Some(c) = vtimezone(&z, ts(from_year), ts(to_year)) {
            generated.push(Node::Comp(c));
        }
    }
    if generated.is_empty() {
        return;
    }
    let at = cal
        .body
        .iter()
        .position(|n| matches!(n, Node::Comp(c) if c.name != "VTIMEZONE"))
        .unwrap_or(cal.body.len());
    let k = generated.len();
    cal.body.splice(at..at, generated);
    for i in ours.iter_mut() {
        if *i >= at {
            *i += k;
        }
    }
}

/// calcard's VTIMEZONE for an IANA or Windows zone name.
fn vtimezone(tzid: &str, from: i64, to: i64) -> Option<Comp> {
    let mut ical = ICalendar::parse("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").ok()?;
    ical.add_timezone(tzid, from, to)?;
    let tree = parse_tree(&ical.to_string()).ok()?;
    tree.body.into_iter().find_map(|n| match n {
        Node::Comp(c) if c.name == "VTIMEZONE" => Some(c),
        _ => None,
    })
}

/// Writes the item as a complete VCALENDAR: the original text with the
/// CRM-side changes applied (only changed properties are replaced; every
/// other line, component and parameter stays), a VTIMEZONE for each zone
/// used, CRLF line ends and lines folded at 75 octets. A significant
/// change (dates, recurrence) counts SEQUENCE up unless the caller set it.
/// Other components of the original text (other UIDs, VJOURNAL, ...) stay.
pub fn write(item: &CalItem) -> String {
    let (cal, _) = build(item, true);
    let mut out = String::new();
    serialize_comp(&mut out, &cal);
    out
}

// ---------------------------------------------------------------------------
// content_hash

fn canonical_line(l: &Line) -> String {
    let Ok(sp) = split_line(&l.text) else {
        return l.text.clone();
    };
    let name = sp.name.to_ascii_uppercase();
    let mut params: Vec<(String, String)> = sp
        .params
        .iter()
        .map(|(n, v)| {
            let vals: Vec<String> = split_param_list(v)
                .iter()
                .map(|x| decode_param(x))
                .collect();
            (n.to_ascii_uppercase(), vals.join(","))
        })
        .collect();
    // A re-serialiser may spell out the default value type.
    params.retain(|(n, v)| {
        !(n == "VALUE" && (v.eq_ignore_ascii_case("DATE-TIME") || v.eq_ignore_ascii_case("TEXT")))
    });
    params.sort();
    let value = match name.as_str() {
        "ORGANIZER" | "ATTENDEE" => normalize(sp.value),
        "RRULE" | "EXRULE" => {
            let mut parts: Vec<String> = sp
                .value
                .split(';')
                .map(|p| p.trim().to_ascii_uppercase())
                .collect();
            parts.sort();
            parts.join(";")
        }
        "SUMMARY" | "DESCRIPTION" | "LOCATION" | "COMMENT" | "CATEGORIES" | "CONTACT"
        | "RESOURCES" => escape_text(&unescape_text(sp.value)),
        _ => sp.value.to_string(),
    };
    let mut s = name;
    for (n, v) in params {
        s.push(';');
        s.push_str(&n);
        s.push('=');
        s.push_str(&v);
    }
    s.push(':');
    s.push_str(&value);
    s
}

/// Splits a raw parameter value list at commas outside quotes.
fn split_param_list(raw: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in raw.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&raw[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&raw[start..]);
    out
}

fn canonical_comp(c: &Comp) -> String {
    let mut lines: Vec<String> = c
        .lines()
        .filter(|l| !VOLATILE.contains(&l.name.as_str()))
        .map(canonical_line)
        .collect();
    lines.sort();
    let mut subs: Vec<String> = c
        .body
        .iter()
        .filter_map(|n| match n {
            Node::Comp(s) => Some(canonical_comp(s)),
            Node::Line(_) => None,
        })
        .collect();
    subs.sort();
    let mut s = format!("BEGIN:{}\n", c.name);
    for l in lines {
        s.push_str(&l);
        s.push('\n');
    }
    for sub in subs {
        s.push_str(&sub);
    }
    s.push_str(&format!("END:{}\n", c.name));
    s
}

/// SHA-256 (lower-case hex) of the item's semantic content: its
/// components as they would be written, without [`VOLATILE`] properties,
/// with property and parameter order, folding, line ends, name case,
/// quoting and address case ignored. VTIMEZONE definitions are left out
/// (the TZID each time names is in). Equal hashes: nothing changed (C11).
pub fn content_hash(item: &CalItem) -> String {
    let (cal, ours) = build(item, false);
    let mut comps: Vec<String> = ours
        .iter()
        .filter_map(|&i| match cal.body.get(i) {
            Some(Node::Comp(c)) => Some(canonical_comp(c)),
            _ => None,
        })
        .collect();
    comps.sort();
    let mut h = Sha256::new();
    for c in comps {
        h.update(c.as_bytes());
    }
    hex::encode(h.finalize())
}

// ---------------------------------------------------------------------------
// occurrences

/// One instance of an item in a window (C4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    /// The instance of the series this is (RECURRENCE-ID), in the master's
    /// representation; None for an item that does not recur.
    pub recurrence_id: Option<CalTime>,
    /// When it starts, in the representation of the component it comes
    /// from (all-day stays a date, floating stays floating, a zone stays
    /// that zone). A task without DTSTART starts at its DUE.
    pub start: CalTime,
    /// DTEND / start + DURATION, or DUE for a task with DTSTART.
    pub end: Option<CalTime>,
    /// Index into [`CalItem::overrides`] when this instance is overridden.
    pub overridden: Option<usize>,
}

/// The representation an instance time is given in.
fn represent(template: &CalTime, t: &DateTime<Tz>) -> CalTime {
    match template {
        CalTime::Date(_) => CalTime::Date(t.naive_local().date()),
        CalTime::Floating(_) => CalTime::Floating(t.naive_local()),
        CalTime::Utc(_) => CalTime::Utc(t.with_timezone(&Utc).naive_utc()),
        CalTime::Zoned { tzid, .. } => {
            let local = if t.timezone().is_floating() {
                t.naive_local()
            } else {
                match Tz::from_str(tzid) {
                    Ok(tz) => t.with_timezone(&tz).naive_local(),
                    Err(()) => t.naive_local(),
                }
            };
            CalTime::Zoned {
                tzid: tzid.clone(),
                local,
            }
        }
    }
}

fn instant_of(t: &DateTime<Tz>) -> DateTime<Utc> {
    if t.timezone().is_floating() {
        t.naive_local().and_utc()
    } else {
        t.with_timezone(&Utc)
    }
}

/// How many instances calcard must generate from DTSTART to reach `to`
/// (its expansion counts instances, it has no window).
fn expand_limit(rrule: Option<&str>, start: NaiveDateTime, to: DateTime<Utc>) -> usize {
    const CAP: usize = 2_000_000;
    let Some(rule) = rrule else { return 64 };
    let mut freq_secs: i64 = 86_400;
    let mut interval: i64 = 1;
    let mut mult: usize = 1;
    for part in rule.split(';') {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let k = k.trim().to_ascii_uppercase();
        match k.as_str() {
            "FREQ" => {
                freq_secs = match v.trim().to_ascii_uppercase().as_str() {
                    "YEARLY" => 365 * 86_400,
                    "MONTHLY" => 28 * 86_400,
                    "WEEKLY" => 7 * 86_400,
                    "HOURLY" => 3_600,
                    "MINUTELY" => 60,
                    "SECONDLY" => 1,
                    _ => 86_400,
                }
            }
            "INTERVAL" => interval = v.trim().parse().unwrap_or(1).max(1),
            k if k.starts_with("BY") && k != "BYSETPOS" => {
                let n = v.split(',').count().max(1);
                // A weekday without ordinal recurs up to 5 times a month.
                let n = if k == "BYDAY" { n * 5 } else { n };
                mult = mult.saturating_mul(n).min(CAP);
            }
            _ => {}
        }
    }
    let span = (to.naive_utc() - start).num_seconds().max(0);
    let periods = (span / freq_secs / interval).saturating_add(2) as usize;
    periods.saturating_mul(mult).saturating_add(64).min(CAP)
}

/// How a TZID of this item's text reads: its VTIMEZONEs (also custom
/// names with an `X-LIC-LOCATION` or `X-MICROSOFT-CDO-TZID`), else IANA
/// and Windows names (calcard); a VTIMEZONE none of these name is
/// evaluated from its own observances (RFC 5545 3.6.5); an unknown name
/// without a definition reads as floating (as calcard does).
struct Zones<'a> {
    known: calcard::icalendar::timezone::TzResolver<&'a str>,
    custom: std::collections::HashMap<String, CustomZone>,
}

impl Zones<'_> {
    /// The wall time `local` in zone `tzid`; None in a DST gap.
    fn place(&self, tzid: &str, local: &NaiveDateTime) -> Option<DateTime<Tz>> {
        match (self.known.resolve(tzid), self.custom.get(tzid)) {
            (None, Some(c)) => {
                let off = c.offset_of_local(local);
                Tz::Fixed(chrono::FixedOffset::east_opt(off)?)
                    .from_local_datetime(local)
                    .earliest()
            }
            _ => self
                .known
                .resolve_or_default(Some(tzid))
                .from_local_datetime(local)
                .earliest(),
        }
    }

    /// The wall time in zone `tzid` of the instant `utc`; None for a zone
    /// read as floating.
    fn wall_of(&self, tzid: &str, utc: &NaiveDateTime) -> Option<NaiveDateTime> {
        match (self.known.resolve(tzid), self.custom.get(tzid)) {
            (None, Some(c)) => Some(*utc + TimeDelta::seconds(i64::from(c.offset_at(utc)))),
            (Some(tz), _) if !tz.is_floating() => Some(tz.from_utc_datetime(utc).naive_local()),
            _ => None,
        }
    }
}

/// A VTIMEZONE's observances as onsets in UTC with the offset from then on.
struct CustomZone {
    /// (onset in UTC, TZOFFSETTO in seconds), sorted.
    onsets: Vec<(NaiveDateTime, i32)>,
    /// The TZOFFSETFROM of the first onset: the offset before it.
    before: i32,
}

impl CustomZone {
    /// Reads a VTIMEZONE: each STANDARD/DAYLIGHT's DTSTART, RDATEs and
    /// RRULE instances (until 2200) are onsets. None without any.
    fn of(c: &Comp) -> Option<CustomZone> {
        fn offset(v: &str) -> Option<i32> {
            let v = v.trim();
            let (sign, digits) = match v.split_at_checked(1)? {
                ("+", d) => (1, d),
                ("-", d) => (-1, d),
                _ => return None,
            };
            let n = |r: std::ops::Range<usize>| -> Option<i32> {
                digits.get(r).map_or(Some(0), |x| x.parse().ok())
            };
            Some(sign * (n(0..2)? * 3600 + n(2..4)? * 60 + n(4..6)?))
        }
        let mut onsets = Vec::new();
        let mut first: Option<(NaiveDateTime, i32)> = None;
        for n in &c.body {
            let Node::Comp(ob) = n else { continue };
            if ob.name != "STANDARD" && ob.name != "DAYLIGHT" {
                continue;
            }
            let (Some(from), Some(to)) = (
                ob.value_of("TZOFFSETFROM").and_then(|v| offset(&v)),
                ob.value_of("TZOFFSETTO").and_then(|v| offset(&v)),
            ) else {
                continue;
            };
            let Some(start) = ob
                .value_of("DTSTART")
                .and_then(|v| NaiveDateTime::parse_from_str(v.trim(), "%Y%m%dT%H%M%S").ok())
            else {
                continue;
            };
            let mut locals = vec![start];
            let rdates: Vec<String> = ob
                .lines()
                .filter(|l| l.name == "RDATE")
                .map(|l| l.text.clone())
                .collect();
            locals.extend(date_list(&rdates).iter().map(CalTime::local));
            if let Some(rule) = ob.value_of("RRULE") {
                let text = format!(
                    "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:tz\r\nDTSTART:{}\r\nRRULE:{}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                    start.format("%Y%m%dT%H%M%S"),
                    clean_raw(&rule)
                );
                if let Ok(ical) = ICalendar::parse(&text) {
                    let years = (2200 - start.year()).clamp(1, 700) as usize;
                    for ev in ical.expand_dates(Tz::Floating, years * 2).events {
                        if ev.start.naive_local().year() > 2200 {
                            break;
                        }
                        locals.push(ev.start.naive_local());
                    }
                }
            }
            for l in locals {
                let utc = l - TimeDelta::seconds(i64::from(from));
                if first.is_none_or(|(u, _)| utc < u) {
                    first = Some((utc, from));
                }
                onsets.push((utc, to));
            }
        }
        onsets.sort();
        onsets.dedup();
        let (_, before) = first?;
        Some(CustomZone { onsets, before })
    }

    /// The offset in force at the instant `utc`.
    fn offset_at(&self, utc: &NaiveDateTime) -> i32 {
        let i = self.onsets.partition_point(|(u, _)| u <= utc);
        match i {
            0 => self.before,
            _ => self.onsets[i - 1].1,
        }
    }

    /// The offset of a wall time (the earlier one in an overlap).
    fn offset_of_local(&self, local: &NaiveDateTime) -> i32 {
        let guess = self.offset_at(local);
        let utc = *local - TimeDelta::seconds(i64::from(guess));
        let off = self.offset_at(&utc);
        if off == guess {
            return off;
        }
        // Near a transition: the offset that reproduces the wall time.
        let again = *local - TimeDelta::seconds(i64::from(off));
        if self.offset_at(&again) == off {
            off
        } else {
            guess
        }
    }
}

/// A time on calcard's clock: dates and floating times floating, UTC in
/// UTC, a zone resolved by name. None for a wall time that does not exist
/// in its zone (DST gap).
fn on_clock(t: &CalTime, zones: &Zones<'_>) -> Option<DateTime<Tz>> {
    match t {
        CalTime::Date(_) | CalTime::Floating(_) => {
            Tz::Floating.from_local_datetime(&t.local()).earliest()
        }
        CalTime::Utc(n) => Some(Tz::UTC.from_utc_datetime(n)),
        CalTime::Zoned { tzid, local } => zones.place(tzid, local),
    }
}

/// Whether `t`, an instance of a series, is the instance `c` names (a
/// RECURRENCE-ID, EXDATE or RDATE value). RFC 5545 3.8.4.4 / 3.8.5.1: the
/// same instant; by day for an all-day series (Exchange writes DATE-TIME
/// RECURRENCE-IDs for its all-day instances) or an all-day value; a
/// floating value on a zoned series is that wall time in the series' zone.
fn names_instance(all_day: bool, t: &DateTime<Tz>, c: &CalTime, zones: &Zones<'_>) -> bool {
    if all_day || c.is_date() {
        return t.naive_local().date() == c.local().date();
    }
    if let CalTime::Floating(local) = c {
        return t.naive_local() == *local;
    }
    on_clock(c, zones).is_some_and(|ct| instant_of(&ct) == instant_of(t))
}

/// The difference `to - from` of two times of one component: whole days
/// between dates, wall time within one zone, else exact.
fn span(from: &CalTime, to: &CalTime, zones: &Zones<'_>) -> Option<TimeDelta> {
    let same_clock = match (from, to) {
        (CalTime::Date(_), CalTime::Date(_))
        | (CalTime::Floating(_), CalTime::Floating(_))
        | (CalTime::Utc(_), CalTime::Utc(_)) => true,
        (CalTime::Zoned { tzid: a, .. }, CalTime::Zoned { tzid: b, .. }) => a == b,
        _ => false,
    };
    if same_clock {
        return Some(to.local() - from.local());
    }
    Some(instant_of(&on_clock(to, zones)?) - instant_of(&on_clock(from, zones)?))
}

/// `t` moved by a wall-time `delta` in its own zone, written like `template`.
fn moved(t: &DateTime<Tz>, delta: TimeDelta, template: &CalTime) -> Option<CalTime> {
    Some(represent(template, &wall_moved(t, delta)?))
}

/// The end of an instance of `props` that starts at `start` (its own start
/// or a recurrence's): the span DTSTART..DTEND (DUE for a task with
/// DTSTART), else DURATION; None when the component gives no end.
fn end_of(
    props: &Props,
    kind: Kind,
    start: &CalTime,
    start_t: &DateTime<Tz>,
    zones: &Zones<'_>,
) -> Option<CalTime> {
    match (kind, &props.start, &props.due) {
        (Kind::Todo, None, Some(_)) => None,
        (Kind::Todo, Some(s), Some(due)) => moved(start_t, span(s, due, zones)?, due),
        // DTEND before DURATION when a client wrote both (Thunderbird's
        // moved instances; RFC 5545 3.6.1 allows only one), as
        // `Props::effective_end` reads them.
        _ => match (&props.start, &props.end, &props.duration) {
            (Some(s), Some(e), _) => moved(start_t, span(s, e, zones)?, e),
            (_, _, Some(d)) => start.plus_duration(d),
            _ => None,
        },
    }
}

/// RRULE with a UTC UNTIL rewritten to the wall time of the series' zone:
/// calcard compares UNTIL with the instances' wall times, so an instance
/// exactly on UNTIL (RFC 5545 3.3.10: UNTIL is inclusive) east of UTC was
/// dropped, and one past it west of UTC was kept.
fn until_on_wall_clock(rrule: &str, start: &CalTime, zones: &Zones<'_>) -> String {
    let CalTime::Zoned { tzid, .. } = start else {
        return rrule.to_string();
    };
    rrule
        .split(';')
        .map(|part| {
            let Some((k, v)) = part.split_once('=') else {
                return part.to_string();
            };
            let utc = v
                .trim()
                .strip_suffix(['Z', 'z'])
                .and_then(|b| NaiveDateTime::parse_from_str(b, "%Y%m%dT%H%M%S").ok());
            match utc.and_then(|u| zones.wall_of(tzid, &u)) {
                Some(wall) if k.trim().eq_ignore_ascii_case("UNTIL") => {
                    format!("UNTIL={}", wall.format("%Y%m%dT%H%M%S"))
                }
                _ => part.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// RDATE values as (start, end): dates and date-times without an end,
/// periods (`start/end` or `start/duration`) with theirs.
fn rdate_values(lines: &[String]) -> Vec<(CalTime, Option<CalTime>)> {
    date_values(lines)
        .into_iter()
        .map(|(start, period_end)| {
            let tzid = start.tzid().map(str::to_string);
            let end = period_end.and_then(|b| {
                if b.starts_with(['P', '+', '-']) {
                    start.plus_duration(&b)
                } else {
                    CalTime::from_ical(tzid.as_deref(), false, &b).ok()
                }
            });
            (start, end)
        })
        .collect()
}

/// One instance of the recurrence set before overrides: its start on
/// calcard's clock and, for an RDATE period, its own end.
struct Instance {
    t: DateTime<Tz>,
    end: Option<CalTime>,
}

/// The instances of an item that overlap `[from, to)`, sorted by start
/// (C4). The recurrence set is RFC 5545 3.8.5: the RRULE's instances
/// (calcard's iterator, across DST in the series' zone; UNTIL inclusive),
/// plus the RDATEs (an RDATE that is already an instance counts once),
/// less the EXDATEs (also an RDATE's); then each overridden instance
/// (RECURRENCE-ID, 3.8.4.4) takes its override's times, and an override
/// with `RANGE=THISANDFUTURE` also moves every later instance by its shift
/// and gives them its duration. An all-day series matches a DATE-TIME
/// RECURRENCE-ID by day (Exchange). An override whose instance is not in
/// the set still shows, at its own time. Floating times and dates are
/// placed in the window as if UTC.
///
/// # Errors
/// A series calcard cannot expand (a bad RRULE, a DTSTART that does not
/// exist in its zone).
pub fn occurrences(
    item: &CalItem,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Occurrence>, IcalError> {
    Ok(timed_occurrences(item, from, to)?
        .into_iter()
        .map(|t| t.occurrence)
        .collect())
}

/// An [`Occurrence`] with its start and end as instants (zones resolved as
/// the item's text defines them; floating times and dates as if UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedOccurrence {
    pub start: DateTime<Utc>,
    /// None when the occurrence has no end.
    pub end: Option<DateTime<Utc>>,
    pub occurrence: Occurrence,
}

/// [`occurrences`] with their instants.
///
/// # Errors
/// As [`occurrences`].
pub fn timed_occurrences(
    item: &CalItem,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<TimedOccurrence>, IcalError> {
    let expand_err = |problem: String| IcalError::Expand {
        uid: item.uid.clone(),
        problem,
    };
    // The zones: the item's text's VTIMEZONEs; and for an RRULE, the
    // series reduced to its DTSTART and RRULE for calcard's iterator.
    let master_start = if item.has_master {
        item.props.start.clone().or_else(|| item.props.due.clone())
    } else {
        None
    };
    let mut text =
        String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crmsync//expand//EN\r\n");
    if let Some(src) = &item.src {
        for n in &src.cal.body {
            if let Node::Comp(c) = n
                && c.name == "VTIMEZONE"
            {
                serialize_comp(&mut text, c);
            }
        }
    }
    let zones_only = ICalendar::parse(format!("{text}END:VCALENDAR\r\n"))
        .map_err(|e| expand_err(format!("{e:?}")))?;
    let known = zones_only.build_tz_resolver();
    let mut custom = std::collections::HashMap::new();
    if let Some(src) = &item.src {
        for n in &src.cal.body {
            if let Node::Comp(c) = n
                && c.name == "VTIMEZONE"
                && let Some(tzid) = c.value_of("TZID")
                && known.resolve(&tzid).is_none()
                && let Some(zone) = CustomZone::of(c)
            {
                custom.insert(tzid, zone);
            }
        }
    }
    let zones = Zones { known, custom };
    let master_t = match &master_start {
        Some(s) => Some(on_clock(s, &zones).ok_or_else(|| {
            expand_err(format!(
                "its start {s} does not exist in its time zone (a DST gap)"
            ))
        })?),
        None => None,
    };
    let all_day = master_start.as_ref().is_some_and(CalTime::is_date);

    let mut set: Vec<Instance> = Vec::new();
    match (&master_start, &master_t, &item.props.rrule) {
        (Some(start), Some(_), Some(rrule)) => {
            push_folded(&mut text, "BEGIN:VEVENT");
            push_folded(&mut text, "UID:expand");
            push_folded(&mut text, &time_line("DTSTART", None, start));
            push_folded(
                &mut text,
                &format!(
                    "RRULE:{}",
                    clean_raw(&until_on_wall_clock(rrule, start, &zones))
                ),
            );
            push_folded(&mut text, "END:VEVENT");
            text.push_str("END:VCALENDAR\r\n");
            let ical = ICalendar::parse(&text).map_err(|e| expand_err(format!("{e:?}")))?;
            // Instances moved into the window from past its end.
            let reach = item
                .overrides
                .iter()
                .filter_map(|o| span(&o.recurrence_id, o.props.start.as_ref()?, &zones))
                .map(|d| d.abs())
                .max()
                .unwrap_or_default();
            let until = to.checked_add_signed(reach).unwrap_or(to);
            let limit = expand_limit(Some(rrule.as_str()), start.local(), until);
            let expanded = ical.expand_dates(Tz::Floating, limit);
            if let Some(e) = expanded.errors.first() {
                return Err(expand_err(e.error.to_string()));
            }
            for ev in expanded.events {
                // calcard iterates wall times; each is placed in the series'
                // zone here (a DST overlap: the earlier time; a custom zone:
                // by its own observances).
                let t = match start {
                    CalTime::Zoned { tzid, .. } if ev.start.timezone().is_floating() => zones
                        .place(tzid, &ev.start.naive_local())
                        .unwrap_or(ev.start),
                    _ => ev.start,
                };
                set.push(Instance { t, end: None });
            }
        }
        (Some(_), Some(start_t), None) => set.push(Instance {
            t: *start_t,
            end: None,
        }),
        _ => {}
    }
    // RDATE: added unless already an instance (3.8.5.2).
    if item.has_master {
        for (rdate, end) in rdate_values(&item.props.rdate) {
            // Only the same value is the same instance: an RDATE of a day
            // on a series with times is a day of its own.
            let same = |i: &Instance| {
                rdate.is_date() == all_day && names_instance(all_day, &i.t, &rdate, &zones)
            };
            if set.iter().any(same) {
                continue;
            }
            if let Some(t) = on_clock(&rdate, &zones) {
                set.push(Instance { t, end });
            }
        }
    }
    // EXDATE: removes RRULE and RDATE instances alike (3.8.5.1).
    let exdates = item.props.exdate_times();
    set.retain(|i| {
        !exdates
            .iter()
            .any(|x| names_instance(all_day, &i.t, x, &zones))
    });
    set.sort_by_key(|i| instant_of(&i.t));

    // Overrides (3.8.4.4), the later THISANDFUTURE ranges winning.
    let mut used = vec![false; item.overrides.len()];
    let mut ranges: Vec<(DateTime<Utc>, usize)> = Vec::new();
    for (k, o) in item.overrides.iter().enumerate() {
        if o.this_and_future
            && let Some(t) = on_clock(&o.recurrence_id, &zones)
        {
            ranges.push((instant_of(&t), k));
        }
    }
    ranges.sort();
    let mut out: Vec<TimedOccurrence> = Vec::new();
    let mut push =
        |start: CalTime, end: Option<CalTime>, rid: Option<CalTime>, ov: Option<usize>| {
            let Some(s_inst) = on_clock(&start, &zones).map(|t| instant_of(&t)) else {
                return;
            };
            let end_inst = end
                .as_ref()
                .and_then(|e| on_clock(e, &zones))
                .map(|t| instant_of(&t));
            let e_inst = end_inst.unwrap_or(s_inst);
            let inside = s_inst < to && (e_inst > from || (e_inst == s_inst && s_inst >= from));
            if inside {
                out.push(TimedOccurrence {
                    start: s_inst,
                    end: end_inst,
                    occurrence: Occurrence {
                        recurrence_id: rid,
                        start,
                        end,
                        overridden: ov,
                    },
                });
            }
        };
    // An override at its own time: its DTSTART (else DUE, else the
    // instance it replaces) and its own end.
    let at_own_time = |o: &Override| {
        let start = o
            .props
            .start
            .clone()
            .or_else(|| o.props.due.clone())
            .unwrap_or_else(|| o.recurrence_id.clone());
        let end =
            on_clock(&start, &zones).and_then(|t| end_of(&o.props, item.kind, &start, &t, &zones));
        (start, end)
    };
    let recurring = item.props.rrule.is_some() || !item.props.rdate.is_empty();
    for inst in &set {
        let Some(tpl) = &master_start else { break };
        let own = represent(tpl, &inst.t);
        let rid = recurring.then(|| own.clone());
        let single = item.overrides.iter().position(|o| {
            !o.this_and_future && names_instance(all_day, &inst.t, &o.recurrence_id, &zones)
        });
        let range = ranges
            .iter()
            .rev()
            .find(|(r, _)| *r <= instant_of(&inst.t))
            .map(|&(_, k)| k);
        match (single, range) {
            (Some(k), _) => {
                used[k] = true;
                let o = &item.overrides[k];
                let (start, end) = at_own_time(o);
                push(start, end, Some(o.recurrence_id.clone()), Some(k));
            }
            (None, Some(k)) => {
                // This instance or a later one of a THISANDFUTURE range:
                // shifted like the override's own instance, its duration.
                used[k] = true;
                let o = &item.overrides[k];
                let o_start = o.props.start.clone().or_else(|| o.props.due.clone());
                let shift = o_start
                    .as_ref()
                    .and_then(|s| span(&o.recurrence_id, s, &zones))
                    .unwrap_or_default();
                let Some(t) = wall_moved(&inst.t, shift) else {
                    continue;
                };
                let start = represent(o_start.as_ref().unwrap_or(tpl), &t);
                let end = end_of(&o.props, item.kind, &start, &t, &zones);
                let rid = if names_instance(all_day, &inst.t, &o.recurrence_id, &zones) {
                    Some(o.recurrence_id.clone())
                } else {
                    rid
                };
                push(start, end, rid, Some(k));
            }
            (None, None) => {
                let end = match &inst.end {
                    // An RDATE period's end, written like the series.
                    Some(e) => on_clock(e, &zones).map(|t| represent(tpl, &t)),
                    None => end_of(&item.props, item.kind, &own, &inst.t, &zones),
                };
                push(own, end, rid, None);
            }
        }
    }
    // Overrides of no instance in the set (or of a series not in the text).
    for (k, o) in item.overrides.iter().enumerate() {
        if used[k] {
            continue;
        }
        let (start, end) = at_own_time(o);
        push(start, end, Some(o.recurrence_id.clone()), Some(k));
    }
    out.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then_with(|| a.occurrence.overridden.cmp(&b.occurrence.overridden))
    });
    Ok(out)
}

/// `t` moved by a wall-time `delta` in its own zone.
fn wall_moved(t: &DateTime<Tz>, delta: TimeDelta) -> Option<DateTime<Tz>> {
    let local = t.naive_local().checked_add_signed(delta)?;
    t.timezone().from_local_datetime(&local).earliest()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Joins lines with CRLF.
    fn ics(lines: &[&str]) -> String {
        let mut s = lines.join("\r\n");
        s.push_str("\r\n");
        s
    }

    const BERLIN: &[&str] = &[
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
    fn weekly() -> String {
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

    fn one(text: &str) -> CalItem {
        let mut items = parse(text).unwrap();
        assert_eq!(items.len(), 1);
        items.remove(0)
    }

    fn logical(text: &str) -> Vec<String> {
        unfold(text).into_iter().map(|(_, l)| l).collect()
    }

    fn zoned(s: &str) -> CalTime {
        CalTime::Zoned {
            tzid: "Europe/Berlin".into(),
            local: NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap(),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
    }

    #[test]
    fn parse_types_master_overrides_and_parties() {
        let it = one(&weekly());
        assert_eq!(
            (it.uid.as_str(), it.kind, it.has_master),
            ("weekly-1@test", Kind::Event, true)
        );
        let p = &it.props;
        assert_eq!(p.summary.as_deref(), Some("Weekly, sync; team"));
        assert_eq!(
            p.description.as_deref(),
            Some(
                "A long description that certainly needs folding because it is longer than seventy-five octets\nand has a second line."
            )
        );
        assert_eq!(p.start, Some(zoned("2024-03-05 10:00")));
        assert_eq!(p.rrule.as_deref(), Some("FREQ=WEEKLY;COUNT=8"));
        assert_eq!(
            p.exdate_times(),
            vec![zoned("2024-03-19 10:00"), zoned("2024-04-09 10:00")]
        );
        assert_eq!(p.sequence, Some(2));
        assert_eq!(p.last_modified, Some(utc("2024-01-02 00:00")));
        assert_eq!(
            p.attendees[0],
            CalAddress {
                address: "jane@acme.example".into(),
                cn: Some("Doe, Jane".into()),
                partstat: Some("ACCEPTED".into())
            }
        );
        assert_eq!(
            p.organizer.as_ref().map(|o| o.address.as_str()),
            Some("alice@us.example")
        );
        assert_eq!(it.overrides.len(), 2);
        assert_eq!(it.overrides[0].recurrence_id, zoned("2024-03-26 10:00"));
        assert_eq!(
            it.overrides[1].recurrence_id,
            CalTime::Utc(utc("2024-04-16 08:00").naive_utc())
        );
    }

    #[test]
    fn c4_c10_round_trip_unchanged_is_the_input_and_write_is_idempotent() {
        let text = weekly();
        let it = one(&text);
        let out = write(&it);
        // The same logical lines in the same order: nothing lost, nothing
        // normalised (RRULE part order, quoting, X- parameters, VALARM).
        assert_eq!(logical(&out), logical(&text));
        // Byte-stable once written by us.
        assert_eq!(write(&one(&out)), out);
        assert_eq!(content_hash(&one(&out)), content_hash(&it));
        assert_eq!(one(&out), one(&write(&one(&out))));
    }

    #[test]
    fn c10_valarm_x_props_categories_survive_a_crm_summary_change() {
        let mut it = one(&weekly());
        it.props.summary = Some("Weekly review".into());
        let out = write(&it);
        let before = logical(&weekly());
        let after = logical(&out);
        assert!(after.contains(&"SUMMARY:Weekly review".to_string()));
        // Every other line is still there, in order.
        let rest_before: Vec<&String> = before
            .iter()
            .filter(|l| !l.starts_with("SUMMARY:Weekly\\,"))
            .collect();
        let rest_after: Vec<&String> = after
            .iter()
            .filter(|l| *l != "SUMMARY:Weekly review")
            .collect();
        assert_eq!(rest_before, rest_after);
        // A summary is not a significant revision: SEQUENCE stays.
        assert_eq!(one(&out).props.sequence, Some(2));
        assert_ne!(content_hash(&one(&out)), content_hash(&one(&weekly())));
    }

    #[test]
    fn c10_significant_change_counts_sequence_up_once() {
        let mut it = one(&weekly());
        it.props.start = Some(zoned("2024-03-05 09:00"));
        it.props.set_end(Some(zoned("2024-03-05 10:00")));
        let out = write(&it);
        let back = one(&out);
        assert_eq!(back.props.sequence, Some(3));
        assert_eq!(back.props.start, Some(zoned("2024-03-05 09:00")));
        assert!(logical(&out).contains(&"DTSTART;TZID=Europe/Berlin:20240305T090000".to_string()));
        // Idempotent: writing the same edit again gives the same text.
        assert_eq!(write(&it), out);
        assert_eq!(write(&back), out);
    }

    #[test]
    fn c10_all_day_floating_utc_and_zoned_times_are_kept_exactly() {
        let text = ics(&[
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "BEGIN:VEVENT",
            "UID:a",
            "DTSTART;VALUE=DATE:20240101",
            "DTEND;VALUE=DATE:20240102",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:f",
            "DTSTART:20240101T090000",
            "DURATION:PT1H",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:u",
            "DTSTART:20240101T090000Z",
            "END:VEVENT",
            "BEGIN:VTODO",
            "UID:t",
            "DUE;TZID=W. Europe Standard Time:20240105T170000",
            "END:VTODO",
            "END:VCALENDAR",
        ]);
        let items = parse(&text).unwrap();
        let starts: Vec<String> = items
            .iter()
            .map(|i| {
                i.props
                    .start
                    .clone()
                    .or(i.props.due.clone())
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            starts,
            vec![
                "2024-01-01",
                "2024-01-01T09:00:00",
                "2024-01-01T09:00:00Z",
                "2024-01-05T17:00:00[W. Europe Standard Time]"
            ]
        );
        // Text form round-trips.
        for s in &starts {
            assert_eq!(&s.parse::<CalTime>().unwrap().to_string(), s);
        }
        assert_eq!(
            items[1].props.effective_end(),
            Some(CalTime::Floating(
                NaiveDateTime::parse_from_str("2024-01-01 10:00", "%Y-%m-%d %H:%M").unwrap()
            ))
        );
        // Moving each keeps its kind of time.
        let mut a = items[0].clone();
        a.props.start = Some(CalTime::Date(NaiveDate::from_ymd_opt(2024, 2, 1).unwrap()));
        assert!(logical(&write(&a)).contains(&"DTSTART;VALUE=DATE:20240201".to_string()));
        let mut t = items[3].clone();
        t.props.due = Some(CalTime::Zoned {
            tzid: "W. Europe Standard Time".into(),
            local: NaiveDateTime::parse_from_str("2024-01-06 12:00", "%Y-%m-%d %H:%M").unwrap(),
        });
        let out = write(&t);
        assert!(
            logical(&out).contains(&"DUE;TZID=W. Europe Standard Time:20240106T120000".to_string())
        );
        // The zone the text did not define gets a VTIMEZONE (from calcard).
        assert!(logical(&out).contains(&"TZID:W. Europe Standard Time".to_string()));
        assert_eq!(write(&one_of(&out, "t")), out);
    }

    fn one_of(text: &str, uid: &str) -> CalItem {
        parse(text)
            .unwrap()
            .into_iter()
            .find(|i| i.uid == uid)
            .unwrap()
    }

    #[test]
    fn injection_attempts_in_summary_description_and_cn_are_escaped() {
        let mut it = one(&weekly());
        it.props.summary = Some("Hi\r\nATTENDEE:mailto:evil@x.example\r\nEND:VEVENT".into());
        it.props.description = Some("a;b,c\\d\nBEGIN:VALARM\rX".into());
        it.props.attendees[1].cn = Some("Evil\"\r\nX-INJECTED:1;a:b".into());
        it.props.rrule = Some("FREQ=DAILY\r\nATTENDEE:mailto:evil@x.example".into());
        it.props
            .exdate
            .push("EXDATE:20240101T000000\r\nATTENDEE:mailto:evil@x.example".into());
        it.props
            .exdate
            .push("ATTENDEE:mailto:evil@x.example".into());
        let out = write(&it);
        assert!(!out.contains("\r\nATTENDEE:mailto:evil"), "{out}");
        assert!(!out.contains("\r\nX-INJECTED"), "{out}");
        assert!(!out.contains("\r\nEND:VEVENT\r\nEND:VEVENT"));
        let back = one(&out);
        assert_eq!(
            back.props.summary.as_deref(),
            Some("Hi\nATTENDEE:mailto:evil@x.example\nEND:VEVENT")
        );
        assert_eq!(
            back.props.description.as_deref(),
            Some("a;b,c\\d\nBEGIN:VALARM\nX")
        );
        assert_eq!(back.props.attendees.len(), 2);
        assert_eq!(
            back.props.attendees[1].cn.as_deref(),
            Some("Evil\"\nX-INJECTED:1;a:b")
        );
        // The garbled EXDATE and the ATTENDEE posing as one are dropped.
        assert_eq!(back.props.exdate.len(), 1);
        assert!(
            back.props
                .attendees
                .iter()
                .all(|a| a.address != "evil@x.example")
        );
    }

    #[test]
    fn folding_at_75_octets_never_splits_a_character() {
        let mut it = one(&weekly());
        it.props.summary = Some("Überprüfung der Äpfel — ".repeat(12));
        let out = write(&it);
        assert!(out.ends_with("END:VCALENDAR\r\n"));
        for phys in out.split("\r\n") {
            assert!(phys.len() <= 75, "{} octets: {phys}", phys.len());
            assert!(!phys.contains('\n') && !phys.contains('\r'));
        }
        assert_eq!(one(&out).props.summary, it.props.summary);
    }

    #[test]
    fn c12_broken_input_errors_name_what_is_wrong() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("BEGIN:VCARD\r\nEND:VCARD\r\n", "expected `BEGIN:VCALENDAR`"),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n",
                "never ended",
            ),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
                "END:VTODO where END:VEVENT",
            ),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                "has no UID",
            ),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nBROKEN LINE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                "line 4",
            ),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:2024-01-01\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                "DTSTART value",
            ),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nUID:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
                "both a VEVENT and a VTODO",
            ),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                "two series masters",
            ),
            (
                "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nBEGIN:VCALENDAR\r\n",
                "after END:VCALENDAR",
            ),
        ];
        for (text, want) in cases {
            let err = parse(text).expect_err(text).to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn c11_hash_ignores_volatile_properties_order_folding_and_case() {
        let base = one(&weekly());
        let mut text = weekly()
            .replace("DTSTAMP:20240101T000000Z", "DTSTAMP:20250505T101010Z")
            .replace("LAST-MODIFIED:20240102T000000Z", "LAST-MODIFIED:20250505T101010Z")
            .replace("SEQUENCE:2", "SEQUENCE:7")
            .replace(
                "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:new@nowhere.example",
                "attendee;partstat=NEEDS-ACTION:MAILTO:new@nowhere.example\r\nX-RADICALE-NAME:weekly.ics",
            )
            .replace("CATEGORIES:Sales,Team\r\nORGANIZER;CN=Alice", "ORGANIZER;CN=Alice")
            .replace(
                "DTSTART;TZID=Europe/Berlin:20240305T100000",
                "DTSTART;VALUE=DATE-TIME;TZID=\"Europe/Berlin\":20240305T100000",
            )
            .replace("RRULE:FREQ=WEEKLY;COUNT=8", "RRULE:COUNT=8;FREQ=WEEKLY\r\nCATEGORIES:Sales,Team");
        text = text.replace("\r\n", "\n");
        let other = one(&text);
        assert_eq!(content_hash(&other), content_hash(&base));
        let mut changed = base.clone();
        changed.overrides[0].props.summary = Some("x".into());
        assert_ne!(content_hash(&changed), content_hash(&base));
        let alarm = weekly().replace("TRIGGER:-PT15M", "TRIGGER:-PT5M");
        assert_ne!(content_hash(&one(&alarm)), content_hash(&base));
    }

    #[test]
    fn c3_attendee_changes_keep_other_parameters_and_lines() {
        let mut it = one(&weekly());
        it.props.attendees[0].partstat = Some("DECLINED".into());
        it.props.attendees.remove(1);
        it.props.attendees.push(CalAddress {
            address: "max@acme.example".into(),
            cn: Some("Max M".into()),
            partstat: None,
        });
        let out = logical(&write(&it));
        let att: Vec<&String> = out.iter().filter(|l| l.starts_with("ATTENDEE")).collect();
        assert_eq!(
            att,
            vec![
                "ATTENDEE;CN=\"Doe, Jane\";ROLE=REQ-PARTICIPANT;PARTSTAT=DECLINED;RSVP=TRUE:mailto:Jane@Acme.example",
                "ATTENDEE;CN=Max M:mailto:max@acme.example"
            ]
        );
    }

    #[test]
    fn c4_overrides_removed_added_and_changed_from_the_crm_side() {
        let mut it = one(&weekly());
        it.overrides.remove(1);
        it.overrides[0].props.start = Some(zoned("2024-03-27 15:00"));
        it.overrides.push(Override {
            recurrence_id: zoned("2024-04-23 10:00"),
            this_and_future: false,
            props: Props {
                start: Some(zoned("2024-04-24 10:00")),
                end: Some(zoned("2024-04-24 11:00")),
                summary: Some("Moved by the CRM".into()),
                ..Props::default()
            },
        });
        let out = write(&it);
        let back = one(&out);
        assert_eq!(back.overrides.len(), 2);
        assert_eq!(
            back.overrides[0].props.start,
            Some(zoned("2024-03-27 15:00"))
        );
        assert_eq!(back.overrides[0].props.sequence, Some(4));
        assert_eq!(back.overrides[1].recurrence_id, zoned("2024-04-23 10:00"));
        assert_eq!(
            back.overrides[1].props.summary.as_deref(),
            Some("Moved by the CRM")
        );
        assert_eq!(write(&back), out);
        // The master's VALARM is untouched.
        assert!(out.contains("TRIGGER:-PT15M"));
    }

    #[test]
    fn description_change_drops_stale_alternative_representations() {
        let text = weekly().replace(
            "X-FOO;",
            "X-ALT-DESC;FMTTYPE=text/html:<p>old</p>\r\nX-FOO;",
        );
        let mut it = one(&text);
        it.props.description = Some("new".into());
        let out = write(&it);
        assert!(!out.contains("X-ALT-DESC"));
        assert!(out.contains("DESCRIPTION:new\r\n"));
        assert!(out.contains("X-FOO;X-PARAM=\"a:b\":some value"));
    }

    #[test]
    fn other_uids_and_components_in_the_resource_are_kept() {
        let text = ics(&[
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "X-WR-CALNAME:Work",
            "BEGIN:VEVENT",
            "UID:one",
            "DTSTART:20240101T090000Z",
            "SUMMARY:One",
            "END:VEVENT",
            "BEGIN:VJOURNAL",
            "UID:j",
            "SUMMARY:Notes",
            "END:VJOURNAL",
            "BEGIN:VEVENT",
            "UID:two",
            "DTSTART:20240102T090000Z",
            "END:VEVENT",
            "END:VCALENDAR",
        ]);
        let mut items = parse(&text).unwrap();
        assert_eq!(
            items.iter().map(|i| i.uid.as_str()).collect::<Vec<_>>(),
            vec!["one", "two"]
        );
        items[0].props.summary = Some("Uno".into());
        let out = write(&items[0]);
        assert!(
            out.contains("X-WR-CALNAME:Work")
                && out.contains("SUMMARY:Notes")
                && out.contains("UID:two")
        );
        assert!(out.contains("SUMMARY:Uno"));
        // The hash covers only the item's own components.
        let mut two = items[1].clone();
        let h = content_hash(&two);
        two.props.summary = None;
        assert_eq!(content_hash(&two), h);
    }

    #[test]
    fn c3_new_item_from_the_crm_is_complete_and_deterministic() {
        let now = utc("2024-05-01 12:00");
        let mut it = CalItem::new("crmsync-42@test", Kind::Event, now);
        it.props.summary = Some("Call with Jane".into());
        it.props.start = Some(zoned("2024-05-02 10:00"));
        it.props.end = Some(zoned("2024-05-02 10:30"));
        it.props.rrule = Some("FREQ=WEEKLY;COUNT=3".into());
        it.props.organizer = Some(CalAddress {
            address: "alice@us.example".into(),
            cn: Some("Alice".into()),
            partstat: None,
        });
        let out = write(&it);
        assert!(out.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crmsync//"));
        let l = logical(&out);
        for want in [
            "BEGIN:VTIMEZONE",
            "TZID:Europe/Berlin",
            "UID:crmsync-42@test",
            "DTSTAMP:20240501T120000Z",
            "DTSTART;TZID=Europe/Berlin:20240502T100000",
            "ORGANIZER;CN=Alice:mailto:alice@us.example",
        ] {
            assert!(l.contains(&want.to_string()), "{want} missing in {out}");
        }
        assert_eq!(write(&it), out);
        let back = one(&out);
        assert_eq!(back.props.sequence, None);
        assert_eq!(write(&back), out);
        let occ = occurrences(&back, utc("2024-05-01 00:00"), utc("2024-06-01 00:00")).unwrap();
        assert_eq!(occ.len(), 3);
    }

    #[test]
    fn c4_weekly_berlin_series_with_exdates_and_moved_instances_across_dst() {
        let it = one(&weekly());
        let occ = occurrences(&it, utc("2024-01-01 00:00"), utc("2025-01-01 00:00")).unwrap();
        let got: Vec<(String, Option<String>, Option<usize>)> = occ
            .iter()
            .map(|o| {
                (
                    o.start.to_string(),
                    o.recurrence_id.as_ref().map(|r| r.to_string()),
                    o.overridden,
                )
            })
            .collect();
        let z = |d: &str| format!("{d}[Europe/Berlin]");
        assert_eq!(
            got,
            vec![
                (
                    z("2024-03-05T10:00:00"),
                    Some(z("2024-03-05T10:00:00")),
                    None
                ),
                (
                    z("2024-03-12T10:00:00"),
                    Some(z("2024-03-12T10:00:00")),
                    None
                ),
                // 03-19 is an EXDATE; 03-26 moved to Wednesday 14:00.
                (
                    z("2024-03-27T14:00:00"),
                    Some(z("2024-03-26T10:00:00")),
                    Some(0)
                ),
                // After the DST change: still 10:00 wall time.
                (
                    z("2024-04-02T10:00:00"),
                    Some(z("2024-04-02T10:00:00")),
                    None
                ),
                // 04-09 is an EXDATE; 04-16 moved to 16:00 (RECURRENCE-ID in UTC).
                (
                    z("2024-04-16T16:00:00"),
                    Some("2024-04-16T08:00:00Z".to_string()),
                    Some(1)
                ),
                (
                    z("2024-04-23T10:00:00"),
                    Some(z("2024-04-23T10:00:00")),
                    None
                ),
            ]
        );
        assert_eq!(occ[3].end, Some(zoned("2024-04-02 11:00")));
        // A window: only what overlaps it.
        let w = occurrences(&it, utc("2024-04-02 08:30"), utc("2024-04-16 15:00")).unwrap();
        let starts: Vec<String> = w.iter().map(|o| o.start.to_string()).collect();
        assert_eq!(
            starts,
            vec![z("2024-04-02T10:00:00"), z("2024-04-16T16:00:00")]
        );
    }

    #[test]
    fn c4_all_day_series_stays_all_day() {
        let it = one(&ics(&[
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "BEGIN:VEVENT",
            "UID:ad",
            "DTSTART;VALUE=DATE:20240131",
            "DTEND;VALUE=DATE:20240201",
            "RRULE:FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=4",
            "EXDATE;VALUE=DATE:20240229",
            "SUMMARY:Month end",
            "END:VEVENT",
            "END:VCALENDAR",
        ]));
        let occ = occurrences(&it, utc("2024-01-01 00:00"), utc("2025-01-01 00:00")).unwrap();
        let got: Vec<(String, String)> = occ
            .iter()
            .map(|o| (o.start.to_string(), o.end.as_ref().unwrap().to_string()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2024-01-31".into(), "2024-02-01".into()),
                ("2024-03-31".into(), "2024-04-01".into()),
                ("2024-04-30".into(), "2024-05-01".into()),
            ]
        );
    }

    #[test]
    fn c4_floating_utc_and_todo_with_due() {
        let text = ics(&[
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "BEGIN:VEVENT",
            "UID:fl",
            "DTSTART:20240101T090000",
            "DURATION:PT90M",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:ut",
            "DTSTART:20240101T090000Z",
            "DTEND:20240101T100000Z",
            "END:VEVENT",
            "BEGIN:VTODO",
            "UID:td",
            "DUE;TZID=Europe/Berlin:20240105T170000",
            "SUMMARY:Send offer",
            "END:VTODO",
            "END:VCALENDAR",
        ]);
        let (from, to) = (utc("2024-01-01 00:00"), utc("2024-02-01 00:00"));
        let f = occurrences(&one_of(&text, "fl"), from, to).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].start.to_string(), "2024-01-01T09:00:00");
        assert_eq!(
            f[0].end.as_ref().map(|e| e.to_string()),
            Some("2024-01-01T10:30:00".into())
        );
        assert_eq!(f[0].recurrence_id, None);
        let u = occurrences(&one_of(&text, "ut"), from, to).unwrap();
        assert_eq!(
            (
                u[0].start.to_string(),
                u[0].end.as_ref().map(|e| e.to_string())
            ),
            (
                "2024-01-01T09:00:00Z".into(),
                Some("2024-01-01T10:00:00Z".into())
            )
        );
        let t = one_of(&text, "td");
        assert_eq!(t.kind, Kind::Todo);
        let o = occurrences(&t, from, to).unwrap();
        assert_eq!(o.len(), 1);
        assert_eq!(
            (o[0].start.clone(), o[0].end.clone()),
            (zoned("2024-01-05 17:00"), None)
        );
        // Outside the window: nothing.
        assert!(
            occurrences(&t, utc("2024-01-06 00:00"), to)
                .unwrap()
                .is_empty()
        );
    }

    /// (start, end, recurrence-id, overridden) of each occurrence in 2024.
    fn listed(lines: &[&str]) -> Vec<(String, String, String, Option<usize>)> {
        let mut l = vec!["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Test//EN"];
        l.extend_from_slice(lines);
        l.push("END:VCALENDAR");
        let it = one(&ics(&l));
        occurrences(&it, utc("2024-01-01 00:00"), utc("2025-01-01 00:00"))
            .unwrap()
            .into_iter()
            .map(|o| {
                (
                    o.start.to_string(),
                    o.end.map(|e| e.to_string()).unwrap_or_default(),
                    o.recurrence_id.map(|r| r.to_string()).unwrap_or_default(),
                    o.overridden,
                )
            })
            .collect()
    }

    fn starts(l: &[(String, String, String, Option<usize>)]) -> Vec<&str> {
        l.iter().map(|o| o.0.as_str()).collect()
    }

    #[test]
    fn c4_an_instance_exactly_on_until_is_kept_east_and_west_of_utc() {
        // RFC 5545 3.3.10: UNTIL is inclusive. 09:00Z is 10:00 in Berlin.
        let l = listed(&[
            "BEGIN:VEVENT",
            "UID:until-east",
            "DTSTART;TZID=Europe/Berlin:20240301T100000",
            "RRULE:FREQ=DAILY;UNTIL=20240305T090000Z",
            "END:VEVENT",
        ]);
        assert_eq!(
            starts(&l).last().copied(),
            Some("2024-03-05T10:00:00[Europe/Berlin]"),
            "{l:?}"
        );
        assert_eq!(l.len(), 5);
        // 14:00Z is 09:00 in New York: the 10:00 instance of that day is past UNTIL.
        let l = listed(&[
            "BEGIN:VEVENT",
            "UID:until-west",
            "DTSTART;TZID=America/New_York:20240301T100000",
            "RRULE:FREQ=DAILY;UNTIL=20240305T140000Z",
            "END:VEVENT",
        ]);
        assert_eq!(l.len(), 4, "{l:?}");
        // A date series with a date UNTIL: the UNTIL day is an instance.
        let l = listed(&[
            "BEGIN:VEVENT",
            "UID:until-date",
            "DTSTART;VALUE=DATE:20240301",
            "RRULE:FREQ=DAILY;UNTIL=20240305",
            "END:VEVENT",
        ]);
        assert_eq!(starts(&l).last().copied(), Some("2024-03-05"), "{l:?}");
    }

    #[test]
    fn c4_range_thisandfuture_moves_this_and_every_later_instance() {
        // RFC 5545 3.8.4.4: RANGE=THISANDFUTURE applies to the instance and
        // all later ones: each moves by the same shift and gets the new length.
        let mut lines = BERLIN.to_vec();
        lines.extend_from_slice(&[
            "BEGIN:VEVENT",
            "UID:taf",
            "DTSTART;TZID=Europe/Berlin:20240102T100000",
            "DTEND;TZID=Europe/Berlin:20240102T110000",
            "RRULE:FREQ=WEEKLY;COUNT=5",
            "SUMMARY:Weekly",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:taf",
            "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20240116T100000",
            "DTSTART;TZID=Europe/Berlin:20240116T140000",
            "DTEND;TZID=Europe/Berlin:20240116T153000",
            "SUMMARY:Weekly, afternoons from now on",
            "END:VEVENT",
        ]);
        let l = listed(&lines);
        let z = |d: &str| format!("{d}[Europe/Berlin]");
        let got: Vec<(&str, &str, Option<usize>)> = l
            .iter()
            .map(|o| (o.0.as_str(), o.1.as_str(), o.3))
            .collect();
        let want = [
            (z("2024-01-02T10:00:00"), z("2024-01-02T11:00:00"), None),
            (z("2024-01-09T10:00:00"), z("2024-01-09T11:00:00"), None),
            (z("2024-01-16T14:00:00"), z("2024-01-16T15:30:00"), Some(0)),
            (z("2024-01-23T14:00:00"), z("2024-01-23T15:30:00"), Some(0)),
            (z("2024-01-30T14:00:00"), z("2024-01-30T15:30:00"), Some(0)),
        ];
        let want: Vec<(&str, &str, Option<usize>)> = want
            .iter()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), *c))
            .collect();
        assert_eq!(got, want);
        // Each keeps its own RECURRENCE-ID.
        assert_eq!(l[3].2, z("2024-01-23T10:00:00"));
    }

    #[test]
    fn c4_an_rdate_equal_to_an_rrule_instance_is_listed_once() {
        // RFC 5545 3.8.5.2: the recurrence set is a set.
        let l = listed(&[
            "BEGIN:VEVENT",
            "UID:rdate-dup",
            "DTSTART:20240101T090000Z",
            "DTEND:20240101T100000Z",
            "RRULE:FREQ=DAILY;COUNT=3",
            "RDATE:20240102T090000Z,20240110T090000Z",
            "END:VEVENT",
        ]);
        assert_eq!(
            starts(&l),
            [
                "2024-01-01T09:00:00Z",
                "2024-01-02T09:00:00Z",
                "2024-01-03T09:00:00Z",
                "2024-01-10T09:00:00Z"
            ]
        );
        assert_eq!(l[3].1, "2024-01-10T10:00:00Z");
    }

    #[test]
    fn c4_an_exdate_removes_an_rdate_instance() {
        // RFC 5545 3.8.5.1: EXDATE excludes from the whole set, RDATEs included.
        let l = listed(&[
            "BEGIN:VEVENT",
            "UID:rdate-ex",
            "DTSTART:20240101T090000Z",
            "RRULE:FREQ=DAILY;COUNT=2",
            "RDATE:20240110T090000Z,20240111T090000Z",
            "EXDATE:20240110T090000Z",
            "END:VEVENT",
        ]);
        assert_eq!(
            starts(&l),
            [
                "2024-01-01T09:00:00Z",
                "2024-01-02T09:00:00Z",
                "2024-01-11T09:00:00Z"
            ]
        );
    }

    #[test]
    fn c4_exchange_all_day_series_pairs_date_time_recurrence_ids_by_day() {
        // Exchange writes all-day overrides with a DATE-TIME RECURRENCE-ID
        // at midnight in its zone: the moved day must not stay beside its copy.
        let l = listed(&[
            "BEGIN:VEVENT",
            "UID:exchange-all-day",
            "DTSTART;VALUE=DATE:20240304",
            "DTEND;VALUE=DATE:20240305",
            "RRULE:FREQ=DAILY;COUNT=5",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:exchange-all-day",
            "RECURRENCE-ID;TZID=W. Europe Standard Time:20240305T000000",
            "DTSTART;VALUE=DATE:20240310",
            "DTEND;VALUE=DATE:20240311",
            "END:VEVENT",
        ]);
        assert_eq!(
            starts(&l),
            [
                "2024-03-04",
                "2024-03-06",
                "2024-03-07",
                "2024-03-08",
                "2024-03-10"
            ],
            "{l:?}"
        );
        assert_eq!(l[4].1, "2024-03-11");
        assert_eq!(l[4].3, Some(0));
    }

    #[test]
    fn c4_c10_a_vtimezone_no_name_resolves_is_read_from_its_observances() {
        // RFC 5545 3.6.5: the VTIMEZONE defines the zone; its TZID need not
        // be an IANA or Windows name (Outlook's "Customized Time Zone").
        let mut lines = vec![
            "BEGIN:VTIMEZONE",
            "TZID:Customized Time Zone",
            "BEGIN:STANDARD",
            "DTSTART:16011104T020000",
            "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11",
            "TZOFFSETFROM:-0400",
            "TZOFFSETTO:-0500",
            "END:STANDARD",
            "BEGIN:DAYLIGHT",
            "DTSTART:16010311T020000",
            "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3",
            "TZOFFSETFROM:-0500",
            "TZOFFSETTO:-0400",
            "END:DAYLIGHT",
            "END:VTIMEZONE",
        ];
        lines.extend_from_slice(&[
            "BEGIN:VEVENT",
            "UID:custom-zone",
            "DTSTART;TZID=Customized Time Zone:20240308T090000",
            "DTEND;TZID=Customized Time Zone:20240308T100000",
            "RRULE:FREQ=DAILY;UNTIL=20240311T130000Z",
            "END:VEVENT",
        ]);
        let mut l = vec!["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Test//EN"];
        l.extend_from_slice(&lines);
        l.push("END:VCALENDAR");
        let it = one(&ics(&l));
        let got: Vec<String> =
            timed_occurrences(&it, utc("2024-01-01 00:00"), utc("2025-01-01 00:00"))
                .unwrap()
                .iter()
                .map(|t| t.start.format("%m-%d %H:%M").to_string())
                .collect();
        // 09:00 EST is 14:00Z; from 2024-03-10 (DST) 09:00 EDT is 13:00Z,
        // and the instance on UNTIL (13:00Z) is kept.
        assert_eq!(
            got,
            ["03-08 14:00", "03-09 14:00", "03-10 13:00", "03-11 13:00"]
        );
    }

    #[test]
    fn expansion_error_is_reported() {
        let it = one(&ics(&[
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "BEGIN:VEVENT",
            "UID:bad",
            "DTSTART;TZID=Europe/Berlin:20240331T023000",
            "RRULE:FREQ=DAILY;COUNT=2",
            "END:VEVENT",
            "END:VCALENDAR",
        ]));
        // 02:30 does not exist in Berlin on 2024-03-31 (DST gap).
        let err = occurrences(&it, utc("2024-01-01 00:00"), utc("2025-01-01 00:00")).unwrap_err();
        assert!(err.to_string().contains("UID `bad`"), "{err}");
    }

    #[test]
    fn durations_and_escapes() {
        assert_eq!(
            parse_duration("P1W2DT3H4M5S"),
            Some((9, 3 * 3600 + 4 * 60 + 5))
        );
        assert_eq!(parse_duration("-PT15M"), Some((0, -900)));
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("PT1D"), None);
        assert_eq!(unescape_text(&escape_text("a\\b;c,d\ne")), "a\\b;c,d\ne");
        assert_eq!(escape_text("x\r\ny\rz"), "x\\ny\\nz");
        assert_eq!(decode_param(&encode_param("a\"b^c\nd;e")), "a\"b^c\nd;e");
        // DST-aware exact hours, nominal days.
        let z = zoned("2024-03-30 12:00");
        assert_eq!(z.plus_duration("P1D"), Some(zoned("2024-03-31 12:00")));
        assert_eq!(z.plus_duration("PT24H"), Some(zoned("2024-03-31 13:00")));
    }
}
