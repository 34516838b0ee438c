//! The answers of injected faults: error pages a gateway or proxy sends (JSON, HTML, empty),
//! throttling, redirects, and success bodies that break their promise (cut short, stalled,
//! undocumented, oversized). The documented bodies they start from are the spec's types.

use std::sync::OnceLock;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};
use hwc_workspace::types::DeleteDesktopSubResourcesResponse;

use crate::codes;
use crate::faults::{BodyShape, FaultKind, OVERSIZED_BODY_BYTES};
use crate::response::{Body, Failure, REQUEST_ID, json_bytes_response, with_head};
use crate::shared::{Dropped, ResetHandle, Shared, stopped};

/// The answer a fault gives instead of the service's; `Err` closes the connection without
/// one.
pub(crate) async fn fault_response(
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
            let sent = first_bytes_of_the_job_body();
            return Ok(promising_the_job_body(Body::truncated(sent), request_id));
        }
        FaultKind::StalledBody => {
            let sent = first_bytes_of_the_job_body();
            let mut stop = shared.stop.clone();
            let body = Body::stalled(sent, async move {
                stopped(&mut stop).await;
            });
            return Ok(promising_the_job_body(body, request_id));
        }
        FaultKind::UndocumentedBody => {
            let body = br#"{"job":{"id":"00000000-0000-4000-8000-000000000000"}}"#;
            return Ok(json_bytes_response(StatusCode::OK, body.to_vec(), request_id));
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

/// The documented success body, with a job id of zeros, that the truncated, stalled and
/// oversized bodies start from.
fn promised_job_body() -> &'static Bytes {
    static BODY: OnceLock<Bytes> = OnceLock::new();
    BODY.get_or_init(|| {
        let body = DeleteDesktopSubResourcesResponse { job_id: "00000000-0000-4000-8000-000000000000".to_owned() };
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
    })
}

/// The first bytes of [`promised_job_body`], all a cut-short body sends.
fn first_bytes_of_the_job_body() -> Bytes {
    let body = promised_job_body();
    body.slice(..body.len().min(11))
}

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
    const TAIL: &str = r#""}"#;
    // The documented object, reopened for one more member that carries the padding.
    let documented = promised_job_body();
    let mut head = documented.slice(..documented.len().saturating_sub(1)).to_vec();
    head.extend_from_slice(br#","padding":""#);
    let mut left = OVERSIZED_BODY_BYTES - head.len() - TAIL.len();
    let mut chunks = vec![Bytes::from(head)];
    while left > 0 {
        let take = left.min(PADDING.len());
        chunks.push(Bytes::from_static(&PADDING[..take]));
        left -= take;
    }
    chunks.push(Bytes::from_static(TAIL.as_bytes()));
    Body::chunks(chunks)
}

/// A 200 whose `Content-Length` promises the whole job body while `body` sends less.
fn promising_the_job_body(body: Body, request_id: &str) -> Response<Body> {
    let mut response = Response::new(body);
    response.headers_mut().insert(http::header::CONTENT_LENGTH, HeaderValue::from(promised_job_body().len()));
    with_head(response, StatusCode::OK, "application/json", request_id)
}
