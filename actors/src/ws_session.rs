//! WsSession: one upstream WebSocket connection to a market-data provider.
//!
//! The session connects with awc, walks the provider's handshake (greeting →
//! auth → subscribe → acks), answers pings, and hands every data frame to
//! MessageHandler without parsing it, going straight back to reading. It never
//! waits on anything downstream: a full downstream queue sheds the frame (and
//! counts it) rather than slowing the socket, because providers disconnect
//! slow readers. Losing the socket schedules a reconnect with jittered
//! exponential backoff; a terminal error (bad key) stops the session for good.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::io::SinkWrite;
use actix::prelude::*;
use actix_codec::Framed;
use awc::error::WsProtocolError;
use awc::ws::{Codec, Frame, Message as WsMessage};
use awc::BoxedSocket;
use backon::BackoffBuilder;
use bytes::{Bytes, BytesMut};
use futures_util::stream::{SplitSink, StreamExt};
use serde::{Deserialize, Serialize};

use crate::log_limit::LogLimiter;
use crate::messages::{Output, RawFrame};
use crate::metrics::Metrics;
use crate::provider::{IssueKind, Provider};
use crate::secret::Credentials;
use crate::stage::{Fanout, StageSender};
use crate::ws_client;

mod control;
mod state;

pub use state::{SessionSnapshot, SessionState};

type WsSink = SplitSink<Framed<BoxedSocket, Codec>, WsMessage>;

/// Asks for the session's current state.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "SessionSnapshot")]
pub struct GetSessionState;

/// Closes the connection with a close frame and does not reconnect.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Shutdown;

/// Sent once when the session stops for a reason retrying cannot fix.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct SessionFailed {
    /// Feed name.
    pub feed: Arc<str>,
    /// What the provider said.
    pub reason: String,
}

/// Connection timing and limits (the `[connection]` section of the config).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionConfig {
    /// Time allowed for TCP + TLS + WebSocket upgrade, and for each handshake step.
    pub handshake_timeout_ms: u64,
    /// How often to send a WebSocket ping.
    pub ping_interval_ms: u64,
    /// No frame at all (data or pong) for this long means the socket is dead.
    pub idle_timeout_ms: u64,
    /// How long to wait for subscription acknowledgements before streaming anyway.
    pub ack_timeout_ms: u64,
    /// Largest frame (or joined fragmented message) accepted, in bytes.
    pub max_frame_bytes: usize,
    /// First reconnect delay; later ones grow exponentially with full jitter.
    pub backoff_min_ms: u64,
    /// Cap on the reconnect delay.
    pub backoff_max_ms: u64,
    /// A connection that stayed up this long resets the backoff.
    pub healthy_after_ms: u64,
    /// Wait after the provider said the key has too many connections.
    pub max_connections_cooldown_ms: u64,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            handshake_timeout_ms: 10_000,
            ping_interval_ms: 15_000,
            idle_timeout_ms: 40_000,
            ack_timeout_ms: 10_000,
            max_frame_bytes: 16 << 20,
            backoff_min_ms: 250,
            backoff_max_ms: 30_000,
            healthy_after_ms: 60_000,
            max_connections_cooldown_ms: 60_000,
        }
    }
}

/// Everything a session is built from.
pub struct SessionDeps {
    /// Feed name, used in logs, metrics and status records.
    pub feed: Arc<str>,
    /// `ws://` or `wss://` URL of the feed.
    pub url: String,
    /// Topics to subscribe after every (re)connect.
    pub subscriptions: Vec<String>,
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
    pub on_failure: Option<Recipient<SessionFailed>>,
    /// Pipeline metrics.
    pub metrics: Metrics,
}

/// The upstream connection actor.
pub struct WsSession {
    deps: SessionDeps,
    subscriptions: BTreeSet<String>,
    state: SessionState,
    state_since: Instant,
    sink: Option<SinkWrite<WsMessage, WsSink>>,
    stream: Option<SpawnHandle>,
    connection_id: u64,
    connected_at: Option<Instant>,
    last_frame: Instant,
    last_data_ms: Option<i64>,
    pending_acks: BTreeSet<String>,
    fragment: Option<(BytesMut, bool)>,
    backoff: backon::ExponentialBackoff,
    throttled: bool,
    ever_streamed: bool,
    frame_log: LogLimiter,
}

impl WsSession {
    /// A session that connects as soon as it is started.
    pub fn new(deps: SessionDeps) -> Self {
        let subscriptions = deps.subscriptions.iter().cloned().collect();
        let backoff = backoff_policy(&deps.connection);
        WsSession {
            deps,
            subscriptions,
            state: SessionState::Connecting,
            state_since: Instant::now(),
            sink: None,
            stream: None,
            connection_id: 0,
            connected_at: None,
            last_frame: Instant::now(),
            last_data_ms: None,
            pending_acks: BTreeSet::new(),
            fragment: None,
            backoff,
            throttled: false,
            ever_streamed: false,
            frame_log: LogLimiter::default(),
        }
    }

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn connect(&mut self, ctx: &mut Context<Self>) {
        self.set_state(SessionState::Connecting);
        self.connection_id += 1;
        let id = self.connection_id;
        let cfg = &self.deps.connection;
        let client =
            ws_client::ws_client(self.deps.tls.clone(), Self::ms(cfg.handshake_timeout_ms));
        let request = client
            .ws(self.deps.url.as_str())
            .max_frame_size(cfg.max_frame_bytes);
        tracing::info!(feed = %self.deps.feed, url = %self.deps.url, "connecting");
        ctx.spawn(async move { request.connect().await }.into_actor(self).map(
            move |result, act, ctx| {
                if act.connection_id != id || act.state == SessionState::Stopped {
                    return;
                }
                match result {
                    Ok((_response, framed)) => act.on_open(framed, ctx),
                    Err(e) => act.on_lost(format!("connect failed: {e}"), ctx),
                }
            },
        ));
    }

    fn on_open(&mut self, framed: Framed<BoxedSocket, Codec>, ctx: &mut Context<Self>) {
        let (sink, stream) = framed.split();
        self.stream = Some(Self::add_stream(stream, ctx));
        self.sink = Some(SinkWrite::new(sink, ctx));
        self.connected_at = Some(Instant::now());
        self.last_frame = Instant::now();
        self.fragment = None;
        self.set_state(SessionState::AwaitingGreeting);
        let id = self.connection_id;
        let timeout = Self::ms(self.deps.connection.handshake_timeout_ms);
        ctx.run_later(timeout, move |act, ctx| {
            if act.connection_id == id
                && matches!(
                    act.state,
                    SessionState::AwaitingGreeting | SessionState::Authenticating
                )
            {
                act.on_lost(
                    format!(
                        "handshake not finished within {timeout:?} ({})",
                        act.state.label()
                    ),
                    ctx,
                );
            }
        });
    }

    /// The socket is gone (or must go): drop it and schedule a reconnect.
    fn on_lost(&mut self, reason: String, ctx: &mut Context<Self>) {
        if matches!(self.state, SessionState::Stopped | SessionState::Backoff) {
            return;
        }
        let was_streaming = self.state == SessionState::Streaming;
        self.drop_socket(ctx);
        let healthy = self
            .connected_at
            .is_some_and(|t| t.elapsed() >= Self::ms(self.deps.connection.healthy_after_ms));
        if healthy {
            self.backoff = backoff_policy(&self.deps.connection);
        }
        let delay = if std::mem::take(&mut self.throttled) {
            Self::ms(self.deps.connection.max_connections_cooldown_ms)
        } else {
            self.backoff
                .next()
                .unwrap_or(Self::ms(self.deps.connection.backoff_max_ms))
        };
        tracing::warn!(feed = %self.deps.feed, %reason, retry_in = ?delay, "upstream connection lost");
        if was_streaming {
            self.emit_status(
                "disconnected",
                format!("{reason}; reconnecting in {delay:?}"),
                self.last_data_ms,
                None,
            );
        }
        self.set_state(SessionState::Backoff);
        ctx.run_later(delay, |act, ctx| {
            if act.state == SessionState::Backoff {
                act.deps.metrics.reconnects.inc();
                act.connect(ctx);
            }
        });
    }

    fn drop_socket(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.stream.take() {
            ctx.cancel_future(handle);
        }
        if let Some(mut sink) = self.sink.take() {
            sink.close();
        }
        self.deps
            .metrics
            .connected
            .with_label_values(&[&self.deps.feed])
            .set(0);
        self.pending_acks.clear();
        self.fragment = None;
    }

    fn send_text(&mut self, text: String) {
        if let Some(sink) = self.sink.as_mut() {
            // SinkWrite buffers without bound, which is acceptable for the few
            // control messages (auth, subscribe, pong) ever written here.
            if sink.write(WsMessage::Text(text.into())).is_err() {
                tracing::debug!(feed = %self.deps.feed, "write on a closing socket");
            }
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

    fn on_text(&mut self, bytes: Bytes, ctx: &mut Context<Self>) {
        let control = self.deps.provider.control(&bytes);
        for event in control.events {
            self.on_control(event, ctx);
        }
        if control.has_data {
            self.forward(bytes);
        }
    }

    fn forward(&mut self, bytes: Bytes) {
        let metrics = &self.deps.metrics;
        metrics.frames.inc();
        metrics.frame_bytes.inc_by(bytes.len() as u64);
        self.last_data_ms = Some(crate::messages::unix_ms());
        // A shed frame is already counted in tapewatch_dropped_total{stage}.
        let _ = self.deps.frames.offer(RawFrame {
            bytes,
            received_at: Instant::now(),
        });
    }

    fn count_bad_frame(&mut self, kind: IssueKind, detail: &str) {
        self.deps.metrics.decode_errors(kind).inc();
        if let crate::log_limit::LogVerdict::Log { suppressed } =
            self.frame_log.check(Instant::now())
        {
            tracing::warn!(feed = %self.deps.feed, kind = kind.label(), suppressed, "{detail}");
        }
    }
}

fn backoff_policy(cfg: &ConnectionConfig) -> backon::ExponentialBackoff {
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(cfg.backoff_min_ms))
        .with_max_delay(Duration::from_millis(cfg.backoff_max_ms))
        .with_jitter()
        .without_max_times()
        .build()
}

impl Actor for WsSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let interval = Self::ms(self.deps.connection.ping_interval_ms);
        ctx.run_interval(interval, |act, ctx| act.heartbeat(ctx));
        self.connect(ctx);
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.deps
            .metrics
            .connected
            .with_label_values(&[&self.deps.feed])
            .set(0);
    }
}

impl StreamHandler<Result<Frame, WsProtocolError>> for WsSession {
    fn handle(&mut self, item: Result<Frame, WsProtocolError>, ctx: &mut Context<Self>) {
        self.last_frame = Instant::now();
        match item {
            Ok(Frame::Text(bytes)) => self.on_text(bytes, ctx),
            Ok(Frame::Binary(bytes)) => self.count_bad_frame(
                IssueKind::NotText,
                &format!("binary frame of {} bytes skipped", bytes.len()),
            ),
            Ok(Frame::Continuation(item)) => self.on_continuation(item, ctx),
            Ok(Frame::Ping(payload)) => {
                if let Some(sink) = self.sink.as_mut() {
                    let _ = sink.write(WsMessage::Pong(payload));
                }
            }
            Ok(Frame::Pong(_)) => {}
            Ok(Frame::Close(reason)) => {
                let why = reason.map_or_else(
                    || "no reason".to_owned(),
                    |r| format!("{:?} {}", r.code, r.description.unwrap_or_default()),
                );
                self.on_lost(format!("server closed the connection ({why})"), ctx);
            }
            Err(WsProtocolError::Overflow) => self.count_bad_frame(
                IssueKind::TooLarge,
                &format!(
                    "frame over {} bytes skipped",
                    self.deps.connection.max_frame_bytes
                ),
            ),
            Err(e) => self.on_lost(format!("protocol error: {e}"), ctx),
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        self.on_lost(
            "connection closed by the server without a close frame".to_owned(),
            ctx,
        );
    }
}

impl actix::io::WriteHandler<WsProtocolError> for WsSession {
    fn error(&mut self, err: WsProtocolError, ctx: &mut Context<Self>) -> Running {
        self.on_lost(format!("write failed: {err}"), ctx);
        Running::Continue
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        // The default stops the actor; a closed sink only means this connection ended.
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
        if let Some(sink) = self.sink.as_mut() {
            let _ = sink.write(WsMessage::Close(Some(awc::ws::CloseCode::Normal.into())));
        }
        self.set_state(SessionState::Stopped);
        self.deps
            .metrics
            .connected
            .with_label_values(&[&self.deps.feed])
            .set(0);
        // Let the close frame go out before the stream is dropped.
        ctx.run_later(Duration::from_millis(50), |act, ctx| act.drop_socket(ctx));
    }
}
