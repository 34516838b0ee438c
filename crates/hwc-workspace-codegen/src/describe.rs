//! The operation description: every operation of the spec as data (id, method, path, each
//! parameter and body field with its type, limits, required-ness and description, the success
//! schema, the documented error statuses), plus the dispatch that sends an operation from a
//! checked JSON input through the generated client. Every front reads this instead of
//! restating a name, a limit or a description the spec holds.

use std::fmt::Write as _;

use openapiv3::{
    OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, RequestBody, Response, Schema, SchemaKind, Type,
};

use crate::{Error, GENERATED_HEADER};

/// A value's type and limits, read from the spec (the data behind `hwc_workspace::operation::Value`).
#[derive(Debug, Clone, Default)]
pub struct ValueSpec {
    /// `String`, `Integer`, `Number`, `Boolean`, `Array` or `Object`.
    pub kind: &'static str,
    /// The component schema it is, when it is a named one.
    pub schema: Option<String>,
    /// The values it may take (for an open list, the known ones).
    pub enum_values: Vec<String>,
    /// Whether other values pass through (`x-extensible-enum`).
    pub open: bool,
    /// Fewest characters.
    pub min_length: Option<usize>,
    /// Most characters.
    pub max_length: Option<usize>,
    /// Smallest number.
    pub minimum: Option<i64>,
    /// Largest number.
    pub maximum: Option<i64>,
    /// Fewest items.
    pub min_items: Option<usize>,
    /// Most items.
    pub max_items: Option<usize>,
    /// The service's default, as text.
    pub default: Option<String>,
    /// A list's items.
    pub items: Option<Box<ValueSpec>>,
}

/// A parameter, body field or schema property, read from the spec.
#[derive(Debug)]
pub struct FieldSpec {
    /// As the API names it.
    pub name: String,
    /// `Path`, `Query`, `Header` or `Body`.
    pub location: &'static str,
    /// Whether it is required.
    pub required: bool,
    /// The spec's description.
    pub description: String,
    /// Its type and limits.
    pub value: ValueSpec,
}

impl FieldSpec {
    /// The project id of the path is the client's setting, not an argument of a call: the rule
    /// of `hwc_workspace::operation::Field::is_client_setting`, which the generated dispatch
    /// and Python methods follow (the core refuses a project id given per call either way).
    pub(crate) fn is_client_setting(&self) -> bool {
        self.location == "Path" && self.name == "project_id"
    }
}

/// An operation, read from the spec.
#[derive(Debug)]
pub struct OperationSpec {
    /// `operationId`.
    pub id: String,
    /// Upper case.
    pub method: String,
    /// The path template.
    pub path: String,
    /// One line.
    pub summary: String,
    /// Paragraphs.
    pub description: String,
    /// The first tag.
    pub tag: String,
    /// Parameters, then body fields.
    pub fields: Vec<FieldSpec>,
    /// The success answer's schema name.
    pub response: String,
    /// Documented error statuses and their descriptions.
    pub errors: Vec<(u16, String)>,
    /// How its answers are paged (`x-paging`), if they are.
    pub paging: Option<PagingSpec>,
}

/// The spec's `x-paging` of an operation: the names of its offset and limit parameters, of the
/// answer's total and list of items, and of each item's id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagingSpec {
    pub offset: String,
    pub limit: String,
    pub total: String,
    pub items: String,
    pub item_id: String,
    /// The schema of the items, found by [`check_paging`] (not written in `x-paging`).
    #[serde(skip)]
    pub item_schema: String,
}

/// An object schema, read from the spec.
#[derive(Debug)]
pub struct SchemaSpec {
    /// Its component name.
    pub name: String,
    /// The spec's description.
    pub description: String,
    /// Its properties.
    pub properties: Vec<FieldSpec>,
}

/// Everything the fronts derive from the spec: the operations and the object schemas. The
/// core's generated description and any other derived file (Python stubs) render this.
#[derive(Debug)]
pub struct Model {
    /// In the spec's order.
    pub operations: Vec<OperationSpec>,
    /// In the spec's order.
    pub schemas: Vec<SchemaSpec>,
}

/// Reads the model from the spec's text.
pub fn model(spec: &str) -> Result<Model, Error> {
    let api = crate::parse_spec(spec)?;
    let mut model = Model { operations: operations(&api)?, schemas: schemas(&api)? };
    for index in 0..model.operations.len() {
        let item_schema = check_paging(&model.operations[index], &model.schemas)?;
        if let Some(paging) = &mut model.operations[index].paging {
            paging.item_schema = item_schema;
        }
    }
    Ok(model)
}

/// `SomeOperation` as `some_operation`: the generated client's method name, and the fronts'.
pub fn snake_case(name: &str) -> String {
    snake(name)
}

/// Generates the operation description from the spec's text: formatted Rust that starts with
/// [`GENERATED_HEADER`] and is included by the core crate as `crate::operations`.
pub fn describe(spec: &str) -> Result<String, Error> {
    let model = model(spec)?;
    let code = render(&model.operations, &model.schemas);
    let file: syn::File = syn::parse_str(&code).map_err(|e| Error::Format(format!("{e}\n{code}")))?;
    Ok(format!("{GENERATED_HEADER}\n\n{}", prettyplease::unparse(&file)))
}

fn operations(api: &OpenAPI) -> Result<Vec<OperationSpec>, Error> {
    let mut out = Vec::new();
    for (path, item) in api.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            return Err(Error::Spec(format!("{path}: path references are not supported")));
        };
        for (method, operation) in item.iter() {
            let id = operation
                .operation_id
                .clone()
                .ok_or_else(|| Error::Spec(format!("{method} {path} has no operationId")))?;
            let mut fields = Vec::new();
            for parameter in item.parameters.iter().chain(&operation.parameters) {
                let parameter = resolve_parameter(api, parameter)?;
                let (data, location) = match parameter {
                    Parameter::Path { parameter_data, .. } => (parameter_data, "Path"),
                    Parameter::Query { parameter_data, .. } => (parameter_data, "Query"),
                    Parameter::Header { parameter_data, .. } => (parameter_data, "Header"),
                    Parameter::Cookie { .. } => {
                        return Err(Error::Spec(format!("{id}: cookie parameters are not supported")));
                    }
                };
                let ParameterSchemaOrContent::Schema(schema) = &data.format else {
                    return Err(Error::Spec(format!("{id}.{}: parameters need a schema", data.name)));
                };
                let (value, described) = value_of(api, schema)?;
                fields.push(FieldSpec {
                    name: data.name.clone(),
                    location,
                    required: data.required,
                    description: data.description.clone().or(described).unwrap_or_default(),
                    value,
                });
            }
            if let Some(body) = &operation.request_body {
                let body = resolve_body(api, body)?;
                let media = body
                    .content
                    .get("application/json")
                    .ok_or_else(|| Error::Spec(format!("{id}: the request body must be application/json")))?;
                let schema = media.schema.as_ref().ok_or_else(|| Error::Spec(format!("{id}: body without schema")))?;
                let (_, object) = resolve_schema(api, schema)?;
                let SchemaKind::Type(Type::Object(object)) = &object.schema_kind else {
                    return Err(Error::Spec(format!("{id}: the request body must be an object")));
                };
                for (name, property) in &object.properties {
                    let (value, described) = value_of_boxed(api, property)?;
                    fields.push(FieldSpec {
                        name: name.clone(),
                        location: "Body",
                        required: object.required.contains(name),
                        description: described.unwrap_or_default(),
                        value,
                    });
                }
            }
            let mut response = None;
            let mut errors = Vec::new();
            for (status, answer) in &operation.responses.responses {
                let openapiv3::StatusCode::Code(code) = status else {
                    return Err(Error::Spec(format!("{id}: status ranges are not supported")));
                };
                let answer = resolve_response(api, answer)?;
                if (200..300).contains(code) {
                    let schema = answer
                        .content
                        .get("application/json")
                        .and_then(|media| media.schema.as_ref())
                        .ok_or_else(|| Error::Spec(format!("{id}: the {code} answer needs a JSON schema")))?;
                    response = Some(schema_name(schema).ok_or_else(|| {
                        Error::Spec(format!("{id}: the {code} answer's schema must be a named component"))
                    })?);
                } else {
                    errors.push((*code, first_line(&answer.description)));
                }
            }
            out.push(OperationSpec {
                id: id.clone(),
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                summary: operation.summary.clone().unwrap_or_default(),
                description: operation.description.clone().unwrap_or_default(),
                tag: operation.tags.first().cloned().unwrap_or_default(),
                fields,
                response: response.ok_or_else(|| Error::Spec(format!("{id} documents no success answer")))?,
                errors,
                paging: operation
                    .extensions
                    .get("x-paging")
                    .map(|paging| serde_json::from_value(paging.clone()))
                    .transpose()
                    .map_err(|e| Error::Spec(format!("{id}: x-paging: {e}")))?,
            });
        }
    }
    Ok(out)
}

/// An `x-paging` must name what the operation has: integer query parameters for the offset
/// and limit, an integer total and a list of objects in the answer, and an id in each item.
/// Returns the items' schema (empty for an operation that is not paged).
fn check_paging(operation: &OperationSpec, schemas: &[SchemaSpec]) -> Result<String, Error> {
    let Some(paging) = &operation.paging else { return Ok(String::new()) };
    let refuse = |what: String| Error::Spec(format!("{}: x-paging: {what}", operation.id));
    for name in [&paging.offset, &paging.limit] {
        let field = operation.fields.iter().find(|f| &f.name == name && f.location == "Query");
        if field.is_none_or(|f| f.value.kind != "Integer") {
            return Err(refuse(format!("{name} is not an integer query parameter")));
        }
    }
    let schema = |name: &str| schemas.iter().find(|s| s.name == name);
    let answer = schema(&operation.response).ok_or_else(|| refuse(format!("{} is no object", operation.response)))?;
    let property = |name: &str| answer.properties.iter().find(|p| p.name == name);
    if property(&paging.total).is_none_or(|p| p.value.kind != "Integer") {
        return Err(refuse(format!("{} is not an integer of {}", paging.total, answer.name)));
    }
    let item = property(&paging.items)
        .filter(|p| p.value.kind == "Array")
        .and_then(|p| p.value.items.as_ref()?.schema.as_deref().and_then(schema))
        .ok_or_else(|| refuse(format!("{} is not a list of objects in {}", paging.items, answer.name)))?;
    if !item.properties.iter().any(|p| p.name == paging.item_id && p.value.kind == "String") {
        return Err(refuse(format!("{} is not a text property of {}", paging.item_id, item.name)));
    }
    Ok(item.name.clone())
}

/// Every object schema of the components, with its properties: the shapes of the answers.
fn schemas(api: &OpenAPI) -> Result<Vec<SchemaSpec>, Error> {
    let mut out = Vec::new();
    let Some(components) = &api.components else { return Ok(out) };
    for (name, schema) in &components.schemas {
        let (_, schema) = resolve_schema(api, schema)?;
        let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else { continue };
        let mut properties = Vec::new();
        for (property, value) in &object.properties {
            let (value, described) = value_of_boxed(api, value)?;
            properties.push(FieldSpec {
                name: property.clone(),
                location: "Body",
                required: object.required.contains(property),
                description: described.unwrap_or_default(),
                value,
            });
        }
        out.push(SchemaSpec {
            name: name.clone(),
            description: schema.schema_data.description.clone().unwrap_or_default(),
            properties,
        });
    }
    Ok(out)
}

fn first_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn schema_name<T>(reference: &ReferenceOr<T>) -> Option<String> {
    match reference {
        ReferenceOr::Reference { reference } => reference.rsplit('/').next().map(str::to_owned),
        ReferenceOr::Item(_) => None,
    }
}

fn component<'a, T>(
    reference: &str,
    kind: &str,
    map: Option<&'a indexmap::IndexMap<String, ReferenceOr<T>>>,
) -> Result<&'a ReferenceOr<T>, Error> {
    let prefix = format!("#/components/{kind}/");
    let name =
        reference.strip_prefix(&prefix).ok_or_else(|| Error::Spec(format!("unsupported reference {reference}")))?;
    map.and_then(|map| map.get(name)).ok_or_else(|| Error::Spec(format!("unresolved reference {reference}")))
}

fn resolve_parameter<'a>(api: &'a OpenAPI, p: &'a ReferenceOr<Parameter>) -> Result<&'a Parameter, Error> {
    let mut current = p;
    for _ in 0..8 {
        match current {
            ReferenceOr::Item(item) => return Ok(item),
            ReferenceOr::Reference { reference } => {
                current = component(reference, "parameters", api.components.as_ref().map(|c| &c.parameters))?
            }
        }
    }
    Err(Error::Spec("parameter references nest too deep".to_owned()))
}

fn resolve_body<'a>(api: &'a OpenAPI, p: &'a ReferenceOr<RequestBody>) -> Result<&'a RequestBody, Error> {
    let mut current = p;
    for _ in 0..8 {
        match current {
            ReferenceOr::Item(item) => return Ok(item),
            ReferenceOr::Reference { reference } => {
                current = component(reference, "requestBodies", api.components.as_ref().map(|c| &c.request_bodies))?
            }
        }
    }
    Err(Error::Spec("request body references nest too deep".to_owned()))
}

fn resolve_response<'a>(api: &'a OpenAPI, p: &'a ReferenceOr<Response>) -> Result<&'a Response, Error> {
    let mut current = p;
    for _ in 0..8 {
        match current {
            ReferenceOr::Item(item) => return Ok(item),
            ReferenceOr::Reference { reference } => {
                current = component(reference, "responses", api.components.as_ref().map(|c| &c.responses))?
            }
        }
    }
    Err(Error::Spec("response references nest too deep".to_owned()))
}

/// The schema behind a reference, and the name of the last component it went through.
fn resolve_schema<'a>(api: &'a OpenAPI, s: &'a ReferenceOr<Schema>) -> Result<(Option<String>, &'a Schema), Error> {
    let mut current = s;
    let mut name = None;
    for _ in 0..8 {
        match current {
            ReferenceOr::Item(item) => return Ok((name, item)),
            ReferenceOr::Reference { reference } => {
                name = reference.rsplit('/').next().map(str::to_owned);
                current = component(reference, "schemas", api.components.as_ref().map(|c| &c.schemas))?
            }
        }
    }
    Err(Error::Spec("schema references nest too deep".to_owned()))
}

fn value_of_boxed(api: &OpenAPI, s: &ReferenceOr<Box<Schema>>) -> Result<(ValueSpec, Option<String>), Error> {
    match s {
        ReferenceOr::Reference { reference } => value_of(api, &ReferenceOr::Reference { reference: reference.clone() }),
        ReferenceOr::Item(item) => value_of(api, &ReferenceOr::Item((**item).clone())),
    }
}

/// A schema as a value description, and its own description.
fn value_of(api: &OpenAPI, s: &ReferenceOr<Schema>) -> Result<(ValueSpec, Option<String>), Error> {
    let (name, schema) = resolve_schema(api, s)?;
    let mut value = ValueSpec { schema: name, ..ValueSpec::default() };
    if let Some(default) = &schema.schema_data.default {
        value.default = Some(match default {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        });
    }
    let extensible = schema.schema_data.extensions.get("x-extensible-enum");
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(string)) => {
            value.kind = "String";
            value.min_length = string.min_length;
            value.max_length = string.max_length;
            value.enum_values = string.enumeration.iter().flatten().cloned().collect();
            if let Some(serde_json::Value::Array(open)) = extensible {
                value.open = true;
                value.enum_values = open.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
            }
        }
        SchemaKind::Type(Type::Integer(integer)) => {
            value.kind = "Integer";
            value.minimum = integer.minimum.map(|m| if integer.exclusive_minimum { m + 1 } else { m });
            value.maximum = integer.maximum.map(|m| if integer.exclusive_maximum { m - 1 } else { m });
        }
        SchemaKind::Type(Type::Number(_)) => value.kind = "Number",
        SchemaKind::Type(Type::Boolean(_)) => value.kind = "Boolean",
        SchemaKind::Type(Type::Array(array)) => {
            value.kind = "Array";
            value.min_items = array.min_items;
            value.max_items = array.max_items;
            let items = array.items.as_ref().ok_or_else(|| Error::Spec("an array without items".to_owned()))?;
            value.items = Some(Box::new(value_of_boxed(api, items)?.0));
        }
        SchemaKind::Type(Type::Object(_)) => value.kind = "Object",
        // An untyped schema with an open list of values (`x-extensible-enum` alone) is text.
        SchemaKind::Any(_) if extensible.is_some() => {
            value.kind = "String";
            if let Some(serde_json::Value::Array(open)) = extensible {
                value.open = true;
                value.enum_values = open.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
            }
        }
        other => return Err(Error::Spec(format!("unsupported schema kind {other:?}"))),
    }
    Ok((value, schema.schema_data.description.clone()))
}

fn lit(text: &str) -> String {
    format!("{text:?}")
}

fn option<T: std::fmt::Display>(value: Option<T>) -> String {
    match value {
        Some(v) => format!("Some({v})"),
        None => "None".to_owned(),
    }
}

fn render_value(value: &ValueSpec) -> String {
    let enum_values: Vec<String> = value.enum_values.iter().map(|v| lit(v)).collect();
    format!(
        "Value {{ kind: Kind::{kind}, schema: {schema}, enum_values: &[{values}], open: {open}, min_length: {min_length}, \
         max_length: {max_length}, minimum: {minimum}, maximum: {maximum}, min_items: {min_items}, max_items: {max_items}, \
         default: {default}, items: {items} }}",
        kind = value.kind,
        schema = option(value.schema.as_deref().map(lit)),
        values = enum_values.join(", "),
        open = value.open,
        min_length = option(value.min_length),
        max_length = option(value.max_length),
        minimum = option(value.minimum.map(|m| format!("{m}i64"))),
        maximum = option(value.maximum.map(|m| format!("{m}i64"))),
        min_items = option(value.min_items),
        max_items = option(value.max_items),
        default = option(value.default.as_deref().map(lit)),
        items = option(value.items.as_deref().map(|items| format!("&{}", render_value(items)))),
    )
}

fn render_field(field: &FieldSpec) -> String {
    format!(
        "Field {{ name: {}, location: Location::{}, required: {}, description: {}, value: {} }}",
        lit(&field.name),
        field.location,
        field.required,
        lit(field.description.trim()),
        render_value(&field.value)
    )
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn render(operations: &[OperationSpec], schemas: &[SchemaSpec]) -> String {
    let mut code = String::new();
    code.push_str(
        "use crate::operation::{Field, Kind, Location, Operation, Paging, Property, Schema, Status, Value};\n",
    );
    code.push_str(
        "/// Every operation of the spec. Not `non_exhaustive` on purpose: a front's `match` over it \
         must name each operation, so a new one does not compile until every front names it.\n",
    );
    code.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]\npub enum OperationId {\n");
    for op in operations {
        let _ = writeln!(code, "/// `{} {}`: {}\n{},", op.method, op.path, op.summary, op.id);
    }
    code.push_str("}\n");
    code.push_str(
        "impl OperationId {\n/// Every operation, in the spec's order.\npub const ALL: &'static [OperationId] = &[",
    );
    for op in operations {
        let _ = write!(code, "OperationId::{}, ", op.id);
    }
    code.push_str("];\n/// The operation's description.\npub fn describe(self) -> &'static Operation { match self {");
    for op in operations {
        let _ = write!(code, "OperationId::{} => &{},", op.id, snake(&op.id).to_ascii_uppercase());
    }
    code.push_str("} }\n}\n");
    for op in operations {
        let fields: Vec<String> = op.fields.iter().map(render_field).collect();
        let errors: Vec<String> = op
            .errors
            .iter()
            .map(|(code, text)| format!("Status {{ code: {code}, description: {} }}", lit(text)))
            .collect();
        let paging = match &op.paging {
            None => "None".to_owned(),
            Some(p) => format!(
                "Some(Paging {{ offset: {}, limit: {}, total: {}, items: {}, item_id: {}, item_schema: {} }})",
                lit(&p.offset),
                lit(&p.limit),
                lit(&p.total),
                lit(&p.items),
                lit(&p.item_id),
                lit(&p.item_schema),
            ),
        };
        let _ = writeln!(
            code,
            "/// The description of `{id}`.\npub static {konst}: Operation = Operation {{ id: OperationId::{id}, name: {name}, \
             method: {method}, path: {path}, summary: {summary}, description: {description}, tag: {tag}, \
             fields: &[{fields}], response: {response}, errors: &[{errors}], paging: {paging} }};",
            id = op.id,
            konst = snake(&op.id).to_ascii_uppercase(),
            name = lit(&op.id),
            method = lit(&op.method),
            path = lit(&op.path),
            summary = lit(&op.summary),
            description = lit(op.description.trim()),
            tag = lit(&op.tag),
            fields = fields.join(", "),
            response = lit(&op.response),
            errors = errors.join(", "),
        );
    }
    code.push_str(
        "/// Every object schema of the spec: the shapes of requests and answers.\npub static SCHEMAS: &[Schema] = &[",
    );
    for SchemaSpec { name, description, properties } in schemas {
        let properties: Vec<String> = properties
            .iter()
            .map(|p| {
                format!(
                    "Property {{ name: {}, required: {}, description: {}, value: {} }}",
                    lit(&p.name),
                    p.required,
                    lit(p.description.trim()),
                    render_value(&p.value)
                )
            })
            .collect();
        let _ = write!(
            code,
            "Schema {{ name: {}, description: {}, properties: &[{}] }},",
            lit(name),
            lit(description.trim()),
            properties.join(", ")
        );
    }
    code.push_str("];\n");
    code
}

/// Generates the dispatch from the spec's text: the one function that sends any operation
/// through the generated client, included by the core crate at its client layer (the
/// description above stays below it, where every layer may read it).
pub fn dispatch(spec: &str) -> Result<String, Error> {
    let model = model(spec)?;
    let code = render_dispatch(&model.operations);
    let file: syn::File = syn::parse_str(&code).map_err(|e| Error::Format(format!("{e}\n{code}")))?;
    Ok(format!("{GENERATED_HEADER}\n\n{}", prettyplease::unparse(&file)))
}

/// The parameters in the order the generated method takes them (progenitor's): path
/// parameters as the path template names them, then query and then header parameters, each
/// by name.
fn in_generated_order(op: &OperationSpec) -> Vec<&FieldSpec> {
    let mut parameters: Vec<&FieldSpec> = op.fields.iter().filter(|f| f.location != "Body").collect();
    let rank = |f: &FieldSpec| match f.location {
        "Path" => (0, op.path.find(&format!("{{{}}}", f.name)).unwrap_or(usize::MAX), String::new()),
        "Query" => (1, 0, f.name.clone()),
        _ => (2, 0, f.name.clone()),
    };
    parameters.sort_by_key(|f| rank(f));
    parameters
}

/// The one generated function that turns a checked JSON input into a generated call: each
/// path parameter, query parameter and the body is deserialised into the generated client's
/// own type (inferred from the method's signature), so the spec's types stay the only ones.
fn render_dispatch(operations: &[OperationSpec]) -> String {
    let mut code = String::from(
        "/// Sends `id` with `input` (already checked against its description) through the generated \
         client, inside the core's call record; the answer comes back as JSON.\n\
         pub(crate) async fn send(call: &crate::calls::Call<'_>, id: crate::OperationId, input: &crate::operation::Input) \
         -> Result<crate::calls::Sent, crate::Error> {\n\
         let raw = call.raw();\n match id {\n",
    );
    for op in operations {
        let mut lets = String::new();
        let mut args = Vec::new();
        for (i, field) in in_generated_order(op).into_iter().enumerate() {
            if field.is_client_setting() {
                // The client's own, resolved for this call: never copied into the input.
                let _ = writeln!(lets, "let a{i} = call.project_id()?;");
                args.push(format!("&a{i}"));
                continue;
            }
            // How the generated method takes each kind: text as `&str`, numbers and booleans
            // by value, lists and path parameters (the generated newtypes) by reference.
            let path = field.location == "Path";
            let (turbofish, pass) = match field.value.kind {
                "String" if !path => ("::<String>", if field.required { "&a{i}" } else { "a{i}.as_deref()" }),
                "Integer" | "Number" | "Boolean" => ("", "a{i}"),
                _ => ("", if field.required { "&a{i}" } else { "a{i}.as_ref()" }),
            };
            let _ = writeln!(
                lets,
                "let a{i} = input.{}{turbofish}({})?;",
                if field.required { "required" } else { "optional" },
                lit(&field.name)
            );
            args.push(pass.replace("{i}", &i.to_string()));
        }
        if op.fields.iter().any(|f| f.location == "Body") {
            lets.push_str("let body = input.body(id.describe())?;\n");
            args.push("&body".to_owned());
        }
        let _ = writeln!(
            code,
            "crate::OperationId::{id} => {{ {lets} call.run(id, raw.{method}({args})).await }}",
            id = op.id,
            method = snake(&op.id),
            args = args.join(", "),
        );
    }
    code.push_str("}\n}\n");
    code
}
