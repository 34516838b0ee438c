//! Secrets stay masked whether or not the value that carries them parses: a proxy or endpoint
//! password holding `#`, `?`, `/`, `@`, `%`, a space or a comma, given to every setting that
//! can carry one (the proxy option and each proxy variable, the endpoint, a region's override
//! variable, the regions file, the IAM endpoint and the metadata endpoint, as options and as
//! variables), never shows in an error's message, its causes, its `Debug`, or the builder's
//! `Debug`, whether the build is refused or a call fails. Nothing here reaches beyond
//! loopback: the only addresses are closed loopback ports.

use std::collections::HashMap;
use std::time::Duration;

use hwc_workspace::{Client, ClientBuilder, Credentials, Error, RetryPolicy, mask_userinfo};

/// Every password starts with this, so that a fragment of one shows too.
const MARK: &str = "Zq9";

/// Passwords that make a URL unparsable, or parse into something else.
fn passwords() -> Vec<String> {
    ["#ss", "/b", "?x", "@ss", "%41", "%zz", " s s", ",x", "#?/@% x", ":y", "\\z"]
        .iter()
        .map(|tail| format!("{MARK}{tail}"))
        .collect()
}

fn env(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> + Send + Sync + Clone + 'static {
    let mut map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    map.entry("HWC_METADATA_ENDPOINT".to_owned()).or_insert_with(|| "off".to_owned());
    move |name: &str| map.get(name).cloned()
}

fn keyed() -> ClientBuilder {
    Client::builder()
        .credentials(Credentials::new("AK-MASK", "SK-MASK"))
        .project_id("p-mask")
        .endpoint("http://127.0.0.1:1")
        .connect_timeout(Duration::from_millis(500))
        .retry_policy(RetryPolicy::none())
}

/// Builds, and when the build succeeds makes one call (to closed loopback ports): every text
/// either gives must be free of the password.
fn assert_masked(what: &str, builder: ClientBuilder) {
    let shown_builder = format!("{builder:?}");
    assert!(!shown_builder.contains(MARK), "{what}: the builder's Debug shows it: {shown_builder}");
    let error = match builder.build() {
        Ok(client) => {
            let shown_client = format!("{client:?}");
            assert!(!shown_client.contains(MARK), "{what}: the client's Debug shows it: {shown_client}");
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            match runtime.block_on(client.show_job("j")) {
                Ok(_) => panic!("{what}: a call to a closed port succeeded"),
                Err(error) => error,
            }
        }
        Err(error) => error,
    };
    for text in [error.to_string(), error.message_with_causes(), format!("{error:?}")] {
        assert!(!text.contains(MARK), "{what}: {text}");
    }
    if let Error::Configuration(config) = &error {
        for hint in config.hints() {
            assert!(!hint.to_string().contains(MARK), "{what}: {hint}");
        }
    }
}

#[test]
fn the_masker_hides_everything_before_the_last_at() {
    for password in passwords() {
        for value in [
            format!("http://user:{password}@127.0.0.1:3128"),
            format!("https://user:{password}@proxy.example:3128/path"),
            format!("user:{password}@proxy.example:3128"),
            format!("http:/user:{password}@h"),
            format!("  HTTP://{password}@h  "),
        ] {
            let masked = mask_userinfo(&value);
            assert!(!masked.contains(MARK), "{value:?} -> {masked:?}");
            assert!(masked.contains("***@"), "{value:?} -> {masked:?}");
        }
    }
    // Values without `@` are shown as they are; the host stays visible.
    assert_eq!(mask_userinfo("http://proxy.example:3128"), "http://proxy.example:3128");
    assert_eq!(mask_userinfo("http://u:p@proxy.example:3128"), "http://***@proxy.example:3128");
}

#[test]
fn proxy_passwords_are_masked_from_the_option_and_every_variable() {
    for password in passwords() {
        // Loopback hosts only: whatever a value parses into, nothing is looked up or reached
        // beyond this machine.
        for host in ["127.0.0.1:1", "[::1]:1", ""] {
            let url = format!("http://alice:{password}@{host}");
            assert_masked(&format!("--proxy {url:?}"), keyed().environment(env(&[])).proxy(&url));
            let bare = format!("alice:{password}@{host}");
            assert_masked(&format!("--proxy {bare:?}"), keyed().environment(env(&[])).proxy(&bare));
            for variable in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
                let pairs = [(variable, url.clone())];
                // An endpoint that is not loopback, so that the environment's proxy applies (it
                // is reached through the proxy alone, never resolved here).
                assert_masked(
                    &format!("{variable}={url:?}"),
                    keyed().endpoint("http://workspace.masked.test:1").environment(env(&pairs)),
                );
            }
        }
    }
}

#[test]
fn endpoint_passwords_are_masked_wherever_an_endpoint_is_given() {
    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().to_str().unwrap().to_owned();
    for password in passwords() {
        let url = format!("http://alice:{password}@127.0.0.1:1");
        assert_masked("endpoint", keyed().environment(env(&[])).endpoint(&url));
        let region = Client::builder()
            .credentials(Credentials::new("AK-MASK", "SK-MASK"))
            .project_id("p-mask")
            .region("cn-north-4");
        assert_masked(
            "a region's override variable",
            region.clone().environment(env(&[("HUAWEICLOUD_SDK_REGION_WORKSPACE_CN_NORTH_4", url.clone())])),
        );
        // The regions file: as an endpoint, in a list, and where a list is expected.
        for entry in [
            format!("endpoint: {url:?}"),
            format!("endpoints: [{url:?}]"),
            format!("endpoints: {url:?}"),
            format!("endpoint: [{url:?}]"),
        ] {
            let file = home.path().join("regions.yaml");
            std::fs::write(&file, format!("WORKSPACE:\n  - id: cn-north-4\n    {entry}\n")).unwrap();
            assert_masked(
                &format!("regions file {entry}"),
                region.clone().environment(env(&[
                    ("HUAWEICLOUD_SDK_REGIONS_FILE", file.to_str().unwrap().to_owned()),
                    ("HOME", home_path.clone()),
                ])),
            );
        }
        // The IAM endpoint, given and from the environment (no project id: it is looked up).
        let lookup = Client::builder()
            .credentials(Credentials::new("AK-MASK", "SK-MASK"))
            .region("cn-north-4")
            .endpoint("http://127.0.0.1:1");
        assert_masked("iam_endpoint", lookup.clone().environment(env(&[])).iam_endpoint(&url));
        assert_masked(
            "HUAWEICLOUD_SDK_IAM_ENDPOINT",
            lookup.environment(env(&[("HUAWEICLOUD_SDK_IAM_ENDPOINT", url.clone())])),
        );
        // The metadata endpoint, given and from the environment (no keys anywhere else).
        let keyless = Client::builder().project_id("p-mask").endpoint("http://127.0.0.1:1");
        let no_home = [("HOME", home_path.clone())];
        assert_masked("metadata_endpoint", keyless.clone().environment(env(&no_home)).metadata_endpoint(&url));
        assert_masked(
            "HWC_METADATA_ENDPOINT",
            keyless.environment(env(&[("HOME", home_path.clone()), ("HWC_METADATA_ENDPOINT", url.clone())])),
        );
    }
}
