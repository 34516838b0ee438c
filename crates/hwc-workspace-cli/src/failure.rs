//! How a failure leaves the program: its exit code, its `error:` line and its `hint:` lines.

use hwc_workspace::credentials::{ENV_AK, ENV_PROJECT_ID, ENV_SECURITY_TOKEN, ENV_SK};
use hwc_workspace::{
    ApiErrorKind, DELETE_SUB_RESOURCES_PERMISSION, Error, MAX_CLOCK_SKEW, Setting, TransportErrorKind,
};

/// The documented exit codes (see `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ExitCode {
    Success = 0,
    Internal = 1,
    InvalidInput = 2,
    Rejected = 3,
    ServiceFailed = 4,
    Unreachable = 5,
    /// stdout could not be written (its reader went away, a full disk, closed): the run stopped.
    OutputFailed = 6,
    /// What became of some desktop is not known and nothing else explains it: its job did not
    /// report it, reported it still running, or its reports contradict each other; or an
    /// earlier run sent its batch without learning the answer.
    OutcomeUnknown = 7,
    /// Stopped by SIGHUP (128 + 1): the terminal or the ssh session went away.
    HangUp = 129,
    /// Stopped by SIGINT (128 + 2).
    Interrupted = 130,
    /// Stopped by SIGTERM (128 + 15).
    Terminated = 143,
}

impl ExitCode {
    pub(crate) fn of(error: &Error) -> Self {
        match error {
            Error::InvalidInput(_) | Error::Configuration(_) => Self::InvalidInput,
            Error::Api(api) if api.is_client_error() => Self::Rejected,
            Error::Api(_) | Error::UndecodableResponse(_) => Self::ServiceFailed,
            Error::JobFailed(_) => Self::Rejected,
            Error::JobOutcomeUnknown(_) => Self::OutcomeUnknown,
            Error::Transport(_) | Error::JobTimeout(_) => Self::Unreachable,
            _ => Self::Internal,
        }
    }
}

/// A failure of the command, with what to tell the user.
#[derive(Debug)]
pub(crate) struct Failure {
    pub code: ExitCode,
    pub message: String,
    pub hints: Vec<String>,
}

impl Failure {
    pub(crate) fn input(message: impl Into<String>) -> Self {
        Self { code: ExitCode::InvalidInput, message: message.into(), hints: Vec::new() }
    }

    /// stdout could not be written: nobody can read what the command did.
    pub(crate) fn output(error: std::io::Error) -> Self {
        Self { code: ExitCode::OutputFailed, message: format!("stdout cannot be written ({error})"), hints: Vec::new() }
    }

    #[must_use]
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self::about(error, Subject::Desktops)
    }
}

/// Everything an error says, as JSON for stdout: the message, the status, the request id and
/// every field of the service's error body (for a 403, the encoded authorization message is
/// the only explanation of the denial).
pub(crate) fn error_record(error: &Error) -> serde_json::Value {
    let api = match error {
        Error::Api(api) => Some(api),
        _ => None,
    };
    serde_json::json!({
        "message": error.message_with_causes(),
        "status": error.status(),
        "request_id": error.request_id(),
        "error_code": api.and_then(|a| a.error_code()),
        "error_msg": api.and_then(|a| a.error_msg()),
        "error_detail": api.and_then(|a| a.error_detail()),
        "encoded_authorization_message": api.and_then(|a| a.encoded_authorization_message()),
    })
}

/// What the failed command was about, so that a hint points at the right input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    /// Desktops (a deletion).
    Desktops,
    /// A job (`job show`).
    Job,
}

impl Failure {
    /// The failure of a command about `subject`.
    pub(crate) fn about(error: Error, subject: Subject) -> Self {
        Self::of(&error, subject)
    }

    /// [`Failure::about`] for an error that is kept elsewhere too (a bulk run's outcome).
    pub(crate) fn of(error: &Error, subject: Subject) -> Self {
        Self { code: ExitCode::of(error), message: error.message_with_causes(), hints: hints(error, subject) }
    }
}

/// How the command line spells a setting a hint names.
fn flag(setting: Setting) -> String {
    match setting {
        Setting::Region => "--region".to_owned(),
        Setting::Endpoint => "--endpoint URL".to_owned(),
        Setting::ProjectId => "--project-id".to_owned(),
        Setting::Simulator => "hwc-workspace --simulate delete-sub-resources ...".to_owned(),
        other => other.describe().to_owned(),
    }
}

fn hints(error: &Error, subject: Subject) -> Vec<String> {
    match error {
        Error::Configuration(config) => config.hints().iter().map(|hint| hint.render(flag)).collect(),
        Error::Api(api) => match api.kind() {
            ApiErrorKind::ClockSkew => vec![format!(
                "the request date was refused: check this machine's clock (requests more than {} minutes off are rejected)",
                MAX_CLOCK_SKEW.as_secs() / 60
            )],
            ApiErrorKind::Authentication => vec![format!(
                "check the access key and secret key ({ENV_AK} / {ENV_SK}) and, for temporary credentials, {ENV_SECURITY_TOKEN}"
            )],
            ApiErrorKind::PermissionDenied => {
                let mut hints = vec![format!("the key needs the permission {DELETE_SUB_RESOURCES_PERMISSION}")];
                if let Some(reason) = api.encoded_authorization_message() {
                    hints.push(format!(
                        "the service's reason, encoded (STS decode-authorization-message decodes it): {reason}"
                    ));
                }
                hints
            }
            ApiErrorKind::NotFound => match subject {
                Subject::Desktops => {
                    vec![format!("check the desktop ids and the project id (--project-id or {ENV_PROJECT_ID})")]
                }
                Subject::Job => vec![format!(
                    "check the job id (a deletion prints it as job_id) and the project id (--project-id or {ENV_PROJECT_ID})"
                )],
            },
            ApiErrorKind::ProxyAuthentication => vec![
                "the proxy refused its credentials: check the user and password of --proxy or of HTTPS_PROXY / HTTP_PROXY (the request did not reach the service)".to_owned(),
            ],
            ApiErrorKind::Throttled | ApiErrorKind::Unavailable => {
                vec!["the service is busy; --retries N resends such answers with backoff".to_owned()]
            }
            _ => Vec::new(),
        },
        Error::JobTimeout(timeout) => vec![format!(
            "the job may still finish: raise --wait-timeout, or check later with `hwc-workspace job show {}`",
            timeout.job_id()
        )],
        Error::Transport(transport) => match transport.kind() {
            TransportErrorKind::Timeout => {
                vec!["raise --timeout, or check the network path to the endpoint".to_owned()]
            }
            TransportErrorKind::Tls if transport.ca_certificate_given() => vec![
                "check that the --ca-cert file holds the CA that signed the server's certificate, and that the \
                 certificate is for the endpoint's host name"
                    .to_owned(),
            ],
            TransportErrorKind::Tls => vec!["to trust a private CA, pass --ca-cert FILE".to_owned()],
            _ => vec!["check --endpoint or --region, and the network".to_owned()],
        },
        _ => Vec::new(),
    }
}
