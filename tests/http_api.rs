//! The HTTP API against a real server on port 0, in front of a pipeline that
//! watches the simulator: subscription changes on the live socket, pause and
//! resume, readiness, metrics as Prometheus text, recent alerts, and the
//! token rule.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tapewatch::actors::messages::EnrichStatus;

use support::http::{call, get, paced, ready_is, wait_for, Service};
use support::ws::WsClient;

#[actix::test]
async fn subscription_changes_over_http_reach_the_live_socket_without_a_reconnect() {
    let svc = Service::start(paced(5_000), &["stocks"], |c| {
        c.feeds[0].subscribe = vec!["T.AAPL".to_owned()];
    })
    .await;
    assert!(ready_is(&svc, StatusCode::OK).await, "the feed streams");
    let url = svc.url("/subscriptions");

    // The feed may be left out when there is only one.
    let (status, _, body) = call(Method::POST, &url, None, Some(r#"{"topics":["T.MSFT"]}"#)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["acknowledged"], true);
    assert_eq!(body["subscriptions"], json!(["T.AAPL", "T.MSFT"]));
    let remove = r#"{"feed":"stocks","topics":["T.AAPL"]}"#;
    let (status, _, body) = call(Method::DELETE, &url, None, Some(remove)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["subscriptions"], json!(["T.MSFT"]));
    let (status, listed) = get(&svc, "/subscriptions").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["feeds"][0]["subscriptions"], json!(["T.MSFT"]));

    let messages = svc.sim.stats.client_messages();
    let saw = |action: &str, topic: &str| {
        messages
            .iter()
            .any(|m| m.contains(&format!("\"{action}\"")) && m.contains(topic))
    };
    assert!(saw("subscribe", "T.MSFT"), "{messages:?}");
    assert!(saw("unsubscribe", "T.AAPL"), "{messages:?}");
    assert_eq!(
        svc.sim.stats.connections_accepted.load(Ordering::Relaxed),
        1
    );
    assert_eq!(svc.pipeline.metrics.reconnects.get(), 0);

    // Bad requests get specific answers.
    let cases = [
        (
            r#"{"topics":["T.A,T.B"]}"#,
            StatusCode::BAD_REQUEST,
            "invalid topic",
        ),
        (
            r#"{"feed":"forex","topics":["T.X"]}"#,
            StatusCode::NOT_FOUND,
            "no feed named `forex`",
        ),
        (r#"{"topics":[]}"#, StatusCode::BAD_REQUEST, "is empty"),
        ("topics=T.X", StatusCode::BAD_REQUEST, "invalid body"),
    ];
    for (body, want, needle) in cases {
        let (status, _, answer) = call(Method::POST, &url, None, Some(body)).await;
        assert_eq!(status, want, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(needle), "{body}: {error}");
    }
    svc.stop().await;
}

#[actix::test]
async fn pause_and_resume_over_http_and_ready_says_paused() {
    let svc = Service::start(paced(5_000), &["stocks"], |_| {}).await;
    assert_eq!(
        get(&svc, "/health").await,
        (StatusCode::OK, json!({"status": "alive"}))
    );
    assert!(ready_is(&svc, StatusCode::OK).await, "the feed streams");

    let (status, _, body) = call(Method::POST, &svc.url("/pause"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["paused"], true);
    let (status, ready) = get(&svc, "/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready["status"], "paused", "{ready}");
    assert_eq!(ready["ready"], false);
    let (_, state) = get(&svc, "/status").await;
    assert_eq!(state["feeds"][0]["state"], "paused", "{state}");
    assert!(
        state["feeds"][0]["since_ms"].as_i64().unwrap_or(0) > 0,
        "{state}"
    );
    assert!(
        state["counters"]["frames"].as_u64().unwrap_or(0) > 0,
        "{state}"
    );
    assert_eq!(
        get(&svc, "/health").await.0,
        StatusCode::OK,
        "alive while paused"
    );

    let (status, _, _) = call(Method::POST, &svc.url("/resume"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ready_is(&svc, StatusCode::OK).await, "streams again");
    assert_eq!(
        svc.sim.stats.connections_accepted.load(Ordering::Relaxed),
        2
    );
    svc.stop().await;
}

/// True for `name` or `name{labels}` followed by a number.
fn is_sample(line: &str) -> bool {
    let Some((series, value)) = line.rsplit_once(' ') else {
        return false;
    };
    let name = series.split('{').next().unwrap_or_default();
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    let labels_ok = series.len() == name.len()
        || (series.ends_with('}') && series[name.len()..].starts_with('{'));
    name_ok
        && labels_ok
        && (value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value))
}

#[actix::test]
async fn metrics_are_prometheus_text_with_the_stable_names() {
    let svc = Service::start(paced(20_000), &["stocks"], |_| {}).await;
    let m = svc.pipeline.metrics.clone();
    // A REST call and a downstream client make their series appear.
    assert!(
        wait_for(Duration::from_secs(30), || m
            .enrichments(EnrichStatus::Ok)
            .get()
            > 0)
        .await
    );
    let _client = WsClient::connect(&svc.ws_url(), None)
        .await
        .expect("connects");
    let response = reqwest::get(svc.url("/metrics")).await.expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("text/plain"), "{kind}");
    let text = response.text().await.expect("body");

    for line in text.lines().filter(|l| !l.is_empty()) {
        assert!(
            line.starts_with('#') || is_sample(line),
            "not Prometheus text: {line}"
        );
    }
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("a real parser accepts it");
    let has = |name: &str, label: Option<(&str, &str)>| {
        scrape
            .samples
            .iter()
            .any(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
    };
    let expected = [
        ("tapewatch_frames_total", None),
        ("tapewatch_events_total", Some(("type", "trade"))),
        ("tapewatch_decode_errors_total", Some(("kind", "malformed"))),
        ("tapewatch_dropped_total", Some(("stage", "handler"))),
        ("tapewatch_queue_depth", Some(("stage", "detector"))),
        ("tapewatch_reconnects_total", None),
        ("tapewatch_alerts_total", Some(("kind", "volume_spike"))),
        ("tapewatch_rest_requests_total", Some(("status", "200"))),
        ("tapewatch_rest_latency_seconds_count", None),
        ("tapewatch_rest_cache_hits_total", None),
        ("tapewatch_ws_clients", None),
        ("tapewatch_ws_disconnects_total", Some(("reason", "slow"))),
        ("tapewatch_ws_dropped_total", None),
        ("tapewatch_http_requests_total", Some(("status", "101"))),
    ];
    for (name, label) in expected {
        assert!(has(name, label), "missing {name} {label:?}");
    }
    let clients = scrape
        .samples
        .iter()
        .find(|s| s.metric == "tapewatch_ws_clients");
    assert!(
        matches!(clients.map(|s| &s.value), Some(prometheus_parse::Value::Gauge(v)) if *v == 1.0)
    );
    svc.stop().await;
}

#[actix::test]
async fn alerts_come_newest_first_with_enrichment_and_bad_parameters_are_400() {
    let svc = Service::start(paced(20_000), &["stocks", "options"], |_| {}).await;
    let m = svc.pipeline.metrics.clone();
    assert!(
        wait_for(Duration::from_secs(30), || m
            .enrichments(EnrichStatus::Ok)
            .get()
            >= 3)
        .await
    );

    let (status, body) = get(&svc, "/alerts?limit=2").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], 2);
    let ids: Vec<u64> = body["alerts"].as_array().map_or(vec![], |a| {
        a.iter().filter_map(|r| r["alert"]["id"].as_u64()).collect()
    });
    assert!(ids.len() == 2 && ids[0] > ids[1], "newest first: {ids:?}");
    let (_, all) = get(&svc, "/alerts").await;
    assert_eq!(all["limit"], 50);
    let records = all["alerts"].as_array().cloned().unwrap_or_default();
    assert!(
        records.iter().any(|r| r["enrichment"]["status"] == "ok"),
        "{all}"
    );
    let (_, capped) = get(&svc, "/alerts?limit=99999").await;
    assert_eq!(capped["limit"], 1000);
    let (_, nvda) = get(&svc, "/alerts?symbol=nvda").await;
    for r in nvda["alerts"].as_array().cloned().unwrap_or_default() {
        let a = &r["alert"];
        assert!(a["symbol"] == "NVDA" || a["underlying"] == "NVDA", "{a}");
    }
    for (query, needle) in [
        ("limit=abc", "`limit`"),
        ("limit=0", "at least 1"),
        ("since=1", "unknown parameter"),
    ] {
        let (status, body) = get(&svc, &format!("/alerts?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            body["error"].as_str().unwrap_or_default().contains(needle),
            "{query}: {body}"
        );
    }
    svc.stop().await;
}

#[actix::test]
async fn beyond_loopback_a_token_is_required_and_refusals_say_nothing() {
    let wildcard = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
    // The environment's token, if any, is the one in force.
    let env = std::env::var("TAPEWATCH_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    if env.is_none() {
        let config = tapewatch::http::HttpConfig {
            bind: wildcard,
            ..Default::default()
        };
        let e = config.validate().expect_err("no token, not loopback");
        assert_eq!(e.0, "token");
        assert!(e.1.contains("TAPEWATCH_TOKEN"), "{}", e.1);
    }
    let token = env.unwrap_or_else(|| "s3cret-token".to_owned());
    let configured = token.clone();
    // Bound to every interface; this test only ever talks to 127.0.0.1.
    let svc = Service::start(paced(2_000), &["stocks"], move |c| {
        c.http.bind = wildcard;
        c.http.token = Some(tapewatch::http::auth::Token::new(configured));
    })
    .await;
    let status_url = svc.url("/status");
    assert_eq!(
        call(Method::GET, &svc.url("/health"), None, None).await.0,
        StatusCode::OK
    );
    for presented in [None, Some("wrong"), Some("")] {
        let (status, text, _) = call(Method::GET, &status_url, presented, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{presented:?}");
        assert!(text.is_empty(), "a refusal says nothing: {text}");
    }
    let (status, _, body) = call(Method::GET, &status_url, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pause = call(Method::POST, &svc.url("/pause"), None, None).await;
    assert_eq!(
        pause.0,
        StatusCode::UNAUTHORIZED,
        "control endpoints need the token too"
    );
    assert_eq!(
        WsClient::connect(&svc.ws_url(), None).await.err(),
        Some(401)
    );
    assert!(WsClient::connect(&svc.ws_url(), Some(&token)).await.is_ok());
    assert!(
        svc.pipeline
            .metrics
            .http_requests
            .with_label_values(&["401"])
            .get()
            >= 5
    );
    svc.stop().await;
}
