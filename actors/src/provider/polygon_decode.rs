//! Decoder for Polygon/Massive data frames: a JSON array of events keyed by `ev`.
//!
//! One pass over the frame: each array element is visited as a flat set of
//! [`Flex`] fields borrowed from the frame, then turned into a typed [`Event`]
//! by its `ev`. A bad element (unknown `ev`, missing or mistyped field, value out
//! of range) is reported as a [`DecodeIssue`] and skipped; the rest of the frame
//! is still decoded. Only a frame that is not valid JSON is lost whole.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::flex::{Flex, Key};
use super::{DecodeIssue, IssueKind};
use crate::events::{AggWindow, Aggregate, AssetClass, Event, Quote, Status, Symbol, Trade};

/// Event types Polygon sends that tapewatch deliberately does not decode.
const IGNORED_EVENTS: &[&str] = &[
    "LULD", "NOI", "FMV", "LV", "V", "C", "CA", "CAS", "XQ", "XL2", "XA", "XAS",
];

/// Decodes one Polygon frame, appending events to `out` and problems to `issues`.
pub fn decode_frame(frame: &[u8], out: &mut Vec<Event>, issues: &mut Vec<DecodeIssue>) {
    let mut de = serde_json::Deserializer::from_slice(frame);
    let seed = FrameSeed { out, issues };
    let result = de.deserialize_any(seed).and_then(|()| de.end());
    if let Err(e) = result {
        let kind = if e.is_eof() {
            IssueKind::Truncated
        } else {
            IssueKind::Malformed
        };
        issues.push(DecodeIssue::new(kind, e.to_string()));
    }
}

struct FrameSeed<'o> {
    out: &'o mut Vec<Event>,
    issues: &'o mut Vec<DecodeIssue>,
}

impl<'de> DeserializeSeed<'de> for FrameSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FrameSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<RawEvent<'de>>()? {
            match raw.into_event() {
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

impl FrameSeed<'_> {
    fn not_array<E>(self, what: &str) -> Result<(), E> {
        self.issues.push(DecodeIssue::new(
            IssueKind::NotArray,
            format!("frame is {what}, expected an array"),
        ));
        Ok(())
    }
}

/// One array element, every field optional and loosely typed.
#[derive(Default)]
struct RawEvent<'a> {
    not_object: bool,
    ev: Flex<'a>,
    sym: Flex<'a>,
    pair: Flex<'a>,
    p: Flex<'a>,
    s: Flex<'a>,
    x: Flex<'a>,
    c: Flex<'a>,
    t: Flex<'a>,
    q: Flex<'a>,
    o: Flex<'a>,
    h: Flex<'a>,
    l: Flex<'a>,
    v: Flex<'a>,
    vw: Flex<'a>,
    e: Flex<'a>,
    bp: Flex<'a>,
    bs: Flex<'a>,
    ap: Flex<'a>,
    ask_size: Flex<'a>,
    status: Flex<'a>,
    message: Flex<'a>,
}

impl<'de> Deserialize<'de> for RawEvent<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawEventVisitor)
    }
}

struct RawEventVisitor;

impl<'de> Visitor<'de> for RawEventVisitor {
    type Value = RawEvent<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut raw = RawEvent::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let slot = match key.as_ref() {
                "ev" => &mut raw.ev,
                "sym" => &mut raw.sym,
                "pair" => &mut raw.pair,
                "p" => &mut raw.p,
                "s" => &mut raw.s,
                "x" => &mut raw.x,
                "c" => &mut raw.c,
                "t" => &mut raw.t,
                "q" => &mut raw.q,
                "o" => &mut raw.o,
                "h" => &mut raw.h,
                "l" => &mut raw.l,
                "v" => &mut raw.v,
                "vw" => &mut raw.vw,
                "e" => &mut raw.e,
                "bp" => &mut raw.bp,
                "bs" => &mut raw.bs,
                "ap" => &mut raw.ap,
                "as" => &mut raw.ask_size,
                "status" => &mut raw.status,
                "message" => &mut raw.message,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value::<Flex<'de>>()?;
        }
        Ok(raw)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(RawEvent::not_object())
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(RawEvent::not_object())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(RawEvent::not_object())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(RawEvent::not_object())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(RawEvent::not_object())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(RawEvent::not_object())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(RawEvent::not_object())
    }
}

type Field<T> = Result<T, DecodeIssue>;

impl<'a> RawEvent<'a> {
    fn not_object() -> Self {
        RawEvent {
            not_object: true,
            ..RawEvent::default()
        }
    }

    fn into_event(self) -> Result<Option<Event>, DecodeIssue> {
        if self.not_object {
            return Err(DecodeIssue::new(
                IssueKind::NotObject,
                "array element is not an object",
            ));
        }
        let Some(ev) = self.ev.str() else {
            return Err(DecodeIssue::new(
                IssueKind::MissingField,
                "event without an `ev` string",
            ));
        };
        match ev {
            "T" => self.trade("sym").map(Some),
            "XT" => self.trade("pair").map(Some),
            "Q" => self.quote().map(Some),
            "A" => self.aggregate(AggWindow::Second).map(Some),
            "AM" => self.aggregate(AggWindow::Minute).map(Some),
            "status" => Ok(Some(Event::Status(Status {
                status: self.status.str().unwrap_or_default().to_owned(),
                message: self.message.str().unwrap_or_default().to_owned(),
            }))),
            other if IGNORED_EVENTS.contains(&other) => Ok(None),
            other => Err(DecodeIssue::new(
                IssueKind::UnknownEvent,
                format!("unknown event type `{}`", truncate(other)),
            )),
        }
    }

    fn symbol(&self, key: &'static str) -> Field<Symbol> {
        let flex = if key == "pair" { &self.pair } else { &self.sym };
        match flex.str() {
            Some(s) if !s.is_empty() && s.len() <= 64 => Ok(Symbol::new(s)),
            Some(_) => Err(self.bad(key, "an empty or over-long ticker")),
            None => Err(self.missing(key, flex)),
        }
    }

    fn trade(&self, sym_key: &'static str) -> Field<Event> {
        let symbol = self.symbol(sym_key)?;
        let price = self.positive("p", &self.p)?;
        let size = self.non_negative("s", &self.s)?;
        let time_ms = self.time("t", &self.t)?;
        Ok(Event::Trade(Trade {
            class: if sym_key == "pair" {
                AssetClass::Crypto
            } else {
                AssetClass::of(&symbol)
            },
            symbol,
            price,
            size,
            exchange: self.x.i64().and_then(|x| i32::try_from(x).ok()),
            conditions: match &self.c {
                Flex::Ints(c) => c.clone(),
                _ => Default::default(),
            },
            time_ms,
            sequence: self.q.i64(),
        }))
    }

    fn quote(&self) -> Field<Event> {
        let symbol = self.symbol("sym")?;
        Ok(Event::Quote(Quote {
            class: AssetClass::of(&symbol),
            symbol,
            bid: self.non_negative("bp", &self.bp)?,
            bid_size: self.bs.f64().unwrap_or(0.0),
            ask: self.non_negative("ap", &self.ap)?,
            ask_size: self.ask_size.f64().unwrap_or(0.0),
            time_ms: self.time("t", &self.t)?,
        }))
    }

    fn aggregate(&self, window: AggWindow) -> Field<Event> {
        let symbol = self.symbol("sym")?;
        Ok(Event::Aggregate(Aggregate {
            class: AssetClass::of(&symbol),
            symbol,
            window,
            open: self.non_negative("o", &self.o)?,
            high: self.non_negative("h", &self.h)?,
            low: self.non_negative("l", &self.l)?,
            close: self.non_negative("c", &self.c)?,
            volume: self.v.f64(),
            vwap: self.vw.f64(),
            start_ms: self.time("s", &self.s)?,
            end_ms: self.time("e", &self.e)?,
        }))
    }

    fn number(&self, key: &'static str, flex: &Flex) -> Field<f64> {
        flex.f64().ok_or_else(|| self.missing(key, flex))
    }

    fn positive(&self, key: &'static str, flex: &Flex) -> Field<f64> {
        let v = self.number(key, flex)?;
        if v > 0.0 && v < 1e12 {
            Ok(v)
        } else {
            Err(self.bad(key, &format!("{v} is out of range")))
        }
    }

    fn non_negative(&self, key: &'static str, flex: &Flex) -> Field<f64> {
        let v = self.number(key, flex)?;
        if (0.0..1e15).contains(&v) {
            Ok(v)
        } else {
            Err(self.bad(key, &format!("{v} is out of range")))
        }
    }

    fn time(&self, key: &'static str, flex: &Flex) -> Field<i64> {
        let v = flex.i64().ok_or_else(|| self.missing(key, flex))?;
        // Polygon WebSocket timestamps are Unix milliseconds; anything outside
        // 1990..2200 is a unit mistake or garbage.
        if (631_152_000_000..7_258_118_400_000).contains(&v) {
            Ok(v)
        } else {
            Err(self.bad(key, &format!("{v} is not a millisecond timestamp")))
        }
    }

    fn ev_name(&self) -> &str {
        self.ev.str().unwrap_or("?")
    }

    fn missing(&self, key: &'static str, flex: &Flex) -> DecodeIssue {
        let (kind, what) = if flex.is_present() {
            (IssueKind::BadValue, format!("is {}", flex.type_name()))
        } else {
            (IssueKind::MissingField, "is missing".to_owned())
        };
        DecodeIssue::new(
            kind,
            format!("`{}` event: field `{key}` {what}", truncate(self.ev_name())),
        )
    }

    fn bad(&self, key: &'static str, what: &str) -> DecodeIssue {
        DecodeIssue::new(
            IssueKind::BadValue,
            format!(
                "`{}` event: field `{key}`: {what}",
                truncate(self.ev_name())
            ),
        )
    }
}

/// Keeps attacker-controlled text in error messages short.
fn truncate(s: &str) -> &str {
    match s.char_indices().nth(16) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
#[path = "polygon_decode_tests.rs"]
mod tests;
