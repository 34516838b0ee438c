//! The stages of SDK-HMAC-SHA256: canonical URI, query, headers, payload hash, canonical
//! request and string to sign. Each is public so that tests and users can compare a
//! stage with the official signer's and see exactly where two signatures part.

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};
use std::borrow::Cow;

use crate::{ALGORITHM, EMPTY_PAYLOAD_HASH};

/// What Python's `urllib.parse.quote(s, safe='~')` leaves alone: letters, digits and `_.-~`.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'_').remove(b'.').remove(b'-').remove(b'~');

/// Percent-encodes like the official signer: everything but `A-Za-z0-9_.-~`, as UTF-8 bytes,
/// upper-case hex, space as `%20`.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_percent_encoded(&mut out, text);
    out
}

/// [`percent_encode`] appended to `out`: the encoder yields borrowed runs and short escapes,
/// so pushing them costs no formatting machinery and no intermediate string.
fn push_percent_encoded(out: &mut String, text: &str) {
    for piece in utf8_percent_encode(text, ENCODE) {
        out.push_str(piece);
    }
}

/// Lower-case hex of a digest, on the stack (`hex::encode` collects chars one by one).
pub(crate) struct Hex([u8; 64]);

impl Hex {
    pub(crate) fn new(bytes: &[u8; 32]) -> Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 64];
        for (pair, &byte) in hex.chunks_exact_mut(2).zip(bytes) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        Self(hex)
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_else(|_| unreachable!("hex digits are ASCII"))
    }
}

/// Where a stage is written: into a string to keep it, or straight into a hash when only its
/// digest is needed (a client signing each call keeps no stage).
pub(crate) trait Sink {
    fn put(&mut self, text: &str);

    /// `text` in ASCII lower case.
    fn put_lower(&mut self, text: &str);
}

impl Sink for String {
    fn put(&mut self, text: &str) {
        self.push_str(text);
    }

    fn put_lower(&mut self, text: &str) {
        let start = self.len();
        self.push_str(text);
        self[start..].make_ascii_lowercase();
    }
}

impl Sink for Hmac<Sha256> {
    fn put(&mut self, text: &str) {
        Mac::update(self, text.as_bytes());
    }

    fn put_lower(&mut self, text: &str) {
        let mut buffer = [0u8; 64];
        for chunk in text.as_bytes().chunks(buffer.len()) {
            let lower = &mut buffer[..chunk.len()];
            lower.copy_from_slice(chunk);
            lower.make_ascii_lowercase();
            Mac::update(self, lower);
        }
    }
}

/// The canonical URI: the wire path decoded, split on `/`, each segment encoded again, and a
/// trailing `/` added. A decoded `%2F` therefore splits a segment, as in the official signer.
pub fn canonical_uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len() + 1);
    write_canonical_uri(&mut uri, path);
    uri
}

/// [`canonical_uri`], written into `out`.
pub(crate) fn write_canonical_uri(out: &mut impl Sink, path: &str) {
    // The common path (unreserved characters and `/` only) decodes and encodes to itself.
    if path.bytes().all(|b| b == b'/' || b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~')) {
        out.put(path);
        if !path.ends_with('/') {
            out.put("/");
        }
        return;
    }
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    let mut uri = String::with_capacity(decoded.len() + 8);
    for (index, segment) in decoded.split('/').enumerate() {
        if index > 0 {
            uri.push('/');
        }
        push_percent_encoded(&mut uri, segment);
    }
    if !uri.ends_with('/') {
        uri.push('/');
    }
    out.put(&uri);
}

/// The canonical query string from decoded pairs: sorted by key, then value, both encoded,
/// joined with `&`. The official SDK also sends this string as the request's query.
pub fn canonical_query_string<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut sorted: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
    sorted.sort_unstable();
    let mut query = String::new();
    for (index, (key, value)) in sorted.into_iter().enumerate() {
        if index > 0 {
            query.push('&');
        }
        push_percent_encoded(&mut query, key);
        query.push('=');
        push_percent_encoded(&mut query, value);
    }
    query
}

/// The header names that are signed: every name without `_`, lower-cased and sorted.
/// Names already in lower case (as HTTP libraries keep them) are borrowed, not copied.
pub fn signed_header_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<Cow<'a, str>> {
    let headers: Vec<(&str, &str)> = names.into_iter().map(|name| (name, "")).collect();
    signed_headers(&headers)
        .into_iter()
        .map(|(n, _)| {
            if n.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(n.to_ascii_lowercase())
            } else {
                Cow::Borrowed(n)
            }
        })
        .collect()
}

/// The signed headers among `(name, trimmed value)` pairs: every name without `_`, in the
/// order of the lower-cased names, each with the value of the last header of that name in
/// any case (the official canonical headers are a dict keyed by the lower-cased name, so a
/// later spelling wins, while the list of names keeps every spelling).
pub(crate) fn signed_headers<'h>(headers: &[(&'h str, &'h str)]) -> Vec<(&'h str, &'h str)> {
    // Sized for all of them: a filtered `collect` would start small and grow.
    let mut signed: Vec<(&str, &str)> = Vec::with_capacity(headers.len());
    signed.extend(headers.iter().copied().filter(|(name, _)| !name.contains('_')));
    // Stable, so that among names equal but for case the last one stays last.
    signed.sort_by(|a, b| cmp_lower(a.0, b.0));
    let mut end = signed.len();
    while end > 0 {
        let (last_name, last_value) = signed[end - 1];
        let mut start = end - 1;
        while start > 0 && cmp_lower(signed[start - 1].0, last_name).is_eq() {
            start -= 1;
        }
        for header in &mut signed[start..end] {
            header.1 = last_value;
        }
        end = start;
    }
    signed
}

/// The order of the lower-cased names, without lower-casing them.
fn cmp_lower(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// Hex SHA-256 of the body; the empty body's hash is a constant; a body declared unsigned
/// through `X-Sdk-Content-Sha256` uses that header's value instead.
pub fn payload_hash(body: &[u8], content_sha256_header: Option<&str>) -> String {
    PayloadHash::of(body, content_sha256_header).as_str().to_owned()
}

/// [`payload_hash`] without a heap string.
pub(crate) enum PayloadHash<'a> {
    Given(&'a str),
    Computed(Hex),
}

impl<'a> PayloadHash<'a> {
    pub(crate) fn of(body: &[u8], content_sha256_header: Option<&'a str>) -> Self {
        if body.is_empty() {
            return Self::Given(EMPTY_PAYLOAD_HASH);
        }
        match content_sha256_header {
            Some(value) if !value.is_empty() => Self::Given(value),
            _ => Self::Computed(Hex::new(&Sha256::digest(body).into())),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Given(value) => value,
            Self::Computed(hex) => hex.as_str(),
        }
    }
}

/// The canonical request: method, URI, query, `name:value` lines of the signed headers,
/// the signed names joined with `;`, and the payload hash, each on its own line.
///
/// `header_value` answers the trimmed value of a lower-cased signed name.
pub fn canonical_request<'a>(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    signed_headers: &[impl AsRef<str>],
    mut header_value: impl FnMut(&str) -> Option<&'a str>,
    payload_hash: &str,
) -> String {
    let signed: Vec<(&str, &str)> =
        signed_headers.iter().map(|name| (name.as_ref(), header_value(name.as_ref()).unwrap_or(""))).collect();
    let mut out = String::with_capacity(
        method.len() + canonical_uri.len() + canonical_query.len() + signed.len() * 64 + payload_hash.len(),
    );
    write_canonical_request(&mut out, method, |out| out.put(canonical_uri), canonical_query, &signed, payload_hash);
    out
}

/// [`canonical_request`] from the signed `(name, value)` pairs (see [`signed_headers`]),
/// written into `out`; `uri` writes the canonical URI.
pub(crate) fn write_canonical_request<S: Sink>(
    out: &mut S,
    method: &str,
    uri: impl FnOnce(&mut S),
    canonical_query: &str,
    signed: &[(&str, &str)],
    payload_hash: &str,
) {
    if method.bytes().any(|b| b.is_ascii_lowercase()) {
        out.put(&method.to_ascii_uppercase());
    } else {
        out.put(method);
    }
    out.put("\n");
    uri(out);
    for piece in ["\n", canonical_query, "\n"] {
        out.put(piece);
    }
    for &(name, value) in signed {
        out.put_lower(name);
        for piece in [":", value, "\n"] {
            out.put(piece);
        }
    }
    out.put("\n");
    write_joined(out, signed);
    out.put("\n");
    out.put(payload_hash);
}

/// `SDK-HMAC-SHA256\n<X-Sdk-Date>\n<hex sha256 of the canonical request>`.
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    let mut out = String::with_capacity(ALGORITHM.len() + sdk_date.len() + 66);
    write_string_to_sign(&mut out, sdk_date, &Hex::new(&Sha256::digest(canonical_request.as_bytes()).into()));
    out
}

/// [`string_to_sign`] from the canonical request's hash, written into `out`.
pub(crate) fn write_string_to_sign(out: &mut impl Sink, sdk_date: &str, canonical_request_hash: &Hex) {
    for piece in [ALGORITHM, "\n", sdk_date, "\n", canonical_request_hash.as_str()] {
        out.put(piece);
    }
}

/// The signed names, lower-cased and joined with `;`, written into `out`.
pub(crate) fn write_joined(out: &mut impl Sink, signed: &[(&str, &str)]) {
    for (index, (name, _)) in signed.iter().enumerate() {
        if index > 0 {
            out.put(";");
        }
        out.put_lower(name);
    }
}

/// Python's `str.strip()`: Unicode white space plus the four ASCII separators it also strips.
pub(crate) fn strip(value: &str) -> &str {
    value.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_python_quote_with_tilde_safe() {
        assert_eq!(percent_encode("a b+c&d=e/f?g#h"), "a%20b%2Bc%26d%3De%2Ff%3Fg%23h");
        assert_eq!(percent_encode("~-._*!'()"), "~-._%2A%21%27%28%29");
        assert_eq!(percent_encode("中"), "%E4%B8%AD");
    }

    #[test]
    fn canonical_uri_always_ends_with_slash() {
        assert_eq!(canonical_uri("/v2/p/desktops"), "/v2/p/desktops/");
        assert_eq!(canonical_uri("/v2/p/"), "/v2/p/");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/a%2Fb/c@d"), "/a/b/c%40d/");
    }

    #[test]
    fn query_sorted_by_key_then_value() {
        let pairs = [("b", "2"), ("a", "z"), ("a", "y")];
        assert_eq!(canonical_query_string(&pairs), "a=y&a=z&b=2");
        assert_eq!(canonical_query_string::<&str, &str>(&[]), "");
    }

    #[test]
    fn underscore_headers_are_not_signed() {
        assert_eq!(signed_header_names(["X-B", "x_c", "Host", "a"]), ["a", "host", "x-b"]);
    }

    #[test]
    fn strip_matches_python() {
        assert_eq!(strip("\x1c \t v a \u{3000}\x1f"), "v a");
    }
}
