//! Decoder for Alpaca market-data v2 frames in JSON mode: a JSON array of
//! messages keyed by `T`.
//!
//! One pass over the frame, as for Polygon: each element is read into flat
//! `Flex` fields borrowed from the frame and turned into a typed [`Event`] by
//! its `T`. Timestamps are RFC-3339 strings with nanoseconds; they become Unix
//! milliseconds like every other provider's.
//!
//! What is decoded: trades `t`, quotes `q`, and bars `b` (minute), `u` (a minute
//! bar updated by late trades, also [`AggWindow::Minute`]) and `d` (the day so
//! far, [`AggWindow::Day`]). Trade corrections `c` and cancels `x`, trading
//! statuses `s`, LULD bands `l`, imbalances `i`, crypto order books `o` and news
//! `n` are skipped quietly: no shared event type carries them yet, and they are
//! documented messages, not errors. So are the control messages (`success`,
//! `subscription`, `error`), which the provider's `control` reads.
//!
//! Alpaca's exchange (`x`) and condition (`c`) codes are letters, not the
//! numeric codes [`Trade`] carries, so trades have no exchange and no
//! conditions. Stock quote sizes are in round lots, as Alpaca sends them.

use super::field_check::{Check, Field};
use super::flex::Flex;
use super::frame::{clip, decode_array, decode_array_serde, truncate, Fields};
use super::{rfc3339, DecodeIssue, IssueKind};
use crate::events::{AggWindow, Aggregate, AssetClass, Event, Quote, Symbol, Trade};

/// Message types Alpaca sends that tapewatch deliberately does not decode.
const IGNORED: &[&str] = &[
    "c",
    "x",
    "s",
    "l",
    "i",
    "o",
    "n",
    "success",
    "subscription",
    "error",
];

/// Decodes one Alpaca frame, appending events to `out` and problems to `issues`.
pub fn decode_frame(frame: &[u8], out: &mut Vec<Event>, issues: &mut Vec<DecodeIssue>) {
    decode_array::<RawMessage>(frame, out, issues)
}

/// [`decode_frame`] on the general path alone (serde over the whole frame):
/// the reference its fast path is held to by tests and fuzzing.
pub fn decode_frame_general(frame: &[u8], out: &mut Vec<Event>, issues: &mut Vec<DecodeIssue>) {
    decode_array_serde::<RawMessage>(frame, out, issues)
}

/// The asset class of an Alpaca symbol: crypto pairs are written `BTC/USD`.
pub fn class_of(symbol: &str) -> AssetClass {
    if symbol.contains('/') {
        AssetClass::Crypto
    } else {
        AssetClass::of(symbol)
    }
}

/// One array element, every field optional and loosely typed.
#[derive(Default)]
pub(crate) struct RawMessage<'a> {
    not_object: bool,
    kind: Flex<'a>,
    symbol: Flex<'a>,
    p: Flex<'a>,
    s: Flex<'a>,
    t: Flex<'a>,
    bp: Flex<'a>,
    bs: Flex<'a>,
    ap: Flex<'a>,
    ask_size: Flex<'a>,
    o: Flex<'a>,
    h: Flex<'a>,
    l: Flex<'a>,
    c: Flex<'a>,
    v: Flex<'a>,
    vw: Flex<'a>,
}

impl<'a> Fields<'a> for RawMessage<'a> {
    fn slot(&mut self, key: &[u8]) -> Option<&mut Flex<'a>> {
        Some(match key {
            b"T" => &mut self.kind,
            b"S" => &mut self.symbol,
            b"p" => &mut self.p,
            b"s" => &mut self.s,
            b"t" => &mut self.t,
            b"bp" => &mut self.bp,
            b"bs" => &mut self.bs,
            b"ap" => &mut self.ap,
            b"as" => &mut self.ask_size,
            b"o" => &mut self.o,
            b"h" => &mut self.h,
            b"l" => &mut self.l,
            b"c" => &mut self.c,
            b"v" => &mut self.v,
            b"vw" => &mut self.vw,
            _ => return None,
        })
    }

    fn not_object() -> Self {
        RawMessage {
            not_object: true,
            ..RawMessage::default()
        }
    }

    fn to_event(&self) -> Result<Option<Event>, DecodeIssue> {
        if self.not_object {
            return Err(DecodeIssue::new(
                IssueKind::NotObject,
                "array element is not an object",
            ));
        }
        let Some(kind) = self.kind.str() else {
            return Err(DecodeIssue::new(
                IssueKind::MissingField,
                "message without a `T` string",
            ));
        };
        match kind {
            "t" => self.trade().map(Some),
            "q" => self.quote().map(Some),
            "b" | "u" => self.bar(AggWindow::Minute).map(Some),
            "d" => self.bar(AggWindow::Day).map(Some),
            other if IGNORED.contains(&other) => Ok(None),
            other => Err(DecodeIssue::new(
                IssueKind::UnknownEvent,
                format!("unknown message type `{}`", truncate(other)),
            )),
        }
    }
}

impl RawMessage<'_> {
    fn trade(&self) -> Field<Event> {
        let symbol = self.symbol()?;
        Ok(Event::Trade(Trade {
            class: class_of(&symbol),
            price: self.check().positive("p", &self.p)?,
            // Crypto sizes are fractional; the check only rejects nonsense.
            size: self.check().non_negative("s", &self.s)?,
            exchange: None,
            conditions: Default::default(),
            time_ms: self.time()?,
            sequence: None,
            symbol,
        }))
    }

    fn quote(&self) -> Field<Event> {
        let symbol = self.symbol()?;
        Ok(Event::Quote(Quote {
            class: class_of(&symbol),
            bid: self.check().non_negative("bp", &self.bp)?,
            bid_size: self.check().optional_size("bs", &self.bs)?,
            ask: self.check().non_negative("ap", &self.ap)?,
            ask_size: self.check().optional_size("as", &self.ask_size)?,
            time_ms: self.time()?,
            symbol,
        }))
    }

    fn bar(&self, window: AggWindow) -> Field<Event> {
        let symbol = self.symbol()?;
        // Alpaca stamps a bar with its start only; the end follows from its length.
        let length_ms = match window {
            AggWindow::Second => 1_000,
            AggWindow::Minute => 60_000,
            AggWindow::Day => 86_400_000,
        };
        let start_ms = self.time()?;
        Ok(Event::Aggregate(Aggregate {
            class: class_of(&symbol),
            window,
            open: self.check().non_negative("o", &self.o)?,
            high: self.check().non_negative("h", &self.h)?,
            low: self.check().non_negative("l", &self.l)?,
            close: self.check().non_negative("c", &self.c)?,
            volume: self.v.f64(),
            vwap: self.vw.f64(),
            start_ms,
            end_ms: start_ms + length_ms,
            symbol,
        }))
    }

    fn symbol(&self) -> Field<Symbol> {
        match self.symbol.str() {
            Some(s) if !s.is_empty() && s.len() <= 64 => Ok(Symbol::new(s)),
            Some(_) => Err(self.check().bad("S", "an empty or over-long symbol")),
            None => Err(self.check().missing("S", &self.symbol)),
        }
    }

    fn time(&self) -> Field<i64> {
        let text = self
            .t
            .str()
            .ok_or_else(|| self.check().missing("t", &self.t))?;
        match rfc3339::parse_ms(text) {
            // Outside 1990..2200 is garbage, as for Polygon's millisecond stamps.
            Some(ms) if (631_152_000_000..7_258_118_400_000).contains(&ms) => Ok(ms),
            Some(_) => Err(self
                .check()
                .bad("t", &format!("`{}` is out of range", clip(text, 40)))),
            None => Err(self.check().bad(
                "t",
                &format!("`{}` is not an RFC-3339 timestamp", clip(text, 40)),
            )),
        }
    }

    fn kind_name(&self) -> &str {
        self.kind.str().unwrap_or("?")
    }

    fn check(&self) -> Check<'_> {
        Check::new("message", self.kind_name())
    }
}

#[cfg(test)]
#[path = "alpaca_decode_tests.rs"]
mod tests;
