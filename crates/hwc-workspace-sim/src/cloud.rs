//! The cloud around the Workspace API, so that the whole credential chain runs offline: the
//! instance metadata service of an ECS with an agency (a session token, then temporary keys
//! that the gateway accepts until they expire) and IAM's project list (signed, answering the
//! simulator's project for its region). The bodies are the core's types, the ones its client
//! reads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;

use http::request::Parts;
use http::{Method, Response, StatusCode};
use hwc_workspace::iam::{Project, ProjectList};
use hwc_workspace::metadata::{self, SecurityKey, SecurityKeyResponse};
use time::OffsetDateTime;

use crate::codes;
use crate::response::{Body, Failure, json_response, with_head};
use crate::shared::Shared;
use crate::state::Key;

/// The region the simulator plays, unless told otherwise.
pub const DEFAULT_REGION: &str = "cn-north-4";
/// How long the temporary keys of the metadata service live, unless told otherwise.
pub const DEFAULT_CREDENTIALS_LIFETIME: Duration = Duration::from_secs(3600);
/// The longest session token the metadata service issues, as the real one: 6 hours.
const MAX_TOKEN_TTL_SECONDS: u64 = 21600;

/// How the cloud around the API behaves.
#[derive(Debug, Clone)]
pub(crate) struct CloudSettings {
    pub(crate) region: String,
    /// IAM's projects; `None`: the simulator's own project, named after its region.
    pub(crate) projects: Option<Vec<Project>>,
    pub(crate) credentials_lifetime: Duration,
    /// Whether an agency is bound to the "instance" (else the metadata service says so).
    pub(crate) agency: bool,
}

impl Default for CloudSettings {
    fn default() -> Self {
        Self {
            region: DEFAULT_REGION.to_owned(),
            projects: None,
            credentials_lifetime: DEFAULT_CREDENTIALS_LIFETIME,
            agency: true,
        }
    }
}

/// Temporary keys the metadata service issued.
pub(crate) struct Temporary {
    pub(crate) key: Key,
    pub(crate) expires_at: OffsetDateTime,
}

/// The cloud's state.
pub(crate) struct Cloud {
    pub(crate) settings: CloudSettings,
    temporary: RwLock<HashMap<String, Temporary>>,
    sessions: RwLock<HashMap<String, OffsetDateTime>>,
    pub(crate) keys_issued: AtomicU64,
    pub(crate) project_lookups: AtomicU64,
    issued: AtomicU64,
    /// Whether an agency is bound now (the handle can unbind it, to make refreshes fail).
    pub(crate) agency: AtomicBool,
    /// What the agency's keys may do.
    permissions: Vec<String>,
}

impl Cloud {
    pub(crate) fn new(settings: CloudSettings, permissions: Vec<String>) -> Self {
        Self {
            settings: settings.clone(),
            temporary: RwLock::default(),
            sessions: RwLock::default(),
            keys_issued: AtomicU64::new(0),
            project_lookups: AtomicU64::new(0),
            issued: AtomicU64::new(0),
            agency: AtomicBool::new(settings.agency),
            permissions,
        }
    }

    /// The temporary keys issued so far, for authentication.
    pub(crate) fn temporary(&self) -> RwLockReadGuard<'_, HashMap<String, Temporary>> {
        self.temporary.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn projects(&self, project_id: &str) -> Vec<Project> {
        self.settings.projects.clone().unwrap_or_else(|| {
            vec![Project {
                id: project_id.to_owned(),
                name: self.settings.region.clone(),
                domain_id: Some("d0000000000000000000000000000001".to_owned()),
                enabled: true,
            }]
        })
    }

    /// A fresh random text, unique within this simulator.
    fn random(&self, prefix: &str, length: usize) -> String {
        let number = self.issued.fetch_add(1, Ordering::Relaxed);
        let tail: String = std::iter::repeat_with(fastrand::alphanumeric).take(length).collect();
        format!("{prefix}{number:04}{tail}")
    }
}

/// What answers one of the cloud's paths.
type Answer = fn(&Shared, &Parts, &[u8], &str) -> Result<Response<Body>, Failure>;

/// Answers the metadata service's and IAM's paths; `None` for every other path.
pub(crate) fn serve(
    shared: &Shared,
    parts: &Parts,
    body: &[u8],
    request_id: &str,
) -> Option<Result<Response<Body>, Failure>> {
    let path = parts.uri.path();
    let (allowed, answer): (Method, Answer) = match path {
        metadata::TOKEN_PATH => (Method::PUT, session_token),
        metadata::SECURITY_KEY_PATH => (Method::GET, security_key),
        hwc_workspace::iam::PROJECTS_PATH => (Method::GET, projects),
        _ => return None,
    };
    if parts.method != allowed {
        return Some(Err(Failure::new(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::API_NOT_FOUND,
            format!("The API request method {} does not exist; use {allowed}", parts.method),
        )
        .header("allow", allowed.as_str())));
    }
    Some(answer(shared, parts, body, request_id))
}

fn session_token(shared: &Shared, parts: &Parts, _body: &[u8], request_id: &str) -> Result<Response<Body>, Failure> {
    let ttl = parts
        .headers
        .get(metadata::TOKEN_TTL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ttl| (1..=MAX_TOKEN_TTL_SECONDS).contains(ttl))
        .ok_or_else(|| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                codes::REQUEST_REJECTED,
                format!("{} must be a number of seconds from 1 to {MAX_TOKEN_TTL_SECONDS}", metadata::TOKEN_TTL_HEADER),
            )
        })?;
    let cloud = &shared.cloud;
    let token = cloud.random("mt", 40);
    let expires = (shared.clock)() + time::Duration::seconds(ttl as i64);
    cloud.sessions.write().unwrap_or_else(PoisonError::into_inner).insert(token.clone(), expires);
    let mut response = Response::new(Body::full(token));
    response = with_head(response, StatusCode::OK, "text/plain", request_id);
    Ok(response)
}

fn security_key(shared: &Shared, parts: &Parts, _body: &[u8], request_id: &str) -> Result<Response<Body>, Failure> {
    let cloud = &shared.cloud;
    let now = (shared.clock)();
    let token = parts.headers.get(metadata::TOKEN_HEADER).and_then(|v| v.to_str().ok());
    let valid = token.is_some_and(|token| {
        cloud.sessions.read().unwrap_or_else(PoisonError::into_inner).get(token).is_some_and(|until| now < *until)
    });
    if !valid {
        return Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            codes::AUTHENTICATION_FAILED,
            "The metadata token is missing, unknown or expired",
        ));
    }
    if !cloud.agency.load(Ordering::Relaxed) {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            codes::API_NOT_FOUND,
            "Please configure Cloud Service Agency first",
        ));
    }
    let permissions = cloud.permissions.clone();
    let access = cloud.random("HPUATMP", 12);
    let secret = cloud.random("TmpSecret", 30);
    let token = cloud.random("SecurityToken", 120);
    let lifetime = time::Duration::try_from(cloud.settings.credentials_lifetime).unwrap_or(time::Duration::HOUR);
    let expires_at = now.saturating_add(lifetime);
    let key = Key::new(access.clone(), secret.clone()).with_security_token(token.clone()).with_permissions(permissions);
    cloud
        .temporary
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(access.clone(), Temporary { key, expires_at });
    cloud.keys_issued.fetch_add(1, Ordering::Relaxed);
    let expires_text = expires_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "9999-12-31T23:59:59Z".to_owned());
    let body = SecurityKeyResponse {
        credential: SecurityKey { access, secret, securitytoken: token, expires_at: expires_text },
    };
    Ok(json_response(StatusCode::OK, &body, request_id))
}

fn projects(shared: &Shared, parts: &Parts, body: &[u8], request_id: &str) -> Result<Response<Body>, Failure> {
    crate::gateway::authenticate_key(shared, parts, body)?;
    shared.cloud.project_lookups.fetch_add(1, Ordering::Relaxed);
    let name = parts.uri.query().and_then(|query| {
        query.split('&').filter_map(|pair| pair.split_once('=')).find(|(k, _)| *k == "name").map(|(_, v)| v.to_owned())
    });
    let projects = shared
        .cloud
        .projects(&shared.project_id)
        .into_iter()
        .filter(|p| name.as_deref().is_none_or(|name| p.name == name))
        .collect();
    let mut response = json_response(StatusCode::OK, &ProjectList { projects }, request_id);
    if let Ok(value) = http::HeaderValue::from_str(request_id) {
        response.headers_mut().insert(hwc_workspace::iam::TRACE_ID_HEADER, value);
    }
    Ok(response)
}
