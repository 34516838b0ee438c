//! Load benchmark: signed, successful deletions per second against the simulator over
//! keep-alive connections on loopback, with a hand-rolled hyper load generator.
//!
//! `cargo bench -p hwc-workspace-sim`; `HWC_SIM_BENCH_SECS` (5) and
//! `HWC_SIM_BENCH_CONNECTIONS` (16) change the duration and the concurrency.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hwc_sign::Credentials;
use hwc_workspace_sim::{DEMO_DESKTOP_IDS, Simulator};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use time::OffsetDateTime;
use tokio::net::TcpStream;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One keep-alive connection sending requests back to back until the deadline; returns
/// (successes, failures).
async fn connection(
    address: std::net::SocketAddr,
    credentials: Credentials,
    path: String,
    deadline: Instant,
) -> Result<(u64, u64), String> {
    let stream = TcpStream::connect(address).await.map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut sender, driver) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(driver);
    let host = address.to_string();
    let body = Bytes::from(
        serde_json::json!({"desktop_ids": [DEMO_DESKTOP_IDS[0]], "sub_resource_type": "DESKTOP_SHARER"}).to_string(),
    );
    let headers = [("Content-Type", "application/json"), ("X-Project-Id", hwc_workspace_sim::DEMO_PROJECT_ID)];
    let (mut ok, mut failed) = (0u64, 0u64);
    while Instant::now() < deadline {
        let mut request = http::Request::post(path.as_str()).header(http::header::HOST, host.as_str());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let mut request = request.body(body.clone()).map_err(|e| e.to_string())?;
        hwc_sign::http::sign_in_place(&credentials, &mut request, OffsetDateTime::now_utc())
            .map_err(|e| e.to_string())?;
        let request = request.map(Full::new);
        sender.ready().await.map_err(|e| e.to_string())?;
        let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        response.into_body().collect().await.map_err(|e| e.to_string())?;
        if status == http::StatusCode::OK { ok += 1 } else { failed += 1 }
    }
    Ok((ok, failed))
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this too, without it,
    // and then a short smoke run is enough.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let seconds = if benchmarking { env_number("HWC_SIM_BENCH_SECS", 5) } else { 1 };
    let connections = env_number("HWC_SIM_BENCH_CONNECTIONS", 16);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start a runtime: {e}");
            std::process::exit(1);
        }
    };
    let outcome = runtime.block_on(async {
        let sim = Simulator::builder().max_jobs(1_000).start().await.map_err(|e| e.to_string())?;
        let path = format!("/v2/{}/desktop/delete-sub-resources", sim.project_id());
        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        let tasks: Vec<_> = (0..connections)
            .map(|_| tokio::spawn(connection(sim.local_addr(), sim.credentials().clone(), path.clone(), deadline)))
            .collect();
        let (mut ok, mut failed) = (0u64, 0u64);
        for task in tasks {
            let (o, f) = task.await.map_err(|e| e.to_string())??;
            ok += o;
            failed += f;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let served = sim.request_count();
        sim.shutdown().await;
        Ok::<_, String>((ok, failed, elapsed, served))
    });
    match outcome {
        Ok((ok, failed, elapsed, served)) => {
            println!(
                "simulator load: {connections} keep-alive connections, {elapsed:.1} s: {ok} signed deletions answered 200 \
                 ({:.0} req/s), {failed} other answers, {served} requests served",
                ok as f64 / elapsed
            );
            if failed > 0 {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
