//! The fast path of the generic decoder, for frames that are an array of
//! flat event objects (the events pointer is `""` and every field pointer is
//! one key): the byte scanner Polygon's and Alpaca's decoders use reads each
//! element straight into slots, and the event is built by the same
//! [`Mapping`](super::decode::Mapping) as on the serde walk. Anything the
//! scanner does not take (escapes, nesting, a frame of another shape) goes
//! to the walk, which gives the same result.

use std::borrow::Cow;

use smallvec::SmallVec;

use super::compile::Compiled;
use super::value::Val;
use crate::events::Event;
use crate::provider::flex::Flex;
use crate::provider::frame::Fields;
use crate::provider::{DecodeIssue, IssueKind};

/// The keys of a flat event and the slot each fills, when the protocol's
/// events are flat and at the frame itself; `None` otherwise. Conditions
/// that compare with a boolean rule the fast path out: the scanner reads
/// booleans as "other".
pub(super) fn keys(c: &Compiled) -> Option<Vec<(Box<[u8]>, usize)>> {
    let plan = &c.plan;
    let m = &c.mapping;
    let conds = (m.skip.iter())
        .chain(m.trade.as_ref().and_then(|t| t.when.as_ref()))
        .chain(m.quote.as_ref().and_then(|q| q.when.as_ref()));
    if plan.events_node != 0 || conds.into_iter().any(|c| c.reads_bool()) {
        return None;
    }
    let root = &plan.element.nodes[0];
    if !root.slots.is_empty() {
        return None;
    }
    root.edges
        .iter()
        .map(|e| {
            let node = &plan.element.nodes[e.to];
            match (node.edges.is_empty(), node.slots.as_slice()) {
                (true, [slot]) => Some((e.key.as_bytes().into(), *slot)),
                _ => None,
            }
        })
        .collect()
}

/// One element's fields, read by the scanner.
#[derive(Default)]
pub(super) struct FlatFields<'p, 'de> {
    c: Option<&'p Compiled>,
    values: SmallVec<[Flex<'de>; 16]>,
}

impl<'p> FlatFields<'p, '_> {
    pub(super) fn new(c: &'p Compiled, keys: usize) -> Self {
        FlatFields {
            c: Some(c),
            values: smallvec::smallvec![Flex::Absent; keys],
        }
    }
}

fn to_val<'de>(f: &Flex<'de>) -> Val<'de> {
    match f {
        Flex::Absent => Val::Absent,
        Flex::Int(i) => Val::Int(*i),
        Flex::Float(x) => Val::Float(*x),
        Flex::Str(s) => Val::Str(match s {
            Cow::Borrowed(b) => Cow::Borrowed(b),
            Cow::Owned(o) => Cow::Owned(o.clone()),
        }),
        Flex::Ints(v) => Val::Ints(v.clone()),
        Flex::Other => Val::Composite,
    }
}

impl<'de> Fields<'de> for FlatFields<'_, 'de> {
    fn slot(&mut self, key: &[u8]) -> Option<&mut Flex<'de>> {
        let keys = self.c?.flat.as_ref()?;
        let i = keys.iter().position(|(k, _)| &**k == key)?;
        self.values.get_mut(i)
    }

    fn not_object() -> Self {
        FlatFields::default()
    }

    fn to_event(&self) -> Result<Option<Event>, DecodeIssue> {
        let Some((c, keys)) = self.c.and_then(|c| Some((c, c.flat.as_ref()?))) else {
            return Err(DecodeIssue::new(
                IssueKind::NotObject,
                "an element of the events array is not an object",
            ));
        };
        let mut slots: SmallVec<[Val<'de>; 24]> = smallvec::smallvec![Val::Absent; c.plan.slots];
        for ((_, slot), value) in keys.iter().zip(&self.values) {
            slots[*slot] = to_val(value);
        }
        c.mapping.build(&slots)
    }
}
