//! The options-flow injections: where they are, what they hold, and that
//! turning them on changes nothing else.

use tapewatch_actors::messages::AnomalyKind;

use super::flow_schedule::{flow_injections, FLOW_CONTRACTS};
use super::script_tests::trades;
use super::{injections, Market, ScriptConfig, SimTrade};

fn flow_on() -> ScriptConfig {
    ScriptConfig {
        flow: true,
        ..ScriptConfig::default()
    }
}

#[test]
fn flow_comes_halfway_between_injections_in_a_fixed_order() {
    let cfg = flow_on();
    let listed: Vec<_> = flow_injections(&cfg, 10_001)
        .into_iter()
        .map(|i| (i.index, i.symbol, i.kind))
        .collect();
    let contract = |k: usize| FLOW_CONTRACTS[k].to_owned();
    assert_eq!(
        listed,
        vec![
            (4_000, contract(0), AnomalyKind::Premium),
            (6_000, contract(1), AnomalyKind::Sweep),
            (8_000, contract(2), AnomalyKind::VolumeOverOi),
            (10_000, contract(0), AnomalyKind::Premium),
        ]
    );
    assert!(flow_injections(&ScriptConfig::default(), 1_000_000).is_empty());
}

#[test]
fn volume_over_open_interest_is_expected_once_per_day() {
    let cfg = flow_on();
    // 100 trades a second of event time: two days are 17.28 M trades.
    let oi: Vec<_> = flow_injections(&cfg, 17_280_000)
        .into_iter()
        .filter(|i| i.kind == AnomalyKind::VolumeOverOi)
        .map(|i| i.event_time_ms.div_euclid(86_400_000))
        .collect();
    assert_eq!(oi.len(), 2, "{oi:?}");
    assert_ne!(oi[0], oi[1]);
}

#[test]
fn the_flow_prints_are_as_documented_and_the_rest_is_unchanged() {
    let cfg = flow_on();
    let with: Vec<SimTrade> = trades(&cfg, Market::Options, 9_000);
    let (flow, normal): (Vec<_>, Vec<_>) = with
        .into_iter()
        .partition(|t| FLOW_CONTRACTS.contains(&t.symbol));
    let without = trades(&ScriptConfig::default(), Market::Options, normal.len());
    assert_eq!(normal, without);
    assert_eq!(
        injections(&cfg, Market::Options, 9_000),
        injections(&ScriptConfig::default(), Market::Options, 9_000)
    );
    // One premium print, five sweep legs, six volume prints.
    let of = |k: usize| -> Vec<&SimTrade> {
        flow.iter()
            .filter(|t| t.symbol == FLOW_CONTRACTS[k])
            .collect()
    };
    let premium = of(0);
    assert_eq!(premium.len(), 1);
    assert_eq!(premium[0].index, 4_000);
    assert!(premium[0].price * premium[0].size as f64 * 100.0 >= 1_000_000.0);
    let sweep = of(1);
    assert_eq!(sweep.len(), 5);
    let mut exchanges: Vec<_> = sweep.iter().map(|t| t.exchange).collect();
    exchanges.dedup();
    assert_eq!(exchanges.len(), 5);
    assert!(sweep.iter().all(|t| t.conditions == [219]));
    let total: f64 = sweep.iter().map(|t| t.price * t.size as f64 * 100.0).sum();
    assert!(total >= 250_000.0 && sweep.iter().all(|t| t.price * t.size as f64 * 100.0 < 1e6));
    let volume: u64 = of(2).iter().map(|t| t.size).sum();
    assert!(volume > super::FLOW_OPEN_INTEREST, "{volume}");
}
