//! The closing lines of `cargo xtask test`: one total for the Rust tests and one for the Python
//! tests, added up from cargo's `test result:` lines (one per test binary or doc-test run) and
//! pytest's summary lines (one per CPython), so that a reader (and CI, which judges a run by its
//! closing lines) sees exact counts at the very end instead of dozens of partial ones above.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The counts of one libtest `test result:` line, or their sum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RustCounts {
    pub(crate) passed: u64,
    pub(crate) failed: u64,
    pub(crate) ignored: u64,
    pub(crate) measured: u64,
    pub(crate) filtered_out: u64,
}

impl RustCounts {
    fn add(&mut self, other: Self) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
        self.measured += other.measured;
        self.filtered_out += other.filtered_out;
    }
}

/// Parses libtest's closing line, e.g. `test result: FAILED. 2 passed; 1 failed; 1 ignored; 0
/// measured; 0 filtered out; finished in 0.27s` (colours, if any, are skipped). `None` for any
/// other line.
pub(crate) fn parse_cargo_line(line: &str) -> Option<RustCounts> {
    let line = strip_ansi(line);
    let rest = line.trim_end().strip_prefix("test result: ")?;
    let (_status, counts) = rest.split_once(". ")?;
    let mut result = RustCounts::default();
    let mut seen_passed = false;
    for part in counts.split("; ") {
        let Some((number, label)) = part.split_once(' ') else { continue };
        // `finished in 0.27s` and any later addition that is not a count.
        let Ok(number) = number.parse::<u64>() else { continue };
        match label {
            "passed" => {
                result.passed = number;
                seen_passed = true;
            }
            "failed" => result.failed = number,
            "ignored" => result.ignored = number,
            "measured" => result.measured = number,
            "filtered out" => result.filtered_out = number,
            _ => {}
        }
    }
    seen_passed.then_some(result)
}

/// The counts of one pytest summary line, or their sum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PythonCounts {
    pub(crate) passed: u64,
    pub(crate) failed: u64,
    pub(crate) skipped: u64,
    pub(crate) errors: u64,
    pub(crate) xfailed: u64,
    pub(crate) xpassed: u64,
    pub(crate) deselected: u64,
}

impl PythonCounts {
    fn add(&mut self, other: Self) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.errors += other.errors;
        self.xfailed += other.xfailed;
        self.xpassed += other.xpassed;
        self.deselected += other.deselected;
    }
}

/// Parses pytest's summary line, with `-q` (`1 failed, 2 passed, 1 skipped, 1 error in 0.03s`)
/// or without (the same between `=` signs), `no tests ran in 0.00s` included. `None` for any
/// other line, so that the summary can be looked for from the end of the output.
pub(crate) fn parse_pytest_line(line: &str) -> Option<PythonCounts> {
    let line = strip_ansi(line);
    let line = line.trim().trim_matches('=').trim();
    let (counts, duration) = line.rsplit_once(" in ")?;
    // `0.03s`, or `65.12s (0:01:05)` past a minute.
    let seconds = duration.split(' ').next()?.strip_suffix('s')?;
    seconds.parse::<f64>().ok()?;
    let mut result = PythonCounts::default();
    if counts == "no tests ran" {
        return Some(result);
    }
    for part in counts.split(", ") {
        let (number, label) = part.split_once(' ')?;
        let number = number.parse::<u64>().ok()?;
        match label {
            "passed" => result.passed = number,
            "failed" => result.failed = number,
            "skipped" => result.skipped = number,
            "error" | "errors" => result.errors = number,
            "xfailed" => result.xfailed = number,
            "xpassed" => result.xpassed = number,
            "deselected" => result.deselected = number,
            // Counted by pytest, not tests: warnings, reruns (a plugin's).
            "warning" | "warnings" | "rerun" | "reruns" => {}
            _ => return None,
        }
    }
    Some(result)
}

/// Removes ANSI escape sequences (CSI `ESC [ … final`, and the two-byte `ESC (B`), so that a
/// coloured line parses like a plain one.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(_) => {
                chars.next();
            }
            None => {}
        }
    }
    out
}

/// How long cargo's stdout may stay open after cargo has ended (a leftover process of a test
/// holding it).
const STDOUT_GRACE: Duration = Duration::from_secs(10);

/// The Rust tests' total: the sum of every `test result:` line seen.
#[derive(Debug, Default)]
pub(crate) struct RustTotal {
    pub(crate) counts: RustCounts,
    /// Test binaries and doc-test runs that printed a `test result:` line.
    pub(crate) suites: usize,
    pub(crate) time: Duration,
    /// Why the counts may be short of every test (a build that failed, say).
    pub(crate) incomplete: Option<String>,
}

impl RustTotal {
    /// Runs `cargo <args>` in `root`, its stdout streamed to ours line by line as it comes and
    /// its `test result:` lines added up; its stderr (the build, `Running …`) passes through.
    pub(crate) fn run_cargo_test(&mut self, root: &Path, args: &[&str]) -> Result<(), String> {
        let cargo = crate::cargo();
        eprintln!("xtask: running {cargo} {}", args.join(" "));
        let mut command = Command::new(&cargo);
        command.args(args).current_dir(root);
        self.stream(command, &format!("cargo {}", args.join(" ")), std::io::stdout(), STDOUT_GRACE)
    }

    /// Runs `command`, copying its stdout to `sink` as it comes and counting its `test result:`
    /// lines; waits at most `grace` for the end of its stdout once it has ended.
    fn stream(
        &mut self,
        mut command: Command,
        what: &str,
        mut sink: impl Write + Send + 'static,
        grace: Duration,
    ) -> Result<(), String> {
        let started = Instant::now();
        let failed_before = self.counts.failed;
        let mut child = command.stdout(Stdio::piped()).spawn().map_err(|e| format!("cannot start `{what}`: {e}"))?;
        let pipe = child.stdout.take().ok_or("the command's stdout was not piped")?;
        // The pipe is read on a thread of its own: a process a test leaves behind may hold it
        // open after cargo has ended, and that must not hang the run (see below).
        let (sender, counts) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut line = Vec::new();
            while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                // A closed stdout of ours must not stop the tests: keep reading and counting.
                let _ = sink.write_all(&line).and_then(|()| sink.flush());
                if let Some(counted) = parse_cargo_line(&String::from_utf8_lossy(&line))
                    && sender.send(counted).is_err()
                {
                    break;
                }
                line.clear();
            }
        });
        let status = child.wait().map_err(|e| format!("cannot wait for `{what}`: {e}"))?;
        // The command has ended: its last lines are read within the grace period.
        let deadline = Instant::now() + grace;
        loop {
            match counts.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(counted) => {
                    self.counts.add(counted);
                    self.suites += 1;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    eprintln!(
                        "xtask: warning: `{what}` ended, but a process it started still holds its stdout open \
                         {} s later; going on without it",
                        grace.as_secs_f64()
                    );
                    break;
                }
            }
        }
        self.time += started.elapsed();
        if status.success() {
            return Ok(());
        }
        // A failure without a failed test is one that stopped tests from running (a build
        // error, a crashed test binary): the counts lack what did not run.
        if self.counts.failed == failed_before {
            self.incomplete.get_or_insert_with(|| format!("`{what}` failed before its tests ended"));
        }
        Err(format!("`{what}` failed ({status})"))
    }

    /// `Rust: 812 passed, 0 failed, 3 ignored (41 suites, 402 s)`.
    pub(crate) fn line(&self) -> String {
        let c = &self.counts;
        let mut counts = format!("{} passed, {} failed, {} ignored", c.passed, c.failed, c.ignored);
        for (n, label) in [(c.measured, "measured"), (c.filtered_out, "filtered out")] {
            if n > 0 {
                counts.push_str(&format!(", {n} {label}"));
            }
        }
        let mut line = format!("Rust: {counts} ({} suites, {} s)", self.suites, self.time.as_secs());
        if let Some(why) = &self.incomplete {
            line.push_str(&format!("; incomplete: {why}"));
        }
        line
    }
}

/// The Python tests' total: the sum of each CPython's pytest summary.
#[derive(Debug, Default)]
pub(crate) struct PythonTotal {
    pub(crate) counts: PythonCounts,
    /// The versions whose pytest run printed a summary, e.g. `3.9`.
    pub(crate) versions: Vec<String>,
    pub(crate) time: Duration,
    pub(crate) incomplete: Option<String>,
}

impl PythonTotal {
    /// Adds one version's pytest output; an error when it holds no summary line.
    pub(crate) fn add_run(&mut self, version: &str, stdout: &str) -> Result<PythonCounts, String> {
        let counts = stdout
            .lines()
            .rev()
            .find_map(parse_pytest_line)
            .ok_or_else(|| format!("pytest printed no summary line on CPython {version}"))?;
        self.counts.add(counts);
        self.versions.push(version.to_owned());
        Ok(counts)
    }

    /// `Python: 1020 passed, 0 failed, 5 skipped on 3.9, 3.10, 3.11, 3.12, 3.13 (180 s)`.
    pub(crate) fn line(&self) -> String {
        let c = &self.counts;
        let mut counts = format!("{} passed, {} failed, {} skipped", c.passed, c.failed, c.skipped);
        let errors = if c.errors == 1 { "error" } else { "errors" };
        for (n, label) in
            [(c.errors, errors), (c.xfailed, "xfailed"), (c.xpassed, "xpassed"), (c.deselected, "deselected")]
        {
            if n > 0 {
                counts.push_str(&format!(", {n} {label}"));
            }
        }
        let on = if self.versions.is_empty() { "no CPython".to_owned() } else { self.versions.join(", ") };
        let mut line = format!("Python: {counts} on {on} ({} s)", self.time.as_secs());
        if let Some(why) = &self.incomplete {
            line.push_str(&format!("; incomplete: {why}"));
        }
        line
    }
}

/// The disk space a directory tree takes (blocks allocated, each hard-linked file once, as
/// `du` counts), e.g. `8.4 GB`; a tree that cannot be read counts what could be.
pub(crate) fn disk_use(dir: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut bytes = 0u64;
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let Ok(metadata) = entry.metadata() else { continue };
            if metadata.is_dir() {
                stack.push(entry.path());
            }
            if seen.insert((metadata.dev(), metadata.ino())) {
                bytes += metadata.blocks() * 512;
            }
        }
    }
    format!("{:.1} GB", bytes as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rust(passed: u64, failed: u64, ignored: u64, filtered_out: u64) -> RustCounts {
        RustCounts { passed, failed, ignored, measured: 0, filtered_out }
    }

    /// The scratch crate of [`a_real_cargo_test_is_streamed_counted_and_its_failure_kept`].
    const SCRATCH_LIB: &str = r#"//! Scratch.
//!
//! ```
//! assert_eq!(scratch::two(), 2);
//! ```

pub fn two() -> u32 { 2 }

#[cfg(test)]
mod tests {
    #[test]
    fn passes() { assert_eq!(super::two(), 2); }

    #[test]
    fn fails() { panic!("this failure must be shown"); }

    #[test]
    #[ignore]
    fn ignored() {}

    /// A process that outlives the tests and holds their stdout open.
    #[test]
    fn leaves_a_process() {
        let child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
        std::fs::write(env!("CARGO_MANIFEST_DIR").to_owned() + "/leftover.pid", child.id().to_string()).unwrap();
    }
}
"#;

    /// A `Write` whose bytes the test reads afterwards.
    #[derive(Clone, Default)]
    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A real `cargo test` of a scratch crate (a passing, a failing and an ignored test, a doc
    /// test, and a test that leaves a process holding stdout): everything it prints reaches the
    /// sink, the failure's message included; the counts are exact; the failure is an error; the
    /// leftover process holds the run for the grace period only.
    #[test]
    fn a_real_cargo_test_is_streamed_counted_and_its_failure_kept() {
        let dir = std::env::temp_dir().join(format!("xtask-summary-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let manifest = "[package]\nname = \"scratch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n";
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(dir.join("src/lib.rs"), SCRATCH_LIB).unwrap();
        let mut command = Command::new(crate::cargo());
        // A target directory of its own: the one running this test is locked by its cargo.
        command
            .args(["test", "--offline", "--no-fail-fast"])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", dir.join("target"))
            // Its build lines and "error: test failed" would read as this run's own.
            .stderr(Stdio::null());
        let sink = Sink::default();
        let mut total = RustTotal::default();
        let started = Instant::now();
        let result = total.stream(command, "cargo test (scratch)", sink.clone(), Duration::from_secs(1));
        let elapsed = started.elapsed();
        let leftover = std::fs::read_to_string(dir.join("leftover.pid"));
        if let Ok(pid) = &leftover {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
        let output = String::from_utf8_lossy(&sink.0.lock().unwrap()).into_owned();
        std::fs::remove_dir_all(&dir).unwrap();

        let error = result.unwrap_err();
        assert!(error.contains("failed"), "{error}");
        assert!(output.contains("this failure must be shown"), "{output}");
        assert!(output.contains("test tests::fails ... FAILED"), "{output}");
        assert_eq!(total.counts, RustCounts { passed: 3, failed: 1, ignored: 1, ..RustCounts::default() }, "{output}");
        assert_eq!(total.suites, 2, "the unit tests and the doc tests: {output}");
        assert_eq!(total.incomplete, None);
        assert!(leftover.is_ok(), "the scratch test did not leave its process");
        assert!(elapsed < Duration::from_secs(50), "the leftover process held the run for {elapsed:?}");
        assert_eq!(total.line(), format!("Rust: 3 passed, 1 failed, 1 ignored (2 suites, {} s)", total.time.as_secs()));
    }

    /// Lines printed by cargo 1.95's libtest and rustdoc (a failing test, an ignored one, a
    /// filter, a filter that matched nothing, doc tests, `--color always`).
    #[test]
    fn cargo_summary_lines_are_counted() {
        let cases = [
            (
                "test result: FAILED. 2 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.27s",
                rust(2, 1, 1, 0),
            ),
            (
                "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 3 filtered out; finished in 0.00s\n",
                rust(1, 0, 0, 3),
            ),
            (
                "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 4 filtered out; finished in 0.00s",
                rust(0, 0, 0, 4),
            ),
            (
                "test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.14s",
                rust(1, 1, 1, 0),
            ),
            (
                "test result: \u{1b}[32mok\u{1b}(B\u{1b}[m. 1 passed; 0 failed; 0 ignored; 0 measured; 3 filtered out; finished in 0.00s",
                rust(1, 0, 0, 3),
            ),
            (
                "test result: ok. 2 passed; 0 failed; 0 ignored; 7 measured; 0 filtered out; finished in 1.50s",
                RustCounts { passed: 2, measured: 7, ..RustCounts::default() },
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_cargo_line(line), Some(expected), "{line:?}");
        }
        for other in [
            "running 4 tests",
            "test tests::b ... FAILED",
            "failures:",
            "    tests::b",
            "error: test failed, to rerun pass `-p sample --lib`",
            "   Doc-tests sample",
            "test result: nothing to see",
            "",
        ] {
            assert_eq!(parse_cargo_line(other), None, "{other:?}");
        }
    }

    /// Lines printed by pytest 9 with `-q` and without, with colours, for every outcome it
    /// counts, a collection error, a filter that matched nothing, no tests at all, and a run
    /// past a minute.
    #[test]
    fn pytest_summary_lines_are_counted() {
        let p = PythonCounts::default;
        let cases = [
            (
                "1 failed, 2 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 warning, 1 error in 0.03s",
                PythonCounts { failed: 1, passed: 2, skipped: 1, xfailed: 1, xpassed: 1, errors: 1, ..p() },
            ),
            (
                "2 passed, 1 skipped, 4 deselected, 1 warning in 0.01s",
                PythonCounts { passed: 2, skipped: 1, deselected: 4, ..p() },
            ),
            ("7 deselected in 0.01s", PythonCounts { deselected: 7, ..p() }),
            ("no tests ran in 0.00s", p()),
            (
                "============ 1 passed, 4 deselected, 1 xfailed, 1 xpassed in 0.04s =============",
                PythonCounts { passed: 1, deselected: 4, xfailed: 1, xpassed: 1, ..p() },
            ),
            ("1 error in 0.19s", PythonCounts { errors: 1, ..p() }),
            ("3 errors in 0.19s", PythonCounts { errors: 3, ..p() }),
            (
                "\u{1b}[33m\u{1b}[32m1 passed\u{1b}[0m, \u{1b}[33m\u{1b}[1m4 deselected\u{1b}[0m, \u{1b}[33m\u{1b}[1m1 xfailed\u{1b}[0m, \u{1b}[33m\u{1b}[1m1 xpassed\u{1b}[0m\u{1b}[33m in 0.03s\u{1b}[0m\u{1b}[0m",
                PythonCounts { passed: 1, deselected: 4, xfailed: 1, xpassed: 1, ..p() },
            ),
            ("1 passed in 61.01s (0:01:01)", PythonCounts { passed: 1, ..p() }),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_pytest_line(line), Some(expected), "{line:?}");
        }
        for other in [
            "!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!",
            "FAILED test_s.py::test_b - assert 0",
            "ERROR test_s.py::test_f - RuntimeError",
            "..F.sxX                                                        [100%]",
            "E   ModuleNotFoundError: No module named 'nonexistent_mod'",
            "the rest is in 2 files",
            "",
        ] {
            assert_eq!(parse_pytest_line(other), None, "{other:?}");
        }
    }

    /// The summary is found from the end of a whole `-q` output, the short test summary's
    /// `FAILED` lines above it notwithstanding; an output without one is an error naming the
    /// version.
    #[test]
    fn each_version_adds_its_summary_and_the_lines_say_the_totals() {
        let mut total = PythonTotal::default();
        let failing = "..F.sxX                                                        [100%]\n\
                       =========================== short test summary info ============================\n\
                       FAILED test_s.py::test_b - assert 0\n\
                       ERROR test_s.py::test_f - RuntimeError\n\
                       1 failed, 2 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 warning, 1 error in 0.03s\n";
        total.add_run("3.9", failing).unwrap();
        total.add_run("3.13", "....                 [100%]\n4 passed in 0.50s\n").unwrap();
        let error = total.add_run("3.10", "Traceback (most recent call last):\nSegmentation fault\n").unwrap_err();
        assert!(error.contains("CPython 3.10"), "{error}");
        total.time = Duration::from_millis(12_900);
        assert_eq!(
            total.line(),
            "Python: 6 passed, 1 failed, 1 skipped, 1 error, 1 xfailed, 1 xpassed on 3.9, 3.13 (12 s)"
        );

        let rust = RustTotal {
            counts: rust(812, 0, 3, 0),
            suites: 41,
            time: Duration::from_secs(402),
            incomplete: Some("`cargo test --doc` failed before its tests ended".to_owned()),
        };
        assert_eq!(
            rust.line(),
            "Rust: 812 passed, 0 failed, 3 ignored (41 suites, 402 s); incomplete: `cargo test --doc` failed before its tests ended"
        );
    }
}
