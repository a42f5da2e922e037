//! The `[http]` section: where the API listens, who may use it, and how much
//! each downstream WebSocket client may queue and ask.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::auth::{Auth, Token};
use super::hub_state::StateSettings;

/// Largest `state_max_symbols` accepted: the table grows with what the feeds
/// send, so its cap must be one memory can hold (about 300 bytes a symbol).
pub const MAX_STATE_SYMBOLS: usize = 1_000_000;

/// Largest `hub_queue` accepted (each slot holds a pointer to a shared batch).
pub const MAX_HUB_QUEUE: usize = 1 << 20;

/// Environment variable that holds the API token (preferred over the file).
pub const TOKEN_ENV: &str = "TAPEWATCH_TOKEN";

/// Settings of the HTTP API and the downstream WebSocket endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Serve the API at all.
    pub enabled: bool,
    /// Address to listen on, `IP:port`. Anything but loopback needs a token.
    pub bind: SocketAddr,
    /// Bearer token required on every endpoint but `/health`; the
    /// `TAPEWATCH_TOKEN` environment variable overrides it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Token>,
    /// Updates queued for one WebSocket client before it counts as too slow
    /// and is disconnected.
    pub client_queue: usize,
    /// WebSocket clients served at once; more are refused with 503.
    pub max_clients: usize,
    /// Requests one WebSocket client may send per second, on average ...
    pub requests_per_second: u32,
    /// ... and in one burst.
    pub request_burst: u32,
    /// Origins besides the server's own whose pages may use the API and
    /// `/ws` from a browser (`https://tape.example.com`), for a reverse proxy
    /// that changes `Host`. See [`super::origin`].
    pub allowed_origins: Vec<String>,
    /// Symbols whose latest quote and last trade the state topics
    /// (`quotes:`, `last:`) keep; events of further symbols are counted in
    /// `tapewatch_ws_state_untracked_total` and not kept.
    pub state_max_symbols: usize,
    /// Shortest time between two publishes of state topics, in
    /// milliseconds: a key changes for its subscribers at most this often.
    pub state_interval_ms: u64,
    /// Kernel send buffer of each WebSocket connection, in bytes (0 keeps
    /// the system's default, which grows to megabytes): what a slow reader
    /// has not read yet waits there, before conflation can replace it.
    pub ws_send_buffer: usize,
    /// Event batches (one per frame) waiting for the `/ws` hub, which folds
    /// every quote and trade into the state table; beyond it the pipeline
    /// sheds to the hub and counts it (`tapewatch_dropped_total{stage="subscriber"}`).
    pub hub_queue: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            enabled: true,
            bind: SocketAddr::from(([127, 0, 0, 1], 8787)),
            token: None,
            client_queue: 1024,
            max_clients: 256,
            requests_per_second: 50,
            request_burst: 100,
            allowed_origins: Vec::new(),
            state_max_symbols: crate::http::state::DEFAULT_MAX_SYMBOLS,
            state_interval_ms: crate::http::hub_state::DEFAULT_INTERVAL.as_millis() as u64,
            ws_send_buffer: 64 * 1024,
            hub_queue: 32_768,
        }
    }
}

impl HttpConfig {
    /// The token in force: `TAPEWATCH_TOKEN` if set and not blank, else the
    /// configured one.
    pub fn resolved_token(&self) -> Option<Token> {
        std::env::var(TOKEN_ENV)
            .ok()
            .map(Token::new)
            .filter(|t| !t.is_empty())
            .or_else(|| self.token.clone().filter(|t| !t.is_empty()))
    }

    /// The access rule these settings ask for.
    pub fn auth(&self) -> Result<Auth, String> {
        Auth::for_bind(self.bind, self.resolved_token()).map_err(|e| e.to_string())
    }

    /// How the hub keeps state topics.
    pub fn state_settings(&self) -> StateSettings {
        StateSettings {
            max_symbols: self.state_max_symbols,
            interval: Duration::from_millis(self.state_interval_ms),
        }
    }

    /// Checks values that parse but cannot work; the error names the key
    /// (without the `http.` prefix) and says why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !self.enabled {
            return Ok(());
        }
        if let Err(e) = self.auth() {
            return Err(("token", e));
        }
        let positive = [
            ("client_queue", self.client_queue as u64),
            ("max_clients", self.max_clients as u64),
            ("requests_per_second", u64::from(self.requests_per_second)),
            ("request_burst", u64::from(self.request_burst)),
            ("state_max_symbols", self.state_max_symbols as u64),
            ("hub_queue", self.hub_queue as u64),
        ];
        if let Some(bad) = self
            .allowed_origins
            .iter()
            .find(|o| !super::origin::is_origin(o))
        {
            return Err((
                "allowed_origins",
                format!("`{bad}` is not an origin: expected scheme and host, such as https://tape.example.com or http://127.0.0.1:8787, with no path"),
            ));
        }
        for (key, value) in positive {
            // A zero would mean an unbounded mailbox (actix) or a client that
            // may never ask anything.
            if value == 0 {
                return Err((key, "must be at least 1".to_owned()));
            }
        }
        if self.state_max_symbols > MAX_STATE_SYMBOLS {
            let why = format!("must be at most {MAX_STATE_SYMBOLS}");
            return Err(("state_max_symbols", why));
        }
        if self.hub_queue > MAX_HUB_QUEUE {
            return Err(("hub_queue", format!("must be at most {MAX_HUB_QUEUE}")));
        }
        if self.state_interval_ms > 10_000 {
            return Err(("state_interval_ms", "must be at most 10000".to_owned()));
        }
        Ok(())
    }
}
