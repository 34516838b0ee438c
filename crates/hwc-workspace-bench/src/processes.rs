//! Figures of whole processes, from spawn to exit: one CLI call against `curl` and a one-call
//! script of the official SDK, and 10,000 ids in bulk through the CLI. A process that fails
//! fails the bench: a fast wrong answer is no figure.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::stats::Samples;

/// A command to time, and how many times per bench.
#[derive(Debug)]
pub(crate) struct Timed {
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub samples: usize,
}

impl Timed {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        // Only what we give: no token or other credentials of the caller's environment.
        for name in
            ["HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_SDK_PROJECT_ID"]
        {
            command.env_remove(name);
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Milliseconds from spawn to exit; an error unless the process succeeded.
    fn once(&self) -> Result<f64, String> {
        let mut command = self.command();
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let started = Instant::now();
        let child = command.spawn().map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        let output = child.wait_with_output().map_err(|e| format!("{}: {e}", self.name))?;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        if !output.status.success() {
            return Err(format!(
                "{} failed ({}): {}",
                self.name,
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(elapsed)
    }
}

/// Each command's start-to-exit times in ms, the commands taking turns so that a busy moment
/// of the machine hits them alike; one untimed run of each first (page cache, bytecode).
pub(crate) fn start_to_exit(commands: &[Timed]) -> Result<Vec<Samples>, String> {
    for command in commands {
        command.once()?;
    }
    let mut samples = vec![Samples::default(); commands.len()];
    let most = commands.iter().map(|c| c.samples).max().unwrap_or(0);
    for round in 0..most {
        for (command, samples) in commands.iter().zip(&mut samples) {
            if round < command.samples {
                samples.0.push(command.once()?);
            }
        }
    }
    Ok(samples)
}

/// Seconds for the CLI to delete `ids_file`'s ids (or, with none, those its arguments
/// select) in batches of 100, checking it printed one result line per batch.
pub(crate) fn bulk(
    cli: &PathBuf,
    args: &[String],
    env: &[(String, String)],
    ids_file: Option<&PathBuf>,
    batches: usize,
) -> Result<f64, String> {
    let ids = match ids_file {
        Some(file) => {
            Stdio::from(std::fs::File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?)
        }
        None => Stdio::null(),
    };
    let started = Instant::now();
    let output = Command::new(cli)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(ids)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", cli.display()))?;
    let elapsed = started.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(format!(
            "the bulk deletion failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let lines = String::from_utf8_lossy(&output.stdout).lines().filter(|l| l.contains("job_id")).count();
    if lines != batches {
        return Err(format!("the bulk deletion printed {lines} results, expected one per batch ({batches})"));
    }
    Ok(elapsed)
}

/// The peak resident memory, in MB, of the CLI reading `ids_file` on stdin with `args`
/// (stdout to `/dev/null`), as GNU time reports it (`%M`, KiB).
pub(crate) fn peak_rss_mb(
    cli: &PathBuf,
    args: &[String],
    env: &[(String, String)],
    ids_file: &PathBuf,
) -> Result<f64, String> {
    let ids = std::fs::File::open(ids_file).map_err(|e| format!("cannot open {}: {e}", ids_file.display()))?;
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("peak-kib %M")
        .arg(cli)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(ids)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot start /usr/bin/time (Debian's `time`): {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("the dry run failed ({}): {}", output.status, stderr.trim()));
    }
    let kib: f64 = stderr
        .lines()
        .find_map(|line| line.strip_prefix("peak-kib "))
        .and_then(|value| value.trim().parse().ok())
        .ok_or_else(|| format!("GNU time reported no peak: {}", stderr.trim()))?;
    Ok(kib * 1024.0 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(name: &str, script: &str, samples: usize) -> Timed {
        Timed {
            name: name.to_owned(),
            program: "sh".into(),
            args: vec!["-c".to_owned(), script.to_owned()],
            env: vec![("HWC_BENCH_PROBE".to_owned(), "1".to_owned())],
            samples,
        }
    }

    #[test]
    fn commands_take_turns_and_keep_their_counts() {
        let samples =
            start_to_exit(&[shell("ok", "test \"$HWC_BENCH_PROBE\" = 1", 3), shell("also ok", "exit 0", 1)]).unwrap();
        assert_eq!(samples.iter().map(|s| s.0.len()).collect::<Vec<_>>(), [3, 1]);
        assert!(samples[0].0.iter().all(|ms| *ms > 0.0));
    }

    #[test]
    fn a_failing_command_fails_the_figure() {
        let error = start_to_exit(&[shell("broken", "echo nope >&2; exit 3", 2)]).unwrap_err();
        assert!(error.contains("broken failed") && error.contains("nope"), "{error}");
    }
}
