//! Issue 19, newcomer: README's quickstart followed literally with the
//! installed binary, and the state file's default place (the XDG data
//! directory, not beside the config).

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use assert_cmd::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A `crmsync` as an installed user has it: no config or data of the
/// person running the tests can leak in.
fn crmsync(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("crmsync").unwrap();
    cmd.env_remove("CRMSYNC_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env("HOME", home)
        .write_stdin(Vec::<u8>::new());
    cmd
}

/// The command lines of README's "Quickstart" section.
fn quickstart_lines() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("\n## Quickstart")
        .expect("README has a Quickstart");
    let section = &readme[start + 1..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    assert!(
        !section.contains("cargo run"),
        "the quickstart must use the installed crmsync, not a second (debug) build"
    );
    section
        .lines()
        .filter_map(|l| l.strip_prefix("    "))
        .filter(|l| l.starts_with("crmsync "))
        .map(str::to_string)
        .collect()
}

/// README's quickstart, line by line, in a fresh copy of examples/: the
/// directory loads, the import ends with exit 3 naming the one file that is
/// not a mail (as the README says), and the report lists the activities.
#[test]
fn readme_quickstart_works_with_the_installed_binary() {
    let lines = quickstart_lines();
    assert_eq!(lines.len(), 4, "{lines:?}");
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples"), &dir.path().join("examples"));
    let _ = std::fs::remove_file(dir.path().join("examples/demo-state.sqlite"));
    let mut codes = Vec::new();
    let mut last = String::new();
    for line in &lines {
        let args: Vec<&str> = line.split_whitespace().skip(1).collect();
        let out = crmsync(dir.path())
            .current_dir(dir.path())
            .args(&args)
            .output()
            .unwrap();
        codes.push(out.status.code().unwrap_or(-1));
        last = String::from_utf8_lossy(&out.stdout).into_owned();
    }
    assert_eq!(codes, [0, 0, 3, 0], "{lines:?}");
    assert!(dir.path().join("examples/demo-state.sqlite").exists());
    assert!(
        last.contains("Offer 4711 for the Munich office"),
        "report: {last}"
    );
}

/// The sample config (`init --sample`) leaves the state file to its
/// default: `$XDG_DATA_HOME/crmsync/state.sqlite`, else
/// `~/.local/share/crmsync/state.sqlite`, in a directory of mode 0700
/// created on the first write; nothing is written beside the config.
#[test]
fn sample_config_keeps_state_in_the_xdg_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let conf_dir = dir.path().join("etc");
    let config = conf_dir.join("config.toml");
    let out = crmsync(&home)
        .args(["init", "--sample", "--output"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let companies = root().join("examples/companies.csv");
    let import = |cmd: &mut Command| {
        let out = cmd
            .arg("--config")
            .arg(&config)
            .args(["crm", "import", "--kind", "companies"])
            .arg(&companies)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    // Without XDG_DATA_HOME: below $HOME.
    import(&mut crmsync(&home));
    let state = home.join(".local/share/crmsync/state.sqlite");
    assert!(state.is_file(), "no {}", state.display());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(state.parent().unwrap()), 0o700);
    assert_eq!(mode(&state), 0o600);
    // With it: there.
    let data = dir.path().join("data");
    let mut cmd = crmsync(&home);
    cmd.env("XDG_DATA_HOME", &data);
    import(&mut cmd);
    assert!(data.join("crmsync/state.sqlite").is_file());
    assert_eq!(mode(&data.join("crmsync")), 0o700);
    // The config's directory holds only the config.
    let beside: Vec<_> = std::fs::read_dir(&conf_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["config.toml"]);
}
