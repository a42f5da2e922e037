//! The `[nats]` section: where alerts and enrichments are published.

use serde::{Deserialize, Serialize};

/// The JetStream stream that holds alerts and enrichments.
pub const ALERTS_STREAM: &str = "TAPEWATCH_ALERTS";
/// The JetStream stream that holds decoded events, by partition.
pub const EVENTS_STREAM: &str = "TAPEWATCH_EVENTS";
/// Subject of every alert.
pub const ALERTS_SUBJECT: &str = "tapewatch.alerts";
/// Subject of every enrichment.
pub const ENRICHMENTS_SUBJECT: &str = "tapewatch.enrichments";

/// Publishing to NATS JetStream (off unless `url` is set).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NatsConfig {
    /// Server URL, e.g. `nats://127.0.0.1:4222`; unset: nothing is published.
    pub url: Option<String>,
    /// How long JetStream drops a republished alert with the same id, seconds.
    pub duplicate_window_secs: u64,
    /// Publishes awaiting their acknowledgement at most; beyond it records
    /// wait in a bounded backlog.
    pub max_inflight: usize,
    /// Records waiting while NATS is slow or unreachable; beyond it they are
    /// shed and counted in `tapewatch_dropped_total{stage="nats"}`.
    pub backlog: usize,
    /// Deadline of each connection attempt, stream creation and publish, ms.
    pub timeout_ms: u64,
    /// Set by `tapewatch ingest --partitions N`: the pipeline publishes its
    /// decoded events in N partitions and detects nothing itself.
    #[serde(skip)]
    pub ingest_partitions: Option<u32>,
    /// Set by `tapewatch worker`: the pipeline reads this partition of the
    /// events from JetStream instead of reading feeds.
    #[serde(skip)]
    pub worker: Option<super::source::WorkerPartition>,
}

impl Default for NatsConfig {
    fn default() -> Self {
        NatsConfig {
            url: None,
            duplicate_window_secs: 600,
            max_inflight: 256,
            backlog: 10_000,
            timeout_ms: 5_000,
            ingest_partitions: None,
            worker: None,
        }
    }
}

impl NatsConfig {
    /// Why these values cannot work, if they cannot.
    pub fn problem(&self) -> Option<&'static str> {
        if self.max_inflight == 0 {
            Some("max_inflight must be at least 1")
        } else if self.backlog == 0 {
            Some("backlog must be at least 1")
        } else if self.timeout_ms == 0 {
            Some("timeout_ms must be at least 1")
        } else if self.ingest_partitions == Some(0) {
            Some("partitions must be at least 1")
        } else if self.worker.is_some_and(|w| w.index >= w.of) {
            Some("the partition must be below the number of partitions")
        } else if self.duplicate_window_secs == 0 {
            Some("duplicate_window_secs must be at least 1")
        } else {
            None
        }
    }
}
