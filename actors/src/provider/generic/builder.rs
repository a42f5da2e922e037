//! The pieces [`super::compile`] builds a protocol from: slots for pointers
//! in the frame's and the event's tries, conditions, captures, templates,
//! rules with a message, acknowledgements, fields and time units. Each
//! names its key in its error.

use std::collections::{BTreeMap, BTreeSet};

use super::compile::{Ack, Outcome};
use super::condition::Cond;
use super::decode::{FieldRef, TimeUnit};
use super::pointer::{self, Trie};
use super::spec::{AckSpec, ConditionSpec};
use super::template::{Scope, Template};
use super::SpecError;

pub(super) struct Builder<'e> {
    pub frame: Trie,
    pub element: Trie,
    pub next: usize,
    pub env: &'e dyn Fn(&str) -> Option<String>,
}

impl Builder<'_> {
    pub fn cond(&mut self, spec: &ConditionSpec, key: &str) -> Result<Cond, SpecError> {
        Cond::compile(spec, key, &mut self.frame, &mut self.next)
    }

    pub fn frame_slot(&mut self, ptr: &str, key: &str) -> Result<usize, SpecError> {
        let tokens = pointer::parse(ptr).map_err(|m| SpecError::new(key, &m))?;
        Ok(self.frame.slot(&tokens, &mut self.next))
    }

    pub fn captures(
        &mut self,
        map: &BTreeMap<String, String>,
        key: &str,
        known: &mut BTreeSet<String>,
    ) -> Result<Vec<(String, usize)>, SpecError> {
        let mut out = Vec::new();
        for (name, ptr) in map {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(SpecError::new(
                    &format!("{key}.{name}"),
                    "a capture name is letters, digits and `_`",
                ));
            }
            out.push((
                name.clone(),
                self.frame_slot(ptr, &format!("{key}.{name}"))?,
            ));
            known.insert(name.clone());
        }
        Ok(out)
    }

    pub fn template(
        &self,
        text: &str,
        key: &str,
        scope: &Scope,
        json: bool,
    ) -> Result<Template, SpecError> {
        Template::parse(text, key, scope, json, self.env)
    }

    pub fn outcome(
        &mut self,
        when: &ConditionSpec,
        message: &Option<String>,
        terminal: bool,
        key: &str,
    ) -> Result<Outcome, SpecError> {
        Ok(Outcome {
            when: self.cond(when, &format!("{key}.when"))?,
            message: match message {
                Some(p) => Some(self.frame_slot(p, &format!("{key}.message"))?),
                None => None,
            },
            terminal,
        })
    }

    pub fn ack(&mut self, spec: &Option<AckSpec>, key: &str) -> Result<Option<Ack>, SpecError> {
        let Some(spec) = spec else { return Ok(None) };
        Ok(Some(Ack {
            when: self.cond(&spec.when, &format!("{key}.when"))?,
            topics: match &spec.topics {
                Some(p) => Some(self.frame_slot(p, &format!("{key}.topics"))?),
                None => None,
            },
        }))
    }

    pub fn field(&mut self, ptr: &str, key: &'static str) -> Result<FieldRef, SpecError> {
        if ptr.is_empty() {
            return Err(SpecError::new(key, "is required"));
        }
        let tokens = pointer::parse(ptr).map_err(|m| SpecError::new(key, &m))?;
        Ok(FieldRef {
            slot: self.element.slot(&tokens, &mut self.next),
            name: key,
        })
    }

    pub fn opt_field(
        &mut self,
        ptr: &Option<String>,
        key: &'static str,
    ) -> Result<Option<FieldRef>, SpecError> {
        ptr.as_deref().map(|p| self.field(p, key)).transpose()
    }

    pub fn event_cond(
        &mut self,
        spec: &Option<ConditionSpec>,
        key: &str,
    ) -> Result<Option<Cond>, SpecError> {
        spec.as_ref()
            .map(|c| Cond::compile(c, key, &mut self.element, &mut self.next))
            .transpose()
    }
}

pub(super) fn unit(name: &str, key: &str) -> Result<TimeUnit, SpecError> {
    if name.is_empty() {
        return Ok(TimeUnit::Ms);
    }
    TimeUnit::parse(name).ok_or_else(|| {
        SpecError::new(
            key,
            &format!("`{name}` is not a time unit (known: s, ms, us, ns, rfc3339)"),
        )
    })
}
