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

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use async_nats::jetstream::{self, message::PublishMessage, publish::PublishAck, stream};
use bytes::Bytes;
use lru::LruCache;
use tapewatch_actors::messages::{Crash, Events, Output};
use tapewatch_actors::stage::StageGauge;

use super::metrics::NatsMetrics;
use super::partition::EVENTS_SUBJECT_PREFIX;
use super::{alert_msg_id, enrichment_msg_id, NatsConfig};
use super::{ALERTS_STREAM, ALERTS_SUBJECT, ENRICHMENTS_SUBJECT, EVENTS_STREAM};

/// How many recent alerts the publisher remembers, to give each enrichment
/// the id of its alert.
const REMEMBERED_ALERTS: usize = 8192;
/// Wait before trying to create the stream again after a failure.
const RETRY: Duration = Duration::from_secs(1);

/// One record on its way to JetStream.
pub(super) struct Record {
    pub subject: String,
    /// The `subject` label of `tapewatch_nats_published_total`.
    pub label: &'static str,
    pub id: String,
    pub payload: Bytes,
}

/// Publishes alerts and enrichments; see the module doc.
pub struct NatsPublisher {
    config: NatsConfig,
    /// Set by `tapewatch ingest`: decoded events are published too, into
    /// this many partitions.
    partitions: Option<u32>,
    /// The ingest process's id in batch ids, and each feed's frame count.
    pub(super) run: u64,
    pub(super) frames: HashMap<Arc<str>, u64>,
    js: Option<jetstream::Context>,
    backlog: VecDeque<Record>,
    inflight: usize,
    /// A future is handing records to the connection.
    sending: bool,
    alert_ids: LruCache<u64, String>,
    pub(super) metrics: NatsMetrics,
    gauge: StageGauge,
}

impl NatsPublisher {
    /// A publisher that connects to `config.url` when started.
    pub fn new(config: NatsConfig, metrics: NatsMetrics, gauge: StageGauge) -> Self {
        NatsPublisher {
            config,
            partitions: None,
            run: 0,
            frames: HashMap::new(),
            js: None,
            backlog: VecDeque::new(),
            inflight: 0,
            sending: false,
            alert_ids: LruCache::new(NonZeroUsize::MIN.saturating_add(REMEMBERED_ALERTS - 1)),
            metrics,
            gauge,
        }
    }

    /// Also publishes decoded events, into `partitions` partitions, with
    /// `run` telling this process's batch ids from another's.
    pub fn with_events(mut self, partitions: u32, run: u64) -> Self {
        self.partitions = Some(partitions.max(1));
        self.run = run;
        self
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
        let events = self.partitions.is_some();
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
            let mut streams = vec![config];
            if events {
                streams.push(stream::Config {
                    name: EVENTS_STREAM.to_owned(),
                    subjects: vec![format!("{EVENTS_SUBJECT_PREFIX}*")],
                    duplicate_window: window,
                    storage: stream::StorageType::File,
                    ..Default::default()
                });
            }
            for config in streams {
                let name = config.name.clone();
                match tokio::time::timeout(timeout, js.get_or_create_stream(config)).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return Err(format!("stream {name}: {e}")),
                    Err(_) => return Err(format!("creating the stream {name} timed out")),
                }
            }
            Ok(js)
        };
        ctx.spawn(fut.into_actor(self).map(|result, act, ctx| match result {
            Ok(js) => {
                tracing::info!(
                    stream = ALERTS_STREAM,
                    "publishing alerts to NATS JetStream"
                );
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
    ///
    /// Records are handed to the connection by one future at a time, in
    /// order, so a subject's messages reach JetStream in the order the
    /// pipeline produced them (workers rely on it); only the waits for the
    /// acknowledgements run side by side.
    fn drain(&mut self, ctx: &mut Context<Self>) {
        let Some(js) = self.js.clone() else {
            self.update_pending();
            return;
        };
        let room = self.config.max_inflight.saturating_sub(self.inflight);
        if self.sending || room == 0 || self.backlog.is_empty() {
            self.update_pending();
            return;
        }
        let chunk: Vec<Record> = self.backlog.drain(..room.min(self.backlog.len())).collect();
        self.inflight += chunk.len();
        self.sending = true;
        let timeout = self.timeout();
        let send = async move {
            let mut acks = Vec::with_capacity(chunk.len());
            for record in chunk {
                let message = PublishMessage::build()
                    .payload(record.payload)
                    .message_id(record.id);
                let sent =
                    tokio::time::timeout(timeout, js.send_publish(record.subject, message)).await;
                let ack = match sent {
                    Ok(Ok(ack)) => Ok(ack),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("publish timed out".to_owned()),
                };
                acks.push((record.label, ack));
            }
            acks
        };
        ctx.spawn(send.into_actor(self).map(move |acks, act, ctx| {
            act.sending = false;
            for (label, ack) in acks {
                let wait = async move {
                    match tokio::time::timeout(timeout, ack?).await {
                        Ok(result) => result.map_err(|e| e.to_string()),
                        Err(_) => Err("acknowledgement timed out".to_owned()),
                    }
                };
                ctx.spawn(wait.into_actor(act).map(move |result, act, ctx| {
                    act.inflight -= 1;
                    act.settled(label, result);
                    act.drain(ctx);
                }));
            }
            act.drain(ctx);
        }));
        self.update_pending();
    }

    /// Counts how one publish ended.
    fn settled(&mut self, label: &'static str, result: Result<PublishAck, String>) {
        match result {
            Ok(ack) => {
                self.metrics.published.with_label_values(&[label]).inc();
                if ack.duplicate {
                    self.metrics.duplicates.inc();
                }
                self.metrics.ready.set(1);
            }
            Err(e) => {
                self.metrics.dropped.inc();
                self.metrics.ready.set(0);
                tracing::warn!(error = %e, subject = label, "a record was not published to NATS");
            }
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
                    None => format!("enrichment:{}:{}", enrichment.symbol, enrichment.alert_id),
                };
                (ENRICHMENTS_SUBJECT, id)
            }
            Output::Status(_) => return None,
        };
        let payload = serde_json::to_vec(output).ok()?;
        Some(Record {
            subject: subject.to_owned(),
            label: subject,
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

impl NatsPublisher {
    /// Takes a record into the backlog, or sheds it when the backlog is full.
    fn offer(&mut self, record: Record, ctx: &mut Context<Self>) {
        if self.backlog.len() >= self.config.backlog {
            self.metrics.dropped.inc();
            return;
        }
        self.backlog.push_back(record);
        self.drain(ctx);
    }
}

impl Handler<Events> for NatsPublisher {
    type Result = ();

    fn handle(&mut self, events: Events, ctx: &mut Context<Self>) {
        self.gauge.taken();
        let Some(partitions) = self.partitions else {
            return;
        };
        for record in self.event_records(&events.0, partitions) {
            self.offer(record, ctx);
        }
    }
}

impl Handler<Output> for NatsPublisher {
    type Result = ();

    fn handle(&mut self, output: Output, ctx: &mut Context<Self>) {
        self.gauge.taken();
        if let Some(record) = self.record(&output) {
            self.offer(record, ctx);
        }
    }
}

impl Handler<Crash> for NatsPublisher {
    type Result = ();

    fn handle(&mut self, _: Crash, _: &mut Context<Self>) {
        panic!("crash requested");
    }
}
