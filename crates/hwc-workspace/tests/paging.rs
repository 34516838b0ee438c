//! The pager (`Client::items`) against a loopback server answering listings no documented
//! service gives: it ends each of them with an error, in a bounded number of pages, and never
//! passes on an item id that is not an id.

use std::time::Duration;

use httpmock::prelude::*;
use hwc_workspace::{Client, Credentials, Error, Input, OperationId, PageOptions, RetryPolicy};
use serde_json::json;

const PROJECT: &str = "0123456789abcdef0123456789abcdef";
const PATH: &str = "/v2/0123456789abcdef0123456789abcdef/desktops";

fn client(server: &MockServer) -> Client {
    Client::builder()
        .credentials(Credentials::new("AK-PAGING", "SK-paging"))
        .project_id(PROJECT)
        .endpoint(server.base_url())
        .environment(|_: &str| None)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn desktop(id: &str) -> serde_json::Value {
    json!({"desktop_id": id})
}

/// Reads a listing to its end; the ids, and the error it ended with.
async fn read(client: &Client, page_size: u32) -> (Vec<String>, Option<Error>) {
    let mut items = client
        .items(OperationId::ListDesktops, Input::new(), PageOptions { page_size: Some(page_size), max_items: None })
        .unwrap();
    let mut ids = Vec::new();
    while let Some(item) = tokio::time::timeout(Duration::from_secs(20), items.next_item()).await.expect("bounded") {
        match item {
            Ok(item) => ids.push(item["desktop_id"].as_str().unwrap().to_owned()),
            Err(error) => return (ids, Some(error)),
        }
    }
    (ids, None)
}

#[tokio::test]
async fn a_service_answering_every_offset_with_the_same_page_ends_the_listing_with_an_error() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path(PATH);
            then.status(200).json_body(json!({"total_count": 1_000_000, "desktops": [desktop("d-1"), desktop("d-2")]}));
        })
        .await;
    let (ids, error) = read(&client(&server), 2).await;
    assert_eq!(ids, ["d-1", "d-2"], "each item once");
    let error = error.expect("the listing ends with an error");
    assert!(matches!(error, Error::UndecodableResponse(_)), "{error:?}");
    assert!(error.to_string().contains("already listed"), "{error}");
    let calls = mock.calls_async().await;
    // The first page, then 10 without a new item; and up to three asked for ahead of the
    // last one read, let go unread.
    assert!((11..=14).contains(&calls), "{calls} pages asked for");
}

#[tokio::test]
async fn a_total_that_falls_on_every_page_cannot_keep_the_listing_stepping_back() {
    let server = MockServer::start_async().await;
    // At offset o: a total of 1000 - o, and the items at o and o + 1. Each page past the first
    // shows a fall, so the pager steps back, and reads the first page again.
    for offset in 0..4u32 {
        server
            .mock_async(|when, then| {
                when.method(GET).path(PATH).query_param("offset", offset.to_string());
                then.status(200).json_body(json!({
                    "total_count": 1000 - offset,
                    "desktops": [desktop(&format!("d-{offset}")), desktop(&format!("d-{}", offset + 1))],
                }));
            })
            .await;
    }
    let (ids, error) = read(&client(&server), 2).await;
    assert_eq!(ids, ["d-0", "d-1"]);
    assert!(error.is_some_and(|e| e.to_string().contains("already listed")));
}

#[tokio::test]
async fn an_item_id_that_is_no_id_ends_the_listing_and_is_never_yielded() {
    for bad in ["d-1\nd-2", "", " d-1", "d,1"] {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.method(GET).path(PATH);
                then.status(200).json_body(json!({"total_count": 2, "desktops": [desktop("d-0"), desktop(bad)]}));
            })
            .await;
        let (ids, error) = read(&client(&server), 10).await;
        assert_eq!(ids, ["d-0"], "{bad:?}");
        let error = error.expect("an error");
        assert!(matches!(error, Error::UndecodableResponse(_)), "{bad:?}: {error:?}");
        assert!(error.to_string().contains("is no id"), "{error}");
    }
}

#[tokio::test]
async fn answers_without_a_list_of_items_or_an_id_are_refused() {
    for body in [
        json!({"total_count": 1, "desktops": "d-1"}),
        json!({"total_count": 1, "desktops": [{"computer_name": "x"}]}),
        json!({"total_count": 1, "desktops": [{"desktop_id": 7}]}),
    ] {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.method(GET).path(PATH);
                then.status(200).json_body(body.clone());
            })
            .await;
        let (ids, error) = read(&client(&server), 10).await;
        assert!(ids.is_empty(), "{body}");
        assert!(error.is_some(), "{body}: the listing ends with an error");
    }
    // No items and no total: the end, not an error.
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(PATH);
            then.status(200).json_body(json!({}));
        })
        .await;
    let (ids, error) = read(&client(&server), 10).await;
    assert!(ids.is_empty() && error.is_none(), "{error:?}");
}
