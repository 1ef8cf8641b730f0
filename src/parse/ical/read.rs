//! Parsing (SPEC 4: C10, C12): a calendar resource into its items, one per
//! UID, with the typed properties the CRM models read from each VEVENT or
//! VTODO and everything else kept as text. Errors name the line or the UID
//! (C12).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::address::normalize;

use super::line::{Comp, Line, Node, parse_tree, shorten, split_line, unescape_text};
use crate::model::{CalAddress, CalTime, Override, Props, parse_duration};

use super::model::{CalItem, IcalError, Kind, Src};

pub(super) fn bad(uid: &str, property: &str, value: &str, problem: String) -> IcalError {
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

pub(super) fn address_of(l: &Line) -> Option<CalAddress> {
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

#[cfg(test)]
mod tests {
    use super::super::model::date_list;
    use super::*;
    use crate::parse::ical::fixtures::*;

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
            date_list(&p.exdate),
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
}
