//! What to do next, for every error: the one table of advice every front renders (the CLI as
//! `hint:` lines, Python as an exception's `hints`), so that no front re-derives a hint from a
//! status or a message and drifts from its twin.
//!
//! It sits above `error` (the vocabulary it reads), `model` (the permission, the clock's
//! tolerance) and `credentials` (the variables it names), which is why it is a module of its
//! own rather than methods in `error`.

use crate::credentials::{ENV_AK, ENV_PROJECT_ID, ENV_SECURITY_TOKEN, ENV_SK};
use crate::error::{ApiError, ApiErrorKind, Error, Hint, Setting, TransportError, TransportErrorKind};
use crate::model::{DELETE_SUB_RESOURCES_PERMISSION, MAX_CLOCK_SKEW};

/// The `operationId` of ShowJob: a 404 of it is about the job id, not about desktops.
const SHOW_JOB: &str = "ShowJob";

impl Error {
    /// Next steps for the user, one sentence each, settings named as data (see [`Hint`]);
    /// empty when there is nothing useful to add to the message.
    pub fn hints(&self) -> Vec<Hint> {
        match self {
            Self::Configuration(config) => config.hints().to_vec(),
            // A setting out of range: named as the front spells it, with its range.
            Self::InvalidInput(input) => match input.setting() {
                Some(setting) => vec![Hint::naming("", setting, format!(" takes {}", input.expected()))],
                None => Vec::new(),
            },
            Self::Api(api) => api.hints(),
            Self::Transport(transport) => transport.hints(),
            Self::JobTimeout(timeout) => vec![
                Hint::naming("the job may still finish: raise ", Setting::WaitTimeout, ", or check it later with ")
                    .with(Setting::ShowJob)
                    .then(format!(" and the job id {}", timeout.job_id())),
            ],
            _ => Vec::new(),
        }
    }
}

impl ApiError {
    /// What to do about this answer, by its [`ApiErrorKind`] (and, for a 404, the operation).
    pub fn hints(&self) -> Vec<Hint> {
        match self.kind() {
            ApiErrorKind::ClockSkew => vec![Hint::from(format!(
                "the request date was refused: check this machine's clock (requests more than {} minutes off are \
                 rejected)",
                MAX_CLOCK_SKEW.as_secs() / 60
            ))],
            ApiErrorKind::Authentication => vec![Hint::from(format!(
                "check the access key and secret key ({ENV_AK} / {ENV_SK}) and, for temporary credentials, \
                 {ENV_SECURITY_TOKEN}"
            ))],
            ApiErrorKind::PermissionDenied => {
                let mut hints = Vec::new();
                // Only the deletion's permission is documented; for another operation, naming
                // it would send the user after the wrong policy.
                if self.operation != Some(SHOW_JOB) {
                    hints.push(Hint::from(format!("the key needs the permission {DELETE_SUB_RESOURCES_PERMISSION}")));
                }
                if let Some(reason) = self.encoded_authorization_message() {
                    hints.push(Hint::from(format!(
                        "the service's reason, encoded (STS decode-authorization-message decodes it): {reason}"
                    )));
                }
                hints
            }
            ApiErrorKind::NotFound => {
                let what = if self.operation == Some(SHOW_JOB) {
                    "check the job id (a deletion answers with it as job_id)"
                } else {
                    "check the desktop ids"
                };
                vec![Hint::naming(
                    format!("{what} and the project id ("),
                    Setting::ProjectId,
                    format!(" or {ENV_PROJECT_ID})"),
                )]
            }
            ApiErrorKind::ProxyAuthentication => vec![
                Hint::naming("the proxy refused its credentials: check the user and password of ", Setting::Proxy, "")
                    .then(" or of HTTPS_PROXY / HTTP_PROXY (the request did not reach the service)"),
            ],
            ApiErrorKind::Throttled | ApiErrorKind::Unavailable => {
                vec![Hint::naming("the service is busy; ", Setting::Retries, " resends such answers with backoff")]
            }
            _ => Vec::new(),
        }
    }
}

impl TransportError {
    /// What to do when the service could not be reached, by [`TransportErrorKind`].
    pub fn hints(&self) -> Vec<Hint> {
        match self.kind() {
            TransportErrorKind::Timeout => {
                vec![Hint::naming("raise ", Setting::Timeout, ", or check the network path to the endpoint")]
            }
            // With CA certificates given, the missing CA is not the likely cause: those
            // certificates or the endpoint's name are.
            TransportErrorKind::Tls if self.ca_certificate_given() => vec![Hint::naming(
                "check that the CA certificate given (",
                Setting::CaCertificate,
                ") is the CA that signed the server's certificate, and that the certificate is for the endpoint's \
                 host name",
            )],
            TransportErrorKind::Tls => vec![Hint::naming("to trust a private CA, pass ", Setting::CaCertificate, "")],
            _ => {
                vec![Hint::naming("check ", Setting::Endpoint, " or ").with(Setting::Region).then(", and the network")]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, operation: Option<&'static str>) -> ApiError {
        ApiError {
            status,
            request_id: None,
            retry_after: None,
            error_code: None,
            error_msg: None,
            error_detail: None,
            encoded_authorization_message: Some("ENCODED".to_owned()),
            operation,
        }
    }

    fn rendered(hints: &[Hint]) -> Vec<String> {
        hints.iter().map(|hint| hint.render(|setting| format!("<{setting:?}>"))).collect()
    }

    #[test]
    fn each_api_error_kind_has_its_hints() {
        let denied = rendered(&api(403, Some("DeleteDesktopSubResources")).hints());
        assert_eq!(denied.len(), 2, "{denied:?}");
        assert!(denied[0].contains(DELETE_SUB_RESOURCES_PERMISSION), "{denied:?}");
        assert!(denied[1].ends_with("ENCODED"), "{denied:?}");
        // A refused ShowJob is not about the deletion's permission.
        let denied = rendered(&api(403, Some(SHOW_JOB)).hints());
        assert_eq!(denied.len(), 1, "{denied:?}");
        assert!(!denied[0].contains(DELETE_SUB_RESOURCES_PERMISSION), "{denied:?}");

        let missing = rendered(&api(404, None).hints());
        assert_eq!(missing, [format!("check the desktop ids and the project id (<ProjectId> or {ENV_PROJECT_ID})")]);
        let missing = rendered(&api(404, Some(SHOW_JOB)).hints());
        assert!(missing[0].starts_with("check the job id") && !missing[0].contains("desktop"), "{missing:?}");

        let throttled = api(429, None);
        assert_eq!(throttled.kind(), ApiErrorKind::Throttled);
        assert_eq!(rendered(&throttled.hints()), ["the service is busy; <Retries> resends such answers with backoff"]);
        assert_eq!(api(503, None).hints(), throttled.hints(), "unavailable: the same advice");
        assert!(rendered(&api(401, None).hints())[0].contains(ENV_SECURITY_TOKEN));
        assert_eq!(api(407, None).hints()[0].setting(), Some(Setting::Proxy));
        let skewed = ApiError { error_msg: Some("X-Sdk-Date expired".to_owned()), ..api(401, None) };
        assert!(rendered(&skewed.hints())[0].contains("clock"));
        assert!(api(400, None).hints().is_empty(), "a 400's message says it all");
        assert!(api(500, None).hints().is_empty());
        // Reached through `Error` too.
        assert_eq!(Error::Api(api(429, None)).hints(), throttled.hints());
    }

    #[test]
    fn a_hint_names_its_settings_as_data() {
        let hint = Hint::naming("check ", Setting::Endpoint, " or ").with(Setting::Region).then(", and the network");
        assert_eq!(hint.settings().collect::<Vec<_>>(), [Setting::Endpoint, Setting::Region]);
        assert_eq!(hint.setting(), Some(Setting::Endpoint));
        assert_eq!(hint.render(|s| format!("--{s:?}")), "check --Endpoint or --Region, and the network");
        assert_eq!(hint.to_string(), "check an endpoint URL or a region, and the network");
        assert_eq!(Hint::from("plain").setting(), None);
    }
}
