//! FeedStops: a feed that stopped for good stops the service only when it
//! was the last one running.
//!
//! A session stops when retrying cannot help its connection (a rejected key,
//! a feed outside the plan). That is one feed's failure: the others keep
//! streaming, and the stopped feed shows in `/ready`, `/status` and its
//! `auth_failed` record. Once every feed has stopped, nothing is left to
//! watch, and the service stops with the reasons of all of them.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix::prelude::*;
use tapewatch_actors::messages::Fatal;

/// Counts stopped feeds and reports a [`Fatal`] once all have stopped.
pub struct FeedStops {
    feeds: usize,
    stopped: BTreeMap<Arc<str>, String>,
    relay: Recipient<Fatal>,
}

impl FeedStops {
    /// Watches `feeds` feeds; the fatal report goes to `relay`.
    pub fn new(feeds: usize, relay: Recipient<Fatal>) -> Self {
        FeedStops {
            feeds,
            stopped: BTreeMap::new(),
            relay,
        }
    }
}

impl Actor for FeedStops {
    type Context = Context<Self>;
}

/// A session's report that its feed stopped for good.
impl Handler<Fatal> for FeedStops {
    type Result = ();
    fn handle(&mut self, stop: Fatal, _: &mut Context<Self>) {
        self.stopped.insert(stop.component.clone(), stop.reason);
        let running = self.feeds.saturating_sub(self.stopped.len());
        if running > 0 {
            tracing::error!(feed = %stop.component, running, "feed stopped; the other feeds carry on");
            return;
        }
        let (component, reason) = match self.stopped.len() {
            1 => (stop.component, self.stopped.values().cloned().collect()),
            _ => (
                Arc::from("every feed"),
                (self.stopped.iter())
                    .map(|(feed, reason)| format!("{feed}: {reason}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        };
        let _ = self.relay.try_send(Fatal { component, reason });
    }
}
