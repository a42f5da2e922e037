//! How the session reacts to the provider's control replies, fragmented
//! messages and the heartbeat timer.

use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_http::ws::Item;
use awc::ws::Message as WsMessage;
use bytes::BytesMut;

use super::{SessionSnapshot, SessionState, WsSession};
use crate::provider::{ControlEvent, IssueKind, Severity};

impl WsSession {
    pub(super) fn on_control(&mut self, event: ControlEvent, ctx: &mut Context<Self>) {
        self.settle_changes(&event);
        match (&event, self.state) {
            (ControlEvent::Connected, SessionState::AwaitingGreeting) => {
                let auth = self.deps.provider.auth_message(&self.deps.credentials);
                self.send_auth(auth);
                self.set_state(SessionState::Authenticating);
            }
            (ControlEvent::AuthSuccess, SessionState::Authenticating) => self.subscribe_all(ctx),
            (ControlEvent::Subscribed(topic), _) => {
                self.record(crate::recording::Entry::Subscribed(topic.clone()));
                let expected = self.pending_acks.remove(topic)
                    || self.deps.shared.subscriptions().contains(topic);
                if !expected {
                    self.deps.metrics.notice("unexpected_ack").inc();
                    tracing::warn!(feed = %self.deps.feed, %topic, "acknowledgement for a topic never asked for");
                }
                if self.state == SessionState::Subscribing && self.pending_acks.is_empty() {
                    self.begin_streaming();
                }
            }
            (ControlEvent::Unsubscribed(topic), _) => {
                tracing::info!(feed = %self.deps.feed, %topic, "unsubscribed");
            }
            (ControlEvent::Rejected { topics, .. }, _) => {
                // Refused topics of the connection's own subscribe are not
                // waited for: the rest streams at once.
                for topic in topics {
                    self.pending_acks.remove(topic);
                }
                if self.state == SessionState::Subscribing && self.pending_acks.is_empty() {
                    self.begin_streaming();
                }
            }
            _ => {}
        }
        let handshake = matches!(
            self.state,
            SessionState::AwaitingGreeting | SessionState::Authenticating
        );
        match event.severity() {
            // Only an answer to the connection itself can stop the feed; once
            // authenticated, an error concerns a subscription at most.
            Severity::Terminal if handshake => self.fail_terminally(&event, ctx),
            Severity::Terminal => self.report_error(&format!("{event:?}")),
            Severity::Reconnect => {
                self.deps.metrics.notice("auth_timeout").inc();
                self.on_lost(format!("the provider timed out our auth ({event:?})"), ctx);
            }
            Severity::Throttle => {
                tracing::error!(
                    feed = %self.deps.feed,
                    "the provider refused another connection for this key ({event:?}); \
                     another process may be using it. Waiting {} s before reconnecting",
                    self.deps.connection.max_connections_cooldown_ms / 1000
                );
                self.throttled = true;
                self.deps.metrics.notice("max_connections").inc();
                self.emit_status("max_connections", format!("{event:?}"), None, None);
            }
            Severity::Info => match &event {
                ControlEvent::Error(message) | ControlEvent::Rejected { message, .. } => {
                    self.report_error(message)
                }
                _ => {}
            },
        }
    }

    fn report_error(&mut self, message: &str) {
        self.deps.metrics.notice("error").inc();
        // A provider can repeat an error every frame: counted each time,
        // logged like bad frames, a few per interval.
        let verdict = self.frame_log.check(Instant::now());
        if let crate::log_limit::LogVerdict::Log { suppressed } = verdict {
            tracing::warn!(feed = %self.deps.feed, %message, suppressed, "provider reported an error");
        }
        self.emit_status("provider_error", message.to_owned(), None, None);
    }

    pub(super) fn subscribe_all(&mut self, ctx: &mut Context<Self>) {
        let topics = self.deps.shared.topics();
        if topics.is_empty() {
            self.begin_streaming();
            return;
        }
        self.pending_acks = topics.iter().cloned().collect();
        let acknowledged = self.send_change(true, &topics);
        self.set_state(SessionState::Subscribing);
        if !acknowledged {
            // The provider sends no acknowledgement: sent is subscribed.
            self.pending_acks.clear();
            self.begin_streaming();
            return;
        }
        let id = self.connection_id;
        let timeout = Duration::from_millis(self.deps.connection.ack_timeout_ms);
        ctx.run_later(timeout, move |act, _| {
            if act.connection_id == id && act.state == SessionState::Subscribing {
                tracing::warn!(
                    feed = %act.deps.feed,
                    missing = ?act.pending_acks,
                    "no acknowledgement for some topics; streaming anyway"
                );
                act.begin_streaming();
            }
        });
    }

    fn begin_streaming(&mut self) {
        let reconnect = self.deps.shared.mark_streamed();
        self.set_state(SessionState::Streaming);
        self.set_connected(true);
        let topics = self.deps.shared.topics();
        tracing::info!(feed = %self.deps.feed, topics = ?topics, "streaming");
        if reconnect {
            let now = crate::messages::unix_ms();
            self.emit_status(
                "reconnected",
                "data between gap_from_ms and gap_to_ms may be missing".to_owned(),
                self.deps.shared.last_data_ms(),
                Some(now),
            );
        } else {
            self.emit_status(
                "connected",
                format!("subscribed to {}", topics.join(",")),
                None,
                None,
            );
        }
    }

    pub(super) fn fail_terminally(&mut self, event: &ControlEvent, ctx: &mut Context<Self>) {
        let reason = match event {
            ControlEvent::AuthFailed(m) => format!("the provider rejected the credentials: {m}"),
            other => format!("{other:?}"),
        };
        tracing::error!(feed = %self.deps.feed, %reason, "stopping: retrying cannot fix this");
        self.emit_status("auth_failed", reason.clone(), None, None);
        if let Some(to) = &self.deps.on_fatal {
            let fatal = crate::messages::Fatal {
                component: self.deps.feed.clone(),
                reason,
            };
            let _ = to.try_send(fatal);
        }
        self.drop_socket(ctx);
        self.set_state(SessionState::Stopped);
    }

    pub(super) fn on_continuation(&mut self, item: Item, ctx: &mut Context<Self>) {
        let limit = self.deps.connection.max_frame_bytes;
        let is_last = matches!(item, Item::Last(_));
        match item {
            Item::FirstText(b) => self.fragment = Some((BytesMut::from(&b[..]), true)),
            Item::FirstBinary(b) => self.fragment = Some((BytesMut::from(&b[..]), false)),
            Item::Continue(b) | Item::Last(b) => {
                let last = is_last;
                let Some((buf, _)) = self.fragment.as_mut() else {
                    self.count_bad_frame(
                        IssueKind::Malformed,
                        "continuation frame without a first fragment",
                    );
                    return;
                };
                if buf.len() + b.len() > limit {
                    self.fragment = None;
                    self.count_bad_frame(
                        IssueKind::TooLarge,
                        &format!("fragmented message over {limit} bytes skipped"),
                    );
                    return;
                }
                buf.extend_from_slice(&b);
                if last {
                    if let Some((buf, is_text)) = self.fragment.take() {
                        if is_text {
                            self.on_text(buf.freeze(), ctx);
                        } else {
                            self.count_bad_frame(
                                IssueKind::NotText,
                                "fragmented binary message skipped",
                            );
                        }
                    }
                }
            }
        }
    }

    /// Pings a quiet socket, and gives it up when the ping goes unanswered:
    /// any frame at all (data, status or pong) proves the socket alive.
    pub(super) fn heartbeat(&mut self, ctx: &mut Context<Self>) {
        if self.sink.is_none() {
            return;
        }
        let cfg = &self.deps.connection;
        if let Some(sent) = self.ping_sent_at {
            let waited = sent.elapsed();
            if waited >= Duration::from_millis(cfg.pong_timeout_ms) {
                let idle = self.last_frame.elapsed();
                self.on_lost(
                    format!("no pong {waited:?} after a ping; socket idle for {idle:?}"),
                    ctx,
                );
            }
        } else if self.last_frame.elapsed() >= Duration::from_millis(cfg.ping_after_ms) {
            if let Some(sink) = self.sink.as_mut() {
                let _ = sink.write(WsMessage::Ping(bytes::Bytes::from_static(b"tapewatch")));
                self.ping_sent_at = Some(Instant::now());
            }
        }
    }

    pub(super) fn snapshot(&self) -> SessionSnapshot {
        SessionSnapshot {
            feed: self.deps.feed.clone(),
            state: self.state,
            state_for_ms: Instant::now().duration_since(self.state_since).as_millis() as u64,
            subscriptions: self.deps.shared.topics(),
            connection_attempts: self.connection_id,
            queued_frames: self.deps.frames.queued().max(0),
        }
    }
}
