//! `delete-sub-resources`: ids in (flags, a file or stdin), batches of 100 out with bounded
//! concurrency, one stdout record per batch.

use std::collections::HashSet;
use std::io::{BufRead, IsTerminal, Read};
use std::time::Duration;

use futures_util::StreamExt;
use hwc_workspace::{Client, DeleteSubResources, Error, MAX_DESKTOP_IDS, MAX_VALUE_CHARS, WaitOptions};
use hwc_workspace_sim::Simulator;
use serde_json::json;

use crate::args::{DeleteArgs, Global};
use crate::failure::{ExitCode, Failure, Subject};
use crate::output;

pub(crate) async fn run(global: &Global, args: DeleteArgs) -> Result<ExitCode, Failure> {
    let ids = collect_ids(&args)?;
    let batches: Vec<DeleteSubResources> = ids
        .chunks(MAX_DESKTOP_IDS)
        .map(|chunk| DeleteSubResources {
            desktop_ids: chunk.to_vec(),
            sub_resource_type: args.sub_resource_type.as_str().into(),
            order_id: args.order_id.clone(),
        })
        .collect();
    // Every batch is checked before the first is sent: bad input never leaves half the
    // desktops processed.
    for (index, batch) in batches.iter().enumerate() {
        batch.validate().map_err(|error| locate_in_input(error, index, batch))?;
    }
    let (client, _simulator) = connect(global, args.project_id.as_deref()).await?;

    if global.dry_run {
        for batch in &batches {
            let signed = client.dry_run_delete_desktop_sub_resources(batch).await?;
            output::signed_request(global.output, &signed.method, &signed.url, &signed.masked_headers(), &signed.body);
        }
        output::note(&format!("dry run: {} request(s) signed, none sent", batches.len()));
        return Ok(ExitCode::Success);
    }

    let wait = args.wait.then(|| WaitOptions::with_timeout(Duration::from_secs_f64(args.wait_timeout)));
    let total = batches.len();
    let progress = progress_bar(ids.len(), total);
    let mut outcomes = futures_util::stream::iter(batches.into_iter().enumerate())
        .map(|(index, batch)| {
            let (client, wait) = (&client, &wait);
            async move {
                let result = client.delete_desktop_sub_resources(&batch).await;
                let waited = match (&result, wait) {
                    (Ok(deleted), Some(options)) => Some(client.wait_job(&deleted.job_id, options).await),
                    _ => None,
                };
                (index, batch, result, waited)
            }
        })
        .buffered(usize::from(args.concurrency));
    let mut worst: Option<ExitCode> = None;
    while let Some((index, batch, result, waited)) = outcomes.next().await {
        if let Some(bar) = &progress {
            bar.inc(batch.desktop_ids.len() as u64);
        }
        let result = result.map(|deleted| (deleted, waited));
        let record = match result {
            Ok((deleted, None)) => {
                json!({"job_id": deleted.job_id, "request_id": deleted.request_id, "desktop_ids": batch.desktop_ids})
            }
            Ok((deleted, Some(Ok(job)))) => {
                json!({"job_id": deleted.job_id, "request_id": deleted.request_id, "desktop_ids": batch.desktop_ids, "job": job})
            }
            Ok((deleted, Some(Err(error)))) => {
                let mut record = json!({"job_id": deleted.job_id, "request_id": deleted.request_id, "desktop_ids": batch.desktop_ids});
                if let Error::JobFailed(failed) = &error {
                    record["job"] = json!(failed.job());
                }
                let failure = Failure::from(error);
                output::error(&format!("{}{}", batch_label(index, total, &batch), failure.message), &failure.hints);
                worst.get_or_insert(failure.code);
                record["error"] = json!({"message": failure.message});
                record
            }
            Err(error) => {
                let detail = crate::failure::error_record(&error);
                let failure = Failure::from(error);
                output::error(&format!("{}{}", batch_label(index, total, &batch), failure.message), &failure.hints);
                worst.get_or_insert(failure.code);
                json!({"job_id": null, "request_id": detail["request_id"], "desktop_ids": batch.desktop_ids, "error": detail})
            }
        };
        match &progress {
            Some(bar) => bar.suspend(|| output::batch(global.output, &record, index == 0)),
            None => output::batch(global.output, &record, index == 0),
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    Ok(worst.unwrap_or(ExitCode::Success))
}

/// The core names an id by its place in one batch; on the command line it is named by its
/// place among all the ids given, with its value.
fn locate_in_input(error: Error, batch_index: usize, batch: &DeleteSubResources) -> Failure {
    let position = match &error {
        Error::InvalidInput(input) if input.name() == "desktop_ids" => input.index(),
        _ => None,
    };
    match (position, &error) {
        (Some(in_batch), Error::InvalidInput(input)) => {
            let id = batch.desktop_ids.get(in_batch).map_or("", String::as_str);
            let shown: String = id.chars().take(40).collect();
            let shown = if shown.len() < id.len() { format!("{shown:?}…") } else { format!("{shown:?}") };
            Failure::input(format!(
                "invalid desktop id {shown} (id {} of those given): expected {}, got {}",
                batch_index * MAX_DESKTOP_IDS + in_batch + 1,
                input.expected(),
                input.got()
            ))
        }
        _ => Failure::from(error),
    }
}

fn batch_label(index: usize, total: usize, batch: &DeleteSubResources) -> String {
    if total > 1 {
        format!("batch {} of {total} ({} desktop ids) failed: ", index + 1, batch.desktop_ids.len())
    } else {
        String::new()
    }
}

/// `job show`: one job, as JSON.
pub(crate) async fn show_job(global: &Global, job_id: &str, project_id: Option<&str>) -> Result<ExitCode, Failure> {
    let (client, _simulator) = connect(global, project_id).await?;
    if global.dry_run {
        let signed = client.dry_run_show_job(job_id).await.map_err(|e| Failure::about(e, Subject::Job))?;
        output::signed_request(global.output, &signed.method, &signed.url, &signed.masked_headers(), &signed.body);
        output::note("dry run: 1 request signed, none sent");
        return Ok(ExitCode::Success);
    }
    let job = client.show_job(job_id).await.map_err(|e| Failure::about(e, Subject::Job))?;
    match global.output {
        crate::args::OutputFormat::Json => output::json_record(&json!(job)),
        crate::args::OutputFormat::Table => output::job_table(&job),
    }
    Ok(ExitCode::Success)
}

/// Ids from `--desktop-id` and `--desktop-ids-from`, trimmed, in order, each once.
fn collect_ids(args: &DeleteArgs) -> Result<Vec<String>, Failure> {
    let mut raw: Vec<String> =
        args.desktop_ids.iter().map(|id| id.trim().to_owned()).filter(|id| !id.is_empty()).collect();
    if let Some(path) = &args.desktop_ids_from {
        let before = raw.len();
        let name = if path.as_os_str() == "-" {
            read_id_lines(std::io::stdin().lock(), "stdin", &mut raw)?;
            "stdin".to_owned()
        } else {
            // A FIFO is fine here (`<(command)`): the reading is bounded, not the kind of file.
            let name = path.display().to_string();
            let file = std::fs::File::open(path)
                .map_err(|e| Failure::input(format!("cannot read desktop ids from {name}: {e}")))?;
            read_id_lines(file, &name, &mut raw)?;
            name
        };
        tracing::debug!(source = %name, ids = raw.len() - before, "read desktop ids");
    }
    let mut seen = HashSet::new();
    let unique: Vec<String> = raw.into_iter().filter(|id| seen.insert(id.clone())).collect();
    if unique.is_empty() {
        return Err(Failure::input("no desktop ids given")
            .hint("pass --desktop-id ID (repeatable, or comma-separated) or --desktop-ids-from FILE ('-' for stdin)"));
    }
    Ok(unique)
}

/// The most bytes of ids read from a file or stdin: a million ids take about 37 MB.
const MAX_IDS_INPUT_BYTES: u64 = 256 * 1024 * 1024;
/// The longest line that can hold an id: 255 characters of up to 4 bytes, with some room for
/// blanks around it. A longer line is refused at once, so `/dev/zero` fails on its first line.
const MAX_ID_LINE_BYTES: usize = 4 * MAX_VALUE_CHARS + 64;

/// Reads ids, one per line, from `input` into `ids`: a UTF-8 BOM at the start is skipped,
/// blank lines and `#` comments (of any length) are ignored, each id is trimmed. Memory and
/// time are bounded: a line longer than [`MAX_ID_LINE_BYTES`] or an input beyond
/// [`MAX_IDS_INPUT_BYTES`] is refused, naming the line; so is a line that is not UTF-8.
fn read_id_lines(input: impl Read, source: &str, ids: &mut Vec<String>) -> Result<(), Failure> {
    let mut reader = std::io::BufReader::new(input.take(MAX_IDS_INPUT_BYTES + 1));
    let mut line = Vec::with_capacity(64);
    let mut number = 0usize;
    let mut total = 0u64;
    loop {
        number += 1;
        line.clear();
        let mut comment = false;
        let ended = loop {
            let buffer =
                reader.fill_buf().map_err(|e| Failure::input(format!("cannot read desktop ids from {source}: {e}")))?;
            if buffer.is_empty() {
                break true;
            }
            let (chunk, newline) = match buffer.iter().position(|&b| b == b'\n') {
                Some(at) => (&buffer[..at], true),
                None => (buffer, false),
            };
            if !comment {
                line.extend_from_slice(chunk);
                let start = if number == 1 { line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&line) } else { &line };
                comment = start.trim_ascii_start().first() == Some(&b'#');
                if comment {
                    line.clear();
                } else if line.len() > MAX_ID_LINE_BYTES {
                    return Err(Failure::input(format!(
                        "line {number} of the desktop ids from {source} is longer than any desktop id \
                         (at most {MAX_VALUE_CHARS} characters)"
                    )));
                }
            }
            let used = chunk.len() + usize::from(newline);
            total += used as u64;
            reader.consume(used);
            if total > MAX_IDS_INPUT_BYTES {
                return Err(Failure::input(format!(
                    "the desktop ids from {source} exceed {} MiB; split the input",
                    MAX_IDS_INPUT_BYTES / (1024 * 1024)
                )));
            }
            if newline {
                break false;
            }
        };
        let bytes = if number == 1 { line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&line) } else { &line[..] };
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Failure::input(format!("line {number} of the desktop ids from {source} is not UTF-8 text")))?;
        let id = text.trim();
        if !id.is_empty() && !comment {
            ids.push(id.to_owned());
        }
        if ended {
            return Ok(());
        }
    }
}

/// Builds the client: against a simulator started here, or the configured endpoint.
async fn connect(global: &Global, project_id: Option<&str>) -> Result<(Client, Option<Simulator>), Failure> {
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
    let client = builder.build()?;
    Ok((client, simulator))
}

fn progress_bar(ids: usize, batches: usize) -> Option<indicatif::ProgressBar> {
    if batches < 2 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(ids as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} desktops ({elapsed})") {
        bar.set_style(style);
    }
    Some(bar)
}
