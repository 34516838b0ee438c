//! Routing, request reading and validation as the spec's operation description drives them,
//! seen over real HTTP against the running simulator: a path or method no operation has, a
//! body the description refuses (the service's 400 naming the field, its limits the
//! description's), query parameters no operation declares, and percent-encoded path
//! parameters.

mod common;

use common::{RawRequest, sharer_body};
use hwc_workspace::OperationId;
use hwc_workspace_sim::{DEMO_DESKTOP_IDS, DESKTOP_SHARER, Simulator, codes};
use serde_json::json;

fn job_path(sim: &Simulator, job_id: &str) -> String {
    format!("/v2/{}/workspace-jobs/{job_id}", sim.project_id())
}

#[tokio::test]
async fn a_path_or_method_no_operation_has_is_the_gateways_404_or_405() {
    let sim = Simulator::start().await.unwrap();
    let project = sim.project_id();
    let unknown = [
        ("GET", format!("/v2/{project}/desktop-list")),
        ("POST", format!("/v2/{project}/workspace-jobs")),
        ("GET", format!("/v2/{project}/workspace-jobs/a/b")),
        ("GET", format!("/v2/{project}/desktop/delete-sub-resources/extra")),
        ("DELETE", "/v3/anything".to_owned()),
    ];
    for (method, path) in unknown {
        let response = RawRequest::post(&sim, "").method(method).path(path.clone()).send(&sim).await;
        let message = response.expect_error(404, codes::API_NOT_FOUND);
        assert!(message.contains("does not exist or has not been published"), "{method} {path}: {message}");
    }
    // A path some operation has, with a method none there takes: 405 and the methods that do.
    let response = RawRequest::post(&sim, "").method("DELETE").path(job_path(&sim, "j-1")).send(&sim).await;
    let message = response.expect_error(405, codes::API_NOT_FOUND);
    assert!(message.contains("DELETE"), "{message}");
    assert_eq!(response.header("allow"), Some(OperationId::ShowJob.describe().method));
    assert!(sim.jobs().is_empty());
}

#[tokio::test]
async fn a_body_the_description_refuses_is_400_naming_the_field() {
    let sim = Simulator::start().await.unwrap();
    let id = DEMO_DESKTOP_IDS[0];
    let description = OperationId::DeleteDesktopSubResources.describe();
    // The limits the answers name are the description's, not the simulator's own.
    let max_ids = description.field("desktop_ids").and_then(|f| f.value.max_items).unwrap();
    let max_order_id = description.field("order_id").and_then(|f| f.value.max_length).unwrap();
    let too_many: Vec<String> = (0..=max_ids).map(|i| format!("d-{i}")).collect();
    let cases = [
        (
            json!({"sub_resource_type": DESKTOP_SHARER, "order_id": "o-1"}),
            codes::MISSING_FIELD,
            "desktop_ids is required".to_owned(),
        ),
        (
            json!({"desktop_ids": [id], "order_id": null}),
            codes::MISSING_FIELD,
            "sub_resource_type is required".to_owned(),
        ),
        (
            json!({"desktop_ids": [id], "sub_resource_type": 42}),
            codes::WRONG_TYPE,
            "sub_resource_type must be a string, not a number".to_owned(),
        ),
        (
            json!({"desktop_ids": {"0": id}, "sub_resource_type": DESKTOP_SHARER}),
            codes::WRONG_TYPE,
            "desktop_ids must be an array of strings, not an object".to_owned(),
        ),
        (
            json!({"desktop_ids": [id, ["nested"]], "sub_resource_type": DESKTOP_SHARER}),
            codes::WRONG_TYPE,
            "desktop_ids[1] must be a string, not an array".to_owned(),
        ),
        (
            json!({"desktop_ids": [id], "sub_resource_type": DESKTOP_SHARER, "order_id": true}),
            codes::WRONG_TYPE,
            "order_id must be a string, not a boolean".to_owned(),
        ),
        (
            json!({"desktop_ids": too_many, "sub_resource_type": DESKTOP_SHARER}),
            codes::DESKTOP_COUNT,
            format!("desktop_ids must hold 1 to {max_ids} items, not {}", max_ids + 1),
        ),
        (
            json!({"desktop_ids": [id], "sub_resource_type": DESKTOP_SHARER, "order_id": "o".repeat(max_order_id + 1)}),
            codes::INVALID_VALUE,
            format!("order_id must be at most {max_order_id} characters, not {}", max_order_id + 1),
        ),
    ];
    for (body, code, message) in cases {
        let response = RawRequest::post(&sim, body.to_string()).send(&sim).await;
        let got = response.expect_error(400, code);
        assert_eq!(got, message, "{body}");
    }
    assert!(sim.jobs().is_empty(), "nothing was deleted");
    assert!(sim.desktop(id).unwrap().has(DESKTOP_SHARER));
}

/// Huawei's APIs ignore query parameters they do not declare (their SDKs send none an
/// operation lacks, and the gateway passes the rest through); the simulator does the same,
/// even for a parameter named like a body field: only the body's fields count.
#[tokio::test]
async fn query_parameters_no_operation_declares_are_ignored() {
    let sim = Simulator::start().await.unwrap();
    let id = DEMO_DESKTOP_IDS[0];
    let response = RawRequest::post(&sim, sharer_body(&[id]))
        .query("limit=abc&desktop_ids=nobody&flag&note=a%20b")
        .send(&sim)
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let jobs = sim.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].desktop_ids, [id]);

    let job_id = jobs[0].job_id.clone();
    let show = RawRequest::post(&sim, Vec::new())
        .method("GET")
        .path(job_path(&sim, &job_id))
        .query("offset=1")
        .send(&sim)
        .await;
    assert_eq!(show.status, 200, "{}", show.body);
    assert_eq!(show.json()["id"], job_id.as_str());
}

#[tokio::test]
async fn path_parameters_are_percent_decoded_and_checked_by_the_cores_rule() {
    let sim = Simulator::start().await.unwrap();
    let response = RawRequest::post(&sim, sharer_body(&[DEMO_DESKTOP_IDS[0]])).send(&sim).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let job_id = sim.jobs()[0].job_id.clone();

    // The last character of the id, escaped: the same job.
    let (head, last) = job_id.split_at(job_id.len() - 1);
    let escaped = format!("{head}%{:02X}", last.as_bytes()[0]);
    let show = RawRequest::post(&sim, Vec::new()).method("GET").path(job_path(&sim, &escaped)).send(&sim).await;
    assert_eq!(show.status, 200, "{}", show.body);
    assert_eq!(show.json()["id"], job_id.as_str());

    // A job id longer than any path parameter may be is refused as a client refuses it,
    // naming the field, rather than looked for.
    let long = "j".repeat(hwc_workspace::MAX_VALUE_CHARS + 1);
    let refused = RawRequest::post(&sim, Vec::new()).method("GET").path(job_path(&sim, &long)).send(&sim).await;
    let message = refused.expect_error(400, codes::INVALID_VALUE);
    assert!(message.starts_with("job_id "), "{message}");
    assert!(message.contains(&format!("{} characters", hwc_workspace::MAX_VALUE_CHARS)), "{message}");
}
