//! The command line as clap builds it: a command per operation of the spec, its flags derived
//! at run time from the core's operation description (`hwc_workspace::operation`), beside
//! the hand-written commands (`simulator`, `completions`, `manpage`) and options.
//!
//! Nothing here restates a field of the spec: names, help texts, limits, enum values and
//! required-ness come from the description, and the core's `validate` refuses what the spec
//! refuses. What is written by hand is the command path of each operation ([`named`]), the
//! porcelain of the bulk deletion, and the options of the program itself.

use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, ArgMatches, Args, Command};
use hwc_workspace::ids::IdList;
use hwc_workspace::operation::{Field, Kind, Location, Operation, Value, describe_expected, schema};
use hwc_workspace::{Input, OperationId};
use serde_json::{Map, Value as Json};

use crate::args::{BulkArgs, PagingArgs, REQUEST_OPTIONS, RequestOptions, SimulatorArgs};
use crate::failure::Failure;

/// How an operation is offered on the command line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Named {
    /// The words that call it, e.g. `["job", "show"]`.
    pub path: &'static [&'static str],
    /// The hand-written command that runs it instead of the generic call, if any.
    pub porcelain: Option<Porcelain>,
}

impl Named {
    /// An operation run by the generic call: its answer printed as it comes.
    const fn generic(path: &'static [&'static str]) -> Self {
        Self { path, porcelain: None }
    }

    const fn porcelain(mut self, porcelain: Porcelain) -> Self {
        self.porcelain = Some(porcelain);
        self
    }
}

/// The hand-written runs of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Porcelain {
    /// Any number of desktops (or a selection), in batches, waited for, journalled
    /// (`delete.rs`): the deletion, and the purchase that undoes it.
    Bulk,
}

/// The command of each operation. No wildcard on purpose: an operation added to the spec
/// does not compile until it is named here (one line: `Named::generic(&["word", ...])`).
pub(crate) const fn named(id: OperationId) -> Named {
    match id {
        OperationId::DeleteDesktopSubResources => Named::generic(&["delete-sub-resources"]).porcelain(Porcelain::Bulk),
        OperationId::ListDesktops => Named::generic(&["desktops", "list"]),
        OperationId::AddDesktopSubResources => Named::generic(&["add-sub-resources"]).porcelain(Porcelain::Bulk),
        OperationId::ShowJob => Named::generic(&["job", "show"]),
    }
}

/// The operation a command path names.
pub(crate) fn operation_at(path: &[&str]) -> Option<OperationId> {
    OperationId::ALL.iter().copied().find(|id| named(*id).path == path)
}

/// The whole command line.
pub(crate) fn build() -> Command {
    let mut root = Command::new("hwc-workspace")
        .version(env!("CARGO_PKG_VERSION"))
        .about(env!("CARGO_PKG_DESCRIPTION"))
        .after_help(crate::args::after_help())
        .propagate_version(true)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new("verbose")
                .short('v')
                .long("verbose")
                .global(true)
                .action(ArgAction::Count)
                .help("More diagnostics on stderr (-v info, -vv debug, -vvv trace); never secrets"),
        );
    root = RequestOptions::augment_args(root);
    for id in OperationId::ALL {
        let named = named(*id);
        root = place(root, named.path, operation_command(id.describe(), &named), id.describe());
    }
    let simulator = hidden_request_options(SimulatorArgs::augment_args(
        Command::new("simulator").about("Run the local simulator in the foreground until Ctrl-C").after_help(
            "Example:\n  hwc-workspace simulator --fail-desktop ID --job-duration 2\n\n\
             Its first stdout line is JSON: the endpoint, keys, project and desktop ids to use.",
        ),
    ))
    // The simulator plays a region (its IAM names its project after it): of the request
    // options, that one applies.
    .mut_arg("region", |arg| {
        arg.hide(false)
            .help_heading(None)
            .help(format!("The region the simulator plays (default {})", hwc_workspace_sim::DEFAULT_REGION))
    });
    let completions = hidden_request_options(
        Command::new("completions")
            .about("Print a shell completion script")
            .after_help(
                "Example:\n  hwc-workspace completions bash > ~/.local/share/bash-completion/completions/hwc-workspace",
            )
            .arg(
                Arg::new("shell")
                    .required(true)
                    .value_parser(clap::value_parser!(clap_complete::Shell))
                    .help("The shell"),
            ),
    );
    let manpage = hidden_request_options(
        Command::new("manpage").about("Print the manual page (roff), e.g. `hwc-workspace manpage > hwc-workspace.1`"),
    );
    root.subcommand(simulator).subcommand(completions).subcommand(manpage)
}

/// The request options on a command that sends no request: accepted, so that the refusal
/// can say why ([`crate::args::options_that_do_not_apply`]), but not shown.
fn hidden_request_options(command: Command) -> Command {
    REQUEST_OPTIONS
        .iter()
        .fold(RequestOptions::augment_args(command), |command, (id, _)| command.mut_arg(*id, |arg| arg.hide(true)))
}

/// Puts `leaf` at `path` under `parent`, making the groups on the way (`job` for `job show`).
fn place(parent: Command, path: &[&'static str], leaf: Command, operation: &Operation) -> Command {
    match path {
        [] => parent,
        [name] => parent.subcommand(leaf.name(*name)),
        [group, rest @ ..] => {
            let parent = if parent.find_subcommand(group).is_some() {
                parent
            } else {
                // A group is named by the spec's tag of its first operation.
                parent.subcommand(
                    Command::new(*group)
                        .about(format!("The spec's {:?} operations", operation.tag))
                        .subcommand_required(true)
                        .arg_required_else_help(true),
                )
            };
            parent.mut_subcommand(group, |command| place(command, rest, leaf, operation))
        }
    }
}

/// The spec's name as a flag: `desktop_ids` -> `desktop-ids`.
fn kebab(name: &str) -> String {
    name.replace('_', "-")
}

/// A placeholder for a field's value, from the last word of its name (`order_id` -> `ID`,
/// `desktop_ids` -> `ID` for each item).
fn value_name(field: &Field) -> String {
    match field.value.kind {
        Kind::Boolean => return "true|false".to_owned(),
        Kind::Object => return "JSON".to_owned(),
        Kind::Array if field.value.items.is_none_or(|item| !is_scalar(item)) => return "JSON".to_owned(),
        _ => {}
    }
    let word = field.name.rsplit('_').next().unwrap_or(field.name);
    let word = if field.value.kind == Kind::Array { word.strip_suffix('s').unwrap_or(word) } else { word };
    word.to_ascii_uppercase()
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value.kind, Kind::Array | Kind::Object)
}

/// Whether a field is a list of scalars: repeatable, comma-separated, and read from a file.
fn is_scalar_list(field: &Field) -> bool {
    field.value.kind == Kind::Array && field.value.items.is_some_and(is_scalar)
}

/// The spec's description as one paragraph per paragraph (its line breaks are soft).
fn prose(text: &str) -> String {
    text.split("\n\n").map(|p| p.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n\n")
}

/// A field's help: the spec's description, then what it takes, its known values and default.
fn field_help(field: &Field) -> String {
    let value = &field.value;
    let mut help = prose(field.description);
    let list = is_scalar_list(field);
    let item = value.items.filter(|_| list);
    let takes = match item {
        Some(item) if item.limits().is_empty() => describe_expected(field),
        Some(item) => format!("{}, each of {}", describe_expected(field), item.limits()),
        None => describe_expected(field),
    };
    help.push_str(&format!(" Takes {takes}."));
    let listed = item.unwrap_or(value);
    if !listed.enum_values.is_empty() && listed.open {
        help.push_str(&format!(
            " Known values: {}; the list is open, any other value passes through.",
            listed.enum_values.join(", ")
        ));
    }
    match (field.required, value.default) {
        (true, Some(default)) => help.push_str(&format!(" Default: {default} (sent when left out).")),
        (false, Some(default)) => help.push_str(&format!(" The service's default: {default}.")),
        (true, None) => help.push_str(" Required."),
        (false, None) => {}
    }
    if list {
        help.push_str(&format!(
            " Repeatable, and each takes a comma-separated list; --{}-from FILE reads them from a file.",
            kebab(field.name)
        ));
    }
    help
}

/// The command of one operation: a flag per field, the request file and its skeleton, the
/// porcelain's own flags, and the request options with texts true of this operation.
fn operation_command(operation: &Operation, named: &Named) -> Command {
    let mut command = Command::new(operation.name)
        .about(about(operation, named))
        .long_about(format!("{}\n\n{}", operation.summary, prose(operation.description)))
        .after_help(example(operation, named))
        .next_help_heading("Fields (from the spec)");
    let mut position = 0;
    for field in operation.fields {
        if field.is_client_setting() {
            command = command.arg(
                Arg::new(field.name)
                    .long(kebab(field.name))
                    .value_name("ID")
                    .help(format!("{} Else from the credentials chain.", prose(field.description))),
            );
            continue;
        }
        let mut arg =
            Arg::new(field.name).long(kebab(field.name)).value_name(value_name(field)).help(field_help(field));
        if is_scalar_list(field) {
            arg = arg.action(ArgAction::Append).value_delimiter(',');
            // The singular reads better for one value (`--desktop-id ID`), and it is the
            // flag the command line has always had.
            if let Some(singular) = kebab(field.name).strip_suffix('s') {
                arg = arg.visible_alias(singular.to_owned());
            }
        }
        if let Some(values) = closed_enum(&field.value) {
            arg = arg.value_parser(clap::builder::PossibleValuesParser::new(values));
        }
        if field.location == Location::Path {
            // A path parameter is also positional, as in `job show JOB_ID`.
            position += 1;
            command = command.arg(
                Arg::new(positional_id(field))
                    .index(position)
                    .value_name(field.name.to_ascii_uppercase())
                    .conflicts_with(field.name)
                    .help(format!("The same as --{}", kebab(field.name))),
            );
        }
        command = command.arg(arg);
        if is_scalar_list(field) {
            command = command.arg(
                Arg::new(from_id(field))
                    .long(from_id(field))
                    .value_name("FILE")
                    .value_parser(clap::value_parser!(PathBuf))
                    .help(format!(
                        "Read the {} from a file, one per line ('-' for stdin; blank lines and # comments skipped)",
                        field.name.replace('_', " ")
                    )),
            );
        }
    }
    command = command
        .next_help_heading("Input")
        .arg(Arg::new(INPUT_JSON).long(INPUT_JSON).value_name("FILE").value_parser(clap::value_parser!(PathBuf)).help(
            "Read the request's fields from a JSON object, keyed by the spec's names ('-' for \
                     stdin); a flag given too wins over the file (the aws CLI's --cli-input-json, \
                     KooCLI's --cli-jsonInput)",
        ))
        .arg(Arg::new(SKELETON).long(SKELETON).action(ArgAction::SetTrue).help(
            "Print a JSON object of every field, with placeholder values, for --cli-input-json, and \
             send nothing (KooCLI's --skeleton)",
        ));
    if named.porcelain == Some(Porcelain::Bulk) {
        command = BulkArgs::augment_args(command);
        // The spec's limit is per request; the bulk run sends batches within it.
        if let Some(ids) = operation.field("desktop_ids") {
            let help = format!("{} Any number here: they are sent in batches within the limit.", field_help(ids));
            command = command.mut_arg(ids.name, |arg| arg.help(help));
        }
    }
    if operation.paging.is_some() {
        command = PagingArgs::augment_args(command);
    }
    let command = RequestOptions::augment_args(command);
    request_option_texts(command, operation, named)
}

const INPUT_JSON: &str = "cli-input-json";
const SKELETON: &str = "generate-cli-skeleton";

fn positional_id(field: &Field) -> String {
    format!("{}-positional", field.name)
}

fn from_id(field: &Field) -> String {
    format!("{}-from", kebab(field.name))
}

fn closed_enum(value: &Value) -> Option<&'static [&'static str]> {
    (value.kind == Kind::String && !value.open && !value.enum_values.is_empty()).then_some(value.enum_values)
}

fn about(operation: &Operation, named: &Named) -> String {
    match named.porcelain {
        Some(Porcelain::Bulk) => {
            format!(
                "{}: any number of desktops, sent in batches of at most {}",
                operation.summary,
                hwc_workspace::MAX_DESKTOP_IDS
            )
        }
        None => operation.summary.to_owned(),
    }
}

/// An example for the command's help, from its required fields.
fn example(operation: &Operation, named: &Named) -> String {
    let path = named.path.join(" ");
    if named.porcelain == Some(Porcelain::Bulk) {
        let what = if operation.field("sub_resource_sku").is_some() {
            "--sub-resource-sku SKU"
        } else {
            "--sub-resource-type DESKTOP_SHARER"
        };
        return format!(
            "Examples:\n  hwc-workspace --simulate {path} --wait \\\n      \
             --desktop-id d0000001-5e1a-4d00-8000-000000000001 {what}\n  \
             hwc-workspace {path} --desktop-ids-from ids.txt {what} \\\n      \
             --journal run.jsonl --wait\n  \
             hwc-workspace {path} --where is_share_desktop=true --where status=ACTIVE {what} --dry-run"
        );
    }
    let mut words = vec![format!("hwc-workspace {path}")];
    for field in operation.arguments().filter(|f| f.required) {
        if field.location == Location::Path {
            words.push(field.name.to_ascii_uppercase());
        } else {
            words.push(format!("--{} {}", kebab(field.name), value_name(field)));
        }
    }
    format!(
        "Examples:\n  {}\n  hwc-workspace {path} --generate-cli-skeleton > request.json   # then fill it in\n  \
         hwc-workspace {path} --cli-input-json request.json",
        words.join(" ")
    )
}

/// The request options' help, made true of this operation: what is resent follows the
/// core's retry policy; what stdout holds follows the command.
fn request_option_texts(command: Command, operation: &Operation, named: &Named) -> Command {
    let statuses: Vec<String> = hwc_workspace::RETRYABLE_STATUSES.iter().map(u16::to_string).collect();
    let connect = hwc_workspace::RetryPolicy::default().connect_retries;
    let resent = format!(
        "Further attempts after an answer of {} (each signed afresh, after a backoff or the server's Retry-After); \
         a connection that could not be made is tried {connect} more times in any case",
        statuses.join(", ")
    );
    let retries = if operation.method == "GET" {
        format!("{resent}. A {} changes nothing, so resending it is harmless", operation.method)
    } else {
        format!(
            "{resent}. No other failed {} is resent: one that reached the service may have been carried out",
            operation.method
        )
    };
    let (output, dry_run) = match named.porcelain {
        Some(Porcelain::Bulk) => (
            "Output format of stdout: a record per batch as it ends (per desktop with --per-desktop)",
            "Print the signed request of each batch with secrets masked, and send nothing",
        ),
        None => {
            ("Output format of stdout: the answer", "Print the signed request with secrets masked, and send nothing")
        }
    };
    let query = match schema(operation.response) {
        Some(answer) if named.porcelain.is_none() && answer.properties.len() >= 2 => format!(
            "A JMESPath expression applied to the answer, e.g. \"[{}, {}]\"",
            answer.properties[0].name, answer.properties[1].name
        ),
        _ => "A JMESPath expression applied to each JSON record on stdout, e.g. \"[job_id, desktop_ids]\"".to_owned(),
    };
    command
        .mut_arg("retries", |arg| arg.help(retries))
        .mut_arg("output", |arg| arg.help(output))
        .mut_arg("dry_run", |arg| arg.help(dry_run))
        .mut_arg("query", |arg| arg.help(query))
}

/// The fields of a request as the command line gave them, by the spec's names.
#[derive(Debug)]
pub(crate) struct Fields {
    /// The arguments of the call.
    pub input: Input,
    /// With `compact_lists`, the lists of text given by flags or `--…-from` files, by field,
    /// held compactly rather than in `input`: a bulk command's million ids.
    pub lists: std::collections::BTreeMap<&'static str, IdList>,
    /// The client's project for this call (`--project-id`, or `project_id` in the file).
    pub project_id: Option<String>,
}

/// The most bytes read from `--cli-input-json` (or a `--…-from` file, by the id reader's own
/// bound): a request file of a million desktop ids takes about 40 MB.
const MAX_INPUT_JSON_BYTES: u64 = 256 * 1024 * 1024;

/// The skeleton of the operation's request: every argument, a placeholder value each.
pub(crate) fn skeleton(operation: &Operation) -> Json {
    Json::Object(operation.arguments().map(|f| (f.name.to_owned(), placeholder(&f.value, 0))).collect())
}

/// A value a person replaces: the default, the first known value, the lower bound, or the
/// type's empty value.
fn placeholder(value: &Value, depth: usize) -> Json {
    match value.kind {
        Kind::String => Json::from(value.default.or(value.enum_values.first().copied()).unwrap_or("")),
        Kind::Integer => Json::from(value.default.and_then(|d| d.parse().ok()).or(value.minimum).unwrap_or(0)),
        Kind::Number => value
            .default
            .and_then(|d| d.parse::<f64>().ok())
            .map_or_else(|| Json::from(value.minimum.unwrap_or(0)), Json::from),
        Kind::Boolean => Json::from(value.default == Some("true")),
        Kind::Array => Json::Array(value.items.map(|item| placeholder(item, depth + 1)).into_iter().collect()),
        // A schema may refer to itself: past a few levels, an empty object.
        Kind::Object => Json::Object(match value.schema.and_then(schema).filter(|_| depth < 8) {
            Some(object) => {
                object.properties.iter().map(|p| (p.name.to_owned(), placeholder(&p.value, depth + 1))).collect()
            }
            None => Map::new(),
        }),
    }
}

/// Whether `--generate-cli-skeleton` was given.
pub(crate) fn wants_skeleton(matches: &ArgMatches) -> bool {
    matches.get_flag(SKELETON)
}

/// The request's fields: those of `--cli-input-json`, then every flag given, which wins.
/// Values are converted by the spec's types but not checked: the core's `validate` does
/// that, naming the field.
pub(crate) fn fields(operation: &Operation, matches: &ArgMatches, compact_lists: bool) -> Result<Fields, Failure> {
    let file = matches.get_one::<PathBuf>(INPUT_JSON);
    let stdin_lists: Vec<String> = operation
        .fields
        .iter()
        .filter(|f| is_scalar_list(f))
        .filter(|f| matches.get_one::<PathBuf>(&from_id(f)).is_some_and(|p| p.as_os_str() == "-"))
        .map(|f| format!("--{}", from_id(f)))
        .collect();
    let from_stdin = file.is_some_and(|p| p.as_os_str() == "-");
    if stdin_lists.len() + usize::from(from_stdin) > 1 {
        let mut takers = stdin_lists;
        if from_stdin {
            takers.push(format!("--{INPUT_JSON}"));
        }
        return Err(Failure::input(format!("stdin ('-') can feed only one of {}", takers.join(", "))));
    }
    let mut values = match file {
        Some(path) => read_json_object(path)?,
        None => Map::new(),
    };
    let mut project_id = None;
    let mut lists = std::collections::BTreeMap::new();
    for field in operation.fields {
        if field.is_client_setting() {
            match values.remove(field.name) {
                Some(Json::String(text)) => project_id = Some(text),
                Some(Json::Null) | None => {}
                Some(other) => {
                    return Err(Failure::input(format!(
                        "{} in --{INPUT_JSON}: expected text, got {other}",
                        field.name
                    )));
                }
            }
            if let Some(given) = matches.get_one::<String>(field.name) {
                project_id = Some(given.clone());
            }
            continue;
        }
        let text_list = is_scalar_list(field) && field.value.items.is_some_and(|item| item.kind == Kind::String);
        if compact_lists && text_list {
            if let Some(list) = flag_list(field, matches)? {
                // A flag wins over the request file, as for every field.
                values.remove(field.name);
                lists.insert(field.name, list);
            }
            continue;
        }
        if let Some(value) = flag_value(field, matches)? {
            values.insert(field.name.to_owned(), value);
        }
    }
    Ok(Fields { input: Input::from_map(values), lists, project_id })
}

/// A field's value from its flags, if any was given.
fn flag_value(field: &Field, matches: &ArgMatches) -> Result<Option<Json>, Failure> {
    if is_scalar_list(field) {
        let item = field.value.items.unwrap_or(&field.value);
        return Ok(flag_list(field, matches)?.map(|items| {
            Json::Array(items.iter().map(|text| hwc_workspace::operation::value_from_text(item.kind, text)).collect())
        }));
    }
    let given = given_values(field, matches);
    let Some(text) = given.last() else { return Ok(None) };
    if is_scalar(&field.value) {
        return Ok(Some(hwc_workspace::operation::value_from_text(field.value.kind, text)));
    }
    serde_json::from_str(text).map(Some).map_err(|e| {
        Failure::input(format!("--{} ({}): expected JSON, got {text:?}: {e}", kebab(field.name), field.name))
    })
}

/// The values of a field's flags, in the order given.
fn given_values<'m>(field: &Field, matches: &'m ArgMatches) -> Vec<&'m String> {
    // Only a path parameter has a positional form; `try_` as the others have no such id.
    let values = |id: &str| matches.try_get_many::<String>(id).ok().flatten().into_iter().flatten();
    values(field.name).chain(values(&positional_id(field))).collect()
}

/// A list field's items from its flags (comma lists, repeated), then its `--…-from` file (or
/// stdin) by the id-list reader's rules; `None` when neither is given.
fn flag_list(field: &Field, matches: &ArgMatches) -> Result<Option<IdList>, Failure> {
    let given = given_values(field, matches);
    let file = matches.get_one::<PathBuf>(&from_id(field));
    if given.is_empty() && file.is_none() {
        return Ok(None);
    }
    // Blanks around each item of a comma list are the list's, not the item's.
    let mut items: IdList = given.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
    if let Some(path) = file {
        let (read, name) = if path.as_os_str() == "-" {
            (hwc_workspace::ids::read_id_list(std::io::stdin().lock(), "stdin")?, "stdin".to_owned())
        } else {
            // A FIFO is fine here (`<(command)`): the reading is bounded, not the kind of file.
            (hwc_workspace::ids::read_id_list_file(path)?, path.display().to_string())
        };
        tracing::debug!(source = %name, lines = read.len(), "read list");
        items = if items.is_empty() { read } else { items.iter().chain(read.iter()).collect() };
    }
    Ok(Some(items))
}

/// The JSON object of `--cli-input-json`, bounded in size (serde_json bounds its nesting).
fn read_json_object(path: &Path) -> Result<Map<String, Json>, Failure> {
    use std::io::Read;
    let name = if path.as_os_str() == "-" { "stdin".to_owned() } else { path.display().to_string() };
    let cannot = |e: std::io::Error| Failure::input(format!("cannot read --{INPUT_JSON} {name}: {e}"));
    let mut text = Vec::new();
    let limit = MAX_INPUT_JSON_BYTES + 1;
    if path.as_os_str() == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut text).map_err(cannot)?;
    } else {
        std::fs::File::open(path).map_err(cannot)?.take(limit).read_to_end(&mut text).map_err(cannot)?;
    }
    if text.len() as u64 > MAX_INPUT_JSON_BYTES {
        return Err(Failure::input(format!(
            "--{INPUT_JSON} {name} exceeds {} MiB",
            MAX_INPUT_JSON_BYTES / (1024 * 1024)
        )));
    }
    match serde_json::from_slice(&text) {
        Ok(Json::Object(values)) => Ok(values),
        Ok(other) => Err(Failure::input(format!(
            "--{INPUT_JSON} {name}: expected a JSON object of the request's fields, got {}",
            match other {
                Json::Array(_) => "an array",
                Json::String(_) => "a string",
                Json::Number(_) => "a number",
                Json::Bool(_) => "a boolean",
                _ => "null",
            }
        ))
        .hint("--generate-cli-skeleton prints one to fill in")),
        Err(e) => Err(Failure::input(format!("--{INPUT_JSON} {name} is not JSON: {e}"))),
    }
}

/// The flag that sets a field, for a message that names the field: `--job-id (or JOB_ID)`.
pub(crate) fn flag_of(operation: &Operation, name: &str) -> Option<String> {
    let field = operation.field(name)?;
    Some(match field.location {
        Location::Path if !field.is_client_setting() => {
            format!("--{} (or {})", kebab(field.name), field.name.to_ascii_uppercase())
        }
        _ => format!("--{}", kebab(field.name)),
    })
}

#[cfg(test)]
mod tests {
    use hwc_workspace::operation::validate;

    use super::*;

    /// The leaf command of `path`.
    fn find<'a>(root: &'a Command, path: &[&str]) -> Option<&'a Command> {
        path.iter().try_fold(root, |command, name| command.find_subcommand(name))
    }

    fn collapsed(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn every_operation_has_a_command_with_a_flag_per_field_described_by_the_spec() {
        let root = build();
        // clap's own consistency checks (duplicate ids or flags, e.g. a spec field named like
        // a request option), which it otherwise runs only when a command is parsed.
        root.clone().debug_assert();
        for id in OperationId::ALL {
            let named = named(*id);
            assert!(!named.path.is_empty(), "{id:?} has no command path");
            assert_eq!(operation_at(named.path), Some(*id), "{:?} names two operations", named.path);
            let command = find(&root, named.path).unwrap_or_else(|| panic!("{id:?}: no command {:?}", named.path));
            let help = collapsed(&command.clone().render_long_help().to_string());
            for field in id.describe().fields {
                let flag = format!("--{}", kebab(field.name));
                assert!(command.get_arguments().any(|a| a.get_long() == Some(&flag[2..])), "{id:?}: no {flag}");
                assert!(help.contains(&flag), "{id:?}: {flag} is not in the help");
                assert!(help.contains(&collapsed(&prose(field.description))), "{id:?}: {flag} lacks its description");
            }
            for option in ["--cli-input-json", "--generate-cli-skeleton", "--dry-run", "--output", "--query"] {
                assert!(help.contains(option), "{id:?}: no {option}");
            }
            assert!(help.contains("Examples:"), "{id:?}: no example");
        }
    }

    #[test]
    fn commands_that_send_nothing_do_not_show_the_request_options() {
        let root = build();
        for path in [&["simulator"][..], &["completions"], &["manpage"]] {
            let help = find(&root, path).unwrap().clone().render_long_help().to_string();
            for (id, flag) in REQUEST_OPTIONS {
                if !(path == ["simulator"] && id == "region") {
                    assert!(!help.contains(flag), "{path:?} shows {flag}:\n{help}");
                }
            }
        }
        let show = find(&root, &["job", "show"]).unwrap().clone().render_long_help().to_string();
        assert!(!show.contains("per batch") && !show.contains("POST"), "{show}");
    }

    /// A made-up operation with the kinds of field the spec has none of yet: what the command
    /// line makes of each, and that the core's check then names the field.
    static SAMPLE: Operation = Operation {
        id: OperationId::ShowJob,
        name: "Sample",
        method: "POST",
        path: "/v2/{project_id}/sample/{thing_id}",
        summary: "A sample",
        description: "For the tests.",
        tag: "Tests",
        fields: &[
            Field {
                name: "thing_id",
                location: Location::Path,
                required: true,
                description: "The thing.",
                value: kind(Kind::String),
            },
            Field {
                name: "priority",
                location: Location::Body,
                required: false,
                description: "A priority.",
                value: bounded(1, 9),
            },
            Field {
                name: "shared",
                location: Location::Query,
                required: false,
                description: "Shared?",
                value: kind(Kind::Boolean),
            },
            Field { name: "levels", location: Location::Body, required: false, description: "Levels.", value: list() },
        ],
        response: "Job",
        errors: &[],
        paging: None,
    };

    const fn kind(kind: Kind) -> Value {
        Value::of(kind)
    }

    const fn bounded(minimum: i64, maximum: i64) -> Value {
        let mut value = kind(Kind::Integer);
        value.minimum = Some(minimum);
        value.maximum = Some(maximum);
        value
    }

    const fn list() -> Value {
        let mut value = kind(Kind::Array);
        value.items = Some(&ITEM);
        value
    }

    static ITEM: Value = bounded(0, 100);

    fn sample_input(args: &[&str]) -> Input {
        let command = operation_command(&SAMPLE, &Named::generic(&["sample"])).name("sample");
        let matches = command.try_get_matches_from(args).unwrap();
        let compact = fields(&SAMPLE, &matches, true).unwrap();
        assert!(compact.lists.is_empty(), "only lists of text are held apart: {:?}", compact.lists);
        fields(&SAMPLE, &matches, false).unwrap().input
    }

    fn refused_field(args: &[&str]) -> String {
        match validate(&SAMPLE, &sample_input(args)) {
            Err(hwc_workspace::Error::InvalidInput(invalid)) => invalid.field().to_owned(),
            other => panic!("{args:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn values_take_the_spec_types_and_the_core_refuses_them_naming_the_field() {
        let input =
            sample_input(&["sample", "T-1", "--priority", "3", "--shared", "true", "--levels", "1, 2", "--level", "3"]);
        assert_eq!(
            serde_json::to_value(input.values()).unwrap(),
            serde_json::json!({"thing_id": "T-1", "priority": 3, "shared": true, "levels": [1, 2, 3]})
        );
        assert!(validate(&SAMPLE, &input).is_ok());
        assert_eq!(sample_input(&["sample", "--thing-id", "T-2"]).get("thing_id"), Some(&Json::from("T-2")));
        assert_eq!(refused_field(&["sample", "T", "--priority", "10"]), "priority");
        assert_eq!(refused_field(&["sample", "T", "--priority", "ten"]), "priority");
        assert_eq!(refused_field(&["sample", "T", "--shared", "yes"]), "shared");
        assert_eq!(refused_field(&["sample", "T", "--levels", "1,x"]), "levels[1]");
        assert_eq!(refused_field(&["sample"]), "thing_id");
    }

    #[test]
    fn the_skeleton_holds_every_argument_with_a_placeholder_the_spec_allows_in_type() {
        let skeleton = skeleton(&SAMPLE);
        assert_eq!(skeleton, serde_json::json!({"thing_id": "", "priority": 1, "shared": false, "levels": [0]}));
        let delete = skeleton_of(OperationId::DeleteDesktopSubResources);
        assert_eq!(delete["sub_resource_type"], "DESKTOP_SHARER", "an enum's first known value");
        assert!(delete.get("project_id").is_none(), "the project is the client's");
    }

    fn skeleton_of(id: OperationId) -> Json {
        skeleton(id.describe())
    }
}
