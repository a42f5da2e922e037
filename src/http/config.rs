//! The `[http]` section: where the API listens, who may use it, and how much
//! each downstream WebSocket client may queue and ask.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::auth::{Auth, Token};

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
        Ok(())
    }
}
