//! The faults a soak injects, one at a time, and how each is undone.
//!
//! WebSocket faults are put in force for the next connection of each market
//! ([`SimHandle::set_faults`]) and the service is made to reconnect with a
//! pause and a resume, so the fault hits the fresh connection. REST faults
//! hit the next requests; a hang lasts ten seconds. Slow `/ws` clients stay
//! connected, never reading, until the service evicts them or twenty seconds
//! pass. Subscription changes add a topic and take it away again later.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use rand::Rng;
use tapewatch_sim::{Faults, Market, SimHandle};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// One kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// The connection ends without a close frame after some frames.
    Drop,
    /// The server closes with 1011 after some frames.
    Close,
    /// The connection stays open but sends no more data.
    Mute,
    /// The connection sends nothing at all, not even pongs.
    Deaf,
    /// Hostile frames between data frames.
    Garbage,
    /// REST answers 429 with Retry-After.
    Rest429,
    /// REST answers 500.
    Rest500,
    /// REST answers only after the service's deadline.
    RestHang,
    /// A `/ws` client that subscribes to every trade and never reads.
    SlowClient,
    /// Pause, then resume.
    PauseResume,
    /// A topic added at run time, removed at the next fault.
    Subscription,
}

impl Fault {
    const ALL: [Fault; 11] = [
        Fault::Drop,
        Fault::Close,
        Fault::Mute,
        Fault::Deaf,
        Fault::Garbage,
        Fault::Rest429,
        Fault::Rest500,
        Fault::RestHang,
        Fault::SlowClient,
        Fault::PauseResume,
        Fault::Subscription,
    ];
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Injects faults into the simulator and the service.
pub struct Chaos<'a> {
    sim: &'a SimHandle,
    client: &'a reqwest::Client,
    http: &'a str,
    counts: BTreeMap<Fault, u64>,
    slow_clients: Vec<(Instant, Socket)>,
    rest_hang_until: Option<Instant>,
    extra_topic: Option<String>,
}

impl<'a> Chaos<'a> {
    pub fn new(sim: &'a SimHandle, client: &'a reqwest::Client, http: &'a str) -> Self {
        Chaos {
            sim,
            client,
            http,
            counts: BTreeMap::new(),
            slow_clients: Vec::new(),
            rest_hang_until: None,
            extra_topic: None,
        }
    }

    /// A fault drawn uniformly.
    pub fn pick(&self, rng: &mut impl Rng) -> Fault {
        Fault::ALL[rng.random_range(0..Fault::ALL.len())]
    }

    /// Injects `fault`; `draw` sets its size (frames before it fires).
    pub async fn inject(&mut self, fault: Fault, draw: u32) {
        *self.counts.entry(fault).or_default() += 1;
        if let Some(faults) = socket_faults(fault, u64::from(50 + draw % 450)) {
            return self.reconnect_into(faults).await;
        }
        match fault {
            Fault::Rest429 | Fault::Rest500 => {
                let status = if fault == Fault::Rest429 { 429 } else { 500 };
                self.sim.set_faults(Faults {
                    faulty_connections: 0,
                    rest_statuses: vec![status; 5],
                    rest_retry_after_s: Some(1),
                    ..Faults::default()
                });
            }
            Fault::RestHang => {
                self.sim.set_rest_delay(Duration::from_secs(4));
                self.rest_hang_until = Some(Instant::now() + Duration::from_secs(10));
            }
            Fault::SlowClient => {
                if let Some(socket) = self.slow_client().await {
                    let until = Instant::now() + Duration::from_secs(20);
                    self.slow_clients.push((until, socket));
                }
            }
            Fault::Subscription => self.change_subscription().await,
            _ => {}
        }
    }

    /// Undoes what has run its time: REST hangs, slow clients.
    pub async fn tick(&mut self) {
        let now = Instant::now();
        if self.rest_hang_until.is_some_and(|t| now >= t) {
            self.sim.set_rest_delay(Duration::ZERO);
            self.rest_hang_until = None;
        }
        self.slow_clients.retain(|(until, _)| now < *until);
    }

    /// Ends every fault and reconnects to clean connections.
    pub async fn heal(&mut self) {
        self.slow_clients.clear();
        self.sim.set_rest_delay(Duration::ZERO);
        self.rest_hang_until = None;
        if let Some(topic) = self.extra_topic.take() {
            self.post_topic("DELETE", &topic).await;
        }
        self.reconnect_into(Faults {
            faulty_connections: 0,
            ..Faults::default()
        })
        .await;
    }

    /// How often each fault was injected.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.counts
            .iter()
            .map(|(f, n)| (format!("{f:?}"), *n))
            .collect()
    }

    /// Puts `faults` in force for the next connections, then makes the
    /// service reconnect with a pause and a resume.
    ///
    /// A pause closes the sockets at once, so whatever was still in flight
    /// would be discarded by design. The simulator is held quiet first until
    /// the service has processed every event sent (at most 5 s), so every
    /// event stays accounted for.
    async fn reconnect_into(&self, faults: Faults) {
        self.sim.hold(true);
        self.drain(Duration::from_secs(5)).await;
        self.sim.set_faults(faults);
        let _ = self
            .client
            .post(format!("{}/pause", self.http))
            .send()
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = self
            .client
            .post(format!("{}/resume", self.http))
            .send()
            .await;
        self.sim.hold(false);
    }

    /// Waits until the service has processed every event the simulator sent,
    /// or `limit` passed; returns the events sent. Call it with the
    /// simulator held, or the target moves.
    pub async fn drain(&self, limit: Duration) -> u64 {
        let deadline = Instant::now() + limit;
        loop {
            let sent = self.sim.stats.events_sent(Market::Stocks)
                + self.sim.stats.events_sent(Market::Options);
            let metrics = super::report::scrape(self.client, self.http).await;
            if metrics.is_some_and(|m| m.events >= sent) || Instant::now() >= deadline {
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A `/ws` client subscribed to every trade of every stock, which never
    /// reads; None if it could not connect.
    async fn slow_client(&self) -> Option<Socket> {
        let url = format!("{}/ws", self.http.replacen("http://", "ws://", 1));
        let connect = tokio_tungstenite::connect_async(url);
        let (mut socket, _) = tokio::time::timeout(Duration::from_secs(5), connect)
            .await
            .ok()?
            .ok()?;
        let mut topics: Vec<String> = Market::Stocks
            .instruments()
            .iter()
            .map(|i| format!("trades:{}", i.symbol))
            .collect();
        topics.push("alerts".into());
        let request = serde_json::json!({"id": 1, "action": "subscribe", "topics": topics});
        socket.send(Message::text(request.to_string())).await.ok()?;
        Some(socket)
    }

    /// Removes the topic added last time, or adds one.
    async fn change_subscription(&mut self) {
        match self.extra_topic.take() {
            Some(topic) => self.post_topic("DELETE", &topic).await,
            None => {
                let topic = "T.SOAK".to_owned();
                self.post_topic("POST", &topic).await;
                self.extra_topic = Some(topic);
            }
        }
    }

    async fn post_topic(&self, method: &str, topic: &str) {
        let body = serde_json::json!({"feed": "stocks", "topics": [topic]});
        let url = format!("{}/subscriptions", self.http);
        let request = match method {
            "DELETE" => self.client.delete(url),
            _ => self.client.post(url),
        };
        let _ = request.json(&body).send().await;
    }
}

/// The simulator faults of a socket fault for the next connection of each
/// market, firing after `frames` data frames; None for other faults.
/// Pause-resume is a reconnect into no fault at all.
fn socket_faults(fault: Fault, frames: u64) -> Option<Faults> {
    let base = Faults {
        faulty_connections: 1,
        ..Faults::default()
    };
    Some(match fault {
        Fault::Drop => Faults {
            drop_after_frames: Some(frames),
            ..base
        },
        Fault::Close => Faults {
            close_after_frames: Some((frames, 1011)),
            ..base
        },
        Fault::Mute => Faults {
            mute_after_frames: Some(frames),
            ..base
        },
        Fault::Deaf => Faults {
            deaf_after_frames: Some(frames),
            ..base
        },
        Fault::Garbage => Faults {
            garbage_every: Some(1 + frames / 50),
            // Under the service's 16 MiB frame limit: a big frame that does
            // not decode, not a frame that ends the connection (which would
            // lose what follows it in flight and blur the accounting).
            oversize_bytes: 1 << 20,
            ..base
        },
        Fault::PauseResume => Faults {
            faulty_connections: 0,
            ..Faults::default()
        },
        _ => return None,
    })
}
