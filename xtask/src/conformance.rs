//! The conformance check with a client no one here wrote: Huawei's official Python SDK,
//! installed into a venv of its own, calls the simulator served by our CLI.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::{Workspace, cargo, run};

/// The official SDK, pinned so that CI runs what was checked; bump it on purpose.
pub(crate) const OFFICIAL_SDK: &str = "huaweicloudsdkworkspace==3.1.219";
/// Its core, with the signer the signing vectors were made with.
const OFFICIAL_SDK_CORE: &str = "huaweicloudsdkcore==3.1.219";
const SCRIPT: &str = "crates/hwc-workspace-sim/tests/conformance/official_sdk.py";
/// The signing vectors, and the script that makes them with the official signer.
const VECTORS: &str = "crates/hwc-sign/tests/data/sign_vectors.json";
const VECTOR_GENERATOR: &str = "crates/hwc-sign/tests/data/make_vectors.py";

pub(crate) fn test(workspace: &Workspace) -> Result<(), String> {
    let root = &workspace.root;
    let venv = workspace.target.join("conformance-venv");
    let python = venv.join("bin/python");
    let python = python.to_str().ok_or("the venv path is not UTF-8")?;
    let installed = Command::new(python)
        .args(["-c", "import huaweicloudsdkworkspace"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        run(root, "python3", &["-m", "venv", "--clear", venv.to_str().ok_or("the venv path is not UTF-8")?])?;
        run(
            root,
            python,
            &["-m", "pip", "install", "--quiet", "--disable-pip-version-check", OFFICIAL_SDK, OFFICIAL_SDK_CORE],
        )?;
    }
    // The signing vectors every signer test reads must still be what the official signer
    // produces: regenerated here, with the SDK the venv holds, and compared.
    run(root, python, &[VECTOR_GENERATOR, "--check", VECTORS])?;
    run(root, &cargo(), &["build", "--locked", "--quiet", "-p", "hwc-workspace-cli"])?;

    let binary = workspace.target.join("debug").join("hwc-workspace");
    let mut simulator = Command::new(&binary)
        .arg("simulator")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let mut announced = String::new();
    let read = simulator.stdout.take().map(|out| BufReader::new(out).read_line(&mut announced));
    let result = match read {
        Some(Ok(n)) if n > 0 => run(root, python, &[SCRIPT, "--json", announced.trim()]),
        _ => Err("the simulator did not announce itself".to_owned()),
    };
    let _ = simulator.kill();
    let _ = simulator.wait();
    result
}
