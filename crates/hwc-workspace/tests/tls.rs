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
