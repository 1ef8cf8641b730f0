//! Address normalisation: how an e-mail address or a domain is compared
//! (lower-cased, trimmed) everywhere crmsync matches, stores or reports one.
//! This module imports no other stage.

/// Trims, strips angle brackets and a `mailto:` prefix, lower-cases.
pub fn normalize(addr: &str) -> String {
    let t = addr
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    let t = t
        .strip_prefix("mailto:")
        .or_else(|| t.strip_prefix("MAILTO:"))
        .unwrap_or(t);
    t.to_lowercase()
}

/// A plausible address: one `@`, a local part and a dotted-or-not domain,
/// no white space or control characters.
pub fn looks_like_address(norm: &str) -> bool {
    let Some((local, domain)) = norm.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !norm.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// The domain of a normalised address.
pub fn domain_of(norm: &str) -> Option<&str> {
    norm.rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
}

/// Local parts of automated senders (M18).
const AUTOMATED_LOCAL_PARTS: &[&str] = &[
    "noreply",
    "no-reply",
    "no_reply",
    "donotreply",
    "do-not-reply",
    "mailer-daemon",
    "postmaster",
    "bounce",
    "bounces",
];

/// True for local parts such as `noreply` and `mailer-daemon` (M18).
pub fn is_automated_local(norm: &str) -> bool {
    let local = norm.rsplit_once('@').map(|(l, _)| l).unwrap_or(norm);
    let base = local.split('+').next().unwrap_or(local);
    AUTOMATED_LOCAL_PARTS.contains(&base)
        || base.starts_with("noreply")
        || base.starts_with("no-reply")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_shapes() {
        assert!(looks_like_address("a@b.c"));
        assert!(!looks_like_address("a b@c"));
        assert!(!looks_like_address("@c"));
        assert!(!looks_like_address("abc"));
        assert_eq!(normalize(" MAILTO:X@Y.z "), "x@y.z");
    }
}
