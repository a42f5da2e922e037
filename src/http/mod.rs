//! The HTTP API and the downstream WebSocket endpoint, served by actix-web.
//!
//! [`serve`] starts the server on `http.bind` with one worker thread (the
//! pipeline keeps its own threads); [`HttpHandle::stop`] closes every
//! WebSocket client and stops it. The [`hub::Hub`] must exist before the
//! pipeline starts, because it is subscribed to the pipeline's output like
//! any extension actor:
//!
//! ```text
//! let pipeline = app::builder(config, creds)
//!     .with_hub(config.http.hub_queue)
//!     .start()?;
//! let hub = pipeline.hub().expect("asked for");
//! let server = http::serve(config.http, pipeline.handle(), hub).await?;
//! ```
//!
//! The hub is supervised like the pipeline's actors; [`HubSlot`] always holds
//! its current address.

pub mod auth;
pub mod client;
mod client_frames;
pub mod client_state;
pub mod config;
pub mod conflate;
#[cfg(test)]
mod conflate_tests;
pub mod dashboard;
pub mod hub;
mod hub_clients;
pub mod hub_messages;
pub mod hub_state;
#[cfg(test)]
mod hub_state_tests;
#[cfg(test)]
mod hub_tests;
pub mod link;
pub mod origin;
pub mod protocol;
#[cfg(test)]
mod protocol_tests;
pub mod routes;
#[cfg(test)]
mod routes_tests;
pub mod state;
mod state_entry;
#[cfg(test)]
mod state_tests;
pub mod stats;
pub mod subscribers;
pub mod topic;

use std::io;
use std::net::SocketAddr;
use std::num::NonZeroU32;

use actix::Addr;
use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, Error, HttpServer};

pub use config::HttpConfig;
pub use hub::Hub;

/// The current address of the hub, repointed when it is restarted.
pub type HubSlot = std::sync::Arc<arc_swap::ArcSwap<Addr<Hub>>>;

use crate::pipeline::PipelineHandle;
use client::ClientSettings;
use link::ClientSlots;

/// Largest request body accepted (subscription changes are tiny).
const MAX_BODY: usize = 64 * 1024;

/// What every handler can reach.
pub struct AppState {
    /// The running pipeline.
    pub pipeline: PipelineHandle,
    /// The fan-out actor, wherever it currently runs.
    pub hub: HubSlot,
    /// Connected WebSocket clients, capped.
    pub slots: ClientSlots,
    /// The cap, for messages.
    pub max_clients: usize,
    /// Per-client limits.
    pub settings: ClientSettings,
}

/// A running server.
pub struct HttpHandle {
    addr: SocketAddr,
    server: ServerHandle,
    hub: HubSlot,
}

impl HttpHandle {
    /// The address actually bound (the port is chosen by the OS for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` (`http://127.0.0.1:PORT` for a wildcard bind).
    pub fn url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }

    /// Tells every WebSocket client the server is going away (1001), then
    /// stops the server, waiting briefly for connections to finish.
    pub async fn stop(self) {
        let _ = self.hub.load_full().send(hub::CloseAll).await;
        self.server.stop(true).await;
    }
}

fn non_zero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// Starts the server for `pipeline`, with `hub` (already subscribed to the
/// pipeline) serving `/ws`. Fails when the address cannot be bound, or when
/// it is not loopback and no token is configured.
pub async fn serve(
    config: HttpConfig,
    pipeline: PipelineHandle,
    hub: HubSlot,
) -> io::Result<HttpHandle> {
    let auth = config
        .auth()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let required = auth.required();
    let state = web::Data::new(AppState {
        slots: ClientSlots::new(config.max_clients.max(1), &pipeline.metrics),
        max_clients: config.max_clients,
        settings: ClientSettings {
            queue: config.client_queue.max(1),
            per_second: non_zero(config.requests_per_second),
            burst: non_zero(config.request_burst),
            send_buffer: config.ws_send_buffer,
        },
        pipeline,
        hub: hub.clone(),
    });
    let auth = web::Data::new(auth);
    let origins = web::Data::new(origin::Origins::new(&config.allowed_origins));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(auth.clone())
            .app_data(origins.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .wrap(from_fn(auth::require_token))
            .wrap(from_fn(origin::same_origin))
            .wrap(from_fn(count_responses))
            .configure(routes::configure)
            .configure(dashboard::configure)
    })
    // One worker: the API is light, and the pipeline's threads come first.
    .workers(1)
    // The process belongs to the host program: no signal handlers here.
    .disable_signals()
    .shutdown_timeout(2)
    .on_connect(link::on_connect)
    .bind(config.bind)?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| io::Error::other("the HTTP server bound no address"))?;
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    tracing::info!(%addr, token_required = required, "HTTP API listening");
    Ok(HttpHandle {
        addr,
        server: handle,
        hub,
    })
}

/// Counts every response in `tapewatch_http_requests_total{status}`,
/// refusals included (this wraps the origin and token checks).
async fn count_responses(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let counter = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.pipeline.metrics.http_requests.clone());
    let response = next.call(req).await?;
    if let Some(c) = counter {
        c.with_label_values(&[response.status().as_str()]).inc();
    }
    Ok(response)
}
