//! ShowJob and waiting: jobs move WAITING -> RUNNING -> SUCCESS, a failed sub-job makes the
//! job FAILED, waiting can time out, and an unknown job is a 404 — each through the core
//! client over loopback.

mod common;

use std::time::Duration;

use common::RawRequest;
use hwc_workspace::{DeleteSubResources, Error, JobStatus, WaitOptions};
use hwc_workspace_sim::{DEMO_SHARER_DESKTOP_IDS, DESKTOP_SHARER, Faults, JobTiming, Simulator, codes};

fn quick_wait(timeout: Duration) -> WaitOptions {
    WaitOptions { timeout, poll_interval: Duration::from_millis(20), max_poll_interval: Duration::from_millis(100) }
}

async fn simulator(timing: JobTiming) -> Simulator {
    Simulator::builder().job_timing(timing).start().await.expect("simulator starts")
}

#[tokio::test]
async fn a_job_moves_from_waiting_through_running_to_success() {
    // Waiting long enough that the first read lands in it even on a loaded machine.
    let sim = simulator(JobTiming { waiting: Duration::from_secs(1), running: Duration::from_millis(100) }).await;
    let client = sim.client_builder().build().unwrap();
    let ids = [DEMO_SHARER_DESKTOP_IDS[0], DEMO_SHARER_DESKTOP_IDS[1], DEMO_SHARER_DESKTOP_IDS[0]];
    let deleted = client.delete_desktop_sub_resources(&DeleteSubResources::new(ids, DESKTOP_SHARER)).await.unwrap();

    let first = client.show_job(&deleted.job_id).await.unwrap();
    assert_eq!(first.id, deleted.job_id);
    assert_eq!(first.status, JobStatus::Waiting);
    assert_eq!(first.begin_time, None);

    let done = client.wait_job(&deleted.job_id, &quick_wait(Duration::from_secs(10))).await.unwrap();
    assert_eq!(done.status, JobStatus::Success);
    assert_eq!(done.sub_jobs_total, Some(2), "one sub-job per distinct desktop");
    let desktops: Vec<&str> = done.sub_jobs.iter().filter_map(|s| s.entities.as_ref()?.desktop_id.as_deref()).collect();
    assert_eq!(desktops, [DEMO_SHARER_DESKTOP_IDS[0], DEMO_SHARER_DESKTOP_IDS[1]]);
    assert!(done.sub_jobs.iter().all(|s| s.status == Some(JobStatus::Success)));
    assert!(done.begin_time.is_some() && done.end_time.is_some());
    assert_eq!(done.job_error_code, None);
}

#[tokio::test]
async fn running_is_reported_between_waiting_and_the_end() {
    let sim = simulator(JobTiming { waiting: Duration::ZERO, running: Duration::from_secs(60) }).await;
    let client = sim.client_builder().build().unwrap();
    let deleted = client
        .delete_desktop_sub_resources(&DeleteSubResources::new([DEMO_SHARER_DESKTOP_IDS[2]], DESKTOP_SHARER))
        .await
        .unwrap();
    let job = client.show_job(&deleted.job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Running);
    assert_eq!(job.sub_jobs[0].status, Some(JobStatus::Running));
}

#[tokio::test]
async fn a_failed_sub_job_fails_the_job_and_names_the_desktop() {
    let sim = simulator(JobTiming::instant()).await;
    let failing = DEMO_SHARER_DESKTOP_IDS[3];
    sim.set_faults(Faults::none().with_failing_desktops([failing]));
    let client = sim.client_builder().build().unwrap();
    let ids = [DEMO_SHARER_DESKTOP_IDS[2], failing];
    let deleted = client.delete_desktop_sub_resources(&DeleteSubResources::new(ids, DESKTOP_SHARER)).await.unwrap();
    let error = client.wait_job(&deleted.job_id, &quick_wait(Duration::from_secs(10))).await.unwrap_err();
    let Error::JobFailed(failed) = &error else { panic!("expected a failed job, got {error:?}") };
    assert_eq!(failed.failed_desktop_ids(), [failing]);
    assert_eq!(failed.job().status, JobStatus::Failed);
    assert_eq!(failed.job().job_error_code.as_deref(), Some(codes::SUB_JOB_FAILED));
    let text = error.to_string();
    assert!(text.contains(&deleted.job_id) && text.contains(failing) && text.contains("failed"), "{text}");
    assert!(sim.desktop(failing).unwrap().has(DESKTOP_SHARER), "a failed sub-job leaves the resource");
    assert!(!sim.desktop(DEMO_SHARER_DESKTOP_IDS[2]).unwrap().has(DESKTOP_SHARER));
}

#[tokio::test]
async fn waiting_times_out_with_the_last_status() {
    let sim = simulator(JobTiming { waiting: Duration::from_secs(60), running: Duration::from_secs(60) }).await;
    let client = sim.client_builder().build().unwrap();
    let deleted = client
        .delete_desktop_sub_resources(&DeleteSubResources::new([DEMO_SHARER_DESKTOP_IDS[4]], DESKTOP_SHARER))
        .await
        .unwrap();
    let error = client.wait_job(&deleted.job_id, &quick_wait(Duration::from_millis(300))).await.unwrap_err();
    let Error::JobTimeout(timeout) = &error else { panic!("expected a wait timeout, got {error:?}") };
    assert_eq!(timeout.job_id(), deleted.job_id);
    assert_eq!(timeout.last_status(), Some(&JobStatus::Waiting));
    assert!(error.to_string().contains("did not finish"), "{error}");
}

#[tokio::test]
async fn an_unknown_job_is_a_404_naming_it() {
    let sim = simulator(JobTiming::instant()).await;
    let client = sim.client_builder().build().unwrap();
    let error = client.show_job("no-such-job").await.unwrap_err();
    let Error::Api(api) = &error else { panic!("expected an API error, got {error:?}") };
    assert_eq!((api.status(), api.error_code()), (404, Some(codes::JOB_NOT_FOUND)));
    assert!(api.error_msg().unwrap_or("").contains("no-such-job"));
    assert!(api.request_id().is_some());
    let error = client.wait_job("no-such-job", &quick_wait(Duration::from_secs(5))).await.unwrap_err();
    assert_eq!(error.status(), Some(404));
    assert!(matches!(client.show_job("").await, Err(Error::InvalidInput(e)) if e.field() == "job_id"));
}

#[tokio::test]
async fn show_job_is_authenticated_and_takes_only_get() {
    let sim = simulator(JobTiming::instant()).await;
    let path = format!("/v2/{}/workspace-jobs/any", sim.project_id());
    let unsigned = RawRequest::post(&sim, Vec::new()).method("GET").path(path.clone()).unsigned().send(&sim).await;
    unsigned.expect_error(401, codes::AUTHENTICATION_FAILED);
    let post = RawRequest::post(&sim, b"{}".to_vec()).path(path).send(&sim).await;
    post.expect_error(405, codes::API_NOT_FOUND);
    assert_eq!(post.header("allow"), Some("GET"));
}

#[tokio::test]
async fn a_fault_on_show_job_is_a_500_and_waiting_reads_past_it() {
    let sim = simulator(JobTiming::instant()).await;
    let client = sim.client_builder().build().unwrap();
    let deleted = client
        .delete_desktop_sub_resources(&DeleteSubResources::new([DEMO_SHARER_DESKTOP_IDS[0]], DESKTOP_SHARER))
        .await
        .unwrap();
    // One read: the 500 is the error.
    sim.set_faults(Faults::fail_next([hwc_workspace_sim::FaultKind::InternalError]));
    let error = client.show_job(&deleted.job_id).await.unwrap_err();
    let Error::Api(api) = &error else { panic!("expected an API error, got {error:?}") };
    assert_eq!((api.status(), api.error_code()), (500, Some(codes::INTERNAL_ERROR)));
    // Waiting: the deletion was accepted, so a transient failure to read the job is read again.
    sim.set_faults(Faults::fail_next([hwc_workspace_sim::FaultKind::InternalError; 2]));
    let job = client.wait_job(&deleted.job_id, &quick_wait(Duration::from_secs(5))).await.unwrap();
    assert_eq!(job.status, JobStatus::Success);
    // Failing until the deadline: a timeout naming the last failure.
    sim.set_faults(Faults::none().with_random(hwc_workspace_sim::FaultKind::Unavailable, 1.0));
    let error = client.wait_job(&deleted.job_id, &quick_wait(Duration::from_millis(300))).await.unwrap_err();
    let Error::JobTimeout(timeout) = &error else { panic!("expected a timeout, got {error:?}") };
    assert!(timeout.last_failure().is_some_and(|f| f.contains("503")), "{error}");
    // A refusal is not transient: an unknown job stops the wait at once.
    sim.set_faults(Faults::none());
    let error = client.wait_job("00000000-0000-4000-8000-00000000dead", &quick_wait(Duration::from_secs(5))).await;
    assert!(matches!(error, Err(Error::Api(ref api)) if api.status() == 404), "{error:?}");
}

#[tokio::test]
async fn a_job_timing_of_any_length_never_breaks_show_job() {
    for waiting in [Duration::MAX, Duration::from_secs(u64::MAX / 2), Duration::from_secs(10_u64.pow(12))] {
        let sim = simulator(JobTiming { waiting, running: Duration::MAX }).await;
        let client = sim.client_builder().build().unwrap();
        let request = DeleteSubResources::new([DEMO_SHARER_DESKTOP_IDS[0]], DESKTOP_SHARER);
        let deleted = client.delete_desktop_sub_resources(&request).await.unwrap();
        let job = client.show_job(&deleted.job_id).await.unwrap();
        assert_eq!(job.status, JobStatus::Waiting, "{waiting:?}");
    }
}
