//! The Python package's tests, against the wheel users install: built once (abi3, release,
//! manylinux; [`crate::dist::wheel`]), installed into a fresh venv of every CPython from 3.9
//! to 3.13 the machine has, with no Rust toolchain on `PATH`, then pytest in each and
//! `mypy.stubtest` in one.

use std::path::Path;
use std::process::Command;

use crate::Workspace;
use crate::dist::{path_without_rust, pythons, utf8};
use crate::summary::PythonTotal;

/// Test tools, with the versions the tests and stubs are written for.
const TOOLS: [&str; 2] = ["pytest>=7", "mypy>=1.18"];

/// Builds the wheel into `target/wheel/` and tests it on every CPython found, adding each
/// version's pytest summary to `total`.
pub(crate) fn test(workspace: &Workspace, total: &mut PythonTotal) -> Result<(), String> {
    let out = workspace.target.join("wheel");
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| format!("cannot clear {}: {e}", out.display()))?;
    }
    let venv = crate::dist::build_venv(workspace)?;
    let wheel = crate::dist::wheel(workspace, &venv, &out)?;
    test_wheel(workspace, &wheel, total)
}

/// Installs `wheel` into a fresh venv of each CPython found and runs the tests there; fails
/// when fewer than two versions are found (one would say nothing about the others). A version
/// whose tests fail is reported at once, with pytest's output, and the other versions still run,
/// so that the total counts every version and the failure shows which versions it hits.
pub(crate) fn test_wheel(workspace: &Workspace, wheel: &Path, total: &mut PythonTotal) -> Result<(), String> {
    let root = &workspace.root;
    let found = pythons();
    let names: Vec<String> = found.iter().map(|(minor, path)| format!("3.{minor} ({})", path.display())).collect();
    eprintln!("xtask: CPython versions found: {}", names.join(", "));
    if found.len() < 2 {
        total.incomplete = Some("fewer than two CPython versions 3.9-3.13 found".to_owned());
        return Err(format!(
            "the wheel is to be tested on every CPython from 3.9 to 3.13, and only {} was found; install more \
             (e.g. `pyenv install 3.9 3.13`; see the README's \"What `cargo xtask test` needs\")",
            if names.is_empty() { "none".to_owned() } else { names.join(", ") }
        ));
    }
    // The stubs are checked once, by the `python3` on PATH (mypy's checks of `TYPE_CHECKING`
    // imports differ on old versions), else the newest version found.
    let stub_checker = default_minor().filter(|m| found.iter().any(|(f, _)| f == m)).or(found.last().map(|(m, _)| *m));
    let mut failures = Vec::new();
    for (minor, interpreter) in &found {
        let version = format!("3.{minor}");
        let checks_stubs = Some(*minor) == stub_checker;
        let venv = workspace.target.join(format!("wheel-venvs/{version}"));
        // Always fresh: a venv left by an earlier run may hold an older build.
        if venv.exists() {
            std::fs::remove_dir_all(&venv).map_err(|e| format!("cannot remove {}: {e}", venv.display()))?;
        }
        crate::run(root, utf8(interpreter)?, &["-m", "venv", utf8(&venv)?])?;
        let bin = venv.join("bin");
        let python = bin.join("python");
        let path = path_without_rust(&bin)?;
        let tools: &[&str] = if checks_stubs { &TOOLS } else { &TOOLS[..1] };
        let mut pip = without_rust(&python, &path);
        pip.args(["-m", "pip", "--disable-pip-version-check", "install", "--quiet", utf8(wheel)?]).args(tools);
        run_checked(&mut pip, "pip install")?;
        eprintln!("xtask: running pytest on CPython {version}");
        let output = without_rust(&python, &path)
            .args(["-m", "pytest", "python/tests", "-q"])
            .current_dir(root)
            .output()
            .map_err(|e| format!("cannot run pytest: {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let summary = match total.add_run(&version, &stdout) {
            Ok(_) => stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().to_owned(),
            Err(e) => {
                total.incomplete.get_or_insert_with(|| e.clone());
                e
            }
        };
        eprintln!("xtask: CPython {version}: {summary}");
        if !output.status.success() {
            // The failure's output now, next to the version it belongs to.
            eprintln!(
                "xtask: the Python tests failed on CPython {version} ({}):\n{stdout}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
            failures.push(version);
            continue;
        }
        if checks_stubs {
            // The config sets no cache, so nothing is written into the source tree.
            let mut stubtest = without_rust(&python, &path);
            stubtest
                .args(["-m", "mypy.stubtest", "--mypy-config-file", "python/pyproject.toml", "hwc_workspace"])
                .current_dir(root);
            if let Err(e) = run_checked(&mut stubtest, "mypy.stubtest") {
                failures.push(format!("{version} ({e})"));
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("the Python tests failed on CPython {} (their output is above)", failures.join(", ")))
    }
}

/// The minor version of the `python3` on `PATH`.
fn default_minor() -> Option<u32> {
    let output = Command::new("python3").args(["-c", "import sys; print(sys.version_info[1])"]).output().ok()?;
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

/// `python` with `PATH` free of any Rust toolchain and no cargo or rustup variables.
fn without_rust(python: &Path, path: &str) -> Command {
    let mut command = Command::new(python);
    command.env("PATH", path);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("CARGO") || name.starts_with("RUSTUP") || name.starts_with("RUSTC") {
            command.env_remove(name);
        }
    }
    command
}

fn run_checked(command: &mut Command, what: &str) -> Result<(), String> {
    eprintln!("xtask: running {what}");
    let status = command.status().map_err(|e| format!("cannot run {what}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{what} failed ({status})")) }
}
