//! One error type for every way a call can fail. Each variant's `Display` says what happened
//! and, where there is one, what to do; none ever contains a secret.

use std::fmt;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input was rejected before anything was sent.
    #[error(transparent)]
    InvalidInput(#[from] InvalidInput),
    /// Credentials, region, endpoint or TLS settings are missing or wrong; nothing was sent.
    #[error(transparent)]
    Configuration(#[from] ConfigError),
    /// The service answered with an error status.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The service could not be reached, or the exchange broke off.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The service answered success, but not with the documented body.
    #[error(transparent)]
    UndecodableResponse(#[from] UndecodableResponse),
    /// The job that was waited for ended `FAILED`.
    #[error(transparent)]
    JobFailed(#[from] JobFailed),
    /// The job did not end within the time allowed for waiting.
    #[error(transparent)]
    JobTimeout(#[from] JobTimeout),
}

impl Error {
    /// The message with each underlying cause appended once (`: cause`): one line that says
    /// why, e.g. which certificate check a TLS handshake failed.
    pub fn message_with_causes(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !text.contains(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            source = cause.source();
        }
        text
    }

    /// The service's request id, when a response carried one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api(e) => e.request_id(),
            Self::UndecodableResponse(e) => e.request_id(),
            _ => None,
        }
    }

    /// The HTTP status, when a response was received.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(e) => Some(e.status()),
            Self::UndecodableResponse(e) => Some(e.status()),
            _ => None,
        }
    }
}

/// A field of the input broke a documented limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: expected {expected}, got {got}")]
pub struct InvalidInput {
    field: String,
    expected: String,
    got: String,
}

impl InvalidInput {
    pub(crate) fn new(field: impl Into<String>, expected: impl Into<String>, got: impl Into<String>) -> Self {
        Self { field: field.into(), expected: expected.into(), got: got.into() }
    }
    /// The field, as in the API document; list items as `desktop_ids[3]`.
    pub fn field(&self) -> &str {
        &self.field
    }
    pub fn expected(&self) -> &str {
        &self.expected
    }
    pub fn got(&self) -> &str {
        &self.got
    }
}

/// What part of the configuration is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// No credentials were found anywhere the chain looks.
    MissingCredentials,
    /// A credentials source was found but is incomplete or unreadable.
    InvalidCredentials,
    /// No project id was given or found.
    MissingProjectId,
    /// The region is not known and no endpoint override exists for it.
    UnknownRegion,
    /// Neither a region nor an endpoint was given.
    MissingEndpoint,
    /// The endpoint is not an http(s) URL.
    InvalidEndpoint,
    /// The extra CA certificate could not be read or parsed.
    CaCertificate,
    /// The HTTP client could not be built.
    HttpClient,
}

/// The configuration is wrong; the message says what, the hints what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    message: String,
    hints: Vec<String>,
}

impl ConfigError {
    pub(crate) fn new(kind: ConfigErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), hints: Vec::new() }
    }
    #[must_use]
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Next steps for the user, one sentence each.
    pub fn hints(&self) -> &[String] {
        &self.hints
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The service answered with an error status (4xx or 5xx).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub(crate) status: u16,
    pub(crate) request_id: Option<String>,
    pub(crate) error_code: Option<String>,
    pub(crate) error_msg: Option<String>,
    pub(crate) error_detail: Option<String>,
    pub(crate) encoded_authorization_message: Option<String>,
}

impl ApiError {
    pub fn status(&self) -> u16 {
        self.status
    }
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// The service's error code, e.g. `WKS.0001` or `APIGW.0301`.
    pub fn error_code(&self) -> Option<&str> {
        self.error_code.as_deref()
    }
    /// The service's message; for a body that was not the documented JSON, an excerpt of it.
    pub fn error_msg(&self) -> Option<&str> {
        self.error_msg.as_deref()
    }
    pub fn error_detail(&self) -> Option<&str> {
        self.error_detail.as_deref()
    }
    /// Encrypted reason for a denial; STS `decode-authorization-message` decrypts it.
    pub fn encoded_authorization_message(&self) -> Option<&str> {
        self.encoded_authorization_message.as_deref()
    }
    /// 4xx: the request was rejected, and sending it again unchanged will not help.
    pub fn is_client_error(&self) -> bool {
        (400..500).contains(&self.status)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = http::StatusCode::from_u16(self.status).ok().and_then(|s| s.canonical_reason());
        write!(f, "the service answered {}", self.status)?;
        if let Some(reason) = reason {
            write!(f, " {reason}")?;
        }
        match (&self.error_code, &self.error_msg) {
            (Some(code), Some(msg)) => write!(f, ": {code}: {msg}")?,
            (Some(code), None) => write!(f, ": {code}")?,
            (None, Some(msg)) => write!(f, ": {msg}")?,
            (None, None) => f.write_str(" with no error body")?,
        }
        if let Some(detail) = &self.error_detail {
            write!(f, " ({detail})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// How the exchange with the service failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (refused, unreachable, DNS).
    Connect,
    /// The connect or total timeout ran out.
    Timeout,
    /// The TLS handshake failed, e.g. an untrusted certificate.
    Tls,
    /// The connection broke during the exchange, or the answer was not HTTP.
    Broken,
}

/// The service could not be reached, or the exchange broke off.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    endpoint: String,
    source: reqwest::Error,
}

impl TransportError {
    pub(crate) fn new(endpoint: &str, source: reqwest::Error) -> Self {
        let kind = classify(&source);
        Self { kind, endpoint: endpoint.to_owned(), source }
    }
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }
    /// The endpoint the call went to (scheme, host and port; never credentials).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

pub(crate) fn classify(error: &reqwest::Error) -> TransportErrorKind {
    if error.is_timeout() {
        return TransportErrorKind::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(kind) = classify_cause(cause) {
            return kind;
        }
        source = cause.source();
    }
    if error.is_connect() { TransportErrorKind::Connect } else { TransportErrorKind::Broken }
}

/// Looks through nested `io::Error`s too: their `source()` skips the error they wrap, and
/// hyper wraps rustls's error two `io::Error`s deep.
fn classify_cause(cause: &(dyn std::error::Error + 'static)) -> Option<TransportErrorKind> {
    if cause.downcast_ref::<rustls::Error>().is_some() {
        return Some(TransportErrorKind::Tls);
    }
    let io = cause.downcast_ref::<std::io::Error>()?;
    if let Some(inner) = io.get_ref() {
        if let Some(kind) = classify_cause(inner) {
            return Some(kind);
        }
    }
    (io.kind() == std::io::ErrorKind::TimedOut).then_some(TransportErrorKind::Timeout)
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = &self.endpoint;
        match self.kind {
            TransportErrorKind::Connect => write!(f, "could not connect to {endpoint}"),
            TransportErrorKind::Timeout => write!(f, "the request to {endpoint} timed out"),
            TransportErrorKind::Tls => write!(f, "the TLS handshake with {endpoint} failed"),
            TransportErrorKind::Broken => write!(f, "the exchange with {endpoint} broke off"),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// A success status whose body is not the documented shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndecodableResponse {
    pub(crate) status: u16,
    pub(crate) request_id: Option<String>,
    pub(crate) reason: String,
}

impl UndecodableResponse {
    pub fn status(&self) -> u16 {
        self.status
    }
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// Why the body was not accepted.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for UndecodableResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the service answered {} with a body that is not the documented one: {}", self.status, self.reason)?;
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for UndecodableResponse {}

/// A job ended `FAILED`; carries the job with its failed sub-jobs and their reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct JobFailed {
    pub(crate) job: Box<crate::types::Job>,
}

impl JobFailed {
    /// The final job, as the service reported it.
    pub fn job(&self) -> &crate::types::Job {
        &self.job
    }

    /// The sub-jobs that failed.
    pub fn failed_sub_jobs(&self) -> impl Iterator<Item = &crate::types::SubJob> {
        self.job.sub_jobs.iter().filter(|sub| sub.status == Some(crate::JobStatus::Failed))
    }

    /// The desktops whose sub-job failed.
    pub fn failed_desktop_ids(&self) -> Vec<&str> {
        self.failed_sub_jobs().filter_map(|sub| sub.entities.as_ref()?.desktop_id.as_deref()).collect()
    }
}

impl fmt::Display for JobFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {} failed", self.job.id)?;
        match (&self.job.job_error_code, &self.job.fail_reason) {
            (Some(code), Some(reason)) => write!(f, ": {code}: {reason}")?,
            (Some(text), None) | (None, Some(text)) => write!(f, ": {text}")?,
            (None, None) => {}
        }
        let failed: Vec<String> = self
            .failed_sub_jobs()
            .map(|sub| {
                let desktop = sub.entities.as_ref().and_then(|e| e.desktop_id.as_deref()).unwrap_or("?");
                match sub.fail_reason.as_deref().or(sub.error_code.as_deref()) {
                    Some(reason) => format!("{desktop} ({reason})"),
                    None => desktop.to_owned(),
                }
            })
            .collect();
        if !failed.is_empty() {
            write!(f, "; failed desktops: {}", failed.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for JobFailed {}

/// Waiting for a job ran out of time; the job may still finish later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobTimeout {
    pub(crate) job_id: String,
    pub(crate) last_status: Option<crate::JobStatus>,
    pub(crate) waited: std::time::Duration,
}

impl JobTimeout {
    pub fn job_id(&self) -> &str {
        &self.job_id
    }
    /// The status seen last, if the job was read at all.
    pub fn last_status(&self) -> Option<&crate::JobStatus> {
        self.last_status.as_ref()
    }
    pub fn waited(&self) -> std::time::Duration {
        self.waited
    }
}

impl fmt::Display for JobTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {} did not finish within {:.1} s", self.job_id, self.waited.as_secs_f64())?;
        if let Some(status) = &self.last_status {
            write!(f, " (last status {status})")?;
        }
        Ok(())
    }
}

impl std::error::Error for JobTimeout {}
