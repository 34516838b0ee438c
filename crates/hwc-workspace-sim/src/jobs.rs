//! Jobs as ShowJob reports them: `WAITING`, then `RUNNING`, then `SUCCESS` (or `FAILED` when a
//! sub-job was made to fail), computed from the job's age, with one sub-job per desktop.

use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::codes;
use crate::state::Job;

/// The job type the simulator reports for deletions.
pub const JOB_TYPE: &str = "DELETE_DESKTOP_SUB_RESOURCES";

/// How long a job stays in each phase before it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobTiming {
    pub waiting: Duration,
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

fn timestamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// The ShowJob body of a job at `now`.
pub(crate) fn render(job: &Job, timing: JobTiming, now: OffsetDateTime) -> Value {
    let started = job.created_at + timing.waiting;
    let ended = started + timing.running;
    let phase = if now < started {
        "WAITING"
    } else if now < ended {
        "RUNNING"
    } else {
        "DONE"
    };
    let mut desktops: Vec<&str> = Vec::new();
    for id in &job.desktop_ids {
        if !desktops.contains(&id.as_str()) {
            desktops.push(id);
        }
    }
    let sub_jobs: Vec<Value> = desktops
        .iter()
        .enumerate()
        .map(|(index, desktop_id)| {
            let failed = job.failed_desktops.iter().any(|d| d == desktop_id);
            let mut sub = json!({
                "id": format!("{}-{:04}", job.job_id, index + 1),
                "job_type": JOB_TYPE,
                "entities": {"desktop_id": desktop_id},
                "status": match (phase, failed) {
                    ("DONE", true) => "FAILED",
                    ("DONE", false) => "SUCCESS",
                    (phase, _) => phase,
                },
            });
            if phase != "WAITING" {
                sub["begin_time"] = json!(timestamp(started));
            }
            if phase == "DONE" {
                sub["end_time"] = json!(timestamp(ended));
                if failed {
                    sub["error_code"] = json!(codes::SUB_JOB_FAILED);
                    sub["fail_reason"] = json!(format!(
                        "The {} resource of desktop {desktop_id} could not be deleted (simulated failure)",
                        job.sub_resource_type
                    ));
                }
            }
            sub
        })
        .collect();
    let failures = job.failed_desktops.len();
    let mut body = json!({
        "id": job.job_id,
        "job_type": JOB_TYPE,
        "status": match (phase, failures) {
            ("DONE", 0) => "SUCCESS",
            ("DONE", _) => "FAILED",
            (phase, _) => phase,
        },
        "sub_jobs_total": sub_jobs.len(),
        "sub_jobs": sub_jobs,
    });
    if phase != "WAITING" {
        body["begin_time"] = json!(timestamp(started));
    }
    if phase == "DONE" {
        body["end_time"] = json!(timestamp(ended));
        if failures > 0 {
            body["job_error_code"] = json!(codes::SUB_JOB_FAILED);
            body["fail_reason"] = json!(format!("{failures} of {} sub-jobs failed", desktops.len()));
        }
    }
    body
}
