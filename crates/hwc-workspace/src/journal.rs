//! The journal of a bulk run: append-only JSON lines, each flushed and fsync'd before the
//! engine acts on it, so that a run stopped at any point (Ctrl-C, a crash, a power cut) can
//! be resumed knowing which batches were sent and what became of them.
//!
//! Lines, in order of writing: one `run` line naming what the run is for (a fingerprint of
//! the ids, the sub-resource type, the order, the project and the endpoint); then per batch
//! `sending` (before the request leaves), and `accepted` (job and request id), `rejected`
//! (the error) or `unknown` (sent, no answer known); then a `desktop` line for each
//! desktop's final state. A last line cut short by a crash is ignored (and cut off).

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::bulk::DesktopOutcome;
use crate::error::{ConfigError, ConfigErrorKind, Error};

/// The journal format; a different one is refused, not guessed at.
const VERSION: u32 = 1;

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum Entry {
    /// What the run is for.
    Run { version: u32, fingerprint: String, desktops: usize, batches: usize },
    /// A batch is about to be sent.
    Sending { batch: usize, desktop_ids: Vec<String> },
    /// The service accepted it.
    Accepted { batch: usize, job_id: String, request_id: Option<String> },
    /// The gateway throttled it (429): not processed, to be sent again.
    Throttled { batch: usize },
    /// The service refused it (it was not processed).
    Rejected { batch: usize, status: Option<u16>, error_code: Option<String>, message: String },
    /// It was sent and no answer is known: it may or may not have been processed.
    Unknown { batch: usize, reason: String },
    /// A desktop's final state.
    Desktop(DesktopOutcome),
}

/// What an earlier run recorded of one batch.
#[derive(Debug, Clone, Default)]
pub(crate) struct Recorded {
    pub(crate) sending: bool,
    pub(crate) accepted: Option<(String, Option<String>)>,
    pub(crate) rejected: Option<(Option<u16>, Option<String>, String)>,
    pub(crate) unknown: Option<String>,
}

/// An open journal: what earlier runs recorded, and the file to append to.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    pub(crate) batches: HashMap<usize, Recorded>,
    pub(crate) desktops: HashMap<String, DesktopOutcome>,
}

fn journal_error(path: &Path, why: impl std::fmt::Display) -> Error {
    ConfigError::new(ConfigErrorKind::Journal, format!("the journal {}: {why}", path.display())).into()
}

impl Journal {
    /// Opens (or creates) the journal of the run named by `fingerprint`. A journal written for
    /// another run (other ids, sub-resource type, order, project or endpoint) is refused.
    pub(crate) fn open(path: &Path, fingerprint: &str, desktops: usize, batches: usize) -> Result<Self, Error> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| journal_error(path, format!("cannot be opened ({e})")))?;
        if !file.metadata().map_err(|e| journal_error(path, e))?.is_file() {
            return Err(journal_error(path, "is not a regular file"));
        }
        let mut text = Vec::new();
        file.read_to_end(&mut text).map_err(|e| journal_error(path, format!("cannot be read ({e})")))?;
        // A crash mid-write leaves a last line without its newline: it is cut off, so that
        // what is appended next starts a line of its own.
        let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if complete < text.len() {
            file.set_len(complete as u64).map_err(|e| journal_error(path, e))?;
            file.seek(SeekFrom::End(0)).map_err(|e| journal_error(path, e))?;
            tracing::warn!(journal = %path.display(), "the journal's last line was cut short (a crash?); it is ignored");
        }
        let mut journal =
            Self { path: path.to_owned(), file: Mutex::new(file), batches: HashMap::new(), desktops: HashMap::new() };
        let mut lines = text[..complete].split(|&b| b == b'\n').filter(|l| !l.is_empty()).enumerate();
        match lines.next() {
            None => journal.append(&Entry::Run {
                version: VERSION,
                fingerprint: fingerprint.to_owned(),
                desktops,
                batches,
            })?,
            Some((_, first)) => match serde_json::from_slice::<Entry>(first) {
                Ok(Entry::Run { version, fingerprint: theirs, .. }) if version == VERSION && theirs == fingerprint => {}
                Ok(Entry::Run { version, .. }) if version != VERSION => {
                    return Err(journal_error(path, format!("is of format {version}, this SDK writes {VERSION}")));
                }
                Ok(Entry::Run { .. }) => {
                    return Err(journal_error(
                        path,
                        "was written for another run (other desktop ids, sub-resource type, order, project or \
                         endpoint); give a new journal file for this one",
                    ));
                }
                _ => return Err(journal_error(path, "is not a journal of this SDK (its first line is no run line)")),
            },
        }
        for (number, line) in lines {
            let entry: Entry = serde_json::from_slice(line)
                .map_err(|e| journal_error(path, format!("line {} is not a journal entry ({e})", number + 1)))?;
            journal.remember(entry);
        }
        Ok(journal)
    }

    fn remember(&mut self, entry: Entry) {
        match entry {
            Entry::Run { .. } => {}
            Entry::Sending { batch, .. } => self.batches.entry(batch).or_default().sending = true,
            Entry::Throttled { batch } => self.batches.entry(batch).or_default().sending = false,
            Entry::Accepted { batch, job_id, request_id } => {
                self.batches.entry(batch).or_default().accepted = Some((job_id, request_id));
            }
            Entry::Rejected { batch, status, error_code, message } => {
                self.batches.entry(batch).or_default().rejected = Some((status, error_code, message));
            }
            Entry::Unknown { batch, reason } => self.batches.entry(batch).or_default().unknown = Some(reason),
            Entry::Desktop(outcome) => {
                self.desktops.insert(outcome.desktop_id.clone(), outcome);
            }
        }
    }

    /// Appends one entry and makes it durable before returning.
    pub(crate) fn append(&self, entry: &Entry) -> Result<(), Error> {
        let mut line = serde_json::to_vec(entry).map_err(|e| journal_error(&self.path, e))?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(|e| journal_error(&self.path, format!("cannot be written ({e})")))
    }
}
