//! `simulator`: the local simulator in the foreground, announced as one JSON line on stdout
//! so that scripts can use it, until Ctrl-C or SIGTERM.

use std::time::Duration;

use hwc_workspace_sim::{DESKTOP_SHARER, Faults, JobTiming, Simulator, State};
use serde_json::json;

use crate::args::SimulatorArgs;
use crate::failure::{ExitCode, Failure};
use crate::output;

pub(crate) async fn run(args: SimulatorArgs, region: Option<&str>) -> Result<ExitCode, Failure> {
    let state = match &args.state {
        Some(path) => State::from_file(path)
            .map_err(|e| Failure::input(format!("cannot load the simulator state {}: {e}", path.display())))?,
        None => State::demo(),
    };
    let state = match args.desktops {
        // The range of the flag keeps the count within usize on every platform.
        Some(count) => state
            .with_seeded_desktops(usize::try_from(count).unwrap_or(usize::MAX), args.shared_fraction)
            .map_err(|e| Failure::input(format!("cannot seed the simulator's desktops: {e}")))?,
        None => state,
    };
    if !args.listen.ip().is_loopback() {
        output::warn(&format!(
            "listening on {}, which other machines may reach; the demo keys are public",
            args.listen
        ));
    }
    let mut faults = Faults::none()
        .with_latency(Duration::from_secs_f64(args.latency))
        .with_failing_desktops(args.fail_desktops.iter().cloned())
        .with_seed(args.seed);
    if let Some(kind) = args.job_reports {
        faults = faults.with_job_reports(kind);
    }
    for spec in &args.faults {
        match spec.rate {
            Some(rate) => faults = faults.with_random(spec.kind, rate),
            None => faults.fail_next.push(spec.kind),
        }
    }
    let timing = match args.job_duration {
        Some(secs) => {
            let total = Duration::from_secs_f64(secs);
            JobTiming { waiting: total / 5, running: total - total / 5 }
        }
        None => JobTiming::default(),
    };
    let simulator = Simulator::builder()
        .bind(args.listen)
        .state(state)
        .faults(faults)
        .job_timing(timing)
        .region(region.unwrap_or(hwc_workspace_sim::DEFAULT_REGION))
        .credentials_lifetime(Duration::from_secs_f64(args.credentials_lifetime))
        .start()
        .await
        .map_err(|e| Failure {
            code: ExitCode::InvalidInput,
            message: format!("cannot start the simulator on {}: {e}", args.listen),
            hints: vec!["pick another --listen address, e.g. 127.0.0.1:0 for any free port".to_owned()],
        })?;
    let sharer_ids: Vec<String> =
        simulator.desktops().into_iter().filter(|d| d.has(DESKTOP_SHARER)).map(|d| d.id).collect();
    output::json_record(&json!({
        "endpoint": simulator.endpoint(),
        "ak": simulator.access_key(),
        "sk": simulator.secret_key(),
        "project_id": simulator.project_id(),
        "region": simulator.region(),
        "desktop_ids": sharer_ids,
    }))
    .map_err(Failure::output)?;
    output::note(&format!("simulator listening on {}", simulator.endpoint()));
    output::note(&format!("project {}, access key {}", simulator.project_id(), simulator.access_key()));
    // A seeded fleet has too many to name on a terminal; the JSON line has them all.
    const NAMED: usize = 10;
    let more = sharer_ids.len().saturating_sub(NAMED);
    let named = sharer_ids.iter().take(NAMED).map(String::as_str).collect::<Vec<_>>().join(", ");
    let more = if more > 0 { format!(" and {more} more") } else { String::new() };
    output::note(&format!("desktops holding {DESKTOP_SHARER} ({}): {named}{more}", sharer_ids.len()));
    output::note(&format!(
        "try: hwc-workspace --endpoint {} delete-sub-resources --project-id {} --desktop-id {} --sub-resource-type {DESKTOP_SHARER}",
        simulator.endpoint(),
        simulator.project_id(),
        sharer_ids.first().map_or("ID", String::as_str)
    ));
    output::note("press Ctrl-C to stop");
    wait_for_stop().await;
    simulator.shutdown().await;
    Ok(ExitCode::Success)
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
