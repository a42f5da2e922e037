use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::stage::{Slot, StageGauge, StageSender};

/// Counts pings; panics on `Crash`.
struct Pinger(Arc<AtomicUsize>);

impl Actor for Pinger {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Ping;

impl Handler<Ping> for Pinger {
    type Result = ();
    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl Handler<Crash> for Pinger {
    type Result = ();
    fn handle(&mut self, _: Crash, _: &mut Context<Self>) {
        panic!("pinger crash requested");
    }
}

struct FatalSink(tokio::sync::mpsc::UnboundedSender<Fatal>);
impl Actor for FatalSink {
    type Context = Context<Self>;
}
impl Handler<Fatal> for FatalSink {
    type Result = ();
    fn handle(&mut self, msg: Fatal, _: &mut Context<Self>) {
        let _ = self.0.send(msg);
    }
}

fn rig(
    max_restarts: u32,
) -> (
    Addr<Guardian>,
    Slot<Ping>,
    Arc<AtomicUsize>,
    Metrics,
    tokio::sync::mpsc::UnboundedReceiver<Fatal>,
) {
    let pings = Arc::new(AtomicUsize::new(0));
    let metrics = Metrics::new();
    let slot: Slot<Ping> = Slot::new(Pinger(pings.clone()).start().recipient());
    let (p, s) = (pings.clone(), slot.clone());
    let (child, _) = ChildOf::start(
        "pinger",
        move || Pinger(p.clone()).start(),
        move |addr: &Addr<Pinger>| s.set(addr.clone().recipient()),
    );
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let config = SupervisionConfig {
        check_interval_ms: 10,
        max_restarts,
        window_s: 60,
    };
    let guardian = Guardian::new(
        config,
        vec![Box::new(child)],
        metrics.clone(),
        Some(FatalSink(tx).start().recipient()),
    )
    .start();
    (guardian, slot, pings, metrics, rx)
}

async fn until(limit: Duration, cond: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while !cond() {
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}

#[actix::test]
async fn a_panicked_actor_is_restarted_and_its_peers_follow() {
    let (guardian, slot, pings, metrics, _rx) = rig(5);
    slot.get().try_send(Ping).expect("alive");
    assert!(guardian
        .send(CrashChild("pinger".into()))
        .await
        .expect("guardian"));
    let restarts = metrics.restarts.with_label_values(&["pinger"]);
    assert!(until(Duration::from_secs(5), || restarts.get() == 1).await);
    // The slot now points at the new incarnation.
    slot.get()
        .try_send(Ping)
        .expect("restarted actor accepts messages");
    assert!(
        until(Duration::from_secs(5), || pings.load(Ordering::Relaxed)
            == 2)
        .await
    );
    assert!(!guardian
        .send(CrashChild("nobody".into()))
        .await
        .expect("guardian"));
}

#[actix::test]
async fn too_many_restarts_give_up_with_a_fatal_report() {
    let (guardian, _slot, _pings, metrics, mut rx) = rig(2);
    let restarts = metrics.restarts.with_label_values(&["pinger"]);
    for n in 1..=2 {
        guardian
            .send(CrashChild("pinger".into()))
            .await
            .expect("guardian");
        assert!(until(Duration::from_secs(5), || restarts.get() == n).await);
    }
    guardian
        .send(CrashChild("pinger".into()))
        .await
        .expect("guardian");
    let fatal = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("fatal reported")
        .expect("channel open");
    assert!(fatal.reason.contains("pinger"), "{}", fatal.reason);
    assert!(fatal.reason.contains("giving up"), "{}", fatal.reason);
    assert_eq!(restarts.get(), 2, "no restart after giving up");
}

/// Counts each message off its stage's gauge; panics on `Crash`.
struct Taker(StageGauge);

impl Actor for Taker {
    type Context = Context<Self>;
}

impl Handler<Ping> for Taker {
    type Result = ();
    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {
        self.0.taken();
    }
}

impl Handler<Crash> for Taker {
    type Result = ();
    fn handle(&mut self, _: Crash, _: &mut Context<Self>) {
        panic!("taker crash requested");
    }
}

#[actix::test]
async fn messages_in_a_dead_mailbox_are_counted_as_drops_and_leave_the_depth() {
    let metrics = Metrics::new();
    let stage = StageGauge::new(&metrics, "sink");
    // A second actor of the same stage keeps one message queued throughout:
    // only the dead actor's own messages may be reclaimed.
    let other = stage.for_actor();
    let idle = Taker(other.clone()).start();
    let gauge = stage.for_actor();
    let g = gauge.clone();
    let first = Taker::create(|ctx| {
        ctx.set_mailbox_capacity(64);
        Taker(g.clone())
    });
    let slot: Slot<Ping> = Slot::new(first.clone().recipient());
    let s = slot.clone();
    let g = gauge.clone();
    let child = ChildOf::running(
        "taker",
        first.clone(),
        move || {
            let g = g.clone();
            Taker::create(move |ctx| {
                ctx.set_mailbox_capacity(64);
                Taker(g)
            })
        },
        move |addr: &Addr<Taker>| s.set(addr.clone().recipient()),
    )
    .with_queue(gauge.clone());
    let sender = StageSender::with_slot(slot.clone(), gauge.clone());
    // Nothing runs until this task yields: the crash comes first in the
    // mailbox and ten messages wait behind it.
    first.try_send(Crash).expect("alive");
    for _ in 0..10 {
        sender.offer(Ping).expect("room in the mailbox");
    }
    StageSender::new(idle.recipient(), other.clone())
        .offer(Ping)
        .expect("room");
    assert_eq!(metrics.depth("sink").get(), 11);
    let config = SupervisionConfig {
        check_interval_ms: 10,
        max_restarts: 5,
        window_s: 60,
    };
    let _guardian = Guardian::new(config, vec![Box::new(child)], metrics.clone(), None).start();
    let restarts = metrics.restarts.with_label_values(&["taker"]);
    assert!(until(Duration::from_secs(5), || restarts.get() == 1).await);
    assert_eq!(
        metrics.dropped("sink").get(),
        10,
        "the dead mailbox's messages"
    );
    assert!(until(Duration::from_secs(5), || metrics.depth("sink").get() == 0).await);
    assert_eq!(gauge.own_depth(), 0);
    assert_eq!(other.own_depth(), 0, "the idle actor took its message");
    // The new incarnation is counted from zero.
    sender.offer(Ping).expect("restarted");
    assert!(until(Duration::from_secs(5), || gauge.own_depth() == 0).await);
    assert_eq!(metrics.dropped("sink").get(), 10);
}
