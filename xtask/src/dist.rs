//! Distribution: what users install, built and checked the way they will get it.
//!
//! - `cargo xtask dist` builds into `target/dist/`: the abi3 wheel (CPython 3.9+,
//!   `manylinux_2_17`, linked with maturin's zig linker from the package registry and checked
//!   by `auditwheel show`), the sdist, and the CLI as a stripped release binary with its shell
//!   completions and man page (a `.tar.gz`); it prints each artifact's size.
//! - `cargo xtask dist --check` also installs the wheel into a fresh venv of every CPython
//!   from 3.9 to 3.13 found, with no Rust toolchain on `PATH`, and runs the Python tests there
//!   (`cargo xtask test` runs the same through [`wheel_tests`]).
//! - [`package_check`] and [`rust_version_check`] are part of `cargo xtask check`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Workspace;

/// The crates meant for the crate registry; every other member is `publish = false`.
pub(crate) const PUBLISHED: [&str; 5] =
    ["hwc-sign", "hwc-workspace-codegen", "hwc-workspace", "hwc-workspace-sim", "hwc-workspace-cli"];

/// What builds the wheel: maturin, and zig as the linker for an old-glibc (manylinux2014)
/// target; auditwheel to check the tag.
const BUILD_TOOLS: [&str; 3] = ["maturin>=1.9,<2", "ziglang>=0.13", "auditwheel>=6"];

/// The CPython minor versions the package supports, and so the ones its wheel is tested on.
const PYTHONS: std::ops::RangeInclusive<u32> = 9..=13;

pub(crate) fn dist(workspace: &Workspace, args: &[String], closing: &mut Vec<String>) -> Result<(), String> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => return Err("usage: cargo xtask dist [--check]".to_owned()),
    };
    let out = workspace.target.join("dist");
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| format!("cannot clear {}: {e}", out.display()))?;
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let venv = build_venv(workspace)?;
    let wheel = wheel(workspace, &venv, &out)?;
    let maturin = venv.join("bin/maturin");
    // maturin first looks for a `Cargo.toml` beside `pyproject.toml` and says so ("manifest
    // path `Cargo.toml` does not exist") before it reads the `manifest-path` there; harmless.
    crate::run(&workspace.root.join("python"), utf8(&maturin)?, &["sdist", "--out", utf8(&out)?])?;
    cli_archive(workspace, &out)?;
    report_sizes(&out)?;
    if check {
        let mut total = crate::summary::PythonTotal::default();
        let started = std::time::Instant::now();
        let result = crate::python::test_wheel(workspace, &wheel, &mut total);
        total.time = started.elapsed();
        closing.push(total.line());
        return result;
    }
    Ok(())
}

/// The venv with the build tools, made once per target directory.
pub(crate) fn build_venv(workspace: &Workspace) -> Result<PathBuf, String> {
    let venv = workspace.target.join("dist-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        crate::run(&workspace.root, "python3", &["-m", "venv", utf8(&venv)?])?;
    }
    let pip = [utf8(&python)?, "-m", "pip", "--disable-pip-version-check", "install", "--quiet"];
    crate::run(&workspace.root, pip[0], &[&pip[1..], &BUILD_TOOLS[..]].concat())?;
    Ok(venv)
}

/// Builds the abi3 manylinux wheel into `out` and checks its platform tag; returns its path.
pub(crate) fn wheel(workspace: &Workspace, venv: &Path, out: &Path) -> Result<PathBuf, String> {
    let bin = venv.join("bin");
    // maturin finds zig through the venv's `python-zig` (ziglang), so the venv goes first.
    let path = prepend_path(&bin)?;
    let maturin = bin.join("maturin");
    let args = ["build", "--release", "--locked", "--zig", "--compatibility", "manylinux2014", "--out", utf8(out)?];
    crate::run(&workspace.root.join("python"), "env", &[&[path.as_str(), utf8(&maturin)?], &args[..]].concat())?;
    let wheel = files_ending(out, ".whl")?.into_iter().next().ok_or("maturin built no wheel")?;
    let shown = Command::new(bin.join("auditwheel"))
        .args(["show", utf8(&wheel)?])
        .output()
        .map_err(|e| format!("cannot run auditwheel: {e}"))?;
    let text = String::from_utf8_lossy(&shown.stdout);
    if !shown.status.success() || !text.contains("\"manylinux_2_17_x86_64\"") {
        return Err(format!(
            "the wheel is not manylinux_2_17 compliant:\n{text}{}",
            String::from_utf8_lossy(&shown.stderr)
        ));
    }
    eprintln!("xtask: auditwheel: {} is manylinux_2_17_x86_64", wheel.display());
    Ok(wheel)
}

/// The CLI, stripped (the release profile strips symbols), with its completions and man page,
/// as `hwc-workspace-<version>-<target>.tar.gz`.
fn cli_archive(workspace: &Workspace, out: &Path) -> Result<(), String> {
    crate::run(&workspace.root, &crate::cargo(), &["build", "--release", "--locked", "-p", "hwc-workspace-cli"])?;
    let binary = workspace.target.join("release/hwc-workspace");
    // `hwc-workspace 0.1.0`: the CLI's own version, not this tool's.
    let version = Command::new(&binary).arg("--version").output().map_err(|e| format!("cannot run the CLI: {e}"))?;
    let version = String::from_utf8_lossy(&version.stdout).split_whitespace().nth(1).unwrap_or("unknown").to_owned();
    let name = format!("hwc-workspace-{version}-{}", host_target()?);
    let dir = out.join(&name);
    std::fs::create_dir_all(dir.join("completions")).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    std::fs::copy(&binary, dir.join("hwc-workspace")).map_err(|e| format!("cannot copy {}: {e}", binary.display()))?;
    for (args, file) in [
        (&["completions", "bash"][..], "completions/hwc-workspace.bash"),
        (&["completions", "zsh"][..], "completions/_hwc-workspace"),
        (&["completions", "fish"][..], "completions/hwc-workspace.fish"),
        (&["manpage"][..], "hwc-workspace.1"),
    ] {
        let output = Command::new(&binary).args(args).output().map_err(|e| format!("cannot run the CLI: {e}"))?;
        if !output.status.success() {
            return Err(format!("hwc-workspace {} failed", args.join(" ")));
        }
        std::fs::write(dir.join(file), &output.stdout).map_err(|e| format!("cannot write {file}: {e}"))?;
    }
    let archive = format!("{name}.tar.gz");
    crate::run(out, "tar", &["-czf", &archive, &name])?;
    std::fs::remove_dir_all(&dir).map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
    Ok(())
}

fn report_sizes(out: &Path) -> Result<(), String> {
    println!("xtask dist: in {}", out.display());
    let mut entries: Vec<_> = std::fs::read_dir(out)
        .map_err(|e| format!("cannot list {}: {e}", out.display()))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        println!("  {:>9.2} MB  {}", size as f64 / 1e6, entry.file_name().to_string_lossy());
    }
    Ok(())
}

/// Every publishable crate passes `cargo package` with verification: each builds from its
/// packaged files alone (against the others packaged the same way).
pub(crate) fn package_check(root: &Path) -> Result<(), String> {
    forget_packaged_sources()?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    forget_packaged_builds(&target)?;
    let mut args = vec!["package", "--locked", "--allow-dirty"];
    for name in PUBLISHED {
        args.extend(["-p", name]);
    }
    crate::run(root, &crate::cargo(), &args)
}

/// The verification builds our packaged crates as registry crates, which cargo takes to be
/// unchanged while their version is (their fingerprint is the version): a build script
/// compiled and run against an earlier packaged codegen would give the earlier code. So every
/// fingerprint of our crates is removed first, which makes cargo build them again; every other
/// crate is left alone. On a fresh target (CI's) there is nothing to remove; locally it costs
/// one rebuild of our crates.
fn forget_packaged_builds(target: &Path) -> Result<(), String> {
    let Ok(entries) = std::fs::read_dir(target.join("debug").join(".fingerprint")) else { return Ok(()) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = PUBLISHED.iter().any(|published| {
            name.strip_prefix(published)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|hash| hash.chars().all(|c| c.is_ascii_hexdigit()))
        });
        if ours {
            std::fs::remove_dir_all(entry.path())
                .map_err(|e| format!("cannot remove the stale fingerprint {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Cargo verifies each packaged crate against the others through a temporary local registry,
/// and unpacks that registry's crates under `$CARGO_HOME/registry/src/<hash of its path>/`. An
/// unpacked crate is reused whenever its directory already exists, so a second run from the same
/// checkout path (CI's, every time) verified against the sources of an earlier run with the same
/// version number, and failed on code that had since changed. Only directories of our own
/// crates, outside crates.io's, are removed: nothing else in the cargo home is touched.
fn forget_packaged_sources() -> Result<(), String> {
    let cargo_home = match std::env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home),
        None => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".cargo"),
            None => return Ok(()),
        },
    };
    let sources = cargo_home.join("registry").join("src");
    let Ok(registries) = std::fs::read_dir(&sources) else { return Ok(()) };
    for registry in registries.flatten() {
        if registry.file_name().to_string_lossy().starts_with("index.crates.io-") {
            continue;
        }
        let Ok(crates) = std::fs::read_dir(registry.path()) else { continue };
        for unpacked in crates.flatten() {
            let name = unpacked.file_name().to_string_lossy().into_owned();
            let ours = PUBLISHED.iter().any(|published| {
                name.strip_prefix(published)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
            });
            if ours {
                std::fs::remove_dir_all(unpacked.path())
                    .map_err(|e| format!("cannot remove the stale unpacked {}: {e}", unpacked.path().display()))?;
            }
        }
    }
    Ok(())
}

/// The workspace's `rust-version` is the real minimum: the highest `rust-version` of the
/// locked packages the publishable crates build with (normal and build dependencies).
pub(crate) fn rust_version_check(root: &Path) -> Result<(), String> {
    let output = Command::new(crate::cargo())
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata is not JSON: {e}"))?;
    let packages: BTreeMap<&str, &serde_json::Value> =
        metadata["packages"].as_array().into_iter().flatten().filter_map(|p| Some((p["id"].as_str()?, p))).collect();
    let nodes: BTreeMap<&str, &serde_json::Value> = metadata["resolve"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let mut stack: Vec<&str> = packages
        .iter()
        .filter(|(_, p)| p["name"].as_str().is_some_and(|n| PUBLISHED.contains(&n)) && p["source"].is_null())
        .map(|(id, _)| *id)
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut highest: Option<((u64, u64), String)> = None;
    let mut declared = None;
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        let package = packages[id];
        let version = package["rust_version"].as_str().and_then(parse_minor);
        if package["source"].is_null() {
            declared = declared.or(version);
        } else if let Some(version) = version
            && highest.as_ref().is_none_or(|(h, _)| version > *h)
        {
            let name =
                format!("{} {}", package["name"].as_str().unwrap_or("?"), package["version"].as_str().unwrap_or("?"));
            highest = Some((version, name));
        }
        for dep in nodes.get(id).and_then(|n| n["deps"].as_array()).into_iter().flatten() {
            let runtime = dep["dep_kinds"].as_array().into_iter().flatten().any(|k| k["kind"].as_str() != Some("dev"));
            if runtime && let Some(dep_id) = dep["pkg"].as_str() {
                stack.push(dep_id);
            }
        }
    }
    let (needed, by) = highest.ok_or("no dependency declares a rust-version")?;
    match declared {
        Some(declared) if declared == needed => Ok(()),
        Some(declared) => Err(format!(
            "rust-version in Cargo.toml is {}.{}, but the locked {by} needs {}.{}: set rust-version = \"{}.{}\"",
            declared.0, declared.1, needed.0, needed.1, needed.0, needed.1
        )),
        None => Err("the workspace crates declare no rust-version".to_owned()),
    }
}

fn parse_minor(version: &str) -> Option<(u64, u64)> {
    let mut parts = version.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Every CPython from 3.9 to 3.13 on this machine, one interpreter per minor version: those
/// on `PATH` (`python3.X`) and pyenv's (`$(pyenv root)/versions/3.X.*`).
pub(crate) fn pythons() -> Vec<(u32, PathBuf)> {
    let mut candidates: Vec<PathBuf> = PYTHONS.map(|minor| PathBuf::from(format!("python3.{minor}"))).collect();
    let pyenv_root = Command::new("pyenv")
        .arg("root")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(versions) = pyenv_root.map(|r| r.join("versions")) {
        let mut found: Vec<PathBuf> =
            std::fs::read_dir(&versions).into_iter().flatten().filter_map(Result::ok).map(|e| e.path()).collect();
        found.sort();
        for dir in found {
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if let Some(minor) =
                name.strip_prefix("3.").and_then(|r| r.split('.').next()).and_then(|m| m.parse::<u32>().ok())
            {
                candidates.push(dir.join(format!("bin/python3.{minor}")));
            }
        }
    }
    let mut by_minor = BTreeMap::new();
    for candidate in candidates {
        let Ok(output) = Command::new(&candidate)
            .args(["-c", "import sys, platform; print(sys.version_info[1], platform.python_implementation())"])
            .output()
        else {
            continue;
        };
        let text = String::from_utf8_lossy(&output.stdout);
        let mut words = text.split_whitespace();
        if let (Some(Ok(minor)), Some("CPython")) = (words.next().map(str::parse::<u32>), words.next())
            && PYTHONS.contains(&minor)
        {
            by_minor.entry(minor).or_insert(candidate);
        }
    }
    by_minor.into_iter().collect()
}

/// `PATH` with `dir` first, as an `env` argument.
fn prepend_path(dir: &Path) -> Result<String, String> {
    Ok(format!("PATH={}", path_with(dir, |_| true)?))
}

/// `PATH` with `dir` first and every directory that holds `cargo` or `rustc` left out: a wheel
/// must install and run without a Rust toolchain.
pub(crate) fn path_without_rust(dir: &Path) -> Result<String, String> {
    path_with(dir, |d| !d.join("cargo").exists() && !d.join("rustc").exists())
}

/// `dir`, then the directories of `PATH` that `keep` keeps.
fn path_with(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<String, String> {
    let inherited =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<PathBuf>>()).unwrap_or_default();
    let paths = std::iter::once(dir.to_owned()).chain(inherited.into_iter().filter(|d| keep(d)));
    let path = std::env::join_paths(paths).map_err(|e| format!("cannot build PATH: {e}"))?;
    Ok(path.to_str().ok_or("PATH is not UTF-8")?.to_owned())
}

fn files_ending(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, String> {
    Ok(std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect())
}

fn host_target() -> Result<String, String> {
    let output = Command::new("rustc").arg("-vV").output().map_err(|e| format!("cannot run rustc: {e}"))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .ok_or_else(|| "rustc -vV names no host".to_owned())
}

pub(crate) fn utf8(path: &Path) -> Result<&str, String> {
    path.to_str().ok_or_else(|| format!("the path {} is not UTF-8", path.display()))
}
