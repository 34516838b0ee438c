//! Tidy rules that keep generated and hand-written code apart and every file explained.

use std::path::{Path, PathBuf};

use hwc_workspace_codegen::GENERATED_HEADER;

/// The marker tools (and this check) recognise as "generated, do not edit".
const MARKER: &str = "@generated";

pub(crate) fn check(root: &Path) -> Result<(), String> {
    let generated: Vec<PathBuf> = crate::artifacts::paths().map(|p| root.join(p)).collect();
    let mut problems = Vec::new();
    // Generated Rust carries the header; the spec's copy is the spec, byte for byte.
    for path in generated.iter().filter(|p| p.extension().is_some_and(|e| e == "rs")) {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if !text.starts_with(GENERATED_HEADER) {
            problems.push(format!("{}: a generated file must start with {GENERATED_HEADER:?}", rel(root, path)));
        }
    }
    for dir in ["crates", "xtask", "fuzz"] {
        for path in rust_files(&root.join(dir)) {
            if generated.contains(&path) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let first_code = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            if text.lines().take(3).any(|l| l.contains(MARKER)) {
                problems
                    .push(format!("{}: carries the generated marker but is not a derived artifact", rel(root, &path)));
            }
            if !(first_code.starts_with("//!") || first_code.starts_with("#![doc")) {
                problems.push(format!("{}: must open with a `//!` line saying what it is for", rel(root, &path)));
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(format!("tidy:\n  {}", problems.join("\n  "))) }
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != "target" && name != ".venv" && name != "node_modules" {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}
