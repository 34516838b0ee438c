//! Lists of ids written one per line (a file, stdin, a text): the one reader every front uses,
//! so that `--desktop-ids-from` on the command line and `read_desktop_ids` in Python accept
//! and refuse the same inputs with the same words.
//!
//! The rules: a UTF-8 BOM at the start is skipped (Windows editors write one); blank lines and
//! `#` comment lines (of any length) are ignored; each id is trimmed of blanks around it (list
//! syntax, as `--desktop-id A, B`); a line that is not UTF-8, or longer than any id can be, is
//! refused naming its number; the input is bounded, so `/dev/zero` fails on its first line and
//! an endless stream stops at [`MAX_ID_LIST_BYTES`]. Ids are kept in order, duplicates
//! included: the bulk engine keeps the first of each and names a bad id by its place among all
//! those given, by the same rule as any list of ids.

use std::io::{BufRead, Read};
use std::path::Path;

use crate::error::{Error, InvalidInput};
use crate::model::MAX_VALUE_CHARS;

/// The most bytes of ids read from one input: a million ids take about 37 MB.
pub const MAX_ID_LIST_BYTES: u64 = 256 * 1024 * 1024;

/// The longest line that can hold an id: [`MAX_VALUE_CHARS`] characters of up to 4 bytes, with
/// room for blanks around it. A longer line is refused as soon as it is seen.
pub const MAX_ID_LINE_BYTES: usize = 4 * MAX_VALUE_CHARS + 64;

/// The field the errors name: ids read here are desktop ids, as in the API document.
const FIELD: &str = "desktop_ids";

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One item of a list as written by a person (a line, a comma-separated value): trimmed, and
/// `None` when nothing is left.
pub fn list_item(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|item| !item.is_empty())
}

/// Reads ids, one per line, from `input`, by the rules of this module; `source` names the
/// input in errors (a path, `stdin`). Memory and time are bounded whatever the input is.
/// The ids come back compactly ([`IdList`]): a million of them take about 45 MB.
pub fn read_id_list(input: impl Read, source: &str) -> Result<IdList, Error> {
    let mut ids = IdList::new();
    let mut reader = std::io::BufReader::new(input.take(MAX_ID_LIST_BYTES + 1));
    let mut line = Vec::with_capacity(64);
    let mut number = 0usize;
    let mut total = 0u64;
    let unreadable = |e: std::io::Error| {
        Error::from(InvalidInput::new(FIELD, "a readable list of ids", e.to_string()).of_source(source))
    };
    loop {
        number += 1;
        line.clear();
        // A comment line is skipped as it streams by, however long: it is never held.
        let mut comment = false;
        let ended = loop {
            let buffer = reader.fill_buf().map_err(unreadable)?;
            if buffer.is_empty() {
                break true;
            }
            let (chunk, newline) = match buffer.iter().position(|&b| b == b'\n') {
                Some(at) => (&buffer[..at], true),
                None => (buffer, false),
            };
            if !comment {
                line.extend_from_slice(chunk);
                comment = without_bom(&line, number).trim_ascii_start().first() == Some(&b'#');
                if comment {
                    line.clear();
                } else if line.len() > MAX_ID_LINE_BYTES {
                    let expected = format!("a desktop id of at most {MAX_VALUE_CHARS} characters");
                    let got = format!("a line of more than {MAX_ID_LINE_BYTES} bytes");
                    return Err(InvalidInput::new(FIELD, expected, got).on_line(number, source).into());
                }
            }
            let used = chunk.len() + usize::from(newline);
            total += used as u64;
            reader.consume(used);
            if total > MAX_ID_LIST_BYTES {
                let expected = format!("at most {} MiB of ids; split the input", MAX_ID_LIST_BYTES / (1024 * 1024));
                return Err(InvalidInput::new(FIELD, expected, "more").of_source(source).into());
            }
            if newline {
                break false;
            }
        };
        if !comment {
            let text = std::str::from_utf8(without_bom(&line, number)).map_err(|_| {
                InvalidInput::new(FIELD, "UTF-8 text", "bytes that are not UTF-8").on_line(number, source)
            })?;
            if let Some(id) = list_item(text) {
                ids.push(id);
            }
        }
        if ended {
            ids.shrink_to_fit();
            return Ok(ids);
        }
    }
}

/// [`read_id_list`] of a text already in memory (a Python `str`, a test's fixture).
pub fn parse_id_list(text: &str, source: &str) -> Result<IdList, Error> {
    read_id_list(text.as_bytes(), source)
}

/// [`read_id_list`] of the file at `path`, named by its path in errors. A FIFO is fine
/// (`<(command)`): the reading is bounded, whatever the kind of file.
pub fn read_id_list_file(path: &Path) -> Result<IdList, Error> {
    let source = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| {
        Error::from(InvalidInput::new(FIELD, "a readable list of ids", e.to_string()).of_source(&source))
    })?;
    read_id_list(file, &source)
}

/// The first line without its byte order mark; other lines as they are.
fn without_bom(line: &[u8], number: usize) -> &[u8] {
    if number == 1 { line.strip_prefix(UTF8_BOM).unwrap_or(line) } else { line }
}

/// Ids held compactly, as a run holds its desktops: one buffer of their text and where each
/// ends, about the ids' own bytes plus 8 per id (a `Vec<String>` takes 60 to 80 per id).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct IdList {
    text: String,
    ends: Vec<usize>,
}

impl IdList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `id` at the end.
    pub fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len());
    }

    /// How many ids.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Id number `index` (from 0).
    pub fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        self.text.get(start..end)
    }

    /// The ids in `range` (clamped to the list), in order.
    pub fn range(&self, range: std::ops::Range<usize>) -> impl ExactSizeIterator<Item = &str> + '_ {
        let end = range.end.min(self.len());
        (range.start.min(end)..end).map(|index| self.get(index).unwrap_or_default())
    }

    /// Every id, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.range(0..self.len())
    }

    /// Gives back the memory the list no longer needs to grow.
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

impl std::fmt::Debug for IdList {
    /// Its length and first ids: a million ids in a log line help nobody.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first: Vec<&str> = self.range(0..3).collect();
        f.debug_struct("IdList").field("len", &self.len()).field("first", &first).finish()
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for IdList {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(id, given)| id == given.as_ref())
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for IdList {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

impl<S: AsRef<str>> FromIterator<S> for IdList {
    fn from_iter<I: IntoIterator<Item = S>>(ids: I) -> Self {
        let mut list = Self::new();
        for id in ids {
            list.push(id.as_ref());
        }
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(result: Result<IdList, Error>) -> InvalidInput {
        match result {
            Err(Error::InvalidInput(invalid)) => invalid,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn bom_comments_blank_lines_and_blanks_are_list_syntax() {
        let comment = format!("# {}\n", "c".repeat(100_000));
        let text = format!("\u{feff}d-1\n{comment}\n  d-2 \r\n\t# indented comment\nd-1\nd-3");
        assert_eq!(parse_id_list(&text, "t").unwrap(), ["d-1", "d-2", "d-1", "d-3"]);
        assert!(parse_id_list("", "t").unwrap().is_empty());
        assert!(parse_id_list("\u{feff}", "t").unwrap().is_empty());
        // A BOM only counts at the start: later, it is part of an id (which the id rule refuses).
        assert_eq!(parse_id_list("a\n\u{feff}b", "t").unwrap(), ["a", "\u{feff}b"]);
        assert_eq!(list_item("  x "), Some("x"));
        assert_eq!(list_item(" \t "), None);
    }

    #[test]
    fn bad_lines_are_refused_naming_their_number_and_source() {
        let invalid = refusal(read_id_list(&b"d-1\nd-2\n\xe9t\xe9\n"[..], "ids.txt"));
        assert_eq!(invalid.line(), Some(3));
        assert_eq!(invalid.name(), "desktop_ids");
        assert_eq!(invalid.field(), "line 3 of the desktop_ids from ids.txt");
        assert_eq!(
            invalid.to_string(),
            "invalid line 3 of the desktop_ids from ids.txt: expected UTF-8 text, got bytes that are not UTF-8"
        );

        let long = format!("d-1\n{}\n", "x".repeat(MAX_ID_LINE_BYTES + 1));
        let invalid = refusal(parse_id_list(&long, "stdin"));
        assert_eq!(invalid.line(), Some(2));
        assert!(invalid.to_string().contains("from stdin"), "{invalid}");
        // A line of exactly the limit is read (and left to the id rule).
        assert_eq!(parse_id_list(&"y".repeat(MAX_ID_LINE_BYTES), "t").unwrap().len(), 1);
    }

    #[test]
    fn endless_inputs_stop_at_once() {
        let started = std::time::Instant::now();
        let invalid = refusal(read_id_list(std::io::repeat(0), "/dev/zero"));
        assert_eq!(invalid.line(), Some(1));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        // An endless comment is never held, but the input's size still bounds it.
        let invalid = refusal(read_id_list(std::io::repeat(b'#'), "comment"));
        assert!(invalid.expected().contains("256 MiB"), "{invalid}");
    }

    #[test]
    fn a_file_is_named_by_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ids.txt");
        std::fs::write(&path, "\u{feff}d-1\n\n# c\nd-2\n").unwrap();
        assert_eq!(read_id_list_file(&path).unwrap(), ["d-1", "d-2"]);
        let missing = refusal(read_id_list_file(&dir.path().join("missing")));
        assert!(missing.field().ends_with("missing"), "{missing}");
        assert!(missing.got().contains("No such file"), "{missing}");
    }

    #[test]
    fn an_id_list_holds_each_id_as_given_and_in_order() {
        let ids = ["a", "", "é-ü", "d0000001-5e1a-4d00-8000-000000000001"];
        let list: IdList = ids.iter().collect();
        assert_eq!(list.len(), 4);
        assert_eq!(list.iter().collect::<Vec<_>>(), ids);
        assert_eq!(list.get(2), Some("é-ü"));
        assert_eq!(list.get(4), None);
        assert_eq!(list.range(1..3).collect::<Vec<_>>(), ["", "é-ü"]);
        assert_eq!(list.range(3..10).collect::<Vec<_>>(), [ids[3]], "clamped");
        assert_eq!(list.range(7..10).count(), 0);
        assert!(IdList::new().is_empty());
        assert!(format!("{list:?}").contains("len: 4"));
    }
}
