//! How a [`Client`] sends its state topics: it takes the values due from its
//! queue (see [`super::conflate`]) when the hub wakes it, when a throttled
//! value falls due, and on a short tick in case a wake-up could not be
//! delivered. actix-web runs the actor only while its socket takes data, so
//! a client that stops reading leaves its values in the queue, where newer
//! ones replace them, instead of piling them up in a buffer.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web_actors::ws::WebsocketContext;
use serde::Serialize;

use super::client::Client;
use super::conflate::QueueStats;

/// How often a client looks at its queue without being woken.
const STATE_TICK: Duration = Duration::from_millis(100);

/// The reply to a `stats` request.
#[derive(Debug, Serialize)]
pub struct ClientStats {
    /// State values replaced by a newer one before they were sent, and state
    /// values waiting now.
    #[serde(flatten)]
    pub queue: QueueStats,
    /// Event-topic updates dropped for this client (`"on_lag":"notice"`).
    pub lagged: u64,
}

impl Client {
    pub(super) fn start_state_tick(&mut self, ctx: &mut WebsocketContext<Self>) {
        ctx.run_interval(STATE_TICK, |act, ctx| {
            if act.link.state().has_pending() {
                act.drain(ctx);
            }
        });
    }

    /// Writes every state value that is due, unless a topic request is
    /// waiting for the hub (its reply comes first; the drain follows it).
    pub(super) fn drain(&mut self, ctx: &mut WebsocketContext<Self>) {
        if self.asking > 0 {
            return;
        }
        let now = Instant::now();
        let mut out = Vec::new();
        let next = self.link.state().take_due(now, &mut out);
        for bytes in out {
            ctx.text(bytes);
        }
        let Some(due) = next else {
            return;
        };
        if self.drain_at.is_some_and(|at| at <= due) {
            return;
        }
        self.drain_at = Some(due);
        ctx.run_later(due.saturating_duration_since(now), move |act, ctx| {
            if act.drain_at == Some(due) {
                act.drain_at = None;
            }
            act.drain(ctx);
        });
    }

    /// This connection's counters.
    pub(super) fn stats(&self) -> ClientStats {
        ClientStats {
            queue: self.link.state().stats(),
            lagged: self.link.lagged.load(Ordering::Relaxed),
        }
    }
}
