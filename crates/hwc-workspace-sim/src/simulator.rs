//! Starting a simulator, and the handle that inspects, steers and stops it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use hwc_sign::Credentials;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cloud::CloudSettings;
use crate::faults::{FaultState, Faults};
use crate::jobs::JobTiming;
use crate::shared::Shared;
use crate::state::{Desktop, Job, State, StateError};

/// The default bound on open connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// The default largest request body, 1 MiB; a larger one is answered 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// The default number of jobs kept; older ones are forgotten first.
pub const DEFAULT_MAX_JOBS: usize = 10_000;

/// Configures and starts a [`Simulator`].
#[must_use]
#[derive(Debug, Clone)]
pub struct SimulatorBuilder {
    bind: SocketAddr,
    state: State,
    faults: Faults,
    max_connections: usize,
    max_body_bytes: usize,
    max_jobs: usize,
    clock: fn() -> OffsetDateTime,
    job_timing: JobTiming,
    cloud: CloudSettings,
}

impl Default for SimulatorBuilder {
    fn default() -> Self {
        Self {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            state: State::demo(),
            faults: Faults::default(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_jobs: DEFAULT_MAX_JOBS,
            clock: OffsetDateTime::now_utc,
            job_timing: JobTiming::default(),
            cloud: CloudSettings::default(),
        }
    }
}

impl SimulatorBuilder {
    /// Where to listen; `127.0.0.1` on an ephemeral port unless given.
    pub fn bind(mut self, address: SocketAddr) -> Self {
        self.bind = address;
        self
    }

    /// The seed state; [`State::demo`] unless given.
    pub fn state(mut self, state: State) -> Self {
        self.state = state;
        self
    }

    /// The faults in force from the start; change them later with [`Simulator::set_faults`].
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// The most connections served at once; more wait in the listen backlog.
    pub fn max_connections(mut self, max_connections: usize) -> Self {
        self.max_connections = max_connections;
        self
    }

    /// The largest request body read; a larger one gets 413.
    pub fn max_body_bytes(mut self, max_body_bytes: usize) -> Self {
        self.max_body_bytes = max_body_bytes;
        self
    }

    /// How many jobs are kept for ShowJob; the oldest go first.
    pub fn max_jobs(mut self, max_jobs: usize) -> Self {
        self.max_jobs = max_jobs;
        self
    }

    /// How long jobs wait and run before they end (ShowJob); short by default.
    pub fn job_timing(mut self, timing: JobTiming) -> Self {
        self.job_timing = timing;
        self
    }

    /// The clock that `X-Sdk-Date` is checked against and jobs are dated by.
    pub fn clock(mut self, clock: fn() -> OffsetDateTime) -> Self {
        self.clock = clock;
        self
    }

    /// The region the simulator plays: IAM names the project after it. Default `cn-north-4`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.cloud.region = region.into();
        self
    }

    /// IAM's projects, for trying a lookup that finds none or several; by default the
    /// simulator's project, named after its region.
    pub fn iam_projects(mut self, projects: Vec<hwc_workspace::iam::Project>) -> Self {
        self.cloud.projects = Some(projects);
        self
    }

    /// How long the metadata service's temporary keys live; default an hour.
    pub fn credentials_lifetime(mut self, lifetime: std::time::Duration) -> Self {
        self.cloud.credentials_lifetime = lifetime;
        self
    }

    /// Whether an agency is bound to the "instance"; without one the metadata service answers
    /// `Please configure Cloud Service Agency first`, as the real one does. Default yes.
    pub fn agency(mut self, bound: bool) -> Self {
        self.cloud.agency = bound;
        self
    }

    /// Binds and starts serving on the current tokio runtime.
    pub async fn start(self) -> Result<Simulator, StartError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StartError::NoRuntime);
        }
        self.state.validate().map_err(StartError::State)?;
        let listener =
            TcpListener::bind(self.bind).await.map_err(|source| StartError::Bind { address: self.bind, source })?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind { address: self.bind, source })?;
        let credentials = self.state.keys[0].credentials.clone();
        let project_id = self.state.project_id.clone();
        let desktop_ids = self.state.desktops.iter().map(|d| d.id.clone()).collect();
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(
            self.state,
            self.faults,
            self.clock,
            self.max_body_bytes,
            self.max_jobs,
            self.job_timing,
            stop_rx.clone(),
            self.cloud,
        ));
        let task = tokio::spawn(crate::server::run(listener, Arc::clone(&shared), self.max_connections, stop_rx));
        let endpoint = format!("http://{}", connectable(local_addr));
        tracing::info!(%endpoint, "simulator listening");
        Ok(Simulator { shared, local_addr, endpoint, project_id, credentials, desktop_ids, stop, task: Some(task) })
    }
}

/// A wildcard address cannot be connected to everywhere: point clients at loopback instead.
fn connectable(address: SocketAddr) -> SocketAddr {
    match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), address.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), address.port()),
        _ => address,
    }
}

/// Why a simulator did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The state given is not valid.
    #[error("the simulator state is not valid")]
    State(#[source] StateError),
    /// `start` was called outside a tokio runtime.
    #[error("the simulator must be started inside a tokio runtime")]
    NoRuntime,
    /// The address could not be bound.
    #[error("cannot listen on {address}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// Why it could not be bound.
        #[source]
        source: std::io::Error,
    },
}

/// A running simulator. Dropping it stops the server; [`Simulator::shutdown`] also waits
/// until it has stopped.
///
/// `Send + Sync`: it can be held anywhere and used from any thread or runtime, while the
/// server runs on the runtime it was started on.
pub struct Simulator {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    endpoint: String,
    project_id: String,
    credentials: Credentials,
    desktop_ids: Vec<String>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("endpoint", &self.endpoint)
            .field("project_id", &self.project_id)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// A builder with the demo state, loopback and a free port.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    /// Starts the demo on `127.0.0.1` and an ephemeral port.
    pub async fn start() -> Result<Self, StartError> {
        Self::builder().start().await
    }

    /// `http://127.0.0.1:PORT`, ready for a client's endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The project its state serves.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The credentials of the state's first key (the demo's [`crate::DEMO_AK`]).
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The access key of [`Simulator::credentials`].
    pub fn access_key(&self) -> &str {
        self.credentials.access_key()
    }

    /// The secret key of [`Simulator::credentials`].
    pub fn secret_key(&self) -> &str {
        self.credentials.expose_secret_key()
    }

    /// The ids of the desktops the simulator was seeded with, in order.
    pub fn desktop_ids(&self) -> &[String] {
        &self.desktop_ids
    }

    /// The desktops as they are now.
    pub fn desktops(&self) -> Vec<Desktop> {
        self.shared.world().desktops.clone()
    }

    /// One desktop as it is now.
    pub fn desktop(&self, id: &str) -> Option<Desktop> {
        self.shared.world().desktops.iter().find(|d| d.id == id).cloned()
    }

    /// The jobs recorded by successful calls, oldest first.
    pub fn jobs(&self) -> Vec<Job> {
        self.shared.world().jobs.iter().cloned().collect()
    }

    /// How many requests reached the server, whatever their answer.
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// The faults in force, with what is left of [`Faults::fail_next`].
    pub fn faults(&self) -> Faults {
        self.shared.fault_state().current()
    }

    /// Replaces the faults in force; the random generator restarts from the new seed.
    pub fn set_faults(&self, faults: Faults) {
        *self.shared.fault_state() = FaultState::new(faults);
    }

    /// A client builder for this simulator: endpoint, credentials and project id set.
    pub fn client_builder(&self) -> hwc_workspace::ClientBuilder {
        hwc_workspace::Client::builder()
            .credentials(self.credentials.clone())
            .project_id(self.project_id.clone())
            .endpoint(self.endpoint.clone())
            .no_proxy()
    }

    /// The region the simulator plays.
    pub fn region(&self) -> &str {
        &self.shared.cloud.settings.region
    }

    /// How many temporary keys the metadata service issued.
    pub fn metadata_keys_issued(&self) -> u64 {
        self.shared.cloud.keys_issued.load(Ordering::Relaxed)
    }

    /// Binds or unbinds the agency of the "instance": unbound, the metadata service refuses
    /// to give keys, as the real one does.
    pub fn set_agency(&self, bound: bool) {
        self.shared.cloud.agency.store(bound, Ordering::Relaxed);
    }

    /// How many project lookups IAM answered.
    pub fn iam_lookups(&self) -> u64 {
        self.shared.cloud.project_lookups.load(Ordering::Relaxed)
    }

    /// Stops accepting, lets answers in progress finish (briefly), and waits until the
    /// server has stopped.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}
