//! One request, from bytes to answer: faults, routing, authentication, authorization,
//! validation and the change of state, in the order a gateway and the service apply them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http::request::Parts;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::codes;
use crate::faults::{BodyShape, FaultKind, FaultState, Faults, OVERSIZED_BODY_BYTES, mix};
use crate::jobs::JobTiming;
use crate::response::{Body, Failure, REQUEST_ID, json_response, with_head};
use crate::server::ResetHandle;
use crate::state::{DELETE_SUB_RESOURCES_PERMISSION, DESKTOP_SHARER, Desktop, Job, Key, State};

/// How far `X-Sdk-Date` may be from the simulator's clock, as the service allows.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);
/// Most desktop ids in one call.
pub const MAX_DESKTOP_IDS: usize = 100;
/// Longest desktop id, sub-resource type and order id, in characters.
pub const MAX_VALUE_CHARS: usize = 255;
/// How long a request body may take to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Beyond this, an oversized body is not even drained: the answer goes out at once and the
/// connection closes.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;
const SUFFIX: &str = "/desktop/delete-sub-resources";

/// Everything the connections share.
pub(crate) struct Shared {
    pub(crate) project_id: String,
    pub(crate) keys: HashMap<String, Key>,
    pub(crate) world: Mutex<World>,
    pub(crate) faults: Mutex<FaultState>,
    pub(crate) requests: AtomicU64,
    pub(crate) clock: fn() -> OffsetDateTime,
    pub(crate) max_body_bytes: usize,
    pub(crate) job_timing: JobTiming,
    pub(crate) stop: watch::Receiver<bool>,
}

/// The mutable part of the state.
pub(crate) struct World {
    pub(crate) desktops: Vec<Desktop>,
    index: HashMap<String, usize>,
    pub(crate) jobs: VecDeque<Job>,
    max_jobs: usize,
    jobs_created: u64,
}

impl Shared {
    pub(crate) fn new(
        state: State,
        faults: Faults,
        clock: fn() -> OffsetDateTime,
        max_body_bytes: usize,
        max_jobs: usize,
        job_timing: JobTiming,
        stop: watch::Receiver<bool>,
    ) -> Self {
        let index = state.desktops.iter().enumerate().map(|(i, d)| (d.id.clone(), i)).collect();
        Self {
            project_id: state.project_id,
            keys: state.keys.into_iter().map(|k| (k.access_key().to_owned(), k)).collect(),
            world: Mutex::new(World {
                desktops: state.desktops,
                index,
                jobs: VecDeque::new(),
                max_jobs: max_jobs.max(1),
                jobs_created: 0,
            }),
            faults: Mutex::new(FaultState::new(faults)),
            requests: AtomicU64::new(0),
            clock,
            max_body_bytes,
            job_timing,
            stop,
        }
    }

    // A panic elsewhere must not turn every later request into one: the data under these
    // locks is consistent after each statement, so a poisoned lock is still usable.
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn fault_state(&self) -> MutexGuard<'_, FaultState> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits `delay`; false when the simulator stops meanwhile.
    async fn pause(&self, delay: Duration) -> bool {
        let mut stop = self.stop.clone();
        tokio::select! {
            () = tokio::time::sleep(delay) => true,
            () = stopped(&mut stop) => false,
        }
    }
}

/// Resolves once the simulator is asked to stop, or its handle is gone.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// The request is answered by closing the connection (hyper does so when a service fails).
#[derive(Debug)]
pub(crate) struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped without an answer")
    }
}

impl std::error::Error for Dropped {}

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
    let request_id = request_id(number);
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

/// A 32-hex-digit id, unique per request and the same from run to run.
fn request_id(number: u64) -> String {
    format!("{:016x}{:016x}", mix(number ^ 0x5e1a_5e1a_5e1a_5e1a), mix(number))
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
    Ok(match process(shared, parts, &body, request_id) {
        Ok(response) => response,
        Err(failure) => failure.into_response(request_id),
    })
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

/// The answer a fault gives instead of the service's; `Err` closes the connection without
/// one.
async fn fault_response(
    shared: &Shared,
    reset: &ResetHandle,
    parts: &Parts,
    kind: FaultKind,
    request_id: &str,
) -> Result<Response<Body>, Dropped> {
    let failure = match kind {
        FaultKind::DropConnection => return Err(Dropped),
        // A reset on accept is never drawn for a request; were it, resetting now is nearest.
        FaultKind::ResetOnAccept | FaultKind::ResetAfterRequest => {
            reset.reset_on_close();
            return Err(Dropped);
        }
        FaultKind::NoAnswer => {
            // hyper drops this future when the client closes the connection meanwhile.
            stopped(&mut shared.stop.clone()).await;
            return Err(Dropped);
        }
        FaultKind::InternalError => error_page(StatusCode::INTERNAL_SERVER_ERROR),
        FaultKind::Unavailable => error_page(StatusCode::SERVICE_UNAVAILABLE),
        FaultKind::TooManyRequests { retry_after_secs } => {
            throttled().header("retry-after", retry_after_secs.to_string())
        }
        FaultKind::TooManyRequestsWithoutRetryAfter => throttled(),
        FaultKind::HtmlBadGateway => {
            return Ok(html_page(StatusCode::BAD_GATEWAY, request_id));
        }
        FaultKind::ErrorPage { status, body } => {
            let status = StatusCode::from_u16(status)
                .ok()
                .filter(|s| s.is_client_error() || s.is_server_error())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            match body {
                BodyShape::Json => error_page(status),
                BodyShape::Html => return Ok(html_page(status, request_id)),
                BodyShape::Empty => {
                    let mut response = Response::new(Body::full(Bytes::new()));
                    *response.status_mut() = status;
                    if let Ok(value) = HeaderValue::from_str(request_id) {
                        response.headers_mut().insert(REQUEST_ID, value);
                    }
                    return Ok(response);
                }
            }
        }
        FaultKind::TruncatedBody => {
            let sent = Bytes::from_static(&PROMISED_JOB_BODY.as_bytes()[..11]);
            return Ok(promising_the_job_body(Body::truncated(sent), request_id));
        }
        FaultKind::StalledBody => {
            let sent = Bytes::from_static(&PROMISED_JOB_BODY.as_bytes()[..11]);
            let mut stop = shared.stop.clone();
            let body = Body::stalled(sent, async move {
                stopped(&mut stop).await;
            });
            return Ok(promising_the_job_body(body, request_id));
        }
        FaultKind::UndocumentedBody => {
            let body = br#"{"job":{"id":"00000000-0000-4000-8000-000000000000"}}"#;
            return Ok(json_response(StatusCode::OK, body.to_vec(), request_id));
        }
        FaultKind::OversizedBody => {
            return Ok(with_head(Response::new(oversized_body()), StatusCode::OK, "application/json", request_id));
        }
        FaultKind::Redirect { to } => {
            let target = parts.uri.path_and_query().map_or(parts.uri.path(), |p| p.as_str());
            let mut response = Response::new(Body::full(Bytes::new()));
            *response.status_mut() = StatusCode::TEMPORARY_REDIRECT;
            if let Ok(location) = HeaderValue::from_str(&format!("http://{to}{target}")) {
                response.headers_mut().insert(http::header::LOCATION, location);
            }
            if let Ok(value) = HeaderValue::from_str(request_id) {
                response.headers_mut().insert(REQUEST_ID, value);
            }
            return Ok(response);
        }
    };
    Ok(failure.into_response(request_id))
}

/// The documented success body the truncated and stalled bodies promise (49 bytes).
const PROMISED_JOB_BODY: &str = r#"{"job_id":"00000000-0000-4000-8000-000000000000"}"#;

fn throttled() -> Failure {
    Failure::new(
        StatusCode::TOO_MANY_REQUESTS,
        codes::THROTTLED,
        "The throttling threshold has been reached (simulated fault)",
    )
}

/// The error body of a failing service or gateway, with the code of its status.
fn error_page(status: StatusCode) -> Failure {
    let (code, message) = match status {
        StatusCode::SERVICE_UNAVAILABLE => {
            (codes::SERVICE_UNAVAILABLE, "The service is temporarily unavailable (simulated fault)")
        }
        StatusCode::BAD_GATEWAY => (codes::BAD_GATEWAY, "The gateway could not reach the service (simulated fault)"),
        StatusCode::GATEWAY_TIMEOUT => {
            (codes::GATEWAY_TIMEOUT, "The service did not answer the gateway in time (simulated fault)")
        }
        _ => (codes::INTERNAL_ERROR, "An internal service error occurred (simulated fault)"),
    };
    Failure::new(status, code, message)
}

/// An nginx-style error page, as a proxy in front of the service answers.
fn html_page(status: StatusCode, request_id: &str) -> Response<Body> {
    let title = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("Error"));
    let page = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    with_head(Response::new(Body::full(page)), status, "text/html", request_id)
}

/// A documented job body padded to [`OVERSIZED_BODY_BYTES`] with spaces inside a string,
/// sent in chunks of one static buffer: the simulator spends no memory on it.
fn oversized_body() -> Body {
    static PADDING: [u8; 64 * 1024] = [b' '; 64 * 1024];
    const HEAD: &str = r#"{"job_id":"00000000-0000-4000-8000-000000000000","padding":""#;
    const TAIL: &str = r#""}"#;
    let mut left = OVERSIZED_BODY_BYTES - HEAD.len() - TAIL.len();
    let mut chunks = vec![Bytes::from_static(HEAD.as_bytes())];
    while left > 0 {
        let take = left.min(PADDING.len());
        chunks.push(Bytes::from_static(&PADDING[..take]));
        left -= take;
    }
    chunks.push(Bytes::from_static(TAIL.as_bytes()));
    Body::chunks(chunks)
}

/// A validated request body.
struct Deletion {
    desktop_ids: Vec<String>,
    sub_resource_type: String,
    order_id: Option<String>,
}

/// A 200 whose `Content-Length` promises the whole job body while `body` sends less.
fn promising_the_job_body(body: Body, request_id: &str) -> Response<Body> {
    let mut response = Response::new(body);
    response.headers_mut().insert(http::header::CONTENT_LENGTH, HeaderValue::from(PROMISED_JOB_BODY.len()));
    with_head(response, StatusCode::OK, "application/json", request_id)
}
fn process(shared: &Shared, parts: &Parts, body: &[u8], request_id: &str) -> Result<Response<Body>, Failure> {
    let (project_id, job_id) = route(parts.uri.path()).ok_or_else(|| {
        Failure::new(
            StatusCode::NOT_FOUND,
            codes::API_NOT_FOUND,
            "The API does not exist or has not been published in the environment",
        )
    })?;
    let allowed = if job_id.is_some() { Method::GET } else { Method::POST };
    if parts.method != allowed {
        return Err(Failure::new(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::API_NOT_FOUND,
            format!("The API request method {} does not exist; use {allowed}", parts.method),
        )
        .header("allow", allowed.as_str()));
    }
    if let Some(job_id) = job_id {
        return show_job(shared, parts, body, project_id, job_id, request_id);
    }
    let key = authenticate(shared, parts, body, project_id)?;
    if !key.allows(DELETE_SUB_RESOURCES_PERMISSION) {
        return Err(forbidden(key));
    }
    if project_id != shared.project_id {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::PROJECT_NOT_FOUND,
            format!("The project {project_id} does not exist"),
        ));
    }
    check_content_type(parts)?;
    let deletion = parse_body(body)?;
    if deletion.sub_resource_type != DESKTOP_SHARER {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::UNSUPPORTED_SUB_RESOURCE_TYPE,
            format!(
                "The sub_resource_type {:?} is not supported; supported: {DESKTOP_SHARER}",
                deletion.sub_resource_type
            ),
        ));
    }
    let job_id = apply(shared, deletion, key, request_id)?;
    Ok(json_response(StatusCode::OK, format!(r#"{{"job_id":"{job_id}"}}"#).into_bytes(), request_id))
}

/// The project id, and for ShowJob the job id, of a known path.
fn route(path: &str) -> Option<(&str, Option<&str>)> {
    let rest = path.strip_prefix("/v2/")?;
    let (project_id, operation) = rest.split_once('/')?;
    if project_id.is_empty() {
        return None;
    }
    if operation == SUFFIX.trim_start_matches('/') {
        return Some((project_id, None));
    }
    let job_id = operation.strip_prefix("workspace-jobs/")?;
    (!job_id.is_empty() && !job_id.contains('/')).then_some((project_id, Some(job_id)))
}

/// ShowJob: authentication and project as for deletions, then the job as it is now.
fn show_job(
    shared: &Shared,
    parts: &Parts,
    body: &[u8],
    project_id: &str,
    job_id: &str,
    request_id: &str,
) -> Result<Response<Body>, Failure> {
    authenticate(shared, parts, body, project_id)?;
    if project_id != shared.project_id {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::PROJECT_NOT_FOUND,
            format!("The project {project_id} does not exist"),
        ));
    }
    let world = shared.world();
    let job = world.jobs.iter().find(|job| job.job_id == job_id).ok_or_else(|| {
        Failure::new(StatusCode::NOT_FOUND, codes::JOB_NOT_FOUND, format!("The job {job_id} does not exist"))
    })?;
    let rendered = crate::jobs::render(job, shared.job_timing, (shared.clock)());
    Ok(json_response(StatusCode::OK, rendered.to_string().into_bytes(), request_id))
}

fn unauthorized(reason: impl std::fmt::Display) -> Failure {
    Failure::new(
        StatusCode::UNAUTHORIZED,
        codes::AUTHENTICATION_FAILED,
        format!("Incorrect IAM authentication information: {reason}"),
    )
}

/// AK/SK authentication as the gateway does it: the signature, then the token of temporary
/// credentials, then `X-Project-Id` against the path.
fn authenticate<'s>(shared: &'s Shared, parts: &Parts, body: &[u8], project_id: &str) -> Result<&'s Key, Failure> {
    // Header values are signed as their UTF-8 bytes; a value that is not UTF-8 cannot have
    // been signed, and is left out so that a check naming it fails.
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), std::str::from_utf8(value.as_bytes()).ok()?)))
        .collect();
    let header = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim());
    let received = hwc_sign::ReceivedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body,
    };
    let max_skew = time::Duration::seconds(MAX_CLOCK_SKEW.as_secs() as i64);
    let verified =
        hwc_sign::verify(&received, |ak| shared.keys.get(ak).map(|k| &k.credentials), (shared.clock)(), max_skew)
            .map_err(unauthorized)?;
    let key = shared.keys.get(&verified.access_key).ok_or_else(|| unauthorized("the access key is not known"))?;
    if let Some(expected) = key.credentials.expose_security_token() {
        match header(hwc_sign::HEADER_SECURITY_TOKEN) {
            None => {
                return Err(unauthorized("the access key is temporary and the X-Security-Token header is missing"));
            }
            Some(token) if !constant_time_eq(token.as_bytes(), expected.as_bytes()) => {
                return Err(unauthorized("the X-Security-Token does not belong to the access key"));
            }
            Some(_) => {}
        }
    }
    match header("x-project-id") {
        None => Err(unauthorized("the X-Project-Id header is missing")),
        Some(sent) if sent != project_id => Err(unauthorized(format!(
            "the X-Project-Id {sent:?} does not match the project {project_id:?} of the path"
        ))),
        Some(_) => Ok(key),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn forbidden(key: &Key) -> Failure {
    // The real service encrypts the reason for STS to decode; base64 JSON keeps it opaque
    // on the wire yet readable when debugging.
    let reason = serde_json::json!({
        "decision": "Deny",
        "action": DELETE_SUB_RESOURCES_PERMISSION,
        "access_key": key.access_key(),
        "reason": "no policy of the key allows the action",
    });
    Failure::new(
        StatusCode::FORBIDDEN,
        codes::NOT_AUTHORIZED,
        format!("The IAM user is not authorized to perform {DELETE_SUB_RESOURCES_PERMISSION}"),
    )
    .encoded_authorization_message(base64::engine::general_purpose::STANDARD.encode(reason.to_string()))
}

fn check_content_type(parts: &Parts) -> Result<(), Failure> {
    let value =
        parts.headers.get(http::header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let media_type = value.as_deref().and_then(|v| v.split(';').next()).map(str::trim);
    if media_type.is_some_and(|m| m.eq_ignore_ascii_case("application/json")) {
        return Ok(());
    }
    let got = match &value {
        Some(v) => format!("{:?}", v.chars().take(100).collect::<String>()),
        None => "missing".to_owned(),
    };
    Err(Failure::new(
        StatusCode::BAD_REQUEST,
        codes::UNSUPPORTED_CONTENT_TYPE,
        format!("The Content-Type must be application/json; it is {got}"),
    ))
}

fn bad_request(code: &'static str, message: impl Into<String>) -> Failure {
    Failure::new(StatusCode::BAD_REQUEST, code, message)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_body(body: &[u8]) -> Result<Deletion, Failure> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| bad_request(codes::MALFORMED_BODY, "The request body is not valid JSON").detail(e.to_string()))?;
    let Value::Object(object) = value else {
        return Err(bad_request(
            codes::MALFORMED_BODY,
            format!("The request body must be a JSON object, not {}", json_type(&value)),
        ));
    };
    let ids = match present(&object, "desktop_ids") {
        None => return Err(bad_request(codes::MISSING_FIELD, "desktop_ids is required")),
        Some(Value::Array(ids)) => ids,
        Some(other) => {
            return Err(bad_request(
                codes::WRONG_TYPE,
                format!("desktop_ids must be an array of strings, not {}", json_type(other)),
            ));
        }
    };
    if ids.is_empty() || ids.len() > MAX_DESKTOP_IDS {
        return Err(bad_request(
            codes::DESKTOP_COUNT,
            format!("desktop_ids must hold 1 to {MAX_DESKTOP_IDS} ids, not {}", ids.len()),
        ));
    }
    let mut desktop_ids = Vec::with_capacity(ids.len());
    for (index, id) in ids.iter().enumerate() {
        let field = format!("desktop_ids[{index}]");
        desktop_ids.push(text(&field, id, true)?.to_owned());
    }
    let sub_resource_type = match present(&object, "sub_resource_type") {
        None => {
            return Err(bad_request(codes::MISSING_FIELD, "sub_resource_type is required"));
        }
        Some(value) => text("sub_resource_type", value, true)?.to_owned(),
    };
    let order_id = match present(&object, "order_id") {
        None => None,
        Some(value) => Some(text("order_id", value, false)?.to_owned()),
    };
    Ok(Deletion { desktop_ids, sub_resource_type, order_id })
}

/// A field that is there and not null; the API treats `null` as absent.
fn present<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|v| !v.is_null())
}

fn text<'a>(field: &str, value: &'a Value, required: bool) -> Result<&'a str, Failure> {
    let Value::String(s) = value else {
        return Err(bad_request(codes::WRONG_TYPE, format!("{field} must be a string, not {}", json_type(value))));
    };
    if required && s.trim().is_empty() {
        return Err(bad_request(codes::INVALID_VALUE, format!("{field} must not be blank")));
    }
    let chars = s.chars().count();
    if chars > MAX_VALUE_CHARS {
        return Err(bad_request(
            codes::INVALID_VALUE,
            format!("{field} must be at most {MAX_VALUE_CHARS} characters, not {chars}"),
        ));
    }
    Ok(s)
}

/// Deletes the sub-resource from every listed desktop and records the job; all or nothing.
fn apply(shared: &Shared, deletion: Deletion, key: &Key, request_id: &str) -> Result<String, Failure> {
    let mut world = shared.world();
    let mut seen = HashSet::new();
    let missing: Vec<&str> = deletion
        .desktop_ids
        .iter()
        .map(String::as_str)
        .filter(|id| !world.index.contains_key(*id) && seen.insert(*id))
        .collect();
    if !missing.is_empty() {
        let noun = if missing.len() == 1 { "desktop does" } else { "desktops do" };
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::DESKTOP_NOT_FOUND,
            format!("The {noun} not exist: {}", missing.join(", ")),
        ));
    }
    let failed_desktops: Vec<String> = {
        let faults = shared.fault_state();
        let mut failing: Vec<String> = Vec::new();
        for id in &deletion.desktop_ids {
            if faults.fails_desktop(id) && !failing.contains(id) {
                failing.push(id.clone());
            }
        }
        failing
    };
    let mut removed_from = Vec::new();
    let world = &mut *world;
    for id in &deletion.desktop_ids {
        let Some(&index) = world.index.get(id) else {
            continue;
        };
        if failed_desktops.contains(id) {
            continue;
        }
        let desktop = &mut world.desktops[index];
        if desktop.has(&deletion.sub_resource_type) {
            desktop.sub_resources.retain(|s| *s != deletion.sub_resource_type);
            removed_from.push(id.clone());
        }
    }
    world.jobs_created += 1;
    let job_id = format!("00000000-0000-4000-8000-{:012x}", world.jobs_created);
    if world.jobs.len() >= world.max_jobs {
        world.jobs.pop_front();
    }
    world.jobs.push_back(Job {
        job_id: job_id.clone(),
        desktop_ids: deletion.desktop_ids,
        sub_resource_type: deletion.sub_resource_type,
        order_id: deletion.order_id,
        created_at: (shared.clock)(),
        request_id: request_id.to_owned(),
        access_key: key.access_key().to_owned(),
        removed_from,
        failed_desktops,
    });
    Ok(job_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(body: &str) -> &'static str {
        match parse_body(body.as_bytes()) {
            Ok(_) => "ok",
            Err(failure) => failure.body.error_code,
        }
    }

    #[test]
    fn bodies_are_checked_field_by_field() {
        let long = "x".repeat(256);
        let many: Vec<String> = (0..101).map(|i| format!("d{i}")).collect();
        let cases = [
            (r#"{"desktop_ids":["a"],"sub_resource_type":"DESKTOP_SHARER"}"#.to_owned(), "ok"),
            (r#"{"desktop_ids":["a"],"sub_resource_type":"X","order_id":"","extra":1}"#.to_owned(), "ok"),
            (r#"{"desktop_ids":["a"],"sub_resource_type":"X","order_id":null}"#.to_owned(), "ok"),
            ("{".to_owned(), codes::MALFORMED_BODY),
            ("[]".to_owned(), codes::MALFORMED_BODY),
            (r#"{"sub_resource_type":"X"}"#.to_owned(), codes::MISSING_FIELD),
            (r#"{"desktop_ids":null,"sub_resource_type":"X"}"#.to_owned(), codes::MISSING_FIELD),
            (r#"{"desktop_ids":["a"]}"#.to_owned(), codes::MISSING_FIELD),
            (r#"{"desktop_ids":"a","sub_resource_type":"X"}"#.to_owned(), codes::WRONG_TYPE),
            (r#"{"desktop_ids":[1],"sub_resource_type":"X"}"#.to_owned(), codes::WRONG_TYPE),
            (r#"{"desktop_ids":["a"],"sub_resource_type":5}"#.to_owned(), codes::WRONG_TYPE),
            (r#"{"desktop_ids":["a"],"sub_resource_type":"X","order_id":7}"#.to_owned(), codes::WRONG_TYPE),
            (r#"{"desktop_ids":[],"sub_resource_type":"X"}"#.to_owned(), codes::DESKTOP_COUNT),
            (serde_json::json!({"desktop_ids": many, "sub_resource_type": "X"}).to_string(), codes::DESKTOP_COUNT),
            (r#"{"desktop_ids":[" "],"sub_resource_type":"X"}"#.to_owned(), codes::INVALID_VALUE),
            (r#"{"desktop_ids":["a"],"sub_resource_type":""}"#.to_owned(), codes::INVALID_VALUE),
            (serde_json::json!({"desktop_ids": [long], "sub_resource_type": "X"}).to_string(), codes::INVALID_VALUE),
            (
                serde_json::json!({"desktop_ids": ["a"], "sub_resource_type": "X", "order_id": "o".repeat(256)})
                    .to_string(),
                codes::INVALID_VALUE,
            ),
            (serde_json::json!({"desktop_ids": ["é".repeat(255)], "sub_resource_type": "X"}).to_string(), "ok"),
        ];
        for (body, expected) in cases {
            assert_eq!(code_of(&body), expected, "{body}");
        }
    }

    #[test]
    fn request_ids_are_distinct_hex() {
        let a = request_id(1);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, request_id(2));
        assert_eq!(a, request_id(1));
    }
}
