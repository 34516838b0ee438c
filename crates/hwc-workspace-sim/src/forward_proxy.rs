//! A small forward proxy on loopback, for trying proxy settings offline: plain-http requests
//! in absolute form are forwarded (one per connection, so each is seen), `CONNECT` opens a
//! tunnel, and a proxy started with a user and password answers `407` to any request without
//! its `Proxy-Authorization`. It records what it saw, never the credentials' value.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The longest request head the proxy reads.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// One request the proxy saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxiedRequest {
    /// `CONNECT`, or the forwarded request's method.
    pub method: String,
    /// The request target: `host:port` for `CONNECT`, the absolute URL otherwise.
    pub target: String,
    /// Whether it carried the right `Proxy-Authorization` (always true without credentials).
    pub authorized: bool,
}

/// A running forward proxy; stops when dropped.
#[derive(Debug)]
pub struct ForwardProxy {
    address: SocketAddr,
    seen: Arc<Mutex<Vec<ProxiedRequest>>>,
    task: JoinHandle<()>,
}

impl ForwardProxy {
    /// Starts a proxy that asks for no credentials and connects to the hosts requests name.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(None, None).await
    }

    /// Starts a proxy that sends every request to `upstream`, whatever host it names: tests
    /// then call a name that is not loopback (so that proxy rules apply) and that nothing
    /// needs to resolve. With `credentials` (`user`, `password`), it asks for them.
    pub async fn routing_to(upstream: SocketAddr, credentials: Option<(&str, &str)>) -> std::io::Result<Self> {
        Self::start_with(credentials.map(|(user, password)| format!("{user}:{password}")), Some(upstream)).await
    }

    async fn start_with(credentials: Option<String>, upstream: Option<SocketAddr>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let expected = credentials
            .map(|c| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(c)))
            .map(Arc::<str>::from);
        let recorder = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (seen, expected) = (Arc::clone(&recorder), expected.clone());
                tokio::spawn(async move {
                    let _ = relay(client, &seen, expected.as_deref(), upstream).await;
                });
            }
        });
        Ok(Self { address, seen, task })
    }

    /// The proxy's URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// What it saw so far, in order.
    pub fn requests(&self) -> Vec<ProxiedRequest> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Drop for ForwardProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request head, then forwards or tunnels the connection.
async fn relay(
    mut client: TcpStream,
    seen: &Mutex<Vec<ProxiedRequest>>,
    expected: Option<&str>,
    upstream: Option<SocketAddr>,
) -> std::io::Result<()> {
    let connect = |named: String| async move {
        match upstream {
            Some(address) => TcpStream::connect(address).await,
            None => TcpStream::connect(named.as_str()).await,
        }
    };
    let mut buffer = Vec::with_capacity(4096);
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let read = client.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return client
                .write_all(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    if !matches!(request.parse(&buffer[..head_end]), Ok(httparse::Status::Complete(_))) {
        return client.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
    }
    let method = request.method.unwrap_or_default().to_owned();
    let target = request.path.unwrap_or_default().to_owned();
    let authorization = request
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("proxy-authorization"))
        .map(|h| String::from_utf8_lossy(h.value).trim().to_owned());
    let authorized = expected.is_none_or(|expected| authorization.as_deref() == Some(expected));
    seen.lock().unwrap_or_else(PoisonError::into_inner).push(ProxiedRequest {
        method: method.clone(),
        target: target.clone(),
        authorized,
    });
    if !authorized {
        return client
            .write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm=\"test\"\r\n\
                  content-length: 0\r\nconnection: close\r\n\r\n",
            )
            .await;
    }
    if method == "CONNECT" {
        let Ok(mut upstream) = connect(target.clone()).await else {
            return client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n").await;
        };
        client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n").await?;
        // Bytes the client sent after the head (a TLS hello that raced the answer) go first.
        upstream.write_all(&buffer[head_end..]).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
        return Ok(());
    }
    // Absolute form: `http://host:port/path?query`.
    let Some(rest) = target.strip_prefix("http://") else {
        return client.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
    };
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    let connect_to = if authority.contains(':') { authority.to_owned() } else { format!("{authority}:80") };
    let Ok(mut upstream) = connect(connect_to).await else {
        return client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n").await;
    };
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for header in request.headers.iter() {
        let name = header.name.to_ascii_lowercase();
        if matches!(name.as_str(), "proxy-authorization" | "proxy-connection" | "connection" | "keep-alive") {
            continue;
        }
        head.push_str(header.name);
        head.push_str(": ");
        head.push_str(&String::from_utf8_lossy(header.value));
        head.push_str("\r\n");
    }
    // One request per connection, so that the proxy sees every request.
    head.push_str("connection: close\r\n\r\n");
    upstream.write_all(head.as_bytes()).await?;
    upstream.write_all(&buffer[head_end..]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}
