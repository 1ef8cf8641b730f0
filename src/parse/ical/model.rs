//! The lossless model of calendar items (SPEC 4: C4, C10): [`CalItem`]
//! (one UID: the master and its overrides, with the text it came from
//! kept in `Src` for a lossless write), [`Kind`] and [`IcalError`]; with
//! the RDATE/EXDATE value lists they are read from. The typed values
//! (`CalTime`, `Props`, `Override`, `CalAddress`) are [`crate::model`]'s.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{CalTime, Override, Props};

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

/// A whole date content line for `name` (EXDATE, RDATE) holding `t`, with
/// its TZID or VALUE=DATE parameter, as [`Props::exdate`] keeps them.
pub fn date_line(name: &str, t: &CalTime) -> String {
    match t {
        CalTime::Date(_) => format!("{name};VALUE=DATE:{}", t.ical_value()),
        CalTime::Zoned { tzid, .. } => format!("{name};TZID={tzid}:{}", t.ical_value()),
        _ => format!("{name}:{}", t.ical_value()),
    }
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
    use crate::parse::ical::fixtures::*;
    use crate::parse::ical::line::{decode_param, encode_param, escape_text, unescape_text};

    #[test]
    fn escapes_and_dst_aware_durations() {
        assert_eq!(unescape_text(&escape_text("a\\b;c,d\ne")), "a\\b;c,d\ne");
        assert_eq!(escape_text("x\r\ny\rz"), "x\\ny\\nz");
        assert_eq!(decode_param(&encode_param("a\"b^c\nd;e")), "a\"b^c\nd;e");
        // DST-aware exact hours, nominal days.
        let z = zoned("2024-03-30 12:00");
        assert_eq!(z.plus_duration("P1D"), Some(zoned("2024-03-31 12:00")));
        assert_eq!(z.plus_duration("PT24H"), Some(zoned("2024-03-31 13:00")));
    }
}
