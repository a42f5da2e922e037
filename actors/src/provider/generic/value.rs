//! The value found at a pointer, borrowed from the frame where possible.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use smallvec::SmallVec;

/// One JSON value as conditions and fields read it.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Val<'a> {
    /// Nothing at the pointer, or `null`.
    #[default]
    Absent,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// An array of integers (condition codes).
    Ints(SmallVec<[i32; 4]>),
    /// An array of strings (acknowledged topics).
    Strs(Vec<Cow<'a, str>>),
    /// Any other object or array.
    Composite,
}

impl Val<'_> {
    /// A number, or a string holding one (`"182.5"`).
    pub fn number(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Float(f) => Some(*f),
            Val::Str(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|f| f.is_finite())
    }

    /// An integer, or a string holding one.
    pub fn integer(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            Val::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Val::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// True unless absent.
    pub fn is_present(&self) -> bool {
        !matches!(self, Val::Absent)
    }

    /// A short name of the type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Absent => "missing",
            Val::Bool(_) => "a boolean",
            Val::Int(_) | Val::Float(_) => "a number",
            Val::Str(_) => "a string",
            Val::Ints(_) | Val::Strs(_) => "an array",
            Val::Composite => "an object or array",
        }
    }

    /// The value as template text: strings as they are, numbers and
    /// booleans in JSON spelling; `None` for absent and composite values.
    pub fn text(&self) -> Option<String> {
        match self {
            Val::Bool(b) => Some(b.to_string()),
            Val::Int(i) => Some(i.to_string()),
            Val::Float(f) => Some(f.to_string()),
            Val::Str(s) => Some(s.to_string()),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Val<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValVisitor)
    }
}

/// Builds a [`Val`] from any JSON value.
pub(super) struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Val::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Val::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Val::Float(v as f64), Val::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Val::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Val::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Val::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Val::Str(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Val::Absent)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Val::Absent)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Arrays are kept only in the two shapes fields use, and only up to a
        // cap, so a hostile frame cannot make one slot grow without bound.
        const CAP: usize = 64;
        let mut ints = SmallVec::new();
        let mut strs = Vec::new();
        let mut uniform = true;
        while uniform {
            let Some(item) = seq.next_element::<Val<'de>>()? else {
                break;
            };
            match item {
                Val::Int(i) if strs.is_empty() && ints.len() < CAP => match i32::try_from(i) {
                    Ok(i) => ints.push(i),
                    Err(_) => uniform = false,
                },
                Val::Str(s) if ints.is_empty() && strs.len() < CAP => strs.push(s),
                _ => uniform = false,
            }
        }
        if !uniform {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(Val::Composite);
        }
        Ok(if strs.is_empty() {
            Val::Ints(ints)
        } else {
            Val::Strs(strs)
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Val::Composite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(json: &str) -> Val<'_> {
        serde_json::from_str(json).expect("valid json")
    }

    #[test]
    fn reads_each_json_type() {
        let cases: &[(&str, Val)] = &[
            ("true", Val::Bool(true)),
            ("7", Val::Int(7)),
            ("1.5", Val::Float(1.5)),
            ("\"x\"", Val::Str("x".into())),
            ("[1,2]", Val::Ints(SmallVec::from_slice(&[1, 2]))),
            ("[]", Val::Ints(SmallVec::new())),
            ("[\"a\",\"b\"]", Val::Strs(vec!["a".into(), "b".into()])),
            ("[1,\"b\"]", Val::Composite),
            ("{\"a\":1}", Val::Composite),
            ("null", Val::Absent),
        ];
        for (json, want) in cases {
            assert_eq!(&val(json), want, "{json}");
        }
    }

    #[test]
    fn numbers_may_be_strings() {
        assert_eq!(val("\"182.50\"").number(), Some(182.5));
        assert_eq!(val("\" 3 \"").integer(), Some(3));
        assert_eq!(val("\"abc\"").number(), None);
        assert_eq!(val("\"NaN\"").number(), None);
        assert_eq!(val("\"inf\"").number(), None);
        assert_eq!(val("true").number(), None);
    }
}
