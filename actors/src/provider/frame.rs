//! The part of a JSON frame decoder that is the same for every provider.
//!
//! Both Polygon and Alpaca send a JSON array of flat objects, one per event.
//! [`decode_array`] walks the array once; each element is read into a provider's
//! [`Fields`] struct (every field a [`Flex`] borrowed from the frame) and then
//! turned into a typed [`Event`]. A bad element becomes a [`DecodeIssue`] and the
//! rest of the frame is still decoded; only a frame that is not valid JSON is
//! lost whole.
//!
//! Two paths produce the same result: a byte scanner for the common shape
//! (see `frame_scan`), and serde for everything, which the scanner falls back
//! to.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::flex::{Flex, Key};
use super::frame_scan::scan_array;
use super::{DecodeIssue, IssueKind};
use crate::events::Event;

/// One array element of a provider's frame, read field by field.
pub(crate) trait Fields<'de>: Default {
    /// The slot the value of `key` goes into, or `None` to skip the value.
    /// Keys are bytes so that the byte scanner need not check them as UTF-8.
    fn slot(&mut self, key: &[u8]) -> Option<&mut Flex<'de>>;

    /// An element that was not a JSON object.
    fn not_object() -> Self;

    /// The typed event; `Ok(None)` for an element deliberately ignored.
    fn to_event(&self) -> Result<Option<Event>, DecodeIssue>;
}

/// Decodes one frame, appending events to `out` and problems to `issues`.
///
/// The byte scanner of [`frame_scan`](super::frame_scan) takes the frames
/// providers really send; anything it leaves (escapes, nesting, broken JSON)
/// is decoded again from the start by serde, with the same result either way.
pub(crate) fn decode_array<'de, F: Fields<'de>>(
    frame: &'de [u8],
    out: &mut Vec<Event>,
    issues: &mut Vec<DecodeIssue>,
) {
    let (events, problems) = (out.len(), issues.len());
    if scan_array::<F>(frame, out, issues, F::default).is_some() {
        return;
    }
    out.truncate(events);
    issues.truncate(problems);
    decode_array_serde::<F>(frame, out, issues)
}

/// [`decode_array`] on the general path only: serde over the whole frame.
pub(crate) fn decode_array_serde<'de, F: Fields<'de>>(
    frame: &'de [u8],
    out: &mut Vec<Event>,
    issues: &mut Vec<DecodeIssue>,
) {
    let (events, problems) = (out.len(), issues.len());
    let mut de = serde_json::Deserializer::from_slice(frame);
    let seed = FrameSeed::<F> {
        out,
        issues,
        fields: PhantomData,
    };
    let result = de.deserialize_any(seed).and_then(|()| de.end());
    if let Err(e) = result {
        // A frame that is not JSON as a whole is corrupt as a whole: the
        // elements read before the break may be a proxy's leftovers or a
        // replayed fragment, so none of them becomes an event, and the frame
        // is one issue.
        out.truncate(events);
        issues.truncate(problems);
        let kind = if e.is_eof() {
            IssueKind::Truncated
        } else {
            IssueKind::Malformed
        };
        issues.push(DecodeIssue::new(kind, e.to_string()));
    }
}

struct FrameSeed<'o, F> {
    out: &'o mut Vec<Event>,
    issues: &'o mut Vec<DecodeIssue>,
    fields: PhantomData<F>,
}

impl<'de, F: Fields<'de>> DeserializeSeed<'de> for FrameSeed<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: Fields<'de>> Visitor<'de> for FrameSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(Element(fields)) = seq.next_element::<Element<F>>()? {
            match fields.to_event() {
                Ok(Some(event)) => self.out.push(event),
                Ok(None) => {}
                Err(issue) => self.issues.push(issue),
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.issues.push(DecodeIssue::new(
            IssueKind::NotArray,
            "frame is a JSON object, expected an array",
        ));
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.not_array("a string")
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.not_array("a number")
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.not_array("a number")
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.not_array("a number")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.not_array("a boolean")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.not_array("null")
    }
}

impl<F> FrameSeed<'_, F> {
    fn not_array<E>(self, what: &str) -> Result<(), E> {
        self.issues.push(DecodeIssue::new(
            IssueKind::NotArray,
            format!("frame is {what}, expected an array"),
        ));
        Ok(())
    }
}

/// One array element: an object read into `F`, or anything else as `F::not_object`.
struct Element<F>(F);

impl<'de, F: Fields<'de>> Deserialize<'de> for Element<F> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ElementVisitor(PhantomData))
    }
}

struct ElementVisitor<F>(PhantomData<F>);

impl<'de, F: Fields<'de>> Visitor<'de> for ElementVisitor<F> {
    type Value = Element<F>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = F::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match fields.slot(key.as_bytes()) {
                Some(slot) => *slot = map.next_value::<Flex<'de>>()?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Element(fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Element(F::not_object()))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Element(F::not_object()))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Element(F::not_object()))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Element(F::not_object()))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Element(F::not_object()))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Element(F::not_object()))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Element(F::not_object()))
    }
}

/// Keeps attacker-controlled text in error messages short.
pub(crate) fn truncate(s: &str) -> &str {
    clip(s, 16)
}

/// The first `chars` characters of `s`.
pub(crate) fn clip(s: &str, chars: usize) -> &str {
    match s.char_indices().nth(chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Writes a rejected number for an error message in at most a few dozen bytes.
///
/// `f64`'s `Display` never switches to an exponent, so a frame carrying `1e300`
/// or `-1e-300` would otherwise put a 300-digit number into the issue (and into
/// every log line and metric that carries it). Ordinary magnitudes keep the
/// plain spelling a person expects; the rest use scientific notation.
pub(crate) fn short_number(v: f64) -> String {
    if v == 0.0 || (1e-6..1e15).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}
