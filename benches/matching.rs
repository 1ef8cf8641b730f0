//! Matching benchmark (SPEC 1 "uniquely identified", M10, M14).
//!
//! Builds a state file with 1,000,000 persons (1-3 addresses each, some
//! addresses carried by two persons) and 50,000 companies (1-2 web domains)
//! through the same directory code `crm import` uses, and times that load.
//! Then it times 100,000 `Matcher::lookup` calls over a fixed mix of address
//! kinds (60 % known unique, 5 % ambiguous, 20 % unknown at a company domain,
//! 10 % unknown free mail, 5 % ignored), cold (a fresh connection after
//! reopening the state file) and warm, by kind, on connections exactly as
//! `State::open` makes them. Every answer is checked against the expected
//! one and the answers are counted by kind; a wrong answer or count aborts
//! the run, so the table never times wrong answers.
//!
//! Regression guard: `State::open` switches on SQLite's query planner
//! stability guarantee (`SQLITE_DBCONFIG_ENABLE_QPSG`); without it SQLite
//! re-prepares the cached lookup statements on every use, which made a
//! lookup about three times slower (`docs/PERFORMANCE.md`). The table shows
//! how often the person and company statements were re-prepared per pass,
//! and the run panics if that is not 0 on the shipped connection. One more
//! row, "without QPSG (before the fix)", times the whole mix warm on a
//! connection with the guarantee switched off again, to show what the guard
//! protects (it is not checked; it costs about 1 + `--reps` slow passes).
//!
//! ```text
//! cargo bench --bench matching              # 1,000,000 persons
//! cargo bench --bench matching -- --quick   # 100,000 persons (or BENCH_QUICK=1)
//! cargo test --bench matching               # smoke test, 2,000 persons
//! ```
//!
//! Without `--bench` (which `cargo bench` passes and `cargo test` does not),
//! and without `--quick`, it runs a smoke test: 2,000 persons, 100
//! companies, 2,000 lookups, one pass per case, every answer and the guard
//! checked as in the full run. So `cargo test --all-targets` takes seconds.
//!
//! Options: `--reps N` (passes per case, default 5, 1 in the smoke test),
//! `--json` (also print the results as one JSON line). Unknown arguments are
//! ignored. `BENCH_SQL="PRAGMA mmap_size=268435456"` runs that SQL on every
//! connection the lookups use (to try pragmas without editing src/). The
//! data is reproducible: a fixed seed drives a splitmix64 generator.

use std::path::Path;
use std::time::{Duration, Instant};

use crmsync::config::Config;
use crmsync::matching::{Matcher, PersonMatch};
use crmsync::model::{Company, Person};
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
    let batch = st.batch().expect("begin");
    let companies: Vec<Company> = (0..s.companies).map(company).collect();
    let c = st
        .upsert_companies(&companies, true)
        .expect("upsert companies");
    assert_eq!(c.created, s.companies);
    drop(companies);
    let mut created = 0;
    for start in (0..s.persons).step_by(CHUNK) {
        let chunk: Vec<Person> = (start..(start + CHUNK).min(s.persons))
            .map(|i| person(i, s))
            .collect();
        created += st
            .upsert_persons(&chunk, true)
            .expect("upsert persons")
            .created;
    }
    assert_eq!(created, s.persons);
    // M14: ignored addresses (at company domains, so without the ignore
    // they would match a company) and whole domains.
    {
        let mut ins = st
            .connection_for_benches()
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
    batch.commit().expect("commit");
    let took = t0.elapsed();
    st.connection_for_benches()
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
    /// Re-preparations of the lookup statements, one entry per pass.
    reprepares: Vec<i32>,
}

impl Row {
    fn new(case: impl Into<String>, n: usize) -> Row {
        Row {
            case: case.into(),
            n,
            times: Vec::new(),
            reprepares: Vec::new(),
        }
    }
    fn push(&mut self, p: Pass) {
        self.times.push(p.took);
        self.reprepares.push(p.reprepares);
    }
    fn sorted(&self) -> Vec<Duration> {
        let mut t = self.times.clone();
        t.sort();
        t
    }
    fn median(&self) -> Duration {
        median(&self.times)
    }
    /// The most re-preparations in one pass.
    fn reprepares_max(&self) -> i32 {
        self.reprepares.iter().copied().max().unwrap_or(0)
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn print_table(rows: &[Row]) {
    let w = rows.iter().map(|r| r.case.len()).max().unwrap_or(4).max(4);
    println!(
        "{:<w$}  {:>7}  {:>10}  {:>10}  {:>10}  {:>9}  {:>10}  {:>11}",
        "case", "n", "median", "min", "max", "µs/lookup", "lookups/s", "re-prepares"
    );
    println!(
        "{}",
        "-".repeat(w + 2 + 7 + 2 + 10 * 3 + 6 + 9 + 2 + 10 + 2 + 11 + 2)
    );
    for r in rows {
        let t = r.sorted();
        let med = r.median();
        println!(
            "{:<w$}  {:>7}  {:>10}  {:>10}  {:>10}  {:>9.2}  {:>10.0}  {:>11}",
            r.case,
            r.n,
            ms(med),
            ms(t[0]),
            ms(t[t.len() - 1]),
            med.as_secs_f64() * 1e6 / r.n as f64,
            r.n as f64 / med.as_secs_f64(),
            r.reprepares_max(),
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
        .connection_for_benches()
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("explain");
    stmt.query_map(["x"], |r| r.get::<_, String>(3))
        .expect("explain rows")
        .collect::<rusqlite::Result<_>>()
        .expect("explain rows")
}

// --- the re-prepare guard ---------------------------------------------------

/// The SQL of the two statements `Matcher::persons_with` and
/// `Matcher::companies_with_domain` prepare with `prepare_cached`, byte for
/// byte (whitespace included) as in `src/matching.rs`: rusqlite's statement
/// cache is keyed by the (trimmed) text, and the benchmark reads the
/// statements' SQLite counters from that cache. If the text drifts, the
/// benchmark panics instead of reading a fresh, unused statement.
const PERSON_SQL: &str = "SELECT person_id FROM person_emails WHERE email = ?1 ORDER BY person_id";
const COMPANY_SQL: &str = "SELECT company_id FROM company_domains WHERE domain = ?1
             UNION SELECT id FROM companies WHERE email_domain = ?1
             ORDER BY 1";
const LOOKUP_SQL: [(&str, &str); 2] = [
    ("Matcher::persons_with", PERSON_SQL),
    ("Matcher::companies_with_domain", COMPANY_SQL),
];

/// One timed pass and what SQLite counted during it.
struct Pass {
    took: Duration,
    /// Re-preparations of both lookup statements.
    reprepares: i32,
    /// Runs of each lookup statement (to tell that the counters read are
    /// those of the statements the `Matcher` used).
    runs: [i32; 2],
}

/// Reads and resets the re-prepare and run counters of the cached lookup
/// statements (`sqlite3_stmt_status` with `SQLITE_STMTSTATUS_REPREPARE` and
/// `SQLITE_STMTSTATUS_RUN`).
fn take_counters(st: &State) -> (i32, [i32; 2]) {
    let mut reprepares = 0;
    let mut runs = [0; 2];
    for (n, (_, sql)) in LOOKUP_SQL.iter().enumerate() {
        let stmt = st
            .connection_for_benches()
            .prepare_cached(sql)
            .expect("cached lookup statement");
        reprepares += stmt.reset_status(StatementStatus::RePrepare);
        runs[n] = stmt.reset_status(StatementStatus::Run);
    }
    (reprepares, runs)
}

/// Times one pass over `qs` (see [`pass`]) and takes the counters. The
/// counters must have been taken after the previous pass on `st`, or `st`
/// must be fresh (its lookup statements not prepared yet).
fn counted_pass(st: &State, m: &Matcher<'_>, qs: &[&Query]) -> Pass {
    let took = pass(m, qs);
    let (reprepares, runs) = take_counters(st);
    Pass {
        took,
        reprepares,
        runs,
    }
}

/// A pass over the whole mix runs both lookup statements; if the counters
/// say otherwise, they were read from other statements than the Matcher's.
fn check_counted(p: &Pass) {
    for ((name, sql), runs) in LOOKUP_SQL.iter().zip(p.runs) {
        assert!(
            runs > 0,
            "the statement of {name} was not found in the connection's statement cache: \
             update the SQL in benches/matching.rs to match src/matching.rs exactly\n{sql}"
        );
    }
}

// --- the measurement ----------------------------------------------------------

/// How the lookup connections are set up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// Exactly as `State::open` makes them (plus `BENCH_SQL`).
    Shipped,
    /// QPSG switched off again after `State::open`: as before the fix.
    WithoutQpsg,
}

impl Setup {
    fn label(self) -> &'static str {
        match self {
            Setup::Shipped => "as shipped (State::open, Matcher::new)",
            Setup::WithoutQpsg => {
                "without QPSG (before the fix): SQLITE_DBCONFIG_ENABLE_QPSG switched off after State::open"
            }
        }
    }
}

/// Opens the state file as a run does.
fn open(path: &Path, setup: Setup) -> State {
    let st = State::open(path, Access::Read, "bench").expect("open state");
    if let Ok(sql) = std::env::var("BENCH_SQL") {
        st.connection_for_benches()
            .execute_batch(&sql)
            .expect("BENCH_SQL");
    }
    if setup == Setup::WithoutQpsg {
        st.connection_for_benches()
            .set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, false)
            .expect("switch QPSG off");
    }
    st
}

struct Measured {
    setup: Setup,
    /// What the connection reports for `SQLITE_DBCONFIG_ENABLE_QPSG`.
    qpsg: bool,
    rows: Vec<Row>,
    open: Duration,
}

/// As shipped: cold and warm passes over the whole mix, then warm passes
/// by kind; every pass counted.
fn measure_shipped(path: &Path, cfg: &Config, qs: &[Query], reps: usize) -> Measured {
    let all: Vec<&Query> = qs.iter().collect();
    let mut cold = Row::new("all, cold (reopened state, new Matcher)", all.len());
    let mut warm = Row::new("all, warm (same Matcher, next pass)", all.len());
    let mut open_times = Vec::new();
    let mut qpsg = true;
    for _ in 0..reps {
        let t0 = Instant::now();
        let st = open(path, Setup::Shipped);
        let m = Matcher::new(&st, cfg).expect("matcher");
        open_times.push(t0.elapsed());
        qpsg &= st
            .connection_for_benches()
            .db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG)
            .expect("read QPSG");
        for row in [&mut cold, &mut warm] {
            let p = counted_pass(&st, &m, &all);
            check_counted(&p);
            row.push(p);
        }
    }
    let mut rows = vec![cold, warm];
    let st = open(path, Setup::Shipped);
    let m = Matcher::new(&st, cfg).expect("matcher");
    check_counted(&counted_pass(&st, &m, &all));
    for (kind, label, _) in KINDS {
        let sub: Vec<&Query> = qs.iter().filter(|q| q.kind == kind).collect();
        let mut row = Row::new(format!("warm: {label}"), sub.len());
        for _ in 0..reps {
            row.push(counted_pass(&st, &m, &sub));
        }
        rows.push(row);
    }
    Measured {
        setup: Setup::Shipped,
        qpsg,
        rows,
        open: median(&open_times),
    }
}

/// Before the fix, for comparison: the whole mix, warm, `reps` passes
/// after one untimed pass.
fn measure_without_qpsg(path: &Path, cfg: &Config, qs: &[Query], reps: usize) -> Measured {
    let all: Vec<&Query> = qs.iter().collect();
    let t0 = Instant::now();
    let st = open(path, Setup::WithoutQpsg);
    let m = Matcher::new(&st, cfg).expect("matcher");
    let open_time = t0.elapsed();
    let qpsg = st
        .connection_for_benches()
        .db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG)
        .expect("read QPSG");
    check_counted(&counted_pass(&st, &m, &all));
    let mut warm = Row::new("all, warm (same Matcher, next pass)", all.len());
    for _ in 0..reps {
        let p = counted_pass(&st, &m, &all);
        check_counted(&p);
        warm.push(p);
    }
    Measured {
        setup: Setup::WithoutQpsg,
        qpsg,
        rows: vec![warm],
        open: open_time,
    }
}

fn print_measured(m: &Measured) {
    println!();
    println!(
        "{}: QPSG {}, open state + Matcher::new {}",
        m.setup.label(),
        if m.qpsg { "on" } else { "off" },
        ms(m.open),
    );
    print_table(&m.rows);
}

// --- main ---------------------------------------------------------------------

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick")
        || std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    // `cargo bench` passes `--bench`; `cargo test` (debug build) does not.
    let smoke = !quick && !args.iter().any(|a| a == "--bench");
    let json = args.iter().any(|a| a == "--json");
    let reps = args
        .iter()
        .position(|a| a == "--reps")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(if smoke { 1 } else { 5 });
    let (s, mode) = if smoke {
        (
            Sizes {
                persons: 2_000,
                companies: 100,
                lookups: 2_000,
            },
            " (smoke test: no --bench)",
        )
    } else if quick {
        (
            Sizes {
                persons: 100_000,
                companies: 5_000,
                lookups: 100_000,
            },
            " (--quick)",
        )
    } else {
        (
            Sizes {
                persons: 1_000_000,
                companies: 50_000,
                lookups: 100_000,
            },
            "",
        )
    };

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.sqlite");
    let cfg = Config::parse(CONFIG, Path::new("bench.toml")).expect("config");

    println!(
        "crmsync matching benchmark{mode}: {} persons, {} companies, {} lookups, {reps} passes per case",
        s.persons, s.companies, s.lookups,
    );
    let load_time = load(&path, &s);
    let size = file_size(&path);
    let st = open(&path, Setup::Shipped);
    let (addresses, shared): (i64, i64) = st
        .connection_for_benches()
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
    println!(
        "re-prepares: how often SQLite re-prepared (parsed and planned again) the person and \
         company lookup statements in one pass (the most over the passes); must be 0 as shipped"
    );

    let shipped = measure_shipped(&path, &cfg, &qs, reps);
    print_measured(&shipped);
    let regressed: Vec<String> = shipped
        .rows
        .iter()
        .filter(|r| r.reprepares_max() != 0)
        .map(|r| format!("{}: {} per pass", r.case, r.reprepares_max()))
        .collect();
    assert!(
        regressed.is_empty() && shipped.qpsg,
        "lookup statements re-prepared on connections from State::open (QPSG {}): {}; \
         has `configure` in src/state/mod.rs lost SQLITE_DBCONFIG_ENABLE_QPSG? \
         (docs/PERFORMANCE.md)",
        if shipped.qpsg { "on" } else { "off" },
        regressed.join("; "),
    );
    let before = measure_without_qpsg(&path, &cfg, &qs, reps);
    print_measured(&before);
    if before.rows[0].reprepares_max() == 0 {
        println!(
            "note: no re-prepares without QPSG either: this SQLite no longer re-plans on \
             rebinding, and the guard above checks nothing"
        );
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
        let configs: Vec<serde_json::Value> = [&shipped, &before]
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
                            "reprepares_per_pass": r.reprepares,
                        })
                    })
                    .collect();
                serde_json::json!({
                    "config": m.setup.label(),
                    "qpsg": m.qpsg,
                    "open_s": m.open.as_secs_f64(),
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
