//! IMAP mailbox names in modified UTF-7 (RFC 3501 section 5.1.3).
//!
//! IMAP4rev1 servers send and expect mailbox names as 7-bit text: printable
//! US-ASCII stands for itself (`&` is written `&-`), and every run of other
//! characters is UTF-16BE in base64 (with `,` instead of `/`, no padding)
//! between `&` and `-`: `Entwürfe` is `Entw&APw-rfe` on the wire. The
//! `imap` crate passes names through untouched, so [`encode`] runs before a
//! name goes to the server and [`decode`] after it comes back.
//!
//! [`decode`] is strict: it accepts only the one canonical encoding of a
//! name (no printable ASCII inside `&...-`, no two adjacent encoded runs,
//! no stray bits), so `encode(decode(x)?) == x` and two wire names never
//! decode to the same text.

/// A wire name that is not canonical modified UTF-7.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mailbox name `{input}` is not valid modified UTF-7 (RFC 3501 5.1.3): {reason}")]
pub struct Utf7Error {
    /// The name as the server sent it.
    pub input: String,
    pub reason: &'static str,
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

fn is_direct(c: char) -> bool {
    (' '..='~').contains(&c)
}

/// Encodes a mailbox name for the wire. Never fails: every Unicode string
/// has an encoding, and the result is printable US-ASCII only (control
/// characters are base64-encoded too, so they cannot end a command line).
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    let mut pending: Vec<u16> = Vec::new();
    for c in name.chars() {
        if is_direct(c) {
            flush(&mut out, &mut pending);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut out, &mut pending);
    out
}

/// Writes `&<base64 of UTF-16BE>-` for the pending units.
fn flush(out: &mut String, units: &mut Vec<u16>) {
    if units.is_empty() {
        return;
    }
    let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
    out.push('&');
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        // 1 byte -> 2 chars, 2 -> 3, 3 -> 4 (no padding).
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out.push('-');
    units.clear();
}

/// Decodes a wire name.
///
/// # Errors
/// [`Utf7Error`] for anything but canonical modified UTF-7: bytes outside
/// printable US-ASCII, an `&` run without its `-`, characters outside the
/// base64 alphabet, leftover bits, invalid UTF-16 (a lone surrogate),
/// printable ASCII that was encoded, or two encoded runs in a row.
pub fn decode(wire: &str) -> Result<String, Utf7Error> {
    let err = |reason| Utf7Error {
        input: wire.to_string(),
        reason,
    };
    let bytes = wire.as_bytes();
    let mut out = String::with_capacity(wire.len());
    let mut i = 0;
    let mut after_run = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'&' {
            let len = bytes[i + 1..]
                .iter()
                .position(|&c| c == b'-')
                .ok_or_else(|| err("an `&` run has no closing `-`"))?;
            let run = &bytes[i + 1..i + 1 + len];
            if run.is_empty() {
                out.push('&');
                after_run = false;
            } else {
                if after_run {
                    return Err(err("two encoded runs in a row (they must be one)"));
                }
                let units = decode_run(run).map_err(err)?;
                let text = String::from_utf16(&units)
                    .map_err(|_| err("the encoded run is not valid UTF-16"))?;
                if text.chars().any(is_direct) {
                    return Err(err("printable ASCII must not be encoded"));
                }
                out.push_str(&text);
                after_run = true;
            }
            i += len + 2;
        } else if (0x20..=0x7e).contains(&b) {
            out.push(char::from(b));
            after_run = false;
            i += 1;
        } else {
            return Err(err("a character outside printable US-ASCII"));
        }
    }
    Ok(out)
}

/// Base64 (modified alphabet) to UTF-16 code units.
fn decode_run(run: &[u8]) -> Result<Vec<u16>, &'static str> {
    let mut units = Vec::with_capacity(run.len() * 6 / 16);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in run {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b',' => 63,
            _ => return Err("a character outside the modified base64 alphabet"),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 16 {
            bits -= 16;
            // Truncation intended: the low 16 bits above the remainder.
            units.push(((acc >> bits) & 0xffff) as u16);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return Err("the encoded run ends with a partial character");
    }
    if acc != 0 {
        return Err("the encoded run ends with non-zero padding bits");
    }
    Ok(units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_stands_for_itself() {
        for s in ["INBOX", "CRM Done [E]", "a/b.c", "Quote\"d \\ back", " ~!"] {
            assert_eq!(encode(s), s);
            assert_eq!(decode(s).unwrap(), s);
        }
        assert_eq!(encode(""), "");
        assert_eq!(decode("").unwrap(), "");
    }

    #[test]
    fn ampersand_is_amp_dash() {
        assert_eq!(encode("&"), "&-");
        assert_eq!(encode("Q&A"), "Q&-A");
        assert_eq!(decode("Q&-A").unwrap(), "Q&A");
        assert_eq!(decode("&-&-").unwrap(), "&&");
    }

    #[test]
    fn umlauts() {
        assert_eq!(encode("Entwürfe"), "Entw&APw-rfe");
        assert_eq!(decode("Entw&APw-rfe").unwrap(), "Entwürfe");
        // Adjacent non-ASCII characters share one run.
        assert_eq!(encode("Größe"), "Gr&APYA3w-e");
        assert_eq!(encode("äöü"), "&AOQA9gD8-");
        assert_eq!(decode("&AOQA9gD8-").unwrap(), "äöü");
    }

    #[test]
    fn rfc3501_and_cjk_examples() {
        // RFC 3501 5.1.3: "~peter/mail/台北/日本語".
        assert_eq!(
            encode("~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
        assert_eq!(
            decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-").unwrap(),
            "~peter/mail/台北/日本語"
        );
        assert_eq!(encode("日本語"), "&ZeVnLIqe-");
    }

    #[test]
    fn astral_plane_and_controls() {
        // Surrogate pair for U+1F4E7 (e-mail symbol).
        let s = "Mail \u{1F4E7}";
        assert_eq!(decode(&encode(s)).unwrap(), s);
        // Control characters are encoded, never sent raw.
        let nasty = "x\r\n1 DELETE INBOX";
        let wire = encode(nasty);
        assert!(wire.bytes().all(|b| (0x20..=0x7e).contains(&b)), "{wire}");
        assert_eq!(decode(&wire).unwrap(), nasty);
    }

    #[test]
    fn round_trips() {
        for s in [
            "Entwürfe",
            "a&b&ü&",
            "Ärger/Übel/Öl",
            "€ & ¥",
            "混合 mixed テキスト",
            "\u{7f}\u{80}\u{ff}",
            "x\u{10FFFF}y",
            "ü",
            "üü",
            "üüü",
            "üüüü",
        ] {
            let wire = encode(s);
            assert_eq!(decode(&wire).unwrap(), s, "wire {wire}");
        }
    }

    #[test]
    fn invalid_input_is_an_error_not_a_panic() {
        for bad in [
            "&",          // no closing dash
            "abc&AOQ",    // no closing dash
            "&AOQ*-",     // outside alphabet
            "&A-",        // partial character
            "&AOR-",      // non-zero padding bits
            "&AGE-",      // encoded printable ASCII ("a")
            "&AOQ-&APY-", // two runs in a row
            "&2D0-",      // lone high surrogate
            "\u{e4}",     // raw non-ASCII
            "tab\there",  // raw control character
        ] {
            let e = decode(bad).expect_err(bad);
            assert_eq!(e.input, bad);
            assert!(e.to_string().contains("modified UTF-7"), "{e}");
        }
    }
}
