//! The simulator under load, as a separate process (`hwc-workspace simulator`): 64 concurrent
//! keep-alive connections for 20 s, mixing valid signed deletions and ShowJob reads with
//! unsigned, wrongly signed, oversized, malformed and wrongly typed requests. Every request
//! must get its documented answer, the process must stay up and answer afterwards, and its
//! resident memory (read from `/proc` on Linux) must stay flat once warmed up.
//!
//! Run with `--nocapture` to see the summary line.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hwc_sign::Credentials;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

const CONNECTIONS: usize = 64;
const LOAD_DURATION: Duration = Duration::from_secs(20);
/// Memory is compared from here on: by then every connection is open and has sent each kind
/// of request (an oversized body grows its connection's buffers once), the runtime's threads
/// exist, and the allocator has reached its working size. On this 2-core machine the resident
/// set climbs from ~12 MiB to ~45-55 MiB in the first 3 to 6 s, then stays level; most of the
/// climb is the buffers of connections that took a megabyte body (without oversized bodies
/// it stays near 15 MiB).
const WARM_UP: Duration = Duration::from_secs(5);
/// Each phase is summed up by its highest sample within this window: around the end of the
/// warm-up, and before the end of the load. The highest, because the allocator's working set
/// swings by a few MiB from sample to sample.
const WINDOW: Duration = Duration::from_secs(3);
const RSS_SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// Any single request, however slow the machine, answers well within this, or it counts as
/// an error; it bounds the test's run time too.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The simulator's default body limit (`hwc_workspace_sim::DEFAULT_MAX_BODY_BYTES`).
const MAX_BODY_BYTES: usize = hwc_workspace_sim::DEFAULT_MAX_BODY_BYTES;
/// Allowed growth of the resident set from the end of the warm-up to the end of the load,
/// besides the job store: the allocator's working set, seen to swing by about 3 MiB. 6 MiB
/// holds that with room, and is crossed by a leak of under 200 bytes per request at the rate
/// seen (2,400-2,800 requests/s in a debug build, over 35,000 requests after the warm-up), or
/// by anything that grows per connection or without bound.
const MAX_RSS_GROWTH_KIB: u64 = 6 * 1024;
/// The job store, which legitimately grows: the simulator keeps a record of each of its last
/// 10,000 deletions (`hwc_workspace_sim::DEFAULT_MAX_JOBS`). Measured at 0.9 KiB a record in a
/// debug build (12,000 sequential deletions: +1.7 MiB per 2,000 until the store is full, then
/// flat); each deletion answered after the warm-up adds this much to the allowance, up to the
/// store's size. A debug build makes 15,000 to 17,000 in 20 s, so the store fills during the
/// load (the bound seen: 11.5 to 12.5 MiB; the growth seen: +5.2 to +6.3 MiB).
const JOB_RECORD_BYTES: u64 = 1024;

/// What one request tries, and so what the simulator must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A signed deletion of demo desktops: 200 with a job id (repeats are idempotent 200s).
    Valid,
    /// A signed ShowJob of the connection's last job: 200 with that job.
    ShowJob,
    /// No `Authorization` at all: 401 `APIGW.0301`.
    Unsigned,
    /// Signed with the right access key and a wrong secret key: 401 `APIGW.0301`.
    WrongSignature,
    /// One byte over the body limit: 413 `APIGW.0201`. The size is checked before the
    /// signature, so the request goes unsigned: hashing a megabyte for a signature would cost
    /// a debug build's client more than the whole exchange.
    Oversized,
    /// Signed, but the body is not JSON: 400 `WKS.0002`.
    MalformedJson,
    /// Signed JSON with `desktop_ids` a string: 400 `WKS.0004`.
    WrongType,
}

/// The order each connection cycles through, starting at its own offset so that the kinds
/// are spread over time: 7 in 16 are valid (5 deletions, 2 ShowJob), one an oversized body (each
/// moves a megabyte, which in a debug build would otherwise dominate the load).
const CYCLE: [Kind; 16] = [
    Kind::Valid,
    Kind::Unsigned,
    Kind::WrongType,
    Kind::Valid,
    Kind::WrongSignature,
    Kind::MalformedJson,
    Kind::ShowJob,
    Kind::Valid,
    Kind::Unsigned,
    Kind::WrongSignature,
    Kind::Valid,
    Kind::MalformedJson,
    Kind::WrongType,
    Kind::ShowJob,
    Kind::Valid,
    Kind::Oversized,
];

impl Kind {
    /// The documented status and error code.
    fn expected(self) -> (u16, Option<&'static str>) {
        match self {
            Self::Valid | Self::ShowJob => (200, None),
            Self::Unsigned | Self::WrongSignature => (401, Some("APIGW.0301")),
            Self::Oversized => (413, Some("APIGW.0201")),
            Self::MalformedJson => (400, Some("WKS.0002")),
            Self::WrongType => (400, Some("WKS.0004")),
        }
    }
}

/// What the simulator announced on its first stdout line.
#[derive(Clone)]
struct Target {
    address: SocketAddr,
    credentials: Credentials,
    wrong_credentials: Credentials,
    project_id: String,
    desktop_ids: Vec<String>,
}

/// The simulator process; killed when dropped, so a failing test leaves nothing behind.
struct SimulatorProcess {
    child: Child,
    _stdout: BufReader<ChildStdout>,
}

impl Drop for SimulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_simulator() -> (SimulatorProcess, Target) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hwc-workspace"))
        .arg("simulator")
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the hwc-workspace binary starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("the simulator announces itself");
    let announced: Value = serde_json::from_str(&first).unwrap_or_else(|e| panic!("{first:?}: {e}"));
    let text = |name: &str| announced[name].as_str().unwrap_or_else(|| panic!("no {name} in {first}")).to_owned();
    let endpoint = text("endpoint");
    let address = endpoint.strip_prefix("http://").and_then(|a| a.parse().ok()).unwrap_or_else(|| panic!("{endpoint}"));
    let target = Target {
        address,
        credentials: Credentials::new(text("ak"), text("sk")),
        wrong_credentials: Credentials::new(text("ak"), "not-the-secret-key-of-this-access-key"),
        project_id: text("project_id"),
        desktop_ids: announced["desktop_ids"]
            .as_array()
            .expect("desktop ids")
            .iter()
            .map(|id| id.as_str().expect("a desktop id").to_owned())
            .collect(),
    };
    assert!(target.desktop_ids.len() >= 2, "{first}");
    (SimulatorProcess { child, _stdout: stdout }, target)
}

/// The resident set of a process, in KiB.
#[cfg(target_os = "linux")]
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    /// Requests by kind, every one answered as documented.
    answered: BTreeMap<Kind, u64>,
    /// Requests whose answer was not the documented one, with what came instead.
    unexpected: Vec<String>,
    /// Requests that got no answer (connection refused or broken, timeout).
    transport_errors: Vec<String>,
    /// Connections opened again after the server closed one.
    reconnects: u64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (kind, count) in other.answered {
            *self.answered.entry(kind).or_default() += count;
        }
        self.unexpected.extend(other.unexpected);
        self.transport_errors.extend(other.transport_errors);
        self.reconnects += other.reconnects;
    }
}

async fn connect(address: SocketAddr) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = TcpStream::connect(address).await.map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(connection);
    Ok(sender)
}

/// The request for a kind, signed (or not) as the kind says.
fn build_request(target: &Target, kind: Kind, job_id: Option<&str>, oversized: &Bytes) -> http::Request<Full<Bytes>> {
    let host = target.address.to_string();
    let delete_path = format!("/v2/{}/desktop/delete-sub-resources", target.project_id);
    let valid_body = || {
        Bytes::from(
            serde_json::json!({"desktop_ids": &target.desktop_ids[..2], "sub_resource_type": "DESKTOP_SHARER"})
                .to_string(),
        )
    };
    let (method, path, body, credentials) = match kind {
        Kind::Valid => ("POST", delete_path, valid_body(), Some(&target.credentials)),
        Kind::ShowJob => (
            "GET",
            format!("/v2/{}/workspace-jobs/{}", target.project_id, job_id.expect("ShowJob follows a deletion")),
            Bytes::new(),
            Some(&target.credentials),
        ),
        Kind::Unsigned => ("POST", delete_path, valid_body(), None),
        Kind::WrongSignature => ("POST", delete_path, valid_body(), Some(&target.wrong_credentials)),
        Kind::Oversized => ("POST", delete_path, oversized.clone(), None),
        Kind::MalformedJson => {
            ("POST", delete_path, Bytes::from_static(br#"{"desktop_ids": ["#), Some(&target.credentials))
        }
        Kind::WrongType => (
            "POST",
            delete_path,
            Bytes::from_static(br#"{"desktop_ids": "not-a-list", "sub_resource_type": "DESKTOP_SHARER"}"#),
            Some(&target.credentials),
        ),
    };
    let base: [(&str, &str); 2] = [("Content-Type", "application/json"), ("X-Project-Id", &target.project_id)];
    let headers: Vec<(String, String)> = match credentials {
        Some(credentials) => {
            let ip = target.address.ip().to_string();
            let unsigned = hwc_sign::http::SignableRequest::from_url_parts(
                method,
                "http",
                &ip,
                Some(target.address.port()),
                &path,
                "",
                base.to_vec(),
                &body,
            );
            unsigned.sign(credentials, time::OffsetDateTime::now_utc()).expect("the request signs").headers
        }
        None => {
            base.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).chain([("Host".to_owned(), host)]).collect()
        }
    };
    let mut request = http::Request::builder().method(method).uri(path.as_str());
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_str());
    }
    request.body(Full::new(body)).expect("a well-formed request")
}

/// Checks an answer against the kind's documented one; the job id of a successful deletion.
fn check(
    kind: Kind,
    job_id: Option<&str>,
    status: u16,
    request_id: bool,
    body: &[u8],
) -> Result<Option<String>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        format!("{kind:?}: {status} with a body that is not JSON ({e}): {}", String::from_utf8_lossy(body))
    })?;
    let (want_status, want_code) = kind.expected();
    let code = value["error_code"].as_str();
    if status != want_status || code != want_code || !request_id {
        return Err(format!(
            "{kind:?}: expected {want_status} {want_code:?}, got {status} {code:?} (request id: {request_id}): {value}"
        ));
    }
    match kind {
        Kind::Valid => match value["job_id"].as_str() {
            Some(id) if !id.is_empty() => Ok(Some(id.to_owned())),
            _ => Err(format!("Valid: 200 without a job id: {value}")),
        },
        Kind::ShowJob if value["id"].as_str() != job_id => Err(format!("ShowJob {job_id:?}: another job: {value}")),
        _ => Ok(None),
    }
}

/// One keep-alive connection sending requests back to back until the deadline.
async fn connection(
    target: Arc<Target>,
    offset: usize,
    deadline: Instant,
    oversized: Bytes,
    deletions: Arc<AtomicU64>,
) -> Tally {
    let mut tally = Tally::default();
    let mut sender = match connect(target.address).await {
        Ok(sender) => sender,
        Err(e) => {
            tally.transport_errors.push(e);
            return tally;
        }
    };
    let mut last_job: Option<String> = None;
    let mut step = offset;
    while Instant::now() < deadline {
        let mut kind = CYCLE[step % CYCLE.len()];
        step += 1;
        if kind == Kind::ShowJob && last_job.is_none() {
            kind = Kind::Valid;
        }
        // A connection the server closed is opened again (hyper reports it before sending).
        if sender.is_closed() || sender.ready().await.is_err() {
            tally.reconnects += 1;
            match connect(target.address).await {
                Ok(fresh) => sender = fresh,
                Err(e) => {
                    tally.transport_errors.push(e);
                    return tally;
                }
            }
        }
        let request = build_request(&target, kind, last_job.as_deref(), &oversized);
        let exchange = async {
            let response = sender.send_request(request).await.map_err(|e| format!("{kind:?}: send: {e}"))?;
            let status = response.status().as_u16();
            let request_id = response.headers().contains_key("x-request-id");
            let body = response.into_body().collect().await.map_err(|e| format!("{kind:?}: body: {e}"))?.to_bytes();
            Ok::<_, String>((status, request_id, body))
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Err(_) => {
                tally.transport_errors.push(format!("{kind:?}: no answer within {REQUEST_TIMEOUT:?}"));
                return tally;
            }
            Ok(Err(e)) => {
                tally.transport_errors.push(e);
                sender = match connect(target.address).await {
                    Ok(fresh) => fresh,
                    Err(e) => {
                        tally.transport_errors.push(e);
                        return tally;
                    }
                };
            }
            Ok(Ok((status, request_id, body))) => match check(kind, last_job.as_deref(), status, request_id, &body) {
                Ok(job) => {
                    *tally.answered.entry(kind).or_default() += 1;
                    if job.is_some() {
                        deletions.fetch_add(1, Ordering::Relaxed);
                        last_job = job;
                    }
                }
                Err(e) => tally.unexpected.push(e),
            },
        }
    }
    tally
}

#[tokio::test(flavor = "current_thread")]
async fn the_simulator_process_answers_a_mixed_load_as_documented_with_flat_memory() {
    let (mut process, target) = start_simulator();
    let pid = process.child.id();
    let target = Arc::new(target);
    let oversized = Bytes::from(vec![b'x'; MAX_BODY_BYTES + 1]);

    let started = Instant::now();
    let deadline = started + LOAD_DURATION;
    let running = Arc::new(AtomicBool::new(true));
    let deletions = Arc::new(AtomicU64::new(0));
    #[cfg(target_os = "linux")]
    let sampler = {
        let running = Arc::clone(&running);
        let deletions = Arc::clone(&deletions);
        tokio::spawn(async move {
            let mut samples: Vec<(f64, u64, u64)> = Vec::new();
            while running.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    samples.push((started.elapsed().as_secs_f64(), kib, deletions.load(Ordering::Relaxed)));
                }
                tokio::time::sleep(RSS_SAMPLE_EVERY).await;
            }
            samples
        })
    };

    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|i| tokio::spawn(connection(Arc::clone(&target), i, deadline, oversized.clone(), Arc::clone(&deletions))))
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        tally.merge(task.await.expect("a connection task does not panic"));
    }
    let elapsed = started.elapsed();
    running.store(false, Ordering::Relaxed);

    // Still up, and still answering, on a fresh connection.
    assert!(process.child.try_wait().expect("the process can be polled").is_none(), "the simulator process exited");
    let mut probe = connect(target.address).await.expect("the simulator accepts a new connection after the load");
    let response = probe.send_request(build_request(&target, Kind::Valid, None, &oversized)).await.expect("an answer");
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.expect("a body").to_bytes();
    assert!(check(Kind::Valid, None, status, true, &body).expect("a documented answer").is_some());

    let total: u64 = tally.answered.values().sum();
    let kinds: Vec<String> = tally.answered.iter().map(|(kind, n)| format!("{kind:?} {n}")).collect();
    eprintln!(
        "load: {CONNECTIONS} connections, {:.1} s, {total} requests answered as documented ({:.0}/s): {}; \
         {} unexpected answers, {} transport errors, {} reconnects",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        kinds.join(", "),
        tally.unexpected.len(),
        tally.transport_errors.len(),
        tally.reconnects,
    );
    assert!(
        tally.unexpected.is_empty(),
        "{} unexpected answers, e.g. {:?}",
        tally.unexpected.len(),
        &tally.unexpected[..tally.unexpected.len().min(5)]
    );
    assert!(
        tally.transport_errors.is_empty(),
        "{} transport errors, e.g. {:?}",
        tally.transport_errors.len(),
        &tally.transport_errors[..tally.transport_errors.len().min(5)]
    );
    // Every kind was exercised, many times: the mix is what is under test.
    for kind in CYCLE {
        let count = tally.answered.get(&kind).copied().unwrap_or(0);
        assert!(count >= 16, "{kind:?} was answered only {count} times");
    }

    #[cfg(target_os = "linux")]
    {
        let mut samples = sampler.await.expect("the sampler does not panic");
        samples
            .extend(rss_kib(pid).map(|kib| (started.elapsed().as_secs_f64(), kib, deletions.load(Ordering::Relaxed))));
        let mib = |kib: u64| kib as f64 / 1024.0;
        let shown: Vec<String> = samples.iter().map(|(t, kib, _)| format!("{t:.0}s:{:.1}", mib(*kib))).collect();
        eprintln!("load: simulator RSS in MiB: {}", shown.join(" "));
        let between = |from: f64, to: f64| samples.iter().filter(move |(t, _, _)| (from..=to).contains(t));
        let highest_between = |from: f64, to: f64| between(from, to).map(|(_, kib, _)| *kib).max();
        let window = WINDOW.as_secs_f64();
        let warm_end = WARM_UP.as_secs_f64();
        let warm = highest_between(warm_end - window / 2.0, warm_end + window / 2.0)
            .expect("samples around the end of the warm-up");
        // The job records that may have been added since the warm-up's window began.
        let kept = |deletions: u64| deletions.min(hwc_workspace_sim::DEFAULT_MAX_JOBS as u64);
        let deletions_at_warm = between(warm_end - window / 2.0, f64::MAX).map(|(_, _, n)| *n).min().unwrap_or(0);
        let deletions_at_end = deletions.load(Ordering::Relaxed);
        let job_store_kib = (kept(deletions_at_end) - kept(deletions_at_warm)) * JOB_RECORD_BYTES / 1024;
        let bound = MAX_RSS_GROWTH_KIB + job_store_kib;
        let load_end = LOAD_DURATION.as_secs_f64();
        let end = highest_between(load_end - window, load_end).expect("samples at the end of the load");
        let peak = samples.iter().map(|(_, kib, _)| *kib).max().unwrap_or(end);
        let (_, after, _) = *samples.last().expect("a final sample");
        eprintln!(
            "load: simulator RSS after the warm-up {:.1} MiB, at the end of the load {:.1} MiB ({:+.1} MiB, bound {:.1} \
             MiB: {} MiB + {} deletions' job records); peak {:.1} MiB, after the load {:.1} MiB",
            mib(warm),
            mib(end),
            mib(end) - mib(warm),
            mib(bound),
            MAX_RSS_GROWTH_KIB / 1024,
            deletions_at_end - deletions_at_warm,
            mib(peak),
            mib(after),
        );
        assert!(
            end.saturating_sub(warm) < bound,
            "the simulator's RSS grew from {warm} KiB after the warm-up to {end} KiB at the end of the load, \
             more than {bound} KiB"
        );
    }
    // Elsewhere there is no /proc to read the process's memory from.
    #[cfg(not(target_os = "linux"))]
    let _ = pid;
}
