//! The human-readable line format used by `tapewatch demo`.

use tapewatch_actors::messages::{Anomaly, AnomalyKind, EnrichStatus, Enrichment, Output, Scope};

/// One readable line per alert, enrichment and status record.
pub fn line(output: &Output) -> Option<String> {
    Some(match output {
        Output::Alert(a) => alert(a),
        Output::Enrichment(e) => enrichment(e),
        Output::Status(s) => format!("STATUS  {} {}: {}", s.feed, s.state, s.message),
    })
}

fn alert(a: &Anomaly) -> String {
    let scope = match a.scope {
        Scope::Symbol => String::new(),
        Scope::Underlying => " (options flow)".to_owned(),
    };
    let what = match a.kind {
        AnomalyKind::VolumeSpike => format!(
            "size {} vs baseline {:.0} (z {:.1})",
            a.observed, a.baseline, a.score
        ),
        AnomalyKind::PriceJump => format!(
            "price {:.2} vs reference {:.2} ({:+.1}%)",
            a.observed,
            a.baseline,
            (a.observed / a.baseline - 1.0) * 100.0
        ),
        AnomalyKind::TradeBurst => format!(
            "{} trades/window vs baseline {:.1} ({:.1}x)",
            a.observed, a.baseline, a.score
        ),
        // The options-flow rules explain themselves in a sentence.
        AnomalyKind::Premium | AnomalyKind::Sweep | AnomalyKind::VolumeOverOi => {
            a.explanation.clone()
        }
    };
    format!(
        "ALERT   #{:<4} {:<12} {}{} {}",
        a.id,
        a.kind.label(),
        a.symbol,
        scope,
        what
    )
}

fn enrichment(e: &Enrichment) -> String {
    let detail = match (&e.status, &e.details) {
        (EnrichStatus::Ok, Some(d)) if d.get("contract_type").is_some() => format!(
            "{} {} strike {} expires {} on {}",
            d["ticker"].as_str().unwrap_or("?"),
            d["contract_type"].as_str().unwrap_or("?"),
            d["strike_price"],
            d["expiration_date"].as_str().unwrap_or("?"),
            d["underlying_ticker"].as_str().unwrap_or("?"),
        ),
        (EnrichStatus::Ok, Some(d)) => format!(
            "{} {} ({})",
            d["ticker"].as_str().unwrap_or("?"),
            d["name"].as_str().unwrap_or("?"),
            d["primary_exchange"].as_str().unwrap_or("?"),
        ),
        _ => e.error.clone().unwrap_or_default(),
    };
    let cached = if e.cached { ", cached" } else { "" };
    format!(
        "  ENRICH #{:<4} {:<7} {} ({} ms{})",
        e.alert_id,
        e.status.label(),
        detail,
        e.latency_ms,
        cached
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tapewatch_actors::events::AssetClass;

    use super::*;

    #[test]
    fn options_flow_alerts_show_their_explanation() {
        let explanation = "$1.1 M of META 400C 2026-12-18 bought at the ask in one print";
        let alert = Anomaly {
            id: 4,
            symbol: "O:META261218C00400000".into(),
            underlying: Some("META".into()),
            class: AssetClass::Option,
            scope: Scope::Symbol,
            kind: AnomalyKind::Premium,
            rule: "premium",
            observed: 1.06e6,
            baseline: 1e6,
            score: 1.06,
            thresholds: [("premium_min", 1e6)].into(),
            explanation: explanation.into(),
            flow: None,
            price: 265.0,
            size: 40.0,
            event_time_ms: 0,
            detected_at_ms: 0,
            feed: Arc::from("options"),
            received_at: None,
        };
        let shown = line(&Output::Alert(Arc::new(alert))).expect("a line");
        assert_eq!(
            shown,
            format!("ALERT   #4    premium      O:META261218C00400000 {explanation}")
        );
    }
}
