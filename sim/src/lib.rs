//! tapewatch-sim: a simulator of Polygon's market-data services: the `/stocks` and
//! `/options` WebSocket feeds and the REST reference endpoints, served by one
//! actix-web server on one address. With [`SimProvider::Alpaca`] it serves
//! Alpaca's stock streams (`/v2/iex`, `/v2/sip`, `/v2/delayed_sip`,
//! `/v2/test`) in JSON or msgpack instead of Polygon's feeds, from the same
//! script and with the same faults, beside the same REST endpoints.
//!
//! The data come from a deterministic [`Script`] per market, with anomalies
//! injected on a schedule that [`injections`] lists, so a test can tell exactly
//! which alerts a correct detector must raise. [`start`] runs inside an
//! existing actix System and returns a [`SimHandle`] with the bound address,
//! the URLs and live [`SimStats`].
//!
//! [`Faults`] injects the service's failures on request: dropped, closed,
//! muted and half-open connections, the `max_connections` limit, hostile
//! frames ([`GarbageKind`]) and REST error statuses, so that whole-service
//! tests can prove the pipeline survives each one.

mod alpaca_feed;
mod alpaca_garbage;
mod alpaca_messages;
mod alpaca_protocol;
mod alpaca_subscriptions;
mod alpaca_wire;
pub mod cli;
mod cli_report;
mod client_messages;
mod conn_limit;
mod connection;
mod connection_data;
mod connection_faults;
mod connection_log;
mod fault_plan;
mod faults;
mod feed;
mod flow_schedule;
mod garbage;
mod handle;
mod instruments;
mod pacing;
mod protocol;
mod reference_data;
mod rest;
mod rest_faults;
mod schedule;
mod script;
mod sim_event;
mod snapshot_data;
mod stats;
mod subscriptions;
pub mod tape;
mod tls;
mod wire;

#[cfg(test)]
mod alpaca_msgpack_tests;
#[cfg(test)]
mod alpaca_tests;
#[cfg(test)]
mod alpaca_wire_tests;
#[cfg(test)]
mod detector_check;
#[cfg(test)]
mod fault_tests;
#[cfg(test)]
mod feed_tests;
#[cfg(test)]
mod flow_schedule_tests;
#[cfg(test)]
mod garbage_tests;
#[cfg(test)]
mod limit_tests;
#[cfg(test)]
mod rest_tests;
#[cfg(test)]
mod script_tests;
#[cfg(test)]
mod stream_tests;
#[cfg(test)]
mod test_client;
#[cfg(test)]
mod wire_tests;

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpServer};
use tapewatch_actors::secret::ApiKey;
use tokio::sync::watch;

pub use alpaca_feed::{AlpacaFeed, TEST_SYMBOL};
pub use connection_log::{ConnectionRecord, Ending};
pub use faults::{Faults, DEFAULT_OVERSIZE_BYTES, MAX_CONNECTIONS_MESSAGE};
pub use flow_schedule::{
    flow_injections, FLOW_CONTRACTS, FLOW_KINDS, FLOW_OPEN_INTEREST, OTHER_OPEN_INTEREST,
};
pub use garbage::GarbageKind;
pub use handle::SimHandle;
pub use instruments::{Instrument, Market};
pub use reference_data::{parse_occ, ContractType, OccContract};
pub use schedule::{
    injections, trade_time_ms, Injection, ScriptConfig, BURST_STEP_MS, BURST_TRADES, PRICE_JUMP,
};
pub use script::Script;
pub use sim_event::{SimEvent, SimQuote, SimTrade};
pub use stats::{SimStats, CLIENT_MESSAGE_LOG_CAP};
pub use tls::TlsFiles;

/// Whose WebSocket protocol the simulator speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SimProvider {
    /// Polygon/Massive: `/stocks` and `/options`.
    #[default]
    Polygon,
    /// Alpaca: `/v2/iex`, `/v2/sip`, `/v2/delayed_sip` and `/v2/test`.
    Alpaca,
}

/// How the simulator serves its feeds.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Whose WebSocket protocol to speak. Default Polygon.
    pub provider: SimProvider,
    /// Address to listen on. Default `127.0.0.1:0` (any free port).
    pub bind: SocketAddr,
    /// The API key clients must present on WebSocket and REST; None accepts
    /// anything. Default None.
    pub key: Option<ApiKey>,
    /// The secret Alpaca clients must present with their key; None accepts
    /// any. Polygon's protocol has no secret. Default None.
    pub secret: Option<ApiKey>,
    /// Serve `wss://`/`https://` with this certificate. Default None.
    pub tls: Option<TlsFiles>,
    /// How long a WebSocket client may take to authenticate. Default 10 s.
    pub auth_timeout: Duration,
    /// What the scripts generate.
    pub script: ScriptConfig,
    /// Events generated per second on each connection (None: as fast as the
    /// socket accepts them). Filtered-out events count too. Default None.
    pub events_per_second: Option<u64>,
    /// Keep the script's own event times even when paced. Default false: a
    /// paced feed stamps each event with the wall clock as it sends it, as a
    /// real feed does, so a consumer's `detected - event` time is a small
    /// positive latency. Unpaced feeds always send the script's times, which
    /// `--print-script` and the schedule reproduce.
    pub script_time: bool,
    /// Largest number of events in one data frame. Default 10.
    pub events_per_frame: usize,
    /// Delay before every REST answer, errors and injected faults included.
    /// A long delay is how tests make REST hang. Default zero.
    pub rest_delay: Duration,
    /// The failures to inject. Default none.
    pub faults: Faults,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            provider: SimProvider::Polygon,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            key: None,
            secret: None,
            tls: None,
            auth_timeout: Duration::from_secs(10),
            script: ScriptConfig::default(),
            events_per_second: None,
            script_time: false,
            events_per_frame: 10,
            rest_delay: Duration::ZERO,
            faults: Faults::default(),
        }
    }
}

/// Starts the simulator on the current actix System with one worker thread.
///
/// Fails when the address cannot be bound or the TLS files are unusable.
pub async fn start(config: SimConfig) -> io::Result<SimHandle> {
    let stats = Arc::new(SimStats::default());
    let plan = Arc::new(fault_plan::FaultPlan::new(
        config.faults.clone(),
        config.rest_delay,
    ));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let feeds = web::Data::new(feed::FeedShared {
        key: config.key.clone(),
        secret: config.secret.clone(),
        auth_timeout: config.auth_timeout,
        events_per_second: config.events_per_second,
        wall_clock: config.events_per_second.is_some() && !config.script_time,
        events_per_frame: config.events_per_frame.max(1),
        stocks: Mutex::new(Script::new(config.script.clone(), Market::Stocks)),
        options: Mutex::new(Script::new(config.script.clone(), Market::Options)),
        alpaca_test: Mutex::new(Script::new(config.script.clone(), Market::Stocks)),
        stats: Arc::clone(&stats),
        shutdown: shutdown_rx,
        faults: Arc::clone(&plan),
        limit: conn_limit::ConnectionLimit::default(),
        accepted: Default::default(),
        hold: Default::default(),
    });
    let rest = web::Data::new(rest::RestShared {
        key: config.key.clone(),
        plan: Arc::clone(&plan),
        stats: Arc::clone(&stats),
    });
    let provider = config.provider;
    let control = feeds.clone().into_inner();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(feeds.clone())
            .app_data(rest.clone())
            .configure(|cfg| feed::routes(cfg, provider))
            .configure(rest::routes)
    })
    .workers(1)
    // The process belongs to the host program: no signal handlers here.
    .disable_signals()
    .shutdown_timeout(1);
    let server = match &config.tls {
        Some(files) => server.bind_rustls_0_23(config.bind, tls::server_config(files)?)?,
        None => server.bind(config.bind)?,
    };
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| io::Error::other("the simulator bound no address"))?;
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    tracing::debug!(%addr, tls = config.tls.is_some(), ?provider, "simulator listening");
    Ok(SimHandle::new(
        addr,
        stats,
        config.tls.is_some(),
        handle,
        shutdown,
        control,
    ))
}
