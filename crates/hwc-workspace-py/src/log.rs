//! Forwards the Rust crates' `tracing` events to Python's `logging`: the core's to the
//! logger `hwc_workspace`, the simulator's to `hwc_workspace.simulator`.
//!
//! Events happen on threads that do not hold the GIL (the runtime's workers, or a caller
//! that released it), so they are queued without touching Python and handed to `logging`
//! the next time this module holds the GIL: right after each call, and in the event loop
//! when an async call completes. The level the Python logger is set to is mirrored in an
//! atomic, so events below it cost one comparison and nothing is formatted for them.
//!
//! The core never puts a secret into an event (access keys only, never the secret key or
//! the token), so neither do these logs.
//!
//! Why not `pyo3-log` (0.13, with `tracing`'s `log` bridge), measured on 2026-12-01 (2 cores,
//! AsyncClient with 32 calls in flight, the `hwc_workspace` logger at INFO: one record per
//! call; 5 alternating 2 s runs each): ours 6,205 calls/s (median; 5,877-6,834), pyo3-log
//! 2,559 (2,289-2,632), 0.41x. pyo3-log takes the GIL on the thread that logs, so each
//! record stops a runtime worker, and every request on it, until the event loop's thread lets
//! the GIL go; this queue costs the worker a channel push. At WARNING (no record) the two are
//! within noise (8,202 and 7,025).

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, OnceLock, PoisonError};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

/// The Python logger of the SDK.
pub(crate) const LOGGER: &str = "hwc_workspace";
/// The Python logger of the simulator, a child of [`LOGGER`].
const SIMULATOR_LOGGER: &str = "hwc_workspace.simulator";

/// Records kept while nobody holds the GIL to hand them over; later ones are dropped.
const MAX_QUEUED: usize = 4096;

/// The lowest Python level (`logging.DEBUG` is 10) the `hwc_workspace` logger handles now.
/// `WARNING` until a call reads the logger's real level.
static THRESHOLD: AtomicU8 = AtomicU8::new(30);
/// Records waiting in the queue, to bound it.
static QUEUED: AtomicUsize = AtomicUsize::new(0);
/// Records dropped because the queue was full, reported with the next flush.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// One event, formatted: Python level, whether it came from the simulator, the text.
struct Line {
    level: u8,
    simulator: bool,
    text: String,
}

/// The queue. Runtime threads push without the GIL at any moment, so a push must never
/// leave a lock behind that `os.fork()` could copy in the locked state (the child would hang
/// on its next log record): the channel's sending side takes no lock. The receiving side's
/// lock is taken only with the GIL held and released before any Python code runs, so a fork
/// (which runs with the GIL) never copies it locked either.
static QUEUE: OnceLock<(Sender<Line>, Mutex<Receiver<Line>>)> = OnceLock::new();

fn queue() -> &'static (Sender<Line>, Mutex<Receiver<Line>>) {
    QUEUE.get_or_init(|| {
        let (sender, receiver) = mpsc::channel();
        (sender, Mutex::new(receiver))
    })
}

static LOGGERS: PyOnceLock<(Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();

/// Installs the forwarding subscriber for this module's copy of `tracing`. Another
/// subscriber installed first (by an embedding Rust program) wins; then it gets the events.
pub(crate) fn install() {
    queue();
    let _ = tracing::subscriber::set_global_default(Bridge);
}

fn python_level(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
    }
}

fn loggers(py: Python<'_>) -> PyResult<&(Py<PyAny>, Py<PyAny>)> {
    LOGGERS.get_or_try_init(py, || {
        let logging = py.import("logging")?;
        let sdk = logging.call_method1("getLogger", (LOGGER,))?.unbind();
        let simulator = logging.call_method1("getLogger", (SIMULATOR_LOGGER,))?.unbind();
        Ok((sdk, simulator))
    })
}

/// Reads the effective level of the `hwc_workspace` logger, so that events below it are
/// not even formatted. Called at the start of every call.
pub(crate) fn refresh_level(py: Python<'_>) -> PyResult<()> {
    let level = loggers(py)
        .and_then(|(sdk, _)| sdk.bind(py).call_method0(pyo3::intern!(py, "getEffectiveLevel"))?.extract::<i64>());
    match level {
        Ok(level) => THRESHOLD.store(level.clamp(0, 255) as u8, Ordering::Relaxed),
        Err(error) => only_errors(py, error)?,
    }
    Ok(())
}

/// Logging's failures are not the caller's; but running Python code (logging is Python) is
/// also where a pending Ctrl-C is raised, and a `KeyboardInterrupt` (or `SystemExit`) caught
/// here would be lost: the call would go on as if nobody had pressed it. Those propagate.
fn only_errors(py: Python<'_>, error: PyErr) -> PyResult<()> {
    if error.is_instance_of::<pyo3::exceptions::PyException>(py) { Ok(()) } else { Err(error) }
}

/// Hands the queued records to `logging`. Errors inside logging handlers are logging's own
/// business (it reports them itself); a failure to reach the loggers drops the records.
pub(crate) fn flush(py: Python<'_>) -> PyResult<()> {
    let lines: Vec<Line> = queue().1.lock().unwrap_or_else(PoisonError::into_inner).try_iter().collect();
    QUEUED.fetch_sub(lines.len(), Ordering::Relaxed);
    let dropped = DROPPED.swap(0, Ordering::Relaxed);
    if lines.is_empty() && dropped == 0 {
        return Ok(());
    }
    let (sdk, simulator) = match loggers(py) {
        Ok(loggers) => loggers,
        Err(error) => return only_errors(py, error),
    };
    if dropped > 0 {
        let warned = sdk.bind(py).call_method1(
            "warning",
            (format!("{dropped} log records were dropped: too many arrived between two calls"),),
        );
        if let Err(error) = warned {
            only_errors(py, error)?;
        }
    }
    for line in lines {
        let logger = if line.simulator { simulator } else { sdk };
        if let Err(error) = logger.bind(py).call_method1(pyo3::intern!(py, "log"), (line.level, "%s", line.text)) {
            only_errors(py, error)?;
        }
    }
    Ok(())
}

fn ours(target: &str) -> bool {
    target.starts_with("hwc_")
}

/// A subscriber that keeps events only (spans are never enabled, so they cost nothing).
struct Bridge;

impl Subscriber for Bridge {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if metadata.is_event() && ours(metadata.target()) { Interest::sometimes() } else { Interest::never() }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event()
            && ours(metadata.target())
            && python_level(metadata.level()) >= THRESHOLD.load(Ordering::Relaxed)
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        // Never called for a disabled span; an id is still required by the signature.
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        let mut text = Text::default();
        event.record(&mut text);
        let line = Line {
            level: python_level(metadata.level()),
            simulator: metadata.target().starts_with("hwc_workspace_sim"),
            text: text.finish(),
        };
        if QUEUED.fetch_add(1, Ordering::Relaxed) >= MAX_QUEUED {
            QUEUED.fetch_sub(1, Ordering::Relaxed);
            DROPPED.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // Fails only if the receiver is gone, which it never is (it lives in a static).
        let _ = queue().0.send(line);
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

/// The message first, then the other fields as `name=value`.
#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Text {
    fn finish(mut self) -> String {
        if self.message.is_empty() {
            self.fields.trim_start().to_owned()
        } else {
            self.message.push_str(&self.fields);
            self.message
        }
    }
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}
