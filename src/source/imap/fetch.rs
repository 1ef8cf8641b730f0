//! FETCH for [`ImapSource`]: bodies and headers by `UID FETCH` in batches
//! of compressed UID sets, each answer read by [`FetchReader`] by literal
//! length on the session's own stream (the `imap` crate re-parses a
//! response after every line; docs/PERFORMANCE.md), within the bounds of
//! X12: no line over [`LINE_MAX`], no literal over what its message was
//! announced at ([`literal_allowed`]), the literals of a batch within
//! their sum. Mails larger than `max_size` are not fetched whole but
//! outlined (M4, see `outline`). Also the fuzz entry for the reader.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::time::Duration;

use super::answers::{literal_len, strip_prefix_ci};
use super::conn::Clock;
use super::wire::{ANSWER_MAX, Bound, LINE_MAX, Stream, Wire};
use super::{
    FETCH_BATCH_BYTES, FETCH_BATCH_MESSAGES, HEADER_BATCH_MESSAGES, ImapSource, in_folder,
};
use crate::source::mail::{MsgRef, SourceError};

impl ImapSource {
    /// Streams bodies or headers in batches (see [`MailSource::fetch`]).
    pub(super) fn fetch_batched(
        &mut self,
        folder: &str,
        ids: &[MsgRef],
        part: Part,
        sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
    ) -> Result<(), SourceError> {
        let mut refs = with_uids(folder, ids)?;
        if refs.is_empty() {
            return Ok(());
        }
        refs.sort_by_key(|(uid, _)| *uid);
        refs.dedup_by_key(|(uid, _)| *uid);
        self.ensure_open(folder, false)?;
        let (max_messages, max_bytes) = match part {
            Part::Body => (FETCH_BATCH_MESSAGES, FETCH_BATCH_BYTES),
            Part::Header => (HEADER_BATCH_MESSAGES, u64::MAX),
        };
        for batch in batches(&refs, max_messages, max_bytes) {
            self.fetch_batch(folder, batch, part, sink)?;
        }
        Ok(())
    }

    fn fetch_batch(
        &mut self,
        folder: &str,
        batch: &[(u32, &MsgRef)],
        part: Part,
        sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
    ) -> Result<(), SourceError> {
        let uids: Vec<u32> = batch.iter().map(|(uid, _)| *uid).collect();
        let set = uid_set(&uids);
        let cmd = format!("UID FETCH {} {}", short(&set), part.query());
        self.usable(folder, &cmd)?;
        match self.raw_fetch(&set, part, &Literals::of(batch)) {
            Ok(fetched) => deliver(fetched, batch, sink),
            // X12: a literal over what the server announced; the rest of
            // the answer is not read.
            Err(Raw::Refused(why)) => {
                self.raw.shutdown();
                let detail = format!(
                    "{cmd} on {}: {why}; nothing of this batch was imported and the connection was closed",
                    self.addr
                );
                self.broken = Some(detail.clone());
                self.open = None;
                Err(SourceError::Other(format!("{}{detail}", in_folder(folder))))
            }
            // Some message of the batch vanished (Dovecot: NO [EXPUNGEISSUED]
            // after sending the others): one by one, skipping the vanished.
            Err(Raw::No(_)) if batch.len() > 1 => {
                for one in batch {
                    self.fetch_batch(folder, std::slice::from_ref(one), part, sink)?;
                }
                Ok(())
            }
            Err(Raw::No(info)) => {
                let uid = uids[0];
                // Expunged by another session, but still numbered in ours.
                let expunged = info.to_ascii_uppercase().contains("EXPUNGEISSUED");
                if !expunged && self.uid_exists(folder, uid)? {
                    Err(SourceError::Folder {
                        folder: folder.to_string(),
                        detail: format!("{cmd} on {}: the server said NO: {info}", self.addr),
                    })
                } else {
                    Ok(()) // vanished meanwhile
                }
            }
            Err(Raw::Bad(info)) => Err(SourceError::Folder {
                folder: folder.to_string(),
                detail: format!("{cmd} on {}: the server said BAD: {info}", self.addr),
            }),
            Err(Raw::Io(e)) => Err(self.fail(folder, &cmd, e)),
        }
    }

    /// `UID FETCH set (UID BODY.PEEK[])` (or the header), sent through the
    /// session but answered through [`FetchReader`]: the `imap` crate reads
    /// a response line by line and parses it again from its start after
    /// every line, some 600 times for a 45 KB message (41 % of a cold
    /// import's CPU, docs/PERFORMANCE.md); this reads each literal by its
    /// length in one go. Returns (UID, data) in the server's order.
    fn raw_fetch(
        &mut self,
        set: &str,
        part: Part,
        limits: &Literals,
    ) -> Result<Vec<(u32, Vec<u8>)>, Raw> {
        self.session
            .run_command(format!("UID FETCH {set} {}", part.query()))
            .map_err(Raw::Io)?;
        // X12: the literals are bounded one by one below; the lines
        // between them by LINE_MAX, all of it by this.
        self.raw.allow_now(limits.total.saturating_add(ANSWER_MAX));
        let mut reader = FetchReader::new(&self.raw, limits);
        let result = reader.read_fetch();
        reader.finish();
        result
    }

    /// Whether a UID is still in the open folder.
    fn uid_exists(&mut self, folder: &str, uid: u32) -> Result<bool, SourceError> {
        let cmd = format!("UID SEARCH UID {uid}");
        match self.session.uid_search(format!("UID {uid}")) {
            Ok(found) => Ok(found.contains(&uid)),
            Err(e) => Err(self.fail(folder, &cmd, e)),
        }
    }
}

/// What [`ImapSource::fetch_batched`] fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    Body,
    Header,
}

impl Part {
    fn query(self) -> &'static str {
        match self {
            Part::Body => "(UID BODY.PEEK[])",
            Part::Header => "(UID BODY.PEEK[HEADER])",
        }
    }
}

/// Hands each fetched message of `batch` to the sink, once, in the order
/// the server sent them; unsolicited FETCH responses (flag changes of other
/// messages) and messages without data are passed over.
pub(super) fn deliver(
    fetched: Vec<(u32, Vec<u8>)>,
    batch: &[(u32, &MsgRef)],
    sink: &mut dyn FnMut(&MsgRef, Vec<u8>) -> anyhow::Result<()>,
) -> Result<(), SourceError> {
    let mut done: HashSet<u32> = HashSet::new();
    for (uid, data) in fetched {
        let Ok(i) = batch.binary_search_by_key(&uid, |(u, _)| *u) else {
            continue;
        };
        if !done.insert(uid) {
            continue;
        }
        sink(batch[i].1, data).map_err(|e| SourceError::Other(format!("{e:#}")))?;
    }
    Ok(())
}

/// How a FETCH read by [`FetchReader`] ended, when not with OK.
#[derive(Debug)]
pub(super) enum Raw {
    No(String),
    Bad(String),
    /// The connection failed (lost, timed out, BYE, garbage, a bound of
    /// [`Bound`]): as the crate says it, for [`ImapSource::fail`].
    Io(imap::Error),
    /// X12: a literal larger than its message was announced; why, naming
    /// the UID.
    Refused(String),
}

/// X12: the margin over a message's announced size (RFC822.SIZE) that
/// its literal may have: half as much again plus 64 KiB (for servers that
/// count line ends short, or a header added in between).
pub fn literal_allowed(announced: u64) -> u64 {
    announced
        .saturating_add(announced / 2)
        .saturating_add(64 << 10)
}

/// X12: what the literals of one FETCH answer may hold.
#[derive(Debug, Clone)]
pub(super) struct Literals {
    /// The UIDs asked for with their announced sizes; None: any UID (the
    /// fuzz target).
    announced: Option<HashMap<u32, u64>>,
    /// A literal whose UID is not known yet (or was not asked for) may
    /// have this much: [`literal_allowed`] of the largest announced.
    fallback: u64,
    /// All literals of the answer together.
    total: u64,
}

impl Literals {
    fn of(batch: &[(u32, &MsgRef)]) -> Literals {
        let announced: HashMap<u32, u64> = batch.iter().map(|(u, m)| (*u, m.size)).collect();
        let largest = announced.values().copied().max().unwrap_or(0);
        Literals {
            fallback: literal_allowed(largest),
            total: announced
                .values()
                .fold(0u64, |t, &s| t.saturating_add(literal_allowed(s))),
            announced: Some(announced),
        }
    }

    pub(super) fn any(limit: u64) -> Literals {
        Literals {
            announced: None,
            fallback: limit,
            total: limit,
        }
    }

    fn wanted(&self, uid: u32) -> bool {
        self.announced.as_ref().is_none_or(|a| a.contains_key(&uid))
    }
}

/// Reads one FETCH command's answer from the session's stream: lines, and
/// each literal by its announced length (docs/PERFORMANCE.md, issue 8),
/// within the bounds of X12: no line over [`LINE_MAX`], no literal over
/// what its message was announced at ([`literal_allowed`]), and only the
/// first data of each UID asked for is kept.
/// Bytes read past the tagged completion go back to the stream.
pub(super) struct FetchReader<'a> {
    stream: &'a Stream,
    buf: Vec<u8>,
    pos: usize,
    limits: &'a Literals,
    /// What the literals may still take in all.
    left: u64,
}

/// Read size: large enough that a 45 KB message is a few reads.
pub(super) const READ_CHUNK: usize = 256 * 1024;

/// The largest literal [`FetchReader`] takes whatever was announced (mails
/// are fetched whole only below `max_size`, M4; larger ones are outlined).
pub(super) const MAX_LITERAL: usize = 1 << 31;

impl<'a> FetchReader<'a> {
    pub(super) fn new(stream: &'a Stream, limits: &'a Literals) -> FetchReader<'a> {
        FetchReader {
            stream,
            buf: Vec::new(),
            pos: 0,
            limits,
            left: limits.total,
        }
    }

    /// More bytes from the wire (what was consumed is dropped first, so
    /// offsets from `pos` stay valid); ConnectionLost at its end.
    fn fill(&mut self) -> Result<(), Raw> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + READ_CHUNK, 0);
        let mut s = self.stream.clone();
        let n = loop {
            match s.read(&mut self.buf[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(start);
                    return Err(Raw::Io(imap::Error::Io(e)));
                }
            }
        };
        self.buf.truncate(start + n);
        if n == 0 {
            return Err(Raw::Io(imap::Error::ConnectionLost));
        }
        Ok(())
    }

    /// One line, with its CRLF; X12: at most [`LINE_MAX`] bytes.
    fn line(&mut self) -> Result<Vec<u8>, Raw> {
        // Bytes after `pos` already searched for the line end.
        let mut scanned = 0;
        loop {
            let from = self.pos + scanned;
            if let Some(nl) = self.buf[from..].iter().position(|&b| b == b'\n') {
                let end = from + nl + 1;
                if end - self.pos > LINE_MAX {
                    return Err(line_too_long());
                }
                let line = self.buf[self.pos..end].to_vec();
                self.pos = end;
                return Ok(line);
            }
            scanned = self.buf.len() - self.pos;
            if scanned > LINE_MAX {
                return Err(line_too_long());
            }
            self.fill()?;
        }
    }

    /// Exactly `n` bytes. The capacity grows with what arrives: a
    /// literal announced as `{999999999999}` is not an allocation.
    fn bytes(&mut self, n: usize) -> Result<Vec<u8>, Raw> {
        let mut out = Vec::with_capacity(n.min(READ_CHUNK * 64));
        loop {
            let take = (n - out.len()).min(self.buf.len() - self.pos);
            out.extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            if out.len() == n {
                return Ok(out);
            }
            self.fill()?;
        }
    }

    /// Reads past `n` bytes (a literal not kept).
    fn skip(&mut self, mut n: usize) -> Result<(), Raw> {
        loop {
            let take = n.min(self.buf.len() - self.pos);
            self.pos += take;
            n -= take;
            if n == 0 {
                return Ok(());
            }
            self.fill()?;
        }
    }

    /// X12: refuses a literal of `n` bytes announced after `text` (the
    /// response so far) when it is larger than its message was announced,
    /// before any of it is read.
    fn check_literal(&mut self, text: &[u8], n: usize) -> Result<(), Raw> {
        let n64 = n as u64;
        let uid = fetch_uid(&text.to_ascii_uppercase());
        let announced = uid.and_then(|u| self.limits.announced.as_ref()?.get(&u).copied());
        let limit = announced.map_or(self.limits.fallback, literal_allowed);
        let what = match (uid, announced) {
            (Some(u), Some(a)) => format!(
                "UID {u}: the server announced {a} bytes (RFC822.SIZE) but sends a literal of {n} bytes for it"
            ),
            (Some(u), None) => {
                format!("UID {u}, not asked for: the server sends a literal of {n} bytes")
            }
            (None, _) => format!("the server sends a literal of {n} bytes before naming its UID"),
        };
        if n > MAX_LITERAL || n64 > limit {
            return Err(Raw::Refused(format!(
                "{what}, more than the {} bytes crmsync takes (X12): a broken or hostile server; \
                 look at this message on the server (move it out of the imported folders) or ask \
                 the server's administrator; the next run tries it again",
                limit.min(MAX_LITERAL as u64)
            )));
        }
        if n64 > self.left {
            return Err(Raw::Refused(format!(
                "{what}; the answer's literals add up to more than the {} bytes crmsync takes \
                 for this batch (X12): a broken or hostile server; ask the server's administrator",
                self.limits.total
            )));
        }
        self.left -= n64;
        Ok(())
    }

    /// One whole response: its text without the literals, and its first
    /// literal (the others are read past).
    fn response(&mut self) -> Result<(Vec<u8>, Option<Vec<u8>>), Raw> {
        let mut text = Vec::new();
        let mut first = None;
        loop {
            let line = self.line()?;
            let trimmed = line.strip_suffix(b"\n").unwrap_or(&line);
            let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
            if text.len() + trimmed.len() > LINE_MAX {
                return Err(line_too_long());
            }
            match literal_len(trimmed) {
                Some(n) => {
                    let open = trimmed.iter().rposition(|&b| b == b'{').unwrap_or(0);
                    text.extend_from_slice(&trimmed[..open]);
                    text.extend_from_slice(b"{}");
                    self.check_literal(&text, n)?;
                    if first.is_none() {
                        first = Some(self.bytes(n)?);
                    } else {
                        self.skip(n)?;
                    }
                }
                None => {
                    text.extend_from_slice(trimmed);
                    return Ok((text, first));
                }
            }
        }
    }

    /// The FETCH answers up to the tagged completion: (UID, first literal)
    /// of each UID asked for, once.
    fn read_fetch(&mut self) -> Result<Vec<(u32, Vec<u8>)>, Raw> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        loop {
            let (text, literal) = self.response()?;
            if let Some(rest) = text.strip_prefix(b"* ") {
                if strip_prefix_ci(rest, b"BYE").is_some() {
                    return Err(Raw::Io(imap::Error::ConnectionLost));
                }
                let upper = rest.to_ascii_uppercase();
                let is_fetch = upper.windows(7).any(|w| w == b" FETCH ");
                if is_fetch
                    && let Some(uid) = fetch_uid(&upper)
                    && self.limits.wanted(uid)
                {
                    let data = match literal {
                        Some(l) => Some(l),
                        None if upper.windows(4).any(|w| w == b"] \"\"") => Some(Vec::new()),
                        None => None,
                    };
                    if let Some(data) = data
                        && seen.insert(uid)
                    {
                        out.push((uid, data));
                    }
                }
                continue;
            }
            if text.starts_with(b"+") {
                return Err(Raw::Io(imap::Error::ConnectionLost));
            }
            // The tagged completion: `<tag> OK|NO|BAD text`.
            let mut parts = text.splitn(3, |&b| b == b' ');
            let _tag = parts.next();
            let status = parts.next().unwrap_or_default().to_ascii_uppercase();
            let info = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
            return match status.as_slice() {
                b"OK" => Ok(out),
                b"NO" => Err(Raw::No(info)),
                b"BAD" => Err(Raw::Bad(info)),
                _ => Err(Raw::Bad(String::from_utf8_lossy(&text).into_owned())),
            };
        }
    }

    /// Every untagged response up to the tagged completion, bytes as the
    /// server sent them (literals inline), for [`ImapSource::raw_command`].
    pub(super) fn read_untagged(&mut self) -> Result<Vec<u8>, Raw> {
        let mut out = Vec::new();
        loop {
            let mut resp = Vec::new();
            loop {
                let line = self.line()?;
                resp.extend_from_slice(&line);
                let trimmed = line.strip_suffix(b"\n").unwrap_or(&line);
                let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
                match literal_len(trimmed) {
                    Some(n) => resp.extend_from_slice(&self.bytes(n)?),
                    None => break,
                }
            }
            if let Some(rest) = resp.strip_prefix(b"* ") {
                if strip_prefix_ci(rest, b"BYE").is_some() {
                    return Err(Raw::Io(imap::Error::ConnectionLost));
                }
                out.extend_from_slice(&resp);
                continue;
            }
            if resp.starts_with(b"+") {
                return Err(Raw::Io(imap::Error::ConnectionLost));
            }
            let text = String::from_utf8_lossy(&resp);
            let mut parts = text.trim_end().splitn(3, ' ');
            let _tag = parts.next();
            let status = parts.next().unwrap_or_default().to_ascii_uppercase();
            let info = parts.next().unwrap_or_default().to_string();
            return match status.as_str() {
                "OK" => Ok(out),
                "NO" => Err(Raw::No(info)),
                "BAD" => Err(Raw::Bad(info)),
                _ => Err(Raw::Bad(text.trim_end().to_string())),
            };
        }
    }

    /// Gives what was read past the answer back to the stream.
    pub(super) fn finish(self) {
        self.stream.unread(&self.buf[self.pos..]);
    }
}

/// X12: a line over [`LINE_MAX`], as the connection error it becomes.
pub(super) fn line_too_long() -> Raw {
    Raw::Io(imap::Error::Io(Bound::Line(LINE_MAX).error()))
}

/// Fuzz entry (issue 9): a server's answer to a body FETCH, as bytes,
/// through [`FetchReader`]; an error is fine, a panic is a bug.
#[doc(hidden)]
pub fn fuzz_fetch_answer(data: &[u8]) {
    let clock = Clock::new(Duration::from_secs(60), Duration::from_secs(600));
    let stream = Stream::new(Wire::Memory(io::Cursor::new(data.to_vec())), clock);
    let limits = Literals::any(16 << 20);
    let mut r = FetchReader::new(&stream, &limits);
    let _ = r.read_fetch();
    r.finish();
}

/// The UID of an upper-cased FETCH response text (`... (UID 42 BODY[] {})`).
pub(super) fn fetch_uid(upper: &[u8]) -> Option<u32> {
    let at = upper.windows(4).position(|w| w == b"UID ")?;
    // Not the tail of another atom (e.g. `XUID `).
    if at > 0 && !matches!(upper[at - 1], b'(' | b' ') {
        return None;
    }
    let digits: Vec<u8> = upper[at + 4..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

/// Splits UID-sorted refs into batches of at most `max_messages` and, past
/// the first message, `max_bytes` by RFC822.SIZE.
pub(super) fn batches<'a, 'b>(
    refs: &'a [(u32, &'b MsgRef)],
    max_messages: usize,
    max_bytes: u64,
) -> Vec<&'a [(u32, &'b MsgRef)]> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < refs.len() {
        let mut end = start;
        let mut bytes = 0u64;
        while end < refs.len()
            && end - start < max_messages.max(1)
            && (end == start || bytes.saturating_add(refs[end].1.size) <= max_bytes)
        {
            bytes = bytes.saturating_add(refs[end].1.size);
            end += 1;
        }
        out.push(&refs[start..end]);
        start = end;
    }
    out
}

/// The UIDs of these refs (the UID, else the id parsed as one).
pub(super) fn with_uids<'a>(
    folder: &str,
    ids: &'a [MsgRef],
) -> Result<Vec<(u32, &'a MsgRef)>, SourceError> {
    ids.iter()
        .map(|r| match r.uid.or_else(|| r.id.parse().ok()) {
            Some(uid) if uid > 0 => Ok((uid, r)),
            _ => Err(SourceError::Other(format!(
                "{}message `{}` has no IMAP UID (is it from a Maildir?)",
                in_folder(folder),
                r.id
            ))),
        })
        .collect()
}

/// Sorted, de-duplicated UIDs.
pub(super) fn sorted_uids(folder: &str, ids: &[MsgRef]) -> Result<Vec<u32>, SourceError> {
    let mut uids: Vec<u32> = with_uids(folder, ids)?
        .into_iter()
        .map(|(u, _)| u)
        .collect();
    uids.sort_unstable();
    uids.dedup();
    Ok(uids)
}

/// A UID set for messages: `1:50,53`.
pub(super) fn short(set: &str) -> String {
    const MAX: usize = 40;
    if set.len() <= MAX {
        return set.to_string();
    }
    let cut = set[..MAX].rfind(',').unwrap_or(MAX);
    format!("{},...", &set[..cut])
}

/// Compresses sorted, de-duplicated UIDs into an IMAP set: `1:50,53`.
pub(super) fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end.wrapping_add(1) {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end == start {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};

    use super::*;
    use crate::source::imap::conn::Timed;

    /// A Stream over loopback TCP whose peer sends `answer`.
    fn answered(answer: &'static [u8]) -> Stream {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(answer).unwrap();
            std::thread::sleep(Duration::from_millis(200));
        });
        plain(TcpStream::connect(addr).unwrap())
    }

    /// A Stream over a plain socket, with `timeout = 5` and `deadline = 60`.
    fn plain(tcp: TcpStream) -> Stream {
        let clock = Clock::new(Duration::from_secs(5), Duration::from_secs(60));
        Stream::new(Wire::Plain(Timed::new(tcp, clock.clone())), clock)
    }

    /// Any UID, literals up to 1 MiB.
    fn any() -> Literals {
        Literals::any(1 << 20)
    }

    #[test]
    fn fetch_reader_reads_literals_by_length_and_gives_back_what_follows() {
        let stream = answered(
            b"* 1 FETCH (UID 7 BODY[] {12}\r\nline1\r\nline2)\r\n\
              * 2 FETCH (FLAGS (\\Seen))\r\n\
              * 3 EXPUNGE\r\n\
              * 4 FETCH (BODY[] {3}\r\n{1}  UID 9)\r\n\
              * 5 FETCH (UID 11 BODY[] \"\")\r\n\
              a5 OK Fetch completed.\r\n* 6 EXISTS\r\n",
        );
        let limits = any();
        let mut r = FetchReader::new(&stream, &limits);
        let got = r.read_fetch().unwrap();
        r.finish();
        assert_eq!(
            got,
            vec![
                (7, b"line1\r\nline2".to_vec()),
                (9, b"{1}".to_vec()),
                (11, Vec::new())
            ]
        );
        // What came after the completion is read next by the session.
        let mut rest = [0u8; 32];
        let n = stream.clone().read(&mut rest).unwrap();
        assert_eq!(&rest[..n], b"* 6 EXISTS\r\n");
    }

    /// The answer in pieces, each its own read: line ends, literals and
    /// the completion fall on read boundaries (the bench found this: 6,520
    /// of 10,000 mails, then a base64 line taken for the completion).
    #[test]
    fn fetch_reader_survives_every_read_boundary() {
        let answer: &[u8] = b"* 1 FETCH (UID 7 BODY[] {12}\r\nline1\r\nline2)\r\n* 2 FETCH (UID 8 BODY[] {3}\r\nabc)\r\na9 OK done\r\n";
        for cut in 1..answer.len() {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = l.local_addr().unwrap();
            let server = std::thread::spawn(move || {
                let (mut s, _) = l.accept().unwrap();
                s.set_nodelay(true).unwrap();
                for piece in answer.chunks(cut) {
                    s.write_all(piece).unwrap();
                    std::thread::sleep(Duration::from_millis(2));
                }
            });
            let stream = plain(TcpStream::connect(addr).unwrap());
            let got = FetchReader::new(&stream, &any()).read_fetch().unwrap();
            assert_eq!(
                got,
                vec![(7, b"line1\r\nline2".to_vec()), (8, b"abc".to_vec())],
                "pieces of {cut}"
            );
            server.join().unwrap();
        }
    }

    #[test]
    fn fetch_reader_reports_no_bad_and_a_cut_connection() {
        let read = |answer: &'static [u8]| {
            FetchReader::new(&answered(answer), &Literals::any(1 << 31)).read_fetch()
        };
        assert!(
            matches!(read(b"a1 NO [EXPUNGEISSUED] Some gone\r\n"), Err(Raw::No(m)) if m.contains("EXPUNGEISSUED"))
        );
        assert!(matches!(
            read(b"a1 BAD Error in IMAP command\r\n"),
            Err(Raw::Bad(_))
        ));
        assert!(matches!(
            read(b"* 1 FETCH (UID 7 BODY[] {100}\r\nonly a part"),
            Err(Raw::Io(imap::Error::ConnectionLost))
        ));
        assert!(matches!(read(b"* BYE shutting down\r\n"), Err(Raw::Io(_))));
        // A hostile announcement is refused, not allocated.
        assert!(matches!(
            read(b"* 1 FETCH (UID 7 BODY[] {999999999999}\r\nx"),
            Err(Raw::Refused(e)) if e.contains("999999999999")
        ));
        // A huge but acceptable one that never comes: the connection ends.
        assert!(matches!(
            read(b"* 1 FETCH (UID 7 BODY[] {2000000000}\r\nx"),
            Err(Raw::Io(imap::Error::ConnectionLost))
        ));
    }

    #[test]
    fn uid_sets_are_compressed_into_ranges() {
        let mut v: Vec<u32> = (1..=50).collect();
        v.push(53);
        assert_eq!(uid_set(&v), "1:50,53");
        assert_eq!(uid_set(&[1, 3, 4, 5, 7]), "1,3:5,7");
        assert_eq!(uid_set(&[9]), "9");
        assert_eq!(uid_set(&[]), "");
        assert_eq!(uid_set(&[u32::MAX - 1, u32::MAX]), "4294967294:4294967295");
        let odd: Vec<u32> = (1..100).step_by(2).collect();
        assert_eq!(
            short(&uid_set(&odd)),
            "1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,..."
        );
        assert_eq!(short("1:50,53"), "1:50,53");
    }

    #[test]
    fn batches_respect_count_and_bytes() {
        let refs: Vec<MsgRef> = (1..=450)
            .map(|u| MsgRef {
                id: u.to_string(),
                uid: Some(u),
                size: if u == 10 { 50 << 20 } else { 1000 },
            })
            .collect();
        let pairs: Vec<(u32, &MsgRef)> = refs.iter().map(|r| (r.uid.unwrap(), r)).collect();
        let b = batches(&pairs, 200, 20 << 20);
        let lens: Vec<usize> = b.iter().map(|x| x.len()).collect();
        // The 50 MB message goes alone; the rest in batches of at most 200.
        assert_eq!(lens, vec![9, 1, 200, 200, 40]);
        assert_eq!(b[1][0].0, 10);
        let b = batches(&pairs[10..20], 200, 3500);
        assert_eq!(
            b.iter().map(|x| x.len()).collect::<Vec<_>>(),
            vec![3, 3, 3, 1]
        );
    }

    #[test]
    fn m21_untagged_answers_are_read_raw_with_literals_and_8bit_bytes() {
        let stream = answered(
            b"* LIST () \"/\" \"Caf\xe9\"\r\n* LIST () \"/\" {3}\r\na b\r\n\
              a7 OK List completed.\r\n* 1 EXISTS\r\n",
        );
        let limits = Literals::any(ANSWER_MAX);
        let mut r = FetchReader::new(&stream, &limits);
        let got = r.read_untagged().unwrap();
        r.finish();
        assert_eq!(
            got,
            b"* LIST () \"/\" \"Caf\xe9\"\r\n* LIST () \"/\" {3}\r\na b\r\n".to_vec()
        );
        let mut rest = [0u8; 32];
        let n = stream.clone().read(&mut rest).unwrap();
        assert_eq!(&rest[..n], b"* 1 EXISTS\r\n");
        let stream = answered(b"a8 NO [CANNOT] nope\r\n");
        let limits = Literals::any(ANSWER_MAX);
        let mut r = FetchReader::new(&stream, &limits);
        assert!(matches!(r.read_untagged(), Err(Raw::No(info)) if info.contains("nope")));
        let stream = answered(b"* BYE shutting down\r\n");
        let limits = Literals::any(ANSWER_MAX);
        let mut r = FetchReader::new(&stream, &limits);
        assert!(matches!(r.read_untagged(), Err(Raw::Io(_))));
    }

    #[test]
    fn x12_fetch_reader_bounds_lines_literals_and_their_sum() {
        // A line without end: refused after LINE_MAX, not read whole.
        let endless = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = l.local_addr().unwrap();
            std::thread::spawn(move || {
                let (mut s, _) = l.accept().unwrap();
                let chunk = vec![b'a'; 64 << 10];
                let _ = s.write_all(b"* 1 FETCH (UID 1 BODY[] \"");
                while s.write_all(&chunk).is_ok() {}
            });
            plain(TcpStream::connect(addr).unwrap())
        };
        let limits = any();
        let e = FetchReader::new(&endless, &limits)
            .read_fetch()
            .unwrap_err();
        assert!(
            matches!(&e, Raw::Io(imap::Error::Io(io)) if Bound::of(io) == Some(&Bound::Line(LINE_MAX))),
            "{e:?}"
        );
        // Per UID: its announced size and the margin.
        let m = |uid: u32, size: u64| MsgRef {
            id: uid.to_string(),
            uid: Some(uid),
            size,
        };
        let (a, b) = (m(1, 1000), m(2, 200_000));
        let batch = [(1, &a), (2, &b)];
        let limits = Literals::of(&batch);
        assert_eq!(limits.fallback, literal_allowed(200_000));
        assert_eq!(literal_allowed(1000), 1000 + 500 + 65536);
        let over = literal_allowed(1000) + 1;
        let answer = format!("* 1 FETCH (UID 1 BODY[] {{{over}}}\r\n");
        let s = answered(Box::leak(answer.into_boxed_str()).as_bytes());
        let e = FetchReader::new(&s, &limits).read_fetch().unwrap_err();
        assert!(
            matches!(&e, Raw::Refused(t) if t.contains("UID 1: the server announced 1000 bytes")),
            "{e:?}"
        );
        // UID 2 may be larger; unasked UIDs and second copies are not kept.
        let s = answered(
            b"* 1 FETCH (UID 2 BODY[] {3}\r\nabc)\r\n* 2 FETCH (UID 2 BODY[] {3}\r\nxyz)\r\n\
              * 3 FETCH (UID 99 BODY[] {3}\r\nzzz)\r\na1 OK done\r\n",
        );
        let got = FetchReader::new(&s, &limits).read_fetch().unwrap();
        assert_eq!(got, vec![(2, b"abc".to_vec())]);
        // The sum: many literals, each within its bound, over the batch's total.
        let small = [(1, &a)];
        let limits = Literals::of(&small);
        let mut answer = String::new();
        for _ in 0..3 {
            answer.push_str(&format!(
                "* 1 FETCH (UID 1 BODY[] {{40000}}\r\n{})\r\n",
                "x".repeat(40000)
            ));
        }
        let s = answered(Box::leak(answer.into_boxed_str()).as_bytes());
        let e = FetchReader::new(&s, &limits).read_fetch().unwrap_err();
        assert!(
            matches!(&e, Raw::Refused(t) if t.contains("add up to more than")),
            "{e:?}"
        );
    }
}
