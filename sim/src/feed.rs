//! The WebSocket endpoints: Polygon's `/stocks` and `/options`, or in Alpaca
//! mode Alpaca's `/v2/{feed}` ([`AlpacaFeed`]); routing, the state all
//! connections share, and the upgrade that starts a [`Connection`].
//!
//! The script position is shared by all connections to one market: events
//! pulled by one connection are not seen by another, and a reconnecting client
//! resumes where the last one stopped. Events that a connection's subscriptions
//! filter out are still consumed, so trade indices stay those of the schedule.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use tapewatch_actors::secret::ApiKey;
use tokio::sync::watch;

use super::alpaca_feed::{AlpacaFeed, AlpacaSession, Encoding};
use super::conn_limit::ConnectionLimit;
use super::connection::Connection;
use super::fault_plan::{market_slot, FaultPlan};
use super::instruments::Market;
use super::script::Script;
use super::stats::SimStats;
use super::SimProvider;

/// Largest client message accepted (Polygon allows 1 MB subscribe messages).
const MAX_CLIENT_MESSAGE: usize = 1 << 20;

/// What every connection of one simulator shares.
pub(crate) struct FeedShared {
    /// The key clients must present; None accepts any.
    pub key: Option<ApiKey>,
    /// The secret Alpaca clients must present; None accepts any.
    pub secret: Option<ApiKey>,
    /// How long a client may take to send `auth`.
    pub auth_timeout: Duration,
    /// Events generated per second per connection; None is unpaced.
    pub events_per_second: Option<u64>,
    /// Paced connections stamp events with the wall clock as they send them.
    pub wall_clock: bool,
    /// Largest number of events in one data frame.
    pub events_per_frame: usize,
    /// The stock script.
    pub stocks: Mutex<Script>,
    /// The options script.
    pub options: Mutex<Script>,
    /// The stock script of Alpaca's test feed, which has a position of its own.
    pub alpaca_test: Mutex<Script>,
    /// Counters and the client message log.
    pub stats: Arc<SimStats>,
    /// Turns true (or closes) when the simulator stops.
    pub shutdown: watch::Receiver<bool>,
    /// The failures to inject, switchable at run time.
    pub faults: Arc<FaultPlan>,
    /// The open authenticated connections, for `max_connections`.
    pub limit: ConnectionLimit,
    /// Connections accepted so far on `/stocks` and on `/options`, which
    /// decides which ones are faulty.
    pub accepted: [AtomicU64; 2],
    /// While true, no connection sends data ([`super::SimHandle::hold`]).
    pub hold: AtomicBool,
}

impl FeedShared {
    /// The shared script of `market`, or of an Alpaca feed.
    pub(crate) fn script(&self, market: Market, feed: Option<AlpacaFeed>) -> &Mutex<Script> {
        match (feed, market) {
            (Some(AlpacaFeed::Test), _) => &self.alpaca_test,
            (_, Market::Stocks) => &self.stocks,
            (_, Market::Options) => &self.options,
        }
    }

    /// Numbers a newly accepted connection within its market, from 0.
    fn next_index(&self, market: Market) -> u64 {
        self.accepted[market_slot(market)].fetch_add(1, Ordering::Relaxed)
    }

    /// Connections accepted so far on stocks and on options.
    pub(crate) fn accepted(&self) -> [u64; 2] {
        [0, 1].map(|i| self.accepted[i].load(Ordering::Relaxed))
    }
}

/// Registers the WebSocket routes of `provider`.
pub(crate) fn routes(cfg: &mut web::ServiceConfig, provider: SimProvider) {
    match provider {
        SimProvider::Polygon => {
            cfg.route("/stocks", web::get().to(stocks))
                .route("/options", web::get().to(options));
        }
        SimProvider::Alpaca => {
            cfg.route("/v2/{feed}", web::get().to(alpaca));
        }
    }
}

async fn stocks(
    req: HttpRequest,
    body: web::Payload,
    shared: web::Data<FeedShared>,
) -> actix_web::Result<HttpResponse> {
    open(&req, body, shared, Market::Stocks, None)
}

async fn options(
    req: HttpRequest,
    body: web::Payload,
    shared: web::Data<FeedShared>,
) -> actix_web::Result<HttpResponse> {
    open(&req, body, shared, Market::Options, None)
}

/// `/v2/{feed}`: an Alpaca stock stream, in the encoding that the upgrade's
/// `Content-Type` asks for; 404 for a feed the simulator does not serve.
async fn alpaca(
    req: HttpRequest,
    body: web::Payload,
    feed: web::Path<String>,
    shared: web::Data<FeedShared>,
) -> actix_web::Result<HttpResponse> {
    let Some(feed) = AlpacaFeed::from_name(&feed) else {
        return Ok(HttpResponse::NotFound().finish());
    };
    let session = AlpacaSession {
        feed,
        encoding: Encoding::of_request(&req),
    };
    open(&req, body, shared, feed.market(), Some(session))
}

/// Upgrades the request and spawns the connection's task.
fn open(
    req: &HttpRequest,
    body: web::Payload,
    shared: web::Data<FeedShared>,
    market: Market,
    alpaca: Option<AlpacaSession>,
) -> actix_web::Result<HttpResponse> {
    let (response, session, stream) = actix_ws::handle(req, body)?;
    let index = shared.next_index(market);
    let (faults, faulty) = shared.faults.for_connection(market, index);
    let id = shared.stats.open_connection(market, index, faulty);
    let stream = stream
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .aggregate_continuations()
        .max_continuation_size(MAX_CLIENT_MESSAGE);
    let connection = Connection::new(shared.into_inner(), market, id, (faults, faulty), alpaca);
    actix_web::rt::spawn(connection.run(session, stream));
    Ok(response)
}
