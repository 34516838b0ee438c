//! Secret hygiene of the core: a distinctive secret key and security token go through every
//! outcome a call can have (success; 400, 401, 403, 404 and 500 answers; a retried 503; an
//! HTML 502; an undecodable 200; connection refused; a timeout; a failed TLS handshake; a job
//! that fails and one that does not end in time; an unknown job), the configuration errors,
//! the credentials chain and a dry run, with every `tracing` event and `log` record captured
//! at TRACE. Neither secret, nor the signature of any request sent, may appear in the captured
//! logs or in the `Debug` and `Display` text of the client, its builder, the credentials, the
//! dry-run request or any error and its causes.
//!
//! Everything runs in one test: the log capture is process-wide.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use httpmock::prelude::*;
use hwc_workspace::{Client, ClientBuilder, Credentials, DeleteSubResources, Error, RetryPolicy, WaitOptions};
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;

const AK: &str = "AK-SECRETS-TEST";
const SK: &str = "SK-core-distinctive-51f0e2c7";
const TOKEN: &str = "TOKEN-core-distinctive-a93d77b1";
const PROJECT: &str = "0123456789abcdef0123456789abcdef";
const DELETE_PATH: &str = "/v2/0123456789abcdef0123456789abcdef/desktop/delete-sub-resources";

/// Everything logged, by `tracing` and by `log`, as text.
static CAPTURED: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct CaptureWriter;

impl std::io::Write for CaptureWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CAPTURED.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The mock server's own logs show the requests it received, headers and all: it plays the
/// service here, and only what the client side logs is under test.
fn client_side(target: &str) -> bool {
    !target.starts_with("httpmock")
}

/// `log` records (rustls, and anything else that logs through `log`) into the same capture.
struct CaptureLog;

impl log::Log for CaptureLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        client_side(metadata.target())
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let _ = writeln!(CaptureWriter, "log {} {}: {}", record.level(), record.target(), record.args());
        }
    }
    fn flush(&self) {}
}

static CAPTURE_LOG: CaptureLog = CaptureLog;

fn capture_everything() {
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(|| CaptureWriter)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_filter(tracing_subscriber::filter::filter_fn(|metadata| client_side(metadata.target())))
        .with_filter(tracing_subscriber::filter::LevelFilter::TRACE);
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).expect("the only subscriber");
    log::set_logger(&CAPTURE_LOG).expect("the only logger");
    log::set_max_level(log::LevelFilter::Trace);
}

fn captured() -> String {
    String::from_utf8_lossy(&CAPTURED.lock().unwrap_or_else(std::sync::PoisonError::into_inner)).into_owned()
}

/// The headers of every request the mock server received.
type Seen = Arc<Mutex<Vec<HashMap<String, String>>>>;

/// A mock server answering `method path` with what `respond` sets, recording each request's
/// headers.
async fn serve(seen: &Seen, method: httpmock::Method, path: &str, respond: impl FnOnce(httpmock::Then)) -> MockServer {
    let server = MockServer::start_async().await;
    let record = Arc::clone(seen);
    let path = path.to_owned();
    server
        .mock_async(move |when, then| {
            when.method(method).path(path).is_true(move |req| {
                record.lock().unwrap().push(req.headers_vec().iter().cloned().collect());
                true
            });
            respond(then);
        })
        .await;
    server
}

fn error_body(code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({"error_code": code, "error_msg": message, "error_detail": "detail", "encoded_authorization_message": "ZW5jb2RlZA=="})
}

fn credentials() -> Credentials {
    Credentials::new(AK, SK).with_security_token(TOKEN)
}

fn builder(endpoint: &str) -> ClientBuilder {
    Client::builder()
        .credentials(credentials())
        .project_id(PROJECT)
        .endpoint(endpoint)
        .environment(|_: &str| None)
        .retry_policy(RetryPolicy::none())
}

fn request() -> DeleteSubResources {
    DeleteSubResources::new(["d-1111"], "DESKTOP_SHARER")
}

fn job(status: &str) -> serde_json::Value {
    serde_json::json!({
        "id": format!("job-{status}"),
        "status": status,
        "job_type": "DELETE_DESKTOP_SUB_RESOURCES",
        "job_error_code": if status == "FAILED" { Some("WKS.0601") } else { None },
        "fail_reason": if status == "FAILED" { Some("1 sub-job failed") } else { None },
        "sub_jobs": [{"id": "sub-1", "status": status, "entities": {"desktop_id": "d-1111"}}],
    })
}

/// An error as every way it can be shown: `Display`, `Debug`, pretty `Debug`, and each cause.
fn every_text_of(error: &Error) -> String {
    let mut text = format!("{error}\n{error:?}\n{error:#?}\n");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!("{cause}\n{cause:?}\n"));
        source = cause.source();
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_show_in_logs_debug_or_errors() {
    capture_everything();
    let seen: Seen = Arc::default();
    let mut shown = String::new();
    let mut errors: Vec<(&str, Error)> = Vec::new();

    // Success.
    let server = serve(&seen, POST, DELETE_PATH, |then| {
        then.status(200).header("X-Request-Id", "req-ok").json_body(serde_json::json!({"job_id": "job-ok"}));
    })
    .await;
    let client = builder(&server.base_url()).build().unwrap();
    assert_eq!(client.delete_desktop_sub_resources(&request()).await.unwrap().job_id, "job-ok");
    shown.push_str(&format!("{client:?}\n{client:#?}\n"));

    // Every documented error status.
    for (status, code) in
        [(400u16, "WKS.0002"), (401, "APIGW.0301"), (403, "APIGW.0302"), (404, "WKS.0102"), (500, "WKS.0500")]
    {
        let server = serve(&seen, POST, DELETE_PATH, |then| {
            then.status(status).header("X-Request-Id", format!("req-{status}")).json_body(error_body(code, "refused"));
        })
        .await;
        let error =
            builder(&server.base_url()).build().unwrap().delete_desktop_sub_resources(&request()).await.unwrap_err();
        assert_eq!(error.status(), Some(status));
        errors.push(("status", error));
    }

    // A retried 503 (each attempt signed afresh), an HTML 502 and an undecodable 200.
    let server = serve(&seen, POST, DELETE_PATH, |then| {
        then.status(503).header("Retry-After", "0").json_body(error_body("WKS.0503", "busy"));
    })
    .await;
    let retrying = RetryPolicy { max_retries: 1, base_delay: Duration::from_millis(1), ..RetryPolicy::none() };
    let client = builder(&server.base_url()).retry_policy(retrying).build().unwrap();
    errors.push(("retried 503", client.delete_desktop_sub_resources(&request()).await.unwrap_err()));
    let server = serve(&seen, POST, DELETE_PATH, |then| {
        then.status(502).header("content-type", "text/html").body("<html><title>502 Bad Gateway</title></html>");
    })
    .await;
    errors.push((
        "html 502",
        builder(&server.base_url()).build().unwrap().delete_desktop_sub_resources(&request()).await.unwrap_err(),
    ));
    let server = serve(&seen, POST, DELETE_PATH, |then| {
        then.status(200).json_body(serde_json::json!({"unexpected": true}));
    })
    .await;
    errors.push((
        "undecodable",
        builder(&server.base_url()).build().unwrap().delete_desktop_sub_resources(&request()).await.unwrap_err(),
    ));

    // Transport failures: refused, timed out, TLS spoken to a plain HTTP server.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    errors.push((
        "refused",
        builder(&closed).build().unwrap().delete_desktop_sub_resources(&request()).await.unwrap_err(),
    ));
    let server = serve(&seen, POST, DELETE_PATH, |then| {
        then.status(200).delay(Duration::from_secs(3)).json_body(serde_json::json!({"job_id": "late"}));
    })
    .await;
    let slow = builder(&server.base_url()).timeout(Duration::from_millis(300)).build().unwrap();
    errors.push(("timeout", slow.delete_desktop_sub_resources(&request()).await.unwrap_err()));
    let not_tls = format!("https://{}", server.address());
    errors
        .push(("tls", builder(&not_tls).build().unwrap().delete_desktop_sub_resources(&request()).await.unwrap_err()));

    // Jobs: one that fails, one still running when the wait ends, one that does not exist.
    let jobs = MockServer::start_async().await;
    for status in ["FAILED", "RUNNING"] {
        let record = Arc::clone(&seen);
        jobs.mock_async(move |when, then| {
            when.method(GET).path(format!("/v2/{PROJECT}/workspace-jobs/job-{status}")).is_true(move |req| {
                record.lock().unwrap().push(req.headers_vec().iter().cloned().collect());
                true
            });
            then.status(200).json_body(job(status));
        })
        .await;
    }
    let record = Arc::clone(&seen);
    jobs.mock_async(move |when, then| {
        when.method(GET).path(format!("/v2/{PROJECT}/workspace-jobs/job-missing")).is_true(move |req| {
            record.lock().unwrap().push(req.headers_vec().iter().cloned().collect());
            true
        });
        then.status(404).json_body(error_body("WKS.0103", "no such job"));
    })
    .await;
    let client = builder(&jobs.base_url()).build().unwrap();
    let quick = WaitOptions {
        timeout: Duration::from_millis(300),
        poll_interval: Duration::from_millis(50),
        max_poll_interval: Duration::from_millis(50),
    };
    errors.push(("job failed", client.wait_job("job-FAILED", &quick).await.unwrap_err()));
    errors.push(("job timeout", client.wait_job("job-RUNNING", &quick).await.unwrap_err()));
    errors.push(("unknown job", client.show_job("job-missing").await.unwrap_err()));

    // Invalid input and configuration errors, with the secrets at hand.
    errors.push((
        "input",
        client.delete_desktop_sub_resources(&DeleteSubResources::new(Vec::<String>::new(), "X")).await.unwrap_err(),
    ));
    let no_project = Client::builder().credentials(credentials()).endpoint(closed.as_str()).environment(|_: &str| None);
    shown.push_str(&format!("{no_project:?}\n{no_project:#?}\n"));
    errors.push(("no project", no_project.build().unwrap_err()));
    errors.push(("bad ca", builder(&closed).ca_certificate_pem(SK.as_bytes().to_vec()).build().unwrap_err()));

    // The credentials chain: the environment, half of it, and credentials files.
    let environment = |name: &str| match name {
        "HUAWEICLOUD_SDK_AK" => Some(AK.to_owned()),
        "HUAWEICLOUD_SDK_SK" => Some(SK.to_owned()),
        "HUAWEICLOUD_SDK_SECURITY_TOKEN" => Some(TOKEN.to_owned()),
        "HUAWEICLOUD_SDK_PROJECT_ID" => Some(PROJECT.to_owned()),
        _ => None,
    };
    let chained = Client::builder().endpoint(closed.as_str()).environment(environment).build().unwrap();
    shown.push_str(&format!("{chained:?}\n"));
    let half = |name: &str| (name == "HUAWEICLOUD_SDK_SK").then(|| SK.to_owned());
    errors.push(("half env", Client::builder().endpoint(closed.as_str()).environment(half).build().unwrap_err()));
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("credentials");
    let file_env = move |path: std::path::PathBuf| {
        move |name: &str| (name == "HUAWEICLOUD_SDK_CREDENTIALS_FILE").then(|| path.display().to_string())
    };
    std::fs::write(&file, format!("[basic]\nsk = {SK}\nsecurity_token = {TOKEN}\n")).unwrap();
    errors.push((
        "file without ak",
        Client::builder().endpoint(closed.as_str()).environment(file_env(file.clone())).build().unwrap_err(),
    ));
    std::fs::write(&file, format!("[basic]\nak = {AK}\nsk = {SK}\nsecurity_token = {TOKEN}\nproject_id = {PROJECT}\n"))
        .unwrap();
    // Readable by others, so that the chain warns about it too.
    #[cfg(unix)]
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let from_file = Client::builder().endpoint(closed.as_str()).environment(file_env(file.clone())).build().unwrap();
    shown.push_str(&format!("{from_file:?}\n"));
    errors.push((
        "file unreadable",
        Client::builder().endpoint(closed.as_str()).environment(file_env(home.path().to_owned())).build().unwrap_err(),
    ));

    // A dry run: the request carries the secrets, which only its raw headers may show.
    let dry = builder(&closed).build().unwrap().dry_run_delete_desktop_sub_resources(&request()).await.unwrap();
    let raw: HashMap<String, String> = dry.headers.iter().cloned().collect();
    assert_eq!(raw.get("x-security-token").map(String::as_str), Some(TOKEN), "the dry run signs with the token");
    shown.push_str(&format!("{dry:?}\n{dry:#?}\n{:?}\n", dry.masked_headers()));
    shown.push_str(&format!("{:?}\n{}\n{:#?}\n", credentials(), credentials(), builder(&closed)));

    for (what, error) in &errors {
        shown.push_str(&format!("{what}: {}", every_text_of(error)));
    }
    let kinds: Vec<String> =
        errors.iter().map(|(_, e)| format!("{e:?}").split(['(', ' ']).next().unwrap_or("").to_owned()).collect();
    for kind in ["Api", "Transport", "UndecodableResponse", "JobFailed", "JobTimeout", "InvalidInput", "Configuration"]
    {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} error was driven: {kinds:?}");
    }

    // Every signature that went on the wire, or into the dry run.
    let mut authorizations: Vec<String> =
        seen.lock().unwrap().iter().filter_map(|h| h.get("authorization").cloned()).collect();
    authorizations.push(raw["authorization"].clone());
    let signatures: Vec<String> = authorizations
        .iter()
        .map(|a| a.rsplit_once("Signature=").map(|(_, s)| s.trim().to_owned()).unwrap_or_default())
        .collect();
    assert!(signatures.iter().all(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())), "{signatures:?}");
    assert!(signatures.len() >= 13, "every call that reached a server was signed: {}", signatures.len());
    assert!(
        seen.lock().unwrap().iter().all(|h| h.get("x-security-token").map(String::as_str) == Some(TOKEN)),
        "every request carried the token, so every path had it at hand"
    );

    let logs = captured();
    let mut expected = vec![
        "DeleteDesktopSubResources succeeded",
        "DeleteDesktopSubResources failed",
        "retrying",
        "credentials found",
        "ShowJob",
    ];
    if cfg!(unix) {
        expected.push("can be read by other users");
    }
    for expected in expected {
        assert!(logs.contains(expected), "the capture misses {expected:?}:\n{logs}");
    }
    for (name, text) in [("logs", &logs), ("Debug/Display", &shown)] {
        for secret in [SK, TOKEN] {
            assert!(!text.contains(secret), "{name} show the secret {secret}:\n{text}");
        }
        for signature in &signatures {
            assert!(!text.contains(signature.as_str()), "{name} show a request signature {signature}:\n{text}");
        }
    }
    eprintln!(
        "secrets: {} errors, {} signatures, {} bytes of TRACE logs and {} bytes of Debug/Display text checked",
        errors.len(),
        signatures.len(),
        logs.len(),
        shown.len()
    );
}
