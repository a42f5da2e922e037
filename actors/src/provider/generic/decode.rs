//! Turning the values read at an event's pointers into a typed trade or
//! quote: numbers or numeric strings, times in any of five units, checked
//! the way the built-in decoders check theirs.

use super::condition::Cond;
use super::value::Val;
use crate::events::{AssetClass, Event, Quote, Symbol, Trade};
use crate::provider::frame::{short_number, truncate};
use crate::provider::{DecodeIssue, IssueKind};

/// How a time field is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds, possibly with a fraction.
    S,
    /// Milliseconds.
    Ms,
    /// Microseconds.
    Us,
    /// Nanoseconds.
    Ns,
    /// An RFC 3339 string.
    Rfc3339,
}

impl TimeUnit {
    /// Parses a configured unit name.
    pub fn parse(name: &str) -> Option<TimeUnit> {
        Some(match name {
            "s" => TimeUnit::S,
            "ms" => TimeUnit::Ms,
            "us" | "µs" => TimeUnit::Us,
            "ns" => TimeUnit::Ns,
            "rfc3339" => TimeUnit::Rfc3339,
            _ => return None,
        })
    }
}

/// A field: the slot its pointer's value lands in, and its configured name
/// for error messages.
#[derive(Debug, Clone)]
pub(super) struct FieldRef {
    pub slot: usize,
    pub name: &'static str,
}

/// How trades are read.
#[derive(Debug, Clone)]
pub(super) struct TradeMap {
    pub when: Option<Cond>,
    pub symbol: FieldRef,
    pub price: FieldRef,
    pub size: FieldRef,
    pub time: FieldRef,
    pub unit: TimeUnit,
    pub id: Option<FieldRef>,
    pub sequence: Option<FieldRef>,
    pub exchange: Option<FieldRef>,
    pub conditions: Option<FieldRef>,
}

/// How quotes are read.
#[derive(Debug, Clone)]
pub(super) struct QuoteMap {
    pub when: Option<Cond>,
    pub symbol: FieldRef,
    pub bid: FieldRef,
    pub bid_size: Option<FieldRef>,
    pub ask: FieldRef,
    pub ask_size: Option<FieldRef>,
    pub time: FieldRef,
    pub unit: TimeUnit,
}

/// The event side of a protocol.
#[derive(Debug, Clone)]
pub(super) struct Mapping {
    pub class: Option<AssetClass>,
    pub skip: Vec<Cond>,
    pub quote: Option<QuoteMap>,
    pub trade: Option<TradeMap>,
}

impl Mapping {
    /// The event in `slots`: nothing when a skip rule holds, a quote when the quote rule's condition holds,
    /// else a trade when the trade rule's does (a rule without a condition
    /// takes every event), else an issue.
    pub fn build(&self, slots: &[Val]) -> Result<Option<Event>, DecodeIssue> {
        if self.skip.iter().any(|c| c.holds(slots)) {
            return Ok(None);
        }
        let takes = |when: &Option<Cond>| when.as_ref().is_none_or(|c| c.holds(slots));
        if let Some(q) = self.quote.as_ref().filter(|q| takes(&q.when)) {
            return self.quote(q, slots).map(Some);
        }
        if let Some(t) = self.trade.as_ref().filter(|t| takes(&t.when)) {
            return self.trade(t, slots).map(Some);
        }
        Err(DecodeIssue::new(
            IssueKind::UnknownEvent,
            "an event that neither the trade nor the quote rule takes",
        ))
    }

    fn trade(&self, t: &TradeMap, slots: &[Val]) -> Result<Event, DecodeIssue> {
        let symbol = symbol(&t.symbol, slots)?;
        let integer = |f: &Option<FieldRef>| f.as_ref().and_then(|f| slots[f.slot].integer());
        Ok(Event::Trade(Trade {
            class: self.class.unwrap_or_else(|| AssetClass::of(&symbol)),
            symbol,
            price: number(&t.price, slots, |v| v > 0.0 && v < 1e12)?,
            size: number(&t.size, slots, |v| (0.0..1e15).contains(&v))?,
            exchange: integer(&t.exchange).and_then(|x| i32::try_from(x).ok()),
            conditions: match t.conditions.as_ref().map(|f| &slots[f.slot]) {
                Some(Val::Ints(c)) => c.clone(),
                _ => Default::default(),
            },
            time_ms: time(&t.time, t.unit, slots)?,
            sequence: integer(&t.sequence).or_else(|| integer(&t.id)),
        }))
    }

    fn quote(&self, q: &QuoteMap, slots: &[Val]) -> Result<Event, DecodeIssue> {
        let symbol = symbol(&q.symbol, slots)?;
        let price = |f: &FieldRef| number(f, slots, |v| (0.0..1e12).contains(&v));
        let size = |f: &Option<FieldRef>| match f {
            Some(f) if slots[f.slot].is_present() => number(f, slots, |v| (0.0..1e15).contains(&v)),
            _ => Ok(0.0),
        };
        Ok(Event::Quote(Quote {
            class: self.class.unwrap_or_else(|| AssetClass::of(&symbol)),
            symbol,
            bid: price(&q.bid)?,
            bid_size: size(&q.bid_size)?,
            ask: price(&q.ask)?,
            ask_size: size(&q.ask_size)?,
            time_ms: time(&q.time, q.unit, slots)?,
        }))
    }
}

fn missing(f: &FieldRef, v: &Val) -> DecodeIssue {
    if v.is_present() {
        DecodeIssue::new(
            IssueKind::BadValue,
            format!("field `{}` is {}", f.name, v.type_name()),
        )
    } else {
        DecodeIssue::new(
            IssueKind::MissingField,
            format!("field `{}` is missing", f.name),
        )
    }
}

fn symbol(f: &FieldRef, slots: &[Val]) -> Result<Symbol, DecodeIssue> {
    match &slots[f.slot] {
        Val::Str(s) if !s.is_empty() && s.len() <= 64 => Ok(Symbol::new(s)),
        Val::Str(s) => Err(DecodeIssue::new(
            IssueKind::BadValue,
            format!(
                "field `{}`: `{}` is an empty or over-long ticker",
                f.name,
                truncate(s)
            ),
        )),
        other => Err(missing(f, other)),
    }
}

fn number(f: &FieldRef, slots: &[Val], ok: impl Fn(f64) -> bool) -> Result<f64, DecodeIssue> {
    let v = &slots[f.slot];
    let n = v.number().ok_or_else(|| missing(f, v))?;
    if ok(n) {
        Ok(n)
    } else {
        Err(DecodeIssue::new(
            IssueKind::BadValue,
            format!("field `{}`: {} is out of range", f.name, short_number(n)),
        ))
    }
}

/// Unix milliseconds of years 1990..2200: anything else is a unit mistake.
const SANE_MS: std::ops::Range<i64> = 631_152_000_000..7_258_118_400_000;

fn time(f: &FieldRef, unit: TimeUnit, slots: &[Val]) -> Result<i64, DecodeIssue> {
    let v = &slots[f.slot];
    let ms = match unit {
        TimeUnit::Rfc3339 => match v {
            Val::Str(s) => crate::provider::rfc3339::parse_ms(s),
            _ => None,
        },
        TimeUnit::S => v.number().map(|s| (s * 1000.0).floor() as i64),
        TimeUnit::Ms => v.integer().or_else(|| v.number().map(|f| f.floor() as i64)),
        TimeUnit::Us => v.integer().map(|us| us.div_euclid(1_000)),
        TimeUnit::Ns => v.integer().map(|ns| ns.div_euclid(1_000_000)),
    };
    let Some(ms) = ms else {
        return Err(if v.is_present() {
            DecodeIssue::new(
                IssueKind::BadValue,
                format!("field `{}` is not a time in {unit:?}", f.name),
            )
        } else {
            missing(f, v)
        });
    };
    if SANE_MS.contains(&ms) {
        Ok(ms)
    } else {
        Err(DecodeIssue::new(
            IssueKind::BadValue,
            format!(
                "field `{}`: {ms} ms is not between 1990 and 2200 (wrong unit?)",
                f.name
            ),
        ))
    }
}
