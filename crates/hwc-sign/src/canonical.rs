//! The stages of SDK-HMAC-SHA256: canonical URI, query, headers, payload hash, canonical
//! request and string to sign. Each is public so that tests and users can compare a
//! stage with the official signer's and see exactly where two signatures part.

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

/// Lower-case hex of a digest, appended to `out` in one piece (`hex::encode` collects chars
/// one by one).
pub(crate) fn push_hex(out: &mut String, bytes: &[u8; 32]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = [0u8; 64];
    for (pair, &byte) in hex.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    out.push_str(std::str::from_utf8(&hex).unwrap_or_else(|_| unreachable!("hex digits are ASCII")));
}

/// The canonical URI: the wire path decoded, split on `/`, each segment encoded again, and a
/// trailing `/` added. A decoded `%2F` therefore splits a segment, as in the official signer.
pub fn canonical_uri(path: &str) -> String {
    // The common path (unreserved characters and `/` only) decodes and encodes to itself.
    if path.bytes().all(|b| b == b'/' || b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~')) {
        let mut uri = String::with_capacity(path.len() + 1);
        uri.push_str(path);
        if !uri.ends_with('/') {
            uri.push('/');
        }
        return uri;
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
    uri
}

/// The canonical query string from decoded pairs: sorted by key, then value, both encoded,
/// joined with `&`. The official SDK also sends this string as the request's query.
pub fn canonical_query_string<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut sorted: Vec<(&str, &str)> =
        pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
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
    let mut signed: Vec<Cow<'a, str>> = names
        .into_iter()
        .filter(|n| !n.contains('_'))
        .map(|n| if n.bytes().any(|b| b.is_ascii_uppercase()) { Cow::Owned(n.to_ascii_lowercase()) } else { Cow::Borrowed(n) })
        .collect();
    signed.sort_unstable();
    signed
}

/// Hex SHA-256 of the body; the empty body's hash is a constant; a body declared unsigned
/// through `X-Sdk-Content-Sha256` uses that header's value instead.
pub fn payload_hash(body: &[u8], content_sha256_header: Option<&str>) -> String {
    if body.is_empty() {
        return EMPTY_PAYLOAD_HASH.to_owned();
    }
    match content_sha256_header {
        Some(value) if !value.is_empty() => value.to_owned(),
        _ => {
            let mut hash = String::with_capacity(64);
            push_hex(&mut hash, &Sha256::digest(body).into());
            hash
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
    let names: usize = signed_headers.iter().map(|name| name.as_ref().len() + 1).sum();
    let values: usize = signed_headers.iter().map(|name| header_value(name.as_ref()).map_or(0, str::len) + 2).sum();
    let mut out =
        String::with_capacity(method.len() + canonical_uri.len() + canonical_query.len() + names * 2 + values + payload_hash.len() + 4);
    out.push_str(method);
    out.make_ascii_uppercase();
    out.push('\n');
    out.push_str(canonical_uri);
    out.push('\n');
    out.push_str(canonical_query);
    out.push('\n');
    for name in signed_headers {
        let name = name.as_ref();
        out.push_str(name);
        out.push(':');
        out.push_str(header_value(name).unwrap_or(""));
        out.push('\n');
    }
    out.push('\n');
    push_joined(&mut out, signed_headers);
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// `SDK-HMAC-SHA256\n<X-Sdk-Date>\n<hex sha256 of the canonical request>`.
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    let mut out = String::with_capacity(ALGORITHM.len() + sdk_date.len() + 66);
    out.push_str(ALGORITHM);
    out.push('\n');
    out.push_str(sdk_date);
    out.push('\n');
    push_hex(&mut out, &Sha256::digest(canonical_request.as_bytes()).into());
    out
}

/// The signed names joined with `;`, appended to `out`.
pub(crate) fn push_joined(out: &mut String, signed_headers: &[impl AsRef<str>]) {
    for (index, name) in signed_headers.iter().enumerate() {
        if index > 0 {
            out.push(';');
        }
        out.push_str(name.as_ref());
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
