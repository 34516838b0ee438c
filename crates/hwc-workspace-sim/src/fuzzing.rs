//! For the fuzz targets in `fuzz/` only, and hidden: whole HTTP/1.1 exchanges with the
//! simulator's handler in memory, without a socket, a clock or a spawned task, so that one
//! input always gives the same answers. Not part of the API; it may change in any release.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use hwc_sign::Credentials;
use hyper::server::conn::http1;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::faults::Faults;
use crate::gateway;
use crate::jobs::JobTiming;
use crate::shared::Shared;
use crate::state::{DELETE_SUB_RESOURCES_PERMISSION, Key, State};

/// The body limit while fuzzing: small, so that bodies of a fuzzer's size reach the 413.
pub const MAX_BODY_BYTES: usize = 2048;
/// A temporary key accepted besides the demo keys, so that the security-token checks are
/// reachable too.
pub const TEMPORARY_AK: &str = "HPUASIMFUZZTEMP00001";
/// The secret key of [`TEMPORARY_AK`].
pub const TEMPORARY_SK: &str = "SimFuzzTemporarySecretKey0000000000001";
/// The security token of [`TEMPORARY_AK`].
pub const TEMPORARY_TOKEN: &str = "SimFuzzSecurityToken0000000000000000001";
/// Jobs kept while fuzzing; an input holds a few requests at most.
const MAX_JOBS: usize = 16;

/// The simulator's clock while fuzzing: fixed, so that a request signed for it verifies and
/// job phases do not depend on when the input runs.
pub fn now() -> OffsetDateTime {
    // 2024-01-02T03:04:05Z
    OffsetDateTime::from_unix_timestamp(1_704_164_645).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The demo state plus the temporary key, built once.
fn seed() -> &'static State {
    static SEED: OnceLock<State> = OnceLock::new();
    SEED.get_or_init(|| {
        State::demo().with_key(
            Key::new(TEMPORARY_AK, TEMPORARY_SK)
                .with_security_token(TEMPORARY_TOKEN)
                .with_permissions([DELETE_SUB_RESOURCES_PERMISSION]),
        )
    })
}

/// Signs `request` as a client would send it: its query re-written as the canonical query,
/// the signature's headers added (`Host` too when missing, `localhost`). `None` when the
/// signer refuses (an `X-Sdk-Date` header that is not a date) or a header value is not
/// UTF-8, which no signer could sign.
pub fn sign(mut request: Request<Vec<u8>>, credentials: &Credentials, at: OffsetDateTime) -> Option<Request<Vec<u8>>> {
    if !request.headers().contains_key(http::header::HOST) {
        request.headers_mut().insert(http::header::HOST, HeaderValue::from_static("localhost"));
    }
    let instructions = hwc_sign::http::SignableRequest::from_http(&request).ok()?.authorize(credentials, at).ok()?;
    instructions.apply_to_request(&mut request).ok()?;
    Some(request)
}

/// Serves `requests` in order on one connection to a simulator fresh from the demo state
/// (plus [`TEMPORARY_AK`]), and returns the answers. There are fewer answers than requests
/// when one answer closed the connection.
///
/// Framing is the connection's business, not the request's: `Content-Length` is always the
/// body's length, and the headers that would change the framing or the connection
/// (`Transfer-Encoding`, `Connection`, `Expect`, `Upgrade`, `TE`, `Keep-Alive`, `Trailer`)
/// are left out.
pub fn exchange(requests: &[Request<Vec<u8>>]) -> Vec<Response<Bytes>> {
    let mut wire = Vec::new();
    for request in requests {
        write_request(&mut wire, request);
    }
    // A fresh state for every input: a crash found after many inputs must reproduce from
    // that one input alone.
    let (stop, stop_rx) = watch::channel(false);
    let shared = Arc::new(Shared::new(
        seed().clone(),
        Faults::none(),
        now,
        MAX_BODY_BYTES,
        MAX_JOBS,
        JobTiming::default(),
        stop_rx,
        crate::cloud::CloudSettings::default(),
    ));
    let output = Arc::new(Mutex::new(Vec::new()));
    let io = Pipe { input: Bytes::from(wire), output: Arc::clone(&output) };
    let service = hyper::service::service_fn(move |request| gateway::handle(Arc::clone(&shared), request));
    let connection = http1::Builder::new()
        // The whole input is read at once and ends in EOF: answers still owed must go out.
        .half_close(true)
        .keep_alive(true)
        .serve_connection(io, service);
    runtime().block_on(async {
        // An error here is the handler closing the connection on purpose; the answers
        // written before it are what the caller checks.
        let _ = connection.await;
    });
    drop(stop);
    let written = std::mem::take(&mut *output.lock().unwrap_or_else(PoisonError::into_inner));
    read_responses(&written)
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap_or_else(|error| panic!("a current-thread runtime must build: {error}"))
    })
}

const FRAMING_HEADERS: [&str; 8] =
    ["content-length", "transfer-encoding", "connection", "expect", "upgrade", "te", "keep-alive", "trailer"];

fn write_request(wire: &mut Vec<u8>, request: &Request<Vec<u8>>) {
    // `Uri`'s Display writes the request target as it was parsed (origin or absolute form).
    wire.extend_from_slice(format!("{} {} HTTP/1.1\r\n", request.method(), request.uri()).as_bytes());
    for (name, value) in request.headers() {
        if FRAMING_HEADERS.contains(&name.as_str()) {
            continue;
        }
        wire.extend_from_slice(name.as_str().as_bytes());
        wire.extend_from_slice(b": ");
        wire.extend_from_slice(value.as_bytes());
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(format!("content-length: {}\r\n\r\n", request.body().len()).as_bytes());
    wire.extend_from_slice(request.body());
}

/// Splits what hyper wrote into responses. hyper writes every response of the handler
/// with a `Content-Length` (all of its bodies have an exact size), so that is the framing.
fn read_responses(mut wire: &[u8]) -> Vec<Response<Bytes>> {
    let mut responses = Vec::new();
    while !wire.is_empty() {
        let end = wire
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("a response head without its end: {:?}", String::from_utf8_lossy(wire)));
        let head = std::str::from_utf8(&wire[..end])
            .unwrap_or_else(|_| panic!("a response head that is not UTF-8: {:?}", &wire[..end]));
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse::<u16>().ok())
            .and_then(|code| StatusCode::from_u16(code).ok())
            .unwrap_or_else(|| panic!("not an HTTP/1.1 status line: {status_line:?}"));
        let mut response = Response::new(Bytes::new());
        *response.status_mut() = status;
        let mut length = 0usize;
        for line in lines {
            let (name, value) = line.split_once(':').unwrap_or_else(|| panic!("not a header line: {line:?}"));
            let name = HeaderName::from_bytes(name.trim().as_bytes())
                .unwrap_or_else(|_| panic!("not a header name: {line:?}"));
            let value = HeaderValue::from_str(value.trim()).unwrap_or_else(|_| panic!("not a header value: {line:?}"));
            if name == http::header::CONTENT_LENGTH {
                length = value
                    .to_str()
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("not a content length: {line:?}"));
            }
            response.headers_mut().append(name, value);
        }
        let rest = &wire[end + 4..];
        let body = rest
            .get(..length)
            .unwrap_or_else(|| panic!("a body of {} bytes where {length} were announced", rest.len()));
        *response.body_mut() = Bytes::copy_from_slice(body);
        responses.push(response);
        wire = &rest[length..];
    }
    responses
}

/// One end of a connection: reads the prepared requests, then end of file; keeps what is
/// written.
struct Pipe {
    input: Bytes,
    output: Arc<Mutex<Vec<u8>>>,
}

impl hyper::rt::Read for Pipe {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = this.input.len().min(buf.remaining());
        buf.put_slice(&this.input.split_to(n));
        Poll::Ready(Ok(()))
    }
}

impl hyper::rt::Write for Pipe {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.output.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{DEMO_AK, DEMO_PROJECT_ID, DEMO_SHARER_DESKTOP_IDS, DEMO_SK};

    fn deletion(project: &str) -> Request<Vec<u8>> {
        let body = serde_json::json!({
            "desktop_ids": [DEMO_SHARER_DESKTOP_IDS[0]],
            "sub_resource_type": "DESKTOP_SHARER",
        });
        Request::post(format!("/v2/{project}/desktop/delete-sub-resources"))
            .header("Content-Type", "application/json")
            .header("X-Project-Id", project)
            .body(body.to_string().into_bytes())
            .unwrap()
    }

    fn json(response: &Response<Bytes>) -> serde_json::Value {
        serde_json::from_slice(response.body()).unwrap()
    }

    #[test]
    fn a_signed_deletion_then_its_job_are_answered_in_order() {
        let demo = Credentials::new(DEMO_AK, DEMO_SK);
        let post = sign(deletion(DEMO_PROJECT_ID), &demo, now()).unwrap();
        let show = Request::get(format!("/v2/{DEMO_PROJECT_ID}/workspace-jobs/00000000-0000-4000-8000-000000000001"))
            .header("X-Project-Id", DEMO_PROJECT_ID)
            .body(Vec::new())
            .unwrap();
        let show = sign(show, &demo, now()).unwrap();
        let answers = exchange(&[post, show]);
        assert_eq!(answers.len(), 2);
        assert_eq!(answers[0].status(), StatusCode::OK, "{:?}", answers[0].body());
        assert_eq!(json(&answers[0])["job_id"], "00000000-0000-4000-8000-000000000001");
        assert_eq!(answers[1].status(), StatusCode::OK, "{:?}", answers[1].body());
        let job = json(&answers[1]);
        assert_eq!(job["id"], "00000000-0000-4000-8000-000000000001");
        assert_eq!(job["sub_jobs"][0]["entities"]["desktop_id"], DEMO_SHARER_DESKTOP_IDS[0]);
        assert!(answers.iter().all(|a| a.headers().contains_key(crate::response::REQUEST_ID)));
    }

    #[test]
    fn every_input_starts_from_the_same_state() {
        let demo = Credentials::new(DEMO_AK, DEMO_SK);
        for _ in 0..2 {
            let post = sign(deletion(DEMO_PROJECT_ID), &demo, now()).unwrap();
            let answers = exchange(&[post]);
            assert_eq!(json(&answers[0])["job_id"], "00000000-0000-4000-8000-000000000001");
        }
    }

    #[test]
    fn temporary_keys_need_their_token() {
        let temporary = Credentials::new(TEMPORARY_AK, TEMPORARY_SK);
        let without = sign(deletion(DEMO_PROJECT_ID), &temporary, now()).unwrap();
        let with = sign(deletion(DEMO_PROJECT_ID), &temporary.with_security_token(TEMPORARY_TOKEN), now()).unwrap();
        let answers = exchange(&[without, with]);
        assert_eq!(answers.iter().map(|a| a.status().as_u16()).collect::<Vec<_>>(), [401, 200]);
    }

    #[test]
    fn unsigned_unknown_and_oversized_requests_get_error_bodies() {
        let unsigned = deletion(DEMO_PROJECT_ID);
        let unknown = Request::get("/nowhere").body(Vec::new()).unwrap();
        let oversized = Request::post("/x").body(vec![b' '; MAX_BODY_BYTES + 1]).unwrap();
        let answers = exchange(&[unsigned, unknown, oversized]);
        let seen: Vec<(u16, String)> =
            answers.iter().map(|a| (a.status().as_u16(), json(a)["error_code"].as_str().unwrap().to_owned())).collect();
        assert_eq!(
            seen,
            [
                (401, crate::codes::AUTHENTICATION_FAILED.to_owned()),
                (404, crate::codes::API_NOT_FOUND.to_owned()),
                (413, crate::codes::REQUEST_REJECTED.to_owned()),
            ]
        );
    }
}
