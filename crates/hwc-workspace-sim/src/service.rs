//! The Workspace service behind the gateway: its two operations (DeleteDesktopSubResources
//! and ShowJob), the checks of a deletion's body that give each `WKS.*` code its cause, the
//! change of state, and the answers, built from the spec's generated types so that a spec
//! change the simulator does not follow fails to compile.

use std::collections::HashSet;

use http::request::Parts;
use http::{Method, Response, StatusCode};
use hwc_workspace::types::DeleteDesktopSubResourcesResponse;
use hwc_workspace::{MAX_DESKTOP_IDS, MAX_VALUE_CHARS};
use serde_json::{Map, Value};

use crate::codes;
use crate::faults::JobReportFault;
use crate::response::{Body, Failure, json_response};
use crate::shared::Shared;
use crate::state::{DELETE_SUB_RESOURCES_PERMISSION, DESKTOP_SHARER, Job, Key};

/// An operation of the API, as its path names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation<'p> {
    /// `POST /v2/{project_id}/desktop/delete-sub-resources`
    DeleteSubResources { project_id: &'p str },
    /// `GET /v2/{project_id}/workspace-jobs/{job_id}`
    ShowJob { project_id: &'p str, job_id: &'p str },
}

impl<'p> Operation<'p> {
    /// The operation a path names, if it names one.
    pub(crate) fn route(path: &'p str) -> Option<Self> {
        let rest = path.strip_prefix("/v2/")?;
        let (project_id, operation) = rest.split_once('/')?;
        if project_id.is_empty() {
            return None;
        }
        if operation == "desktop/delete-sub-resources" {
            return Some(Self::DeleteSubResources { project_id });
        }
        let job_id = operation.strip_prefix("workspace-jobs/")?;
        (!job_id.is_empty() && !job_id.contains('/')).then_some(Self::ShowJob { project_id, job_id })
    }

    pub(crate) fn method(&self) -> Method {
        match self {
            Self::DeleteSubResources { .. } => Method::POST,
            Self::ShowJob { .. } => Method::GET,
        }
    }

    pub(crate) fn project_id(&self) -> &'p str {
        match self {
            Self::DeleteSubResources { project_id } | Self::ShowJob { project_id, .. } => project_id,
        }
    }

    /// The IAM action a key must be allowed; reading a job needs none beyond a valid key.
    pub(crate) fn permission(&self) -> Option<&'static str> {
        match self {
            Self::DeleteSubResources { .. } => Some(DELETE_SUB_RESOURCES_PERMISSION),
            Self::ShowJob { .. } => None,
        }
    }
}

/// Answers an authenticated, authorized request.
pub(crate) fn serve(
    shared: &Shared,
    operation: &Operation<'_>,
    parts: &Parts,
    body: &[u8],
    key: &Key,
    request_id: &str,
) -> Result<Response<Body>, Failure> {
    let project_id = operation.project_id();
    if project_id != shared.project_id {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::PROJECT_NOT_FOUND,
            format!("The project {project_id} does not exist"),
        ));
    }
    match *operation {
        Operation::DeleteSubResources { .. } => delete_sub_resources(shared, parts, body, key, request_id),
        Operation::ShowJob { job_id, .. } => show_job(shared, job_id, request_id),
    }
}

fn delete_sub_resources(
    shared: &Shared,
    parts: &Parts,
    body: &[u8],
    key: &Key,
    request_id: &str,
) -> Result<Response<Body>, Failure> {
    check_content_type(parts)?;
    let deletion = parse_body(body)?;
    if deletion.sub_resource_type != DESKTOP_SHARER {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::UNSUPPORTED_SUB_RESOURCE_TYPE,
            format!(
                "The sub_resource_type {:?} is not supported; supported: {DESKTOP_SHARER}",
                deletion.sub_resource_type
            ),
        ));
    }
    let mut job_id = apply(shared, deletion, key, request_id)?;
    if shared.fault_state().job_reports() == Some(JobReportFault::UnusableJobId) {
        // The job exists under its own id; the answer names one no path can hold.
        job_id = "..".to_owned();
    }
    Ok(json_response(StatusCode::OK, &DeleteDesktopSubResourcesResponse { job_id }, request_id))
}

/// ShowJob: the job as it is now.
fn show_job(shared: &Shared, job_id: &str, request_id: &str) -> Result<Response<Body>, Failure> {
    let world = shared.world();
    let job = world.jobs.iter().find(|job| job.job_id == job_id).ok_or_else(|| {
        Failure::new(StatusCode::NOT_FOUND, codes::JOB_NOT_FOUND, format!("The job {job_id} does not exist"))
    })?;
    let mut rendered = crate::jobs::render(job, shared.job_timing, (shared.clock)());
    if let Some(kind) = shared.fault_state().job_reports() {
        crate::jobs::distort(&mut rendered, kind);
    }
    Ok(json_response(StatusCode::OK, &rendered, request_id))
}

fn check_content_type(parts: &Parts) -> Result<(), Failure> {
    let value =
        parts.headers.get(http::header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let media_type = value.as_deref().and_then(|v| v.split(';').next()).map(str::trim);
    if media_type.is_some_and(|m| m.eq_ignore_ascii_case("application/json")) {
        return Ok(());
    }
    let got = match &value {
        Some(v) => format!("{:?}", v.chars().take(100).collect::<String>()),
        None => "missing".to_owned(),
    };
    Err(Failure::new(
        StatusCode::BAD_REQUEST,
        codes::UNSUPPORTED_CONTENT_TYPE,
        format!("The Content-Type must be application/json; it is {got}"),
    ))
}

fn bad_request(code: &'static str, message: impl Into<String>) -> Failure {
    Failure::new(StatusCode::BAD_REQUEST, code, message)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A validated request body.
struct Deletion {
    desktop_ids: Vec<String>,
    sub_resource_type: String,
    order_id: Option<String>,
}

fn parse_body(body: &[u8]) -> Result<Deletion, Failure> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| bad_request(codes::MALFORMED_BODY, "The request body is not valid JSON").detail(e.to_string()))?;
    let Value::Object(object) = value else {
        return Err(bad_request(
            codes::MALFORMED_BODY,
            format!("The request body must be a JSON object, not {}", json_type(&value)),
        ));
    };
    let ids = match present(&object, "desktop_ids") {
        None => return Err(bad_request(codes::MISSING_FIELD, "desktop_ids is required")),
        Some(Value::Array(ids)) => ids,
        Some(other) => {
            return Err(bad_request(
                codes::WRONG_TYPE,
                format!("desktop_ids must be an array of strings, not {}", json_type(other)),
            ));
        }
    };
    if ids.is_empty() || ids.len() > MAX_DESKTOP_IDS {
        return Err(bad_request(
            codes::DESKTOP_COUNT,
            format!("desktop_ids must hold 1 to {MAX_DESKTOP_IDS} ids, not {}", ids.len()),
        ));
    }
    let mut desktop_ids = Vec::with_capacity(ids.len());
    for (index, id) in ids.iter().enumerate() {
        let field = format!("desktop_ids[{index}]");
        let id = text(&field, id, true)?;
        // The core's rule, not a copy: a client that does not validate is refused here too.
        if let Some(problem) = hwc_workspace::desktop_id_problem(id) {
            return Err(bad_request(
                codes::INVALID_VALUE,
                format!("{field} is not a desktop id ({problem}); a desktop id is {}", hwc_workspace::DESKTOP_ID_RULE),
            ));
        }
        desktop_ids.push(id.to_owned());
    }
    let sub_resource_type = match present(&object, "sub_resource_type") {
        None => {
            return Err(bad_request(codes::MISSING_FIELD, "sub_resource_type is required"));
        }
        Some(value) => text("sub_resource_type", value, true)?.to_owned(),
    };
    let order_id = match present(&object, "order_id") {
        None => None,
        Some(value) => Some(text("order_id", value, false)?.to_owned()),
    };
    Ok(Deletion { desktop_ids, sub_resource_type, order_id })
}

/// A field that is there and not null; the API treats `null` as absent.
fn present<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|v| !v.is_null())
}

fn text<'a>(field: &str, value: &'a Value, required: bool) -> Result<&'a str, Failure> {
    let Value::String(s) = value else {
        return Err(bad_request(codes::WRONG_TYPE, format!("{field} must be a string, not {}", json_type(value))));
    };
    if required && s.trim().is_empty() {
        return Err(bad_request(codes::INVALID_VALUE, format!("{field} must not be blank")));
    }
    let chars = s.chars().count();
    if chars > MAX_VALUE_CHARS {
        return Err(bad_request(
            codes::INVALID_VALUE,
            format!("{field} must be at most {MAX_VALUE_CHARS} characters, not {chars}"),
        ));
    }
    Ok(s)
}

/// Deletes the sub-resource from every listed desktop and records the job; all or nothing.
fn apply(shared: &Shared, deletion: Deletion, key: &Key, request_id: &str) -> Result<String, Failure> {
    let mut world = shared.world();
    let mut seen = HashSet::new();
    let missing: Vec<&str> = deletion
        .desktop_ids
        .iter()
        .map(String::as_str)
        .filter(|id| !world.index.contains_key(*id) && seen.insert(*id))
        .collect();
    if !missing.is_empty() {
        let noun = if missing.len() == 1 { "desktop does" } else { "desktops do" };
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::DESKTOP_NOT_FOUND,
            format!("The {noun} not exist: {}", missing.join(", ")),
        ));
    }
    let failed_desktops: Vec<String> = {
        let faults = shared.fault_state();
        let mut failing: Vec<String> = Vec::new();
        for id in &deletion.desktop_ids {
            if faults.fails_desktop(id) && !failing.contains(id) {
                failing.push(id.clone());
            }
        }
        failing
    };
    let mut removed_from = Vec::new();
    let world = &mut *world;
    for id in &deletion.desktop_ids {
        let Some(&index) = world.index.get(id) else {
            continue;
        };
        if failed_desktops.contains(id) {
            continue;
        }
        let desktop = &mut world.desktops[index];
        if desktop.has(&deletion.sub_resource_type) {
            desktop.sub_resources.retain(|s| *s != deletion.sub_resource_type);
            removed_from.push(id.clone());
        }
    }
    world.jobs_created += 1;
    let job_id = format!("00000000-0000-4000-8000-{:012x}", world.jobs_created);
    if world.jobs.len() >= world.max_jobs {
        world.jobs.pop_front();
    }
    world.jobs.push_back(Job {
        job_id: job_id.clone(),
        desktop_ids: deletion.desktop_ids,
        sub_resource_type: deletion.sub_resource_type,
        order_id: deletion.order_id,
        created_at: (shared.clock)(),
        request_id: request_id.to_owned(),
        access_key: key.access_key().to_owned(),
        removed_from,
        failed_desktops,
    });
    Ok(job_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(body: &str) -> String {
        match parse_body(body.as_bytes()) {
            Ok(_) => "ok".to_owned(),
            Err(failure) => failure.error_code().to_owned(),
        }
    }

    #[test]
    fn bodies_are_checked_field_by_field() {
        let long = "x".repeat(256);
        let many: Vec<String> = (0..101).map(|i| format!("d{i}")).collect();
        let cases = [
            (r#"{"desktop_ids":["a"],"sub_resource_type":"DESKTOP_SHARER"}"#.to_owned(), "ok"),
            (r#"{"desktop_ids":["a"],"sub_resource_type":"X","order_id":"","extra":1}"#.to_owned(), "ok"),
            (r#"{"desktop_ids":["a"],"sub_resource_type":"X","order_id":null}"#.to_owned(), "ok"),
            ("{".to_owned(), codes::MALFORMED_BODY),
            ("[]".to_owned(), codes::MALFORMED_BODY),
            (r#"{"sub_resource_type":"X"}"#.to_owned(), codes::MISSING_FIELD),
            (r#"{"desktop_ids":null,"sub_resource_type":"X"}"#.to_owned(), codes::MISSING_FIELD),
            (r#"{"desktop_ids":["a"]}"#.to_owned(), codes::MISSING_FIELD),
            (r#"{"desktop_ids":"a","sub_resource_type":"X"}"#.to_owned(), codes::WRONG_TYPE),
            (r#"{"desktop_ids":[1],"sub_resource_type":"X"}"#.to_owned(), codes::WRONG_TYPE),
            (r#"{"desktop_ids":["a"],"sub_resource_type":5}"#.to_owned(), codes::WRONG_TYPE),
            (r#"{"desktop_ids":["a"],"sub_resource_type":"X","order_id":7}"#.to_owned(), codes::WRONG_TYPE),
            (r#"{"desktop_ids":[],"sub_resource_type":"X"}"#.to_owned(), codes::DESKTOP_COUNT),
            (serde_json::json!({"desktop_ids": many, "sub_resource_type": "X"}).to_string(), codes::DESKTOP_COUNT),
            (r#"{"desktop_ids":[" "],"sub_resource_type":"X"}"#.to_owned(), codes::INVALID_VALUE),
            (r#"{"desktop_ids":["a"],"sub_resource_type":""}"#.to_owned(), codes::INVALID_VALUE),
            (serde_json::json!({"desktop_ids": [long], "sub_resource_type": "X"}).to_string(), codes::INVALID_VALUE),
            (
                serde_json::json!({"desktop_ids": ["a"], "sub_resource_type": "X", "order_id": "o".repeat(256)})
                    .to_string(),
                codes::INVALID_VALUE,
            ),
            (serde_json::json!({"desktop_ids": ["é".repeat(255)], "sub_resource_type": "X"}).to_string(), "ok"),
        ];
        for (body, expected) in cases {
            assert_eq!(code_of(&body), expected, "{body}");
        }
    }
}
