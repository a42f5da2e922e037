//! Bounded hand-off between actors, with an explicit shed policy.
//!
//! actix's `do_send` ignores mailbox capacity, so the pipeline never uses it on
//! a hot path. A [`StageSender`] uses `try_send` into a mailbox whose capacity
//! was set when the receiving actor was created; when the mailbox is full the
//! message is shed and counted in `tapewatch_dropped_total{stage}`. The sender
//! also keeps the queue-depth gauge (actix has no queue-length API): the
//! receiving handler calls [`StageGauge::taken`] for each message it takes.
//!
//! Each receiving actor also has a depth of its own ([`StageGauge::for_actor`]):
//! several actors share a stage's gauge (one handler per feed, several sinks),
//! and when one of them dies the messages still in its mailbox die with it.
//! The guardian turns that actor's own depth into drops
//! ([`StageGauge::reclaim`]) before it starts the next incarnation.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use actix::prelude::*;
use arc_swap::ArcSwap;
use prometheus::{IntCounter, IntGauge};

use crate::metrics::Metrics;

/// Depth, high-water mark and drops of one stage's queue.
#[derive(Clone, Debug)]
pub struct StageGauge {
    depth: IntGauge,
    high_water: IntGauge,
    dropped: IntCounter,
    /// Messages queued for one receiving actor: what its death would lose.
    own: Arc<AtomicI64>,
    track_depth: bool,
}

impl StageGauge {
    /// The gauges of `stage` in `metrics`.
    pub fn new(metrics: &Metrics, stage: &str) -> Self {
        StageGauge {
            depth: metrics.depth(stage),
            high_water: metrics.high_water(stage),
            dropped: metrics.dropped(stage),
            own: Arc::new(AtomicI64::new(0)),
            track_depth: true,
        }
    }

    /// The same stage gauges with a depth of their own for one receiving
    /// actor: give the result to that actor and to the senders into it.
    pub fn for_actor(&self) -> Self {
        StageGauge {
            own: Arc::new(AtomicI64::new(0)),
            ..self.clone()
        }
    }

    /// Messages queued for this gauge's actor and not yet taken.
    pub fn own_depth(&self) -> i64 {
        self.own.load(Ordering::Relaxed)
    }

    /// Called once the actor died, before its next incarnation starts: the
    /// messages left in its mailbox are lost, so they leave the depth and are
    /// counted as drops. Returns how many.
    ///
    /// A sender that offers to the dead actor at this very moment may be
    /// counted both here and as its own `Closed` drop; its own depth then
    /// starts one below zero, which the next reclaim gives back.
    pub fn reclaim(&self) -> u64 {
        if !self.track_depth {
            return 0;
        }
        let lost = self.own.swap(0, Ordering::Relaxed);
        self.depth.sub(lost);
        let lost = u64::try_from(lost).unwrap_or(0);
        self.dropped.inc_by(lost);
        lost
    }

    /// Counts only drops: for receivers the pipeline does not own (extension
    /// actors), which never report taking a message, so a depth would only grow.
    pub fn drops_only(metrics: &Metrics, stage: &str) -> Self {
        StageGauge {
            track_depth: false,
            ..StageGauge::new(metrics, stage)
        }
    }

    /// Called by the receiving handler once per message it takes off the queue.
    pub fn taken(&self) {
        if self.track_depth {
            self.depth.dec();
            self.own.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Messages shed so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.get()
    }

    fn queued(&self) {
        if self.track_depth {
            self.depth.inc();
            self.own.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn unqueued(&self) {
        if self.track_depth {
            self.depth.dec();
            self.own.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn note_high_water(&self) {
        if !self.track_depth {
            return;
        }
        let d = self.depth.get();
        if d > self.high_water.get() {
            self.high_water.set(d);
        }
    }
}

/// Why a message did not enter a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shed {
    /// The stage's queue was full; the message was counted and dropped.
    Full,
    /// The receiving actor is gone (stopped or panicked).
    Closed,
}

/// Where a stage's messages currently go. The supervisor replaces the
/// recipient when it restarts the receiving actor, and every sender sharing
/// the slot follows without being rebuilt.
pub struct Slot<M>(Arc<ArcSwap<Recipient<M>>>)
where
    M: Message + Send,
    M::Result: Send;

impl<M> Slot<M>
where
    M: Message + Send,
    M::Result: Send,
{
    /// A slot pointing at `recipient`.
    pub fn new(recipient: Recipient<M>) -> Self {
        Slot(Arc::new(ArcSwap::from_pointee(recipient)))
    }

    /// Points the slot (and every sender using it) at a new recipient.
    pub fn set(&self, recipient: Recipient<M>) {
        self.0.store(Arc::new(recipient));
    }

    /// The current recipient.
    pub fn get(&self) -> Arc<Recipient<M>> {
        self.0.load_full()
    }
}

impl<M> Clone for Slot<M>
where
    M: Message + Send,
    M::Result: Send,
{
    fn clone(&self) -> Self {
        Slot(self.0.clone())
    }
}

/// The sending end of a bounded stage.
pub struct StageSender<M>
where
    M: Message + Send,
    M::Result: Send,
{
    slot: Slot<M>,
    gauge: StageGauge,
}

impl<M> Clone for StageSender<M>
where
    M: Message + Send,
    M::Result: Send,
{
    fn clone(&self) -> Self {
        StageSender {
            slot: self.slot.clone(),
            gauge: self.gauge.clone(),
        }
    }
}

impl<M> std::fmt::Debug for StageSender<M>
where
    M: Message + Send,
    M::Result: Send,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageSender").finish_non_exhaustive()
    }
}

impl<M> StageSender<M>
where
    M: Message + Send,
    M::Result: Send,
{
    /// A sender into `recipient`, accounted under `gauge`.
    pub fn new(recipient: Recipient<M>, gauge: StageGauge) -> Self {
        StageSender {
            slot: Slot::new(recipient),
            gauge,
        }
    }

    /// A sender into whatever `slot` points at, accounted under `gauge`.
    pub fn with_slot(slot: Slot<M>, gauge: StageGauge) -> Self {
        StageSender { slot, gauge }
    }

    /// Offers a message without waiting. A full queue sheds it (counted); the
    /// caller gets the reason and never blocks.
    pub fn offer(&self, msg: M) -> Result<(), Shed> {
        self.try_send(msg).map_err(|e| {
            self.gauge.dropped.inc();
            match e {
                SendError::Full(_) => Shed::Full,
                SendError::Closed(_) => Shed::Closed,
            }
        })
    }

    /// Offers a message, handing it back when the queue is full instead of
    /// shedding it: for a source that can wait (a replay), never for a
    /// socket. A closed receiver still sheds and counts it.
    pub fn offer_or_return(&self, msg: M) -> Result<(), M> {
        match self.try_send(msg) {
            Ok(()) => Ok(()),
            Err(SendError::Full(msg)) => Err(msg),
            Err(SendError::Closed(_)) => {
                self.gauge.dropped.inc();
                Ok(())
            }
        }
    }

    /// Messages queued for the receiving actor and not yet taken.
    pub fn queued(&self) -> i64 {
        self.gauge.own_depth()
    }

    /// `try_send` with the depth kept: the message is counted first, so the
    /// receiver can never decrement below zero, and uncounted if refused.
    fn try_send(&self, msg: M) -> Result<(), SendError<M>> {
        self.gauge.queued();
        let result = self.slot.0.load().try_send(msg);
        match &result {
            Ok(()) => self.gauge.note_high_water(),
            Err(_) => self.gauge.unqueued(),
        }
        result
    }

    /// True while the receiving actor is alive.
    pub fn connected(&self) -> bool {
        self.slot.0.load().connected()
    }
}

/// Several stage senders that each get a copy of every message.
pub struct Fanout<M>
where
    M: Message + Send + Clone,
    M::Result: Send,
{
    targets: Vec<StageSender<M>>,
}

impl<M> Clone for Fanout<M>
where
    M: Message + Send + Clone,
    M::Result: Send,
{
    fn clone(&self) -> Self {
        Fanout {
            targets: self.targets.clone(),
        }
    }
}

impl<M> Default for Fanout<M>
where
    M: Message + Send + Clone,
    M::Result: Send,
{
    fn default() -> Self {
        Fanout {
            targets: Vec::new(),
        }
    }
}

impl<M> std::fmt::Debug for Fanout<M>
where
    M: Message + Send + Clone,
    M::Result: Send,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fanout({} targets)", self.targets.len())
    }
}

impl<M> Fanout<M>
where
    M: Message + Send + Clone,
    M::Result: Send,
{
    /// A fan-out over `targets`.
    pub fn new(targets: Vec<StageSender<M>>) -> Self {
        Fanout { targets }
    }

    /// Adds a target.
    pub fn push(&mut self, target: StageSender<M>) {
        self.targets.push(target);
    }

    /// Offers a copy of `msg` to every target; returns how many shed it.
    pub fn offer(&self, msg: M) -> usize {
        let mut shed = 0;
        if let Some((last, rest)) = self.targets.split_last() {
            for t in rest {
                shed += usize::from(t.offer(msg.clone()).is_err());
            }
            shed += usize::from(last.offer(msg).is_err());
        }
        shed
    }

    /// Number of targets.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// True without targets.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Message, Clone)]
    #[rtype(result = "()")]
    struct Ping;

    struct Slow {
        gauge: StageGauge,
    }
    impl Actor for Slow {
        type Context = Context<Self>;
    }
    impl Handler<Ping> for Slow {
        type Result = ();
        fn handle(&mut self, _: Ping, _: &mut Context<Self>) {
            self.gauge.taken();
        }
    }

    #[actix::test]
    async fn a_full_queue_sheds_and_counts() {
        let metrics = Metrics::new();
        let gauge = StageGauge::new(&metrics, "detector");
        let g = gauge.clone();
        let addr = Slow::create(|ctx| {
            ctx.set_mailbox_capacity(4);
            Slow { gauge: g }
        });
        let sender = StageSender::new(addr.clone().recipient(), gauge.clone());
        // The actor cannot run until this task yields, so the queue only fills.
        let results: Vec<_> = (0..20).map(|_| sender.offer(Ping)).collect();
        let accepted = results.iter().filter(|r| r.is_ok()).count();
        assert!((4..=6).contains(&accepted), "accepted {accepted}");
        assert_eq!(gauge.dropped(), (20 - accepted) as u64);
        assert_eq!(metrics.depth("detector").get(), accepted as i64);
        // `send` bypasses the stage (it was not counted as queued), so after the
        // drain the gauge sits one below zero: every offered message was taken.
        addr.send(Ping).await.expect("actor alive");
        assert_eq!(metrics.depth("detector").get(), -1);
        assert_eq!(metrics.high_water("detector").get(), accepted as i64);
    }
}
