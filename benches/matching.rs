//! Matching benchmark (SPEC 1 "uniquely identified", M10, M14).
//!
//! Builds a state file with 1,000,000 persons (1-3 addresses each, some
//! addresses carried by two persons) and 50,000 companies (1-2 web domains)
//! through the same directory code `crm import` uses, and times that load.
//! Then it times 100,000 `Matcher::lookup` calls over a fixed mix of address
//! kinds (60 % known unique, 5 % ambiguous, 20 % unknown at a company domain,
//! 10 % unknown free mail, 5 % ignored), cold (a fresh connection after
//! reopening the state file) and warm, by kind, twice: on connections as
//! `State::open` makes them, and with SQLite's query planner stability
//! guarantee switched on (the change proposed in `docs/PERFORMANCE.md`).
//! Every answer is checked against the expected one and the answers are
//! counted by kind; a wrong answer or count aborts the run, so the table
//! never times wrong answers.
//!
//! ```text
//! cargo bench --bench matching              # 1,000,000 persons
//! cargo bench --bench matching -- --quick   # 100,000 persons (or BENCH_QUICK=1)
//! ```
//!
//! Options: `--reps N` (passes per case, default 5), `--json` (also print
//! the results as one JSON line). Unknown arguments (cargo passes `--bench`)
//! are ignored. `BENCH_SQL="PRAGMA mmap_size=268435456"` runs that SQL on
//! every connection the lookups use (to try pragmas without editing src/).
//! The data is reproducible: a fixed seed drives a splitmix64 generator.

use std::path::Path;
use std::time::{Duration, Instant};

use crmsync::config::Config;
use crmsync::crm::directory::{upsert_companies, upsert_persons};
use crmsync::crm::{Company, Person};
use crmsync::matching::{Matcher, PersonMatch};
use crmsync::state::{Access, State};
use rusqlite::StatementStatus;
use rusqlite::config::DbConfig;

const SEED: u64 = 0x00C0_FFEE_2026_1122;
/// Persons per `upsert_persons` call (all calls share one transaction).
const CHUNK: usize = 10_000;
/// Every `PAIR_EVERY`-th person shares one address with the next person.
const PAIR_EVERY: usize = 50;
const IGNORED_ADDRESSES: usize = 200;
const IGNORED_DOMAINS: usize = 100;
const FREE_MAIL: &[&str] = &["gmail.com", "outlook.com", "yahoo.com", "web.de", "gmx.de"];
const FIRST: &[&str] = &[
    "anna", "ben", "clara", "david", "emma", "felix", "greta", "hugo", "ida", "jonas", "karla",
    "leon", "mia", "noah", "olga", "paul",
];
const LAST: &[&str] = &[
    "schmidt",
    "meyer",
    "weber",
    "wagner",
    "becker",
    "hoffmann",
    "koch",
    "richter",
    "klein",
    "wolf",
    "neumann",
    "braun",
    "zimmermann",
    "kruger",
    "hartmann",
    "lange",
];
const CONFIG: &str = "own_domains = [\"ourco.example\", \"ourco-group.example\"]\n";

// --- reproducible randomness --------------------------------------------

/// splitmix64: tiny, fast, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A per-record hash, so any record can be rebuilt from its index alone.
fn hash(kind: u64, i: usize) -> u64 {
    mix(SEED ^ kind.wrapping_mul(0x1000_0000_01B3) ^ (i as u64).wrapping_mul(0x9E37_79B9))
}

// --- the synthetic directory --------------------------------------------

struct Sizes {
    persons: usize,
    companies: usize,
    lookups: usize,
}

fn company_domain(c: usize) -> String {
    format!("co{c}.example")
}

/// Every fourth company also has a main e-mail at a domain that is not one
/// of its web domains (M10 looks at both).
fn company_mail_domain(c: usize) -> Option<String> {
    c.is_multiple_of(4).then(|| format!("mail-co{c}.example"))
}

fn company(c: usize) -> Company {
    let h = hash(1, c);
    let mut domains = vec![company_domain(c)];
    if h.is_multiple_of(3) {
        domains.push(format!("co{c}-group.example"));
    }
    Company {
        id: format!("C{c}"),
        name: format!("Company {c}"),
        kind: ["customer", "lead", "partner", "other"][(h >> 8) as usize % 4].into(),
        email: company_mail_domain(c).map(|d| format!("info@{d}")),
        domains,
        rep: None,
        sales_groups: Vec::new(),
    }
}

/// The company of person `i`, if any (80 % have one).
fn person_company(i: usize, s: &Sizes) -> Option<usize> {
    let h = hash(2, i);
    (h % 10 < 8).then(|| (h >> 16) as usize % s.companies)
}

/// The addresses only person `i` carries, as written in the import (mixed
/// case; `normalize` lower-cases them).
fn own_addresses(i: usize, s: &Sizes) -> Vec<String> {
    let h = hash(3, i);
    let first = FIRST[(h >> 8) as usize % FIRST.len()];
    let last = LAST[(h >> 16) as usize % LAST.len()];
    let free = FREE_MAIL[(h >> 24) as usize % FREE_MAIL.len()];
    let work = match person_company(i, s) {
        Some(c) => company_domain(c),
        None => free.to_string(),
    };
    let mut count = 1 + (h % 3) as usize;
    if shared_address(i, s).is_some() {
        count = count.min(2);
    }
    let all = [
        format!("{}.{}.{i}@{work}", capital(first), capital(last)),
        format!("{first}{i}@{free}"),
        format!(
            "{last}.{i}@{}",
            company_domain((h >> 32) as usize % s.companies)
        ),
    ];
    all[..count].to_vec()
}

/// Pair `j` (persons `PAIR_EVERY*j` and `PAIR_EVERY*j + 1`) shares this
/// address: looking it up is ambiguous (SPEC 1).
fn pair_address(j: usize, s: &Sizes) -> String {
    let i = j * PAIR_EVERY;
    let dom = match person_company(i, s) {
        Some(c) => company_domain(c),
        None => FREE_MAIL[j % FREE_MAIL.len()].to_string(),
    };
    format!("team.{j}@{dom}")
}

/// Number of pairs: pair `j` needs persons up to `PAIR_EVERY*j + 1`.
fn pairs(s: &Sizes) -> usize {
    (s.persons - 2) / PAIR_EVERY + 1
}

fn shared_address(i: usize, s: &Sizes) -> Option<String> {
    let j = i / PAIR_EVERY;
    let first = j * PAIR_EVERY;
    (i - first < 2 && first + 1 < s.persons).then(|| pair_address(j, s))
}

fn person(i: usize, s: &Sizes) -> Person {
    let h = hash(3, i);
    let mut emails = own_addresses(i, s);
    emails.extend(shared_address(i, s));
    Person {
        id: format!("P{i}"),
        first_name: capital(FIRST[(h >> 8) as usize % FIRST.len()]),
        last_name: capital(LAST[(h >> 16) as usize % LAST.len()]),
        emails,
        phones: Vec::new(),
        company_id: person_company(i, s).map(|c| format!("C{c}")),
        rep: None,
        sales_groups: Vec::new(),
        favorite_of: Vec::new(),
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Loads the directory in one transaction, as `crm import` does; returns
/// the wall time of the whole load (building the records included).
fn load(path: &Path, s: &Sizes) -> Duration {
    let st = State::open(path, Access::Write, "bench").expect("open state for writing");
    let t0 = Instant::now();
    let tx = st.conn.unchecked_transaction().expect("begin");
    let companies: Vec<Company> = (0..s.companies).map(company).collect();
    let c = upsert_companies(&tx, &companies, true).expect("upsert companies");
    assert_eq!(c.created, s.companies);
    drop(companies);
    let mut created = 0;
    for start in (0..s.persons).step_by(CHUNK) {
        let chunk: Vec<Person> = (start..(start + CHUNK).min(s.persons))
            .map(|i| person(i, s))
            .collect();
        created += upsert_persons(&tx, &chunk, true)
            .expect("upsert persons")
            .created;
    }
    assert_eq!(created, s.persons);
    // M14: ignored addresses (at company domains, so without the ignore
    // they would match a company) and whole domains.
    {
        let mut ins = tx
            .prepare("INSERT INTO ignored (pattern, created_at, by) VALUES (?1, '', 'bench')")
            .expect("prepare ignored");
        for j in 0..IGNORED_ADDRESSES {
            ins.execute([ignored_address(j, s)])
                .expect("ignored address");
        }
        for j in 0..IGNORED_DOMAINS {
            ins.execute([format!("@{}", ignored_domain(j))])
                .expect("ignored domain");
        }
    }
    tx.commit().expect("commit");
    let took = t0.elapsed();
    st.conn
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
    took
}

fn ignored_address(j: usize, s: &Sizes) -> String {
    format!("bulk{j}@{}", company_domain(j * 7 % s.companies))
}

fn ignored_domain(j: usize) -> String {
    format!("spam{j}.example")
}

// --- the lookup mix -------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unique,
    Ambiguous,
    CompanyDomain,
    FreeMail,
    Ignored,
}

const KINDS: [(Kind, &str, usize); 5] = [
    (Kind::Unique, "known unique", 60),
    (Kind::Ambiguous, "ambiguous", 5),
    (Kind::CompanyDomain, "unknown, company domain (M10)", 20),
    (Kind::FreeMail, "unknown, free mail", 10),
    (Kind::Ignored, "ignored (M14)", 5),
];

/// What a lookup must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Unique(i64),
    Ambiguous(i64),
    Company(i64),
    FreeMail,
    Ignored,
}

struct Query {
    addr: String,
    kind: Kind,
    expect: Expect,
}

/// Internal ids: the rows were inserted in index order into empty tables.
fn person_id(i: usize) -> i64 {
    i as i64 + 1
}
fn company_id(c: usize) -> i64 {
    c as i64 + 1
}

fn queries(s: &Sizes) -> Vec<Query> {
    let mut rng = Rng(SEED ^ 0x51);
    let mut kinds = Vec::with_capacity(s.lookups);
    for (k, _, pct) in KINDS {
        kinds.extend(std::iter::repeat_n(k, s.lookups * pct / 100));
    }
    assert_eq!(kinds.len(), s.lookups, "the mix adds up to 100 %");
    for i in (1..kinds.len()).rev() {
        kinds.swap(i, rng.below(i + 1));
    }
    kinds
        .into_iter()
        .enumerate()
        .map(|(n, kind)| {
            let (addr, expect) = match kind {
                Kind::Unique => {
                    let i = rng.below(s.persons);
                    let own = own_addresses(i, s);
                    let a = &own[rng.below(own.len())];
                    // Mail headers come in every shape: as stored, lower
                    // case, upper case, in angle brackets.
                    let a = match rng.below(4) {
                        0 => a.clone(),
                        1 => a.to_lowercase(),
                        2 => a.to_uppercase(),
                        _ => format!(" <{a}>"),
                    };
                    (a, Expect::Unique(person_id(i)))
                }
                Kind::Ambiguous => {
                    let j = rng.below(pairs(s));
                    (
                        pair_address(j, s),
                        Expect::Ambiguous(person_id(j * PAIR_EVERY)),
                    )
                }
                Kind::CompanyDomain => {
                    let c = rng.below(s.companies);
                    let dom = match (rng.below(4), company_mail_domain(c)) {
                        (0, Some(d)) => d,
                        _ => company_domain(c),
                    };
                    (format!("new{n}@{dom}"), Expect::Company(company_id(c)))
                }
                Kind::FreeMail => (
                    format!("stranger{n}@{}", FREE_MAIL[rng.below(FREE_MAIL.len())]),
                    Expect::FreeMail,
                ),
                Kind::Ignored => {
                    let a = if rng.below(2) == 0 {
                        ignored_address(rng.below(IGNORED_ADDRESSES), s)
                    } else {
                        format!("x{n}@{}", ignored_domain(rng.below(IGNORED_DOMAINS)))
                    };
                    (a, Expect::Ignored)
                }
            };
            Query { addr, kind, expect }
        })
        .collect()
}

/// The kind an answer belongs to.
fn kind_of(e: &Expect) -> Kind {
    match e {
        Expect::Unique(_) => Kind::Unique,
        Expect::Ambiguous(_) => Kind::Ambiguous,
        Expect::Company(_) => Kind::CompanyDomain,
        Expect::FreeMail => Kind::FreeMail,
        Expect::Ignored => Kind::Ignored,
    }
}

fn kind_index(k: Kind) -> usize {
    KINDS.iter().position(|x| x.0 == k).expect("known kind")
}

/// How many queries of each kind `qs` holds.
fn mix_of<'a>(qs: impl IntoIterator<Item = &'a Query>) -> [usize; KINDS.len()] {
    let mut n = [0; KINDS.len()];
    for q in qs {
        n[kind_index(q.kind)] += 1;
    }
    n
}

/// Times one pass over `qs`; panics on a wrong answer, and when the
/// answers, counted by what they say, are not the mix that was asked for.
fn pass(m: &Matcher<'_>, qs: &[&Query]) -> Duration {
    let mut answered = [0usize; KINDS.len()];
    let t0 = Instant::now();
    for q in qs {
        let r = m.lookup(&q.addr).expect("lookup");
        let got = match (&r.person, r.company, r.ignored) {
            (PersonMatch::Unknown, None, true) => Expect::Ignored,
            (PersonMatch::Unique(id), None, false) => Expect::Unique(*id),
            (PersonMatch::Ambiguous(ids), None, false)
                if ids.len() == 2 && ids[1] == ids[0] + 1 =>
            {
                Expect::Ambiguous(ids[0])
            }
            (PersonMatch::Unknown, Some(c), false) => Expect::Company(c),
            (PersonMatch::Unknown, None, false) if r.free_mail => Expect::FreeMail,
            _ => panic!("{:?}: unexpected answer {r:?}", q.addr),
        };
        if got != q.expect {
            panic!("{:?}: expected {:?}, got {r:?}", q.addr, q.expect);
        }
        answered[kind_index(kind_of(&got))] += 1;
    }
    let took = t0.elapsed();
    let asked = mix_of(qs.iter().copied());
    assert_eq!(answered, asked, "answers by kind vs. the mix asked for");
    took
}

fn median(times: &[Duration]) -> Duration {
    let mut t = times.to_vec();
    t.sort();
    let k = t.len();
    if k % 2 == 1 {
        t[k / 2]
    } else {
        (t[k / 2 - 1] + t[k / 2]) / 2
    }
}

// --- reporting --------------------------------------------------------------

struct Row {
    case: String,
    n: usize,
    times: Vec<Duration>,
}

impl Row {
    fn sorted(&self) -> Vec<Duration> {
        let mut t = self.times.clone();
        t.sort();
        t
    }
    fn median(&self) -> Duration {
        median(&self.times)
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn print_table(rows: &[Row]) {
    let w = rows.iter().map(|r| r.case.len()).max().unwrap_or(4).max(4);
    println!(
        "{:<w$}  {:>7}  {:>10}  {:>10}  {:>10}  {:>9}  {:>10}",
        "case", "n", "median", "min", "max", "µs/lookup", "lookups/s"
    );
    println!(
        "{}",
        "-".repeat(w + 2 + 7 + 2 + 10 * 3 + 6 + 9 + 2 + 10 + 2)
    );
    for r in rows {
        let t = r.sorted();
        let med = r.median();
        println!(
            "{:<w$}  {:>7}  {:>10}  {:>10}  {:>10}  {:>9.2}  {:>10.0}",
            r.case,
            r.n,
            ms(med),
            ms(t[0]),
            ms(t[t.len() - 1]),
            med.as_secs_f64() * 1e6 / r.n as f64,
            r.n as f64 / med.as_secs_f64(),
        );
    }
}

fn file_size(path: &Path) -> u64 {
    let mut total = 0;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        total += std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
    }
    total
}

fn query_plan(st: &State, sql: &str) -> Vec<String> {
    let mut stmt = st
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("explain");
    stmt.query_map(["x"], |r| r.get::<_, String>(3))
        .expect("explain rows")
        .collect::<rusqlite::Result<_>>()
        .expect("explain rows")
}

/// The SQL `Matcher::persons_with` runs (to read its statement's counters
/// from the connection's statement cache).
const PERSON_SQL: &str = "SELECT person_id FROM person_emails WHERE email = ?1 ORDER BY person_id";
const COMPANY_SQL: &str = "SELECT company_id FROM company_domains WHERE domain = ?1 \
     UNION SELECT id FROM companies WHERE email_domain = ?1 ORDER BY 1";

/// Opens the state file as a run does, optionally with SQLite's query
/// planner stability guarantee (see `docs/PERFORMANCE.md`).
fn open(path: &Path, qpsg: bool) -> State {
    let st = State::open(path, Access::Read, "bench").expect("open state");
    if let Ok(sql) = std::env::var("BENCH_SQL") {
        st.conn.execute_batch(&sql).expect("BENCH_SQL");
    }
    if qpsg {
        st.conn
            .set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .expect("enable QPSG");
    }
    st
}

/// How often the person lookup statement was re-prepared so far.
fn reprepares(st: &State) -> i32 {
    st.conn
        .prepare_cached(PERSON_SQL)
        .map(|s| s.get_status(StatementStatus::RePrepare))
        .unwrap_or(0)
}

struct Measured {
    label: &'static str,
    rows: Vec<Row>,
    open: Duration,
    reprepares_per_pass: i32,
}

/// Cold and warm passes over the whole mix, then warm passes by kind.
fn measure(path: &Path, cfg: &Config, qs: &[Query], reps: usize, qpsg: bool) -> Measured {
    let all: Vec<&Query> = qs.iter().collect();
    let mut cold = Row {
        case: "all, cold (reopened state, new Matcher)".into(),
        n: all.len(),
        times: Vec::new(),
    };
    let mut warm = Row {
        case: "all, warm (same Matcher, next pass)".into(),
        n: all.len(),
        times: Vec::new(),
    };
    let mut open_times = Vec::new();
    let mut reprepares_per_pass = 0;
    for _ in 0..reps {
        let t0 = Instant::now();
        let st = open(path, qpsg);
        let m = Matcher::new(&st.conn, cfg).expect("matcher");
        open_times.push(t0.elapsed());
        cold.times.push(pass(&m, &all));
        let before = reprepares(&st);
        warm.times.push(pass(&m, &all));
        reprepares_per_pass = reprepares(&st) - before;
    }
    let mut rows = vec![cold, warm];
    let st = open(path, qpsg);
    let m = Matcher::new(&st.conn, cfg).expect("matcher");
    pass(&m, &all);
    for (kind, label, _) in KINDS {
        let sub: Vec<&Query> = qs.iter().filter(|q| q.kind == kind).collect();
        let times = (0..reps).map(|_| pass(&m, &sub)).collect();
        rows.push(Row {
            case: format!("warm: {label}"),
            n: sub.len(),
            times,
        });
    }
    Measured {
        label: if qpsg {
            "with SQLITE_DBCONFIG_ENABLE_QPSG on the connection (proposed)"
        } else {
            "as shipped (State::open, Matcher::new)"
        },
        rows,
        open: median(&open_times),
        reprepares_per_pass,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick")
        || std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let json = args.iter().any(|a| a == "--json");
    let reps = args
        .iter()
        .position(|a| a == "--reps")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5);
    let s = if quick {
        Sizes {
            persons: 100_000,
            companies: 5_000,
            lookups: 100_000,
        }
    } else {
        Sizes {
            persons: 1_000_000,
            companies: 50_000,
            lookups: 100_000,
        }
    };

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.sqlite");
    let cfg = Config::parse(CONFIG, Path::new("bench.toml")).expect("config");

    println!(
        "crmsync matching benchmark{}: {} persons, {} companies, {} lookups, {reps} passes per case",
        if quick { " (--quick)" } else { "" },
        s.persons,
        s.companies,
        s.lookups,
    );
    let load_time = load(&path, &s);
    let size = file_size(&path);
    let st = open(&path, false);
    let (addresses, shared): (i64, i64) = st
        .conn
        .query_row(
            "SELECT count(*), (SELECT count(*) FROM (SELECT email FROM person_emails
               GROUP BY email HAVING count(*) > 1)) FROM person_emails",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count addresses");
    let plans: Vec<(&str, Vec<String>)> = [PERSON_SQL, COMPANY_SQL]
        .into_iter()
        .map(|sql| (sql, query_plan(&st, sql)))
        .collect();
    drop(st);
    println!(
        "load: {} persons ({addresses} addresses, {shared} of them shared by two persons), \
         {} companies, {} ignored patterns; one transaction: {:.1} s = {:.0} persons/s",
        s.persons,
        s.companies,
        IGNORED_ADDRESSES + IGNORED_DOMAINS,
        load_time.as_secs_f64(),
        s.persons as f64 / load_time.as_secs_f64(),
    );
    println!("state file: {:.1} MB", size as f64 / 1e6);

    let qs = queries(&s);
    let intended: Vec<usize> = KINDS.iter().map(|k| s.lookups * k.2 / 100).collect();
    assert_eq!(mix_of(&qs).to_vec(), intended, "the query mix");
    let mix: Vec<String> = KINDS
        .iter()
        .zip(&intended)
        .map(|((_, label, _), n)| format!("{n} {label}"))
        .collect();
    println!("mix: {}", mix.join(", "));

    let results = [
        measure(&path, &cfg, &qs, reps, false),
        measure(&path, &cfg, &qs, reps, true),
    ];
    for r in &results {
        println!();
        println!(
            "{}: open state + Matcher::new {}, person statement re-prepared {} times per pass",
            r.label,
            ms(r.open),
            r.reprepares_per_pass
        );
        print_table(&r.rows);
    }
    println!();
    for (sql, plan) in &plans {
        println!(
            "EXPLAIN QUERY PLAN {}",
            sql.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        for line in plan {
            println!("  {line}");
        }
    }

    if json {
        let configs: Vec<serde_json::Value> = results
            .iter()
            .map(|m| {
                let rows: Vec<serde_json::Value> = m
                    .rows
                    .iter()
                    .map(|r| {
                        let t = r.sorted();
                        serde_json::json!({
                            "case": r.case,
                            "n": r.n,
                            "median_s": r.median().as_secs_f64(),
                            "min_s": t[0].as_secs_f64(),
                            "max_s": t[t.len() - 1].as_secs_f64(),
                        })
                    })
                    .collect();
                serde_json::json!({
                    "config": m.label,
                    "open_s": m.open.as_secs_f64(),
                    "reprepares_per_pass": m.reprepares_per_pass,
                    "rows": rows,
                })
            })
            .collect();
        let out = serde_json::json!({
            "persons": s.persons,
            "companies": s.companies,
            "lookups": s.lookups,
            "reps": reps,
            "load_s": load_time.as_secs_f64(),
            "state_bytes": size,
            "configs": configs,
        });
        println!("{out}");
    }
}
