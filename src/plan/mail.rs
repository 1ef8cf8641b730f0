//! Where an imported mail goes (SPEC 2: M3-M19): a pure function of the
//! parsed mail, the address matches, the owner and the folder. Every arm
//! names its rule, and the rule that placed the activity is kept for
//! `explain` (X9).

use serde::Serialize;

use crate::matching::{AddressMatch, PersonMatch};
use crate::model::{Attach, Flag, Participant, Queued, Rule, reason};

/// Where and how to import a mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// `email_in` or `email_out` (M15).
    pub kind: &'static str,
    pub status: String,
    pub attach: Attach,
    pub rep: String,
    pub participants: Vec<Participant>,
    pub flags: Vec<Flag>,
    pub queue: Vec<Queued>,
    /// The rule that chose `attach` (X9).
    pub rule: Rule,
    /// One line per decision, for `explain` (X9).
    pub why: Vec<String>,
    /// M4: import without attachments.
    pub drop_attachments: bool,
    /// M19: keep only subject, parties and dates.
    pub headers_only: bool,
    /// M5: the owner gets a notice about this mail.
    pub notify_owner: bool,
    /// Candidate persons of an ambiguous sender: a mandatory choice for the
    /// wizard (W2); unattended runs keep the flag (W6).
    pub choices: Vec<i64>,
}

/// Why a mail is not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub rule: Rule,
    pub reason: &'static str,
    pub detail: String,
    /// M5: the owner gets a notice (mail too large).
    pub notify_owner: bool,
}

/// The plan for one mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum MailAction {
    Import(Placement),
    /// M3: the same mail was imported from another mailbox: the owner joins
    /// the existing activity as participant.
    AddOwner {
        activity_id: i64,
        person_id: i64,
    },
    Skip(Skip),
}

/// A party of the mail with its match.
#[derive(Debug, Clone)]
pub struct Party {
    pub display_name: Option<String>,
    pub m: AddressMatch,
}

/// Everything the rules look at, resolved by the caller.
#[derive(Debug, Clone)]
pub struct MailInput {
    pub from: Option<Party>,
    /// To recipients in order, then Cc.
    pub to: Vec<Party>,
    pub cc: Vec<Party>,
    /// M18: automated headers (Auto-Submitted, List-Id, Precedence).
    pub automated: bool,
    pub raw_size: u64,
    pub text_size: u64,
    pub attachment_count: usize,
}

/// Who reads the mailbox and where the mail lies.
#[derive(Debug, Clone)]
pub struct Owner {
    pub login: String,
    /// The owner's own person record (M9: required).
    pub person_id: i64,
    /// Normalised addresses of the owner (primary and aliases).
    pub addresses: Vec<String>,
}

/// Account settings after defaults (SPEC 8 `[mail]`).
#[derive(Debug, Clone)]
pub struct Settings {
    pub max_size: u64,
    pub warn_owner: bool,
    pub scan_all: bool,
    pub import_internal: bool,
    pub headers_only: bool,
}

/// What the state file says about this mail.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// M3: an activity with this Message-ID or content hash, and whether
    /// this owner is already on it.
    pub existing: Option<(i64, bool)>,
    /// M17: the record the thread's earlier mail is attached to.
    pub thread: Option<Attach>,
}

/// The folder's part: its M2 status and whether it is an import folder (M13).
#[derive(Debug, Clone)]
pub struct Folder {
    pub status: Option<String>,
    pub import_folder: bool,
}

fn is_owner(owner: &Owner, m: &AddressMatch) -> bool {
    owner.addresses.contains(&m.address)
}

/// M18: addresses that never enter the queue and never create anything.
fn quiet(m: &AddressMatch, automated_mail: bool) -> bool {
    automated_mail || m.automated || m.own_domain || m.user.is_some()
}

/// Plans one mail. Pure: the same inputs give the same plan.
pub fn plan(
    mail: &MailInput,
    owner: &Owner,
    folder: &Folder,
    settings: &Settings,
    known: &Known,
) -> MailAction {
    let skip = |rule, reason, detail: String| {
        MailAction::Skip(Skip {
            rule,
            reason,
            detail,
            notify_owner: false,
        })
    };
    // M3: one activity per mail, whatever the mailbox.
    if let Some((activity_id, owner_on_it)) = known.existing {
        return if owner_on_it {
            skip(
                Rule::M3,
                "already_imported",
                format!("already imported as activity {activity_id}"),
            )
        } else {
            MailAction::AddOwner {
                activity_id,
                person_id: owner.person_id,
            }
        };
    }
    // M4: size limits.
    let mut drop_attachments = false;
    if mail.raw_size > settings.max_size {
        if mail.text_size > settings.max_size {
            return MailAction::Skip(Skip {
                rule: Rule::M4,
                reason: "too_large",
                detail: format!(
                    "{} bytes, text alone {} bytes, over max_size {}",
                    mail.raw_size, mail.text_size, settings.max_size
                ),
                notify_owner: settings.warn_owner,
            });
        }
        drop_attachments = mail.attachment_count > 0;
    }

    let outgoing = mail.from.as_ref().is_some_and(|f| is_owner(owner, &f.m));
    // The parties other than the owner.
    let others: Vec<&Party> = mail
        .from
        .iter()
        .chain(mail.to.iter())
        .chain(mail.cc.iter())
        .filter(|p| !is_owner(owner, &p.m))
        .collect();
    // M13: a mail that names no usable address at all (From, To and Cc
    // empty or unreadable) has no party, so none is known: an import folder
    // takes it (attached to the owner, M7), a whole mailbox skips it as such.
    let no_address = mail.from.is_none() && mail.to.is_empty() && mail.cc.is_empty();
    if no_address {
        if !folder.import_folder && !settings.scan_all {
            return skip(
                Rule::M13,
                "no_address",
                "From, To and Cc name no usable address, so no party is known (scan_all = false)"
                    .into(),
            );
        }
    } else if !settings.import_internal && others.iter().all(|p| p.m.user.is_some()) {
        // M12: only internal users take part (the owner alone included).
        return skip(
            Rule::M12,
            "internal",
            "every party is an internal user".into(),
        );
    }
    // M14: the only external parties are ignored.
    let external: Vec<&&Party> = others.iter().filter(|p| p.m.user.is_none()).collect();
    if !external.is_empty() && external.iter().all(|p| p.m.ignored) {
        return skip(
            Rule::M14,
            "ignored",
            format!("only ignored parties: {}", addresses(&external)),
        );
    }
    // M13: whole mailboxes import only mail with a known party.
    // An ambiguous address is matched too (to several persons): it is a
    // customer, the wizard or resolve-unknown settles which one.
    let known_party = others.iter().any(|p| {
        p.m.user.is_none()
            && !p.m.ignored
            && (p.m.person != PersonMatch::Unknown || p.m.company.is_some())
    });
    if !folder.import_folder && !settings.scan_all && !known_party {
        return skip(
            Rule::M13,
            "no_known_party",
            "no party is a known person or company (scan_all = false)".into(),
        );
    }

    let mut why = Vec::new();
    let mut flags = Vec::new();
    let mut queue = Vec::new();
    let mut participants = Vec::new();
    let mut choices = Vec::new();
    let note = |p: &Party, why: &mut Vec<String>| {
        why.push(match (&p.m.person, p.m.company) {
            _ if p.m.ignored => format!("{}: ignored (M14)", p.m.address),
            (PersonMatch::Unique(id), _) => format!("{}: person {id}", p.m.address),
            (PersonMatch::Ambiguous(ids), _) => {
                format!("{}: ambiguous, persons {ids:?}", p.m.address)
            }
            (PersonMatch::Unknown, Some(c)) => format!(
                "{}: unknown person, company {c} by domain (M10)",
                p.m.address
            ),
            (PersonMatch::Unknown, None) => format!("{}: unknown", p.m.address),
        });
    };

    // Recipients (M8, M11): identified ones participate; others flag and queue.
    let recipients: Vec<&Party> = mail
        .to
        .iter()
        .chain(mail.cc.iter())
        .filter(|p| !is_owner(owner, &p.m))
        .collect();
    for p in &recipients {
        note(p, &mut why);
        if p.m.ignored {
            continue;
        }
        if participants
            .iter()
            .any(|x: &Participant| x.address == p.m.address)
        {
            continue;
        }
        match p.m.person_id() {
            Some(id) => participants.push(Participant {
                address: p.m.address.clone(),
                person_id: Some(id),
            }),
            None => {
                participants.push(Participant {
                    address: p.m.address.clone(),
                    person_id: None,
                });
                if !quiet(&p.m, mail.automated) {
                    flags.push(Flag {
                        reason: reason::UNIDENTIFIED_RECIPIENT,
                        address: p.m.address.clone(),
                    });
                    queue.push(Queued {
                        address: p.m.address.clone(),
                        display_name: p.display_name.clone(),
                    });
                }
            }
        }
    }

    let (kind, mut attach, mut rule) = if outgoing {
        // M11: the first uniquely identified To recipient.
        let to: Vec<&Party> = mail
            .to
            .iter()
            .filter(|p| !is_owner(owner, &p.m) && !p.m.ignored)
            .collect();
        if let Some((p, id)) = to.iter().find_map(|p| p.m.person_id().map(|id| (p, id))) {
            why.push(format!(
                "outgoing: attached to the first identified To recipient {} (M11)",
                p.m.address
            ));
            participants.retain(|x| x.address != p.m.address);
            ("email_out", Attach::Person(id), Rule::M11)
        } else if let Some(c) = to.iter().find_map(|p| p.m.company) {
            why.push(format!(
                "outgoing: no identified To recipient; company {c} by domain (M10)"
            ));
            ("email_out", Attach::Company(c), Rule::M10)
        } else {
            why.push("outgoing: no identified To recipient; attached to the owner (M11)".into());
            ("email_out", Attach::Person(owner.person_id), Rule::M11)
        }
    } else {
        match mail.from.as_ref() {
            Some(from) => {
                note(from, &mut why);
                match (&from.m.person, from.m.company) {
                    (PersonMatch::Unique(id), _) if !from.m.ignored => {
                        why.push(format!(
                            "incoming from a known person: attached to person {id} (M6)"
                        ));
                        ("email_in", Attach::Person(*id), Rule::M6)
                    }
                    (person, company) => {
                        let ambiguous = matches!(person, PersonMatch::Ambiguous(_));
                        if let PersonMatch::Ambiguous(ids) = person {
                            choices = ids.clone();
                        }
                        if !from.m.ignored && !quiet(&from.m, mail.automated) {
                            flags.push(Flag {
                                reason: if ambiguous {
                                    reason::AMBIGUOUS_SENDER
                                } else {
                                    reason::UNKNOWN_SENDER
                                },
                                address: from.m.address.clone(),
                            });
                            queue.push(Queued {
                                address: from.m.address.clone(),
                                display_name: from.display_name.clone(),
                            });
                        }
                        match company {
                            Some(c) if !ambiguous && !from.m.ignored => {
                                why.push(format!(
                                    "sender unknown: linked to company {c} by domain (M10)"
                                ));
                                ("email_in", Attach::Company(c), Rule::M10)
                            }
                            _ => {
                                why.push("sender not uniquely identified: attached to the owner, flagged (M7)".into());
                                ("email_in", Attach::Person(owner.person_id), Rule::M7)
                            }
                        }
                    }
                }
            }
            None => {
                why.push("no sender: attached to the owner (M7)".into());
                ("email_in", Attach::Person(owner.person_id), Rule::M7)
            }
        }
    };
    // M17: a reply goes where its thread is.
    if let Some(t) = known.thread {
        why.push(format!(
            "reply to an imported mail: attached like the thread ({t:?}) (M17)"
        ));
        attach = t;
        rule = Rule::M17;
    }
    if drop_attachments {
        why.push(format!(
            "{} bytes over max_size {}: imported without attachments (M4)",
            mail.raw_size, settings.max_size
        ));
        flags.push(Flag {
            reason: reason::ATTACHMENTS_DROPPED,
            address: String::new(),
        });
    }
    if settings.headers_only {
        why.push("privacy = headers: subject, parties and dates only (M19)".into());
    }
    participants.retain(|p| match attach {
        Attach::Person(id) => p.person_id != Some(id),
        Attach::Company(_) => true,
    });
    queue.dedup_by(|a, b| a.address == b.address);
    MailAction::Import(Placement {
        kind,
        status: folder.status.clone().unwrap_or_else(|| "I".into()),
        attach,
        rep: owner.login.clone(),
        participants,
        flags,
        queue,
        rule,
        why,
        drop_attachments,
        headers_only: settings.headers_only,
        notify_owner: drop_attachments && settings.warn_owner,
        choices,
    })
}

fn addresses(ps: &[&&Party]) -> String {
    ps.iter()
        .map(|p| p.m.address.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const OWNER_PERSON: i64 = 1;

    /// An address nobody is known by (shared with the U3 planner's tests).
    pub(crate) fn m(addr: &str) -> AddressMatch {
        AddressMatch {
            address: addr.to_string(),
            person: PersonMatch::Unknown,
            company: None,
            ignored: false,
            user: None,
            own_domain: addr.ends_with("@us.example"),
            free_mail: addr.ends_with("@gmail.com"),
            automated: addr.starts_with("noreply@"),
        }
    }
    fn person(addr: &str, id: i64) -> Party {
        Party {
            display_name: None,
            m: AddressMatch {
                person: PersonMatch::Unique(id),
                ..m(addr)
            },
        }
    }
    fn unknown(addr: &str) -> Party {
        Party {
            display_name: Some("Some One".into()),
            m: m(addr),
        }
    }
    fn ambiguous(addr: &str, ids: &[i64]) -> Party {
        Party {
            display_name: None,
            m: AddressMatch {
                person: PersonMatch::Ambiguous(ids.to_vec()),
                ..m(addr)
            },
        }
    }
    fn company(addr: &str, c: i64) -> Party {
        Party {
            display_name: None,
            m: AddressMatch {
                company: Some(c),
                ..m(addr)
            },
        }
    }
    fn user(addr: &str, login: &str, id: i64) -> Party {
        Party {
            display_name: None,
            m: AddressMatch {
                person: PersonMatch::Unique(id),
                user: Some(login.into()),
                ..m(addr)
            },
        }
    }
    fn ignored(addr: &str) -> Party {
        Party {
            display_name: None,
            m: AddressMatch {
                ignored: true,
                ..m(addr)
            },
        }
    }
    fn alice() -> Party {
        user("alice@us.example", "alice", OWNER_PERSON)
    }
    fn owner() -> Owner {
        Owner {
            login: "alice".into(),
            person_id: OWNER_PERSON,
            addresses: vec!["alice@us.example".into(), "a@us.example".into()],
        }
    }
    fn mail(from: Party, to: Vec<Party>, cc: Vec<Party>) -> MailInput {
        MailInput {
            from: Some(from),
            to,
            cc,
            automated: false,
            raw_size: 1000,
            text_size: 800,
            attachment_count: 1,
        }
    }
    fn inbox() -> Folder {
        Folder {
            status: None,
            import_folder: false,
        }
    }
    fn import_folder(status: Option<&str>) -> Folder {
        Folder {
            status: status.map(Into::into),
            import_folder: true,
        }
    }
    fn settings() -> Settings {
        Settings {
            max_size: 10_000,
            warn_owner: true,
            scan_all: false,
            import_internal: false,
            headers_only: false,
        }
    }
    fn placed(a: MailAction) -> Placement {
        match a {
            MailAction::Import(p) => p,
            other => panic!("expected an import, got {other:?}"),
        }
    }
    fn skipped(a: MailAction) -> Skip {
        match a {
            MailAction::Skip(s) => s,
            other => panic!("expected a skip, got {other:?}"),
        }
    }
    fn reasons(p: &Placement) -> Vec<(&str, &str)> {
        p.flags
            .iter()
            .map(|f| (f.reason, f.address.as_str()))
            .collect()
    }

    #[test]
    fn m6_known_sender_attaches_to_sender_rep_owner() {
        let p = placed(plan(
            &mail(person("jane@acme.example", 10), vec![alice()], vec![]),
            &owner(),
            &inbox(),
            &settings(),
            &Known::default(),
        ));
        assert_eq!(
            (p.kind, p.attach, p.rule, p.rep.as_str()),
            ("email_in", Attach::Person(10), Rule::M6, "alice")
        );
        assert!(p.flags.is_empty() && p.queue.is_empty());
        assert_eq!(p.status, "I");
    }

    #[test]
    fn m7_unknown_sender_attaches_to_owner_flagged_and_queued() {
        let p = placed(plan(
            &mail(unknown("x@nowhere.example"), vec![alice()], vec![]),
            &owner(),
            &import_folder(None),
            &settings(),
            &Known::default(),
        ));
        assert_eq!((p.attach, p.rule), (Attach::Person(OWNER_PERSON), Rule::M7));
        assert_eq!(reasons(&p), vec![("unknown_sender", "x@nowhere.example")]);
        assert_eq!(
            p.queue,
            vec![Queued {
                address: "x@nowhere.example".into(),
                display_name: Some("Some One".into())
            }]
        );
    }

    #[test]
    fn m7_ambiguous_sender_flagged_with_choices() {
        let p = placed(plan(
            &mail(
                ambiguous("info@roe.example", &[11, 12]),
                vec![alice()],
                vec![],
            ),
            &owner(),
            &import_folder(None),
            &settings(),
            &Known::default(),
        ));
        assert_eq!((p.attach, p.rule), (Attach::Person(OWNER_PERSON), Rule::M7));
        assert_eq!(reasons(&p), vec![("ambiguous_sender", "info@roe.example")]);
        assert_eq!(p.choices, vec![11, 12]);
    }

    #[test]
    fn m8_recipients_identified_participate_unidentified_flag() {
        let p = placed(plan(
            &mail(
                person("jane@acme.example", 10),
                vec![alice(), person("max@acme.example", 11)],
                vec![unknown("new@acme.example")],
            ),
            &owner(),
            &inbox(),
            &settings(),
            &Known::default(),
        ));
        assert_eq!(
            p.participants,
            vec![
                Participant {
                    address: "max@acme.example".into(),
                    person_id: Some(11)
                },
                Participant {
                    address: "new@acme.example".into(),
                    person_id: None
                },
            ]
        );
        assert_eq!(
            reasons(&p),
            vec![("unidentified_recipient", "new@acme.example")]
        );
        assert_eq!(p.queue.len(), 1);
    }

    #[test]
    fn m9_owner_is_never_a_participant_or_flag() {
        let p = placed(plan(
            &mail(
                person("jane@acme.example", 10),
                vec![alice(), user("a@us.example", "alice", 1)],
                vec![],
            ),
            &owner(),
            &inbox(),
            &settings(),
            &Known::default(),
        ));
        assert!(p.participants.is_empty() && p.flags.is_empty());
    }

    #[test]
    fn m10_unknown_sender_with_company_domain_links_company_flag_stays() {
        let p = placed(plan(
            &mail(company("sales@globex.example", 5), vec![alice()], vec![]),
            &owner(),
            &inbox(),
            &settings(),
            &Known::default(),
        ));
        assert_eq!((p.attach, p.rule), (Attach::Company(5), Rule::M10));
        assert_eq!(
            reasons(&p),
            vec![("unknown_sender", "sales@globex.example")]
        );
        assert_eq!(p.queue.len(), 1);
    }

    #[test]
    fn m11_outgoing_attaches_to_first_identified_to() {
        let p = placed(plan(
            &mail(
                alice(),
                vec![
                    unknown("x@y.example"),
                    person("jane@acme.example", 10),
                    person("max@acme.example", 11),
                ],
                vec![],
            ),
            &owner(),
            &inbox(),
            &settings(),
            &Known::default(),
        ));
        assert_eq!(
            (p.kind, p.attach, p.rule),
            ("email_out", Attach::Person(10), Rule::M11)
        );
        let addrs: Vec<&str> = p.participants.iter().map(|x| x.address.as_str()).collect();
        assert_eq!(addrs, vec!["x@y.example", "max@acme.example"]);
        assert_eq!(reasons(&p), vec![("unidentified_recipient", "x@y.example")]);
    }

    #[test]
    fn m11_outgoing_from_alias_counts_as_owner() {
        let p = placed(plan(
            &mail(
                user("a@us.example", "alice", 1),
                vec![person("jane@acme.example", 10)],
                vec![],
            ),
            &owner(),
            &inbox(),
            &settings(),
            &Known::default(),
        ));
        assert_eq!(p.kind, "email_out");
    }

    #[test]
    fn m12_internal_only_mail_is_skipped_unless_import_internal() {
        let m = mail(user("bob@us.example", "bob", 2), vec![alice()], vec![]);
        assert_eq!(
            skipped(plan(
                &m,
                &owner(),
                &import_folder(None),
                &settings(),
                &Known::default()
            ))
            .rule,
            Rule::M12
        );
        let s = Settings {
            import_internal: true,
            ..settings()
        };
        assert_eq!(
            placed(plan(
                &m,
                &owner(),
                &import_folder(None),
                &s,
                &Known::default()
            ))
            .attach,
            Attach::Person(2)
        );
    }

    #[test]
    fn m13_inbox_needs_a_known_party_import_folder_does_not() {
        let m = mail(unknown("x@nowhere.example"), vec![alice()], vec![]);
        assert_eq!(
            skipped(plan(&m, &owner(), &inbox(), &settings(), &Known::default())).rule,
            Rule::M13
        );
        placed(plan(
            &m,
            &owner(),
            &import_folder(None),
            &settings(),
            &Known::default(),
        ));
        let s = Settings {
            scan_all: true,
            ..settings()
        };
        placed(plan(&m, &owner(), &inbox(), &s, &Known::default()));
        // An ambiguous sender counts as matched.
        placed(plan(
            &mail(
                ambiguous("info@roe.example", &[11, 12]),
                vec![alice()],
                vec![],
            ),
            &owner(),
            &inbox(),
            &settings(),
            &Known::default(),
        ));
        // A company by domain (M10) counts as known.
        placed(plan(
            &mail(company("a@globex.example", 5), vec![alice()], vec![]),
            &owner(),
            &inbox(),
            &settings(),
            &Known::default(),
        ));
    }

    #[test]
    fn m14_ignored_parties_never_match_never_queue() {
        let only_ignored = mail(ignored("spam@x.example"), vec![alice()], vec![]);
        assert_eq!(
            skipped(plan(
                &only_ignored,
                &owner(),
                &import_folder(None),
                &settings(),
                &Known::default()
            ))
            .rule,
            Rule::M14
        );
        let p = placed(plan(
            &mail(
                person("jane@acme.example", 10),
                vec![alice(), ignored("list@x.example")],
                vec![],
            ),
            &owner(),
            &inbox(),
            &settings(),
            &Known::default(),
        ));
        assert!(p.flags.is_empty() && p.queue.is_empty() && p.participants.is_empty());
    }

    #[test]
    fn m4_over_limit_drops_attachments_or_skips() {
        let mut m = mail(person("jane@acme.example", 10), vec![alice()], vec![]);
        m.raw_size = 20_000;
        m.text_size = 5_000;
        let p = placed(plan(&m, &owner(), &inbox(), &settings(), &Known::default()));
        assert!(p.drop_attachments && p.notify_owner);
        assert_eq!(reasons(&p), vec![("attachments_dropped", "")]);
        m.text_size = 15_000;
        let s = skipped(plan(&m, &owner(), &inbox(), &settings(), &Known::default()));
        assert_eq!(
            (s.rule, s.reason, s.notify_owner),
            (Rule::M4, "too_large", true)
        );
        let quiet = Settings {
            warn_owner: false,
            ..settings()
        };
        assert!(!skipped(plan(&m, &owner(), &inbox(), &quiet, &Known::default())).notify_owner);
    }

    #[test]
    fn m2_m15_status_from_folder_else_i() {
        let m = mail(person("jane@acme.example", 10), vec![alice()], vec![]);
        assert_eq!(
            placed(plan(
                &m,
                &owner(),
                &import_folder(Some("E")),
                &settings(),
                &Known::default()
            ))
            .status,
            "E"
        );
        assert_eq!(
            placed(plan(&m, &owner(), &inbox(), &settings(), &Known::default())).status,
            "I"
        );
    }

    #[test]
    fn m3_same_mail_second_mailbox_adds_owner_once() {
        let m = mail(person("jane@acme.example", 10), vec![alice()], vec![]);
        let k = Known {
            existing: Some((77, false)),
            thread: None,
        };
        assert_eq!(
            plan(&m, &owner(), &inbox(), &settings(), &k),
            MailAction::AddOwner {
                activity_id: 77,
                person_id: OWNER_PERSON
            }
        );
        let k = Known {
            existing: Some((77, true)),
            thread: None,
        };
        assert_eq!(
            skipped(plan(&m, &owner(), &inbox(), &settings(), &k)).reason,
            "already_imported"
        );
    }

    #[test]
    fn m17_reply_follows_its_thread_and_still_flags() {
        let k = Known {
            existing: None,
            thread: Some(Attach::Company(9)),
        };
        let p = placed(plan(
            &mail(unknown("x@nowhere.example"), vec![alice()], vec![]),
            &owner(),
            &inbox(),
            &Settings {
                scan_all: true,
                ..settings()
            },
            &k,
        ));
        assert_eq!((p.attach, p.rule), (Attach::Company(9), Rule::M17));
        assert_eq!(reasons(&p), vec![("unknown_sender", "x@nowhere.example")]);
    }

    #[test]
    fn m18_automated_and_own_domain_never_queue_or_flag() {
        let mut m = mail(unknown("news@shop.example"), vec![alice()], vec![]);
        m.automated = true;
        let p = placed(plan(
            &m,
            &owner(),
            &import_folder(None),
            &settings(),
            &Known::default(),
        ));
        assert!(p.queue.is_empty() && p.flags.is_empty());
        assert_eq!(p.attach, Attach::Person(OWNER_PERSON));
        let p = placed(plan(
            &mail(unknown("noreply@shop.example"), vec![alice()], vec![]),
            &owner(),
            &import_folder(None),
            &settings(),
            &Known::default(),
        ));
        assert!(p.queue.is_empty());
        let p = placed(plan(
            &mail(
                person("jane@acme.example", 10),
                vec![alice(), unknown("support@us.example")],
                vec![],
            ),
            &owner(),
            &inbox(),
            &settings(),
            &Known::default(),
        ));
        assert!(p.queue.is_empty() && p.flags.is_empty());
        // Automated mail still links to existing records.
        let mut m = mail(person("jane@acme.example", 10), vec![alice()], vec![]);
        m.automated = true;
        assert_eq!(
            placed(plan(&m, &owner(), &inbox(), &settings(), &Known::default())).attach,
            Attach::Person(10)
        );
    }

    #[test]
    fn m13_mail_without_any_address_imports_in_import_folders_and_is_no_address_elsewhere() {
        // Issue 15: no party at all is not "every party is internal" (M12).
        let nobody = MailInput {
            from: None,
            ..mail(alice(), vec![], vec![])
        };
        let p = placed(plan(
            &nobody,
            &owner(),
            &import_folder(None),
            &settings(),
            &Known::default(),
        ));
        assert_eq!(
            (p.kind, p.attach, p.rule),
            ("email_in", Attach::Person(OWNER_PERSON), Rule::M7)
        );
        assert!(p.queue.is_empty());
        let s = skipped(plan(
            &nobody,
            &owner(),
            &inbox(),
            &settings(),
            &Known::default(),
        ));
        assert_eq!((s.rule, s.reason), (Rule::M13, "no_address"));
        assert!(s.detail.contains("no usable address"), "{}", s.detail);
        // scan_all imports it in a whole mailbox too.
        let scan_all = Settings {
            scan_all: true,
            ..settings()
        };
        assert_eq!(
            placed(plan(
                &nobody,
                &owner(),
                &inbox(),
                &scan_all,
                &Known::default()
            ))
            .rule,
            Rule::M7
        );
        // A note to self still has a party, the owner: M12 as before.
        let to_self = mail(alice(), vec![alice()], vec![]);
        assert_eq!(
            skipped(plan(
                &to_self,
                &owner(),
                &inbox(),
                &settings(),
                &Known::default()
            ))
            .rule,
            Rule::M12
        );
    }

    #[test]
    fn m19_headers_only_is_carried() {
        let s = Settings {
            headers_only: true,
            ..settings()
        };
        assert!(
            placed(plan(
                &mail(person("jane@acme.example", 10), vec![alice()], vec![]),
                &owner(),
                &inbox(),
                &s,
                &Known::default()
            ))
            .headers_only
        );
    }
}
