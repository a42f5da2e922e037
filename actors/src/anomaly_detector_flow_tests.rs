//! The options-flow rules inside the running detector: quotes give the side,
//! the stock gives moneyness, groups change thresholds, snapshots are asked
//! for once and their answer can fire.

use serde_json::json;

use super::harness::{forward, trade, Harness};
use super::*;
use crate::events::Quote;
use crate::messages::AnomalyKind;
use crate::rules::rule::{Moneyness, Side, Snapshot};

const CALL: &str = "O:NVDA261218C00500000";
/// 2026-01-01T00:00:00Z, 351 days before the call expires.
const T0: i64 = 1_767_225_600_000;

fn print(symbol: &str, price: f64, size: f64, exchange: i32, time_ms: i64) -> Event {
    Event::Trade(Trade {
        exchange: Some(exchange),
        ..trade(symbol, price, size, time_ms)
    })
}

fn quote(symbol: &str, bid: f64, ask: f64, time_ms: i64) -> Event {
    Event::Quote(Quote {
        symbol: symbol.into(),
        class: AssetClass::of(symbol),
        bid,
        bid_size: 10.0,
        ask,
        ask_size: 10.0,
        time_ms,
    })
}

fn flow_of(a: &Anomaly) -> &crate::messages::FlowDetails {
    a.flow.as_deref().expect("an options-flow alert")
}

#[actix::test]
async fn a_whale_print_at_the_ask_is_bought_with_moneyness_from_the_stock() {
    let mut h = Harness::start(DetectorConfig::default());
    h.events(vec![
        Event::Trade(trade("NVDA", 520.0, 100.0, T0)),
        quote(CALL, 25.9, 26.0, T0),
        print(CALL, 26.0, 500.0, 302, T0 + 5),
    ])
    .await;
    let alerts = h.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!((a.kind, a.rule), (AnomalyKind::Premium, "premium"));
    assert_eq!(a.thresholds.get("premium_min"), Some(&1_000_000.0));
    let f = flow_of(a);
    assert_eq!(f.premium, 1_300_000.0);
    assert_eq!(f.side, Some(Side::Bought));
    assert_eq!(f.moneyness, Some(Moneyness::Itm));
    assert_eq!(f.underlying_price, Some(520.0));
    assert_eq!(f.days_to_expiry, 351);
    assert_eq!(
        a.explanation,
        "$1.3 M of NVDA 500C 2026-12-18 bought at the ask in one print; in the money, 351 days to expiry"
    );
    let json = serde_json::to_value(&**a).expect("serialises");
    assert_eq!(json["rule"], "premium");
    assert_eq!(json["flow"]["side"], "bought");
    assert_eq!(json["flow"]["moneyness"], "itm");
    assert_eq!(json["thresholds"]["premium_min"], 1_000_000.0);
}

#[actix::test]
async fn a_stale_quote_or_none_gives_no_side_and_no_stock_no_moneyness() {
    let mut h = Harness::start(DetectorConfig::default());
    h.events(vec![
        quote(CALL, 19.9, 20.0, T0),
        print(CALL, 20.0, 600.0, 302, T0 + 6_000),
        print("O:TSLA261218C00300000", 20.0, 600.0, 302, T0 + 6_000),
    ])
    .await;
    let alerts = h.alerts().await;
    assert_eq!(alerts.len(), 2);
    for a in &alerts {
        let f = flow_of(a);
        assert_eq!((f.side, f.moneyness), (None, None), "{a:?}");
        assert!(a.explanation.contains(" traded in one print"), "{a:?}");
    }
}

#[actix::test]
async fn a_sweep_across_four_exchanges_is_one_alert() {
    let mut h = Harness::start(DetectorConfig::default());
    let mut events = vec![quote(CALL, 4.9, 5.0, T0)];
    for (i, x) in [302, 303, 304, 308, 312].into_iter().enumerate() {
        events.push(print(CALL, 5.0, 150.0, x, T0 + 10 * i as i64));
    }
    h.events(events).await;
    let alerts = h.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a.kind, AnomalyKind::Sweep);
    let f = flow_of(a);
    assert_eq!((f.exchanges, f.prints, f.span_ms), (4, 4, 30));
    assert_eq!(f.premium, 300_000.0);
    assert_eq!(f.side, Some(Side::Bought));
    assert!(a.explanation.starts_with(
        "$300 k of NVDA 500C 2026-12-18 bought at the ask across 4 exchanges in 30 ms"
    ));
}

#[actix::test]
async fn a_group_raises_the_bar_for_its_symbols_only() {
    let cfg: DetectorConfig = serde_json::from_value(json!({
        "groups": [{"underlyings": ["SPY"], "settings": {"premium_min": 5000000.0}}]
    }))
    .expect("parses");
    let mut h = Harness::start(cfg);
    h.events(vec![
        print("O:SPY261218C00600000", 20.0, 1_000.0, 302, T0),
        print(CALL, 20.0, 1_000.0, 302, T0),
    ])
    .await;
    let alerts = h.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].symbol, CALL);
}

#[actix::test]
async fn volume_over_open_interest_asks_once_and_fires_on_the_answer() {
    let metrics = Metrics::new();
    let (_fwd, to_rest, mut asked) = forward::<SnapshotRequest>(&metrics, "rest", 16);
    let cfg = DetectorConfig::default();
    let mut h = Harness::with_snapshots(cfg, None, Arc::default(), Some(to_rest));
    // 300 contracts: not worth a request yet; 600: asks, once.
    for i in 0..4 {
        h.events(vec![print(CALL, 0.5, 150.0, 302, T0 + i)]).await;
    }
    let request = asked.recv().await.expect("one request");
    assert_eq!(request.contract, CALL);
    assert!(h.alerts().await.is_empty());
    let answer = ContractSnapshot {
        contract: request.contract.clone(),
        class: request.class,
        feed: request.feed.clone(),
        snapshot: Some(Snapshot {
            open_interest: Some(400.0),
            day_volume: None,
            shares_per_contract: Some(100.0),
            implied_volatility: Some(0.4),
        }),
    };
    h.addr.send(answer).await.expect("alive");
    h.events(vec![print(CALL, 0.5, 150.0, 302, T0 + 9)]).await;
    let alerts = h.alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a.kind, AnomalyKind::VolumeOverOi);
    let f = flow_of(a);
    assert_eq!(
        (f.volume_today, f.open_interest),
        (Some(600.0), Some(400.0))
    );
    assert_eq!(a.price, 0.5);
    assert!(a
        .explanation
        .contains("600 contracts today, 1.5x its open interest of 400"));
    assert!(asked.try_recv().is_err(), "asked twice in one day");
}

#[test]
fn an_active_contract_costs_under_two_hundred_bytes_of_flow_state() {
    let size = std::mem::size_of::<super::flow::ContractFlow>();
    assert!(size <= 192, "{size}");
}

#[actix::test]
async fn a_group_changes_the_statistical_rules_too() {
    use super::harness::{steady, STOCK_SIZES};
    let cfg: DetectorConfig = serde_json::from_value(json!({
        "groups": [{"underlyings": ["AAPL"], "settings": {"warmup_trades": 10}}]
    }))
    .expect("parses");
    let mut h = Harness::start(cfg);
    let mut trades = steady("AAPL", 20, 0, 100.0, &STOCK_SIZES);
    trades.extend(steady("MSFT", 20, 0, 100.0, &STOCK_SIZES));
    trades.sort_by_key(|t| t.time_ms);
    h.trades(trades).await;
    // After 20 trades only AAPL's group is past its warm-up.
    h.trades(vec![
        trade("AAPL", 100.0, 18_000.0, 2_000),
        trade("MSFT", 100.0, 18_000.0, 2_000),
    ])
    .await;
    let alerts = h.alerts().await;
    let who: Vec<_> = alerts.iter().map(|a| (a.kind, a.symbol.as_str())).collect();
    assert_eq!(who, [(AnomalyKind::VolumeSpike, "AAPL")]);
    assert!(alerts[0]
        .explanation
        .starts_with("AAPL traded 18000 at once"));
}
