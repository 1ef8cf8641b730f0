//! CRM records to vCards for push-contacts (P2, P3), written with calcard.
//!
//! A *card* is the text of one vCard. vCard 4.0 is written wherever the
//! address book accepts it; 3.0 only for a server that does not list 4.0 in
//! its supported-address-data (RFC 6352 6.2.2: no list means 3.0 only).
//! Companies are `KIND:org` cards in 4.0, and `X-ABShowAs:COMPANY` cards
//! (the Apple convention other clients follow) with ORG in 3.0.
//!
//! The *field map* (P3): by default a person card holds first and last
//! name (N, FN), the primary e-mail (EMAIL) and the first phone number
//! (TEL;TYPE=work); a company card its name (FN, ORG) and main e-mail.
//! `[contacts.fields]` maps further CRM fields to vCard properties, e.g.
//! `company = "ORG"`; [`FIELDS`] lists the CRM field names it knows.
//! Output is deterministic (no REV, no timestamps): the same record always
//! gives the same bytes, so a content hash tells a changed card (P7).

use std::collections::BTreeMap;

use calcard::common::IanaParse;
use calcard::vcard::{
    VCard, VCardEntry, VCardKind, VCardParameter, VCardProperty, VCardType, VCardValue,
    VCardVersion,
};
use calcard::{Entry, Parser};
use sha2::{Digest, Sha256};

use crate::model::{Company, Person};

/// The vCard version written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum CardVersion {
    #[serde(rename = "3.0")]
    V3,
    #[serde(rename = "4.0")]
    V4,
}

impl CardVersion {
    /// 4.0 when the address book lists it, else 3.0 (RFC 6352 6.2.2).
    pub fn for_server(versions: &[String]) -> CardVersion {
        if versions.iter().any(|v| v.trim() == "4.0") {
            CardVersion::V4
        } else {
            CardVersion::V3
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            CardVersion::V3 => "3.0",
            CardVersion::V4 => "4.0",
        }
    }
}

/// A CRM field that `[contacts.fields]` can map to a vCard property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    Company,
    Emails,
    Phones,
    SalesGroups,
    Rep,
    Id,
    Link,
    Domains,
    Kind,
}

/// The CRM field names `[contacts.fields]` accepts, with what they hold.
pub const FIELDS: &[(&str, Field, &str)] = &[
    (
        "company",
        Field::Company,
        "persons: the name of the person's company",
    ),
    (
        "emails",
        Field::Emails,
        "persons: the further e-mail addresses (after the primary one)",
    ),
    (
        "phones",
        Field::Phones,
        "persons: the further phone numbers (after the first one)",
    ),
    (
        "sales_groups",
        Field::SalesGroups,
        "persons and companies: the sales groups, comma-separated",
    ),
    (
        "rep",
        Field::Rep,
        "persons and companies: the login of the rep",
    ),
    (
        "id",
        Field::Id,
        "persons and companies: the CRM's id of the record",
    ),
    (
        "link",
        Field::Link,
        "persons and companies: the record's URL from [crm] link",
    ),
    (
        "domains",
        Field::Domains,
        "companies: one https:// URL per web domain",
    ),
    (
        "kind",
        Field::Kind,
        "companies: customer, lead, partner or other",
    ),
];

/// Properties crmsync writes itself; a mapping to them would break a card.
const RESERVED: &[&str] = &["BEGIN", "END", "VERSION", "UID", "N", "FN", "KIND"];

/// The extra mappings of `[contacts.fields]`, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldMap {
    pub extra: Vec<(Field, String)>,
}

impl FieldMap {
    /// Checks `[contacts.fields]`: known CRM field names, vCard property
    /// names (letters, digits, '-'), none of the reserved ones.
    ///
    /// # Errors
    /// A message naming the bad key and the accepted ones.
    pub fn parse(map: &BTreeMap<String, String>) -> Result<FieldMap, String> {
        let mut extra = Vec::new();
        for (key, prop) in map {
            let Some((_, field, _)) = FIELDS.iter().find(|(n, _, _)| n == key) else {
                return Err(format!(
                    "contacts.fields: `{key}` is not a CRM field crmsync knows; use one of {}",
                    FIELDS
                        .iter()
                        .map(|(n, _, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            };
            let p = prop.trim().to_ascii_uppercase();
            if p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(format!(
                    "contacts.fields: `{key} = \"{prop}\"` is not a vCard property name (e.g. \"ORG\", \"X-CRM-ID\")"
                ));
            }
            if RESERVED.contains(&p.as_str()) {
                return Err(format!(
                    "contacts.fields: `{key} = \"{prop}\"`: crmsync writes {p} itself; choose another property"
                ));
            }
            extra.push((*field, p));
        }
        Ok(FieldMap { extra })
    }
}

/// What a person card is made from besides the person.
#[derive(Debug, Clone, Default)]
pub struct PersonExtras<'a> {
    pub company_name: Option<&'a str>,
    /// The record's URL from `[crm] link`.
    pub link: Option<String>,
}

fn text(prop: VCardProperty, value: &str) -> VCardEntry {
    VCardEntry::new(prop).with_value(value.to_string())
}

fn property(name: &str) -> VCardProperty {
    VCardProperty::parse(name.as_bytes()).unwrap_or_else(|| VCardProperty::Other(name.into()))
}

/// One extra mapping's entries (none when the record has no such value).
fn mapped(prop: &str, values: Vec<String>, joined: bool) -> Vec<VCardEntry> {
    let values: Vec<String> = values
        .into_iter()
        .filter(|v| !v.trim().is_empty())
        .collect();
    if values.is_empty() {
        return Vec::new();
    }
    let p = property(prop);
    if joined {
        // CATEGORIES takes a list; anything else gets one comma-joined text.
        return if p == VCardProperty::Categories {
            vec![VCardEntry::new(p).with_values(values.into_iter().map(VCardValue::Text).collect())]
        } else {
            vec![text(p, &values.join(", "))]
        };
    }
    values.iter().map(|v| text(p.clone(), v)).collect()
}

fn begin(uid: &str) -> VCard {
    VCard {
        entries: vec![
            VCardEntry::new(VCardProperty::Prodid)
                .with_value("-//crmsync//push-contacts//EN".to_string()),
            text(VCardProperty::Uid, uid),
        ],
    }
}

fn write(card: &VCard, version: CardVersion) -> String {
    let mut out = String::new();
    let v = match version {
        CardVersion::V3 => VCardVersion::V3_0,
        CardVersion::V4 => VCardVersion::V4_0,
    };
    // Writing into a String cannot fail.
    let _ = card.write_to(&mut out, v);
    if version == CardVersion::V3 {
        out = strip_charset(&out);
    }
    out
}

/// calcard marks non-ASCII 3.0 values `;CHARSET=UTF-8`, a vCard 2.1
/// parameter that 3.0 does not define (RFC 2426 takes the charset from
/// the MIME type); dropped from the property part of each line.
fn strip_charset(card: &str) -> String {
    let mut out = String::with_capacity(card.len());
    for line in card.split_inclusive("\r\n") {
        if !line.starts_with([' ', '\t'])
            && let Some(colon) = line.find(':')
            && line[..colon].ends_with(";CHARSET=UTF-8")
        {
            out.push_str(&line[..colon - ";CHARSET=UTF-8".len()]);
            out.push_str(&line[colon..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// A person's card (P3).
pub fn person_card(
    uid: &str,
    p: &Person,
    extras: &PersonExtras<'_>,
    map: &FieldMap,
    version: CardVersion,
) -> String {
    let mut card = begin(uid);
    let e = &mut card.entries;
    if version == CardVersion::V4 {
        e.push(VCardEntry::new(VCardProperty::Kind).with_value(VCardKind::Individual));
    }
    e.push(text(VCardProperty::Fn, &p.display_name()));
    e.push(VCardEntry::new(VCardProperty::N).with_values(vec![
        VCardValue::Text(p.last_name.clone()),
        VCardValue::Text(p.first_name.clone()),
        VCardValue::Text(String::new()),
        VCardValue::Text(String::new()),
        VCardValue::Text(String::new()),
    ]));
    if let Some(mail) = p.emails.first() {
        e.push(text(VCardProperty::Email, mail));
    }
    if let Some(tel) = p.phones.first() {
        e.push(text(VCardProperty::Tel, tel).with_param(VCardParameter::typ(VCardType::Work)));
    }
    for (field, prop) in &map.extra {
        let (values, joined) = match field {
            Field::Company => (
                extras
                    .company_name
                    .map(str::to_string)
                    .into_iter()
                    .collect(),
                false,
            ),
            Field::Emails => (p.emails.iter().skip(1).cloned().collect(), false),
            Field::Phones => (p.phones.iter().skip(1).cloned().collect(), false),
            Field::SalesGroups => (p.sales_groups.clone(), true),
            Field::Rep => (p.rep.clone().into_iter().collect(), false),
            Field::Id => (vec![p.id.clone()], false),
            Field::Link => (extras.link.clone().into_iter().collect(), false),
            Field::Domains | Field::Kind => (Vec::new(), false),
        };
        e.extend(mapped(prop, values, joined));
    }
    write(&card, version)
}

/// A company's card: KIND:org in 4.0, X-ABShowAs:COMPANY in 3.0 (P2).
pub fn company_card(
    uid: &str,
    c: &Company,
    link: Option<String>,
    map: &FieldMap,
    version: CardVersion,
) -> String {
    let mut card = begin(uid);
    let e = &mut card.entries;
    match version {
        CardVersion::V4 => {
            e.push(VCardEntry::new(VCardProperty::Kind).with_value(VCardKind::Org));
        }
        CardVersion::V3 => {
            e.push(text(VCardProperty::Other("X-ABSHOWAS".into()), "COMPANY"));
            // 3.0 requires N; a company has none.
            e.push(VCardEntry::new(VCardProperty::N).with_values(vec![
                VCardValue::Text(
                    String::new()
                );
                5
            ]));
        }
    }
    e.push(text(VCardProperty::Fn, &c.name));
    e.push(text(VCardProperty::Org, &c.name));
    if let Some(mail) = &c.email {
        e.push(text(VCardProperty::Email, mail));
    }
    for (field, prop) in &map.extra {
        if prop == "ORG" {
            continue; // a company card is its own ORG
        }
        let (values, joined) = match field {
            Field::SalesGroups => (c.sales_groups.clone(), true),
            Field::Rep => (c.rep.clone().into_iter().collect(), false),
            Field::Id => (vec![c.id.clone()], false),
            Field::Link => (link.clone().into_iter().collect(), false),
            Field::Domains => (
                c.domains.iter().map(|d| format!("https://{d}")).collect(),
                false,
            ),
            Field::Kind => (vec![c.kind.clone()], false),
            Field::Company | Field::Emails | Field::Phones => (Vec::new(), false),
        };
        e.extend(mapped(prop, values, joined));
    }
    write(&card, version)
}

/// SHA-256 of a card's text (P7: equal hash, nothing to write).
pub fn content_hash(card: &str) -> String {
    hex::encode(Sha256::digest(card.as_bytes()))
}

/// The UID of the first vCard in `text`, if it parses.
pub fn card_uid(text: &str) -> Option<String> {
    let mut parser = Parser::new(text);
    loop {
        match parser.entry() {
            Entry::VCard(card) => return card.uid().map(str::to_string),
            Entry::Eof => return None,
            _ => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jane() -> Person {
        Person {
            id: "P1".into(),
            first_name: "Jürgen".into(),
            last_name: "Doe; Jr".into(),
            emails: vec!["jane@acme.example".into(), "jd@acme.example".into()],
            phones: vec!["+49 30 1234".into(), "+49 170 1".into()],
            company_id: Some("C1".into()),
            rep: Some("alice".into()),
            sales_groups: vec!["north".into(), "south".into()],
            favorite_of: vec![],
        }
    }

    /// Issue 9: CRLF (and lone CR/LF) in CRM fields cannot inject lines
    /// (a second EMAIL, an END:VCARD) into the card written to a server.
    #[test]
    fn crlf_in_names_cannot_inject_properties() {
        let mut p = jane();
        p.first_name = "Eve\r\nEMAIL:attacker@evil.example\r\nEND:VCARD\r\nBEGIN:VCARD".into();
        p.last_name = "Doe\rUID:other\nX".into();
        for version in [CardVersion::V3, CardVersion::V4] {
            let card = person_card(
                "crmsync-person-P1",
                &p,
                &PersonExtras::default(),
                &FieldMap::default(),
                version,
            );
            let lines: Vec<&str> = card.split("\r\n").collect();
            assert!(
                lines.iter().all(|l| !l.contains('\r') && !l.contains('\n')),
                "bare CR or LF in {card:?}"
            );
            let starts = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
            assert_eq!(starts("EMAIL"), 1, "{card}");
            assert_eq!(starts("END:VCARD"), 1, "{card}");
            assert_eq!(starts("BEGIN:VCARD"), 1, "{card}");
            assert_eq!(starts("UID"), 1, "{card}");
            assert_eq!(card_uid(&card).as_deref(), Some("crmsync-person-P1"));
        }
    }

    #[test]
    fn p3_default_map_v4() {
        let card = person_card(
            "crmsync-person-P1",
            &jane(),
            &PersonExtras::default(),
            &FieldMap::default(),
            CardVersion::V4,
        );
        assert!(card.starts_with("BEGIN:VCARD\r\nVERSION:4.0\r\n"), "{card}");
        assert!(card.contains("UID:crmsync-person-P1\r\n"), "{card}");
        assert!(card.contains("KIND:INDIVIDUAL\r\n"), "{card}");
        assert!(card.contains("FN:Jürgen Doe\\; Jr\r\n"), "{card}");
        assert!(card.contains("N:Doe\\; Jr;Jürgen;;;\r\n"), "{card}");
        assert!(card.contains("EMAIL:jane@acme.example\r\n"), "{card}");
        assert!(!card.contains("jd@acme.example"), "{card}");
        assert!(
            card.to_lowercase()
                .contains("tel;type=work:+49 30 1234\r\n"),
            "{card}"
        );
        assert!(!card.contains("+49 170 1"), "{card}");
        assert!(!card.contains("ORG"), "{card}");
        assert_eq!(card_uid(&card).as_deref(), Some("crmsync-person-P1"));
    }

    #[test]
    fn p3_extra_fields_and_v3() {
        let mut m = BTreeMap::new();
        m.insert("company".to_string(), "org".to_string());
        m.insert("emails".to_string(), "EMAIL".to_string());
        m.insert("sales_groups".to_string(), "CATEGORIES".to_string());
        m.insert("id".to_string(), "X-CRM-ID".to_string());
        let map = FieldMap::parse(&m).unwrap();
        let card = person_card(
            "u",
            &jane(),
            &PersonExtras {
                company_name: Some("Acme GmbH"),
                link: None,
            },
            &map,
            CardVersion::V3,
        );
        assert!(card.contains("VERSION:3.0\r\n"), "{card}");
        assert!(
            card.contains("FN:Jürgen Doe\\; Jr\r\n"),
            "no 2.1 CHARSET in 3.0: {card}"
        );
        assert!(!card.contains("KIND"), "{card}");
        assert!(card.contains("ORG:Acme GmbH\r\n"), "{card}");
        assert!(card.contains("EMAIL:jd@acme.example\r\n"), "{card}");
        assert!(card.contains("CATEGORIES:north,south\r\n"), "{card}");
        assert!(card.contains("X-CRM-ID:P1\r\n"), "{card}");
    }

    #[test]
    fn p2_company_card_per_version() {
        let c = Company {
            id: "C1".into(),
            name: "Acme GmbH".into(),
            kind: "customer".into(),
            email: Some("info@acme.example".into()),
            domains: vec!["acme.example".into()],
            rep: None,
            sales_groups: vec![],
        };
        let v4 = company_card("u", &c, None, &FieldMap::default(), CardVersion::V4);
        assert!(
            v4.contains("KIND:ORG\r\n") && v4.contains("ORG:Acme GmbH\r\n"),
            "{v4}"
        );
        let v3 = company_card("u", &c, None, &FieldMap::default(), CardVersion::V3);
        assert!(v3.contains("X-ABSHOWAS:COMPANY\r\n"), "{v3}");
        assert!(v3.contains("N:;;;;\r\n") && !v3.contains("KIND"), "{v3}");
    }

    #[test]
    fn p3_field_map_is_checked() {
        let bad = |k: &str, v: &str| {
            let mut m = BTreeMap::new();
            m.insert(k.to_string(), v.to_string());
            FieldMap::parse(&m).unwrap_err()
        };
        assert!(bad("title", "TITLE").contains("not a CRM field"));
        assert!(bad("company", "OR G").contains("not a vCard property"));
        assert!(bad("company", "UID").contains("writes UID itself"));
    }

    #[test]
    fn p7_output_is_deterministic() {
        let a = person_card(
            "u",
            &jane(),
            &PersonExtras::default(),
            &FieldMap::default(),
            CardVersion::V4,
        );
        let b = person_card(
            "u",
            &jane(),
            &PersonExtras::default(),
            &FieldMap::default(),
            CardVersion::V4,
        );
        assert_eq!(content_hash(&a), content_hash(&b));
        let mut j = jane();
        j.phones[0] = "+49 30 9999".into();
        let c = person_card(
            "u",
            &j,
            &PersonExtras::default(),
            &FieldMap::default(),
            CardVersion::V4,
        );
        assert_ne!(content_hash(&a), content_hash(&c));
    }
}
