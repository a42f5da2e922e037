//! A real `nats-server` with JetStream for a test: started on a port the OS
//! picks on loopback, with a temporary store, and killed when dropped.
//!
//! The binary comes from `TAPEWATCH_NATS_SERVER` (set by `scripts/test`, which
//! installs it) or from the project's `.venv`; without either the test fails
//! with a message saying how to get it, rather than passing without a server.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use async_nats::jetstream;
use serde_json::Value;
use tapewatch::actors::events::EventKind;
use tapewatch::actors::secret::ApiKey;
use tapewatch::nats::{ALERTS_STREAM, ALERTS_SUBJECT, ENRICHMENTS_SUBJECT};
use tapewatch_sim::{self as sim, ScriptConfig, SimConfig, SimHandle};

use super::{collector, config_for, eventually, key, Received};

/// Trades per feed in the scripts of the NATS tests.
pub const TRADES: u64 = 6_000;

/// A simulator playing the NATS tests' finite script.
pub async fn script_sim() -> SimHandle {
    sim::start(SimConfig {
        key: Some(ApiKey::new("k")),
        script: ScriptConfig {
            total_events: Some(TRADES),
            quotes: false,
            ..ScriptConfig::default()
        },
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// A running nats-server.
pub struct NatsServer {
    child: Child,
    /// `nats://127.0.0.1:PORT`.
    pub url: String,
    _store: tempfile::TempDir,
}

fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TAPEWATCH_NATS_SERVER") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/nats-server");
    assert!(
        venv.exists(),
        "no nats-server: run scripts/test, or scripts/nats-server and set \
         TAPEWATCH_NATS_SERVER to the path it prints"
    );
    venv
}

impl NatsServer {
    /// Starts a server and waits until it accepts clients.
    pub fn start() -> NatsServer {
        let store = tempfile::tempdir().expect("temporary store");
        let mut child = Command::new(binary())
            .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nats-server starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        // The server logs to stderr; the thread keeps draining it so the
        // server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let marker = "Listening for client connections on ";
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let url = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(at) = line.find(marker) {
                        break format!("nats://{}", &line[at + marker.len()..]);
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("nats-server did not start listening within 15 s");
                }
            }
        };
        NatsServer {
            child,
            url,
            _store: store,
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The messages of the alerts stream: subject → (Nats-Msg-Id → JSON).
pub type Stored = BTreeMap<String, BTreeMap<String, Value>>;

pub async fn stored(url: &str) -> Stored {
    let client = tokio::time::timeout(Duration::from_secs(5), async_nats::connect(url))
        .await
        .expect("connects in time")
        .expect("connects");
    let js = jetstream::new(client);
    let mut stream = js.get_stream(ALERTS_STREAM).await.expect("stream exists");
    let last = stream
        .info()
        .await
        .expect("stream info")
        .state
        .last_sequence;
    let mut out = Stored::new();
    for seq in 1..=last {
        let msg = stream.get_raw_message(seq).await.expect("stored message");
        let id = msg
            .headers
            .get("Nats-Msg-Id")
            .expect("every message has an id")
            .to_string();
        let json: Value = serde_json::from_slice(&msg.payload).expect("JSON payload");
        let previous = out
            .entry(msg.subject.to_string())
            .or_default()
            .insert(id.clone(), json);
        assert!(previous.is_none(), "message id {id} stored twice");
    }
    out
}

/// A sample's value in Prometheus text, 0 when absent.
pub fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

/// Runs the pipeline on a fresh simulator with the same script until every
/// alert and enrichment was acknowledged by JetStream; returns what it
/// produced and how many of its publishes JetStream called duplicates.
pub async fn run_once(nats: &str) -> (Received, u64) {
    let sim = script_sim().await;
    let mut config = config_for(&sim, &["stocks", "options"]);
    config.nats.url = Some(nats.to_owned());
    let (outputs, mut rx) = collector();
    let pipeline = tapewatch::app::builder(config, key("k"))
        .subscribe_outputs(outputs)
        .start()
        .expect("pipeline starts");
    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    assert!(
        eventually(Duration::from_secs(60), || trades.get() == 2 * TRADES).await,
        "decoded {} of {} trades",
        trades.get(),
        2 * TRADES
    );
    // Every batch reached the detector once its queue is empty; from then on
    // the alert count is final, and everything is out once JetStream
    // acknowledged one message per alert and per enrichment.
    let depth = pipeline.metrics.depth("detector");
    assert!(
        eventually(Duration::from_secs(30), || depth.get() == 0).await,
        "the detector's queue drains"
    );
    let metrics = pipeline.metrics.clone();
    let settled = move || {
        let text = metrics.render();
        let published: u64 = [ALERTS_SUBJECT, ENRICHMENTS_SUBJECT]
            .iter()
            .map(|s| {
                metric(
                    &text,
                    &format!("tapewatch_nats_published_total{{subject=\"{s}\"}}"),
                )
            })
            .sum();
        let alerts = metrics.alerts_total();
        alerts > 0 && published == 2 * alerts
    };
    assert!(
        eventually(Duration::from_secs(30), &settled).await,
        "every alert and its enrichment published"
    );
    let alerts = pipeline.metrics.alerts_total() as usize;
    let mut got = Received::default();
    let complete = got
        .until(&mut rx, Duration::from_secs(30), |r| {
            r.alerts.len() == alerts && r.enrichments.len() == alerts
        })
        .await;
    assert!(complete, "every alert enriched: {got:?}");
    let text = pipeline.metrics.render();
    assert_eq!(metric(&text, "tapewatch_dropped_total{stage=\"nats\"}"), 0);
    let duplicates = metric(&text, "tapewatch_nats_duplicates_total");
    pipeline.shutdown(Duration::from_secs(2)).await;
    sim.stop().await;
    (got, duplicates)
}
