//! The commands derived from the spec, through the real binary against a simulator over
//! loopback: the request file and its skeleton, flags that win over the file, refusals that
//! name the field, dry runs, and help texts that say only what applies.

mod common;

use common::{bare, sim, stderr};

use std::io::Write;

use hwc_workspace_sim::DEMO_SHARER_DESKTOP_IDS;
use serde_json::{Value, json};

fn json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {}", String::from_utf8_lossy(&output.stdout)))
}

fn write_json(dir: &tempfile::TempDir, name: &str, value: &Value) -> String {
    let path = dir.path().join(name);
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(value.to_string().as_bytes()).unwrap();
    path.display().to_string()
}

#[test]
fn the_skeleton_filled_in_round_trips_through_cli_input_json_to_the_simulator() {
    let (sim, home) = (sim(), tempfile::tempdir().unwrap());
    let skeleton = bare(&home).args(["delete-sub-resources", "--generate-cli-skeleton"]).output().unwrap();
    assert_eq!(skeleton.status.code(), Some(0), "{}", stderr(&skeleton));
    let mut request = json(&skeleton);
    assert_eq!(request, json!({"desktop_ids": [""], "sub_resource_type": "DESKTOP_SHARER", "order_id": ""}));
    request["desktop_ids"] = json!([DEMO_SHARER_DESKTOP_IDS[0]]);
    request["order_id"] = json!("order-from-file");
    let file = write_json(&home, "delete.json", &request);
    let sent = common::cli(&home, sim.simulator.endpoint(), "5")
        .args(["delete-sub-resources", "--cli-input-json", &file])
        .output()
        .unwrap();
    assert_eq!(sent.status.code(), Some(0), "{}", stderr(&sent));
    let jobs = sim.simulator.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].desktop_ids, [DEMO_SHARER_DESKTOP_IDS[0]]);
    assert_eq!(jobs[0].sub_resource_type, "DESKTOP_SHARER");
    assert_eq!(jobs[0].order_id.as_deref(), Some("order-from-file"));
    let job_id = json(&sent)["job_id"].as_str().unwrap().to_owned();

    // The generic command the same way, its file on stdin.
    let skeleton = bare(&home).args(["job", "show", "--generate-cli-skeleton"]).output().unwrap();
    let mut request = json(&skeleton);
    assert_eq!(request, json!({"job_id": ""}));
    request["job_id"] = json!(job_id);
    let shown = common::cli(&home, sim.simulator.endpoint(), "5")
        .args(["job", "show", "--cli-input-json", "-"])
        .write_stdin(request.to_string())
        .output()
        .unwrap();
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    assert_eq!(json(&shown)["id"], job_id);
}

#[test]
fn flags_given_win_over_the_request_file() {
    let (sim, home) = (sim(), tempfile::tempdir().unwrap());
    let file = write_json(
        &home,
        "request.json",
        &json!({"desktop_ids": ["from-file"], "sub_resource_type": "FROM_FILE", "order_id": "file"}),
    );
    let output = common::cli(&home, sim.simulator.endpoint(), "5")
        .args(["delete-sub-resources", "--dry-run", "--cli-input-json", &file])
        .args(["--sub-resource-type", "DESKTOP_SHARER", "--desktop-id", "from-flag"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        json(&output)["body"],
        json!({"desktop_ids": ["from-flag"], "order_id": "file", "sub_resource_type": "DESKTOP_SHARER"})
    );
    assert_eq!(sim.simulator.request_count(), 0);
}

#[test]
fn wrong_values_exit_2_naming_the_field_and_send_nothing() {
    let (sim, home) = (sim(), tempfile::tempdir().unwrap());
    let id = DEMO_SHARER_DESKTOP_IDS[0];
    let cases: [(&str, Value, &[&str], &str); 6] = [
        (
            "delete-sub-resources",
            json!({"desktop_ids": [id], "sub_resource_type": "DESKTOP_SHARER", "order_id": 5}),
            &[],
            "order_id",
        ),
        ("delete-sub-resources", json!({"desktop_ids": id, "sub_resource_type": "DESKTOP_SHARER"}), &[], "desktop_ids"),
        ("delete-sub-resources", json!({"desktop_ids": [id], "sub_resource_type": 1}), &[], "sub_resource_type"),
        (
            "delete-sub-resources",
            json!({"desktop_ids": [id], "sub_resource_type": "DESKTOP_SHARER", "bogus": 1}),
            &[],
            "bogus",
        ),
        (
            "delete-sub-resources",
            json!({"desktop_ids": [id]}),
            &["--sub-resource-type", "DESKTOP_SHARER", "--order-id", &"o".repeat(256)],
            "order_id",
        ),
        ("job", json!({"job_id": 7}), &[], "job_id"),
    ];
    for (command, request, flags, field) in cases {
        let file = write_json(&home, "bad.json", &request);
        let mut args: Vec<&str> = if command == "job" { vec!["job", "show"] } else { vec![command] };
        args.extend(["--cli-input-json", &file]);
        args.extend(flags);
        let output = common::cli(&home, sim.simulator.endpoint(), "5").args(&args).output().unwrap();
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{request}: {text}");
        assert!(text.contains(field), "{request}: the refusal does not name {field}: {text}");
        assert!(output.stdout.is_empty(), "{request}");
    }
    // A required path parameter given nowhere is named with the flag that sets it.
    let output = common::cli(&home, sim.simulator.endpoint(), "5").args(["job", "show"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("job_id") && stderr(&output).contains("--job-id"), "{}", stderr(&output));
    for bad in ["[1]", "{", "null"] {
        let output = common::cli(&home, sim.simulator.endpoint(), "5")
            .args(["job", "show", "--cli-input-json", "-"])
            .write_stdin(bad)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad}: {}", stderr(&output));
        assert!(stderr(&output).contains("--cli-input-json"), "{bad}: {}", stderr(&output));
    }
    assert_eq!(sim.simulator.request_count(), 0);
}

#[test]
fn job_show_dry_run_after_the_command_name_prints_the_signed_get_with_secrets_masked() {
    let (sim, home) = (sim(), tempfile::tempdir().unwrap());
    let output = common::cli(&home, sim.simulator.endpoint(), "5")
        .args(["job", "show", "--dry-run", "--job-id", "00000000-0000-4000-8000-000000000002"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let request = json(&output);
    assert_eq!(request["method"], "GET");
    assert!(request["url"].as_str().unwrap().ends_with("/workspace-jobs/00000000-0000-4000-8000-000000000002"));
    let authorization = request["headers"]["authorization"].as_str().unwrap();
    assert!(authorization.ends_with("Signature=****"), "{authorization}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains(hwc_workspace_sim::DEMO_SK));
    assert_eq!(sim.simulator.request_count(), 0, "a dry run sends nothing");
    // The table form of an answer, from its JSON alone.
    let table = common::cli(&home, sim.simulator.endpoint(), "5")
        .args(["job", "show", "--output", "table", "--dry-run", "J-1"])
        .output()
        .unwrap();
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    assert!(String::from_utf8_lossy(&table.stdout).starts_with("GET http://"));
}

#[test]
fn each_command_shows_only_its_options_with_texts_true_of_it() {
    let home = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| {
        let output = bare(&home).args(args).arg("--help").output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let simulator = help(&["simulator"]);
    for flag in ["--endpoint", "--timeout", "--dry-run", "--output", "--retries", "--proxy"] {
        assert!(!simulator.contains(flag), "simulator --help shows {flag}");
    }
    assert!(simulator.contains("--region") && simulator.contains("Example"), "{simulator}");
    let show = help(&["job", "show"]);
    assert!(show.contains("--job-id") && show.contains("Task ID.") && show.contains("Examples:"), "{show}");
    assert!(!show.contains("per batch") && !show.contains("POST"), "{show}");
    assert!(show.contains("A GET changes nothing"), "{show}");
    let delete = help(&["delete-sub-resources"]);
    assert!(delete.contains("No other failed POST is resent") && delete.contains("per batch"), "{delete}");
    assert!(delete.contains("Desktop IDs.") && delete.contains("--desktop-id") && delete.contains("DESKTOP_SHARER"));
    // Request options are still taken before the command's name, and the nearer one wins.
    let sim = sim();
    let output = common::cli(&home, "http://127.0.0.1:1", "5")
        .args(["--output", "table", "job", "show", "--endpoint", sim.simulator.endpoint(), "--dry-run", "J-1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains(sim.simulator.endpoint()));
}
