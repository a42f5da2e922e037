//! The HTTP endpoints: health, readiness, metrics, status, subscription
//! changes, pause and resume, recent alerts; `/feeds` is in [`super::stats`],
//! `/ws` in [`super::client`] and the dashboard in [`super::dashboard`].
//!
//! Every answer is JSON except `/metrics` (Prometheus text). Bad input gets
//! 400 with a message saying what is wrong; failures of the upstream change
//! keep their meaning: the provider's error is 502, no acknowledgement 504.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tapewatch_actors::events::EventKind;
use tapewatch_actors::messages::{unix_ms, AnomalyKind, EnrichStatus};
use tapewatch_actors::metrics::STAGES;
use tapewatch_actors::ws_session::{
    ChangeSubscriptions, SessionSnapshot, SessionState, SubscriptionError,
};

use super::{client, protocol, AppState};
use crate::pipeline::{ControlError, PipelineHandle};

/// Alerts returned when `/alerts` has no `limit`.
pub const DEFAULT_ALERTS: usize = 50;
/// Most alerts one `/alerts` call returns; larger limits are capped.
pub const MAX_ALERTS: usize = 1000;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/ready", web::get().to(ready))
        .route("/metrics", web::get().to(metrics))
        .route("/status", web::get().to(status))
        .route("/feeds", web::get().to(super::stats::feeds))
        .route("/subscriptions", web::get().to(subscriptions))
        .route("/subscriptions", web::post().to(subscribe))
        .route("/subscriptions", web::delete().to(unsubscribe))
        .route("/pause", web::post().to(pause))
        .route("/resume", web::post().to(resume))
        .route("/alerts", web::get().to(alerts))
        .route("/ws", web::get().to(client::connect));
}

/// One feed's connection, as `/status`, `/ready` and the WS `status` show it.
#[derive(Debug, Clone, Serialize)]
pub struct FeedStatus {
    /// Feed name.
    pub feed: String,
    /// Connection state (`streaming`, `paused`, `backoff`, ...).
    pub state: SessionState,
    /// When it entered that state, Unix milliseconds.
    pub since_ms: i64,
    /// Current subscriptions.
    pub subscriptions: Vec<String>,
    /// Connection attempts so far.
    pub connection_attempts: u64,
}

impl FeedStatus {
    /// A session's snapshot, its state's start dated from `now_ms`.
    pub fn of(s: SessionSnapshot, now_ms: i64) -> FeedStatus {
        FeedStatus {
            feed: s.feed.to_string(),
            state: s.state,
            since_ms: now_ms.saturating_sub(i64::try_from(s.state_for_ms).unwrap_or(i64::MAX)),
            subscriptions: s.subscriptions,
            connection_attempts: s.connection_attempts,
        }
    }
}

/// Every feed's connection state.
pub async fn feed_status(pipeline: &PipelineHandle) -> Vec<FeedStatus> {
    let now = unix_ms();
    pipeline
        .sessions()
        .await
        .into_iter()
        .map(|s| FeedStatus::of(s, now))
        .collect()
}

fn error(status: StatusCode, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message.into() }))
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "alive" }))
}

/// Readiness in one word: `ready`, `paused` (any feed paused) or `not_ready`.
pub(super) fn readiness(feeds: &[FeedStatus], expected: usize) -> &'static str {
    if feeds.iter().any(|f| f.state == SessionState::Paused) {
        "paused"
    } else if feeds.len() == expected && feeds.iter().all(|f| f.state == SessionState::Streaming) {
        "ready"
    } else {
        "not_ready"
    }
}

async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let feeds = feed_status(&state.pipeline).await;
    let word = readiness(&feeds, state.pipeline.feeds().len());
    let code = if word == "ready" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    HttpResponse::build(code)
        .json(json!({ "ready": word == "ready", "status": word, "feeds": feeds }))
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.pipeline.metrics.render())
}

async fn status(state: web::Data<AppState>) -> HttpResponse {
    let feeds = feed_status(&state.pipeline).await;
    let m = &state.pipeline.metrics;
    let by = |labels: &[&'static str], get: &dyn Fn(&str) -> i64| -> BTreeMap<&'static str, i64> {
        labels.iter().map(|l| (*l, get(l))).collect()
    };
    let events: BTreeMap<_, _> = EventKind::ALL
        .iter()
        .map(|k| (k.label(), m.events(*k).get()))
        .collect();
    let alerts: BTreeMap<_, _> = AnomalyKind::ALL
        .iter()
        .map(|k| (k.label(), m.alerts(*k).get()))
        .collect();
    let enrichments: BTreeMap<_, _> = EnrichStatus::ALL
        .iter()
        .map(|k| (k.label(), m.enrichments(*k).get()))
        .collect();
    let counters = json!({
        "frames": m.frames.get(),
        "events": events,
        "decode_errors": m.decode_errors_total(),
        "alerts": alerts,
        "enrichments": enrichments,
        "dropped": by(&STAGES, &|s| m.dropped(s).get() as i64),
        "queue_depth": by(&STAGES, &|s| m.depth(s).get().max(0)),
        "reconnects": m.reconnects.get(),
        "rest_cache_hits": m.rest_cache_hits.get(),
        "ws_clients": m.ws_clients.get(),
        "ws_dropped": m.ws_dropped.get(),
    });
    let word = readiness(&feeds, state.pipeline.feeds().len());
    HttpResponse::Ok().json(json!({ "status": word, "feeds": feeds, "counters": counters }))
}

async fn subscriptions(state: web::Data<AppState>) -> HttpResponse {
    let feeds: Vec<_> = state
        .pipeline
        .sessions()
        .await
        .into_iter()
        .map(|s| json!({ "feed": s.feed, "subscriptions": s.subscriptions }))
        .collect();
    HttpResponse::Ok().json(json!({ "feeds": feeds }))
}

/// The body of `POST`/`DELETE /subscriptions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    feed: Option<String>,
    topics: Vec<String>,
}

/// Parses a change body and picks its feed (optional when only one is
/// configured). Errors are 400 messages.
pub(super) fn parse_change(
    body: &[u8],
    feeds: &[std::sync::Arc<str>],
) -> Result<(String, Vec<String>), String> {
    let example = r#"expected {"feed":"stocks","topics":["T.AAPL"]}"#;
    let body: ChangeBody =
        serde_json::from_slice(body).map_err(|e| format!("invalid body: {e}; {example}"))?;
    if body.topics.is_empty() {
        return Err(format!("`topics` is empty; {example}"));
    }
    let feed = match (body.feed, feeds) {
        (Some(feed), _) => feed,
        (None, [only]) => only.to_string(),
        (None, _) => {
            let names: Vec<&str> = feeds.iter().map(|f| &**f).collect();
            return Err(format!("name the `feed`: one of {}", names.join(", ")));
        }
    };
    Ok((feed, body.topics))
}

/// The status code of a failed control request.
pub fn control_status(e: &ControlError) -> StatusCode {
    match e {
        ControlError::UnknownFeed(_) => StatusCode::NOT_FOUND,
        ControlError::Subscription(SubscriptionError::InvalidTopic(_)) => StatusCode::BAD_REQUEST,
        ControlError::Subscription(SubscriptionError::Rejected(_)) => StatusCode::BAD_GATEWAY,
        ControlError::Subscription(SubscriptionError::Timeout(_)) => StatusCode::GATEWAY_TIMEOUT,
        ControlError::Subscription(SubscriptionError::Stopped) | ControlError::Unavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ControlError::Lookup(_) => StatusCode::BAD_GATEWAY,
    }
}

async fn change(state: web::Data<AppState>, body: web::Bytes, adding: bool) -> HttpResponse {
    let (feed, topics) = match parse_change(&body, &state.pipeline.feeds()) {
        Ok(parsed) => parsed,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let change = if adding {
        ChangeSubscriptions {
            add: topics,
            remove: Vec::new(),
        }
    } else {
        ChangeSubscriptions {
            add: Vec::new(),
            remove: topics,
        }
    };
    match state.pipeline.change_subscriptions(&feed, change).await {
        Ok(reply) => HttpResponse::Ok().json(json!({
            "feed": feed,
            "subscriptions": reply.subscriptions,
            "acknowledged": reply.acknowledged,
        })),
        Err(e) => error(control_status(&e), e.to_string()),
    }
}

async fn subscribe(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    change(state, body, true).await
}

async fn unsubscribe(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    change(state, body, false).await
}

async fn pause(state: web::Data<AppState>) -> HttpResponse {
    state.pipeline.pause().await;
    let feeds = feed_status(&state.pipeline).await;
    HttpResponse::Ok().json(json!({ "paused": true, "feeds": feeds }))
}

async fn resume(state: web::Data<AppState>) -> HttpResponse {
    state.pipeline.resume().await;
    let feeds = feed_status(&state.pipeline).await;
    HttpResponse::Ok().json(json!({ "paused": false, "feeds": feeds }))
}

/// Parses `/alerts` parameters: `limit` (1 or more, default 50, capped at
/// 1000) and `symbol` (a ticker, matching the alert's symbol or underlying).
pub fn alerts_query(query: &str) -> Result<(usize, Option<String>), String> {
    let params = web::Query::<HashMap<String, String>>::from_query(query)
        .map_err(|e| format!("invalid query string: {e}"))?
        .into_inner();
    if let Some(unknown) = params
        .keys()
        .find(|k| !matches!(k.as_str(), "limit" | "symbol"))
    {
        return Err(format!(
            "unknown parameter `{unknown}` (known: limit, symbol)"
        ));
    }
    let limit = match params.get("limit") {
        None => DEFAULT_ALERTS,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 => n.min(MAX_ALERTS),
            _ => {
                return Err(format!(
                    "`limit` must be a whole number of at least 1, got `{text}`"
                ))
            }
        },
    };
    let symbol = match params.get("symbol") {
        None => None,
        Some(s) => Some(
            protocol::ticker(s)
                .map_err(|e| format!("`symbol`: {e}"))?
                .to_string(),
        ),
    };
    Ok((limit, symbol))
}

async fn alerts(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let (limit, symbol) = match alerts_query(req.query_string()) {
        Ok(q) => q,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let records = state.pipeline.recent_alerts(limit, symbol.as_deref());
    HttpResponse::Ok().json(json!({ "count": records.len(), "limit": limit, "alerts": records }))
}
