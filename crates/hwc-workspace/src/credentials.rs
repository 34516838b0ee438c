//! Where credentials come from: given explicitly, or the chain official SDK users already
//! have (the `HUAWEICLOUD_SDK_*` variables, then the credentials file).
//!
//! Lookups go through an [`Environment`], so the chain is tested with made-up variables and
//! a temporary home instead of the process's own.

use std::path::{Path, PathBuf};

use hwc_sign::Credentials;

use crate::error::{ConfigError, ConfigErrorKind, Hint, Setting};

/// The access key variable, as the official SDK reads it.
pub const ENV_AK: &str = "HUAWEICLOUD_SDK_AK";
/// The secret key variable.
pub const ENV_SK: &str = "HUAWEICLOUD_SDK_SK";
/// The project id variable.
pub const ENV_PROJECT_ID: &str = "HUAWEICLOUD_SDK_PROJECT_ID";
/// The security token variable, for temporary credentials.
pub const ENV_SECURITY_TOKEN: &str = "HUAWEICLOUD_SDK_SECURITY_TOKEN";
/// Where the credentials file is, instead of `~/.huaweicloud/credentials`.
pub const ENV_CREDENTIALS_FILE: &str = "HUAWEICLOUD_SDK_CREDENTIALS_FILE";

/// The sections read from the credentials file, the first present one winning: `[basic]`
/// is what the official profile provider reads, `[basiccredentials]` what its default chain
/// looks for.
pub const FILE_SECTIONS: [&str; 2] = ["basic", "basiccredentials"];

/// Reads environment variables. The process environment by default; tests pass a map.
pub trait Environment: Send + Sync {
    /// The variable's value, `None` when it is not set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<F: Fn(&str) -> Option<String> + Send + Sync> Environment for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// A non-empty, trimmed variable.
pub(crate) fn non_empty(env: &dyn Environment, name: &str) -> Option<String> {
    env.var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The user's home directory, where `~/.huaweicloud/` lives.
pub(crate) fn home_dir(env: &dyn Environment) -> Option<PathBuf> {
    non_empty(env, "HOME").or_else(|| non_empty(env, "USERPROFILE")).map(PathBuf::from)
}

/// Credentials found by the chain, the project id from the same source, and where they
/// came from (for messages and logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedCredentials {
    /// The keys.
    pub credentials: Credentials,
    /// The project id the same source gave, if any.
    pub project_id: Option<String>,
    /// Where the keys came from, e.g. `environment` or the file's path.
    pub source: String,
}

/// Looks for credentials in the environment, then in the credentials file. `Ok(None)` when
/// neither has any; an error when a source is present but incomplete or unreadable, rather
/// than silently falling through to another account's keys.
pub fn from_chain(env: &dyn Environment) -> Result<ResolvedCredentials, ConfigError> {
    let mut tried = Vec::new();
    match from_environment(env)? {
        Some(found) => return Ok(found),
        None => tried.push(format!("environment: {ENV_AK} and {ENV_SK} are not set")),
    }
    let (path, explicit) = match non_empty(env, ENV_CREDENTIALS_FILE) {
        Some(path) => (Some(PathBuf::from(path)), true),
        None => (home_dir(env).map(|home| home.join(".huaweicloud").join("credentials")), false),
    };
    match &path {
        Some(path) => match crate::files::read_config_text(path) {
            Ok(text) => match from_file_text(&text, path)? {
                Some(found) => return Ok(found),
                None => tried.push(format!(
                    "credentials file {}: has no [basic] or [basiccredentials] section with ak and sk",
                    path.display()
                )),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                tried.push(format!("credentials file {}: not found", path.display()));
            }
            Err(e) => {
                let error = ConfigError::new(
                    ConfigErrorKind::InvalidCredentials,
                    format!("cannot read the credentials file {} ({ENV_CREDENTIALS_FILE}): {e}", path.display()),
                );
                return Err(if explicit { error.variable(ENV_CREDENTIALS_FILE) } else { error });
            }
        },
        None => tried.push("credentials file: no home directory (HOME is not set)".to_owned()),
    }
    Err(ConfigError::new(
        ConfigErrorKind::MissingCredentials,
        format!("no credentials found; tried: explicit credentials (none given); {}", tried.join("; ")),
    )
    .hint(format!("set {ENV_AK} and {ENV_SK} (and {ENV_PROJECT_ID}) in the environment"))
    .hint("or write `[basic]` with `ak = …`, `sk = …`, `project_id = …` to ~/.huaweicloud/credentials")
    .hint(Hint::naming("or try it without an account: ", Setting::Simulator, "")))
}

fn from_environment(env: &dyn Environment) -> Result<Option<ResolvedCredentials>, ConfigError> {
    let (ak, sk) = (non_empty(env, ENV_AK), non_empty(env, ENV_SK));
    let (ak, sk) = match (ak, sk) {
        (None, None) => return Ok(None),
        (Some(ak), Some(sk)) => (ak, sk),
        (Some(_), None) | (None, Some(_)) => {
            let (set, unset) = if env.var(ENV_AK).is_some() { (ENV_AK, ENV_SK) } else { (ENV_SK, ENV_AK) };
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidCredentials,
                format!("{set} is set but {unset} is not: both are needed"),
            )
            .variable(unset)
            .hint(format!("set {unset} as well, or unset {set} to use the credentials file")));
        }
    };
    let mut credentials = Credentials::new(ak, sk);
    if let Some(token) = non_empty(env, ENV_SECURITY_TOKEN) {
        credentials = credentials.with_security_token(token);
    }
    Ok(Some(ResolvedCredentials {
        credentials,
        project_id: non_empty(env, ENV_PROJECT_ID),
        source: "environment variables".to_owned(),
    }))
}

/// Reads `ak`, `sk`, `project_id` and `security_token` from the first of [`FILE_SECTIONS`]
/// present in an INI text. `#` and `;` start comments; keys are case-insensitive.
pub fn from_file_text(text: &str, path: &Path) -> Result<Option<ResolvedCredentials>, ConfigError> {
    for wanted in FILE_SECTIONS {
        let mut in_section = false;
        let mut found = false;
        let (mut ak, mut sk, mut project_id, mut token) = (None, None, None, None);
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                in_section = name.trim().eq_ignore_ascii_case(wanted);
                found |= in_section;
                continue;
            }
            if !in_section {
                continue;
            }
            let Some((key, value)) = line.split_once('=').or_else(|| line.split_once(':')) else { continue };
            let value = Some(value.trim().to_owned()).filter(|v| !v.is_empty());
            match key.trim().to_ascii_lowercase().as_str() {
                "ak" => ak = value,
                "sk" => sk = value,
                "project_id" => project_id = value,
                "security_token" => token = value,
                _ => {}
            }
        }
        if !found {
            continue;
        }
        return match (ak, sk) {
            (Some(ak), Some(sk)) => {
                warn_if_readable_by_others(path);
                let mut credentials = Credentials::new(ak, sk);
                if let Some(token) = token {
                    credentials = credentials.with_security_token(token);
                }
                Ok(Some(ResolvedCredentials {
                    credentials,
                    project_id,
                    source: format!("credentials file {} [{wanted}]", path.display()),
                }))
            }
            (ak, _) => Err(ConfigError::new(
                ConfigErrorKind::InvalidCredentials,
                format!(
                    "the credentials file {} has a [{wanted}] section without {}",
                    path.display(),
                    if ak.is_none() { "ak" } else { "sk" }
                ),
            )
            .hint(format!("add `ak = …` and `sk = …` under [{wanted}]"))),
        };
    }
    Ok(None)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                "the credentials file can be read by other users; `chmod 600` it"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}
