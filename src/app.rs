//! The one place that knows who talks to whom.
//!
//! [`PipelineBuilder::start`] creates every actor, on two arbiters (threads):
//! the hot path (WsSession → MessageHandler → AnomalyDetector) on one, so a
//! frame is read, decoded and checked without crossing threads; RestFetcher and
//! the sinks on the other, so TLS, JSON and disk work never take the hot
//! thread. Actors receive the `Recipient`s of their peers here and never look
//! anything up. Extension actors subscribe before start through
//! [`PipelineBuilder::subscribe_events`] and [`PipelineBuilder::subscribe_outputs`].

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use dashmap::DashMap;
use tapewatch_actors::anomaly_detector::{AnomalyDetector, DetectorDeps};
use tapewatch_actors::message_handler::{HandlerDeps, MessageHandler};
use tapewatch_actors::messages::{Events, Output};
use tapewatch_actors::metrics::Metrics;
use tapewatch_actors::provider;
use tapewatch_actors::rest_fetcher::{RestFetcher, RestFetcherDeps};
use tapewatch_actors::secret::Credentials;
use tapewatch_actors::sink::{self, Flush, LineSink};
use tapewatch_actors::stage::{Fanout, StageGauge, StageSender};
use tapewatch_actors::ws_session::{
    GetSessionState, SessionDeps, SessionFailed, SessionSnapshot, Shutdown, WsSession,
};
use tokio::sync::mpsc;

use crate::config::{Config, StdoutFormat};
use crate::pretty;

/// Collects extension actors before the pipeline starts.
pub struct PipelineBuilder {
    config: Config,
    credentials: Credentials,
    event_subscribers: Vec<Recipient<Events>>,
    output_subscribers: Vec<Recipient<Output>>,
}

/// A running pipeline.
pub struct Pipeline {
    /// The pipeline's metrics (readable, and rendered by `/metrics`).
    pub metrics: Metrics,
    sessions: Vec<Addr<WsSession>>,
    sinks: Vec<Addr<LineSink>>,
    failures: mpsc::Receiver<SessionFailed>,
    hot: Arbiter,
    io: Arbiter,
}

/// Starts a pipeline from a configuration.
pub fn builder(config: Config, credentials: Credentials) -> PipelineBuilder {
    PipelineBuilder {
        config,
        credentials,
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
    #[error("cannot open alerts file {path}: {source}")]
    AlertsFile {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
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

    /// Creates every actor and connects the feeds.
    pub fn start(self) -> Result<Pipeline, StartError> {
        tapewatch_actors::ws_client::install_crypto_provider();
        let PipelineBuilder {
            config,
            credentials,
            event_subscribers,
            output_subscribers,
        } = self;
        let metrics = Metrics::new();
        let queues = &config.pipeline;
        let provider = provider::by_name(&config.provider)
            .ok_or_else(|| StartError::Config(format!("unknown provider `{}`", config.provider)))?;
        let extra_roots = crate::tls::extra_roots(&config.tls).map_err(StartError::Config)?;
        let tls = Arc::new(
            tapewatch_actors::ws_client::tls_config(&extra_roots).map_err(StartError::Config)?,
        );
        let hot = Arbiter::new();
        let io = Arbiter::new();

        // Sinks and output subscribers: everything downstream of alerts.
        let sinks = start_sinks(&config, &metrics, &io.handle())?;
        let mut outputs = Fanout::default();
        let sink_gauge = StageGauge::new(&metrics, "sink");
        for s in &sinks {
            outputs.push(StageSender::new(s.clone().recipient(), sink_gauge.clone()));
        }
        let subscriber_gauge = StageGauge::new(&metrics, "subscriber");
        for r in output_subscribers {
            outputs.push(StageSender::new(r, subscriber_gauge.clone()));
        }

        // RestFetcher, fed by the detector.
        let rest_gauge = StageGauge::new(&metrics, "rest");
        let rest_deps = RestFetcherDeps {
            config: config.rest.clone(),
            key: (!credentials.key.is_empty()).then(|| credentials.key.clone()),
            metrics: metrics.clone(),
            gauge: rest_gauge.clone(),
            outputs: outputs.clone(),
            cache: Arc::new(DashMap::new()),
        };
        let fetcher = RestFetcher::new(rest_deps)
            .map_err(|e| StartError::Config(format!("cannot build the REST client: {e}")))?;
        let rest_capacity = queues.rest_queue;
        let rest = RestFetcher::start_in_arbiter(&io.handle(), move |ctx| {
            ctx.set_mailbox_capacity(rest_capacity);
            fetcher
        });

        // AnomalyDetector, fed by every feed's handler.
        let detector_deps = DetectorDeps {
            rules: config.detector.clone(),
            metrics: metrics.clone(),
            gauge: StageGauge::new(&metrics, "detector"),
            outputs: outputs.clone(),
            enrich: Some(StageSender::new(rest.recipient(), rest_gauge)),
            ids: Arc::new(AtomicU64::new(0)),
        };
        let detector_capacity = queues.detector_queue;
        let detector = AnomalyDetector::start_in_arbiter(&hot.handle(), move |ctx| {
            ctx.set_mailbox_capacity(detector_capacity);
            AnomalyDetector::new(detector_deps)
        });
        let mut events = Fanout::new(vec![StageSender::new(
            detector.recipient(),
            StageGauge::new(&metrics, "detector"),
        )]);
        for r in event_subscribers {
            events.push(StageSender::new(r, subscriber_gauge.clone()));
        }

        // One MessageHandler and one WsSession per feed.
        let (failure_tx, failures) = mpsc::channel(16);
        let relay = FailureRelay(failure_tx).start();
        let mut sessions = Vec::new();
        for feed in &config.feeds {
            let name: Arc<str> = feed.name.as_str().into();
            let handler_deps = HandlerDeps {
                feed: name.clone(),
                provider: provider.clone(),
                metrics: metrics.clone(),
                gauge: StageGauge::new(&metrics, "handler"),
                events: events.clone(),
            };
            let handler_capacity = queues.handler_queue;
            let handler = MessageHandler::start_in_arbiter(&hot.handle(), move |ctx| {
                ctx.set_mailbox_capacity(handler_capacity);
                MessageHandler::new(handler_deps)
            });
            let session_deps = SessionDeps {
                feed: name,
                url: feed.url.clone(),
                subscriptions: feed.subscribe.clone(),
                provider: provider.clone(),
                credentials: credentials.clone(),
                connection: config.connection.clone(),
                tls: tls.clone(),
                frames: StageSender::new(handler.recipient(), StageGauge::new(&metrics, "handler")),
                outputs: outputs.clone(),
                on_failure: Some(relay.clone().recipient()),
                metrics: metrics.clone(),
            };
            sessions.push(WsSession::start_in_arbiter(&hot.handle(), move |_| {
                WsSession::new(session_deps)
            }));
        }
        Ok(Pipeline {
            metrics,
            sessions,
            sinks,
            failures,
            hot,
            io,
        })
    }
}

fn start_sinks(
    config: &Config,
    metrics: &Metrics,
    arbiter: &ArbiterHandle,
) -> Result<Vec<Addr<LineSink>>, StartError> {
    let mut sinks = Vec::new();
    let capacity = config.pipeline.sink_queue;
    let gauge = StageGauge::new(metrics, "sink");
    let stdout_format: Option<sink::Formatter> = match config.output.stdout {
        StdoutFormat::Json => Some(sink::json_line),
        StdoutFormat::Pretty => Some(pretty::line),
        StdoutFormat::Off => None,
    };
    if let Some(format) = stdout_format {
        let (m, g) = (metrics.clone(), gauge.clone());
        sinks.push(LineSink::start_in_arbiter(arbiter, move |ctx| {
            ctx.set_mailbox_capacity(capacity);
            LineSink::new("stdout", Box::new(std::io::stdout()), format, m, g)
        }));
    }
    if let Some(path) = &config.output.alerts_file {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| StartError::AlertsFile {
                path: path.display().to_string(),
                source,
            })?;
        let (m, g) = (metrics.clone(), gauge.clone());
        sinks.push(LineSink::start_in_arbiter(arbiter, move |ctx| {
            ctx.set_mailbox_capacity(capacity);
            LineSink::new("alerts_file", Box::new(file), sink::json_line, m, g)
        }));
    }
    Ok(sinks)
}

/// Forwards terminal session failures to whoever runs the pipeline.
struct FailureRelay(mpsc::Sender<SessionFailed>);

impl Actor for FailureRelay {
    type Context = Context<Self>;
}

impl Handler<SessionFailed> for FailureRelay {
    type Result = ();
    fn handle(&mut self, msg: SessionFailed, _: &mut Context<Self>) {
        let _ = self.0.try_send(msg);
    }
}

impl Pipeline {
    /// Waits until a session fails terminally; never returns otherwise.
    pub async fn failed(&mut self) -> SessionFailed {
        match self.failures.recv().await {
            Some(f) => f,
            None => std::future::pending().await,
        }
    }

    /// Snapshots of every feed's session.
    pub async fn sessions(&self) -> Vec<SessionSnapshot> {
        let mut out = Vec::new();
        for s in &self.sessions {
            if let Ok(snapshot) = s.send(GetSessionState).await {
                out.push(snapshot);
            }
        }
        out
    }

    /// Stops reading, closes every socket with a close frame, lets in-flight
    /// REST calls finish within `grace`, flushes the sinks and stops the threads.
    pub async fn shutdown(self, grace: Duration) {
        for s in &self.sessions {
            let _ = s.send(Shutdown).await;
        }
        let deadline = tokio::time::Instant::now() + grace;
        while self.metrics.rest_in_flight.get() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for s in &self.sinks {
            let _ = s.send(Flush).await;
        }
        self.hot.stop();
        self.io.stop();
    }
}
