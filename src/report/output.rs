//! One printer renders a table for people or one JSON document for scripts
//! from the same `Serialize` value (STYLE 10, X6). Only data goes to stdout;
//! what a person must act on (errors, warnings, failed items) goes to stderr
//! (X14). Every JSON document has the common top-level shape of X15
//! ([`envelope`], docs/JSON.md).

use std::io::{IsTerminal, Write};

use anyhow::Result;
use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

use crate::parse::records::csv_cell;

/// A value that can be shown as a table.
pub trait Tabular {
    fn headers(&self) -> Vec<&'static str>;
    fn rows(&self) -> Vec<Vec<String>>;
    /// Lines printed under the table (summaries); not part of the JSON.
    fn footer(&self) -> Vec<String> {
        Vec::new()
    }
    /// X14: a run's report (import-mail, sync-calendar, push-contacts,
    /// resolve-unknown, check): `-q` prints nothing on stdout, and without
    /// [`Tabular::detail`] only the footer's first line (the summary).
    /// Listings (`report`, `crm list`, ...) print their table whatever.
    fn is_run(&self) -> bool {
        false
    }
    /// X14: the table of a run is shown (`--all-items`, `-v`, a dry run).
    fn detail(&self) -> bool {
        true
    }
    /// X14: lines for stderr (errors, warnings; failed items when the table
    /// that lists them is not shown). Shown even with `-q`.
    fn problems(&self, _table_shown: bool) -> Vec<String> {
        Vec::new()
    }
    /// X15: false when the run did not do all it should (exit code not 0).
    fn ok(&self) -> bool {
        true
    }
    /// X15: the key of the value's own list when it is not `items`
    /// (`persons`, `activities`, ...); the JSON has it under both names.
    fn list_key(&self) -> Option<&'static str> {
        None
    }
}

/// Chooses between table and JSON once per run.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub json: bool,
    /// `-q`: a run prints nothing on stdout unless `--json` (X14).
    pub quiet: bool,
    /// The command's name in the JSON (`import-mail`, `crm list`; X15).
    pub command: &'static str,
}

impl Printer {
    /// Prints `value` on stdout as a table or as one JSON document.
    ///
    /// # Errors
    /// Write errors (a closed pipe is reported as such; `main` exits 0 then).
    pub fn print<T: Serialize + Tabular>(&self, value: &T) -> Result<()> {
        if self.json {
            let doc = envelope(
                self.command,
                value.ok(),
                serde_json::to_value(value)?,
                value.list_key(),
            );
            return write_json(&doc);
        }
        // X14: a run shows its one-line summary, its table only on request.
        let table_shown = !value.is_run() || (value.detail() && !self.quiet);
        let mut s = String::new();
        if !(value.is_run() && self.quiet) {
            if table_shown {
                s = render_table(&value.headers(), &value.rows());
                for line in value.footer() {
                    s.push_str(&line);
                    s.push('\n');
                }
            } else if let Some(line) = value.footer().into_iter().next() {
                s = line + "\n";
            }
        }
        let out = write_stdout(&s);
        for line in value.problems(table_shown) {
            crate::ui::problem(&line);
        }
        out
    }

    /// X15: the JSON document of a command that failed: the common shape,
    /// `ok` false, the error (with its causes) in `errors`.
    ///
    /// # Errors
    /// Write errors.
    pub fn print_error(command: &str, message: &str) -> Result<()> {
        let doc = envelope(
            command,
            false,
            serde_json::json!({ "errors": [message] }),
            None,
        );
        write_json(&doc)
    }
}

/// X15: the common top level of every JSON document: `command`, `ok`,
/// `counts`, `items`, `warnings`, `errors` (empty when the value has none),
/// then the value's own keys; a list under its own name (`list_key`) is
/// also `items`. A value that is not an object comes under `value`.
pub fn envelope(
    command: &str,
    ok: bool,
    value: serde_json::Value,
    list_key: Option<&str>,
) -> serde_json::Value {
    use serde_json::{Map, Value};
    let mut body = match value {
        Value::Object(m) => m,
        other => {
            let mut m = Map::new();
            m.insert("value".into(), other);
            m
        }
    };
    let items = list_key
        .and_then(|k| body.get(k).cloned())
        .or_else(|| body.remove("items"))
        .unwrap_or_else(|| Value::Array(Vec::new()));
    let mut doc = Map::new();
    let command = body
        .remove("command")
        .unwrap_or_else(|| Value::String(command.to_string()));
    doc.insert("command".into(), command);
    doc.insert("ok".into(), Value::Bool(ok));
    doc.insert(
        "counts".into(),
        body.remove("counts")
            .unwrap_or_else(|| Value::Object(Map::new())),
    );
    doc.insert("items".into(), items);
    for key in ["warnings", "errors"] {
        doc.insert(
            key.into(),
            body.remove(key).unwrap_or_else(|| Value::Array(Vec::new())),
        );
    }
    doc.extend(body);
    Value::Object(doc)
}

/// Writes one JSON document and a newline on stdout.
fn write_json(doc: &serde_json::Value) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, doc)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// A comfy-table with our style: fits the terminal, plain when piped.
pub fn render_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    if std::io::stdout().is_terminal() {
        t.set_content_arrangement(ContentArrangement::Dynamic);
        // A 0x0 pseudo-terminal would squeeze every column to nothing.
        if t.width().unwrap_or(0) < 40 {
            t.set_width(120);
        }
    } else {
        t.load_style(presets::ASCII_MARKDOWN);
        t.set_content_arrangement(ContentArrangement::Disabled);
    }
    t.set_header(headers.to_vec());
    // X6a: cells hold outside text (subjects, names): shown, never obeyed.
    for r in rows {
        t.add_row(r.iter().map(|c| crate::ui::printable(c).into_owned()));
    }
    let mut s = t.to_string();
    s.push('\n');
    s
}

/// Writes to stdout, flushing; a closed pipe surfaces as `BrokenPipe`.
///
/// # Errors
/// I/O errors.
pub fn write_stdout(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Writes one CSV record, every cell through [`csv_cell`] (X10a).
///
/// # Errors
/// CSV write errors.
pub fn csv_record<W: Write, S: AsRef<str>>(
    w: &mut csv::Writer<W>,
    cells: impl IntoIterator<Item = S>,
) -> csv::Result<()> {
    w.write_record(cells.into_iter().map(|c| csv_cell(c.as_ref()).into_owned()))
}
