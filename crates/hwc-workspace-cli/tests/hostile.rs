//! The real binary in a hostile environment: credentials that cannot be headers, path ids
//! that would leave their path, endless or huge inputs, FIFOs as config files, a stderr that
//! cannot be written, server text that tries to forge lines, options that do not apply.
//! Every case is bounded in time; none may send a request it should not.

mod common;

use common::{sim, stderr};

use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use hwc_workspace_sim::{DEMO_DENIED_AK, DEMO_DENIED_SK, DEMO_SHARER_DESKTOP_IDS};
use serde_json::Value;

const DELETE: [&str; 4] = ["delete-sub-resources", "--sub-resource-type", "DESKTOP_SHARER", "--desktop-id"];

#[test]
fn credentials_that_cannot_be_headers_are_refused_before_anything_is_sent() {
    let (sim, home) = (sim(), tempfile::tempdir().unwrap());
    let id = DEMO_SHARER_DESKTOP_IDS[0];
    let cases = [
        ("HUAWEICLOUD_SDK_AK", "HPUA\r\nINJECTED", "access key"),
        ("HUAWEICLOUD_SDK_AK", "HPUA\nX", "access key"),
        ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "token\r\nX-Evil: 1", "security token"),
        ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "tok\u{7f}en", "security token"),
    ];
    for (variable, value, named) in cases {
        for dry_run in [false, true] {
            let mut cmd = common::cli(&home, sim.simulator.endpoint(), "5");
            cmd.env(variable, value).args(DELETE).arg(id);
            if dry_run {
                cmd.arg("--dry-run");
            }
            let output = cmd.output().unwrap();
            let text = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{variable}={value:?} dry_run={dry_run}: {text}");
            assert!(text.contains(named) && !text.contains("signed"), "{text}");
            assert!(!text.contains("INJECTED") && !text.contains("X-Evil"), "the value is not shown: {text}");
        }
    }
    assert_eq!(sim.simulator.request_count(), 0);
}

#[test]
fn job_ids_that_would_leave_their_path_are_refused_naming_job_id() {
    let (sim, home) = (sim(), tempfile::tempdir().unwrap());
    let long = "j".repeat(10_000);
    for job_id in ["..", ".", "..\\..", "a\\b", long.as_str()] {
        let output = common::cli(&home, sim.simulator.endpoint(), "5").args(["job", "show", job_id]).output().unwrap();
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{job_id:.20}: {text}");
        assert!(text.contains("job_id") && text.len() < 1000, "{text}");
    }
    assert_eq!(sim.simulator.request_count(), 0);
}

#[test]
fn endless_huge_or_broken_id_inputs_are_refused_at_once() {
    let (sim, home) = (sim(), tempfile::tempdir().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let long_line = dir.path().join("long");
    std::fs::write(&long_line, format!("d-1\n{}\n", "x".repeat(5000))).unwrap();
    let not_utf8 = dir.path().join("latin1");
    std::fs::write(&not_utf8, b"d-1\nd-2\n\xe9t\xe9\n").unwrap();
    let cases: [(&str, &str); 3] =
        [("/dev/zero", "line 1"), (long_line.to_str().unwrap(), "line 2"), (not_utf8.to_str().unwrap(), "line 3")];
    for (path, named) in cases {
        let started = Instant::now();
        let output = common::cli(&home, sim.simulator.endpoint(), "5")
            .args(["delete-sub-resources", "--sub-resource-type", "DESKTOP_SHARER", "--desktop-ids-from", path])
            .output()
            .unwrap();
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{path}: {text}");
        assert!(text.contains(named), "{path}: {text}");
        // The core's reader (`hwc_workspace::ids`) names the line and the source, in the
        // words Python's `read_desktop_ids` uses for the same file.
        assert!(text.contains(&format!("{named} of the desktop_ids from {path}")), "{path}: {text}");
        assert!(started.elapsed() < Duration::from_secs(10), "{path} took {:?}", started.elapsed());
    }
    // A BOM, comments of any length and blank lines are fine.
    let good = dir.path().join("good");
    let comment = format!("# {}\n", "c".repeat(10_000));
    std::fs::write(
        &good,
        format!("\u{feff}{}\n{comment}\n  {}  \n", DEMO_SHARER_DESKTOP_IDS[0], DEMO_SHARER_DESKTOP_IDS[1]),
    )
    .unwrap();
    let output = common::cli(&home, sim.simulator.endpoint(), "5")
        .args(["delete-sub-resources", "--sub-resource-type", "DESKTOP_SHARER", "--desktop-ids-from"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let record: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(record["desktop_ids"], serde_json::json!(&DEMO_SHARER_DESKTOP_IDS[..2]));
    assert_eq!(sim.simulator.request_count(), 1);
}

/// A dry-run deletion with credentials from the chain alone (an empty environment but `HOME`).
fn dry_run_from_the_chain(home: &tempfile::TempDir) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("hwc-workspace").unwrap();
    cmd.env_clear()
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env("HWC_METADATA_ENDPOINT", "off")
        .args(["--region", "cn-north-4", "--dry-run"])
        .args(DELETE)
        .arg("d-1")
        .timeout(Duration::from_secs(20));
    cmd
}

#[test]
fn a_fifo_or_device_as_credentials_file_fails_at_once_naming_it() {
    let home = tempfile::tempdir().unwrap();
    let fifo = home.path().join("credentials-fifo");
    assert!(StdCommand::new("mkfifo").arg(&fifo).status().unwrap().success());
    for file in [fifo.to_str().unwrap(), "/dev/zero"] {
        let started = Instant::now();
        let output = dry_run_from_the_chain(&home).env("HUAWEICLOUD_SDK_CREDENTIALS_FILE", file).output().unwrap();
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{file}: {text}");
        assert!(text.contains(file) && text.contains("not a regular file"), "{text}");
        assert!(started.elapsed() < Duration::from_secs(5), "{file} took {:?}", started.elapsed());
    }
}

/// Runs the binary with stderr on `/dev/full` (every write fails) or closed.
fn with_broken_stderr(args: &[&str], endpoint: &str, closed: bool) -> std::process::Output {
    let binary = assert_cmd::cargo::cargo_bin("hwc-workspace");
    let mut cmd = if closed {
        let mut sh = StdCommand::new("sh");
        sh.arg("-c").arg("exec 2>&-; exec \"$0\" \"$@\"").arg(&binary);
        sh
    } else {
        StdCommand::new(&binary)
    };
    cmd.args(["--endpoint", endpoint, "--timeout", "5"]).args(args).env_clear().env("NO_COLOR", "1");
    cmd.env("HUAWEICLOUD_SDK_AK", hwc_workspace_sim::DEMO_AK)
        .env("HUAWEICLOUD_SDK_SK", hwc_workspace_sim::DEMO_SK)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", hwc_workspace_sim::DEMO_PROJECT_ID);
    if !closed {
        cmd.stderr(std::fs::File::options().write(true).open("/dev/full").unwrap());
    }
    cmd.stdout(Stdio::piped()).output().unwrap()
}

#[test]
fn a_stderr_that_cannot_be_written_never_aborts_and_keeps_the_exit_code() {
    let sim = sim();
    for closed in [false, true] {
        // A success that also writes notes to stderr: the record still reaches stdout.
        let id = DEMO_SHARER_DESKTOP_IDS[usize::from(closed)];
        let mut args = DELETE.to_vec();
        args.extend([id, "--dry-run"]);
        let dry = with_broken_stderr(&args, sim.simulator.endpoint(), closed);
        assert_eq!(dry.status.code(), Some(0), "closed={closed}");
        let mut args = DELETE.to_vec();
        args.push(id);
        let sent = with_broken_stderr(&args, sim.simulator.endpoint(), closed);
        assert_eq!(sent.status.code(), Some(0), "closed={closed}");
        assert!(String::from_utf8_lossy(&sent.stdout).contains("job_id"));
        // A failure: the documented exit code, not an abort.
        let mut args = DELETE.to_vec();
        args.push("d-does-not-exist");
        let failed = with_broken_stderr(&args, sim.simulator.endpoint(), closed);
        assert_eq!(failed.status.code(), Some(3), "closed={closed}");
    }
}

#[test]
fn text_from_the_server_or_the_input_cannot_forge_lines_or_move_the_cursor() {
    let (sim, home) = (sim(), tempfile::tempdir().unwrap());
    // A line break, an escape sequence and a bidi override: as an input (a desktop id, refused
    // by the id rule and quoted in the refusal) and as the server's text (the simulator names
    // an unknown job in its 404 message).
    let hostile = "d-x\u{1b}[2J\nhint: run rm -rf ~\r\u{202e}evil";
    let check = |text: &str| {
        assert!(!text.contains('\u{1b}') && !text.contains('\r') && !text.contains('\u{202e}'), "{text:?}");
        assert!(text.lines().all(|line| line.starts_with("error:") || line.starts_with("hint:")), "{text:?}");
        assert!(!text.lines().any(|line| line.starts_with("hint: run")), "a forged hint line: {text:?}");
        let readable = |line: &str| line.contains("\\u{1b}[2J") && line.contains("hint: run rm");
        assert!(text.lines().any(readable), "escaped, still readable on one line: {text:?}");
    };
    for format in ["json", "table"] {
        let output = common::cli(&home, sim.simulator.endpoint(), "5")
            .args(["--output", format])
            .args(DELETE)
            .arg(hostile)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        check(&stderr(&output));
        assert!(output.stdout.is_empty());
        let server = hostile_server(hostile);
        let output = common::cli(&home, &server, "5")
            .args(["--output", format])
            .args(DELETE)
            .arg(DEMO_SHARER_DESKTOP_IDS[0])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
        check(&stderr(&output));
        let stdout = String::from_utf8_lossy(&output.stdout);
        if format == "json" {
            // JSON stays exact: the record parses back to the very text.
            let record: Value = serde_json::from_str(stdout.trim()).unwrap();
            assert_eq!(record["error"]["error_msg"], hostile);
        } else {
            assert!(!stdout.contains('\u{1b}') && stdout.lines().count() == 2, "{stdout:?}");
        }
    }
    assert!(sim.simulator.jobs().is_empty());
}

/// A loopback server that answers every request with a 400 whose message is `text`: the
/// server's words, as a hostile service could send them.
fn hostile_server(text: &str) -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let body = serde_json::json!({"error_code": "WKS.0001", "error_msg": text}).to_string();
    std::thread::spawn(move || {
        // Bounded: the test makes one request to each server.
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut request = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stream.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let length = text[..head_end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= head_end + 4 + length {
                        break;
                    }
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    endpoint
}

#[test]
fn the_readable_credentials_file_warning_shows_at_default_verbosity() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".huaweicloud");
    std::fs::create_dir(&dir).unwrap();
    let file = dir.join("credentials");
    std::fs::write(&file, "[basic]\nak = HPUAFILEAK\nsk = file-secret\nproject_id = p1\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = dry_run_from_the_chain(&home).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("WARN") && text.contains("other users"), "{text}");
    assert!(!text.contains("file-secret"), "{text}");
}

#[test]
fn error_output_keeps_every_field_and_hints_fit_the_command() {
    let (sim, home) = (sim(), tempfile::tempdir().unwrap());
    let denied = common::cli(&home, sim.simulator.endpoint(), "5")
        .env("HUAWEICLOUD_SDK_AK", DEMO_DENIED_AK)
        .env("HUAWEICLOUD_SDK_SK", DEMO_DENIED_SK)
        .args(DELETE)
        .arg(DEMO_SHARER_DESKTOP_IDS[0])
        .output()
        .unwrap();
    assert_eq!(denied.status.code(), Some(3));
    let record: Value = serde_json::from_slice(&denied.stdout).unwrap();
    let error = &record["error"];
    assert_eq!(error["status"], 403);
    assert_eq!(error["error_code"], "APIGW.0302");
    assert!(error["error_msg"].as_str().is_some_and(|m| m.contains("deleteSubResources")), "{error}");
    let encoded = error["encoded_authorization_message"].as_str().expect("the denial's reason");
    assert!(error["request_id"].as_str().is_some_and(|id| id.len() == 32), "{error}");
    assert!(stderr(&denied).contains(encoded), "the reason is in the hints too");

    let missing = common::cli(&home, sim.simulator.endpoint(), "5")
        .args(["job", "show", "00000000-0000-4000-8000-00000000dead"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(3));
    let text = stderr(&missing);
    assert!(text.contains("check the job id") && !text.contains("desktop ids"), "{text}");
}

#[test]
fn dry_run_is_honoured_by_job_show() {
    let (sim, home) = (sim(), tempfile::tempdir().unwrap());
    let output = common::cli(&home, sim.simulator.endpoint(), "5")
        .args(["--dry-run", "job", "show", "00000000-0000-4000-8000-000000000001"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let request: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(request["method"], "GET");
    assert!(request["url"].as_str().unwrap().ends_with("/workspace-jobs/00000000-0000-4000-8000-000000000001"));
    assert_eq!(request["headers"]["authorization"].as_str().map(|a| a.contains("Signature=****")), Some(true));
    assert_eq!(sim.simulator.request_count(), 0, "a dry run sends nothing");
}

#[test]
fn options_that_do_not_apply_to_a_command_are_refused() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        vec!["--dry-run", "simulator"],
        vec!["simulator", "--proxy", "http://127.0.0.1:1"],
        vec!["completions", "bash", "--region", "cn-north-4"],
        vec!["--endpoint", "http://127.0.0.1:1", "completions", "bash"],
        vec!["completions", "bash", "--timeout", "3"],
    ] {
        let output = assert_cmd::Command::cargo_bin("hwc-workspace")
            .unwrap()
            .env_clear()
            .env("HOME", home.path())
            .args(&args)
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {text}");
        assert!(text.contains("does not apply"), "{args:?}: {text}");
        assert!(output.stdout.is_empty(), "{args:?}: nothing runs");
    }
}

/// The binary with no keys in its environment and no endpoint: what the files say decides.
fn cli_from_files(home: &tempfile::TempDir) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("hwc-workspace").unwrap();
    cmd.env_clear()
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env("HWC_METADATA_ENDPOINT", "off")
        .env("HUAWEICLOUD_SDK_PROJECT_ID", hwc_workspace_sim::DEMO_PROJECT_ID)
        .args(["--timeout", "5"])
        // Generous: the refusal takes milliseconds; a parser gone quadratic fails here.
        .timeout(Duration::from_secs(60));
    cmd
}

/// Issue 22 item 3: a 4 MiB regions.yaml of nested flow sequences (hours of parsing before)
/// is refused at once, naming the file and the limit, before anything is sent.
#[test]
fn a_regions_file_of_deep_nesting_is_refused_naming_the_file_and_the_limit() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("regions.yaml");
    std::fs::write(&path, format!("WORKSPACE: {}", "[".repeat(4 * 1024 * 1024 - 64))).unwrap();
    let started = Instant::now();
    let output = cli_from_files(&home)
        .env("HUAWEICLOUD_SDK_AK", hwc_workspace_sim::DEMO_AK)
        .env("HUAWEICLOUD_SDK_SK", hwc_workspace_sim::DEMO_SK)
        .env("HUAWEICLOUD_SDK_REGIONS_FILE", &path)
        .args(["--region", "cn-north-4"])
        .args(DELETE)
        .arg(DEMO_SHARER_DESKTOP_IDS[0])
        .output()
        .unwrap();
    eprintln!("refused in {:?}", started.elapsed());
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains(&path.display().to_string()) && text.contains("deeper than 64 levels"), "{text}");
}

/// Issue 22 item 6: the credentials file is read whatever its BOM, and a file that is there
/// but yields no keys, or holds a section twice, stops the chain naming the file.
#[test]
fn the_credentials_file_never_falls_through_by_format() {
    let (sim, home) = (sim(), tempfile::tempdir().unwrap());
    let file = home.path().join(".huaweicloud/credentials");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let (ak, sk) = (hwc_workspace_sim::DEMO_AK, hwc_workspace_sim::DEMO_SK);
    let run = || {
        cli_from_files(&home)
            .args(["--endpoint", sim.simulator.endpoint()])
            .args(DELETE)
            .arg(DEMO_SHARER_DESKTOP_IDS[0])
            .output()
            .unwrap()
    };
    std::fs::write(&file, format!("\u{feff}[basic]\nak = {ak}\nsk = {sk}\n")).unwrap();
    let output = run();
    assert_eq!(output.status.code(), Some(0), "a BOM is skipped: {}", stderr(&output));
    assert_eq!(sim.simulator.request_count(), 1);
    for (text, named) in [
        (format!("[basic]\nak = {ak}\n[Basic]\nsk = {sk}\n"), "[basic] twice: line 1 and line 3"),
        (format!("[basic]\nak = {ak}\nsk = {sk}\nSK = other\n"), "`sk` twice in [basic]: line 3"),
        ("# keys to come\n".to_owned(), "has no [basic] or [basiccredentials] section"),
    ] {
        std::fs::write(&file, text).unwrap();
        let output = run();
        let shown = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{shown}");
        assert!(shown.contains(&file.display().to_string()) && shown.contains(named), "{named}: {shown}");
        assert!(!shown.contains(sk), "{shown}");
    }
    assert_eq!(sim.simulator.request_count(), 1, "nothing sent with a refused file");
}

/// Issue 22 item 3: `--query` is bounded in length and nesting before jmespath sees it (100,000
/// nested brackets overflowed its stack and aborted); the longest query accepted runs.
#[test]
fn queries_are_bounded_in_length_and_nesting() {
    let (sim, home) = (sim(), tempfile::tempdir().unwrap());
    for (query, named) in [
        (format!("{}a{}", "(".repeat(50_000), ")".repeat(50_000)), "at most 1024 are accepted"),
        (format!("{}a{}", "[".repeat(33), "]".repeat(33)), "deeper than 32 levels"),
        (format!("{}a", "!".repeat(33)), "deeper than 32 levels"),
    ] {
        let output = common::cli(&home, sim.simulator.endpoint(), "5")
            .args(["--query", &query])
            .args(DELETE)
            .arg(DEMO_SHARER_DESKTOP_IDS[0])
            .output()
            .unwrap();
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(text.contains("--query") && text.contains(named), "{named}: {text}");
        assert!(text.len() < 4096, "the message does not quote a huge query whole");
    }
    assert_eq!(sim.simulator.request_count(), 0);
    // Brackets inside quotes do not count; the longest pipe chain accepted compiles and runs.
    let chain = format!("{}job_id", "@|".repeat(500));
    for query in [
        "'(((((((((((((((((((((((((((((((((('",
        chain.as_str(),
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[job_id]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ] {
        let output = common::cli(&home, sim.simulator.endpoint(), "5")
            .args(["--query", query])
            .args(DELETE)
            .arg(DEMO_SHARER_DESKTOP_IDS[0])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{query}: {}", stderr(&output));
    }
}
