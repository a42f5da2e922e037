//! Connection timing and limits (the `[connection]` section of the config).

use serde::{Deserialize, Serialize};

/// Connection timing and limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionConfig {
    /// Time allowed for TCP + TLS + WebSocket upgrade, and for each handshake step.
    pub handshake_timeout_ms: u64,
    /// Send a WebSocket ping after this long without any frame from the server.
    pub ping_after_ms: u64,
    /// No frame at all within this long after a ping means the socket is dead.
    pub pong_timeout_ms: u64,
    /// How long to wait for subscription acknowledgements before streaming anyway.
    pub ack_timeout_ms: u64,
    /// Largest frame (or joined fragmented message) accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Smallest reconnect delay.
    pub backoff_min_ms: u64,
    /// Cap on the reconnect delay; delays grow exponentially up to it, with full jitter.
    pub backoff_max_ms: u64,
    /// A connection that stayed up this long resets the backoff.
    pub healthy_after_ms: u64,
    /// Wait after the provider said the key has too many connections.
    pub max_connections_cooldown_ms: u64,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            handshake_timeout_ms: 10_000,
            ping_after_ms: 10_000,
            pong_timeout_ms: 10_000,
            ack_timeout_ms: 10_000,
            max_frame_bytes: 16 << 20,
            backoff_min_ms: 250,
            backoff_max_ms: 30_000,
            healthy_after_ms: 60_000,
            max_connections_cooldown_ms: 60_000,
        }
    }
}
