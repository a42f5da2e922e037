//! The load generator: a Polygon-protocol WebSocket server on a loopback port.
//!
//! It runs tokio-tungstenite on a current-thread tokio runtime in a thread of
//! its own, so it competes with the service for CPU exactly like a separate
//! process would, and nothing in it hops between threads. A client gets
//! `connected`, sends `auth` (any key passes), gets `auth_success`, subscribes,
//! gets one `success` per topic, and then receives whatever [`Play`]s the
//! benchmark submits: ranges of a pre-serialised [`FrameSet`], unpaced or paced
//! at N events/s in 1 ms bursts ([`super::playback`] writes them, and
//! disconnects a client that takes no data for a second, as Polygon
//! disconnects slow consumers).

use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::frames::FrameSet;

/// How long a client may take for the WebSocket upgrade and each handshake step.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

/// The server side of one client connection.
pub(super) type Ws = WebSocketStream<TcpStream>;

/// Frames to send to the connected client.
pub struct Play {
    /// The frames.
    pub set: Arc<FrameSet>,
    /// Which of them.
    pub frames: Range<usize>,
    /// Events per second, or None for as fast as the client reads.
    pub pace: Option<u64>,
    /// Close the connection (code 1000) once sent.
    pub close_after: bool,
    /// Receives the outcome.
    pub done: oneshot::Sender<PlayReport>,
}

/// How a play went.
#[derive(Debug, Clone)]
pub struct PlayReport {
    /// When the first frame was queued.
    pub started: Instant,
    /// When the last frame was written to the socket (or the play failed).
    pub finished: Instant,
    /// Frames written.
    pub frames: u64,
    /// Events in them.
    pub events: u64,
    /// Longest single wait for the socket to accept data.
    pub max_stall: Duration,
    /// None when every frame went out; otherwise why not.
    pub failure: Option<String>,
}

/// Counters across all connections.
#[derive(Debug, Default)]
pub struct GeneratorStats {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections the client ended or broke (not closed by the generator).
    pub client_disconnects: AtomicU64,
    /// Clients disconnected for not reading.
    pub slow_disconnects: AtomicU64,
}

/// A running generator; dropping it stops the server.
pub struct Generator {
    /// The bound loopback address.
    pub addr: SocketAddr,
    /// Counters.
    pub stats: Arc<GeneratorStats>,
    plays: mpsc::Sender<Play>,
    stop: watch::Sender<bool>,
}

impl Generator {
    /// Binds 127.0.0.1:0 and starts serving in a new thread.
    pub fn start() -> std::io::Result<Generator> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(GeneratorStats::default());
        let (plays, rx) = mpsc::channel(8);
        let (stop, stop_rx) = watch::channel(false);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let s = stats.clone();
        std::thread::Builder::new()
            .name("bench-generator".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => serve(listener, rx, s, stop_rx).await,
                        Err(e) => tracing::error!(error = %e, "generator cannot listen"),
                    }
                });
            })?;
        Ok(Generator {
            addr,
            stats,
            plays,
            stop,
        })
    }

    /// The feed URL for clients.
    pub fn url(&self) -> String {
        format!("ws://{}/stocks", self.addr)
    }

    /// Queues a play; it starts once a client is subscribed.
    pub async fn play(&self, play: Play) -> Result<(), String> {
        self.plays
            .send(play)
            .await
            .map_err(|_| "the generator has stopped".to_owned())
    }
}

impl Drop for Generator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn serve(
    listener: TcpListener,
    mut plays: mpsc::Receiver<Play>,
    stats: Arc<GeneratorStats>,
    mut stop: watch::Receiver<bool>,
) {
    // Frames are built ahead and queued whole, so the write buffer may hold a
    // whole 64 KiB batch plus one frame without writing in between.
    let config = WebSocketConfig::default()
        .write_buffer_size(4 << 20)
        .max_write_buffer_size(64 << 20);
    loop {
        let tcp = tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(_) => continue,
            },
        };
        let _ = tcp.set_nodelay(true);
        stats.connections.fetch_add(1, Ordering::Relaxed);
        let upgrade = tokio_tungstenite::accept_async_with_config(tcp, Some(config));
        let Ok(Ok(mut ws)) = tokio::time::timeout(HANDSHAKE_LIMIT, upgrade).await else {
            continue;
        };
        match session(&mut ws, &mut plays, &stats, &mut stop).await {
            Ending::Stop => return,
            Ending::Client => {
                stats.client_disconnects.fetch_add(1, Ordering::Relaxed);
            }
            Ending::Server => {}
        }
    }
}

/// Who ended a connection.
pub(super) enum Ending {
    /// The benchmark stops.
    Stop,
    /// The client closed or broke it.
    Client,
    /// The generator closed it (play done, slow consumer).
    Server,
}

fn status(status: &str, message: &str) -> Message {
    let v = serde_json::json!([{"ev": "status", "status": status, "message": message}]);
    Message::text(v.to_string())
}

/// Sends one control message; false when the client is gone or not reading.
async fn send(ws: &mut Ws, msg: Message) -> bool {
    matches!(
        tokio::time::timeout(HANDSHAKE_LIMIT, ws.send(msg)).await,
        Ok(Ok(()))
    )
}

/// Closes with code 1000, waiting at most [`HANDSHAKE_LIMIT`] for the client.
async fn close(ws: &mut Ws) {
    let _ = tokio::time::timeout(HANDSHAKE_LIMIT, ws.close(None)).await;
}

/// Reads client messages until one with `action`, answering pings; returns
/// its `params`, or None when the client went away or took too long.
async fn expect_action(ws: &mut Ws, action: &str) -> Option<String> {
    let deadline = tokio::time::Instant::now() + HANDSHAKE_LIMIT;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .ok()??
            .ok()?;
        if let Message::Text(text) = msg {
            let v: serde_json::Value = serde_json::from_str(text.as_str()).ok()?;
            if v["action"] == action {
                return Some(v["params"].as_str().unwrap_or_default().to_owned());
            }
        }
    }
}

async fn session(
    ws: &mut Ws,
    plays: &mut mpsc::Receiver<Play>,
    stats: &GeneratorStats,
    stop: &mut watch::Receiver<bool>,
) -> Ending {
    if !send(ws, status("connected", "Connected Successfully")).await
        || expect_action(ws, "auth").await.is_none()
        || !send(ws, status("auth_success", "authenticated")).await
    {
        return Ending::Client;
    }
    let Some(topics) = expect_action(ws, "subscribe").await else {
        return Ending::Client;
    };
    for topic in topics.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !send(ws, status("success", &format!("subscribed to: {topic}"))).await {
            return Ending::Client;
        }
    }
    loop {
        tokio::select! {
            _ = stop.changed() => {
                close(ws).await;
                return Ending::Stop;
            }
            play = plays.recv() => {
                let Some(play) = play else {
                    close(ws).await;
                    return Ending::Stop;
                };
                let close_after = play.close_after;
                let (report, ending) = super::playback::run_play(ws, &play, stats).await;
                let _ = play.done.send(report);
                if let Some(ending) = ending {
                    return ending;
                }
                if close_after {
                    close(ws).await;
                    return Ending::Server;
                }
            }
            msg = ws.next() => match msg {
                // Pings are answered by tungstenite on the next flush.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Ending::Client,
                Some(Ok(_)) => {
                    let flushed = tokio::time::timeout(HANDSHAKE_LIMIT, ws.flush()).await;
                    if !matches!(flushed, Ok(Ok(()))) {
                        return Ending::Client;
                    }
                }
            },
        }
    }
}
