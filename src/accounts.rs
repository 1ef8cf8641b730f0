//! The lockout guard (X2) around every login: a blocked account is skipped
//! with a message naming `crmsync unblock`; an authentication failure
//! blocks the account at once, so a wrong password is tried exactly once
//! and never in a loop. A block lifts by itself when the secret changes.

use anyhow::Result;

use crate::config::{DavAccount, DavSource, MailAccount, MailSource as MailKind};
use crate::secret::{Secret, SecretSpec};
use crate::source::dav::{Dav, DavKind};
use crate::source::mail::{MailSource, SourceError};
use crate::source::store::{Store, StoreError};
use crate::source::vdir::Vdir;
use crate::state::State;

/// The outcome of the guard.
pub enum Guard {
    /// Go ahead with this secret.
    Go(Secret),
    /// Skip the account; the message says why and what to do.
    Blocked(String),
}

/// Resolves the account's secret and consults the block list.
///
/// # Errors
/// The secret cannot be fetched (message names the source), SQLite errors.
pub fn guard(state: &State, account: &str, spec: &SecretSpec) -> Result<Guard> {
    let secret = spec.resolve()?;
    if let Some(b) = state.blocked(account)? {
        let salt = state.salt()?;
        let same = b.fingerprint.as_deref() == Some(secret.fingerprint(&salt).as_str());
        if same || !state.writable() {
            return Ok(Guard::Blocked(format!(
                "account `{account}` is blocked since {} after an authentication failure ({}); \
                 fix its password, then run `crmsync unblock {account}`",
                b.blocked_at, b.reason
            )));
        }
        // The credentials changed since the failure: try again (X2).
        state.unblock(account)?;
        crate::ui::info(format!(
            "account `{account}`: credentials changed since it was blocked; trying again"
        ));
    }
    Ok(Guard::Go(secret))
}

/// Records an authentication failure (unless this is a dry run) and returns
/// the message to show.
///
/// # Errors
/// SQLite errors.
pub fn auth_failed(state: &State, account: &str, secret: &Secret, detail: &str) -> Result<String> {
    if !state.writable() {
        return Ok(format!(
            "authentication failed for account `{account}`: {detail}; fix the password (dry run: the account was not blocked)"
        ));
    }
    let fp = secret.fingerprint(&state.salt()?);
    state.block(account, detail, Some(&fp))?;
    Ok(format!(
        "authentication failed for account `{account}`: {detail}; the account is now blocked to protect it \
         from lockout; fix the password, then run `crmsync unblock {account}`"
    ))
}

/// The secret to log in to a server account with, through the guard: the
/// one place every source is unlocked (secret look-up, X2 block check).
///
/// # Errors
/// A blocked account (X2, the message names `crmsync unblock`), a secret
/// that cannot be fetched, SQLite errors.
fn unlock(state: &State, account: &str, spec: &SecretSpec) -> Result<Secret> {
    match guard(state, account, spec)? {
        Guard::Go(s) => Ok(s),
        Guard::Blocked(msg) => anyhow::bail!(msg),
    }
}

/// The mail source of an account: a Maildir, or an IMAP login through the
/// guard (a refused login blocks the account, X2).
///
/// # Errors
/// Those of [`unlock`]; the folder or server cannot be reached; a refused
/// login (the message names the next step).
pub fn open_mail(state: &State, a: &MailAccount) -> Result<Box<dyn MailSource>> {
    match a.source {
        MailKind::Maildir => {
            let path = a.path.as_deref().unwrap_or(std::path::Path::new(""));
            Ok(Box::new(crate::source::maildir::Maildir::open(path)?))
        }
        MailKind::Imap => {
            let secret = unlock(state, a.name(), &a.secret())?;
            match crate::source::imap::ImapSource::connect(a, &secret) {
                Ok(s) => Ok(Box::new(s)),
                Err(SourceError::Auth(detail)) => {
                    anyhow::bail!(auth_failed(state, a.name(), &secret, &detail)?)
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// The item store of a DAV account (CardDAV/CalDAV through the guard, or
/// a vdir folder) and the secret it logged in with.
///
/// # Errors
/// Those of [`unlock`]; a malformed URL.
pub fn open_store(state: &State, a: &DavAccount, kind: DavKind) -> Result<(Store, Option<Secret>)> {
    match a.source {
        DavSource::Vdir => {
            let path = a.path.as_deref().unwrap_or(std::path::Path::new(""));
            Ok((Store::Vdir(Vdir::open(path, kind)), None))
        }
        _ => {
            let secret = unlock(state, a.name(), &a.secret())?;
            Ok((Store::Dav(Dav::new(a, secret.clone())?, kind), Some(secret)))
        }
    }
}

/// A fatal store error as the account's error; a refused login blocks
/// the account (X2).
pub fn store_fatal(
    state: &State,
    a: &DavAccount,
    secret: Option<&Secret>,
    e: StoreError,
) -> anyhow::Error {
    match (&e, secret) {
        (StoreError::Auth(code), Some(s)) => {
            match auth_failed(state, a.name(), s, &format!("HTTP {code}")) {
                Ok(msg) => anyhow::anyhow!(msg),
                Err(db) => db,
            }
        }
        _ => anyhow::Error::new(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(pw: &str) -> SecretSpec {
        SecretSpec::new("acct", "password", None, None, false, Some(pw.into()))
    }

    #[test]
    fn x2_blocked_until_unblock_or_credentials_change() {
        let st = State::open_memory().unwrap();
        let Guard::Go(s) = guard(&st, "acct", &spec("wrong")).unwrap() else {
            panic!()
        };
        let msg = auth_failed(&st, "acct", &s, "LOGIN failed").unwrap();
        assert!(msg.contains("crmsync unblock acct"), "{msg}");
        // Same wrong password: stays blocked, no login attempt.
        match guard(&st, "acct", &spec("wrong")).unwrap() {
            Guard::Blocked(m) => assert!(m.contains("crmsync unblock acct"), "{m}"),
            Guard::Go(_) => panic!("a blocked account must not be tried again"),
        }
        // Changed password: the block lifts.
        assert!(matches!(
            guard(&st, "acct", &spec("right")).unwrap(),
            Guard::Go(_)
        ));
        assert!(st.blocked("acct").unwrap().is_none());
    }
}
