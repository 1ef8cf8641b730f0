//! The typed calendar values (SPEC 4: C4, C10) that the planner, the
//! state file and the CRM back ends share: [`CalTime`] (a DATE or
//! DATE-TIME exactly as written), [`CalAddress`], [`Props`] (the
//! properties the CRM models) and [`Override`] (an overridden instance).
//! Reading and writing them as iCalendar text is `crate::parse::ical`'s.

use std::fmt;
use std::str::FromStr;

use calcard::common::timezone::Tz;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};

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

    /// Reads an iCalendar DATE or DATE-TIME value with its TZID and
    /// VALUE=DATE parameters.
    pub fn from_ical(tzid: Option<&str>, value_date: bool, value: &str) -> Result<CalTime, String> {
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
    pub fn ical_value(&self) -> String {
        match self {
            CalTime::Date(d) => d.format("%Y%m%d").to_string(),
            CalTime::Floating(t) | CalTime::Zoned { local: t, .. } => {
                t.format("%Y%m%dT%H%M%S").to_string()
            }
            CalTime::Utc(t) => t.format("%Y%m%dT%H%M%SZ").to_string(),
        }
    }

    /// The TZID of a zoned time.
    pub fn tzid(&self) -> Option<&str> {
        match self {
            CalTime::Zoned { tzid, .. } => Some(tzid),
            _ => None,
        }
    }

    /// The year of its wall time.
    pub fn year(&self) -> i32 {
        self.local().year()
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
    /// [`crate::address::normalize`]d: `mailto:` stripped, lower case.
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

/// Parses `[+-]P[nW][nD][T[nH][nM][nS]]` into (days, seconds).
pub fn parse_duration(s: &str) -> Option<(i64, i64)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("P1W2DT3H4M5S"),
            Some((9, 3 * 3600 + 4 * 60 + 5))
        );
        assert_eq!(parse_duration("-PT15M"), Some((0, -900)));
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("PT1D"), None);
    }
}
