//! What the CLI's fault and TLS tests share: the real binary in a clean environment.

use std::time::Duration;

use assert_cmd::Command;
use hwc_workspace_sim::{DEMO_AK, DEMO_PROJECT_ID, DEMO_SK};

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
