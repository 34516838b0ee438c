//! The fault matrix from the command line: the real `hwc-workspace` binary against an
//! in-process simulator misbehaving in every way the service, its gateways or the network
//! can. Each case checks the exit code, a clean `error:` report (no panic, no backtrace),
//! that the binary ended within `--timeout` plus one second, how many requests reached the
//! simulator, and that nothing was deleted. The same matrix runs from Rust
//! (`crates/hwc-workspace-sim/tests/fault_matrix.rs`) and Python (`python/tests/test_faults.py`).

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::cli;
use hwc_workspace_sim::{BodyShape, DEMO_SHARER_DESKTOP_IDS, FaultKind, Faults, JobTiming, Simulator};

mod common;

/// A simulator on its own runtime, serving while the binary runs in the test thread.
struct Sim {
    simulator: Simulator,
    _runtime: tokio::runtime::Runtime,
}

impl Sim {
    fn start(faults: &[FaultKind]) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let builder =
            Simulator::builder().job_timing(JobTiming::instant()).faults(Faults::fail_next(faults.iter().copied()));
        let simulator = runtime.block_on(builder.start()).unwrap();
        Self { simulator, _runtime: runtime }
    }
}

const DELETE: [&str; 5] =
    ["delete-sub-resources", "--desktop-id", DEMO_SHARER_DESKTOP_IDS[0], "--sub-resource-type", "DESKTOP_SHARER"];

/// A loopback port nothing listens on.
fn closed_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

struct Case {
    name: &'static str,
    /// Empty: nothing listens at the endpoint.
    faults: Vec<FaultKind>,
    /// `--timeout`, in seconds.
    timeout: &'static str,
    exit_code: i32,
    /// What stderr must name.
    named: &'static str,
    /// Requests the simulator read.
    reached: u64,
}

fn case(
    name: &'static str,
    faults: Vec<FaultKind>,
    timeout: &'static str,
    exit_code: i32,
    named: &'static str,
    reached: u64,
) -> Case {
    Case { name, faults, timeout, exit_code, named, reached }
}

#[test]
fn every_fault_exits_with_its_code_within_the_timeout_and_is_sent_once() {
    let redirect_witness = TcpListener::bind("127.0.0.1:0").unwrap();
    redirect_witness.set_nonblocking(true).unwrap();
    let redirect = FaultKind::Redirect { to: redirect_witness.local_addr().unwrap() };
    let page = |status, body| vec![FaultKind::ErrorPage { status, body }];
    let cases = [
        case("connection refused", vec![], "5", 5, "could not connect", 0),
        // A reset at accept usually fails the connect itself, which the default connect
        // retries (2) try again: three resets exhaust them. Should the request have left
        // before a reset arrived, the exchange is broken and nothing is tried again.
        case("reset before the request was sent", vec![FaultKind::ResetOnAccept; 3], "5", 5, "127.0.0.1", 0),
        case("reset after the request was read", vec![FaultKind::ResetAfterRequest], "5", 5, "broke off", 1),
        case("closed after the request was read", vec![FaultKind::DropConnection], "5", 5, "broke off", 1),
        case("no answer", vec![FaultKind::NoAnswer], "1", 5, "timed out", 1),
        case("head sent, body stalls", vec![FaultKind::StalledBody], "1", 5, "timed out", 1),
        case("500 json", page(500, BodyShape::Json), "5", 4, "WKS.0500", 1),
        case("500 html", page(500, BodyShape::Html), "5", 4, "an HTML page: 500 Internal Server Error", 1),
        case("500 empty", page(500, BodyShape::Empty), "5", 4, "500 Internal Server Error with no error body", 1),
        case("502 json", page(502, BodyShape::Json), "5", 4, "APIGW.0202", 1),
        case("502 html", page(502, BodyShape::Html), "5", 4, "an HTML page: 502 Bad Gateway", 1),
        case("502 empty", page(502, BodyShape::Empty), "5", 4, "502 Bad Gateway with no error body", 1),
        case("503 json", page(503, BodyShape::Json), "5", 4, "WKS.0503", 1),
        case("503 html", page(503, BodyShape::Html), "5", 4, "an HTML page: 503 Service Unavailable", 1),
        case("503 empty", page(503, BodyShape::Empty), "5", 4, "503 Service Unavailable with no error body", 1),
        case("truncated JSON body", vec![FaultKind::TruncatedBody], "5", 5, "broke off", 1),
        case("200 not the documented shape", vec![FaultKind::UndocumentedBody], "5", 4, "job_id", 1),
        case("200 of 10 MiB", vec![FaultKind::OversizedBody], "5", 4, "MAX_RESPONSE_BODY_BYTES", 1),
        case("redirect to another host", vec![redirect], "5", 4, "307 Temporary Redirect", 1),
    ];
    let home = tempfile::tempdir().unwrap();
    for case in cases {
        let name = case.name;
        let sim = Sim::start(&case.faults);
        let endpoint = if case.faults.is_empty() { closed_endpoint() } else { sim.simulator.endpoint().to_owned() };
        let started = Instant::now();
        let output = cli(&home, &endpoint, case.timeout).args(DELETE).output().unwrap();
        let elapsed = started.elapsed();
        let err = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(case.exit_code), "{name}: {err}");
        assert!(err.starts_with("error: ") && err.contains(case.named), "{name}: {err}");
        for trace in ["panicked", "backtrace", "RUST_BACKTRACE", "internal error"] {
            assert!(!err.contains(trace), "{name}: {trace} in {err}");
        }
        let limit = Duration::from_secs_f64(case.timeout.parse::<f64>().unwrap() + 1.0);
        assert!(elapsed <= limit, "{name}: {elapsed:?} for --timeout {}", case.timeout);
        let simulator = &sim.simulator;
        assert_eq!(simulator.request_count(), case.reached, "{name}: requests that reached the simulator");
        if !case.faults.is_empty() {
            assert!(simulator.faults().fail_next.len() < case.faults.len(), "{name}: the fault was not met");
        }
        assert!(simulator.jobs().is_empty(), "{name}: a faulted request changed state");
    }
    assert!(
        redirect_witness.accept().is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
        "the redirect was followed"
    );
}

/// A 429 means the gateway did not pass the batch on: the bulk engine sends it again after the
/// wait asked for (`Retry-After`) or a jittered backoff, and the run then succeeds, once.
#[test]
fn a_throttled_batch_is_sent_again_after_the_wait_and_accepted_once() {
    let home = tempfile::tempdir().unwrap();
    let cases = [
        (FaultKind::TooManyRequests { retry_after_secs: 1 }, Duration::from_secs(1)),
        (FaultKind::TooManyRequestsWithoutRetryAfter, Duration::from_millis(500)),
    ];
    for (fault, at_least) in cases {
        let sim = Sim::start(&[fault]);
        let started = Instant::now();
        let output = cli(&home, sim.simulator.endpoint(), "5").args(DELETE).output().unwrap();
        let elapsed = started.elapsed();
        assert_eq!(output.status.code(), Some(0), "{fault}: {}", String::from_utf8_lossy(&output.stderr));
        assert!(elapsed >= at_least && elapsed < Duration::from_secs(10), "{fault}: {elapsed:?}");
        assert_eq!(sim.simulator.request_count(), 2, "{fault}: the 429 and the accepted one");
        assert_eq!(sim.simulator.jobs().len(), 1, "{fault}: accepted exactly once");
    }
}

#[test]
fn retries_resend_only_the_documented_statuses() {
    let home = tempfile::tempdir().unwrap();
    let unavailable = FaultKind::ErrorPage { status: 503, body: BodyShape::Json };
    let sim = Sim::start(&[unavailable, unavailable]);
    let output = cli(&home, sim.simulator.endpoint(), "5").args(["--retries", "2"]).args(DELETE).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(sim.simulator.request_count(), 3, "two 503s, then the attempt that went through");
    assert_eq!(sim.simulator.jobs().len(), 1);

    for fault in [FaultKind::InternalError, FaultKind::ResetAfterRequest, FaultKind::UndocumentedBody] {
        let sim = Sim::start(&[fault]);
        let output = cli(&home, sim.simulator.endpoint(), "5").args(["--retries", "3"]).args(DELETE).output().unwrap();
        assert_ne!(output.status.code(), Some(0), "{fault}");
        assert_eq!(sim.simulator.request_count(), 1, "{fault} must not be resent");
        assert!(sim.simulator.jobs().is_empty(), "{fault}");
    }
}
