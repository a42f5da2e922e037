//! Whole-service tests: the real pipeline against the simulator on port 0.

mod support;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tapewatch::actors::events::EventKind;
use tapewatch::actors::messages::{EnrichStatus, Scope};
use tapewatch::actors::option_ticker;
use tapewatch::actors::secret::ApiKey;
use tapewatch::service::{self, Outcome};
use tapewatch_sim::{self as sim, injections, Market, ScriptConfig, SimConfig, TlsFiles};

use support::{collector, config_for, eventually, key, Received};

const TRADES: u64 = 12_000;

fn finite_script() -> ScriptConfig {
    ScriptConfig {
        total_events: Some(TRADES),
        quotes: false,
        ..ScriptConfig::default()
    }
}

#[actix::test]
async fn every_injected_anomaly_gives_one_alert_and_an_ok_enrichment() {
    let script = finite_script();
    let sim = sim::start(SimConfig {
        key: Some(ApiKey::new("k")),
        script: script.clone(),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let (outputs, mut rx) = collector();
    let pipeline = tapewatch::app::builder(config_for(&sim, &["stocks", "options"]), key("k"))
        .subscribe_outputs(outputs)
        .start()
        .expect("pipeline starts");

    let mut expected = injections(&script, Market::Stocks, TRADES);
    expected.extend(injections(&script, Market::Options, TRADES));
    assert!(
        expected.len() >= 8,
        "the script injects anomalies on both feeds"
    );

    // Every trade sent is decoded, then every alert has its enrichment.
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
            !r.alerts.is_empty()
                && r.enrichments.len() >= r.alerts.len()
                && r.alerts.iter().filter(|a| a.scope == Scope::Symbol).count() >= expected.len()
        })
        .await;
    assert!(complete, "alerts {:?}", got.alerts);

    let symbol_alerts: Vec<_> = got
        .alerts
        .iter()
        .filter(|a| a.scope == Scope::Symbol)
        .collect();
    let mut by_key: HashMap<(String, &str), usize> = HashMap::new();
    for a in &symbol_alerts {
        *by_key
            .entry((a.symbol.to_string(), a.kind.label()))
            .or_default() += 1;
    }
    for inj in &expected {
        assert_eq!(
            by_key.get(&(inj.symbol.clone(), inj.kind.label())),
            Some(&1),
            "one alert for {inj:?}; alerts: {by_key:?}"
        );
    }
    assert_eq!(
        symbol_alerts.len(),
        expected.len(),
        "no alert without an injection"
    );

    let enrichment: HashMap<u64, _> = got
        .enrichments
        .iter()
        .map(|e| (e.alert_id, e.clone()))
        .collect();
    for a in &got.alerts {
        let e = enrichment
            .get(&a.id)
            .unwrap_or_else(|| panic!("no enrichment for alert {}", a.id));
        assert_eq!(e.status, EnrichStatus::Ok, "{e:?}");
        let details = e.details.as_ref().expect("ok enrichments carry details");
        if a.symbol.starts_with("O:") {
            let parsed = option_ticker::parse(&a.symbol).expect("simulated contracts parse");
            assert_eq!(details["ticker"], a.symbol.as_str());
            assert_eq!(details["underlying_ticker"], parsed.underlying);
            assert_eq!(details["strike_price"].as_f64(), Some(parsed.strike));
            let call = matches!(parsed.right, option_ticker::OptionRight::Call);
            assert_eq!(details["contract_type"], if call { "call" } else { "put" });
            assert_eq!(
                Some(details["underlying_ticker"].as_str().unwrap_or_default()),
                a.underlying.as_deref()
            );
        } else {
            assert_eq!(details["ticker"], a.symbol.as_str(), "{details}");
        }
    }
    assert_eq!(pipeline.metrics.dropped_total(), 0);
    assert_eq!(pipeline.metrics.decode_errors_total(), 0);
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}

#[actix::test]
async fn a_slow_rest_service_never_slows_the_stream() {
    let script = finite_script();
    let sim = sim::start(SimConfig {
        script: script.clone(),
        rest_delay: Duration::from_secs(8),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let (outputs, mut rx) = collector();
    let mut config = config_for(&sim, &["stocks"]);
    config.rest.timeout_ms = 20_000;
    let pipeline = tapewatch::app::builder(config, key("k"))
        .subscribe_outputs(outputs)
        .start()
        .expect("pipeline starts");
    let expected = injections(&script, Market::Stocks, TRADES).len();

    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    assert!(eventually(Duration::from_secs(60), || trades.get() == TRADES).await);
    let mut got = Received::default();
    assert!(
        got.until(&mut rx, Duration::from_secs(5), |r| r.alerts.len()
            >= expected)
            .await
    );
    // The whole stream went through, and every alert was written, while every
    // enrichment was still waiting on the slow REST service: counters, not clocks.
    assert_eq!(sim.stats.events_sent(Market::Stocks), TRADES);
    assert_eq!(
        pipeline.metrics.frames.get(),
        sim.stats.data_frames_sent.load(Ordering::Relaxed)
    );
    assert_eq!(pipeline.metrics.dropped_total(), 0);
    assert!(got.enrichments.is_empty(), "{:?}", got.enrichments);
    assert_eq!(pipeline.metrics.enrichments(EnrichStatus::Ok).get(), 0);
    assert!(pipeline.metrics.rest_in_flight.get() > 0);
    pipeline.shutdown(Duration::ZERO).await;
    sim.stop().await;
}

#[actix::test]
async fn a_rejected_key_stops_the_service_after_one_attempt() {
    let sim = sim::start(SimConfig {
        key: Some(ApiKey::new("right")),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let config = config_for(&sim, &["stocks"]);
    let never = std::future::pending::<()>();
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        service::run(config, key("wrong"), never),
    )
    .await
    .expect("the run ends by itself")
    .expect("the pipeline starts");
    match outcome {
        Outcome::Failed(reason) => {
            assert!(reason.contains("authentication failed"), "{reason}");
            assert!(!reason.contains("wrong"), "the key must not leak: {reason}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(sim.stats.auth_attempts.load(Ordering::Relaxed), 1);
    assert_eq!(sim.stats.connections_accepted.load(Ordering::Relaxed), 1);
    sim.stop().await;
}

#[actix::test]
async fn wss_works_against_a_self_signed_certificate() {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let certified = rcgen::generate_simple_self_signed(names).expect("certificate");
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, certified.cert.pem()).expect("write ca");
    let sim = sim::start(SimConfig {
        tls: Some(TlsFiles {
            cert_pem: certified.cert.pem().into_bytes(),
            key_pem: certified.signing_key.serialize_pem().into_bytes(),
        }),
        script: finite_script(),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    assert!(sim.ws_url("stocks").starts_with("wss://"));
    let mut config = config_for(&sim, &["stocks"]);
    config.tls.ca_file = Some(ca_file);
    let pipeline = tapewatch::app::builder(config, key("k"))
        .start()
        .expect("pipeline starts");
    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    assert!(
        eventually(Duration::from_secs(60), || trades.get() == TRADES).await,
        "decoded {} trades over wss",
        trades.get()
    );
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}
