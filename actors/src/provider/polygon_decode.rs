//! Decoder for Polygon/Massive data frames: a JSON array of events keyed by `ev`.
//!
//! One pass over the frame: each array element is visited as a flat set of
//! `Flex` fields borrowed from the frame, then turned into a typed [`Event`]
//! by its `ev`. A bad element (unknown `ev`, missing or mistyped field, value out
//! of range) is reported as a [`DecodeIssue`] and skipped; the rest of the frame
//! is still decoded. Only a frame that is not valid JSON is lost whole.

use super::field_check::{Check, Field};
use super::flex::Flex;
use super::frame::{decode_array, decode_array_serde, truncate, Fields};
use super::{DecodeIssue, IssueKind};
use crate::events::{AggWindow, Aggregate, AssetClass, Event, Quote, Status, Symbol, Trade};

/// Event types Polygon sends that tapewatch deliberately does not decode.
const IGNORED_EVENTS: &[&str] = &[
    "LULD", "NOI", "FMV", "LV", "V", "C", "CA", "CAS", "XQ", "XL2", "XA", "XAS",
];

/// Decodes one Polygon frame, appending events to `out` and problems to `issues`.
pub fn decode_frame(frame: &[u8], out: &mut Vec<Event>, issues: &mut Vec<DecodeIssue>) {
    decode_array::<RawEvent>(frame, out, issues)
}

/// [`decode_frame`] on the general path alone (serde over the whole frame):
/// the reference its fast path is held to by tests and fuzzing.
pub fn decode_frame_general(frame: &[u8], out: &mut Vec<Event>, issues: &mut Vec<DecodeIssue>) {
    decode_array_serde::<RawEvent>(frame, out, issues)
}

/// One array element, every field optional and loosely typed.
#[derive(Default)]
pub(crate) struct RawEvent<'a> {
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

impl<'a> Fields<'a> for RawEvent<'a> {
    fn slot(&mut self, key: &[u8]) -> Option<&mut Flex<'a>> {
        Some(match key {
            b"ev" => &mut self.ev,
            b"sym" => &mut self.sym,
            b"pair" => &mut self.pair,
            b"p" => &mut self.p,
            b"s" => &mut self.s,
            b"x" => &mut self.x,
            b"c" => &mut self.c,
            b"t" => &mut self.t,
            b"q" => &mut self.q,
            b"o" => &mut self.o,
            b"h" => &mut self.h,
            b"l" => &mut self.l,
            b"v" => &mut self.v,
            b"vw" => &mut self.vw,
            b"e" => &mut self.e,
            b"bp" => &mut self.bp,
            b"bs" => &mut self.bs,
            b"ap" => &mut self.ap,
            b"as" => &mut self.ask_size,
            b"status" => &mut self.status,
            b"message" => &mut self.message,
            _ => return None,
        })
    }

    fn not_object() -> Self {
        RawEvent {
            not_object: true,
            ..RawEvent::default()
        }
    }

    fn to_event(&self) -> Result<Option<Event>, DecodeIssue> {
        self.event()
    }
}

impl<'a> RawEvent<'a> {
    fn event(&self) -> Result<Option<Event>, DecodeIssue> {
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
            Some(_) => Err(self.check().bad(key, "an empty or over-long ticker")),
            None => Err(self.check().missing(key, flex)),
        }
    }

    fn trade(&self, sym_key: &'static str) -> Field<Event> {
        let symbol = self.symbol(sym_key)?;
        let price = self.check().positive("p", &self.p)?;
        let size = self.check().non_negative("s", &self.s)?;
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
            bid: self.check().non_negative("bp", &self.bp)?,
            bid_size: self.check().optional_size("bs", &self.bs)?,
            ask: self.check().non_negative("ap", &self.ap)?,
            ask_size: self.check().optional_size("as", &self.ask_size)?,
            time_ms: self.time("t", &self.t)?,
        }))
    }

    fn aggregate(&self, window: AggWindow) -> Field<Event> {
        let symbol = self.symbol("sym")?;
        Ok(Event::Aggregate(Aggregate {
            class: AssetClass::of(&symbol),
            symbol,
            window,
            open: self.check().non_negative("o", &self.o)?,
            high: self.check().non_negative("h", &self.h)?,
            low: self.check().non_negative("l", &self.l)?,
            close: self.check().non_negative("c", &self.c)?,
            volume: self.v.f64(),
            vwap: self.vw.f64(),
            start_ms: self.time("s", &self.s)?,
            end_ms: self.time("e", &self.e)?,
        }))
    }

    fn time(&self, key: &'static str, flex: &Flex) -> Field<i64> {
        let v = flex.i64().ok_or_else(|| self.check().missing(key, flex))?;
        // Polygon WebSocket timestamps are Unix milliseconds; anything outside
        // 1990..2200 is a unit mistake or garbage.
        if (631_152_000_000..7_258_118_400_000).contains(&v) {
            Ok(v)
        } else {
            Err(self
                .check()
                .bad(key, &format!("{v} is not a millisecond timestamp")))
        }
    }

    fn ev_name(&self) -> &str {
        self.ev.str().unwrap_or("?")
    }

    fn check(&self) -> Check<'_> {
        Check::new("event", self.ev_name())
    }
}

#[cfg(test)]
#[path = "polygon_decode_tests.rs"]
mod tests;
