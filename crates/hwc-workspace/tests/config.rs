//! The credentials chain and region resolution, with made-up environments and a temporary
//! home directory instead of the machine's own.

use std::collections::HashMap;

use hwc_workspace::credentials::{Environment, from_chain};
use hwc_workspace::regions::{REGIONS, override_variable, resolve};
use hwc_workspace::{Client, ConfigErrorKind, Credentials, Error};

fn env(pairs: &[(&str, &str)]) -> impl Environment + Clone + 'static {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name: &str| map.get(name).cloned()
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
    let found = from_chain(&e).unwrap();
    assert_eq!(found.credentials, Credentials::new("ENV-AK", "env-sk").with_security_token("env-token"));
    assert_eq!(found.project_id.as_deref(), Some("env-project"));
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
    let found = from_chain(&env(&[("HOME", &home_str(&home))])).unwrap();
    assert_eq!(found.credentials, Credentials::new("BASIC-AK", "basic-sk").with_security_token("file-token"));
    assert_eq!(found.project_id.as_deref(), Some("file-project"));
    assert!(found.source.contains("[basic]"), "{}", found.source);

    let home = home_with(&[("credentials", "[basiccredentials]\nak=BC-AK\nsk=bc-sk\n")]);
    let found = from_chain(&env(&[("HOME", &home_str(&home))])).unwrap();
    assert_eq!(found.credentials.access_key(), "BC-AK");
}

#[test]
fn an_explicit_credentials_file_variable_wins_over_home() {
    let home = home_with(&[("credentials", "[basic]\nak = HOME-AK\nsk = s\n")]);
    let other = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other.path(), "[basic]\nak = EXPLICIT-AK\nsk = s\n").unwrap();
    let e = env(&[("HOME", &home_str(&home)), ("HUAWEICLOUD_SDK_CREDENTIALS_FILE", other.path().to_str().unwrap())]);
    assert_eq!(from_chain(&e).unwrap().credentials.access_key(), "EXPLICIT-AK");

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
    let error = from_chain(&env(&[("HOME", &home_str(&home))])).unwrap_err();
    assert_eq!(error.kind(), ConfigErrorKind::MissingCredentials);
    let message = error.message();
    for tried in [
        "explicit",
        "HUAWEICLOUD_SDK_AK",
        "HUAWEICLOUD_SDK_SK",
        &home.path().join(".huaweicloud/credentials").display().to_string(),
    ] {
        assert!(message.contains(tried), "{tried} missing from: {message}");
    }
    assert!(!error.hints().is_empty());
}

#[test]
fn the_builder_uses_the_chain_and_reports_a_missing_project() {
    let home = home_with(&[("credentials", "[basic]\nak = B-AK\nsk = b-sk\n")]);
    let e = env(&[("HOME", &home_str(&home))]);
    let error = Client::builder().environment(e.clone()).region("cn-north-4").build().unwrap_err();
    assert!(matches!(&error, Error::Configuration(c) if c.kind() == ConfigErrorKind::MissingProjectId), "{error:?}");
    let client = Client::builder().environment(e).region("cn-north-4").project_id("p-1").build().unwrap();
    assert_eq!(client.access_key(), "B-AK");
    assert_eq!(client.endpoint(), "https://workspace.cn-north-4.myhuaweicloud.com");
}

#[test]
fn every_known_region_has_the_official_endpoint() {
    let nothing = env(&[]);
    assert_eq!(REGIONS.len(), 18);
    for region in REGIONS {
        assert_eq!(resolve(region, &nothing).unwrap(), format!("https://workspace.{region}.myhuaweicloud.com"));
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
    assert_eq!(resolve("cn-north-4", &with_both).unwrap(), "https://env.example");
    let file_only = env(&[("HOME", &home_str(&home))]);
    assert_eq!(resolve("cn-north-4", &file_only).unwrap(), "https://file.example:8443");
    assert_eq!(
        resolve("xx-new-1", &file_only).unwrap(),
        "https://new.example",
        "a region only in regions.yaml is usable"
    );
    assert_eq!(resolve("cn-east-3", &file_only).unwrap(), "https://workspace.cn-east-3.myhuaweicloud.com");
}

#[test]
fn an_explicit_regions_file_variable_is_read_and_bad_yaml_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.yaml");
    std::fs::write(&path, "WORKSPACE:\n  - id: cn-north-4\n    endpoints: [https://a.example, https://b.example]\n")
        .unwrap();
    let e = env(&[("HUAWEICLOUD_SDK_REGIONS_FILE", path.to_str().unwrap())]);
    assert_eq!(resolve("cn-north-4", &e).unwrap(), "https://a.example");
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
    assert_eq!(from_chain(&env(&[("HOME", &home_str(&home))])).unwrap().credentials.access_key(), "PERM-AK");
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
