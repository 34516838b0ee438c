#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
// Errors are the cold path: a larger `Result` costs nothing measurable next to a network
// round trip, while boxing would spread indirection through every match on `Error`.
#![allow(clippy::result_large_err)]

mod account;
pub mod bulk;
mod calls;
mod client;
mod config;
pub mod credentials;
mod enums;
mod error;
mod error_body;
pub mod files;
mod hints;
mod hooks;
pub mod iam;
mod identity;
pub mod ids;
mod journal;
mod limits;
pub mod metadata;
mod model;
pub mod network;
pub mod operation;
pub mod outcome;
pub mod pace;
pub mod paging;
pub mod regions;
mod retry;
pub mod selection;
mod signing;
mod transport;

/// The client generated from `openapi/workspace.yaml` at build time. Never edited by hand:
/// change the spec and run `cargo xtask regenerate`.
#[allow(clippy::all, missing_docs, unused_imports, missing_debug_implementations)]
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/client.rs"));
}

/// The operation description generated from `openapi/workspace.yaml` at build time (see
/// [`operation`]): never edited by hand.
#[allow(clippy::all, missing_docs)]
pub mod operations {
    include!(concat!(env!("OUT_DIR"), "/operations.rs"));
}

/// The dispatch generated from `openapi/workspace.yaml` at build time: any operation, from a
/// checked input, through the generated client. Never edited by hand.
#[allow(clippy::all, missing_docs)]
mod dispatch {
    include!(concat!(env!("OUT_DIR"), "/dispatch.rs"));
}

pub use client::{Client, SignedRequest, WaitOptions};
pub use config::{ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
pub use error::{
    ApiError, ApiErrorKind, ConfigError, ConfigErrorKind, Error, Hint, InvalidInput, JobFailed, JobOutcomeUnknown,
    JobTimeout, Setting, TransportError, TransportErrorKind, UndecodableResponse, mask_userinfo,
};
pub use generated::types;
pub use hwc_sign::Credentials;
pub use limits::{
    MAX_DURATION, MAX_ERROR_BODY_BYTES, MAX_RESPONSE_BODY_BYTES, MIN_DURATION, PROJECT_ID_HEADER, REQUEST_ID_HEADER,
    USER_AGENT, check_retries, check_timeout, retries_range, seconds, timeout_range,
};
pub use model::{
    DELETE_SUB_RESOURCES_PERMISSION, DESKTOP_ID_RULE, DeleteSubResources, Deleted, JobStatus, MAX_CLOCK_SKEW,
    MAX_DESKTOP_IDS, MAX_VALUE_CHARS, SubResourceType, desktop_id_problem,
};
pub use operation::{Answer, Input, OperationId};
pub use paging::{Items, ListingReport, PageOptions};
pub use retry::{MAX_RETRIES, RETRYABLE_STATUSES, RetryPolicy};
pub use types::{Job, SubJob, SubJobEntities};

/// For the fuzz targets in `fuzz/` only (the `fuzzing` feature): not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz {
    /// What the hooks make of an error body before the generated code reads it.
    pub fn normalize_error_body(body: &[u8]) -> crate::types::ErrorResponse {
        crate::error_body::normalize(body)
    }
}
