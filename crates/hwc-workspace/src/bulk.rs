//! The bulk engine: any number of desktop ids, in batches of [`MAX_DESKTOP_IDS`], sent with
//! bounded, adaptive concurrency, each batch's outcome reported as soon as it is known, and at
//! the end an account of every distinct desktop: `SUCCESS`, `FAILED` or `UNKNOWN` (with why),
//! or `ACCEPTED` when the run does not wait for the jobs.
//!
//! The rules that make it safe over a fleet:
//! - every id is checked before the first batch is sent;
//! - a batch is sent again only after a 429 (the gateway did not pass it on), after the wait
//!   the service asked for, with fewer batches in flight until successes raise the number
//!   again; never after any other answer, nor after a failure in which it may have arrived;
//! - with a journal, each batch is recorded (and fsync'd) before it is sent and when its
//!   outcome is known, so a stopped run resumes without sending anything twice;
//! - cancelling starts no new batch; the batches in flight end within their timeout and are
//!   reported.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

pub use crate::account::Account;
use crate::client::{Client, WaitOptions};
use crate::error::{Error, InvalidInput};
use crate::ids::IdList;
pub use crate::journal::MAX_JOURNAL_LINE_BYTES;
use crate::journal::{Entry, Journal, Parts, RunIdentity};
use crate::model::{DeleteSubResources, MAX_DESKTOP_IDS, SubResourceType};
use crate::operation::OperationId;
pub use crate::outcome::{DesktopOutcome, DesktopStatus, Verdict};
use crate::pace::JobPace;

/// Batches in flight unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// The most batches in flight a run takes.
pub const MAX_CONCURRENCY: usize = 64;
/// The longest a throttled batch waits before it is sent again, whatever `Retry-After` says.
pub const MAX_THROTTLE_WAIT: Duration = Duration::from_secs(60);
/// How long a batch may stay throttled (from its first 429) before the run gives it up: a
/// gateway that throttles for ever ends the run in about two minutes, not never.
pub const DEFAULT_THROTTLE_TIMEOUT: Duration = Duration::from_secs(120);

/// How a bulk run goes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BulkOptions {
    /// What each batch is: the deletion ([`BulkOptions::new`]), or `AddDesktopSubResources`
    /// ([`BulkOptions::adding`]).
    pub operation: OperationId,
    /// What to delete from each desktop (a deletion's).
    pub sub_resource_type: SubResourceType,
    /// The order, for resources bought with one.
    pub order_id: Option<String>,
    /// Further body fields the spec declares, sent with every batch (see
    /// [`DeleteSubResources::extra`]).
    pub extra: crate::operation::Input,
    /// Batches in flight at most (1 to [`MAX_CONCURRENCY`]).
    pub concurrency: usize,
    /// Follow each accepted batch's job to its end; `None` reports acceptances only.
    pub wait: Option<WaitOptions>,
    /// Where to journal the run; an existing journal of the same run resumes it.
    pub journal: Option<PathBuf>,
    /// On resume, send again the batches whose outcome is unknown (they may have been
    /// processed: only when the caller knows they were not).
    pub resend_unknown: bool,
    /// On resume, send again the batches an earlier run had refused (e.g. for keys that
    /// have been fixed since).
    pub resend_refused: bool,
    /// How long a batch may stay throttled, from its first 429, before it is given up
    /// ([`BatchResult::Throttled`]) and the rest of the run is not sent (at most
    /// [`crate::MAX_DURATION`]).
    pub throttle_timeout: Duration,
    /// A batch refused with 404 (it names a desktop the service does not know, and nothing
    /// was done) is split: `ListDesktops` says which of its desktops exist, the others end
    /// [`DesktopStatus::NotFound`] and the rest are sent again, once. `false` leaves the whole
    /// batch refused, as the service answered.
    pub split_not_found: bool,
}

impl BulkOptions {
    /// A run that adds the collaboration resource of `sub_resource_sku` to each desktop
    /// (`AddDesktopSubResources`), with the defaults of [`BulkOptions::new`].
    pub fn adding(sub_resource_sku: impl Into<String>) -> Self {
        let mut options = Self::new(SubResourceType::DESKTOP_SHARER);
        options.operation = OperationId::AddDesktopSubResources;
        options.extra.set("sub_resource_sku", sub_resource_sku.into());
        options
    }

    /// The input of one batch, by the operation's field names.
    pub fn input(&self, desktop_ids: Vec<String>) -> crate::operation::Input {
        if self.operation == OperationId::DeleteDesktopSubResources {
            return self.request(desktop_ids).to_input();
        }
        let mut input = self.extra.clone();
        input.set("desktop_ids", desktop_ids);
        if let Some(order_id) = &self.order_id {
            input.set("order_id", order_id);
        }
        input
    }

    /// The request of one batch of a deletion.
    pub fn request(&self, desktop_ids: Vec<String>) -> DeleteSubResources {
        let mut request = DeleteSubResources::new(desktop_ids, self.sub_resource_type.clone());
        request.order_id = self.order_id.clone();
        request.extra = self.extra.clone();
        request
    }

    /// The further fields as canonical JSON text (keys sorted), or "" when there are none.
    fn extra_key(&self) -> String {
        let sorted: std::collections::BTreeMap<&String, &serde_json::Value> = self.extra.values().iter().collect();
        if sorted.is_empty() { String::new() } else { serde_json::to_string(&sorted).unwrap_or_default() }
    }

    /// Defaults: [`DEFAULT_CONCURRENCY`], no waiting, no journal.
    pub fn new(sub_resource_type: impl Into<SubResourceType>) -> Self {
        Self {
            operation: OperationId::DeleteDesktopSubResources,
            sub_resource_type: sub_resource_type.into(),
            order_id: None,
            extra: crate::operation::Input::new(),
            concurrency: DEFAULT_CONCURRENCY,
            wait: None,
            journal: None,
            resend_unknown: false,
            resend_refused: false,
            throttle_timeout: DEFAULT_THROTTLE_TIMEOUT,
            split_not_found: true,
        }
    }
}

/// What became of one batch.
#[derive(Debug)]
#[non_exhaustive]
pub enum BatchResult {
    /// The service accepted it (and, with waiting, its job was followed).
    Accepted {
        /// The job the service answered with.
        job_id: String,
        /// The request id of the answer.
        request_id: Option<String>,
        /// With waiting, the job as it ended.
        job: Option<Box<crate::types::Job>>,
        /// Why the job's end is not known, when waiting did not see it end.
        wait_error: Option<Error>,
    },
    /// The service refused it; it was not processed and is not sent again.
    Rejected(Error),
    /// An earlier run of the journal recorded its refusal; it is not sent again.
    RefusedEarlier {
        /// The status of the refusal.
        status: Option<u16>,
        /// The service's error code.
        error_code: Option<String>,
        /// What the refusal said.
        message: String,
    },
    /// It was sent and its answer is not known (a timeout, a broken connection, a 5xx, an
    /// earlier run that stopped): it may have been processed.
    Unknown {
        /// Why it is not known.
        reason: String,
        /// The failure, when this run met it.
        error: Option<Error>,
    },
    /// The gateway throttled it (429) for longer than [`BulkOptions::throttle_timeout`]: it
    /// was never passed on, and the run sends nothing more.
    Throttled {
        /// The last 429.
        error: Error,
        /// How long it was throttled, from its first 429.
        throttled_for: Duration,
    },
    /// It was not sent: the run was stopped first.
    NotSent,
}

/// One batch's outcome, reported as soon as it is known.
#[derive(Debug)]
pub struct BatchOutcome {
    /// The batch's place in the run (from 0).
    pub index: usize,
    /// Its desktops, in input order.
    pub desktop_ids: Vec<String>,
    /// What became of it.
    pub result: BatchResult,
    /// Each desktop's state after it.
    pub desktops: Vec<DesktopOutcome>,
    /// Recorded by an earlier run of the same journal, not sent by this one.
    pub resumed: bool,
    /// The verdict over its desktops (and its job): success only when every desktop
    /// succeeded and no job failed.
    pub verdict: Verdict,
}

/// The input of a run, checked: distinct ids in batches, every id and setting valid.
#[derive(Debug, Clone)]
pub struct BulkPlan {
    /// The distinct ids, in order, held once; batch `i` is ids `i * 100 ..` ([`batch_places`]).
    ids: Arc<IdList>,
    options: BulkOptions,
}

impl BulkPlan {
    /// Keeps the first of each id and checks them all, as a single call checks them (an id
    /// with surrounding white space is refused, not trimmed: it is not the id that was
    /// meant): a bad one is an [`Error::InvalidInput`] whose index is its place among the ids
    /// given (from 0), so nothing is sent for a run with one bad id.
    pub fn new<I, S>(ids: I, options: BulkOptions) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::from_list(ids.into_iter().collect::<IdList>(), options)
    }

    /// As [`BulkPlan::new`], of ids already held compactly: without duplicates, the plan
    /// holds this very list (a caller that keeps a clone of the `Arc`, to name a refused id,
    /// holds no second copy).
    pub fn from_list(ids: impl Into<Arc<IdList>>, options: BulkOptions) -> Result<Self, Error> {
        let ids = ids.into();
        crate::limits::check_timeout("throttle_timeout", options.throttle_timeout)?;
        if let Some(wait) = &options.wait {
            wait.check()?;
        }
        if !(1..=MAX_CONCURRENCY).contains(&options.concurrency) {
            return Err(InvalidInput::new(
                "concurrency",
                format!("1 to {MAX_CONCURRENCY}"),
                options.concurrency.to_string(),
            )
            .into());
        }
        // The ids seen are known by their places in the list, not by copies of them.
        let mut seen: hashbrown::HashTable<usize> = hashbrown::HashTable::new();
        let hasher = std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default();
        let hash = |id: &str| std::hash::BuildHasher::hash_one(&hasher, id);
        let mut duplicates: Vec<usize> = Vec::new();
        let operation = options.operation.describe();
        for (position, id) in ids.iter().enumerate() {
            let id_hash = hash(id);
            if seen.find(id_hash, |&place| ids.get(place) == Some(id)).is_some() {
                duplicates.push(position);
                continue;
            }
            // The whole input is checked once, with the first id; each later id by the list's
            // item rule alone (the rest of the input does not change).
            let checked = if position == 0 {
                crate::operation::check_arguments(operation, &options.input(vec![id.to_owned()]))
            } else {
                crate::operation::check_list_item(operation, "desktop_ids", 0, id)
            };
            if let Err(Error::InvalidInput(e)) = checked {
                return Err(match e.index() {
                    Some(_) => InvalidInput::new("desktop_ids", e.expected(), e.got()).at(position).into(),
                    None => e.into(),
                });
            }
            seen.insert_unique(id_hash, position, |&place| hash(ids.get(place).unwrap_or_default()));
        }
        drop(seen);
        if ids.is_empty() {
            return Err(InvalidInput::new("desktop_ids", "at least one desktop id", "none").into());
        }
        let ids = if duplicates.is_empty() {
            ids
        } else {
            // The first of each id is kept, in order.
            let mut later = duplicates.into_iter().peekable();
            let mut distinct = IdList::new();
            for (position, id) in ids.iter().enumerate() {
                if later.next_if_eq(&position).is_none() {
                    distinct.push(id);
                }
            }
            distinct.shrink_to_fit();
            Arc::new(distinct)
        };
        Ok(Self { ids, options })
    }

    /// How many batches.
    pub fn batch_count(&self) -> usize {
        batch_count(&self.ids)
    }

    /// Batch `index`'s ids, in order (none past the last batch).
    pub fn batch(&self, index: usize) -> Vec<String> {
        batch_of(&self.ids, index)
    }

    /// How many distinct desktops.
    pub fn desktops(&self) -> usize {
        self.ids.len()
    }

    /// What names this run in a journal: the ids, the type, the order, project and endpoint,
    /// with a digest of each so that a refusal can say which differs.
    fn identity(&self, client: &Client) -> RunIdentity {
        let digest = |parts: &[&[u8]]| {
            let mut hash = Sha256::new();
            for part in parts {
                hash.update(part);
                hash.update([0]);
            }
            hex_digest(&hash.finalize())
        };
        // The fingerprint's formula is the one journals have always been matched on.
        let mut hash = Sha256::new();
        // A deletion's part is its sub-resource type, as it always was; another operation's
        // names the operation too, so that its journal never resumes a deletion.
        let kind = if self.options.operation == OperationId::DeleteDesktopSubResources {
            self.options.sub_resource_type.as_str().to_owned()
        } else {
            format!("{}\u{0}{}", self.options.operation.describe().name, self.options.sub_resource_type.as_str())
        };
        for part in [client.endpoint(), &client.project_key(), kind.as_str()] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let order = self.options.order_id.as_deref().unwrap_or("\u{0}none");
        // Further fields join the order's part; a run without them keeps the formula
        // journals have always been matched on.
        let extra = self.options.extra_key();
        let order = if extra.is_empty() { order.to_owned() } else { format!("{order}\u{0}{extra}") };
        hash.update(order.as_bytes());
        for id in self.ids.iter() {
            hash.update([0]);
            hash.update(id.as_bytes());
        }
        let ids: Vec<&[u8]> = self.ids.iter().map(str::as_bytes).collect();
        RunIdentity {
            fingerprint: hex_digest(&hash.finalize()),
            parts: Parts {
                desktop_ids: digest(&ids),
                sub_resource_type: digest(&[kind.as_bytes()]),
                order_id: digest(&[order.as_bytes()]),
                project: digest(&[client.project_key().as_bytes()]),
                endpoint: digest(&[client.endpoint().as_bytes()]),
            },
        }
    }
}

/// The places among a run's ids of batch `index`'s.
fn batch_places(ids: &IdList, index: usize) -> std::ops::Range<usize> {
    let start = index.saturating_mul(MAX_DESKTOP_IDS).min(ids.len());
    start..start.saturating_add(MAX_DESKTOP_IDS).min(ids.len())
}

fn batch_of(ids: &IdList, index: usize) -> Vec<String> {
    ids.range(batch_places(ids, index)).map(str::to_owned).collect()
}

fn batch_count(ids: &IdList) -> usize {
    ids.len().div_ceil(MAX_DESKTOP_IDS)
}

fn hex_digest(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stops a run from starting new batches; clone it into a signal handler.
#[derive(Debug, Clone, Default)]
pub struct Canceller {
    cancelled: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Canceller {
    /// No new batch starts; those in flight end within their timeout and are reported.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether [`Canceller::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// What a batch's task hands back to the scheduler.
enum Step {
    Done(Box<BatchOutcome>),
    /// Accepted, to be followed to its job's end: the desktops sent, and those set apart as
    /// unknown to the service (a 404 split off).
    Follow {
        index: usize,
        sent: Vec<String>,
        not_found: Vec<DesktopOutcome>,
        job_id: String,
        request_id: Option<String>,
    },
    /// 429: not processed; send it again after `wait`, unless it has been throttled too long.
    Throttled {
        index: usize,
        wait: Duration,
        error: Error,
    },
}

type Task = Pin<Box<dyn Future<Output = Step> + Send>>;

/// A running bulk deletion: pull outcomes with [`BulkRun::next`] as they come; the account
/// grows as they do.
pub struct BulkRun {
    client: Client,
    ids: Arc<IdList>,
    options: Arc<BulkOptions>,
    journal: Option<Arc<Journal>>,
    pending: VecDeque<usize>,
    resumed: VecDeque<BatchOutcome>,
    in_flight: FuturesUnordered<Task>,
    /// Accepted batches whose jobs are followed; they hold no sending slot.
    following: FuturesUnordered<Task>,
    limit: usize,
    successes: usize,
    throttles: Arc<AtomicUsize>,
    /// When each batch throttled now was first throttled.
    throttled_since: HashMap<usize, Instant>,
    canceller: Canceller,
    /// Why the run stopped sending, when it stopped by itself (a batch throttled too long).
    stop_reason: Option<String>,
    account: Account,
    progress: Progress,
    /// How long this run's jobs take, as learnt from them, and how often they were read.
    pace: JobPace,
}

/// How far a run has come, in desktops, readable while it runs (e.g. by a progress bar):
/// those of every batch reported, plus, for each batch whose job is followed, its desktops
/// times the job's progress ([`crate::outcome::job_progress`]).
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// One lock for both parts, so that a batch moving from followed to reported is never
    /// seen counted twice or not at all.
    state: Arc<std::sync::Mutex<ProgressState>>,
}

#[derive(Debug, Default)]
struct ProgressState {
    /// Desktops of the batches reported.
    reported: usize,
    /// Per followed batch: its desktops, and its job's progress (0 to 100).
    following: HashMap<usize, (usize, u8)>,
}

impl Progress {
    /// Desktops done, a followed job's counting by its progress (rounded down).
    pub fn desktops(&self) -> usize {
        let state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let partial: usize =
            state.following.values().map(|(desktops, percent)| desktops * usize::from(*percent) / 100).sum();
        state.reported + partial
    }

    fn followed(&self, index: usize, desktops: usize, percent: u8) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // A job's progress is read again and again: it only ever moves on here.
        let entry = state.following.entry(index).or_insert((desktops, 0));
        entry.1 = entry.1.max(percent);
    }

    fn reported(&self, index: usize, desktops: usize) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.following.remove(&index);
        state.reported += desktops;
    }
}

impl std::fmt::Debug for BulkRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkRun")
            .field("batches", &batch_count(&self.ids))
            .field("pending", &self.pending.len())
            .field("in_flight", &self.in_flight.len())
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a bulk deletion of `plan` (see [`BulkPlan`]); nothing is sent until the first
    /// [`BulkRun::next`]. With a journal, an earlier run of the same plan is resumed: its
    /// accepted batches are not sent again (with waiting, their jobs are followed again), its
    /// batches of unknown outcome are reported and not sent unless
    /// [`BulkOptions::resend_unknown`].
    pub fn delete_many(&self, plan: BulkPlan) -> Result<BulkRun, Error> {
        let journal = match &plan.options.journal {
            Some(path) => {
                let identity = plan.identity(self);
                Some(Arc::new(Journal::open(path, &identity, plan.desktops(), plan.batch_count())?))
            }
            None => None,
        };
        let BulkPlan { ids, options } = plan;
        let mut run = BulkRun {
            client: self.clone(),
            limit: options.concurrency,
            account: Account::new(Arc::clone(&ids)),
            ids,
            options: Arc::new(options),
            journal,
            pending: VecDeque::new(),
            resumed: VecDeque::new(),
            in_flight: FuturesUnordered::new(),
            following: FuturesUnordered::new(),
            successes: 0,
            throttles: Arc::new(AtomicUsize::new(0)),
            throttled_since: HashMap::new(),
            canceller: Canceller::default(),
            stop_reason: None,
            progress: Progress::default(),
            pace: JobPace::default(),
        };
        run.sort_out_the_journal();
        Ok(run)
    }
}

impl BulkRun {
    /// A handle that tells how far this run has come, while it runs.
    pub fn progress(&self) -> Progress {
        self.progress.clone()
    }

    /// A handle that cancels this run.
    pub fn canceller(&self) -> Canceller {
        self.canceller.clone()
    }

    /// Batches that may be in flight now: the concurrency, lowered while the service throttles.
    pub fn current_limit(&self) -> usize {
        self.limit
    }

    /// How many 429s the run has met so far.
    pub fn throttled(&self) -> usize {
        self.throttles.load(Ordering::Relaxed)
    }

    /// How many times the run read its jobs (ShowJob calls, which the service's quota counts
    /// as it counts the batches).
    pub fn job_reads(&self) -> usize {
        self.pace.reads()
    }

    /// A handle on what the run learns of its jobs' pace, and counts of their reads, readable
    /// while it runs.
    pub fn pace(&self) -> JobPace {
        self.pace.clone()
    }

    /// How many batches the run has, in all.
    pub fn batch_count(&self) -> usize {
        batch_count(&self.ids)
    }

    /// Every desktop's state so far, in input order; complete (each distinct id once) once
    /// [`BulkRun::next`] returned `None`.
    pub fn account(&self) -> Vec<DesktopOutcome> {
        self.account.iter().collect()
    }

    /// The same account as held, each desktop's outcome made when it is asked for: what a
    /// run of a million desktops hands on without making a million outcomes at once.
    pub fn compact_account(&self) -> &Account {
        &self.account
    }

    /// Splits the batches into those to send and those an earlier run settled.
    fn sort_out_the_journal(&mut self) {
        for index in 0..batch_count(&self.ids) {
            let Some(journal) = &self.journal else {
                self.pending.push_back(index);
                continue;
            };
            let recorded = journal.batches.get(&index).cloned().unwrap_or_default();
            let ids = &batch_of(&self.ids, index);
            if let Some((job_id, request_id)) = recorded.accepted {
                let finals: Option<Vec<DesktopOutcome>> =
                    ids.iter().map(|id| journal.desktops.get(id).cloned()).collect();
                // Desktops a 404 set apart were not in the job: they keep their recorded state.
                let (not_found, sent): (Vec<String>, Vec<String>) = ids
                    .iter()
                    .cloned()
                    .partition(|id| journal.desktops.get(id).is_some_and(|d| d.status == DesktopStatus::NotFound));
                let not_found: Vec<DesktopOutcome> =
                    not_found.iter().filter_map(|id| journal.desktops.get(id).cloned()).collect();
                let waiting = self.options.wait.is_some();
                match finals {
                    // Every desktop's end is known already.
                    Some(desktops)
                        if !waiting
                            || desktops
                                .iter()
                                .all(|d| d.status != DesktopStatus::Accepted && d.status != DesktopStatus::Unknown) =>
                    {
                        let result = BatchResult::Accepted { job_id, request_id, job: None, wait_error: None };
                        self.resumed.push_back(earlier(index, ids, result, desktops));
                    }
                    _ if waiting => self.follow_job(index, sent, not_found, job_id, request_id, true),
                    _ => {
                        let mut desktops = accepted_desktops(&sent, &job_id, request_id.as_deref());
                        desktops.extend(not_found);
                        let result = BatchResult::Accepted { job_id, request_id, job: None, wait_error: None };
                        self.resumed.push_back(earlier(index, ids, result, desktops));
                    }
                }
            } else if let Some((status, error_code, message)) = recorded.rejected {
                if self.options.resend_refused {
                    self.pending.push_back(index);
                    continue;
                }
                let desktops = ids
                    .iter()
                    .map(|id| match journal.desktops.get(id) {
                        // Set apart as unknown to the service when the batch was refused.
                        Some(recorded) if recorded.status == DesktopStatus::NotFound => recorded.clone(),
                        _ => DesktopOutcome {
                            error_code: error_code.clone(),
                            fail_reason: Some(message.clone()),
                            ..DesktopOutcome::new(id, DesktopStatus::Failed)
                        },
                    })
                    .collect();
                let result = BatchResult::RefusedEarlier { status, error_code, message };
                self.resumed.push_back(earlier(index, ids, result, desktops));
            } else if recorded.sending || recorded.unknown.is_some() {
                if self.options.resend_unknown {
                    self.pending.push_back(index);
                } else {
                    let reason = recorded.unknown.unwrap_or_else(|| {
                        "sent by an earlier run that stopped before its answer arrived; it may have been processed \
                         (resume with resend_unknown to send it again)"
                            .to_owned()
                    });
                    let desktops = unknown_desktops(ids, &reason);
                    let result = BatchResult::Unknown { reason, error: None };
                    self.resumed.push_back(earlier(index, ids, result, desktops));
                }
            } else {
                self.pending.push_back(index);
            }
        }
    }

    /// The next batch's outcome, in the order they end; `None` once every batch is reported.
    pub async fn next(&mut self) -> Option<BatchOutcome> {
        if let Some(outcome) = self.resumed.pop_front() {
            return Some(self.record(outcome));
        }
        loop {
            if self.canceller.is_cancelled()
                && let Some(index) = self.pending.pop_front()
            {
                let ids = batch_of(&self.ids, index);
                let reason = match &self.stop_reason {
                    Some(why) => format!("not sent: {why}"),
                    None => "not sent: the run was stopped first".to_owned(),
                };
                let desktops = unknown_desktops(&ids, &reason);
                return Some(self.record(BatchOutcome::new(index, ids, BatchResult::NotSent, desktops, false)));
            }
            while !self.canceller.is_cancelled() && self.in_flight.len() < self.limit {
                let Some(index) = self.pending.pop_front() else { break };
                self.in_flight.push(self.send(index, Duration::ZERO));
            }
            if self.in_flight.is_empty() && self.following.is_empty() && self.pending.is_empty() {
                // Every batch is reported: the journal is let go at once, not when the run
                // is dropped, so that the next run (a resume) can take it.
                self.journal = None;
                return None;
            }
            if self.in_flight.is_empty() && self.following.is_empty() {
                // Cancelled with batches left: the top of the loop reports them.
                continue;
            }
            let step = tokio::select! {
                step = self.in_flight.next(), if !self.in_flight.is_empty() => step,
                step = self.following.next(), if !self.following.is_empty() => step,
                // A cancel wakes the loop, so that pending batches are reported at once.
                () = self.canceller.cancelled(), if !self.canceller.is_cancelled() => continue,
            };
            match step {
                Some(Step::Done(outcome)) => {
                    let outcome = *outcome;
                    // With waiting, the acceptance was counted when the following began.
                    if self.options.wait.is_none() && matches!(outcome.result, BatchResult::Accepted { .. }) {
                        self.accepted();
                    }
                    return Some(self.record(outcome));
                }
                Some(Step::Follow { index, sent, not_found, job_id, request_id }) => {
                    self.accepted();
                    self.follow_job(index, sent, not_found, job_id, request_id, false);
                }
                Some(Step::Throttled { index, wait, error }) => {
                    self.throttles.fetch_add(1, Ordering::Relaxed);
                    self.limit = (self.limit / 2).max(1);
                    self.successes = 0;
                    let since = *self.throttled_since.entry(index).or_insert_with(Instant::now);
                    let throttled_for = since.elapsed();
                    if throttled_for + wait <= self.options.throttle_timeout {
                        self.in_flight.push(self.send(index, wait));
                        continue;
                    }
                    // Throttled for good, it seems: give the batch up (never passed on), and
                    // send nothing more, which would meet the same gateway.
                    self.throttled_since.remove(&index);
                    let ids = batch_of(&self.ids, index);
                    let reason = format!(
                        "throttled (429) for {:.0} s, longer than the throttle timeout of {:.0} s; never passed on to the service",
                        throttled_for.as_secs_f64(),
                        self.options.throttle_timeout.as_secs_f64()
                    );
                    let desktops = failed_desktops(&ids, &error)
                        .into_iter()
                        .map(|d| DesktopOutcome { fail_reason: Some(reason.clone()), ..d })
                        .collect();
                    if self.stop_reason.is_none() {
                        self.stop_reason = Some(format!("the run stopped after batch {} was {reason}", index + 1));
                    }
                    self.canceller.cancel();
                    let result = BatchResult::Throttled { error, throttled_for };
                    return Some(self.record(BatchOutcome::new(index, ids, result, desktops, false)));
                }
                None => {}
            }
        }
    }

    /// Follows an accepted batch's job, apart from the sending slots.
    fn follow_job(
        &mut self,
        index: usize,
        sent: Vec<String>,
        not_found: Vec<DesktopOutcome>,
        job_id: String,
        request_id: Option<String>,
        resumed: bool,
    ) {
        let task = follow(
            self.client.clone(),
            Arc::clone(&self.ids),
            Arc::clone(&self.options),
            self.journal.clone(),
            self.progress.clone(),
            self.pace.clone(),
            index,
            sent,
            not_found,
            job_id,
            request_id,
            self.canceller.clone(),
            resumed,
        );
        self.following.push(task);
    }

    /// A batch was accepted: after as many successes as batches in flight, one more may be.
    fn accepted(&mut self) {
        self.successes += 1;
        if self.successes >= self.limit && self.limit < self.options.concurrency {
            self.limit += 1;
            self.successes = 0;
        }
    }

    fn record(&mut self, outcome: BatchOutcome) -> BatchOutcome {
        self.progress.reported(outcome.index, outcome.desktop_ids.len());
        if !matches!(outcome.result, BatchResult::Throttled { .. }) {
            self.throttled_since.remove(&outcome.index);
        }
        self.account.record(batch_places(&self.ids, outcome.index), &outcome.desktops);
        outcome
    }

    /// The task that sends batch `index` after `delay` (a throttled batch's wait), then, when
    /// waiting, follows its job.
    fn send(&self, index: usize, delay: Duration) -> Task {
        let (client, ids, options, journal, canceller) = (
            self.client.clone(),
            Arc::clone(&self.ids),
            Arc::clone(&self.options),
            self.journal.clone(),
            self.canceller.clone(),
        );
        Box::pin(async move {
            let ids = batch_of(&ids, index);
            // A task made before a cancel but first polled after it (its run was let go in
            // between, as Python lets go of a run) is a new batch: it is not sent.
            if canceller.is_cancelled() {
                let desktops = unknown_desktops(&ids, "not sent: the run was stopped first");
                return Step::Done(Box::new(BatchOutcome::new(index, ids, BatchResult::NotSent, desktops, false)));
            }
            if !delay.is_zero() {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    // The 429 said it was not processed: not sending it now is safe.
                    () = canceller.cancelled() => {
                        let desktops = unknown_desktops(&ids, "not sent: the run was stopped while the service throttled it");
                        return Step::Done(Box::new(BatchOutcome::new(index, ids, BatchResult::NotSent, desktops, false)));
                    }
                }
            }
            // The desktops sent, and those the service turned out not to know (a 404 split off).
            let mut sent = ids.clone();
            let mut not_found: Vec<DesktopOutcome> = Vec::new();
            loop {
                let input = options.input(sent.clone());
                if let Some(journal) = &journal
                    && let Err(error) = journal.append(&Entry::Sending { batch: index, desktop_ids: sent.clone() })
                {
                    // Not recorded, so not sent: a resume must never have to guess.
                    let desktops = failed_desktops(&sent, &error);
                    return ended(index, ids, BatchResult::Rejected(error), desktops, not_found);
                }
                let answer = client.call(options.operation, &input).await.map(|answer| Accepted {
                    // The core checked that the answer names a job (`calls::check_answer`).
                    job_id: answer
                        .value
                        .get("job_id")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    request_id: answer.request_id,
                });
                let error = match answer {
                    Ok(deleted) => {
                        note(
                            &journal,
                            &Entry::Accepted {
                                batch: index,
                                job_id: deleted.job_id.clone(),
                                request_id: deleted.request_id.clone(),
                            },
                        );
                        if options.wait.is_some() {
                            // Waiting takes no sending slot: the scheduler follows the job apart.
                            return Step::Follow {
                                index,
                                sent,
                                not_found,
                                job_id: deleted.job_id,
                                request_id: deleted.request_id,
                            };
                        }
                        let desktops = accepted_desktops(&sent, &deleted.job_id, deleted.request_id.as_deref());
                        journal_desktops(&journal, &desktops);
                        let result = BatchResult::Accepted {
                            job_id: deleted.job_id,
                            request_id: deleted.request_id,
                            job: None,
                            wait_error: None,
                        };
                        return ended(index, ids, result, desktops, not_found);
                    }
                    Err(Error::Api(api)) if api.status() == 429 => {
                        note(&journal, &Entry::Throttled { batch: index });
                        let asked = api.retry_after().unwrap_or_else(|| jittered(index));
                        return Step::Throttled { index, wait: asked.min(MAX_THROTTLE_WAIT), error: Error::Api(api) };
                    }
                    Err(error) => error,
                };
                // A 404 refuses the whole batch for the desktops it does not know, and does
                // nothing: those the listing does not hold are set apart, the rest sent again
                // (once: a second refusal is the batch's).
                let splittable = is_refusal(&error)
                    && error.status() == Some(404)
                    && options.split_not_found
                    && not_found.is_empty();
                let listed = if splittable { listed(&client, &sent).await } else { None };
                if let Some(listed) = listed
                    && sent.iter().any(|id| !listed.contains(id))
                {
                    let (kept, missing): (Vec<String>, Vec<String>) =
                        sent.iter().cloned().partition(|id| listed.contains(id));
                    not_found = not_found_desktops(&missing, &error);
                    journal_desktops(&journal, &not_found);
                    if !kept.is_empty() {
                        sent = kept;
                        continue;
                    }
                    note(&journal, &refusal_entry(index, &error));
                    return ended(index, ids, BatchResult::Rejected(error), Vec::new(), not_found);
                }
                if is_refusal(&error) {
                    note(&journal, &refusal_entry(index, &error));
                    let desktops = failed_desktops(&sent, &error);
                    journal_desktops(&journal, &desktops);
                    return ended(index, ids, BatchResult::Rejected(error), desktops, not_found);
                }
                let reason = match &error {
                    // The service answered, but not as documented: it may have acted.
                    Error::UndecodableResponse(_) => {
                        format!("the batch's answer was not the documented one: {}", error.message_with_causes())
                    }
                    _ => format!("the batch's answer was lost: {}", error.message_with_causes()),
                };
                note(&journal, &Entry::Unknown { batch: index, reason: reason.clone() });
                let desktops = unknown_desktops(&sent, &reason);
                journal_desktops(&journal, &desktops);
                let result = BatchResult::Unknown { reason, error: Some(error) };
                return ended(index, ids, result, desktops, not_found);
            }
        })
    }
}

/// A batch's end, as this run sent it: the desktops sent, then those set apart as unknown to
/// the service.
fn ended(
    index: usize,
    ids: Vec<String>,
    result: BatchResult,
    mut desktops: Vec<DesktopOutcome>,
    not_found: Vec<DesktopOutcome>,
) -> Step {
    desktops.extend(not_found);
    Step::Done(Box::new(BatchOutcome::new(index, ids, result, desktops, false)))
}

/// What the service answered a batch it accepted.
struct Accepted {
    job_id: String,
    request_id: Option<String>,
}

/// The journal's line for a refused batch.
fn refusal_entry(index: usize, error: &Error) -> Entry {
    Entry::Rejected {
        batch: index,
        status: error.status(),
        error_code: api_code(error),
        message: error.message_with_causes(),
    }
}

/// Which of `ids` the service lists (`ListDesktops` by id; a batch never holds more ids than
/// the filter takes); `None` when the listing cannot be read, which leaves the refusal as it is.
async fn listed(client: &Client, ids: &[String]) -> Option<HashSet<String>> {
    let mut input = crate::operation::Input::new();
    input.set("desktop_id", ids);
    let items = client.items(OperationId::ListDesktops, input, crate::paging::PageOptions::default());
    let mut items = match items {
        Ok(items) => items,
        Err(error) => {
            tracing::debug!(%error, "the listing that would split a refused batch cannot be asked for");
            return None;
        }
    };
    let mut listed = HashSet::new();
    while let Some(item) = items.next_item().await {
        match item {
            Ok(item) => listed.extend(item.get("desktop_id").and_then(serde_json::Value::as_str).map(str::to_owned)),
            Err(error) => {
                tracing::debug!(%error, "the listing that would split a refused batch failed");
                return None;
            }
        }
    }
    Some(listed)
}

fn not_found_desktops(ids: &[String], error: &Error) -> Vec<DesktopOutcome> {
    ids.iter()
        .map(|id| DesktopOutcome {
            request_id: error.request_id().map(str::to_owned),
            error_code: api_code(error),
            fail_reason: Some(format!(
                "the service does not know this desktop (its batch was refused: {}; ListDesktops does not list it); nothing was done to it",
                error.message_with_causes()
            )),
            ..DesktopOutcome::new(id, DesktopStatus::NotFound)
        })
        .collect()
}

/// An outcome an earlier run of the journal recorded.
fn earlier(index: usize, ids: &[String], result: BatchResult, desktops: Vec<DesktopOutcome>) -> BatchOutcome {
    BatchOutcome::new(index, ids.to_vec(), result, desktops, true)
}

impl BatchOutcome {
    /// An outcome whose verdict follows from its result and its desktops.
    fn new(
        index: usize,
        desktop_ids: Vec<String>,
        result: BatchResult,
        desktops: Vec<DesktopOutcome>,
        resumed: bool,
    ) -> Self {
        let verdict = match &result {
            BatchResult::Rejected(_) | BatchResult::RefusedEarlier { .. } | BatchResult::Throttled { .. } => {
                Verdict::Failed
            }
            BatchResult::Unknown { .. } | BatchResult::NotSent => Verdict::Unknown,
            BatchResult::Accepted { .. } => Verdict::of(&desktops),
        };
        Self { index, desktop_ids, result, desktops, resumed, verdict }
    }
}

/// An answer that says the batch was not processed (4xx but 429, which is retried).
fn is_refusal(error: &Error) -> bool {
    match error {
        Error::Api(api) => api.is_client_error(),
        Error::InvalidInput(_) | Error::Configuration(_) => true,
        _ => false,
    }
}

fn api_code(error: &Error) -> Option<String> {
    match error {
        Error::Api(api) => api.error_code().map(str::to_owned),
        _ => None,
    }
}

/// A backoff without `Retry-After`: 0.5 to 1.5 s, spread by batch so throttled batches do not
/// return together.
fn jittered(index: usize) -> Duration {
    Duration::from_millis(500 + fastrand::u64(0..1000) + (index as u64 % 7) * 13)
}

fn note(journal: &Option<Arc<Journal>>, entry: &Entry) {
    if let Some(journal) = journal {
        // The outcome is still reported; the journal's failure is logged, and a resume then
        // sees the batch as sent without an answer: unknown, never resent by surprise.
        if let Err(error) = journal.append(entry) {
            tracing::warn!(%error, "an outcome could not be journaled");
        }
    }
}

fn journal_desktops(journal: &Option<Arc<Journal>>, desktops: &[DesktopOutcome]) {
    for desktop in desktops {
        note(journal, &Entry::Desktop(desktop.clone()));
    }
}

fn accepted_desktops(ids: &[String], job_id: &str, request_id: Option<&str>) -> Vec<DesktopOutcome> {
    ids.iter()
        .map(|id| DesktopOutcome {
            job_id: Some(job_id.to_owned()),
            request_id: request_id.map(str::to_owned),
            ..DesktopOutcome::new(id, DesktopStatus::Accepted)
        })
        .collect()
}

fn unknown_desktops(ids: &[String], reason: &str) -> Vec<DesktopOutcome> {
    ids.iter()
        .map(|id| DesktopOutcome {
            fail_reason: Some(reason.to_owned()),
            ..DesktopOutcome::new(id, DesktopStatus::Unknown)
        })
        .collect()
}

fn failed_desktops(ids: &[String], error: &Error) -> Vec<DesktopOutcome> {
    ids.iter()
        .map(|id| DesktopOutcome {
            request_id: error.request_id().map(str::to_owned),
            error_code: api_code(error),
            fail_reason: Some(error.message_with_causes()),
            ..DesktopOutcome::new(id, DesktopStatus::Failed)
        })
        .collect()
}

/// Follows an accepted batch's job to its end and turns it into per-desktop outcomes.
#[allow(clippy::too_many_arguments)]
fn follow(
    client: Client,
    run_ids: Arc<IdList>,
    options: Arc<BulkOptions>,
    journal: Option<Arc<Journal>>,
    progress: Progress,
    pace: JobPace,
    index: usize,
    sent: Vec<String>,
    not_found: Vec<DesktopOutcome>,
    job_id: String,
    request_id: Option<String>,
    canceller: Canceller,
    resumed: bool,
) -> Task {
    Box::pin(async move {
        // The job knows the desktops sent; those set apart before it are accounted as they were.
        let ids = sent;
        let wait = options.wait.clone().unwrap_or_default();
        let desktops = batch_places(&run_ids, index).len();
        let mut observe =
            |job: &crate::types::Job| progress.followed(index, desktops, crate::outcome::job_progress(job));
        let waited = tokio::select! {
            // A resumed run's jobs were accepted long ago: they are read at once.
            waited = client.wait_job_paced(&job_id, &wait, &mut observe, &pace, !resumed) => Some(waited),
            () = canceller.cancelled() => None,
        };
        let base = |status: DesktopStatus, id: &str| DesktopOutcome {
            job_id: Some(job_id.clone()),
            request_id: request_id.clone(),
            ..DesktopOutcome::new(id, status)
        };
        let ended = waited.is_some();
        let mut verdict = None;
        let (desktops, job, wait_error) = match waited {
            None => (
                ids.iter()
                    .map(|id| DesktopOutcome {
                        fail_reason: Some("the run was stopped before the job ended".to_owned()),
                        ..base(DesktopStatus::Unknown, id)
                    })
                    .collect(),
                None,
                None,
            ),
            Some(Ok(job)) => (read_job(&ids, &job, &base, &mut verdict), Some(Box::new(job)), None),
            Some(Err(Error::JobFailed(failed))) => {
                (read_job(&ids, failed.job(), &base, &mut verdict), Some(Box::new(failed.job().clone())), None)
            }
            Some(Err(Error::JobOutcomeUnknown(unknown))) => {
                (read_job(&ids, unknown.job(), &base, &mut verdict), Some(Box::new(unknown.job().clone())), None)
            }
            Some(Err(error)) => {
                let reason = match &error {
                    Error::JobTimeout(_) => format!("the job did not end in time: {error}"),
                    Error::UndecodableResponse(_) => {
                        format!("the job's answer was not the documented one: {}", error.message_with_causes())
                    }
                    other => format!("the job could not be read: {}", other.message_with_causes()),
                };
                let desktops = ids
                    .iter()
                    .map(|id| DesktopOutcome { fail_reason: Some(reason.clone()), ..base(DesktopStatus::Unknown, id) })
                    .collect();
                (desktops, None, Some(error))
            }
        };
        if ended {
            journal_desktops(&journal, &desktops);
        }
        let mut desktops = desktops;
        desktops.extend(not_found);
        let result = BatchResult::Accepted { job_id, request_id, job, wait_error };
        let mut outcome = BatchOutcome::new(index, batch_of(&run_ids, index), result, desktops, resumed);
        if let Some(verdict) = verdict {
            outcome.verdict = verdict;
        }
        Step::Done(Box::new(outcome))
    })
}

/// Each desktop's state as the job reports it ([`crate::outcome::job_report`]), and the
/// job's verdict, which a job that failed as a whole makes `FAILED` even where no desktop is.
fn read_job(
    ids: &[String],
    job: &crate::types::Job,
    base: &dyn Fn(DesktopStatus, &str) -> DesktopOutcome,
    verdict: &mut Option<Verdict>,
) -> Vec<DesktopOutcome> {
    let report = crate::outcome::job_report(job, Some(ids));
    *verdict = Some(report.verdict);
    report
        .desktops
        .into_iter()
        .map(|read| DesktopOutcome {
            error_code: read.error_code,
            fail_reason: read.fail_reason,
            ..base(read.status, &read.desktop_id)
        })
        .collect()
}
