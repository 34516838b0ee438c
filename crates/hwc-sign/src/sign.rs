//! The client side: a request in, every stage and the headers after signing out.

use hmac::Mac;
use time::OffsetDateTime;

use crate::canonical::{self, push_hex, push_joined, strip};
use crate::{
    ALGORITHM, Credentials, HEADER_CONTENT_SHA256, HEADER_DATE, HEADER_SECURITY_TOKEN,
    UNSIGNED_PAYLOAD, format_sdk_date, parse_sdk_date,
};

/// A request to sign, as it will go on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The HTTP method, any case.
    pub method: &'a str,
    /// The authority sent as `Host` (with the port when it is not the scheme's default).
    pub host: &'a str,
    /// The path as sent, percent-encoded.
    pub path: &'a str,
    /// Decoded query pairs; their order does not matter.
    pub query: &'a [(&'a str, &'a str)],
    /// Headers in the order they are set, names in any case. The body is not read from them.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body bytes; empty for none.
    pub body: &'a [u8],
}

/// The outcome of [`sign`]: every intermediate stage, and the headers to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub canonical_request: String,
    pub string_to_sign: String,
    /// Hex HMAC-SHA256 of the string to sign, keyed with the SK.
    pub signature: String,
    /// Lower-cased signed header names joined with `;`.
    pub signed_headers: String,
    pub authorization: String,
    /// The canonical query string, which is also the query to send.
    pub query: String,
    /// Every header after signing, in order: the request's own (values trimmed), then
    /// `X-Security-Token`, `X-Sdk-Content-Sha256`, `X-Sdk-Date`, `Host` where they were added,
    /// then `Authorization`.
    pub headers: Vec<(String, String)>,
}

impl Signed {
    /// The value of a header after signing, looked up without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why a request could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    #[error("the X-Sdk-Date header {0:?} is not of the form YYYYMMDDTHHMMSSZ")]
    InvalidDate(String),
    #[error("the access key is empty")]
    EmptyAccessKey,
    #[error("the secret key is empty")]
    EmptySecretKey,
}

/// Signs a request with SDK-HMAC-SHA256 exactly as the official SDK does.
///
/// Like the official signer: an `X-Sdk-Date` already among the headers is used as is,
/// otherwise `now` is; `Host` comes from [`Request::host`] unless a `Host` header is present;
/// a `Content-Type` that is not JSON adds `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`. Temporary
/// credentials add their `X-Security-Token` unless the request already carries one.
pub fn sign(
    credentials: &Credentials,
    request: &Request<'_>,
    now: OffsetDateTime,
) -> Result<Signed, SignError> {
    if credentials.access_key().is_empty() {
        return Err(SignError::EmptyAccessKey);
    }
    if credentials.expose_secret_key().is_empty() {
        return Err(SignError::EmptySecretKey);
    }

    let mut headers: Vec<(String, String)> = Vec::with_capacity(request.headers.len() + 5);
    for &(name, value) in request.headers {
        set_exact(&mut headers, name, strip(value));
    }
    if let Some(token) = credentials.expose_security_token() {
        if find(&headers, HEADER_SECURITY_TOKEN).is_none() {
            headers.push((HEADER_SECURITY_TOKEN.to_owned(), strip(token).to_owned()));
        }
    }
    // The official signer looks up `Content-Type` by its exact spelling here (a plain dict),
    // so a lower-cased `content-type` adds nothing: matched for byte-exact signatures.
    let non_json = headers
        .iter()
        .find(|(n, _)| n == "Content-Type")
        .is_some_and(|(_, v)| !v.is_empty() && !v.starts_with("application/json"));
    if non_json {
        set_exact(&mut headers, HEADER_CONTENT_SHA256, UNSIGNED_PAYLOAD);
    }
    let sdk_date = match find(&headers, HEADER_DATE) {
        Some(value) => {
            parse_sdk_date(value).ok_or_else(|| SignError::InvalidDate(value.to_owned()))?;
            value.to_owned()
        }
        None => {
            let value = format_sdk_date(now);
            headers.push((HEADER_DATE.to_owned(), value.clone()));
            value
        }
    };
    if find(&headers, "host").is_none() {
        // Trimmed like every other value: the official signer strips each canonical value,
        // and a verifier strips what it receives (found by the `sign_canonical` fuzz target).
        headers.push(("Host".to_owned(), strip(request.host).to_owned()));
    }

    let signed_names = canonical::signed_header_names(headers.iter().map(|(n, _)| n.as_str()));
    let query = canonical::canonical_query_string(request.query);
    let payload = canonical::payload_hash(request.body, find(&headers, HEADER_CONTENT_SHA256));
    let canonical_request = canonical::canonical_request(
        request.method,
        &canonical::canonical_uri(request.path),
        &query,
        &signed_names,
        |name| last_value(&headers, name),
        &payload,
    );
    let string_to_sign = canonical::string_to_sign(&sdk_date, &canonical_request);
    let mut signature = String::with_capacity(64);
    push_hex(&mut signature, &credentials.mac(string_to_sign.as_bytes()).finalize().into_bytes().into());
    let mut signed_headers = String::with_capacity(64);
    push_joined(&mut signed_headers, &signed_names);
    let mut authorization = String::with_capacity(
        ALGORITHM.len() + credentials.access_key().len() + signed_headers.len() + signature.len() + 40,
    );
    for piece in [ALGORITHM, " Access=", credentials.access_key(), ", SignedHeaders=", &signed_headers, ", Signature=", &signature] {
        authorization.push_str(piece);
    }
    set_exact(&mut headers, "Authorization", &authorization);
    Ok(Signed {
        canonical_request,
        string_to_sign,
        signature,
        signed_headers,
        authorization,
        query,
        headers,
    })
}

/// Hex HMAC-SHA256 of the string to sign, keyed with the secret key.
pub fn signature_hex(secret_key: &str, string_to_sign: &str) -> String {
    let mut hex = String::with_capacity(64);
    push_hex(&mut hex, &Credentials::new("", secret_key).mac(string_to_sign.as_bytes()).finalize().into_bytes().into());
    hex
}

/// A dict assignment in the official signer: replaces the value of the exact same name in
/// place, else appends.
fn set_exact(headers: &mut Vec<(String, String)>, name: &str, value: &str) {
    match headers.iter_mut().find(|(n, _)| n == name) {
        Some(slot) => value.clone_into(&mut slot.1),
        None => headers.push((name.to_owned(), value.to_owned())),
    }
}

/// The first header of this name, in any case (the official `_get_header_ignore_case`).
fn find<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// The last header of this name, in any case: the official canonical headers are a dict
/// keyed by the lower-cased name, so a later spelling wins.
fn last_value<'h>(headers: &'h [(String, String)], lower_name: &str) -> Option<&'h str> {
    headers.iter().rev().find(|(n, _)| n.eq_ignore_ascii_case(lower_name)).map(|(_, v)| v.as_str())
}
