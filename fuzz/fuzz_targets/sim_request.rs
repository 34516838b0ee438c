//! Fuzzes the simulator's request handling, in memory: up to three requests on one
//! connection, each chosen from the documented operations or anything else, signed or not.
//!
//! Every answer must carry an `X-Request-Id` and a JSON body; an error must be one of the
//! documented `(error_code, status)` pairs with the documented fields; nothing is accepted
//! without a valid signature by a key that holds the permission; and a request that a
//! correct client sends (the oracle, [`Call::well_formed`]) is accepted.

#![no_main]

use arbitrary::Arbitrary;
use hwc_sign::Credentials;
use hwc_workspace_sim::fuzzing::{self, TEMPORARY_AK, TEMPORARY_SK, TEMPORARY_TOKEN};
use hwc_workspace_sim::{
    DEMO_AK, DEMO_DENIED_AK, DEMO_DENIED_SK, DEMO_DESKTOP_IDS, DEMO_PROJECT_ID, DEMO_SK, DESKTOP_SHARER,
    MAX_CLOCK_SKEW, MAX_DESKTOP_IDS, MAX_VALUE_CHARS, codes,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

#[derive(Arbitrary, Debug)]
enum Method {
    Post,
    Get,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Project {
    Demo,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum JobId {
    /// The n-th job this input created (1 to 4).
    Created(u8),
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Path {
    Deletion(Project),
    Job(Project, JobId),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum ProjectHeader {
    /// The project of the path.
    Matching,
    Missing,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum ContentType {
    Json,
    JsonWithCharset,
    Missing,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum DesktopId {
    Demo(u8),
    Other(String),
    Number(i64),
    Null,
}

#[derive(Arbitrary, Debug)]
enum SubResourceType {
    Sharer,
    Other(String),
    Number(i64),
    Missing,
}

#[derive(Arbitrary, Debug)]
enum Body {
    Deletion {
        desktop_ids: Option<Vec<DesktopId>>,
        sub_resource_type: SubResourceType,
        /// Absent, `null`, or a string.
        order_id: Option<Option<String>>,
        extra: Option<(String, String)>,
    },
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq)]
enum Signing {
    Unsigned,
    Demo,
    /// The demo key, its date this many seconds off the simulator's clock.
    Skewed(i16),
    /// The key without the permission.
    Denied,
    /// The temporary key, with or without its security token.
    Temporary {
        token: bool,
    },
    /// Signed by the demo key, then one body byte changes.
    Tampered(u8),
}

#[derive(Arbitrary, Debug)]
struct Call {
    method: Method,
    path: Path,
    query: Option<String>,
    project_header: ProjectHeader,
    content_type: ContentType,
    headers: Vec<(String, String)>,
    body: Body,
    signing: Signing,
}

impl Call {
    fn project(&self) -> Option<&str> {
        match &self.path {
            Path::Deletion(Project::Demo) | Path::Job(Project::Demo, _) => Some(DEMO_PROJECT_ID),
            Path::Deletion(Project::Other(p)) | Path::Job(Project::Other(p), _) => Some(p),
            Path::Raw(_) => None,
        }
    }

    fn target(&self) -> String {
        let path = match &self.path {
            Path::Deletion(_) => format!("/v2/{}/desktop/delete-sub-resources", self.project().unwrap_or("")),
            Path::Job(_, JobId::Created(n)) => {
                format!(
                    "/v2/{}/workspace-jobs/00000000-0000-4000-8000-{:012x}",
                    self.project().unwrap_or(""),
                    n % 4 + 1
                )
            }
            Path::Job(_, JobId::Other(id)) => {
                format!("/v2/{}/workspace-jobs/{id}", self.project().unwrap_or(""))
            }
            Path::Raw(path) => format!("/{path}"),
        };
        match &self.query {
            Some(query) => format!("{path}?{query}"),
            None => path,
        }
    }

    fn body(&self) -> Vec<u8> {
        match &self.body {
            Body::Raw(bytes) => bytes.clone(),
            Body::Deletion { desktop_ids, sub_resource_type, order_id, extra } => {
                let mut object = serde_json::Map::new();
                if let Some(ids) = desktop_ids {
                    let ids: Vec<Value> = ids
                        .iter()
                        .map(|id| match id {
                            DesktopId::Demo(n) => {
                                json!(DEMO_DESKTOP_IDS[usize::from(*n) % DEMO_DESKTOP_IDS.len()])
                            }
                            DesktopId::Other(s) => json!(s),
                            DesktopId::Number(n) => json!(n),
                            DesktopId::Null => Value::Null,
                        })
                        .collect();
                    object.insert("desktop_ids".into(), Value::Array(ids));
                }
                match sub_resource_type {
                    SubResourceType::Sharer => object.insert("sub_resource_type".into(), json!(DESKTOP_SHARER)),
                    SubResourceType::Other(s) => object.insert("sub_resource_type".into(), json!(s)),
                    SubResourceType::Number(n) => object.insert("sub_resource_type".into(), json!(n)),
                    SubResourceType::Missing => None,
                };
                if let Some(order_id) = order_id {
                    object.insert("order_id".into(), json!(order_id));
                }
                if let Some((key, value)) = extra {
                    object.entry(key.clone()).or_insert_with(|| json!(value));
                }
                Value::Object(object).to_string().into_bytes()
            }
        }
    }

    /// What a correct client sends for a valid deletion: the oracle expects a 200.
    fn well_formed(&self, body: &[u8]) -> bool {
        let signed_by_a_permitted_key = match self.signing {
            Signing::Demo | Signing::Temporary { token: true } => true,
            Signing::Skewed(seconds) => u64::from(seconds.unsigned_abs()) <= MAX_CLOCK_SKEW.as_secs(),
            Signing::Unsigned | Signing::Denied | Signing::Temporary { token: false } | Signing::Tampered(_) => false,
        };
        let valid_body = match &self.body {
            Body::Deletion { desktop_ids: Some(ids), sub_resource_type: SubResourceType::Sharer, order_id, extra } => {
                (1..=MAX_DESKTOP_IDS).contains(&ids.len())
                    && ids.iter().all(|id| matches!(id, DesktopId::Demo(_)))
                    && match order_id {
                        Some(Some(order_id)) => order_id.chars().count() <= MAX_VALUE_CHARS,
                        _ => true,
                    }
                    && extra.as_ref().is_none_or(|(key, _)| {
                        !["desktop_ids", "sub_resource_type", "order_id"].contains(&key.as_str())
                    })
            }
            _ => false,
        };
        matches!(self.method, Method::Post)
            && matches!(self.path, Path::Deletion(Project::Demo))
            && matches!(self.project_header, ProjectHeader::Matching)
            && matches!(self.content_type, ContentType::Json | ContentType::JsonWithCharset)
            && self.headers.is_empty()
            && body.len() <= fuzzing::MAX_BODY_BYTES
            && signed_by_a_permitted_key
            && valid_body
    }

    /// The request as it goes on the wire; `None` when it cannot be written as HTTP/1.1
    /// (a method or target that is not valid), which the simulator never sees.
    fn request(&self) -> Option<http::Request<Vec<u8>>> {
        let method = match &self.method {
            Method::Post => http::Method::POST,
            Method::Get => http::Method::GET,
            Method::Other(name) => http::Method::from_bytes(name.as_bytes()).ok()?,
        };
        let uri: http::Uri = self.target().parse().ok()?;
        if uri.scheme().is_some() || uri.authority().is_some() {
            return None;
        }
        let mut request = http::Request::builder().method(method).uri(uri).body(self.body()).ok()?;
        let headers = request.headers_mut();
        let mut add = |name: &str, value: &str| {
            if let (Ok(name), Ok(value)) =
                (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_str(value))
            {
                headers.append(name, value);
            }
        };
        match &self.project_header {
            ProjectHeader::Matching => add("X-Project-Id", self.project().unwrap_or("")),
            ProjectHeader::Missing => {}
            ProjectHeader::Other(project) => add("X-Project-Id", project),
        }
        match &self.content_type {
            ContentType::Json => add("Content-Type", "application/json"),
            ContentType::JsonWithCharset => add("Content-Type", "application/json; charset=utf-8"),
            ContentType::Missing => {}
            ContentType::Other(value) => add("Content-Type", value),
        }
        for (name, value) in &self.headers {
            add(name, value);
        }
        let at = fuzzing::now();
        let signed = match self.signing {
            Signing::Unsigned => None,
            Signing::Demo => fuzzing::sign(request.clone(), &Credentials::new(DEMO_AK, DEMO_SK), at),
            Signing::Skewed(seconds) => fuzzing::sign(
                request.clone(),
                &Credentials::new(DEMO_AK, DEMO_SK),
                at + time::Duration::seconds(i64::from(seconds)),
            ),
            Signing::Denied => fuzzing::sign(request.clone(), &Credentials::new(DEMO_DENIED_AK, DEMO_DENIED_SK), at),
            Signing::Temporary { token } => {
                let mut credentials = Credentials::new(TEMPORARY_AK, TEMPORARY_SK);
                if token {
                    credentials = credentials.with_security_token(TEMPORARY_TOKEN);
                }
                fuzzing::sign(request.clone(), &credentials, at)
            }
            Signing::Tampered(at_byte) => {
                fuzzing::sign(request.clone(), &Credentials::new(DEMO_AK, DEMO_SK), at).map(|mut signed| {
                    let body = signed.body_mut();
                    if body.is_empty() {
                        body.push(b' ');
                    } else {
                        let index = usize::from(at_byte) % body.len();
                        body[index] ^= 0x20;
                    }
                    signed
                })
            }
        };
        Some(signed.unwrap_or(request))
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    calls: Vec<Call>,
}

const FIELDS: [&str; 4] = ["error_code", "error_msg", "error_detail", "encoded_authorization_message"];

fuzz_target!(|input: Input| {
    let calls: Vec<&Call> = input.calls.iter().take(3).collect();
    let mut sent = Vec::new();
    let mut sent_calls = Vec::new();
    for call in calls {
        if let Some(request) = call.request() {
            sent.push(request);
            sent_calls.push(call);
        }
    }
    if sent.is_empty() {
        return;
    }
    let answers = fuzzing::exchange(&sent);
    assert!(answers.len() <= sent.len());
    if answers.len() < sent.len() {
        let closing = answers.last().and_then(|a| a.headers().get(http::header::CONNECTION));
        assert_eq!(
            closing.map(|v| v.as_bytes()),
            Some(&b"close"[..]),
            "{} answers to {} requests",
            answers.len(),
            sent.len()
        );
    }

    for ((answer, request), call) in answers.iter().zip(&sent).zip(&sent_calls) {
        let status = answer.status().as_u16();
        let context =
            || format!("{} {} -> {status} {}", request.method(), request.uri(), String::from_utf8_lossy(answer.body()));
        let request_id = answer.headers().get("x-request-id").map(|v| v.as_bytes());
        assert!(
            request_id.is_some_and(|id| id.len() == 32 && id.iter().all(u8::is_ascii_hexdigit)),
            "no X-Request-Id: {}",
            context()
        );
        assert_eq!(
            answer.headers().get(http::header::CONTENT_TYPE).map(|v| v.as_bytes()),
            Some(&b"application/json"[..]),
            "{}",
            context()
        );
        let body: Value = serde_json::from_slice(answer.body()).unwrap_or_else(|_| panic!("not JSON: {}", context()));
        let Value::Object(object) = &body else { panic!("not an object: {}", context()) };

        if status == 200 {
            let header = |name: &str| request.headers().get(name).map(|v| v.as_bytes());
            let permitted = match call.signing {
                Signing::Unsigned | Signing::Denied => false,
                Signing::Temporary { token: false } => {
                    header(hwc_sign::HEADER_SECURITY_TOKEN) == Some(TEMPORARY_TOKEN.as_bytes())
                }
                _ => true,
            };
            assert!(permitted, "accepted without a valid signature by a permitted key: {}", context());
            if let Signing::Tampered(_) = call.signing {
                assert_eq!(
                    header(hwc_sign::HEADER_CONTENT_SHA256),
                    Some(hwc_sign::UNSIGNED_PAYLOAD.as_bytes()),
                    "a changed body was accepted: {}",
                    context()
                );
            }
            if request.method() == http::Method::POST {
                assert!(object.get("job_id").is_some_and(Value::is_string), "{}", context());
            } else {
                let id = request.uri().path().rsplit('/').next().unwrap_or("");
                assert_eq!(object.get("id").and_then(Value::as_str), Some(id), "{}", context());
            }
            continue;
        }

        assert!(!call.well_formed(request.body()), "a well-formed deletion was refused: {}", context());
        for (name, value) in object {
            assert!(FIELDS.contains(&name.as_str()), "undocumented field {name}: {}", context());
            assert!(value.is_string(), "{name} is not a string: {}", context());
        }
        let code =
            object.get("error_code").and_then(Value::as_str).unwrap_or_else(|| panic!("no error_code: {}", context()));
        assert!(object.get("error_msg").is_some_and(Value::is_string), "no error_msg: {}", context());
        assert!(codes::ALL.contains(&(code, status)), "({code}, {status}) is not a documented pair: {}", context());
        if status == 405 {
            assert!(answer.headers().contains_key(http::header::ALLOW), "405 without Allow: {}", context());
        }
    }
});
