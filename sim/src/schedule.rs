//! Where the script injects anomalies, and what event time each trade gets.
//!
//! Both are pure functions of [`ScriptConfig`], so a test can list the expected
//! anomalies without running the generator, and the generator follows the same
//! arithmetic.
//!
//! Indices count **trades only**: trade number `k` (from 0) is the `k`-th trade
//! the script emits on a market, whatever quotes come in between. Quotes carry
//! the event time of the trade they follow and never advance the clock.
//!
//! Injection `n` (from 0) starts at trade index
//! `anomaly_start + n * interval`, where `interval` is `anomaly_every` raised to
//! at least `BURST_TRADES + 1` so that a burst never overlaps the next
//! injection. Its kind is `AnomalyKind::STATISTICAL[n % 3]` and its instrument is
//! instrument `n % 8` of the market. Because 3 and 8 are coprime, every
//! (instrument, kind) pair occurs once in each run of 24 injections; with the
//! default spacing that is about 7.5 minutes of event time, far beyond the
//! detector's 60 s cooldown. A much tighter spacing (24 × `anomaly_every` ×
//! `step_ms` under 60 s) would let that cooldown swallow repeats.
//!
//! Event time: trade 0 is at `base_time_ms`; every later trade is `step_ms`
//! after the one before it, except burst trades, which are `BURST_STEP_MS`
//! after theirs (including the burst's first trade).

use tapewatch_actors::messages::AnomalyKind;

use super::instruments::Market;

/// Consecutive trades of one instrument that make up an injected trade burst.
pub const BURST_TRADES: u64 = 150;

/// Event-time step between the trades of a burst, milliseconds.
pub const BURST_STEP_MS: i64 = 3;

/// The relative size of an injected price jump (+5 %).
pub const PRICE_JUMP: f64 = 0.05;

/// What the deterministic script produces, and where it injects anomalies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptConfig {
    /// Seed of the pseudo-random generators. Default 7.
    pub seed: u64,
    /// Event time of the first trade, Unix milliseconds. Default 2026-01-01T00:00:00Z.
    pub base_time_ms: i64,
    /// Event time between consecutive normal trades, milliseconds. Default 10.
    /// Bursts are detectable only while this is well above [`BURST_STEP_MS`].
    pub step_ms: i64,
    /// Trade index of the first injection. Default 3000; `u64::MAX` disables
    /// injections.
    pub anomaly_start: u64,
    /// Trades between the starts of consecutive injections. Default 2000;
    /// values below `BURST_TRADES + 1` are raised to it.
    pub anomaly_every: u64,
    /// Trades after which the script ends (None = endless). The quote that may
    /// follow the last trade is still emitted; the connection then stays open and
    /// idle.
    pub total_events: Option<u64>,
    /// Whether a quote follows about every second trade. Default true. Trades
    /// are identical either way: quotes draw from their own random stream.
    pub quotes: bool,
    /// Whether the options market also injects options flow (premium
    /// whales, sweeps, volume over open interest; see `flow_schedule.rs`).
    /// Default false; the trades are the same either way.
    pub flow: bool,
}

impl Default for ScriptConfig {
    fn default() -> Self {
        ScriptConfig {
            seed: 7,
            base_time_ms: 1_767_225_600_000,
            step_ms: 10,
            anomaly_start: 3000,
            anomaly_every: 2000,
            total_events: None,
            quotes: true,
            flow: false,
        }
    }
}

impl ScriptConfig {
    /// Trades between the starts of consecutive injections, as actually used.
    pub fn injection_interval(&self) -> u64 {
        self.anomaly_every.max(BURST_TRADES + 1)
    }
}

/// One anomaly the script injects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    /// Trade index of the anomalous trade (the first trade, for a burst).
    pub index: u64,
    /// The instrument's ticker.
    pub symbol: String,
    /// Which detector rule should fire.
    pub kind: AnomalyKind,
    /// Event time of the trade at `index`, Unix milliseconds.
    pub event_time_ms: i64,
    /// Event time of the injection's last trade: the 150th trade of a burst,
    /// `event_time_ms` otherwise. A burst rule fires once enough burst trades
    /// have arrived, on some trade between the two times.
    pub end_time_ms: i64,
}

impl Injection {
    /// How many consecutive trades the injection occupies from `index`.
    pub fn trades(&self) -> u64 {
        match self.kind {
            AnomalyKind::TradeBurst => BURST_TRADES,
            AnomalyKind::VolumeSpike | AnomalyKind::PriceJump => 1,
            // Flow injections add events between trades.
            AnomalyKind::Premium | AnomalyKind::Sweep | AnomalyKind::VolumeOverOi => 0,
        }
    }
}

/// Injection `n` of the schedule, before its event time is worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    /// Trade index where the injection starts.
    pub index: u64,
    /// Position of the instrument in [`Market::instruments`].
    pub instrument: usize,
    /// Which anomaly it is.
    pub kind: AnomalyKind,
}

/// Injection `n` of the schedule, or None once its index would overflow.
pub(crate) fn slot(cfg: &ScriptConfig, market: Market, n: u64) -> Option<Slot> {
    let index = n
        .checked_mul(cfg.injection_interval())
        .and_then(|offset| cfg.anomaly_start.checked_add(offset))?;
    let instruments = market.instruments().len() as u64;
    let kinds = AnomalyKind::STATISTICAL.len() as u64;
    Some(Slot {
        index,
        instrument: (n % instruments) as usize,
        kind: AnomalyKind::STATISTICAL[(n % kinds) as usize],
    })
}

/// Event time of trade `index`, following the rules in the module docs.
pub fn trade_time_ms(cfg: &ScriptConfig, market: Market, index: u64) -> i64 {
    let mut burst_trades_so_far: u64 = 0;
    let kinds = AnomalyKind::STATISTICAL.len() as u64;
    // Bursts are the injections whose number n is 2 modulo 3.
    let mut n = 2;
    while let Some(s) = slot(cfg, market, n) {
        if s.index > index {
            break;
        }
        debug_assert_eq!(s.kind, AnomalyKind::TradeBurst);
        // Burst trades at indices 1..=index advance by the burst step; trade 0
        // has no predecessor and sits at the base time.
        let first = s.index.max(1);
        let last = s.index.saturating_add(BURST_TRADES - 1).min(index);
        if last >= first {
            burst_trades_so_far += last - first + 1;
        }
        n += kinds;
    }
    // Trade `index` is `index` steps after trade 0; the burst ones are short.
    let normal = index.saturating_sub(burst_trades_so_far);
    cfg.base_time_ms
        .saturating_add((normal as i64).saturating_mul(cfg.step_ms))
        .saturating_add((burst_trades_so_far as i64).saturating_mul(BURST_STEP_MS))
}

/// Every injection among the first `trades` trades of `market`, in order.
pub fn injections(cfg: &ScriptConfig, market: Market, trades: u64) -> Vec<Injection> {
    let instruments = market.instruments();
    let mut out = Vec::new();
    let mut n = 0;
    while let Some(s) = slot(cfg, market, n) {
        if s.index >= trades {
            break;
        }
        let last_index = match s.kind {
            AnomalyKind::TradeBurst => s.index.saturating_add(BURST_TRADES - 1),
            _ => s.index,
        };
        out.push(Injection {
            index: s.index,
            symbol: instruments[s.instrument].symbol.to_owned(),
            kind: s.kind,
            event_time_ms: trade_time_ms(cfg, market, s.index),
            end_time_ms: trade_time_ms(cfg, market, last_index),
        });
        n += 1;
    }
    out
}
