//! TLS from the command line: certificates are verified by default, so a self-signed loopback
//! server is refused (exit 5, a message naming the certificate problem, a `--ca-cert` hint);
//! the same server is accepted with `--ca-cert`; and no flag or environment variable turns
//! verification off.

mod common;
#[path = "../../hwc-workspace/tests/support/self_signed.rs"]
mod self_signed;

use assert_cmd::Command;
use serde_json::Value;

/// The core tests' self-signed server, on its own runtime while the binary runs in the test
/// thread.
struct SelfSigned {
    endpoint: String,
    pem: String,
    _runtime: tokio::runtime::Runtime,
}

impl SelfSigned {
    fn start() -> Self {
        let (acceptor, pem) = self_signed::certificate();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let endpoint = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
        runtime.spawn(self_signed::serve(listener, acceptor));
        Self { endpoint, pem, _runtime: runtime }
    }
}

/// The binary deleting one desktop's sharer against `endpoint`.
fn delete(home: &tempfile::TempDir, endpoint: &str) -> Command {
    let mut cmd = common::cli(home, endpoint, "10");
    cmd.args(["delete-sub-resources", "--desktop-id", "d-1", "--sub-resource-type", "DESKTOP_SHARER"]);
    cmd
}

#[test]
fn a_self_signed_server_is_refused_with_a_certificate_error() {
    let server = SelfSigned::start();
    let home = tempfile::tempdir().unwrap();
    let output = delete(&home, &server.endpoint).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    // The batch's record says the same, with no job.
    let record: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(record["job_id"].is_null(), "{record}");
    assert!(record["error"]["message"].as_str().unwrap().contains("certificate"), "{record}");
    let error = stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(error.contains("TLS handshake") && error.contains(&server.endpoint), "{stderr}");
    assert!(
        error.to_ascii_lowercase().contains("certificate"),
        "the error must say it is a certificate problem: {stderr}"
    );
    assert!(stderr.lines().any(|l| l.starts_with("hint:") && l.contains("--ca-cert")), "{stderr}");
}

#[test]
fn the_same_server_is_accepted_with_ca_cert() {
    let server = SelfSigned::start();
    let home = tempfile::tempdir().unwrap();
    let ca = home.path().join("ca.pem");
    std::fs::write(&ca, &server.pem).unwrap();
    let output = delete(&home, &server.endpoint).arg("--ca-cert").arg(&ca).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let record: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(record["job_id"], self_signed::JOB_ID);
    assert_eq!(record["request_id"], self_signed::REQUEST_ID);

    // A CA file that cannot be used is a configuration error before anything is sent.
    let missing = home.path().join("missing.pem");
    let output = delete(&home, &server.endpoint).arg("--ca-cert").arg(&missing).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.pem"));
}

#[test]
fn nothing_turns_certificate_verification_off() {
    let home = tempfile::tempdir().unwrap();
    // No flag for it in any help text.
    for args in [vec!["--help"], vec!["delete-sub-resources", "--help"], vec!["job", "show", "--help"]] {
        let output = Command::cargo_bin("hwc-workspace").unwrap().env_clear().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        let help = String::from_utf8_lossy(&output.stdout).to_ascii_lowercase();
        for word in ["insecure", "no-verify", "skip-verify", "verify", "danger", "accept-invalid"] {
            assert!(!help.contains(word), "{args:?} mentions {word}:\n{help}");
        }
    }
    let server = SelfSigned::start();
    // Flags other tools use for it are usage errors, not silently accepted.
    for flag in ["--insecure", "--no-verify", "-k"] {
        let output = delete(&home, &server.endpoint).arg(flag).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{flag}: {}", String::from_utf8_lossy(&output.stderr));
    }
    // Variables other tools read to weaken verification change nothing.
    let output = delete(&home, &server.endpoint)
        .env("PYTHONHTTPSVERIFY", "0")
        .env("CURL_CA_BUNDLE", "")
        .env("REQUESTS_CA_BUNDLE", "")
        .env("NODE_TLS_REJECT_UNAUTHORIZED", "0")
        .env("HUAWEICLOUD_SDK_IGNORE_SSL_VERIFICATION", "true")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5), "{}", String::from_utf8_lossy(&output.stderr));
}
