//! Jobs for Python: `Job` and `SubJob` as ShowJob reports them, and the waiting options.

use pyo3::prelude::*;

use crate::args;

/// A sub-job: the part of a job for one desktop.
#[pyclass(module = "hwc_workspace", name = "SubJob", frozen, get_all)]
#[derive(Debug, Clone)]
pub(crate) struct SubJob {
    id: Option<String>,
    job_type: Option<String>,
    /// `WAITING`, `RUNNING`, `SUCCESS`, `FAILED` (or a status this SDK does not know yet).
    status: Option<String>,
    desktop_id: Option<String>,
    desktop_name: Option<String>,
    user_name: Option<String>,
    product_id: Option<String>,
    ip_address: Option<String>,
    begin_time: Option<String>,
    end_time: Option<String>,
    error_code: Option<String>,
    fail_reason: Option<String>,
    /// Its progress, 0 to 100, while it runs.
    process: Option<i32>,
    /// The job it is part of.
    job_id: Option<String>,
    /// The server that ran it.
    host: Option<String>,
    project_id: Option<String>,
    /// The user it concerns.
    attach_user: Option<String>,
    /// What it operates on.
    entity: Option<String>,
}

#[pymethods]
impl SubJob {
    fn __repr__(&self) -> String {
        format!(
            "SubJob(desktop_id={}, status={}, fail_reason={})",
            args::repr_opt(self.desktop_id.as_deref()),
            args::repr_opt(self.status.as_deref()),
            args::repr_opt(self.fail_reason.as_deref())
        )
    }
}

/// A job (task) and its sub-jobs, as ShowJob reports it.
#[pyclass(module = "hwc_workspace", name = "Job", frozen, get_all)]
#[derive(Debug, Clone)]
pub(crate) struct Job {
    id: String,
    job_type: Option<String>,
    /// `WAITING`, `RUNNING`, `SUCCESS`, `FAILED` (or a status this SDK does not know yet).
    status: String,
    begin_time: Option<String>,
    end_time: Option<String>,
    job_error_code: Option<String>,
    fail_reason: Option<String>,
    sub_jobs_total: Option<i32>,
    sub_jobs: Vec<SubJob>,
}

#[pymethods]
impl Job {
    /// The sub-jobs that failed.
    #[getter]
    fn failed_sub_jobs(&self) -> Vec<SubJob> {
        self.sub_jobs.iter().filter(|sub| sub.status.as_deref() == Some("FAILED")).cloned().collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "Job(id={}, status={}, sub_jobs={})",
            args::repr_str(&self.id),
            args::repr_str(&self.status),
            self.sub_jobs.len()
        )
    }
}

impl From<hwc_workspace::Job> for Job {
    fn from(job: hwc_workspace::Job) -> Self {
        Self {
            id: job.id,
            job_type: job.job_type,
            status: job.status.to_string(),
            begin_time: job.begin_time,
            end_time: job.end_time,
            job_error_code: job.job_error_code,
            fail_reason: job.fail_reason,
            sub_jobs_total: job.sub_jobs_total,
            sub_jobs: job.sub_jobs.into_iter().map(SubJob::from).collect(),
        }
    }
}

impl From<hwc_workspace::SubJob> for SubJob {
    fn from(sub: hwc_workspace::SubJob) -> Self {
        let entities = sub.entities.unwrap_or_default();
        Self {
            id: sub.id,
            job_type: sub.job_type,
            status: sub.status.map(|s| s.to_string()),
            desktop_id: entities.desktop_id,
            desktop_name: entities.desktop_name,
            user_name: entities.user_name,
            product_id: entities.product_id,
            // The desktop's address, wherever the service put it.
            ip_address: entities.ip_address.or(sub.ip_address),
            begin_time: sub.begin_time,
            end_time: sub.end_time,
            error_code: sub.error_code,
            fail_reason: sub.fail_reason,
            process: sub.process,
            job_id: sub.job_id,
            host: sub.host,
            project_id: sub.project_id,
            attach_user: sub.attach_user,
            entity: sub.entity,
        }
    }
}

/// `wait_job`'s `timeout` and `poll_interval` (seconds) as the core's options.
pub(crate) fn wait_options(
    py: Python<'_>,
    timeout: Option<&Bound<'_, PyAny>>,
    poll_interval: Option<&Bound<'_, PyAny>>,
) -> PyResult<hwc_workspace::WaitOptions> {
    let defaults = hwc_workspace::WaitOptions::default();
    Ok(hwc_workspace::WaitOptions {
        timeout: args::seconds(py, timeout, "timeout", defaults.timeout.as_secs_f64())?,
        poll_interval: args::seconds(py, poll_interval, "poll_interval", defaults.poll_interval.as_secs_f64())?,
        max_poll_interval: defaults.max_poll_interval,
    })
}
