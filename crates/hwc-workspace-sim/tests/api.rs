//! Every documented answer of the simulator, seen through the real client (`hwc-workspace`)
//! over loopback, and through raw signed requests where the client would refuse to send.

mod common;

use std::time::Duration;

use common::{RawRequest, assert_documented_error, delete_path, raw_exchange, sharer_body};
use hwc_workspace::{Credentials, DeleteSubResources, Error};
use hwc_workspace_sim::{
    DEMO_DENIED_AK, DEMO_DENIED_SK, DEMO_DESKTOP_IDS, DEMO_SHARER_DESKTOP_IDS, DESKTOP_SHARER, Key, Simulator, State,
    codes,
};
use time::OffsetDateTime;

fn api_error(result: Result<hwc_workspace::Deleted, Error>) -> hwc_workspace::ApiError {
    match result {
        Err(Error::Api(e)) => e,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn sharer(ids: &[&str]) -> DeleteSubResources {
    DeleteSubResources::new(ids.iter().copied(), DESKTOP_SHARER)
}

#[tokio::test]
async fn a_deletion_records_a_job_and_removes_the_sub_resource() {
    let sim = Simulator::start().await.unwrap();
    let client = sim.client_builder().build().unwrap();
    let ids = &DEMO_SHARER_DESKTOP_IDS[..2];
    let deleted = client.delete_desktop_sub_resources(&sharer(ids).order_id("order-1")).await.unwrap();

    let jobs = sim.jobs();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(job.job_id, deleted.job_id);
    assert_eq!(job.desktop_ids, ids);
    assert_eq!(job.sub_resource_type, DESKTOP_SHARER);
    assert_eq!(job.order_id.as_deref(), Some("order-1"));
    assert_eq!(job.removed_from, ids);
    assert_eq!(job.access_key, sim.access_key());
    assert_eq!(Some(job.request_id.as_str()), deleted.request_id.as_deref());
    assert!((OffsetDateTime::now_utc() - job.created_at).abs() < time::Duration::minutes(1));
    for id in ids {
        assert!(!sim.desktop(id).unwrap().has(DESKTOP_SHARER), "{id}");
    }
    for id in &DEMO_SHARER_DESKTOP_IDS[2..] {
        assert!(sim.desktop(id).unwrap().has(DESKTOP_SHARER), "{id} must be untouched");
    }
    assert_eq!(sim.request_count(), 1);
}

#[tokio::test]
async fn a_repeated_deletion_succeeds_with_a_new_job_and_removes_nothing() {
    let sim = Simulator::start().await.unwrap();
    let client = sim.client_builder().build().unwrap();
    // The seventh demo desktop never had a sharer: same answer as a repeat.
    let request = sharer(&[DEMO_DESKTOP_IDS[0], DEMO_DESKTOP_IDS[6]]);
    let first = client.delete_desktop_sub_resources(&request).await.unwrap();
    let second = client.delete_desktop_sub_resources(&request).await.unwrap();
    assert_ne!(first.job_id, second.job_id);
    let jobs = sim.jobs();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].removed_from, [DEMO_DESKTOP_IDS[0]]);
    assert!(jobs[1].removed_from.is_empty());
}

#[tokio::test]
async fn the_success_body_is_exactly_the_documented_one() {
    let sim = Simulator::start().await.unwrap();
    let response = RawRequest::post(&sim, sharer_body(&[DEMO_DESKTOP_IDS[0]])).send(&sim).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("x-request-id").map(str::len), Some(32));
    let body = response.json();
    assert_eq!(body.as_object().unwrap().len(), 1);
    assert_eq!(body["job_id"], sim.jobs()[0].job_id.as_str());
}

#[tokio::test]
async fn bad_bodies_are_400_with_the_service_code_and_change_nothing() {
    let sim = Simulator::start().await.unwrap();
    let id = DEMO_DESKTOP_IDS[0];
    let many: Vec<String> = (0..101).map(|i| format!("d-{i}")).collect();
    let cases: Vec<(String, &str, &str)> = vec![
        ("{\"desktop_ids\":[".to_owned(), codes::MALFORMED_BODY, "not valid JSON"),
        ("[1,2]".to_owned(), codes::MALFORMED_BODY, "JSON object"),
        (r#"{"sub_resource_type":"DESKTOP_SHARER"}"#.to_owned(), codes::MISSING_FIELD, "desktop_ids is required"),
        (format!(r#"{{"desktop_ids":["{id}"]}}"#), codes::MISSING_FIELD, "sub_resource_type is required"),
        (r#"{"desktop_ids":[],"sub_resource_type":"DESKTOP_SHARER"}"#.to_owned(), codes::DESKTOP_COUNT, "not 0"),
        (serde_json::json!({"desktop_ids": many, "sub_resource_type": "DESKTOP_SHARER"}).to_string(), codes::DESKTOP_COUNT, "not 101"),
        (r#"{"desktop_ids":["  "],"sub_resource_type":"DESKTOP_SHARER"}"#.to_owned(), codes::INVALID_VALUE, "desktop_ids[0] must not be blank"),
        (format!(r#"{{"desktop_ids":["{id}"],"sub_resource_type":" "}}"#), codes::INVALID_VALUE, "sub_resource_type must not be blank"),
        (
            serde_json::json!({"desktop_ids": [id, "x".repeat(256)], "sub_resource_type": "DESKTOP_SHARER"}).to_string(),
            codes::INVALID_VALUE,
            "desktop_ids[1] must be at most 255 characters",
        ),
        (
            serde_json::json!({"desktop_ids": [id], "sub_resource_type": "DESKTOP_SHARER", "order_id": "o".repeat(256)}).to_string(),
            codes::INVALID_VALUE,
            "order_id must be at most 255",
        ),
        (format!(r#"{{"desktop_ids":"{id}","sub_resource_type":"DESKTOP_SHARER"}}"#), codes::WRONG_TYPE, "desktop_ids must be an array"),
        (r#"{"desktop_ids":[42],"sub_resource_type":"DESKTOP_SHARER"}"#.to_owned(), codes::WRONG_TYPE, "desktop_ids[0] must be a string, not a number"),
        (format!(r#"{{"desktop_ids":["{id}"],"sub_resource_type":true}}"#), codes::WRONG_TYPE, "not a boolean"),
        (format!(r#"{{"desktop_ids":["{id}"],"sub_resource_type":"DESKTOP_SHARER","order_id":{{}}}}"#), codes::WRONG_TYPE, "order_id must be a string"),
    ];
    for (body, code, message) in cases {
        let response = RawRequest::post(&sim, body.clone()).send(&sim).await;
        let got = response.expect_error(400, code);
        assert!(got.contains(message), "{body}: {got:?} lacks {message:?}");
    }
    let malformed = RawRequest::post(&sim, "{").send(&sim).await.json();
    assert!(malformed["error_detail"].as_str().is_some_and(|d| d.contains("EOF")), "{malformed}");
    assert!(sim.jobs().is_empty());
    assert!(sim.desktop(id).unwrap().has(DESKTOP_SHARER));
}

/// The core's id rule holds at the simulator too, for a client that does not validate: a raw
/// signed request whose ids hold whitespace at an end, `,`, `#`, a control or an invisible
/// format character is the documented 400, naming the id's place, and deletes nothing.
#[tokio::test]
async fn ids_that_break_the_id_rule_are_400_whoever_sends_them() {
    let sim = Simulator::start().await.unwrap();
    let id = DEMO_DESKTOP_IDS[0];
    let odd = [
        format!(" {id}"),
        format!("{id}\t"),
        format!("{id}\u{a0}"),
        format!("{id},{}", DEMO_DESKTOP_IDS[1]),
        format!("{id}#1"),
        format!("{id}\u{0}"),
        format!("{id}\n"),
        format!("{id}\u{7f}"),
        format!("\u{202e}{id}"),
        format!("{id}\u{2066}"),
        format!("{id}\u{200b}"),
        format!("\u{feff}{id}"),
    ];
    for bad in &odd {
        let body =
            serde_json::json!({"desktop_ids": [DEMO_DESKTOP_IDS[1], bad], "sub_resource_type": "DESKTOP_SHARER"});
        let message = RawRequest::post(&sim, body.to_string()).send(&sim).await.expect_error(400, codes::INVALID_VALUE);
        assert!(message.contains("desktop_ids[1] is not a desktop id"), "{bad:?}: {message}");
        assert!(message.contains(hwc_workspace::DESKTOP_ID_RULE), "{bad:?}: {message}");
    }
    assert!(sim.jobs().is_empty(), "nothing was deleted");
    assert!(sim.desktop(id).unwrap().has(DESKTOP_SHARER));
    assert!(sim.desktop(DEMO_DESKTOP_IDS[1]).unwrap().has(DESKTOP_SHARER));
}

#[tokio::test]
async fn a_content_type_other_than_json_is_400() {
    let sim = Simulator::start().await.unwrap();
    let body = sharer_body(&[DEMO_DESKTOP_IDS[0]]);
    let message = RawRequest::post(&sim, body.clone())
        .header("Content-Type", "text/plain")
        .send(&sim)
        .await
        .expect_error(400, codes::UNSUPPORTED_CONTENT_TYPE);
    assert!(message.contains("text/plain"), "{message}");
    let message = RawRequest::post(&sim, body.clone())
        .without_header("Content-Type")
        .send(&sim)
        .await
        .expect_error(400, codes::UNSUPPORTED_CONTENT_TYPE);
    assert!(message.contains("missing"), "{message}");
    let ok = RawRequest::post(&sim, body).header("Content-Type", "Application/JSON; charset=utf-8").send(&sim).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn an_unknown_sub_resource_type_reaches_the_service_unchanged() {
    let sim = Simulator::start().await.unwrap();
    let client = sim.client_builder().build().unwrap();
    let unknown = "FUTURE_TYPE_x-1";
    let request = DeleteSubResources::new([DEMO_DESKTOP_IDS[0]], unknown);
    let error = api_error(client.delete_desktop_sub_resources(&request).await);
    assert_eq!(error.status(), 400);
    assert_eq!(error.error_code(), Some(codes::UNSUPPORTED_SUB_RESOURCE_TYPE));
    assert!(error.error_msg().unwrap().contains(&format!("\"{unknown}\"")), "{error}");
    assert!(sim.desktop(DEMO_DESKTOP_IDS[0]).unwrap().has(DESKTOP_SHARER));
}

#[tokio::test]
async fn unknown_desktops_are_404_naming_every_missing_id() {
    let sim = Simulator::start().await.unwrap();
    let client = sim.client_builder().build().unwrap();
    let request = sharer(&["no-such-1", DEMO_DESKTOP_IDS[0], "no-such-2", "no-such-1"]);
    let error = api_error(client.delete_desktop_sub_resources(&request).await);
    assert_eq!(error.status(), 404);
    assert_eq!(error.error_code(), Some(codes::DESKTOP_NOT_FOUND));
    assert_eq!(error.error_msg(), Some("The desktops do not exist: no-such-1, no-such-2"));
    assert!(error.request_id().is_some_and(|id| id.len() == 32));
    // All or nothing: the existing desktop keeps its sharer.
    assert!(sim.desktop(DEMO_DESKTOP_IDS[0]).unwrap().has(DESKTOP_SHARER));
    assert!(sim.jobs().is_empty());
}

#[tokio::test]
async fn an_unknown_project_is_404() {
    let sim = Simulator::start().await.unwrap();
    let other = "0000000000000000000000000000ffff";
    let client = sim.client_builder().project_id(other).build().unwrap();
    let error = api_error(client.delete_desktop_sub_resources(&sharer(&[DEMO_DESKTOP_IDS[0]])).await);
    assert_eq!(error.status(), 404);
    assert_eq!(error.error_code(), Some(codes::PROJECT_NOT_FOUND));
    assert!(error.error_msg().unwrap().contains(other), "{error}");
}

#[tokio::test]
async fn a_wrong_secret_key_is_401() {
    let sim = Simulator::start().await.unwrap();
    let client =
        sim.client_builder().credentials(Credentials::new(sim.access_key(), "not-the-secret")).build().unwrap();
    let error = api_error(client.delete_desktop_sub_resources(&sharer(&[DEMO_DESKTOP_IDS[0]])).await);
    assert_eq!(error.status(), 401);
    assert_eq!(error.error_code(), Some(codes::AUTHENTICATION_FAILED));
    assert!(error.error_msg().unwrap().contains("signature does not match"), "{error}");
    assert!(sim.jobs().is_empty());
}

#[tokio::test]
async fn an_unknown_access_key_is_401() {
    let sim = Simulator::start().await.unwrap();
    let client = sim.client_builder().credentials(Credentials::new("HPUANOBODY0000000000", "x")).build().unwrap();
    let error = api_error(client.delete_desktop_sub_resources(&sharer(&[DEMO_DESKTOP_IDS[0]])).await);
    assert_eq!(error.status(), 401);
    assert!(error.error_msg().unwrap().contains("HPUANOBODY0000000000"), "{error}");
}

#[tokio::test]
async fn missing_or_malformed_authorization_is_401() {
    let sim = Simulator::start().await.unwrap();
    let body = sharer_body(&[DEMO_DESKTOP_IDS[0]]);
    let message = RawRequest::post(&sim, body.clone())
        .unsigned()
        .send(&sim)
        .await
        .expect_error(401, codes::AUTHENTICATION_FAILED);
    assert!(message.contains("no Authorization header"), "{message}");
    let message = RawRequest::post(&sim, body.clone())
        .unsigned()
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .send(&sim)
        .await
        .expect_error(401, codes::AUTHENTICATION_FAILED);
    assert!(message.contains("\"Basic\" is not supported"), "{message}");
    let message = RawRequest::post(&sim, body)
        .unsigned()
        .header("Authorization", "SDK-HMAC-SHA256 garbage")
        .send(&sim)
        .await
        .expect_error(401, codes::AUTHENTICATION_FAILED);
    assert!(message.contains("not of the form"), "{message}");
}

fn twenty_minutes_ago() -> OffsetDateTime {
    OffsetDateTime::now_utc() - time::Duration::minutes(20)
}

fn fourteen_minutes_ahead() -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::minutes(14)
}

#[tokio::test]
async fn a_date_more_than_15_minutes_off_is_401() {
    let sim = Simulator::start().await.unwrap();
    let stale = sim.client_builder().clock(twenty_minutes_ago).build().unwrap();
    let error = api_error(stale.delete_desktop_sub_resources(&sharer(&[DEMO_DESKTOP_IDS[0]])).await);
    assert_eq!(error.status(), 401);
    assert_eq!(error.error_code(), Some(codes::AUTHENTICATION_FAILED));
    assert!(error.error_msg().unwrap().contains("X-Sdk-Date"), "{error}");
    assert!(sim.jobs().is_empty());

    let skewed = sim.client_builder().clock(fourteen_minutes_ahead).build().unwrap();
    skewed.delete_desktop_sub_resources(&sharer(&[DEMO_DESKTOP_IDS[0]])).await.unwrap();
}

#[tokio::test]
async fn a_temporary_key_needs_its_security_token() {
    let state =
        State::demo().with_key(Key::new("HPUATEMP000000000001", "temp-secret").with_security_token("the-token"));
    let sim = Simulator::builder().state(state).start().await.unwrap();
    let call = |credentials: Credentials| {
        let client = sim.client_builder().credentials(credentials).build().unwrap();
        async move { client.delete_desktop_sub_resources(&sharer(&[DEMO_DESKTOP_IDS[0]])).await }
    };
    let without = api_error(call(Credentials::new("HPUATEMP000000000001", "temp-secret")).await);
    assert_eq!((without.status(), without.error_code()), (401, Some(codes::AUTHENTICATION_FAILED)));
    assert!(without.error_msg().unwrap().contains("X-Security-Token header is missing"), "{without}");

    let wrong =
        api_error(call(Credentials::new("HPUATEMP000000000001", "temp-secret").with_security_token("other")).await);
    assert_eq!(wrong.status(), 401);
    assert!(wrong.error_msg().unwrap().contains("does not belong"), "{wrong}");
    assert!(sim.jobs().is_empty());

    call(Credentials::new("HPUATEMP000000000001", "temp-secret").with_security_token("the-token")).await.unwrap();
    assert_eq!(sim.jobs()[0].access_key, "HPUATEMP000000000001");
}

#[tokio::test]
async fn x_project_id_must_match_the_path() {
    let sim = Simulator::start().await.unwrap();
    let body = sharer_body(&[DEMO_DESKTOP_IDS[0]]);
    let message = RawRequest::post(&sim, body.clone())
        .header("X-Project-Id", "someone-elses-project")
        .send(&sim)
        .await
        .expect_error(401, codes::AUTHENTICATION_FAILED);
    assert!(message.contains("someone-elses-project"), "{message}");
    let message = RawRequest::post(&sim, body)
        .without_header("X-Project-Id")
        .send(&sim)
        .await
        .expect_error(401, codes::AUTHENTICATION_FAILED);
    assert!(message.contains("X-Project-Id header is missing"), "{message}");
    assert!(sim.jobs().is_empty());
}

#[tokio::test]
async fn a_key_without_the_permission_is_403() {
    let sim = Simulator::start().await.unwrap();
    let client = sim.client_builder().credentials(Credentials::new(DEMO_DENIED_AK, DEMO_DENIED_SK)).build().unwrap();
    let error = api_error(client.delete_desktop_sub_resources(&sharer(&[DEMO_DESKTOP_IDS[0]])).await);
    assert_eq!(error.status(), 403);
    assert_eq!(error.error_code(), Some(codes::NOT_AUTHORIZED));
    assert!(error.error_msg().unwrap().contains("workspace:desktops:deleteSubResources"), "{error}");
    assert!(error.encoded_authorization_message().is_some_and(|m| !m.is_empty()));
    assert!(sim.jobs().is_empty());
    assert!(sim.desktop(DEMO_DESKTOP_IDS[0]).unwrap().has(DESKTOP_SHARER));
}

#[tokio::test]
async fn unknown_paths_are_404_and_other_methods_405() {
    let sim = Simulator::start().await.unwrap();
    for path in
        ["/", "/v2/", "/v2/x/desktop-list", "/v2//desktop/delete-sub-resources", "/v1/p/desktop/delete-sub-resources"]
    {
        RawRequest::post(&sim, "{}").path(path).send(&sim).await.expect_error(404, codes::API_NOT_FOUND);
    }
    for method in ["GET", "PUT", "DELETE"] {
        let response = RawRequest::post(&sim, "").method(method).send(&sim).await;
        response.expect_error(405, codes::API_NOT_FOUND);
        assert_eq!(response.header("allow"), Some("POST"));
    }
    assert_eq!(sim.request_count(), 8);
}

#[tokio::test]
async fn a_body_over_1_mib_is_413_before_anything_else() {
    let sim = Simulator::start().await.unwrap();
    let mut body = sharer_body(&[DEMO_DESKTOP_IDS[0]]);
    body.resize(2 * 1024 * 1024, b' ');
    let response = RawRequest::post(&sim, body).unsigned().send(&sim).await;
    let message = response.expect_error(413, codes::REQUEST_REJECTED);
    assert!(message.contains("1048576"), "{message}");
    // Right at the limit is fine (and here fails later, on authentication).
    let mut body = sharer_body(&[DEMO_DESKTOP_IDS[0]]);
    body.resize(1024 * 1024, b' ');
    RawRequest::post(&sim, body).unsigned().send(&sim).await.expect_error(401, codes::AUTHENTICATION_FAILED);
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413_too() {
    let sim = Simulator::start().await.unwrap();
    let mut request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        delete_path(sim.project_id()),
        sim.local_addr()
    )
    .into_bytes();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..24 {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(&chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let answer = raw_exchange(&sim, &request, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(codes::REQUEST_REJECTED), "{answer}");
}

#[tokio::test]
async fn an_announced_huge_body_is_refused_without_waiting_for_it() {
    let sim = Simulator::start().await.unwrap();
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n{{",
        delete_path(sim.project_id()),
        sim.local_addr()
    );
    let answer = raw_exchange(&sim, request.as_bytes(), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
}

#[tokio::test]
async fn error_bodies_leave_out_absent_fields() {
    let sim = Simulator::start().await.unwrap();
    let response = RawRequest::post(&sim, "[]").send(&sim).await;
    assert_documented_error(&response);
    let body = response.json();
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
}
