//! The vocabulary every stage shares (issue 14): the types a planner
//! produces and the state file, the CRM back ends and the reports consume.
//! Nothing here does I/O, and nothing here imports another module of the
//! crate. The calendar values ([`CalTime`], [`Props`], [`Override`],
//! [`CalAddress`]) live in `model/calendar.rs`.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

mod calendar;

pub use calendar::{CalAddress, CalTime, Override, Props, parse_duration};

/// The stable identity of a source (a mail folder, a calendar collection,
/// an address book) from its parts (STYLE 5): SHA-256, never DefaultHasher.
pub fn source_key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

// ---- Activities (SPEC 1, SPEC 8) ----

/// The record an activity is attached to (SPEC 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Attach {
    Person(i64),
    Company(i64),
}

/// Why an activity is flagged for editing (SPEC 8: the `flags` column).
pub mod reason {
    pub const UNKNOWN_SENDER: &str = "unknown_sender";
    pub const AMBIGUOUS_SENDER: &str = "ambiguous_sender";
    pub const UNIDENTIFIED_RECIPIENT: &str = "unidentified_recipient";
    pub const ATTACHMENTS_DROPPED: &str = "attachments_dropped";
    /// An ORGANIZER or ATTENDEE that is not uniquely identified (C2, as M8).
    pub const UNIDENTIFIED_ATTENDEE: &str = "unidentified_attendee";
    /// Every reason, for `report --flag` (X19).
    pub const ALL: [&str; 5] = [
        UNKNOWN_SENDER,
        AMBIGUOUS_SENDER,
        UNIDENTIFIED_RECIPIENT,
        ATTACHMENTS_DROPPED,
        UNIDENTIFIED_ATTENDEE,
    ];
}

/// A flag reason with the address it is about ('' for none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub reason: &'static str,
    pub address: String,
}

/// As the report table shows a flag: the reason, then the address when
/// there is one (`unknown_sender x@y.z`).
impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.address.is_empty() {
            f.write_str(self.reason)
        } else {
            write!(f, "{} {}", self.reason, self.address)
        }
    }
}

/// A participant: an identified person, or a raw address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Participant {
    pub address: String,
    pub person_id: Option<i64>,
}

/// An address for the unknown-address queue (M7, M8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Queued {
    pub address: String,
    pub display_name: Option<String>,
}

// ---- Calendar activities (SPEC 4) ----

/// The CRM activity types sync-calendar owns (C1).
pub const CALENDAR_TYPES: &[&str] = &["appointment", "meeting", "follow_up", "task"];

/// What the CRM stores of a calendar activity (SPEC 1: subject, text,
/// start/end or due, participants; C4: the series with its rule and
/// exceptions). [`crate::plan::calendar::project`] makes one from a
/// calendar item; [`crate::plan::calendar::crm_hash`] hashes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CrmFields {
    pub subject: String,
    /// The description, without the C8 link.
    pub text: Option<String>,
    pub start: Option<CalTime>,
    /// DTEND, or start + DURATION.
    pub end: Option<CalTime>,
    pub due: Option<CalTime>,
    pub rrule: Option<String>,
    /// RDATE / EXDATE content lines (see [`Props`]).
    pub rdate: Vec<String>,
    pub exdate: Vec<String>,
    /// Moved or changed instances: RECURRENCE-ID with summary,
    /// description, start, end and due.
    pub overrides: Vec<Override>,
    /// Persons and raw addresses taking part (the user excluded).
    pub participants: Vec<Participant>,
}

/// A calendar activity of the user in the CRM now (C1), or one to send (C9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrmEntry {
    pub id: i64,
    /// `appointment`, `meeting`, `follow_up`, `task`, or another type for
    /// an activity sent with C9.
    pub activity_type: String,
    /// The calendar UID it was created with or from, when known.
    pub uid: Option<String>,
    pub fields: CrmFields,
    pub updated_at: DateTime<Utc>,
}

/// The last agreed state of a calendar pair (a `calendar_items` row): what
/// the planner compares both sides with (C5, C11) and the state file keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    pub href: String,
    pub etag: Option<String>,
    /// [`crate::parse::ical::content_hash`] of the calendar item.
    pub gw_hash: String,
    /// [`crate::plan::calendar::crm_hash`] of the activity's fields.
    pub crm_hash: String,
    pub activity: i64,
    /// C8: the CRM link is still to be written into the description.
    pub link_pending: bool,
}

// ---- The directory (SPEC 1, SPEC 8) ----

/// A company as `crm import`/`crm export` see it (SPEC 8 layout).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Company {
    /// The caller's id (kept as external id).
    pub id: String,
    pub name: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub domains: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rep: Option<String>,
    pub sales_groups: Vec<String>,
}

/// A person as `crm import`/`crm export` see it (SPEC 8 layout).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    /// The first is primary.
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    /// External id of the company.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rep: Option<String>,
    pub sales_groups: Vec<String>,
    pub favorite_of: Vec<String>,
}

impl Person {
    /// "First Last", or the primary address when there is no name.
    pub fn display_name(&self) -> String {
        let n = format!("{} {}", self.first_name, self.last_name);
        let n = n.trim();
        if n.is_empty() {
            self.emails.first().cloned().unwrap_or_default()
        } else {
            n.to_string()
        }
    }
}

/// The allowed company kinds (SPEC 1).
pub const COMPANY_KINDS: &[&str] = &["customer", "lead", "partner", "other"];

// ---- Rule ids (docs/SPEC.md) ----

macro_rules! rules {
    ($($(#[$doc:meta])* $id:ident),* $(,)?) => {
        /// A rule id of docs/SPEC.md (M import-mail, W its wizard, U
        /// resolve-unknown, C calendar, P contacts, X everywhere, B back ends). What a plan
        /// names as the rule that decided (X9); as text, JSON and in the
        /// state file exactly the id (`M7`, `X10a`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule {
            $($(#[$doc])* $id),*
        }

        impl Rule {
            /// Every rule, in the order of docs/SPEC.md's sections.
            pub const ALL: &[Rule] = &[$(Rule::$id),*];

            /// The id as docs/SPEC.md writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Rule::$id => stringify!($id)),*
                }
            }
        }
    };
}

rules! {
    // SPEC 2: import-mail, and its wizard.
    M1, M2, M3, M4, M5, M6, M7, M8, M9, M10, M11, M12, M13, M14, M15, M16, M17, M18,
    M19, M20, M21, M22,
    W1, W2, W3, W4, W5, W6, W7, W8, W9,
    // init, Ctrl-C and the look of every wizard (issue 19).
    W10, W11, W12,
    // SPEC 3: resolve-unknown.
    U1, U2, U3, U4, U5,
    // SPEC 4: sync-calendar.
    C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12,
    // SPEC 5: push-contacts.
    P1, P2, P3, P4, P5, P6, P7, P8, P9,
    // SPEC 6: everywhere.
    X1, X2, X3, X3a, X4, X4a, X5, X6, X6a, X7, X8, X9, X10, X10a, X11, X11a, X12, X13,
    // Issue 19: cron output, one JSON shape, the progress bar.
    X14, X15, X16,
    // Issue 19: check and report mistakes in words.
    X17, X18, X19,
    // ... the binary documents itself (issue 19).
    X20, X21, X22,
    // SPEC 7: CRM back ends.
    B1, B2, B3,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::str::FromStr for Rule {
    type Err = String;

    /// The id exactly as docs/SPEC.md writes it (as stored in the state
    /// file's `rule` column).
    fn from_str(s: &str) -> Result<Rule, String> {
        Rule::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a rule id of docs/SPEC.md"))
    }
}

/// Directory records for unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::{Company, Person};

    /// A customer company with a main e-mail and web domains.
    pub fn company(id: &str, name: &str, email: Option<&str>, domains: &[&str]) -> Company {
        Company {
            id: id.into(),
            name: name.into(),
            kind: "customer".into(),
            email: email.map(Into::into),
            domains: domains.iter().map(|d| d.to_string()).collect(),
            ..Company::default()
        }
    }

    /// A person with its addresses, the first primary.
    pub fn person(id: &str, first: &str, last: &str, emails: &[&str]) -> Person {
        Person {
            id: id.into(),
            first_name: first.into(),
            last_name: last.into(),
            emails: emails.iter().map(|e| e.to_string()).collect(),
            ..Person::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_displays_as_the_report_table_shows_it() {
        let bare = Flag {
            reason: reason::ATTACHMENTS_DROPPED,
            address: String::new(),
        };
        assert_eq!(bare.to_string(), "attachments_dropped");
        let about = Flag {
            reason: reason::UNKNOWN_SENDER,
            address: "x@y.z".into(),
        };
        assert_eq!(about.to_string(), "unknown_sender x@y.z");
    }

    #[test]
    fn source_key_is_a_stable_sha256_of_the_parts() {
        let k = source_key(&["calendar", "a", "b"]);
        assert_eq!(k.len(), 64);
        assert_eq!(k, source_key(&["calendar", "a", "b"]));
        assert_ne!(k, source_key(&["calendar", "ab", ""]));
    }

    #[test]
    fn rule_ids_read_as_spec_writes_them() {
        assert_eq!(Rule::M7.as_str(), "M7");
        assert_eq!(Rule::X10a.to_string(), "X10a");
        assert_eq!(serde_json::to_string(&Rule::C11).unwrap(), "\"C11\"");
        assert_eq!("X4a".parse::<Rule>(), Ok(Rule::X4a));
        assert!("M99".parse::<Rule>().is_err());
        for r in Rule::ALL {
            assert_eq!(r.as_str().parse::<Rule>(), Ok(*r));
        }
    }

    /// Every id in docs/SPEC.md has a variant, and every variant is in
    /// docs/SPEC.md.
    #[test]
    fn rule_ids_are_those_of_the_spec() {
        let spec = include_str!("../docs/SPEC.md");
        let mut in_spec = std::collections::BTreeSet::new();
        for w in spec.split(|c: char| !c.is_ascii_alphanumeric()) {
            let mut cs = w.chars();
            let (Some(first), rest) = (cs.next(), cs.as_str()) else {
                continue;
            };
            let digits = rest.trim_end_matches('a');
            if "MUCPXBW".contains(first)
                && !digits.is_empty()
                && digits.chars().all(|c| c.is_ascii_digit())
                && rest.len() - digits.len() <= 1
            {
                in_spec.insert(w.to_string());
            }
        }
        let known: std::collections::BTreeSet<String> =
            Rule::ALL.iter().map(|r| r.to_string()).collect();
        assert_eq!(in_spec, known);
    }
}
