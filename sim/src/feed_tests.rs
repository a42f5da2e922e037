//! The WebSocket protocol as a client sees it: handshake frames, auth
//! failures, error statuses and subscription filtering.

use std::time::Duration;

use awc::ws::{Frame, Message};
use serde_json::Value;
use tapewatch_actors::secret::ApiKey;

use super::test_client::{start_sim, WsClient};
use super::{SimConfig, SimStats};

fn keyed() -> SimConfig {
    SimConfig {
        key: Some(ApiKey::new("k3y")),
        ..SimConfig::default()
    }
}

#[actix::test]
async fn handshake_frames_are_exact_and_data_follows_the_acks() {
    let sim = start_sim(keyed()).await;
    let mut ws = WsClient::connect(&sim.ws_url("stocks")).await;
    assert_eq!(
        ws.text().await,
        r#"[{"ev":"status","status":"connected","message":"Connected Successfully"}]"#
    );
    ws.send(r#"{"action":"auth","params":"k3y"}"#).await;
    assert_eq!(
        ws.text().await,
        r#"[{"ev":"status","status":"auth_success","message":"authenticated"}]"#
    );
    ws.send(r#"{"action":"subscribe","params":" T.*, Q.AAPL"}"#)
        .await;
    assert_eq!(
        ws.text().await,
        r#"[{"ev":"status","status":"success","message":"subscribed to: T.*"}]"#
    );
    assert_eq!(
        ws.text().await,
        r#"[{"ev":"status","status":"success","message":"subscribed to: Q.AAPL"}]"#
    );
    let events = ws.collect(200).await;
    for event in &events {
        let object = event.as_object().expect("events are objects");
        assert!(object.values().all(|v| !v.is_null()), "{event}");
        match event["ev"].as_str() {
            Some("T") => {
                assert!(event["i"].is_string(), "{event}");
                for field in ["sym", "x", "p", "s", "t", "q", "z"] {
                    assert!(object.contains_key(field), "{field} missing in {event}");
                }
                let allowed = ["ev", "sym", "i", "x", "p", "s", "c", "t", "q", "z"];
                assert!(
                    object.keys().all(|k| allowed.contains(&k.as_str())),
                    "{event}"
                );
            }
            Some("Q") => assert_eq!(event["sym"], "AAPL", "{event}"),
            _ => panic!("unexpected event {event}"),
        }
    }
    assert!(events.iter().any(|e| e["ev"] == "Q"), "AAPL quotes arrive");
    assert!(
        events.iter().any(|e| e["c"].is_array()),
        "some trades carry conditions"
    );
    assert!(events
        .iter()
        .any(|e| e["ev"] == "T" && e.get("c").is_none()));
    assert_eq!(SimStats::get(&sim.stats.auth_attempts), 1);
    assert!(SimStats::get(&sim.stats.data_frames_sent) > 0);
    sim.stop().await;
}

#[actix::test]
async fn a_wrong_key_gets_auth_failed_then_a_policy_close() {
    let sim = start_sim(keyed()).await;
    let mut ws = WsClient::connect(&sim.ws_url("options")).await;
    ws.text().await;
    ws.send(r#"{"action":"auth","params":"wrong"}"#).await;
    assert_eq!(
        ws.text().await,
        r#"[{"ev":"status","status":"auth_failed","message":"authentication failed"}]"#
    );
    assert_eq!(ws.close_code().await, Some(1008));
    assert_eq!(SimStats::get(&sim.stats.auth_failures), 1);
    let log = sim.stats.client_messages();
    assert_eq!(log, [r#"{"action":"auth","params":"<redacted>"}"#]);
    sim.stop().await;
}

#[actix::test]
async fn no_auth_in_time_gets_auth_timeout_then_close() {
    let sim = start_sim(SimConfig {
        auth_timeout: Duration::from_millis(200),
        ..keyed()
    })
    .await;
    let mut ws = WsClient::connect(&sim.ws_url("stocks")).await;
    ws.text().await;
    assert_eq!(
        ws.text().await,
        r#"[{"ev":"status","status":"auth_timeout","message":"No authentication request received."}]"#
    );
    assert_eq!(ws.close_code().await, Some(1008));
    sim.stop().await;
}

#[actix::test]
async fn early_unknown_and_malformed_messages_get_error_statuses() {
    let sim = start_sim(keyed()).await;
    let mut ws = WsClient::connect(&sim.ws_url("stocks")).await;
    ws.text().await;
    let error =
        |message: &str| format!(r#"[{{"ev":"status","status":"error","message":"{message}"}}]"#);
    ws.send(r#"{"action":"subscribe","params":"T.*"}"#).await;
    assert_eq!(ws.text().await, error("not authorized"));
    ws.send("{not json").await;
    assert_eq!(ws.text().await, error("invalid message"));
    ws.send(r#"{"action":"auth","params":"k3y"}"#).await;
    ws.text().await;
    ws.send(r#"{"action":"dance"}"#).await;
    assert_eq!(ws.text().await, error("unknown action: dance"));
    ws.send(r#"{"action":"subscribe","params":["T.*"]}"#).await;
    assert_eq!(ws.text().await, error("invalid params"));
    ws.send(r#"{"action":"subscribe","params":"AAPL"}"#).await;
    assert_eq!(ws.text().await, error("invalid topic: AAPL"));
    // Nothing is subscribed, so the connection stays quiet.
    assert!(ws.frame_within(Duration::from_millis(200)).await.is_none());
    sim.stop().await;
}

#[actix::test]
async fn one_trade_topic_sends_only_that_symbols_trades() {
    let sim = start_sim(SimConfig::default()).await;
    let mut stocks = WsClient::connect(&sim.ws_url("stocks")).await;
    stocks.login("any", "T.AAPL").await;
    for event in stocks.collect(100).await {
        assert_eq!(
            (event["ev"].as_str(), event["sym"].as_str()),
            (Some("T"), Some("AAPL"))
        );
    }
    let contract = "O:NVDA261218C00500000";
    let mut options = WsClient::connect(&sim.ws_url("options")).await;
    options
        .login("any", &format!("T.{contract},Q.{contract}"))
        .await;
    let events = options.collect(100).await;
    for event in &events {
        assert_eq!(event["sym"], contract, "{event}");
        let object = event.as_object().expect("events are objects");
        assert!(
            !object.contains_key("i") && !object.contains_key("z"),
            "{event}"
        );
    }
    assert!(events.iter().any(|e| e["ev"] == "Q"));
    assert!(events.iter().any(|e| e["ev"] == "T"));
    sim.stop().await;
}

#[actix::test]
async fn unsubscribing_everything_stops_the_data() {
    let sim = start_sim(SimConfig::default()).await;
    let mut ws = WsClient::connect(&sim.ws_url("stocks")).await;
    ws.login("any", "T.*").await;
    ws.events().await;
    ws.send(r#"{"action":"unsubscribe","params":"T.*"}"#).await;
    // Frames already on their way come first; the ack is the last frame.
    loop {
        let frame: Value = ws.json().await;
        if frame[0]["ev"] == "status" {
            assert_eq!(frame[0]["message"], "unsubscribed to: T.*");
            break;
        }
    }
    assert!(ws.frame_within(Duration::from_millis(300)).await.is_none());
    sim.stop().await;
}

#[actix::test]
async fn option_quote_wildcards_are_rejected() {
    let sim = start_sim(SimConfig::default()).await;
    let mut ws = WsClient::connect(&sim.ws_url("options")).await;
    ws.login("any", "T.*").await;
    ws.send(r#"{"action":"subscribe","params":"Q.*"}"#).await;
    loop {
        let frame: Value = ws.json().await;
        if frame[0]["ev"] == "status" {
            assert_eq!(frame[0]["status"], "error", "{frame}");
            break;
        }
        assert!(frame
            .as_array()
            .into_iter()
            .flatten()
            .all(|e| e["ev"] == "T"));
    }
    sim.stop().await;
}

#[actix::test]
async fn pings_are_answered_with_pongs() {
    let sim = start_sim(SimConfig::default()).await;
    let mut ws = WsClient::connect(&sim.ws_url("stocks")).await;
    ws.text().await;
    ws.send_message(Message::Ping("are you there".into())).await;
    match ws.frame_within(Duration::from_secs(5)).await {
        Some(Frame::Pong(payload)) => assert_eq!(&payload[..], b"are you there"),
        other => panic!("expected a pong, got {other:?}"),
    }
    sim.stop().await;
}
