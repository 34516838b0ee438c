//! Access key credentials whose secrets never show in `Debug` or `Display`.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// An access key (AK), its secret key (SK), and the security token of temporary credentials.
///
/// `Debug` and `Display` show the AK only: logs, panics and error messages that format a
/// `Credentials` cannot leak the SK or the token.
#[derive(Clone)]
pub struct Credentials {
    access_key: String,
    secret_key: String,
    security_token: Option<String>,
    /// HMAC-SHA256 already keyed with the SK: keying hashes two blocks, a sixth of a
    /// signature's hashing, and the key never changes.
    keyed_mac: Hmac<Sha256>,
}

impl Credentials {
    /// Permanent credentials: an access key and its secret key.
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        let secret_key = secret_key.into();
        // HMAC accepts keys of any length, so this cannot fail.
        let keyed_mac = <Hmac<Sha256> as Mac>::new_from_slice(secret_key.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        Self { access_key: access_key.into(), secret_key, security_token: None, keyed_mac }
    }

    /// Temporary credentials also carry a security token, sent (and signed) as
    /// `X-Security-Token`.
    #[must_use]
    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(token.into());
        self
    }

    /// The access key (AK); not a secret, it names the key.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret key. Named so that every use is easy to find in review.
    pub fn expose_secret_key(&self) -> &str {
        &self.secret_key
    }

    /// The security token, likewise named for review.
    pub fn expose_security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    /// HMAC-SHA256 of `message` keyed with the SK, ready to finalize or verify.
    pub(crate) fn mac(&self, message: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.keyed_mac.clone();
        mac.update(message);
        mac
    }
}

impl PartialEq for Credentials {
    fn eq(&self, other: &Self) -> bool {
        // The keyed MAC follows from the SK.
        self.access_key == other.access_key
            && self.secret_key == other.secret_key
            && self.security_token == other.security_token
    }
}

impl Eq for Credentials {}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("security_token", &self.security_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "access key {}", self.access_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_secrets() {
        let c = Credentials::new("AK-VISIBLE", "SK-s3cr3t-value").with_security_token("TOKEN-hidden");
        for text in [format!("{c:?}"), format!("{c:#?}"), c.to_string()] {
            assert!(text.contains("AK-VISIBLE"), "{text}");
            assert!(!text.contains("SK-s3cr3t-value"), "{text}");
            assert!(!text.contains("TOKEN-hidden"), "{text}");
        }
    }
}
