//! Generates the client and the operation description from the spec at build time, into
//! OUT_DIR only.

use std::path::PathBuf;

fn main() {
    // Read when the script runs, not when it was compiled: with a shared CARGO_TARGET_DIR
    // one compiled build script serves every checkout of the same crate.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    // The crate's own copy, so that the packaged crate builds; `cargo xtask check` keeps it
    // equal to `openapi/workspace.yaml`, the one that is edited.
    let spec_path = PathBuf::from(manifest_dir).join("openapi/workspace.yaml");
    println!("cargo::rerun-if-changed={}", spec_path.display());
    let spec = std::fs::read_to_string(&spec_path)
        .unwrap_or_else(|e| panic!("cannot read the spec {}: {e}", spec_path.display()));
    let code = hwc_workspace_codegen::generate(&spec).unwrap_or_else(|e| panic!("{e}"));
    let description = hwc_workspace_codegen::describe(&spec).unwrap_or_else(|e| panic!("{e}"));
    let dispatch = hwc_workspace_codegen::dispatch(&spec).unwrap_or_else(|e| panic!("{e}"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (name, text) in [("client.rs", code), ("operations.rs", description), ("dispatch.rs", dispatch)] {
        let out = out_dir.join(name);
        std::fs::write(&out, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
    }
}
