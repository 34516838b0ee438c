//! The figures measured in this process: our Rust `Client` against a bare hyper loop and a
//! raw reqwest loop on one keep-alive connection, 32 calls in flight, and signatures per
//! second. Runs of the compared loops alternate, so that a machine busy for a moment slows
//! all of them alike.
//!
//! Sequential loops run on a current-thread runtime (`#[tokio::main(flavor =
//! "current_thread")]`), the natural home of one call after another; the 32-in-flight loops on
//! the default multi-thread runtime (`#[tokio::main]`), what a user with concurrent calls writes.

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hwc_sign::Credentials;
use hwc_workspace::{Client, DeleteSubResources};
use time::OffsetDateTime;
use tokio::runtime::Runtime;

use crate::capture::WireRequest;
use crate::load::{self, Target};
use crate::stats::Samples;

/// Calls made before a loop is timed: connections open, caches and allocators warm.
const WARMUP_CALLS: usize = 200;
/// Calls in flight in the concurrent figures.
pub(crate) const IN_FLIGHT: usize = 32;

/// What the Rust side measures, against one endpoint.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    pub address: SocketAddr,
    pub project_id: &'a str,
    pub request: &'a DeleteSubResources,
    /// Our client's request as it reached the wire, for the bare loops to copy.
    pub wire: &'a WireRequest,
    pub credentials: &'a Credentials,
    pub runs: usize,
    pub seconds: Duration,
}

#[derive(Debug, Default)]
pub(crate) struct Figures {
    pub sequential_ours: Samples,
    pub sequential_hyper: Samples,
    pub sequential_reqwest: Samples,
    pub in_flight_ours: Samples,
    pub in_flight_hyper: Samples,
    /// The bare loop signing each request afresh, as any signing client must.
    pub in_flight_hyper_signed: Samples,
    pub signatures: Samples,
}

fn runtime(multi_thread: bool) -> Result<Runtime, String> {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build().map_err(|e| format!("cannot start a runtime: {e}"))
}

pub(crate) fn measure(plan: &Plan<'_>, progress: &dyn Fn(&str)) -> Result<Figures, String> {
    let mut figures = Figures::default();
    let fixed =
        Arc::new(Target::fixed(plan.address, &plan.wire.path, &plan.wire.body, &plan.wire.replayable_headers())?);
    let url = format!("http://{}{}", plan.address, plan.wire.path);
    let wire_headers = load::header_map(&plan.wire.replayable_headers())?;

    progress("Rust: sequential calls on one keep-alive connection (our Client, bare hyper, raw reqwest)");
    let sequential = runtime(false)?;
    sequential.block_on(async {
        let ours = our_client(plan.address, plan.credentials, plan.project_id)?;
        let raw = raw_reqwest()?;
        let call_ours =
            || async { ours.delete_desktop_sub_resources(plan.request).await.map(drop).map_err(|e| e.to_string()) };
        let call_raw = || raw_reqwest_call(&raw, &url, &wire_headers, &plan.wire.body);
        for _ in 0..WARMUP_CALLS {
            call_ours().await?;
            call_raw().await?;
        }
        load::run(Arc::clone(&fixed), 1, Duration::from_millis(100)).await?;
        for _ in 0..plan.runs {
            figures.sequential_ours.0.push(timed(plan.seconds, call_ours).await?);
            figures.sequential_hyper.0.push(checked(load::run(Arc::clone(&fixed), 1, plan.seconds).await?)?);
            figures.sequential_reqwest.0.push(timed(plan.seconds, call_raw).await?);
        }
        Ok::<_, String>(())
    })?;
    drop(sequential);

    progress(&format!(
        "Rust: {IN_FLIGHT} calls in flight (our Client; bare hyper on {IN_FLIGHT} connections, fixed headers and \
         signing each request)"
    ));
    let signed = Arc::new(Target {
        address: plan.address,
        path: plan.wire.path.clone(),
        body: bytes::Bytes::copy_from_slice(&plan.wire.body),
        headers: load::Headers::signed(plan.credentials.clone(), load::unsigned(plan.wire.replayable_headers()))?,
    });
    let concurrent = runtime(true)?;
    concurrent.block_on(async {
        let ours = our_client(plan.address, plan.credentials, plan.project_id)?;
        in_flight(&ours, plan.request, Duration::from_millis(200)).await?;
        load::run(Arc::clone(&fixed), IN_FLIGHT, Duration::from_millis(200)).await?;
        load::run(Arc::clone(&signed), IN_FLIGHT, Duration::from_millis(200)).await?;
        for _ in 0..plan.runs {
            figures.in_flight_ours.0.push(in_flight(&ours, plan.request, plan.seconds).await?);
            figures.in_flight_hyper.0.push(checked(load::run(Arc::clone(&fixed), IN_FLIGHT, plan.seconds).await?)?);
            let signing = load::run(Arc::clone(&signed), IN_FLIGHT, plan.seconds).await?;
            figures.in_flight_hyper_signed.0.push(checked(signing)?);
        }
        Ok::<_, String>(())
    })?;

    progress("Rust: signatures per second (hwc-sign)");
    let signing = SigningInput::from_wire(plan.wire);
    for _ in 0..plan.runs {
        figures.signatures.0.push(signing.rate(plan.credentials, plan.seconds / 2)?);
    }
    Ok(figures)
}

/// Our client as a user builds it for this endpoint.
pub(crate) fn our_client(address: SocketAddr, credentials: &Credentials, project_id: &str) -> Result<Client, String> {
    Client::builder()
        .endpoint(format!("http://{address}"))
        .credentials(credentials.clone())
        .project_id(project_id)
        .build()
        .map_err(|e| format!("cannot build our client: {e}"))
}

/// reqwest's client for the raw loop: built as our client used to build it before it had its
/// own transport, minus what a raw loop does not do.
pub(crate) fn raw_reqwest() -> Result<reqwest::Client, String> {
    // The workspace builds reqwest without a default crypto provider (ring is chosen).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build a reqwest client: {e}"))
}

/// One call of the raw reqwest loop: our request's headers and body, the answer read whole.
pub(crate) async fn raw_reqwest_call(
    client: &reqwest::Client,
    url: &str,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let response =
        client.post(url).headers(headers.clone()).body(body.to_vec()).send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    response.bytes().await.map_err(|e| e.to_string())?;
    if status == reqwest::StatusCode::OK { Ok(()) } else { Err(format!("reqwest loop: status {status}")) }
}

/// A run of the load generator must have been answered 200 every time.
pub(crate) fn checked(outcome: load::Outcome) -> Result<f64, String> {
    if outcome.failed > 0 {
        return Err(format!("{} of {} answers were not 200", outcome.failed, outcome.failed + outcome.ok));
    }
    Ok(outcome.rate())
}

/// Calls per second of `call`, one after another, for `duration`.
async fn timed<F, Fut>(duration: Duration, call: F) -> Result<f64, String>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let started = Instant::now();
    let deadline = started + duration;
    let mut calls = 0u64;
    loop {
        for _ in 0..10 {
            call().await?;
        }
        calls += 10;
        if Instant::now() >= deadline {
            return Ok(calls as f64 / started.elapsed().as_secs_f64());
        }
    }
}

/// Calls per second of our client with [`IN_FLIGHT`] tasks calling back to back.
async fn in_flight(client: &Client, request: &DeleteSubResources, duration: Duration) -> Result<f64, String> {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (client, request) = (client.clone(), request.clone());
            tokio::spawn(async move {
                let mut calls = 0u64;
                while Instant::now() < deadline {
                    client.delete_desktop_sub_resources(&request).await.map_err(|e| e.to_string())?;
                    calls += 1;
                }
                Ok::<_, String>(calls)
            })
        })
        .collect();
    let mut calls = 0;
    for task in tasks {
        calls += task.await.map_err(|e| e.to_string())??;
    }
    Ok(calls as f64 / started.elapsed().as_secs_f64())
}

/// The operation's request as our client signs it: its headers less those the signature adds.
#[derive(Debug)]
pub(crate) struct SigningInput {
    pub host: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl SigningInput {
    pub(crate) fn from_wire(wire: &WireRequest) -> Self {
        Self {
            host: wire.header("host").unwrap_or_default().to_owned(),
            path: wire.path.clone(),
            headers: crate::load::unsigned(wire.replayable_headers()),
            body: wire.body.clone(),
        }
    }

    /// Signatures per second for `duration`, each dated with the clock, by the function our
    /// client signs every call with (`authorize`: no stages kept, as the official signer keeps
    /// none).
    fn rate(&self, credentials: &Credentials, duration: Duration) -> Result<f64, String> {
        let pairs: Vec<(&str, &str)> = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        // The wire's `Host` already carries the port as sent.
        let request = hwc_sign::http::SignableRequest::from_url_parts(
            "POST", "http", &self.host, None, &self.path, "", pairs, &self.body,
        );
        let started = Instant::now();
        let deadline = started + duration;
        let mut signatures = 0u64;
        loop {
            for _ in 0..100 {
                let _ = black_box(
                    black_box(&request).authorize(credentials, OffsetDateTime::now_utc()).map_err(|e| e.to_string())?,
                );
            }
            signatures += 100;
            if Instant::now() >= deadline {
                return Ok(signatures as f64 / started.elapsed().as_secs_f64());
            }
        }
    }
}
