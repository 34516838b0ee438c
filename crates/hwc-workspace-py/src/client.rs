//! `Client` and `AsyncClient`. An `AsyncClient` has one core client, shared by every
//! coroutine; a `Client` has one per thread that calls it (see `runtime::wait_on_this_thread`).
//! Both are rebuilt lazily in a child process after `os.fork()`.

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use hwc_workspace::{ClientBuilder, Credentials, OperationId};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::args;
use crate::errors::{closed, configuration_error, to_py_err};
use crate::jobs::{Job, wait_options};
use crate::log;
use crate::runtime::{free_closed_clients, runtime, wait, wait_on_this_thread};

/// The User-Agent product token of this binding, after the core's.
const USER_AGENT_SUFFIX: &str = concat!("hwc-workspace-python/", env!("CARGO_PKG_VERSION"));
/// What every PEM certificate starts with.
const PEM_CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// What a `Client` and an `AsyncClient` share: the configuration, and the core client built
/// from it in this process.
pub(crate) struct Core {
    /// Kept to build the core client again in a forked child, whose copy of the parent's
    /// connection pool belongs to a runtime that has no threads there.
    builder: ClientBuilder,
    endpoint: String,
    /// Taken only with the GIL held and released before any Python code runs, so a fork
    /// (which needs the GIL) never copies it locked.
    state: Mutex<State>,
    /// The bulk runs started with it: closing it stops them and waits for their batches in
    /// flight to be recorded. Taken like `state`.
    runs: Mutex<Vec<Weak<crate::bulk::Shared>>>,
    /// How long one request may take, all attempts included: the longest a close waits for
    /// a bulk run's batches in flight.
    request_budget: Duration,
}

struct State {
    /// The process the client was built in.
    pid: u32,
    /// `None` once closed.
    client: Option<Arc<hwc_workspace::Client>>,
    /// Keeps this client's per-thread core clients alive; dropped on close.
    owner: Option<Arc<()>>,
}

impl Core {
    /// Builds the core client now, so that configuration errors surface at construction.
    pub(crate) fn new(py: Python<'_>, (builder, request_budget): (ClientBuilder, Duration)) -> PyResult<Arc<Self>> {
        let builder = builder.user_agent_suffix(USER_AGENT_SUFFIX);
        log::refresh_level(py)?;
        // Building reads the system's CA certificates (milliseconds): without the GIL.
        let runtime = runtime()?;
        let built = py.detach(|| build(runtime, &builder));
        log::flush(py)?;
        let client = built.map_err(|e| to_py_err(py, &e))?;
        Ok(Arc::new(Self {
            builder,
            endpoint: client.endpoint().to_owned(),
            state: Mutex::new(State {
                pid: std::process::id(),
                client: Some(Arc::new(client)),
                owner: Some(Arc::new(())),
            }),
            runs: Mutex::new(Vec::new()),
            request_budget,
        }))
    }

    /// The core client of this process.
    pub(crate) fn client(&self, py: Python<'_>) -> PyResult<Arc<hwc_workspace::Client>> {
        let pid = std::process::id();
        let rebuilt = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(current) = &state.client else { return Err(closed("client")) };
            if state.pid == pid {
                return Ok(Arc::clone(current));
            }
            match build(runtime()?, &self.builder) {
                Ok(client) => {
                    let fresh = Arc::new(client);
                    // The parent's client is never dropped here: its pool's connections are
                    // tasks of the parent's runtime, which must not be touched in the child.
                    if let Some(inherited) = state.client.replace(Arc::clone(&fresh)) {
                        std::mem::forget(inherited);
                    }
                    state.pid = pid;
                    Ok(fresh)
                }
                Err(e) => Err(e),
            }
        };
        rebuilt.map_err(|e| to_py_err(py, &e))
    }

    /// Runs a blocking call with this thread's core client, on this thread's runtime.
    pub(crate) fn blocking<T, Fut>(
        &self,
        py: Python<'_>,
        call: impl FnOnce(Arc<hwc_workspace::Client>) -> Fut,
    ) -> PyResult<T>
    where
        Fut: Future<Output = T> + Send,
        T: Send,
    {
        let (owner, main) = {
            let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            (state.owner.clone().ok_or_else(|| closed("client"))?, state.client.clone())
        };
        // This thread's client has its own connections, and shares the keys and project id
        // (and what the first call learnt of them) with the client this object was built with.
        // Made only on the thread's first call, not on every call.
        let build = |runtime: &tokio::runtime::Runtime| {
            let builder = match &main {
                Some(main) => self.builder.clone().sharing_identity_of(main),
                None => self.builder.clone(),
            };
            build(runtime, &builder).map_err(|e| to_py_err(py, &e))
        };
        match wait_on_this_thread(py, &owner, build, call) {
            Ok(outcome) => outcome,
            Err(call) => wait(py, call(self.client(py)?)),
        }
    }

    /// Starts a bulk run of `plan` with this process's core client, and keeps it, so that a
    /// close stops it.
    fn delete_many(&self, py: Python<'_>, plan: hwc_workspace::bulk::BulkPlan) -> PyResult<crate::bulk::BulkRun> {
        let client = self.client(py)?;
        crate::bulk::settle_at_exit_registered(py)?;
        // Opening a journal reads and fsyncs a file: without the GIL.
        let run = py.detach(|| client.delete_many(plan)).map_err(|e| to_py_err(py, &e))?;
        let (run, shared) = crate::bulk::BulkRun::new(run, runtime()?.handle().clone(), self.request_budget);
        {
            let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
            runs.retain(|run| run.strong_count() > 0);
            runs.push(Arc::downgrade(&shared));
        }
        // Closed meanwhile (from another thread): the run sends nothing.
        if self.state.lock().unwrap_or_else(PoisonError::into_inner).client.is_none() {
            shared.client_closed();
        }
        Ok(run)
    }

    /// Closes the client: its bulk runs stop as on a first signal (no new batch), and the
    /// close waits, within one request's time, for their batches in flight to be recorded;
    /// then the connection pool is freed.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let runs = self.stop_runs();
        if !runs.is_empty() {
            wait(py, crate::bulk::settle_all(runs))?;
        }
        self.close_pool();
        Ok(())
    }

    /// Marks the client's bulk runs closed (each then settles in the background) and hands
    /// them back, to wait for.
    fn stop_runs(&self) -> Vec<Arc<crate::bulk::Shared>> {
        let runs: Vec<_> = self
            .runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .filter_map(|run| run.upgrade())
            .collect();
        for run in &runs {
            run.client_closed();
        }
        runs
    }

    fn close_pool(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let client = state.client.take();
        state.owner = None;
        if state.pid != std::process::id() {
            std::mem::forget(client);
        }
        drop(state);
        free_closed_clients();
    }

    /// The project id and access key as far as they are known: one from IAM or keys from
    /// the instance metadata service are learnt by the first call.
    pub(crate) fn identity(&self) -> (Option<String>, Option<String>) {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match &state.client {
            Some(client) => (client.project_id(), client.access_key()),
            None => (None, None),
        }
    }

    fn repr(&self, class: &str) -> String {
        // The access key identifies the account and is not secret; the secret key and the
        // token are never shown.
        let (project_id, access_key) = self.identity();
        let shown = |value: Option<String>| value.map_or_else(|| "None".to_owned(), |v| args::repr_str(&v));
        format!(
            "<hwc_workspace.{class} endpoint={} project_id={} ak={}>",
            args::repr_str(&self.endpoint),
            shown(project_id),
            shown(access_key)
        )
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // A client inherited through `os.fork()` and never rebuilt here belongs to the
        // parent's runtime: never drop it in the child (see `Core::client`).
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if state.pid != std::process::id() {
            std::mem::forget(state.client.take());
        }
    }
}

/// Builds the HTTP client inside the runtime, which the connector may need.
fn build(
    runtime: &tokio::runtime::Runtime,
    builder: &ClientBuilder,
) -> Result<hwc_workspace::Client, hwc_workspace::Error> {
    let _context = runtime.enter();
    builder.clone().build()
}

/// The timeouts and retries of a client, checked, on top of `builder`; with the time one
/// request may take, every attempt included (connecting, answering, a retry's wait).
pub(crate) fn call_settings(
    py: Python<'_>,
    builder: ClientBuilder,
    timeout: Option<&Bound<'_, PyAny>>,
    connect_timeout: Option<&Bound<'_, PyAny>>,
    retries: Option<&Bound<'_, PyAny>>,
) -> PyResult<(ClientBuilder, Duration)> {
    // Values pass through: the core's builder refuses those out of range, naming them.
    let timeout = args::duration(py, timeout, "timeout", hwc_workspace::DEFAULT_TIMEOUT)?;
    let connect_timeout =
        args::duration(py, connect_timeout, "connect_timeout", hwc_workspace::DEFAULT_CONNECT_TIMEOUT)?;
    let retries = args::setting_count(py, retries, "retries", &hwc_workspace::retries_range())?;
    // A retry waits at most a minute (the core's longest throttle wait) before it is sent.
    let attempt = timeout.saturating_add(connect_timeout);
    let budget = attempt
        .saturating_mul(retries.saturating_add(1))
        .saturating_add(hwc_workspace::bulk::MAX_THROTTLE_WAIT.saturating_mul(retries))
        .saturating_add(Duration::from_secs(1));
    Ok((builder.timeout(timeout).connect_timeout(connect_timeout).retries(retries), budget))
}

/// The builder for the constructor's arguments. Explicit credentials need both keys; without
/// them the chain official SDK users already have is used (`HUAWEICLOUD_SDK_AK`, …,
/// `~/.huaweicloud/credentials`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn builder_from_args(
    py: Python<'_>,
    ak: Option<&Bound<'_, PyAny>>,
    sk: Option<&Bound<'_, PyAny>>,
    project_id: Option<&Bound<'_, PyAny>>,
    security_token: Option<&Bound<'_, PyAny>>,
    endpoint: Option<&Bound<'_, PyAny>>,
    region: Option<&Bound<'_, PyAny>>,
    timeout: Option<&Bound<'_, PyAny>>,
    connect_timeout: Option<&Bound<'_, PyAny>>,
    retries: Option<&Bound<'_, PyAny>>,
    ca_cert: Option<&Bound<'_, PyAny>>,
    proxy: Option<&Bound<'_, PyAny>>,
    metadata_endpoint: Option<&Bound<'_, PyAny>>,
) -> PyResult<(ClientBuilder, Duration)> {
    let proxy = args::optional_string(proxy, "proxy")?;
    let metadata_endpoint = args::optional_string(metadata_endpoint, "metadata_endpoint")?;
    let ak = args::optional_string(ak, "ak")?;
    let sk = args::optional_string(sk, "sk")?;
    let security_token = args::optional_string(security_token, "security_token")?;
    let project_id = args::optional_string(project_id, "project_id")?;
    let endpoint = args::optional_string(endpoint, "endpoint")?;
    let region = args::optional_string(region, "region")?;
    let (mut builder, budget) = call_settings(py, hwc_workspace::Client::builder(), timeout, connect_timeout, retries)?;
    match (ak, sk) {
        (Some(ak), Some(sk)) => {
            let mut credentials = Credentials::new(ak, sk);
            if let Some(token) = security_token {
                credentials = credentials.with_security_token(token);
            }
            builder = builder.credentials(credentials);
        }
        (None, None) if security_token.is_none() => {}
        (None, None) => {
            return Err(configuration_error(
                py,
                "invalid_credentials",
                "security_token was given without ak and sk",
                &["pass ak, sk and security_token together (temporary credentials)"],
            ));
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(configuration_error(
                py,
                "invalid_credentials",
                "ak and sk must be given together",
                &[&format!(
                    "pass both, or neither to use {} / {} or ~/.huaweicloud/credentials",
                    hwc_workspace::credentials::ENV_AK,
                    hwc_workspace::credentials::ENV_SK
                )],
            ));
        }
    }
    if let Some(project_id) = project_id {
        builder = builder.project_id(project_id);
    }
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint(endpoint);
    }
    if let Some(region) = region {
        builder = builder.region(region);
    }
    if let Some(proxy) = proxy {
        builder = builder.proxy(proxy);
    }
    if let Some(metadata_endpoint) = metadata_endpoint {
        builder = builder.metadata_endpoint(metadata_endpoint);
    }
    if let Some(ca_cert) = ca_cert.filter(|c| !c.is_none()) {
        builder = if let Ok(pem) = ca_cert.cast::<PyBytes>() {
            // reqwest accepts bytes without any certificate in them, silently trusting
            // nothing more: refuse them here instead.
            if !pem.as_bytes().windows(PEM_CERTIFICATE.len()).any(|w| w == PEM_CERTIFICATE) {
                return Err(configuration_error(
                    py,
                    "ca_certificate",
                    "ca_cert holds no PEM certificate",
                    &["pass the bytes of a PEM file (-----BEGIN CERTIFICATE----- ...), or its path as a str"],
                ));
            }
            builder.ca_certificate_pem(pem.as_bytes())
        } else {
            let path = py
                .import("os")?
                .call_method1("fspath", (ca_cert,))
                .and_then(|path| path.extract::<std::path::PathBuf>())
                .map_err(|_| {
                    pyo3::exceptions::PyTypeError::new_err(format!(
                        "ca_cert must be a path (str or os.PathLike) or PEM bytes, got {}",
                        args::type_name(ca_cert)
                    ))
                })?;
            builder.ca_certificate_file(path).map_err(|e| to_py_err(py, &e))?
        };
    }
    Ok((builder, budget))
}

/// The outcome of a successful `delete_desktop_sub_resources`.
#[pyclass(module = "hwc_workspace", name = "Deleted", frozen, eq, hash)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Deleted {
    /// The id of the asynchronous job that deletes the resources.
    #[pyo3(get)]
    job_id: String,
    /// The service's request id (`X-Request-Id`), for support cases.
    #[pyo3(get)]
    request_id: Option<String>,
}

impl From<hwc_workspace::Deleted> for Deleted {
    fn from(deleted: hwc_workspace::Deleted) -> Self {
        Self { job_id: deleted.job_id, request_id: deleted.request_id }
    }
}

#[pymethods]
impl Deleted {
    #[new]
    #[pyo3(signature = (job_id, request_id=None))]
    pub(crate) fn new(job_id: String, request_id: Option<String>) -> Self {
        Self { job_id, request_id }
    }

    fn __repr__(&self) -> String {
        format!(
            "Deleted(job_id={}, request_id={})",
            args::repr_str(&self.job_id),
            args::repr_opt(self.request_id.as_deref())
        )
    }
}

/// The two clients share everything but their call style: the constructor (the same
/// arguments, one `Core`), the properties, `close`, `repr`. This writes that once.
macro_rules! client_class {
    ($(#[$doc:meta])* $name:ident, $python_name:tt, $close_doc:literal, { $($methods:tt)* }) => {
        $(#[$doc])*
        #[pyclass(module = "hwc_workspace", name = $python_name, frozen)]
        pub(crate) struct $name {
            core: Arc<Core>,
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.core.repr($python_name))
            }
        }

        impl $name {
            pub(crate) fn from_core(core: Arc<Core>) -> Self {
                Self { core }
            }

            /// What the generated operation methods call with.
            pub(crate) fn core(&self) -> &Arc<Core> {
                &self.core
            }
        }

        #[pymethods]
        impl $name {
            #[new]
            #[pyo3(
                signature = (*, ak=None, sk=None, project_id=None, security_token=None, endpoint=None, region=None, timeout=None, connect_timeout=None, retries=None, ca_cert=None, proxy=None, metadata_endpoint=None),
                text_signature = "(*, ak=None, sk=None, project_id=None, security_token=None, endpoint=None, region=None, timeout=30.0, connect_timeout=10.0, retries=0, ca_cert=None, proxy=None, metadata_endpoint=None)"
            )]
            #[allow(clippy::too_many_arguments)]
            fn new(
                py: Python<'_>,
                ak: Option<&Bound<'_, PyAny>>,
                sk: Option<&Bound<'_, PyAny>>,
                project_id: Option<&Bound<'_, PyAny>>,
                security_token: Option<&Bound<'_, PyAny>>,
                endpoint: Option<&Bound<'_, PyAny>>,
                region: Option<&Bound<'_, PyAny>>,
                timeout: Option<&Bound<'_, PyAny>>,
                connect_timeout: Option<&Bound<'_, PyAny>>,
                retries: Option<&Bound<'_, PyAny>>,
                ca_cert: Option<&Bound<'_, PyAny>>,
                proxy: Option<&Bound<'_, PyAny>>,
                metadata_endpoint: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Self> {
                let builder = builder_from_args(py, ak, sk, project_id, security_token, endpoint, region, timeout, connect_timeout, retries, ca_cert, proxy, metadata_endpoint)?;
                Ok(Self { core: Core::new(py, builder)? })
            }

            /// The endpoint calls go to.
            #[getter]
            fn endpoint(&self) -> &str {
                &self.core.endpoint
            }

            /// The project id; `None` until the first call looked it up through IAM, when
            /// none was given or found.
            #[getter]
            fn project_id(&self) -> Option<String> {
                self.core.identity().0
            }

            /// The access key (never the secret key); `None` until the first call fetched
            /// keys from the instance metadata service, when they come from there.
            #[getter]
            fn ak(&self) -> Option<String> {
                self.core.identity().1
            }

            /// Deletes the sub-resources of any number of desktops: the ids of any iterable (not
            /// a single str or bytes) are kept once each and all checked, as given, against the
            /// core's id rule before the first batch of 100 is sent;
            /// batches go `concurrency` at a time (fewer while the service throttles, a 429
            /// being sent again after its wait). Returns a `BulkRun` to iterate (or `async for`)
            /// for each batch's outcome as it ends; `account()` then has every desktop's state.
            /// `wait=True` follows each job (up to `wait_timeout` seconds); `journal` is a file
            /// that records the run and resumes it when given again. Any other field the spec gives
            /// the delete request is a further keyword, sent with every batch. Instead of ids,
            /// `where` selects the desktops by the listing's filters (e.g.
            /// `{"is_share_desktop": True, "status": "ACTIVE"}`): they are listed before this
            /// returns (an `AsyncClient` waits for the listing here too) and recorded in
            /// `journal` first, so that a resumed run acts on those ids, never on a new listing.
            /// A batch refused (404) for desktops the service does not know is split: those the
            /// listing does not hold end `NOT_FOUND`, the rest are sent again
            /// (`split_not_found=False` leaves the batch refused).
            #[pyo3(
                signature = (desktop_ids=None, *, r#where=None, sub_resource_type=None, order_id=None, concurrency=None, wait=None, wait_timeout=None, journal=None, resend_unknown=false, resend_refused=false, throttle_timeout=None, split_not_found=true, **fields),
                text_signature = "($self, desktop_ids=None, *, where=None, sub_resource_type='DESKTOP_SHARER', order_id=None, concurrency=4, wait=False, wait_timeout=600.0, journal=None, resend_unknown=False, resend_refused=False, throttle_timeout=120.0, split_not_found=True, **fields)"
            )]
            #[allow(clippy::too_many_arguments)]
            fn delete_many(
                &self,
                py: Python<'_>,
                desktop_ids: Option<&Bound<'_, PyAny>>,
                r#where: Option<&Bound<'_, PyAny>>,
                sub_resource_type: Option<&Bound<'_, PyAny>>,
                order_id: Option<&Bound<'_, PyAny>>,
                concurrency: Option<&Bound<'_, PyAny>>,
                wait: Option<&Bound<'_, PyAny>>,
                wait_timeout: Option<&Bound<'_, PyAny>>,
                journal: Option<&Bound<'_, PyAny>>,
                resend_unknown: bool,
                resend_refused: bool,
                throttle_timeout: Option<&Bound<'_, PyAny>>,
                split_not_found: bool,
                fields: Option<&Bound<'_, pyo3::types::PyDict>>,
            ) -> PyResult<crate::bulk::BulkRun> {
                let options = crate::bulk::options(py, OperationId::DeleteDesktopSubResources, sub_resource_type, order_id, concurrency, wait, wait_timeout, journal, resend_unknown, resend_refused, throttle_timeout, split_not_found, fields)?;
                let plan = crate::bulk::plan(py, &self.core, desktop_ids, r#where, options)?;
                self.core.delete_many(py, plan)
            }

            /// Adds the collaboration resource of `sub_resource_sku` to any number of desktops
            /// (`AddDesktopSubResources`), as `delete_many` deletes: ids or `where`, batches of
            /// 100, `wait`, `journal` (a journal of one never resumes the other), and the same
            /// `BulkRun` to iterate. Adding, then deleting, leaves the desktops as they were.
            #[pyo3(
                signature = (desktop_ids=None, *, r#where=None, sub_resource_sku=None, order_id=None, concurrency=None, wait=None, wait_timeout=None, journal=None, resend_unknown=false, resend_refused=false, throttle_timeout=None, split_not_found=true, **fields),
                text_signature = "($self, desktop_ids=None, *, where=None, sub_resource_sku, order_id=None, concurrency=4, wait=False, wait_timeout=600.0, journal=None, resend_unknown=False, resend_refused=False, throttle_timeout=120.0, split_not_found=True, **fields)"
            )]
            #[allow(clippy::too_many_arguments)]
            fn add_many(
                &self,
                py: Python<'_>,
                desktop_ids: Option<&Bound<'_, PyAny>>,
                r#where: Option<&Bound<'_, PyAny>>,
                sub_resource_sku: Option<&Bound<'_, PyAny>>,
                order_id: Option<&Bound<'_, PyAny>>,
                concurrency: Option<&Bound<'_, PyAny>>,
                wait: Option<&Bound<'_, PyAny>>,
                wait_timeout: Option<&Bound<'_, PyAny>>,
                journal: Option<&Bound<'_, PyAny>>,
                resend_unknown: bool,
                resend_refused: bool,
                throttle_timeout: Option<&Bound<'_, PyAny>>,
                split_not_found: bool,
                fields: Option<&Bound<'_, pyo3::types::PyDict>>,
            ) -> PyResult<crate::bulk::BulkRun> {
                let options = crate::bulk::options(py, OperationId::AddDesktopSubResources, sub_resource_sku, order_id, concurrency, wait, wait_timeout, journal, resend_unknown, resend_refused, throttle_timeout, split_not_found, fields)?;
                let plan = crate::bulk::plan(py, &self.core, desktop_ids, r#where, options)?;
                self.core.delete_many(py, plan)
            }

            #[doc = $close_doc]
            fn close(&self, py: Python<'_>) -> PyResult<()> {
                self.core.close(py)
            }

            fn __repr__(&self) -> String {
                self.core.repr($python_name)
            }

            $($methods)*
        }
    };
}

client_class! {
    /// A blocking client. Thread-safe: share one between threads; each call releases the GIL
    /// while it waits for the service.
    Client,
    "Client",
    "Closes the connection pool; later calls raise `RuntimeError`. Its bulk runs stop: no new batch, and the close waits (within one request's time) for the batches in flight to be recorded.",
    {
    /// Polls a job until it ends: returns the final job on `SUCCESS`; raises
    /// `JobFailedError` on `FAILED` and `JobTimeoutError` when `timeout` runs out.
    #[pyo3(
        signature = (job_id, *, timeout=None, poll_interval=None),
        text_signature = "($self, job_id, *, timeout=600.0, poll_interval=0.5)"
    )]
    fn wait_job(
        &self,
        py: Python<'_>,
        job_id: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
        poll_interval: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Job> {
        let job_id = args::string(job_id, "job_id")?;
        let options = wait_options(py, timeout, poll_interval)?;
        log::refresh_level(py)?;
        let outcome = self.core.blocking(py, |client| async move { client.wait_job(&job_id, &options).await });
        log::flush(py)?;
        outcome?.map(Job::from).map_err(|e| to_py_err(py, &e))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: &Bound<'_, PyAny>,
        exc_value: &Bound<'_, PyAny>,
        traceback: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        // Named as in the protocol (they show in the signature); an exception is not
        // suppressed, so they are not needed.
        let _ = (exc_type, exc_value, traceback);
        self.core.close(py)
    }
    }
}

client_class! {
    /// An asyncio client. Its methods return awaitables; any number may be in flight at once.
    AsyncClient,
    "AsyncClient",
    "Closes the connection pool; calls in flight finish, later calls raise `RuntimeError`. Its bulk runs stop: no new batch, and the close waits (within one request's time) for the batches in flight to be recorded.",
    {
    /// Polls a job until it ends (a coroutine); see `Client.wait_job`.
    #[pyo3(
        signature = (job_id, *, timeout=None, poll_interval=None),
        text_signature = "($self, job_id, *, timeout=600.0, poll_interval=0.5)"
    )]
    fn wait_job<'py>(
        &self,
        py: Python<'py>,
        job_id: &Bound<'py, PyAny>,
        timeout: Option<&Bound<'py, PyAny>>,
        poll_interval: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let job_id = args::string(job_id, "job_id")?;
        let options = wait_options(py, timeout, poll_interval)?;
        let client = self.core.client(py)?;
        log::refresh_level(py)?;
        crate::aio::coroutine(py, async move { client.wait_job(&job_id, &options).await }, job_or_error)
    }

    fn __aenter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        crate::aio::ready(slf.py(), slf.clone().into_any())
    }

    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        exc_type: &Bound<'py, PyAny>,
        exc_value: &Bound<'py, PyAny>,
        traceback: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = (exc_type, exc_value, traceback);
        // The bulk runs' batches in flight are awaited, not waited for on the loop's thread.
        let runs = self.core.stop_runs();
        if runs.is_empty() {
            self.core.close_pool();
            return crate::aio::ready(py, py.None().into_bound(py));
        }
        let core = Arc::clone(&self.core);
        crate::aio::coroutine(py, crate::bulk::settle_all(runs), move |py, ()| {
            core.close_pool();
            Ok(py.None())
        })
    }
    }
}

fn job_or_error(py: Python<'_>, outcome: Result<hwc_workspace::Job, hwc_workspace::Error>) -> PyResult<Py<PyAny>> {
    match outcome {
        Ok(job) => Ok(Py::new(py, Job::from(job))?.into_any()),
        Err(e) => Err(to_py_err(py, &e)),
    }
}
