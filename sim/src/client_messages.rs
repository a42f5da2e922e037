//! How a connection answers client messages: auth, subscribe, unsubscribe,
//! pings and closes. Alpaca's text and binary messages are handed on to
//! [`super::alpaca_messages`]; pings and closes are the same for both. Every answer is a status frame, sent before any further
//! data, so acknowledgements always precede the data they enable. A deaf
//! connection ([`super::Faults::deaf_after_frames`]) still reads and logs
//! every message but answers none, not even a Close.

use actix_ws::{AggregatedMessage, Session};

use super::alpaca_protocol::{value_of_msgpack, value_of_text};
use super::connection::{policy_close, Connection, Flow};
use super::connection_data::PendingFrame;
use super::connection_faults::Mode;
use super::connection_log::Ending;
use super::protocol::{parse_client_message, redact_for_log, ClientAction};
use super::stats::SimStats;

impl Connection {
    /// Handles one client message; `Flow::Stop` ends the connection.
    pub(super) async fn on_message(
        &mut self,
        session: &mut Session,
        message: AggregatedMessage,
    ) -> Flow {
        // Alpaca's messages differ; the control frames below do not.
        let message = match (self.alpaca.is_some(), message) {
            (true, AggregatedMessage::Text(text)) => {
                return self.on_alpaca_message(session, value_of_text(&text)).await;
            }
            (true, AggregatedMessage::Binary(bytes)) => {
                return self
                    .on_alpaca_message(session, value_of_msgpack(&bytes))
                    .await;
            }
            (_, message) => message,
        };
        let deaf = self.mode == Mode::Deaf;
        let stats = &self.shared.stats;
        let text = match message {
            AggregatedMessage::Text(text) => text,
            AggregatedMessage::Ping(payload) => {
                SimStats::add(&stats.pings_received, 1);
                if deaf {
                    return Flow::Continue;
                }
                return match session.pong(&payload).await {
                    Ok(()) => {
                        SimStats::add(&stats.pongs_sent, 1);
                        Flow::Continue
                    }
                    Err(_) => Flow::Stop,
                };
            }
            AggregatedMessage::Pong(_) => return Flow::Continue,
            AggregatedMessage::Close(reason) => {
                // A Close frame without a code stands for 1005 (no status).
                let code = reason.as_ref().map_or(1005, |r| u16::from(r.code));
                self.ending.get_or_insert(Ending::Client(Some(code)));
                if deaf {
                    // A half-open peer never echoes; the client has to give
                    // up and drop the connection itself.
                    return Flow::Continue;
                }
                let _ = session.clone().close(reason).await;
                return Flow::Stop;
            }
            AggregatedMessage::Binary(_) if deaf => return Flow::Continue,
            AggregatedMessage::Binary(_) => {
                return self.reply(session, "error", "invalid message").await;
            }
        };
        let text: &str = &text;
        stats.record_client_message(redact_for_log(text));
        let action = parse_client_message(text);
        if let Some(ClientAction::Subscribe(_)) = action {
            stats.count_subscribe(self.id);
        }
        if deaf {
            return Flow::Continue;
        }
        match action {
            None => self.reply(session, "error", "invalid message").await,
            Some(ClientAction::Auth(key)) => self.authenticate(session, key.as_deref()).await,
            Some(ClientAction::Subscribe(_) | ClientAction::Unsubscribe(_))
                if !self.authenticated =>
            {
                self.reply(session, "error", "not authorized").await
            }
            Some(ClientAction::Subscribe(None) | ClientAction::Unsubscribe(None)) => {
                self.reply(session, "error", "invalid params").await
            }
            Some(ClientAction::Subscribe(Some(params))) => {
                self.subscribe(session, &params, true).await
            }
            Some(ClientAction::Unsubscribe(Some(params))) => {
                self.subscribe(session, &params, false).await
            }
            Some(ClientAction::Unknown(action)) => {
                let message = format!("unknown action: {}", truncated(&action));
                self.reply(session, "error", &message).await
            }
        }
    }

    async fn authenticate(&mut self, session: &mut Session, key: Option<&str>) -> Flow {
        let stats = &self.shared.stats;
        SimStats::add(&stats.auth_attempts, 1);
        let accepted = match &self.shared.key {
            None => true,
            Some(expected) => key == Some(expected.expose()),
        };
        if accepted {
            self.authenticated = true;
            if let Flow::Stop = self.reply(session, "auth_success", "authenticated").await {
                return Flow::Stop;
            }
            // Massive lets the extra connection authenticate and only then
            // turns it away, so a client that resets its backoff on
            // `auth_success` reconnects in a storm.
            if self.over_connection_limit(key) {
                return self.reject_over_limit(session).await;
            }
            return Flow::Continue;
        }
        SimStats::add(&stats.auth_failures, 1);
        let _ = self
            .send_status(session, "auth_failed", "authentication failed")
            .await;
        self.close(session.clone(), policy_close("authentication failed"))
            .await;
        Flow::Stop
    }

    async fn subscribe(&mut self, session: &mut Session, params: &str, on: bool) -> Flow {
        let replies = self.subscriptions.apply(params, on);
        // A frame built before an unsubscribe must not deliver what the client
        // just turned off, so nothing it unsubscribed follows the
        // acknowledgement (frames already handed to the socket excepted).
        if let Some(pending) = self.pending.take() {
            let wanted = pending
                .events
                .into_iter()
                .filter(|e| self.subscriptions.wants(e));
            self.pending = PendingFrame::build(self.frame_format(), wanted.collect());
        }
        for (status, message) in replies {
            if let Flow::Stop = self.reply(session, status, &message).await {
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    async fn reply(&self, session: &mut Session, status: &str, message: &str) -> Flow {
        match self.send_status(session, status, message).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Stop,
        }
    }
}

/// At most 64 characters of client-chosen text, for echoing it back.
fn truncated(text: &str) -> &str {
    text.char_indices()
        .nth(64)
        .map_or(text, |(end, _)| &text[..end])
}
