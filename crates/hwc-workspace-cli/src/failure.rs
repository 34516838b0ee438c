//! How a failure leaves the program: its exit code, its `error:` line and its `hint:` lines.

use hwc_workspace::{Error, Setting};

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
        Self::about(error)
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

impl Failure {
    /// The failure of a command: its exit code, the core's message and the core's hints
    /// (which know the operation refused), spelled as flags.
    pub(crate) fn about(error: Error) -> Self {
        Self::of(&error)
    }

    /// [`Failure::about`] for an error that is kept elsewhere too (a bulk run's outcome).
    pub(crate) fn of(error: &Error) -> Self {
        Self {
            code: ExitCode::of(error),
            message: error.message_with_causes(),
            hints: error.hints().iter().map(|hint| hint.render(flag)).collect(),
        }
    }
}

/// How the command line spells a setting a hint names.
fn flag(setting: Setting) -> String {
    match setting {
        Setting::Region => "--region".to_owned(),
        Setting::Endpoint => "--endpoint URL".to_owned(),
        Setting::ProjectId => "--project-id".to_owned(),
        Setting::Simulator => "hwc-workspace --simulate delete-sub-resources ...".to_owned(),
        Setting::Timeout => "--timeout".to_owned(),
        // No flag sets the connect timeout: the core's own words name it.
        Setting::Retries => "--retries N".to_owned(),
        Setting::WaitTimeout => "--wait-timeout".to_owned(),
        Setting::CaCertificate => "--ca-cert FILE".to_owned(),
        Setting::Proxy => "--proxy".to_owned(),
        Setting::ShowJob => "`hwc-workspace job show`".to_owned(),
        other => other.describe().to_owned(),
    }
}
