//! `hwc-workspace-bench`: the measuring half of `cargo xtask bench` (which builds it in
//! release, installs nginx and makes the Python venv, then runs it).
//!
//! Every figure of ours is measured beside a baseline that is not our code, against nginx
//! answering the documented 200 (or, for the simulator's own figures, against our simulator),
//! on loopback; the table goes to stdout, and `report.md` and `report.svg` to the output
//! directory.
//!
//! ```text
//! hwc-workspace-bench --root DIR [--python VENV_PYTHON] [--cli PATH] [--nginx PATH]
//!                     [--curl PATH] [--valgrind PATH] [--out DIR] [--quick]
//! ```

mod capture;
mod chart;
mod instructions;
mod load;
mod processes;
mod report;
mod rust_figures;
mod servers;
mod stats;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hwc_sign::Credentials;
use hwc_workspace::DeleteSubResources;
use serde_json::{Value, json};

use crate::load::{Headers, Target};
use crate::processes::Timed;
use crate::report::{Better, Measured, Row};
use crate::stats::{Samples, format_number};

/// Credentials for the runs against nginx, which checks none. Not a secret: no service knows them.
const BENCH_AK: &str = "HPUABENCH00000000001";
const BENCH_SK: &str = "BenchSecretKeyNotASecret000000000000001";
const BENCH_PROJECT_ID: &str = "be0c0000000000000000000000000001";
const BENCH_DESKTOP_ID: &str = "d0000001-5e1a-4d00-8000-000000000001";
const SUB_RESOURCE_TYPE: &str = "DESKTOP_SHARER";
/// The bulk figure: ids, and the batch size the CLI uses.
const BULK_IDS: usize = 10_000;
const BULK_BATCHES: usize = BULK_IDS / 100;
/// A fleet-wide run with waiting: ids, the simulator's latency per request, batches in flight,
/// and how long each job takes.
const FLEET_IDS: usize = 100_000;
const FLEET_LATENCY: Duration = Duration::from_millis(20);
const FLEET_CONCURRENCY: usize = 16;
const FLEET_JOB_DURATION: Duration = Duration::from_secs(1);
/// The page size of the select-then-delete figure's listing: the spec's maximum, which a
/// selection asks for.
const SELECTION_PAGE: usize = 1000;
/// The ids of the memory figure, through `--dry-run`.
const DRY_RUN_IDS: usize = 1_000_000;
/// Connections of the server figures (the simulator's own target was set at 16).
const SERVER_CONNECTIONS: usize = 16;
/// Megabytes per MiB: the import target is in MB.
const MB_PER_MIB: f64 = 1.048_576;

#[derive(Debug)]
struct Options {
    root: PathBuf,
    python: Option<PathBuf>,
    cli: PathBuf,
    nginx: PathBuf,
    curl: PathBuf,
    /// Without it, the instruction counts are not measured.
    valgrind: Option<PathBuf>,
    out: PathBuf,
    quick: bool,
}

/// How long each kind of figure runs.
#[derive(Debug, Clone, Copy)]
struct Budget {
    /// Runs of every throughput figure (alternating between the compared loops).
    runs: usize,
    /// Seconds per run of a throughput figure.
    seconds: f64,
    /// Timed process starts of the CLI and curl; of the official SDK's script (1 s each).
    process_samples: usize,
    official_process_samples: usize,
    import_samples: usize,
    official_import_samples: usize,
    bulk_runs: usize,
    /// Runs of the instruction counts, and the calls of the two runs subtracted.
    instruction_runs: usize,
    instruction_calls: (u64, u64),
}

impl Budget {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                runs: 2,
                seconds: 0.3,
                process_samples: 8,
                official_process_samples: 2,
                import_samples: 5,
                official_import_samples: 2,
                bulk_runs: 1,
                instruction_runs: 1,
                instruction_calls: (100, 400),
            }
        } else {
            Self {
                runs: 5,
                seconds: 1.0,
                process_samples: 30,
                official_process_samples: 8,
                import_samples: 20,
                official_import_samples: 8,
                bulk_runs: 3,
                instruction_runs: 2,
                instruction_calls: (100, 1100),
            }
        }
    }

    fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.seconds)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|first| first == instructions::FLAG) {
        return match instructions::child(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        };
    }
    let options = match parse_options(args.into_iter()) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: hwc-workspace-bench --root DIR [--python VENV_PYTHON] [--cli PATH] [--nginx PATH] [--curl PATH] [--valgrind PATH] [--out DIR] [--quick]";

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let (mut root, mut python, mut cli, mut nginx, mut curl, mut valgrind, mut out, mut quick) =
        (None, None, None, None, None, None, None, false);
    while let Some(arg) = args.next() {
        let mut value = || args.next().map(PathBuf::from).ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--root" => root = Some(value()?),
            "--python" => python = Some(value()?),
            "--cli" => cli = Some(value()?),
            "--nginx" => nginx = Some(value()?),
            "--curl" => curl = Some(value()?),
            "--valgrind" => valgrind = Some(value()?),
            "--out" => out = Some(value()?),
            "--quick" => quick = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let root = root.ok_or("--root is required")?;
    let root = root.canonicalize().map_err(|e| format!("the root {}: {e}", root.display()))?;
    Ok(Options {
        cli: cli.unwrap_or_else(|| root.join("target/release/hwc-workspace")),
        out: out.unwrap_or_else(|| root.join("target/bench")),
        nginx: nginx.unwrap_or_else(|| "nginx".into()),
        curl: curl.unwrap_or_else(|| "curl".into()),
        valgrind,
        python,
        quick,
        root,
    })
}

/// The CLI's arguments for deleting the ids on its stdin at `endpoint`, then `extra`.
fn deletion_from_stdin(endpoint: &str, project_id: &str, extra: &[&str]) -> Vec<String> {
    let base = ["--endpoint", endpoint, "delete-sub-resources", "--project-id", project_id, "--desktop-ids-from", "-"];
    base.iter().chain(&["--sub-resource-type", SUB_RESOURCE_TYPE]).chain(extra).map(|s| (*s).to_owned()).collect()
}

/// One fleet run with `--wait` against a fresh simulator (`state_args` saying what it holds,
/// with the fleet's latency and job duration): the ids on stdin from `ids_file`, or selected
/// by `selection`'s arguments. Its seconds, and the ShowJob calls the simulator answered.
fn fleet_run(
    options: &Options,
    log: &Path,
    state_args: &[String],
    ids_file: Option<&PathBuf>,
    selection: &[&str],
) -> Result<(f64, usize), String> {
    let (latency, duration) = (FLEET_LATENCY.as_secs_f64().to_string(), FLEET_JOB_DURATION.as_secs_f64().to_string());
    let mut simulator_args: Vec<&str> = vec!["--latency", &latency, "--job-duration", &duration];
    simulator_args.extend(state_args.iter().map(String::as_str));
    let simulator = servers::start_simulator(&options.cli, None, &simulator_args, Some(log))?;
    let env = vec![
        ("HUAWEICLOUD_SDK_AK".to_owned(), simulator.access_key.clone()),
        ("HUAWEICLOUD_SDK_SK".to_owned(), simulator.secret_key.clone()),
    ];
    let concurrency = FLEET_CONCURRENCY.to_string();
    let mut extra = vec!["--concurrency", &concurrency, "--wait"];
    let args = if ids_file.is_some() {
        deletion_from_stdin(&simulator.endpoint, &simulator.project_id, &extra)
    } else {
        extra.extend(selection);
        let base = ["--endpoint", &simulator.endpoint, "delete-sub-resources", "--project-id", &simulator.project_id];
        base.iter().chain(&["--sub-resource-type", SUB_RESOURCE_TYPE]).chain(&extra).map(|s| (*s).to_owned()).collect()
    };
    let seconds = processes::bulk(&options.cli, &args, &env, ids_file, FLEET_IDS / 100)?;
    // Stopped first, so that its log is complete.
    drop(simulator);
    Ok((seconds, servers::requests_logged(log, "/workspace-jobs/")?))
}

/// `count` desktop ids starting with `prefix`, a simulator state file of them (each with the
/// sub-resource) and an ids file, one per line: the state file and the ids file's paths.
fn write_fleet(out: &Path, prefix: &str, count: usize) -> Result<(Vec<String>, PathBuf, PathBuf), String> {
    let ids: Vec<String> = (1..=count).map(|i| format!("{prefix}{i:07}-5e1a-4d00-8000-{i:012}")).collect();
    let state = out.join(format!("{prefix}-state.json"));
    let desktops: Vec<Value> = ids.iter().map(|id| json!({"id": id, "sub_resources": [SUB_RESOURCE_TYPE]})).collect();
    write(&state, &serde_json::to_string(&json!({ "desktops": desktops })).map_err(|e| e.to_string())?)?;
    let ids_file = out.join(format!("{prefix}-ids.txt"));
    write(&ids_file, &(ids.join("\n") + "\n"))?;
    Ok((ids, state, ids_file))
}

fn progress(message: &str) {
    eprintln!("bench: {message}");
}

/// Everything measured, by name, for the table.
#[derive(Debug, Default)]
struct Results {
    rust: rust_figures::Figures,
    server_simulator: Samples,
    server_nginx: Samples,
    bulk_seconds: Samples,
    fleet_seconds: Samples,
    fleet_ideal: Samples,
    /// ShowJob calls per accepted batch.
    fleet_reads: Samples,
    selection_seconds: Samples,
    selection_ideal: Samples,
    selection_reads: Samples,
    dry_run_peak_mb: Samples,
    cli_ours: Samples,
    cli_curl: Samples,
    cli_official: Samples,
    instructions: Option<instructions::Counts>,
    python: Option<Value>,
}

fn run(options: &Options) -> Result<(), String> {
    let budget = Budget::new(options.quick);
    let started = Instant::now();
    let load_at_start = load_average();
    std::fs::create_dir_all(&options.out).map_err(|e| format!("cannot create {}: {e}", options.out.display()))?;
    let out = options.out.canonicalize().map_err(|e| e.to_string())?;
    let body = documented_body(&options.root)?;
    let credentials = Credentials::new(BENCH_AK, BENCH_SK);
    let request = DeleteSubResources::new([BENCH_DESKTOP_ID], SUB_RESOURCE_TYPE);

    // Our client's request is caught on the port nginx then takes, so that the copies the bare
    // loops send carry the very Host and signature a client of nginx sends.
    let port = servers::free_port()?;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let wire =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?.block_on(
            capture::capture(address, &body, |_| async {
                let client = rust_figures::our_client(address, &credentials, BENCH_PROJECT_ID)?;
                client.delete_desktop_sub_resources(&request).await.map(drop).map_err(|e| e.to_string())
            }),
        )?;
    let plan = rust_figures::Plan {
        address,
        project_id: BENCH_PROJECT_ID,
        request: &request,
        wire: &wire,
        credentials: &credentials,
        runs: budget.runs,
        seconds: budget.duration(),
    };
    progress(&format!(
        "our client's request: {} {} with {} headers, {} body bytes",
        wire.method,
        wire.path,
        wire.headers.len(),
        wire.body.len()
    ));

    progress(&format!("starting nginx ({}) on {address}", options.nginx.display()));
    let nginx = servers::start_nginx(&options.nginx, &out.join("nginx"), port, &body)?;
    let mut results = Results { rust: rust_figures::measure(&plan, &progress)?, ..Results::default() };
    if let Some(valgrind) = &options.valgrind {
        let plan_file = out.join("instructions-plan.json");
        instructions::write_plan(&plan_file, address, &wire)?;
        results.instructions = Some(instructions::measure(
            valgrind,
            &plan_file,
            budget.instruction_runs,
            budget.instruction_calls,
            &progress,
        )?);
    }

    progress(&format!("simulator: {BULK_IDS} desktops in a state file, the CLI's `simulator` serving it"));
    let (bulk_ids, state, ids_file) = write_fleet(&out, "b", BULK_IDS)?;
    let simulator = servers::start_simulator(&options.cli, Some(&state), &[], None)?;
    let simulator_env = vec![
        ("HUAWEICLOUD_SDK_AK".to_owned(), simulator.access_key.clone()),
        ("HUAWEICLOUD_SDK_SK".to_owned(), simulator.secret_key.clone()),
    ];

    progress(&format!("signed requests/s over {SERVER_CONNECTIONS} connections: the simulator, nginx"));
    let path = format!("/v2/{}/desktop/delete-sub-resources", simulator.project_id);
    let signed_target = |address| -> Result<Arc<Target>, String> {
        Ok(Arc::new(Target {
            address,
            path: path.clone(),
            body: json!({"desktop_ids": [bulk_ids[0]], "sub_resource_type": SUB_RESOURCE_TYPE}).to_string().into(),
            headers: Headers::signed(
                Credentials::new(&simulator.access_key, &simulator.secret_key),
                vec![
                    ("Content-Type".to_owned(), "application/json".to_owned()),
                    ("X-Project-Id".to_owned(), simulator.project_id.clone()),
                ],
            )?,
        }))
    };
    let (to_simulator, to_nginx) = (signed_target(simulator.address)?, signed_target(nginx.address)?);
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?.block_on(async {
        for target in [&to_simulator, &to_nginx] {
            rust_figures::checked(
                load::run(Arc::clone(target), SERVER_CONNECTIONS, Duration::from_millis(200)).await?,
            )?;
        }
        for _ in 0..budget.runs {
            let simulated = load::run(Arc::clone(&to_simulator), SERVER_CONNECTIONS, budget.duration()).await?;
            results.server_simulator.0.push(rust_figures::checked(simulated)?);
            let fixed = load::run(Arc::clone(&to_nginx), SERVER_CONNECTIONS, budget.duration()).await?;
            results.server_nginx.0.push(rust_figures::checked(fixed)?);
        }
        Ok::<_, String>(())
    })?;

    progress(&format!("{BULK_IDS} ids in bulk through the CLI ({BULK_BATCHES} batches), against the simulator"));
    let bulk_args = deletion_from_stdin(&simulator.endpoint, &simulator.project_id, &[]);
    for _ in 0..budget.bulk_runs {
        results.bulk_seconds.0.push(processes::bulk(
            &options.cli,
            &bulk_args,
            &simulator_env,
            Some(&ids_file),
            BULK_BATCHES,
        )?);
    }
    drop(simulator);

    progress(&format!(
        "{FLEET_IDS} ids with --wait through the CLI, --concurrency {FLEET_CONCURRENCY}, against a simulator with \
         {} ms latency and {} s jobs; then the same desktops selected by a listing",
        FLEET_LATENCY.as_millis(),
        FLEET_JOB_DURATION.as_secs_f64()
    ));
    let (_, fleet_state, fleet_file) = write_fleet(&out, "f", FLEET_IDS)?;
    let fleet_batches = FLEET_IDS / 100;
    // The best any client could do: every batch's request at the latency, FLEET_CONCURRENCY
    // at a time, then the last job's run; a selection first reads every page, one at a time.
    let sending = fleet_batches as f64 * FLEET_LATENCY.as_secs_f64() / FLEET_CONCURRENCY as f64;
    let ideal = sending + FLEET_JOB_DURATION.as_secs_f64();
    let pages = FLEET_IDS.div_ceil(SELECTION_PAGE);
    let selection_ideal = pages as f64 * FLEET_LATENCY.as_secs_f64() + ideal;
    let log = out.join("fleet-simulator.log");
    for _ in 0..budget.bulk_runs {
        // A fresh simulator each run, so that every run deletes what is there.
        let state_args = ["--state".to_owned(), fleet_state.display().to_string()];
        let (seconds, reads) = fleet_run(options, &log, &state_args, Some(&fleet_file), &[])?;
        results.fleet_seconds.0.push(seconds);
        results.fleet_ideal.0.push(ideal);
        results.fleet_reads.0.push(reads as f64 / fleet_batches as f64);
        let seeded = ["--desktops", &FLEET_IDS.to_string(), "--shared-fraction", "1"].map(str::to_owned);
        // A selection asks for the largest pages the spec allows (SELECTION_PAGE).
        let selection = ["--where", "is_share_desktop=true", "--yes"];
        let (seconds, reads) = fleet_run(options, &log, &seeded, None, &selection)?;
        results.selection_seconds.0.push(seconds);
        results.selection_ideal.0.push(selection_ideal);
        results.selection_reads.0.push(reads as f64 / fleet_batches as f64);
    }

    progress(&format!("peak memory of {DRY_RUN_IDS} ids through --dry-run"));
    let dry_ids = out.join("dry-run-ids.txt");
    let ids: Vec<String> = (1..=DRY_RUN_IDS).map(|i| format!("m{i:07}-5e1a-4d00-8000-{i:012}")).collect();
    write(&dry_ids, &(ids.join("\n") + "\n"))?;
    drop(ids);
    let dry_args = deletion_from_stdin("http://127.0.0.1:9", BENCH_PROJECT_ID, &["--dry-run"]);
    let dry_env = vec![
        ("HUAWEICLOUD_SDK_AK".to_owned(), BENCH_AK.to_owned()),
        ("HUAWEICLOUD_SDK_SK".to_owned(), BENCH_SK.to_owned()),
    ];
    results.dry_run_peak_mb.0.push(processes::peak_rss_mb(&options.cli, &dry_args, &dry_env, &dry_ids)?);

    let nginx_endpoint = format!("http://{}", nginx.address);
    if let Some(python) = &options.python {
        progress(&format!("Python figures ({}), against nginx", python.display()));
        let signing = rust_figures::SigningInput::from_wire(&wire);
        let python_plan = json!({
            "endpoint": nginx_endpoint,
            "ak": BENCH_AK,
            "sk": BENCH_SK,
            "project_id": BENCH_PROJECT_ID,
            "desktop_id": BENCH_DESKTOP_ID,
            "runs": budget.runs,
            "seconds": budget.seconds,
            "import_runs": budget.import_samples,
            "official_import_runs": budget.official_import_samples,
            "wire": {"path": wire.path, "headers": wire.replayable_headers(), "body": String::from_utf8_lossy(&wire.body)},
            "signing": {"host": signing.host, "path": signing.path, "headers": signing.headers, "body": String::from_utf8_lossy(&signing.body)},
        });
        results.python = Some(run_python(python, &options.root.join("python/benches/bench_calls.py"), &python_plan)?);
    }

    progress("one complete CLI call, process start to exit: hwc-workspace, curl, the official SDK's one-call script");
    let request_body = out.join("request-body.json");
    std::fs::write(&request_body, &wire.body).map_err(|e| format!("cannot write {}: {e}", request_body.display()))?;
    let curl_headers = out.join("curl-headers.txt");
    let header_lines: String = wire.replayable_headers().iter().map(|(n, v)| format!("{n}: {v}\n")).collect();
    write(&curl_headers, &header_lines)?;
    let bench_env = vec![
        ("HUAWEICLOUD_SDK_AK".to_owned(), BENCH_AK.to_owned()),
        ("HUAWEICLOUD_SDK_SK".to_owned(), BENCH_SK.to_owned()),
    ];
    let mut commands = vec![
        Timed {
            name: "hwc-workspace".to_owned(),
            program: options.cli.clone(),
            args: [
                "--endpoint",
                &nginx_endpoint,
                "delete-sub-resources",
                "--project-id",
                BENCH_PROJECT_ID,
                "--desktop-id",
                BENCH_DESKTOP_ID,
                "--sub-resource-type",
                SUB_RESOURCE_TYPE,
            ]
            .map(str::to_owned)
            .to_vec(),
            env: bench_env.clone(),
            samples: budget.process_samples,
        },
        Timed {
            name: "curl".to_owned(),
            program: options.curl.clone(),
            args: vec![
                "-sSf".to_owned(),
                "-o".to_owned(),
                "/dev/null".to_owned(),
                "-H".to_owned(),
                format!("@{}", curl_headers.display()),
                "--data-binary".to_owned(),
                format!("@{}", request_body.display()),
                format!("{nginx_endpoint}{}", wire.path),
            ],
            env: Vec::new(),
            samples: budget.process_samples,
        },
    ];
    let official_available = results.python.as_ref().is_some_and(|p| p["official_sdk"].is_string());
    if let (Some(python), true) = (&options.python, official_available) {
        commands.push(Timed {
            name: "official SDK script".to_owned(),
            program: python.clone(),
            args: vec![
                options.root.join("python/benches/official_one_call.py").display().to_string(),
                nginx_endpoint.clone(),
                BENCH_PROJECT_ID.to_owned(),
                BENCH_DESKTOP_ID.to_owned(),
            ],
            env: bench_env,
            samples: budget.official_process_samples,
        });
    }
    let mut times = processes::start_to_exit(&commands)?.into_iter();
    results.cli_ours = times.next().unwrap_or_default();
    results.cli_curl = times.next().unwrap_or_default();
    results.cli_official = times.next().unwrap_or_default();
    let nginx_version = nginx.version.clone();
    drop(nginx);

    let rows = rows(&results);
    let notes = notes(&results, &budget);
    let table = report::text_table(&rows);
    println!("\n{table}\n");
    for note in &notes {
        println!("- {note}");
    }
    let load_at_end = load_average();
    let markdown =
        markdown_report(options, &budget, &results, &rows, &notes, (&load_at_start, &load_at_end), &nginx_version);
    let report_path = out.join("report.md");
    write(&report_path, &markdown)?;
    let bars: Vec<chart::Bar> = rows
        .iter()
        .filter_map(|row| {
            let baseline = row.baseline.as_ref()?;
            Some(chart::Bar {
                label: format!("{}: {} vs {}", short_figure(&row.figure), row.ours.name, baseline.name),
                speed_up: row.speed_up()?,
                target: match row.target {
                    Some(report::Target::SpeedUpAtLeast(goal)) => Some(goal),
                    // At most `times` the baseline's cost is a speed-up of at least 1/times.
                    Some(report::Target::CostAtMost(times)) => Some(1.0 / times),
                    _ => None,
                },
                met: row.met(),
            })
        })
        .collect();
    let title = format!(
        "hwc-workspace: speed-up over each baseline (medians; {})",
        if options.quick { "quick run" } else { "full run" }
    );
    chart::draw(&out.join("report.svg"), &title, &bars)?;
    println!(
        "\nwrote {} and {} in {:.0} s",
        report_path.display(),
        out.join("report.svg").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The 200 body the spec documents for the operation, as compact JSON.
fn documented_body(root: &Path) -> Result<String, String> {
    let spec_path = root.join("openapi/workspace.yaml");
    let text = std::fs::read_to_string(&spec_path).map_err(|e| format!("cannot read {}: {e}", spec_path.display()))?;
    let spec: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    let example = &spec["paths"]["/v2/{project_id}/desktop/delete-sub-resources"]["post"]["responses"]["200"]["content"]
        ["application/json"]["example"];
    if example.is_null() {
        return Err(format!("{} documents no example of the 200 answer", spec_path.display()));
    }
    serde_json::to_string(example).map_err(|e| e.to_string())
}

/// Runs the Python figures: the plan on stdin, progress on our stderr, JSON on stdout.
fn run_python(python: &Path, script: &Path, plan: &Value) -> Result<Value, String> {
    use std::io::Write as _;
    let mut child = Command::new(python)
        .arg(script)
        .arg("--json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
    let mut stdin = child.stdin.take().ok_or("no stdin for the Python bench")?;
    stdin.write_all(plan.to_string().as_bytes()).map_err(|e| format!("cannot send the plan to Python: {e}"))?;
    drop(stdin);
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("the Python bench failed ({})", output.status));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("the Python bench printed no JSON: {e}"))
}

fn python_samples(results: &Results, key: &str, scale: f64) -> Option<Samples> {
    let values = results.python.as_ref()?["figures"][key].as_array()?;
    let samples: Vec<f64> = values.iter().filter_map(Value::as_f64).map(|v| v * scale).collect();
    (!samples.is_empty()).then_some(Samples(samples))
}

const SEQUENTIAL: &str = "sequential calls/s, 1 keep-alive connection";
const IN_FLIGHT: &str = "calls/s, 32 in flight";
const INSTRUCTIONS: &str = "instructions per call (callgrind, client process only)";
const ONE_CALL: &str = "one CLI call, process start to exit, ms";
const IMPORT_MS: &str = "import time, ms added to a bare interpreter";
const IMPORT_MB: &str = "RSS added by the import, MB";
const SIGNATURES: &str = "signatures/s of the operation's request";
const BULK: &str = "10,000 ids through the CLI (100 batches, --concurrency 4), s";
const SERVER: &str = "signed requests/s, 16 connections";
const FLEET: &str = "100,000 ids with --wait (1,000 batches, 20 ms latency, --concurrency 16, 1 s jobs), s";
const FLEET_READS: &str = "ShowJob calls per accepted batch, in the --wait runs above";
const SELECTION: &str = "select-then-delete of 100,000 desktops (--where, pages of 1,000, then as above), s";
const PYTHON_MB: &str = "peak RSS of Python's delete_many over 1,000,000 ids, with account(), MB";
const DRY_RUN_MB: &str = "peak RSS of 1,000,000 ids through --dry-run, MB";

/// A shorter figure name for the chart's labels.
fn short_figure(figure: &str) -> &str {
    match figure {
        SEQUENTIAL => "sequential",
        IN_FLIGHT => "32 in flight",
        ONE_CALL => "one CLI call",
        IMPORT_MS => "import time",
        IMPORT_MB => "import RSS",
        SIGNATURES => "signatures/s",
        INSTRUCTIONS => "instructions/call",
        SERVER => "16 connections",
        other => other,
    }
}

fn rows(results: &Results) -> Vec<Row> {
    use report::Target::{CostAtMost, OursAtMost, SpeedUpAtLeast};
    let rust = &results.rust;
    let py = |key: &str| python_samples(results, key, 1.0);
    let mut rows = Vec::new();
    let mut push = |figure: &str, better, ours: Option<Measured>, baseline: Option<Measured>, target| {
        if let Some(ours) = ours
            && !ours.samples.0.is_empty()
        {
            rows.push(Row { figure: figure.to_owned(), better, ours, baseline, target });
        }
    };
    let m = |name: &str, samples: &Samples| Some(Measured::new(name, samples.clone()));
    let mp = |name: &str, samples: Option<Samples>| samples.map(|s| Measured::new(name, s));
    use Better::{Higher, Lower};
    push(
        SEQUENTIAL,
        Higher,
        m("Rust Client", &rust.sequential_ours),
        m("bare hyper", &rust.sequential_hyper),
        Some(SpeedUpAtLeast(0.9)),
    );
    push(SEQUENTIAL, Higher, m("Rust Client", &rust.sequential_ours), m("raw reqwest", &rust.sequential_reqwest), None);
    push(
        SEQUENTIAL,
        Higher,
        mp("Python Client", py("sequential_ours")),
        m("bare hyper (Rust)", &rust.sequential_hyper),
        Some(SpeedUpAtLeast(0.8)),
    );
    push(
        SEQUENTIAL,
        Higher,
        mp("Python Client", py("sequential_ours")),
        mp("official SDK", py("sequential_official")),
        None,
    );
    push(
        SEQUENTIAL,
        Higher,
        mp("Python Client", py("sequential_ours")),
        mp("raw http.client", py("sequential_http_client")),
        None,
    );
    push(
        IN_FLIGHT,
        Higher,
        m("Rust Client", &rust.in_flight_ours),
        mp("official async client", py("in_flight_official")),
        None,
    );
    push(
        IN_FLIGHT,
        Higher,
        mp("Python AsyncClient", py("in_flight_ours")),
        mp("official async client", py("in_flight_official")),
        None,
    );
    push(
        IN_FLIGHT,
        Higher,
        m("Rust Client", &rust.in_flight_ours),
        m("bare hyper, 32 connections", &rust.in_flight_hyper),
        None,
    );
    push(
        IN_FLIGHT,
        Higher,
        m("Rust Client", &rust.in_flight_ours),
        m("bare hyper signing each request, 32 connections", &rust.in_flight_hyper_signed),
        Some(SpeedUpAtLeast(0.8)),
    );
    push(
        IN_FLIGHT,
        Higher,
        mp("Python AsyncClient", py("in_flight_ours")),
        mp("Python Client, sequential", py("sequential_ours")),
        Some(SpeedUpAtLeast(3.0)),
    );
    if let Some(counts) = &results.instructions {
        let ours = Samples(counts.ours.clone());
        push(INSTRUCTIONS, Lower, m("Rust Client", &ours), m("bare hyper", &Samples(counts.hyper.clone())), None);
        push(INSTRUCTIONS, Lower, m("Rust Client", &ours), m("raw reqwest", &Samples(counts.reqwest.clone())), None);
        push(
            INSTRUCTIONS,
            Lower,
            m("Rust Client", &ours),
            m("bare hyper, signing each request", &Samples(counts.hyper_signed.clone())),
            Some(CostAtMost(1.25)),
        );
    }
    push(
        ONE_CALL,
        Lower,
        m("hwc-workspace", &results.cli_ours),
        m("curl", &results.cli_curl),
        Some(SpeedUpAtLeast(1.0)),
    );
    push(ONE_CALL, Lower, m("hwc-workspace", &results.cli_ours), m("official SDK script", &results.cli_official), None);
    push(
        IMPORT_MS,
        Lower,
        mp("hwc_workspace", py("import_ms_ours")),
        mp("official SDK", py("import_ms_official")),
        Some(OursAtMost(2.0)),
    );
    push(
        IMPORT_MB,
        Lower,
        mp("hwc_workspace", python_samples(results, "import_mib_ours", MB_PER_MIB)),
        mp("official SDK", python_samples(results, "import_mib_official", MB_PER_MIB)),
        Some(OursAtMost(3.0)),
    );
    push(
        SIGNATURES,
        Higher,
        m("hwc-sign authorize (Rust)", &rust.signatures),
        mp("official signer", py("signatures_official")),
        Some(SpeedUpAtLeast(20.0)),
    );
    push(
        SIGNATURES,
        Higher,
        mp("hwc_workspace.sign_request", py("signatures_ours_python")),
        mp("official signer", py("signatures_official")),
        None,
    );
    push(BULK, Lower, m("CLI vs simulator", &results.bulk_seconds), None, None);
    push(
        FLEET,
        Lower,
        m("CLI --wait vs simulator", &results.fleet_seconds),
        m("ideal (batches x latency / concurrency + job)", &results.fleet_ideal),
        Some(SpeedUpAtLeast(0.9)),
    );
    push(FLEET_READS, Lower, m("ids on stdin", &results.fleet_reads), None, Some(OursAtMost(2.0)));
    push(
        SELECTION,
        Lower,
        m("CLI --where --wait vs simulator", &results.selection_seconds),
        m("ideal (pages x latency + the deletion's ideal)", &results.selection_ideal),
        Some(SpeedUpAtLeast(0.85)),
    );
    push(FLEET_READS, Lower, m("select-then-delete", &results.selection_reads), None, Some(OursAtMost(2.0)));
    push(DRY_RUN_MB, Lower, m("CLI --dry-run", &results.dry_run_peak_mb), None, Some(OursAtMost(100.0)));
    push(
        PYTHON_MB,
        Lower,
        mp("delete_many + account()", python_samples(results, "bulk_peak_mib", MB_PER_MIB)),
        None,
        Some(OursAtMost(250.0)),
    );
    push(
        SERVER,
        Higher,
        m("simulator (verifies)", &results.server_simulator),
        m("nginx fixed answer", &results.server_nginx),
        None,
    );
    rows.retain(|row| row.baseline.as_ref().is_none_or(|b| !b.samples.0.is_empty()));
    rows
}

/// What the table cannot say in a cell.
fn notes(results: &Results, budget: &Budget) -> Vec<String> {
    let mut notes = Vec::new();
    let bulk = results.bulk_seconds.median();
    if bulk.is_finite() {
        notes.push(format!(
            "bulk: {} ids/s, {} calls/s ({} ids in {} batches of 100, median of {} runs)",
            format_number(BULK_IDS as f64 / bulk),
            format_number(BULK_BATCHES as f64 / bulk),
            format_number(BULK_IDS as f64),
            BULK_BATCHES,
            budget.bulk_runs
        ));
    }
    let us = |rate: f64| format_number(1e6 / rate);
    notes.push(format!(
        "per call, sequential: Rust Client {} us, bare hyper {} us, raw reqwest {} us",
        us(results.rust.sequential_ours.median()),
        us(results.rust.sequential_hyper.median()),
        us(results.rust.sequential_reqwest.median())
    ));
    notes.push(format!("per signature: hwc-sign {} us", us(results.rust.signatures.median())));
    match &results.python {
        None => notes.push("Python figures not measured (no --python given)".to_owned()),
        Some(python) if !python["official_sdk"].is_string() => {
            notes.push("the official SDK is not installed in the venv: its figures are missing".to_owned());
        }
        Some(_) => {}
    }
    notes
}

fn markdown_report(
    options: &Options,
    budget: &Budget,
    results: &Results,
    rows: &[Row],
    notes: &[String],
    load: (&str, &str),
    nginx: &str,
) -> String {
    let date = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC"))
        .unwrap_or_else(|_| "unknown".to_owned());
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let python = results.python.as_ref();
    let text = |v: Option<&Value>, key: &str| v.and_then(|p| p[key].as_str()).unwrap_or("not measured").to_owned();
    let mut out = String::from("# hwc-workspace benchmark\n\n");
    out += &format!(
        "- Run: {date}, commit {}, {} ({} runs of {} s per throughput figure, alternating between the compared loops)\n",
        git_commit(&options.root),
        if options.quick { "`--quick`" } else { "full" },
        budget.runs,
        budget.seconds
    );
    out += &format!(
        "- Machine: {cpus} CPUs, {}; load average {} at the start, {} at the end\n",
        cpu_model(),
        load.0,
        load.1
    );
    out += &format!(
        "- Software: {}; Python {}, hwc_workspace {}, huaweicloudsdkworkspace {}; {nginx}; {}\n\n",
        command_line("rustc", &["--version"]),
        text(python, "python"),
        text(python, "hwc_workspace"),
        text(python, "official_sdk"),
        command_line(&options.curl.display().to_string(), &["--version"])
            .split(' ')
            .take(2)
            .collect::<Vec<_>>()
            .join(" "),
    );
    out += "Each cell is `median (min-max)`. The speed-up compares medians and is oriented so that above 1x ours is better \
            (for times and sizes it is baseline / ours).\n\n";
    out += &report::markdown_table(rows);
    out += "\n\n![speed-up over each baseline](report.svg)\n\n";
    for note in notes {
        out += &format!("- {note}\n");
    }
    out += "\n## How each figure is measured\n\n";
    out += METHOD;
    out
}

const METHOD: &str = "\
- **Server.** nginx from the distribution, started by the bench with its own configuration under `target/bench/nginx/` \
(one process, keep-alive without a request limit, no logs), answers `POST /v2/{project}/desktop/delete-sub-resources` with \
`200`, `application/json`, the 200 example of `openapi/workspace.yaml` and an `X-Request-Id`. It checks no signature: it is \
the cost of the fixed answer, not of a service.
- **Same bytes.** Our Rust client's request is caught once on the wire (a one-shot listener on the port nginx then takes); the \
bare hyper, raw reqwest, `http.client` and curl loops send exactly its path, headers (signature included, computed once) and \
body. Our clients sign every call afresh.
- **Sequential** figures run for the stated time on one keep-alive connection; Rust on a current-thread tokio runtime. \
**32 in flight**: Rust on the default multi-thread runtime (32 tasks sharing one client; the bare hyper row is 32 connections), \
Python's `AsyncClient` with 32 asyncio tasks, the official SDK's `WorkspaceAsyncClient` with 32 futures outstanding (its \
thread pool underneath).
- **Instructions per call**: valgrind's callgrind counts the instructions of the client process alone (nginx is not \
counted) in child runs of this binary, one loop per run on a current-thread runtime and one keep-alive connection: our Rust \
`Client`, the raw reqwest loop, the bare hyper loop with the caught headers, and the same loop signing each request with \
`hwc-sign` (the floor of any client that signs). Each loop runs twice, with a few and with many calls after the same warm-up; \
the difference divided by the difference in calls is the cost of one call, start-up and warm-up excluded. Under valgrind \
SHA-256 runs its portable rounds (valgrind does not run the CPU's SHA instructions, which a native run uses): about \
38,000 instructions per call of a signature's hashing that a native run does with the CPU's SHA extensions, two rounds to an instruction.
- **One CLI call**: wall time from spawn to exit of `hwc-workspace delete-sub-resources` (credentials from the environment), \
of `curl` posting the caught request, and of `python/benches/official_one_call.py` (the official SDK, one call); the commands \
take turns, after one untimed run each.
- **Import**: `import hwc_workspace` (or the official SDK's client, credentials and request classes) in fresh interpreters of \
the venv, timed with `time.perf_counter` around the import and RSS (`VmRSS`) read before and after it; one untimed run first.
- **Signatures**: `hwc_sign::http::SignableRequest::authorize` (what the client signs every call with) of our client's request (headers as sent, minus those signing adds), dated with the clock \
each time, against the official `huaweicloudsdkcore.signer.Signer.sign` of a fresh `SdkRequest` with the same headers and body.
- **Bulk**: `hwc-workspace delete-sub-resources --desktop-ids-from -` with 10,000 ids on stdin, against `hwc-workspace simulator` \
seeded with those 10,000 desktops, spawn to exit, checking one result line per batch.
- **16 connections**: the bench's own hyper load generator (`crates/hwc-workspace-bench/src/load.rs`), each request signed \
afresh, against `hwc-workspace simulator` (which verifies every signature and records a job) and against nginx. The same \
generator on 32 connections, signing each request, is the floor of the 32-in-flight row beside the fixed-headers one.
- **100,000 ids with --wait**: `hwc-workspace delete-sub-resources --desktop-ids-from - --concurrency 16 --wait`, spawn to \
exit, against a fresh `hwc-workspace simulator --latency 0.02 --job-duration 1` for each run (holding those desktops), \
checking one result line per batch. The ideal is every batch's request at 20 ms, 16 at a time, then one job's second. \
**ShowJob calls per batch** are counted on the server's side: the simulator runs with `-v`, which logs one line per \
request, and the lines of `/workspace-jobs/` paths are divided by the batches.
- **Select-then-delete**: the same with `--where is_share_desktop=true --yes` instead of ids, against a simulator seeded \
with `--desktops 100000 --shared-fraction 1`: the listing (pages of 1,000, the spec's largest), then the deletion. Its \
ideal reads the 100 pages one after another at 20 ms each, then the deletion's ideal.
- **Peak RSS**: GNU time's `%M` of the CLI with 1,000,000 ids on stdin and `--dry-run` (every request signed and printed \
to `/dev/null`); for Python, `ru_maxrss` of a fresh interpreter that makes a list of 1,000,000 id strings, runs \
`delete_many` over it against nginx (`concurrency=16`), takes every batch's outcome and reads every line of `account()`.
";

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(str::to_owned))
        .unwrap_or_else(|| format!("{program}: unknown"))
}

fn git_commit(root: &Path) -> String {
    let root = root.display().to_string();
    let commit = command_line("git", &["-C", &root, "rev-parse", "--short", "HEAD"]);
    let dirty = Command::new("git")
        .args(["-C", &root, "status", "--porcelain", "--untracked-files=no"])
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    if dirty { format!("{commit} with uncommitted changes") } else { commit }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_body_comes_from_the_spec() {
        // At run time: a test binary built in a shared target directory serves every checkout.
        let root = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets it")).join("../..");
        let body: Value = serde_json::from_str(&documented_body(&root).unwrap()).unwrap();
        assert!(body["job_id"].as_str().is_some_and(|id| !id.is_empty()), "{body}");
    }

    #[test]
    fn options_need_a_root_and_know_their_flags() {
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>().into_iter();
        assert!(parse_options(args(&[])).unwrap_err().contains("--root"));
        assert!(parse_options(args(&["--root", ".", "--bogus"])).unwrap_err().contains("--bogus"));
        let options = parse_options(args(&["--root", ".", "--quick", "--python", "/x/python"])).unwrap();
        assert!(options.quick);
        assert_eq!(options.python, Some(PathBuf::from("/x/python")));
        assert!(options.cli.ends_with("target/release/hwc-workspace"));
    }
}
