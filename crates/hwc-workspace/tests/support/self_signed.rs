//! A one-purpose HTTPS server for TLS tests: a self-signed certificate for 127.0.0.1 and an
//! accept loop that answers every request with the documented 200 body. Shared by the core's
//! and the command line's TLS tests (the CLI includes this file with `#[path]`).

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, rustls};

/// The job id and request id every answer carries.
pub(crate) const JOB_ID: &str = "tls-job";
pub(crate) const REQUEST_ID: &str = "tls-req";

/// A fresh self-signed certificate for 127.0.0.1 and localhost: the acceptor that serves it,
/// and the certificate in PEM (what a client must trust).
pub(crate) fn certificate() -> (TlsAcceptor, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()))
        .unwrap();
    (TlsAcceptor::from(Arc::new(config)), cert.pem())
}

/// Serves `listener` until the runtime ends.
pub(crate) async fn serve(listener: TcpListener, acceptor: TlsAcceptor) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(answer(acceptor.clone(), stream));
    }
}

/// Reads one request (head and the body its Content-Length announces) and answers 200.
async fn answer(acceptor: TlsAcceptor, stream: TcpStream) {
    // A client that refuses the certificate ends the handshake here.
    let Ok(mut tls) = acceptor.accept(stream).await else { return };
    let mut buffer = vec![0u8; 64 * 1024];
    let mut read = 0;
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
    let body = format!(r#"{{"job_id":"{JOB_ID}"}}"#);
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: {REQUEST_ID}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tls.write_all(response.as_bytes()).await;
    let _ = tls.shutdown().await;
}
