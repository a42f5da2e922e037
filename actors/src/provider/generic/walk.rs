//! One pass over a frame that reads only what the configuration points at.
//!
//! The pointers of every rule are merged into tries ([`Plan`]); serde walks
//! the frame, descends only along the tries' edges, reads the values at
//! their ends into slots, and skips everything else without building it.
//! At the events pointer each array element (or the one object there) is
//! read into the event slots and handed to the [`Mapping`] at once, so
//! events are built while the frame is read, borrowing from it.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use self::events::Events;
use super::decode::Mapping;
use super::pointer::Trie;
use super::value::Val;
use crate::events::Event;
use crate::provider::flex::Key;
use crate::provider::{DecodeIssue, IssueKind};

/// The tries of one protocol.
#[derive(Debug, Clone, Default)]
pub(super) struct Plan {
    /// Frame-level pointers: conditions of every rule, captures, the events.
    pub frame: Trie,
    /// The node of `frame` where the events are.
    pub events_node: usize,
    /// The events pointer's own object when it is one event: the frame
    /// pointers below it and the event fields.
    pub object: Trie,
    /// One element of an events array: the event fields.
    pub element: Trie,
    /// Slots `0..frame_slots` are the frame's; the rest the event's.
    pub frame_slots: usize,
    /// All slots.
    pub slots: usize,
}

/// Where decoded events go.
pub(super) struct Sink<'s> {
    pub map: &'s Mapping,
    pub out: &'s mut Vec<Event>,
    pub issues: &'s mut Vec<DecodeIssue>,
    /// The events pointer was found in the frame.
    pub seen: bool,
}

/// How a walk ends.
pub(super) enum Walked {
    /// The frame was read (or enough of it).
    Read,
    /// The frame is not JSON.
    Broken(DecodeIssue),
}

/// Walks `frame`, filling `slots` (which must hold `plan.slots` values).
/// With a sink, events are decoded into it; without one, only frame-level
/// values are read, and the walk stops as soon as every one was found.
pub(super) fn walk<'de>(
    plan: &Plan,
    frame: &'de [u8],
    slots: &mut [Val<'de>],
    sink: Option<&mut Sink<'_>>,
) -> Walked {
    let control = sink.is_none();
    let mut walker = Walker {
        plan,
        slots,
        sink,
        found: 0,
        stopped: false,
    };
    let mut de = serde_json::Deserializer::from_slice(frame);
    let seed = At {
        w: &mut walker,
        which: Which::Frame,
        node: 0,
    };
    let result = seed.deserialize(&mut de).and_then(|()| de.end());
    match result {
        Ok(()) => Walked::Read,
        Err(_) if control && walker.stopped => Walked::Read,
        Err(e) => {
            let kind = if e.is_eof() {
                IssueKind::Truncated
            } else {
                IssueKind::Malformed
            };
            Walked::Broken(DecodeIssue::new(kind, e.to_string()))
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Frame,
    Object,
    Element,
}

struct Walker<'p, 'o, 's, 'de> {
    plan: &'p Plan,
    slots: &'o mut [Val<'de>],
    sink: Option<&'o mut Sink<'s>>,
    /// Frame slots found so far (control walks stop when all are).
    found: usize,
    stopped: bool,
}

impl<'de> Walker<'_, '_, '_, 'de> {
    fn trie(&self, which: Which) -> &Trie {
        match which {
            Which::Frame => &self.plan.frame,
            Which::Object => &self.plan.object,
            Which::Element => &self.plan.element,
        }
    }

    /// Stores `v` in the node's slots; in a control walk, stops once every
    /// frame slot is found.
    fn fill<E: de::Error>(&mut self, which: Which, node: usize, v: Val<'de>) -> Result<(), E> {
        let plan = self.plan;
        let slots = &plan.trie_of(which).nodes[node].slots;
        if let Some((&last, rest)) = slots.split_last() {
            for &slot in rest.iter().chain(std::iter::once(&last)) {
                if slot < plan.frame_slots && !self.slots[slot].is_present() && v.is_present() {
                    self.found += 1;
                }
            }
            for &slot in rest {
                self.slots[slot] = v.clone();
            }
            // The common case, one slot, takes the value without a copy.
            self.slots[last] = v;
        }
        if self.sink.is_none() && self.found >= plan.frame_slots && !slots.is_empty() {
            self.stopped = true;
            return Err(E::custom("every value found"));
        }
        Ok(())
    }

    /// Builds the event now in the event slots, then clears them.
    fn emit(&mut self, not_object: bool) {
        let frame_slots = self.plan.frame_slots;
        if let Some(sink) = self.sink.as_deref_mut() {
            let result = if not_object {
                Err(DecodeIssue::new(
                    IssueKind::NotObject,
                    "an element of the events array is not an object",
                ))
            } else {
                sink.map.build(self.slots)
            };
            match result {
                Ok(Some(event)) => sink.out.push(event),
                Ok(None) => {}
                Err(issue) => sink.issues.push(issue),
            }
        }
        for v in &mut self.slots[frame_slots..] {
            *v = Val::Absent;
        }
    }
}

impl Plan {
    fn trie_of(&self, which: Which) -> &Trie {
        match which {
            Which::Frame => &self.frame,
            Which::Object => &self.object,
            Which::Element => &self.element,
        }
    }
}

/// A position in a trie, as a serde seed and visitor.
struct At<'w, 'p, 'o, 's, 'de> {
    w: &'w mut Walker<'p, 'o, 's, 'de>,
    which: Which,
    node: usize,
}

impl<'de> DeserializeSeed<'de> for At<'_, '_, '_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let is_events = self.which == Which::Frame
            && self.node == self.w.plan.events_node
            && self.w.sink.is_some();
        if is_events {
            if let Some(sink) = self.w.sink.as_deref_mut() {
                sink.seen = true;
            }
            return d.deserialize_any(Events { w: self.w });
        }
        if self.w.trie(self.which).nodes[self.node].edges.is_empty() {
            let v = Val::deserialize(d)?;
            return self.w.fill(self.which, self.node, v);
        }
        d.deserialize_any(self)
    }
}

macro_rules! scalar {
    ($name:ident, $t:ty, $make:expr) => {
        fn $name<E: de::Error>(self, v: $t) -> Result<(), E> {
            #[allow(clippy::redundant_closure_call)]
            let val = ($make)(v);
            self.w.fill(self.which, self.node, val)
        }
    };
}

impl<'de> Visitor<'de> for At<'_, '_, '_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.w.fill(self.which, self.node, Val::Composite)?;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match self.w.trie(self.which).by_key(self.node, &key) {
                Some(node) => map.next_value_seed(At {
                    w: &mut *self.w,
                    which: self.which,
                    node,
                })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.w.fill(self.which, self.node, Val::Composite)?;
        let mut i = 0;
        loop {
            let next = match self.w.trie(self.which).by_index(self.node, i) {
                Some(node) => seq
                    .next_element_seed(At {
                        w: &mut *self.w,
                        which: self.which,
                        node,
                    })?
                    .is_some(),
                None => seq.next_element::<IgnoredAny>()?.is_some(),
            };
            if !next {
                return Ok(());
            }
            i += 1;
        }
    }

    scalar!(visit_bool, bool, Val::Bool);
    scalar!(visit_i64, i64, Val::Int);
    scalar!(visit_u64, u64, |v: u64| i64::try_from(v)
        .map_or(Val::Float(v as f64), Val::Int));
    scalar!(visit_f64, f64, Val::Float);
    scalar!(visit_borrowed_str, &'de str, |v: &'de str| Val::Str(
        v.into()
    ));
    scalar!(visit_str, &str, |v: &str| Val::Str(v.to_owned().into()));

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

#[path = "walk_events.rs"]
mod events;
