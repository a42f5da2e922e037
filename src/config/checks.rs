//! Values that parse but cannot work, section by section: zero timeouts,
//! zero caps, inverted ranges, duplicate names, sizes that would abort the
//! process when allocated. Each rule names its dotted key; the first broken
//! one is reported.

use std::collections::HashSet;

use super::Config;

/// One rule: the dotted key, whether it holds, and what it asks for.
type Rule = (&'static str, bool, &'static str);

const AT_LEAST_ONE: &str = "must be at least 1";

/// The first broken rule of `config`, as (key, message).
pub(super) fn first_problem(config: &Config) -> Option<(String, String)> {
    if let Some(problem) = feed_names(config).or_else(|| feed_topics(config)) {
        return Some(problem);
    }
    rules(config)
        .into_iter()
        .find(|(_, ok, _)| !ok)
        .map(|(key, _, message)| (key.to_owned(), message.to_owned()))
}

/// Feed names appear in metrics, logs and `/subscriptions`: each must be
/// present and unique.
fn feed_names(config: &Config) -> Option<(String, String)> {
    let mut seen = HashSet::new();
    for (i, feed) in config.feeds.iter().enumerate() {
        if feed.name.trim().is_empty() {
            return Some((format!("feeds[{i}].name"), "must not be empty".into()));
        }
        if !seen.insert(feed.name.as_str()) {
            return Some((
                format!("feeds[{i}].name"),
                format!("`{}` names two feeds; feed names must be unique", feed.name),
            ));
        }
    }
    None
}

/// Every configured topic must be one the provider's own parser reads, as
/// for a subscription change at run time; a typo is refused before the
/// feed connects, not discovered as a silent topic later.
fn feed_topics(config: &Config) -> Option<(String, String)> {
    let provider = config.provider().ok()?;
    for (i, feed) in config.feeds.iter().enumerate() {
        for (j, topic) in feed.subscribe.iter().enumerate() {
            if provider.topic_of(topic.trim()).is_none() {
                return Some((
                    format!("feeds[{i}].subscribe[{j}]"),
                    format!(
                        "`{topic}` is not a topic of provider `{}` that tapewatch reads",
                        config.provider
                    ),
                ));
            }
        }
    }
    None
}

fn rules(c: &Config) -> Vec<Rule> {
    let (conn, st, sup, rest) = (&c.connection, &c.staleness, &c.supervision, &c.rest);
    vec![
        // [connection]
        (
            "connection.handshake_timeout_ms",
            conn.handshake_timeout_ms >= 1,
            AT_LEAST_ONE,
        ),
        (
            "connection.ping_after_ms",
            conn.ping_after_ms >= 1,
            AT_LEAST_ONE,
        ),
        (
            "connection.pong_timeout_ms",
            conn.pong_timeout_ms >= 1,
            AT_LEAST_ONE,
        ),
        (
            "connection.ack_timeout_ms",
            conn.ack_timeout_ms >= 1,
            AT_LEAST_ONE,
        ),
        (
            "connection.max_frame_bytes",
            conn.max_frame_bytes >= 1024,
            "must be at least 1024 (a provider's control replies need that much)",
        ),
        (
            "connection.backoff_min_ms",
            conn.backoff_min_ms >= 1,
            "must be at least 1 (0 would reconnect in a tight loop)",
        ),
        (
            "connection.backoff_max_ms",
            conn.backoff_max_ms >= conn.backoff_min_ms,
            "must be at least connection.backoff_min_ms",
        ),
        // [pipeline]: the queues are checked with the other capacities.
        (
            "pipeline.alert_ring",
            (1..=MAX_ALERT_RING).contains(&c.pipeline.alert_ring),
            "must be between 1 and 1000000",
        ),
        // [staleness]
        (
            "staleness.factor",
            st.factor.is_finite() && st.factor >= 1.0,
            "must be a number of at least 1 (times a topic's usual gap)",
        ),
        ("staleness.min_samples", st.min_samples >= 1, AT_LEAST_ONE),
        (
            "staleness.check_interval_ms",
            st.check_interval_ms >= 1,
            AT_LEAST_ONE,
        ),
        // [supervision]
        (
            "supervision.check_interval_ms",
            sup.check_interval_ms >= 1,
            AT_LEAST_ONE,
        ),
        (
            "supervision.max_restarts",
            sup.max_restarts >= 1,
            "must be at least 1 (0 would give up at the first death)",
        ),
        ("supervision.window_s", sup.window_s >= 1, AT_LEAST_ONE),
        // [detector] has its own rules (`DetectorConfig::validate`),
        // `max_symbols`' upper bound included.
        // [rest]
        ("rest.timeout_ms", rest.timeout_ms >= 1, AT_LEAST_ONE),
        (
            "rest.deadline_ms",
            rest.deadline_ms >= rest.timeout_ms,
            "must be at least rest.timeout_ms",
        ),
        ("rest.max_in_flight", rest.max_in_flight >= 1, AT_LEAST_ONE),
        (
            "rest.retry_base_ms",
            rest.max_retries == 0 || rest.retry_base_ms >= 1,
            "must be at least 1 when rest.max_retries is above 0",
        ),
        (
            "rest.retry_max_ms",
            rest.retry_max_ms >= rest.retry_base_ms,
            "must be at least rest.retry_base_ms",
        ),
        // [record]
        (
            "record.level",
            (1..=19).contains(&c.record.level),
            "must be between 1 and 19",
        ),
        ("record.frame_ms", c.record.frame_ms >= 1, AT_LEAST_ONE),
        (
            "record.frame_bytes",
            c.record.frame_bytes >= 4096,
            "must be at least 4096",
        ),
        ("record.queue", c.record.queue >= 1, AT_LEAST_ONE),
    ]
}

/// Largest `pipeline.alert_ring`: `/alerts` answers at most 1000 anyway.
const MAX_ALERT_RING: usize = 1_000_000;
