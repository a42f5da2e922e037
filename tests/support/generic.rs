//! What the generic provider's whole-service tests share: the example
//! files pointed at a test server, and the service (pipeline and HTTP API)
//! configured by them.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tapewatch::actors::events::EventKind;
use tapewatch::actors::messages::Output;
use tapewatch::actors::secret::Credentials;
use tapewatch::actors::ws_session::SessionState;
use tapewatch::config::{Config, StdoutFormat};
use tapewatch::http::{self, HttpHandle};
use tapewatch::pipeline::Pipeline;
use tokio::sync::mpsc;

use super::feed_server::FeedServer;
use super::http::call;
use super::{collector, eventually, Received};

pub const FINNHUB: &str = include_str!("../../examples/generic-finnhub.toml");
pub const KUCOIN: &str = include_str!("../../examples/generic-kucoin.toml");
/// The token the tests' KuCoin server wants in the upgrade URL.
pub const TOKEN: &str = "kc-test-token";
pub const LIMIT: Duration = Duration::from_secs(20);

pub fn now_ms() -> i64 {
    tapewatch::actors::messages::unix_ms()
}

/// An example file's configuration, pointed at `server`, quiet, with fast
/// timers and a short detector warm-up.
pub fn example(text: &str, server: &FeedServer, query: &str) -> Config {
    std::env::set_var("FINNHUB_TOKEN", "fh-test-token");
    std::env::set_var("KUCOIN_WS_TOKEN", TOKEN);
    let mut config = Config::parse(text).expect("the example parses");
    config.feeds[0].url = format!("{}{query}", server.url());
    config.output.stdout = StdoutFormat::Off;
    config.pipeline.progress_interval_s = 0;
    config.connection.backoff_min_ms = 20;
    config.connection.backoff_max_ms = 100;
    config.detector.warmup_trades = 50;
    config.http.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    config.validate("test").expect("the example is valid");
    config
}

pub fn no_credentials() -> Credentials {
    tapewatch::credentials::from_env("generic", |_| None).expect("generic needs no key")
}

/// The pipeline and the HTTP server in front of it.
pub struct Service {
    pub pipeline: Pipeline,
    pub server: HttpHandle,
    pub outputs: mpsc::UnboundedReceiver<Output>,
}

impl Service {
    pub async fn start(config: Config) -> Service {
        let (outputs_tx, outputs) = collector();
        let pipeline = tapewatch::app::builder(config.clone(), no_credentials())
            .with_hub(config.pipeline.subscriber_queue)
            .subscribe_outputs(outputs_tx)
            .start()
            .expect("pipeline starts");
        let hub = pipeline.hub().expect("a hub");
        let server = http::serve(config.http.clone(), pipeline.handle(), hub)
            .await
            .expect("server starts");
        Service {
            pipeline,
            server,
            outputs,
        }
    }

    pub async fn state(&self) -> Option<SessionState> {
        let sessions = self.pipeline.handle().sessions().await;
        sessions.first().map(|s| s.state)
    }

    pub async fn streaming(&self) -> bool {
        let deadline = tokio::time::Instant::now() + LIMIT;
        while self.state().await != Some(SessionState::Streaming) {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    pub async fn change(&self, method: Method, topics: &[&str]) -> (StatusCode, Value) {
        let url = format!("{}/subscriptions", self.server.url());
        let body = json!({ "topics": topics }).to_string();
        let (status, _, answer) = call(method, &url, None, Some(&body)).await;
        (status, answer)
    }

    pub fn trades(&self) -> u64 {
        self.pipeline.metrics.events(EventKind::Trade).get()
    }

    /// Waits until `count` trades were decoded and one alert on `symbol`
    /// was written.
    pub async fn decoded_and_alerted(&mut self, count: u64, symbol: &str) {
        assert!(
            eventually(LIMIT, || self.trades() == count).await,
            "decoded {} of {count} trades",
            self.trades()
        );
        let mut got = Received::default();
        let alerted = got
            .until(&mut self.outputs, LIMIT, |r| {
                r.alerts.iter().any(|a| a.symbol == symbol)
            })
            .await;
        assert!(alerted, "no alert on {symbol}: {:?}", got.alerts);
    }

    pub async fn stop(self) {
        self.server.stop().await;
        self.pipeline.shutdown(Duration::from_secs(1)).await;
    }
}

/// Waits until the server received a message that contains every part.
pub async fn server_got(server: &FeedServer, parts: &[&str]) -> bool {
    eventually(LIMIT, || {
        server
            .received()
            .iter()
            .any(|(_, m)| parts.iter().all(|p| m.contains(p)))
    })
    .await
}
