//! Helpers for HTTP tests: a simulator, a pipeline and the HTTP server
//! together, and plain requests against it.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tapewatch::actors::messages::Output;
use tapewatch::config::Config;
use tapewatch::http::{self, HttpHandle};
use tapewatch::pipeline::Pipeline;
use tapewatch_sim::{self as sim, SimConfig, SimHandle};
use tokio::sync::mpsc;

use crate::support::{collector, config_for, key};

/// A simulator config sending `events_per_second` on each feed.
pub fn paced(events_per_second: u64) -> SimConfig {
    SimConfig {
        events_per_second: Some(events_per_second),
        ..SimConfig::default()
    }
}

/// A simulator, a pipeline watching it, and the HTTP server in front.
pub struct Service {
    pub sim: SimHandle,
    pub pipeline: Pipeline,
    pub server: HttpHandle,
    /// Every output record the pipeline produced, for comparison.
    pub outputs: mpsc::UnboundedReceiver<Output>,
}

impl Service {
    /// Starts everything; `tweak` adjusts the config before the pipeline starts.
    pub async fn start(
        sim_config: SimConfig,
        markets: &[&str],
        tweak: impl FnOnce(&mut Config),
    ) -> Service {
        let sim = sim::start(sim_config).await.expect("simulator starts");
        let mut config = config_for(&sim, markets);
        tweak(&mut config);
        let (outputs_tx, outputs) = collector();
        let pipeline = tapewatch::app::builder(config.clone(), key("k"))
            .with_hub(config.http.hub_queue)
            .subscribe_outputs(outputs_tx)
            .start()
            .expect("pipeline starts");
        let hub = pipeline.hub().expect("a hub was asked for");
        let server = http::serve(config.http.clone(), pipeline.handle(), hub)
            .await
            .expect("server starts");
        Service {
            sim,
            pipeline,
            server,
            outputs,
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// `ws://127.0.0.1:PORT/ws`.
    pub fn ws_url(&self) -> String {
        self.url("/ws").replacen("http://", "ws://", 1)
    }

    /// The server's loopback address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.server.addr().port()))
    }

    /// Stops the server, the pipeline and the simulator.
    pub async fn stop(self) {
        self.server.stop().await;
        self.pipeline.shutdown(Duration::from_secs(1)).await;
        self.sim.stop().await;
    }
}

/// Waits until `cond` holds, checking every 20 ms, for at most `limit`.
pub async fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while !cond() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// One request; the status, the body, and the body parsed as JSON (`Null`
/// when empty or not JSON).
pub async fn call(
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, String, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request
            .header("content-type", "application/json")
            .body(b.to_owned());
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, text, json)
}

/// `GET path` without a token: the status and the JSON body.
pub async fn get(svc: &Service, path: &str) -> (StatusCode, Value) {
    let (status, _, json) = call(Method::GET, &svc.url(path), None, None).await;
    (status, json)
}

/// Polls `/ready` until it answers `want` or 20 s pass.
pub async fn ready_is(svc: &Service, want: StatusCode) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::time::Instant::now() < deadline {
        if get(svc, "/ready").await.0 == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
