//! The volatile-free content hash (SPEC 4: C11): the item's components as
//! they would be written, without the [`VOLATILE`] properties clients and
//! servers change on every save, with order, folding, case and quoting
//! ignored, so an item a server merely re-serialised is not a change.

use sha2::{Digest, Sha256};

use crate::address::normalize;

use super::line::{Comp, Line, Node, decode_param, escape_text, split_line, unescape_text};
use super::model::CalItem;
use super::write::build;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::ical::fixtures::*;

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
}
