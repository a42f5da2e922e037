//! Hub tests of state topics: a snapshot on subscribe, a client that stops
//! reading is never evicted and finds only the newest values when it reads
//! again, and a client with `"on_lag":"notice"` is told what it lost on an
//! event topic instead of being evicted.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use bytestring::ByteString;
use serde_json::Value;
use tapewatch_actors::events::{AssetClass, Event, Trade};
use tapewatch_actors::messages::{EventBatch, Events};
use tapewatch_actors::metrics::Metrics;
use tokio::sync::mpsc;

use super::hub::{Attach, ChangeTopics, Hub, Push, Register};
use super::hub_state::StateSettings;
use super::link::Link;
use super::protocol::{self, OnLag, Topic};

/// A client stand-in: writes what the hub pushes, and drains its state
/// queue when woken, as the real client does.
struct Recorder {
    link: Arc<Link>,
    tx: mpsc::UnboundedSender<ByteString>,
}

impl Actor for Recorder {
    type Context = Context<Self>;
}

impl Handler<Push> for Recorder {
    type Result = ();
    fn handle(&mut self, push: Push, _: &mut Context<Self>) {
        let mut out = Vec::new();
        match push {
            Push::Update(bytes) => out.push(bytes),
            Push::AfterGap { dropped, update } => {
                out.push(protocol::lagged(dropped).into());
                out.push(update);
            }
            Push::Wake => drop(self.link.state().take_due(Instant::now(), &mut out)),
            Push::Kick => {}
        }
        for bytes in out {
            let _ = self.tx.send(bytes);
        }
    }
}

fn batch(events: Vec<Event>) -> Events {
    Events(Arc::new(EventBatch {
        feed: "stocks".into(),
        received_at: Instant::now(),
        events,
    }))
}

fn trade(symbol: &str, price: f64, time_ms: i64) -> Event {
    Event::Trade(Trade {
        symbol: symbol.into(),
        class: AssetClass::Stock,
        price,
        size: 1.0,
        exchange: None,
        conditions: Default::default(),
        time_ms,
        sequence: None,
    })
}

async fn hub() -> (Addr<Hub>, Metrics) {
    let metrics = Metrics::new();
    let settings = StateSettings {
        interval: Duration::from_millis(5),
        ..StateSettings::default()
    };
    let hub = Hub::start(1024, settings);
    hub.send(Attach(metrics.clone())).await.expect("hub alive");
    (hub, metrics)
}

async fn join(hub: &Addr<Hub>, push: Recipient<Push>, link: &Arc<Link>) {
    let register = Register {
        push,
        link: link.clone(),
    };
    hub.send(register).await.expect("hub alive");
}

async fn subscribe(hub: &Addr<Hub>, id: u64, topics: &[&str], on_lag: Option<OnLag>) {
    let change = ChangeTopics {
        client: id,
        add: topics
            .iter()
            .map(|t| Topic::parse(t).expect("topic"))
            .collect(),
        on_lag,
        ..ChangeTopics::default()
    };
    hub.send(change)
        .await
        .expect("hub alive")
        .expect("subscribed");
}

async fn next(rx: &mut mpsc::UnboundedReceiver<ByteString>) -> Value {
    let bytes = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a push in time")
        .expect("recorder alive");
    serde_json::from_str(&bytes).expect("json")
}

#[actix::test]
async fn a_subscription_starts_with_a_snapshot_of_every_key() {
    let (hub, metrics) = hub().await;
    let events = vec![
        trade("NVDA", 1.0, 10),
        trade("AAPL", 2.0, 10),
        trade("NVDA", 3.0, 11),
    ];
    hub.send(batch(events)).await.expect("hub alive");
    let link = Arc::new(Link::new(1, None, metrics.clone()));
    let (tx, mut rx) = mpsc::unbounded_channel();
    join(
        &hub,
        Recorder {
            link: link.clone(),
            tx,
        }
        .start()
        .recipient(),
        &link,
    )
    .await;
    subscribe(&hub, 1, &["last:*"], None).await;
    let mut snapshot = HashMap::new();
    for _ in 0..2 {
        let v = next(&mut rx).await;
        assert_eq!(v["snapshot"], true, "{v}");
        snapshot.insert(v["data"]["symbol"].as_str().expect("symbol").to_owned(), v);
    }
    assert_eq!(snapshot["NVDA"]["topic"], "last:NVDA");
    assert_eq!(snapshot["NVDA"]["data"]["price"], 3.0);
    assert_eq!(snapshot["NVDA"]["data"]["day_trades"], 2);
    assert_eq!(snapshot["AAPL"]["data"]["price"], 2.0);
    // Then updates, not marked.
    hub.send(batch(vec![trade("AAPL", 4.0, 12)]))
        .await
        .expect("hub alive");
    let v = next(&mut rx).await;
    assert_eq!(v["topic"], "last:AAPL");
    assert_eq!(v["data"]["price"], 4.0);
    assert!(v.get("snapshot").is_none(), "{v}");
    // A key subscribed on its own, already covered by the wildcard: no
    // second snapshot.
    subscribe(&hub, 1, &["last:NVDA"], None).await;
    hub.send(batch(vec![trade("NVDA", 5.0, 13)]))
        .await
        .expect("hub alive");
    let v = next(&mut rx).await;
    assert_eq!(v["data"]["price"], 5.0, "{v}");
    assert!(v.get("snapshot").is_none(), "{v}");
}

#[actix::test]
async fn a_client_that_stops_reading_is_never_evicted_and_then_gets_the_newest_values() {
    let (hub, metrics) = hub().await;
    let link = Arc::new(Link::new(2, None, metrics.clone()));
    // A mailbox nobody drains yet: the client of a peer that stopped reading.
    let mut stuck: Context<Recorder> = Context::new();
    stuck.set_mailbox_capacity(2);
    join(&hub, stuck.address().recipient(), &link).await;
    subscribe(&hub, 2, &["last:*", "alerts"], None).await;
    let symbols = ["A", "B", "C", "D"];
    for step in 0..2_000i64 {
        let events = symbols
            .iter()
            .map(|s| trade(s, step as f64, step))
            .collect();
        hub.send(batch(events)).await.expect("hub alive");
        if step % 200 == 0 {
            // Let a few publishes happen along the way.
            tokio::time::sleep(Duration::from_millis(6)).await;
        }
    }
    let stats = link.state().stats();
    assert_eq!(stats.pending, symbols.len(), "one pending value per key");
    assert!(stats.conflated > 0, "{stats:?}");
    assert_eq!(metrics.ws_conflated.get(), stats.conflated);
    assert_eq!(link.ending(), None, "never evicted on state topics");
    assert_eq!(metrics.ws_dropped.get(), 0, "the mailbox never filled");
    // The peer reads again: a handful of values per key, each newer than
    // the one before, up to the newest (the hub may still publish once).
    let (tx, mut rx) = mpsc::unbounded_channel();
    stuck.run(Recorder {
        link: link.clone(),
        tx,
    });
    let mut seen: HashMap<String, Vec<f64>> = HashMap::new();
    while !symbols
        .iter()
        .all(|s| seen.get(*s).and_then(|p| p.last()) == Some(&1_999.0))
    {
        let v = next(&mut rx).await;
        let symbol = v["data"]["symbol"].as_str().expect("symbol").to_owned();
        let price = v["data"]["price"].as_f64().expect("price");
        let prices = seen.entry(symbol).or_default();
        assert!(
            prices.last().is_none_or(|p| *p < price),
            "older after newer: {v}"
        );
        prices.push(price);
    }
    assert!(seen.values().all(|p| p.len() <= 2), "{seen:?}");
}

#[actix::test]
async fn an_event_topic_client_with_on_lag_notice_is_told_what_it_lost() {
    let (hub, metrics) = hub().await;
    let link = Arc::new(Link::new(3, None, metrics.clone()));
    let mut stuck: Context<Recorder> = Context::new();
    stuck.set_mailbox_capacity(2);
    join(&hub, stuck.address().recipient(), &link).await;
    subscribe(&hub, 3, &["trades:NVDA"], Some(OnLag::Notice)).await;
    for step in 0..20 {
        hub.send(batch(vec![trade("NVDA", step as f64, step)]))
            .await
            .expect("hub alive");
    }
    assert_eq!(link.ending(), None, "not evicted");
    // Two fit in the mailbox (actix lets one more in than its capacity).
    let lost = link.lagged.load(std::sync::atomic::Ordering::Relaxed);
    assert!((16..=18).contains(&lost), "{lost}");
    assert_eq!(metrics.ws_dropped.get(), lost);
    let (tx, mut rx) = mpsc::unbounded_channel();
    stuck.run(Recorder {
        link: link.clone(),
        tx,
    });
    let kept = 20 - lost as i64;
    for step in 0..kept {
        assert_eq!(next(&mut rx).await["data"]["time_ms"], step);
    }
    hub.send(batch(vec![trade("NVDA", 99.0, 99)]))
        .await
        .expect("hub alive");
    let notice = next(&mut rx).await;
    assert_eq!(
        notice,
        serde_json::json!({"topic": "lagged", "dropped": lost})
    );
    assert_eq!(next(&mut rx).await["data"]["time_ms"], 99);
}
