//! The publisher's metrics beside the pipeline's own.

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts};
use tapewatch_actors::metrics::Metrics;

use super::{ALERTS_SUBJECT, ENRICHMENTS_SUBJECT};

/// The publisher's metrics, registered once per pipeline.
#[derive(Clone)]
pub struct NatsMetrics {
    /// `tapewatch_nats_published_total{subject}`: acknowledged by JetStream
    /// (duplicates included).
    pub published: IntCounterVec,
    /// `tapewatch_nats_duplicates_total`: publishes JetStream dropped as duplicates.
    pub duplicates: IntCounter,
    /// `tapewatch_nats_ready`: 1 once the stream exists and the last publish
    /// succeeded.
    pub ready: IntGauge,
    /// `tapewatch_nats_pending`: publishes in flight plus the backlog.
    pub pending: IntGauge,
    pub(super) dropped: IntCounter,
}

impl NatsMetrics {
    /// Registers the metrics in the pipeline's registry.
    pub fn new(metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let published = IntCounterVec::new(
            Opts::new(
                "tapewatch_nats_published_total",
                "Records acknowledged by JetStream, by subject.",
            ),
            &["subject"],
        )?;
        let duplicates = IntCounter::new(
            "tapewatch_nats_duplicates_total",
            "Publishes JetStream dropped as duplicates of an earlier message id.",
        )?;
        let ready = IntGauge::new(
            "tapewatch_nats_ready",
            "1 while the alerts stream exists and publishing succeeds.",
        )?;
        let pending = IntGauge::new(
            "tapewatch_nats_pending",
            "Publishes awaiting acknowledgement plus records in the backlog.",
        )?;
        metrics.registry.register(Box::new(published.clone()))?;
        metrics.registry.register(Box::new(duplicates.clone()))?;
        metrics.registry.register(Box::new(ready.clone()))?;
        metrics.registry.register(Box::new(pending.clone()))?;
        for subject in [ALERTS_SUBJECT, ENRICHMENTS_SUBJECT, "events"] {
            published.with_label_values(&[subject]);
        }
        Ok(NatsMetrics {
            published,
            duplicates,
            ready,
            pending,
            dropped: metrics.dropped("nats"),
        })
    }
}
