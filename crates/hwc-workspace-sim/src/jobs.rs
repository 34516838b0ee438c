//! Jobs as ShowJob reports them: `WAITING`, then `RUNNING`, then `SUCCESS` (or `FAILED` when a
//! sub-job was made to fail), computed from the job's age, with one sub-job per desktop.

use std::time::Duration;

use hwc_workspace::JobStatus;
use hwc_workspace::types::{self, SubJob, SubJobEntities};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::codes;
use crate::faults::JobReportFault;
use crate::state::Job;

/// The job type the simulator reports for deletions.
pub const JOB_TYPE: &str = "DELETE_DESKTOP_SUB_RESOURCES";

/// The job type the simulator reports for purchases (`AddDesktopSubResources`).
pub const ADD_JOB_TYPE: &str = "ADD_DESKTOP_SUB_RESOURCES";

/// How long a job stays in each phase before it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobTiming {
    /// How long a job stays `WAITING`.
    pub waiting: Duration,
    /// How long it then stays `RUNNING`.
    pub running: Duration,
}

impl Default for JobTiming {
    /// Short enough that a demo's `--wait` ends at once, long enough to show each phase.
    fn default() -> Self {
        Self { waiting: Duration::from_millis(200), running: Duration::from_millis(800) }
    }
}

impl JobTiming {
    /// Jobs that have ended by the time anyone asks.
    pub fn instant() -> Self {
        Self { waiting: Duration::ZERO, running: Duration::ZERO }
    }
}

/// `at + by`, or the last representable moment when that is past it: a job timing of any
/// length must never turn ShowJob into a panic.
fn later(at: OffsetDateTime, by: Duration) -> OffsetDateTime {
    time::Duration::try_from(by)
        .ok()
        .and_then(|by| at.checked_add(by))
        .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc())
}

fn timestamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// The ShowJob body of a job at `now`, in the spec's types.
pub(crate) fn render(job: &Job, timing: JobTiming, now: OffsetDateTime) -> types::Job {
    let started = later(job.created_at, timing.waiting);
    let ended = later(started, timing.running);
    let phase = if now < started {
        JobStatus::Waiting
    } else if now < ended {
        JobStatus::Running
    } else {
        JobStatus::Success
    };
    let done = phase == JobStatus::Success;
    // A sub-job's progress, 0 to 100, rising while it runs.
    let process = match phase {
        JobStatus::Waiting => 0,
        JobStatus::Running => {
            let part = (now - started).as_seconds_f64() / timing.running.as_secs_f64().max(f64::MIN_POSITIVE);
            #[allow(clippy::cast_possible_truncation)]
            let percent = (part * 100.0).clamp(1.0, 99.0) as i32;
            percent
        }
        _ => 100,
    };
    let job_type = if job.sku.is_some() { ADD_JOB_TYPE } else { JOB_TYPE };
    let begin_time = (phase != JobStatus::Waiting).then(|| timestamp(started));
    let end_time = done.then(|| timestamp(ended));
    let mut desktops: Vec<&str> = Vec::new();
    for id in &job.desktop_ids {
        if !desktops.contains(&id.as_str()) {
            desktops.push(id);
        }
    }
    let sub_jobs: Vec<SubJob> = desktops
        .iter()
        .enumerate()
        .map(|(index, desktop_id)| {
            let failed = done && job.failed_desktops.iter().any(|d| d == desktop_id);
            SubJob {
                id: Some(format!("{}-{:04}", job.job_id, index + 1)),
                job_type: Some(job_type.to_owned()),
                job_id: Some(job.job_id.clone()),
                process: Some(process),
                entities: Some(SubJobEntities {
                    desktop_id: Some((*desktop_id).to_owned()),
                    ..SubJobEntities::default()
                }),
                status: Some(if failed { JobStatus::Failed } else { phase.clone() }),
                begin_time: begin_time.clone(),
                end_time: end_time.clone(),
                error_code: failed.then(|| codes::SUB_JOB_FAILED.to_owned()),
                fail_reason: failed.then(|| {
                    format!(
                        "The {} resource of desktop {desktop_id} could not be {} (simulated failure)",
                        job.sub_resource_type,
                        if job.sku.is_some() { "added" } else { "deleted" }
                    )
                }),
                ..SubJob::default()
            }
        })
        .collect();
    let failures = if done { job.failed_desktops.len() } else { 0 };
    types::Job {
        id: job.job_id.clone(),
        job_type: Some(job_type.to_owned()),
        status: if failures > 0 { JobStatus::Failed } else { phase },
        sub_jobs_total: Some(i32::try_from(sub_jobs.len()).unwrap_or(i32::MAX)),
        begin_time,
        end_time,
        job_error_code: (failures > 0).then(|| codes::SUB_JOB_FAILED.to_owned()),
        fail_reason: (failures > 0).then(|| format!("{failures} of {} sub-jobs failed", desktops.len())),
        sub_jobs,
    }
}

/// An ended job as no documented service reports it (see [`JobReportFault`]); a job still
/// running is left as it is, so that a client first sees it run.
pub(crate) fn distort(job: &mut types::Job, kind: JobReportFault) {
    if kind == JobReportFault::AnotherJob {
        job.id = format!("{}-other", job.id);
        return;
    }
    if !job.status.is_finished() {
        return;
    }
    match kind {
        JobReportFault::SuccessOverFailedSubJobs => {
            job.status = JobStatus::Success;
            job.job_error_code = None;
            job.fail_reason = None;
        }
        JobReportFault::FailedOverSuccessfulSubJobs => {
            for sub in &mut job.sub_jobs {
                sub.status = Some(JobStatus::Success);
                sub.error_code = None;
                sub.fail_reason = None;
            }
            job.status = JobStatus::Failed;
            job.job_error_code = Some(codes::SUB_JOB_FAILED.to_owned());
            job.fail_reason = Some("the job failed".to_owned());
        }
        JobReportFault::NoSubJobs => {
            job.status = JobStatus::Success;
            job.sub_jobs.clear();
            job.sub_jobs_total = None;
        }
        JobReportFault::ConflictingSubJobs => {
            let mut both = Vec::with_capacity(job.sub_jobs.len() * 2);
            for sub in job.sub_jobs.drain(..) {
                let mut failed = sub.clone();
                failed.id = failed.id.map(|id| format!("{id}-again"));
                failed.status = Some(JobStatus::Failed);
                failed.error_code = Some(codes::SUB_JOB_FAILED.to_owned());
                failed.fail_reason = Some("reported failed by a second sub-job".to_owned());
                let mut succeeded = sub;
                succeeded.status = Some(JobStatus::Success);
                succeeded.error_code = None;
                succeeded.fail_reason = None;
                both.push(succeeded);
                both.push(failed);
            }
            job.sub_jobs_total = Some(i32::try_from(both.len()).unwrap_or(i32::MAX));
            job.sub_jobs = both;
            job.status = JobStatus::Success;
            job.job_error_code = None;
            job.fail_reason = None;
        }
        JobReportFault::AnotherJob | JobReportFault::UnusableJobId => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sub_job_reports_its_progress_rising_from_0_to_100() {
        let created = OffsetDateTime::UNIX_EPOCH;
        let job = Job {
            job_id: "j".to_owned(),
            desktop_ids: vec!["a".to_owned(), "b".to_owned()],
            sub_resource_type: "DESKTOP_SHARER".to_owned(),
            order_id: None,
            sku: None,
            created_at: created,
            request_id: "r".to_owned(),
            access_key: "k".to_owned(),
            removed_from: Vec::new(),
            failed_desktops: Vec::new(),
            other_fields: serde_json::Map::new(),
        };
        let timing = JobTiming { waiting: Duration::from_secs(1), running: Duration::from_secs(10) };
        let progress = |after_ms: u64| {
            let rendered = render(&job, timing, created + Duration::from_millis(after_ms));
            let all: Vec<Option<i32>> = rendered.sub_jobs.iter().map(|s| s.process).collect();
            assert!(all.windows(2).all(|w| w[0] == w[1]), "every sub-job alike: {all:?}");
            (rendered.status, all[0])
        };
        assert_eq!(progress(0), (JobStatus::Waiting, Some(0)));
        assert_eq!(progress(999), (JobStatus::Waiting, Some(0)));
        assert_eq!(progress(1_000), (JobStatus::Running, Some(1)), "running shows it started");
        assert_eq!(progress(6_000), (JobStatus::Running, Some(50)));
        assert_eq!(progress(10_999), (JobStatus::Running, Some(99)), "never 100 before it ends");
        assert_eq!(progress(11_000), (JobStatus::Success, Some(100)));
        let mut last = 0;
        for after_ms in (0..12_000).step_by(250) {
            let (_, Some(now)) = progress(after_ms) else { panic!("a progress at {after_ms} ms") };
            assert!(now >= last, "never falls");
            last = now;
        }
    }
}
