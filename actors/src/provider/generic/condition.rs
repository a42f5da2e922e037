//! Conditions: a value selected by pointer, compared once per frame or event
//! with a literal fixed at load time.

use super::pointer::{self, Trie};
use super::spec::ConditionSpec;
use super::value::Val;
use super::SpecError;

/// A literal a value is compared with.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
}

impl Literal {
    fn from_json(v: &serde_json::Value, key: &str) -> Result<Literal, SpecError> {
        match v {
            serde_json::Value::String(s) => Ok(Literal::Str(s.clone())),
            serde_json::Value::Bool(b) => Ok(Literal::Bool(*b)),
            serde_json::Value::Number(n) => n
                .as_f64()
                .map(Literal::Num)
                .ok_or_else(|| SpecError::new(key, "is not a number that fits")),
            _ => Err(SpecError::new(
                key,
                "must be a string, a number or a boolean (use `exists` for presence)",
            )),
        }
    }

    fn matches(&self, v: &Val) -> bool {
        match (self, v) {
            (Literal::Str(want), Val::Str(s)) => want == s,
            (Literal::Num(want), Val::Int(i)) => *want == *i as f64,
            (Literal::Num(want), Val::Float(f)) => want == f,
            (Literal::Bool(want), Val::Bool(b)) => want == b,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    Equals(Literal),
    OneOf(Vec<Literal>),
    Contains(String),
    Exists(bool),
}

/// A compiled condition: the slot its pointer's value is read into, and
/// the test; `and` holds further conditions that must hold as well.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    slot: usize,
    test: Test,
    and: Vec<Cond>,
}

impl Cond {
    /// Compiles `spec` (configured at `key`), registering its pointers in
    /// `trie`.
    pub(super) fn compile(
        spec: &ConditionSpec,
        key: &str,
        trie: &mut Trie,
        next_slot: &mut usize,
    ) -> Result<Cond, SpecError> {
        let tokens = pointer::parse(&spec.pointer)
            .map_err(|m| SpecError::new(&format!("{key}.pointer"), &m))?;
        let mut tests = Vec::new();
        if let Some(v) = &spec.equals {
            tests.push(Test::Equals(Literal::from_json(
                v,
                &format!("{key}.equals"),
            )?));
        }
        if let Some(list) = &spec.one_of {
            if list.is_empty() {
                return Err(SpecError::new(&format!("{key}.one_of"), "is empty"));
            }
            let lits = list
                .iter()
                .enumerate()
                .map(|(i, v)| Literal::from_json(v, &format!("{key}.one_of[{i}]")))
                .collect::<Result<_, _>>()?;
            tests.push(Test::OneOf(lits));
        }
        if let Some(text) = &spec.contains {
            tests.push(Test::Contains(text.clone()));
        }
        if let Some(b) = spec.exists {
            tests.push(Test::Exists(b));
        }
        if tests.len() != 1 {
            return Err(SpecError::new(
                key,
                "needs exactly one of `equals`, `one_of`, `contains`, `exists`",
            ));
        }
        let slot = trie.slot(&tokens, next_slot);
        let and = spec
            .and
            .iter()
            .enumerate()
            .map(|(i, c)| Cond::compile(c, &format!("{key}.and[{i}]"), trie, next_slot))
            .collect::<Result<_, _>>()?;
        Ok(Cond {
            slot,
            test: tests.remove(0),
            and,
        })
    }

    /// True when this condition (or a part of it) compares with a boolean,
    /// which the byte scanner does not read as one.
    pub fn reads_bool(&self) -> bool {
        let lits: &[Literal] = match &self.test {
            Test::Equals(lit) => std::slice::from_ref(lit),
            Test::OneOf(lits) => lits,
            _ => &[],
        };
        lits.iter().any(|l| matches!(l, Literal::Bool(_))) || self.and.iter().any(Cond::reads_bool)
    }

    /// True when the values in `slots` pass this condition.
    #[inline]
    pub fn holds(&self, slots: &[Val]) -> bool {
        let v = slots.get(self.slot).unwrap_or(&Val::Absent);
        let own = match &self.test {
            Test::Equals(lit) => lit.matches(v),
            Test::OneOf(lits) => lits.iter().any(|l| l.matches(v)),
            Test::Contains(text) => matches!(v, Val::Str(s) if s.contains(text.as_str())),
            Test::Exists(want) => v.is_present() == *want,
        };
        own && self.and.iter().all(|c| c.holds(slots))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(toml: serde_json::Value) -> Result<(Cond, Trie), SpecError> {
        let spec: ConditionSpec = serde_json::from_value(toml).expect("spec shape");
        let mut trie = Trie::default();
        let mut next = 0;
        Cond::compile(&spec, "c", &mut trie, &mut next).map(|c| (c, trie))
    }

    #[test]
    fn each_test_compares_as_documented() {
        use serde_json::json;
        let s = |t: &str| Val::Str(t.to_owned().into());
        let table: Vec<(serde_json::Value, Val, bool)> = vec![
            (
                json!({"pointer": "/t", "equals": "trade"}),
                s("trade"),
                true,
            ),
            (
                json!({"pointer": "/t", "equals": "trade"}),
                s("Trade"),
                false,
            ),
            (json!({"pointer": "/t", "equals": 1}), Val::Int(1), true),
            (json!({"pointer": "/t", "equals": 1}), Val::Float(1.0), true),
            (json!({"pointer": "/t", "equals": 1}), s("1"), false),
            (
                json!({"pointer": "/t", "equals": true}),
                Val::Bool(true),
                true,
            ),
            (json!({"pointer": "/t", "one_of": ["a", "b"]}), s("b"), true),
            (
                json!({"pointer": "/t", "one_of": ["a", "b"]}),
                s("c"),
                false,
            ),
            (
                json!({"pointer": "/t", "contains": "auth"}),
                s("not authorized"),
                true,
            ),
            (
                json!({"pointer": "/t", "contains": "auth"}),
                Val::Int(3),
                false,
            ),
            (json!({"pointer": "/t", "exists": true}), Val::Int(0), true),
            (json!({"pointer": "/t", "exists": true}), Val::Absent, false),
            (json!({"pointer": "/t", "exists": false}), Val::Absent, true),
        ];
        for (spec, value, want) in table {
            let (c, _) = cond(spec.clone()).expect("compiles");
            assert_eq!(
                c.holds(std::slice::from_ref(&value)),
                want,
                "{spec} on {value:?}"
            );
        }
    }

    #[test]
    fn and_needs_every_part() {
        use serde_json::json;
        let spec = json!({"pointer": "/e", "equals": "status",
                          "and": [{"pointer": "/s", "equals": "error"}]});
        let (c, _) = cond(spec).expect("compiles");
        let s = |t: &str| Val::Str(t.to_owned().into());
        assert!(c.holds(&[s("status"), s("error")]));
        assert!(!c.holds(&[s("status"), s("ok")]));
    }

    #[test]
    fn bad_conditions_name_their_key() {
        use serde_json::json;
        let cases = [
            (json!({"pointer": "type", "equals": "x"}), "c.pointer"),
            (json!({"pointer": "/t"}), "c"),
            (json!({"pointer": "/t", "equals": "x", "exists": true}), "c"),
            (json!({"pointer": "/t", "equals": [1]}), "c.equals"),
            (json!({"pointer": "/t", "one_of": []}), "c.one_of"),
            (json!({"pointer": "/t", "one_of": ["a", {}]}), "c.one_of[1]"),
        ];
        for (spec, key) in cases {
            let err = cond(spec.clone()).expect_err("refused");
            assert_eq!(err.key, key, "{spec}: {err}");
        }
    }
}
