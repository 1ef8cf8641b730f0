//! A loopback-only TCP fault proxy of the project's own (issue 9, X5): it
//! forwards byte for byte between crmsync and a test server (Dovecot,
//! Radicale, BottleCRM) and, when armed, injects one fault:
//!
//! - [`Fault::Cut`]: close both connections a number of bytes after the n-th
//!   occurrence of a pattern in one direction (`FETCH (UID` from the server:
//!   mid-FETCH; `PUT ` from the client: mid-PUT; `HTTP/1.1 ` from the
//!   server: mid-response);
//! - [`Fault::Stall`]: the same trigger, but the connection stays open and
//!   silent (nothing more is forwarded either way): a hung server;
//! - [`Fault::Delay`]: every chunk in both directions waits this long;
//! - [`Fault::Rewrite`]: every occurrence of a byte string in a line flowing
//!   one way is replaced (a real server's answer made into one it could
//!   send: a LIST line with a name that is not modified UTF-7, issue 15).
//!
//! - [`Fault::Answer`]: a hostile server (X12, X13): when crmsync sends a
//!   command matching a pattern, the command never reaches the real server
//!   and the proxy answers it itself with a [`Hostile`] answer (a literal
//!   far larger than announced, an endless line, a trickle).
//!
//! A cut or stall fires once, then the proxy passes everything through
//! again. It counts connections and keeps what the client sent (up to
//! 4 MB), so tests can count `LOGIN` commands (X2).
#![allow(dead_code)] // a toolbox: not every helper is used by every test

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::harness::HOST;

/// Which way bytes flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// crmsync to the server (requests, IMAP commands, PUT bodies).
    Up,
    /// The server to crmsync (responses, FETCH data).
    Down,
}

/// What to do when the trigger is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Cut,
    Stall,
}

/// The fault to inject (one at a time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    None,
    /// `then` bytes after the start of the `nth` (1-based) occurrence of
    /// `pattern` flowing `dir`, counted over all connections.
    At {
        dir: Dir,
        pattern: Vec<u8>,
        nth: usize,
        then: usize,
        action: Action,
    },
    /// Every chunk waits this long before it is forwarded.
    Delay(Duration),
    /// Every `from` in a line flowing `dir` becomes `to`, until disarmed.
    /// Lines are held until their LF (IMAP answers end in CRLF before the
    /// server waits), so an occurrence split over two reads is still found.
    Rewrite {
        dir: Dir,
        from: Vec<u8>,
        to: Vec<u8>,
    },
    /// The first command from crmsync containing `pattern` is answered
    /// by the proxy with `answer`; the real server's output is dropped
    /// from then on, on that connection.
    Answer {
        pattern: Vec<u8>,
        answer: Hostile,
    },
}

/// What a hostile server sends (issue 16 item 4). `{uid}` in a prefix
/// becomes the first UID of the command answered (`UID FETCH <uid>...`).
/// After sending, the connection stays open and silent until crmsync
/// closes it (or 120 s pass).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hostile {
    /// `prefix`, then `send` bytes of 78-character lines with CRLF (a
    /// literal body), as fast as crmsync reads them.
    Bytes { prefix: String, send: u64 },
    /// `prefix`, then `send` bytes of ` 1234567` without a line end.
    Line { prefix: String, send: u64 },
    /// `prefix`, then one byte of `x` every `every`, for at most `for_at_most`.
    Trickle {
        prefix: String,
        every: Duration,
        for_at_most: Duration,
    },
}

impl Fault {
    pub fn answer(pattern: &str, answer: Hostile) -> Fault {
        Fault::Answer {
            pattern: pattern.as_bytes().to_vec(),
            answer,
        }
    }
}

impl Fault {
    pub fn rewrite(dir: Dir, from: &[u8], to: &[u8]) -> Fault {
        assert!(
            !from.is_empty() && !from.contains(&b'\n'),
            "a rewrite pattern is part of one line"
        );
        Fault::Rewrite {
            dir,
            from: from.to_vec(),
            to: to.to_vec(),
        }
    }
    pub fn cut(dir: Dir, pattern: &str, nth: usize, then: usize) -> Fault {
        Fault::At {
            dir,
            pattern: pattern.as_bytes().to_vec(),
            nth,
            then,
            action: Action::Cut,
        }
    }
    pub fn stall(dir: Dir, pattern: &str, nth: usize, then: usize) -> Fault {
        Fault::At {
            dir,
            pattern: pattern.as_bytes().to_vec(),
            nth,
            then,
            action: Action::Stall,
        }
    }
}

#[derive(Default)]
struct Shared {
    fault: Mutex<FaultState>,
    connections: AtomicUsize,
    injected: AtomicUsize,
    sent_up: Mutex<Vec<u8>>,
    stop: AtomicBool,
}

struct FaultState {
    fault: Fault,
    /// Occurrences of the pattern seen so far.
    seen: usize,
    /// Bytes still to forward once the trigger occurrence was seen.
    left: Option<usize>,
}

impl Default for FaultState {
    fn default() -> Self {
        FaultState {
            fault: Fault::None,
            seen: 0,
            left: None,
        }
    }
}

/// A running proxy; stops accepting when dropped (open connections end
/// with the test process).
pub struct FaultProxy {
    pub port: u16,
    shared: Arc<Shared>,
}

const KEEP_UP: usize = 4 << 20;

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> FaultProxy {
        let listener = TcpListener::bind((HOST, 0)).expect("bind the fault proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let shared = Arc::new(Shared::default());
        let sh = Arc::clone(&shared);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sh.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = conn else { continue };
                sh.connections.fetch_add(1, Ordering::SeqCst);
                let sh = Arc::clone(&sh);
                std::thread::spawn(move || {
                    let _ = serve(client, upstream, &sh);
                });
            }
        });
        FaultProxy { port, shared }
    }

    /// Arms a fault (resets the pattern count).
    pub fn set(&self, fault: Fault) {
        let mut st = self.shared.fault.lock().unwrap_or_else(|e| e.into_inner());
        *st = FaultState {
            fault,
            seen: 0,
            left: None,
        };
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Cuts and stalls fired so far.
    pub fn injected(&self) -> usize {
        self.shared.injected.load(Ordering::SeqCst)
    }

    /// Everything crmsync sent (capped at 4 MB).
    pub fn sent_up(&self) -> Vec<u8> {
        self.shared
            .sent_up
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Occurrences of `needle` (ASCII case-insensitive) in what crmsync sent.
    pub fn count_up(&self, needle: &str) -> usize {
        let hay = self.sent_up().to_ascii_uppercase();
        let needle = needle.to_ascii_uppercase();
        let n = needle.as_bytes();
        hay.windows(n.len()).filter(|w| *w == n).count()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect((HOST, self.port));
    }
}

fn serve(client: TcpStream, upstream: u16, sh: &Arc<Shared>) -> io::Result<()> {
    let server = TcpStream::connect((HOST, upstream))?;
    let closed = Arc::new(AtomicBool::new(false));
    // Set when the proxy answers in the server's place (Fault::Answer).
    let muted = Arc::new(AtomicBool::new(false));
    let (c2, s2) = (client.try_clone()?, server.try_clone()?);
    let (sh2, closed2, muted2) = (Arc::clone(sh), Arc::clone(&closed), Arc::clone(&muted));
    let down = std::thread::spawn(move || pump(s2, c2, Dir::Down, &sh2, &closed2, &muted2));
    pump(client, server, Dir::Up, sh, &closed, &muted);
    let _ = down.join();
    Ok(())
}

/// The hostile answer due for this chunk from crmsync, if any (disarms
/// the fault), with the first UID of the command.
fn hostile_for(sh: &Shared, chunk: &[u8]) -> Option<(Hostile, String)> {
    let mut st = sh.fault.lock().unwrap_or_else(|e| e.into_inner());
    let Fault::Answer { pattern, answer } = &st.fault else {
        return None;
    };
    if !chunk
        .windows(pattern.len())
        .any(|w| w == pattern.as_slice())
    {
        return None;
    }
    let answer = answer.clone();
    st.fault = Fault::None;
    sh.injected.fetch_add(1, Ordering::SeqCst);
    let text = String::from_utf8_lossy(chunk);
    let uid = text
        .find("UID FETCH ")
        .map(|at| {
            text[at + 10..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .unwrap_or_default();
    Some((answer, uid))
}

/// Sends a hostile answer to crmsync until it is done or crmsync hangs
/// up, then holds the connection silent until crmsync closes it (or 10
/// minutes pass).
fn play(to: &mut TcpStream, answer: &Hostile, uid: &str, closed: &AtomicBool) {
    let t0 = std::time::Instant::now();
    let ok = match answer {
        Hostile::Bytes { prefix, send } => {
            to.write_all(prefix.replace("{uid}", uid).as_bytes())
                .is_ok()
                && send_repeated(to, &[b"x".repeat(78).as_slice(), b"\r\n"].concat(), *send)
        }
        Hostile::Line { prefix, send } => {
            to.write_all(prefix.replace("{uid}", uid).as_bytes())
                .is_ok()
                && send_repeated(to, b" 1234567", *send)
        }
        Hostile::Trickle {
            prefix,
            every,
            for_at_most,
        } => {
            let mut ok = to
                .write_all(prefix.replace("{uid}", uid).as_bytes())
                .is_ok();
            while ok && t0.elapsed() < *for_at_most {
                std::thread::sleep(*every);
                ok = to.write_all(b"x").is_ok();
            }
            ok
        }
    };
    if ok {
        // Silent until crmsync gives up and closes.
        let _ = to.set_read_timeout(Some(Duration::from_millis(200)));
        stall(to, closed, false);
    }
}

/// Writes `total` bytes of `unit` repeated; false when the peer left.
pub fn send_repeated(w: &mut impl Write, unit: &[u8], total: u64) -> bool {
    // Whole units per chunk, so that the stream is `unit` repeated.
    let chunk = unit.repeat((64 * 1024 / unit.len().max(1)).max(1));
    let mut sent = 0u64;
    while sent < total {
        let n = (total - sent).min(chunk.len() as u64) as usize;
        if w.write_all(&chunk[..n]).is_err() {
            return false;
        }
        sent += n as u64;
    }
    true
}

/// What the fault says about the next chunk of `dir`.
enum Step {
    /// Forward this many bytes of the chunk, then cut or stall (or all: None).
    Forward(usize, Option<Action>),
    Delay(Duration),
}

fn step(sh: &Shared, dir: Dir, chunk: &[u8], tail: &[u8]) -> Step {
    let mut st = sh.fault.lock().unwrap_or_else(|e| e.into_inner());
    let st = &mut *st;
    match &st.fault {
        Fault::None | Fault::Rewrite { .. } | Fault::Answer { .. } => {
            Step::Forward(chunk.len(), None)
        }
        Fault::Delay(d) => Step::Delay(*d),
        Fault::At {
            dir: fdir,
            pattern,
            nth,
            then,
            action,
        } => {
            if *fdir != dir {
                return Step::Forward(chunk.len(), None);
            }
            let action = *action;
            // Occurrences ending in this chunk (the tail carries a pattern
            // split over two chunks).
            if st.left.is_none() {
                let mut joined = tail.to_vec();
                joined.extend_from_slice(chunk);
                let p = pattern.len();
                let mut i = 0;
                while i + p <= joined.len() {
                    // Only occurrences ending in this chunk: the tail's own were counted.
                    if i + p > tail.len() && &joined[i..i + p] == pattern.as_slice() {
                        st.seen += 1;
                        if st.seen == *nth {
                            // Bytes of this chunk before the occurrence's start.
                            let before = i.saturating_sub(tail.len());
                            let from_tail = tail.len().saturating_sub(i);
                            st.left = Some(then.saturating_sub(from_tail) + before);
                            break;
                        }
                    }
                    i += 1;
                }
            }
            match st.left {
                Some(left) if left < chunk.len() => {
                    st.fault = Fault::None;
                    st.left = None;
                    sh.injected.fetch_add(1, Ordering::SeqCst);
                    Step::Forward(left, Some(action))
                }
                Some(left) => {
                    st.left = Some(left - chunk.len());
                    Step::Forward(chunk.len(), None)
                }
                None => Step::Forward(chunk.len(), None),
            }
        }
    }
}

/// The armed rewrite for `dir`, if any.
fn rewrite_for(sh: &Shared, dir: Dir) -> Option<(Vec<u8>, Vec<u8>)> {
    let st = sh.fault.lock().unwrap_or_else(|e| e.into_inner());
    match &st.fault {
        Fault::Rewrite { dir: d, from, to } if *d == dir => Some((from.clone(), to.clone())),
        _ => None,
    }
}

/// Replaces every `from` in `line` by `to`; counts the replacements.
fn rewrite_line(line: &[u8], from: &[u8], to: &[u8], sh: &Shared) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i..].starts_with(from) {
            out.extend_from_slice(to);
            sh.injected.fetch_add(1, Ordering::SeqCst);
            i += from.len();
        } else {
            out.push(line[i]);
            i += 1;
        }
    }
    out
}

fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    dir: Dir,
    sh: &Shared,
    closed: &AtomicBool,
    muted: &AtomicBool,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut tail: Vec<u8> = Vec::new();
    // Rewrite: the start of a line whose LF has not arrived yet.
    let mut partial: Vec<u8> = Vec::new();
    let _ = from.set_read_timeout(Some(Duration::from_millis(200)));
    loop {
        if closed.load(Ordering::SeqCst) {
            break;
        }
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(_) => break,
        };
        let chunk = &buf[..n];
        if let Some((pat, with)) = rewrite_for(sh, dir) {
            partial.extend_from_slice(chunk);
            let Some(last_lf) = partial.iter().rposition(|&b| b == b'\n') else {
                continue;
            };
            let rest = partial.split_off(last_lf + 1);
            let mut out = Vec::with_capacity(partial.len());
            for line in partial.split_inclusive(|&b| b == b'\n') {
                out.extend_from_slice(&rewrite_line(line, &pat, &with, sh));
            }
            partial = rest;
            if to.write_all(&out).is_err() {
                break;
            }
            continue;
        }
        if !partial.is_empty() {
            // Disarmed mid-line: what was held goes first.
            if to.write_all(&std::mem::take(&mut partial)).is_err() {
                break;
            }
        }
        if dir == Dir::Up {
            let mut up = sh.sent_up.lock().unwrap_or_else(|e| e.into_inner());
            let room = KEEP_UP.saturating_sub(up.len());
            up.extend_from_slice(&chunk[..room.min(n)]);
        }
        if muted.load(Ordering::SeqCst) {
            continue; // the proxy answers in the server's place
        }
        if dir == Dir::Up
            && let Some((answer, uid)) = hostile_for(sh, chunk)
        {
            muted.store(true, Ordering::SeqCst);
            if let Ok(mut client) = from.try_clone() {
                play(&mut client, &answer, &uid, closed);
            }
            break;
        }
        match step(sh, dir, chunk, &tail) {
            Step::Delay(d) => {
                std::thread::sleep(d);
                if to.write_all(chunk).is_err() {
                    break;
                }
            }
            Step::Forward(k, action) => {
                if to.write_all(&chunk[..k]).is_err() {
                    break;
                }
                match action {
                    None => {}
                    Some(Action::Cut) => {
                        let _ = to.flush();
                        closed.store(true, Ordering::SeqCst);
                        let _ = to.shutdown(Shutdown::Both);
                        let _ = from.shutdown(Shutdown::Both);
                        return;
                    }
                    Some(Action::Stall) => {
                        // Silent until the client gives up (its side closes).
                        stall(&mut from, closed, dir == Dir::Down);
                        closed.store(true, Ordering::SeqCst);
                        let _ = to.shutdown(Shutdown::Both);
                        let _ = from.shutdown(Shutdown::Both);
                        return;
                    }
                }
            }
        }
        let keep = 64.min(n);
        tail = chunk[n - keep..].to_vec();
    }
    closed.store(true, Ordering::SeqCst);
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// Holds a stalled connection: forwards nothing (what arrives is dropped);
/// returns when either side closed, or after 10 minutes. With
/// `hold_on_eof` (`from` is the server) the server closing does not end
/// the stall: a server that closes after its answer (Radicale) must still
/// look hung to the client, which gives up on its own timeout.
fn stall(from: &mut TcpStream, closed: &AtomicBool, hold_on_eof: bool) {
    let t0 = std::time::Instant::now();
    let mut sink = [0u8; 4096];
    let mut open = true;
    while !closed.load(Ordering::SeqCst) && t0.elapsed() < Duration::from_secs(600) {
        if !open {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        match from.read(&mut sink) {
            Ok(0) if hold_on_eof => open = false,
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) if hold_on_eof => open = false,
            Err(_) => return,
        }
    }
}
