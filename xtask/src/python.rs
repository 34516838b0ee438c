//! The Python package's tests: a fresh venv in `target/py-venv`, the package built from
//! `python/` by pip through maturin (as a user installs it), then pytest and `mypy.stubtest`
//! against what was installed.

use std::path::{Path, PathBuf};

use crate::Workspace;

/// Test tools, with the versions the tests and stubs are written for.
const TOOLS: [&str; 3] = ["maturin>=1.9,<2", "pytest>=7", "mypy>=1.18"];

pub(crate) fn test(workspace: &Workspace) -> Result<(), String> {
    let root = &workspace.root;
    let venv = workspace.target.join("py-venv");
    // Always fresh: a venv left by an earlier run may hold an older build or other packages.
    if venv.exists() {
        std::fs::remove_dir_all(&venv).map_err(|e| format!("cannot remove {}: {e}", venv.display()))?;
    }
    let bin = venv.join(if cfg!(windows) { "Scripts" } else { "bin" });
    let python = bin.join(if cfg!(windows) { "python.exe" } else { "python" });
    let (venv, python) = (utf8(&venv)?, utf8(&python)?);

    crate::run(root, if cfg!(windows) { "python" } else { "python3" }, &["-m", "venv", venv])?;
    let pip = [python, "-m", "pip", "--disable-pip-version-check"];
    crate::run(root, python, &[&pip[1..], &["install", "--quiet"], &TOOLS[..]].concat())?;

    // `--no-build-isolation` builds with the maturin just installed instead of fetching it
    // again; pip then runs `maturin` by name, so the venv's scripts must be on PATH. The dev
    // profile reuses the workspace's debug artifacts: the tests need no optimised build.
    let mut paths = vec![bin];
    paths.extend(
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<PathBuf>>()).unwrap_or_default(),
    );
    let path = std::env::join_paths(paths).map_err(|e| format!("cannot build PATH: {e}"))?;
    let path = format!("PATH={}", path.to_str().ok_or("PATH is not UTF-8")?);
    let install =
        ["install", "--quiet", "--no-build-isolation", "--config-settings=build-args=--profile dev", "./python"];
    crate::run(root, "env", &[&[path.as_str()], &pip[..], &install[..]].concat())?;

    crate::run(root, python, &["-m", "pytest", "python/tests", "-q"])?;
    // The config sets no cache, so nothing is written into the source tree.
    crate::run(root, python, &["-m", "mypy.stubtest", "--mypy-config-file", "python/pyproject.toml", "hwc_workspace"])?;
    Ok(())
}

fn utf8(path: &Path) -> Result<&str, String> {
    path.to_str().ok_or_else(|| format!("the path {} is not UTF-8", path.display()))
}
