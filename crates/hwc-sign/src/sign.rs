//! The client side: a request in, every stage and the headers after signing out.

use std::borrow::Cow;

use hmac::Mac;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::canonical::{self, Hex, PayloadHash, Sink, strip};
use crate::{
    ALGORITHM, Credentials, HEADER_CONTENT_SHA256, HEADER_DATE, HEADER_SECURITY_TOKEN, UNSIGNED_PAYLOAD,
    format_sdk_date, parse_sdk_date,
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
    /// The canonical request, as the official signer builds it.
    pub canonical_request: String,
    /// `SDK-HMAC-SHA256`, the date and the hash of the canonical request, one per line.
    pub string_to_sign: String,
    /// Hex HMAC-SHA256 of the string to sign, keyed with the SK.
    pub signature: String,
    /// Lower-cased signed header names joined with `;`.
    pub signed_headers: String,
    /// The `Authorization` header value.
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
    /// An `X-Sdk-Date` header was given that is not a date.
    InvalidDate(String),
    #[error("the access key is empty")]
    /// The access key is empty.
    EmptyAccessKey,
    #[error("the secret key is empty")]
    /// The secret key is empty.
    EmptySecretKey,
    /// A header value that is not UTF-8 text; the official signer signs text only.
    #[error("the header {0:?} is not UTF-8 text, so it cannot be signed")]
    HeaderNotText(String),
    /// A value signing adds (from the credentials) cannot be sent as a header value.
    #[error("the {0} header cannot carry this value (it holds a line break or another control character)")]
    InvalidHeaderValue(&'static str),
    /// The URL has no host to sign as `Host`.
    #[error("the URL has no host")]
    NoHost,
    /// The canonical query could not be put back into the URI.
    #[error("the signed query cannot be sent in the URI")]
    InvalidQuery,
}

/// Signs a request with SDK-HMAC-SHA256 exactly as the official SDK does, keeping every
/// stage (for tests, dry runs and comparisons with the official signer); [`authorize`] is
/// the same signature without the stages.
///
/// Like the official signer: an `X-Sdk-Date` already among the headers is used as is,
/// otherwise `now` is; `Host` comes from [`Request::host`] unless a `Host` header is present;
/// a `Content-Type` that is not JSON adds `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`. Temporary
/// credentials add their `X-Security-Token` unless the request already carries one.
pub fn sign(credentials: &Credentials, request: &Request<'_>, now: OffsetDateTime) -> Result<Signed, SignError> {
    let mut prepared = prepare(credentials, request, now)?;
    let query = canonical::canonical_query_string(request.query);
    let mut canonical_request = String::with_capacity(512);
    let signed_names = write_canonical_request(&prepared, request, &query, &mut canonical_request);
    let string_to_sign = canonical::string_to_sign(prepared.sdk_date(), &canonical_request);
    let signature = Hex::new(&credentials.mac(string_to_sign.as_bytes()).finalize().into_bytes().into());
    let mut signed_headers = String::with_capacity(64);
    canonical::write_joined(&mut signed_headers, &signed_names);
    let authorization = authorization(credentials, &signed_names, &signature);
    set_exact(&mut prepared.headers, "Authorization", Cow::Owned(authorization.clone()));
    Ok(Signed {
        canonical_request,
        string_to_sign,
        signature: signature.as_str().to_owned(),
        signed_headers,
        authorization,
        query,
        headers: prepared.headers.into_iter().map(|(name, value)| (name.to_owned(), value.into_owned())).collect(),
    })
}

/// What [`authorize`] adds to a request, borrowed from the request and the credentials where
/// it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized<'a> {
    headers: Vec<(&'a str, Cow<'a, str>)>,
    query: String,
}

impl Authorized<'_> {
    /// The value of a header after signing (the request's own, or one signing added such as
    /// `X-Sdk-Date`, `Host`, `X-Security-Token` and `Authorization`), looked up without regard
    /// to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// The canonical query string, which is also the query to send.
    pub fn query(&self) -> &str {
        &self.query
    }
}

/// The signature of [`sign`] with none of its stages kept: nothing is kept but what goes on
/// the wire. A client signing every call uses this.
pub fn authorize<'a>(
    credentials: &'a Credentials,
    request: &Request<'a>,
    now: OffsetDateTime,
) -> Result<Authorized<'a>, SignError> {
    let mut prepared = prepare(credentials, request, now)?;
    let query = canonical::canonical_query_string(request.query);
    // Written whole and hashed once: hashing it piece by piece costs more than the copy.
    let mut canonical_request = String::with_capacity(512);
    let signed_names = write_canonical_request(&prepared, request, &query, &mut canonical_request);
    let mut mac = credentials.mac(b"");
    let canonical_request_hash = Hex::new(&Sha256::digest(canonical_request.as_bytes()).into());
    canonical::write_string_to_sign(&mut mac, prepared.sdk_date(), &canonical_request_hash);
    let authorization = authorization(credentials, &signed_names, &Hex::new(&mac.finalize().into_bytes().into()));
    set_exact(&mut prepared.headers, "Authorization", Cow::Owned(authorization));
    Ok(Authorized { headers: prepared.headers, query })
}

/// The request's headers as the official signer holds them once it has added its own: names
/// as given, values trimmed.
struct Prepared<'a> {
    headers: Vec<(&'a str, Cow<'a, str>)>,
    /// Where `X-Sdk-Date` is among them.
    date: usize,
}

impl Prepared<'_> {
    fn sdk_date(&self) -> &str {
        &self.headers[self.date].1
    }
}

fn prepare<'a>(
    credentials: &'a Credentials,
    request: &Request<'a>,
    now: OffsetDateTime,
) -> Result<Prepared<'a>, SignError> {
    if credentials.access_key().is_empty() {
        return Err(SignError::EmptyAccessKey);
    }
    if credentials.expose_secret_key().is_empty() {
        return Err(SignError::EmptySecretKey);
    }
    let mut headers: Vec<(&'a str, Cow<'a, str>)> = Vec::with_capacity(request.headers.len() + 5);
    for &(name, value) in request.headers {
        set_exact(&mut headers, name, Cow::Borrowed(strip(value)));
    }
    if let Some(token) = credentials.expose_security_token()
        && find(&headers, HEADER_SECURITY_TOKEN).is_none()
    {
        headers.push((HEADER_SECURITY_TOKEN, Cow::Borrowed(strip(token))));
    }
    // The official signer looks up `Content-Type` by its exact spelling here (a plain dict),
    // so a lower-cased `content-type` adds nothing: matched for byte-exact signatures.
    let non_json = headers
        .iter()
        .find(|(n, _)| *n == "Content-Type")
        .is_some_and(|(_, v)| !v.is_empty() && !v.starts_with("application/json"));
    if non_json {
        set_exact(&mut headers, HEADER_CONTENT_SHA256, Cow::Borrowed(UNSIGNED_PAYLOAD));
    }
    let date = match headers.iter().position(|(n, _)| n.eq_ignore_ascii_case(HEADER_DATE)) {
        Some(index) => {
            let value = &headers[index].1;
            parse_sdk_date(value).ok_or_else(|| SignError::InvalidDate(value.to_string()))?;
            index
        }
        None => {
            headers.push((HEADER_DATE, Cow::Owned(format_sdk_date(now))));
            headers.len() - 1
        }
    };
    if find(&headers, "host").is_none() {
        // Trimmed like every other value: the official signer strips each canonical value,
        // and a verifier strips what it receives (found by the `sign_canonical` fuzz target).
        headers.push(("Host", Cow::Borrowed(strip(request.host))));
    }
    Ok(Prepared { headers, date })
}

/// Writes the canonical request of `prepared` into `out`; returns the signed headers.
fn write_canonical_request<'p, S: Sink>(
    prepared: &'p Prepared<'_>,
    request: &Request<'_>,
    query: &str,
    out: &mut S,
) -> Vec<(&'p str, &'p str)> {
    let headers: Vec<(&str, &str)> = prepared.headers.iter().map(|(name, value)| (*name, value.as_ref())).collect();
    let signed = canonical::signed_headers(&headers);
    let payload = PayloadHash::of(request.body, find(&prepared.headers, HEADER_CONTENT_SHA256));
    canonical::write_canonical_request(
        out,
        request.method,
        |out| canonical::write_canonical_uri(out, request.path),
        query,
        &signed,
        payload.as_str(),
    );
    signed
}

/// `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<names>, Signature=<hex>`.
fn authorization(credentials: &Credentials, signed: &[(&str, &str)], signature: &Hex) -> String {
    let names: usize = signed.iter().map(|(name, _)| name.len() + 1).sum();
    let mut authorization = String::with_capacity(ALGORITHM.len() + credentials.access_key().len() + names + 64 + 40);
    for piece in [ALGORITHM, " Access=", credentials.access_key(), ", SignedHeaders="] {
        authorization.push_str(piece);
    }
    canonical::write_joined(&mut authorization, signed);
    authorization.push_str(", Signature=");
    authorization.push_str(signature.as_str());
    authorization
}

/// Hex HMAC-SHA256 of the string to sign, keyed with the secret key.
pub fn signature_hex(secret_key: &str, string_to_sign: &str) -> String {
    Hex::new(&Credentials::new("", secret_key).mac(string_to_sign.as_bytes()).finalize().into_bytes().into())
        .as_str()
        .to_owned()
}

/// A dict assignment in the official signer: replaces the value of the exact same name in
/// place, else appends.
fn set_exact<'a>(headers: &mut Vec<(&'a str, Cow<'a, str>)>, name: &'a str, value: Cow<'a, str>) {
    match headers.iter_mut().find(|(n, _)| *n == name) {
        Some(slot) => slot.1 = value,
        None => headers.push((name, value)),
    }
}

/// The first header of this name, in any case (the official `_get_header_ignore_case`).
fn find<'h>(headers: &'h [(&str, Cow<'_, str>)], name: &str) -> Option<&'h str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_ref())
}
