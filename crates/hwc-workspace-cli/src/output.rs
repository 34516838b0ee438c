//! Everything written to stdout and stderr goes through here: stdout is data, stderr is
//! diagnostics (`error:` then `hint:` lines).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

use serde_json::{Value, json};

use crate::args::OutputFormat;

/// Writes one data record to stdout. A closed pipe (`| head`) is not an error worth a panic.
pub(crate) fn data(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

pub(crate) fn json_record(value: &Value) {
    data(&value.to_string());
}

pub(crate) fn note(message: &str) {
    eprintln!("note: {message}");
}

pub(crate) fn warn(message: &str) {
    eprintln!("warning: {message}");
}

pub(crate) fn error(message: &str, hints: &[String]) {
    eprintln!("error: {message}");
    for hint in hints {
        eprintln!("hint: {hint}");
    }
}

/// A batch's outcome as stdout data.
pub(crate) fn batch(format: OutputFormat, record: &Value, first: bool) {
    match format {
        OutputFormat::Json => json_record(record),
        OutputFormat::Table => {
            if first {
                data(&format!("{:<38} {:<38} {:>5}  {}", "JOB ID", "REQUEST ID", "IDS", "RESULT"));
            }
            let count = record["desktop_ids"].as_array().map_or(0, Vec::len);
            let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
            let result = match record.get("error") {
                Some(error) => format!("failed: {}", text(&error["message"])),
                None => "ok".to_owned(),
            };
            data(&format!(
                "{:<38} {:<38} {:>5}  {}",
                text(&record["job_id"]),
                text(&record["request_id"]),
                count,
                result
            ));
        }
    }
}

/// A dry run's signed request, secrets already masked by the caller.
pub(crate) fn signed_request(format: OutputFormat, method: &str, url: &str, headers: &[(String, String)], body: &[u8]) {
    match format {
        OutputFormat::Json => {
            let headers: serde_json::Map<String, Value> = headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let body = serde_json::from_slice::<Value>(body).unwrap_or_else(|_| json!(String::from_utf8_lossy(body)));
            json_record(&json!({"method": method, "url": url, "headers": headers, "body": body}));
        }
        OutputFormat::Table => {
            data(&format!("{method} {url}"));
            for (name, value) in headers {
                data(&format!("{name}: {value}"));
            }
            data("");
            data(&String::from_utf8_lossy(body));
        }
    }
}

/// A job and its sub-jobs for people.
pub(crate) fn job_table(job: &hwc_workspace::Job) {
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    data(&format!("job {} {} ({} sub-jobs)", job.id, job.status, job.sub_jobs.len()));
    if let Some(reason) = &job.fail_reason {
        data(&format!("  {}: {reason}", text(&job.job_error_code)));
    }
    for sub in &job.sub_jobs {
        let desktop = sub.entities.as_ref().and_then(|e| e.desktop_id.clone());
        let status = sub.status.as_ref().map_or_else(|| "-".to_owned(), ToString::to_string);
        data(&format!("  {:<40} {:<8} {}", text(&desktop), status, text(&sub.fail_reason)));
    }
}
