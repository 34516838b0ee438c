//! `delete_many`: the core's bulk engine from Python. A `BulkRun` is an iterator (and an
//! async iterator) of `BatchOutcome`s, in the order batches end, and `account()` gives every
//! desktop's `DesktopOutcome`. The engine runs on the process's runtime; this module only
//! translates.

use std::sync::Arc;

use hwc_workspace::WaitOptions;
use hwc_workspace::bulk::{self, BatchResult, BulkOptions, BulkPlan, Canceller};
use pyo3::exceptions::{PyKeyboardInterrupt, PyStopAsyncIteration, PyStopIteration};
use pyo3::prelude::*;

use crate::args;
use crate::errors::to_py_err;
use crate::runtime::wait;

/// The arguments of `delete_many`, checked, as the engine's plan.
#[allow(clippy::too_many_arguments)]
pub(crate) fn plan(
    py: Python<'_>,
    desktop_ids: &Bound<'_, PyAny>,
    sub_resource_type: Option<&Bound<'_, PyAny>>,
    order_id: Option<&Bound<'_, PyAny>>,
    concurrency: Option<&Bound<'_, PyAny>>,
    wait_for_jobs: Option<&Bound<'_, PyAny>>,
    wait_timeout: Option<&Bound<'_, PyAny>>,
    journal: Option<&Bound<'_, PyAny>>,
    resend_unknown: bool,
) -> PyResult<BulkPlan> {
    // Any iterable of str: a list, a generator, the lines of a file.
    let mut ids = Vec::new();
    for (position, item) in desktop_ids.try_iter()?.enumerate() {
        ids.push(args::string(&item?, &format!("desktop_ids[{position}]"))?);
    }
    let sub_resource_type = match sub_resource_type.filter(|t| !t.is_none()) {
        Some(value) => args::string(value, "sub_resource_type")?,
        None => hwc_workspace::SubResourceType::DESKTOP_SHARER.to_owned(),
    };
    let mut options = BulkOptions::new(sub_resource_type);
    options.order_id = args::optional_string(order_id, "order_id")?;
    if concurrency.is_some_and(|c| !c.is_none()) {
        let max = u32::try_from(bulk::MAX_CONCURRENCY).unwrap_or(u32::MAX);
        options.concurrency = args::count(py, concurrency, "concurrency", max)? as usize;
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
    BulkPlan::new(&ids, options).map_err(|e| to_py_err(py, &e))
}

/// One desktop's line of the account.
#[pyclass(module = "hwc_workspace", name = "DesktopOutcome", frozen, get_all)]
#[derive(Debug, Clone)]
pub(crate) struct DesktopOutcome {
    /// The desktop.
    desktop_id: String,
    /// `SUCCESS`, `FAILED`, `UNKNOWN`, or `ACCEPTED` when the run did not wait.
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

impl From<&bulk::DesktopOutcome> for DesktopOutcome {
    fn from(outcome: &bulk::DesktopOutcome) -> Self {
        Self {
            desktop_id: outcome.desktop_id.clone(),
            status: match outcome.status {
                bulk::DesktopStatus::Accepted => "ACCEPTED",
                bulk::DesktopStatus::Success => "SUCCESS",
                bulk::DesktopStatus::Failed => "FAILED",
                bulk::DesktopStatus::Unknown => "UNKNOWN",
            },
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
    })
}

/// A running bulk deletion. Iterate it (or `async for` it from an `AsyncClient`) for the
/// outcomes as batches end; `account()` is every desktop's state.
#[pyclass(module = "hwc_workspace", name = "BulkRun", frozen)]
pub(crate) struct BulkRun {
    run: Arc<tokio::sync::Mutex<bulk::BulkRun>>,
    canceller: Canceller,
    /// Set by a Ctrl-C that cancelled the run; raised once the run is drained.
    interrupted: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for BulkRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkRun").finish_non_exhaustive()
    }
}

impl BulkRun {
    pub(crate) fn new(run: bulk::BulkRun) -> Self {
        let canceller = run.canceller();
        Self { run: Arc::new(tokio::sync::Mutex::new(run)), canceller, interrupted: Default::default() }
    }
}

#[pymethods]
impl BulkRun {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next outcome. A Ctrl-C acts as the command line's first signal: no new batch
    /// starts, the batches in flight end and are yielded, and `KeyboardInterrupt` is raised
    /// once they all were; a second Ctrl-C is raised at once.
    fn __next__(&self, py: Python<'_>) -> PyResult<BatchOutcome> {
        loop {
            let run = Arc::clone(&self.run);
            match wait(py, async move { run.lock().await.next().await }) {
                Ok(Some(next)) => return outcome(py, next),
                Ok(None) if self.interrupted.load(std::sync::atomic::Ordering::SeqCst) => {
                    return Err(PyKeyboardInterrupt::new_err("the bulk run was stopped by Ctrl-C"));
                }
                Ok(None) => return Err(PyStopIteration::new_err(())),
                Err(error) if error.is_instance_of::<PyKeyboardInterrupt>(py) && !self.canceller.is_cancelled() => {
                    self.interrupted.store(true, std::sync::atomic::Ordering::SeqCst);
                    self.canceller.cancel();
                }
                Err(error) => return Err(error),
            }
        }
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next outcome, as a coroutine; `StopAsyncIteration` at the end.
    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let run = Arc::clone(&self.run);
        crate::aio::coroutine(py, async move { run.lock().await.next().await }, |py, next| match next {
            Some(next) => Ok(Py::new(py, outcome(py, next)?)?.into_any()),
            None => Err(PyStopAsyncIteration::new_err(())),
        })
    }

    /// Starts no new batch; those in flight end within their timeout and are yielded.
    fn cancel(&self) {
        self.canceller.cancel();
    }

    /// Every desktop's state so far, in input order: complete once the iteration ended.
    fn account(&self, py: Python<'_>) -> PyResult<Vec<Py<DesktopOutcome>>> {
        let run = Arc::clone(&self.run);
        let account = wait(py, async move { run.lock().await.account() })?;
        account.iter().map(|d| Py::new(py, DesktopOutcome::from(d))).collect()
    }

    /// How many 429s the run met so far.
    #[getter]
    fn throttled(&self, py: Python<'_>) -> PyResult<usize> {
        let run = Arc::clone(&self.run);
        wait(py, async move { run.lock().await.throttled() })
    }
}
