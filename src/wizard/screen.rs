//! A full-width screen for the wizards' lists (W7-W9), written on
//! `console` (already a direct dependency): it reads single keys and the
//! terminal size. dialoguer's lists wrap long items and then redraw the
//! wrong number of lines (issue 19: the first row drawn five times after
//! four keys), cannot show a column layout, a footer, a filter or a step
//! back on Backspace/←. Here every line is cut to the terminal's width
//! (with `…`, never wrapped), so a redraw moves up exactly the lines it
//! drew.

use std::io;

use console::{Key, Term};

/// A frame of lines redrawn in place on stderr.
pub struct Screen {
    term: Term,
    drawn: usize,
}

impl Default for Screen {
    fn default() -> Self {
        Screen::new()
    }
}

impl Screen {
    pub fn new() -> Screen {
        Screen {
            term: Term::stderr(),
            drawn: 0,
        }
    }

    /// Usable (columns, rows): one column less than the terminal, so no
    /// line ends in its last column (where terminals wrap late).
    pub fn size(&self) -> (usize, usize) {
        let (rows, cols) = self.term.size();
        (
            (cols as usize).saturating_sub(1).max(20),
            (rows as usize).max(8),
        )
    }

    /// Replaces the frame drawn last by `lines` (each already fitted).
    ///
    /// # Errors
    /// Terminal errors.
    pub fn draw(&mut self, lines: &[String]) -> io::Result<()> {
        let mut out = String::from("\r");
        if self.drawn > 1 {
            out.push_str(&format!("\x1b[{}A", self.drawn - 1));
        }
        // The tests read the screen from the last erase on (tests/e2e/pty.rs).
        out.push_str("\x1b[J");
        out.push_str(&lines.join("\r\n"));
        self.term.write_str(&out)?;
        self.term.flush()?;
        self.drawn = lines.len();
        Ok(())
    }

    /// Erases the frame and writes `line` in its place (whole: nothing is
    /// redrawn after it).
    ///
    /// # Errors
    /// Terminal errors.
    pub fn finish(&mut self, line: &str) -> io::Result<()> {
        self.draw(&[crate::ui::printable(line).into_owned()])?;
        self.term.write_line("")?;
        self.drawn = 0;
        Ok(())
    }

    /// Waits for one key.
    ///
    /// # Errors
    /// Terminal errors (Ctrl-C interrupts as a signal).
    pub fn key(&self) -> io::Result<Key> {
        self.term.read_key()
    }
}

/// True for the keys that go one step back (W7): Esc, ←, Backspace.
pub fn is_back(k: &Key) -> bool {
    matches!(k, Key::Escape | Key::ArrowLeft | Key::Backspace)
}

/// `text` made printable, cut to `width` columns with `…`, padded to
/// exactly `width`.
pub fn fit(text: &str, width: usize) -> String {
    let one_line = text.replace(['\n', '\t'], " ");
    let safe = crate::ui::printable(&one_line);
    let cut = console::truncate_str(&safe, width, "…");
    let pad = width.saturating_sub(console::measure_text_width(&cut));
    format!("{cut}{}", " ".repeat(pad))
}

/// The footer: `keys` ("space toggle", ...) joined by two spaces, on as
/// many lines of `width` as they need (a key is never split).
pub fn footer(keys: &[&str], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for k in keys {
        let need = console::measure_text_width(k);
        let have = console::measure_text_width(&line);
        if !line.is_empty() && have + 2 + need > width {
            lines.push(fit(&line, width));
            line.clear();
        }
        if !line.is_empty() {
            line.push_str("  ");
        }
        line.push_str(k);
    }
    if !line.is_empty() {
        lines.push(fit(&line, width));
    }
    lines
}

/// A list to choose one item from (W8): `head` lines above it, Enter
/// picks, Esc/←/Backspace returns None. The first `default` is marked.
///
/// # Errors
/// Terminal errors.
pub fn menu(
    screen: &mut Screen,
    head: &[String],
    items: &[String],
    default: usize,
) -> io::Result<Option<usize>> {
    let mut at = default.min(items.len().saturating_sub(1));
    loop {
        let (w, h) = screen.size();
        let keys = ["↑↓ move", "enter choose", "esc/←/backspace back"];
        let foot = footer(&keys, w);
        let room = h.saturating_sub(head.len() + foot.len() + 1).max(1);
        let top = at.saturating_sub(room - 1);
        let mut lines: Vec<String> = head.iter().map(|l| fit(l, w)).collect();
        for (i, item) in items.iter().enumerate().skip(top).take(room) {
            let mark = if i == at { "> " } else { "  " };
            lines.push(fit(&format!("{mark}{item}"), w));
        }
        lines.extend(foot);
        screen.draw(&lines)?;
        match screen.key()? {
            Key::ArrowUp | Key::Char('k') => at = at.saturating_sub(1),
            Key::ArrowDown | Key::Char('j') => at = (at + 1).min(items.len().saturating_sub(1)),
            Key::Enter => return Ok(Some(at)),
            k if is_back(&k) => return Ok(None),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w7_fit_cuts_with_an_ellipsis_and_pads_to_the_width() {
        assert_eq!(fit("jane.doe@acme.example", 10), "jane.doe@…");
        assert_eq!(fit("ab", 4), "ab  ");
        assert_eq!(fit("a\nb", 3), "a b");
        assert_eq!(console::measure_text_width(&fit("Grüße aus Köln", 6)), 6);
    }

    #[test]
    fn w7_footer_wraps_between_keys_never_inside_one() {
        let f = footer(&["space toggle", "a all", "n none", "enter go on"], 20);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f.iter().all(|l| console::measure_text_width(l) == 20));
        assert!(f[0].starts_with("space toggle  a all "));
        assert!(f[1].starts_with("n none  enter go on"));
    }
}
