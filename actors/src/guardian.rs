//! Guardian: notices dead pipeline actors, panics included, and restarts them.
//!
//! No pipeline actor ever stops itself, so the one way one ends is a panic,
//! after which its mailbox is simply gone (actix's `Supervisor` restarts only
//! actors that *stop*, and is not used). The guardian checks every child's
//! address on a timer and, for a dead one, counts the messages its mailbox
//! still held as drops, builds a new actor from the child's start function and
//! republishes its address to the peers (through [`crate::stage::Slot`]s), so
//! senders follow without being rebuilt.
//!
//! Restarts are limited in the OTP style: more than `max_restarts` within
//! `window_s` seconds means something is persistently wrong, so the guardian
//! gives up and reports a [`Fatal`] instead of looping.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use serde::{Deserialize, Serialize};

use crate::messages::{Crash, Fatal};
use crate::metrics::Metrics;
use crate::stage::StageGauge;

/// Restart policy (the `[supervision]` section of the config).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupervisionConfig {
    /// How often actors are checked for life.
    pub check_interval_ms: u64,
    /// Restarts allowed within `window_s` before the service gives up.
    pub max_restarts: u32,
    /// The window, in seconds, over which restarts are counted.
    pub window_s: u64,
}

impl Default for SupervisionConfig {
    fn default() -> Self {
        SupervisionConfig {
            check_interval_ms: 200,
            max_restarts: 5,
            window_s: 60,
        }
    }
}

/// One supervised actor, whatever its type.
pub trait Child: Send {
    /// The actor's name (`ws_session:stocks`, `anomaly_detector`, ...).
    fn name(&self) -> &str;
    /// True while the actor's mailbox is open.
    fn alive(&self) -> bool;
    /// Counts what the dead incarnation's mailbox held as dropped, starts a
    /// new incarnation and republishes its address; returns how many messages
    /// were lost.
    fn restart(&mut self) -> u64;
    /// Makes the current incarnation panic (supervision drills).
    fn crash(&self);
}

/// A [`Child`] built from a start function and a publish function.
pub struct ChildOf<A, S, P>
where
    A: Actor<Context = Context<A>> + Handler<Crash>,
    S: FnMut() -> Addr<A> + Send,
    P: FnMut(&Addr<A>) + Send,
{
    name: String,
    addr: Addr<A>,
    start: S,
    publish: P,
    queue: Option<StageGauge>,
}

impl<A, S, P> ChildOf<A, S, P>
where
    A: Actor<Context = Context<A>> + Handler<Crash>,
    S: FnMut() -> Addr<A> + Send,
    P: FnMut(&Addr<A>) + Send,
{
    /// Starts the first incarnation with `start` and publishes it with `publish`.
    pub fn start(name: impl Into<String>, mut start: S, mut publish: P) -> (Self, Addr<A>) {
        let addr = start();
        publish(&addr);
        let child = ChildOf {
            name: name.into(),
            addr: addr.clone(),
            start,
            publish,
            queue: None,
        };
        (child, addr)
    }

    /// Adopts an incarnation that is already running and published.
    pub fn running(name: impl Into<String>, addr: Addr<A>, start: S, publish: P) -> Self {
        ChildOf {
            name: name.into(),
            addr,
            start,
            publish,
            queue: None,
        }
    }

    /// The gauge of the actor's inbound queue (made with
    /// [`StageGauge::for_actor`]), whose depth a death turns into drops.
    pub fn with_queue(mut self, gauge: StageGauge) -> Self {
        self.queue = Some(gauge);
        self
    }
}

impl<A, S, P> Child for ChildOf<A, S, P>
where
    A: Actor<Context = Context<A>> + Handler<Crash>,
    S: FnMut() -> Addr<A> + Send,
    P: FnMut(&Addr<A>) + Send,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn alive(&self) -> bool {
        self.addr.connected()
    }
    fn restart(&mut self) -> u64 {
        let lost = self.queue.as_ref().map_or(0, StageGauge::reclaim);
        self.addr = (self.start)();
        (self.publish)(&self.addr);
        lost
    }
    fn crash(&self) {
        let _ = self.addr.try_send(Crash);
    }
}

/// Crashes the named child (for drills and tests); answers whether it exists.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct CrashChild(pub String);

/// Stops watching, before a deliberate shutdown stops the children.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StandDown;

/// The supervising actor.
pub struct Guardian {
    config: SupervisionConfig,
    children: Vec<Box<dyn Child>>,
    restarts: VecDeque<Instant>,
    metrics: Metrics,
    on_fatal: Option<Recipient<Fatal>>,
    watching: bool,
}

impl Guardian {
    /// A guardian over `children`.
    pub fn new(
        config: SupervisionConfig,
        children: Vec<Box<dyn Child>>,
        metrics: Metrics,
        on_fatal: Option<Recipient<Fatal>>,
    ) -> Self {
        Guardian {
            config,
            children,
            restarts: VecDeque::new(),
            metrics,
            on_fatal,
            watching: true,
        }
    }

    fn check(&mut self) {
        if !self.watching {
            return;
        }
        let window = Duration::from_secs(self.config.window_s);
        for i in 0..self.children.len() {
            if self.children[i].alive() {
                continue;
            }
            let now = Instant::now();
            while self
                .restarts
                .front()
                .is_some_and(|t| now.duration_since(*t) > window)
            {
                self.restarts.pop_front();
            }
            let name = self.children[i].name().to_owned();
            if self.restarts.len() >= self.config.max_restarts as usize {
                self.give_up(&name);
                return;
            }
            self.restarts.push_back(now);
            self.metrics.restarts.with_label_values(&[&name]).inc();
            let lost = self.children[i].restart();
            tracing::warn!(
                actor = %name,
                recent_restarts = self.restarts.len(),
                lost_messages = lost,
                "actor died; restarted it"
            );
        }
    }

    fn give_up(&mut self, name: &str) {
        self.watching = false;
        let reason = format!(
            "actor {name} died again after {} restarts within {} s; giving up",
            self.config.max_restarts, self.config.window_s
        );
        tracing::error!(actor = %name, "{reason}");
        if let Some(to) = &self.on_fatal {
            let _ = to.try_send(Fatal {
                component: Arc::from("supervisor"),
                reason,
            });
        }
    }
}

impl Actor for Guardian {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let every = Duration::from_millis(self.config.check_interval_ms.max(10));
        ctx.run_interval(every, |act, _| act.check());
    }
}

impl Handler<CrashChild> for Guardian {
    type Result = bool;
    fn handle(&mut self, msg: CrashChild, _: &mut Context<Self>) -> bool {
        match self.children.iter().find(|c| c.name() == msg.0) {
            Some(child) => {
                child.crash();
                true
            }
            None => false,
        }
    }
}

impl Handler<StandDown> for Guardian {
    type Result = ();
    fn handle(&mut self, _: StandDown, _: &mut Context<Self>) {
        self.watching = false;
    }
}

#[cfg(test)]
#[path = "guardian_tests.rs"]
mod tests;
