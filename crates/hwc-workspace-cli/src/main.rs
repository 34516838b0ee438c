//! `hwc-workspace`: the command-line front of the SDK. It holds no HTTP or signing logic:
//! it turns arguments into core calls and results into output and exit codes.
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod call;
mod commands;
mod completions;
mod delete;
mod failure;
mod output;
mod serve;

use std::io::IsTerminal;

use clap::{ArgMatches, FromArgMatches};
use hwc_workspace::OperationId;

use crate::args::{BulkArgs, RequestOptions, SimulatorArgs};
use crate::failure::{ExitCode, Failure};

/// What the command line asks for, parsed and checked.
enum Invocation {
    Operation { id: OperationId, request: RequestOptions, matches: ArgMatches },
    Simulator { args: SimulatorArgs, region: Option<String> },
    Completions(clap_complete::Shell),
    Manpage,
}

fn main() -> std::process::ExitCode {
    // A bug must reach the user as one line and exit code 1, never as a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        output::error(&format!("internal error{location}; please report it"), &[]);
        std::process::exit(ExitCode::Internal as i32);
    }));
    let parsed = commands::build().try_get_matches().and_then(|matches| {
        let invocation = invocation(&matches)?;
        Ok((invocation, matches))
    });
    let (invocation, matches) = match parsed {
        Ok((invocation, matches)) => {
            if let Some(refusal) = args::options_that_do_not_apply(&matches) {
                output::error(&refusal, &[]);
                return std::process::ExitCode::from(ExitCode::InvalidInput as u8);
            }
            (invocation, matches)
        }
        Err(e) => {
            let code = if e.use_stderr() { ExitCode::InvalidInput } else { ExitCode::Success };
            let _ = e.print();
            return std::process::ExitCode::from(code as u8);
        }
    };
    // Before anything is opened (a journal, a socket), which could take a closed stdout's place.
    if let Err(message) = output::stdout_usable() {
        output::error(&message, &[]);
        return std::process::ExitCode::from(ExitCode::OutputFailed as u8);
    }
    init_tracing(matches.get_count("verbose"));
    if let Invocation::Operation { request: RequestOptions { query: Some(query), output, .. }, .. } = &invocation {
        let refused = if *output == args::OutputFormat::Table {
            Err("--query applies to JSON records; it cannot be combined with --output table".to_owned())
        } else {
            output::set_query(query)
        };
        if let Err(message) = refused {
            output::error(&message, &[]);
            return std::process::ExitCode::from(ExitCode::InvalidInput as u8);
        }
    }
    // A command is one thread's work, which starts fastest on one thread; the simulator is a
    // server, which answers on every core.
    let mut runtime = match &invocation {
        Invocation::Simulator { .. } => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            output::error(&format!("cannot start the async runtime: {e}"), &[]);
            return std::process::ExitCode::from(ExitCode::Internal as u8);
        }
    };
    let code = match runtime.block_on(run(invocation)) {
        Ok(code) => code,
        Err(failure) => {
            output::error(&failure.message, &failure.hints);
            failure.code
        }
    };
    std::process::ExitCode::from(code as u8)
}

/// The command named and its options; the request options of an operation's command are
/// those given after its name, else before it.
fn invocation(root: &ArgMatches) -> Result<Invocation, clap::Error> {
    let missing = || clap::Error::new(clap::error::ErrorKind::MissingSubcommand);
    let (name, matches) = root.subcommand().ok_or_else(missing)?;
    match name {
        "simulator" => Ok(Invocation::Simulator {
            args: SimulatorArgs::from_arg_matches(matches)?,
            region: RequestOptions::merged(root, matches)?.region,
        }),
        "completions" => {
            let shell = matches.get_one::<clap_complete::Shell>("shell").copied().ok_or_else(missing)?;
            Ok(Invocation::Completions(shell))
        }
        "manpage" => Ok(Invocation::Manpage),
        _ => {
            // Down the groups (`job`) to the operation's command (`show`).
            let mut path = vec![name];
            let mut leaf = matches;
            while let Some((name, matches)) = leaf.subcommand() {
                path.push(name);
                leaf = matches;
            }
            let id = commands::operation_at(&path).ok_or_else(missing)?;
            Ok(Invocation::Operation { id, request: RequestOptions::merged(root, leaf)?, matches: leaf.clone() })
        }
    }
}

async fn run(invocation: Invocation) -> Result<ExitCode, Failure> {
    match invocation {
        Invocation::Operation { id, request, matches } => {
            let operation = id.describe();
            if commands::wants_skeleton(&matches) {
                let skeleton = serde_json::to_string_pretty(&commands::skeleton(operation)).unwrap_or_default();
                output::try_data(&skeleton).map_err(Failure::output)?;
                return Ok(ExitCode::Success);
            }
            let named = commands::named(id);
            // A bulk command's ids are held compactly from the start: there may be millions.
            let fields = commands::fields(operation, &matches, named.porcelain == Some(commands::Porcelain::Bulk))?;
            if request.output == args::OutputFormat::Ids && operation.paging.is_none() {
                return Err(Failure::input(
                    "--output ids applies to listings (e.g. `desktops list`), whose items have ids".to_owned(),
                ));
            }
            if operation.paging.is_some() {
                let paging = args::PagingArgs::from_arg_matches(&matches).map_err(|e| Failure::input(e.to_string()))?;
                return call::list(id, &request, &paging, fields).await;
            }
            match named.porcelain {
                Some(commands::Porcelain::Bulk) => {
                    let bulk = BulkArgs::from_arg_matches(&matches).map_err(|e| Failure::input(e.to_string()))?;
                    delete::run(id, &request, bulk, fields).await
                }
                None => call::run(id, &request, fields).await,
            }
        }
        Invocation::Simulator { args, region } => serve::run(args, region.as_deref()).await,
        Invocation::Completions(shell) => {
            output::data(completions::script(shell).trim_end());
            Ok(ExitCode::Success)
        }
        Invocation::Manpage => {
            output::data(completions::manpage().trim_end());
            Ok(ExitCode::Success)
        }
    }
}

/// Diagnostics of our own crates only, to stderr; dependencies stay quiet, and no layer
/// here ever sees a header or a body.
fn init_tracing(verbose: u8) {
    let level = match verbose {
        // Warnings reach people at the default verbosity (a credentials file others can read).
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = format!("hwc_workspace={level},hwc_workspace_cli={level},hwc_workspace_sim={level}");
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .try_init();
}
