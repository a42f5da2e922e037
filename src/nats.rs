//! NATS JetStream output: alerts and enrichments published for other programs.
//!
//! Every alert goes to the subject [`ALERTS_SUBJECT`] and every enrichment to
//! [`ENRICHMENTS_SUBJECT`], in the stream [`ALERTS_STREAM`] (created when
//! missing), each message the same JSON object as the JSONL line. Each carries
//! a `Nats-Msg-Id` derived from the alert itself ([`alert_msg_id`]), not from
//! anything local to the process, so an alert raised again (a restarted
//! process reading the same trades) is a duplicate that JetStream drops within
//! the stream's duplicate window.
//!
//! `tapewatch ingest` publishes decoded events instead, one message per frame
//! and partition ([`wire`]), to `tapewatch.events.<partition>` in the stream
//! [`EVENTS_STREAM`] ([`partition`] tells which).

mod config;
mod ingest;
mod metrics;
pub mod partition;
mod publisher;
mod source;
pub mod wire;

pub use config::{NatsConfig, ALERTS_STREAM, ALERTS_SUBJECT, ENRICHMENTS_SUBJECT, EVENTS_STREAM};
pub use metrics::NatsMetrics;
pub use publisher::NatsPublisher;
pub use source::{NatsSource, SourceDeps, WorkerPartition};

use tapewatch_actors::messages::Anomaly;

/// The `Nats-Msg-Id` of an alert: feed, symbol, rule, scope and the event
/// time of the trade that raised it, joined by `:`. Two processes that see
/// the same trades give their alerts the same ids.
pub fn alert_msg_id(alert: &Anomaly) -> String {
    format!(
        "alert:{}:{}:{}:{}:{}",
        alert.feed,
        alert.symbol,
        alert.kind.label(),
        scope_label(alert),
        alert.event_time_ms
    )
}

/// The `Nats-Msg-Id` of the enrichment of the alert whose id is `alert_id`.
pub fn enrichment_msg_id(alert_id: &str) -> String {
    match alert_id.strip_prefix("alert:") {
        Some(rest) => format!("enrichment:{rest}"),
        None => format!("enrichment:{alert_id}"),
    }
}

fn scope_label(alert: &Anomaly) -> &'static str {
    match alert.scope {
        tapewatch_actors::messages::Scope::Symbol => "symbol",
        tapewatch_actors::messages::Scope::Underlying => "underlying",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tapewatch_actors::events::AssetClass;
    use tapewatch_actors::messages::{AnomalyKind, Scope};

    use super::*;

    fn alert(id: u64, scope: Scope, kind: AnomalyKind, time: i64) -> Anomaly {
        Anomaly {
            id,
            symbol: "AAPL".into(),
            underlying: None,
            class: AssetClass::Stock,
            scope,
            kind,
            rule: kind.label(),
            thresholds: Default::default(),
            explanation: String::new(),
            flow: None,
            observed: 1.0,
            baseline: 1.0,
            score: 1.0,
            price: 1.0,
            size: 1.0,
            event_time_ms: time,
            detected_at_ms: id as i64,
            feed: Arc::from("stocks"),
            received_at: None,
        }
    }

    #[test]
    fn ids_depend_on_the_alert_not_on_the_process() {
        let cases = [
            (
                alert(1, Scope::Symbol, AnomalyKind::VolumeSpike, 5),
                "alert:stocks:AAPL:volume_spike:symbol:5",
            ),
            (
                alert(99, Scope::Symbol, AnomalyKind::VolumeSpike, 5),
                "alert:stocks:AAPL:volume_spike:symbol:5",
            ),
            (
                alert(2, Scope::Underlying, AnomalyKind::TradeBurst, 7),
                "alert:stocks:AAPL:trade_burst:underlying:7",
            ),
        ];
        for (alert, want) in cases {
            assert_eq!(alert_msg_id(&alert), want);
        }
        assert_eq!(
            enrichment_msg_id("alert:stocks:AAPL:price_jump:symbol:9"),
            "enrichment:stocks:AAPL:price_jump:symbol:9"
        );
    }
}
