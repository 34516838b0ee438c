//! What a job says happened to each desktop, read once for every front: the states a desktop
//! ends in, how a finished job's reports become those states, and the verdict over them.
//!
//! The rule is strict on purpose: an administrator acts on it over a whole fleet, so a desktop
//! is `SUCCESS` only when every report about it says so and nothing contradicts them. A job
//! that says `SUCCESS` while its sub-job for a desktop says `FAILED`, a job that says `FAILED`
//! while every sub-job succeeded, or two sub-jobs about one desktop that disagree, leave that
//! desktop `UNKNOWN` with the reason; so does a desktop the job does not report at all.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::enums::JobStatus;
use crate::types::{Job, SubJob};

/// The final state of one desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DesktopStatus {
    /// The deletion was accepted; the run did not wait for its job.
    Accepted,
    /// Every report about it says `SUCCESS`.
    Success,
    /// Its batch was refused, or its sub-job ended `FAILED`.
    Failed,
    /// Not known: the job did not end in time, did not report it, or its reports contradict
    /// each other; the batch's answer was lost; or the batch was not sent.
    Unknown,
    /// The service does not know the desktop: its batch was refused as naming an unknown
    /// desktop (404), and the listing (`ListDesktops`, by id) does not hold it. Nothing was
    /// done to it; the batch's other desktops were sent again without it.
    NotFound,
}

impl DesktopStatus {
    /// Its name on the wire and in every front, e.g. `NOT_FOUND`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "ACCEPTED",
            Self::Success => "SUCCESS",
            Self::Failed => "FAILED",
            Self::Unknown => "UNKNOWN",
            Self::NotFound => "NOT_FOUND",
        }
    }
}

/// One desktop's line of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesktopOutcome {
    /// The desktop.
    pub desktop_id: String,
    /// What became of it.
    pub status: DesktopStatus,
    /// The job of its batch, once accepted.
    pub job_id: Option<String>,
    /// The request id of its batch's answer.
    pub request_id: Option<String>,
    /// The error code: the sub-job's, or the refusal's.
    pub error_code: Option<String>,
    /// Why it failed, or why its state is unknown.
    pub fail_reason: Option<String>,
}

impl DesktopOutcome {
    /// A desktop in `status`, nothing else known yet.
    pub(crate) fn new(desktop_id: &str, status: DesktopStatus) -> Self {
        Self {
            desktop_id: desktop_id.to_owned(),
            status,
            job_id: None,
            request_id: None,
            error_code: None,
            fail_reason: None,
        }
    }

    fn unknown(desktop_id: &str, reason: String) -> Self {
        Self { fail_reason: Some(reason), ..Self::new(desktop_id, DesktopStatus::Unknown) }
    }
}

/// The verdict over desktops (a job's, a batch's, a run's): success only when every desktop
/// succeeded and no job failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Every desktop `SUCCESS`.
    Success,
    /// Every desktop accepted or succeeded; some jobs were not waited for.
    Accepted,
    /// What became of some desktop is not known (and none failed).
    Unknown,
    /// A desktop failed, or a job ended `FAILED` and nothing contradicts it.
    Failed,
}

impl Verdict {
    /// The verdict over desktops' final states: any `FAILED` wins, then any `UNKNOWN`.
    pub fn of<'a>(desktops: impl IntoIterator<Item = &'a DesktopOutcome>) -> Self {
        desktops.into_iter().map(|d| Self::of_status(d.status)).max().unwrap_or(Self::Success)
    }

    fn of_status(status: DesktopStatus) -> Self {
        match status {
            DesktopStatus::Success => Self::Success,
            DesktopStatus::Accepted => Self::Accepted,
            DesktopStatus::Unknown => Self::Unknown,
            // A desktop the run was asked to act on and could not: the caller must look at it.
            DesktopStatus::Failed | DesktopStatus::NotFound => Self::Failed,
        }
    }
}

/// How far a job has come, 0 to 100: the mean of its sub-jobs' `process` (a sub-job that
/// ended counts 100, one that reports none 0); an ended job is 100, one without sub-jobs 0.
pub fn job_progress(job: &Job) -> u8 {
    if job.status.is_finished() {
        return 100;
    }
    if job.sub_jobs.is_empty() {
        return 0;
    }
    let sum: u64 = job
        .sub_jobs
        .iter()
        .map(|sub| match (&sub.status, sub.process) {
            (Some(status), _) if status.is_finished() => 100,
            (_, Some(process)) => u64::try_from(process.clamp(0, 100)).unwrap_or_default(),
            (_, None) => 0,
        })
        .sum();
    u8::try_from(sum / job.sub_jobs.len() as u64).unwrap_or(100)
}

/// What a finished job says of its desktops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    /// Each desktop's state, in the order asked for (or the sub-jobs' order); `job_id` is set,
    /// `request_id` is not.
    pub desktops: Vec<DesktopOutcome>,
    /// The verdict over the job.
    pub verdict: Verdict,
    /// Why the verdict is `UNKNOWN` when no single desktop says so (sub-jobs not reported).
    pub note: Option<String>,
}

/// Reads a finished job: each desktop of `desktop_ids` (or, without them, each desktop its
/// sub-jobs name) from every sub-job about it, checked against each other and against the job.
pub fn job_report(job: &Job, desktop_ids: Option<&[String]>) -> JobReport {
    let mut by_desktop: HashMap<&str, Vec<&SubJob>> = HashMap::new();
    let mut named = Vec::new();
    for sub in &job.sub_jobs {
        if let Some(id) = sub.entities.as_ref().and_then(|e| e.desktop_id.as_deref()) {
            let reports = by_desktop.entry(id).or_default();
            if reports.is_empty() {
                named.push(id.to_owned());
            }
            reports.push(sub);
        }
    }
    let ids: Vec<String> = desktop_ids.map_or(named, <[String]>::to_vec);
    let job_said = job_words(&job.status, job.job_error_code.as_deref(), job.fail_reason.as_deref());
    let any_sub_failed = job.sub_jobs.iter().any(|s| s.status == Some(JobStatus::Failed));
    let candidates: Vec<DesktopOutcome> =
        ids.iter().map(|id| from_sub_jobs(id, by_desktop.get(id.as_str()).map_or(&[][..], Vec::as_slice))).collect();
    // A job that says FAILED while no sub-job failed and some succeeded contradicts them.
    let failure_contradicted = job.status == JobStatus::Failed
        && !any_sub_failed
        && candidates.iter().any(|d| d.status == DesktopStatus::Success);
    let desktops: Vec<DesktopOutcome> = candidates
        .into_iter()
        .map(|mut outcome| {
            let id = outcome.desktop_id.clone();
            // The sub-jobs agree among themselves; now the job's own word.
            match (&job.status, outcome.status) {
                (JobStatus::Success, DesktopStatus::Failed) => {
                    outcome = DesktopOutcome::unknown(
                        &id,
                        format!(
                            "contradictory reports: the job says SUCCESS, its sub-job says FAILED{}",
                            detail(outcome.error_code.as_deref(), outcome.fail_reason.as_deref())
                        ),
                    );
                }
                (JobStatus::Failed, DesktopStatus::Success) if failure_contradicted => {
                    outcome = DesktopOutcome::unknown(
                        &id,
                        format!("contradictory reports: {job_said}, but every sub-job says SUCCESS"),
                    );
                }
                (JobStatus::Failed, DesktopStatus::Unknown) if !by_desktop.contains_key(id.as_str()) => {
                    outcome.fail_reason = Some(format!("{job_said} without reporting a sub-job for it"));
                }
                _ => {}
            }
            outcome.job_id = Some(job.id.clone());
            outcome
        })
        .collect();
    let mut verdict = Verdict::of(&desktops);
    if job.status == JobStatus::Failed && !failure_contradicted {
        verdict = Verdict::Failed;
    }
    let mut note = None;
    if verdict == Verdict::Success {
        let reported = i64::try_from(job.sub_jobs.len()).unwrap_or(i64::MAX);
        if desktops.is_empty() {
            verdict = Verdict::Unknown;
            note = Some("the job reported no sub-job, so no desktop is known to have succeeded".to_owned());
        } else if let Some(total) = job.sub_jobs_total
            && i64::from(total) > reported
        {
            verdict = Verdict::Unknown;
            note = Some(format!("the job counts {total} sub-jobs but reported {reported}"));
        }
    }
    JobReport { desktops, verdict, note }
}

/// One desktop's state from the sub-jobs about it, before the job's own word is heard.
fn from_sub_jobs(id: &str, reports: &[&SubJob]) -> DesktopOutcome {
    let Some(first) = reports.first() else {
        return DesktopOutcome::unknown(id, "the job did not report a sub-job for it".to_owned());
    };
    if let Some(unfinished) = reports.iter().find(|s| !s.status.as_ref().is_some_and(JobStatus::is_finished)) {
        let status = unfinished.status.as_ref().map_or_else(|| "without a status".to_owned(), ToString::to_string);
        return DesktopOutcome::unknown(id, format!("its sub-job was still {status} when the job ended"));
    }
    if reports.iter().any(|s| s.status != first.status) {
        let said: Vec<String> = reports
            .iter()
            .map(|s| {
                let status = s.status.as_ref().map_or("?", JobStatus::as_str);
                match &s.id {
                    Some(sub_id) => format!("{status} (sub-job {sub_id})"),
                    None => status.to_owned(),
                }
            })
            .collect();
        return DesktopOutcome::unknown(id, format!("contradictory reports: its sub-jobs say {}", said.join(", ")));
    }
    if first.status == Some(JobStatus::Failed) {
        return DesktopOutcome {
            error_code: first.error_code.clone(),
            fail_reason: first.fail_reason.clone(),
            ..DesktopOutcome::new(id, DesktopStatus::Failed)
        };
    }
    DesktopOutcome::new(id, DesktopStatus::Success)
}

fn job_words(status: &JobStatus, code: Option<&str>, reason: Option<&str>) -> String {
    format!("the job says {status}{}", detail(code, reason))
}

fn detail(code: Option<&str>, reason: Option<&str>) -> String {
    match (code, reason) {
        (Some(code), Some(reason)) => format!(" ({code}: {reason})"),
        (Some(text), None) | (None, Some(text)) => format!(" ({text})"),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::SubJobEntities;

    fn sub(desktop: &str, status: &str) -> SubJob {
        SubJob {
            entities: Some(SubJobEntities { desktop_id: Some(desktop.to_owned()), ..Default::default() }),
            status: Some(JobStatus::from(status)),
            error_code: (status == "FAILED").then(|| "WKS.0601".to_owned()),
            fail_reason: (status == "FAILED").then(|| "busy".to_owned()),
            ..Default::default()
        }
    }

    #[test]
    fn a_jobs_progress_is_the_mean_of_its_sub_jobs_and_100_once_it_ended() {
        let running = |process: Option<i32>| SubJob { process, ..sub("d", "RUNNING") };
        assert_eq!(job_progress(&job("WAITING", vec![])), 0);
        assert_eq!(job_progress(&job("RUNNING", vec![running(Some(50)), running(Some(100))])), 75);
        assert_eq!(
            job_progress(&job("RUNNING", vec![running(None), sub("e", "SUCCESS")])),
            50,
            "an ended sub-job is 100"
        );
        assert_eq!(job_progress(&job("RUNNING", vec![running(Some(-5)), running(Some(900))])), 50, "clamped");
        assert_eq!(job_progress(&job("RUNNING", vec![running(Some(i32::MAX)); 3])), 100);
        assert_eq!(job_progress(&job("SUCCESS", vec![running(Some(3))])), 100, "an ended job is done");
        assert_eq!(job_progress(&job("FAILED", vec![])), 100);
    }

    fn job(status: &str, subs: Vec<SubJob>) -> Job {
        Job {
            id: "j1".to_owned(),
            status: JobStatus::from(status),
            sub_jobs_total: Some(i32::try_from(subs.len()).unwrap()),
            sub_jobs: subs,
            begin_time: None,
            end_time: None,
            fail_reason: None,
            job_error_code: None,
            job_type: None,
        }
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn statuses(report: &JobReport) -> Vec<DesktopStatus> {
        report.desktops.iter().map(|d| d.status).collect()
    }

    #[test]
    fn success_needs_every_desktop_to_succeed_and_be_reported() {
        let all = job_report(&job("SUCCESS", vec![sub("a", "SUCCESS"), sub("b", "SUCCESS")]), Some(&ids(&["a", "b"])));
        assert_eq!(all.verdict, Verdict::Success);
        let missing = job_report(&job("SUCCESS", vec![sub("a", "SUCCESS")]), Some(&ids(&["a", "b"])));
        assert_eq!(missing.verdict, Verdict::Unknown);
        assert_eq!(statuses(&missing), [DesktopStatus::Success, DesktopStatus::Unknown]);
        assert!(missing.desktops[1].fail_reason.as_deref().unwrap().contains("did not report"));
        let none = job_report(&job("SUCCESS", vec![]), None);
        assert_eq!(none.verdict, Verdict::Unknown);
        assert!(none.note.is_some());
        let mut short = job("SUCCESS", vec![sub("a", "SUCCESS")]);
        short.sub_jobs_total = Some(2);
        assert_eq!(job_report(&short, None).verdict, Verdict::Unknown);
    }

    #[test]
    fn a_failed_desktop_fails_the_verdict_whatever_else() {
        let report = job_report(&job("FAILED", vec![sub("a", "SUCCESS"), sub("b", "FAILED")]), None);
        assert_eq!(report.verdict, Verdict::Failed);
        assert_eq!(statuses(&report), [DesktopStatus::Success, DesktopStatus::Failed]);
        assert_eq!(report.desktops[1].error_code.as_deref(), Some("WKS.0601"));
        // A job failed as a whole, without sub-jobs: failed, each desktop not known.
        let whole = job_report(&job("FAILED", vec![]), Some(&ids(&["a"])));
        assert_eq!(whole.verdict, Verdict::Failed);
        assert_eq!(statuses(&whole), [DesktopStatus::Unknown]);
    }

    #[test]
    fn contradictions_are_unknown_with_the_reason() {
        let job_success = job_report(&job("SUCCESS", vec![sub("a", "FAILED"), sub("b", "SUCCESS")]), None);
        assert_eq!(statuses(&job_success), [DesktopStatus::Unknown, DesktopStatus::Success]);
        assert_eq!(job_success.verdict, Verdict::Unknown);
        assert!(job_success.desktops[0].fail_reason.as_deref().unwrap().contains("contradictory"));
        let job_failed = job_report(&job("FAILED", vec![sub("a", "SUCCESS"), sub("b", "SUCCESS")]), None);
        assert_eq!(statuses(&job_failed), [DesktopStatus::Unknown, DesktopStatus::Unknown]);
        assert_eq!(job_failed.verdict, Verdict::Unknown);
        // Two sub-jobs about one desktop, whatever their order.
        for order in [["SUCCESS", "FAILED"], ["FAILED", "SUCCESS"]] {
            let report = job_report(&job("SUCCESS", vec![sub("a", order[0]), sub("a", order[1])]), None);
            assert_eq!(statuses(&report), [DesktopStatus::Unknown]);
            assert_eq!(report.verdict, Verdict::Unknown);
        }
        let unfinished = job_report(&job("SUCCESS", vec![sub("a", "RUNNING")]), None);
        assert_eq!(unfinished.verdict, Verdict::Unknown);
    }

    #[test]
    fn the_verdict_over_desktops_puts_failure_first() {
        let d = |s| DesktopOutcome::new("x", s);
        assert_eq!(Verdict::of(&[d(DesktopStatus::Success), d(DesktopStatus::Unknown)]), Verdict::Unknown);
        assert_eq!(Verdict::of(&[d(DesktopStatus::Failed), d(DesktopStatus::Unknown)]), Verdict::Failed);
        assert_eq!(Verdict::of(&[d(DesktopStatus::Accepted), d(DesktopStatus::Success)]), Verdict::Accepted);
        assert_eq!(Verdict::of(&[]), Verdict::Success);
    }
}
