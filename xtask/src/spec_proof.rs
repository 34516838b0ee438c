//! The proof that the simulator speaks the spec's types: in a copy of the workspace, response
//! fields that only the simulator writes are renamed in the spec, and building the simulator
//! must then fail exactly where it builds those bodies. A simulator that re-stated the shapes
//! by hand (`json!`, string templates) would still compile, and this check would fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::artifacts::SPEC;

/// `(schema, field, renamed to, the simulator file that must stop compiling)`. Fields the
/// core reads too (`job_id`, `sub_jobs_total`, the error body) are left out: renaming them stops the build in
/// the core already, before the simulator is reached.
const RENAMES: &[(&str, &str, &str, &str)] = &[
    ("Job", "job_type", "task_type", "crates/hwc-workspace-sim/src/jobs.rs"),
    ("SubJob", "job_type", "task_kind", "crates/hwc-workspace-sim/src/jobs.rs"),
];

/// What is copied: enough of the workspace to build the simulator.
const COPIED: &[&str] = &["Cargo.toml", "Cargo.lock", "openapi", "crates", "xtask", ".cargo"];

pub(crate) fn test(root: &Path, target_dir: &Path) -> Result<(), String> {
    let copy = target_dir.join("spec-proof").join("workspace");
    if copy.exists() {
        std::fs::remove_dir_all(&copy).map_err(|e| format!("cannot clear {}: {e}", copy.display()))?;
    }
    for item in COPIED {
        copy_tree(&root.join(item), &copy.join(item))?;
    }
    let spec_path = copy.join(SPEC);
    let spec = std::fs::read_to_string(&spec_path).map_err(|e| format!("cannot read the copied spec: {e}"))?;
    let renamed = renamed(&spec)?;
    // The copy's spec and the core crate's copy of it, as `cargo xtask regenerate` would leave them.
    for path in [spec_path, copy.join(crate::artifacts::CRATE_SPEC)] {
        std::fs::write(&path, &renamed).map_err(|e| format!("cannot write the copied spec: {e}"))?;
    }

    eprintln!("xtask: spec proof: building the simulator against a spec with renamed response fields");
    // Cargo hashes a workspace's own crates by their path within the workspace, so the copy's
    // crates would share the main build's units (and the core's build-script output, the
    // generated client) in one target directory, and overwrite them. An explicit `--target`
    // puts the copy's crates under `target/<triple>/`, apart, while build scripts and proc
    // macros (progenitor, serde's derive), most of the build, are still shared.
    let host = host_triple()?;
    let output = Command::new(crate::cargo())
        .args(["build", "--offline", "--locked", "--message-format", "short", "-p", "hwc-workspace-sim", "--lib"])
        .args(["--target", &host])
        .current_dir(&copy)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        return Err("spec proof: the simulator still compiles after response fields were renamed in the spec, \
             so it does not build its bodies from the generated types"
            .to_owned());
    }
    let mut missing = Vec::new();
    for (schema, field, _, file) in RENAMES {
        let hit = stderr.lines().any(|line| line.starts_with(file) && line.contains(field) && line.contains("error"));
        if !hit {
            missing.push(format!("{schema}.{field} in {file}"));
        }
    }
    let elsewhere: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains(": error") && !line.starts_with("crates/hwc-workspace-sim/"))
        .collect();
    if !missing.is_empty() || !elsewhere.is_empty() {
        return Err(format!(
            "spec proof: the build failed, but not (only) where the simulator builds the renamed fields\n  \
             not seen: {missing:?}\n  other errors: {elsewhere:?}\n--- cargo said ---\n{stderr}"
        ));
    }
    for line in stderr.lines().filter(|line| line.contains(": error")) {
        eprintln!("xtask: spec proof:   {line}");
    }
    eprintln!("xtask: spec proof: the simulator fails to compile on each renamed field, as it must");
    Ok(())
}

/// The platform rustc builds for by default, e.g. `x86_64-unknown-linux-gnu`.
fn host_triple() -> Result<String, String> {
    let output = Command::new("rustc").arg("-vV").output().map_err(|e| format!("cannot run `rustc -vV`: {e}"))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "`rustc -vV` named no host".to_owned())
}

/// The spec with each of [`RENAMES`] applied to its schema's properties (and `required`).
fn renamed(spec: &str) -> Result<String, String> {
    use serde_yaml::Value;
    let mut document: Value = serde_yaml::from_str(spec).map_err(|e| format!("the spec is not YAML: {e}"))?;
    for (schema, field, to, _) in RENAMES {
        let object = &mut document["components"]["schemas"][*schema];
        let properties = object
            .get_mut("properties")
            .and_then(Value::as_mapping_mut)
            .ok_or_else(|| format!("spec proof: the schema {schema} has no properties"))?;
        let definition = properties
            .remove(*field)
            .ok_or_else(|| format!("spec proof: the schema {schema} has no field {field}; update RENAMES"))?;
        properties.insert(Value::from(*to), definition);
        if let Some(required) = object.get_mut("required").and_then(Value::as_sequence_mut) {
            for name in required.iter_mut().filter(|name| name.as_str() == Some(*field)) {
                *name = Value::from(*to);
            }
        }
    }
    serde_yaml::to_string(&document).map_err(|e| format!("cannot write the renamed spec: {e}"))
}

/// Copies a file or a directory tree, leaving out build output and virtual environments.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let metadata = match std::fs::symlink_metadata(from) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot read {}: {e}", from.display())),
    };
    if metadata.is_file() {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::copy(from, to).map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
        return Ok(());
    }
    if !metadata.is_dir() {
        return Ok(());
    }
    let entries = std::fs::read_dir(from).map_err(|e| format!("cannot list {}: {e}", from.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if ["target", ".venv", "__pycache__", "node_modules"].iter().any(|skip| name == *skip) {
            continue;
        }
        let child: PathBuf = from.join(&name);
        copy_tree(&child, &to.join(&name))?;
    }
    Ok(())
}
