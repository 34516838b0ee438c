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
                job_type: Some(JOB_TYPE.to_owned()),
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
                        "The {} resource of desktop {desktop_id} could not be deleted (simulated failure)",
                        job.sub_resource_type
                    )
                }),
            }
        })
        .collect();
    let failures = if done { job.failed_desktops.len() } else { 0 };
    types::Job {
        id: job.job_id.clone(),
        job_type: Some(JOB_TYPE.to_owned()),
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
