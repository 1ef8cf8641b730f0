//! Recurrence and occurrence expansion (SPEC 4: C4, C10): the instances of
//! an item in a window. The recurrence set is composed per RFC 5545 3.8.5
//! (RRULE via calcard's iterator across DST, UNTIL inclusive, RDATE,
//! EXDATE) and 3.8.4.4 (RECURRENCE-ID, RANGE=THISANDFUTURE); TZIDs resolve
//! through the text's VTIMEZONEs (X-LIC-LOCATION and other aliases), IANA
//! and Windows names, and a VTIMEZONE no name resolves is evaluated from its
//! own observances (RFC 5545 3.6.5).

use std::str::FromStr;

use calcard::common::timezone::Tz;
use calcard::icalendar::ICalendar;
use chrono::{DateTime, Datelike, NaiveDateTime, TimeDelta, TimeZone, Utc};
use serde::Serialize;

use super::line::{Comp, Node, clean_raw, push_folded, serialize_comp};
use crate::model::{CalTime, Override, Props};

use super::model::{CalItem, IcalError, Kind, date_list, date_values};
use super::write::time_line;

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
pub(super) fn moved(t: &DateTime<Tz>, delta: TimeDelta, template: &CalTime) -> Option<CalTime> {
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
    let exdates = date_list(&item.props.exdate);
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
    use crate::parse::ical::fixtures::*;

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
}
