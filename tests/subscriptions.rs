//! Subscription changes that do not go through: topics the provider would
//! not read are refused before anything is sent, and a change the provider
//! refuses or never answers is undone, so it is neither listed nor
//! resubscribed.

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tapewatch::config::FeedConfig;
use tapewatch_sim::{Faults, SimConfig, SimProvider};

use support::http::{call, get, ready_is, wait_for, Service};

fn paced() -> SimConfig {
    SimConfig {
        events_per_second: Some(2_000),
        ..SimConfig::default()
    }
}

/// The subscriptions `GET /subscriptions` lists for `feed`.
async fn listed(svc: &Service, feed: &str) -> Value {
    let (status, body) = get(svc, "/subscriptions").await;
    assert_eq!(status, StatusCode::OK);
    let feeds = body["feeds"].as_array().cloned().unwrap_or_default();
    let entry = feeds.iter().find(|f| f["feed"] == feed);
    entry.map_or(Value::Null, |f| f["subscriptions"].clone())
}

/// Subscribe messages the simulator received that mention `topic`.
fn subscribes_naming(svc: &Service, topic: &str) -> usize {
    let messages = svc.sim.stats.client_messages();
    (messages.iter())
        .filter(|m| m.contains("\"subscribe\"") && m.contains(topic))
        .count()
}

#[actix::test]
async fn topics_the_provider_does_not_read_are_refused_before_anything_is_sent() {
    let svc = Service::start(paced(), &["stocks"], |_| {}).await;
    assert!(ready_is(&svc, StatusCode::OK).await);
    let url = svc.url("/subscriptions");
    for topic in ["T.", "trades:AAPL", "LULD.AAPL", "AAPL"] {
        let body = json!({ "topics": [topic] }).to_string();
        let (status, _, answer) = call(Method::POST, &url, None, Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{topic}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains("invalid topic"), "{topic}: {error}");
    }
    assert_eq!(subscribes_naming(&svc, "AAPL"), 0);
    assert_eq!(listed(&svc, "stocks").await, json!(["T.*"]));
    svc.stop().await;

    let alpaca = SimConfig {
        provider: SimProvider::Alpaca,
        ..paced()
    };
    let svc = Service::start(alpaca, &[], |c| {
        c.provider = "alpaca".to_owned();
        c.feeds = vec![FeedConfig {
            name: "iex".to_owned(),
            url: format!("{}/v2/iex", c.rest.base_url.replacen("http", "ws", 1)),
            subscribe: vec!["trades:*".to_owned()],
        }];
    })
    .await;
    assert!(ready_is(&svc, StatusCode::OK).await);
    let url = svc.url("/subscriptions");
    // Order books are crypto only; statuses are not decoded.
    for topic in ["orderbooks:AAPL", "statuses:*", "trades:", "T.AAPL,Q.AAPL"] {
        let body = json!({ "topics": [topic] }).to_string();
        let (status, _, answer) = call(Method::POST, &url, None, Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{topic}: {answer}");
    }
    let sent = svc.sim.stats.client_messages();
    assert!(
        sent.iter()
            .all(|m| !m.contains("orderbooks") && !m.contains("statuses")),
        "{sent:?}"
    );
    assert_eq!(listed(&svc, "iex").await, json!(["trades:*"]));
    svc.stop().await;
}

#[actix::test]
async fn a_refused_change_is_answered_502_undone_and_not_resubscribed() {
    let svc = Service::start(paced(), &["stocks", "options"], |_| {}).await;
    assert!(ready_is(&svc, StatusCode::OK).await);
    let url = svc.url("/subscriptions");
    // The simulator refuses a wildcard on option quotes, as Massive does.
    let body = r#"{"feed":"options","topics":["Q.*"]}"#;
    let (status, _, answer) = call(Method::POST, &url, None, Some(body)).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{answer}");
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(error.contains("not allowed for option quotes"), "{error}");
    assert_eq!(listed(&svc, "options").await, json!(["T.*"]));
    // Nothing else stopped, and a change after it goes through.
    let body = r#"{"feed":"options","topics":["Q.O:NVDA261218C00500000"]}"#;
    let (status, _, answer) = call(Method::POST, &url, None, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(ready_is(&svc, StatusCode::OK).await);

    // The next connection subscribes the set without the refused topic.
    let (status, _, _) = call(Method::POST, &svc.url("/pause"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(Method::POST, &svc.url("/resume"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ready_is(&svc, StatusCode::OK).await);
    let resubscribed = wait_for(Duration::from_secs(10), || {
        subscribes_naming(&svc, "Q.O:NVDA261218C00500000") >= 2
    })
    .await;
    assert!(resubscribed, "{:?}", svc.sim.stats.client_messages());
    assert_eq!(subscribes_naming(&svc, "Q.*"), 1, "Q.* was sent again");
    svc.stop().await;
}

#[actix::test]
async fn an_unanswered_change_is_answered_504_and_undone_upstream_too() {
    // The connection goes deaf after a few frames: it reads but answers
    // nothing, so no acknowledgement ever comes.
    let sim = SimConfig {
        faults: Faults {
            deaf_after_frames: Some(5),
            ..Faults::default()
        },
        ..paced()
    };
    let svc = Service::start(sim, &["stocks"], |c| {
        c.connection.ack_timeout_ms = 300;
        c.connection.ping_after_ms = 60_000;
    })
    .await;
    assert!(ready_is(&svc, StatusCode::OK).await);
    let deaf = wait_for(Duration::from_secs(10), || {
        svc.sim
            .stats
            .faults_triggered
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    })
    .await;
    assert!(deaf);
    let body = r#"{"topics":["T.MSFT"]}"#;
    let (status, _, answer) =
        call(Method::POST, &svc.url("/subscriptions"), None, Some(body)).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{answer}");
    assert_eq!(listed(&svc, "stocks").await, json!(["T.*"]));
    // The provider may have applied it unseen: it is asked to undo it.
    let undone = wait_for(Duration::from_secs(5), || {
        let messages = svc.sim.stats.client_messages();
        (messages.iter()).any(|m| m.contains("\"unsubscribe\"") && m.contains("T.MSFT"))
    })
    .await;
    assert!(undone, "{:?}", svc.sim.stats.client_messages());
    svc.stop().await;
}
