//! Temporary credentials from the instance metadata service of an ECS (or BMS) with an
//! agency, as the official SDK's `MetadataCredentialProvider` gets them: a session token
//! (`PUT /meta-data/latest/api/token`), then the agency's temporary keys
//! (`GET /openstack/latest/securitykey`), cached in the client and refreshed before they
//! expire, once for all the calls that need them.
//!
//! Unlike the official SDK (3 s connect and read timeouts, then a raw connection error), the
//! first probe gives up after [`CONNECT_TIMEOUT`], and the chain's error says what was tried.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hwc_sign::Credentials;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::Failure;
use crate::error::{ConfigError, ConfigErrorKind, Error};
use crate::transport::{Answer, Settings, Transport};

/// Where the metadata service answers on every ECS.
pub const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
/// Sets the metadata endpoint (for tests and unusual hosts); `off` leaves the metadata
/// service out of the chain.
pub const ENV_METADATA_ENDPOINT: &str = "HWC_METADATA_ENDPOINT";
/// The value of [`ENV_METADATA_ENDPOINT`] that leaves the metadata service out.
pub const OFF: &str = "off";
/// Where the session token is asked for (`PUT`).
pub const TOKEN_PATH: &str = "/meta-data/latest/api/token";
/// Where the temporary keys are read (`GET`).
pub const SECURITY_KEY_PATH: &str = "/openstack/latest/securitykey";
/// The header that asks for a session token's lifetime, in seconds.
pub const TOKEN_TTL_HEADER: &str = "x-metadata-token-ttl-seconds";
/// The header that carries the session token.
pub const TOKEN_HEADER: &str = "x-metadata-token";
/// The session token's lifetime asked for: 6 hours, as the official SDK asks.
pub const TOKEN_TTL: Duration = Duration::from_secs(6 * 3600);
/// Credentials are refreshed when less than this remains before they expire (the official
/// SDK's margin), or half their lifetime for keys that live shorter than twice that.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(40 * 60);
/// How long connecting to the metadata service may take: off-cloud, nothing answers.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long asking for the session token may take in all: it is the probe that tells an ECS
/// from elsewhere, where something may accept the connection and never answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long reading the keys may take in all.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// The words of a 401 that means "no agency", not "stale session token".
const NO_AGENCY: &str = "Please configure Cloud Service Agency first";
/// After a failed refresh while the keys are still valid, how long until the next try.
const RETRY_REFRESH_AFTER: Duration = Duration::from_secs(30);

/// The body of `GET /openstack/latest/securitykey`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecurityKeyResponse {
    /// The temporary keys.
    #[serde(alias = "credentials")]
    pub credential: SecurityKey,
}

/// Temporary keys of the instance's agency. The field names are the service's; the aliases
/// are the other spellings the official SDK accepts.
#[derive(Clone, Serialize, Deserialize)]
pub struct SecurityKey {
    /// The temporary access key.
    #[serde(alias = "accessKeyId", alias = "access_key_id", alias = "access_key")]
    pub access: String,
    /// The temporary secret key.
    #[serde(alias = "secretAccessKey", alias = "secret_access_key", alias = "secret_key")]
    pub secret: String,
    /// The security token every request signed with these keys carries.
    #[serde(alias = "securityToken", alias = "security_token")]
    pub securitytoken: String,
    /// When the keys expire, RFC 3339 (`2026-12-01T12:00:00.000000Z`).
    #[serde(alias = "expiration", alias = "expiresAt")]
    pub expires_at: String,
}

impl fmt::Debug for SecurityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityKey").field("access", &self.access).field("expires_at", &self.expires_at).finish()
    }
}

/// Keys held by the client, with when to refresh them.
struct Cached {
    credentials: Arc<Credentials>,
    expires_at: OffsetDateTime,
    refresh_at: OffsetDateTime,
}

/// The session token, or the knowledge that the service gives none.
struct Session {
    token: Option<String>,
    until: Instant,
}

/// The metadata service of this client, and the keys it gave.
pub(crate) struct MetadataCredentials {
    /// The client's transport without proxies (a link-local service that no proxy could
    /// reach) and without idle connections: clients on several runtimes (Python's, one per
    /// thread) share these keys, and a pooled connection belongs to the runtime that made it.
    /// Bodies are read within the transport's caps, as every answer is.
    transport: Transport,
    endpoint: String,
    clock: fn() -> OffsetDateTime,
    /// What the chain tried before, for the message when this source has nothing either.
    tried: Vec<String>,
    cached: Mutex<Option<Cached>>,
    /// Held while keys are fetched, so that concurrent calls wait for one refresh.
    session: tokio::sync::Mutex<Option<Session>>,
}

impl MetadataCredentials {
    pub(crate) fn new(endpoint: String, clock: fn() -> OffsetDateTime, tried: Vec<String>) -> Result<Self, Error> {
        let transport = Transport::new(Settings {
            connect_timeout: CONNECT_TIMEOUT,
            timeout: REQUEST_TIMEOUT,
            user_agent: http::HeaderValue::from_static(crate::limits::USER_AGENT),
            // Plain http: a root store of no certificates, nothing of the platform's loaded.
            tls: crate::transport::tls_config(Vec::new(), true)?,
            proxies: crate::network::Proxies::direct(),
            pooled: false,
            ca_given: false,
        });
        Ok(Self { transport, endpoint, clock, tried, cached: Mutex::new(None), session: tokio::sync::Mutex::new(None) })
    }

    /// One exchange with the service, within `timeout` when one is given (besides the
    /// transport's own); a body past the transport's cap is not the documented answer.
    async fn exchange(
        &self,
        method: reqwest::Method,
        path: &str,
        header: Option<(&'static str, String)>,
        timeout: Option<Duration>,
    ) -> Result<Answer, Error> {
        let url = format!("{}{path}", self.endpoint);
        let url = reqwest::Url::parse(&url).map_err(|e| self.invalid(format!("cannot be asked at {url} ({e})")))?;
        let mut request = reqwest::Request::new(method, url);
        if let Some((name, value)) = header {
            let value = http::HeaderValue::try_from(value)
                .map_err(|_| self.invalid(format!("cannot be sent the {name} header it gave")))?;
            request.headers_mut().insert(name, value);
        }
        let sent = self.transport.send(request);
        let result = match timeout {
            Some(limit) => tokio::time::timeout(limit, sent).await.unwrap_or_else(|_| {
                Err(Failure::new(
                    std::io::Error::new(std::io::ErrorKind::TimedOut, format!("nothing answered within {limit:?}")),
                    false,
                ))
            }),
            None => sent.await,
        };
        let answer = result.map_err(|failure| self.unreachable(path, &failure))?;
        // A page where a token or keys were asked for is not the metadata service, except with
        // the statuses an OpenStack-based one answers with pages of its own (a missing token API
        // or no agency: 404, 405, 503), which the callers handle and describe.
        if is_page(&answer) && !matches!(answer.response.status().as_u16(), 404 | 405 | 503) {
            return Err(self.not_the_service(path, &answer));
        }
        if answer.oversized {
            return Err(self.invalid(format!(
                "answered {path} with a body larger than {} bytes, which is not the documented answer",
                crate::limits::MAX_RESPONSE_BODY_BYTES
            )));
        }
        Ok(answer)
    }

    /// The access key of the keys held now, if any were fetched.
    pub(crate) fn access_key(&self) -> Option<String> {
        self.lock().as_ref().map(|c| c.credentials.access_key().to_owned())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Cached>> {
        self.cached.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fresh(&self, now: OffsetDateTime) -> Option<Arc<Credentials>> {
        self.lock().as_ref().filter(|c| now < c.refresh_at).map(|c| Arc::clone(&c.credentials))
    }

    /// Keys valid now: the held ones, or new ones once they are due for a refresh. A failed
    /// refresh while the held keys are still valid is a warning, and they are used.
    pub(crate) async fn current(&self) -> Result<Arc<Credentials>, Error> {
        if let Some(fresh) = self.fresh((self.clock)()) {
            return Ok(fresh);
        }
        let mut session = self.session.lock().await;
        let now = (self.clock)();
        // Another call may have refreshed them while this one waited.
        if let Some(fresh) = self.fresh(now) {
            return Ok(fresh);
        }
        match self.fetch(&mut session, now).await {
            Ok((credentials, expires_at)) => {
                let half_life = (expires_at - now) / 2;
                let margin = time::Duration::try_from(REFRESH_BEFORE).map_or(half_life, |m| m.min(half_life));
                let credentials = Arc::new(credentials);
                tracing::debug!(access_key = credentials.access_key(), %expires_at, "instance metadata credentials fetched");
                *self.lock() =
                    Some(Cached { credentials: Arc::clone(&credentials), expires_at, refresh_at: expires_at - margin });
                Ok(credentials)
            }
            Err(error) => {
                let mut cached = self.lock();
                match cached.as_mut().filter(|c| now < c.expires_at) {
                    Some(valid) => {
                        tracing::warn!(
                            error = %error.message_with_causes(),
                            expires_at = %valid.expires_at,
                            "refreshing the instance metadata credentials failed; the current ones are still valid"
                        );
                        valid.refresh_at = (now + RETRY_REFRESH_AFTER).min(valid.expires_at);
                        Ok(Arc::clone(&valid.credentials))
                    }
                    None => Err(error),
                }
            }
        }
    }

    async fn fetch(
        &self,
        session: &mut Option<Session>,
        now: OffsetDateTime,
    ) -> Result<(Credentials, OffsetDateTime), Error> {
        let mut token = match session.as_ref().filter(|s| Instant::now() < s.until) {
            Some(s) => s.token.clone(),
            None => self.session_token(session).await?,
        };
        let mut retried = false;
        let (status, content_type, body) = loop {
            let header = token.clone().map(|token| (TOKEN_HEADER, token));
            let answer = self.exchange(reqwest::Method::GET, SECURITY_KEY_PATH, header, None).await?;
            let status = answer.response.status().as_u16();
            let content_type = content_type(&answer).map(str::to_owned);
            let body = answer.response.into_body();
            let stale = status == 401 && !String::from_utf8_lossy(&body).contains(NO_AGENCY);
            if stale && !retried {
                // The session token expired: one new one, one more try.
                retried = true;
                *session = None;
                token = self.session_token(session).await?;
                continue;
            }
            break (status, content_type, body);
        };
        if status >= 400 {
            return Err(self.refused(status, content_type.as_deref(), &body));
        }
        let parsed: SecurityKeyResponse = serde_json::from_slice(&body).map_err(|e| {
            self.invalid(format!(
                "answered {SECURITY_KEY_PATH} with a body that is not the documented credentials ({e})"
            ))
        })?;
        let key = parsed.credential;
        let expires_at = OffsetDateTime::parse(&key.expires_at, &time::format_description::well_known::Rfc3339)
            .map_err(|e| {
                self.invalid(format!("gave an expiry {:?} that is not an RFC 3339 time ({e})", key.expires_at))
            })?;
        if expires_at <= now {
            return Err(self.invalid(format!("gave keys that expired already ({expires_at})")));
        }
        if key.access.trim().is_empty() || key.secret.is_empty() {
            return Err(self.invalid("gave an empty access key or secret key".to_owned()));
        }
        Ok((Credentials::new(key.access, key.secret).with_security_token(key.securitytoken), expires_at))
    }

    /// Asks for a session token. A service without the token API (404, 405, 503) is asked
    /// without one, and the token API is not asked again for a day.
    async fn session_token(&self, session: &mut Option<Session>) -> Result<Option<String>, Error> {
        let header = Some((TOKEN_TTL_HEADER, TOKEN_TTL.as_secs().to_string()));
        let answer = self.exchange(reqwest::Method::PUT, TOKEN_PATH, header, Some(PROBE_TIMEOUT)).await?;
        let status = answer.response.status().as_u16();
        let content_type = content_type(&answer).map(str::to_owned);
        let body = answer.response.into_body();
        let (token, lasts) = match status {
            200..=299 => {
                let token = String::from_utf8_lossy(&body).trim().to_owned();
                // A token is used for less than its lifetime, so it never expires in flight.
                (Some(token).filter(|t| !t.is_empty()), TOKEN_TTL - Duration::from_secs(600))
            }
            404 | 405 | 503 => (None, Duration::from_secs(24 * 3600)),
            _ => return Err(self.refused(status, content_type.as_deref(), &body)),
        };
        *session = Some(Session { token: token.clone(), until: Instant::now() + lasts });
        Ok(token)
    }

    /// Nothing answered: the chain has no source left, and its message says what it tried.
    fn unreachable(&self, path: &str, failure: &Failure) -> Error {
        // A timeout names itself ("no connection within the connect timeout of 1s").
        let why = crate::error::root_cause(failure.source.as_ref());
        let mut tried = self.tried.clone();
        tried.push(format!(
            "instance metadata service {}{path}: no instance metadata service answered ({why})",
            self.endpoint
        ));
        crate::credentials::nothing_found(
            &tried,
            Some("on an ECS, bind an agency to the instance to use its temporary keys"),
        )
        .into()
    }

    /// Something that is not an ECS metadata service answered at its address (a proxy's or a
    /// captive portal's page): no source has keys, and the message says what answered there.
    fn not_the_service(&self, path: &str, answer: &Answer) -> Error {
        let mut tried = self.tried.clone();
        tried.push(format!(
            "instance metadata service {}{path}: what answered is not an instance metadata service ({})",
            self.endpoint,
            describe_answer(answer.response.status().as_u16(), content_type(answer), answer.response.body())
        ));
        crate::credentials::nothing_found(
            &tried,
            Some(&format!(
                "off an ECS, something else (a proxy, a captive portal) answers at the metadata address: set {ENV_METADATA_ENDPOINT}={OFF} to leave it out"
            )),
        )
        .into()
    }

    fn refused(&self, status: u16, content_type: Option<&str>, body: &[u8]) -> Error {
        let mut why = format!("answered {}", describe_answer(status, content_type, body));
        if !self.tried.is_empty() {
            why.push_str(&format!("; tried before it: {}", self.tried.join("; ")));
        }
        self.error(why).hint("bind an agency to the instance (ECS console, Manage Agency), or give keys").into()
    }

    fn invalid(&self, why: String) -> Error {
        self.error(why).into()
    }

    fn error(&self, why: String) -> ConfigError {
        ConfigError::new(
            ConfigErrorKind::InstanceMetadata,
            format!("the instance metadata service at {} {why}", self.endpoint),
        )
    }
}

/// The answer's content type, when it has a readable one.
fn content_type(answer: &Answer) -> Option<&str> {
    answer.response.headers().get(http::header::CONTENT_TYPE)?.to_str().ok()
}

/// Whether an answer is a web page: the metadata service answers plain text and JSON, never
/// HTML, which is what proxies, captive portals and firewalls answer with.
fn is_page(answer: &Answer) -> bool {
    let html = content_type(answer).is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    html || answer.response.body().trim_ascii_start().first() == Some(&b'<')
}

/// What answered, for a message: the status and its reason, the content type, and "an HTML
/// page" (with its title) or a short excerpt of the body, escaped so that it stays on one
/// line and shows no control character.
fn describe_answer(status: u16, content_type: Option<&str>, body: &[u8]) -> String {
    const EXCERPT_CHARS: usize = 120;
    let reason = http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
    let mut text = format!("{status} {reason}").trim_end().to_owned();
    match content_type {
        Some(content_type) => text.push_str(&format!(", {:?}", excerpt(content_type, 60))),
        None => text.push_str(", no content type"),
    }
    let body_text = String::from_utf8_lossy(body);
    let trimmed = body_text.trim();
    let html = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("html")) || trimmed.starts_with('<');
    if html {
        text.push_str(", an HTML page");
        let lower = trimmed.to_ascii_lowercase();
        if let Some(start) = lower.find("<title>").map(|i| i + "<title>".len())
            && let Some(length) = lower[start..].find("</title>")
        {
            let title = trimmed[start..start + length].split_whitespace().collect::<Vec<_>>().join(" ");
            text.push_str(&format!(" titled {:?}", excerpt(&title, 80)));
        }
    } else if trimmed.is_empty() {
        text.push_str(", no body");
    } else {
        text.push_str(&format!(": {:?}", excerpt(trimmed, EXCERPT_CHARS)));
    }
    text
}

/// At most `chars` characters of `text`, with `…` when cut.
fn excerpt(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
