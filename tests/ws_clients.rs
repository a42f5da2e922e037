//! Downstream WebSocket clients against a real server on port 0: correlation
//! ids under concurrent slow and fast requests, topic pushes, a stalled client
//! disconnected while a fast one gets every alert, malformed requests and
//! request floods.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::http::{ready_is, wait_for, Service};
use support::ws::{read_until_closed, stalled_client, Got, WsClient};
use support::Received;
use tapewatch_sim::{ScriptConfig, SimConfig};

const CONTRACTS: [&str; 4] = [
    "O:NVDA261218C00500000",
    "O:TSLA261218P00250000",
    "O:AAPL261218C00200000",
    "O:SPY261218C00600000",
];

#[actix::test]
async fn replies_carry_their_ids_and_fast_requests_are_not_held_behind_slow_lookups() {
    let rest_delay = Duration::from_millis(1500);
    let sim = SimConfig {
        events_per_second: Some(2_000),
        rest_delay,
        // No alerts, so no enrichment competes with the lookups for REST slots.
        script: ScriptConfig {
            anomaly_start: u64::MAX,
            ..ScriptConfig::default()
        },
        ..SimConfig::default()
    };
    let svc = Service::start(sim, &["stocks"], |_| {}).await;
    // The status reply below must find the feed streaming, so the requests
    // wait until the service says it is ready.
    assert!(
        ready_is(&svc, reqwest::StatusCode::OK).await,
        "the feed never became ready"
    );
    let mut ws = WsClient::connect(&svc.ws_url(), None)
        .await
        .expect("connects");
    let started = Instant::now();
    let mut fast = BTreeSet::new();
    for (i, ticker) in CONTRACTS.iter().enumerate() {
        let i = i as u64;
        ws.send(json!({"id": i + 1, "action": "contract", "ticker": ticker}))
            .await;
        ws.send(json!({"id": 100 + 2 * i, "action": "status"}))
            .await;
        ws.send(json!({"id": 101 + 2 * i, "action": "subscriptions"}))
            .await;
        fast.extend([100 + 2 * i, 101 + 2 * i]);
    }
    let mut order = Vec::new();
    let mut replies = HashMap::new();
    while replies.len() < 12 {
        let reply = ws.json().await;
        let id = reply["id"].as_u64().expect("every reply carries its id");
        assert!(
            replies.insert(id, (reply, started.elapsed())).is_none(),
            "id {id} answered twice"
        );
        order.push(id);
    }
    // Every fast reply came before any slow one, and well before the REST delay.
    let first_slow = order
        .iter()
        .position(|id| *id < 100)
        .expect("lookups answered");
    assert!(
        order[..first_slow].iter().all(|id| fast.contains(id)),
        "{order:?}"
    );
    assert_eq!(
        first_slow,
        fast.len(),
        "fast replies were held back: {order:?}"
    );
    for id in &fast {
        let (reply, at) = &replies[id];
        assert_eq!(reply["ok"], true, "{reply}");
        assert!(*at < rest_delay, "fast reply {id} took {at:?}");
    }
    assert_eq!(replies[&100].0["status"][0]["state"], "streaming");
    assert_eq!(replies[&101].0["topics"], json!([]));
    for (i, ticker) in CONTRACTS.iter().enumerate() {
        let (reply, at) = &replies[&(i as u64 + 1)];
        assert_eq!(reply["ok"], true, "{reply}");
        assert_eq!(reply["contract"]["ticker"], *ticker, "{reply}");
        assert!(*at >= rest_delay, "the lookup went through REST");
    }
    svc.stop().await;
}

#[actix::test]
async fn topics_deliver_trades_and_status_and_the_client_cap_holds() {
    let svc = Service::start(
        SimConfig {
            events_per_second: Some(5_000),
            ..SimConfig::default()
        },
        &["stocks"],
        |c| c.http.max_clients = 1,
    )
    .await;
    let mut ws = WsClient::connect(&svc.ws_url(), None)
        .await
        .expect("connects");
    assert_eq!(
        WsClient::connect(&svc.ws_url(), None).await.err(),
        Some(503),
        "one client at most"
    );
    ws.send(json!({"id": 1, "action": "subscribe", "topics": ["trades:aapl", "status"]}))
        .await;
    assert_eq!(
        ws.reply(1).await["topics"],
        json!(["status", "trades:AAPL"])
    );
    let push = loop {
        let v = ws.json().await;
        if v["topic"] != "status" {
            break v;
        }
    };
    assert_eq!(push["topic"], "trades:AAPL", "{push}");
    assert_eq!(push["data"]["symbol"], "AAPL", "{push}");

    // A status record reaches `status` subscribers.
    svc.pipeline.pause().await;
    let status = loop {
        let v = ws.json().await;
        if v["topic"] == "status" {
            break v;
        }
    };
    assert_eq!(status["data"]["type"], "status");
    assert_eq!(status["data"]["state"], "paused");
    ws.send(json!({"id": "u", "action": "unsubscribe", "topics": ["trades:AAPL"]}))
        .await;
    let reply = loop {
        let v = ws.json().await;
        if v["id"] == "u" {
            break v;
        }
    };
    assert_eq!(reply["topics"], json!(["status"]));
    ws.send(json!({"id": 2, "action": "subscriptions"})).await;
    assert_eq!(ws.reply(2).await["topics"], json!(["status"]));
    svc.stop().await;
}

#[actix::test]
async fn a_stalled_client_is_disconnected_while_a_fast_one_gets_every_alert() {
    let sim = SimConfig {
        events_per_second: Some(20_000),
        ..SimConfig::default()
    };
    // The default queue: long enough that the kernel's buffers are full and
    // the actor frozen by the time it overflows.
    let svc = Service::start(sim, &["stocks"], |c| c.http.client_queue = 1024).await;
    let m = svc.pipeline.metrics.clone();
    let mut fast = WsClient::connect(&svc.ws_url(), None)
        .await
        .expect("connects");
    fast.send(json!({"id": 1, "action": "subscribe", "topics": ["alerts"]}))
        .await;
    assert_eq!(fast.reply(1).await["ok"], true);

    // Every trade of every stock, to a peer that never reads.
    let all = ["AAPL", "MSFT", "NVDA", "TSLA", "AMD", "AMZN", "META", "SPY"]
        .map(|s| format!("trades:{s}"));
    let subscribe = json!({"id": 1, "action": "subscribe", "topics": all});
    let mut stalled = stalled_client(svc.addr(), &[subscribe]).await;
    assert!(
        wait_for(Duration::from_secs(30), || m.ws_disconnects("slow").get()
            == 1)
        .await,
        "the stalled client is found out and counted"
    );
    assert!(m.ws_dropped.get() >= 1);
    // Its connection really ends while it still reads nothing (its actor is
    // frozen behind the full socket, actix-web #2441): the server drops it.
    assert!(
        wait_for(Duration::from_secs(10), || m.ws_clients.get() == 1).await,
        "the stalled connection was closed server-side"
    );
    // What it finds when it finally reads: a reset (the usual case: its
    // connection was shut down under the frozen actor) or a close frame 1008.
    let ending = read_until_closed(&mut stalled, Duration::from_secs(20)).await;
    assert!(matches!(ending, Ok(None) | Ok(Some(1008))), "{ending:?}");

    // The fast client got every alert from its first on, with no gap, and
    // kept getting them after the stalled one was dropped.
    let mut svc = svc;
    let outputs = &mut svc.outputs;
    let mut all_alerts = Received::default();
    all_alerts.drain(outputs);
    let later = all_alerts.alerts.len() + 5;
    assert!(
        all_alerts
            .until(outputs, Duration::from_secs(30), |r| r.alerts.len()
                >= later)
            .await
    );
    let target = all_alerts.alerts[later - 1].id;
    let mut seen = BTreeSet::new();
    while seen.last().is_none_or(|last| *last < target) {
        match fast.next(Duration::from_secs(20)).await {
            Got::Json(v) if v["data"]["type"] == "alert" => {
                seen.insert(v["data"]["id"].as_u64().expect("alert id"));
            }
            Got::Json(_) => {}
            other => panic!("the fast client lost its stream: {other:?}"),
        }
    }
    all_alerts.drain(outputs);
    let first = *seen.first().expect("alerts seen");
    let produced: BTreeSet<u64> = all_alerts
        .alerts
        .iter()
        .map(|a| a.id)
        .filter(|id| (first..=target).contains(id))
        .collect();
    assert!(
        produced.is_subset(&seen),
        "missed {:?}",
        produced.difference(&seen).collect::<Vec<_>>()
    );
    assert_eq!(
        m.ws_disconnects("slow").get(),
        1,
        "only the stalled client was slow"
    );
    assert_eq!(m.reconnects.get(), 0, "the pipeline never stalled upstream");
    svc.stop().await;
}

#[actix::test]
async fn malformed_requests_get_errors_and_a_request_flood_is_closed_with_1008() {
    let svc = Service::start(
        SimConfig {
            events_per_second: Some(1_000),
            ..SimConfig::default()
        },
        &["stocks"],
        |c| {
            c.http.requests_per_second = 5;
            c.http.request_burst = 10;
        },
    )
    .await;
    let m = svc.pipeline.metrics.clone();
    let mut ws = WsClient::connect(&svc.ws_url(), None)
        .await
        .expect("connects");
    ws.send_text("not json").await;
    let reply = ws.json().await;
    assert_eq!(
        (reply["id"].clone(), reply["ok"].clone()),
        (Value::Null, json!(false))
    );
    assert!(
        reply["error"]
            .as_str()
            .unwrap_or_default()
            .contains("malformed JSON"),
        "{reply}"
    );
    let cases = [
        (
            json!({"id": 3, "action": "dance"}),
            "unknown action `dance`",
        ),
        (
            json!({"id": 4, "action": "subscribe", "topics": ["quotes"]}),
            "unknown topic `quotes`",
        ),
        (json!({"id": 5, "action": "contract"}), "needs a `ticker`"),
        // Lookups spend the provider's REST quota: only real ticker shapes.
        (
            json!({"id": 6, "action": "contract", "ticker": "X:JUNK"}),
            "invalid ticker",
        ),
        (
            json!({"id": 7, "action": "contract", "ticker": "O:NVDA261399C00500000"}),
            "invalid ticker",
        ),
    ];
    for (request, needle) in cases {
        let id = request["id"].as_u64().unwrap_or_default();
        ws.send(request).await;
        let reply = ws.reply(id).await;
        assert_eq!(reply["ok"], false);
        assert!(
            reply["error"].as_str().unwrap_or_default().contains(needle),
            "{reply}"
        );
    }
    assert_eq!(m.ws_request_errors("malformed").get(), 1);
    assert_eq!(m.ws_request_errors("invalid").get(), 5);

    // A flood: far more than the burst, without waiting for answers. Contract
    // lookups share the limit with every other request.
    for id in 100..160u64 {
        let request = if id % 2 == 0 {
            json!({"id": id, "action": "contract", "ticker": "NVDA"})
        } else {
            json!({"id": id, "action": "subscriptions"})
        };
        ws.send(request).await;
    }
    let mut limited = Vec::new();
    let code = loop {
        match ws.next(Duration::from_secs(20)).await {
            Got::Json(v) if v["error"] == "rate limited" => limited.push(v["id"].as_u64()),
            Got::Json(_) => {}
            Got::Close(code) => break code,
            Got::Nothing => panic!("a flooding client must be closed"),
        }
    };
    assert_eq!(code, Some(1008));
    assert!(
        !limited.is_empty() && limited.iter().all(|id| id.is_some_and(|id| id >= 100)),
        "{limited:?}"
    );
    assert!(m.ws_request_errors("rate_limited").get() > 10);
    assert!(
        wait_for(Duration::from_secs(5), || m.ws_disconnects("flood").get()
            == 1)
        .await
    );
    svc.stop().await;
}
