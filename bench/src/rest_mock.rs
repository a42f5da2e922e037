//! A tiny Polygon REST server for enrichment, with an adjustable delay.
//!
//! It answers `GET /v3/reference/options/contracts/{ticker}` and
//! `GET /v3/reference/tickers/{ticker}` with a small `results` object after the
//! current delay, which the benchmark changes between phases (instant, then
//! 2 s for the isolation test). It runs actix-web with one worker in an actix
//! System of its own thread, so its work is visible as a thread of its own.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};

/// State shared with the handlers.
#[derive(Debug, Default)]
pub struct RestState {
    /// Delay before each answer, milliseconds; read when a request arrives.
    pub delay_ms: AtomicU64,
    /// Requests answered.
    pub requests: AtomicU64,
}

/// A running mock; [`RestMock::stop`] ends it.
pub struct RestMock {
    /// The bound loopback address.
    pub addr: SocketAddr,
    /// Delay and counters.
    pub state: Arc<RestState>,
    server: ServerHandle,
}

impl RestMock {
    /// Binds 127.0.0.1:0 and serves in a new thread.
    pub fn start() -> std::io::Result<RestMock> {
        let state = Arc::new(RestState::default());
        let data = web::Data::from(state.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("bench-rest".into())
            .spawn(move || {
                let system = actix_web::rt::System::new();
                system.block_on(async move {
                    let server = HttpServer::new(move || {
                        App::new()
                            .app_data(data.clone())
                            .route(
                                "/v3/reference/options/contracts/{ticker}",
                                web::get().to(contract),
                            )
                            .route("/v3/reference/tickers/{ticker}", web::get().to(ticker))
                    })
                    .workers(1)
                    .disable_signals()
                    .shutdown_timeout(1)
                    .bind(("127.0.0.1", 0));
                    let server = match server {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    let addr = server.addrs().first().copied();
                    let running = server.run();
                    let _ = tx.send(
                        addr.map(|a| (a, running.handle()))
                            .ok_or_else(|| std::io::Error::other("no address bound")),
                    );
                    let _ = running.await;
                });
            })?;
        let (addr, server) = rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| std::io::Error::other("the REST mock did not start"))??;
        Ok(RestMock {
            addr,
            state,
            server,
        })
    }

    /// The base URL for `[rest] base_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sets the delay of answers to requests arriving from now on.
    pub fn set_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.state.delay_ms.store(ms, Ordering::Relaxed);
    }

    /// Stops the server, waiting at most about a second.
    pub async fn stop(self) {
        self.server.stop(false).await;
    }
}

async fn answer(state: &RestState, results: serde_json::Value) -> HttpResponse {
    let delay = state.delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(delay)).await;
    }
    let id = state.requests.fetch_add(1, Ordering::Relaxed);
    HttpResponse::Ok().json(serde_json::json!({
        "results": results,
        "status": "OK",
        "request_id": format!("bench-{id}"),
    }))
}

async fn contract(path: web::Path<String>, state: web::Data<RestState>) -> HttpResponse {
    let ticker = path.into_inner();
    let results = serde_json::json!({
        "ticker": ticker,
        "contract_type": "call",
        "exercise_style": "american",
        "expiration_date": "2027-01-15",
        "shares_per_contract": 100,
        "strike_price": 100,
        "underlying_ticker": ticker.get(2..5).unwrap_or_default(),
    });
    answer(&state, results).await
}

async fn ticker(path: web::Path<String>, state: web::Data<RestState>) -> HttpResponse {
    let ticker = path.into_inner();
    let results = serde_json::json!({
        "ticker": ticker,
        "name": format!("{ticker} Benchmark Corp"),
        "market": "stocks",
        "locale": "us",
        "primary_exchange": "XNAS",
        "type": "CS",
        "active": true,
        "currency_name": "usd",
    });
    answer(&state, results).await
}
