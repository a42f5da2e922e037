//! `GET /feeds`: per-feed and per-stage figures in one JSON document, what the
//! dashboard polls to draw its events/s chart and its feed cards.
//!
//! Every figure is a running total or a current value; rates (events per
//! second, REST latency over the last interval) are differences between two
//! polls, so any number of pollers can share the endpoint without state here.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use serde::Serialize;
use tapewatch_actors::messages::{unix_ms, AnomalyKind, EnrichStatus};
use tapewatch_actors::metrics::{Metrics, STAGES};

use tapewatch_actors::ws_session::SessionSnapshot;

use super::routes::{readiness, FeedStatus};
use super::AppState;

/// One feed: its connection and what its decoder has seen.
#[derive(Debug, Serialize)]
pub struct FeedStats {
    /// Connection state, since when, subscriptions, attempts.
    #[serde(flatten)]
    pub status: FeedStatus,
    /// Reconnections: connection attempts after the first.
    pub reconnects: u64,
    /// Frames waiting in this feed's handler queue.
    pub queued_frames: i64,
    /// Frames shed before decoding (queue full or handler dead).
    pub shed_frames: u64,
    /// Events decoded so far.
    pub events: u64,
    /// Decode problems so far.
    pub decode_errors: u64,
    /// Subscribed topics silent far beyond their usual gap right now.
    pub stale_topics: i64,
}

/// One pipeline stage's queue.
#[derive(Debug, Serialize)]
pub struct QueueStats {
    /// Messages waiting now.
    pub depth: i64,
    /// Highest depth seen.
    pub high_water: i64,
    /// Messages shed because the queue was full.
    pub dropped: u64,
}

/// The REST enrichment client.
#[derive(Debug, Serialize)]
pub struct RestStats {
    /// Requests answered (sum of the latency histogram's count).
    pub requests: u64,
    /// Their total latency in seconds; with `requests`, the mean over any interval.
    pub latency_seconds_sum: f64,
    /// Lookups served from the cache.
    pub cache_hits: u64,
    /// Requests in flight now.
    pub in_flight: i64,
}

/// The whole `/feeds` answer.
#[derive(Debug, Serialize)]
pub struct Stats {
    /// When the figures were read, Unix milliseconds.
    pub at_ms: i64,
    /// `ready`, `paused` or `not_ready`, as `/ready` says it.
    pub status: &'static str,
    /// Every configured feed.
    pub feeds: Vec<FeedStats>,
    /// Each stage's queue.
    pub queues: BTreeMap<&'static str, QueueStats>,
    /// REST enrichment.
    pub rest: RestStats,
    /// Alerts by kind.
    pub alerts: BTreeMap<&'static str, u64>,
    /// Enrichments by status.
    pub enrichments: BTreeMap<&'static str, u64>,
    /// Downstream WebSocket clients connected now.
    pub ws_clients: i64,
}

/// Reads the figures of the feeds in `sessions` out of `m`.
pub fn collect(m: &Metrics, sessions: Vec<SessionSnapshot>, expected_feeds: usize) -> Stats {
    let at_ms = unix_ms();
    let queued: Vec<i64> = sessions.iter().map(|s| s.queued_frames).collect();
    let feeds: Vec<FeedStatus> = sessions
        .into_iter()
        .map(|s| FeedStatus::of(s, at_ms))
        .collect();
    let status = readiness(&feeds, expected_feeds);
    let feeds = feeds
        .into_iter()
        .zip(queued)
        .map(|(status, queued_frames)| {
            let name = [status.feed.as_str()];
            FeedStats {
                reconnects: status.connection_attempts.saturating_sub(1),
                queued_frames,
                shed_frames: m.feed_shed.with_label_values(&name).get(),
                events: m.feed_events.with_label_values(&name).get(),
                decode_errors: m.feed_decode_errors.with_label_values(&name).get(),
                stale_topics: m.stale_topics.with_label_values(&name).get(),
                status,
            }
        })
        .collect();
    let queues = STAGES
        .iter()
        .map(|s| {
            let q = QueueStats {
                depth: m.depth(s).get().max(0),
                high_water: m.high_water(s).get().max(0),
                dropped: m.dropped(s).get(),
            };
            (*s, q)
        })
        .collect();
    Stats {
        at_ms,
        status,
        feeds,
        queues,
        rest: RestStats {
            requests: m.rest_latency.get_sample_count(),
            latency_seconds_sum: m.rest_latency.get_sample_sum(),
            cache_hits: m.rest_cache_hits.get(),
            in_flight: m.rest_in_flight.get(),
        },
        alerts: AnomalyKind::ALL
            .iter()
            .map(|k| (k.label(), m.alerts(*k).get()))
            .collect(),
        enrichments: EnrichStatus::ALL
            .iter()
            .map(|k| (k.label(), m.enrichments(*k).get()))
            .collect(),
        ws_clients: m.ws_clients.get(),
    }
}

/// `GET /feeds`.
pub async fn feeds(state: web::Data<AppState>) -> HttpResponse {
    let sessions = state.pipeline.sessions().await;
    let expected = state.pipeline.feeds().len();
    HttpResponse::Ok().json(collect(&state.pipeline.metrics, sessions, expected))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapewatch_actors::ws_session::SessionState;

    fn feed(name: &str, state: SessionState, attempts: u64) -> SessionSnapshot {
        SessionSnapshot {
            feed: name.into(),
            state,
            state_for_ms: 1_000,
            subscriptions: vec!["T.*".to_owned()],
            connection_attempts: attempts,
            queued_frames: attempts as i64 * 10,
        }
    }

    #[test]
    fn figures_are_read_per_feed_and_per_stage() {
        let m = Metrics::new();
        m.feed_events.with_label_values(&["stocks"]).inc_by(7);
        m.feed_events.with_label_values(&["options"]).inc_by(3);
        m.feed_decode_errors.with_label_values(&["options"]).inc();
        m.feed_shed.with_label_values(&["options"]).inc_by(4);
        m.dropped("rest").inc_by(2);
        m.depth("sink").set(4);
        m.rest_latency.observe(0.5);
        m.rest_cache_hits.inc();
        let feeds = vec![
            feed("stocks", SessionState::Streaming, 1),
            feed("options", SessionState::Streaming, 3),
        ];
        let stats = serde_json::to_value(collect(&m, feeds, 2)).expect("serialises");
        assert_eq!(stats["status"], "ready");
        assert_eq!(stats["feeds"][0]["feed"], "stocks");
        assert_eq!(stats["feeds"][0]["state"], "streaming");
        assert_eq!(stats["feeds"][0]["events"], 7);
        assert_eq!(stats["feeds"][0]["reconnects"], 0);
        assert_eq!(stats["feeds"][1]["events"], 3);
        assert_eq!(stats["feeds"][1]["decode_errors"], 1);
        assert_eq!(stats["feeds"][1]["reconnects"], 2);
        assert_eq!(stats["feeds"][1]["queued_frames"], 30);
        assert_eq!(stats["feeds"][1]["shed_frames"], 4);
        assert_eq!(stats["feeds"][0]["shed_frames"], 0);
        let since = stats["feeds"][0]["since_ms"].as_i64().unwrap_or_default();
        assert_eq!(stats["at_ms"].as_i64(), Some(since + 1_000));
        assert_eq!(stats["queues"]["rest"]["dropped"], 2);
        assert_eq!(stats["queues"]["sink"]["depth"], 4);
        assert_eq!(stats["rest"]["requests"], 1);
        assert_eq!(stats["rest"]["latency_seconds_sum"], 0.5);
        assert_eq!(stats["rest"]["cache_hits"], 1);
        assert_eq!(stats["alerts"]["volume_spike"], 0);
    }

    #[test]
    fn a_paused_feed_makes_the_status_paused() {
        let feeds = vec![
            feed("stocks", SessionState::Paused, 1),
            feed("options", SessionState::Streaming, 1),
        ];
        let stats = collect(&Metrics::new(), feeds, 2);
        assert_eq!(stats.status, "paused");
    }
}
