//! **Client**: one actor per downstream WebSocket connection (`/ws`).
//!
//! It answers requests (see [`super::protocol`]) and writes the updates the
//! hub pushes into its mailbox, which is bounded at `http.client_queue`: that
//! mailbox is the client's send queue. Slow requests (contract lookups,
//! status) run as spawned futures, never `ctx.wait`, so a fast request sent
//! after a slow one is answered first; every reply carries its request's id.
//! A token bucket limits requests; a client refused more than a burst's worth
//! of requests within about a second is flooding and is closed with 1008.
//! State topics do not come through the mailbox: the hub wakes the client,
//! which then takes the current values from its queue (see
//! `client_state.rs`).

use std::cell::Cell;
use std::future::Future;
use std::num::NonZeroU32;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws::{self, WebsocketContext};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use serde_json::Value;
use tapewatch_actors::metrics::Metrics;

use super::hub::{ChangeTopics, Hub, Push, Register, Topics, Unregister};
use super::link::{ClientPermit, ConnSocket, Ending, Link};
use super::protocol::{self, Action};
use super::{routes, AppState};
use crate::pipeline::PipelineHandle;

/// How often the server pings an idle client ...
const HEARTBEAT: Duration = Duration::from_secs(10);
/// ... and how long it waits to hear anything before dropping it.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Asynchronous requests (lookups, status) one client may have open at once.
const MAX_IN_FLIGHT: usize = 32;
/// How long a topic change may wait for the hub.
const HUB_TIMEOUT: Duration = Duration::from_secs(5);

/// Per-client limits, from `[http]`.
#[derive(Debug, Clone, Copy)]
pub struct ClientSettings {
    /// Send-queue (mailbox) capacity, in messages.
    pub queue: usize,
    /// Sustained requests per second.
    pub per_second: NonZeroU32,
    /// Burst size; also how many refused requests within about a second end
    /// the connection.
    pub burst: NonZeroU32,
    /// The socket's kernel send buffer, in bytes (0: the system's default).
    pub send_buffer: usize,
}

/// The per-connection actor.
pub struct Client {
    pub(super) link: Arc<Link>,
    hub: Addr<Hub>,
    pipeline: PipelineHandle,
    pub(super) metrics: Metrics,
    limiter: DefaultDirectRateLimiter,
    /// Refusals allowed: a second bucket, of `burst` per second, drained by
    /// every refused request. Emptying it means the client keeps sending far
    /// past its limit, not that it overshot once.
    refusals: DefaultDirectRateLimiter,
    in_flight: usize,
    /// Topic requests waiting for the hub: state values wait until they are
    /// answered, so a snapshot never comes before its subscription's reply.
    pub(super) asking: usize,
    /// When a throttled state value falls due, if a drain is scheduled.
    pub(super) drain_at: Option<Instant>,
    /// The number of the ping sent after the last batch of state values ...
    pub(super) state_ping: u64,
    /// ... and when, until its pong says the peer has read the batch (see
    /// `client_state.rs`).
    pub(super) state_ping_at: Option<Instant>,
    pub(super) heard: Instant,
    _permit: ClientPermit,
}

impl Client {
    pub(super) fn close(&mut self, why: Ending, ctx: &mut WebsocketContext<Self>) {
        self.link.end(why);
        // The reason that was recorded first decides the close code.
        let why = self.link.ending().unwrap_or(why);
        if let Some(reason) = why.close_reason() {
            ctx.close(Some(reason));
        }
        ctx.stop();
    }

    pub(super) fn request(&mut self, text: &str, ctx: &mut WebsocketContext<Self>) {
        if self.limiter.check().is_err() {
            self.metrics.ws_request_errors("rate_limited").inc();
            if self.refusals.check().is_err() {
                tracing::info!(client = self.link.id, "downstream client flooding; closing");
                return self.close(Ending::Flood, ctx);
            }
            return ctx.text(protocol::error(&protocol::peek_id(text), "rate limited"));
        }
        let request = match protocol::parse(text) {
            Ok(r) => r,
            Err(bad) => {
                let kind = if bad.malformed {
                    "malformed"
                } else {
                    "invalid"
                };
                self.metrics.ws_request_errors(kind).inc();
                return ctx.text(protocol::error(&bad.id, &bad.message));
            }
        };
        let (id, client) = (request.id, self.link.id);
        match request.action {
            Action::Subscribe(sub) => {
                let change = ChangeTopics {
                    client,
                    add: sub.topics,
                    min_gap: sub.min_gap,
                    on_lag: sub.on_lag,
                    ..ChangeTopics::default()
                };
                self.ask_hub(id, change, ctx);
            }
            Action::Unsubscribe(remove) => {
                let change = ChangeTopics {
                    client,
                    remove,
                    ..ChangeTopics::default()
                };
                self.ask_hub(id, change, ctx);
            }
            Action::Stats => ctx.text(protocol::ok(&id, "stats", self.stats())),
            Action::Subscriptions => self.ask_hub(id, Topics(client), ctx),
            Action::Status => {
                let p = self.pipeline.clone();
                let status = async move { Ok::<_, String>(routes::feed_status(&p).await) };
                let _ = self.answer_later(id, "status", status, ctx);
            }
            Action::Contract(ticker) => {
                let p = self.pipeline.clone();
                let lookup = async move { p.lookup(&ticker).await.map_err(|e| e.to_string()) };
                let _ = self.answer_later(id, "contract", lookup, ctx);
            }
        }
    }

    fn ask_hub<M>(&mut self, id: Value, msg: M, ctx: &mut WebsocketContext<Self>)
    where
        M: actix::Message<Result = Result<Vec<String>, super::hub::HubError>> + Send + 'static,
        Hub: Handler<M>,
    {
        let hub = self.hub.clone();
        let answer = async move {
            match hub.send(msg).timeout(HUB_TIMEOUT).await {
                Ok(reply) => reply.map_err(|e| e.to_string()),
                Err(_) => Err("the server is busy; try again".to_owned()),
            }
        };
        if self.answer_later(id, "topics", answer, ctx) {
            self.asking += 1;
        }
    }

    /// Runs `answer` without holding up other requests, then replies with
    /// `id`; false when refused because too many are in flight. A topic
    /// request (`key` "topics") lets held-back state values go once answered.
    fn answer_later<T, F>(
        &mut self,
        id: Value,
        key: &'static str,
        answer: F,
        ctx: &mut WebsocketContext<Self>,
    ) -> bool
    where
        T: Serialize + 'static,
        F: Future<Output = Result<T, String>> + 'static,
    {
        if self.in_flight >= MAX_IN_FLIGHT {
            let message = format!("too many requests in flight (at most {MAX_IN_FLIGHT})");
            ctx.text(protocol::error(&Some(id), &message));
            return false;
        }
        self.in_flight += 1;
        ctx.spawn(answer.into_actor(self).map(move |result, act, ctx| {
            act.in_flight -= 1;
            ctx.text(match result {
                Ok(value) => protocol::ok(&id, key, value),
                Err(e) => protocol::error(&Some(id), &e),
            });
            if key == "topics" {
                act.asking = act.asking.saturating_sub(1);
                act.drain(ctx);
            }
        }));
        true
    }
}

impl Actor for Client {
    type Context = WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(HEARTBEAT, |act, ctx| {
            if let Some(why) = act.link.ending() {
                return act.close(why, ctx);
            }
            if !act.hub.connected() {
                // The hub died and was restarted without this client: going
                // away (1001), so the program reconnects to the new one.
                tracing::info!(
                    client = act.link.id,
                    "the hub restarted; closing the client"
                );
                return act.close(Ending::Shutdown, ctx);
            }
            if act.heard.elapsed() > CLIENT_TIMEOUT {
                return act.close(Ending::Timeout, ctx);
            }
            ctx.ping(b"");
        });
        self.start_state_tick(ctx);
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.link.end(Ending::Closed);
        // The hub forgets the client and, after a grace, drops the connection
        // if it is still flushing to a peer that does not read. If the hub's
        // mailbox is full this is lost; the hub then finds the client gone on
        // its next delivery or sweep, and does the same.
        let _ = self.hub.try_send(Unregister(self.link.id));
    }
}

impl Handler<Push> for Client {
    type Result = ();

    fn handle(&mut self, push: Push, ctx: &mut Self::Context) {
        if let Some(why) = self.link.ending() {
            return self.close(why, ctx);
        }
        match push {
            Push::Update(bytes) => ctx.text(bytes),
            Push::AfterGap { dropped, update } => {
                ctx.text(protocol::lagged(dropped));
                ctx.text(update);
            }
            Push::Wake => self.drain(ctx),
            Push::Kick => {}
        }
    }
}

/// Next client id (process-wide, so ids are unique across servers too).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// `GET /ws`: upgrades to a WebSocket served by a new [`Client`], registered
/// with the hub before the upgrade is answered.
pub async fn connect(
    req: HttpRequest,
    stream: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    let Some(permit) = state.slots.acquire() else {
        let message = format!("too many clients (at most {})", state.max_clients);
        return Ok(HttpResponse::ServiceUnavailable().json(serde_json::json!({ "error": message })));
    };
    // Echo the subprotocol the dashboard offers: a browser fails the
    // connection when it offered protocols and none was chosen.
    let mut response = ws::handshake_with_protocols(&req, &[super::auth::WS_PROTOCOL])?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let socket = req.conn_data::<ConnSocket>().map(ConnSocket::handle);
    if let Some(s) = socket.as_ref().filter(|_| state.settings.send_buffer > 0) {
        s.set_send_buffer(state.settings.send_buffer);
    }
    let metrics = state.pipeline.metrics.clone();
    let link = Arc::new(Link::new(id, socket, metrics.clone()));
    let settings = state.settings;
    let client = Client {
        link: link.clone(),
        hub: state.hub.load_full().as_ref().clone(),
        pipeline: state.pipeline.clone(),
        metrics,
        limiter: RateLimiter::direct(
            Quota::per_second(settings.per_second).allow_burst(settings.burst),
        ),
        refusals: RateLimiter::direct(Quota::per_second(settings.burst)),
        in_flight: 0,
        asking: 0,
        drain_at: None,
        state_ping: 0,
        state_ping_at: None,
        heard: Instant::now(),
        _permit: permit,
    };
    let addr = Rc::new(Cell::new(None));
    let slot = addr.clone();
    let body = WebsocketContext::with_factory(stream, move |ctx| {
        // Set before the actor first runs, so the bound holds from the start.
        ctx.set_mailbox_capacity(settings.queue);
        slot.set(Some(ctx.address()));
        client
    });
    let addr = addr
        .take()
        .ok_or_else(|| actix_web::error::ErrorInternalServerError("no client address"))?;
    let register = Register {
        push: addr.recipient(),
        link,
    };
    state
        .hub
        .load_full()
        .send(register)
        .timeout(HUB_TIMEOUT)
        .await
        .map_err(|_| actix_web::error::ErrorServiceUnavailable("the hub is not running"))?;
    Ok(response.streaming(body))
}
