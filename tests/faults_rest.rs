//! REST failures during enrichment, and a clean shutdown.

mod support;

use std::time::Duration;

use tapewatch::actors::messages::EnrichStatus;
use tapewatch_sim::{self as sim, Faults, ScriptConfig, SimConfig};

use support::{collector, config_for, eventually, key, Received};

/// One injection (the first is at trade 3000), then the script ends.
fn one_alert_script() -> ScriptConfig {
    ScriptConfig {
        total_events: Some(4_000),
        quotes: false,
        ..ScriptConfig::default()
    }
}

#[actix::test]
async fn rate_limits_and_server_errors_are_retried_until_ok() {
    let sim = sim::start(SimConfig {
        script: one_alert_script(),
        faults: Faults {
            rest_statuses: vec![429, 500],
            rest_retry_after_s: Some(1),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let (outputs, mut rx) = collector();
    let mut config = config_for(&sim, &["stocks"]);
    config.rest.retry_base_ms = 20;
    let pipeline = tapewatch::app::builder(config, key("k"))
        .subscribe_outputs(outputs)
        .start()
        .expect("pipeline starts");
    let mut got = Received::default();
    assert!(
        got.until(&mut rx, Duration::from_secs(30), |r| !r
            .enrichments
            .is_empty())
            .await
    );
    let e = &got.enrichments[0];
    assert_eq!(e.status, EnrichStatus::Ok, "{e:?}");
    assert!(
        e.latency_ms >= 1_000,
        "Retry-After was honoured: {} ms",
        e.latency_ms
    );
    let requests = |status: &str| {
        pipeline
            .metrics
            .rest_requests
            .with_label_values(&[status])
            .get()
    };
    assert_eq!(
        (requests("429"), requests("500"), requests("200")),
        (1, 1, 1)
    );
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}

#[actix::test]
async fn a_hanging_rest_service_gives_timeout_enrichments() {
    let sim = sim::start(SimConfig {
        script: one_alert_script(),
        rest_delay: Duration::from_secs(30),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let (outputs, mut rx) = collector();
    let mut config = config_for(&sim, &["stocks"]);
    config.rest.timeout_ms = 300;
    config.rest.max_retries = 0;
    let pipeline = tapewatch::app::builder(config, key("k"))
        .subscribe_outputs(outputs)
        .start()
        .expect("pipeline starts");
    let mut got = Received::default();
    assert!(
        got.until(&mut rx, Duration::from_secs(30), |r| !r
            .enrichments
            .is_empty())
            .await
    );
    assert_eq!(got.enrichments[0].status, EnrichStatus::Timeout);
    assert_eq!(got.alerts.len(), 1, "the alert itself was written at once");
    pipeline.shutdown(Duration::ZERO).await;
    sim.stop().await;
}

#[actix::test]
async fn shutdown_finishes_rest_calls_flushes_and_closes_with_a_close_frame() {
    let sim = sim::start(SimConfig {
        script: one_alert_script(),
        rest_delay: Duration::from_millis(800),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("alerts.jsonl");
    let mut config = config_for(&sim, &["stocks"]);
    config.output.alerts_file = Some(file.clone());
    let pipeline = tapewatch::app::builder(config, key("k"))
        .start()
        .expect("pipeline starts");
    let in_flight = pipeline.metrics.rest_in_flight.clone();
    // Stop while the enrichment of the alert is still being fetched.
    assert!(eventually(Duration::from_secs(30), || in_flight.get() == 1).await);
    pipeline.shutdown(Duration::from_secs(5)).await;

    let text = std::fs::read_to_string(&file).expect("alerts file");
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let alert = records
        .iter()
        .find(|r| r["type"] == "alert")
        .expect("alert written");
    let enrichment = records
        .iter()
        .find(|r| r["type"] == "enrichment")
        .expect("the in-flight enrichment finished within the grace period");
    assert_eq!(enrichment["alert_id"], alert["id"]);
    assert_eq!(enrichment["status"], "ok");
    assert!(
        eventually(Duration::from_secs(5), || sim.stats.client_close_codes()
            == vec![Some(1000)])
        .await,
        "close codes {:?}",
        sim.stats.client_close_codes()
    );
    sim.stop().await;
}
