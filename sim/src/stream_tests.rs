//! The data stream over time: resuming after a reconnect, the injections as
//! they appear on the wire, the end of a bounded script, pacing, shutdown and
//! TLS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use awc::ws::Frame;
use rustls::pki_types::CertificateDer;
use serde_json::Value;
use tapewatch_actors::messages::AnomalyKind;

use super::test_client::{start_sim, WsClient};
use super::{
    injections, Market, ScriptConfig, SimConfig, SimStats, TlsFiles, BURST_STEP_MS, BURST_TRADES,
};

fn trades_only(script: ScriptConfig) -> SimConfig {
    SimConfig {
        script: ScriptConfig {
            quotes: false,
            ..script
        },
        ..SimConfig::default()
    }
}

#[actix::test]
async fn a_reconnect_resumes_the_script_and_the_log_shows_both_subscriptions() {
    let sim = start_sim(SimConfig::default()).await;
    let mut first = WsClient::connect(&sim.ws_url("stocks")).await;
    first.login("secret-key", "T.*").await;
    let before = first.collect(50).await;
    drop(first);
    let mut second = WsClient::connect(&sim.ws_url("stocks")).await;
    second.login("secret-key", "T.*").await;
    let after = second.collect(50).await;
    let last_before = before.iter().filter_map(|e| e["t"].as_i64()).max();
    let first_after = after.iter().filter_map(|e| e["t"].as_i64()).min();
    assert!(
        first_after > last_before,
        "{first_after:?} <= {last_before:?}"
    );
    let log = sim.stats.client_messages();
    let subscribes = log.iter().filter(|m| m.contains(r#""subscribe""#)).count();
    assert_eq!(subscribes, 2, "{log:?}");
    assert!(log.iter().all(|m| !m.contains("secret-key")), "{log:?}");
    assert_eq!(SimStats::get(&sim.stats.connections_accepted), 2);
    sim.stop().await;
}

#[actix::test]
async fn the_wire_carries_every_scheduled_injection() {
    let script = ScriptConfig {
        anomaly_start: 400,
        anomaly_every: 300,
        ..ScriptConfig::default()
    };
    let total = 2_100;
    let sim = start_sim(trades_only(ScriptConfig {
        total_events: Some(total),
        ..script.clone()
    }))
    .await;
    for market in Market::ALL {
        let mut ws = WsClient::connect(&sim.ws_url(market.path())).await;
        ws.login("any", "T.*").await;
        let trades = ws.collect(total as usize).await;
        assert_eq!(trades.len() as u64, total);
        let expected = injections(&script, market, total);
        assert_eq!(expected.len(), 6);
        for injection in expected {
            let trade = &trades[injection.index as usize];
            assert_eq!(trade["sym"], injection.symbol.as_str(), "{injection:?}");
            assert_eq!(trade["t"], injection.event_time_ms, "{injection:?}");
            match injection.kind {
                AnomalyKind::VolumeSpike => assert_eq!(trade["s"], market.spike_size()),
                AnomalyKind::PriceJump => assert_price_jumped(&trades, injection.index as usize),
                AnomalyKind::TradeBurst => assert_burst(&trades, injection.index as usize),
                other => panic!("the statistical schedule listed {other:?}"),
            }
        }
    }
    assert_eq!(sim.stats.events_sent(Market::Stocks), total);
    sim.stop().await;
}

fn assert_price_jumped(trades: &[Value], index: usize) {
    let symbol = &trades[index]["sym"];
    let price = |t: &Value| t["p"].as_f64().unwrap_or(0.0);
    let previous = trades[..index].iter().rev().find(|t| &t["sym"] == symbol);
    let previous = previous
        .map(price)
        .expect("the symbol traded before the jump");
    let ratio = price(&trades[index]) / previous;
    assert!((1.04..1.06).contains(&ratio), "jump ratio {ratio}");
}

fn assert_burst(trades: &[Value], index: usize) {
    let burst = &trades[index..index + BURST_TRADES as usize];
    assert!(burst.iter().all(|t| t["sym"] == trades[index]["sym"]));
    for pair in burst.windows(2) {
        let step = pair[1]["t"].as_i64().unwrap_or(0) - pair[0]["t"].as_i64().unwrap_or(0);
        assert_eq!(step, BURST_STEP_MS);
    }
}

#[actix::test]
async fn a_bounded_script_ends_and_the_connection_stays_open() {
    let sim = start_sim(trades_only(ScriptConfig {
        total_events: Some(25),
        ..ScriptConfig::default()
    }))
    .await;
    let mut ws = WsClient::connect(&sim.ws_url("stocks")).await;
    ws.login("any", "T.*").await;
    assert_eq!(ws.collect(25).await.len(), 25);
    assert!(ws.frame_within(Duration::from_millis(300)).await.is_none());
    ws.send_message(awc::ws::Message::Ping("still there?".into()))
        .await;
    assert!(matches!(
        ws.frame_within(Duration::from_secs(5)).await,
        Some(Frame::Pong(_))
    ));
    sim.stop().await;
}

#[actix::test]
async fn pacing_holds_the_event_rate() {
    let sim = start_sim(SimConfig {
        events_per_second: Some(200),
        ..trades_only(ScriptConfig::default())
    })
    .await;
    let mut ws = WsClient::connect(&sim.ws_url("stocks")).await;
    ws.login("any", "T.*").await;
    let started = Instant::now();
    let mut received = 0;
    while started.elapsed() < Duration::from_millis(500) {
        match ws.frame_within(Duration::from_millis(100)).await {
            Some(Frame::Text(bytes)) => {
                let frame: Value = serde_json::from_slice(&bytes).expect("JSON frames");
                received += frame.as_array().map_or(0, Vec::len);
            }
            Some(other) => panic!("unexpected frame {other:?}"),
            None => {}
        }
    }
    let allowed = 200.0 * started.elapsed().as_secs_f64() + 10.0;
    assert!(received > 0, "paced data still flows");
    assert!(
        (received as f64) <= allowed,
        "{received} events, at most {allowed} allowed"
    );
    sim.stop().await;
}

#[actix::test]
async fn paced_events_carry_the_wall_clock_unless_script_time_is_asked() {
    // The script's own clock starts in 2026 and steps 10 ms per trade.
    let script = ScriptConfig::default();
    for script_time in [false, true] {
        let sim = start_sim(SimConfig {
            events_per_second: Some(2_000),
            script_time,
            ..trades_only(script.clone())
        })
        .await;
        let mut ws = WsClient::connect(&sim.ws_url("stocks")).await;
        let before = tapewatch_actors::messages::unix_ms();
        ws.login("any", "T.*").await;
        let trades = ws.collect(200).await;
        let after = tapewatch_actors::messages::unix_ms();
        let times: Vec<i64> = trades
            .iter()
            .take(200)
            .filter_map(|t| t["t"].as_i64())
            .collect();
        assert_eq!(times.len(), 200);
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        if script_time {
            let expected: Vec<i64> = (0..200)
                .map(|i| script.base_time_ms + i * script.step_ms)
                .collect();
            assert_eq!(times, expected);
        } else {
            assert!(
                times.iter().all(|t| (before..=after).contains(t)),
                "{times:?} not within {before}..={after}"
            );
        }
        sim.stop().await;
    }
}

#[actix::test]
async fn stop_closes_connections_with_going_away() {
    let sim = start_sim(SimConfig::default()).await;
    let mut ws = WsClient::connect(&sim.ws_url("stocks")).await;
    ws.text().await;
    let started = Instant::now();
    sim.stop().await;
    assert!(started.elapsed() < Duration::from_secs(3), "stop is quick");
    assert_eq!(ws.close_code().await, Some(1001));
}

#[actix::test]
async fn tls_serves_wss_and_https_with_a_self_signed_certificate() {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let certified = rcgen::generate_simple_self_signed(names).expect("certificate");
    let files = TlsFiles {
        cert_pem: certified.cert.pem().into_bytes(),
        key_pem: certified.signing_key.serialize_pem().into_bytes(),
    };
    let sim = start_sim(SimConfig {
        tls: Some(files),
        ..SimConfig::default()
    })
    .await;
    assert!(sim.ws_url("stocks").starts_with("wss://"));

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(certified.cert.der().to_vec()))
        .expect("the test certificate is a valid root");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    // `max_http_version` replaces the TLS config, so it must come first.
    let connector = awc::Connector::new()
        .max_http_version(awc::http::Version::HTTP_11)
        .rustls_0_23(Arc::new(tls));
    let client = awc::Client::builder().connector(connector).finish();

    let mut ws = WsClient::connect_with(&client, &sim.ws_url("stocks")).await;
    ws.login("any", "T.*").await;
    assert!(!ws.events().await.is_empty());

    let url = format!("{}/v3/reference/tickers/AAPL", sim.rest_url());
    let mut response = client.get(url).send().await.expect("https request");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body["results"]["ticker"], "AAPL");
    sim.stop().await;
}
