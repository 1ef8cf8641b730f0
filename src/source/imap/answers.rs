//! Reading IMAP responses the `imap` crate does not parse for crmsync:
//! whole responses split by their literals, atoms, quoted strings and
//! astrings, SELECT/EXAMINE (UIDVALIDITY, UIDNEXT, PERMANENTFLAGS,
//! READ-ONLY; the crate's parser panics on an untagged NO) and
//! CAPABILITY. Pure functions over bytes; LIST and NAMESPACE, which carry
//! names, are read in `names`.

/// Splits untagged response bytes into whole responses: a line plus the
/// literals (`{n}` at a line end) it announces.
pub(super) fn split_responses(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    while pos < data.len() {
        let Some(nl) = data[pos..].iter().position(|&b| b == b'\n') else {
            out.push(&data[start..]);
            return out;
        };
        let end = pos + nl;
        let line = &data[pos..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(n) = literal_len(line) {
            pos = (end + 1).saturating_add(n).min(data.len());
            continue;
        }
        out.push(&data[start..=end]);
        pos = end + 1;
        start = pos;
    }
    if start < data.len() {
        out.push(&data[start..]);
    }
    out
}

/// `n` when a line ends with the literal announcement `{n}` or `{n+}`.
pub(super) fn literal_len(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let digits = &body[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || digits.len() > 12 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

pub(super) fn strip_prefix_ci<'a>(data: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    (data.len() >= prefix.len() && data[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &data[prefix.len()..])
}

/// A quoted string at the start of `data`, unescaped; and the rest.
pub(super) fn parse_quoted(data: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut out = Vec::new();
    let mut i = 1;
    if data.first() != Some(&b'"') {
        return None;
    }
    while i < data.len() {
        match data[i] {
            b'\\' => {
                out.push(*data.get(i + 1)?);
                i += 2;
            }
            b'"' => return Some((out, &data[i + 1..])),
            b'\r' | b'\n' => return None,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

/// An astring (atom, quoted string or literal) at the start of `data`.
pub(super) fn parse_astring(data: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    match data.first()? {
        b'"' => parse_quoted(data),
        b'{' => {
            let close = data.iter().position(|&b| b == b'}')?;
            let n = literal_len(&data[..=close])?;
            let rest = data[close + 1..].strip_prefix(b"\r\n")?;
            (rest.len() >= n).then(|| (rest[..n].to_vec(), &rest[n..]))
        }
        _ => {
            let end = data
                .iter()
                .position(|&b| matches!(b, b' ' | b'\r' | b'\n' | b'(' | b')'))
                .unwrap_or(data.len());
            (end > 0).then(|| (data[..end].to_vec(), &data[end..]))
        }
    }
}

/// What SELECT/EXAMINE said.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Selected {
    pub(super) exists: u32,
    pub(super) uid_validity: Option<u32>,
    pub(super) uid_next: Option<u32>,
    /// PERMANENTFLAGS, lower-cased.
    pub(super) permanent: Vec<String>,
    /// PERMANENTFLAGS contains `\*`.
    pub(super) keywords: bool,
    pub(super) read_only: bool,
}

/// Parses a SELECT/EXAMINE response; `tagged` is where the tagged line starts.
pub(super) fn parse_select(data: &[u8], tagged: usize) -> Selected {
    let mut sel = Selected::default();
    let tagged = tagged.min(data.len());
    for resp in split_responses(&data[..tagged]) {
        let line = String::from_utf8_lossy(resp);
        let line = line.trim_end();
        let Some(rest) = line.strip_prefix("* ") else {
            continue;
        };
        if let Some((n, what)) = rest.split_once(' ')
            && what.eq_ignore_ascii_case("EXISTS")
        {
            sel.exists = n.parse().unwrap_or(0);
            continue;
        }
        let Some(code) = strip_prefix_ci(rest.as_bytes(), b"OK [") else {
            continue;
        };
        let code = String::from_utf8_lossy(code);
        let code = code.split(']').next().unwrap_or("");
        let (name, arg) = code.split_once(' ').unwrap_or((code, ""));
        match name.to_ascii_uppercase().as_str() {
            "UIDVALIDITY" => sel.uid_validity = arg.trim().parse().ok(),
            "UIDNEXT" => sel.uid_next = arg.trim().parse().ok(),
            "PERMANENTFLAGS" => {
                sel.permanent = arg
                    .trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .split_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect();
                sel.keywords = sel.permanent.iter().any(|f| f == "\\*");
            }
            _ => {}
        }
    }
    let done = String::from_utf8_lossy(&data[tagged..]).to_ascii_uppercase();
    sel.read_only = done.contains("[READ-ONLY]");
    sel
}

/// The atoms of `* CAPABILITY ...`, upper-cased.
pub(super) fn parse_capabilities(data: &[u8]) -> Vec<String> {
    split_responses(data)
        .into_iter()
        .filter_map(|r| strip_prefix_ci(r, b"* CAPABILITY "))
        .flat_map(|r| {
            String::from_utf8_lossy(r)
                .split_whitespace()
                .map(str::to_ascii_uppercase)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_and_examine_responses_parse() {
        let select = b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n\
            * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n\
            * 12 EXISTS\r\n* 0 RECENT\r\n\
            * NO [ALERT] quota nearly full\r\n\
            * OK [UIDVALIDITY 1700000001] UIDs valid\r\n\
            * OK [UIDNEXT 13] Predicted next UID\r\n";
        let mut data = select.to_vec();
        let tagged = data.len();
        data.extend_from_slice(b"a3 OK [READ-WRITE] Select completed.\r\n");
        let s = parse_select(&data, tagged);
        assert_eq!(s.exists, 12);
        assert_eq!(s.uid_validity, Some(1_700_000_001));
        assert_eq!(s.uid_next, Some(13));
        assert!(s.keywords);
        assert!(!s.read_only);
        let examine = b"* 0 EXISTS\r\n* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n\
            * OK [UIDVALIDITY 7] x\r\na4 OK [READ-ONLY] Examine completed.\r\n";
        let s = parse_select(examine, examine.len() - 38);
        assert_eq!((s.exists, s.uid_validity, s.uid_next), (0, Some(7), None));
        assert!(!s.keywords && s.read_only && s.permanent.is_empty());
    }

    #[test]
    fn capabilities_parse() {
        let c = parse_capabilities(b"* CAPABILITY IMAP4rev1 LITERAL+ uidplus MOVE\r\n");
        assert_eq!(c, vec!["IMAP4REV1", "LITERAL+", "UIDPLUS", "MOVE"]);
    }
}
