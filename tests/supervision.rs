//! Supervision: a panic in any actor, the `/ws` hub included, is noticed,
//! the actor restarted and counted, and the pipeline keeps delivering.

mod support;

use std::time::Duration;

use serde_json::json;
use tapewatch::actors::events::EventKind;
use tapewatch::actors::messages::EnrichStatus;
use tapewatch_sim::{self as sim, SimConfig};

use support::http::Service;
use support::ws::{Got, WsClient};
use support::{config_for, eventually, key};

#[actix::test]
async fn a_panic_in_each_actor_in_turn_is_survived_and_counted() {
    let sim = sim::start(SimConfig {
        events_per_second: Some(20_000),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let alerts_file = dir.path().join("alerts.jsonl");
    let mut config = config_for(&sim, &["stocks"]);
    config.output.alerts_file = Some(alerts_file.clone());
    config.supervision.check_interval_ms = 20;
    config.supervision.max_restarts = 10;
    let pipeline = tapewatch::app::builder(config, key("k"))
        .start()
        .expect("pipeline starts");
    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    assert!(eventually(Duration::from_secs(20), || trades.get() > 1_000).await);

    let actors = [
        "ws_session:stocks",
        "message_handler:stocks",
        "anomaly_detector",
        "rest_fetcher",
        "sink:alerts_file",
    ];
    for actor in actors {
        assert!(pipeline.crash(actor).await, "{actor} is supervised");
        let restarts = pipeline.metrics.restarts.with_label_values(&[actor]);
        assert!(
            eventually(Duration::from_secs(10), || restarts.get() == 1).await,
            "{actor} was not restarted"
        );
        // Data flows through the restarted actor again.
        let before = trades.get();
        assert!(
            eventually(Duration::from_secs(20), || trades.get() > before + 2_000).await,
            "no trades after restarting {actor}"
        );
    }

    // Alerts and their enrichments still come out, and reach the restarted file sink.
    let alerts_before = pipeline.metrics.alerts_total();
    let ok = pipeline.metrics.enrichments(EnrichStatus::Ok).clone();
    let ok_before = ok.get();
    assert!(
        eventually(Duration::from_secs(30), || {
            pipeline.metrics.alerts_total() > alerts_before && ok.get() > ok_before
        })
        .await,
        "alerts after the restarts"
    );
    let lines_before = std::fs::read_to_string(&alerts_file)
        .unwrap_or_default()
        .lines()
        .count();
    assert!(
        eventually(Duration::from_secs(30), || {
            let text = std::fs::read_to_string(&alerts_file).unwrap_or_default();
            text.lines().count() > lines_before
        })
        .await,
        "the restarted file sink writes again"
    );
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}

#[actix::test]
async fn a_panic_in_the_hub_is_survived_and_its_clients_told_to_reconnect() {
    let sim = SimConfig {
        events_per_second: Some(20_000),
        ..SimConfig::default()
    };
    let svc = Service::start(sim, &["stocks"], |c| {
        c.supervision.check_interval_ms = 20;
        // The paced simulator repeats each (instrument, kind) within seconds
        // of wall time: a short cooldown keeps alerts coming.
        c.detector.cooldown_ms = 1_000;
    })
    .await;
    let m = svc.pipeline.metrics.clone();
    let mut before = WsClient::connect(&svc.ws_url(), None)
        .await
        .expect("connects");
    before
        .send(json!({"id": 1, "action": "subscribe", "topics": ["alerts"]}))
        .await;
    assert_eq!(before.reply(1).await["ok"], true);

    assert!(svc.pipeline.crash("hub").await, "the hub is supervised");
    let restarts = m.restarts.with_label_values(&["hub"]);
    assert!(
        eventually(Duration::from_secs(10), || restarts.get() == 1).await,
        "the hub was not restarted"
    );
    // The client of the dead hub is closed with going away (1001) on its
    // next heartbeat ...
    let code = loop {
        match before.next(Duration::from_secs(30)).await {
            Got::Json(_) => {}
            Got::Close(code) => break code,
            Got::Nothing => panic!("the old hub's client was never closed"),
        }
    };
    assert_eq!(code, Some(1001));
    // ... and a new client gets alerts from the new hub.
    let mut after = WsClient::connect(&svc.ws_url(), None)
        .await
        .expect("connects to the restarted hub");
    after
        .send(json!({"id": 2, "action": "subscribe", "topics": ["alerts"]}))
        .await;
    assert_eq!(after.reply(2).await["ok"], true);
    let alert = loop {
        match after.next(Duration::from_secs(30)).await {
            Got::Json(v) if v["topic"] == "alerts" => break v,
            Got::Json(_) => {}
            other => panic!("no alert from the restarted hub: {other:?}"),
        }
    };
    assert_eq!(alert["data"]["type"], "alert", "{alert}");
    svc.stop().await;
}
