//! `crmsync push-contacts` (SPEC 5, P1-P9) against the real DAV servers of
//! the matrix (docs/SERVERS.md): each scenario as
//! `<name>::radicale` and `<name>::xandikos`, one per rule, asserting on what
//! the server holds (PROPFIND and GET with the harness's own HTTP client);
//! the same core scenario against a vdir; the lockout guard (X2, Radicale
//! only: Xandikos has no authentication), dry runs (X8) and a server that
//! refuses writes (C12: 409 from the server itself, 507 from a fault proxy
//! in front of it).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::cli::Env;
use crate::faultproxy::{Dir, Fault, FaultProxy};
use crate::harness::{self, Radicale, Xandikos};

/// PROPFIND bodies are XML (Xandikos refuses others with 415).
pub(crate) const XML: (&str, &str) = ("Content-Type", "application/xml; charset=utf-8");

const COMPANIES: &str = "id,name,kind,email,domains,rep,sales_groups\n\
C1,Acme GmbH,customer,info@acme.example,acme.example,alice,north\n\
C2,Globex,lead,,globex.example,bob,\n\
C3,Initech,partner,,initech.example,bob,\n";

/// alice: P1 by rep, P2 by sales group `north`, P3 as favorite; P4 never.
const PERSONS: &str = "id,first_name,last_name,emails,phones,company_id,rep,sales_groups,favorite_of\n\
P1,Jane,Doe,jane@acme.example;j.doe@acme.example,+49 30 1234;+49 170 5555,C1,alice,,\n\
P2,John,Roe,john@globex.example,+1 555 0100,C2,bob,north,\n\
P3,Erika,Müller,erika@example.org,,,,,alice\n\
P4,Max,Other,max@initech.example,,C3,bob,,\n";

/// The DAV server of a scenario.
enum Srv {
    /// The shared Radicale (a user of the test's own).
    Radicale(&'static Radicale),
    /// A Xandikos of the test's own (it has no accounts).
    Xandikos(Xandikos),
}

/// One test's world: a DAV user, a config, the CRM loaded.
struct S {
    env: Env,
    srv: Srv,
    login: String,
    pw: String,
    /// The account's url (the server's root unless a test says otherwise).
    url: String,
    contacts: String,
    account: String,
}

impl S {
    /// A new Radicale user; None when Radicale is not available and not
    /// required (skipped).
    fn radicale(prefix: &str) -> Option<S> {
        let r = harness::radicale()?;
        let (login, pw) = r.add_user(prefix);
        Some(S::with(Srv::Radicale(r), login, pw))
    }

    /// A private Xandikos (issue 15); None as for [`S::radicale`].
    fn xandikos() -> Option<S> {
        let x = harness::xandikos()?;
        Some(S::with(
            Srv::Xandikos(x),
            Xandikos::LOGIN.to_string(),
            Xandikos::PASSWORD.to_string(),
        ))
    }

    fn with(srv: Srv, login: String, pw: String) -> S {
        let url = match &srv {
            Srv::Radicale(r) => r.url.clone(),
            Srv::Xandikos(x) => x.url.clone(),
        };
        let s = S {
            env: Env::new(""),
            srv,
            url,
            login,
            pw,
            contacts: String::new(),
            account: String::new(),
        };
        s.write_config();
        s.load(COMPANIES, PERSONS);
        s
    }

    /// The server's base URL, with a trailing slash.
    fn root(&self) -> &str {
        match &self.srv {
            Srv::Radicale(r) => &r.url,
            Srv::Xandikos(x) => &x.url,
        }
    }

    /// The server's port (for a fault proxy in front of it).
    fn port(&self) -> u16 {
        match &self.srv {
            Srv::Radicale(r) => r.port,
            Srv::Xandikos(x) => x.port,
        }
    }

    /// `[contacts]` keys and extra `[[contacts.accounts]]` keys.
    fn configure(&mut self, contacts: &str, account: &str) {
        self.contacts = contacts.to_string();
        self.account = account.to_string();
        self.write_config();
    }

    fn write_config(&self) {
        std::fs::write(
            &self.env.config,
            format!(
                "state = \"state.sqlite\"\n\n\
                 [[users]]\nlogin = \"alice\"\nemails = [\"alice@us.example\"]\nsales_groups = [\"north\"]\n\n\
                 [[users]]\nlogin = \"bob\"\nemails = [\"bob@us.example\"]\n\n\
                 [contacts]\n{}\n\n\
                 [[contacts.accounts]]\nname = \"alice-book\"\nuser = \"alice\"\nsource = \"carddav\"\n\
                 url = \"{}\"\nlogin = \"{}\"\npassword_env = \"DAV_PW\"\n{}\n",
                self.contacts, self.url, self.login, self.account
            ),
        )
        .unwrap();
    }

    fn load(&self, companies: &str, persons: &str) {
        for (name, kind, text) in [
            ("companies.csv", "companies", companies),
            ("persons.csv", "persons", persons),
        ] {
            let p = self.env.write(name, text);
            let (code, _, err) =
                self.env
                    .run(&["crm", "import", p.to_str().unwrap(), "--kind", kind]);
            assert_eq!(code, 0, "crm import {kind}: {err}");
        }
    }

    /// Runs push-contacts --json with the right password.
    fn push(&self, args: &[&str]) -> (i32, Value, String) {
        self.push_pw(&self.pw, args)
    }

    fn push_pw(&self, pw: &str, args: &[&str]) -> (i32, Value, String) {
        let out = self
            .env
            .cmd()
            .args(["--json", "push-contacts"])
            .args(args)
            .env("DAV_PW", pw)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (
            out.status.code().unwrap_or(-1),
            v,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn push_ok(&self, args: &[&str]) -> Value {
        let (code, v, err) = self.push(args);
        assert_eq!(code, 0, "{v:#}\n{err}");
        v
    }

    /// The address book home (where the user's books are).
    fn home(&self) -> String {
        match &self.srv {
            Srv::Radicale(r) => format!("{}{}/", r.url, self.login),
            Srv::Xandikos(x) => x.contacts.clone(),
        }
    }

    fn req(
        &self,
        method: &str,
        url: &str,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> harness::HttpResponse {
        let auth = harness::basic_auth(&self.login, &self.pw);
        let mut h = vec![("Authorization", auth.as_str())];
        h.extend_from_slice(extra);
        harness::http(method, url, &h, body).unwrap()
    }

    /// The user's address books: href -> display name.
    fn books(&self) -> BTreeMap<String, String> {
        let body = br#"<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/><displayname/></prop></propfind>"#;
        let resp = self.req("PROPFIND", &self.home(), &[("Depth", "1"), XML], body);
        assert_eq!(resp.status, 207, "{}", resp.text());
        responses(&resp.text())
            .into_iter()
            .filter(|r| r.contains("addressbook"))
            .map(|r| {
                (
                    tag(&r, "href").unwrap(),
                    tag(&r, "displayname").unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Every card of an address book (by href path): href -> (ETag, text).
    fn cards(&self, book: &str) -> BTreeMap<String, (String, String)> {
        let url = format!("{}{}", self.root(), book.trim_start_matches('/'));
        let body =
            br#"<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>"#;
        let resp = self.req("PROPFIND", &url, &[("Depth", "1"), XML], body);
        assert_eq!(resp.status, 207, "{}", resp.text());
        let mut out = BTreeMap::new();
        for r in responses(&resp.text()) {
            let href = tag(&r, "href").unwrap();
            if href.ends_with('/') {
                continue;
            }
            let get = self.req(
                "GET",
                &format!("{}{}", self.root(), href.trim_start_matches('/')),
                &[],
                b"",
            );
            assert_eq!(get.status, 200);
            out.insert(href, (tag(&r, "getetag").unwrap(), get.text()));
        }
        out
    }

    /// Cards of a book by UID: UID -> text.
    fn by_uid(&self, book: &str) -> BTreeMap<String, String> {
        self.cards(book)
            .into_values()
            .map(|(_, text)| (prop(&text, "UID").unwrap(), text))
            .collect()
    }

    /// Does the address book list vCard 4.0 in supported-address-data?
    fn supports_vcard4(&self, book: &str) -> bool {
        let url = format!("{}{}", self.root(), book.trim_start_matches('/'));
        let body = br#"<?xml version="1.0"?><propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><prop><C:supported-address-data/></prop></propfind>"#;
        let resp = self.req("PROPFIND", &url, &[("Depth", "0"), XML], body);
        resp.text().contains("version=\"4.0\"")
    }

    /// Makes an empty address book `name` in the home; returns its href path.
    fn make_book(&self, name: &str) -> String {
        let url = match &self.srv {
            Srv::Radicale(r) => r.create_addressbook(&self.login, name),
            Srv::Xandikos(x) => x.create_addressbook(name),
        };
        format!("/{}", url.strip_prefix(self.root()).unwrap_or(&url))
    }

    /// PUTs a card as the user would, returns the status.
    fn put_card(&self, href: &str, text: &str, extra: &[(&str, &str)]) -> u16 {
        let url = format!("{}{}", self.root(), href.trim_start_matches('/'));
        let mut h = vec![("Content-Type", "text/vcard")];
        h.extend_from_slice(extra);
        self.req("PUT", &url, &h, text.as_bytes()).status
    }

    /// DELETEs a card as the user would (200 from Radicale, 204 from
    /// Xandikos: both are success).
    fn delete_card(&self, href: &str) {
        let url = format!("{}{}", self.root(), href.trim_start_matches('/'));
        let status = self.req("DELETE", &url, &[], b"").status;
        assert!(matches!(status, 200 | 204), "DELETE {href}: {status}");
    }
}

/// The `<response>` elements of a multistatus, as text, with or without a
/// namespace prefix (Radicale writes `<response>`, Xandikos `<ns0:response>`).
pub fn responses(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(open) = element_at(rest, "response", false) {
        let from = &rest[open..];
        let Some(close) = element_at(from, "response", true) else {
            break;
        };
        let end = from[close..]
            .find('>')
            .map_or(from.len(), |i| close + i + 1);
        out.push(from[..end].to_string());
        rest = &from[end..];
    }
    out
}

/// Where the first start (or, with `closing`, end) tag of element `name`
/// begins, under any namespace prefix.
fn element_at(xml: &str, name: &str, closing: bool) -> Option<usize> {
    xml.match_indices('<').map(|(i, _)| i).find(|&i| {
        let mut t = &xml[i + 1..];
        if closing {
            let Some(rest) = t.strip_prefix('/') else {
                return false;
            };
            t = rest;
        }
        let local = match t.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')) {
            Some(j) if t[j..].starts_with(':') => &t[j + 1..],
            _ => t,
        };
        local
            .strip_prefix(name)
            .and_then(|r| r.chars().next())
            .is_some_and(|c| c == '>' || c == '/' || c.is_whitespace())
    })
}

/// The text of the first `<tag>` (any or no prefix).
pub fn tag(xml: &str, name: &str) -> Option<String> {
    for open in [format!("<{name}>"), format!(":{name}>")] {
        if let Some(i) = xml.find(&open) {
            let rest = &xml[i + open.len()..];
            let end = rest.find("</")?;
            return Some(rest[..end].trim().to_string());
        }
    }
    None
}

/// The value of the first line of property `name` in a card (unfolded).
pub fn prop(card: &str, name: &str) -> Option<String> {
    let unfolded = card.replace("\r\n ", "").replace("\n ", "");
    unfolded.lines().find_map(|l| {
        let (head, value) = l.split_once(':')?;
        let pname = head.split(';').next()?;
        pname
            .eq_ignore_ascii_case(name)
            .then(|| value.trim_end_matches('\r').to_string())
    })
}

fn props(card: &str, name: &str) -> Vec<String> {
    let unfolded = card.replace("\r\n ", "").replace("\n ", "");
    unfolded
        .lines()
        .filter_map(|l| {
            let (head, value) = l.split_once(':')?;
            let pname = head.split(';').next()?;
            pname
                .eq_ignore_ascii_case(name)
                .then(|| value.trim_end_matches('\r').to_string())
        })
        .collect()
}

fn items<'a>(v: &'a Value, id: &str) -> Vec<&'a Value> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["id"] == format!("alice-book/{id}"))
        .collect()
}

fn item<'a>(v: &'a Value, id: &str) -> &'a Value {
    items(v, id)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no item {id} in {v:#}"))
}

fn user_card(uid: &str, name: &str) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nN:{name};;;;\r\nEMAIL:{uid}@private.example\r\nEND:VCARD\r\n"
    )
}

const UID_P1: &str = "crmsync-person-P1";
const UID_P2: &str = "crmsync-person-P2";
const UID_P3: &str = "crmsync-person-P3";

/// One test of a scenario on one server, for [`crate::server_matrix!`]:
/// `radicale` or `xandikos`.
macro_rules! push_case {
    (radicale $name:ident) => {
        #[test]
        fn radicale() {
            if let Some(s) = super::S::radicale(stringify!($name)) {
                super::$name(s);
            }
        }
    };
    (xandikos $name:ident) => {
        #[test]
        fn xandikos() {
            if let Some(s) = super::S::xandikos() {
                super::$name(s);
            }
        }
    };
}

crate::server_matrix!(
    push_case
    [radicale xandikos]
    p1_cards_the_user_made_are_never_touched,
    p2_selection_is_the_union_of_enabled_filters,
    p3_default_field_map_and_extra_mappings,
    p4_crm_wins_over_edits_and_deletions_in_the_address_book,
    p5_removed_when_leaving_the_selection_or_deleted_in_the_crm,
    p6_unset_new_cards_to_default_book_updated_ones_stay,
    p6_set_target_is_created_and_cards_move_there_per_account_override,
    p7_unchanged_cards_are_not_written_changed_ones_with_if_match,
    p7_on_the_wire_preconditions_and_no_writes_when_unchanged,
    p4_without_sync_collection_an_etag_listing_finds_edits,
    p8_times_per_day_waits_until_due_and_force_pushes_now,
    p9_large_selection_is_reported_unattended_and_confirmed_interactively,
    x8_dry_run_lists_creates_updates_moves_deletes_and_writes_nothing,
    p5_an_empty_crm_deletes_nothing,
    c12_insufficient_storage_507_is_reported_per_item,
    x1_discovery_follows_the_well_known_redirect,
    x5_cut_mid_put_and_mid_response_resume_without_duplicates,
);

// Radicale only: X2 needs a server that checks passwords, and Xandikos
// has no authentication; the C12 409 case needs a server that refuses a
// second card with the same UID (RFC 6352 no-uid-conflict), and Xandikos
// stores it (201).
crate::server_matrix!(
    push_case
    [radicale]
    x2_wrong_password_blocks_the_account_until_it_changes,
    c12_a_write_radicale_refuses_is_reported_and_the_run_goes_on,
);

fn p1_cards_the_user_made_are_never_touched(mut s: S) {
    let book = s.make_book("private");
    // A card of the user's own, and one whose name looks like ours.
    assert_eq!(
        s.put_card(
            &format!("{book}mine.vcf"),
            &user_card("user-1", "Mine"),
            &[]
        ),
        201
    );
    assert_eq!(
        s.put_card(
            &format!("{book}crmsync-person-P4.vcf"),
            &user_card("user-2", "Lookalike"),
            &[]
        ),
        201
    );
    let before = s.cards(&book);
    s.configure("by_rep = true\nby_sales_group = true", "");
    s.push_ok(&[]);
    // Changes that update, delete (P2 leaves) and finally move everything.
    s.load(
        COMPANIES,
        &PERSONS
            .replace("+49 30 1234", "+49 30 9999")
            .replace("bob,north,", "bob,,"),
    );
    s.push_ok(&["--force"]);
    s.configure(
        "by_rep = true\nby_sales_group = true\ntarget_folder = \"CRM\"",
        "",
    );
    let v = s.push_ok(&["--force"]);
    let after = s.cards(&book);
    for (href, (etag, text)) in &before {
        assert_eq!(
            after.get(href),
            Some(&(etag.clone(), text.clone())),
            "{href} was touched"
        );
    }
    assert_eq!(
        after.len(),
        2,
        "only the user's cards are left in the old book: {after:?}"
    );
    for i in v["items"].as_array().unwrap() {
        let href = i["href"].as_str().unwrap_or("");
        assert!(
            !href.ends_with("mine.vcf") && !href.ends_with("/crmsync-person-P4.vcf"),
            "{i}"
        );
    }
    let crm = s
        .books()
        .into_iter()
        .find(|(_, n)| n == "CRM")
        .expect("CRM book")
        .0;
    assert_eq!(s.by_uid(&crm).keys().collect::<Vec<_>>(), vec![UID_P1]);
    // The user replaces our card by one of their own at the same href: it
    // is not crmsync's any more; ours is written beside it.
    let ours = format!("{crm}{UID_P1}.vcf");
    s.delete_card(&ours);
    assert_eq!(
        s.put_card(&ours, &user_card("user-3", "Replacement"), &[]),
        201
    );
    let v = s.push_ok(&["--force"]);
    assert_eq!(item(&v, "person/P1")["rule"], "P1", "{v:#}");
    let cards = s.cards(&crm);
    assert_eq!(prop(&cards[&ours].1, "UID").as_deref(), Some("user-3"));
    assert_eq!(
        prop(&cards[&format!("{crm}{UID_P1}-2.vcf")].1, "UID").as_deref(),
        Some(UID_P1)
    );
}

fn p2_selection_is_the_union_of_enabled_filters(mut s: S) {
    let book = s.make_book("contacts");
    // Default: by_rep only.
    let v = s.push_ok(&[]);
    assert_eq!(v["accounts"][0]["selected"], 1, "{v:#}");
    assert_eq!(s.by_uid(&book).keys().collect::<Vec<_>>(), vec![UID_P1]);
    // The union of all filters, with companies.
    s.configure(
        "by_rep = true\nby_sales_group = true\nby_favorites = true\ninclude_companies = true",
        "",
    );
    let v = s.push_ok(&["--force"]);
    let cards = s.by_uid(&book);
    assert_eq!(
        cards.keys().collect::<Vec<_>>(),
        vec![
            "crmsync-company-C1",
            "crmsync-company-C2",
            UID_P1,
            UID_P2,
            UID_P3
        ],
        "{v:#}"
    );
    assert!(
        item(&v, "person/P2")["reason"]
            .as_str()
            .unwrap()
            .contains("by_sales_group")
    );
    assert!(
        item(&v, "person/P3")["reason"]
            .as_str()
            .unwrap()
            .contains("by_favorites")
    );
    // Companies are org cards: KIND:org in 4.0, X-ABShowAs:COMPANY in 3.0.
    let acme = &cards["crmsync-company-C1"];
    assert_eq!(prop(acme, "ORG").as_deref(), Some("Acme GmbH"));
    assert!(
        prop(acme, "KIND").is_some_and(|k| k.eq_ignore_ascii_case("org"))
            || prop(acme, "X-ABSHOWAS").as_deref() == Some("COMPANY"),
        "{acme}"
    );
    // C3 (Initech) is nobody's: not selected.
    assert!(!cards.contains_key("crmsync-company-C3"));
}

fn p3_default_field_map_and_extra_mappings(mut s: S) {
    let book = s.make_book("contacts");
    s.configure("by_favorites = true", "");
    let v = s.push_ok(&[]);
    let cards = s.by_uid(&book);
    // Radicale lists the vCard versions it takes; 4.0 is used when listed.
    let want = if s.supports_vcard4(&book) {
        "4.0"
    } else {
        "3.0"
    };
    assert_eq!(v["accounts"][0]["vcard"], want);
    let jane = &cards[UID_P1];
    assert_eq!(prop(jane, "VERSION").as_deref(), Some(want));
    assert_eq!(prop(jane, "FN").as_deref(), Some("Jane Doe"));
    assert_eq!(prop(jane, "N").as_deref(), Some("Doe;Jane;;;"));
    assert_eq!(props(jane, "EMAIL"), vec!["jane@acme.example"]);
    assert_eq!(props(jane, "TEL"), vec!["+49 30 1234"]);
    assert!(jane.to_lowercase().contains("tel;type=work"), "{jane}");
    assert!(prop(jane, "ORG").is_none());
    // Non-ASCII names survive.
    assert_eq!(prop(&cards[UID_P3], "FN").as_deref(), Some("Erika Müller"));
    // Extra mappings from [contacts.fields].
    s.configure(
        "by_favorites = true\n[contacts.fields]\ncompany = \"ORG\"\nemails = \"EMAIL\"\nphones = \"TEL\"\nid = \"X-CRM-ID\"",
        "",
    );
    let v = s.push_ok(&["--force"]);
    assert_eq!(item(&v, "person/P1")["rule"], "P7", "{v:#}");
    let jane = &s.by_uid(&book)[UID_P1];
    assert_eq!(prop(jane, "ORG").as_deref(), Some("Acme GmbH"));
    assert_eq!(
        props(jane, "EMAIL"),
        vec!["jane@acme.example", "j.doe@acme.example"]
    );
    assert_eq!(props(jane, "TEL"), vec!["+49 30 1234", "+49 170 5555"]);
    assert_eq!(prop(jane, "X-CRM-ID").as_deref(), Some("P1"));
    // An unknown CRM field is a configuration error (exit 2).
    s.configure(
        "by_favorites = true\n[contacts.fields]\ntitle = \"TITLE\"",
        "",
    );
    let (code, _, _) = s.env.run(&["push-contacts", "--force"]);
    assert_eq!(code, 2);
}

fn p4_crm_wins_over_edits_and_deletions_in_the_address_book(s: S) {
    let book = s.make_book("contacts");
    s.push_ok(&[]);
    let href = format!("{book}{UID_P1}.vcf");
    let (etag, original) = s.cards(&book)[&href].clone();
    // The user edits the pushed card.
    let edited = original.replace("Jane Doe", "Jane EDITED");
    assert_eq!(s.put_card(&href, &edited, &[("If-Match", &etag)]), 204);
    assert!(s.cards(&book)[&href].1.contains("Jane EDITED"));
    let v = s.push_ok(&["--force"]);
    let i = item(&v, "person/P1");
    assert_eq!(
        (i["action"].as_str(), i["rule"].as_str()),
        (Some("updated"), Some("P4")),
        "{v:#}"
    );
    let now = &s.cards(&book)[&href].1;
    assert_eq!(prop(now, "FN").as_deref(), Some("Jane Doe"), "{now}");
    // The user deletes it: it comes back.
    s.delete_card(&href);
    let v = s.push_ok(&["--force"]);
    assert_eq!(item(&v, "person/P1")["rule"], "P4");
    assert!(s.cards(&book).contains_key(&href));
    // And then all is quiet again (P7).
    let v = s.push_ok(&["--force", "--all-items"]);
    assert_eq!(item(&v, "person/P1")["action"], "unchanged");
}

fn p5_removed_when_leaving_the_selection_or_deleted_in_the_crm(mut s: S) {
    let book = s.make_book("contacts");
    s.configure("by_rep = true\nby_favorites = true", "");
    s.push_ok(&[]);
    assert_eq!(s.by_uid(&book).len(), 2);
    // P1 gets another rep; P3 is deleted in the (embedded) CRM.
    s.load(COMPANIES, &PERSONS.replace("C1,alice,,", "C1,bob,,"));
    let db = rusqlite::Connection::open(s.env.path("state.sqlite")).unwrap();
    db.execute("DELETE FROM persons WHERE ext_id = 'P3'", [])
        .unwrap();
    drop(db);
    let v = s.push_ok(&["--force"]);
    let p1 = item(&v, "person/P1");
    assert_eq!(
        (p1["action"].as_str(), p1["rule"].as_str()),
        (Some("deleted"), Some("P5"))
    );
    assert_eq!(p1["reason"], "left the selection");
    let p3 = item(&v, "person/P3");
    assert_eq!(
        (p3["action"].as_str(), p3["reason"].as_str()),
        (Some("deleted"), Some("deleted in the CRM"))
    );
    assert!(s.cards(&book).is_empty(), "{:?}", s.cards(&book));
}

fn p6_unset_new_cards_to_default_book_updated_ones_stay(mut s: S) {
    let first = s.make_book("a-first");
    let other = s.make_book("z-other");
    // Pushed into z-other while it was the target ...
    s.configure("target_folder = \"z-other\"", "");
    s.push_ok(&[]);
    assert!(s.by_uid(&other).contains_key(UID_P1));
    // ... then target_folder is unset: P1 changes and stays; P2 is new.
    s.configure("by_rep = true\nby_sales_group = true", "");
    s.load(COMPANIES, &PERSONS.replace("+49 30 1234", "+49 30 7777"));
    let v = s.push_ok(&["--force"]);
    assert_eq!(item(&v, "person/P1")["action"], "updated");
    assert_eq!(v["accounts"][0]["address_book"], "a-first", "{v:#}");
    assert_eq!(props(&s.by_uid(&other)[UID_P1], "TEL"), vec!["+49 30 7777"]);
    assert_eq!(s.by_uid(&first).keys().collect::<Vec<_>>(), vec![UID_P2]);
    // An account url pointing at an address book marks it as the default.
    s.url = format!("{}{}", s.root(), other.trim_start_matches('/'));
    s.configure(
        "by_rep = true\nby_sales_group = true\nby_favorites = true",
        "",
    );
    let v = s.push_ok(&["--force"]);
    assert_eq!(v["accounts"][0]["address_book"], "z-other");
    assert!(s.by_uid(&other).contains_key(UID_P3));
}

fn p6_set_target_is_created_and_cards_move_there_per_account_override(mut s: S) {
    let def = s.make_book("contacts");
    s.configure("by_rep = true\nby_sales_group = true", "");
    s.push_ok(&[]);
    assert_eq!(s.by_uid(&def).len(), 2);
    // Global target "CRM", overridden per account by "CRM Kunden" (missing).
    s.configure(
        "by_rep = true\nby_sales_group = true\nby_favorites = true\ntarget_folder = \"CRM\"",
        "target_folder = \"CRM Kunden\"",
    );
    let v = s.push_ok(&["--force"]);
    let books = s.books();
    let (kunden, _) = books
        .iter()
        .find(|(_, n)| *n == "CRM Kunden")
        .unwrap_or_else(|| panic!("no `CRM Kunden` book: {books:?}"));
    assert!(!books.values().any(|n| n == "CRM"), "{books:?}");
    let made = item(&v, "addressbook/CRM Kunden");
    assert_eq!(
        (made["action"].as_str(), made["rule"].as_str()),
        (Some("created"), Some("P6"))
    );
    assert_eq!(item(&v, "person/P1")["action"], "moved");
    assert_eq!(item(&v, "person/P2")["action"], "moved");
    assert_eq!(item(&v, "person/P3")["action"], "created");
    assert!(s.cards(&def).is_empty(), "moved away: {:?}", s.cards(&def));
    assert_eq!(
        s.by_uid(kunden).keys().collect::<Vec<_>>(),
        vec![UID_P1, UID_P2, UID_P3]
    );
}

fn p7_unchanged_cards_are_not_written_changed_ones_with_if_match(mut s: S) {
    let book = s.make_book("contacts");
    s.configure("by_rep = true\nby_sales_group = true", "");
    s.push_ok(&[]);
    let before = s.cards(&book);
    let v = s.push_ok(&["--force"]);
    assert_eq!(v["counts"]["unchanged"], 2, "{v:#}");
    assert_eq!(v["counts"]["updated"], 0);
    assert_eq!(s.cards(&book), before, "a no-op run wrote something");
    // One change: only that card gets a new ETag.
    s.load(COMPANIES, &PERSONS.replace("John,Roe", "Johnny,Roe"));
    let v = s.push_ok(&["--force"]);
    assert_eq!(v["counts"]["updated"], 1, "{v:#}");
    assert_eq!(item(&v, "person/P2")["rule"], "P7");
    let after = s.cards(&book);
    let p1 = format!("{book}{UID_P1}.vcf");
    let p2 = format!("{book}{UID_P2}.vcf");
    assert_eq!(after[&p1], before[&p1]);
    assert_ne!(after[&p2].0, before[&p2].0);
    assert_eq!(prop(&after[&p2].1, "FN").as_deref(), Some("Johnny Roe"));
}

/// P7 on the wire: creates carry `If-None-Match: *`, updates and the delete
/// half of a move carry `If-Match` with the ETag the server had, and a run
/// with nothing to do sends no write at all.
fn p7_on_the_wire_preconditions_and_no_writes_when_unchanged(mut s: S) {
    let book = s.make_book("contacts");
    let (proxy, log) = fault_proxy(s.port(), |_, _, _| None);
    s.url = format!("http://127.0.0.1:{proxy}/");
    s.configure("by_rep = true\nby_sales_group = true", "");
    s.push_ok(&[]);
    let w = writes(&log);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w.iter()
            .all(|x| x.method == "PUT" && x.if_none_match.as_deref() == Some("*")),
        "{w:?}"
    );
    // Nothing changed: not one write, and not even a report (C5: the
    // address book's ctag did not move).
    log.lock().unwrap().clear();
    s.push_ok(&["--force"]);
    assert!(writes(&log).is_empty(), "{:?}", writes(&log));
    assert!(
        !log.lock().unwrap().iter().any(|x| x.method == "REPORT"),
        "{:?}",
        log.lock().unwrap()
    );
    // One change: one PUT with If-Match on the ETag the server has.
    let etag = s.cards(&book)[&format!("{book}{UID_P2}.vcf")].0.clone();
    s.load(COMPANIES, &PERSONS.replace("John,Roe", "Johnny,Roe"));
    log.lock().unwrap().clear();
    s.push_ok(&["--force"]);
    let w = writes(&log);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(
        (w[0].method.as_str(), w[0].if_match.as_deref()),
        ("PUT", Some(etag.as_str()))
    );
    assert!(w[0].path.ends_with(&format!("{UID_P2}.vcf")));
    // A move is DELETE (If-Match) plus PUT (If-None-Match: *).
    let etag1 = s.cards(&book)[&format!("{book}{UID_P1}.vcf")].0.clone();
    s.configure("by_rep = true\ntarget_folder = \"contacts-2\"", "");
    s.make_book("contacts-2");
    log.lock().unwrap().clear();
    s.push_ok(&["--force"]);
    let w: Vec<(String, Option<String>, Option<String>)> = writes(&log)
        .into_iter()
        .filter(|x| x.path.contains(UID_P1))
        .map(|x| (x.method, x.if_match, x.if_none_match))
        .collect();
    assert_eq!(
        w,
        vec![
            ("DELETE".to_string(), Some(etag1), None),
            ("PUT".to_string(), None, Some("*".to_string()))
        ]
    );
}

/// C5 fallback: a server without sync-collection is read with an ETag
/// listing (Depth 1 PROPFIND); edits are still seen (P4).
fn p4_without_sync_collection_an_etag_listing_finds_edits(mut s: S) {
    let book = s.make_book("contacts");
    let (proxy, log) = fault_proxy(s.port(), |method, _, body| {
        (method == "REPORT" && body.contains("sync-collection")).then_some(501)
    });
    s.url = format!("http://127.0.0.1:{proxy}/");
    s.configure("", "");
    s.push_ok(&[]);
    let href = format!("{book}{UID_P1}.vcf");
    let (etag, text) = s.cards(&book)[&href].clone();
    assert_eq!(
        s.put_card(
            &href,
            &text.replace("Jane Doe", "Jane X"),
            &[("If-Match", &etag)]
        ),
        204
    );
    let v = s.push_ok(&["--force"]);
    assert_eq!(item(&v, "person/P1")["rule"], "P4", "{v:#}");
    assert_eq!(
        prop(&s.cards(&book)[&href].1, "FN").as_deref(),
        Some("Jane Doe")
    );
    let log = log.lock().unwrap();
    assert!(
        log.iter().any(|x| x.method == "PROPFIND" && x.path == book),
        "{log:?}"
    );
}

fn p8_times_per_day_waits_until_due_and_force_pushes_now(mut s: S) {
    let book = s.make_book("contacts");
    s.configure("times_per_day = 2", "");
    let v = s.push_ok(&[]);
    assert_eq!(v["accounts"][0]["status"], "pushed");
    // Called again at once (cron every few minutes): not due, nothing done.
    s.load(COMPANIES, &PERSONS.replace("Jane,Doe", "Janet,Doe"));
    let (code, v, err) = s.push(&[]);
    assert_eq!(code, 0, "{err}");
    let a = &v["accounts"][0];
    assert_eq!(a["status"], "not_due", "{v:#}");
    let due = a["next_due"].as_str().unwrap();
    assert!(a["message"].as_str().unwrap().contains(due), "{a}");
    assert!(err.contains("next push due at"), "{err}");
    assert_eq!(
        prop(&s.by_uid(&book)[UID_P1], "FN").as_deref(),
        Some("Jane Doe")
    );
    // 24h / 2 after the last push.
    let last = chrono::DateTime::parse_from_rfc3339(a["last_push"].as_str().unwrap()).unwrap();
    let next = chrono::DateTime::parse_from_rfc3339(due).unwrap();
    assert_eq!((next - last).num_hours(), 12);
    // --force pushes now.
    let v = s.push_ok(&["--force"]);
    assert_eq!(item(&v, "person/P1")["action"], "updated");
    assert_eq!(
        prop(&s.by_uid(&book)[UID_P1], "FN").as_deref(),
        Some("Janet Doe")
    );
}

fn p9_large_selection_is_reported_unattended_and_confirmed_interactively(mut s: S) {
    let book = s.make_book("contacts");
    s.configure(
        "by_rep = true\nby_sales_group = true\nby_favorites = true\nwarn_above = 2",
        "",
    );
    // Interactive: the person says no; nothing is pushed.
    let bin = assert_cmd::cargo::cargo_bin("crmsync");
    let config = s.env.config.display().to_string();
    let mut p = crate::pty::Pty::spawn(
        &bin,
        &["--config", &config, "push-contacts"],
        &[("DAV_PW", &s.pw)],
    );
    p.expect("3 contacts selected, more than warn_above = 2");
    p.expect("Push them into alice's address book?");
    p.send("n");
    // X14: the summary line only (the per-account "declined" is in -v).
    p.expect("0 created, 0 updated");
    let (code, screen) = p.wait();
    assert_eq!(code, 0, "{screen}");
    assert!(s.cards(&book).is_empty());
    // Unattended (--yes): pushed, and the summary says so.
    let v = s.push_ok(&["--yes"]);
    assert_eq!(v["counts"]["created"], 3, "{v:#}");
    let w = v["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("3 contacts selected") && w.contains("P9") && w.contains("--yes"),
        "{w}"
    );
    assert_eq!(s.cards(&book).len(), 3);
}

fn x8_dry_run_lists_creates_updates_moves_deletes_and_writes_nothing(mut s: S) {
    let book = s.make_book("contacts");
    s.configure("by_rep = true\nby_sales_group = true", "");
    s.push_ok(&[]);
    // P1 changes, P2 leaves, P3 joins, and the target moves everything.
    s.configure(
        "by_rep = true\nby_favorites = true\ntarget_folder = \"CRM\"",
        "",
    );
    s.load(COMPANIES, &PERSONS.replace("+49 30 1234", "+49 30 5555"));
    let state = std::fs::read(s.env.path("state.sqlite")).unwrap();
    let before = s.cards(&book);
    let books = s.books();
    let v = s.push_ok(&["--dry-run", "--force"]);
    assert_eq!(v["dry_run"], true);
    assert_eq!(item(&v, "addressbook/CRM")["action"], "created");
    assert_eq!(item(&v, "person/P1")["action"], "moved");
    assert_eq!(item(&v, "person/P2")["action"], "deleted");
    assert_eq!(item(&v, "person/P3")["action"], "created");
    assert_eq!(s.cards(&book), before);
    assert_eq!(s.books(), books);
    assert_eq!(std::fs::read(s.env.path("state.sqlite")).unwrap(), state);
    // Without the target: an update shows as such.
    s.configure("by_rep = true\nby_sales_group = true", "");
    let v = s.push_ok(&["--dry-run", "--force"]);
    assert_eq!(item(&v, "person/P1")["action"], "updated");
    let out = s
        .env
        .cmd()
        .args(["push-contacts", "--dry-run", "--force"])
        .env("DAV_PW", &s.pw)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.contains("dry run, nothing written: would have 0 created, 1 updated"),
        "{out}"
    );
    assert_eq!(s.cards(&book), before);
}

/// STYLE 6: a CRM that suddenly holds nothing (a broken import or cache)
/// is not propagated: no card is deleted, and the run says why (exit 3).
fn p5_an_empty_crm_deletes_nothing(s: S) {
    let book = s.make_book("contacts");
    s.push_ok(&[]);
    let db = rusqlite::Connection::open(s.env.path("state.sqlite")).unwrap();
    db.execute_batch("DELETE FROM persons; DELETE FROM companies;")
        .unwrap();
    drop(db);
    let (code, v, _) = s.push(&["--force"]);
    assert_eq!(code, 3, "{v:#}");
    assert!(
        v["errors"][0].as_str().unwrap().contains("not deleted"),
        "{v:#}"
    );
    assert_eq!(v["counts"]["skipped"], 1);
    assert_eq!(s.by_uid(&book).keys().collect::<Vec<_>>(), vec![UID_P1]);
}

fn x2_wrong_password_blocks_the_account_until_it_changes(s: S) {
    s.make_book("contacts");
    let (code, v, _) = s.push_pw("wrong-password", &[]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["accounts"][0]["status"], "blocked");
    let e = v["errors"][0].as_str().unwrap();
    assert!(
        e.contains("authentication failed") && e.contains("crmsync unblock alice-book"),
        "{e}"
    );
    assert!(!e.contains("wrong-password"));
    // The same wrong password is not tried again.
    let (code, v, _) = s.push_pw("wrong-password", &[]);
    assert_eq!(code, 1);
    assert!(
        v["errors"][0]
            .as_str()
            .unwrap()
            .contains("is blocked since"),
        "{v:#}"
    );
    // The right one: the block lifts by itself (X2) and the push goes through.
    let v = s.push_ok(&[]);
    assert_eq!(v["counts"]["created"], 1, "{v:#}");
}

fn c12_a_write_radicale_refuses_is_reported_and_the_run_goes_on(mut s: S) {
    let book = s.make_book("contacts");
    // The user copied P2's card (same UID) under another name: Radicale
    // refuses a second card with that UID (409 no-uid-conflict).
    assert_eq!(
        s.put_card(&format!("{book}copy.vcf"), &user_card(UID_P2, "Copy"), &[]),
        201
    );
    s.configure(
        "by_rep = true\nby_sales_group = true\nby_favorites = true",
        "",
    );
    let (code, v, err) = s.push(&[]);
    assert_eq!(code, 3, "{v:#} {err}");
    let p2 = item(&v, "person/P2");
    assert_eq!(p2["action"], "failed");
    assert!(p2["reason"].as_str().unwrap().contains("409"), "{p2}");
    assert_eq!(v["counts"]["created"], 2);
    assert_eq!(v["counts"]["failed"], 1);
    let cards = s.cards(&book);
    assert!(cards.contains_key(&format!("{book}{UID_P1}.vcf")));
    assert!(cards.contains_key(&format!("{book}{UID_P3}.vcf")));
    assert_eq!(
        prop(&cards[&format!("{book}copy.vcf")].1, "FN").as_deref(),
        Some("Copy")
    );
    // A failed push is not a successful one (P8): the next call retries.
    let (code, v, _) = s.push(&[]);
    assert_eq!(code, 3);
    assert_eq!(item(&v, "person/P2")["action"], "failed");
}

fn c12_insufficient_storage_507_is_reported_per_item(mut s: S) {
    let book = s.make_book("contacts");
    let (proxy, _) = fault_proxy(s.port(), |method, path, _| {
        (method == "PUT" && path.ends_with("/crmsync-person-P2.vcf")).then_some(507)
    });
    s.url = format!("http://127.0.0.1:{proxy}/");
    s.configure(
        "by_rep = true\nby_sales_group = true\nby_favorites = true",
        "",
    );
    let (code, v, err) = s.push(&[]);
    assert_eq!(code, 3, "{v:#} {err}");
    let p2 = item(&v, "person/P2");
    assert_eq!(p2["action"], "failed");
    assert!(p2["reason"].as_str().unwrap().contains("507"), "{p2}");
    assert_eq!(v["counts"]["created"], 2, "{v:#}");
    assert_eq!(s.cards(&book).len(), 2);
}

fn x1_discovery_follows_the_well_known_redirect(mut s: S) {
    let book = s.make_book("contacts");
    s.url = format!("{}.well-known/carddav", s.root());
    s.configure("", "");
    let v = s.push_ok(&[]);
    assert_eq!(v["counts"]["created"], 1, "{v:#}");
    assert!(s.by_uid(&book).contains_key(UID_P1));
}

/// The core scenario on a vdir (the embedded default): create, update,
/// delete, move; the user's own files untouched; nothing written on a no-op.
#[test]
fn vdir_core_scenario() {
    let env = Env::new("");
    let vdir = env.path("books");
    std::fs::create_dir_all(vdir.join("private")).unwrap();
    std::fs::write(vdir.join("private/mine.vcf"), user_card("user-1", "Mine")).unwrap();
    let write = |contacts: &str| {
        std::fs::write(
            &env.config,
            format!(
                "state = \"state.sqlite\"\n[[users]]\nlogin = \"alice\"\nemails = [\"alice@us.example\"]\nsales_groups = [\"north\"]\n\
                 [[users]]\nlogin = \"bob\"\nemails = [\"bob@us.example\"]\n[contacts]\n{contacts}\n\
                 [[contacts.accounts]]\nname = \"alice-book\"\nuser = \"alice\"\nsource = \"vdir\"\npath = \"{}\"\n",
                vdir.display()
            ),
        )
        .unwrap();
    };
    write("by_rep = true\nby_sales_group = true\ninclude_companies = true");
    let load = |persons: &str| {
        for (name, kind, text) in [
            ("c.csv", "companies", COMPANIES),
            ("p.csv", "persons", persons),
        ] {
            let p = env.write(name, text);
            let (code, _, err) = env.run(&["crm", "import", p.to_str().unwrap(), "--kind", kind]);
            assert_eq!(code, 0, "{err}");
        }
    };
    load(PERSONS);
    let push = |args: &[&str]| {
        let mut a = vec!["push-contacts", "--force"];
        a.extend_from_slice(args);
        env.json(&a)
    };
    let files = |dir: &str| -> BTreeMap<String, String> {
        std::fs::read_dir(vdir.join(dir))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| {
                        (
                            e.file_name().to_string_lossy().into_owned(),
                            std::fs::read_to_string(e.path()).unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let v = push(&[]);
    assert_eq!(v["accounts"][0]["vcard"], "4.0", "{v:#}");
    let priv_files = files("private");
    assert_eq!(
        priv_files.keys().collect::<Vec<_>>(),
        vec![
            "crmsync-company-C1.vcf",
            "crmsync-company-C2.vcf",
            "crmsync-person-P1.vcf",
            "crmsync-person-P2.vcf",
            "mine.vcf"
        ]
    );
    assert!(priv_files["crmsync-company-C1.vcf"].contains("KIND:ORG"));
    let mtime = |p: &str| std::fs::metadata(vdir.join(p)).unwrap().modified().unwrap();
    let t1 = mtime("private/crmsync-person-P1.vcf");
    // No-op: nothing written.
    let v = push(&[]);
    assert_eq!(v["counts"]["unchanged"], 4, "{v:#}");
    assert_eq!(mtime("private/crmsync-person-P1.vcf"), t1);
    // Update (P7), delete (P5), edit by the user (P4).
    std::fs::write(
        vdir.join("private/crmsync-company-C1.vcf"),
        "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:crmsync-company-C1\r\nFN:Hacked\r\nEND:VCARD\r\n",
    )
    .unwrap();
    load(
        &PERSONS
            .replace("Jane,Doe", "Janet,Doe")
            .replace("bob,north,", "bob,,"),
    );
    let v = push(&[]);
    assert_eq!(item(&v, "person/P1")["action"], "updated");
    assert_eq!(item(&v, "person/P2")["action"], "deleted");
    assert_eq!(item(&v, "company/C1")["rule"], "P4");
    let f = files("private");
    assert!(f["crmsync-person-P1.vcf"].contains("FN:Janet Doe"));
    assert!(!f.contains_key("crmsync-person-P2.vcf"));
    assert!(f["crmsync-company-C1.vcf"].contains("FN:Acme GmbH"));
    // Move to a target folder (created with its displayname).
    write(
        "by_rep = true\nby_sales_group = true\ninclude_companies = true\ntarget_folder = \"CRM\"",
    );
    let v = push(&[]);
    assert_eq!(item(&v, "person/P1")["action"], "moved");
    assert_eq!(
        std::fs::read_to_string(vdir.join("crm/displayname"))
            .unwrap()
            .trim(),
        "CRM"
    );
    assert_eq!(
        files("private").keys().collect::<Vec<_>>(),
        vec!["mine.vcf"]
    );
    assert_eq!(files("private")["mine.vcf"], user_card("user-1", "Mine"));
    assert_eq!(files("crm").len(), 3, "{:?}", files("crm").keys());
    // No temp files anywhere.
    assert!(files("crm").keys().all(|n| !n.starts_with('.')));
}

// ---------------------------------------------------------------------------
// A fault proxy: forwards to Radicale, answers chosen requests itself
// ---------------------------------------------------------------------------

/// `rule(method, path, body)`: Some(status) answers the request with that
/// status instead of forwarding it.
type Rule = dyn Fn(&str, &str, &str) -> Option<u16> + Send + Sync;

/// One request as the proxy saw it: method, path, and its `If-Match` /
/// `If-None-Match` header values.
#[derive(Debug, Clone)]
pub struct Seen {
    method: String,
    path: String,
    if_match: Option<String>,
    if_none_match: Option<String>,
}

pub type Log = Arc<Mutex<Vec<Seen>>>;

/// Starts a proxy on a free loopback port in front of `upstream`; returns
/// its port and the log of requests. One request per connection (it
/// answers `Connection: close`).
pub fn fault_proxy(
    upstream: u16,
    rule: impl Fn(&str, &str, &str) -> Option<u16> + Send + Sync + 'static,
) -> (u16, Log) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let rule: Arc<Rule> = Arc::new(rule);
    let log: Log = Arc::default();
    let log2 = log.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let rule = rule.clone();
            let log = log2.clone();
            std::thread::spawn(move || {
                let _ = proxy_one(conn, upstream, &*rule, &log);
            });
        }
    });
    (port, log)
}

/// The writes (PUT, DELETE, MKCOL) in a log.
fn writes(log: &Log) -> Vec<Seen> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|s| matches!(s.method.as_str(), "PUT" | "DELETE" | "MKCOL"))
        .cloned()
        .collect()
}

fn proxy_one(conn: TcpStream, upstream: u16, rule: &Rule, log: &Log) -> std::io::Result<()> {
    let Some((head, body)) = harness::read_request(&conn)? else {
        return Ok(());
    };
    let text = head.first().cloned().unwrap_or_default();
    let mut parts = text.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let header = |name: &str| {
        head.iter().find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    log.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: path.to_string(),
        if_match: header("If-Match"),
        if_none_match: header("If-None-Match"),
    });
    let mut out = conn;
    if let Some(status) = rule(method, path, &String::from_utf8_lossy(&body)) {
        write!(
            out,
            "HTTP/1.1 {status} Refused by the fault proxy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        return out.flush();
    }
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    for h in &head {
        up.write_all(h.as_bytes())?;
    }
    up.write_all(b"Connection: close\r\n\r\n")?;
    up.write_all(&body)?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp)?;
    // Say `Connection: close` to the client too.
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(resp.len());
    let head_text = String::from_utf8_lossy(&resp[..split]).into_owned();
    let mut new_head: Vec<&str> = head_text
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    new_head.push("Connection: close");
    out.write_all(new_head.join("\r\n").as_bytes())?;
    out.write_all(&resp[split..])?;
    out.flush()
}

/// X5 / issue 9: the project's TCP fault proxy cuts a PUT halfway through
/// its request, then cuts the server's `201 Created` answer (the card was
/// written, crmsync never heard): each run reports the item, and the next
/// clean run ends with exactly the selected cards, each once, and a further
/// run writes nothing (0 lost, 0 duplicated).
fn x5_cut_mid_put_and_mid_response_resume_without_duplicates(mut s: S) {
    let book = s.make_book("contacts");
    let proxy = FaultProxy::start(s.port());
    s.url = format!("http://127.0.0.1:{}/", proxy.port);
    s.configure(
        "by_rep = true\nby_sales_group = true\nby_favorites = true",
        "",
    );
    let faults = [
        // mid-PUT: the second card's request cut 40 bytes in.
        Fault::cut(Dir::Up, "PUT ", 2, 40),
        // mid-response: the third card is stored, its answer cut.
        Fault::cut(Dir::Down, " 201 Created", 1, 5),
    ];
    for (i, fault) in faults.into_iter().enumerate() {
        proxy.set(fault.clone());
        let (code, v, err) = s.push(&[]);
        assert_eq!(proxy.injected(), i + 1, "{fault:?} did not fire: {v:#}");
        assert_ne!(code, 0, "a cut write is reported ({fault:?}): {v:#} {err}");
        let failed: Vec<&Value> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["action"] == "failed")
            .collect();
        assert!(
            !failed.is_empty() || !v["errors"].as_array().unwrap().is_empty(),
            "the failure is named ({fault:?}): {v:#}"
        );
    }
    let v = s.push_ok(&[]);
    assert_eq!(v["counts"]["failed"], 0, "{v:#}");
    let by_uid = s.by_uid(&book);
    let cards = s.cards(&book);
    assert_eq!(cards.len(), 3, "no duplicate card: {cards:#?}");
    for uid in [UID_P1, UID_P2, UID_P3] {
        assert!(by_uid.contains_key(uid), "{uid} lost: {by_uid:#?}");
    }
    let v = s.push_ok(&["--force"]);
    assert_eq!(v["counts"]["unchanged"], 3, "{v:#}");
    assert_eq!(v["counts"]["created"], 0, "{v:#}");
}
