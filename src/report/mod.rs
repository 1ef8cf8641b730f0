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

/// X14: the stderr lines of a run: its warnings, its errors and, when the
/// table that lists them is not shown, its failed items (id and reason).
pub fn problems(
    warnings: &[String],
    errors: &[String],
    failed: Option<Vec<(&str, Option<&str>)>>,
) -> Vec<String> {
    let mut v: Vec<String> = warnings.iter().map(|w| format!("warning: {w}")).collect();
    v.extend(errors.iter().map(|e| format!("error: {e}")));
    for (id, reason) in failed.into_iter().flatten() {
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
        let w = vec!["w1".to_string()];
        let e = vec!["e1".to_string()];
        assert_eq!(
            super::problems(
                &w,
                &e,
                Some(vec![("a/INBOX/3", Some("too big")), ("b", None)])
            ),
            [
                "warning: w1",
                "error: e1",
                "failed: a/INBOX/3: too big",
                "failed: b"
            ]
        );
        assert_eq!(super::problems(&[], &e, None), ["error: e1"]);
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
