//! Shared helpers for whole-service tests: a pipeline pointed at a simulator,
//! and a collector actor that receives every output record; [`http`] and
//! [`ws`] add the HTTP server and its clients.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tapewatch::actors::messages::{Anomaly, Enrichment, Output, StatusRecord};
use tapewatch::actors::secret::{ApiKey, Credentials};
use tapewatch::config::{Config, FeedConfig, StdoutFormat};
use tapewatch_sim::SimHandle;
use tokio::sync::mpsc;

pub mod feed_server;
pub mod generic;
pub mod http;
pub mod nats;
pub mod ws;

/// Forwards every output record into a channel the test reads.
pub struct Collector(pub mpsc::UnboundedSender<Output>);

impl Actor for Collector {
    type Context = Context<Self>;
}

impl Handler<Output> for Collector {
    type Result = ();
    fn handle(&mut self, msg: Output, _: &mut Context<Self>) {
        let _ = self.0.send(msg);
    }
}

/// A config that watches the simulator's feeds, quietly, with fast timers.
pub fn config_for(sim: &SimHandle, markets: &[&str]) -> Config {
    let mut config = Config {
        feeds: markets
            .iter()
            .map(|m| FeedConfig {
                name: (*m).to_owned(),
                url: sim.ws_url(m),
                subscribe: vec!["T.*".to_owned()],
            })
            .collect(),
        ..Config::default()
    };
    config.rest.base_url = sim.rest_url();
    config.output.stdout = StdoutFormat::Off;
    config.pipeline.progress_interval_s = 0;
    config.connection.backoff_min_ms = 20;
    config.connection.backoff_max_ms = 200;
    // Tests never take the fixed default port: several run at once.
    config.http.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    config
}

/// Credentials with `key`.
pub fn key(key: &str) -> Credentials {
    Credentials::key(ApiKey::new(key))
}

/// A started collector and the channel it fills.
pub fn collector() -> (Recipient<Output>, mpsc::UnboundedReceiver<Output>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let addr = Collector::create(|ctx| {
        ctx.set_mailbox_capacity(1 << 16);
        Collector(tx)
    });
    (addr.recipient(), rx)
}

/// Records received so far, split by type.
#[derive(Default, Debug)]
pub struct Received {
    pub alerts: Vec<Arc<Anomaly>>,
    pub enrichments: Vec<Arc<Enrichment>>,
    pub statuses: Vec<Arc<StatusRecord>>,
}

impl Received {
    /// Moves everything waiting in `rx` into `self`.
    pub fn drain(&mut self, rx: &mut mpsc::UnboundedReceiver<Output>) {
        while let Ok(o) = rx.try_recv() {
            self.push(o);
        }
    }

    fn push(&mut self, o: Output) {
        match o {
            Output::Alert(a) => self.alerts.push(a),
            Output::Enrichment(e) => self.enrichments.push(e),
            Output::Status(s) => self.statuses.push(s),
        }
    }

    /// Receives until `done` holds or `limit` passes; returns whether it held.
    pub async fn until(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<Output>,
        limit: Duration,
        done: impl Fn(&Received) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(self) {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(o)) => self.push(o),
                Ok(None) | Err(_) => return done(self),
            }
        }
        true
    }
}

/// Waits until `cond` holds, checking every 10 ms, for at most `limit`.
pub async fn eventually(limit: Duration, cond: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while !cond() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}
