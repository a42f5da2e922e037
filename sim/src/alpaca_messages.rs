//! How an Alpaca connection answers client messages: auth, subscribe,
//! unsubscribe, pings and closes, with the codes of reference §4.4.
//!
//! - `auth` with the right key and secret (or any, when the simulator has
//!   none set): `success`/`authenticated`; a wrong one: 402 `auth failed` and
//!   Close 1008; a second `auth`: 403 `already authenticated`; over the
//!   connection limit: 406 `connection limit exceeded` in place of
//!   `authenticated`, then Close 1008.
//! - `subscribe`/`unsubscribe` before auth: 401 `not authenticated`; with a
//!   channel the feed lacks: 410; otherwise the full `subscription` echo.
//! - Anything unreadable: 400 `invalid syntax`; the connection stays open.
//!
//! Every answer goes out before any further data, as with Polygon. A deaf
//! connection reads and logs every message but answers none.

use actix_ws::Session;
use serde_json::Value;
use tapewatch_actors::secret::ApiKey;

use super::alpaca_feed::{AlpacaFeed, AlpacaSession, Encoding};
use super::alpaca_protocol::{parse_action, redact_for_log, AlpacaAction, ChannelLists};
use super::alpaca_subscriptions::AlpacaSubscriptions;
use super::alpaca_wire::{control_frame, encode, Control, Payload};
use super::connection::{policy_close, Connection, Flow};
use super::connection_data::PendingFrame;
use super::connection_faults::Mode;
use super::stats::SimStats;

/// The error for a message that does not follow the protocol.
const INVALID_SYNTAX: (u16, &str) = (400, "invalid syntax");
/// The error Alpaca sends when the connection limit is reached.
pub(crate) const CONNECTION_LIMIT: (u16, &str) = (406, "connection limit exceeded");
/// The error Alpaca sends when no `auth` came in time.
pub(crate) const AUTH_TIMEOUT: (u16, &str) = (404, "auth timeout");

/// What only an Alpaca connection has.
#[derive(Debug, Clone)]
pub(crate) struct AlpacaState {
    /// Its feed and encoding.
    pub session: AlpacaSession,
    /// Its channels.
    pub subscriptions: AlpacaSubscriptions,
}

impl AlpacaState {
    /// A fresh state with no channel subscribed.
    pub(crate) fn new(session: AlpacaSession) -> Self {
        AlpacaState {
            session,
            subscriptions: AlpacaSubscriptions::default(),
        }
    }
}

impl Connection {
    /// The feed of an Alpaca connection; None for Polygon.
    pub(super) fn alpaca_feed(&self) -> Option<AlpacaFeed> {
        self.alpaca.as_ref().map(|a| a.session.feed)
    }

    /// Handles one client message of an Alpaca connection, already read from
    /// its JSON or msgpack frame (None when it did not parse).
    pub(super) async fn on_alpaca_message(
        &mut self,
        session: &mut Session,
        value: Option<Value>,
    ) -> Flow {
        let action = value.as_ref().map_or(AlpacaAction::Invalid, parse_action);
        let stats = &self.shared.stats;
        stats.record_client_message(redact_for_log(value));
        if let AlpacaAction::Subscribe(_) = action {
            stats.count_subscribe(self.id);
        }
        if self.mode == Mode::Deaf {
            return Flow::Continue;
        }
        match action {
            AlpacaAction::Invalid => self.alpaca_reply(session, error(INVALID_SYNTAX)).await,
            AlpacaAction::Auth { key, secret } => self.alpaca_auth(session, &key, &secret).await,
            AlpacaAction::Subscribe(_) | AlpacaAction::Unsubscribe(_) if !self.authenticated => {
                let not_authenticated = Control::error(401, "not authenticated");
                self.alpaca_reply(session, not_authenticated).await
            }
            AlpacaAction::Subscribe(lists) => self.alpaca_subscribe(session, &lists, true).await,
            AlpacaAction::Unsubscribe(lists) => self.alpaca_subscribe(session, &lists, false).await,
        }
    }

    async fn alpaca_auth(&mut self, session: &mut Session, key: &str, secret: &str) -> Flow {
        SimStats::add(&self.shared.stats.auth_attempts, 1);
        if self.authenticated {
            let again = Control::error(403, "already authenticated");
            return self.alpaca_reply(session, again).await;
        }
        let matches = |expected: &Option<ApiKey>, given: &str| {
            expected.as_ref().is_none_or(|e| e.expose() == given)
        };
        if !(matches(&self.shared.key, key) && matches(&self.shared.secret, secret)) {
            SimStats::add(&self.shared.stats.auth_failures, 1);
            let _ = self
                .send_alpaca(session, &Control::error(402, "auth failed"))
                .await;
            self.close(session.clone(), policy_close("auth failed"))
                .await;
            return Flow::Stop;
        }
        // Alpaca answers an extra session with 406 where `authenticated`
        // would come, so the connection never counts as authenticated.
        if self.over_connection_limit(Some(key)) {
            return self.reject_over_limit(session).await;
        }
        self.authenticated = true;
        self.alpaca_reply(session, Control::success("authenticated"))
            .await
    }

    async fn alpaca_subscribe(
        &mut self,
        session: &mut Session,
        lists: &ChannelLists,
        on: bool,
    ) -> Flow {
        let Some(state) = self.alpaca.as_mut() else {
            return Flow::Continue;
        };
        if let Err(refused) = state.subscriptions.apply(lists, on) {
            return self.alpaca_reply(session, error(refused)).await;
        }
        let echo = encode(&[state.subscriptions.echo()], state.session.encoding);
        // A frame built before an unsubscribe must not deliver what the client
        // just turned off, as on the Polygon side.
        if let Some(pending) = self.pending.take() {
            let wanted = pending.events.into_iter().filter(|e| self.wants(e));
            self.pending = PendingFrame::build(self.frame_format(), wanted.collect());
        }
        match echo {
            Some(payload) => self.send_payload(session, payload).await,
            None => Flow::Continue,
        }
    }

    /// Sends a control message and says whether the connection goes on.
    pub(super) async fn alpaca_reply(&self, session: &mut Session, control: Control) -> Flow {
        match self.send_alpaca(session, &control).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Stop,
        }
    }

    /// Sends one control message, alone in its array, and counts it.
    pub(super) async fn send_alpaca(
        &self,
        session: &mut Session,
        control: &Control,
    ) -> Result<(), actix_ws::Closed> {
        let encoding = self.encoding();
        let Some(payload) = control_frame(control, encoding) else {
            return Ok(());
        };
        send(session, payload).await?;
        SimStats::add(&self.shared.stats.frames_sent, 1);
        Ok(())
    }

    async fn send_payload(&self, session: &mut Session, payload: Payload) -> Flow {
        if send(session, payload).await.is_err() {
            return Flow::Stop;
        }
        SimStats::add(&self.shared.stats.frames_sent, 1);
        Flow::Continue
    }

    /// Answers an Alpaca connection over the limit: 406, then Close 1008.
    pub(super) async fn reject_alpaca_over_limit(&mut self, session: &mut Session) -> Flow {
        if self
            .send_alpaca(session, &error(CONNECTION_LIMIT))
            .await
            .is_ok()
        {
            SimStats::add(&self.shared.stats.max_connections_sent, 1);
        }
        let reason = policy_close("connection limit exceeded");
        self.close(session.clone(), reason).await;
        Flow::Stop
    }

    /// The encoding of the connection's frames (JSON for Polygon).
    pub(super) fn encoding(&self) -> Encoding {
        self.alpaca
            .as_ref()
            .map_or(Encoding::Json, |a| a.session.encoding)
    }
}

/// An `error` control message from a (code, text) pair.
pub(super) fn error((code, msg): (u16, &'static str)) -> Control {
    Control::error(code, msg)
}

async fn send(session: &mut Session, payload: Payload) -> Result<(), actix_ws::Closed> {
    match payload {
        Payload::Text(text) => session.text(text).await,
        Payload::Binary(bytes) => session.binary(bytes).await,
    }
}
