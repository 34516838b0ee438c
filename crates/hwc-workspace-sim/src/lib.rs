#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
// A refusal is the answer itself, built once per request and sent at once: boxing it would
// only add an allocation to every error answer.
#![allow(clippy::result_large_err)]

mod cloud;
pub mod codes;
mod fault_pages;
mod faults;
pub mod forward_proxy;
/// For the fuzz targets in `fuzz/` only (the `fuzzing` feature): not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod gateway;
mod jobs;
mod request;
mod response;
mod routing;
mod server;
mod service;
mod shared;
mod simulator;
mod state;
mod validation;

pub use cloud::{DEFAULT_CREDENTIALS_LIFETIME, DEFAULT_REGION};
pub use faults::{BodyShape, FaultKind, Faults, JobReportFault, OVERSIZED_BODY_BYTES, UnknownFault};
/// The limits the simulator checks are the client's own: one definition for both sides.
pub use hwc_workspace::{MAX_CLOCK_SKEW, MAX_DESKTOP_IDS, MAX_VALUE_CHARS};
pub use jobs::{ADD_JOB_TYPE, JOB_TYPE, JobTiming};
pub use simulator::{
    DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_JOBS, Simulator, SimulatorBuilder, StartError,
};
pub use state::{
    ADD_SUB_RESOURCES_PERMISSION, DEFAULT_SHARER_SKU, DELETE_SUB_RESOURCES_PERMISSION, DEMO_AK, DEMO_DENIED_AK,
    DEMO_DENIED_SK, DEMO_DESKTOP_IDS, DEMO_PROJECT_ID, DEMO_SHARER_DESKTOP_IDS, DEMO_SK, DESKTOP_SHARER, Desktop, Job,
    Key, LIST_DESKTOPS_PERMISSION, MAX_SEEDED_DESKTOPS, MAX_STATE_FILE_BYTES, State, StateError, demo_desktop_ids,
};
