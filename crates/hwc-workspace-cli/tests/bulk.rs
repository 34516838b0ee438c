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

/// The run's exit code, stdout and stderr.
fn finish(mut child: Child, limit: Duration) -> (i32, String, String) {
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (wait_bounded(&mut child, limit), out, err)
}

/// Per journal line: which batches were sent, and which have an outcome.
fn journaled(journal: &std::path::Path) -> (Vec<u64>, Vec<u64>) {
    let text = std::fs::read_to_string(journal).unwrap();
    let (mut sent, mut ended) = (Vec::new(), Vec::new());
    for entry in records(&text) {
        match entry["event"].as_str() {
            Some("sending") => sent.push(entry["batch"].as_u64().unwrap()),
            Some("accepted" | "rejected" | "unknown" | "throttled") => ended.push(entry["batch"].as_u64().unwrap()),
            _ => {}
        }
    }
    (sent, ended)
}

#[test]
fn two_runs_on_one_journal_never_send_a_batch_twice() {
    let (sim, ids) = fleet(1000, Duration::from_millis(300));
    let dir = tempfile::tempdir().unwrap();
    let (file, journal) = (ids_file(&dir, &ids), dir.path().join("journal.jsonl"));
    let args = ["--concurrency", "2", "--journal", journal.to_str().unwrap()];
    // Started together, and a "resume" while the first still runs.
    let first = start(&sim, &file, &args, None);
    let second = start(&sim, &file, &args, None);
    std::thread::sleep(Duration::from_millis(150));
    let third = start(&sim, &file, &args, None);
    let ends: Vec<(i32, String, String)> =
        [first, second, third].into_iter().map(|child| finish(child, Duration::from_secs(60))).collect();
    let winners: Vec<&(i32, String, String)> = ends.iter().filter(|(code, _, _)| *code == 0).collect();
    assert_eq!(winners.len(), 1, "one run holds the journal: {ends:?}");
    for (code, out, err) in ends.iter().filter(|(code, _, _)| *code != 0) {
        assert_eq!(*code, 2, "{err}");
        assert!(out.is_empty(), "a refused run reports nothing: {out}");
        assert!(err.contains("held by the run of process") && err.contains("one run per journal"), "{err}");
    }
    assert_eq!(sim.simulator.jobs().len(), 10, "each batch sent once");
    // And once the holder ended, the journal resumes: nothing is sent again.
    let (code, out, err) = finish(start(&sim, &file, &args, None), Duration::from_secs(60));
    assert_eq!(code, 0, "{err}");
    assert_eq!(records(&out).len(), 10);
    assert_eq!(sim.simulator.jobs().len(), 10);
}

#[test]
fn sighup_stops_the_run_like_sigint_with_129() {
    let (sim, ids) = fleet(1000, Duration::from_millis(150));
    let dir = tempfile::tempdir().unwrap();
    let (file, journal) = (ids_file(&dir, &ids), dir.path().join("journal.jsonl"));
    let mut child = start(&sim, &file, &["--concurrency", "2", "--journal", journal.to_str().unwrap()], None);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    signal(&child, "-HUP");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(wait_bounded(&mut child, Duration::from_secs(30)), 129);
    let printed = records(&(first + &rest));
    let accepted = printed.iter().filter(|r| r["job_id"].is_string()).count();
    let jobs = sim.simulator.jobs().len();
    assert!(jobs < 10, "the hang-up stopped the sending");
    assert_eq!(accepted, jobs, "every accepted batch was printed before the exit");
    let (mut sent, mut ended) = journaled(&journal);
    sent.sort_unstable();
    ended.sort_unstable();
    assert_eq!(sent, ended, "every batch sent has its outcome journaled");
}

#[test]
fn the_exit_code_follows_what_happened_to_the_desktops() {
    use hwc_workspace_sim::JobReportFault;
    let cases = [
        (Some(JobReportFault::SuccessOverFailedSubJobs), true, 7),
        (Some(JobReportFault::FailedOverSuccessfulSubJobs), false, 7),
        (Some(JobReportFault::NoSubJobs), false, 7),
        (Some(JobReportFault::ConflictingSubJobs), false, 7),
        (Some(JobReportFault::AnotherJob), false, 4),
        (Some(JobReportFault::UnusableJobId), false, 4),
        (None, true, 3),
        (None, false, 0),
    ];
    for (kind, all_fail, expected) in cases {
        let (sim, ids) = fleet(3, Duration::ZERO);
        let mut faults = Faults::none();
        if let Some(kind) = kind {
            faults = faults.with_job_reports(kind);
        }
        if all_fail {
            faults = faults.with_failing_desktops(ids.clone());
        }
        sim.simulator.set_faults(faults);
        let dir = tempfile::tempdir().unwrap();
        let (code, out, err) =
            finish(start(&sim, &ids_file(&dir, &ids), &["--wait", "--per-desktop"], None), Duration::from_secs(30));
        assert_eq!(code, expected, "{kind:?}: {out}{err}");
        let rows = records(&out);
        assert_eq!(rows.len(), 3, "{kind:?}");
        let wanted = match expected {
            0 => "SUCCESS",
            3 => "FAILED",
            _ => "UNKNOWN",
        };
        assert!(rows.iter().all(|r| r["status"] == wanted), "{kind:?}: {out}");
    }
}

#[test]
fn a_resumed_run_exits_as_the_whole_account_says() {
    let (sim, ids) = fleet(3, Duration::ZERO);
    sim.simulator.set_faults(Faults::none().with_failing_desktops([ids[2].clone()]));
    let dir = tempfile::tempdir().unwrap();
    let (file, journal) = (ids_file(&dir, &ids), dir.path().join("journal.jsonl"));
    let args = ["--wait", "--per-desktop", "--journal", journal.to_str().unwrap()];
    let (code, _, err) = finish(start(&sim, &file, &args, None), Duration::from_secs(30));
    assert_eq!(code, 3, "{err}");
    let (code, out, err) = finish(start(&sim, &file, &args, None), Duration::from_secs(30));
    assert_eq!(code, 3, "the earlier failure is still a failure: {err}");
    assert!(records(&out)[2]["status"] == "FAILED", "{out}");
    assert!(err.contains("earlier run"), "{err}");
    assert_eq!(sim.simulator.jobs().len(), 1);
}

#[test]
fn a_file_that_is_not_a_journal_is_never_changed() {
    let (sim, ids) = fleet(3, Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let file = ids_file(&dir, &ids);
    for content in ["sk = not-a-journal", "[basic]\nak = A\nsk = B\n", "{\"a\": 1}\n{\"b\":", "\u{feff}plain\n"] {
        let journal = dir.path().join("notes.txt");
        std::fs::write(&journal, content).unwrap();
        let (code, out, err) =
            finish(start(&sim, &file, &["--journal", journal.to_str().unwrap()], None), Duration::from_secs(30));
        assert_eq!(code, 2, "{err}");
        assert!(out.is_empty() && err.contains("not a journal"), "{err}");
        assert_eq!(std::fs::read_to_string(&journal).unwrap(), content, "the file is unchanged");
    }
    assert!(sim.simulator.jobs().is_empty(), "nothing was sent");
}

#[test]
fn a_query_that_fails_on_a_record_keeps_the_record_and_fails_the_run() {
    let (sim, ids) = fleet(3, Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) =
        finish(start(&sim, &ids_file(&dir, &ids), &["--query", "abs(desktop_ids)"], None), Duration::from_secs(30));
    assert_eq!(code, 2, "{err}");
    let rows = records(&out);
    assert_eq!(rows.len(), 1);
    assert!(rows[0]["job_id"].is_string() && rows[0]["query_error"].is_string(), "{out}");
    assert!(err.contains("--query failed"), "{err}");
    assert_eq!(sim.simulator.jobs().len(), 1);
}

#[test]
fn a_closed_stdout_is_refused_before_anything_is_sent() {
    let (sim, ids) = fleet(3, Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let file = ids_file(&dir, &ids);
    for redirect in [">&-", "1</dev/null"] {
        let script = format!("exec \"$0\" \"$@\" {redirect}");
        let output = Command::new("bash")
            .args(["-c", &script])
            .arg(assert_cmd::cargo::cargo_bin("hwc-workspace"))
            .args(["--endpoint", sim.simulator.endpoint(), "delete-sub-resources"])
            .args(["--sub-resource-type", DESKTOP_SHARER, "--project-id", DEMO_PROJECT_ID])
            .arg("--desktop-ids-from")
            .arg(&file)
            .env_clear()
            .env("HUAWEICLOUD_SDK_AK", DEMO_AK)
            .env("HUAWEICLOUD_SDK_SK", DEMO_SK)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(6), "{redirect}: {err}");
        assert!(err.contains("stdout"), "{err}");
    }
    assert!(sim.simulator.jobs().is_empty(), "nothing was sent");
}

#[test]
fn a_permanently_throttled_run_ends_by_itself_with_3() {
    use hwc_workspace_sim::FaultKind;
    let (sim, ids) = fleet(300, Duration::ZERO);
    sim.simulator.set_faults(Faults::none().with_random(FaultKind::TooManyRequests { retry_after_secs: 1 }, 1.0));
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let args = ["--concurrency", "1", "--throttle-timeout", "1.5"];
    let (code, out, err) = finish(start(&sim, &ids_file(&dir, &ids), &args, None), Duration::from_secs(30));
    assert_eq!(code, 3, "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(err.contains("--throttle-timeout"), "{err}");
    let rows = records(&out);
    assert_eq!(rows.len(), 3, "every batch reported: {out}");
    assert_eq!(rows.iter().filter(|r| r["status"] == "NOT_SENT").count(), 2, "{out}");
    assert!(sim.simulator.jobs().is_empty());
    assert!(sim.simulator.request_count() <= 4, "{} requests", sim.simulator.request_count());
}

#[test]
fn refused_batches_are_sent_again_only_with_resend_refused() {
    let (sim, ids) = fleet(3, Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let (file, journal) = (ids_file(&dir, &ids), dir.path().join("journal.jsonl"));
    let journal_args = ["--journal", journal.to_str().unwrap()];
    let wrong = Command::new(assert_cmd::cargo::cargo_bin("hwc-workspace"))
        .env_clear()
        .env("HUAWEICLOUD_SDK_AK", DEMO_AK)
        .env("HUAWEICLOUD_SDK_SK", "not-the-secret-key")
        .env("HUAWEICLOUD_SDK_PROJECT_ID", DEMO_PROJECT_ID)
        .args(["--endpoint", sim.simulator.endpoint(), "delete-sub-resources", "--sub-resource-type", DESKTOP_SHARER])
        .arg("--desktop-ids-from")
        .arg(&file)
        .args(journal_args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(3), "{}", String::from_utf8_lossy(&wrong.stderr));
    let (code, _, err) = finish(start(&sim, &file, &journal_args, None), Duration::from_secs(30));
    assert_eq!(code, 3, "the refusal is replayed: {err}");
    assert!(err.contains("refused in an earlier run") && err.contains("--resend-refused"), "{err}");
    assert!(sim.simulator.jobs().is_empty());
    let mut resend = journal_args.to_vec();
    resend.push("--resend-refused");
    let (code, _, err) = finish(start(&sim, &file, &resend, None), Duration::from_secs(30));
    assert_eq!(code, 0, "{err}");
    assert_eq!(sim.simulator.jobs().len(), 1);
}

#[test]
fn a_failed_desktop_is_exit_3_whatever_failed_first() {
    use hwc_workspace_sim::FaultKind;
    // Batch 1's answer is lost (its desktops UNKNOWN, reported first: exit 5 alone); batch
    // 2's desktop fails.
    let (sim, ids) = fleet(101, Duration::ZERO);
    sim.simulator.set_faults(Faults::fail_next([FaultKind::DropConnection]).with_failing_desktops([ids[100].clone()]));
    let dir = tempfile::tempdir().unwrap();
    let args = ["--wait", "--concurrency", "1", "--per-desktop"];
    let (code, out, err) = finish(start(&sim, &ids_file(&dir, &ids), &args, None), Duration::from_secs(30));
    let rows = records(&out);
    assert_eq!(rows.iter().filter(|r| r["status"] == "UNKNOWN").count(), 100, "{out}");
    assert_eq!(rows.iter().filter(|r| r["status"] == "FAILED").count(), 1, "{out}");
    assert_eq!(code, 3, "{err}");
}
