//! The service under soak: `tapewatch run` as a child process, configured
//! against the simulator, with its HTTP API on a loopback port.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tapewatch_sim::SimHandle;

/// A running `tapewatch run`.
pub struct Service {
    child: Child,
    http_port: u16,
}

impl Service {
    /// Writes the config into `dir` and starts `bin` with it.
    pub fn start(bin: &Path, sim: &SimHandle, key: &str, dir: &Path) -> Result<Self, String> {
        // The service takes its HTTP address from the config, so a free port
        // is found first; nothing else binds loopback ports here meanwhile.
        let http_port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("no free port: {e}"))?;
        let config = config_text(sim, http_port, &dir.join("alerts.jsonl"));
        let path = dir.join("soak.toml");
        std::fs::write(&path, config).map_err(|e| format!("cannot write the config: {e}"))?;
        let log = std::fs::File::create(dir.join("service.log"))
            .map_err(|e| format!("cannot create the service log: {e}"))?;
        let child = Command::new(bin)
            .arg("run")
            .arg("--config")
            .arg(&path)
            .env("POLYGON_API_KEY", key)
            .env("TAPEWATCH_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        Ok(Service { child, http_port })
    }

    /// The base URL of its HTTP API.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits up to 30 s for the exit; its status, or what
    /// went wrong.
    pub async fn stop(mut self) -> String {
        let Ok(pid) = libc::pid_t::try_from(self.child.id()) else {
            return "pid out of range".into();
        };
        // SAFETY: kill(2) with a valid pid of our own child and a signal number.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.to_string(),
                Ok(None) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    return "did not exit within 30 s of SIGTERM; killed".into();
                }
                Err(e) => return format!("wait failed: {e}"),
            }
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // Never leave the service running behind a failed soak.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}

/// Polls `/ready` until it answers 200 or `limit` passes.
pub async fn wait_ready(client: &reqwest::Client, http: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{http}/ready")).send().await {
            if r.status().is_success() {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// The service's configuration: both simulated feeds, quick reconnects (the
/// soak drops connections often), a REST deadline the hang fault exceeds.
fn config_text(sim: &SimHandle, http_port: u16, alerts: &Path) -> String {
    let alerts: PathBuf = alerts.to_owned();
    format!(
        r#"provider = "polygon"

[[feeds]]
name = "stocks"
url = "{stocks}"
subscribe = ["T.*"]

[[feeds]]
name = "options"
url = "{options}"
subscribe = ["T.*"]

[connection]
backoff_min_ms = 100
backoff_max_ms = 2000
ping_after_ms = 2000
pong_timeout_ms = 2000

[rest]
base_url = "{rest}"
timeout_ms = 1000
deadline_ms = 3000

[output]
stdout = "off"
alerts_file = {alerts:?}

[http]
bind = "127.0.0.1:{http_port}"
client_queue = 256
"#,
        stocks = sim.ws_url("stocks"),
        options = sim.ws_url("options"),
        rest = sim.rest_url(),
        alerts = alerts.display().to_string(),
    )
}
