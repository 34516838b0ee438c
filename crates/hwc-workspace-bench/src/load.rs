//! The bare hyper load generator: keep-alive HTTP/1.1 connections posting back to back until
//! a deadline, with nothing between the loop and hyper. One connection is the wire floor of a
//! sequential client; 16 or 32 make the concurrent figures. Headers are either fixed (copied
//! from our client's request) or signed afresh for every request, as a real client must.
//! (`crates/hwc-workspace-sim/benches/load.rs` does the signed variant in-process.)

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hwc_sign::Credentials;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use time::OffsetDateTime;
use tokio::net::TcpStream;

/// How each request gets its headers.
#[derive(Debug, Clone)]
pub(crate) enum Headers {
    /// The same headers every time (a signature computed once).
    Fixed(HeaderMap),
    /// Signed for each request over these headers, with `X-Sdk-Date` = now; `map` holds
    /// them parsed once, as a client holds the headers it built.
    Signed { credentials: Box<Credentials>, unsigned: Vec<(String, String)>, map: HeaderMap },
}

impl Headers {
    /// Headers signed for each request over `unsigned`.
    pub(crate) fn signed(credentials: Credentials, unsigned: Vec<(String, String)>) -> Result<Self, String> {
        let map = header_map(&unsigned)?;
        Ok(Self::Signed { credentials: Box::new(credentials), unsigned, map })
    }
}

/// Where and what to post.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub address: SocketAddr,
    pub path: String,
    pub body: Bytes,
    pub headers: Headers,
}

impl Target {
    /// Copies `headers` (name, value pairs) into a fixed header map.
    pub(crate) fn fixed(
        address: SocketAddr,
        path: &str,
        body: &[u8],
        headers: &[(String, String)],
    ) -> Result<Self, String> {
        Ok(Self {
            address,
            path: path.to_owned(),
            body: Bytes::copy_from_slice(body),
            headers: Headers::Fixed(header_map(headers)?),
        })
    }

    fn headers(&self) -> Result<HeaderMap, String> {
        match &self.headers {
            Headers::Fixed(map) => Ok(map.clone()),
            Headers::Signed { credentials, unsigned, map } => {
                let host = self.address.ip().to_string();
                let pairs: Vec<(&str, &str)> = unsigned.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                let request = hwc_sign::http::SignableRequest::from_url_parts(
                    "POST",
                    "http",
                    &host,
                    Some(self.address.port()),
                    &self.path,
                    "",
                    pairs,
                    &self.body,
                );
                // What a client signing each call does: only what goes on the wire is kept.
                let added = request.authorize(credentials, OffsetDateTime::now_utc()).map_err(|e| e.to_string())?;
                let mut headers = map.clone();
                added.apply_to_headers(&mut headers);
                Ok(headers)
            }
        }
    }
}

/// The headers without those signing adds, to be signed afresh.
pub(crate) fn unsigned(headers: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    let signature = |name: &str| hwc_sign::http::SIGNATURE_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s));
    headers.into_iter().filter(|(name, _)| !signature(name)).collect()
}

pub(crate) fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("header name {name:?}: {e}"))?;
        // The value is not quoted in the error: it may be a signature.
        let value = HeaderValue::from_str(value).map_err(|e| format!("the value of header {name}: {e}"))?;
        map.append(name, value);
    }
    Ok(map)
}

/// What a load run achieved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    /// Answers with status 200.
    pub ok: u64,
    /// Any other answer.
    pub failed: u64,
    pub elapsed: Duration,
}

impl Outcome {
    /// Successful requests per second.
    pub(crate) fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// Opens `connections` connections to the target and posts on each, one request at a time,
/// for `duration`; on the runtime of the caller.
pub(crate) async fn run(target: Arc<Target>, connections: usize, duration: Duration) -> Result<Outcome, String> {
    let started = Instant::now();
    let until = Until::Deadline(started + duration);
    let tasks: Vec<_> = (0..connections).map(|_| tokio::spawn(connection(Arc::clone(&target), until))).collect();
    let (mut ok, mut failed) = (0, 0);
    for task in tasks {
        let (o, f) = task.await.map_err(|e| e.to_string())??;
        ok += o;
        failed += f;
    }
    Ok(Outcome { ok, failed, elapsed: started.elapsed() })
}

/// Posts exactly `calls` requests on one connection, for the instruction counts (which need
/// the same work in every run, not the same time).
pub(crate) async fn run_calls(target: Arc<Target>, calls: u64) -> Result<Outcome, String> {
    let started = Instant::now();
    let (ok, failed) = connection(target, Until::Calls(calls)).await?;
    Ok(Outcome { ok, failed, elapsed: started.elapsed() })
}

/// When a connection stops posting.
#[derive(Debug, Clone, Copy)]
enum Until {
    Deadline(Instant),
    Calls(u64),
}

async fn connection(target: Arc<Target>, until: Until) -> Result<(u64, u64), String> {
    let stream = TcpStream::connect(target.address).await.map_err(|e| format!("connect to {}: {e}", target.address))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut sender, driver) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(driver);
    let (mut ok, mut failed) = (0u64, 0u64);
    while match until {
        Until::Deadline(deadline) => Instant::now() < deadline,
        Until::Calls(calls) => ok + failed < calls,
    } {
        let mut request = http::Request::post(target.path.as_str())
            .body(Full::new(target.body.clone()))
            .map_err(|e| e.to_string())?;
        *request.headers_mut() = target.headers()?;
        sender.ready().await.map_err(|e| e.to_string())?;
        let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        response.into_body().collect().await.map_err(|e| e.to_string())?;
        if status == StatusCode::OK {
            ok += 1;
        } else {
            failed += 1;
        }
    }
    Ok((ok, failed))
}
