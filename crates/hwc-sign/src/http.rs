//! The adapter between HTTP requests and the signer, in the spirit of aws-sigv4's
//! `SignableRequest`: every caller (the client's hooks, the Python `sign_request`, the
//! simulator's gateway, benches and tests) turns its request into a [`SignableRequest`] here
//! and puts the result back with [`SigningInstructions`], so no caller flattens URLs or
//! headers by hand, and the `Host` rule lives in one place ([`host_header`]).

use std::borrow::Cow;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use time::{Duration, OffsetDateTime};

use crate::verify::{ReceivedRequest, Verified, VerifyError};
use crate::{Credentials, SignError, Signed};

/// The headers signing adds, in lower case: removed before a request is signed again (a
/// retry is a new signature with a new date, not a second copy of the old one).
pub const SIGNATURE_HEADERS: [&str; 4] = ["authorization", "x-sdk-date", "host", "x-security-token"];

/// The `Host` value of a URL as the official SDK sends it: the host, with the port only when
/// it is not the scheme's default.
pub fn host_header<'a>(scheme: &str, host: &'a str, port: Option<u16>) -> Cow<'a, str> {
    let default_port = match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    match port {
        Some(port) if Some(port) != default_port => Cow::Owned(format!("{host}:{port}")),
        _ => Cow::Borrowed(host),
    }
}

/// Every header of `headers` as text, in order. A value that is not UTF-8 cannot be signed
/// (the official signer signs text), so it is an error naming the header, never left out.
pub fn header_pairs(headers: &HeaderMap) -> Result<Vec<(&str, &str)>, SignError> {
    headers
        .iter()
        .map(|(name, value)| match std::str::from_utf8(value.as_bytes()) {
            Ok(text) => Ok((name.as_str(), text)),
            Err(_) => Err(SignError::HeaderNotText(name.as_str().to_owned())),
        })
        .collect()
}

/// A request to sign, taken apart from its URL and headers the way the signer reads it.
#[derive(Debug, Clone)]
pub struct SignableRequest<'a> {
    method: &'a str,
    host: Cow<'a, str>,
    path: &'a str,
    query: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
}

impl<'a> SignableRequest<'a> {
    /// A request from the parts of its URL: `raw_query` as sent (percent-encoded, no `?`;
    /// empty for none), decoded here as a server decodes it; headers as `(name, value)` pairs
    /// in the order they are set.
    #[allow(clippy::too_many_arguments)]
    pub fn from_url_parts(
        method: &'a str,
        scheme: &str,
        host: &'a str,
        port: Option<u16>,
        path: &'a str,
        raw_query: &'a str,
        headers: Vec<(&'a str, &'a str)>,
        body: &'a [u8],
    ) -> Self {
        let query = crate::verify::decoded_query_pairs(raw_query).collect();
        Self { method, host: host_header(scheme, host, port), path, query, headers, body }
    }

    /// A request from an `http` URI, header map and body. A URI without a host (the origin
    /// form, `/path?query`) takes it from the `Host` header.
    pub fn from_http_parts(
        method: &'a http::Method,
        uri: &'a http::Uri,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> Result<Self, SignError> {
        let host = match uri.host() {
            Some(host) => host,
            None if headers.contains_key(http::header::HOST) => "",
            None => return Err(SignError::NoHost),
        };
        Ok(Self::from_url_parts(
            method.as_str(),
            uri.scheme_str().unwrap_or("https"),
            host,
            uri.port_u16(),
            uri.path(),
            uri.query().unwrap_or(""),
            header_pairs(headers)?,
            body,
        ))
    }

    /// A whole `http` request.
    pub fn from_http<B: AsRef<[u8]>>(request: &'a http::Request<B>) -> Result<Self, SignError> {
        Self::from_http_parts(request.method(), request.uri(), request.headers(), request.body().as_ref())
    }

    fn with_request<T>(&self, sign: impl FnOnce(&crate::Request<'_>) -> T) -> T {
        let query: Vec<(&str, &str)> = self.query.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
        sign(&crate::Request {
            method: self.method,
            host: &self.host,
            path: self.path,
            query: &query,
            headers: &self.headers,
            body: self.body,
        })
    }

    /// Signs and keeps every stage: the canonical request, the string to sign and every
    /// header after signing, names as given (what the official signer returns).
    pub fn sign(&self, credentials: &Credentials, now: OffsetDateTime) -> Result<Signed, SignError> {
        self.with_request(|request| crate::sign(credentials, request, now))
    }

    /// Signs and returns only what must be put back on the request. Fails, naming the
    /// header, when a value signing adds cannot be sent as a header (a credential with a line
    /// break): a request never goes out without a header it signed.
    pub fn authorize(&self, credentials: &Credentials, now: OffsetDateTime) -> Result<SigningInstructions, SignError> {
        self.with_request(|request| {
            let authorized = crate::authorize(credentials, request, now)?;
            let mut headers = Vec::with_capacity(4);
            for (name, sensitive) in
                [("x-security-token", true), ("x-sdk-date", false), ("host", false), ("authorization", true)]
            {
                // Only what signing added or may have changed goes back; the request's own
                // headers are already on it.
                let ours = request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v);
                let Some(value) = authorized.header(name) else { continue };
                if ours == Some(value) {
                    continue;
                }
                let mut value =
                    HeaderValue::from_str(value).map_err(|_| SignError::InvalidHeaderValue(canonical_name(name)))?;
                value.set_sensitive(sensitive);
                headers.push((HeaderName::from_static(name), value));
            }
            let query = (!request.query.is_empty()).then(|| authorized.query().to_owned());
            Ok(SigningInstructions { headers, query })
        })
    }
}

fn canonical_name(lower: &str) -> &'static str {
    match lower {
        "x-security-token" => crate::HEADER_SECURITY_TOKEN,
        "x-sdk-date" => crate::HEADER_DATE,
        "host" => "Host",
        _ => "Authorization",
    }
}

/// What signing changes on a request: headers to set, and the canonical query to send in
/// place of the original one (same pairs, encoded as signed).
#[derive(Debug, Clone)]
#[must_use = "a request is signed only once the instructions are applied"]
pub struct SigningInstructions {
    headers: Vec<(HeaderName, HeaderValue)>,
    query: Option<String>,
}

impl SigningInstructions {
    /// The headers to set (sensitive ones marked so), in the order the signer added them.
    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }

    /// The query to send instead of the original one; `None` when the request had none.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// Sets the headers, replacing any of the same name.
    pub fn apply_to_headers(self, headers: &mut HeaderMap) {
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
    }

    /// Sets the headers and the query of an `http` request.
    pub fn apply_to_request<B>(self, request: &mut http::Request<B>) -> Result<(), SignError> {
        if let Some(query) = &self.query {
            let uri = request.uri();
            let path_and_query = format!("{}?{query}", uri.path());
            let mut parts = uri.clone().into_parts();
            parts.path_and_query = Some(path_and_query.parse().map_err(|_| SignError::InvalidQuery)?);
            *request.uri_mut() = http::Uri::from_parts(parts).map_err(|_| SignError::InvalidQuery)?;
        }
        self.apply_to_headers(request.headers_mut());
        Ok(())
    }
}

/// Signs an `http` request in place (the headers of an earlier signature are replaced).
pub fn sign_in_place<B: AsRef<[u8]>>(
    credentials: &Credentials,
    request: &mut http::Request<B>,
    now: OffsetDateTime,
) -> Result<(), SignError> {
    // An origin-form URI (`/path`) has only its `Host` header to say where it goes: that one
    // is the request's own, not the signature's.
    let host = request.uri().host().is_none().then(|| request.headers().get(http::header::HOST).cloned()).flatten();
    remove_signature(request.headers_mut());
    if let Some(host) = host {
        request.headers_mut().insert(http::header::HOST, host);
    }
    let instructions = SignableRequest::from_http(request)?.authorize(credentials, now)?;
    instructions.apply_to_request(request)
}

/// [`SIGNATURE_HEADERS`] as header names, so that removing them parses no name.
const SIGNATURE_HEADER_NAMES: [HeaderName; 4] = [
    http::header::AUTHORIZATION,
    HeaderName::from_static(SIGNATURE_HEADERS[1]),
    http::header::HOST,
    HeaderName::from_static(SIGNATURE_HEADERS[3]),
];

/// Removes the headers an earlier signature added ([`SIGNATURE_HEADERS`]).
pub fn remove_signature(headers: &mut HeaderMap) {
    for name in SIGNATURE_HEADER_NAMES {
        headers.remove(name);
    }
}

/// A request as a server received it, ready to verify.
#[derive(Debug, Clone)]
pub struct VerifiableRequest<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
}

impl<'a> VerifiableRequest<'a> {
    /// From the head of a received request and its body. A header value that is not UTF-8
    /// cannot have been signed: it is left out, so a signature that names it fails.
    pub fn from_http_parts(parts: &'a http::request::Parts, body: &'a [u8]) -> Self {
        let headers = parts
            .headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), std::str::from_utf8(value.as_bytes()).ok()?)))
            .collect();
        Self {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers,
            body,
        }
    }

    /// A header's value, trimmed as the signer trims it; the first of that name, in any case.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| crate::canonical::strip(v))
    }

    /// Checks the signature; see [`crate::verify`].
    pub fn verify<'c>(
        &self,
        secret_for: impl FnOnce(&str) -> Option<&'c Credentials>,
        now: OffsetDateTime,
        max_skew: Duration,
    ) -> Result<Verified, VerifyError> {
        let received = ReceivedRequest {
            method: self.method,
            path: self.path,
            query: self.query,
            headers: &self.headers,
            body: self.body,
        };
        crate::verify(&received, secret_for, now, max_skew)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn request(uri: &str) -> http::Request<Vec<u8>> {
        http::Request::post(uri)
            .header("content-type", "application/json")
            .header("x-project-id", "p1")
            .body(br#"{"a":1}"#.to_vec())
            .expect("a valid request")
    }

    #[test]
    fn the_signature_header_names_are_the_documented_ones() {
        let names = SIGNATURE_HEADER_NAMES;
        assert_eq!(names.each_ref().map(HeaderName::as_str), SIGNATURE_HEADERS);
    }

    #[test]
    fn the_host_keeps_only_a_port_that_is_not_the_default() {
        assert_eq!(host_header("https", "h", Some(443)), "h");
        assert_eq!(host_header("http", "h", Some(80)), "h");
        assert_eq!(host_header("http", "h", Some(443)), "h:443");
        assert_eq!(host_header("https", "h", Some(8443)), "h:8443");
        assert_eq!(host_header("https", "h", None), "h");
    }

    #[test]
    fn a_request_signed_in_place_verifies_and_is_resigned_cleanly() {
        let credentials = Credentials::new("AK", "SK").with_security_token("token");
        let now = datetime!(2024-01-02 03:04:05 UTC);
        let mut signed = request("http://127.0.0.1:8080/v2/p1/x?b=2&a=%20");
        sign_in_place(&credentials, &mut signed, now).expect("signs");
        assert_eq!(signed.headers()["host"], "127.0.0.1:8080");
        assert_eq!(signed.headers()["x-security-token"], "token");
        assert!(signed.headers()["authorization"].is_sensitive());
        assert_eq!(signed.uri().query(), Some("a=%20&b=2"));
        // Signing again, later, replaces the headers instead of adding a second set.
        sign_in_place(&credentials, &mut signed, now + Duration::seconds(5)).expect("signs again");
        assert_eq!(signed.headers().get_all("authorization").iter().count(), 1);
        assert_eq!(signed.headers()["x-sdk-date"], "20240102T030410Z");

        let (parts, body) = signed.into_parts();
        let received = VerifiableRequest::from_http_parts(&parts, &body);
        let verified = received.verify(|ak| (ak == "AK").then_some(&credentials), now, Duration::minutes(1));
        assert_eq!(verified.expect("verifies").access_key, "AK");
        assert_eq!(received.header("X-Security-Token"), Some("token"));
    }

    #[test]
    fn what_cannot_be_a_header_is_an_error_naming_it() {
        let now = datetime!(2024-01-02 03:04:05 UTC);
        let mut broken = request("https://h/p");
        let error = sign_in_place(&Credentials::new("A\r\nK", "SK"), &mut broken, now).expect_err("refused");
        assert_eq!(error, SignError::InvalidHeaderValue("Authorization"));
        let token = Credentials::new("AK", "SK").with_security_token("t\nu");
        assert_eq!(
            sign_in_place(&token, &mut broken, now).expect_err("refused"),
            SignError::InvalidHeaderValue("X-Security-Token")
        );
        assert!(!broken.headers().contains_key("authorization"), "nothing half-signed is left");

        let mut not_text = request("https://h/p");
        not_text.headers_mut().insert("x-binary", HeaderValue::from_bytes(b"\xff").expect("a byte value"));
        assert_eq!(
            sign_in_place(&Credentials::new("AK", "SK"), &mut not_text, now).expect_err("refused"),
            SignError::HeaderNotText("x-binary".to_owned())
        );
    }
}
