//! The fault matrix from Rust: every misbehaviour of the service, its gateways and the
//! network, met by the real client against the real simulator over loopback. Each case
//! checks the typed error, that it came back within the configured timeout plus one
//! second, how many requests reached the simulator, and that nothing was deleted; then
//! which faults opt-in retries resend, re-signed, after the `Retry-After` asked for, up to
//! the cap.
//!
//! The same matrix runs from the command line (`crates/hwc-workspace-cli/tests/faults.rs`)
//! and from Python (`python/tests/test_faults.py`).

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hwc_workspace::{DeleteSubResources, Error, MAX_RESPONSE_BODY_BYTES, RetryPolicy, TransportErrorKind};
use hwc_workspace_sim::{
    BodyShape, DEMO_DESKTOP_IDS, DESKTOP_SHARER, FaultKind, Faults, MAX_CLOCK_SKEW, OVERSIZED_BODY_BYTES, Simulator,
};

/// What a case must end in.
#[derive(Debug, Clone, Copy)]
enum Expected {
    /// A transport error of one of these kinds.
    Transport(&'static [TransportErrorKind]),
    /// An error status, and whether the body carried an error code (JSON) and a message.
    Api { status: u16, code: bool, message: bool },
    /// A success status whose body was refused; the reason must contain the text.
    Undecodable(&'static str),
}

struct Case {
    name: &'static str,
    /// `None`: nothing listens at the endpoint.
    fault: Option<FaultKind>,
    /// `None`: the default, where connections that could not be made are tried again and
    /// nothing that reached the server is.
    policy: Option<RetryPolicy>,
    timeout: Duration,
    expected: Expected,
    /// Requests the simulator read.
    reached: u64,
}

/// Generous enough for a loaded machine, short enough for the cases that wait it out.
const QUICK: Duration = Duration::from_secs(1);
const PATIENT: Duration = Duration::from_secs(5);

/// Taken by the matrix, whose cases are timed, and by the memory test, which saturates both
/// cores with 200 MiB of bodies for seconds: run side by side (cargo runs a file's tests in
/// parallel), the matrix's simulator could wait past `PATIENT` for a core and a reset at
/// accept ended as a timeout (seen once under `cargo xtask test`).
static TIMED_OR_HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn request() -> DeleteSubResources {
    DeleteSubResources::new([DEMO_DESKTOP_IDS[0]], DESKTOP_SHARER)
}

fn api(status: u16, code: bool, message: bool) -> Expected {
    Expected::Api { status, code, message }
}

/// A loopback port nothing listens on.
fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A loopback listener that never accepts on its own: the test asks it afterwards whether
/// anyone connected.
fn witness() -> TcpListener {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    listener
}

fn assert_nobody_connected(listener: &TcpListener, name: &str) {
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Err(e) => panic!("{name}: the witness failed: {e}"),
        Ok((_, peer)) => panic!("{name}: the redirect was followed ({peer} connected)"),
    }
}

fn check(name: &str, error: &Error, expected: Expected) {
    match (expected, error) {
        (Expected::Transport(kinds), Error::Transport(e)) => {
            assert!(kinds.contains(&e.kind()), "{name}: {:?} {error}", e.kind());
        }
        (Expected::Api { status, code, message }, Error::Api(e)) => {
            assert_eq!(e.status(), status, "{name}: {error}");
            assert_eq!(e.error_code().is_some(), code, "{name}: {error}");
            assert_eq!(e.error_msg().is_some(), message, "{name}: {error}");
            assert!(e.request_id().is_some(), "{name}: no request id in {error}");
        }
        (Expected::Undecodable(reason), Error::UndecodableResponse(e)) => {
            assert_eq!(e.status(), 200, "{name}: {error}");
            assert!(e.reason().contains(reason), "{name}: {error}");
            assert!(e.request_id().is_some(), "{name}: no request id in {error}");
        }
        (expected, error) => panic!("{name}: expected {expected:?}, got {error:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_a_typed_error_within_the_timeout_and_sent_once() {
    let _alone = TIMED_OR_HEAVY.lock().await;
    let redirect_witness = witness();
    let redirect = FaultKind::Redirect { to: redirect_witness.local_addr().unwrap() };
    let page = |status, body| Some(FaultKind::ErrorPage { status, body });
    let broken = Expected::Transport(&[TransportErrorKind::Broken]);
    let timed_out = Expected::Transport(&[TransportErrorKind::Timeout]);
    // A reset at accept usually fails the client's connect itself (nothing was sent, so
    // connect retries may resend: hence no retries here); should the client have sent its
    // request before the reset arrived, it is a broken exchange instead.
    let reset_early = Expected::Transport(&[TransportErrorKind::Connect, TransportErrorKind::Broken]);
    let once = Some(RetryPolicy::none());
    #[rustfmt::skip]
    let cases = [
        Case { name: "connection refused", fault: None, policy: None, timeout: PATIENT, expected: Expected::Transport(&[TransportErrorKind::Connect]), reached: 0 },
        Case { name: "reset before the request was sent", fault: Some(FaultKind::ResetOnAccept), policy: once, timeout: PATIENT, expected: reset_early, reached: 0 },
        Case { name: "reset after the request was read", fault: Some(FaultKind::ResetAfterRequest), policy: None, timeout: PATIENT, expected: broken, reached: 1 },
        Case { name: "closed after the request was read", fault: Some(FaultKind::DropConnection), policy: None, timeout: PATIENT, expected: broken, reached: 1 },
        Case { name: "no answer", fault: Some(FaultKind::NoAnswer), policy: None, timeout: QUICK, expected: timed_out, reached: 1 },
        Case { name: "head sent, body stalls", fault: Some(FaultKind::StalledBody), policy: None, timeout: QUICK, expected: timed_out, reached: 1 },
        Case { name: "500 json", fault: page(500, BodyShape::Json), policy: None, timeout: PATIENT, expected: api(500, true, true), reached: 1 },
        Case { name: "500 html", fault: page(500, BodyShape::Html), policy: None, timeout: PATIENT, expected: api(500, false, true), reached: 1 },
        Case { name: "500 empty", fault: page(500, BodyShape::Empty), policy: None, timeout: PATIENT, expected: api(500, false, false), reached: 1 },
        Case { name: "502 json", fault: page(502, BodyShape::Json), policy: None, timeout: PATIENT, expected: api(502, true, true), reached: 1 },
        Case { name: "502 html", fault: page(502, BodyShape::Html), policy: None, timeout: PATIENT, expected: api(502, false, true), reached: 1 },
        Case { name: "502 empty", fault: page(502, BodyShape::Empty), policy: None, timeout: PATIENT, expected: api(502, false, false), reached: 1 },
        Case { name: "503 json", fault: page(503, BodyShape::Json), policy: None, timeout: PATIENT, expected: api(503, true, true), reached: 1 },
        Case { name: "503 html", fault: page(503, BodyShape::Html), policy: None, timeout: PATIENT, expected: api(503, false, true), reached: 1 },
        Case { name: "503 empty", fault: page(503, BodyShape::Empty), policy: None, timeout: PATIENT, expected: api(503, false, false), reached: 1 },
        Case { name: "429 with Retry-After", fault: Some(FaultKind::TooManyRequests { retry_after_secs: 1 }), policy: None, timeout: PATIENT, expected: api(429, true, true), reached: 1 },
        Case { name: "429 without Retry-After", fault: Some(FaultKind::TooManyRequestsWithoutRetryAfter), policy: None, timeout: PATIENT, expected: api(429, true, true), reached: 1 },
        Case { name: "truncated JSON body", fault: Some(FaultKind::TruncatedBody), policy: None, timeout: PATIENT, expected: broken, reached: 1 },
        Case { name: "200 not the documented shape", fault: Some(FaultKind::UndocumentedBody), policy: None, timeout: PATIENT, expected: Expected::Undecodable("job_id"), reached: 1 },
        Case { name: "200 of 10 MiB", fault: Some(FaultKind::OversizedBody), policy: None, timeout: PATIENT, expected: Expected::Undecodable("MAX_RESPONSE_BODY_BYTES"), reached: 1 },
        Case { name: "redirect to another host", fault: Some(redirect), policy: None, timeout: PATIENT, expected: api(307, false, false), reached: 1 },
    ];
    for case in cases {
        let name = case.name;
        let sim = Simulator::start().await.unwrap();
        let endpoint = match case.fault {
            Some(fault) => {
                sim.set_faults(Faults::fail_next([fault]));
                sim.endpoint().to_owned()
            }
            None => format!("http://{}", closed_port()),
        };
        let client = sim
            .client_builder()
            .endpoint(endpoint)
            .retry_policy(case.policy.clone().unwrap_or_default())
            .timeout(case.timeout)
            .connect_timeout(case.timeout)
            .build()
            .unwrap();
        let started = Instant::now();
        let error = client.delete_desktop_sub_resources(&request()).await.expect_err(name);
        let elapsed = started.elapsed();
        check(name, &error, case.expected);
        assert!(
            elapsed <= case.timeout + Duration::from_secs(1),
            "{name}: {elapsed:?} for a timeout of {:?}",
            case.timeout
        );
        assert_eq!(sim.request_count(), case.reached, "{name}: requests that reached the simulator");
        assert!(sim.faults().fail_next.is_empty(), "{name}: the fault was not met");
        assert!(sim.jobs().is_empty(), "{name}: a faulted request changed state");
        assert!(sim.desktop(DEMO_DESKTOP_IDS[0]).unwrap().has(DESKTOP_SHARER), "{name}");
        if case.fault.is_some() {
            // The client is not left broken: the next call goes through.
            client.delete_desktop_sub_resources(&request()).await.unwrap_or_else(|e| panic!("{name}: then {e}"));
            assert_eq!(sim.request_count(), case.reached + 1, "{name}");
        }
        sim.shutdown().await;
    }
    assert_nobody_connected(&redirect_witness, "redirect");
}

/// Retries as fast as possible, so that only a `Retry-After` makes a test wait.
fn quick_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy { max_retries, base_delay: Duration::from_millis(1), ..RetryPolicy::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opt_in_retries_resend_only_the_documented_statuses() {
    let page = |status, body| FaultKind::ErrorPage { status, body };
    #[rustfmt::skip]
    let retried = [
        ("429 Retry-After 0", FaultKind::TooManyRequests { retry_after_secs: 0 }),
        ("429 without Retry-After", FaultKind::TooManyRequestsWithoutRetryAfter),
        ("502 json", page(502, BodyShape::Json)),
        ("502 html", page(502, BodyShape::Html)),
        ("502 empty", page(502, BodyShape::Empty)),
        ("503 json", page(503, BodyShape::Json)),
        ("503 empty", page(503, BodyShape::Empty)),
        ("504 json", page(504, BodyShape::Json)),
    ];
    let retried_statuses: Vec<u16> = retried
        .iter()
        .map(|(_, kind)| match kind {
            FaultKind::ErrorPage { status, .. } => *status,
            _ => 429,
        })
        .collect();
    assert!(
        hwc_workspace::RETRYABLE_STATUSES.iter().all(|s| retried_statuses.contains(s)),
        "every retryable status has a case"
    );
    for (name, fault) in retried {
        let sim = Simulator::builder().faults(Faults::fail_next([fault, fault])).start().await.unwrap();
        let client = sim.client_builder().retry_policy(quick_retries(2)).build().unwrap();
        let deleted = client.delete_desktop_sub_resources(&request()).await;
        assert!(deleted.is_ok(), "{name}: {deleted:?}");
        assert_eq!(sim.request_count(), 3, "{name}: two faulted attempts, then the one that went through");
        assert_eq!(sim.jobs().len(), 1, "{name}: deleted once");
        sim.shutdown().await;
    }

    #[rustfmt::skip]
    let never = [
        ("500 json", page(500, BodyShape::Json)),
        ("500 html", page(500, BodyShape::Html)),
        ("reset after the request was read", FaultKind::ResetAfterRequest),
        ("closed after the request was read", FaultKind::DropConnection),
        ("no answer", FaultKind::NoAnswer),
        ("truncated JSON body", FaultKind::TruncatedBody),
        ("200 not the documented shape", FaultKind::UndocumentedBody),
        ("redirect", FaultKind::Redirect { to: closed_port() }),
    ];
    for (name, fault) in never {
        let sim = Simulator::builder().faults(Faults::fail_next([fault])).start().await.unwrap();
        let client = sim.client_builder().retry_policy(quick_retries(3)).timeout(QUICK).build().unwrap();
        let started = Instant::now();
        let error = client.delete_desktop_sub_resources(&request()).await.expect_err(name);
        assert!(started.elapsed() <= QUICK + Duration::from_secs(1), "{name}: {:?}", started.elapsed());
        assert_eq!(sim.request_count(), 1, "{name} must not be resent: {error}");
        assert!(sim.jobs().is_empty(), "{name}");
        sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_before_the_request_are_retried_only_as_failed_connections() {
    let sim = Simulator::builder().faults(Faults::fail_next([FaultKind::ResetOnAccept; 5])).start().await.unwrap();
    let policy = RetryPolicy { connect_retries: 2, ..quick_retries(3) };
    let client = sim.client_builder().retry_policy(policy).build().unwrap();
    let kind = match client.delete_desktop_sub_resources(&request()).await {
        Err(Error::Transport(e)) => e.kind(),
        other => panic!("{other:?}"),
    };
    let resets = 5 - sim.faults().fail_next.len();
    match kind {
        // Nothing was sent: tried again as far as connect retries go, and no further.
        TransportErrorKind::Connect => assert_eq!(resets, 3),
        // The request may have left: never sent again.
        TransportErrorKind::Broken => assert!(resets <= 3, "{resets}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.request_count(), 0);
    assert!(sim.jobs().is_empty());
}

static SIGNATURES: AtomicUsize = AtomicUsize::new(0);

/// The clock of the client below: each attempt is signed afresh and reads it once, so the
/// readings count the attempts, even those that never reached a server.
fn counting_clock() -> time::OffsetDateTime {
    SIGNATURES.fetch_add(1, Ordering::SeqCst);
    time::OffsetDateTime::now_utc()
}

/// The attempts one call to a closed port made.
async fn attempts_at_a_closed_port(policy: RetryPolicy) -> usize {
    let client = hwc_workspace::Client::builder()
        .credentials(hwc_workspace::Credentials::new("AK", "SK"))
        .project_id("p1")
        .endpoint(format!("http://{}", closed_port()))
        .environment(|_: &str| None)
        .retry_policy(policy)
        .clock(counting_clock)
        .build()
        .unwrap();
    SIGNATURES.store(0, Ordering::SeqCst);
    match client.delete_desktop_sub_resources(&request()).await {
        Err(Error::Transport(e)) => assert_eq!(e.kind(), TransportErrorKind::Connect),
        other => panic!("{other:?}"),
    }
    SIGNATURES.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_refused_connection_is_tried_again_only_with_connect_retries() {
    let with = RetryPolicy { connect_retries: 2, base_delay: Duration::from_millis(1), ..RetryPolicy::none() };
    assert_eq!(attempts_at_a_closed_port(with).await, 3);
    assert_eq!(attempts_at_a_closed_port(RetryPolicy::none()).await, 1);
}

static CLOCK_READINGS: AtomicUsize = AtomicUsize::new(0);
/// How long before the simulator's skew limit the first signature expires.
const FIRST_SIGNATURE_LEFT: Duration = Duration::from_secs(3);
/// Longer than what the first signature has left, so that resending it would be refused.
const RETRY_AFTER: u64 = 5;

/// The first signature is dated so that it expires at the simulator within
/// `FIRST_SIGNATURE_LEFT`; every later one is dated now.
fn first_signature_nearly_expired() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    if CLOCK_READINGS.fetch_add(1, Ordering::SeqCst) == 0 { now - MAX_CLOCK_SKEW + FIRST_SIGNATURE_LEFT } else { now }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_each_attempt_is_signed_afresh() {
    let sim = Simulator::builder()
        .faults(Faults::fail_next([FaultKind::TooManyRequests { retry_after_secs: RETRY_AFTER }]))
        .start()
        .await
        .unwrap();
    let client =
        sim.client_builder().retry_policy(quick_retries(1)).clock(first_signature_nearly_expired).build().unwrap();
    let started = Instant::now();
    client.delete_desktop_sub_resources(&request()).await.unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(RETRY_AFTER) - Duration::from_millis(50), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(RETRY_AFTER + 3), "{elapsed:?}");
    // The first signature was out of date by the time of the retry: the simulator accepted
    // the second attempt only because it was signed again, with a fresh date.
    assert_eq!(sim.request_count(), 2);
    assert_eq!(sim.jobs().len(), 1);
    assert!(CLOCK_READINGS.load(Ordering::SeqCst) >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_retry_after_is_cut_to_the_cap() {
    let sim = Simulator::builder()
        .faults(Faults::fail_next([FaultKind::TooManyRequests { retry_after_secs: 3_600 }]))
        .start()
        .await
        .unwrap();
    let policy = RetryPolicy { retry_after_cap: Duration::from_secs(1), ..quick_retries(1) };
    let client = sim.client_builder().retry_policy(policy).build().unwrap();
    let started = Instant::now();
    client.delete_desktop_sub_resources(&request()).await.unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "an hour asked, the 1 s cap waited: {elapsed:?}");
    assert_eq!(sim.request_count(), 2);
}

/// The peak resident memory of this process so far (`VmHWM`), in bytes: reading one whole
/// oversized body at any point would raise it by the body's size.
#[cfg(target_os = "linux")]
fn peak_resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// One call answered with the oversized body, which must fail at the cap.
#[cfg(target_os = "linux")]
async fn refused_at_the_cap(sim: &Simulator, client: &hwc_workspace::Client) {
    sim.set_faults(Faults::fail_next([FaultKind::OversizedBody]));
    match client.delete_desktop_sub_resources(&request()).await {
        Err(Error::UndecodableResponse(e)) => {
            assert!(e.reason().contains(&MAX_RESPONSE_BODY_BYTES.to_string()), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_at_the_cap_without_memory_growth() {
    let _alone = TIMED_OR_HEAVY.lock().await;
    const CALLS: usize = 20;
    const ALLOWED_GROWTH: u64 = 8 * 1024 * 1024;
    const { assert!(OVERSIZED_BODY_BYTES >= 10 * MAX_RESPONSE_BODY_BYTES) };
    let sim = Simulator::start().await.unwrap();
    let client = sim.client_builder().build().unwrap();
    // A successful call first sets up what every call uses once (pools, buffers).
    client.delete_desktop_sub_resources(&request()).await.unwrap();
    let before = peak_resident_bytes();
    for _ in 0..CALLS {
        refused_at_the_cap(&sim, &client).await;
    }
    let grown = peak_resident_bytes().saturating_sub(before);
    assert!(
        grown <= ALLOWED_GROWTH,
        "{CALLS} bodies of {OVERSIZED_BODY_BYTES} bytes raised the peak memory by {grown} bytes"
    );
    assert_eq!(sim.request_count(), CALLS as u64 + 1);
    assert_eq!(sim.jobs().len(), 1, "only the first call succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_held_by_a_fault_are_let_go_when_the_client_leaves() {
    for fault in [FaultKind::NoAnswer, FaultKind::StalledBody] {
        // One connection at most: the next call gets through only once the held one is
        // closed on the simulator's side too.
        let sim = Simulator::builder().max_connections(1).faults(Faults::fail_next([fault])).start().await.unwrap();
        let client = sim.client_builder().timeout(Duration::from_millis(300)).build().unwrap();
        match client.delete_desktop_sub_resources(&request()).await {
            Err(Error::Transport(e)) => assert_eq!(e.kind(), TransportErrorKind::Timeout),
            other => panic!("{fault}: {other:?}"),
        }
        let patient = sim.client_builder().timeout(PATIENT).build().unwrap();
        let started = Instant::now();
        patient.delete_desktop_sub_resources(&request()).await.unwrap_or_else(|e| panic!("{fault}: {e}"));
        assert!(started.elapsed() < Duration::from_secs(2), "{fault}: {:?}", started.elapsed());
        sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_held_by_a_fault_end_when_the_simulator_stops() {
    let sim = Simulator::builder()
        .faults(Faults::fail_next([FaultKind::NoAnswer, FaultKind::StalledBody]))
        .start()
        .await
        .unwrap();
    let client = sim.client_builder().timeout(PATIENT).build().unwrap();
    let calls = [
        tokio::spawn({
            let client = client.clone();
            async move { client.delete_desktop_sub_resources(&request()).await }
        }),
        tokio::spawn(async move { client.delete_desktop_sub_resources(&request()).await }),
    ];
    while sim.request_count() < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = Instant::now();
    sim.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    for call in calls {
        match call.await.unwrap() {
            Err(Error::Transport(e)) => assert_eq!(e.kind(), TransportErrorKind::Broken),
            other => panic!("{other:?}"),
        }
    }
}
