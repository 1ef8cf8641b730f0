//! Mail parsing: the raw bytes of one RFC 5322 message (as IMAP or a Maildir
//! file hands them over) to a [`ParsedMail`] the planner can use: the ids
//! for threading (M17), the parties (normalised addresses, M6-M11), the
//! decoded subject and date, the plain text, the attachments with their
//! decoded bytes and SHA-256 (M4, W3), the size of the mail without its
//! attachments (M4) and whether it is automated mail (M18).
//!
//! MIME decoding is `mail-parser`'s; this module adds the checks that tell a
//! mail from something else, and the rules above. Mail is written by every
//! kind of software, so everything here is lenient: a broken MIME boundary
//! or an unknown charset gives the best text that can be recovered (lossy),
//! never an error. Only input that is not a mail at all is an error, and no
//! input makes it panic.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use mail_parser::{
    Address as MpAddress, HeaderName, Message, MessageParser, MimeHeaders, PartType,
};
use sha2::{Digest, Sha256};

use crate::address::{is_automated_local, looks_like_address, normalize};

/// A party of a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The display name, decoded (RFC 2047), without control characters.
    pub name: Option<String>,
    /// The address, [`normalize`]d; always [`looks_like_address`].
    pub address: String,
}

/// A file carried by a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// A file name safe to write anywhere: no path separators, no control
    /// characters, never empty (`attachment-2.pdf` when the mail gives none).
    pub name: String,
    /// `type/subtype`, lower case.
    pub media_type: String,
    /// Decoded bytes.
    pub size: u64,
    /// SHA-256 of `data`, lower-case hex.
    pub sha256: String,
    /// The decoded content (text parts: converted to UTF-8).
    pub data: Vec<u8>,
}

/// One mail, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMail {
    /// The Message-ID without `<>`, trimmed.
    pub message_id: Option<String>,
    /// M17: In-Reply-To ids without `<>`, in order, without duplicates.
    pub in_reply_to: Vec<String>,
    /// M17: References ids without `<>`, in order, without duplicates.
    pub references: Vec<String>,
    pub from: Option<Address>,
    /// Group syntax contributes its members; empty groups such as
    /// `undisclosed-recipients:;` and unusable addresses contribute nothing.
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    /// Decoded (RFC 2047); CR, LF and other control characters replaced by
    /// spaces; trimmed. Empty when the mail has none.
    pub subject: String,
    /// The Date header in UTC; None when missing or impossible.
    pub date: Option<DateTime<Utc>>,
    /// The text/plain parts joined (line ends normalised to `\n`); without
    /// any, the HTML body as plain text. Empty for [`parse_headers`].
    pub text: String,
    /// M4: the raw size of the mail minus the raw (encoded) size of the
    /// attachment parts. [`parse_headers`]: the header length.
    pub text_size: u64,
    /// Every part that is not body text: non-text types (inline images
    /// included), nested mails, and text parts with a file name or
    /// `Content-Disposition: attachment`.
    pub attachments: Vec<Attachment>,
    /// M18: `Auto-Submitted` other than `no`, `List-Id`, `Precedence:
    /// bulk|list|junk`, or a `noreply`-style sender.
    pub automated: bool,
    /// Length of the bytes parsed.
    pub raw_size: u64,
    /// SHA-256 of the bytes parsed, lower-case hex (M3 de-duplication).
    pub content_hash: String,
}

/// Why bytes are not a mail.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("not a mail: the input is empty")]
    Empty,
    /// The input has no usable header fields; the text says what was found.
    #[error("not a mail: {0}")]
    NotAMail(String),
    #[error("mail of {0} bytes is too large to parse (the limit is 4 GiB)")]
    TooLarge(u64),
}

/// Header fields of which a mail has at least one (RFC 5322 3.6).
const MAIL_FIELDS: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "date",
    "subject",
    "message-id",
    "in-reply-to",
    "references",
    "reply-to",
    "mime-version",
];

/// Parses a whole mail.
///
/// # Errors
/// [`MailError`] when the input is empty, too large, or has no mail header
/// fields (binary data, a text file).
pub fn parse(raw: &[u8]) -> Result<ParsedMail, MailError> {
    let buf = parse_buffer(raw)?;
    let msg = MessageParser::default()
        .parse(buf.as_ref())
        .ok_or_else(|| no_header_error(raw))?;
    check_is_mail(&msg, raw)?;
    let mut mail = headers_of(&msg, raw);

    let mut texts: Vec<String> = Vec::new();
    for part in msg
        .text_body
        .iter()
        .filter_map(|&id| msg.parts.get(id as usize))
    {
        if let PartType::Text(t) = &part.body {
            texts.push(t.to_string());
        }
    }
    let mut attachment_raw: u64 = 0;
    let mut extra_texts: Vec<String> = Vec::new();
    for &id in &msg.attachments {
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        let name = part
            .attachment_name()
            .map(|n| unfold_name(n, folded_in_quotes(buf.as_ref(), part)));
        let explicit = part
            .content_disposition()
            .is_some_and(|cd| cd.is_attachment());
        let (data, default_type): (Vec<u8>, &str) = match &part.body {
            // A text part without a file name is body text that MIME put
            // elsewhere (e.g. recovered from a broken boundary): keep it.
            PartType::Text(t) if name.is_none() && !explicit => {
                extra_texts.push(t.to_string());
                continue;
            }
            PartType::Html(h) if name.is_none() && !explicit => {
                extra_texts.push(html_to_text(h));
                continue;
            }
            // A multipart without a usable boundary: its body is text.
            PartType::Binary(b)
                if name.is_none()
                    && part
                        .content_type()
                        .is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("multipart")) =>
            {
                extra_texts.push(String::from_utf8_lossy(b).into_owned());
                continue;
            }
            PartType::Text(t) => (t.as_bytes().to_vec(), "text/plain"),
            PartType::Html(h) => (h.as_bytes().to_vec(), "text/html"),
            PartType::Binary(b) | PartType::InlineBinary(b) => {
                (b.to_vec(), "application/octet-stream")
            }
            PartType::Message(nested) => {
                let data = if part.encoding == mail_parser::Encoding::None {
                    buf.get(part.offset_body as usize..part.offset_end as usize)
                        .map(<[u8]>::to_vec)
                        .unwrap_or_else(|| nested.raw_message.to_vec())
                } else {
                    nested.raw_message.to_vec()
                };
                (data, "message/rfc822")
            }
            PartType::Multipart(_) => continue,
        };
        // The root part as attachment (a mail that is just a PDF) keeps its
        // header in the text size; other parts count whole.
        let start = if id == 0 {
            part.offset_body
        } else {
            part.offset_header
        };
        attachment_raw += u64::from(part.offset_end.saturating_sub(start));
        let media_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_string(),
            })
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty() && !t.chars().any(|c| c.is_control() || c == ' '))
            .unwrap_or_else(|| default_type.to_string());
        let name = match (&part.body, name) {
            (_, Some(n)) => sanitize_file_name(&n),
            (PartType::Message(nested), None) => nested
                .subject()
                .map(|s| sanitize_file_name(&format!("{}.eml", clean_line(s))))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let name = if name.is_empty() {
            format!(
                "attachment-{}.{}",
                mail.attachments.len() + 1,
                extension_for(&media_type)
            )
        } else {
            name
        };
        mail.attachments.push(Attachment {
            name,
            media_type,
            size: data.len() as u64,
            sha256: hex::encode(Sha256::digest(&data)),
            data,
        });
    }
    texts.extend(extra_texts);
    if texts.iter().all(|t| t.trim().is_empty()) {
        texts = msg
            .html_body
            .iter()
            .filter_map(|&id| msg.parts.get(id as usize))
            .filter_map(|p| match &p.body {
                PartType::Html(h) => Some(html_to_text(h)),
                _ => None,
            })
            .collect();
    }
    mail.text = texts
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| t.replace("\r\n", "\n"))
        .collect::<Vec<_>>()
        .join("\n");
    mail.text_size = (raw.len() as u64).saturating_sub(attachment_raw);
    Ok(mail)
}

/// M22: whether a Content-Type or Content-Disposition of the part is
/// folded inside a quoted parameter value (`filename="sygn<CRLF>       .
/// 2Ds"`). Unfolding (RFC 5322 3.2.2) removes only the CRLF and keeps the
/// next line's indentation, which the sender added for the fold.
fn folded_in_quotes(buf: &[u8], part: &mail_parser::MessagePart<'_>) -> bool {
    part.headers.iter().any(|h| {
        if !matches!(
            h.name,
            HeaderName::ContentType | HeaderName::ContentDisposition
        ) {
            return false;
        }
        let raw = buf
            .get(h.offset_start as usize..h.offset_end as usize)
            .unwrap_or_default();
        let (mut quoted, mut escaped) = (false, false);
        for (i, &b) in raw.iter().enumerate() {
            match b {
                _ if escaped => escaped = false,
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                b'\n' if quoted && matches!(raw.get(i + 1), Some(b' ' | b'\t')) => return true,
                _ => {}
            }
        }
        false
    })
}

/// A file name as the sender meant it: with a fold inside its quotes, each
/// run of white space is one space (M22).
fn unfold_name(name: &str, folded: bool) -> String {
    if folded {
        name.split([' ', '\t', '\r', '\n'])
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        name.to_string()
    }
}

/// M19 / M4: parses only the header block of `raw_header` (a fetched header,
/// or a whole mail whose body must not be used). `text` is empty, there are
/// no attachments and `text_size` is the length of the header block;
/// `raw_size` and `content_hash` describe the bytes given.
///
/// # Errors
/// As [`parse`].
pub fn parse_headers(raw_header: &[u8]) -> Result<ParsedMail, MailError> {
    let header_len = header_block_len(raw_header).unwrap_or(raw_header.len());
    let head = raw_header.get(..header_len).unwrap_or(raw_header);
    let buf = parse_buffer(head)?;
    let msg = MessageParser::default()
        .parse_headers(buf.as_ref())
        .ok_or_else(|| no_header_error(raw_header))?;
    check_is_mail(&msg, raw_header)?;
    let mut mail = headers_of(&msg, raw_header);
    mail.text_size = header_len as u64;
    Ok(mail)
}

/// The bytes handed to mail-parser: the input, plus a final newline when
/// the header block ends without one (mail-parser drops an unterminated
/// last header field).
fn parse_buffer(raw: &[u8]) -> Result<Cow<'_, [u8]>, MailError> {
    if raw.is_empty() {
        return Err(MailError::Empty);
    }
    // mail-parser keeps offsets as u32.
    if raw.len() >= u32::MAX as usize - 2 {
        return Err(MailError::TooLarge(raw.len() as u64));
    }
    if header_block_len(raw).is_none() && !raw.ends_with(b"\n") {
        let mut owned = Vec::with_capacity(raw.len() + 2);
        owned.extend_from_slice(raw);
        owned.extend_from_slice(b"\r\n");
        Ok(Cow::Owned(owned))
    } else {
        Ok(Cow::Borrowed(raw))
    }
}

/// Length of the header block including the empty line that ends it; None
/// when there is no empty line.
pub fn header_block_len(raw: &[u8]) -> Option<usize> {
    let mut start = 0;
    while start < raw.len() {
        let end = raw[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |i| start + i + 1);
        let line = &raw[start..end];
        if line == b"\n" || line == b"\r\n" {
            return Some(end);
        }
        start = end;
    }
    None
}

fn check_is_mail(msg: &Message<'_>, raw: &[u8]) -> Result<(), MailError> {
    let names: Vec<String> = msg
        .headers()
        .iter()
        .map(|h| h.name.as_str().to_ascii_lowercase())
        .collect();
    if names.is_empty() {
        return Err(no_header_error(raw));
    }
    if !names.iter().any(|n| MAIL_FIELDS.contains(&n.as_str())) {
        return Err(MailError::NotAMail(format!(
            "none of the header fields From, To, Date, Subject or Message-ID is present \
             (the input starts with {}); is this a mail file?",
            first_line(raw)
        )));
    }
    Ok(())
}

fn no_header_error(raw: &[u8]) -> MailError {
    if raw.starts_with(b"\n") || raw.starts_with(b"\r\n") {
        MailError::NotAMail(
            "no header fields: the input starts with an empty line, so it has a body but no header"
                .into(),
        )
    } else {
        MailError::NotAMail(format!(
            "no header fields: a mail starts with lines such as `From: name@example.com`, \
             this input starts with {}",
            first_line(raw)
        ))
    }
}

/// The first line of the input, quoted and shortened for an error message.
fn first_line(raw: &[u8]) -> String {
    let line = raw.split(|&b| b == b'\n').next().unwrap_or_default();
    let text = String::from_utf8_lossy(line);
    let shown: String = text
        .chars()
        .take(60)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    if text.chars().count() > 60 {
        format!("`{shown}...`")
    } else {
        format!("`{shown}`")
    }
}

/// Everything that comes from the header block.
fn headers_of(msg: &Message<'_>, raw: &[u8]) -> ParsedMail {
    let from_addr = msg.from().and_then(|a| a.first());
    let from = msg.from().and_then(|a| addresses(a).into_iter().next());
    // M18: a `noreply`-style sender, also when the From field is only a word
    // such as `MAILER-DAEMON` (no usable address).
    let from_local = from
        .as_ref()
        .map(|a| a.address.clone())
        .or_else(|| {
            from_addr.and_then(|a| a.address.as_deref().or(a.name.as_deref()).map(normalize))
        })
        .unwrap_or_default();
    let automated =
        (!from_local.is_empty() && is_automated_local(&from_local)) || automated_by_headers(msg);
    ParsedMail {
        message_id: msg.message_id().and_then(clean_id),
        in_reply_to: id_list(msg, HeaderName::InReplyTo),
        references: id_list(msg, HeaderName::References),
        from,
        to: msg.all_to().flat_map(addresses).collect(),
        cc: msg.all_cc().flat_map(addresses).collect(),
        subject: msg.subject().map(clean_line).unwrap_or_default(),
        date: msg.date().and_then(to_utc),
        text: String::new(),
        text_size: 0,
        attachments: Vec::new(),
        automated,
        raw_size: raw.len() as u64,
        content_hash: hex::encode(Sha256::digest(raw)),
    }
}

/// M18 by header: `Auto-Submitted` other than `no`, `List-Id`,
/// `Precedence: bulk|list|junk`.
fn automated_by_headers(msg: &Message<'_>) -> bool {
    msg.headers_raw().any(|(name, value)| {
        let value = value.trim();
        if name.eq_ignore_ascii_case("auto-submitted") {
            let keyword = value.split(';').next().unwrap_or_default().trim();
            !keyword.eq_ignore_ascii_case("no")
        } else if name.eq_ignore_ascii_case("list-id") {
            !value.is_empty()
        } else if name.eq_ignore_ascii_case("precedence") {
            ["bulk", "list", "junk"]
                .iter()
                .any(|p| value.eq_ignore_ascii_case(p))
        } else {
            false
        }
    })
}

/// The usable addresses of an address field: group members count, groups
/// themselves and strings that are no address do not.
fn addresses(field: &MpAddress<'_>) -> Vec<Address> {
    field
        .iter()
        .filter_map(|a| {
            let address = normalize(a.address.as_deref()?);
            if !looks_like_address(&address) {
                return None;
            }
            let name = a.name.as_deref().map(clean_line).filter(|n| !n.is_empty());
            Some(Address { name, address })
        })
        .collect()
}

fn id_list(msg: &Message<'_>, header: HeaderName<'static>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for value in msg.header_values(header) {
        let found: Vec<&str> = match value {
            mail_parser::HeaderValue::Text(t) => vec![t.as_ref()],
            mail_parser::HeaderValue::TextList(l) => l.iter().map(AsRef::as_ref).collect(),
            _ => Vec::new(),
        };
        for id in found.into_iter().filter_map(clean_id) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// A message id without `<>` and white space; None when nothing is left.
fn clean_id(id: &str) -> Option<String> {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!id.is_empty() && !id.chars().any(|c| c.is_control())).then(|| id.to_string())
}

/// One line of text: control characters (CR, LF, TAB, ...) become spaces.
fn clean_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// A header date in UTC; None for impossible dates (30 February).
fn to_utc(d: &mail_parser::DateTime) -> Option<DateTime<Utc>> {
    let local = NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))?
        .and_hms_opt(
        u32::from(d.hour),
        u32::from(d.minute),
        u32::from(d.second.min(59)),
    )?;
    if d.tz_hour > 23 || d.tz_minute > 59 {
        return None;
    }
    let offset = i64::from(d.tz_hour) * 3600 + i64::from(d.tz_minute) * 60;
    let offset = if d.tz_before_gmt { -offset } else { offset };
    let utc = local.checked_sub_signed(chrono::TimeDelta::try_seconds(offset)?)?;
    Some(utc.and_utc())
}

/// A file name that is safe to write: the last path component, control
/// characters and characters Windows forbids replaced by `_`, no leading
/// dots or spaces, at most 200 characters (the extension is kept).
pub fn sanitize_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' '])
        .to_string();
    if cleaned.chars().all(|c| c == '_') {
        return String::new();
    }
    const MAX: usize = 200;
    if cleaned.chars().count() <= MAX {
        return cleaned;
    }
    let ext: String = match cleaned.rsplit_once('.') {
        Some((_, ext)) if ext.chars().count() <= 10 => format!(".{ext}"),
        _ => String::new(),
    };
    let keep = MAX - ext.chars().count();
    let stem: String = cleaned.chars().take(keep).collect();
    format!("{stem}{ext}")
}

/// A file extension for a generated attachment name.
fn extension_for(media_type: &str) -> &'static str {
    match media_type {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpg",
        "image/gif" => "gif",
        "text/plain" => "txt",
        "text/html" => "html",
        "text/calendar" => "ics",
        "text/vcard" | "text/x-vcard" => "vcf",
        "message/rfc822" => "eml",
        _ => "bin",
    }
}

/// HTML to plain text: drops tags, comments, `<head>`, `<script>` and
/// `<style>`; block elements and `<br>` end lines, table cells are
/// separated by a space; white space collapses; numeric and the common
/// named entities are decoded.
pub fn html_to_text(html: &str) -> String {
    const BLOCKS: &[&str] = &[
        "br",
        "p",
        "div",
        "tr",
        "li",
        "ul",
        "ol",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "hr",
    ];
    const SKIPPED: &[&str] = &["head", "script", "style", "title"];
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            push_text(&mut out, rest);
            break;
        };
        push_text(&mut out, &rest[..lt]);
        rest = &rest[lt..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |end| &rest[end + 3..]);
            continue;
        }
        let Some(gt) = rest.find('>') else {
            break;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        if BLOCKS.contains(&name.as_str()) {
            out.push('\n');
        } else if matches!(name.as_str(), "td" | "th") && !out.ends_with([' ', '\n']) {
            out.push(' ');
        } else if !closing && SKIPPED.contains(&name.as_str()) {
            let end = format!("</{name}");
            rest = match find_ascii_ci(rest, &end) {
                Some(i) => {
                    let after = &rest[i..];
                    after.find('>').map_or("", |j| &after[j + 1..])
                }
                None => "",
            };
        }
    }
    // Tidy: trim lines, at most one empty line in a row.
    let mut tidy = String::with_capacity(out.len());
    let mut empty_run = 0;
    for line in out.lines().map(str::trim) {
        if line.is_empty() {
            empty_run += 1;
            if empty_run > 1 {
                continue;
            }
        } else {
            empty_run = 0;
        }
        tidy.push_str(line);
        tidy.push('\n');
    }
    tidy.trim().to_string()
}

/// Appends HTML text with its white space collapsed and entities decoded.
fn push_text(out: &mut String, text: &str) {
    let mut last_space = out.ends_with([' ', '\n']) || out.is_empty();
    for c in decode_entities(text).chars() {
        if c.is_whitespace() && c != '\u{a0}' {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else {
            out.push(if c == '\u{a0}' { ' ' } else { c });
            last_space = false;
        }
    }
}

/// The named entities mail commonly uses (German and typographic ones
/// included); numeric references cover the rest.
const NAMED_ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("auml", 'ä'),
    ("ouml", 'ö'),
    ("uuml", 'ü'),
    ("Auml", 'Ä'),
    ("Ouml", 'Ö'),
    ("Uuml", 'Ü'),
    ("szlig", 'ß'),
    ("eacute", 'é'),
    ("egrave", 'è'),
    ("agrave", 'à'),
    ("euro", '€'),
    ("pound", '£'),
    ("copy", '©'),
    ("reg", '®'),
    ("trade", '™'),
    ("times", '×'),
    ("deg", '°'),
    ("sup2", '²'),
    ("middot", '·'),
    ("bull", '•'),
    ("hellip", '…'),
    ("ndash", '–'),
    ("mdash", '—'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("sbquo", '‚'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("bdquo", '„'),
    ("laquo", '«'),
    ("raquo", '»'),
];

fn decode_entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest[1..]
            .find(';')
            .filter(|&semi| semi <= 10)
            .map(|semi| &rest[1..1 + semi])
            .and_then(|entity| {
                let c = match NAMED_ENTITIES.iter().find(|(n, _)| *n == entity) {
                    Some((_, c)) => Some(*c),
                    None => entity
                        .strip_prefix("#x")
                        .or_else(|| entity.strip_prefix("#X"))
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                        .and_then(char::from_u32)
                        .filter(|c| !c.is_control() || c.is_whitespace()),
                };
                c.map(|c| (c, entity.len() + 2))
            });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Byte offset of an ASCII `needle` in `hay`, ignoring ASCII case.
fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mail from lines joined with CRLF.
    fn mail(lines: &[&str]) -> Vec<u8> {
        let mut s = lines.join("\r\n");
        s.push_str("\r\n");
        s.into_bytes()
    }

    fn addr(a: &str) -> Address {
        Address {
            name: None,
            address: a.into(),
        }
    }

    const PLAIN: &[&str] = &[
        "From: \"Doe, Jane\" <Jane.Doe@ACME.example>",
        "To: Alice Smith <alice@example.com>, bob@example.com",
        "Cc: max@acme.example",
        "Subject: Offer 2026",
        "Date: Tue, 3 Nov 2026 09:15:00 +0100",
        "Message-ID: <offer-1@acme.example>",
        "",
        "Hello Alice,",
        "here is the offer.",
    ];

    #[test]
    fn headers_addresses_subject_date_and_text() {
        let raw = mail(PLAIN);
        let m = parse(&raw).unwrap();
        assert_eq!(m.message_id.as_deref(), Some("offer-1@acme.example"));
        assert_eq!(
            m.from,
            Some(Address {
                name: Some("Doe, Jane".into()),
                address: "jane.doe@acme.example".into()
            })
        );
        assert_eq!(
            m.to,
            vec![
                Address {
                    name: Some("Alice Smith".into()),
                    address: "alice@example.com".into()
                },
                addr("bob@example.com")
            ]
        );
        assert_eq!(m.cc, vec![addr("max@acme.example")]);
        assert_eq!(m.subject, "Offer 2026");
        assert_eq!(
            m.date.unwrap().to_rfc3339(),
            "2026-11-03T08:15:00+00:00",
            "converted to UTC"
        );
        assert_eq!(m.text, "Hello Alice,\nhere is the offer.\n");
        assert!(m.attachments.is_empty());
        assert!(!m.automated);
        assert_eq!(m.raw_size, raw.len() as u64);
        assert_eq!(m.text_size, raw.len() as u64);
        assert_eq!(m.content_hash, hex::encode(Sha256::digest(&raw)));
        assert_eq!(m.content_hash.len(), 64);
    }

    #[test]
    fn m17_in_reply_to_and_references_without_brackets() {
        let raw = mail(&[
            "From: alice@example.com",
            "Message-ID:   <reply-1@example.com>  ",
            "In-Reply-To: <offer-1@acme.example>",
            "References: <root@acme.example>",
            " <offer-1@acme.example> <root@acme.example>",
            "",
            "Thanks",
        ]);
        let m = parse(&raw).unwrap();
        assert_eq!(m.message_id.as_deref(), Some("reply-1@example.com"));
        assert_eq!(m.in_reply_to, vec!["offer-1@acme.example"]);
        assert_eq!(
            m.references,
            vec!["root@acme.example", "offer-1@acme.example"],
            "in order, duplicates dropped"
        );
    }

    #[test]
    fn message_id_edge_cases() {
        for (header, want) in [
            ("Message-ID: <a@b>", Some("a@b")),
            ("Message-ID: a@b", Some("a@b")),
            ("Message-ID: <>", None),
            ("X-Other: 1", None),
        ] {
            let m = parse(&mail(&["From: x@y.example", header, "", "b"])).unwrap();
            assert_eq!(m.message_id.as_deref(), want, "{header}");
        }
    }

    #[test]
    fn m18_automated_mail_table() {
        let cases: &[(&str, &str, bool)] = &[
            (
                "m18_plain_mail_is_not_automated",
                "X-Mailer: Thunderbird",
                false,
            ),
            (
                "m18_auto_submitted_auto_replied",
                "Auto-Submitted: auto-replied",
                true,
            ),
            (
                "m18_auto_submitted_auto_generated_with_params",
                "Auto-Submitted: auto-generated; type=x",
                true,
            ),
            (
                "m18_auto_submitted_no_is_human",
                "Auto-Submitted: no",
                false,
            ),
            (
                "m18_auto_submitted_no_case_insensitive",
                "Auto-Submitted: NO",
                false,
            ),
            (
                "m18_list_id_is_automated",
                "List-Id: News <news.acme.example>",
                true,
            ),
            ("m18_precedence_bulk", "Precedence: bulk", true),
            ("m18_precedence_list", "Precedence: List", true),
            ("m18_precedence_junk", "Precedence: junk", true),
            (
                "m18_precedence_first_class_is_human",
                "Precedence: first-class",
                false,
            ),
        ];
        for (name, header, want) in cases {
            let raw = mail(&["From: jane.doe@acme.example", header, "Subject: s", "", "b"]);
            assert_eq!(parse(&raw).unwrap().automated, *want, "{name}");
            assert_eq!(
                parse_headers(&raw).unwrap().automated,
                *want,
                "{name} (headers)"
            );
        }
        let senders: &[(&str, bool)] = &[
            ("From: noreply@shop.example", true),
            ("From: Shop <No-Reply@shop.example>", true),
            (
                "From: Mail Delivery System <MAILER-DAEMON@mx.example>",
                true,
            ),
            ("From: MAILER-DAEMON", true),
            ("From: noreply.team@shop.example", true),
            ("From: norbert@shop.example", false),
        ];
        for (from, want) in senders {
            let raw = mail(&[from, "Subject: s", "", "b"]);
            assert_eq!(parse(&raw).unwrap().automated, *want, "m18 sender {from}");
        }
    }

    #[test]
    fn group_syntax_and_undisclosed_recipients_yield_no_address() {
        let raw = mail(&[
            "From: alice@example.com",
            "To: undisclosed-recipients:;",
            "Cc: Team: ann@acme.example, Ben <ben@acme.example>;, solo@acme.example",
            "Subject: s",
            "",
            "b",
        ]);
        let m = parse(&raw).unwrap();
        assert!(m.to.is_empty(), "{:?}", m.to);
        let cc: Vec<&str> = m.cc.iter().map(|a| a.address.as_str()).collect();
        assert_eq!(
            cc,
            ["ann@acme.example", "ben@acme.example", "solo@acme.example"],
            "the group name is no address; its members are parties"
        );
    }

    #[test]
    fn unusable_addresses_are_dropped() {
        let raw = mail(&[
            "From: Someone",
            "To: foo, <>, \"x\" <not an address>, ok@acme.example",
            "Cc: mailto:Max@Acme.example",
            "",
            "b",
        ]);
        let m = parse(&raw).unwrap();
        assert_eq!(m.from, None);
        assert_eq!(m.to, vec![addr("ok@acme.example")]);
    }

    #[test]
    fn several_to_and_cc_fields_are_all_read() {
        let raw = mail(&[
            "From: a@acme.example",
            "To: b@acme.example",
            "To: c@acme.example",
            "Cc: d@acme.example",
            "Cc: e@acme.example",
            "",
            "b",
        ]);
        let m = parse(&raw).unwrap();
        assert_eq!(m.to, vec![addr("b@acme.example"), addr("c@acme.example")]);
        assert_eq!(m.cc, vec![addr("d@acme.example"), addr("e@acme.example")]);
    }

    #[test]
    fn subject_rfc2047_decoded_and_control_chars_replaced() {
        let cases: &[(&str, &str)] = &[
            (
                "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=",
                "Grüße aus München",
            ),
            (
                "Subject: =?ISO-8859-1?B?QW5nZWJvdCBm/HIgSGVycm4gTfxsbGVy?=",
                "Angebot für Herrn Müller",
            ),
            (
                "Subject: =?utf-8?q?Teil_1?=\r\n =?utf-8?q?_und_Teil_2?=",
                "Teil 1 und Teil 2",
            ),
            ("Subject:   padded\t tab  ", "padded  tab"),
            ("Subject: bell\u{7}here", "bell here"),
            ("X-No-Subject: 1", ""),
        ];
        for (header, want) in cases {
            let m = parse(&mail(&["From: a@acme.example", header, "", "b"])).unwrap();
            assert_eq!(m.subject, *want, "{header}");
            assert!(!m.subject.chars().any(char::is_control));
        }
    }

    #[test]
    fn dates_in_utc_and_impossible_dates_are_none() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "Date: Tue, 3 Nov 2026 09:15:00 +0100",
                Some("2026-11-03T08:15:00+00:00"),
            ),
            (
                "Date: Mon, 30 Nov 2026 23:30:00 -0500",
                Some("2026-12-01T04:30:00+00:00"),
            ),
            (
                "Date: 3 Nov 2026 09:15:00 GMT",
                Some("2026-11-03T09:15:00+00:00"),
            ),
            ("Date: Tue, 31 Nov 2026 09:15:00 +0100", None),
            ("Date: yesterday", None),
            ("X-Date: none", None),
        ];
        for (header, want) in cases {
            let m = parse(&mail(&["From: a@acme.example", header, "", "b"])).unwrap();
            assert_eq!(m.date.map(|d| d.to_rfc3339()).as_deref(), *want, "{header}");
        }
    }

    fn pdf_mail() -> Vec<u8> {
        mail(&[
            "From: Jane Doe <jane.doe@acme.example>",
            "To: alice@example.com",
            "Subject: Offer",
            "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"b1\"",
            "",
            "--b1",
            "Content-Type: multipart/alternative; boundary=\"b2\"",
            "",
            "--b2",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "Gr=C3=BC=C3=9Fe, see the offer.",
            "--b2",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<p>Gr&uuml;&szlig;e, see <b>the offer</b>.</p>",
            "--b2--",
            "--b1",
            "Content-Type: application/pdf; name=\"offer.pdf\"",
            "Content-Disposition: attachment; filename=\"offer.pdf\"",
            "Content-Transfer-Encoding: base64",
            "",
            "JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCiUlRU9GCg==",
            "--b1--",
        ])
    }

    #[test]
    fn attachment_decoded_with_hash_and_plain_text_preferred() {
        let raw = pdf_mail();
        let m = parse(&raw).unwrap();
        assert_eq!(m.text.trim_end(), "Grüße, see the offer.");
        assert_eq!(m.attachments.len(), 1);
        let a = &m.attachments[0];
        assert_eq!(a.name, "offer.pdf");
        assert_eq!(a.media_type, "application/pdf");
        assert!(a.data.starts_with(b"%PDF-1.4"));
        assert_eq!(a.size, a.data.len() as u64);
        assert_eq!(a.sha256, hex::encode(Sha256::digest(&a.data)));
    }

    #[test]
    fn m4_text_size_is_raw_size_minus_encoded_attachments() {
        let raw = pdf_mail();
        let m = parse(&raw).unwrap();
        let text = String::from_utf8(raw.clone()).unwrap();
        // The attachment part: from its header to the boundary that ends it.
        let start = text.find("Content-Type: application/pdf").unwrap();
        let end = text.rfind("\r\n--b1--").unwrap();
        assert_eq!(m.raw_size, raw.len() as u64);
        assert_eq!(m.text_size, (raw.len() - (end - start)) as u64);
        assert!(m.text_size < m.raw_size);
    }

    #[test]
    fn m4_a_mail_that_is_only_a_pdf_keeps_its_header_in_text_size() {
        let raw = mail(&[
            "From: scanner@acme.example",
            "Content-Type: application/pdf",
            "Content-Transfer-Encoding: base64",
            "",
            "JVBERi0xLjQK",
        ]);
        let m = parse(&raw).unwrap();
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].name, "attachment-1.pdf");
        let header_len = header_block_len(&raw).unwrap() as u64;
        assert_eq!(m.text_size, header_len);
        assert_eq!(m.text, "");
    }

    #[test]
    fn html_only_mail_becomes_plain_text() {
        let raw = mail(&[
            "From: news@acme.example",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<html><head><title>T</title><style>p{color:red}</style></head>",
            "<body><p>Hello&nbsp;Alice &amp; Bob,</p><p>price &lt; 10 &#8364; &#x263A;</p>",
            "<script>alert(1)</script><!-- hidden --><div>Bye</div></body></html>",
        ]);
        let m = parse(&raw).unwrap();
        assert_eq!(m.text, "Hello Alice & Bob,\n\nprice < 10 € ☺\n\nBye");
    }

    #[test]
    fn html_to_text_table() {
        let cases: &[(&str, &str)] = &[
            ("plain", "plain"),
            ("a<br>b<br/>c", "a\nb\nc"),
            ("<P>x</P><P>y</P>", "x\n\ny"),
            ("a   \n  b", "a b"),
            (
                "&unknown; &amp &#0; &#99999999;",
                "&unknown; &amp &#0; &#99999999;",
            ),
            ("<SCRIPT>x</SCRIPT>ok", "ok"),
            ("<style>never closed", ""),
            ("<!-- never closed", ""),
            ("broken <tag", "broken"),
            (
                "Gr&uuml;&szlig;e &bdquo;M&uuml;nchen&ldquo;",
                "Grüße „München“",
            ),
            (
                "<tr><td>20 &times; desk</td><td>4&nbsp;800&nbsp;&euro;</td></tr>",
                "20 × desk 4 800 €",
            ),
            ("&AUML; &euro", "&AUML; &euro"),
            ("ü&amp;ü", "ü&ü"),
        ];
        for (html, want) in cases {
            assert_eq!(html_to_text(html), *want, "{html}");
        }
    }

    #[test]
    fn inline_image_and_nested_mail_are_attachments() {
        let raw = mail(&[
            "From: jane.doe@acme.example",
            "Content-Type: multipart/mixed; boundary=m",
            "",
            "--m",
            "Content-Type: multipart/related; boundary=r",
            "",
            "--r",
            "Content-Type: text/html",
            "",
            "<p>Logo: <img src=\"cid:logo\"></p>",
            "--r",
            "Content-Type: image/png",
            "Content-ID: <logo>",
            "Content-Disposition: inline",
            "Content-Transfer-Encoding: base64",
            "",
            "iVBORw0KGgo=",
            "--r--",
            "--m",
            "Content-Type: message/rfc822",
            "",
            "From: max@acme.example",
            "Subject: Forwarded: the old offer",
            "",
            "inner body",
            "--m--",
        ]);
        let m = parse(&raw).unwrap();
        assert_eq!(m.text, "Logo:");
        let names: Vec<(&str, &str)> = m
            .attachments
            .iter()
            .map(|a| (a.name.as_str(), a.media_type.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("attachment-1.png", "image/png"),
                ("Forwarded_ the old offer.eml", "message/rfc822")
            ]
        );
        assert_eq!(m.attachments[0].data, b"\x89PNG\r\n\x1a\n");
        let eml = String::from_utf8_lossy(&m.attachments[1].data);
        assert!(eml.starts_with("From: max@acme.example"), "{eml}");
        assert!(eml.contains("inner body"));
    }

    #[test]
    fn text_attachment_with_file_name_is_an_attachment() {
        let raw = mail(&[
            "From: jane.doe@acme.example",
            "Content-Type: multipart/mixed; boundary=m",
            "",
            "--m",
            "Content-Type: text/plain",
            "",
            "body",
            "--m",
            "Content-Type: text/csv; name=\"prices.csv\"",
            "",
            "a,b",
            "--m",
            "Content-Type: text/plain",
            "Content-Disposition: attachment",
            "",
            "notes",
            "--m--",
        ]);
        let m = parse(&raw).unwrap();
        assert_eq!(m.text, "body");
        let names: Vec<&str> = m.attachments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["prices.csv", "attachment-2.txt"]);
        assert_eq!(m.attachments[0].data, b"a,b");
    }

    #[test]
    fn attachment_names_are_sanitized() {
        let cases: &[(&str, &str)] = &[
            ("offer.pdf", "offer.pdf"),
            ("../../etc/passwd", "passwd"),
            ("C:\\Users\\x\\evil.exe", "evil.exe"),
            ("a\u{0}b\r\nc.txt", "a_b__c.txt"),
            ("..", ""),
            ("  .hidden ", "hidden"),
            ("what?.pdf", "what_.pdf"),
            ("dir/", ""),
            ("Angebot Müller.pdf", "Angebot Müller.pdf"),
            ("\u{1}\u{2}", ""),
        ];
        for (input, want) in cases {
            assert_eq!(sanitize_file_name(input), *want, "{input:?}");
        }
        let long = format!("{}.pdf", "x".repeat(500));
        let s = sanitize_file_name(&long);
        assert_eq!(s.chars().count(), 200);
        assert!(s.ends_with(".pdf"));

        // In a mail: an unusable name gets a generated one.
        let raw = mail(&[
            "From: a@acme.example",
            "Content-Type: multipart/mixed; boundary=m",
            "",
            "--m",
            "Content-Type: application/pdf; name=\"../\"",
            "",
            "%PDF",
            "--m",
            "Content-Type: application/octet-stream",
            "Content-Disposition: attachment; filename=\"/tmp/../x\r\n.bin\"",
            "",
            "data",
            "--m--",
        ]);
        for a in parse(&raw).unwrap().attachments {
            assert!(!a.name.is_empty());
            assert!(!a.name.contains(['/', '\\']), "{}", a.name);
            assert!(!a.name.chars().any(char::is_control), "{:?}", a.name);
        }
    }

    #[test]
    fn m19_parse_headers_has_no_body_and_text_size_is_the_header() {
        let raw = pdf_mail();
        let header_len = header_block_len(&raw).unwrap();
        let only_header = &raw[..header_len];
        for input in [only_header, &raw[..]] {
            let m = parse_headers(input).unwrap();
            assert_eq!(m.subject, "Offer");
            assert_eq!(m.from.as_ref().unwrap().address, "jane.doe@acme.example");
            assert_eq!(m.to, vec![addr("alice@example.com")]);
            assert_eq!(m.text, "");
            assert!(m.attachments.is_empty());
            assert_eq!(m.text_size, header_len as u64);
            assert_eq!(m.raw_size, input.len() as u64);
            assert_eq!(m.content_hash, hex::encode(Sha256::digest(input)));
        }
        // Also a header block cut off without its final empty line.
        let m = parse_headers(b"From: a@acme.example\r\nSubject: cut").unwrap();
        assert_eq!(m.subject, "cut");
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let cases: &[(&str, &[u8], &str)] = &[
            ("empty", b"", "empty"),
            (
                "binary garbage",
                b"\x00\x9f\x92\x96\n\r\xff\x01\x02",
                "no header fields",
            ),
            (
                "binary garbage with a colon",
                b"\x89PNG\r\n\x1a\n\x00\x00: x\n\n",
                "none of the header fields",
            ),
            (
                "no header fields",
                b"Hello Bob,\n\nhow are you?\n",
                "no header fields",
            ),
            (
                "starts with empty line",
                b"\r\nFrom: a@b.example\r\n",
                "starts with an empty line",
            ),
            ("only spaces", b"   \n", "no header fields"),
            (
                "unknown fields only",
                b"X-Foo: 1\nX-Bar: 2\n\nbody",
                "none of the header fields",
            ),
        ];
        for (name, raw, want) in cases {
            let err = parse(raw).unwrap_err().to_string();
            assert!(err.starts_with("not a mail"), "{name}: {err}");
            assert!(err.contains(want), "{name}: {err}");
            let err = parse_headers(raw).unwrap_err().to_string();
            assert!(err.contains(want), "{name} (headers): {err}");
        }
        let long_garbage = vec![b'x'; 5000];
        let err = parse(&long_garbage).unwrap_err().to_string();
        assert!(err.len() < 300, "the first line is shortened: {err}");
    }

    #[test]
    fn header_without_body_parses() {
        for raw in [
            &b"From: jane.doe@acme.example\r\nSubject: no body"[..],
            b"From: jane.doe@acme.example\r\nSubject: no body\r\n",
            b"From: jane.doe@acme.example\r\nSubject: no body\r\n\r\n",
        ] {
            let m = parse(raw).unwrap();
            assert_eq!(m.subject, "no body", "{raw:?}");
            assert_eq!(m.text, "");
            assert!(m.attachments.is_empty());
            assert_eq!(m.raw_size, raw.len() as u64);
            assert_eq!(m.text_size, raw.len() as u64);
        }
    }

    #[test]
    fn broken_mime_boundaries_recover_the_text() {
        let cases: &[(&str, Vec<u8>)] = &[
            (
                "boundary never appears",
                mail(&[
                    "From: a@acme.example",
                    "Content-Type: multipart/mixed; boundary=nothere",
                    "",
                    "just text",
                ]),
            ),
            (
                "no closing boundary",
                mail(&[
                    "From: a@acme.example",
                    "Content-Type: multipart/mixed; boundary=b",
                    "",
                    "--b",
                    "Content-Type: text/plain",
                    "",
                    "just text",
                ]),
            ),
            (
                "multipart without boundary parameter",
                mail(&[
                    "From: a@acme.example",
                    "Content-Type: multipart/mixed",
                    "",
                    "just text",
                ]),
            ),
        ];
        for (name, raw) in cases {
            let m = parse(raw).unwrap();
            assert!(m.text.contains("just text"), "{name}: {:?}", m.text);
            assert!(m.text_size <= m.raw_size, "{name}");
        }
        // A broken base64 attachment is kept with its file name.
        let raw = mail(&[
            "From: a@acme.example",
            "Content-Type: multipart/mixed; boundary=XX",
            "",
            "--XX",
            "Content-Type: text/plain",
            "",
            "hello",
            "--XX",
            "Content-Type: application/pdf; name=a.pdf",
            "Content-Transfer-Encoding: base64",
            "",
            "JVBERi0=!!",
        ]);
        let m = parse(&raw).unwrap();
        assert_eq!(m.text, "hello");
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].name, "a.pdf");
    }

    #[test]
    fn undecodable_charsets_are_lossy_not_errors() {
        let raw = b"From: a@acme.example\r\nSubject: =?x-unknown?Q?caf=E9?= \xe9t\xe9\r\n\
Content-Type: text/plain; charset=x-unknown-foo\r\n\r\nh\xe9llo \xff\xfe";
        let m = parse(raw).unwrap();
        assert!(
            m.text.starts_with('h') && m.text.contains("llo"),
            "{:?}",
            m.text
        );
        assert!(!m.subject.is_empty());
        let raw = b"From: a@acme.example\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nM\xfcller";
        assert_eq!(parse(raw).unwrap().text, "Müller");
    }

    #[test]
    fn m22_legacy_multi_byte_charsets_decode_subject_names_and_text() {
        // Issue 15: these came out as U+FFFD without mail-parser's full_encoding.
        let cases: &[(&str, &str, &str)] = &[
            ("GB2312", "suLK1NPKvP4=", "测试邮件"),
            ("Big5", "tPq41bZspfM=", "測試郵件"),
            ("Shift_JIS", "g2WDWINn", "テスト"),
            ("EUC-KR", "vcPH6A==", "시험"),
            ("KOI8-R", "8NLJ18XU", "Привет"),
            ("ISO-2022-JP", "GyRCMnE1RBsoQg==", "会議"),
        ];
        for (charset, b64, want) in cases {
            let raw = mail(&[
                &format!("From: =?{charset}?B?{b64}?= <a@acme.example>"),
                &format!("Subject: =?{charset}?B?{b64}?="),
                &format!("Content-Type: text/plain; charset={charset}"),
                "Content-Transfer-Encoding: base64",
                "",
                b64,
            ]);
            let m = parse(&raw).unwrap();
            assert_eq!(m.subject, *want, "{charset} subject");
            assert_eq!(
                m.from.as_ref().and_then(|a| a.name.as_deref()),
                Some(*want),
                "{charset} name"
            );
            assert_eq!(m.text, *want, "{charset} text");
        }
    }

    #[test]
    fn m22_rfc2231_continuations_join_without_folding_white_space() {
        // Issue 15: a name folded inside its quotes came out as
        // "sygn       . 2Ds" (the indentation of the next line kept).
        let with = |disposition: &str| {
            let raw = mail(&[
                "From: a@acme.example",
                "Content-Type: multipart/mixed; boundary=m",
                "",
                "--m",
                "Content-Type: text/plain",
                "",
                "body",
                "--m",
                "Content-Type: application/octet-stream",
                disposition,
                "",
                "data",
                "--m--",
            ]);
            let m = parse(&raw).unwrap();
            assert_eq!(m.attachments.len(), 1, "{disposition}");
            m.attachments[0].name.clone()
        };
        let cases: &[(&str, &str)] = &[
            (
                "Content-Disposition: attachment;\r\n filename*0*=\"utf-8''sygn\r\n       . 2Ds\"",
                "sygn . 2Ds",
            ),
            (
                "Content-Disposition: attachment;\r\n filename*0=\"sygn\r\n       . 2Ds\"",
                "sygn . 2Ds",
            ),
            (
                "Content-Disposition: attachment;\r\n filename=\"sygn\r\n\t. 2Ds\"",
                "sygn . 2Ds",
            ),
            // Continuations folded between parameters, as RFC 2231 means them.
            (
                "Content-Disposition: attachment;\r\n filename*0=\"sygn\";\r\n       filename*1=\" . 2Ds\"",
                "sygn . 2Ds",
            ),
            (
                "Content-Disposition: attachment;\r\n\tfilename*0*=ISO-8859-2''Umow%B3a;\r\n\tfilename*1*=%20nr%201.pdf",
                "Umowła nr 1.pdf",
            ),
            // Spaces that are part of an unfolded name stay.
            (
                "Content-Disposition: attachment; filename=\"two  spaces.pdf\"",
                "two  spaces.pdf",
            ),
        ];
        for (disposition, want) in cases {
            assert_eq!(with(disposition), *want, "{disposition}");
        }
    }

    #[test]
    fn ten_thousand_recipients() {
        let to: Vec<String> = (0..10_000)
            .map(|i| format!("user{i}@acme.example"))
            .collect();
        let header = format!("To: {}", to.join(", "));
        let raw = mail(&["From: a@acme.example", &header, "Subject: many", "", "b"]);
        let m = parse(&raw).unwrap();
        assert_eq!(m.to.len(), 10_000);
        assert_eq!(m.to[9_999].address, "user9999@acme.example");
        assert_eq!(parse_headers(&raw).unwrap().to.len(), 10_000);
    }

    #[test]
    fn one_megabyte_subject() {
        let subject = format!("Subject: {}", "ab ".repeat(350_000));
        let raw = mail(&["From: a@acme.example", &subject, "", "b"]);
        let m = parse(&raw).unwrap();
        assert_eq!(m.subject.len(), "ab ".repeat(350_000).trim().len());
        assert_eq!(m.text, "b\n");
    }

    #[test]
    fn crlf_and_lf_mails_give_the_same_text() {
        let crlf = mail(PLAIN);
        let lf = PLAIN.join("\n").into_bytes();
        assert_eq!(
            parse(&crlf).unwrap().text.trim_end(),
            parse(&lf).unwrap().text
        );
    }

    #[test]
    fn never_panics_on_truncated_or_random_input() {
        let full = pdf_mail();
        for end in 0..full.len() {
            let _ = parse(&full[..end]);
            let _ = parse_headers(&full[..end]);
        }
        // Deterministic pseudo-random bytes, some with mail-like lines.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for round in 0..300 {
            let len = (round * 7) % 400;
            let mut raw: Vec<u8> = if round % 3 == 0 {
                b"From: a@acme.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                    .to_vec()
            } else {
                Vec::new()
            };
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                raw.push((x >> 24) as u8);
            }
            let _ = parse(&raw);
            let _ = parse_headers(&raw);
        }
    }

    #[test]
    fn header_block_len_table() {
        let cases: &[(&[u8], Option<usize>)] = &[
            (b"A: 1\r\n\r\nbody", Some(8)),
            (b"A: 1\n\nbody", Some(6)),
            (b"A: 1\n", None),
            (b"\n", Some(1)),
            (b"", None),
        ];
        for (raw, want) in cases {
            assert_eq!(header_block_len(raw), *want, "{raw:?}");
        }
    }
}
