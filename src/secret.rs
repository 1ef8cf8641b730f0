//! Secrets (SPEC X3): passwords and tokens come from `password_cmd`, an
//! environment variable, the system keyring or (with a warning) the config.
//!
//! A [`Secret`] never prints itself: `Debug` shows `***` and there is no
//! `Display`, so a secret cannot reach a log line, an error or `--json` by
//! accident. Errors name the account and the source, never the value.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

/// A password or token. Read it with [`Secret::expose`] at the one place
/// that sends it to a server.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// A salted, truncated SHA-256 of the secret: lets the lockout guard (X2)
    /// notice that credentials changed without storing them.
    pub fn fingerprint(&self, salt: &str) -> String {
        let mut h = Sha256::new();
        h.update(salt.as_bytes());
        h.update([0u8]);
        h.update(self.0.as_bytes());
        hex::encode(&h.finalize()[..8])
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where an account's secret comes from, in order of preference.
#[derive(Debug, Clone)]
pub struct SecretSpec {
    account: String,
    /// `password` or `token`: the key prefix used in messages.
    what: &'static str,
    cmd: Option<String>,
    env: Option<String>,
    keyring: bool,
    plain: Option<String>,
}

/// Errors while fetching a secret; the message never holds the secret.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SecretError(pub String);

impl SecretSpec {
    pub fn new(
        account: &str,
        what: &'static str,
        cmd: Option<String>,
        env: Option<String>,
        keyring: bool,
        plain: Option<String>,
    ) -> SecretSpec {
        SecretSpec {
            account: account.to_string(),
            what,
            cmd,
            env,
            keyring,
            plain,
        }
    }

    /// Config-time check: exactly one source is set.
    ///
    /// # Errors
    /// A message naming the keys to use.
    pub fn check(&self) -> Result<(), String> {
        let n = [
            self.cmd.is_some(),
            self.env.is_some(),
            self.keyring,
            self.plain.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        let w = self.what;
        match n {
            1 => Ok(()),
            0 => Err(format!(
                "account `{}` has no {w} source; set one of {w}_cmd, {w}_env, {} = true or {w}",
                self.account,
                if w == "password" {
                    "keyring"
                } else {
                    "token_keyring"
                }
            )),
            _ => Err(format!(
                "account `{}` sets more than one {w} source; keep exactly one of {w}_cmd, {w}_env, keyring, {w}",
                self.account
            )),
        }
    }

    pub fn is_plain(&self) -> bool {
        self.plain.is_some()
    }

    /// Fetches the secret.
    ///
    /// # Errors
    /// A [`SecretError`] naming the account, the source and the next step.
    pub fn resolve(&self) -> Result<Secret, SecretError> {
        let acct = &self.account;
        let w = self.what;
        if let Some(cmd) = &self.cmd {
            let out = Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .stdin(Stdio::null())
                .stderr(Stdio::piped())
                .stdout(Stdio::piped())
                .output()
                .map_err(|e| {
                    SecretError(format!(
                        "{w}_cmd of account `{acct}` could not be started: {e}"
                    ))
                })?;
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                let first = err.lines().next().unwrap_or("").trim();
                return Err(SecretError(format!(
                    "{w}_cmd of account `{acct}` failed ({}){}; run it by hand to see why",
                    out.status,
                    if first.is_empty() {
                        String::new()
                    } else {
                        format!(": {first}")
                    }
                )));
            }
            let text = String::from_utf8_lossy(&out.stdout);
            let first = text.lines().next().unwrap_or("").trim_end_matches('\r');
            if first.is_empty() {
                return Err(SecretError(format!(
                    "{w}_cmd of account `{acct}` printed nothing; it must print the {w} on its first line"
                )));
            }
            return Ok(Secret(first.to_string()));
        }
        if let Some(var) = &self.env {
            return match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Secret(v)),
                _ => Err(SecretError(format!(
                    "environment variable {var} ({w}_env of account `{acct}`) is not set; export it before running crmsync"
                ))),
            };
        }
        if self.keyring {
            return keyring_lookup(acct, w);
        }
        if let Some(p) = &self.plain {
            return Ok(Secret(p.clone()));
        }
        Err(SecretError(format!("account `{acct}` has no {w} source")))
    }
}

/// Looks the secret up in the platform keyring: libsecret's `secret-tool`
/// on Linux (service `crmsync`, account = account name), `security` on macOS.
fn keyring_lookup(account: &str, what: &str) -> Result<Secret, SecretError> {
    let (prog, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        (
            "security",
            vec![
                "find-generic-password",
                "-s",
                "crmsync",
                "-a",
                account,
                "-w",
            ],
        )
    } else {
        (
            "secret-tool",
            vec!["lookup", "service", "crmsync", "account", account],
        )
    };
    let out = Command::new(prog)
        .args(&args)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            SecretError(format!(
                "account `{account}` uses the keyring, but `{prog}` could not be run ({e}); \
                 install it (Debian: libsecret-tools) or use {what}_cmd / {what}_env instead"
            ))
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let value = text.lines().next().unwrap_or("").trim_end();
    if !out.status.success() || value.is_empty() {
        return Err(SecretError(format!(
            "no keyring entry for account `{account}` (service `crmsync`); store one with `{}`",
            keyring_store_command(account)
        )));
    }
    Ok(Secret(value.to_string()))
}

/// The command that stores an account's password where [`SecretSpec`]'s
/// keyring lookup finds it (service `crmsync`, account = the account name).
pub fn keyring_store_command(account: &str) -> String {
    if cfg!(target_os = "macos") {
        format!("security add-generic-password -s crmsync -a {account} -w")
    } else {
        format!("secret-tool store --label crmsync service crmsync account {account}")
    }
}

/// X3: a config file that holds a plain password (the caller knows:
/// [`crate::config::Config::holds_plain_secret`]) and can be read by others
/// draws a warning naming the file and the fix.
pub fn warn_if_exposed(path: &Path) {
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            crate::ui::warn(format!(
                "{} holds a plain password and can be read by others (mode {mode:o}); \
                 run `chmod 600 {}` or use password_cmd / password_env",
                path.display(),
                path.display()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(cmd: Option<&str>, env: Option<&str>, plain: Option<&str>) -> SecretSpec {
        SecretSpec::new(
            "acct",
            "password",
            cmd.map(Into::into),
            env.map(Into::into),
            false,
            plain.map(Into::into),
        )
    }

    #[test]
    fn x3_debug_never_shows_the_secret() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert!(!format!("{:?}", spec(None, None, Some("hunter2")).resolve()).contains("hunter2"));
    }

    #[test]
    fn x3_password_cmd_first_line() {
        let s = spec(Some("printf 'pw1\\nignored\\n'"), None, None)
            .resolve()
            .unwrap();
        assert_eq!(s.expose(), "pw1");
    }

    #[test]
    fn x3_password_cmd_failure_names_account_not_output() {
        let err = spec(Some("echo secretvalue; exit 3"), None, None)
            .resolve()
            .unwrap_err();
        assert!(err.0.contains("account `acct`"), "{}", err.0);
        assert!(!err.0.contains("secretvalue"), "{}", err.0);
    }

    #[test]
    fn x3_missing_env_names_variable() {
        let err = spec(None, Some("CRMSYNC_TEST_SURELY_UNSET"), None)
            .resolve()
            .unwrap_err();
        assert!(err.0.contains("CRMSYNC_TEST_SURELY_UNSET"), "{}", err.0);
    }

    #[test]
    fn x3_exactly_one_source() {
        assert!(spec(None, None, None).check().is_err());
        assert!(spec(Some("x"), Some("Y"), None).check().is_err());
        assert!(spec(None, Some("Y"), None).check().is_ok());
    }

    #[test]
    fn x2_fingerprint_changes_with_secret_and_hides_it() {
        let a = Secret::new("pw").fingerprint("salt");
        let b = Secret::new("pw2").fingerprint("salt");
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert_eq!(a, Secret::new("pw").fingerprint("salt"));
    }
}
