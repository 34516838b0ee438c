//! `hwc-workspace`: the command-line front of the SDK. It holds no HTTP or signing logic:
//! it turns arguments into core calls and results into output and exit codes.
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod completions;
mod delete;
mod failure;
mod output;
mod serve;

use std::io::IsTerminal;

use clap::{CommandFactory, FromArgMatches};

use crate::args::{Cli, Command, JobCommand};
use crate::failure::{ExitCode, Failure};

fn main() -> std::process::ExitCode {
    // A bug must reach the user as one line and exit code 1, never as a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        output::error(&format!("internal error{location}; please report it"), &[]);
        std::process::exit(ExitCode::Internal as i32);
    }));
    let parsed = Cli::command().try_get_matches().and_then(|matches| {
        let cli = Cli::from_arg_matches(&matches)?;
        Ok((cli, matches))
    });
    let cli = match parsed {
        Ok((cli, matches)) => {
            if let Some(refusal) = args::options_that_do_not_apply(&matches) {
                output::error(&refusal, &[]);
                return std::process::ExitCode::from(ExitCode::InvalidInput as u8);
            }
            cli
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
    init_tracing(cli.global.verbose);
    if let Some(query) = &cli.global.query {
        let refused = if cli.global.output == args::OutputFormat::Table {
            Err("--query applies to JSON records; it cannot be combined with --output table".to_owned())
        } else {
            output::set_query(query)
        };
        if let Err(message) = refused {
            output::error(&message, &[]);
            return std::process::ExitCode::from(ExitCode::InvalidInput as u8);
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            output::error(&format!("cannot start the async runtime: {e}"), &[]);
            return std::process::ExitCode::from(ExitCode::Internal as u8);
        }
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(failure) => {
            output::error(&failure.message, &failure.hints);
            failure.code
        }
    };
    std::process::ExitCode::from(code as u8)
}

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::DeleteSubResources(args) => delete::run(&cli.global, args).await,
        Command::Job(JobCommand::Show { job_id, project_id }) => {
            delete::show_job(&cli.global, &job_id, project_id.as_deref()).await
        }
        Command::Simulator(args) => serve::run(args, cli.global.region.as_deref()).await,
        Command::Completions { shell } => {
            output::data(completions::script(shell).trim_end());
            Ok(ExitCode::Success)
        }
        Command::Manpage => {
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
