//! The signing adapter: a `reqwest::Request` signed in place by `hwc-sign` (the way
//! aws-sigv4's `SignableRequest` adapts any request), and a signed request captured for a dry
//! run. It sits below the hooks and IAM, which both sign through it, so that neither reaches
//! into the other.

use std::fmt;

use hwc_sign::Credentials;
use reqwest::header::{HeaderName, HeaderValue};
use time::OffsetDateTime;

use crate::limits::PROJECT_ID_HEADER;

/// The project header as a header name, parsed once.
const PROJECT_ID: HeaderName = HeaderName::from_static(PROJECT_ID_HEADER);

/// Signs the request in place: `X-Project-Id` (when a project is named: IAM's calls name
/// none), `X-Security-Token`, `X-Sdk-Date`, `Host`, `Authorization`. Headers of an earlier
/// attempt are replaced.
pub(crate) fn sign_request(
    credentials: &Credentials,
    project_id: Option<&str>,
    clock: fn() -> OffsetDateTime,
    request: &mut reqwest::Request,
) -> Result<(), hwc_sign::SignError> {
    hwc_sign::http::remove_signature(request.headers_mut());
    if let Some(project_id) = project_id {
        let project_id =
            HeaderValue::from_str(project_id).map_err(|_| hwc_sign::SignError::InvalidHeaderValue("X-Project-Id"))?;
        request.headers_mut().insert(PROJECT_ID, project_id);
    }
    let url = request.url();
    let instructions = hwc_sign::http::SignableRequest::from_url_parts(
        request.method().as_str(),
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port(),
        url.path(),
        url.query().unwrap_or_default(),
        hwc_sign::http::header_pairs(request.headers())?,
        request.body().and_then(reqwest::Body::as_bytes).unwrap_or_default(),
    )
    .authorize(credentials, clock())?;
    if let Some(query) = instructions.query() {
        let query = query.to_owned();
        request.url_mut().set_query(Some(&query));
    }
    instructions.apply_to_headers(request.headers_mut());
    Ok(())
}

/// A signed request that was not sent (a dry run).
#[derive(Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The HTTP method.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Every header as it would be sent, secrets included: use [`SignedRequest::masked_headers`]
    /// to show them.
    pub headers: Vec<(String, String)>,
    /// The body bytes, as they would be sent.
    pub body: Vec<u8>,
}

impl SignedRequest {
    pub(crate) fn from_request(request: &reqwest::Request) -> Self {
        Self {
            method: request.method().to_string(),
            url: request.url().to_string(),
            headers: request
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect(),
            body: request.body().and_then(reqwest::Body::as_bytes).map(<[u8]>::to_vec).unwrap_or_default(),
        }
    }

    /// The headers with the signature and the security token masked.
    pub fn masked_headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(name, value)| {
                let masked = match name.as_str() {
                    "authorization" => match value.rsplit_once("Signature=") {
                        Some((head, _)) => format!("{head}Signature=****"),
                        None => "****".to_owned(),
                    },
                    "x-security-token" => "****".to_owned(),
                    _ => value.clone(),
                };
                (name.clone(), masked)
            })
            .collect()
    }
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.masked_headers())
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}
