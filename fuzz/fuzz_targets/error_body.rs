//! Fuzzes the client's reading of error bodies: any bytes a server or gateway sends become the
//! documented `ErrorResponse`, without a panic, as valid JSON of that schema, with a bounded
//! message when the body is not JSON, and reading the result again changes nothing.

#![no_main]

use hwc_workspace::__fuzz::normalize_error_body;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The documented fields; every one is an optional string.
const FIELDS: [&str; 4] = ["error_code", "error_msg", "error_detail", "encoded_authorization_message"];
/// A non-JSON body is cut to 300 characters plus `…`; an HTML title is prefixed.
const EXCERPT_LIMIT: usize = 300 + 1;
const HTML_PREFIX: &str = "an HTML page: ";

fuzz_target!(|body: &[u8]| {
    let error = normalize_error_body(body);

    let json = serde_json::to_string(&error).expect("an ErrorResponse serializes");
    let Value::Object(object) = serde_json::from_str::<Value>(&json).expect("valid JSON") else {
        panic!("not a JSON object: {json}");
    };
    for (name, value) in &object {
        assert!(FIELDS.contains(&name.as_str()), "undocumented field {name} in {json}");
        assert!(value.is_string(), "{name} is not a string in {json}");
    }
    let back: hwc_workspace::types::ErrorResponse = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back, error);

    if body.iter().all(u8::is_ascii_whitespace) {
        assert_eq!(error, Default::default(), "a blank body is an empty error");
        return;
    }
    assert!(
        error.error_code.is_some() || error.error_msg.is_some(),
        "a non-blank body gives a code or a message: {json}"
    );

    let json_object = matches!(serde_json::from_slice::<Value>(body), Ok(Value::Object(_)));
    if !json_object {
        let msg = error.error_msg.as_deref().expect("a non-JSON body becomes the message");
        assert!(error.error_code.is_none(), "a non-JSON body has no code: {json}");
        let limit = if msg.starts_with(HTML_PREFIX) { EXCERPT_LIMIT + HTML_PREFIX.len() } else { EXCERPT_LIMIT };
        assert!(msg.chars().count() <= limit, "an excerpt of {} chars: {msg:?}", msg.chars().count());
        assert!(!msg.contains(['\n', '\r', '\t']), "an excerpt is one line: {msg:?}");
    }

    // Normalizing the documented form again is a fixed point.
    assert_eq!(normalize_error_body(json.as_bytes()), error, "not a fixed point: {json}");
});
