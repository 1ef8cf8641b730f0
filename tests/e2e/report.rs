//! `crmsync report` filters (X10) and their validation (X19): a typo in
//! `--flag` or `--account` is an error listing the valid values (exit 2),
//! not an empty list.

use crate::harness;
use crate::import_mail::{mail, setup};

#[test]
fn x19_report_flag_and_account_typos_list_the_valid_values() {
    let Some(d) = harness::dovecot() else { return };
    let s = setup(d, "");
    d.append(
        &s.login,
        &s.import,
        &mail(
            "Xavier New <x@nowhere.example>",
            "alice@us.example",
            "X19 stranger filed",
            "",
            "?",
        ),
    );
    let (code, v, err) = s.import(&[]);
    assert_eq!(code, 0, "{v} {err}");
    let rows = |args: &[&str]| {
        let mut a = vec!["report"];
        a.extend_from_slice(args);
        s.env.json(&a)["activities"].as_array().unwrap().len()
    };
    assert_eq!(rows(&["--account", "alice-mail"]), 1);
    assert_eq!(rows(&["--flag", "unknown_sender"]), 1);
    assert_eq!(rows(&["--flag", "attachments_dropped"]), 0);

    // Typos: exit 2 (X7), the valid values listed, no rows.
    let run = |args: &[&str]| {
        let (code, out, err) = s.env.run(args);
        (code, format!("{out}{err}"))
    };
    let (code, all) = run(&["report", "--flag", "unknown_sendr"]);
    assert_eq!(code, 2, "{all}");
    assert!(all.contains("--flag unknown_sendr: no such flag"), "{all}");
    for flag in [
        "unknown_sender",
        "ambiguous_sender",
        "unidentified_recipient",
        "attachments_dropped",
        "unidentified_attendee",
    ] {
        assert!(all.contains(flag), "{flag} not listed: {all}");
    }
    for args in [
        &["report", "--account", "alice-mial"][..],
        &["report", "--conflicts", "--account", "alice-mial"],
        &["--json", "report", "--account", "alice-mial"],
    ] {
        let (code, all) = run(args);
        assert_eq!(code, 2, "{args:?}: {all}");
        assert!(
            all.contains("--account alice-mial: no such account; the accounts are: alice-mail"),
            "{args:?}: {all}"
        );
    }

    // An account since removed from the config: its activities are still
    // in the state file, so its name still filters.
    let cfg = std::fs::read_to_string(&s.env.config).unwrap();
    let cut = cfg.find("[[mail.accounts]]").unwrap();
    std::fs::write(&s.env.config, &cfg[..cut]).unwrap();
    assert_eq!(rows(&["--account", "alice-mail"]), 1);
}
