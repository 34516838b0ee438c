//! The server side: recompute a received request's signature and compare it.

use std::borrow::Cow;

use hmac::Mac;
use percent_encoding::percent_decode_str;
use time::{Duration, OffsetDateTime};

use crate::canonical::{self, strip};
use crate::{ALGORITHM, Credentials, HEADER_CONTENT_SHA256, HEADER_DATE, parse_sdk_date};

/// A request as a server received it.
#[derive(Debug, Clone, Copy)]
pub struct ReceivedRequest<'a> {
    /// The HTTP method, any case.
    pub method: &'a str,
    /// The path as received, percent-encoded.
    pub path: &'a str,
    /// The raw query string, without `?`; empty for none.
    pub query: &'a str,
    /// Every header as received (names in any case).
    pub headers: &'a [(&'a str, &'a str)],
    /// The body bytes as received.
    pub body: &'a [u8],
}

/// The parts of an `SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The access key that claims to have signed.
    pub access_key: &'a str,
    /// The signed header names, as listed.
    pub signed_headers: Vec<&'a str>,
    /// The hex signature.
    pub signature: &'a str,
}

impl<'a> Authorization<'a> {
    /// Parses an `Authorization` header value.
    pub fn parse(value: &'a str) -> Result<Self, VerifyError> {
        let rest = match value.split_once(' ') {
            Some((ALGORITHM, rest)) => rest,
            Some((other, _)) => return Err(VerifyError::UnsupportedAlgorithm(other.to_owned())),
            None => return Err(VerifyError::MalformedAuthorization),
        };
        let (mut access_key, mut signed_headers, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (key, value) = part.trim().split_once('=').ok_or(VerifyError::MalformedAuthorization)?;
            match key {
                "Access" => access_key = Some(value),
                "SignedHeaders" => signed_headers = Some(value.split(';').collect()),
                "Signature" => signature = Some(value),
                _ => return Err(VerifyError::MalformedAuthorization),
            }
        }
        match (access_key, signed_headers, signature) {
            (Some(access_key), Some(signed_headers), Some(signature))
                if !access_key.is_empty() && !signature.is_empty() =>
            {
                Ok(Self { access_key, signed_headers, signature })
            }
            _ => Err(VerifyError::MalformedAuthorization),
        }
    }
}

/// What a successful [`verify`] learnt about the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The access key whose signature matched.
    pub access_key: String,
    /// The request's `X-Sdk-Date`.
    pub date: OffsetDateTime,
}

/// Why a received request's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("the request has no Authorization header")]
    /// No `Authorization` header.
    MissingAuthorization,
    #[error("the Authorization header is not of the form `SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…`")]
    /// The `Authorization` header is not of the documented form.
    MalformedAuthorization,
    #[error("the signing algorithm {0:?} is not supported; use SDK-HMAC-SHA256")]
    /// An algorithm other than SDK-HMAC-SHA256.
    UnsupportedAlgorithm(String),
    #[error("the access key {0:?} is not known")]
    /// No credentials are known for the access key.
    UnknownAccessKey(String),
    #[error("the header {0:?} must be signed")]
    /// A header that must be signed (`Host`, `X-Sdk-Date`) is not.
    HeaderNotSigned(&'static str),
    #[error("the signed header {0:?} is not in the request")]
    /// A header listed as signed is not in the request.
    MissingSignedHeader(String),
    #[error("the X-Sdk-Date header is missing or not of the form YYYYMMDDTHHMMSSZ")]
    /// `X-Sdk-Date` is missing or not a date.
    InvalidDate,
    #[error("the X-Sdk-Date is {seconds} s away from the server's time, more than the {allowed} s allowed")]
    /// `X-Sdk-Date` is further from the server's clock than allowed.
    DateOutOfRange {
        /// How far the date is from the server's clock (positive: in the past).
        seconds: i64,
        /// The most the server allows.
        allowed: i64,
    },
    /// The signature is not the one the request's content gives.
    #[error("the signature does not match the request")]
    SignatureMismatch,
}

/// Verifies a received request's SDK-HMAC-SHA256 signature.
///
/// `secret_for` looks up the credentials of an access key. `X-Sdk-Date` and `Host` must be
/// signed, and the date must lie within `max_skew` of `now`. The comparison of signatures
/// takes constant time.
pub fn verify<'c>(
    request: &ReceivedRequest<'_>,
    secret_for: impl FnOnce(&str) -> Option<&'c Credentials>,
    now: OffsetDateTime,
    max_skew: Duration,
) -> Result<Verified, VerifyError> {
    let header = |name: &str| request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| strip(v));
    let authorization = Authorization::parse(header("authorization").ok_or(VerifyError::MissingAuthorization)?)?;
    for required in ["host", "x-sdk-date"] {
        if !authorization.signed_headers.iter().any(|n| n.eq_ignore_ascii_case(required)) {
            return Err(VerifyError::HeaderNotSigned(if required == "host" { "Host" } else { HEADER_DATE }));
        }
    }
    let sdk_date = header(HEADER_DATE).ok_or(VerifyError::InvalidDate)?;
    let date = parse_sdk_date(sdk_date).ok_or(VerifyError::InvalidDate)?;
    let skew = (now - date).whole_seconds();
    if skew.abs() > max_skew.whole_seconds() {
        return Err(VerifyError::DateOutOfRange { seconds: skew, allowed: max_skew.whole_seconds() });
    }
    let credentials = secret_for(authorization.access_key)
        .ok_or_else(|| VerifyError::UnknownAccessKey(authorization.access_key.to_owned()))?;

    let signed_names: Vec<String> = authorization.signed_headers.iter().map(|n| n.to_ascii_lowercase()).collect();
    let mut values = Vec::with_capacity(signed_names.len());
    for name in &signed_names {
        values.push(header(name).ok_or_else(|| VerifyError::MissingSignedHeader(name.clone()))?);
    }
    let pairs = parse_query_string(request.query);
    let canonical_request = canonical::canonical_request(
        request.method,
        &canonical::canonical_uri(request.path),
        &canonical::canonical_query_string(&pairs),
        &signed_names,
        |name| signed_names.iter().position(|n| n == name).map(|i| values[i]),
        &canonical::payload_hash(request.body, header(HEADER_CONTENT_SHA256)),
    );
    let string_to_sign = canonical::string_to_sign(sdk_date, &canonical_request);
    let claimed = hex::decode(authorization.signature).map_err(|_| VerifyError::SignatureMismatch)?;
    credentials.mac(string_to_sign.as_bytes()).verify_slice(&claimed).map_err(|_| VerifyError::SignatureMismatch)?;
    Ok(Verified { access_key: authorization.access_key.to_owned(), date })
}

/// Splits a raw query string into decoded pairs: `%XX` decoded (as UTF-8, lossily), `+` kept
/// as is since signed clients encode a space as `%20`, a missing `=` read as an empty value.
pub fn parse_query_string(query: &str) -> Vec<(String, String)> {
    decoded_query_pairs(query).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// [`parse_query_string`] without copies where nothing was encoded.
pub(crate) fn decoded_query_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    query.split('&').filter(|part| !part.is_empty()).map(|part| {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        (percent_decode_str(key).decode_utf8_lossy(), percent_decode_str(value).decode_utf8_lossy())
    })
}
