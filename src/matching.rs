//! Matching (SPEC 1, M10, M14, M18): an e-mail address to the person that
//! carries it, or to a company by its domain.
//!
//! An address is *uniquely identified* when exactly one person carries it
//! (primary or further address, case-insensitive, after trimming); zero
//! persons is *unknown*, several is *ambiguous*. Lookups are index probes on
//! the state file's directory tables (the embedded CRM, or the REST CRM's
//! cache), with statements cached per connection, so a run never
//! loads the whole directory and never asks a server per address.

use std::collections::{HashMap, HashSet};

use anyhow::Result;

use crate::address::{domain_of, is_automated_local, normalize};
use crate::config::Config;
use crate::state::State;

/// Who carries an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonMatch {
    /// Exactly one person (SPEC 1: uniquely identified).
    Unique(i64),
    /// Several persons, ids ascending.
    Ambiguous(Vec<i64>),
    /// No person.
    Unknown,
}

/// Everything the planner needs to know about one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressMatch {
    pub address: String,
    pub person: PersonMatch,
    /// M10: the one company whose domain (or main e-mail domain) matches,
    /// looked up only when no person carries the address.
    pub company: Option<i64>,
    /// M14: an ignored address or domain: never matches, never queued.
    pub ignored: bool,
    /// The login of the internal user with this address (M11, M12).
    pub user: Option<String>,
    /// M18: one of `own_domains`.
    pub own_domain: bool,
    /// M10: a free-mail domain (never matches a company).
    pub free_mail: bool,
    /// M18: a `noreply`-style local part.
    pub automated: bool,
}

impl AddressMatch {
    /// Uniquely identified (SPEC 1).
    pub fn person_id(&self) -> Option<i64> {
        match self.person {
            PersonMatch::Unique(id) => Some(id),
            _ => None,
        }
    }
}

/// Answers address lookups for one run. Holds the small sets (own domains,
/// free mail, ignored patterns, users) in memory; persons and companies
/// stay in SQLite.
pub struct Matcher<'c> {
    st: &'c State,
    own_domains: HashSet<String>,
    free_mail: HashSet<String>,
    ignored: HashSet<String>,
    users: HashMap<String, String>,
}

impl<'c> Matcher<'c> {
    /// Builds a matcher over the directory in `st` with the config's lists.
    ///
    /// # Errors
    /// SQLite errors reading the ignored patterns.
    pub fn new(st: &'c State, cfg: &Config) -> Result<Matcher<'c>> {
        let mut users = HashMap::new();
        for u in &cfg.users {
            for e in &u.emails {
                users.insert(normalize(e), u.login().to_string());
            }
        }
        let mut m = Matcher {
            st,
            own_domains: cfg
                .own_domains
                .iter()
                .map(|d| d.trim().to_lowercase())
                .collect(),
            free_mail: cfg.free_mail_domains().into_iter().collect(),
            ignored: HashSet::new(),
            users,
        };
        m.reload_ignored()?;
        Ok(m)
    }

    /// Re-reads the ignored addresses and domains (after U2 adds one).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn reload_ignored(&mut self) -> Result<()> {
        self.ignored = self.st.ignored_patterns()?;
        Ok(())
    }

    /// M14: the address or its whole domain is ignored.
    pub fn is_ignored(&self, norm: &str) -> bool {
        self.ignored.contains(norm)
            || domain_of(norm).is_some_and(|d| self.ignored.contains(&format!("@{d}")))
    }

    /// Persons carrying `norm` (already normalised), ids ascending.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn persons_with(&self, norm: &str) -> Result<Vec<i64>> {
        self.st.persons_with_email(norm)
    }

    /// M10: companies whose web domain or main e-mail domain is `domain`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn companies_with_domain(&self, domain: &str) -> Result<Vec<i64>> {
        self.st.companies_with_domain(domain)
    }

    /// Looks one address up.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn lookup(&self, addr: &str) -> Result<AddressMatch> {
        let address = normalize(addr);
        let domain = domain_of(&address).unwrap_or("").to_string();
        let ignored = self.is_ignored(&address);
        let free_mail = self.free_mail.contains(&domain);
        let mut m = AddressMatch {
            user: self.users.get(&address).cloned(),
            own_domain: self.own_domains.contains(&domain),
            free_mail,
            automated: is_automated_local(&address),
            address,
            person: PersonMatch::Unknown,
            company: None,
            ignored,
        };
        if ignored {
            // M14: an ignored address never matches anything.
            return Ok(m);
        }
        let ids = self.persons_with(&m.address)?;
        m.person = match ids.len() {
            0 => PersonMatch::Unknown,
            1 => PersonMatch::Unique(ids[0]),
            _ => PersonMatch::Ambiguous(ids),
        };
        if m.person == PersonMatch::Unknown && !free_mail && !domain.is_empty() {
            // M10: domain fallback, only for a unique company.
            let companies = self.companies_with_domain(&domain)?;
            if companies.len() == 1 {
                m.company = Some(companies[0]);
            }
        }
        Ok(m)
    }

    /// The person record of a user: the person carrying one of the user's
    /// addresses (SPEC 8). None when there is none or it is not unique (M9).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn user_person(&self, cfg: &Config, login: &str) -> Result<Option<i64>> {
        let Some(user) = cfg.user(login) else {
            return Ok(None);
        };
        let mut found: Vec<i64> = Vec::new();
        for e in &user.emails {
            for id in self.persons_with(&normalize(e))? {
                if !found.contains(&id) {
                    found.push(id);
                }
            }
        }
        Ok(if found.len() == 1 {
            Some(found[0])
        } else {
            None
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::model::fixtures::{company, person};
    use crate::state::State;
    use std::path::Path;

    /// Internal id of the person with external id `ext`.
    fn pid(st: &State, ext: &str) -> i64 {
        st.person_rowid(ext).unwrap().unwrap()
    }

    /// Internal id of the company with external id `ext`.
    fn cid(st: &State, ext: &str) -> i64 {
        st.company_rowid(ext).unwrap().unwrap()
    }

    fn setup() -> (State, Config) {
        let st = State::open_memory().unwrap();
        let b = st.batch().unwrap();
        st.upsert_companies(
            &[
                company("C1", "Acme", Some("info@acme.example"), &["gmail.com"]),
                company("C2", "Globex", None, &["globex.example", "twin.example"]),
                company("C3", "Globex Twin", None, &["twin.example"]),
            ],
            true,
        )
        .unwrap();
        st.upsert_persons(
            &[
                person(
                    "P10",
                    "Jane",
                    "Doe",
                    &["jane@acme.example", "j.doe@acme.example"],
                ),
                person("P11", "John", "Roe", &["info@roe.example"]),
                person("P12", "Jon", "Roe", &["info@roe.example"]),
                person("P13", "Alice", "Own", &["alice@us.example"]),
            ],
            true,
        )
        .unwrap();
        st.add_ignored("spam@acme.example", "").unwrap();
        st.add_ignored("@ignored.example", "").unwrap();
        b.commit().unwrap();
        let cfg = Config::parse(
            "own_domains = [\"us.example\"]\n[[users]]\nlogin = \"alice\"\nemails = [\"alice@us.example\", \"a@us.example\"]\n",
            Path::new("t.toml"),
        )
        .unwrap();
        (st, cfg)
    }

    #[test]
    fn spec1_unique_by_primary_or_further_address_case_insensitive() {
        let (st, cfg) = setup();
        let m = Matcher::new(&st, &cfg).unwrap();
        assert_eq!(
            m.lookup("  Jane@ACME.example ").unwrap().person,
            PersonMatch::Unique(pid(&st, "P10"))
        );
        assert_eq!(
            m.lookup("<j.doe@acme.example>").unwrap().person,
            PersonMatch::Unique(pid(&st, "P10"))
        );
    }

    #[test]
    fn spec1_ambiguous_and_unknown() {
        let (st, cfg) = setup();
        let m = Matcher::new(&st, &cfg).unwrap();
        assert_eq!(
            m.lookup("info@roe.example").unwrap().person,
            PersonMatch::Ambiguous(vec![pid(&st, "P11"), pid(&st, "P12")])
        );
        let unk = m.lookup("new@nowhere.example").unwrap();
        assert_eq!(unk.person, PersonMatch::Unknown);
        assert_eq!(unk.company, None);
    }

    #[test]
    fn m10_domain_fallback_by_web_domain_and_main_email_domain() {
        let (st, cfg) = setup();
        let m = Matcher::new(&st, &cfg).unwrap();
        assert_eq!(
            m.lookup("bob@globex.example").unwrap().company,
            Some(cid(&st, "C2"))
        );
        assert_eq!(
            m.lookup("sales@acme.example").unwrap().company,
            Some(cid(&st, "C1"))
        );
        // A known person is not given a company by domain.
        assert_eq!(m.lookup("jane@acme.example").unwrap().company, None);
    }

    #[test]
    fn m10_domain_of_two_companies_links_none() {
        let (st, cfg) = setup();
        let m = Matcher::new(&st, &cfg).unwrap();
        assert_eq!(m.lookup("x@twin.example").unwrap().company, None);
    }

    #[test]
    fn m10_free_mail_never_matches_a_company() {
        let (st, cfg) = setup();
        let m = Matcher::new(&st, &cfg).unwrap();
        let r = m.lookup("someone@gmail.com").unwrap();
        assert!(r.free_mail);
        assert_eq!(r.company, None);
    }

    #[test]
    fn m14_ignored_address_and_domain_never_match() {
        let (st, cfg) = setup();
        let m = Matcher::new(&st, &cfg).unwrap();
        let a = m.lookup("SPAM@acme.example").unwrap();
        assert!(a.ignored);
        assert_eq!((a.person.clone(), a.company), (PersonMatch::Unknown, None));
        assert!(m.lookup("whoever@ignored.example").unwrap().ignored);
        assert!(!m.lookup("jane@acme.example").unwrap().ignored);
    }

    #[test]
    fn m18_own_domain_automated_and_users() {
        let (st, cfg) = setup();
        let m = Matcher::new(&st, &cfg).unwrap();
        let own = m.lookup("a@us.example").unwrap();
        assert!(own.own_domain);
        assert_eq!(own.user.as_deref(), Some("alice"));
        assert!(m.lookup("noreply@acme.example").unwrap().automated);
        assert!(m.lookup("MAILER-DAEMON@acme.example").unwrap().automated);
        assert!(!m.lookup("jane@acme.example").unwrap().automated);
    }

    #[test]
    fn m9_user_person_record() {
        let (st, cfg) = setup();
        let m = Matcher::new(&st, &cfg).unwrap();
        assert_eq!(m.user_person(&cfg, "alice").unwrap(), Some(pid(&st, "P13")));
        assert_eq!(m.user_person(&cfg, "nobody").unwrap(), None);
    }
}
