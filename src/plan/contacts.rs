//! The push-contacts planner (SPEC 5, P1-P7): a pure function from what
//! the user's address book should hold (the selection, rendered), what the
//! state file remembers crmsync pushed, and what the server holds at those
//! places now, to a sorted list of actions.
//!
//! Terms: a *wanted* card is a CRM record in the user's selection (P2),
//! rendered to a vCard (P3). A *pushed* card is one crmsync created and
//! recorded (account, href, UID, ETag, content hash); only pushed cards are
//! ever updated, moved or deleted (P1), and a new card is only ever created
//! with `If-None-Match: *`, so a card the user made is never touched.
//! *Remote* is what the server holds at a pushed card's href now.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::model::Rule;

/// Person or company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Person,
    Company,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Person => "person",
            RecordKind::Company => "company",
        }
    }
    pub fn parse(s: &str) -> Option<RecordKind> {
        match s {
            "person" => Some(RecordKind::Person),
            "company" => Some(RecordKind::Company),
            _ => None,
        }
    }
}

/// A CRM record by kind and the CRM's id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey {
    pub kind: RecordKind,
    pub id: String,
}

impl RecordKey {
    pub fn person(id: &str) -> RecordKey {
        RecordKey {
            kind: RecordKind::Person,
            id: id.into(),
        }
    }
    pub fn company(id: &str) -> RecordKey {
        RecordKey {
            kind: RecordKind::Company,
            id: id.into(),
        }
    }

    /// The UID of this record's card: stable, and safe in an href and a
    /// file name (`crmsync-person-P1`; ids with other characters hashed).
    pub fn uid(&self) -> String {
        let safe = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let id = if safe {
            self.id.clone()
        } else {
            use sha2::Digest;
            hex::encode(&sha2::Sha256::digest(self.id.as_bytes())[..16])
        };
        format!("crmsync-{}-{id}", self.kind.as_str())
    }
}

impl std::fmt::Display for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind.as_str(), self.id)
    }
}

/// A record the address book should hold (P2), rendered (P3).
#[derive(Debug, Clone)]
pub struct Wanted {
    pub key: RecordKey,
    pub uid: String,
    pub card: String,
    /// SHA-256 of `card`.
    pub hash: String,
    /// Why it is selected: `by_rep`, `by_sales_group`, ...
    pub why: String,
}

/// A card crmsync created, as the state file remembers it (P1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub key: RecordKey,
    pub href: String,
    /// Its address book (href ending in '/').
    pub collection: String,
    pub uid: String,
    /// ETag after crmsync's last write; None: that write's outcome is unknown (X5).
    pub etag: Option<String>,
    pub hash: String,
}

/// What the server holds at a pushed card's href now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    /// A card with this ETag (ours: its UID was checked when the ETag changed).
    Present(String),
    /// Nothing (deleted in the address book, or its address book is gone).
    Gone,
    /// Another card with another UID: not crmsync's any more.
    Foreign,
}

/// Where cards belong (P6).
#[derive(Debug, Clone, Default)]
pub struct Placement {
    /// The address book new cards go to: the target (P6 set) or the default.
    pub new_in: String,
    /// P6 set: cards elsewhere are moved to `new_in`.
    pub move_all: bool,
    /// The address books that exist now.
    pub existing: HashSet<String>,
}

/// Everything the planner looks at.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub wanted: &'a [Wanted],
    pub pushed: &'a [Pushed],
    /// By href; a pushed href missing here is taken as unchanged.
    pub remote: &'a HashMap<String, Remote>,
    pub placement: &'a Placement,
    /// Records that still exist in the CRM: tells "deleted in the CRM" from
    /// "left the selection" (both P5).
    pub in_crm: &'a HashSet<RecordKey>,
    /// The CRM holds no person and no company at all: most likely a broken
    /// CRM or cache, so nothing is deleted (STYLE 6).
    pub crm_empty: bool,
}

/// One step on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// PUT with `If-None-Match: *`.
    Create { collection: String, href: String },
    /// PUT with `If-Match`.
    Update { href: String, if_match: String },
    /// DELETE (`If-Match`) at `from`, then create at `href` (P7).
    Move {
        from: String,
        if_match: String,
        collection: String,
        href: String,
    },
    /// DELETE with `If-Match`.
    Delete { href: String, if_match: String },
    /// Nothing on the server; the state file stops tracking `href`.
    Forget { href: String },
    /// Nothing at all (P7).
    Keep { href: String },
}

impl Op {
    /// The word in reports and JSON.
    pub fn action(&self) -> &'static str {
        match self {
            Op::Create { .. } => "created",
            Op::Update { .. } => "updated",
            Op::Move { .. } => "moved",
            Op::Delete { .. } => "deleted",
            Op::Forget { .. } => "forgotten",
            Op::Keep { .. } => "unchanged",
        }
    }
    fn order(&self) -> u8 {
        match self {
            Op::Delete { .. } => 0,
            Op::Forget { .. } => 1,
            Op::Move { .. } => 2,
            Op::Update { .. } => 3,
            Op::Create { .. } => 4,
            Op::Keep { .. } => 5,
        }
    }
    /// True for steps that write to the server.
    pub fn writes(&self) -> bool {
        !matches!(self, Op::Forget { .. } | Op::Keep { .. })
    }
}

/// One planned step for one record.
#[derive(Debug, Clone)]
pub struct Action {
    pub key: RecordKey,
    pub op: Op,
    /// The SPEC rule behind it (X9).
    pub rule: Rule,
    pub reason: String,
    /// Index into `Input::wanted` for writes of a card.
    pub wanted: Option<usize>,
}

/// The planner's answer.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// Why deletions were held back, if they were.
    pub refused: Option<String>,
    /// How many deletions were held back.
    pub held: usize,
}

fn href_in(collection: &str, uid: &str) -> String {
    format!("{collection}{uid}.vcf")
}

/// The rules of P1-P7 (see the module doc); actions sorted deletes first,
/// then moves, updates and creates, each by record.
pub fn plan(input: &Input<'_>) -> Plan {
    let pl = input.placement;
    let pushed: HashMap<&RecordKey, &Pushed> = input.pushed.iter().map(|p| (&p.key, p)).collect();
    let mut out = Plan::default();
    let target_word = if pl.move_all { "target" } else { "default" };
    for (i, w) in input.wanted.iter().enumerate() {
        let act = |op: Op, rule: Rule, reason: String| Action {
            key: w.key.clone(),
            op,
            rule,
            reason,
            wanted: Some(i),
        };
        let Some(p) = pushed.get(&w.key) else {
            // P2 + P6: a newly selected record; new cards go to the target
            // address book when target_folder is set, else the default one.
            let collection = pl.new_in.clone();
            out.actions.push(act(
                Op::Create {
                    href: href_in(&collection, &w.uid),
                    collection,
                },
                Rule::P6,
                format!(
                    "new contact (selected {}), into the {target_word} address book",
                    w.why
                ),
            ));
            continue;
        };
        let remote = input
            .remote
            .get(&p.href)
            .cloned()
            .unwrap_or_else(|| match &p.etag {
                Some(e) => Remote::Present(e.clone()),
                None => Remote::Gone,
            });
        match remote {
            Remote::Gone => {
                // P4: the CRM wins over a deletion in the address book too;
                // P6: back where it was unless it belongs in the target.
                let collection = if !pl.move_all && pl.existing.contains(&p.collection) {
                    p.collection.clone()
                } else {
                    pl.new_in.clone()
                };
                let why = if p.etag.is_none() {
                    "an interrupted run left it unwritten (X5); created again"
                } else {
                    "deleted in the address book; the CRM wins (P4): created again"
                };
                out.actions.push(act(
                    Op::Create {
                        href: href_in(&collection, &w.uid),
                        collection,
                    },
                    Rule::P4,
                    why.into(),
                ));
            }
            Remote::Foreign => {
                // P1: the href holds someone else's card now; leave it and
                // put ours beside it under another name.
                let collection = if pl.move_all {
                    pl.new_in.clone()
                } else {
                    p.collection.clone()
                };
                out.actions.push(act(
                    Op::Create {
                        href: href_in(&collection, &format!("{}-2", w.uid)),
                        collection,
                    },
                    Rule::P1,
                    format!(
                        "{} now holds a card crmsync did not make; it is left alone and this contact is written beside it",
                        p.href
                    ),
                ));
            }
            Remote::Present(etag) => {
                if pl.move_all && p.collection != pl.new_in {
                    // P6 set + P7: a move is delete plus create.
                    out.actions.push(act(
                        Op::Move {
                            from: p.href.clone(),
                            if_match: etag,
                            href: href_in(&pl.new_in, &w.uid),
                            collection: pl.new_in.clone(),
                        },
                        Rule::P6,
                        "moved to the target address book (target_folder)".into(),
                    ));
                } else if w.hash != p.hash {
                    // P7: changed, written with If-Match on its ETag.
                    out.actions.push(act(
                        Op::Update {
                            href: p.href.clone(),
                            if_match: etag,
                        },
                        Rule::P7,
                        "changed in the CRM".into(),
                    ));
                } else if p.etag.as_deref() != Some(etag.as_str()) {
                    // P4: edited in the address book; the CRM wins.
                    let (rule, why) = if p.etag.is_none() {
                        (
                            Rule::X5,
                            "an interrupted run left its state unknown; written again",
                        )
                    } else {
                        (Rule::P4, "edited in the address book; the CRM wins")
                    };
                    out.actions.push(act(
                        Op::Update {
                            href: p.href.clone(),
                            if_match: etag,
                        },
                        rule,
                        why.into(),
                    ));
                } else {
                    // P7: unchanged, not written at all.
                    out.actions.push(act(
                        Op::Keep {
                            href: p.href.clone(),
                        },
                        Rule::P7,
                        "unchanged".into(),
                    ));
                }
            }
        }
    }
    let wanted: HashSet<&RecordKey> = input.wanted.iter().map(|w| &w.key).collect();
    let mut held = 0usize;
    for p in input.pushed {
        if wanted.contains(&p.key) {
            continue;
        }
        let why = if input.in_crm.contains(&p.key) {
            "left the selection"
        } else {
            "deleted in the CRM"
        };
        let remote = input
            .remote
            .get(&p.href)
            .cloned()
            .unwrap_or_else(|| Remote::Present(p.etag.clone().unwrap_or_default()));
        let (op, rule, reason) = match remote {
            Remote::Gone => (
                Op::Forget {
                    href: p.href.clone(),
                },
                Rule::P5,
                format!("{why}; already gone from the address book"),
            ),
            Remote::Foreign => (
                Op::Forget {
                    href: p.href.clone(),
                },
                Rule::P1,
                format!(
                    "{why}; {} holds a card crmsync did not make, left alone",
                    p.href
                ),
            ),
            Remote::Present(_) if input.crm_empty => {
                held += 1;
                continue;
            }
            Remote::Present(etag) => (
                // P5: only cards crmsync made are removed, with If-Match.
                Op::Delete {
                    href: p.href.clone(),
                    if_match: etag,
                },
                Rule::P5,
                why.to_string(),
            ),
        };
        out.actions.push(Action {
            key: p.key.clone(),
            op,
            rule,
            reason,
            wanted: None,
        });
    }
    out.held = held;
    if held > 0 {
        out.refused = Some(format!(
            "the CRM holds no person or company at all, so the {held} pushed card(s) were not deleted; \
             if the CRM really is empty, delete them in the address book"
        ));
    }
    out.actions
        .sort_by(|a, b| (a.op.order(), &a.key).cmp(&(b.op.order(), &b.key)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEF: &str = "/u/contacts/";
    const CRM: &str = "/u/crm/";
    const OTHER: &str = "/u/other/";

    fn wanted(id: &str, hash: &str) -> Wanted {
        let key = RecordKey::person(id);
        Wanted {
            uid: key.uid(),
            key,
            card: format!("card {id} {hash}"),
            hash: hash.into(),
            why: "by_rep".into(),
        }
    }

    fn pushed(id: &str, coll: &str, etag: Option<&str>, hash: &str) -> Pushed {
        let key = RecordKey::person(id);
        Pushed {
            uid: key.uid(),
            href: format!("{coll}{}.vcf", key.uid()),
            collection: coll.into(),
            key,
            etag: etag.map(str::to_string),
            hash: hash.into(),
        }
    }

    struct Case {
        name: &'static str,
        wanted: Vec<Wanted>,
        pushed: Vec<Pushed>,
        remote: Vec<(&'static str, Remote)>,
        target: Option<&'static str>,
        in_crm: Vec<&'static str>,
        crm_empty: bool,
        expect: Vec<(&'static str, &'static str, &'static str)>,
        refused: bool,
    }

    fn case(name: &'static str) -> Case {
        Case {
            name,
            wanted: vec![],
            pushed: vec![],
            remote: vec![],
            target: None,
            in_crm: vec![],
            crm_empty: false,
            expect: vec![],
            refused: false,
        }
    }

    fn run(c: &Case) -> Plan {
        let remote: HashMap<String, Remote> = c
            .remote
            .iter()
            .map(|(id, r)| {
                let key = RecordKey::person(id);
                let p = c.pushed.iter().find(|p| p.key == key).expect("pushed row");
                (p.href.clone(), r.clone())
            })
            .collect();
        let placement = Placement {
            new_in: c.target.unwrap_or(DEF).into(),
            move_all: c.target.is_some(),
            existing: [DEF, CRM, OTHER].iter().map(|s| s.to_string()).collect(),
        };
        let in_crm: HashSet<RecordKey> = c.in_crm.iter().map(|i| RecordKey::person(i)).collect();
        plan(&Input {
            wanted: &c.wanted,
            pushed: &c.pushed,
            remote: &remote,
            placement: &placement,
            in_crm: &in_crm,
            crm_empty: c.crm_empty,
        })
    }

    /// One row per rule: (record, action, rule) expected for each case.
    #[test]
    fn rules_table() {
        let cases = vec![
            Case {
                wanted: vec![wanted("P1", "h1")],
                expect: vec![("P1", "created", "P6")],
                ..case("p2_p6_new_contact_goes_to_default_book")
            },
            Case {
                wanted: vec![wanted("P1", "h1")],
                target: Some(CRM),
                expect: vec![("P1", "created", "P6")],
                ..case("p6_set_new_contact_goes_to_target")
            },
            Case {
                wanted: vec![wanted("P1", "h1")],
                pushed: vec![pushed("P1", DEF, Some("e1"), "h1")],
                expect: vec![("P1", "unchanged", "P7")],
                ..case("p7_unchanged_is_not_written")
            },
            Case {
                wanted: vec![wanted("P1", "h2")],
                pushed: vec![pushed("P1", DEF, Some("e1"), "h1")],
                expect: vec![("P1", "updated", "P7")],
                ..case("p7_changed_is_written_with_if_match")
            },
            Case {
                wanted: vec![wanted("P1", "h1")],
                pushed: vec![pushed("P1", DEF, Some("e1"), "h1")],
                remote: vec![("P1", Remote::Present("e2".into()))],
                expect: vec![("P1", "updated", "P4")],
                ..case("p4_edited_in_address_book_is_overwritten")
            },
            Case {
                wanted: vec![wanted("P1", "h1")],
                pushed: vec![pushed("P1", OTHER, Some("e1"), "h1")],
                remote: vec![("P1", Remote::Gone)],
                expect: vec![("P1", "created", "P4")],
                ..case("p4_deleted_in_address_book_is_created_again")
            },
            Case {
                pushed: vec![pushed("P1", DEF, Some("e1"), "h1")],
                in_crm: vec!["P1"],
                expect: vec![("P1", "deleted", "P5")],
                ..case("p5_left_selection_is_deleted")
            },
            Case {
                pushed: vec![pushed("P1", DEF, Some("e1"), "h1")],
                expect: vec![("P1", "deleted", "P5")],
                ..case("p5_deleted_in_crm_is_deleted")
            },
            Case {
                pushed: vec![pushed("P1", DEF, Some("e1"), "h1")],
                remote: vec![("P1", Remote::Gone)],
                expect: vec![("P1", "forgotten", "P5")],
                ..case("p5_already_gone_is_forgotten")
            },
            Case {
                wanted: vec![wanted("P1", "h1")],
                pushed: vec![pushed("P1", OTHER, Some("e1"), "h1")],
                expect: vec![("P1", "unchanged", "P7")],
                ..case("p6_unset_updated_cards_stay_where_they_are")
            },
            Case {
                wanted: vec![wanted("P1", "h2")],
                pushed: vec![pushed("P1", OTHER, Some("e1"), "h1")],
                expect: vec![("P1", "updated", "P7")],
                ..case("p6_unset_changed_card_is_updated_in_place")
            },
            Case {
                wanted: vec![wanted("P1", "h1")],
                pushed: vec![pushed("P1", DEF, Some("e1"), "h1")],
                target: Some(CRM),
                expect: vec![("P1", "moved", "P6")],
                ..case("p6_set_cards_elsewhere_move_to_target")
            },
            Case {
                wanted: vec![wanted("P1", "h1")],
                pushed: vec![pushed("P1", CRM, Some("e1"), "h1")],
                target: Some(CRM),
                expect: vec![("P1", "unchanged", "P7")],
                ..case("p6_set_cards_in_target_stay")
            },
            Case {
                wanted: vec![wanted("P1", "h1")],
                pushed: vec![pushed("P1", DEF, Some("e1"), "h1")],
                remote: vec![("P1", Remote::Foreign)],
                expect: vec![("P1", "created", "P1")],
                ..case("p1_href_taken_by_a_user_card_is_left_alone")
            },
            Case {
                pushed: vec![pushed("P1", DEF, Some("e1"), "h1")],
                remote: vec![("P1", Remote::Foreign)],
                expect: vec![("P1", "forgotten", "P1")],
                ..case("p1_foreign_card_is_never_deleted")
            },
            Case {
                wanted: vec![wanted("P1", "h1")],
                pushed: vec![pushed("P1", DEF, None, "h1")],
                remote: vec![("P1", Remote::Present("e9".into()))],
                expect: vec![("P1", "updated", "X5")],
                ..case("x5_unknown_outcome_is_written_again")
            },
            Case {
                pushed: vec![pushed("P1", DEF, Some("e1"), "h1")],
                crm_empty: true,
                expect: vec![],
                refused: true,
                ..case("style6_empty_crm_deletes_nothing")
            },
        ];
        for c in &cases {
            let p = run(c);
            let got: Vec<(String, &str, &str)> = p
                .actions
                .iter()
                .map(|a| (a.key.id.clone(), a.op.action(), a.rule.as_str()))
                .collect();
            let want: Vec<(String, &str, &str)> = c
                .expect
                .iter()
                .map(|(i, a, r)| (i.to_string(), *a, *r))
                .collect();
            assert_eq!(got, want, "case {}", c.name);
            assert_eq!(p.refused.is_some(), c.refused, "case {}", c.name);
        }
    }

    #[test]
    fn p6_p7_ops_carry_places_and_preconditions() {
        let mut c = case("move");
        c.wanted = vec![wanted("P1", "h1"), wanted("P2", "h2")];
        c.pushed = vec![pushed("P1", DEF, Some("e1"), "h1")];
        c.target = Some(CRM);
        let p = run(&c);
        let uid1 = RecordKey::person("P1").uid();
        let uid2 = RecordKey::person("P2").uid();
        assert_eq!(
            p.actions[0].op,
            Op::Move {
                from: format!("{DEF}{uid1}.vcf"),
                if_match: "e1".into(),
                collection: CRM.into(),
                href: format!("{CRM}{uid1}.vcf"),
            }
        );
        assert_eq!(
            p.actions[1].op,
            Op::Create {
                collection: CRM.into(),
                href: format!("{CRM}{uid2}.vcf"),
            }
        );
        // P4: the overwrite carries the ETag the server has now.
        let mut c = case("p4");
        c.wanted = vec![wanted("P1", "h1")];
        c.pushed = vec![pushed("P1", DEF, Some("e1"), "h1")];
        c.remote = vec![("P1", Remote::Present("e2".into()))];
        assert!(matches!(&run(&c).actions[0].op, Op::Update { if_match, .. } if if_match == "e2"));
        // P4 with a vanished address book and no target: the default book.
        let mut c = case("gone book");
        c.wanted = vec![wanted("P1", "h1")];
        c.pushed = vec![pushed("P1", "/u/vanished/", Some("e1"), "h1")];
        c.remote = vec![("P1", Remote::Gone)];
        assert!(
            matches!(&run(&c).actions[0].op, Op::Create { collection, .. } if collection == DEF)
        );
    }

    #[test]
    fn uids_are_safe_and_stable() {
        assert_eq!(RecordKey::person("P1").uid(), "crmsync-person-P1");
        assert_eq!(RecordKey::company("C-1_x").uid(), "crmsync-company-C-1_x");
        let odd = RecordKey::person("a/b c").uid();
        assert!(
            odd.starts_with("crmsync-person-") && odd.len() == 15 + 32,
            "{odd}"
        );
        assert_eq!(odd, RecordKey::person("a/b c").uid());
    }
}
