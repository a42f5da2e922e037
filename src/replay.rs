//! `tapewatch replay PATH`: runs a recording through the same pipeline as
//! `tapewatch run` (MessageHandler → AnomalyDetector → RestFetcher → sinks,
//! with the same config keys), fed by a replay source instead of the
//! sockets, and exits once the recording ended and the last alert was
//! enriched.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tapewatch_actors::recording::source::Recording;
use tapewatch_actors::secret::Credentials;

use crate::config::{Config, FeedConfig};
use crate::pipeline::Pipeline;
use crate::service::SHUTDOWN_GRACE;

mod command;
mod driver;
mod summary;

pub use command::{run, ReplayArgs};
pub use driver::Window;
pub use summary::{AlertTally, InputReport, Summary, TakeSummary};

/// Alerts that may wait for the summary's tally.
const TALLY_MAILBOX: usize = 65_536;

/// Longest wait for the last enrichments once the recording has ended.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

/// What a replay did.
#[derive(Debug)]
pub struct Replayed {
    /// Alerts per kind and symbol, and what was read.
    pub summary: Summary,
    /// How long the replay took.
    pub elapsed: Duration,
}

/// Why a replay could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The recording cannot be read (missing, empty).
    #[error(transparent)]
    Open(#[from] tapewatch_actors::recording::source::OpenError),
    /// A flag or the configuration cannot be used.
    #[error("{0}")]
    Config(String),
    /// The pipeline did not start.
    #[error(transparent)]
    Start(#[from] crate::app::StartError),
}

/// Replays `recording` through a pipeline built from `config`: the
/// configured feeds are replaced by the recording's, and nothing is
/// recorded or served over HTTP.
pub async fn replay(
    mut config: Config,
    credentials: Credentials,
    mut recording: Recording,
    window: Window,
) -> Result<Replayed, ReplayError> {
    let feeds = recording.feeds();
    if let Some(provider) = feeds.iter().map(|f| &f.provider).find(|p| !p.is_empty()) {
        config.provider = provider.clone();
    }
    config.feeds = feeds
        .iter()
        .map(|f| FeedConfig {
            name: f.name.clone(),
            url: "ws://replay.invalid/".to_owned(),
            subscribe: Vec::new(),
        })
        .collect();
    config.record.dir = None;
    config.http.enabled = false;
    config
        .validate("replay")
        .map_err(|e| ReplayError::Config(e.to_string()))?;
    let queues = config.pipeline.clone();
    let provider = config.provider.clone();
    let tally = AlertTally::create(|ctx| {
        ctx.set_mailbox_capacity(TALLY_MAILBOX);
        AlertTally::default()
    });
    let pipeline = crate::app::builder(config, credentials)
        .replay()
        .subscribe_outputs(tally.clone().recipient())
        .start()?;
    let inputs: Vec<Option<driver::Input>> = feeds
        .iter()
        .map(|f| {
            let (_, frames) = pipeline
                .replay_inputs()
                .iter()
                .find(|(n, _)| **n == *f.name)?;
            Some(driver::Input {
                frames: frames.clone(),
                provider: tapewatch_actors::provider::by_name(&provider)?,
            })
        })
        .collect();
    let gate = driver::Gate::new(&pipeline.metrics, &queues);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let thread_stop = stop.clone();
    let spawned = std::thread::Builder::new()
        .name("tapewatch-replay".into())
        .spawn(move || {
            let driven = driver::drive(&mut recording, &inputs, &gate, window, &thread_stop);
            let _ = done_tx.send((driven, recording));
        });
    if let Err(e) = spawned {
        pipeline.shutdown(SHUTDOWN_GRACE).await;
        return Err(ReplayError::Config(format!(
            "cannot start the replay thread: {e}"
        )));
    }
    let (driven, recording) = tokio::select! {
        done = done_rx => done.map_err(|_| ReplayError::Config("the replay thread died".into()))?,
        () = crate::service::signals() => {
            stop.store(true, Ordering::Relaxed);
            pipeline.shutdown(SHUTDOWN_GRACE).await;
            return Err(ReplayError::Config("interrupted".into()));
        }
    };
    drain(&pipeline).await;
    let elapsed = started.elapsed();
    let metrics = pipeline.metrics.clone();
    let mut summary = tally.send(TakeSummary).await.unwrap_or_default();
    pipeline.shutdown(SHUTDOWN_GRACE).await;
    summary.input = InputReport {
        files: recording.files_read,
        frames: driven.frames,
        events: tapewatch_actors::events::EventKind::ALL
            .iter()
            .map(|k| metrics.events(*k).get())
            .sum(),
        problems: recording
            .issues
            .counts()
            .map(|(k, n)| (k.label(), n))
            .collect(),
        recorder_gaps: recording.lost,
        dropped: metrics.dropped_total(),
    };
    if driven.unrouted > 0 {
        tracing::warn!(
            frames = driven.unrouted,
            "frames of a feed without a handler were skipped"
        );
    }
    Ok(Replayed { summary, elapsed })
}

/// Waits until every frame is decoded and checked and every alert has its
/// enrichment (or [`DRAIN_LIMIT`] passed). The detector counts the events
/// it has finished with, so "checked" is exact: a queue that reads empty may
/// still have its last message in hand.
async fn drain(pipeline: &Pipeline) {
    let m = &pipeline.metrics;
    let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
    let idle = || {
        let decoded: u64 = tapewatch_actors::events::EventKind::ALL
            .iter()
            .map(|k| m.events(*k).get())
            .sum();
        // A batch shed on the way (never by the replay's own pacing) is
        // never checked; then the queues alone tell.
        let checked = m.detector_events.get() >= decoded || m.dropped("detector").get() > 0;
        let queued: i64 = ["handler", "detector", "rest", "sink"]
            .iter()
            .map(|s| m.depth(s).get())
            .sum();
        let enriched: u64 = tapewatch_actors::messages::EnrichStatus::ALL
            .iter()
            .map(|s| m.enrichments(*s).get())
            .sum::<u64>()
            + m.enrichments_lost.get();
        checked && queued <= 0 && m.rest_in_flight.get() <= 0 && enriched >= m.alerts_total()
    };
    while !idle() {
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!("gave up waiting for the last enrichments");
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
