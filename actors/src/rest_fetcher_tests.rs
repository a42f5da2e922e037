//! RestFetcher against a scripted HTTP server on 127.0.0.1: the harness and
//! the paths that end in reference data.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant as TokioInstant};

use super::*;
use crate::events::AssetClass;
use crate::messages::{Anomaly, AnomalyKind, EnrichStatus, Enrichment, Scope};
use crate::stage::StageSender;

const KEY: &str = "test-key-123";
const OPTION: &str = "O:NVDA261218C00500000";

/// What the fake provider does: a status per hit (the last one repeats) and
/// a pause before answering.
#[derive(Clone)]
struct Script {
    statuses: Vec<u16>,
    delay: Duration,
    hits: Arc<AtomicUsize>,
    /// Path and `Authorization` header of every hit.
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl Script {
    fn new(statuses: &[u16], delay_ms: u64) -> Self {
        Script {
            statuses: statuses.to_vec(),
            delay: Duration::from_millis(delay_ms),
            hits: Arc::default(),
            seen: Arc::default(),
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn provider(req: HttpRequest, script: web::Data<Script>) -> HttpResponse {
    let n = script.hits.fetch_add(1, Ordering::SeqCst);
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    script
        .seen
        .lock()
        .expect("lock")
        .push((req.path().to_owned(), auth.to_owned()));
    tokio::time::sleep(script.delay).await;
    let status = script.statuses[n.min(script.statuses.len() - 1)];
    let ticker = req.path().rsplit('/').next().unwrap_or("").to_owned();
    match status {
        200 if req.path().starts_with("/v3/snapshot/") => {
            HttpResponse::Ok().json(serde_json::json!({"status": "OK", "request_id": "r1", "results": {
                "open_interest": 8921, "day": {"volume": 37}, "implied_volatility": 0.3,
                "details": {"ticker": ticker, "shares_per_contract": 100}}}))
        }
        200 => HttpResponse::Ok().json(serde_json::json!({"status": "OK", "request_id": "r1", "results": {
            "ticker": ticker, "contract_type": "call", "strike_price": 500,
            "underlying_ticker": "NVDA", "expiration_date": "2026-12-18"}})),
        404 => HttpResponse::NotFound().json(serde_json::json!({"status": "NOT_FOUND", "message": "Ticker not found."})),
        429 => HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", "1"))
            .json(serde_json::json!({"status": "ERROR", "error": "You've exceeded the maximum requests per minute"})),
        code => HttpResponse::build(actix_web::http::StatusCode::from_u16(code).expect("status"))
            .json(serde_json::json!({"status": "ERROR", "error": "server trouble"})),
    }
}

/// Starts the fake provider on an ephemeral port; returns its base URL.
fn serve(script: &Script) -> String {
    let data = web::Data::new(script.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(provider))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(0)
    .bind(("127.0.0.1", 0))
    .expect("bind");
    let addr = server.addrs()[0];
    actix_rt::spawn(server.run());
    format!("http://{addr}")
}

#[path = "rest_fetcher_tests_faults.rs"]
mod faults;

#[path = "rest_fetcher_tests_bounds.rs"]
mod bounds;

#[path = "rest_fetcher_tests_snapshot.rs"]
mod snapshot;

struct Collector(mpsc::UnboundedSender<Output>);

impl Actor for Collector {
    type Context = Context<Self>;
}

impl Handler<Output> for Collector {
    type Result = ();
    fn handle(&mut self, msg: Output, _: &mut Context<Self>) {
        let _ = self.0.send(msg);
    }
}

/// Settings with short retry pauses, so tests spend their time only where
/// they mean to.
fn config(base_url: String) -> RestConfig {
    RestConfig {
        base_url,
        retry_base_ms: 10,
        retry_max_ms: 2_000,
        ..RestConfig::default()
    }
}

struct Rig {
    addr: Addr<RestFetcher>,
    rx: mpsc::UnboundedReceiver<Output>,
    cache: Arc<DashMap<Symbol, CacheEntry>>,
    metrics: Metrics,
    /// What the actor was built from, to build another incarnation.
    deps: RestFetcherDeps,
}

/// A fetcher wired to a collector.
fn rig(config: RestConfig, key: Option<&str>) -> Rig {
    let metrics = Metrics::new();
    let (tx, rx) = mpsc::unbounded_channel();
    let collector = Collector::create(|ctx| {
        ctx.set_mailbox_capacity(0);
        Collector(tx)
    });
    let sink = StageSender::new(collector.recipient(), StageGauge::new(&metrics, "sink"));
    let cache = Arc::new(DashMap::new());
    let client = RestClient::new(&config, key.map(ApiKey::new), &metrics).expect("client builds");
    let deps = RestFetcherDeps {
        config,
        client,
        metrics: metrics.clone(),
        gauge: StageGauge::new(&metrics, "rest"),
        outputs: Fanout::new(vec![sink]),
        cache: Arc::clone(&cache),
        unanswered: Arc::default(),
    };
    let fetcher = RestFetcher::new(deps.clone());
    Rig {
        addr: fetcher.start(),
        rx,
        cache,
        metrics,
        deps,
    }
}

fn alert(id: u64, symbol: &str) -> EnrichRequest {
    EnrichRequest(Arc::new(Anomaly {
        id,
        symbol: symbol.into(),
        underlying: None,
        class: AssetClass::of(symbol),
        scope: Scope::Symbol,
        kind: AnomalyKind::VolumeSpike,
        rule: "volume_spike",
        thresholds: Default::default(),
        explanation: String::new(),
        flow: None,
        observed: 1.0,
        baseline: 1.0,
        score: 1.0,
        price: 1.0,
        size: 1.0,
        event_time_ms: 0,
        detected_at_ms: 0,
        feed: Arc::from("test"),
        received_at: None,
    }))
}

impl Rig {
    fn send(&self, id: u64, symbol: &str) {
        self.addr.do_send(alert(id, symbol));
    }

    async fn next(&mut self) -> Arc<Enrichment> {
        match timeout(Duration::from_secs(10), self.rx.recv()).await {
            Ok(Some(Output::Enrichment(e))) => e,
            other => panic!("expected an enrichment, got {other:?}"),
        }
    }

    fn requests(&self, label: &str) -> u64 {
        self.metrics.rest_requests.with_label_values(&[label]).get()
    }
}

#[actix::test]
async fn option_contract_is_fetched_with_bearer_key() {
    let script = Script::new(&[200], 0);
    let mut rig = rig(config(serve(&script)), Some(KEY));
    rig.send(1, OPTION);
    let e = rig.next().await;
    assert_eq!(
        (e.alert_id, e.status, e.cached),
        (1, EnrichStatus::Ok, false)
    );
    assert_eq!(e.symbol, OPTION);
    let d = e.details.as_ref().expect("details");
    assert_eq!(d["contract_type"], "call");
    assert_eq!(d["strike_price"], 500);
    assert_eq!(d["underlying_ticker"], "NVDA");
    assert_eq!(d["ticker"], OPTION, "the ticker reached the server raw");
    assert_eq!(script.hits(), 1);
    let seen = script.seen.lock().expect("lock").clone();
    let path = format!("/v3/reference/options/contracts/{OPTION}");
    assert_eq!(seen, vec![(path, format!("Bearer {KEY}"))]);
    assert_eq!(rig.requests("200"), 1);
    assert_eq!(rig.metrics.enrichments(EnrichStatus::Ok).get(), 1);
    assert_eq!(rig.metrics.rest_in_flight.get(), 0);
}

#[actix::test]
async fn second_request_is_served_from_cache() {
    let script = Script::new(&[200], 0);
    let mut rig = rig(config(serve(&script)), Some(KEY));
    // An options-flow alert on an underlying is enriched with the stock.
    let mut flow = (*alert(1, "NVDA").0).clone();
    (flow.scope, flow.class) = (Scope::Underlying, AssetClass::Option);
    rig.addr.do_send(EnrichRequest(Arc::new(flow)));
    assert!(!rig.next().await.cached);
    assert_eq!(
        script.seen.lock().expect("lock")[0].0,
        "/v3/reference/tickers/NVDA"
    );
    rig.send(2, "NVDA");
    let e = rig.next().await;
    assert_eq!(
        (e.alert_id, e.status, e.cached),
        (2, EnrichStatus::Ok, true)
    );
    assert_eq!(e.details.as_ref().expect("details")["ticker"], "NVDA");
    assert_eq!(script.hits(), 1);
    assert_eq!(rig.metrics.rest_cache_hits.get(), 1);
}

#[actix::test]
async fn concurrent_requests_share_one_http_call() {
    let script = Script::new(&[200], 200);
    let mut rig = rig(config(serve(&script)), Some(KEY));
    for id in 1..=5 {
        rig.send(id, OPTION);
    }
    let mut ids = Vec::new();
    for _ in 0..5 {
        let e = rig.next().await;
        assert_eq!((e.status, e.cached), (EnrichStatus::Ok, false));
        ids.push(e.alert_id);
    }
    ids.sort_unstable();
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    assert_eq!(script.hits(), 1);
}

#[test]
fn config_has_documented_defaults_and_rejects_unknown_keys() {
    let cfg: RestConfig = serde_json::from_str(r#"{"max_in_flight": 2}"#).expect("parses");
    assert_eq!(cfg.max_in_flight, 2);
    assert_eq!(cfg.base_url, "https://api.massive.com");
    assert_eq!(
        (cfg.timeout_ms, cfg.deadline_ms, cfg.max_retries),
        (5_000, 30_000, 3)
    );
    assert!(serde_json::from_str::<RestConfig>(r#"{"max_inflight": 2}"#).is_err());
    let metrics = Metrics::new();
    let client = RestClient::new(&cfg, Some(ApiKey::new(KEY)), &metrics).expect("client builds");
    let deps = RestFetcherDeps {
        config: cfg,
        client,
        gauge: StageGauge::new(&metrics, "rest"),
        metrics,
        outputs: Fanout::default(),
        cache: Arc::default(),
        unanswered: Arc::default(),
    };
    let shown = format!("{deps:?}");
    assert!(!shown.contains(KEY), "{shown}");
}
