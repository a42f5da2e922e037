//! Recording a live run and replaying it: the same alerts, the key never on
//! disk, clear errors for unusable paths.

mod support;

use std::path::Path;
use std::time::Duration;

use tapewatch::actors::recording::source::{recording_files, Recording};
use tapewatch::config::{Config, StdoutFormat};
use tapewatch::replay::{self, Window};
use tapewatch_sim::{self as sim, ScriptConfig, SimConfig};

use support::{collector, config_for, eventually, key, Received};

const TRADES: u64 = 12_000;
const SECRET: &str = "rec0rd-k3y-that-must-never-reach-disk";

/// What makes two alerts the same finding.
type AlertKey = (String, String, String, i64, u64);

fn alert_key(symbol: &str, kind: &str, scope: &str, time: i64, observed: f64) -> AlertKey {
    (
        symbol.to_owned(),
        kind.to_owned(),
        scope.to_owned(),
        time,
        observed.to_bits(),
    )
}

/// The alerts in a JSONL alerts file.
fn alerts_in(path: &Path) -> Vec<AlertKey> {
    let text = std::fs::read_to_string(path).expect("alerts file");
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .filter(|v| v["type"] == "alert")
        .map(|v| {
            alert_key(
                v["symbol"].as_str().unwrap_or_default(),
                v["kind"].as_str().unwrap_or_default(),
                v["scope"].as_str().unwrap_or_default(),
                v["event_time_ms"].as_i64().unwrap_or_default(),
                v["observed"].as_f64().unwrap_or_default(),
            )
        })
        .collect()
}

/// Every byte of the recording under `dir`, raw and decompressed.
fn everything_on_disk(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for p in recording_files(dir).expect("listed") {
        let bytes = std::fs::read(&p).expect("read");
        out.extend(zstd::decode_all(&bytes[..]).expect("whole zstd frames"));
        out.extend(bytes);
    }
    out
}

/// The live alerts as keys.
fn keys_of(alerts: &[std::sync::Arc<tapewatch::actors::messages::Anomaly>]) -> Vec<AlertKey> {
    let mut keys: Vec<AlertKey> = alerts
        .iter()
        .map(|a| {
            let scope = serde_json::to_value(a.scope).expect("scope");
            alert_key(
                &a.symbol,
                a.kind.label(),
                scope.as_str().unwrap_or_default(),
                a.event_time_ms,
                a.observed,
            )
        })
        .collect();
    keys.sort();
    keys
}

/// Watches `config`'s feeds until every trade of the script is decoded and
/// every alert enriched, and returns the alerts, sorted.
async fn watch(config: Config) -> Vec<AlertKey> {
    let (outputs, mut rx) = collector();
    let pipeline = tapewatch::app::builder(config, key(SECRET))
        .subscribe_outputs(outputs)
        .start()
        .expect("pipeline starts");
    // Every trade of the script checked by the detector: the alerts are final.
    let checked = pipeline.metrics.detector_events.clone();
    assert!(
        eventually(Duration::from_secs(60), || checked.get() == 2 * TRADES).await,
        "checked {} of {} trades",
        checked.get(),
        2 * TRADES
    );
    let raised = usize::try_from(pipeline.metrics.alerts_total()).expect("fits");
    assert!(raised > 0);
    let mut live = Received::default();
    let settled = live
        .until(&mut rx, Duration::from_secs(30), |r| {
            r.alerts.len() == raised && r.enrichments.len() >= raised
        })
        .await;
    assert!(settled, "alerts {:?}", live.alerts);
    assert_eq!(pipeline.metrics.dropped_total(), 0);
    pipeline.shutdown(Duration::from_secs(2)).await;
    keys_of(&live.alerts)
}

/// Records a live run against the simulator into `tape`; returns the
/// config it ran with and its alerts.
async fn record_live_run(tape: &Path) -> (Config, Vec<AlertKey>) {
    let sim = sim::start(SimConfig {
        key: Some(tapewatch::actors::secret::ApiKey::new(SECRET)),
        script: ScriptConfig {
            total_events: Some(TRADES),
            quotes: false,
            ..ScriptConfig::default()
        },
        // Paced, with the script's own event times: what the detector sees
        // does not depend on when the frames happened to arrive.
        events_per_second: Some(40_000),
        script_time: true,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let mut config = config_for(&sim, &["stocks", "options"]);
    config.record.dir = Some(tape.to_owned());
    let alerts = watch(config.clone()).await;
    sim.stop().await;
    config.record.dir = None;
    (config, alerts)
}

#[actix::test]
async fn a_replayed_recording_raises_exactly_the_live_alerts_and_never_holds_the_key() {
    let tape = tempfile::tempdir().expect("tempdir");
    let (config, expected) = record_live_run(tape.path()).await;

    // The key went out in the auth message and nowhere else.
    let disk = everything_on_disk(tape.path());
    assert!(!disk.is_empty());
    let needle = SECRET.as_bytes();
    assert!(
        !disk.windows(needle.len()).any(|w| w == needle),
        "the key reached the disk"
    );
    let text = String::from_utf8_lossy(&disk);
    assert!(
        text.contains(r#""out":"[redacted]""#),
        "the auth is recorded redacted"
    );
    assert!(text.contains(r#""ev":"subscribed","topic":"T.*""#));
    assert!(text.contains(r#""ev":"connected""#));

    // Replay as fast as possible, through a config like the live one.
    let out = tempfile::tempdir().expect("tempdir");
    let alerts_file = out.path().join("alerts.jsonl");
    let mut replay_config = config;
    replay_config.output.alerts_file = Some(alerts_file.clone());
    replay_config.output.stdout = StdoutFormat::Off;
    let recording = Recording::open(tape.path()).expect("the recording opens");
    let done = replay::replay(replay_config, key(""), recording, Window::default())
        .await
        .expect("replay runs");
    let mut got = alerts_in(&alerts_file);
    got.sort();
    assert_eq!(got, expected, "replay raises the live run's alerts");
    assert_eq!(done.summary.alerts, expected.len() as u64);
    assert_eq!(done.summary.input.events, 2 * TRADES);
    assert_eq!(done.summary.input.dropped, 0);
    assert_eq!(done.summary.input.problems.values().sum::<u64>(), 0);
}

#[actix::test]
async fn a_recording_served_as_a_live_feed_raises_the_same_alerts() {
    let tape = tempfile::tempdir().expect("tempdir");
    let (mut config, expected) = record_live_run(tape.path()).await;
    let server = tapewatch_sim::tape::start(tapewatch_sim::tape::TapeConfig {
        path: tape.path().to_owned(),
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        key: Some(tapewatch::actors::secret::ApiKey::new(SECRET)),
        speed: 1.0,
    })
    .await
    .expect("the recording is served");
    assert_eq!(server.feeds, ["options", "stocks"]);
    for feed in &mut config.feeds {
        feed.url = server.ws_url(&feed.name);
    }
    let got = watch(config).await;
    server.stop().await;
    assert_eq!(
        got, expected,
        "the served recording raises the live run's alerts"
    );
}

#[test]
fn unusable_paths_exit_with_status_2_and_say_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-recording");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tapewatch"))
        .args(["replay", missing.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no such file or directory"), "{stderr}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tapewatch"))
        .args(["replay", dir.path().to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no recording files"));

    // A file where the recording directory should be.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tapewatch"))
        .args(["run", "--feed-url", "ws://127.0.0.1:9/stocks"])
        .args(["--http-bind", "127.0.0.1:0", "--record"])
        .arg(&file)
        .env("POLYGON_API_KEY", "k")
        .env("TAPEWATCH_LOG", "off")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot record into"), "{stderr}");
}

/// A one-feed recording of `frames` one-trade frames, `step_ms` apart in
/// receive time, in zstd frames of about `zstd_frame` bytes.
fn synthetic_recording(dir: &Path, frames: u64, step_ms: u64, zstd_frame: usize) -> u64 {
    use tapewatch::actors::recording::hour_file::{FileSettings, HourFiles};
    use tapewatch::actors::recording::{encode, Entry, Stamped};
    let settings = FileSettings {
        level: 1,
        frame_bytes: zstd_frame,
        frame_interval: Duration::from_secs(60),
    };
    let mut files = HourFiles::new(dir, "stocks", "polygon", settings);
    // Mid-hour, so the recording stays in one file.
    let start = 1_764_350_000_000_000_000u64;
    for i in 0..frames {
        let t = start + i * step_ms * 1_000_000;
        let frame = format!(
            r#"[{{"ev":"T","sym":"AAPL","p":100,"s":10,"t":{}}}]"#,
            t / 1_000_000
        );
        let mut line = Vec::new();
        let stamped = Stamped {
            t_ns: t,
            conn: 1,
            entry: Entry::Received(frame.into()),
        };
        encode(&stamped, &mut line);
        files.write(t, &line).expect("write");
    }
    files.close().expect("close");
    start
}

fn quiet_config() -> Config {
    let mut config = Config::default();
    config.output.stdout = StdoutFormat::Off;
    config.pipeline.progress_interval_s = 0;
    config
}

#[actix::test]
async fn replay_keeps_the_original_pace_at_speed_1_and_honours_the_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 21 frames 25 ms apart: 500 ms of receive time.
    let start = synthetic_recording(dir.path(), 21, 25, 1 << 20);
    let open = || Recording::open(dir.path()).expect("opens");
    let run = |window: Window| replay::replay(quiet_config(), key(""), open(), window);

    let fast = run(Window::default()).await.expect("replays");
    assert_eq!(fast.summary.input.events, 21);
    let paced = run(Window {
        speed: 1.0,
        ..Window::default()
    })
    .await
    .expect("replays");
    assert_eq!(paced.summary.input.events, 21);
    assert!(
        paced.elapsed >= Duration::from_millis(480),
        "the original pace: {:?}",
        paced.elapsed
    );
    let quick = run(Window {
        speed: 5.0,
        ..Window::default()
    })
    .await
    .expect("replays");
    assert!(
        quick.elapsed >= Duration::from_millis(96) && quick.elapsed < paced.elapsed,
        "five times faster: {:?} vs {:?}",
        quick.elapsed,
        paced.elapsed
    );
    // Frames 4 to 10 inclusive.
    let window = run(Window {
        speed: 0.0,
        from_ns: Some(start + 100_000_000),
        to_ns: Some(start + 250_000_000),
    })
    .await
    .expect("replays");
    assert_eq!(window.summary.input.frames, 7);
    assert_eq!(window.summary.input.events, 7);
}

#[test]
fn a_damaged_recording_replays_what_it_can_and_reports_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Small zstd frames: a cut costs the last one alone.
    synthetic_recording(dir.path(), 200, 1, 1024);
    let file = recording_files(dir.path()).expect("listed").remove(0);
    // A crash while recording: the last frame is cut short.
    let bytes = std::fs::read(&file).expect("read");
    std::fs::write(&file, &bytes[..bytes.len() - 30]).expect("truncate");
    let summary = dir.path().join("summary.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tapewatch"))
        .args(["replay", "--format", "off", "--summary", "--summary-json"])
        .arg(&summary)
        .arg(dir.path().join("stocks"))
        .env_remove("POLYGON_API_KEY")
        .env_remove("MASSIVE_API_KEY")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&file.display().to_string()),
        "names the file: {stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("symbol"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).expect("summary written")).expect("JSON");
    assert_eq!(json["input"]["problems"]["truncated"], 1, "{json}");
    let events = json["input"]["events"].as_u64().expect("events");
    assert!(events > 0 && events < 200, "{events} events replayed");
}
