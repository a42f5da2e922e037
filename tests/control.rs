//! Controlling a running pipeline: subscription changes on the live socket,
//! pause and resume.

mod support;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use tapewatch::actors::events::{Event, EventKind};
use tapewatch::actors::messages::Events;
use tapewatch::actors::ws_session::{ChangeSubscriptions, SessionState, SubscriptionError};
use tapewatch::pipeline::ControlError;
use tapewatch_sim::{self as sim, SimConfig};

use support::{config_for, eventually, key};

/// Counts trades per symbol.
#[derive(Default)]
struct TradeCounter(Arc<Mutex<HashMap<String, u64>>>);

impl Actor for TradeCounter {
    type Context = Context<Self>;
}

impl Handler<Events> for TradeCounter {
    type Result = ();
    fn handle(&mut self, Events(batch): Events, _: &mut Context<Self>) {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for e in &batch.events {
            if let Event::Trade(t) = e {
                *counts.entry(t.symbol.to_string()).or_default() += 1;
            }
        }
    }
}

fn count(counts: &Arc<Mutex<HashMap<String, u64>>>, symbol: &str) -> u64 {
    let counts = counts.lock().unwrap_or_else(|p| p.into_inner());
    counts.get(symbol).copied().unwrap_or(0)
}

#[actix::test]
async fn subscriptions_change_on_the_live_socket_without_a_reconnect() {
    let sim = sim::start(SimConfig {
        events_per_second: Some(10_000),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let mut config = config_for(&sim, &["stocks"]);
    config.feeds[0].subscribe = vec!["T.AAPL".to_owned()];
    let counts = Arc::new(Mutex::new(HashMap::new()));
    let counter = TradeCounter(counts.clone()).start();
    let pipeline = tapewatch::app::builder(config, key("k"))
        .subscribe_events(counter.recipient())
        .start()
        .expect("pipeline starts");
    assert!(eventually(Duration::from_secs(20), || count(&counts, "AAPL") > 50).await);
    assert_eq!(count(&counts, "MSFT"), 0, "not subscribed yet");

    let change = ChangeSubscriptions {
        add: vec!["T.MSFT".to_owned()],
        remove: vec!["T.AAPL".to_owned()],
    };
    let reply = pipeline
        .change_subscriptions("stocks", change)
        .await
        .expect("the provider acknowledged");
    assert!(reply.acknowledged);
    assert_eq!(reply.subscriptions, vec!["T.MSFT".to_owned()]);
    let messages = sim.stats.client_messages();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("subscribe") && m.contains("T.MSFT")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("unsubscribe") && m.contains("T.AAPL")),
        "{messages:?}"
    );
    assert!(eventually(Duration::from_secs(20), || count(&counts, "MSFT") > 50).await);
    // AAPL stops: only what was already in flight arrives after the ack.
    let aapl = count(&counts, "AAPL");
    let msft = count(&counts, "MSFT");
    assert!(
        eventually(Duration::from_secs(20), || count(&counts, "MSFT")
            > msft + 200)
        .await
    );
    assert!(count(&counts, "AAPL") <= aapl + 20, "AAPL kept flowing");
    assert_eq!(sim.stats.connections_accepted.load(Ordering::Relaxed), 1);
    assert_eq!(pipeline.metrics.reconnects.get(), 0);

    // Bad requests get specific errors.
    let bad = ChangeSubscriptions {
        add: vec!["T.A,T.B".to_owned()],
        remove: vec![],
    };
    let err = pipeline
        .change_subscriptions("stocks", bad)
        .await
        .expect_err("invalid");
    assert!(
        matches!(
            err,
            ControlError::Subscription(SubscriptionError::InvalidTopic(_))
        ),
        "{err}"
    );
    let err = pipeline
        .change_subscriptions("forex", ChangeSubscriptions::default())
        .await
        .expect_err("no such feed");
    assert!(matches!(err, ControlError::UnknownFeed(_)), "{err}");
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}

#[actix::test]
async fn pause_closes_upstream_and_resume_resubscribes() {
    let sim = sim::start(SimConfig {
        events_per_second: Some(10_000),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let pipeline = tapewatch::app::builder(config_for(&sim, &["stocks"]), key("k"))
        .start()
        .expect("pipeline starts");
    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    assert!(eventually(Duration::from_secs(20), || trades.get() > 100).await);

    pipeline.pause().await;
    let state = |p: Vec<tapewatch::actors::ws_session::SessionSnapshot>| p[0].state;
    assert_eq!(state(pipeline.sessions().await), SessionState::Paused);
    // Nothing arrives while paused: once frames already queued are decoded,
    // the count stays put.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let during = trades.get();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(trades.get(), during, "data while paused");
    assert_eq!(
        sim.stats.connections_accepted.load(Ordering::Relaxed),
        1,
        "no reconnect while paused"
    );
    assert_eq!(state(pipeline.sessions().await), SessionState::Paused);

    pipeline.resume().await;
    assert!(eventually(Duration::from_secs(20), || trades.get() > during + 100).await);
    assert_eq!(state(pipeline.sessions().await), SessionState::Streaming);
    assert_eq!(sim.stats.connections_accepted.load(Ordering::Relaxed), 2);
    let subscribes = sim
        .stats
        .client_messages()
        .iter()
        .filter(|m| m.contains("\"subscribe\""))
        .count();
    assert_eq!(subscribes, 2, "resubscribed after resume");
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}

#[actix::test]
async fn a_paused_feed_reports_no_topic_stale() {
    let sim = sim::start(SimConfig {
        events_per_second: Some(5_000),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let mut config = config_for(&sim, &["stocks"]);
    config.staleness.min_silence_ms = 200;
    config.staleness.factor = 5.0;
    config.staleness.min_samples = 3;
    config.staleness.check_interval_ms = 20;
    let (outputs, mut rx) = support::collector();
    let pipeline = tapewatch::app::builder(config, key("k"))
        .subscribe_outputs(outputs)
        .start()
        .expect("pipeline starts");
    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    assert!(eventually(Duration::from_secs(20), || trades.get() > 200).await);
    pipeline.pause().await;
    // Silent for five times the limit while paused.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(pipeline.metrics.stale_events.get(), 0, "stale while paused");
    pipeline.resume().await;
    let before = trades.get();
    assert!(eventually(Duration::from_secs(20), || trades.get() > before + 200).await);
    let mut got = support::Received::default();
    got.drain(&mut rx);
    let stale: Vec<_> = got.statuses.iter().filter(|s| s.state == "stale").collect();
    assert!(stale.is_empty(), "{stale:?}");
    assert_eq!(pipeline.metrics.stale_events.get(), 0);
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}
