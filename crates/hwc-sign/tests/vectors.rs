//! Every SDK-HMAC-SHA256 vector produced by the official signer, checked stage by stage:
//! canonical request, string to sign, signature, headers after signing, and the wire URI.
//! Then the same request, as a server receives it, must pass `verify`.

use hwc_sign::{Credentials, ReceivedRequest, Request, parse_sdk_date, sign, verify};
use serde_json::Value;
use time::Duration;

const VECTORS: &str = include_str!("data/sign_vectors.json");
const ALGORITHM: &str = "SDK-HMAC-SHA256";

fn vector(name: &str) -> Value {
    let all: Value = serde_json::from_str(VECTORS).expect("vector file is JSON");
    all["vectors"]
        .as_array()
        .expect("vectors array")
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vector named {name}"))
        .clone()
}

/// Query values in the file are Python values: a list stands for repeated keys, booleans
/// are written as the official signer writes them (`true`, `false`).
fn query_pairs(input: &Value) -> Vec<(String, String)> {
    let scalar = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut pairs = Vec::new();
    for pair in input["query_params"].as_array().expect("query_params") {
        let key = pair[0].as_str().expect("query key").to_owned();
        match &pair[1] {
            Value::Array(values) => pairs.extend(values.iter().map(|v| (key.clone(), scalar(v)))),
            value => pairs.push((key, scalar(value))),
        }
    }
    pairs
}

fn string_map(value: &Value) -> Vec<(String, String)> {
    value
        .as_object()
        .expect("header object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("header value").to_owned()))
        .collect()
}

/// The official signer rewrites non-ASCII header values to `utf8_bytes.decode('iso-8859-1')`;
/// undo that to compare with the UTF-8 text we send as bytes.
fn from_latin1_view(value: &str) -> String {
    if value.chars().all(|c| (c as u32) < 256) {
        let bytes: Vec<u8> = value.chars().map(|c| c as u8).collect();
        String::from_utf8(bytes).unwrap_or_else(|_| value.to_owned())
    } else {
        value.to_owned()
    }
}

fn check(name: &str) {
    let v = vector(name);
    assert_eq!(v["algorithm"], ALGORITHM, "{name} is not an {ALGORITHM} vector");
    let (input, output) = (&v["input"], &v["output"]);
    let credentials =
        Credentials::new(v["credentials"]["ak"].as_str().expect("ak"), v["credentials"]["sk"].as_str().expect("sk"));
    let headers = string_map(&input["headers"]);
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let query = query_pairs(input);
    let query_refs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let body = input["body"].as_str().unwrap_or("").as_bytes();
    assert_eq!(hex::encode(body), input["body_utf8_hex"].as_str().unwrap_or(""), "{name}: body bytes");
    let request = Request {
        method: input["method"].as_str().expect("method"),
        host: input["host"].as_str().expect("host"),
        path: input["resource_path"].as_str().expect("resource_path"),
        query: &query_refs,
        headers: &header_refs,
        body,
    };
    // Every vector carries its own X-Sdk-Date, so the clock passed here must not matter.
    let signed = sign(&credentials, &request, time::OffsetDateTime::UNIX_EPOCH).expect("signs");

    assert_eq!(signed.canonical_request, output["canonical_request"].as_str().unwrap(), "{name}: canonical request");
    assert_eq!(signed.string_to_sign, output["string_to_sign"].as_str().unwrap(), "{name}: string to sign");
    assert_eq!(signed.signature, output["signature"].as_str().unwrap(), "{name}: signature");
    assert_eq!(signed.signed_headers, output["signed_headers"].as_str().unwrap(), "{name}: signed headers");
    assert_eq!(signed.authorization, output["authorization"].as_str().unwrap(), "{name}: authorization");
    assert!(signed.canonical_request.ends_with(output["payload_hash"].as_str().unwrap()), "{name}: payload hash");
    let expected_headers: Vec<(String, String)> =
        string_map(&output["headers_after_signing"]).into_iter().map(|(k, v)| (k, from_latin1_view(&v))).collect();
    assert_eq!(signed.headers, expected_headers, "{name}: headers after signing");
    // The stage-less signature a client sends is the official one too.
    let authorized = hwc_sign::authorize(&credentials, &request, time::OffsetDateTime::UNIX_EPOCH).expect("authorizes");
    for (header, value) in &expected_headers {
        assert_eq!(authorized.header(header), Some(value.as_str()), "{name}: {header} from authorize");
    }
    assert_eq!(authorized.query(), signed.query, "{name}: query from authorize");
    let uri =
        if signed.query.is_empty() { request.path.to_owned() } else { format!("{}?{}", request.path, signed.query) };
    assert_eq!(uri, output["uri"].as_str().unwrap(), "{name}: wire URI");

    // The server's view of the same request verifies, at the signing time and 14 minutes on.
    let sent: Vec<(&str, &str)> = signed.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let received =
        ReceivedRequest { method: request.method, path: request.path, query: &signed.query, headers: &sent, body };
    let date = parse_sdk_date(signed.header("X-Sdk-Date").unwrap()).unwrap();
    for now in [date, date + Duration::minutes(14)] {
        let verified = verify(
            &received,
            |ak| (ak == credentials.access_key()).then_some(&credentials),
            now,
            Duration::minutes(15),
        )
        .unwrap_or_else(|e| panic!("{name}: verify failed: {e}"));
        assert_eq!(verified.access_key, credentials.access_key());
    }
}

macro_rules! vector_tests {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { check(stringify!($name)); } )*
        const COVERED: &[&str] = &[$(stringify!($name)),*];
    };
}

vector_tests!(
    op_basic_json,
    op_with_order_id_and_user_agent,
    op_security_token,
    empty_body_post,
    get_no_body_none,
    query_unicode_space_reserved,
    query_multi_values_bool_int,
    path_needs_percent_encoding,
    header_edge_cases,
    non_ascii_body,
    unsigned_payload_octet_stream,
    no_content_type_no_date,
    non_ascii_header_value,
);

/// A vector added to the file later must get a test of its own, not be skipped silently.
#[test]
fn every_sdk_hmac_sha256_vector_has_a_test() {
    let all: Value = serde_json::from_str(VECTORS).unwrap();
    let names: Vec<&str> = all["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["algorithm"] == ALGORITHM)
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), COVERED.len(), "vectors {names:?} vs tests {COVERED:?}");
    for name in names {
        assert!(COVERED.contains(&name), "vector {name} has no test");
    }
}
