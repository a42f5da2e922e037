//! `tapewatch sim --replay PATH`: serves a recording (`tapewatch run
//! --record`) as a live Polygon-protocol feed, so any client can be tested
//! against a real day.
//!
//! Each recorded feed is served at `/<feed>` (`/stocks`, `/options`). A
//! client gets the Polygon handshake (`connected`, then `auth_success` or
//! `auth_failed`, then `subscribed to: TOPIC` per topic) and, from its first
//! subscription on, every data frame the feed recorded, byte for byte, at
//! the original pace (`speed` 1), K times faster, or as fast as the socket
//! takes them (`speed` 0). The recording is not filtered by topic: a
//! recording holds what its own subscription delivered. Each connection
//! replays from the start, reading the files on a thread of its own.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_ws::{Message, MessageStream, Session};
use tapewatch_actors::provider::polygon::Polygon;
use tapewatch_actors::provider::Provider;
use tapewatch_actors::recording::source::Recording;
use tapewatch_actors::secret::ApiKey;
use tokio::sync::mpsc;

use super::protocol::{parse_client_message, ClientAction};
use super::wire::status_frame;

/// Frames read ahead of the socket, per connection.
const READ_AHEAD: usize = 256;

/// How a recording is served.
#[derive(Debug, Clone)]
pub struct TapeConfig {
    /// A recording file, feed directory or recording directory.
    pub path: PathBuf,
    /// Address to listen on (port 0: any free port).
    pub bind: SocketAddr,
    /// The only key accepted; any key without it.
    pub key: Option<ApiKey>,
    /// 1: the original pace; K: K times faster; 0: as fast as possible.
    pub speed: f64,
}

/// A running tape server.
pub struct TapeHandle {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The feeds it serves, by name.
    pub feeds: Vec<String>,
    server: ServerHandle,
}

impl TapeHandle {
    /// The WebSocket URL of `feed`.
    pub fn ws_url(&self, feed: &str) -> String {
        format!("ws://{}/{feed}", self.addr)
    }

    /// Stops serving.
    pub async fn stop(self) {
        self.server.stop(false).await;
    }
}

struct Shared {
    config: TapeConfig,
    feeds: Vec<String>,
}

/// Starts serving `config.path` on the current actix System; fails when the
/// recording cannot be opened or the address cannot be bound.
pub async fn start(config: TapeConfig) -> io::Result<TapeHandle> {
    let recording = Recording::open(&config.path).map_err(io::Error::other)?;
    let infos = recording.feeds();
    // Frames are served byte for byte, so only a Polygon recording makes a
    // Polygon feed.
    if let Some(other) = infos
        .iter()
        .find(|f| !matches!(f.provider.as_str(), "polygon" | "massive" | ""))
    {
        let message = format!(
            "feed `{}` was recorded from `{}`; only Polygon/Massive recordings can be served",
            other.name, other.provider
        );
        return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
    }
    let feeds: Vec<String> = infos.into_iter().map(|f| f.name).collect();
    drop(recording);
    let bind = config.bind;
    let shared = web::Data::new(Shared {
        config,
        feeds: feeds.clone(),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            .route("/{feed}", web::get().to(open))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .bind(bind)?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| io::Error::other("the tape server bound no address"))?;
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Ok(TapeHandle {
        addr,
        feeds,
        server: handle,
    })
}

/// `tapewatch sim --replay PATH`: serves the recording until `shutdown`;
/// returns the exit status (2 when it cannot be served).
pub async fn serve(
    path: PathBuf,
    bind: SocketAddr,
    key: Option<ApiKey>,
    speed: f64,
    shutdown: impl std::future::Future<Output = ()>,
) -> u8 {
    if !(speed.is_finite() && speed >= 0.0) {
        eprintln!("tapewatch sim: --speed must be 0 or more");
        return 2;
    }
    let config = TapeConfig {
        path,
        bind,
        key,
        speed,
    };
    match start(config).await {
        Ok(handle) => {
            let feeds: Vec<String> = handle.feeds.iter().map(|f| handle.ws_url(f)).collect();
            eprintln!("tapewatch sim: replaying at {}", feeds.join(", "));
            eprintln!("listening {}", handle.addr);
            shutdown.await;
            handle.stop().await;
            0
        }
        Err(e) => {
            eprintln!("tapewatch sim: cannot serve the recording: {e}");
            2
        }
    }
}

async fn open(
    req: HttpRequest,
    body: web::Payload,
    feed: web::Path<String>,
    shared: web::Data<Shared>,
) -> actix_web::Result<HttpResponse> {
    let Some(index) = shared.feeds.iter().position(|f| *f == *feed) else {
        return Ok(HttpResponse::NotFound().finish());
    };
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    actix_web::rt::spawn(client(session, stream, shared.into_inner(), index));
    Ok(response)
}

/// One client: the handshake, then the feed's frames.
async fn client(mut session: Session, mut stream: MessageStream, shared: Arc<Shared>, feed: usize) {
    let connected = status_frame("connected", "Connected Successfully");
    if session.text(connected).await.is_err() {
        return;
    }
    let mut authenticated = false;
    let mut frames: Option<mpsc::Receiver<String>> = None;
    loop {
        tokio::select! {
            message = stream.recv() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(p))) => {
                        if session.pong(&p).await.is_err() { return; }
                        continue;
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                    Some(Ok(_)) => continue,
                };
                let reply = match parse_client_message(&text) {
                    Some(ClientAction::Auth(key)) => {
                        let wanted = shared.config.key.as_ref().map(ApiKey::expose);
                        authenticated = wanted.is_none_or(|w| key.as_deref() == Some(w));
                        if authenticated {
                            vec![status_frame("auth_success", "authenticated")]
                        } else {
                            let _ = session.text(status_frame("auth_failed", "authentication failed")).await;
                            let _ = session.close(None).await;
                            return;
                        }
                    }
                    Some(ClientAction::Subscribe(Some(topics))) if authenticated => {
                        if frames.is_none() {
                            frames = Some(read_feed(&shared.config, feed));
                        }
                        topics
                            .split(',')
                            .map(|t| status_frame("success", &format!("subscribed to: {}", t.trim())))
                            .collect()
                    }
                    Some(ClientAction::Unsubscribe(Some(topics))) if authenticated => topics
                        .split(',')
                        .map(|t| status_frame("success", &format!("unsubscribed to: {}", t.trim())))
                        .collect(),
                    Some(_) if !authenticated => vec![status_frame("error", "not authorized")],
                    _ => vec![status_frame("error", "invalid message")],
                };
                for frame in reply {
                    if session.text(frame).await.is_err() { return; }
                }
            }
            frame = async { frames.as_mut()?.recv().await }, if frames.is_some() => {
                match frame {
                    Some(frame) => if session.text(frame).await.is_err() { return; },
                    // The recording ended: the connection stays open and quiet.
                    None => frames = None,
                }
            }
        }
    }
}

/// Reads feed `feed`'s data frames on a thread of its own, paced, into a
/// bounded channel; the thread ends with the recording or the connection.
fn read_feed(config: &TapeConfig, feed: usize) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    let (path, speed) = (config.path.clone(), config.speed);
    let spawned = std::thread::Builder::new()
        .name("tapewatch-tape".into())
        .spawn(move || {
            let mut recording = match Recording::open(&path) {
                Ok(r) => r,
                Err(e) => return tracing::error!(error = %e, "cannot read the recording"),
            };
            let provider = Polygon;
            let mut clock: Option<(Instant, u64)> = None;
            for record in recording.by_ref().filter(|r| r.feed == feed) {
                // The recorded handshake replies belong to the recorded
                // connection; this one had its own.
                if !provider.control(&record.frame).has_data {
                    continue;
                }
                if speed > 0.0 {
                    let (start, first) = *clock.get_or_insert((Instant::now(), record.t_ns));
                    let offset = record.t_ns.saturating_sub(first) as f64 / speed;
                    let due = start + Duration::from_nanos(offset as u64);
                    std::thread::sleep(due.saturating_duration_since(Instant::now()));
                }
                let text = String::from_utf8_lossy(&record.frame).into_owned();
                if tx.blocking_send(text).is_err() {
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the tape reader");
    }
    rx
}
