//! Regions and endpoints: the 18 Workspace regions, and the overrides official SDK users
//! already have (an environment variable per region, then `regions.yaml`).

use std::path::PathBuf;

use serde::Deserialize;

use crate::credentials::{Environment, home_dir, non_empty};
use crate::error::{ConfigError, ConfigErrorKind, Hint, Setting};

/// The regions where Workspace has an endpoint `https://workspace.{region}.myhuaweicloud.com`.
pub const REGIONS: [&str; 18] = [
    "cn-east-3",
    "cn-north-4",
    "cn-south-1",
    "cn-southwest-2",
    "la-south-2",
    "sa-brazil-1",
    "la-north-2",
    "ap-southeast-3",
    "cn-north-9",
    "ap-southeast-1",
    "cn-east-5",
    "me-east-1",
    "af-south-1",
    "tr-west-1",
    "cn-north-11",
    "af-north-1",
    "ap-southeast-2",
    "eu-west-101",
];

/// Where the regions file is, instead of `~/.huaweicloud/regions.yaml`.
pub const ENV_REGIONS_FILE: &str = "HUAWEICLOUD_SDK_REGIONS_FILE";

/// The variable that overrides one region's endpoints, e.g.
/// `HUAWEICLOUD_SDK_REGION_WORKSPACE_CN_NORTH_4` (comma-separated; the first is used).
pub fn override_variable(region: &str) -> String {
    format!("HUAWEICLOUD_SDK_REGION_WORKSPACE_{}", region.to_ascii_uppercase().replace('-', "_"))
}

/// The endpoint of a region: its environment override, else its `regions.yaml` entry, else
/// the built-in list. An unknown region is an error naming the known ones.
pub fn resolve(region: &str, env: &dyn Environment) -> Result<String, ConfigError> {
    let region = region.trim();
    if let Some(value) = non_empty(env, &override_variable(region)) {
        if let Some(first) = value.split(',').map(str::trim).find(|e| !e.is_empty()) {
            return Ok(first.to_owned());
        }
    }
    if let Some(endpoint) = from_regions_file(region, env)? {
        return Ok(endpoint);
    }
    if REGIONS.contains(&region) {
        return Ok(format!("https://workspace.{region}.myhuaweicloud.com"));
    }
    Err(ConfigError::new(
        ConfigErrorKind::UnknownRegion,
        format!("unknown Workspace region {region:?}; known regions: {}", REGIONS.join(", ")),
    )
    .hint(Hint::naming(
        "for a region not in this list, pass ",
        Setting::Endpoint,
        format!(", or set {}=https://…", override_variable(region)),
    )))
}

#[derive(Deserialize)]
struct RegionsFile {
    #[serde(rename = "WORKSPACE", default)]
    workspace: Vec<RegionEntry>,
}

#[derive(Deserialize)]
struct RegionEntry {
    id: String,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    endpoints: Vec<String>,
}

fn from_regions_file(region: &str, env: &dyn Environment) -> Result<Option<String>, ConfigError> {
    let (path, explicit) = match non_empty(env, ENV_REGIONS_FILE) {
        Some(path) => (PathBuf::from(path), true),
        None => match home_dir(env) {
            Some(home) => (home.join(".huaweicloud").join("regions.yaml"), false),
            None => return Ok(None),
        },
    };
    let text = match crate::files::read_config_text(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(None),
        Err(e) => {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidEndpoint,
                format!("cannot read the regions file {}: {e}", path.display()),
            ));
        }
    };
    let file: RegionsFile = serde_yaml::from_str(&text).map_err(|e| {
        ConfigError::new(
            ConfigErrorKind::InvalidEndpoint,
            format!("the regions file {} is not valid: {e}", path.display()),
        )
        .hint("expected `WORKSPACE:` with a list of `- id: <region>` and `endpoint: https://…`")
    })?;
    Ok(file
        .workspace
        .into_iter()
        .find(|entry| entry.id == region)
        .and_then(|entry| entry.endpoint.or_else(|| entry.endpoints.into_iter().next())))
}
