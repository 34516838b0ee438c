//! The limits and names of the wire every layer shares: body caps, header names, the
//! User-Agent, and the ranges of durations and retries. They sit in one low module, named
//! once (issue 23), so that the transport, the hooks, IAM and the metadata client read them
//! without reaching up into each other, and every front and the simulator take them from here.

use std::time::Duration;

use crate::error::InvalidInput;
use crate::retry::MAX_RETRIES;

/// The largest error body read; the rest is dropped, so a huge answer cannot grow memory.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// The largest success body accepted, 1 MiB. The documented bodies are far smaller (a job
/// id is about 50 bytes; a job with 100 sub-jobs about 27 KiB as the simulator renders it),
/// so a larger one is not the documented answer: reading stops at the cap, the connection is
/// dropped, and the call fails with [`crate::Error::UndecodableResponse`] naming the cap.
pub const MAX_RESPONSE_BODY_BYTES: usize = 1024 * 1024;

/// The request id header of every response.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The header that names the project of a request; the gateway checks it against the path.
pub const PROJECT_ID_HEADER: &str = "x-project-id";

/// The User-Agent product token of this SDK.
pub const USER_AGENT: &str = concat!("hwc-workspace-rust/", env!("CARGO_PKG_VERSION"));

/// The longest duration any front accepts for a timeout, a wait or a simulated delay: a day.
/// Longer ones are surely a mistake (seconds for milliseconds), and would overflow clocks.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// The shortest duration a timeout can be: a millisecond. Shorter ones cannot be met by any
/// exchange (a nanosecond's timeout fails every call as a "timeout" that says nothing), and
/// are surely a unit mistaken (`1e-9` for seconds).
pub const MIN_DURATION: Duration = Duration::from_millis(1);
/// A timeout from [`MIN_DURATION`] to [`MAX_DURATION`]: the one rule for every front, which
/// names its own setting in the refusal (`timeout`, `--timeout`).
pub fn check_timeout(name: &'static str, timeout: Duration) -> Result<Duration, InvalidInput> {
    if (MIN_DURATION..=MAX_DURATION).contains(&timeout) {
        return Ok(timeout);
    }
    Err(InvalidInput::new(name, timeout_range(), format!("{} s", timeout.as_secs_f64())))
}

/// What [`check_timeout`] accepts, in words.
pub fn timeout_range() -> String {
    format!("a number of seconds from {} to {}", MIN_DURATION.as_secs_f64(), MAX_DURATION.as_secs())
}

/// A number of seconds as a front receives it (a flag's text, a Python float) made a
/// [`Duration`], for the one check of its range where the value is used (the builder,
/// [`crate::WaitOptions::check`], the bulk plan). Only what no `Duration` can hold (NaN, a
/// negative or infinite number) is refused here, in the words of [`check_timeout`].
pub fn seconds(name: &'static str, secs: f64) -> Result<Duration, InvalidInput> {
    Duration::try_from_secs_f64(secs).map_err(|_| InvalidInput::new(name, timeout_range(), format!("{secs} s")))
}

/// A number of opt-in retries from 0 to [`MAX_RETRIES`]: the builder's rule.
pub fn check_retries(name: &'static str, retries: u32) -> Result<u32, InvalidInput> {
    if retries <= MAX_RETRIES {
        return Ok(retries);
    }
    Err(InvalidInput::new(name, retries_range(), retries.to_string()))
}

/// What [`check_retries`] accepts, in words.
pub fn retries_range() -> String {
    format!("an int from 0 to {MAX_RETRIES}")
}
