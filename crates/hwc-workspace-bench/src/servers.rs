//! The servers the figures run against, as child processes that die with the bench: nginx
//! answering the documented 200 (a fixed-response server that is not our code), and our
//! simulator served by the CLI.
//!
//! Each is killed when its handle drops, so an error anywhere stops it. Ctrl-C reaches them
//! without our help: they share the terminal's process group, and nginx and the simulator both
//! stop on SIGINT.

use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed on drop.
#[derive(Debug)]
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free loopback port, picked by the kernel. It is released before the server binds it,
/// so another process could take it in between; on loopback in a bench that is rare enough.
pub(crate) fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot find a free port: {e}"))?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// nginx, configured and started by us.
#[derive(Debug)]
pub(crate) struct Nginx {
    _process: Guard,
    pub address: SocketAddr,
    pub version: String,
}

/// The whole configuration: one process (no master, one worker loop), keep-alive without a
/// request limit, nothing logged, every temporary path inside `prefix`, and the one location
/// of the operation answering `body` as JSON with an `X-Request-Id`.
pub(crate) fn nginx_config(prefix: &Path, port: u16, body: &str) -> String {
    let prefix = prefix.display();
    let quoted = body.replace('\\', "\\\\").replace('\'', "\\'");
    format!(
        "daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    server_tokens off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    # Bodies stay in memory (ours are a few hundred bytes), never in temporary files.
    client_body_buffer_size 64k;
    # The default (1000) would close each connection after 1000 requests, which a
    # keep-alive client then pays a reconnect for.
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    server {{
        listen 127.0.0.1:{port};
        location ~ ^/v2/[^/]+/desktop/delete-sub-resources$ {{
            default_type application/json;
            add_header X-Request-Id $request_id always;
            return 200 '{quoted}';
        }}
        location / {{
            return 404;
        }}
    }}
}}
"
    )
}

/// Writes the configuration under `prefix` and starts nginx in the foreground on
/// `127.0.0.1:port`.
pub(crate) fn start_nginx(binary: &Path, prefix: &Path, port: u16, body: &str) -> Result<Nginx, String> {
    let version = Command::new(binary)
        .arg("-v")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))
        .map(|out| String::from_utf8_lossy(&out.stderr).trim().trim_start_matches("nginx version: ").to_owned())?;
    std::fs::create_dir_all(prefix).map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
    let config = prefix.join("nginx.conf");
    std::fs::write(&config, nginx_config(prefix, port, body))
        .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let error_log = prefix.join("error.log");
    let child = Command::new(binary)
        .arg("-p")
        .arg(prefix)
        .arg("-c")
        .arg(&config)
        // Before the configuration is read, nginx would log to its compiled-in path.
        .arg("-e")
        .arg(&error_log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let mut process = Guard(child);
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for_port(&mut process, address, || std::fs::read_to_string(&error_log).unwrap_or_default())?;
    Ok(Nginx { _process: process, address, version })
}

fn wait_for_port(process: &mut Guard, address: SocketAddr, log: impl Fn() -> String) -> Result<(), String> {
    let started = Instant::now();
    loop {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = process.0.try_wait() {
            return Err(format!("the server exited ({status}) before listening on {address}:\n{}", log()));
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("the server did not listen on {address} within 10 s:\n{}", log()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `hwc-workspace simulator`, and what it announced.
#[derive(Debug)]
pub(crate) struct Simulator {
    _process: Guard,
    // Held so the simulator never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
    pub endpoint: String,
    pub address: SocketAddr,
    pub access_key: String,
    pub secret_key: String,
    pub project_id: String,
}

/// Starts the CLI's simulator (the demo state, or `state`) and reads its announcement; with
/// `log`, it logs one line per request there (`-v`), for [`requests_logged`] to count.
pub(crate) fn start_simulator(
    cli: &Path,
    state: Option<&PathBuf>,
    extra: &[&str],
    log: Option<&Path>,
) -> Result<Simulator, String> {
    let mut command = Command::new(cli);
    command.arg("simulator").args(extra);
    if let Some(state) = state {
        command.arg("--state").arg(state);
    }
    let stderr = match log {
        Some(path) => {
            command.arg("-v");
            Stdio::from(std::fs::File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?)
        }
        None => Stdio::null(),
    };
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", cli.display()))?;
    let stdout = child.stdout.take().ok_or("the simulator has no stdout")?;
    let process = Guard(child);
    let mut stdout = BufReader::new(stdout);
    let mut line = String::new();
    stdout.read_line(&mut line).map_err(|e| format!("cannot read the simulator's announcement: {e}"))?;
    let announced: serde_json::Value =
        serde_json::from_str(&line).map_err(|e| format!("the simulator announced no JSON ({e}): {}", line.trim()))?;
    let text = |key: &str| {
        announced[key].as_str().map(str::to_owned).ok_or_else(|| format!("the simulator's announcement has no {key}"))
    };
    let endpoint = text("endpoint")?;
    let address = endpoint
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| format!("the simulator's endpoint {endpoint} is not an address: {e}"))?;
    Ok(Simulator {
        _process: process,
        _stdout: stdout,
        address,
        access_key: text("ak")?,
        secret_key: text("sk")?,
        project_id: text("project_id")?,
        endpoint,
    })
}

/// How many requests whose path contains `path_part` a simulator started with a log
/// answered, counted in its log (one line per request, `path="..."`).
pub(crate) fn requests_logged(log: &Path, path_part: &str) -> Result<usize, String> {
    let text = std::fs::read_to_string(log).map_err(|e| format!("cannot read {}: {e}", log.display()))?;
    let path = |line: &str| line.split_once("path=\"").and_then(|(_, rest)| rest.split('"').next().map(str::to_owned));
    Ok(text.lines().filter_map(path).filter(|p| p.contains(path_part)).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_answers_the_body_on_the_operation_only() {
        let config = nginx_config(Path::new("/tmp/x"), 8123, r#"{"job_id": "it's"}"#);
        assert!(config.contains("listen 127.0.0.1:8123;"));
        assert!(config.contains(r#"return 200 '{"job_id": "it\'s"}';"#), "{config}");
        assert!(config.contains("location ~ ^/v2/[^/]+/desktop/delete-sub-resources$"));
        assert!(config.contains("pid /tmp/x/nginx.pid;"));
        assert!(config.contains("master_process off;"));
    }

    #[test]
    fn free_ports_are_nonzero() {
        assert_ne!(free_port().unwrap(), 0);
    }
}
