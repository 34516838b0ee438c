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

use crate::error::TransportErrorKind;

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

/// A failed exchange: how, and the error that says why.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: TransportErrorKind,
    /// No connection was made (refused, unreachable, a failed TLS handshake or tunnel):
    /// nothing of the request was sent.
    pub(crate) before_sending: bool,
    /// Whether the client trusts a CA certificate given to it (so a TLS failure is about that
    /// CA or the name, not about a missing one).
    pub(crate) ca_given: bool,
    pub(crate) source: BoxError,
}

impl Failure {
    pub(crate) fn new(source: impl Into<BoxError>, connect: bool) -> Self {
        let source = source.into();
        Self { kind: classify(source.as_ref(), connect), before_sending: connect, ca_given: false, source }
    }
}

/// An answer, its body read whole within the caps of [`crate::hooks`].
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) response: Response<Bytes>,
    /// A success body larger than [`crate::hooks::MAX_RESPONSE_BODY_BYTES`]: not read (the
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

/// Reads the body: a success body up to [`crate::hooks::MAX_RESPONSE_BODY_BYTES`] (one that
/// breaks off is a failure; a larger one is not read), any other up to
/// [`crate::hooks::MAX_ERROR_BODY_BYTES`], keeping what arrived if it breaks off.
async fn read(response: Response<Incoming>) -> Result<Answer, Failure> {
    let (head, body) = response.into_parts();
    if !head.status.is_success() {
        let body = read_bounded(body, crate::hooks::MAX_ERROR_BODY_BYTES).await;
        return Ok(Answer { response: Response::from_parts(head, body), oversized: false });
    }
    let limit = crate::hooks::MAX_RESPONSE_BODY_BYTES;
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

/// How an exchange failed, from the error and its causes: a TLS error anywhere in the chain
/// is [`TransportErrorKind::Tls`], a timed-out I/O error [`TransportErrorKind::Timeout`],
/// otherwise a failure to connect [`TransportErrorKind::Connect`] and anything after it
/// [`TransportErrorKind::Broken`].
pub(crate) fn classify(error: &(dyn StdError + 'static), connect: bool) -> TransportErrorKind {
    let mut source = Some(error);
    while let Some(cause) = source {
        if let Some(kind) = classify_cause(cause) {
            return kind;
        }
        source = cause.source();
    }
    if connect { TransportErrorKind::Connect } else { TransportErrorKind::Broken }
}

/// The TLS error in an error's chain, if any (looking through nested `io::Error`s).
pub(crate) fn tls_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut source = Some(error);
    while let Some(cause) = source {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(tls) = tls_error(inner)
        {
            return Some(tls);
        }
        source = cause.source();
    }
    None
}

/// Why a TLS handshake failed, in words: rustls writes several of its errors as Rust debug
/// names (`invalid peer certificate: UnknownIssuer`, `received fatal alert: HandshakeFailure`),
/// which say little to whoever reads the message.
pub(crate) fn describe_tls(error: &rustls::Error) -> String {
    use rustls::{CertificateError as C, Error as E};
    let certificate = |why: &str| format!("the server's certificate {why}");
    match error {
        E::InvalidCertificate(C::UnknownIssuer) => {
            certificate("is not signed by a trusted certificate authority (unknown issuer)")
        }
        E::InvalidCertificate(C::BadSignature) => certificate("has a signature that does not verify"),
        E::InvalidCertificate(C::BadEncoding) => certificate("is not well-formed"),
        E::InvalidCertificate(C::Expired) => certificate("has expired"),
        E::InvalidCertificate(C::NotValidYet) => certificate("is not valid yet (check this machine's clock)"),
        E::InvalidCertificate(C::Revoked) => certificate("has been revoked"),
        E::InvalidCertificate(C::NotValidForName) => certificate("is not valid for the endpoint's host name"),
        E::InvalidCertificate(C::InvalidPurpose) => certificate("is not meant for a TLS server"),
        E::InvalidCertificate(C::UnhandledCriticalExtension) => {
            certificate("has a critical extension that cannot be checked")
        }
        E::InvalidCertificate(C::UnknownRevocationStatus) => certificate("has a revocation status that is unknown"),
        E::InvalidCertificate(C::ApplicationVerificationFailure) => certificate("was refused by the verifier"),
        // The remaining certificate errors have readable texts of their own.
        E::InvalidCertificate(other) => format!("the server's certificate is not valid: {other}"),
        E::AlertReceived(alert) => {
            format!("the server ended the handshake with the TLS alert {}", words(&format!("{alert:?}")))
        }
        E::InvalidMessage(_) | E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
            "the server's answer is not a TLS handshake (is it plain http, or another protocol?)".to_owned()
        }
        E::PeerIncompatible(why) => {
            format!("the server supports no TLS version or cipher in common ({})", words(&format!("{why:?}")))
        }
        E::PeerMisbehaved(why) => format!("the server broke the TLS protocol ({})", words(&format!("{why:?}"))),
        E::NoCertificatesPresented => "the server presented no certificate".to_owned(),
        other => other.to_string(),
    }
}

/// A debug name in words: `HandshakeFailure` as `handshake failure`.
fn words(name: &str) -> String {
    let name = name.split(['(', ' ', '{']).next().unwrap_or(name);
    let mut text = String::with_capacity(name.len() + 8);
    for (index, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && index > 0 {
            text.push(' ');
        }
        text.push(c.to_ascii_lowercase());
    }
    text
}

/// Looks through nested `io::Error`s too: their `source()` skips the error they wrap, and
/// the TLS connector wraps rustls's error in one.
fn classify_cause(cause: &(dyn StdError + 'static)) -> Option<TransportErrorKind> {
    if cause.downcast_ref::<rustls::Error>().is_some() {
        return Some(TransportErrorKind::Tls);
    }
    let io = cause.downcast_ref::<std::io::Error>()?;
    if let Some(inner) = io.get_ref()
        && let Some(kind) = classify_cause(inner)
    {
        return Some(kind);
    }
    (io.kind() == std::io::ErrorKind::TimedOut).then_some(TransportErrorKind::Timeout)
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
