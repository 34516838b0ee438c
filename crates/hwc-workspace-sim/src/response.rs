//! The answers: a response body that can also break off on purpose, and builders for the
//! documented JSON bodies, each carrying `X-Request-Id`.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use http_body::{Frame, SizeHint};
use hwc_workspace::types::ErrorResponse;
use serde::Serialize;

pub(crate) const REQUEST_ID: &str = "x-request-id";

/// A whole body, or one that sends its bytes and then fails (the truncated-body fault), or
/// one that sends its bytes and then nothing until `until` resolves (the stalled-body
/// fault), or a large body sent chunk by chunk from shared memory (the oversized fault).
pub(crate) enum Body {
    Full(Option<Bytes>),
    Truncated {
        data: Option<Bytes>,
        pause: Option<Pin<Box<tokio::time::Sleep>>>,
    },
    Stalled {
        data: Option<Bytes>,
        until: Pin<Box<dyn Future<Output = ()> + Send>>,
    },
    /// Sent with chunked transfer coding, no `Content-Length`: a client learns the size only
    /// by reading.
    Chunks(VecDeque<Bytes>),
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(data) => f.debug_tuple("Full").field(data).finish(),
            Self::Truncated { data, .. } => f.debug_struct("Truncated").field("data", data).finish_non_exhaustive(),
            Self::Stalled { data, .. } => f.debug_struct("Stalled").field("data", data).finish_non_exhaustive(),
            Self::Chunks(chunks) => f.debug_tuple("Chunks").field(&chunks.len()).finish(),
        }
    }
}

impl Body {
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        Self::Full(Some(bytes.into()))
    }

    pub(crate) fn truncated(bytes: impl Into<Bytes>) -> Self {
        Self::Truncated { data: Some(bytes.into()), pause: None }
    }

    /// Sends `bytes`, then nothing until `until` resolves, then fails (closing the
    /// connection).
    pub(crate) fn stalled(bytes: impl Into<Bytes>, until: impl Future<Output = ()> + Send + 'static) -> Self {
        Self::Stalled { data: Some(bytes.into()), until: Box::pin(until) }
    }

    /// Sends the chunks in order; they can share memory, so a large body costs little.
    pub(crate) fn chunks(chunks: impl IntoIterator<Item = Bytes>) -> Self {
        Self::Chunks(chunks.into_iter().collect())
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            Self::Full(data) => Poll::Ready(data.take().map(|bytes| Ok(Frame::data(bytes)))),
            Self::Truncated { data, pause } => {
                if let Some(bytes) = data.take() {
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
                // Failing at once could close the socket before hyper flushed the head and
                // the first bytes; a short pause lets them out, so the client really sees a
                // body cut short rather than no answer.
                let pause = pause.get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(20))));
                match pause.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "body truncated on purpose (fault injection)",
                    )))),
                }
            }
            Self::Stalled { data, until } => {
                if let Some(bytes) = data.take() {
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
                match until.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "stalled body abandoned (fault injection)",
                    )))),
                }
            }
            Self::Chunks(chunks) => Poll::Ready(chunks.pop_front().map(|chunk| Ok(Frame::data(chunk)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Full(data) => data.is_none(),
            Self::Chunks(chunks) => chunks.is_empty(),
            Self::Truncated { .. } | Self::Stalled { .. } => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            Self::Full(None) => SizeHint::with_exact(0),
            Self::Truncated { .. } | Self::Stalled { .. } | Self::Chunks(_) => SizeHint::default(),
        }
    }
}

/// A failure to answer with the error body.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) status: StatusCode,
    pub(crate) body: ErrorResponse,
    /// Extra headers, e.g. `Allow` or `Retry-After`.
    pub(crate) headers: Vec<(&'static str, String)>,
    /// Close the connection after answering (the request body was not read to its end).
    pub(crate) close: bool,
}

impl Failure {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorResponse {
                error_code: Some(code.to_owned()),
                error_msg: Some(message.into()),
                error_detail: None,
                encoded_authorization_message: None,
            },
            headers: Vec::new(),
            close: false,
        }
    }

    /// The error code the answer carries.
    #[cfg(test)]
    pub(crate) fn error_code(&self) -> &str {
        self.body.error_code.as_deref().unwrap_or_default()
    }

    #[must_use]
    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        self.body.error_detail = Some(detail.into());
        self
    }

    #[must_use]
    pub(crate) fn encoded_authorization_message(mut self, message: String) -> Self {
        self.body.encoded_authorization_message = Some(message);
        self
    }

    #[must_use]
    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    #[must_use]
    pub(crate) fn close(mut self) -> Self {
        self.close = true;
        self
    }

    pub(crate) fn into_response(self, request_id: &str) -> Response<Body> {
        let mut response = json_response(self.status, &self.body, request_id);
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        if self.close {
            response.headers_mut().insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// A JSON answer of one of the spec's types.
pub(crate) fn json_response(status: StatusCode, body: &impl Serialize, request_id: &str) -> Response<Body> {
    // The spec's types hold strings, numbers and lists only: serialising them cannot fail.
    json_bytes_response(status, serde_json::to_vec(body).unwrap_or_default(), request_id)
}

/// A JSON answer from bytes, for bodies that are not the spec's on purpose (faults).
pub(crate) fn json_bytes_response(status: StatusCode, json: Vec<u8>, request_id: &str) -> Response<Body> {
    with_head(Response::new(Body::full(json)), status, "application/json", request_id)
}

pub(crate) fn with_head(
    mut response: Response<Body>,
    status: StatusCode,
    content_type: &'static str,
    request_id: &str,
) -> Response<Body> {
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, value);
    }
    response
}
