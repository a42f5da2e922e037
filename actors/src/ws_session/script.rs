//! Running a provider's connection script: the configured handshake steps
//! with their deadlines, subscribe messages with or without
//! acknowledgements, heartbeat messages, and answers the script sends.

use actix::prelude::*;
use bytes::Bytes;

use super::{SessionState, WsSession};
use crate::provider::script::Action;
use crate::provider::ControlEvent;

impl WsSession {
    /// Starts the provider's script on a newly opened socket; false when the
    /// provider has none (the fixed handshake runs instead).
    pub(super) fn start_script(&mut self, ctx: &mut Context<Self>) -> bool {
        self.script = self.deps.provider.script();
        if self.script.is_none() {
            return false;
        }
        self.set_state(SessionState::Authenticating);
        let Some(script) = self.script.as_mut() else {
            return false;
        };
        let actions = script.start();
        if let Some(every) = script.heartbeat_every() {
            let id = self.connection_id;
            self.beat = Some(ctx.run_interval(every, move |act, _| {
                let message = (act.connection_id == id)
                    .then(|| act.script.as_ref().and_then(|s| s.heartbeat_message()))
                    .flatten();
                if let Some(text) = message {
                    act.deps.metrics.notice("heartbeat_sent").inc();
                    act.send_auth(text);
                }
            }));
        }
        self.run_actions(actions, ctx);
        true
    }

    /// A text frame on a connection with a script.
    pub(super) fn on_script_text(&mut self, bytes: Bytes, ctx: &mut Context<Self>) {
        let Some(script) = self.script.as_mut() else {
            return;
        };
        let reaction = script.on_frame(&bytes);
        for event in reaction.control.events {
            self.on_control(event, ctx);
        }
        self.run_actions(reaction.actions, ctx);
        if reaction.control.has_data {
            self.forward(bytes);
        }
    }

    fn run_actions(&mut self, actions: Vec<Action>, ctx: &mut Context<Self>) {
        for action in actions {
            // A failure (or an event before it) may have let the socket go.
            if self.script.is_none() {
                return;
            }
            match action {
                // A configured message may carry an `${env:..}` secret, so a
                // recording keeps none of them: each is written as `[redacted]`.
                Action::Send(text) => self.send_auth(text),
                Action::Wait { step, timeout } => {
                    let id = self.connection_id;
                    ctx.run_later(timeout, move |act, ctx| {
                        let expired = (act.connection_id == id)
                            .then(|| act.script.as_ref().and_then(|s| s.timed_out(step)))
                            .flatten();
                        if let Some(reason) = expired {
                            act.deps.metrics.notice("handshake_timeout").inc();
                            act.on_lost(reason, ctx);
                        }
                    });
                }
                Action::Subscribe => {
                    if self.state == SessionState::Authenticating {
                        self.subscribe_all(ctx);
                    }
                }
                Action::Fail {
                    terminal: true,
                    reason,
                } => self.fail_terminally(&ControlEvent::AuthFailed(reason), ctx),
                Action::Fail {
                    terminal: false,
                    reason,
                } => {
                    self.deps.metrics.notice("handshake_failed").inc();
                    self.on_lost(reason, ctx);
                }
            }
        }
    }

    /// Sends the messages that subscribe or unsubscribe `topics`; true when
    /// the provider will acknowledge them.
    pub(super) fn send_change(&mut self, subscribe: bool, topics: &[String]) -> bool {
        if let Some(script) = self.script.as_mut() {
            let messages = script.change_messages(subscribe, topics);
            let acknowledged = script.acknowledged(subscribe);
            for text in messages {
                self.send_auth(text);
            }
            return acknowledged;
        }
        let provider = &self.deps.provider;
        let text = if subscribe {
            provider.subscribe_message(topics)
        } else {
            provider.unsubscribe_message(topics)
        };
        self.send_text(text);
        true
    }
}
