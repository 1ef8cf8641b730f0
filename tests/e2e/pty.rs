//! The interactive side through a real pseudo-terminal: `script(1)` gives
//! the child a pty, this module reads the screen and types, like a person.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A program running on a pseudo-terminal.
pub struct Pty {
    child: Child,
    stdin: ChildStdin,
    screen: Arc<Mutex<String>>,
    seen: usize,
}

/// Drops ANSI escape sequences and carriage returns.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for n in chars.by_ref() {
                    if n.is_ascii_alphabetic() || n == '~' {
                        break;
                    }
                }
            }
        } else if c != '\r' {
            out.push(c);
        }
    }
    out
}

impl Pty {
    /// Starts `program args` on a pty with extra environment variables.
    pub fn spawn(program: &Path, args: &[&str], envs: &[(&str, &str)]) -> Pty {
        Pty::start(String::new(), program, args, envs)
    }

    /// [`Pty::spawn`] on a terminal of `cols` x `rows` (set with stty on
    /// the pty itself, so the program reads it as a person's terminal).
    pub fn spawn_sized(
        program: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        cols: u16,
        rows: u16,
    ) -> Pty {
        let (c, r) = (cols.to_string(), rows.to_string());
        let mut envs = envs.to_vec();
        envs.extend([("COLUMNS", c.as_str()), ("LINES", r.as_str())]);
        Pty::start(
            format!("stty cols {cols} rows {rows} && exec "),
            program,
            args,
            &envs,
        )
    }

    fn start(lead: String, program: &Path, args: &[&str], envs: &[(&str, &str)]) -> Pty {
        let mut line = lead + &shell_quote(&program.display().to_string());
        for a in args {
            line.push(' ');
            line.push_str(&shell_quote(a));
        }
        let mut cmd = Command::new("script");
        cmd.args(["-qefc", &line, "/dev/null"])
            .env("TERM", "xterm")
            .env("COLUMNS", "120")
            .env("LINES", "40")
            .env_remove("CRMSYNC_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("script(1) from util-linux");
        let stdin = child.stdin.take().unwrap();
        let mut out = child.stdout.take().unwrap();
        let screen = Arc::new(Mutex::new(String::new()));
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Pty {
            child,
            stdin,
            screen,
            seen: 0,
        }
    }

    /// Waits until `text` appears on the screen after what was seen so far.
    pub fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let plain = strip_ansi(&self.screen.lock().unwrap());
            if let Some(i) = plain[self.seen.min(plain.len())..].find(text) {
                self.seen += i + text.len();
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "`{text}` did not appear; the screen shows:\n{}",
                    &plain[self.seen.min(plain.len())..]
                );
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// The screen drawn last by a redrawing screen (crate::wizard::screen):
    /// its lines after the last erase-to-end (`ESC [ J`), without escapes.
    pub fn frame(&self) -> Vec<String> {
        let raw = self.screen.lock().unwrap().clone();
        let last = raw.rsplit("\x1b[J").next().unwrap_or("");
        strip_ansi(last).lines().map(str::to_string).collect()
    }

    /// Waits until the last frame satisfies `ok` (30 s, then fails showing
    /// it), and returns it.
    pub fn wait_frame(&self, what: &str, ok: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let f = self.frame();
            if ok(&f) {
                return f;
            }
            if Instant::now() > deadline {
                panic!(
                    "{what}: not on the screen; the last frame:\n{}",
                    f.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Types keys (use "\r" for Enter, "\x1b[B" for arrow down).
    pub fn send(&mut self, keys: &str) {
        // A short pause lets the prompt switch the terminal to raw mode.
        std::thread::sleep(Duration::from_millis(150));
        self.stdin.write_all(keys.as_bytes()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Answers a text prompt.
    pub fn answer(&mut self, prompt: &str, text: &str) {
        self.expect(prompt);
        self.send(&format!("{text}\r"));
    }

    /// Picks item `index` (0-based) of a select prompt.
    pub fn pick(&mut self, prompt: &str, index: usize) {
        self.expect(prompt);
        self.send(&format!("{}\r", "\x1b[B".repeat(index)));
    }

    /// Everything written so far, escape sequences included.
    pub fn raw(&self) -> String {
        self.screen.lock().unwrap().clone()
    }

    /// Waits for the exit code.
    pub fn wait(mut self) -> (i32, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                let screen = strip_ansi(&self.screen.lock().unwrap());
                return (st.code().unwrap_or(-1), screen);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "still running; screen:\n{}",
                    strip_ansi(&self.screen.lock().unwrap())
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
