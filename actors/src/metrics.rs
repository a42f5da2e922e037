//! Counters, gauges and histograms of one pipeline, in a registry of its own.
//!
//! Each pipeline owns a [`prometheus::Registry`], so several pipelines (tests run
//! many in one process) never mix their numbers, and the values can be read
//! back directly for progress lines and assertions. Label values are resolved
//! once here; hot paths only touch atomics.

use std::collections::HashMap;

use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

use crate::events::EventKind;
use crate::messages::{AnomalyKind, EnrichStatus};
use crate::provider::IssueKind;

/// The pipeline stages that own a bounded queue.
pub const STAGES: [&str; 6] = [
    "handler",
    "detector",
    "rest",
    "sink",
    "subscriber",
    "recorder",
];

/// Why a downstream WebSocket client was disconnected, as counted in
/// `tapewatch_ws_disconnects_total{reason}`.
pub const WS_DISCONNECT_REASONS: [&str; 6] =
    ["slow", "flood", "closed", "error", "timeout", "shutdown"];

/// Kinds of bad downstream requests, as counted in
/// `tapewatch_ws_request_errors_total{kind}`.
pub const WS_REQUEST_ERRORS: [&str; 3] = ["malformed", "invalid", "rate_limited"];

/// All metrics of one pipeline. Names are stable: dashboards rely on them.
#[derive(Clone)]
pub struct Metrics {
    /// The registry holding everything below.
    pub registry: Registry,
    /// `tapewatch_frames_total`: WebSocket data frames read.
    pub frames: IntCounter,
    /// `tapewatch_frame_bytes_total`: bytes of those frames.
    pub frame_bytes: IntCounter,
    events: HashMap<EventKind, IntCounter>,
    decode_errors: HashMap<IssueKind, IntCounter>,
    dropped: IntCounterVec,
    depth: IntGaugeVec,
    high_water: IntGaugeVec,
    notices: IntCounterVec,
    /// `tapewatch_restarts_total{actor}`: actors restarted by the supervisor.
    pub restarts: IntCounterVec,
    /// `tapewatch_stale_topics{feed}`: subscribed topics silent far beyond their usual gap.
    pub stale_topics: IntGaugeVec,
    /// `tapewatch_stale_events_total`: times a topic went stale.
    pub stale_events: IntCounter,
    /// `tapewatch_reconnects_total`.
    pub reconnects: IntCounter,
    /// `tapewatch_connected`: 1 per feed while authenticated and subscribed.
    pub connected: IntGaugeVec,
    /// `tapewatch_feed_events_total{feed}`: decoded events, by feed.
    pub feed_events: IntCounterVec,
    /// `tapewatch_feed_decode_errors_total{feed}`: decode problems, by feed.
    pub feed_decode_errors: IntCounterVec,
    /// `tapewatch_feed_shed_total{feed}`: frames a feed's session shed
    /// because its handler's queue was full or its handler dead (also in
    /// `tapewatch_dropped_total{stage="handler"}`).
    pub feed_shed: IntCounterVec,
    alerts: HashMap<AnomalyKind, IntCounter>,
    enrichments: HashMap<EnrichStatus, IntCounter>,
    /// `tapewatch_enrichments_total{status="lost"}`: alerts whose enrichment
    /// was still being fetched when RestFetcher died; none is ever written.
    pub enrichments_lost: IntCounter,
    /// `tapewatch_rest_requests_total{status}` by HTTP status or `error`/`timeout`.
    pub rest_requests: IntCounterVec,
    /// `tapewatch_rest_latency_seconds`.
    pub rest_latency: Histogram,
    /// `tapewatch_rest_cache_hits_total`.
    pub rest_cache_hits: IntCounter,
    /// `tapewatch_rest_in_flight`.
    pub rest_in_flight: IntGauge,
    /// `tapewatch_symbols_tracked`.
    pub symbols_tracked: IntGauge,
    /// `tapewatch_symbols_evicted_total`.
    pub symbols_evicted: IntCounter,
    /// `tapewatch_active_contracts_evicted_total`: options-flow states
    /// forgotten to respect `detector.max_active_contracts`.
    pub active_contracts_evicted: IntCounter,
    /// `tapewatch_sink_writes_total`.
    pub sink_writes: IntCounter,
    /// `tapewatch_sink_errors_total`.
    pub sink_errors: IntCounter,
    /// `tapewatch_record_errors_total`: failed writes of the recording.
    pub record_errors: IntCounter,
    /// `tapewatch_detector_events_total`: events the detector has finished
    /// with; equal to the events decoded once the pipeline is idle.
    pub detector_events: IntCounter,
    /// `tapewatch_ws_clients`: downstream WebSocket clients connected now.
    pub ws_clients: IntGauge,
    ws_disconnects: IntCounterVec,
    /// `tapewatch_ws_dropped_total`: updates not delivered to a downstream
    /// client because its send queue was full.
    pub ws_dropped: IntCounter,
    /// `tapewatch_ws_conflated_total`: state-topic values replaced in a
    /// client's queue by a newer one before they were sent.
    pub ws_conflated: IntCounter,
    /// `tapewatch_ws_state_untracked_total`: quotes and trades of symbols the
    /// `/ws` state table had no room for.
    pub ws_state_untracked: IntCounter,
    ws_request_errors: IntCounterVec,
    /// `tapewatch_http_requests_total{status}`: HTTP API responses by status code.
    pub http_requests: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn counter(reg: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).expect("static metric definition is valid");
    reg.register(Box::new(c.clone()))
        .expect("metric names are unique");
    c
}

fn counter_vec(reg: &Registry, name: &str, help: &str, label: &str) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), &[label])
        .expect("static metric definition is valid");
    reg.register(Box::new(c.clone()))
        .expect("metric names are unique");
    c
}

fn gauge_vec(reg: &Registry, name: &str, help: &str, label: &str) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), &[label])
        .expect("static metric definition is valid");
    reg.register(Box::new(g.clone()))
        .expect("metric names are unique");
    g
}

fn gauge(reg: &Registry, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::new(name, help).expect("static metric definition is valid");
    reg.register(Box::new(g.clone()))
        .expect("metric names are unique");
    g
}

impl Metrics {
    /// A fresh registry with every metric at zero (labelled series included, so
    /// dashboards see them before the first event).
    pub fn new() -> Self {
        let reg = Registry::new();
        let events_vec = counter_vec(
            &reg,
            "tapewatch_events_total",
            "Events decoded, by type.",
            "type",
        );
        let events = EventKind::ALL
            .iter()
            .map(|k| (*k, events_vec.with_label_values(&[k.label()])))
            .collect();
        let errors_vec = counter_vec(
            &reg,
            "tapewatch_decode_errors_total",
            "Frames or events that could not be decoded, by kind.",
            "kind",
        );
        let decode_errors: HashMap<_, _> = IssueKind::ALL
            .iter()
            .map(|k| (*k, errors_vec.with_label_values(&[k.label()])))
            .collect();
        let alerts_vec = counter_vec(
            &reg,
            "tapewatch_alerts_total",
            "Anomalies detected, by kind.",
            "kind",
        );
        let alerts = AnomalyKind::ALL
            .iter()
            .map(|k| (*k, alerts_vec.with_label_values(&[k.label()])))
            .collect();
        let enrich_vec = counter_vec(
            &reg,
            "tapewatch_enrichments_total",
            "Enrichments emitted, by status; `lost`: never emitted, cut off by a restart.",
            "status",
        );
        let enrichments = EnrichStatus::ALL
            .iter()
            .map(|k| (*k, enrich_vec.with_label_values(&[k.label()])))
            .collect();
        let enrichments_lost = enrich_vec.with_label_values(&["lost"]);
        let dropped = counter_vec(
            &reg,
            "tapewatch_dropped_total",
            "Messages shed because a stage's queue was full, by stage.",
            "stage",
        );
        let depth = gauge_vec(
            &reg,
            "tapewatch_queue_depth",
            "Messages waiting in a stage's queue.",
            "stage",
        );
        let high_water = gauge_vec(
            &reg,
            "tapewatch_queue_high_water",
            "Highest queue depth seen, by stage.",
            "stage",
        );
        for stage in STAGES {
            dropped.with_label_values(&[stage]);
            depth.with_label_values(&[stage]);
            high_water.with_label_values(&[stage]);
        }
        let rest_latency = Histogram::with_opts(
            HistogramOpts::new("tapewatch_rest_latency_seconds", "REST request latency.").buckets(
                vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            ),
        )
        .expect("static metric definition is valid");
        reg.register(Box::new(rest_latency.clone()))
            .expect("metric names are unique");
        let ws_disconnects = counter_vec(
            &reg,
            "tapewatch_ws_disconnects_total",
            "Downstream WebSocket clients disconnected, by reason (slow, flood, closed, ...).",
            "reason",
        );
        for reason in WS_DISCONNECT_REASONS {
            ws_disconnects.with_label_values(&[reason]);
        }
        let ws_request_errors = counter_vec(
            &reg,
            "tapewatch_ws_request_errors_total",
            "Downstream WebSocket requests refused, by kind.",
            "kind",
        );
        for kind in WS_REQUEST_ERRORS {
            ws_request_errors.with_label_values(&[kind]);
        }
        Metrics {
            frames: counter(
                &reg,
                "tapewatch_frames_total",
                "WebSocket data frames read.",
            ),
            frame_bytes: counter(
                &reg,
                "tapewatch_frame_bytes_total",
                "Bytes of WebSocket data frames read.",
            ),
            events,
            decode_errors,
            dropped,
            depth,
            high_water,
            notices: counter_vec(&reg, "tapewatch_provider_notices_total", "Provider control messages that need attention, by kind (error, max_connections, unexpected_ack, auth_timeout; for configured protocols handshake_failed, handshake_timeout, heartbeat_sent).", "kind"),
            restarts: counter_vec(&reg, "tapewatch_restarts_total", "Actors restarted by the supervisor, by actor.", "actor"),
            stale_topics: gauge_vec(&reg, "tapewatch_stale_topics", "Subscribed topics currently silent far beyond their usual gap, by feed.", "feed"),
            stale_events: counter(&reg, "tapewatch_stale_events_total", "Times a subscribed topic went stale."),
            reconnects: counter(
                &reg,
                "tapewatch_reconnects_total",
                "Upstream reconnections.",
            ),
            connected: gauge_vec(
                &reg,
                "tapewatch_connected",
                "1 while the feed is authenticated and subscribed.",
                "feed",
            ),
            feed_events: counter_vec(&reg, "tapewatch_feed_events_total", "Decoded events, by feed.", "feed"),
            feed_decode_errors: counter_vec(&reg, "tapewatch_feed_decode_errors_total", "Decode problems, by feed.", "feed"),
            feed_shed: counter_vec(&reg, "tapewatch_feed_shed_total", "Frames shed before decoding (handler queue full or handler dead), by feed.", "feed"),
            alerts,
            enrichments,
            enrichments_lost,
            rest_requests: counter_vec(
                &reg,
                "tapewatch_rest_requests_total",
                "REST requests, by HTTP status or error.",
                "status",
            ),
            rest_latency,
            rest_cache_hits: counter(
                &reg,
                "tapewatch_rest_cache_hits_total",
                "Enrichments served from the cache.",
            ),
            rest_in_flight: gauge(&reg, "tapewatch_rest_in_flight", "REST requests in flight."),
            symbols_tracked: gauge(
                &reg,
                "tapewatch_symbols_tracked",
                "Symbols with detector state.",
            ),
            symbols_evicted: counter(
                &reg,
                "tapewatch_symbols_evicted_total",
                "Symbol states evicted to respect the cap.",
            ),
            active_contracts_evicted: counter(
                &reg,
                "tapewatch_active_contracts_evicted_total",
                "Options-flow states of contracts evicted to respect the cap.",
            ),
            sink_writes: counter(
                &reg,
                "tapewatch_sink_writes_total",
                "Records written by sinks.",
            ),
            sink_errors: counter(&reg, "tapewatch_sink_errors_total", "Sink write failures."),
            detector_events: counter(
                &reg,
                "tapewatch_detector_events_total",
                "Events the detector has finished with.",
            ),
            record_errors: counter(
                &reg,
                "tapewatch_record_errors_total",
                "Failed writes of the recording.",
            ),
            ws_clients: gauge(
                &reg,
                "tapewatch_ws_clients",
                "Downstream WebSocket clients connected.",
            ),
            ws_disconnects,
            ws_dropped: counter(
                &reg,
                "tapewatch_ws_dropped_total",
                "Updates not delivered to a downstream client because its send queue was full.",
            ),
            ws_conflated: counter(
                &reg,
                "tapewatch_ws_conflated_total",
                "State-topic values replaced by a newer one in a downstream client's queue before being sent.",
            ),
            ws_state_untracked: counter(
                &reg,
                "tapewatch_ws_state_untracked_total",
                "Quotes and trades of symbols the /ws state table had no room for.",
            ),
            ws_request_errors,
            http_requests: counter_vec(
                &reg,
                "tapewatch_http_requests_total",
                "HTTP API responses, by status code.",
                "status",
            ),
            registry: reg,
        }
    }

    /// Counter of decoded events of one type.
    pub fn events(&self, kind: EventKind) -> &IntCounter {
        &self.events[&kind]
    }

    /// Counter of decode problems of one kind.
    pub fn decode_errors(&self, kind: IssueKind) -> &IntCounter {
        &self.decode_errors[&kind]
    }

    /// Sum of decode problems over every kind.
    pub fn decode_errors_total(&self) -> u64 {
        self.decode_errors.values().map(IntCounter::get).sum()
    }

    /// Counter of provider notices of one kind.
    pub fn notice(&self, kind: &str) -> IntCounter {
        self.notices.with_label_values(&[kind])
    }

    /// Counter of alerts of one kind.
    pub fn alerts(&self, kind: AnomalyKind) -> &IntCounter {
        &self.alerts[&kind]
    }

    /// Sum of alerts over every kind.
    pub fn alerts_total(&self) -> u64 {
        self.alerts.values().map(IntCounter::get).sum()
    }

    /// Counter of enrichments with one status.
    pub fn enrichments(&self, status: EnrichStatus) -> &IntCounter {
        &self.enrichments[&status]
    }

    /// Drop counter of a stage.
    pub fn dropped(&self, stage: &str) -> IntCounter {
        self.dropped.with_label_values(&[stage])
    }

    /// Sum of drops over every stage.
    pub fn dropped_total(&self) -> u64 {
        STAGES.iter().map(|s| self.dropped(s).get()).sum()
    }

    /// Queue depth gauge of a stage.
    pub fn depth(&self, stage: &str) -> IntGauge {
        self.depth.with_label_values(&[stage])
    }

    /// High-water gauge of a stage.
    pub fn high_water(&self, stage: &str) -> IntGauge {
        self.high_water.with_label_values(&[stage])
    }

    /// Counter of downstream clients disconnected for `reason`.
    pub fn ws_disconnects(&self, reason: &str) -> IntCounter {
        self.ws_disconnects.with_label_values(&[reason])
    }

    /// Counter of refused downstream requests of one kind.
    pub fn ws_request_errors(&self, kind: &str) -> IntCounter {
        self.ws_request_errors.with_label_values(&[kind])
    }

    /// Renders every metric in the Prometheus text format.
    pub fn render(&self) -> String {
        let families = self.registry.gather();
        prometheus::TextEncoder::new()
            .encode_to_string(&families)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_names_are_exported_before_any_event() {
        let m = Metrics::new();
        let text = m.render();
        for name in [
            "tapewatch_frames_total",
            "tapewatch_events_total{type=\"trade\"}",
            "tapewatch_decode_errors_total{kind=\"malformed\"}",
            "tapewatch_dropped_total{stage=\"detector\"}",
            "tapewatch_queue_depth{stage=\"handler\"}",
            "tapewatch_reconnects_total",
            "tapewatch_alerts_total{kind=\"volume_spike\"}",
            "tapewatch_ws_clients",
            "tapewatch_ws_disconnects_total{reason=\"slow\"}",
            "tapewatch_ws_dropped_total",
            "tapewatch_ws_conflated_total",
            "tapewatch_ws_state_untracked_total",
        ] {
            assert!(text.contains(name), "missing {name} in\n{text}");
        }
    }

    #[test]
    fn sums_read_back() {
        let m = Metrics::new();
        m.decode_errors(IssueKind::Truncated).inc();
        m.decode_errors(IssueKind::Malformed).inc_by(2);
        m.dropped("sink").inc();
        assert_eq!(m.decode_errors_total(), 3);
        assert_eq!(m.dropped_total(), 1);
    }
}
