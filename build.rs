//! Build script: the git revision for `--version` (X20).
//!
//! `CRMSYNC_GIT_REVISION` is `git rev-parse --short HEAD` when the sources
//! are a git checkout and git runs, else `unknown` (a tarball, no git): the
//! build never fails for want of git. Cargo re-runs this script when HEAD
//! or the branch it points at moves.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    // `.git` is a directory in a clone and a file in a worktree; a tarball has neither.
    let revision = if Path::new(&manifest).join(".git").exists() {
        // HEAD, its reflog (every commit and checkout of this work tree
        // appends to it, even on a branch whose ref is packed), the branch
        // file HEAD names and packed-refs. Only existing paths are named (a
        // missing one would re-run this script on every build); nothing
        // shared by all work trees (refs/heads/) is watched, so another
        // work tree's commit does not rebuild this one.
        let mut watched = vec![
            "HEAD".to_string(),
            "logs/HEAD".to_string(),
            "packed-refs".to_string(),
        ];
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watched.push(branch);
        }
        for name in watched {
            if let Some(path) = git(&["rev-parse", "--git-path", &name]) {
                let path = Path::new(&manifest).join(path);
                if path.exists() {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
        }
        git(&["rev-parse", "--short", "HEAD"])
    } else {
        None
    };
    println!(
        "cargo:rustc-env=CRMSYNC_GIT_REVISION={}",
        revision.as_deref().unwrap_or("unknown")
    );
}
