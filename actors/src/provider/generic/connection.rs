//! One connection of the generic provider: where its handshake stands, what
//! it captured, which subscribe messages wait for an acknowledgement.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use smallvec::SmallVec;

use super::compile::{Ack, Compiled, Outcome};
use super::template::Values;
use super::value::Val;
use super::walk::{walk, Walked};
use crate::provider::frame::clip;
use crate::provider::script::{Action, Reaction, Script};
use crate::provider::{Control, ControlEvent};

/// The protocol state of one connection.
pub(super) struct GenericScript {
    c: Arc<Compiled>,
    /// The handshake step under way; `steps.len()` once done.
    step: usize,
    /// Values captured by the handshake so far.
    captures: HashMap<String, String>,
    /// Sent changes without an acknowledgement, oldest first:
    /// (subscribe, topics).
    pending: VecDeque<(bool, Vec<String>)>,
}

/// At most this many changes wait for acknowledgement by order; older ones
/// are forgotten (the session times them out).
const MAX_PENDING: usize = 256;

impl GenericScript {
    pub(super) fn new(c: Arc<Compiled>) -> Self {
        GenericScript {
            c,
            step: 0,
            captures: HashMap::new(),
            pending: VecDeque::new(),
        }
    }

    /// A script past its handshake.
    pub(super) fn streaming(c: Arc<Compiled>) -> Self {
        let step = c.steps.len();
        GenericScript {
            step,
            ..Self::new(c)
        }
    }

    fn values<'a>(&'a self, topics: &'a [String]) -> Values<'a> {
        Values {
            captures: &self.captures,
            topics,
            format: &self.c.format,
        }
    }

    /// Runs steps from the current one until one waits or none is left.
    fn advance(&mut self) -> Vec<Action> {
        let mut actions = Vec::new();
        while let Some(step) = self.c.steps.get(self.step) {
            if let Some(send) = &step.send {
                actions.push(Action::Send(send.render(&self.values(&[]))));
            }
            if step.wait.is_some() {
                actions.push(Action::Wait {
                    step: self.step,
                    timeout: step.timeout,
                });
                return actions;
            }
            self.step += 1;
        }
        actions.push(Action::Subscribe);
        actions
    }

    /// A frame that arrived while step `self.step` waits.
    fn handshake(&mut self, slots: &[Val]) -> Option<Vec<Action>> {
        let c = self.c.clone();
        let step = c.steps.get(self.step)?;
        if let Some(fail) = step.fail.iter().find(|f| f.when.holds(slots)) {
            let reason = format!(
                "handshake step `{}` failed: {}",
                step.name,
                message(fail, slots)
            );
            return Some(vec![Action::Fail {
                terminal: fail.terminal,
                reason,
            }]);
        }
        if !step.wait.as_ref()?.holds(slots) {
            return None;
        }
        for (name, slot) in &step.captures {
            let Some(text) = slots[*slot].text() else {
                let reason = format!(
                    "handshake step `{}`: the reply has no value to capture as `{name}`",
                    step.name
                );
                return Some(vec![Action::Fail {
                    terminal: false,
                    reason,
                }]);
            };
            self.captures.insert(name.clone(), text);
        }
        self.step += 1;
        Some(self.advance())
    }

    fn acks(&mut self, ack: &Ack, subscribe: bool, slots: &[Val]) -> Vec<ControlEvent> {
        let topics: Vec<String> = match ack.topics.map(|s| &slots[s]) {
            Some(Val::Str(t)) => vec![t.to_string()],
            Some(Val::Strs(ts)) => ts.iter().map(|t| t.to_string()).collect(),
            Some(_) => Vec::new(),
            None => {
                let i = self.pending.iter().position(|(s, _)| *s == subscribe);
                i.and_then(|i| self.pending.remove(i))
                    .map(|(_, t)| t)
                    .unwrap_or_default()
            }
        };
        let event = if subscribe {
            ControlEvent::Subscribed
        } else {
            ControlEvent::Unsubscribed
        };
        topics.into_iter().map(event).collect()
    }
}

/// The message a matched rule points at, clipped.
fn message(rule: &Outcome, slots: &[Val]) -> String {
    rule.message
        .and_then(|s| slots[s].text())
        .map_or_else(|| "(no message)".to_owned(), |m| clip(&m, 200).to_owned())
}

/// True when some rule other than `data.when` takes the frame in `slots`:
/// an error, an acknowledgement, a ping, a handshake reply, an ignored frame.
pub(super) fn claimed(c: &Compiled, slots: &[Val]) -> bool {
    let acks = [&c.ack, &c.unsubscribe_ack];
    c.errors.iter().any(|e| e.when.holds(slots))
        || acks
            .iter()
            .any(|a| a.as_ref().is_some_and(|a| a.when.holds(slots)))
        || c.pong.as_ref().is_some_and(|p| p.when.holds(slots))
        || c.ignore.iter().any(|i| i.holds(slots))
        || c.steps.iter().any(|s| {
            s.wait.as_ref().is_some_and(|w| w.holds(slots))
                || s.fail.iter().any(|f| f.when.holds(slots))
        })
}

impl Script for GenericScript {
    fn start(&mut self) -> Vec<Action> {
        self.step = 0;
        self.captures.clear();
        self.pending.clear();
        self.advance()
    }

    fn on_frame(&mut self, frame: &[u8]) -> Reaction {
        let c = self.c.clone();
        let mut reaction = Reaction::default();
        if c.plan.frame_slots == 0 {
            // No rule reads the frame: every frame is data, and the decoder
            // finds what may be wrong with it.
            reaction.control.has_data = true;
            return reaction;
        }
        let mut slots: SmallVec<[Val; 16]> = smallvec::smallvec![Val::Absent; c.plan.frame_slots];
        if let Walked::Broken(_) = walk(&c.plan, frame, &mut slots, None) {
            // The decoder counts what is wrong with it.
            reaction.control.has_data = true;
            return reaction;
        }
        if self.step < c.steps.len() {
            if let Some(actions) = self.handshake(&slots) {
                reaction.actions = actions;
                return reaction;
            }
        }
        if let Some(pong) = c.pong.as_ref().filter(|p| p.when.holds(&slots)) {
            let mut captures = self.captures.clone();
            for (name, slot) in &pong.captures {
                captures.insert(name.clone(), slots[*slot].text().unwrap_or_default());
            }
            let values = Values {
                captures: &captures,
                topics: &[],
                format: &c.format,
            };
            reaction
                .actions
                .push(Action::Send(pong.message.render(&values)));
            return reaction;
        }
        if let Some(error) = c.errors.iter().find(|e| e.when.holds(&slots)) {
            let text = message(error, &slots);
            reaction.control.events.push(if error.terminal {
                ControlEvent::AuthFailed(text)
            } else {
                ControlEvent::Error(text)
            });
            return reaction;
        }
        let events = &mut reaction.control.events;
        if let Some(ack) = c.ack.as_ref().filter(|a| a.when.holds(&slots)) {
            events.extend(self.acks(ack, true, &slots));
        }
        if let Some(ack) = c.unsubscribe_ack.as_ref().filter(|a| a.when.holds(&slots)) {
            events.extend(self.acks(ack, false, &slots));
        }
        if !events.is_empty() || c.ignore.iter().any(|i| i.holds(&slots)) {
            return reaction;
        }
        // A data frame, or one no rule takes, which the decoder counts.
        reaction.control = Control {
            events: Vec::new(),
            has_data: c.data_when.as_ref().is_none_or(|w| w.holds(&slots)) || !claimed(&c, &slots),
        };
        reaction
    }

    fn timed_out(&self, step: usize) -> Option<String> {
        (self.step == step).then(|| {
            let s = &self.c.steps[step];
            format!(
                "handshake step `{}`: no matching reply within {:?}",
                s.name, s.timeout
            )
        })
    }

    fn change_messages(&mut self, subscribe: bool, topics: &[String]) -> Vec<String> {
        let c = self.c.clone();
        let template = if subscribe {
            &c.subscribe
        } else {
            &c.unsubscribe
        };
        let groups: Vec<Vec<String>> = if c.per_topic {
            topics.iter().map(|t| vec![t.clone()]).collect()
        } else {
            vec![topics.to_vec()]
        };
        let mut out = Vec::with_capacity(groups.len());
        for group in groups {
            out.push(template.render(&self.values(&group)));
            if self.acknowledged(subscribe) {
                if self.pending.len() >= MAX_PENDING {
                    self.pending.pop_front();
                }
                self.pending.push_back((subscribe, group));
            }
        }
        out
    }

    fn acknowledged(&self, subscribe: bool) -> bool {
        if subscribe {
            self.c.ack.is_some()
        } else {
            self.c.unsubscribe_ack.is_some()
        }
    }

    fn heartbeat_every(&self) -> Option<Duration> {
        self.c.heartbeat.as_ref().map(|(every, _)| *every)
    }

    fn heartbeat_message(&self) -> Option<String> {
        let (_, template) = self.c.heartbeat.as_ref()?;
        Some(template.render(&self.values(&[])))
    }
}
