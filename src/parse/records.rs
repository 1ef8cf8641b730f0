//! `crm import` input (SPEC 8): CSV with a header row (lists inside a cell
//! separated by `;`) for companies and persons, and vCard files for
//! persons. Every problem is reported as `file:line: what is wrong`, and all
//! problems of a file are collected before anything is written.
//!
//! The CSV cell escaping of X10a lives here both ways: [`csv_cell`] for
//! every CSV crmsync writes (`crate::report::output::csv_record`),
//! [`csv_unescape`] for reading it back.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use calcard::vcard::{VCard, VCardProperty};
use calcard::{Entry, Parser};

use crate::address::{looks_like_address, normalize};
use crate::model::{COMPANY_KINDS, Company, Person};

/// The characters that make a spreadsheet read a cell as a formula (OWASP,
/// "CSV Injection"): `=`, `+`, `-`, `@`, tab and carriage return.
const FORMULA_START: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// X10a: one CSV cell, safe to open in a spreadsheet. A cell that starts
/// with a formula character, after any number of `'`, gets one more `'` in
/// front (OWASP's advice), so `=HYPERLINK(...)` from a mail subject stays
/// text. [`csv_unescape`] takes exactly that `'` off again: `crm import`
/// reads what `crm export` wrote back to the same values. Every CSV that
/// crmsync writes goes through here.
pub fn csv_cell(cell: &str) -> Cow<'_, str> {
    if cell.trim_start_matches('\'').starts_with(FORMULA_START) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The inverse of [`csv_cell`] for `crm import`: a cell of one or more `'`
/// and then a formula character loses its first `'` (`'+49 30 1234` is
/// `+49 30 1234`); any other cell is kept as it is (`'t Hooft` too).
pub fn csv_unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(FORMULA_START) => rest,
        _ => cell,
    }
}

/// A problem at a line of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

/// Records with the line each came from.
pub type Lined<T> = Vec<(u64, T)>;

/// What the rows may refer to: configured user logins, and companies.
pub struct Refs<'a> {
    pub users: &'a HashSet<String>,
    /// Is a company external id known (in the CRM)?
    pub company_exists: &'a dyn Fn(&str) -> bool,
    /// External id of the company with this name, if exactly one (vCard ORG).
    pub company_by_name: &'a dyn Fn(&str) -> Option<String>,
}

const COMPANY_COLUMNS: &[&str] = &[
    "id",
    "name",
    "kind",
    "email",
    "domains",
    "rep",
    "sales_groups",
];
const PERSON_COLUMNS: &[&str] = &[
    "id",
    "first_name",
    "last_name",
    "emails",
    "phones",
    "company_id",
    "rep",
    "sales_groups",
    "favorite_of",
];

/// The CSV header of the SPEC 8 layout.
pub fn company_header() -> &'static [&'static str] {
    COMPANY_COLUMNS
}

pub fn person_header() -> &'static [&'static str] {
    PERSON_COLUMNS
}

/// Splits a `;`-separated cell into trimmed, non-empty parts.
pub fn split_list(cell: &str) -> Vec<String> {
    cell.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn opt(cell: &str) -> Option<String> {
    let t = cell.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Maps header names to column indexes; unknown and missing columns are errors.
fn columns(
    header: &csv::StringRecord,
    expected: &[&str],
    required: &[&str],
) -> Result<HashMap<String, usize>, RowError> {
    let mut map = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim().trim_start_matches('\u{feff}').to_lowercase();
        if !expected.contains(&h.as_str()) {
            return Err(RowError {
                line: 1,
                message: format!(
                    "unknown column `{h}`; expected columns: {}",
                    expected.join(",")
                ),
            });
        }
        map.insert(h, i);
    }
    for r in required {
        if !map.contains_key(*r) {
            return Err(RowError {
                line: 1,
                message: format!(
                    "column `{r}` is missing; expected columns: {}",
                    expected.join(",")
                ),
            });
        }
    }
    Ok(map)
}

struct Row<'r> {
    rec: &'r csv::StringRecord,
    cols: &'r HashMap<String, usize>,
}

impl Row<'_> {
    fn get(&self, name: &str) -> &str {
        self.cols
            .get(name)
            .and_then(|i| self.rec.get(*i))
            .map(|c| csv_unescape(c.trim()))
            .unwrap_or("")
    }
}

fn check_user(refs: &Refs<'_>, login: &str, what: &str, errs: &mut Vec<String>) {
    if !refs.users.contains(login) {
        errs.push(format!(
            "{what} `{login}` is not a configured user; add a [[users]] entry with login = \"{login}\" to the config"
        ));
    }
}

fn check_emails(list: &[String], what: &str, errs: &mut Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in list {
        let n = normalize(e);
        if !looks_like_address(&n) {
            errs.push(format!("{what} `{e}` is not an e-mail address"));
        } else if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

fn read_csv<T>(
    data: &[u8],
    expected: &[&str],
    required: &[&str],
    mut row: impl FnMut(&Row<'_>, &mut Vec<String>) -> Option<T>,
) -> Result<Lined<T>, Vec<RowError>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::None)
        .from_reader(data);
    let header = rdr.headers().map_err(|e| vec![csv_error(e)])?.clone();
    let cols = columns(&header, expected, required).map_err(|e| vec![e])?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(csv_error(e));
                continue;
            }
        };
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let r = Row {
            rec: &rec,
            cols: &cols,
        };
        let mut errs = Vec::new();
        let id = r.get("id").to_string();
        if id.is_empty() {
            errs.push("`id` is empty; every row needs the caller's id".to_string());
        } else if let Some(first) = seen.insert(id.clone(), line) {
            errs.push(format!("id `{id}` already appears on line {first}"));
        }
        let item = row(&r, &mut errs);
        if errs.is_empty() {
            if let Some(item) = item {
                out.push((line, item));
            }
        } else {
            errors.extend(errs.into_iter().map(|message| RowError { line, message }));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn csv_error(e: csv::Error) -> RowError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!(
                "{len} fields, but the header has {expected_len}; quote cells that contain commas"
            )
        }
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8; save the file as UTF-8".into(),
        _ => e.to_string(),
    };
    RowError { line, message }
}

/// Parses a companies CSV.
///
/// # Errors
/// Every row problem, with its line.
pub fn companies_csv(data: &[u8], refs: &Refs<'_>) -> Result<Lined<Company>, Vec<RowError>> {
    read_csv(data, COMPANY_COLUMNS, &["id", "name"], |r, errs| {
        let name = r.get("name").to_string();
        if name.is_empty() {
            errs.push("`name` is empty".into());
        }
        let kind = match r.get("kind").to_lowercase() {
            k if k.is_empty() => "customer".to_string(),
            k if COMPANY_KINDS.contains(&k.as_str()) => k,
            k => {
                errs.push(format!(
                    "kind `{k}` is unknown; expected one of {}",
                    COMPANY_KINDS.join(", ")
                ));
                k
            }
        };
        let email = opt(r.get("email")).map(|e| {
            let v = check_emails(std::slice::from_ref(&e), "email", errs);
            v.into_iter().next().unwrap_or(e)
        });
        let mut domains: Vec<String> = Vec::new();
        for d in split_list(r.get("domains")) {
            let d = d
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_start_matches("www.")
                .trim_end_matches('/')
                .to_lowercase();
            if d.contains('@') || d.contains(' ') || !d.contains('.') {
                errs.push(format!(
                    "domain `{d}` is not a domain name (expected e.g. acme.com)"
                ));
            } else if !domains.contains(&d) {
                domains.push(d);
            }
        }
        let rep = opt(r.get("rep"));
        if let Some(rep) = &rep {
            check_user(refs, rep, "rep", errs);
        }
        Some(Company {
            id: r.get("id").to_string(),
            name,
            kind,
            email,
            domains,
            rep,
            sales_groups: split_list(r.get("sales_groups")),
        })
    })
}

/// Parses a persons CSV.
///
/// # Errors
/// Every row problem, with its line.
pub fn persons_csv(data: &[u8], refs: &Refs<'_>) -> Result<Lined<Person>, Vec<RowError>> {
    read_csv(data, PERSON_COLUMNS, &["id", "emails"], |r, errs| {
        let emails = check_emails(&split_list(r.get("emails")), "e-mail", errs);
        let first_name = r.get("first_name").to_string();
        let last_name = r.get("last_name").to_string();
        if r.get("emails").is_empty() && first_name.is_empty() && last_name.is_empty() {
            errs.push("the row has neither a name nor an e-mail address".into());
        }
        let company_id = opt(r.get("company_id"));
        if let Some(c) = &company_id
            && !(refs.company_exists)(c)
        {
            errs.push(format!(
                "company_id `{c}` is not a known company; import the companies file first (crm import FILE --kind companies)"
            ));
        }
        let rep = opt(r.get("rep"));
        if let Some(rep) = &rep {
            check_user(refs, rep, "rep", errs);
        }
        let favorite_of = split_list(r.get("favorite_of"));
        for f in &favorite_of {
            check_user(refs, f, "favorite_of", errs);
        }
        Some(Person {
            id: r.get("id").to_string(),
            first_name,
            last_name,
            emails,
            phones: split_list(r.get("phones")),
            company_id,
            rep,
            sales_groups: split_list(r.get("sales_groups")),
            favorite_of,
        })
    })
}

/// Parses a vCard file (2.1, 3.0 or 4.0) into persons. The id is the UID,
/// else `email:<primary address>`; ORG names a company by its exact name.
///
/// # Errors
/// Every card problem, with the line its BEGIN:VCARD stands on.
pub fn persons_vcard(text: &str, refs: &Refs<'_>) -> Result<Lined<Person>, Vec<RowError>> {
    let begins: Vec<u64> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            l.trim_start_matches('\u{feff}')
                .trim()
                .eq_ignore_ascii_case("BEGIN:VCARD")
        })
        .map(|(i, _)| i as u64 + 1)
        .collect();
    let mut parser = Parser::new(text);
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut index = 0usize;
    loop {
        let line = begins.get(index).copied().unwrap_or(0);
        match parser.entry() {
            Entry::Eof => break,
            Entry::VCard(card) => {
                index += 1;
                let mut errs = Vec::new();
                let p = person_from_vcard(&card, refs, &mut errs);
                if let Some(first) = seen.insert(p.id.clone(), line) {
                    errs.push(format!(
                        "card id `{}` already appears on line {first}",
                        p.id
                    ));
                }
                if errs.is_empty() {
                    out.push((line, p));
                } else {
                    errors.extend(errs.into_iter().map(|message| RowError { line, message }));
                }
            }
            Entry::InvalidLine(l) => errors.push(RowError {
                line,
                message: format!(
                    "not a vCard line: `{}`",
                    l.chars().take(60).collect::<String>()
                ),
            }),
            Entry::UnterminatedComponent(c) => errors.push(RowError {
                line,
                message: format!("{c} is not closed by END:{c}"),
            }),
            Entry::ICalendar(_) => errors.push(RowError {
                line,
                message: "an iCalendar component in a vCard file; import persons only".into(),
            }),
            _ => errors.push(RowError {
                line,
                message: "malformed vCard".into(),
            }),
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors.push(RowError {
            line: 1,
            message: "no BEGIN:VCARD found; is this a vCard file?".into(),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn texts(card: &VCard, prop: VCardProperty) -> Vec<String> {
    card.properties(&prop)
        .filter_map(|e| {
            e.values
                .first()
                .and_then(|v| v.as_text())
                .map(str::to_string)
        })
        .filter(|s| !s.trim().is_empty())
        .collect()
}

fn person_from_vcard(card: &VCard, refs: &Refs<'_>, errs: &mut Vec<String>) -> Person {
    let (mut first_name, mut last_name) = (String::new(), String::new());
    if let Some(n) = card.property(&VCardProperty::N) {
        let part = |i: usize| {
            n.values
                .get(i)
                .and_then(|v| v.as_text())
                .unwrap_or("")
                .trim()
                .to_string()
        };
        last_name = part(0);
        first_name = part(1);
    }
    if first_name.is_empty()
        && last_name.is_empty()
        && let Some(full) = texts(card, VCardProperty::Fn).into_iter().next()
    {
        match full.trim().rsplit_once(' ') {
            Some((f, l)) => {
                first_name = f.trim().to_string();
                last_name = l.trim().to_string();
            }
            None => last_name = full.trim().to_string(),
        }
    }
    let emails = check_emails(&texts(card, VCardProperty::Email), "EMAIL", errs);
    let id = match card.uid() {
        Some(u) if !u.trim().is_empty() => u.trim().to_string(),
        _ => match emails.first() {
            Some(e) => format!("email:{e}"),
            None => {
                errs.push(
                    "the card has neither UID nor EMAIL, so it cannot be imported idempotently"
                        .into(),
                );
                String::new()
            }
        },
    };
    if emails.is_empty() && first_name.is_empty() && last_name.is_empty() {
        errs.push("the card has neither a name nor an e-mail address".into());
    }
    let company_id = texts(card, VCardProperty::Org)
        .into_iter()
        .next()
        .and_then(|org| (refs.company_by_name)(org.trim()));
    Person {
        id,
        first_name,
        last_name,
        emails,
        phones: texts(card, VCardProperty::Tel)
            .into_iter()
            .map(|t| t.trim_start_matches("tel:").to_string())
            .collect(),
        company_id,
        ..Person::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 16 item 7: formula cells are neutralised, and the way back is exact.
    #[test]
    fn x10a_formula_cells_get_a_quote_and_lose_exactly_it_again() {
        for (raw, safe) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+49 30 1234", "'+49 30 1234"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("''-x", "'''-x"),
        ] {
            assert_eq!(csv_cell(raw), safe, "{raw:?}");
            assert_eq!(csv_unescape(safe), raw, "{safe:?}");
        }
        for plain in [
            "Jane",
            "'t Hooft",
            "a=b",
            "jane@acme.example",
            "",
            "'",
            "2026-01-01",
        ] {
            assert_eq!(csv_cell(plain), plain);
            assert_eq!(csv_unescape(plain), plain);
        }
    }

    fn with_refs<R>(f: impl FnOnce(&Refs<'_>) -> R) -> R {
        let users: HashSet<String> = ["alice".to_string()].into();
        let exists = |c: &str| c == "C1";
        let by_name = |n: &str| (n == "Acme").then(|| "C1".to_string());
        f(&Refs {
            users: &users,
            company_exists: &exists,
            company_by_name: &by_name,
        })
    }

    #[test]
    fn b1_persons_csv_with_lists() {
        let csv = "id,first_name,last_name,emails,phones,company_id,rep,sales_groups,favorite_of\n\
                   P1,Jane,Doe,Jane@Acme.example; jd@acme.example,+1 555;+1 556,C1,alice,north,alice\n";
        let rows = with_refs(|r| persons_csv(csv.as_bytes(), r)).unwrap();
        assert_eq!(rows.len(), 1);
        let (line, p) = &rows[0];
        assert_eq!(*line, 2);
        assert_eq!(p.emails, vec!["jane@acme.example", "jd@acme.example"]);
        assert_eq!(p.phones, vec!["+1 555", "+1 556"]);
        assert_eq!(p.favorite_of, vec!["alice"]);
    }

    #[test]
    fn b1_row_errors_name_the_line_and_collect_all() {
        let csv = "id,emails,company_id,rep\nP1,not-an-address,,\nP2,ok@x.example,C9,\nP1,x@y.example,,bob\n";
        let errs = with_refs(|r| persons_csv(csv.as_bytes(), r)).unwrap_err();
        let lines: Vec<u64> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 4], "{errs:?}");
        assert!(errs[1].message.contains("C9"));
        assert!(errs[2].message.contains("already appears on line 2"));
        assert!(errs[3].message.contains("`bob` is not a configured user"));
    }

    #[test]
    fn b1_unknown_column_is_rejected() {
        let errs = with_refs(|r| companies_csv(b"id,name,colour\n1,A,red\n", r)).unwrap_err();
        assert_eq!(errs[0].line, 1);
        assert!(errs[0].message.contains("colour"));
    }

    #[test]
    fn b1_companies_csv_normalises_domains_and_kind() {
        let csv = "id,name,kind,email,domains,rep,sales_groups\nC1,Acme,,Info@Acme.example,https://www.Acme.example/;acme.de,,\n";
        let rows = with_refs(|r| companies_csv(csv.as_bytes(), r)).unwrap();
        let c = &rows[0].1;
        assert_eq!(c.kind, "customer");
        assert_eq!(c.email.as_deref(), Some("info@acme.example"));
        assert_eq!(c.domains, vec!["acme.example", "acme.de"]);
        let bad = with_refs(|r| companies_csv(b"id,name,kind\nC2,B,friend\n", r)).unwrap_err();
        assert!(bad[0].message.contains("friend"));
    }

    #[test]
    fn b1_vcard_persons() {
        let vcf = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u-1\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\nEMAIL;TYPE=work:jane@acme.example\r\nTEL:+1 555\r\nORG:Acme\r\nEND:VCARD\r\n\
                   BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Max Mustermann\r\nEMAIL:max@muster.example\r\nEND:VCARD\r\n";
        let rows = with_refs(|r| persons_vcard(vcf, r)).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].1.id, "u-1");
        assert_eq!(rows[0].1.company_id.as_deref(), Some("C1"));
        assert_eq!(
            (rows[0].1.first_name.as_str(), rows[0].1.last_name.as_str()),
            ("Jane", "Doe")
        );
        assert_eq!(rows[1].0, 10);
        assert_eq!(rows[1].1.id, "email:max@muster.example");
        assert_eq!(rows[1].1.last_name, "Mustermann");
    }

    #[test]
    fn b1_vcard_without_id_or_email_is_an_error() {
        let vcf = "BEGIN:VCARD\nVERSION:3.0\nFN:Nobody\nEND:VCARD\n";
        let errs = with_refs(|r| persons_vcard(vcf, r)).unwrap_err();
        assert_eq!(errs[0].line, 1);
    }
}
