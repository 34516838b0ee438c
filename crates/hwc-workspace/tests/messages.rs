//! What the messages say, against real loopback servers: what answered at the metadata address
//! when it is not a metadata service (a proxy's or a captive portal's page), the exact query
//! IAM receives for a region name with reserved characters, the readable reason of a failed TLS
//! handshake and whether a CA was given, and the shortest timeout accepted.

mod support {
    pub(crate) mod self_signed;
}

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hwc_workspace::{
    Client, ConfigErrorKind, Credentials, Error, MAX_DURATION, MAX_RETRIES, MIN_DURATION, RetryPolicy, Setting,
    TransportErrorKind,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A loopback HTTP server that answers every request with `response` (a whole HTTP/1.1
/// answer) and records each request's first line.
async fn canned(response: String) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let response = response.clone();
            let recorded = Arc::clone(&recorded);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match stream.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let text = String::from_utf8_lossy(&head);
                recorded.lock().unwrap().push(text.lines().next().unwrap_or_default().to_owned());
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (endpoint, seen)
}

fn answer(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

const PORTAL_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Access\tdenied \u{1b}[31m by policy</title></head>\
    <body><h1>403 Forbidden</h1><p>Your request was blocked by the proxy.</p></body></html>";

/// No keys anywhere but at the metadata endpoint; an empty home.
fn keyless(metadata: &str, home: &tempfile::TempDir) -> Client {
    let (metadata, home) = (metadata.to_owned(), home.path().to_str().unwrap().to_owned());
    Client::builder()
        .project_id("p-messages")
        .endpoint("http://127.0.0.1:1")
        .environment(move |name: &str| match name {
            "HWC_METADATA_ENDPOINT" => Some(metadata.clone()),
            "HOME" => Some(home.clone()),
            _ => None,
        })
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_page_at_the_metadata_address_is_named_and_every_source_listed() {
    let home = tempfile::tempdir().unwrap();
    for (status, content_type, body) in [
        ("403 Forbidden", "text/html; charset=utf-8", PORTAL_PAGE),
        ("200 OK", "text/html", PORTAL_PAGE),
        // A page served without saying so.
        ("200 OK", "text/plain", "  <html><body>Sign in to the hotel Wi-Fi</body></html>"),
    ] {
        let (endpoint, seen) = canned(answer(status, content_type, body)).await;
        let error = keyless(&endpoint, &home).show_job("j").await.unwrap_err();
        let Error::Configuration(config) = &error else { panic!("{error:?}") };
        let message = config.message();
        assert_eq!(config.kind(), ConfigErrorKind::MissingCredentials, "{message}");
        // What answered: its status, content type and that it is a page.
        let code = status.split(' ').next().unwrap();
        for said in [code, content_type, "an HTML page", "is not an instance metadata service", &endpoint] {
            assert!(message.contains(said), "{said:?} missing from: {message}");
        }
        // Every source tried, as the no-credentials error lists them.
        for tried in ["explicit credentials", "HUAWEICLOUD_SDK_AK", "credentials file"] {
            assert!(message.contains(tried), "{tried:?} missing from: {message}");
        }
        // Escaped: no control character reaches a terminal, and the page is not quoted whole.
        assert!(!message.chars().any(char::is_control), "{message:?}");
        assert!(!message.contains("blocked by the proxy"), "{message}");
        if body == PORTAL_PAGE {
            assert!(message.contains(r#"titled "Access denied \u{1b}[31m by policy""#), "{message}");
        }
        // The hint is not to bind an agency, but says what to do off an ECS.
        let hints: Vec<String> = config.hints().iter().map(ToString::to_string).collect();
        assert!(hints.iter().all(|h| !h.contains("bind an agency")), "{hints:?}");
        assert!(hints.iter().any(|h| h.contains("HWC_METADATA_ENDPOINT=off")), "{hints:?}");
        assert_eq!(seen.lock().unwrap().len(), 1, "one probe, then nothing: {:?}", seen.lock().unwrap());
    }
}

#[tokio::test]
async fn a_metadata_service_that_answers_404_with_a_page_is_still_asked_for_keys() {
    // OpenStack-based services answer a missing token API and a missing agency with pages of
    // their own: that is the service, and the hint to bind an agency stands.
    let home = tempfile::tempdir().unwrap();
    let page = "<html><head><title>404 Not Found</title></head><body>The resource could not be found.</body></html>";
    let (endpoint, seen) = canned(answer("404 Not Found", "text/html", page)).await;
    let error = keyless(&endpoint, &home).show_job("j").await.unwrap_err();
    let Error::Configuration(config) = &error else { panic!("{error:?}") };
    let message = config.message();
    assert_eq!(config.kind(), ConfigErrorKind::InstanceMetadata, "{message}");
    assert!(message.contains(r#"an HTML page titled "404 Not Found""#), "{message}");
    assert!(config.hints().iter().any(|h| h.to_string().contains("bind an agency")), "{:?}", config.hints());
    // The token probe, then the keys without a token.
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[0].starts_with("PUT ") && seen[1].starts_with("GET "), "{seen:?}");
}

#[tokio::test]
async fn a_refusal_that_is_not_a_page_says_what_answered_and_what_was_tried() {
    let home = tempfile::tempdir().unwrap();
    let (endpoint, _) = canned(answer("401 Unauthorized", "application/json", r#"{"error":"a\u0007b"}"#)).await;
    let error = keyless(&endpoint, &home).show_job("j").await.unwrap_err();
    let Error::Configuration(config) = &error else { panic!("{error:?}") };
    let message = config.message();
    assert_eq!(config.kind(), ConfigErrorKind::InstanceMetadata, "{message}");
    for said in ["401 Unauthorized", "application/json", "HUAWEICLOUD_SDK_AK", "credentials file"] {
        assert!(message.contains(said), "{said:?} missing from: {message}");
    }
    assert!(!message.chars().any(char::is_control), "{message:?}");
}

#[tokio::test]
async fn the_iam_lookup_asks_for_the_region_name_percent_encoded_once() {
    let (endpoint, seen) = canned(answer("200 OK", "application/json", r#"{"projects":[]}"#)).await;
    for (region, query) in [
        ("my region", "name=my%20region"),
        ("a+b&c=d", "name=a%2Bb%26c%3Dd"),
        ("x/y?z#w%", "name=x%2Fy%3Fz%23w%25"),
        ("cn-north-4", "name=cn-north-4"),
    ] {
        let client = Client::builder()
            .credentials(Credentials::new("AK-IAM", "SK-IAM"))
            .region(region)
            .endpoint("http://127.0.0.1:1")
            .iam_endpoint(&endpoint)
            .environment(|_: &str| None)
            .build()
            .unwrap();
        let error = client.show_job("j").await.unwrap_err();
        // The lookup found no project: the message names the region as given.
        assert!(error.to_string().contains(&format!("{region:?}")), "{error}");
        let last = seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(last, format!("GET /v3/projects?{query} HTTP/1.1"), "{region:?}");
    }
}

#[tokio::test]
async fn a_failed_handshake_says_why_in_words_and_whether_a_ca_was_given() {
    let (acceptor, _) = support::self_signed::certificate();
    let (_, other_ca) = support::self_signed::certificate();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(support::self_signed::serve(listener, acceptor));
    let builder = || {
        Client::builder()
            .credentials(Credentials::new("AK-TLS", "SK-TLS"))
            .project_id("p-tls")
            .endpoint(&endpoint)
            .environment(|_: &str| None)
            .retry_policy(RetryPolicy::none())
    };
    for (given, client) in
        [(false, builder().build().unwrap()), (true, builder().ca_certificate_pem(other_ca).build().unwrap())]
    {
        let error = client.show_job("j").await.unwrap_err();
        let Error::Transport(transport) = &error else { panic!("{error:?}") };
        assert_eq!(transport.kind(), TransportErrorKind::Tls, "{error}");
        assert_eq!(transport.ca_certificate_given(), given, "{error}");
        let message = error.message_with_causes();
        // Without a CA, the issuer is unknown; with another CA of the same name, its signature
        // does not verify. Either is said in words, never as a Rust debug name.
        let why = if given {
            "has a signature that does not verify"
        } else {
            "not signed by a trusted certificate authority"
        };
        assert!(message.contains(&format!("the server's certificate {why}")) || message.contains(why), "{message}");
        for debug_name in ["UnknownIssuer", "BadSignature"] {
            assert!(!message.contains(debug_name), "a Rust debug name: {message}");
        }
        assert_eq!(message.contains("a CA certificate was given"), given, "{message}");
    }
    // TLS spoken to a plain-http server: a sentence, not `InvalidContentType`.
    // (The server answers at once, as a plain-http server answers a request it cannot read.)
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tls_to_plain = format!("https://{}", plain.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = plain.accept().await {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
            let _ = stream.shutdown().await;
        }
    });
    let error = Client::builder()
        .credentials(Credentials::new("AK-TLS", "SK-TLS"))
        .project_id("p-tls")
        .endpoint(&tls_to_plain)
        .environment(|_: &str| None)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
        .show_job("j")
        .await
        .unwrap_err();
    let message = error.message_with_causes();
    assert!(message.contains("not a TLS handshake"), "{message}");
    assert!(!message.contains("InvalidContentType"), "{message}");
}

#[test]
fn timeouts_below_a_millisecond_or_above_a_day_are_refused_by_the_builder() {
    let base =
        || Client::builder().credentials(Credentials::new("A", "S")).project_id("p").endpoint("http://127.0.0.1:1");
    for (name, short) in [
        ("timeout", base().timeout(Duration::from_nanos(1))),
        ("connect_timeout", base().connect_timeout(Duration::from_micros(999))),
        ("timeout", base().timeout(Duration::ZERO)),
        ("timeout", base().timeout(MAX_DURATION + Duration::from_nanos(1))),
    ] {
        let error = short.build().unwrap_err();
        let Error::InvalidInput(input) = &error else { panic!("{error:?}") };
        assert_eq!(input.field(), name, "{error}");
        assert!(input.expected().contains("0.001") && input.expected().contains("86400"), "{error}");
    }
    assert_eq!(MIN_DURATION, Duration::from_millis(1));
    assert!(base().timeout(MIN_DURATION).connect_timeout(MAX_DURATION).build().is_ok());
}

/// Issue 23: the builder refuses out-of-range retries itself (fronts pass values through),
/// naming the setting as data so each front spells it (`--retries`, `retries=`).
#[test]
fn retries_above_the_maximum_are_refused_by_the_builder_naming_the_setting() {
    let base =
        || Client::builder().credentials(Credentials::new("A", "S")).project_id("p").endpoint("http://127.0.0.1:1");
    assert!(base().retries(MAX_RETRIES).build().is_ok());
    let error = base().retries(MAX_RETRIES + 1).build().unwrap_err();
    let Error::InvalidInput(input) = &error else { panic!("{error:?}") };
    assert_eq!((input.field(), input.got()), ("retries", "11"));
    assert_eq!(input.setting(), Some(Setting::Retries));
    let hints: Vec<String> = error.hints().iter().map(|h| h.render(|s| format!("<{s:?}>"))).collect();
    assert_eq!(hints, ["<Retries> takes an int from 0 to 10"]);
    let policy = RetryPolicy { connect_retries: u32::MAX, ..RetryPolicy::default() };
    let error = base().retry_policy(policy).build().unwrap_err();
    assert!(error.to_string().contains("retry_policy.connect_retries"), "{error}");
    // The timeout too carries its setting; the conversion a front needs refuses only what
    // no duration can be, in the same words.
    let error = base().timeout(Duration::ZERO).build().unwrap_err();
    assert_eq!(error.hints()[0].setting(), Some(Setting::Timeout));
    for secs in [f64::NAN, -1.0, f64::INFINITY] {
        let refused = hwc_workspace::seconds("timeout", secs).unwrap_err();
        assert_eq!(refused.expected(), hwc_workspace::timeout_range());
    }
    assert_eq!(hwc_workspace::seconds("timeout", 0.0).unwrap(), Duration::ZERO, "the range is the builder's");
}
