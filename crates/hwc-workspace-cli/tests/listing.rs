//! `desktops list` and `add-sub-resources` through the real binary: a listing streams one
//! JSON line (or id) per desktop across pages, pipes into a deletion, and the inventory the
//! simulator keeps shows what the commands did.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use hwc_workspace_sim::{DESKTOP_SHARER, Simulator, State};
use serde_json::Value;

/// A simulator with a seeded fleet, on its own runtime.
fn fleet(count: usize, shared_fraction: f64) -> (Simulator, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let state = State::demo().with_seeded_desktops(count, shared_fraction).unwrap();
    let simulator = runtime.block_on(Simulator::builder().state(state).start()).unwrap();
    (simulator, runtime)
}

fn lines(output: &std::process::Output) -> Vec<String> {
    String::from_utf8(output.stdout.clone()).unwrap().lines().map(str::to_owned).collect()
}

fn shared(sim: &Simulator) -> Vec<String> {
    sim.desktops().into_iter().filter(|d| d.has(DESKTOP_SHARER)).map(|d| d.id).collect()
}

#[test]
fn a_listing_streams_each_desktop_once_across_pages() {
    let (sim, _runtime) = fleet(230, 0.5);
    let home = tempfile::tempdir().unwrap();
    let output = common::cli(&home, sim.endpoint(), "10")
        .args(["desktops", "list", "--is-share-desktop", "true", "--page-size", "40"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    let listed: Vec<String> = lines(&output)
        .iter()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["desktop_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, shared(&sim));
    assert_eq!(sim.request_count(), 3, "115 desktops in pages of 40");

    let output = common::cli(&home, sim.endpoint(), "10")
        .args(["desktops", "list", "--output", "ids", "--max-items", "7", "--page-size", "5"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    let all: Vec<String> = sim.desktops().into_iter().map(|d| d.id).collect();
    assert_eq!(lines(&output), all[..7]);
}

#[test]
fn a_listing_of_ids_pipes_into_a_deletion_and_a_second_listing_shows_none_left() {
    let (sim, _runtime) = fleet(150, 0.4);
    let home = tempfile::tempdir().unwrap();
    let listing = common::cli(&home, sim.endpoint(), "10")
        .args(["desktops", "list", "--is-share-desktop", "true", "--output", "ids"])
        .output()
        .unwrap();
    assert!(listing.status.success(), "{}", common::stderr(&listing));
    let selected = lines(&listing);
    assert_eq!(selected, shared(&sim));
    let deletion = common::cli(&home, sim.endpoint(), "10")
        .args(["delete-sub-resources", "--desktop-ids-from", "-", "--wait", "--output", "table"])
        .write_stdin(listing.stdout.clone())
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(deletion.status.success(), "{}", common::stderr(&deletion));
    let deleted: HashSet<String> = sim.jobs().iter().flat_map(|job| job.desktop_ids.clone()).collect();
    assert_eq!(deleted, selected.iter().cloned().collect::<HashSet<_>>(), "exactly the selected desktops");
    let again = common::cli(&home, sim.endpoint(), "10")
        .args(["desktops", "list", "--is-share-desktop", "true", "--output", "ids"])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(again.stdout.is_empty(), "none left: {}", String::from_utf8_lossy(&again.stdout));
}

#[test]
fn add_sub_resources_then_delete_leaves_the_inventory_as_it_started() {
    let (sim, _runtime) = fleet(20, 0.0);
    let before = sim.desktops();
    let home = tempfile::tempdir().unwrap();
    let ids: Vec<String> = before.iter().take(3).map(|d| d.id.clone()).collect();
    let added = common::cli(&home, sim.endpoint(), "10")
        .args(["add-sub-resources", "--desktop-ids", &ids.join(","), "--sub-resource-sku", "sku.collab"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", common::stderr(&added));
    let answer: Value = serde_json::from_slice(&added.stdout).unwrap();
    assert!(answer["job_id"].is_string());
    assert_eq!(shared(&sim), ids);
    let deleted = common::cli(&home, sim.endpoint(), "10")
        .args(["delete-sub-resources", "--desktop-ids", &ids.join(",")])
        .output()
        .unwrap();
    assert!(deleted.status.success(), "{}", common::stderr(&deleted));
    assert_eq!(sim.desktops(), before);
}

#[test]
fn listing_flags_are_checked_before_anything_is_sent() {
    let (sim, _runtime) = fleet(5, 1.0);
    let home = tempfile::tempdir().unwrap();
    for (args, names) in [
        (vec!["desktops", "list", "--page-size", "0"], "page_size"),
        (vec!["desktops", "list", "--page-size", "1001"], "page_size"),
        (vec!["desktops", "list", "--limit", "0"], "limit"),
        (vec!["job", "show", "j-1", "--output", "ids"], "--output ids"),
        (vec!["add-sub-resources", "--desktop-ids", "a"], "sub_resource_sku"),
    ] {
        let output = common::cli(&home, sim.endpoint(), "10").args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", common::stderr(&output));
        assert!(common::stderr(&output).contains(names), "{args:?}: {}", common::stderr(&output));
    }
    assert_eq!(sim.request_count(), 0);
}

#[test]
fn a_selection_without_a_terminal_and_without_yes_is_refused_and_nothing_is_sent() {
    let (sim, _runtime) = fleet(60, 0.5);
    let home = tempfile::tempdir().unwrap();
    let before = sim.desktops();
    let output = common::cli(&home, sim.endpoint(), "10")
        .args(["delete-sub-resources", "--where", "is_share_desktop=true"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", common::stderr(&output));
    let stderr = common::stderr(&output);
    assert!(stderr.contains("selected 30 desktop(s) where is_share_desktop=true"), "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    assert!(sim.jobs().is_empty(), "no deletion was sent");
    assert_eq!(sim.desktops(), before);

    // A dry run shows the plan and the signed requests, and sends no deletion either.
    let output = common::cli(&home, sim.endpoint(), "10")
        .args(["delete-sub-resources", "--where", "is_share_desktop=true", "--dry-run"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    let signed: Value = serde_json::from_str(&lines(&output)[0]).unwrap();
    assert_eq!(signed["body"]["desktop_ids"].as_array().unwrap().len(), 30);
    assert!(sim.jobs().is_empty());
}

#[test]
fn select_then_delete_removes_the_sharer_of_exactly_the_selected_desktops() {
    let (sim, _runtime) = fleet(400, 0.5);
    let home = tempfile::tempdir().unwrap();
    let journal = home.path().join("run.jsonl");
    let selected: Vec<String> = sim
        .desktops()
        .into_iter()
        .filter(|d| d.has(DESKTOP_SHARER) && d.info().unwrap().status.as_deref() == Some("ACTIVE"))
        .map(|d| d.id)
        .collect();
    let output = common::cli(&home, sim.endpoint(), "10")
        .args(["delete-sub-resources", "--where", "is_share_desktop=true", "--where", "status=ACTIVE", "--yes"])
        .args(["--wait", "--journal"])
        .arg(&journal)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    let deleted: Vec<String> = sim.jobs().iter().flat_map(|job| job.desktop_ids.clone()).collect();
    assert_eq!(deleted, selected);
    let again = common::cli(&home, sim.endpoint(), "10")
        .args(["desktops", "list", "--is-share-desktop", "true", "--status", "ACTIVE", "--output", "ids"])
        .output()
        .unwrap();
    assert!(again.stdout.is_empty(), "none left");
    // The journal starts with the selection, before the run.
    let text = std::fs::read_to_string(&journal).unwrap();
    let events: Vec<String> =
        text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["event"].as_str().unwrap().to_owned()).collect();
    assert_eq!(events[..4], ["selection", "selected", "selection_end", "run"]);

    // Run again on the same journal: the recorded selection, nothing listed or sent again.
    let requests = sim.request_count();
    let output = common::cli(&home, sim.endpoint(), "10")
        .args(["delete-sub-resources", "--where", "is_share_desktop=true", "--where", "status=ACTIVE", "--yes"])
        .args(["--wait", "--journal"])
        .arg(&journal)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    assert!(common::stderr(&output).contains("not listed again"), "{}", common::stderr(&output));
    assert_eq!(sim.request_count(), requests, "everything was done: nothing is sent");
}

#[test]
fn a_batch_refused_for_an_unknown_desktop_sends_the_others_and_exits_3() {
    let (sim, _runtime) = fleet(4, 1.0);
    let home = tempfile::tempdir().unwrap();
    let mut ids = shared(&sim);
    ids.insert(1, "gone-1".to_owned());
    let output = common::cli(&home, sim.endpoint(), "10")
        .args(["delete-sub-resources", "--per-desktop", "--query", "status", "--desktop-ids", &ids.join(",")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "a desktop needs looking at: {}", common::stderr(&output));
    let mut statuses = lines(&output);
    statuses.sort();
    assert_eq!(statuses, ["\"ACCEPTED\"", "\"ACCEPTED\"", "\"ACCEPTED\"", "\"ACCEPTED\"", "\"NOT_FOUND\""]);
    assert!(common::stderr(&output).contains("1 NOT_FOUND"), "{}", common::stderr(&output));
    assert_eq!(sim.jobs().len(), 1);

    let output = common::cli(&home, sim.endpoint(), "10")
        .args(["delete-sub-resources", "--no-split-not-found", "--per-desktop", "--query", "status"])
        .args(["--desktop-ids", &ids.join(",")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(lines(&output).iter().all(|s| s == "\"FAILED\""), "{:?}", lines(&output));
    assert_eq!(sim.jobs().len(), 1, "the refused batch was not sent again");
}

#[test]
fn add_then_delete_by_selection_leaves_the_inventory_as_it_started_and_their_journals_never_cross() {
    let (sim, _runtime) = fleet(250, 0.0);
    let before = sim.desktops();
    let home = tempfile::tempdir().unwrap();
    let journal = home.path().join("add.jsonl");
    let added = common::cli(&home, sim.endpoint(), "10")
        .args(["add-sub-resources", "--where", "status=ACTIVE", "--sub-resource-sku", "sku.collab", "--yes", "--wait"])
        .args(["--per-desktop", "--query", "status", "--journal"])
        .arg(&journal)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", common::stderr(&added));
    let active: Vec<String> =
        before.iter().filter(|d| d.info().unwrap().status.as_deref() == Some("ACTIVE")).map(|d| d.id.clone()).collect();
    assert_eq!(lines(&added).len(), active.len());
    assert!(lines(&added).iter().all(|s| s == "\"SUCCESS\""));
    assert_eq!(shared(&sim), active);

    // The add's journal does not resume a deletion of the same selection.
    let crossed = common::cli(&home, sim.endpoint(), "10")
        .args(["delete-sub-resources", "--where", "status=ACTIVE", "--yes", "--journal"])
        .arg(&journal)
        .output()
        .unwrap();
    assert_eq!(crossed.status.code(), Some(2), "{}", common::stderr(&crossed));
    assert!(common::stderr(&crossed).contains("another run"), "{}", common::stderr(&crossed));
    assert_eq!(shared(&sim), active, "nothing was deleted");

    let deleted = common::cli(&home, sim.endpoint(), "10")
        .args(["delete-sub-resources", "--where", "is_share_desktop=true", "--yes", "--wait"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(deleted.status.success(), "{}", common::stderr(&deleted));
    assert_eq!(sim.desktops(), before, "as it started");
}

/// The command of a selection, its stdout piped: bounded by the caller.
fn selection_run(sim: &Simulator, journal: &std::path::Path) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("hwc-workspace"))
        .env_clear()
        .env("NO_COLOR", "1")
        .env("HWC_METADATA_ENDPOINT", "off")
        .env("HUAWEICLOUD_SDK_AK", hwc_workspace_sim::DEMO_AK)
        .env("HUAWEICLOUD_SDK_SK", hwc_workspace_sim::DEMO_SK)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", hwc_workspace_sim::DEMO_PROJECT_ID)
        .args(["--endpoint", sim.endpoint(), "delete-sub-resources", "--where", "is_share_desktop=true", "--yes"])
        .args(["--concurrency", "1", "--journal"])
        .arg(journal)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_selection_stopped_after_its_first_batch_resumes_on_its_journals_ids_though_the_fleet_changed() {
    use std::io::{BufRead, BufReader, Read};
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let state = State::demo().with_seeded_desktops(500, 0.6).unwrap();
    let sim = runtime
        .block_on(
            Simulator::builder()
                .state(state)
                .faults(hwc_workspace_sim::Faults::none().with_latency(Duration::from_millis(150)))
                .start(),
        )
        .unwrap();
    let selected = shared(&sim);
    assert_eq!(selected.len(), 300);
    let home = tempfile::tempdir().unwrap();
    let journal = home.path().join("run.jsonl");
    let mut child = selection_run(&sim, &journal);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        assert!(std::time::Instant::now() < deadline, "the run did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(130));
    let sent_first: Vec<String> = sim.jobs().iter().flat_map(|job| job.desktop_ids.clone()).collect();
    assert!(!sent_first.is_empty() && sent_first.len() < 300, "stopped part way: {}", sent_first.len());

    // The fleet changes: desktops already deleted are shared again, so a new listing would
    // take them (and a deleted one would leave it).
    let again: Vec<String> = sent_first[..5].to_vec();
    let added = common::cli(&home, sim.endpoint(), "10")
        .args(["add-sub-resources", "--sub-resource-sku", "sku.again", "--desktop-ids", &again.join(",")])
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", common::stderr(&added));

    let mut child = selection_run(&sim, &journal);
    let mut stderr = String::new();
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0), "{stderr}");
    assert!(stderr.contains("not listed again"), "{stderr}");
    let deletions: Vec<String> =
        sim.jobs().iter().filter(|job| job.sku.is_none()).flat_map(|job| job.desktop_ids.clone()).collect();
    let mut deleted_once = deletions.clone();
    deleted_once.sort();
    deleted_once.dedup();
    assert_eq!(deleted_once.len(), deletions.len(), "no desktop deleted twice");
    let mut expected = selected.clone();
    expected.sort();
    assert_eq!(deleted_once, expected, "exactly the journal's ids");
    assert_eq!(shared(&sim), again, "the desktops shared again after their batch were not listed again");
}
