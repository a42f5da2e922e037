//! The `[detector]` section of the configuration: every rule's settings, the
//! size of the state tables, and the per-group overrides.

use serde::{Deserialize, Serialize};

use super::groups::GroupConfig;

/// Settings of the anomaly detector. Every field has a default, so an empty
/// `[detector]` section is valid; unknown keys are rejected to catch typos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Trades a symbol must have seen before any statistical rule may alert
    /// on it, so that baselines are meaningful.
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
    /// Premium rule: an option print whose premium (price × size × shares per
    /// contract) reaches this many dollars is a whale trade.
    pub premium_min: f64,
    /// Sweep rule: prints of one contract in one direction on at least this
    /// many distinct exchanges ...
    pub sweep_min_exchanges: u32,
    /// ... within this many milliseconds of event time from the first ...
    pub sweep_window_ms: u64,
    /// ... with at least this combined premium, in dollars.
    pub sweep_premium_min: f64,
    /// Volume over open interest rule: a contract alerts once a day when its
    /// volume today exceeds this multiple of its open interest.
    pub oi_multiple: f64,
    /// Contracts traded today before the contract's open interest is fetched
    /// over REST: below it, volume over open interest is not worth a request.
    pub oi_min_volume: u32,
    /// A quote older than this (event time) no longer tells a print's side.
    pub quote_max_age_ms: u64,
    /// Most option contracts with options-flow state (latest quote, sweep in
    /// progress, volume today, open interest); the least recently active is
    /// forgotten first.
    pub max_active_contracts: usize,
    /// Groups of symbols with their own settings, first match wins.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupConfig>,
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
            premium_min: 1_000_000.0,
            sweep_min_exchanges: 3,
            sweep_window_ms: 500,
            sweep_premium_min: 250_000.0,
            oi_multiple: 1.0,
            oi_min_volume: 500,
            quote_max_age_ms: 5_000,
            max_active_contracts: 100_000,
            groups: Vec::new(),
        }
    }
}

/// A `[detector]` setting outside its valid range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("detector.{field} must be {requirement}")]
pub struct InvalidDetectorConfig {
    /// The offending key, below `detector.` (`premium_min`,
    /// `groups[0].settings.premium_min`).
    pub field: String,
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
const TABLE_SIZE: &str = "between 1 and 5000000";
const EXCHANGES: &str = "between 2 and 64";

fn is_alpha(x: f64) -> bool {
    x > 0.0 && x <= 1.0
}

fn is_positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

fn is_non_negative(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

fn is_table_size(x: usize) -> bool {
    (1..=MAX_SYMBOLS).contains(&x)
}

fn is_exchange_count(x: u32) -> bool {
    (2..=64).contains(&x)
}

impl DetectorConfig {
    /// Checks every setting, then resolves every group; the error names the
    /// first key out of range.
    pub fn validate(&self) -> Result<(), InvalidDetectorConfig> {
        self.validate_own()?;
        super::groups::Groups::resolve(self).map(|_| ())
    }

    /// Checks this section's own values, not its groups.
    pub(super) fn validate_own(&self) -> Result<(), InvalidDetectorConfig> {
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
            ("max_symbols", is_table_size(self.max_symbols), TABLE_SIZE),
            ("premium_min", is_positive(self.premium_min), POSITIVE),
            (
                "sweep_min_exchanges",
                is_exchange_count(self.sweep_min_exchanges),
                EXCHANGES,
            ),
            ("sweep_window_ms", self.sweep_window_ms >= 1, AT_LEAST_ONE),
            (
                "sweep_premium_min",
                is_non_negative(self.sweep_premium_min),
                NON_NEGATIVE,
            ),
            ("oi_multiple", is_positive(self.oi_multiple), POSITIVE),
            (
                "max_active_contracts",
                is_table_size(self.max_active_contracts),
                TABLE_SIZE,
            ),
        ];
        match checks.into_iter().find(|(_, ok, _)| !ok) {
            Some((field, _, requirement)) => Err(InvalidDetectorConfig {
                field: field.to_owned(),
                requirement,
            }),
            None => Ok(()),
        }
    }

    /// A copy in which every out-of-range setting is replaced by its default,
    /// so the detector can run (without dividing by zero) whatever it is given.
    /// Groups are kept as they are; [`super::groups::Groups::resolve`] drops
    /// them when they do not resolve.
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
        keep(&mut s.max_symbols, d.max_symbols, is_table_size);
        keep(&mut s.premium_min, d.premium_min, is_positive);
        keep(
            &mut s.sweep_min_exchanges,
            d.sweep_min_exchanges,
            is_exchange_count,
        );
        keep(&mut s.sweep_window_ms, d.sweep_window_ms, |x| x >= 1);
        keep(
            &mut s.sweep_premium_min,
            d.sweep_premium_min,
            is_non_negative,
        );
        keep(&mut s.oi_multiple, d.oi_multiple, is_positive);
        keep(
            &mut s.max_active_contracts,
            d.max_active_contracts,
            is_table_size,
        );
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

    /// The sweep window as signed milliseconds, saturating.
    pub fn sweep_window_ms_i64(&self) -> i64 {
        i64::try_from(self.sweep_window_ms).unwrap_or(i64::MAX)
    }

    /// The quote age limit as signed milliseconds, saturating.
    pub fn quote_max_age_ms_i64(&self) -> i64 {
        i64::try_from(self.quote_max_age_ms).unwrap_or(i64::MAX)
    }
}
