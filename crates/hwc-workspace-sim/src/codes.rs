//! The error codes the simulator answers, in the service's style: `APIGW.*` from the gateway
//! layer (routing, body size, authentication, authorization, throttling), `WKS.*` from the
//! Workspace service behind it. The crate README lists them with their statuses.

/// 404: no API at this path; 405: the path exists but not with this method.
pub const API_NOT_FOUND: &str = "APIGW.0101";
/// 413: the request body is larger than the limit; 408: it did not arrive in time.
pub const REQUEST_REJECTED: &str = "APIGW.0201";
/// 401: AK/SK authentication failed (signature, access key, date, security token or
/// `X-Project-Id`); the message says which check.
pub const AUTHENTICATION_FAILED: &str = "APIGW.0301";
/// 403: the key lacks the `workspace:desktops:deleteSubResources` permission.
pub const NOT_AUTHORIZED: &str = "APIGW.0302";
/// 429: throttled (an injected fault), with `Retry-After`.
pub const THROTTLED: &str = "APIGW.0308";
/// 502: the gateway could not reach the service (an injected fault with a JSON body).
pub const BAD_GATEWAY: &str = "APIGW.0202";
/// 504: the service did not answer the gateway in time (an injected fault with a JSON body).
pub const GATEWAY_TIMEOUT: &str = "APIGW.0203";

/// 400: the `Content-Type` is not `application/json`.
pub const UNSUPPORTED_CONTENT_TYPE: &str = "WKS.0001";
/// 400: the body is not valid JSON, or not a JSON object.
pub const MALFORMED_BODY: &str = "WKS.0002";
/// 400: a required field is missing (or null).
pub const MISSING_FIELD: &str = "WKS.0003";
/// 400: a field (or a list's item) has the wrong JSON type.
pub const WRONG_TYPE: &str = "WKS.0004";
/// 400: a list holds fewer or more items than the spec allows (`desktop_ids`: 0 or more than
/// 100 ids).
pub const DESKTOP_COUNT: &str = "WKS.0005";
/// 400: a value is blank where it must not be, shorter or longer than the spec allows (255
/// characters), outside its bounds or closed list, a desktop id that breaks the core's id
/// rule (`hwc_workspace::DESKTOP_ID_RULE`), or a path parameter the core's rule refuses.
pub const INVALID_VALUE: &str = "WKS.0006";
/// 400: the `sub_resource_type` is not one the simulator supports; the message names it.
pub const UNSUPPORTED_SUB_RESOURCE_TYPE: &str = "WKS.0007";
/// 404: the project in the path is not the simulator's.
pub const PROJECT_NOT_FOUND: &str = "WKS.0101";
/// 404: some desktop ids do not exist; the message names them.
pub const DESKTOP_NOT_FOUND: &str = "WKS.0102";
/// 500: an internal error (an injected fault).
pub const INTERNAL_ERROR: &str = "WKS.0500";
/// 503: the service is unavailable (an injected fault).
pub const SERVICE_UNAVAILABLE: &str = "WKS.0503";
/// 404: ShowJob for a job id that does not exist in the project.
pub const JOB_NOT_FOUND: &str = "WKS.0103";
/// In a job, not an answer: a sub-job failed (injected with `Faults::failing_desktops`).
pub const SUB_JOB_FAILED: &str = "WKS.0601";

/// Every code with its status, for documentation and tests.
pub const ALL: [(&str, u16); 21] = [
    (API_NOT_FOUND, 404),
    (API_NOT_FOUND, 405),
    (REQUEST_REJECTED, 413),
    (REQUEST_REJECTED, 408),
    (AUTHENTICATION_FAILED, 401),
    (NOT_AUTHORIZED, 403),
    (THROTTLED, 429),
    (BAD_GATEWAY, 502),
    (GATEWAY_TIMEOUT, 504),
    (UNSUPPORTED_CONTENT_TYPE, 400),
    (MALFORMED_BODY, 400),
    (MISSING_FIELD, 400),
    (WRONG_TYPE, 400),
    (DESKTOP_COUNT, 400),
    (INVALID_VALUE, 400),
    (UNSUPPORTED_SUB_RESOURCE_TYPE, 400),
    (PROJECT_NOT_FOUND, 404),
    (DESKTOP_NOT_FOUND, 404),
    (JOB_NOT_FOUND, 404),
    (INTERNAL_ERROR, 500),
    (SERVICE_UNAVAILABLE, 503),
];
