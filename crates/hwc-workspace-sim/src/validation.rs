//! Request validation, in one place: the core's check of an input against the operation's
//! description (`hwc_workspace::operation::validate`, the very check a client runs before it
//! signs), its refusal then answered as the service answers it: a 400 whose `error_code`
//! says the cause (missing, wrong type, item count, value) and whose message names the field
//! in the service's words. The verdict is the core's; this module only words it.

use http::StatusCode;
use hwc_workspace::operation::{Kind, Operation, Value as Described};
use hwc_workspace::{Input, InvalidInput};
use serde_json::Value;

use crate::codes;
use crate::request::json_type;
use crate::response::Failure;

/// Whether `input` is one the operation takes; if not, the service's 400 naming the field.
pub(crate) fn check(operation: &'static Operation, input: &Input) -> Result<(), Failure> {
    match hwc_workspace::operation::validate(operation, input) {
        Ok(()) => Ok(()),
        Err(hwc_workspace::Error::InvalidInput(refused)) => Err(refusal(operation, input, &refused)),
        // `validate` refuses with `InvalidInput` alone; should it ever say more, the client
        // still gets a 400 with the core's words rather than a request served unchecked.
        Err(other) => Err(bad_request(codes::INVALID_VALUE, other.to_string())),
    }
}

fn bad_request(code: &'static str, message: impl Into<String>) -> Failure {
    Failure::new(StatusCode::BAD_REQUEST, code, message)
}

/// The service's answer to what the core refused: the cause is read off the refused value
/// and its description (never off the core's words), the limits from the description.
fn refusal(operation: &Operation, input: &Input, refused: &InvalidInput) -> Failure {
    let shown = refused.field();
    let in_core_words = || {
        bad_request(
            codes::INVALID_VALUE,
            format!("{shown} is not valid: expected {}, got {}", refused.expected(), refused.got()),
        )
    };
    let Some(field) = operation.field(refused.name()) else {
        return in_core_words();
    };
    let Some(value) = input.get(field.name) else {
        return bad_request(codes::MISSING_FIELD, format!("{shown} is required"));
    };
    let (described, value, required) = match refused.index() {
        None => (&field.value, value, field.required),
        // A list's items are all required: a blank one is refused even in an optional list.
        Some(index) => match (field.value.items, value.get(index)) {
            (Some(items), Some(item)) => (items, item, true),
            _ => return in_core_words(),
        },
    };
    cause(shown, described, value, required).unwrap_or_else(in_core_words)
}

/// The rule of the description that `value` breaks, as the service words it; `None` for a
/// rule the service has no words of its own for (a path segment's shape), which the core's
/// words then describe.
fn cause(shown: &str, described: &Described, value: &Value, required: bool) -> Option<Failure> {
    if !is_of_kind(described.kind, value) {
        let message = format!("{shown} must be {}, not {}", kind_in_words(described), json_type(value));
        return Some(bad_request(codes::WRONG_TYPE, message));
    }
    let invalid = |message: String| Some(bad_request(codes::INVALID_VALUE, message));
    match value {
        Value::Array(items) => {
            let count = items.len();
            let outside = described.min_items.is_some_and(|min| count < min)
                || described.max_items.is_some_and(|max| count > max);
            outside.then(|| {
                bad_request(codes::DESKTOP_COUNT, format!("{shown} must hold {}, not {count}", described.limits()))
            })
        }
        Value::String(text) => {
            let chars = text.chars().count();
            if required && text.trim().is_empty() {
                return invalid(format!("{shown} must not be blank"));
            }
            if let Some(max) = described.max_length.filter(|&max| chars > max) {
                return invalid(format!("{shown} must be at most {max} characters, not {chars}"));
            }
            if let Some(min) = described.min_length.filter(|&min| chars < min) {
                return invalid(format!("{shown} must be at least {min} characters, not {chars}"));
            }
            // The core's id rule, named by the spec's schema as the core names it.
            if described.schema == Some("DesktopId")
                && let Some(problem) = hwc_workspace::desktop_id_problem(text)
            {
                return invalid(format!(
                    "{shown} is not a desktop id ({problem}); a desktop id is {}",
                    hwc_workspace::DESKTOP_ID_RULE
                ));
            }
            if !described.open && !described.enum_values.is_empty() && !described.enum_values.contains(&text.as_str()) {
                let excerpt: String = text.chars().take(60).collect();
                return invalid(format!(
                    "{shown} must be one of {}, not {excerpt:?}",
                    described.enum_values.join(", ")
                ));
            }
            None
        }
        Value::Number(number) => {
            let number = number.as_i64()?;
            let outside =
                described.minimum.is_some_and(|min| number < min) || described.maximum.is_some_and(|max| number > max);
            outside.then(|| {
                bad_request(codes::INVALID_VALUE, format!("{shown} must be {}, not {number}", described.limits()))
            })
        }
        Value::Null | Value::Bool(_) | Value::Object(_) => None,
    }
}

/// Whether `value` is of the JSON type `kind` (an integer: a whole number an `i64` holds, as
/// the core reads it).
fn is_of_kind(kind: Kind, value: &Value) -> bool {
    match kind {
        Kind::String => value.is_string(),
        Kind::Integer => value.as_i64().is_some(),
        Kind::Number => value.is_number(),
        Kind::Boolean => value.is_boolean(),
        Kind::Array => value.is_array(),
        Kind::Object => value.is_object(),
    }
}

/// "a string", "an array of strings".
fn kind_in_words(described: &Described) -> String {
    match (described.kind, described.items) {
        (Kind::Array, Some(items)) => format!("an array of {}", kinds_in_words(items.kind)),
        (kind, _) => kind_in_words_one(kind).to_owned(),
    }
}

fn kind_in_words_one(kind: Kind) -> &'static str {
    match kind {
        Kind::String => "a string",
        Kind::Integer => "an integer",
        Kind::Number => "a number",
        Kind::Boolean => "a boolean",
        Kind::Object => "an object",
        Kind::Array => "an array",
    }
}

fn kinds_in_words(kind: Kind) -> &'static str {
    match kind {
        Kind::String => "strings",
        Kind::Integer => "integers",
        Kind::Number => "numbers",
        Kind::Boolean => "booleans",
        Kind::Object => "objects",
        Kind::Array => "arrays",
    }
}
