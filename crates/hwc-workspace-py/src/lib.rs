//! The compiled module `hwc_workspace._native`; Python users import `hwc_workspace`, which
//! re-exports it (see `python/src/hwc_workspace/__init__.py`).
//!
//! Every blocking call releases the GIL and runs on one tokio runtime per process
//! ([`runtime`]); async calls run on the same runtime and settle asyncio futures ([`aio`]).
//! Errors from the core map to the exception classes of `hwc_workspace._errors` in one
//! function ([`errors::to_py_err`]), and the core's `tracing` events reach Python's
//! `logging` ([`log`]).

// The core's `Error` is large and travels unboxed, as in the core: errors are the cold path,
// and a few bytes more per `Result` cost nothing next to a network round trip.
#![allow(clippy::result_large_err)]

mod aio;
mod args;
mod bulk;
mod client;
mod errors;
mod jobs;
mod listing;
mod log;
mod operations;
mod runtime;
mod sign;
mod simulator;

use pyo3::prelude::*;

#[pymodule]
#[pyo3(name = "_native")]
fn native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    log::install();
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<client::Client>()?;
    module.add_class::<client::AsyncClient>()?;
    module.add_class::<client::Deleted>()?;
    module.add_class::<operations::SignedRequest>()?;
    module.add_class::<bulk::BulkRun>()?;
    module.add_class::<bulk::BatchOutcome>()?;
    module.add_class::<bulk::DesktopOutcome>()?;
    module.add_class::<bulk::Account>()?;
    module.add_class::<simulator::Simulator>()?;
    module.add_class::<simulator::SimulatedJob>()?;
    module.add_class::<jobs::Job>()?;
    module.add_class::<jobs::SubJob>()?;
    module.add_class::<listing::Listing>()?;
    module.add_class::<listing::AsyncListing>()?;
    module.add_function(wrap_pyfunction!(sign::sign_request, module)?)?;
    module.add_function(wrap_pyfunction!(bulk::read_desktop_ids, module)?)?;
    Ok(())
}
