//! The layers of the core crate (`crates/hwc-workspace/src`): each module may import from its
//! own layer and those below, never from a layer above. `cargo xtask check` reads every
//! `crate::…` path of the product code (comments and `#[cfg(test)]` modules aside) and fails
//! naming the module, the import and both layers; so a circle of modules, like the one of
//! twelve files issue 23 broke, cannot grow back unnoticed.

use std::collections::BTreeMap;
use std::path::Path;

/// The layers, lowest first: a name, its modules, and why they sit there. The crate's README
/// shows the same order.
pub(crate) const LAYERS: &[(&str, &[&str], &str)] = &[
    ("spec", &["types", "enums"], "the spec's generated types and the open enums they use: what every layer speaks of"),
    (
        "base",
        &["files", "retry", "outcome"],
        "leaf vocabulary: bounded file reading, the retry policy, what a job's reports say",
    ),
    (
        "errors",
        &["error", "error_body"],
        "one error vocabulary (the transport's `Failure` included), hints' settings as data",
    ),
    (
        "model",
        &["limits", "model", "operation", "operations", "ids"],
        "limits and wire names, the operations' input and output and their checks, id lists",
    ),
    (
        "settings",
        &["credentials", "network", "regions", "hints"],
        "where keys, proxies and endpoints come from; the advice that names settings",
    ),
    ("transport", &["transport", "signing"], "sending one request (TLS setup included), and signing it"),
    ("identity", &["iam", "metadata", "identity"], "keys and project resolved, from IAM and the metadata service"),
    ("hooks", &["hooks", "generated"], "the generated client and the hooks every call goes through"),
    (
        "client",
        &["client", "calls", "dispatch", "paging", "pace"],
        "the calls users make, the generated dispatch that sends any operation, paging through listings, \
         the pace of a job's reads",
    ),
    (
        "porcelain",
        &["config", "bulk", "account", "journal", "selection"],
        "the builder that assembles a client; bulk runs, their account and journal, and the selections they act on",
    ),
];

/// Checks the core crate under `root`.
pub(crate) fn check(root: &Path) -> Result<(), String> {
    let src = root.join("crates/hwc-workspace/src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).map_err(|e| format!("layers: cannot read lib.rs: {e}"))?;
    let mut files = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&src)
        .map_err(|e| format!("layers: cannot list {}: {e}", src.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    entries.sort();
    for path in entries {
        // A module's directory (`regions/yaml_guard.rs`) belongs to the module.
        let nested: Vec<_> = if path.is_dir() {
            let mut inner: Vec<_> = std::fs::read_dir(&path)
                .map_err(|e| format!("layers: cannot list {}: {e}", path.display()))?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .collect();
            inner.sort();
            inner
        } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("lib.rs") {
            vec![path.clone()]
        } else {
            Vec::new()
        };
        let Some(module) = path.file_stem().and_then(|s| s.to_str()) else { continue };
        for file in nested {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("layers: cannot read {}: {e}", file.display()))?;
            let shown = file.strip_prefix(root).unwrap_or(&file).display().to_string();
            files.push((module.to_owned(), shown, text));
        }
    }
    let problems = problems(&files, &lib);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "layers: the core's modules import only from their layer and below (table in xtask/src/layers.rs):\n  {}",
            problems.join("\n  ")
        ))
    }
}

/// Every breach in `files` (module, path shown, text), with `lib` (the crate root) for its
/// re-exports: `crate::JobStatus` is the module that `lib.rs` re-exports it from.
fn problems(files: &[(String, String, String)], lib: &str) -> Vec<String> {
    let layer_of: BTreeMap<&str, usize> =
        LAYERS.iter().enumerate().flat_map(|(i, (_, modules, _))| modules.iter().map(move |m| (*m, i))).collect();
    let reexports = reexports(lib);
    let mut problems = Vec::new();
    for (module, shown, text) in files {
        let Some(&own) = layer_of.get(module.as_str()) else {
            problems.push(format!("{shown}: module {module} is not in the layer table; add it to a layer"));
            continue;
        };
        for name in crate_references(text) {
            let target = if layer_of.contains_key(name.as_str()) {
                Some(name.clone())
            } else {
                match reexports.get(name.as_str()) {
                    Some(from) => from.clone(),
                    None => {
                        problems.push(format!(
                            "{shown}: `crate::{name}` is neither a module of the layer table nor re-exported by lib.rs"
                        ));
                        continue;
                    }
                }
            };
            // `None`: re-exported from another crate (`crate::Credentials`), outside the table.
            let Some(target) = target else { continue };
            let Some(&theirs) = layer_of.get(target.as_str()) else {
                problems.push(format!("{shown}: module {target} (of `crate::{name}`) is not in the layer table"));
                continue;
            };
            if theirs > own {
                problems.push(format!(
                    "{shown}: {module} (layer {}) imports crate::{name} from {target} (layer {}), a layer above it",
                    LAYERS[own].0, LAYERS[theirs].0
                ));
            }
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

/// What `lib.rs` re-exports at the crate root, by name: `Some(module)` for one of ours,
/// `None` for another crate's (`pub use hwc_sign::Credentials`).
fn reexports(lib: &str) -> BTreeMap<String, Option<String>> {
    let mut map = BTreeMap::new();
    let code = strip_comments(lib);
    for statement in code.split(';') {
        let statement = statement.trim();
        let Some(path) = statement.strip_prefix("pub use ") else { continue };
        let path: String = path.chars().filter(|c| !c.is_whitespace()).collect();
        let Some((head, rest)) = path.split_once("::") else { continue };
        // A head that is not a module of the table is another crate (`hwc_sign`); a module of
        // ours missing from the table is named by its own file.
        let module = is_module_name(head).then(|| head.to_owned());
        let names: Vec<&str> = match rest.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
            Some(group) => group.split(',').filter(|n| !n.is_empty()).collect(),
            None => vec![rest],
        };
        for name in names {
            // `a::B` inside a group (`generated::types`) is named by its last part.
            let last = name.rsplit("::").next().unwrap_or(name);
            let last = last.split(" as ").last().unwrap_or(last);
            map.insert(last.to_owned(), module.clone());
        }
    }
    map
}

/// Whether `head` is one of the table's modules.
fn is_module_name(head: &str) -> bool {
    LAYERS.iter().any(|(_, modules, _)| modules.contains(&head))
}

/// The first segment of every `crate::` path in the product code of `text`, grouped imports
/// (`use crate::{a, b::c}`) included.
fn crate_references(text: &str) -> Vec<String> {
    let code = strip_comments(product_code(text));
    let mut names = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        // `hwc_crate::x` is not ours: `crate` must start a path.
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Only the group's top-level items name modules: `model::{A, B}` is `model`.
            let mut depth = 0usize;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        push_first_segment(&item, &mut names);
                        item.clear();
                    }
                    _ if depth == 0 => item.push(c),
                    _ => {}
                }
            }
            push_first_segment(&item, &mut names);
            continue;
        }
        let ident: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !ident.is_empty() {
            names.push(ident);
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The module an item of a grouped import names (`b::c` is `b`); `self` names none.
fn push_first_segment(item: &str, names: &mut Vec<String>) {
    let first = item.trim().split("::").next().unwrap_or("").trim();
    if !first.is_empty() && first != "self" {
        names.push(first.to_owned());
    }
}

/// The text before the first `#[cfg(test)]` at the start of a line: tests may reach anywhere
/// (they check a module from outside), the layering is about the product code.
fn product_code(text: &str) -> &str {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "#[cfg(test)]" {
            return &text[..offset];
        }
        offset += line.len();
    }
    text
}

/// `text` without `//` comments (doc comments too: an intra-doc link is not an import). A
/// `//` inside a string literal (`"http://…"`) is kept.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let mut end = line.len();
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            if in_string {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
            } else if b == b'"' {
                in_string = true;
            } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
                end = i;
                break;
            }
        }
        out.push_str(&line[..end]);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIB: &str =
        "pub use model::{JobStatus, MAX_DESKTOP_IDS};\npub use hwc_sign::Credentials;\npub use generated::types;\n";

    fn file(module: &str, text: &str) -> (String, String, String) {
        (module.to_owned(), format!("src/{module}.rs"), text.to_owned())
    }

    #[test]
    fn references_are_read_from_code_not_comments_strings_or_tests() {
        let text = "//! see crate::client\nuse crate::{error::Error, model::{A, B}, self};\n\
                    let u = \"http://x\"; crate::limits::X; // crate::bulk\n/// [`crate::config`]\n\
                    fn f() { my_crate::x(); }\n#[cfg(test)]\nmod tests { use crate::client; }\n";
        assert_eq!(crate_references(text), ["error", "limits", "model"]);
    }

    #[test]
    fn an_import_from_a_layer_above_is_named_with_both_layers() {
        let files = [
            file("error", "use crate::transport::Failure;\nuse crate::JobStatus;\nuse crate::types::Job;\n"),
            file("model", "use crate::error::Error;\nuse crate::Credentials;\n"),
        ];
        let problems = problems(&files, LIB);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(
            problems[0].contains("error (layer errors) imports crate::JobStatus from model (layer model)"),
            "{problems:?}"
        );
        assert!(problems[1].contains("imports crate::transport from transport (layer transport)"), "{problems:?}");
    }

    #[test]
    fn a_module_missing_from_the_table_is_named() {
        let problems = problems(&[file("newthing", "use crate::error::Error;\n")], LIB);
        assert_eq!(problems, ["src/newthing.rs: module newthing is not in the layer table; add it to a layer"]);
        let problems = problems_of_unknown_path();
        assert!(problems[0].contains("`crate::nowhere`"), "{problems:?}");
    }

    fn problems_of_unknown_path() -> Vec<String> {
        problems(&[file("model", "use crate::nowhere::X;\n")], LIB)
    }

    /// The tree as it is holds its layers (the check `cargo xtask check` runs).
    #[test]
    fn the_core_crate_holds_its_layers() {
        let root = crate::Workspace::locate().expect("cargo finds the workspace").root;
        assert_eq!(check(&root), Ok(()));
    }
}
