//! `cargo xtask`: the project's tasks, so that CI and a newcomer run exactly the same steps.
//!
//! - `regenerate`: rewrite every artifact derived from the spec.
//! - `check`: fail, with a diff and the fixing command, when any of them is stale; the tidy
//!   checks (generated headers, `//!` file docs); the real minimum `rust-version`; `cargo fmt
//!   --check` and clippy with `-D warnings`; `cargo package` of every publishable crate.
//! - `test`: `check`, then every test of the repository: the Rust tests, the spec proof, the
//!   conformance check with Huawei's official SDK (and of the signing vectors), and the
//!   Python tests against the built wheel on every CPython 3.9-3.13 found. It ends with the
//!   time of each step and the space `target/` takes, then one total line for the Rust tests
//!   and one for the Python tests ([`summary`]), after any error.
//! - `spec-proof`: renamed response fields in a copy of the spec must break the simulator.
//! - `dist`: the wheel, sdist and CLI archive users install; `--check` tests the wheel.
//! - `bench`: the benchmark against bare HTTP loops and the official SDK (not a test).

mod artifacts;
mod bench;
mod conformance;
mod dist;
mod layers;
mod packages;
mod python;
mod spec_proof;
mod summary;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use summary::{PythonTotal, RustTotal};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The lines that close the output, printed after any error: the totals a reader (and CI)
    // looks for at the very end.
    let mut closing = Vec::new();
    let result = Workspace::locate().and_then(|workspace| match args.first().map(String::as_str) {
        Some("regenerate") => artifacts::regenerate(&workspace.root),
        Some("check") => check(&workspace),
        Some("test") => test(&workspace, &mut closing),
        Some("bench") => bench::bench(&workspace, &args[1..]),
        Some("dist") => dist::dist(&workspace, &args[1..], &mut closing),
        Some("spec-proof") => spec_proof::test(&workspace.root, &workspace.target),
        _ => Err(USAGE.to_owned()),
    });
    if let Err(message) = &result {
        eprintln!("error: {message}");
    }
    for line in &closing {
        println!("{line}");
    }
    if result.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

const USAGE: &str = "usage: cargo xtask <regenerate | check | test | dist [--check] | bench [--quick]>
  regenerate  rewrite every artifact derived from openapi/workspace.yaml
  check       fail when a derived artifact is stale, a tidy rule is broken, the tree is not
              formatted (cargo fmt) or clippy warns
  test        check, then run every test of the repository; ends with one total line for the
              Rust tests and one for the Python tests
  spec-proof  show that renaming response fields in the spec breaks the simulator's build
  dist        build the wheel, the sdist and the CLI archive into target/dist (--check: and
              test the wheel on every CPython 3.9-3.13 found)
  bench       measure our clients against bare HTTP loops and the official SDK on loopback
              (installs nginx and a venv); writes target/bench/report.md and report.svg";

/// The checkout being worked on and where cargo builds it, both asked of cargo at run time:
/// with a shared `CARGO_TARGET_DIR`, one xtask binary serves several checkouts, so the path it
/// was compiled at says nothing about the tree to check.
pub(crate) struct Workspace {
    pub(crate) root: PathBuf,
    pub(crate) target: PathBuf,
}

impl Workspace {
    pub(crate) fn locate() -> Result<Self, String> {
        let output = Command::new(cargo())
            .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
            .output()
            .map_err(|e| format!("cannot run `cargo metadata`: {e}"))?;
        if !output.status.success() {
            return Err(format!("`cargo metadata` failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
        }
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| format!("`cargo metadata` printed something that is not JSON: {e}"))?;
        let path = |key: &str| {
            metadata[key].as_str().map(PathBuf::from).ok_or_else(|| format!("`cargo metadata` gave no {key}"))
        };
        Ok(Self { root: path("workspace_root")?, target: path("target_directory")? })
    }
}

/// The cargo that runs this xtask (cargo sets `CARGO`), else the one on PATH.
pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn check(workspace: &Workspace) -> Result<(), String> {
    let root = &workspace.root;
    artifacts::check(root)?;
    tidy::check(root)?;
    layers::check(root)?;
    dist::rust_version_check(root)?;
    // Gates, not habits: the formatting of `rustfmt.toml`, and clippy with every warning an
    // error (the workspace lints include `unreachable_pub`; the library crates add
    // `missing_docs`).
    run(root, &cargo(), &["fmt", "--all", "--", "--check"]).map_err(|e| format!("{e}\n  fix: cargo fmt --all"))?;
    run(root, &cargo(), &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])?;
    dist::package_check(root)?;
    println!(
        "xtask check: derived artifacts are fresh, tidy rules hold, the core's layers hold, rust-version is the real minimum, formatted, \
         clippy clean, the publishable crates package"
    );
    Ok(())
}

/// What `cargo xtask test` measured, for its closing lines.
#[derive(Default)]
struct TestRun {
    steps: Vec<(&'static str, Duration)>,
    /// The step that failed, if one did.
    failed: Option<&'static str>,
    rust: Option<RustTotal>,
    python: Option<PythonTotal>,
}

impl TestRun {
    /// Runs one step, timing it and noting its failure.
    fn step(&mut self, name: &'static str, f: impl FnOnce(&mut Self) -> Result<(), String>) -> Result<(), String> {
        let started = Instant::now();
        let result = f(self);
        self.steps.push((name, started.elapsed()));
        if result.is_err() {
            self.failed = Some(name);
        }
        result
    }
}

fn test(workspace: &Workspace, closing: &mut Vec<String>) -> Result<(), String> {
    let started = Instant::now();
    let mut run = TestRun::default();
    let result = test_steps(workspace, &mut run);
    let steps: Vec<String> = run.steps.iter().map(|(name, time)| format!("{name} {} s", time.as_secs())).collect();
    closing.push(format!(
        "xtask test: {} s in all ({}); target/ holds {}",
        started.elapsed().as_secs(),
        steps.join(", "),
        summary::disk_use(&workspace.target)
    ));
    let not_run = |what: &str| match run.failed {
        Some(step) => format!("{what}: not run ({step} failed first)"),
        None => format!("{what}: not run"),
    };
    closing.push(run.rust.as_ref().map_or_else(|| not_run("Rust"), RustTotal::line));
    closing.push(run.python.as_ref().map_or_else(|| not_run("Python"), PythonTotal::line));
    result
}

fn test_steps(workspace: &Workspace, run: &mut TestRun) -> Result<(), String> {
    let root = &workspace.root;
    run.step("check", |_| check(workspace))?;
    run.step("Rust tests", |run| {
        // The completion tests run the fish script in fish (bash is everywhere already).
        packages::installed(root, "fish", "fish")?;
        let rust = run.rust.insert(RustTotal::default());
        // Every test binary runs even when one fails, and the doc tests after them, so that
        // the total counts every test.
        let all_targets =
            rust.run_cargo_test(root, &["test", "--workspace", "--locked", "--all-targets", "--no-fail-fast"]);
        let doc = rust.run_cargo_test(root, &["test", "--workspace", "--locked", "--doc", "--no-fail-fast"]);
        all_targets.and(doc)
    })?;
    run.step("spec proof", |_| spec_proof::test(root, &workspace.target))?;
    run.step("conformance", |_| conformance::test(workspace))?;
    run.step("Python tests", |run| {
        let started = Instant::now();
        let python = run.python.insert(PythonTotal::default());
        let result = python::test(workspace, python);
        python.time = started.elapsed();
        if result.is_err() && python.versions.is_empty() {
            python.incomplete.get_or_insert_with(|| "no CPython's tests ran".to_owned());
        }
        result
    })
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
