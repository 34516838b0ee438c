//! One call of any operation on its way through the generated client: the state the
//! generated dispatch (`crate::dispatch`, from the spec) works with, and what the core checks
//! of each operation's answer beyond its schema.

use std::future::Future;

use serde::Serialize;
use serde_json::Value as Json;

use crate::client::{Client, SignedRequest};
use crate::error::{Error, UndecodableResponse};
use crate::operation::{Answer, Input, OperationId};
use crate::types::ErrorResponse;

/// One call in progress, as the generated dispatch sees it: the client, the keys and project
/// it resolved, and whether the request is sent or only signed.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) client: &'a Client,
    pub(crate) identity: crate::identity::Resolved,
    pub(crate) dry_run: bool,
}

/// What a call came to: an answer, or the signed request of a dry run.
#[derive(Debug)]
pub(crate) enum Sent {
    Answered(Answer),
    Signed(SignedRequest),
}

impl Call<'_> {
    pub(crate) fn raw(&self) -> &crate::generated::Client {
        self.client.generated()
    }

    /// The project of the path, as the generated client's type for it: the client's,
    /// resolved for this call (the generated type checks the spec's limits on it).
    pub(crate) fn project_id<T>(&self) -> Result<T, Error>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        self.identity.1.parse().map_err(|e: T::Err| {
            crate::error::InvalidInput::new("project_id", "a project id the spec allows", e.to_string()).into()
        })
    }

    /// Sends (or signs) one generated call. Not an `async fn`: the generated call's future is
    /// kilobytes, and an `async fn` would keep it as an argument beside the future it is moved
    /// into, so every caller would carry (and move) it twice. Boxed here, before any state
    /// holds it, it is moved once and the call's state stays small.
    pub(crate) fn run<'c, T: Serialize + Send + 'c>(
        &'c self,
        id: OperationId,
        call: impl Future<Output = GeneratedResult<T>> + Send + 'c,
    ) -> impl Future<Output = Result<Sent, Error>> + 'c {
        let call: GeneratedCall<'c, T> = Box::pin(call);
        async move {
            let identity = self.identity.clone();
            if self.dry_run {
                return self.client.dry_run(identity, call).await.map(Sent::Signed);
            }
            let (value, record) = self.client.execute(id.describe().name, Some(identity), call).await?;
            let value = serde_json::to_value(value).map_err(|e| UndecodableResponse {
                status: record.status.unwrap_or(200),
                request_id: record.request_id.clone(),
                reason: e.to_string(),
            })?;
            Ok(Sent::Answered(Answer { value, request_id: record.request_id, status: record.status.unwrap_or(200) }))
        }
    }
}

/// What a generated call comes to.
pub(crate) type GeneratedResult<T> =
    Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<ErrorResponse>>;

/// A generated call's future, boxed once (see [`Call::run`]).
pub(crate) type GeneratedCall<'a, T> = std::pin::Pin<Box<dyn Future<Output = GeneratedResult<T>> + Send + 'a>>;

/// What an answer must hold beyond its schema for the core to stand behind it, per
/// operation: the exhaustive match makes a new operation name its checks (or none).
pub(crate) fn check_answer(id: OperationId, input: &Input, answer: &Answer) -> Result<(), Error> {
    let undecodable = |reason: String| -> Error {
        UndecodableResponse { status: answer.status, request_id: answer.request_id.clone(), reason }.into()
    };
    match id {
        OperationId::DeleteDesktopSubResources | OperationId::AddDesktopSubResources => {
            // The job id becomes a path segment of every later ShowJob: an id that cannot be
            // one is not a documented answer, whatever the service meant by it.
            let job_id = answer.value.get("job_id").and_then(Json::as_str).unwrap_or_default();
            if let Err(Error::InvalidInput(invalid)) = crate::model::check_path_segment("job_id", job_id) {
                return Err(undecodable(format!(
                    "its job_id cannot name a job (expected {}, got {}); the {} may have been accepted",
                    invalid.expected(),
                    invalid.got(),
                    if id == OperationId::AddDesktopSubResources { "purchase" } else { "deletion" }
                )));
            }
        }
        // Each page is read as the generated type; what a listing must hold across pages (an
        // id per item) is checked where the pages are joined, `crate::paging`.
        OperationId::ListDesktops => {}
        OperationId::ShowJob => {
            let asked = input.get("job_id").and_then(Json::as_str).unwrap_or_default();
            let told = answer.value.get("id").and_then(Json::as_str).unwrap_or_default();
            check_job_answer(asked, told).map_err(undecodable)?;
        }
    }
    Ok(())
}

/// A ShowJob answer must describe the job asked for; why not, when it does not.
pub(crate) fn check_job_answer(asked: &str, told: &str) -> Result<(), String> {
    if told == asked {
        Ok(())
    } else {
        Err(format!("it describes job {told:?}, not the job {asked:?} that was asked for"))
    }
}
