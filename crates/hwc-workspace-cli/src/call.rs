//! The generic command of an operation without porcelain: its fields in, `Client::call` (or
//! `Client::sign` for `--dry-run`), the answer out as JSON or a table.

use hwc_workspace::{Error, OperationId};

use crate::args::{OutputFormat, RequestOptions};
use crate::commands::Fields;
use crate::failure::{ExitCode, Failure};
use crate::output;

pub(crate) async fn run(id: OperationId, request: &RequestOptions, fields: Fields) -> Result<ExitCode, Failure> {
    let operation = id.describe();
    // Refused before any credential is looked for: bad input is the user's to fix first.
    hwc_workspace::operation::check_arguments(operation, &fields.input).map_err(|e| failure(id, e))?;
    let (client, _simulator) = crate::delete::connect(request, fields.project_id.as_deref()).await?;
    if request.dry_run {
        let signed = client.sign(id, &fields.input).await.map_err(|e| failure(id, e))?;
        output::signed_request(request.output, &signed.method, &signed.url, &signed.masked_headers(), &signed.body)
            .map_err(Failure::output)?;
        output::note("dry run: 1 request signed, none sent");
        return Ok(ExitCode::Success);
    }
    let answer = client.call(id, &fields.input).await.map_err(|e| failure(id, e))?;
    match request.output {
        OutputFormat::Json => output::json_record(&answer.value),
        OutputFormat::Table => output::answer_table(&answer.value),
    }
    .map_err(Failure::output)?;
    if let Some(reason) = output::query_failure() {
        output::error(&format!("--query failed on the answer ({reason}); it was written whole, with query_error"), &[]);
        return Ok(ExitCode::InvalidInput);
    }
    Ok(ExitCode::Success)
}

/// The failure of an operation's command: the core's error, its hints for what the command
/// is about, and for a refused field the flag that sets it.
pub(crate) fn failure(id: OperationId, error: Error) -> Failure {
    let flag = match &error {
        Error::InvalidInput(input) => crate::commands::flag_of(id.describe(), input.name()),
        _ => None,
    };
    // The core's hints know which operation was refused.
    let failure = Failure::about(error);
    match flag {
        Some(flag) => failure.hint(format!("set it with {flag}, or in --cli-input-json by its spec name")),
        None => failure,
    }
}
