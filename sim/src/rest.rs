//! The simulated Polygon REST endpoints used for enrichment:
//! `GET /v3/reference/options/contracts/{ticker}`,
//! `GET /v3/reference/tickers/{ticker}`, and the option contract snapshot
//! `GET /v3/snapshot/options/{underlying}/{contract}`.
//!
//! The key is read from `Authorization: Bearer KEY` or `?apiKey=KEY`. Error
//! bodies follow the service: 401 answers use an `error` field, 404 answers a
//! `message` field. Every answer, errors included, waits `rest_delay` first; the
//! wait is asynchronous, so a slow REST answer never holds up the WebSocket
//! connections served by the same worker. The first answers may be injected
//! errors ([`super::Faults::rest_statuses`], see [`super::rest_faults`]).

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use tapewatch_actors::secret::ApiKey;

use super::fault_plan::FaultPlan;
use super::reference_data::{parse_occ, ticker_results};
use super::rest_faults::injected_error;
use super::snapshot_data::snapshot_results;
use super::stats::SimStats;

/// What the REST handlers share.
pub(crate) struct RestShared {
    /// The key requests must carry; None accepts any request.
    pub key: Option<ApiKey>,
    /// The delay and injected statuses in force.
    pub plan: Arc<FaultPlan>,
    /// Counts requests and numbers them for request ids.
    pub stats: Arc<SimStats>,
}

/// Registers the REST routes.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v3/reference/options/contracts/{ticker}",
        web::get().to(options_contract),
    )
    .route("/v3/reference/tickers/{ticker}", web::get().to(ticker))
    .route(
        "/v3/snapshot/options/{underlying}/{contract}",
        web::get().to(option_snapshot),
    );
}

async fn option_snapshot(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<RestShared>,
) -> HttpResponse {
    let (underlying, contract) = path.into_inner();
    answer(&req, &shared, |request_id| match parse_occ(&contract) {
        Some(c) if c.root == underlying => ok(request_id, snapshot_results(&c)),
        _ => not_found(request_id, "Contract not found."),
    })
    .await
}

async fn options_contract(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<RestShared>,
) -> HttpResponse {
    answer(&req, &shared, |request_id| match parse_occ(&path) {
        Some(contract) => ok(request_id, contract.to_results()),
        None => not_found(request_id, "Contract not found."),
    })
    .await
}

async fn ticker(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<RestShared>,
) -> HttpResponse {
    answer(&req, &shared, |request_id| match ticker_results(&path) {
        Some(results) => ok(request_id, results),
        None => not_found(request_id, "Ticker not found."),
    })
    .await
}

/// Counts the request, waits the configured delay, answers with an injected
/// status if one is due, checks the key and, if it passes, builds the answer
/// with `respond`.
async fn answer(
    req: &HttpRequest,
    shared: &RestShared,
    respond: impl FnOnce(&str) -> HttpResponse,
) -> HttpResponse {
    let number = shared.stats.next_rest_request();
    let request_id = request_id(number);
    let plan = shared.plan.for_request(number);
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    if let Some(response) = plan
        .status
        .and_then(|status| injected_error(status, &request_id, plan.retry_after_s))
    {
        return response;
    }
    match check_key(req, shared.key.as_ref()) {
        Ok(()) => respond(&request_id),
        Err(error) => respond_json(
            StatusCode::UNAUTHORIZED,
            &request_id,
            json!({"status": "ERROR", "request_id": request_id, "error": error}),
        ),
    }
}

#[derive(Deserialize)]
struct KeyQuery {
    #[serde(rename = "apiKey")]
    api_key: Option<String>,
}

/// Accepts the request when no key is configured, or when the bearer header or
/// the `apiKey` query parameter carries the configured key.
fn check_key(req: &HttpRequest, expected: Option<&ApiKey>) -> Result<(), &'static str> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|key| key.trim().to_owned());
    let query = web::Query::<KeyQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().api_key);
    match bearer.or(query) {
        None => Err("API Key was not provided"),
        Some(key) if key == expected.expose() => Ok(()),
        Some(_) => Err("Unknown API Key"),
    }
}

fn ok(request_id: &str, results: Value) -> HttpResponse {
    respond_json(
        StatusCode::OK,
        request_id,
        json!({"request_id": request_id, "results": results, "status": "OK"}),
    )
}

fn not_found(request_id: &str, message: &str) -> HttpResponse {
    respond_json(
        StatusCode::NOT_FOUND,
        request_id,
        json!({"status": "NOT_FOUND", "request_id": request_id, "message": message}),
    )
}

pub(super) fn respond_json(status: StatusCode, request_id: &str, body: Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("X-Request-Id", request_id))
        .json(body)
}

/// A 32-digit hex request id derived from the request number, so runs repeat.
fn request_id(n: u64) -> String {
    format!("{:016x}{:016x}", mix(n), mix(n ^ 0x5bd1_e995_5bd1_e995))
}

/// The splitmix64 finaliser: spreads consecutive numbers over the whole range.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
