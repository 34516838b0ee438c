//! Awaitables for the asyncio API without a second runtime: a call runs as a task on the
//! shared tokio runtime; when it ends, its result joins the queue of the caller's event loop
//! ([`Completions`]), and the loop settles every queued `asyncio.Future` in one go.
//!
//! Where the time went before the queue (AsyncClient, 32 calls in flight against nginx, 2
//! cores): each finished task took the GIL on a tokio thread and called
//! `loop.call_soon_threadsafe`. The GIL is held by the loop thread while it runs, so each of
//! those tokio threads waited for it (up to the 5 ms switch interval), and every result woke
//! the loop on its own. Now a finished task takes no GIL at all: it queues its output and,
//! only when the queue was empty, writes one byte to a socket the loop watches
//! (`loop.add_reader`); the loop, woken once for a batch, converts and settles them all.
//! Loops without `add_reader` (Windows' proactor loop) are woken with
//! `call_soon_threadsafe`, still once per batch.
//!
//! Why not `pyo3-async-runtimes` (0.30, `tokio::future_into_py` on this same runtime),
//! measured on 2026-12-01 (2 cores, AsyncClient with 32 calls in flight against a simulator
//! process, 9 alternating 2 s runs each): ours 6,858 calls/s (median; 6,428-7,940), theirs
//! 6,194 (5,456-7,268), 0.90x. Its `future_into_py` spawns two tasks per call and hands each
//! result to the blocking pool (`spawn_blocking`) to take the GIL. It also keeps its runtime
//! in a once-set global, which a child after `os.fork()` cannot replace, while
//! [`crate::runtime::runtime`] rebuilds it there.

use std::future::Future;
use std::sync::{Mutex, PoisonError};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use tokio::task::AbortHandle;

use crate::runtime::runtime;

static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static COMPLETIONS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
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
    coroutine_cancelling(py, work, convert, None)
}

/// What a cancelled call does besides aborting its task.
pub(crate) type OnCancel = Box<dyn FnOnce() + Send>;

/// As [`coroutine`]; cancelling its future (a cancelled task, a timeout) also calls
/// `on_cancel`, even when `work` had ended and its output is discarded.
pub(crate) fn coroutine_cancelling<'py, F, C>(
    py: Python<'py>,
    work: F,
    convert: C,
    on_cancel: Option<OnCancel>,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    C: for<'a> FnOnce(Python<'a>, F::Output) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let run = RUN.get_or_try_init(py, || py.import("hwc_workspace._aio")?.getattr("run").map(Bound::unbind))?;
    let start: Start = Box::new(move |py| spawn(py, work, convert, on_cancel));
    let deferred = Py::new(py, Deferred { start: Mutex::new(Some(start)) })?;
    run.bind(py).call1((deferred,))
}

/// Settles one future in its loop's thread (with the GIL), unless it was cancelled meanwhile.
type Settle = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<()> + Send>;

/// What has finished and waits for the loop.
#[derive(Default)]
struct Pending {
    settles: Vec<Settle>,
    /// A wake-up is on its way (a byte written, or a `drain` scheduled) and has not yet run.
    woken: bool,
}

/// The completion queue of one event loop; `hwc_workspace._aio.completions` keeps one per
/// loop and registers [`Completions::drain`] with it.
#[pyclass(frozen, module = "hwc_workspace")]
pub(crate) struct Completions {
    queue: std::sync::Arc<Queue>,
}

struct Queue {
    pending: Mutex<Pending>,
    /// The socket pair whose read end the loop watches; `None` where there is none.
    #[cfg(unix)]
    socket: Option<(std::os::unix::net::UnixStream, std::os::unix::net::UnixStream)>,
    /// For a loop that cannot watch the socket: called with a [`Drain`] of this queue, it
    /// schedules it on the loop (`loop.call_soon_threadsafe`, held weakly by
    /// `hwc_workspace._aio`, so that the queue kept for a loop does not keep the loop alive).
    wake: std::sync::OnceLock<Py<PyAny>>,
}

/// The drain of one queue, scheduled on a loop that cannot watch the socket. It holds the
/// queue, not the [`Completions`] object: a bound `drain` method kept in the queue would be a
/// cycle through Rust that Python's collector cannot see, and never freed.
#[pyclass(frozen, module = "hwc_workspace")]
struct Drain {
    queue: std::sync::Arc<Queue>,
}

impl std::fmt::Debug for Drain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drain").finish_non_exhaustive()
    }
}

#[pymethods]
impl Drain {
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        self.queue.drain(py)
    }
}

impl std::fmt::Debug for Completions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completions").finish_non_exhaustive()
    }
}

impl Queue {
    /// Queues a finished call and wakes the loop if nothing else has since it last drained.
    fn push(self: &std::sync::Arc<Self>, settle: Settle) {
        let wake = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.settles.push(settle);
            !std::mem::replace(&mut pending.woken, true)
        };
        if !wake {
            return;
        }
        if let Some(wake) = self.wake.get() {
            // `try_attach` fails only while the interpreter shuts down; the call fails only
            // when the loop is closed or gone. Either way nobody is waiting any more.
            let drain = Drain { queue: std::sync::Arc::clone(self) };
            let _ = Python::try_attach(|py| wake.call1(py, (drain,)).map(drop));
            return;
        }
        #[cfg(unix)]
        if let Some((_, writer)) = &self.socket {
            use std::io::Write as _;
            // A full socket already holds a wake-up, which is all a byte says.
            let _ = (&*writer).write(&[1]);
        }
    }
}

#[pymethods]
impl Completions {
    #[new]
    fn new() -> Self {
        #[cfg(unix)]
        let socket = std::os::unix::net::UnixStream::pair()
            .ok()
            .filter(|(reader, writer)| reader.set_nonblocking(true).is_ok() && writer.set_nonblocking(true).is_ok());
        let queue = Queue {
            pending: Mutex::new(Pending::default()),
            #[cfg(unix)]
            socket,
            wake: std::sync::OnceLock::new(),
        };
        Self { queue: std::sync::Arc::new(queue) }
    }

    /// The descriptor the loop watches, if this platform has one.
    fn fileno(&self) -> Option<i64> {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd as _;
            self.queue.socket.as_ref().map(|(reader, _)| i64::from(reader.as_raw_fd()))
        }
        #[cfg(not(unix))]
        None
    }

    /// Wakes the loop with `wake(drain)` (which schedules the drain on it) instead of the
    /// socket.
    fn wake_with(&self, wake: Py<PyAny>) {
        let _ = self.queue.wake.set(wake);
    }

    /// Settles every queued future, in the loop's thread.
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        self.queue.drain(py)
    }
}

impl Queue {
    /// Settles every queued future, in the loop's thread. Queued log records are handed to
    /// `logging` here too.
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        // The socket is emptied before the queue is taken: a byte written after this point
        // belongs to a call queued after it, which the next wake-up then finds.
        #[cfg(unix)]
        if let Some((reader, _)) = &self.socket {
            use std::io::Read as _;
            let mut bytes = [0u8; 64];
            while matches!((&*reader).read(&mut bytes), Ok(n) if n > 0) {}
        }
        let settles = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.woken = false;
            std::mem::take(&mut pending.settles)
        };
        crate::log::flush(py)?;
        for settle in settles {
            // One future that cannot be settled (its loop closing) must not strand the rest.
            if let Err(error) = settle(py) {
                error.write_unraisable(py, None);
            }
        }
        Ok(())
    }
}

/// Settles `future` with `value` (or raises it), unless it is done already (cancelled).
fn settle(py: Python<'_>, future: &Bound<'_, PyAny>, ok: bool, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if future.call_method0(pyo3::intern!(py, "done"))?.is_truthy()? {
        return Ok(());
    }
    let method = if ok { pyo3::intern!(py, "set_result") } else { pyo3::intern!(py, "set_exception") };
    future.call_method1(method, (value,))?;
    Ok(())
}

/// The completion queue of `event_loop`, made and registered on first use.
fn completions_of(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<std::sync::Arc<Queue>> {
    let find = COMPLETIONS
        .get_or_try_init(py, || py.import("hwc_workspace._aio")?.getattr("completions").map(Bound::unbind))?;
    let completions = find.bind(py).call1((event_loop, py.get_type::<Completions>()))?;
    Ok(std::sync::Arc::clone(&completions.cast::<Completions>()?.get().queue))
}

/// A done-callback of the asyncio future: cancelling the future (a timeout in
/// `asyncio.wait_for`, a cancelled task) aborts the request in flight.
#[pyclass(frozen, module = "hwc_workspace")]
struct CancelOnDone {
    task: AbortHandle,
    on_cancel: Mutex<Option<OnCancel>>,
}

impl std::fmt::Debug for CancelOnDone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelOnDone").field("task", &self.task).finish_non_exhaustive()
    }
}

#[pymethods]
impl CancelOnDone {
    fn __call__(&self, py: Python<'_>, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0(pyo3::intern!(py, "cancelled"))?.is_truthy()? {
            self.task.abort();
            if let Some(on_cancel) = self.on_cancel.lock().unwrap_or_else(PoisonError::into_inner).take() {
                on_cancel();
            }
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
fn spawn<'py, F, C>(py: Python<'py>, work: F, convert: C, on_cancel: Option<OnCancel>) -> PyResult<Bound<'py, PyAny>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    C: for<'a> FnOnce(Python<'a>, F::Output) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let event_loop = running_loop(py)?;
    let runtime = runtime()?;
    let queue = completions_of(py, &event_loop)?;
    let future = event_loop.call_method0(pyo3::intern!(py, "create_future"))?;
    let settled = future.clone().unbind();
    let task = runtime.spawn(async move {
        let output = work.await;
        queue.push(Box::new(move |py| {
            let (ok, value) = match convert(py, output) {
                Ok(value) => (true, value),
                Err(error) => (false, error.into_value(py).into_any()),
            };
            settle(py, settled.bind(py), ok, value.bind(py))
        }));
    });
    let on_done = CancelOnDone { task: task.abort_handle(), on_cancel: Mutex::new(on_cancel) };
    future.call_method1(pyo3::intern!(py, "add_done_callback"), (on_done,))?;
    Ok(future)
}
