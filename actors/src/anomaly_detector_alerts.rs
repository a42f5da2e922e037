//! How findings become alerts: the fields every alert carries (rule,
//! thresholds, a one-line explanation) and, for the options-flow rules, the
//! inputs they looked at. Only an alert allocates, so all of this is off the
//! per-trade path.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use super::flow::day_of;
use super::AnomalyDetector;
use crate::calendar::days_from_civil;
use crate::events::{Symbol, Trade};
use crate::messages::{unix_ms, Anomaly, AnomalyKind, EventBatch, FlowDetails, Scope};
use crate::option_ticker::{OptionRight, OptionTicker};
use crate::rules::registry;
use crate::rules::rule::{FlowFinding, Moneyness};
use crate::rules::{DetectorConfig, Finding};

/// An alert of a statistical rule on `trade`, about `symbol` in `scope`, not
/// yet numbered.
pub(super) fn statistical_alert(
    kind: AnomalyKind,
    finding: Finding,
    trade: &Trade,
    batch: &EventBatch,
    cfg: &DetectorConfig,
    (symbol, scope): (&Symbol, Scope),
) -> Anomaly {
    let thresholds: BTreeMap<&'static str, f64> = match kind {
        AnomalyKind::VolumeSpike => [
            ("volume_multiple", cfg.volume_multiple),
            ("volume_z", cfg.volume_z),
        ]
        .into(),
        AnomalyKind::PriceJump => [("price_jump_pct", cfg.price_jump_pct)].into(),
        _ => [
            ("burst_multiple", cfg.burst_multiple),
            ("burst_min_trades", f64::from(cfg.burst_min_trades)),
            ("burst_window_ms", cfg.burst_window_ms as f64),
        ]
        .into(),
    };
    let who = match scope {
        Scope::Symbol => symbol.to_string(),
        Scope::Underlying => format!("{symbol} options"),
    };
    let (observed, baseline) = (finding.observed, finding.baseline);
    let explanation = match kind {
        AnomalyKind::VolumeSpike => format!(
            "{who} traded {observed} at once, {:.1}x its usual size of {baseline:.1} (z {:.1})",
            observed / baseline,
            finding.score
        ),
        AnomalyKind::PriceJump => format!(
            "{who} traded at {observed:.2}, {:+.1}% from its reference of {baseline:.2}",
            (observed / baseline - 1.0) * 100.0
        ),
        _ => format!(
            "{who} printed {observed} trades in one {} ms window, {:.1}x its usual {baseline:.1}",
            cfg.burst_window_ms, finding.score
        ),
    };
    Anomaly {
        id: 0,
        symbol: symbol.clone(),
        underlying: None,
        class: trade.class,
        scope,
        kind,
        rule: kind.label(),
        observed,
        baseline,
        score: finding.score,
        thresholds,
        explanation,
        flow: None,
        price: trade.price,
        size: trade.size,
        event_time_ms: trade.time_ms,
        detected_at_ms: unix_ms(),
        feed: batch.feed.clone(),
        received_at: Some(batch.received_at),
    }
}

impl AnomalyDetector {
    /// An alert of an options-flow rule on `trade`, not yet numbered.
    pub(super) fn flow_alert(
        &self,
        kind: AnomalyKind,
        finding: &FlowFinding,
        trade: &Trade,
        contract: &OptionTicker,
        shares_per_contract: f64,
        (feed, received_at): (&Arc<str>, Option<Instant>),
    ) -> Anomaly {
        let spot = (self.symbols.peek(contract.underlying)).and_then(|s| s.last_price());
        let moneyness = spot.and_then(|s| Moneyness::of(contract.right, contract.strike, s));
        let e = contract.expiry;
        let expiry_day = days_from_civil(i32::from(e.year), e.month.into(), e.day.into());
        let days_to_expiry = expiry_day - i64::from(day_of(trade.time_ms));
        let mut explanation = registry::explain(kind, finding, contract).unwrap_or_default();
        let money = match moneyness {
            Some(Moneyness::Itm) => "in the money, ",
            Some(Moneyness::Atm) => "at the money, ",
            Some(Moneyness::Otm) => "out of the money, ",
            None => "",
        };
        explanation.push_str(&format!("; {money}{days_to_expiry} days to expiry"));
        let flow = FlowDetails {
            premium: finding.premium,
            side: finding.side,
            moneyness,
            underlying_price: spot,
            right: match contract.right {
                OptionRight::Call => "call",
                OptionRight::Put => "put",
            },
            strike: contract.strike,
            expiry: format!("{:04}-{:02}-{:02}", e.year, e.month, e.day),
            days_to_expiry,
            shares_per_contract,
            exchanges: finding.exchanges,
            prints: finding.prints,
            span_ms: finding.span_ms,
            iso: finding.iso,
            volume_today: finding.volume,
            open_interest: finding.open_interest,
        };
        Anomaly {
            id: 0,
            symbol: trade.symbol.clone(),
            underlying: Some(Symbol::new(contract.underlying)),
            class: trade.class,
            scope: Scope::Symbol,
            kind,
            rule: kind.label(),
            observed: finding.observed,
            baseline: finding.threshold,
            score: finding.score,
            thresholds: finding.thresholds.iter().copied().collect(),
            explanation,
            flow: Some(Box::new(flow)),
            price: trade.price,
            size: trade.size,
            event_time_ms: trade.time_ms,
            detected_at_ms: unix_ms(),
            feed: feed.clone(),
            received_at,
        }
    }
}
