//! The lossless model of calendar items (SPEC 4: C4, C10): [`CalItem`]
//! (one UID: the master and its overrides, with the text it came from
//! kept in `Src` for a lossless write), [`Props`], [`Override`],
//! [`CalTime`] (a DATE or DATE-TIME exactly as written, C10),
//! [`CalAddress`], [`Kind`] and [`IcalError`]; with the typed values they
//! are read from (DURATION, RDATE/EXDATE value lists).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use calcard::common::timezone::Tz;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::line::{Comp, split_line};

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

    pub(super) fn from_ical(
        tzid: Option<&str>,
        value_date: bool,
        value: &str,
    ) -> Result<CalTime, String> {
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
    pub(super) fn ical_value(&self) -> String {
        match self {
            CalTime::Date(d) => d.format("%Y%m%d").to_string(),
            CalTime::Floating(t) | CalTime::Zoned { local: t, .. } => {
                t.format("%Y%m%dT%H%M%S").to_string()
            }
            CalTime::Utc(t) => t.format("%Y%m%dT%H%M%SZ").to_string(),
        }
    }

    pub(super) fn tzid(&self) -> Option<&str> {
        match self {
            CalTime::Zoned { tzid, .. } => Some(tzid),
            _ => None,
        }
    }

    pub(super) fn year(&self) -> i32 {
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
    pub(super) src: Option<Src>,
}

/// The text an item came from, for a lossless [`write`].
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Src {
    /// The whole VCALENDAR as parsed, shared by the items of one text.
    pub(super) cal: Arc<Comp>,
    pub(super) uid: String,
    /// Body index and parsed properties of the master.
    pub(super) master: Option<(usize, Props)>,
    /// Body index, RECURRENCE-ID and parsed properties of each override.
    pub(super) overrides: Vec<(usize, CalTime, Props)>,
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

/// Parses `[+-]P[nW][nD][T[nH][nM][nS]]` into (days, seconds).
pub(super) fn parse_duration(s: &str) -> Option<(i64, i64)> {
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

pub(super) fn date_list(lines: &[String]) -> Vec<CalTime> {
    date_values(lines)
        .into_iter()
        .filter(|(_, period_end)| period_end.is_none())
        .map(|(t, _)| t)
        .collect()
}

/// The values of date lines (EXDATE, RDATE), typed with their TZID and
/// VALUE=DATE; a period (`start/end`, RDATE) with its end as written.
pub(super) fn date_values(lines: &[String]) -> Vec<(CalTime, Option<String>)> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::ical::fixtures::*;
    use crate::parse::ical::line::{decode_param, encode_param, escape_text, unescape_text};

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
