//! Publishing to a real NATS JetStream server: every alert and enrichment of
//! a run reaches `tapewatch.alerts` / `tapewatch.enrichments` once, with ids
//! derived from the alert, so a second run over the same trades adds nothing.

mod support;

use std::time::Duration;

use async_nats::jetstream;
use serde_json::Value;
use tapewatch::actors::events::EventKind;
use tapewatch::actors::messages::Output;
use tapewatch::actors::sink::json_line;
use tapewatch::nats::{alert_msg_id, ALERTS_SUBJECT, ENRICHMENTS_SUBJECT};

use support::nats::{metric, run_once, script_sim, stored, NatsServer, Stored, TRADES};
use support::{config_for, eventually, key};

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
        // The same JSON object as the JSONL line, read the same way.
        let line = json_line(&Output::Alert(alert.clone())).expect("a JSON line");
        let want: Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(json, &want);
    }
    assert_eq!(
        stored_first[ENRICHMENTS_SUBJECT].len(),
        first.enrichments.len(),
        "one message per enrichment"
    );

    let (second, duplicates) = run_once(&nats.url).await;
    assert_eq!(
        second.alerts.len(),
        first.alerts.len(),
        "the same alerts again"
    );
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
        assert!(
            tokio::time::Instant::now() < deadline,
            "read {} of {total}",
            out.len()
        );
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
    let sim = script_sim().await;
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
        eventually(Duration::from_secs(30), || metric(
            &metrics.render(),
            "tapewatch_nats_pending"
        ) == 0
            && metric(
                &metrics.render(),
                "tapewatch_nats_published_total{subject=\"events\"}"
            ) > 0)
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
    assert_eq!(
        messages.len() as u64,
        published,
        "one message per acknowledged batch"
    );
    let mut ids = std::collections::HashSet::new();
    let mut events = 0;
    for msg in &messages {
        let partition: u32 = msg
            .subject
            .strip_prefix("tapewatch.events.")
            .and_then(|p| p.parse().ok())
            .expect("a partition subject");
        assert!(partition < PARTITIONS);
        let id = msg
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .expect("id");
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

#[actix::test]
async fn with_nats_down_the_pipeline_keeps_detecting_sheds_and_is_not_ready() {
    // A loopback port nobody listens on any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let sim = script_sim().await;
    let mut config = config_for(&sim, &["stocks", "options"]);
    config.nats.url = Some(format!("nats://127.0.0.1:{port}"));
    config.nats.backlog = 2;
    config.nats.timeout_ms = 200;
    let (outputs, mut rx) = support::collector();
    let pipeline = tapewatch::app::builder(config, key("k"))
        .subscribe_outputs(outputs)
        .start()
        .expect("pipeline starts");
    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    assert!(
        eventually(Duration::from_secs(60), || trades.get() == 2 * TRADES).await,
        "the feeds are read while NATS is down"
    );
    let mut got = support::Received::default();
    assert!(
        got.until(&mut rx, Duration::from_secs(30), |r| r.alerts.len() >= 3
            && r.enrichments.len() >= 3)
            .await,
        "alerts still reach the other sinks"
    );
    let metrics = pipeline.metrics.clone();
    assert!(
        eventually(Duration::from_secs(10), || {
            let text = metrics.render();
            metric(&text, "tapewatch_dropped_total{stage=\"nats\"}") >= 4
                && metric(&text, "tapewatch_nats_pending") == 2
        })
        .await,
        "beyond the backlog records are shed and counted"
    );
    assert!(!pipeline.ready().await, "/ready says NATS is missing");
    pipeline.shutdown(Duration::from_secs(2)).await;
    sim.stop().await;
}
