//! The import-mail report as a table (W4): words for people (what
//! happened, to whom, why); the item and rule ids only with `-v`, in
//! `explain` and in the JSON. By default only its summary line; the table
//! with `--all-items`, `-v` or a dry run (X14).

use crate::report::output::Tabular;
use crate::sync::mail::{MailItem, MailReport, reason_words};

/// What happened to a mail, in words.
fn action_words(action: &str) -> &str {
    match action {
        "updated" => "joined (second mailbox)",
        other => other,
    }
}

/// A skip or failure reason in words (W4).
fn why_words(reason: &str) -> String {
    match reason {
        "already_imported" => "already imported".into(),
        "too_large" => "too large (the owner got a notice)".into(),
        "no_address" => "no usable address".into(),
        "internal" => "only colleagues take part".into(),
        "ignored" => "only ignored addresses".into(),
        "no_known_party" => "no known person or company".into(),
        other if other.contains(' ') => other.to_string(),
        other => other.replace('_', " "),
    }
}

/// A flag (`reason: address`) in words.
fn flag_words(flag: &str) -> String {
    match flag.split_once(": ") {
        Some((reason, address)) => format!("{} {address}", reason_words(reason)),
        None => reason_words(flag).to_string(),
    }
}

/// The subject cut to `n` characters, with `…` when cut.
fn short(subject: &str, n: usize) -> String {
    if subject.chars().count() <= n {
        subject.to_string()
    } else {
        let mut s: String = subject.chars().take(n - 1).collect();
        s.push('…');
        s
    }
}

fn shown(r: &MailReport, i: &MailItem) -> bool {
    r.all_items
        || r.dry_run
        || i.action == "failed"
        || i.reason.as_deref() == Some("too_large")
        || !i.flags.is_empty()
}

impl Tabular for MailReport {
    fn headers(&self) -> Vec<&'static str> {
        let mut h = vec!["mail", "what happened", "attached to / why", "flags"];
        if self.ids {
            h.splice(0..0, ["item", "rule"]);
        }
        h
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.items
            .iter()
            .filter(|i| shown(self, i))
            .map(|i| {
                let mut row = vec![
                    short(&i.subject, 50),
                    action_words(&i.action).to_string(),
                    i.attached_to
                        .clone()
                        .or_else(|| i.reason.as_deref().map(why_words))
                        .unwrap_or_default(),
                    i.flags
                        .iter()
                        .map(|f| flag_words(f))
                        .collect::<Vec<_>>()
                        .join(", "),
                ];
                if self.ids {
                    row.splice(0..0, [i.id.clone(), i.rule.clone()]);
                }
                row
            })
            .collect()
    }
    fn footer(&self) -> Vec<String> {
        let c = &self.counts;
        let v = vec![format!(
            "{}{} imported ({} flagged for editing), {} joined as second mailbox, {} skipped, {} failed",
            crate::report::dry_run_lead(self.dry_run, ": would have "),
            c.imported,
            c.flagged,
            c.updated,
            c.skipped,
            c.failed
        )];
        v
    }
    fn is_run(&self) -> bool {
        true
    }
    fn detail(&self) -> bool {
        self.all_items || self.dry_run
    }
    fn problems(&self, table_shown: bool) -> Vec<String> {
        super::problems(&self.warnings, &self.errors, &self.items, table_shown)
    }
    fn ok(&self) -> bool {
        self.exit == crate::error::Exit::Ok && self.errors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w4_words_instead_of_ids() {
        assert_eq!(
            flag_words("ambiguous_sender: shared@roe.example"),
            "ambiguous sender shared@roe.example"
        );
        assert_eq!(why_words("no_known_party"), "no known person or company");
        assert_eq!(action_words("updated"), "joined (second mailbox)");
        assert_eq!(short("abcdef", 4), "abc…");
        assert_eq!(short("abc", 4), "abc");
    }
}
