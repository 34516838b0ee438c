//! Error bodies, whatever their shape, turned into the one documented schema.
//!
//! The service (and gateways in front of it) answer errors as `{error_code, error_msg}`,
//! `{errorCode, errorMsg}`, `{code, message}`, such an object nested one level down, an HTML
//! page, or nothing at all. The hooks rewrite every error body into the documented
//! `ErrorResponse` JSON before the generated code reads it, so the status and headers
//! (with the request id) are never lost to a decoding failure.

use serde_json::{Map, Value};

use crate::types::ErrorResponse;

/// Longest excerpt of a non-JSON body kept as the message.
const EXCERPT_CHARS: usize = 300;

/// Reads any error body as the documented error schema.
pub(crate) fn normalize(body: &[u8]) -> ErrorResponse {
    if body.iter().all(u8::is_ascii_whitespace) {
        return ErrorResponse::default();
    }
    if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) {
        if let Some(found) = from_object(&object) {
            return found;
        }
        if let Some(found) = object.values().filter_map(Value::as_object).find_map(from_object) {
            return found;
        }
    }
    ErrorResponse { error_msg: Some(excerpt(body)), ..ErrorResponse::default() }
}

fn from_object(object: &Map<String, Value>) -> Option<ErrorResponse> {
    let pick = |names: &[&str]| {
        names.iter().find_map(|name| match object.get(*name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        })
    };
    let error_code = pick(&["error_code", "errorCode", "code"]);
    let error_msg = pick(&["error_msg", "errorMsg", "message", "msg"]);
    if error_code.is_none() && error_msg.is_none() {
        return None;
    }
    Some(ErrorResponse {
        error_code,
        error_msg,
        error_detail: pick(&["error_detail", "errorDetail"]),
        encoded_authorization_message: pick(&["encoded_authorization_message"]),
    })
}

/// A short, single-line view of a body: an HTML page's title, else its text, cut.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    if let (Some(start), Some(end)) = (lower.find("<title>"), lower.find("</title>"))
        && start + 7 <= end
    {
        // A title is cut like any text: a page may hold anything there.
        let title = cut(collapse(&text[start + 7..end]));
        return format!("an HTML page: {title}");
    }
    cut(collapse(&text))
}

fn cut(flat: String) -> String {
    if flat.chars().count() > EXCERPT_CHARS {
        let kept: String = flat.chars().take(EXCERPT_CHARS).collect();
        format!("{kept}…")
    } else {
        flat
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_shape_is_kept() {
        let body =
            br#"{"error_code":"WKS.0404","error_msg":"gone","error_detail":"d","encoded_authorization_message":"e"}"#;
        let e = normalize(body);
        assert_eq!(e.error_code.as_deref(), Some("WKS.0404"));
        assert_eq!(e.error_msg.as_deref(), Some("gone"));
        assert_eq!(e.error_detail.as_deref(), Some("d"));
        assert_eq!(e.encoded_authorization_message.as_deref(), Some("e"));
    }

    #[test]
    fn other_shapes_are_mapped() {
        assert_eq!(normalize(br#"{"errorCode":"A","errorMsg":"b"}"#).error_code.as_deref(), Some("A"));
        assert_eq!(normalize(br#"{"code":401,"message":"m"}"#).error_code.as_deref(), Some("401"));
        let nested = normalize(br#"{"error":{"code":"APIGW.0301","message":"bad sig"}}"#);
        assert_eq!(nested.error_code.as_deref(), Some("APIGW.0301"));
        assert_eq!(nested.error_msg.as_deref(), Some("bad sig"));
    }

    #[test]
    fn html_empty_and_text_bodies() {
        let html = normalize(b"<html><head><title>502 Bad\n Gateway</title></head><body>x</body></html>");
        assert_eq!(html.error_msg.as_deref(), Some("an HTML page: 502 Bad Gateway"));
        assert_eq!(normalize(b""), ErrorResponse::default());
        assert_eq!(normalize(b"  \n"), ErrorResponse::default());
        assert_eq!(normalize(b"upstream  timed\nout").error_msg.as_deref(), Some("upstream timed out"));
        let long = normalize(&[b'x'; 1000]);
        assert_eq!(long.error_msg.unwrap().chars().count(), EXCERPT_CHARS + 1);
        assert_eq!(normalize(br#"{"other":1}"#).error_msg.as_deref(), Some(r#"{"other":1}"#));
    }

    /// Regression (found with the `error_body` fuzz target's bound): a long HTML title was
    /// kept whole.
    #[test]
    fn a_long_html_title_is_cut_like_any_excerpt() {
        let page = format!("<html><title>{}</title></html>", "x".repeat(400));
        let msg = normalize(page.as_bytes()).error_msg.unwrap();
        assert_eq!(msg, format!("an HTML page: {}…", "x".repeat(EXCERPT_CHARS)));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a server sends, reading it never panics and the excerpt stays bounded.
        #[test]
        fn any_bytes_normalize_to_a_bounded_error(body in prop::collection::vec(any::<u8>(), 0..2048)) {
            let error = normalize(&body);
            if let Some(msg) = &error.error_msg {
                prop_assert!(msg.chars().count() <= EXCERPT_CHARS + 40);
            }
        }

        /// Any documented body round-trips field for field.
        #[test]
        fn documented_bodies_keep_every_field(
            code in "[A-Z]{2,6}\\.[0-9]{4}",
            msg in "\\PC{1,80}",
            detail in proptest::option::of("\\PC{0,40}"),
        ) {
            let body = serde_json::json!({"error_code": code, "error_msg": msg, "error_detail": detail});
            let error = normalize(body.to_string().as_bytes());
            prop_assert_eq!(error.error_code.as_deref(), Some(code.as_str()));
            prop_assert_eq!(error.error_msg.as_deref(), Some(msg.as_str()));
            prop_assert_eq!(error.error_detail, detail);
        }
    }
}
