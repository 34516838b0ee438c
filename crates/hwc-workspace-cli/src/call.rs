//! The generic command of an operation without porcelain: its fields in, `Client::call` (or
//! `Client::sign` for `--dry-run`), the answer out as JSON or a table.

use hwc_workspace::{Error, OperationId, PageOptions};
use serde_json::Value as Json;

use crate::args::{OutputFormat, PagingArgs, RequestOptions};
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
        // `--output ids` is refused before a call for an operation that lists nothing.
        OutputFormat::Json | OutputFormat::Ids => output::json_record(&answer.value),
        OutputFormat::Table => output::answer_table(&answer.value),
    }
    .map_err(Failure::output)?;
    if let Some(reason) = output::query_failure() {
        output::error(&format!("--query failed on the answer ({reason}); it was written whole, with query_error"), &[]);
        return Ok(ExitCode::InvalidInput);
    }
    Ok(ExitCode::Success)
}

/// The command of a paged operation (a listing): every item, page after page, one JSON line
/// (or id) each as it arrives, each item once however the listing changes while it is read
/// (the core's [`hwc_workspace::Items`]); a table once all are in.
pub(crate) async fn list(
    id: OperationId,
    request: &RequestOptions,
    paging: &PagingArgs,
    mut fields: Fields,
) -> Result<ExitCode, Failure> {
    let operation = id.describe();
    let Some(spec) = operation.paging else { return run(id, request, fields).await };
    let options = PageOptions { page_size: paging.page_size, max_items: paging.max_items };
    if request.dry_run {
        // The first page's request: the one a listing starts with.
        if let Some(size) = paging.page_size {
            fields.input.set(spec.limit, size);
        }
        return run(id, request, fields).await;
    }
    // Refused before any credential is looked for, as every command's input is.
    let (client, _simulator) = crate::delete::connect(request, fields.project_id.as_deref()).await?;
    let mut items = client.items(id, fields.input, options).map_err(|e| failure(id, e))?;
    let mut rows = Vec::new();
    while let Some(item) = items.next_item().await {
        let item = item.map_err(|e| failure(id, e))?;
        match request.output {
            OutputFormat::Json => output::json_record(&item).map_err(Failure::output)?,
            OutputFormat::Ids => {
                // The core checked the id (no line break can make two of it).
                let item_id = item.get(spec.item_id).and_then(Json::as_str).unwrap_or_default();
                output::try_data(item_id).map_err(Failure::output)?;
            }
            OutputFormat::Table => rows.push(item),
        }
    }
    if request.output == OutputFormat::Table {
        output::answer_table(&serde_json::json!({ spec.items: rows })).map_err(Failure::output)?;
    }
    let report = items.report();
    if report.total_moved() {
        output::note(&format!(
            "the listing changed while it was read (its total went from {} to {}); each item was listed once",
            report.first_total.unwrap_or_default(),
            report.last_total.unwrap_or_default()
        ));
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
