//! TLS: certificates are verified by default, a self-signed loopback server is refused with a
//! TLS error, and the same server is trusted once its CA certificate is given.

mod support {
    pub(crate) mod self_signed;
}

use hwc_workspace::{Client, Credentials, DeleteSubResources, Error, RetryPolicy, TransportErrorKind};
use support::self_signed;

/// The shared self-signed server on loopback, served on this test's runtime: its endpoint
/// and its certificate in PEM.
async fn self_signed_server() -> (String, String) {
    let (acceptor, pem) = self_signed::certificate();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(self_signed::serve(listener, acceptor));
    (endpoint, pem)
}

fn builder(endpoint: &str) -> hwc_workspace::ClientBuilder {
    Client::builder()
        .credentials(Credentials::new("AK-TLS", "SK-TLS"))
        .project_id("p-tls")
        .endpoint(endpoint)
        .environment(|_: &str| None)
        .retry_policy(RetryPolicy::none())
}

fn request() -> DeleteSubResources {
    DeleteSubResources::new(["d-1"], "DESKTOP_SHARER")
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error() {
    let (endpoint, _) = self_signed_server().await;
    let error = builder(&endpoint).build().unwrap().delete_desktop_sub_resources(&request()).await.unwrap_err();
    let Error::Transport(transport) = &error else { panic!("expected a transport error, got {error:?}") };
    assert_eq!(transport.kind(), TransportErrorKind::Tls, "{error}");
    assert!(error.to_string().contains("TLS"), "{error}");
}

#[tokio::test]
async fn the_same_server_is_trusted_with_its_ca_certificate() {
    let (endpoint, pem) = self_signed_server().await;
    let client = builder(&endpoint).ca_certificate_pem(pem).build().unwrap();
    let deleted = client.delete_desktop_sub_resources(&request()).await.unwrap();
    assert_eq!(deleted.job_id, self_signed::JOB_ID);
    assert_eq!(deleted.request_id.as_deref(), Some(self_signed::REQUEST_ID));
}

/// Issue 22 item 6: a CA file that starts with a UTF-8 BOM (as Windows editors save it) is
/// read as the same certificate.
#[tokio::test]
async fn a_ca_certificate_file_with_a_bom_is_trusted() {
    let (endpoint, pem) = self_signed_server().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, format!("\u{feff}{pem}")).unwrap();
    let client = builder(&endpoint).ca_certificate_file(&path).unwrap().build().unwrap();
    let deleted = client.delete_desktop_sub_resources(&request()).await.unwrap();
    assert_eq!(deleted.job_id, self_signed::JOB_ID);
}

#[test]
fn a_bad_ca_certificate_is_a_configuration_error() {
    let error = builder("https://127.0.0.1:9").ca_certificate_pem(b"not a certificate".to_vec()).build().unwrap_err();
    assert!(
        matches!(&error, Error::Configuration(c) if c.kind() == hwc_workspace::ConfigErrorKind::CaCertificate),
        "{error:?}"
    );
    let error = builder("https://127.0.0.1:9").ca_certificate_file("/nonexistent/ca.pem").map(|_| ()).unwrap_err();
    assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
}

/// A `CONNECT`-only proxy on loopback: the tunnel targets it opened, in order.
async fn tunnelling_proxy() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let targets = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&targets);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let seen = std::sync::Arc::clone(&seen);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && client.read_exact(&mut byte).await.is_ok() {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let target = head.strip_prefix("CONNECT ").and_then(|rest| rest.split(' ').next()).unwrap_or("");
                seen.lock().unwrap().push(target.to_owned());
                let Ok(mut server) = tokio::net::TcpStream::connect(target).await else { return };
                let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    (url, targets)
}

#[tokio::test]
async fn an_https_endpoint_is_reached_through_a_proxy_tunnel_and_verified_at_the_end() {
    let (endpoint, pem) = self_signed_server().await;
    let (proxy, targets) = tunnelling_proxy().await;
    let authority = endpoint.strip_prefix("https://").unwrap().to_owned();
    let client = builder(&endpoint).proxy(&proxy).ca_certificate_pem(pem).build().unwrap();
    let deleted = client.delete_desktop_sub_resources(&request()).await.unwrap();
    assert_eq!(deleted.job_id, self_signed::JOB_ID);
    assert_eq!(*targets.lock().unwrap(), std::slice::from_ref(&authority));
    // The certificate is checked through the tunnel as it is without one.
    let untrusting = builder(&endpoint).proxy(&proxy).build().unwrap();
    let error = untrusting.delete_desktop_sub_resources(&request()).await.unwrap_err();
    assert!(matches!(&error, Error::Transport(t) if t.kind() == TransportErrorKind::Tls), "{error:?}");
    assert_eq!(targets.lock().unwrap().len(), 2);
}
