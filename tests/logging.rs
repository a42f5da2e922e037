//! The log under hostile input: a provider that repeats an error frame is
//! counted every time but logged a few times per interval, as bad frames are,
//! and `--log-format json` gives one JSON object per line.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tapewatch::actors::events::EventKind;
use tapewatch::logging::{self, LogFormat};
use tapewatch_sim::{self as sim, Faults, GarbageKind, ScriptConfig, SimConfig};
use tracing_subscriber::fmt::MakeWriter;

use support::{config_for, eventually, key};

/// Every log line of the process, in memory.
#[derive(Clone, Default)]
struct Memory(Arc<Mutex<Vec<u8>>>);

impl Memory {
    fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl std::io::Write for Memory {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Memory {
    type Writer = Memory;
    fn make_writer(&'a self) -> Memory {
        self.clone()
    }
}

#[actix::test]
async fn repeated_provider_errors_are_counted_every_time_and_logged_a_few_times() {
    let memory = Memory::default();
    let (filter, _) = logging::filter(Some("warn"));
    // The pipeline logs from its own threads: the subscriber is process-wide,
    // and this file holds this one test.
    tracing::subscriber::set_global_default(logging::subscriber(
        filter,
        LogFormat::Json,
        false,
        memory.clone(),
    ))
    .expect("the only subscriber of this test binary");
    const TRADES: u64 = 20_000;
    let sim = sim::start(SimConfig {
        faults: Faults {
            garbage_every: Some(3),
            // Under the 16 MiB frame limit: an over-size frame would end the
            // connection and lose what follows it in flight.
            oversize_bytes: 1 << 20,
            ..Faults::default()
        },
        script: ScriptConfig {
            total_events: Some(TRADES),
            quotes: false,
            ..ScriptConfig::default()
        },
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let pipeline = tapewatch::app::builder(config_for(&sim, &["stocks"]), key("k"))
        .start()
        .expect("pipeline starts");
    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    assert!(
        eventually(Duration::from_secs(60), || {
            sim.stats.events_sent(sim::Market::Stocks) == TRADES && trades.get() >= TRADES
        })
        .await,
        "every trade arrived"
    );
    let errors = sim.stats.garbage_sent(GarbageKind::StatusError);
    let notices = pipeline.metrics.notice("error").clone();
    assert!(eventually(Duration::from_secs(10), || notices.get() == errors).await);
    assert!(
        errors > 50,
        "the provider repeated its error {errors} times"
    );
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;

    let lines = memory.lines();
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let message = |v: &serde_json::Value| v["fields"]["message"].as_str().unwrap_or("").to_owned();
    let provider_errors = parsed
        .iter()
        .filter(|v| message(v) == "provider reported an error")
        .count();
    // Bad frames and provider errors share one limiter of 5 lines per 10 s
    // per connection; the run takes well under a minute.
    let per_frame: usize = parsed
        .iter()
        .filter(|v| v["fields"]["feed"] == "stocks" && v["fields"].get("suppressed").is_some())
        .count();
    assert!(
        per_frame <= 30 && provider_errors <= per_frame,
        "{provider_errors} provider error lines, {per_frame} rate-limited lines for {errors} errors"
    );
}
