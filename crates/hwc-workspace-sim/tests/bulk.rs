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

/// Each kind of report no documented service gives, read into the account: never better than
/// what the reports say together.
#[tokio::test]
async fn the_account_never_reads_a_job_better_than_its_reports() {
    use hwc_workspace::bulk::Verdict;
    use hwc_workspace_sim::JobReportFault;
    let cases = [
        (JobReportFault::SuccessOverFailedSubJobs, true, Verdict::Unknown, DesktopStatus::Unknown),
        (JobReportFault::FailedOverSuccessfulSubJobs, false, Verdict::Unknown, DesktopStatus::Unknown),
        (JobReportFault::NoSubJobs, false, Verdict::Unknown, DesktopStatus::Unknown),
        (JobReportFault::ConflictingSubJobs, false, Verdict::Unknown, DesktopStatus::Unknown),
        (JobReportFault::AnotherJob, false, Verdict::Unknown, DesktopStatus::Unknown),
        (JobReportFault::UnusableJobId, false, Verdict::Unknown, DesktopStatus::Unknown),
    ];
    for (kind, all_fail, verdict, status) in cases {
        let (state, ids) = fleet(3);
        let mut faults = Faults::none().with_job_reports(kind);
        if all_fail {
            faults = faults.with_failing_desktops(ids.clone());
        }
        let sim = simulator(state, JobTiming::instant(), faults).await;
        let client = sim.client_builder().build().unwrap();
        let mut options = BulkOptions::new(DESKTOP_SHARER);
        options.wait = Some(quick_wait());
        let (outcomes, account) = run_all(&client, &ids, options).await;
        assert_eq!(outcomes.len(), 1, "{kind:?}");
        assert_eq!(outcomes[0].verdict, verdict, "{kind:?}: {:?}", outcomes[0]);
        each_once(&account, &ids);
        for desktop in &account {
            assert_eq!(desktop.status, status, "{kind:?}: {desktop:?}");
            assert!(desktop.fail_reason.as_deref().is_some_and(|r| !r.is_empty()), "{kind:?}: a reason: {desktop:?}");
        }
        if matches!(kind, JobReportFault::AnotherJob | JobReportFault::UnusableJobId) {
            let error = match &outcomes[0].result {
                BatchResult::Accepted { wait_error: Some(error), .. }
                | BatchResult::Unknown { error: Some(error), .. } => error,
                other => panic!("{kind:?}: {other:?}"),
            };
            assert!(matches!(error, Error::UndecodableResponse(_)), "{kind:?}: an undocumented answer: {error:?}");
            assert!(account[0].fail_reason.as_deref().unwrap().contains("not the documented one"), "{account:?}");
        }
    }
}

/// `wait_job` returns a job only when every desktop it reports succeeded.
#[tokio::test]
async fn wait_job_succeeds_only_when_every_report_agrees() {
    use hwc_workspace_sim::JobReportFault;
    for kind in [
        JobReportFault::SuccessOverFailedSubJobs,
        JobReportFault::FailedOverSuccessfulSubJobs,
        JobReportFault::NoSubJobs,
        JobReportFault::ConflictingSubJobs,
        JobReportFault::AnotherJob,
    ] {
        let (state, ids) = fleet(2);
        let failing = if kind == JobReportFault::SuccessOverFailedSubJobs { ids.clone() } else { Vec::new() };
        let faults = Faults::none().with_job_reports(kind).with_failing_desktops(failing);
        let sim = simulator(state, JobTiming::instant(), faults).await;
        let client = sim.client_builder().build().unwrap();
        let deleted = client.delete_desktop_sub_resources(&DeleteSubResources::new(ids.clone(), DESKTOP_SHARER)).await;
        let error = client.wait_job(&deleted.unwrap().job_id, &quick_wait()).await.expect_err("not a success");
        match (kind, &error) {
            (JobReportFault::AnotherJob, Error::UndecodableResponse(_)) => {}
            (_, Error::JobOutcomeUnknown(unknown)) => {
                assert!(error.to_string().contains("not known"), "{error}");
                if kind != JobReportFault::NoSubJobs {
                    assert_eq!(unknown.unknown_desktops().count(), 2, "{kind:?}: {error}");
                }
            }
            other => panic!("{kind:?}: {other:?}"),
        }
    }
}

/// A gateway that throttles for ever: the batch is given up after the throttle timeout,
/// never sent through, and the rest of the run is reported not sent.
#[tokio::test]
async fn a_permanently_throttled_run_ends_by_itself() {
    let (state, ids) = fleet(500);
    let faults = Faults::none().with_random(FaultKind::TooManyRequests { retry_after_secs: 1 }, 1.0);
    let sim = simulator(state, JobTiming::instant(), faults).await;
    let client = sim.client_builder().build().unwrap();
    let mut options = BulkOptions::new(DESKTOP_SHARER);
    options.concurrency = 2;
    options.throttle_timeout = Duration::from_millis(2500);
    let started = std::time::Instant::now();
    let (outcomes, account) = run_all(&client, &ids, options).await;
    assert!(started.elapsed() < Duration::from_secs(20), "bounded: {:?}", started.elapsed());
    assert!(sim.jobs().is_empty(), "nothing passed on");
    let throttled = outcomes.iter().filter(|o| matches!(o.result, BatchResult::Throttled { .. })).count();
    let not_sent = outcomes.iter().filter(|o| matches!(o.result, BatchResult::NotSent)).count();
    assert!(throttled >= 1, "{outcomes:?}");
    assert_eq!(throttled + not_sent, 5, "every batch reported: {outcomes:?}");
    each_once(&account, &ids);
    // At most a few sends per batch in flight: each waits the asked second between tries.
    let requests = sim.request_count();
    assert!(requests <= 12, "{requests} requests");
    let first_not_sent = outcomes.iter().find(|o| matches!(o.result, BatchResult::NotSent));
    if let Some(outcome) = first_not_sent {
        assert!(outcome.desktops[0].fail_reason.as_deref().unwrap().contains("throttled"), "{outcome:?}");
    }
}

/// Batches refused for their keys are journaled as refused; a resume with fixed keys sends
/// them only when asked to.
#[tokio::test]
async fn refused_batches_are_sent_again_only_when_asked() {
    let (state, ids) = fleet(150);
    let sim = simulator(state, JobTiming::instant(), Faults::none()).await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let options = |resend_refused| {
        let mut options = BulkOptions::new(DESKTOP_SHARER);
        options.journal = Some(journal.clone());
        options.resend_refused = resend_refused;
        options
    };
    let wrong = sim
        .client_builder()
        .credentials(hwc_workspace::Credentials::new(sim.access_key(), "not-the-secret-key"))
        .build()
        .unwrap();
    let (first, _) = run_all(&wrong, &ids, options(false)).await;
    assert!(first.iter().all(|o| matches!(o.result, BatchResult::Rejected(_))), "{first:?}");
    let right = sim.client_builder().build().unwrap();
    let (replayed, _) = run_all(&right, &ids, options(false)).await;
    assert!(replayed.iter().all(|o| matches!(o.result, BatchResult::RefusedEarlier { .. })), "{replayed:?}");
    assert!(sim.jobs().is_empty());
    let (resent, account) = run_all(&right, &ids, options(true)).await;
    assert!(resent.iter().all(|o| matches!(o.result, BatchResult::Accepted { .. })), "{resent:?}");
    assert_eq!(sim.jobs().len(), 2);
    assert!(account.iter().all(|d| d.status == DesktopStatus::Accepted));
    // And a later resume knows they were accepted.
    let (settled, _) = run_all(&right, &ids, options(false)).await;
    assert!(settled.iter().all(|o| o.resumed && matches!(o.result, BatchResult::Accepted { .. })), "{settled:?}");
    assert_eq!(sim.jobs().len(), 2);
}

/// A resumed run reports the earlier runs' desktops in its verdict: a desktop that failed
/// before is still a failure.
#[tokio::test]
async fn a_resumed_run_reports_the_whole_account() {
    use hwc_workspace::bulk::Verdict;
    let (state, ids) = fleet(2);
    let sim = simulator(state, JobTiming::instant(), Faults::none().with_failing_desktops([ids[1].clone()])).await;
    let client = sim.client_builder().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut options = BulkOptions::new(DESKTOP_SHARER);
    options.wait = Some(quick_wait());
    options.journal = Some(dir.path().join("run.jsonl"));
    let (first, _) = run_all(&client, &ids, options.clone()).await;
    assert_eq!(first[0].verdict, Verdict::Failed);
    let (again, account) = run_all(&client, &ids, options).await;
    assert!(again[0].resumed);
    assert_eq!(again[0].verdict, Verdict::Failed, "{again:?}");
    assert_eq!(account[1].status, DesktopStatus::Failed);
    assert_eq!(sim.jobs().len(), 1);
}

/// A proxy's 407 is named as the proxy's, journaled as a refusal, and sent again once the
/// proxy's password is fixed and the resume asks for it.
#[tokio::test]
async fn a_proxys_refusal_is_the_proxys_and_can_be_sent_again() {
    use hwc_workspace::ApiErrorKind;
    use hwc_workspace_sim::forward_proxy::ForwardProxy;
    let (state, ids) = fleet(3);
    let sim = simulator(state, JobTiming::instant(), Faults::none()).await;
    let proxy = ForwardProxy::routing_to(sim.local_addr(), Some(("alice", "s3cret-pass"))).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = |resend_refused| {
        let mut options = BulkOptions::new(DESKTOP_SHARER);
        options.journal = Some(dir.path().join("run.jsonl"));
        options.resend_refused = resend_refused;
        options
    };
    // A name that is not loopback, so that the proxy is used; the proxy routes it to the simulator.
    let through = |password: &str| {
        sim.client_builder()
            .endpoint("http://workspace.example.test")
            .proxy(format!("http://alice:{password}@{}", proxy.local_addr()))
            .build()
            .unwrap()
    };
    let (refused, _) = run_all(&through("wr0ng"), &ids, options(false)).await;
    match &refused[0].result {
        BatchResult::Rejected(Error::Api(api)) => {
            assert_eq!(api.kind(), ApiErrorKind::ProxyAuthentication);
            assert!(api.to_string().starts_with("a proxy answered 407"), "{api}");
        }
        other => panic!("{other:?}"),
    }
    let (resent, _) = run_all(&through("s3cret-pass"), &ids, options(true)).await;
    assert!(matches!(resent[0].result, BatchResult::Accepted { .. }), "{resent:?}");
    assert_eq!(sim.jobs().len(), 1);
}

/// Waiting that would read a job as fast as the network allows, or never give up on a
/// throttled batch, is refused before anything is sent.
#[tokio::test]
async fn durations_out_of_range_are_refused_before_sending() {
    let (state, ids) = fleet(1);
    let sim = simulator(state, JobTiming::instant(), Faults::none()).await;
    let client = sim.client_builder().build().unwrap();
    let busy = WaitOptions { poll_interval: Duration::ZERO, ..quick_wait() };
    match client.wait_job("any-job", &busy).await {
        Err(Error::InvalidInput(e)) => assert_eq!(e.field(), "poll_interval"),
        other => panic!("{other:?}"),
    }
    let mut options = BulkOptions::new(DESKTOP_SHARER);
    options.throttle_timeout = Duration::ZERO;
    assert!(matches!(BulkPlan::new(&ids, options), Err(Error::InvalidInput(e)) if e.field() == "throttle_timeout"));
    let mut options = BulkOptions::new(DESKTOP_SHARER);
    options.wait = Some(WaitOptions { max_poll_interval: Duration::from_secs(90_000), ..quick_wait() });
    assert!(matches!(BulkPlan::new(&ids, options), Err(Error::InvalidInput(e)) if e.field() == "max_poll_interval"));
    assert_eq!(sim.request_count(), 0);
}

/// Runs `count` ids with waiting against jobs of `timing`; the run's count of job reads, the
/// simulator's count of requests, and the batches.
async fn reads_of_a_waited_run(count: usize, timing: JobTiming, wait: WaitOptions) -> (usize, u64, usize) {
    let (state, ids) = fleet(count);
    let sim = simulator(state, timing, Faults::none()).await;
    let client = sim.client_builder().build().unwrap();
    let mut options = BulkOptions::new(DESKTOP_SHARER);
    options.wait = Some(wait);
    options.concurrency = 4;
    let plan = BulkPlan::new(&ids, options).expect("a valid plan");
    let batches = plan.batch_count();
    let mut run = client.delete_many(plan).expect("the run starts");
    while let Some(outcome) = tokio::time::timeout(Duration::from_secs(60), run.next()).await.expect("bounded") {
        assert!(matches!(outcome.result, BatchResult::Accepted { .. }), "{outcome:?}");
    }
    assert!(run.account().iter().all(|d| d.status == DesktopStatus::Success));
    (run.job_reads(), sim.request_count(), batches)
}

/// A job just accepted is not read at once, and one that has ended is read no more: jobs that
/// end as they are accepted are each read once. The run's count is the server's.
#[tokio::test]
async fn jobs_ended_at_acceptance_are_each_read_once() {
    let (reads, requests, batches) = reads_of_a_waited_run(700, JobTiming::instant(), quick_wait()).await;
    assert_eq!(batches, 7);
    assert_eq!(reads, batches, "one read per job");
    assert_eq!(requests, (batches + reads) as u64, "a deletion and a read per batch, as the server counted them");
}

/// Jobs that take a while are read near their end: one job finds out how long they take and
/// how fast their progress rises, and the others, accepted meanwhile, wait for it and are then
/// read about once each. Pauses growing from `poll_interval` would read each 300 ms job 6
/// times (at 20, 50, 95, 163, 264 and 416 ms).
#[tokio::test]
async fn jobs_that_take_a_while_are_read_near_their_end() {
    let timing = JobTiming { waiting: Duration::from_millis(60), running: Duration::from_millis(240) };
    let wait = WaitOptions { max_poll_interval: Duration::from_secs(1), ..quick_wait() };
    let (reads, requests, batches) = reads_of_a_waited_run(2400, timing, wait).await;
    assert_eq!(requests, (batches + reads) as u64, "the run counts every read the server saw");
    assert!(reads <= 2 * batches, "{reads} reads for {batches} jobs");
}
