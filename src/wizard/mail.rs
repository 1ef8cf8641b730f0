//! The mail wizard (W1-W5, W7-W9): the mail engine's [`Chooser`] answered
//! by a person at a terminal, and the look at this run's activities (W5).
//! The selection (W7), the sender question (W8) and the documents (W9) are
//! screens of [`crate::wizard::screen`]: they fit the terminal and never
//! wrap; W1 and W5 stay dialoguer prompts.

use std::collections::BTreeMap;

use anyhow::Result;
use console::Key;
use dialoguer::{Confirm, MultiSelect};

use crate::state::State;
use crate::sync::mail::{Ambiguous, Chooser, DocChoice, DocMail, MailRow, SenderAnswer};
use crate::wizard::screen::{Screen, fit, footer, is_back, menu};

/// Asks on the terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wizard;

impl Chooser for Wizard {
    fn wizard(&self) -> bool {
        true
    }

    /// W1: the areas from `[mail] areas`, offered for change.
    fn areas(&mut self, on: [bool; 3]) -> Result<[bool; 3]> {
        let picked = MultiSelect::with_theme(super::theme())
            .with_prompt("What to import now (space toggles, enter goes on)")
            .items([
                "mail",
                "appointments (sync-calendar)",
                "tasks (sync-calendar)",
            ])
            .defaults(&on)
            .interact()?;
        let on = [0, 1, 2].map(|i| picked.contains(&i));
        if !on.iter().any(|x| *x) {
            return Err(crate::error::usage("nothing chosen to import (W1)"));
        }
        Ok(on)
    }

    /// W2, W7: the selection screen, then one summary line.
    fn pick_mails(
        &mut self,
        rows: &[MailRow],
        skipped: usize,
        chosen: &[bool],
    ) -> Result<Vec<bool>> {
        if rows.is_empty() {
            if skipped > 0 {
                eprintln!("{skipped} new mail(s), all skipped by the rules (see the summary).");
            }
            return Ok(Vec::new());
        }
        let mut sel = Selection::new(rows, chosen, skipped);
        let mut screen = Screen::new();
        loop {
            let (w, h) = screen.size();
            screen.draw(&sel.lines(w, h))?;
            let page = sel.page(w, h);
            match sel.key(screen.key()?, page) {
                Step::Stay => {}
                Step::Done => {
                    screen.finish(&sel.summary())?;
                    return Ok(sel.chosen);
                }
                Step::Stop => {
                    screen.finish("stopped at the selection: nothing imported")?;
                    return Ok(vec![false; rows.len()]);
                }
            }
        }
    }

    /// W8: once per ambiguous address, its candidates with their company.
    fn pick_sender(&mut self, sender: &Ambiguous) -> Result<SenderAnswer> {
        let head = vec![
            format!(
                "{} sent {} of the chosen mail(s); {} people carry this address.",
                sender.address,
                sender.mails,
                sender.people.len()
            ),
            "Who is it? The answer holds for all mail from this sender.".to_string(),
        ];
        let mut items: Vec<String> = sender
            .people
            .iter()
            .map(|p| {
                if p.company.is_empty() {
                    format!("{} (no company)", p.name)
                } else {
                    format!("{}, {}", p.name, p.company)
                }
            })
            .collect();
        items.push("none of them: keep the mail on me, flagged".into());
        let mut screen = Screen::new();
        let Some(pick) = menu(&mut screen, &head, &items, 0)? else {
            screen.finish("back to the selection")?;
            return Ok(SenderAnswer::Back);
        };
        screen.finish(&format!("{}: {}", sender.address, items[pick]))?;
        Ok(if pick < sender.people.len() {
            SenderAnswer::Person(pick)
        } else {
            SenderAnswer::NoneOfThem
        })
    }

    /// W3, W9: one screen per mail with its attachments.
    fn documents(
        &mut self,
        mails: &[DocMail],
        categories: &[String],
        keywords: &[String],
    ) -> Result<Option<Vec<Vec<DocChoice>>>> {
        let mut docs = Documents::new(mails, categories, keywords);
        let mut screen = Screen::new();
        loop {
            let (w, h) = screen.size();
            screen.draw(&docs.lines(w, h))?;
            match docs.key(screen.key()?) {
                Step::Stay => {}
                Step::Done => {
                    screen.finish(&docs.summary())?;
                    return Ok(Some(docs.answers()));
                }
                Step::Stop => {
                    screen.finish("back to the selection")?;
                    return Ok(None);
                }
            }
        }
    }
}

/// What a key did to a screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Stay,
    Done,
    Stop,
}

/// Which rows the flag filter shows (W7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Only {
    All,
    Flagged,
    Unflagged,
}

/// Width of the date column: `YYYY-MM-DD HH:MM`, as in W5.
const DATE: usize = 16;
/// The row's lead: cursor, check box, mark (`> [x] ! `).
const LEAD: usize = 8;

/// W7: the selection screen's state: answers, cursor, filter and order.
struct Selection<'a> {
    rows: &'a [MailRow],
    chosen: Vec<bool>,
    skipped: usize,
    oldest_first: bool,
    filter: String,
    typing: bool,
    only: Only,
    /// Position of the cursor in `shown()`.
    at: usize,
    /// First row of the page, in `shown()`.
    top: usize,
}

impl<'a> Selection<'a> {
    fn new(rows: &'a [MailRow], chosen: &[bool], skipped: usize) -> Selection<'a> {
        let mut answers = vec![true; rows.len()];
        for (a, c) in answers.iter_mut().zip(chosen) {
            *a = *c;
        }
        Selection {
            rows,
            chosen: answers,
            skipped,
            oldest_first: false,
            filter: String::new(),
            typing: false,
            only: Only::All,
            at: 0,
            top: 0,
        }
    }

    fn flagged(r: &MailRow) -> bool {
        !r.flags.is_empty() || r.choice_needed
    }

    /// The rows the filters let through, by date (newest first unless
    /// turned), as indices into `rows`.
    fn shown(&self) -> Vec<usize> {
        let needle = self.filter.to_lowercase();
        let mut v: Vec<usize> = (0..self.rows.len())
            .filter(|&i| {
                let r = &self.rows[i];
                let by_flag = match self.only {
                    Only::All => true,
                    Only::Flagged => Self::flagged(r),
                    Only::Unflagged => !Self::flagged(r),
                };
                by_flag
                    && (needle.is_empty()
                        || [&r.date, &r.from, &r.subject, &r.attached_to]
                            .iter()
                            .any(|c| c.to_lowercase().contains(&needle))
                        || r.flags.iter().any(|f| f.to_lowercase().contains(&needle)))
            })
            .collect();
        v.sort_by(|&a, &b| {
            let o = self.rows[a].date.cmp(&self.rows[b].date);
            if self.oldest_first {
                o.then(a.cmp(&b))
            } else {
                o.reverse().then(a.cmp(&b))
            }
        });
        v
    }

    fn keys(&self) -> Vec<&'static str> {
        if self.typing {
            vec!["type to filter", "enter keep", "esc clear"]
        } else {
            vec![
                "↑↓ pgup/pgdn move",
                "space toggle",
                "a all",
                "n none",
                "/ filter",
                "f flagged",
                "s sort",
                "enter go on",
                "esc/←/backspace stop",
            ]
        }
    }

    /// Rows on one page at `w` x `h`.
    fn page(&self, w: usize, h: usize) -> usize {
        let foot = footer(&self.keys(), w).len();
        // Title, column names, detail line, footer, one line spare.
        h.saturating_sub(3 + foot + 1).max(1)
    }

    /// Column widths after date: (from, subject, attached to or 0, flags).
    fn columns(w: usize) -> (usize, usize, usize, usize) {
        let rest = w.saturating_sub(LEAD + DATE + 1);
        if w >= 100 {
            let avail = rest.saturating_sub(3);
            let from = avail * 22 / 100;
            let subject = avail * 34 / 100;
            let attached = avail * 22 / 100;
            (from, subject, attached, avail - from - subject - attached)
        } else {
            // Narrow: "attached to" moves to the detail line.
            let avail = rest.saturating_sub(2);
            let from = avail * 30 / 100;
            let subject = avail * 40 / 100;
            (from, subject, 0, avail - from - subject)
        }
    }

    fn row(&self, i: usize, cursor: bool, w: usize) -> String {
        let r = &self.rows[i];
        let (cf, cs, ca, cl) = Self::columns(w);
        let mark = if r.choice_needed {
            '?'
        } else if r.flags.is_empty() {
            ' '
        } else {
            '!'
        };
        let mut flags = r.flags.join(", ");
        if r.choice_needed && r.flags.is_empty() {
            flags = "sender to choose".into();
        }
        let mut line = format!(
            "{} [{}] {mark} {} {} {}",
            if cursor { '>' } else { ' ' },
            if self.chosen[i] { 'x' } else { ' ' },
            fit(&r.date, DATE),
            fit(&r.from, cf),
            fit(&r.subject, cs),
        );
        if ca > 0 {
            line.push(' ');
            line.push_str(&fit(&r.attached_to, ca));
        }
        line.push(' ');
        line.push_str(&fit(&flags, cl));
        fit(&line, w)
    }

    /// The frame at `w` x `h` (moves the page to the cursor).
    fn lines(&mut self, w: usize, h: usize) -> Vec<String> {
        let shown = self.shown();
        let page = self.page(w, h);
        self.at = self.at.min(shown.len().saturating_sub(1));
        if self.at < self.top {
            self.top = self.at;
        }
        if self.at >= self.top + page {
            self.top = self.at + 1 - page;
        }
        self.top = self.top.min(shown.len().saturating_sub(page));
        let picked = self.chosen.iter().filter(|c| **c).count();
        let mut title = format!("Mail to import: {picked} of {} chosen", self.rows.len());
        if self.skipped > 0 {
            title.push_str(&format!(", {} skipped by the rules", self.skipped));
        }
        if !shown.is_empty() {
            title.push_str(&format!(
                " | rows {}-{} of {}",
                self.top + 1,
                (self.top + page).min(shown.len()),
                shown.len()
            ));
        }
        if self.typing || !self.filter.is_empty() {
            title.push_str(&format!(" | filter: {}", self.filter));
            if self.typing {
                title.push('_');
            }
        }
        match self.only {
            Only::All => {}
            Only::Flagged => title.push_str(" | only flagged"),
            Only::Unflagged => title.push_str(" | only unflagged"),
        }
        title.push_str(if self.oldest_first {
            " | oldest first"
        } else {
            " | newest first"
        });
        let (cf, cs, ca, cl) = Self::columns(w);
        let mut names = format!(
            "{}{} {} {}",
            " ".repeat(LEAD),
            fit("date", DATE),
            fit("from", cf),
            fit("subject", cs)
        );
        if ca > 0 {
            names.push(' ');
            names.push_str(&fit("attached to", ca));
        }
        names.push(' ');
        names.push_str(&fit("flags (! flagged, ? sender to choose)", cl));
        let mut lines = vec![fit(&title, w), fit(&names, w)];
        for (n, &i) in shown.iter().enumerate().skip(self.top).take(page) {
            lines.push(self.row(i, n == self.at, w));
        }
        let detail = match shown.get(self.at) {
            None => "no mail matches the filter".to_string(),
            Some(&i) => {
                let r = &self.rows[i];
                let mut d = format!("to {}", r.attached_to);
                if r.choice_needed {
                    d.push_str(" (the sender is asked next)");
                }
                if !r.flags.is_empty() {
                    d.push_str(&format!("; flags: {}", r.flags.join(", ")));
                }
                format!("{d}; {}", r.subject)
            }
        };
        lines.push(fit(&detail, w));
        lines.extend(footer(&self.keys(), w));
        lines
    }

    fn key(&mut self, k: Key, page: usize) -> Step {
        let shown = self.shown();
        if self.typing {
            match k {
                Key::Char(c) if !c.is_control() => self.filter.push(c),
                Key::Backspace => {
                    self.filter.pop();
                }
                Key::Enter => self.typing = false,
                Key::Escape => {
                    self.filter.clear();
                    self.typing = false;
                }
                _ => {}
            }
            self.at = 0;
            self.top = 0;
            return Step::Stay;
        }
        let last = shown.len().saturating_sub(1);
        match k {
            Key::ArrowUp | Key::Char('k') => self.at = self.at.saturating_sub(1),
            Key::ArrowDown | Key::Char('j') => self.at = (self.at + 1).min(last),
            Key::PageUp => self.at = self.at.saturating_sub(page),
            Key::PageDown => self.at = (self.at + page).min(last),
            Key::Home => self.at = 0,
            Key::End => self.at = last,
            Key::Char(' ') => {
                if let Some(&i) = shown.get(self.at) {
                    self.chosen[i] = !self.chosen[i];
                }
            }
            Key::Char('a') => shown.iter().for_each(|&i| self.chosen[i] = true),
            Key::Char('n') => shown.iter().for_each(|&i| self.chosen[i] = false),
            Key::Char('/') => self.typing = true,
            Key::Char('f') => {
                self.only = match self.only {
                    Only::All => Only::Flagged,
                    Only::Flagged => Only::Unflagged,
                    Only::Unflagged => Only::All,
                };
                self.at = 0;
            }
            Key::Char('s') => {
                self.oldest_first = !self.oldest_first;
                self.at = 0;
            }
            Key::Enter => return Step::Done,
            Key::Char('q') => return Step::Stop,
            k if is_back(&k) => return Step::Stop,
            _ => {}
        }
        Step::Stay
    }

    /// The one line left when the screen closes.
    fn summary(&self) -> String {
        let picked = self.chosen.iter().filter(|c| **c).count();
        let mut s = format!("{picked} of {} mails chosen", self.rows.len());
        if picked < self.rows.len() {
            s.push_str(&format!("; {} stay new", self.rows.len() - picked));
        }
        if self.skipped > 0 {
            s.push_str(&format!(", {} skipped by the rules", self.skipped));
        }
        s
    }
}

/// W9: the documents screens' state: one screen per mail.
struct Documents<'a> {
    mails: &'a [DocMail],
    categories: &'a [String],
    keywords: &'a [String],
    /// Per mail and attachment: (category, keyword) as an index into
    /// "(none)" followed by the list.
    picks: Vec<Vec<(usize, usize)>>,
    mail: usize,
    at: usize,
}

impl<'a> Documents<'a> {
    fn new(mails: &'a [DocMail], categories: &'a [String], keywords: &'a [String]) -> Self {
        Documents {
            mails,
            categories,
            keywords,
            picks: mails
                .iter()
                .map(|m| vec![(0, 0); m.attachments.len()])
                .collect(),
            mail: 0,
            at: 0,
        }
    }

    fn name(list: &[String], n: usize) -> &str {
        if n == 0 {
            "(none)"
        } else {
            list.get(n - 1).map_or("(none)", String::as_str)
        }
    }

    fn lines(&self, w: usize, h: usize) -> Vec<String> {
        let m = &self.mails[self.mail];
        let keys = [
            "↑↓ attachment",
            "c category",
            "k keyword",
            "enter next mail",
            "r this choice for the rest",
            "s skip this mail",
            "esc/←/backspace back",
        ];
        let foot = footer(&keys, w);
        let mut lines = vec![
            fit(
                &format!(
                    "Documents of mail {} of {}: {}",
                    self.mail + 1,
                    self.mails.len(),
                    m.subject
                ),
                w,
            ),
            fit(&format!("from {}", m.from), w),
        ];
        let col = w.saturating_sub(2 + 2) / 3;
        lines.push(fit(
            &format!(
                "  {} {} {}",
                fit("attachment", col),
                fit("category", col),
                fit("keyword", col)
            ),
            w,
        ));
        let room = h.saturating_sub(lines.len() + foot.len() + 1).max(1);
        let top = self.at.saturating_sub(room - 1);
        for (n, name) in m.attachments.iter().enumerate().skip(top).take(room) {
            let (c, k) = self.picks[self.mail][n];
            lines.push(fit(
                &format!(
                    "{} {} {} {}",
                    if n == self.at { '>' } else { ' ' },
                    fit(name, col),
                    fit(Self::name(self.categories, c), col),
                    fit(Self::name(self.keywords, k), col)
                ),
                w,
            ));
        }
        lines.extend(foot);
        lines
    }

    fn next_mail(&mut self) -> Step {
        if self.mail + 1 >= self.mails.len() {
            return Step::Done;
        }
        self.mail += 1;
        self.at = 0;
        Step::Stay
    }

    fn key(&mut self, k: Key) -> Step {
        let count = self.picks[self.mail].len();
        match k {
            Key::ArrowUp => self.at = self.at.saturating_sub(1),
            Key::ArrowDown => self.at = (self.at + 1).min(count.saturating_sub(1)),
            Key::Char('c') | Key::Tab => {
                if let Some(p) = self.picks[self.mail].get_mut(self.at) {
                    p.0 = (p.0 + 1) % (self.categories.len() + 1);
                }
            }
            Key::Char('k') => {
                if let Some(p) = self.picks[self.mail].get_mut(self.at) {
                    p.1 = (p.1 + 1) % (self.keywords.len() + 1);
                }
            }
            Key::Enter => return self.next_mail(),
            Key::Char('s') => {
                self.picks[self.mail].iter_mut().for_each(|p| *p = (0, 0));
                return self.next_mail();
            }
            Key::Char('r') => {
                let choice = self.picks[self.mail]
                    .get(self.at)
                    .copied()
                    .unwrap_or((0, 0));
                for p in self.picks[self.mail..].iter_mut().flatten() {
                    *p = choice;
                }
                return Step::Done;
            }
            k if is_back(&k) => {
                if self.mail == 0 {
                    return Step::Stop;
                }
                self.mail -= 1;
                self.at = 0;
            }
            _ => {}
        }
        Step::Stay
    }

    fn answers(&self) -> Vec<Vec<DocChoice>> {
        let pick = |list: &[String], n: usize| n.checked_sub(1).and_then(|i| list.get(i)).cloned();
        self.picks
            .iter()
            .map(|m| {
                m.iter()
                    .map(|&(c, k)| (pick(self.categories, c), pick(self.keywords, k)))
                    .collect()
            })
            .collect()
    }

    fn summary(&self) -> String {
        let all = self.picks.iter().flatten().count();
        let filed = self
            .picks
            .iter()
            .flatten()
            .filter(|p| **p != (0, 0))
            .count();
        format!("documents: {filed} of {all} attachments filed")
    }
}

/// `2026-12-07T10:00:00Z` as `2026-12-07 10:00` (the W2 format).
fn short_date(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// W5: this run's activities, one line each, fitted to the terminal.
///
/// # Errors
/// Terminal and SQLite errors.
pub fn show(st: &State, ids: &[i64]) -> Result<()> {
    let ok = Confirm::with_theme(super::theme())
        .with_prompt(format!("Show the {} imported activities?", ids.len()))
        .default(true)
        .interact()?;
    if !ok {
        return Ok(());
    }
    let mut by_id = BTreeMap::new();
    for id in ids {
        if let Some(v) = st.activity_view(*id)? {
            by_id.insert(*id, v);
        }
    }
    let (w, _) = Screen::new().size();
    let rest = w.saturating_sub(DATE + 1 + 10 + 1 + 3);
    let (cs, ca) = (rest * 45 / 100, rest * 30 / 100);
    let cl = rest - cs - ca;
    let line = |date: &str, kind: &str, subject: &str, to: &str, flags: &str| {
        fit(
            &format!(
                "{} {} {} {} {}",
                fit(date, DATE),
                fit(kind, 10),
                fit(subject, cs),
                fit(to, ca),
                fit(flags, cl)
            ),
            w,
        )
        .trim_end()
        .to_string()
    };
    let mut out = vec![line("date", "type", "subject", "attached to", "flags")];
    for v in by_id.values() {
        out.push(line(
            &v.start_at.as_deref().map(short_date).unwrap_or_default(),
            &v.kind,
            &v.subject,
            &format!("{} {}", v.attached_to.kind, v.attached_to.name),
            &v.flags
                .iter()
                .map(|f| crate::sync::mail::reason_words(f))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    eprintln!("{}", out.join("\n"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Vec<MailRow> {
        (0..n)
            .map(|i| MailRow {
                date: format!("2026-12-{:02} 10:{:02}", 1 + i % 28, i % 60),
                from: format!("jane.doe{i}@a-rather-long-domain.example"),
                subject: format!("Offer number {i} for the new warehouse roof"),
                attached_to: "ACME Corporation International (C3)".into(),
                flags: if i % 3 == 0 {
                    vec!["unknown recipient".into()]
                } else {
                    Vec::new()
                },
                choice_needed: i == 4,
            })
            .collect()
    }

    fn width(s: &str) -> usize {
        console::measure_text_width(s)
    }

    #[test]
    fn w7_every_line_fits_and_the_page_fits_the_height() {
        for n in [30, 300] {
            let r = rows(n);
            for (w, h) in [(79, 24), (59, 20), (119, 40)] {
                let mut s = Selection::new(&r, &vec![true; n], 2);
                let lines = s.lines(w, h);
                assert!(lines.len() < h, "{} lines at {w}x{h}", lines.len());
                assert!(lines.iter().all(|l| width(l) == w), "{lines:#?}");
                assert!(lines.iter().any(|l| l.contains(" ! ")), "{lines:#?}");
                assert!(lines.iter().any(|l| l.contains("space toggle")));
            }
        }
    }

    #[test]
    fn w7_a_toggle_changes_one_row_and_all_none_filter_sort_work() {
        let r = rows(30);
        let mut s = Selection::new(&r, &[true; 30], 0);
        let before = s.lines(59, 20);
        s.key(Key::ArrowDown, 10);
        s.key(Key::Char(' '), 10);
        s.key(Key::ArrowUp, 10);
        let after = s.lines(59, 20);
        let changed: Vec<usize> = (0..before.len())
            .filter(|&i| before[i] != after[i])
            .collect();
        // The title (count), and the second row.
        assert_eq!(changed, [0, 3], "{before:#?}\n{after:#?}");
        assert_eq!(s.chosen.iter().filter(|c| !**c).count(), 1);
        s.key(Key::Char('n'), 10);
        assert!(s.chosen.iter().all(|c| !c));
        s.key(Key::Char('a'), 10);
        assert!(s.chosen.iter().all(|c| *c));
        // Newest first; `s` turns the order.
        assert!(r[s.shown()[0]].date >= r[s.shown()[1]].date);
        s.key(Key::Char('s'), 10);
        assert!(r[s.shown()[0]].date <= r[s.shown()[1]].date);
        // Filter by text, then by flag.
        for k in "/number 17".chars() {
            s.key(Key::Char(k), 10);
        }
        s.key(Key::Enter, 10);
        assert_eq!(s.shown().len(), 1);
        s.key(Key::Char('/'), 10);
        s.key(Key::Escape, 10);
        s.key(Key::Char('f'), 10);
        assert_eq!(s.shown().len(), 11, "every third and the sender to choose");
        assert_eq!(s.key(Key::Enter, 10), Step::Done);
        assert_eq!(s.key(Key::Backspace, 10), Step::Stop);
        assert_eq!(s.key(Key::Escape, 10), Step::Stop);
    }

    #[test]
    fn w5_dates_read_as_in_w2() {
        assert_eq!(short_date("2026-12-07T10:00:00Z"), "2026-12-07 10:00");
        assert_eq!(short_date("not a date"), "not a date");
    }

    #[test]
    fn w9_one_screen_per_mail_with_back_skip_and_the_rest() {
        let mails: Vec<DocMail> = (0..3)
            .map(|i| DocMail {
                subject: format!("mail {i}"),
                from: "jane@acme.example".into(),
                attachments: vec!["offer.pdf".into(), "terms.pdf".into()],
            })
            .collect();
        let cats = vec!["Offer".to_string(), "Contract".to_string()];
        let kws = vec!["important".to_string()];
        let mut d = Documents::new(&mails, &cats, &kws);
        let lines = d.lines(59, 20);
        assert!(lines[0].contains("mail 1 of 3: mail 0"), "{lines:#?}");
        assert!(
            lines
                .iter()
                .any(|l| l.contains("offer.pdf") && l.contains("(none)"))
        );
        assert!(lines.iter().all(|l| width(l) == 59));
        assert_eq!(d.key(Key::Escape), Step::Stop, "back from the first mail");
        d.key(Key::Char('c'));
        d.key(Key::Char('k'));
        assert_eq!(d.key(Key::Enter), Step::Stay);
        assert_eq!(d.key(Key::Char('s')), Step::Stay);
        assert_eq!(d.key(Key::ArrowLeft), Step::Stay);
        assert_eq!(d.mail, 1);
        d.key(Key::Enter);
        d.key(Key::Char('c'));
        d.key(Key::Char('c'));
        assert_eq!(d.key(Key::Char('r')), Step::Done);
        let a = d.answers();
        assert_eq!(a[0][0], (Some("Offer".into()), Some("important".into())));
        assert_eq!(a[0][1], (None, None));
        assert_eq!(a[1], vec![(None, None); 2]);
        assert_eq!(a[2], vec![(Some("Contract".into()), None); 2]);
    }
}
