//! The transport under the generated client's `exec` hook: a pooled hyper-util client over
//! hyper-rustls, with the proxy rules of [`crate::network`]. reqwest's types remain only
//! where progenitor's generated code needs them (the request it builds, the response it
//! decodes); between those two points nothing of reqwest runs.
//!
//! What reqwest did for us and this module now does: the connect timeout (TCP, a proxy's
//! tunnel and TLS together), the timeout of a whole attempt (from sending to the last byte
//! of the answer), the `User-Agent`, proxies (a tunnel through `CONNECT` for https
//! destinations, absolute-form requests with `Proxy-Authorization` for http ones), no
//! redirects followed (hyper follows none), and bodies read bounded.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, PROXY_AUTHORIZATION, USER_AGENT};
use http::{Response, Uri};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tower_service::Service;

use crate::error::{ConfigError, ConfigErrorKind, Error, Failure, TransportErrorKind};
use rustls::pki_types::CertificateDer;

type BoxError = Box<dyn StdError + Send + Sync>;
type Connecting<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// How long an idle pooled connection is kept (reqwest's default, which we had before).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// What a transport is built from.
pub(crate) struct Settings {
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) user_agent: HeaderValue,
    pub(crate) tls: rustls::ClientConfig,
    pub(crate) proxies: crate::network::Proxies,
    /// Whether idle connections are kept for the next call.
    pub(crate) pooled: bool,
    /// Whether `tls` trusts CA certificates given to the client besides the system's.
    pub(crate) ca_given: bool,
}

/// The pooled HTTP/1.1 client of a [`crate::Client`] (clones share the pool).
#[derive(Clone)]
pub(crate) struct Transport {
    client: hyper_util::client::legacy::Client<Connector, reqwest::Body>,
    proxies: Arc<Matcher>,
    /// Whether any http destination goes through a proxy (then the request needs its
    /// absolute form and the proxy's credentials); checked first so that the usual direct
    /// call does not run the matcher.
    forwards_http: bool,
    timeout: Duration,
    user_agent: HeaderValue,
    ca_given: bool,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The matcher's Debug shows proxy URLs without their credentials.
        f.debug_struct("Transport").field("proxies", &self.proxies).field("timeout", &self.timeout).finish()
    }
}

/// An answer, its body read whole within the caps of [`crate::limits`].
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) response: Response<Bytes>,
    /// A success body larger than [`crate::limits::MAX_RESPONSE_BODY_BYTES`]: not read (the
    /// connection is closed), and the body is empty.
    pub(crate) oversized: bool,
}

/// Resolves names as the system does, except loopback names (`localhost`, `localhost.` and
/// their subdomains, RFC 6761), which are loopback without asking anyone: a name the proxy rules
/// send direct as loopback must reach loopback, whatever a DNS server would answer for it (and
/// `localhost.` is in no hosts file).
#[derive(Clone)]
struct Resolver {
    system: hyper_util::client::legacy::connect::dns::GaiResolver,
}

impl Service<Name> for Resolver {
    type Response = std::vec::IntoIter<std::net::SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.system.poll_ready(cx)
    }

    fn call(&mut self, name: Name) -> Self::Future {
        if crate::network::is_loopback_name(name.as_str()) {
            let addresses = vec![
                std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0)),
                std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0)),
            ];
            return Box::pin(std::future::ready(Ok(addresses.into_iter())));
        }
        let resolving = self.system.call(name);
        Box::pin(async move { Ok(resolving.await?.collect::<Vec<_>>().into_iter()) })
    }
}

impl Transport {
    pub(crate) fn new(settings: Settings) -> Self {
        let mut tcp = HttpConnector::new_with_resolver(Resolver {
            system: hyper_util::client::legacy::connect::dns::GaiResolver::new(),
        });
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        // `enable_http1` sets the ALPN protocols to `http/1.1` alone.
        let tls = Arc::new(settings.tls);
        let forwards_http = settings.proxies.forwards_http;
        let proxies = Arc::new(settings.proxies.matcher);
        let to_proxy = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(Arc::unwrap_or_clone(Arc::clone(&tls)))
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp.clone());
        let routed = Routed { tcp, to_proxy, proxies: Arc::clone(&proxies) };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(Arc::unwrap_or_clone(tls))
            .https_or_http()
            .enable_http1()
            .wrap_connector(routed);
        let connector = Connector { https, timeout: settings.connect_timeout };
        let mut builder = hyper_util::client::legacy::Client::builder(TokioExecutor::new());
        builder.pool_timer(TokioTimer::new()).pool_idle_timeout(POOL_IDLE_TIMEOUT);
        if !settings.pooled {
            builder.pool_max_idle_per_host(0);
        }
        Self {
            client: builder.build(connector),
            proxies,
            forwards_http,
            timeout: settings.timeout,
            user_agent: settings.user_agent,
            ca_given: settings.ca_given,
        }
    }

    /// Sends one request and reads its answer, all within the timeout of an attempt.
    pub(crate) async fn send(&self, request: reqwest::Request) -> Result<Answer, Failure> {
        let url = request.url().clone();
        let mut request = http::Request::<reqwest::Body>::try_from(request).map_err(|e| Failure::new(e, false))?;
        let headers = request.headers_mut();
        if !headers.contains_key(USER_AGENT) {
            headers.insert(USER_AGENT, self.user_agent.clone());
        }
        if self.forwards_http
            && request.uri().scheme() == Some(&http::uri::Scheme::HTTP)
            && let Some(proxy) = self.proxies.intercept(request.uri())
            && let Some(auth) = proxy.basic_auth()
        {
            request.headers_mut().insert(PROXY_AUTHORIZATION, auth.clone());
        }
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                let connect = e.is_connect();
                Failure::new(e, connect)
            })?;
            read(response).await
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok(mut answer)) => {
                answer.response.extensions_mut().extend(response_url(url));
                Ok(answer)
            }
            Ok(Err(failure)) => Err(Failure { ca_given: self.ca_given, ..failure }),
            Err(_) => Err(Failure {
                kind: TransportErrorKind::Timeout,
                before_sending: false,
                ca_given: self.ca_given,
                source: format!("no complete answer within the timeout of {:?}", self.timeout).into(),
            }),
        }
    }
}

/// The extension by which a `reqwest::Response` made from an `http` one knows its URL (the
/// request's, as for a response of reqwest's own client); without it, reqwest parses a
/// placeholder URL for every response.
fn response_url(url: reqwest::Url) -> http::Extensions {
    use reqwest::ResponseBuilderExt as _;
    http::Response::builder().url(url).body(()).map(|carrier| carrier.into_parts().0.extensions).unwrap_or_default()
}

/// Reads the body: a success body up to [`crate::limits::MAX_RESPONSE_BODY_BYTES`] (one that
/// breaks off is a failure; a larger one is not read), any other up to
/// [`crate::limits::MAX_ERROR_BODY_BYTES`], keeping what arrived if it breaks off.
async fn read(response: Response<Incoming>) -> Result<Answer, Failure> {
    let (head, body) = response.into_parts();
    if !head.status.is_success() {
        let body = read_bounded(body, crate::limits::MAX_ERROR_BODY_BYTES).await;
        return Ok(Answer { response: Response::from_parts(head, body), oversized: false });
    }
    let limit = crate::limits::MAX_RESPONSE_BODY_BYTES;
    let declared = head.headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Ok(Answer { response: Response::from_parts(head, Bytes::new()), oversized: true });
    }
    // `collect` keeps a body that arrives in one frame (the usual case) without a copy.
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(Answer { response: Response::from_parts(head, collected.to_bytes()), oversized: false }),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Ok(Answer { response: Response::from_parts(head, Bytes::new()), oversized: true })
        }
        Err(e) => Err(Failure::new(e, false)),
    }
}

async fn read_bounded(mut body: Incoming, limit: usize) -> Bytes {
    let mut read = BytesMut::new();
    while let Some(Ok(frame)) = body.frame().await {
        let Ok(chunk) = frame.into_data() else { continue };
        let room = limit - read.len();
        if chunk.len() >= room {
            read.extend_from_slice(&chunk[..room]);
            break;
        }
        read.extend_from_slice(&chunk);
    }
    read.freeze()
}

/// The whole connection setup (TCP, a proxy's tunnel, TLS) within the connect timeout.
#[derive(Clone)]
struct Connector {
    https: HttpsConnector<Routed>,
    timeout: Duration,
}

impl Service<Uri> for Connector {
    type Response = MaybeHttpsStream<RoutedStream>;
    type Error = BoxError;
    type Future = Connecting<Self::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.https.poll_ready(cx)
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        let connecting = self.https.call(destination);
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(connected) => connected,
                Err(_) => Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no connection within the connect timeout of {timeout:?}"),
                )) as BoxError),
            }
        })
    }
}

/// The stream under TLS to the destination: straight to it, to the proxy that forwards http
/// requests, or through a proxy's `CONNECT` tunnel.
#[derive(Clone)]
struct Routed {
    tcp: HttpConnector<Resolver>,
    /// To a proxy: TCP, and TLS when the proxy's URL is https.
    to_proxy: HttpsConnector<HttpConnector<Resolver>>,
    proxies: Arc<Matcher>,
}

impl Service<Uri> for Routed {
    type Response = RoutedStream;
    type Error = BoxError;
    type Future = Connecting<Self::Response>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        let Some(proxy) = self.proxies.intercept(&destination) else {
            let connecting = self.tcp.call(destination);
            return Box::pin(async move {
                let stream = connecting.await?;
                Ok(RoutedStream { stream: MaybeHttpsStream::Http(stream), forwarding: false })
            });
        };
        if destination.scheme() == Some(&http::uri::Scheme::HTTPS) {
            let mut tunnel = Tunnel::new(proxy.uri().clone(), self.to_proxy.clone());
            if let Some(auth) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            Box::pin(async move {
                let stream = tunnel.call(destination).await?;
                Ok(RoutedStream { stream, forwarding: false })
            })
        } else {
            let connecting = self.to_proxy.call(proxy.uri().clone());
            Box::pin(async move { Ok(RoutedStream { stream: connecting.await?, forwarding: true }) })
        }
    }
}

/// A connection as [`Routed`] made it; `forwarding` tells hyper to send absolute-form
/// requests (to a proxy that forwards them).
struct RoutedStream {
    stream: MaybeHttpsStream<TokioIo<TcpStream>>,
    forwarding: bool,
}

impl Connection for RoutedStream {
    fn connected(&self) -> Connected {
        self.stream.connected().proxy(self.forwarding)
    }
}

impl hyper::rt::Read for RoutedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for RoutedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }
}

// TLS setup lives with the transport that uses it: the builder and the metadata client both
// ask for it here, so the metadata client needs nothing of the builder.

/// reqwest is built without a default crypto provider (we chose ring); without one installed,
/// building any HTTP client panics. Another library may have installed its own already,
/// which is fine.
pub(crate) fn ensure_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The TLS settings of a client: the system's roots and the extra ones, or, for a client
/// that never makes a TLS handshake, the extra ones alone (reading the system's roots is
/// most of a one-call CLI run).
pub(crate) fn tls_config(
    extra_roots: Vec<CertificateDer<'static>>,
    plain_http: bool,
) -> Result<rustls::ClientConfig, Error> {
    let failed = |e: rustls::Error| {
        Error::from(ConfigError::new(ConfigErrorKind::HttpClient, format!("cannot set up TLS: {e}")))
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(failed)?;
    let config = if plain_http {
        let mut roots = rustls::RootCertStore::empty();
        for root in extra_roots {
            roots.add(root).map_err(failed)?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        let verifier =
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider).map_err(failed)?;
        builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth()
    };
    Ok(config)
}

/// Every certificate of a PEM text; none at all is an error, not a silent no-op.
pub(crate) fn parse_ca_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    use rustls::pki_types::pem::PemObject;
    let invalid = |why: String| {
        Error::from(
            ConfigError::new(ConfigErrorKind::CaCertificate, format!("the CA certificate is not valid: {why}"))
                .hint("expected a PEM file with at least one `-----BEGIN CERTIFICATE-----` block"),
        )
    };
    let ders =
        CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>().map_err(|e| invalid(e.to_string()))?;
    if ders.is_empty() {
        return Err(invalid("it holds no PEM certificate".to_owned()));
    }
    // Each certificate is parsed now, so that a garbage block is named as such here, not
    // found at the first handshake.
    let mut parsed = rustls::RootCertStore::empty();
    for (index, der) in ders.iter().enumerate() {
        parsed
            .add(der.clone())
            .map_err(|e| invalid(format!("certificate {} of the file is not one ({e})", index + 1)))?;
    }
    Ok(ders)
}
