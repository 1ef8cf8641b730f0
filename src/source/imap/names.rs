//! Mailbox names (M20, M21): the *wire name* as the server spells it
//! (modified UTF-7, its hierarchy delimiter) and the *display name* users
//! configure and see (decoded, `/` between levels, `INBOX` in capitals);
//! quoting a name into a command so that no name can inject one; reading
//! LIST ([`Listed`]; a name with raw 8-bit or control bytes cannot be sent
//! back and is set apart, M21) and the personal namespace from NAMESPACE
//! (RFC 2342, M20).

use super::answers::{parse_astring, parse_quoted, split_responses, strip_prefix_ci};
use crate::source::utf7;

/// One mailbox from `LIST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Listed {
    /// The name as the server spelt it (modified UTF-7, its delimiter).
    pub(super) wire: String,
    /// [`FolderInfo::name`] form: decoded, `/`-separated.
    pub(super) display: String,
    /// `\Noselect` / `\NonExistent` mailboxes hold no mail.
    pub(super) selectable: bool,
    pub(super) delimiter: Option<String>,
    /// The name is printable US-ASCII, so it can be sent back as listed.
    /// Raw 8-bit bytes (Latin-1 or UTF-8 from a legacy server) or control
    /// characters cannot be named in a command: such folders are skipped
    /// with a warning (M21).
    pub(super) sendable: bool,
}

impl Listed {
    /// The name as the server lists it, for messages (M20): decoded from
    /// modified UTF-7 but with the server's delimiter (`INBOX.CRM Import`);
    /// bytes that are not printable ASCII as `\xNN`.
    pub(super) fn shown(&self) -> String {
        if self.sendable {
            utf7::decode(&self.wire).unwrap_or_else(|_| self.wire.clone())
        } else {
            self.wire.clone()
        }
    }
}

/// A display name with `INBOX` (any case) as the first level spelt `INBOX`
/// and no trailing `/`.
pub(super) fn normalize(name: &str) -> String {
    crate::source::mail::normalize_folder(name)
}

/// Display name (decoded, `/`-separated) of a wire name. A name that is not
/// valid modified UTF-7 is shown as the server sent it.
pub(super) fn display_name(wire: &str, delimiter: Option<&str>) -> String {
    let decoded = utf7::decode(wire).unwrap_or_else(|_| wire.to_string());
    let slashed = match delimiter {
        Some(d) if d != "/" && !d.is_empty() => decoded.replace(d, "/"),
        _ => decoded,
    };
    normalize(&slashed)
}

/// Wire name of a display name not seen in LIST: levels joined with the
/// server's delimiter, encoded to modified UTF-7.
pub(super) fn to_wire(display: &str, delimiter: Option<&str>) -> Result<String, String> {
    let display = normalize(display);
    let joined = match delimiter {
        Some(d) if d != "/" && !d.is_empty() => {
            if display.contains(d) {
                return Err(format!(
                    "the name contains `{d}`, the server's hierarchy delimiter; use `/` between levels and choose a name without `{d}`"
                ));
            }
            display.replace('/', d)
        }
        _ => display,
    };
    Ok(utf7::encode(&joined))
}

/// An IMAP quoted string: `"` and `\` escaped. Refuses control characters
/// (a CR or LF would end the command line) and 8-bit text, which a quoted
/// string cannot carry; [`utf7::encode`] output never has either.
pub(super) fn quote(wire: &str) -> Result<String, String> {
    if let Some(c) = wire.chars().find(|c| c.is_control() || !c.is_ascii()) {
        return Err(format!(
            "the mailbox name `{}` holds the character {c:?}, which cannot be sent in a command",
            wire.escape_debug()
        ));
    }
    let mut out = String::with_capacity(wire.len() + 2);
    out.push('"');
    for c in wire.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// The mailboxes in a LIST response; what does not parse is passed over.
pub(super) fn parse_list(data: &[u8]) -> Vec<Listed> {
    split_responses(data)
        .into_iter()
        .filter_map(parse_list_entry)
        .collect()
}

/// `* LIST (<attributes>) <delimiter> <name>`.
pub(super) fn parse_list_entry(resp: &[u8]) -> Option<Listed> {
    let rest = strip_prefix_ci(resp, b"* LIST (")?;
    let close = rest.iter().position(|&b| b == b')')?;
    let attributes = String::from_utf8_lossy(&rest[..close]).to_ascii_lowercase();
    let selectable = !attributes
        .split_whitespace()
        .any(|a| a == "\\noselect" || a == "\\nonexistent");
    let rest = rest[close + 1..].strip_prefix(b" ")?;
    let (delimiter, rest) = match strip_prefix_ci(rest, b"NIL") {
        Some(rest) => (None, rest),
        None => {
            let (d, rest) = parse_quoted(rest)?;
            (Some(String::from_utf8_lossy(&d).into_owned()), rest)
        }
    };
    let rest = rest.strip_prefix(b" ")?;
    let (name, _) = parse_astring(rest)?;
    let sendable = name.iter().all(|b| (0x20..0x7f).contains(b));
    let wire = if sendable {
        String::from_utf8_lossy(&name).into_owned()
    } else {
        name.iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("\\x{b:02X}")
                }
            })
            .collect()
    };
    Some(Listed {
        display: display_name(&wire, delimiter.as_deref()),
        wire,
        selectable,
        delimiter,
        sendable,
    })
}

/// The personal namespace's prefix from a NAMESPACE response (RFC 2342) as
/// a display name with a trailing `/` (`INBOX.` becomes `INBOX/`), or empty
/// (no personal namespace, or one without a prefix).
pub(super) fn parse_namespace(data: &[u8]) -> Option<String> {
    let resp = split_responses(data)
        .into_iter()
        .find_map(|r| strip_prefix_ci(r, b"* NAMESPACE "))?;
    let rest = resp.strip_prefix(b"((")?;
    let (prefix, rest) = parse_astring(rest)?;
    let rest = rest.strip_prefix(b" ")?;
    let delimiter = match strip_prefix_ci(rest, b"NIL") {
        Some(_) => None,
        None => Some(String::from_utf8_lossy(&parse_quoted(rest)?.0).into_owned()),
    };
    let prefix = String::from_utf8_lossy(&prefix).into_owned();
    let trimmed = match delimiter.as_deref() {
        Some(d) if !d.is_empty() => prefix.strip_suffix(d).unwrap_or(&prefix),
        _ => prefix.as_str(),
    };
    let display = display_name(trimmed, delimiter.as_deref());
    Some(if display.is_empty() {
        String::new()
    } else {
        format!("{display}/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_and_escaped_never_injected() {
        assert_eq!(quote("INBOX").unwrap(), "\"INBOX\"");
        assert_eq!(quote("a\"b\\c").unwrap(), "\"a\\\"b\\\\c\"");
        assert!(quote("x\r\n1 DELETE INBOX").is_err());
        assert!(quote("nul\0").is_err());
        assert!(quote("raw ü").is_err());
        // Through encoding, even a CR LF becomes harmless text.
        let wire = to_wire("x\r\n1 DELETE INBOX", Some("/")).unwrap();
        assert!(
            quote(&wire)
                .unwrap()
                .bytes()
                .all(|b| (0x20..0x7f).contains(&b))
        );
        assert_eq!(to_wire("Entwürfe", Some("/")).unwrap(), "Entw&APw-rfe");
        assert_eq!(
            to_wire("Archiv/Entwürfe", Some(".")).unwrap(),
            "Archiv.Entw&APw-rfe"
        );
        assert!(to_wire("v1.2", Some(".")).is_err());
        assert_eq!(to_wire("inbox/x", Some(".")).unwrap(), "INBOX.x");
    }

    #[test]
    fn list_responses_parse_with_escapes_literals_and_delimiters() {
        let data = b"* LIST (\\HasNoChildren) \"/\" INBOX\r\n\
            * LIST (\\Noselect \\HasChildren) \"/\" \"CRM\"\r\n\
            * LIST (\\HasNoChildren) \"/\" \"CRM/CRM Done [E]\"\r\n\
            * LIST () \"/\" \"Quote\\\"d \\\\ back\"\r\n\
            * LIST () \"/\" {11}\r\nLit\"eral ok\r\n\
            * LIST (\\HasNoChildren \\Drafts) \"/\" Entw&APw-rfe\r\n\
            * LIST () NIL flat\r\n\
            * LIST (\\NonExistent) \"/\" gone\r\n\
            * 3 EXISTS\r\n\
            * LIST garbage\r\n";
        let l = parse_list(data);
        let got: Vec<(&str, &str, bool)> = l
            .iter()
            .map(|x| (x.wire.as_str(), x.display.as_str(), x.selectable))
            .collect();
        assert_eq!(
            got,
            vec![
                ("INBOX", "INBOX", true),
                ("CRM", "CRM", false),
                ("CRM/CRM Done [E]", "CRM/CRM Done [E]", true),
                ("Quote\"d \\ back", "Quote\"d \\ back", true),
                ("Lit\"eral ok", "Lit\"eral ok", true),
                ("Entw&APw-rfe", "Entwürfe", true),
                ("flat", "flat", true),
                ("gone", "gone", false),
            ]
        );
        assert_eq!(l[6].delimiter, None);
        // Courier-style: "." as delimiter, everything below INBOX.
        let l = parse_list(b"* LIST (\\HasChildren) \".\" \"inbox.Entw&APw-rfe.a/b\"\r\n");
        assert_eq!(l[0].display, "INBOX/Entwürfe/a/b");
        // Invalid modified UTF-7 is shown as sent, not dropped.
        let l = parse_list(b"* LIST () \"/\" \"bad&name\"\r\n");
        assert_eq!(l[0].display, "bad&name");
    }

    #[test]
    fn m21_list_lines_with_8bit_names_are_set_apart_and_the_rest_parses() {
        // Latin-1 `é` and a UTF-8 `ü`, raw, as legacy servers send them.
        let data = b"* LIST () \".\" \"INBOX.CRM Import.Legacy Caf\xe9\"\r\n\
            * LIST () \".\" {15}\r\nINBOX.Entw\xc3\xbcrfe\r\n\
            * LIST () \".\" \"INBOX.CRM Import\"\r\n";
        let l = parse_list(data);
        let got: Vec<(String, bool)> = l.iter().map(|x| (x.shown(), x.sendable)).collect();
        assert_eq!(
            got,
            vec![
                ("INBOX.CRM Import.Legacy Caf\\xE9".to_string(), false),
                ("INBOX.Entw\\xC3\\xBCrfe".to_string(), false),
                ("INBOX.CRM Import".to_string(), true),
            ]
        );
        assert_eq!(l[2].display, "INBOX/CRM Import");
    }

    #[test]
    fn m20_namespace_answer_gives_the_personal_prefix() {
        let ns = |t: &[u8]| parse_namespace(t);
        assert_eq!(
            ns(b"* NAMESPACE ((\"INBOX.\" \".\")) ((\"user.\" \".\")) ((\"\" \".\"))\r\n"),
            Some("INBOX/".to_string())
        );
        assert_eq!(
            ns(b"* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"),
            Some(String::new())
        );
        assert_eq!(
            ns(b"* NAMESPACE ((\"inbox/\" \"/\" \"X-PARAM\" (\"a\"))) NIL NIL\r\n"),
            Some("INBOX/".to_string())
        );
        assert_eq!(ns(b"* NAMESPACE NIL NIL ((\"\" \".\"))\r\n"), None);
        assert_eq!(ns(b"* NAMESPACE garbage\r\n"), None);
    }
}
