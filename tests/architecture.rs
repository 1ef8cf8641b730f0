//! The layer rule of docs/ARCHITECTURE.md as a test (issue 14).
//!
//! Every top-level module of `src/` sits in a layer; a module may import
//! only from its own layer or a lower one ([`LAYERS`]). The test reads every
//! file under `src/` (comments stripped), collects its `crate::<module>`
//! paths (`use crate::a::b`, grouped `use crate::{a, b::c}`, and paths
//! written inline) and fails naming the file, the line and the import when
//! one points upwards. A second check keeps SQL in `src/state/`: no
//! statement calls (`.execute(`, `.prepare(`, `.query_row(`, ...) or
//! `unchecked_transaction` anywhere else. A third finds import circles
//! between modules (which the layer rule allows within one layer).
//!
//! [`ALLOWED_IMPORTS`] and [`ALLOWED_SQL`] name what is known and not yet
//! moved; an entry that no longer matches anything fails too, so the lists
//! only shrink.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// The layers, lowest first (docs/ARCHITECTURE.md). `lib.rs` and `main.rs`
/// are exempt: they declare the modules and run the CLI.
const LAYERS: &[(&str, u8)] = &[
    ("model", 0),
    ("address", 0),
    ("error", 0),
    ("ui", 0),
    ("config", 1),
    ("secret", 1),
    ("net", 1),
    ("parse", 2),
    ("compose", 2),
    ("state", 3),
    ("source", 4),
    ("matching", 5),
    ("accounts", 5),
    ("plan", 6),
    ("crm", 6),
    ("apply", 7),
    ("sync", 8),
    ("report", 9),
    ("wizard", 10),
    ("commands", 11),
    ("cli", 11),
    // The fuzzing entry points drive every reader, from config to IMAP.
    ("fuzz", 11),
];

/// Upward imports known and not yet moved: (file, imported module).
const ALLOWED_IMPORTS: &[(&str, &str)] = &[];

/// Files outside `src/state/` that still hold SQL (issue 14 phase A moves
/// it into `src/state/<area>.rs`).
const ALLOWED_SQL: &[&str] = &[];

/// What a statement call looks like; SQL runs through these only.
const SQL_CALLS: &[&str] = &[
    ".execute(",
    ".execute_batch(",
    ".prepare(",
    ".prepare_cached(",
    ".query_row(",
    "unchecked_transaction",
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// A `crate::<module>` path in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Import {
    /// 1-based.
    line: usize,
    /// The top-level module it names.
    module: String,
    /// The path as written, up to the end of its first segment after the
    /// module (for the message).
    text: String,
}

/// A broken rule, as the failure message shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Violation {
    file: String,
    line: usize,
    what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.what)
    }
}

/// The source with `//` and `/* */` comments blanked (newlines kept, so
/// line numbers stay), string and char literals left as they are.
fn strip_comments(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if b[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c == 'r' && matches!(next, Some('"') | Some('#')) && !ident_before(&b, i) {
            // A raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let start = i;
            j += 1;
            while j < b.len() {
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.extend(&b[start..j.min(b.len())]);
            i = j;
        } else if c == '"' {
            out.push(c);
            i += 1;
            while i < b.len() {
                out.push(b[i]);
                if b[i] == '\\' {
                    if let Some(&e) = b.get(i + 1) {
                        out.push(e);
                    }
                    i += 2;
                    continue;
                }
                i += 1;
                if b[i - 1] == '"' {
                    break;
                }
            }
        } else if c == '\'' {
            // A char literal ('x', '\n', '\''), or a lifetime ('a).
            let lit = match (b.get(i + 1), b.get(i + 2)) {
                (Some('\\'), _) => (i + 3..b.len()).find(|&j| b[j] == '\'').map(|j| j + 1),
                (Some(_), Some('\'')) => Some(i + 3),
                _ => None,
            };
            match lit {
                Some(end) => {
                    out.extend(&b[i..end.min(b.len())]);
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_' || b[i - 1] == '$')
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// Every `crate::<module>` path of a (comment-stripped) source, grouped
/// ones (`crate::{a, b::{c, d}}`) split into one per top-level module.
fn imports(code: &str) -> Vec<Import> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(off) = code[from..].find("crate::") {
        let at = from + off;
        from = at + "crate::".len();
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let line = code[..at].matches('\n').count() + 1;
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            // Up to the matching brace; split on top-level commas.
            let mut depth = 1;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                if c == ',' && depth == 1 {
                    items.push(std::mem::take(&mut item));
                } else {
                    item.push(c);
                }
            }
            items.push(item);
            for it in items {
                let it = it.trim();
                let m = ident_at(it);
                if m.is_empty() || m == "self" {
                    continue;
                }
                out.push(Import {
                    line,
                    module: m.to_string(),
                    text: format!("crate::{{{}}}", it.split_whitespace().collect::<String>()),
                });
            }
        } else {
            let m = ident_at(rest);
            if m.is_empty() {
                continue;
            }
            let tail = &rest[m.len()..];
            let seg = tail
                .strip_prefix("::")
                .map(|t| {
                    if t.starts_with('{') {
                        "{..}"
                    } else {
                        ident_at(t)
                    }
                })
                .filter(|s| !s.is_empty());
            out.push(Import {
                line,
                module: m.to_string(),
                text: match seg {
                    Some(s) => format!("crate::{m}::{s}"),
                    None => format!("crate::{m}"),
                },
            });
        }
    }
    out
}

/// The top-level module a file under `src/` belongs to (`plan/mail.rs` ->
/// `plan`); None for `lib.rs` and `main.rs`.
fn module_of(rel: &str) -> Option<&str> {
    let first = rel.split('/').next()?;
    if rel == "lib.rs" || rel == "main.rs" {
        return None;
    }
    Some(first.strip_suffix(".rs").unwrap_or(first))
}

/// The layer rule over one file (`rel` relative to `src/`).
fn check_layers(rel: &str, code: &str) -> Vec<Violation> {
    let Some(me) = module_of(rel) else {
        return Vec::new();
    };
    let file = format!("src/{rel}");
    let Some(mine) = layer(me) else {
        return vec![Violation {
            file,
            line: 1,
            what: format!("module `{me}` has no layer (add it to LAYERS and docs/ARCHITECTURE.md)"),
        }];
    };
    let mut out = Vec::new();
    for i in imports(code) {
        match layer(&i.module) {
            Some(theirs) if theirs <= mine => {}
            Some(theirs) => out.push(Violation {
                file: file.clone(),
                line: i.line,
                what: format!(
                    "`{}` (layer {theirs}) imported by `{me}` (layer {mine})",
                    i.text
                ),
            }),
            None => out.push(Violation {
                file: file.clone(),
                line: i.line,
                what: format!("`{}`: module `{}` has no layer", i.text, i.module),
            }),
        }
    }
    out
}

/// SQL outside `src/state/`.
fn check_sql(rel: &str, code: &str) -> Vec<Violation> {
    if rel.starts_with("state/") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (n, l) in code.lines().enumerate() {
        for call in SQL_CALLS {
            if l.contains(call) {
                out.push(Violation {
                    file: format!("src/{rel}"),
                    line: n + 1,
                    what: format!("SQL outside src/state/: `{}`", l.trim()),
                });
            }
        }
    }
    out
}

/// Import circles between top-level modules (they can only form within a
/// layer): each as the modules around it, with the first place each step
/// is imported. `files` is (file relative to `src/`, code).
fn check_circles(files: &[(String, String)]) -> Vec<String> {
    // module -> imported module -> first "src/file:line".
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (rel, code) in files {
        let Some(me) = module_of(rel) else { continue };
        for i in imports(code) {
            if i.module != me && i.module != "self" {
                edges
                    .entry(me.to_string())
                    .or_default()
                    .entry(i.module)
                    .or_insert_with(|| format!("src/{rel}:{}", i.line));
            }
        }
    }
    let mut found = BTreeSet::new();
    for start in edges.keys() {
        // Depth-first from `start`, looking for a way back to it.
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in edges.get(&at).into_iter().flat_map(|e| e.keys()) {
                if next == start {
                    // Name each circle once, from its smallest module.
                    if path.iter().min() == Some(start) {
                        let steps: Vec<String> = path
                            .iter()
                            .zip(path.iter().skip(1).chain(std::iter::once(start)))
                            .map(|(a, b)| format!("{a} -> {b} ({})", edges[a][b]))
                            .collect();
                        found.insert(steps.join(", "));
                    }
                } else if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
    found.into_iter().collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for e in entries {
        let p = e
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// (file relative to `src/`, comment-stripped code) for every source file.
fn sources() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&src)
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .unwrap_or_else(|_| p.display().to_string());
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{rel}: {e}"));
            (rel, strip_comments(&text))
        })
        .collect()
}

#[test]
fn every_module_imports_only_its_own_layer_or_lower() {
    let mut bad = Vec::new();
    let mut used = BTreeSet::new();
    for (rel, code) in sources() {
        for v in check_layers(&rel, &code) {
            let module = v.what.split('`').nth(1).and_then(|t| {
                let t = t.strip_prefix("crate::")?;
                let t = t.strip_prefix('{').unwrap_or(t);
                Some(ident_at(t).to_string())
            });
            let allowed = ALLOWED_IMPORTS
                .iter()
                .find(|(f, m)| *f == v.file && Some(*m) == module.as_deref());
            match allowed {
                Some(a) => {
                    used.insert(*a);
                }
                None => bad.push(v),
            }
        }
    }
    let stale: Vec<_> = ALLOWED_IMPORTS
        .iter()
        .filter(|a| !used.contains(a))
        .collect();
    assert!(
        bad.is_empty() && stale.is_empty(),
        "layer rule (docs/ARCHITECTURE.md): a module imports only its own layer or lower.\n\
         Upward imports:\n{}\nALLOWED_IMPORTS entries that match nothing (remove them):\n{:?}\n\
         Still allowed (to be moved): {:?}",
        bad.iter().map(|v| format!("  {v}\n")).collect::<String>(),
        stale,
        ALLOWED_IMPORTS,
    );
}

#[test]
fn sql_lives_only_in_state() {
    let mut bad = Vec::new();
    let mut used = BTreeSet::new();
    for (rel, code) in sources() {
        let file = format!("src/{rel}");
        let v = check_sql(&rel, &code);
        if v.is_empty() {
            continue;
        }
        if ALLOWED_SQL.contains(&file.as_str()) {
            used.insert(file);
        } else {
            bad.extend(v);
        }
    }
    let stale: Vec<_> = ALLOWED_SQL.iter().filter(|f| !used.contains(**f)).collect();
    assert!(
        bad.is_empty() && stale.is_empty(),
        "SQL lives in src/state/ only (docs/ARCHITECTURE.md).\nOutside it:\n{}\n\
         ALLOWED_SQL entries that match nothing (remove them):\n{:?}\n\
         Still allowed (to be moved): {:?}",
        bad.iter().map(|v| format!("  {v}\n")).collect::<String>(),
        stale,
        ALLOWED_SQL,
    );
}

#[test]
fn no_import_circles_between_modules() {
    let circles = check_circles(&sources());
    assert!(
        circles.is_empty(),
        "import circles between modules (move the shared type down a layer):\n{}",
        circles
            .iter()
            .map(|c| format!("  {c}\n"))
            .collect::<String>()
    );
}

// ---- The checker itself, on synthetic input ----

#[test]
fn an_upward_use_is_named_with_file_line_and_path() {
    let code =
        strip_comments("//! doc\nuse crate::model::Attach;\nuse crate::plan::mail::Owner;\n");
    let v = check_layers("parse/mail.rs", &code);
    assert_eq!(
        v,
        vec![Violation {
            file: "src/parse/mail.rs".into(),
            line: 3,
            what: "`crate::plan::mail` (layer 6) imported by `parse` (layer 2)".into(),
        }]
    );
    assert_eq!(
        v[0].to_string(),
        "src/parse/mail.rs:3: `crate::plan::mail` (layer 6) imported by `parse` (layer 2)"
    );
}

#[test]
fn grouped_and_inline_paths_are_split_per_module() {
    let code = strip_comments(
        "use crate::{\n    address::normalize,\n    report::{self, Table},\n    self,\n};\n\
         fn f() { crate::commands::run(); let _ = $crate::x; }\n",
    );
    let found: Vec<(usize, String)> = imports(&code)
        .into_iter()
        .map(|i| (i.line, i.module))
        .collect();
    assert_eq!(
        found,
        vec![
            (1, "address".to_string()),
            (1, "report".to_string()),
            (6, "commands".to_string()),
        ]
    );
    let v = check_layers("state/runs.rs", &code);
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(
        v[0].what
            .contains("`crate::{report::{self,Table}}` (layer 9)")
    );
}

#[test]
fn comments_do_not_count_and_strings_stay() {
    let code = strip_comments(
        "/// See [`crate::commands`].\n// crate::wizard\n/* crate::cli */\n\
         let s = \"// not a comment\"; let c = '\"'; crate::report::x();\n",
    );
    let found: Vec<_> = imports(&code).into_iter().map(|i| i.module).collect();
    assert_eq!(found, vec!["report".to_string()]);
    assert!(code.contains("\"// not a comment\""));
    assert_eq!(code.lines().count(), 4);
}

#[test]
fn same_or_lower_layer_passes_and_unknown_modules_fail() {
    let ok = strip_comments("use crate::crm::x;\nuse crate::state::State;\nuse crate::model::Y;\n");
    assert!(check_layers("plan/mail.rs", &ok).is_empty());
    assert!(check_layers("lib.rs", "use crate::cli::x;").is_empty());
    let v = check_layers("newthing.rs", "");
    assert_eq!(v.len(), 1);
    assert!(v[0].what.contains("no layer"));
}

#[test]
fn sql_is_found_outside_state_only() {
    let code = strip_comments("// conn.execute(\nlet n = conn.execute(\"DELETE\", [])?;\n");
    assert!(check_sql("state/items.rs", &code).is_empty());
    let v = check_sql("apply/mail.rs", &code);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].line, 2);
}

#[test]
fn a_circle_is_named_with_its_steps() {
    let files = vec![
        (
            "config.rs".to_string(),
            "use crate::secret::SecretSpec;\n".to_string(),
        ),
        (
            "secret.rs".to_string(),
            "\nuse crate::config::Config;\n".to_string(),
        ),
        (
            "net/http.rs".to_string(),
            "use crate::config::Config;\n".to_string(),
        ),
    ];
    assert_eq!(
        check_circles(&files),
        vec!["config -> secret (src/config.rs:1), secret -> config (src/secret.rs:2)".to_string()]
    );
    assert!(check_circles(&files[..1]).is_empty());
    let three = vec![
        ("ui.rs".to_string(), "use crate::model::X;".to_string()),
        ("model.rs".to_string(), "use crate::address::Y;".to_string()),
        (
            "address.rs".to_string(),
            "fn f() { crate::ui::warn(); }".to_string(),
        ),
    ];
    assert_eq!(
        check_circles(&three),
        vec![
            "address -> ui (src/address.rs:1), ui -> model (src/ui.rs:1), \
             model -> address (src/model.rs:1)"
                .to_string()
        ]
    );
}
