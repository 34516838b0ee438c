//! The README's runnable shell blocks, run as a newcomer runs them: each block preceded by
//! `<!-- runnable: NAME -->` runs twice in a row in one `bash`, from the repository root, with
//! `cargo run --locked [-q] -p hwc-workspace-cli --` replaced by the binary cargo built for
//! this test, `HWC_METADATA_ENDPOINT=off` and a `TMPDIR` of its own. Its lines `# => …` are its
//! exact stdout. After both runs the repository holds no new or changed file, `TMPDIR` is empty
//! and no process of the block is left; each block is bounded in time.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The spellings of "run the CLI from this checkout" that the blocks may use.
const CARGO_RUNS: [&str; 2] =
    ["cargo run --locked -q -p hwc-workspace-cli --", "cargo run --locked -p hwc-workspace-cli --"];
/// How often each block runs in the same shell: the second run is the one a stale file breaks.
const RUNS: usize = 2;
/// Both runs of a block, the build excepted (the binary is built before the test starts).
const TIMEOUT: Duration = Duration::from_secs(120);
/// Every runnable block the README has, each with a test below.
const NAMES: [&str; 3] = ["simulated-call", "bulk-example", "select-then-delete"];

struct Block {
    name: String,
    script: String,
    /// The block's `# => …` lines: its whole stdout, in order.
    expected: Vec<String>,
}

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The README's runnable blocks; a marker not followed at once by a `sh` block is an error.
fn runnable_blocks() -> Vec<Block> {
    let text = std::fs::read_to_string(repository_root().join("README.md")).unwrap();
    let mut lines = text.lines().enumerate();
    let mut blocks = Vec::new();
    while let Some((number, line)) = lines.next() {
        let Some(name) = line.trim().strip_prefix("<!-- runnable:").and_then(|r| r.strip_suffix("-->")) else {
            continue;
        };
        let opening = lines.next().map(|(_, l)| l);
        assert_eq!(
            opening,
            Some("```sh"),
            "README.md line {}: a runnable marker must precede a ```sh block",
            number + 1
        );
        let body: Vec<&str> = lines.by_ref().map(|(_, l)| l).take_while(|l| *l != "```").collect();
        let expected = body.iter().filter_map(|l| l.trim().strip_prefix("# => ")).map(str::to_owned).collect();
        blocks.push(Block { name: name.trim().to_owned(), script: body.join("\n"), expected });
    }
    blocks
}

fn block(name: &str) -> Block {
    runnable_blocks()
        .into_iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("README.md has no block marked <!-- runnable: {name} -->"))
}

/// What one run of a block printed, and how its last command ended.
struct Run {
    stdout: Vec<String>,
    status: i32,
}

/// What the repository looks like to `git status`, and the names in its root (ignored ones
/// included: a stray file there is ignored by nothing).
fn repository_state(root: &Path) -> (String, Vec<String>) {
    let status = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=all", "--ignored=no"])
        .current_dir(root)
        .output()
        .expect("git is needed to check that the README's examples leave the repository as it was");
    assert!(status.status.success(), "git status failed: {}", String::from_utf8_lossy(&status.stderr));
    let mut names: Vec<String> =
        std::fs::read_dir(root).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    (String::from_utf8_lossy(&status.stdout).into_owned(), names)
}

/// Whether any process of the process group `pgid` still exists.
fn group_alive(pgid: u32) -> bool {
    Command::new("kill")
        .args(["-0", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A pipe read to its end on a thread, so that neither pipe fills while the other is read.
fn read_all(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

fn kill_group(pgid: u32) {
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pgid}")]).stderr(Stdio::null()).status();
}

/// Runs the block [`RUNS`] times in one bash, from the repository root, and checks what every
/// block must hold: both runs end, nothing of the block is left behind, and each run's stdout is
/// exactly its `# =>` lines.
fn run_twice(block: &Block) -> Vec<Run> {
    let root = repository_root();
    let mut script = block.script.clone();
    for spelling in CARGO_RUNS {
        script = script.replace(spelling, "\"$HWC_CLI\"");
    }
    assert!(
        !script.contains("cargo "),
        "block {}: a cargo command other than {CARGO_RUNS:?} is left:\n{script}",
        block.name
    );
    let mut whole = String::new();
    for run in 1..=RUNS {
        // The marker closes each run with the status of the block's last command.
        whole.push_str(&format!("{script}\necho \"@@run {run} ended $?\"\n"));
    }

    let tmp = tempfile::tempdir().unwrap();
    let before = repository_state(&root);
    let mut command = Command::new("bash");
    command
        .args(["--noprofile", "--norc", "-c", &whole])
        .current_dir(&root)
        .env_clear()
        .env("TMPDIR", tmp.path())
        .env("HWC_CLI", env!("CARGO_BIN_EXE_hwc-workspace"))
        .env("HWC_METADATA_ENDPOINT", "off")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A group of its own, so that whatever the block starts can be found and stopped.
        .process_group(0);
    // What a shell needs to find python3 (pyenv's shims read HOME or PYENV_ROOT) and nothing
    // else: no keys, proxies or endpoints of the machine running the test.
    for name in ["PATH", "HOME", "PYENV_ROOT", "PYENV_VERSION", "LANG", "LC_ALL"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let mut child = command.spawn().unwrap();
    let pgid = child.id();
    let stdout = read_all(child.stdout.take().unwrap());
    let stderr = read_all(child.stderr.take().unwrap());
    let started = Instant::now();
    let status: Option<ExitStatus> = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > TIMEOUT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // A process of the block still running holds the pipes open: stop it before reading them.
    // (The group cannot be another's while one of its processes lives, and bash, its leader,
    // is not reaped before a timeout.)
    let left = group_alive(pgid);
    if left || status.is_none() {
        kill_group(pgid);
        let _ = child.wait();
    }
    let stdout = stdout.join().unwrap();
    let stderr = stderr.join().unwrap();
    let context = format!("block {}\n--- stdout ---\n{stdout}--- stderr ---\n{stderr}", block.name);
    let status = status.unwrap_or_else(|| panic!("{} runs took more than {TIMEOUT:?}: {context}", RUNS));
    assert!(status.success(), "bash ended with {status}: {context}");
    assert!(!left, "a process the block started was still running after it ended: {context}");

    let after = repository_state(&root);
    assert_eq!(before.0, after.0, "the block changed the repository (git status): {context}");
    assert_eq!(before.1, after.1, "the block left files in the repository root: {context}");
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(leftovers.is_empty(), "the block left {leftovers:?} in its TMPDIR: {context}");

    let mut runs = Vec::new();
    let mut lines = Vec::new();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("@@run ") {
            let (number, code) = rest.split_once(" ended ").unwrap();
            assert_eq!(number, (runs.len() + 1).to_string(), "{context}");
            runs.push(Run { stdout: std::mem::take(&mut lines), status: code.parse().unwrap() });
        } else {
            lines.push(line.to_owned());
        }
    }
    assert_eq!(runs.len(), RUNS, "not every run reached its end: {context}");
    if !block.expected.is_empty() {
        for (number, run) in runs.iter().enumerate() {
            assert_eq!(run.stdout, block.expected, "run {} of {context}", number + 1);
        }
    }
    runs
}

/// The README and this file name the same runnable blocks: a new one needs a test here, and
/// a test here never silently runs nothing.
#[test]
fn every_runnable_block_of_the_readme_is_tested() {
    let mut names: Vec<String> = runnable_blocks().into_iter().map(|b| b.name).collect();
    names.sort();
    let mut known: Vec<&str> = NAMES.to_vec();
    known.sort();
    assert_eq!(names, known);
}

/// "The two commands": the simulated call prints one JSON line, the job ended SUCCESS with one
/// sub-job for the one desktop, exit 0, every time.
#[test]
fn the_simulated_call_runs_twice_and_leaves_nothing() {
    let block = block("simulated-call");
    for run in run_twice(&block) {
        assert_eq!(run.status, 0, "{:?}", run.stdout);
        assert_eq!(run.stdout.len(), 1, "{:?}", run.stdout);
        let record: serde_json::Value = serde_json::from_str(&run.stdout[0]).unwrap();
        assert_eq!(record["desktop_ids"], serde_json::json!(["d0000001-5e1a-4d00-8000-000000000001"]), "{record}");
        assert_eq!(record["job"]["status"], "SUCCESS", "{record}");
        assert_eq!(record["job"]["sub_jobs"].as_array().map(Vec::len), Some(1), "{record}");
        assert!(record["job_id"].as_str().is_some_and(|id| !id.is_empty()), "{record}");
    }
}

/// "Bulk runs": both runs print the per-desktop account of the README (the failed desktop
/// included, the run's exit code 3 echoed) and the block itself ends 0, its simulator stopped
/// and its directory removed; the second run is not refused for the first one's journal.
#[test]
fn the_bulk_example_runs_twice_and_leaves_nothing() {
    let block = block("bulk-example");
    assert!(block.expected.contains(&"exit code: 3".to_owned()), "the README says the run exits 3");
    assert_eq!(block.expected.len(), 6, "five desktops and the exit code: {:?}", block.expected);
    for run in run_twice(&block) {
        assert_eq!(run.status, 0, "{:?}", run.stdout);
    }
}

/// "Select, then act": both runs count the shared desktops, delete them in two waited
/// batches selected by `--where`, and count none left; the block ends 0 and leaves nothing.
#[test]
fn the_select_then_delete_example_runs_twice_and_leaves_nothing() {
    let block = block("select-then-delete");
    assert_eq!(block.expected, ["150", "\"SUCCESS\"", "\"SUCCESS\"", "0"], "{:?}", block.expected);
    for run in run_twice(&block) {
        assert_eq!(run.status, 0, "{:?}", run.stdout);
    }
}
