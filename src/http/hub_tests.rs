//! Hub tests: routing by topic, one serialisation per update, and a client
//! whose queue fills being evicted and counted while the others get everything.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use bytestring::ByteString;
use tapewatch_actors::events::{AssetClass, Event, Trade};
use tapewatch_actors::messages::{Anomaly, AnomalyKind, EventBatch, Events, Output, Scope};
use tapewatch_actors::metrics::Metrics;
use tokio::sync::mpsc;

use super::hub::{Attach, ChangeTopics, Hub, HubError, Push, Register};
use super::hub_state::StateSettings;
use super::link::{Ending, Link};
use super::protocol::Topic;

/// A client stand-in that records every update it is pushed.
struct Recorder(mpsc::UnboundedSender<ByteString>);

impl Actor for Recorder {
    type Context = Context<Self>;
}

impl Handler<Push> for Recorder {
    type Result = ();
    fn handle(&mut self, push: Push, _: &mut Context<Self>) {
        if let Push::Update(bytes) = push {
            let _ = self.0.send(bytes);
        }
    }
}

fn alert(id: u64) -> Output {
    Output::Alert(Arc::new(Anomaly {
        id,
        symbol: "NVDA".into(),
        underlying: None,
        class: AssetClass::Stock,
        scope: Scope::Symbol,
        kind: AnomalyKind::VolumeSpike,
        rule: "volume_spike",
        thresholds: Default::default(),
        explanation: String::new(),
        flow: None,
        observed: 1.0,
        baseline: 1.0,
        score: 1.0,
        price: 1.0,
        size: 1.0,
        event_time_ms: 0,
        detected_at_ms: 0,
        feed: "stocks".into(),
        received_at: None,
    }))
}

fn trade(symbol: &str) -> Event {
    Event::Trade(Trade {
        symbol: symbol.into(),
        class: AssetClass::Stock,
        price: 10.0,
        size: 5.0,
        exchange: None,
        conditions: Default::default(),
        time_ms: 0,
        sequence: None,
    })
}

async fn register(
    hub: &Addr<Hub>,
    push: Recipient<Push>,
    id: u64,
    metrics: &Metrics,
    topics: &[&str],
) -> Arc<Link> {
    let link = Arc::new(Link::new(id, None, metrics.clone()));
    hub.send(Register {
        push,
        link: link.clone(),
    })
    .await
    .expect("hub alive");
    let add = topics
        .iter()
        .map(|t| Topic::parse(t).expect("topic"))
        .collect();
    let change = ChangeTopics {
        client: id,
        add,
        ..ChangeTopics::default()
    };
    hub.send(change)
        .await
        .expect("hub alive")
        .expect("subscribed");
    link
}

async fn next(rx: &mut mpsc::UnboundedReceiver<ByteString>) -> ByteString {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("an update in time")
        .expect("recorder alive")
}

#[actix::test]
async fn a_full_queue_evicts_the_client_and_the_others_get_everything() {
    let metrics = Metrics::new();
    let hub = Hub::start(1024, StateSettings::default());
    hub.send(Attach(metrics.clone())).await.expect("hub alive");
    let (tx1, mut rx1) = mpsc::unbounded_channel();
    let (tx2, mut rx2) = mpsc::unbounded_channel();
    let fast1 = Recorder(tx1).start().recipient();
    let fast2 = Recorder(tx2).start().recipient();
    // A mailbox nobody ever drains: the client of a peer that stopped reading.
    let mut stuck: Context<Recorder> = Context::new();
    stuck.set_mailbox_capacity(2);
    let stuck_push = stuck.address().recipient();
    register(&hub, fast1, 1, &metrics, &["alerts"]).await;
    register(&hub, fast2, 2, &metrics, &["alerts"]).await;
    let slow = register(&hub, stuck_push, 3, &metrics, &["alerts"]).await;

    for id in 1..=20 {
        hub.send(alert(id)).await.expect("hub alive");
    }
    for id in 1..=20u64 {
        let (a, b) = (next(&mut rx1).await, next(&mut rx2).await);
        // Serialised once: both clients hold the very same bytes.
        assert_eq!(a.as_bytes().as_ptr(), b.as_bytes().as_ptr());
        let v: serde_json::Value = serde_json::from_str(&a).expect("json");
        assert_eq!(v["topic"], "alerts");
        assert_eq!(v["data"]["type"], "alert");
        assert_eq!(v["data"]["id"], id);
    }
    assert_eq!(slow.ending(), Some(Ending::Slow));
    assert_eq!(metrics.ws_disconnects("slow").get(), 1);
    assert!(metrics.ws_dropped.get() >= 1);
    let change = ChangeTopics {
        client: 3,
        add: vec![Topic::Status],
        ..ChangeTopics::default()
    };
    assert_eq!(
        hub.send(change).await.expect("hub alive"),
        Err(HubError::Gone)
    );
    drop(stuck);
}

#[actix::test]
async fn trades_go_only_to_their_symbol_s_subscribers() {
    let metrics = Metrics::new();
    let hub = Hub::start(1024, StateSettings::default());
    hub.send(Attach(metrics.clone())).await.expect("hub alive");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let client = Recorder(tx).start().recipient();
    register(&hub, client, 10, &metrics, &["trades:nvda"]).await;
    let batch = EventBatch {
        feed: "stocks".into(),
        received_at: Instant::now(),
        events: vec![trade("AAPL"), trade("NVDA"), trade("MSFT")],
    };
    hub.send(Events(Arc::new(batch))).await.expect("hub alive");
    let got: serde_json::Value = serde_json::from_str(&next(&mut rx).await).expect("json");
    assert_eq!(got["topic"], "trades:NVDA");
    assert_eq!(got["data"]["symbol"], "NVDA");
    hub.send(alert(1)).await.expect("hub alive");
    assert!(rx.try_recv().is_err(), "not subscribed to alerts");
    let change = ChangeTopics {
        client: 10,
        remove: vec![Topic::Trades("NVDA".into())],
        ..ChangeTopics::default()
    };
    assert_eq!(hub.send(change).await.expect("hub alive"), Ok(vec![]));
}
