//! The fast path of the frame decoder: a direct byte scanner for the frames
//! providers actually send.
//!
//! Real frames are a JSON array of flat objects whose keys are short ASCII
//! words and whose values are numbers, plain strings, `null`, booleans or short
//! arrays of numbers. For those, going through serde's visitor machinery costs
//! more than the parse itself, so this scanner reads them directly into the
//! same [`Fields`] slots and builds events through the same `to_event`, which
//! keeps every validation rule and error message in one place.
//!
//! It produces exactly what the serde path produces, or it gives up: on
//! anything it does not handle (an escape in a string, a nested object, a
//! number with an exponent or more than 18 digits, a syntax error) it returns
//! `None` and the caller decodes the whole frame again with serde, which also
//! owns every error message about broken JSON. Numbers are computed with the
//! same arithmetic as `serde_json` (the significand as `f64`, divided once by
//! a power of ten), so the two paths agree bit for bit; differential tests and
//! a fuzz target hold them to that.

use smallvec::SmallVec;

use super::flex::Flex;
use super::frame::Fields;
use super::DecodeIssue;
use crate::events::Event;

/// Powers of ten a fraction of up to 18 digits is divided by; exact in `f64`
/// up to 1e22, the same values `serde_json` uses.
const POW10: [f64; 19] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];

/// The most digits a number may have here; longer ones go to serde, whose
/// handling of `u64` overflow this scanner does not copy.
const MAX_DIGITS: usize = 18;

/// Decodes `frame` if every part of it is in the fast path's subset,
/// appending to `out` and `issues`. On `None` the caller must discard what was
/// appended and decode the frame again on the general path.
///
/// `new` makes the empty fields of one element (`F::default` for a decoder
/// whose fields need no context).
pub(crate) fn scan_array<'de, F: Fields<'de>>(
    frame: &'de [u8],
    out: &mut Vec<Event>,
    issues: &mut Vec<DecodeIssue>,
    mut new: impl FnMut() -> F,
) -> Option<()> {
    let mut s = Scanner { buf: frame, pos: 0 };
    s.skip_ws();
    s.eat(b'[')?;
    s.skip_ws();
    if s.peek()? == b']' {
        s.pos += 1;
    } else {
        loop {
            s.skip_ws();
            // Filled in place: the fields are several hundred bytes, and
            // moving them per element showed in profiles.
            let mut fields = new();
            s.object(&mut fields)?;
            match fields.to_event() {
                Ok(Some(event)) => out.push(event),
                Ok(None) => {}
                Err(issue) => issues.push(issue),
            }
            s.skip_ws();
            match s.next()? {
                b',' => continue,
                b']' => break,
                _ => return None,
            }
        }
    }
    s.skip_ws();
    (s.pos == frame.len()).then_some(())
}

/// A cursor over the frame's bytes.
struct Scanner<'de> {
    buf: &'de [u8],
    pos: usize,
}

impl<'de> Scanner<'de> {
    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    /// Consumes `want`, or fails if the next byte is anything else.
    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// One flat object, read into `fields`.
    fn object<F: Fields<'de>>(&mut self, fields: &mut F) -> Option<()> {
        self.eat(b'{')?;
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.skip_ws();
            self.eat(b'"')?;
            let key = self.key()?;
            self.skip_ws();
            self.eat(b':')?;
            self.skip_ws();
            let value = self.value()?;
            if let Some(slot) = fields.slot(key) {
                *slot = value;
            }
            self.skip_ws();
            match self.next()? {
                b',' => continue,
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// The bytes of a string whose opening quote was consumed; `None` for an
    /// escape (serde would allocate an unescaped copy) or a control character
    /// (invalid JSON).
    fn string_bytes(&mut self) -> Option<&'de [u8]> {
        let start = self.pos;
        let rest = self.buf.get(start..)?;
        let len = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest[len] != b'"' {
            return None;
        }
        self.pos = start + len + 1;
        Some(&rest[..len])
    }

    /// A key: ASCII only, which every provider's keys are, so that matching
    /// it needs no UTF-8 check; anything else goes to serde.
    fn key(&mut self) -> Option<&'de [u8]> {
        let key = self.string_bytes()?;
        key.is_ascii().then_some(key)
    }

    /// A string value, checked as UTF-8 as serde would.
    fn string_body(&mut self) -> Option<&'de str> {
        std::str::from_utf8(self.string_bytes()?).ok()
    }

    /// Any value a flat object may hold, as serde's `Flex` would read it.
    fn value(&mut self) -> Option<Flex<'de>> {
        match self.peek()? {
            b'"' => {
                self.pos += 1;
                Some(Flex::Str(self.string_body()?.into()))
            }
            b'[' => {
                self.pos += 1;
                self.array()
            }
            b'n' => self.literal(b"null", Flex::Absent),
            b't' => self.literal(b"true", Flex::Other),
            b'f' => self.literal(b"false", Flex::Other),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8], flex: Flex<'de>) -> Option<Flex<'de>> {
        let end = self.pos + word.len();
        (self.buf.get(self.pos..end)? == word).then(|| {
            self.pos = end;
            flex
        })
    }

    /// An array of scalars whose opening bracket was consumed: integers that
    /// fit `i32` become `Ints`, anything else `Other`, as in `Flex`'s visitor.
    fn array(&mut self) -> Option<Flex<'de>> {
        let mut ints = SmallVec::new();
        let mut all_ints = true;
        self.skip_ws();
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(Flex::Ints(ints));
        }
        loop {
            self.skip_ws();
            if matches!(self.peek()?, b'[' | b'{') {
                return None;
            }
            let item = self.value()?;
            match item.i64().and_then(|v| i32::try_from(v).ok()) {
                Some(v) if all_ints => ints.push(v),
                _ => all_ints = false,
            }
            self.skip_ws();
            match self.next()? {
                b',' => continue,
                b']' => break,
                _ => return None,
            }
        }
        Some(if all_ints {
            Flex::Ints(ints)
        } else {
            Flex::Other
        })
    }

    /// A number in JSON's grammar without an exponent, at most
    /// [`MAX_DIGITS`] digits in all.
    fn number(&mut self) -> Option<Flex<'de>> {
        let negative = self.peek()? == b'-';
        if negative {
            self.pos += 1;
        }
        let int_start = self.pos;
        let mut significand: u64 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            significand = significand * 10 + u64::from(d - b'0');
            self.pos += 1;
            if self.pos - int_start > MAX_DIGITS {
                return None;
            }
        }
        let int_digits = self.pos - int_start;
        // JSON forbids an empty integer part and a leading zero before digits.
        if int_digits == 0 || (int_digits > 1 && self.buf[int_start] == b'0') {
            return None;
        }
        let mut fraction_digits = 0;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            while let Some(d @ b'0'..=b'9') = self.peek() {
                significand = significand * 10 + u64::from(d - b'0');
                self.pos += 1;
                fraction_digits += 1;
                if int_digits + fraction_digits > MAX_DIGITS {
                    return None;
                }
            }
            if fraction_digits == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            return None;
        }
        if fraction_digits == 0 {
            // serde_json reads `-0` as the float -0.0, every other integer
            // of up to 18 digits as itself.
            if negative && significand == 0 {
                return Some(Flex::Float(-0.0));
            }
            let v = significand as i64;
            return Some(Flex::Int(if negative { -v } else { v }));
        }
        // Below 2^53 the significand is exact in f64 and one division by an
        // exact power of ten is correctly rounded, so this agrees with
        // serde_json whether or not its `float_roundtrip` feature is on.
        if significand > 1 << 53 {
            return None;
        }
        let f = significand as f64 / POW10[fraction_digits];
        Some(Flex::Float(if negative { -f } else { f }))
    }
}

#[cfg(test)]
#[path = "frame_scan_tests.rs"]
mod tests;
