//! **NatsPublisher**: an output subscriber that publishes alerts and
//! enrichments to JetStream.
//!
//! It lives on the io arbiter, whose tokio runtime lasts as long as the
//! pipeline, so the async-nats connection and its acknowledgement tasks live
//! there too. Nothing waits on NATS: each publish is a spawned future with a
//! deadline, at most `max_inflight` of them at once; records beyond that wait
//! in a backlog bounded at `backlog`, and beyond that they are shed and counted
//! in `tapewatch_dropped_total{stage="nats"}`, as are publishes that fail or
//! time out. async-nats reconnects on its own; until the stream exists,
//! records wait in the backlog.

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::time::Duration;

use actix::prelude::*;
use async_nats::jetstream::{self, message::PublishMessage, stream};
use bytes::Bytes;
use lru::LruCache;
use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts};
use tapewatch_actors::messages::{Crash, Output};
use tapewatch_actors::metrics::Metrics;
use tapewatch_actors::stage::StageGauge;

use super::{alert_msg_id, enrichment_msg_id, NatsConfig};
use super::{ALERTS_STREAM, ALERTS_SUBJECT, ENRICHMENTS_SUBJECT};

/// How many recent alerts the publisher remembers, to give each enrichment
/// the id of its alert.
const REMEMBERED_ALERTS: usize = 8192;
/// Wait before trying to create the stream again after a failure.
const RETRY: Duration = Duration::from_secs(1);

/// The publisher's metrics, registered once per pipeline.
#[derive(Clone)]
pub struct NatsMetrics {
    /// `tapewatch_nats_published_total{subject}`: acknowledged by JetStream
    /// (duplicates included).
    pub published: IntCounterVec,
    /// `tapewatch_nats_duplicates_total`: publishes JetStream dropped as duplicates.
    pub duplicates: IntCounter,
    /// `tapewatch_nats_ready`: 1 once the stream exists and the last publish
    /// succeeded.
    pub ready: IntGauge,
    /// `tapewatch_nats_pending`: publishes in flight plus the backlog.
    pub pending: IntGauge,
    dropped: IntCounter,
}

impl NatsMetrics {
    /// Registers the metrics in the pipeline's registry.
    pub fn new(metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let published = IntCounterVec::new(
            Opts::new(
                "tapewatch_nats_published_total",
                "Records acknowledged by JetStream, by subject.",
            ),
            &["subject"],
        )?;
        let duplicates = IntCounter::new(
            "tapewatch_nats_duplicates_total",
            "Publishes JetStream dropped as duplicates of an earlier message id.",
        )?;
        let ready = IntGauge::new(
            "tapewatch_nats_ready",
            "1 while the alerts stream exists and publishing succeeds.",
        )?;
        let pending = IntGauge::new(
            "tapewatch_nats_pending",
            "Publishes awaiting acknowledgement plus records in the backlog.",
        )?;
        metrics.registry.register(Box::new(published.clone()))?;
        metrics.registry.register(Box::new(duplicates.clone()))?;
        metrics.registry.register(Box::new(ready.clone()))?;
        metrics.registry.register(Box::new(pending.clone()))?;
        for subject in [ALERTS_SUBJECT, ENRICHMENTS_SUBJECT] {
            published.with_label_values(&[subject]);
        }
        Ok(NatsMetrics {
            published,
            duplicates,
            ready,
            pending,
            dropped: metrics.dropped("nats"),
        })
    }
}

/// One record on its way to JetStream.
struct Record {
    subject: &'static str,
    id: String,
    payload: Bytes,
}

/// Publishes alerts and enrichments; see the module doc.
pub struct NatsPublisher {
    config: NatsConfig,
    js: Option<jetstream::Context>,
    backlog: VecDeque<Record>,
    inflight: usize,
    alert_ids: LruCache<u64, String>,
    metrics: NatsMetrics,
    gauge: StageGauge,
}

impl NatsPublisher {
    /// A publisher that connects to `config.url` when started.
    pub fn new(config: NatsConfig, metrics: NatsMetrics, gauge: StageGauge) -> Self {
        NatsPublisher {
            config,
            js: None,
            backlog: VecDeque::new(),
            inflight: 0,
            alert_ids: LruCache::new(NonZeroUsize::MIN.saturating_add(REMEMBERED_ALERTS - 1)),
            metrics,
            gauge,
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.config.timeout_ms)
    }

    /// Connects (async-nats retries in the background) and creates the
    /// stream, trying again every [`RETRY`] until it exists.
    fn connect(&mut self, ctx: &mut Context<Self>) {
        let Some(url) = self.config.url.clone() else {
            return;
        };
        let timeout = self.timeout();
        let window = Duration::from_secs(self.config.duplicate_window_secs);
        let fut = async move {
            let client = async_nats::ConnectOptions::new()
                .connection_timeout(timeout)
                .retry_on_initial_connect()
                .connect(url)
                .await
                .map_err(|e| e.to_string())?;
            let js = jetstream::new(client);
            let config = stream::Config {
                name: ALERTS_STREAM.to_owned(),
                subjects: vec![ALERTS_SUBJECT.to_owned(), ENRICHMENTS_SUBJECT.to_owned()],
                duplicate_window: window,
                storage: stream::StorageType::File,
                ..Default::default()
            };
            match tokio::time::timeout(timeout, js.get_or_create_stream(config)).await {
                Ok(Ok(_)) => Ok(js),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("creating the stream timed out".to_owned()),
            }
        };
        ctx.spawn(fut.into_actor(self).map(|result, act, ctx| match result {
            Ok(js) => {
                tracing::info!(stream = ALERTS_STREAM, "publishing alerts to NATS JetStream");
                act.js = Some(js);
                act.metrics.ready.set(1);
                act.drain(ctx);
            }
            Err(e) => {
                tracing::warn!(error = %e, "NATS JetStream not reachable; retrying");
                ctx.run_later(RETRY, |act, ctx| act.connect(ctx));
            }
        }));
    }

    /// Starts publishes from the backlog while there is room in flight.
    fn drain(&mut self, ctx: &mut Context<Self>) {
        let Some(js) = self.js.clone() else {
            return;
        };
        while self.inflight < self.config.max_inflight {
            let Some(record) = self.backlog.pop_front() else {
                break;
            };
            self.inflight += 1;
            let (js, timeout) = (js.clone(), self.timeout());
            let subject = record.subject;
            let fut = async move {
                let message = PublishMessage::build()
                    .payload(record.payload)
                    .message_id(record.id);
                let publish = async {
                    js.send_publish(subject, message)
                        .await
                        .map_err(|e| e.to_string())?
                        .await
                        .map_err(|e| e.to_string())
                };
                match tokio::time::timeout(timeout, publish).await {
                    Ok(result) => result,
                    Err(_) => Err("publish timed out".to_owned()),
                }
            };
            ctx.spawn(fut.into_actor(self).map(move |result, act, ctx| {
                act.inflight -= 1;
                match result {
                    Ok(ack) => {
                        act.metrics.published.with_label_values(&[subject]).inc();
                        if ack.duplicate {
                            act.metrics.duplicates.inc();
                        }
                        act.metrics.ready.set(1);
                    }
                    Err(e) => {
                        act.metrics.dropped.inc();
                        act.metrics.ready.set(0);
                        tracing::warn!(error = %e, subject, "a record was not published to NATS");
                    }
                }
                act.update_pending();
                act.drain(ctx);
            }));
        }
        self.update_pending();
    }

    fn update_pending(&self) {
        let pending = self.inflight + self.backlog.len();
        self.metrics
            .pending
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
    }

    /// The record for an output, or `None` for those not published.
    fn record(&mut self, output: &Output) -> Option<Record> {
        let (subject, id) = match output {
            Output::Alert(alert) => {
                let id = alert_msg_id(alert);
                self.alert_ids.put(alert.id, id.clone());
                (ALERTS_SUBJECT, id)
            }
            Output::Enrichment(enrichment) => {
                // An alert is published before its enrichment is requested,
                // so its id is known unless it was forgotten long ago.
                let id = match self.alert_ids.pop(&enrichment.alert_id) {
                    Some(alert) => enrichment_msg_id(&alert),
                    None => format!(
                        "enrichment:{}:{}",
                        enrichment.symbol, enrichment.alert_id
                    ),
                };
                (ENRICHMENTS_SUBJECT, id)
            }
            Output::Status(_) => return None,
        };
        let payload = serde_json::to_vec(output).ok()?;
        Some(Record {
            subject,
            id,
            payload: Bytes::from(payload),
        })
    }
}

impl Actor for NatsPublisher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.connect(ctx);
    }
}

impl Handler<Output> for NatsPublisher {
    type Result = ();

    fn handle(&mut self, output: Output, ctx: &mut Context<Self>) {
        self.gauge.taken();
        let Some(record) = self.record(&output) else {
            return;
        };
        if self.backlog.len() >= self.config.backlog {
            self.metrics.dropped.inc();
            return;
        }
        self.backlog.push_back(record);
        self.drain(ctx);
    }
}

impl Handler<Crash> for NatsPublisher {
    type Result = ();

    fn handle(&mut self, _: Crash, _: &mut Context<Self>) {
        panic!("crash requested");
    }
}
