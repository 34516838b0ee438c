//! Building a [`Client`]: credentials, project, endpoint, timeouts, retries and TLS.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use hwc_sign::Credentials;
use time::OffsetDateTime;

use crate::client::Client;
use crate::credentials::{self, Environment, Found, ProcessEnvironment, env_value};
use crate::error::{ConfigError, ConfigErrorKind, Error, Hint, InvalidInput, Setting, mask_userinfo};
use crate::hooks::Inner;
use crate::iam::Lookup;
use crate::identity::{CredentialSource, Identity, ProjectSource};
use crate::limits::{MAX_DURATION, USER_AGENT, check_retries, check_timeout};
use crate::metadata::{self, MetadataCredentials};
use crate::network::{Failover, ProxySetting};
use crate::regions;
use crate::retry::RetryPolicy;
use crate::transport::{Settings, Transport};

/// The default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default timeout of one attempt, from sending to the last byte of the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Configures a [`Client`]. Everything not given falls back to the chain official SDK users
/// already have: keys from `HUAWEICLOUD_SDK_*`, `~/.huaweicloud/credentials` or the instance
/// metadata service; the project id from the environment, the file or IAM; the endpoints from
/// the region.
#[must_use]
#[derive(Clone)]
pub struct ClientBuilder {
    credentials: Option<Credentials>,
    project_id: Option<String>,
    region: Option<String>,
    endpoint: Option<String>,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    ca_certificates: Vec<Vec<u8>>,
    user_agent: String,
    environment: Arc<dyn Environment>,
    clock: fn() -> OffsetDateTime,
    proxy: ProxySetting,
    metadata_endpoint: Option<String>,
    iam_endpoint: Option<String>,
    shared_identity: Option<Arc<Identity>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("credentials", &self.credentials)
            .field("project_id", &self.project_id)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint.as_deref().map(mask_userinfo))
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("proxy", &self.proxy)
            .field("metadata_endpoint", &self.metadata_endpoint.as_deref().map(mask_userinfo))
            .field("iam_endpoint", &self.iam_endpoint.as_deref().map(mask_userinfo))
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            credentials: None,
            project_id: None,
            region: None,
            endpoint: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            ca_certificates: Vec::new(),
            user_agent: USER_AGENT.to_owned(),
            environment: Arc::new(ProcessEnvironment),
            clock: OffsetDateTime::now_utc,
            proxy: ProxySetting::default(),
            metadata_endpoint: None,
            iam_endpoint: None,
            shared_identity: None,
        }
    }
}

// Here rather than in `client`: the builder makes the client, so the client's module needs
// nothing of this one (the layers run one way, see the crate's README).
impl Client {
    /// A builder with the defaults; see [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

impl ClientBuilder {
    /// Explicit credentials; the chain is then not consulted for them.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The project id; else `HUAWEICLOUD_SDK_PROJECT_ID`, else the credentials file's (when
    /// the keys come from it), else looked up through IAM for the region.
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = Some(project_id.into());
        self
    }

    /// A Workspace region such as `cn-north-4`; see [`regions::REGIONS`].
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// An explicit endpoint, e.g. `https://workspace.cn-north-4.myhuaweicloud.com` or a
    /// loopback simulator's `http://127.0.0.1:PORT`. Wins over the region.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// How long making a connection may take: from [`crate::MIN_DURATION`] to [`MAX_DURATION`]
    /// ([`ClientBuilder::build`] refuses others).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The timeout of one attempt, from sending to the last byte of the answer: from
    /// [`crate::MIN_DURATION`] to [`MAX_DURATION`] ([`ClientBuilder::build`] refuses others).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The whole retry policy; see [`RetryPolicy`].
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Opt in to `retries` further attempts on 429, 502, 503 and 504: at most
    /// [`crate::MAX_RETRIES`] ([`ClientBuilder::build`] refuses more).
    pub fn retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    /// Trusts one more CA certificate (PEM), besides the system's.
    pub fn ca_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_certificates.push(pem.into());
        self
    }

    /// Reads a PEM CA certificate from a file; see [`ClientBuilder::ca_certificate_pem`].
    pub fn ca_certificate_file(self, path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let pem = crate::files::read_config_file(path).map_err(|e| {
            ConfigError::new(
                ConfigErrorKind::CaCertificate,
                format!("cannot read the CA certificate {}: {e}", path.display()),
            )
        })?;
        Ok(self.ca_certificate_pem(pem))
    }

    /// Appends a product token to the User-Agent, e.g. `hwc-workspace-cli/0.1.0`.
    pub fn user_agent_suffix(mut self, suffix: &str) -> Self {
        self.user_agent = format!("{USER_AGENT} {suffix}");
        self
    }

    /// Where the chain reads variables (and `HOME`) from; the process environment by default.
    pub fn environment(mut self, environment: impl Environment + 'static) -> Self {
        self.environment = Arc::new(environment);
        self
    }

    /// Sends every call through this proxy (`http://host:port`, with `user:password@` if the
    /// proxy asks for it), whatever the environment says; see [`crate::network`] for the rules
    /// without one.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxySetting::Explicit(url.into());
        self
    }

    /// Uses no proxy at all, whatever the environment says (the simulator's clients).
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxySetting::Direct;
        self
    }

    /// Where the instance metadata service answers, instead of `http://169.254.169.254` (or
    /// `HWC_METADATA_ENDPOINT`); `off` leaves it out of the chain.
    pub fn metadata_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.metadata_endpoint = Some(endpoint.into());
        self
    }

    /// Where IAM answers the project lookup, instead of `HUAWEICLOUD_SDK_IAM_ENDPOINT`, the
    /// credentials file's `iam_endpoint` or the region's.
    pub fn iam_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.iam_endpoint = Some(endpoint.into());
        self
    }

    /// Builds a client that shares `client`'s keys and project id, and what it learnt of them
    /// (keys from the metadata service, the project from IAM), but has its own connections:
    /// for a client per thread or per runtime, which must not share a connection pool. The
    /// credential settings of this builder are then not read.
    pub fn sharing_identity_of(mut self, client: &Client) -> Self {
        self.shared_identity = Some(client.identity_handle());
        self
    }

    /// The clock that dates each signature; the system clock by default.
    pub fn clock(mut self, clock: fn() -> OffsetDateTime) -> Self {
        self.clock = clock;
        self
    }

    /// Resolves credentials, project id and endpoints, and builds the HTTP client. Nothing is
    /// sent: keys from the instance metadata service and a project id from IAM are fetched by
    /// the first call that needs them.
    pub fn build(self) -> Result<Client, Error> {
        // The builder is where every front's settings arrive: it refuses what is out of range
        // itself, naming the setting, so that no front needs a check of its own.
        check_timeout("connect_timeout", self.connect_timeout).map_err(|e| e.for_setting(Setting::ConnectTimeout))?;
        check_timeout("timeout", self.timeout).map_err(|e| e.for_setting(Setting::Timeout))?;
        check_retries("retries", self.retry.max_retries).map_err(|e| e.for_setting(Setting::Retries))?;
        check_retries("retry_policy.connect_retries", self.retry.connect_retries)?;
        for (name, delay) in [
            ("retry_policy.base_delay", self.retry.base_delay),
            ("retry_policy.max_delay", self.retry.max_delay),
            ("retry_policy.retry_after_cap", self.retry.retry_after_cap),
        ] {
            if delay > MAX_DURATION {
                let expected = format!("at most {} s", MAX_DURATION.as_secs());
                return Err(InvalidInput::new(name, expected, format!("{} s", delay.as_secs_f64())).into());
            }
        }
        let env = self.environment.as_ref();
        let endpoints = match (&self.endpoint, &self.region) {
            (Some(endpoint), _) => vec![endpoint.clone()],
            (None, Some(region)) => regions::resolve(region, env)?,
            (None, None) => {
                return Err(ConfigError::new(ConfigErrorKind::MissingEndpoint, "no region or endpoint given")
                    .hint(Hint::naming("pass ", Setting::Region, format!(", one of: {}", regions::REGIONS.join(", "))))
                    .hint(Hint::naming("or ", Setting::Endpoint, ", e.g. the local simulator's http://127.0.0.1:PORT"))
                    .into());
            }
        };
        let endpoints = endpoints.iter().map(|e| check_endpoint(e)).collect::<Result<Vec<_>, _>>()?;
        let endpoint = endpoints[0].clone();
        let identity = match &self.shared_identity {
            Some(identity) => Arc::clone(identity),
            None => Arc::new(self.identity(&endpoint)?),
        };

        crate::transport::ensure_crypto_provider();
        let mut extra_roots = Vec::new();
        for pem in &self.ca_certificates {
            extra_roots.extend(crate::transport::parse_ca_certificates(pem)?);
        }
        let proxies = crate::network::proxies(&self.proxy, env)?;
        let plain_http = endpoints.iter().all(|e| e.starts_with("http://"))
            && identity.lookup_endpoint().is_none_or(|iam| iam.starts_with("http://"))
            && !proxies.through_https();
        let transport = Transport::new(Settings {
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            user_agent: HeaderValue::from_str(&self.user_agent).map_err(|_| {
                ConfigError::new(ConfigErrorKind::HttpClient, "the user agent cannot be sent in a header")
            })?,
            tls: crate::transport::tls_config(extra_roots, plain_http)?,
            proxies,
            pooled: true,
            ca_given: !self.ca_certificates.is_empty(),
        });
        // The generated code builds its requests with this client; it never sends one (the
        // transport does), so it is built bare: no proxies read, no roots loaded.
        let http =
            reqwest::Client::builder().no_proxy().tls_certs_only([]).build().map_err(|e| {
                ConfigError::new(ConfigErrorKind::HttpClient, format!("cannot build the HTTP client: {e}"))
            })?;
        let inner = Inner {
            identity,
            failover: Arc::new(Failover::new(endpoints)),
            transport,
            retry: self.retry,
            clock: self.clock,
        };
        Ok(Client::from_parts(crate::generated::Client::new_with_client(&endpoint, http, inner)))
    }

    /// The keys and the project id, from the chain (see the crate's README for the order).
    fn identity(&self, endpoint: &str) -> Result<Identity, Error> {
        let env = self.environment.as_ref();
        let mut metadata = None;
        let (credentials, file_project, file_iam, source) = match self.credentials.clone() {
            Some(credentials) => (Some(credentials), None, None, "explicit credentials".to_owned()),
            None => match credentials::from_chain(env)? {
                Found::Keys(found) => {
                    tracing::debug!(source = %found.source, access_key = found.credentials.access_key(), "credentials found");
                    (Some(found.credentials), found.project_id, found.iam_endpoint, found.source)
                }
                Found::Nothing(tried) => {
                    let endpoint = metadata_endpoint(self, env, &tried)?;
                    let source = format!("the instance metadata service {endpoint}");
                    metadata = Some((endpoint, tried));
                    (None, None, None, source)
                }
            },
        };
        if let Some(credentials) = &credentials {
            if credentials.access_key().trim().is_empty() || credentials.expose_secret_key().is_empty() {
                return Err(ConfigError::new(
                    ConfigErrorKind::InvalidCredentials,
                    format!("the access key or secret key from {source} is empty"),
                )
                .into());
            }
            check_sendable(&source, "access key", credentials.access_key())?;
            if let Some(token) = credentials.expose_security_token() {
                check_sendable(&source, "security token", token)?;
            }
        }
        // One precedence whatever the keys' source: given, environment, the file (only with
        // the file's keys: it names that account's project), then IAM.
        let project = match &self.project_id {
            Some(project) => ProjectSource::Known(Arc::from(crate::model::check_project_id(project)?)),
            None => match env_value(env, credentials::ENV_PROJECT_ID)?.or(file_project) {
                Some(project) => ProjectSource::Known(Arc::from(crate::model::check_project_id(&project)?)),
                None => self.project_lookup(env, endpoint, file_iam)?,
            },
        };
        let credentials = match credentials {
            Some(credentials) => CredentialSource::Static(Arc::new(credentials)),
            None => {
                let (endpoint, tried) = metadata.unwrap_or_default();
                CredentialSource::Metadata(Box::new(MetadataCredentials::new(endpoint, self.clock, tried)?))
            }
        };
        Ok(Identity::new(credentials, project, source))
    }

    /// The metadata endpoint: given, else `HWC_METADATA_ENDPOINT`, else the default; `None`
    /// when turned off.
    fn metadata_endpoint_from(&self, env: &dyn Environment) -> Result<Option<String>, Error> {
        let endpoint = match &self.metadata_endpoint {
            Some(endpoint) => Some(endpoint.trim().to_owned()),
            None => env_value(env, metadata::ENV_METADATA_ENDPOINT)?,
        };
        match endpoint {
            Some(off) if off.eq_ignore_ascii_case(metadata::OFF) => Ok(None),
            Some(endpoint) => Ok(Some(check_endpoint(&endpoint)?)),
            None => Ok(Some(metadata::DEFAULT_ENDPOINT.to_owned())),
        }
    }

    /// Where the project id is looked up when none was given: the region's project, at
    /// `HUAWEICLOUD_SDK_IAM_ENDPOINT`, the file's `iam_endpoint`, or the region's IAM.
    fn project_lookup(
        &self,
        env: &dyn Environment,
        endpoint: &str,
        file_iam: Option<String>,
    ) -> Result<ProjectSource, Error> {
        let region = self.region.clone().or_else(|| regions::region_of_endpoint(endpoint));
        let Some(region) = region.map(|r| r.trim().to_owned()) else {
            return Err(ConfigError::new(
                ConfigErrorKind::MissingProjectId,
                "no project id given or found, and no region to look it up by",
            )
            .hint(Hint::naming("pass ", Setting::ProjectId, format!(", or set {}", credentials::ENV_PROJECT_ID)))
            .hint(Hint::naming("or pass ", Setting::Region, ", and it is looked up through IAM"))
            .into());
        };
        let iam = match &self.iam_endpoint {
            Some(iam) => iam.clone(),
            None => match env_value(env, credentials::ENV_IAM_ENDPOINT)?.or(file_iam) {
                Some(iam) => iam,
                None => crate::iam::endpoint_for(&region),
            },
        };
        let iam_endpoint = check_endpoint(&iam)?;
        Ok(ProjectSource::Lookup {
            lookup: Lookup { iam_endpoint, region },
            found: Default::default(),
            last: Default::default(),
        })
    }
}

/// The chain found no keys: the metadata service is the last source, unless it is turned
/// off, and then nothing was found. Returns its endpoint.
fn metadata_endpoint(builder: &ClientBuilder, env: &dyn Environment, tried: &[String]) -> Result<String, Error> {
    match builder.metadata_endpoint_from(env)? {
        Some(endpoint) => Ok(endpoint),
        None => {
            let mut tried = tried.to_vec();
            tried.push(format!(
                "instance metadata service: turned off ({}={})",
                metadata::ENV_METADATA_ENDPOINT,
                metadata::OFF
            ));
            Err(credentials::nothing_found(&tried, None).into())
        }
    }
}

/// Refuses a credential that signing would put into a header (the access key into
/// `Authorization`, the token into `X-Security-Token`) but that no header can carry: a request
/// must never leave without a header it signed. The value itself is not shown: it may be a
/// secret.
fn check_sendable(source: &str, what: &str, value: &str) -> Result<(), Error> {
    // Signing trims values, as the official signer does, so only what is inside counts.
    let trimmed = value.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c));
    if reqwest::header::HeaderValue::from_str(trimmed).is_ok() {
        return Ok(());
    }
    Err(ConfigError::new(
        ConfigErrorKind::InvalidCredentials,
        format!(
            "the {what} from {source} cannot be sent in a header: it holds a line break or another control \
             character"
        ),
    )
    .hint(format!("check the {what} for a stray line break or a pasted character"))
    .into())
}

fn check_endpoint(endpoint: &str) -> Result<String, Error> {
    let shown = crate::error::mask_userinfo(endpoint.trim());
    let invalid = |why: &str| {
        Error::from(
            ConfigError::new(ConfigErrorKind::InvalidEndpoint, format!("the endpoint {shown:?} {why}"))
                .hint("expected e.g. https://workspace.cn-north-4.myhuaweicloud.com or http://127.0.0.1:PORT"),
        )
    };
    let url = url::Url::parse(endpoint.trim()).map_err(|e| invalid(&format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("is not an http or https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not carry a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked() {
        assert_eq!(check_endpoint("http://127.0.0.1:8080/").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(
            check_endpoint("https://workspace.cn-north-4.myhuaweicloud.com").unwrap(),
            "https://workspace.cn-north-4.myhuaweicloud.com"
        );
        for bad in ["ftp://x", "not a url", "http://u:p@host", "https://h/?a=1"] {
            assert!(matches!(check_endpoint(bad), Err(Error::Configuration(_))), "{bad}");
        }
        for with_secret in ["http://user:s3cret@host", "http://user:s3cret@ho st/x", "https://:s3cret@h:1/"] {
            let message = check_endpoint(with_secret).unwrap_err().to_string();
            assert!(!message.contains("s3cret") && message.contains("***@"), "{message}");
        }
    }

    #[test]
    fn project_ids_are_checked() {
        assert!(crate::model::check_project_id("0123456789abcdef0123456789abcdef").is_ok());
        for bad in ["", " ", "a/b", "a\nb", &"x".repeat(65)] {
            assert!(
                matches!(crate::model::check_project_id(bad), Err(Error::InvalidInput(e)) if e.field() == "project_id"),
                "{bad:?}"
            );
        }
    }
}
