//! **NatsSource**: the event source of `tapewatch worker`, in place of the
//! sessions and handlers: a durable pull consumer with explicit acks on one
//! partition of `TAPEWATCH_EVENTS`, feeding the decoded batches to the
//! detector and extension actors.
//!
//! A worker must see every event of its partition, so the source never sheds
//! toward the detector: when the detector's queue is full it waits, and
//! JetStream holds the rest. A message is acknowledged once its batch was
//! handed to the detector; a message that is not a batch (someone else
//! published on our subject) is counted in `tapewatch_nats_malformed_total`,
//! terminated so it is not redelivered, and skipped. When NATS goes away the
//! source connects again and resumes from the consumer's position.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use async_nats::jetstream::{self, consumer, stream, AckKind};
use futures_util::StreamExt;
use prometheus::IntCounter;
use serde::Deserialize;
use tapewatch_actors::events::Event;
use tapewatch_actors::messages::{Crash, EventBatch, Events};
use tapewatch_actors::metrics::Metrics;
use tapewatch_actors::stage::{Fanout, StageSender};

use super::partition::{events_subject, EVENTS_SUBJECT_PREFIX};
use super::{NatsConfig, EVENTS_STREAM};

/// Wait before connecting again after NATS failed.
const RETRY: Duration = Duration::from_secs(1);
/// How long the source waits between looks at a full detector queue.
const FULL_QUEUE_WAIT: Duration = Duration::from_millis(1);
/// Messages delivered and not yet acknowledged, at most.
const MAX_ACK_PENDING: i64 = 10_000;

/// A batch as it arrives on an event subject ([`super::wire`]).
#[derive(Debug, Deserialize)]
struct OwnedBatch {
    feed: Arc<str>,
    events: Vec<Event>,
}

/// The partition a worker consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerPartition {
    /// This worker's partition, below `of`.
    pub index: u32,
    /// How many partitions the ingest publishes.
    pub of: u32,
}

impl WorkerPartition {
    /// The durable consumer's name; a second worker of the same partition
    /// shares it.
    pub fn durable_name(self) -> String {
        format!("tapewatch-worker-{}-of-{}", self.index, self.of)
    }
}

/// What the source needs.
#[derive(Clone)]
pub struct SourceDeps {
    /// Server and deadlines.
    pub config: NatsConfig,
    /// Which partition.
    pub partition: WorkerPartition,
    /// Where batches go.
    pub events: Fanout<Events>,
    /// The detector's sender, whose queue depth the source waits on.
    pub detector: StageSender<Events>,
    /// Capacity of the detector's queue.
    pub detector_queue: usize,
    /// The pipeline's metrics.
    pub metrics: Metrics,
    /// `tapewatch_nats_malformed_total`.
    pub malformed: IntCounter,
}

/// Consumes one partition; see the module doc.
pub struct NatsSource {
    deps: SourceDeps,
}

impl NatsSource {
    /// A source that starts consuming when started.
    pub fn new(deps: SourceDeps) -> Self {
        NatsSource { deps }
    }
}

impl Actor for NatsSource {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let deps = self.deps.clone();
        ctx.spawn(
            async move {
                loop {
                    if let Err(e) = consume(&deps).await {
                        tracing::warn!(error = %e, "consuming from NATS failed; connecting again");
                    }
                    tokio::time::sleep(RETRY).await;
                }
            }
            .into_actor(self),
        );
    }
}

impl Handler<Crash> for NatsSource {
    type Result = ();

    fn handle(&mut self, _: Crash, _: &mut Context<Self>) {
        panic!("NatsSource: crash requested");
    }
}

async fn within<T, E: std::fmt::Display>(
    limit: Duration,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: timed out")),
    }
}

/// One connection's worth of consuming; returns when it fails.
async fn consume(deps: &SourceDeps) -> Result<(), String> {
    let url = deps.config.url.clone().ok_or("no NATS URL")?;
    let limit = Duration::from_millis(deps.config.timeout_ms);
    let client = within(
        limit,
        "connecting",
        async_nats::ConnectOptions::new()
            .connection_timeout(limit)
            .connect(url),
    )
    .await?;
    let js = jetstream::new(client);
    let stream = within(
        limit,
        "the events stream",
        js.get_or_create_stream(stream::Config {
            name: EVENTS_STREAM.to_owned(),
            subjects: vec![format!("{EVENTS_SUBJECT_PREFIX}*")],
            duplicate_window: Duration::from_secs(deps.config.duplicate_window_secs),
            storage: stream::StorageType::File,
            ..Default::default()
        }),
    )
    .await?;
    let name = deps.partition.durable_name();
    let consumer: consumer::PullConsumer = within(
        limit,
        "the consumer",
        stream.get_or_create_consumer(
            &name,
            consumer::pull::Config {
                durable_name: Some(name.clone()),
                filter_subject: events_subject(deps.partition.index),
                ack_policy: consumer::AckPolicy::Explicit,
                max_ack_pending: MAX_ACK_PENDING,
                ..Default::default()
            },
        ),
    )
    .await?;
    let mut messages = within(limit, "pulling", consumer.messages()).await?;
    tracing::info!(consumer = %name, "consuming events from NATS JetStream");
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| format!("receiving: {e}"))?;
        match serde_json::from_slice::<OwnedBatch>(&message.payload) {
            Ok(batch) => {
                deliver(deps, batch).await;
                within(limit, "acknowledging", message.ack()).await?;
            }
            Err(e) => {
                deps.malformed.inc();
                tracing::warn!(subject = %message.subject, error = %e, "skipping a message that is not an event batch");
                within(limit, "terminating", message.ack_with(AckKind::Term)).await?;
            }
        }
    }
    Err("the message stream ended".to_owned())
}

/// Hands a batch on, waiting while the detector's queue is full.
async fn deliver(deps: &SourceDeps, batch: OwnedBatch) {
    for event in &batch.events {
        deps.metrics.events(event.kind()).inc();
    }
    let capacity = i64::try_from(deps.detector_queue).unwrap_or(i64::MAX);
    while deps.detector.queued() >= capacity {
        tokio::time::sleep(FULL_QUEUE_WAIT).await;
    }
    let batch = EventBatch {
        feed: batch.feed,
        received_at: Instant::now(),
        events: batch.events,
    };
    deps.events.offer(Events(Arc::new(batch)));
}
