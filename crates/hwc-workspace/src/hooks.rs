//! What every generated call does around the wire, in progenitor's `ClientHooks`: sign
//! (again on each attempt, with a fresh date), retry by the policy, bound and normalise
//! error bodies, and record the request id for the caller.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue};
use time::OffsetDateTime;

use crate::error::{Failure, TransportErrorKind};
use crate::generated::Client;
use crate::identity::Identity;
use crate::limits::REQUEST_ID_HEADER;
use crate::network::Failover;
use crate::retry::{RetryPolicy, parse_retry_after};
use crate::signing::{SignedRequest, sign_request};
use crate::transport::{Answer, Transport};

// The same names as header names, so that looking them up parses no name on each call.
const REQUEST_ID: HeaderName = HeaderName::from_static(REQUEST_ID_HEADER);
const API_VERSION: HeaderName = HeaderName::from_static("api-version");

/// What the generated client carries for the hooks.
#[derive(Clone)]
pub struct Inner {
    pub(crate) identity: Arc<Identity>,
    pub(crate) failover: Arc<Failover>,
    pub(crate) transport: Transport,
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
#[derive(Debug, Default)]
pub(crate) struct CallRecord {
    pub(crate) attempts: u32,
    pub(crate) status: Option<u16>,
    pub(crate) request_id: Option<String>,
    /// Set for a dry run: the request is captured here instead of being sent.
    pub(crate) dry_run: Option<Option<SignedRequest>>,
    /// Set when a success body was larger than [`crate::MAX_RESPONSE_BODY_BYTES`] and refused.
    pub(crate) oversized_body: bool,
    /// The keys and project the client resolved for this call, so the hooks need not.
    pub(crate) identity: Option<crate::identity::Resolved>,
    /// Endpoints that could not be reached before the one the last attempt went to.
    pub(crate) unreachable: Vec<String>,
    /// The endpoint the last attempt went to, when it was not the first of the list.
    pub(crate) endpoint: Option<String>,
    /// Why the last attempt failed, when it did: `exec` must return a `reqwest::Error`,
    /// which the transport does not make, so the real error travels here.
    pub(crate) failure: Option<Failure>,
}

tokio::task_local! {
    pub(crate) static CALL: RefCell<CallRecord>;
}

fn with_call(update: impl FnOnce(&mut CallRecord)) {
    let _ = CALL.try_with(|call| update(&mut call.borrow_mut()));
}

impl ClientHooks<Inner> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        // progenitor adds `api-version` to every request; the service knows no such header.
        request.headers_mut().remove(API_VERSION);
        let inner = self.inner();
        let (credentials, project) = match CALL.try_with(|call| call.borrow().identity.clone()).ok().flatten() {
            Some(resolved) => resolved,
            None => inner
                .identity
                .resolve(&inner.transport, inner.clock)
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
                Err(failure) if attempt <= policy.connect_retries && failure.kind == TransportErrorKind::Connect => {
                    Some(policy.delay(attempt, None))
                }
                Ok(answer)
                    if attempt <= policy.max_retries
                        && crate::retry::RETRYABLE_STATUSES.contains(&answer.response.status().as_u16()) =>
                {
                    let asked = answer
                        .response
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
                    return conclude(result, attempt);
                }
                _ => return conclude(result, attempt),
            }
        }
    }
}

impl Client {
    /// Signs a request again with the identity as it is now.
    async fn sign_again(&self, request: &mut reqwest::Request) -> Result<(), String> {
        let inner = self.inner();
        let (credentials, project) =
            inner.identity.resolve(&inner.transport, inner.clock).await.map_err(|e| e.to_string())?;
        sign_request(&credentials, Some(&project), inner.clock, request).map_err(|e| e.to_string())
    }

    /// Sends one attempt. With several endpoints, it starts at the one that answered last and
    /// moves to the next when no connection could be made (refused, unreachable, a failed TLS
    /// handshake: nothing was sent), never after the request went out.
    async fn send_with_failover(&self, request: reqwest::Request) -> Result<Answer, Failure> {
        let inner = self.inner();
        let (failover, transport) = (&inner.failover, &inner.transport);
        if failover.endpoints.len() < 2 {
            return transport.send(request).await;
        }
        let base = &failover.endpoints[0];
        let mut unreachable = Vec::new();
        let mut last = None;
        for index in failover.order() {
            let endpoint = &failover.endpoints[index];
            let Some(mut attempt) = request.try_clone() else { return transport.send(request).await };
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
            match transport.send(attempt).await {
                Err(failure) if failure.before_sending => {
                    tracing::warn!(endpoint = %endpoint, error = %crate::error::root_cause(failure.source.as_ref()), "no connection to the endpoint; trying the next");
                    unreachable.push(endpoint.clone());
                    last = Some(failure);
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
            Some(failure) => Err(failure),
            None => transport.send(request).await,
        }
    }
}

fn conclude(result: Result<Answer, Failure>, attempts: u32) -> reqwest::Result<reqwest::Response> {
    with_call(|call| call.attempts = attempts);
    match result {
        Ok(answer) => Ok(finish(answer)),
        Err(failure) => {
            with_call(|call| call.failure = Some(failure));
            Err(stand_in_error())
        }
    }
}

/// The `reqwest::Error` that `exec` returns for a failed exchange (reqwest makes its errors
/// only itself); the call's error is built from the [`Failure`] in the call record instead.
fn stand_in_error() -> reqwest::Error {
    let response = http::Response::builder().status(599).body(Bytes::new()).unwrap_or_default();
    match reqwest::Response::from(response).error_for_status() {
        Err(error) => error,
        Ok(_) => unreachable!("599 is an error status"),
    }
}

fn describe(result: &Result<Answer, Failure>) -> String {
    match result {
        Ok(answer) => answer.response.status().to_string(),
        Err(failure) => format!("{:?}", failure.kind),
    }
}

/// In a dry run, keeps the signed request and answers a stand-in success without sending.
fn capture_dry_run(request: &reqwest::Request) -> Option<reqwest::Response> {
    let wanted = CALL.try_with(|call| call.borrow().dry_run.is_some()).unwrap_or(false);
    if !wanted {
        return None;
    }
    with_call(|call| call.dry_run = Some(Some(SignedRequest::from_request(request))));
    let body = Bytes::from_static(br#"{"job_id":"dry-run"}"#);
    http::Response::builder().status(200).header("content-type", "application/json").body(body).ok().map(Into::into)
}

/// Records the status and request id, and hands the answer (its body read by the transport
/// within the caps) to the generated code: a success body as it came (empty past
/// [`crate::MAX_RESPONSE_BODY_BYTES`], with the call marked oversized, so that decoding fails and
/// says why); any other body (an error status, or a redirect that is not followed) rewritten
/// into the documented error schema, so that the status and headers survive into the typed
/// error.
fn finish(answer: Answer) -> reqwest::Response {
    let Answer { response, oversized } = answer;
    let (mut head, body) = response.into_parts();
    let request_id = head.headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned);
    with_call(|call| {
        call.status = Some(head.status.as_u16());
        call.request_id = request_id;
        call.oversized_body = oversized;
    });
    if head.status.is_success() && !oversized {
        return http::Response::from_parts(head, body).into();
    }
    for stale in
        [reqwest::header::CONTENT_LENGTH, reqwest::header::CONTENT_ENCODING, reqwest::header::TRANSFER_ENCODING]
    {
        head.headers.remove(stale);
    }
    let body = if head.status.is_success() {
        body
    } else {
        head.headers.insert(reqwest::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Bytes::from(serde_json::to_vec(&crate::error_body::normalize(&body)).unwrap_or_else(|_| b"{}".to_vec()))
    };
    http::Response::from_parts(head, body).into()
}
