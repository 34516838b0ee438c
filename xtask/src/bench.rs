//! `cargo xtask bench [--quick]`: builds the release binaries, installs what the figures need
//! (nginx, curl and valgrind from the distribution's packages, a venv with Huawei's official SDK and our
//! Python package built in release), then runs `hwc-workspace-bench`, which measures, prints
//! the table and writes `target/bench/report.md` and `report.svg`. Not part of the tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::conformance::OFFICIAL_SDK;
use crate::packages::installed;
use crate::{Workspace, cargo, run};

/// The build backend of `python/`, as `python.rs` installs it for the tests.
const MATURIN: &str = "maturin>=1.9,<2";

pub(crate) fn bench(workspace: &Workspace, args: &[String]) -> Result<(), String> {
    let root = &workspace.root;
    let quick = match args {
        [] => false,
        [flag] if flag == "--quick" => true,
        _ => return Err("usage: cargo xtask bench [--quick]".to_owned()),
    };
    run(root, &cargo(), &["build", "--release", "--locked", "-p", "hwc-workspace-cli", "-p", "hwc-workspace-bench"])?;
    let (nginx, curl) = (installed(root, "nginx", "nginx")?, installed(root, "curl", "curl")?);
    // callgrind counts the instructions per call.
    let valgrind = installed(root, "valgrind", "valgrind")?;
    // GNU time measures the dry run's peak memory.
    installed(root, "time", "time")?;
    let python = venv(workspace)?;

    let release = workspace.target.join("release");
    let (binary, cli, out) =
        (release.join("hwc-workspace-bench"), release.join("hwc-workspace"), workspace.target.join("bench"));
    let mut bench_args = vec![
        "--root",
        utf8(root)?,
        "--python",
        utf8(&python)?,
        "--nginx",
        utf8(&nginx)?,
        "--curl",
        utf8(&curl)?,
        "--valgrind",
        utf8(&valgrind)?,
        "--cli",
        utf8(&cli)?,
        "--out",
        utf8(&out)?,
    ];
    if quick {
        bench_args.push("--quick");
    }
    run(root, utf8(&binary)?, &bench_args)
}

/// `target/bench-venv` with the official SDK and maturin (installed once) and our package,
/// rebuilt in release from the current sources every time; returns its python.
fn venv(workspace: &Workspace) -> Result<PathBuf, String> {
    let root = &workspace.root;
    let venv = workspace.target.join("bench-venv");
    let bin = venv.join("bin");
    let python = bin.join("python");
    let ready = Command::new(&python)
        .args(["-c", "import huaweicloudsdkworkspace, maturin"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let python_text = utf8(&python)?;
    let pip = [python_text, "-m", "pip", "--disable-pip-version-check"];
    if !ready {
        run(root, "python3", &["-m", "venv", "--clear", utf8(&venv)?])?;
        run(root, python_text, &[&pip[1..], &["install", "--quiet", OFFICIAL_SDK, MATURIN]].concat())?;
    }
    // As in python.rs: pip runs `maturin` by name, so the venv's scripts go first on PATH.
    // maturin builds in release unless told otherwise.
    let mut paths = vec![bin];
    paths.extend(
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<PathBuf>>()).unwrap_or_default(),
    );
    let path = std::env::join_paths(paths).map_err(|e| format!("cannot build PATH: {e}"))?;
    let path = format!("PATH={}", path.to_str().ok_or("PATH is not UTF-8")?);
    let install = ["install", "--quiet", "--no-build-isolation", "--force-reinstall", "--no-deps", "./python"];
    run(root, "env", &[&[path.as_str()], &pip[..], &install[..]].concat())?;
    Ok(python)
}

fn utf8(path: &Path) -> Result<&str, String> {
    path.to_str().ok_or_else(|| format!("the path {} is not UTF-8", path.display()))
}
