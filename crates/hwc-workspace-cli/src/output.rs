//! Everything written to stdout and stderr goes through here: stdout is data, stderr is
//! diagnostics (`error:` then `hint:` lines).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::args::OutputFormat;

/// Writes one data record to stdout. A closed pipe (`| head`) is not an error worth a panic.
pub(crate) fn data(line: &str) {
    let _ = try_data(line);
}

/// Writes one data record to stdout and says whether it got there: a bulk run stops when
/// its records can no longer be read (EPIPE) or stored (ENOSPC).
pub(crate) fn try_data(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

/// The `--query` expression, compiled once, applied to every JSON record.
static QUERY: OnceLock<jmespath::Expression<'static>> = OnceLock::new();

/// Longest `--query` accepted, in bytes. Real queries are a few dozen characters; the jmespath
/// parser and evaluator recurse once per level of the expression, so 100,000 nested brackets
/// overflowed the stack and aborted the process. At this length and
/// [`MAX_QUERY_NESTING`], the worst expression compiles and runs in well under a millisecond.
const MAX_QUERY_BYTES: usize = 1024;
/// Deepest nesting of `(`, `[`, `{` in a `--query`, `!` counting as a level (each recursing).
const MAX_QUERY_NESTING: usize = 32;

/// How deep an expression nests, outside its quoted identifiers (`"…"`), raw strings (`'…'`)
/// and JSON literals (`` `…` ``), where a backslash escapes the next character.
fn query_nesting(expression: &str) -> usize {
    let (mut depth, mut deepest, mut negations, mut quote, mut escaped) = (0usize, 0usize, 0usize, None, false);
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(open) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == open {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '!' if chars.peek() != Some(&'=') => negations += 1,
            _ => {}
        }
        deepest = deepest.max(depth + negations);
    }
    deepest
}

/// Compiles `--query` (the aws CLI's and KooCLI's `--cli-query` convention); a bad expression
/// is refused before anything is sent, and so is one longer or deeper than the bounds above
/// (checked first, in linear time, so nothing can exhaust the parser's stack).
pub(crate) fn set_query(expression: &str) -> Result<(), String> {
    if expression.len() > MAX_QUERY_BYTES {
        return Err(format!("--query is {} bytes long; at most {MAX_QUERY_BYTES} are accepted", expression.len()));
    }
    if query_nesting(expression) > MAX_QUERY_NESTING {
        return Err(format!(
            "--query {expression:?} nests deeper than {MAX_QUERY_NESTING} levels (brackets, parentheses, braces and `!`)"
        ));
    }
    let compiled = jmespath::compile(expression).map_err(|e| format!("--query {expression:?} is not JMESPath: {e}"))?;
    let _ = QUERY.set(compiled);
    Ok(())
}

/// The first failure of `--query` on a record, if any: the command then exits with an error.
static QUERY_FAILURE: OnceLock<String> = OnceLock::new();

/// Why `--query` failed on a record during this command, if it did.
pub(crate) fn query_failure() -> Option<&'static str> {
    QUERY_FAILURE.get().map(String::as_str)
}

/// A record as written: the query's result when there is one. A query that fails on a record
/// never costs the record (its job id may be the only trace of a deletion): the record is
/// written whole, with `query_error`, and the command's exit code reports the failure.
fn queried(value: &Value) -> String {
    let Some(query) = QUERY.get() else { return value.to_string() };
    match query.search(value) {
        Ok(result) => serde_json::to_string(&*result).unwrap_or_else(|_| "null".to_owned()),
        Err(e) => {
            let reason = e.to_string();
            let _ = QUERY_FAILURE.set(reason.clone());
            let mut whole = value.clone();
            match whole.as_object_mut() {
                Some(fields) => {
                    fields.insert("query_error".to_owned(), json!(reason));
                    whole.to_string()
                }
                None => json!({"record": value, "query_error": reason}).to_string(),
            }
        }
    }
}

pub(crate) fn json_record(value: &Value) -> std::io::Result<()> {
    try_data(&queried(value))
}

/// Whether stdout can take records at all. Rust's standard library treats a write to a closed
/// stdout (`>&-`) as a success, so records would vanish unseen; worse, the next file this
/// process opens would take descriptor 1. Checked once, before anything is opened or sent.
pub(crate) fn stdout_usable() -> Result<(), String> {
    #[cfg(unix)]
    {
        use rustix::fs::{FileType, OFlags, fcntl_getfl, fstat, major, minor};
        let closed = || "stdout is closed: there is nowhere to write the records".to_owned();
        let flags = fcntl_getfl(std::io::stdout()).map_err(|_| closed())?;
        if !flags.intersects(OFlags::WRONLY | OFlags::RDWR) {
            return Err("stdout is open for reading only: there is nowhere to write the records".to_owned());
        }
        // Before `main`, Rust's runtime puts /dev/null, opened read-write, in the place of a
        // closed stdout; a shell's `>/dev/null` opens it write-only. That is how a closed
        // stdout is known.
        let stat = fstat(std::io::stdout()).map_err(|_| closed())?;
        let null = FileType::from_raw_mode(stat.st_mode) == FileType::CharacterDevice
            && major(stat.st_rdev) == 1
            && minor(stat.st_rdev) == 3;
        if null && flags.contains(OFlags::RDWR) {
            return Err(closed());
        }
    }
    Ok(())
}

/// Text from a server or an input, made safe for a terminal: control characters (C0, DEL,
/// C1) and the bidirectional overrides are written as `\u{…}` escapes, so that no message
/// can forge an `error:` or `hint:` line, move the cursor or reorder what is shown.
pub(crate) fn escaped(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.contains(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One diagnostic line on stderr. A stderr that cannot be written (closed, a full disk) loses
/// the line but never the process: the exit code still says what happened.
fn diagnostic(prefix: &str, message: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{prefix}: {}", escaped(message));
}

/// A question on stderr, the answer to be typed on the same line.
pub(crate) fn ask(question: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{} ", escaped(question));
    let _ = err.flush();
}

pub(crate) fn note(message: &str) {
    diagnostic("note", message);
}

pub(crate) fn warn(message: &str) {
    diagnostic("warning", message);
}

pub(crate) fn error(message: &str, hints: &[String]) {
    diagnostic("error", message);
    for hint in hints {
        diagnostic("hint", hint);
    }
}

/// One line of output for people (a table): every value in it may come from a server or an
/// input, so it is escaped; JSON records stay exact.
fn row(line: &str) -> std::io::Result<()> {
    try_data(&escaped(line))
}

/// A batch's outcome as stdout data.
pub(crate) fn batch(format: OutputFormat, record: &Value, first: bool) -> std::io::Result<()> {
    let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    match format {
        // `--output ids` is for listings; a bulk run is refused it before it starts.
        OutputFormat::Json | OutputFormat::Ids => try_data(&queried(record)),
        OutputFormat::Table => {
            if first {
                try_data(&format!("{:<38} {:<38} {:>5}  {}", "JOB ID", "REQUEST ID", "IDS", "RESULT"))?;
            }
            let count = record["desktop_ids"].as_array().map_or(0, Vec::len);
            let result = match (record.get("error"), record.get("status")) {
                (Some(error), _) => format!("failed: {}", text(&error["message"])),
                (None, Some(status)) => text(status),
                (None, None) => "ok".to_owned(),
            };
            let line =
                format!("{:<38} {:<38} {:>5}  {}", text(&record["job_id"]), text(&record["request_id"]), count, result);
            try_data(&escaped(&line))
        }
    }
}

/// A desktop's final state as stdout data.
pub(crate) fn desktop(format: OutputFormat, record: &Value, first: bool) -> std::io::Result<()> {
    let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    match format {
        // `--output ids` is for listings; a bulk run is refused it before it starts.
        OutputFormat::Json | OutputFormat::Ids => try_data(&queried(record)),
        OutputFormat::Table => {
            if first {
                try_data(&format!("{:<40} {:<9} {:<38} {}", "DESKTOP", "STATUS", "JOB ID", "REASON"))?;
            }
            let reason = match (record["error_code"].as_str(), record["fail_reason"].as_str()) {
                (Some(code), Some(reason)) => format!("{code}: {reason}"),
                (Some(text), None) | (None, Some(text)) => text.to_owned(),
                (None, None) => String::new(),
            };
            let line = format!(
                "{:<40} {:<9} {:<38} {reason}",
                text(&record["desktop_id"]),
                text(&record["status"]),
                text(&record["job_id"])
            );
            try_data(&escaped(&line))
        }
    }
}

/// A dry run's signed request, secrets already masked by the caller.
pub(crate) fn signed_request(
    format: OutputFormat,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    match format {
        // A listing's dry run has no items to show the ids of: its signed request is JSON.
        OutputFormat::Json | OutputFormat::Ids => {
            let headers: serde_json::Map<String, Value> = headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let body = serde_json::from_slice::<Value>(body).unwrap_or_else(|_| json!(String::from_utf8_lossy(body)));
            json_record(&json!({"method": method, "url": url, "headers": headers, "body": body}))
        }
        OutputFormat::Table => {
            row(&format!("{method} {url}"))?;
            for (name, value) in headers {
                row(&format!("{name}: {value}"))?;
            }
            row("")?;
            row(&String::from_utf8_lossy(body))
        }
    }
}

/// An answer for people, from its JSON alone (so any operation's): a line per scalar
/// member, then each list of objects as rows under a header of their scalar members.
pub(crate) fn answer_table(answer: &Value) -> std::io::Result<()> {
    let Value::Object(members) = answer else { return row(&cell(answer)) };
    let width = members.keys().map(String::len).max().unwrap_or(0);
    for (name, value) in members.iter().filter(|(_, v)| !is_list_of_objects(v)) {
        row(&format!("{name:<width$}  {}", cell(value)))?;
    }
    for (name, value) in members.iter().filter(|(_, v)| is_list_of_objects(v)) {
        let items = value.as_array().map_or(&[][..], Vec::as_slice);
        row(&format!("{name} ({}):", items.len()))?;
        let mut columns: Vec<&String> = Vec::new();
        for item in items.iter().filter_map(Value::as_object) {
            for key in item.keys() {
                if !columns.contains(&key) {
                    columns.push(key);
                }
            }
        }
        let cells: Vec<Vec<String>> = items
            .iter()
            .map(|item| columns.iter().map(|c| cell(item.get(c.as_str()).unwrap_or(&Value::Null))).collect())
            .collect();
        let widths: Vec<usize> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| cells.iter().map(|r| r[i].chars().count()).chain([c.len()]).max().unwrap_or(0))
            .collect();
        let line = |values: Vec<&str>| {
            let padded: Vec<String> = values.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect();
            format!("  {}", padded.join("  ").trim_end())
        };
        row(&line(columns.iter().map(|c| c.as_str()).collect()))?;
        for cells in &cells {
            row(&line(cells.iter().map(String::as_str).collect()))?;
        }
    }
    Ok(())
}

fn is_list_of_objects(value: &Value) -> bool {
    value.as_array().is_some_and(|items| !items.is_empty() && items.iter().all(Value::is_object))
}

/// A value in one cell: text as itself, `-` for nothing, anything else as compact JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}
