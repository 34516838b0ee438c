//! The client users hold: validated input in, typed result or error out.

use std::cell::RefCell;
use std::fmt;
use std::time::{Duration, Instant};

use tracing::Instrument;

use crate::calls::{Call, GeneratedCall, Sent};
use crate::error::{
    ApiError, ConfigError, ConfigErrorKind, Error, JobFailed, JobOutcomeUnknown, JobTimeout, TransportError,
    UndecodableResponse,
};
use crate::hooks::{CALL, CallRecord};
use crate::model::{DeleteSubResources, Deleted};
use crate::operation::{Answer, Input, OperationId};
use crate::outcome::Verdict;
use crate::pace::{JobPace, JobReads};
pub use crate::signing::SignedRequest;
use crate::types::{ErrorResponse, Job};

/// A Workspace client. Cheap to clone; clones share one connection pool, and the keys and
/// project id learnt on first use.
#[derive(Clone)]
pub struct Client {
    raw: crate::generated::Client,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint())
            .field("project_id", &self.project_id())
            .field("access_key", &self.access_key())
            .finish_non_exhaustive()
    }
}

impl Client {
    pub(crate) fn from_parts(raw: crate::generated::Client) -> Self {
        Self { raw }
    }

    fn inner(&self) -> &crate::hooks::Inner {
        progenitor_client::ClientInfo::inner(&self.raw)
    }

    /// The endpoint calls go to, e.g. `https://workspace.cn-north-4.myhuaweicloud.com`.
    pub fn endpoint(&self) -> &str {
        progenitor_client::ClientInfo::baseurl(&self.raw)
    }

    /// The endpoints calls go to, in the order they are tried (a region's `regions.yaml`
    /// entry or override can list several).
    pub fn endpoints(&self) -> &[String] {
        &self.inner().failover.endpoints
    }

    /// The project every call names: `None` until it has been looked up through IAM, when
    /// none was given or found.
    pub fn project_id(&self) -> Option<String> {
        self.inner().identity.known_project_id().map(|p| p.to_string())
    }

    /// The access key calls are signed with (never the secret key): `None` until the
    /// instance metadata service gave keys, when they come from there.
    pub fn access_key(&self) -> Option<String> {
        self.inner().identity.known_access_key()
    }

    /// Where the keys come from, e.g. `environment variables`, the credentials file's path,
    /// or the instance metadata service.
    pub fn credentials_source(&self) -> &str {
        &self.inner().identity.source
    }

    /// Fetches what the client learns on first use (keys from the instance metadata
    /// service, the project id from IAM) now, so that a missing one is an error before any
    /// call; returns the access key and the project id. Sends nothing to Workspace.
    pub async fn resolve(&self) -> Result<(String, String), Error> {
        let (credentials, project) = self.identity().await?;
        Ok((credentials.access_key().to_owned(), project.to_string()))
    }

    async fn identity(&self) -> Result<crate::identity::Resolved, Error> {
        let inner = self.inner();
        inner.identity.resolve(&inner.transport, inner.clock).await
    }

    pub(crate) fn identity_handle(&self) -> std::sync::Arc<crate::identity::Identity> {
        std::sync::Arc::clone(&self.inner().identity)
    }

    /// What names the project in a bulk run's journal.
    pub(crate) fn project_key(&self) -> String {
        self.inner().identity.project_key()
    }

    /// The generated client underneath, for operations this wrapper does not cover yet;
    /// its calls are signed and retried by the same hooks.
    pub fn generated(&self) -> &crate::generated::Client {
        &self.raw
    }

    /// Deletes the depended resources (e.g. `DESKTOP_SHARER`) of up to 100 desktops.
    ///
    /// The input is checked first; nothing is sent when it breaks a documented limit.
    pub async fn delete_desktop_sub_resources(&self, request: &DeleteSubResources) -> Result<Deleted, Error> {
        let answer = self.call(OperationId::DeleteDesktopSubResources, &request.to_input()).await?;
        let body: crate::types::DeleteDesktopSubResourcesResponse = answer.decode()?;
        Ok(Deleted { job_id: body.job_id, request_id: answer.request_id })
    }

    /// Reads a job (task) and its sub-jobs, e.g. the job a deletion answered with. An answer
    /// about another job is not the documented one: [`Error::UndecodableResponse`].
    ///
    /// Typed from the wire to the caller: a wait reads its job many times, and the generic
    /// [`Client::call`] would turn each answer into JSON and back (two thirds of a read's
    /// cost for a job of 100 desktops). The same checks apply.
    pub async fn show_job(&self, job_id: &str) -> Result<Job, Error> {
        let id = OperationId::ShowJob;
        let input = Input::new().with("job_id", job_id);
        crate::operation::check_arguments(id.describe(), &input)?;
        let call = Call { client: self, identity: self.identity().await?, dry_run: false };
        let (project_id, job_id_segment) = (call.project_id()?, input.required("job_id")?);
        let generated: GeneratedCall<'_, Job> = Box::pin(self.generated().show_job(&project_id, &job_id_segment));
        let (job, record) = self.execute(id.describe().name, Some(call.identity.clone()), generated).await?;
        crate::calls::check_job_answer(job_id, &job.id).map_err(|reason| UndecodableResponse {
            status: record.status.unwrap_or(200),
            request_id: record.request_id,
            reason,
        })?;
        Ok(job)
    }

    /// Calls any operation of the spec: `input` names its fields as the spec does (see
    /// [`OperationId::describe`]) and is checked against the description first
    /// ([`crate::operation::validate`]), so nothing is sent when it breaks a documented limit;
    /// the project id of the path is the client's. The answer is the success body as JSON.
    pub async fn call(&self, id: OperationId, input: &Input) -> Result<Answer, Error> {
        match self.send_operation(id, input, false).await? {
            Sent::Answered(answer) => Ok(answer),
            Sent::Signed(_) => unreachable!("only a dry run signs without sending"),
        }
    }

    /// Signs the request of any operation exactly as [`Client::call`] would send it, and
    /// returns it instead of sending it (its secrets masked in `Debug`).
    pub async fn sign(&self, id: OperationId, input: &Input) -> Result<SignedRequest, Error> {
        match self.send_operation(id, input, true).await? {
            Sent::Signed(request) => Ok(request),
            Sent::Answered(_) => unreachable!("a dry run sends nothing"),
        }
    }

    async fn send_operation(&self, id: OperationId, input: &Input, dry_run: bool) -> Result<Sent, Error> {
        let operation = id.describe();
        crate::operation::check_arguments(operation, input)?;
        let identity = self.identity().await?;
        // The project id, the client's setting, goes to the path from `identity`, not through
        // the input: a call's input is never copied on its way out.
        let input = crate::operation::with_defaults(operation, input);
        let call = Call { client: self, identity, dry_run };
        let sent = crate::dispatch::send(&call, id, &input).await?;
        if let Sent::Answered(answer) = &sent {
            crate::calls::check_answer(id, &input, answer)?;
        }
        Ok(sent)
    }

    /// Polls a job until it ends, then reads what it says of each desktop
    /// ([`crate::outcome::job_report`]): the final job is returned only when every desktop it
    /// reports succeeded and nothing contradicts that; a failed desktop, or a job that ended
    /// `FAILED`, is [`Error::JobFailed`]; a desktop not reported, still running or reported
    /// in contradiction is [`Error::JobOutcomeUnknown`]; running out of `options.timeout` is
    /// [`Error::JobTimeout`]. The job is read at once, then when its sub-jobs' progress
    /// projects its end, or, where they tell nothing, after pauses growing from
    /// `options.poll_interval` by half each time; never more than `options.max_poll_interval`
    /// apart ([`crate::pace`]).
    ///
    /// The deletion was accepted, so a failure to *read* the job says nothing about it: a
    /// transient one (no connection, a timeout, a broken exchange, 429, 502/503/504 or another
    /// 5xx) is read again after the same pause (a `Retry-After` honoured, within the
    /// deadline) until the wait's timeout, which then names the last failure. Anything else
    /// (a 4xx: the job or the project is unknown, the key refused) is the error at once.
    pub async fn wait_job(&self, job_id: &str, options: &WaitOptions) -> Result<Job, Error> {
        self.wait_job_observed(job_id, options, &mut |_: &Job| {}).await
    }

    /// As [`Client::wait_job`], showing `observe` each reading of the job (its sub-jobs'
    /// `process` says how far it has come: [`crate::outcome::job_progress`]).
    pub async fn wait_job_observed(
        &self,
        job_id: &str,
        options: &WaitOptions,
        observe: &mut (dyn FnMut(&Job) + Send),
    ) -> Result<Job, Error> {
        self.wait_job_paced(job_id, options, observe, &JobPace::default(), false).await
    }

    /// As [`Client::wait_job_observed`], for a job of a run that learns from its jobs how long
    /// they take ([`crate::pace`]); `just_accepted`: the job was accepted as the wait began,
    /// so it is first read after a pause rather than at once.
    pub(crate) async fn wait_job_paced(
        &self,
        job_id: &str,
        options: &WaitOptions,
        observe: &mut (dyn FnMut(&Job) + Send),
        pace: &JobPace,
        just_accepted: bool,
    ) -> Result<Job, Error> {
        options.check()?;
        let mut reads = JobReads::new(pace, options);
        let mut last_status = None;
        let mut last_failure: Option<String> = None;
        // Half the wait at most before the first read: a wait shorter than the pause still
        // reads the job once, and its timeout then says where the job stood.
        let mut pause = just_accepted.then(|| reads.first_pause().min(options.timeout / 2));
        // What a throttled read was asked to wait, which no learning shortens.
        let mut asked = Duration::ZERO;
        let mut failed_reads_pause = options.poll_interval;
        loop {
            if let Some(pause) = pause {
                let remaining = options.timeout.saturating_sub(reads.elapsed());
                if remaining.is_zero() {
                    break;
                }
                reads.wait(pause, asked, remaining).await;
            }
            let remaining = options.timeout.saturating_sub(reads.elapsed());
            pace.counted_read();
            asked = Duration::ZERO;
            pause = Some(match tokio::time::timeout(remaining, self.show_job(job_id)).await {
                Err(_) => break,
                Ok(Ok(job)) => {
                    observe(&job);
                    last_failure = None;
                    if job.status.is_finished() {
                        reads.ended(reads.elapsed());
                        return settle(job);
                    }
                    let pause = reads.running(reads.elapsed(), crate::outcome::job_progress(&job));
                    last_status = Some(job.status.clone());
                    pause
                }
                Ok(Err(error)) if error.is_transient() => {
                    tracing::debug!(job_id, error = %error, "reading the job failed; reading it again");
                    let pause = failed_reads_pause;
                    failed_reads_pause = failed_reads_pause.mul_f64(1.5).min(options.max_poll_interval);
                    if let Error::Api(api) = &error {
                        asked = api.retry_after().unwrap_or_default();
                    }
                    last_failure = Some(error.message_with_causes());
                    pause.max(asked)
                }
                Ok(Err(error)) => return Err(error),
            });
        }
        Err(JobTimeout { job_id: job_id.to_owned(), last_status, waited: reads.elapsed(), last_failure }.into())
    }

    /// Sends one generated call inside a call record (for the request id and attempts) and a
    /// tracing span, and maps its error.
    pub(crate) async fn execute<T>(
        &self,
        operation: &'static str,
        identity: Option<crate::identity::Resolved>,
        call: GeneratedCall<'_, T>,
    ) -> Result<(T, CallRecord), Error> {
        let started = Instant::now();
        let span = tracing::info_span!(
            "call",
            operation,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
            attempts = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let (result, mut call) = CALL
            .scope(RefCell::new(CallRecord { identity, ..CallRecord::default() }), async {
                let result = call.await;
                (result, CALL.with(|call| call.take()))
            })
            .instrument(span.clone())
            .await;
        if let Some(status) = call.status {
            span.record("status", status);
        }
        if let Some(id) = &call.request_id {
            span.record("request_id", id.as_str());
        }
        span.record("attempts", call.attempts);
        span.record("elapsed_ms", started.elapsed().as_millis() as u64);
        let outcome = match result {
            Ok(value) => Ok(value.into_inner()),
            Err(e) => Err(match self.map_error(e, &mut call).await {
                // Which operation was refused decides which input a hint points at.
                Error::Api(api) => Error::Api(ApiError { operation: Some(operation), ..api }),
                other => other,
            }),
        };
        span.in_scope(|| match &outcome {
            Ok(_) => {
                tracing::info!(status = call.status, request_id = call.request_id.as_deref(), "{operation} succeeded")
            }
            Err(e) => {
                tracing::info!(status = e.status(), request_id = e.request_id(), error = %e, "{operation} failed")
            }
        });
        outcome.map(|value| (value, call))
    }

    /// Signs the request exactly as [`Client::delete_desktop_sub_resources`] would send it,
    /// and returns it instead of sending it.
    pub async fn dry_run_delete_desktop_sub_resources(
        &self,
        request: &DeleteSubResources,
    ) -> Result<SignedRequest, Error> {
        self.sign(OperationId::DeleteDesktopSubResources, &request.to_input()).await
    }

    /// Signs the request exactly as [`Client::show_job`] would send it, and returns it
    /// instead of sending it.
    pub async fn dry_run_show_job(&self, job_id: &str) -> Result<SignedRequest, Error> {
        self.sign(OperationId::ShowJob, &Input::new().with("job_id", job_id)).await
    }

    /// Runs a generated call with the transport capturing its signed request instead of
    /// sending it. The stand-in answer the generated code then reads is not the operation's
    /// (ShowJob's cannot be decoded from it): once a request was captured, only it counts.
    pub(crate) async fn dry_run<T>(
        &self,
        identity: crate::identity::Resolved,
        call: GeneratedCall<'_, T>,
    ) -> Result<SignedRequest, Error> {
        let record = CallRecord { dry_run: Some(None), identity: Some(identity), ..CallRecord::default() };
        let (result, captured) = CALL
            .scope(RefCell::new(record), async {
                let result = call.await;
                (result, CALL.with(|call| call.take().dry_run.flatten()))
            })
            .await;
        match (captured, result) {
            (Some(request), _) => Ok(request),
            (None, Err(e)) => Err(self.map_error(e, &mut CallRecord::default()).await),
            (None, Ok(_)) => {
                Err(ConfigError::new(ConfigErrorKind::HttpClient, "the request could not be captured for the dry run")
                    .into())
            }
        }
    }

    async fn map_error(&self, error: progenitor_client::Error<ErrorResponse>, call: &mut CallRecord) -> Error {
        use progenitor_client::Error as E;
        match error {
            E::ErrorResponse(value) => {
                let status = value.status().as_u16();
                let request_id = request_id_of(value.headers()).or_else(|| call.request_id.clone());
                let retry_after = retry_after_of(value.headers());
                api_error(status, request_id, retry_after, value.into_inner())
            }
            E::UnexpectedResponse(response) => {
                let status = response.status().as_u16();
                let request_id = request_id_of(response.headers()).or_else(|| call.request_id.clone());
                let retry_after = retry_after_of(response.headers());
                // The hooks already rewrote the body into the documented schema.
                let body = response.bytes().await.unwrap_or_default();
                api_error(status, request_id, retry_after, serde_json::from_slice(&body).unwrap_or_default())
            }
            E::CommunicationError(e) | E::ResponseBodyError(e) => {
                let endpoint = call.endpoint.as_deref().unwrap_or_else(|| self.endpoint());
                // The transport's own failure when it failed; else reqwest's, from the
                // generated code's side of the boundary.
                let failure = call.failure.take().unwrap_or_else(|| crate::error::Failure::new(e, false));
                TransportError::new(endpoint, failure).unreachable_before(std::mem::take(&mut call.unreachable)).into()
            }
            E::InvalidResponsePayload(_, e) => UndecodableResponse {
                status: call.status.unwrap_or(200),
                request_id: call.request_id.clone(),
                reason: if call.oversized_body {
                    format!(
                        "the body is larger than {} bytes (MAX_RESPONSE_BODY_BYTES), so it was not read further",
                        crate::limits::MAX_RESPONSE_BODY_BYTES
                    )
                } else {
                    e.to_string()
                },
            }
            .into(),
            E::InvalidRequest(message) | E::Custom(message) => ConfigError::new(
                ConfigErrorKind::InvalidCredentials,
                format!("the request could not be signed: {message}"),
            )
            .into(),
            other => {
                ConfigError::new(ConfigErrorKind::HttpClient, format!("unexpected client failure: {other}")).into()
            }
        }
    }
}

/// What a finished job means for [`Client::wait_job`].
fn settle(job: Job) -> Result<Job, Error> {
    let report = crate::outcome::job_report(&job, None);
    match report.verdict {
        Verdict::Success | Verdict::Accepted => Ok(job),
        Verdict::Failed => Err(JobFailed { job: Box::new(job) }.into()),
        Verdict::Unknown => Err(JobOutcomeUnknown { job: Box::new(job), report }.into()),
    }
}

fn request_id_of(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers.get(crate::limits::REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The wait a `Retry-After` header asks for, as seconds or an HTTP date.
fn retry_after_of(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    crate::retry::parse_retry_after(value, std::time::SystemTime::now())
}

fn api_error(status: u16, request_id: Option<String>, retry_after: Option<Duration>, body: ErrorResponse) -> Error {
    ApiError {
        status,
        request_id,
        retry_after,
        error_code: body.error_code,
        error_msg: body.error_msg,
        error_detail: body.error_detail,
        encoded_authorization_message: body.encoded_authorization_message,
        operation: None,
    }
    .into()
}

/// How [`Client::wait_job`] polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitOptions {
    /// How long to wait for the job to end, in all.
    pub timeout: Duration,
    /// The pause before the first read of a job just accepted, while its run has not yet
    /// learnt how long its jobs take; and the first of the pauses that grow by half each read
    /// while a job tells nothing of its progress ([`crate::pace`]).
    pub poll_interval: Duration,
    /// The longest pause between two reads.
    pub max_poll_interval: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(600),
            poll_interval: Duration::from_millis(500),
            max_poll_interval: Duration::from_secs(10),
        }
    }
}

impl WaitOptions {
    /// Every duration within [`crate::MIN_DURATION`] and [`crate::MAX_DURATION`]: a zero
    /// poll interval would read the job as fast as the network allows.
    pub fn check(&self) -> Result<(), Error> {
        crate::limits::check_timeout("timeout", self.timeout)?;
        crate::limits::check_timeout("poll_interval", self.poll_interval)?;
        crate::limits::check_timeout("max_poll_interval", self.max_poll_interval)?;
        Ok(())
    }

    /// The default intervals with this overall timeout.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self { timeout, ..Self::default() }
    }
}
