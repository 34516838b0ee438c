//! The operations of the spec as data, and the one generic way to call any of them.
//!
//! [`crate::operations`] is generated from `openapi/workspace.yaml` by the codegen crate: an
//! [`OperationId`] per operation and its [`Operation`] description (parameters and body
//! fields with their types, limits, required-ness and descriptions; the success schema; the
//! documented error statuses), plus [`crate::operations::SCHEMAS`], the shapes of the
//! answers. The fronts (CLI, Python) build their commands, flags, keyword arguments, help
//! texts and stubs from it, and send through [`crate::Client::call`] /
//! [`crate::Client::sign`], which check the input against the same description
//! ([`validate`]) before anything is signed. A field added to the spec thus reaches every
//! front with no hand-written line.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};

use crate::error::{Error, InvalidInput, UndecodableResponse};

pub use crate::operations::OperationId;

/// An operation of the spec.
#[derive(Debug)]
pub struct Operation {
    /// Its id in the spec (`operationId`).
    pub id: OperationId,
    /// The id as text, e.g. `DeleteDesktopSubResources`.
    pub name: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path template, e.g. `/v2/{project_id}/workspace-jobs/{job_id}`.
    pub path: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Paragraphs.
    pub description: &'static str,
    /// The spec's group of the operation.
    pub tag: &'static str,
    /// Path, query and header parameters, then the body's fields.
    pub fields: &'static [Field],
    /// The schema of the success answer (see [`schema`]).
    pub response: &'static str,
    /// The documented error statuses.
    pub errors: &'static [Status],
    /// How its answers are paged, when they are (the spec's `x-paging`).
    pub paging: Option<Paging>,
}

/// How an operation's answers are paged, by the names the spec gives: the request's offset
/// (the first item's position, from 0) and limit (items per page), the answer's total count
/// and list of items, and the property that names each item. Every front pages through it
/// ([`crate::Client::items`]); no front names a paged operation's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// The offset parameter.
    pub offset: &'static str,
    /// The page-size parameter.
    pub limit: &'static str,
    /// The answer's total count of matching items.
    pub total: &'static str,
    /// The answer's list of items.
    pub items: &'static str,
    /// Each item's id.
    pub item_id: &'static str,
    /// The schema of each item (see [`schema`]).
    pub item_schema: &'static str,
}

impl Operation {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The fields a caller gives per call: every field but those the client supplies itself
    /// (see [`Field::is_client_setting`]).
    pub fn arguments(&self) -> impl Iterator<Item = &'static Field> {
        self.fields.iter().filter(|f| !f.is_client_setting())
    }

    /// Whether the request has a body.
    pub fn has_body(&self) -> bool {
        self.fields.iter().any(|f| f.location == Location::Body)
    }
}

/// A documented error status.
#[derive(Debug)]
pub struct Status {
    /// The HTTP status.
    pub code: u16,
    /// What it means, in the spec's words.
    pub description: &'static str,
}

/// Where a field travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A segment of the path.
    Path,
    /// A query parameter.
    Query,
    /// A header.
    Header,
    /// A member of the JSON body.
    Body,
}

/// A parameter or body field.
#[derive(Debug)]
pub struct Field {
    /// As the API names it, e.g. `desktop_ids`.
    pub name: &'static str,
    /// Where it travels.
    pub location: Location,
    /// Whether a call must give it.
    pub required: bool,
    /// The spec's description.
    pub description: &'static str,
    /// Its type and limits.
    pub value: Value,
}

impl Field {
    /// The project id of the path is the client's (its credentials chain and IAM lookup
    /// resolve it, and it is signed as `X-Project-Id` too), not an argument of each call.
    pub fn is_client_setting(&self) -> bool {
        self.location == Location::Path && self.name == "project_id"
    }
}

/// A property of an answer's schema.
#[derive(Debug)]
pub struct Property {
    /// As the API names it.
    pub name: &'static str,
    /// Whether the schema marks it required.
    pub required: bool,
    /// The spec's description.
    pub description: &'static str,
    /// Its type.
    pub value: Value,
}

/// An object schema of the spec.
#[derive(Debug)]
pub struct Schema {
    /// Its name among the spec's components.
    pub name: &'static str,
    /// The spec's description.
    pub description: &'static str,
    /// Its properties, in the spec's order.
    pub properties: &'static [Property],
}

/// The schema named `name`.
pub fn schema(name: &str) -> Option<&'static Schema> {
    crate::operations::SCHEMAS.iter().find(|s| s.name == name)
}

/// The JSON type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A list, of [`Value::items`].
    Array,
    /// An object, of the schema [`Value::schema`].
    Object,
}

/// A value's type and limits, as the spec gives them.
#[derive(Debug)]
pub struct Value {
    /// Its JSON type.
    pub kind: Kind,
    /// The spec's component it is, when it is a named one (e.g. `DesktopId`).
    pub schema: Option<&'static str>,
    /// The values it may take (for an open list, the known ones).
    pub enum_values: &'static [&'static str],
    /// Whether values beyond [`Value::enum_values`] pass through (`x-extensible-enum`).
    pub open: bool,
    /// Fewest characters.
    pub min_length: Option<usize>,
    /// Most characters.
    pub max_length: Option<usize>,
    /// Smallest number.
    pub minimum: Option<i64>,
    /// Largest number.
    pub maximum: Option<i64>,
    /// Fewest items of a list.
    pub min_items: Option<usize>,
    /// Most items of a list.
    pub max_items: Option<usize>,
    /// The spec's default, as text: the service's for an optional field; for a required one,
    /// what the client sends when a call leaves it out ([`with_defaults`]).
    pub default: Option<&'static str>,
    /// A list's items.
    pub items: Option<&'static Value>,
}

impl Value {
    /// A value of `kind` with no limits, no values listed and no schema: the start of a
    /// description written by hand (tests of a front's handling of kinds the spec has none
    /// of yet).
    pub const fn of(kind: Kind) -> Self {
        Self {
            kind,
            schema: None,
            enum_values: &[],
            open: false,
            min_length: None,
            max_length: None,
            minimum: None,
            maximum: None,
            min_items: None,
            max_items: None,
            default: None,
            items: None,
        }
    }

    /// The limits in words, e.g. "at most 255 characters" or "1 to 100 items".
    pub fn limits(&self) -> String {
        let range = |min: Option<String>, max: Option<String>, unit: &str| match (min, max) {
            (Some(min), Some(max)) => format!("{min} to {max}{unit}"),
            (Some(min), None) => format!("at least {min}{unit}"),
            (None, Some(max)) => format!("at most {max}{unit}"),
            (None, None) => String::new(),
        };
        match self.kind {
            Kind::String => range(
                self.min_length.filter(|&n| n > 0).map(|n| n.to_string()),
                self.max_length.map(|n| n.to_string()),
                " characters",
            ),
            Kind::Integer | Kind::Number => {
                range(self.minimum.map(|n| n.to_string()), self.maximum.map(|n| n.to_string()), "")
            }
            Kind::Array => range(
                self.min_items.map(|n| n.to_string()),
                self.max_items.map(|n| n.to_string()),
                if self.max_items == Some(1) { " item" } else { " items" },
            ),
            Kind::Boolean | Kind::Object => String::new(),
        }
    }
}

/// The arguments of one call: field name to JSON value, as the spec names them.
/// (`Eq`: JSON numbers here are whole or finite, never NaN.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    values: Map<String, Json>,
}

impl Input {
    /// No arguments yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value` (anything serde can write as JSON).
    pub fn set(&mut self, name: impl Into<String>, value: impl Serialize) -> &mut Self {
        let value = serde_json::to_value(value).unwrap_or(Json::Null);
        self.values.insert(name.into(), value);
        self
    }

    /// With `name` set to `value`.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        self.set(name, value);
        self
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&Json> {
        self.values.get(name).filter(|v| !v.is_null())
    }

    /// Every argument, by name.
    pub fn values(&self) -> &Map<String, Json> {
        &self.values
    }

    /// The input of a JSON object (a request file).
    pub fn from_map(values: Map<String, Json>) -> Self {
        Self { values }
    }

    /// Every argument, by name, given back (a bulk front takes its long list out of them
    /// without copying it).
    pub fn into_map(self) -> Map<String, Json> {
        self.values
    }

    /// A required parameter, as the generated client's type for it (the dispatch infers it).
    pub(crate) fn required<T: DeserializeOwned>(&self, name: &'static str) -> Result<T, Error> {
        let value = self.get(name).ok_or_else(|| InvalidInput::new(name, "a value", "nothing"))?;
        decode(name, value)
    }

    /// An optional parameter.
    #[allow(dead_code, reason = "the dispatch calls it for optional parameters, which the spec has none of today")]
    pub(crate) fn optional<T: DeserializeOwned>(&self, name: &'static str) -> Result<Option<T>, Error> {
        self.get(name).map(|value| decode(name, value)).transpose()
    }

    /// The body, as the generated request type: the values of the operation's body fields.
    pub(crate) fn body<T: DeserializeOwned>(&self, operation: &Operation) -> Result<T, Error> {
        // Read in place, as a map of the body's fields: no copy of the values (a list of 100
        // ids) is made on the way to the generated type.
        let fields = operation
            .fields
            .iter()
            .filter(|f| f.location == Location::Body)
            .filter_map(|f| self.get(f.name).map(|v| (f.name, v)));
        let body: serde::de::value::MapDeserializer<'_, _, serde_json::Error> =
            serde::de::value::MapDeserializer::new(fields);
        T::deserialize(body)
            .map_err(|e| InvalidInput::new(operation.name, "a body the spec describes", e.to_string()).into())
    }
}

fn decode<T: DeserializeOwned>(name: &'static str, value: &Json) -> Result<T, Error> {
    T::deserialize(value).map_err(|e| InvalidInput::new(name, "a value the spec allows", e.to_string()).into())
}

/// Checks `input` against the operation's description, so that a bad call fails here, naming
/// the field (and a list item's index), and never reaches the service: no unknown field;
/// every required one; each value of its type, within its lengths, item counts and bounds;
/// a closed enum's listed values; and the core's own rules for the values the spec names
/// (a desktop id follows [`crate::DESKTOP_ID_RULE`]; a path parameter stays one segment).
pub fn validate(operation: &Operation, input: &Input) -> Result<(), Error> {
    for name in input.values.keys() {
        if operation.field(name).is_none() && !input.values[name].is_null() {
            let known: Vec<&str> = operation.arguments().map(|f| f.name).collect();
            return Err(InvalidInput::unknown(
                operation.name,
                name,
                format!("one of the fields of {}: {}", operation.name, known.join(", ")),
            )
            .into());
        }
    }
    for field in operation.fields {
        match input.get(field.name) {
            None if field.required && !field.is_client_setting() => {
                return Err(InvalidInput::new(field.name, describe_expected(field), "nothing").into());
            }
            None => {}
            Some(value) => check_value(field, &field.value, value, None)?,
        }
    }
    Ok(())
}

/// Checks the arguments of a call ([`Client::call`], [`Client::sign`] and the fronts, before
/// the client fills in its own settings): [`validate`], and no field the client supplies
/// itself (a project id given per call is refused rather than silently replaced by the
/// client's). The simulator, which sees whole requests, calls [`validate`] alone.
pub fn check_arguments(operation: &Operation, input: &Input) -> Result<(), Error> {
    if let Some(field) = operation.fields.iter().find(|f| f.is_client_setting() && input.get(f.name).is_some()) {
        return Err(InvalidInput::new(
            field.name,
            "the client's project (set when the client is built, HUAWEICLOUD_SDK_PROJECT_ID, or the credentials chain), \
             not an argument of a call",
            "a value in the call",
        )
        .into());
    }
    validate(operation, &with_defaults(operation, input))
}

/// `input` with the spec's default of each required field it leaves out (e.g. the one known
/// `sub_resource_type`): what the client sends. A call may omit such a field, while the
/// service, and the simulator's [`validate`], still require it in the request.
pub fn with_defaults<'a>(operation: &Operation, input: &'a Input) -> std::borrow::Cow<'a, Input> {
    let missing = |f: &&Field| f.required && f.value.default.is_some() && input.get(f.name).is_none();
    if !operation.fields.iter().any(|f| missing(&f)) {
        return std::borrow::Cow::Borrowed(input);
    }
    let mut completed = input.clone();
    for field in operation.fields.iter().filter(missing) {
        let default = field.value.default.unwrap_or_default();
        let value = match field.value.kind {
            Kind::String => Json::String(default.to_owned()),
            _ => serde_json::from_str(default).unwrap_or_else(|_| Json::String(default.to_owned())),
        };
        completed.set(field.name, value);
    }
    std::borrow::Cow::Owned(completed)
}

/// Text (a command line's) as the JSON of a scalar of `kind`; text that is not one stays
/// text, for [`validate`] to refuse naming the field ("expected an integer from 1 to 9, got
/// \"ten\"").
pub fn value_from_text(kind: Kind, text: &str) -> Json {
    let number = || text.trim().parse::<i64>().ok().map(Json::from);
    let parsed = match kind {
        Kind::Integer => number(),
        Kind::Number => number().or_else(|| {
            text.trim().parse::<f64>().ok().and_then(|n| serde_json::Number::from_f64(n).map(Json::Number))
        }),
        Kind::Boolean => match text.trim() {
            "true" => Some(Json::Bool(true)),
            "false" => Some(Json::Bool(false)),
            _ => None,
        },
        _ => None,
    };
    parsed.unwrap_or_else(|| Json::from(text))
}

/// What a field takes, in words, e.g. "text of at most 255 characters".
pub fn describe_expected(field: &Field) -> String {
    expected(&field.value, field.required)
}

fn expected(value: &Value, required: bool) -> String {
    let limits = value.limits();
    let with = |what: &str| if limits.is_empty() { what.to_owned() } else { format!("{what} of {limits}") };
    match value.kind {
        Kind::String if value.schema == Some("DesktopId") => crate::model::DESKTOP_ID_RULE.to_owned(),
        Kind::String if !value.enum_values.is_empty() && !value.open => {
            format!("one of {}", value.enum_values.join(", "))
        }
        Kind::String if required => match value.max_length {
            Some(max) => format!("a non-blank string of at most {max} characters"),
            None => "a non-blank string".to_owned(),
        },
        Kind::String => with("text"),
        Kind::Integer => match (value.minimum, value.maximum) {
            (Some(min), Some(max)) => format!("an integer from {min} to {max}"),
            _ => with("an integer"),
        },
        Kind::Number => with("a number"),
        Kind::Boolean => "true or false".to_owned(),
        Kind::Array => with("a list"),
        Kind::Object => "an object".to_owned(),
    }
}

fn shown(value: &Json) -> String {
    let text = match value {
        Json::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    let excerpt: String = text.chars().take(60).collect();
    if excerpt.len() < text.len() { format!("{excerpt}…") } else { excerpt }
}

/// Item `index` of the list `field_name` of `operation`, alone, by the list's item rule (a
/// list of text): what a bulk run checks of each of its ids, the rest of its input checked once.
pub(crate) fn check_list_item(operation: &Operation, field_name: &str, index: usize, item: &str) -> Result<(), Error> {
    let Some(field) = operation.fields.iter().find(|f| f.name == field_name) else { return Ok(()) };
    match field.value.items {
        Some(value) if value.kind == Kind::String => check_text_value(field, value, item, Some(index)),
        Some(value) => check_value(field, value, &Json::String(item.to_owned()), Some(index)),
        None => Ok(()),
    }
}

/// A text value of `field` (the field itself, or item `index` of it) by its rule.
fn check_text_value(field: &'static Field, value: &Value, text: &str, index: Option<usize>) -> Result<(), Error> {
    let required = field.required || index.is_some();
    let refuse = |expected: String, got: String| -> Error {
        let error = InvalidInput::new(field.name, expected, got);
        match index {
            Some(index) => error.at(index).into(),
            None => error.into(),
        }
    };
    if value.schema == Some("DesktopId") {
        return crate::model::check_desktop_id(index.unwrap_or(0), text);
    }
    if field.location == Location::Path {
        crate::model::check_path_segment(field.name, text)?;
    }
    let chars = text.chars().count();
    if required && text.trim().is_empty() {
        return Err(refuse(expected(value, true), format!("{text:?}")));
    }
    if value.max_length.is_some_and(|max| chars > max) {
        return Err(refuse(expected(value, required), format!("{chars} characters")));
    }
    if value.min_length.is_some_and(|min| chars < min) {
        return Err(refuse(expected(value, required), format!("{chars} characters")));
    }
    if !value.open && !value.enum_values.is_empty() && !value.enum_values.contains(&text) {
        return Err(refuse(expected(value, required), format!("{text:?}")));
    }
    Ok(())
}

fn check_value(field: &'static Field, value: &Value, json: &Json, index: Option<usize>) -> Result<(), Error> {
    let refuse = |expected: String, got: String| -> Error {
        let error = InvalidInput::new(field.name, expected, got);
        match index {
            Some(index) => error.at(index).into(),
            None => error.into(),
        }
    };
    let required = field.required || index.is_some();
    match value.kind {
        Kind::String => {
            let Json::String(text) = json else { return Err(refuse(expected(value, required), shown(json))) };
            check_text_value(field, value, text, index)?;
        }
        Kind::Integer => {
            let Some(number) = json.as_i64() else { return Err(refuse(expected(value, required), shown(json))) };
            if value.minimum.is_some_and(|min| number < min) || value.maximum.is_some_and(|max| number > max) {
                return Err(refuse(expected(value, required), number.to_string()));
            }
        }
        Kind::Number => {
            if !json.is_number() {
                return Err(refuse(expected(value, required), shown(json)));
            }
        }
        Kind::Boolean => {
            if !json.is_boolean() {
                return Err(refuse(expected(value, required), shown(json)));
            }
        }
        Kind::Array => {
            let Json::Array(items) = json else { return Err(refuse(expected(value, required), shown(json))) };
            let count = items.len();
            if value.min_items.is_some_and(|min| count < min) || value.max_items.is_some_and(|max| count > max) {
                return Err(refuse(expected(value, required), count.to_string()));
            }
            if let Some(item) = value.items {
                for (i, json) in items.iter().enumerate() {
                    check_value(field, item, json, Some(i))?;
                }
            }
        }
        Kind::Object => {
            if !json.is_object() {
                return Err(refuse(expected(value, required), shown(json)));
            }
        }
    }
    Ok(())
}

/// The answer of a call: the success body as JSON (its shape is the operation's
/// [`Operation::response`] schema), and the service's request id.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The success body.
    pub value: Json,
    /// The service's `X-Request-Id`, when it sent one.
    pub request_id: Option<String>,
    /// The HTTP status.
    pub status: u16,
}

impl Answer {
    /// The body as a typed value, e.g. [`crate::types::Job`].
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, Error> {
        T::deserialize(&self.value).map_err(|e| {
            UndecodableResponse { status: self.status, request_id: self.request_id.clone(), reason: e.to_string() }
                .into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(operation: &Operation, input: &Input) -> (String, String) {
        match validate(operation, input) {
            Err(Error::InvalidInput(e)) => (e.field().to_owned(), e.expected().to_owned()),
            other => panic!("expected a refusal of {input:?}, got {other:?}"),
        }
    }

    /// A made-up operation with a field of each kind the spec may use, to test the rules the
    /// real spec has no field for yet (bounded integers, booleans, closed enums).
    static SAMPLE: Operation = Operation {
        id: OperationId::ShowJob,
        name: "Sample",
        method: "POST",
        path: "/v2/{project_id}/sample",
        summary: "",
        description: "",
        tag: "",
        fields: &[
            Field {
                name: "limit",
                location: Location::Query,
                required: false,
                description: "",
                value: integer(0, 1000),
            },
            Field {
                name: "shared",
                location: Location::Query,
                required: false,
                description: "",
                value: kind(Kind::Boolean),
            },
            Field { name: "mode", location: Location::Body, required: true, description: "", value: closed_enum() },
        ],
        response: "Job",
        errors: &[],
        paging: None,
    };

    const fn kind(kind: Kind) -> Value {
        Value::of(kind)
    }

    const fn integer(minimum: i64, maximum: i64) -> Value {
        let mut value = kind(Kind::Integer);
        value.minimum = Some(minimum);
        value.maximum = Some(maximum);
        value
    }

    const fn closed_enum() -> Value {
        let mut value = kind(Kind::String);
        value.enum_values = &["A", "B"];
        value
    }

    #[test]
    fn every_operation_describes_its_fields_and_answers() {
        for id in OperationId::ALL {
            let operation = id.describe();
            assert_eq!(operation.id, *id);
            assert!(schema(operation.response).is_some(), "{}: no schema {}", operation.name, operation.response);
            for field in operation.fields {
                assert!(!field.description.is_empty(), "{}.{} has no description", operation.name, field.name);
                if field.location == Location::Path {
                    assert!(operation.path.contains(&format!("{{{}}}", field.name)), "{}", field.name);
                }
            }
            assert!(operation.errors.iter().any(|s| s.code == 400), "{}", operation.name);
        }
        let delete = OperationId::DeleteDesktopSubResources.describe();
        let ids = delete.field("desktop_ids").unwrap();
        assert_eq!((ids.value.min_items, ids.value.max_items), (Some(1), Some(crate::MAX_DESKTOP_IDS)));
        assert_eq!(ids.value.items.unwrap().max_length, Some(crate::MAX_VALUE_CHARS));
        let kind = delete.field("sub_resource_type").unwrap();
        assert!(kind.value.open && kind.value.enum_values == ["DESKTOP_SHARER"]);
        // In the spec's order.
        assert_eq!(
            delete.arguments().map(|f| f.name).collect::<Vec<_>>(),
            ["desktop_ids", "sub_resource_type", "order_id"]
        );
    }

    #[test]
    fn a_required_field_with_a_default_is_filled_by_the_client_and_still_required_of_a_request() {
        let delete = OperationId::DeleteDesktopSubResources.describe();
        let call = Input::new().with("desktop_ids", ["d-1"]);
        assert!(check_arguments(delete, &call).is_ok(), "a call may leave sub_resource_type out");
        let sent = with_defaults(delete, &call);
        assert_eq!(sent.get("sub_resource_type"), Some(&Json::from("DESKTOP_SHARER")));
        assert_eq!(sent.get("order_id"), None, "an optional field stays out");
        let given = call.clone().with("sub_resource_type", "OTHER");
        assert_eq!(with_defaults(delete, &given).get("sub_resource_type"), Some(&Json::from("OTHER")));
        // The service (the simulator's check of whole requests) still requires it.
        assert!(validate(delete, &call).is_err());
    }

    #[test]
    fn the_description_refuses_what_the_spec_does_naming_the_field() {
        let delete = OperationId::DeleteDesktopSubResources.describe();
        let good = Input::new().with("desktop_ids", ["d-1"]).with("sub_resource_type", "ANYTHING_NEW");
        assert!(validate(delete, &good).is_ok());
        let cases: [(Input, &str); 8] = [
            (Input::new().with("sub_resource_type", "DESKTOP_SHARER"), "desktop_ids"),
            (good.clone().with("desktop_ids", Vec::<String>::new()), "desktop_ids"),
            (good.clone().with("desktop_ids", vec!["d"; 101]), "desktop_ids"),
            (good.clone().with("desktop_ids", ["d-1", "a,b"]), "desktop_ids[1]"),
            (good.clone().with("desktop_ids", "d-1"), "desktop_ids"),
            (good.clone().with("sub_resource_type", " "), "sub_resource_type"),
            (good.clone().with("order_id", "o".repeat(256)), "order_id"),
            (good.clone().with("order_id", 7), "order_id"),
        ];
        for (input, field) in cases {
            assert_eq!(refused(delete, &input).0, field, "{input:?}");
        }
        // An unknown field is named, with the ones the operation has.
        let (field, expected) = refused(delete, &good.clone().with("desktop_id", ["d-1"]));
        assert_eq!(field, "\"desktop_id\"");
        assert!(expected.ends_with("desktop_ids, sub_resource_type, order_id"), "{expected}");
        // The project is the client's: given per call, it is refused rather than ignored.
        let with_project = good.clone().with("project_id", "p-1");
        match check_arguments(delete, &with_project) {
            Err(Error::InvalidInput(e)) => assert_eq!(e.field(), "project_id"),
            other => panic!("{other:?}"),
        }
        // A whole request (as the simulator sees it) holds its project.
        assert!(validate(delete, &with_project).is_ok());
        let show = OperationId::ShowJob.describe();
        assert_eq!(refused(show, &Input::new()).0, "job_id");
        assert_eq!(refused(show, &Input::new().with("job_id", "..")).0, "job_id");
        assert!(validate(show, &Input::new().with("job_id", "j-1")).is_ok());
    }

    #[test]
    fn integers_booleans_and_closed_enums_keep_their_bounds() {
        let ok = Input::new().with("mode", "A");
        assert!(validate(&SAMPLE, &ok).is_ok());
        assert!(validate(&SAMPLE, &ok.clone().with("limit", 0).with("shared", true)).is_ok());
        assert!(validate(&SAMPLE, &ok.clone().with("limit", 1000)).is_ok());
        for bad in [Input::new().with("mode", "C"), ok.clone().with("limit", 1001), ok.clone().with("limit", -1)] {
            let (field, expected) = refused(&SAMPLE, &bad);
            assert!(["mode", "limit"].contains(&field.as_str()), "{field}");
            assert!(expected == "one of A, B" || expected == "an integer from 0 to 1000", "{expected}");
        }
        assert_eq!(refused(&SAMPLE, &ok.clone().with("limit", 1.5)).0, "limit");
        assert_eq!(refused(&SAMPLE, &ok.clone().with("limit", "10")).0, "limit");
        assert_eq!(refused(&SAMPLE, &ok.clone().with("shared", "yes")).0, "shared");
    }

    #[test]
    fn a_client_setting_is_not_an_argument() {
        let delete = OperationId::DeleteDesktopSubResources.describe();
        assert!(delete.field("project_id").unwrap().is_client_setting());
        assert!(delete.arguments().all(|f| f.name != "project_id"));
    }
}
