//! An extension actor: a rolling VWAP per symbol that reports when a trade
//! crosses it, wired into the pipeline without changing the library.
//!
//! Runs against the built-in simulator (no key, no network):
//! `cargo run --example custom_actor -- 10` (seconds to run, default 10).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use actix::prelude::*;
use tapewatch::actors::events::Event;
use tapewatch::actors::messages::{Events, Output};
use tapewatch::actors::secret::{ApiKey, Credentials};
use tapewatch::config::{Config, FeedConfig, StdoutFormat};
use tapewatch_sim::{self as sim, SimConfig};

/// Trades kept per symbol for the rolling VWAP.
const WINDOW: usize = 200;

/// Rolling VWAP of one symbol over its last `WINDOW` trades.
#[derive(Default)]
struct Rolling {
    trades: VecDeque<(f64, f64)>,
    notional: f64,
    volume: f64,
    above: Option<bool>,
}

impl Rolling {
    fn vwap(&self) -> Option<f64> {
        (self.volume > 0.0).then(|| self.notional / self.volume)
    }

    /// Adds a trade; returns the VWAP it crossed, if it crossed one.
    fn add(&mut self, price: f64, size: f64) -> Option<f64> {
        let crossed = self.vwap().and_then(|vwap| {
            let above = price > vwap;
            let was = self.above.replace(above);
            // Only a full window counts, so start-up noise is not reported.
            (self.trades.len() == WINDOW && was.is_some_and(|w| w != above)).then_some(vwap)
        });
        self.trades.push_back((price, size));
        self.notional += price * size;
        self.volume += size;
        if self.trades.len() > WINDOW {
            if let Some((p, s)) = self.trades.pop_front() {
                self.notional -= p * s;
                self.volume -= s;
            }
        }
        crossed
    }
}

/// Reports VWAP crossings and counts the pipeline's alerts.
#[derive(Default)]
struct VwapWatcher {
    symbols: HashMap<String, Rolling>,
    crossings: u64,
    alerts: u64,
}

impl Actor for VwapWatcher {
    type Context = Context<Self>;
}

impl Handler<Events> for VwapWatcher {
    type Result = ();
    fn handle(&mut self, Events(batch): Events, _: &mut Context<Self>) {
        for event in &batch.events {
            if let Event::Trade(t) = event {
                let rolling = self.symbols.entry(t.symbol.to_string()).or_default();
                if let Some(vwap) = rolling.add(t.price, t.size) {
                    self.crossings += 1;
                    // Print a sample; the count below is complete.
                    if self.crossings % 500 == 1 {
                        let side = if t.price > vwap { "above" } else { "below" };
                        println!(
                            "VWAP    {:<22} crossed {side} {vwap:.4} at {:.4}",
                            t.symbol, t.price
                        );
                    }
                }
            }
        }
    }
}

impl Handler<Output> for VwapWatcher {
    type Result = ();
    fn handle(&mut self, output: Output, _: &mut Context<Self>) {
        if let Output::Alert(a) = output {
            self.alerts += 1;
            println!(
                "ALERT   {} on {} (the VWAP watcher saw it too)",
                a.kind.label(),
                a.symbol
            );
        }
    }
}

/// Reads the watcher's totals.
#[derive(Message)]
#[rtype(result = "(usize, u64, u64)")]
struct Totals;

impl Handler<Totals> for VwapWatcher {
    type Result = MessageResult<Totals>;
    fn handle(&mut self, _: Totals, _: &mut Context<Self>) -> Self::Result {
        MessageResult((self.symbols.len(), self.crossings, self.alerts))
    }
}

#[actix::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let simulator = sim::start(SimConfig {
        events_per_second: Some(5_000),
        ..SimConfig::default()
    })
    .await?;

    let mut config = Config {
        feeds: ["stocks", "options"]
            .iter()
            .map(|market| FeedConfig {
                name: (*market).to_owned(),
                url: simulator.ws_url(market),
                subscribe: vec!["T.*".to_owned()],
            })
            .collect(),
        ..Config::default()
    };
    config.rest.base_url = simulator.rest_url();
    config.output.stdout = StdoutFormat::Off;
    config.pipeline.progress_interval_s = 0;

    // The extension: one actor, a bounded mailbox, two subscriptions.
    let watcher = VwapWatcher::create(|ctx| {
        ctx.set_mailbox_capacity(4096);
        VwapWatcher::default()
    });
    let pipeline = tapewatch::app::builder(config, Credentials::key(ApiKey::new("demo")))
        .subscribe_events(watcher.clone().recipient())
        .subscribe_outputs(watcher.clone().recipient())
        .start()?;

    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (symbols, crossings, alerts) = watcher.send(Totals).await?;
    println!("{symbols} symbols watched, {crossings} VWAP crossings, {alerts} alerts");
    pipeline.shutdown(Duration::from_secs(2)).await;
    simulator.stop().await;
    Ok(())
}
