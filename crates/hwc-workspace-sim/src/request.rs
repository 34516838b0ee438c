//! A routed request read into the operation's input, by the spec's description of it: path
//! parameters, the query parameters, headers and JSON body fields the operation declares,
//! each under its spec name. What the operation does not declare is ignored, as the service
//! does (unknown body fields, unknown query parameters); what it declares is checked
//! afterwards, in one place ([`crate::validation`]).

use http::StatusCode;
use http::request::Parts;
use hwc_workspace::Input;
use hwc_workspace::operation::{Field, Kind, Location};
use serde_json::{Map, Value};

use crate::codes;
use crate::response::Failure;
use crate::routing::Route;

/// The input of the routed operation, read from the request.
pub(crate) fn read(route: &Route, parts: &Parts, body: &[u8]) -> Result<Input, Failure> {
    let operation = route.operation;
    let mut values = Map::new();
    for (name, value) in &route.path_parameters {
        values.insert((*name).to_owned(), Value::String(value.clone()));
    }
    // Read as the signature's verifier reads it, so that what is checked is what was signed.
    let query = parts.uri.query().map(hwc_sign::parse_query_string).unwrap_or_default();
    for field in operation.fields.iter().filter(|f| f.location == Location::Query) {
        let given: Vec<&str> = query.iter().filter(|(name, _)| name == field.name).map(|(_, v)| v.as_str()).collect();
        if let Some(value) = from_text(field, &given) {
            values.insert(field.name.to_owned(), value);
        }
    }
    for field in operation.fields.iter().filter(|f| f.location == Location::Header) {
        let given: Vec<&str> = parts.headers.get_all(field.name).iter().filter_map(|v| v.to_str().ok()).collect();
        if let Some(value) = from_text(field, &given) {
            values.insert(field.name.to_owned(), value);
        }
    }
    if operation.has_body() {
        check_content_type(parts)?;
        let object = json_object(body)?;
        for field in operation.fields.iter().filter(|f| f.location == Location::Body) {
            if let Some(value) = object.get(field.name) {
                values.insert(field.name.to_owned(), value.clone());
            }
        }
    }
    Ok(Input::from_map(values))
}

fn check_content_type(parts: &Parts) -> Result<(), Failure> {
    let value =
        parts.headers.get(http::header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let media_type = value.as_deref().and_then(|v| v.split(';').next()).map(str::trim);
    if media_type.is_some_and(|m| m.eq_ignore_ascii_case("application/json")) {
        return Ok(());
    }
    let got = match &value {
        Some(v) => format!("{:?}", v.chars().take(100).collect::<String>()),
        None => "missing".to_owned(),
    };
    Err(Failure::new(
        StatusCode::BAD_REQUEST,
        codes::UNSUPPORTED_CONTENT_TYPE,
        format!("The Content-Type must be application/json; it is {got}"),
    ))
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, Failure> {
    let malformed = |message: String| Failure::new(StatusCode::BAD_REQUEST, codes::MALFORMED_BODY, message);
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| malformed("The request body is not valid JSON".to_owned()).detail(e.to_string()))?;
    match value {
        Value::Object(object) => Ok(object),
        other => Err(malformed(format!("The request body must be a JSON object, not {}", json_type(&other)))),
    }
}

/// The JSON type of a value, in the service's words.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A query parameter or header as the JSON value its field takes: a list from every
/// occurrence, a scalar from the first; a number or boolean that does not parse stays text,
/// so that the validation names the field and its type.
fn from_text(field: &Field, given: &[&str]) -> Option<Value> {
    if field.value.kind == Kind::Array {
        if given.is_empty() {
            return None;
        }
        let item_kind = field.value.items.map_or(Kind::String, |items| items.kind);
        return Some(Value::Array(given.iter().map(|text| scalar(item_kind, text)).collect()));
    }
    given.first().map(|text| scalar(field.value.kind, text))
}

fn scalar(kind: Kind, text: &str) -> Value {
    let parsed = match kind {
        Kind::Integer => text.parse::<i64>().ok().map(Value::from),
        Kind::Number => text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number),
        Kind::Boolean => text.parse::<bool>().ok().map(Value::Bool),
        Kind::String | Kind::Array | Kind::Object => None,
    };
    parsed.unwrap_or_else(|| Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_becomes_the_fields_type_when_it_parses() {
        assert_eq!(scalar(Kind::Integer, "42"), Value::from(42));
        assert_eq!(scalar(Kind::Integer, "4x"), Value::from("4x"));
        assert_eq!(scalar(Kind::Boolean, "true"), Value::Bool(true));
        assert_eq!(scalar(Kind::Number, "NaN"), Value::from("NaN"));
        assert_eq!(scalar(Kind::String, "7"), Value::from("7"));
    }
}
