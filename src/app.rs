//! The one place that knows who talks to whom.
//!
//! [`PipelineBuilder::start`] creates every actor on two arbiters (threads):
//! the hot path (WsSession → MessageHandler → AnomalyDetector) on one, so a
//! frame is read, decoded and checked without crossing threads; RestFetcher and
//! the sinks on the other, so TLS, JSON and disk work never take the hot
//! thread. Each actor is started under actix's `Supervisor` (restart in place
//! when it stops) and registered with the [`Guardian`] (restart from scratch
//! when it dies, panics included); peers reach it through a [`Slot`] that the
//! guardian repoints, so nobody looks anything up. Extension actors subscribe
//! before start through [`PipelineBuilder::subscribe_events`] and
//! [`PipelineBuilder::subscribe_outputs`].

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use actix::prelude::*;
use dashmap::DashMap;
use tapewatch_actors::alert_ring::{AlertRing, RingSink};
use tapewatch_actors::anomaly_detector::{AnomalyDetector, DetectorDeps};
use tapewatch_actors::guardian::{Child, Guardian};
use tapewatch_actors::message_handler::{HandlerDeps, MessageHandler};
use tapewatch_actors::messages::{EnrichRequest, Events, Fatal, Output, RawFrame};
use tapewatch_actors::metrics::Metrics;
use tapewatch_actors::rest_fetcher::{RestFetcher, RestFetcherDeps};
use tapewatch_actors::secret::{ApiKey, Credentials};
use tapewatch_actors::sink::LineSink;
use tapewatch_actors::stage::{Fanout, StageGauge, StageSender};
use tapewatch_actors::ws_session::{GetSessionState, SessionDeps, SessionShared, WsSession};
use tokio::sync::mpsc;

use crate::config::Config;
use crate::pipeline::{Pipeline, PipelineHandle};
use crate::sinks;

mod supervise;

pub(crate) use supervise::AddrSlot;
use supervise::{child, supervised};

/// Collects extension actors before the pipeline starts.
pub struct PipelineBuilder {
    config: Config,
    credentials: Credentials,
    rest_key: Option<ApiKey>,
    event_subscribers: Vec<Recipient<Events>>,
    output_subscribers: Vec<Recipient<Output>>,
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

    /// Sets the key for REST enrichment (`None`: enrichments are `skipped`).
    pub fn rest_key(mut self, key: Option<ApiKey>) -> Self {
        self.rest_key = key.filter(|k| !k.is_empty());
        self
    }

    /// Creates every actor and connects the feeds.
    pub fn start(self) -> Result<Pipeline, StartError> {
        tapewatch_actors::ws_client::install_crypto_provider();
        let PipelineBuilder {
            config,
            credentials,
            rest_key,
            event_subscribers,
            output_subscribers,
        } = self;
        let metrics = Metrics::new();
        let q = config.pipeline.clone();
        // One provider instance per feed: a provider may keep per-connection
        // protocol state (Alpaca remembers how each topic was spelled).
        let new_provider = || {
            tapewatch_actors::provider::by_name(&config.provider).ok_or_else(|| {
                StartError::Config(format!("unknown provider `{}`", config.provider))
            })
        };
        new_provider()?;
        let roots = crate::tls::extra_roots(&config.tls).map_err(StartError::Config)?;
        let tls =
            Arc::new(tapewatch_actors::ws_client::tls_config(&roots).map_err(StartError::Config)?);
        let (hot, io) = (Arbiter::new(), Arbiter::new());
        // Decoding is most of the per-event cost; on its own thread it runs
        // beside reading and detection instead of after them.
        let decode = q.decode_thread.then(Arbiter::new);
        let decode_handle = decode
            .as_ref()
            .map_or_else(|| hot.handle(), Arbiter::handle);
        let mut children: Vec<Box<dyn Child>> = Vec::new();
        let (fatal_tx, fatal) = mpsc::channel(16);
        let relay = FatalRelay(fatal_tx).start().recipient();

        // Sinks and output subscribers: everything downstream of alerts.
        let mut outputs = Fanout::default();
        let mut sinks = Vec::new();
        for spec in sinks::specs(&config.output).map_err(StartError::AlertsFile)? {
            let (m, arb, spec) = (metrics.clone(), io.handle(), Arc::new(spec));
            let gauge = StageGauge::new(&metrics, "sink");
            let g = gauge.clone();
            let (slot, addr) = child(
                &mut children,
                format!("sink:{}", spec.name),
                |a: &Addr<LineSink>| a.clone().recipient::<Output>(),
                move || {
                    let (m, g, spec) = (m.clone(), g.clone(), spec.clone());
                    supervised(&arb, q.sink_queue, move || {
                        let writer = (spec.open)().unwrap_or_else(|e| {
                        tracing::error!(sink = spec.name, error = %e, "cannot reopen the sink; writing nowhere");
                        Box::new(std::io::sink())
                    });
                        LineSink::new(spec.name, writer, spec.format, m, g)
                    })
                },
            );
            outputs.push(StageSender::with_slot(slot, gauge));
            sinks.push(addr);
        }
        let alerts = AlertRing::new(config.pipeline.alert_ring);
        let (ring, m, arb) = (alerts.clone(), metrics.clone(), io.handle());
        let (slot, _) = child(
            &mut children,
            "sink:alert_ring".into(),
            |a: &Addr<RingSink>| a.clone().recipient::<Output>(),
            move || {
                let (ring, g) = (ring.clone(), StageGauge::new(&m, "sink"));
                supervised(&arb, q.sink_queue, move || RingSink::new(ring, g))
            },
        );
        outputs.push(StageSender::with_slot(
            slot,
            StageGauge::new(&metrics, "sink"),
        ));
        let subscriber_gauge = StageGauge::drops_only(&metrics, "subscriber");
        for r in output_subscribers {
            outputs.push(StageSender::new(r, subscriber_gauge.clone()));
        }

        // RestFetcher, fed by the detector. The cache outlives restarts.
        let rest_deps = RestFetcherDeps {
            config: config.rest.clone(),
            key: rest_key,
            metrics: metrics.clone(),
            gauge: StageGauge::new(&metrics, "rest"),
            outputs: outputs.clone(),
            cache: Arc::new(DashMap::new()),
        };
        RestFetcher::new(rest_deps.clone())
            .map_err(|e| StartError::Config(format!("cannot build the REST client: {e}")))?;
        let arb = io.handle();
        let (rest, rest_fetcher) = child(
            &mut children,
            "rest_fetcher".into(),
            |a: &Addr<RestFetcher>| a.clone().recipient::<EnrichRequest>(),
            move || {
                let deps = rest_deps.clone();
                supervised(&arb, q.rest_queue, move || match RestFetcher::new(deps) {
                    Ok(fetcher) => fetcher,
                    // Building the client succeeded at start-up with the same
                    // settings; failing now leaves a dead actor that the guardian
                    // counts against its restart budget.
                    Err(e) => panic!("cannot rebuild the REST client: {e}"),
                })
            },
        );

        // AnomalyDetector, fed by every feed's handler. Baselines are rebuilt
        // on restart; alert ids keep increasing.
        let detector_deps = DetectorDeps {
            rules: config.detector.clone(),
            metrics: metrics.clone(),
            gauge: StageGauge::new(&metrics, "detector"),
            outputs: outputs.clone(),
            enrich: Some(StageSender::with_slot(
                rest,
                StageGauge::new(&metrics, "rest"),
            )),
            ids: Arc::new(AtomicU64::new(0)),
        };
        let arb = hot.handle();
        let (detector, _) = child(
            &mut children,
            "anomaly_detector".into(),
            |a: &Addr<AnomalyDetector>| a.clone().recipient::<Events>(),
            move || {
                let deps = detector_deps.clone();
                supervised(&arb, q.detector_queue, move || AnomalyDetector::new(deps))
            },
        );
        let mut events = Fanout::new(vec![StageSender::with_slot(
            detector,
            StageGauge::new(&metrics, "detector"),
        )]);
        for r in event_subscribers {
            events.push(StageSender::new(r, subscriber_gauge.clone()));
        }

        // One MessageHandler and one WsSession per feed; the subscription set
        // and gap history live in SessionShared and survive restarts.
        let mut sessions = Vec::new();
        for (i, feed) in config.feeds.iter().enumerate() {
            let name: Arc<str> = feed.name.as_str().into();
            let provider = new_provider()?;
            let shared = SessionShared::new(feed.subscribe.iter().cloned());
            let handler_deps = HandlerDeps {
                feed: name.clone(),
                provider: provider.clone(),
                metrics: metrics.clone(),
                gauge: StageGauge::new(&metrics, "handler"),
                events: events.clone(),
                outputs: outputs.clone(),
                shared: shared.clone(),
                staleness: config.staleness.clone(),
            };
            let arb = decode_handle.clone();
            let (frames, _) = child(
                &mut children,
                format!("message_handler:{name}"),
                |a: &Addr<MessageHandler>| a.clone().recipient::<RawFrame>(),
                move || {
                    let deps = handler_deps.clone();
                    supervised(&arb, q.handler_queue, move || MessageHandler::new(deps))
                },
            );
            let session_deps = SessionDeps {
                feed: name.clone(),
                url: config.feed_url(i).unwrap_or_else(|| feed.url.clone()),
                shared,
                provider: provider.clone(),
                credentials: credentials.clone(),
                connection: config.connection.clone(),
                tls: tls.clone(),
                frames: StageSender::with_slot(frames, StageGauge::new(&metrics, "handler")),
                outputs: outputs.clone(),
                on_fatal: Some(relay.clone()),
                metrics: metrics.clone(),
            };
            let arb = hot.handle();
            let (_, addr) = child(
                &mut children,
                format!("ws_session:{name}"),
                |a: &Addr<WsSession>| a.clone().recipient::<GetSessionState>(),
                move || {
                    let deps = session_deps.clone();
                    // The session's own mailbox only carries control messages.
                    supervised(&arb, 64, move || WsSession::new(deps))
                },
            );
            sessions.push((name, addr));
        }
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
        };
        Ok(Pipeline {
            handle,
            sinks,
            fatal,
            hot,
            io,
            decode,
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
