//! `Simulator`: the Rust simulator of the Workspace API, in-process on loopback, for users'
//! own tests; and `Job`, what it recorded for each successful call.

use std::sync::{Mutex, PoisonError};

use hwc_workspace_sim::{BodyShape, DEMO_DENIED_AK, DEMO_DENIED_SK, DESKTOP_SHARER, FaultKind, Faults, JobTiming};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::args;
use crate::client::{AsyncClient, Client, Core, call_settings};
use crate::errors::{closed, simulator_error};
use crate::log;
use crate::runtime::wait;

/// The fault names `fail_next` takes, and what each makes the simulator do. The simulator's
/// own names (`FaultKind`'s `FromStr`, e.g. `"429:5"` or `"redirect:127.0.0.1:8080"`) are
/// taken too, for the faults with a parameter.
const FAULTS: [(&str, FaultKind); 20] = [
    ("internal_error", FaultKind::InternalError),
    ("internal_error_html", FaultKind::ErrorPage { status: 500, body: BodyShape::Html }),
    ("internal_error_empty", FaultKind::ErrorPage { status: 500, body: BodyShape::Empty }),
    ("bad_gateway", FaultKind::ErrorPage { status: 502, body: BodyShape::Json }),
    ("html_bad_gateway", FaultKind::HtmlBadGateway),
    ("bad_gateway_empty", FaultKind::ErrorPage { status: 502, body: BodyShape::Empty }),
    ("unavailable", FaultKind::Unavailable),
    ("unavailable_html", FaultKind::ErrorPage { status: 503, body: BodyShape::Html }),
    ("unavailable_empty", FaultKind::ErrorPage { status: 503, body: BodyShape::Empty }),
    ("gateway_timeout", FaultKind::ErrorPage { status: 504, body: BodyShape::Json }),
    ("too_many_requests", FaultKind::TooManyRequests { retry_after_secs: 1 }),
    ("too_many_requests_without_retry_after", FaultKind::TooManyRequestsWithoutRetryAfter),
    ("reset_on_accept", FaultKind::ResetOnAccept),
    ("reset_after_request", FaultKind::ResetAfterRequest),
    ("drop_connection", FaultKind::DropConnection),
    ("no_answer", FaultKind::NoAnswer),
    ("stalled_body", FaultKind::StalledBody),
    ("truncated_body", FaultKind::TruncatedBody),
    ("undocumented_body", FaultKind::UndocumentedBody),
    ("oversized_body", FaultKind::OversizedBody),
];

/// A deletion the simulator accepted (its own record; `Client.show_job` reads the job as the
/// service reports it).
#[pyclass(module = "hwc_workspace", name = "SimulatedJob", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct SimulatedJob {
    #[pyo3(get)]
    job_id: String,
    /// The desktop ids as the request listed them.
    #[pyo3(get)]
    desktop_ids: Vec<String>,
    #[pyo3(get)]
    sub_resource_type: String,
    #[pyo3(get)]
    order_id: Option<String>,
    /// The `X-Request-Id` the simulator answered with.
    #[pyo3(get)]
    request_id: String,
    /// The access key that signed the call.
    #[pyo3(get)]
    access_key: String,
    /// The desktops that held the sub-resource and lost it (empty for a repeated deletion).
    #[pyo3(get)]
    removed_from: Vec<String>,
    /// The desktops whose sub-job was made to fail (`Simulator.fail_sub_jobs`).
    #[pyo3(get)]
    failed_desktops: Vec<String>,
    created_at_unix: f64,
    /// [`hwc_workspace_sim::Job::body`] as JSON text, parsed when asked for.
    body_json: String,
}

#[pymethods]
impl SimulatedJob {
    /// When the simulator accepted the call, as an aware UTC `datetime`.
    #[getter]
    fn created_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let datetime = py.import("datetime")?;
        let utc = datetime.getattr("timezone")?.getattr("utc")?;
        datetime.getattr("datetime")?.call_method1("fromtimestamp", (self.created_at_unix, utc))
    }

    /// Every body field of the request the spec describes, as received (a new `dict`).
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?.call_method1("loads", (self.body_json.as_str(),))
    }

    fn __repr__(&self) -> String {
        format!(
            "SimulatedJob(job_id={}, desktop_ids={}, sub_resource_type={}, order_id={}, removed_from={})",
            args::repr_str(&self.job_id),
            args::repr_list(&self.desktop_ids),
            args::repr_str(&self.sub_resource_type),
            args::repr_opt(self.order_id.as_deref()),
            args::repr_list(&self.removed_from)
        )
    }
}

impl From<hwc_workspace_sim::Job> for SimulatedJob {
    fn from(job: hwc_workspace_sim::Job) -> Self {
        let body_json = job.body_json();
        Self {
            created_at_unix: job.created_at.unix_timestamp_nanos() as f64 / 1e9,
            job_id: job.job_id,
            desktop_ids: job.desktop_ids,
            sub_resource_type: job.sub_resource_type,
            order_id: job.order_id,
            request_id: job.request_id,
            access_key: job.access_key,
            removed_from: job.removed_from,
            failed_desktops: job.failed_desktops,
            body_json,
        }
    }
}

/// The simulator of the Workspace API, serving on `127.0.0.1` and an ephemeral port from
/// this process's I/O threads. It checks signatures like the service, and records what was
/// deleted. After `os.fork()` it keeps serving from the parent only: a child's clients can
/// call it, but only the parent can inspect or steer it.
#[pyclass(module = "hwc_workspace", name = "Simulator", frozen)]
pub(crate) struct Simulator {
    /// `None` once closed.
    inner: Mutex<Option<hwc_workspace_sim::Simulator>>,
    /// The process that serves: after `os.fork()` the child has a copy of the handle but
    /// not the server, whose threads stayed in the parent.
    pid: u32,
    endpoint: String,
    access_key: String,
    secret_key: String,
    project_id: String,
    sharer_desktop_ids: Vec<String>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.repr())
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        // In a forked child the handle's channels and tasks belong to the parent's runtime:
        // dropping them could wait on locks copied mid-use. Abandon them instead.
        if std::process::id() != self.pid {
            let inherited = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner).take();
            std::mem::forget(inherited);
        }
    }
}

impl Simulator {
    /// Runs `f` on the running simulator (the lock is never held while Python code runs).
    fn with<T>(&self, f: impl FnOnce(&hwc_workspace_sim::Simulator) -> T) -> PyResult<T> {
        self.in_serving_process()?;
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.as_ref().map(f).ok_or_else(|| closed("simulator"))
    }

    /// In a forked child the copied state is stale and its locks may have been copied
    /// mid-use: only the parent can inspect or steer the simulator (clients in the child can
    /// still call it).
    fn in_serving_process(&self) -> PyResult<()> {
        if std::process::id() == self.pid {
            Ok(())
        } else {
            Err(PyRuntimeError::new_err(format!(
                "the simulator serves from process {}; inspect or steer it from there (clients in this process can still call it)",
                self.pid
            )))
        }
    }

    fn repr(&self) -> String {
        format!(
            "<hwc_workspace.Simulator endpoint={} project_id={} ak={}>",
            args::repr_str(&self.endpoint),
            args::repr_str(&self.project_id),
            args::repr_str(&self.access_key)
        )
    }

    /// The configuration of a client of this simulator, from `client()`'s arguments.
    fn builder(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
        retries: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(hwc_workspace::ClientBuilder, std::time::Duration)> {
        let builder = self.with(hwc_workspace_sim::Simulator::client_builder)?;
        call_settings(py, builder, timeout, None, retries)
    }
}

#[pymethods]
impl Simulator {
    /// Starts a simulator: of the demo state, or of `state` (a dict in the state file's
    /// shape, or the path of a JSON state file); `latency` (seconds) delays every answer, and
    /// a job takes `job_duration` seconds to end (a fifth waiting, the rest running).
    #[new]
    #[pyo3(
        signature = (*, state=None, latency=None, job_duration=None, desktops=None, shared_fraction=0.5),
        text_signature = "(*, state=None, latency=0.0, job_duration=1.0, desktops=None, shared_fraction=0.5)"
    )]
    fn new(
        py: Python<'_>,
        state: Option<&Bound<'_, PyAny>>,
        latency: Option<&Bound<'_, PyAny>>,
        job_duration: Option<&Bound<'_, PyAny>>,
        desktops: Option<usize>,
        shared_fraction: f64,
    ) -> PyResult<Self> {
        let state = match state.filter(|s| !s.is_none()) {
            None => hwc_workspace_sim::State::demo(),
            Some(value) if value.is_instance_of::<pyo3::types::PyDict>() => {
                let json = py.import("json")?.call_method1("dumps", (value,))?;
                let json = args::string(&json, "state")?;
                hwc_workspace_sim::State::from_json(&json).map_err(|e| {
                    crate::errors::invalid_request(py, "state", "a valid simulator state", &e.to_string())
                })?
            }
            Some(value) => {
                let path = py.import("os")?.call_method1("fspath", (value,)).map_err(|_| {
                    pyo3::exceptions::PyTypeError::new_err(format!(
                        "state must be a dict, a path or None, got {}",
                        args::type_name(value)
                    ))
                })?;
                let path = args::string(&path, "state")?;
                hwc_workspace_sim::State::from_file(&path).map_err(|e| {
                    crate::errors::invalid_request(py, "state", "a valid simulator state file", &e.to_string())
                })?
            }
        };
        // `desktops` seeds a fleet in place of the state's desktops, as the CLI's --desktops.
        let state = match desktops {
            Some(count) => state.with_seeded_desktops(count, shared_fraction).map_err(|e| {
                crate::errors::invalid_request(
                    py,
                    "desktops",
                    "a count and a shared fraction from 0 to 1",
                    &e.to_string(),
                )
            })?,
            None => state,
        };
        let latency = args::non_negative_seconds(py, latency, "latency")?;
        let job_duration = match job_duration.filter(|d| !d.is_none()) {
            Some(value) => args::non_negative_seconds(py, Some(value), "job_duration")?,
            None => {
                let timing = JobTiming::default();
                timing.waiting + timing.running
            }
        };
        let timing = JobTiming { waiting: job_duration / 5, running: job_duration - job_duration / 5 };
        log::refresh_level(py)?;
        let started = wait(
            py,
            hwc_workspace_sim::Simulator::builder()
                .state(state)
                .faults(Faults::none().with_latency(latency))
                .job_timing(timing)
                .start(),
        );
        log::flush(py)?;
        let simulator = started?.map_err(|e| simulator_error(py, &e))?;
        let sharer_desktop_ids =
            simulator.desktops().into_iter().filter(|d| d.has(DESKTOP_SHARER)).map(|d| d.id).collect();
        Ok(Self {
            endpoint: simulator.endpoint().to_owned(),
            access_key: simulator.access_key().to_owned(),
            secret_key: simulator.secret_key().to_owned(),
            project_id: simulator.project_id().to_owned(),
            sharer_desktop_ids,
            inner: Mutex::new(Some(simulator)),
            pid: std::process::id(),
        })
    }

    /// `http://127.0.0.1:PORT`.
    #[getter]
    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The demo access key, allowed to delete sub-resources.
    #[getter]
    fn ak(&self) -> &str {
        &self.access_key
    }

    /// The demo secret key. Public on purpose: the simulator serves on loopback only.
    #[getter]
    fn sk(&self) -> &str {
        &self.secret_key
    }

    /// A second key that authenticates but lacks the permission: every call answers 403.
    #[getter]
    fn denied_ak(&self) -> &'static str {
        DEMO_DENIED_AK
    }

    #[getter]
    fn denied_sk(&self) -> &'static str {
        DEMO_DENIED_SK
    }

    #[getter]
    fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The demo desktops that hold a `DESKTOP_SHARER` sub-resource at the start.
    #[getter]
    fn desktop_ids(&self) -> Vec<String> {
        self.sharer_desktop_ids.clone()
    }

    /// Every desktop and the sub-resources it holds now.
    fn desktops<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let desktops = self.with(hwc_workspace_sim::Simulator::desktops)?;
        let out = PyDict::new(py);
        for desktop in desktops {
            out.set_item(desktop.id, desktop.sub_resources)?;
        }
        Ok(out)
    }

    /// The jobs of the successful calls, oldest first.
    fn jobs(&self, py: Python<'_>) -> PyResult<Vec<SimulatedJob>> {
        let jobs = self.with(hwc_workspace_sim::Simulator::jobs)?;
        log::flush(py)?;
        Ok(jobs.into_iter().map(SimulatedJob::from).collect())
    }

    /// In jobs created from now on, the sub-jobs of these desktops fail: the deletion is
    /// accepted, the desktops keep their resource, and the job ends `FAILED`.
    fn fail_sub_jobs(&self, desktop_ids: &Bound<'_, PyAny>) -> PyResult<()> {
        let desktop_ids = args::string_list(desktop_ids, "desktop_ids")?;
        self.with(|simulator| simulator.set_faults(simulator.faults().with_failing_desktops(desktop_ids)))
    }

    /// From now on, report jobs as no documented service does, to test how they are read:
    /// `"success-over-failed-sub-jobs"`, `"failed-over-successful-sub-jobs"`,
    /// `"no-sub-jobs"`, `"conflicting-sub-jobs"`, `"another-job"`, `"unusable-job-id"`.
    fn report_jobs_as(&self, kind: &Bound<'_, PyAny>) -> PyResult<()> {
        let name = args::string(kind, "kind")?;
        let kind = hwc_workspace_sim::JobReportFault::from_name(&name).ok_or_else(|| {
            let known: Vec<&str> = hwc_workspace_sim::JobReportFault::ALL.iter().map(|k| k.name()).collect();
            PyValueError::new_err(format!(
                "unknown job report {}; expected one of: {}",
                args::repr_str(&name),
                known.join(", ")
            ))
        })?;
        self.with(|simulator| simulator.set_faults(simulator.faults().with_job_reports(kind)))
    }

    /// How many requests reached the simulator, whatever it answered.
    #[getter]
    fn request_count(&self) -> PyResult<u64> {
        self.with(hwc_workspace_sim::Simulator::request_count)
    }

    /// Makes the next requests fail, one fault each, in order. Error statuses:
    /// `"internal_error"` (500 with the JSON error body), `"internal_error_html"`,
    /// `"internal_error_empty"`, `"bad_gateway"` (502 JSON), `"html_bad_gateway"`,
    /// `"bad_gateway_empty"`, `"unavailable"` (503 JSON), `"unavailable_html"`,
    /// `"unavailable_empty"`, `"gateway_timeout"` (504 JSON), `"too_many_requests"` (429 with
    /// `Retry-After: 1`), `"too_many_requests_without_retry_after"`. Connections:
    /// `"reset_on_accept"` (the next connection is reset before its request is read),
    /// `"reset_after_request"`, `"drop_connection"` (closed without an answer),
    /// `"no_answer"`. Bodies: `"stalled_body"`, `"truncated_body"`, `"undocumented_body"` (a
    /// 200 without `job_id`), `"oversized_body"` (a 200 of 10 MiB). The simulator's own names
    /// are accepted too, e.g. `"429:5"`, `"504:html"` or `"redirect:127.0.0.1:8080"` (307 to
    /// another host). A faulted request changes nothing.
    #[pyo3(signature = (*faults))]
    fn fail_next(&self, faults: &Bound<'_, PyTuple>) -> PyResult<()> {
        let mut kinds = Vec::with_capacity(faults.len());
        for fault in faults.iter() {
            let name = args::string(&fault, "fault")?;
            let known = FAULTS.iter().find(|(known, _)| *known == name).map(|(_, kind)| *kind);
            let kind = known.or_else(|| name.parse::<FaultKind>().ok()).ok_or_else(|| {
                let known: Vec<&str> = FAULTS.iter().map(|(known, _)| *known).collect();
                PyValueError::new_err(format!(
                    "unknown fault {}; expected one of: {}, or a simulator fault name such as \"429:5\" or \"redirect:HOST:PORT\"",
                    args::repr_str(&name),
                    known.join(", ")
                ))
            })?;
            kinds.push(kind);
        }
        self.with(|simulator| {
            let mut current = simulator.faults();
            current.fail_next.extend(kinds);
            simulator.set_faults(current);
        })
    }

    /// Delays every answer by `seconds` from now on (0 for none).
    fn set_latency(&self, py: Python<'_>, seconds: &Bound<'_, PyAny>) -> PyResult<()> {
        let latency = args::non_negative_seconds(py, Some(seconds), "seconds")?;
        self.with(|simulator| {
            let mut current = simulator.faults();
            current.latency = latency;
            simulator.set_faults(current);
        })
    }

    /// Removes every fault and the latency.
    fn clear_faults(&self) -> PyResult<()> {
        self.with(|simulator| simulator.set_faults(Faults::none()))
    }

    /// A `Client` with this simulator's endpoint, demo key and project.
    #[pyo3(signature = (*, timeout=None, retries=None), text_signature = "($self, *, timeout=30.0, retries=0)")]
    fn client(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
        retries: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Client> {
        let builder = self.builder(py, timeout, retries)?;
        Ok(Client::from_core(Core::new(py, builder)?))
    }

    /// An `AsyncClient` with this simulator's endpoint, demo key and project.
    #[pyo3(signature = (*, timeout=None, retries=None), text_signature = "($self, *, timeout=30.0, retries=0)")]
    fn async_client(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
        retries: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<AsyncClient> {
        let builder = self.builder(py, timeout, retries)?;
        Ok(AsyncClient::from_core(Core::new(py, builder)?))
    }

    /// Stops the server and waits until it has stopped. Closing twice does nothing.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        if self.in_serving_process().is_err() {
            // A forked child leaves the parent's server alone (the `with` block of a forked
            // child ends here too): its copy of the handle is simply abandoned.
            return Ok(());
        }
        let simulator = self.inner.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(simulator) = simulator {
            wait(py, simulator.shutdown())?;
        }
        log::flush(py)?;
        Ok(())
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
        let _ = (exc_type, exc_value, traceback);
        self.close(py)
    }

    fn __repr__(&self) -> String {
        self.repr()
    }
}
