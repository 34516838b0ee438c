//! Regions and endpoints: the 18 Workspace regions, and the overrides official SDK users
//! already have (an environment variable per region, then `regions.yaml`).

use std::path::PathBuf;

use serde::Deserialize;

use crate::credentials::{Environment, env_value, home_dir};
use crate::error::{ConfigError, ConfigErrorKind, Hint, Setting};

mod yaml_guard;

/// Deepest `[...]`/`{...}` nesting accepted in `regions.yaml`, checked by a linear scan
/// before the YAML parser sees the text (which also refuses aliases, `*name`).
pub const MAX_REGIONS_FLOW_DEPTH: usize = yaml_guard::MAX_FLOW_DEPTH;
/// Deepest nesting of any kind the YAML parser accepts (serde_yaml's recursion limit).
pub const MAX_REGIONS_NESTING: usize = 128;

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
/// `HUAWEICLOUD_SDK_REGION_WORKSPACE_CN_NORTH_4`: comma-separated, tried in order.
pub fn override_variable(region: &str) -> String {
    format!("HUAWEICLOUD_SDK_REGION_WORKSPACE_{}", region.to_ascii_uppercase().replace('-', "_"))
}

/// The endpoints of a region, in the order to try them: its environment override, else its
/// `regions.yaml` entry, else the built-in list. An unknown region is an error naming the
/// known ones.
pub fn resolve(region: &str, env: &dyn Environment) -> Result<Vec<String>, ConfigError> {
    let region = region.trim();
    let variable = override_variable(region);
    if let Some(value) = env_value(env, &variable)? {
        // An endpoint carries no user name or password; refused here, whole and masked, since
        // a password holding a comma would be split into pieces that no masking recognises.
        if value.contains('@') {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidEndpoint,
                format!("{variable} {:?} must not carry a user name or password", crate::error::mask_userinfo(&value)),
            )
            .variable(variable));
        }
        let endpoints: Vec<String> =
            value.split(',').map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned).collect();
        if !endpoints.is_empty() {
            return Ok(endpoints);
        }
    }
    if let Some(endpoints) = from_regions_file(region, env)? {
        return Ok(endpoints);
    }
    if REGIONS.contains(&region) {
        return Ok(vec![format!("https://workspace.{region}.myhuaweicloud.com")]);
    }
    Err(ConfigError::new(
        ConfigErrorKind::UnknownRegion,
        format!("unknown Workspace region {region:?}; known regions: {}", REGIONS.join(", ")),
    )
    .hint(Hint::naming(
        "for a region not in this list, pass ",
        Setting::Endpoint,
        format!(", or set {variable}=https://…"),
    )))
}

/// The region of an official endpoint (`https://workspace.{region}.myhuaweicloud.com`), for
/// looking up the project id when only the endpoint was given.
pub fn region_of_endpoint(endpoint: &str) -> Option<String> {
    let host = url::Url::parse(endpoint).ok()?.host_str()?.to_ascii_lowercase();
    let region = host.strip_prefix("workspace.")?.strip_suffix(".myhuaweicloud.com")?;
    (!region.is_empty() && !region.contains('.')).then(|| region.to_owned())
}

/// One entry of a service's list in `regions.yaml`. Every field is optional here, so that an
/// entry without an id is skipped with a warning (as the official SDK skips it) instead of
/// failing the whole file.
#[derive(Deserialize)]
struct RegionEntry {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    endpoints: Vec<String>,
    /// Any other field: ignored, unless it is one of the above in another case.
    #[serde(flatten)]
    other: std::collections::BTreeMap<String, serde_yaml::Value>,
}

/// The fields of an entry, as the official SDK spells them.
const ENTRY_FIELDS: [&str; 3] = ["id", "endpoint", "endpoints"];

fn from_regions_file(region: &str, env: &dyn Environment) -> Result<Option<Vec<String>>, ConfigError> {
    let (path, explicit) = match env_value(env, ENV_REGIONS_FILE)? {
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
            let error = ConfigError::new(
                ConfigErrorKind::InvalidEndpoint,
                format!("cannot read the regions file {}: {e}", path.display()),
            );
            return Err(if explicit { error.variable(ENV_REGIONS_FILE) } else { error });
        }
    };
    let invalid = |why: String| {
        ConfigError::new(
            ConfigErrorKind::InvalidEndpoint,
            format!("the regions file {} is not valid: {}", path.display(), crate::error::mask_userinfo_in_text(&why)),
        )
        .hint("expected `WORKSPACE:` with a list of `- id: <region>` and `endpoint: https://…` (or `endpoints: [...]`)")
    };
    // The parser's cost is bounded first (see `yaml_guard`): deep flow nesting and aliases
    // are refused before serde_yaml sees the text.
    if let Err(refused) = yaml_guard::check(&text) {
        return Err(invalid(format!("line {}: {}", refused.line, refused.why)));
    }
    // Every service's list is read as a map first: the service key is matched in any case
    // (`WORKSPACE:`, `workspace:`), as the official SDK matches it. A mapping keeps its
    // order, and a key written twice is refused by serde_yaml itself.
    let file: Option<serde_yaml::Mapping> = serde_yaml::from_str(&text).map_err(|e| {
        let e = e.to_string();
        if e.starts_with("recursion limit exceeded") {
            invalid(format!("{e}: it nests deeper than {MAX_REGIONS_NESTING} levels"))
        } else {
            invalid(e)
        }
    })?;
    let mut services = file.unwrap_or_default().into_iter().filter_map(|(key, value)| {
        let name = key.as_str()?.to_owned();
        name.eq_ignore_ascii_case("workspace").then_some((name, value))
    });
    let Some((name, entries)) = services.next() else {
        return Ok(None);
    };
    // Two spellings of the service (`WORKSPACE:` and `workspace:`) are two lists: which one
    // counts would be a guess, so neither does.
    if let Some((other, _)) = services.next() {
        return Err(invalid(format!(
            "it has both `{name}:` (line {}) and `{other}:` (line {}); keep one",
            key_line(&text, &name),
            key_line(&text, &other)
        )));
    }
    let entries: Vec<RegionEntry> =
        serde_yaml::from_value(entries).map_err(|e| invalid(format!("its {name} list: {e}")))?;
    // The same region listed twice: refused, naming both entries, whichever comes first.
    // A field in another case (`ID:`, `Endpoint:`) is refused too: beside the real one it
    // disagrees with it, alone it would be silently ignored.
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        if let Some((variant, field)) = entry
            .other
            .keys()
            .find_map(|key| ENTRY_FIELDS.iter().find(|field| key.eq_ignore_ascii_case(field)).map(|field| (key, field)))
        {
            return Err(invalid(format!(
                "entry {} of its {name} list has `{variant}:`, which is not `{field}:` (fields are lower case)",
                index + 1
            )));
        }
        let Some(id) = entry.id.as_deref().map(str::trim).filter(|id| !id.is_empty()) else { continue };
        if let Some((_, first)) = seen.iter().find(|(seen_id, _)| *seen_id == id) {
            return Err(invalid(format!(
                "its {name} list has region {id:?} twice (entries {} and {}); keep one",
                first + 1,
                index + 1
            )));
        }
        seen.push((id, index));
    }
    for (index, entry) in entries.into_iter().enumerate() {
        let Some(id) = entry.id.as_deref().map(str::trim).filter(|id| !id.is_empty()) else {
            tracing::warn!(path = %path.display(), entry = index + 1, "a WORKSPACE entry of the regions file has no id; it is skipped");
            continue;
        };
        if id != region {
            continue;
        }
        // `endpoints` first, then `endpoint`: the official SDK's order.
        let mut endpoints: Vec<String> =
            entry.endpoints.iter().map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect();
        if endpoints.is_empty() {
            endpoints.extend(entry.endpoint.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()));
        }
        if endpoints.is_empty() {
            return Err(invalid(format!("the entry of {region} has no endpoint")));
        }
        return Ok(Some(endpoints));
    }
    Ok(None)
}

/// The 1-based line where `key:` starts a line of `text` (quoted or not), for messages; 0 when
/// it cannot be found (a key written in flow style).
fn key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            [key.to_owned(), format!("'{key}'"), format!("\"{key}\"")]
                .iter()
                .any(|k| line.strip_prefix(k.as_str()).is_some_and(|rest| rest.trim_start().starts_with(':')))
        })
        .map_or(0, |index| index + 1)
}
