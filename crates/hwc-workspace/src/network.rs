//! The networks users sit in: the proxy a call goes through, and the endpoints a region's
//! calls fail over to.
//!
//! Proxies: an explicit proxy is always used. Otherwise `HTTPS_PROXY` (https destinations),
//! `HTTP_PROXY` (http destinations) and `ALL_PROXY` (either, when the other is unset), upper
//! case before lower case, except destinations in `NO_PROXY` and loopback destinations
//! ([`LOOPBACK`]: `localhost`, `127.0.0.0/8`, `::1` as in Go's convention, and the spellings of
//! the same addresses Go misses: `localhost.`, `::ffff:127.0.0.1`), which are reached directly. Under CGI
//! (`REQUEST_METHOD` set) upper-case `HTTP_PROXY` is ignored, since a request's `Proxy:`
//! header arrives as that variable ("httpoxy"). The variables are read through the client's
//! [`Environment`], so a value that is not UTF-8 is an error naming it, not "no proxy".

use std::sync::atomic::{AtomicUsize, Ordering};

use hyper_util::client::proxy::matcher::Matcher;

use crate::credentials::{Environment, env_value};
use crate::error::{ConfigError, ConfigErrorKind};

/// The proxy variables, each in the order it is read.
pub const PROXY_VARIABLES: [[&str; 2]; 4] = [
    ["HTTPS_PROXY", "https_proxy"],
    ["HTTP_PROXY", "http_proxy"],
    ["ALL_PROXY", "all_proxy"],
    ["NO_PROXY", "no_proxy"],
];

/// What is always reached without a proxy from the environment: loopback, in every spelling
/// a URL's host can take. `localhost` matches any case and its subdomains (`a.localhost`,
/// RFC 6761), `localhost.` the same names written fully qualified; `127.0.0.0/8` every IPv4
/// loopback address; `::1` IPv6's; `::ffff:127.0.0.0/104` the IPv4 loopback addresses mapped
/// into IPv6 (`[::ffff:127.0.0.1]`, `[::ffff:7f00:1]`), which reach the same socket.
/// `localhost.localdomain` is not among them: it is loopback only by a hosts file's say-so,
/// as any other name can be; add it to `NO_PROXY` where it is.
pub const LOOPBACK: &str = "localhost,localhost.,127.0.0.0/8,::1,::ffff:127.0.0.0/104";

/// Whether a host name is a loopback name: `localhost` in any case, with or without the final
/// dot, and its subdomains (RFC 6761). The transport resolves these to loopback itself.
pub(crate) fn is_loopback_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Where the proxy setting of a client comes from.
#[derive(Clone, Default)]
pub(crate) enum ProxySetting {
    /// The proxy variables of the environment.
    #[default]
    Environment,
    /// This proxy, for every destination.
    Explicit(String),
    /// None at all (the simulator's own clients).
    Direct,
}

impl std::fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Environment => f.write_str("Environment"),
            Self::Explicit(url) => f.debug_tuple("Explicit").field(&crate::error::mask_userinfo(url)).finish(),
            Self::Direct => f.write_str("Direct"),
        }
    }
}

/// The proxies of a client, by these rules; the process environment is read only through
/// `env`, so that only these rules apply.
pub(crate) fn proxies(setting: &ProxySetting, env: &dyn Environment) -> Result<Proxies, ConfigError> {
    match setting {
        ProxySetting::Direct => Ok(Proxies::direct()),
        ProxySetting::Explicit(url) => {
            let url = proxy_url(url, "the proxy option", None)?;
            usable(&url, "the proxy option", None)?;
            let through_https = url.scheme() == "https";
            Ok(Proxies { matcher: Matcher::builder().all(url.as_str()).build(), forwards_http: true, through_https })
        }
        ProxySetting::Environment => {
            let cgi = env.var_os("REQUEST_METHOD").is_some();
            let read = |names: [&'static str; 2]| -> Result<Option<(String, &'static str)>, ConfigError> {
                for name in names {
                    if cgi && name == "HTTP_PROXY" {
                        continue;
                    }
                    if let Some(value) = env_value(env, name)? {
                        return Ok(Some((value, name)));
                    }
                }
                Ok(None)
            };
            let [https_names, http_names, all_names, no_names] = PROXY_VARIABLES;
            let all = read(all_names)?;
            let https = read(https_names)?.or_else(|| all.clone());
            let http = read(http_names)?.or(all);
            let no = read(no_names)?.map(|(list, _)| list).unwrap_or_default();
            let mut builder = Matcher::builder().no(format!("{no},{LOOPBACK}"));
            let mut through_https = false;
            if let Some((value, name)) = https {
                let url = proxy_url(&value, name, Some(name))?;
                usable(&url, name, Some(name))?;
                through_https |= url.scheme() == "https";
                builder = builder.https(url.as_str());
            }
            let forwards_http = http.is_some();
            if let Some((value, name)) = http {
                let url = proxy_url(&value, name, Some(name))?;
                usable(&url, name, Some(name))?;
                through_https |= url.scheme() == "https";
                builder = builder.http(url.as_str());
            }
            Ok(Proxies { matcher: builder.build(), forwards_http, through_https })
        }
    }
}

/// The proxies of a client.
#[derive(Debug)]
pub(crate) struct Proxies {
    pub(crate) matcher: Matcher,
    /// Whether any http destination can go through a proxy.
    pub(crate) forwards_http: bool,
    /// Whether a proxy is reached over TLS (so even a plain-http client needs roots).
    through_https: bool,
}

impl Proxies {
    /// No proxy for any destination.
    pub(crate) fn direct() -> Self {
        Self { matcher: Matcher::builder().build(), forwards_http: false, through_https: false }
    }

    pub(crate) fn through_https(&self) -> bool {
        self.through_https
    }
}

/// The matcher drops a proxy URL it cannot read; a proxy that was set must be used, so that
/// is an error naming its source, never a direct call.
fn usable(url: &url::Url, source: &str, variable: Option<&'static str>) -> Result<(), ConfigError> {
    let alone = Matcher::builder().all(url.as_str()).build();
    if alone.intercept(&http::Uri::from_static("https://proxied.check.invalid/")).is_some() {
        return Ok(());
    }
    let error = ConfigError::new(
        ConfigErrorKind::InvalidProxy,
        format!("the proxy {:?} from {source} cannot be used", crate::error::mask_userinfo(url.as_str())),
    );
    Err(match variable {
        Some(name) => error.variable(name),
        None => error,
    })
}

/// A proxy URL, checked: `http` when no scheme is given (as curl does), `http` or `https`
/// only, with a host. The source is named in errors and the URL shown without its password.
fn proxy_url(value: &str, source: &str, variable: Option<&'static str>) -> Result<url::Url, ConfigError> {
    let value = value.trim();
    let text = if value.contains("://") { value.to_owned() } else { format!("http://{value}") };
    let shown = crate::error::mask_userinfo(&text);
    let error = |why: String| {
        let error = ConfigError::new(ConfigErrorKind::InvalidProxy, format!("the proxy {shown:?} from {source} {why}"))
            .hint("expected e.g. http://proxy.example:3128 or http://user:password@proxy.example:3128");
        match variable {
            Some(name) => error.variable(name),
            None => error,
        }
    };
    let url = url::Url::parse(&text).map_err(|e| error(format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(error(format!("has the scheme {:?}; only http and https proxies are supported", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(error("has no host".to_owned()));
    }
    Ok(url)
}

/// The endpoints of a region, in order, and the one that answered last: calls start there,
/// and move to the next when a connection cannot be made (nothing was sent).
#[derive(Debug)]
pub(crate) struct Failover {
    pub(crate) endpoints: Vec<String>,
    preferred: AtomicUsize,
}

impl Failover {
    pub(crate) fn new(endpoints: Vec<String>) -> Self {
        Self { endpoints, preferred: AtomicUsize::new(0) }
    }

    /// The endpoints in the order to try them: the one that answered last first.
    pub(crate) fn order(&self) -> impl Iterator<Item = usize> + '_ {
        let start = self.preferred.load(Ordering::Relaxed) % self.endpoints.len().max(1);
        (0..self.endpoints.len()).map(move |i| (start + i) % self.endpoints.len())
    }

    pub(crate) fn answered(&self, index: usize) {
        self.preferred.store(index, Ordering::Relaxed);
    }
}
