//! What the gateway and the service share: the state behind the locks, the stop signal,
//! the request counter and the connection's reset switch.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::cloud::{Cloud, CloudSettings};
use crate::faults::{FaultState, Faults, mix};
use crate::jobs::JobTiming;
use crate::state::{Desktop, Job, Key, State};

/// Everything the connections share.
pub(crate) struct Shared {
    pub(crate) project_id: String,
    pub(crate) keys: HashMap<String, Key>,
    pub(crate) world: Mutex<World>,
    pub(crate) faults: Mutex<FaultState>,
    pub(crate) requests: AtomicU64,
    /// Mixed into every request id, so that two simulators (or two runs) never hand out the
    /// same ids: a support case quoting one names one request.
    pub(crate) request_id_seed: u64,
    pub(crate) clock: fn() -> OffsetDateTime,
    pub(crate) max_body_bytes: usize,
    pub(crate) job_timing: JobTiming,
    pub(crate) stop: watch::Receiver<bool>,
    /// The metadata service and IAM.
    pub(crate) cloud: Cloud,
}

/// The mutable part of the state.
pub(crate) struct World {
    pub(crate) desktops: Vec<Desktop>,
    pub(crate) index: HashMap<String, usize>,
    pub(crate) jobs: VecDeque<Job>,
    pub(crate) max_jobs: usize,
    pub(crate) jobs_created: u64,
    /// Each desktop as `ListDesktops` reports it, rendered when first listed and again only
    /// after it changed ([`World::changed`]): a listing of a large fleet pages through it
    /// without rendering every desktop for every page.
    rendered: Vec<Option<hwc_workspace::types::SimpleDesktopInfo>>,
}

/// Job ids are numbered from 1 in the order the jobs are made, in the form of a UUID.
const JOB_ID_PREFIX: &str = "00000000-0000-4000-8000-";

/// The id of job number `number`.
pub(crate) fn job_id(number: u64) -> String {
    format!("{JOB_ID_PREFIX}{number:012x}")
}

impl World {
    /// The job of this id, if it is among those kept: found by its number, not by comparing
    /// ids with every job kept (a run reads its jobs thousands of times).
    pub(crate) fn job(&self, id: &str) -> Option<&Job> {
        let number = u64::from_str_radix(id.strip_prefix(JOB_ID_PREFIX)?, 16).ok()?;
        let first = self.jobs_created.checked_sub(self.jobs.len() as u64)? + 1;
        let job = self.jobs.get(usize::try_from(number.checked_sub(first)?).ok()?)?;
        (job.job_id == id).then_some(job)
    }

    /// Every desktop as `ListDesktops` reports it, in the state's order.
    pub(crate) fn listing(&mut self) -> impl Iterator<Item = &hwc_workspace::types::SimpleDesktopInfo> {
        self.rendered.resize(self.desktops.len(), None);
        for (desktop, rendered) in self.desktops.iter().zip(&mut self.rendered) {
            if rendered.is_none() {
                // The state was checked when it was loaded, so every desktop renders.
                *rendered = desktop.info().ok();
            }
        }
        self.rendered.iter().flatten()
    }

    /// Desktop `index` changed: it is rendered again when next listed.
    pub(crate) fn changed(&mut self, index: usize) {
        if let Some(rendered) = self.rendered.get_mut(index) {
            *rendered = None;
        }
    }
}

impl Shared {
    #[allow(clippy::too_many_arguments)] // one call site each in the builder and the fuzzer
    pub(crate) fn new(
        state: State,
        faults: Faults,
        clock: fn() -> OffsetDateTime,
        max_body_bytes: usize,
        max_jobs: usize,
        job_timing: JobTiming,
        stop: watch::Receiver<bool>,
        cloud: CloudSettings,
    ) -> Self {
        let index = state.desktops.iter().enumerate().map(|(i, d)| (d.id.clone(), i)).collect();
        // The agency's temporary keys may do what the first key may.
        let agency_permissions = state.keys.first().map(|k| k.permissions.clone()).unwrap_or_default();
        Self {
            project_id: state.project_id,
            keys: state.keys.into_iter().map(|k| (k.access_key().to_owned(), k)).collect(),
            world: Mutex::new(World {
                desktops: state.desktops,
                index,
                jobs: VecDeque::new(),
                max_jobs: max_jobs.max(1),
                jobs_created: 0,
                rendered: Vec::new(),
            }),
            faults: Mutex::new(FaultState::new(faults)),
            requests: AtomicU64::new(0),
            request_id_seed: instance_seed(),
            clock,
            max_body_bytes,
            job_timing,
            stop,
            cloud: Cloud::new(cloud, agency_permissions),
        }
    }

    // A panic elsewhere must not turn every later request into one: the data under these
    // locks is consistent after each statement, so a poisoned lock is still usable.
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn fault_state(&self) -> MutexGuard<'_, FaultState> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits `delay`; false when the simulator stops meanwhile.
    pub(crate) async fn pause(&self, delay: Duration) -> bool {
        let mut stop = self.stop.clone();
        tokio::select! {
            () = tokio::time::sleep(delay) => true,
            () = stopped(&mut stop) => false,
        }
    }
}

/// Resolves once the simulator is asked to stop, or its handle is gone.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// The request is answered by closing the connection (hyper does so when a service fails).
#[derive(Debug)]
pub(crate) struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped without an answer")
    }
}

impl std::error::Error for Dropped {}

/// A 32-hex-digit id, unique per request and the same from run to run.
pub(crate) fn request_id(seed: u64, number: u64) -> String {
    format!("{:016x}{:016x}", mix(seed ^ number ^ 0x5e1a_5e1a_5e1a_5e1a), mix(number ^ seed.rotate_left(17)))
}

/// A seed of its own for each simulator: the clock, the process and a per-process counter.
fn instance_seed() -> u64 {
    static INSTANCES: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    mix(nanos ^ (u64::from(std::process::id()) << 32) ^ mix(INSTANCES.fetch_add(1, Ordering::Relaxed)))
}

/// Asks for a connection to end with a reset (RST) instead of a clean close. The default
/// belongs to no socket: asking then changes nothing.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResetHandle(pub(crate) Arc<AtomicBool>);

impl ResetHandle {
    /// The connection is reset when it closes, which the caller then brings about (for
    /// the handler: by failing the request).
    pub(crate) fn reset_on_close(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_hex() {
        let a = request_id(7, 1);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, request_id(7, 2));
        assert_eq!(a, request_id(7, 1));
        // Another simulator's first request has another id.
        assert_ne!(request_id(instance_seed(), 1), request_id(instance_seed(), 1));
    }
}
