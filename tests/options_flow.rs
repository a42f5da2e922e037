//! Whole-service test of the options-flow rules: the simulator injects
//! premium whales, sweeps and volume over open interest on contracts of their
//! own, the pipeline (with quotes subscribed for those contracts and open
//! interest fetched from the simulator's snapshot endpoint) finds each one
//! exactly once, and nothing else raises a flow alert.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use tapewatch::actors::events::EventKind;
use tapewatch::actors::messages::{AnomalyKind, EnrichStatus};
use tapewatch::actors::rules::rule::{Moneyness, Side};
use tapewatch::actors::secret::ApiKey;
use tapewatch_sim::{
    self as sim, flow_injections, Market, Script, ScriptConfig, SimConfig, SimEvent,
    FLOW_CONTRACTS, FLOW_OPEN_INTEREST,
};

use support::{collector, config_for, eventually, key, Received};

const TRADES: u64 = 12_000;

fn is_flow(kind: AnomalyKind) -> bool {
    !AnomalyKind::STATISTICAL.contains(&kind)
}

/// Trades the options feed sends: the script's and the flow injections'.
fn option_trades(script: &ScriptConfig) -> u64 {
    let mut s = Script::new(script.clone(), Market::Options);
    std::iter::from_fn(|| s.next_event())
        .filter(|e| matches!(e, SimEvent::Trade(_)))
        .count() as u64
}

#[actix::test]
async fn each_injected_flow_anomaly_gives_exactly_one_alert() {
    let script = ScriptConfig {
        total_events: Some(TRADES),
        quotes: false,
        flow: true,
        ..ScriptConfig::default()
    };
    let sim = sim::start(SimConfig {
        key: Some(ApiKey::new("k")),
        script: script.clone(),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let mut config = config_for(&sim, &["stocks", "options"]);
    // Quotes of the contracts the whale and the sweep trade give their side.
    let quotes = FLOW_CONTRACTS[..2].iter().map(|c| format!("Q.{c}"));
    config.feeds[1].subscribe.extend(quotes);
    let (outputs, mut rx) = collector();
    let pipeline = tapewatch::app::builder(config, key("k"))
        .subscribe_outputs(outputs)
        .start()
        .expect("pipeline starts");

    let expected = flow_injections(&script, TRADES);
    let kinds: Vec<_> = expected.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            AnomalyKind::Premium,
            AnomalyKind::Sweep,
            AnomalyKind::VolumeOverOi,
            AnomalyKind::Premium
        ]
    );
    let sent = TRADES + option_trades(&script);
    let trades = pipeline.metrics.events(EventKind::Trade).clone();
    assert!(
        eventually(Duration::from_secs(60), || trades.get() == sent).await,
        "decoded {} of {sent} trades",
        trades.get()
    );
    let mut got = Received::default();
    let flow_alerts = |r: &Received| r.alerts.iter().filter(|a| is_flow(a.kind)).count();
    let complete = got
        .until(&mut rx, Duration::from_secs(30), |r| {
            flow_alerts(r) >= expected.len() && r.enrichments.len() >= r.alerts.len()
        })
        .await;
    assert!(complete, "alerts {:#?}", got.alerts);

    let flow: Vec<_> = got.alerts.iter().filter(|a| is_flow(a.kind)).collect();
    let mut per_injection = vec![0; expected.len()];
    for a in &flow {
        let at = expected.iter().position(|i| {
            i.kind == a.kind
                && i.symbol == a.symbol.as_str()
                && (i.event_time_ms..=i.end_time_ms).contains(&a.event_time_ms)
        });
        let at = at.unwrap_or_else(|| panic!("flow alert without an injection: {a:#?}"));
        per_injection[at] += 1;
        let details = a.flow.as_deref().expect("flow alerts carry their inputs");
        assert_eq!(a.rule, a.kind.label());
        assert!(!a.explanation.is_empty());
        if let Some(spot) = details.underlying_price {
            // Every flow contract is a call well away from its stock.
            assert!(spot > 0.0);
            assert_ne!(details.moneyness, None);
        }
        match a.kind {
            AnomalyKind::Premium => {
                assert_eq!(details.side, Some(Side::Bought), "{a:#?}");
                assert!(details.premium >= 1_000_000.0);
                if details.underlying_price.is_some() {
                    assert_eq!(details.moneyness, Some(Moneyness::Itm));
                }
                assert!(a.explanation.contains("bought at the ask"), "{a:#?}");
            }
            AnomalyKind::Sweep => {
                assert_eq!(details.side, Some(Side::Bought), "{a:#?}");
                assert!(details.iso);
                assert_eq!((details.exchanges, details.prints), (3, 3));
                assert!(a.explanation.contains("across 3 exchanges"), "{a:#?}");
            }
            AnomalyKind::VolumeOverOi => {
                assert_eq!(details.open_interest, Some(FLOW_OPEN_INTEREST as f64));
                let volume = details.volume_today.expect("volume today");
                assert!(volume > FLOW_OPEN_INTEREST as f64, "{a:#?}");
            }
            other => panic!("{other:?} is no flow kind"),
        }
    }
    assert_eq!(per_injection, vec![1; expected.len()], "{flow:#?}");

    // Flow alerts are enriched like any other.
    let enrichments: HashMap<u64, _> = got.enrichments.iter().map(|e| (e.alert_id, e)).collect();
    for a in &flow {
        let e = enrichments.get(&a.id).expect("an enrichment");
        assert_eq!(e.status, EnrichStatus::Ok, "{e:?}");
    }
    assert_eq!(pipeline.metrics.dropped_total(), 0);
    pipeline.shutdown(Duration::from_secs(1)).await;
    sim.stop().await;
}
