//! How a [`Client`] sends its state topics: it takes the values due from its
//! queue (see [`super::conflate`]) when the hub wakes it, when a throttled
//! value falls due, and on a short tick in case a wake-up could not be
//! delivered. actix-web runs the actor only while its socket takes data, so
//! a client that stops reading leaves its values in the queue, where newer
//! ones replace them, instead of piling them up in a buffer.
//!
//! The socket's buffers (the kernel's on both ends) would still hold many
//! batches for a slow reader, every one staler than the queue, so each batch
//! is followed by a ping and the next waits for its pong: a peer answers a
//! ping when it reads it, after the batch before it, so at most one batch is
//! in flight and what a slow reader reads is about as fresh as the queue. A
//! peer that does not answer within [`PONG_WAIT`] gets the next batch anyway.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web_actors::ws::WebsocketContext;
use serde::Serialize;

use super::client::Client;
use super::conflate::QueueStats;

/// How often a client looks at its queue without being woken.
const STATE_TICK: Duration = Duration::from_millis(100);
/// How long the next batch waits for the pong of the last one.
pub const PONG_WAIT: Duration = Duration::from_secs(2);
/// What starts the payload of a ping that follows a batch.
const PING_TAG: &[u8] = b"state:";

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
        let now = Instant::now();
        let in_flight = self
            .state_ping_at
            .is_some_and(|at| now.duration_since(at) < PONG_WAIT);
        if self.asking > 0 || in_flight {
            return;
        }
        let mut out = Vec::new();
        let next = self.link.state().take_due(now, &mut out);
        if !out.is_empty() {
            for bytes in out {
                ctx.text(bytes);
            }
            self.state_ping += 1;
            let mut payload = PING_TAG.to_vec();
            payload.extend_from_slice(self.state_ping.to_string().as_bytes());
            ctx.ping(&payload);
            self.state_ping_at = Some(now);
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

    /// A pong from the peer: when it answers the ping of the last batch, the
    /// peer has read that batch and may have the next.
    pub(super) fn ponged(&mut self, payload: &[u8], ctx: &mut WebsocketContext<Self>) {
        if self.state_ping_at.is_none() {
            return;
        }
        let answered = payload
            .strip_prefix(PING_TAG)
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.parse::<u64>().ok());
        if answered == Some(self.state_ping) {
            self.state_ping_at = None;
            self.drain(ctx);
        }
    }

    /// This connection's counters.
    pub(super) fn stats(&self) -> ClientStats {
        ClientStats {
            queue: self.link.state().stats(),
            lagged: self.link.lagged.load(Ordering::Relaxed),
        }
    }
}
