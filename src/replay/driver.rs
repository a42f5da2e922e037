//! The replay source: a thread of its own that reads the recording
//! (decompressing beside the pipeline's threads), paces it, and hands each
//! frame to its feed's MessageHandler in place of a WsSession.
//!
//! A live session must shed when the pipeline falls behind, because the
//! provider will not wait; a replay can wait, and must, or a replay as fast
//! as possible would shed what the live run kept. So the driver holds each
//! frame back while the queues after it are half full: frames waiting to be
//! decoded plus batches waiting for the detector stay under half the
//! detector's queue (one frame makes at most one batch), and the REST and
//! sink queues under half theirs. Nothing is shed that a live run of the
//! same pace would have kept.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus::IntGauge;
use tapewatch_actors::messages::RawFrame;
use tapewatch_actors::metrics::Metrics;
use tapewatch_actors::provider::Provider;
use tapewatch_actors::recording::source::Recording;
use tapewatch_actors::stage::StageSender;

use crate::config::PipelineConfig;

/// How long the driver waits before it looks at a full queue again.
const BACK_OFF: Duration = Duration::from_micros(50);

/// One feed's way into the pipeline.
pub struct Input {
    /// Its MessageHandler.
    pub frames: StageSender<RawFrame>,
    /// Its provider, which tells control replies from data as the session does.
    pub provider: Arc<dyn Provider>,
}

/// Which part of the recording is replayed, and how fast.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    /// 0: as fast as possible; 1: the original pace; K: K times faster.
    pub speed: f64,
    /// Frames received before this (ns since the epoch) are skipped.
    pub from_ns: Option<u64>,
    /// Frames received after this end the replay.
    pub to_ns: Option<u64>,
}

/// What the driver did.
#[derive(Debug, Default)]
pub struct Driven {
    /// Frames handed to the pipeline.
    pub frames: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Receive time of the first and last frame replayed.
    pub span_ns: Option<(u64, u64)>,
    /// Frames of feeds the pipeline has no handler for.
    pub unrouted: u64,
    /// Control replies (auth, subscription acks): the session keeps them
    /// from the handler, and so does the replay.
    pub control: u64,
}

/// Holds frames back while the pipeline's queues are half full.
pub struct Gate {
    decode: (IntGauge, IntGauge, i64),
    rest: (IntGauge, i64),
    sink: (IntGauge, i64),
}

impl Gate {
    /// The gate over `metrics`' queue depths, with the configured capacities.
    pub fn new(metrics: &Metrics, queues: &PipelineConfig) -> Self {
        let half = |n: usize| i64::try_from(n / 2).unwrap_or(i64::MAX).max(1);
        Gate {
            decode: (
                metrics.depth("handler"),
                metrics.depth("detector"),
                half(queues.detector_queue.min(queues.handler_queue)),
            ),
            rest: (metrics.depth("rest"), half(queues.rest_queue)),
            sink: (metrics.depth("sink"), half(queues.sink_queue)),
        }
    }

    fn open(&self) -> bool {
        let (handler, detector, limit) = &self.decode;
        handler.get() + detector.get() < *limit
            && self.rest.0.get() < self.rest.1
            && self.sink.0.get() < self.sink.1
    }

    /// Waits until the pipeline has room or `stop` is set.
    fn wait(&self, stop: &AtomicBool) {
        while !self.open() && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(BACK_OFF);
        }
    }
}

/// Replays `recording` into `inputs` (by the recording's feed index; `None`
/// for a feed without a handler) until it ends or `stop` is set.
pub fn drive(
    recording: &mut Recording,
    inputs: &[Option<Input>],
    gate: &Gate,
    window: Window,
    stop: &Arc<AtomicBool>,
) -> Driven {
    let mut driven = Driven::default();
    let mut clock: Option<(Instant, u64)> = None;
    for record in recording.by_ref() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if window.from_ns.is_some_and(|from| record.t_ns < from) {
            continue;
        }
        if window.to_ns.is_some_and(|to| record.t_ns > to) {
            break;
        }
        let Some(Some(input)) = inputs.get(record.feed) else {
            driven.unrouted += 1;
            continue;
        };
        if !input.provider.control(&record.frame).has_data {
            driven.control += 1;
            continue;
        }
        if window.speed > 0.0 {
            let (start, first) = *clock.get_or_insert((Instant::now(), record.t_ns));
            let offset = record.t_ns.saturating_sub(first) as f64 / window.speed;
            let due = start + Duration::from_nanos(offset as u64);
            sleep_until(due, stop);
        }
        gate.wait(stop);
        driven.frames += 1;
        driven.bytes += record.frame.len() as u64;
        let span = driven.span_ns.get_or_insert((record.t_ns, record.t_ns));
        span.1 = record.t_ns;
        let mut frame = RawFrame {
            bytes: record.frame,
            received_at: Instant::now(),
        };
        while let Err(back) = input.frames.offer_or_return(frame) {
            if stop.load(Ordering::Relaxed) {
                return driven;
            }
            frame = back;
            std::thread::sleep(BACK_OFF);
        }
    }
    driven
}

/// Sleeps until `due`, in slices, so a stop request is noticed.
fn sleep_until(due: Instant, stop: &AtomicBool) {
    loop {
        let now = Instant::now();
        if now >= due || stop.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep((due - now).min(Duration::from_millis(100)));
    }
}
