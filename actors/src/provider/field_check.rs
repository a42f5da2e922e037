//! Field validation shared by the decoders: every check names the element
//! (`` `T` event ``, `` `t` message ``) and the field in its error text.

use super::flex::Flex;
use super::frame::{short_number, truncate};
use super::{DecodeIssue, IssueKind};

/// The result of checking one field.
pub(crate) type Field<T> = Result<T, DecodeIssue>;

/// Checks the fields of one element, named `name` (an `ev`/`T` value), which
/// the provider calls an `noun` ("event", "message").
pub(crate) struct Check<'n> {
    noun: &'static str,
    name: &'n str,
}

impl<'n> Check<'n> {
    /// A checker for an element called `name`.
    pub(crate) fn new(noun: &'static str, name: &'n str) -> Self {
        Check { noun, name }
    }

    /// The field is absent, or present with the wrong type.
    pub(crate) fn missing(&self, key: &str, flex: &Flex) -> DecodeIssue {
        let (kind, what) = if flex.is_present() {
            (IssueKind::BadValue, format!("is {}", flex.type_name()))
        } else {
            (IssueKind::MissingField, "is missing".to_owned())
        };
        let name = truncate(self.name);
        DecodeIssue::new(
            kind,
            format!("`{name}` {}: field `{key}` {what}", self.noun),
        )
    }

    /// The field has an impossible value.
    pub(crate) fn bad(&self, key: &str, what: &str) -> DecodeIssue {
        let name = truncate(self.name);
        DecodeIssue::new(
            IssueKind::BadValue,
            format!("`{name}` {}: field `{key}`: {what}", self.noun),
        )
    }

    /// A price: finite and above zero.
    pub(crate) fn positive(&self, key: &str, flex: &Flex) -> Field<f64> {
        let v = flex.f64().ok_or_else(|| self.missing(key, flex))?;
        if v > 0.0 && v < 1e12 {
            Ok(v)
        } else {
            Err(self.bad(key, &format!("{} is out of range", short_number(v))))
        }
    }

    /// A size or a bar price: finite and not below zero.
    pub(crate) fn non_negative(&self, key: &str, flex: &Flex) -> Field<f64> {
        let v = flex.f64().ok_or_else(|| self.missing(key, flex))?;
        if (0.0..1e15).contains(&v) {
            Ok(v)
        } else {
            Err(self.bad(key, &format!("{} is out of range", short_number(v))))
        }
    }

    /// A size that may be absent (then 0) but, when sent, must be sane.
    pub(crate) fn optional_size(&self, key: &str, flex: &Flex) -> Field<f64> {
        if flex.is_present() {
            self.non_negative(key, flex)
        } else {
            Ok(0.0)
        }
    }
}
