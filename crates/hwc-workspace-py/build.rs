//! Generates the operation methods of `Client` and `AsyncClient` from the spec at build time,
//! into OUT_DIR only (`cargo xtask check` keeps the committed snapshot, generated/methods.rs,
//! equal to it).

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // The core crate's copy of the spec, which `cargo xtask check` keeps equal to
    // `openapi/workspace.yaml`: the one the client this crate calls is generated from.
    let spec_path = manifest_dir.join("../hwc-workspace/openapi/workspace.yaml");
    println!("cargo::rerun-if-changed={}", spec_path.display());
    let spec = std::fs::read_to_string(&spec_path)
        .unwrap_or_else(|e| panic!("cannot read the spec {}: {e}", spec_path.display()));
    let methods = hwc_workspace_codegen::python_methods(&spec).unwrap_or_else(|e| panic!("{e}"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("methods.rs");
    std::fs::write(&out, methods).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
