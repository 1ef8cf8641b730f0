//! The last stage: what a run tells people (tables) and scripts (JSON), and
//! the exit code it ends with.

pub mod activities;
pub mod calendar;
pub mod check;
pub mod contacts;
pub mod directory;
pub mod mail;
pub mod output;
pub mod resolve;
pub mod rest;

/// How a footer begins: under `--dry-run` (X8) it says that nothing was
/// written, then `then` ("would have ", "Planned: "); otherwise nothing.
pub fn dry_run_lead(dry_run: bool, then: &str) -> String {
    if dry_run {
        format!("dry run, nothing written{then}")
    } else {
        String::new()
    }
}

/// X14: an item of a run's report that may have failed: its id and reason.
pub trait RunItem {
    /// `Some((id, reason))` when the item failed.
    fn failure(&self) -> Option<(&str, Option<&str>)>;
}

impl RunItem for crate::sync::mail::MailItem {
    fn failure(&self) -> Option<(&str, Option<&str>)> {
        (self.action == "failed").then_some((self.id.as_str(), self.reason.as_deref()))
    }
}

impl RunItem for crate::sync::calendar::CalendarItem {
    fn failure(&self) -> Option<(&str, Option<&str>)> {
        let id = self
            .subject
            .as_deref()
            .or(self.href.as_deref())
            .unwrap_or("-");
        (self.action == "failed").then_some((id, self.reason.as_deref()))
    }
}

impl RunItem for crate::sync::contacts::ContactsItem {
    fn failure(&self) -> Option<(&str, Option<&str>)> {
        (self.action == "failed").then_some((self.id.as_str(), self.reason.as_deref()))
    }
}

/// X14: the stderr lines of a run: its warnings, its errors and, when the
/// table that lists them is not shown, its failed items (id and reason).
pub fn problems<I: RunItem>(
    warnings: &[String],
    errors: &[String],
    items: &[I],
    table_shown: bool,
) -> Vec<String> {
    let mut v: Vec<String> = warnings.iter().map(|w| format!("warning: {w}")).collect();
    v.extend(errors.iter().map(|e| format!("error: {e}")));
    let failed = items.iter().filter_map(RunItem::failure);
    for (id, reason) in failed.filter(|_| !table_shown) {
        v.push(match reason {
            Some(r) => format!("failed: {id}: {r}"),
            None => format!("failed: {id}"),
        });
    }
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn x14_problems_list_failed_items_only_when_the_table_is_hidden() {
        struct It(&'static str, bool, Option<&'static str>);
        impl super::RunItem for It {
            fn failure(&self) -> Option<(&str, Option<&str>)> {
                self.1.then_some((self.0, self.2))
            }
        }
        let w = vec!["w1".to_string()];
        let e = vec!["e1".to_string()];
        let items = [
            It("a/INBOX/3", true, Some("too big")),
            It("ok", false, None),
            It("b", true, None),
        ];
        assert_eq!(
            super::problems(&w, &e, &items, false),
            [
                "warning: w1",
                "error: e1",
                "failed: a/INBOX/3: too big",
                "failed: b"
            ]
        );
        assert_eq!(super::problems(&[], &e, &items, true), ["error: e1"]);
    }

    #[test]
    fn x8_dry_run_lead_names_nothing_written() {
        assert_eq!(
            super::dry_run_lead(true, ": would have "),
            "dry run, nothing written: would have "
        );
        assert_eq!(super::dry_run_lead(false, ": would have "), "");
    }
}
