//! Instructions per call, counted by valgrind's callgrind: a figure that holds on a busy
//! machine, where calls per second do not. Each loop (our Rust `Client`, raw reqwest, the
//! bare hyper loop with fixed headers, and the same loop signing every request with
//! `hwc-sign`: the floor of any client that signs) runs in a child process of this binary under callgrind, posting a fixed
//! number of calls on one keep-alive connection to nginx; only the client process is
//! counted. Two runs of each loop, with `FEW` and `MANY` calls, are subtracted, so that what
//! every run does once (the process start, the runtime, the first connection, the warm-up)
//! drops out: what remains is the cost of `MANY - FEW` calls.
//!
//! ```text
//! hwc-workspace-bench --count-instructions ours|reqwest|hyper|hyper-signed PLAN_FILE CALLS
//! ```

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use hwc_sign::Credentials;
use hwc_workspace::DeleteSubResources;
use serde_json::{Value, json};

use crate::capture::WireRequest;
use crate::load::{self, Target};

/// The first argument of the child mode.
pub(crate) const FLAG: &str = "--count-instructions";
/// Calls before the counted ones in every child run (connection open, caches warm).
const WARMUP_CALLS: u64 = 50;

/// The loops counted.
pub(crate) const LOOPS: [&str; 4] = ["ours", "reqwest", "hyper", "hyper-signed"];

/// Instructions per call of each loop in [`LOOPS`] order, one sample per `runs`.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub ours: Vec<f64>,
    pub reqwest: Vec<f64>,
    pub hyper: Vec<f64>,
    pub hyper_signed: Vec<f64>,
}

/// What a child needs: nginx's address and the request our client sent, for the bare loops.
pub(crate) fn write_plan(path: &Path, address: SocketAddr, wire: &WireRequest) -> Result<(), String> {
    let plan = json!({
        "address": address.to_string(),
        "path": wire.path,
        "headers": wire.replayable_headers(),
        "body": String::from_utf8_lossy(&wire.body),
    });
    std::fs::write(path, plan.to_string()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Counts every loop `runs` times with `few` and `many` calls (see the module's text).
pub(crate) fn measure(
    valgrind: &Path,
    plan: &Path,
    runs: usize,
    (few, many): (u64, u64),
    progress: &dyn Fn(&str),
) -> Result<Counts, String> {
    let binary = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let mut counts = Counts::default();
    for run in 0..runs {
        for name in LOOPS {
            progress(&format!("callgrind: {name}, {few} and {many} calls (run {} of {runs})", run + 1));
            let per_call = (counted(valgrind, &binary, name, plan, many)?
                - counted(valgrind, &binary, name, plan, few)?)
                / (many - few) as f64;
            match name {
                "ours" => counts.ours.push(per_call),
                "reqwest" => counts.reqwest.push(per_call),
                "hyper" => counts.hyper.push(per_call),
                _ => counts.hyper_signed.push(per_call),
            }
        }
    }
    Ok(counts)
}

/// The instructions callgrind counted in one child run.
fn counted(valgrind: &Path, binary: &Path, name: &str, plan: &Path, calls: u64) -> Result<f64, String> {
    let output = Command::new(valgrind)
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(binary)
        .arg(FLAG)
        .arg(name)
        .arg(plan)
        .arg(calls.to_string())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", valgrind.display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("the {name} loop under callgrind failed ({}):\n{stderr}", output.status));
    }
    // `==PID== Collected : 123456789`
    stderr
        .lines()
        .find_map(|line| line.split_once("Collected :").map(|(_, n)| n.trim().to_owned()))
        .and_then(|n| n.parse::<f64>().ok())
        .ok_or_else(|| format!("callgrind printed no instruction count for the {name} loop:\n{stderr}"))
}

/// The child: `calls` calls of one loop after the warm-up, on a current-thread runtime.
pub(crate) fn child(args: &[String]) -> Result<(), String> {
    let [name, plan, calls] = args else {
        return Err(format!("usage: hwc-workspace-bench {FLAG} ours|reqwest|hyper|hyper-signed PLAN_FILE CALLS"));
    };
    let calls: u64 = calls.parse().map_err(|_| format!("not a number of calls: {calls:?}"))?;
    let text = std::fs::read_to_string(plan).map_err(|e| format!("cannot read {plan}: {e}"))?;
    let plan: Value = serde_json::from_str(&text).map_err(|e| format!("{plan}: {e}"))?;
    let address: SocketAddr =
        plan["address"].as_str().unwrap_or_default().parse().map_err(|e| format!("address: {e}"))?;
    let path = plan["path"].as_str().ok_or("the plan has no path")?;
    let body = plan["body"].as_str().ok_or("the plan has no body")?;
    let headers: Vec<(String, String)> =
        serde_json::from_value(plan["headers"].clone()).map_err(|e| format!("headers: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        match name.as_str() {
            "ours" => {
                let credentials = Credentials::new(crate::BENCH_AK, crate::BENCH_SK);
                let client = crate::rust_figures::our_client(address, &credentials, crate::BENCH_PROJECT_ID)?;
                let request = DeleteSubResources::new([crate::BENCH_DESKTOP_ID], crate::SUB_RESOURCE_TYPE);
                for _ in 0..WARMUP_CALLS + calls {
                    client.delete_desktop_sub_resources(&request).await.map_err(|e| e.to_string())?;
                }
            }
            "reqwest" => {
                let client = crate::rust_figures::raw_reqwest()?;
                let url = format!("http://{address}{path}");
                let headers = load::header_map(&headers)?;
                for _ in 0..WARMUP_CALLS + calls {
                    crate::rust_figures::raw_reqwest_call(&client, &url, &headers, body.as_bytes()).await?;
                }
            }
            "hyper" | "hyper-signed" => {
                let mut target = Target::fixed(address, path, body.as_bytes(), &headers)?;
                if name == "hyper-signed" {
                    let unsigned = load::unsigned(headers.iter().cloned());
                    let credentials = Credentials::new(crate::BENCH_AK, crate::BENCH_SK);
                    target.headers = load::Headers::signed(credentials, unsigned)?;
                }
                // One connection for the warm-up and the counted calls, as for the others.
                let outcome = load::run_calls(Arc::new(target), WARMUP_CALLS + calls).await?;
                crate::rust_figures::checked(outcome)?;
            }
            other => return Err(format!("no loop named {other:?}")),
        }
        Ok(())
    })
}
