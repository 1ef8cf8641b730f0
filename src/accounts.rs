//! The lockout guard (X2) around every login: a blocked account is skipped
//! with a message naming `crmsync unblock`; an authentication failure
//! blocks the account at once, so a wrong password is tried exactly once
//! and never in a loop. A block lifts by itself when the secret changes.

use anyhow::Result;

use crate::secret::{Secret, SecretSpec};
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
