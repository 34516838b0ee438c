//! Fault injection as a client meets it: each kind of fault through the real client, retries
//! against consumed faults, reproducible random faults, and no change of state under faults.

mod common;

use std::time::{Duration, Instant};

use common::{RawRequest, sharer_body};
use hwc_workspace::{DeleteSubResources, Error, RetryPolicy, TransportErrorKind};
use hwc_workspace_sim::{DEMO_DESKTOP_IDS, DESKTOP_SHARER, FaultKind, Faults, Simulator, codes};

fn request() -> DeleteSubResources {
    DeleteSubResources::new([DEMO_DESKTOP_IDS[0]], DESKTOP_SHARER)
}

/// Fast retries, so tests wait for `Retry-After` only where they mean to.
fn quick_retries(retries: u32) -> RetryPolicy {
    RetryPolicy { max_retries: retries, base_delay: Duration::from_millis(1), ..RetryPolicy::default() }
}

fn assert_untouched(sim: &Simulator) {
    assert!(sim.jobs().is_empty(), "{:?}", sim.jobs());
    assert!(sim.desktop(DEMO_DESKTOP_IDS[0]).unwrap().has(DESKTOP_SHARER));
}

#[tokio::test]
async fn an_injected_500_is_an_api_error_and_deletes_nothing() {
    let sim = Simulator::builder().faults(Faults::fail_next([FaultKind::InternalError])).start().await.unwrap();
    let client = sim.client_builder().build().unwrap();
    let error = match client.delete_desktop_sub_resources(&request()).await {
        Err(Error::Api(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(error.status(), 500);
    assert_eq!(error.error_code(), Some(codes::INTERNAL_ERROR));
    assert!(error.request_id().is_some());
    assert_untouched(&sim);
    // Consumed: the next call goes through.
    client.delete_desktop_sub_resources(&request()).await.unwrap();
    assert_eq!(sim.jobs().len(), 1);
}

#[tokio::test]
async fn latency_beyond_the_client_timeout_is_a_transport_timeout() {
    let sim = Simulator::builder().faults(Faults::none().with_latency(Duration::from_secs(3))).start().await.unwrap();
    let client = sim.client_builder().timeout(Duration::from_millis(200)).build().unwrap();
    let started = Instant::now();
    match client.delete_desktop_sub_resources(&request()).await {
        Err(Error::Transport(e)) => assert_eq!(e.kind(), TransportErrorKind::Timeout),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    sim.set_faults(Faults::none().with_latency(Duration::from_millis(100)));
    let started = Instant::now();
    let patient = sim.client_builder().timeout(Duration::from_secs(5)).build().unwrap();
    patient.delete_desktop_sub_resources(&request()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn retries_get_through_503s_and_every_attempt_reaches_the_server() {
    let sim = Simulator::builder()
        .faults(Faults::fail_next([FaultKind::Unavailable, FaultKind::Unavailable]))
        .start()
        .await
        .unwrap();
    let client = sim.client_builder().retry_policy(quick_retries(2)).build().unwrap();
    client.delete_desktop_sub_resources(&request()).await.unwrap();
    assert_eq!(sim.request_count(), 3);
    assert_eq!(sim.jobs().len(), 1);
    assert!(sim.faults().fail_next.is_empty());
}

#[tokio::test]
async fn without_retries_a_503_is_returned_as_is() {
    let sim = Simulator::builder().faults(Faults::fail_next([FaultKind::Unavailable])).start().await.unwrap();
    let client = sim.client_builder().retries(0).build().unwrap();
    match client.delete_desktop_sub_resources(&request()).await {
        Err(Error::Api(e)) => assert_eq!((e.status(), e.error_code()), (503, Some(codes::SERVICE_UNAVAILABLE))),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.request_count(), 1);
    assert_untouched(&sim);
}

#[tokio::test]
async fn a_429_carries_retry_after_and_the_client_honours_it() {
    let sim = Simulator::builder()
        .faults(Faults::fail_next([FaultKind::TooManyRequests { retry_after_secs: 1 }]))
        .start()
        .await
        .unwrap();
    let client = sim.client_builder().retry_policy(quick_retries(1)).build().unwrap();
    let started = Instant::now();
    client.delete_desktop_sub_resources(&request()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());
    assert_eq!(sim.request_count(), 2);

    sim.set_faults(Faults::fail_next([FaultKind::TooManyRequests { retry_after_secs: 7 }]));
    let response = RawRequest::post(&sim, sharer_body(&[DEMO_DESKTOP_IDS[1]])).send(&sim).await;
    response.expect_error(429, codes::THROTTLED);
    assert_eq!(response.header("retry-after"), Some("7"));
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error() {
    let sim = Simulator::builder().faults(Faults::fail_next([FaultKind::DropConnection])).start().await.unwrap();
    let client = sim.client_builder().build().unwrap();
    match client.delete_desktop_sub_resources(&request()).await {
        Err(Error::Transport(e)) => assert_eq!(e.kind(), TransportErrorKind::Broken),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.request_count(), 1, "a POST that reached the server must not be sent again by default");
    assert_untouched(&sim);
}

#[tokio::test]
async fn an_html_error_page_is_an_api_error_with_its_status() {
    let sim = Simulator::builder().faults(Faults::fail_next([FaultKind::HtmlBadGateway])).start().await.unwrap();
    let client = sim.client_builder().build().unwrap();
    match client.delete_desktop_sub_resources(&request()).await {
        Err(Error::Api(e)) => {
            assert_eq!(e.status(), 502);
            assert_eq!(e.error_code(), None);
            assert!(e.error_msg().unwrap().contains("502 Bad Gateway"), "{e}");
            assert!(e.request_id().is_some());
        }
        other => panic!("{other:?}"),
    }
    assert_untouched(&sim);
    sim.set_faults(Faults::fail_next([FaultKind::HtmlBadGateway]));
    let response = RawRequest::post(&sim, sharer_body(&[DEMO_DESKTOP_IDS[0]])).send(&sim).await;
    assert_eq!(response.status, 502);
    assert_eq!(response.header("content-type"), Some("text/html"));
    assert!(response.body.contains("<title>502 Bad Gateway</title>"));
}

#[tokio::test]
async fn a_truncated_body_is_an_error_not_a_hang() {
    let sim = Simulator::builder().faults(Faults::fail_next([FaultKind::TruncatedBody])).start().await.unwrap();
    let client = sim.client_builder().timeout(Duration::from_secs(5)).build().unwrap();
    let result = tokio::time::timeout(Duration::from_secs(3), client.delete_desktop_sub_resources(&request()))
        .await
        .expect("the client gives up on a cut body by itself, well before its timeout");
    match result {
        Err(Error::Transport(e)) => assert_eq!(e.kind(), TransportErrorKind::Broken),
        Err(Error::UndecodableResponse(e)) => assert_eq!(e.status(), 200),
        other => panic!("{other:?}"),
    }
    assert_untouched(&sim);
}

#[tokio::test]
async fn a_truncated_body_really_sends_a_head_and_part_of_the_body() {
    let sim = Simulator::builder().faults(Faults::fail_next([FaultKind::TruncatedBody])).start().await.unwrap();
    let request = format!("POST /anything HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\n\r\n", sim.local_addr());
    let answer = common::raw_exchange(&sim, request.as_bytes(), Duration::from_secs(3)).await;
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    assert!(head.starts_with("HTTP/1.1 200"), "{answer}");
    let promised: usize = head
        .lines()
        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .expect("a Content-Length");
    assert_eq!(body, r#"{"job_id":""#);
    assert!(promised > body.len(), "{answer}");
}

#[tokio::test]
async fn fail_next_is_consumed_one_per_request_in_order() {
    let sim = Simulator::start().await.unwrap();
    sim.set_faults(Faults::fail_next([FaultKind::InternalError, FaultKind::Unavailable, FaultKind::HtmlBadGateway]));
    assert_eq!(sim.faults().fail_next.len(), 3);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(RawRequest::post(&sim, sharer_body(&[DEMO_DESKTOP_IDS[0]])).send(&sim).await.status);
    }
    assert_eq!(statuses, [500, 503, 502, 200]);
    assert!(sim.faults().fail_next.is_empty());
}

#[tokio::test]
async fn random_faults_are_reproducible_from_the_seed() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let sim = Simulator::builder().faults(Faults::error_rate(0.5, seed)).start().await.unwrap();
        let mut statuses = Vec::new();
        for _ in 0..24 {
            statuses.push(RawRequest::post(&sim, sharer_body(&[DEMO_DESKTOP_IDS[6]])).send(&sim).await.status);
        }
        let successes = statuses.iter().filter(|s| **s == 200).count();
        assert_eq!(sim.jobs().len(), successes, "only answered calls change state");
        statuses
    }
    let first = statuses(42).await;
    assert_eq!(first, statuses(42).await);
    assert!(first.iter().all(|s| [200, 500, 503].contains(s)), "{first:?}");
    assert!(first.contains(&200) && first.iter().any(|s| *s != 200), "{first:?}");
}

#[tokio::test]
async fn no_fault_kind_changes_state() {
    let kinds = FaultKind::ALL;
    let sim = Simulator::builder().faults(Faults::fail_next(kinds)).start().await.unwrap();
    // Short: the kinds that never answer wait it out.
    let client = sim.client_builder().retries(0).timeout(Duration::from_millis(500)).build().unwrap();
    for kind in kinds {
        assert!(client.delete_desktop_sub_resources(&request()).await.is_err(), "{kind:?}");
    }
    assert_untouched(&sim);
    assert!(sim.faults().fail_next.is_empty());
    // Every call met one fault; the reset on accept met a connection, not a request.
    let on_accept = kinds.iter().filter(|k| k.acts_on_accept()).count();
    assert_eq!(sim.request_count(), (kinds.len() - on_accept) as u64);
}
