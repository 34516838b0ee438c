//! The one tokio runtime of the process, rebuilt in a child after `os.fork()`, and the
//! blocking wait of the sync API, which Ctrl-C interrupts.

use std::future::Future;
use std::sync::{Mutex, PoisonError};
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
    if let Some((built_in, runtime)) = *slot {
        if built_in == pid {
            return Ok(runtime);
        }
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

/// Runs `future` to completion on the runtime with the GIL released, so other Python
/// threads run meanwhile. Every [`SIGNAL_CHECK_INTERVAL`] it takes the GIL back briefly to
/// run Python's signal handlers: a `KeyboardInterrupt` then drops the future, which cancels
/// the request, and propagates.
pub(crate) fn wait<F>(py: Python<'_>, future: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        // `block_on` inside a runtime panics; this thread belongs to someone else's runtime.
        return Err(PyRuntimeError::new_err(
            "a blocking hwc_workspace call cannot run on a thread that drives a tokio runtime; use AsyncClient",
        ));
    }
    let runtime = runtime()?;
    let mut future = std::pin::pin!(future);
    loop {
        // The timer is created inside `block_on`, where the runtime's clock is reachable.
        let step = py.detach(|| runtime.block_on(async { tokio::time::timeout(SIGNAL_CHECK_INTERVAL, future.as_mut()).await }));
        match step {
            Ok(output) => return Ok(output),
            Err(_still_running) => py.check_signals()?,
        }
    }
}
