//! Where credentials come from, in the official SDK's order: given explicitly, the
//! `HUAWEICLOUD_SDK_*` variables, the credentials file, then the instance metadata service of
//! an ECS with an agency ([`crate::metadata`]).
//!
//! A source that is present but unusable (a variable that is not UTF-8, keys half set, a file
//! that cannot be read or holds no section of keys, a section without `sk`, a section or key
//! written twice) is an error naming it: the chain never falls
//! through to the next source, which could hold another account's keys.
//!
//! Lookups go through an [`Environment`], so the chain is tested with made-up variables and
//! a temporary home instead of the process's own.

use std::ffi::OsString;
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
/// The IAM endpoint the project id is looked up at, instead of the region's.
pub const ENV_IAM_ENDPOINT: &str = "HUAWEICLOUD_SDK_IAM_ENDPOINT";

/// The sections read from the credentials file, the first present one winning: `[basic]`
/// is what the official profile provider reads, `[basiccredentials]` what its default chain
/// looks for.
pub const FILE_SECTIONS: [&str; 2] = ["basic", "basiccredentials"];

/// Reads environment variables. The process environment by default; tests pass a map.
pub trait Environment: Send + Sync {
    /// The variable's raw value, `None` when it is not set. Values need not be UTF-8: the
    /// chain refuses one that is not, naming it, rather than treating it as unset.
    fn var_os(&self, name: &str) -> Option<OsString>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var_os(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }
}

impl<F: Fn(&str) -> Option<String> + Send + Sync> Environment for F {
    fn var_os(&self, name: &str) -> Option<OsString> {
        self(name).map(OsString::from)
    }
}

/// A variable's trimmed value; `None` when it is unset or blank, an error naming it when it
/// is set but not UTF-8 (it is then neither usable nor absent).
pub(crate) fn env_value(env: &dyn Environment, name: &str) -> Result<Option<String>, ConfigError> {
    let Some(raw) = env.var_os(name) else { return Ok(None) };
    let text = raw.into_string().map_err(|_| {
        ConfigError::new(
            ConfigErrorKind::InvalidEnvironment,
            format!("the environment variable {name} is set but is not valid UTF-8"),
        )
        .variable(name)
        .hint(format!("set {name} to a valid UTF-8 value, or unset it"))
    })?;
    Ok(Some(text.trim().to_owned()).filter(|v| !v.is_empty()))
}

/// The user's home directory, where `~/.huaweicloud/` lives. A path need not be UTF-8, so
/// `HOME` is taken as it is.
pub(crate) fn home_dir(env: &dyn Environment) -> Option<PathBuf> {
    ["HOME", "USERPROFILE"].into_iter().filter_map(|name| env.var_os(name)).find(|v| !v.is_empty()).map(PathBuf::from)
}

/// Keys found by the chain, and what the same source says besides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedCredentials {
    /// The keys.
    pub credentials: Credentials,
    /// The project id the same source gave, if any.
    pub project_id: Option<String>,
    /// The IAM endpoint the same source gave (the file's `iam_endpoint`), if any.
    pub iam_endpoint: Option<String>,
    /// Where the keys came from, e.g. `environment variables` or the file's path.
    pub source: String,
}

/// What the static part of the chain (environment, file) found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // made once per client, never stored
pub enum Found {
    /// Keys, from the first source that has them.
    Keys(ResolvedCredentials),
    /// No source has keys; what each said, for the message when the metadata service has none
    /// either.
    Nothing(Vec<String>),
}

/// Looks for keys in the environment, then in the credentials file. An error when a source is
/// present but unusable, rather than silently falling through to another account's keys.
pub fn from_chain(env: &dyn Environment) -> Result<Found, ConfigError> {
    let mut tried = vec!["explicit credentials: none given".to_owned()];
    match from_environment(env)? {
        Some(found) => return Ok(Found::Keys(found)),
        None => tried.push(format!("environment: {ENV_AK} and {ENV_SK} are not set")),
    }
    let (path, explicit) = match env_value(env, ENV_CREDENTIALS_FILE)? {
        Some(path) => (Some(PathBuf::from(path)), true),
        None => (home_dir(env).map(|home| home.join(".huaweicloud").join("credentials")), false),
    };
    let Some(path) = path else {
        tried.push("credentials file: no home directory (HOME is not set)".to_owned());
        return Ok(Found::Nothing(tried));
    };
    match crate::files::read_config_text(&path) {
        // A file that is there but yields no keys is an error, not the next source: the next
        // (the instance's agency) is another identity, and the file was meant to be used.
        Ok(text) => match from_file_text(&text, &path)? {
            Some(found) => return Ok(Found::Keys(found)),
            None => {
                let error = ConfigError::new(
                    ConfigErrorKind::InvalidCredentials,
                    format!(
                        "the credentials file {} has no [{}] or [{}] section",
                        path.display(),
                        FILE_SECTIONS[0],
                        FILE_SECTIONS[1]
                    ),
                )
                .hint("write `[basic]` with `ak = …` and `sk = …` in it, or remove the file to use another source");
                return Err(if explicit { error.variable(ENV_CREDENTIALS_FILE) } else { error });
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            tried.push(format!("credentials file {}: not found", path.display()));
        }
        Err(e) => {
            let error = ConfigError::new(
                ConfigErrorKind::InvalidCredentials,
                format!("cannot read the credentials file {}: {e}", path.display()),
            );
            return Err(if explicit { error.variable(ENV_CREDENTIALS_FILE) } else { error });
        }
    }
    Ok(Found::Nothing(tried))
}

/// No source had keys: the one error for it, whichever source was the last, listing what each
/// said; `also` is a hint of the last source, before the simulator's.
pub(crate) fn nothing_found(tried: &[String], also: Option<&str>) -> ConfigError {
    let mut error = ConfigError::new(
        ConfigErrorKind::MissingCredentials,
        format!("no credentials found; tried: {}", tried.join("; ")),
    )
    .hint(format!("set {ENV_AK} and {ENV_SK} in the environment"))
    .hint("or write `[basic]` with `ak = …` and `sk = …` to ~/.huaweicloud/credentials");
    if let Some(also) = also {
        error = error.hint(also);
    }
    error.hint(Hint::naming("or try it without an account: ", Setting::Simulator, ""))
}

fn from_environment(env: &dyn Environment) -> Result<Option<ResolvedCredentials>, ConfigError> {
    let (ak, sk) = (env_value(env, ENV_AK)?, env_value(env, ENV_SK)?);
    let token = env_value(env, ENV_SECURITY_TOKEN)?;
    let (ak, sk) = match (ak, sk) {
        (None, None) => {
            if token.is_some() {
                return Err(half_set(ENV_SECURITY_TOKEN, &format!("{ENV_AK} and {ENV_SK} are not")));
            }
            return Ok(None);
        }
        (Some(ak), Some(sk)) => (ak, sk),
        (Some(_), None) => return Err(half_set(ENV_AK, &format!("{ENV_SK} is not"))),
        (None, Some(_)) => return Err(half_set(ENV_SK, &format!("{ENV_AK} is not"))),
    };
    let mut credentials = Credentials::new(ak, sk);
    if let Some(token) = token {
        credentials = credentials.with_security_token(token);
    }
    Ok(Some(ResolvedCredentials {
        credentials,
        project_id: None,
        iam_endpoint: None,
        source: "environment variables".to_owned(),
    }))
}

fn half_set(set: &'static str, unset: &str) -> ConfigError {
    ConfigError::new(ConfigErrorKind::InvalidCredentials, format!("{set} is set but {unset}: both keys are needed"))
        .variable(set)
        .hint(format!("set {ENV_AK} and {ENV_SK} together, or unset {set} to use the credentials file"))
}

/// The keys read from a section of the credentials file.
const FILE_KEYS: [&str; 5] = ["ak", "sk", "project_id", "security_token", "iam_endpoint"];

/// Reads `ak`, `sk`, `project_id`, `security_token` and `iam_endpoint` from the first of
/// [`FILE_SECTIONS`] present in an INI text. `#` and `;` start comments; section names and
/// keys are case-insensitive.
///
/// Nothing is merged or guessed: one of these sections written twice (in any case, `[basic]`
/// and `[BASIC]`) or one key written twice in a section (`ak` and `AK`) is an error naming
/// both lines, since either reading could pair one account's access key with another's
/// secret key.
pub fn from_file_text(text: &str, path: &Path) -> Result<Option<ResolvedCredentials>, ConfigError> {
    let invalid = |why: String, hint: String| {
        ConfigError::new(ConfigErrorKind::InvalidCredentials, format!("the credentials file {} {why}", path.display()))
            .hint(hint)
    };
    // One pass: where each of our sections starts, and each known key of it, by line.
    let mut sections: Vec<(&str, usize)> = Vec::new();
    let mut keys: [Vec<(&str, usize, Option<String>)>; 2] = [Vec::new(), Vec::new()];
    let mut current: Option<usize> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim();
            current = FILE_SECTIONS.iter().position(|wanted| name.eq_ignore_ascii_case(wanted));
            if let Some(section) = current {
                if let Some((first, first_line)) = sections.iter().find(|(seen, _)| seen.eq_ignore_ascii_case(name)) {
                    return Err(invalid(
                        format!("has the section [{first}] twice: line {first_line} and line {number} ([{name}])"),
                        format!("keep one [{}] section", FILE_SECTIONS[section]),
                    ));
                }
                sections.push((name, number));
            }
            continue;
        }
        let Some(section) = current else { continue };
        let Some((key, value)) = line.split_once('=').or_else(|| line.split_once(':')) else { continue };
        let key = key.trim();
        let Some(known) = FILE_KEYS.iter().find(|known| key.eq_ignore_ascii_case(known)) else { continue };
        if let Some((first, first_line, _)) = keys[section].iter().find(|(seen, _, _)| seen.eq_ignore_ascii_case(known))
        {
            return Err(invalid(
                format!(
                    "has `{known}` twice in [{}]: line {first_line} (`{first}`) and line {number} (`{key}`)",
                    FILE_SECTIONS[section]
                ),
                format!("keep one `{known} = …` in [{}]", FILE_SECTIONS[section]),
            ));
        }
        keys[section].push((key, number, Some(value.trim().to_owned()).filter(|v| !v.is_empty())));
    }
    let Some(section) =
        FILE_SECTIONS.iter().position(|wanted| sections.iter().any(|(name, _)| name.eq_ignore_ascii_case(wanted)))
    else {
        return Ok(None);
    };
    let wanted = FILE_SECTIONS[section];
    let value = |name: &str| {
        keys[section].iter().find(|(key, _, _)| key.eq_ignore_ascii_case(name)).and_then(|(_, _, value)| value.clone())
    };
    match (value("ak"), value("sk")) {
        (Some(ak), Some(sk)) => {
            warn_if_readable_by_others(path);
            let mut credentials = Credentials::new(ak, sk);
            if let Some(token) = value("security_token") {
                credentials = credentials.with_security_token(token);
            }
            Ok(Some(ResolvedCredentials {
                credentials,
                project_id: value("project_id"),
                iam_endpoint: value("iam_endpoint"),
                source: format!("credentials file {} [{wanted}]", path.display()),
            }))
        }
        (ak, _) => Err(invalid(
            format!("has a [{wanted}] section without {}", if ak.is_none() { "ak" } else { "sk" }),
            format!("add `ak = …` and `sk = …` under [{wanted}]"),
        )),
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            "the credentials file can be read by other users; `chmod 600` it"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}
