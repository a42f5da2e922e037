//! A rig: the real pipeline pointed at a load generator and a REST mock, with
//! the latency recorder subscribed and the JSONL sink writing into a FIFO; and
//! how one segment of frames is played through it and accounted for.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tapewatch_actors::events::EventKind;
use tapewatch_actors::metrics::Metrics;
use tapewatch_actors::secret::{ApiKey, Credentials};
use tokio::sync::oneshot;

use super::frames::FrameSet;
use super::generator::{Generator, Play, PlayReport};
use super::latency::{Latency, PhaseLatency, Recorder, SinkTap};
use super::memory::{self, ThreadTimes};
use super::rest_mock::RestMock;
use tapewatch::config::{Config, FeedConfig, StdoutFormat};
use tapewatch::pipeline::Pipeline;

/// How long the pipeline may take to finish a segment after the generator.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// Pipeline counters that a segment is accounted with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    /// Frames read by the WebSocket session.
    pub frames: u64,
    /// Events decoded, all types.
    pub decoded: u64,
    /// Frames shed in front of MessageHandler.
    pub handler_drops: u64,
    /// Batches shed in front of AnomalyDetector.
    pub detector_drops: u64,
    /// Records shed in front of sinks and subscribers.
    pub output_drops: u64,
    /// Alert requests shed in front of RestFetcher.
    pub rest_drops: u64,
    /// Decode problems.
    pub decode_errors: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Upstream reconnections.
    pub reconnects: u64,
}

impl Counters {
    /// Reads the counters now.
    pub fn read(m: &Metrics) -> Counters {
        Counters {
            frames: m.frames.get(),
            decoded: EventKind::ALL.iter().map(|k| m.events(*k).get()).sum(),
            handler_drops: m.dropped("handler").get(),
            detector_drops: m.dropped("detector").get(),
            output_drops: m.dropped("sink").get() + m.dropped("subscriber").get(),
            rest_drops: m.dropped("rest").get(),
            decode_errors: m.decode_errors_total(),
            alerts: m.alerts_total(),
            reconnects: m.reconnects.get(),
        }
    }

    /// The change since `base`.
    pub fn since(self, base: Counters) -> Counters {
        Counters {
            frames: self.frames - base.frames,
            decoded: self.decoded - base.decoded,
            handler_drops: self.handler_drops - base.handler_drops,
            detector_drops: self.detector_drops - base.detector_drops,
            output_drops: self.output_drops - base.output_drops,
            rest_drops: self.rest_drops - base.rest_drops,
            decode_errors: self.decode_errors - base.decode_errors,
            alerts: self.alerts - base.alerts,
            reconnects: self.reconnects - base.reconnects,
        }
    }
}

/// What one segment did.
#[derive(Debug, Clone)]
pub struct SegmentResult {
    /// The generator's side.
    pub sent: PlayReport,
    /// Events per full frame.
    pub events_per_frame: u64,
    /// When the pipeline had finished the segment.
    pub end: Instant,
    /// How `end` was found: `sink`, `subscriber` (marker alert) or `counters`.
    pub end_by: &'static str,
    /// Counter changes over the segment.
    pub counters: Counters,
    /// Spikes in the segment (alerts a correct pipeline raises).
    pub expected_alerts: u64,
    /// Alert latency.
    pub latency: PhaseLatency,
    /// Share of a core per thread.
    pub cpu: Vec<(String, f64)>,
    /// Highest `tapewatch_rest_in_flight` seen.
    pub rest_in_flight_peak: i64,
}

impl SegmentResult {
    /// Seconds from the first frame sent to the pipeline finishing.
    pub fn seconds(&self) -> f64 {
        self.end
            .saturating_duration_since(self.sent.started)
            .as_secs_f64()
    }

    /// Events per second through the whole pipeline: events that reached the
    /// detector, not events sent (shed events are not throughput).
    pub fn rate(&self) -> f64 {
        self.processed() as f64 / self.seconds().max(1e-9)
    }

    /// Events per second the generator offered.
    pub fn offered_rate(&self) -> f64 {
        self.sent.events as f64 / self.seconds().max(1e-9)
    }

    /// Events that were shed, and counted as shed, on the way.
    pub fn counted_drops(&self) -> u64 {
        (self.counters.handler_drops + self.counters.detector_drops) * self.events_per_frame
    }

    /// Events that reached the detector.
    pub fn processed(&self) -> u64 {
        self.counters.decoded - self.counters.detector_drops * self.events_per_frame
    }

    /// Sent events neither processed nor counted as dropped (should be 0).
    pub fn unaccounted(&self) -> i64 {
        self.sent.events as i64 - self.processed() as i64 - self.counted_drops() as i64
    }
}

/// The pipeline and everything around it.
pub struct Rig {
    /// The load generator.
    pub generator: Generator,
    /// The REST server.
    pub rest: RestMock,
    /// The service under test.
    pub pipeline: Pipeline,
    /// Alert latency and markers.
    pub latency: Latency,
    /// Names for threads whose own names say little (the arbiters).
    pub labels: BTreeMap<u32, String>,
    /// The `/ws` hub, when the rig was started with one.
    pub hub: Option<tapewatch::http::HubSlot>,
    tap: SinkTap,
}

impl Rig {
    /// Starts generator, REST mock and pipeline (`tweak` adjusts the
    /// config), and waits until the feed is subscribed.
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> Result<Rig, String> {
        Rig::start_with(tweak, false).await
    }

    /// Like [`Rig::start`], with the `/ws` hub subscribed to the pipeline
    /// when `hub` is true (serving it is up to the caller).
    pub async fn start_with(tweak: impl FnOnce(&mut Config), hub: bool) -> Result<Rig, String> {
        let generator = Generator::start().map_err(|e| format!("generator: {e}"))?;
        let rest = RestMock::start().map_err(|e| format!("REST mock: {e}"))?;
        let latency = Latency::default();
        let tap = SinkTap::start(latency.clone()).map_err(|e| format!("sink FIFO: {e}"))?;
        let mut config = Config {
            feeds: vec![FeedConfig {
                name: "stocks".to_owned(),
                url: generator.url(),
                subscribe: vec!["T.*".to_owned()],
            }],
            ..Config::default()
        };
        config.rest.base_url = rest.url();
        config.output.stdout = StdoutFormat::Off;
        config.output.alerts_file = Some(tap.path.clone());
        config.pipeline.progress_interval_s = 0;
        config.connection.backoff_min_ms = 50;
        config.connection.backoff_max_ms = 500;
        tweak(&mut config);
        config.validate("bench").map_err(|e| e.to_string())?;
        let l = latency.clone();
        let recorder = Recorder::create(move |ctx| {
            ctx.set_mailbox_capacity(1 << 16);
            Recorder(l)
        });
        let before = memory::thread_times();
        let hub_queue = config.http.hub_queue;
        let mut builder = tapewatch::app::builder(config, Credentials::key(ApiKey::new("bench")))
            .subscribe_outputs(recorder.recipient());
        if hub {
            builder = builder.with_hub(hub_queue);
        }
        let pipeline = builder.start().map_err(|e| format!("pipeline: {e}"))?;
        let hub = pipeline.hub();
        let labels = arbiter_labels(&before, &memory::thread_times());
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pipeline.ready().await {
            if Instant::now() > deadline {
                return Err("the pipeline did not subscribe within 10 s".to_owned());
            }
            actix_rt::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(Rig {
            generator,
            rest,
            pipeline,
            latency,
            labels,
            hub,
            tap,
        })
    }

    /// Plays segment `seg` of `set` and waits until the pipeline finished it.
    pub async fn run_segment(
        &self,
        set: &Arc<FrameSet>,
        seg: usize,
        pace: Option<u64>,
    ) -> Result<SegmentResult, String> {
        let segment = set.segments.get(seg).ok_or("no such segment")?.clone();
        let metrics = &self.pipeline.metrics;
        let base = Counters::read(metrics);
        let phase = self.latency.begin_phase(segment.marker.clone());
        let cpu_before = memory::thread_times();
        let (done, mut report) = oneshot::channel();
        let play = Play {
            set: set.clone(),
            frames: segment.frames.clone(),
            pace,
            close_after: false,
            done,
        };
        self.generator.play(play).await?;
        // Far beyond any rate seen here: a play this late is stuck.
        let play_limit = Instant::now() + Duration::from_secs(60 + segment.events / 100_000);
        let mut peak = 0;
        let sent = loop {
            peak = peak.max(metrics.rest_in_flight.get());
            if Instant::now() > play_limit {
                return Err("the generator did not finish the play in time".to_owned());
            }
            tokio::select! {
                r = &mut report => break r.map_err(|_| "the generator stopped mid-play")?,
                _ = actix_rt::time::sleep(Duration::from_millis(2)) => {}
            }
        };
        let epf = set.events_per_frame as u64;
        let deadline = Instant::now() + DRAIN_LIMIT;
        let (end, end_by) = loop {
            peak = peak.max(metrics.rest_in_flight.get());
            let c = Counters::read(metrics).since(base);
            let accounted = c.decoded + c.handler_drops * epf >= sent.events;
            let (seen, written) = self.latency.marker();
            // A shed frame may have held the marker: then the counters alone
            // tell when the pipeline is done.
            let shed = c.handler_drops + c.detector_drops > 0;
            let want_marker = segment.marker.is_some() && sent.failure.is_none() && !shed;
            match (written, seen) {
                (Some(at), _) if accounted => break (at, "sink"),
                (None, Some(at)) if accounted && Instant::now() > deadline => {
                    break (at, "subscriber")
                }
                _ if accounted && (!want_marker || Instant::now() > deadline) => {
                    break (Instant::now(), "counters")
                }
                _ if Instant::now() > deadline + DRAIN_LIMIT => break (Instant::now(), "timeout"),
                _ => actix_rt::time::sleep(Duration::from_millis(1)).await,
            }
        };
        // Let the last records reach the subscriber before reading.
        actix_rt::time::sleep(Duration::from_millis(50)).await;
        let seconds = end.saturating_duration_since(sent.started).as_secs_f64();
        let cpu_after = memory::thread_times();
        // actix-web starts the REST mock's worker lazily, after the rig
        // labelled its threads: any other actix thread is that worker.
        let mut labels = self.labels.clone();
        for (tid, (name, _)) in &cpu_after {
            if name.starts_with("actix-rt") && !labels.contains_key(tid) {
                labels.insert(*tid, "REST mock (actix-web worker)".to_owned());
            }
        }
        let cpu = memory::cpu_shares(&cpu_before, &cpu_after, seconds, &labels);
        Ok(SegmentResult {
            events_per_frame: epf,
            end,
            end_by,
            counters: Counters::read(metrics).since(base),
            expected_alerts: segment.anomalies,
            latency: self.latency.phase(phase),
            cpu,
            rest_in_flight_peak: peak,
            sent,
        })
    }

    /// Symbols the detector tracks now.
    pub fn symbols_tracked(&self) -> i64 {
        self.pipeline.metrics.symbols_tracked.get()
    }

    /// Shuts the pipeline down and stops the servers.
    pub async fn stop(self) {
        self.pipeline.shutdown(Duration::from_millis(200)).await;
        self.tap.stop();
        self.rest.stop().await;
        drop(self.generator);
    }
}

/// The pipeline starts its arbiters in this order: hot, io, then decode (when
/// `pipeline.decode_thread` is on); actix names the threads alike (and Linux
/// cuts the name to 15 bytes), so they are told apart by creation order.
fn arbiter_labels(before: &ThreadTimes, after: &ThreadTimes) -> BTreeMap<u32, String> {
    let mut labels = BTreeMap::new();
    let decode = tapewatch::config::Config::default().pipeline.decode_thread;
    let names: &[&str] = if decode {
        &[
            "hot arbiter (ws+detect)",
            "io arbiter (rest+sinks)",
            "decode arbiter (decode)",
        ]
    } else {
        &["hot arbiter (ws+decode+detect)", "io arbiter (rest+sinks)"]
    };
    let new = memory::new_threads(before, after);
    for ((tid, _), label) in new
        .iter()
        .filter(|(_, n)| n.starts_with("actix-rt"))
        .zip(names.iter())
    {
        labels.insert(*tid, (*label).to_owned());
    }
    labels.insert(std::process::id(), "main (latency subscriber)".to_owned());
    labels
}
