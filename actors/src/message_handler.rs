//! MessageHandler: turns raw frames into typed event batches.
//!
//! One frame in, at most one [`Events`] batch out, shared by every recipient
//! through an `Arc`, so the per-event cost is the decode alone. Problems in a
//! frame are counted by kind and logged at a limited rate; the valid events
//! around them are still delivered. The decoder never panics on input.

use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use prometheus::IntCounter;

use crate::events::{Event, EventKind};
use crate::log_limit::{LogLimiter, LogVerdict};
use crate::messages::{Crash, EventBatch, Events, Output, RawFrame, StatusRecord};
use crate::metrics::Metrics;
use crate::provider::{DecodeIssue, Provider};
use crate::stage::{Fanout, StageGauge};
use crate::staleness::{StaleChange, StalenessConfig, StalenessMonitor};
use crate::ws_session::SessionShared;

/// Everything a handler is built from; cloned for each incarnation.
#[derive(Clone)]
pub struct HandlerDeps {
    /// Feed name stamped on every batch.
    pub feed: Arc<str>,
    /// Decoder of the feed's provider.
    pub provider: Arc<dyn Provider>,
    /// Pipeline metrics.
    pub metrics: Metrics,
    /// This stage's queue gauge (`handler`).
    pub gauge: StageGauge,
    /// Where batches go: AnomalyDetector first, then any subscribed actors.
    pub events: Fanout<Events>,
    /// Where stale/recovered status records go (sinks).
    pub outputs: Fanout<Output>,
    /// The feed's subscriptions, watched for staleness.
    pub shared: Arc<SessionShared>,
    /// When a subscribed topic counts as stale.
    pub staleness: StalenessConfig,
}

/// The decoding actor.
pub struct MessageHandler {
    deps: HandlerDeps,
    issues: Vec<DecodeIssue>,
    log: LogLimiter,
    stale_log: LogLimiter,
    last_batch_len: usize,
    staleness: StalenessMonitor,
    /// This feed's series of `tapewatch_feed_events_total` and
    /// `tapewatch_feed_decode_errors_total`, looked up once rather than per frame.
    feed_events: IntCounter,
    feed_decode_errors: IntCounter,
}

impl MessageHandler {
    /// A handler with no frames seen yet.
    pub fn new(deps: HandlerDeps) -> Self {
        let mut staleness = StalenessMonitor::new(deps.staleness.clone(), deps.provider.clone());
        staleness.set_topics(&deps.shared.topics());
        let feed_events = deps.metrics.feed_events.with_label_values(&[&*deps.feed]);
        let feed_decode_errors = deps
            .metrics
            .feed_decode_errors
            .with_label_values(&[&*deps.feed]);
        MessageHandler {
            feed_events,
            feed_decode_errors,
            deps,
            issues: Vec::new(),
            log: LogLimiter::default(),
            stale_log: LogLimiter::default(),
            last_batch_len: 16,
            staleness,
        }
    }

    fn check_staleness(&mut self) {
        let now = Instant::now();
        self.staleness.set_topics(&self.deps.shared.topics());
        self.staleness
            .set_streaming(self.deps.shared.is_streaming(), now);
        let changes = self.staleness.check(now);
        self.report_staleness(changes);
    }

    fn report_staleness(&mut self, changes: Vec<StaleChange>) {
        if changes.is_empty() {
            return;
        }
        let feed = &self.deps.feed;
        self.deps
            .metrics
            .stale_topics
            .with_label_values(&[feed])
            .set(self.staleness.stale_count() as i64);
        for c in changes {
            // Many topics can change at once (a muted socket); every one gets
            // its status record, but the log lines are rate-limited.
            let log = self.stale_log.check(Instant::now());
            let (state, message) = if c.stale {
                self.deps.metrics.stale_events.inc();
                if let LogVerdict::Log { suppressed } = log {
                    tracing::warn!(%feed, topic = %c.topic, silent_for = ?c.silent_for, usual_gap = ?c.usual_gap, suppressed, "subscription stale: no data far beyond its usual gap");
                }
                (
                    "stale",
                    format!(
                        "{} silent for {:.1?} (usual gap {:.1?})",
                        c.topic, c.silent_for, c.usual_gap
                    ),
                )
            } else {
                if let LogVerdict::Log { suppressed } = log {
                    tracing::info!(%feed, topic = %c.topic, silent_for = ?c.silent_for, suppressed, "subscription recovered");
                }
                (
                    "recovered",
                    format!("{} delivering again after {:.1?}", c.topic, c.silent_for),
                )
            };
            let record = StatusRecord {
                feed: feed.clone(),
                state: state.to_owned(),
                message,
                at_ms: crate::messages::unix_ms(),
                gap_from_ms: None,
                gap_to_ms: None,
            };
            self.deps.outputs.offer(Output::Status(Arc::new(record)));
        }
    }

    fn count(&self, events: &[Event]) {
        let mut counts = [0u64; EventKind::ALL.len()];
        for e in events {
            counts[e.kind() as usize] += 1;
        }
        for (kind, n) in EventKind::ALL.iter().zip(counts) {
            if n > 0 {
                self.deps.metrics.events(*kind).inc_by(n);
            }
        }
        self.feed_events.inc_by(events.len() as u64);
    }

    fn report_issues(&mut self) {
        for issue in self.issues.drain(..) {
            self.deps.metrics.decode_errors(issue.kind).inc();
            self.feed_decode_errors.inc();
            if let LogVerdict::Log { suppressed } = self.log.check(Instant::now()) {
                tracing::warn!(
                    feed = %self.deps.feed,
                    kind = issue.kind.label(),
                    suppressed,
                    "skipped undecodable input: {}",
                    issue.detail
                );
            }
        }
    }
}

impl Actor for MessageHandler {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(self.staleness.check_interval(), |act, _| {
            act.check_staleness()
        });
    }
}

impl Handler<Crash> for MessageHandler {
    type Result = ();
    fn handle(&mut self, _: Crash, _: &mut Context<Self>) {
        panic!("MessageHandler {}: crash requested", self.deps.feed);
    }
}

impl Handler<RawFrame> for MessageHandler {
    type Result = ();

    fn handle(&mut self, frame: RawFrame, _: &mut Context<Self>) {
        self.deps.gauge.taken();
        let mut events = Vec::with_capacity(self.last_batch_len);
        self.deps
            .provider
            .decode(&frame.bytes, &mut events, &mut self.issues);
        if !self.issues.is_empty() {
            self.report_issues();
        }
        if events.is_empty() {
            return;
        }
        self.count(&events);
        self.last_batch_len = events.len();
        let recovered = self.staleness.observe(&events, frame.received_at);
        self.report_staleness(recovered);
        let batch = EventBatch {
            feed: self.deps.feed.clone(),
            received_at: frame.received_at,
            events,
        };
        // Shed batches are counted per stage by the fan-out.
        self.deps.events.offer(Events(Arc::new(batch)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::polygon::Polygon;
    use crate::provider::IssueKind;
    use crate::stage::StageSender;
    use bytes::Bytes;
    use tokio::sync::mpsc;

    struct Collector(mpsc::UnboundedSender<Arc<EventBatch>>);
    impl Actor for Collector {
        type Context = Context<Self>;
    }
    impl Handler<Events> for Collector {
        type Result = ();
        fn handle(&mut self, msg: Events, _: &mut Context<Self>) {
            let _ = self.0.send(msg.0);
        }
    }

    fn frame(text: &str) -> RawFrame {
        RawFrame {
            bytes: Bytes::copy_from_slice(text.as_bytes()),
            received_at: Instant::now(),
        }
    }

    #[actix::test]
    async fn garbage_is_counted_and_valid_frames_around_it_all_arrive() {
        let metrics = Metrics::new();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let collector = Collector(tx).start();
        let sink = StageSender::new(collector.recipient(), StageGauge::new(&metrics, "detector"));
        let handler = MessageHandler::new(HandlerDeps {
            feed: "stocks".into(),
            provider: Arc::new(Polygon),
            metrics: metrics.clone(),
            gauge: StageGauge::new(&metrics, "handler"),
            events: Fanout::new(vec![sink]),
            outputs: Fanout::default(),
            shared: SessionShared::new(["T.*".to_owned()]),
            staleness: StalenessConfig::default(),
        })
        .start();
        let trade = r#"{"ev":"T","sym":"AAPL","p":1.5,"s":100,"t":1651684192462}"#;
        let quote = r#"{"ev":"Q","sym":"AAPL","bp":1.4,"bs":1,"ap":1.6,"as":2,"t":1651684192462}"#;
        let frames = [
            format!("[{trade},{quote}]"),
            "[{\"ev\":\"T\",\"sym\":".to_owned(),
            "\u{1}\u{2} garbage".to_owned(),
            format!("[{trade},{{\"ev\":\"NOPE\"}},{trade}]"),
            "{\"not\":\"an array\"}".to_owned(),
            format!("[{trade}]"),
        ];
        for f in &frames {
            handler.send(frame(f)).await.expect("handler alive");
        }
        let mut trades = 0;
        let mut batches = 0;
        while let Ok(batch) = rx.try_recv() {
            batches += 1;
            trades += batch
                .events
                .iter()
                .filter(|e| e.kind() == EventKind::Trade)
                .count();
        }
        assert_eq!(batches, 3, "one batch per frame with events");
        assert_eq!(trades, 4);
        assert_eq!(metrics.events(EventKind::Trade).get(), 4);
        assert_eq!(metrics.events(EventKind::Quote).get(), 1);
        assert_eq!(metrics.decode_errors(IssueKind::Truncated).get(), 1);
        assert_eq!(metrics.decode_errors(IssueKind::Malformed).get(), 1);
        assert_eq!(metrics.decode_errors(IssueKind::UnknownEvent).get(), 1);
        assert_eq!(metrics.decode_errors(IssueKind::NotArray).get(), 1);
        let by_feed = |vec: &prometheus::IntCounterVec| vec.with_label_values(&["stocks"]).get();
        assert_eq!(by_feed(&metrics.feed_events), 5);
        assert_eq!(by_feed(&metrics.feed_decode_errors), 4);
    }
}
