//! The detection rules, as pure functions of one trade and a symbol's baseline,
//! and their configuration (the `[detector]` section of the config file).
//!
//! Each rule answers one question with a [`Finding`] or `None`. Warm-up,
//! cooldowns and state updates live in [`crate::symbol_state`]; keeping the
//! rules free of state lets them be tested as plain tables.

use serde::{Deserialize, Serialize};

/// Smallest baseline rate used as a divisor, so a symbol whose rate decayed to
/// zero still gets a finite score.
const RATE_FLOOR: f64 = 1e-6;

/// Share of the mean size below which the size deviation is not trusted: a
/// symbol that always trades the same size has no variance, and dividing by it
/// would turn the smallest change into an infinite z-score.
const STD_FLOOR_OF_MEAN: f64 = 0.01;

/// Settings of the anomaly detector. Every field has a default, so an empty
/// `[detector]` section is valid; unknown keys are rejected to catch typos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Trades a symbol must have seen before any rule may alert on it, so that
    /// baselines are meaningful.
    pub warmup_trades: u32,
    /// After an alert, further alerts of the same kind on the same symbol are
    /// suppressed for this long, in event-time milliseconds, so that one event
    /// yields one alert.
    pub cooldown_ms: u64,
    /// A trade is a volume spike only if its size is at least this multiple of
    /// the symbol's mean trade size.
    pub volume_multiple: f64,
    /// A trade is a volume spike only if its size is also at least this many
    /// standard deviations above the mean size.
    pub volume_z: f64,
    /// Weight of each new trade in the mean and variance of trade size
    /// (exponentially weighted; 0 < alpha ≤ 1).
    pub size_alpha: f64,
    /// A trade is a price jump when its price differs from the symbol's
    /// reference price by at least this many percent.
    pub price_jump_pct: f64,
    /// Weight of each new trade in the reference price (exponentially
    /// weighted; 0 < alpha ≤ 1).
    pub price_alpha: f64,
    /// Length of the event-time windows in which trades are counted for the
    /// trade burst rule, in milliseconds.
    pub burst_window_ms: u64,
    /// A window is a trade burst when its trade count reaches this multiple of
    /// the symbol's usual count per window.
    pub burst_multiple: f64,
    /// A window is a trade burst only if it also holds at least this many
    /// trades, so that quiet symbols do not alert on a handful of trades.
    pub burst_min_trades: u32,
    /// Weight of each closed window in the usual count per window
    /// (exponentially weighted; 0 < alpha ≤ 1).
    pub rate_alpha: f64,
    /// Most symbols (and, separately, most underlyings) with detector state;
    /// the least recently traded is forgotten when a new one arrives.
    pub max_symbols: usize,
    /// Also watch the options flow of each underlying as a whole (volume spike
    /// and trade burst over all its contracts), besides each contract.
    pub track_underlying: bool,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            warmup_trades: 50,
            cooldown_ms: 60_000,
            volume_multiple: 10.0,
            volume_z: 4.0,
            size_alpha: 0.05,
            price_jump_pct: 2.0,
            price_alpha: 0.1,
            burst_window_ms: 1_000,
            burst_multiple: 5.0,
            burst_min_trades: 20,
            rate_alpha: 0.1,
            max_symbols: 200_000,
            track_underlying: true,
        }
    }
}

/// A `[detector]` setting outside its valid range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("detector.{field} must be {requirement}")]
pub struct InvalidDetectorConfig {
    /// The offending key.
    pub field: &'static str,
    /// What the key must be.
    pub requirement: &'static str,
}

const ALPHA: &str = "a number greater than 0 and at most 1";
/// Largest `max_symbols` accepted: the symbol tables are allocated up front,
/// and this is more than every listed US option contract.
pub const MAX_SYMBOLS: usize = 5_000_000;

const POSITIVE: &str = "a number greater than 0";
const NON_NEGATIVE: &str = "a number of at least 0";
const AT_LEAST_ONE: &str = "at least 1";

fn is_alpha(x: f64) -> bool {
    x > 0.0 && x <= 1.0
}

fn is_positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

fn is_non_negative(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

impl DetectorConfig {
    /// Checks every setting; the error names the first one out of range.
    pub fn validate(&self) -> Result<(), InvalidDetectorConfig> {
        let checks = [
            (
                "volume_multiple",
                is_positive(self.volume_multiple),
                POSITIVE,
            ),
            ("volume_z", is_non_negative(self.volume_z), NON_NEGATIVE),
            ("size_alpha", is_alpha(self.size_alpha), ALPHA),
            ("price_jump_pct", is_positive(self.price_jump_pct), POSITIVE),
            ("price_alpha", is_alpha(self.price_alpha), ALPHA),
            ("burst_window_ms", self.burst_window_ms >= 1, AT_LEAST_ONE),
            ("burst_multiple", is_positive(self.burst_multiple), POSITIVE),
            ("rate_alpha", is_alpha(self.rate_alpha), ALPHA),
            (
                "max_symbols",
                (1..=MAX_SYMBOLS).contains(&self.max_symbols),
                "between 1 and 5000000",
            ),
        ];
        match checks.into_iter().find(|(_, ok, _)| !ok) {
            Some((field, _, requirement)) => Err(InvalidDetectorConfig { field, requirement }),
            None => Ok(()),
        }
    }

    /// A copy in which every out-of-range setting is replaced by its default,
    /// so the detector can run (without dividing by zero) whatever it is given.
    pub fn sanitized(&self) -> Self {
        fn keep<T: Copy>(value: &mut T, default: T, ok: impl Fn(T) -> bool) {
            if !ok(*value) {
                *value = default;
            }
        }
        let d = DetectorConfig::default();
        let mut s = self.clone();
        keep(&mut s.volume_multiple, d.volume_multiple, is_positive);
        keep(&mut s.volume_z, d.volume_z, is_non_negative);
        keep(&mut s.size_alpha, d.size_alpha, is_alpha);
        keep(&mut s.price_jump_pct, d.price_jump_pct, is_positive);
        keep(&mut s.price_alpha, d.price_alpha, is_alpha);
        keep(&mut s.burst_window_ms, d.burst_window_ms, |x| x >= 1);
        keep(&mut s.burst_multiple, d.burst_multiple, is_positive);
        keep(&mut s.rate_alpha, d.rate_alpha, is_alpha);
        keep(&mut s.max_symbols, d.max_symbols, |x| {
            (1..=MAX_SYMBOLS).contains(&x)
        });
        s
    }

    /// The cooldown as signed event-time milliseconds, saturating.
    pub fn cooldown_ms_i64(&self) -> i64 {
        i64::try_from(self.cooldown_ms).unwrap_or(i64::MAX)
    }

    /// The burst window as signed milliseconds, at least 1 so it can divide.
    pub fn burst_window_ms_i64(&self) -> i64 {
        i64::try_from(self.burst_window_ms)
            .unwrap_or(i64::MAX)
            .max(1)
    }
}

/// What a rule found: the value it looked at, the baseline it compared it
/// with, and how far out it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finding {
    /// The observed value (trade size, price, trades in the window).
    pub observed: f64,
    /// The baseline (mean size, reference price, usual trades per window).
    pub baseline: f64,
    /// The rule's measure of how unusual it is (z-score, percent move, rate
    /// multiple).
    pub score: f64,
}

/// A trade far larger than usual: at least `volume_multiple` times the mean
/// size and at least `volume_z` standard deviations above it. The score is the
/// z-score; the deviation is floored at 1% of the mean.
pub fn volume_spike(size: f64, mean: f64, variance: f64, cfg: &DetectorConfig) -> Option<Finding> {
    if !(mean > 0.0 && mean.is_finite() && size.is_finite()) || variance.is_nan() {
        return None;
    }
    let std = variance.max(0.0).sqrt().max(mean * STD_FLOOR_OF_MEAN);
    let z = (size - mean) / std;
    (size >= cfg.volume_multiple * mean && z >= cfg.volume_z).then_some(Finding {
        observed: size,
        baseline: mean,
        score: z,
    })
}

/// A price at least `price_jump_pct` percent away from the reference price, in
/// either direction. The score is the absolute move in percent.
pub fn price_jump(price: f64, reference: f64, cfg: &DetectorConfig) -> Option<Finding> {
    if !(reference > 0.0 && reference.is_finite() && price.is_finite()) {
        return None;
    }
    let move_pct = (price - reference).abs() / reference * 100.0;
    (move_pct >= cfg.price_jump_pct).then_some(Finding {
        observed: price,
        baseline: reference,
        score: move_pct,
    })
}

/// A window holding `window_count` trades (the current trade included) when
/// the symbol usually sees `rate` per window: a burst once the count reaches
/// both `burst_multiple` times the rate and `burst_min_trades`. The score is
/// the count over the rate.
pub fn trade_burst(window_count: u32, rate: f64, cfg: &DetectorConfig) -> Option<Finding> {
    if !(rate >= 0.0 && rate.is_finite()) {
        return None;
    }
    let observed = f64::from(window_count);
    let fires = observed >= cfg.burst_multiple * rate && window_count >= cfg.burst_min_trades;
    fires.then(|| Finding {
        observed,
        baseline: rate,
        score: observed / rate.max(RATE_FLOOR),
    })
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
