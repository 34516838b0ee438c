//! The proof that the spec drives every front, in a copy of the workspace, three cases:
//!
//! 1. Response fields that only the simulator writes are renamed in the spec: building the
//!    simulator must then fail exactly where it builds those bodies. A simulator that
//!    re-stated the shapes by hand (`json!`, string templates) would still compile.
//! 2. An optional string field and an optional bounded integer field are added to the delete
//!    request, then `cargo xtask regenerate`, and no hand-written file changes: the CLI takes
//!    both as flags and Python as keywords, each sends them (seen at the simulator), the
//!    stubs list them, and an out-of-range integer is refused by each front naming the field.
//! 3. A new operation is added: the build fails at the exhaustive tables, naming it, and
//!    builds once each table has one more line (the lines in [`NEW_OPERATION_LINES`]).

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

/// What is copied: enough of the workspace to build the fronts, regenerate the stubs and run
/// the Python package.
const COPIED: &[&str] = &["Cargo.toml", "Cargo.lock", "openapi", "crates", "xtask", ".cargo", "python"];

pub(crate) fn test(root: &Path, target_dir: &Path) -> Result<(), String> {
    renamed_fields_break_the_simulator(root, target_dir)?;
    added_fields_reach_every_front(root, target_dir)?;
    a_new_operation_is_named_by_every_front(root, target_dir)
}

fn renamed_fields_break_the_simulator(root: &Path, target_dir: &Path) -> Result<(), String> {
    let copy = fresh_copy(root, target_dir)?;
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
    let output =
        cargo_in(&copy, target_dir, &["build", "--message-format", "short", "-p", "hwc-workspace-sim", "--lib"])?;
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

/// A fresh copy of the workspace under `target/spec-proof/workspace`.
fn fresh_copy(root: &Path, target_dir: &Path) -> Result<PathBuf, String> {
    let copy = target_dir.join("spec-proof").join("workspace");
    if copy.exists() {
        std::fs::remove_dir_all(&copy).map_err(|e| format!("cannot clear {}: {e}", copy.display()))?;
    }
    for item in COPIED {
        copy_tree(&root.join(item), &copy.join(item))?;
    }
    Ok(copy)
}

/// [`fresh_copy`], with the spec as
/// `edit` leaves it, regenerated by the copy's own `cargo xtask regenerate`. Fails when
/// regenerating rewrote anything but the derived artifacts.
fn regenerated_copy(
    root: &Path,
    target_dir: &Path,
    edit: impl FnOnce(&mut serde_yaml::Value) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let copy = fresh_copy(root, target_dir)?;
    let spec_path = copy.join(SPEC);
    let spec = std::fs::read_to_string(&spec_path).map_err(|e| format!("cannot read the copied spec: {e}"))?;
    let mut document: serde_yaml::Value =
        serde_yaml::from_str(&spec).map_err(|e| format!("the spec is not YAML: {e}"))?;
    edit(&mut document)?;
    let edited = serde_yaml::to_string(&document).map_err(|e| format!("cannot write the edited spec: {e}"))?;
    std::fs::write(&spec_path, edited).map_err(|e| format!("cannot write the copied spec: {e}"))?;
    let output = cargo_in(&copy, target_dir, &["run", "-q", "-p", "xtask", "--", "regenerate"])?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "spec proof: `cargo xtask regenerate` failed in the copy\n{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let derived: Vec<&str> = crate::artifacts::paths().collect();
    for line in stdout.lines() {
        if let Some(path) = line.strip_prefix("rewrote ")
            && !derived.contains(&path)
        {
            return Err(format!("spec proof: regenerating rewrote {path}, which is not a derived artifact"));
        }
    }
    Ok(copy)
}

/// Runs cargo in the copy, its crates apart from the main build's (see
/// [`renamed_fields_break_the_simulator`] for why `--target`).
fn cargo_in(copy: &Path, target_dir: &Path, args: &[&str]) -> Result<std::process::Output, String> {
    let host = host_triple()?;
    let (command, rest) = args.split_first().ok_or("no cargo command")?;
    let mut cargo = Command::new(crate::cargo());
    // The copy's xtask, too, is built apart: in the shared directory it would replace the
    // xtask that is running this proof.
    cargo
        .arg(command)
        .args(["--offline", "--locked", "--target", &host])
        .args(rest)
        .current_dir(copy)
        .env("CARGO_TARGET_DIR", target_dir)
        // The copy's crates and their dependencies are built again under `--target`: without
        // debug info that build is a third shorter, and nothing here runs a debugger.
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .output()
        .map_err(|e| format!("cannot start cargo: {e}"))
}

/// The request fields case 2 adds: one optional text, one optional bounded integer.
const ADDED_TEXT: &str = "proof_note";
const ADDED_INTEGER: &str = "proof_priority";

fn added_fields_reach_every_front(root: &Path, target_dir: &Path) -> Result<(), String> {
    use serde_yaml::Value;
    eprintln!("xtask: spec proof: adding {ADDED_TEXT} and {ADDED_INTEGER} to the delete request in the spec");
    let copy = regenerated_copy(root, target_dir, |document| {
        let properties = document["components"]["schemas"]["DeleteDesktopSubResourcesRequest"]["properties"]
            .as_mapping_mut()
            .ok_or("spec proof: DeleteDesktopSubResourcesRequest has no properties")?;
        let text: Value = serde_yaml::from_str("{type: string, maxLength: 40, description: A note for the proof.}")
            .map_err(|e| e.to_string())?;
        let integer: Value = serde_yaml::from_str(
            "{type: integer, format: int32, minimum: 1, maximum: 9, description: A priority for the proof.}",
        )
        .map_err(|e| e.to_string())?;
        properties.insert(Value::from(ADDED_TEXT), text);
        properties.insert(Value::from(ADDED_INTEGER), integer);
        Ok(())
    })?;
    let output = cargo_in(
        &copy,
        target_dir,
        &["build", "--message-format", "short", "-p", "hwc-workspace-cli", "-p", "hwc-workspace-py"],
    )?;
    if !output.status.success() {
        return Err(format!(
            "spec proof: with two fields added to the spec and nothing else changed, the fronts do not build\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let built = target_dir.join(host_triple()?).join("debug");
    // The package as the copy's sources and the copy's freshly built extension make it.
    let package = copy.join("proof-python").join("hwc_workspace");
    copy_tree(&copy.join("python/src/hwc_workspace"), &package)?;
    std::fs::copy(built.join("libhwc_workspace_native.so"), package.join("_native.abi3.so"))
        .map_err(|e| format!("cannot place the built extension: {e}"))?;
    let stubs: Vec<String> = std::fs::read_dir(&package)
        .map_err(|e| format!("cannot list {}: {e}", package.display()))?
        .flatten()
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "pyi"))
        .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
        .collect();
    if !stubs.iter().any(|text| text.contains(ADDED_TEXT) && text.contains(ADDED_INTEGER)) {
        return Err(format!("spec proof: no stub file of the package lists {ADDED_TEXT} and {ADDED_INTEGER}"));
    }
    let script = copy.join("proof-python").join("proof.py");
    std::fs::write(&script, PROOF_SCRIPT).map_err(|e| format!("cannot write the proof script: {e}"))?;
    let output = Command::new("python3")
        .arg(&script)
        .arg(built.join("hwc-workspace"))
        .env("PYTHONPATH", copy.join("proof-python"))
        .env("HWC_METADATA_ENDPOINT", "off")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .map_err(|e| format!("cannot start python3: {e}"))?;
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        return Err(format!("spec proof: the added fields do not reach every front\n{said}"));
    }
    for line in said.lines().filter(|line| line.starts_with("proof:")) {
        eprintln!("xtask: spec proof:   {line}");
    }
    eprintln!("xtask: spec proof: both added fields reach the CLI, Python, the stubs and the simulator");
    Ok(())
}

/// Run by the copy's Python against the copy's CLI (its path is the first argument): both
/// fronts send the added fields to one simulator, which records what it received, and both
/// refuse an out-of-range integer naming the field.
const PROOF_SCRIPT: &str = r#"
import json, os, subprocess, sys
import hwc_workspace
from hwc_workspace import Simulator

cli = sys.argv[1]
with Simulator() as sim:
    ids = sim.desktop_ids
    client = sim.client()
    client.delete_desktop_sub_resources([ids[0]], proof_note="from-python", proof_priority=3)
    env = dict(os.environ, HUAWEICLOUD_SDK_AK=sim.ak, HUAWEICLOUD_SDK_SK=sim.sk,
               HUAWEICLOUD_SDK_PROJECT_ID=sim.project_id, HWC_METADATA_ENDPOINT="off")
    base = [cli, "--endpoint", sim.endpoint, "delete-sub-resources", "--sub-resource-type", "DESKTOP_SHARER"]
    sent = subprocess.run(base + ["--desktop-id", ids[1], "--proof-note", "from-cli", "--proof-priority", "4"],
                          env=env, capture_output=True, text=True)
    assert sent.returncode == 0, sent.stderr
    bodies = [job.body for job in sim.jobs()]
    seen = [(b.get("proof_note"), b.get("proof_priority")) for b in bodies]
    assert ("from-python", 3) in seen and ("from-cli", 4) in seen, seen
    print("proof: the simulator received", seen)
    refused = subprocess.run(base + ["--desktop-id", ids[2], "--proof-priority", "10"],
                             env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "proof_priority" in refused.stderr, (refused.returncode, refused.stderr)
    print("proof: the CLI refuses --proof-priority 10:", refused.stderr.strip().splitlines()[0])
    try:
        client.delete_desktop_sub_resources([ids[2]], proof_priority=10)
    except hwc_workspace.InvalidRequestError as error:
        assert error.field == "proof_priority", str(error)
        print("proof: Python refuses proof_priority=10:", error)
    else:
        raise AssertionError("Python sent proof_priority=10")
    doc = type(client).delete_desktop_sub_resources.__doc__
    assert "A note for the proof." in doc and "A priority for the proof." in doc, doc
    print("proof: help() of the Python method describes both fields")
    assert len(sim.jobs()) == 2, "a refused call reached the simulator"
"#;

/// The operation case 3 adds.
const NEW_OPERATION: &str = "ShowProofThing";

/// For each exhaustive table over the operations: the file, and the one line that names the
/// new operation there (inserted just after the `match` the compiler points at).
const NEW_OPERATION_LINES: &[(&str, &str)] = &[
    ("crates/hwc-workspace/src/calls.rs", "OperationId::ShowProofThing => {}"),
    (
        "crates/hwc-workspace-cli/src/commands.rs",
        "OperationId::ShowProofThing => Named::generic(&[\"proof-thing\", \"show\"]),",
    ),
    (
        "crates/hwc-workspace-py/src/operations.rs",
        "OperationId::ShowProofThing => answer.decode::<hwc_workspace::Job>().map(|job| Py::new(py, Job::from(job)).map(Py::into_any)),",
    ),
    (
        "crates/hwc-workspace-sim/src/service.rs",
        "OperationId::ShowProofThing => Behaviour { permission: None, handler: show_job },",
    ),
];

fn a_new_operation_is_named_by_every_front(root: &Path, target_dir: &Path) -> Result<(), String> {
    use serde_yaml::Value;
    eprintln!("xtask: spec proof: adding the operation {NEW_OPERATION} to the spec");
    let copy = regenerated_copy(root, target_dir, |document| {
        let operation: Value = serde_yaml::from_str(&format!(
            "get:
  operationId: {NEW_OPERATION}
  summary: A thing for the proof
  tags: [Tasks]
  parameters:
    - {{name: project_id, in: path, required: true, description: Project ID., schema: {{type: string, minLength: 1}}}}
    - {{name: thing_id, in: path, required: true, description: Thing ID., schema: {{type: string, minLength: 1}}}}
  responses:
    '200':
      description: The thing.
      content:
        application/json:
          schema: {{$ref: '#/components/schemas/Job'}}
    '400':
      $ref: '#/components/responses/BadRequest'"
        ))
        .map_err(|e| e.to_string())?;
        document["paths"]
            .as_mapping_mut()
            .ok_or("spec proof: the spec has no paths")?
            .insert(Value::from("/v2/{project_id}/proof-things/{thing_id}"), operation);
        Ok(())
    })?;
    let mut named = Vec::new();
    // Each round builds, and names the operation in the tables the compiler stopped at; a
    // crate's tables are seen only once the crates it depends on build, hence the rounds.
    for _ in 0..=NEW_OPERATION_LINES.len() {
        let output = cargo_in(
            &copy,
            target_dir,
            &[
                "build",
                "--message-format",
                "short",
                "-p",
                "hwc-workspace-cli",
                "-p",
                "hwc-workspace-py",
                "-p",
                "hwc-workspace-sim",
            ],
        )?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            let missing: Vec<&str> =
                NEW_OPERATION_LINES.iter().map(|(file, _)| *file).filter(|file| !named.contains(file)).collect();
            if !missing.is_empty() {
                return Err(format!("spec proof: the fronts built without naming {NEW_OPERATION} in {missing:?}"));
            }
            eprintln!("xtask: spec proof: with one line per table, the workspace builds: {}", named.join(", "));
            return Ok(());
        }
        let errors: Vec<&str> = stderr.lines().filter(|line| line.contains(": error")).collect();
        let mut progressed = false;
        for error in &errors {
            let table = NEW_OPERATION_LINES.iter().find(|(file, _)| error.starts_with(file));
            let (Some((file, line)), true) = (table, error.contains("E0004") && error.contains(NEW_OPERATION)) else {
                return Err(format!(
                    "spec proof: adding {NEW_OPERATION} broke the build elsewhere than at an exhaustive table:\n{error}\n--- cargo said ---\n{stderr}"
                ));
            };
            eprintln!("xtask: spec proof:   {error}");
            let at: usize = error.split(':').nth(1).and_then(|n| n.parse().ok()).ok_or("no line in the error")?;
            insert_line(&copy.join(file), at, line)?;
            named.push(*file);
            progressed = true;
        }
        if !progressed {
            return Err(format!("spec proof: the build failed without naming an error\n{stderr}"));
        }
    }
    Err(format!("spec proof: {NEW_OPERATION} is still not named everywhere after one line per table"))
}

/// Inserts `text` as a line after line `at` (from 1) of `path`.
fn insert_line(path: &Path, at: usize, text: &str) -> Result<(), String> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines: Vec<&str> = source.lines().collect();
    if at == 0 || at > lines.len() {
        return Err(format!("{}: no line {at}", path.display()));
    }
    lines.insert(at, text);
    std::fs::write(path, lines.join("\n") + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}
