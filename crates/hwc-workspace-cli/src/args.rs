//! The command line, as clap types: every option, its help and its checks, in one place.

use std::path::PathBuf;

use clap::{Args, FromArgMatches, ValueEnum};

/// The exit codes and where credentials come from, with the core's variable names.
pub(crate) fn after_help() -> String {
    use hwc_workspace::credentials::{ENV_AK, ENV_PROJECT_ID, ENV_SECURITY_TOKEN, ENV_SK};
    format!(
        "\
Exit codes:
  0  success
  1  anything else (an internal error)
  2  invalid input or configuration (including usage errors)
  3  the API rejected the request (4xx, or throttled past --throttle-timeout), a
     desktop FAILED, or a waited-for job FAILED
  4  the service failed (5xx) or answered what the API does not document
  5  the API could not be reached (connect, TLS, timeout), or --wait timed out
  6  stdout could not be written (its reader went away, a full disk, closed)
  7  what became of a desktop is not known: its job did not report it, its
     reports contradict each other, or an earlier run sent it without an answer
  129, 130, 143  stopped by SIGHUP, SIGINT or SIGTERM; the batches in flight
     were reported first

Credentials come from {ENV_AK}, {ENV_SK}, {ENV_PROJECT_ID} and
{ENV_SECURITY_TOKEN}, else from ~/.huaweicloud/credentials ([basic]).
The request options belong to the commands that send requests (each one's --help says
what they do there); given before the command's name, they apply to it all the same.
Try it without a cloud account: hwc-workspace --simulate delete-sub-resources ..."
    )
}

// The options of a request: where it goes, how it is sent and how its answer is shown. They
// belong to the commands that send requests (see `crate::commands`); the root accepts them
// too, before the command's name, as it always has (`hwc-workspace --simulate
// delete-sub-resources ...`). Plain comments: clap would take a doc comment for the `about`
// of every command these options are added to.
#[derive(Debug, Args)]
#[command(next_help_heading = "Request options")]
pub(crate) struct RequestOptions {
    /// Workspace region, e.g. cn-north-4
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Endpoint URL; wins over --region (http allowed, e.g. a local simulator)
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Run against a simulator started in this process, with its demo credentials
    #[arg(long, conflicts_with = "endpoint")]
    pub simulate: bool,
    /// Output format of stdout
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub output: OutputFormat,
    /// A JMESPath expression applied to each JSON record on stdout, e.g. "[desktop_id, status]"
    #[arg(long, value_name = "EXPR")]
    pub query: Option<String>,
    /// Print the signed request with secrets masked, and send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Timeout of one attempt, in seconds
    #[arg(long, value_name = "SECS", default_value_t = hwc_workspace::DEFAULT_TIMEOUT.as_secs_f64(), value_parser = parse_duration)]
    pub timeout: f64,
    /// Further attempts on a retryable answer (see each command's help)
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32))]
    pub retries: u32,
    /// Also trust this PEM CA certificate
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Send every call through this proxy, http://[user:password@]host:port, whatever
    /// HTTPS_PROXY / HTTP_PROXY / NO_PROXY say (without it they are honoured; loopback is
    /// never proxied from them)
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Where the ECS instance metadata service answers (default http://169.254.169.254, or
    /// HWC_METADATA_ENDPOINT; "off" leaves it out of the credential chain)
    #[arg(long, value_name = "URL")]
    pub metadata_endpoint: Option<String>,
}

impl RequestOptions {
    /// The options of a command, each given after the command's name or else before it
    /// (`root`): the one nearer the command wins, as with clap's global options.
    pub(crate) fn merged(root: &clap::ArgMatches, command: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let before = Self::from_arg_matches(root)?;
        let mut merged = Self::from_arg_matches(command)?;
        let given_after = |id: &str| command.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
        // Each option's argument id is its field's name.
        macro_rules! unless_given_after {
            ($($field:ident),*) => {$(
                if !given_after(stringify!($field)) {
                    merged.$field = before.$field;
                }
            )*};
        }
        unless_given_after!(
            region,
            endpoint,
            simulate,
            output,
            query,
            dry_run,
            timeout,
            retries,
            ca_cert,
            proxy,
            metadata_endpoint
        );
        if merged.simulate && merged.endpoint.is_some() {
            // clap sees each level alone, so `--simulate` before the command and `--endpoint`
            // after it meet only here.
            return Err(clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                "the argument '--simulate' cannot be used with '--endpoint <URL>'\n",
            ));
        }
        Ok(merged)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// JSON, one object per line
    Json,
    /// Aligned columns for people
    Table,
    /// One id per line (listings: each item's id, e.g. to pipe into --desktop-ids-from -)
    Ids,
}

// How a listing (an operation the spec declares paged) is read: a plain comment, as for
// `RequestOptions`, so that clap does not take it as the commands' about text.
#[derive(Debug, Args)]
#[command(next_help_heading = "Paging")]
pub(crate) struct PagingArgs {
    /// Items asked for per request (the operation's limit; default: the service's)
    #[arg(long, value_name = "N")]
    pub page_size: Option<u32>,
    /// Stop after N items (default: every item)
    #[arg(long, value_name = "N")]
    pub max_items: Option<u64>,
}

// The flags of the bulk deletion that are not request fields: how the run is paced, waited
// for, journalled and reported (the request's fields are flags derived from the spec: see
// `crate::commands`). A plain comment, as for `RequestOptions`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Bulk run")]
pub(crate) struct BulkArgs {
    /// Batches sent at once (fewer while the service throttles)
    #[arg(long, value_name = "N", default_value_t = hwc_workspace::bulk::DEFAULT_CONCURRENCY as u16,
          value_parser = clap::value_parser!(u16).range(1..=hwc_workspace::bulk::MAX_CONCURRENCY as i64))]
    pub concurrency: u16,
    /// Wait for each batch's job to end, and print the final jobs
    #[arg(long)]
    pub wait: bool,
    /// With --wait: how long to wait for each job, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 600.0, value_parser = parse_seconds, requires = "wait")]
    pub wait_timeout: f64,
    /// Journal the run to FILE (JSON lines, fsync'd); the same FILE resumes a stopped run
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// On resume, send again the batches whose outcome is unknown (they may have been processed)
    #[arg(long, requires = "journal")]
    pub resend_unknown: bool,
    /// On resume, send again the batches an earlier run had refused (after fixing the keys, say)
    #[arg(long, requires = "journal")]
    pub resend_refused: bool,
    /// How long a batch may stay throttled (429) before the run gives it up and sends nothing more, in seconds
    #[arg(long, value_name = "SECS", default_value_t = hwc_workspace::bulk::DEFAULT_THROTTLE_TIMEOUT.as_secs_f64(),
          value_parser = parse_seconds)]
    pub throttle_timeout: f64,
    /// One stdout record per desktop (its final state with --wait, ACCEPTED without) instead of per batch
    #[arg(long)]
    pub per_desktop: bool,
    /// Leave a batch refused (404) for naming desktops the service does not know as it is,
    /// instead of setting those apart (NOT_FOUND, after asking the listing) and sending the rest
    #[arg(long)]
    pub no_split_not_found: bool,
    /// Act on the desktops the listing selects, instead of given ids: KEY a filter of
    /// `desktops list` (e.g. is_share_desktop=true, status=ACTIVE); repeatable, all must hold.
    /// The ids are listed before anything is sent, and recorded in --journal first
    #[arg(long = "where", value_name = "KEY=VALUE")]
    pub selection: Vec<String>,
    /// Act on a selection without asking; needed when no terminal can ask
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SimulatorArgs {
    /// Address to listen on; only loopback unless you name another address
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
    /// Load desktops and keys from this JSON state file instead of the demo state
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Seed N desktops (ListDesktops pages through them) instead of the demo's or the state file's
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=hwc_workspace_sim::MAX_SEEDED_DESKTOPS as u64))]
    pub desktops: Option<u64>,
    /// The fraction (0 to 1) of the seeded desktops that hold a collaboration resource
    /// (DESKTOP_SHARER), spread evenly; with --desktops
    #[arg(long, value_name = "F", default_value_t = 0.5, requires = "desktops", value_parser = parse_fraction)]
    pub shared_fraction: f64,
    /// Delay every answer by SECS
    #[arg(long, value_name = "SECS", default_value_t = 0.0, value_parser = parse_non_negative_seconds)]
    pub latency: f64,
    /// How long a job takes to end, in seconds (a fifth waiting, the rest running)
    #[arg(long, value_name = "SECS", value_parser = parse_non_negative_seconds)]
    pub job_duration: Option<f64>,
    /// This desktop's sub-jobs fail (the deletion is accepted, the job ends FAILED); repeatable
    #[arg(long = "fail-desktop", value_name = "ID")]
    pub fail_desktops: Vec<String>,
    /// Report jobs as no documented service does, to test a client's reading of them:
    /// success-over-failed-sub-jobs, failed-over-successful-sub-jobs, no-sub-jobs,
    /// conflicting-sub-jobs, another-job, unusable-job-id
    #[arg(long, value_name = "KIND", value_parser = parse_job_reports)]
    pub job_reports: Option<hwc_workspace_sim::JobReportFault>,
    /// A fault: NAME for the next request (in the order given), NAME:RATE for that fraction
    /// of all requests (RATE with a decimal point, e.g. 429:0.3); NAME as FaultKind writes it
    /// (500, 503, 429, 429:none, 429:SECS, drop, reset, hang, stall, truncate, ...); repeatable
    #[arg(long = "fault", value_name = "NAME[:RATE]", value_parser = parse_fault)]
    pub faults: Vec<FaultSpec>,
    /// The seed of the random faults, to repeat a run
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// How long the temporary keys of its instance metadata service live, in seconds
    #[arg(long, value_name = "SECS", default_value_t = hwc_workspace_sim::DEFAULT_CREDENTIALS_LIFETIME.as_secs_f64(), value_parser = parse_non_negative_seconds)]
    pub credentials_lifetime: f64,
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("expected a fraction from 0 to 1, e.g. 0.25, not {text:?}")),
    }
}

/// A `--fault`: a kind, and the fraction of requests it hits (`None`: the next one).
#[derive(Debug, Clone)]
pub(crate) struct FaultSpec {
    pub kind: hwc_workspace_sim::FaultKind,
    pub rate: Option<f64>,
}

fn parse_fault(text: &str) -> Result<FaultSpec, String> {
    // A rate is told from a kind's own `:` part (`429:1` is Retry-After 1) by its decimal point.
    let (name, rate) = match text.rsplit_once(':') {
        Some((name, rate)) if rate.contains('.') => {
            let rate: f64 = rate.parse().map_err(|_| format!("the rate of {text:?} is not a number"))?;
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("the rate of {text:?} must be from 0.0 to 1.0"));
            }
            (name, Some(rate))
        }
        _ => (text, None),
    };
    let kind = name.parse().map_err(|e| format!("{e}"))?;
    Ok(FaultSpec { kind, rate })
}

fn parse_non_negative_seconds(text: &str) -> Result<f64, String> {
    let max = hwc_workspace::MAX_DURATION.as_secs_f64();
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && (0.0..=max).contains(&secs) => Ok(secs),
        _ => Err(format!("expected a number of seconds from 0 to {max}, got {text:?}")),
    }
}

/// The request options, which mean nothing to the `simulator`, `completions` and `manpage`
/// commands (they send no request); given there, they are refused rather than silently
/// ignored.
pub(crate) const REQUEST_OPTIONS: [(&str, &str); 11] = [
    ("query", "--query"),
    ("region", "--region"),
    ("endpoint", "--endpoint"),
    ("simulate", "--simulate"),
    ("output", "--output"),
    ("dry_run", "--dry-run"),
    ("timeout", "--timeout"),
    ("retries", "--retries"),
    ("ca_cert", "--ca-cert"),
    ("proxy", "--proxy"),
    ("metadata_endpoint", "--metadata-endpoint"),
];

/// The refusal of a request option given to a command it does not apply to, if any.
pub(crate) fn options_that_do_not_apply(matches: &clap::ArgMatches) -> Option<String> {
    let (command, sub) = matches.subcommand()?;
    if !matches!(command, "simulator" | "completions" | "manpage") {
        return None;
    }
    let given =
        |id: &str| [matches, sub].iter().any(|m| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine));
    // The simulator plays a region (its IAM names its project after it).
    let applies = |id: &str| command == "simulator" && id == "region";
    let refused: Vec<&str> =
        REQUEST_OPTIONS.iter().filter(|(id, _)| given(id) && !applies(id)).map(|(_, flag)| *flag).collect();
    (!refused.is_empty())
        .then(|| format!("{} does not apply to `hwc-workspace {command}`, which sends no request", refused.join(", ")))
}

fn parse_job_reports(text: &str) -> Result<hwc_workspace_sim::JobReportFault, String> {
    use hwc_workspace_sim::JobReportFault;
    JobReportFault::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = JobReportFault::ALL.iter().map(|kind| kind.name()).collect();
        format!("expected one of {}, got {text:?}", names.join(", "))
    })
}

/// A client setting in seconds (`--timeout`), made a duration: its range is the core's
/// builder's to check, which refuses it naming `--timeout` (see `Failure::of`).
fn parse_duration(text: &str) -> Result<f64, String> {
    let refused = || format!("expected {}, got {text:?}", hwc_workspace::timeout_range());
    let secs = text.parse::<f64>().map_err(|_| refused())?;
    hwc_workspace::seconds("seconds", secs).map_err(|_| refused())?;
    Ok(secs)
}

/// A timeout, by the core's one rule ([`hwc_workspace::check_timeout`]).
fn parse_seconds(text: &str) -> Result<f64, String> {
    let refused = || format!("expected {}, got {text:?}", hwc_workspace::timeout_range());
    let secs = text.parse::<f64>().map_err(|_| refused())?;
    let duration = std::time::Duration::try_from_secs_f64(secs).map_err(|_| refused())?;
    hwc_workspace::check_timeout("seconds", duration).map_err(|_| refused())?;
    Ok(secs)
}
