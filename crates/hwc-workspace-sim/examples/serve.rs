//! Runs the simulator as a process, for tests in other languages: prints one JSON line
//! `{"endpoint","ak","sk","project_id","desktop_ids"}` on stdout, then serves until killed,
//! or until its stdin closes when stdin is a pipe (so it dies with the process that started it).
//!
//! Usage: `cargo run -p hwc-workspace-sim --example serve -- [ADDRESS] [--state FILE] [--log] [--ignore-stdin]`
//! (ADDRESS defaults to 127.0.0.1:0).

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::process::ExitCode;

use hwc_workspace_sim::{Simulator, State};

struct Options {
    address: SocketAddr,
    state: Option<String>,
    log: bool,
    ignore_stdin: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut options =
        Options { address: SocketAddr::from(([127, 0, 0, 1], 0)), state: None, log: false, ignore_stdin: false };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--state" => options.state = Some(args.next().ok_or("--state needs a file")?),
            "--log" => options.log = true,
            "--ignore-stdin" => options.ignore_stdin = true,
            "-h" | "--help" => {
                return Err("usage: serve [ADDRESS] [--state FILE] [--log] [--ignore-stdin]".to_owned());
            }
            address => {
                options.address = address
                    .parse()
                    .map_err(|e| format!("{address:?} is not an address such as 127.0.0.1:8080: {e}"))?;
            }
        }
    }
    Ok(options)
}

/// True when stdin is a pipe: then its end means the parent is gone. A terminal or
/// /dev/null says nothing about the parent, so it is not watched.
fn stdin_is_pipe() -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        std::fs::metadata("/dev/stdin").is_ok_and(|m| m.file_type().is_fifo())
    }
    #[cfg(not(unix))]
    {
        false
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    if options.log {
        tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false).init();
    }
    let state = match &options.state {
        Some(path) => match State::from_file(path) {
            Ok(state) => state,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => State::demo(),
    };
    let simulator = match Simulator::builder().bind(options.address).state(state).start().await {
        Ok(simulator) => simulator,
        Err(e) => {
            let cause = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
            eprintln!("error: {e}{cause}");
            return ExitCode::FAILURE;
        }
    };
    let line = serde_json::json!({
        "endpoint": simulator.endpoint(),
        "ak": simulator.access_key(),
        "sk": simulator.secret_key(),
        "project_id": simulator.project_id(),
        "desktop_ids": simulator.desktop_ids(),
    });
    {
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, "{line}").and_then(|()| stdout.flush()).is_err() {
            return ExitCode::FAILURE;
        }
    }
    if !options.ignore_stdin && stdin_is_pipe() {
        let (closed, wait) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let mut sink = [0u8; 1024];
            let mut stdin = std::io::stdin().lock();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            let _ = closed.send(());
        });
        let _ = wait.await;
    } else {
        std::future::pending::<()>().await;
    }
    simulator.shutdown().await;
    ExitCode::SUCCESS
}
