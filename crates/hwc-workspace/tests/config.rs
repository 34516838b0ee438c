//! The credentials chain, the project id's precedence and region resolution, with made-up
//! environments (values need not be UTF-8) and a temporary home directory instead of the
//! machine's own. Nothing here opens a connection: what needs one (the metadata service, IAM,
//! proxies, failover) is tested against the simulator in `hwc-workspace-sim/tests/network.rs`.

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use hwc_workspace::credentials::{Environment, Found, ResolvedCredentials, from_chain};
use hwc_workspace::regions::{REGIONS, override_variable, resolve};
use hwc_workspace::{Client, ConfigErrorKind, Credentials, Error};

/// An environment of made-up variables; nothing from the process's own.
#[derive(Clone, Default)]
struct Env(HashMap<String, OsString>);

impl Env {
    fn with(mut self, name: &str, value: impl Into<OsString>) -> Self {
        self.0.insert(name.to_owned(), value.into());
        self
    }
    /// A value that is not UTF-8.
    fn with_bytes(self, name: &str) -> Self {
        self.with(name, OsString::from_vec(b"AK\xff\xfe".to_vec()))
    }
}

impl Environment for Env {
    fn var_os(&self, name: &str) -> Option<OsString> {
        self.0.get(name).cloned()
    }
}

fn env(pairs: &[(&str, &str)]) -> Env {
    // The metadata service is off unless a test turns it on: nothing here may reach out.
    pairs.iter().fold(Env::default().with("HWC_METADATA_ENDPOINT", "off"), |e, (k, v)| e.with(k, *v))
}

fn keys(found: Found) -> ResolvedCredentials {
    match found {
        Found::Keys(keys) => keys,
        Found::Nothing(tried) => panic!("no keys found: {tried:?}"),
    }
}

fn home_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".huaweicloud")).unwrap();
    for (name, text) in files {
        std::fs::write(home.path().join(".huaweicloud").join(name), text).unwrap();
    }
    home
}

fn home_str(home: &tempfile::TempDir) -> String {
    home.path().to_str().unwrap().to_owned()
}

fn config_error(result: Result<Client, Error>) -> hwc_workspace::ConfigError {
    match result {
        Err(Error::Configuration(e)) => e,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn environment_variables_come_first() {
    let home = home_with(&[("credentials", "[basic]\nak = FILE-AK\nsk = file-sk\n")]);
    let e = env(&[
        ("HOME", &home_str(&home)),
        ("HUAWEICLOUD_SDK_AK", "ENV-AK"),
        ("HUAWEICLOUD_SDK_SK", "env-sk"),
        ("HUAWEICLOUD_SDK_PROJECT_ID", "env-project"),
        ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "env-token"),
    ]);
    let found = keys(from_chain(&e).unwrap());
    assert_eq!(found.credentials, Credentials::new("ENV-AK", "env-sk").with_security_token("env-token"));
    let client = Client::builder().environment(e).endpoint("http://127.0.0.1:1").build().unwrap();
    assert_eq!(client.project_id().as_deref(), Some("env-project"));
}

#[test]
fn half_set_environment_is_an_error_naming_the_missing_variable() {
    let e = env(&[("HUAWEICLOUD_SDK_AK", "ENV-AK")]);
    let error = from_chain(&e).unwrap_err();
    assert_eq!(error.kind(), ConfigErrorKind::InvalidCredentials);
    assert!(error.message().contains("HUAWEICLOUD_SDK_SK"), "{error}");
}

#[test]
fn the_credentials_file_in_home_is_read_basic_winning_over_basiccredentials() {
    let text = "# comment\n[basiccredentials]\nak = OLD-AK\nsk = old-sk\n\n[basic]\nak = BASIC-AK\nsk = basic-sk\nproject_id = file-project\nsecurity_token = file-token\n";
    let home = home_with(&[("credentials", text)]);
    let found = keys(from_chain(&env(&[("HOME", &home_str(&home))])).unwrap());
    assert_eq!(found.credentials, Credentials::new("BASIC-AK", "basic-sk").with_security_token("file-token"));
    assert_eq!(found.project_id.as_deref(), Some("file-project"));
    assert!(found.source.contains("[basic]"), "{}", found.source);

    let home = home_with(&[("credentials", "[basiccredentials]\nak=BC-AK\nsk=bc-sk\n")]);
    let found = keys(from_chain(&env(&[("HOME", &home_str(&home))])).unwrap());
    assert_eq!(found.credentials.access_key(), "BC-AK");
}

#[test]
fn an_explicit_credentials_file_variable_wins_over_home() {
    let home = home_with(&[("credentials", "[basic]\nak = HOME-AK\nsk = s\n")]);
    let other = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other.path(), "[basic]\nak = EXPLICIT-AK\nsk = s\n").unwrap();
    let e = env(&[("HOME", &home_str(&home)), ("HUAWEICLOUD_SDK_CREDENTIALS_FILE", other.path().to_str().unwrap())]);
    assert_eq!(keys(from_chain(&e).unwrap()).credentials.access_key(), "EXPLICIT-AK");

    let missing = env(&[("HUAWEICLOUD_SDK_CREDENTIALS_FILE", "/nonexistent/credentials")]);
    let error = from_chain(&missing).unwrap_err();
    assert!(error.message().contains("/nonexistent/credentials"), "{error}");
}

#[test]
fn a_section_without_sk_is_an_error() {
    let home = home_with(&[("credentials", "[basic]\nak = ONLY-AK\n")]);
    let error = from_chain(&env(&[("HOME", &home_str(&home))])).unwrap_err();
    assert_eq!(error.kind(), ConfigErrorKind::InvalidCredentials);
    assert!(error.message().contains("sk"), "{error}");
}

#[test]
fn nothing_found_lists_every_place_tried() {
    let home = tempfile::tempdir().unwrap();
    let error =
        config_error(Client::builder().environment(env(&[("HOME", &home_str(&home))])).region("cn-north-4").build());
    assert_eq!(error.kind(), ConfigErrorKind::MissingCredentials);
    let message = error.message();
    for tried in [
        "explicit",
        "HUAWEICLOUD_SDK_AK",
        "HUAWEICLOUD_SDK_SK",
        &home.path().join(".huaweicloud/credentials").display().to_string(),
        "instance metadata service: turned off (HWC_METADATA_ENDPOINT=off)",
    ] {
        assert!(message.contains(tried), "{tried} missing from: {message}");
    }
    assert!(!error.hints().is_empty());
}

#[test]
fn the_builder_uses_the_chain_and_looks_a_missing_project_up_only_with_a_region() {
    let home = home_with(&[("credentials", "[basic]\nak = B-AK\nsk = b-sk\n")]);
    let e = env(&[("HOME", &home_str(&home))]);
    // With a region, the project id is left to the IAM lookup of the first call.
    let client = Client::builder().environment(e.clone()).region("cn-north-4").build().unwrap();
    assert_eq!(client.project_id(), None);
    // An official endpoint names its region; any other endpoint does not.
    let client = Client::builder()
        .environment(e.clone())
        .endpoint("https://workspace.cn-east-3.myhuaweicloud.com")
        .build()
        .unwrap();
    assert_eq!(client.project_id(), None);
    let error = config_error(Client::builder().environment(e.clone()).endpoint("http://127.0.0.1:1").build());
    assert_eq!(error.kind(), ConfigErrorKind::MissingProjectId);
    let hints: Vec<String> = error.hints().iter().map(ToString::to_string).collect();
    assert!(hints.iter().any(|h| h.contains("HUAWEICLOUD_SDK_PROJECT_ID")), "{hints:?}");
    assert!(hints.iter().any(|h| h.contains("region") && h.contains("IAM")), "{hints:?}");
    let client = Client::builder().environment(e).region("cn-north-4").project_id("p-1").build().unwrap();
    assert_eq!(client.access_key().as_deref(), Some("B-AK"));
    assert_eq!(client.project_id().as_deref(), Some("p-1"));
    assert_eq!(client.endpoint(), "https://workspace.cn-north-4.myhuaweicloud.com");
}

#[test]
fn every_known_region_has_the_official_endpoint() {
    let nothing = env(&[]);
    assert_eq!(REGIONS.len(), 18);
    for region in REGIONS {
        assert_eq!(resolve(region, &nothing).unwrap(), [format!("https://workspace.{region}.myhuaweicloud.com")]);
    }
}

#[test]
fn an_unknown_region_names_the_known_ones_and_the_endpoint_option() {
    let error = resolve("xx-mars-1", &env(&[])).unwrap_err();
    assert_eq!(error.kind(), ConfigErrorKind::UnknownRegion);
    assert!(error.message().contains("xx-mars-1") && error.message().contains("cn-north-4"), "{error}");
    assert!(
        error
            .hints()
            .iter()
            .map(ToString::to_string)
            .any(|h| h.contains("endpoint") && h.contains("HUAWEICLOUD_SDK_REGION_WORKSPACE_XX_MARS_1")),
        "{:?}",
        error.hints()
    );
}

#[test]
fn the_environment_override_wins_then_regions_yaml() {
    assert_eq!(override_variable("cn-north-4"), "HUAWEICLOUD_SDK_REGION_WORKSPACE_CN_NORTH_4");
    let yaml = "WORKSPACE:\n  - id: cn-north-4\n    endpoint: https://file.example:8443\n  - id: xx-new-1\n    endpoint: https://new.example\n";
    let home = home_with(&[("regions.yaml", yaml)]);
    let with_both = env(&[
        ("HOME", &home_str(&home)),
        ("HUAWEICLOUD_SDK_REGION_WORKSPACE_CN_NORTH_4", " https://env.example, https://second.example"),
    ]);
    assert_eq!(resolve("cn-north-4", &with_both).unwrap(), ["https://env.example", "https://second.example"]);
    let file_only = env(&[("HOME", &home_str(&home))]);
    assert_eq!(resolve("cn-north-4", &file_only).unwrap(), ["https://file.example:8443"]);
    assert_eq!(
        resolve("xx-new-1", &file_only).unwrap(),
        ["https://new.example"],
        "a region only in regions.yaml is usable"
    );
    assert_eq!(resolve("cn-east-3", &file_only).unwrap(), ["https://workspace.cn-east-3.myhuaweicloud.com"]);
}

#[test]
fn an_explicit_regions_file_variable_is_read_and_bad_yaml_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.yaml");
    std::fs::write(&path, "WORKSPACE:\n  - id: cn-north-4\n    endpoints: [https://a.example, https://b.example]\n")
        .unwrap();
    let e = env(&[("HUAWEICLOUD_SDK_REGIONS_FILE", path.to_str().unwrap())]);
    assert_eq!(resolve("cn-north-4", &e).unwrap(), ["https://a.example", "https://b.example"]);
    std::fs::write(&path, "WORKSPACE: [ {").unwrap();
    let error = resolve("cn-north-4", &e).unwrap_err();
    assert!(error.message().contains(&path.display().to_string()), "{error}");
}

#[cfg(unix)]
#[test]
fn a_world_readable_credentials_file_still_works() {
    use std::os::unix::fs::PermissionsExt;
    let home = home_with(&[("credentials", "[basic]\nak = PERM-AK\nsk = s\n")]);
    let file = home.path().join(".huaweicloud/credentials");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(keys(from_chain(&env(&[("HOME", &home_str(&home))])).unwrap()).credentials.access_key(), "PERM-AK");
}

#[test]
fn a_ca_file_whose_body_is_garbage_says_so() {
    let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let error = Client::builder()
        .credentials(Credentials::new("AK", "SK"))
        .project_id("p1")
        .endpoint("https://127.0.0.1:1")
        .ca_certificate_pem(garbage)
        .build()
        .unwrap_err();
    let Error::Configuration(config) = &error else { panic!("{error:?}") };
    assert_eq!(config.kind(), ConfigErrorKind::CaCertificate);
    assert!(config.message().contains("certificate 1 of the file is not one"), "{error}");
    assert!(!config.message().contains("builder error"), "{error}");
}

#[test]
fn credentials_that_cannot_be_headers_are_configuration_errors_naming_them() {
    let cases = [
        (Credentials::new("HPUA\r\nX", "SK"), "access key"),
        (Credentials::new("HPUA", "SK").with_security_token("t\nu"), "security token"),
        (Credentials::new("HPUA", "SK").with_security_token("t\u{7f}u"), "security token"),
    ];
    for (credentials, named) in cases {
        let error = Client::builder().credentials(credentials).project_id("p1").endpoint("http://127.0.0.1:1").build();
        match error {
            Err(Error::Configuration(e)) => {
                assert_eq!(e.kind(), ConfigErrorKind::InvalidCredentials);
                assert!(e.message().contains(named) && e.message().contains("explicit credentials"), "{e}");
            }
            other => panic!("{named}: {other:?}"),
        }
    }
    // Surrounding blanks are trimmed by signing, as the official signer does: not an error.
    let padded = Credentials::new(" HPUA \n", "SK").with_security_token("\ttoken ");
    assert!(Client::builder().credentials(padded).project_id("p1").endpoint("http://127.0.0.1:1").build().is_ok());
}

#[tokio::test]
async fn a_refused_connection_is_said_once_with_the_cause_at_the_end() {
    let client = Client::builder()
        .credentials(Credentials::new("AK", "SK"))
        .project_id("p1")
        .endpoint("http://127.0.0.1:1")
        .build()
        .unwrap();
    let error = client.show_job("j-1").await.unwrap_err();
    let message = error.message_with_causes();
    assert!(message.starts_with("could not connect to http://127.0.0.1:1: "), "{message}");
    assert!(message.to_ascii_lowercase().contains("connection refused"), "{message}");
    for wrapper in ["error sending request", "client error", "tcp connect error"] {
        assert!(!message.contains(wrapper), "{message}");
    }
}

#[test]
fn a_variable_that_is_not_utf8_is_an_error_naming_it_never_a_fall_through() {
    // The file holds another account's keys: a chain that took the bad variable for unset
    // would sign with them.
    let home = home_with(&[("credentials", "[basic]\nak = OTHER-AK\nsk = other-sk\nproject_id = other\n")]);
    let base = env(&[("HOME", &home_str(&home)), ("HUAWEICLOUD_SDK_AK", "ENV-AK"), ("HUAWEICLOUD_SDK_SK", "env-sk")]);
    for variable in [
        "HUAWEICLOUD_SDK_AK",
        "HUAWEICLOUD_SDK_SK",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN",
        "HUAWEICLOUD_SDK_PROJECT_ID",
        "HUAWEICLOUD_SDK_REGIONS_FILE",
        "HUAWEICLOUD_SDK_REGION_WORKSPACE_CN_NORTH_4",
        "HUAWEICLOUD_SDK_IAM_ENDPOINT",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
    ] {
        let bad = base.clone().with_bytes(variable);
        let error = config_error(Client::builder().environment(bad).region("cn-north-4").build());
        assert_eq!(error.kind(), ConfigErrorKind::InvalidEnvironment, "{variable}: {error}");
        assert_eq!(error.environment_variable(), Some(variable), "{error}");
        assert!(error.message().contains(variable) && error.message().contains("UTF-8"), "{error}");
    }
    // The file's variable is read when the environment has no keys.
    let bad = env(&[("HOME", &home_str(&home))]).with_bytes("HUAWEICLOUD_SDK_CREDENTIALS_FILE");
    let error = config_error(Client::builder().environment(bad).region("cn-north-4").build());
    assert_eq!(error.environment_variable(), Some("HUAWEICLOUD_SDK_CREDENTIALS_FILE"), "{error}");
    // With the keys from the file, a bad metadata endpoint variable is not even read; without
    // any keys it is the source the chain would use, and is named.
    let no_keys =
        Env::default().with("HOME", home_str(&tempfile::tempdir().unwrap())).with_bytes("HWC_METADATA_ENDPOINT");
    let error = config_error(Client::builder().environment(no_keys).region("cn-north-4").build());
    assert_eq!(error.environment_variable(), Some("HWC_METADATA_ENDPOINT"), "{error}");
}

#[test]
fn a_home_that_is_not_utf8_is_still_a_home() {
    use std::os::unix::ffi::OsStrExt;
    let parent = tempfile::tempdir().unwrap();
    let home = parent.path().join(std::ffi::OsStr::from_bytes(b"h\xffme"));
    std::fs::create_dir_all(home.join(".huaweicloud")).unwrap();
    std::fs::write(home.join(".huaweicloud/credentials"), "[basic]\nak = HOME-AK\nsk = s\n").unwrap();
    let e = env(&[]).with("HOME", home.into_os_string());
    assert_eq!(keys(from_chain(&e).unwrap()).credentials.access_key(), "HOME-AK");
}

#[test]
fn a_token_without_keys_is_an_error_not_ignored() {
    let home = home_with(&[("credentials", "[basic]\nak = FILE-AK\nsk = s\n")]);
    let e = env(&[("HOME", &home_str(&home)), ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "t")]);
    let error = from_chain(&e).unwrap_err();
    assert_eq!(error.kind(), ConfigErrorKind::InvalidCredentials);
    assert_eq!(error.environment_variable(), Some("HUAWEICLOUD_SDK_SECURITY_TOKEN"), "{error}");
}

#[test]
fn the_project_id_follows_one_precedence_whatever_the_keys_source() {
    let home = home_with(&[("credentials", "[basic]\nak = FILE-AK\nsk = s\nproject_id = file-project\n")]);
    let file_keys = env(&[("HOME", &home_str(&home))]);
    let build = |e: &Env, explicit: Option<&str>| {
        let mut builder = Client::builder().environment(e.clone()).region("cn-north-4");
        if let Some(project) = explicit {
            builder = builder.project_id(project);
        }
        builder.build().unwrap().project_id()
    };
    assert_eq!(build(&file_keys, None).as_deref(), Some("file-project"));
    let with_env_project = file_keys.clone().with("HUAWEICLOUD_SDK_PROJECT_ID", "env-project");
    assert_eq!(build(&with_env_project, None).as_deref(), Some("env-project"), "the environment wins over the file");
    assert_eq!(build(&with_env_project, Some("given")).as_deref(), Some("given"), "given wins over everything");
    // Keys from the environment: the file's project belongs to the file's account, so it is
    // not used with them; the project is looked up.
    let env_keys = file_keys.clone().with("HUAWEICLOUD_SDK_AK", "ENV-AK").with("HUAWEICLOUD_SDK_SK", "s");
    assert_eq!(build(&env_keys, None), None);
    let client = Client::builder()
        .environment(file_keys)
        .credentials(Credentials::new("GIVEN-AK", "s"))
        .region("cn-north-4")
        .build()
        .unwrap();
    assert_eq!(client.project_id(), None, "given keys do not take the file's project either");
    assert_eq!(client.credentials_source(), "explicit credentials");
}

#[test]
fn regions_yaml_is_read_as_the_official_sdk_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("regions.yaml");
    let e = env(&[("HUAWEICLOUD_SDK_REGIONS_FILE", path.to_str().unwrap())]);
    // The service key in any case.
    std::fs::write(&path, "workspace:\n  - id: cn-north-4\n    endpoint: https://lower.example\n").unwrap();
    assert_eq!(resolve("cn-north-4", &e).unwrap(), ["https://lower.example"]);
    std::fs::write(&path, "Workspace:\n  - id: cn-north-4\n    endpoint: https://mixed.example\nECS:\n  - id: x\n")
        .unwrap();
    assert_eq!(resolve("cn-north-4", &e).unwrap(), ["https://mixed.example"]);
    // `endpoints` wins over `endpoint`.
    std::fs::write(
        &path,
        "WORKSPACE:\n  - id: cn-north-4\n    endpoint: https://single.example\n    endpoints: [https://one.example, https://two.example]\n",
    )
    .unwrap();
    assert_eq!(resolve("cn-north-4", &e).unwrap(), ["https://one.example", "https://two.example"]);
    // An entry without an id is skipped; the others still count.
    std::fs::write(
        &path,
        "WORKSPACE:\n  - endpoint: https://orphan.example\n  - id: cn-north-4\n    endpoint: https://kept.example\n",
    )
    .unwrap();
    assert_eq!(resolve("cn-north-4", &e).unwrap(), ["https://kept.example"]);
    // Another service's list only: the built-in endpoint.
    std::fs::write(&path, "ECS:\n  - id: cn-north-4\n    endpoint: https://ecs.example\n").unwrap();
    assert_eq!(resolve("cn-north-4", &e).unwrap(), ["https://workspace.cn-north-4.myhuaweicloud.com"]);
    // Several endpoints reach the client, in order.
    std::fs::write(&path, "WORKSPACE:\n  - id: cn-north-4\n    endpoints: [http://127.0.0.1:1, http://127.0.0.1:2]\n")
        .unwrap();
    let client = Client::builder()
        .environment(e)
        .credentials(Credentials::new("A", "S"))
        .project_id("p")
        .region("cn-north-4")
        .build()
        .unwrap();
    assert_eq!(client.endpoints(), ["http://127.0.0.1:1", "http://127.0.0.1:2"]);
}

#[test]
fn proxy_settings_are_checked_and_never_show_a_password() {
    let base =
        || Client::builder().credentials(Credentials::new("A", "S")).project_id("p").endpoint("https://h.example");
    for (variable, value) in [
        ("HTTPS_PROXY", "ftp://user:s3cret@proxy:21"),
        ("ALL_PROXY", "http://user:s3cret@"),
        ("http_proxy", "socks5://u:s3cret@p:1"),
    ] {
        let error = config_error(base().environment(env(&[(variable, value)])).build());
        assert_eq!(error.kind(), ConfigErrorKind::InvalidProxy, "{error}");
        assert_eq!(error.environment_variable(), Some(variable), "{error}");
        assert!(error.message().contains(variable) && !error.message().contains("s3cret"), "{error}");
    }
    let error = config_error(base().proxy("gopher://u:s3cret@p:70").build());
    assert!(error.message().contains("proxy option") && !error.message().contains("s3cret"), "{error}");
    assert_eq!(error.environment_variable(), None);
    // A proxy without a scheme is http, as curl reads it; the builder's Debug masks it.
    let builder = base().environment(env(&[("HTTPS_PROXY", "proxy.example:3128")])).proxy("http://u:s3cret@p:1");
    assert!(!format!("{builder:?}").contains("s3cret"), "{builder:?}");
    assert!(builder.build().is_ok());
    assert!(base().environment(env(&[("HTTPS_PROXY", "proxy.example:3128")])).build().is_ok());
}

// ---- Parsing is bounded in time (issue 22, item 3) and never falls through by format (item 6).

/// Runs `f` on its own thread and fails the test if it takes more than a minute: a parser that
/// regressed to quadratic fails here instead of hanging the suite. Timings are printed, never
/// asserted.
fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = std::sync::mpsc::channel();
    let started = std::time::Instant::now();
    std::thread::spawn(move || {
        let _ = send.send(f());
    });
    let value = receive
        .recv_timeout(std::time::Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what}: not done within 60 s"));
    eprintln!("{what}: {:?}", started.elapsed());
    value
}

/// Writes `text` as the regions file and resolves a region with it, on a bounded thread.
fn resolve_with_regions_file(what: &str, text: String) -> (Result<Vec<String>, hwc_workspace::ConfigError>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("regions.yaml");
    assert!(text.len() as u64 <= hwc_workspace::files::MAX_CONFIG_FILE_BYTES, "{what}: {} bytes", text.len());
    std::fs::write(&path, text).unwrap();
    let shown = path.display().to_string();
    let e = env(&[("HUAWEICLOUD_SDK_REGIONS_FILE", &shown)]);
    let result = bounded(what, move || {
        let result = resolve("cn-north-4", &e);
        drop(dir);
        result
    });
    (result, shown)
}

/// Just under the size cap, so every hostile file is the largest one that is read at all.
const HOSTILE_BYTES: usize = hwc_workspace::files::MAX_CONFIG_FILE_BYTES as usize - 64;

#[test]
fn regions_yaml_of_deep_flow_nesting_is_refused_at_once_naming_the_file_and_the_limit() {
    use hwc_workspace::regions::MAX_REGIONS_FLOW_DEPTH;
    // 200 KB of this took more than 30 s before; 4 MiB would have taken hours.
    for (what, text) in [
        ("deep flow sequences", format!("WORKSPACE: {}", "[".repeat(HOSTILE_BYTES))),
        ("deep flow mappings", format!("WORKSPACE: {}", "{a: ".repeat(HOSTILE_BYTES / 4))),
        ("closers hidden in quotes", format!("WORKSPACE: {}", "[\"]\",".repeat(HOSTILE_BYTES / 5))),
    ] {
        let (result, path) = resolve_with_regions_file(what, text);
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ConfigErrorKind::InvalidEndpoint, "{what}");
        assert!(error.message().contains(&path), "{what}: {error}");
        assert!(error.message().contains(&format!("deeper than {MAX_REGIONS_FLOW_DEPTH} levels")), "{what}: {error}");
    }
}

#[test]
fn the_worst_regions_yaml_accepted_parses_within_a_bound() {
    use hwc_workspace::regions::MAX_REGIONS_FLOW_DEPTH;
    // Flow nesting at the limit, repeated until the size cap: what the parser may still cost.
    let item = format!("- {}x{}\n", "[".repeat(MAX_REGIONS_FLOW_DEPTH), "]".repeat(MAX_REGIONS_FLOW_DEPTH));
    let mut text = "WORKSPACE:\n  - id: cn-north-4\n    endpoint: https://kept.example\nECS:\n".to_owned();
    text.push_str(&item.repeat((HOSTILE_BYTES - text.len()) / item.len()));
    let (result, _) = resolve_with_regions_file("4 MiB of flow nesting 64 deep", text);
    assert_eq!(result.unwrap(), ["https://kept.example"]);
}

#[test]
fn regions_yaml_of_deep_block_nesting_is_refused_naming_the_limit() {
    use hwc_workspace::regions::MAX_REGIONS_NESTING;
    let mut mappings = String::new();
    for depth in 0.. {
        let line = format!("{}k:\n", " ".repeat(depth));
        if mappings.len() + line.len() > HOSTILE_BYTES {
            break;
        }
        mappings.push_str(&line);
    }
    for (what, text) in [
        ("deep block sequences", format!("WORKSPACE:\n{}", "- ".repeat(HOSTILE_BYTES / 2))),
        ("deep block mappings", mappings),
    ] {
        let (result, path) = resolve_with_regions_file(what, text);
        let error = result.unwrap_err();
        assert!(error.message().contains(&path), "{what}: {error}");
        assert!(error.message().contains(&format!("deeper than {MAX_REGIONS_NESTING} levels")), "{what}: {error}");
    }
}

#[test]
fn regions_yaml_alias_bombs_are_refused_before_any_expansion() {
    // serde_yaml replays an alias's node at every use: 200 KB of this took 43 s before.
    let mut fan_out = String::from("ECS: &a [");
    fan_out.push_str(&"x,".repeat(HOSTILE_BYTES / 4));
    fan_out.push_str("]\nWORKSPACE: [");
    fan_out.push_str(&"*a,".repeat(HOSTILE_BYTES / 8));
    fan_out.push(']');
    let mut laughs = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        laughs.push_str(&format!("l{level}: &l{level} [{}]\n", vec![format!("*l{}", level - 1); 9].join(", ")));
    }
    for (what, text) in [("alias fan-out", fan_out), ("billion laughs", laughs)] {
        let (result, path) = resolve_with_regions_file(what, text);
        let error = result.unwrap_err();
        assert!(error.message().contains(&path), "{what}: {error}");
        assert!(error.message().contains("alias"), "{what}: {error}");
    }
}

#[test]
fn regions_yaml_with_a_bom_is_read() {
    let (result, _) = resolve_with_regions_file(
        "a BOM",
        "\u{feff}WORKSPACE:\n  - id: cn-north-4\n    endpoint: https://bom.example\n".to_owned(),
    );
    assert_eq!(result.unwrap(), ["https://bom.example"]);
}

#[test]
fn regions_yaml_duplicates_and_disagreeing_spellings_are_errors_naming_both() {
    for (what, text, expected) in [
        (
            "two spellings of the service",
            "WORKSPACE:\n  - id: cn-north-4\n    endpoint: https://upper.example\nworkspace:\n  - id: cn-north-4\n    endpoint: https://lower.example\n",
            &["`WORKSPACE:` (line 1)", "`workspace:` (line 4)"][..],
        ),
        (
            "the same service key twice",
            "WORKSPACE:\n  - id: cn-north-4\n    endpoint: https://a.example\nWORKSPACE:\n  - id: cn-north-4\n    endpoint: https://b.example\n",
            &["duplicate", "WORKSPACE"][..],
        ),
        (
            "a region listed twice",
            "WORKSPACE:\n  - id: cn-east-3\n    endpoint: https://other.example\n  - id: cn-north-4\n    endpoint: https://a.example\n  - id: cn-north-4\n    endpoint: https://b.example\n",
            &["\"cn-north-4\" twice", "entries 2 and 3"][..],
        ),
        (
            "a field in another case",
            "WORKSPACE:\n  - id: cn-north-4\n    endpoint: https://a.example\n    Endpoint: https://b.example\n",
            &["entry 1", "`Endpoint:`, which is not `endpoint:`"][..],
        ),
        (
            "a field twice in an entry",
            "WORKSPACE:\n  - id: cn-north-4\n    endpoint: https://a.example\n    endpoint: https://b.example\n",
            &["duplicate", "endpoint"][..],
        ),
    ] {
        let (result, path) = resolve_with_regions_file(what, text.to_owned());
        let error = result.unwrap_err();
        assert!(error.message().contains(&path), "{what}: {error}");
        for part in expected {
            assert!(error.message().contains(part), "{what}: {part} missing from {error}");
        }
    }
}

#[test]
fn a_credentials_file_with_a_bom_is_read_not_skipped_for_another_identity() {
    let home = home_with(&[("credentials", "\u{feff}[basic]\nak = BOM-AK\nsk = BOM-SK\n")]);
    let found = keys(from_chain(&env(&[("HOME", &home_str(&home))])).unwrap());
    assert_eq!(found.credentials.access_key(), "BOM-AK");
}

#[test]
fn credentials_file_duplicates_are_errors_naming_both_lines_never_merged() {
    for (what, text, expected) in [
        (
            "a section twice",
            "[basic]\nak = AK-ONE\n\n[other]\nx = 1\n[BASIC]\nsk = SK-TWO\n",
            &["[basic] twice", "line 1", "line 6"][..],
        ),
        ("a key twice", "[basic]\nak = AK-ONE\nsk = SK-ONE\nAK = AK-TWO\n", &["`ak` twice", "line 2", "line 4"][..]),
        (
            "a key twice in the other section",
            "[basiccredentials]\nsk: S\nak = A\nsk = T\n",
            &["`sk` twice in [basiccredentials]", "line 2", "line 4"][..],
        ),
    ] {
        let home = home_with(&[("credentials", text)]);
        let error = from_chain(&env(&[("HOME", &home_str(&home))])).unwrap_err();
        assert_eq!(error.kind(), ConfigErrorKind::InvalidCredentials, "{what}");
        let message = error.message();
        assert!(message.contains(&home.path().join(".huaweicloud/credentials").display().to_string()), "{message}");
        for part in expected {
            assert!(message.contains(part), "{what}: {part} missing from {message}");
        }
        for secret in ["SK-ONE", "SK-TWO", "AK-TWO"] {
            assert!(!message.contains(secret), "{what}: a value is quoted: {message}");
        }
    }
}

#[test]
fn a_present_credentials_file_without_keys_is_an_error_not_the_next_source() {
    for text in ["", "\u{feff}", "# nothing yet\n", "[default]\nak = A\nsk = S\n", "ak = A\nsk = S\n"] {
        let home = home_with(&[("credentials", text)]);
        // The metadata service is on and loopback-only: the chain must stop before it.
        let e = env(&[("HOME", &home_str(&home))]).with("HWC_METADATA_ENDPOINT", "http://127.0.0.1:9");
        let error = from_chain(&e).unwrap_err();
        assert_eq!(error.kind(), ConfigErrorKind::InvalidCredentials, "{text:?}");
        assert!(error.message().contains(".huaweicloud/credentials"), "{text:?}: {error}");
        assert!(error.message().contains("no [basic] or [basiccredentials] section"), "{text:?}: {error}");
        let built = Client::builder().environment(e).region("cn-north-4").build();
        assert_eq!(config_error(built).kind(), ConfigErrorKind::InvalidCredentials, "{text:?}");
    }
}

#[test]
fn the_largest_credentials_file_is_read_in_linear_time() {
    // INI has no nesting; what could cost is many sections and lines: each line is looked at
    // once, and only the few known keys of our sections are kept.
    let mut text = "[other]\nk = v\n; comment\n".repeat(HOSTILE_BYTES / 24);
    text.push_str("[basic]\nak = LAST-AK\nsk = LAST-SK\n");
    let home = home_with(&[("credentials", &text)]);
    let e = env(&[("HOME", &home_str(&home))]);
    let found = bounded("4 MiB credentials file", move || from_chain(&e).map(keys));
    assert_eq!(found.unwrap().credentials.access_key(), "LAST-AK");
}
