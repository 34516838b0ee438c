//! Properties of sign and verify over generated requests: whatever is signed verifies, and
//! any change of method, path, query, a signed header or one body byte is rejected.

use hwc_sign::{Credentials, ReceivedRequest, Request, VerifyError, authorize, sign, verify};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone)]
struct Case {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH"]),
        prop::collection::vec("[a-zA-Z0-9._~-]{1,12}|%[2-7][0-9A-F]", 1..5),
        prop::collection::vec(("[a-z_]{1,6}", "\\PC{0,8}"), 0..4),
        prop::collection::vec(("x-[a-z]{1,8}", "[ -~]{0,16}"), 0..4),
        prop::collection::vec(any::<u8>(), 1..64),
    )
        .prop_map(|(method, segments, query, headers, body)| Case {
            method: method.to_owned(),
            path: format!("/{}", segments.join("/")),
            query,
            headers,
            body,
        })
}

const HOST: &str = "workspace.cn-north-4.myhuaweicloud.com";

fn credentials() -> Credentials {
    Credentials::new("AK-PROPERTY", "SK-property-secret")
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
}

/// Signs the case and returns what goes on the wire: the headers and the query string.
fn wire(case: &Case) -> (Vec<(String, String)>, String) {
    let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    headers.extend(case.headers.iter().cloned());
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let query_refs: Vec<(&str, &str)> = case.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let request = Request {
        method: &case.method,
        host: HOST,
        path: &case.path,
        query: &query_refs,
        headers: &header_refs,
        body: &case.body,
    };
    let signed = sign(&credentials(), &request, now()).expect("signs");
    (signed.headers, signed.query)
}

fn check(case: &Case, headers: &[(String, String)], query: &str) -> Result<(), VerifyError> {
    let creds = credentials();
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let received =
        ReceivedRequest { method: &case.method, path: &case.path, query, headers: &header_refs, body: &case.body };
    verify(&received, |ak| (ak == creds.access_key()).then_some(&creds), now(), Duration::minutes(15)).map(|_| ())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn whatever_is_signed_verifies(case in case()) {
        let (headers, query) = wire(&case);
        prop_assert_eq!(check(&case, &headers, &query), Ok(()));
    }

    /// `authorize` is `sign` without the stages: every header and the query are the same,
    /// with and without a security token.
    #[test]
    fn authorize_adds_exactly_what_sign_adds(case in case(), token in proptest::option::of("[A-Za-z0-9+/=]{1,24}")) {
        let creds = match &token {
            Some(token) => credentials().with_security_token(token.as_str()),
            None => credentials(),
        };
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        headers.extend(case.headers.iter().cloned());
        let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let query_refs: Vec<(&str, &str)> = case.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let request = Request { method: &case.method, host: HOST, path: &case.path, query: &query_refs, headers: &header_refs, body: &case.body };
        let signed = sign(&creds, &request, now()).expect("signs");
        let authorized = authorize(&creds, &request, now()).expect("authorizes");
        prop_assert_eq!(authorized.query(), signed.query.as_str());
        for (name, value) in &signed.headers {
            prop_assert_eq!(authorized.header(name), Some(value.as_str()), "{}", name);
        }
        prop_assert_eq!(authorized.header("Authorization"), Some(signed.authorization.as_str()));
    }

    #[test]
    fn a_changed_body_byte_fails(case in case(), index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let (headers, query) = wire(&case);
        let mut changed = case.clone();
        let i = index.index(changed.body.len());
        changed.body[i] ^= flip;
        prop_assert_eq!(check(&changed, &headers, &query), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn a_changed_method_fails(case in case()) {
        let (headers, query) = wire(&case);
        let mut changed = case.clone();
        changed.method = if case.method == "POST" { "PUT".into() } else { "POST".into() };
        prop_assert_eq!(check(&changed, &headers, &query), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn a_changed_path_fails(case in case(), extra in "[a-z0-9]{1,4}") {
        let (headers, query) = wire(&case);
        let mut changed = case.clone();
        changed.path.push_str(&extra);
        prop_assert_eq!(check(&changed, &headers, &query), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn a_changed_query_fails(case in case(), key in "[a-z]{1,5}", value in "[a-z0-9]{0,5}") {
        let (headers, query) = wire(&case);
        let tampered = if query.is_empty() { format!("{key}={value}") } else { format!("{query}&{key}={value}") };
        prop_assert_eq!(check(&case, &headers, &tampered), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn a_changed_signed_header_fails(case in case(), index in any::<prop::sample::Index>(), suffix in "[a-z0-9]{1,4}") {
        let (mut headers, query) = wire(&case);
        let signed: Vec<usize> = (0..headers.len())
            .filter(|&i| !headers[i].0.contains('_') && !headers[i].0.eq_ignore_ascii_case("authorization"))
            .collect();
        let i = signed[index.index(signed.len())];
        headers[i].1.push_str(&suffix);
        let result = check(&case, &headers, &query);
        // A changed date is caught by its own check, before the signature is compared.
        if headers[i].0.eq_ignore_ascii_case("x-sdk-date") {
            prop_assert!(result.is_err());
        } else {
            prop_assert_eq!(result, Err(VerifyError::SignatureMismatch));
        }
    }
}

#[test]
fn wrong_secret_key_and_stale_date_are_rejected() {
    let case = Case {
        method: "POST".into(),
        path: "/v2/p/desktop/delete-sub-resources".into(),
        query: vec![],
        headers: vec![],
        body: b"{}".to_vec(),
    };
    let (headers, query) = wire(&case);
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let received =
        ReceivedRequest { method: "POST", path: &case.path, query: &query, headers: &header_refs, body: &case.body };
    let other = Credentials::new("AK-PROPERTY", "another-secret");
    assert_eq!(verify(&received, |_| Some(&other), now(), Duration::minutes(15)), Err(VerifyError::SignatureMismatch));
    assert_eq!(
        verify(&received, |_| None, now(), Duration::minutes(15)),
        Err(VerifyError::UnknownAccessKey("AK-PROPERTY".into()))
    );
    let late = now() + Duration::minutes(16);
    assert!(matches!(
        verify(&received, |_| Some(&other), late, Duration::minutes(15)),
        Err(VerifyError::DateOutOfRange { seconds: 960, allowed: 900 })
    ));
}

/// Regression (fuzz target `sign_canonical`): a host with white space around it was signed
/// untrimmed while the verifier trims, so the request never verified.
#[test]
fn a_host_with_white_space_around_it_signs_trimmed_and_verifies() {
    let creds = credentials();
    for (host, trimmed) in [(" workspace.example.com\t", "workspace.example.com"), ("\0\0\u{b}", "\0\0")] {
        let request = Request { method: "GET", host, path: "/", query: &[], headers: &[], body: b"" };
        let signed = sign(&creds, &request, now()).expect("signs");
        assert!(signed.canonical_request.contains(&format!("\nhost:{trimmed}\n")), "{:?}", signed.canonical_request);
        assert_eq!(signed.header("Host"), Some(trimmed));
        let header_refs: Vec<(&str, &str)> = signed.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let received = ReceivedRequest { method: "GET", path: "/", query: "", headers: &header_refs, body: b"" };
        assert_eq!(verify(&received, |_| Some(&creds), now(), Duration::minutes(15)).map(|_| ()), Ok(()));
    }
}
