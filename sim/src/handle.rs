//! [`SimHandle`]: a running simulator, its URLs and statistics, and what a
//! test or a soak may change while it runs (faults, REST delay, a hold).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use tokio::sync::watch;

use super::{feed, Faults, Market, SimStats};

/// A running simulator. Dropping it stops the server without waiting;
/// [`SimHandle::stop`] waits for it.
#[derive(Debug)]
pub struct SimHandle {
    /// The address the server listens on.
    pub addr: SocketAddr,
    /// What the simulator has seen and sent.
    pub stats: Arc<SimStats>,
    tls: bool,
    server: ServerHandle,
    shutdown: watch::Sender<bool>,
    control: SimControl,
}

/// What [`SimHandle`] changes while the simulator runs.
struct SimControl {
    feeds: Arc<feed::FeedShared>,
}

impl std::fmt::Debug for SimControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimControl")
            .field("faults", &self.feeds.faults)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    pub(crate) fn new(
        addr: SocketAddr,
        stats: Arc<SimStats>,
        tls: bool,
        server: ServerHandle,
        shutdown: watch::Sender<bool>,
        feeds: Arc<feed::FeedShared>,
    ) -> Self {
        SimHandle {
            addr,
            stats,
            tls,
            server,
            shutdown,
            control: SimControl { feeds },
        }
    }

    /// The WebSocket URL of a market, e.g. `ws://127.0.0.1:4242/stocks`
    /// (`wss://` when serving TLS), or of an Alpaca feed (`v2/iex`).
    pub fn ws_url(&self, market: &str) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        format!(
            "{scheme}://{}/{}",
            self.addr,
            market.trim_start_matches('/')
        )
    }

    /// The REST base URL, e.g. `http://127.0.0.1:4242` (`https://` when
    /// serving TLS).
    pub fn rest_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Puts `faults` in force for the connections accepted and the REST
    /// requests answered from now on; open connections keep theirs.
    /// `faulty_connections` and `rest_statuses` count from this call.
    pub fn set_faults(&self, faults: Faults) {
        let feeds = &self.control.feeds;
        let requests = SimStats::get(&self.stats.rest_requests);
        feeds.faults.set(faults, feeds.accepted(), requests);
    }

    /// While `held`, every connection keeps its socket and answers, but sends
    /// no data and pulls nothing from the script: a quiet moment in which a
    /// client can read all that was sent, e.g. before it pauses on purpose.
    pub fn hold(&self, held: bool) {
        self.control
            .feeds
            .hold
            .store(held, std::sync::atomic::Ordering::Relaxed);
    }

    /// Trades the script of `market` has generated so far (sent, or filtered
    /// out for connections that did not subscribe to them).
    pub fn trades_generated(&self, market: Market) -> u64 {
        let script = self.control.feeds.script(market, None);
        script
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .trades_generated()
    }

    /// Holds every REST answer back by `delay` from now on (zero: none).
    pub fn set_rest_delay(&self, delay: Duration) {
        self.control.feeds.faults.set_rest_delay(delay);
    }

    /// Closes every WebSocket with 1001 (going away), except deaf ones
    /// ([`Faults::deaf_after_frames`]), which end without a Close frame, and
    /// stops the server, waiting at most about a second for open connections.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        self.server.stop(true).await;
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        // Harmless after `stop`: the server has gone and ignores the command.
        let _ = self.shutdown.send(true);
        drop(self.server.stop(false));
    }
}
