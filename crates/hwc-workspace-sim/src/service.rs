//! The Workspace service behind the gateway: what each operation of the spec does. Routing,
//! reading and validating a request are derived from the spec ([`crate::routing`],
//! [`crate::request`], [`crate::validation`]); what is written by hand is the table below,
//! from each [`OperationId`] to its IAM action and handler, and the handlers. The table is an
//! exhaustive `match`: an operation added to the spec does not compile until it is named
//! here. The answers are built from the spec's generated types, and a deletion's body is
//! read as the generated request type, so a spec change the simulator does not follow fails
//! to compile too.

use std::collections::HashSet;

use http::{Response, StatusCode};
use hwc_workspace::operation::Location;
use hwc_workspace::types::{
    AddDesktopSubResourcesRequest, AddDesktopSubResourcesResponse, DeleteDesktopSubResourcesRequest,
    DeleteDesktopSubResourcesResponse, ListDesktopsResponse, SimpleDesktopInfo,
};
use hwc_workspace::{Input, OperationId};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::codes;
use crate::faults::JobReportFault;
use crate::response::{Body, Failure, json_response};
use crate::routing::Route;
use crate::shared::Shared;
use crate::state::{
    ADD_SUB_RESOURCES_PERMISSION, DELETE_SUB_RESOURCES_PERMISSION, DESKTOP_SHARER, Job, Key, LIST_DESKTOPS_PERMISSION,
};

/// What an operation asks of the caller, and what answers it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Behaviour {
    /// The IAM action a key must be allowed; `None`: any valid key may call it.
    pub(crate) permission: Option<&'static str>,
    /// Answers a call that was routed, authenticated, authorized and validated.
    pub(crate) handler: fn(&Call<'_>) -> Result<Response<Body>, Failure>,
}

/// The behaviour of each operation of the spec. No wildcard arm, on purpose.
pub(crate) fn behaviour(id: OperationId) -> Behaviour {
    match id {
        OperationId::DeleteDesktopSubResources => {
            Behaviour { permission: Some(DELETE_SUB_RESOURCES_PERMISSION), handler: delete_desktop_sub_resources }
        }
        OperationId::ListDesktops => Behaviour { permission: Some(LIST_DESKTOPS_PERMISSION), handler: list_desktops },
        OperationId::AddDesktopSubResources => {
            Behaviour { permission: Some(ADD_SUB_RESOURCES_PERMISSION), handler: add_desktop_sub_resources }
        }
        // Reading a job needs no permission beyond a valid key.
        OperationId::ShowJob => Behaviour { permission: None, handler: show_job },
    }
}

/// One call of an operation, as its handler sees it: the state, the caller, and the input
/// the spec describes, already validated against the description.
pub(crate) struct Call<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) route: &'a Route,
    pub(crate) input: Input,
    pub(crate) key: &'a Key,
    pub(crate) request_id: &'a str,
}

impl Call<'_> {
    /// A path parameter; routing guarantees each of the template's, so `""` never shows.
    fn path_parameter(&self, name: &str) -> &str {
        self.route.path_parameter(name).unwrap_or_default()
    }

    /// The body's fields the spec describes, as received.
    fn body_fields(&self) -> Map<String, Value> {
        self.route
            .operation
            .fields
            .iter()
            .filter(|field| field.location == Location::Body)
            .filter_map(|field| self.input.get(field.name).map(|value| (field.name.to_owned(), value.clone())))
            .collect()
    }

    /// The body as the spec's generated request type.
    fn body<T: DeserializeOwned>(&self) -> Result<T, Failure> {
        let body = self.body_fields();
        // The input passed the description's checks, which the generated type's own are a
        // part of; should the two ever disagree, the caller still gets a 400, not a panic.
        serde_json::from_value(Value::Object(body)).map_err(|error| {
            Failure::new(StatusCode::BAD_REQUEST, codes::MALFORMED_BODY, "The request body does not match the API")
                .detail(error.to_string())
        })
    }
}

/// DeleteDesktopSubResources: the sub-resource leaves every listed desktop, and a job
/// records it.
fn delete_desktop_sub_resources(call: &Call<'_>) -> Result<Response<Body>, Failure> {
    let request: DeleteDesktopSubResourcesRequest = call.body()?;
    // The job keeps the fields the simulator has a member for once, in those members: a job
    // is kept for each of the last `max_jobs` deletions, and a second copy of each id list
    // would double what a long run holds.
    let mut other_fields = call.body_fields();
    other_fields.retain(|name, _| !Job::MEMBER_FIELDS.contains(&name.as_str()));
    let sub_resource_type = request.sub_resource_type.as_str().to_owned();
    if sub_resource_type != DESKTOP_SHARER {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            codes::UNSUPPORTED_SUB_RESOURCE_TYPE,
            format!("The sub_resource_type {sub_resource_type:?} is not supported; supported: {DESKTOP_SHARER}"),
        ));
    }
    let deletion = Change {
        desktop_ids: request.desktop_ids.into_iter().map(String::from).collect(),
        sub_resource_type,
        sku: None,
        order_id: request.order_id.map(String::from),
        other_fields,
    };
    let mut job_id = apply(call.shared, deletion, call.key, call.request_id)?;
    if call.shared.fault_state().job_reports() == Some(JobReportFault::UnusableJobId) {
        // The job exists under its own id; the answer names one no path can hold.
        job_id = "..".to_owned();
    }
    Ok(json_response(StatusCode::OK, &DeleteDesktopSubResourcesResponse { job_id }, call.request_id))
}

/// ListDesktops: the desktops that pass every filter given, a page of them, and how many
/// pass in all. Text filters on names match a part (as the service's fuzzy match does);
/// the others match exactly; comma-separated ones match any of their values.
fn list_desktops(call: &Call<'_>) -> Result<Response<Body>, Failure> {
    let input = &call.input;
    let text = |name: &str| input.get(name).and_then(Value::as_str).map(str::to_owned);
    let texts = |name: &str| -> Option<Vec<String>> {
        input
            .get(name)
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).map(str::to_owned).collect())
    };
    let any_of = |name: &str| text(name).map(|v| v.split(',').map(|s| s.trim().to_owned()).collect::<Vec<_>>());
    let user_names = texts("user_name");
    let computer_name = text("computer_name");
    let desktop_ip = text("desktop_ip");
    let pool_ids = any_of("pool_id");
    let enterprise_project_id = text("enterprise_project_id");
    let desktop_types = any_of("desktop_type");
    let shared = input.get("is_share_desktop").and_then(Value::as_bool);
    let subnet_id = text("subnet_id");
    let status = text("status");
    let desktop_ids = texts("desktop_id");
    let domain_status = input.get("domain_status").and_then(Value::as_i64);
    let tags: Option<Vec<(String, String)>> = text("tag").map(|tags| {
        tags.split(',')
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (key.trim().to_owned(), value.trim().to_owned())
            })
            .collect()
    });
    let offset = input.get("offset").and_then(Value::as_u64).unwrap_or(0);
    let limit = input.get("limit").and_then(Value::as_u64).unwrap_or(1000);
    let same = |wanted: &Option<String>, has: &Option<String>| wanted.as_ref().is_none_or(|w| has.as_ref() == Some(w));
    let one_of = |wanted: &Option<Vec<String>>, has: &Option<String>| {
        wanted.as_ref().is_none_or(|w| has.as_ref().is_some_and(|h| w.contains(h)))
    };
    let passes = |d: &SimpleDesktopInfo| {
        let users = || d.user_name.iter().chain(d.attach_user_infos.iter().filter_map(|u| u.user_name.as_ref()));
        user_names.as_ref().is_none_or(|names| names.iter().any(|n| users().any(|u| u.contains(n.as_str()))))
            && computer_name.as_ref().is_none_or(|n| d.computer_name.as_ref().is_some_and(|c| c.contains(n.as_str())))
            && same(&desktop_ip, &d.ip_address)
            && one_of(&pool_ids, &d.pool_id)
            && same(&enterprise_project_id, &d.enterprise_project_id)
            && one_of(&desktop_types, &d.desktop_type)
            && shared.is_none_or(|shared| d.share_resource_sku.is_some() == shared)
            && same(&subnet_id, &d.subnet_id)
            && same(&status, &d.status)
            && desktop_ids.as_ref().is_none_or(|ids| ids.contains(&d.desktop_id))
            && domain_status.is_none_or(|s| d.domain_status.map(i64::from) == Some(s))
            && tags.as_ref().is_none_or(|tags| {
                tags.iter().all(|(key, value)| {
                    d.tags
                        .iter()
                        .any(|t| t.key.as_deref() == Some(key.as_str()) && t.value.as_deref() == Some(value.as_str()))
                })
            })
    };
    let mut world = call.shared.world();
    let mut total = 0u64;
    let mut desktops = Vec::new();
    for info in world.listing() {
        if !passes(info) {
            continue;
        }
        if total >= offset && (desktops.len() as u64) < limit {
            desktops.push(info.clone());
        }
        total += 1;
    }
    drop(world);
    let answer = ListDesktopsResponse { total_count: Some(i32::try_from(total).unwrap_or(i32::MAX)), desktops };
    Ok(json_response(StatusCode::OK, &answer, call.request_id))
}

/// AddDesktopSubResources: every listed desktop gains the collaboration resource of the SKU,
/// and a job records it; as a deletion, all or nothing.
fn add_desktop_sub_resources(call: &Call<'_>) -> Result<Response<Body>, Failure> {
    let request: AddDesktopSubResourcesRequest = call.body()?;
    let mut other_fields = call.body_fields();
    other_fields.retain(|name, _| !Job::MEMBER_FIELDS.contains(&name.as_str()));
    let change = Change {
        desktop_ids: request.desktop_ids.into_iter().map(String::from).collect(),
        sub_resource_type: DESKTOP_SHARER.to_owned(),
        sku: Some(request.sub_resource_sku.to_string()),
        order_id: request.order_id.map(String::from),
        other_fields,
    };
    let job_id = apply(call.shared, change, call.key, call.request_id)?;
    Ok(json_response(StatusCode::OK, &AddDesktopSubResourcesResponse { job_id }, call.request_id))
}

/// ShowJob: the job as it is now.
fn show_job(call: &Call<'_>) -> Result<Response<Body>, Failure> {
    let shared = call.shared;
    let job_id = call.path_parameter("job_id");
    let world = shared.world();
    let job = world.job(job_id).ok_or_else(|| {
        Failure::new(StatusCode::NOT_FOUND, codes::JOB_NOT_FOUND, format!("The job {job_id} does not exist"))
    })?;
    let mut rendered = crate::jobs::render(job, shared.job_timing, (shared.clock)());
    if let Some(kind) = shared.fault_state().job_reports() {
        crate::jobs::distort(&mut rendered, kind);
    }
    Ok(json_response(StatusCode::OK, &rendered, call.request_id))
}

/// A deletion or purchase the service accepted to carry out.
struct Change {
    desktop_ids: Vec<String>,
    sub_resource_type: String,
    /// The SKU a purchase adds; `None`: a deletion.
    sku: Option<String>,
    order_id: Option<String>,
    other_fields: Map<String, Value>,
}

/// Deletes (or, for a purchase, adds) the sub-resource of every listed desktop and records
/// the job; all or nothing.
fn apply(shared: &Shared, deletion: Change, key: &Key, request_id: &str) -> Result<String, Failure> {
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
        world.changed(index);
        let desktop = &mut world.desktops[index];
        match &deletion.sku {
            Some(sku) => {
                if !desktop.has(&deletion.sub_resource_type) {
                    desktop.sub_resources.push(deletion.sub_resource_type.clone());
                }
                desktop.details.insert("share_resource_sku".to_owned(), sku.clone().into());
            }
            None if desktop.has(&deletion.sub_resource_type) => {
                desktop.sub_resources.retain(|s| *s != deletion.sub_resource_type);
                desktop.details.remove("share_resource_sku");
                removed_from.push(id.clone());
            }
            None => {}
        }
    }
    world.jobs_created += 1;
    let job_id = crate::shared::job_id(world.jobs_created);
    if world.jobs.len() >= world.max_jobs {
        world.jobs.pop_front();
    }
    world.jobs.push_back(Job {
        job_id: job_id.clone(),
        desktop_ids: deletion.desktop_ids,
        sub_resource_type: deletion.sub_resource_type,
        order_id: deletion.order_id,
        sku: deletion.sku,
        created_at: (shared.clock)(),
        request_id: request_id.to_owned(),
        access_key: key.access_key().to_owned(),
        removed_from,
        failed_desktops,
        other_fields: deletion.other_fields,
    });
    Ok(job_id)
}

#[cfg(test)]
mod tests {
    use http::Request;

    use super::*;
    use crate::routing::route;

    /// The code a deletion body is refused with, read and checked as the gateway does; "ok"
    /// when it passes.
    fn code_of(body: &str) -> String {
        let (parts, ()) = Request::post("/v2/p/desktop/delete-sub-resources")
            .header("content-type", "application/json")
            .body(())
            .unwrap()
            .into_parts();
        let route = route(&parts.method, parts.uri.path()).unwrap();
        let checked = crate::request::read(&route, &parts, body.as_bytes())
            .and_then(|input| crate::validation::check(route.operation, &input).map(|()| input));
        match checked {
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
            (r#"{"desktop_ids":[null],"sub_resource_type":"X"}"#.to_owned(), codes::WRONG_TYPE),
            (r#"{"desktop_ids":["a"],"sub_resource_type":5}"#.to_owned(), codes::WRONG_TYPE),
            (r#"{"desktop_ids":["a"],"sub_resource_type":"X","order_id":7}"#.to_owned(), codes::WRONG_TYPE),
            (r#"{"desktop_ids":[],"sub_resource_type":"X"}"#.to_owned(), codes::DESKTOP_COUNT),
            (serde_json::json!({"desktop_ids": many, "sub_resource_type": "X"}).to_string(), codes::DESKTOP_COUNT),
            (r#"{"desktop_ids":[" "],"sub_resource_type":"X"}"#.to_owned(), codes::INVALID_VALUE),
            (r#"{"desktop_ids":["a,b"],"sub_resource_type":"X"}"#.to_owned(), codes::INVALID_VALUE),
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

    #[test]
    fn every_operation_of_the_spec_has_a_behaviour() {
        // The match is exhaustive, so this holds by construction; the test names the
        // operations a reader finds handled.
        for id in OperationId::ALL {
            let _ = behaviour(*id);
        }
        assert_eq!(behaviour(OperationId::DeleteDesktopSubResources).permission, Some(DELETE_SUB_RESOURCES_PERMISSION));
        assert_eq!(behaviour(OperationId::ShowJob).permission, None);
    }
}
