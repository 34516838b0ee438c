//! `delete-sub-resources`: ids in (flags, a file, stdin or `--cli-input-json`), handed to the core's bulk engine;
//! out, a stdout record per batch (or per desktop) as each batch ends, a summary on stderr,
//! and the signals and the broken pipes of a long run.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use hwc_workspace::bulk::{
    Account, BatchOutcome, BatchResult, BulkOptions, BulkPlan, Canceller, DesktopStatus, Verdict,
};
use hwc_workspace::ids::IdList;
use hwc_workspace::operation::describe_expected;
use hwc_workspace::{Client, Error, Input, OperationId, WaitOptions};
use hwc_workspace_sim::Simulator;
use serde_json::{Value as Json, json};

use crate::args::{BulkArgs, RequestOptions};
use crate::commands::Fields;
use crate::failure::{ExitCode, Failure};
use crate::output;

pub(crate) async fn run(
    id: OperationId,
    global: &RequestOptions,
    args: BulkArgs,
    fields: Fields,
) -> Result<ExitCode, Failure> {
    let selecting = !args.selection.is_empty();
    // The filters are checked before any credential is looked for, as every input is.
    let filters = if selecting {
        Some(hwc_workspace::selection::filters_from_text(&args.selection).map_err(selection_failure)?)
    } else {
        None
    };
    let mut lists = fields.lists;
    let (ids, options) = bulk_options(id, &args, fields.input, lists.remove("desktop_ids"), selecting)?;
    // Every id is checked before the first is sent: bad input never leaves half the
    // desktops processed. The plan shares the list (no copy, unless there are duplicates to
    // leave out); the list is kept here only to name a refused id.
    let plan_of = |ids: Arc<IdList>| {
        BulkPlan::from_list(Arc::clone(&ids), options.clone()).map_err(|error| match &error {
            Error::InvalidInput(input) if input.name() == "desktop_ids" && input.index().is_some() => {
                locate_in_input(error, &ids)
            }
            _ => crate::call::failure(id, error),
        })
    };
    let (client, _simulator, plan) = match &filters {
        None => {
            let plan = plan_of(ids)?;
            let (client, simulator) = connect(global, fields.project_id.as_deref()).await?;
            (client, simulator, plan)
        }
        Some(filters) => {
            let (client, simulator) = connect(global, fields.project_id.as_deref()).await?;
            let selection = client.select(filters, options.journal.as_deref()).await.map_err(selection_failure)?;
            if let Some(code) = confirm_selection(&selection, &options, &args, global.dry_run)? {
                return Ok(code);
            }
            let plan = plan_of(Arc::new(selection.desktop_ids.iter().collect()))?;
            (client, simulator, plan)
        }
    };

    if global.dry_run {
        // Each batch is signed and printed as it comes: nothing of the run is held but its ids.
        for index in 0..plan.batch_count() {
            let signed = client
                .sign(options.operation, &options.input(plan.batch(index)))
                .await
                .map_err(|e| crate::call::failure(id, e))?;
            output::signed_request(global.output, &signed.method, &signed.url, &signed.masked_headers(), &signed.body)
                .map_err(Failure::output)?;
        }
        output::note(&format!("dry run: {} request(s) signed, none sent", plan.batch_count()));
        return Ok(ExitCode::Success);
    }

    let desktops = plan.desktops();
    let mut run = client.delete_many(plan)?;
    let total = run.batch_count();
    let stopped = watch_signals(run.canceller());
    let progress = progress_bar(desktops, total, options.wait.is_some());
    // Between batches, the bar follows the waited-for jobs' sub-jobs as they progress.
    let ticker = progress.as_ref().map(|bar| {
        let (bar, done) = (bar.clone(), run.progress());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            loop {
                tick.tick().await;
                bar.set_position(done.desktops() as u64);
            }
        })
    });
    // The first failure reported, unless a desktop failed or a batch was refused anywhere:
    // that is exit 3 whatever came first, since those desktops surely need acting on.
    let mut worst: Option<ExitCode> = None;
    let mut output_failed = false;
    let mut first_record = true;
    while let Some(outcome) = run.next().await {
        if let Some(bar) = &progress {
            bar.set_position(run.progress().desktops() as u64);
            if run.current_limit() < usize::from(args.concurrency) {
                bar.set_message(format!("throttled: {} in flight", run.current_limit()));
            } else {
                bar.set_message("");
            }
        }
        let failure = failure_of(&outcome);
        if let Some(failure) = &failure {
            let label = batch_label(outcome.index, total, outcome.desktop_ids.len());
            let line = || output::error(&format!("{label}{}", failure.message), &failure.hints);
            match &progress {
                Some(bar) => bar.suspend(line),
                None => line(),
            }
            if failure.code == ExitCode::Rejected {
                worst = Some(ExitCode::Rejected);
            } else {
                worst.get_or_insert(failure.code);
            }
        }
        if output_failed {
            continue;
        }
        let records =
            if args.per_desktop { desktop_records(&outcome) } else { vec![batch_record(&outcome, failure.as_ref())] };
        for record in records {
            let write = || {
                if args.per_desktop {
                    output::desktop(global.output, &record, first_record)
                } else {
                    output::batch(global.output, &record, first_record)
                }
            };
            let written = match &progress {
                Some(bar) => bar.suspend(write),
                None => write(),
            };
            first_record = false;
            if let Err(error) = written {
                // Nobody reads the records any more: no batch is sent whose outcome could no
                // longer be told. The journal, if any, still gets every one.
                output::error(&format!("stdout cannot be written ({error}); stopping: no new batch is sent"), &[]);
                run.canceller().cancel();
                output_failed = true;
                break;
            }
        }
    }
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    summarize(run.compact_account(), run.job_reads());
    if output_failed {
        return Ok(ExitCode::OutputFailed);
    }
    if let Some(code) = stopped.code() {
        return Ok(code);
    }
    if let Some(code) = worst {
        return Ok(code);
    }
    if let Some(reason) = output::query_failure() {
        // Every record was written whole; the query could not be applied to some.
        output::error(
            &format!("--query failed on a record ({reason}); those records were written whole, with query_error"),
            &[],
        );
        return Ok(ExitCode::InvalidInput);
    }
    Ok(ExitCode::Success)
}

/// The first SIGINT, SIGTERM or SIGHUP cancels the run (no new batch; those in flight are
/// reported); a second one exits at once, the journal already holding everything known.
fn watch_signals(canceller: Canceller) -> Stopped {
    let stopped = Stopped::default();
    let seen = stopped.clone();
    tokio::spawn(async move {
        loop {
            let code = next_signal().await;
            if seen.0.swap(code as u8, Ordering::SeqCst) != 0 {
                std::process::exit(code as i32);
            }
            output::note("stopping: no new batch is sent; the batches in flight are reported (again to exit at once)");
            canceller.cancel();
        }
    });
    stopped
}

async fn next_signal() -> ExitCode {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // A closed terminal or a dropped ssh session (SIGHUP) is the usual end of a long run:
        // it stops the run as gracefully as Ctrl-C does.
        if let (Ok(mut terminate), Ok(mut hangup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => ExitCode::Interrupted,
                _ = terminate.recv() => ExitCode::Terminated,
                _ = hangup.recv() => ExitCode::HangUp,
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::Interrupted
}

/// The signal that stopped the run, if one did.
#[derive(Debug, Clone, Default)]
struct Stopped(Arc<AtomicU8>);

impl Stopped {
    fn code(&self) -> Option<ExitCode> {
        match self.0.load(Ordering::SeqCst) {
            129 => Some(ExitCode::HangUp),
            130 => Some(ExitCode::Interrupted),
            143 => Some(ExitCode::Terminated),
            _ => None,
        }
    }
}

/// What a batch's outcome means for the exit code and stderr, if it is a failure: the error
/// that ended it, else its verdict (the core's reading of its job and desktops).
fn failure_of(outcome: &BatchOutcome) -> Option<Failure> {
    match &outcome.result {
        BatchResult::Accepted { wait_error: Some(error), .. } => Some(Failure::of(error)),
        BatchResult::Accepted { .. } => verdict_failure(outcome),
        BatchResult::Rejected(error) => Some(Failure::of(error)),
        BatchResult::RefusedEarlier { message, .. } => Some(
            Failure {
                code: ExitCode::Rejected,
                message: format!("refused in an earlier run: {message}"),
                hints: Vec::new(),
            }
            .hint("once the cause is fixed (e.g. the keys), --resend-refused sends such batches again"),
        ),
        BatchResult::Throttled { error, throttled_for } => Some(
            Failure {
                code: ExitCode::Rejected,
                message: format!(
                    "throttled for {:.0} s, longer than --throttle-timeout; never passed on, and the run sent nothing more: {}",
                    throttled_for.as_secs_f64(),
                    error.message_with_causes()
                ),
                hints: Vec::new(),
            }
            .hint("run again later with the same --journal to send what was not sent, or raise --throttle-timeout"),
        ),
        // The error says what happened; each desktop's record says its state is unknown.
        BatchResult::Unknown { error: Some(error), .. } => Some(Failure::of(error)),
        BatchResult::Unknown { reason, error: None } => Some(
            Failure { code: ExitCode::OutcomeUnknown, message: reason.clone(), hints: Vec::new() }
                .hint("--resend-unknown sends such batches again, if they were not processed"),
        ),
        BatchResult::NotSent => None,
        _ => None,
    }
}

/// The failure an accepted batch's verdict means: a failed desktop or job (exit 3), a desktop
/// whose outcome is not known (exit 7).
fn verdict_failure(outcome: &BatchOutcome) -> Option<Failure> {
    // Desktops that share a reason are named together, the reason once: a batch stopped
    // mid-wait is one line of ids, not a hundred copies of the same words.
    let listed = |status: DesktopStatus| -> Vec<String> {
        let mut groups: Vec<(Option<String>, Vec<&str>)> = Vec::new();
        for desktop in outcome.desktops.iter().filter(|d| d.status == status) {
            let detail = match (&desktop.error_code, &desktop.fail_reason) {
                (Some(code), Some(reason)) => Some(format!("{code}: {reason}")),
                (Some(text), None) | (None, Some(text)) => Some(text.clone()),
                (None, None) => None,
            };
            match groups.iter_mut().find(|(known, _)| *known == detail) {
                Some((_, ids)) => ids.push(&desktop.desktop_id),
                None => groups.push((detail, vec![&desktop.desktop_id])),
            }
        }
        groups
            .into_iter()
            .map(|(detail, ids)| match detail {
                Some(detail) => format!("{} ({detail})", ids.join(", ")),
                None => ids.join(", "),
            })
            .collect()
    };
    let earlier = if outcome.resumed { " (recorded by an earlier run)" } else { "" };
    let job = match &outcome.result {
        BatchResult::Accepted { job_id, .. } => job_id.as_str(),
        _ => "",
    };
    match outcome.verdict {
        Verdict::Failed => {
            let failed = listed(DesktopStatus::Failed);
            let message = match (&outcome.result, failed.is_empty()) {
                (BatchResult::Accepted { job: Some(job), .. }, true) => {
                    hwc_workspace::JobFailed::new((**job).clone()).to_string()
                }
                (_, true) => format!("job {job} failed{earlier}"),
                (_, false) => format!("job {job}{earlier}: failed desktops: {}", failed.join(", ")),
            };
            Some(Failure { code: ExitCode::Rejected, message, hints: Vec::new() })
        }
        Verdict::Unknown => Some(Failure {
            code: ExitCode::OutcomeUnknown,
            message: format!(
                "job {job}{earlier}: what became of these desktops is not known: {}",
                listed(DesktopStatus::Unknown).join("; ")
            ),
            hints: vec![format!("check them with `hwc-workspace job show {job}`")],
        }),
        Verdict::Success | Verdict::Accepted => None,
    }
}

/// The batch's stdout record: its job and request id, its ids, the final job with --wait, and
/// the error when it failed.
fn batch_record(outcome: &BatchOutcome, failure: Option<&Failure>) -> serde_json::Value {
    let mut record = json!({"job_id": null, "request_id": null, "desktop_ids": outcome.desktop_ids});
    match &outcome.result {
        BatchResult::Accepted { job_id, request_id, job, .. } => {
            record["job_id"] = json!(job_id);
            record["request_id"] = json!(request_id);
            if let Some(job) = job {
                record["job"] = json!(job);
            }
        }
        BatchResult::Rejected(error)
        | BatchResult::Throttled { error, .. }
        | BatchResult::Unknown { error: Some(error), .. } => {
            record["request_id"] = json!(error.request_id());
            record["error"] = crate::failure::error_record(error);
        }
        BatchResult::NotSent => record["status"] = json!("NOT_SENT"),
        _ => {}
    }
    if let (Some(failure), None) = (failure, record.get("error")) {
        record["error"] = json!({"message": failure.message});
    }
    if outcome.resumed {
        record["resumed"] = json!(true);
    }
    record
}

/// One record per desktop of the batch.
fn desktop_records(outcome: &BatchOutcome) -> Vec<serde_json::Value> {
    outcome.desktops.iter().map(|desktop| json!(desktop)).collect()
}

/// One line over the whole run, on stderr: the desktops by state, failures by code, and the job reads
/// the wait spent (calls the service's quota counts).
fn summarize(account: &Account, job_reads: usize) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for place in account.places() {
        let Some(status) = account.status(place) else { continue };
        *counts.entry(status.as_str()).or_default() += 1;
        if matches!(status, DesktopStatus::Failed | DesktopStatus::NotFound) {
            let code = account.get(place).and_then(|d| d.error_code).unwrap_or_else(|| "no error code".to_owned());
            *codes.entry(code).or_default() += 1;
        }
    }
    if account.len() < 2 {
        // One desktop's record says it all.
        return;
    }
    let states: Vec<String> = counts.iter().map(|(state, n)| format!("{n} {state}")).collect();
    let mut line = format!("{} desktops: {}", account.len(), states.join(", "));
    if !codes.is_empty() {
        let grouped: Vec<String> = codes.iter().map(|(code, n)| format!("{code} x{n}")).collect();
        line.push_str(&format!("; failures by error code: {}", grouped.join(", ")));
    }
    if job_reads > 0 {
        line.push_str(&format!("; the jobs were read {job_reads} time(s)"));
    }
    output::note(&line);
}

/// The engine names a bad id by its place among all the ids given; on the command line it is
/// shown with its value.
fn locate_in_input(error: Error, ids: &IdList) -> Failure {
    match &error {
        Error::InvalidInput(input) if input.name() == "desktop_ids" && input.index().is_some() => {
            let position = input.index().unwrap_or_default();
            let id = ids.get(position).unwrap_or_default().trim();
            let shown: String = id.chars().take(40).collect();
            let shown = if shown.len() < id.len() { format!("{shown:?}…") } else { format!("{shown:?}") };
            Failure::input(format!(
                "invalid desktop id {shown} (id {} of those given): expected {}, got {}",
                position + 1,
                input.expected(),
                input.got()
            ))
        }
        _ => Failure::from(error),
    }
}

fn batch_label(index: usize, total: usize, ids: usize) -> String {
    if total > 1 { format!("batch {} of {total} ({ids} desktop ids) failed: ", index + 1) } else { String::new() }
}

/// The failure of a selection: a refused filter is fixed in `--where`, not with the listing
/// command's own flag.
fn selection_failure(error: Error) -> Failure {
    let refused_filter = matches!(&error, Error::InvalidInput(input) if input.name() != "where");
    let failure = Failure::about(error);
    if refused_filter { failure.hint("fix it in --where KEY=VALUE (the filters of `desktops list`)") } else { failure }
}

/// Shows what a selection resolved to and, on a terminal, asks before acting on it (unless
/// `--yes`); without one, a selection is refused unless `--yes` was given: a fleet-wide
/// action is never taken by accident. `Some(code)`: stop here with it.
fn confirm_selection(
    selection: &hwc_workspace::selection::Selection,
    options: &BulkOptions,
    args: &BulkArgs,
    dry_run: bool,
) -> Result<Option<ExitCode>, Failure> {
    const SHOWN: usize = 5;
    let count = selection.desktop_ids.len();
    let first: Vec<&str> = selection.desktop_ids.iter().take(SHOWN).map(String::as_str).collect();
    let more = if count > SHOWN { format!(", and {} more", count - SHOWN) } else { String::new() };
    let source = if selection.from_journal {
        format!(
            " (as recorded in the journal {}; not listed again)",
            options.journal.as_deref().unwrap_or(Path::new("")).display()
        )
    } else {
        String::new()
    };
    let filters: Vec<String> = args.selection.iter().map(|pair| output::escaped(pair).into_owned()).collect();
    output::note(&format!(
        "selected {count} desktop(s) where {}{source}{}",
        filters.join(" and "),
        if count == 0 { String::new() } else { format!(": {}{more}", first.join(", ")) }
    ));
    if selection.listing_moved {
        output::note("the listing changed while it was read; each desktop it held was taken once");
    }
    if count == 0 {
        output::note("nothing to do");
        return Ok(Some(ExitCode::Success));
    }
    if dry_run || args.yes {
        return Ok(None);
    }
    let action = if options.operation == OperationId::DeleteDesktopSubResources {
        format!("delete {} from {count} desktop(s)", options.sub_resource_type.as_str())
    } else {
        let sku = options.extra.get("sub_resource_sku").map_or_else(String::new, ToString::to_string);
        format!("add the collaboration resource {sku} to {count} desktop(s)")
    };
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Failure::input(format!(
            "a selection needs confirming, and no terminal can ask: nothing was sent ({action})"
        ))
        .hint("check the selection with --dry-run, then pass --yes to act on it"));
    }
    output::ask(&format!("{action}? [y/N]"));
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() || !matches!(answer.trim(), "y" | "Y" | "yes") {
        output::note("not confirmed: nothing was sent");
        return Ok(Some(ExitCode::InvalidInput));
    }
    Ok(None)
}

/// The run's ids and options from the request's fields (flags and `--cli-input-json`, by
/// the spec's names): the ids are the bulk input; a deletion's `sub_resource_type` and any
/// run's `order_id` have members of their own; every further field the spec declares (a
/// purchase's `sub_resource_sku`, say) goes with each batch (`BulkOptions::extra`), checked
/// by the core like the rest.
fn bulk_options(
    id: OperationId,
    args: &BulkArgs,
    input: Input,
    listed: Option<IdList>,
    selecting: bool,
) -> Result<(Arc<IdList>, BulkOptions), Failure> {
    let operation = id.describe();
    // A required field left out that the spec gives a default is sent with it, as by any call.
    // The ids are taken out first: a million of them are not copied with the other fields.
    let mut fields = input.into_map();
    let in_file = fields.remove("desktop_ids");
    let mut fields =
        hwc_workspace::operation::with_defaults(operation, &Input::from_map(fields)).into_owned().into_map();
    // The flags' list (compact already), else the request file's.
    let ids = match (listed, in_file) {
        (Some(listed), _) => listed,
        (None, None | Some(Json::Null)) => IdList::new(),
        (None, Some(Json::Array(items))) => {
            let mut ids = IdList::new();
            for (index, item) in items.iter().enumerate() {
                match item {
                    Json::String(id) => ids.push(id),
                    other => {
                        return Err(Failure::input(format!(
                            "invalid desktop_ids[{index}]: expected a desktop id, got {other}"
                        )));
                    }
                }
            }
            ids
        }
        (None, Some(other)) => {
            return Err(Failure::input(format!("invalid desktop_ids: expected a list, got {other}")));
        }
    };
    // Duplicates stay: the engine keeps the first of each, and names a bad id by its place
    // among all those given.
    if selecting && !ids.is_empty() {
        return Err(Failure::input("give desktop ids or --where, not both"));
    }
    if ids.is_empty() && !selecting {
        return Err(Failure::input("no desktop ids given")
            .hint("pass --desktop-id ID (repeatable, or comma-separated) or --desktop-ids-from FILE ('-' for stdin)"));
    }
    let mut options = if id == OperationId::DeleteDesktopSubResources {
        deletion(operation, &mut fields)?
    } else {
        // Every other field (the SKU, say) goes with each batch as given; the core's check
        // names one that is missing or wrong before anything is sent.
        let mut options = BulkOptions::new(hwc_workspace::SubResourceType::DESKTOP_SHARER);
        options.operation = id;
        options
    };
    // A value of another type stays among the further fields, where the core's check names it.
    match fields.remove("order_id") {
        Some(Json::String(order_id)) => options.order_id = Some(order_id),
        Some(other) => {
            fields.insert("order_id".to_owned(), other);
        }
        None => {}
    }
    options.extra = Input::from_map(fields);
    options.concurrency = usize::from(args.concurrency);
    options.wait = args.wait.then(|| WaitOptions::with_timeout(Duration::from_secs_f64(args.wait_timeout)));
    options.journal = args.journal.clone();
    options.resend_unknown = args.resend_unknown;
    options.resend_refused = args.resend_refused;
    options.throttle_timeout = Duration::from_secs_f64(args.throttle_timeout);
    options.split_not_found = !args.no_split_not_found;
    Ok((Arc::new(ids), options))
}

/// A deletion's options: its sub-resource type, taken out of the fields.
fn deletion(
    operation: &hwc_workspace::operation::Operation,
    fields: &mut serde_json::Map<String, Json>,
) -> Result<BulkOptions, Failure> {
    let kind = match fields.remove("sub_resource_type") {
        Some(Json::String(kind)) => kind,
        absent_or_other => {
            let expected = operation.field("sub_resource_type").map(describe_expected).unwrap_or_default();
            let got = absent_or_other.filter(|v| !v.is_null()).map_or_else(|| "nothing".to_owned(), |v| v.to_string());
            return Err(Failure::input(format!("invalid sub_resource_type: expected {expected}, got {got}"))
                .hint("set it with --sub-resource-type, or in --cli-input-json by its spec name"));
        }
    };
    Ok(BulkOptions::new(kind.as_str()))
}

/// Builds the client: against a simulator started here, or the configured endpoint.
pub(crate) async fn connect(
    global: &RequestOptions,
    project_id: Option<&str>,
) -> Result<(Client, Option<Simulator>), Failure> {
    let (mut builder, simulator) = if global.simulate {
        let simulator = Simulator::start().await.map_err(|e| Failure {
            code: ExitCode::Internal,
            message: format!("cannot start the simulator: {e}"),
            hints: Vec::new(),
        })?;
        output::note(&format!(
            "--simulate: using a local simulator at {} with its demo credentials (project {})",
            simulator.endpoint(),
            simulator.project_id()
        ));
        (simulator.client_builder(), Some(simulator))
    } else {
        (Client::builder(), None)
    };
    builder = builder
        .timeout(Duration::from_secs_f64(global.timeout))
        .retries(global.retries)
        .user_agent_suffix(concat!("hwc-workspace-cli/", env!("CARGO_PKG_VERSION")));
    if let Some(project_id) = project_id {
        builder = builder.project_id(project_id);
    }
    if !global.simulate {
        if let Some(region) = &global.region {
            builder = builder.region(region);
        }
        if let Some(endpoint) = &global.endpoint {
            builder = builder.endpoint(endpoint);
        }
    }
    if let Some(path) = &global.ca_cert {
        builder = builder.ca_certificate_file(path)?;
    }
    if let Some(proxy) = &global.proxy {
        builder = builder.proxy(proxy);
    }
    if let Some(endpoint) = &global.metadata_endpoint {
        builder = builder.metadata_endpoint(endpoint);
    }
    let client = builder.build()?;
    Ok((client, simulator))
}

/// A bar on a terminal, for a run of several batches or one whose jobs are waited for.
fn progress_bar(ids: usize, batches: usize, waiting: bool) -> Option<indicatif::ProgressBar> {
    if (batches < 2 && !waiting) || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(ids as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} desktops ({elapsed}) {msg}") {
        bar.set_style(style);
    }
    Some(bar)
}
