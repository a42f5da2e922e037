//! State topics on `/ws` against a real server and the simulator: a client
//! that reads slowly and one that stops reading for seconds are never
//! evicted, start with a snapshot and never see an older value after a
//! newer one; and an event-topic client that asked for `"on_lag":"notice"`
//! is told what it lost instead of being disconnected.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use support::http::{wait_for, Service};
use support::ws::{stalled_client, Got, RawReader, WsClient};
use tapewatch::config::Config;
use tapewatch_sim::SimConfig;

const STOCKS: [&str; 8] = ["AAPL", "MSFT", "NVDA", "TSLA", "AMD", "AMZN", "META", "SPY"];

/// Trades and quotes of every stock.
fn with_quotes(c: &mut Config) {
    c.feeds[0].subscribe = vec!["T.*".to_owned(), "Q.*".to_owned()];
}

fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    since.as_millis() as i64
}

/// What one client has seen of every key: its pushes must only move
/// forward, and snapshots come first, one per key.
#[derive(Default)]
struct Watch {
    last: HashMap<String, (i64, i64, i64)>,
    snapshots: HashSet<String>,
    updates_seen: bool,
    pushes: usize,
    newest_ms: i64,
}

impl Watch {
    fn see(&mut self, v: &Value) {
        let Some(topic) = v["topic"].as_str() else {
            return; // a reply
        };
        assert!(
            topic.starts_with("last:") || topic.starts_with("quotes:"),
            "{v}"
        );
        let data = &v["data"];
        let order = (
            data["time_ms"].as_i64().expect("time"),
            data["sequence"].as_i64().unwrap_or(i64::MIN),
            data["day_trades"].as_i64().unwrap_or(0),
        );
        if let Some(before) = self.last.get(topic) {
            assert!(
                order >= *before,
                "older after newer on {topic}: {before:?} then {v}"
            );
        }
        if v["snapshot"] == true {
            assert!(!self.updates_seen, "a snapshot after an update: {v}");
            assert!(
                self.snapshots.insert(topic.to_owned()),
                "two snapshots of {topic}"
            );
        } else {
            self.updates_seen = true;
        }
        self.last.insert(topic.to_owned(), order);
        self.newest_ms = self.newest_ms.max(order.0);
        self.pushes += 1;
    }
}

#[actix::test]
async fn slow_and_stopped_readers_of_state_topics_keep_up_with_the_newest_values() {
    let sim = SimConfig {
        events_per_second: Some(20_000),
        ..SimConfig::default()
    };
    let svc = Service::start(sim, &["stocks"], with_quotes).await;
    let m = svc.pipeline.metrics.clone();
    assert!(
        wait_for(Duration::from_secs(10), || m.frames.get() > 200).await,
        "data flows"
    );
    let all = json!({"id": 1, "action": "subscribe", "topics": ["last:*", "quotes:*"]});

    // One that stops reading at once, with a tiny receive buffer.
    let stopped = stalled_client(svc.addr(), std::slice::from_ref(&all)).await;

    // One that reads about 25 kB/s, far less than it is sent.
    let slow = stalled_client(svc.addr(), &[all]).await;
    let mut slow = RawReader::new(slow).paced(512, Duration::from_millis(20));
    let mut watch = Watch::default();
    let ended = slow
        .texts_for(Duration::from_secs(4), |text| {
            let v: Value = serde_json::from_str(&text).expect("json");
            if v.get("id").is_some() {
                assert_eq!(v["topics"], json!(["quotes:*", "last:*"]), "{v}");
                assert_eq!(watch.pushes, 0, "the reply comes before the snapshot");
            }
            watch.see(&v);
        })
        .await;
    assert_eq!(ended, Ok(()), "the slow client was not disconnected");
    for s in STOCKS {
        assert!(
            watch.snapshots.contains(&format!("last:{s}")),
            "no snapshot of {s}"
        );
    }
    assert_eq!(m.ws_disconnects("slow").get(), 0, "nobody evicted");
    assert!(m.ws_conflated.get() > 0, "values were conflated");

    // The stopped one reads again: what it gets moves only forward and soon
    // reaches values stamped after it started reading.
    let resumed_ms = now_ms();
    let mut reader = RawReader::new(stopped);
    let mut resumed = Watch::default();
    let ended = reader
        .texts_for(Duration::from_secs(3), |text| {
            let v: Value = serde_json::from_str(&text).expect("json");
            resumed.see(&v);
        })
        .await;
    assert_eq!(ended, Ok(()), "the stopped client was not disconnected");
    assert!(resumed.pushes > 0);
    assert!(
        resumed.newest_ms >= resumed_ms,
        "only stale values: newest {} < {resumed_ms}",
        resumed.newest_ms
    );

    // A client's own counters.
    let mut ws = WsClient::connect(&svc.ws_url(), None)
        .await
        .expect("connects");
    ws.send(json!({"id": 2, "action": "stats"})).await;
    let stats = ws.reply(2).await["stats"].clone();
    assert_eq!(stats, json!({"conflated": 0, "pending": 0, "lagged": 0}));
    assert_eq!(m.ws_disconnects("slow").get(), 0);
    assert_eq!(m.ws_dropped.get(), 0, "no event update was lost either");
    svc.stop().await;
}

#[actix::test]
async fn a_subscription_to_one_key_starts_with_its_snapshot_and_max_hz_spaces_it() {
    let sim = SimConfig {
        events_per_second: Some(5_000),
        ..SimConfig::default()
    };
    let svc = Service::start(sim, &["stocks"], with_quotes).await;
    let m = svc.pipeline.metrics.clone();
    assert!(wait_for(Duration::from_secs(10), || m.frames.get() > 100).await);
    let mut ws = WsClient::connect(&svc.ws_url(), None)
        .await
        .expect("connects");
    ws.send(json!({"id": 1, "action": "subscribe", "topics": ["last:nvda"], "max_hz": 5}))
        .await;
    assert_eq!(ws.reply(1).await["topics"], json!(["last:NVDA"]));
    let first = ws.json().await;
    assert_eq!(first["topic"], "last:NVDA", "{first}");
    assert_eq!(first["snapshot"], true, "{first}");
    // At 5 per second, 2 seconds bring at most about 11 values.
    let started = Instant::now();
    let mut count = 0;
    while started.elapsed() < Duration::from_secs(2) {
        if let Got::Json(v) = ws.next(Duration::from_millis(500)).await {
            assert_eq!(v["topic"], "last:NVDA", "{v}");
            count += 1;
        }
    }
    assert!(
        (5..=11).contains(&count),
        "{count} values in 2 s at max_hz 5"
    );
    svc.stop().await;
}

#[actix::test]
async fn an_event_topic_client_with_on_lag_notice_gets_lagged_and_continues() {
    let sim = SimConfig {
        events_per_second: Some(20_000),
        ..SimConfig::default()
    };
    let svc = Service::start(sim, &["stocks"], |c| c.http.client_queue = 16).await;
    let m = svc.pipeline.metrics.clone();
    let topics: Vec<String> = STOCKS.iter().map(|s| format!("trades:{s}")).collect();
    let subscribe = json!({"id": 1, "action": "subscribe", "topics": topics, "on_lag": "notice"});
    let stalled = stalled_client(svc.addr(), &[subscribe]).await;
    assert!(
        wait_for(Duration::from_secs(30), || m.ws_dropped.get() > 100).await,
        "the stalled client's queue filled"
    );
    assert_eq!(m.ws_disconnects("slow").get(), 0, "told, not evicted");
    let mut reader = RawReader::new(stalled);
    let (mut lagged, mut trades_after) = (0u64, 0usize);
    let ended = reader
        .texts_for(Duration::from_secs(5), |text| {
            let v: Value = serde_json::from_str(&text).expect("json");
            if v["topic"] == "lagged" {
                lagged += v["dropped"].as_u64().expect("dropped count");
            } else if lagged > 0
                && v["topic"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("trades:"))
            {
                trades_after += 1;
            }
        })
        .await;
    assert_eq!(ended, Ok(()), "still connected");
    assert!(lagged > 0, "a lagged notice came");
    assert!(trades_after > 0, "trades kept coming after it");
    assert!(lagged <= m.ws_dropped.get());
    assert_eq!(m.ws_disconnects("slow").get(), 0);
    svc.stop().await;
}
