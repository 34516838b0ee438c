//! `sign_request`: SDK-HMAC-SHA256 for any Huawei Cloud API request, with the headers after
//! signing returned exactly as the official signer leaves them.

use hwc_sign::http::SignableRequest;
use hwc_sign::{Credentials, SignError};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::args;
use crate::errors::invalid_request;

/// Signs `method url` with its `headers` and `body`, and returns every header to send, in
/// order: the given ones (values trimmed), then `X-Security-Token`, `X-Sdk-Content-Sha256`,
/// `X-Sdk-Date` and `Host` where they were added, then `Authorization`.
#[pyfunction]
#[pyo3(signature = (method, url, headers=None, body=None, *, ak, sk, security_token=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign_request<'py>(
    py: Python<'py>,
    method: &Bound<'py, PyAny>,
    url: &Bound<'py, PyAny>,
    headers: Option<&Bound<'py, PyAny>>,
    body: Option<&Bound<'py, PyAny>>,
    ak: &Bound<'py, PyAny>,
    sk: &Bound<'py, PyAny>,
    security_token: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let method = args::string(method, "method")?;
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(invalid_request(py, "method", "an HTTP method such as \"POST\"", &format!("{method:?}")));
    }
    let url_text = args::string(url, "url")?;
    let parsed = url::Url::parse(&url_text)
        .map_err(|e| invalid_request(py, "url", "an absolute http or https URL", &format!("{url_text:?} ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid_request(py, "url", "an absolute http or https URL", &format!("{url_text:?}")));
    }
    let headers = header_pairs(py, headers)?;
    let body = args::body(body, "body")?;
    let mut credentials = Credentials::new(args::string(ak, "ak")?, args::string(sk, "sk")?);
    if let Some(token) = args::optional_string(security_token, "security_token")? {
        credentials = credentials.with_security_token(token);
    }

    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // The query is decoded as a server decodes it: `+` stays a plus sign (RFC 3986), so
    // encode spaces as `%20`, as the official SDK does.
    let request = SignableRequest::from_url_parts(
        &method,
        parsed.scheme(),
        parsed.host_str().unwrap_or_default(),
        parsed.port(),
        parsed.path(),
        parsed.query().unwrap_or_default(),
        header_refs,
        &body,
    );
    let signed = request.sign(&credentials, time::OffsetDateTime::now_utc()).map_err(|e| match e {
        SignError::InvalidDate(value) => {
            invalid_request(py, "headers[X-Sdk-Date]", "a date of the form YYYYMMDDTHHMMSSZ", &format!("{value:?}"))
        }
        SignError::EmptyAccessKey => invalid_request(py, "ak", "a non-empty access key", "\"\""),
        SignError::EmptySecretKey => invalid_request(py, "sk", "a non-empty secret key", "an empty string"),
        other => invalid_request(py, "request", "a request that can be signed", &other.to_string()),
    })?;
    let out = PyDict::new(py);
    for (name, value) in &signed.headers {
        out.set_item(name, value)?;
    }
    Ok(out)
}

/// `(name, value)` pairs, in order, from a mapping of str to str.
fn header_pairs(py: Python<'_>, headers: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let Some(headers) = headers.filter(|h| !h.is_none()) else { return Ok(Vec::new()) };
    let items = headers.call_method0("items").map_err(|_| {
        PyTypeError::new_err(format!("headers must be a mapping of str to str, got {}", args::type_name(headers)))
    })?;
    let mut pairs = Vec::new();
    for item in items.try_iter()? {
        let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
        let (Ok(name), Ok(value)) = (name.cast::<PyString>(), value.cast::<PyString>()) else {
            return Err(PyTypeError::new_err(format!(
                "headers must be a mapping of str to str, got {} to {}",
                args::type_name(&name),
                args::type_name(&value)
            )));
        };
        let (name, value) = (name.to_cow()?.into_owned(), value.to_cow()?.into_owned());
        let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        if !name_ok {
            return Err(invalid_request(
                py,
                "headers",
                "header names of visible ASCII characters, without ':'",
                &format!("{name:?}"),
            ));
        }
        // A line break in a value would split the header on the wire.
        if value.contains(['\r', '\n']) {
            return Err(invalid_request(
                py,
                &format!("headers[{name}]"),
                "a value without line breaks",
                "a value with a line break",
            ));
        }
        pairs.push((name, value));
    }
    Ok(pairs)
}
