//! The simulator as a thing to start, share, bound and stop: shutdown and drop, use across
//! runtimes and threads, state files, the connection bound, logs, and the README's tables.

mod common;

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{RawRequest, read_answer, sharer_body};
use hwc_workspace::{Credentials, DeleteSubResources, Error};
use hwc_workspace_sim::{
    DEMO_AK, DEMO_DESKTOP_IDS, DEMO_PROJECT_ID, DEMO_SK, DESKTOP_SHARER, Key, Simulator, StartError, State, codes,
    demo_desktop_ids,
};
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

fn request(id: &str) -> DeleteSubResources {
    DeleteSubResources::new([id], DESKTOP_SHARER)
}

async fn refuses_connections(address: SocketAddr) -> bool {
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if TcpStream::connect(address).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn the_demo_is_what_the_constants_say() {
    let sim = Simulator::start().await.unwrap();
    assert!(sim.endpoint().starts_with("http://127.0.0.1:"), "{}", sim.endpoint());
    assert_eq!(sim.local_addr().ip().to_string(), "127.0.0.1");
    assert_eq!((sim.access_key(), sim.secret_key(), sim.project_id()), (DEMO_AK, DEMO_SK, DEMO_PROJECT_ID));
    assert_eq!(sim.desktop_ids(), demo_desktop_ids());
    let with_sharer = sim.desktops().iter().filter(|d| d.has(DESKTOP_SHARER)).count();
    assert_eq!((with_sharer, sim.desktops().len() - with_sharer), (5, 2));
    assert_eq!(sim.request_count(), 0);
    let debug = format!("{sim:?}");
    assert!(debug.contains(DEMO_AK) && !debug.contains(DEMO_SK), "{debug}");
}

#[tokio::test]
async fn shutdown_stops_the_server_and_waits_for_it() {
    let sim = Simulator::start().await.unwrap();
    let address = sim.local_addr();
    let client = sim.client_builder().build().unwrap();
    client.delete_desktop_sub_resources(&request(DEMO_DESKTOP_IDS[0])).await.unwrap();
    let started = Instant::now();
    sim.shutdown().await;
    // An idle keep-alive connection must not hold shutdown up; the bound is loose so that a
    // loaded machine does not fail it.
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(TcpStream::connect(address).await.is_err());
    match client.delete_desktop_sub_resources(&request(DEMO_DESKTOP_IDS[1])).await {
        Err(Error::Transport(_)) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let sim = Simulator::start().await.unwrap();
    let address = sim.local_addr();
    assert!(TcpStream::connect(address).await.is_ok());
    drop(sim);
    assert!(refuses_connections(address).await);
}

#[tokio::test]
async fn shutdown_does_not_wait_for_injected_latency() {
    let sim = Simulator::builder()
        .faults(hwc_workspace_sim::Faults::none().with_latency(Duration::from_secs(30)))
        .start()
        .await
        .unwrap();
    let client = sim.client_builder().timeout(Duration::from_secs(60)).build().unwrap();
    let call = tokio::spawn(async move { client.delete_desktop_sub_resources(&request(DEMO_DESKTOP_IDS[0])).await });
    while sim.request_count() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = Instant::now();
    sim.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(call.await.unwrap().is_err());
}

#[test]
fn the_handle_is_send_sync_and_works_from_other_runtimes_and_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Simulator>();

    let server_runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let sim = Arc::new(server_runtime.block_on(Simulator::start()).unwrap());
    let threads: Vec<_> = (0..2)
        .map(|i| {
            let sim = Arc::clone(&sim);
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(async {
                    let client = sim.client_builder().build().unwrap();
                    client.delete_desktop_sub_resources(&request(DEMO_DESKTOP_IDS[i])).await.unwrap();
                });
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(sim.jobs().len(), 2);
    let address = sim.local_addr();
    let sim = Arc::try_unwrap(sim).unwrap();
    let other_runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    other_runtime.block_on(sim.shutdown());
    assert!(std::net::TcpStream::connect(address).is_err());
}

#[tokio::test]
async fn a_state_file_seeds_project_desktops_and_keys() {
    let path = std::env::temp_dir().join(format!("hwc-sim-state-{}.json", std::process::id()));
    let json = r#"{
        "project_id": "project-from-file",
        "desktops": [
            {"id": "file-desktop-1", "sub_resources": ["DESKTOP_SHARER"]},
            {"id": "file-desktop-2", "sub_resources": []}
        ],
        "keys": [
            {"ak": "FILEAK00000000000001", "sk": "file-secret", "permissions": ["workspace:*:*"]},
            {"ak": "FILEAK00000000000002", "sk": "file-secret-2", "security_token": "tok", "permissions": ["ecs:*:*"]}
        ]
    }"#;
    std::fs::File::create(&path).unwrap().write_all(json.as_bytes()).unwrap();
    let state = State::from_file(&path);
    let _ = std::fs::remove_file(&path);
    let sim = Simulator::builder().state(state.unwrap()).start().await.unwrap();
    assert_eq!(sim.project_id(), "project-from-file");
    assert_eq!(sim.desktop_ids(), ["file-desktop-1", "file-desktop-2"]);
    assert_eq!(sim.access_key(), "FILEAK00000000000001");
    let client = sim.client_builder().build().unwrap();
    client.delete_desktop_sub_resources(&request("file-desktop-1")).await.unwrap();
    assert!(!sim.desktop("file-desktop-1").unwrap().has(DESKTOP_SHARER));

    let denied = sim
        .client_builder()
        .credentials(Credentials::new("FILEAK00000000000002", "file-secret-2").with_security_token("tok"))
        .build()
        .unwrap();
    match denied.delete_desktop_sub_resources(&request("file-desktop-2")).await {
        Err(Error::Api(e)) => assert_eq!(e.status(), 403),
        other => panic!("{other:?}"),
    }
    // The demo key is not in this state.
    let demo = sim.client_builder().credentials(Credentials::new(DEMO_AK, DEMO_SK)).build().unwrap();
    match demo.delete_desktop_sub_resources(&request("file-desktop-2")).await {
        Err(Error::Api(e)) => assert_eq!(e.status(), 401),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn start_errors_name_their_cause() {
    let bad = State { keys: Vec::new(), ..State::demo() };
    match Simulator::builder().state(bad).start().await {
        Err(StartError::State(e)) => assert!(e.to_string().contains("at least one key"), "{e}"),
        other => panic!("{other:?}"),
    }
    let taken = Simulator::start().await.unwrap();
    match Simulator::builder().bind(taken.local_addr()).start().await {
        Err(e @ StartError::Bind { .. }) => {
            assert!(e.to_string().contains(&taken.local_addr().to_string()), "{e}");
            assert!(std::error::Error::source(&e).is_some());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn starting_outside_a_runtime_is_an_error_not_a_panic() {
    let start = Simulator::builder().start();
    // A minimal executor that is not tokio: poll once with a no-op waker.
    let mut start = std::pin::pin!(start);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match start.as_mut().poll(&mut context) {
        std::task::Poll::Ready(Err(e @ StartError::NoRuntime)) => {
            assert!(e.to_string().contains("tokio runtime"))
        }
        std::task::Poll::Ready(other) => panic!("{other:?}"),
        std::task::Poll::Pending => panic!("pending outside a runtime"),
    }
}

#[tokio::test]
async fn connections_beyond_the_bound_wait_for_a_free_slot() {
    let sim = Simulator::builder().max_connections(1).start().await.unwrap();
    let raw = format!("POST /nowhere HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\n\r\n", sim.local_addr());

    let mut first = TcpStream::connect(sim.local_addr()).await.unwrap();
    first.write_all(raw.as_bytes()).await.unwrap();
    assert!(read_answer(&mut first, Duration::from_secs(3)).await.starts_with("HTTP/1.1 404"));

    let mut second = TcpStream::connect(sim.local_addr()).await.unwrap();
    second.write_all(raw.as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut second, Duration::from_millis(300)).await, "", "served beyond the bound");
    drop(first);
    assert!(read_answer(&mut second, Duration::from_secs(3)).await.starts_with("HTTP/1.1 404"));
}

#[tokio::test]
async fn only_the_newest_jobs_are_kept() {
    let sim = Simulator::builder().max_jobs(2).start().await.unwrap();
    let client = sim.client_builder().build().unwrap();
    let mut ids = Vec::new();
    for id in &DEMO_DESKTOP_IDS[..3] {
        ids.push(client.delete_desktop_sub_resources(&request(id)).await.unwrap().job_id);
    }
    let kept: Vec<String> = sim.jobs().into_iter().map(|j| j.job_id).collect();
    assert_eq!(kept, ids[1..]);
}

fn an_hour_ago() -> OffsetDateTime {
    OffsetDateTime::now_utc() - time::Duration::hours(1)
}

#[tokio::test]
async fn the_simulator_clock_can_be_set() {
    let sim = Simulator::builder().clock(an_hour_ago).start().await.unwrap();
    let now = sim.client_builder().build().unwrap();
    match now.delete_desktop_sub_resources(&request(DEMO_DESKTOP_IDS[0])).await {
        Err(Error::Api(e)) => assert_eq!(e.status(), 401),
        other => panic!("{other:?}"),
    }
    let same_clock = sim.client_builder().clock(an_hour_ago).build().unwrap();
    same_clock.delete_desktop_sub_resources(&request(DEMO_DESKTOP_IDS[0])).await.unwrap();
    assert!(OffsetDateTime::now_utc() - sim.jobs()[0].created_at > time::Duration::minutes(59));
}

/// Collects log output in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn one_log_line_per_request_and_no_secret_in_any() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        // Plain text whatever features the workspace build unifies (the CLI turns on ANSI).
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let state = State::demo()
        .with_key(Key::new("HPUATEMP000000000001", "temp-secret-value").with_security_token("token-value-secret"));
    let sim = Simulator::builder().state(state).start().await.unwrap();
    let temporary =
        Credentials::new("HPUATEMP000000000001", "temp-secret-value").with_security_token("token-value-secret");
    let response = RawRequest::post(&sim, sharer_body(&[DEMO_DESKTOP_IDS[0]])).credentials(temporary).send(&sim).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let request_id = response.header("x-request-id").unwrap().to_owned();
    RawRequest::post(&sim, sharer_body(&[DEMO_DESKTOP_IDS[0]]))
        .credentials(Credentials::new(DEMO_AK, "wrong"))
        .send(&sim)
        .await;
    sim.shutdown().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = logs.lines().filter(|l| l.contains(" request ")).collect();
    assert_eq!(lines.len(), 2, "{logs}");
    assert!(
        lines[0].contains("method=POST") && lines[0].contains("status=200") && lines[0].contains(&request_id),
        "{}",
        lines[0]
    );
    assert!(lines[1].contains("status=401"), "{}", lines[1]);
    for secret in [DEMO_SK, "temp-secret-value", "token-value-secret", "Signature=", "SDK-HMAC-SHA256"] {
        assert!(!logs.contains(secret), "{secret} logged: {logs}");
    }
}

#[test]
fn the_readme_lists_every_error_code_and_the_demo() {
    let readme = include_str!("../README.md");
    for (code, status) in codes::ALL {
        let row = format!("| `{code}` | {status} |");
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
    for value in DEMO_DESKTOP_IDS.iter().chain(&[DEMO_AK, DEMO_SK, DEMO_PROJECT_ID]) {
        assert!(readme.contains(value), "README lacks {value}");
    }
}
