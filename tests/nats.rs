//! Publishing to a real NATS JetStream server: every alert and enrichment of
//! a run reaches `tapewatch.alerts` / `tapewatch.enrichments` once, with ids
//! derived from the alert, so a second run over the same trades adds nothing.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream;
use serde_json::Value;
use tapewatch::actors::events::EventKind;
use tapewatch::actors::secret::ApiKey;
use tapewatch::nats::{alert_msg_id, ALERTS_STREAM, ALERTS_SUBJECT, ENRICHMENTS_SUBJECT};
use tapewatch_sim::{self as sim, ScriptConfig, SimConfig};

use support::nats::NatsServer;
use support::{collector, config_for, eventually, key, Received};

const TRADES: u64 = 6_000;

/// The messages of the alerts stream: subject → (Nats-Msg-Id → JSON).
type Stored = BTreeMap<String, BTreeMap<String, Value>>;

async fn stored(url: &str) -> Stored {
    let client = tokio::time::timeout(Duration::from_secs(5), async_nats::connect(url))
        .await
        .expect("connects in time")
        .expect("connects");
    let js = jetstream::new(client);
    let mut stream = js.get_stream(ALERTS_STREAM).await.expect("stream exists");
    let last = stream.info().await.expect("stream info").state.last_sequence;
    let mut out = Stored::new();
    for seq in 1..=last {
        let msg = stream.get_raw_message(seq).await.expect("stored message");
        let id = msg
            .headers
            .get("Nats-Msg-Id")
            .expect("every message has an id")
            .to_string();
        let json: Value = serde_json::from_slice(&msg.payload).expect("JSON payload");
        let previous = out
            .entry(msg.subject.to_string())
            .or_default()
            .insert(id.clone(), json);
        assert!(previous.is_none(), "message id {id} stored twice");
    }
    out
}

/// Runs the pipeline on a fresh simulator with the same script until every
/// alert and enrichment was acknowledged by JetStream; returns what it
/// produced and how many of its publishes JetStream called duplicates.
async fn run_once(nats: &str) -> (Received, u64) {
    let script = ScriptConfig {
        total_events: Some(TRADES),
        quotes: false,
        ..ScriptConfig::default()
    };
    let sim = sim::start(SimConfig {
        key: Some(ApiKey::new("k")),
        script,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let mut config = config_for(&sim, &["stocks", "options"]);
    config.nats.url = Some(nats.to_owned());
    let (outputs, mut rx) = collector();
    let pipeline = tapewatch::app::builder(config, key("k"))
        .subscribe_outputs(outputs)
        .start()
        .expect("pipeline starts");
    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    assert!(
        eventually(Duration::from_secs(60), || trades.get() == 2 * TRADES).await,
        "decoded {} of {} trades",
        trades.get(),
        2 * TRADES
    );
    let mut got = Received::default();
    let complete = got
        .until(&mut rx, Duration::from_secs(30), |r| {
            !r.alerts.is_empty() && r.enrichments.len() >= r.alerts.len()
        })
        .await;
    assert!(complete, "every alert enriched: {got:?}");
    let want = (got.alerts.len() + got.enrichments.len()) as u64;
    let metrics = pipeline.metrics.clone();
    let published = move || {
        let text = metrics.render();
        [ALERTS_SUBJECT, ENRICHMENTS_SUBJECT]
            .iter()
            .map(|s| metric(&text, &format!("tapewatch_nats_published_total{{subject=\"{s}\"}}")))
            .sum::<u64>()
    };
    assert!(
        eventually(Duration::from_secs(30), || published() == want).await,
        "published {} of {want}",
        published()
    );
    let text = pipeline.metrics.render();
    assert_eq!(metric(&text, "tapewatch_dropped_total{stage=\"nats\"}"), 0);
    let duplicates = metric(&text, "tapewatch_nats_duplicates_total");
    pipeline.shutdown(Duration::from_secs(2)).await;
    sim.stop().await;
    (got, duplicates)
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[actix::test]
async fn a_second_run_over_the_same_trades_adds_no_message() {
    let nats = NatsServer::start();

    let (first, duplicates) = run_once(&nats.url).await;
    assert_eq!(duplicates, 0, "the first run's ids are all new");
    let stored_first = stored(&nats.url).await;
    let alerts = &stored_first[ALERTS_SUBJECT];
    assert_eq!(alerts.len(), first.alerts.len(), "one message per alert");
    for alert in &first.alerts {
        let json = &alerts[&alert_msg_id(alert)];
        // The same JSON object as the JSONL line.
        assert_eq!(json, &serde_json::to_value(tapewatch::actors::messages::Output::Alert(alert.clone())).expect("JSON"));
    }
    assert_eq!(
        stored_first[ENRICHMENTS_SUBJECT].len(),
        first.enrichments.len(),
        "one message per enrichment"
    );

    let (second, duplicates) = run_once(&nats.url).await;
    assert_eq!(second.alerts.len(), first.alerts.len(), "the same alerts again");
    assert_eq!(
        duplicates,
        (second.alerts.len() + second.enrichments.len()) as u64,
        "every publish of the second run is a duplicate"
    );
    let stored_second = stored(&nats.url).await;
    let ids = |s: &Stored| -> Vec<(String, Vec<String>)> {
        s.iter()
            .map(|(k, v)| (k.clone(), v.keys().cloned().collect()))
            .collect()
    };
    assert_eq!(ids(&stored_second), ids(&stored_first), "nothing added");
}

/// Every message of a stream, in order, through an ephemeral consumer.
async fn all_messages(url: &str, stream: &str) -> Vec<jetstream::Message> {
    use futures_util::StreamExt;
    let client = async_nats::connect(url).await.expect("connects");
    let js = jetstream::new(client);
    let mut stream = js.get_stream(stream).await.expect("stream exists");
    let total = stream.info().await.expect("stream info").state.messages as usize;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::Config {
            ack_policy: jetstream::consumer::AckPolicy::None,
            ..Default::default()
        })
        .await
        .expect("consumer");
    let mut out = Vec::with_capacity(total);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while out.len() < total {
        assert!(tokio::time::Instant::now() < deadline, "read {} of {total}", out.len());
        let mut batch = consumer
            .batch()
            .max_messages(1000)
            .expires(Duration::from_secs(1))
            .messages()
            .await
            .expect("batch");
        while let Some(msg) = batch.next().await {
            out.push(msg.expect("message"));
        }
    }
    out
}

#[actix::test]
async fn ingest_publishes_every_trade_once_to_the_partition_of_its_underlying() {
    use tapewatch::nats::partition::partition_of;
    use tapewatch::nats::EVENTS_STREAM;
    const PARTITIONS: u32 = 3;
    let nats = NatsServer::start();
    let sim = sim::start(SimConfig {
        key: Some(ApiKey::new("k")),
        script: ScriptConfig {
            total_events: Some(TRADES),
            quotes: false,
            ..ScriptConfig::default()
        },
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let mut config = config_for(&sim, &["stocks", "options"]);
    config.nats.url = Some(nats.url.clone());
    config.nats.ingest_partitions = Some(PARTITIONS);
    let pipeline = tapewatch::app::builder(config, key("k"))
        .start()
        .expect("pipeline starts");
    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    assert!(
        eventually(Duration::from_secs(60), || trades.get() == 2 * TRADES).await,
        "decoded {} of {} trades",
        trades.get(),
        2 * TRADES
    );
    let metrics = pipeline.metrics.clone();
    assert!(
        eventually(Duration::from_secs(30), || metric(&metrics.render(), "tapewatch_nats_pending") == 0
            && metric(&metrics.render(), "tapewatch_nats_published_total{subject=\"events\"}") > 0)
        .await,
        "every batch acknowledged"
    );
    let text = pipeline.metrics.render();
    assert_eq!(metric(&text, "tapewatch_dropped_total{stage=\"nats\"}"), 0);
    assert_eq!(pipeline.metrics.alerts_total(), 0, "ingest detects nothing");
    let published = metric(&text, "tapewatch_nats_published_total{subject=\"events\"}");
    pipeline.shutdown(Duration::from_secs(2)).await;
    sim.stop().await;

    let messages = all_messages(&nats.url, EVENTS_STREAM).await;
    assert_eq!(messages.len() as u64, published, "one message per acknowledged batch");
    let mut ids = std::collections::HashSet::new();
    let mut events = 0;
    for msg in &messages {
        let partition: u32 = msg
            .subject
            .strip_prefix("tapewatch.events.")
            .and_then(|p| p.parse().ok())
            .expect("a partition subject");
        assert!(partition < PARTITIONS);
        let id = msg.headers.as_ref().and_then(|h| h.get("Nats-Msg-Id")).expect("id");
        assert!(ids.insert(id.to_string()), "id {id} used twice");
        let batch: Value = serde_json::from_slice(&msg.payload).expect("JSON batch");
        let list = batch["events"].as_array().expect("events");
        assert!(!list.is_empty(), "no empty batch");
        for event in list {
            assert_eq!(event["type"], "trade");
            let symbol = event["symbol"].as_str().expect("symbol");
            assert_eq!(partition_of(symbol, PARTITIONS), partition, "{symbol}");
            events += 1;
        }
    }
    assert_eq!(events, 2 * TRADES, "every trade exactly once");
}
