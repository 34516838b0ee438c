//! `cargo xtask`: the project's tasks, so that CI and a newcomer run exactly the same steps.
//!
//! - `regenerate`: rewrite every artifact derived from the spec.
//! - `check`: fail, with a diff and the fixing command, when any of them is stale; and the
//!   tidy checks (generated headers, `//!` file docs).
//! - `test`: `check`, then every test of the repository: the Rust tests, the conformance
//!   check with Huawei's official SDK, and the Python tests.
//! - `bench`: the benchmark against bare HTTP loops and the official SDK (not a test).

mod artifacts;
mod bench;
mod conformance;
mod python;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("regenerate") => artifacts::regenerate(&root),
        Some("check") => check(&root),
        Some("test") => check(&root).and_then(|()| test(&root)),
        Some("bench") => bench::bench(&root, &args[1..]),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask <regenerate | check | test | bench [--quick]>
  regenerate  rewrite every artifact derived from openapi/workspace.yaml
  check       fail when a derived artifact is stale, or a tidy rule is broken
  test        check, then run every test of the repository
  bench       measure our clients against bare HTTP loops and the official SDK on loopback
              (installs nginx and a venv); writes target/bench/report.md and report.svg";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace root").to_path_buf()
}

fn check(root: &Path) -> Result<(), String> {
    artifacts::check(root)?;
    tidy::check(root)?;
    println!("xtask check: derived artifacts are fresh, tidy rules hold");
    Ok(())
}

fn test(root: &Path) -> Result<(), String> {
    run(root, "cargo", &["test", "--workspace", "--locked", "--all-targets"])?;
    run(root, "cargo", &["test", "--workspace", "--locked", "--doc"])?;
    conformance::test(root)?;
    python::test(root)?;
    Ok(())
}

/// Runs a command in the workspace root, failing with its name when it fails.
pub(crate) fn run(root: &Path, program: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("xtask: running {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{program} {}` failed ({status})", args.join(" "))) }
}
