//! The dashboard's server side against a real server on port 0: its files with
//! their content types and Content-Security-Policy, `/feeds` per feed, and
//! the token rule for a browser, which carries the token to `/ws` as a
//! WebSocket subprotocol. The page itself is driven in a real browser by
//! `scripts/browser`.

mod support;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tapewatch::http::dashboard::{ASSETS, CSP};
use tapewatch_sim::SimConfig;

use support::http::{call, get, paced, Service};

#[actix::test]
async fn the_page_and_its_files_are_served_with_their_types_and_a_strict_policy() {
    let svc = Service::start(paced(1_000), &["stocks"], |_| {}).await;
    let client = reqwest::Client::new();
    for asset in ASSETS {
        let response = client
            .get(svc.url(asset.path))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status(), StatusCode::OK, "{}", asset.path);
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("content-type"), asset.content_type, "{}", asset.path);
        assert_eq!(header("content-security-policy"), CSP, "{}", asset.path);
        assert_eq!(header("x-content-type-options"), "nosniff");
        let body = response.bytes().await.expect("a body");
        assert_eq!(&body[..], asset.body, "{}", asset.path);
    }
    for directive in [
        "script-src 'self'",
        "style-src 'self'",
        "default-src 'none'",
    ] {
        assert!(CSP.contains(directive), "{directive}");
    }
    assert!(!CSP.contains("unsafe-inline") && !CSP.contains("unsafe-eval"));
    let (status, _) = get(&svc, "/assets/missing.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    svc.stop().await;
}

#[actix::test]
async fn feeds_reports_each_feeds_state_and_events() {
    let svc = Service::start(paced(2_000), &["stocks", "options"], |_| {}).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let body = loop {
        let (status, body) = get(&svc, "/feeds").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let counted = |b: &Value| {
            b["feeds"]
                .as_array()
                .is_some_and(|f| f.len() == 2 && f.iter().all(|f| f["events"].as_u64() > Some(0)))
        };
        if counted(&body) && body["status"] == "ready" {
            break body;
        }
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let names: Vec<&str> = body["feeds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["feed"].as_str())
        .collect();
    assert_eq!(names, ["stocks", "options"]);
    for feed in body["feeds"].as_array().into_iter().flatten() {
        assert_eq!(feed["state"], "streaming", "{feed}");
        assert_eq!(feed["subscriptions"], serde_json::json!(["T.*"]));
        assert_eq!(feed["decode_errors"], 0);
    }
    // The per-feed counts add up to the service's count of events.
    let total: u64 = tapewatch::actors::events::EventKind::ALL
        .iter()
        .map(|k| svc.pipeline.metrics.events(*k).get())
        .sum();
    let by_feed: u64 = ["stocks", "options"]
        .iter()
        .map(|f| {
            svc.pipeline
                .metrics
                .feed_events
                .with_label_values(&[f])
                .get()
        })
        .sum();
    assert_eq!(by_feed, total);
    assert!(body["queues"]["handler"]["dropped"].is_u64(), "{body}");
    assert!(body["rest"]["cache_hits"].is_u64(), "{body}");
    svc.stop().await;
}

#[actix::test]
async fn feeds_counts_the_frames_each_feed_shed_with_the_stages_drops() {
    // An unpaced feed into a one-frame handler queue: the session sheds.
    let svc = Service::start(SimConfig::default(), &["stocks"], |c| {
        c.pipeline.handler_queue = 1;
    })
    .await;
    let metrics = svc.pipeline.metrics.clone();
    let shed = || metrics.feed_shed.with_label_values(&["stocks"]).get();
    assert!(
        support::http::wait_for(Duration::from_secs(20), || shed() > 0).await,
        "no frame was shed"
    );
    let (status, body) = get(&svc, "/feeds").await;
    assert_eq!(status, StatusCode::OK);
    let reported = body["feeds"][0]["shed_frames"].as_u64().unwrap_or_default();
    let stage = body["queues"]["handler"]["dropped"]
        .as_u64()
        .unwrap_or_default();
    assert!(reported > 0, "{body}");
    // One feed: its sheds are the handler stage's drops (read just before).
    assert!(reported <= stage, "{body}");
    assert!(body["feeds"][0]["queued_frames"].is_i64(), "{body}");
    svc.stop().await;
}

#[actix::test]
async fn other_sites_pages_cannot_drive_the_api_or_open_ws() {
    let svc = Service::start(paced(1_000), &["stocks"], |_| {}).await;
    let own = svc.server.url();
    let client = reqwest::Client::new();
    let pause = |origin: Option<&str>| {
        let mut request = client
            .post(svc.url("/pause"))
            .timeout(Duration::from_secs(10));
        if let Some(o) = origin {
            request = request.header("origin", o);
        }
        request.send()
    };
    let status = |r: reqwest::Result<reqwest::Response>| r.expect("the server answers").status();
    assert_eq!(
        status(pause(Some("http://evil.example")).await),
        StatusCode::FORBIDDEN
    );
    assert_eq!(status(pause(Some("null")).await), StatusCode::FORBIDDEN);
    assert_eq!(svc.pipeline.metrics.reconnects.get(), 0);
    let (code, body) = get(&svc, "/feeds").await;
    assert_eq!(code, StatusCode::OK);
    assert_ne!(body["status"], "paused", "a refused pause paused nothing");
    // The dashboard's own page, and programs that send no Origin, may.
    assert_eq!(status(pause(Some(&own)).await), StatusCode::OK);
    assert_eq!(status(pause(None).await), StatusCode::OK);

    let ws = awc::Client::new()
        .ws(svc.ws_url())
        .origin("http://evil.example")
        .connect();
    let refused = match tokio::time::timeout(Duration::from_secs(10), ws).await {
        Ok(Err(awc::error::WsClientError::InvalidResponseStatus(s))) => Some(s.as_u16()),
        Ok(Ok(_)) => panic!("a foreign page opened /ws"),
        Ok(Err(e)) => panic!("cannot connect: {e}"),
        Err(_) => None,
    };
    assert_eq!(refused, Some(403), "a foreign page is refused /ws");
    let ws = awc::Client::new()
        .ws(svc.ws_url())
        .origin(own.as_str())
        .connect();
    assert!(tokio::time::timeout(Duration::from_secs(10), ws)
        .await
        .is_ok_and(|r| r.is_ok()));
    svc.stop().await;
}

/// Connects to `/ws` offering `protocols`; the status, and the protocol the
/// server chose.
async fn upgrade(url: &str, protocols: &[&str]) -> (u16, Option<String>) {
    let request = awc::Client::new().ws(url).protocols(protocols);
    let connecting = tokio::time::timeout(Duration::from_secs(10), request.connect());
    match connecting.await.expect("the server answers in time") {
        Ok((response, _)) => {
            let chosen = response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            (response.status().as_u16(), chosen)
        }
        Err(awc::error::WsClientError::InvalidResponseStatus(s)) => (s.as_u16(), None),
        Err(e) => panic!("cannot connect to {url}: {e}"),
    }
}

#[actix::test]
async fn a_browser_carries_the_token_to_ws_as_a_subprotocol_and_nothing_opens_without_it() {
    // A token with characters a subprotocol may not hold, hence base64url;
    // the environment's token, if any, is the one in force.
    let token = std::env::var("TAPEWATCH_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| "dash/board+token=".to_owned());
    let token = token.trim();
    let configured = token.to_owned();
    let svc = Service::start(paced(1_000), &["stocks"], move |c| {
        c.http.token = Some(tapewatch::http::auth::Token::new(configured));
    })
    .await;
    // The page loads without the token (it has to, to ask for it) ...
    let (status, _, page) = call(Method::GET, &svc.url("/"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.is_null(), "the page is HTML, not JSON");
    // ... but none of the data behind it does.
    for path in ["/feeds", "/alerts", "/status", "/subscriptions"] {
        let (status, text, _) = call(Method::GET, &svc.url(path), None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(text.is_empty(), "{path}: {text}");
        let (status, _, _) = call(Method::GET, &svc.url(path), Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (status, _, _) = call(Method::POST, &svc.url("/pause"), None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let ws = svc.ws_url();
    let right = format!("bearer.{}", URL_SAFE_NO_PAD.encode(token));
    let wrong = format!("bearer.{}", URL_SAFE_NO_PAD.encode(format!("{token}x")));
    let raw = format!("bearer.{token}");
    let cases: [(&[&str], u16); 5] = [
        (&["tapewatch"], 401),
        (&["tapewatch", &wrong], 401),
        // The raw token is not base64url, and is never accepted as it is.
        (&["tapewatch", &raw], 401),
        (&[&right], 101),
        (&["tapewatch", &right], 101),
    ];
    for (protocols, want) in cases {
        let (status, chosen) = upgrade(&ws, protocols).await;
        assert_eq!(status, want, "{protocols:?}");
        if want == 101 && protocols.contains(&"tapewatch") {
            // A browser fails the connection unless one offered protocol is echoed.
            assert_eq!(chosen.as_deref(), Some("tapewatch"), "{protocols:?}");
        }
        if want == 101 {
            assert_ne!(
                chosen.as_deref(),
                Some(right.as_str()),
                "the token is never echoed"
            );
        }
    }
    svc.stop().await;
}
