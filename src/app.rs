//! The one place that knows who talks to whom.
//!
//! [`PipelineBuilder::start`] reads like the data-flow picture: one call per
//! stage (`app/stages.rs`), creating every actor on two arbiters (threads):
//! the hot path (WsSession → MessageHandler → AnomalyDetector) on one, so a
//! frame is read, decoded and checked without crossing threads; RestFetcher and
//! the sinks on the other, so TLS, JSON and disk work never take the hot
//! thread. Each actor is registered with the [`Guardian`] (restart from
//! scratch when it dies; no pipeline actor stops itself, so a death is a
//! panic); peers reach it through a [`Slot`] that the guardian repoints, so
//! nobody looks anything up. Extension actors subscribe
//! before start through [`PipelineBuilder::subscribe_events`] and
//! [`PipelineBuilder::subscribe_outputs`].

use std::sync::Arc;

use actix::prelude::*;
use tapewatch_actors::guardian::Guardian;
use tapewatch_actors::messages::{Events, Fatal, Output};
use tapewatch_actors::secret::{ApiKey, Credentials};
use tapewatch_actors::stage::Fanout;
use tapewatch_actors::ws_session::SessionShared;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::pipeline::{Pipeline, PipelineHandle};
use crate::sinks;

mod feed_stops;
mod nats_stage;
mod stages;
mod supervise;
mod wiring;

use stages::FeedSpec;
pub(crate) use supervise::AddrSlot;
use wiring::Wiring;

/// Collects extension actors before the pipeline starts.
pub struct PipelineBuilder {
    config: Config,
    credentials: Credentials,
    rest_key: Option<ApiKey>,
    event_subscribers: Vec<Recipient<Events>>,
    output_subscribers: Vec<Recipient<Output>>,
    /// The mailbox of the `/ws` hub, when one is wanted.
    hub: Option<usize>,
    /// Frames come from a recording instead of the sockets.
    replay: bool,
}

/// Starts a pipeline from a configuration.
///
/// The REST key defaults to the feed key for Polygon/Massive, whose REST API
/// takes the same key; other providers enrich only when
/// [`PipelineBuilder::rest_key`] supplies a Polygon key.
pub fn builder(config: Config, credentials: Credentials) -> PipelineBuilder {
    let same_key = matches!(config.provider.as_str(), "polygon" | "massive");
    let rest_key = match &credentials.rest {
        Some(key) => Some(key.clone()),
        None => (same_key && !credentials.key.is_empty()).then(|| credentials.key.clone()),
    };
    PipelineBuilder {
        config,
        credentials,
        rest_key,
        event_subscribers: Vec::new(),
        output_subscribers: Vec::new(),
        hub: None,
        replay: false,
    }
}

/// Why the pipeline could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A configured value cannot be used.
    #[error("{0}")]
    Config(String),
    /// The alerts file could not be opened.
    #[error("cannot open the alerts file: {0}")]
    AlertsFile(std::io::Error),
}

impl PipelineBuilder {
    /// Every decoded event batch also goes to `recipient`, through a bounded
    /// queue: when its mailbox is full the batch is shed and counted under
    /// `tapewatch_dropped_total{stage="subscriber"}`, and the pipeline never waits.
    pub fn subscribe_events(mut self, recipient: Recipient<Events>) -> Self {
        self.event_subscribers.push(recipient);
        self
    }

    /// Every alert, enrichment and status record also goes to `recipient`.
    pub fn subscribe_outputs(mut self, recipient: Recipient<Output>) -> Self {
        self.output_subscribers.push(recipient);
        self
    }

    /// Also starts the hub that fans outputs and trades out to `/ws` clients,
    /// with a mailbox of `mailbox` messages, supervised like the pipeline's
    /// own actors ([`Pipeline::hub`] gives its current address).
    pub fn with_hub(mut self, mailbox: usize) -> Self {
        self.hub = Some(mailbox);
        self
    }

    /// Starts no WsSession: each configured feed gets its MessageHandler
    /// alone, and its frames come from whoever holds
    /// [`Pipeline::replay_inputs`] (a recording being replayed). Everything
    /// after the handlers is the same pipeline as a live run.
    pub fn replay(mut self) -> Self {
        self.replay = true;
        self
    }

    /// Sets the key for REST enrichment (`None`: enrichments are `skipped`).
    pub fn rest_key(mut self, key: Option<ApiKey>) -> Self {
        self.rest_key = key.filter(|k| !k.is_empty());
        self
    }

    /// Creates every actor and connects the feeds, stage by stage in the
    /// order of the data-flow picture read backwards: outputs first, so each
    /// stage is created knowing where its messages go.
    pub fn start(self) -> Result<Pipeline, StartError> {
        tapewatch_actors::ws_client::install_crypto_provider();
        let PipelineBuilder {
            config,
            credentials,
            rest_key,
            event_subscribers,
            output_subscribers,
            hub,
            replay,
        } = self;
        let provider = || {
            config
                .provider()
                .map_err(|(key, why)| StartError::Config(format!("key `{key}`: {why}")))
        };
        provider()?;
        let roots = crate::tls::extra_roots(&config.tls).map_err(StartError::Config)?;
        let tls =
            Arc::new(tapewatch_actors::ws_client::tls_config(&roots).map_err(StartError::Config)?);
        let sink_specs = sinks::specs(&config.output).map_err(StartError::AlertsFile)?;
        let (fatal_tx, fatal) = mpsc::channel(16);
        let mut w = Wiring::new(
            config.pipeline.clone(),
            FatalRelay(fatal_tx).start().recipient(),
            config.feeds.len(),
        );

        // Outputs: line sinks, the alert ring, extension actors.
        let mut outputs = Fanout::default();
        let sinks = w.line_sinks(sink_specs, &mut outputs);
        let alerts = w.alert_ring(config.pipeline.alert_ring, &mut outputs);
        w.subscribers(output_subscribers, &mut outputs);
        // `tapewatch ingest`: decoded events go to JetStream, not to a detector.
        let ingest = config.nats.ingest_partitions;
        let (nats_events, nats_ready) = w.nats_publisher(&config.nats, ingest, &mut outputs)?;
        if ingest.is_some() && nats_events.is_none() {
            return Err(StartError::Config("ingest needs a NATS URL".into()));
        }
        // The hub behind `/ws`: outputs and trades, like an extension actor.
        let (hub, hub_events) = match hub {
            Some(mailbox) => {
                let (addr, events) = w.hub(mailbox, config.http.state_settings(), &mut outputs)?;
                (Some(addr), Some(events))
            }
            None => (None, None),
        };
        // AnomalyDetector ──EnrichRequest──▶ RestFetcher ──▶ outputs.
        let (rest, rest_fetcher) = w.rest_fetcher(&config, rest_key, &outputs)?;
        // Ingest hands the events to JetStream instead of detecting on them.
        let detector = match nats_events {
            Some(nats) => nats,
            None => w.detector(&config, &outputs, rest),
        };
        let to_detector = detector.clone();
        // MessageHandler ──Events──▶ the detector and extension actors.
        let events = w.events(detector, hub_events, event_subscribers);
        // `tapewatch worker`: a partition from JetStream in place of the feeds.
        w.nats_source(&config.nats, &events, to_detector)?;
        let feeds = if config.nats.worker.is_some() {
            &[][..]
        } else {
            &config.feeds[..]
        };
        // WsSession ──RawFrame──▶ MessageHandler, one pair per feed; a
        // replay feeds the handlers itself.
        let mut sessions = Vec::new();
        let mut replay_inputs = Vec::new();
        for (i, feed) in feeds.iter().enumerate() {
            let name: Arc<str> = feed.name.as_str().into();
            if replay {
                let shared = SessionShared::new(Vec::new());
                let frames = w.handler(&config, &name, provider()?, shared, (&events, &outputs));
                replay_inputs.push((name, frames));
                continue;
            }
            let spec = FeedSpec {
                name,
                url: config.feed_url(i).unwrap_or_else(|| feed.url.clone()),
                subscribe: feed.subscribe.clone(),
                provider: provider()?,
                credentials: credentials.clone(),
                tls: tls.clone(),
            };
            let name = spec.name.clone();
            sessions.push((name, w.feed(&config, spec, &events, &outputs)?));
        }

        let Wiring {
            metrics,
            hot,
            decode,
            io,
            relay,
            children,
            recorders,
            ..
        } = w;
        let guardian = Guardian::new(
            config.supervision.clone(),
            children,
            metrics.clone(),
            Some(relay),
        )
        .start();
        let handle = PipelineHandle {
            metrics,
            sessions: Arc::new(sessions),
            guardian,
            rest_fetcher,
            alerts,
            nats_ready,
        };
        let hub_slot = hub;
        Ok(Pipeline {
            handle,
            hub: hub_slot,
            sinks,
            fatal,
            hot,
            io,
            decode,
            recorders,
            replay_inputs,
        })
    }
}

/// Forwards fatal failures to whoever runs the pipeline.
struct FatalRelay(mpsc::Sender<Fatal>);

impl Actor for FatalRelay {
    type Context = Context<Self>;
}

impl Handler<Fatal> for FatalRelay {
    type Result = ();
    fn handle(&mut self, msg: Fatal, _: &mut Context<Self>) {
        let _ = self.0.try_send(msg);
    }
}
