//! WsSession: one upstream WebSocket connection to a market-data provider.
//!
//! The session connects with awc, walks the provider's handshake (greeting →
//! auth → subscribe → acks), answers pings, and hands every data frame to
//! MessageHandler without parsing it, going straight back to reading. It never
//! waits on anything downstream: a full downstream queue sheds the frame (and
//! counts it) rather than slowing the socket, because providers disconnect
//! slow readers. Losing the socket schedules a reconnect with exponential
//! backoff and full jitter; a terminal error (bad key) stops the session for
//! good and reports a [`Fatal`].

use std::sync::Arc;
use std::time::Instant;

use actix::io::SinkWrite;
use actix::prelude::*;
use actix_codec::Framed;
use awc::ws::Message as WsMessage;
use awc::BoxedSocket;
use bytes::BytesMut;
use futures_util::sink::SinkMapErr;
use futures_util::stream::SplitSink;

use crate::log_limit::LogLimiter;
use crate::messages::{Crash, Fatal, Output, RawFrame};
use crate::metrics::Metrics;
use crate::provider::Provider;
use crate::secret::Credentials;
use crate::stage::{Fanout, StageSender};

mod backoff;
mod changes;
mod commands;
mod config;
mod connection;
mod control;
mod frame_limit;
mod script;
mod shared;
mod state;

pub use backoff::ReconnectBackoff;
pub use commands::{ChangeSubscriptions, Pause, Resume, SubscriptionError, SubscriptionReply};
pub use config::ConnectionConfig;
pub use shared::SessionShared;
pub use state::{SessionSnapshot, SessionState};

type WsSink = SinkMapErr<
    SplitSink<Framed<BoxedSocket, frame_limit::FrameLimit>, WsMessage>,
    connection::TagError,
>;

/// Asks for the session's current state.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "SessionSnapshot")]
pub struct GetSessionState;

/// Closes the connection with a close frame and does not reconnect.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Shutdown;

/// Everything a session is built from; cloned for each incarnation.
#[derive(Clone)]
pub struct SessionDeps {
    /// Feed name, used in logs, metrics and status records.
    pub feed: Arc<str>,
    /// `ws://` or `wss://` URL of the feed.
    pub url: String,
    /// Subscriptions and history that survive restarts.
    pub shared: Arc<SessionShared>,
    /// The provider's protocol.
    pub provider: Arc<dyn Provider>,
    /// Key (and secret) for the auth message.
    pub credentials: Credentials,
    /// Timing and limits.
    pub connection: ConnectionConfig,
    /// TLS settings for `wss://`.
    pub tls: Arc<rustls::ClientConfig>,
    /// Where data frames go (MessageHandler).
    pub frames: StageSender<RawFrame>,
    /// Where status records go (sinks).
    pub outputs: Fanout<Output>,
    /// Told once if the session fails terminally.
    pub on_fatal: Option<Recipient<Fatal>>,
    /// Where the subscription set is saved after each settled change
    /// (`[state] dir`); `None` keeps it in memory only.
    pub store: Option<Arc<crate::subscription_store::SubscriptionStore>>,
    /// Pipeline metrics.
    pub metrics: Metrics,
    /// Where every frame received and sent, and every connection event, is
    /// recorded (`run --record`); `None` records nothing.
    pub recorder: Option<crate::recorder::Recorder>,
}

/// The upstream connection actor.
pub struct WsSession {
    deps: SessionDeps,
    state: SessionState,
    state_since: Instant,
    sink: Option<SinkWrite<WsMessage, WsSink>>,
    stream: Option<SpawnHandle>,
    connection_id: u64,
    connected_at: Option<Instant>,
    last_frame: Instant,
    ping_sent_at: Option<Instant>,
    pending_acks: std::collections::BTreeSet<String>,
    fragment: Option<(BytesMut, bool)>,
    backoff: ReconnectBackoff,
    throttled: bool,
    frame_log: LogLimiter,
    changes: Vec<changes::PendingChange>,
    change_seq: u64,
    /// The connection's protocol script, for providers that have one.
    script: Option<Box<dyn crate::provider::script::Script>>,
    /// The timer of the script's heartbeat messages.
    beat: Option<SpawnHandle>,
}

impl WsSession {
    /// A session that connects as soon as it is started.
    pub fn new(deps: SessionDeps) -> Self {
        let backoff = ReconnectBackoff::new(
            ms(deps.connection.backoff_min_ms),
            ms(deps.connection.backoff_max_ms),
        );
        WsSession {
            deps,
            state: SessionState::Connecting,
            state_since: Instant::now(),
            sink: None,
            stream: None,
            connection_id: 0,
            connected_at: None,
            last_frame: Instant::now(),
            ping_sent_at: None,
            pending_acks: Default::default(),
            fragment: None,
            backoff,
            throttled: false,
            frame_log: LogLimiter::default(),
            changes: Vec::new(),
            change_seq: 0,
            script: None,
            beat: None,
        }
    }

    /// `tapewatch_connected{feed}`: 1 while streaming, 0 otherwise.
    fn set_connected(&self, up: bool) {
        self.deps.shared.set_streaming(up);
        self.deps
            .metrics
            .connected
            .with_label_values(&[&self.deps.feed])
            .set(i64::from(up));
    }

    /// Records a connection event of the current connection, if recording.
    fn record(&self, entry: crate::recording::Entry) {
        if let Some(recorder) = &self.deps.recorder {
            recorder.event(self.connection_id, entry);
        }
    }

    fn set_state(&mut self, state: SessionState) {
        self.state = state;
        self.state_since = Instant::now();
    }

    fn emit_status(
        &self,
        state: &str,
        message: String,
        gap_from_ms: Option<i64>,
        gap_to_ms: Option<i64>,
    ) {
        let record = crate::messages::StatusRecord {
            feed: self.deps.feed.clone(),
            state: state.to_owned(),
            message,
            at_ms: crate::messages::unix_ms(),
            gap_from_ms,
            gap_to_ms,
        };
        self.deps.outputs.offer(Output::Status(Arc::new(record)));
    }
}

fn ms(v: u64) -> std::time::Duration {
    std::time::Duration::from_millis(v)
}

impl Actor for WsSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Check often enough to honour both the ping and the pong deadlines.
        let tick = ms(self
            .deps
            .connection
            .ping_after_ms
            .min(self.deps.connection.pong_timeout_ms)
            / 4)
        .max(ms(10));
        ctx.run_interval(tick, |act, ctx| act.heartbeat(ctx));
        self.connect(ctx);
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.set_connected(false);
    }
}

impl Handler<GetSessionState> for WsSession {
    type Result = MessageResult<GetSessionState>;
    fn handle(&mut self, _: GetSessionState, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.snapshot())
    }
}

impl Handler<Shutdown> for WsSession {
    type Result = ();
    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) {
        self.set_state(SessionState::Stopped);
        self.close_socket(ctx);
    }
}

impl Handler<Crash> for WsSession {
    type Result = ();
    fn handle(&mut self, _: Crash, _: &mut Context<Self>) {
        panic!("WsSession {}: crash requested", self.deps.feed);
    }
}

#[cfg(test)]
mod raw_server;
#[cfg(test)]
mod tests;
