//! The core's bulk engine against the simulator: the per-desktop account, throttling storms,
//! transient failures while waiting, journals that resume, and what they refuse.

use std::collections::HashMap;
use std::time::Duration;

use hwc_workspace::bulk::{BatchResult, BulkOptions, BulkPlan, DesktopStatus};
use hwc_workspace::{ConfigErrorKind, DeleteSubResources, Error, JobStatus, WaitOptions};
use hwc_workspace_sim::{DESKTOP_SHARER, Desktop, FaultKind, Faults, JobTiming, Simulator, State, codes};

fn fleet(count: usize) -> (State, Vec<String>) {
    let ids: Vec<String> = (0..count).map(|i| format!("fleet-{i:05}")).collect();
    let state =
        ids.iter().fold(State::demo(), |state, id| state.with_desktop(Desktop::new(id.clone(), [DESKTOP_SHARER])));
    (state, ids)
}

async fn simulator(state: State, timing: JobTiming, faults: Faults) -> Simulator {
    Simulator::builder().state(state).job_timing(timing).faults(faults).start().await.expect("simulator starts")
}

fn quick_wait() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_secs(20),
        poll_interval: Duration::from_millis(20),
        max_poll_interval: Duration::from_millis(100),
    }
}

/// Runs a plan to its end; the outcomes in the order they came, and the account.
async fn run_all(
    client: &hwc_workspace::Client,
    ids: &[String],
    options: BulkOptions,
) -> (Vec<hwc_workspace::bulk::BatchOutcome>, Vec<hwc_workspace::bulk::DesktopOutcome>) {
    let plan = BulkPlan::new(ids, options).expect("a valid plan");
    let mut run = client.delete_many(plan).expect("the run starts");
    let mut outcomes = Vec::new();
    while let Some(outcome) = tokio::time::timeout(Duration::from_secs(60), run.next()).await.expect("bounded") {
        outcomes.push(outcome);
    }
    (outcomes, run.account())
}

fn each_once(account: &[hwc_workspace::bulk::DesktopOutcome], ids: &[String]) {
    let listed: Vec<&str> = account.iter().map(|d| d.desktop_id.as_str()).collect();
    let expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(listed, expected, "every distinct input id, once, in input order");
}

#[tokio::test]
async fn the_account_names_every_desktop_once_with_its_sub_jobs_fate() {
    let (state, ids) = fleet(250);
    let failing = [ids[3].clone(), ids[150].clone(), ids[249].clone()];
    let sim = simulator(state, JobTiming::instant(), Faults::none().with_failing_desktops(failing.clone())).await;
    let client = sim.client_builder().build().unwrap();
    let mut input = ids.clone();
    input.extend(ids[..20].iter().cloned()); // duplicates: the first wins
    let mut options = BulkOptions::new(DESKTOP_SHARER);
    options.wait = Some(quick_wait());
    let (outcomes, account) = run_all(&client, &input, options).await;

    assert_eq!(outcomes.len(), 3);
    each_once(&account, &ids);
    for desktop in &account {
        if failing.contains(&desktop.desktop_id) {
            assert_eq!(desktop.status, DesktopStatus::Failed, "{desktop:?}");
            assert_eq!(desktop.error_code.as_deref(), Some(codes::SUB_JOB_FAILED));
            assert!(desktop.fail_reason.as_deref().is_some_and(|r| r.contains(&desktop.desktop_id)));
        } else {
            assert_eq!(desktop.status, DesktopStatus::Success, "{desktop:?}");
        }
        assert!(desktop.job_id.is_some() && desktop.request_id.is_some(), "{desktop:?}");
    }
    assert_eq!(sim.jobs().len(), 3, "one job per batch");
}

#[tokio::test]
async fn a_bad_id_is_named_by_its_place_before_anything_is_sent() {
    let (state, ids) = fleet(5);
    let sim = simulator(state, JobTiming::instant(), Faults::none()).await;
    let mut input = ids.clone();
    input.insert(3, "x".repeat(300));
    let error = BulkPlan::new(&input, BulkOptions::new(DESKTOP_SHARER)).unwrap_err();
    let Error::InvalidInput(invalid) = &error else { panic!("{error:?}") };
    assert_eq!((invalid.name(), invalid.index()), ("desktop_ids", Some(3)));
    assert_eq!(sim.request_count(), 0);
}

#[tokio::test]
async fn a_429_storm_ends_with_every_batch_accepted_exactly_once() {
    let (state, ids) = fleet(3000);
    let storm = Faults::none().with_random(FaultKind::TooManyRequests { retry_after_secs: 0 }, 0.3).with_seed(11);
    let sim = simulator(state, JobTiming::instant(), storm).await;
    let client = sim.client_builder().build().unwrap();
    let mut options = BulkOptions::new(DESKTOP_SHARER);
    options.concurrency = 8;
    let plan = BulkPlan::new(&ids, options).unwrap();
    let mut run = client.delete_many(plan).unwrap();
    let mut lowest_limit = usize::MAX;
    let mut outcomes = 0;
    while let Some(outcome) = tokio::time::timeout(Duration::from_secs(60), run.next()).await.expect("bounded") {
        assert!(matches!(outcome.result, BatchResult::Accepted { .. }), "{:?}", outcome.result);
        lowest_limit = lowest_limit.min(run.current_limit());
        outcomes += 1;
    }
    assert_eq!(outcomes, 30);
    assert!(run.throttled() > 0, "the storm was met");
    assert!(lowest_limit < 8, "throttling lowered the batches in flight");
    let jobs = sim.jobs();
    assert_eq!(jobs.len(), 30, "each batch accepted exactly once");
    let mut times: HashMap<&str, usize> = HashMap::new();
    for id in jobs.iter().flat_map(|job| job.desktop_ids.iter()) {
        *times.entry(id.as_str()).or_default() += 1;
    }
    assert!(ids.iter().all(|id| times.get(id.as_str()) == Some(&1)), "every desktop in exactly one job");
    each_once(&run.account(), &ids);
}

#[tokio::test]
async fn show_job_answering_503_now_and_then_still_ends_success() {
    let timing = JobTiming { waiting: Duration::from_millis(100), running: Duration::from_millis(300) };
    let (state, ids) = fleet(1);
    let sim = simulator(state, timing, Faults::none()).await;
    let client = sim.client_builder().build().unwrap();
    let deleted = client.delete_desktop_sub_resources(&DeleteSubResources::new(ids, DESKTOP_SHARER)).await.unwrap();
    // From now on half the reads of the job fail.
    sim.set_faults(Faults::none().with_random(FaultKind::Unavailable, 0.5).with_seed(3));
    let job = client.wait_job(&deleted.job_id, &quick_wait()).await.expect("transient failures are read again");
    assert_eq!(job.status, JobStatus::Success);
    assert!(sim.request_count() > 3, "several reads, some of them failed");
}

#[tokio::test]
async fn a_stopped_run_resumes_from_its_journal_sending_each_batch_once() {
    let (state, ids) = fleet(1000);
    let sim = simulator(state, JobTiming::instant(), Faults::none().with_latency(Duration::from_millis(30))).await;
    let client = sim.client_builder().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let options = || {
        let mut options = BulkOptions::new(DESKTOP_SHARER);
        options.concurrency = 2;
        options.wait = Some(quick_wait());
        options.journal = Some(journal.clone());
        options
    };
    // The first run is stopped after its first outcome.
    let mut run = client.delete_many(BulkPlan::new(&ids, options()).unwrap()).unwrap();
    let first = run.next().await.expect("one outcome");
    assert!(matches!(first.result, BatchResult::Accepted { .. }));
    run.canceller().cancel();
    let mut not_sent = 0;
    while let Some(outcome) = run.next().await {
        if matches!(outcome.result, BatchResult::NotSent) {
            not_sent += 1;
        }
    }
    assert!(not_sent > 0, "the stop left batches unsent");
    let accepted_first = sim.jobs().len();
    assert!(accepted_first < 10);

    // The second run sends only what the first did not.
    let (outcomes, account) = run_all(&client, &ids, options()).await;
    assert_eq!(outcomes.len(), 10);
    assert_eq!(outcomes.iter().filter(|o| o.resumed).count(), accepted_first);
    assert_eq!(sim.jobs().len(), 10, "across both runs, exactly one job per batch");
    each_once(&account, &ids);
    assert!(account.iter().all(|d| d.status == DesktopStatus::Success), "{account:?}");
}

#[tokio::test]
async fn a_torn_last_line_is_tolerated_and_another_runs_journal_is_refused() {
    let (state, ids) = fleet(150);
    let sim = simulator(state, JobTiming::instant(), Faults::none()).await;
    let client = sim.client_builder().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let with_journal = |ids: &[String]| {
        let mut options = BulkOptions::new(DESKTOP_SHARER);
        options.journal = Some(journal.clone());
        BulkPlan::new(ids, options).unwrap()
    };
    let mut run = client.delete_many(with_journal(&ids)).unwrap();
    while run.next().await.is_some() {}
    // A crash mid-write: half a line at the end.
    let mut text = std::fs::read(&journal).unwrap();
    text.extend_from_slice(br#"{"event":"sending","batch":1,"desktop_"#);
    std::fs::write(&journal, &text).unwrap();

    let mut again = client.delete_many(with_journal(&ids)).expect("a torn last line is tolerated");
    let mut resumed = 0;
    while let Some(outcome) = again.next().await {
        assert!(outcome.resumed, "nothing is sent again");
        resumed += 1;
    }
    assert_eq!(resumed, 2);
    assert_eq!(sim.jobs().len(), 2);
    assert!(std::fs::read(&journal).unwrap().ends_with(b"\n"), "the torn line was cut off");

    // Other ids: not this run's journal.
    let error = client.delete_many(with_journal(&ids[..149])).unwrap_err();
    match error {
        Error::Configuration(config) => {
            assert_eq!(config.kind(), ConfigErrorKind::Journal);
            assert!(config.message().contains("another run"), "{config}");
        }
        other => panic!("{other:?}"),
    }
}
