//! Opening, reading and losing the socket.

use std::time::Instant;

use actix::io::SinkWrite;
use actix::prelude::*;
use actix_codec::Framed;
use awc::error::WsProtocolError;
use awc::ws::{Codec, Frame, Message as WsMessage};
use awc::BoxedSocket;
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use futures_util::SinkExt;

use super::frame_limit::FrameLimit;
use super::{ms, SessionState, WsSession};
use crate::log_limit::LogVerdict;
use crate::messages::RawFrame;
use crate::provider::IssueKind;
use crate::recording::Entry;
use crate::ws_client;

/// How long the write half of a socket closed on request outlives it.
const CLOSE_FLUSH: std::time::Duration = std::time::Duration::from_millis(50);

/// What one connection's read half yields, tagged with the connection, so
/// that nothing of an earlier socket can act on a later one.
pub(super) struct SocketEvent {
    conn: u64,
    /// A frame or a protocol error; `None` once the stream has ended.
    item: Option<Result<Frame, WsProtocolError>>,
}

impl Message for SocketEvent {
    type Result = ();
}

/// A write that failed on connection `conn`.
pub(super) struct WriteError {
    conn: u64,
    error: WsProtocolError,
}

/// Tags a write error with its connection.
pub(super) type TagError = Box<dyn FnOnce(WsProtocolError) -> WriteError>;

impl WsSession {
    pub(super) fn connect(&mut self, ctx: &mut Context<Self>) {
        self.set_state(SessionState::Connecting);
        self.connection_id += 1;
        let id = self.connection_id;
        let cfg = &self.deps.connection;
        let client = ws_client::ws_client(self.deps.tls.clone(), ms(cfg.handshake_timeout_ms));
        // The upgrade may carry secrets (a token in the URL or a header): it
        // goes on the wire only; the log shows the configured URL.
        let target = self.deps.provider.upgrade(&self.deps.url);
        let mut request = client
            .ws(target.url.as_str())
            .max_frame_size(cfg.max_frame_bytes);
        for (name, value) in &target.headers {
            request = request.header(name.as_str(), value.expose());
        }
        tracing::info!(feed = %self.deps.feed, url = %self.deps.url, attempt = id, "connecting");
        let connecting = async move { request.connect().await };
        ctx.spawn(connecting.into_actor(self).map(move |result, act, ctx| {
            if act.connection_id != id
                || matches!(act.state, SessionState::Stopped | SessionState::Paused)
            {
                return;
            }
            match result {
                Ok((_response, framed)) => act.on_open(framed, ctx),
                Err(e) => act.on_lost(format!("connect failed: {e}"), ctx),
            }
        }));
    }

    fn on_open(&mut self, framed: Framed<BoxedSocket, Codec>, ctx: &mut Context<Self>) {
        let limit = self.deps.connection.max_frame_bytes;
        let framed = framed.into_map_codec(|codec| FrameLimit::new(codec, limit));
        let (sink, frames) = framed.split();
        let conn = self.connection_id;
        let tag: TagError = Box::new(move |error| WriteError { conn, error });
        let events = frames
            .map(move |item| SocketEvent {
                conn,
                item: Some(item),
            })
            .chain(stream::once(
                async move { SocketEvent { conn, item: None } },
            ));
        self.stream = Some(Self::add_stream(events, ctx));
        self.sink = Some(SinkWrite::new(sink.sink_map_err(tag), ctx));
        self.connected_at = Some(Instant::now());
        self.record(Entry::Connected(without_query(&self.deps.url)));
        self.last_frame = Instant::now();
        self.ping_sent_at = None;
        self.fragment = None;
        self.set_state(SessionState::AwaitingGreeting);
        if self.start_script(ctx) {
            // Each waiting step of a script has a deadline of its own.
            return;
        }
        let id = self.connection_id;
        let timeout = ms(self.deps.connection.handshake_timeout_ms);
        ctx.run_later(timeout, move |act, ctx| {
            let waiting = matches!(
                act.state,
                SessionState::AwaitingGreeting | SessionState::Authenticating
            );
            if act.connection_id == id && waiting {
                let step = act.state.label();
                act.on_lost(format!("handshake stuck in {step} for {timeout:?}"), ctx);
            }
        });
    }

    /// The socket is gone (or must go): drop it and schedule a reconnect.
    pub(super) fn on_lost(&mut self, reason: String, ctx: &mut Context<Self>) {
        if matches!(
            self.state,
            SessionState::Stopped | SessionState::Backoff | SessionState::Paused
        ) {
            return;
        }
        let was_streaming = self.state == SessionState::Streaming;
        if self.sink.is_some() {
            self.record(Entry::Disconnected(reason.clone()));
        }
        self.drop_socket(ctx);
        let healthy_after = ms(self.deps.connection.healthy_after_ms);
        if self
            .connected_at
            .is_some_and(|t| t.elapsed() >= healthy_after)
        {
            self.backoff.reset();
        }
        let delay = if std::mem::take(&mut self.throttled) {
            ms(self.deps.connection.max_connections_cooldown_ms)
        } else {
            self.backoff.next_delay()
        };
        tracing::warn!(feed = %self.deps.feed, %reason, retry_in = ?delay, "upstream connection lost");
        if was_streaming {
            let message = format!("{reason}; reconnecting in {delay:?}");
            self.emit_status(
                "disconnected",
                message,
                self.deps.shared.last_data_ms(),
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

    /// Closes the socket on our side with a normal close frame and lets go of
    /// it at once: reading stops now and the session forgets the socket, so
    /// nothing of it can reach the session afterwards, whatever comes next (a
    /// resume, a reconnect). Only the write half lives on for
    /// [`CLOSE_FLUSH`]: actix-codec's `Framed::close` shuts the socket without
    /// flushing its own write buffer, so the close frame needs a moment on
    /// the normal flush path first.
    pub(super) fn close_socket(&mut self, ctx: &mut Context<Self>) {
        if let Some(mut sink) = self.sink.take() {
            self.record(Entry::Disconnected("closed by us".to_owned()));
            let _ = sink.write(WsMessage::Close(Some(awc::ws::CloseCode::Normal.into())));
            ctx.run_later(CLOSE_FLUSH, move |_, _| sink.close());
        }
        self.drop_socket(ctx);
    }

    /// Lets go of the socket: stops reading it, closes the write half once
    /// its buffer is flushed, and forgets this connection's handshake state.
    pub(super) fn drop_socket(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.stream.take() {
            ctx.cancel_future(handle);
        }
        if let Some(mut sink) = self.sink.take() {
            sink.close();
        }
        self.set_connected(false);
        self.script = None;
        if let Some(beat) = self.beat.take() {
            ctx.cancel_future(beat);
        }
        self.pending_acks.clear();
        self.fragment = None;
        self.ping_sent_at = None;
        self.release_changes();
    }

    pub(super) fn send_text(&mut self, text: String) {
        if let (Some(recorder), Some(_)) = (&self.deps.recorder, &self.sink) {
            recorder.sent(self.connection_id, &text);
        }
        self.write_text(text);
    }

    /// Sends a message that may carry a credential (the auth message, or any
    /// message of a configured protocol's script, whose templates may read
    /// `${env:..}` secrets): on the wire only, recorded as `[redacted]`.
    pub(super) fn send_auth(&mut self, text: String) {
        if let (Some(recorder), Some(_)) = (&self.deps.recorder, &self.sink) {
            recorder.sent_auth(self.connection_id);
        }
        self.write_text(text);
    }

    fn write_text(&mut self, text: String) {
        if let Some(sink) = self.sink.as_mut() {
            // SinkWrite buffers without bound, which is acceptable for the few
            // control messages (auth, subscribe, ping, pong) ever written here.
            if sink.write(WsMessage::Text(text.into())).is_err() {
                tracing::debug!(feed = %self.deps.feed, "write on a closing socket");
            }
        }
    }

    pub(super) fn on_text(&mut self, bytes: Bytes, ctx: &mut Context<Self>) {
        if let Some(recorder) = &self.deps.recorder {
            recorder.received(self.connection_id, &bytes);
        }
        if self.script.is_some() {
            self.on_script_text(bytes, ctx);
            return;
        }
        let control = self.deps.provider.control(&bytes);
        for event in control.events {
            self.on_control(event, ctx);
        }
        if control.has_data {
            self.forward(bytes);
        }
    }

    pub(super) fn forward(&mut self, bytes: Bytes) {
        let metrics = &self.deps.metrics;
        metrics.frames.inc();
        metrics.frame_bytes.inc_by(bytes.len() as u64);
        self.deps
            .shared
            .set_last_data_ms(crate::messages::unix_ms());
        let frame = RawFrame {
            bytes,
            received_at: Instant::now(),
        };
        // A shed frame is already counted in tapewatch_dropped_total{stage};
        // this feed's share of those is counted here (a lookup only on a shed).
        if self.deps.frames.offer(frame).is_err() {
            metrics
                .feed_shed
                .with_label_values(&[&*self.deps.feed])
                .inc();
        }
    }

    pub(super) fn count_bad_frame(&mut self, kind: IssueKind, detail: &str) {
        self.deps.metrics.decode_errors(kind).inc();
        if let LogVerdict::Log { suppressed } = self.frame_log.check(Instant::now()) {
            tracing::warn!(feed = %self.deps.feed, kind = kind.label(), suppressed, "{detail}");
        }
    }
}

impl StreamHandler<SocketEvent> for WsSession {
    fn handle(&mut self, event: SocketEvent, ctx: &mut Context<Self>) {
        // Items of a socket the session let go of (closed on request, lost,
        // replaced) are not read.
        if event.conn != self.connection_id || self.stream.is_none() {
            return;
        }
        let Some(item) = event.item else {
            let reason = "connection dropped without a close frame".to_owned();
            self.on_lost(reason, ctx);
            return;
        };
        if item.is_ok() {
            // Only a frame proves the socket alive; an error does not.
            self.last_frame = Instant::now();
            self.ping_sent_at = None;
        }
        match item {
            Ok(Frame::Text(bytes)) => self.on_text(bytes, ctx),
            Ok(Frame::Binary(bytes)) => {
                let detail = format!("binary frame of {} bytes skipped", bytes.len());
                self.count_bad_frame(IssueKind::NotText, &detail);
            }
            Ok(Frame::Continuation(item)) => self.on_continuation(item, ctx),
            Ok(Frame::Ping(payload)) => {
                if let Some(sink) = self.sink.as_mut() {
                    let _ = sink.write(WsMessage::Pong(payload));
                }
            }
            Ok(Frame::Pong(_)) => {}
            Ok(Frame::Close(reason)) => {
                let why = reason.map_or_else(
                    || "no code".to_owned(),
                    |r| {
                        let code: u16 = r.code.into();
                        format!("code {code} {}", r.description.unwrap_or_default())
                    },
                );
                self.on_lost(format!("server closed the connection ({why})"), ctx);
            }
            Err(WsProtocolError::Overflow) => {
                // The frame cannot be skipped: its end is unknown, or too far
                // to buffer. The connection goes, and the next one starts clean.
                let limit = self.deps.connection.max_frame_bytes;
                self.deps.metrics.decode_errors(IssueKind::TooLarge).inc();
                self.on_lost(format!("frame over the {limit}-byte limit"), ctx);
            }
            Err(e) => self.on_lost(format!("protocol error: {e}"), ctx),
        }
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        // The default stops the actor; the end of a stream arrives as an
        // event of its connection instead.
    }
}

impl actix::io::WriteHandler<WriteError> for WsSession {
    fn error(&mut self, err: WriteError, ctx: &mut Context<Self>) -> Running {
        // A socket closed on request may still fail to flush its close frame;
        // that says nothing about the connection that replaced it.
        if err.conn == self.connection_id && self.sink.is_some() {
            self.on_lost(format!("write failed: {}", err.error), ctx);
        }
        Running::Continue
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        // The default stops the actor; a closed sink only means this connection ended.
    }
}

/// The URL as recorded: without its query, where a key could be passed.
fn without_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_owned()
}
