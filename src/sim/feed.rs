//! The Polygon WebSocket endpoints `/stocks` and `/options`: routing, the state
//! all connections share, and the upgrade that starts a [`Connection`].
//!
//! The script position is shared by all connections to one market: events
//! pulled by one connection are not seen by another, and a reconnecting client
//! resumes where the last one stopped. Events that a connection's subscriptions
//! filter out are still consumed, so trade indices stay those of the schedule.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use tapewatch_actors::secret::ApiKey;
use tokio::sync::watch;

use super::conn_limit::ConnectionLimit;
use super::connection::Connection;
use super::faults::Faults;
use super::instruments::Market;
use super::script::Script;
use super::stats::SimStats;

/// Largest client message accepted (Polygon allows 1 MB subscribe messages).
const MAX_CLIENT_MESSAGE: usize = 1 << 20;

/// What every connection of one simulator shares.
pub(crate) struct FeedShared {
    /// The key clients must present; None accepts any.
    pub key: Option<ApiKey>,
    /// How long a client may take to send `auth`.
    pub auth_timeout: Duration,
    /// Events generated per second per connection; None is unpaced.
    pub events_per_second: Option<u64>,
    /// Largest number of events in one data frame.
    pub events_per_frame: usize,
    /// The stock script.
    pub stocks: Mutex<Script>,
    /// The options script.
    pub options: Mutex<Script>,
    /// Counters and the client message log.
    pub stats: Arc<SimStats>,
    /// Turns true (or closes) when the simulator stops.
    pub shutdown: watch::Receiver<bool>,
    /// The failures to inject.
    pub faults: Faults,
    /// The open authenticated connections, for `max_connections`.
    pub limit: ConnectionLimit,
    /// Connections accepted so far on `/stocks` and on `/options`, which
    /// decides which ones are faulty.
    pub accepted: [AtomicU64; 2],
}

impl FeedShared {
    /// The shared script of `market`.
    pub(crate) fn script(&self, market: Market) -> &Mutex<Script> {
        match market {
            Market::Stocks => &self.stocks,
            Market::Options => &self.options,
        }
    }

    /// Numbers a newly accepted connection within its market, from 0.
    fn next_index(&self, market: Market) -> u64 {
        let counter = match market {
            Market::Stocks => &self.accepted[0],
            Market::Options => &self.accepted[1],
        };
        counter.fetch_add(1, Ordering::Relaxed)
    }
}

/// Registers the WebSocket routes.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stocks", web::get().to(stocks))
        .route("/options", web::get().to(options));
}

async fn stocks(
    req: HttpRequest,
    body: web::Payload,
    shared: web::Data<FeedShared>,
) -> actix_web::Result<HttpResponse> {
    open(&req, body, shared, Market::Stocks)
}

async fn options(
    req: HttpRequest,
    body: web::Payload,
    shared: web::Data<FeedShared>,
) -> actix_web::Result<HttpResponse> {
    open(&req, body, shared, Market::Options)
}

/// Upgrades the request and spawns the connection's task.
fn open(
    req: &HttpRequest,
    body: web::Payload,
    shared: web::Data<FeedShared>,
    market: Market,
) -> actix_web::Result<HttpResponse> {
    let (response, session, stream) = actix_ws::handle(req, body)?;
    let index = shared.next_index(market);
    let faulty = shared.faults.is_faulty(index);
    let id = shared.stats.open_connection(market, index, faulty);
    let stream = stream
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .aggregate_continuations()
        .max_continuation_size(MAX_CLIENT_MESSAGE);
    let connection = Connection::new(shared.into_inner(), market, id, faulty);
    actix_web::rt::spawn(connection.run(session, stream));
    Ok(response)
}
