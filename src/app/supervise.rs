//! How the topology starts one supervised actor: under actix's `Supervisor`
//! with a bounded mailbox, registered with the guardian, and reachable through
//! slots that follow its restarts.

use std::sync::Arc;

use actix::prelude::*;
use arc_swap::ArcSwap;
use tapewatch_actors::guardian::{Child, ChildOf};
use tapewatch_actors::stage::Slot;

/// The current address of a supervised actor, repointed on restart.
pub(crate) type AddrSlot<A> = Arc<ArcSwap<Addr<A>>>;

/// Starts `make()` in `arbiter` under a `Supervisor`, with a bounded mailbox.
pub(super) fn supervised<A, F>(arbiter: &ArbiterHandle, capacity: usize, make: F) -> Addr<A>
where
    A: Actor<Context = Context<A>> + actix::Supervised,
    F: FnOnce() -> A + Send + 'static,
{
    Supervisor::start_in_arbiter(arbiter, move |ctx: &mut Context<A>| {
        ctx.set_mailbox_capacity(capacity);
        make()
    })
}

/// Starts an actor with `start`, registers it with the guardian, and returns
/// the slot its peers send `M` through and the slot of its current address;
/// both are repointed when the guardian restarts it.
pub(super) fn child<A, M>(
    children: &mut Vec<Box<dyn Child>>,
    name: String,
    slot_of: impl Fn(&Addr<A>) -> Recipient<M> + Send + 'static,
    mut start: impl FnMut() -> Addr<A> + Send + 'static,
) -> (Slot<M>, AddrSlot<A>)
where
    A: Actor<Context = Context<A>> + Handler<tapewatch_actors::messages::Crash> + Handler<M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    let first = start();
    let slot = Slot::new(slot_of(&first));
    let addr_slot: AddrSlot<A> = Arc::new(ArcSwap::from_pointee(first.clone()));
    let (s, a) = (slot.clone(), addr_slot.clone());
    let publish = move |addr: &Addr<A>| {
        s.set(slot_of(addr));
        a.store(Arc::new(addr.clone()));
    };
    children.push(Box::new(ChildOf::running(name, first, start, publish)));
    (slot, addr_slot)
}
