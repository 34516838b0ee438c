//! `delete_many`: the core's bulk engine from Python. A `BulkRun` is an iterator (and an
//! async iterator) of `BatchOutcome`s, in the order batches end, and `account()` gives every
//! desktop's `DesktopOutcome`. The engine runs on the process's runtime.
//!
//! A run ends as the command line's does on its first signal, however Python lets go of it:
//! a `break`, an exception in the loop body, the run dropped or collected, an `async for`
//! cancelled, the `with` block left, its client closed, the interpreter exiting. No new
//! batch starts, and the batches in flight end and are recorded (journal and account) by a
//! task on the runtime ([`Shared::settle`]) that owns the run until it is drained; without it
//! the service would have accepted batches whose journal holds only `sending`, and a resume
//! would have to call them UNKNOWN.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use hwc_workspace::bulk::{self, BatchResult, BulkOptions, BulkPlan, Canceller};
use hwc_workspace::{OperationId, WaitOptions};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyStopAsyncIteration, PyStopIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyMemoryView, PyString};

use hwc_workspace::ids::IdList;

use crate::args;
use crate::errors::{invalid_request, to_py_err};
use crate::runtime::wait;

/// The ids of `delete_many` or `add_many` (given, or selected by `where`), checked, with
/// their run's `options`, as the engine's plan.
pub(crate) fn plan(
    py: Python<'_>,
    core: &crate::client::Core,
    desktop_ids: Option<&Bound<'_, PyAny>>,
    selection: Option<&Bound<'_, PyAny>>,
    options: BulkOptions,
) -> PyResult<BulkPlan> {
    let ids = match (desktop_ids.filter(|ids| !ids.is_none()), selection.filter(|s| !s.is_none())) {
        (Some(_), Some(_)) => return Err(PyTypeError::new_err("give desktop_ids or where, not both")),
        (None, None) => return Err(PyTypeError::new_err("give desktop_ids, or where to select the desktops")),
        (Some(desktop_ids), None) => ids_of(desktop_ids)?,
        // Listed now, and recorded in the journal before anything is sent (the core's rule):
        // a resumed run acts on the journal's ids, never on a new listing.
        (None, Some(selection)) => {
            let filters = filters(py, selection)?;
            let journal = options.journal.clone();
            crate::log::refresh_level(py)?;
            let selected = core.blocking(py, |client| async move { client.select(&filters, journal.as_deref()).await });
            crate::log::flush(py)?;
            selected?.map_err(|e| to_py_err(py, &e))?.desktop_ids.iter().collect()
        }
    };
    BulkPlan::from_list(ids, options).map_err(|e| to_py_err(py, &e))
}

/// A selection's filters from Python: a mapping of the listing's filters to values of their
/// types, checked by the core ([`hwc_workspace::selection::check_filters`]).
fn filters(py: Python<'_>, selection: &Bound<'_, PyAny>) -> PyResult<hwc_workspace::Input> {
    let selection = selection.cast::<PyDict>().map_err(|_| {
        PyTypeError::new_err(format!("where must be a dict of filters, got {}", args::type_name(selection)))
    })?;
    let listing = hwc_workspace::selection::SELECTING.describe();
    let mut filters = hwc_workspace::Input::new();
    for (name, value) in selection.iter() {
        let name = args::string(&name, "a filter of where")?;
        hwc_workspace::selection::filter_field(&name).map_err(|e| to_py_err(py, &e))?;
        if let Some(value) = crate::operations::argument(listing, &name, Some(&value))? {
            filters.set(name, value);
        }
    }
    hwc_workspace::selection::check_filters(&filters).map_err(|e| to_py_err(py, &e))?;
    Ok(filters)
}

/// The ids of any iterable of str (not a single one).
fn ids_of(desktop_ids: &Bound<'_, PyAny>) -> PyResult<IdList> {
    // A single str (or bytes) is iterable too, by character (or byte): refused, as the single
    // call refuses it, rather than sent as one batch of its characters.
    if desktop_ids.is_instance_of::<PyString>()
        || desktop_ids.is_instance_of::<PyBytes>()
        || desktop_ids.is_instance_of::<PyByteArray>()
        || desktop_ids.is_instance_of::<PyMemoryView>()
    {
        return Err(PyTypeError::new_err(format!(
            "desktop_ids must be an iterable of str, got a single {}; wrap it in a list: desktop_ids=[...]",
            args::type_name(desktop_ids)
        )));
    }
    // Any iterable of str: a list, a generator, the lines of a file. Each id is checked by
    // the core's plan, by the single call's rule, as given (nothing is trimmed). Held
    // compactly from the start: a list of a million ids is not copied into a million strings.
    let mut ids = IdList::new();
    for (position, item) in desktop_ids.try_iter()?.enumerate() {
        ids.push(&args::string(&item?, &format!("desktop_ids[{position}]"))?);
    }
    Ok(ids)
}

/// How a run goes, from the keywords of `delete_many` or `add_many`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn options(
    py: Python<'_>,
    operation: OperationId,
    // A deletion's sub-resource type, or a purchase's SKU.
    sub_resource_type: Option<&Bound<'_, PyAny>>,
    order_id: Option<&Bound<'_, PyAny>>,
    concurrency: Option<&Bound<'_, PyAny>>,
    wait_for_jobs: Option<&Bound<'_, PyAny>>,
    wait_timeout: Option<&Bound<'_, PyAny>>,
    journal: Option<&Bound<'_, PyAny>>,
    resend_unknown: bool,
    resend_refused: bool,
    throttle_timeout: Option<&Bound<'_, PyAny>>,
    split_not_found: bool,
    fields: Option<&Bound<'_, PyDict>>,
) -> PyResult<BulkOptions> {
    let mut options = if operation == OperationId::DeleteDesktopSubResources {
        let sub_resource_type = match sub_resource_type.filter(|t| !t.is_none()) {
            Some(value) => args::string(value, "sub_resource_type")?,
            None => hwc_workspace::SubResourceType::DESKTOP_SHARER.to_owned(),
        };
        BulkOptions::new(sub_resource_type)
    } else {
        // Left out, the SKU is named missing by the core's check of the plan.
        let mut options = BulkOptions::new(hwc_workspace::SubResourceType::DESKTOP_SHARER);
        options.operation = operation;
        if let Some(sku) = sub_resource_type.filter(|t| !t.is_none()) {
            options.extra.set("sub_resource_sku", args::string(sku, "sub_resource_sku")?);
        }
        options
    };
    options.order_id = args::optional_string(order_id, "order_id")?;
    if let Some(concurrency) = concurrency.filter(|c| !c.is_none()) {
        options.concurrency = self::concurrency(py, concurrency)?;
    }
    let waiting = match wait_for_jobs.filter(|w| !w.is_none()) {
        Some(value) => value.is_truthy()?,
        None => false,
    };
    if waiting {
        let timeout = args::seconds(py, wait_timeout, "wait_timeout", WaitOptions::default().timeout.as_secs_f64())?;
        options.wait = Some(WaitOptions::with_timeout(timeout));
    }
    if let Some(path) = journal.filter(|j| !j.is_none()) {
        let path = py.import("os")?.call_method1("fspath", (path,))?;
        options.journal = Some(args::string(&path, "journal")?.into());
    }
    options.resend_unknown = resend_unknown;
    options.resend_refused = resend_refused;
    options.split_not_found = split_not_found;
    options.throttle_timeout =
        args::seconds(py, throttle_timeout, "throttle_timeout", bulk::DEFAULT_THROTTLE_TIMEOUT.as_secs_f64())?;
    // Any further field the spec gives the request goes with every batch, as the single call
    // takes it, by the spec's name.
    let described = operation.describe();
    for (name, value) in fields.into_iter().flat_map(|fields| fields.iter()) {
        let name = args::string(&name, "a keyword")?;
        if let Some(value) = crate::operations::argument(described, &name, Some(&value))? {
            options.extra.set(name, value);
        }
    }
    Ok(options)
}

/// `concurrency`: an int (not bool) from 1 to the core's [`bulk::MAX_CONCURRENCY`], the one
/// range every message states.
fn concurrency(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<usize> {
    if value.is_instance_of::<pyo3::types::PyBool>() || !value.is_instance_of::<pyo3::types::PyInt>() {
        return Err(PyTypeError::new_err(format!("concurrency must be int, got {}", args::type_name(value))));
    }
    // An int too large for any machine integer is out of range, not of the wrong type.
    let number: Option<i64> = value.extract().ok();
    number.and_then(|n| usize::try_from(n).ok()).filter(|n| (1..=bulk::MAX_CONCURRENCY).contains(n)).ok_or_else(|| {
        let got = value.str().map(|s| s.to_string()).unwrap_or_else(|_| "an int".to_owned());
        // The core's wording (`BulkPlan::new`), so that every refusal states the same range.
        invalid_request(py, "concurrency", &format!("1 to {}", bulk::MAX_CONCURRENCY), &got)
    })
}

/// One desktop's line of the account.
#[pyclass(module = "hwc_workspace", name = "DesktopOutcome", frozen, get_all)]
#[derive(Debug, Clone)]
pub(crate) struct DesktopOutcome {
    /// The desktop.
    desktop_id: String,
    /// `SUCCESS`, `FAILED`, `UNKNOWN`, `NOT_FOUND` (the service does not know it), or
    /// `ACCEPTED` when the run did not wait.
    status: &'static str,
    /// The job of its batch, once accepted.
    job_id: Option<String>,
    /// The request id of its batch's answer.
    request_id: Option<String>,
    /// The sub-job's or the refusal's error code.
    error_code: Option<String>,
    /// Why it failed, or why its state is unknown.
    fail_reason: Option<String>,
}

#[pymethods]
impl DesktopOutcome {
    fn __repr__(&self) -> String {
        format!("<hwc_workspace.DesktopOutcome {} {}>", args::repr_str(&self.desktop_id), self.status)
    }
}

/// A run's account: a sequence of `DesktopOutcome` in input order, each made when it is read,
/// so that the account of a million desktops costs a few bytes per desktop until then.
#[pyclass(module = "hwc_workspace", name = "Account", frozen, sequence)]
pub(crate) struct Account {
    account: Arc<bulk::Account>,
    /// The places of the desktops recorded, when not every one is (a run still going).
    places: Option<Vec<usize>>,
}

impl Account {
    fn new(account: Arc<bulk::Account>) -> Self {
        let places = (account.len() < account.desktops()).then(|| account.places().collect());
        Self { account, places }
    }

    fn outcome(&self, index: usize) -> Option<DesktopOutcome> {
        let place = match &self.places {
            Some(places) => *places.get(index)?,
            None => index,
        };
        self.account.get(place).as_ref().map(DesktopOutcome::from)
    }
}

#[pymethods]
impl Account {
    fn __len__(&self) -> usize {
        self.places.as_ref().map_or(self.account.len(), Vec::len)
    }

    /// An item (negative indexes count from the end), or a list of those of a slice.
    fn __getitem__(&self, py: Python<'_>, index: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let len = self.__len__();
        if let Ok(slice) = index.cast::<pyo3::types::PySlice>() {
            let indices = slice.indices(isize::try_from(len).unwrap_or(isize::MAX))?;
            let items: Vec<DesktopOutcome> = (0..indices.slicelength)
                .filter_map(|n| {
                    let at = indices.start + isize::try_from(n).ok()? * indices.step;
                    self.outcome(usize::try_from(at).ok()?)
                })
                .collect();
            return Ok(pyo3::types::PyList::new(py, items)?.into_any().unbind());
        }
        let index: isize = index.extract()?;
        let at = if index < 0 { index + isize::try_from(len).unwrap_or(isize::MAX) } else { index };
        usize::try_from(at)
            .ok()
            .and_then(|at| self.outcome(at))
            .map(|outcome| Ok(Py::new(py, outcome)?.into_any()))
            .unwrap_or_else(|| Err(pyo3::exceptions::PyIndexError::new_err("account index out of range")))
    }

    fn __iter__(slf: Bound<'_, Self>) -> AccountIterator {
        AccountIterator { account: slf.unbind(), next: std::sync::atomic::AtomicUsize::new(0) }
    }

    fn __repr__(&self) -> String {
        format!("<hwc_workspace.Account of {} desktops>", self.__len__())
    }
}

/// Iterates an `Account`, making each `DesktopOutcome` as it is reached.
#[pyclass(module = "hwc_workspace", frozen)]
pub(crate) struct AccountIterator {
    account: Py<Account>,
    next: std::sync::atomic::AtomicUsize,
}

#[pymethods]
impl AccountIterator {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__(&self) -> Option<DesktopOutcome> {
        let index = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.account.get().outcome(index)
    }
}

impl From<&bulk::DesktopOutcome> for DesktopOutcome {
    fn from(outcome: &bulk::DesktopOutcome) -> Self {
        Self {
            desktop_id: outcome.desktop_id.clone(),
            status: outcome.status.as_str(),
            job_id: outcome.job_id.clone(),
            request_id: outcome.request_id.clone(),
            error_code: outcome.error_code.clone(),
            fail_reason: outcome.fail_reason.clone(),
        }
    }
}

/// One batch's outcome.
#[pyclass(module = "hwc_workspace", name = "BatchOutcome", frozen, get_all)]
#[derive(Debug)]
pub(crate) struct BatchOutcome {
    /// The batch's place in the run (from 0).
    index: usize,
    /// Its desktops, in input order.
    desktop_ids: Vec<String>,
    /// `ACCEPTED`, `REJECTED` (not processed), `UNKNOWN` (sent, answer unknown) or `NOT_SENT`.
    status: &'static str,
    /// The job the service answered with, once accepted.
    job_id: Option<String>,
    /// The request id of the answer.
    request_id: Option<String>,
    /// The exception of a refusal or of a failed wait, if any.
    error: Option<Py<PyAny>>,
    /// Each desktop's state after it.
    desktops: Vec<Py<DesktopOutcome>>,
    /// Recorded by an earlier run of the journal, not sent by this one.
    resumed: bool,
    /// The verdict over its desktops and job: `SUCCESS` only when every desktop succeeded
    /// and no job failed; `ACCEPTED` without waiting; `FAILED`; `UNKNOWN`.
    verdict: &'static str,
}

#[pymethods]
impl BatchOutcome {
    fn __repr__(&self) -> String {
        format!("<hwc_workspace.BatchOutcome {} {} ({} desktops)>", self.index, self.status, self.desktop_ids.len())
    }
}

fn outcome(py: Python<'_>, outcome: bulk::BatchOutcome) -> PyResult<BatchOutcome> {
    let exception = |error: &hwc_workspace::Error| to_py_err(py, error).into_value(py).into_any();
    let (status, job_id, request_id, error) = match &outcome.result {
        BatchResult::Accepted { job_id, request_id, wait_error, .. } => {
            ("ACCEPTED", Some(job_id.clone()), request_id.clone(), wait_error.as_ref().map(exception))
        }
        BatchResult::Rejected(error) => {
            ("REJECTED", None, error.request_id().map(str::to_owned), Some(exception(error)))
        }
        BatchResult::RefusedEarlier { .. } => ("REJECTED", None, None, None),
        // Throttled past the throttle timeout: never passed on, so refused.
        BatchResult::Throttled { error, .. } => {
            ("REJECTED", None, error.request_id().map(str::to_owned), Some(exception(error)))
        }
        BatchResult::Unknown { error, .. } => ("UNKNOWN", None, None, error.as_ref().map(exception)),
        _ => ("NOT_SENT", None, None, None),
    };
    let desktops = outcome.desktops.iter().map(|d| Py::new(py, DesktopOutcome::from(d))).collect::<PyResult<_>>()?;
    Ok(BatchOutcome {
        index: outcome.index,
        desktop_ids: outcome.desktop_ids,
        status,
        job_id,
        request_id,
        error,
        desktops,
        resumed: outcome.resumed,
        verdict: match outcome.verdict {
            bulk::Verdict::Success => "SUCCESS",
            bulk::Verdict::Accepted => "ACCEPTED",
            bulk::Verdict::Unknown => "UNKNOWN",
            bulk::Verdict::Failed => "FAILED",
        },
    })
}

/// The engine of a run, or what is left of it once it ended: the core run (its journal, its
/// connections) is then released, and its account kept.
enum Engine {
    Running(Box<bulk::BulkRun>),
    Ended { account: Arc<bulk::Account>, throttled: usize },
}

impl Engine {
    /// The next outcome; `None` once every batch was reported.
    async fn next(&mut self) -> Option<bulk::BatchOutcome> {
        let Engine::Running(run) = self else { return None };
        let next = run.next().await;
        if next.is_none() {
            *self = Engine::Ended { account: Arc::new(run.compact_account().clone()), throttled: run.throttled() };
        }
        next
    }

    /// The account as it stands (a copy of the compact one while the run goes on).
    fn account(&self) -> Arc<bulk::Account> {
        match self {
            Engine::Running(run) => Arc::new(run.compact_account().clone()),
            Engine::Ended { account, .. } => Arc::clone(account),
        }
    }

    fn throttled(&self) -> usize {
        match self {
            Engine::Running(run) => run.throttled(),
            Engine::Ended { throttled, .. } => *throttled,
        }
    }
}

/// What a `BulkRun`, its coroutines, its background settle and its client share.
pub(crate) struct Shared {
    engine: tokio::sync::Mutex<Engine>,
    canceller: Canceller,
    /// How far the run has come, readable without the engine's lock.
    progress: bulk::Progress,
    pace: hwc_workspace::pace::JobPace,
    /// The process the run was started in: its engine lives on that process's runtime.
    pid: u32,
    /// That runtime, where a run nobody iterates any more is settled.
    handle: tokio::runtime::Handle,
    /// Outcomes a settle collected that Python has not iterated yet.
    settled: Mutex<VecDeque<bulk::BatchOutcome>>,
    /// Its client was closed: it sends nothing more, and iterating it raises.
    client_closed: AtomicBool,
    /// The longest a close waits for it to settle: its client's time for one request.
    bound: Duration,
}

/// Every run of this process that may still have batches to settle, for the interpreter's
/// exit. Taken only with the GIL held, so a fork never copies it locked.
static LIVE: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());

impl Shared {
    /// Cancels the run and drives it to its end: the batches in flight end and are recorded,
    /// the others are reported not sent. Their outcomes wait for Python in `settled`.
    /// Whoever holds the engine drains it; a second settle finds it ended.
    async fn settle(&self) {
        self.canceller.cancel();
        let mut engine = self.engine.lock().await;
        while let Some(outcome) = engine.next().await {
            self.settled.lock().unwrap_or_else(PoisonError::into_inner).push_back(outcome);
        }
    }

    /// [`Shared::settle`] within the run's bound (the batches in flight end within their
    /// timeout anyway; this bounds the wait if the service's answers never end).
    async fn settle_within_bound(&self) {
        let _ = tokio::time::timeout(self.bound, self.settle()).await;
    }

    /// Settles the run in the background: nobody iterates it any more.
    pub(crate) fn stop(self: &Arc<Self>) {
        if self.pid != std::process::id() {
            // A forked child's copy: its engine belongs to the parent's runtime.
            return;
        }
        self.canceller.cancel();
        if let Ok(engine) = self.engine.try_lock()
            && matches!(*engine, Engine::Ended { .. })
        {
            return;
        }
        let shared = Arc::clone(self);
        self.handle.spawn(async move { shared.settle().await });
    }

    /// The next outcome for Python: one a settle collected, else the engine's.
    async fn next(&self) -> Option<bulk::BatchOutcome> {
        if let Some(outcome) = self.pop_settled() {
            return Some(outcome);
        }
        let mut engine = self.engine.lock().await;
        // A settle may have drained the engine while this waited for it.
        if let Some(outcome) = self.pop_settled() {
            return Some(outcome);
        }
        engine.next().await
    }

    fn pop_settled(&self) -> Option<bulk::BatchOutcome> {
        self.settled.lock().unwrap_or_else(PoisonError::into_inner).pop_front()
    }

    /// Its client was closed: no new batch, and Python's next look at it raises.
    pub(crate) fn client_closed(self: &Arc<Self>) {
        self.client_closed.store(true, Ordering::SeqCst);
        self.stop();
    }
}

/// Settles `runs` (those of this process) at once, in the background, and waits for them
/// within the longest of their bounds; for a client's close and the interpreter's exit.
pub(crate) async fn settle_all(runs: Vec<Arc<Shared>>) {
    let pid = std::process::id();
    let runs: Vec<Arc<Shared>> = runs.into_iter().filter(|run| run.pid == pid).collect();
    for run in &runs {
        run.stop();
    }
    let bound = runs.iter().map(|run| run.bound).max().unwrap_or_default();
    let _ = tokio::time::timeout(bound, async {
        // Each settles in its own task meanwhile: this only waits for each to be drained.
        for run in &runs {
            run.settle().await;
        }
    })
    .await;
}

/// Registers [`settle_at_exit`] with `atexit`, once, when the first run starts (importing
/// the package imports nothing more than itself).
pub(crate) fn settle_at_exit_registered(py: Python<'_>) -> PyResult<()> {
    static REGISTERED: pyo3::sync::PyOnceLock<()> = pyo3::sync::PyOnceLock::new();
    REGISTERED.get_or_try_init(py, || {
        let settle = wrap_pyfunction!(settle_at_exit, py)?;
        py.import("atexit")?.call_method1("register", (settle,)).map(drop)
    })?;
    Ok(())
}

/// Called at the interpreter's exit (`atexit`): the runs still alive or settling end as on
/// a stop, within their bound, so that a script that ends after a `break` leaves no batch
/// recorded only as `sending`.
#[pyfunction]
fn settle_at_exit(py: Python<'_>) -> PyResult<()> {
    let runs: Vec<Arc<Shared>> =
        LIVE.lock().unwrap_or_else(PoisonError::into_inner).iter().filter_map(Weak::upgrade).collect();
    if runs.is_empty() {
        return Ok(());
    }
    wait(py, settle_all(runs))
}

/// A running bulk deletion. Iterate it (or `async for` it from an `AsyncClient`) for the
/// outcomes as batches end; `account()` is every desktop's state. Letting go of it (a
/// `break`, an exception, leaving its `with` block, dropping it, cancelling the task, closing
/// the client) stops it: no new batch, and those in flight end and are recorded.
#[pyclass(module = "hwc_workspace", name = "BulkRun", frozen)]
pub(crate) struct BulkRun {
    shared: Arc<Shared>,
    /// Set by a Ctrl-C that cancelled the run; raised once the run is drained.
    interrupted: AtomicBool,
}

impl std::fmt::Debug for BulkRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkRun").finish_non_exhaustive()
    }
}

impl BulkRun {
    /// Wraps a core run started on `handle`'s runtime; `bound` is the longest a close waits
    /// for it to settle.
    pub(crate) fn new(run: bulk::BulkRun, handle: tokio::runtime::Handle, bound: Duration) -> (Self, Arc<Shared>) {
        let shared = Arc::new(Shared {
            canceller: run.canceller(),
            progress: run.progress(),
            pace: run.pace(),
            engine: tokio::sync::Mutex::new(Engine::Running(Box::new(run))),
            pid: std::process::id(),
            handle,
            settled: Mutex::new(VecDeque::new()),
            client_closed: AtomicBool::new(false),
            bound,
        });
        {
            let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
            live.retain(|run| run.strong_count() > 0);
            live.push(Arc::downgrade(&shared));
        }
        (Self { shared: Arc::clone(&shared), interrupted: AtomicBool::new(false) }, shared)
    }

    /// Refuses a run that cannot go on here: one of a closed client, or one inherited
    /// through `os.fork()`, whose connections and journal belong to the parent (iterating it
    /// would wait for ever on the parent's runtime).
    fn usable(&self) -> PyResult<()> {
        let here = std::process::id();
        if self.shared.pid != here {
            return Err(PyRuntimeError::new_err(format!(
                "this bulk run was started in process {} and cannot go on in the forked process {here}: its \
                 connections and journal are the parent's; call delete_many again in this process (with the \
                 journal, once the parent's run has ended, to resume it)",
                self.shared.pid
            )));
        }
        if self.shared.client_closed.load(Ordering::SeqCst) {
            return Err(PyRuntimeError::new_err(
                "the client of this bulk run is closed: the run sends nothing more (the batches in flight at the \
                 close were recorded; see account())",
            ));
        }
        Ok(())
    }

    /// Stops the run and waits, within its bound, for the batches in flight to be recorded.
    fn finish(&self, py: Python<'_>) -> PyResult<()> {
        if self.shared.pid != std::process::id() {
            return Ok(());
        }
        // In the background first: should the wait be interrupted, the settle goes on.
        self.shared.stop();
        let shared = Arc::clone(&self.shared);
        wait(py, async move { shared.settle_within_bound().await })
    }
}

impl Drop for BulkRun {
    fn drop(&mut self) {
        if self.shared.pid != std::process::id() {
            // Inherited through `os.fork()`: the engine holds the parent's connections (their
            // sockets registered with the parent's epoll instance, which the child shares);
            // dropping it here could deregister them from the parent. Leaked on purpose.
            std::mem::forget(Arc::clone(&self.shared));
            return;
        }
        // Dropped (a `break`, an exception, `del`, collected): stop as on a first signal.
        self.shared.stop();
    }
}

#[pymethods]
impl BulkRun {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next outcome. A Ctrl-C acts as the command line's first signal: no new batch
    /// starts, the batches in flight end and are yielded, and `KeyboardInterrupt` is raised
    /// once they all were; a second Ctrl-C is raised at once (the batches in flight are then
    /// settled in the background).
    fn __next__(&self, py: Python<'_>) -> PyResult<BatchOutcome> {
        self.usable()?;
        loop {
            let shared = Arc::clone(&self.shared);
            match wait(py, async move { shared.next().await }) {
                Ok(Some(next)) => return outcome(py, next),
                Ok(None) if self.interrupted.load(Ordering::SeqCst) => {
                    return Err(PyKeyboardInterrupt::new_err("the bulk run was stopped by Ctrl-C"));
                }
                Ok(None) => return Err(PyStopIteration::new_err(())),
                Err(error)
                    if error.is_instance_of::<PyKeyboardInterrupt>(py) && !self.shared.canceller.is_cancelled() =>
                {
                    self.interrupted.store(true, Ordering::SeqCst);
                    self.shared.canceller.cancel();
                }
                Err(error) => {
                    self.shared.stop();
                    return Err(error);
                }
            }
        }
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next outcome, as a coroutine; `StopAsyncIteration` at the end. Cancelling it
    /// stops the run (the batches in flight are settled in the background).
    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.usable()?;
        let shared = Arc::clone(&self.shared);
        let stop = Arc::clone(&self.shared);
        // Cancelled while it waits, or once its outcome was ready and is then discarded: the
        // run stops either way, and its batches in flight are settled in the background.
        let on_cancel: crate::aio::OnCancel = Box::new(move || stop.stop());
        let convert = |py: Python<'_>, next: Option<bulk::BatchOutcome>| match next {
            Some(next) => Ok(Py::new(py, outcome(py, next)?)?.into_any()),
            None => Err(PyStopAsyncIteration::new_err(())),
        };
        crate::aio::coroutine_cancelling(py, async move { shared.next().await }, convert, Some(on_cancel))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Leaving the block stops the run and waits (within the client's timeout) for the
    /// batches in flight to be recorded. An exception is not suppressed.
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: &Bound<'_, PyAny>,
        exc_value: &Bound<'_, PyAny>,
        traceback: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let _ = (exc_type, exc_value, traceback);
        self.finish(py)
    }

    fn __aenter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        crate::aio::ready(slf.py(), slf.clone().into_any())
    }

    /// As `__exit__`, awaited.
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        exc_type: &Bound<'py, PyAny>,
        exc_value: &Bound<'py, PyAny>,
        traceback: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = (exc_type, exc_value, traceback);
        if self.shared.pid != std::process::id() {
            return crate::aio::ready(py, py.None().into_bound(py));
        }
        self.shared.stop();
        let shared = Arc::clone(&self.shared);
        crate::aio::coroutine(py, async move { shared.settle_within_bound().await }, |py, ()| Ok(py.None()))
    }

    /// Starts no new batch; those in flight end within their timeout and are yielded.
    fn cancel(&self) {
        self.shared.canceller.cancel();
    }

    /// Every desktop's state so far, in input order: complete once the iteration ended, or
    /// once a stopped run's batches in flight were recorded (this waits for them).
    fn account(&self, py: Python<'_>) -> PyResult<Account> {
        self.usable_here()?;
        let shared = Arc::clone(&self.shared);
        let account = wait(py, async move { shared.engine.lock().await.account() })?;
        Ok(Account::new(account))
    }

    /// Desktops done so far: those of every batch reported, and of each batch whose job is
    /// waited for, as far as its sub-jobs' progress (`process`) says; read without waiting,
    /// e.g. for a progress bar while the run is iterated on another thread or task.
    #[getter]
    fn desktops_done(&self) -> usize {
        self.shared.progress.desktops()
    }

    /// How many times the run read its jobs (ShowJob calls) so far.
    #[getter]
    fn job_reads(&self) -> usize {
        self.shared.pace.reads()
    }

    /// How many 429s the run met so far.
    #[getter]
    fn throttled(&self, py: Python<'_>) -> PyResult<usize> {
        self.usable_here()?;
        let shared = Arc::clone(&self.shared);
        wait(py, async move { shared.engine.lock().await.throttled() })
    }
}

impl BulkRun {
    /// As [`BulkRun::usable`], but a closed client's run still tells what became of it.
    fn usable_here(&self) -> PyResult<()> {
        match self.usable() {
            Err(_) if self.shared.pid == std::process::id() => Ok(()),
            other => other,
        }
    }
}

/// `read_desktop_ids(source)`: ids one per line from a file (a path, `str` or
/// `os.PathLike`) or from an open file object (text or binary), by the core's one list rule
/// (`hwc_workspace::ids`), the command line's `--desktop-ids-from`: a BOM skipped, blank and
/// `#` lines ignored, ids trimmed, a bad line refused naming its number, the input bounded.
/// The list it returns is what `delete_many` takes.
#[pyfunction]
pub(crate) fn read_desktop_ids(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let read = if source.hasattr("read")? {
        let name = match source.getattr("name") {
            Ok(name) if name.is_instance_of::<PyString>() => name.to_string(),
            _ => "the file object".to_owned(),
        };
        hwc_workspace::ids::read_id_list(PyReader { file: source.clone(), pending: Vec::new(), at: 0 }, &name)
    } else if let Ok(path) = source.extract::<std::path::PathBuf>() {
        py.detach(|| hwc_workspace::ids::read_id_list_file(&path))
    } else {
        return Err(PyTypeError::new_err(format!(
            "source must be a path (str or os.PathLike) or a file object, got {}",
            args::type_name(source)
        )));
    };
    read.map(|ids| ids.iter().map(str::to_owned).collect()).map_err(|e| to_py_err(py, &e))
}

/// A Python file object as a byte stream: `read(n)` chunk by chunk (so the core's bounds hold
/// whatever the file is), a `str` chunk encoded as UTF-8.
struct PyReader<'py> {
    file: Bound<'py, PyAny>,
    pending: Vec<u8>,
    at: usize,
}

impl std::io::Read for PyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.pending.len() {
            let chunk = self.file.call_method1("read", (buf.len().max(1),)).map_err(std::io::Error::other)?;
            self.pending = if let Ok(text) = chunk.cast::<PyString>() {
                text.to_cow().map_err(std::io::Error::other)?.as_bytes().to_vec()
            } else if let Ok(bytes) = chunk.cast::<PyBytes>() {
                bytes.as_bytes().to_vec()
            } else {
                return Err(std::io::Error::other(format!(
                    "its read() returned {}, not str or bytes",
                    args::type_name(&chunk)
                )));
            };
            self.at = 0;
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
