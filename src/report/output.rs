//! One printer renders a table for people or one JSON document for scripts
//! from the same `Serialize` value (STYLE 10, X6). Only data goes to stdout.

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
}

/// Chooses between table and JSON once per run.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub json: bool,
}

impl Printer {
    /// Prints `value` on stdout as a table or as one JSON document.
    ///
    /// # Errors
    /// Write errors (a closed pipe is reported as such; `main` exits 0 then).
    pub fn print<T: Serialize + Tabular>(&self, value: &T) -> Result<()> {
        if self.json {
            // Streamed: a run over 100,000 mails lists as many items, and a
            // string of them all would double the peak memory.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            serde_json::to_writer_pretty(&mut out, value)?;
            out.write_all(b"\n")?;
            out.flush()?;
            Ok(())
        } else {
            let mut s = render_table(&value.headers(), &value.rows());
            for line in value.footer() {
                s.push_str(&line);
                s.push('\n');
            }
            write_stdout(&s)
        }
    }
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
