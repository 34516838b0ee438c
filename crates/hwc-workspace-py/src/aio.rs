//! Awaitables for the asyncio API without a second runtime: a call runs as a task on the
//! shared tokio runtime and settles an `asyncio.Future` of the caller's event loop through
//! `loop.call_soon_threadsafe`, the one thread-safe way into a loop.
//!
//! Why not `pyo3-async-runtimes` (0.30, `tokio::future_into_py` on this same runtime),
//! measured on 2026-12-01 (2 cores, AsyncClient with 32 calls in flight against a simulator
//! process, 9 alternating 2 s runs each): ours 6,858 calls/s (median; 6,428-7,940), theirs
//! 6,194 (5,456-7,268), 0.90x. Its `future_into_py` spawns two tasks per call and hands each
//! result to the blocking pool (`spawn_blocking`) to take the GIL, where ours settles the
//! future from the task that finished. It also keeps its runtime in a once-set global, which a
//! child after `os.fork()` cannot replace, while [`crate::runtime::runtime`] rebuilds it there.

use std::future::Future;
use std::sync::{Mutex, PoisonError};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use tokio::task::AbortHandle;

use crate::runtime::runtime;

static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static RESOLVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static RUN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Starts a call and returns its `asyncio.Future`.
type Start = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyAny>> + Send>;

/// The deferred start of one call, handed to `hwc_workspace._aio.run`, which awaits what
/// it returns. Callable once.
#[pyclass(frozen, module = "hwc_workspace")]
struct Deferred {
    start: Mutex<Option<Start>>,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred").finish_non_exhaustive()
    }
}

#[pymethods]
impl Deferred {
    fn __call__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let start = self.start.lock().unwrap_or_else(PoisonError::into_inner).take();
        match start {
            Some(start) => start(py),
            None => Err(PyRuntimeError::new_err("this call was already started")),
        }
    }
}

/// A coroutine that, once running in an event loop, starts `work` on the runtime and
/// returns `convert(output)`: its value, or raises the exception it returns.
pub(crate) fn coroutine<'py, F, C>(py: Python<'py>, work: F, convert: C) -> PyResult<Bound<'py, PyAny>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    C: for<'a> FnOnce(Python<'a>, F::Output) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let run = RUN.get_or_try_init(py, || py.import("hwc_workspace._aio")?.getattr("run").map(Bound::unbind))?;
    let start: Start = Box::new(move |py| spawn(py, work, convert));
    let deferred = Py::new(py, Deferred { start: Mutex::new(Some(start)) })?;
    run.bind(py).call1((deferred,))
}

/// Settles `future` in its event loop's thread, unless it was cancelled meanwhile. Queued
/// log records are handed to `logging` here too, in the loop's thread.
#[pyfunction]
fn resolve(py: Python<'_>, future: &Bound<'_, PyAny>, ok: bool, value: &Bound<'_, PyAny>) -> PyResult<()> {
    crate::log::flush(py)?;
    if future.call_method0(pyo3::intern!(py, "done"))?.is_truthy()? {
        return Ok(());
    }
    let method = if ok { pyo3::intern!(py, "set_result") } else { pyo3::intern!(py, "set_exception") };
    future.call_method1(method, (value,))?;
    Ok(())
}

/// A done-callback of the asyncio future: cancelling the future (a timeout in
/// `asyncio.wait_for`, a cancelled task) aborts the request in flight.
#[pyclass(frozen, module = "hwc_workspace")]
#[derive(Debug)]
struct CancelOnDone {
    task: AbortHandle,
}

#[pymethods]
impl CancelOnDone {
    fn __call__(&self, py: Python<'_>, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0(pyo3::intern!(py, "cancelled"))?.is_truthy()? {
            self.task.abort();
        }
        Ok(())
    }
}

/// The running event loop, or a `RuntimeError` that says how to call the method.
fn running_loop<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
    let get_running_loop = GET_RUNNING_LOOP.get_or_try_init(py, || {
        py.import("asyncio").and_then(|asyncio| asyncio.getattr("get_running_loop")).map(Bound::unbind)
    })?;
    get_running_loop.bind(py).call0().map_err(|_| {
        PyRuntimeError::new_err("AsyncClient methods must be called from a coroutine running in an asyncio event loop")
    })
}

/// An already settled future of the running loop, for `__aenter__` and `__aexit__`.
pub(crate) fn ready<'py>(py: Python<'py>, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let future = running_loop(py)?.call_method0(pyo3::intern!(py, "create_future"))?;
    future.call_method1(pyo3::intern!(py, "set_result"), (value,))?;
    Ok(future)
}

/// Starts `work` on the runtime now and returns an `asyncio.Future` of the running loop
/// that settles with `convert(output)`: its value, or the exception it returns.
fn spawn<'py, F, C>(py: Python<'py>, work: F, convert: C) -> PyResult<Bound<'py, PyAny>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    C: for<'a> FnOnce(Python<'a>, F::Output) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let event_loop = running_loop(py)?;
    let runtime = runtime()?;
    let future = event_loop.call_method0(pyo3::intern!(py, "create_future"))?;
    let resolve =
        RESOLVE.get_or_try_init(py, || wrap_pyfunction!(resolve, py).map(|f| f.into_any().unbind()))?.clone_ref(py);
    let (event_loop, settle) = (event_loop.unbind(), future.clone().unbind());
    let task = runtime.spawn(async move {
        let output = work.await;
        // `try_attach` fails only while the interpreter shuts down: nobody is left to tell.
        let _ = Python::try_attach(move |py| -> PyResult<()> {
            let (ok, value) = match convert(py, output) {
                Ok(value) => (true, value),
                Err(error) => (false, error.into_value(py).into_any()),
            };
            // Fails only when the loop is closed, and then nobody is waiting any more.
            event_loop
                .bind(py)
                .call_method1(pyo3::intern!(py, "call_soon_threadsafe"), (resolve, settle, ok, value))?;
            Ok(())
        });
    });
    future.call_method1(pyo3::intern!(py, "add_done_callback"), (CancelOnDone { task: task.abort_handle() },))?;
    Ok(future)
}
