//! The REST endpoints over real HTTP: shapes, keys, errors, delay and
//! injected error statuses.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tapewatch_actors::secret::ApiKey;

use super::rest_faults::RATE_LIMIT_ERROR;
use super::test_client::{start_sim, WsClient};
use super::{Faults, SimConfig, SimHandle, SimStats};

fn keyed() -> SimConfig {
    SimConfig {
        key: Some(ApiKey::new("k3y")),
        ..SimConfig::default()
    }
}

/// GETs `path`, with a bearer key when given; returns status, request id header and body.
async fn get(sim: &SimHandle, path: &str, bearer: Option<&str>) -> (u16, String, Value) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", sim.rest_url()));
    if let Some(key) = bearer {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("the request completes");
    let status = response.status().as_u16();
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.json().await.expect("a JSON body");
    (status, request_id, body)
}

#[actix::test]
async fn options_contracts_answer_in_the_documented_shape() {
    let sim = start_sim(keyed()).await;
    let path = "/v3/reference/options/contracts/O:NVDA261218C00500000";
    let (status, request_id, body) = get(&sim, path, Some("k3y")).await;
    assert_eq!(status, 200);
    assert_eq!(request_id.len(), 32);
    assert!(
        request_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{request_id}"
    );
    assert_eq!(
        body,
        json!({"request_id": request_id, "status": "OK", "results": {
            "cfi": "OCASPS", "contract_type": "call", "exercise_style": "american",
            "expiration_date": "2026-12-18", "primary_exchange": "BATO",
            "shares_per_contract": 100, "strike_price": 500,
            "ticker": "O:NVDA261218C00500000", "underlying_ticker": "NVDA"}})
    );
    let (status, _, body) = get(&sim, "/v3/reference/options/contracts/O:NVDA", Some("k3y")).await;
    assert_eq!(status, 404);
    assert_eq!(body["status"], "NOT_FOUND");
    assert_eq!(body["message"], "Contract not found.");
    assert!(body["request_id"].is_string());
    sim.stop().await;
}

#[actix::test]
async fn tickers_answer_from_the_built_in_table() {
    let sim = start_sim(keyed()).await;
    let (status, _, body) = get(&sim, "/v3/reference/tickers/SPY", Some("k3y")).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "OK");
    let results = &body["results"];
    assert_eq!(results["ticker"], "SPY");
    assert_eq!(results["type"], "ETF");
    assert_eq!(results["market"], "stocks");
    assert_eq!(results["locale"], "us");
    assert_eq!(results["active"], true);
    assert_eq!(results["currency_name"], "usd");
    let (status, _, body) = get(&sim, "/v3/reference/tickers/ZI", Some("k3y")).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"status": "NOT_FOUND", "request_id": body["request_id"], "message": "Ticker not found."})
    );
    sim.stop().await;
}

#[actix::test]
async fn missing_or_wrong_keys_get_401_and_the_query_key_works() {
    let sim = start_sim(keyed()).await;
    let path = "/v3/reference/tickers/AAPL";
    let (status, _, body) = get(&sim, path, None).await;
    assert_eq!(status, 401);
    assert_eq!(body["status"], "ERROR");
    assert_eq!(body["error"], "API Key was not provided");
    let (status, _, body) = get(&sim, path, Some("nope")).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "Unknown API Key");
    let (status, _, body) = get(&sim, &format!("{path}?apiKey=k3y"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(SimStats::get(&sim.stats.rest_requests), 3);
    sim.stop().await;

    let open = start_sim(SimConfig::default()).await;
    let (status, _, _) = get(&open, path, None).await;
    assert_eq!(status, 200, "without a configured key anything goes");
    open.stop().await;
}

#[actix::test]
async fn a_slow_rest_answer_never_slows_the_stream() {
    let delay = Duration::from_millis(2500);
    let sim = start_sim(SimConfig {
        rest_delay: delay,
        ..SimConfig::default()
    })
    .await;
    let url = format!("{}/v3/reference/tickers/NVDA", sim.rest_url());
    let started = Instant::now();
    let slow = actix_rt::spawn(async move { reqwest::get(url).await.map(|r| r.status()) });
    let mut ws = WsClient::connect(&sim.ws_url("stocks")).await;
    ws.login("any", "T.*").await;
    ws.collect(500).await;
    assert!(
        started.elapsed() < delay,
        "500 events took {:?} while a REST answer was held back",
        started.elapsed()
    );
    let status = slow
        .await
        .expect("the task ends")
        .expect("the request completes");
    assert_eq!(status.as_u16(), 200);
    assert!(started.elapsed() >= delay);
    sim.stop().await;
}

#[actix::test]
async fn injected_statuses_come_first_then_normal_answers() {
    let sim = start_sim(SimConfig {
        faults: Faults {
            rest_statuses: vec![429, 500],
            ..Faults::default()
        },
        ..keyed()
    })
    .await;
    let url = format!("{}/v3/reference/tickers/AAPL", sim.rest_url());
    let client = reqwest::Client::new();
    let limited = client
        .get(&url)
        .bearer_auth("k3y")
        .send()
        .await
        .expect("the request completes");
    assert_eq!(limited.status().as_u16(), 429);
    let retry_after = limited.headers().get("retry-after").cloned();
    assert_eq!(
        retry_after.as_ref().and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let body: Value = limited.json().await.expect("a JSON body");
    assert_eq!(
        body,
        json!({"status": "ERROR", "request_id": body["request_id"], "error": RATE_LIMIT_ERROR})
    );
    assert!(RATE_LIMIT_ERROR.starts_with("You've exceeded the maximum requests per minute"));
    let (status, _, body) = get(&sim, "/v3/reference/tickers/AAPL", Some("k3y")).await;
    assert_eq!(status, 500);
    assert_eq!(body["status"], "ERROR");
    assert!(body["error"].is_string(), "{body}");
    let (status, _, body) = get(&sim, "/v3/reference/tickers/AAPL", Some("k3y")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"]["ticker"], "AAPL");
    assert_eq!(SimStats::get(&sim.stats.rest_requests), 3);
    sim.stop().await;
}

#[actix::test]
async fn option_snapshots_answer_in_the_documented_shape() {
    let sim = start_sim(keyed()).await;
    let path = "/v3/snapshot/options/AMZN/O:AMZN261218C00250000";
    let (status, _, body) = get(&sim, path, Some("k3y")).await;
    assert_eq!(status, 200);
    let results = &body["results"];
    for key in [
        "break_even_price",
        "day",
        "details",
        "greeks",
        "implied_volatility",
        "last_quote",
        "open_interest",
        "underlying_asset",
    ] {
        assert!(results.get(key).is_some(), "{key} missing: {results}");
    }
    assert_eq!(results["open_interest"], super::FLOW_OPEN_INTEREST);
    assert_eq!(results["details"]["shares_per_contract"], 100);
    assert_eq!(results["details"]["contract_type"], "call");
    assert_eq!(results["underlying_asset"]["ticker"], "AMZN");
    assert!(results["day"]["volume"].is_u64());
    let other = "/v3/snapshot/options/NVDA/O:NVDA261218C00500000";
    let (_, _, body) = get(&sim, other, Some("k3y")).await;
    assert_eq!(body["results"]["open_interest"], super::OTHER_OPEN_INTEREST);
    // The underlying in the path must be the contract's.
    let wrong = "/v3/snapshot/options/AAPL/O:NVDA261218C00500000";
    assert_eq!(get(&sim, wrong, Some("k3y")).await.0, 404);
    assert_eq!(get(&sim, path, Some("wrong")).await.0, 401);
}
