//! The content-line layer (RFC 5545 3.1, SPEC 4: C10): unfolding and
//! folding at 75 octets with CRLF, the component tree ([`Comp`]) of a
//! VCALENDAR with every line kept verbatim, splitting a line into name,
//! parameters and value, parameter quoting and RFC 6868 encoding, and
//! TEXT escaping (a value can never start a new property). No semantics:
//! the layers above give the lines meaning.

use super::model::IcalError;

/// One logical (unfolded) content line, verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line {
    pub(super) text: String,
    /// The property name, upper case.
    pub(super) name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Node {
    Line(Line),
    Comp(Comp),
}

/// A component: `BEGIN:name` ... `END:name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Comp {
    /// Upper case.
    pub(super) name: String,
    /// The physical line of its BEGIN (1-based), for messages.
    pub(super) line: usize,
    pub(super) body: Vec<Node>,
}

impl Comp {
    pub(super) fn new(name: &str) -> Comp {
        Comp {
            name: name.to_string(),
            line: 0,
            body: Vec::new(),
        }
    }

    pub(super) fn lines(&self) -> impl Iterator<Item = &Line> {
        self.body.iter().filter_map(|n| match n {
            Node::Line(l) => Some(l),
            Node::Comp(_) => None,
        })
    }

    pub(super) fn first(&self, name: &str) -> Option<&Line> {
        self.lines().find(|l| l.name == name)
    }

    pub(super) fn value_of(&self, name: &str) -> Option<String> {
        self.first(name)
            .and_then(|l| split_line(&l.text).ok())
            .map(|p| p.value.to_string())
    }
}

/// A content line split into name, parameters (raw, quotes kept) and value.
#[derive(Debug)]
pub(super) struct Split<'a> {
    pub(super) name: &'a str,
    pub(super) params: Vec<(&'a str, &'a str)>,
    pub(super) value: &'a str,
}

impl Split<'_> {
    /// The first value of a parameter, unquoted and RFC 6868-decoded.
    pub(super) fn param(&self, name: &str) -> Option<String> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| decode_param(v))
    }
}

pub(super) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// Splits `NAME;P=V;Q="a:b":value`. Errors say what is wrong.
pub(super) fn split_line(text: &str) -> Result<Split<'_>, String> {
    let end = text
        .find(|c: char| !is_name_char(c))
        .ok_or_else(|| format!("`{}` has no `:` and value", shorten(text)))?;
    let name = &text[..end];
    if name.is_empty() {
        return Err(format!(
            "`{}` does not start with a property name",
            shorten(text)
        ));
    }
    let mut rest = &text[end..];
    let mut params = Vec::new();
    loop {
        if let Some(v) = rest.strip_prefix(':') {
            return Ok(Split {
                name,
                params,
                value: v,
            });
        }
        let Some(p) = rest.strip_prefix(';') else {
            return Err(format!(
                "`{}`: expected `;` or `:` after the property name",
                shorten(text)
            ));
        };
        let eq = p
            .find('=')
            .ok_or_else(|| format!("`{}`: a parameter has no `=`", shorten(text)))?;
        let pname = &p[..eq];
        if pname.is_empty() || !pname.chars().all(is_name_char) {
            return Err(format!("`{}`: bad parameter name", shorten(text)));
        }
        // The value runs to the next `;` or `:` outside quotes.
        let vstart = eq + 1;
        let mut quoted = false;
        let mut vend = None;
        for (i, c) in p[vstart..].char_indices() {
            match c {
                '"' => quoted = !quoted,
                ';' | ':' if !quoted => {
                    vend = Some(vstart + i);
                    break;
                }
                _ => {}
            }
        }
        let vend = vend.ok_or_else(|| format!("`{}`: no `:` before the value", shorten(text)))?;
        params.push((pname, &p[vstart..vend]));
        rest = &p[vend..];
    }
}

pub(super) fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// Unquotes a parameter value (the first of a list) and decodes RFC 6868.
pub(super) fn decode_param(raw: &str) -> String {
    let first = if let Some(q) = raw.strip_prefix('"') {
        q.split('"').next().unwrap_or("")
    } else {
        raw.split(',').next().unwrap_or("")
    };
    let mut out = String::with_capacity(first.len());
    let mut it = first.chars().peekable();
    while let Some(c) = it.next() {
        if c == '^' {
            match it.peek() {
                Some('^') => {
                    out.push('^');
                    it.next();
                }
                Some('n') | Some('N') => {
                    out.push('\n');
                    it.next();
                }
                Some('\'') => {
                    out.push('"');
                    it.next();
                }
                _ => out.push('^'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A parameter value as written: RFC 6868 encoded, control characters
/// dropped, quoted when it holds `;`, `:` or `,`.
pub(super) fn encode_param(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    let mut it = value.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '^' => s.push_str("^^"),
            '"' => s.push_str("^'"),
            '\r' => {
                if it.peek() != Some(&'\n') {
                    s.push_str("^n");
                }
            }
            '\n' => s.push_str("^n"),
            c if c.is_control() && c != '\t' => {}
            c => s.push(c),
        }
    }
    if s.contains([';', ':', ',']) {
        format!("\"{s}\"")
    } else {
        s
    }
}

/// TEXT escaping (RFC 5545 3.3.11): `\`, `;`, `,` and line breaks. A CR
/// or LF never reaches the output raw, so a value cannot start a new
/// property. Other control characters are dropped.
pub fn escape_text(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 8);
    let mut it = value.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => s.push_str("\\\\"),
            ';' => s.push_str("\\;"),
            ',' => s.push_str("\\,"),
            '\r' => {
                if it.peek() == Some(&'\n') {
                    it.next();
                }
                s.push_str("\\n");
            }
            '\n' => s.push_str("\\n"),
            c if c.is_control() && c != '\t' => {}
            c => s.push(c),
        }
    }
    s
}

/// Reverses [`escape_text`]; lenient about unknown escapes (kept as is).
pub fn unescape_text(value: &str) -> String {
    let mut s = String::with_capacity(value.len());
    let mut it = value.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            s.push(c);
            continue;
        }
        match it.next() {
            Some('n') | Some('N') => s.push('\n'),
            Some(c @ ('\\' | ';' | ',' | ':' | '"')) => s.push(c),
            Some(other) => {
                s.push('\\');
                s.push(other);
            }
            None => s.push('\\'),
        }
    }
    s
}

/// Drops control characters from text that goes into a value verbatim
/// (RRULE, DURATION, RDATE/EXDATE lines coming from the CRM).
pub(super) fn clean_raw(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).collect()
}

/// Appends a logical line folded at 75 octets (RFC 5545 3.1), never
/// inside a UTF-8 character, with CRLF.
pub(super) fn push_folded(out: &mut String, line: &str) {
    let mut rest = line;
    let mut first = true;
    loop {
        let max = if first { 75 } else { 74 };
        if !first {
            out.push(' ');
        }
        if rest.len() <= max {
            out.push_str(rest);
            out.push_str("\r\n");
            return;
        }
        let mut cut = max;
        while cut > 0 && !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n");
        rest = &rest[cut..];
        first = false;
    }
}

/// Unfolds text into logical lines with the physical line each starts on.
pub(super) fn unfold(text: &str) -> Vec<(usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let l = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(cont) = l.strip_prefix([' ', '\t'])
            && let Some(last) = out.last_mut()
        {
            last.1.push_str(cont);
            continue;
        }
        if l.trim().is_empty() {
            continue;
        }
        out.push((i + 1, l.to_string()));
    }
    out
}

/// Parses text into its VCALENDAR component tree.
pub(super) fn parse_tree(text: &str) -> Result<Comp, IcalError> {
    let lines = unfold(text);
    let mut it = lines.into_iter();
    let Some((first_no, first)) = it.next() else {
        return Err(IcalError::NotCalendar("the text is empty".into()));
    };
    if !first.trim_end().eq_ignore_ascii_case("BEGIN:VCALENDAR") {
        return Err(IcalError::NotCalendar(format!(
            "line {first_no} is `{}`, expected `BEGIN:VCALENDAR`",
            shorten(&first)
        )));
    }
    let mut stack = vec![Comp {
        name: "VCALENDAR".into(),
        line: first_no,
        body: Vec::new(),
    }];
    let mut done: Option<Comp> = None;
    for (no, l) in it {
        if done.is_some() {
            return Err(IcalError::Syntax {
                line: no,
                problem: format!(
                    "`{}` after END:VCALENDAR; a resource holds one calendar",
                    shorten(&l)
                ),
            });
        }
        let sp = split_line(&l).map_err(|problem| IcalError::Syntax { line: no, problem })?;
        let name = sp.name.to_ascii_uppercase();
        match name.as_str() {
            "BEGIN" => {
                let cname = sp.value.trim().to_ascii_uppercase();
                if cname.is_empty() || !cname.chars().all(is_name_char) {
                    return Err(IcalError::Syntax {
                        line: no,
                        problem: format!("`{}` names no component", shorten(&l)),
                    });
                }
                stack.push(Comp {
                    name: cname,
                    line: no,
                    body: Vec::new(),
                });
            }
            "END" => {
                let cname = sp.value.trim().to_ascii_uppercase();
                let Some(top) = stack.pop() else {
                    return Err(IcalError::Syntax {
                        line: no,
                        problem: "END without BEGIN".into(),
                    });
                };
                if top.name != cname {
                    return Err(IcalError::Syntax {
                        line: no,
                        problem: format!(
                            "END:{cname} where END:{} (begun at line {}) was expected",
                            top.name, top.line
                        ),
                    });
                }
                match stack.last_mut() {
                    Some(parent) => parent.body.push(Node::Comp(top)),
                    None => done = Some(top),
                }
            }
            _ => {
                if let Some(top) = stack.last_mut() {
                    top.body.push(Node::Line(Line { text: l, name }));
                }
            }
        }
    }
    match (done, stack.last()) {
        (Some(c), _) => Ok(c),
        (None, Some(top)) => Err(IcalError::Syntax {
            line: top.line,
            problem: format!("BEGIN:{} is never ended (the text is cut off?)", top.name),
        }),
        (None, None) => Err(IcalError::NotCalendar("no VCALENDAR".into())),
    }
}

pub(super) fn serialize_comp(out: &mut String, c: &Comp) {
    push_folded(out, &format!("BEGIN:{}", c.name));
    for n in &c.body {
        match n {
            Node::Line(l) => push_folded(out, &l.text),
            Node::Comp(sub) => serialize_comp(out, sub),
        }
    }
    push_folded(out, &format!("END:{}", c.name));
}

pub(super) fn line(text: String) -> Node {
    let name = text
        .split([';', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    Node::Line(Line { text, name })
}
