//! Huawei Cloud API request signing, SDK-HMAC-SHA256, byte for byte as the official SDK signs.
//!
//! Pure by design: no HTTP client, no clock, no environment. The caller passes the time, so
//! signing is reproducible and testable, and the same crate serves both sides of the wire:
//! [`sign`] for clients and [`verify`] for servers (our simulator).
//!
//! ```
//! use hwc_sign::{sign, Credentials, Request};
//! use time::macros::datetime;
//!
//! let credentials = Credentials::new("HPUAEXAMPLEAK0000001", "exampleSecretKey");
//! let headers = [("Content-Type", "application/json")];
//! let request = Request {
//!     method: "POST",
//!     host: "workspace.cn-north-4.myhuaweicloud.com",
//!     path: "/v2/0123456789abcdef0123456789abcdef/desktop/delete-sub-resources",
//!     query: &[],
//!     headers: &headers,
//!     body: br#"{"desktop_ids":["d-1"],"sub_resource_type":"DESKTOP_SHARER"}"#,
//! };
//! let signed = sign(&credentials, &request, datetime!(2024-01-02 03:04:05 UTC)).unwrap();
//! assert!(signed.authorization.starts_with("SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK0000001, "));
//! assert_eq!(signed.header("X-Sdk-Date"), Some("20240102T030405Z"));
//! ```
#![warn(missing_docs)]

mod canonical;
mod credentials;
mod date;
pub mod http;
mod sign;
mod verify;

pub use canonical::{
    canonical_query_string, canonical_request, canonical_uri, payload_hash, percent_encode, signed_header_names,
    string_to_sign,
};
pub use credentials::Credentials;
pub use date::{format_sdk_date, parse_sdk_date};
pub use sign::{Authorized, Request, SignError, Signed, authorize, sign, signature_hex};
pub use verify::{Authorization, ReceivedRequest, Verified, VerifyError, parse_query_string, verify};

/// The algorithm name that opens the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The request time header, `YYYYMMDDTHHMMSSZ` in UTC.
pub const HEADER_DATE: &str = "X-Sdk-Date";
/// Carries `UNSIGNED-PAYLOAD` for non-JSON bodies, whose hash is then not signed.
pub const HEADER_CONTENT_SHA256: &str = "X-Sdk-Content-Sha256";
/// The header the official SDK uses for the token of temporary credentials.
pub const HEADER_SECURITY_TOKEN: &str = "X-Security-Token";
/// The payload-hash stand-in for bodies that are not JSON.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Hex SHA-256 of the empty body.
pub const EMPTY_PAYLOAD_HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
