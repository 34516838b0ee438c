//! The command line where users really run: keys from an instance metadata service, the
//! project id from IAM, proxies (the environment's, `--proxy`, and `--simulate` ignoring
//! them), and environment values that are not UTF-8. Every service is a simulator or a
//! forward proxy on loopback.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use assert_cmd::Command;
use hwc_workspace_sim::forward_proxy::ForwardProxy;
use hwc_workspace_sim::{DEMO_AK, DEMO_PROJECT_ID, DEMO_SHARER_DESKTOP_IDS, DEMO_SK, Simulator};

/// A simulator and a forward proxy to it, on a runtime of their own.
struct Services {
    simulator: Simulator,
    proxy: ForwardProxy,
    runtime: tokio::runtime::Runtime,
}

impl Services {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let simulator = runtime.block_on(Simulator::start()).unwrap();
        let proxy =
            runtime.block_on(ForwardProxy::routing_to(simulator.local_addr(), Some(("alice", "s3cret")))).unwrap();
        Self { simulator, proxy, runtime }
    }
}

/// The binary with nothing but an empty home: no keys, no project, no proxy.
fn bare(home: &tempfile::TempDir) -> Command {
    let mut cmd = Command::cargo_bin("hwc-workspace").unwrap();
    cmd.env_clear().env("HOME", home.path()).env("NO_COLOR", "1").timeout(Duration::from_secs(30));
    cmd
}

fn delete(cmd: &mut Command) -> &mut Command {
    cmd.args([
        "delete-sub-resources",
        "--sub-resource-type",
        "DESKTOP_SHARER",
        "--desktop-id",
        DEMO_SHARER_DESKTOP_IDS[0],
    ])
}

#[test]
fn keys_from_the_metadata_service_and_the_project_from_iam() {
    let services = Services::start();
    let home = tempfile::tempdir().unwrap();
    let endpoint = services.simulator.endpoint();
    let output = delete(bare(&home).env("HUAWEICLOUD_SDK_IAM_ENDPOINT", endpoint).args([
        "--metadata-endpoint",
        endpoint,
        "--region",
        "cn-north-4",
        "--endpoint",
        endpoint,
    ]))
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(services.simulator.metadata_keys_issued(), 1);
    assert_eq!(services.simulator.iam_lookups(), 1);
    assert_eq!(services.simulator.jobs().len(), 1);

    // The same from HWC_METADATA_ENDPOINT; off, nothing is found, and the message says so.
    let output = delete(bare(&home).env("HWC_METADATA_ENDPOINT", endpoint).args(["--endpoint", endpoint]))
        .args(["--project-id", DEMO_PROJECT_ID])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let output = delete(bare(&home).env("HWC_METADATA_ENDPOINT", "off").args(["--endpoint", endpoint]))
        .args(["--project-id", "p"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no credentials found") && stderr.contains("instance metadata service: turned off"),
        "{stderr}"
    );
}

#[test]
fn simulate_works_whatever_proxy_is_exported() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = bare(&home);
    for variable in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
        cmd.env(variable, "http://127.0.0.1:1");
    }
    let output = delete(cmd.arg("--simulate")).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn the_proxy_option_is_used_and_its_password_never_printed() {
    let services = Services::start();
    let home = tempfile::tempdir().unwrap();
    let with_password = format!("http://alice:s3cret@{}", services.proxy.local_addr());
    let keys = |cmd: &mut Command| {
        cmd.env("HUAWEICLOUD_SDK_AK", DEMO_AK)
            .env("HUAWEICLOUD_SDK_SK", DEMO_SK)
            .env("HUAWEICLOUD_SDK_PROJECT_ID", DEMO_PROJECT_ID);
    };
    // A name that is not loopback, so that only the proxy can reach it.
    let endpoint = format!("http://workspace.proxied.test:{}", services.simulator.local_addr().port());
    let mut cmd = bare(&home);
    keys(&mut cmd);
    let output = delete(cmd.args(["--endpoint", &endpoint, "--proxy", &with_password, "-vv"])).output().unwrap();
    let everything = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{everything}");
    assert!(!everything.contains("s3cret"), "{everything}");
    assert_eq!(services.proxy.requests().len(), 1);
    // From the environment, the same.
    let mut cmd = bare(&home);
    keys(&mut cmd);
    let output = delete(cmd.env("HTTP_PROXY", &with_password).args(["--endpoint", &endpoint])).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(services.proxy.requests().len(), 2);
    // A dry run and a proxy that is down: the password is shown nowhere.
    let down = "http://alice:s3cret@127.0.0.1:1";
    for extra in [vec!["--dry-run"], vec![]] {
        let mut cmd = bare(&home);
        keys(&mut cmd);
        let output =
            delete(cmd.args(["--endpoint", &endpoint, "--proxy", down, "-vvv"]).args(&extra)).output().unwrap();
        let everything =
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(!everything.contains("s3cret"), "{everything}");
        assert_eq!(output.status.code(), Some(if extra.is_empty() { 5 } else { 0 }), "{everything}");
    }
    drop(services.runtime);
}

#[test]
fn a_variable_that_is_not_utf8_is_named_and_nothing_is_sent() {
    let services = Services::start();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".huaweicloud")).unwrap();
    std::fs::write(
        home.path().join(".huaweicloud/credentials"),
        format!("[basic]\nak = {DEMO_AK}\nsk = {DEMO_SK}\nproject_id = {DEMO_PROJECT_ID}\n"),
    )
    .unwrap();
    for variable in
        ["HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_SDK_PROJECT_ID", "HTTPS_PROXY"]
    {
        let output = delete(
            bare(&home)
                .env(variable, OsStr::from_bytes(b"\xff\xfe"))
                .args(["--endpoint", services.simulator.endpoint()]),
        )
        .output()
        .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{variable}: {stderr}");
        assert!(stderr.contains(variable) && stderr.contains("UTF-8"), "{stderr}");
    }
    assert_eq!(services.simulator.request_count(), 0, "nothing was signed with the file's keys");
}
