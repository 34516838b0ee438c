//! The project id looked up through IAM when none is given, as the official SDK does for
//! `BasicCredentials` without one: a signed `GET {iam}/v3/projects?name={region}`, of which
//! exactly one project must answer.

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, ConfigErrorKind, Error, Hint, Setting};

/// Where IAM answers when the region has no endpoint of its own in [`IAM_REGIONS`].
pub const DEFAULT_ENDPOINT: &str = "https://iam.myhuaweicloud.com";
/// The path of IAM's project list (KeystoneListProjects).
pub const PROJECTS_PATH: &str = "/v3/projects";
/// The header IAM quotes its trace id in; errors name it.
pub const TRACE_ID_HEADER: &str = "x-iam-trace-id";

/// The regions with an IAM endpoint `https://iam.{region}.myhuaweicloud.com` of their own,
/// as the official SDK lists them.
pub const IAM_REGIONS: [&str; 28] = [
    "cn-north-2",
    "cn-north-4",
    "cn-north-1",
    "cn-east-2",
    "cn-east-3",
    "cn-south-1",
    "cn-south-2",
    "cn-southwest-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "af-south-1",
    "sa-brazil-1",
    "la-south-2",
    "na-mexico-1",
    "la-north-2",
    "cn-north-9",
    "eu-west-0",
    "my-kualalumpur-1",
    "ru-moscow-1",
    "me-east-1",
    "ae-ad-1",
    "cn-east-4",
    "cn-east-5",
    "tr-west-1",
    "cn-north-12",
    "cn-north-11",
];

/// The IAM endpoint of a region: its own, else [`DEFAULT_ENDPOINT`].
pub fn endpoint_for(region: &str) -> String {
    if IAM_REGIONS.contains(&region) {
        format!("https://iam.{region}.myhuaweicloud.com")
    } else {
        DEFAULT_ENDPOINT.to_owned()
    }
}

/// IAM's answer to `GET /v3/projects`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectList {
    /// The projects whose name matched.
    pub projects: Vec<Project>,
}

/// One project of [`ProjectList`]; only what the lookup reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// The project id, what the Workspace API's path names.
    pub id: String,
    /// The project's name: the region's name for a region's default project.
    pub name: String,
    /// The account the project belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
    /// Whether the project is enabled.
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

/// Where the project id of a region is looked up.
#[derive(Debug, Clone)]
pub(crate) struct Lookup {
    pub(crate) iam_endpoint: String,
    pub(crate) region: String,
}

impl Lookup {
    /// Asks IAM for the project named after the region, signed with `credentials` (and its
    /// token); the one project found is the answer.
    pub(crate) async fn project_id(
        &self,
        transport: &crate::transport::Transport,
        credentials: &hwc_sign::Credentials,
        clock: fn() -> time::OffsetDateTime,
    ) -> Result<String, Error> {
        let mut url = url::Url::parse(&format!("{}{PROJECTS_PATH}", self.iam_endpoint))
            .map_err(|e| self.failed(format!("the IAM endpoint is not a URL ({e})"), None))?;
        // Percent-encoded as the signer encodes a query (a space is `%20`), not as a form
        // (`+`): the signer reads a `+` as itself and would send it on as `%2B`, so IAM would
        // be asked for a name with a plus sign.
        url.set_query(Some(&hwc_sign::canonical_query_string(&[("name", self.region.as_str())])));
        let mut request = reqwest::Request::new(reqwest::Method::GET, url);
        crate::signing::sign_request(credentials, None, clock, &mut request)
            .map_err(|e| self.failed(format!("the request could not be signed: {e}"), None))?;
        let answer = transport
            .send(request)
            .await
            .map_err(|failure| Error::from(crate::error::TransportError::new(&self.iam_endpoint, failure)))?;
        let (head, body) = answer.response.into_parts();
        let status = head.status.as_u16();
        let trace_id = head.headers.get(TRACE_ID_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        if answer.oversized {
            let limit = crate::limits::MAX_RESPONSE_BODY_BYTES;
            return Err(self.failed(format!("IAM's answer is larger than {limit} bytes, so it was not read"), trace_id));
        }
        if !(200..300).contains(&status) {
            let parsed = crate::error_body::normalize(&body);
            let message = [parsed.error_code, parsed.error_msg].into_iter().flatten().collect::<Vec<_>>().join(": ");
            return Err(self.failed(format!("IAM answered {status} {message}").trim_end().to_owned(), trace_id));
        }
        let list: ProjectList = serde_json::from_slice(&body)
            .map_err(|e| self.failed(format!("IAM's answer is not a project list ({e})"), trace_id.clone()))?;
        let matching: Vec<Project> = list.projects.into_iter().filter(|p| p.name == self.region).collect();
        match matching.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => Err(self.failed(format!("IAM has no project named {:?} for this access key", self.region), trace_id)),
            several => {
                let ids = several.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ");
                Err(self
                    .failed(format!("IAM has several projects named {:?}: {ids}; choose one", self.region), trace_id))
            }
        }
    }

    fn failed(&self, why: String, trace_id: Option<String>) -> Error {
        let trace = trace_id.map(|t| format!(" (X-IAM-Trace-Id {t})")).unwrap_or_default();
        ConfigError::new(
            ConfigErrorKind::MissingProjectId,
            format!(
                "no project id given, and looking it up for region {:?} at {}{PROJECTS_PATH} failed: {why}{trace}",
                self.region, self.iam_endpoint
            ),
        )
        .hint(Hint::naming("pass ", Setting::ProjectId, format!(", or set {}", crate::credentials::ENV_PROJECT_ID)))
        .into()
    }
}
