//! A feed's own stages: its MessageHandler, its recorder when recording, and
//! the WsSession that feeds both; or, for a replay, the handler alone, fed
//! by the replay source in place of the session.

use std::sync::Arc;

use actix::prelude::*;
use tapewatch_actors::message_handler::{HandlerDeps, MessageHandler};
use tapewatch_actors::messages::{Events, Output, RawFrame};
use tapewatch_actors::provider::Provider;
use tapewatch_actors::recorder::Recorder;
use tapewatch_actors::secret::Credentials;
use tapewatch_actors::stage::{Fanout, StageSender};
use tapewatch_actors::subscription_store::SubscriptionStore;
use tapewatch_actors::ws_session::{GetSessionState, SessionDeps, SessionShared, WsSession};

use super::super::supervise::{bounded, child, AddrSlot};
use super::super::wiring::Wiring;
use super::super::StartError;
use crate::config::Config;

/// Everything one feed's stages are built from.
pub(in crate::app) struct FeedSpec {
    pub name: Arc<str>,
    pub url: String,
    pub subscribe: Vec<String>,
    /// One provider instance per feed: a provider may keep per-connection
    /// protocol state (Alpaca remembers how each topic was spelled).
    pub provider: Arc<dyn Provider>,
    pub credentials: Credentials,
    pub tls: Arc<rustls::ClientConfig>,
}

impl Wiring {
    /// A feed's MessageHandler, supervised; returns where its frames go.
    pub fn handler(
        &mut self,
        config: &Config,
        feed: &Arc<str>,
        provider: Arc<dyn Provider>,
        shared: Arc<SessionShared>,
        (events, outputs): (&Fanout<Events>, &Fanout<Output>),
    ) -> StageSender<RawFrame> {
        let gauge = self.gauges.handler.for_actor();
        let handler = HandlerDeps {
            feed: feed.clone(),
            provider,
            metrics: self.metrics.clone(),
            gauge: gauge.clone(),
            events: events.clone(),
            outputs: outputs.clone(),
            shared,
            staleness: config.staleness.clone(),
        };
        let arb = self
            .decode
            .as_ref()
            .map_or_else(|| self.hot.handle(), Arbiter::handle);
        let queue = self.queues.handler_queue;
        let (frames, _) = child(
            &mut self.children,
            format!("message_handler:{feed}"),
            Some(gauge.clone()),
            |a: &Addr<MessageHandler>| a.clone().recipient::<RawFrame>(),
            move || {
                let deps = handler.clone();
                bounded(&arb, queue, move || MessageHandler::new(deps))
            },
        );
        StageSender::with_slot(frames, gauge)
    }

    /// One live feed: its MessageHandler, its recorder when `[record] dir`
    /// is set (an unusable directory fails the start), then the WsSession
    /// that feeds them. The subscription set and gap history live in
    /// `SessionShared` and survive restarts of either actor.
    pub fn feed(
        &mut self,
        config: &Config,
        feed: FeedSpec,
        events: &Fanout<Events>,
        outputs: &Fanout<Output>,
    ) -> Result<AddrSlot<WsSession>, StartError> {
        let store =
            (config.state.dir.as_deref()).map(|dir| SubscriptionStore::new(dir, &feed.name));
        let topics = match &store {
            Some(store) => store.load_or(feed.subscribe),
            None => feed.subscribe,
        };
        let shared = SessionShared::new(topics);
        let frames = self.handler(
            config,
            &feed.name,
            feed.provider.clone(),
            shared.clone(),
            (events, outputs),
        );
        let recorder = match &config.record.dir {
            Some(dir) => {
                let provider = feed.provider.name();
                let recorder =
                    Recorder::start(&config.record, dir, &feed.name, provider, &self.metrics)
                        .map_err(|e| StartError::Config(e.to_string()))?;
                self.recorders.push(recorder.clone());
                Some(recorder)
            }
            None => None,
        };
        let session = SessionDeps {
            feed: feed.name.clone(),
            url: feed.url,
            shared,
            provider: feed.provider,
            credentials: feed.credentials,
            connection: config.connection.clone(),
            tls: feed.tls,
            frames,
            outputs: outputs.clone(),
            on_fatal: Some(self.feed_stops.clone()),
            store,
            metrics: self.metrics.clone(),
            recorder,
        };
        let arb = self.hot.handle();
        let (_, addr) = child(
            &mut self.children,
            format!("ws_session:{}", feed.name),
            // The session's own mailbox only carries control messages, sent
            // and answered, not shed.
            None,
            |a: &Addr<WsSession>| a.clone().recipient::<GetSessionState>(),
            move || {
                let deps = session.clone();
                bounded(&arb, 64, move || WsSession::new(deps))
            },
        );
        Ok(addr)
    }
}
