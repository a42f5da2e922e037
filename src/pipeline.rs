//! A running pipeline and the handle that controls it.
//!
//! [`PipelineHandle`] is cheap to clone and `Send + Sync`, so HTTP handlers on
//! other threads can read metrics, query sessions, change subscriptions, pause,
//! resume, look contracts up and read recent alerts. [`Pipeline`] owns the
//! threads and the fatal-error channel, and shuts everything down.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tapewatch_actors::alert_ring::{AlertRecord, AlertRing};
use tapewatch_actors::events::Symbol;
use tapewatch_actors::guardian::{CrashChild, Guardian, StandDown};
use tapewatch_actors::messages::{Fatal, RawFrame};
use tapewatch_actors::metrics::Metrics;
use tapewatch_actors::recorder::Recorder;
use tapewatch_actors::rest_fetcher::{Lookup, LookupError, RestFetcher};
use tapewatch_actors::sink::{Flush, LineSink};
use tapewatch_actors::stage::StageSender;
use tapewatch_actors::ws_session::{
    ChangeSubscriptions, GetSessionState, Pause, Resume, SessionSnapshot, SessionState, Shutdown,
    SubscriptionError, SubscriptionReply, WsSession,
};
use tokio::sync::mpsc;

use crate::app::AddrSlot;

/// How long shutdown waits for each recorder to close its file.
const RECORDER_CLOSE: Duration = Duration::from_secs(2);

/// Shared, thread-safe access to a running pipeline.
#[derive(Clone)]
pub struct PipelineHandle {
    /// The pipeline's metrics (readable, and rendered by `/metrics`).
    pub metrics: Metrics,
    pub(crate) sessions: Arc<Vec<(Arc<str>, AddrSlot<WsSession>)>>,
    pub(crate) guardian: Addr<Guardian>,
    pub(crate) rest_fetcher: AddrSlot<RestFetcher>,
    pub(crate) alerts: AlertRing,
    /// `tapewatch_nats_ready`, when the pipeline publishes to NATS.
    pub(crate) nats_ready: Option<prometheus::IntGauge>,
}

/// A running pipeline.
pub struct Pipeline {
    pub(crate) handle: PipelineHandle,
    pub(crate) hub: Option<AddrSlot<crate::http::Hub>>,
    pub(crate) sinks: Vec<AddrSlot<LineSink>>,
    pub(crate) fatal: mpsc::Receiver<Fatal>,
    pub(crate) hot: Arbiter,
    pub(crate) decode: Option<Arbiter>,
    pub(crate) io: Arbiter,
    /// Each recording feed's recorder.
    pub(crate) recorders: Vec<Recorder>,
    /// Where each feed's frames go when the pipeline replays a recording.
    pub(crate) replay_inputs: Vec<(Arc<str>, StageSender<RawFrame>)>,
}

impl Deref for Pipeline {
    type Target = PipelineHandle;
    fn deref(&self) -> &PipelineHandle {
        &self.handle
    }
}

/// Why a control request failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// No feed has that name.
    #[error("no feed named `{0}`")]
    UnknownFeed(String),
    /// The actor could not be reached (it is restarting).
    #[error("the pipeline is restarting that part; try again")]
    Unavailable,
    /// The subscription change failed.
    #[error(transparent)]
    Subscription(#[from] SubscriptionError),
    /// The lookup failed.
    #[error(transparent)]
    Lookup(#[from] LookupError),
}

impl PipelineHandle {
    /// Snapshots of every feed's session.
    pub async fn sessions(&self) -> Vec<SessionSnapshot> {
        let mut out = Vec::new();
        for (_, s) in self.sessions.iter() {
            let addr = s.load_full();
            if let Ok(snapshot) = addr.send(GetSessionState).await {
                out.push(snapshot);
            }
        }
        out
    }

    /// True when every feed is connected, authenticated and subscribed.
    pub async fn ready(&self) -> bool {
        let sessions = self.sessions().await;
        sessions.len() == self.sessions.len()
            && sessions.iter().all(|s| s.state == SessionState::Streaming)
            && self.nats_ready.as_ref().is_none_or(|g| g.get() == 1)
    }

    /// Names of the configured feeds.
    pub fn feeds(&self) -> Vec<Arc<str>> {
        self.sessions.iter().map(|(name, _)| name.clone()).collect()
    }

    /// Adds and removes topics on one feed's live connection; answers once the
    /// provider acknowledged (or with its error).
    pub async fn change_subscriptions(
        &self,
        feed: &str,
        change: ChangeSubscriptions,
    ) -> Result<SubscriptionReply, ControlError> {
        let (_, session) = self
            .sessions
            .iter()
            .find(|(name, _)| &**name == feed)
            .ok_or_else(|| ControlError::UnknownFeed(feed.to_owned()))?;
        let addr = session.load_full();
        let reply = addr
            .send(change)
            .await
            .map_err(|_| ControlError::Unavailable)?;
        Ok(reply?)
    }

    /// Closes every upstream connection cleanly and keeps the subscriptions;
    /// nothing reconnects until [`PipelineHandle::resume`].
    pub async fn pause(&self) {
        for (_, s) in self.sessions.iter() {
            let _ = s.load_full().send(Pause).await;
        }
    }

    /// Reconnects and resubscribes every paused feed.
    pub async fn resume(&self) {
        for (_, s) in self.sessions.iter() {
            let _ = s.load_full().send(Resume).await;
        }
    }

    /// Reference data for a ticker, through RestFetcher's cache and single-flight.
    pub async fn lookup(&self, ticker: &str) -> Result<Arc<serde_json::Value>, ControlError> {
        let addr = self.rest_fetcher.load_full();
        let lookup = Lookup {
            ticker: Symbol::new(ticker),
        };
        let answer = addr
            .send(lookup)
            .await
            .map_err(|_| ControlError::Unavailable)?;
        Ok(answer?)
    }

    /// The most recent alerts with their enrichment, newest first.
    pub fn recent_alerts(&self, limit: usize, symbol: Option<&str>) -> Vec<AlertRecord> {
        self.alerts.recent(limit, symbol)
    }

    /// Makes the named actor panic, to drill supervision; false if no such actor.
    /// Names: `ws_session:FEED`, `message_handler:FEED`, `anomaly_detector`,
    /// `rest_fetcher`, `sink:stdout`, `sink:alerts_file`, `sink:alert_ring`,
    /// and `hub` when there is one.
    pub async fn crash(&self, actor: &str) -> bool {
        self.guardian
            .send(CrashChild(actor.to_owned()))
            .await
            .unwrap_or(false)
    }
}

impl Pipeline {
    /// A clonable handle for other threads (the HTTP server).
    pub fn handle(&self) -> PipelineHandle {
        self.handle.clone()
    }

    /// The current address of the `/ws` hub, when the builder was asked for
    /// one ([`crate::app::PipelineBuilder::with_hub`]); it follows restarts.
    pub fn hub(&self) -> Option<crate::http::HubSlot> {
        self.hub.clone()
    }

    /// Each feed's entry into its MessageHandler, when the pipeline was built
    /// to replay a recording ([`crate::app::PipelineBuilder::replay`]); empty
    /// for a live pipeline.
    pub fn replay_inputs(&self) -> &[(Arc<str>, StageSender<RawFrame>)] {
        &self.replay_inputs
    }

    /// Waits until the pipeline fails in a way it cannot recover from.
    pub async fn failed(&mut self) -> Fatal {
        match self.fatal.recv().await {
            Some(f) => f,
            None => std::future::pending().await,
        }
    }

    /// Stops reading, closes every socket with a close frame, lets in-flight
    /// REST calls finish within `grace`, flushes the sinks and stops the threads.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.guardian.send(StandDown).await;
        for (_, s) in self.sessions.iter() {
            let _ = s.load_full().send(Shutdown).await;
        }
        // The sessions recorded their last frames; close each recording's
        // current zstd frame so the files end whole.
        for recorder in &self.recorders {
            if !recorder.finish(RECORDER_CLOSE) {
                tracing::warn!(
                    "the recorder did not close its file in time; its last frame may be cut"
                );
            }
        }
        let deadline = tokio::time::Instant::now() + grace;
        while self.metrics.rest_in_flight.get() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for s in &self.sinks {
            let _ = s.load_full().send(Flush).await;
        }
        self.hot.stop();
        if let Some(decode) = &self.decode {
            decode.stop();
        }
        self.io.stop();
    }
}
