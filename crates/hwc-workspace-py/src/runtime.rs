//! The tokio runtimes: the process's multi-threaded one (coroutines, the simulator), one
//! single-threaded runtime per Python thread for blocking calls, each rebuilt in a child
//! after `os.fork()`; and the blocking wait of the sync API, which Ctrl-C interrupts.

use std::cell::RefCell;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::Runtime;

/// How often a blocking call looks for a pending signal (Ctrl-C) while it waits.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// Worker threads: enough to drive many connections, and bounded so that importing an SDK
/// on a 64-core machine does not start 64 threads.
const MAX_WORKER_THREADS: usize = 4;

/// The runtime and the process it was built in. A runtime built before `fork()` has no
/// threads in the child (fork copies only the forking thread), so the child builds its own.
/// Runtimes are leaked on purpose: the process's runtime lives as long as the process, and
/// one inherited from the parent must never be dropped in the child, where shutting it down
/// would wait for threads that do not exist.
///
/// The lock is only ever taken with the GIL held and released before any Python code runs,
/// so `os.fork()` (which runs with the GIL) can never copy it in the locked state.
static RUNTIME: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);

/// The process-wide runtime, built on first use and again after a fork.
pub(crate) fn runtime() -> PyResult<&'static Runtime> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((built_in, runtime)) = *slot
        && built_in == pid
    {
        return Ok(runtime);
    }
    let workers = std::thread::available_parallelism().map_or(2, usize::from).clamp(1, MAX_WORKER_THREADS);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("hwc-workspace")
        .enable_all()
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("hwc_workspace could not start its I/O threads: {e}")))?;
    let runtime: &'static Runtime = Box::leak(Box::new(runtime));
    *slot = Some((pid, runtime));
    Ok(runtime)
}

thread_local! {
    static THIS_THREAD: RefCell<Option<ThreadRuntime>> = const { RefCell::new(None) };
}

/// A blocking call's runtime on its own thread, and the core clients built on it. The call
/// then runs entirely on the calling thread: handing each request to an I/O thread and the
/// answer back cost more than the request itself on loopback. A connection lives in the
/// runtime that opened it, so each thread keeps its own clients (its own pools).
struct ThreadRuntime {
    pid: u32,
    runtime: Option<Runtime>,
    /// Each client with its owner's token: a dead token (owner closed or dropped) frees it.
    clients: Vec<(Weak<()>, Arc<hwc_workspace::Client>)>,
}

impl Drop for ThreadRuntime {
    fn drop(&mut self) {
        // Inherited through `fork()`: its epoll instance is shared with the parent's copy,
        // so nothing of it may be torn down here.
        if self.pid != std::process::id() {
            std::mem::forget(self.runtime.take());
            std::mem::forget(std::mem::take(&mut self.clients));
        }
    }
}

/// Runs a blocking call on this thread's runtime with this thread's client of `owner`, built
/// by `build` on first use. Hands `call` back when this thread is already inside such a call
/// (a signal handler calling a client again): the caller then takes the shared path.
pub(crate) fn wait_on_this_thread<T, Fut, C>(
    py: Python<'_>,
    owner: &Arc<()>,
    build: impl FnOnce(&Runtime) -> PyResult<hwc_workspace::Client>,
    call: C,
) -> Result<PyResult<T>, C>
where
    C: FnOnce(Arc<hwc_workspace::Client>) -> Fut,
    Fut: Future<Output = T> + Send,
    T: Send,
{
    THIS_THREAD.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => Ok(run_on_this_thread(py, &mut slot, owner, build, call)),
        Err(_) => Err(call),
    })
}

/// Frees this thread's clients whose owner is closed or gone, with their connections, and
/// lets those connections close now.
pub(crate) fn free_closed_clients() {
    THIS_THREAD.with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut()
            && let Some(here) = slot.as_mut().filter(|here| here.pid == std::process::id())
        {
            let before = here.clients.len();
            here.clients.retain(|(token, _)| token.strong_count() > 0);
            if here.clients.len() < before
                && tokio::runtime::Handle::try_current().is_err()
                && let Some(runtime) = here.runtime.as_ref()
            {
                settle(runtime);
            }
        }
    });
}

fn run_on_this_thread<T, Fut>(
    py: Python<'_>,
    slot: &mut Option<ThreadRuntime>,
    owner: &Arc<()>,
    build: impl FnOnce(&Runtime) -> PyResult<hwc_workspace::Client>,
    call: impl FnOnce(Arc<hwc_workspace::Client>) -> Fut,
) -> PyResult<T>
where
    Fut: Future<Output = T> + Send,
    T: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(inside_runtime());
    }
    let pid = std::process::id();
    if slot.as_ref().is_none_or(|here| here.pid != pid) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| PyRuntimeError::new_err(format!("hwc_workspace could not start its I/O runtime: {e}")))?;
        // Replacing an inherited one runs its `Drop`, which leaves it alone.
        *slot = Some(ThreadRuntime { pid, runtime: Some(runtime), clients: Vec::new() });
    }
    let Some(here) = slot.as_mut() else { unreachable!("set above") };
    let Some(runtime) = here.runtime.as_ref() else { unreachable!("only taken in drop") };
    here.clients.retain(|(token, _)| token.strong_count() > 0);
    let token = Arc::downgrade(owner);
    let client = match here.clients.iter().find(|(t, _)| t.ptr_eq(&token)) {
        Some((_, client)) => Arc::clone(client),
        None => {
            let client = Arc::new(build(runtime)?);
            here.clients.push((token, Arc::clone(&client)));
            client
        }
    };
    block_interruptibly(py, runtime, call(client))
}

fn inside_runtime() -> PyErr {
    // `block_on` inside a runtime panics; this thread belongs to someone else's runtime.
    PyRuntimeError::new_err(
        "a blocking hwc_workspace call cannot run on a thread that drives a tokio runtime; use AsyncClient",
    )
}

/// Runs `future` to completion on the process's runtime; see [`block_interruptibly`].
pub(crate) fn wait<F>(py: Python<'_>, future: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(inside_runtime());
    }
    block_interruptibly(py, runtime()?, future)
}

/// Runs `future` to completion on `runtime` with the GIL released, so other Python threads
/// run meanwhile. Every [`SIGNAL_CHECK_INTERVAL`] it takes the GIL back briefly to run
/// Python's signal handlers: a `KeyboardInterrupt` then drops the future, which cancels the
/// request, and propagates.
fn block_interruptibly<F>(py: Python<'_>, runtime: &Runtime, future: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let mut future = Box::pin(future);
    loop {
        // The timer is created inside `block_on`, where the runtime's clock is reachable.
        let step = py
            .detach(|| runtime.block_on(async { tokio::time::timeout(SIGNAL_CHECK_INTERVAL, future.as_mut()).await }));
        match step {
            Ok(output) => return Ok(output),
            Err(_still_running) => {
                if let Err(interrupted) = py.check_signals() {
                    // Dropping the call cancels the request; its connection's task then sees
                    // that and closes the socket, but only once the runtime runs it.
                    drop(future);
                    py.detach(|| settle(runtime));
                    return Err(interrupted);
                }
            }
        }
    }
}

/// Runs, briefly, what a call left behind on `runtime`: the task of a cancelled request's
/// connection, or of the connections of a client just freed. On a thread's own runtime
/// nothing runs between calls, so without this their sockets would stay open until the
/// thread's next call.
pub(crate) fn settle(runtime: &Runtime) {
    const SETTLE_TIME: Duration = Duration::from_millis(20);
    runtime.block_on(async {
        let _ = tokio::time::timeout(SETTLE_TIME, async {
            for _ in 0..32 {
                tokio::task::yield_now().await;
            }
        })
        .await;
    });
}
