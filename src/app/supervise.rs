//! How the topology starts one supervised actor: on its arbiter with a bounded
//! mailbox, registered with the guardian, and reachable through slots that
//! follow its restarts.
//!
//! No pipeline actor ever stops itself, so the only way one ends is a panic;
//! the guardian restarts it from its start function. actix's `Supervisor`
//! (restart in place when an actor *stops*) would have nothing to do.

use std::sync::Arc;

use actix::prelude::*;
use arc_swap::ArcSwap;
use tapewatch_actors::guardian::{Child, ChildOf};
use tapewatch_actors::stage::{Slot, StageGauge};

/// The current address of a supervised actor, repointed on restart.
pub(crate) type AddrSlot<A> = Arc<ArcSwap<Addr<A>>>;

/// Starts `make()` in `arbiter` with a mailbox of `capacity` messages.
pub(crate) fn bounded<A, F>(arbiter: &ArbiterHandle, capacity: usize, make: F) -> Addr<A>
where
    A: Actor<Context = Context<A>>,
    F: FnOnce() -> A + Send + 'static,
{
    A::start_in_arbiter(arbiter, move |ctx: &mut Context<A>| {
        ctx.set_mailbox_capacity(capacity);
        make()
    })
}

/// Starts an actor with `start`, registers it with the guardian, and returns
/// the slot its peers send `M` through and the slot of its current address;
/// both are repointed when the guardian restarts it. `queue` is the gauge of
/// the actor's own inbound queue: what it holds when the actor dies is
/// counted as dropped.
pub(crate) fn child<A, M>(
    children: &mut Vec<Box<dyn Child>>,
    name: String,
    queue: Option<StageGauge>,
    slot_of: impl Fn(&Addr<A>) -> Recipient<M> + Send + 'static,
    start: impl FnMut() -> Addr<A> + Send + 'static,
) -> (Slot<M>, AddrSlot<A>)
where
    A: Actor<Context = Context<A>> + Handler<tapewatch_actors::messages::Crash> + Handler<M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    child_also(children, name, queue, slot_of, start, |_| {})
}

/// [`child`], also calling `also` with every incarnation's address (the
/// first one included), for actors that receive a second message type.
pub(crate) fn child_also<A, M>(
    children: &mut Vec<Box<dyn Child>>,
    name: String,
    queue: Option<StageGauge>,
    slot_of: impl Fn(&Addr<A>) -> Recipient<M> + Send + 'static,
    mut start: impl FnMut() -> Addr<A> + Send + 'static,
    mut also: impl FnMut(&Addr<A>) + Send + 'static,
) -> (Slot<M>, AddrSlot<A>)
where
    A: Actor<Context = Context<A>> + Handler<tapewatch_actors::messages::Crash> + Handler<M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    let first = start();
    also(&first);
    let slot = Slot::new(slot_of(&first));
    let addr_slot: AddrSlot<A> = Arc::new(ArcSwap::from_pointee(first.clone()));
    let (s, a) = (slot.clone(), addr_slot.clone());
    let publish = move |addr: &Addr<A>| {
        also(addr);
        s.set(slot_of(addr));
        a.store(Arc::new(addr.clone()));
    };
    let mut entry = ChildOf::running(name, first, start, publish);
    if let Some(gauge) = queue {
        entry = entry.with_queue(gauge);
    }
    children.push(Box::new(entry));
    (slot, addr_slot)
}
