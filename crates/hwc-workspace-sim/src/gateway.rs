//! The gateway in front of the service, as Huawei's APIG is: every request is read within
//! its limits, may be met by an injected fault, is matched to a published API, then
//! authenticated (the SDK-HMAC-SHA256 signature, the token of temporary keys, the project
//! header) and authorized, answering `APIGW.*` errors; only then does the service see it.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use hwc_sign::http::VerifiableRequest;
use hwc_workspace::{MAX_CLOCK_SKEW, PROJECT_ID_HEADER};
use hyper::body::Incoming;

use crate::codes;
use crate::fault_pages::fault_response;
use crate::faults::FaultKind;
use crate::response::{Body, Failure};
use crate::shared::{Dropped, ResetHandle, Shared, request_id};
use crate::state::Key;
use crate::{request, routing, service, validation};

/// How long a request body may take to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Beyond this, an oversized body is not even drained: the answer goes out at once and the
/// connection closes.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;

#[cfg(feature = "fuzzing")]
/// Serves one request on a connection that cannot be reset: a reset fault closes it
/// plainly instead.
pub(crate) async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<Body>, Dropped> {
    handle_resettable(shared, ResetHandle::default(), request).await
}

/// Serves one request. Logs one line for it: never a header value, so never a signature or
/// a token.
pub(crate) async fn handle_resettable(
    shared: Arc<Shared>,
    reset: ResetHandle,
    request: Request<Incoming>,
) -> Result<Response<Body>, Dropped> {
    let started = Instant::now();
    let number = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let request_id = request_id(shared.request_id_seed, number);
    let (fault, latency) = shared.fault_state().draw();
    let (parts, body) = request.into_parts();
    let outcome = answer(&shared, &reset, &parts, body, fault, latency, &request_id).await;
    let elapsed_us = started.elapsed().as_micros() as u64;
    match &outcome {
        Ok(response) => tracing::info!(
            method = %parts.method,
            path = parts.uri.path(),
            status = response.status().as_u16(),
            request_id,
            fault = fault.map(tracing::field::display),
            elapsed_us,
            "request"
        ),
        Err(_) => tracing::info!(
            method = %parts.method,
            path = parts.uri.path(),
            request_id,
            fault = fault.map(tracing::field::display),
            elapsed_us,
            "request answered by closing the connection"
        ),
    }
    outcome
}

async fn answer(
    shared: &Shared,
    reset: &ResetHandle,
    parts: &Parts,
    body: Incoming,
    fault: Option<FaultKind>,
    latency: Duration,
    request_id: &str,
) -> Result<Response<Body>, Dropped> {
    // The body is read before anything else: the signature covers it, and a fault that
    // drops the connection then does so after the whole request arrived, as a crash would.
    let body = match tokio::time::timeout(BODY_TIMEOUT, read_body(parts, body, shared.max_body_bytes)).await {
        Ok(result) => result,
        Err(_) => Err(BodyError::TimedOut),
    };
    if !latency.is_zero() && !shared.pause(latency).await {
        return Err(Dropped);
    }
    if let Some(kind) = fault {
        return fault_response(shared, reset, parts, kind, request_id).await;
    }
    let body = match body {
        Ok(body) => body,
        Err(BodyError::Broken) => return Err(Dropped),
        Err(BodyError::TimedOut) => {
            let failure = Failure::new(
                StatusCode::REQUEST_TIMEOUT,
                codes::REQUEST_REJECTED,
                "Request timeout: the request body did not arrive in time",
            );
            return Ok(failure.close().into_response(request_id));
        }
        Err(BodyError::TooLarge { drained }) => {
            let failure = Failure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::REQUEST_REJECTED,
                format!("Request entity too large: the body must not exceed {} bytes", shared.max_body_bytes),
            );
            return Ok(if drained { failure } else { failure.close() }.into_response(request_id));
        }
    };
    Ok(match dispatch(shared, parts, &body, request_id) {
        Ok(response) => response,
        Err(failure) => failure.into_response(request_id),
    })
}

/// The published API the request names (routed by the spec's templates), then
/// authentication and authorization, the project, and the input the spec describes, read
/// and validated; the operation's handler answers the rest.
fn dispatch(shared: &Shared, parts: &Parts, body: &[u8], request_id: &str) -> Result<Response<Body>, Failure> {
    if let Some(answer) = crate::cloud::serve(shared, parts, body, request_id) {
        return answer;
    }
    let route = routing::route(&parts.method, parts.uri.path())?;
    let operation = route.operation;
    // The project of the path is the one the client supplies itself (the core says which
    // field that is); the gateway checks it against `X-Project-Id`, the service against its own.
    let project_id = operation
        .fields
        .iter()
        .find(|field| field.is_client_setting())
        .and_then(|field| route.path_parameter(field.name));
    let key = authenticate(shared, parts, body, project_id)?;
    let behaviour = service::behaviour(operation.id);
    if let Some(permission) = behaviour.permission
        && !key.allows(permission)
    {
        return Err(forbidden(&key, permission));
    }
    if let Some(project_id) = project_id
        && project_id != shared.project_id
    {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::PROJECT_NOT_FOUND,
            format!("The project {project_id} does not exist"),
        ));
    }
    let input = request::read(&route, parts, body)?;
    validation::check(operation, &input)?;
    let call = service::Call { shared, route: &route, input, key: &key, request_id };
    (behaviour.handler)(&call)
}

enum BodyError {
    /// Larger than the limit; `drained` when it was read (and dropped) to its end, so the
    /// connection can stay open.
    TooLarge {
        drained: bool,
    },
    TimedOut,
    Broken,
}

/// Reads the body up to `limit` bytes; beyond that it is drained without being kept, up to
/// [`DRAIN_LIMIT`], so the client can finish sending and read the 413.
async fn read_body(parts: &Parts, mut body: Incoming, limit: usize) -> Result<Bytes, BodyError> {
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return Err(BodyError::TooLarge { drained: false });
    }
    let mut too_large = declared.is_some_and(|n| n > limit as u64);
    let mut buffer = BytesMut::with_capacity(if too_large { 0 } else { declared.unwrap_or(0) as usize });
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len() as u64;
        if total > DRAIN_LIMIT {
            return Err(BodyError::TooLarge { drained: false });
        }
        if total > limit as u64 && !too_large {
            too_large = true;
            buffer = BytesMut::new();
        }
        if !too_large {
            buffer.extend_from_slice(&data);
        }
    }
    if too_large { Err(BodyError::TooLarge { drained: true }) } else { Ok(buffer.freeze()) }
}

fn unauthorized(reason: impl std::fmt::Display) -> Failure {
    Failure::new(
        StatusCode::UNAUTHORIZED,
        codes::AUTHENTICATION_FAILED,
        format!("Incorrect IAM authentication information: {reason}"),
    )
}

/// AK/SK authentication as the gateway does it: the signature, then the token of temporary
/// credentials, then `X-Project-Id` against the path's project, for an API whose path has one.
fn authenticate<'s>(
    shared: &'s Shared,
    parts: &Parts,
    body: &[u8],
    project_id: Option<&str>,
) -> Result<Cow<'s, Key>, Failure> {
    let key = authenticate_key(shared, parts, body)?;
    let Some(project_id) = project_id else {
        return Ok(key);
    };
    match header(parts, PROJECT_ID_HEADER) {
        None => Err(unauthorized("the X-Project-Id header is missing")),
        Some(sent) if sent != project_id => Err(unauthorized(format!(
            "the X-Project-Id {sent:?} does not match the project {project_id:?} of the path"
        ))),
        Some(_) => Ok(key),
    }
}

/// The signature, and for temporary keys (the metadata service's) their token and expiry:
/// what every signed API checks, IAM's included.
pub(crate) fn authenticate_key<'s>(shared: &'s Shared, parts: &Parts, body: &[u8]) -> Result<Cow<'s, Key>, Failure> {
    let received = VerifiableRequest::from_http_parts(parts, body);
    let max_skew = time::Duration::seconds(MAX_CLOCK_SKEW.as_secs() as i64);
    let now = (shared.clock)();
    let temporary = shared.cloud.temporary();
    let verified = received
        .verify(
            |ak| shared.keys.get(ak).or_else(|| temporary.get(ak).map(|t| &t.key)).map(|k| &k.credentials),
            now,
            max_skew,
        )
        .map_err(unauthorized)?;
    let key = match (shared.keys.get(&verified.access_key), temporary.get(&verified.access_key)) {
        (Some(key), _) => Cow::Borrowed(key),
        (None, Some(issued)) if now >= issued.expires_at => {
            return Err(unauthorized(format!("the security token expired at {}", issued.expires_at)));
        }
        (None, Some(issued)) => Cow::Owned(issued.key.clone()),
        (None, None) => return Err(unauthorized("the access key is not known")),
    };
    drop(temporary);
    if let Some(expected) = key.credentials.expose_security_token() {
        match received.header(hwc_sign::HEADER_SECURITY_TOKEN) {
            None => {
                return Err(unauthorized("the access key is temporary and the X-Security-Token header is missing"));
            }
            Some(token) if !constant_time_eq(token.as_bytes(), expected.as_bytes()) => {
                return Err(unauthorized("the X-Security-Token does not belong to the access key"));
            }
            Some(_) => {}
        }
    }
    Ok(key)
}

fn header<'p>(parts: &'p Parts, name: &str) -> Option<&'p str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn forbidden(key: &Key, permission: &str) -> Failure {
    // The real service encrypts the reason for STS to decode; base64 JSON keeps it opaque
    // on the wire yet readable when debugging.
    let reason = serde_json::json!({
        "decision": "Deny",
        "action": permission,
        "access_key": key.access_key(),
        "reason": "no policy of the key allows the action",
    });
    Failure::new(
        StatusCode::FORBIDDEN,
        codes::NOT_AUTHORIZED,
        format!("The IAM user is not authorized to perform {permission}"),
    )
    .encoded_authorization_message(base64::engine::general_purpose::STANDARD.encode(reason.to_string()))
}
