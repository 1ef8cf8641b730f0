//! STYLE 15: completions/ and man/ are generated from the clap definitions.
//! This test fails when the committed files are stale; regenerate them with
//! `UPDATE_DOCS=1 cargo test --test e2e docs`.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use crmsync::cli::{COMPLETION_FILES, completion, docs_command, man_pages};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every generated file with its expected content: the same functions
/// `crmsync completions` and `crmsync man` print (X21).
fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for (shell, file) in COMPLETION_FILES {
        out.push((root().join("completions").join(file), completion(shell)));
    }
    for (name, text) in man_pages().expect("render man pages") {
        out.push((root().join("man").join(name), text));
    }
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

fn crmsync() -> Command {
    let mut cmd = Command::cargo_bin("crmsync").expect("crmsync binary");
    // No config is read, but make sure none could be.
    cmd.env_remove("CRMSYNC_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("XDG_DATA_HOME", "/nonexistent");
    cmd
}

/// X21: the installed binary prints exactly the committed completion files.
#[test]
fn x21_completions_subcommand_prints_the_committed_files() {
    for (shell, file) in COMPLETION_FILES {
        let out = crmsync()
            .args(["completions", &shell.to_string()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}: {out:?}");
        assert_eq!(
            out.stdout,
            std::fs::read(root().join("completions").join(file)).unwrap(),
            "`crmsync completions {shell}` differs from completions/{file}"
        );
    }
}

/// X21: `crmsync man` prints man/crmsync.1; `--dir` writes every page of man/.
#[test]
fn x21_man_subcommand_prints_the_committed_pages() {
    let out = crmsync().arg("man").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        out.stdout,
        std::fs::read(root().join("man/crmsync.1")).unwrap(),
        "`crmsync man` differs from man/crmsync.1"
    );
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("man1");
    let out = crmsync()
        .args(["man", "--dir"])
        .arg(&target)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let committed = files_in(&root().join("man"));
    assert_eq!(files_in(&target).len(), committed.len());
    for f in committed {
        let name = f.file_name().unwrap();
        assert_eq!(
            std::fs::read(target.join(name)).ok(),
            std::fs::read(&f).ok(),
            "{name:?}"
        );
    }
}

/// X20: `--version` (and `-V`) name the git revision the binary was built
/// from: `git rev-parse --short HEAD` in a checkout, `unknown` without git.
#[test]
fn x20_version_names_the_git_revision() {
    let expected = Process::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success() && root().join(".git").exists())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    for flag in ["--version", "-V"] {
        let out = crmsync().arg(flag).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            text,
            format!("crmsync {} (git {expected})\n", env!("CARGO_PKG_VERSION")),
            "{flag}"
        );
    }
    // The generated files carry the plain version: they must not change per commit.
    let man = String::from_utf8(std::fs::read(root().join("man/crmsync.1")).unwrap()).unwrap();
    assert!(!man.contains("(git "), "man/crmsync.1 names a revision");
}

/// X22: every command's `--help` and `-h` end with examples.
#[test]
fn x22_every_command_help_has_examples() {
    fn walk(cmd: &mut clap::Command, path: &mut Vec<String>, missing: &mut Vec<String>) {
        let help = cmd.render_long_help().to_string();
        let short = cmd.render_help().to_string();
        if !help.contains("\nExamples:\n  ") || !short.contains("\nExamples:\n  ") {
            missing.push(path.join(" "));
        }
        for sub in cmd.get_subcommands_mut().filter(|s| s.get_name() != "help") {
            path.push(sub.get_name().to_string());
            walk(sub, path, missing);
            path.pop();
        }
    }
    let mut cmd = docs_command();
    let mut missing = Vec::new();
    walk(&mut cmd, &mut vec!["crmsync".into()], &mut missing);
    assert!(
        missing.is_empty(),
        "no examples in the help of: {missing:?}"
    );
    // ... as the binary prints it.
    let out = crmsync()
        .args(["crm", "activity", "show", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Examples:\n  crmsync crm activity show 42\n"),
        "{text}"
    );
}
