//! Python exceptions: the classes live in `hwc_workspace._errors` (real multiple
//! inheritance, e.g. `InvalidRequestError` is also a `ValueError`), and [`to_py_err`] is the
//! one place that maps the core's [`Error`] onto them.

use hwc_workspace::{ApiErrorKind, ConfigErrorKind, Error, Setting, TransportErrorKind};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// Builds an instance of `hwc_workspace._errors.<class>(message, **attributes)`.
fn instantiate(py: Python<'_>, class: &str, message: String, attributes: &Bound<'_, PyDict>) -> PyErr {
    let built = MODULE
        .get_or_try_init(py, || py.import("hwc_workspace._errors").map(Bound::unbind))
        .and_then(|module| module.bind(py).getattr(class))
        .and_then(|class| class.call((message,), Some(attributes)));
    match built {
        Ok(exception) => PyErr::from_value(exception),
        // Only a broken installation gets here (the module ships with the package).
        Err(e) => e,
    }
}

/// How Python spells a setting a hint names: the keyword argument of `Client`.
fn python_spelling(setting: Setting) -> String {
    match setting {
        Setting::Region => "region=...".to_owned(),
        Setting::Endpoint => "endpoint=URL".to_owned(),
        Setting::ProjectId => "project_id=...".to_owned(),
        Setting::Simulator => "hwc_workspace.Simulator()".to_owned(),
        Setting::Timeout => "timeout=SECONDS".to_owned(),
        Setting::ConnectTimeout => "connect_timeout=SECONDS".to_owned(),
        Setting::Retries => "retries=N".to_owned(),
        Setting::WaitTimeout => "the wait's timeout (wait_timeout= of delete_many, timeout= of wait_job)".to_owned(),
        Setting::CaCertificate => "ca_cert=PATH".to_owned(),
        Setting::Proxy => "proxy=URL".to_owned(),
        Setting::ShowJob => "Client.show_job()".to_owned(),
        other => other.describe().to_owned(),
    }
}

/// The exception for a core error: the class by kind (and HTTP status), the core's
/// `Display` as the message (a sentence that never contains a secret), and every piece of
/// context as an attribute. Every exception carries the core's hints (`.hints`, settings
/// spelled as `Client`'s keyword arguments): the CLI prints the same hints, from the same
/// table (`Error::hints`).
///
/// - `InvalidInput` → `InvalidRequestError` (`.field`, `.index`, `.line`, `.expected`, `.got`)
/// - `Configuration` → `ConfigurationError` (`.kind`, `.hints`; the hints also follow the
///   message, one per line)
/// - `Api` → by the core's [`ApiErrorKind`], one class each (see [`api_class`]), never by
///   the status again: the kinds already say what a status means (a 429 is `Throttled`)
/// - `Transport` → `RequestTimeoutError` for timeouts, `TransportError` otherwise (`.kind`,
///   `.endpoint`)
/// - `JobFailed` → `JobFailedError`, an `ApiError` with `.job` and `.failed_desktop_ids`
/// - `JobTimeout` → `JobTimeoutError` (also `TimeoutError`; `.job_id`, `.last_status`)
/// - `JobOutcomeUnknown` → `JobOutcomeUnknownError` (`.job`, `.unknown_desktop_ids`,
///   `.reasons`: the job ended, but its reports leave some desktop's outcome unknown)
/// - `UndecodableResponse` (a success status whose body is not the documented one) →
///   `UndecodableResponseError`, an `ApiError` with that status, `error_code` None and the
///   reason as `error_msg`: the service did answer, so it is an API-level failure, and the
///   status tells it apart from an error status.
pub(crate) fn to_py_err(py: Python<'_>, error: &Error) -> PyErr {
    let attributes = PyDict::new(py);
    let set = |name: &str, value: Option<&str>| attributes.set_item(name, value);
    let hints: Vec<String> = error.hints().iter().map(|hint| hint.render(python_spelling)).collect();
    let outcome: PyResult<(&str, String)> = (|| {
        attributes.set_item("hints", PyList::new(py, &hints)?)?;
        Ok(match error {
            Error::InvalidInput(e) => {
                set("field", Some(e.field()))?;
                attributes.set_item("index", e.index())?;
                attributes.set_item("line", e.line())?;
                set("expected", Some(e.expected()))?;
                set("got", Some(e.got()))?;
                ("InvalidRequestError", e.to_string())
            }
            Error::Configuration(e) => {
                set("kind", Some(config_kind(e.kind())))?;
                // A configuration problem is solved by its hints: they follow the message.
                let mut message = e.to_string();
                for hint in &hints {
                    message.push_str("\nhint: ");
                    message.push_str(hint);
                }
                ("ConfigurationError", message)
            }
            Error::Api(e) => {
                attributes.set_item("status_code", e.status())?;
                set("error_code", e.error_code())?;
                set("error_msg", e.error_msg())?;
                set("error_detail", e.error_detail())?;
                set("encoded_authorization_message", e.encoded_authorization_message())?;
                set("request_id", e.request_id())?;
                (api_class(e.kind()), e.to_string())
            }
            Error::Transport(e) => {
                set("kind", Some(transport_kind(e.kind())))?;
                set("endpoint", Some(e.endpoint()))?;
                let class =
                    if e.kind() == TransportErrorKind::Timeout { "RequestTimeoutError" } else { "TransportError" };
                (class, error.message_with_causes())
            }
            Error::UndecodableResponse(e) => {
                attributes.set_item("status_code", e.status())?;
                set("error_msg", Some(e.reason()))?;
                set("request_id", e.request_id())?;
                ("UndecodableResponseError", e.to_string())
            }
            Error::JobFailed(e) => {
                let job = e.job();
                // The service answered ShowJob with 200 and reported the job's failure.
                attributes.set_item("status_code", 200)?;
                set("error_code", job.job_error_code.as_deref())?;
                set("error_msg", job.fail_reason.as_deref())?;
                attributes.set_item("job", Py::new(py, crate::jobs::Job::from(job.clone()))?)?;
                attributes.set_item("failed_desktop_ids", PyList::new(py, e.failed_desktop_ids())?)?;
                ("JobFailedError", e.to_string())
            }
            Error::JobOutcomeUnknown(e) => {
                attributes.set_item("job", Py::new(py, crate::jobs::Job::from(e.job().clone()))?)?;
                let unknown: Vec<&str> = e.unknown_desktops().map(|d| d.desktop_id.as_str()).collect();
                attributes.set_item("unknown_desktop_ids", PyList::new(py, &unknown)?)?;
                let reasons = PyDict::new(py);
                for desktop in e.unknown_desktops() {
                    reasons.set_item(&desktop.desktop_id, desktop.fail_reason.as_deref())?;
                }
                attributes.set_item("reasons", reasons)?;
                ("JobOutcomeUnknownError", e.to_string())
            }
            Error::JobTimeout(e) => {
                set("job_id", Some(e.job_id()))?;
                set("last_status", e.last_status().map(|s| s.as_str()))?;
                ("JobTimeoutError", e.to_string())
            }
            // A kind added to the core later still raises something catchable.
            other => ("WorkspaceError", other.to_string()),
        })
    })();
    match outcome {
        Ok((class, message)) => instantiate(py, class, message, &attributes),
        Err(e) => e,
    }
}

/// An argument that this binding checks itself (the core checks the operation's input):
/// `InvalidRequestError` naming the argument, like the core's own input errors.
pub(crate) fn invalid_request(py: Python<'_>, field: &str, expected: &str, got: &str) -> PyErr {
    let attributes = PyDict::new(py);
    let filled = attributes
        .set_item("field", field)
        .and_then(|()| attributes.set_item("expected", expected))
        .and_then(|()| attributes.set_item("got", got));
    match filled {
        Ok(()) => instantiate(
            py,
            "InvalidRequestError",
            format!("invalid {field}: expected {expected}, got {got}"),
            &attributes,
        ),
        Err(e) => e,
    }
}

/// The simulator could not start (e.g. no loopback port): a `ConfigurationError`, as the
/// environment does not allow what was asked.
pub(crate) fn simulator_error(py: Python<'_>, error: &dyn std::error::Error) -> PyErr {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    let attributes = PyDict::new(py);
    let filled =
        attributes.set_item("kind", "simulator").and_then(|()| attributes.set_item("hints", PyList::empty(py)));
    match filled {
        Ok(()) => instantiate(py, "ConfigurationError", message, &attributes),
        Err(e) => e,
    }
}

/// A use of a closed client or simulator: a programming error, as with closed files.
pub(crate) fn closed(what: &str) -> PyErr {
    PyRuntimeError::new_err(format!("the {what} is closed"))
}

/// The class of each [`ApiErrorKind`], one to one. Every class derives from the class that
/// status had before the kind was named (`ThrottledError` from `ClientRequestError`,
/// `ServiceUnavailableError` from `ServerResponseError`), so existing `except` clauses still
/// catch it.
fn api_class(kind: ApiErrorKind) -> &'static str {
    match kind {
        ApiErrorKind::BadRequest => "BadRequestError",
        ApiErrorKind::Authentication => "AuthenticationError",
        ApiErrorKind::ClockSkew => "ClockSkewError",
        ApiErrorKind::PermissionDenied => "PermissionDeniedError",
        ApiErrorKind::NotFound => "NotFoundError",
        ApiErrorKind::ProxyAuthentication => "ProxyAuthenticationError",
        ApiErrorKind::Throttled => "ThrottledError",
        ApiErrorKind::Unavailable => "ServiceUnavailableError",
        ApiErrorKind::OtherClientError => "ClientRequestError",
        ApiErrorKind::ServiceFailed => "ServerResponseError",
        // A kind added to the core later is still an `ApiError`.
        _ => "ApiError",
    }
}

fn config_kind(kind: ConfigErrorKind) -> &'static str {
    match kind {
        ConfigErrorKind::MissingCredentials => "missing_credentials",
        ConfigErrorKind::InvalidCredentials => "invalid_credentials",
        ConfigErrorKind::MissingProjectId => "missing_project_id",
        ConfigErrorKind::UnknownRegion => "unknown_region",
        ConfigErrorKind::MissingEndpoint => "missing_endpoint",
        ConfigErrorKind::InvalidEndpoint => "invalid_endpoint",
        ConfigErrorKind::CaCertificate => "ca_certificate",
        ConfigErrorKind::HttpClient => "http_client",
        ConfigErrorKind::Journal => "journal",
        ConfigErrorKind::InvalidEnvironment => "invalid_environment",
        ConfigErrorKind::InvalidProxy => "invalid_proxy",
        ConfigErrorKind::InstanceMetadata => "instance_metadata",
        _ => "other",
    }
}

fn transport_kind(kind: TransportErrorKind) -> &'static str {
    match kind {
        TransportErrorKind::Connect => "connect",
        TransportErrorKind::Timeout => "timeout",
        TransportErrorKind::Tls => "tls",
        TransportErrorKind::Broken => "broken",
        _ => "other",
    }
}

/// A configuration problem this binding finds itself (the core finds the others), with
/// the same attributes as the core's.
pub(crate) fn configuration_error(py: Python<'_>, kind: &str, message: &str, hints: &[&str]) -> PyErr {
    let attributes = PyDict::new(py);
    let filled = PyList::new(py, hints)
        .and_then(|list| attributes.set_item("hints", list))
        .and_then(|()| attributes.set_item("kind", kind));
    let mut text = message.to_owned();
    for hint in hints {
        text.push_str("\nhint: ");
        text.push_str(hint);
    }
    match filled {
        Ok(()) => instantiate(py, "ConfigurationError", text, &attributes),
        Err(e) => e,
    }
}
