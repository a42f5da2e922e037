//! A tolerant JSON value for decoders.
//!
//! Providers reuse one-letter keys with different types per event (`c` is a
//! condition list in a trade and a close price in an aggregate; `i` is a string
//! trade id or an indicator list). Decoding every field as [`Flex`] lets one
//! struct visit every event type in a single pass without `serde_json::Value`
//! and without failing the whole frame when one element has an odd field.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use smallvec::SmallVec;

/// One JSON value, borrowed from the frame where possible.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Flex<'a> {
    /// The key was not present (or was `null`).
    #[default]
    Absent,
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// An array of integers (condition codes, indicators).
    Ints(SmallVec<[i32; 4]>),
    /// Anything else (bool, object, array of non-integers).
    Other,
}

impl<'a> Flex<'a> {
    /// The value as a float, if it is a number.
    pub fn f64(&self) -> Option<f64> {
        match *self {
            Flex::Int(i) => Some(i as f64),
            Flex::Float(f) if f.is_finite() => Some(f),
            _ => None,
        }
    }

    /// The value as an integer, if it is an integral number.
    pub fn i64(&self) -> Option<i64> {
        match *self {
            Flex::Int(i) => Some(i),
            Flex::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }

    /// The value as a string slice, if it is a string.
    pub fn str(&self) -> Option<&str> {
        match self {
            Flex::Str(s) => Some(s),
            _ => None,
        }
    }

    /// True when the key was present with a non-null value.
    pub fn is_present(&self) -> bool {
        !matches!(self, Flex::Absent)
    }

    /// A short name of the JSON type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Flex::Absent => "nothing",
            Flex::Int(_) | Flex::Float(_) => "a number",
            Flex::Str(_) => "a string",
            Flex::Ints(_) => "an array",
            Flex::Other => "another JSON type",
        }
    }
}

impl<'de> Deserialize<'de> for Flex<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FlexVisitor)
    }
}

struct FlexVisitor;

impl<'de> Visitor<'de> for FlexVisitor {
    type Value = Flex<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Flex::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Flex::Float(v as f64), Flex::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Flex::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Flex::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Flex::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Flex::Str(Cow::Owned(v)))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Flex::Other)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Flex::Absent)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Flex::Absent)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut ints = SmallVec::new();
        let mut all_ints = true;
        while let Some(item) = seq.next_element::<Flex<'de>>()? {
            match item.i64().and_then(|v| i32::try_from(v).ok()) {
                Some(v) if all_ints => ints.push(v),
                _ => all_ints = false,
            }
        }
        Ok(if all_ints {
            Flex::Ints(ints)
        } else {
            Flex::Other
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Flex::Other)
    }
}

/// Deserializes a map key without allocating, for decoders that match on key names.
pub struct Key<'a>(pub Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flex(json: &str) -> Flex<'_> {
        serde_json::from_str(json).expect("valid json")
    }

    #[test]
    fn decodes_each_json_type() {
        let cases: &[(&str, Flex)] = &[
            ("12", Flex::Int(12)),
            ("-3", Flex::Int(-3)),
            ("1.5", Flex::Float(1.5)),
            ("\"abc\"", Flex::Str(Cow::Borrowed("abc"))),
            ("[1,2,3]", Flex::Ints(SmallVec::from_slice(&[1, 2, 3]))),
            ("[1,\"x\"]", Flex::Other),
            ("{\"a\":[1,{}]}", Flex::Other),
            ("true", Flex::Other),
            ("null", Flex::Absent),
        ];
        for (json, want) in cases {
            assert_eq!(&flex(json), want, "{json}");
        }
    }

    #[test]
    fn numeric_accessors() {
        assert_eq!(flex("7").f64(), Some(7.0));
        assert_eq!(flex("7.0").i64(), Some(7));
        assert_eq!(flex("7.5").i64(), None);
        assert_eq!(flex("\"7\"").f64(), None);
        assert_eq!(flex("18446744073709551615").i64(), None);
    }
}
