//! Long bulk runs through the real binary: SIGINT and SIGTERM mid-run, resuming from the
//! journal, a reader that goes away, a full disk, and the per-desktop account. Every case is
//! bounded in time and in batches.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hwc_workspace_sim::{
    DEMO_AK, DEMO_PROJECT_ID, DEMO_SK, DESKTOP_SHARER, Desktop, Faults, JobTiming, Simulator, State,
};
use serde_json::Value;

struct Sim {
    simulator: Simulator,
    _runtime: tokio::runtime::Runtime,
}

/// `count` desktops with a sharer, every answer `latency` late.
fn fleet(count: usize, latency: Duration) -> (Sim, Vec<String>) {
    let ids: Vec<String> = (0..count).map(|i| format!("cli-bulk-{i:05}")).collect();
    let state =
        ids.iter().fold(State::demo(), |state, id| state.with_desktop(Desktop::new(id.clone(), [DESKTOP_SHARER])));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let simulator = runtime
        .block_on(
            Simulator::builder()
                .state(state)
                .job_timing(JobTiming::instant())
                .faults(Faults::none().with_latency(latency))
                .start(),
        )
        .unwrap();
    (Sim { simulator, _runtime: runtime }, ids)
}

/// The binary deleting the ids of `ids_file`, its stdout piped (unless `stdout` is given).
fn start(sim: &Sim, ids_file: &std::path::Path, extra: &[&str], stdout: Option<Stdio>) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("hwc-workspace"))
        .env_clear()
        .env("NO_COLOR", "1")
        .env("HUAWEICLOUD_SDK_AK", DEMO_AK)
        .env("HUAWEICLOUD_SDK_SK", DEMO_SK)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", DEMO_PROJECT_ID)
        .args(["--endpoint", sim.simulator.endpoint(), "delete-sub-resources", "--sub-resource-type", DESKTOP_SHARER])
        .arg("--desktop-ids-from")
        .arg(ids_file)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(stdout.unwrap_or_else(Stdio::piped))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_bounded(child: &mut Child, limit: Duration) -> i32 {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, name: &str) {
    assert!(Command::new("kill").args([name, &child.id().to_string()]).status().unwrap().success());
}

fn ids_file(dir: &tempfile::TempDir, ids: &[String]) -> std::path::PathBuf {
    let path = dir.path().join("ids.txt");
    std::fs::write(&path, ids.join("\n")).unwrap();
    path
}

fn records(text: &str) -> Vec<Value> {
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

#[test]
fn sigint_reports_the_batches_in_flight_and_the_journal_resumes_the_rest() {
    let (sim, ids) = fleet(2000, Duration::from_millis(150));
    let dir = tempfile::tempdir().unwrap();
    let (file, journal) = (ids_file(&dir, &ids), dir.path().join("journal.jsonl"));
    let journal_arg = journal.to_str().unwrap();
    let args = ["--concurrency", "2", "--wait", "--per-desktop", "--journal", journal_arg];
    let mut child = start(&sim, &file, &args, None);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    signal(&child, "-INT");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(wait_bounded(&mut child, Duration::from_secs(30)), 130);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("stopping"), "{stderr}");
    let first_run = records(&(first + &rest));
    // Every desktop of every accepted batch was reported with its job before the exit: ended
    // (SUCCESS) or, its wait cut short by the stop, UNKNOWN with the job id kept.
    let with_job: Vec<&Value> = first_run.iter().filter(|r| r["job_id"].is_string()).collect();
    let jobs_after_first = sim.simulator.jobs().len();
    assert!(jobs_after_first < 20, "the stop left batches unsent");
    assert_eq!(with_job.len(), jobs_after_first * 100, "every accepted batch was reported before the exit");
    assert!(with_job.iter().all(|r| r["status"] == "SUCCESS" || r["status"] == "UNKNOWN"), "{with_job:?}");

    let mut again = start(&sim, &file, &args, None);
    let mut out = String::new();
    again.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert_eq!(wait_bounded(&mut again, Duration::from_secs(60)), 0);
    let second_run = records(&out);
    assert_eq!(second_run.len(), ids.len(), "the final account covers every id once");
    assert!(second_run.iter().all(|r| r["status"] == "SUCCESS"));
    assert_eq!(sim.simulator.jobs().len(), 20, "across both runs, exactly one job per batch");
}

#[test]
fn sigterm_stops_the_run_with_143() {
    let (sim, ids) = fleet(1000, Duration::from_millis(150));
    let dir = tempfile::tempdir().unwrap();
    let mut child = start(&sim, &ids_file(&dir, &ids), &["--concurrency", "1"], None);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    signal(&child, "-TERM");
    assert_eq!(wait_bounded(&mut child, Duration::from_secs(30)), 143);
    assert!(sim.simulator.jobs().len() < 10);
}

#[test]
fn a_reader_that_goes_away_stops_the_sending() {
    // 30 batches of 200 ms each: the 6 s a whole run takes leave room for a slow reader.
    let (sim, ids) = fleet(3000, Duration::from_millis(200));
    let dir = tempfile::tempdir().unwrap();
    let mut child = start(&sim, &ids_file(&dir, &ids), &["--concurrency", "1"], None);
    // `| head -c 1`: one byte read, then the pipe is closed.
    let mut stdout = child.stdout.take().unwrap();
    let mut byte = [0u8; 1];
    stdout.read_exact(&mut byte).unwrap();
    drop(stdout);
    assert_eq!(wait_bounded(&mut child, Duration::from_secs(30)), 6);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("stdout cannot be written"), "{stderr}");
    // What the pipe's buffer took before it closed was written; nothing after the failure.
    assert!(sim.simulator.jobs().len() <= 10, "sending stopped: {} jobs", sim.simulator.jobs().len());
}

#[test]
fn a_full_disk_on_stdout_stops_the_sending() {
    let (sim, ids) = fleet(3000, Duration::from_millis(20));
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::File::options().write(true).open("/dev/full").unwrap();
    let mut child = start(&sim, &ids_file(&dir, &ids), &["--concurrency", "2"], Some(Stdio::from(full)));
    assert_eq!(wait_bounded(&mut child, Duration::from_secs(30)), 6);
    assert!(sim.simulator.jobs().len() <= 3, "sending stopped: {} jobs", sim.simulator.jobs().len());
}

#[test]
fn query_applies_a_jmespath_expression_to_each_record() {
    let (sim, ids) = fleet(3, Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let file = ids_file(&dir, &ids);
    let run = |extra: &[&str]| {
        let mut child = start(&sim, &file, extra, None);
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        (wait_bounded(&mut child, Duration::from_secs(30)), out, err)
    };
    let (code, out, err) = run(&["--per-desktop", "--wait", "--query", "[desktop_id, status]"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = records(&out);
    let expected: Vec<Value> = ids.iter().map(|id| serde_json::json!([id, "SUCCESS"])).collect();
    assert_eq!(rows, expected);

    let (code, out, err) = run(&["--query", "[[["]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--query") && out.is_empty(), "{err}");
    let (code, _, err) = run(&["--query", "job_id", "--output", "table"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(sim.simulator.jobs().len(), 1, "only the valid run sent anything");
}
