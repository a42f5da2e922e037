//! **Hub**: fans pipeline output out to downstream WebSocket clients.
//!
//! The hub is subscribed to the pipeline like any extension actor
//! (`subscribe_events`, `subscribe_outputs`) with a bounded mailbox, so the
//! pipeline sheds to it rather than waiting. It keeps topic → clients, and
//! serialises each update once: every subscriber gets a clone of the same
//! `ByteString`. Each client's mailbox is its bounded send queue; a `try_send`
//! that finds it full means the client cannot keep up, and the hub disconnects
//! it (see [`super::link`]) instead of waiting for it or buffering more, or,
//! when the client asked for `"on_lag":"notice"`, drops the update for it
//! alone and tells it how many it lost with the next one that fits. State
//! topics take another path that never fills the mailbox (see
//! [`super::hub_state`]).
//!
//! The pipeline starts it under the guardian like its own actors: a hub that
//! panics is restarted and its slots repointed. Its clients lived in the dead
//! hub; each notices on its next heartbeat and closes with 1001 so the
//! downstream program reconnects to the new one.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use bytestring::ByteString;
use tapewatch_actors::events::Event;
use tapewatch_actors::messages::{Events, Output};
use tapewatch_actors::metrics::Metrics;

use super::hub_state::StateSettings;
use super::link::{Ending, Link};
use super::protocol::{self, OnLag, Topic};
use super::state::StateTable;
use super::subscribers::Subscribers;

pub use super::hub_messages::{
    Attach, ChangeTopics, CloseAll, HubError, Push, Register, Topics, Unregister,
    MAX_TOPICS_PER_CLIENT,
};

/// How long an evicted client's actor has to close by itself with a close
/// frame before its socket is shut down under it.
pub const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// How often clients whose actor vanished without saying so are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(5);

pub(super) struct Entry {
    pub(super) push: Recipient<Push>,
    pub(super) link: Arc<Link>,
    pub(super) topics: BTreeSet<Topic>,
    pub(super) on_lag: OnLag,
    /// Event-topic updates dropped since the last one delivered (with
    /// [`OnLag::Notice`]).
    pub(super) gap: u64,
}

/// The fan-out actor.
pub struct Hub {
    pub(super) metrics: Metrics,
    pub(super) clients: HashMap<u64, Entry>,
    pub(super) subscribers: Subscribers,
    pub(super) state: StateTable,
    pub(super) state_settings: StateSettings,
    pub(super) last_publish: Instant,
    /// When the next publish is scheduled, if one is.
    pub(super) publish_at: Option<Instant>,
}

/// What happened to one delivery that did not go through.
enum Failed {
    Full(u64),
    Gone(u64),
}

impl Hub {
    /// Starts a hub on the current arbiter with room for `mailbox` messages
    /// from the pipeline.
    pub fn start(mailbox: usize, settings: StateSettings) -> Addr<Hub> {
        Hub::create(move |ctx| {
            ctx.set_mailbox_capacity(mailbox.max(1));
            Hub::new(Metrics::new(), settings)
        })
    }

    /// A hub without clients counting into `metrics`: what the pipeline
    /// starts, and restarts after a panic (its clients are then told to
    /// reconnect, see [`super::client`]).
    pub fn new(metrics: Metrics, settings: StateSettings) -> Hub {
        Hub {
            metrics,
            clients: HashMap::new(),
            subscribers: Subscribers::default(),
            state: StateTable::new(settings.max_symbols),
            state_settings: settings,
            last_publish: Instant::now(),
            publish_at: None,
        }
    }

    /// Offers `bytes` to every client in `ids`; returns the ones that failed.
    /// (An associated function, so the caller can lend it `ids` from the
    /// subscriber index while the clients are borrowed mutably.)
    fn deliver(
        clients: &mut HashMap<u64, Entry>,
        metrics: &Metrics,
        ids: &HashSet<u64>,
        bytes: &ByteString,
        failed: &mut Vec<Failed>,
    ) {
        for id in ids {
            let Some(entry) = clients.get_mut(id) else {
                continue;
            };
            let push = match entry.gap {
                0 => Push::Update(bytes.clone()),
                dropped => Push::AfterGap {
                    dropped,
                    update: bytes.clone(),
                },
            };
            match entry.push.try_send(push) {
                Ok(()) => entry.gap = 0,
                Err(SendError::Full(_)) => {
                    metrics.ws_dropped.inc();
                    if entry.on_lag == OnLag::Notice {
                        entry.gap += 1;
                        entry
                            .link
                            .lagged
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    } else {
                        failed.push(Failed::Full(*id));
                    }
                }
                Err(SendError::Closed(_)) => failed.push(Failed::Gone(*id)),
            }
        }
    }

    fn settle(&mut self, failed: Vec<Failed>, ctx: &mut Context<Self>) {
        for f in failed {
            match f {
                Failed::Full(id) => self.evict(id, Ending::Slow, ctx),
                // The actor stopped and counted its own ending.
                Failed::Gone(id) => self.forget(id, ctx),
            }
        }
    }

    /// Disconnects a client: counts why, nudges its actor to send a close
    /// frame, and shuts its socket down after [`CLOSE_GRACE`] in case the
    /// actor is frozen behind a peer that stopped reading.
    fn evict(&mut self, id: u64, why: Ending, ctx: &mut Context<Self>) {
        let Some(entry) = self.remove(id) else {
            return;
        };
        if entry.link.end(why) {
            tracing::info!(
                client = id,
                reason = why.label(),
                "disconnecting downstream client"
            );
        }
        // Fails when the queue is full; the actor then sees the ending on its
        // next message, or never runs again and is dropped below.
        let _ = entry.push.try_send(Push::Kick);
        Self::close_after_grace(entry.link, ctx);
    }

    /// Forgets a client whose actor stopped. Its connection may still be
    /// flushing to a peer that does not read (actix-web waits for that
    /// without limit), so it too is dropped after the grace if still open.
    pub(super) fn forget(&mut self, id: u64, ctx: &mut Context<Self>) {
        if let Some(entry) = self.remove(id) {
            Self::close_after_grace(entry.link, ctx);
        }
    }

    fn close_after_grace(link: Arc<Link>, ctx: &mut Context<Self>) {
        ctx.run_later(CLOSE_GRACE, move |_, _| link.force_close());
    }

    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.clients.remove(&id)?;
        for topic in &entry.topics {
            self.subscribers.remove(id, topic);
        }
        Some(entry)
    }

    pub(super) fn topics_of(entry: &Entry) -> Vec<String> {
        entry.topics.iter().map(Topic::to_string).collect()
    }
}

impl Actor for Hub {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(SWEEP_EVERY, |hub, ctx| {
            let gone: Vec<u64> = hub
                .clients
                .iter()
                .filter(|(_, e)| !e.push.connected())
                .map(|(id, _)| *id)
                .collect();
            for id in gone {
                hub.forget(id, ctx);
            }
        });
    }
}

impl Handler<Output> for Hub {
    type Result = ();

    fn handle(&mut self, output: Output, ctx: &mut Context<Self>) {
        let (ids, topic) = self.subscribers.of_output(&output);
        if ids.is_empty() {
            return;
        }
        let Some(bytes) = protocol::push(topic, &output) else {
            return;
        };
        let mut failed = Vec::new();
        Self::deliver(&mut self.clients, &self.metrics, ids, &bytes, &mut failed);
        self.settle(failed, ctx);
    }
}

impl Handler<Events> for Hub {
    type Result = ();

    fn handle(&mut self, Events(batch): Events, ctx: &mut Context<Self>) {
        self.fold(&batch.events, ctx);
        if !self.subscribers.wants_trades() {
            return;
        }
        let mut failed = Vec::new();
        for event in &batch.events {
            let Event::Trade(trade) = event else {
                continue;
            };
            let Some(subs) = self.subscribers.of_trades(&trade.symbol) else {
                continue;
            };
            let Some(bytes) = protocol::push(&subs.topic, trade) else {
                continue;
            };
            Self::deliver(
                &mut self.clients,
                &self.metrics,
                &subs.ids,
                &bytes,
                &mut failed,
            );
        }
        self.settle(failed, ctx);
    }
}

impl Handler<Attach> for Hub {
    type Result = ();

    fn handle(&mut self, Attach(metrics): Attach, _: &mut Context<Self>) {
        self.metrics = metrics;
    }
}

impl Handler<tapewatch_actors::messages::Crash> for Hub {
    type Result = ();
    fn handle(&mut self, _: tapewatch_actors::messages::Crash, _: &mut Context<Self>) {
        panic!("Hub: crash requested");
    }
}

impl Handler<CloseAll> for Hub {
    type Result = usize;

    fn handle(&mut self, _: CloseAll, ctx: &mut Context<Self>) -> usize {
        let ids: Vec<u64> = self.clients.keys().copied().collect();
        for id in &ids {
            self.evict(*id, Ending::Shutdown, ctx);
        }
        ids.len()
    }
}
