//! Table and unit tests of the script: determinism, the schedule arithmetic,
//! and the shape of normal and injected trades.

use std::collections::HashMap;

use tapewatch_actors::messages::AnomalyKind;

use super::schedule::slot;
use super::{
    injections, trade_time_ms, Market, Script, ScriptConfig, SimEvent, SimTrade, BURST_STEP_MS,
    BURST_TRADES,
};

/// The first `count` trades of a script, quotes skipped.
pub(crate) fn trades(cfg: &ScriptConfig, market: Market, count: usize) -> Vec<SimTrade> {
    let mut script = Script::new(cfg.clone(), market);
    std::iter::from_fn(|| script.next_event())
        .filter_map(|event| match event {
            SimEvent::Trade(t) => Some(t),
            SimEvent::Quote(_) => None,
        })
        .take(count)
        .collect()
}

fn events(cfg: &ScriptConfig, market: Market, count: usize) -> Vec<SimEvent> {
    let mut script = Script::new(cfg.clone(), market);
    std::iter::from_fn(|| script.next_event())
        .take(count)
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_events_and_another_seed_does_not() {
    let cfg = ScriptConfig::default();
    for market in Market::ALL {
        assert_eq!(events(&cfg, market, 5000), events(&cfg, market, 5000));
        let other = ScriptConfig {
            seed: 8,
            ..cfg.clone()
        };
        assert_ne!(events(&cfg, market, 100), events(&other, market, 100));
    }
    assert_ne!(
        trades(&cfg, Market::Stocks, 50)
            .iter()
            .map(|t| t.time_ms)
            .collect::<Vec<_>>(),
        Vec::<i64>::new()
    );
}

#[test]
fn quotes_do_not_change_the_trades() {
    let with = ScriptConfig::default();
    let without = ScriptConfig {
        quotes: false,
        ..with.clone()
    };
    for market in Market::ALL {
        assert_eq!(
            trades(&with, market, 10_000),
            trades(&without, market, 10_000)
        );
    }
}

#[test]
fn the_first_injections_follow_the_documented_table() {
    let cfg = ScriptConfig::default();
    let base = cfg.base_time_ms;
    let listed: Vec<_> = injections(&cfg, Market::Stocks, 11_001)
        .into_iter()
        .map(|i| (i.index, i.symbol, i.kind, i.event_time_ms - base))
        .collect();
    let expected = [
        (3000, "AAPL", AnomalyKind::VolumeSpike, 30_000),
        (5000, "MSFT", AnomalyKind::PriceJump, 50_000),
        (7000, "NVDA", AnomalyKind::TradeBurst, 69_993),
        (9000, "TSLA", AnomalyKind::VolumeSpike, 88_950),
        (11_000, "AMD", AnomalyKind::PriceJump, 108_950),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(i, s, k, t)| (i, s.to_owned(), k, t))
        .collect();
    assert_eq!(listed, expected);
    let options = injections(&cfg, Market::Options, 3001);
    assert_eq!(options[0].symbol, "O:NVDA261218C00500000");
}

#[test]
fn each_symbol_and_kind_repeats_only_after_sixty_seconds() {
    let cfg = ScriptConfig::default();
    for market in Market::ALL {
        let list = injections(&cfg, market, 1_000_000);
        assert!(list.len() > 200);
        let mut last: HashMap<(String, AnomalyKind), i64> = HashMap::new();
        for i in list {
            if let Some(previous) = last.insert((i.symbol.clone(), i.kind), i.event_time_ms) {
                assert!(i.event_time_ms - previous >= 60_000, "{i:?}");
            }
        }
        assert_eq!(last.len(), 24, "every symbol gets every kind");
    }
}

#[test]
fn trade_times_match_the_schedule_arithmetic() {
    let cfg = ScriptConfig {
        anomaly_start: 100,
        anomaly_every: 200,
        ..ScriptConfig::default()
    };
    for market in Market::ALL {
        for trade in trades(&cfg, market, 5000) {
            assert_eq!(
                trade.time_ms,
                trade_time_ms(&cfg, market, trade.index),
                "{trade:?}"
            );
        }
    }
}

#[test]
fn injected_trades_look_as_documented() {
    let cfg = ScriptConfig::default();
    for market in Market::ALL {
        let all = trades(&cfg, market, 60_000);
        for injection in injections(&cfg, market, 59_000) {
            let at = injection.index as usize;
            let trade = &all[at];
            assert_eq!(trade.symbol, injection.symbol);
            assert_eq!(trade.time_ms, injection.event_time_ms);
            match injection.kind {
                AnomalyKind::VolumeSpike => assert_eq!(trade.size, market.spike_size()),
                AnomalyKind::PriceJump => {
                    let before = all[..at].iter().rev().find(|t| t.symbol == trade.symbol);
                    let ratio = trade.price / before.map_or(f64::NAN, |t| t.price);
                    assert!((1.04..1.06).contains(&ratio), "{ratio}");
                }
                AnomalyKind::TradeBurst => {
                    let burst = &all[at..at + BURST_TRADES as usize];
                    assert!(burst.iter().all(|t| t.symbol == trade.symbol));
                    assert!(burst
                        .windows(2)
                        .all(|w| w[1].time_ms - w[0].time_ms == BURST_STEP_MS));
                    assert_ne!(
                        all[at + BURST_TRADES as usize].time_ms - burst[149].time_ms,
                        BURST_STEP_MS
                    );
                }
                other => panic!("the statistical schedule listed {other:?}"),
            }
        }
    }
}

#[test]
fn normal_trades_stay_in_their_ranges() {
    let cfg = ScriptConfig {
        anomaly_start: u64::MAX,
        ..ScriptConfig::default()
    };
    for market in Market::ALL {
        let all = trades(&cfg, market, 100_000);
        let mut per_symbol: HashMap<&str, usize> = HashMap::new();
        for (k, trade) in all.iter().enumerate() {
            assert_eq!(trade.index, k as u64);
            *per_symbol.entry(trade.symbol).or_default() += 1;
            match market {
                Market::Stocks => {
                    assert!(trade.size % 100 == 0 && (100..=500).contains(&trade.size))
                }
                Market::Options => assert!((1..=10).contains(&trade.size)),
            }
            let start = market
                .instruments()
                .iter()
                .find(|i| i.symbol == trade.symbol)
                .map_or(f64::NAN, |i| i.start_price);
            let drift = trade.price / start;
            assert!(
                (0.96..1.04).contains(&drift),
                "{} drifted to {drift}",
                trade.symbol
            );
            assert_eq!((trade.price * 100.0).round() / 100.0, trade.price);
        }
        assert_eq!(per_symbol.len(), 8);
        assert!(
            per_symbol.values().all(|&n| (11_500..13_500).contains(&n)),
            "{per_symbol:?}"
        );
        let with_conditions = all.iter().filter(|t| !t.conditions.is_empty()).count();
        assert!(with_conditions > 10_000 && with_conditions < 90_000);
    }
}

#[test]
fn about_every_second_trade_is_followed_by_a_quote() {
    let cfg = ScriptConfig::default();
    for market in Market::ALL {
        let all = events(&cfg, market, 30_000);
        let quotes: Vec<_> = all
            .iter()
            .filter_map(|e| match e {
                SimEvent::Quote(q) => Some(q),
                SimEvent::Trade(_) => None,
            })
            .collect();
        let share = quotes.len() as f64 / all.len() as f64;
        assert!((0.30..0.37).contains(&share), "{share}");
        assert!(quotes.iter().all(|q| q.bid < q.ask && q.bid > 0.0));
    }
}

#[test]
fn a_bounded_script_stops_after_its_trades() {
    let cfg = ScriptConfig {
        total_events: Some(10),
        ..ScriptConfig::default()
    };
    let mut script = Script::new(cfg, Market::Stocks);
    let produced: Vec<_> = std::iter::from_fn(|| script.next_event()).collect();
    let trades = produced
        .iter()
        .filter(|e| matches!(e, SimEvent::Trade(_)))
        .count();
    assert_eq!(trades, 10);
    assert_eq!(script.next_event(), None);
    assert_eq!(script.trades_generated(), 10);
}

#[test]
fn the_schedule_guards_against_overlap_and_overflow() {
    let tight = ScriptConfig {
        anomaly_every: 10,
        ..ScriptConfig::default()
    };
    assert_eq!(tight.injection_interval(), BURST_TRADES + 1);
    let never = ScriptConfig {
        anomaly_start: u64::MAX,
        ..ScriptConfig::default()
    };
    assert!(injections(&never, Market::Stocks, u64::MAX).len() <= 1);
    assert!(injections(&never, Market::Stocks, 1_000_000).is_empty());
    assert_eq!(slot(&never, Market::Stocks, 1), None);
}
