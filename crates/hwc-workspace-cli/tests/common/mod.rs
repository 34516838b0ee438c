//! What the CLI's integration tests share: the real binary in a clean environment, and a
//! demo simulator serving beside it.

// Each test binary includes this module and uses part of it.
#![allow(dead_code)]

use std::time::Duration;

use assert_cmd::Command;
use hwc_workspace_sim::{DEMO_AK, DEMO_PROJECT_ID, DEMO_SK, Simulator};

/// A demo simulator on its own runtime, serving while the binary runs.
pub(crate) struct Sim {
    pub(crate) simulator: Simulator,
    _runtime: tokio::runtime::Runtime,
}

pub(crate) fn sim() -> Sim {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let simulator = runtime.block_on(Simulator::start()).unwrap();
    Sim { simulator, _runtime: runtime }
}

pub(crate) fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The binary with an empty home and nothing else: no keys, no endpoint, no proxy, no
/// metadata service; bounded, so a hang fails the test.
pub(crate) fn bare(home: &tempfile::TempDir) -> Command {
    let mut cmd = Command::cargo_bin("hwc-workspace").unwrap();
    cmd.env_clear()
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env("HWC_METADATA_ENDPOINT", "off")
        .timeout(Duration::from_secs(30));
    cmd
}

/// The binary with a clean environment: an empty home, the demo credentials, and no
/// `RUST_BACKTRACE` inherited from the test run; bounded, so a hang fails the test.
pub(crate) fn cli(home: &tempfile::TempDir, endpoint: &str, timeout: &str) -> Command {
    let mut cmd = Command::cargo_bin("hwc-workspace").unwrap();
    cmd.env_clear()
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env("HWC_METADATA_ENDPOINT", "off")
        .env("HUAWEICLOUD_SDK_AK", DEMO_AK)
        .env("HUAWEICLOUD_SDK_SK", DEMO_SK)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", DEMO_PROJECT_ID)
        .args(["--endpoint", endpoint, "--timeout", timeout])
        .timeout(Duration::from_secs(30));
    cmd
}
