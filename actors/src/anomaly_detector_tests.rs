//! Detection through the actor: steady trading, warm-up, each rule firing
//! once, cooldowns, and options watched per contract and per underlying.

use super::harness::{kinds, steady, trade, Harness, OPTION_SIZES, STOCK_SIZES};
use super::*;
use crate::messages::AnomalyKind;

#[actix::test]
async fn steady_trading_never_alerts() {
    let mut h = Harness::start(DetectorConfig::default());
    h.trades(steady("NVDA", 5_000, 0, 120.0, &STOCK_SIZES))
        .await;
    h.trades(steady(
        "O:NVDA261218C00500000",
        5_000,
        0,
        4.2,
        &OPTION_SIZES,
    ))
    .await;
    assert!(h.alerts().await.is_empty());
    assert_eq!(h.metrics.alerts_total(), 0);
}

#[actix::test]
async fn nothing_alerts_during_warm_up() {
    let mut h = Harness::start(DetectorConfig::default());
    let mut trades = steady("NVDA", 40, 0, 120.0, &STOCK_SIZES);
    trades.push(trade("NVDA", 130.0, 50_000.0, 3_200));
    h.trades(trades).await;
    assert!(h.alerts().await.is_empty());
}

#[actix::test]
async fn a_volume_spike_is_one_alert_with_its_details() {
    let mut h = Harness::start(DetectorConfig::default());
    let mut trades = steady("NVDA", 200, 0, 120.0, &STOCK_SIZES);
    trades.push(trade("NVDA", 120.0, 18_000.0, 16_000));
    trades.push(trade("NVDA", 120.0, 18_000.0, 16_010));
    trades.extend(steady("NVDA", 50, 16_100, 120.0, &STOCK_SIZES));
    h.trades(trades).await;
    let alerts = h.alerts().await;
    assert_eq!(
        kinds(&alerts),
        [(AnomalyKind::VolumeSpike, Scope::Symbol, "NVDA")]
    );
    let a = &alerts[0];
    assert_eq!(
        (a.id, a.class, a.underlying.as_deref()),
        (1, AssetClass::Stock, None)
    );
    assert_eq!(
        (a.observed, a.size, a.price, a.event_time_ms),
        (18_000.0, 18_000.0, 120.0, 16_000)
    );
    assert!((a.baseline - 300.0).abs() < 30.0, "baseline {}", a.baseline);
    assert!(a.score > 4.0 && a.received_at.is_some() && &*a.feed == "test");
    assert!(a.detected_at_ms > 0);
    assert_eq!(h.metrics.alerts(AnomalyKind::VolumeSpike).get(), 1);
}

#[actix::test]
async fn a_price_jump_alerts_once_per_cooldown() {
    let mut h = Harness::start(DetectorConfig::default());
    h.trades(steady("AAPL", 200, 0, 100.0, &STOCK_SIZES)).await;
    // The price moves up 5% and stays: one alert, however long it stays.
    h.trades(steady("AAPL", 500, 16_000, 105.0, &STOCK_SIZES))
        .await;
    let first = h.alerts().await;
    assert_eq!(
        kinds(&first),
        [(AnomalyKind::PriceJump, Scope::Symbol, "AAPL")]
    );
    assert!(
        (first[0].score - 5.0).abs() < 0.1,
        "score {}",
        first[0].score
    );
    // Back down more than a cooldown after the first jump: a second alert.
    h.trades(steady("AAPL", 100, 76_000, 100.0, &STOCK_SIZES))
        .await;
    let second = h.alerts().await;
    assert_eq!(
        kinds(&second),
        [(AnomalyKind::PriceJump, Scope::Symbol, "AAPL")]
    );
    assert_eq!(second[0].event_time_ms, 76_000);
}

#[actix::test]
async fn a_trade_burst_alerts_once() {
    let mut h = Harness::start(DetectorConfig::default());
    let mut trades = steady("TSLA", 200, 0, 200.0, &STOCK_SIZES);
    trades.extend((0..150).map(|i| trade("TSLA", 200.0, 100.0, 16_000 + 3 * i)));
    trades.extend(steady("TSLA", 200, 16_500, 200.0, &STOCK_SIZES));
    h.trades(trades).await;
    let alerts = h.alerts().await;
    assert_eq!(
        kinds(&alerts),
        [(AnomalyKind::TradeBurst, Scope::Symbol, "TSLA")]
    );
    assert!(alerts[0].observed >= 5.0 * alerts[0].baseline);
    assert!(alerts[0].observed >= 20.0);
}

#[actix::test]
async fn an_option_spike_alerts_the_contract_and_its_underlying() {
    let mut h = Harness::start(DetectorConfig::default());
    let contract = "O:NVDA261218C00500000";
    let mut trades = steady(contract, 200, 0, 4.2, &OPTION_SIZES);
    trades.push(trade(contract, 4.2, 330.0, 16_000));
    h.trades(trades).await;
    let alerts = h.alerts().await;
    assert_eq!(
        kinds(&alerts),
        [
            (AnomalyKind::VolumeSpike, Scope::Symbol, contract),
            (AnomalyKind::VolumeSpike, Scope::Underlying, "NVDA"),
        ]
    );
    for a in &alerts {
        assert_eq!(
            (a.underlying.as_deref(), a.class),
            (Some("NVDA"), AssetClass::Option)
        );
    }
    assert_eq!((alerts[0].id, alerts[1].id), (1, 2));
    let tracked = h.addr.send(GetTracked).await.expect("alive");
    assert_eq!(
        tracked,
        TrackedSymbols {
            symbols: 1,
            underlyings: 1,
            active_contracts: 1,
        }
    );
}

#[actix::test]
async fn a_stock_and_the_options_on_it_keep_separate_baselines() {
    let mut h = Harness::start(DetectorConfig::default());
    let mut trades = steady("O:NVDA261218C00500000", 200, 0, 4.2, &OPTION_SIZES);
    trades.extend(steady("NVDA", 200, 40, 120.0, &STOCK_SIZES));
    trades.sort_by_key(|t| t.time_ms);
    h.trades(trades).await;
    // 330 shares is an ordinary stock trade; shared state would call it a spike.
    h.trades(vec![trade("NVDA", 120.0, 330.0, 16_100)]).await;
    // A 5-contract option trade is ordinary, and the contract's price, far
    // from the stock's, is no jump either.
    h.trades(vec![trade("O:NVDA261218C00500000", 4.2, 5.0, 16_200)])
        .await;
    assert!(h.alerts().await.is_empty());
    let tracked = h.addr.send(GetTracked).await.expect("alive");
    assert_eq!(
        tracked,
        TrackedSymbols {
            symbols: 2,
            underlyings: 1,
            active_contracts: 1,
        }
    );
}

#[actix::test]
async fn without_underlying_tracking_only_the_contract_alerts() {
    let rules = DetectorConfig {
        track_underlying: false,
        ..DetectorConfig::default()
    };
    let mut h = Harness::start(rules);
    let contract = "O:SPY250620P00500000";
    let mut trades = steady(contract, 200, 0, 3.1, &OPTION_SIZES);
    trades.push(trade(contract, 3.1, 330.0, 16_000));
    h.trades(trades).await;
    let alerts = h.alerts().await;
    assert_eq!(
        kinds(&alerts),
        [(AnomalyKind::VolumeSpike, Scope::Symbol, contract)]
    );
    assert_eq!(alerts[0].underlying.as_deref(), Some("SPY"));
}
