//! Checks the script against a small model of the detector's default rules:
//! normal trades must never fire, and each injection must fire exactly once.
//!
//! The model follows the documented defaults (warm-up of 50 trades per symbol,
//! volume spike at 10× the EWMA mean size with z ≥ 4, price jump at 2 % from an
//! EWMA reference with α = 0.1, burst at 5× the EWMA per-second rate and at
//! least 20 trades in a one-second event-time window, and a 60 s cooldown per
//! symbol and kind). Where the defaults leave a detail open (the α of the size
//! statistics and of the rate), it picks a common value; the script keeps wide
//! margins on every rule so that such details do not matter.

use std::collections::HashMap;

use tapewatch_actors::messages::AnomalyKind;

use super::script_tests::trades;
use super::{injections, Market, ScriptConfig, SimTrade};

const WARM_UP: u64 = 50;
const SIZE_ALPHA: f64 = 0.05;
const PRICE_ALPHA: f64 = 0.1;
const RATE_ALPHA: f64 = 0.1;
const COOLDOWN_MS: i64 = 60_000;

#[derive(Default)]
struct SymbolModel {
    trades: u64,
    size_mean: f64,
    size_var: f64,
    price_ref: f64,
    window_start_ms: i64,
    window_count: f64,
    rate: Option<f64>,
    last_alert: HashMap<AnomalyKind, i64>,
}

impl SymbolModel {
    /// Feeds one trade and returns the kinds that fire on it.
    fn observe(&mut self, trade: &SimTrade) -> Vec<AnomalyKind> {
        let mut fired = Vec::new();
        let size = trade.size as f64;
        let (t, price) = (trade.time_ms, trade.price);
        if self.trades == 0 {
            self.size_mean = size;
            self.price_ref = price;
            self.window_start_ms = t;
        }
        // Tumbling one-second windows: a finished window feeds the rate, and
        // empty seconds in between count as zero.
        while t >= self.window_start_ms + 1000 {
            self.rate = Some(match self.rate {
                None => self.window_count,
                Some(r) => r + RATE_ALPHA * (self.window_count - r),
            });
            self.window_count = 0.0;
            self.window_start_ms += 1000;
        }
        self.window_count += 1.0;
        if self.trades >= WARM_UP {
            let z = (size - self.size_mean) / self.size_var.sqrt().max(1e-9);
            if size >= 10.0 * self.size_mean && z >= 4.0 {
                fired.push(AnomalyKind::VolumeSpike);
            }
            if (price / self.price_ref - 1.0).abs() >= 0.02 {
                fired.push(AnomalyKind::PriceJump);
            }
            let rate = self.rate.unwrap_or(f64::INFINITY);
            if self.window_count >= 20.0 && self.window_count >= 5.0 * rate {
                fired.push(AnomalyKind::TradeBurst);
            }
        }
        fired.retain(|kind| match self.last_alert.get(kind) {
            Some(&at) if t - at < COOLDOWN_MS => false,
            _ => {
                self.last_alert.insert(*kind, t);
                true
            }
        });
        let delta = size - self.size_mean;
        self.size_mean += SIZE_ALPHA * delta;
        self.size_var = (1.0 - SIZE_ALPHA) * (self.size_var + SIZE_ALPHA * delta * delta);
        self.price_ref += PRICE_ALPHA * (price - self.price_ref);
        self.trades += 1;
        fired
    }
}

/// Every (index, symbol, kind) the model fires on.
fn alerts(cfg: &ScriptConfig, market: Market, count: usize) -> Vec<(u64, String, AnomalyKind)> {
    let mut models: HashMap<&str, SymbolModel> = HashMap::new();
    let mut out = Vec::new();
    for trade in trades(cfg, market, count) {
        let model = models.entry(trade.symbol).or_default();
        for kind in model.observe(&trade) {
            out.push((trade.index, trade.symbol.to_owned(), kind));
        }
    }
    out
}

/// Checks that every alert belongs to one injection (same symbol and kind, on
/// one of the injection's trades) and every injection has exactly one alert.
fn assert_one_alert_per_injection(cfg: &ScriptConfig, market: Market, count: usize) {
    let expected = injections(cfg, market, count as u64);
    assert!(expected.len() as u64 >= (count as u64 - cfg.anomaly_start) / cfg.anomaly_every);
    let mut fired = alerts(cfg, market, count).into_iter();
    for injection in &expected {
        let alert = fired.next();
        let Some((index, symbol, kind)) = alert.clone() else {
            panic!("{market}: no alert for {injection:?}");
        };
        let span = injection.index..injection.index + injection.trades();
        assert!(
            symbol == injection.symbol && kind == injection.kind && span.contains(&index),
            "{market}: alert {alert:?} does not match {injection:?}"
        );
    }
    let extra: Vec<_> = fired.collect();
    assert!(
        extra.is_empty(),
        "{market}: alerts without injection: {extra:?}"
    );
}

#[test]
fn the_model_fires_exactly_once_per_injection_and_never_otherwise() {
    for market in Market::ALL {
        assert_one_alert_per_injection(&ScriptConfig::default(), market, 150_000);
    }
}

#[test]
fn other_seeds_behave_the_same() {
    for seed in [1, 42, 9_999] {
        let cfg = ScriptConfig {
            seed,
            ..ScriptConfig::default()
        };
        for market in Market::ALL {
            assert_one_alert_per_injection(&cfg, market, 50_000);
        }
    }
}

#[test]
fn normal_trading_never_fires() {
    let cfg = ScriptConfig {
        anomaly_start: u64::MAX,
        ..ScriptConfig::default()
    };
    for market in Market::ALL {
        assert_eq!(alerts(&cfg, market, 200_000), vec![], "{market}");
    }
}
