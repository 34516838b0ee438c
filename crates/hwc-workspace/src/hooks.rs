//! What every generated call does around the wire, in progenitor's `ClientHooks`: sign
//! (again on each attempt, with a fresh date), retry by the policy, bound and normalise
//! error bodies, and record the request id for the caller.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use hwc_sign::Credentials;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::HeaderValue;
use time::OffsetDateTime;

use crate::error::{TransportErrorKind, classify};
use crate::generated::Client;
use crate::identity::Identity;
use crate::network::Failover;
use crate::retry::{RetryPolicy, parse_retry_after};

/// The largest error body read; the rest is dropped, so a huge answer cannot grow memory.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// The largest success body accepted, 1 MiB. The documented bodies are far smaller (a job
/// id is about 50 bytes; a job with 100 sub-jobs about 27 KiB as the simulator renders it),
/// so a larger one is not the documented answer: reading stops at the cap, the connection is
/// dropped, and the call fails with [`crate::Error::UndecodableResponse`] naming the cap.
pub const MAX_RESPONSE_BODY_BYTES: usize = 1024 * 1024;

/// The request id header of every response.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The header that names the project of a request; the gateway checks it against the path.
pub const PROJECT_ID_HEADER: &str = "x-project-id";

/// What the generated client carries for the hooks.
#[derive(Clone)]
pub struct Inner {
    pub(crate) identity: Arc<Identity>,
    pub(crate) failover: Arc<Failover>,
    pub(crate) retry: RetryPolicy,
    pub(crate) clock: fn() -> OffsetDateTime,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inner")
            .field("access_key", &self.identity.known_access_key())
            .field("project_id", &self.identity.known_project_id())
            .field("endpoints", &self.failover.endpoints)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// What the last attempt of a call saw, for the caller's result and error.
#[derive(Debug, Default, Clone)]
pub(crate) struct CallRecord {
    pub(crate) attempts: u32,
    pub(crate) status: Option<u16>,
    pub(crate) request_id: Option<String>,
    /// Set for a dry run: the request is captured here instead of being sent.
    pub(crate) dry_run: Option<Option<crate::client::SignedRequest>>,
    /// Set when a success body was larger than [`MAX_RESPONSE_BODY_BYTES`] and refused.
    pub(crate) oversized_body: bool,
    /// The keys and project the client resolved for this call, so the hooks need not.
    pub(crate) identity: Option<crate::identity::Resolved>,
    /// Endpoints that could not be reached before the one the last attempt went to.
    pub(crate) unreachable: Vec<String>,
    /// The endpoint the last attempt went to, when it was not the first of the list.
    pub(crate) endpoint: Option<String>,
}

tokio::task_local! {
    pub(crate) static CALL: RefCell<CallRecord>;
}

fn with_call(update: impl FnOnce(&mut CallRecord)) {
    let _ = CALL.try_with(|call| update(&mut call.borrow_mut()));
}

/// Signs the request in place: `X-Project-Id` (when a project is named: IAM's calls name
/// none), `X-Security-Token`, `X-Sdk-Date`, `Host`, `Authorization`. Headers of an earlier
/// attempt are replaced.
pub(crate) fn sign_request(
    credentials: &Credentials,
    project_id: Option<&str>,
    clock: fn() -> OffsetDateTime,
    request: &mut reqwest::Request,
) -> Result<(), hwc_sign::SignError> {
    hwc_sign::http::remove_signature(request.headers_mut());
    if let Some(project_id) = project_id {
        let project_id =
            HeaderValue::from_str(project_id).map_err(|_| hwc_sign::SignError::InvalidHeaderValue("X-Project-Id"))?;
        request.headers_mut().insert(PROJECT_ID_HEADER, project_id);
    }
    let url = request.url();
    let instructions = hwc_sign::http::SignableRequest::from_url_parts(
        request.method().as_str(),
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port(),
        url.path(),
        url.query().unwrap_or_default(),
        hwc_sign::http::header_pairs(request.headers())?,
        request.body().and_then(reqwest::Body::as_bytes).unwrap_or_default(),
    )
    .authorize(credentials, clock())?;
    if let Some(query) = instructions.query() {
        let query = query.to_owned();
        request.url_mut().set_query(Some(&query));
    }
    instructions.apply_to_headers(request.headers_mut());
    Ok(())
}

impl ClientHooks<Inner> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        // progenitor adds `api-version` to every request; the service knows no such header.
        request.headers_mut().remove("api-version");
        let inner = self.inner();
        let (credentials, project) = match CALL.try_with(|call| call.borrow().identity.clone()).ok().flatten() {
            Some(resolved) => resolved,
            None => inner
                .identity
                .resolve(self.client(), inner.clock)
                .await
                .map_err(|e| progenitor_client::Error::Custom(e.message_with_causes()))?,
        };
        sign_request(&credentials, Some(&project), inner.clock, request)
            .map_err(|e| progenitor_client::Error::Custom(e.to_string()))
    }

    async fn exec(&self, request: reqwest::Request, info: &OperationInfo) -> reqwest::Result<reqwest::Response> {
        if let Some(captured) = capture_dry_run(&request) {
            return Ok(captured);
        }
        let inner = self.inner();
        let policy = &inner.retry;
        let mut request = request;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let retries_left = policy.max_retries.max(policy.connect_retries) >= attempt;
            let spare = if retries_left { request.try_clone() } else { None };
            let result = self.send_with_failover(request).await;
            let delay = match &result {
                Err(e) if attempt <= policy.connect_retries && classify(e) == TransportErrorKind::Connect => {
                    Some(policy.delay(attempt, None))
                }
                Ok(response)
                    if attempt <= policy.max_retries
                        && crate::retry::RETRYABLE_STATUSES.contains(&response.status().as_u16()) =>
                {
                    let asked = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
                    Some(policy.delay(attempt, asked))
                }
                _ => None,
            };
            match (delay, spare) {
                (Some(delay), Some(mut next)) => {
                    tracing::debug!(operation = info.operation_id, attempt, delay_ms = delay.as_millis() as u64, outcome = %describe(&result), "retrying");
                    tokio::time::sleep(delay).await;
                    // Signed after the wait, so the date is fresh (and refreshed keys are used)
                    // when the attempt leaves.
                    if self.sign_again(&mut next).await.is_ok() {
                        request = next;
                        continue;
                    }
                    return conclude(result, attempt).await;
                }
                _ => return conclude(result, attempt).await,
            }
        }
    }
}

impl Client {
    /// Signs a request again with the identity as it is now.
    async fn sign_again(&self, request: &mut reqwest::Request) -> Result<(), String> {
        let inner = self.inner();
        let (credentials, project) =
            inner.identity.resolve(self.client(), inner.clock).await.map_err(|e| e.to_string())?;
        sign_request(&credentials, Some(&project), inner.clock, request).map_err(|e| e.to_string())
    }

    /// Sends one attempt. With several endpoints, it starts at the one that answered last and
    /// moves to the next when no connection could be made (refused, unreachable, a failed TLS
    /// handshake: nothing was sent), never after the request went out.
    async fn send_with_failover(&self, request: reqwest::Request) -> reqwest::Result<reqwest::Response> {
        let failover = &self.inner().failover;
        if failover.endpoints.len() < 2 {
            return self.client().execute(request).await;
        }
        let base = &failover.endpoints[0];
        let mut unreachable = Vec::new();
        let mut last = None;
        for index in failover.order() {
            let endpoint = &failover.endpoints[index];
            let Some(mut attempt) = request.try_clone() else { return self.client().execute(request).await };
            if index != 0 {
                let rest = request.url().as_str().strip_prefix(base.as_str()).unwrap_or_default();
                match reqwest::Url::parse(&format!("{endpoint}{rest}")) {
                    Ok(url) => *attempt.url_mut() = url,
                    Err(_) => continue,
                }
                if self.sign_again(&mut attempt).await.is_err() {
                    continue;
                }
            }
            match self.client().execute(attempt).await {
                Err(e) if e.is_connect() => {
                    tracing::warn!(endpoint = %endpoint, error = %crate::error::root_cause(&e), "no connection to the endpoint; trying the next");
                    unreachable.push(endpoint.clone());
                    last = Some(e);
                }
                result => {
                    failover.answered(index);
                    with_call(|call| {
                        call.unreachable = std::mem::take(&mut unreachable);
                        call.endpoint = (index != 0).then(|| endpoint.clone());
                    });
                    return result;
                }
            }
        }
        let last_endpoint = unreachable.pop();
        with_call(|call| {
            call.unreachable = unreachable;
            call.endpoint = last_endpoint;
        });
        match last {
            Some(error) => Err(error),
            None => self.client().execute(request).await,
        }
    }
}

async fn conclude(result: reqwest::Result<reqwest::Response>, attempts: u32) -> reqwest::Result<reqwest::Response> {
    with_call(|call| call.attempts = attempts);
    finish(result?).await
}

fn describe(result: &reqwest::Result<reqwest::Response>) -> String {
    match result {
        Ok(response) => response.status().to_string(),
        Err(e) => format!("{:?}", classify(e)),
    }
}

/// In a dry run, keeps the signed request and answers a stand-in success without sending.
fn capture_dry_run(request: &reqwest::Request) -> Option<reqwest::Response> {
    let wanted = CALL.try_with(|call| call.borrow().dry_run.is_some()).unwrap_or(false);
    if !wanted {
        return None;
    }
    with_call(|call| call.dry_run = Some(Some(crate::client::SignedRequest::from_request(request))));
    let body = Bytes::from_static(br#"{"job_id":"dry-run"}"#);
    http::Response::builder().status(200).header("content-type", "application/json").body(body).ok().map(Into::into)
}

/// Records the status and request id, and reads the body here, bounded, so that no answer
/// can grow memory: a success body up to [`MAX_RESPONSE_BODY_BYTES`] (an error if it breaks
/// off, so a cut body is a transport error; past the cap an empty body that the generated
/// code fails to decode, with the call marked oversized); any other body (an error status,
/// or a redirect that is not followed) up to [`MAX_ERROR_BODY_BYTES`], rewritten into the
/// documented error schema so that the status and headers survive into the typed error.
async fn finish(mut response: reqwest::Response) -> reqwest::Result<reqwest::Response> {
    let status = response.status();
    let request_id = response.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    with_call(|call| {
        call.status = Some(status.as_u16());
        call.request_id = request_id;
    });
    if status.is_success()
        && response.content_length().is_some_and(|declared| declared <= MAX_RESPONSE_BODY_BYTES as u64)
    {
        // Framed by a length within the cap, so the generated code's read is bounded already;
        // it passes untouched (a rebuilt response costs a copy and a URL parse per call).
        return Ok(response);
    }
    let version = response.version();
    let mut headers = std::mem::take(response.headers_mut());
    for stale in
        [reqwest::header::CONTENT_LENGTH, reqwest::header::CONTENT_ENCODING, reqwest::header::TRANSFER_ENCODING]
    {
        headers.remove(stale);
    }
    let body = if status.is_success() {
        match read_capped(response, MAX_RESPONSE_BODY_BYTES).await? {
            Some(body) => body,
            None => {
                with_call(|call| call.oversized_body = true);
                Bytes::new()
            }
        }
    } else {
        let body = read_bounded(response, MAX_ERROR_BODY_BYTES).await;
        headers.insert(reqwest::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Bytes::from(serde_json::to_vec(&crate::error_body::normalize(&body)).unwrap_or_else(|_| b"{}".to_vec()))
    };
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok(rebuilt.into())
}

/// Reads a whole body of at most `limit` bytes; `None` as soon as it is larger (the rest is
/// never read, and dropping the response closes the connection).
async fn read_capped(mut response: reqwest::Response, limit: usize) -> reqwest::Result<Option<Bytes>> {
    if response.content_length().is_some_and(|declared| declared > limit as u64) {
        return Ok(None);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        if chunk.len() > limit - body.len() {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body.freeze()))
}

/// Reads at most `limit` bytes of a body; a body that breaks off keeps what arrived.
async fn read_bounded(mut response: reqwest::Response, limit: usize) -> Bytes {
    let mut body = BytesMut::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = limit - body.len();
        if chunk.len() >= room {
            body.extend_from_slice(&chunk[..room]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    body.freeze()
}
