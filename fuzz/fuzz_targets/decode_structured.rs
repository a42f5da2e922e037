//! Frames assembled from JSON-shaped pieces: well-formed trades and status
//! messages mixed with loosely typed events and junk elements.
//!
//! Raw bytes rarely get past the JSON parser, so this target builds frames the
//! decoder's per-element logic actually sees. Beyond the properties every frame
//! must have (`invariants.rs`), it knows what each piece should decode to: a
//! well-formed trade or status must come out exactly as written, a junk element
//! must cost exactly one issue, and one bad element must not take its
//! neighbours with it.

#![no_main]

use std::fmt::Write;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tapewatch_actors::events::{AssetClass, Event, Status, Trade};
use tapewatch_actors::provider::IssueKind;

mod invariants;

/// Keys the decoder reads; generated "unknown" keys avoid them so that a
/// piece's expected outcome does not depend on key collisions.
const KNOWN_KEYS: &[&str] = &[
    "ev", "sym", "pair", "p", "s", "x", "c", "t", "q", "o", "h", "l", "v", "vw", "e", "bp", "bs",
    "ap", "as", "status", "message",
];

/// Event types the decoder skips without an issue; a copy of its private list,
/// needed to know that such an element yields nothing.
const IGNORED_EVENTS: &[&str] = &[
    "LULD", "NOI", "FMV", "LV", "V", "C", "CA", "CAS", "XQ", "XL2", "XA", "XAS",
];

/// Event types the decoder turns into events.
const DECODED_EVENTS: &[&str] = &["T", "XT", "Q", "A", "AM", "status"];

/// Values nested deeper than this are written as `null`, keeping every frame
/// well inside serde_json's recursion limit so that the limit never decides an
/// outcome the model below did not predict.
const MAX_DEPTH: usize = 16;

#[derive(Arbitrary, Debug)]
struct Frame {
    pieces: Vec<Piece>,
    /// Whitespace around separators, as pretty-printing proxies produce.
    spaced: bool,
    damage: Damage,
}

/// Transport-level damage applied to the finished frame.
#[derive(Arbitrary, Debug)]
enum Damage {
    None,
    /// The frame ends after this many bytes.
    Cut(u16),
    /// Bytes appended after the closing bracket.
    Append(Vec<u8>),
    /// One byte overwritten.
    Overwrite(u16, u8),
}

#[derive(Arbitrary, Debug)]
enum Piece {
    Trade(ValidTrade),
    Status {
        status: String,
        message: String,
        escape_keys: bool,
    },
    Loose(Loose),
    /// Any JSON value except an object that could name an event.
    Junk(Value),
}

/// A trade every field of which is in range, written in one of several
/// equivalent spellings.
#[derive(Arbitrary, Debug)]
struct ValidTrade {
    crypto: bool,
    symbol: String,
    price_mantissa: u32,
    price_scale: u8,
    price_exponent_form: bool,
    size_mantissa: u32,
    size_scale: u8,
    time: u64,
    time_as_float: bool,
    exchange: Option<i32>,
    conditions: Vec<i32>,
    sequence: Option<i64>,
    extra: Vec<(String, Value)>,
    order: u64,
    escape_keys: bool,
    escape_symbol: bool,
}

/// An element with a chosen `ev` and arbitrary, loosely typed fields.
#[derive(Arbitrary, Debug)]
struct Loose {
    ev: Ev,
    fields: Vec<(FieldKey, Value)>,
    escape_keys: bool,
}

#[derive(Arbitrary, Debug)]
enum Ev {
    Decoded(u8),
    Ignored(u8),
    Other(Value),
    Absent,
}

#[derive(Arbitrary, Debug)]
enum FieldKey {
    Known(u8),
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Ints(Vec<i32>),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// What one array element must decode to.
enum Outcome {
    Exactly(Event),
    Issue,
    Nothing,
    EventOrIssue,
}

/// A frame under construction, and whether it is still valid JSON whose
/// element outcomes the model can predict.
struct Writer {
    out: String,
    predictable: bool,
}

impl Writer {
    fn string(&mut self, s: &str, escape_all: bool) {
        if escape_all {
            // Every UTF-16 unit as `\uXXXX`: forces the decoder's owned-string
            // paths (escaped keys and values cannot be borrowed from the frame).
            self.out.push('"');
            for unit in s.encode_utf16() {
                let _ = write!(self.out, "\\u{unit:04x}");
            }
            self.out.push('"');
        } else {
            self.out
                .push_str(&serde_json::to_string(s).expect("strings serialize"));
        }
    }

    fn key(&mut self, key: &str, escape_all: bool) {
        self.string(key, escape_all);
        self.out.push(':');
    }

    fn value(&mut self, v: &Value, depth: usize) {
        if depth > MAX_DEPTH {
            self.out.push_str("null");
            return;
        }
        match v {
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => {
                let _ = write!(self.out, "{b}");
            }
            Value::Int(i) => {
                let _ = write!(self.out, "{i}");
            }
            Value::Uint(u) => {
                let _ = write!(self.out, "{u}");
            }
            Value::Float(f) => {
                if !f.is_finite() {
                    // JSON has no spelling for these; an overflowing literal is
                    // the closest thing a server could send, and the parser
                    // rejects the whole frame for it.
                    self.out.push_str("1e999");
                    self.predictable = false;
                } else {
                    // Near f64::MAX the parser's fast path may round to
                    // infinity and reject the frame; keep the model exact.
                    if f.abs() > 1e300 {
                        self.predictable = false;
                    }
                    let _ = write!(self.out, "{f:?}");
                }
            }
            Value::Str(s) => self.string(s, false),
            Value::Ints(ints) => {
                self.out.push('[');
                for (i, n) in ints.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    let _ = write!(self.out, "{n}");
                }
                self.out.push(']');
            }
            Value::Array(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.value(item, depth + 1);
                }
                self.out.push(']');
            }
            Value::Object(entries) => {
                self.out.push('{');
                for (i, (k, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    // An object must never name an event, at any depth, so a
                    // junk element is always "missing `ev`".
                    let k = if k == "ev" { "ev_" } else { k.as_str() };
                    self.key(k, false);
                    self.value(item, depth + 1);
                }
                self.out.push('}');
            }
        }
    }

    fn piece(&mut self, piece: &Piece) -> Outcome {
        match piece {
            Piece::Trade(t) => self.trade(t),
            Piece::Status {
                status,
                message,
                escape_keys,
            } => {
                self.out.push('{');
                self.key("ev", *escape_keys);
                self.string("status", false);
                self.out.push(',');
                self.key("status", *escape_keys);
                self.string(status, false);
                self.out.push(',');
                self.key("message", *escape_keys);
                self.string(message, false);
                self.out.push('}');
                Outcome::Exactly(Event::Status(Status {
                    status: status.clone(),
                    message: message.clone(),
                }))
            }
            Piece::Loose(l) => self.loose(l),
            Piece::Junk(v) => {
                self.value(v, 1);
                Outcome::Issue
            }
        }
    }

    fn loose(&mut self, l: &Loose) -> Outcome {
        self.out.push('{');
        let outcome = match &l.ev {
            Ev::Absent => Outcome::Issue,
            Ev::Decoded(i) => {
                let ev = DECODED_EVENTS[*i as usize % DECODED_EVENTS.len()];
                self.key("ev", l.escape_keys);
                self.string(ev, false);
                self.out.push(',');
                Outcome::EventOrIssue
            }
            Ev::Ignored(i) => {
                let ev = IGNORED_EVENTS[*i as usize % IGNORED_EVENTS.len()];
                self.key("ev", l.escape_keys);
                self.string(ev, false);
                self.out.push(',');
                Outcome::Nothing
            }
            Ev::Other(v) => {
                self.key("ev", l.escape_keys);
                self.value(v, 2);
                self.out.push(',');
                match v {
                    Value::Str(s) if IGNORED_EVENTS.contains(&s.as_str()) => Outcome::Nothing,
                    Value::Str(s) if DECODED_EVENTS.contains(&s.as_str()) => Outcome::EventOrIssue,
                    _ => Outcome::Issue,
                }
            }
        };
        for (key, value) in &l.fields {
            let key = match key {
                FieldKey::Known(i) => KNOWN_KEYS[1 + *i as usize % (KNOWN_KEYS.len() - 1)],
                FieldKey::Other(k) if KNOWN_KEYS.contains(&k.as_str()) => continue,
                FieldKey::Other(k) => k.as_str(),
            };
            self.key(key, l.escape_keys);
            self.value(value, 2);
            self.out.push(',');
        }
        // Every member above ends with a comma; close with one more unknown
        // member rather than trimming, so the object is valid in every case.
        self.key("z", false);
        self.out.push_str("0}");
        outcome
    }

    fn trade(&mut self, t: &ValidTrade) -> Outcome {
        let mut symbol = t.symbol.as_str();
        while symbol.len() > 64 {
            let mut end = 64;
            while !symbol.is_char_boundary(end) {
                end -= 1;
            }
            symbol = &symbol[..end];
        }
        if symbol.is_empty() {
            symbol = "A";
        }

        let price = t.price_mantissa.max(1) as f64 / 10f64.powi(i32::from(t.price_scale % 8));
        let price_text = if t.price_exponent_form {
            format!("{price:e}")
        } else {
            format!("{price}")
        };
        let size = t.size_mantissa as f64 / 10f64.powi(i32::from(t.size_scale % 9));
        let size_text = format!("{size}");
        let span = (invariants::MAX_MS - invariants::MIN_MS) as u64;
        let time_ms = invariants::MIN_MS + (t.time % span) as i64;
        let time_text = if t.time_as_float {
            format!("{time_ms}.0")
        } else {
            format!("{time_ms}")
        };

        // Each member as (key, rendered value), then shuffled: the decoder
        // must not depend on the order servers happen to use.
        let mut members: Vec<(String, String)> = Vec::new();
        let (ev, sym_key) = if t.crypto {
            ("XT", "pair")
        } else {
            ("T", "sym")
        };
        members.push(("ev".into(), format!("\"{ev}\"")));
        let mut sym = Writer {
            out: String::new(),
            predictable: true,
        };
        sym.string(symbol, t.escape_symbol);
        members.push((sym_key.into(), sym.out));
        members.push(("p".into(), price_text.clone()));
        members.push(("s".into(), size_text.clone()));
        members.push(("t".into(), time_text));
        if let Some(x) = t.exchange {
            members.push(("x".into(), x.to_string()));
        }
        if !t.conditions.is_empty() {
            let list: Vec<String> = t.conditions.iter().map(i32::to_string).collect();
            members.push(("c".into(), format!("[{}]", list.join(","))));
        }
        if let Some(q) = t.sequence {
            members.push(("q".into(), q.to_string()));
        }
        for (k, v) in &t.extra {
            if KNOWN_KEYS.contains(&k.as_str()) {
                continue;
            }
            let mut w = Writer {
                out: String::new(),
                predictable: true,
            };
            w.value(v, 2);
            self.predictable &= w.predictable;
            members.push((k.clone(), w.out));
        }
        shuffle(&mut members, t.order);

        self.out.push('{');
        for (i, (k, v)) in members.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.key(k, t.escape_keys);
            self.out.push_str(v);
        }
        self.out.push('}');

        // The expected numbers come from the same parser the decoder uses, so
        // the comparison below can be exact.
        let parse = |s: &str| serde_json::from_str::<f64>(s).expect("a number we wrote");
        Outcome::Exactly(Event::Trade(Trade {
            symbol: symbol.into(),
            class: if t.crypto {
                AssetClass::Crypto
            } else {
                AssetClass::of(symbol)
            },
            price: parse(&price_text),
            size: parse(&size_text),
            exchange: t.exchange,
            conditions: t.conditions.iter().copied().collect(),
            time_ms,
            sequence: t.sequence,
        }))
    }
}

/// A Fisher-Yates shuffle driven by a xorshift generator seeded by the input.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

fuzz_target!(|frame: Frame| {
    let mut w = Writer {
        out: String::new(),
        predictable: true,
    };
    let sep = if frame.spaced { ",\n " } else { "," };
    w.out.push('[');
    let mut outcomes = Vec::with_capacity(frame.pieces.len());
    for (i, piece) in frame.pieces.iter().enumerate() {
        if i > 0 {
            w.out.push_str(sep);
        }
        outcomes.push(w.piece(piece));
    }
    w.out.push(']');

    let mut bytes = w.out.into_bytes();
    let mut predictable = w.predictable;
    match &frame.damage {
        Damage::None => {}
        Damage::Cut(n) => {
            bytes.truncate(*n as usize);
            predictable = false;
        }
        Damage::Append(tail) => {
            bytes.extend_from_slice(tail);
            predictable = false;
        }
        Damage::Overwrite(at, byte) => {
            if !bytes.is_empty() {
                let at = *at as usize % bytes.len();
                bytes[at] = *byte;
            }
            predictable = false;
        }
    }

    let decoded = invariants::check_frame(&bytes);
    if !predictable {
        return;
    }

    // A valid frame: every element is accounted for, one outcome each.
    let text = String::from_utf8_lossy(&bytes);
    for issue in &decoded.issues {
        assert!(
            !matches!(
                issue.kind,
                IssueKind::Malformed | IssueKind::Truncated | IssueKind::NotArray
            ),
            "frame-level issue on a valid frame: {issue}\n{text}"
        );
    }
    let mut want_exact = Vec::new();
    let (mut issues_at_least, mut produced) = (0, 0);
    for outcome in outcomes {
        match outcome {
            Outcome::Exactly(event) => {
                want_exact.push(event);
                produced += 1;
            }
            Outcome::Issue => {
                issues_at_least += 1;
                produced += 1;
            }
            Outcome::EventOrIssue => produced += 1,
            Outcome::Nothing => {}
        }
    }
    assert_eq!(
        decoded.events.len() + decoded.issues.len(),
        produced,
        "one event or issue per element\n{text}\n{:?}\n{:?}",
        decoded.events,
        decoded.issues
    );
    assert!(
        decoded.issues.len() >= issues_at_least,
        "junk elements must each cost an issue\n{text}\n{:?}",
        decoded.issues
    );
    // The well-formed pieces must appear, in order, exactly as written; loose
    // pieces may add events between them.
    let mut got = decoded.events.iter();
    for want in &want_exact {
        assert!(
            got.any(|e| e == want),
            "missing or altered {want:?}\n{text}\nissues: {:?}",
            decoded.issues
        );
    }
});
