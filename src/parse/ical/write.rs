//! Writing (SPEC 4: C3, C10): an item back to a complete VCALENDAR, the
//! original text with only the properties whose typed value changed
//! replaced (C10), new items made complete (C3), a significant change
//! counting SEQUENCE up, and a VTIMEZONE added for each zone the text does
//! not define (built by calcard from the IANA database).

use calcard::icalendar::ICalendar;
use chrono::{DateTime, NaiveDate, Utc};

use crate::address::normalize;

use super::line::{
    Comp, Line, Node, clean_raw, encode_param, escape_text, is_name_char, line, parse_tree,
    serialize_comp, split_line,
};
use crate::model::{CalAddress, CalTime, Props, parse_duration};

use super::model::{CalItem, Kind};
use super::read::address_of;

/// PRODID of calendars crmsync creates.
pub const PRODID: &str = concat!("-//crmsync//crmsync ", env!("CARGO_PKG_VERSION"), "//EN");

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

pub(super) fn time_line(name: &str, old: Option<&Line>, t: &CalTime) -> String {
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
pub(super) fn build(item: &CalItem, timezones: bool) -> (Comp, Vec<usize>) {
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;

    use super::*;
    use crate::model::Override;
    use crate::parse::ical::fixtures::*;
    use crate::parse::ical::*;

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
}
