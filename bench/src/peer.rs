//! The Python peer: the seed article's pattern on the official
//! `polygon-api-client`, run as a subprocess against a generator serving the
//! same frames as the throughput scenario.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::frames::FrameSet;
use super::generator::{Generator, Play};
use super::rest_mock::RestMock;

/// The script, relative to the workspace root.
pub const SCRIPT: &str = "bench/peer/polygon_peer.py";
/// The venv `scripts/bench` creates, relative to the workspace root.
pub const VENV_PYTHON: &str = ".venv-bench/bin/python";

/// What the peer reported.
#[derive(Debug, Clone, Default)]
pub struct PeerResult {
    /// Events it handled.
    pub events: u64,
    /// Seconds from its first message to its last event.
    pub seconds: f64,
    /// Anomalies it found (each enqueued a REST lookup).
    pub anomalies: u64,
    /// REST lookups that succeeded before it stopped.
    pub rest_ok: u64,
    /// Whether the generator saw it fall behind and disconnected it.
    pub slow_disconnect: bool,
}

impl PeerResult {
    /// Events per second.
    pub fn rate(&self) -> f64 {
        self.events as f64 / self.seconds.max(1e-9)
    }
}

/// The workspace root: where the binary was built from, unless the current
/// directory holds the script.
pub fn root() -> PathBuf {
    if Path::new(SCRIPT).exists() {
        PathBuf::from(".")
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }
}

/// Parses `events=N seconds=S anomalies=A rest_ok=R ...`.
pub fn parse(line: &str) -> Option<PeerResult> {
    let mut r = PeerResult::default();
    let mut seen = 0;
    for (key, value) in line.split_whitespace().filter_map(|kv| kv.split_once('=')) {
        match key {
            "events" => (r.events, seen) = (value.parse().ok()?, seen + 1),
            "seconds" => (r.seconds, seen) = (value.parse().ok()?, seen + 1),
            "anomalies" => r.anomalies = value.parse().ok()?,
            "rest_ok" => r.rest_ok = value.parse().ok()?,
            _ => {}
        }
    }
    (seen == 2).then_some(r)
}

/// Runs the peer against the first `frames` frames of `set`, unpaced.
pub async fn run(python: &Path, set: &Arc<FrameSet>, frames: usize) -> Result<PeerResult, String> {
    let generator = Generator::start().map_err(|e| format!("generator: {e}"))?;
    let rest = RestMock::start().map_err(|e| format!("REST mock: {e}"))?;
    let frames = frames.min(set.frames.len());
    let events: u64 = (0..frames).map(|i| set.events_in(i, set.events())).sum();
    let script = root().join(SCRIPT);
    let mut child = Command::new(python)
        .arg(&script)
        .args(["--port", &generator.addr.port().to_string()])
        .args(["--rest-port", &rest.addr.port().to_string()])
        .args(["--events", &events.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run {} {}: {e}", python.display(), script.display()))?;
    let (done, report) = oneshot::channel();
    generator
        .play(Play {
            set: set.clone(),
            frames: 0..frames,
            pace: None,
            close_after: true,
            done,
        })
        .await?;
    // Generous: the official client decodes a few hundred thousand events/s.
    let limit = Duration::from_secs(60 + events / 20_000);
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("the peer did not finish within {limit:?}"));
            }
            Ok(None) => actix_rt::time::sleep(Duration::from_millis(20)).await,
            Err(e) => return Err(format!("waiting for the peer: {e}")),
        }
    };
    let sent = tokio::time::timeout(Duration::from_secs(5), report).await;
    let slow = matches!(&sent, Ok(Ok(r)) if r.failure.as_deref() == Some("slow consumer"));
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        use std::io::Read;
        let _ = stdout.read_to_string(&mut out);
    }
    rest.stop().await;
    let line = out
        .lines()
        .find(|l| l.starts_with("events="))
        .unwrap_or_default();
    let mut result =
        parse(line).ok_or_else(|| format!("the peer exited with {status} and printed {out:?}"))?;
    result.slow_disconnect = slow;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_line_parses() {
        let r = parse("events=2000000 seconds=12.5 anomalies=7 rest_ok=6 rest_failed=0")
            .expect("parses");
        assert_eq!(r.events, 2_000_000);
        assert!((r.rate() - 160_000.0).abs() < 1e-6);
        assert_eq!((r.anomalies, r.rest_ok), (7, 6));
        assert!(parse("events=5").is_none());
        assert!(parse("events=x seconds=1").is_none());
    }
}
