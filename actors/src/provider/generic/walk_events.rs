//! The part of the walk at the events pointer: an array of events, each
//! element read into the event slots and turned into an event at once, or
//! one object that is the event (and may hold frame-level values too).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{At, Walker, Which};
use crate::provider::{DecodeIssue, IssueKind};

/// The value at the events pointer: an array of events or one event.
pub(super) struct Events<'w, 'p, 'o, 's, 'de> {
    pub(super) w: &'w mut Walker<'p, 'o, 's, 'de>,
}

impl<'de> Visitor<'de> for Events<'_, '_, '_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of events or one event object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(not_object) = seq.next_element_seed(Element { w: &mut *self.w })? {
            self.w.emit(not_object);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        At {
            w: &mut *self.w,
            which: Which::Object,
            node: 0,
        }
        .visit_map(map)?;
        self.w.emit(false);
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.not_events("a boolean")
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.not_events("a number")
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.not_events("a number")
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.not_events("a number")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.not_events("a string")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.not_events("null")
    }
}

impl Events<'_, '_, '_, '_, '_> {
    fn not_events<E>(self, what: &str) -> Result<(), E> {
        if let Some(sink) = self.w.sink.as_deref_mut() {
            sink.issues.push(DecodeIssue::new(
                IssueKind::NotArray,
                format!("the events are {what}, not an array or an object"),
            ));
        }
        Ok(())
    }
}

/// One element of the events array; yields whether it was not an object.
struct Element<'w, 'p, 'o, 's, 'de> {
    w: &'w mut Walker<'p, 'o, 's, 'de>,
}

impl<'de> DeserializeSeed<'de> for Element<'_, '_, '_, '_, 'de> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Element<'_, '_, '_, '_, 'de> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        At {
            w: self.w,
            which: Which::Element,
            node: 0,
        }
        .visit_map(map)?;
        Ok(false)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
        // Events may be arrays themselves (`["BTC-USD", "42.1", ...]`), read by index.
        At {
            w: self.w,
            which: Which::Element,
            node: 0,
        }
        .visit_seq(seq)?;
        Ok(false)
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(true)
    }
}
