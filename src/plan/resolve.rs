//! U3 as a pure planner: after a resolution (U2), what changes on one
//! affected activity. Given what the activity has stored (its place, its
//! flags, its explanation), its mail's parties looked up again against the
//! directory as it is after the change, and the resolution, the planner
//! answers with the new place, the participants to add (never removing
//! one), the participants now identified and the new flags. The caller
//! (`apply::resolve`) gathers the inputs through the state and writes the
//! [`Update`].
//!
//! With the stored mail and its rep's person record, the mail is planned
//! again by the import rules ([`crate::plan::mail::plan`], M6-M11). A
//! choice a person made stays: an ambiguous address assigned to one of its
//! persons counts as that person, the import wizard's choice (W2) and a
//! thread (M17) keep the record. Without them (calendar items; mail
//! imported with `privacy = headers` before the header block was kept; a
//! rep without a person record, M9), or when the import rules would no
//! longer import the mail, only the flags about the resolved addresses are
//! re-checked.
//!
//! Beside it, the pure parts of the U2 actions: names for a new person
//! from a display name or a local part, and what counts as a domain.

use std::collections::{BTreeSet, HashMap};

use crate::matching::{AddressMatch, PersonMatch};
use crate::model::{Attach, Participant, Rule, reason};
use crate::plan::mail::{self as mail, Folder, Known, MailAction, MailInput, Owner, Settings};

/// What the activity has stored.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub status: &'a str,
    pub attach: Option<Attach>,
    pub rule: Option<&'a str>,
    pub explain: &'a [String],
    /// (reason, address) pairs.
    pub flags: &'a [(String, String)],
    /// The whole message is stored.
    pub raw_stored: bool,
    /// Only the message's header block is stored (M19).
    pub headers_stored: bool,
}

/// The resolution being applied.
#[derive(Debug, Clone, Copy)]
pub struct Resolution<'a> {
    /// The addresses it resolved.
    pub resolved: &'a BTreeSet<String>,
    /// What it did, for the explanation (`x assigned to person P1 (U2)`).
    pub note: &'a str,
    /// Choices recorded by resolutions (this one included): address ->
    /// person (U2 assign/create).
    pub chosen: &'a HashMap<String, i64>,
}

/// The stored mail, ready to be planned again.
#[derive(Debug, Clone)]
pub struct Replan<'a> {
    /// Its parties, looked up against today's directory.
    pub input: MailInput,
    /// Its rep (M9).
    pub owner: &'a Owner,
    /// The settings of its account; `headers_only` follows what is stored.
    pub settings: Settings,
}

/// A new place and the explanation behind it (X9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub attach: Attach,
    pub rule: String,
    pub explain: Vec<String>,
}

/// What to write for one activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// None: the place stays as it is.
    pub placement: Option<Placement>,
    /// Participants to add (none is removed).
    pub participants: Vec<Participant>,
    /// Participants known only by their address that are now this person.
    pub identified: Vec<(String, i64)>,
    /// The activity's flags afterwards, (reason, address).
    pub flags: Vec<(String, String)>,
}

/// U3 for one activity. `mail`: the stored mail with its rep, None when the
/// message or the rep's person record is missing. `directory`: today's
/// match of every resolved address the activity is flagged about.
pub fn reevaluate(
    facts: &Facts<'_>,
    mail: Option<Replan<'_>>,
    directory: &HashMap<String, AddressMatch>,
    r: &Resolution<'_>,
) -> Update {
    let Some(Replan {
        mut input,
        owner,
        mut settings,
    }) = mail
    else {
        let why = if !facts.raw_stored && !facts.headers_stored {
            "the message is not stored"
        } else {
            "its rep has no person record (M9)"
        };
        return recheck(facts, directory, r, why);
    };
    settings.headers_only = !facts.raw_stored;
    // A person's choice for an ambiguous address stays: U2 assignments,
    // and the import wizard's choice of the sender (W2).
    let wizard = facts.rule == Some("W2");
    let mut choices = r.chosen.clone();
    if wizard && let (Some(Attach::Person(p)), Some(from)) = (facts.attach, &input.from) {
        choices.insert(from.m.address.clone(), p);
    }
    for party in input
        .from
        .iter_mut()
        .chain(input.to.iter_mut())
        .chain(input.cc.iter_mut())
    {
        if let (PersonMatch::Ambiguous(ids), Some(p)) =
            (&party.m.person, choices.get(&party.m.address))
            && ids.contains(p)
        {
            party.m.person = PersonMatch::Unique(*p);
        }
    }
    let known = Known {
        existing: None,
        // M17: a reply stays with its thread.
        thread: if facts.rule == Some("M17") {
            facts.attach
        } else {
            None
        },
    };
    let folder = Folder {
        status: Some(facts.status.to_string()),
        // The mail is imported already: M13 does not apply again.
        import_folder: true,
    };
    let p = match mail::plan(&input, owner, &folder, &settings, &known) {
        MailAction::Import(p) => p,
        MailAction::Skip(skip) => {
            let why = format!(
                "the mail would now be skipped ({} {}: {})",
                skip.rule, skip.reason, skip.detail
            );
            return recheck(facts, directory, r, &why);
        }
        MailAction::AddOwner { .. } => {
            return recheck(facts, directory, r, "unexpected M3 plan");
        }
    };
    let (attach, rule) = match (wizard, facts.attach) {
        (true, Some(a)) => (a, Rule::W2),
        _ => (p.attach, p.rule),
    };
    let mut explain = p.why.clone();
    if wizard {
        explain.push("attached as chosen in the import wizard (W2)".into());
    }
    explain.extend(earlier_resolutions(facts.explain));
    explain.push(format!(
        "resolve-unknown: {}; re-evaluated with the rules above (U3)",
        r.note
    ));
    let identified = input
        .from
        .iter()
        .chain(input.to.iter())
        .chain(input.cc.iter())
        .filter_map(|party| Some((party.m.address.clone(), party.m.person_id()?)))
        .collect();
    // M4's flag belongs to the stored attachments, not to the parties.
    let mut flags: Vec<(String, String)> = p
        .flags
        .iter()
        .filter(|f| f.reason != reason::ATTACHMENTS_DROPPED)
        .map(|f| (f.reason.to_string(), f.address.clone()))
        .collect();
    flags.extend(
        facts
            .flags
            .iter()
            .filter(|(r, _)| r == reason::ATTACHMENTS_DROPPED)
            .cloned(),
    );
    Update {
        placement: Some(Placement {
            attach,
            rule: rule.to_string(),
            explain,
        }),
        participants: p.participants,
        identified,
        flags,
    }
}

/// U3 without a plan: only the flags about the resolved addresses are
/// looked at again, and a sender that is now a person takes the activity.
fn recheck(
    facts: &Facts<'_>,
    directory: &HashMap<String, AddressMatch>,
    r: &Resolution<'_>,
    why: &str,
) -> Update {
    let mut attach = facts.attach;
    let mut rule = facts.rule.map(str::to_string);
    let mut flags = Vec::new();
    let mut identified = Vec::new();
    for (reason, addr) in facts.flags {
        let m = match directory.get(addr) {
            Some(m) if r.resolved.contains(addr) => m,
            _ => {
                flags.push((reason.clone(), addr.clone()));
                continue;
            }
        };
        if m.ignored {
            // M14: an ignored address stops flagging.
            continue;
        }
        let person = match &m.person {
            PersonMatch::Unique(p) => Some(*p),
            PersonMatch::Ambiguous(ids) => r.chosen.get(addr).filter(|p| ids.contains(p)).copied(),
            PersonMatch::Unknown => None,
        };
        let sender = reason == reason::UNKNOWN_SENDER || reason == reason::AMBIGUOUS_SENDER;
        let placed_by_sender = matches!(rule.as_deref(), Some("M7" | "M10"));
        if let Some(p) = person {
            identified.push((addr.clone(), p));
            if sender && placed_by_sender {
                attach = Some(Attach::Person(p));
                rule = Some("M6".into());
            }
            continue;
        }
        if let (true, Some(c), Some("M7")) = (sender, m.company, rule.as_deref()) {
            attach = Some(Attach::Company(c));
            rule = Some("M10".into());
        }
        // M10: the person stays unknown, so the flag stays.
        flags.push((reason.clone(), addr.clone()));
    }
    let mut explain = facts.explain.to_vec();
    explain.push(format!(
        "resolve-unknown: {}; {why}, so only the addresses concerned were re-checked (U3)",
        r.note
    ));
    Update {
        placement: attach.map(|attach| Placement {
            attach,
            rule: rule.unwrap_or_default(),
            explain,
        }),
        participants: Vec::new(),
        identified,
        flags,
    }
}

/// The lines earlier resolutions appended to an activity's explanation.
fn earlier_resolutions(explain: &[String]) -> impl Iterator<Item = String> + '_ {
    explain
        .iter()
        .filter(|l| l.starts_with("resolve-unknown:"))
        .cloned()
}

/// Splits a display name into (first, last): `Jane Doe`, `Mary Ann Smith`
/// (last word is the last name), `Doe, Jane`. None for an empty name or
/// one that is an address.
pub fn split_name(display: &str) -> Option<(String, String)> {
    let t = display
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .trim();
    if t.is_empty() || t.contains('@') {
        return None;
    }
    if let Some((last, first)) = t.split_once(',') {
        let (first, last) = (first.trim(), last.trim());
        if !first.is_empty() && !last.is_empty() {
            return Some((first.to_string(), last.to_string()));
        }
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    match words.as_slice() {
        [] => None,
        [one] => Some((one.to_string(), String::new())),
        [first @ .., last] => Some((first.join(" "), last.to_string())),
    }
}

/// U2 "create a person": names from the first usable display name, else
/// from a local part such as `max.muster`; empty when neither helps.
pub fn names_for(display_names: &[String], address: &str) -> (String, String) {
    if let Some(n) = display_names.iter().find_map(|n| split_name(n)) {
        return n;
    }
    let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
    let parts: Vec<String> = local
        .split(['.', '_'])
        .filter(|p| !p.is_empty() && p.chars().all(char::is_alphabetic))
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        })
        .collect();
    match parts.as_slice() {
        [first @ .., last] if !first.is_empty() => (first.join(" "), last.clone()),
        _ => (String::new(), String::new()),
    }
}

/// A domain as given (`acme.example`, `@acme.example`), lower case; None
/// when it cannot be a domain.
pub fn parse_domain(s: &str) -> Option<String> {
    let d = s.trim().trim_start_matches('@').to_lowercase();
    let ok = !d.is_empty()
        && !d.contains('@')
        && !d.starts_with('.')
        && !d.ends_with('.')
        && !d.contains("..")
        && d.chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    ok.then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::mail::Party;
    use crate::plan::mail::tests::m;

    const OWNER: i64 = 3;

    fn unique(addr: &str, id: i64) -> AddressMatch {
        AddressMatch {
            person: PersonMatch::Unique(id),
            ..m(addr)
        }
    }
    fn ambiguous(addr: &str, ids: &[i64]) -> AddressMatch {
        AddressMatch {
            person: PersonMatch::Ambiguous(ids.to_vec()),
            ..m(addr)
        }
    }
    fn company(addr: &str, c: i64) -> AddressMatch {
        AddressMatch {
            company: Some(c),
            ..m(addr)
        }
    }
    fn ignored(addr: &str) -> AddressMatch {
        AddressMatch {
            ignored: true,
            ..m(addr)
        }
    }
    fn party(m: AddressMatch) -> Party {
        Party {
            display_name: None,
            m,
        }
    }
    fn owner() -> Owner {
        Owner {
            login: "alice".into(),
            person_id: OWNER,
            addresses: vec!["alice@us.example".into()],
        }
    }
    fn alice() -> Party {
        party(AddressMatch {
            user: Some("alice".into()),
            ..unique("alice@us.example", OWNER)
        })
    }
    fn settings() -> Settings {
        Settings {
            max_size: 1_000_000,
            warn_owner: false,
            scan_all: true,
            import_internal: false,
            headers_only: false,
        }
    }
    fn input(from: AddressMatch, to: Vec<Party>) -> MailInput {
        MailInput {
            from: Some(party(from)),
            to,
            cc: Vec::new(),
            automated: false,
            raw_size: 1000,
            text_size: 800,
            attachment_count: 0,
        }
    }
    fn flags(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(r, a)| (r.to_string(), a.to_string()))
            .collect()
    }

    /// A resolution of `x@new.example`, with the person chosen for it.
    struct Resolved {
        resolved: BTreeSet<String>,
        chosen: HashMap<String, i64>,
        note: &'static str,
    }

    impl Resolved {
        fn x(note: &'static str, choice: Option<i64>) -> Resolved {
            let x = "x@new.example".to_string();
            Resolved {
                resolved: BTreeSet::from([x.clone()]),
                chosen: choice.map(|p| (x, p)).into_iter().collect(),
                note,
            }
        }
        fn get(&self) -> Resolution<'_> {
            Resolution {
                resolved: &self.resolved,
                note: self.note,
                chosen: &self.chosen,
            }
        }
    }

    fn replan(owner: &Owner, sender: AddressMatch, to: Vec<Party>) -> Replan<'_> {
        Replan {
            input: input(sender, to),
            owner,
            settings: settings(),
        }
    }

    /// One activity as stored.
    struct Stored {
        attach: Option<Attach>,
        rule: Option<&'static str>,
        flags: Vec<(String, String)>,
        explain: Vec<String>,
        stored: (bool, bool),
    }

    impl Stored {
        fn facts(&self) -> Facts<'_> {
            Facts {
                status: "done",
                attach: self.attach,
                rule: self.rule,
                explain: &self.explain,
                flags: &self.flags,
                raw_stored: self.stored.0,
                headers_stored: self.stored.1,
            }
        }
    }

    fn stored(
        attach: Option<Attach>,
        rule: Option<&'static str>,
        f: &[(&str, &str)],
        stored: (bool, bool),
    ) -> Stored {
        Stored {
            attach,
            rule,
            flags: flags(f),
            explain: vec!["imported (M7)".into()],
            stored,
        }
    }

    const UNKNOWN: &str = reason::UNKNOWN_SENDER;
    const AMBIGUOUS: &str = reason::AMBIGUOUS_SENDER;
    const RECIPIENT: &str = reason::UNIDENTIFIED_RECIPIENT;
    const DROPPED: &str = reason::ATTACHMENTS_DROPPED;

    #[test]
    fn u3_recheck_without_a_stored_message_table() {
        let p = Attach::Person;
        let c = Attach::Company;
        // (case, stored, directory answer for x@new.example, chosen,
        //  expected placement, identified, flags)
        #[allow(clippy::type_complexity)]
        let cases: Vec<(
            &str,
            Stored,
            AddressMatch,
            Option<i64>,
            Option<(Attach, &str)>,
            Vec<(String, i64)>,
            Vec<(String, String)>,
        )> = vec![
            (
                "M14: an ignored address stops flagging",
                stored(
                    Some(p(OWNER)),
                    Some("M7"),
                    &[(UNKNOWN, "x@new.example")],
                    (false, false),
                ),
                ignored("x@new.example"),
                None,
                Some((p(OWNER), "M7")),
                vec![],
                vec![],
            ),
            (
                "U3: a sender that is now a person takes an M7 activity (M6)",
                stored(
                    Some(p(OWNER)),
                    Some("M7"),
                    &[(UNKNOWN, "x@new.example")],
                    (false, false),
                ),
                unique("x@new.example", 6),
                None,
                Some((p(6), "M6")),
                vec![("x@new.example".into(), 6)],
                vec![],
            ),
            (
                "U3: and an M10 one",
                stored(
                    Some(c(2)),
                    Some("M10"),
                    &[(UNKNOWN, "x@new.example")],
                    (false, false),
                ),
                unique("x@new.example", 6),
                None,
                Some((p(6), "M6")),
                vec![("x@new.example".into(), 6)],
                vec![],
            ),
            (
                "U3: a recipient is identified, the place stays",
                stored(
                    Some(p(1)),
                    Some("M6"),
                    &[(RECIPIENT, "x@new.example")],
                    (false, false),
                ),
                unique("x@new.example", 6),
                None,
                Some((p(1), "M6")),
                vec![("x@new.example".into(), 6)],
                vec![],
            ),
            (
                "U2: an ambiguous address assigned to one of its persons",
                stored(
                    Some(p(OWNER)),
                    Some("M7"),
                    &[(AMBIGUOUS, "x@new.example")],
                    (false, false),
                ),
                ambiguous("x@new.example", &[4, 5]),
                Some(5),
                Some((p(5), "M6")),
                vec![("x@new.example".into(), 5)],
                vec![],
            ),
            (
                "U2: a choice outside its persons does not count",
                stored(
                    Some(p(OWNER)),
                    Some("M7"),
                    &[(AMBIGUOUS, "x@new.example")],
                    (false, false),
                ),
                ambiguous("x@new.example", &[4, 5]),
                Some(6),
                Some((p(OWNER), "M7")),
                vec![],
                flags(&[(AMBIGUOUS, "x@new.example")]),
            ),
            (
                "M10: the company by domain takes an M7 activity, the flag stays",
                stored(
                    Some(p(OWNER)),
                    Some("M7"),
                    &[(UNKNOWN, "x@new.example")],
                    (false, false),
                ),
                company("x@new.example", 2),
                None,
                Some((c(2), "M10")),
                vec![],
                flags(&[(UNKNOWN, "x@new.example")]),
            ),
            (
                "M10: a recipient's company moves nothing",
                stored(
                    Some(p(1)),
                    Some("M6"),
                    &[(RECIPIENT, "x@new.example")],
                    (false, false),
                ),
                company("x@new.example", 2),
                None,
                Some((p(1), "M6")),
                vec![],
                flags(&[(RECIPIENT, "x@new.example")]),
            ),
            (
                "U3: an activity without a place keeps none",
                stored(None, None, &[(RECIPIENT, "x@new.example")], (false, false)),
                unique("x@new.example", 6),
                None,
                None,
                vec![("x@new.example".into(), 6)],
                vec![],
            ),
        ];
        for (case, s, answer, choice, placement, identified, want_flags) in cases {
            let mut s = s;
            // A flag about an address this resolution did not touch stays.
            s.flags.push((RECIPIENT.into(), "other@new.example".into()));
            let directory = HashMap::from([("x@new.example".to_string(), answer)]);
            let r = Resolved::x("x@new.example resolved", choice);
            let u = reevaluate(&s.facts(), None, &directory, &r.get());
            assert_eq!(
                u.placement.as_ref().map(|p| (p.attach, p.rule.as_str())),
                placement,
                "{case}"
            );
            assert_eq!(u.identified, identified, "{case}");
            let mut want_flags = want_flags;
            want_flags.push((RECIPIENT.into(), "other@new.example".into()));
            assert_eq!(u.flags, want_flags, "{case}");
            assert!(u.participants.is_empty(), "{case}");
            if let Some(p) = &u.placement {
                assert_eq!(p.explain[0], "imported (M7)", "{case}: earlier lines stay");
                assert_eq!(
                    p.explain.last().map(String::as_str),
                    Some(
                        "resolve-unknown: x@new.example resolved; the message is not stored, \
                         so only the addresses concerned were re-checked (U3)"
                    ),
                    "{case}"
                );
            }
        }
    }

    #[test]
    fn u3_why_only_a_recheck() {
        let cases = [
            ((false, false), "the message is not stored"),
            ((true, false), "its rep has no person record (M9)"),
            ((false, true), "its rep has no person record (M9)"),
        ];
        for (kept, why) in cases {
            let s = stored(Some(Attach::Person(OWNER)), Some("M7"), &[], kept);
            let r = Resolved::x("n", None);
            let u = reevaluate(&s.facts(), None, &HashMap::new(), &r.get());
            let explain = u.placement.map(|p| p.explain).unwrap_or_default();
            assert!(
                explain.last().is_some_and(|l| l.contains(why)),
                "{kept:?}: {explain:?}"
            );
        }
    }

    #[test]
    fn u3_replan_table() {
        let p = Attach::Person;
        let c = Attach::Company;
        // (case, stored, sender's match today, chosen, expected place, flags)
        #[allow(clippy::type_complexity)]
        let cases: Vec<(
            &str,
            Stored,
            AddressMatch,
            Option<i64>,
            (Attach, &str),
            Vec<(String, String)>,
        )> = vec![
            (
                "M6: an assigned sender takes the activity",
                stored(
                    Some(p(OWNER)),
                    Some("M7"),
                    &[(UNKNOWN, "x@new.example")],
                    (true, false),
                ),
                unique("x@new.example", 6),
                None,
                (p(6), "M6"),
                vec![],
            ),
            (
                "U2: an ambiguous sender assigned to one of its persons",
                stored(
                    Some(p(OWNER)),
                    Some("M7"),
                    &[(AMBIGUOUS, "x@new.example")],
                    (true, false),
                ),
                ambiguous("x@new.example", &[4, 5]),
                Some(5),
                (p(5), "M6"),
                vec![],
            ),
            (
                "W2: the import wizard's choice stays",
                stored(Some(p(4)), Some("W2"), &[], (true, false)),
                ambiguous("x@new.example", &[4, 5]),
                None,
                (p(4), "W2"),
                vec![],
            ),
            (
                "M17: a reply stays with its thread",
                stored(
                    Some(c(9)),
                    Some("M17"),
                    &[(UNKNOWN, "x@new.example")],
                    (true, false),
                ),
                m("x@new.example"),
                None,
                (c(9), "M17"),
                flags(&[(UNKNOWN, "x@new.example")]),
            ),
            (
                "M4: the stored attachments' flag stays",
                stored(
                    Some(p(OWNER)),
                    Some("M7"),
                    &[(DROPPED, ""), (UNKNOWN, "x@new.example")],
                    (true, false),
                ),
                unique("x@new.example", 6),
                None,
                (p(6), "M6"),
                flags(&[(DROPPED, "")]),
            ),
        ];
        for (case, s, sender, choice, (attach, rule), want_flags) in cases {
            let owner = owner();
            let mail = replan(&owner, sender, vec![alice()]);
            let r = Resolved::x("x@new.example resolved", choice);
            let u = reevaluate(&s.facts(), Some(mail), &HashMap::new(), &r.get());
            let place = u.placement.expect(case);
            assert_eq!(
                (place.attach, place.rule.as_str()),
                (attach, rule),
                "{case}"
            );
            assert_eq!(u.flags, want_flags, "{case}");
            assert_eq!(
                place.explain.last().map(String::as_str),
                Some(
                    "resolve-unknown: x@new.example resolved; re-evaluated with the rules above (U3)"
                ),
                "{case}"
            );
            assert!(
                !place.explain.iter().any(|l| l == "imported (M7)"),
                "{case}: the old decisions give way to the new plan"
            );
            if rule == "W2" {
                assert!(
                    place
                        .explain
                        .iter()
                        .any(|l| l == "attached as chosen in the import wizard (W2)"),
                    "{case}"
                );
            }
        }
    }

    #[test]
    fn u3_replan_keeps_earlier_resolutions_and_identifies_parties() {
        let mut s = stored(
            Some(Attach::Person(OWNER)),
            Some("M7"),
            &[(UNKNOWN, "x@new.example"), (RECIPIENT, "b@new.example")],
            (true, false),
        );
        s.explain
            .push("resolve-unknown: b@new.example ignored; re-evaluated (U3)".into());
        let owner = owner();
        let mail = replan(
            &owner,
            unique("x@new.example", 6),
            vec![alice(), party(m("b@new.example"))],
        );
        let r = Resolved::x("x assigned", None);
        let u = reevaluate(&s.facts(), Some(mail), &HashMap::new(), &r.get());
        let place = u.placement.unwrap();
        let n = place.explain.len();
        assert_eq!(
            place.explain[n - 2],
            "resolve-unknown: b@new.example ignored; re-evaluated (U3)"
        );
        assert_eq!(
            u.identified,
            vec![
                ("x@new.example".to_string(), 6),
                ("alice@us.example".to_string(), OWNER)
            ]
        );
        assert_eq!(u.flags, flags(&[(RECIPIENT, "b@new.example")]));
        assert!(
            u.participants
                .iter()
                .any(|p| p.address == "b@new.example" && p.person_id.is_none())
        );
    }

    #[test]
    fn u3_a_mail_now_skipped_is_only_rechecked() {
        // M14: the only external party is ignored now.
        let s = stored(
            Some(Attach::Person(OWNER)),
            Some("M7"),
            &[(UNKNOWN, "x@new.example")],
            (true, false),
        );
        let owner = owner();
        let mail = replan(&owner, ignored("x@new.example"), vec![alice()]);
        let r = Resolved::x("x ignored", None);
        let directory = HashMap::from([("x@new.example".to_string(), ignored("x@new.example"))]);
        let u = reevaluate(&s.facts(), Some(mail), &directory, &r.get());
        let place = u.placement.unwrap();
        assert_eq!(
            (place.attach, place.rule.as_str()),
            (Attach::Person(OWNER), "M7")
        );
        assert!(
            place
                .explain
                .last()
                .is_some_and(|l| l.contains("the mail would now be skipped (M14 ignored")),
            "{:?}",
            place.explain
        );
        assert!(u.flags.is_empty());
    }

    #[test]
    fn u2_names_from_display_name() {
        let s = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(split_name("Jane Doe"), s("Jane", "Doe"));
        assert_eq!(split_name("  \"Mary Ann Smith\" "), s("Mary Ann", "Smith"));
        assert_eq!(split_name("Doe, Jane"), s("Jane", "Doe"));
        assert_eq!(split_name("Cher"), s("Cher", ""));
        assert_eq!(split_name("x@y.example"), None);
        assert_eq!(split_name("  "), None);
    }

    #[test]
    fn u2_names_fall_back_to_the_local_part() {
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            names_for(&["Xavier New".into()], "x@nowhere.example"),
            pair("Xavier", "New")
        );
        assert_eq!(
            names_for(&["x@nowhere.example".into()], "max.muster@acme.example"),
            pair("Max", "Muster")
        );
        assert_eq!(names_for(&[], "sales@acme.example"), pair("", ""));
        assert_eq!(names_for(&[], "info2.x@acme.example"), pair("", ""));
    }

    #[test]
    fn u4_domains() {
        assert_eq!(parse_domain("@Acme.Example"), Some("acme.example".into()));
        assert_eq!(parse_domain("acme.example"), Some("acme.example".into()));
        assert_eq!(parse_domain("a@acme.example"), None);
        assert_eq!(parse_domain("acme example"), None);
        assert_eq!(parse_domain(""), None);
        assert_eq!(parse_domain(".acme"), None);
    }
}
