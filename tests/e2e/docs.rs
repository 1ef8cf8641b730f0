//! STYLE 15: completions/ and man/ are generated from the clap definitions.
//! This test fails when the committed files are stale; regenerate them with
//! `UPDATE_DOCS=1 cargo test --test e2e docs`.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every generated file with its expected content.
fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    let mut cmd = crmsync::cli::Cli::command();
    cmd.build();
    let mut out = Vec::new();
    for (shell, file) in [
        (Shell::Bash, "crmsync.bash"),
        (Shell::Zsh, "_crmsync"),
        (Shell::Fish, "crmsync.fish"),
        (Shell::PowerShell, "_crmsync.ps1"),
        (Shell::Elvish, "crmsync.elv"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "crmsync", &mut buf);
        out.push((root().join("completions").join(file), buf));
    }
    fn man(cmd: &clap::Command, name: String, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd.clone().name(name.clone()))
            .render(&mut buf)
            .expect("render man page");
        out.push((root().join("man").join(format!("{name}.1")), buf));
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            man(sub, format!("{name}-{}", sub.get_name()), out);
        }
    }
    man(&cmd, "crmsync".into(), &mut out);
    out
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn completions_and_man_pages_are_current() {
    let files = generated();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        for dir in ["completions", "man"] {
            let _ = std::fs::remove_dir_all(root().join(dir));
            std::fs::create_dir_all(root().join(dir)).unwrap();
        }
        for (path, content) in &files {
            std::fs::write(path, content).unwrap();
        }
        return;
    }
    let mut stale = Vec::new();
    for (path, content) in &files {
        if std::fs::read(path).ok().as_deref() != Some(content.as_slice()) {
            stale.push(path.display().to_string());
        }
    }
    let expected: Vec<&PathBuf> = files.iter().map(|(p, _)| p).collect();
    for dir in ["completions", "man"] {
        for f in files_in(&root().join(dir)) {
            if !expected.contains(&&f) {
                stale.push(format!("{} (no longer generated)", f.display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated docs: {stale:?}; run `UPDATE_DOCS=1 cargo test --test e2e docs` and commit"
    );
    // Each subcommand has its page (one per subcommand, STYLE 15).
    assert!(root().join("man/crmsync-crm-import.1").exists());
}
