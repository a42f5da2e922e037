//! The hub's handlers of client bookkeeping: registration, leaving, and
//! topic changes (which also set the lag policy and queue state snapshots).

use std::collections::BTreeSet;

use actix::prelude::*;

use super::hub::{ChangeTopics, Entry, Hub, HubError, Register, Topics, Unregister};
use super::hub_messages::MAX_TOPICS_PER_CLIENT;
use super::protocol::{OnLag, Topic};

impl Handler<Register> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Register, _: &mut Context<Self>) {
        let entry = Entry {
            push: msg.push,
            link: msg.link,
            topics: BTreeSet::new(),
            on_lag: OnLag::default(),
            gap: 0,
        };
        self.clients.insert(entry.link.id, entry);
    }
}

impl Handler<Unregister> for Hub {
    type Result = ();

    fn handle(&mut self, Unregister(id): Unregister, ctx: &mut Context<Self>) {
        self.forget(id, ctx);
    }
}

impl Handler<ChangeTopics> for Hub {
    type Result = Result<Vec<String>, HubError>;

    fn handle(&mut self, msg: ChangeTopics, _: &mut Context<Self>) -> Self::Result {
        let entry = self.clients.get(&msg.client).ok_or(HubError::Gone)?;
        let mut topics = entry.topics.clone();
        topics.extend(msg.add.iter().cloned());
        for t in &msg.remove {
            topics.remove(t);
        }
        if topics.len() > MAX_TOPICS_PER_CLIENT {
            return Err(HubError::TooManyTopics);
        }
        let old = std::mem::replace(
            &mut self
                .clients
                .get_mut(&msg.client)
                .ok_or(HubError::Gone)?
                .topics,
            topics.clone(),
        );
        for t in old.difference(&topics) {
            self.subscribers.remove(msg.client, t);
        }
        for t in topics.difference(&old) {
            self.subscribers.add(msg.client, t);
        }
        if let (Some(on_lag), Some(entry)) = (msg.on_lag, self.clients.get_mut(&msg.client)) {
            entry.on_lag = on_lag;
        }
        self.change_state(msg.client, &old, &topics, &msg.add, msg.min_gap);
        Ok(topics.iter().map(Topic::to_string).collect())
    }
}

impl Handler<Topics> for Hub {
    type Result = Result<Vec<String>, HubError>;

    fn handle(&mut self, Topics(id): Topics, _: &mut Context<Self>) -> Self::Result {
        self.clients
            .get(&id)
            .map(Hub::topics_of)
            .ok_or(HubError::Gone)
    }
}
