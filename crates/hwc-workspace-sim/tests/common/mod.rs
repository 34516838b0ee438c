//! Helpers shared by the integration tests: raw signed requests (for what the client refuses
//! to send), raw TCP exchanges (for what no HTTP client sends), and error-body checks.
#![allow(dead_code)]

use std::time::Duration;

use hwc_sign::Credentials;
use hwc_workspace_sim::Simulator;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The documented error body fields; an error body holds nothing else.
pub(crate) const ERROR_FIELDS: [&str; 4] = ["error_code", "error_msg", "error_detail", "encoded_authorization_message"];

pub(crate) fn delete_path(project_id: &str) -> String {
    format!("/v2/{project_id}/desktop/delete-sub-resources")
}

pub(crate) fn sharer_body(ids: &[&str]) -> Vec<u8> {
    serde_json::json!({"desktop_ids": ids, "sub_resource_type": "DESKTOP_SHARER"}).to_string().into_bytes()
}

/// A request signed with hwc-sign and sent with reqwest, every part under the test's control.
#[derive(Debug, Clone)]
pub(crate) struct RawRequest {
    method: String,
    path: String,
    /// Sent after `?` and signed, as given; empty for none.
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    credentials: Option<Credentials>,
    date: OffsetDateTime,
}

impl RawRequest {
    /// A POST to the simulator's operation with the simulator's credentials, a JSON
    /// content type and the right `X-Project-Id`.
    pub(crate) fn post(sim: &Simulator, body: impl Into<Vec<u8>>) -> Self {
        Self {
            method: "POST".to_owned(),
            path: delete_path(sim.project_id()),
            query: String::new(),
            headers: vec![
                ("Content-Type".to_owned(), "application/json".to_owned()),
                ("X-Project-Id".to_owned(), sim.project_id().to_owned()),
            ],
            body: body.into(),
            credentials: Some(sim.credentials().clone()),
            date: OffsetDateTime::now_utc(),
        }
    }

    pub(crate) fn method(mut self, method: &str) -> Self {
        self.method = method.to_owned();
        self
    }

    pub(crate) fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The query string, e.g. `a=1&b=2` (signed as the canonical query).
    pub(crate) fn query(mut self, query: impl Into<String>) -> Self {
        self.query = query.into();
        self
    }

    /// Sets a header, replacing one of the same name.
    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub(crate) fn without_header(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    pub(crate) fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Sent without any signature.
    pub(crate) fn unsigned(mut self) -> Self {
        self.credentials = None;
        self
    }

    pub(crate) fn date(mut self, date: OffsetDateTime) -> Self {
        self.date = date;
        self
    }

    pub(crate) async fn send(self, sim: &Simulator) -> RawResponse {
        let address = sim.local_addr();
        let host = address.ip().to_string();
        let headers: Vec<(String, String)> = match &self.credentials {
            Some(credentials) => {
                let borrowed: Vec<(&str, &str)> = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                let request = hwc_sign::http::SignableRequest::from_url_parts(
                    &self.method,
                    "http",
                    &host,
                    Some(address.port()),
                    &self.path,
                    &self.query,
                    borrowed,
                    &self.body,
                );
                request.sign(credentials, self.date).expect("the test request signs").headers
            }
            None => self.headers.clone(),
        };
        // The workspace builds reqwest without a default crypto provider (ring is chosen in the
        // core); a raw client needs one installed even for plain http.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("reqwest client");
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).expect("method");
        let query = if self.query.is_empty() { String::new() } else { format!("?{}", self.query) };
        let mut request = client.request(method, format!("{}{}{query}", sim.endpoint(), self.path)).body(self.body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("the simulator answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("a whole body");
        RawResponse { status, headers, body }
    }
}

#[derive(Debug)]
pub(crate) struct RawResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl RawResponse {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// Checks the answer is a documented error body with this status and code and a
    /// request id, and returns its message.
    pub(crate) fn expect_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        assert_documented_error(self);
        let body = self.json();
        assert_eq!(body["error_code"], code, "{}", self.body);
        body["error_msg"].as_str().unwrap_or_default().to_owned()
    }
}

/// JSON content, only the documented fields, code and message present, an `X-Request-Id`.
pub(crate) fn assert_documented_error(response: &RawResponse) {
    assert_eq!(response.header("content-type"), Some("application/json"), "{}", response.body);
    let request_id = response.header("x-request-id").expect("an X-Request-Id header");
    assert_eq!(request_id.len(), 32, "{request_id}");
    let body = response.json();
    let object = body.as_object().expect("an object");
    for key in object.keys() {
        assert!(ERROR_FIELDS.contains(&key.as_str()), "undocumented field {key} in {}", response.body);
    }
    for key in ["error_code", "error_msg"] {
        assert!(
            object.get(key).and_then(|v| v.as_str()).is_some_and(|s| !s.is_empty()),
            "no {key} in {}",
            response.body
        );
    }
}

/// Sends raw bytes on a new connection and reads until the server closes it, it answers
/// fully (by `Content-Length`), or `wait` runs out.
pub(crate) async fn raw_exchange(sim: &Simulator, request: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(sim.local_addr()).await.expect("connect");
    // The server may answer (and stop reading) before all is written: that is the point
    // of some tests, so a failed write is not a failure here.
    let _ = stream.write_all(request).await;
    read_answer(&mut stream, wait).await
}

pub(crate) async fn read_answer(stream: &mut TcpStream, wait: Duration) -> String {
    let mut received = Vec::new();
    let _ = tokio::time::timeout(wait, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
            if answer_complete(&received) {
                break;
            }
        }
    })
    .await;
    String::from_utf8_lossy(&received).into_owned()
}

fn answer_complete(received: &[u8]) -> bool {
    let text = String::from_utf8_lossy(received);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|line| line.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case("content-length")))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok());
    length.is_some_and(|n| body.len() >= n)
}
