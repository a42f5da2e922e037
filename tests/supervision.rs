//! Supervision: a panic in any actor is noticed, the actor restarted and
//! counted, and the pipeline keeps delivering.

mod support;

use std::time::Duration;

use tapewatch::actors::events::EventKind;
use tapewatch::actors::messages::EnrichStatus;
use tapewatch_sim::{self as sim, SimConfig};

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
