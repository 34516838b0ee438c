//! How a failure leaves the program: its exit code, its `error:` line and its `hint:` lines.

use hwc_workspace::{Error, TransportErrorKind};

/// The documented exit codes (see `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitCode {
    Success = 0,
    Internal = 1,
    InvalidInput = 2,
    Rejected = 3,
    ServiceFailed = 4,
    Unreachable = 5,
}

impl ExitCode {
    pub fn of(error: &Error) -> Self {
        match error {
            Error::InvalidInput(_) | Error::Configuration(_) => Self::InvalidInput,
            Error::Api(api) if api.is_client_error() => Self::Rejected,
            Error::Api(_) | Error::UndecodableResponse(_) => Self::ServiceFailed,
            Error::JobFailed(_) => Self::Rejected,
            Error::Transport(_) | Error::JobTimeout(_) => Self::Unreachable,
            _ => Self::Internal,
        }
    }
}

/// A failure of the command, with what to tell the user.
#[derive(Debug)]
pub struct Failure {
    pub code: ExitCode,
    pub message: String,
    pub hints: Vec<String>,
}

impl Failure {
    pub fn input(message: impl Into<String>) -> Self {
        Self { code: ExitCode::InvalidInput, message: message.into(), hints: Vec::new() }
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self { code: ExitCode::of(&error), message: error.message_with_causes(), hints: hints(&error) }
    }
}

/// The library's hints speak of builder methods; on the command line they are flags.
fn as_flags(hint: &str) -> String {
    if hint.contains("use the local simulator") {
        return "or try it without an account: hwc-workspace --simulate delete-sub-resources ...".to_owned();
    }
    hint.replace("pass a region", "pass --region")
        .replace("pass a project id", "pass --project-id")
        .replace("or an endpoint URL", "or --endpoint URL")
        .replace("pass its endpoint explicitly", "pass --endpoint URL")
}

fn hints(error: &Error) -> Vec<String> {
    match error {
        Error::Configuration(config) => config.hints().iter().map(|hint| as_flags(hint)).collect(),
        Error::Api(api) => match api.status() {
            401 => {
                let text = format!("{} {}", api.error_code().unwrap_or(""), api.error_msg().unwrap_or(""))
                    .to_ascii_lowercase();
                if ["date", "time", "expired", "skew", "clock"].iter().any(|w| text.contains(w)) {
                    vec!["the request date was refused: check this machine's clock (requests more than 15 minutes off are rejected)".to_owned()]
                } else {
                    vec!["check the access key and secret key (HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK) and, for temporary credentials, HUAWEICLOUD_SDK_SECURITY_TOKEN".to_owned()]
                }
            }
            403 => vec!["the key needs the permission workspace:desktops:deleteSubResources".to_owned()],
            404 => {
                vec!["check the desktop ids and the project id (--project-id or HUAWEICLOUD_SDK_PROJECT_ID)".to_owned()]
            }
            429 | 502 | 503 | 504 => {
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
            TransportErrorKind::Tls => vec!["to trust a private CA, pass --ca-cert FILE".to_owned()],
            _ => vec!["check --endpoint or --region, and the network".to_owned()],
        },
        _ => Vec::new(),
    }
}
