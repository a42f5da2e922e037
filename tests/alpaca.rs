//! Whole-service tests against the Alpaca simulator: tapewatch's own Alpaca
//! client (JSON mode) decodes every scripted trade from `/v2/iex`, raises one
//! alert per injected anomaly, and stops on a wrong secret.

mod support;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tapewatch::actors::events::EventKind;
use tapewatch::actors::messages::Scope;
use tapewatch::actors::secret::{ApiKey, Credentials};
use tapewatch::config::{Config, FeedConfig};
use tapewatch::service::{self, Outcome};
use tapewatch_sim::{
    self as sim, injections, Market, ScriptConfig, SimConfig, SimHandle, SimProvider,
};

use support::{collector, config_for, eventually, Received};

/// Trades in the script: enough for three injections (at 3000, 5000, 7000).
const TRADES: u64 = 8_000;

/// An Alpaca simulator that wants key `k` and secret `s`.
async fn alpaca_sim(script: ScriptConfig) -> SimHandle {
    sim::start(SimConfig {
        provider: SimProvider::Alpaca,
        key: Some(ApiKey::new("k")),
        secret: Some(ApiKey::new("s")),
        script,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// A config with provider `alpaca` watching every trade on `/v2/iex`.
fn alpaca_config(sim: &SimHandle) -> Config {
    let mut config = config_for(sim, &[]);
    config.provider = "alpaca".to_owned();
    config.feeds = vec![FeedConfig {
        name: "iex".to_owned(),
        url: sim.ws_url("v2/iex"),
        subscribe: vec!["trades:*".to_owned()],
    }];
    config
}

fn credentials(key: &str, secret: &str) -> Credentials {
    Credentials {
        key: ApiKey::new(key),
        secret: Some(ApiKey::new(secret)),
        rest: None,
    }
}

#[actix::test]
async fn the_pipeline_decodes_every_alpaca_trade_and_alerts_on_each_injection() {
    let script = ScriptConfig {
        total_events: Some(TRADES),
        quotes: false,
        ..ScriptConfig::default()
    };
    let sim = alpaca_sim(script.clone()).await;
    let (outputs, mut rx) = collector();
    let pipeline = tapewatch::app::builder(alpaca_config(&sim), credentials("k", "s"))
        .subscribe_outputs(outputs)
        .start()
        .expect("pipeline starts");

    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    assert!(
        eventually(Duration::from_secs(60), || trades.get() == TRADES).await,
        "decoded {} of {TRADES} trades",
        trades.get()
    );
    assert_eq!(sim.stats.events_sent(Market::Stocks), TRADES);
    assert_eq!(pipeline.metrics.decode_errors_total(), 0);

    let expected = injections(&script, Market::Stocks, TRADES);
    assert_eq!(expected.len(), 3);
    let mut got = Received::default();
    let symbol_alerts = |r: &Received| r.alerts.iter().filter(|a| a.scope == Scope::Symbol).count();
    got.until(&mut rx, Duration::from_secs(30), |r| {
        symbol_alerts(r) >= expected.len()
    })
    .await;
    let mut by_key: HashMap<(String, &str), usize> = HashMap::new();
    for alert in got.alerts.iter().filter(|a| a.scope == Scope::Symbol) {
        *by_key
            .entry((alert.symbol.to_string(), alert.kind.label()))
            .or_default() += 1;
    }
    for injection in &expected {
        let key = (injection.symbol.clone(), injection.kind.label());
        assert_eq!(by_key.get(&key), Some(&1), "{injection:?}: {by_key:?}");
    }
    assert_eq!(
        symbol_alerts(&got),
        expected.len(),
        "no alert without an injection"
    );
    let log = sim.stats.client_messages();
    assert!(
        log.iter().any(|m| m.contains(r#""trades":["*"]"#)),
        "{log:?}"
    );
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}

#[actix::test]
async fn a_wrong_secret_stops_the_service_after_one_attempt() {
    let sim = alpaca_sim(ScriptConfig::default()).await;
    let never = std::future::pending::<()>();
    let run = service::run(
        alpaca_config(&sim),
        credentials("k", "bad-secret-42"),
        never,
    );
    let outcome = tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("the run ends by itself")
        .expect("the pipeline starts");
    match outcome {
        Outcome::Failed(reason) => {
            assert!(reason.contains("auth failed"), "{reason}");
            assert!(
                !reason.contains("bad-secret-42"),
                "the secret must not leak: {reason}"
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(sim.stats.auth_attempts.load(Ordering::Relaxed), 1);
    assert_eq!(sim.stats.auth_failures.load(Ordering::Relaxed), 1);
    sim.stop().await;
}
