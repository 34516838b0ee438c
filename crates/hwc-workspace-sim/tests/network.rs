//! Credentials and networks over real loopback: temporary keys from the simulator's metadata
//! service (with refresh and expiry), the project id from its IAM, a real forward proxy, and
//! endpoint failover.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hwc_workspace::iam::Project;
use hwc_workspace::{
    ApiErrorKind, Client, ClientBuilder, ConfigErrorKind, Credentials, DeleteSubResources, Error, TransportErrorKind,
};
use hwc_workspace_sim::forward_proxy::ForwardProxy;
use hwc_workspace_sim::{DEMO_DESKTOP_IDS, DEMO_PROJECT_ID, Simulator};

/// An environment of these variables only, with a home that holds nothing.
fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + Clone + 'static {
    let home = std::env::temp_dir().join("hwc-network-tests-empty-home");
    let mut map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    map.entry("HOME".to_owned()).or_insert_with(|| home.display().to_string());
    move |name: &str| map.get(name).cloned()
}

/// A client with no keys of its own: the chain ends at the simulator's metadata service.
fn metadata_client(sim: &Simulator) -> ClientBuilder {
    Client::builder()
        .environment(env(&[("HWC_METADATA_ENDPOINT", sim.endpoint())]))
        .endpoint(sim.endpoint())
        .project_id(DEMO_PROJECT_ID)
}

/// A client whose only source of keys is the metadata service at `endpoint`, and whose API
/// endpoint is never reached (the chain fails first).
fn keys_only_from_metadata(endpoint: &str) -> Client {
    Client::builder()
        .environment(env(&[("HWC_METADATA_ENDPOINT", endpoint)]))
        .endpoint("http://127.0.0.1:1")
        .project_id("p1")
        .build()
        .unwrap()
}

fn one_desktop(index: usize) -> DeleteSubResources {
    DeleteSubResources::new([DEMO_DESKTOP_IDS[index % DEMO_DESKTOP_IDS.len()]], "DESKTOP_SHARER")
}

/// A client of the simulator's keys and project whose endpoints come from the region.
fn region_client(sim: &Simulator, pairs: &[(&str, &str)]) -> Client {
    Client::builder()
        .credentials(sim.credentials().clone())
        .project_id(DEMO_PROJECT_ID)
        .environment(env(pairs))
        .region("cn-north-4")
        .build()
        .unwrap()
}

/// `calls` deletions at once, each of which must succeed.
async fn delete_concurrently(client: &Client, calls: usize) {
    let calls = (0..calls).map(|i| {
        let client = client.clone();
        async move { client.delete_desktop_sub_resources(&one_desktop(i)).await }
    });
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
}

/// A port where nothing listens.
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

fn config_error(error: Error) -> hwc_workspace::ConfigError {
    match error {
        Error::Configuration(e) => e,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[tokio::test]
async fn temporary_keys_from_the_metadata_service_sign_calls_and_are_kept() {
    let sim = Simulator::start().await.unwrap();
    let client = metadata_client(&sim).build().unwrap();
    assert_eq!(client.access_key(), None, "nothing is fetched before the first call");
    assert!(client.credentials_source().contains(sim.endpoint()), "{}", client.credentials_source());
    client.delete_desktop_sub_resources(&one_desktop(0)).await.unwrap();
    client.show_job("no-such-job").await.unwrap_err();
    let access_key = client.access_key().expect("known after the first call");
    assert!(access_key.starts_with("HPUATMP"), "{access_key}");
    assert_eq!(sim.metadata_keys_issued(), 1, "the keys are kept between calls");
    // A dry run signs with them too, token included.
    let signed = client.dry_run_delete_desktop_sub_resources(&one_desktop(1)).await.unwrap();
    assert!(signed.headers.iter().any(|(name, _)| name == "x-security-token"), "{:?}", signed.masked_headers());
}

#[tokio::test]
async fn keys_are_refreshed_before_they_expire_once_for_all_concurrent_calls() {
    // Keys of 2 s are refreshed after half their life.
    let sim = Simulator::builder().credentials_lifetime(Duration::from_secs(2)).start().await.unwrap();
    let client = metadata_client(&sim).build().unwrap();
    client.delete_desktop_sub_resources(&one_desktop(0)).await.unwrap();
    let first = client.access_key().unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    delete_concurrently(&client, 16).await;
    assert_eq!(sim.metadata_keys_issued(), 2, "16 calls due for a refresh made one");
    assert_ne!(client.access_key().unwrap(), first);
}

#[tokio::test]
async fn a_failed_refresh_keeps_valid_keys_and_expired_ones_are_an_error() {
    let sim = Simulator::builder().credentials_lifetime(Duration::from_secs(2)).start().await.unwrap();
    let client = metadata_client(&sim).build().unwrap();
    client.delete_desktop_sub_resources(&one_desktop(0)).await.unwrap();
    let first = client.access_key().unwrap();
    sim.set_agency(false);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    // Due for a refresh that fails: a warning, and the keys still valid are used.
    client.delete_desktop_sub_resources(&one_desktop(1)).await.unwrap();
    assert_eq!(client.access_key().unwrap(), first);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let error = config_error(client.delete_desktop_sub_resources(&one_desktop(2)).await.unwrap_err());
    assert_eq!(error.kind(), ConfigErrorKind::InstanceMetadata, "{error}");
    assert!(error.message().contains("Please configure Cloud Service Agency first"), "{error}");
    assert!(error.hints().iter().any(|h| h.to_string().contains("agency")), "{:?}", error.hints());
    sim.set_agency(true);
    client.delete_desktop_sub_resources(&one_desktop(3)).await.unwrap();
    assert_ne!(client.access_key().unwrap(), first);
}

#[tokio::test]
async fn the_gateway_refuses_temporary_keys_once_they_expired() {
    let sim = Simulator::builder().credentials_lifetime(Duration::from_secs(1)).start().await.unwrap();
    // The keys as any client would fetch them, then used as explicit credentials.
    let http = reqwest::Client::new();
    let token = http
        .put(format!("{}/meta-data/latest/api/token", sim.endpoint()))
        .header("X-Metadata-Token-Ttl-Seconds", "60")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let body: serde_json::Value = http
        .get(format!("{}/openstack/latest/securitykey", sim.endpoint()))
        .header("X-Metadata-Token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &body["credential"];
    let credentials = Credentials::new(key["access"].as_str().unwrap(), key["secret"].as_str().unwrap())
        .with_security_token(key["securitytoken"].as_str().unwrap());
    let client = sim.client_builder().credentials(credentials.clone()).build().unwrap();
    client.delete_desktop_sub_resources(&one_desktop(0)).await.unwrap();
    // Without the token, the temporary key is refused.
    let tokenless = Credentials::new(credentials.access_key(), credentials.expose_secret_key());
    let error = sim.client_builder().credentials(tokenless).build().unwrap().show_job("j").await.unwrap_err();
    assert!(matches!(&error, Error::Api(api) if api.kind() == ApiErrorKind::Authentication), "{error}");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let error = client.delete_desktop_sub_resources(&one_desktop(1)).await.unwrap_err();
    let Error::Api(api) = &error else { panic!("{error:?}") };
    assert_eq!((api.status(), api.error_code()), (401, Some("APIGW.0301")), "{error}");
    assert!(api.error_msg().unwrap_or_default().contains("expired"), "{error}");
}

#[tokio::test]
async fn off_cloud_the_chain_gives_up_fast_and_lists_what_it_tried() {
    // Nothing listens, and something that accepts and never answers: both fail in about 1 s.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    for endpoint in [format!("http://{}", closed_port()), format!("http://{}", silent.local_addr().unwrap())] {
        let client = keys_only_from_metadata(&endpoint);
        let started = Instant::now();
        let error = config_error(client.show_job("j").await.unwrap_err());
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        assert_eq!(error.kind(), ConfigErrorKind::MissingCredentials, "{error}");
        for tried in
            ["explicit credentials", "HUAWEICLOUD_SDK_AK", "credentials file", "no instance metadata service answered"]
        {
            assert!(error.message().contains(tried), "{tried} missing from: {error}");
        }
        assert!(error.message().contains(&endpoint), "{error}");
    }
}

/// A metadata service that knows no session tokens and answers the keys with a body of
/// `BODY_BYTES` (declared, or chunked without a length), written until the client hangs up.
async fn flooding_metadata_service(declared: bool) -> String {
    const BODY_BYTES: usize = 8 * 1024 * 1024;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                if head.starts_with(b"PUT") {
                    let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").await;
                    return;
                }
                let framing = if declared {
                    format!("Content-Length: {BODY_BYTES}")
                } else {
                    "Transfer-Encoding: chunked".to_owned()
                };
                let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{framing}\r\n\r\n");
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                for _ in 0..BODY_BYTES / chunk.len() {
                    let written = if declared {
                        stream.write_all(&chunk).await
                    } else {
                        let size = format!("{:x}\r\n", chunk.len());
                        match stream.write_all(size.as_bytes()).await {
                            Ok(()) => stream.write_all(&chunk).await.and(stream.write_all(b"\r\n").await),
                            Err(e) => Err(e),
                        }
                    };
                    if written.is_err() {
                        return;
                    }
                }
                let _ = stream.write_all(if declared { b"" } else { b"0\r\n\r\n" }).await;
            });
        }
    });
    endpoint
}

#[tokio::test]
async fn a_metadata_service_that_floods_its_answer_is_an_error_not_a_growing_buffer() {
    for declared in [true, false] {
        let endpoint = flooding_metadata_service(declared).await;
        let client = keys_only_from_metadata(&endpoint);
        // Bounded: the reading stops at the cap, well within the metadata timeouts.
        let error = tokio::time::timeout(Duration::from_secs(20), client.show_job("j")).await.unwrap().unwrap_err();
        let error = config_error(error);
        assert_eq!(error.kind(), ConfigErrorKind::InstanceMetadata, "{error}");
        assert!(error.message().contains("larger than 1048576 bytes"), "{error}");
        assert!(error.message().contains(&endpoint), "{error}");
    }
}

#[tokio::test]
async fn the_project_id_is_looked_up_through_iam_once() {
    let sim = Simulator::start().await.unwrap();
    let client = Client::builder()
        .environment(env(&[("HUAWEICLOUD_SDK_IAM_ENDPOINT", sim.endpoint())]))
        .credentials(sim.credentials().clone())
        .region(sim.region())
        .endpoint(sim.endpoint())
        .no_proxy()
        .build()
        .unwrap();
    assert_eq!(client.project_id(), None);
    delete_concurrently(&client, 8).await;
    assert_eq!(client.project_id().as_deref(), Some(DEMO_PROJECT_ID));
    assert_eq!(sim.iam_lookups(), 1, "8 concurrent first calls asked IAM once");
    // With keys from the metadata service too: the ECS case, nothing configured but a region.
    let ecs = Client::builder()
        .environment(env(&[
            ("HWC_METADATA_ENDPOINT", sim.endpoint()),
            ("HUAWEICLOUD_SDK_IAM_ENDPOINT", sim.endpoint()),
        ]))
        .region(sim.region())
        .endpoint(sim.endpoint())
        .build()
        .unwrap();
    let (access_key, project) = ecs.resolve().await.unwrap();
    assert!(access_key.starts_with("HPUATMP") && project == DEMO_PROJECT_ID, "{access_key} {project}");
    ecs.delete_desktop_sub_resources(&one_desktop(0)).await.unwrap();
}

#[tokio::test]
async fn a_lookup_that_finds_no_project_or_several_is_an_error_naming_them() {
    let project =
        |id: &str, name: &str| Project { id: id.to_owned(), name: name.to_owned(), domain_id: None, enabled: true };
    let cases = [
        (vec![project("p-other", "cn-east-3")], vec!["no project named \"cn-north-4\"".to_owned()]),
        (
            vec![project("p-first", "cn-north-4"), project("p-second", "cn-north-4")],
            vec!["p-first".to_owned(), "p-second".to_owned(), "several".to_owned()],
        ),
    ];
    for (projects, expected) in cases {
        let sim = Simulator::builder().iam_projects(projects).start().await.unwrap();
        let client = Client::builder()
            .credentials(sim.credentials().clone())
            .environment(env(&[]))
            .iam_endpoint(sim.endpoint())
            .region("cn-north-4")
            .endpoint(sim.endpoint())
            .build()
            .unwrap();
        let error = config_error(client.delete_desktop_sub_resources(&one_desktop(0)).await.unwrap_err());
        assert_eq!(error.kind(), ConfigErrorKind::MissingProjectId, "{error}");
        for word in expected.iter().map(String::as_str).chain(["X-IAM-Trace-Id", "/v3/projects"]) {
            assert!(error.message().contains(word), "{word} missing from: {error}");
        }
        assert!(error.hints().iter().any(|h| h.to_string().contains("HUAWEICLOUD_SDK_PROJECT_ID")), "{error}");
        assert_eq!(sim.jobs().len(), 0, "nothing reached Workspace");
    }
}

#[tokio::test]
async fn an_unsigned_or_wrongly_signed_lookup_is_refused() {
    let sim = Simulator::start().await.unwrap();
    let client = Client::builder()
        .credentials(Credentials::new(sim.access_key(), "not-the-secret"))
        .environment(env(&[]))
        .iam_endpoint(sim.endpoint())
        .region("cn-north-4")
        .endpoint(sim.endpoint())
        .build()
        .unwrap();
    let error = config_error(client.show_job("j").await.unwrap_err());
    assert!(error.message().contains("401") && error.message().contains("APIGW.0301"), "{error}");
    assert!(!error.message().contains("not-the-secret"), "{error}");
}

/// The name tests call through the proxy: not loopback, and never resolved by the client.
const PROXIED_HOST: &str = "workspace.proxied.test";

fn through_proxy(sim: &Simulator, pairs: &[(&str, &str)]) -> ClientBuilder {
    let endpoint = format!("http://{PROXIED_HOST}:{}", sim.local_addr().port());
    Client::builder()
        .credentials(sim.credentials().clone())
        .project_id(DEMO_PROJECT_ID)
        .environment(env(pairs))
        .endpoint(endpoint)
        .timeout(Duration::from_secs(5))
}

#[tokio::test]
async fn proxies_from_the_environment_are_used_except_for_no_proxy_and_loopback() {
    let sim = Simulator::start().await.unwrap();
    for variable in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        let proxy = ForwardProxy::routing_to(sim.local_addr(), None).await.unwrap();
        let client = through_proxy(&sim, &[(variable, &proxy.url())]).build().unwrap();
        client.delete_desktop_sub_resources(&one_desktop(0)).await.unwrap();
        let seen = proxy.requests();
        assert_eq!(seen.len(), 1, "{variable}: {seen:?}");
        assert_eq!(seen[0].method, "POST");
        assert!(seen[0].target.starts_with(&format!("http://{PROXIED_HOST}:")), "{seen:?}");
    }
    // NO_PROXY: the client goes direct, and the name does not resolve.
    let proxy = ForwardProxy::routing_to(sim.local_addr(), None).await.unwrap();
    for no_proxy in [PROXIED_HOST, ".proxied.test", "proxied.test", "*"] {
        let client =
            through_proxy(&sim, &[("HTTP_PROXY", &proxy.url()), ("NO_PROXY", &format!("other.example, {no_proxy}"))])
                .build()
                .unwrap();
        let error = client.show_job("j").await.unwrap_err();
        assert!(matches!(&error, Error::Transport(t) if t.kind() == TransportErrorKind::Connect), "{error}");
    }
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
    // Loopback destinations never take the environment's proxy (the simulator's own clients).
    for host in ["127.0.0.1", "localhost"] {
        let endpoint = format!("http://{host}:{}", sim.local_addr().port());
        let client = through_proxy(&sim, &[("HTTP_PROXY", &proxy.url()), ("ALL_PROXY", &proxy.url())])
            .endpoint(endpoint)
            .build()
            .unwrap();
        client.show_job("no-such-job").await.unwrap_err();
    }
    let simulated = sim.client_builder().environment(env(&[("HTTP_PROXY", &proxy.url())])).build().unwrap();
    simulated.delete_desktop_sub_resources(&one_desktop(1)).await.unwrap();
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
    // HTTPS_PROXY is for https destinations: it tunnels with CONNECT (the simulator speaks
    // plain http, so the handshake through the tunnel then fails, as it should).
    let https = format!("https://{PROXIED_HOST}:{}", sim.local_addr().port());
    let client = through_proxy(&sim, &[("HTTPS_PROXY", &proxy.url())]).endpoint(https).build().unwrap();
    let error = client.show_job("j").await.unwrap_err();
    assert!(matches!(&error, Error::Transport(_)), "{error}");
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (seen[0].method.as_str(), seen[0].target.clone()),
        ("CONNECT", format!("{PROXIED_HOST}:{}", sim.local_addr().port()))
    );
}

#[tokio::test]
async fn an_explicit_proxy_is_always_used_and_its_password_never_shown() {
    let sim = Simulator::start().await.unwrap();
    let proxy = ForwardProxy::routing_to(sim.local_addr(), Some(("alice", "s3cret-pass"))).await.unwrap();
    let with_password = format!("http://alice:s3cret-pass@{}", proxy.local_addr());
    // Explicit wins over the environment, and over loopback and NO_PROXY.
    let client = sim
        .client_builder()
        .environment(env(&[("HTTP_PROXY", "http://127.0.0.1:1"), ("NO_PROXY", "*")]))
        .proxy(&with_password)
        .build()
        .unwrap();
    client.delete_desktop_sub_resources(&one_desktop(0)).await.unwrap();
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].authorized, "{seen:?}");
    assert!(!format!("{client:?}").contains("s3cret"), "{client:?}");
    // A wrong password: the proxy's 407 is the answer, and nothing shows the password.
    let wrong = format!("http://alice:wr0ng-pass@{}", proxy.local_addr());
    let client = through_proxy(&sim, &[]).proxy(&wrong).build().unwrap();
    let error = client.delete_desktop_sub_resources(&one_desktop(1)).await.unwrap_err();
    assert_eq!(error.status(), Some(407), "{error}");
    let signed = client.dry_run_delete_desktop_sub_resources(&one_desktop(1)).await.unwrap();
    for shown in [
        error.message_with_causes(),
        format!("{error:?}"),
        format!("{signed:?}"),
        format!("{:?}", signed.masked_headers()),
    ] {
        assert!(!shown.contains("wr0ng-pass") && !shown.contains("s3cret"), "{shown}");
    }
    // A proxy that is down is a connection error naming the endpoint, not the proxy's password.
    let down = format!("http://alice:s3cret-pass@{}", closed_port());
    let client = through_proxy(&sim, &[]).proxy(&down).build().unwrap();
    let error = client.show_job("j").await.unwrap_err();
    assert!(matches!(&error, Error::Transport(t) if t.kind() == TransportErrorKind::Connect), "{error}");
    assert!(!error.message_with_causes().contains("s3cret") && !format!("{error:?}").contains("s3cret"), "{error:?}");
}

#[tokio::test]
async fn a_region_fails_over_to_its_next_endpoint_only_when_nothing_was_sent() {
    let sim = Simulator::start().await.unwrap();
    let closed = format!("http://{}", closed_port());
    // A plain-http server spoken to with TLS: the handshake fails, nothing was sent.
    let tls_to_plain = format!("https://127.0.0.1:{}", sim.local_addr().port());
    let variable = hwc_workspace::regions::override_variable("cn-north-4");
    let endpoints = format!("{closed}, {tls_to_plain}, {}", sim.endpoint());
    let client = region_client(&sim, &[(&variable, &endpoints)]);
    assert_eq!(client.endpoints().len(), 3);
    client.delete_desktop_sub_resources(&one_desktop(0)).await.unwrap();
    let requests = sim.request_count();
    // The next call starts at the endpoint that answered.
    client.delete_desktop_sub_resources(&one_desktop(1)).await.unwrap();
    assert_eq!(sim.request_count(), requests + 1);

    // Every endpoint down: the error names them.
    let client = region_client(&sim, &[(&variable, &format!("{closed}, http://{}", closed_port()))]);
    let error = client.show_job("j").await.unwrap_err();
    assert!(matches!(&error, Error::Transport(t) if t.kind() == TransportErrorKind::Connect), "{error}");
    assert!(error.to_string().contains(&closed), "{error}");

    // A request that went out and broke is never sent to the next endpoint.
    let broken = Simulator::builder()
        .faults(hwc_workspace_sim::Faults::none().with_random(hwc_workspace_sim::FaultKind::ResetAfterRequest, 1.0))
        .start()
        .await
        .unwrap();
    let client = region_client(&sim, &[(&variable, &format!("{}, {}", broken.endpoint(), sim.endpoint()))]);
    let before = sim.request_count();
    let error = client.delete_desktop_sub_resources(&one_desktop(2)).await.unwrap_err();
    assert!(matches!(&error, Error::Transport(t) if t.kind() == TransportErrorKind::Broken), "{error}");
    assert_eq!(broken.request_count(), 1);
    assert_eq!(sim.request_count(), before, "the second endpoint saw nothing");
}

#[tokio::test]
async fn loopback_is_never_proxied_in_any_spelling() {
    let sim = Simulator::start().await.unwrap();
    let proxy = ForwardProxy::routing_to(sim.local_addr(), None).await.unwrap();
    let port = sim.local_addr().port();
    let proxies = [("HTTP_PROXY", proxy.url()), ("http_proxy", proxy.url()), ("ALL_PROXY", proxy.url())];
    let pairs: Vec<(&str, &str)> = proxies.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The simulator listens on 127.0.0.1: the names and the mapped addresses reach it directly
    // (the loopback names without asking a DNS server); the other addresses of 127.0.0.0/8 and
    // ::1 are refused, directly. Either way the proxy sees nothing.
    for (host, reaches) in [
        ("localhost", true),
        ("LOCALHOST", true),
        ("localhost.", true),
        ("LocalHost.", true),
        ("desktops.localhost", true),
        ("127.0.0.1", true),
        ("[::ffff:127.0.0.1]", true),
        ("[::ffff:7f00:1]", true),
        ("[::FFFF:127.0.0.1]", true),
        ("127.1.2.3", false),
        ("[::ffff:127.1.2.3]", false),
        ("[::1]", false),
        ("[0:0:0:0:0:0:0:1]", false),
    ] {
        let endpoint = format!("http://{host}:{port}");
        let client =
            through_proxy(&sim, &pairs).endpoint(&endpoint).connect_timeout(Duration::from_secs(2)).build().unwrap();
        let result = client.show_job("no-such-job").await;
        match (&result, reaches) {
            // The simulator answered: it knows no such job.
            (Err(Error::Api(api)), true) => assert_eq!(api.status(), 404, "{host}: {api}"),
            (Err(Error::Transport(t)), false) => assert_eq!(t.kind(), TransportErrorKind::Connect, "{host}: {t}"),
            other => panic!("{host}: {other:?}"),
        }
        assert!(proxy.requests().is_empty(), "{host} went through the proxy: {:?}", proxy.requests());
    }
    // The control: a name that is not loopback takes the proxy (and `localhost.localdomain`
    // is such a name: loopback only where a hosts file says so; NO_PROXY lists it there).
    client_via(&sim, &pairs, PROXIED_HOST).await;
    assert_eq!(proxy.requests().len(), 1, "{:?}", proxy.requests());
    client_via(&sim, &pairs, "localhost.localdomain").await;
    assert_eq!(proxy.requests().len(), 2, "{:?}", proxy.requests());
}

/// One call to `host` (at the simulator's port) with the proxies of `pairs`, which succeeds
/// through the proxy.
async fn client_via(sim: &Simulator, pairs: &[(&str, &str)], host: &str) {
    let endpoint = format!("http://{host}:{}", sim.local_addr().port());
    let client = through_proxy(sim, pairs).endpoint(endpoint).build().unwrap();
    client.delete_desktop_sub_resources(&one_desktop(2)).await.unwrap();
}
