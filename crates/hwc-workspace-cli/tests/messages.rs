//! What the real binary prints when a value or an answer is not what it should be: proxy and
//! endpoint passwords that do not parse stay masked (from `--proxy`, every proxy variable,
//! `--endpoint`, `--metadata-endpoint` and `HWC_METADATA_ENDPOINT`, in dry runs and at -vvv);
//! a web page at the metadata address is named for what it is; a TLS failure with `--ca-cert`
//! given hints at that CA, not at `--ca-cert`; and a timeout under a millisecond is refused.

mod common;
#[path = "../../hwc-workspace/tests/support/self_signed.rs"]
mod self_signed;

use std::io::{Read as _, Write as _};
use std::time::Duration;

use assert_cmd::Command;
use common::bare;

const MARK: &str = "Zq9";

fn keyed(home: &tempfile::TempDir) -> Command {
    let mut cmd = bare(home);
    cmd.env("HUAWEICLOUD_SDK_AK", "AK-CLI").env("HUAWEICLOUD_SDK_SK", "SK-CLI").env("HUAWEICLOUD_SDK_PROJECT_ID", "p");
    cmd
}

fn delete(cmd: &mut Command) -> &mut Command {
    cmd.args(["delete-sub-resources", "--sub-resource-type", "DESKTOP_SHARER", "--desktop-id", "d-1", "-vvv"])
}

/// Runs the command; its stdout and stderr together, with its exit code.
fn run(cmd: &mut Command) -> (Option<i32>, String) {
    let output = cmd.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code(), text)
}

#[test]
fn passwords_that_do_not_parse_are_never_printed() {
    let home = tempfile::tempdir().unwrap();
    let variables = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];
    for tail in ["#ss", "/b", "?x", "@ss", "%zz", " s s", "#?/@% x"] {
        let url = format!("http://alice:{MARK}{tail}@127.0.0.1:1");
        for dry_run in [false, true] {
            let extra: &[&str] = if dry_run { &["--dry-run"] } else { &[] };
            let mut runs: Vec<(String, Command)> = Vec::new();
            let mut cmd = keyed(&home);
            cmd.args(["--endpoint", "http://127.0.0.1:1", "--proxy", &url]);
            runs.push(("--proxy".to_owned(), cmd));
            for variable in variables {
                let mut cmd = keyed(&home);
                // Not loopback, so that the proxy applies; reached through it alone.
                cmd.env(variable, &url).args(["--endpoint", "http://workspace.masked.test:1"]);
                runs.push((variable.to_owned(), cmd));
            }
            let mut cmd = keyed(&home);
            cmd.args(["--endpoint", &url]);
            runs.push(("--endpoint".to_owned(), cmd));
            let mut cmd = bare(&home);
            cmd.args(["--endpoint", "http://127.0.0.1:1", "--project-id", "p", "--metadata-endpoint", &url]);
            runs.push(("--metadata-endpoint".to_owned(), cmd));
            let mut cmd = bare(&home);
            cmd.env("HWC_METADATA_ENDPOINT", &url).args(["--endpoint", "http://127.0.0.1:1", "--project-id", "p"]);
            runs.push(("HWC_METADATA_ENDPOINT".to_owned(), cmd));
            for (what, mut cmd) in runs {
                let (code, text) = run(delete(&mut cmd).args(extra));
                assert!(!text.contains(MARK), "{what} {url:?} (dry run {dry_run}), exit {code:?}:\n{text}");
                // Refused as input (2), or unreachable (5); a dry run of a value that parses
                // sends nothing and succeeds; never a panic.
                let ok = matches!(code, Some(2 | 5)) || (dry_run && code == Some(0));
                assert!(ok, "{what} {url:?}: exit {code:?}:\n{text}");
            }
        }
    }
}

/// A loopback server that answers every connection with a captive portal's 403 page, on a
/// thread of its own; the number of connections it saw.
fn portal() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut head = [0u8; 4096];
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = stream.read(&mut head);
            let body = "<html><head><title>Guest Wi-Fi: sign in</title></head><body>Access denied</body></html>";
            let _ = write!(
                stream,
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (endpoint, seen)
}

#[test]
fn a_page_at_the_metadata_address_is_named_with_every_source_tried() {
    let home = tempfile::tempdir().unwrap();
    let (endpoint, seen) = portal();
    let (code, text) =
        run(delete(bare(&home).env("HWC_METADATA_ENDPOINT", &endpoint).args(["--endpoint", "http://127.0.0.1:1"]))
            .args(["--project-id", "p"]));
    assert_eq!(code, Some(2), "{text}");
    let error = text.lines().find(|l| l.starts_with("error:")).unwrap_or_else(|| panic!("no error line:\n{text}"));
    for said in [
        "no credentials found",
        "HUAWEICLOUD_SDK_AK",
        "credentials file",
        "is not an instance metadata service",
        "403 Forbidden",
        "text/html",
        "an HTML page titled \"Guest Wi-Fi: sign in\"",
    ] {
        assert!(error.contains(said), "{said:?} missing from: {error}");
    }
    let hints: Vec<&str> = text.lines().filter(|l| l.starts_with("hint:")).collect();
    assert!(hints.iter().all(|h| !h.contains("bind an agency")), "{hints:?}");
    assert!(hints.iter().any(|h| h.contains("HWC_METADATA_ENDPOINT=off")), "{hints:?}");
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn a_tls_failure_with_a_ca_given_hints_at_that_ca_not_at_the_flag() {
    let (acceptor, _) = self_signed::certificate();
    let (_, other_ca) = self_signed::certificate();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let endpoint = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    runtime.spawn(self_signed::serve(listener, acceptor));
    let home = tempfile::tempdir().unwrap();
    let ca = home.path().join("other-ca.pem");
    std::fs::write(&ca, other_ca).unwrap();
    for given in [false, true] {
        let mut cmd = keyed(&home);
        cmd.args(["--endpoint", &endpoint]);
        if given {
            cmd.arg("--ca-cert").arg(&ca);
        }
        let (code, text) = run(delete(&mut cmd));
        assert_eq!(code, Some(5), "{text}");
        let error = text.lines().find(|l| l.starts_with("error:")).unwrap_or_else(|| panic!("no error line:\n{text}"));
        assert!(error.contains("the server's certificate"), "{error}");
        for debug_name in ["UnknownIssuer", "BadSignature"] {
            assert!(!error.contains(debug_name), "{error}");
        }
        let hints: Vec<&str> = text.lines().filter(|l| l.starts_with("hint:")).collect();
        if given {
            assert!(hints.iter().all(|h| !h.contains("pass --ca-cert")), "{hints:?}");
            assert!(hints.iter().any(|h| h.contains("CA that signed the server's certificate")), "{hints:?}");
        } else {
            assert!(hints.iter().any(|h| h.contains("pass --ca-cert")), "{hints:?}");
        }
    }
}

/// Issue 23: `--timeout` and `--retries` pass through to the core's builder, which refuses
/// them out of range naming the setting; the CLI spells it as its flag in the hint.
#[test]
fn retries_and_timeouts_out_of_range_are_refused_by_the_core_naming_the_flag() {
    let home = tempfile::tempdir().unwrap();
    for (flag, value, expected) in [
        ("--retries", "11", "--retries N takes an int from 0 to 10"),
        ("--retries", "4294967295", "--retries N takes an int from 0 to 10"),
        ("--timeout", "0", "--timeout takes a number of seconds from 0.001 to 86400"),
        ("--timeout=-1", "", "from 0.001 to 86400"),
        ("--timeout", "NaN", "from 0.001 to 86400"),
    ] {
        let mut cmd = keyed(&home);
        cmd.args(["--endpoint", "http://127.0.0.1:1", flag]);
        if !value.is_empty() {
            cmd.arg(value);
        }
        let (code, text) = run(delete(cmd.arg("--dry-run")));
        assert_eq!(code, Some(2), "{flag} {value}: {text}");
        let named = flag.split('=').next().unwrap_or(flag);
        assert!(text.contains(expected) && text.contains(named), "{flag} {value}: {text}");
        assert!(!text.contains("panicked"), "{text}");
    }
    let (code, text) =
        run(delete(keyed(&home).args(["--endpoint", "http://127.0.0.1:1", "--retries", "10", "--dry-run"])));
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn a_timeout_under_a_millisecond_is_refused() {
    let home = tempfile::tempdir().unwrap();
    for (flag, value, accepted) in [
        ("--timeout", "0.000000001", false),
        ("--timeout", "0.0009", false),
        ("--timeout", "0", false),
        ("--timeout", "86400.5", false),
        ("--timeout", "0.001", true),
    ] {
        let (code, text) =
            run(delete(keyed(&home).args(["--endpoint", "http://127.0.0.1:1", flag, value, "--dry-run"])));
        if accepted {
            assert_eq!(code, Some(0), "{flag} {value}: {text}");
        } else {
            assert_eq!(code, Some(2), "{flag} {value}: {text}");
            assert!(text.contains("from 0.001 to 86400"), "{flag} {value}: {text}");
        }
    }
}
