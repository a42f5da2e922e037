//! Typed messages exchanged by the pipeline actors.
//!
//! Frames and event batches flow downstream once per WebSocket frame, never once
//! per event. Alerts, enrichments and status records reach every sink and
//! subscriber as one [`Output`] message holding an `Arc`, so fan-out copies a
//! pointer, not the record.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use actix::Message;
use bytes::Bytes;
use serde::Serialize;

use crate::events::{AssetClass, Event, Symbol};

mod flow;

pub use flow::{ContractSnapshot, FlowDetails, SnapshotRequest};

/// One text frame exactly as the provider sent it. WsSession → MessageHandler.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct RawFrame {
    /// The frame's bytes (UTF-8 JSON for Polygon).
    pub bytes: Bytes,
    /// When the last byte of the frame was read.
    pub received_at: Instant,
}

/// The events decoded from one frame.
#[derive(Debug)]
pub struct EventBatch {
    /// Name of the feed the frame came from.
    pub feed: Arc<str>,
    /// When the frame was read off the socket.
    pub received_at: Instant,
    /// The frame's events, in wire order.
    pub events: Vec<Event>,
}

/// A decoded batch, shared by every recipient. MessageHandler → AnomalyDetector
/// and any subscribed actor.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct Events(pub Arc<EventBatch>);

/// What kind of anomaly a rule found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// A trade far larger than the symbol's running baseline.
    VolumeSpike,
    /// A price far from the symbol's recent reference price.
    PriceJump,
    /// Far more trades per second than the symbol's baseline rate.
    TradeBurst,
    /// One option print with a premium over `premium_min`.
    Premium,
    /// One contract swept across exchanges within a short window.
    Sweep,
    /// A contract's volume today over a multiple of its open interest.
    VolumeOverOi,
}

impl AnomalyKind {
    /// Every kind, in label order.
    pub const ALL: [AnomalyKind; 6] = [
        AnomalyKind::VolumeSpike,
        AnomalyKind::PriceJump,
        AnomalyKind::TradeBurst,
        AnomalyKind::Premium,
        AnomalyKind::Sweep,
        AnomalyKind::VolumeOverOi,
    ];

    /// The statistical kinds, judged against each symbol's own baseline.
    pub const STATISTICAL: [AnomalyKind; 3] = [
        AnomalyKind::VolumeSpike,
        AnomalyKind::PriceJump,
        AnomalyKind::TradeBurst,
    ];

    /// The stable name used in output and metrics.
    pub fn label(self) -> &'static str {
        match self {
            AnomalyKind::VolumeSpike => "volume_spike",
            AnomalyKind::PriceJump => "price_jump",
            AnomalyKind::TradeBurst => "trade_burst",
            AnomalyKind::Premium => "premium",
            AnomalyKind::Sweep => "sweep",
            AnomalyKind::VolumeOverOi => "volume_over_oi",
        }
    }
}

/// Whether an anomaly concerns one ticker or the options flow of an underlying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The ticker itself (a stock or one option contract).
    Symbol,
    /// All option contracts of one underlying taken together.
    Underlying,
}

/// One detected anomaly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    /// Unique within the process, increasing.
    pub id: u64,
    /// The ticker (or the underlying, for [`Scope::Underlying`]).
    pub symbol: Symbol,
    /// For option contracts, the underlying parsed from the ticker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub underlying: Option<Symbol>,
    /// Asset class of `symbol`'s trades.
    pub class: AssetClass,
    /// What the anomaly is about.
    pub scope: Scope,
    /// Which rule fired.
    pub kind: AnomalyKind,
    /// The rule's name, the label of `kind`.
    pub rule: &'static str,
    /// The value the rule looked at (trade size, price, trades per second,
    /// premium, combined premium, volume today).
    pub observed: f64,
    /// The baseline or threshold it was compared with.
    pub baseline: f64,
    /// How far out it is (z-score, relative move, rate multiple, or observed
    /// over threshold, by rule).
    pub score: f64,
    /// The settings that decided, by their `[detector]` key (after the
    /// symbol's group is applied).
    pub thresholds: BTreeMap<&'static str, f64>,
    /// One line a person reads.
    pub explanation: String,
    /// What an options-flow rule looked at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<Box<FlowDetails>>,
    /// Price of the trade that triggered the alert.
    pub price: f64,
    /// Size of the trade that triggered the alert.
    pub size: f64,
    /// Event time of that trade, Unix milliseconds.
    pub event_time_ms: i64,
    /// When tapewatch detected it, Unix milliseconds.
    pub detected_at_ms: i64,
    /// Feed the trade arrived on.
    pub feed: Arc<str>,
    /// When the frame holding the trade was read, for latency measurement.
    #[serde(skip)]
    pub received_at: Option<Instant>,
}

/// Asks RestFetcher to enrich an alert. AnomalyDetector → RestFetcher.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct EnrichRequest(pub Arc<Anomaly>);

/// How an enrichment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrichStatus {
    /// Details were fetched (or served from the cache).
    Ok,
    /// The provider answered with an error, or retries were exhausted.
    Failed,
    /// Not attempted: the queue was full, or no REST access is configured.
    Skipped,
    /// The request did not complete within its deadline.
    Timeout,
}

impl EnrichStatus {
    /// Every status, in label order.
    pub const ALL: [EnrichStatus; 4] = [
        EnrichStatus::Ok,
        EnrichStatus::Failed,
        EnrichStatus::Skipped,
        EnrichStatus::Timeout,
    ];

    /// The stable name used in output and metrics.
    pub fn label(self) -> &'static str {
        match self {
            EnrichStatus::Ok => "ok",
            EnrichStatus::Failed => "failed",
            EnrichStatus::Skipped => "skipped",
            EnrichStatus::Timeout => "timeout",
        }
    }
}

/// The follow-up to an alert: reference data about its ticker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enrichment {
    /// The alert this belongs to.
    pub alert_id: u64,
    /// The ticker that was looked up.
    pub symbol: Symbol,
    /// How it ended.
    pub status: EnrichStatus,
    /// The provider's `results` object when `status` is `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
    /// Why it failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// True when served from the cache.
    pub cached: bool,
    /// Time from request to answer, milliseconds.
    pub latency_ms: u64,
}

/// A connection event that downstream users must know about (connected, gap).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusRecord {
    /// Feed name.
    pub feed: Arc<str>,
    /// What happened (`connected`, `disconnected`, `reconnected`, `auth_failed`, ...).
    pub state: String,
    /// Human-readable detail.
    pub message: String,
    /// When the record was made, Unix milliseconds.
    pub at_ms: i64,
    /// Start of a possible data gap, Unix milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap_from_ms: Option<i64>,
    /// End of a possible data gap, Unix milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap_to_ms: Option<i64>,
}

/// Everything the sinks receive, tagged by `type` when serialised.
#[derive(Message, Debug, Clone, Serialize)]
#[rtype(result = "()")]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Output {
    /// An anomaly, written at once.
    Alert(Arc<Anomaly>),
    /// The enrichment of an earlier alert.
    Enrichment(Arc<Enrichment>),
    /// A connection event.
    Status(Arc<StatusRecord>),
}

/// A failure the pipeline cannot recover from by itself (a rejected key, an
/// actor that keeps dying). Whoever runs the pipeline stops it.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct Fatal {
    /// What failed: a feed name or an actor name.
    pub component: Arc<str>,
    /// Why, in words a person can act on.
    pub reason: String,
}

/// Makes the receiving actor panic. Every pipeline actor handles it, so
/// supervision can be drilled: tests and chaos runs use it to prove that a dead
/// actor is noticed, restarted and counted.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Crash;

/// Wall-clock now in Unix milliseconds.
pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_serialise_with_a_type_tag() {
        let e = Output::Enrichment(Arc::new(Enrichment {
            alert_id: 7,
            symbol: "NVDA".into(),
            status: EnrichStatus::Ok,
            details: Some(serde_json::json!({"name": "NVIDIA"})),
            error: None,
            cached: false,
            latency_ms: 3,
        }));
        let v: serde_json::Value = serde_json::to_value(&e).expect("serialises");
        assert_eq!(v["type"], "enrichment");
        assert_eq!(v["alert_id"], 7);
        assert_eq!(v["status"], "ok");
        assert_eq!(v["details"]["name"], "NVIDIA");
        assert!(v.get("error").is_none());
    }
}
