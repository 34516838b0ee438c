//! The Python front's share of the spec: a method of `Client` and `AsyncClient` per operation
//! (Rust for the pyo3 extension, with the keyword arguments, signature and `help()` text of the
//! spec), and the same methods as type stubs, spliced into the hand-written stub of the
//! porcelain. The methods only collect their arguments by name: the extension's hand-written
//! `operations` module checks them against the description and sends them through the core.

use std::fmt::Write as _;

use crate::describe::{FieldSpec, Model, OperationSpec, PagingSpec, ValueSpec};
use crate::{Error, GENERATED_HEADER};

/// Where [`python_stub`] puts a class's methods in the template: a line holding only this
/// marker followed by the class name, indented as the methods are.
pub const STUB_MARKER: &str = "# @operations ";

/// The two client classes and how each returns: the blocking one the result itself, the
/// asyncio one an awaitable.
const CLASSES: [(&str, bool); 2] = [("Client", false), ("AsyncClient", true)];

/// A method's parameters in Python's order: the required ones without a default, positional
/// or keyword, then every other one keyword-only (a default the client fills in, or an
/// optional field), in the spec's order.
fn parameters(op: &OperationSpec) -> Vec<&FieldSpec> {
    let mut ordered: Vec<&FieldSpec> = op.fields.iter().filter(|f| !f.is_client_setting()).collect();
    ordered.sort_by_key(|f| !is_positional(f));
    ordered
}

fn is_positional(field: &FieldSpec) -> bool {
    field.required && field.value.default.is_none()
}

/// `op`'s parameters, each as `render` writes it, with Python's `*` before the keyword-only
/// ones (always there: `dry_run`, which follows, is keyword-only).
fn rendered(op: &OperationSpec, render: impl Fn(&FieldSpec) -> String) -> Vec<String> {
    let fields = parameters(op);
    let keyword_only = fields.iter().position(|f| !is_positional(f)).unwrap_or(fields.len());
    let mut out: Vec<String> = fields[..keyword_only].iter().map(|f| render(f)).collect();
    out.push("*".to_owned());
    out.extend(fields[keyword_only..].iter().map(|f| render(f)));
    out
}

/// Generates the Rust of the operation methods from the spec's text: `#[pymethods]` blocks
/// for `crate::client::Client` and `crate::client::AsyncClient`, included by the extension.
pub fn python_methods(spec: &str) -> Result<String, Error> {
    let model = crate::model(spec)?;
    let code = render_methods(&model);
    let file: syn::File = syn::parse_str(&code).map_err(|e| Error::Format(format!("{e}\n{code}")))?;
    Ok(format!("{GENERATED_HEADER}\n\n{}", prettyplease::unparse(&file)))
}

fn render_methods(model: &Model) -> String {
    let mut code = String::from("use pyo3::prelude::*;\nuse hwc_workspace::OperationId;\n");
    for (class, asynchronous) in CLASSES {
        let _ = writeln!(code, "#[pymethods]\nimpl crate::client::{class} {{");
        for op in &model.operations {
            let fields = parameters(op);
            let mut signature =
                rendered(op, |f| if is_positional(f) { f.name.clone() } else { format!("{}=None", f.name) });
            signature.push("dry_run=false".to_owned());
            let mut text = vec!["$self".to_owned()];
            text.extend(rendered(op, |f| {
                if is_positional(f) { f.name.clone() } else { format!("{}={}", f.name, python_default(&f.value)) }
            }));
            text.push("dry_run=False".to_owned());
            let lifetime = if asynchronous { "'py" } else { "'_" };
            let mut arguments = String::new();
            let mut collected = Vec::new();
            for field in &fields {
                let rust = rust_name(&field.name);
                if is_positional(field) {
                    let _ = write!(arguments, "{rust}: &Bound<{lifetime}, PyAny>, ");
                    collected.push(format!("({}, Some({rust}))", lit(&field.name)));
                } else {
                    let _ = write!(arguments, "{rust}: Option<&Bound<{lifetime}, PyAny>>, ");
                    collected.push(format!("({}, {rust})", lit(&field.name)));
                }
            }
            let (generics, returns, call) = if asynchronous {
                ("<'py>", "PyResult<Bound<'py, PyAny>>", "start")
            } else {
                ("", "PyResult<Py<PyAny>>", "send")
            };
            let _ = writeln!(
                code,
                "#[doc = {doc}]\n#[pyo3(signature = ({signature}), text_signature = {text})]\n\
                 #[allow(clippy::too_many_arguments)]\n\
                 fn {method}{generics}(&self, py: Python<{py}>, {arguments}dry_run: bool) -> {returns} {{\n\
                 crate::operations::{call}(self.core(), py, OperationId::{id}, &[{collected}], dry_run)\n}}",
                doc = lit(&docstring(op, &fields, asynchronous)),
                signature = signature.join(", "),
                text = lit(&format!("({})", text.join(", "))),
                method = crate::snake_case(&op.id),
                py = if asynchronous { "'py" } else { "'_" },
                collected = collected.join(", "),
                id = op.id,
            );
            if let Some(paging) = &op.paging {
                code.push_str(&iter_method(op, paging, asynchronous));
            }
        }
        code.push_str("}\n");
    }
    code
}

/// A paged operation's fields a listing takes: all but the offset and limit, which the pager
/// sets (`page_size` is the limit).
fn listing_fields<'a>(op: &'a OperationSpec, paging: &PagingSpec) -> Vec<&'a FieldSpec> {
    parameters(op).into_iter().filter(|f| f.name != paging.offset && f.name != paging.limit).collect()
}

/// The method name of a paged operation's listing: `iter_` and its items, e.g. `iter_desktops`.
fn iter_name(paging: &PagingSpec) -> String {
    format!("iter_{}", paging.items)
}

/// `iter_<items>`: every item of a paged operation, page after page, each once.
fn iter_method(op: &OperationSpec, paging: &PagingSpec, asynchronous: bool) -> String {
    let fields = listing_fields(op, paging);
    // Both return an object at once (the async one is iterated with `async for`).
    let lifetime = "'_";
    let mut arguments = String::new();
    let mut collected = Vec::new();
    let mut signature = vec!["*".to_owned()];
    for field in &fields {
        let rust = rust_name(&field.name);
        let _ = write!(arguments, "{rust}: Option<&Bound<{lifetime}, PyAny>>, ");
        collected.push(format!("({}, {rust})", lit(&field.name)));
        signature.push(format!("{}=None", field.name));
    }
    signature.extend(["page_size=None".to_owned(), "max_items=None".to_owned()]);
    let text: Vec<String> = std::iter::once("$self".to_owned()).chain(signature.iter().cloned()).collect();
    let kind = if asynchronous { "An async iterator" } else { "An iterator" };
    let doc = format!(
        "{kind} over every item of ``{id}`` ({schema} each), read page after page as they are asked for: \
         each item once, also when the listing changes while it is read (its ``total_moved`` then says so).\n\n\
         Takes the fields of ``{method}`` but ``{offset}`` and ``{limit}``; ``page_size`` is the items asked for \
         per request (the operation's ``{limit}``), ``max_items`` where to stop. The arguments are checked at \
         once (``InvalidRequestError``); a page's failure raises when the iteration reaches it.",
        id = op.id,
        schema = paging.item_schema,
        method = crate::snake_case(&op.id),
        offset = paging.offset,
        limit = paging.limit,
    );
    format!(
        "#[doc = {doc}]\n#[pyo3(signature = ({signature}), text_signature = {text})]\n\
         #[allow(clippy::too_many_arguments)]\n\
         fn {name}(&self, py: Python<{lifetime}>, {arguments}page_size: Option<u32>, max_items: Option<u64>) -> PyResult<Py<PyAny>> {{\n\
         crate::listing::open(self.core(), py, OperationId::{id}, &[{collected}], page_size, max_items, {asynchronous})\n}}\n",
        doc = lit(&doc),
        signature = signature.join(", "),
        text = lit(&format!("({})", text.join(", "))),
        name = iter_name(paging),
        id = op.id,
        collected = collected.join(", "),
    )
}

/// A field name as a Rust identifier (a keyword is raw).
fn rust_name(name: &str) -> String {
    const KEYWORDS: &[&str] = &["type", "match", "ref", "self", "in", "fn", "impl", "mod", "move", "use", "where"];
    if KEYWORDS.contains(&name) { format!("r#{name}") } else { name.to_owned() }
}

fn lit(text: &str) -> String {
    format!("{text:?}")
}

/// The default of a keyword argument as Python shows it.
fn python_default(value: &ValueSpec) -> String {
    match value.default.as_deref() {
        Some(text) if value.kind == "String" => format!("{text:?}").replace('"', "'"),
        Some(text) => text.to_owned(),
        None => "None".to_owned(),
    }
}

/// The `help()` text of an operation's method, from the spec's words.
fn docstring(op: &OperationSpec, fields: &[&FieldSpec], asynchronous: bool) -> String {
    let mut doc = String::new();
    let _ = writeln!(doc, "{}{}", op.summary.trim(), if asynchronous { " (a coroutine)." } else { "." });
    let description = op.description.trim();
    if !description.is_empty() {
        let _ = writeln!(doc, "\n{description}");
    }
    let _ = writeln!(doc, "\n``{} {}``\n\nParameters\n----------", op.method, op.path);
    for field in fields {
        let need = match (field.required, field.value.default.as_deref()) {
            (true, None) => "required".to_owned(),
            (true, Some(default)) | (false, Some(default)) => format!("default {default}"),
            (false, None) => "optional".to_owned(),
        };
        let _ = writeln!(doc, "{} : {}, {need}", field.name, python_type(&field.value));
        let _ = writeln!(doc, "    {}", field.description.trim().replace('\n', "\n    "));
        if !field.value.enum_values.is_empty() {
            let listed = field.value.enum_values.join(", ");
            if field.value.open {
                let _ = writeln!(doc, "    Known values: {listed}; others pass through unchanged.");
            } else {
                let _ = writeln!(doc, "    One of: {listed}.");
            }
        }
    }
    let _ = writeln!(
        doc,
        "dry_run : bool, default False\n    Sign the request and return it as a ``SignedRequest`` (secrets masked) \
         instead of sending it."
    );
    let _ = writeln!(
        doc,
        "\nReturns\n-------\nThe answer's fields ({schema} in the spec) as attributes; a ``SignedRequest`` with \
         ``dry_run=True``.",
        schema = op.response
    );
    let _ = write!(
        doc,
        "\nRaises\n------\nInvalidRequestError\n    An argument breaks the spec's rules (its name is the error's \
         ``field``); nothing is sent.\nApiError\n    The service refused the call: its subclass follows the error \
         kind ({statuses}).\nTransportError\n    No answer (``RequestTimeoutError`` when a timeout ran out).\n\
         UndecodableResponseError\n    The answer is not the documented one.",
        statuses = op.errors.iter().map(|(code, _)| code.to_string()).collect::<Vec<_>>().join(", ")
    );
    doc
}

/// A value's Python type in the stubs.
fn python_type(value: &ValueSpec) -> String {
    match value.kind {
        "String" if !value.enum_values.is_empty() && !value.open => {
            let listed: Vec<String> = value.enum_values.iter().map(|v| format!("{v:?}")).collect();
            format!("Literal[{}]", listed.join(", "))
        }
        "String" => "str".to_owned(),
        "Integer" => "int".to_owned(),
        "Number" => "float".to_owned(),
        "Boolean" => "bool".to_owned(),
        "Array" => format!("Sequence[{}]", value.items.as_deref().map(python_type).unwrap_or_else(|| "Any".to_owned())),
        _ => "Mapping[str, Any]".to_owned(),
    }
}

/// The stub of the compiled module: `template` (the hand-written stubs of everything but the
/// operations) with each `# @operations <Class>` line replaced by the operation methods of
/// that class, typed from the spec. A method returns the class the template names
/// `_<response schema>`, so an operation whose answer has no Python class fails the stub check.
pub fn python_stub(spec: &str, template: &str) -> Result<String, Error> {
    let model = crate::model(spec)?;
    let mut out = String::from(
        "# @generated by `cargo xtask regenerate` from python/native.pyi.template and openapi/workspace.yaml. \
         Do not edit.\n",
    );
    let mut placed = Vec::new();
    for line in template.lines() {
        let trimmed = line.trim_start();
        let Some(class) = trimmed.strip_prefix(STUB_MARKER) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let indent = &line[..line.len() - trimmed.len()];
        let (_, asynchronous) = CLASSES
            .iter()
            .find(|(name, _)| *name == class.trim())
            .ok_or_else(|| Error::Spec(format!("the stub template marks an unknown class {class:?}")))?;
        for op in &model.operations {
            out.push_str(&stub_method(op, indent, *asynchronous));
            if let Some(paging) = &op.paging {
                out.push_str(&stub_iter_method(op, paging, indent, *asynchronous));
            }
        }
        placed.push(class.trim().to_owned());
    }
    for (class, _) in CLASSES {
        if !placed.iter().any(|p| p == class) {
            return Err(Error::Spec(format!("the stub template has no `{STUB_MARKER}{class}` line")));
        }
    }
    Ok(out)
}

fn stub_iter_method(op: &OperationSpec, paging: &PagingSpec, indent: &str, asynchronous: bool) -> String {
    let mut parameters = vec!["self".to_owned(), "*".to_owned()];
    for field in listing_fields(op, paging) {
        parameters.push(format!("{}: Optional[{}] = None", field.name, python_type(&field.value)));
    }
    parameters.extend(["page_size: Optional[int] = None".to_owned(), "max_items: Optional[int] = None".to_owned()]);
    let listing = if asynchronous { "AsyncListing" } else { "Listing" };
    format!(
        "{indent}def {name}({params}) -> {listing}[{schema}]:\n{indent}    \"\"\"Every item of {id}, page after page, each once.\"\"\"\n",
        name = iter_name(paging),
        params = parameters.join(", "),
        schema = paging.item_schema,
        id = op.id,
    )
}

fn stub_method(op: &OperationSpec, indent: &str, asynchronous: bool) -> String {
    let mut parameters = vec!["self".to_owned()];
    parameters.extend(rendered(op, |field| {
        let ty = python_type(&field.value);
        match (field.required, field.value.default.is_some()) {
            (true, false) => format!("{}: {ty}", field.name),
            (true, true) => format!("{}: Optional[{ty}] = ...", field.name),
            (false, _) => format!("{}: Optional[{ty}] = None", field.name),
        }
    }));
    let method = crate::snake_case(&op.id);
    let answer = format!("_{}", op.response);
    let def = if asynchronous { "async def" } else { "def" };
    let mut out = String::new();
    let summary = op.summary.trim().replace('"', "'");
    for (dry_run, returns) in
        [("dry_run: Literal[False] = False", answer.as_str()), ("dry_run: Literal[True]", "SignedRequest")]
    {
        let _ = writeln!(
            out,
            "{indent}@overload\n{indent}{def} {method}({params}, {dry_run}) -> {returns}:\n{indent}    \"\"\"{summary}.\"\"\"",
            params = parameters.join(", "),
        );
    }
    out
}

/// The Python classes of the answers' objects (`python/src/hwc_workspace/_records.py`): one
/// class per object schema an operation's answer holds, with one typed attribute per property
/// (documented from the spec), on the hand-written base `Record` (`_record.py`), which reads
/// them from the answer's JSON by the `_FIELDS` table each class carries.
pub fn python_records(spec: &str) -> Result<String, Error> {
    let model = crate::model(spec)?;
    let mut wanted: Vec<&str> = model.operations.iter().map(|op| op.response.as_str()).collect();
    let mut classes: Vec<&crate::SchemaSpec> = Vec::new();
    while let Some(name) = wanted.pop() {
        let Some(schema) = model.schemas.iter().find(|s| s.name == name) else { continue };
        if classes.iter().any(|c| c.name == name) {
            continue;
        }
        classes.push(schema);
        for property in &schema.properties {
            wanted.extend(record_of(&property.value).map(|(name, _)| name));
        }
    }
    // The spec's order, so that the file reads as the spec does and stays stable.
    classes.sort_by_key(|c| model.schemas.iter().position(|s| s.name == c.name));
    let mut out = format!(
        "# {}\n\"\"\"The objects of the API's answers: one class per object schema of the spec, each property an \
         attribute (``None`` when the service left it out).\"\"\"\n\n\
         # Annotations name classes defined further down.\nfrom __future__ import annotations\n\nfrom typing import List, Optional\n\n\
         from ._record import Record\n\n__all__ = [{}]\n",
        GENERATED_HEADER.trim_start_matches("// ").trim_start_matches("# "),
        classes.iter().map(|c| format!("{:?}", c.name)).collect::<Vec<_>>().join(", ")
    );
    for class in classes {
        let names: Vec<String> = class.properties.iter().map(|p| format!("{:?}", p.name)).collect();
        let fields: Vec<String> = class
            .properties
            .iter()
            .map(|p| {
                let kind = match record_of(&p.value) {
                    Some((name, true)) => format!("(\"list\", {name:?})"),
                    Some((name, false)) => format!("{name:?}"),
                    None => "None".to_owned(),
                };
                format!("({:?}, {kind})", p.name)
            })
            .collect();
        let description =
            if class.description.trim().is_empty() { class.name.clone() } else { class.description.trim().to_owned() };
        let _ = write!(
            out,
            "\n\nclass {name}(Record):\n    \"\"\"{doc}\"\"\"\n\n    __slots__ = ({slots})\n    _FIELDS = ({fields})\n",
            name = class.name,
            doc = description.replace('\\', "\\\\").replace("\"\"\"", "'''"),
            slots = if names.is_empty() { String::new() } else { format!("{},", names.join(", ")) },
            fields = if fields.is_empty() { String::new() } else { format!("{},", fields.join(", ")) },
        );
        for property in &class.properties {
            let ty = record_type(&property.value);
            let ty = if property.required { ty } else { format!("Optional[{ty}]") };
            let _ = write!(
                out,
                "\n    {}: {ty}\n    \"\"\"{}\"\"\"\n",
                property.name,
                property.description.trim().replace('\\', "\\\\").replace("\"\"\"", "'''").replace('\n', "\n    ")
            );
        }
    }
    Ok(out)
}

/// The record class a property holds, and whether it holds a list of them.
fn record_of(value: &ValueSpec) -> Option<(&str, bool)> {
    match value.kind {
        "Object" => value.schema.as_deref().map(|name| (name, false)),
        "Array" => value.items.as_deref().and_then(record_of).filter(|(_, list)| !list).map(|(name, _)| (name, true)),
        _ => None,
    }
}

/// A property's Python type in the records.
fn record_type(value: &ValueSpec) -> String {
    match (value.kind, record_of(value)) {
        (_, Some((name, false))) => name.to_owned(),
        (_, Some((name, true))) => format!("List[{name}]"),
        ("Array", None) => {
            format!("List[{}]", value.items.as_deref().map(record_type).unwrap_or_else(|| "object".to_owned()))
        }
        ("String", _) => "str".to_owned(),
        ("Integer", _) => "int".to_owned(),
        ("Number", _) => "float".to_owned(),
        ("Boolean", _) => "bool".to_owned(),
        _ => "object".to_owned(),
    }
}
