//! The journal of a bulk run: append-only JSON lines, each flushed and fsync'd before the
//! engine acts on it, so that a run stopped at any point (Ctrl-C, a crash, a power cut) can
//! be resumed knowing which batches were sent and what became of them.
//!
//! Lines, in order of writing: one `run` line naming what the run is for (a fingerprint of
//! the ids, the sub-resource type, the order, the project and the endpoint, and a digest of
//! each, so a refusal can say which differs); an `opened` line each time a run takes the
//! journal (its process and host, to name the holder to a run that is refused); then per batch
//! `sending` (before the request leaves), and `accepted` (job and request id), `rejected`
//! (the error), `throttled` or `unknown` (sent, no answer known); then a `desktop` line for
//! each desktop's final state.
//!
//! A journal is held by one run at a time: an exclusive lock on the file (`flock`, which Linux
//! maps to NFS byte-range locks on NFS mounts, so other hosts see it; `LockFileEx` on
//! Windows), plus a table of the journals this process holds, since a lock that the file system
//! maps to per-process locks would not keep two runs of one process apart.
//!
//! Nothing is written, truncated or created until the file is proven to be this SDK's journal
//! (or is absent or empty): a file that is not one is refused untouched. Only then is a last
//! line cut short by a crash cut off.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, ConfigErrorKind, Error};
use crate::outcome::DesktopOutcome;

/// The journal format; a different one is refused, not guessed at.
const VERSION: u32 = 1;

/// The longest line a journal holds: a batch's line of 100 ids of 255 characters, or a
/// desktop's with a failure reason read within the 64 KiB error cap, fit many times over. A
/// longer line is not this SDK's, and is refused before it is held in memory.
pub const MAX_JOURNAL_LINE_BYTES: usize = 1 << 20;

/// What the run is for, as recorded in its `run` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RunIdentity {
    /// A digest of everything below: what a journal is matched on.
    pub(crate) fingerprint: String,
    /// A digest of each part, so that a refusal can name what differs.
    pub(crate) parts: Parts,
}

/// Digests of each part of a run's identity (never the values: an endpoint may hold a
/// password, and the journal should not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Parts {
    pub(crate) desktop_ids: String,
    pub(crate) sub_resource_type: String,
    pub(crate) order_id: String,
    pub(crate) project: String,
    pub(crate) endpoint: String,
}

impl Parts {
    /// The names of the parts that differ, in the order a person would check them.
    fn differing(&self, other: &Self) -> Vec<&'static str> {
        [
            ("desktop ids", &self.desktop_ids, &other.desktop_ids),
            ("sub-resource type", &self.sub_resource_type, &other.sub_resource_type),
            ("order id", &self.order_id, &other.order_id),
            ("project", &self.project, &other.project),
            ("endpoint", &self.endpoint, &other.endpoint),
        ]
        .into_iter()
        .filter(|(_, a, b)| a != b)
        .map(|(name, _, _)| name)
        .collect()
    }
}

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum Entry {
    /// A run over a selection (`--where`) starts with it, before its `run` line: the
    /// listing's filters, and how many desktops they resolved to.
    Selection { version: u32, filters: serde_json::Map<String, serde_json::Value>, desktops: usize },
    /// Some of the selected desktop ids, in the listing's order.
    Selected { desktop_ids: Vec<String> },
    /// The selection is whole: the run may act on it, and a resumed run acts on it alone.
    SelectionEnd { desktops: usize },
    /// What the run is for.
    Run {
        version: u32,
        fingerprint: String,
        desktops: usize,
        batches: usize,
        /// Absent from journals written before parts were recorded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parts: Option<Parts>,
    },
    /// A run took the journal: who, to name them to a run that is refused meanwhile.
    Opened { pid: u32, host: String, at: String },
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

/// An open journal, held exclusively: what earlier runs recorded, and the file to append to.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    held: Option<FileKey>,
    pub(crate) batches: HashMap<usize, Recorded>,
    pub(crate) desktops: HashMap<String, DesktopOutcome>,
}

/// A file's identity on its file system, to know a journal under any of its names.
type FileKey = (u64, u64);

/// The journals this process holds now.
fn held_here() -> &'static Mutex<HashSet<FileKey>> {
    static HELD: OnceLock<Mutex<HashSet<FileKey>>> = OnceLock::new();
    HELD.get_or_init(Mutex::default)
}

#[cfg(unix)]
fn file_key(file: &File) -> Option<FileKey> {
    use std::os::unix::fs::MetadataExt;
    file.metadata().ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_key(_file: &File) -> Option<FileKey> {
    // The OS lock alone keeps runs apart where it is per handle (Windows).
    None
}

fn journal_error(path: &Path, why: impl std::fmt::Display) -> Error {
    ConfigError::new(ConfigErrorKind::Journal, format!("the journal {}: {why}", path.display())).into()
}

impl Journal {
    /// Opens (or creates) the journal of the run `identity`, and holds it until dropped. A
    /// journal held by another run, written for another run (other ids, sub-resource type,
    /// order, project or endpoint), or a file that is not a journal is refused, untouched.
    pub(crate) fn open(path: &Path, identity: &RunIdentity, desktops: usize, batches: usize) -> Result<Self, Error> {
        // A FIFO or a device is refused before it is opened: opening one may block or consume.
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => return Err(journal_error(path, "is not a regular file")),
            _ => {}
        }
        let mut file = open_or_create(path)?;
        if !file.metadata().map_err(|e| journal_error(path, e))?.is_file() {
            return Err(journal_error(path, "is not a regular file"));
        }
        let held = hold(path, &file)?;
        let mut journal = Self {
            path: path.to_owned(),
            file: Mutex::new(file.try_clone().map_err(|e| journal_error(path, e))?),
            held,
            batches: HashMap::new(),
            desktops: HashMap::new(),
        };
        let (entries, complete, total) = read_entries(path, &mut file)?;
        let selection = match selection_of(&entries) {
            Head::Selection { lines, .. } => lines,
            Head::TornSelection => {
                return Err(journal_error(path, "holds a selection cut short (a crash?); select again, with --where"));
            }
            Head::Other => 0,
        };
        match entries[selection..].first() {
            None if entries.is_empty() && total > 0 => {
                // Bytes without a single complete line: a one-line file of something else
                // (`sk = …`), never a torn journal, which starts with a complete `run` line.
                return Err(journal_error(path, "is not a journal of this SDK (it holds no complete line)"));
            }
            None => journal.append(&Entry::Run {
                version: VERSION,
                fingerprint: identity.fingerprint.clone(),
                desktops,
                batches,
                parts: Some(identity.parts.clone()),
            })?,
            Some(Entry::Run { version, .. }) if *version != VERSION => {
                return Err(journal_error(path, format!("is of format {version}, this SDK writes {VERSION}")));
            }
            Some(Entry::Run { fingerprint, parts, .. }) if *fingerprint != identity.fingerprint => {
                let which = match parts {
                    Some(theirs) => {
                        let differing = theirs.differing(&identity.parts);
                        if differing.is_empty() { "its run".to_owned() } else { differing.join(", ") }
                    }
                    None => "desktop ids, sub-resource type, order, project or endpoint".to_owned(),
                };
                return Err(journal_error(
                    path,
                    format!("was written for another run (its {which} differ); give a new journal file for this one"),
                ));
            }
            Some(Entry::Run { .. }) => {}
            Some(_) => return Err(journal_error(path, "is not a journal of this SDK (its first line is no run line)")),
        }
        // Proven ours: only now may a line cut short by a crash be cut off, so that what is
        // appended next starts a line of its own.
        if complete < total {
            let file = journal.file.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
            file.set_len(complete).map_err(|e| journal_error(path, e))?;
            tracing::warn!(journal = %path.display(), "the journal's last line was cut short (a crash?); it is ignored");
        }
        for entry in entries {
            journal.remember(entry);
        }
        journal.append(&Entry::Opened { pid: std::process::id(), host: host_name(), at: now() })?;
        Ok(journal)
    }

    fn remember(&mut self, entry: Entry) {
        match entry {
            Entry::Run { .. }
            | Entry::Opened { .. }
            | Entry::Selection { .. }
            | Entry::Selected { .. }
            | Entry::SelectionEnd { .. } => {}
            // A new attempt: what an earlier attempt of the batch recorded (a refusal sent
            // again on request) no longer describes it.
            Entry::Sending { batch, .. } => {
                self.batches.insert(batch, Recorded { sending: true, ..Recorded::default() });
            }
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

impl Drop for Journal {
    fn drop(&mut self) {
        // The OS lock goes with the file; the process's own table is cleared here.
        if let Some(key) = self.held {
            held_here().lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&key);
        }
    }
}

/// What a journal starts with.
enum Head {
    /// A whole selection, of `lines` lines.
    Selection { lines: usize, filters: serde_json::Map<String, serde_json::Value>, desktop_ids: Vec<String> },
    /// A selection without its end, and nothing after: the writer stopped while writing it.
    TornSelection,
    /// No selection (a run over given ids, or nothing yet).
    Other,
}

fn selection_of(entries: &[Entry]) -> Head {
    let Some(Entry::Selection { filters, desktops, .. }) = entries.first() else { return Head::Other };
    let mut desktop_ids = Vec::with_capacity(*desktops);
    for (index, entry) in entries.iter().enumerate().skip(1) {
        match entry {
            Entry::Selected { desktop_ids: part } => desktop_ids.extend(part.iter().cloned()),
            Entry::SelectionEnd { desktops: count } if *count == desktop_ids.len() && *count == *desktops => {
                return Head::Selection { lines: index + 1, filters: filters.clone(), desktop_ids };
            }
            _ => break,
        }
    }
    Head::TornSelection
}

/// A selection as a journal holds it: the filters, and the ids they resolved to.
pub(crate) type RecordedSelection = (serde_json::Map<String, serde_json::Value>, Vec<String>);

/// The selection a journal starts with, written by an earlier run of the same `--where`:
/// `None` when the file is absent, empty, or holds a selection cut short (to be made again).
/// A journal of a run over given ids is refused: its run is not a selection's.
pub(crate) fn recorded_selection(path: &Path) -> Result<Option<RecordedSelection>, Error> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(journal_error(path, e)),
        Ok(meta) if !meta.is_file() => return Err(journal_error(path, "is not a regular file")),
        Ok(_) => {}
    }
    let mut file = File::open(path).map_err(|e| journal_error(path, e))?;
    let (entries, _, total) = read_entries(path, &mut file)?;
    match selection_of(&entries) {
        Head::Selection { filters, desktop_ids, .. } => Ok(Some((filters, desktop_ids))),
        Head::TornSelection => Ok(None),
        Head::Other if entries.is_empty() && total == 0 => Ok(None),
        Head::Other if entries.is_empty() => {
            Err(journal_error(path, "is not a journal of this SDK (it holds no complete line)"))
        }
        Head::Other => Err(journal_error(
            path,
            "is the journal of a run over given desktop ids, not of a selection; give a new journal file for --where",
        )),
    }
}

/// Writes a selection at the head of a new journal (absent, empty, or holding a selection
/// cut short), durably, before anything is sent. Any other file is refused, untouched.
pub(crate) fn record_selection(
    path: &Path,
    filters: &serde_json::Map<String, serde_json::Value>,
    desktop_ids: &[String],
) -> Result<(), Error> {
    /// Ids per line: 1,000 ids of 255 characters stay within [`MAX_JOURNAL_LINE_BYTES`].
    const IDS_PER_LINE: usize = 1_000;
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return Err(journal_error(path, "is not a regular file")),
        _ => {}
    }
    let mut file = open_or_create(path)?;
    let held = hold(path, &file)?;
    let written = (|| {
        let (entries, _, total) = read_entries(path, &mut file)?;
        let fresh = total == 0 || matches!(selection_of(&entries), Head::TornSelection);
        if !fresh {
            return Err(journal_error(path, "already holds a run; give a new journal file for a new selection"));
        }
        let mut text = Vec::new();
        let mut line = |entry: &Entry| -> Result<(), Error> {
            serde_json::to_writer(&mut text, entry).map_err(|e| journal_error(path, e))?;
            text.push(b'\n');
            Ok(())
        };
        line(&Entry::Selection { version: VERSION, filters: filters.clone(), desktops: desktop_ids.len() })?;
        for part in desktop_ids.chunks(IDS_PER_LINE) {
            line(&Entry::Selected { desktop_ids: part.to_vec() })?;
        }
        line(&Entry::SelectionEnd { desktops: desktop_ids.len() })?;
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)).map(drop))
            .and_then(|()| file.write_all(&text))
            .and_then(|()| file.sync_data())
            .map_err(|e| journal_error(path, format!("cannot be written ({e})")))
    })();
    if let Some(key) = held {
        held_here().lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&key);
    }
    written
}

/// Opens the journal for reading and appending, creating it only when absent (never
/// truncating), so that a file that turns out not to be a journal is left as it was.
fn open_or_create(path: &Path) -> Result<File, Error> {
    let open = || std::fs::OpenOptions::new().read(true).append(true).open(path);
    match open() {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            match std::fs::OpenOptions::new().read(true).append(true).create_new(true).open(path) {
                Ok(file) => Ok(file),
                // Another run created it meanwhile: open that one (its lock then decides).
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => open(),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
    .map_err(|e| journal_error(path, format!("cannot be opened ({e})")))
}

/// Takes the journal for this run, or names who holds it.
fn hold(path: &Path, file: &File) -> Result<Option<FileKey>, Error> {
    let key = file_key(file);
    if let Some(key) = key
        && !held_here().lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key)
    {
        return Err(journal_error(
            path,
            format!(
                "is held by another run of this process (pid {}); one run per journal: wait for it to end, or give another journal file",
                std::process::id()
            ),
        ));
    }
    let release = || {
        if let Some(key) = key {
            held_here().lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&key);
        }
    };
    // Fully qualified: std's own `File::try_lock` (Rust 1.89) would shadow the trait's.
    match fs4::FileExt::try_lock(file) {
        Ok(()) => Ok(key),
        Err(fs4::TryLockError::WouldBlock) => {
            release();
            let holder = holder_of(path);
            Err(journal_error(
                path,
                format!("is held by {holder}; one run per journal: wait for it to end, or give another journal file"),
            ))
        }
        Err(fs4::TryLockError::Error(e)) => {
            release();
            Err(journal_error(
                path,
                format!(
                    "cannot be locked ({e}); a journal is only used where one run can hold it alone (a local or NFS file system)"
                ),
            ))
        }
    }
}

/// Who holds a journal, from its last `opened` line (read without touching the file). The
/// holder writes that line just after taking the lock, so a run refused in between may see
/// none yet, or an earlier run's: it waits a little for a line naming a live process.
fn holder_of(path: &Path) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let here = host_name();
    loop {
        if let Some((pid, host, at)) = last_opened(path)
            && (host != here || process_alive(pid))
        {
            return format!("the run of process {pid} on host {host} (since {at})");
        }
        if std::time::Instant::now() >= deadline {
            return "another run (which has not named itself in the journal)".to_owned();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn last_opened(path: &Path) -> Option<(u32, String, String)> {
    let mut reader = BufReader::new(File::open(path).ok()?);
    let mut holder = None;
    while let Ok(Some(line)) = read_line(&mut reader) {
        if let Ok(Entry::Opened { pid, host, at }) = serde_json::from_slice::<Entry>(&line) {
            holder = Some((pid, host, at));
        }
    }
    holder
}

/// Whether a process of this host lives (where the system tells; elsewhere it is assumed to).
fn process_alive(pid: u32) -> bool {
    let proc_root = Path::new("/proc/self");
    !proc_root.exists() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Every complete line of the file as an entry, with the length of the complete lines and of
/// the whole file. A line that is not an entry is refused by its number; the file is not
/// changed.
fn read_entries(path: &Path, file: &mut File) -> Result<(Vec<Entry>, u64, u64), Error> {
    file.seek(SeekFrom::Start(0)).map_err(|e| journal_error(path, e))?;
    let mut reader = BufReader::new(&mut *file);
    let mut entries = Vec::new();
    let mut complete = 0u64;
    let mut total = 0u64;
    let mut number = 0usize;
    loop {
        let line = read_line(&mut reader).map_err(|why| match why {
            LineError::TooLong => journal_error(
                path,
                format!(
                    "line {} is longer than {MAX_JOURNAL_LINE_BYTES} bytes (MAX_JOURNAL_LINE_BYTES): not a journal of this SDK",
                    number + 1
                ),
            ),
            LineError::Io(e) => journal_error(path, format!("cannot be read ({e})")),
        })?;
        let Some(line) = line else { break };
        number += 1;
        total += line.len() as u64;
        if line.last() != Some(&b'\n') {
            // The last line, cut short: judged once the first line proved the file ours.
            if number == 1 {
                return Ok((entries, 0, total));
            }
            break;
        }
        complete = total;
        let text = &line[..line.len() - 1];
        if text.is_empty() {
            continue;
        }
        let entry: Entry = serde_json::from_slice(text).map_err(|e| {
            if number == 1 {
                journal_error(path, "is not a journal of this SDK (its first line is no run line)")
            } else {
                journal_error(path, format!("line {number} is not a journal entry ({e})"))
            }
        })?;
        entries.push(entry);
    }
    Ok((entries, complete, total))
}

enum LineError {
    TooLong,
    Io(std::io::Error),
}

/// One line with its newline (none at the end of the file), at most
/// [`MAX_JOURNAL_LINE_BYTES`].
fn read_line(reader: &mut impl BufRead) -> Result<Option<Vec<u8>>, LineError> {
    let mut line = Vec::new();
    let limit = MAX_JOURNAL_LINE_BYTES as u64 + 1;
    let read = reader.by_ref().take(limit).read_until(b'\n', &mut line).map_err(LineError::Io)?;
    if read == 0 {
        return Ok(None);
    }
    if line.len() as u64 >= limit && line.last() != Some(&b'\n') {
        return Err(LineError::TooLong);
    }
    Ok(Some(line))
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|name| name.trim().chars().filter(|c| !c.is_control()).take(255).collect())
        .filter(|name: &String| !name.is_empty())
        .unwrap_or_else(|| "(unknown)".to_owned())
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "(unknown time)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(ids: &str, endpoint: &str) -> RunIdentity {
        RunIdentity {
            fingerprint: format!("{ids}|{endpoint}"),
            parts: Parts {
                desktop_ids: ids.to_owned(),
                sub_resource_type: "t".to_owned(),
                order_id: "o".to_owned(),
                project: "p".to_owned(),
                endpoint: endpoint.to_owned(),
            },
        }
    }

    fn message(result: Result<Journal, Error>) -> String {
        result.expect_err("refused").to_string()
    }

    #[test]
    fn files_that_are_not_journals_are_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        for content in [
            &b"sk = secret"[..],
            b"[basic]\nak = x\nsk = y",
            b"{\"not\":\"a journal\"}\n{\"event\":\"sending\"",
            b"\n\nplain text\n",
            b"{\"event\":\"sending\",\"batch\":0,\"desktop_ids\":[]}\n",
        ] {
            let path = dir.path().join("file");
            std::fs::write(&path, content).unwrap();
            let refused = message(Journal::open(&path, &identity("a", "e"), 1, 1));
            assert!(refused.contains("not a journal"), "{refused}");
            assert_eq!(std::fs::read(&path).unwrap(), content, "the file was changed");
        }
    }

    #[test]
    fn a_journal_is_held_by_one_run_and_names_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        let first = Journal::open(&path, &identity("a", "e"), 1, 1).unwrap();
        let refused = message(Journal::open(&path, &identity("a", "e"), 1, 1));
        assert!(refused.contains("held by") && refused.contains(&std::process::id().to_string()), "{refused}");
        // Under another name too.
        let link = dir.path().join("link.jsonl");
        std::fs::hard_link(&path, &link).unwrap();
        assert!(message(Journal::open(&link, &identity("a", "e"), 1, 1)).contains("held by"));
        drop(first);
        let again = Journal::open(&path, &identity("a", "e"), 1, 1).unwrap();
        drop(again);
        let lines = std::fs::read_to_string(&path).unwrap();
        assert_eq!(lines.lines().filter(|l| l.contains("\"opened\"")).count(), 2, "{lines}");
    }

    #[test]
    fn another_runs_journal_names_what_differs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        drop(Journal::open(&path, &identity("a", "e"), 1, 1).unwrap());
        let before = std::fs::read(&path).unwrap();
        let refused = message(Journal::open(&path, &identity("a", "other"), 1, 1));
        assert!(refused.contains("its endpoint differ"), "{refused}");
        let refused = message(Journal::open(&path, &identity("b", "other"), 1, 1));
        assert!(refused.contains("desktop ids, endpoint"), "{refused}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn a_torn_last_line_of_a_journal_is_cut_and_overlong_lines_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.jsonl");
        drop(Journal::open(&path, &identity("a", "e"), 1, 1).unwrap());
        let mut text = std::fs::read(&path).unwrap();
        let whole = text.len();
        text.extend_from_slice(b"{\"event\":\"send");
        std::fs::write(&path, &text).unwrap();
        drop(Journal::open(&path, &identity("a", "e"), 1, 1).unwrap());
        let after = std::fs::read(&path).unwrap();
        assert_eq!(&after[..whole], &text[..whole]);
        assert!(after[whole..].starts_with(b"{\"event\":\"opened\""));
        let mut long = after.clone();
        long.extend(std::iter::repeat_n(b'x', MAX_JOURNAL_LINE_BYTES + 10));
        std::fs::write(&path, &long).unwrap();
        assert!(message(Journal::open(&path, &identity("a", "e"), 1, 1)).contains("MAX_JOURNAL_LINE_BYTES"));
        assert_eq!(std::fs::read(&path).unwrap(), long);
    }
}
