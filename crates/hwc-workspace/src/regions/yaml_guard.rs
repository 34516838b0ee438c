//! A linear pre-scan of `regions.yaml` that bounds what the YAML parser may cost before it
//! sees the text.
//!
//! libyaml (under serde_yaml) pays for every token in proportion to the flow nesting around it
//! (its stack of possible simple keys is walked per token), so `[[[[…]]]]` costs the square of
//! its depth: 200 KB took more than 30 s, 4 MiB would take hours. And serde_yaml replays an
//! alias's whole node at every use: a few KB of `*a` fan-out take seconds, 200 KB most of a
//! minute. This scan follows libyaml's tokenization (quoted scalars, plain scalars and where
//! they end, comments, flow indicators) closely enough that, on every text it accepts, its
//! flow depth is libyaml's; wherever the two could disagree it refuses instead of guessing.
//! It refuses, with the line:
//! - flow nesting deeper than [`MAX_FLOW_DEPTH`];
//! - aliases (`*name`): the file describes endpoints, never needs to repeat a node, and an
//!   alias is what an expansion bomb is made of;
//! - tags, block scalars (`|`, `>`), directives and reserved indicators, which no regions file
//!   needs and which would need indentation rules this scan does not follow;
//! - a plain value that may continue on a more indented line starting with a YAML indicator
//!   (libyaml may read that line as part of the value or as structure: quote the value);
//! - the Unicode line separators libyaml counts as line breaks (NEL, LS, PS).
//!
//! What it accepts is then bounded: with a flow depth of at most 64 and no alias, libyaml's cost
//! is linear in the file (at most 64 simple keys walked per token) and serde_yaml's own
//! recursion limit (128 levels) bounds block nesting.

/// Deepest flow nesting (`[`, `{`) accepted in `regions.yaml`; a real file needs two.
pub(crate) const MAX_FLOW_DEPTH: usize = 64;

/// Why the text is refused, and the 1-based line where the scan stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub(crate) line: usize,
    pub(crate) why: String,
}

struct Scan<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
    /// Column of `pos` in characters (UTF-8 continuation bytes do not count), as libyaml
    /// counts it.
    col: usize,
    flow: usize,
    /// A lower bound of libyaml's indentation (the column of its innermost block collection):
    /// a block indicator (`- `, `? `) or a key before `: ` at column c makes it exactly c;
    /// a token left of it (libyaml then pops its indentation stack to an unknown level)
    /// makes it unknown, `None`, which bounds nothing.
    indent: Option<usize>,
    /// The column where the last quoted scalar or flow collection of the current line (in
    /// block context) started: a key, when a `: ` follows it.
    node_start: Option<usize>,
}

/// Scans `text` (without its BOM); `Ok` when the YAML parser may be given it.
pub(crate) fn check(text: &str) -> Result<(), Refused> {
    let mut scan = Scan { text: text.as_bytes(), pos: 0, line: 1, col: 0, flow: 0, indent: None, node_start: None };
    scan.run()
}

fn is_break(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn is_flow_indicator(b: u8) -> bool {
    matches!(b, b',' | b'[' | b']' | b'{' | b'}')
}

impl Scan<'_> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.text.get(self.pos + ahead).copied()
    }

    /// Blank, a line break or the end: what libyaml calls `BLANKZ`.
    fn blankz_at(&self, ahead: usize) -> bool {
        self.peek(ahead).is_none_or(|b| is_blank(b) || is_break(b))
    }

    fn refuse<T>(&self, why: impl Into<String>) -> Result<T, Refused> {
        Err(Refused { line: self.line, why: why.into() })
    }

    /// Moves one byte on, keeping line and column.
    fn bump(&mut self) {
        let Some(b) = self.peek(0) else { return };
        self.pos += 1;
        if b == b'\n' || (b == b'\r' && self.peek(0) != Some(b'\n')) {
            self.line += 1;
            self.col = 0;
            self.node_start = None;
        } else if b != b'\r' && (b & 0xC0) != 0x80 {
            self.col += 1;
        }
    }

    fn at_document_marker(&self) -> bool {
        self.col == 0
            && (self.text[self.pos..].starts_with(b"---") || self.text[self.pos..].starts_with(b"..."))
            && self.blankz_at(3)
    }

    fn run(&mut self) -> Result<(), Refused> {
        for (index, window) in self.text.windows(3).enumerate() {
            // NEL is C2 85; LS and PS are E2 80 A8 / A9: libyaml breaks lines there.
            if window[..2] == [0xC2, 0x85] || (window[..2] == [0xE2, 0x80] && matches!(window[2], 0xA8 | 0xA9)) {
                let line = 1 + self.text[..index].iter().filter(|b| **b == b'\n').count();
                return Err(Refused {
                    line,
                    why: "it holds a Unicode line separator (NEL, LS or PS), which YAML reads as a line break; use a plain newline".into(),
                });
            }
        }
        loop {
            // Between tokens: blanks, line breaks and comments (a `#` here always starts one).
            while let Some(b) = self.peek(0) {
                if is_blank(b) || is_break(b) {
                    self.bump();
                } else if b == b'#' {
                    while self.peek(0).is_some_and(|b| !is_break(b)) {
                        self.bump();
                    }
                } else {
                    break;
                }
            }
            let Some(b) = self.peek(0) else { return Ok(()) };
            let start_col = self.col;
            // libyaml unrolls its indentation to every block-context token's column.
            if self.flow == 0 && self.indent.is_some_and(|indent| start_col < indent) {
                self.indent = None;
            }
            if self.at_document_marker() {
                self.indent = None;
                if self.flow > 0 {
                    return self.refuse("a document marker inside a [...] or {...} collection");
                }
                for _ in 0..3 {
                    self.bump();
                }
                continue;
            }
            match b {
                b'[' | b'{' => {
                    if self.flow == 0 {
                        self.node_start = Some(start_col);
                    }
                    self.flow += 1;
                    if self.flow > MAX_FLOW_DEPTH {
                        return self.refuse(format!(
                            "its [...] and {{...}} collections nest deeper than {MAX_FLOW_DEPTH} levels"
                        ));
                    }
                    self.bump();
                }
                b']' | b'}' => {
                    self.flow = self.flow.saturating_sub(1);
                    self.bump();
                }
                b',' => self.bump(),
                b'-' | b'?' if self.blankz_at(1) => {
                    if self.flow == 0 {
                        self.indent = Some(start_col);
                    }
                    self.bump();
                }
                // libyaml: a `:` starting a token is a value indicator in a flow collection,
                // and in block context when a blank follows.
                b':' if self.flow > 0 || self.blankz_at(1) => {
                    if self.flow == 0 && self.node_start.is_some() {
                        self.indent = self.node_start;
                    }
                    self.bump();
                }
                b'*' => {
                    return self.refuse(
                        "it uses an alias (`*name`); aliases are not accepted in the regions file: write the value out",
                    );
                }
                b'&' => {
                    self.bump();
                    while self.peek(0).is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                        self.bump();
                    }
                    if !self.blankz_at(0) && !self.peek(0).is_some_and(is_flow_indicator) {
                        return self.refuse("an anchor name is followed by something that is not a blank");
                    }
                }
                b'!' => return self.refuse("it uses a tag (`!…`); tags are not accepted in the regions file"),
                b'|' | b'>' => {
                    return self.refuse("it uses a block scalar (`|` or `>`); write the value on one line, quoted");
                }
                b'%' | b'@' | b'`' => {
                    return self.refuse(format!(
                        "`{}` cannot start a value (a directive or a reserved indicator)",
                        char::from(b)
                    ));
                }
                b'\'' | b'"' => {
                    if self.flow == 0 {
                        self.node_start = Some(start_col);
                    }
                    if b == b'"' { self.double_quoted() } else { self.single_quoted() }
                }
                _ => self.plain(start_col)?,
            }
        }
    }

    /// `'…'`, where `''` is a quote.
    fn single_quoted(&mut self) {
        self.bump();
        while let Some(b) = self.peek(0) {
            self.bump();
            if b == b'\'' {
                if self.peek(0) == Some(b'\'') {
                    self.bump();
                } else {
                    return;
                }
            }
        }
    }

    /// `"…"`, where `\` escapes the next character (or line break).
    fn double_quoted(&mut self) {
        self.bump();
        while let Some(b) = self.peek(0) {
            self.bump();
            match b {
                b'\\' => {
                    if self.peek(0) == Some(b'\r') && self.peek(1) == Some(b'\n') {
                        self.bump();
                    }
                    self.bump();
                }
                b'"' => return,
                _ => {}
            }
        }
    }

    /// A plain scalar, ended where libyaml ends it. A `: ` after it makes it a key, which
    /// starts block structure at its first column.
    fn plain(&mut self, start_col: usize) -> Result<(), Refused> {
        let mut key_col = start_col;
        loop {
            // One run of non-blank characters.
            while !self.blankz_at(0) {
                let b = self.peek(0).unwrap_or(b' ');
                if b == b':' && self.blankz_at(1) {
                    if self.flow == 0 {
                        self.indent = Some(key_col);
                    }
                    return Ok(());
                }
                if self.flow > 0 && (is_flow_indicator(b) || (b == b':' && self.peek(1).is_some_and(is_flow_indicator)))
                {
                    return Ok(());
                }
                self.bump();
            }
            // Blanks, then maybe line breaks: the scalar goes on unless what follows ends it.
            let line_before = self.line;
            while self.peek(0).is_some_and(|b| is_blank(b) || is_break(b)) {
                self.bump();
            }
            let Some(next) = self.peek(0) else { return Ok(()) };
            if next == b'#' || self.at_document_marker() {
                return Ok(());
            }
            if self.line == line_before || self.flow > 0 {
                continue;
            }
            // A new line in block context: libyaml goes on with the value when this line is
            // indented more than its indentation. `indent` is at most that, so a line at or
            // left of it surely ends the value.
            if self.indent.is_some_and(|indent| self.col <= indent) {
                return Ok(());
            }
            let indicator = matches!(next, b'[' | b'{' | b']' | b'}' | b',' | b'\'' | b'"' | b'*' | b'&' | b'!')
                || matches!(next, b'|' | b'>' | b'%' | b'@' | b'`')
                || (matches!(next, b'-' | b'?' | b':') && self.blankz_at(1));
            if indicator {
                return self.refuse(format!(
                    "the plain value before it may go on on this line, which starts with `{}`; quote that value or indent this line less",
                    char::from(next)
                ));
            }
            // As a continuation or as a new plain token, this line reads the same up to its
            // end or its `: `; if it is a key, its structure starts at this line's column.
            key_col = self.col;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Refused {
        check(text).expect_err(text)
    }

    #[test]
    fn real_files_pass() {
        for text in [
            "WORKSPACE:\n  - id: cn-north-4\n    endpoint: https://a.example\n  - id: 'x'\n    endpoints: [\"https://b\", 'https://c']\n",
            "# comment [[[[\nECS:\n- id: a # ]]]] [[[\n  endpoint: 'it''s [[[['\n",
            "a: it's [ not flow\nb: \"q \\\" [[[\"\n",
            "a: &anchor x\nb: {k: v, l: [1, 2, {m: n}]}\n",
            "---\na: b\n...\n",
            "a:\n  value\n  more value\nb: x\n",
            "a: x\r\nb: [y]\r\n",
            "- 'id': cn\n  'endpoint': 'x'\n- \"id\": b\n  [k]: [v]\n",
            "WORKSPACE:\n  - id: a\n    endpoint:\n      https://a\n  - id: b\n    endpoints:\n      - https://b\n",
        ] {
            assert_eq!(check(text), Ok(()), "{text}");
        }
    }

    #[test]
    fn flow_depth_is_bounded() {
        let ok = format!("a: {}{}", "[".repeat(MAX_FLOW_DEPTH), "]".repeat(MAX_FLOW_DEPTH));
        assert_eq!(check(&ok), Ok(()));
        let deep = format!("a: {}", "[".repeat(MAX_FLOW_DEPTH + 1));
        assert!(refused(&deep).why.contains("64 levels"));
        // Closers hidden in quotes or comments do not count.
        let hidden = format!("a: {}\n", "[ \"]]]]\" # ]]]]\n".repeat(MAX_FLOW_DEPTH + 1));
        assert!(refused(&hidden).why.contains("64 levels"));
        let single = format!("a: {}", "['a'']]'".repeat(MAX_FLOW_DEPTH + 1));
        assert!(refused(&single).why.contains("64 levels"));
        // Many shallow collections are fine.
        assert_eq!(check(&"- [a, {b: c}]\n".repeat(10_000)), Ok(()));
    }

    #[test]
    fn aliases_tags_and_block_scalars_are_refused() {
        assert!(refused("a: &x [1]\nb: *x\n").why.contains("alias"));
        assert!(refused("a: !!str x\n").why.contains("tag"));
        assert!(refused("a: |\n  x\n").why.contains("block scalar"));
        assert!(refused("%YAML 1.2\n---\na: b\n").why.contains("directive"));
        assert_eq!(refused("a: x\nb: y\nc: *z\n").line, 3);
    }

    #[test]
    fn ambiguous_continuations_are_refused() {
        // libyaml reads `[[[` as part of `value`; guessing wrong would open a collection.
        let why = refused("key:\n  value\n  [[[\n").why;
        assert!(why.contains("quote that value"), "{why}");
        // Left of the key's column: surely not the value going on, accepted.
        assert_eq!(check("- id: a\n  endpoints: [x]\n"), Ok(()));
        // A line left of the indentation makes it unknown: what follows a value is refused
        // if it could continue it.
        let why = refused("a:\n  b:\n    c: x\nd\n  [[[\n").why;
        assert!(why.contains("quote that value"), "{why}");
    }

    #[test]
    fn unicode_line_separators_are_refused() {
        assert!(refused("a: b\u{2028}c: [d]\n").why.contains("line separator"));
    }
}
