//! Fuzzes the signer's canonicalization: no stage panics, the canonical query and header
//! names do not depend on order, the query survives the wire, the hand-written fast paths
//! (canonical URI, `X-Sdk-Date`, hex, keyed HMAC) agree with plain references, and whatever
//! `sign` accepts `verify` accepts, while a changed body byte is refused.
//!
//! Requests are what a client can send: access keys alphanumeric (as issued), header names
//! HTTP tokens, each name once whatever its case, values without control characters, and no
//! `Authorization` before signing. Path, query, method, host and body are anything.

#![no_main]

use arbitrary::Arbitrary;
use hmac::{Hmac, Mac};
use hwc_sign::{
    Credentials, ReceivedRequest, Request, VerifyError, authorize, canonical_query_string, canonical_uri,
    format_sdk_date, parse_query_string, parse_sdk_date, percent_encode, sign, signed_header_names, string_to_sign,
    verify,
};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

#[derive(Arbitrary, Debug)]
struct Input {
    access_key: Vec<u8>,
    secret_key: String,
    security_token: Option<String>,
    method: String,
    host: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(Vec<u8>, String)>,
    body: Vec<u8>,
    /// Seconds since 1970, within the years `X-Sdk-Date` can write.
    time: u32,
    /// Any instant `time` can hold, for the date format alone, and an offset in minutes.
    instant: (i64, i16),
    /// How the query pairs are reordered for the order-independence checks.
    rotate: u8,
    /// The body byte to change, and how.
    flip: (u16, u8),
}

const TCHAR: &[u8] = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Maps bytes onto an alphabet, so that every input gives a value of the domain.
fn spell(bytes: &[u8], alphabet: &[u8]) -> String {
    bytes.iter().map(|b| alphabet[usize::from(*b) % alphabet.len()] as char).collect()
}

const SDK_DATE: &[BorrowedFormatItem<'static>] = format_description!("[year][month][day]T[hour][minute][second]Z");

/// The canonical URI as the official signer defines it, without the signer's fast path.
fn reference_uri(path: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let mut uri = decoded.split('/').map(percent_encode).collect::<Vec<_>>().join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

fn field_value(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() && c != '\t')
}

fuzz_target!(|input: Input| {
    // Order independence and the wire round trip of the query, for any pairs.
    let pairs: Vec<(&str, &str)> = input.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let query = canonical_query_string(&pairs);
    let mut rotated = pairs.clone();
    if !rotated.is_empty() {
        let by = usize::from(input.rotate) % rotated.len();
        rotated.rotate_left(by);
        rotated.reverse();
    }
    assert_eq!(canonical_query_string(&rotated), query, "the query depends on pair order");
    let mut sorted = pairs.clone();
    sorted.sort_unstable();
    let parsed = parse_query_string(&query);
    let parsed: Vec<(&str, &str)> = parsed.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(parsed, sorted, "the canonical query does not read back: {query:?}");
    assert_eq!(canonical_query_string(&parsed), query);

    let uri = canonical_uri(&input.path);
    assert!(uri.ends_with('/'), "{uri:?}");
    assert_eq!(canonical_uri(&uri), uri, "canonical_uri is not idempotent for {:?}", input.path);
    assert_eq!(uri, reference_uri(&input.path), "canonical_uri differs from the reference for {:?}", input.path);

    // The hand-written X-Sdk-Date writer against `time`'s formatter, and the round trip.
    let offset = UtcOffset::from_whole_seconds(i32::from(input.instant.1 % (24 * 60)) * 60).unwrap_or(UtcOffset::UTC);
    let instant = OffsetDateTime::from_unix_timestamp(input.instant.0).ok();
    if let Some((instant, local)) = instant.and_then(|i| Some((i, i.checked_to_offset(offset)?))) {
        let written = format_sdk_date(local);
        if (0..=9999).contains(&instant.year()) {
            assert_eq!(written, instant.format(SDK_DATE).expect("formats"), "{local}");
            assert_eq!(parse_sdk_date(&written), Some(instant), "{written}");
        } else {
            assert_eq!(written, "00000101T000000Z", "{local}");
        }
    }

    let mut headers: Vec<(String, &str)> = Vec::new();
    for (name, value) in &input.headers {
        let name = spell(name, TCHAR);
        if name.is_empty()
            || name.eq_ignore_ascii_case("authorization")
            || headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name))
            || !field_value(value)
        {
            continue;
        }
        headers.push((name, value.as_str()));
    }
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let mut names: Vec<&str> = header_refs.iter().map(|(n, _)| *n).collect();
    let signed_names = signed_header_names(names.iter().copied());
    names.reverse();
    assert_eq!(signed_header_names(names.iter().copied()), signed_names);

    let mut credentials = Credentials::new(spell(&input.access_key, ALNUM), input.secret_key.clone());
    if let Some(token) = &input.security_token {
        if !field_value(token) {
            return;
        }
        credentials = credentials.with_security_token(token.clone());
    }
    let Ok(now) = OffsetDateTime::from_unix_timestamp(i64::from(input.time)) else {
        return;
    };
    let request = Request {
        method: &input.method,
        host: &input.host,
        path: &input.path,
        query: &pairs,
        headers: &header_refs,
        body: &input.body,
    };
    let Ok(signed) = sign(&credentials, &request, now) else {
        return;
    };
    assert_eq!(sign(&credentials, &request, now).ok(), Some(signed.clone()), "signing is not deterministic");
    assert_eq!(signed.query, query);
    // The stage-less signature a client sends adds exactly what `sign` adds.
    let authorized = authorize(&credentials, &request, now).expect("authorize accepts what sign accepts");
    assert_eq!(authorized.query(), signed.query);
    for (name, value) in &signed.headers {
        assert_eq!(authorized.header(name), signed.header(name), "{name}: {value:?}");
    }

    let sdk_date = signed.header("X-Sdk-Date").expect("a signed request is dated");
    let date = parse_sdk_date(sdk_date).expect("a signed request is dated");
    // Every stage from the one before it, the HMAC keyed afresh.
    assert_eq!(signed.string_to_sign, string_to_sign(sdk_date, &signed.canonical_request));
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(credentials.expose_secret_key().as_bytes()).expect("any key length");
    mac.update(signed.string_to_sign.as_bytes());
    assert_eq!(signed.signature, hex::encode(mac.finalize().into_bytes()), "the signature is not the HMAC");
    let wire: Vec<(&str, &str)> = signed.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let check = |body: &[u8]| {
        let received =
            ReceivedRequest { method: &input.method, path: &input.path, query: &signed.query, headers: &wire, body };
        verify(&received, |ak| (ak == credentials.access_key()).then_some(&credentials), date, Duration::minutes(15))
    };
    if let Err(error) = check(&input.body) {
        // The credentials are the fuzzer's own, not secrets: the canonical request (which
        // names a token) is what tells where the two sides part.
        panic!("sign accepted what verify refuses ({error}):\n{}", signed.canonical_request);
    }

    // A changed body byte is refused, unless the body was declared unsigned.
    if !input.body.is_empty() && signed.header("X-Sdk-Content-Sha256").is_none() {
        let mut changed = input.body.clone();
        let index = usize::from(input.flip.0) % changed.len();
        changed[index] ^= input.flip.1.max(1);
        assert_eq!(check(&changed).map(|_| ()), Err(VerifyError::SignatureMismatch));
    }
});
