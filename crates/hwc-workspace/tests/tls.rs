//! TLS: certificates are verified by default, a self-signed loopback server is refused with a
//! TLS error, and the same server is trusted once its CA certificate is given.

use std::sync::Arc;

use hwc_workspace::{Client, Credentials, DeleteSubResources, Error, RetryPolicy, TransportErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

/// A one-purpose HTTPS server on loopback with a self-signed certificate for 127.0.0.1:
/// every request is answered with the documented 200 body. Returns its endpoint and the
/// certificate in PEM.
async fn self_signed_server() -> (String, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let pem = cert.pem();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else { return };
                let mut buffer = vec![0u8; 64 * 1024];
                let mut read = 0;
                // Read the head and the body the Content-Length announces, then answer.
                loop {
                    let Ok(n) = tls.read(&mut buffer[read..]).await else { return };
                    if n == 0 {
                        return;
                    }
                    read += n;
                    let text = String::from_utf8_lossy(&buffer[..read]).to_ascii_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                            .unwrap_or(0);
                        if read >= end + 4 + length {
                            break;
                        }
                    }
                }
                let body = r#"{"job_id":"tls-job"}"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: tls-req\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
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
    assert_eq!(deleted.job_id, "tls-job");
    assert_eq!(deleted.request_id.as_deref(), Some("tls-req"));
}

#[test]
fn a_bad_ca_certificate_is_a_configuration_error() {
    let error = builder("https://127.0.0.1:9").ca_certificate_pem(b"not a certificate".to_vec()).build().unwrap_err();
    assert!(matches!(&error, Error::Configuration(c) if c.kind() == hwc_workspace::ConfigErrorKind::CaCertificate), "{error:?}");
    let error = builder("https://127.0.0.1:9").ca_certificate_file("/nonexistent/ca.pem").map(|_| ()).unwrap_err();
    assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
}
