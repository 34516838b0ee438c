//! One error type for every way a call can fail. Each variant's `Display` says what happened
//! and, where there is one, what to do; none ever contains a secret.

use std::error::Error as StdError;
use std::fmt;

/// A value that may carry credentials (a proxy URL, an endpoint), fit to be quoted: everything
/// between the scheme's `://` (or the start, without one) and the value's last `@` is replaced
/// with `***`. It works on the text, not on a parsed URL, because the values that most need it
/// are those that do not parse: a password holding `#`, `?`, `/` or a space ends a URL's
/// authority early, and only the last `@` marks where the user's part really ends. An `@` later
/// in a path hides more than needed, never less.
pub fn mask_userinfo(value: &str) -> String {
    let start = value.find("://").map_or(0, |i| i + 3);
    match value[start..].rfind('@') {
        Some(at) => format!("{}***{}", &value[..start], &value[start + at..]),
        None => value.to_owned(),
    }
}

/// [`mask_userinfo`] for a message of another library that may quote such a value among other
/// words (a YAML parser's `invalid type: string "http://u:p@h"`): each value from a `://` to the
/// next unescaped double quote (or the end) is masked.
pub(crate) fn mask_userinfo_in_text(text: &str) -> String {
    let mut masked = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme) = rest.find("://") {
        // The value starts after the last quote or space before its scheme.
        let begin = rest[..scheme].rfind(['"', ' ', '\'', '(']).map_or(0, |i| i + 1);
        let bytes = rest.as_bytes();
        let mut end = scheme + 3;
        while end < bytes.len() && !(bytes[end] == b'"' && bytes[end - 1] != b'\\') {
            end += 1;
        }
        masked.push_str(&rest[..begin]);
        masked.push_str(&mask_userinfo(&rest[begin..end]));
        rest = &rest[end..];
    }
    masked.push_str(rest);
    masked
}

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
    /// The job ended, but its reports leave what became of some desktop unknown (not
    /// reported, still running, or contradictory), and none is reported failed.
    #[error(transparent)]
    JobOutcomeUnknown(#[from] JobOutcomeUnknown),
}

impl Error {
    /// The message with each underlying cause appended once (`: cause`): one line that says
    /// why, e.g. which certificate check a TLS handshake failed.
    pub fn message_with_causes(&self) -> String {
        let mut text = self.to_string();
        if let Self::Transport(transport) = self {
            // reqwest, hyper and the OS each wrap the one reason ("error sending request for
            // url (…): client error (Connect): tcp connect error: Connection refused"): it is
            // said once, plainly, after what failed.
            if let Some(reason) = transport.root_cause() {
                text.push_str(": ");
                text.push_str(&reason);
            }
            return text;
        }
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

    /// A failure that says nothing about the request's effect and may pass: no connection, a
    /// timeout, a broken exchange, throttling (429) or a 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Api(api) => api.status == 429 || api.status >= 500,
            _ => false,
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
    /// As shown: the name, and for a list item its place (`desktop_ids[3]`).
    field: String,
    name: &'static str,
    index: Option<usize>,
    line: Option<usize>,
    setting: Option<Setting>,
    expected: String,
    got: String,
}

impl InvalidInput {
    pub(crate) fn new(name: &'static str, expected: impl Into<String>, got: impl Into<String>) -> Self {
        Self {
            field: name.to_owned(),
            name,
            index: None,
            line: None,
            setting: None,
            expected: expected.into(),
            got: got.into(),
        }
    }

    /// A field the operation does not have: `name` is the operation's, the shown field the
    /// one given.
    pub(crate) fn unknown(operation: &'static str, given: &str, expected: impl Into<String>) -> Self {
        let given: String = given.chars().take(80).collect();
        Self {
            field: format!("{given:?}"),
            name: operation,
            index: None,
            line: None,
            setting: None,
            expected: expected.into(),
            got: "an unknown field".to_owned(),
        }
    }

    /// The same refusal, of the list item at `index`.
    #[must_use]
    pub(crate) fn at(mut self, index: usize) -> Self {
        self.field = format!("{}[{index}]", self.name);
        self.index = Some(index);
        self
    }

    /// The same refusal, of line `line` (from 1) of a list read from `source` (a path,
    /// `stdin`): shown as `line 3 of the desktop_ids from ids.txt`.
    #[must_use]
    pub(crate) fn on_line(mut self, line: usize, source: &str) -> Self {
        self.field = format!("line {line} of the {} from {source}", self.name);
        self.line = Some(line);
        self
    }

    /// The same refusal, of a setting a front spells its own way (`--timeout`, `timeout=`).
    #[must_use]
    pub(crate) fn for_setting(mut self, setting: Setting) -> Self {
        self.setting = Some(setting);
        self
    }

    /// The same refusal, of the whole list read from `source`.
    #[must_use]
    pub(crate) fn of_source(mut self, source: &str) -> Self {
        self.field = format!("{} from {source}", self.name);
        self
    }

    /// The field, as in the API document; list items as `desktop_ids[3]`.
    pub fn field(&self) -> &str {
        &self.field
    }
    /// The field's name alone, without a list index: `desktop_ids`.
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// For a list item, its place in the list (from 0).
    pub fn index(&self) -> Option<usize> {
        self.index
    }
    /// For a list read from a file or stream, the line refused (from 1).
    pub fn line(&self) -> Option<usize> {
        self.line
    }
    /// The setting refused, when the field is one (so a front can name it its own way).
    pub fn setting(&self) -> Option<Setting> {
        self.setting
    }
    /// What the field must hold.
    pub fn expected(&self) -> &str {
        &self.expected
    }
    /// What it held (an excerpt or a count, never a secret).
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
    /// A bulk run's journal cannot be used: unreadable, unwritable, or of another run.
    Journal,
    /// An environment variable is set but unusable (not UTF-8); the error names it.
    InvalidEnvironment,
    /// A proxy URL (given, or from `HTTPS_PROXY` and the like) is not usable.
    InvalidProxy,
    /// The instance metadata service answered, but gave no usable credentials (e.g. no
    /// agency is bound to the instance).
    InstanceMetadata,
}

/// A setting that each front spells its own way: a builder method in Rust, a keyword
/// argument in Python, a flag on the command line. Hints name settings as data, so that each
/// front renders them in its own words without reading the core's sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// The region ([`crate::ClientBuilder::region`]).
    Region,
    /// The endpoint URL ([`crate::ClientBuilder::endpoint`]).
    Endpoint,
    /// The project id ([`crate::ClientBuilder::project_id`]).
    ProjectId,
    /// The local simulator, for trying things without a cloud account.
    Simulator,
    /// The timeout of one attempt ([`crate::ClientBuilder::timeout`]).
    Timeout,
    /// How long making a connection may take ([`crate::ClientBuilder::connect_timeout`]).
    ConnectTimeout,
    /// The opt-in resends of throttled and unavailable answers ([`crate::ClientBuilder::retries`]).
    Retries,
    /// How long a job is waited for ([`crate::WaitOptions`]'s `timeout`).
    WaitTimeout,
    /// CA certificates to trust besides the system's ([`crate::ClientBuilder::ca_certificate_file`]).
    CaCertificate,
    /// The proxy every call goes through ([`crate::ClientBuilder::proxy`]).
    Proxy,
    /// Reading a job again later ([`crate::Client::show_job`]).
    ShowJob,
}

impl Setting {
    /// How a hint names the setting when no front renders it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Region => "a region",
            Self::Endpoint => "an endpoint URL",
            Self::ProjectId => "a project id",
            Self::Simulator => "the local simulator (hwc_workspace_sim::Simulator)",
            Self::Timeout => "the timeout (ClientBuilder::timeout)",
            Self::ConnectTimeout => "the connect timeout (ClientBuilder::connect_timeout)",
            Self::Retries => "retries (ClientBuilder::retries)",
            Self::WaitTimeout => "the wait's timeout (WaitOptions::timeout)",
            Self::CaCertificate => "a CA certificate (ClientBuilder::ca_certificate_file)",
            Self::Proxy => "the proxy (ClientBuilder::proxy)",
            Self::ShowJob => "Client::show_job",
        }
    }
}

/// One piece of a [`Hint`]: words, or a setting each front spells its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Setting(Setting),
}

/// A next step for the user: one sentence, which may name [`Setting`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    parts: Vec<Part>,
}

impl Hint {
    /// A sentence that names `setting` between `before` and `after`.
    pub(crate) fn naming(before: impl Into<String>, setting: Setting, after: impl Into<String>) -> Self {
        Self::from(before.into()).with(setting).then(after)
    }

    /// The hint, followed by `setting`.
    #[must_use]
    pub(crate) fn with(mut self, setting: Setting) -> Self {
        self.parts.push(Part::Setting(setting));
        self
    }

    /// The hint, followed by `text`.
    #[must_use]
    pub(crate) fn then(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        if !text.is_empty() {
            self.parts.push(Part::Text(text));
        }
        self
    }

    /// The (first) setting the hint names, if any.
    pub fn setting(&self) -> Option<Setting> {
        self.settings().next()
    }

    /// Every setting the hint names, in order.
    pub fn settings(&self) -> impl Iterator<Item = Setting> + '_ {
        self.parts.iter().filter_map(|part| match part {
            Part::Setting(setting) => Some(*setting),
            Part::Text(_) => None,
        })
    }

    /// The sentence, with each setting spelled by `spell` (e.g. `--region` on the command line).
    pub fn render(&self, spell: impl Fn(Setting) -> String) -> String {
        let mut sentence = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => sentence.push_str(text),
                Part::Setting(setting) => sentence.push_str(&spell(*setting)),
            }
        }
        sentence
    }
}

impl From<String> for Hint {
    fn from(text: String) -> Self {
        Self { parts: Vec::new() }.then(text)
    }
}

impl From<&str> for Hint {
    fn from(text: &str) -> Self {
        text.to_owned().into()
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(|setting| setting.describe().to_owned()))
    }
}

/// The configuration is wrong; the message says what, the hints what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    message: String,
    hints: Vec<Hint>,
    variable: Option<String>,
}

impl ConfigError {
    pub(crate) fn new(kind: ConfigErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), hints: Vec::new(), variable: None }
    }
    #[must_use]
    pub(crate) fn hint(mut self, hint: impl Into<Hint>) -> Self {
        self.hints.push(hint.into());
        self
    }
    /// Names the environment variable the problem comes from.
    #[must_use]
    pub(crate) fn variable(mut self, name: impl Into<String>) -> Self {
        self.variable = Some(name.into());
        self
    }
    /// What part of the configuration is wrong.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }
    /// What is wrong, in one sentence.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Next steps for the user, one sentence each.
    pub fn hints(&self) -> &[Hint] {
        &self.hints
    }
    /// The environment variable involved, when the problem is in one (e.g. half-set keys).
    pub fn environment_variable(&self) -> Option<&str> {
        self.variable.as_deref()
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
    pub(crate) retry_after: Option<std::time::Duration>,
    pub(crate) error_code: Option<String>,
    pub(crate) error_msg: Option<String>,
    pub(crate) error_detail: Option<String>,
    pub(crate) encoded_authorization_message: Option<String>,
    /// The operation answered (`ShowJob`), so that a hint can point at the right input.
    pub(crate) operation: Option<&'static str>,
}

/// What an error status means for the caller: the front picks its advice from this, never
/// from the words of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 400: the request was malformed or a value was refused.
    BadRequest,
    /// 401: the signature, key or token was refused.
    Authentication,
    /// 401 because of the request's date: this machine's clock is off by more than the
    /// gateway allows (about 15 minutes).
    ClockSkew,
    /// 403: the key lacks the permission.
    PermissionDenied,
    /// 404: the project, a desktop or a job does not exist.
    NotFound,
    /// 407: a proxy between this client and the service refused the proxy credentials; the
    /// request did not reach the service.
    ProxyAuthentication,
    /// 429: throttled; the request was not processed.
    Throttled,
    /// 502, 503, 504: the service or its gateway is unavailable for now.
    Unavailable,
    /// Another 4xx.
    OtherClientError,
    /// Another 5xx, or a status outside 4xx and 5xx.
    ServiceFailed,
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// The service's request id, for support cases.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// The wait the answer asked for (`Retry-After`), as sent: uncapped.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.retry_after
    }
    /// What the status means for the caller.
    pub fn kind(&self) -> ApiErrorKind {
        match self.status {
            400 => ApiErrorKind::BadRequest,
            401 if self.is_about_the_date() => ApiErrorKind::ClockSkew,
            401 => ApiErrorKind::Authentication,
            403 => ApiErrorKind::PermissionDenied,
            404 => ApiErrorKind::NotFound,
            407 => ApiErrorKind::ProxyAuthentication,
            429 => ApiErrorKind::Throttled,
            502..=504 => ApiErrorKind::Unavailable,
            402 | 405 | 406 | 408..=428 | 430..=499 => ApiErrorKind::OtherClientError,
            _ => ApiErrorKind::ServiceFailed,
        }
    }
    /// The gateway says why it refused only in words: a refusal of the date names the date
    /// header, the time or its expiry. The one place that reads them.
    fn is_about_the_date(&self) -> bool {
        let text =
            format!("{} {}", self.error_msg.as_deref().unwrap_or(""), self.error_detail.as_deref().unwrap_or(""))
                .to_ascii_lowercase();
        ["x-sdk-date", "date", "expired", "skew", "clock", "timestamp"].iter().any(|word| text.contains(word))
    }
    /// The service's error code, e.g. `WKS.0001` or `APIGW.0301`.
    pub fn error_code(&self) -> Option<&str> {
        self.error_code.as_deref()
    }
    /// The service's message; for a body that was not the documented JSON, an excerpt of it.
    pub fn error_msg(&self) -> Option<&str> {
        self.error_msg.as_deref()
    }
    /// More detail, where the service gives it.
    pub fn error_detail(&self) -> Option<&str> {
        self.error_detail.as_deref()
    }
    /// Encrypted reason for a denial; STS `decode-authorization-message` decrypts it.
    pub fn encoded_authorization_message(&self) -> Option<&str> {
        self.encoded_authorization_message.as_deref()
    }
    /// The operation that was answered with this error (its `operationId` in the API
    /// document, e.g. `ShowJob`), when the client knows it.
    pub fn operation(&self) -> Option<&'static str> {
        self.operation
    }
    /// 4xx: the request was rejected, and sending it again unchanged will not help.
    pub fn is_client_error(&self) -> bool {
        (400..500).contains(&self.status)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = http::StatusCode::from_u16(self.status).ok().and_then(|s| s.canonical_reason());
        // Only a proxy answers 407: naming the service would send people to the wrong place.
        let who = if self.status == 407 { "a proxy" } else { "the service" };
        write!(f, "{who} answered {}", self.status)?;
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
    ca_given: bool,
    endpoint: String,
    unreachable_before: Vec<String>,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl TransportError {
    pub(crate) fn new(endpoint: &str, failure: Failure) -> Self {
        Self {
            kind: failure.kind,
            ca_given: failure.ca_given,
            endpoint: endpoint.to_owned(),
            unreachable_before: Vec::new(),
            source: failure.source,
        }
    }
    /// The endpoints of the region tried before this one, which could not be reached.
    #[must_use]
    pub(crate) fn unreachable_before(mut self, endpoints: Vec<String>) -> Self {
        self.unreachable_before = endpoints;
        self
    }
    /// The endpoints of the region tried before [`TransportError::endpoint`], none of which
    /// could be reached (a connection failed, so nothing was sent to them).
    pub fn endpoints_tried_before(&self) -> &[String] {
        &self.unreachable_before
    }
    /// How the exchange failed.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }
    /// Whether the client was given CA certificates to trust: a TLS failure is then about
    /// those (not the CA that signed the server's certificate) or the endpoint's name, not
    /// about a CA missing.
    pub fn ca_certificate_given(&self) -> bool {
        self.ca_given
    }
    /// The endpoint the call went to (scheme, host and port; never credentials).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The innermost cause, the one that says why (`Connection refused (os error 111)`, the
    /// certificate check that failed), once.
    fn root_cause(&self) -> Option<String> {
        Some(root_cause(self.source.as_ref())).filter(|text| !text.is_empty())
    }
}

// The failure vocabulary of an exchange: the transport makes `Failure`s, the hooks carry them,
// `TransportError` reports them. It lives here, below the transport, so that the error type
// every layer returns needs nothing of the machinery above it.

/// A failed exchange: how, and the error that says why.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: TransportErrorKind,
    /// No connection was made (refused, unreachable, a failed TLS handshake or tunnel):
    /// nothing of the request was sent.
    pub(crate) before_sending: bool,
    /// Whether the client trusts a CA certificate given to it (so a TLS failure is about that
    /// CA or the name, not about a missing one).
    pub(crate) ca_given: bool,
    pub(crate) source: Box<dyn StdError + Send + Sync>,
}

impl Failure {
    pub(crate) fn new(source: impl Into<Box<dyn StdError + Send + Sync>>, connect: bool) -> Self {
        let source = source.into();
        Self { kind: classify(source.as_ref(), connect), before_sending: connect, ca_given: false, source }
    }
}

/// How an exchange failed, from the error and its causes: a TLS error anywhere in the chain
/// is [`TransportErrorKind::Tls`], a timed-out I/O error [`TransportErrorKind::Timeout`],
/// otherwise a failure to connect [`TransportErrorKind::Connect`] and anything after it
/// [`TransportErrorKind::Broken`].
pub(crate) fn classify(error: &(dyn StdError + 'static), connect: bool) -> TransportErrorKind {
    let mut source = Some(error);
    while let Some(cause) = source {
        if let Some(kind) = classify_cause(cause) {
            return kind;
        }
        source = cause.source();
    }
    if connect { TransportErrorKind::Connect } else { TransportErrorKind::Broken }
}

/// The TLS error in an error's chain, if any (looking through nested `io::Error`s).
pub(crate) fn tls_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut source = Some(error);
    while let Some(cause) = source {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(tls) = tls_error(inner)
        {
            return Some(tls);
        }
        source = cause.source();
    }
    None
}

/// Why a TLS handshake failed, in words: rustls writes several of its errors as Rust debug
/// names (`invalid peer certificate: UnknownIssuer`, `received fatal alert: HandshakeFailure`),
/// which say little to whoever reads the message.
pub(crate) fn describe_tls(error: &rustls::Error) -> String {
    use rustls::{CertificateError as C, Error as E};
    let certificate = |why: &str| format!("the server's certificate {why}");
    match error {
        E::InvalidCertificate(C::UnknownIssuer) => {
            certificate("is not signed by a trusted certificate authority (unknown issuer)")
        }
        E::InvalidCertificate(C::BadSignature) => certificate("has a signature that does not verify"),
        E::InvalidCertificate(C::BadEncoding) => certificate("is not well-formed"),
        E::InvalidCertificate(C::Expired) => certificate("has expired"),
        E::InvalidCertificate(C::NotValidYet) => certificate("is not valid yet (check this machine's clock)"),
        E::InvalidCertificate(C::Revoked) => certificate("has been revoked"),
        E::InvalidCertificate(C::NotValidForName) => certificate("is not valid for the endpoint's host name"),
        E::InvalidCertificate(C::InvalidPurpose) => certificate("is not meant for a TLS server"),
        E::InvalidCertificate(C::UnhandledCriticalExtension) => {
            certificate("has a critical extension that cannot be checked")
        }
        E::InvalidCertificate(C::UnknownRevocationStatus) => certificate("has a revocation status that is unknown"),
        E::InvalidCertificate(C::ApplicationVerificationFailure) => certificate("was refused by the verifier"),
        // The remaining certificate errors have readable texts of their own.
        E::InvalidCertificate(other) => format!("the server's certificate is not valid: {other}"),
        E::AlertReceived(alert) => {
            format!("the server ended the handshake with the TLS alert {}", words(&format!("{alert:?}")))
        }
        E::InvalidMessage(_) | E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
            "the server's answer is not a TLS handshake (is it plain http, or another protocol?)".to_owned()
        }
        E::PeerIncompatible(why) => {
            format!("the server supports no TLS version or cipher in common ({})", words(&format!("{why:?}")))
        }
        E::PeerMisbehaved(why) => format!("the server broke the TLS protocol ({})", words(&format!("{why:?}"))),
        E::NoCertificatesPresented => "the server presented no certificate".to_owned(),
        other => other.to_string(),
    }
}

/// A debug name in words: `HandshakeFailure` as `handshake failure`.
fn words(name: &str) -> String {
    let name = name.split(['(', ' ', '{']).next().unwrap_or(name);
    let mut text = String::with_capacity(name.len() + 8);
    for (index, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && index > 0 {
            text.push(' ');
        }
        text.push(c.to_ascii_lowercase());
    }
    text
}

/// Looks through nested `io::Error`s too: their `source()` skips the error they wrap, and
/// the TLS connector wraps rustls's error in one.
fn classify_cause(cause: &(dyn StdError + 'static)) -> Option<TransportErrorKind> {
    if cause.downcast_ref::<rustls::Error>().is_some() {
        return Some(TransportErrorKind::Tls);
    }
    let io = cause.downcast_ref::<std::io::Error>()?;
    if let Some(inner) = io.get_ref()
        && let Some(kind) = classify_cause(inner)
    {
        return Some(kind);
    }
    (io.kind() == std::io::ErrorKind::TimedOut).then_some(TransportErrorKind::Timeout)
}

/// The innermost cause of an error, as text (the error's own when it has no cause).
pub(crate) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    if let Some(tls) = tls_error(error) {
        return describe_tls(tls);
    }
    let mut deepest = error;
    // An io::Error's `source()` skips the error it wraps; its Display shows it.
    while let Some(cause) = deepest.source() {
        deepest = cause;
    }
    deepest.to_string()
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = &self.endpoint;
        match self.kind {
            TransportErrorKind::Connect => write!(f, "could not connect to {endpoint}"),
            TransportErrorKind::Timeout => write!(f, "the request to {endpoint} timed out"),
            TransportErrorKind::Tls if self.ca_given => {
                write!(f, "the TLS handshake with {endpoint} failed (a CA certificate was given)")
            }
            TransportErrorKind::Tls => write!(f, "the TLS handshake with {endpoint} failed"),
            TransportErrorKind::Broken => write!(f, "the exchange with {endpoint} broke off"),
        }?;
        if !self.unreachable_before.is_empty() {
            write!(f, " (after no connection to {})", self.unreachable_before.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
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
    /// The success status that came with the body.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// The service's request id, when the answer carried one.
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
    /// The failure of a job that ended `FAILED`.
    pub fn new(job: crate::types::Job) -> Self {
        Self { job: Box::new(job) }
    }

    /// The final job, as the service reported it.
    pub fn job(&self) -> &crate::types::Job {
        &self.job
    }

    /// The sub-jobs that failed.
    pub fn failed_sub_jobs(&self) -> impl Iterator<Item = &crate::types::SubJob> {
        self.job.sub_jobs.iter().filter(|sub| sub.status == Some(crate::enums::JobStatus::Failed))
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

/// A job ended, but its reports do not say what became of every desktop: one was not reported,
/// was still running, or the reports contradict each other (see [`crate::outcome`]).
#[derive(Debug, Clone, PartialEq)]
pub struct JobOutcomeUnknown {
    pub(crate) job: Box<crate::types::Job>,
    pub(crate) report: crate::outcome::JobReport,
}

impl JobOutcomeUnknown {
    /// The final job, as the service reported it.
    pub fn job(&self) -> &crate::types::Job {
        &self.job
    }

    /// Each desktop's state as read from the job.
    pub fn desktops(&self) -> &[crate::outcome::DesktopOutcome] {
        &self.report.desktops
    }

    /// The desktops whose outcome is unknown, each with why.
    pub fn unknown_desktops(&self) -> impl Iterator<Item = &crate::outcome::DesktopOutcome> {
        self.report.desktops.iter().filter(|d| d.status == crate::outcome::DesktopStatus::Unknown)
    }
}

impl fmt::Display for JobOutcomeUnknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {} ended {}, but what became of its desktops is not known", self.job.id, self.job.status)?;
        let unknown: Vec<String> = self
            .unknown_desktops()
            .map(|d| format!("{} ({})", d.desktop_id, d.fail_reason.as_deref().unwrap_or("not reported")))
            .collect();
        if !unknown.is_empty() {
            write!(f, ": {}", unknown.join("; "))?;
        } else if let Some(note) = &self.report.note {
            write!(f, ": {note}")?;
        }
        Ok(())
    }
}

impl std::error::Error for JobOutcomeUnknown {}

/// Waiting for a job ran out of time; the job may still finish later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobTimeout {
    pub(crate) job_id: String,
    pub(crate) last_status: Option<crate::enums::JobStatus>,
    pub(crate) waited: std::time::Duration,
    pub(crate) last_failure: Option<String>,
}

impl JobTimeout {
    /// The job waited for.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }
    /// The status seen last, if the job was read at all.
    pub fn last_status(&self) -> Option<&crate::enums::JobStatus> {
        self.last_status.as_ref()
    }
    /// How long the wait lasted.
    pub fn waited(&self) -> std::time::Duration {
        self.waited
    }
    /// Why the last read of the job failed, when it did (the job was then not read in time).
    pub fn last_failure(&self) -> Option<&str> {
        self.last_failure.as_deref()
    }
}

impl fmt::Display for JobTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {} did not finish within {:.1} s", self.job_id, self.waited.as_secs_f64())?;
        if let Some(status) = &self.last_status {
            write!(f, " (last status {status})")?;
        }
        if let Some(failure) = &self.last_failure {
            write!(f, "; the last read of it failed: {failure}")?;
        }
        Ok(())
    }
}

impl std::error::Error for JobTimeout {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_in_a_message_are_masked() {
        let text = r#"invalid type: string "http://u:p\"a ss#@h:1/x", expected a sequence at line 3 column 17"#;
        let masked = mask_userinfo_in_text(text);
        assert_eq!(masked, r#"invalid type: string "http://***@h:1/x", expected a sequence at line 3 column 17"#);
        // Two values, and a value unquoted at the end.
        let masked = mask_userinfo_in_text(r#"a "https://x:y@h" and (http://z:w@k"#);
        assert_eq!(masked, r#"a "https://***@h" and (http://***@k"#);
        assert_eq!(mask_userinfo_in_text("no url here: a@b"), "no url here: a@b");
    }
}
